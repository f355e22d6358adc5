//! `read` of every stream against the mock: exactly the mock's records, valid against their
//! schemas, with the protocol's statuses and states.

use std::collections::HashSet;

use crate::common::*;
use botmaker_mock::{MockConfig, Scenario, Stream};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

const ALL: [&str; 9] =
    ["chats", "messages", "sessions", "calls", "contacts", "agents", "channels", "intents", "tickets"];

/// A mock whose data ends an hour ago (so a sync started now sees all of it), without rate limits.
fn mock_at_scale(scale: u64) -> botmaker_mock::MockServer {
    let mut cfg = MockConfig::with_scale(scale);
    cfg.rate_limits = false;
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    cfg.span_days = 30;
    mock_with(cfg)
}

fn config_from(mock: &botmaker_mock::MockServer, start: DateTime<Utc>, long_term_search: bool) -> Value {
    json!({
        "access_token": mock.token(),
        "start_date": start.to_rfc3339(),
        "long_term_search": long_term_search,
        "api_url": mock.base_url(),
    })
}

/// `before ⊆ got ⊆ after`: for sets that may legitimately change while a sync runs (sessions
/// finishing, windows that depend on the sync's exact start).
fn assert_bracketed(stream: &str, got: &HashSet<String>, before: &HashSet<String>, after: &HashSet<String>) {
    let missing: Vec<_> = before.difference(got).take(5).collect();
    let extra: Vec<_> = got.difference(after).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{stream}: missing {missing:?}, unexpected {extra:?}");
}

#[test]
fn a_full_read_returns_exactly_the_mock_records_at_several_scales() {
    for scale in [0, 40, 2_500] {
        let mock = mock_at_scale(scale);
        let start = mock.data_start() - TimeDelta::days(1);
        let work = Workdir::new();
        let before = Utc::now();
        let sessions_before = expected_keys(&mock, "sessions", start, before);
        let run = read(&work, &config_from(&mock, start, true), &catalog(&ALL, false), None);
        assert_eq!(run.code, 0, "scale {scale}: {:?}", run.errors());
        run.assert_protocol_rules();
        for stream in ALL {
            let got = run.keys(stream);
            if stream == "sessions" {
                let after = expected_keys(&mock, "sessions", start, Utc::now());
                assert_bracketed(stream, &got, &sessions_before, &after);
            } else {
                assert_same_keys(stream, &got, &expected_keys(&mock, stream, start, Utc::now()));
            }
            let statuses = run.statuses(stream);
            let want: &[&str] =
                if got.is_empty() { &["STARTED", "COMPLETE"] } else { &["STARTED", "RUNNING", "COMPLETE"] };
            assert_eq!(statuses, want, "scale {scale} {stream}");
            assert!(!run.states(stream).is_empty(), "scale {scale}: {stream} ends with a state even when empty");
        }
        if scale > 0 {
            assert!(run.records("chats").len() > 250 || scale < 250, "chats span several pages");
        }
        assert_records_match_schemas(&run);
    }
}

#[test]
fn records_are_flattened_kept_whole_and_free_of_secrets() {
    let mock = mock_at_scale(60);
    let work = Workdir::new();
    let run = read(
        &work,
        &config_from(&mock, mock.data_start(), true),
        &catalog(&["chats", "messages", "calls", "sessions", "channels"], false),
        None,
    );
    assert_eq!(run.code, 0);
    for stream in ["chats", "messages", "calls"] {
        for r in run.records(stream) {
            assert!(r.get("chat").is_none(), "{stream}: chat is flattened");
            assert!(r["chat_id"].is_string() && r["channel_id"].is_string(), "{stream}: {r}");
        }
    }
    for r in run.records("sessions") {
        assert_eq!(r["chat_id"], r["chat"]["chat"]["chatId"], "sessions keep chat and gain chat_id");
    }
    assert!(run.records("chats").iter().any(|r| r["variables"].is_object()), "variables stay an object");
    let channels = run.records("channels");
    assert_eq!(channels.len(), 6);
    let all = run.stdout.to_lowercase();
    assert!(
        !all.contains("telegram-bot-secret") && !all.contains("webhook-secret"),
        "secrets from the API are not emitted"
    );
    for c in channels {
        assert!(c.get("token").is_none());
    }
}

