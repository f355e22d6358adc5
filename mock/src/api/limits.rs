//! Per-endpoint rate limits: token buckets with the limits the spec documents.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::Stream;

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
        Stream::Campaigns => (5, sec, "Only 5 requests per second allowed."),
        Stream::NotificationResults | Stream::ContactsBlacklist => (30, sec, "Only 30 requests per second allowed."),
        Stream::TicketFieldDefinitions => (60, Duration::from_secs(60), "Only 60 requests per minute allowed."),
        Stream::WhatsappTemplates
        | Stream::WhatsappAccounts
        | Stream::AgentMetrics
        | Stream::AgentPerformance
        | Stream::Roles
        | Stream::Variables
        | Stream::Typifications
        | Stream::Webhooks
        | Stream::BilledConversations => (1, sec, "Only one request per second allowed."),
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// One token bucket per endpoint: capacity N, refilled continuously at N per window.
pub(crate) struct RateLimiter {
    buckets: Mutex<Vec<Bucket>>,
}

impl RateLimiter {
    /// Every bucket starts full.
    pub(crate) fn new() -> RateLimiter {
        let now = Instant::now();
        let buckets = Stream::EVERY.iter().map(|s| Bucket { tokens: rate_limit(*s).0 as f64, last: now }).collect();
        RateLimiter { buckets: Mutex::new(buckets) }
    }

    /// Takes a token for `s`; `Err(wait)` (until the next token) when the bucket is empty.
    pub(crate) fn take(&self, s: Stream) -> Result<(), Duration> {
        let (cap, window, _) = rate_limit(s);
        let rate = cap as f64 / window.as_secs_f64();
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
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
}
