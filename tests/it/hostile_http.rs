//! Hostile HTTP answers through the real binary: bodies that never end or are far too large,
//! `Retry-After` waits no retry budget can cover, ticket paging that ignores `offset`, proxies
//! from the environment, enormous error messages and same-host redirect loops. Each case must
//! end by itself, in bounded time (and memory, where a body could grow it), with a clear error
//! naming what happened, and with no form or piece of the token in any output ([`guarded`]).
//!
//! Most cases talk to a small hand-written HTTP server on 127.0.0.1 ([`Hostile`]), which can say
//! things the mock never would; the others use the mock with a fixed answer for one endpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use botmaker_mock::{MockConfig, MockServer, Scenario, Stream};
use chrono::{TimeDelta, Utc};
use serde_json::{json, Value};

/// A token with characters that JSON-escaping and percent-encoding change.
const TOKEN: &str = "h0stile-HTTP/t0k+en\"\\-secret";

const MIB: u64 = 1 << 20;

// ------------------------------------------------------------------ a hand-written server

/// What the hand-written server answers to one request. Every answer closes the connection.
#[derive(Clone)]
enum Reply {
    /// A whole response, with its `Content-Length`.
    Whole { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// A chunked body: `head`, then `repeat` `times` times (without end when `None`, until the
    /// client goes away), then `tail`.
    Chunked { status: u16, head: Vec<u8>, repeat: Vec<u8>, times: Option<u64>, tail: Vec<u8> },
    /// A `Content-Length` of `announced`, then `body`, then spaces until the announced length
    /// or until the client goes away.
    Announced { status: u16, announced: u64, body: Vec<u8> },
    /// The reply, after a pause.
    After(Duration, Box<Reply>),
}

impl Reply {
    fn json(status: u16, body: &Value) -> Reply {
        Reply::Whole { status, headers: Vec::new(), body: body.to_string().into_bytes() }
    }

    fn redirect(location: &str) -> Reply {
        Reply::Whole {
            status: 302,
            headers: vec![("Location".into(), location.into())],
            body: format!("Found. Redirecting to {location}").into_bytes(),
        }
    }

    fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Whole { status, mut headers, body } => {
                headers.push((name.into(), value.into()));
                Reply::Whole { status, headers, body }
            }
            other => panic!("headers are only added to whole replies, not {:?}", other.status()),
        }
    }

    fn status(&self) -> u16 {
        match self {
            Reply::Whole { status, .. } | Reply::Chunked { status, .. } | Reply::Announced { status, .. } => *status,
            Reply::After(_, reply) => reply.status(),
        }
    }
}

/// The answer to every request the case does not care about: an empty page.
fn empty_page() -> Reply {
    Reply::json(200, &json!({"items": []}))
}

type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// An HTTP/1.1 server on 127.0.0.1 answering each request with `handler(path_and_query)`. It
/// runs until the test binary exits.
struct Hostile {
    addr: SocketAddr,
    /// The request targets (path and query) in arrival order.
    requests: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        let log = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (handler, log) = (handler.clone(), log.clone());
                std::thread::spawn(move || serve(conn, &handler, &log));
            }
        });
        Hostile { addr, requests }
    }

    fn api_url(&self) -> String {
        format!("http://{}/v2.0", self.addr)
    }

    /// Requests whose path is `path` (e.g. "/v2.0/agents").
    fn count(&self, path: &str) -> usize {
        self.requests.lock().unwrap().iter().filter(|t| t.split('?').next() == Some(path)).count()
    }
}

/// Reads one request's head and writes the handler's reply; any write error (the client went
/// away) ends it.
fn serve(mut conn: TcpStream, handler: &Handler, log: &Mutex<Vec<String>>) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or_default().to_string();
    log.lock().unwrap().push(target.clone());
    let _ = write_reply(&mut conn, &handler(&target));
}

