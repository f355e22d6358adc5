//! Incremental syncs: state in and out, windows and their edges, resuming after a crash, late
//! arrivals and long-term search only where needed.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::*;
use botmaker_mock::{Latency, MockConfig, MockServer, Stream};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::{json, Value};

const EVENT_STREAMS: [&str; 4] = ["messages", "sessions", "calls", "tickets"];
const INCREMENTAL: [&str; 5] = ["chats", "messages", "sessions", "calls", "tickets"];

fn cursor_field(stream: &str) -> &'static str {
    match stream {
        "chats" => "lastUserMessageDatetime",
        "calls" => "creationDatetime",
        _ => "creationTime",
    }
}

fn mock_ending_ago(scale: u64, ago: TimeDelta) -> MockServer {
    let mut cfg = MockConfig::with_scale(scale);
    cfg.rate_limits = false;
    cfg.anchor = Some(Utc::now() - ago);
    cfg.span_days = 20;
    mock_with(cfg)
}

fn config(mock: &MockServer, start: DateTime<Utc>) -> Value {
    json!({"access_token": mock.token(), "start_date": start.to_rfc3339(), "long_term_search": true, "api_url": mock.base_url()})
}

fn stream_state(stream: &str, cursor: &str) -> Value {
    json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": {cursor_field(stream): cursor}}})
}

fn final_cursor(run: &Run, stream: &str) -> DateTime<Utc> {
    let state = run.states(stream).last().unwrap()["state"]["stream"]["stream_state"].clone();
    parse_datetime(state[cursor_field(stream)].as_str().unwrap()).unwrap()
}

fn midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::days(1)).unwrap()
}

fn message_at(id: &str, time: &str) -> Value {
    json!({"id": id, "creationTime": time, "from": "user", "chat": {"chatId": "EDGECHAT", "channelId": "webchat-1", "contactId": "c1"},
        "content": {"type": "text", "text": "edge"}})
}

#[test]
fn a_second_sync_picks_up_new_data_and_late_sessions_without_losing_or_repeating() {
    let mock = mock_ending_ago(1_500, TimeDelta::hours(1));
    let start = mock.data_start() - TimeDelta::days(1);
    // A session that started a day ago and is still open when the first sync runs.
    let late_session = mock.open_session(Utc::now() - TimeDelta::days(1));
    let work = Workdir::new();
    let cat = catalog(&CORE, true);
    let first = read(&work, &config(&mock, start), &cat, None);
    assert_eq!(first.code, 0, "{:?}", first.errors());
    first.assert_protocol_rules();
    assert!(!first.keys("sessions").contains(&late_session), "an open session is not listed");
    let state = first.final_state();

    // New data after the first sync's cursor, a chat with new activity, the session finishing.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let mut added: HashMap<&str, Vec<String>> = HashMap::new();
    for stream in EVENT_STREAMS {
        let c = final_cursor(&first, stream);
        let from = if stream == "sessions" { c + TimeDelta::hours(1) } else { c };
        added.insert(stream, mock.add_generated(mock_stream(stream), 25, from, from + TimeDelta::seconds(2)));
    }
    let chat = first.records("chats")[0]["chat_id"].as_str().unwrap().to_string();
    let touched_at = final_cursor(&first, "chats") + TimeDelta::milliseconds(1_500);
    assert!(mock.touch_chat(&chat, touched_at));
    assert!(mock.finish_session(&late_session));

    let second = read(&work, &config(&mock, start), &cat, Some(&state));
    assert_eq!(second.code, 0, "{:?}", second.errors());
    second.assert_protocol_rules();
    let upper = Utc::now();
    for stream in EVENT_STREAMS {
        let (k1, k2) = (first.keys(stream), second.keys(stream));
        for id in &added[stream] {
            assert!(k2.contains(id), "{stream}: new record {id} read by the second sync");
        }
        let union: HashSet<String> = k1.union(&k2).cloned().collect();
        assert_same_keys(stream, &union, &expected_keys(&mock, stream, start, upper));
        let twice: Vec<_> = k1.intersection(&k2).collect();
        if stream == "sessions" {
            // Only the settle span (2 days) is read again, on purpose.
            let settle_start = final_cursor(&first, "sessions");
            for r in second.records("sessions") {
                let t = parse_datetime(r["creationTime"].as_str().unwrap()).unwrap();
                assert!(t >= settle_start, "sessions re-read only from the first sync's cursor: {r}");
            }
        } else {
            assert!(
                twice.is_empty(),
                "{stream}: {} records emitted by both syncs, e.g. {:?}",
                twice.len(),
                twice.first()
            );
        }
    }
    assert!(second.keys("sessions").contains(&late_session), "the session that finished late is not lost");
    // Chats are current-state rows: the touched chat comes again, in its new version.
    let again: Vec<_> = second.records("chats").into_iter().filter(|r| r["chat_id"] == chat.as_str()).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(parse_datetime(again[0]["lastUserMessageDatetime"].as_str().unwrap()), Some(touched_at));
    let all_chats: HashSet<String> = first.keys("chats").union(&second.keys("chats")).cloned().collect();
    assert_same_keys("chats", &all_chats, &expected_keys(&mock, "chats", start, upper));
    // Full-refresh streams are read whole every time.
    for stream in ["contacts", "agents", "channels", "intents"] {
        assert_eq!(first.keys(stream), second.keys(stream));
    }
}

