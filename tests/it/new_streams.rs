//! The thirteen streams issue 15 added, read through the real binary against the mock: a full
//! read and an incremental read of each give exactly the mock's records (as the connector
//! reshapes them: secrets removed, plain strings wrapped, counters sent as text emitted as
//! numbers), valid against their schemas; the billed dashboards only with their opt-in; the
//! rate limits respected; notification history beyond Botmaker's retention reported, never
//! requested.

use std::collections::{BTreeMap, HashMap};

use crate::common::*;
use botmaker_mock::{
    semantically_equal, MockConfig, MockServer, NextPageKey, Stream, TimestampShape, Variants, AGENT_METRIC_COUNTERS,
};
use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};
use serde_json::{json, Value};

const NEW: [&str; 13] = [
    "whatsapp_templates",
    "whatsapp_accounts",
    "agent_metrics",
    "agent_performance",
    "campaigns",
    "notification_results",
    "roles",
    "variables",
    "typifications",
    "ticket_field_definitions",
    "webhooks",
    "contacts_blacklist",
    "billed_conversations",
];

const FULL_REFRESH: [&str; 9] = [
    "whatsapp_templates",
    "whatsapp_accounts",
    "campaigns",
    "roles",
    "variables",
    "typifications",
    "ticket_field_definitions",
    "webhooks",
    "contacts_blacklist",
];

/// A mock configuration whose data ends an hour ago and spans `span_days`; tests that need a
/// stream to span several pages raise its count (campaigns page at 250, roles 50, blacklist
/// 1000, billed conversations 2500).
fn config_for_new_streams(rate_limits: bool, scale: u64, span_days: u32) -> MockConfig {
    let mut cfg = MockConfig::with_scale(scale);
    cfg.rate_limits = rate_limits;
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    cfg.span_days = span_days;
    cfg
}

fn mock_for_new_streams(rate_limits: bool, scale: u64, span_days: u32) -> MockServer {
    mock_with(config_for_new_streams(rate_limits, scale, span_days))
}

fn config_from(mock: &MockServer, start: DateTime<Utc>, include_bi_dashboards: bool) -> Value {
    json!({
        "access_token": mock.token(),
        "start_date": start.to_rfc3339(),
        "api_url": mock.base_url(),
        "include_bi_dashboards": include_bi_dashboards,
    })
}

/// The primary key of a record as the connector emits it.
fn key_of(stream: &str, record: &Value) -> String {
    let field = |name: &str| -> String {
        match &record[name] {
            Value::String(s) => s.clone(),
            other => panic!("{stream}: `{name}` is {other} in {record}"),
        }
    };
    match stream {
        "whatsapp_templates" => format!("{}|{}", field("name"), field("locale")),
        "whatsapp_accounts" => field("number"),
        "agent_metrics" => format!("{}|{}", field("sessionId"), field("agentId")),
        // The same instant may come as other text (epoch milliseconds rewritten as RFC 3339).
        "agent_performance" => {
            format!("{}|{}", field("agentEmail"), format_cursor(parse_datetime(&field("checkin")).unwrap()))
        }
        "notification_results" => field("notificationInstanceId"),
        "billed_conversations" => field("whatsappConversationId"),
        "contacts_blacklist" => field("contact"),
        _ => field("id"),
    }
}

/// The time a windowed or monthly stream's record is placed by.
fn time_of(stream: &str, record: &Value) -> DateTime<Utc> {
    let field = match stream {
        "agent_metrics" => "sessionCreationTime",
        "agent_performance" => "checkin",
        "notification_results" => "start",
        "billed_conversations" => "startDatetime",
        other => panic!("{other} has no cursor"),
    };
    parse_datetime(record[field].as_str().unwrap()).unwrap()
}

