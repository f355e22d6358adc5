//! When and how long to wait before retrying a request.
//!
//! The `backoff` crate (a required dependency of the project, but unmaintained) is used only here, as
//! the generator of jittered exponential delays, so it can be swapped without touching callers.

use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::{ExponentialBackoff, ExponentialBackoffBuilder};
use chrono::{DateTime, Utc};

use crate::settings::RetryPolicy;

/// A fresh delay sequence for one request.
pub(crate) fn delays(policy: &RetryPolicy) -> Delays {
    Delays(
        ExponentialBackoffBuilder::new()
            .with_initial_interval(policy.initial)
            .with_max_interval(policy.max_interval)
            .with_multiplier(2.0)
            .with_randomization_factor(0.5)
            .with_max_elapsed_time(None)
            .build(),
    )
}

/// Jittered, exponentially growing delays.
pub(crate) struct Delays(ExponentialBackoff);

impl Delays {
    pub(crate) fn next_delay(&mut self) -> Duration {
        self.0.next_backoff().unwrap_or(self.0.max_interval)
    }
}

/// Reads a `Retry-After` header: delay-seconds or an HTTP date. Any value is representable
/// (callers compare it with their budget before adding it to anything).
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits beyond u64 mean "a very long time", not "no header".
        return Some(value.parse::<u64>().map_or(Duration::MAX, Duration::from_secs));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_retry_after_forms() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("18446744073709551615", now), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::MAX));
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn delays_grow_with_jitter_and_stay_capped() {
        let policy = RetryPolicy {
            initial: Duration::from_millis(100),
            max_interval: Duration::from_secs(1),
            max_elapsed: Duration::from_secs(10),
        };
        let mut delays = delays(&policy);
        let first = delays.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(150), "{first:?}");
        for _ in 0..20 {
            assert!(delays.next_delay() <= Duration::from_millis(1500));
        }
    }
}
