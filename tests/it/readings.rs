//! Every reading of Botmaker's docs the mock can serve, through the real binary (issue 12):
//! each switch gives exactly the canonical records (compared semantically: timestamps as
//! instants, numbers and numeric strings alike) with date-time fields in RFC 3339 UTC and
//! integer fields as JSON integers, in seconds; long-term search decided by the API's answers;
//! gaps remembered in the state, named in the log and filled exactly once by a later sync.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::common::*;
use botmaker_mock::{semantically_equal, MockConfig, MockServer, NextPageKey, Stream, TimestampShape, Variants};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::{json, Value};

const ALL: [&str; 9] =
    ["chats", "messages", "sessions", "calls", "contacts", "agents", "channels", "intents", "tickets"];
const INCREMENTAL: [&str; 5] = ["chats", "messages", "sessions", "calls", "tickets"];
/// Records per stream in the variant tests: several pages of every paginated endpoint.
const SCALE: u64 = 700;
/// A read of the whole mock takes about a second; this leaves room for a loaded machine, and
/// none for a retry budget (the first backoff alone is a second, the budget 15 minutes).
const SECONDS: Duration = Duration::from_secs(30);

/// A mock serving `variants`, without rate limits, whose data ends ten minutes ago: a sync
/// started now reads all of it, and no generated session finishes while the test runs.
fn mock_serving(scale: u64, variants: Variants) -> MockServer {
    let mut cfg = MockConfig::with_scale(scale);
    cfg.rate_limits = false;
    cfg.anchor = Some(Utc::now() - TimeDelta::minutes(10));
    cfg.span_days = 30;
    cfg.variants = variants;
    mock_with(cfg)
}

fn config(mock: &MockServer, start: DateTime<Utc>, long_term_search: bool) -> Value {
    json!({
        "access_token": mock.token(),
        "start_date": format_cursor(start),
        "long_term_search": long_term_search,
        "api_url": mock.base_url(),
    })
}

/// The start date of the variant tests: a day before the mock's data.
fn start_of(mock: &MockServer) -> DateTime<Utc> {
    mock.data_start() - TimeDelta::days(1)
}

/// Runs `read` with the default settings (no quick retries: a retry shows as a slow sync),
/// checking what every run must satisfy (see `guarded`). Returns the run and how long it took.
fn sync(work: &Workdir, config: &Value, catalog: &Value, state: Option<&Value>) -> (Run, Duration) {
    let c = work.write_json("config.json", config);
    let k = work.write_json("catalog.json", catalog);
    let mut args: Vec<String> = ["read", "--config", path_str(&c), "--catalog", path_str(&k)].map(String::from).into();
    if let Some(state) = state {
        let s = work.write_json("state.json", state);
        args.extend(["--state".to_string(), path_str(&s).to_string()]);
    }
    let token = config["access_token"].as_str().unwrap().to_string();
    let started = Instant::now();
    let run = guarded(&args, &[], &[&token], Duration::from_secs(120)).unwrap_or_else(|e| panic!("{e}"));
    (run, started.elapsed())
}

/// The sync ended by itself within [`SECONDS`] and never retried a request.
fn assert_quick(run: &Run, took: Duration) {
    let retries: Vec<String> = run.logs().into_iter().filter(|l| l.contains("retrying in")).collect();
    assert!(retries.is_empty(), "no request is retried: {retries:?}");
    assert!(took < SECONDS, "the sync took {took:?}");
}

/// The primary key of a canonical item.
fn key_of(stream: &str, item: &Value) -> String {
    let key = if stream == "chats" { &item["chat"]["chatId"] } else { &item["id"] };
    key.as_str().unwrap_or_else(|| panic!("{stream} item without a key: {item}")).to_string()
}

/// A canonical item as the connector emits it: the chat reference flattened (chats, messages,
/// calls), `chat_id` added (sessions), secrets removed (channels).
fn as_record(stream: &str, item: &Value) -> Value {
    let mut record = item.clone();
    let map = record.as_object_mut().unwrap();
    match stream {
        "chats" | "messages" | "calls" => {
            if let Some(Value::Object(mut chat)) = map.remove("chat") {
                for (from, to) in [("chatId", "chat_id"), ("channelId", "channel_id"), ("contactId", "contact_id")] {
                    if let Some(v) = chat.remove(from) {
                        map.insert(to.into(), v);
                    }
                }
                if !chat.is_empty() {
                    map.insert("chat".into(), Value::Object(chat));
                }
            }
        }
        "sessions" => {
            let chat_id = map["chat"]["chat"]["chatId"].clone();
            map.insert("chat_id".into(), chat_id);
        }
        "channels" => remove_key(&mut record, "token"),
        _ => {}
    }
    record
}

