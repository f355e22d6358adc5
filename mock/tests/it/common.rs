//! A tiny blocking HTTP/1.1 client for the mock's tests.
//!
//! Hand-written over `TcpStream` (one connection per request, `Connection: close`) so tests can
//! observe exactly what the server did: resets, bodies shorter than their `Content-Length`,
//! non-JSON bodies.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use botmaker_mock::{MockConfig, MockServer, Stream};
use chrono::{DateTime, Duration as CDuration, TimeZone, Utc};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("status {} body is not JSON ({e}): {}", self.status, String::from_utf8_lossy(&self.body))
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The first error's `type`.
    pub fn error_type(&self) -> String {
        self.json()["errors"][0]["type"].as_str().unwrap_or_default().to_string()
    }
}

#[derive(Debug)]
pub enum Outcome {
    Ok(Resp),
    /// Connection reset (or closed) before any response byte.
    Reset,
    /// Fewer body bytes than `Content-Length` before the connection closed.
    Truncated {
        status: u16,
        declared: usize,
        got: usize,
    },
}

impl Outcome {
    pub fn resp(self) -> Resp {
        match self {
            Outcome::Ok(r) => r,
            other => panic!("expected a complete response, got {other:?}"),
        }
    }
}

/// Splits `http://host:port/path?q` into (`host:port`, `/path?q`).
pub fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    match rest.find('/') {
        Some(p) => (rest[..p].to_string(), rest[p..].to_string()),
        None => (rest.to_string(), "/".to_string()),
    }
}

pub fn get_with(url: &str, headers: &[(&str, &str)]) -> Outcome {
    let (host, path) = split_url(url);
    let mut s = TcpStream::connect(&host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return Outcome::Reset;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {
                if buf.is_empty() {
                    return Outcome::Reset;
                }
                break;
            }
            Err(e) => panic!("read error: {e}"),
        }
    }
    if buf.is_empty() {
        return Outcome::Reset;
    }
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("response head");
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let body = buf[end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).expect("status line");
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let declared = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(body.len());
    if body.len() < declared {
        return Outcome::Truncated { status, declared, got: body.len() };
    }
    Outcome::Ok(Resp { status, headers, body })
}

pub fn get(url: &str, token: Option<&str>) -> Outcome {
    match token {
        Some(t) => get_with(url, &[("access-token", t)]),
        None => get_with(url, &[]),
    }
}

/// GET `base_url + path_and_query` with the right token; panics on resets/cuts.
pub fn api(server: &MockServer, path_and_query: &str) -> Resp {
    get(&format!("{}{}", server.base_url(), path_and_query), Some(&server.token())).resp()
}

/// Follows the next-page links from `first` (URLs or, for /contacts, a token; under any of
/// [`NEXT_PAGE_KEYS`]) and returns all items and the number of pages. Panics on any non-200.
pub fn walk(server: &MockServer, first: &str) -> (Vec<Value>, usize) {
    let pages = walk_pages(server, first);
    let n = pages.len();
    (pages.iter().flat_map(|p| page_items(p).clone()).collect(), n)
}

/// The envelope keys a list of records comes under.
pub const LIST_KEYS: [&str; 5] = ["items", "tickets", "variables", "typifications", "contacts"];

/// The list of records in a page envelope (`items`, `tickets`, `variables`, `typifications`
/// or, for the contacts blacklist, `contacts`).
pub fn page_items(page: &Value) -> &Vec<Value> {
    LIST_KEYS
        .iter()
        .find_map(|k| page.get(*k).and_then(Value::as_array))
        .unwrap_or_else(|| panic!("no items in {page}"))
}

/// Every page envelope [`walk`] sees, in order.
pub fn walk_pages(server: &MockServer, first: &str) -> Vec<Value> {
    let mut url = format!("{}{}", server.base_url(), first);
    let mut pages = vec![];
    loop {
        assert!(pages.len() < 100_000, "runaway pagination at {url}");
        let r = get(&url, Some(&server.token())).resp();
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        let v = r.json();
        let next = next_link(&v);
        pages.push(v);
        match next {
            Some(s) if s.starts_with("http") => url = s,
            Some(s) => {
                let sep = if first.contains('?') { '&' } else { '?' };
                url = format!("{}{}{}next-page-token={}", server.base_url(), first, sep, s);
            }
            None => break,
        }
    }
    pages
}

