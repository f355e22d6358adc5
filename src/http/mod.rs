//! All HTTP policy in one place: the token header, timeouts, where the token may go, rate
//! limits, retries and how each failure is classified.

pub mod rate_limit;
pub mod retry;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::buffers::BufferPool;
use crate::config::{is_loopback, Config};
use crate::error::{Error, Result};
use crate::protocol::LogLevel;
use crate::streams::StreamDef;
use rate_limit::RateLimiter;
use retry::{env_u64, parse_retry_after, RetryPolicy};

/// Receives the client's log lines (backoffs), so the caller decides where they go.
pub type LogFn = Arc<dyn Fn(LogLevel, String) + Send + Sync>;

/// How many bytes of an unexpected body an error message quotes.
const BODY_EXCERPT: usize = 160;

/// Counters for progress lines and the end-of-sync summary.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub long_term_searches: AtomicU64,
}

/// Response bodies held in memory at once (being read or parsed). More requests than this can
/// be in flight; their bodies wait in the socket (the kernel's memory, and TCP tells the server
/// to wait) until a slot frees up, so memory stays flat however many requests run. Parsing in
/// turn waits for stdout (see `read::stream::CHUNKS_IN_MEMORY`), so a slow stdout holds the
/// slots and everything behind them.
pub const PAGES_IN_MEMORY: usize = 2;

/// The most a connection's read buffer may grow to. hyper's default (~400 KiB, kept for the
/// connection's life) costs megabytes across a pool of busy connections for no speed: reads of
/// 32 KiB (two TLS records) keep up with any link, and response headers are far smaller
/// (see vendor/README.md).
const CONNECTION_READ_BUFFER: usize = 32 * 1024;

/// The Botmaker API client.
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    token: HeaderValue,
    limiters: HashMap<&'static str, RateLimiter>,
    stats: HashMap<&'static str, Arc<ClientStats>>,
    /// Requests in flight.
    requests: Semaphore,
    /// Page slots: bodies being read or parsed.
    pages: Semaphore,
    /// Response bodies: one per page slot.
    buffers: BufferPool,
    policy: RetryPolicy,
    /// Limit for the response headers, and separately for reading the body.
    timeout: Duration,
    log: LogFn,
}

/// The outcome of one attempt that did not produce a page.
enum Failure {
    /// Worth another try, after `retry_after` if the server said so.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    Fatal(Error),
}

#[derive(Deserialize)]
struct ApiErrors {
    #[serde(default)]
    errors: Vec<ApiErrorItem>,
}

