//! Knobs that come from the environment rather than the config: read once, at the edge
//! (`main`), and passed down, so nothing deeper reads the environment.

use std::path::PathBuf;
use std::time::Duration;

/// The longest retry budget (and request timeout) the environment can set: a day.
const MAX_RETRY_BUDGET_SECS: u64 = 24 * 3600;

/// How the connector behaves apart from the config: production defaults, which tests and
/// benchmarks adjust through environment variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Limit for a response's headers, and separately for its body
    /// (`SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS`, default 120, at most a day).
    pub request_timeout: Duration,
    /// Retry timing (`SOURCE_BOTMAKER_RETRY_INITIAL_MS`, at most the 60 s longest delay;
    /// `SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS`, at most a day).
    pub retry: RetryPolicy,
    /// Whether requests are paced at each endpoint's documented rate limit. Only benchmarks
    /// against a mock without limits turn this off (`SOURCE_BOTMAKER_CLIENT_RATE_LIMITS=off`).
    pub client_rate_limits: bool,
    /// The largest response body accepted (`SOURCE_BOTMAKER_MAX_BODY_BYTES`, default 64 MiB,
    /// far above Botmaker's largest pages of about 1 MB).
    pub max_body_bytes: u64,
    /// How much memory the pages in flight may take together, bodies and encoded records
    /// (`SOURCE_BOTMAKER_PAGE_MEMORY_BYTES`, default 3 MiB: two or three of the largest
    /// Botmaker pages, dozens of small ones; a single page larger than the budget still goes,
    /// alone).
    pub page_memory_bytes: u64,
    /// Extra trusted certificates for proxies that re-sign TLS (`SSL_CERT_FILE`).
    pub extra_root_certificates: Option<PathBuf>,
    /// Draw a progress display on stderr (when it is a terminal).
    pub progress: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            request_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            client_rate_limits: true,
            max_body_bytes: 64 << 20,
            page_memory_bytes: 3 << 20,
            extra_root_certificates: None,
            progress: false,
        }
    }
}

impl Settings {
    /// The defaults, adjusted by the environment variables named on each field.
    pub fn from_env() -> Settings {
        Settings::from_lookup(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Settings {
        // Waits and budgets are capped where a clock could not add them (a `Retry-After` of
        // millennia inside a budget of millennia) and where no sync would want more.
        let number = |name: &str| var(name).and_then(|v| v.trim().parse::<u64>().ok());
        let mut settings = Settings::default();
        if let Some(secs) = number("SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS") {
            settings.request_timeout = Duration::from_secs(secs.clamp(1, MAX_RETRY_BUDGET_SECS));
        }
        if let Some(ms) = number("SOURCE_BOTMAKER_RETRY_INITIAL_MS") {
            let longest = settings.retry.max_interval;
            settings.retry.initial = Duration::from_millis(ms.max(1)).min(longest);
            settings.retry.max_interval = longest.min(settings.retry.initial * 64);
        }
        if let Some(secs) = number("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS") {
            settings.retry.max_elapsed = Duration::from_secs(secs.min(MAX_RETRY_BUDGET_SECS));
        }
        if let Some(bytes) = number("SOURCE_BOTMAKER_PAGE_MEMORY_BYTES") {
            settings.page_memory_bytes = bytes.max(64 << 10);
        }
        if let Some(bytes) = number("SOURCE_BOTMAKER_MAX_BODY_BYTES") {
            settings.max_body_bytes = bytes.max(1024);
        }
        settings.client_rate_limits =
            !var("SOURCE_BOTMAKER_CLIENT_RATE_LIMITS").is_some_and(|v| v.eq_ignore_ascii_case("off"));
        settings.extra_root_certificates = var("SSL_CERT_FILE").filter(|v| !v.is_empty()).map(PathBuf::from);
        settings.progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
        settings
    }

    /// `check` should answer within seconds, not retry for a quarter of an hour.
    pub(crate) fn for_check(&self) -> Settings {
        let mut settings = self.clone();
        settings.retry.max_elapsed = settings.retry.max_elapsed.min(Duration::from_secs(20));
        settings.progress = false;
        settings
    }
}

/// Retry timing. The defaults suit production; tests shorten them through `Settings`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// First delay before jitter.
    pub initial: Duration,
    /// Longest single delay.
    pub max_interval: Duration,
    /// Give up once a request has been failing for this long.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(1),
            max_interval: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(15 * 60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_knob_and_ignores_nonsense() {
        let env = [
            ("SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS", "5"),
            ("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20"),
            ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "60"),
            ("SOURCE_BOTMAKER_MAX_BODY_BYTES", "4096"),
            ("SOURCE_BOTMAKER_PAGE_MEMORY_BYTES", "1048576"),
            ("SOURCE_BOTMAKER_CLIENT_RATE_LIMITS", "OFF"),
            ("SSL_CERT_FILE", "/etc/ca.pem"),
        ];
        let s = Settings::from_lookup(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()));
        assert_eq!(s.request_timeout, Duration::from_secs(5));
        assert_eq!(s.retry.initial, Duration::from_millis(20));
        assert_eq!(s.retry.max_interval, Duration::from_millis(1280));
        assert_eq!(s.retry.max_elapsed, Duration::from_secs(60));
        assert_eq!(s.max_body_bytes, 4096);
        assert_eq!(s.page_memory_bytes, 1 << 20);
        assert!(!s.client_rate_limits);
        assert_eq!(s.extra_root_certificates, Some(PathBuf::from("/etc/ca.pem")));
        let s = Settings::from_lookup(|n| (n == "SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS").then(|| "soon".to_string()));
        assert_eq!(s.request_timeout, Settings::default().request_timeout);
        assert!(s.client_rate_limits);
        assert_eq!(Settings::default().for_check().retry.max_elapsed, Duration::from_secs(20));
    }

    #[test]
    fn times_beyond_any_clock_are_capped_not_a_panic() {
        let huge = u64::MAX.to_string();
        let s = Settings::from_lookup(|n| n.starts_with("SOURCE_BOTMAKER_R").then(|| huge.clone()));
        assert_eq!(s.request_timeout, Duration::from_secs(24 * 3600));
        assert_eq!(s.retry.initial, Duration::from_secs(60));
        assert_eq!(s.retry.max_interval, Duration::from_secs(60));
        assert_eq!(s.retry.max_elapsed, Duration::from_secs(24 * 3600));
    }
}