fn write_reply(conn: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let head = |status: u16, extra: &str| {
        format!("HTTP/1.1 {status} Hostile\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n")
    };
    match reply {
        Reply::After(pause, reply) => {
            std::thread::sleep(*pause);
            write_reply(conn, reply)
        }
        Reply::Whole { status, headers, body } => {
            let mut extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
            extra.push_str(&format!("Content-Length: {}\r\n", body.len()));
            conn.write_all(head(*status, &extra).as_bytes())?;
            conn.write_all(body)
        }
        Reply::Chunked { status, head: first, repeat, times, tail } => {
            conn.write_all(head(*status, "Transfer-Encoding: chunked\r\n").as_bytes())?;
            let chunk = |conn: &mut TcpStream, data: &[u8]| -> std::io::Result<()> {
                if data.is_empty() {
                    return Ok(());
                }
                conn.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
                conn.write_all(data)?;
                conn.write_all(b"\r\n")
            };
            chunk(conn, first)?;
            // Many repeats per chunk, so an endless body flows at loopback speed.
            let per_chunk = (64 * 1024 / repeat.len().max(1)).max(1) as u64;
            let block = repeat.repeat(per_chunk as usize);
            let mut sent = 0u64;
            while times.is_none_or(|t| sent < t) {
                let n = times.map_or(per_chunk, |t| (t - sent).min(per_chunk));
                chunk(conn, &block[..n as usize * repeat.len()])?;
                sent += n;
            }
            chunk(conn, tail)?;
            conn.write_all(b"0\r\n\r\n")
        }
        Reply::Announced { status, announced, body } => {
            conn.write_all(head(*status, &format!("Content-Length: {announced}\r\n")).as_bytes())?;
            conn.write_all(body)?;
            let spaces = vec![b' '; 64 * 1024];
            let mut left = announced.saturating_sub(body.len() as u64);
            while left > 0 {
                let n = left.min(spaces.len() as u64) as usize;
                conn.write_all(&spaces[..n])?;
                left -= n as u64;
            }
            Ok(())
        }
    }
}