#[derive(Deserialize)]
struct ApiErrorItem {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl ApiClient {
    pub fn new(config: &Config, streams: &[&'static StreamDef], log: LogFn) -> Result<ApiClient> {
        let timeout = Duration::from_secs(env_u64("SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS").unwrap_or(120).max(1));
        let base = config.api_url.clone();
        let origin = base.origin();
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            // Same-origin redirects only: the token header would follow the request elsewhere.
            if attempt.previous().len() >= 5 || attempt.url().origin() != origin {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("source-botmaker/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15).min(timeout))
            .redirect(redirect)
            .tcp_nodelay(true)
            .http1_max_buf_size(CONNECTION_READ_BUFFER)
            .pool_max_idle_per_host(config.max_concurrent_requests as usize);
        for cert in extra_root_certificates()? {
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| Error::system(format!("Could not set up the HTTP client: {e}")))?;
        let mut token = HeaderValue::from_str(config.access_token.expose())
            .map_err(|_| Error::config("The config field `access_token` contains characters that cannot be sent in an HTTP header; paste the token again."))?;
        token.set_sensitive(true);
        // Benchmarks against a mock without limits measure the connector's own cost with
        // `SOURCE_BOTMAKER_CLIENT_RATE_LIMITS=off`; real syncs always pace themselves.
        let pace = !std::env::var("SOURCE_BOTMAKER_CLIENT_RATE_LIMITS").is_ok_and(|v| v.eq_ignore_ascii_case("off"));
        let limiters = if pace {
            streams.iter().map(|s| (s.name, RateLimiter::new(s.rate_limit))).collect()
        } else {
            HashMap::new()
        };
        let stats = streams.iter().map(|s| (s.name, Arc::default())).collect();
        Ok(ApiClient {
            http,
            base,
            token,
            limiters,
            stats,
            requests: Semaphore::new(config.max_concurrent_requests as usize),
            pages: Semaphore::new(PAGES_IN_MEMORY),
            buffers: BufferPool::new(PAGES_IN_MEMORY),
            policy: RetryPolicy::from_env(),
            timeout,
            log,
        })
    }

    /// Request counters of one stream (for the progress display).
    pub fn stats_for(&self, stream: &str) -> Option<Arc<ClientStats>> {
        self.stats.get(stream).cloned()
    }

    /// Request counters summed over all streams.
    pub fn totals(&self) -> ClientStats {
        let total = ClientStats::default();
        for s in self.stats.values() {
            total.requests.fetch_add(s.requests.load(Ordering::Relaxed), Ordering::Relaxed);
            total.retries.fetch_add(s.retries.load(Ordering::Relaxed), Ordering::Relaxed);
            total.long_term_searches.fetch_add(s.long_term_searches.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        total
    }

    /// Replaces the retry timing (`check` wants an answer within seconds).
    pub fn set_retry_policy(&mut self, policy: RetryPolicy) {
        self.policy = policy;
    }

    /// The URL of `stream`'s endpoint with `params`.
    pub fn endpoint_url(&self, stream: &StreamDef, params: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        let path = format!("{}{}", self.base.path().trim_end_matches('/'), stream.path);
        url.set_path(&path);
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Whether `url` may receive the token: same scheme, host and port as `api_url`.
    pub fn check_same_origin(&self, stream: &StreamDef, url: &Url) -> Result<()> {
        if url.origin() == self.base.origin() && (url.scheme() == "https" || is_loopback(url)) {
            return Ok(());
        }
        Err(Error::system(format!(
            "Botmaker's response for stream '{}' pointed the next page at {}, which is not the configured api_url ({}). The connector does not send the access token anywhere else, so the sync stopped; if Botmaker moved its API, update api_url.",
            stream.name,
            describe_origin(url),
            describe_origin(&self.base)
        )))
    }

    /// GETs `url` and hands the body to `decode`, retrying what is worth retrying (including a
    /// body `decode` rejects). `page` says whether the connector built the URL or Botmaker
    /// handed it over as `nextPage`.
    pub async fn fetch_page<R>(
        &self,
        stream: &StreamDef,
        url: &Url,
        page: Page,
        decode: &mut (dyn FnMut(&[u8]) -> std::result::Result<R, String> + Send),
    ) -> Result<R> {
        self.check_same_origin(stream, url)?;
        let what = format!("GET {}", url.path());
        let call = Call { stream, url, what: &what, page };
        let mut delays = self.policy.delays();
        let started = Instant::now();
        let mut attempts = 0u32;
        let limiter = self.limiters.get(stream.name);
        let stats = self.stats.get(stream.name).cloned().unwrap_or_default();
        let uses_lts = url.query_pairs().any(|(k, v)| k == "long-term-search" && v == "true");
        loop {
            attempts += 1;
            if let Some(l) = limiter {
                l.acquire().await;
            }
            stats.requests.fetch_add(1, Ordering::Relaxed);
            if uses_lts {
                stats.long_term_searches.fetch_add(1, Ordering::Relaxed);
            }
            let (reason, retry_after) = match self.attempt(&call, decode).await {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(e)) => return Err(e.with_internal(format!("{what} ({})", url.as_str()))),
                Err(Failure::Retry { reason, retry_after }) => (reason, retry_after),
            };
            let delay = retry_after.unwrap_or_else(|| delays.next_delay());
            let elapsed = started.elapsed();
            if elapsed + delay > self.policy.max_elapsed {
                return Err(Error::transient(format!(
                    "{what} for stream '{}' kept failing for {} over {attempts} attempts (last: {reason}). Botmaker may be down or throttling this token; the next sync resumes from the last checkpoint.",
                    stream.name,
                    human_duration(elapsed)
                ))
                .with_internal(url.as_str().to_string()));
            }
            stats.retries.fetch_add(1, Ordering::Relaxed);
            if let (Some(l), Some(wait)) = (limiter, retry_after) {
                l.hold_off(Instant::now() + wait);
            }
            (self.log)(
                LogLevel::Warn,
                format!(
                    "{what} ({}): {reason}; retrying in {:.1} s (attempt {})",
                    stream.name,
                    delay.as_secs_f64(),
                    attempts + 1
                ),
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt<R>(
        &self,
        call: &Call<'_>,
        decode: &mut (dyn FnMut(&[u8]) -> std::result::Result<R, String> + Send),
    ) -> std::result::Result<R, Failure> {
        let in_flight = self.requests.acquire().await.expect("the request semaphore is never closed");
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert("access-token", self.token.clone());
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        // The two halves of a request are timed separately: waiting for a page slot (when stdout
        // is slow) is backpressure, not a slow server, and must not time the request out.
        let sent = tokio::time::timeout(self.timeout, self.http.get(call.url.clone()).headers(headers).send()).await;
        let response = match sent {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(Failure::Retry { reason: describe_transport_error(&e), retry_after: None }),
            Err(_) => {
                return Err(Failure::Retry {
                    reason: timed_out(self.timeout, "the response headers"),
                    retry_after: None,
                })
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let location =
            response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        // Held until the body has been parsed (the end of this function).
        let _slot = self.pages.acquire().await.expect("the page semaphore is never closed");
        let mut body = self.buffers.take(response.content_length().unwrap_or(64 * 1024).min(16 << 20) as usize);
        let read = tokio::time::timeout(self.timeout, read_body(response, &mut body)).await;
        drop(in_flight);
        let failed = match read {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("HTTP {status} body cut short ({})", describe_transport_error(&e))),
            Err(_) => Some(timed_out(self.timeout, "the response body")),
        };
        if let Some(reason) = failed {
            self.buffers.give(body);
            return Err(Failure::Retry { reason, retry_after: None });
        }
        let answer = Answer { status, body: body.as_slice(), retry_after, location };
        let outcome = if status == StatusCode::OK {
            decode(answer.body).map_err(|why| Failure::Retry {
                reason: format!("unexpected response body ({why}); it starts with: {}", excerpt(answer.body)),
                retry_after: None,
            })
        } else {
            Err(classify(call, &answer, &self.base))
        };
        self.buffers.give(body);
        outcome
    }
}

/// Who produced a page's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The connector built it from the config and the stream's rules.
    First,
    /// Botmaker returned it as `nextPage`.
    Next,
}

/// One page request, for decisions and messages.
struct Call<'a> {
    stream: &'a StreamDef,
    url: &'a Url,
    /// "GET /v2.0/chats".
    what: &'a str,
    page: Page,
}

/// A response other than a parsed page.
struct Answer<'a> {
    status: StatusCode,
    body: &'a [u8],
    retry_after: Option<Duration>,
    location: Option<String>,
}

/// Reads the whole body into `buf`, chunk by chunk (no intermediate copy).
async fn read_body(mut response: reqwest::Response, buf: &mut Vec<u8>) -> reqwest::Result<()> {
    while let Some(chunk) = response.chunk().await? {
        buf.extend_from_slice(&chunk);
    }
    Ok(())
}

/// Decides what a non-200 response means.
fn classify(call: &Call<'_>, answer: &Answer<'_>, base: &Url) -> Failure {
    let (status, body, retry_after, what, stream) =
        (answer.status, answer.body, answer.retry_after, call.what, call.stream);
    let api_message = api_error_text(body);
    let code = status.as_u16();
    match code {
        429 => Failure::Retry { reason: format!("HTTP 429 rate limited{}", suffix(&api_message)), retry_after },
        500..=599 => Failure::Retry { reason: format!("HTTP {status}{}", suffix(&api_message)), retry_after },
        401 | 403 => Failure::Fatal(Error::config(format!(
            "Botmaker rejected the access token (HTTP {code} on {what}): regenerate it in Botmaker under Configuration → Integrations → API and update the source's access_token."
        ))),
        400 if call.page == Page::Next => Failure::Fatal(Error::system(format!(
            "Botmaker refused the next page of stream '{}' (HTTP 400: {}), an address it had returned itself. Retry the sync later; if it persists, report it to Botmaker support.",
            stream.name,
            api_message.as_deref().unwrap_or("no details").trim_end_matches('.')
        ))),
        400 => {
            let detail = api_message.clone().unwrap_or_else(|| format!("no details; body starts with {}", excerpt(body)));
            let detail = detail.trim_end_matches('.');
            let hint = if detail.contains("LONG_TERM_SEARCH_PARAM_REQUIRED") {
                " Enable long_term_search to read this far back, or move start_date into the last few days."
            } else {
                ""
            };
            Failure::Fatal(Error::config(format!("Botmaker refused {what} for stream '{}' (HTTP 400): {detail}.{hint}", stream.name)))
        }
        404 => Failure::Fatal(Error::config(format!(
            "{what} returned 404 Not Found: the list endpoint of stream '{}' does not exist at {base}. Check that api_url points at Botmaker's API v2.0 (default {}).",
            stream.name,
            crate::config::DEFAULT_API_URL
        ))),
        300..=399 => Failure::Fatal(Error::config(format!(
            "{what} was redirected (HTTP {code}) to {}. The connector only follows redirects within api_url's host, so the access token never leaves it; check api_url.",
            answer.location.as_deref().and_then(|l| Url::parse(l).ok()).map(|u| describe_origin(&u)).unwrap_or_else(|| "another location".into())
        ))),
        _ => Failure::Fatal(Error::system(format!(
            "Botmaker answered {what} for stream '{}' with HTTP {status}{}.",
            stream.name,
            suffix(&api_message)
        ))),
    }
}

/// The API's own error text: `errors[].type` and `errors[].message`.
fn api_error_text(body: &[u8]) -> Option<String> {
    let parsed: ApiErrors = serde_json::from_slice(body).ok()?;
    let parts: Vec<String> = parsed
        .errors
        .into_iter()
        .filter_map(|e| match (e.kind, e.message) {
            (Some(k), Some(m)) => Some(format!("{k}: {m}")),
            (Some(k), None) => Some(k),
            (None, Some(m)) => Some(m),
            (None, None) => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn suffix(message: &Option<String>) -> String {
    message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()
}

/// The first bytes of a body, printable, for error messages.
fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".into();
    }
    let cut = &body[..body.len().min(BODY_EXCERPT)];
    let text: String = String::from_utf8_lossy(cut).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("{text:?}{}", if body.len() > BODY_EXCERPT { "…" } else { "" })
}

fn describe_transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "connection broke while reading the body"
    } else if e.is_request() {
        "request failed"
    } else {
        "network error"
    };
    // The source chain says what exactly (reset, refused, DNS); URLs in it carry no token.
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

fn describe_origin(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}", url.scheme()),
        (Some(h), None) => format!("{}://{h}", url.scheme()),
        _ => url.scheme().to_string(),
    }
}

fn timed_out(limit: Duration, what: &str) -> String {
    format!("timed out after {} waiting for {what}", human_duration(limit))
}

/// "3 min 5 s", "12 s".
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Certificates from `SSL_CERT_FILE`, for proxies that re-sign TLS with a corporate CA; the
/// Mozilla roots built into the binary remain trusted.
fn extra_root_certificates() -> Result<Vec<reqwest::Certificate>> {
    let Some(path) = std::env::var_os("SSL_CERT_FILE") else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(&path).map_err(|e| {
        Error::config(format!(
            "SSL_CERT_FILE points at '{}', which cannot be read: {e}.",
            std::path::Path::new(&path).display()
        ))
    })?;
    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        Error::config(format!(
            "SSL_CERT_FILE '{}' does not hold PEM certificates: {e}.",
            std::path::Path::new(&path).display()
        ))
    })
}