fn remove_key(value: &mut Value, key: &str) {
    match value {
        Value::Object(map) => {
            map.remove(key);
            map.values_mut().for_each(|v| remove_key(v, key));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| remove_key(v, key)),
        _ => {}
    }
}

/// An empty string in a `date-time` field means "no time yet" and is emitted as null.
fn empty_times_as_null(value: &mut Value, schema: &Value) {
    match value {
        Value::String(s) if s.is_empty() && schema["format"] == "date-time" => *value = Value::Null,
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if let Some(sub) = schema["properties"].get(key) {
                    empty_times_as_null(v, sub);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| empty_times_as_null(v, &schema["items"])),
        _ => {}
    }
}

/// The canonical records of `stream` a sync from `start` reads, by primary key, as the
/// connector emits them.
fn canonical(mock: &MockServer, stream: &str, start: DateTime<Utc>) -> BTreeMap<String, Value> {
    let schema = &schemas()[stream];
    mock.expected(mock_stream(stream), start, Utc::now())
        .iter()
        .map(|item| {
            let mut record = as_record(stream, item);
            empty_times_as_null(&mut record, schema);
            (key_of(stream, item), record)
        })
        .collect()
}

fn schemas() -> BTreeMap<String, Value> {
    let catalog = source_botmaker::catalog();
    catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s["json_schema"].clone()))
        .collect()
}