/// What the connector makes of a record the mock serves.
fn as_emitted(stream: &str, served: &Value) -> Value {
    match stream {
        "contacts_blacklist" => json!({"contact": served}),
        "webhooks" => {
            let mut record = served.clone();
            assert!(record.as_object_mut().unwrap().remove("token").is_some(), "the mock's webhooks carry a token");
            record
        }
        "agent_metrics" => {
            let mut record = served.clone();
            // The fields Botmaker sends as text and the connector emits as numbers.
            for name in AGENT_METRIC_COUNTERS {
                let Some(Value::String(text)) = record.get(name).cloned() else { continue };
                record[name] = match text.parse::<serde_json::Number>() {
                    Ok(n) if n.to_string() == text => Value::Number(n),
                    _ if text.trim().is_empty() || text == "-" => Value::Null,
                    _ => panic!("agent_metrics: the mock sent {name} = {text:?}"),
                };
            }
            record
        }
        _ => served.clone(),
    }
}

/// The records of `stream` the mock serves, as emitted, by primary key.
fn expected_records(
    mock: &MockServer,
    stream: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<String, Value> {
    let s = mock_stream(stream);
    let served = if s.is_windowed() { mock.expected(s, from, to) } else { mock.expected_all(s) };
    served
        .iter()
        .map(|r| {
            let record = as_emitted(stream, r);
            (key_of(stream, &record), record)
        })
        .collect()
}

/// The records of `stream` a run emitted, by primary key, each once.
fn emitted_records(run: &Run, stream: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for r in run.records(stream) {
        let key = key_of(stream, r);
        assert!(out.insert(key.clone(), r.clone()).is_none(), "{stream}: {key} emitted twice in one sync");
    }
    out
}

fn assert_same_records(stream: &str, got: &BTreeMap<String, Value>, want: &BTreeMap<String, Value>) {
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).take(3).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{stream}: got {} records, want {}; missing e.g. {missing:?}; unexpected e.g. {extra:?}",
        got.len(),
        want.len()
    );
    for (key, record) in want {
        assert_eq!(&got[key], record, "{stream}: record {key} differs from the mock's");
    }
}

fn first_of_month(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0).unwrap()
}

fn cursor_of(run: &Run, stream: &str, field: &str) -> DateTime<Utc> {
    let state = &run.states(stream).last().unwrap()["state"]["stream"]["stream_state"];
    parse_datetime(state[field].as_str().unwrap_or_else(|| panic!("{stream}: state {state}"))).unwrap()
}

#[test]
fn a_full_read_of_every_new_stream_returns_exactly_the_mock_records() {
    let cfg = config_for_new_streams(false, 1_000, 30)
        .with_count(Stream::Campaigns, 600)
        .with_count(Stream::Roles, 120)
        .with_count(Stream::ContactsBlacklist, 2_100)
        .with_count(Stream::BilledConversations, 6_000)
        .with_count(Stream::NotificationResults, 1_200);
    let mock = mock_with(cfg);
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let run = read(&work, &config_from(&mock, start, true), &catalog(&NEW, false), None);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    run.assert_protocol_rules();
    let now = Utc::now();
    for stream in NEW {
        let from = if stream == "billed_conversations" { first_of_month(start) } else { start };
        let want = expected_records(&mock, stream, from, now);
        assert!(!want.is_empty(), "{stream}: the mock serves records");
        assert_same_records(stream, &emitted_records(&run, stream), &want);
        assert_eq!(run.statuses(stream), ["STARTED", "RUNNING", "COMPLETE"], "{stream}");
    }
    assert_records_match_schemas(&run);
    // Several pages where the endpoint pages.
    let requests = mock.requests();
    let count = |s: Stream| requests.iter().filter(|r| r.endpoint == Some(s) && r.status == 200).count();
    for (s, pages) in [(Stream::Campaigns, 3), (Stream::Roles, 3), (Stream::ContactsBlacklist, 3)] {
        assert!(count(s) >= pages, "{s}: {} requests", count(s));
    }
    // Billed conversations asked month by month, from the start date's month.
    let periods: Vec<String> = requests
        .iter()
        .filter(|r| r.endpoint == Some(Stream::BilledConversations) && !r.query.iter().any(|(k, _)| k == "page-token"))
        .filter_map(|r| r.query.iter().find(|(k, _)| k == "billingPeriod").map(|(_, v)| v.clone()))
        .collect();
    assert!(periods.contains(&start.format("%Y-%m").to_string()), "{periods:?}");
    assert!(periods.contains(&now.format("%Y-%m").to_string()), "{periods:?}");
    // Agent metrics: closed sessions only, as the endpoint requires a status.
    for r in requests.iter().filter(|r| r.endpoint == Some(Stream::AgentMetrics)) {
        assert!(
            r.query.contains(&("session-status".into(), "closed".into()))
                || r.query.iter().any(|(k, _)| k == "page-token")
        );
        assert!(!r.long_term_search, "the dashboards take no long-term search");
    }
    // Counters arrive as text, by the spec: converting them is not worth a warning.
    let warnings = run.warnings();
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert!(run.records("agent_metrics").iter().any(|r| r["onHold"].is_number()));
    assert!(run.records("agent_metrics").iter().any(|r| r["avgResponseTime"].is_null()), "`-` becomes null");
    // Webhook tokens never reach the output.
    assert!(!run.stdout.contains("whk-token-secret"));
}

