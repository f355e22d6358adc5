//! Request handling: auth → rate limit → scenario/fault injection → latency → endpoint handler.
//!
//! Handlers are pure reads of the store, so a fault (which replaces or damages a response)
//! never changes what a later successful retry returns.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{Months, Utc};
use serde_json::Value;

use crate::config::{AuthOutcome, FaultConfig, Latency, LoggedRequest, MockConfig, RetryAfterMode, Scenario, Stream};
use crate::gen::{ref_channel_id, SessOpts};
use crate::json::push_str_lit;
use crate::rng::{b32_decode, b32_encode, hash_bytes, Rng};
use crate::store::{Filter, PageOut, PageSpec, Start, Store};
use crate::time::{fmt_ts, http_date, now_ms, parse_param_ts, to_ms, TsMode, DAY, HOUR};

/// One parsed HTTP request, as the connection layer hands it over.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: String,
    pub target: String,
    pub token: Option<String>,
    pub host: Option<String>,
}

/// What the connection layer must do.
#[derive(Debug)]
pub(crate) enum Reply {
    Full {
        status: u16,
        content_type: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Drop the connection with a TCP reset, no response.
    Reset,
    /// Send headers with the full `Content-Length`, then only `keep` bytes, then close.
    Cut {
        status: u16,
        content_type: String,
        body: Vec<u8>,
        keep: usize,
    },
}

impl Reply {
    fn json(status: u16, body: String) -> Reply {
        Reply::Full { status, content_type: "application/json".into(), headers: vec![], body: body.into_bytes() }
    }
}

/// Runtime-switchable behaviour.
#[derive(Clone, Debug)]
pub(crate) struct Dynamic {
    pub faults: FaultConfig,
    pub rate_limits: bool,
    pub latency: Latency,
    pub scenarios: [Option<Scenario>; 9],
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Default, Debug)]
struct Summary {
    total: u64,
    by_status: BTreeMap<u16, u64>,
    by_endpoint: BTreeMap<&'static str, u64>,
    long_term_search: u64,
    rate_limited: u64,
}

/// Keeps the detailed request log bounded for long-running demo servers.
const MAX_LOG: usize = 1_000_000;

pub(crate) struct Shared {
    pub cfg: MockConfig,
    pub store: Store,
    pub base_url: String,
    /// Whether nextPage URLs use the request's `Host` header (bound to 0.0.0.0 / ::).
    pub host_from_request: bool,
    pub dynamic: Mutex<Dynamic>,
    buckets: Mutex<Vec<Bucket>>,
    pub log: Mutex<Vec<LoggedRequest>>,
    summary: Mutex<Summary>,
    seq: AtomicU64,
    draws: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `(capacity, window)` of each endpoint's token bucket and the spec's 429 sentence.
pub(crate) fn rate_limit(s: Stream) -> (u32, Duration, &'static str) {
    let sec = Duration::from_secs(1);
    match s {
        Stream::Chats => (3, sec, "Only 3 requests per second allowed."),
        Stream::Messages => (5, sec, "Only 5 requests per second allowed."),
        Stream::Sessions => (5, sec, "Only 5 requests per second allowed."),
        Stream::Calls => (5, sec, "Only 5 requests per second allowed."),
        Stream::Contacts => (3, sec, "Only 3 requests per second allowed."),
        Stream::Channels => (1, sec, "Only one request per second allowed."),
        Stream::Intents => (1, sec, "Only one request per second allowed."),
        Stream::Tickets => (60, Duration::from_secs(60), "Only 60 requests per minute allowed."),
        Stream::Agents => (200, sec, "Only 200 requests per second allowed."),
    }
}

/// Page sizes per endpoint (messages: the default of its `limit`).
fn page_size(s: Stream) -> usize {
    match s {
        Stream::Chats => 250,
        Stream::Messages => 1000,
        Stream::Sessions => 500,
        Stream::Calls => 250,
        Stream::Intents => 200,
        Stream::Agents => 100,
        Stream::Contacts => 100,
        Stream::Channels => usize::MAX,
        Stream::Tickets => 50,
    }
}

/// How the last page says "no more": the real API is inconsistent, so the mock is too.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LastPage {
    Null,
    Absent,
    Empty,
}

fn last_page_shape(s: Stream) -> LastPage {
    match s {
        Stream::Chats | Stream::Sessions | Stream::Agents | Stream::Contacts => LastPage::Null,
        Stream::Messages | Stream::Intents => LastPage::Absent,
        Stream::Calls => LastPage::Empty,
        Stream::Channels | Stream::Tickets => LastPage::Absent,
    }
}

pub(crate) fn error_body(typ: &str, source: &str, message: &str) -> String {
    let mut s = String::from("{\"errors\":[{\"type\":");
    push_str_lit(&mut s, typ);
    s.push_str(",\"source\":");
    push_str_lit(&mut s, source);
    s.push_str(",\"message\":");
    push_str_lit(&mut s, message);
    s.push_str("}]}");
    s
}