#[test]
fn records_on_window_edges_arrive_exactly_once() {
    let mock = mock_ending_ago(400, TimeDelta::days(1));
    let edge = midnight(Utc::now() - TimeDelta::days(5));
    let s = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let ms = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let edge_records = [
        ("EDGE_AT_S", s(edge)),
        ("EDGE_AT_MS", ms(edge)),
        ("EDGE_BEFORE_1MS", ms(edge - TimeDelta::milliseconds(1))),
        ("EDGE_BEFORE_1S", s(edge - TimeDelta::seconds(1))),
        ("EDGE_AFTER_1MS", ms(edge + TimeDelta::milliseconds(1))),
    ];
    mock.add_records(Stream::Messages, edge_records.iter().map(|(id, t)| message_at(id, t)).collect());
    let work = Workdir::new();
    let cat = catalog(&["messages"], true);

    // One sync from the day before: its first window ends exactly at the edge.
    let run = read(&work, &config(&mock, edge - TimeDelta::days(1)), &cat, None);
    assert_eq!(run.code, 0);
    let first_window_to = mock
        .requests()
        .iter()
        .filter(|r| r.endpoint == Some(Stream::Messages))
        .filter_map(|r| r.query.iter().find(|(k, _)| k == "from").map(|(_, v)| v.clone()))
        .any(|from| from == s(edge - TimeDelta::seconds(1)));
    assert!(first_window_to, "a window starts at the edge");
    let ids: Vec<String> = run.records("messages").iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    for (id, _) in &edge_records {
        assert_eq!(ids.iter().filter(|i| *i == id).count(), 1, "{id} exactly once");
    }
    run.keys("messages");

    // A sync resuming from the edge takes records at the edge (both forms), not before it.
    let state = json!([stream_state("messages", &ms(edge))]);
    let resumed = read(&work, &config(&mock, edge - TimeDelta::days(1)), &cat, Some(&state));
    let ids = resumed.keys("messages");
    for (id, wanted) in [
        ("EDGE_AT_S", true),
        ("EDGE_AT_MS", true),
        ("EDGE_AFTER_1MS", true),
        ("EDGE_BEFORE_1MS", false),
        ("EDGE_BEFORE_1S", false),
    ] {
        assert_eq!(ids.contains(id), wanted, "{id}");
    }
    // Together: every record of the mock exactly once.
    let before: HashSet<String> = run
        .records("messages")
        .iter()
        .filter(|r| parse_datetime(r["creationTime"].as_str().unwrap()).unwrap() < edge)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(before.is_disjoint(&ids));
    let union: HashSet<String> = before.union(&ids).cloned().collect();
    assert_same_keys("messages", &union, &expected_keys(&mock, "messages", edge - TimeDelta::days(1), Utc::now()));
}

