//! The data behind the endpoints: lazily generated base records merged with a small overlay.
//!
//! Every stream is one sequence ordered by `(key, id)`: `key` is the filter time in
//! milliseconds for windowed streams and the position for full-refresh streams. Base records
//! come from [`Gen`] (an index range found by binary search); the overlay holds records added or
//! changed at runtime and a set of hidden base indices (records that were replaced or moved).
//! Paging resumes strictly after a `(key, id)` cursor, so records added between pages or syncs
//! never shift what the next page returns.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;

use crate::config::{Stream, STREAMS};
use crate::gen::{platform_of_channel, ChatShape, Gen, SessOpts, EXTRA_BASE, OVERLAY_KEY};
use crate::rng::Rng;
use crate::time::{fmt_ts, parse_ts, TsMode, DAY, HOUR};

/// What filters look at, for one record.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facets {
    pub chat_id: String,
    pub channel_ids: Vec<String>,
    pub contact_id: String,
    pub platforms: Vec<String>,
    pub first: String,
    pub last: String,
    pub email: Option<String>,
    pub never_talked: bool,
    pub online: bool,
    pub active: bool,
    pub has_bsuid: bool,
    /// The agent a dashboard record is about.
    pub agent_id: String,
    pub queues: Vec<String>,
    /// A template's approval state.
    pub state: String,
    /// A notification's name.
    pub name: String,
    /// A tag variable.
    pub tag: bool,
    pub business: String,
}

/// Query filters of the list endpoints (each stream uses its own subset).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Filter {
    pub chat_id: Option<String>,
    pub channel_id: Option<String>,
    pub contact_id: Option<String>,
    pub platform: Option<String>,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub never_talked: bool,
    pub online: Option<bool>,
    pub active: Option<bool>,
    pub has_bsuid: bool,
    pub state: Option<String>,
    /// Records with any of these queues.
    pub queues: Vec<String>,
    /// Records about any of these agents.
    pub agent_ids: Vec<String>,
    /// Records of any of these channels (ids or bare line numbers).
    pub channels: Vec<String>,
    pub notification_name: Option<String>,
    pub only_tags: bool,
    pub business: Option<String>,
}

impl Filter {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    fn matches(&self, s: Stream, f: &Facets) -> bool {
        match s {
            Stream::Chats => self.matches_chat(f),
            Stream::Messages | Stream::Calls | Stream::Sessions => self.matches_chat_ref(f),
            Stream::Contacts => self.matches_contact(f),
            Stream::Agents => self.matches_agent(f),
            Stream::Channels => self.matches_channel(f),
            Stream::WhatsappTemplates => self.state.as_ref().is_none_or(|st| st == &f.state) && self.matches_queues(f),
            Stream::AgentMetrics => {
                self.matches_agents(f)
                    && self.matches_queues(f)
                    && (self.channels.is_empty() || f.channel_ids.iter().any(|c| self.channels.contains(c)))
                    && self.online.is_none_or(|o| f.online == o)
            }
            Stream::AgentPerformance => self.matches_agents(f) && self.matches_queues(f),
            Stream::NotificationResults => self.notification_name.as_ref().is_none_or(|n| n == &f.name),
            Stream::Variables => !self.only_tags || f.tag,
            Stream::Typifications => self.matches_queues(f),
            Stream::BilledConversations => self.business.as_ref().is_none_or(|b| b == &f.business),
            _ => true,
        }
    }

    /// Any of `queues`, if asked for.
    fn matches_queues(&self, f: &Facets) -> bool {
        self.queues.is_empty() || f.queues.iter().any(|q| self.queues.contains(q))
    }

    /// One of `agent_ids`, if asked for.
    fn matches_agents(&self, f: &Facets) -> bool {
        self.agent_ids.is_empty() || self.agent_ids.contains(&f.agent_id)
    }

    fn matches_chat(&self, f: &Facets) -> bool {
        if let Some(c) = &self.channel_id {
            if !f.channel_ids.iter().any(|x| x == c) {
                return false;
            }
        }
        if let Some(c) = &self.contact_id {
            if &f.contact_id != c {
                return false;
            }
        }
        if let Some(n) = &self.name {
            let mut words = n.split([' ', '-']).filter(|t| !t.is_empty());
            if !words.all(|t| same_text(t, &f.first) || same_text(t, &f.last)) {
                return false;
            }
        }
        self.matches_emails(f) && (!self.never_talked || f.never_talked)
    }

    /// Messages, calls, sessions: by their chat, or the chat's channel and contact, and platform.
    fn matches_chat_ref(&self, f: &Facets) -> bool {
        if let Some(c) = &self.chat_id {
            if &f.chat_id != c {
                return false;
            }
        } else if let (Some(ch), Some(ct)) = (&self.channel_id, &self.contact_id) {
            if !f.channel_ids.iter().any(|x| x == ch) || &f.contact_id != ct {
                return false;
            }
        }
        self.matches_platform(f)
    }

