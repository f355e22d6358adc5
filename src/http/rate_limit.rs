//! Client-side rate limiting, one limiter per endpoint.
//!
//! Botmaker documents a limit per endpoint ("Only 5 requests per second allowed"). Requests
//! are spaced evenly at that rate, shared by every task that calls the endpoint, so a healthy
//! sync never provokes a 429. When a 429 arrives anyway, [`RateLimiter::hold_off`] pauses the
//! whole endpoint, not just the request that got it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Requests are spaced this much wider than the documented rate: a request that leaves exactly
/// on time can still arrive a millisecond early after its predecessor was delayed in the network.
const JITTER_MARGIN: f64 = 0.025;

/// Spaces requests `per / requests` apart (no bursts), plus a 2.5 % margin for network jitter,
/// which stays under the limit whether the server counts per fixed second, per sliding second or
/// with a token bucket.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Duration,
    next_free: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// At most `requests` per `per`.
    pub(crate) fn new(requests: u32, per: Duration) -> Self {
        let interval = per.mul_f64(1.0 + JITTER_MARGIN) / requests.max(1);
        RateLimiter { interval, next_free: Mutex::new(None) }
    }

    /// Reserves this request's turn: the instant it may start.
    pub(crate) fn reserve(&self) -> Instant {
        let mut next = self.next_free.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        slot
    }

    /// Waits for this request's turn.
    #[cfg(test)]
    async fn acquire(&self) {
        tokio::time::sleep_until(self.reserve()).await;
    }

    /// No request to this endpoint starts before `until`.
    pub(crate) fn hold_off(&self, until: Instant) {
        let mut next = self.next_free.lock().unwrap_or_else(|e| e.into_inner());
        *next = Some(next.map_or(until, |n| n.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_at_the_documented_rate() {
        let limiter = std::sync::Arc::new(RateLimiter::new(5, Duration::from_secs(1)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let l = limiter.clone();
            tasks.push(tokio::spawn(async move {
                l.acquire().await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap() - start);
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            assert_eq!(*t, Duration::from_millis(205) * i as u32);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn hold_off_pauses_the_endpoint() {
        let limiter = RateLimiter::new(60, Duration::from_secs(60));
        let start = Instant::now();
        limiter.hold_off(start + Duration::from_secs(5));
        limiter.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
        limiter.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_millis(6025));
    }
}
