//! Lazy, deterministic record generation.
//!
//! Record `i` of a stream is a pure function of `(seed, stream, i)`: nothing is materialised, so
//! a million messages cost no memory. For windowed streams the span `[start, anchor)` is cut into
//! `n` equal slots and record `i` gets a time inside slot `i`; times are therefore strictly
//! increasing in `i`, and a time range maps to an index range by binary search. Records are
//! written straight to JSON (see [`crate::json`]).
//!
//! Realism knobs that exercise connectors: about a third of the times have no fractional
//! seconds (the API mixes `…:05Z` and `…:05.123Z`), the record whose slot contains a UTC
//! midnight usually sits exactly on it, optional fields are sometimes absent, texts contain
//! quotes, newlines, backslashes and non-ASCII characters.

mod agents;
mod billing;
mod calls;
mod channels;
mod chats;
mod contacts;
mod dashboards;
mod intents;
mod messages;
mod notifications;
mod sessions;
mod settings;
mod tickets;
mod vocab;
mod whatsapp;

use crate::config::{Stream, STREAMS};
use crate::json::Obj;
use crate::rng::{make_id, parse_id, Id, Rng};
use crate::time::{ceil_day, ceil_sec, TsMode, DAY};
use channels::channel_defs;
pub(crate) use channels::{platform_of_channel, ref_channel_id, ChannelDef};
pub(crate) use chats::ChatShape;
pub use dashboards::AGENT_METRIC_COUNTERS;
use notifications::{blacklist_index, blacklisted_number};
use vocab::{FIRST, LAST};
use whatsapp::{account_index, account_number};

/// Per-stream salts (ids and times of different streams are independent), by [`Stream::idx`].
pub(super) const SALT: [u64; STREAMS] = [
    0xC4A7_0001,
    0x3E55_0002,
    0x5E55_0003,
    0xCA11_0004,
    0xC047_0005,
    0xA6E7_0006,
    0xC4A1_0007,
    0x1A7E_0008,
    0x71C7_0009,
    0x7E3A_000A,
    0xACC7_000B,
    0x3E7C_000C,
    0x9E2F_000D,
    0xCA3A_000E,
    0x2E5D_000F,
    0x2013_0010,
    0x7A21_0011,
    0x7194_0012,
    0xF1E1_0013,
    0x3EB4_0014,
    0xB1AC_0015,
    0xB111_0016,
];
pub(super) const SALT_TIME: u64 = 0x7173_0000;
pub(super) const SALT_CHAT_FACTS: u64 = 0xFAC7_0001;
pub(super) const SALT_CHAT_BODY: u64 = 0xB0D1_0001;
pub(super) const SALT_CHAT_VARS: u64 = 0x7A25_0001;
pub(super) const SALT_MSG: u64 = 0xB0D1_0002;
pub(super) const SALT_SESS: u64 = 0xB0D1_0003;
pub(super) const SALT_SESS_DUR: u64 = 0xD0_0003;
pub(super) const SALT_SESS_MSG: u64 = 0x5E_5500;
pub(super) const SALT_SESS_EVT: u64 = 0xE7_0003;
pub(super) const SALT_SESS_AI: u64 = 0xA1_0003;
pub(super) const SALT_CALL: u64 = 0xB0D1_0004;
pub(super) const SALT_REC: u64 = 0x2EC0_0004;
pub(super) const SALT_CONTACT: u64 = 0xB0D1_0005;
pub(super) const SALT_AGENT: u64 = 0xB0D1_0006;
pub(super) const SALT_INTENT: u64 = 0xB0D1_0008;
pub(super) const SALT_TICKET: u64 = 0xB0D1_0009;
/// Body salts of the extended endpoints: `SALT_BODY ^ SALT[stream]`.
pub(super) const SALT_BODY: u64 = 0xB0D1_B0D1_0000;