    fn matches_contact(&self, f: &Facets) -> bool {
        if let Some(c) = &self.channel_id {
            if !f.channel_ids.iter().any(|x| x == c) {
                return false;
            }
        }
        self.matches_platform(f) && (!self.has_bsuid || f.has_bsuid)
    }

    fn matches_agent(&self, f: &Facets) -> bool {
        if self.online.is_some_and(|o| f.online != o) {
            return false;
        }
        self.matches_emails(f)
    }

    fn matches_channel(&self, f: &Facets) -> bool {
        if let Some(p) = &self.platform {
            if !f.platforms.iter().any(|x| same_text(x, p)) {
                return false;
            }
        }
        self.active.is_none_or(|a| f.active == a)
    }

    /// `platform` (`instagram_chat` counts as `instagram`), if asked for.
    fn matches_platform(&self, f: &Facets) -> bool {
        let Some(p) = &self.platform else {
            return true;
        };
        let p = platform_name(p);
        f.platforms.iter().any(|x| platform_name(x) == p)
    }

    /// One of `emails` (any case), if asked for.
    fn matches_emails(&self, f: &Facets) -> bool {
        if self.emails.is_empty() {
            return true;
        }
        matches!(&f.email, Some(e) if self.emails.iter().any(|x| same_text(x, e)))
    }
}

fn same_text(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn platform_name(p: &str) -> String {
    let p = p.to_ascii_lowercase();
    if p == "instagram_chat" {
        "instagram".to_string()
    } else {
        p
    }
}

/// A record added or changed at runtime.
#[derive(Clone, Debug)]
pub(crate) struct OvRec {
    pub key: i64,
    pub id: String,
    pub value: Value,
    /// `value` serialised once (non-session streams are served from this).
    pub json: String,
    /// Sessions only: still open (not listed without `include-open-sessions=true`).
    pub open: bool,
    pub facets: Facets,
}

#[derive(Default, Debug)]
pub(crate) struct StreamOv {
    hidden: BTreeSet<u64>,
    recs: BTreeMap<(i64, String), OvRec>,
    by_id: HashMap<String, i64>,
    next_extra: u64,
}

/// Where a page starts.
#[derive(Clone, Debug)]
pub(crate) enum Start {
    /// At the window's lower bound.
    Begin,
    /// Strictly after this `(key, id)`.
    After(i64, String),
    /// At base index `g` (inclusive), used by offset seeking.
    AtGen(u64),
}

pub(crate) struct PageSpec<'a> {
    pub stream: Stream,
    /// Half-open key range `[lo, hi)`.
    pub lo: i64,
    pub hi: i64,
    pub start: Start,
    pub skip: usize,
    pub limit: usize,
    pub filter: &'a Filter,
    pub now: i64,
    pub include_open: bool,
    pub sess: SessOpts,
}

#[derive(Debug, Default)]
pub(crate) struct PageOut {
    /// Items serialised and separated by commas (no brackets).
    pub body: String,
    /// Byte span of each item inside `body`.
    pub spans: Vec<(usize, usize)>,
    /// Cursor of the last item served.
    pub last: Option<(i64, String)>,
    /// More matching items exist after `last`.
    pub more: bool,
}

impl PageOut {
    pub(crate) fn n(&self) -> usize {
        self.spans.len()
    }
}

pub(crate) struct Store {
    pub gen: Gen,
    ov: RwLock<Vec<StreamOv>>,
}

enum Cand<'a> {
    Gen { i: u64, key: i64, native: bool },
    Ov(&'a OvRec),
}

/// Base and overlay records of one stream in `(key, id)` order from a page's start, within
/// its key range; hidden base records are skipped.
struct Merged<'a> {
    g: &'a Gen,
    s: Stream,
    ov: &'a StreamOv,
    /// Next base index to look at, and the end of the range.
    gi: u64,
    gn: u64,
    /// The next base record, once looked up: `(index, key, native)`.
    pending: Option<(u64, i64, bool)>,
    ov_iter: Option<std::iter::Peekable<std::collections::btree_map::Range<'a, (i64, String), OvRec>>>,
}