fn declared_types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every `date-time` field of `value` holds RFC 3339 UTC (`…T…Z`) and every `integer` field a
/// JSON integer, at any depth the schema describes. Returns the first violation.
fn declared_type_violation(value: &Value, schema: &Value, path: &str) -> Option<String> {
    if value.is_null() {
        return None;
    }
    if schema["format"] == "date-time" {
        let ok = value.as_str().is_some_and(|s| {
            DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z') && s.as_bytes().get(10) == Some(&b'T')
        });
        return (!ok).then(|| format!("`{path}` is {value}, not RFC 3339 UTC"));
    }
    let types = declared_types(schema);
    if types.contains(&"integer") && !(value.is_i64() || value.is_u64()) {
        return Some(format!("`{path}` is {value}, not a JSON integer"));
    }
    if let (Some(props), Some(map)) = (schema["properties"].as_object(), value.as_object()) {
        for (key, sub) in props {
            if let Some(v) = map.get(key) {
                if let Some(problem) = declared_type_violation(v, sub, &format!("{path}.{key}")) {
                    return Some(problem);
                }
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for v in values {
            if let Some(problem) = declared_type_violation(v, items, &format!("{path}[]")) {
                return Some(problem);
            }
        }
    }
    None
}

/// `stream`'s records in `run` are exactly `want`: the same keys, each record semantically
/// equal to its canonical form, valid against the discovered schema (formats checked), with
/// date-time fields in RFC 3339 UTC and integer fields as integers.
fn assert_exact_records(run: &Run, stream: &str, want: &BTreeMap<String, Value>, what: &str) {
    let schema = &schemas()[stream];
    let validator = jsonschema::options().should_validate_formats(true).build(schema).unwrap();
    let pk = pk_of(stream);
    let mut got: BTreeMap<String, &Value> = BTreeMap::new();
    for r in run.records(stream) {
        let key = r[pk].as_str().unwrap_or_else(|| panic!("{what}: {stream} record without {pk}: {r}")).to_string();
        assert!(got.insert(key.clone(), r).is_none(), "{what}: {stream} {key} emitted twice");
    }
    let got_keys: HashSet<String> = got.keys().cloned().collect();
    let want_keys: HashSet<String> = want.keys().cloned().collect();
    assert_same_keys(&format!("{what}: {stream}"), &got_keys, &want_keys);
    for (key, record) in got {
        let canonical = &want[&key];
        assert!(
            semantically_equal(record, canonical),
            "{what}: {stream} {key} differs from the canonical record\n got: {}\nwant: {}",
            clip(&record.to_string()),
            clip(&canonical.to_string())
        );
        if let Err(e) = validator.validate(record) {
            panic!("{what}: {stream} {key} does not match its schema: {e} at {}", e.instance_path);
        }
        if let Some(problem) = declared_type_violation(record, schema, stream) {
            panic!("{what}: {stream} {key}: {problem}");
        }
    }
}

/// A full sync of all nine streams against a mock serving `variants` reads exactly the
/// canonical records, completes every stream and takes seconds. Returns the run.
fn assert_reads_exactly(variants: Variants, long_term_search: bool, what: &str) -> (MockServer, Run) {
    let mock = mock_serving(SCALE, variants);
    let start = start_of(&mock);
    let want: BTreeMap<&str, BTreeMap<String, Value>> = ALL.iter().map(|s| (*s, canonical(&mock, s, start))).collect();
    let work = Workdir::new();
    let (run, took) = sync(&work, &config(&mock, start, long_term_search), &catalog(&ALL, true), None);
    assert_eq!(run.code, 0, "{what}: {:?}", run.errors());
    assert_quick(&run, took);
    run.assert_protocol_rules();
    for stream in ALL {
        assert_exact_records(&run, stream, &want[stream], what);
        assert_eq!(run.statuses(stream).last().map(String::as_str), Some("COMPLETE"), "{what}: {stream}");
    }
    for stream in INCREMENTAL {
        let state = &run.states(stream).last().unwrap()["state"]["stream"]["stream_state"];
        assert!(state.get("gaps").is_none(), "{what}: {stream} read everything: {state}");
    }
    (mock, run)
}

#[test]
fn empty_pages_that_point_further_are_followed() {
    for every in [1, 3] {
        let what = format!("an empty page at every {every}th page boundary");
        let (mock, _) = assert_reads_exactly(Variants { empty_pages_every: every, ..Variants::none() }, true, &what);
        let empty_pages = mock.requests().iter().filter(|r| r.status == 200 && r.items == 0).count();
        assert!(empty_pages >= 6, "{what}: the mock served empty pages ({empty_pages})");
    }
}

#[test]
fn every_next_page_key_is_followed() {
    for key in [NextPageKey::NextPageURL, NextPageKey::NextPageUrl] {
        assert_reads_exactly(Variants { next_page_key: key, ..Variants::none() }, true, &format!("pages under {key}"));
    }
    // Each endpoint its own key, as the docs' wording differs per endpoint.
    let mixed = Variants {
        next_page_key_for: vec![
            (Stream::Intents, NextPageKey::NextPageURL),
            (Stream::Contacts, NextPageKey::NextPageUrl),
            (Stream::Messages, NextPageKey::NextPageUrl),
        ],
        ..Variants::none()
    };
    assert_reads_exactly(mixed, true, "a next-page key per endpoint");
}

/// The log has one line for `stream`'s `field` naming how many values were converted.
fn assert_conversion_logged(run: &Run, stream: &str, field: &str, at_least: usize) {
    let prefix = format!("{stream}: field `{field}`: ");
    let lines: Vec<String> = run.logs().into_iter().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(lines.len(), 1, "one line for {stream}.{field}: {:?}", run.logs());
    let count: usize = lines[0][prefix.len()..].split(' ').next().unwrap().parse().unwrap();
    assert!(count >= at_least, "{}: at least {at_least} values", lines[0]);
}

/// How many of `stream`'s emitted records have a non-null `field`.
fn with_field(run: &Run, stream: &str, field: &str) -> usize {
    run.records(stream).iter().filter(|r| !r[field].is_null()).count()
}

#[test]
fn integers_sent_as_strings_are_emitted_as_integers() {
    let (_, run) =
        assert_reads_exactly(Variants { numbers_as_strings: true, ..Variants::none() }, true, "numbers as strings");
    for (stream, field) in [("tickets", "companyId"), ("tickets", "authorId"), ("agents", "slots")] {
        assert_conversion_logged(&run, stream, field, with_field(&run, stream, field));
    }
    assert_conversion_logged(&run, "tickets", "followBy[]", 1);
}

#[test]
fn numeric_strings_sent_as_numbers_are_emitted_as_strings() {
    let (_, run) =
        assert_reads_exactly(Variants { strings_as_numbers: true, ..Variants::none() }, true, "strings as numbers");
    // What the mock sends as a number: a canonical integer within ±2^53.
    let numeric = |r: &&&Value| {
        r["contact_id"]
            .as_str()
            .is_some_and(|s| s.parse::<i64>().is_ok_and(|n| n.to_string() == s && n.abs() <= 1 << 53))
    };
    let calls = run.records("calls").iter().filter(numeric).count();
    assert!(calls > 0, "some contact ids are numeric");
    assert_conversion_logged(&run, "calls", "contact_id", calls);
}

#[test]
fn timestamps_in_every_shape_are_emitted_as_rfc3339_utc() {
    for shape in TimestampShape::ALTERNATIVES {
        let what = format!("timestamps as {shape:?}");
        let (_, run) = assert_reads_exactly(Variants { timestamps: shape, ..Variants::none() }, true, &what);
        let logs = run.logs();
        let unreadable: Vec<&String> = logs.iter().filter(|l| l.contains("could not be read as a date-time")).collect();
        assert!(unreadable.is_empty(), "{what}: {unreadable:?}");
        let rewritten = |stream: &str, field: &str| {
            logs.iter().any(|l| {
                l.starts_with(&format!("{stream}: field `{field}`: ")) && l.contains("rewritten as RFC 3339 UTC")
            })
        };
        for (stream, field) in
            [("messages", "creationTime"), ("calls", "creationDatetime"), ("sessions", "chat.creationTime")]
        {
            assert!(rewritten(stream, field), "{what}: {stream}.{field} rewritten: {logs:?}");
        }
    }
}

#[test]
fn long_term_search_required_on_every_request_is_sent_when_enabled() {
    let variants = Variants { lts_required: Variants::LTS_REQUIRED.to_vec(), ..Variants::none() };
    let (mock, run) = assert_reads_exactly(variants, true, "long-term search required");
    for stream in [Stream::Chats, Stream::Sessions] {
        let requests: Vec<_> = mock.requests().into_iter().filter(|r| r.endpoint == Some(stream)).collect();
        let refused = requests.iter().filter(|r| r.status == 400).count();
        // Up to four windows of a stream are in flight before the first answer arrives.
        assert!((1..=4).contains(&refused), "{stream:?}: {refused} requests refused");
        assert!(requests.iter().filter(|r| r.status == 200).all(|r| r.long_term_search));
        let name = stream.name();
        let logged =
            run.logs().iter().filter(|l| l.starts_with(&format!("{name}: Botmaker requires long-term search"))).count();
        assert_eq!(logged, 1, "{name}: one INFO line: {:?}", run.logs());
    }
    let plain = |s: Stream| mock.requests().iter().filter(|r| r.endpoint == Some(s) && !r.long_term_search).count();
    assert!(plain(Stream::Messages) > 0 && plain(Stream::Calls) > 0, "other endpoints still use plain requests");
}

#[test]
fn long_term_search_required_but_disabled_fails_those_streams_clearly_and_finishes_the_others() {
    let variants = Variants { lts_required: Variants::LTS_REQUIRED.to_vec(), ..Variants::none() };
    let mock = mock_serving(SCALE, variants);
    let start = start_of(&mock);
    let full: BTreeMap<&str, BTreeMap<String, Value>> = ["contacts", "agents", "channels", "intents", "tickets"]
        .iter()
        .map(|s| (*s, canonical(&mock, s, start)))
        .collect();
    let work = Workdir::new();
    let (run, took) = sync(&work, &config(&mock, start, false), &catalog(&ALL, true), None);
    assert_quick(&run, took);
    assert_eq!(run.code, 1);
    for stream in ["chats", "sessions"] {
        assert_eq!(run.statuses(stream).last().unwrap(), "INCOMPLETE", "{stream}");
        assert!(run.records(stream).is_empty(), "{stream}: nothing served");
        let error = run
            .errors()
            .into_iter()
            .find(|e| e["trace"]["error"]["stream_descriptor"]["name"] == stream)
            .unwrap_or_else(|| panic!("{stream}: an error of its own: {:?}", run.errors()))["trace"]["error"]
            .clone();
        assert_eq!(error["failure_type"], "config_error", "{stream}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("'{stream}'")) && message.contains("Enable long_term_search"),
            "{stream}: {message}"
        );
    }
    let last = &run.errors().last().unwrap()["trace"]["error"];
    assert_eq!(last["failure_type"], "config_error");
    let headline = last["message"].as_str().unwrap();
    assert!(headline.contains("chats") && headline.contains("sessions"), "{headline}");
    for stream in ["messages", "calls", "contacts", "agents", "channels", "intents", "tickets"] {
        assert_eq!(run.statuses(stream).last().unwrap(), "COMPLETE", "{stream}");
    }
    for (stream, want) in &full {
        assert_exact_records(&run, stream, want, "long-term search required but disabled");
    }
    for stream in ["messages", "calls"] {
        assert!(!run.records(stream).is_empty(), "{stream}: the recent window is read");
    }
    assert!(mock.requests().iter().all(|r| !r.long_term_search), "never sent while disabled");
}

#[test]
fn an_endpoint_without_a_recent_window_is_read_whole_without_long_term_search() {
    for long_term_search in [false, true] {
        let variants = Variants { no_recent_window: Variants::NO_RECENT_WINDOW.to_vec(), ..Variants::none() };
        let what = format!("calls without a recent window, long_term_search {long_term_search}");
        let mock = mock_serving(SCALE, variants);
        // Days without calls first: an empty old window proves nothing either way.
        let start = mock.data_start() - TimeDelta::days(5);
        let want = canonical(&mock, "calls", start);
        let work = Workdir::new();
        let (run, took) = sync(&work, &config(&mock, start, long_term_search), &catalog(&["calls"], true), None);
        assert_eq!(run.code, 0, "{what}: {:?}", run.errors());
        assert_quick(&run, took);
        assert_exact_records(&run, "calls", &want, &what);
        let state = &run.states("calls").last().unwrap()["state"]["stream"]["stream_state"];
        assert!(state.get("gaps").is_none(), "{what}: nothing left unread: {state}");
        assert_eq!(state["covered_from"], format_cursor(start), "{what}");
        // Long-term search only ever asks again about an old span a plain request found empty
        // before any answer proved plain requests reach old calls: at most one per window in
        // flight.
        let requests = mock.requests();
        let probes: Vec<_> = requests.iter().filter(|r| r.long_term_search).collect();
        assert!(long_term_search || probes.is_empty(), "{what}: never sent while disabled");
        assert!(probes.len() <= 4, "{what}: {} requests with long-term search", probes.len());
        let from = |r: &botmaker_mock::LoggedRequest| r.query.iter().find(|(k, _)| k == "from").map(|(_, v)| v.clone());
        for probe in probes {
            let empty_plain = requests.iter().any(|r| {
                !r.long_term_search && r.seq < probe.seq && r.items == 0 && from(r).is_some() && from(r) == from(probe)
            });
            assert!(empty_plain, "{what}: a probe without an empty plain answer: {:?}", probe.query);
        }
        let learned = run.logs().iter().any(|l| l.starts_with("calls: Botmaker returned records older than"));
        assert!(learned, "{what}: {:?}", run.logs());
        assert!(!run.logs().iter().any(|l| l.contains("have not been read yet")), "{what}: {:?}", run.logs());
    }
}

#[test]
fn session_variables_are_asked_for_only_when_enabled() {
    let mock = mock_serving(300, Variants::none());
    let start = start_of(&mock);
    let work = Workdir::new();
    let mut cfg = config(&mock, start, true);
    for enabled in [false, true] {
        cfg["include_session_variables"] = json!(enabled);
        mock.clear_requests();
        let (run, took) = sync(&work, &cfg, &catalog(&["sessions"], true), None);
        assert_eq!(run.code, 0, "{:?}", run.errors());
        assert_quick(&run, took);
        let first_pages: Vec<_> = mock
            .requests()
            .into_iter()
            .filter(|r| r.endpoint == Some(Stream::Sessions) && r.query.iter().any(|(k, _)| k == "from"))
            .collect();
        assert!(!first_pages.is_empty());
        for r in &first_pages {
            let sent: Vec<&(String, String)> = r.query.iter().filter(|(k, _)| k == "include-variables").collect();
            if enabled {
                assert_eq!(sent, [&("include-variables".to_string(), "true".to_string())], "{:?}", r.query);
            } else {
                assert!(sent.is_empty(), "{:?}", r.query);
            }
            assert!(!r.query.iter().any(|(k, _)| k.starts_with("include-") && k != "include-variables"));
        }
        let sessions = run.records("sessions");
        assert_eq!(sessions.len(), mock.expected(Stream::Sessions, start, Utc::now()).len());
        let with_variables = sessions.iter().filter(|s| s["chat"].get("variables").is_some()).count();
        if enabled {
            assert!(with_variables > 0, "variables arrive when asked for");
        } else {
            assert_eq!(with_variables, 0, "no variables unless asked for");
        }
    }
}

/// A stream's saved coverage, as a STATE wrote it.
#[derive(Debug, Clone, PartialEq)]
struct Coverage {
    cursor: DateTime<Utc>,
    covered_from: DateTime<Utc>,
    gaps: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

fn cursor_field(stream: &str) -> &'static str {
    match stream {
        "chats" => "lastUserMessageDatetime",
        "calls" => "creationDatetime",
        _ => "creationTime",
    }
}

fn coverage_of(stream: &str, state: &Value) -> Coverage {
    let time = |v: &Value| parse_datetime(v.as_str().unwrap_or_else(|| panic!("{stream}: {state}"))).unwrap();
    let gaps = state["gaps"]
        .as_array()
        .map_or_else(Vec::new, |gaps| gaps.iter().map(|g| (time(&g["start"]), time(&g["end"]))).collect());
    Coverage { cursor: time(&state[cursor_field(stream)]), covered_from: time(&state["covered_from"]), gaps }
}

/// Every coverage `stream`'s STATEs recorded, in order.
fn coverages(run: &Run, stream: &str) -> Vec<Coverage> {
    run.states(stream).iter().map(|s| coverage_of(stream, &s["state"]["stream"]["stream_state"])).collect()
}

fn final_coverage(run: &Run, stream: &str) -> Coverage {
    coverages(run, stream).pop().unwrap_or_else(|| panic!("{stream}: no STATE"))
}

/// A sync and the requests the mock saw during it.
struct Logged {
    run: Run,
    requests: Vec<botmaker_mock::LoggedRequest>,
}

fn logged_sync(mock: &MockServer, work: &Workdir, config: &Value, state: Option<&Value>) -> Logged {
    mock.clear_requests();
    let (run, took) = sync(work, config, &catalog(&INCREMENTAL, true), state);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    assert_quick(&run, took);
    run.assert_protocol_rules();
    Logged { run, requests: mock.requests() }
}

fn query<'r>(r: &'r botmaker_mock::LoggedRequest, key: &str) -> Option<&'r str> {
    r.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The `(from, to)` of every request of a windowed endpoint (next pages carry them too).
fn ranges(requests: &[botmaker_mock::LoggedRequest], stream: &str) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    requests
        .iter()
        .filter(|r| r.endpoint == Some(mock_stream(stream)) && r.status == 200)
        .map(|r| {
            let time =
                |k: &str| parse_datetime(query(r, k).unwrap_or_else(|| panic!("{stream}: no {k}: {:?}", r.query)));
            (time("from").unwrap(), time("to").unwrap())
        })
        .collect()
}