/// A handler's successful or failed answer, before faults.
struct Out {
    status: u16,
    body: String,
    items: usize,
    headers: Vec<(String, String)>,
}

fn err(status: u16, typ: &str, source: &str, message: &str) -> Out {
    Out { status, body: error_body(typ, source, message), items: 0, headers: vec![] }
}

fn bad_param(source: &str, message: &str) -> Out {
    err(400, "INVALID_PARAMETER", source, message)
}

// ---------------------------------------------------------------------- query strings

fn hexval(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes; `+` stays a literal plus (RFC 3986 query semantics), so unencoded
/// `+03:00` offsets work. Malformed escapes are kept verbatim.
pub(crate) fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (pct_decode(k), pct_decode(v)),
            None => (pct_decode(p), String::new()),
        })
        .collect()
}

struct Q<'a>(&'a [(String, String)]);

impl Q<'_> {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(a, _)| a == k).map(|(_, v)| v.as_str()).collect()
    }
    /// Java `Boolean.parseBoolean`: only "true" (any case) is true.
    fn flag(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
    fn opt_bool(&self, k: &str) -> Option<bool> {
        match self.get(k)?.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
    fn nonempty(&self, k: &str) -> Option<String> {
        self.get(k).filter(|v| !v.is_empty()).map(str::to_string)
    }
    fn int(&self, k: &str, default: i64, min: i64, max: i64) -> Result<i64, Out> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(bad_param(k, &format!("'{k}' must be an integer between {min} and {max}"))),
            },
        }
    }
}

// ---------------------------------------------------------------------- page tokens

/// Opaque paging state carried by nextPage: the first page's clock (so defaults, recent
/// windows and "finished" stay consistent across pages), a duplicate-page flag and the
/// `(key, id)` cursor after which the next page starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub epoch: i64,
    pub again: bool,
    pub cursor: Option<(i64, String)>,
}

impl Token {
    pub(crate) fn encode(&self, seed: u64) -> String {
        let mut p = format!("{}|{}|", self.epoch, self.again as u8);
        match &self.cursor {
            None => p.push('-'),
            Some((k, id)) => p.push_str(&format!("{k}|{id}")),
        }
        let mut bytes = p.into_bytes();
        let h = hash_bytes(seed, &bytes) as u32;
        bytes.extend_from_slice(&h.to_be_bytes());
        b32_encode(&bytes)
    }

    pub(crate) fn decode(s: &str, seed: u64) -> Option<Token> {
        let bytes = b32_decode(s.trim())?;
        if bytes.len() < 5 {
            return None;
        }
        let (p, h) = bytes.split_at(bytes.len() - 4);
        if (hash_bytes(seed, p) as u32).to_be_bytes() != h {
            return None;
        }
        let p = std::str::from_utf8(p).ok()?;
        let mut it = p.splitn(4, '|');
        let epoch = it.next()?.parse().ok()?;
        let again = it.next()? == "1";
        let k = it.next()?;
        let cursor = if k == "-" { None } else { Some((k.parse().ok()?, it.next()?.to_string())) };
        Some(Token { epoch, again, cursor })
    }
}

impl Shared {
    pub(crate) fn new(cfg: MockConfig, store: Store, base_url: String, host_from_request: bool) -> Shared {
        let now = Instant::now();
        let buckets = Stream::ALL.iter().map(|s| Bucket { tokens: rate_limit(*s).0 as f64, last: now }).collect();
        Shared {
            dynamic: Mutex::new(Dynamic {
                faults: cfg.faults,
                rate_limits: cfg.rate_limits,
                latency: cfg.latency,
                scenarios: Default::default(),
            }),
            cfg,
            store,
            base_url,
            host_from_request,
            buckets: Mutex::new(buckets),
            log: Mutex::new(Vec::new()),
            summary: Mutex::new(Summary::default()),
            seq: AtomicU64::new(0),
            draws: AtomicU64::new(0),
        }
    }

    /// A fresh deterministic RNG for one decision (faults, jitter).
    fn draw(&self) -> Rng {
        let d = self.draws.fetch_add(1, Ordering::Relaxed);
        Rng::new(self.cfg.seed, 0xFA17, d)
    }

    /// Token bucket: capacity N refilled continuously at N per window. `Err(wait)` when empty.
    fn take_token(&self, s: Stream) -> Result<(), Duration> {
        let (cap, window, _) = rate_limit(s);
        let rate = cap as f64 / window.as_secs_f64();
        let mut b = lock(&self.buckets);
        let b = &mut b[s.idx()];
        let now = Instant::now();
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(cap as f64);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }

    fn record(&self, e: LoggedRequest, rate_limited: bool) {
        {
            let mut s = lock(&self.summary);
            s.total += 1;
            *s.by_status.entry(e.status).or_default() += 1;
            if let Some(ep) = e.endpoint {
                *s.by_endpoint.entry(ep.name()).or_default() += 1;
            }
            if e.long_term_search {
                s.long_term_search += 1;
            }
            if rate_limited {
                s.rate_limited += 1;
            }
        }
        let mut log = lock(&self.log);
        if log.len() < MAX_LOG {
            log.push(e);
        }
    }