impl<'a> Merged<'a> {
    fn new(g: &'a Gen, s: Stream, ov: &'a StreamOv, spec: &PageSpec) -> Merged<'a> {
        let n = g.n(s);
        let (lo, hi) = (spec.lo, spec.hi);
        let empty = String::new();
        let (gi, ov_start): (u64, Bound<(i64, String)>) = match &spec.start {
            Start::Begin => (g.lower_bound(s, lo), Bound::Included((lo, empty.clone()))),
            // A cursor before the window (e.g. a token reused with a later `from`).
            Start::After(k, _) if *k < lo => (g.lower_bound(s, lo), Bound::Included((lo, empty.clone()))),
            Start::After(k, id) => {
                let mut gi = g.lower_bound(s, *k);
                if gi < n && g.key_of(s, gi) == *k && g.id_of(s, gi).as_str() <= id.as_str() {
                    gi += 1;
                }
                (gi, Bound::Excluded((*k, id.clone())))
            }
            Start::AtGen(x) => {
                let x = (*x).min(n);
                if x < n {
                    (x, Bound::Included((g.key_of(s, x).max(lo), g.id_of(s, x))))
                } else {
                    (x, Bound::Included((lo, empty.clone())))
                }
            }
        };
        let ov_range_ok = match &ov_start {
            Bound::Included(a) | Bound::Excluded(a) => a.0 < hi,
            Bound::Unbounded => true,
        };
        let ov_iter = ov_range_ok.then(|| ov.recs.range((ov_start, Bound::Excluded((hi, empty)))).peekable());
        Merged { g, s, ov, gi, gn: g.lower_bound(s, hi).min(n), pending: None, ov_iter }
    }

    /// Looks up the next visible base record, if not done yet.
    fn fill_pending(&mut self) {
        if self.pending.is_some() {
            return;
        }
        while self.gi < self.gn && self.ov.hidden.contains(&self.gi) {
            self.gi += 1;
        }
        if self.gi < self.gn {
            let (key, native) = self.g.key_native(self.s, self.gi);
            self.pending = Some((self.gi, key, native));
        }
    }
}

impl<'a> Iterator for Merged<'a> {
    type Item = Cand<'a>;

    fn next(&mut self) -> Option<Cand<'a>> {
        self.fill_pending();
        let ov_next = self.ov_iter.as_mut().and_then(|it| it.peek().map(|(_, r)| *r));
        let take_gen = match (self.pending, ov_next) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((i, k, _)), Some(r)) => {
                if k != r.key {
                    k < r.key
                } else {
                    self.g.id_of(self.s, i) < r.id
                }
            }
        };
        if take_gen {
            let (i, key, native) = self.pending.take()?;
            self.gi = i + 1;
            return Some(Cand::Gen { i, key, native });
        }
        self.ov_iter.as_mut().and_then(|it| it.next()).map(|(_, r)| Cand::Ov(r))
    }
}

/// Upper bound of how long any generated session stays open (2 days + the 1 h anchor shift).
const MAX_SESSION_OPEN: i64 = 2 * DAY + HOUR;

impl Store {
    pub(crate) fn new(gen: Gen) -> Store {
        Store { gen, ov: RwLock::new((0..STREAMS).map(|_| StreamOv::default()).collect()) }
    }

    fn read(&self) -> RwLockReadGuard<'_, Vec<StreamOv>> {
        self.ov.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Vec<StreamOv>> {
        self.ov.write().unwrap_or_else(|e| e.into_inner())
    }

    fn gen_facets(&self, s: Stream, i: u64) -> Facets {
        let g = &self.gen;
        match s {
            Stream::Chats => g.chat_filter_facts(i),
            Stream::Messages | Stream::Calls | Stream::Sessions => g.ref_facts(s, i),
            Stream::Contacts => g.contact_facts(i),
            Stream::Agents => {
                let (online, email) = g.agent_facts(i);
                Facets { online, email: Some(email), ..Default::default() }
            }
            Stream::Channels => g
                .channels
                .get(i as usize)
                .map(|c| Facets { platforms: vec![c.platform.to_string()], active: c.active, ..Default::default() })
                .unwrap_or_default(),
            Stream::WhatsappTemplates => {
                let t = g.template_facts(i);
                Facets {
                    state: t.state.to_string(),
                    queues: t.queues.iter().map(|q| q.to_string()).collect(),
                    ..Default::default()
                }
            }
            Stream::AgentMetrics => g.agent_metric_facts(i),
            Stream::AgentPerformance => g.agent_performance_facts(i),
            Stream::NotificationResults => g.notification_result_facts(i),
            Stream::Variables => Facets { tag: Gen::variable_is_tag(i), ..Default::default() },
            Stream::Typifications => g.typification_facts(i),
            Stream::BilledConversations => Facets { business: "mockbiz".into(), ..Default::default() },
            _ => Facets::default(),
        }
    }

