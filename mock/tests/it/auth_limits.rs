//! Auth outcomes, rate limiting, the request log and the control endpoints.

use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::*;
use botmaker_mock::{AuthOutcome, Latency, Stream};

#[test]
fn auth_outcomes() {
    let server = server(10);
    let url = format!("{}/agents", server.base_url());
    let cases: [(Option<String>, AuthOutcome); 4] = [
        (None, AuthOutcome::Missing),
        (Some("nope".into()), AuthOutcome::Wrong),
        (Some(format!("Bearer {}", server.token())), AuthOutcome::Bearer),
        (Some(server.token()), AuthOutcome::Ok),
    ];
    for (tok, _) in &cases {
        let r = get(&url, tok.as_deref()).resp();
        if tok.as_deref() == Some(server.token().as_str()) {
            assert_eq!(r.status, 200);
        } else {
            assert_eq!(r.status, 401);
            let v = r.json();
            assert_eq!(v["errors"][0]["type"], "UNAUTHORIZED");
            assert_eq!(v["errors"][0]["source"], "access-token");
            assert!(v["errors"][0]["message"].is_string());
        }
    }
    // An `Authorization` header is not the API's scheme.
    let r = get_with(&url, &[("Authorization", &format!("Bearer {}", server.token()))]).resp();
    assert_eq!(r.status, 401);
    // Auth comes first, even on unknown paths.
    let r = get(&format!("{}/nope", server.base_url()), None).resp();
    assert_eq!(r.status, 401);
    let log = server.requests();
    assert_eq!(log.len(), 6);
    for (i, (_, outcome)) in cases.iter().enumerate() {
        assert_eq!(log[i].auth, *outcome);
        assert_eq!(log[i].seq, i as u64 + 1);
        assert_eq!(log[i].endpoint, Some(Stream::Agents));
    }
    assert_eq!(log[3].items as u64, server.count_all(Stream::Agents));
    assert_eq!(log[4].auth, AuthOutcome::Missing);
    server.clear_requests();
    assert!(server.requests().is_empty());
}

#[test]
fn rate_limit_answers_429_when_exceeded() {
    let server = start_with(|c| c.rate_limits = true);
    let url = |p: &str| format!("{}{}", server.base_url(), p);
    let tok = server.token();
    // chats: 3 per second.
    for _ in 0..3 {
        assert_eq!(get(&url("/chats"), Some(&tok)).resp().status, 200);
    }
    let r = get(&url("/chats"), Some(&tok)).resp();
    assert_eq!(r.status, 429);
    assert_eq!(
        r.text(),
        r#"{"errors":[{"type":"TOO_MANY_REQUESTS","source":"rate-limit","message":"Only 3 requests per second allowed."}]}"#
    );
    assert!(r.header("Retry-After").is_none());
    // Buckets are per endpoint.
    assert_eq!(get(&url("/calls"), Some(&tok)).resp().status, 200);
    // channels: one per second, spec wording.
    assert_eq!(get(&url("/channels"), Some(&tok)).resp().status, 200);
    let r = get(&url("/channels"), Some(&tok)).resp();
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["errors"][0]["message"], "Only one request per second allowed.");
    // tickets: 60 per minute.
    for _ in 0..60 {
        assert_eq!(get(&url("/tickets"), Some(&tok)).resp().status, 200);
    }
    let r = get(&url("/tickets"), Some(&tok)).resp();
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["errors"][0]["message"], "Only 60 requests per minute allowed.");
    let summary: serde_json::Value = serde_json::from_str(
        &get(&format!("http://127.0.0.1:{}/_mock/requests/summary", server.port()), None).resp().text(),
    )
    .unwrap();
    assert_eq!(summary["rate_limited"], 3);
    assert_eq!(summary["by_status"]["429"], 3);
    // Switched off at runtime: no more 429s.
    server.set_rate_limits(false);
    for _ in 0..10 {
        assert_eq!(get(&url("/chats"), Some(&tok)).resp().status, 200);
    }
}

