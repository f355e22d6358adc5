//! The streams, described as data.
//!
//! [`STREAMS`] is the one table the rest of the connector reads: the endpoint, how it is read
//! and paged, its cursor and primary key, its rate limit, the shape of its pages and the record
//! type its schema comes from. The read engine is written once against this table.

pub(crate) mod codec;
pub(crate) mod records;
pub(crate) mod shape;
pub(crate) mod transcode;

use std::time::Duration;

use chrono::TimeDelta;
use serde_json::{json, Value};

use crate::config::Config;
use crate::schema::record_schema_for;
use codec::{Envelope, Transform};
use records::*;

/// How a stream is read. Each mode carries what only it needs, so a stream cannot be declared
/// in a way the engine does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadMode {
    /// `from`/`to` date windows on the API's filter field, each followed through its next-page
    /// links; incremental on `cursor`.
    Windowed { cursor: &'static str, rules: WindowRules },
    /// Tickets: no date filter, only `daysBeforeNow`; pages by `limit`/`offset` and keeps the
    /// records whose `cursor` lies in the span being read.
    RecentList { cursor: &'static str, limit: u32 },
    /// A full list followed through next-page links (a link is followed as-is; anything else is
    /// a token sent back in `token_param`). Resumable: the position reached is checkpointed.
    List { token_param: Option<&'static str> },
    /// One response holds everything.
    Single,
}

/// How far back an endpoint's plain requests (without `long-term-search=true`) reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecentWindow {
    /// The docs state it: older windows are read with long-term search when it is enabled, and
    /// recorded as a gap (not requested) when it is not.
    Documented { days: i64 },
    /// The docs state none: older windows are first asked without long-term search, and the
    /// answer decides (see `read::window`). `assumed_days` only marks which windows count as old.
    Undocumented { assumed_days: i64 },
}

impl RecentWindow {
    pub(crate) fn days(self) -> i64 {
        match self {
            RecentWindow::Documented { days } | RecentWindow::Undocumented { assumed_days: days } => days,
        }
    }
}

/// The date-window rules of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowRules {
    pub(crate) recent: RecentWindow,
    /// Keep only records whose cursor lies in the window (event streams). Chats are current-state
    /// rows filtered by the API on last activity, so every chat returned is kept.
    pub(crate) filter_by_cursor: bool,
    /// Records in one full page, used to size windows.
    pub(crate) page_size: u32,
    /// Botmaker lists a record only once it is finished (sessions), so the cursor stays
    /// `session_settle_days` behind now and the last days are read again next time.
    pub(crate) listed_when_finished: bool,
}

/// An endpoint's documented rate limit: `requests` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit {
    pub(crate) requests: u32,
    pub(crate) per: Duration,
}

impl RateLimit {
    const fn per_second(requests: u32) -> Self {
        RateLimit { requests, per: Duration::from_secs(1) }
    }
}

/// One stream.
pub(crate) struct StreamDef {
    pub(crate) name: &'static str,
    /// Endpoint path below `api_url`.
    pub(crate) path: &'static str,
    pub(crate) mode: ReadMode,
    /// The record fields that identify it (all must be present to deduplicate it).
    pub(crate) primary_key: &'static [&'static str],
    pub(crate) rate_limit: RateLimit,
    /// Whether `lookback_window_days` applies.
    pub(crate) uses_lookback: bool,
    /// Query parameters of every first request.
    pub(crate) params: fn(&Config) -> Vec<(&'static str, String)>,
    /// How a page wraps its items.
    pub(crate) envelope: Envelope,
    /// How an item becomes a record.
    pub(crate) transform: Transform,
    /// The record's JSON Schema.
    pub(crate) schema: fn() -> Value,
}

impl std::fmt::Debug for StreamDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamDef").field("name", &self.name).finish_non_exhaustive()
    }
}

impl StreamDef {
    /// The incremental cursor field, for streams that have one.
    pub(crate) fn cursor_field(&self) -> Option<&'static str> {
        match self.mode {
            ReadMode::Windowed { cursor, .. } | ReadMode::RecentList { cursor, .. } => Some(cursor),
            ReadMode::List { .. } | ReadMode::Single => None,
        }
    }

    /// Whether a sync can resume part-way through this stream.
    pub(crate) fn is_resumable(&self) -> bool {
        !matches!(self.mode, ReadMode::Single)
    }

    /// The stream as `discover` describes it.
    pub(crate) fn airbyte_stream(&self) -> Value {
        let cursor = self.cursor_field();
        let mut stream = json!({
            "name": self.name,
            "json_schema": (self.schema)(),
            "supported_sync_modes": if cursor.is_some() { json!(["full_refresh", "incremental"]) } else { json!(["full_refresh"]) },
            "source_defined_primary_key": self.primary_key.iter().map(|k| [k]).collect::<Vec<_>>(),
            "is_resumable": self.is_resumable(),
        });
        if let Some(cursor) = cursor {
            stream["source_defined_cursor"] = json!(true);
            stream["default_cursor_field"] = json!([cursor]);
        }
        stream
    }

    /// The decoder of this stream's pages.
    pub(crate) fn codec(&self) -> codec::Codec {
        codec::Codec::new(
            self.name,
            &(self.schema)(),
            self.envelope,
            self.transform,
            self.primary_key,
            self.cursor_field(),
        )
    }
}

fn no_params(_: &Config) -> Vec<(&'static str, String)> {
    Vec::new()
}

fn message_params(_: &Config) -> Vec<(&'static str, String)> {
    vec![("limit", "1500".into())]
}