    /// Walks the merged sequence from `spec.start`, applying visibility and filters, and
    /// serialises up to `spec.limit` items.
    pub(crate) fn page(&self, spec: &PageSpec) -> PageOut {
        let s = spec.stream;
        let g = &self.gen;
        let ovs = self.read();
        let ov = &ovs[s.idx()];
        let mut out = PageOut::default();
        let mut skip = spec.skip;
        let mut last: Option<Cand> = None;
        let filtering = !spec.filter.is_empty();
        for cand in Merged::new(g, s, ov, spec) {
            if !self.visible(spec, &cand) {
                continue;
            }
            if filtering && !self.passes_filter(spec, &cand) {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if out.spans.len() >= spec.limit {
                out.more = true;
                break;
            }
            if !out.body.is_empty() {
                out.body.push(',');
            }
            let a = out.body.len();
            self.write_cand(spec, &cand, &mut out.body);
            out.spans.push((a, out.body.len()));
            last = Some(cand);
        }
        out.last = last.map(|c| match c {
            Cand::Gen { i, key, .. } => (key, g.id_of(s, i)),
            Cand::Ov(r) => (r.key, r.id.clone()),
        });
        out
    }

    /// Unfinished sessions are hidden unless asked for; everything else is visible.
    fn visible(&self, spec: &PageSpec, cand: &Cand) -> bool {
        if spec.stream != Stream::Sessions || spec.include_open {
            return true;
        }
        let open = match cand {
            Cand::Gen { i, key, .. } => self.gen.session_end(*i, *key) > spec.now,
            Cand::Ov(r) => r.open,
        };
        !open
    }

    fn passes_filter(&self, spec: &PageSpec, cand: &Cand) -> bool {
        match cand {
            Cand::Gen { i, .. } => spec.filter.matches(spec.stream, &self.gen_facets(spec.stream, *i)),
            Cand::Ov(r) => spec.filter.matches(spec.stream, &r.facets),
        }
    }

    fn write_cand(&self, spec: &PageSpec, cand: &Cand, body: &mut String) {
        match cand {
            Cand::Gen { i, key, native } => {
                let t = Gen::time_of_key(spec.stream, *key);
                self.gen.write_record(spec.stream, body, *i, t, *native, spec.now, spec.sess)
            }
            Cand::Ov(r) if spec.stream == Stream::Sessions => {
                let v = session_view(&r.value, spec.sess);
                body.push_str(&serde_json::to_string(&v).unwrap_or_default());
            }
            Cand::Ov(r) => body.push_str(&r.json),
        }
    }

    /// The key range of the records whose time lies in `[from, to)` (newest-first streams sort
    /// by negated time).
    pub(crate) fn key_range(s: Stream, from: i64, to: i64) -> (i64, i64) {
        if s.is_newest_first() {
            (to.saturating_neg().saturating_add(1), from.saturating_neg().saturating_add(1))
        } else {
            (from, to)
        }
    }

    /// Number of visible records with key in `[lo, hi)` (sessions: finished at `now` only).
    /// O(log n) plus the overlay size plus, for sessions, the few days before `now`.
    pub(crate) fn count(&self, s: Stream, lo: i64, hi: i64, now: i64) -> u64 {
        if lo >= hi {
            return 0;
        }
        let g = &self.gen;
        let ovs = self.read();
        let ov = &ovs[s.idx()];
        let a = g.lower_bound(s, lo);
        let b = g.lower_bound(s, hi).max(a);
        let mut c = b - a - ov.hidden.range(a..b).count() as u64;
        if s == Stream::Sessions {
            let tail = g.lower_bound(s, now.saturating_sub(MAX_SESSION_OPEN)).max(a);
            for i in tail..b {
                if !ov.hidden.contains(&i) && g.session_end(i, g.time_of(s, i).0) > now {
                    c -= 1;
                }
            }
        }
        let empty = String::new();
        c += ov.recs.range((lo, empty.clone())..(hi, empty)).filter(|(_, r)| !(s == Stream::Sessions && r.open)).count()
            as u64;
        c
    }

    /// Finds the start of the `q`-th (0-based) item of the unfiltered sequence in `[lo, hi)`,
    /// without walking the items before it (offset paging of /tickets at scale).
    pub(crate) fn seek(&self, s: Stream, lo: i64, hi: i64, q: u64) -> (Start, usize) {
        if lo >= hi {
            return (Start::Begin, 0);
        }
        let g = &self.gen;
        let ovs = self.read();
        let ov = &ovs[s.idx()];
        let a = g.lower_bound(s, lo);
        let b = g.lower_bound(s, hi).max(a);
        let empty = String::new();
        let ov_in: Vec<(i64, &str)> =
            ov.recs.range((lo, empty.clone())..(hi, empty)).map(|(k, _)| (k.0, k.1.as_str())).collect();
        // Items strictly before base position x.
        let before = |x: u64| -> u64 {
            let hidden = ov.hidden.range(a..x).count() as u64;
            let ovb = if x >= b {
                ov_in.len()
            } else {
                let key = g.key_of(s, x);
                let id = g.id_of(s, x);
                ov_in.partition_point(|(k, i)| (*k, *i) < (key, id.as_str()))
            };
            (x - a) - hidden + ovb as u64
        };
        if before(a) > q {
            return (Start::Begin, q as usize);
        }
        let (mut l, mut h) = (a, b);
        while l < h {
            let mid = l + (h - l).div_ceil(2);
            if before(mid) <= q {
                l = mid;
            } else {
                h = mid - 1;
            }
        }
        let skip = (q - before(l)) as usize;
        if l >= b {
            (Start::Begin, q as usize)
        } else {
            (Start::AtGen(l), skip)
        }
    }

    // ------------------------------------------------------------------ mutations

    fn insert(&self, ovs: &mut [StreamOv], s: Stream, rec: OvRec) {
        let ov = &mut ovs[s.idx()];
        if let Some(i) = self.gen.base_index(s, &rec.id) {
            ov.hidden.insert(i);
        }
        if let Some(old_key) = ov.by_id.remove(&rec.id) {
            ov.recs.remove(&(old_key, rec.id.clone()));
        }
        ov.by_id.insert(rec.id.clone(), rec.key);
        ov.recs.insert((rec.key, rec.id.clone()), rec);
    }

    /// Builds an overlay record from JSON; `None` when the primary key or time is missing.
    pub(crate) fn make_rec(&self, s: Stream, mut value: Value, open: bool) -> Result<OvRec, String> {
        let id = primary_key(s, &value).ok_or_else(|| format!("{s} record without a primary key"))?;
        let key = if s.is_windowed() {
            let lit = match s {
                Stream::Chats => value
                    .as_object_mut()
                    .and_then(|o| o.remove("_mockLastActivity"))
                    .and_then(|v| v.as_str().map(str::to_string))
                    .or_else(|| str_at(&value, &["lastUserMessageDatetime"]))
                    .or_else(|| str_at(&value, &["creationTime"])),
                _ => str_at(&value, &[time_field(s)]),
            };
            let t = lit
                .as_deref()
                .and_then(parse_ts)
                .ok_or_else(|| format!("{s} record {id} without a parseable time field"))?;
            if s.is_newest_first() {
                -t
            } else {
                t
            }
        } else {
            OVERLAY_KEY
        };
        let facets = overlay_facets(s, &value);
        let json = serde_json::to_string(&value).unwrap_or_default();
        Ok(OvRec { key, id, value, json, open, facets })
    }

    pub(crate) fn add_records(&self, s: Stream, records: Vec<Value>) -> Result<(), String> {
        let recs = records.into_iter().map(|v| self.make_rec(s, v, false)).collect::<Result<Vec<_>, _>>()?;
        let mut ovs = self.write();
        for r in recs {
            self.insert(&mut ovs, s, r);
        }
        Ok(())
    }

    fn next_extra(&self, ovs: &mut [StreamOv], s: Stream) -> u64 {
        let ov = &mut ovs[s.idx()];
        let i = EXTRA_BASE + ov.next_extra;
        ov.next_extra += 1;
        i
    }

    /// Renders extra record `i` as a JSON value (all session includes, native timestamps).
    fn render_extra(&self, s: Stream, i: u64, t: i64, native: bool, end: i64, now: i64) -> Value {
        let mut out = String::with_capacity(1024);
        match s {
            Stream::Sessions => self.gen.write_session(&mut out, i, t, native, end, now, SessOpts::ALL),
            _ => self.gen.write_record(s, &mut out, i, t, native, now, SessOpts::ALL),
        }
        serde_json::from_str(&out).unwrap_or(Value::Null)
    }

    pub(crate) fn add_generated(&self, s: Stream, n: u64, from: i64, to: i64) -> Vec<String> {
        let mut ovs = self.write();
        let mut ids = Vec::with_capacity(n as usize);
        let span = (to - from).max(1);
        for k in 0..n {
            let i = self.next_extra(&mut ovs, s);
            let (t, native) = if s.is_windowed() {
                let a = from + (span as i128 * k as i128 / n as i128) as i64;
                let b = from + (span as i128 * (k as i128 + 1) / n as i128) as i64;
                let mut r = Rng::new(self.gen.seed, 0xADD, i);
                let t = r.range(a, b.max(a + 1));
                if r.pct(33) && t % 1000 != 0 && (t / 1000 + 1) * 1000 < b {
                    ((t.div_euclid(1000) + 1) * 1000, false)
                } else {
                    (t, true)
                }
            } else {
                (0, true)
            };
            let end = self.gen.session_end(i, t);
            // Added sessions are finished: they are "data that appeared between two syncs".
            let mut v = self.render_extra(s, i, t, native, end, i64::MAX);
            if s == Stream::Chats {
                // The chat's (internal) last activity is `t`, like a base chat's.
                if let Some(o) = v.as_object_mut() {
                    o.insert("_mockLastActivity".into(), Value::String(fmt_ts(t, true)));
                }
            }
            if let Ok(rec) = self.make_rec(s, v, false) {
                ids.push(rec.id.clone());
                self.insert(&mut ovs, s, rec);
            }
        }
        ids
    }

    /// Current filter time of a chat (overlay first, then base data).
    pub(crate) fn chat_key(&self, chat_id: &str) -> Option<i64> {
        let s = Stream::Chats;
        if let Some(k) = self.read()[s.idx()].by_id.get(chat_id) {
            return Some(*k);
        }
        let i = self.gen.base_index(s, chat_id)?;
        if self.read()[s.idx()].hidden.contains(&i) {
            return None;
        }
        Some(self.gen.time_of(s, i).0)
    }

    /// Moves a chat's last activity and `lastUserMessageDatetime` to `at`.
    pub(crate) fn touch_chat(&self, chat_id: &str, at: i64) -> bool {
        let s = Stream::Chats;
        let mut ovs = self.write();
        let current = ovs[s.idx()]
            .by_id
            .get(chat_id)
            .and_then(|k| ovs[s.idx()].recs.get(&(*k, chat_id.to_string())))
            .map(|r| r.value.clone());
        let mut value = match current {
            Some(v) => v,
            None => {
                let Some(i) = self.gen.base_index(s, chat_id) else {
                    return false;
                };
                let (t, native) = self.gen.time_of(s, i);
                let mut out = String::new();
                self.gen.write_chat(&mut out, i, t, native, ChatShape::LISTED);
                serde_json::from_str(&out).unwrap_or(Value::Null)
            }
        };
        let millis = at.rem_euclid(1000) != 0;
        if let Some(o) = value.as_object_mut() {
            o.insert("lastUserMessageDatetime".into(), Value::String(fmt_ts(at, millis)));
            if o.contains_key("whatsAppWindowCloseDatetime") {
                o.insert("whatsAppWindowCloseDatetime".into(), Value::String(fmt_ts(at + DAY, millis)));
            }
            o.insert("_mockLastActivity".into(), Value::String(fmt_ts(at, true)));
        }
        match self.make_rec(s, value, false) {
            Ok(rec) => {
                self.insert(&mut ovs, s, rec);
                true
            }
            Err(_) => false,
        }
    }

    /// Creates a session starting at `at` that stays open until [`Store::finish_session`].
    pub(crate) fn open_session(&self, at: i64, now: i64) -> String {
        let s = Stream::Sessions;
        let mut ovs = self.write();
        let i = self.next_extra(&mut ovs, s);
        let native = at.rem_euclid(1000) != 0;
        let v = self.render_extra(s, i, at, native, i64::MAX, now);
        match self.make_rec(s, v, true) {
            Ok(rec) => {
                let id = rec.id.clone();
                self.insert(&mut ovs, s, rec);
                id
            }
            Err(_) => String::new(),
        }
    }

    /// Finishes an open session now (it becomes listable at its start time). True if the id
    /// is a known session (already finished ones included).
    pub(crate) fn finish_session(&self, id: &str, now: i64) -> bool {
        let s = Stream::Sessions;
        let mut ovs = self.write();
        let ov = &mut ovs[s.idx()];
        if let Some(k) = ov.by_id.get(id).copied() {
            if let Some(rec) = ov.recs.get_mut(&(k, id.to_string())) {
                if rec.open {
                    rec.open = false;
                    if let Some(ev) = rec.value.get_mut("events").and_then(Value::as_array_mut) {
                        let close = serde_json::json!({
                            "name": "conversation-close",
                            "creationTime": fmt_ts(now.max(rec.key), true),
                            "info": {"typification": "sin_tipificar"},
                            "sessionId": id,
                        });
                        ev.push(close);
                    }
                    rec.json = serde_json::to_string(&rec.value).unwrap_or_default();
                }
                return true;
            }
        }
        let Some(i) = self.gen.base_index(s, id) else {
            return false;
        };
        let (t, native) = self.gen.time_of(s, i);
        if self.gen.session_end(i, t) <= now {
            return true;
        }
        let mut out = String::new();
        self.gen.write_session(&mut out, i, t, native, now.max(t), now, SessOpts::ALL);
        let v = serde_json::from_str(&out).unwrap_or(Value::Null);
        match self.make_rec(s, v, false) {
            Ok(rec) => {
                self.insert(&mut ovs, s, rec);
                true
            }
            Err(_) => false,
        }
    }
}

fn str_at(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_string)
}

