//! All HTTP policy in one place: the token header, where the token may go, timeouts, the
//! body limit, page permits, rate limits, retries and how each failure is classified.
//!
//! [`ApiClient`] holds what all requests share; an [`Endpoint`] per stream adds its path, its
//! rate limiter and where its signals (requests, retries, waits) go. Nothing here knows about
//! streams, records or state: a page is fetched and handed to the caller's `decode`, and the
//! caller keeps the page's [`PagePermit`] until the page has been written.

pub(crate) mod classify;
pub(crate) mod rate_limit;
pub(crate) mod retry;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, LOCATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::buffers::{self, Buf};
use crate::config::{is_loopback, Config};
use crate::error::{Error, Result};
use crate::settings::Settings;
pub(crate) use classify::Origin;
use classify::{
    classify, describe_origin, describe_transport_error, excerpt, human_bytes, human_duration, Answer, Call, Verdict,
};
use rate_limit::RateLimiter;

/// Redirects within api_url's host followed for one request.
const MAX_REDIRECTS: usize = 5;

/// A request that waited this long for a request slot takes a new turn at its endpoint's pace.
const SLOT_DELAY_THAT_NEEDS_A_NEW_TURN: Duration = Duration::from_millis(20);

/// A wait for the rate limit longer than this is reported to the platform.
const LONG_WAIT: Duration = Duration::from_secs(5);

/// What an endpoint tells its owner while it works.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Signal {
    /// A request is about to be sent.
    Request { long_term_search: bool },
    /// An attempt at `what` ("GET /v2.0/chats") failed and will be retried after `delay`;
    /// `reason` says why.
    Retry { what: String, reason: String, delay: Duration, attempt: u32 },
    /// Requests wait for the rate limit (a 429, or the endpoint's own pace) until `until`.
    RateLimited { until: SystemTime },
    /// The wait is over.
    Resumed,
}

/// Receives an endpoint's signals.
pub(crate) type SignalFn = Arc<dyn Fn(Signal) + Send + Sync>;

/// The right to have one request in flight and to hold its page in memory, until the page has
/// been written. It is taken in two steps, so that memory is not held idle while a request waits
/// for Botmaker (a few hundred milliseconds, which would otherwise let one large page in flight
/// stall every other stream): a request slot (`max_concurrent_requests`) before the request is
/// sent, then, once the response headers are in and before any of the body is read, room in the
/// page memory budget (`Settings::page_memory_bytes`) for twice the announced `Content-Length`
/// (or, without one, what the endpoint's last page took): the body and about as much again for
/// its encoded records. Until that room is free the body stays unread in the connection (hyper
/// reads on only when asked), so bodies never pile up in memory: at most
/// `max_concurrent_requests` responses wait, each holding no more than the connection's read
/// buffer.
#[derive(Debug)]
pub(crate) struct PagePermit {
    _request: OwnedSemaphorePermit,
    _memory: OwnedSemaphorePermit,
}

/// Page memory is reserved in units of this many bytes.
const MEMORY_UNIT: u64 = 4096;

/// What a page is taken to need before its endpoint has sent one: a quarter of a megabyte.
const FIRST_PAGE_ESTIMATE: u64 = 256 << 10;

/// Why a fetch failed.
#[derive(Debug)]
pub(crate) enum Failed {
    /// Botmaker wants `long-term-search=true` on a request sent without it.
    LongTermSearchRequired(Error),
    /// Botmaker refused a link it had handed out (or a saved one); `answer` is what it said
    /// ("HTTP 400: …").
    StaleLink {
        error: Error,
        answer: String,
    },
    Other(Error),
}

impl From<Failed> for Error {
    fn from(f: Failed) -> Error {
        match f {
            Failed::LongTermSearchRequired(e) | Failed::StaleLink { error: e, .. } | Failed::Other(e) => e,
        }
    }
}

impl From<Error> for Failed {
    fn from(e: Error) -> Failed {
        Failed::Other(e)
    }
}

/// What every request shares.
pub(crate) struct ApiClient {
    http: reqwest::Client,
    base: Url,
    token: HeaderValue,
    permits: Arc<Semaphore>,
    /// The page memory budget, in [`MEMORY_UNIT`]s.
    memory: Arc<Semaphore>,
    memory_units: u32,
    settings: Settings,
}