/// The envelope keys a next-page link may come under.
pub const NEXT_PAGE_KEYS: [&str; 3] = ["nextPage", "nextPageURL", "nextPageUrl"];

/// A page's next-page link under any of [`NEXT_PAGE_KEYS`] (`None` when null, empty or absent).
pub fn next_link(page: &Value) -> Option<String> {
    NEXT_PAGE_KEYS
        .iter()
        .find_map(|k| page.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
        .map(str::to_string)
}

/// A fixed anchor a few minutes in the past, rounded to a minute (stable "now"-relative data).
pub fn anchor_now() -> DateTime<Utc> {
    let now = Utc::now().timestamp();
    Utc.timestamp_opt(now - now % 60 - 300, 0).unwrap()
}

/// A server for data tests: no rate limits.
pub fn server(scale: u64) -> MockServer {
    let mut c = MockConfig::with_scale(scale);
    c.rate_limits = false;
    c.anchor = Some(anchor_now());
    MockServer::start(c).expect("start mock")
}

pub fn start_with(f: impl FnOnce(&mut MockConfig)) -> MockServer {
    let mut c = MockConfig::with_scale(200);
    c.rate_limits = false;
    c.anchor = Some(anchor_now());
    f(&mut c);
    MockServer::start(c).expect("start mock")
}

/// RFC 3339 with milliseconds, as a query value.
pub fn q(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn ms(n: i64) -> CDuration {
    CDuration::milliseconds(n)
}

/// Primary key of a record as served.
pub fn pk(stream: Stream, v: &Value) -> String {
    let text = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("{stream}: no {k} in {v}")).to_string();
    match stream {
        Stream::Chats => v["chat"]["chatId"].as_str().expect("chat.chatId").to_string(),
        Stream::WhatsappTemplates => format!("{}|{}", text("name"), text("locale")),
        Stream::WhatsappAccounts => text("number"),
        Stream::AgentMetrics => format!("{}|{}", text("sessionId"), text("agentId")),
        Stream::AgentPerformance => format!("{}|{}", text("agentEmail"), text("checkin")),
        Stream::NotificationResults => text("notificationInstanceId"),
        Stream::BilledConversations => text("whatsappConversationId"),
        Stream::ContactsBlacklist => v.as_str().expect("a blacklisted number").to_string(),
        _ => text("id"),
    }
}

pub fn parse_time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().expect("time string")).expect("RFC 3339").with_timezone(&Utc)
}

/// Query string for a half-open window `[a, b)` given each endpoint's own inclusivity.
/// (The billing endpoint takes a month, not a window: see `billed_months`.)
pub fn window_query(s: Stream, a: DateTime<Utc>, b: DateTime<Utc>) -> String {
    let (from, to) = match s {
        Stream::Chats => (a - ms(1), b),                                  // from < t < to
        Stream::Messages | Stream::NotificationResults => (a, b - ms(1)), // from <= t <= to
        Stream::Sessions | Stream::AgentMetrics | Stream::AgentPerformance => (a, b), // from <= t < to
        Stream::Calls => (a - ms(1), b - ms(1)),                          // from < t <= to
        _ => unreachable!("{s} has no from/to window"),
    };
    let mut qs = format!("/{}?from={}&to={}", s.path(), q(from), q(to));
    match s {
        Stream::Messages => qs.push_str("&long-term-search=true&limit=250"),
        Stream::Sessions => qs.push_str("&long-term-search=true&timestamp-precision=milliseconds"),
        Stream::AgentMetrics => qs.push_str("&session-status=closed"),
        Stream::Chats | Stream::Calls => qs.push_str("&long-term-search=true"),
        _ => {}
    }
    qs
}

/// The `billingPeriod` of every month that `[a, b)` touches, oldest first.
pub fn billed_months(a: DateTime<Utc>, b: DateTime<Utc>) -> Vec<String> {
    use chrono::Datelike;
    let mut months = vec![];
    let mut d = a.date_naive().with_day(1).unwrap();
    while d <= b.date_naive() {
        months.push(d.format("%Y-%m").to_string());
        d = d.checked_add_months(chrono::Months::new(1)).unwrap();
    }
    months
}