#[test]
fn an_incremental_read_of_every_new_stream_picks_up_new_data_and_rereads_only_on_purpose() {
    let mock = mock_for_new_streams(false, 800, 30);
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let cat = catalog(&NEW, true);
    let config = config_from(&mock, start, true);
    let first = read(&work, &config, &cat, None);
    assert_eq!(first.code, 0, "{:?}", first.errors());
    first.assert_protocol_rules();
    let state = first.final_state();
    let now = Utc::now();
    // The cursors: two minutes behind now, agent metrics the settle time behind, billed
    // conversations at the start of the month still open.
    let metrics_cursor = cursor_of(&first, "agent_metrics", "sessionCreationTime");
    assert!(metrics_cursor <= now - TimeDelta::days(2) && metrics_cursor > now - TimeDelta::days(3));
    for (stream, field) in [("agent_performance", "checkin"), ("notification_results", "start")] {
        let c = cursor_of(&first, stream, field);
        assert!(c <= now - TimeDelta::minutes(2) && c > now - TimeDelta::minutes(10), "{stream}: {c}");
    }
    let billed_cursor = cursor_of(&first, "billed_conversations", "startDatetime");
    let open_month = first_of_month(now - TimeDelta::days(1));
    assert_eq!(billed_cursor, open_month, "the month still open is not checkpointed");

    // New records after each cursor.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let mut added: HashMap<&str, Vec<String>> = HashMap::new();
    for (stream, field) in [
        ("agent_metrics", "sessionCreationTime"),
        ("agent_performance", "checkin"),
        ("notification_results", "start"),
        ("billed_conversations", "startDatetime"),
    ] {
        // Just after the cursor, and before the second sync's end of reading (two minutes before
        // it starts, at least two seconds after the first one started).
        let c = cursor_of(&first, stream, field) + TimeDelta::seconds(1);
        let keys = mock.add_generated(mock_stream(stream), 5, c, c + TimeDelta::seconds(1));
        // The mock's keys in the form `key_of` gives (agent_performance's check-in as a cursor).
        let keys: Vec<String> = keys
            .into_iter()
            .map(|k| match (stream, k.split_once('|')) {
                ("agent_performance", Some((email, at))) => {
                    format!("{email}|{}", format_cursor(parse_datetime(at).unwrap()))
                }
                _ => k,
            })
            .collect();
        added.insert(stream, keys);
    }
    let second = read(&work, &config, &cat, Some(&state));
    assert_eq!(second.code, 0, "{:?}", second.errors());
    second.assert_protocol_rules();
    let upper = Utc::now();
    for stream in NEW {
        let (a, b) = (emitted_records(&first, stream), emitted_records(&second, stream));
        if FULL_REFRESH.contains(&stream) {
            assert_eq!(a, b, "{stream}: read whole every time");
            continue;
        }
        for key in &added[stream] {
            assert!(b.contains_key(key), "{stream}: the new record {key} is read by the second sync");
        }
        let from = if stream == "billed_conversations" { first_of_month(start) } else { start };
        let mut union = a.clone();
        union.extend(b.clone());
        assert_same_records(stream, &union, &expected_records(&mock, stream, from, upper));
        // Read again only where the stream means to.
        let reread_from = match stream {
            "agent_metrics" => metrics_cursor,
            "agent_performance" => cursor_of(&first, stream, "checkin") - TimeDelta::days(1),
            "notification_results" => cursor_of(&first, stream, "start") - TimeDelta::days(3),
            _ => billed_cursor,
        };
        for (key, record) in b.iter().filter(|(k, _)| a.contains_key(*k)) {
            assert!(time_of(stream, record) >= reread_from, "{stream}: {key} read again from before {reread_from}");
        }
        if stream == "billed_conversations" {
            // Exactly the months still open (on a month's first day, the previous one too).
            assert_same_records(stream, &b, &expected_records(&mock, stream, billed_cursor, upper));
        } else {
            assert!(b.len() < a.len(), "{stream}: the second sync does not read everything again");
        }
    }
    assert_records_match_schemas(&second);
}