/// Runs `read`, killing it after `lines` lines of output; returns the lines it got out.
fn read_and_kill(work: &Workdir, config: &Value, catalog: &Value, state: Option<&Value>, lines: usize) -> Vec<Value> {
    let c = work.write_json("config.json", config);
    let k = work.write_json("catalog.json", catalog);
    let mut cmd = Command::new(BIN);
    cmd.args(["read", "--config", path_str(&c), "--catalog", path_str(&k)]);
    if let Some(state) = state {
        let s = work.write_json("state.json", state);
        cmd.args(["--state", path_str(&s)]);
    }
    for (k, v) in FAST_RETRIES {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = Vec::new();
    let reader = BufReader::new(child.stdout.take().unwrap());
    for line in reader.lines() {
        let Ok(line) = line else { break };
        out.push(serde_json::from_str(&line).unwrap());
        if out.len() >= lines {
            child.kill().unwrap();
            break;
        }
    }
    let _ = child.wait();
    out
}

#[test]
fn a_sync_killed_at_any_point_resumes_from_its_last_state_without_loss() {
    let mut cfg = MockConfig::with_scale(3_000);
    cfg.rate_limits = false;
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    cfg.span_days = 20;
    cfg.latency = Latency { base_ms: 3, jitter_ms: 3 };
    let mock = mock_with(cfg);
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let cat = catalog(&["messages", "calls", "chats", "tickets", "sessions"], true);
    for kill_after in [40, 700, 2_500, 6_000] {
        let partial = read_and_kill(&work, &config(&mock, start), &cat, None, kill_after);
        let mut last_state: HashMap<String, Value> = HashMap::new();
        let mut got: HashMap<String, HashSet<String>> = HashMap::new();
        for m in &partial {
            match m["type"].as_str().unwrap() {
                "STATE" => {
                    last_state.insert(
                        m["state"]["stream"]["stream_descriptor"]["name"].as_str().unwrap().into(),
                        m["state"].clone(),
                    );
                }
                "RECORD" => {
                    let stream = m["record"]["stream"].as_str().unwrap();
                    got.entry(stream.into())
                        .or_default()
                        .insert(m["record"]["data"][pk_of(stream)].as_str().unwrap().into());
                }
                _ => {}
            }
        }
        let state = Value::Array(last_state.into_values().collect());
        let resumed = read(&work, &config(&mock, start), &cat, Some(&state));
        assert_eq!(resumed.code, 0, "after {kill_after} lines: {:?}", resumed.errors());
        resumed.assert_protocol_rules();
        for stream in INCREMENTAL {
            let mut all = got.remove(stream).unwrap_or_default();
            all.extend(resumed.keys(stream));
            let want = expected_keys(&mock, stream, start, Utc::now() - TimeDelta::minutes(2));
            let missing: Vec<_> = want.difference(&all).take(3).collect();
            assert!(missing.is_empty(), "killed after {kill_after} lines, {stream} lost {missing:?}");
        }
    }
}

#[test]
fn every_state_form_resumes_from_its_cursor() {
    let mock = mock_ending_ago(800, TimeDelta::hours(1));
    let start = mock.data_start() - TimeDelta::days(1);
    let cursor = midnight(Utc::now() - TimeDelta::days(4));
    let c = format_cursor(cursor);
    let blob = json!({"creationTime": c});
    let forms = [
        json!([stream_state("messages", &c)]),
        json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "messages", "namespace": null}, "stream_state": blob}, "global_": null, "data": null,
            "sourceStats": {"recordCount": 3.0, "rejectedRecordCount": null}, "destinationStats": null}]),
        json!([{"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": [{"stream_descriptor": {"name": "messages"}, "stream_state": blob}]}}]),
        json!([{"type": "LEGACY", "data": {"messages": blob}}]),
        json!({"messages": blob}),
        json!([stream_state("messages", &c), stream_state("not_in_catalog", "2020-01-01T00:00:00Z")]),
    ];
    let want = expected_keys(&mock, "messages", cursor, Utc::now());
    let work = Workdir::new();
    for state in forms {
        let run = read(&work, &config(&mock, start), &catalog(&["messages"], true), Some(&state));
        assert_eq!(run.code, 0, "{state}: {:?}", run.errors());
        assert_same_keys("messages", &run.keys("messages"), &want);
    }
    // No state, an empty one and a reset start from start_date.
    let everything = expected_keys(&mock, "messages", start, Utc::now());
    for state in [
        json!([]),
        json!({}),
        json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "messages"}, "stream_state": null}}]),
    ] {
        let run = read(&work, &config(&mock, start), &catalog(&["messages"], true), Some(&state));
        assert_same_keys("messages", &run.keys("messages"), &everything);
    }
    let empty_file = work.write_bytes("empty-state.json", b"");
    let cfg = work.write_json("config.json", &config(&mock, start));
    let cat = work.write_json("catalog.json", &catalog(&["messages"], true));
    let run = run_bin(
        &["read", "--config", path_str(&cfg), "--catalog", path_str(&cat), "--state", path_str(&empty_file)],
        &FAST_RETRIES,
    );
    assert_same_keys("messages", &run.keys("messages"), &everything);
    // A full refresh ignores the state.
    let run = read(
        &work,
        &config(&mock, start),
        &catalog(&["messages"], false),
        Some(&json!([stream_state("messages", &c)])),
    );
    assert_same_keys("messages", &run.keys("messages"), &everything);
}

