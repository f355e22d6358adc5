//! Request handling. Control endpoints (`/_mock/…`) aside, every API request passes these
//! stages, each of which may answer it: **auth → route (404/405) → rate limit → scenario →
//! fault → latency → endpoint handler**; then it is recorded in the request log.
//!
//! Handlers are pure reads of the store, so a fault (which replaces or damages a response)
//! never changes what a later successful retry returns.

mod billing;
mod dashboards;
mod endpoints;
mod faults;
mod limits;
mod log;
mod notifications;
mod paging;
mod query;
mod response;
mod scenarios;
mod settings;
mod token;
mod windowed;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use crate::config::{AuthOutcome, FaultConfig, Latency, LoggedRequest, MockConfig, Scenario, Stream, STREAMS};
use crate::rng::Rng;
use crate::store::Store;
use crate::time::now_ms;
use crate::variants::Variants;
use faults::FaultDraw;
use limits::{rate_limit, RateLimiter};
use log::RequestLog;
use query::parse_query;
use response::{err, Out};
pub(crate) use response::{error_body, reason, Reply};
use scenarios::scenario_name;

/// One parsed HTTP request, as the connection layer hands it over.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: String,
    pub target: String,
    pub token: Option<String>,
    pub host: Option<String>,
}

/// Runtime-switchable behaviour.
#[derive(Clone, Debug)]
pub(crate) struct Dynamic {
    pub faults: FaultConfig,
    pub rate_limits: bool,
    pub latency: Latency,
    pub scenarios: [Option<Scenario>; STREAMS],
    pub variants: Arc<Variants>,
}

pub(crate) struct Shared {
    pub cfg: MockConfig,
    pub store: Store,
    pub base_url: String,
    /// Whether nextPage URLs use the request's `Host` header (bound to 0.0.0.0 / ::).
    pub host_from_request: bool,
    pub dynamic: Mutex<Dynamic>,
    limiter: RateLimiter,
    pub log: RequestLog,
    seq: AtomicU64,
    draws: AtomicU64,
}

/// What shapes a handler's answer besides the query: the endpoint's scenario, the host
/// `nextPage` URLs are written for, and the API readings in force.
pub(crate) struct Ctx<'a> {
    pub scenario: Option<&'a Scenario>,
    pub host: Option<&'a str>,
    pub variants: &'a Variants,
}

/// How a request was answered, with what the request log records about it.
struct Answer {
    reply: Reply,
    status: u16,
    items: usize,
    fault: Option<String>,
    /// A 429 from the rate limiter (not an injected one).
    rate_limited: bool,
}

impl Answer {
    fn plain(out: Out) -> Answer {
        Answer { status: out.status, items: 0, fault: None, rate_limited: false, reply: out.into_reply() }
    }
}

/// An API request after routing: its endpoint and decoded query.
struct ApiRequest<'a> {
    req: &'a Req,
    path: &'a str,
    endpoint: Option<Stream>,
    query: &'a [(String, String)],
    auth: AuthOutcome,
}

fn auth_outcome(token: Option<&str>, expected: &str) -> AuthOutcome {
    match token {
        None => AuthOutcome::Missing,
        Some(t) if t == expected => AuthOutcome::Ok,
        Some(t)
            if t.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
                && t.get(7..).map(str::trim) == Some(expected) =>
        {
            AuthOutcome::Bearer
        }
        Some(_) => AuthOutcome::Wrong,
    }
}

/// The endpoint a path below `/v2.0/` names, if any.
fn route(path: &str) -> Option<Stream> {
    path.strip_prefix("/v2.0/").and_then(Stream::from_path)
}

async fn sleep_latency(l: &Latency, extra_ms: u64, r: &mut Rng) {
    let jitter = if l.jitter_ms > 0 { r.below(l.jitter_ms + 1) } else { 0 };
    let total = l.base_ms.saturating_add(jitter).saturating_add(extra_ms);
    if total > 0 {
        tokio::time::sleep(Duration::from_millis(total.min(3_600_000))).await;
    }
}

impl Shared {
    pub(crate) fn new(cfg: MockConfig, store: Store, base_url: String, host_from_request: bool) -> Shared {
        Shared {
            dynamic: Mutex::new(Dynamic {
                faults: cfg.faults,
                rate_limits: cfg.rate_limits,
                latency: cfg.latency,
                scenarios: Default::default(),
                variants: Arc::new(cfg.variants.clone()),
            }),
            cfg,
            store,
            base_url,
            host_from_request,
            limiter: RateLimiter::new(),
            log: RequestLog::default(),
            seq: AtomicU64::new(0),
            draws: AtomicU64::new(0),
        }
    }

    /// A fresh deterministic RNG for one decision (faults, jitter).
    fn draw(&self) -> Rng {
        let d = self.draws.fetch_add(1, Ordering::Relaxed);
        Rng::new(self.cfg.seed, 0xFA17, d)
    }