#[test]
fn the_billed_dashboards_need_their_opt_in_and_the_other_streams_still_sync() {
    let mock = mock_for_new_streams(false, 100, 10);
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let run = read(
        &work,
        &config_from(&mock, start, false),
        &catalog(&["agent_metrics", "agent_performance", "roles"], true),
        None,
    );
    assert_eq!(run.code, 1);
    let error = &run.errors().last().unwrap()["trace"]["error"];
    assert_eq!(error["failure_type"], "config_error");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("agent_metrics") && message.contains("include_bi_dashboards"), "{message}");
    for stream in ["agent_metrics", "agent_performance"] {
        assert_eq!(run.statuses(stream), ["STARTED", "INCOMPLETE"], "{stream}");
    }
    assert_eq!(run.statuses("roles"), ["STARTED", "RUNNING", "COMPLETE"]);
    let dashboards = mock
        .requests()
        .iter()
        .filter(|r| matches!(r.endpoint, Some(Stream::AgentMetrics | Stream::AgentPerformance)))
        .count();
    assert_eq!(dashboards, 0, "nothing billed was requested");
}

#[test]
fn with_rate_limits_on_no_request_is_refused() {
    let mock = mock_for_new_streams(true, 300, 6);
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let run = read(&work, &config_from(&mock, start, true), &catalog(&NEW, true), None);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    let requests = mock.requests();
    let refused: Vec<_> = requests.iter().filter(|r| r.status == 429).map(|r| r.path.clone()).collect();
    assert!(refused.is_empty(), "429s from the mock: {refused:?}");
    for stream in NEW {
        let s = mock_stream(stream);
        assert!(requests.iter().any(|r| r.endpoint == Some(s)), "{stream} was read");
    }
}

#[test]
fn notification_history_beyond_botmakers_three_months_is_reported_not_requested() {
    let mock = mock_with(config_for_new_streams(false, 100, 150).with_count(Stream::NotificationResults, 400));
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let cat = catalog(&["notification_results"], true);
    let run = read(&work, &config_from(&mock, start, false), &cat, None);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    let refused: Vec<_> = mock.requests().into_iter().filter(|r| r.status != 200).collect();
    assert!(refused.is_empty(), "requests beyond the retention: {refused:?}");
    let warning = run.logs().into_iter().find(|l| l.contains("is unavailable")).expect("a warning names the range");
    assert!(warning.starts_with("notification_results: ") && warning.contains("89 days"), "{warning}");
    let got = emitted_records(&run, "notification_results");
    let oldest = got.values().map(|r| time_of("notification_results", r)).min().unwrap();
    assert!(oldest > Utc::now() - TimeDelta::days(89), "{oldest}");
    let want = expected_records(&mock, "notification_results", oldest, Utc::now());
    assert_same_records("notification_results", &got, &want);
    assert!(
        mock.count(Stream::NotificationResults, start, oldest) > 0,
        "the mock holds older sendings, so the test means something"
    );
    // The state passes over what no sync can read: the next one neither warns nor asks again.
    let state = run.final_state();
    let stream_state = &run.states("notification_results").last().unwrap()["state"]["stream"]["stream_state"];
    assert!(stream_state.get("gaps").is_none(), "{stream_state}");
    mock.clear_requests();
    let again = read(&work, &config_from(&mock, start, false), &cat, Some(&state));
    assert_eq!(again.code, 0);
    assert!(!again.logs().iter().any(|l| l.contains("is unavailable")), "{:?}", again.logs());
    for r in mock.requests() {
        let from = r.query.iter().find(|(k, _)| k == "from").map(|(_, v)| parse_datetime(v).unwrap());
        assert!(from.is_none_or(|f| f > Utc::now() - TimeDelta::days(5)), "asked from {from:?}");
    }
}