#[test]
fn a_malformed_state_fails_that_stream_only_and_names_it() {
    let mock = mock_ending_ago(100, TimeDelta::hours(1));
    let work = Workdir::new();
    let state = json!([stream_state("messages", "not a date")]);
    let run = read(&work, &config(&mock, mock.data_start()), &catalog(&["messages", "channels"], true), Some(&state));
    assert_eq!(run.code, 1);
    assert_eq!(run.statuses("messages"), ["STARTED", "INCOMPLETE"]);
    assert_eq!(run.statuses("channels").last().unwrap(), "COMPLETE");
    let error = run.errors()[0]["trace"]["error"].clone();
    assert_eq!(error["failure_type"], "config_error");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("'messages'") && message.contains("not a date"), "{message}");
}

/// A cursor in the future (a state edited by hand, a clock that ran ahead) is kept, not moved
/// back, and each stream says so in a WARN log rather than reading nothing in silence.
#[test]
fn a_cursor_in_the_future_reads_nothing_and_keeps_the_cursor() {
    let mock = mock_ending_ago(200, TimeDelta::hours(1));
    let work = Workdir::new();
    let future = "2031-01-01T00:00:00.000Z";
    let state: Vec<Value> = INCREMENTAL.iter().map(|s| stream_state(s, future)).collect();
    let run = read(&work, &config(&mock, mock.data_start()), &catalog(&INCREMENTAL, true), Some(&Value::Array(state)));
    assert_eq!(run.code, 0);
    assert!(run.of_type("RECORD").is_empty());
    for stream in INCREMENTAL {
        let states = run.states(stream);
        assert_eq!(states.len(), 1, "{stream}");
        assert_eq!(states[0]["state"]["stream"]["stream_state"][cursor_field(stream)], future);
        assert_eq!(run.statuses(stream), ["STARTED", "COMPLETE"]);
        let warned = run.logs().iter().any(|l| l.contains(&format!("{stream}: the saved state's cursor")));
        assert!(warned, "no warning for {stream}: {:?}", run.logs());
    }
    let windowed = mock
        .requests()
        .iter()
        .filter(|r| matches!(r.endpoint, Some(Stream::Messages | Stream::Chats | Stream::Calls | Stream::Sessions)))
        .count();
    assert_eq!(windowed, 0, "nothing is requested past a future cursor");
}