    pub(crate) fn summary_json(&self) -> String {
        let s = lock(&self.summary);
        let mut v = serde_json::Map::new();
        v.insert("total".into(), s.total.into());
        v.insert(
            "by_status".into(),
            Value::Object(s.by_status.iter().map(|(k, n)| (k.to_string(), Value::from(*n))).collect()),
        );
        v.insert(
            "by_endpoint".into(),
            Value::Object(s.by_endpoint.iter().map(|(k, n)| (k.to_string(), Value::from(*n))).collect()),
        );
        v.insert("long_term_search".into(), s.long_term_search.into());
        v.insert("rate_limited".into(), s.rate_limited.into());
        Value::Object(v).to_string()
    }

    pub(crate) fn clear_log(&self) {
        lock(&self.log).clear();
        *lock(&self.summary) = Summary::default();
    }

    /// Records a full LTS read from the start of the span to now would return.
    pub(crate) fn counts_json(&self) -> String {
        let now = now_ms();
        let mut v = serde_json::Map::new();
        for s in Stream::ALL {
            let n = if s.is_windowed() {
                self.store.count(s, self.store.gen.start, now.saturating_add(1), now)
            } else {
                self.store.count(s, i64::MIN, i64::MAX, now)
            };
            v.insert(s.name().into(), n.into());
        }
        Value::Object(v).to_string()
    }

    /// Entry point for every request.
    pub(crate) async fn handle(&self, req: Req) -> Reply {
        let (path, raw_query) = match req.target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (req.target.clone(), String::new()),
        };
        if path == "/_mock" || path.starts_with("/_mock/") {
            return self.control(&req.method, &path);
        }
        let query = parse_query(&raw_query);
        let endpoint = path.strip_prefix("/v2.0/").and_then(|p| p.parse::<Stream>().ok().filter(|s| s.name() == p));
        let lts = Q(&query).flag("long-term-search");
        let auth = match req.token.as_deref() {
            None => AuthOutcome::Missing,
            Some(t) if t == self.cfg.token => AuthOutcome::Ok,
            Some(t)
                if t.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
                    && t.get(7..).map(str::trim) == Some(self.cfg.token.as_str()) =>
            {
                AuthOutcome::Bearer
            }
            Some(_) => AuthOutcome::Wrong,
        };
        let mut entry = LoggedRequest {
            // Numbered on arrival; the log is sorted by it when read.
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            at: Utc::now(),
            method: req.method.clone(),
            path: path.clone(),
            endpoint,
            query: query.clone(),
            auth,
            status: 0,
            fault: None,
            long_term_search: lts,
            items: 0,
        };
        let dynamic = lock(&self.dynamic).clone();

        let early: Option<(Out, bool)> = if auth != AuthOutcome::Ok {
            let msg = match auth {
                AuthOutcome::Missing => "Missing access-token header.",
                AuthOutcome::Bearer => "Invalid access-token: send the raw token, without a 'Bearer' prefix.",
                _ => "Invalid or expired access-token.",
            };
            Some((err(401, "UNAUTHORIZED", "access-token", msg), false))
        } else if endpoint.is_none() {
            Some((err(404, "NOT_FOUND", "path", &format!("No such endpoint: {path}")), false))
        } else if req.method != "GET" {
            Some((
                err(
                    405,
                    "METHOD_NOT_ALLOWED",
                    "method",
                    &format!("{} is not supported here; this mock serves GET only", req.method),
                ),
                false,
            ))
        } else {
            let s = endpoint.unwrap_or(Stream::Chats);
            if dynamic.rate_limits {
                match self.take_token(s) {
                    Ok(()) => None,
                    Err(wait) => {
                        let mut o = err(429, "TOO_MANY_REQUESTS", "rate-limit", rate_limit(s).2);
                        if self.cfg.rate_limit_retry_after {
                            o.headers.push(("Retry-After".into(), wait.as_secs_f64().ceil().max(1.0).to_string()));
                        }
                        Some((o, true))
                    }
                }
            } else {
                None
            }
        };
        if let Some((out, rate_limited)) = early {
            sleep_latency(&dynamic.latency, 0, &mut self.draw()).await;
            entry.status = out.status;
            self.record(entry, rate_limited);
            return Reply::Full {
                status: out.status,
                content_type: "application/json".into(),
                headers: out.headers,
                body: out.body.into_bytes(),
            };
        }
        let s = endpoint.unwrap_or(Stream::Chats);
        let scenario = dynamic.scenarios[s.idx()].clone();