#[test]
fn without_long_term_search_only_the_recent_window_is_read_and_the_skip_is_logged() {
    let mock = mock_at_scale(3_000);
    let work = Workdir::new();
    let start = mock.data_start();
    let before = Utc::now();
    let run = read(
        &work,
        &config_from(&mock, start, false),
        &catalog(&["chats", "messages", "sessions", "calls"], false),
        None,
    );
    let after = Utc::now();
    assert_eq!(run.code, 0, "{:?}", run.errors());
    run.assert_protocol_rules();
    assert!(mock.requests().iter().all(|r| !r.long_term_search), "no long-term search without the option");
    for (stream, recent_days) in [("chats", 7), ("messages", 3), ("sessions", 7), ("calls", 7)] {
        // The recent window starts an hour inside Botmaker's, measured from the sync's start;
        // for calls, whose docs state none, old windows are asked too and the mock's own
        // 7-day window decides.
        let margin = if stream == "calls" { TimeDelta::zero() } else { TimeDelta::hours(1) };
        let window_start = |t: DateTime<Utc>| t - TimeDelta::days(recent_days) + margin;
        let got = run.keys(stream);
        let inner = expected_keys(&mock, stream, window_start(after), before - TimeDelta::minutes(2));
        let outer = expected_keys(&mock, stream, window_start(before), after);
        assert_bracketed(stream, &got, &inner, &outer);
        assert!(!got.is_empty() && got.len() < 3_000, "{stream}: only recent records ({})", got.len());
        let planned = if stream == "calls" { "these ranges have not been read yet" } else { "not reading" };
        let logged =
            run.logs().iter().any(|l| l.starts_with(&format!("{stream}: {planned}")) && l.contains("long_term_search"));
        assert!(logged, "{stream}: the skipped range is logged: {:?}", run.logs());
    }
}

#[test]
fn sessions_request_milliseconds_and_only_the_includes_asked_for() {
    let mock = mock_at_scale(300);
    let work = Workdir::new();
    let mut config = config_from(&mock, mock.data_start(), true);
    let run = read(&work, &config, &catalog(&["sessions"], false), None);
    assert_eq!(run.code, 0);
    let requests: Vec<_> = mock.requests().into_iter().filter(|r| r.endpoint == Some(Stream::Sessions)).collect();
    let first_pages: Vec<_> = requests.iter().filter(|r| r.query.iter().any(|(k, _)| k == "from")).collect();
    assert!(!first_pages.is_empty());
    for r in &first_pages {
        assert!(r.query.contains(&("timestamp-precision".into(), "milliseconds".into())), "{:?}", r.query);
        assert!(!r.query.iter().any(|(k, _)| k.starts_with("include-")), "{:?}", r.query);
    }
    for s in run.records("sessions") {
        assert!(s.get("messages").is_none() && s.get("events").is_none() && s.get("aiAnalysis").is_none());
        assert!(s["creationTime"].as_str().unwrap().contains('.'), "millisecond precision: {}", s["creationTime"]);
    }

    mock.clear_requests();
    config["include_session_messages"] = json!(true);
    config["include_session_events"] = json!(true);
    config["include_session_ai_analysis"] = json!(true);
    let run = read(&work, &config, &catalog(&["sessions"], false), None);
    assert_eq!(run.code, 0);
    for r in mock
        .requests()
        .iter()
        .filter(|r| r.endpoint == Some(Stream::Sessions) && r.query.iter().any(|(k, _)| k == "from"))
    {
        for include in ["include-messages", "include-events", "include-ai-analysis"] {
            assert!(r.query.contains(&(include.into(), "true".into())), "{include}: {:?}", r.query);
        }
    }
    let sessions = run.records("sessions");
    assert!(!sessions.is_empty());
    assert!(sessions.iter().all(|s| s["messages"].is_array() && s["events"].is_array() && s["aiAnalysis"].is_object()));
    assert_records_match_schemas(&run);
}

#[test]
fn tickets_are_read_across_many_offset_pages() {
    let mut cfg = MockConfig::with_scale(0);
    cfg.counts.tickets = 4_321;
    cfg.rate_limits = false;
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    let mock = mock_with(cfg);
    let work = Workdir::new();
    let start = mock.data_start() - TimeDelta::days(1);
    let run = read(&work, &config_from(&mock, start, true), &catalog(&["tickets"], true), None);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    assert_same_keys("tickets", &run.keys("tickets"), &expected_keys(&mock, "tickets", start, Utc::now()));
    let pages = mock.requests().iter().filter(|r| r.endpoint == Some(Stream::Tickets)).count();
    assert!(pages >= 9, "{pages} pages of at most 500");
    for r in mock.requests().iter().filter(|r| r.endpoint == Some(Stream::Tickets)) {
        assert!(r.query.contains(&("limit".into(), "500".into())));
    }
    let estimate = run.messages.iter().find(|m| m["trace"]["type"] == "ESTIMATE").expect("an ESTIMATE for tickets");
    assert_eq!(estimate["trace"]["estimate"]["row_estimate"], 4_321);
    run.assert_protocol_rules();
}

