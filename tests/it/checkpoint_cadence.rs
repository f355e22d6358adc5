//! Checkpoint cadence (issue 14, item 6): windows without records fold into the next STATE
//! instead of each writing one, so a sparse account's backfill is not a stream of empty
//! checkpoints, while a busy stream still checkpoints after every window with records.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::common::*;
use botmaker_mock::{MockConfig, MockServer, Stream, StreamCounts};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

/// Quick retries and no client pacing (the mock's limits are off too): these tests are about
/// what is checkpointed, not how fast.
const ENV: [(&str, &str); 3] = [
    ("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20"),
    ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "60"),
    ("SOURCE_BOTMAKER_CLIENT_RATE_LIMITS", "off"),
];

fn mock(counts: StreamCounts, span_days: u32) -> MockServer {
    let mut cfg = MockConfig::with_scale(0);
    cfg.counts = counts;
    cfg.span_days = span_days;
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    cfg.rate_limits = false;
    mock_with(cfg)
}

fn read_incremental(work: &Workdir, mock: &MockServer, streams: &[&str], extra_config: Value) -> Run {
    let mut config = json!({
        "access_token": mock.token(),
        "start_date": mock.data_start().to_rfc3339(),
        "long_term_search": true,
        "api_url": mock.base_url(),
    });
    config.as_object_mut().unwrap().extend(extra_config.as_object().unwrap().clone());
    let c = work.write_json("config.json", &config);
    let k = work.write_json("catalog.json", &catalog(streams, true));
    let args: Vec<String> = ["read", "--config", path_str(&c), "--catalog", path_str(&k)].map(String::from).to_vec();
    guarded(&args, &ENV, &[&mock.token()], Duration::from_secs(120)).unwrap_or_else(|e| panic!("{streams:?}: {e}"))
}

/// The windows the sync read, by their `from` (a window's later pages and any second request
/// for its old part start there too), with the items Botmaker returned for each.
fn windows(mock: &MockServer, stream: Stream) -> BTreeMap<DateTime<Utc>, usize> {
    let mut windows = BTreeMap::new();
    for r in mock.requests().into_iter().filter(|r| r.endpoint == Some(stream) && r.status == 200) {
        let from = r.query.iter().find(|(k, _)| k == "from").and_then(|(_, v)| parse_datetime(v));
        *windows.entry(from.expect("a windowed request")).or_default() += r.items;
    }
    windows
}

fn cursor_field(stream: &str) -> &'static str {
    match stream {
        "chats" => "lastUserMessageDatetime",
        "calls" => "creationDatetime",
        _ => "creationTime",
    }
}

fn record_count(state: &Value) -> f64 {
    state["state"]["sourceStats"]["recordCount"].as_f64().unwrap()
}

#[test]
fn a_sparse_backfill_checkpoints_windows_with_records_not_every_empty_window() {
    // Six records per stream over almost three years: dozens of windows, nearly all empty.
    let mock = mock(StreamCounts { chats: 6, messages: 6, calls: 6, ..StreamCounts::default() }, 1_000);
    let work = Workdir::new();
    let streams = [("chats", Stream::Chats), ("messages", Stream::Messages), ("calls", Stream::Calls)];
    let began = Instant::now();
    let run = read_incremental(&work, &mock, &streams.map(|(s, _)| s), json!({}));
    // A STATE is also due after a minute without one; this sync is far quicker than that.
    assert!(began.elapsed() < Duration::from_secs(50), "took {:?}", began.elapsed());
    assert_eq!(run.code, 0, "{:?}", run.errors());
    run.assert_protocol_rules();
    let start = mock.data_start();
    for (name, stream) in streams {
        assert_same_keys(name, &run.keys(name), &expected_keys(&mock, name, start, Utc::now()));
        let windows = windows(&mock, stream);
        let states = run.states(name);
        assert!(windows.len() >= 30, "{name}: a long backfill in many windows, got {}", windows.len());
        assert!(
            states.len() <= 7 && states.len() * 4 <= windows.len(),
            "{name}: {} STATE messages for {} windows, 6 records",
            states.len(),
            windows.len()
        );
        let (last, before) = states.split_last().unwrap();
        for s in before {
            assert!(record_count(s) > 0.0, "{name}: a STATE without records before the last one: {s}");
        }
        // The last STATE covers the whole backfill, empty windows after the last record included.
        let cursor = last["state"]["stream"]["stream_state"][cursor_field(name)].as_str().unwrap();
        let cursor = parse_datetime(cursor).unwrap();
        assert!(cursor > Utc::now() - TimeDelta::minutes(5), "{name}: the final cursor {cursor} is near now");
    }
}

#[test]
fn a_busy_stream_checkpoints_after_every_window_with_records() {
    // Windows one after another (one request at a time), each with a few thousand chats.
    let mock = mock(StreamCounts { chats: 20_000, ..StreamCounts::default() }, 4);
    let work = Workdir::new();
    let run = read_incremental(&work, &mock, &["chats"], json!({"max_concurrent_requests": 1}));
    assert_eq!(run.code, 0, "{:?}", run.errors());
    run.assert_protocol_rules();
    let start = mock.data_start();
    assert_same_keys("chats", &run.keys("chats"), &expected_keys(&mock, "chats", start, Utc::now()));
    let windows = windows(&mock, Stream::Chats);
    let with_records = windows.values().filter(|&&items| items > 0).count();
    assert!(with_records >= 5, "several windows with records: {windows:?}");
    let states = run.states("chats");
    let checkpoints_with_records = states.iter().filter(|s| record_count(s) > 0.0).count();
    assert_eq!(checkpoints_with_records, with_records, "a STATE after each window with records: {windows:?}");
    // At most one more: the empty windows at the end fold into a final STATE.
    assert!(states.len() <= with_records + 1, "{} STATEs for {} windows with records", states.len(), with_records);
    let cursors: HashSet<String> = states.iter().map(|s| s["state"]["stream"]["stream_state"].to_string()).collect();
    assert_eq!(cursors.len(), states.len(), "every STATE moves the cursor");
}

/// A window is sized from the windows before it, so the first window that meets an account's
/// data after empty ones (a `start_date` before the account went live) can hold weeks of
/// records. It still checkpoints page by page (its records come in time order), not only once
/// all of them are written.
#[test]
fn a_window_far_busier_than_its_estimate_still_checkpoints_every_few_thousand_records() {
    let mock = mock(StreamCounts { messages: 30_000, ..StreamCounts::default() }, 3);
    let work = Workdir::new();
    let run = read_incremental(
        &work,
        &mock,
        &["messages"],
        json!({"start_date": (mock.data_start() - TimeDelta::days(30)).to_rfc3339(), "max_concurrent_requests": 1}),
    );
    assert_eq!(run.code, 0, "{:?}", run.errors());
    run.assert_protocol_rules();
    let counts: Vec<f64> = run.states("messages").iter().map(|s| record_count(s)).collect();
    assert!(counts.iter().all(|&n| n <= 3_000.0), "records between STATEs: {counts:?}");
    assert!(counts.len() >= 10, "a STATE per page or so: {counts:?}");
}