        // Scenarios that replace the response entirely.
        match &scenario {
            Some(Scenario::Fixed { status, content_type, body }) => {
                sleep_latency(&dynamic.latency, 0, &mut self.draw()).await;
                entry.status = *status;
                entry.fault = Some("scenario:fixed".into());
                self.record(entry, false);
                return Reply::Full {
                    status: *status,
                    content_type: content_type.clone(),
                    headers: vec![],
                    body: body.clone().into_bytes(),
                };
            }
            Some(Scenario::Redirect(url)) => {
                sleep_latency(&dynamic.latency, 0, &mut self.draw()).await;
                entry.status = 302;
                entry.fault = Some("scenario:redirect".into());
                self.record(entry, false);
                return Reply::Full {
                    status: 302,
                    content_type: "text/plain".into(),
                    headers: vec![("Location".into(), url.clone())],
                    body: format!("Found. Redirecting to {url}").into_bytes(),
                };
            }
            _ => {}
        }

        // Faults: one draw decides which (if any) replaces the response.
        let f = &dynamic.faults;
        let mut r = self.draw();
        let u = r.unit();
        let slow = f.p_slow > 0.0 && r.unit() < f.p_slow;
        let fault = {
            let mut acc = 0.0;
            let mut pick = None;
            for (name, p) in [
                ("429", f.p_429),
                ("5xx", f.p_5xx),
                ("reset", f.p_reset),
                ("malformed", f.p_malformed),
                ("body_cut", f.p_body_cut),
            ] {
                acc += p.max(0.0);
                if pick.is_none() && u < acc {
                    pick = Some(name);
                }
            }
            pick
        };
        let extra = if slow { f.slow_ms } else { 0 };
        sleep_latency(&dynamic.latency, extra, &mut r).await;
        let fault_label = |name: &str| {
            if slow {
                format!("{name}+slow")
            } else {
                name.to_string()
            }
        };
        match fault {
            Some("429") => {
                let mode = match f.retry_after {
                    RetryAfterMode::Mixed => {
                        [RetryAfterMode::None, RetryAfterMode::Seconds, RetryAfterMode::HttpDate][r.below(3) as usize]
                    }
                    m => m,
                };
                let mut headers = vec![];
                match mode {
                    RetryAfterMode::Seconds => headers.push(("Retry-After".into(), "1".into())),
                    RetryAfterMode::HttpDate => {
                        headers.push(("Retry-After".into(), http_date((now_ms() / 1000 + 2) * 1000)))
                    }
                    _ => {}
                }
                entry.status = 429;
                entry.fault = Some(fault_label("429"));
                self.record(entry, false);
                return Reply::Full {
                    status: 429,
                    content_type: "application/json".into(),
                    headers,
                    body: error_body("TOO_MANY_REQUESTS", "rate-limit", rate_limit(s).2).into_bytes(),
                };
            }
            Some("5xx") => {
                let status = [500u16, 502, 503, 504][r.below(4) as usize];
                let reply = if r.pct(50) {
                    let text = reason(status);
                    Reply::Full {
                        status,
                        content_type: "text/html; charset=UTF-8".into(),
                        headers: vec![],
                        body: format!(
                            "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>Error {status} ({text})</title></head>\
                             <body><h1>{status}. {text}</h1><p>The server encountered a temporary error and could not complete your request.</p>\
                             <p>Please try again in 30 seconds.</p></body></html>\n"
                        )
                        .into_bytes(),
                    }
                } else {
                    Reply::json(
                        status,
                        error_body("INTERNAL_ERROR", "server", "An unexpected error occurred. Please retry later."),
                    )
                };
                entry.status = status;
                entry.fault = Some(fault_label("5xx"));
                self.record(entry, false);
                return reply;
            }
            Some("reset") => {
                entry.status = 0;
                entry.fault = Some(fault_label("reset"));
                self.record(entry, false);
                return Reply::Reset;
            }
            _ => {}
        }