    fn dynamic_now(&self) -> Dynamic {
        self.dynamic.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records a full LTS read from the start of the span to now would return.
    pub(crate) fn counts_json(&self) -> String {
        let now = now_ms();
        let mut v = serde_json::Map::new();
        for s in Stream::EVERY {
            let n = if s.is_windowed() {
                let (lo, hi) = Store::key_range(s, self.store.gen.start, now.saturating_add(1));
                self.store.count(s, lo, hi, now)
            } else {
                self.store.count(s, i64::MIN, i64::MAX, now)
            };
            v.insert(s.name().into(), n.into());
        }
        Value::Object(v).to_string()
    }

    /// Entry point for every request.
    pub(crate) async fn handle(&self, req: Req) -> Reply {
        let (path, raw_query) = req.target.split_once('?').unwrap_or((req.target.as_str(), ""));
        if path == "/_mock" || path.starts_with("/_mock/") {
            return self.control(&req.method, path);
        }
        let query = parse_query(raw_query);
        let api = ApiRequest {
            req: &req,
            path,
            endpoint: route(path),
            query: &query,
            auth: auth_outcome(req.token.as_deref(), &self.cfg.token),
        };
        let mut entry = LoggedRequest {
            // Numbered on arrival; the log is sorted by it when read.
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            at: Utc::now(),
            method: req.method.clone(),
            path: path.to_string(),
            endpoint: api.endpoint,
            query: query.clone(),
            auth: api.auth,
            status: 0,
            fault: None,
            long_term_search: query::Q(&query).flag("long-term-search"),
            items: 0,
        };
        let answer = self.answer(&api).await;
        entry.status = answer.status;
        entry.items = answer.items;
        entry.fault = answer.fault;
        self.log.record(entry, answer.rate_limited);
        answer.reply
    }

    /// The stages, in order; the first that answers wins.
    async fn answer(&self, api: &ApiRequest<'_>) -> Answer {
        let dynamic = self.dynamic_now();
        let s = match self.admit(api, &dynamic) {
            Ok(s) => s,
            Err(rejected) => {
                sleep_latency(&dynamic.latency, 0, &mut self.draw()).await;
                return rejected;
            }
        };
        let scenario = dynamic.scenarios[s.idx()].clone();
        if let Some(sc) = &scenario {
            if let Some(reply) = scenarios::replacement(sc) {
                sleep_latency(&dynamic.latency, 0, &mut self.draw()).await;
                let status = match &reply {
                    Reply::Full { status, .. } => *status,
                    _ => 0,
                };
                let fault = Some(format!("scenario:{}", scenario_name(sc)));
                return Answer { reply, status, items: 0, fault, rate_limited: false };
            }
        }
        let mut draw = FaultDraw::new(&dynamic.faults, self.draw());
        let extra = draw.extra_delay_ms();
        sleep_latency(&dynamic.latency, extra, &mut draw.rng).await;
        if let Some(f) = draw.replacement(s) {
            return Answer { reply: f.reply, status: f.status, items: 0, fault: Some(f.label), rate_limited: false };
        }
        let host = if self.host_from_request { api.req.host.as_deref() } else { None };
        let cx = Ctx { scenario: scenario.as_ref(), host, variants: &dynamic.variants };
        let out = self.endpoint(s, api.query, &cx);
        let items = out.items;
        if let Some(f) = draw.damage(s, &out) {
            return Answer { reply: f.reply, status: f.status, items, fault: Some(f.label), rate_limited: false };
        }
        let fault = if draw.slow {
            Some("slow".to_string())
        } else {
            scenario.as_ref().map(|sc| format!("scenario:{}", scenario_name(sc)))
        };
        Answer { status: out.status, items, fault, rate_limited: false, reply: out.into_reply() }
    }

    /// Auth, routing and the rate limiter: the endpoint to serve, or the rejection.
    fn admit(&self, api: &ApiRequest, dynamic: &Dynamic) -> Result<Stream, Answer> {
        if api.auth != AuthOutcome::Ok {
            let msg = match api.auth {
                AuthOutcome::Missing => "Missing access-token header.",
                AuthOutcome::Bearer => "Invalid access-token: send the raw token, without a 'Bearer' prefix.",
                _ => "Invalid or expired access-token.",
            };
            return Err(Answer::plain(err(401, "UNAUTHORIZED", "access-token", msg)));
        }
        let Some(s) = api.endpoint else {
            return Err(Answer::plain(err(404, "NOT_FOUND", "path", &format!("No such endpoint: {}", api.path))));
        };
        if api.req.method != "GET" {
            let msg = format!("{} is not supported here; this mock serves GET only", api.req.method);
            return Err(Answer::plain(err(405, "METHOD_NOT_ALLOWED", "method", &msg)));
        }
        if dynamic.rate_limits {
            if let Err(wait) = self.limiter.take(s) {
                let mut o = err(429, "TOO_MANY_REQUESTS", "rate-limit", rate_limit(s).2);
                if self.cfg.rate_limit_retry_after {
                    o.headers.push(("Retry-After".into(), wait.as_secs_f64().ceil().max(1.0).to_string()));
                }
                return Err(Answer { rate_limited: true, ..Answer::plain(o) });
            }
        }
        Ok(s)
    }

    fn control(&self, method: &str, path: &str) -> Reply {
        if method != "GET" {
            return Reply::json(405, error_body("METHOD_NOT_ALLOWED", "method", "control endpoints are GET only"));
        }
        match path {
            "/_mock/health" => Reply::json(200, "{\"status\":\"ok\"}".into()),
            "/_mock/counts" => Reply::json(200, self.counts_json()),
            "/_mock/requests/summary" => Reply::json(200, self.log.summary_json()),
            _ => Reply::json(404, error_body("NOT_FOUND", "path", &format!("No such control endpoint: {path}"))),
        }
    }
}