/// A listener that only counts the connections it is offered and keeps what they send (a
/// proxy that must never be used, or whose use is being observed). It answers nothing and
/// closes each connection after reading its first bytes.
struct Listener {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Listener {
    fn start() -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections: Arc<AtomicUsize> = Arc::default();
        let received: Arc<Mutex<Vec<u8>>> = Arc::default();
        let (count, keep) = (connections.clone(), received.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                conn.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
                let mut buf = [0u8; 4096];
                if let Ok(n) = conn.read(&mut buf) {
                    keep.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                let _ = conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        Listener { addr, connections, received }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

// ------------------------------------------------------------------ running the binary

/// One run: what it printed, its peak memory and how long it took.
struct Outcome {
    run: Run,
    peak_rss: u64,
    took: Duration,
}

/// Runs `read` of `streams` against `api_url` (or `check` when `streams` is empty) under
/// [`guarded`], with `env`.
fn run_against(api_url: &str, streams: &[&str], env: &[(&str, &str)], deadline: Duration) -> Outcome {
    run_with(api_url, &json!({}), streams, env, deadline)
}

/// [`run_against`] with further config fields.
fn run_with(api_url: &str, fields: &Value, streams: &[&str], env: &[(&str, &str)], deadline: Duration) -> Outcome {
    let work = Workdir::new();
    let mut config =
        json!({"access_token": TOKEN, "start_date": "2024-01-01", "api_url": api_url, "long_term_search": true});
    for (k, v) in fields.as_object().unwrap() {
        config[k] = v.clone();
    }
    let config = work.write_json("config.json", &config);
    let mut args: Vec<String> = vec![];
    if streams.is_empty() {
        args.extend(["check".into(), "--config".into(), path_str(&config).into()]);
    } else {
        let cat = work.write_json("catalog.json", &catalog(streams, false));
        args.extend(["read", "--config", path_str(&config), "--catalog", path_str(&cat)].map(String::from));
    }
    let started = Instant::now();
    let (run, peak_rss) = guarded_measured(&args, env, &[TOKEN], deadline).unwrap_or_else(|e| panic!("{e}"));
    Outcome { run, peak_rss, took: started.elapsed() }
}

/// The one TRACE ERROR of `stream`, which must have this failure_type; its message.
fn stream_error(run: &Run, stream: &str, failure_type: &str) -> String {
    let errors = run.errors();
    let own: Vec<_> = errors.iter().filter(|e| e["trace"]["error"]["stream_descriptor"]["name"] == stream).collect();
    let [error] = own.as_slice() else {
        panic!("expected one TRACE ERROR for {stream}, got {}: {errors:?}; logs: {:?}", own.len(), run.logs())
    };
    let error = &error["trace"]["error"];
    assert_eq!(error["failure_type"], failure_type, "{error}");
    assert_eq!(run.code, 1, "a failed read exits 1");
    assert_eq!(run.statuses(stream).last().map(String::as_str), Some("INCOMPLETE"), "{:?}", run.statuses(stream));
    error["message"].as_str().unwrap().to_string()
}

/// The message of a FAILED `check`.
fn check_failure(run: &Run) -> String {
    let status =
        &run.of_type("CONNECTION_STATUS").first().expect("check prints a CONNECTION_STATUS")["connectionStatus"];
    assert_eq!(status["status"], "FAILED", "{status}");
    assert_eq!(run.code, 0, "a FAILED check exits 0");
    status["message"].as_str().unwrap().to_string()
}

fn assert_mentions(message: &str, words: &[&str]) {
    for w in words {
        assert!(message.contains(w), "the message does not mention {w:?}: {message}");
    }
}

fn assert_completed(run: &Run, stream: &str) {
    assert_eq!(run.statuses(stream).last().map(String::as_str), Some("COMPLETE"), "{stream}: {:?}", run.errors());
}

// ------------------------------------------------------------------ response bodies

/// One agent, as a page's item, followed by a comma.
const AGENT: &[u8] = br#"{"id":"agent-1","name":"Ada","email":"ada@example.com","isOnline":true},"#;

/// `{"items":[` and agents until the client leaves: a valid page that never ends.
fn endless_agents() -> Reply {
    Reply::Chunked { status: 200, head: br#"{"items":["#.to_vec(), repeat: AGENT.to_vec(), times: None, tail: vec![] }
}

/// A complete, valid page of agents of about `bytes` bytes, sent chunked (no length announced).
fn agents_page_of(bytes: u64) -> Reply {
    let times = bytes / AGENT.len() as u64;
    Reply::Chunked {
        status: 200,
        head: br#"{"items":["#.to_vec(),
        repeat: AGENT.to_vec(),
        times: Some(times),
        tail: br#"{"id":"agent-last","name":"Zed"}]}"#.to_vec(),
    }
}

/// The body limit most cases set (8 MiB), to keep them fast.
const BODY_LIMIT: &str = "8388608";

#[test]
fn bodies_past_the_limit_are_abandoned_at_once_with_bounded_memory() {
    // What each case answers on /agents; /channels is read beside it and must complete.
    let cases: Vec<(&str, Reply)> = vec![
        ("an endless 200 body of valid items", endless_agents()),
        ("a 1 GiB 200 body of valid items", agents_page_of(1 << 30)),
        (
            "a 100 MB 500 body",
            Reply::Chunked {
                status: 500,
                head: br#"{"errors":[{"type":"INTERNAL","message":""#.to_vec(),
                repeat: b"oops ".to_vec(),
                times: Some(20_000_000),
                tail: br#""}]}"#.to_vec(),
            },
        ),
        ("a Content-Length past the limit", Reply::Announced { status: 200, announced: 9 * MIB, body: vec![] }),
        (
            "an endless body echoing the token",
            Reply::Chunked {
                status: 200,
                head: format!("<html>{}{TOKEN}", "x".repeat(150)).into_bytes(),
                repeat: format!("{TOKEN} ").into_bytes(),
                times: None,
                tail: vec![],
            },
        ),
    ];
    let env = [("SOURCE_BOTMAKER_MAX_BODY_BYTES", BODY_LIMIT)];

    // The same sync with a small page: the memory a run needs anyway.
    let small = Hostile::start(|target| {
        if target.starts_with("/v2.0/agents") {
            let items: Vec<Value> = (0..100).map(|i| json!({"id": format!("agent-{i}"), "name": "Ada"})).collect();
            Reply::json(200, &json!({ "items": items }))
        } else {
            empty_page()
        }
    });
    let baseline = run_against(&small.api_url(), &["agents", "channels"], &env, Duration::from_secs(30));
    assert_eq!(baseline.run.code, 0, "{:?}", baseline.run.errors());
    assert_eq!(baseline.run.records("agents").len(), 100);
    // A body is read into a growing buffer (the old and the new one both held while it grows)
    // and a page's records are encoded beside it: about twice the limit per request, and room
    // for the allocator's rounding. Without the limit, these bodies took gigabytes.
    let bound = baseline.peak_rss + 4 * 8 * MIB;

    for (name, reply) in cases {
        let server =
            Hostile::start(move |target| if target.starts_with("/v2.0/agents") { reply.clone() } else { empty_page() });
        // The default retry budget (15 minutes): the request must not be retried at all.
        let out = run_against(&server.api_url(), &["agents", "channels"], &env, Duration::from_secs(60));
        let message = stream_error(&out.run, "agents", "transient_error");
        assert_mentions(&message, &["GET /v2.0/agents", "'agents'", "larger than 8 MiB", "abandoned"]);
        assert_eq!(server.count("/v2.0/agents"), 1, "{name}: the request was retried");
        assert_completed(&out.run, "channels");
        assert!(out.took < Duration::from_secs(20), "{name}: took {:?}", out.took);
        assert!(
            out.peak_rss <= bound,
            "{name}: peak RSS {} MiB, more than {} MiB (the small sync's {} MiB and four times the limit)",
            out.peak_rss / MIB,
            bound / MIB,
            baseline.peak_rss / MIB
        );
        eprintln!("{name}: {:?}, peak RSS {} MiB: {message}", out.took, out.peak_rss / MIB);
    }
}

/// Several streams meeting endless bodies at once hold at most `max_concurrent_requests` of
/// them in memory: the bound is the limit times the requests in flight, not times the streams.
#[test]
fn endless_bodies_on_every_stream_hold_at_most_the_requests_in_flight() {
    let lists = ["agents", "channels", "contacts", "intents"];
    let env = [("SOURCE_BOTMAKER_MAX_BODY_BYTES", BODY_LIMIT)];
    let fields = json!({"max_concurrent_requests": 2});
    let small = Hostile::start(|_| empty_page());
    let baseline = run_with(&small.api_url(), &fields, &lists, &env, Duration::from_secs(30));
    assert_eq!(baseline.run.code, 0, "{:?}", baseline.run.errors());
    let server = Hostile::start(|_| endless_agents());
    let out = run_with(&server.api_url(), &fields, &lists, &env, Duration::from_secs(60));
    for stream in lists {
        let message = stream_error(&out.run, stream, "transient_error");
        assert_mentions(&message, &[&format!("GET /v2.0/{stream}"), "larger than 8 MiB"]);
    }
    let bound = baseline.peak_rss + 2 * 4 * 8 * MIB;
    assert!(
        out.peak_rss <= bound,
        "peak RSS {} MiB, more than {} MiB (the empty sync's {} MiB and four times the limit per request in flight)",
        out.peak_rss / MIB,
        bound / MIB,
        baseline.peak_rss / MIB
    );
    eprintln!(
        "4 endless streams, 2 requests in flight: peak RSS {} MiB (empty sync {} MiB)",
        out.peak_rss / MIB,
        baseline.peak_rss / MIB
    );
}

/// The limit is 64 MiB unless the environment says otherwise, and a body of exactly the limit
/// is still a page.
#[test]
fn the_default_body_limit_is_64_mib_and_a_body_of_exactly_the_limit_is_read() {
    assert_eq!(source_botmaker::Settings::default().max_body_bytes, 64 * MIB);
    let server = Hostile::start(|target| {
        if target.starts_with("/v2.0/agents") {
            Reply::Announced { status: 200, announced: 64 * MIB + 1, body: vec![] }
        } else {
            empty_page()
        }
    });
    let out = run_against(&server.api_url(), &["agents"], &[], Duration::from_secs(60));
    let message = stream_error(&out.run, "agents", "transient_error");
    assert_mentions(&message, &["GET /v2.0/agents", "larger than 64 MiB", "SOURCE_BOTMAKER_MAX_BODY_BYTES"]);

    let page = br#"{"items":[{"id":"agent-1","name":"Ada"}]}"#.to_vec();
    let server = Hostile::start(move |target| {
        if target.starts_with("/v2.0/agents") {
            Reply::Announced { status: 200, announced: 8 * MIB, body: page.clone() }
        } else {
            empty_page()
        }
    });
    let out = run_against(
        &server.api_url(),
        &["agents"],
        &[("SOURCE_BOTMAKER_MAX_BODY_BYTES", BODY_LIMIT)],
        Duration::from_secs(60),
    );
    assert_eq!(out.run.code, 0, "{:?}", out.run.errors());
    assert_eq!(out.run.records("agents").len(), 1);
}

/// A limit that is not a whole number of MiB is named exactly, not rounded down to "0 MiB".
#[test]
fn a_body_limit_below_a_mebibyte_is_named_exactly() {
    let server =
        Hostile::start(|target| if target.starts_with("/v2.0/agents") { endless_agents() } else { empty_page() });
    let out = run_against(
        &server.api_url(),
        &["agents"],
        &[("SOURCE_BOTMAKER_MAX_BODY_BYTES", "1500")],
        Duration::from_secs(30),
    );
    let message = stream_error(&out.run, "agents", "transient_error");
    assert_mentions(&message, &["GET /v2.0/agents", "larger than 1500 bytes"]);
}

// ------------------------------------------------------------------ Retry-After

/// `Retry-After` values no retry budget covers, some beyond any clock: seconds that fill a u64,
/// seconds beyond it, and a date in year 9999.
const ENDLESS_WAITS: [&str; 3] = ["18446744073709551615", "99999999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"];

/// A 429 or 503 that took more than a second (the budget left is less than the whole), asking
/// for `retry_after`, with the token echoed in the API's message.
fn slow_refusal(status: u16, retry_after: &str) -> Reply {
    let body = json!({"errors": [{"type": "TOO_MANY_REQUESTS", "message": format!("slow down, {TOKEN}")}]});
    Reply::After(
        Duration::from_millis(1200),
        Box::new(Reply::json(status, &body).with_header("Retry-After", retry_after)),
    )
}

#[test]
fn a_retry_after_beyond_the_retry_budget_ends_the_request_at_once_in_read_and_check() {
    for status in [429, 503] {
        for wait in ENDLESS_WAITS {
            let server = Hostile::start(move |target| {
                if target.starts_with("/v2.0/agents") || target.starts_with("/v2.0/channels") {
                    slow_refusal(status, wait)
                } else {
                    empty_page()
                }
            });
            let case = format!("HTTP {status} with Retry-After: {wait}");
            // The default budget of 15 minutes: nothing may wait it out.
            let read = run_against(&server.api_url(), &["agents"], &[], Duration::from_secs(30));
            let message = stream_error(&read.run, "agents", "transient_error");
            assert_mentions(&message, &["GET /v2.0/agents", "asked to wait more than a year", "retry budget"]);
            assert_eq!(server.count("/v2.0/agents"), 1, "{case}: retried");
            assert!(read.took < Duration::from_secs(10), "{case}: read took {:?}", read.took);

            let check = run_against(&server.api_url(), &[], &[], Duration::from_secs(30));
            let message = check_failure(&check.run);
            assert_mentions(&message, &["asked to wait more than a year", "retry budget"]);
            assert_eq!(server.count("/v2.0/channels"), 1, "{case}: check retried");
            assert!(check.took < Duration::from_secs(10), "{case}: check took {:?}", check.took);
        }
    }
}

/// Retry timing from the environment as long as a u64 of seconds or milliseconds, and a
/// `Retry-After` of 30,000 years inside that budget: the environment's budget is capped at a
/// day, so the request ends at once instead of waiting millennia (or panicking on a clock that
/// cannot add the wait, or on a first delay that cannot be multiplied).
#[test]
fn retry_timing_beyond_any_clock_is_capped_not_a_panic() {
    let server = Hostile::start(|target| {
        if target.starts_with("/v2.0/agents") || target.starts_with("/v2.0/channels") {
            slow_refusal(429, "1000000000000")
        } else {
            empty_page()
        }
    });
    let env = [
        ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "18446744073709551615"),
        ("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "18446744073709551615"),
        ("SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS", "18446744073709551615"),
    ];
    let read = run_against(&server.api_url(), &["agents"], &env, Duration::from_secs(30));
    let message = stream_error(&read.run, "agents", "transient_error");
    assert_mentions(&message, &["GET /v2.0/agents", "asked to wait", "retry budget"]);
    let check = run_against(&server.api_url(), &[], &env, Duration::from_secs(30));
    assert_mentions(&check_failure(&check.run), &["asked to wait", "retry budget"]);
}

// ------------------------------------------------------------------ ticket paging

/// A mock with the hostile token, rate limits off and a little of everything.
fn mock() -> MockServer {
    let mut cfg = MockConfig::with_scale(50);
    cfg.token = TOKEN.to_string();
    cfg.rate_limits = false;
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    MockServer::start(cfg).unwrap()
}

fn fixed(status: u16, body: String) -> Scenario {
    Scenario::Fixed { status, content_type: "application/json".into(), body }
}

/// `read` of `streams` against `mock`, from `start_date`, with quick retries.
fn read_mock(mock: &MockServer, start_date: &str, streams: &[&str], env: &[(&str, &str)]) -> Result<Run, String> {
    let work = Workdir::new();
    let config = work.write_json(
        "config.json",
        &json!({"access_token": TOKEN, "start_date": start_date, "api_url": mock.base_url(), "long_term_search": true}),
    );
    let cat = work.write_json("catalog.json", &catalog(streams, true));
    let args = ["read", "--config", path_str(&config), "--catalog", path_str(&cat)].map(String::from);
    guarded(&args, env, &[TOKEN], Duration::from_secs(60))
}

/// /tickets pages with limit and offset; an API that ignores `offset` serves its first page
/// for ever. Whatever `total` says (nothing, a float, a number paging could only reach after
/// 50 billion pages), whatever the tickets' times (inside the span read or outside it) and even
/// without ids, the stream must end with a system_error after a few pages while the others
/// complete, having emitted each ticket at most once.
#[test]
fn tickets_paging_that_ignores_offset_ends_with_a_system_error() {
    let recent = (Utc::now() - TimeDelta::hours(3)).to_rfc3339();
    let tickets = |created: &str, with_ids: bool| -> Vec<Value> {
        (0..20)
            .map(|i| {
                let mut t = json!({"creationTime": created, "subject": format!("ticket {i}")});
                if with_ids {
                    t["id"] = json!(format!("ticket-{i}"));
                }
                t
            })
            .collect()
    };
    let cases: Vec<(&str, Value)> = vec![
        ("no total", json!({"tickets": tickets(&recent, true)})),
        ("total 1e12 (a float)", json!({"tickets": tickets(&recent, true), "total": 1e12})),
        ("total 10^12", json!({"tickets": tickets(&recent, true), "total": 1_000_000_000_000u64})),
        ("total \"10^12\" (a string)", json!({"tickets": tickets(&recent, true), "total": "1000000000000"})),
        ("tickets older than the span read", json!({"tickets": tickets("2001-01-01T00:00:00Z", true)})),
        ("tickets without ids", json!({"tickets": tickets(&recent, false), "total": 1_000_000_000_000u64})),
    ];
    let start_date = (Utc::now() - TimeDelta::days(10)).format("%Y-%m-%d").to_string();
    let mut failures = Vec::new();
    for (name, body) in cases {
        let mock = mock();
        mock.set_scenario(Stream::Tickets, Some(fixed(200, body.to_string())));
        let started = Instant::now();
        let run = match read_mock(&mock, &start_date, &["tickets", "agents"], &FAST_RETRIES) {
            Ok(run) => run,
            Err(e) => {
                let requests = mock.requests().iter().filter(|r| r.endpoint == Some(Stream::Tickets)).count();
                failures.push(format!("{name}: {e} ({requests} /tickets requests)"));
                continue;
            }
        };
        let requests = mock.requests().iter().filter(|r| r.endpoint == Some(Stream::Tickets)).count();
        let errors = run.errors();
        let own: Vec<_> =
            errors.iter().filter(|e| e["trace"]["error"]["stream_descriptor"]["name"] == "tickets").collect();
        let verdict = match own.as_slice() {
            [e] if e["trace"]["error"]["failure_type"] == "system_error" => {
                let message = e["trace"]["error"]["message"].as_str().unwrap_or_default();
                if !message.contains("same tickets") || !message.contains("offset") {
                    Err(format!("the message does not say the pages repeat: {message}"))
                } else if run.records("tickets").len() > 20 {
                    Err(format!("{} tickets emitted from 20 (repeats)", run.records("tickets").len()))
                } else if requests > 6 {
                    Err(format!("{requests} requests before stopping"))
                } else if run.statuses("agents").last().map(String::as_str) != Some("COMPLETE") {
                    Err(format!("agents did not complete: {:?}", run.statuses("agents")))
                } else if run.code != 1 {
                    Err(format!("exit {}", run.code))
                } else {
                    eprintln!("{name}: {requests} requests, {:?}: {message}", started.elapsed());
                    Ok(())
                }
            }
            _ => Err(format!(
                "expected one system_error for tickets, got {own:?} (exit {}, {requests} requests)",
                run.code
            )),
        };
        if let Err(why) = verdict {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// An empty /tickets page while the same answer's `total` says more remain must not end the
/// list as if it were read: the tickets past that offset would never be read (the cursor moves
/// past them). The stream fails, its state stays where it was, the others complete.
#[test]
fn an_empty_tickets_page_short_of_the_total_fails_the_stream_instead_of_ending_it() {
    let mock = mock();
    mock.set_scenario(Stream::Tickets, Some(fixed(200, json!({"tickets": [], "total": 50}).to_string())));
    let start_date = (Utc::now() - TimeDelta::days(10)).format("%Y-%m-%d").to_string();
    let run = read_mock(&mock, &start_date, &["tickets", "agents"], &FAST_RETRIES).unwrap();
    let errors = run.errors();
    let own: Vec<_> = errors.iter().filter(|e| e["trace"]["error"]["stream_descriptor"]["name"] == "tickets").collect();
    match own.as_slice() {
        [e] => {
            assert_eq!(e["trace"]["error"]["failure_type"], "transient_error", "{e}");
            let message = e["trace"]["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("no tickets at offset 0") && message.contains("50"), "{message}");
        }
        other => panic!("expected one error for tickets, got {other:?}"),
    }
    assert!(run.states("tickets").is_empty(), "tickets checkpointed: {:?}", run.states("tickets"));
    assert_eq!(run.statuses("agents").last().map(String::as_str), Some("COMPLETE"));
    assert_eq!(run.code, 1);
}

/// A resumable list checkpoints the next page's link; a link that carries the access token must
/// not be saved in the state (a STATE is output like any other message).
#[test]
fn a_next_page_link_carrying_the_token_is_not_saved_in_the_state() {
    let mock = mock();
    let encoded: String = url::form_urlencoded::byte_serialize(TOKEN.as_bytes()).collect();
    let next = format!("{}/contacts?page=2&token={encoded}", mock.base_url());
    let body = json!({"items": [{"id": "c1", "firstName": "Ana"}], "nextPage": next});
    mock.set_scenario(Stream::Contacts, Some(fixed(200, body.to_string())));
    let start_date = (Utc::now() - TimeDelta::days(10)).format("%Y-%m-%d").to_string();
    // The same page comes back for the link, so the list ends in a loop error; what matters is
    // that no output, the STATEs included, carries the token.
    let run = read_mock(&mock, &start_date, &["contacts"], &FAST_RETRIES).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.records("contacts").len(), 1);
    assert!(
        run.logs().iter().any(|l| l.contains("contacts") && l.contains("not saved")),
        "no warning: {:?}",
        run.logs()
    );
}

// ------------------------------------------------------------------ proxies

/// Every variable through which reqwest would take a proxy from the environment.
fn proxy_env(proxy: &str) -> Vec<(&'static str, String)> {
    ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"]
        .into_iter()
        .map(|k| (k, proxy.to_string()))
        .collect()
}

/// A plain-http `api_url` is only allowed to this machine, and a proxy from the environment
/// would see the `access-token` header in clear text: the proxy is never offered a connection,
/// and the sync reads straight from the mock.
#[test]
fn proxies_from_the_environment_never_see_a_loopback_api_url() {
    let proxy = Listener::start();
    let mock = mock();
    let mut env = proxy_env(&proxy.url());
    env.extend(FAST_RETRIES.map(|(k, v)| (k, v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let start_date = mock.data_start().to_rfc3339();
    let run = read_mock(&mock, &start_date, &["agents", "channels", "messages"], &env).unwrap();
    assert_eq!(run.code, 0, "{:?}", run.errors());
    for stream in ["agents", "channels", "messages"] {
        assert_completed(&run, stream);
        assert!(!run.records(stream).is_empty(), "{stream}: no records");
    }
    let check = run_against(&mock.base_url(), &[], &env, Duration::from_secs(30));
    let status = &check.run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(status["status"], "SUCCEEDED", "{status}");
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 0, "the proxy was offered a connection");
}

/// For an https `api_url` the environment's proxy is honoured (the token travels inside the
/// TLS tunnel, never in the proxy's view), and `NO_PROXY` exempts a host.
#[test]
fn proxies_from_the_environment_carry_https_only_and_no_proxy_exempts_a_host() {
    let proxy = Listener::start();
    let env = proxy_env(&proxy.url());
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "1"), ("SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS", "5")]);
    let api_url = "https://botmaker.invalid/v2.0";
    let check = run_against(api_url, &[], &env, Duration::from_secs(60));
    check_failure(&check.run);
    let seen = String::from_utf8_lossy(&proxy.received.lock().unwrap()).into_owned();
    assert!(seen.starts_with("CONNECT botmaker.invalid:443 "), "the proxy saw: {seen:?}");
    for form in token_forms(TOKEN) {
        assert!(!seen.contains(&form), "the proxy saw the token: {seen:?}");
    }

    let before = proxy.connections.load(Ordering::SeqCst);
    env.extend([("NO_PROXY", "botmaker.invalid")]);
    let check = run_against(api_url, &[], &env, Duration::from_secs(60));
    check_failure(&check.run);
    assert_eq!(proxy.connections.load(Ordering::SeqCst), before, "NO_PROXY was not honoured");
}

// ------------------------------------------------------------------ API error messages

/// A 500 whose error message is 20 MB (with the token in it, also across the point where the
/// message is cut): every retry's log line quotes about a kilobyte of it, and the whole output
/// stays small.
#[test]
fn a_20_mb_error_message_is_quoted_short_on_every_retry() {
    let mock = mock();
    let mut message = "m".repeat(990);
    message.push_str(TOKEN);
    message.push_str(&"e".repeat(10_000_000));
    message.push_str(TOKEN);
    message.push_str(&"x".repeat(10_000_000));
    let body = json!({"errors": [{"type": "INTERNAL_ERROR", "message": message}]}).to_string();
    mock.set_scenario(Stream::Agents, Some(fixed(500, body)));
    let env = [("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "200"), ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "3")];
    let run = read_mock(&mock, &mock.data_start().to_rfc3339(), &["agents", "channels"], &env).unwrap();
    let error = stream_error(&run, "agents", "transient_error");
    assert_mentions(&error, &["GET /v2.0/agents", "kept failing", "HTTP 500", "INTERNAL_ERROR: mmm"]);
    assert!(error.len() < 2_000, "the error is {} bytes", error.len());
    assert_completed(&run, "channels");
    let retries: Vec<String> = run.logs().into_iter().filter(|l| l.contains("retrying in")).collect();
    assert!(retries.len() >= 2, "only {} retries logged", retries.len());
    for line in &retries {
        assert!(line.len() < 1_200, "a retry line of {} bytes: {}…", line.len(), clip(line));
        assert!(line.contains("HTTP 500 Internal Server Error (INTERNAL_ERROR: mmm"), "{}", clip(line));
    }
    eprintln!(
        "{} retries, lines of {:?} bytes, {} bytes of stdout",
        retries.len(),
        retries.iter().map(String::len).collect::<Vec<_>>(),
        run.stdout.len()
    );
    assert!(run.stdout.len() < 64 * 1024, "{} bytes of stdout", run.stdout.len());
}

// ------------------------------------------------------------------ redirects

/// A server that redirects each request `route` gives a `Location` for; /v2.0/final answers a
/// page of one agent, anything else an empty page.
fn redirecting(route: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Hostile {
    Hostile::start(move |target| match route(target) {
        Some(location) => Reply::redirect(&location),
        None if target.starts_with("/v2.0/final") => {
            Reply::json(200, &json!({"items": [{"id": "agent-1", "name": "Ada"}]}))
        }
        None => empty_page(),
    })
}

/// A redirect loop on api_url's own host, or a chain longer than 5, says what it is (not that a
/// host rule was broken); a chain of 5 is followed. The token in a `Location` is never shown.
#[test]
fn same_host_redirect_loops_and_long_chains_are_named_as_such() {
    let encoded: String = TOKEN.bytes().map(|b| format!("%{b:02x}")).collect();
    let cases: Vec<(&str, Hostile, &[&str])> = vec![
        (
            "302 to itself",
            redirecting(|t| t.starts_with("/v2.0/agents").then(|| t.to_string())),
            &["redirected in a loop"],
        ),
        (
            "A to B to A",
            redirecting(|t| {
                if t.starts_with("/v2.0/agents") {
                    Some("/v2.0/b".into())
                } else {
                    (t == "/v2.0/b").then(|| "/v2.0/agents".into())
                }
            }),
            &["redirected in a loop"],
        ),
        (
            "a loop through a Location carrying the token",
            redirecting(move |t| {
                if t.starts_with("/v2.0/agents") {
                    Some(format!("/v2.0/token?access-token={encoded}"))
                } else {
                    t.starts_with("/v2.0/token").then(|| "/v2.0/agents".into())
                }
            }),
            &["redirected in a loop"],
        ),
        ("a chain of 6 redirects", redirecting(move |t| chain(t, 6)), &["more than 5 redirects"]),
    ];
    for (name, server, words) in cases {
        let out = run_against(&server.api_url(), &["agents"], &FAST_RETRIES, Duration::from_secs(30));
        let message = stream_error(&out.run, "agents", "config_error");
        assert_mentions(&message, &["GET /v2.0/agents", "redirect"]);
        assert_mentions(&message, words);
        assert!(!message.contains("api_url's host, so the access token never leaves"), "{name}: {message}");
        assert_eq!(server.count("/v2.0/agents"), 1, "{name}: retried");
        eprintln!("{name}: {message}");
    }

    let server = redirecting(move |t| chain(t, 5));
    let out = run_against(&server.api_url(), &["agents"], &FAST_RETRIES, Duration::from_secs(30));
    assert_eq!(out.run.code, 0, "a chain of 5 redirects: {:?}", out.run.errors());
    assert_eq!(out.run.records("agents").len(), 1);
}

/// /v2.0/agents → /v2.0/hop/1 → … → /v2.0/final, `n` redirects in all.
fn chain(target: &str, n: usize) -> Option<String> {
    let step = if target.starts_with("/v2.0/agents") {
        0
    } else {
        target.strip_prefix("/v2.0/hop/")?.parse::<usize>().ok()?
    };
    Some(if step + 1 < n { format!("/v2.0/hop/{}", step + 1) } else { "/v2.0/final".into() })
}

/// A redirect to another host is refused without following it; the message names that host
/// only, masked where it is a form of the token (here a lower-cased, URL-safe base64 one).
#[test]
fn a_redirect_elsewhere_names_the_host_but_never_the_token() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let host = URL_SAFE_NO_PAD.encode(TOKEN).to_lowercase().replace('_', "-");
    let location = format!("https://{host}.example/steal?t={}", URL_SAFE_NO_PAD.encode(TOKEN));
    let server = redirecting(move |t| t.starts_with("/v2.0/agents").then(|| location.clone()));
    let out = run_against(&server.api_url(), &["agents"], &FAST_RETRIES, Duration::from_secs(30));
    let message = stream_error(&out.run, "agents", "config_error");
    assert_mentions(&message, &["GET /v2.0/agents", "redirected (HTTP 302)", ".example", "api_url's host"]);
}

/// Large bodies within the limit that are not pages, echoing the token right where their quote
/// is cut and all through them: the quote is short and masked.
#[test]
fn a_large_body_echoing_the_token_is_quoted_short_and_masked() {
    let echo = format!("<html>{}{}</html>", "x".repeat(150), format!("{TOKEN} ").repeat(200_000)).into_bytes();
    for (status, failure_type, words) in [
        (200, "transient_error", &["unexpected response body", "starts with"][..]),
        (400, "config_error", &["HTTP 400", "the body starts with"][..]),
    ] {
        let body = echo.clone();
        let server = Hostile::start(move |target| {
            if target.starts_with("/v2.0/agents") {
                Reply::Whole { status, headers: Vec::new(), body: body.clone() }
            } else {
                empty_page()
            }
        });
        let out = run_against(&server.api_url(), &["agents"], &FAST_RETRIES, Duration::from_secs(30));
        let message = stream_error(&out.run, "agents", failure_type);
        assert_mentions(&message, words);
        assert!(message.len() < 1_000, "HTTP {status}: a message of {} bytes", message.len());
    }
}