        let host = if self.host_from_request { req.host.clone() } else { None };
        let out = self.endpoint(s, &query, scenario.as_ref(), host.as_deref());
        entry.items = out.items;
        entry.status = out.status;
        match fault {
            Some("malformed") if out.status == 200 => {
                entry.fault = Some(fault_label("malformed"));
                self.record(entry, false);
                match r.below(3) {
                    0 => {
                        let mut b = out.body.into_bytes();
                        b.truncate((b.len() / 2).max(1));
                        Reply::Full {
                            status: 200,
                            content_type: "application/json".into(),
                            headers: vec![],
                            body: b,
                        }
                    }
                    1 => Reply::Full {
                        status: 200,
                        content_type: "text/html".into(),
                        headers: vec![],
                        body: b"<html><head><title>Botmaker</title></head><body><p>Service temporarily unavailable. Please try again.</p></body></html>".to_vec(),
                    },
                    _ => {
                        let v: Value = serde_json::from_str(&out.body).unwrap_or(Value::Null);
                        let data = v
                            .get("items")
                            .or_else(|| v.get("tickets"))
                            .cloned()
                            .unwrap_or(Value::Array(vec![]));
                        Reply::json(200, serde_json::json!({ "data": data, "status": "ok" }).to_string())
                    }
                }
            }
            Some("body_cut") if out.status == 200 => {
                entry.fault = Some(fault_label("body_cut"));
                self.record(entry, false);
                let body = out.body.into_bytes();
                let keep = if body.len() > 1 { 1 + r.below(body.len() as u64 - 1) as usize } else { 0 };
                Reply::Cut { status: 200, content_type: "application/json".into(), body, keep }
            }
            _ => {
                if slow {
                    entry.fault = Some("slow".into());
                } else if let Some(sc) = &scenario {
                    entry.fault = Some(format!("scenario:{}", scenario_name(sc)));
                }
                self.record(entry, false);
                Reply::Full {
                    status: out.status,
                    content_type: "application/json".into(),
                    headers: out.headers,
                    body: out.body.into_bytes(),
                }
            }
        }
    }

    fn control(&self, method: &str, path: &str) -> Reply {
        if method != "GET" {
            return Reply::json(405, error_body("METHOD_NOT_ALLOWED", "method", "control endpoints are GET only"));
        }
        match path {
            "/_mock/health" => Reply::json(200, "{\"status\":\"ok\"}".into()),
            "/_mock/counts" => Reply::json(200, self.counts_json()),
            "/_mock/requests/summary" => Reply::json(200, self.summary_json()),
            _ => Reply::json(404, error_body("NOT_FOUND", "path", &format!("No such control endpoint: {path}"))),
        }
    }

    // ------------------------------------------------------------------ endpoints

    fn endpoint(&self, s: Stream, query: &[(String, String)], scenario: Option<&Scenario>, host: Option<&str>) -> Out {
        let q = Q(query);
        let mut out = match s {
            Stream::Chats | Stream::Messages | Stream::Sessions | Stream::Calls => self.windowed(s, &q, scenario, host),
            Stream::Contacts | Stream::Agents | Stream::Intents => self.listed(s, &q, scenario, host),
            Stream::Channels => self.channels(&q, scenario),
            Stream::Tickets => self.tickets(&q, scenario),
        };
        if out.status == 200 && scenario == Some(&Scenario::WrongTypes) {
            out.body = wrong_types(s, &out.body);
        }
        out
    }

    fn page_token(&self, q: &Q, param: &str) -> Result<Option<Token>, Out> {
        match q.get(param) {
            None | Some("") => Ok(None),
            Some(t) => Token::decode(t, self.cfg.seed).map(Some).ok_or_else(|| bad_param(param, "Invalid page token.")),
        }
    }

    /// chats, messages, sessions, calls: time windows, recent-window rules, URL paging.
    fn windowed(&self, s: Stream, q: &Q, scenario: Option<&Scenario>, host: Option<&str>) -> Out {
        let tok = match self.page_token(q, "page-token") {
            Ok(t) => t,
            Err(e) => return e,
        };
        let now = tok.as_ref().map(|t| t.epoch).unwrap_or_else(now_ms);
        let lts = q.flag("long-term-search");
        let include_open = q.flag("include-open-sessions");

        let mut parsed = [None, None];
        for (k, name) in ["from", "to"].into_iter().enumerate() {
            if let Some(v) = q.get(name) {
                match parse_param_ts(v) {
                    Some(t) => parsed[k] = Some(t),
                    None => {
                        return err(
                            400,
                            "INVALID_DATETIME_FORMAT",
                            name,
                            &format!(
                            "Invalid '{name}' datetime {v:?}: expected ISO-8601 / RFC 3339, e.g. 2021-01-01T00:00:00Z"
                        ),
                        )
                    }
                }
            }
        }
        let mut filter = Filter::default();
        let chat_scoped;
        match s {
            Stream::Chats => {
                filter.channel_id = q.nonempty("channel-id");
                filter.contact_id = q.nonempty("contact-id");
                filter.name = q.nonempty("name");
                filter.emails = q
                    .get("emails")
                    .map(|e| e.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
                    .unwrap_or_default();
                filter.never_talked = q.flag("only-users-never-talked");
                if let Some(c) = &filter.channel_id {
                    if !self.known_channel(c) {
                        return bad_param("channel-id", "Invalid channel id.");
                    }
                }
                if filter.contact_id.is_some() && filter.channel_id.is_none() {
                    return bad_param("contact-id", "'channel-id' is required when searching by 'contact-id'.");
                }
                chat_scoped = false;
            }
            _ => {
                filter.chat_id = q.nonempty("chat-id");
                if filter.chat_id.is_none() {
                    filter.channel_id = q.nonempty("channel-id");
                    filter.contact_id = q.nonempty("contact-id");
                    if filter.channel_id.is_some() != filter.contact_id.is_some() {
                        return bad_param(
                            if filter.channel_id.is_some() { "contact-id" } else { "channel-id" },
                            "'channel-id' and 'contact-id' must be sent together.",
                        );
                    }
                }
                if s == Stream::Messages {
                    if let Some(p) = q.nonempty("chat-platform") {
                        if !CHAT_PLATFORMS.contains(&p.as_str()) {
                            return bad_param("chat-platform", "Invalid chat platform.");
                        }
                        filter.platform = Some(p);
                    }
                }
                chat_scoped = filter.chat_id.is_some() || filter.contact_id.is_some();
            }
        }
        let mut limit = page_size(s);
        if s == Stream::Messages {
            match q.int("limit", 1000, 250, 1500) {
                Ok(n) => limit = n as usize,
                Err(e) => return e,
            }
        }
        let mut sess = SessOpts {
            mode: TsMode::Seconds,
            messages: q.flag("include-messages"),
            events: q.flag("include-events"),
            ai: q.flag("include-ai-analysis"),
            variables: q.flag("include-variables"),
        };
        if s == Stream::Sessions {
            sess.mode = match q.get("timestamp-precision") {
                None => TsMode::Seconds,
                Some(p) if p.eq_ignore_ascii_case("seconds") => TsMode::Seconds,
                Some(p) if p.eq_ignore_ascii_case("milliseconds") => TsMode::Millis,
                Some(_) => {
                    return bad_param(
                        "timestamp-precision",
                        "'timestamp-precision' must be 'seconds' or 'milliseconds'",
                    )
                }
            };
        }

        // Defaults (as documented by the spec), evaluated at the first page's clock.
        let to_default = match s {
            Stream::Messages if lts => now - HOUR,
            Stream::Sessions if !include_open => now - DAY,
            _ => now,
        };
        let to = parsed[1].map(to_ms).unwrap_or(to_default);
        let from = parsed[0].map(to_ms).unwrap_or(match s {
            Stream::Messages if !lts && chat_scoped => now - 90 * DAY,
            Stream::Messages if !lts => now - 3 * DAY,
            _ => to - DAY,
        });
        if from > to {
            return err(400, "INVALID_DATETIME_INTERVAL", "from", "'from' must not be after 'to'");
        }
        let too_long =
            crate::time::from_ms(from).checked_add_months(Months::new(1)).map(|lim| to > to_ms(lim)).unwrap_or(true);
        if too_long && !(s == Stream::Messages && chat_scoped) {
            return err(
                400,
                "INVALID_DATETIME_INTERVAL",
                "from",
                "The difference between 'from' and 'to' cannot be greater than 1 month",
            );
        }
        if s == Stream::Messages && !lts {
            let (days, what) = if chat_scoped { (90, "90 days") } else { (3, "3 days") };
            if from < now - days * DAY {
                return err(
                    400,
                    "LONG_TERM_SEARCH_PARAM_REQUIRED",
                    "long-term-search",
                    &format!("Messages older than {what} can only be listed with long-term-search=true"),
                );
            }
        }
        // Inclusivity differs per endpoint (compared at millisecond precision).
        let (mut lo, hi) = match s {
            Stream::Chats => (from.saturating_add(1), to),
            Stream::Messages => (from, to.saturating_add(1)),
            Stream::Sessions => (from, to),
            _ => (from.saturating_add(1), to.saturating_add(1)),
        };
        if !lts && matches!(s, Stream::Chats | Stream::Sessions | Stream::Calls) {
            // Older records are silently left out without long-term search.
            lo = lo.max(now - 7 * DAY);
        }
        let effective = [("from", fmt_ts(from, true)), ("to", fmt_ts(to, true))];
        self.paged(s, q, tok, now, lo, hi, limit, &filter, include_open, sess, scenario, host, &effective)
    }

    /// Contacts, agents, intents: full lists in index order.
    fn listed(&self, s: Stream, q: &Q, scenario: Option<&Scenario>, host: Option<&str>) -> Out {
        let param = if s == Stream::Contacts { "next-page-token" } else { "page-token" };
        let tok = match self.page_token(q, param) {
            Ok(t) => t,
            Err(e) => return e,
        };
        let now = tok.as_ref().map(|t| t.epoch).unwrap_or_else(now_ms);
        let mut filter = Filter::default();
        match s {
            Stream::Contacts => {
                filter.channel_id = q.nonempty("channel-id");
                filter.platform = q.nonempty("platform");
                filter.has_bsuid = q.flag("has-whastapp-bsuid");
                if filter.channel_id.is_some() && filter.platform.is_some() {
                    return bad_param("platform", "'channel-id' and 'platform' cannot be combined.");
                }
            }
            Stream::Agents => {
                filter.online = q.opt_bool("online");
                filter.emails = q
                    .all("emails")
                    .iter()
                    .flat_map(|e| e.split(','))
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect();
            }
            _ => {}
        }
        self.paged(
            s,
            q,
            tok,
            now,
            i64::MIN,
            i64::MAX,
            page_size(s),
            &filter,
            false,
            SessOpts::EXPECTED,
            scenario,
            host,
            &[],
        )
    }

    /// Serves one page and builds `nextPage` (applying paging scenarios).
    #[allow(clippy::too_many_arguments)]
    fn paged(
        &self,
        s: Stream,
        q: &Q,
        tok: Option<Token>,
        now: i64,
        lo: i64,
        hi: i64,
        limit: usize,
        filter: &Filter,
        include_open: bool,
        sess: SessOpts,
        scenario: Option<&Scenario>,
        host: Option<&str>,
        effective: &[(&str, String)],
    ) -> Out {
        let start_cursor = tok.as_ref().and_then(|t| t.cursor.clone());
        let again = tok.as_ref().is_some_and(|t| t.again);
        let page = self.store.page(&PageSpec {
            stream: s,
            lo,
            hi,
            start: match &start_cursor {
                None => Start::Begin,
                Some((k, id)) => Start::After(*k, id.clone()),
            },
            skip: 0,
            limit,
            filter,
            now,
            include_open,
            sess,
        });
        let after = Token { epoch: now, again: false, cursor: page.last.clone() };
        let same = Token { epoch: now, again: true, cursor: start_cursor.clone() };
        // Which position the next page starts from (None = no next page)...
        let next_tok: Option<&Token> = match scenario {
            Some(Scenario::NextPageLoop) => Some(&same),
            Some(Scenario::DuplicatePages) if !again => Some(&same),
            Some(Scenario::ForeignNextPage(_)) => Some(if page.more { &after } else { &same }),
            _ => page.more.then_some(&after),
        };
        // ...and how it is written: a URL on our base, a foreign URL, junk, or (/contacts) a
        // bare token to be sent back as `next-page-token`.
        let next: Option<String> = match scenario {
            Some(Scenario::NextPageNotUrl) => Some("%%% not a url".into()),
            Some(Scenario::ForeignNextPage(foreign)) => next_tok.map(|t| {
                let url = self.next_url(s, q, t, effective, host);
                let rest = url.strip_prefix("http://").unwrap_or(&url);
                let path = rest.find('/').map(|p| &rest[p..]).unwrap_or("/");
                format!("http://{foreign}{path}")
            }),
            _ if s == Stream::Contacts => next_tok.map(|t| t.encode(self.cfg.seed)),
            _ => next_tok.map(|t| self.next_url(s, q, t, effective, host)),
        };
        let missing = scenario == Some(&Scenario::MissingItems);
        envelope(s, &page, next, missing)
    }

    fn next_url(&self, s: Stream, q: &Q, tok: &Token, effective: &[(&str, String)], host: Option<&str>) -> String {
        let param = if s == Stream::Contacts { "next-page-token" } else { "page-token" };
        let mut url = match host {
            Some(h) => format!("http://{h}/v2.0/{}?", s.name()),
            None => format!("{}/{}?", self.base_url, s.name()),
        };
        let mut first = true;
        let mut push = |url: &mut String, k: &str, v: &str| {
            if !first {
                url.push('&');
            }
            first = false;
            url.push_str(&pct_encode(k));
            url.push('=');
            url.push_str(&pct_encode(v));
        };
        for (k, v) in q.0 {
            if k == param || effective.iter().any(|(e, _)| e == k) {
                continue;
            }
            push(&mut url, k, v);
        }
        for (k, v) in effective {
            push(&mut url, k, v);
        }
        push(&mut url, param, &tok.encode(self.cfg.seed));
        url
    }

    fn known_channel(&self, id: &str) -> bool {
        (0..6).any(|k| ref_channel_id(k) == id) || self.store.gen.channels.iter().any(|c| c.id == id)
    }

    fn channels(&self, q: &Q, scenario: Option<&Scenario>) -> Out {
        let mut filter = Filter::default();
        if let Some(p) = q.nonempty("platform") {
            if !CHAT_PLATFORMS.contains(&p.as_str()) && p != "instagram" {
                return bad_param("platform", "Invalid platform.");
            }
            filter.platform = Some(p);
        }
        filter.active = q.opt_bool("active");
        let page = self.store.page(&PageSpec {
            stream: Stream::Channels,
            lo: i64::MIN,
            hi: i64::MAX,
            start: Start::Begin,
            skip: 0,
            limit: usize::MAX,
            filter: &filter,
            now: now_ms(),
            include_open: false,
            sess: SessOpts::EXPECTED,
        });
        envelope(Stream::Channels, &page, None, scenario == Some(&Scenario::MissingItems))
    }

    fn tickets(&self, q: &Q, scenario: Option<&Scenario>) -> Out {
        let limit = match q.int("limit", 50, 1, 500) {
            Ok(n) => n as usize,
            Err(e) => return e,
        };
        let offset = match q.int("offset", 0, 0, i64::MAX) {
            Ok(n) => n as u64,
            Err(e) => return e,
        };
        let days = match q.int("daysBeforeNow", 60, 1, i32::MAX as i64) {
            Ok(n) => n,
            Err(e) => return e,
        };
        let now = now_ms();
        let lo = now.saturating_sub(days.saturating_mul(DAY));
        let hi = i64::MAX;
        let s = Stream::Tickets;
        let total = self.store.count(s, lo, hi, now);
        let mut page = PageOut::default();
        if offset < total {
            // Newest first: descending positions [offset, offset+limit) are the ascending
            // positions [total-offset-limit, total-offset), reversed.
            let end = total - offset;
            let begin = end.saturating_sub(limit as u64);
            let (start, skip) = self.store.seek(s, lo, hi, begin);
            let asc = self.store.page(&PageSpec {
                stream: s,
                lo,
                hi,
                start,
                skip,
                limit: (end - begin) as usize,
                filter: &Filter::default(),
                now,
                include_open: false,
                sess: SessOpts::EXPECTED,
            });
            for &(a, b) in asc.spans.iter().rev() {
                if !page.body.is_empty() {
                    page.body.push(',');
                }
                let st = page.body.len();
                page.body.push_str(&asc.body[a..b]);
                page.spans.push((st, page.body.len()));
            }
        }
        let mut body = String::with_capacity(page.body.len() + 40);
        body.push_str("{\"total\":");
        body.push_str(&total.to_string());
        if scenario != Some(&Scenario::MissingItems) {
            body.push_str(",\"tickets\":[");
            body.push_str(&page.body);
            body.push(']');
        }
        body.push('}');
        Out { status: 200, body, items: page.n(), headers: vec![] }
    }
}