/// `first` read from `start` and left `first`'s final states; `second` read from `start2` from
/// those states with long-term search on. Across the two, every record since `start2` arrives
/// exactly once, apart from what is re-read on purpose: the sessions' unsettled days (from the
/// first sync's sessions cursor), the `lookback` of calls and tickets, and chats whose last
/// activity lies where the two syncs' requests overlap (each request reaches one second past
/// its window, chats have no time of their own to filter on, and those overlaps are at most a
/// few seconds long). The second sync asks only for the first one's gaps (and history before
/// its `covered_from`), then forward; it checkpoints the gaps before moving the cursor on and
/// ends with none.
fn assert_backfilled_exactly_once(
    mock: &MockServer,
    start2: DateTime<Utc>,
    first: &Logged,
    second: &Logged,
    lookback: TimeDelta,
) {
    let slop = TimeDelta::seconds(2);
    for stream in INCREMENTAL {
        let before = final_coverage(&first.run, stream);
        // What the second sync was to read besides going forward.
        let mut to_fill = before.gaps.clone();
        if start2 < before.covered_from {
            to_fill.insert(0, (start2, before.covered_from));
        }
        let forward_from = match stream {
            "calls" | "tickets" => before.cursor - lookback,
            _ => before.cursor,
        };
        // Exactly once, apart from the re-read spans.
        let (k1, k2) = (first.run.keys(stream), second.run.keys(stream));
        let union: HashSet<String> = k1.union(&k2).cloned().collect();
        assert_same_keys(stream, &union, &expected_keys(mock, stream, start2, Utc::now()));
        let twice: HashSet<String> = k1.intersection(&k2).cloned().collect();
        if stream == "chats" {
            let overlaps: Vec<(DateTime<Utc>, DateTime<Utc>)> = ranges(&first.requests, stream)
                .iter()
                .flat_map(|a| ranges(&second.requests, stream).into_iter().map(move |b| (a.0.max(b.0), a.1.min(b.1))))
                .filter(|(from, to)| from < to)
                .collect();
            for (from, to) in &overlaps {
                assert!(*to - *from <= TimeDelta::seconds(3), "chats: the syncs' requests overlap from {from} to {to}");
            }
            for chat in &twice {
                let at = mock.chat_last_activity(chat).unwrap();
                assert!(
                    overlaps.iter().any(|(from, to)| *from < at && at < *to),
                    "chats: {chat} (last activity {at}) emitted by both syncs outside their requests' overlaps"
                );
            }
        } else {
            let reread_from = if stream == "sessions" { before.cursor } else { forward_from };
            let cursor = |r: &&Value| parse_datetime(r[cursor_field(stream)].as_str().unwrap()).unwrap();
            let expected_twice: HashSet<String> = first
                .run
                .records(stream)
                .iter()
                .filter(|r| stream != "messages" && cursor(r) >= reread_from)
                .map(|r| r["id"].as_str().unwrap().to_string())
                .collect();
            assert_same_keys(&format!("{stream} emitted by both syncs"), &twice, &expected_twice);
        }
        // Only the gaps and forward were asked for.
        if stream == "tickets" {
            let oldest = to_fill.first().map_or(forward_from, |g| g.0.min(forward_from));
            let most = (Utc::now() - oldest).num_days() + 2;
            for r in second.requests.iter().filter(|r| r.endpoint == Some(Stream::Tickets)) {
                let days: i64 = query(r, "daysBeforeNow").unwrap().parse().unwrap();
                assert!(days <= most, "tickets: daysBeforeNow={days}, at most {most}");
            }
        } else {
            for (from, to) in ranges(&second.requests, stream) {
                let inside = |(a, b): (DateTime<Utc>, DateTime<Utc>)| from >= a - slop && to <= b + slop;
                assert!(
                    to_fill.iter().any(|g| inside(*g)) || inside((forward_from, Utc::now())),
                    "{stream}: the second sync asked for {from} → {to}, outside the gaps {to_fill:?} and forward from {forward_from}"
                );
            }
        }
        // Checkpoints in order: gaps first; the cursor moves on only once they are filled.
        let mut previous = before.clone();
        for c in coverages(&second.run, stream) {
            assert!(c.cursor >= previous.cursor, "{stream}: the cursor moved back: {c:?}");
            if c.cursor > before.cursor {
                assert!(c.gaps.is_empty(), "{stream}: the cursor moved on before the gaps were filled: {c:?}");
            }
            previous = c;
        }
        let after = final_coverage(&second.run, stream);
        assert!(after.gaps.is_empty(), "{stream}: every gap filled: {after:?}");
        assert_eq!(after.covered_from, start2, "{stream}");
    }
}