/// Indices of records created by `add_generated`/`open_session` start here, far above any base
/// index, so their ids never collide with (or hide) base records.
pub(crate) const EXTRA_BASE: u64 = 1 << 40;
/// Chat index used for references when there are no base chats (ids stay well-formed).
pub(super) const SYNTH_CHAT: u64 = 1 << 50;
/// Sort key of overlay records of full-refresh streams: after every base record.
pub(crate) const OVERLAY_KEY: i64 = 1 << 62;

/// Cheap facts about chat `j` that other streams reference (and that filters look at).
pub(crate) struct ChatFacts {
    pub id: Id,
    pub channel: usize,
    pub contact: String,
    pub first: usize,
    pub last: usize,
    pub has_email: bool,
    /// Never talked: no session, no `lastUserMessageDatetime`.
    pub never: bool,
}

/// Session render options (the `/sessions` query flags).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessOpts {
    pub mode: TsMode,
    pub messages: bool,
    pub events: bool,
    pub ai: bool,
    pub variables: bool,
}

impl SessOpts {
    /// What `expected()` serves: milliseconds, no includes.
    pub(crate) const EXPECTED: SessOpts =
        SessOpts { mode: TsMode::Millis, messages: false, events: false, ai: false, variables: false };
    pub(crate) const ALL: SessOpts =
        SessOpts { mode: TsMode::Native, messages: true, events: true, ai: true, variables: true };
}

/// Layout of one windowed stream's base records over the span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub start: i64,
    pub span: i64,
    pub n: u64,
}

pub(crate) struct Gen {
    pub seed: u64,
    pub base_url: String,
    pub anchor: i64,
    pub start: i64,
    pub span: i64,
    /// Base record counts (windowed ones capped at one per millisecond of span).
    pub n: [u64; STREAMS],
    pub channels: Vec<ChannelDef>,
}
impl Gen {
    /// `counts` by [`Stream::idx`].
    pub(crate) fn new(seed: u64, base_url: String, anchor: i64, span_days: u32, counts: &[u64; STREAMS]) -> Gen {
        let span = span_days as i64 * DAY;
        let mut n = [0u64; STREAMS];
        for s in Stream::EVERY {
            let mut v = counts[s.idx()];
            if s.is_windowed() {
                // Strictly increasing millisecond times need at least one ms per record.
                v = v.min(span.max(0) as u64);
            } else {
                v = v.min(EXTRA_BASE - 1);
            }
            n[s.idx()] = v;
        }
        n[Stream::Channels.idx()] = n[Stream::Channels.idx()].min(10_000);
        let channels = channel_defs(counts[Stream::Channels.idx()]);
        Gen { seed, base_url, anchor, start: anchor - span, span, n, channels }
    }

    pub(crate) fn n(&self, s: Stream) -> u64 {
        self.n[s.idx()]
    }

    pub(crate) fn layout(&self, s: Stream) -> Layout {
        Layout { start: self.start, span: self.span, n: self.n(s) }
    }

    // ------------------------------------------------------------------ times & keys

    /// Time of base record `i` and whether it is written with milliseconds. Records of a
    /// newest-first stream are numbered from the newest.
    pub(crate) fn time_of(&self, s: Stream, i: u64) -> (i64, bool) {
        let slot = if s.is_newest_first() { self.n(s).saturating_sub(1).saturating_sub(i) } else { i };
        self.slot_time(s, slot)
    }

    /// The time in slot `i` of the span (slot `i` of `n` equal slots, oldest first).
    fn slot_time(&self, s: Stream, i: u64) -> (i64, bool) {
        let l = self.layout(s);
        let a = l.start + (i as u128 * l.span as u128 / l.n.max(1) as u128) as i64;
        let b = l.start + ((i as u128 + 1) * l.span as u128 / l.n.max(1) as u128) as i64;
        let w = (b - a).max(1);
        let mut r = Rng::new(self.seed, SALT_TIME ^ SALT[s.idx()], i);
        let roll = r.below(100);
        let m = ceil_day(a);
        if m < b && (w <= 2 * DAY || roll < 30) {
            // Exactly on a UTC midnight: exercises window edges.
            return (m, r.pct(50));
        }
        let t = a + r.below(w as u64) as i64;
        if roll % 3 == 0 {
            let s1 = ceil_sec(t);
            if s1 < b {
                return (s1, false);
            }
            let s2 = ceil_sec(a);
            if s2 < b {
                return (s2, false);
            }
        }
        (t, true)
    }