/// Values accepted by `chat-platform` (the spec's ChatPlatformQueryParam, plus instagram).
const CHAT_PLATFORMS: [&str; 16] = [
    "whatsapp",
    "googlechat",
    "messenger",
    "webchat",
    "voice-text",
    "telegram",
    "msteams",
    "workplace",
    "google-business-messages",
    "twitter",
    "webhook",
    "assistant",
    "skyhub",
    "conversational-web",
    "gmail",
    "instagram",
];

fn envelope(s: Stream, page: &PageOut, next: Option<String>, missing_items: bool) -> Out {
    let mut body = String::with_capacity(page.body.len() + 200);
    body.push('{');
    if !missing_items {
        body.push_str("\"items\":[");
        body.push_str(&page.body);
        body.push(']');
    }
    let sep = |b: &mut String| {
        if b.len() > 1 {
            b.push(',');
        }
    };
    match next {
        Some(url) => {
            sep(&mut body);
            body.push_str("\"nextPage\":");
            push_str_lit(&mut body, &url);
        }
        None if page.n() > 0 || missing_items => match last_page_shape(s) {
            LastPage::Null => {
                sep(&mut body);
                body.push_str("\"nextPage\":null");
            }
            LastPage::Empty => {
                sep(&mut body);
                body.push_str("\"nextPage\":\"\"");
            }
            LastPage::Absent => {}
        },
        None => {}
    }
    body.push('}');
    Out { status: 200, body, items: page.n(), headers: vec![] }
}