#[test]
fn other_readings_of_the_api_are_read_the_same() {
    let mut cfg = config_for_new_streams(false, 200, 10)
        .with_count(Stream::TicketFieldDefinitions, 4)
        .with_count(Stream::Campaigns, 600)
        .with_count(Stream::ContactsBlacklist, 2_100)
        .with_count(Stream::BilledConversations, 5_500);
    cfg.variants = Variants {
        field_definitions_list: true,
        next_page_key: NextPageKey::NextPageURL,
        numbers_as_strings: true,
        strings_as_numbers: true,
        timestamps: TimestampShape::Mixed,
        // An empty page before every further page, so that campaigns and the blacklist (three
        // pages each) bring two each, however the windowed streams' windows fall on the clock
        // (with one every second page, the whole read sometimes brought only two).
        empty_pages_every: 1,
        ..Variants::none()
    };
    let mock = mock_with(cfg);
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let streams = [
        "ticket_field_definitions",
        "campaigns",
        "roles",
        "contacts_blacklist",
        "agent_metrics",
        "agent_performance",
        "notification_results",
        "billed_conversations",
    ];
    let run = read(&work, &config_from(&mock, start, true), &catalog(&streams, false), None);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    run.assert_protocol_rules();
    for stream in streams {
        let from = if stream == "billed_conversations" { first_of_month(start) } else { start };
        let want = expected_records(&mock, stream, from, Utc::now());
        // Numbers sent for text fields (blacklisted numbers among them) come out as text.
        let got: BTreeMap<String, Value> =
            run.records(stream).into_iter().map(|r| (key_of(stream, r), r.clone())).collect();
        assert_eq!(got.len(), run.records(stream).len(), "{stream}: each record once");
        let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).take(3).collect();
        assert!(missing.is_empty() && got.len() == want.len(), "{stream}: missing {missing:?}");
        for (key, record) in &want {
            assert!(
                semantically_equal(&got[key], record),
                "{stream}: {key} differs\n got: {}\nwant: {record}",
                got[key]
            );
        }
    }
    assert_eq!(run.records("ticket_field_definitions").len(), 4, "a list of definitions");
    let requests = mock.requests();
    for list in [Stream::Campaigns, Stream::ContactsBlacklist] {
        let empty = requests.iter().filter(|r| r.endpoint == Some(list) && r.status == 200 && r.items == 0).count();
        assert_eq!(empty, 2, "{list:?}: an empty page before each of the two further pages");
    }
    assert_records_match_schemas(&run);
}

#[test]
fn an_empty_account_reads_nothing_and_ends_every_new_stream_with_a_state() {
    let mock = mock_for_new_streams(false, 0, 5);
    let work = Workdir::new();
    let start = Utc::now() - TimeDelta::days(40);
    let run = read(&work, &config_from(&mock, start, true), &catalog(&NEW, true), None);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    assert_eq!(run.of_type("RECORD").len(), 0, "{:?}", run.record_counts());
    for stream in NEW {
        assert_eq!(run.statuses(stream), ["STARTED", "COMPLETE"], "{stream}");
        assert!(!run.states(stream).is_empty(), "{stream}");
    }
}