/// The primary key of a record as the connector sees it.
pub(crate) fn primary_key(s: Stream, v: &Value) -> Option<String> {
    let pair = |a: &str, b: &str| Some(format!("{}|{}", str_at(v, &[a])?, str_at(v, &[b])?));
    match s {
        Stream::Chats => str_at(v, &["chat", "chatId"]),
        Stream::WhatsappTemplates => pair("name", "locale"),
        Stream::WhatsappAccounts => str_at(v, &["number"]),
        Stream::AgentMetrics => pair("sessionId", "agentId"),
        Stream::AgentPerformance => pair("agentEmail", "checkin"),
        Stream::NotificationResults => str_at(v, &["notificationInstanceId"]),
        Stream::BilledConversations => str_at(v, &["whatsappConversationId"]),
        Stream::ContactsBlacklist => v.as_str().map(str::to_string),
        _ => str_at(v, &["id"]),
    }
}

/// The field a windowed stream's records are filtered and sorted on.
pub(crate) fn time_field(s: Stream) -> &'static str {
    match s {
        Stream::Calls => "creationDatetime",
        Stream::AgentMetrics => "sessionCreationTime",
        Stream::AgentPerformance => "checkin",
        Stream::NotificationResults => "start",
        Stream::BilledConversations => "startDatetime",
        _ => "creationTime",
    }
}