fn scenario_name(s: &Scenario) -> &'static str {
    match s {
        Scenario::NextPageLoop => "next_page_loop",
        Scenario::ForeignNextPage(_) => "foreign_next_page",
        Scenario::DuplicatePages => "duplicate_pages",
        Scenario::NextPageNotUrl => "next_page_not_url",
        Scenario::WrongTypes => "wrong_types",
        Scenario::MissingItems => "missing_items",
        Scenario::Redirect(_) => "redirect",
        Scenario::Fixed { .. } => "fixed",
    }
}

/// The WrongTypes scenario: one known field per item gets the wrong JSON type.
fn wrong_types(s: Stream, body: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    let list = if s == Stream::Tickets { "tickets" } else { "items" };
    if let Some(items) = v.get_mut(list).and_then(Value::as_array_mut) {
        for it in items {
            let Some(o) = it.as_object_mut() else {
                continue;
            };
            let (k, val): (&str, Value) = match s {
                Stream::Chats => ("isBanned", "yes".into()),
                Stream::Messages | Stream::Sessions => {
                    let ms = o.get("creationTime").and_then(Value::as_str).and_then(crate::time::parse_ts).unwrap_or(0);
                    ("creationTime", ms.into())
                }
                Stream::Calls => {
                    let ms =
                        o.get("creationDatetime").and_then(Value::as_str).and_then(crate::time::parse_ts).unwrap_or(0);
                    ("creationDatetime", ms.into())
                }
                Stream::Contacts => ("chats", "none".into()),
                Stream::Agents => ("isOnline", "yes".into()),
                Stream::Channels => ("active", "yes".into()),
                Stream::Intents => ("active", "no".into()),
                Stream::Tickets => ("companyId", "ACME".into()),
            };
            o.insert(k.to_string(), val);
        }
    }
    v.to_string()
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

async fn sleep_latency(l: &Latency, extra_ms: u64, r: &mut Rng) {
    let jitter = if l.jitter_ms > 0 { r.below(l.jitter_ms + 1) } else { 0 };
    let total = l.base_ms.saturating_add(jitter).saturating_add(extra_ms);
    if total > 0 {
        tokio::time::sleep(Duration::from_millis(total.min(3_600_000))).await;
    }
}
