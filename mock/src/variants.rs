//! Readings of Botmaker's docs other than the mock's own.
//!
//! Where the docs are ambiguous the mock serves one reading by default; each [`Variants`]
//! switch serves another one instead, so a connector can be tested against both. Every switch is
//! off by default, and off means the mock serves exactly what it always did. The ground truth
//! ([`crate::MockServer::expected`]) stays in the default (canonical) form whatever the switches
//! say; compare variant-served records to it with [`crate::semantically_equal`].

use std::fmt;
use std::str::FromStr;

use crate::config::Stream;

/// The envelope key a page's next-page link is written under (also for the last page's
/// `null`/`""` marker).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum NextPageKey {
    /// `nextPage`: what the spec's schemas say (the default).
    #[default]
    NextPage,
    /// `nextPageURL`: what the /intents and /notifications/campaigns descriptions say.
    NextPageURL,
    /// `nextPageUrl`.
    NextPageUrl,
}

impl NextPageKey {
    pub fn as_str(self) -> &'static str {
        match self {
            NextPageKey::NextPage => "nextPage",
            NextPageKey::NextPageURL => "nextPageURL",
            NextPageKey::NextPageUrl => "nextPageUrl",
        }
    }
}

impl fmt::Display for NextPageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NextPageKey {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [NextPageKey::NextPage, NextPageKey::NextPageURL, NextPageKey::NextPageUrl]
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| anyhow::anyhow!("unknown next-page key {s:?} (nextPage|nextPageURL|nextPageUrl)"))
    }
}

/// How record time fields are written. Whatever the shape, a field carries the same instant
/// (to the millisecond) as in the default form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TimestampShape {
    /// RFC 3339 UTC as the API documents it: `2024-01-01T00:00:00Z` or `…:00.123Z` (the default;
    /// the mock mixes both precisions).
    #[default]
    Rfc3339,
    /// Epoch milliseconds as a JSON number: `1704067200123`.
    EpochMillis,
    /// Epoch seconds as a JSON number, with a three-digit fraction when the time has
    /// milliseconds: `1704067200` or `1704067200.123`.
    EpochSeconds,
    /// No zone designator (meaning UTC): `2024-01-01T00:00:00.123`.
    ZoneLess,
    /// A space instead of the `T`: `2024-01-01 00:00:00.123Z`.
    SpaceSeparated,
    /// One of the five shapes above per value, chosen deterministically from the instant.
    Mixed,
}

impl TimestampShape {
    /// Every shape other than the documented RFC 3339: what a reading test runs through.
    pub const ALTERNATIVES: [TimestampShape; 5] = [
        TimestampShape::EpochMillis,
        TimestampShape::EpochSeconds,
        TimestampShape::ZoneLess,
        TimestampShape::SpaceSeparated,
        TimestampShape::Mixed,
    ];
}

impl FromStr for TimestampShape {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rfc3339" => Ok(TimestampShape::Rfc3339),
            "epoch-millis" => Ok(TimestampShape::EpochMillis),
            "epoch-seconds" => Ok(TimestampShape::EpochSeconds),
            "zone-less" => Ok(TimestampShape::ZoneLess),
            "space" => Ok(TimestampShape::SpaceSeparated),
            "mixed" => Ok(TimestampShape::Mixed),
            _ => anyhow::bail!(
                "unknown timestamp shape {s:?} (rfc3339|epoch-millis|epoch-seconds|zone-less|space|mixed)"
            ),
        }
    }
}

/// The endpoints that take `long-term-search` and have a recent window.
const LTS_ENDPOINTS: [Stream; 4] = [Stream::Chats, Stream::Messages, Stream::Sessions, Stream::Calls];