    /// Sort key of base record `i` and its timestamp style: windowed streams sort by time
    /// (newest-first ones by negated time), the others by index.
    pub(crate) fn key_native(&self, s: Stream, i: u64) -> (i64, bool) {
        if !s.is_windowed() {
            return (i as i64, true);
        }
        let (t, native) = self.time_of(s, i);
        (if s.is_newest_first() { -t } else { t }, native)
    }

    /// Sort key of base record `i`.
    pub(crate) fn key_of(&self, s: Stream, i: u64) -> i64 {
        self.key_native(s, i).0
    }

    /// The time a sort key stands for (windowed streams).
    pub(crate) fn time_of_key(s: Stream, key: i64) -> i64 {
        if s.is_newest_first() {
            key.saturating_neg()
        } else {
            key
        }
    }

    /// First base index whose key is `>= k`.
    pub(crate) fn lower_bound(&self, s: Stream, k: i64) -> u64 {
        let n = self.n(s);
        if !s.is_windowed() {
            return k.clamp(0, n as i64) as u64;
        }
        let (mut lo, mut hi) = (0u64, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.key_of(s, mid) < k {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The primary key of base record `i` (chats: `chat.chatId`; sessions: `chatId_creationTime`).
    pub(crate) fn id_of(&self, s: Stream, i: u64) -> String {
        match s {
            Stream::Sessions => {
                let (t, millis) = self.time_of(s, i);
                self.session_id(i, t, millis)
            }
            Stream::Channels => self.channels.get(i as usize).map(|c| c.id.clone()).unwrap_or_default(),
            Stream::WhatsappTemplates => self.template_key(i),
            Stream::WhatsappAccounts => account_number(i),
            Stream::AgentMetrics => self.agent_metric_key(i),
            Stream::AgentPerformance => self.agent_performance_key(i),
            Stream::TicketFieldDefinitions => self.field_definition_id(i),
            Stream::ContactsBlacklist => blacklisted_number(i),
            _ => make_id(self.seed, SALT[s.idx()], i).as_str().to_string(),
        }
    }

    /// The base index a primary key belongs to, if it is a base record.
    pub(crate) fn base_index(&self, s: Stream, pk: &str) -> Option<u64> {
        let n = self.n(s);
        match s {
            Stream::Sessions => {
                let (_, ts) = pk.rsplit_once('_')?;
                let t = crate::time::parse_ts(ts)?;
                let i = self.lower_bound(s, t);
                (i < n && self.id_of(s, i) == pk).then_some(i)
            }
            Stream::Channels => self.channels.iter().position(|c| c.id == pk).map(|p| p as u64),
            Stream::AgentMetrics | Stream::AgentPerformance => {
                let t = self.keyed_time(s, pk)?;
                let i = self.lower_bound(s, t);
                (i < n && self.id_of(s, i) == pk).then_some(i)
            }
            Stream::WhatsappTemplates => (0..n).find(|&i| self.id_of(s, i) == pk),
            Stream::WhatsappAccounts => account_index(pk).filter(|&i| i < n),
            Stream::TicketFieldDefinitions => self.field_definition_index(pk).filter(|&i| i < n),
            Stream::ContactsBlacklist => blacklist_index(pk).filter(|&i| i < n),
            _ => parse_id(self.seed, SALT[s.idx()], pk).filter(|&i| i < n),
        }
    }

    // ------------------------------------------------------------------ shared facts

    pub(super) fn chat_index_for(&self, r: &mut Rng, i: u64) -> u64 {
        let nc = self.n(Stream::Chats);
        if nc > 0 {
            r.below(nc)
        } else {
            SYNTH_CHAT + i
        }
    }

    pub(crate) fn chat_facts(&self, j: u64) -> ChatFacts {
        let mut r = Rng::new(self.seed, SALT_CHAT_FACTS, j);
        let roll = r.below(100);
        let channel = match roll {
            0..=54 => 0,
            55..=64 => 1,
            65..=69 => 2,
            70..=79 => 3,
            80..=94 => 4,
            _ => 5,
        };
        let contact = match channel {
            0 => format!("549{:010}", r.below(10_000_000_000)),
            1 => format!("{}", 3_000_000_000_000_000u64 + r.below(1_000_000_000_000_000)),
            2 => format!("{}", 100_000_000 + r.below(900_000_000)),
            3 => format!("{}", 17_841_400_000_000_000u64 + r.below(100_000_000_000_000)),
            4 => format!("wc-{:012x}", r.below(1 << 48)),
            _ => format!("crm-{:08}", r.below(100_000_000)),
        };
        ChatFacts {
            id: make_id(self.seed, SALT[Stream::Chats.idx()], j),
            channel,
            contact,
            first: r.below(FIRST.len() as u64) as usize,
            last: r.below(LAST.len() as u64) as usize,
            has_email: r.pct(60),
            never: r.pct(2),
        }
    }

    /// A generated agent to refer to (`None` when there are none).
    pub(super) fn agent_pick(&self, r: &mut Rng) -> Option<u64> {
        let na = self.n(Stream::Agents);
        (na > 0).then(|| r.below(na))
    }

    pub(super) fn agent_id(&self, r: &mut Rng) -> Option<Id> {
        let na = self.n(Stream::Agents);
        (na > 0).then(|| make_id(self.seed, SALT[Stream::Agents.idx()], r.below(na)))
    }

    pub(super) fn write_chat_ref(o: &mut Obj, f: &ChatFacts) {
        let mut c = o.obj("chat");
        c.str("chatId", f.id.as_str()).str("channelId", ref_channel_id(f.channel)).str("contactId", &f.contact);
        c.end();
    }

    /// Renders any base (or extra-index) record: `t` is its time (windowed streams), `native`
    /// its own timestamp style, `now` decides whether a session is finished.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_record(
        &self,
        s: Stream,
        out: &mut String,
        i: u64,
        t: i64,
        native: bool,
        now: i64,
        sess: SessOpts,
    ) {
        match s {
            Stream::Chats => self.write_chat(out, i, t, native, ChatShape::LISTED),
            Stream::Messages => self.write_message(out, i, t, native),
            Stream::Calls => self.write_call(out, i, t, native),
            Stream::Tickets => self.write_ticket(out, i, t, native),
            Stream::Contacts => self.write_contact(out, i),
            Stream::Agents => self.write_agent(out, i),
            Stream::Intents => self.write_intent(out, i),
            Stream::Channels => self.write_channel(out, i),
            Stream::Sessions => {
                let end = self.session_end(i, t);
                self.write_session(out, i, t, native, end, now, sess)
            }
            Stream::WhatsappTemplates => self.write_template(out, i),
            Stream::WhatsappAccounts => self.write_account(out, i),
            Stream::AgentMetrics => self.write_agent_metric(out, i, t, native),
            Stream::AgentPerformance => self.write_agent_performance(out, i, t, native),
            Stream::Campaigns => self.write_campaign(out, i),
            Stream::NotificationResults => self.write_notification_result(out, i, t, native),
            Stream::Roles => self.write_role(out, i),
            Stream::Variables => self.write_variable(out, i),
            Stream::Typifications => self.write_typification(out, i),
            Stream::TicketFieldDefinitions => self.write_field_definition(out, i),
            Stream::Webhooks => self.write_webhook(out, i),
            Stream::ContactsBlacklist => crate::json::push_str_lit(out, &blacklisted_number(i)),
            Stream::BilledConversations => self.write_billed_conversation(out, i, t, native),
        }
    }
}
