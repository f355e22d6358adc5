//! Rate-limit status (issue 14, item 4): while a stream waits out a 429 it is reported to the
//! platform as STREAM_STATUS RUNNING with a RATE_LIMITED reason and the time the wait ends, and
//! as RUNNING without reasons once it resumes; the records stay exact.

use std::time::Duration;

use crate::common::*;
use botmaker_mock::{
    FaultConfig, Latency, LoggedRequest, MockConfig, MockServer, RetryAfterMode, Stream, StreamCounts,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

fn mock_cfg(counts: StreamCounts) -> MockConfig {
    let mut cfg = MockConfig::with_scale(0);
    cfg.counts = counts;
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    cfg.span_days = 10;
    cfg.rate_limits = false;
    cfg.latency = Latency { base_ms: 1, jitter_ms: 3 };
    cfg
}

fn config_for_mock(mock: &MockServer) -> Value {
    json!({
        "access_token": mock.token(),
        "start_date": (mock.data_start() - TimeDelta::days(1)).to_rfc3339(),
        "long_term_search": true,
        "api_url": mock.base_url(),
    })
}

/// `read` through the guarded runner (no panic, only Airbyte messages, no token) with `env`.
fn read_with(work: &Workdir, mock: &MockServer, streams: &[&str], env: &[(&str, &str)]) -> Run {
    let c = work.write_json("config.json", &config_for_mock(mock));
    let k = work.write_json("catalog.json", &catalog(streams, true));
    let args: Vec<String> = ["read", "--config", path_str(&c), "--catalog", path_str(&k)].map(String::from).to_vec();
    let mut all_env = FAST_RETRIES.to_vec();
    all_env.extend_from_slice(env);
    let token = mock.token();
    guarded(&args, &all_env, &[&token], Duration::from_secs(90)).unwrap_or_else(|e| panic!("{streams:?}: {e}"))
}

/// One STREAM_STATUS of a stream as printed.
#[derive(Debug, Clone)]
struct Status {
    status: String,
    /// When the message was written, ms since the epoch.
    emitted_at: f64,
    /// `reasons[0].rate_limited.quota_reset`, when the reason is RATE_LIMITED.
    quota_reset: Option<i64>,
}

impl Status {
    fn rate_limited(&self) -> bool {
        self.quota_reset.is_some()
    }
}

/// The stream's STREAM_STATUS messages in order, checking the reasons' shape on the way.
fn statuses(run: &Run, stream: &str) -> Vec<Status> {
    run.messages
        .iter()
        .filter(|m| m["trace"]["type"] == "STREAM_STATUS")
        .map(|m| &m["trace"])
        .filter(|t| t["stream_status"]["stream_descriptor"]["name"] == stream)
        .map(|t| {
            let s = &t["stream_status"];
            let status = s["status"].as_str().unwrap().to_string();
            let quota_reset = match s.get("reasons") {
                None => None,
                Some(reasons) => {
                    let reasons = reasons.as_array().unwrap_or_else(|| panic!("reasons is a list: {s}"));
                    assert_eq!(reasons.len(), 1, "one reason: {s}");
                    assert_eq!(reasons[0]["type"], "RATE_LIMITED", "{s}");
                    assert_eq!(status, "RUNNING", "a rate-limited stream is RUNNING: {s}");
                    Some(reasons[0]["rate_limited"]["quota_reset"].as_i64().unwrap_or_else(|| panic!("{s}")))
                }
            };
            Status { status, emitted_at: t["emitted_at"].as_f64().unwrap(), quota_reset }
        })
        .collect()
}

/// Checks the shape every stream's statuses must have when rate limits were waited out:
/// STARTED first, COMPLETE last, every RATE_LIMITED followed by a RUNNING without reasons
/// (never two RATE_LIMITED in a row, none left open at the end), each announcing a reset in
/// the near future (at most `max_wait` after it was written; a wait shorter than the time the
/// status took to be written may have ended up to `late` before) that the RUNNING comes after.
/// Returns the RATE_LIMITED statuses.
fn assert_rate_limited_then_resumed(
    stream: &str,
    statuses: &[Status],
    max_wait: Duration,
    late: Duration,
) -> Vec<Status> {
    let names: Vec<&str> = statuses.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(names.first(), Some(&"STARTED"), "{stream}: {names:?}");
    assert_eq!(names.last(), Some(&"COMPLETE"), "{stream}: {names:?}");
    let mut limited = Vec::new();
    for (i, s) in statuses.iter().enumerate() {
        let Some(reset) = s.quota_reset else { continue };
        let ahead = reset as f64 - s.emitted_at;
        assert!(
            ahead > -(late.as_millis() as f64) - 1.0 && ahead <= max_wait.as_millis() as f64 + 1.0,
            "{stream}: quota_reset {reset} is {ahead} ms after the status was written, not within {max_wait:?}"
        );
        let next = &statuses[i + 1];
        assert!(
            next.status == "RUNNING" && !next.rate_limited(),
            "{stream}: RATE_LIMITED is followed by {next:?}, not by RUNNING without reasons"
        );
        // The stream resumed once the wait was over (a little slack for clock reading).
        assert!(
            next.emitted_at >= reset as f64 - 5.0,
            "{stream}: RUNNING at {} before the announced reset {reset}",
            next.emitted_at
        );
        limited.push(s.clone());
    }
    limited
}

fn injected_429s(mock: &MockServer, stream: Stream) -> Vec<LoggedRequest> {
    mock.requests().into_iter().filter(|r| r.endpoint == Some(stream) && r.fault.as_deref() == Some("429")).collect()
}

/// Every 429 was waited out: the endpoint's next request came no earlier than `Retry-After` said.
fn assert_next_request_after(mock: &MockServer, stream: Stream, limited: &[Status]) {
    let log: Vec<LoggedRequest> = mock.requests().into_iter().filter(|r| r.endpoint == Some(stream)).collect();
    for s in limited {
        let reset = DateTime::<Utc>::from_timestamp_millis(s.quota_reset.unwrap()).unwrap();
        let written = DateTime::<Utc>::from_timestamp_millis(s.emitted_at as i64).unwrap();
        let early: Vec<_> = log
            .iter()
            .filter(|r| r.at > written && r.at < reset - TimeDelta::milliseconds(5))
            .map(|r| (r.at, r.status))
            .collect();
        assert!(early.is_empty(), "{stream}: requests sent while waiting until {reset}: {early:?}");
    }
}

#[test]
fn injected_429s_with_retry_after_show_as_rate_limited_until_the_stream_resumes() {
    // Retry-After in seconds ("1") and as an HTTP-date about two seconds ahead.
    for (mode, max_wait) in
        [(RetryAfterMode::Seconds, Duration::from_secs(1)), (RetryAfterMode::HttpDate, Duration::from_secs(2))]
    {
        let mut cfg = mock_cfg(StreamCounts { agents: 500, ..StreamCounts::default() });
        cfg.faults = FaultConfig { p_429: 0.2, retry_after: mode, ..FaultConfig::default() };
        let mock = mock_with(cfg);
        let work = Workdir::new();
        let run = read_with(&work, &mock, &["agents"], &[]);
        assert_eq!(run.code, 0, "{mode:?}: {:?}", run.errors());
        run.assert_protocol_rules();
        assert_same_keys("agents", &run.keys("agents"), &expected_keys(&mock, "agents", Utc::now(), Utc::now()));
        let faults = injected_429s(&mock, Stream::Agents);
        assert!(!faults.is_empty(), "{mode:?}: the mock sent 429s (else this test proves nothing)");
        let statuses = statuses(&run, "agents");
        let limited = assert_rate_limited_then_resumed("agents", &statuses, max_wait, Duration::ZERO);
        // One list, one request at a time: every 429 is a wait of its own.
        assert_eq!(limited.len(), faults.len(), "{mode:?}: one RATE_LIMITED per 429: {statuses:?}");
        assert!(
            limited.iter().all(|s| s.quota_reset.unwrap() as f64 - s.emitted_at > 300.0),
            "{mode:?}: the reset is what Retry-After said, not the backoff: {limited:?}"
        );
        assert_next_request_after(&mock, Stream::Agents, &limited);
    }
}

#[test]
fn the_mock_rate_limiter_without_client_limits_shows_as_rate_limited_and_loses_nothing() {
    // The connector's own pacing off, so Botmaker's limiter answers 429 (with Retry-After, and
    // without it, when the connector backs off on its own).
    for retry_after in [true, false] {
        let mut cfg = mock_cfg(StreamCounts { contacts: 1_200, chats: 2_000, ..StreamCounts::default() });
        cfg.rate_limits = true;
        cfg.rate_limit_retry_after = retry_after;
        let mock = mock_with(cfg);
        let work = Workdir::new();
        let run = read_with(&work, &mock, &["contacts", "chats"], &[("SOURCE_BOTMAKER_CLIENT_RATE_LIMITS", "off")]);
        assert_eq!(run.code, 0, "Retry-After {retry_after}: {:?}", run.errors());
        run.assert_protocol_rules();
        let start = mock.data_start() - TimeDelta::days(1);
        for (stream, endpoint) in [("contacts", Stream::Contacts), ("chats", Stream::Chats)] {
            assert_same_keys(stream, &run.keys(stream), &expected_keys(&mock, stream, start, Utc::now()));
            let limiter_429s =
                mock.requests().iter().filter(|r| r.endpoint == Some(endpoint) && r.status == 429).count();
            assert!(limiter_429s > 0, "{stream}: Botmaker's limiter answered 429 (else this test proves nothing)");
            // Without Retry-After the wait is the connector's backoff: from 10 ms (20 ms less
            // jitter, possibly over by the time the status is written) to 1.92 s in tests.
            let (max_wait, late) = if retry_after {
                (Duration::from_secs(1), Duration::ZERO)
            } else {
                (Duration::from_millis(1_920), Duration::from_millis(1_000))
            };
            let limited = assert_rate_limited_then_resumed(stream, &statuses(&run, stream), max_wait, late);
            assert!(!limited.is_empty(), "{stream}: {limiter_429s} 429s but no RATE_LIMITED status");
            // Contacts is one request at a time; chats' windows run in parallel and, without the
            // connector's own limiter, are not held back by another window's 429.
            if retry_after && stream == "contacts" {
                assert_next_request_after(&mock, endpoint, &limited);
            }
        }
    }
}