fn overlay_facets(s: Stream, v: &Value) -> Facets {
    let st = |p: &[&str]| str_at(v, p).unwrap_or_default();
    match s {
        Stream::Chats | Stream::Messages | Stream::Calls | Stream::Sessions => {
            let ch = st(&["chat", "channelId"]);
            Facets {
                chat_id: st(&["chat", "chatId"]),
                platforms: vec![platform_of_channel(&ch).to_string()],
                channel_ids: vec![ch],
                contact_id: st(&["chat", "contactId"]),
                first: st(&["firstName"]),
                last: st(&["lastName"]),
                email: str_at(v, &["email"]),
                never_talked: v.get("lastSessionCreationTime").is_none() && v.get("lastUserMessageDatetime").is_none(),
                ..Default::default()
            }
        }
        Stream::Contacts => {
            let chats = v.get("chats").and_then(Value::as_array);
            let channel_ids: Vec<String> =
                chats.map(|a| a.iter().filter_map(|c| str_at(c, &["chatChannelId"])).collect()).unwrap_or_default();
            Facets {
                platforms: channel_ids.iter().map(|c| platform_of_channel(c).to_string()).collect(),
                channel_ids,
                has_bsuid: v.get("whatsappBsuids").and_then(Value::as_array).is_some_and(|a| !a.is_empty()),
                ..Default::default()
            }
        }
        Stream::Agents => Facets {
            online: v.get("isOnline").and_then(Value::as_bool).unwrap_or(false),
            email: str_at(v, &["email"]),
            ..Default::default()
        },
        Stream::Channels => Facets {
            platforms: vec![st(&["platform"])],
            active: v.get("active").and_then(Value::as_bool).unwrap_or(false),
            ..Default::default()
        },
        Stream::WhatsappTemplates => {
            Facets { state: st(&["state"]), queues: strings_at(v, "allowedQueues"), ..Default::default() }
        }
        Stream::AgentMetrics => {
            Facets { agent_id: st(&["agentId"]), queues: vec![st(&["queue"])], ..Default::default() }
        }
        Stream::AgentPerformance => Facets { queues: strings_at(v, "queue"), ..Default::default() },
        Stream::NotificationResults => Facets { name: st(&["notificationName"]), ..Default::default() },
        Stream::Variables => Facets { tag: st(&["type"]) == "tag", ..Default::default() },
        Stream::Typifications => Facets { queues: strings_at(v, "queues"), ..Default::default() },
        Stream::BilledConversations => Facets { business: st(&["businessId"]), ..Default::default() },
        _ => Facets::default(),
    }
}