/// The WARN line at the end of a sync names every range `stream`'s final state leaves unread.
fn assert_open_gaps_logged(run: &Run, stream: &str) {
    let gaps = final_coverage(run, stream).gaps;
    let prefix = format!("{stream}: these ranges have not been read yet: ");
    let lines: Vec<String> = run.logs().into_iter().filter(|l| l.starts_with(&prefix)).collect();
    if gaps.is_empty() {
        assert!(lines.is_empty(), "{stream}: no gap, no line: {lines:?}");
        return;
    }
    assert_eq!(lines.len(), 1, "{stream}: one line: {:?}", run.logs());
    let exact = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let named: Vec<String> = gaps.iter().map(|(a, b)| format!("{} → {}", exact(*a), exact(*b))).collect();
    assert!(lines[0].contains(&format!("{}. ", named.join(", "))), "{stream}: names {named:?}: {}", lines[0]);
    assert!(lines[0].contains("enable long_term_search"), "{}", lines[0]);
}

fn backfill_mock() -> MockServer {
    mock_serving(1_500, Variants::none())
}

#[test]
fn turning_long_term_search_on_reads_what_was_skipped_exactly_once() {
    let mock = backfill_mock();
    let start = start_of(&mock);
    let work = Workdir::new();
    let mut cfg = config(&mock, start, false);
    cfg["lookback_window_days"] = json!(1);
    let first = logged_sync(&mock, &work, &cfg, None);
    assert!(first.requests.iter().all(|r| !r.long_term_search));
    for stream in INCREMENTAL {
        let c = final_coverage(&first.run, stream);
        assert_eq!(c.covered_from, start, "{stream}");
        // Tickets have no recent window; the others skip what only long-term search serves.
        assert_eq!(c.gaps.is_empty(), stream == "tickets", "{stream}: {c:?}");
        assert_open_gaps_logged(&first.run, stream);
    }
    cfg["long_term_search"] = json!(true);
    let second = logged_sync(&mock, &work, &cfg, Some(&first.run.final_state()));
    assert!(second.requests.iter().any(|r| r.long_term_search));
    assert_backfilled_exactly_once(&mock, start, &first, &second, TimeDelta::days(1));
    for stream in INCREMENTAL {
        assert_open_gaps_logged(&second.run, stream);
    }
}

