//! No request input makes the server panic or hang: fuzzy query strings, huge numbers, garbage
//! tokens and page tokens, broken HTTP.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::*;
use botmaker_mock::Stream;

/// xorshift64*: deterministic fuzz input.
struct Fuzz(u64);
impl Fuzz {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn healthy(server: &botmaker_mock::MockServer) {
    let r = get(&format!("http://127.0.0.1:{}/_mock/health", server.port()), None).resp();
    assert_eq!(r.status, 200);
}

#[test]
fn fuzzy_queries_never_break_the_server() {
    let server = server(500);
    let mut f = Fuzz(0x9E37_79B9_7F4A_7C15);
    let endpoints = Stream::EVERY.map(|s| s.path());
    let keys = [
        "from",
        "to",
        "limit",
        "offset",
        "daysBeforeNow",
        "long-term-search",
        "page-token",
        "next-page-token",
        "timestamp-precision",
        "include-open-sessions",
        "include-messages",
        "chat-id",
        "channel-id",
        "contact-id",
        "chat-platform",
        "platform",
        "emails",
        "online",
        "active",
        "name",
        "only-users-never-talked",
        "has-whastapp-bsuid",
        "session-status",
        "agent-ids",
        "queues",
        "channel-ids",
        "online-status",
        "operatorsIds",
        "notification-name",
        "billingPeriod",
        "businessId",
        "state",
        "onlyTags",
        "agent-email",
        "queue",
        "",
    ];
    let values = [
        "",
        "true",
        "TRUE",
        "false",
        "0",
        "-1",
        "1500",
        "250",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999999999",
        "1e9",
        "NaN",
        "%",
        "%%",
        "%zz",
        "%00",
        "%C3%A9",
        "%FF%FE",
        "2024-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z",
        "2024-02-30T00:00:00Z",
        "2024-01-01T00:00:00+23:59",
        "2024-01-01T00:00:60Z",
        "milliseconds",
        "seconds",
        "mockbiz-webchat-main",
        "whatsapp",
        "a,b,,c",
        "%%%%%20not%20a%20url",
        "ZZZZZZZZZZZZZZZZ",
        "0000",
        "-",
        "..",
        "&",
        "=",
        "\u{1F600}",
        "ñ",
        "closed",
        "open",
        "2023-12",
        "APPROVED",
        "sales",
    ];
    for _ in 0..2500 {
        let ep = f.pick(&endpoints);
        let n = f.next() % 6;
        let mut qs = String::new();
        for k in 0..n {
            if k > 0 {
                qs.push('&');
            }
            let key = f.pick(&keys);
            let val = f.pick(&values);
            qs.push_str(&format!("{key}={val}"));
        }
        let path =
            format!("/{ep}?{}", qs.replace(' ', "%20").replace('\u{1F600}', "%F0%9F%98%80").replace('ñ', "%C3%B1"));
        let r = api(&server, &path);
        // 404: /notifications/sent-results for a notification that was never sent.
        let not_found = r.status == 404 && ep == Stream::NotificationResults.path();
        assert!(matches!(r.status, 200 | 400) || not_found, "{path}: {} {}", r.status, r.text());
        let v = r.json();
        if r.status == 400 {
            assert!(v["errors"][0]["type"].is_string());
        }
    }
    // Mutated real page tokens are rejected, not trusted.
    let v = api(&server, "/contacts").json();
    let tok = v["nextPage"].as_str().unwrap().to_string();
    for i in 0..tok.len() {
        let mut b = tok.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        let t = String::from_utf8(b).unwrap();
        let r = api(&server, &format!("/contacts?next-page-token={t}"));
        assert!(matches!(r.status, 200 | 400));
    }
    for t in ["", "0", "%", "not-a-token", &"Z".repeat(5000)] {
        let r = api(&server, &format!("/agents?page-token={t}"));
        assert!(matches!(r.status, 200 | 400), "{t}");
    }
    healthy(&server);
}

#[test]
fn garbage_tokens_and_headers() {
    let server = server(10);
    let url = format!("{}/agents", server.base_url());
    for tok in ["", " ", "Bearer", "Bearer ", "bearer mock", "ééééééééé", &"x".repeat(10_000)] {
        let r = get(&url, Some(tok)).resp();
        assert_eq!(r.status, 401, "{tok:?}");
    }
    // A control character is not a valid header value at all: HTTP-level 400.
    let r = get(&url, Some("\u{7f}")).resp();
    assert_eq!(r.status, 400);
    healthy(&server);
}

fn raw(server: &botmaker_mock::MockServer, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn broken_http_is_answered_or_dropped() {
    let server = server(10);
    let tok = server.token();
    let cases: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02\x03garbage\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b"GET /v2.0/agents HTTP/9.9\r\n\r\n".to_vec(),
        b"GET /v2.0/agents HTTP/1.1\r\nContent-Length: abc\r\n\r\n".to_vec(),
        b"GET /v2.0/agents HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
        b"GET /v2.0/agents HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n".to_vec(),
        format!("GET /v2.0/agents HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(100_000)).into_bytes(),
        (0..100).map(|i| format!("H{i}: v\r\n")).fold(b"GET / HTTP/1.1\r\n".to_vec(), |mut a, h| {
            a.extend_from_slice(h.as_bytes());
            a
        }),
        b"GET /v2.0/\xff\xfe HTTP/1.1\r\n\r\n".to_vec(),
        b"POST /v2.0/agents HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
        format!("DELETE /v2.0/agents HTTP/1.1\r\naccess-token: {tok}\r\n\r\n").into_bytes(),
        format!("GET /v2.0/agents HTTP/1.0\r\naccess-token: {tok}\r\n\r\n").into_bytes(),
        format!("GET /v2.0/agents?{} HTTP/1.1\r\naccess-token: {tok}\r\n\r\n", "a=b&".repeat(5000)).into_bytes(),
        b"GET /v2.0/agents HTTP/1.1\r\nHost: x".to_vec(), // incomplete head, then EOF
    ];
    for c in &cases {
        let out = raw(&server, c);
        if !out.is_empty() {
            assert!(out.starts_with("HTTP/1.1 "), "{out}");
        }
    }
    let out = raw(
        &server,
        format!("DELETE /v2.0/agents HTTP/1.1\r\naccess-token: {tok}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert!(out.starts_with("HTTP/1.1 405"), "{out}");
    let out = raw(&server, format!("GET /v2.0/agents HTTP/1.0\r\naccess-token: {tok}\r\n\r\n").as_bytes());
    assert!(out.starts_with("HTTP/1.1 200") && out.contains("Connection: close"), "{out}");
    healthy(&server);
}
