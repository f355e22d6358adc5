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
mod calls;
mod channels;
mod chats;
mod contacts;
mod intents;
mod messages;
mod sessions;
mod tickets;
mod vocab;

use crate::config::{Stream, StreamCounts};
use crate::json::Obj;
use crate::rng::{make_id, parse_id, Id, Rng};
use crate::time::{ceil_day, ceil_sec, TsMode, DAY};
use channels::channel_defs;
pub(crate) use channels::{platform_of_channel, ref_channel_id, ChannelDef};
pub(crate) use chats::ChatShape;
use vocab::{FIRST, LAST};

/// Per-stream salts (ids and times of different streams are independent).
pub(super) const SALT: [u64; 9] = [
    0xC4A7_0001,
    0x3E55_0002,
    0x5E55_0003,
    0xCA11_0004,
    0xC047_0005,
    0xA6E7_0006,
    0xC4A1_0007,
    0x1A7E_0008,
    0x71C7_0009,
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
    pub n: [u64; 9],
    pub channels: Vec<ChannelDef>,
}
impl Gen {
    pub(crate) fn new(seed: u64, base_url: String, anchor: i64, span_days: u32, c: &StreamCounts) -> Gen {
        let span = span_days as i64 * DAY;
        let mut n = [0u64; 9];
        for s in Stream::ALL {
            let mut v = c.get(s);
            if s.is_windowed() {
                // Strictly increasing millisecond times need at least one ms per record.
                v = v.min(span.max(0) as u64);
            } else {
                v = v.min(EXTRA_BASE - 1);
            }
            n[s.idx()] = v;
        }
        n[Stream::Channels.idx()] = n[Stream::Channels.idx()].min(10_000);
        Gen { seed, base_url, anchor, start: anchor - span, span, n, channels: channel_defs(c.channels) }
    }

    pub(crate) fn n(&self, s: Stream) -> u64 {
        self.n[s.idx()]
    }

    pub(crate) fn layout(&self, s: Stream) -> Layout {
        Layout { start: self.start, span: self.span, n: self.n(s) }
    }

    // ------------------------------------------------------------------ times & keys

    /// Time of base record `i` and whether it is written with milliseconds.
    pub(crate) fn time_of(&self, s: Stream, i: u64) -> (i64, bool) {
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

    /// Sort key of base record `i`: its time for windowed streams, the index otherwise.
    pub(crate) fn key_of(&self, s: Stream, i: u64) -> i64 {
        if s.is_windowed() {
            self.time_of(s, i).0
        } else {
            i as i64
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
            if self.time_of(s, mid).0 < k {
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

    pub(super) fn agent_id(&self, r: &mut Rng) -> Option<Id> {
        let na = self.n(Stream::Agents);
        (na > 0).then(|| make_id(self.seed, SALT[Stream::Agents.idx()], r.below(na)))
    }

    pub(super) fn write_chat_ref(o: &mut Obj, f: &ChatFacts) {
        let mut c = o.obj("chat");
        c.str("chatId", f.id.as_str()).str("channelId", ref_channel_id(f.channel)).str("contactId", &f.contact);
        c.end();
    }

    /// Renders any base (or extra-index) record: `t` is its key time, `native` its own
    /// timestamp style, `now` decides whether a session is finished.
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
        }
    }
}