#[test]
fn moving_start_date_earlier_reads_the_new_history_exactly_once() {
    let mock = backfill_mock();
    let late = (Utc::now() - TimeDelta::days(12)).duration_trunc(TimeDelta::hours(1)).unwrap();
    let early = start_of(&mock);
    let work = Workdir::new();
    let mut cfg = config(&mock, late, true);
    cfg["lookback_window_days"] = json!(1);
    let first = logged_sync(&mock, &work, &cfg, None);
    for stream in INCREMENTAL {
        assert_eq!(final_coverage(&first.run, stream).covered_from, late, "{stream}");
    }
    cfg["start_date"] = json!(format_cursor(early));
    let second = logged_sync(&mock, &work, &cfg, Some(&first.run.final_state()));
    assert_backfilled_exactly_once(&mock, early, &first, &second, TimeDelta::days(1));
}

/// `{"type": "STREAM", …}` for `stream` with `blob` as its state.
fn stream_state(stream: &str, blob: &Value) -> Value {
    json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob}})
}

#[test]
fn coverage_states_round_trip_in_every_form_airbyte_tools_produce() {
    let mock = mock_serving(800, Variants::none());
    let start = start_of(&mock);
    let hour = |t: DateTime<Utc>| t.duration_trunc(TimeDelta::hours(1)).unwrap();
    // The cursor inside /messages' 3-day recent window, two gaps well before it.
    let cursor = hour(Utc::now() - TimeDelta::days(2));
    let day = |n: i64| hour(mock.data_start()) + TimeDelta::days(n);
    let gaps = [(day(2), day(4)), (day(10), day(11))];
    let gap_json = |(a, b): (DateTime<Utc>, DateTime<Utc>)| json!({"start": format_cursor(a), "end": format_cursor(b)});
    let blob = json!({"creationTime": format_cursor(cursor), "covered_from": format_cursor(start),
        "gaps": gaps.map(gap_json)});
    let forms = [
        json!([stream_state("messages", &blob)]),
        // PyAirbyte's form, with every optional field spelled out.
        json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "messages", "namespace": null}, "stream_state": blob},
            "global_": null, "data": null, "sourceStats": {"recordCount": 12.0, "rejectedRecordCount": null}, "destinationStats": null}]),
        json!([{"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": [{"stream_descriptor": {"name": "messages"}, "stream_state": blob}]}}]),
        json!([{"type": "LEGACY", "data": {"messages": blob}}]),
        json!({"messages": blob}),
        // Gaps out of order, overlapping, with offsets: read as the same two ranges.
        json!([stream_state(
            "messages",
            &json!({"creationTime": format_cursor(cursor), "covered_from": format_cursor(start),
            "gaps": [gap_json(gaps[1]),
                {"start": (gaps[0].0 + TimeDelta::hours(2)).with_timezone(&chrono::FixedOffset::east_opt(7_200).unwrap()).to_rfc3339(),
                 "end": format_cursor(gaps[0].1 - TimeDelta::hours(5))},
                gap_json((gaps[0].0, gaps[0].0 + TimeDelta::hours(3))),
                gap_json((gaps[0].1 - TimeDelta::hours(6), gaps[0].1))]})
        )]),
    ];
    let forward = expected_keys(&mock, "messages", cursor, Utc::now());
    let mut with_gaps = forward.clone();
    for (a, b) in gaps {
        with_gaps.extend(expected_keys(&mock, "messages", a, b));
    }
    assert!(with_gaps.len() > forward.len() && !forward.is_empty(), "messages in the gaps and after the cursor");
    let work = Workdir::new();
    let cat = catalog(&["messages"], true);
    for state in &forms {
        // Long-term search off: the gaps stay as they were, the cursor moves on.
        mock.clear_requests();
        let (run, took) = sync(&work, &config(&mock, start, false), &cat, Some(state));
        assert_eq!(run.code, 0, "{state}: {:?}", run.errors());
        assert_quick(&run, took);
        assert_same_keys("messages", &run.keys("messages"), &forward);
        let after = final_coverage(&run, "messages");
        assert_eq!(after.gaps, gaps, "{state}");
        assert_eq!(after.covered_from, start, "{state}");
        assert!(after.cursor > cursor, "{state}: {after:?}");
        assert_open_gaps_logged(&run, "messages");
        for (from, _) in ranges(&mock.requests(), "messages") {
            assert!(from >= cursor - TimeDelta::seconds(2), "{state}: nothing before the cursor is asked for: {from}");
        }
        // On: the gaps are read, then forward; nothing else.
        let (run, took) = sync(&work, &config(&mock, start, true), &cat, Some(state));
        assert_eq!(run.code, 0, "{state}: {:?}", run.errors());
        assert_quick(&run, took);
        assert_same_keys("messages", &run.keys("messages"), &with_gaps);
        let after = final_coverage(&run, "messages");
        assert!(after.gaps.is_empty() && after.covered_from == start, "{state}: {after:?}");
    }
}