/// The API readings the mock serves, one switch per ambiguity; [`Variants::default`] is the
/// mock's own reading (every switch off).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Variants {
    /// `n > 0`: every `n`th page boundary of a `nextPage`-paginated endpoint gets an extra page
    /// with `"items": []` whose next-page link points on to the rest (1 = before every further
    /// page). Following the links still yields every record exactly once. 0 = off.
    pub empty_pages_every: u32,
    /// The envelope key of the next-page link, for every endpoint...
    pub next_page_key: NextPageKey,
    /// ...except these (later entries win). /contacts keeps handing out a bare token: only the
    /// key it travels under changes.
    pub next_page_key_for: Vec<(Stream, NextPageKey)>,
    /// Integer fields arrive as JSON strings: tickets `companyId`, `authorId`, `followBy` items;
    /// agents' and roles' `slots`; channels `daysToExpire`; sent-results counters (`details`).
    pub numbers_as_strings: bool,
    /// String fields whose value is a canonical integer (no sign but `-`, no leading zero, within
    /// ±2^53) arrive as JSON numbers: `contactId`, `platformContactId`, `participantId`,
    /// chat variables' `orderNumber`, messages' `encryptionParams.version`, channels' `number`,
    /// `wabaId`, `recipientId`, `pageId`, the agent-metrics counters, WhatsApp accounts'
    /// `number` and `wabaId`, templates' `phoneLinesNumbers`, billed conversations' `wabaId`,
    /// `phoneNumber`, `userPhoneNumber`, blacklisted numbers, variables' `orderInUserInfo`.
    pub strings_as_numbers: bool,
    /// The shape of every timestamp in the records of the windowed endpoints (/chats,
    /// /messages, /sessions, /calls, /tickets, the dashboards, /notifications/sent-results,
    /// billed conversations), cursor fields included. Filtering and paging are unchanged.
    pub timestamps: TimestampShape,
    /// These endpoints answer 400 `LONG_TERM_SEARCH_PARAM_REQUIRED` to any request without
    /// `long-term-search=true`, recent windows included ([`Variants::LTS_REQUIRED`] is the
    /// reading of the /chats and /sessions docs). Only /chats, /messages, /sessions, /calls.
    pub lts_required: Vec<Stream>,
    /// These endpoints have no recent window: without `long-term-search` they serve their whole
    /// history ([`Variants::NO_RECENT_WINDOW`]: /calls, whose docs state none). Only /chats,
    /// /messages, /sessions, /calls.
    pub no_recent_window: Vec<Stream>,
    /// /tickets/field-definitions answers a JSON array of every definition instead of the
    /// spec's single object (its description says "a list").
    pub field_definitions_list: bool,
}

impl Variants {
    /// The endpoints whose docs word `long-term-search` as a cost acknowledgement.
    pub const LTS_REQUIRED: [Stream; 2] = [Stream::Chats, Stream::Sessions];
    /// The endpoint whose docs state no recent window.
    pub const NO_RECENT_WINDOW: [Stream; 1] = [Stream::Calls];

    /// Every switch off: the mock's own reading.
    pub fn none() -> Variants {
        Variants::default()
    }

    /// The next-page key `stream` uses.
    pub fn next_page_key_of(&self, stream: Stream) -> NextPageKey {
        self.next_page_key_for.iter().rev().find(|(s, _)| *s == stream).map(|(_, k)| *k).unwrap_or(self.next_page_key)
    }

    /// A problem a test or script should hear about: a switch naming an endpoint it does not
    /// apply to.
    pub fn check(&self) -> anyhow::Result<()> {
        for (what, list) in [("lts_required", &self.lts_required), ("no_recent_window", &self.no_recent_window)] {
            if let Some(s) = list.iter().find(|s| !LTS_ENDPOINTS.contains(s)) {
                anyhow::bail!("{what}: /{} has no recent window (only chats, messages, sessions, calls)", s.name());
            }
        }
        Ok(())
    }

    /// Whether any switch changes how records are written (numbers, strings, timestamps).
    pub(crate) fn reshapes_records(&self) -> bool {
        self.numbers_as_strings || self.strings_as_numbers || self.timestamps != TimestampShape::Rfc3339
    }
}
