//! The request log (every API request, for tests) and its running summary (for
//! `/_mock/requests/summary`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::config::LoggedRequest;

/// Keeps the detailed request log bounded for long-running demo servers.
const MAX_LOG: usize = 1_000_000;

#[derive(Default, Debug)]
struct Summary {
    total: u64,
    by_status: BTreeMap<u16, u64>,
    by_endpoint: BTreeMap<&'static str, u64>,
    long_term_search: u64,
    rate_limited: u64,
}

#[derive(Default)]
pub(crate) struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
    summary: Mutex<Summary>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RequestLog {
    /// Adds one finished request; `rate_limited` marks a 429 from the rate limiter.
    pub(crate) fn record(&self, e: LoggedRequest, rate_limited: bool) {
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
        let mut log = lock(&self.entries);
        if log.len() < MAX_LOG {
            log.push(e);
        }
    }

    /// Every logged request, in arrival order.
    pub(crate) fn entries(&self) -> Vec<LoggedRequest> {
        let mut v = lock(&self.entries).clone();
        v.sort_by_key(|r| r.seq);
        v
    }

    pub(crate) fn clear(&self) {
        lock(&self.entries).clear();
        *lock(&self.summary) = Summary::default();
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
}