#[test]
fn a_next_page_on_another_host_is_refused_and_the_token_never_goes_there() {
    let mock = mock_at_scale(1_000);
    let elsewhere = fast_mock(10);
    let host = format!("127.0.0.1:{}", elsewhere.port());
    mock.set_scenario(Stream::Contacts, Some(Scenario::ForeignNextPage(host.clone())));
    mock.set_scenario(Stream::Agents, Some(Scenario::ForeignNextPage("localhost".into())));
    let work = Workdir::new();
    let run = read(
        &work,
        &config_from(&mock, mock.data_start(), true),
        &catalog(&["contacts", "agents", "channels"], false),
        None,
    );
    assert_eq!(run.code, 1);
    assert!(elsewhere.requests().is_empty(), "nothing was sent to the other host");
    for stream in ["contacts", "agents"] {
        assert_eq!(run.statuses(stream).last().unwrap(), "INCOMPLETE");
        let error =
            run.errors().into_iter().find(|e| e["trace"]["error"]["stream_descriptor"]["name"] == stream).unwrap();
        assert!(error["trace"]["error"]["message"].as_str().unwrap().contains("not the configured api_url"), "{error}");
    }
    assert_eq!(run.statuses("channels").last().unwrap(), "COMPLETE", "other streams still complete");
    assert_eq!(run.records("channels").len(), 6);
    assert!(!run.stdout.contains(&mock.token()));
}

#[test]
fn a_failing_stream_does_not_hide_the_others() {
    let mock = mock_at_scale(200);
    mock.set_scenario(
        Stream::Messages,
        Some(Scenario::Fixed { status: 404, content_type: "text/plain".into(), body: "Not Found".into() }),
    );
    let work = Workdir::new();
    let start = mock.data_start();
    let run = read(&work, &config_from(&mock, start, true), &catalog(&["messages", "calls", "agents"], true), None);
    assert_eq!(run.code, 1);
    assert_eq!(run.statuses("messages"), ["STARTED", "INCOMPLETE"]);
    assert_same_keys("calls", &run.keys("calls"), &expected_keys(&mock, "calls", start, Utc::now()));
    assert_same_keys("agents", &run.keys("agents"), &expected_keys(&mock, "agents", start, Utc::now()));
    let last = run.errors().last().unwrap()["trace"]["error"].clone();
    assert!(last["message"].as_str().unwrap().contains("messages"), "{last}");
    assert!(last["message"].as_str().unwrap().contains("404"), "{last}");
    assert!(last["stream_descriptor"].is_null(), "the final error is about the sync");
    run.assert_protocol_rules();
}

#[test]
fn streams_outside_the_catalog_are_never_read_and_unknown_ones_are_reported() {
    let mock = mock_at_scale(50);
    let work = Workdir::new();
    let mut cat = catalog(&["channels"], false);
    cat["streams"].as_array_mut().unwrap().push(json!({"stream": {"name": "dashboards", "json_schema": {}}, "sync_mode": "full_refresh", "destination_sync_mode": "append"}));
    let mut contacts_incremental = catalog(&["contacts"], false)["streams"][0].clone();
    contacts_incremental["sync_mode"] = json!("incremental");
    cat["streams"].as_array_mut().unwrap().push(contacts_incremental);
    let run = read(&work, &config_for(&mock), &cat, None);
    assert_eq!(run.code, 1);
    let endpoints: HashSet<_> = mock.requests().iter().filter_map(|r| r.endpoint).collect();
    assert_eq!(endpoints, HashSet::from([Stream::Channels, Stream::Contacts]), "only catalogued streams are requested");
    assert_eq!(run.statuses("channels"), ["STARTED", "RUNNING", "COMPLETE"]);
    assert_eq!(run.statuses("dashboards").last().unwrap(), "INCOMPLETE");
    let text: Vec<String> =
        run.errors().iter().map(|e| e["trace"]["error"]["message"].as_str().unwrap().to_string()).collect();
    assert!(text.iter().any(|m| m.contains("'dashboards'") && m.contains("Refresh the source schema")), "{text:?}");
    assert_eq!(
        run.statuses("contacts").last().unwrap(),
        "COMPLETE",
        "incremental on a full-refresh stream reads it in full"
    );
    assert_eq!(run.records("contacts").len(), 50);
    assert!(run.logs().iter().any(|l| l.starts_with("contacts: has no cursor")), "{:?}", run.logs());
    assert_eq!(run.errors().last().unwrap()["trace"]["error"]["failure_type"], "config_error");
}