#[test]
fn long_term_search_is_sent_only_for_windows_older_than_the_recent_window() {
    let mock = mock_ending_ago(1_000, TimeDelta::minutes(30));
    let work = Workdir::new();
    let run = read(
        &work,
        &config(&mock, mock.data_start()),
        &catalog(&["chats", "messages", "sessions", "calls"], true),
        None,
    );
    assert_eq!(run.code, 0);
    let mut with = 0;
    let mut without = 0;
    for r in mock.requests() {
        let Some(stream) = r.endpoint else { continue };
        let Some(from) = r.query.iter().find(|(k, _)| k == "from").and_then(|(_, v)| parse_datetime(v)) else {
            continue;
        };
        let recent = TimeDelta::days(if stream == Stream::Messages { 3 } else { 7 });
        let recent_start = r.at - recent;
        if r.long_term_search {
            with += 1;
            assert!(
                from < recent_start + TimeDelta::hours(1) + TimeDelta::minutes(1),
                "{stream}: long-term search for a recent window from {from}"
            );
        } else if stream == Stream::Calls {
            // The docs state no recent window for /calls: old windows are asked plainly first
            // and the answer decides (the mock hides them from plain requests).
            without += 1;
        } else {
            without += 1;
            assert!(from >= recent_start, "{stream}: plain request reaching before the recent window from {from}");
        }
    }
    assert!(with > 0 && without > 0, "both kinds: {with} with, {without} without");
    let calls_plain_old = mock
        .requests()
        .iter()
        .filter(|r| r.endpoint == Some(Stream::Calls) && !r.long_term_search)
        .filter(|r| {
            r.query.iter().any(|(k, v)| k == "from" && parse_datetime(v).is_some_and(|f| f < r.at - TimeDelta::days(7)))
        })
        .count();
    // Up to four windows of a stream run at once, so up to four probes leave before the first
    // answer proves long-term search is needed.
    assert!((1..=4).contains(&calls_plain_old), "{calls_plain_old} plain probes of old calls");
    let summary = run.logs().into_iter().find(|l| l.starts_with("Read finished")).unwrap();
    assert!(summary.contains("with long-term search"), "{summary}");
}

#[test]
fn lookback_rereads_calls_and_tickets_without_moving_the_cursor_back() {
    let mock = mock_ending_ago(600, TimeDelta::hours(1));
    let work = Workdir::new();
    let mut cfg = config(&mock, mock.data_start() - TimeDelta::days(1));
    cfg["lookback_window_days"] = json!(2);
    let cat = catalog(&["calls", "tickets"], true);
    let first = read(&work, &cfg, &cat, None);
    let second = read(&work, &cfg, &cat, Some(&first.final_state()));
    assert_eq!(second.code, 0);
    second.assert_protocol_rules();
    for stream in ["calls", "tickets"] {
        let c1 = final_cursor(&first, stream);
        assert!(!second.keys(stream).is_empty(), "{stream}: the lookback span is read again");
        for r in second.records(stream) {
            let t = parse_datetime(r[cursor_field(stream)].as_str().unwrap()).unwrap();
            assert!(t >= c1 - TimeDelta::days(2), "{stream}: nothing older than the lookback");
        }
        for s in second.states(stream) {
            let c =
                parse_datetime(s["state"]["stream"]["stream_state"][cursor_field(stream)].as_str().unwrap()).unwrap();
            assert!(c >= c1, "{stream}: the cursor never moves back");
        }
    }
}