impl ApiClient {
    pub(crate) fn new(config: &Config, settings: &Settings) -> Result<Arc<ApiClient>> {
        let base = config.api_url.clone();
        let origin = base.origin();
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().contains(attempt.url()) {
                attempt.error("a redirect loop")
            } else if attempt.previous().len() > MAX_REDIRECTS {
                // `previous` starts with the first URL, so this is redirect number `len()`.
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if attempt.url().origin() != origin {
                // The token header would follow the request elsewhere.
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("source-botmaker/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15).min(settings.request_timeout))
            .redirect(redirect)
            .tcp_nodelay(true)
            .pool_max_idle_per_host(config.max_concurrent_requests as usize);
        if base.scheme() == "http" {
            // Plain http is only allowed to this machine; a proxy from the environment would
            // see the token in clear text.
            builder = builder.no_proxy();
        }
        for cert in extra_root_certificates(settings)? {
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| Error::system(format!("Could not set up the HTTP client: {e}")))?;
        let mut token = HeaderValue::from_str(config.access_token.expose())
            .map_err(|_| Error::config("The config field `access_token` contains characters that cannot be sent in an HTTP header; paste the token again."))?;
        token.set_sensitive(true);
        Ok(Arc::new(ApiClient {
            http,
            base,
            token,
            permits: Arc::new(Semaphore::new(config.max_concurrent_requests as usize)),
            memory: Arc::new(Semaphore::new(memory_units(settings) as usize)),
            memory_units: memory_units(settings),
            settings: settings.clone(),
        }))
    }

    /// The handle one stream uses for its requests.
    pub(crate) fn endpoint(
        self: &Arc<Self>,
        stream: &'static str,
        path: &'static str,
        rate_limit: (u32, Duration),
        signal: SignalFn,
    ) -> Endpoint {
        let limiter = self.settings.client_rate_limits.then(|| RateLimiter::new(rate_limit.0, rate_limit.1));
        let page_bytes = AtomicU64::new(FIRST_PAGE_ESTIMATE);
        Endpoint { client: self.clone(), stream, path, limiter, signal, page_bytes }
    }

    /// A slot for one more request in flight, once one is free.
    async fn request_slot(&self) -> OwnedSemaphorePermit {
        self.permits.clone().acquire_owned().await.expect("the request semaphore is never closed")
    }

    /// Room for a page of `page_bytes` in the memory budget, once it is free (a page larger than
    /// the whole budget waits until it has the budget to itself).
    async fn page_memory(&self, page_bytes: u64) -> OwnedSemaphorePermit {
        let units = page_bytes.div_ceil(MEMORY_UNIT).clamp(1, u64::from(self.memory_units)) as u32;
        self.memory.clone().acquire_many_owned(units).await.expect("the memory semaphore is never closed")
    }
}

/// The page memory budget in units (at least one page's worth always fits).
fn memory_units(settings: &Settings) -> u32 {
    (settings.page_memory_bytes / MEMORY_UNIT).clamp(1, u64::from(u32::MAX >> 4)) as u32
}

/// One stream's endpoint.
pub(crate) struct Endpoint {
    client: Arc<ApiClient>,
    stream: &'static str,
    path: &'static str,
    limiter: Option<RateLimiter>,
    signal: SignalFn,
    /// What this endpoint's last page took in memory (its body and its encoded records).
    page_bytes: AtomicU64,
}

/// What one attempt came to.
enum Attempt<T> {
    Page(T, PagePermit),
    /// The body was not a page of this endpoint.
    BadBody(String),
    Failed(Verdict),
}

impl Endpoint {
    /// The endpoint's URL with `params`.
    pub(crate) fn url(&self, params: &[(&str, String)]) -> Url {
        let base = &self.client.base;
        let mut url = base.clone();
        url.set_path(&format!("{}{}", base.path().trim_end_matches('/'), self.path));
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Whether `url` may receive the token: same scheme, host and port as `api_url`.
    pub(crate) fn check_link(&self, url: &Url) -> Result<()> {
        let base = &self.client.base;
        if url.origin() == base.origin() && (url.scheme() == "https" || is_loopback(url)) {
            return Ok(());
        }
        Err(Error::system(format!(
            "Botmaker's response for stream '{}' pointed the next page at {}, which is not the configured api_url ({}). The connector does not send the access token anywhere else, so the sync stopped; if Botmaker moved its API, update api_url.",
            self.stream,
            describe_origin(url),
            describe_origin(base)
        )))
    }

    /// GETs `url` and hands the body to `decode`, retrying what is worth retrying: 429s, 5xx,
    /// network faults and bodies `decode` rejects (unless the same rejection comes three times
    /// in a row, which no retry will mend). Returns the decoded page with its permit.
    pub(crate) async fn fetch<T>(
        &self,
        url: &Url,
        origin: Origin,
        decode: &mut (dyn FnMut(&[u8]) -> std::result::Result<T, String> + Send),
    ) -> std::result::Result<(T, PagePermit), Failed> {
        self.check_link(url)?;
        let what = format!("GET {}", url.path());
        let long_term_search = url.query_pairs().any(|(k, v)| k == "long-term-search" && v == "true");
        let call = Call { stream: self.stream, url, what: &what, origin, long_term_search };
        let policy = self.client.settings.retry;
        let mut delays = retry::delays(&policy);
        let started = Instant::now();
        let mut attempts = 0u32;
        let mut same_bad_body = (String::new(), 0u32);
        loop {
            attempts += 1;
            self.wait_for_turn().await;
            let asked = Instant::now();
            let slot = self.client.request_slot().await;
            if asked.elapsed() > SLOT_DELAY_THAT_NEEDS_A_NEW_TURN {
                // It waited for a slot: its turn has passed, and leaving now could bunch it
                // with the requests paced after it. (Waiting for the pace with a slot in hand
                // would keep other streams' requests waiting through a 429's hold-off.)
                self.wait_for_turn().await;
            }
            (self.signal)(Signal::Request { long_term_search });
            let (reason, retry_after, rate_limited) = match self.attempt(&call, slot, decode).await {
                Attempt::Page(value, permit) => return Ok((value, permit)),
                Attempt::Failed(Verdict::Retry { reason, retry_after, rate_limited }) => {
                    (reason, retry_after, rate_limited)
                }
                Attempt::Failed(Verdict::Fatal(e)) => return Err(Failed::Other(e.with_internal(what))),
                Attempt::Failed(Verdict::LongTermSearchRequired(e)) => return Err(Failed::LongTermSearchRequired(e)),
                Attempt::Failed(Verdict::StaleLink { error, answer }) => {
                    return Err(Failed::StaleLink { error, answer })
                }
                Attempt::BadBody(why) => {
                    if same_bad_body.0 == why {
                        same_bad_body.1 += 1;
                    } else {
                        same_bad_body = (why.clone(), 1);
                    }
                    if same_bad_body.1 >= 3 {
                        return Err(Failed::Other(Error::transient(format!(
                            "{what} for stream '{}' returned the same unexpected response body {} times in a row: {why}. Botmaker (or a proxy in between) is not sending this endpoint's pages; retry the sync later, and if it persists report it to Botmaker support.",
                            self.stream, same_bad_body.1
                        ))));
                    }
                    (format!("unexpected response body ({why})"), None, false)
                }
            };
            let elapsed = started.elapsed();
            let budget = policy.max_elapsed.saturating_sub(elapsed);
            let delay = retry_after.unwrap_or_else(|| delays.next_delay());
            if delay > budget {
                let why = match retry_after {
                    Some(wait) => format!(
                        "Botmaker asked to wait {} before retrying, more than the {} left of the retry budget",
                        human_duration(wait),
                        human_duration(budget)
                    ),
                    None => format!("kept failing for {} over {attempts} attempts", human_duration(elapsed)),
                };
                return Err(Failed::Other(
                    Error::transient(format!(
                        "{what} for stream '{}': {why} (last: {reason}). Botmaker may be down or throttling this token.",
                        self.stream
                    ))
                    .with_internal(call.what.to_string()),
                ));
            }
            (self.signal)(Signal::Retry { what: what.clone(), reason, delay, attempt: attempts + 1 });
            if rate_limited {
                if let Some(limiter) = &self.limiter {
                    limiter.hold_off(Instant::now() + delay);
                }
                (self.signal)(Signal::RateLimited { until: SystemTime::now() + delay });
                tokio::time::sleep(delay).await;
                (self.signal)(Signal::Resumed);
            } else {
                tokio::time::sleep(delay).await;
            }
        }
    }

    /// Waits for the endpoint's rate limit; a long wait is reported.
    async fn wait_for_turn(&self) {
        let Some(limiter) = &self.limiter else { return };
        let slot = limiter.reserve();
        let wait = slot.saturating_duration_since(Instant::now());
        if wait > LONG_WAIT {
            (self.signal)(Signal::RateLimited { until: SystemTime::now() + wait });
            tokio::time::sleep_until(slot).await;
            (self.signal)(Signal::Resumed);
        } else {
            tokio::time::sleep_until(slot).await;
        }
    }

    async fn attempt<T>(
        &self,
        call: &Call<'_>,
        slot: OwnedSemaphorePermit,
        decode: &mut (dyn FnMut(&[u8]) -> std::result::Result<T, String> + Send),
    ) -> Attempt<T> {
        let client = &self.client;
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert("access-token", client.token.clone());
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let timeout = client.settings.request_timeout;
        let sent = tokio::time::timeout(timeout, client.http.get(call.url.clone()).headers(headers).send()).await;
        let response = match sent {
            Ok(Ok(r)) => r,
            Ok(Err(e)) if e.is_redirect() => {
                return Attempt::Failed(Verdict::Fatal(Error::config(format!(
                    "{} was redirected in {} on api_url's own host, so no page could be read. Check api_url.",
                    call.what,
                    redirect_problem(&e)
                ))))
            }
            Ok(Err(e)) => return retry(describe_transport_error(&e)),
            Err(_) => return retry(timed_out(timeout, "the response headers")),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, Utc::now()));
        let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        let limit = client.settings.max_body_bytes;
        let page_bytes = match response.content_length() {
            Some(announced) => announced.min(limit).saturating_mul(2),
            None => self.page_bytes.load(Ordering::Relaxed),
        };
        // Waiting for room is not the server's delay, so it does not count against the timeout.
        let memory = client.page_memory(page_bytes).await;
        let permit = PagePermit { _request: slot, _memory: memory };
        let body = match tokio::time::timeout(timeout, read_body(response, limit)).await {
            Ok(Ok(body)) => body,
            Ok(Err(BodyError::TooLarge)) => {
                return Attempt::Failed(Verdict::Fatal(Error::transient(format!(
                    "{} for stream '{}' answered with a body larger than {}, the most a page may hold (SOURCE_BOTMAKER_MAX_BODY_BYTES), so the request was abandoned. Botmaker's pages are about a megabyte; check api_url and any proxy in between.",
                    call.what,
                    call.stream,
                    human_bytes(limit)
                ))))
            }
            Ok(Err(BodyError::Transport(e))) => {
                return retry(format!("HTTP {status} body cut short ({})", describe_transport_error(&e)))
            }
            Err(_) => return retry(timed_out(timeout, "the response body")),
        };
        if status != StatusCode::OK {
            let answer = Answer { status, body: &body, retry_after, location: location.as_deref() };
            return Attempt::Failed(classify(call, &answer, &client.base));
        }
        // A response without a Content-Length reserves what this endpoint's last page took: its
        // body, and about as much again for its encoded records.
        self.page_bytes.store((body.len() as u64 * 2).max(MEMORY_UNIT), Ordering::Relaxed);
        match decode(&body) {
            Ok(value) => Attempt::Page(value, permit),
            Err(why) => Attempt::BadBody(format!("{why}; it starts with: {}", excerpt(&body))),
        }
    }
}

fn retry<T>(reason: String) -> Attempt<T> {
    Attempt::Failed(Verdict::Retry { reason, retry_after: None, rate_limited: false })
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads the whole body, refusing one larger than `limit` bytes as soon as that is known.
async fn read_body(mut response: reqwest::Response, limit: u64) -> std::result::Result<Buf, BodyError> {
    let announced = response.content_length().unwrap_or(0);
    if announced > limit {
        return Err(BodyError::TooLarge);
    }
    let mut body = buffers::take(announced.min(16 << 20) as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn redirect_problem(e: &reqwest::Error) -> String {
    let text = format!("{e:?}");
    if text.contains("redirect loop") {
        "a loop".into()
    } else {
        format!("a chain of more than {MAX_REDIRECTS} redirects")
    }
}

fn timed_out(limit: Duration, what: &str) -> String {
    format!("timed out after {} waiting for {what}", human_duration(limit))
}

/// Certificates from `SSL_CERT_FILE`, for proxies that re-sign TLS with a corporate CA; the
/// Mozilla roots built into the binary remain trusted.
fn extra_root_certificates(settings: &Settings) -> Result<Vec<reqwest::Certificate>> {
    let Some(path) = &settings.extra_root_certificates else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(path).map_err(|e| {
        Error::config(format!("SSL_CERT_FILE points at '{}', which cannot be read: {e}.", path.display()))
    })?;
    reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| Error::config(format!("SSL_CERT_FILE '{}' does not hold PEM certificates: {e}.", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn client_with(max_concurrent_requests: u32, page_memory_bytes: u64, api_url: &str) -> Arc<ApiClient> {
        let config = Config::from_value(
            serde_json::json!({"access_token": "tok-123456", "start_date": "2024-01-01",
                "api_url": api_url, "max_concurrent_requests": max_concurrent_requests}),
            "config.json",
        )
        .unwrap();
        ApiClient::new(&config, &Settings { page_memory_bytes, ..Settings::default() }).unwrap()
    }

    #[tokio::test]
    async fn requests_wait_for_a_slot_and_pages_for_room_in_the_memory_budget() {
        let client = client_with(3, 64 << 10, "http://127.0.0.1:9/v2.0");
        let soon = std::time::Duration::from_millis(50);
        let big = client.page_memory(48 << 10).await;
        assert!(
            tokio::time::timeout(soon, client.page_memory(48 << 10)).await.is_err(),
            "a second large page waits for the budget"
        );
        let small = client.page_memory(8 << 10).await;
        drop(big);
        let second_big = tokio::time::timeout(soon, client.page_memory(48 << 10)).await.expect("room again");
        drop(small);
        let huge = tokio::time::timeout(soon, async {
            drop(second_big);
            client.page_memory(10 << 20).await
        });
        assert!(huge.await.is_ok(), "a page larger than the budget still goes, alone");

        let slots = [client.request_slot().await, client.request_slot().await, client.request_slot().await];
        assert!(tokio::time::timeout(soon, client.request_slot()).await.is_err(), "three requests may be in flight");
        drop(slots);
        assert!(tokio::time::timeout(soon, client.request_slot()).await.is_ok());
    }

    /// A request goes out while the memory budget is full (memory is not held idle while Botmaker
    /// answers); its body is read only once its page has room.
    #[tokio::test]
    async fn a_request_is_sent_while_memory_is_full_and_its_body_waits_for_room() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (asked_tx, asked_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let _ = socket.read(&mut request).await.unwrap();
            asked_tx.send(()).unwrap();
            let body = br#"{"items":[]}"#;
            let head =
                format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: application/json\r\n\r\n", body.len());
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(body).await.unwrap();
            let _ = socket.read(&mut request).await;
        });
        let client = client_with(2, 64 << 10, &format!("http://127.0.0.1:{port}/v2.0"));
        let endpoint = client.endpoint("contacts", "/contacts", (100, Duration::from_secs(1)), Arc::new(|_| {}));
        let full = client.page_memory(64 << 10).await;
        let url = endpoint.url(&[]);
        let fetch = tokio::spawn(async move {
            let mut decode = |body: &[u8]| Ok::<usize, String>(body.len());
            endpoint.fetch(&url, Origin::Built, &mut decode).await.map(|(len, _permit)| len).map_err(|_| ())
        });
        tokio::time::timeout(Duration::from_secs(5), asked_rx).await.expect("sent with the budget full").unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!fetch.is_finished(), "the body waits for room in the budget");
        drop(full);
        let read = tokio::time::timeout(Duration::from_secs(5), fetch).await.expect("read once there is room");
        assert_eq!(read.unwrap(), Ok(12));
    }

    /// An endpoint paced at tickets' 60 per minute, recording its signals.
    fn tickets_endpoint() -> (Endpoint, Arc<Mutex<Vec<Signal>>>) {
        let config = Config::from_value(
            serde_json::json!({"access_token": "tok-123456", "start_date": "2024-01-01", "api_url": "http://127.0.0.1:9/v2.0"}),
            "config.json",
        )
        .unwrap();
        let client = ApiClient::new(&config, &Settings::default()).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let signal: SignalFn = Arc::new(move |s| sink.lock().unwrap().push(s));
        (client.endpoint("tickets", "/tickets", (60, Duration::from_secs(60)), signal), seen)
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_wait_for_the_endpoints_own_limit_is_reported_and_a_short_one_is_not() {
        let (endpoint, seen) = tickets_endpoint();
        let limiter = endpoint.limiter.as_ref().unwrap();
        // Held off (as after a 429 with a long Retry-After on another request of the endpoint).
        let start = Instant::now();
        limiter.hold_off(start + Duration::from_secs(8));
        let wall = SystemTime::now();
        endpoint.wait_for_turn().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(8));
        let signals = std::mem::take(&mut *seen.lock().unwrap());
        match signals.as_slice() {
            [Signal::RateLimited { until }, Signal::Resumed] => {
                let ahead = until.duration_since(wall).unwrap();
                assert!(ahead >= Duration::from_secs(8) && ahead < Duration::from_secs(9), "{ahead:?}");
            }
            other => panic!("expected RateLimited then Resumed, got {other:?}"),
        }
        // The next turns are about a second apart, and a 5 s hold-off is not worth reporting.
        endpoint.wait_for_turn().await;
        limiter.hold_off(Instant::now() + LONG_WAIT);
        endpoint.wait_for_turn().await;
        assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock().unwrap());
    }
}