fn session_params(config: &Config) -> Vec<(&'static str, String)> {
    let mut params = vec![("timestamp-precision", "milliseconds".to_string())];
    for (on, name) in [
        (config.include_session_messages, "include-messages"),
        (config.include_session_variables, "include-variables"),
        (config.include_session_events, "include-events"),
        (config.include_session_ai_analysis, "include-ai-analysis"),
    ] {
        if on {
            params.push((name, "true".into()));
        }
    }
    params
}

const ID: &[&str] = &["id"];

/// The table.
pub(crate) static STREAMS: [StreamDef; 9] = [
    StreamDef {
        name: "chats",
        path: "/chats",
        mode: ReadMode::Windowed {
            cursor: "lastUserMessageDatetime",
            rules: WindowRules {
                recent: RecentWindow::Documented { days: 7 },
                filter_by_cursor: false,
                page_size: 250,
                listed_when_finished: false,
            },
        },
        primary_key: &["chat_id"],
        rate_limit: RateLimit::per_second(3),
        uses_lookback: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::FlattenChat,
        schema: record_schema_for::<ChatRecord>,
    },
    StreamDef {
        name: "messages",
        path: "/messages",
        mode: ReadMode::Windowed {
            cursor: "creationTime",
            rules: WindowRules {
                recent: RecentWindow::Documented { days: 3 },
                filter_by_cursor: true,
                page_size: 1500,
                listed_when_finished: false,
            },
        },
        primary_key: ID,
        rate_limit: RateLimit::per_second(5),
        uses_lookback: false,
        params: message_params,
        envelope: Envelope::Key("items"),
        transform: Transform::FlattenChat,
        schema: record_schema_for::<MessageRecord>,
    },
    StreamDef {
        name: "sessions",
        path: "/sessions",
        mode: ReadMode::Windowed {
            cursor: "creationTime",
            rules: WindowRules {
                recent: RecentWindow::Documented { days: 7 },
                filter_by_cursor: true,
                page_size: 500,
                listed_when_finished: true,
            },
        },
        primary_key: ID,
        rate_limit: RateLimit::per_second(5),
        uses_lookback: false,
        params: session_params,
        envelope: Envelope::Key("items"),
        transform: Transform::AddSessionChatId,
        schema: record_schema_for::<SessionRecord>,
    },
    StreamDef {
        name: "calls",
        path: "/calls",
        mode: ReadMode::Windowed {
            cursor: "creationDatetime",
            rules: WindowRules {
                recent: RecentWindow::Undocumented { assumed_days: 7 },
                filter_by_cursor: true,
                page_size: 250,
                listed_when_finished: false,
            },
        },
        primary_key: ID,
        rate_limit: RateLimit::per_second(5),
        uses_lookback: true,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::FlattenChat,
        schema: record_schema_for::<CallRecord>,
    },
    StreamDef {
        name: "contacts",
        path: "/contacts",
        mode: ReadMode::List { token_param: Some("next-page-token") },
        primary_key: ID,
        rate_limit: RateLimit::per_second(3),
        uses_lookback: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<ContactRecord>,
    },
    StreamDef {
        name: "agents",
        path: "/agents",
        mode: ReadMode::List { token_param: None },
        primary_key: ID,
        rate_limit: RateLimit::per_second(200),
        uses_lookback: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<AgentRecord>,
    },
    StreamDef {
        name: "channels",
        path: "/channels",
        mode: ReadMode::Single,
        primary_key: ID,
        rate_limit: RateLimit::per_second(1),
        uses_lookback: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::RemoveSecrets,
        schema: record_schema_for::<ChannelRecord>,
    },
    StreamDef {
        name: "intents",
        path: "/intents",
        mode: ReadMode::List { token_param: None },
        primary_key: ID,
        rate_limit: RateLimit::per_second(1),
        uses_lookback: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<IntentRecord>,
    },
    StreamDef {
        name: "tickets",
        path: "/tickets",
        mode: ReadMode::RecentList { cursor: "creationTime", limit: 500 },
        primary_key: ID,
        rate_limit: RateLimit { requests: 60, per: Duration::from_secs(60) },
        uses_lookback: true,
        params: no_params,
        envelope: Envelope::Key("tickets"),
        transform: Transform::None,
        schema: record_schema_for::<TicketRecord>,
    },
];

/// Looks a stream up by name.
pub(crate) fn find(name: &str) -> Option<&'static StreamDef> {
    STREAMS.iter().find(|s| s.name == name)
}

/// The `discover` catalog.
pub(crate) fn catalog() -> Value {
    json!({ "streams": STREAMS.iter().map(StreamDef::airbyte_stream).collect::<Vec<_>>() })
}

/// The longest window: the API refuses a `from`/`to` range over one calendar month (28 days in
/// February), and requests reach one second beyond each end of their window.
pub(crate) const MAX_WINDOW: TimeDelta = TimeDelta::days(27);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stream_decodes_with_its_own_schema() {
        for def in &STREAMS {
            let codec = def.codec();
            let page = codec.decode(br#"{"items":[],"tickets":[],"total":0}"#);
            assert!(page.is_ok(), "{}: {page:?}", def.name);
            let schema = (def.schema)();
            for key in def.primary_key.iter().chain(def.cursor_field().as_ref()) {
                assert!(schema["properties"].get(*key).is_some(), "{}: `{key}` is not in the schema", def.name);
            }
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = STREAMS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), STREAMS.len());
    }
}