#[test]
fn rate_limit_retry_after_when_configured() {
    let server = start_with(|c| {
        c.rate_limits = true;
        c.rate_limit_retry_after = true;
    });
    let url = format!("{}/intents", server.base_url());
    assert_eq!(get(&url, Some(&server.token())).resp().status, 200);
    let r = get(&url, Some(&server.token())).resp();
    assert_eq!(r.status, 429);
    let secs: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=1).contains(&secs));
}

#[test]
fn no_429_at_the_documented_pace() {
    let server = start_with(|c| c.rate_limits = true);
    let url = format!("{}/messages", server.base_url());
    // 5 per second allowed: a client pacing itself at exactly 5/s (plus a hair) never sees 429.
    let start = Instant::now();
    for k in 0..15u32 {
        let due = Duration::from_millis(200) * k + Duration::from_millis(2) * k;
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            sleep(wait);
        }
        let r = get(&url, Some(&server.token())).resp();
        assert_eq!(r.status, 200, "request {k} at {:?}", start.elapsed());
    }
    // A burst of 5 after a pause is fine too (bucket capacity), the 6th is not.
    sleep(Duration::from_millis(1100));
    for _ in 0..5 {
        assert_eq!(get(&url, Some(&server.token())).resp().status, 200);
    }
    assert_eq!(get(&url, Some(&server.token())).resp().status, 429);
}

#[test]
fn control_endpoints_need_no_auth_and_are_not_logged() {
    let server = server(100);
    let base = format!("http://127.0.0.1:{}", server.port());
    assert_eq!(get(&format!("{base}/_mock/health"), None).resp().json()["status"], "ok");
    let counts = get(&format!("{base}/_mock/counts"), None).resp().json();
    for s in Stream::ALL {
        let n = counts[s.name()].as_u64().unwrap();
        assert_eq!(n, server.count_all(s), "{s}");
    }
    api(&server, "/messages?long-term-search=true");
    api(&server, "/messages?from=2000-01-01T00:00:00Z");
    let _ = get(&format!("{}/agents", server.base_url()), None);
    let s = get(&format!("{base}/_mock/requests/summary"), None).resp().json();
    assert_eq!(s["total"], 3);
    assert_eq!(s["by_endpoint"]["messages"], 2);
    assert_eq!(s["by_endpoint"]["agents"], 1);
    assert_eq!(s["by_status"]["200"], 1);
    assert_eq!(s["by_status"]["400"], 1);
    assert_eq!(s["by_status"]["401"], 1);
    assert_eq!(s["long_term_search"], 1);
    assert_eq!(s["rate_limited"], 0);
    assert_eq!(server.requests().len(), 3);
    let log = server.requests();
    assert!(log[0].long_term_search);
    assert_eq!(log[0].query, vec![("long-term-search".to_string(), "true".to_string())]);
    assert_eq!(log[0].path, "/v2.0/messages");
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[1].status, 400);
    let r = get(&format!("{base}/_mock/nope"), None).resp();
    assert_eq!(r.status, 404);
}

#[test]
fn latency_applies_to_every_response() {
    let server = server(10);
    server.set_latency(Latency { base_ms: 120, jitter_ms: 30 });
    for path in ["/agents", "/nope"] {
        let t = Instant::now();
        let _ = api(&server, path);
        let e = t.elapsed();
        assert!(e >= Duration::from_millis(120) && e < Duration::from_millis(1000), "{e:?}");
    }
    let t = Instant::now();
    let _ = get(&format!("{}/agents", server.base_url()), None);
    assert!(t.elapsed() >= Duration::from_millis(120));
    server.set_latency(Latency::default());
    let t = Instant::now();
    let _ = api(&server, "/agents");
    assert!(t.elapsed() < Duration::from_millis(100));
}

#[test]
fn keep_alive_and_pipelining() {
    use std::io::{Read, Write};
    let server = server(10);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    let tok = server.token();
    let req = format!("GET /v2.0/agents HTTP/1.1\r\nHost: x\r\naccess-token: {tok}\r\n\r\n");
    // Two pipelined requests, then a third that closes.
    let last = format!("GET /v2.0/intents HTTP/1.1\r\nHost: x\r\naccess-token: {tok}\r\nConnection: close\r\n\r\n");
    s.write_all(format!("{req}{req}{last}").as_bytes()).unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 3, "{all}");
    assert_eq!(server.requests().len(), 3);
}
