//! Injected faults: one deterministic draw per request picks at most one [`Fault`] (their
//! probabilities add up) and, independently, whether the answer is slow.
//!
//! A fault either replaces the response before the handler runs (429, 5xx, reset) or damages
//! the handler's successful body (malformed, cut short). Faults never have side effects, so a
//! successful retry returns exactly what an undisturbed request would.

use serde_json::Value;

use super::limits::rate_limit;
use super::paging::list_key;
use super::response::{error_body, reason, Out, Reply};
use crate::config::{FaultConfig, RetryAfterMode, Stream};
use crate::rng::Rng;
use crate::time::{http_date, now_ms};

/// A fault injected into one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// 429 TOO_MANY_REQUESTS, with or without `Retry-After`.
    TooManyRequests,
    /// 500/502/503/504 with an HTML page or an ErrorResponse.
    ServerError,
    /// The connection is reset without a response.
    Reset,
    /// 200 with truncated JSON, an HTML page or the wrong envelope.
    Malformed,
    /// 200 whose body stops short of its `Content-Length`.
    BodyCut,
}

impl Fault {
    /// The order the single draw is compared against the cumulative probabilities.
    const ORDER: [Fault; 5] =
        [Fault::TooManyRequests, Fault::ServerError, Fault::Reset, Fault::Malformed, Fault::BodyCut];

    fn probability(self, f: &FaultConfig) -> f64 {
        match self {
            Fault::TooManyRequests => f.p_429,
            Fault::ServerError => f.p_5xx,
            Fault::Reset => f.p_reset,
            Fault::Malformed => f.p_malformed,
            Fault::BodyCut => f.p_body_cut,
        }
    }

    /// The name the request log shows (`LoggedRequest::fault`).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Fault::TooManyRequests => "429",
            Fault::ServerError => "5xx",
            Fault::Reset => "reset",
            Fault::Malformed => "malformed",
            Fault::BodyCut => "body_cut",
        }
    }

    /// Whether the fault replaces the response before the handler runs.
    fn replaces_response(self) -> bool {
        matches!(self, Fault::TooManyRequests | Fault::ServerError | Fault::Reset)
    }
}

/// The outcome of one request's fault draw. Its RNG also drives the latency jitter and the
/// details of the chosen fault, in that order.
pub(crate) struct FaultDraw {
    pub fault: Option<Fault>,
    pub slow: bool,
    pub slow_ms: u64,
    pub retry_after: RetryAfterMode,
    pub rng: Rng,
}

/// A response decided by the fault stage, with what the log records about it.
pub(crate) struct Faulted {
    pub reply: Reply,
    pub status: u16,
    pub label: String,
}

impl FaultDraw {
    pub(crate) fn new(f: &FaultConfig, mut rng: Rng) -> FaultDraw {
        let u = rng.unit();
        let slow = f.p_slow > 0.0 && rng.unit() < f.p_slow;
        let mut acc = 0.0;
        let mut fault = None;
        for candidate in Fault::ORDER {
            acc += candidate.probability(f).max(0.0);
            if fault.is_none() && u < acc {
                fault = Some(candidate);
            }
        }
        FaultDraw { fault, slow, slow_ms: f.slow_ms, retry_after: f.retry_after, rng }
    }

    /// Extra delay on top of the configured latency.
    pub(crate) fn extra_delay_ms(&self) -> u64 {
        if self.slow {
            self.slow_ms
        } else {
            0
        }
    }

    fn label(&self, fault: Fault) -> String {
        if self.slow {
            format!("{}+slow", fault.label())
        } else {
            fault.label().to_string()
        }
    }

    /// 429, 5xx or reset instead of the real response.
    pub(crate) fn replacement(&mut self, s: Stream) -> Option<Faulted> {
        let fault = self.fault.filter(|f| f.replaces_response())?;
        let (reply, status) = match fault {
            Fault::TooManyRequests => (self.too_many_requests(s), 429),
            Fault::ServerError => self.server_error(),
            _ => (Reply::Reset, 0),
        };
        Some(Faulted { reply, status, label: self.label(fault) })
    }

    /// A malformed or cut body in place of a successful handler answer.
    pub(crate) fn damage(&mut self, s: Stream, out: &Out) -> Option<Faulted> {
        if out.status != 200 {
            return None;
        }
        let fault = self.fault.filter(|f| matches!(f, Fault::Malformed | Fault::BodyCut))?;
        let reply = match fault {
            Fault::Malformed => self.malformed(s, &out.body),
            _ => self.cut(out.body.as_bytes().to_vec()),
        };
        Some(Faulted { reply, status: 200, label: self.label(fault) })
    }

    fn too_many_requests(&mut self, s: Stream) -> Reply {
        let mode = match self.retry_after {
            RetryAfterMode::Mixed => {
                [RetryAfterMode::None, RetryAfterMode::Seconds, RetryAfterMode::HttpDate][self.rng.below(3) as usize]
            }
            m => m,
        };
        let mut headers = vec![];
        match mode {
            RetryAfterMode::Seconds => headers.push(("Retry-After".into(), "1".into())),
            RetryAfterMode::HttpDate => headers.push(("Retry-After".into(), http_date((now_ms() / 1000 + 2) * 1000))),
            _ => {}
        }
        Reply::Full {
            status: 429,
            content_type: "application/json".into(),
            headers,
            body: error_body("TOO_MANY_REQUESTS", "rate-limit", rate_limit(s).2).into_bytes(),
        }
    }

    fn server_error(&mut self) -> (Reply, u16) {
        let status = [500u16, 502, 503, 504][self.rng.below(4) as usize];
        let reply = if self.rng.pct(50) {
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
        (reply, status)
    }

    /// Truncated JSON, an HTML page, or the items under the wrong envelope key.
    fn malformed(&mut self, s: Stream, body: &str) -> Reply {
        match self.rng.below(3) {
            0 => {
                let mut b = body.as_bytes().to_vec();
                b.truncate((b.len() / 2).max(1));
                Reply::Full { status: 200, content_type: "application/json".into(), headers: vec![], body: b }
            }
            1 => Reply::Full {
                status: 200,
                content_type: "text/html".into(),
                headers: vec![],
                body: b"<html><head><title>Botmaker</title></head><body><p>Service temporarily unavailable. Please try again.</p></body></html>".to_vec(),
            },
            _ => {
                let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                // The records (the whole body where there is no envelope).
                let data = match s {
                    Stream::TicketFieldDefinitions => Some(v),
                    _ => v.get(list_key(s)).cloned(),
                };
                let data = data.unwrap_or(Value::Array(vec![]));
                Reply::json(200, serde_json::json!({ "data": data, "status": "ok" }).to_string())
            }
        }
    }

    fn cut(&mut self, body: Vec<u8>) -> Reply {
        let keep = if body.len() > 1 { 1 + self.rng.below(body.len() as u64 - 1) as usize } else { 0 };
        Reply::Cut { status: 200, content_type: "application/json".into(), body, keep }
    }
}
