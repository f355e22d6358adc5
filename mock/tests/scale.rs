//! Scale: a million records per stream cost nothing to start and count, and serve fast.
//!
//! `cargo test -p botmaker-mock --release --test scale -- --ignored --nocapture` prints the
//! serving throughput (the benchmark figure); in release builds it must reach 300k messages/s.

mod common;

use std::time::{Duration, Instant};

use botmaker_mock::{MockConfig, MockServer, Stream};
use chrono::Duration as CDuration;
use common::*;

fn big() -> (MockServer, Duration) {
    let mut c = MockConfig::with_scale(1_000_000);
    c.rate_limits = false;
    c.anchor = Some(anchor_now());
    let t = Instant::now();
    let s = MockServer::start(c).unwrap();
    (s, t.elapsed())
}

#[test]
fn million_records_start_and_count_fast() {
    let (server, started) = big();
    assert!(started < Duration::from_millis(500), "start took {started:?}");
    let start = server.data_start();
    let t = Instant::now();
    let mut total = 0;
    for s in [Stream::Chats, Stream::Messages, Stream::Calls, Stream::Tickets] {
        for k in 0..50 {
            let a = start + CDuration::hours(k * 13);
            total += server.count(s, a, a + CDuration::days(1));
        }
        assert_eq!(server.count_all(s), 1_000_000);
    }
    let lazy = t.elapsed();
    assert!(total > 100_000);
    assert!(lazy < Duration::from_millis(300), "200 counts took {lazy:?}");
    // Sessions scan only the last ~2 days for unfinished ones.
    let t = Instant::now();
    let n = server.count_all(Stream::Sessions);
    assert!(n > 900_000 && n < 1_000_000, "{n}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // A one-hour slice of ground truth at 1M is small and quick.
    let t = Instant::now();
    let a = start + CDuration::days(7);
    let slice = server.expected(Stream::Messages, a, a + CDuration::hours(1));
    assert!((1000..2000).contains(&slice.len()), "{}", slice.len());
    assert!(t.elapsed() < Duration::from_secs(2));
    let counts = get(&format!("http://127.0.0.1:{}/_mock/counts", server.port()), None).resp().json();
    assert_eq!(counts["messages"], 1_000_000);
}

#[test]
#[ignore = "throughput benchmark; run with --release -- --ignored --nocapture"]
fn serving_throughput() {
    let (server, _) = big();
    let start = server.data_start();
    let t = Instant::now();
    let mut n = 0usize;
    let mut bytes = 0usize;
    for k in 0..3 {
        let a = start + CDuration::days(10 * k);
        let mut url = format!(
            "{}/messages?from={}&to={}&long-term-search=true&limit=1500",
            server.base_url(),
            q(a),
            q(a + CDuration::days(10) - ms(1))
        );
        loop {
            let r = get(&url, Some(&server.token())).resp();
            bytes += r.body.len();
            // Count without a full JSON parse, so the figure is about the server: every
            // message carries exactly one `sessionId`.
            let text = std::str::from_utf8(&r.body).unwrap();
            n += text.matches("\"sessionId\":").count();
            match text.rfind("\"nextPage\":\"") {
                Some(p) => {
                    let rest = &text[p + 12..];
                    url = rest[..rest.find('"').unwrap()].to_string();
                }
                None => break,
            }
        }
    }
    let e = t.elapsed();
    let rate = n as f64 / e.as_secs_f64();
    println!("messages: {n} records, {:.1} MB in {e:?} = {rate:.0} records/s over HTTP", bytes as f64 / 1e6);
    assert_eq!(n, 1_000_000);
    if !cfg!(debug_assertions) {
        assert!(rate > 300_000.0, "{rate:.0} records/s");
    }
}