/// The strings in the array at `key`.
fn strings_at(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn reformat(v: Option<&mut Value>, millis: bool) {
    if let Some(v) = v {
        if let Some(ms) = v.as_str().and_then(parse_ts) {
            *v = Value::String(fmt_ts(ms, millis));
        }
    }
}

/// A stored session as `/sessions` serves it for the given flags.
pub(crate) fn session_view(v: &Value, opts: SessOpts) -> Value {
    let mut v = v.clone();
    let Some(o) = v.as_object_mut() else {
        return v;
    };
    if !opts.messages {
        o.remove("messages");
    }
    if !opts.events {
        o.remove("events");
    }
    if !opts.ai {
        o.remove("aiAnalysis");
    }
    if !opts.variables {
        if let Some(c) = o.get_mut("chat").and_then(Value::as_object_mut) {
            c.remove("variables");
        }
    }
    if opts.mode != TsMode::Native {
        let millis = opts.mode == TsMode::Millis;
        reformat(o.get_mut("creationTime"), millis);
        if let Some(c) = o.get_mut("chat").and_then(Value::as_object_mut) {
            for k in
                ["creationTime", "lastSessionCreationTime", "whatsAppWindowCloseDatetime", "lastUserMessageDatetime"]
            {
                reformat(c.get_mut(k), millis);
            }
        }
        for list in ["messages", "events"] {
            if let Some(a) = o.get_mut(list).and_then(Value::as_array_mut) {
                for item in a {
                    reformat(item.get_mut("creationTime"), millis);
                }
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MockConfig;
    use crate::time::DAY;

    fn store(scale: u64) -> Store {
        let anchor = 1_780_000_000_000;
        let counts = MockConfig::with_scale(scale).counts_by_index();
        Store::new(Gen::new(42, "http://127.0.0.1:1/v2.0".into(), anchor, 30, &counts))
    }

    fn spec(s: Stream, lo: i64, hi: i64, start: Start, limit: usize) -> PageOut {
        let f = Filter::default();
        let st = store(1000);
        st.page(&PageSpec {
            stream: s,
            lo,
            hi,
            start,
            skip: 0,
            limit,
            filter: &f,
            now: i64::MAX,
            include_open: false,
            sess: SessOpts::EXPECTED,
        })
    }

    #[test]
    fn extreme_cursors_and_ranges_are_harmless() {
        for s in Stream::EVERY {
            for (lo, hi) in [(i64::MIN, i64::MAX), (5, 5), (10, 0), (i64::MAX - 1, i64::MAX)] {
                for start in [
                    Start::Begin,
                    Start::After(i64::MAX, "zzz".into()),
                    Start::After(i64::MIN, String::new()),
                    Start::After(0, "\u{10FFFF}".into()),
                    Start::AtGen(u64::MAX),
                    Start::AtGen(3),
                ] {
                    let p = spec(s, lo, hi, start, 3);
                    assert!(p.n() <= 3);
                }
            }
        }
        let st = store(10);
        assert_eq!(st.count(Stream::Messages, 10, 0, 0), 0);
        let _ = st.seek(Stream::Tickets, 10, 0, 5);
        let _ = st.seek(Stream::Tickets, i64::MIN, i64::MAX, u64::MAX);
    }

    #[test]
    fn generated_times_are_strictly_increasing_and_inside_the_span() {
        let st = store(5000);
        let g = &st.gen;
        for s in [Stream::Chats, Stream::Messages, Stream::Sessions, Stream::Calls, Stream::Tickets] {
            let mut prev = i64::MIN;
            for i in 0..g.n(s) {
                let (t, millis) = g.time_of(s, i);
                assert!(t > prev, "{s} {i}");
                assert!(t >= g.start && t < g.anchor);
                if !millis {
                    assert_eq!(t % 1000, 0);
                }
                prev = t;
            }
            // lower_bound agrees with a linear scan at a few points.
            for k in [g.start, g.start + DAY + 1, g.anchor - 1, g.anchor] {
                let lb = g.lower_bound(s, k);
                assert!((0..lb).all(|i| g.time_of(s, i).0 < k));
                assert!(lb == g.n(s) || g.time_of(s, lb).0 >= k);
            }
        }
    }

    #[test]
    fn ids_map_back_to_their_base_index() {
        let st = store(300);
        let g = &st.gen;
        for s in Stream::EVERY {
            for i in [0, 1, g.n(s).saturating_sub(1)] {
                if i >= g.n(s) {
                    continue;
                }
                assert_eq!(g.base_index(s, &g.id_of(s, i)), Some(i), "{s}");
            }
            assert_eq!(g.base_index(s, "nope"), None);
        }
    }

    #[test]
    fn seek_finds_every_position_with_overlay_and_hidden_records() {
        let st = store(200);
        let s = Stream::Tickets;
        let g = &st.gen;
        // Hide a few base records and add some overlay ones in between.
        let v: Value = {
            let mut out = String::new();
            let (t, m) = g.time_of(s, 10);
            g.write_ticket(&mut out, 10, t + 1, m);
            serde_json::from_str(&out).unwrap()
        };
        st.add_records(s, vec![v]).unwrap();
        st.add_generated(s, 7, g.start, g.anchor);
        let all = st.page(&PageSpec {
            stream: s,
            lo: i64::MIN,
            hi: i64::MAX,
            start: Start::Begin,
            skip: 0,
            limit: usize::MAX,
            filter: &Filter::default(),
            now: 0,
            include_open: false,
            sess: SessOpts::EXPECTED,
        });
        let total = st.count(s, i64::MIN, i64::MAX, 0) as usize;
        assert_eq!(total, all.n());
        for q in 0..total {
            let (start, skip) = st.seek(s, i64::MIN, i64::MAX, q as u64);
            let one = st.page(&PageSpec {
                stream: s,
                lo: i64::MIN,
                hi: i64::MAX,
                start,
                skip,
                limit: 1,
                filter: &Filter::default(),
                now: 0,
                include_open: false,
                sess: SessOpts::EXPECTED,
            });
            let (a, b) = all.spans[q];
            assert_eq!(&one.body, &all.body[a..b], "position {q}");
        }
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use crate::config::MockConfig;

    /// `cargo test -p botmaker-mock --release --lib -- --ignored --nocapture render_speed`
    #[test]
    #[ignore = "benchmark"]
    fn render_speed() {
        let counts = MockConfig::with_scale(1_000_000).counts_by_index();
        let st = Store::new(Gen::new(42, "http://127.0.0.1:1/v2.0".into(), 1_780_000_000_000, 30, &counts));
        for s in [
            Stream::Messages,
            Stream::Chats,
            Stream::Sessions,
            Stream::Calls,
            Stream::Tickets,
            Stream::AgentMetrics,
            Stream::NotificationResults,
            Stream::BilledConversations,
        ] {
            let t = std::time::Instant::now();
            let mut n = 0;
            let mut bytes = 0;
            let mut start = Start::Begin;
            while n < 300_000 {
                let p = st.page(&PageSpec {
                    stream: s,
                    lo: i64::MIN,
                    hi: i64::MAX,
                    start,
                    skip: 0,
                    limit: 1500,
                    filter: &Filter::default(),
                    now: i64::MAX,
                    include_open: false,
                    sess: SessOpts::EXPECTED,
                });
                n += p.n();
                bytes += p.body.len();
                // Streams with fewer records than the target end early.
                let Some((k, id)) = p.last.clone() else {
                    break;
                };
                start = Start::After(k, id);
            }
            let rate = n as f64 / t.elapsed().as_secs_f64();
            println!("{s}: {n} records, {} bytes/record, {rate:.0} records/s", bytes / n);
            // The serving bar: at least ~300k records/s on one core in release builds.
            if !cfg!(debug_assertions) {
                assert!(rate > 300_000.0, "{s}: {rate:.0} records/s");
            }
        }
    }
}