#[test]
fn a_body_fault_repeated_identically_ends_the_stream_within_a_minute_at_default_settings() {
    let mock = mock_serving(200, Variants::none());
    mock.set_scenario(Stream::Tickets, Some(botmaker_mock::Scenario::MissingItems));
    let html = "<!DOCTYPE html><html><body>Botmaker is under maintenance</body></html>";
    mock.set_scenario(
        Stream::Agents,
        Some(botmaker_mock::Scenario::Fixed { status: 200, content_type: "text/html".into(), body: html.into() }),
    );
    let start = start_of(&mock);
    let work = Workdir::new();
    // Default retry settings: a first backoff of a second, a 15-minute budget per request.
    let (run, took) =
        sync(&work, &config(&mock, start, true), &catalog(&["tickets", "agents", "channels"], true), None);
    assert!(took < Duration::from_secs(60), "ended in {took:?}");
    assert_eq!(run.code, 1);
    for (stream, endpoint) in [("tickets", Stream::Tickets), ("agents", Stream::Agents)] {
        let error = run
            .errors()
            .into_iter()
            .find(|e| e["trace"]["error"]["stream_descriptor"]["name"] == stream)
            .unwrap_or_else(|| panic!("{stream}: {:?}", run.errors()))["trace"]["error"]
            .clone();
        assert_eq!(error["failure_type"], "transient_error", "{stream}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("GET /v2.0/{stream} for stream '{stream}'"))
                && message.contains("the same unexpected response body 3 times in a row"),
            "{stream}: {message}"
        );
        let requests = mock.requests().iter().filter(|r| r.endpoint == Some(endpoint)).count();
        assert_eq!(requests, 3, "{stream}: asked three times");
    }
    assert_eq!(run.records("channels").len(), 6);
    assert_eq!(run.statuses("channels").last().unwrap(), "COMPLETE");
}
