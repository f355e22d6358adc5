//! Resumable full refresh of the lists contacts, agents and intents (issue 14, item 5): a sync
//! killed part-way resumes from the position its last STATE saved, and across the two syncs
//! every record the platform committed arrives exactly once; a position Botmaker (or the
//! connector) refuses starts the list over with a warning.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;
use botmaker_mock::{Latency, MockConfig, MockServer, Scenario, Stream, StreamCounts};
use chrono::{TimeDelta, Utc};
use serde_json::{json, Value};

const LISTS: [&str; 3] = ["contacts", "agents", "intents"];

/// Environment of every run here: quick retries, and no client pacing (contacts and intents
/// would otherwise take seconds per few pages; the mock's limits are off too).
const ENV: [(&str, &str); 3] = [
    ("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20"),
    ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "60"),
    ("SOURCE_BOTMAKER_CLIENT_RATE_LIMITS", "off"),
];

/// Lists of 25 (contacts), 10 (agents) and 10 (intents) pages.
fn mock() -> MockServer {
    let mut cfg = MockConfig::with_scale(0);
    cfg.counts = StreamCounts { contacts: 2_500, agents: 1_000, intents: 2_000, ..StreamCounts::default() };
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    cfg.rate_limits = false;
    cfg.latency = Latency { base_ms: 2, jitter_ms: 2 };
    mock_with(cfg)
}

fn config_for_mock(mock: &MockServer) -> Value {
    json!({"access_token": mock.token(), "start_date": "2024-01-01", "api_url": mock.base_url()})
}

/// A full refresh of `stream`, as Airbyte configures it (lists have no incremental mode).
fn full_refresh(stream: &str) -> Value {
    catalog(&[stream], false)
}

fn state_of(stream: &str, blob: Value) -> Value {
    json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob}}])
}

/// Runs `read` to the end.
fn read_all(work: &Workdir, mock: &MockServer, stream: &str, state: Option<&Value>) -> Run {
    let c = work.write_json("config.json", &config_for_mock(mock));
    let k = work.write_json("catalog.json", &full_refresh(stream));
    let mut args: Vec<String> =
        ["read", "--config", path_str(&c), "--catalog", path_str(&k)].map(String::from).to_vec();
    if let Some(state) = state {
        let s = work.write_json("state.json", state);
        args.extend(["--state".to_string(), path_str(&s).to_string()]);
    }
    guarded(&args, &ENV, &[&mock.token()], Duration::from_secs(90)).unwrap_or_else(|e| panic!("{stream}: {e}"))
}

/// Runs `read` and kills it once `stop` says so (after the line it was given); returns the
/// lines printed until then.
fn read_until(work: &Workdir, mock: &MockServer, stream: &str, mut stop: impl FnMut(&Value) -> bool) -> Vec<Value> {
    let c = work.write_json("config.json", &config_for_mock(mock));
    let k = work.write_json("catalog.json", &full_refresh(stream));
    let mut cmd = Command::new(BIN);
    cmd.args(["read", "--config", path_str(&c), "--catalog", path_str(&k)]);
    cmd.envs(ENV);
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let Ok(line) = line else { break };
        let message: Value = serde_json::from_str(&line).unwrap();
        let done = stop(&message);
        lines.push(message);
        if done {
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "{stream}: the sync was to be killed part-way, but it finished");
    lines
}

/// Waits until the mock has logged no new request for a quarter of a second.
fn settle(mock: &MockServer) {
    let mut seen = mock.requests().len();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let now = mock.requests().len();
        if now == seen {
            return;
        }
        seen = now;
    }
}

fn is_state_of(m: &Value, stream: &str) -> bool {
    m["type"] == "STATE" && m["state"]["stream"]["stream_descriptor"]["name"] == stream
}

/// What the platform commits of a killed sync: the records up to the stream's last STATE, and
/// that STATE (the records after it are dropped).
fn committed(lines: &[Value], stream: &str) -> (HashSet<String>, Value) {
    let last = lines.iter().rposition(|m| is_state_of(m, stream)).expect("the killed sync printed a STATE");
    let mut keys = HashSet::new();
    for m in &lines[..last] {
        if m["type"] == "RECORD" && m["record"]["stream"] == stream {
            let id = m["record"]["data"]["id"].as_str().unwrap().to_string();
            assert!(keys.insert(id.clone()), "{stream}: {id} twice in one sync");
        }
    }
    (keys, lines[last]["state"].clone())
}

/// A request that is not the first page of its list: it carries the position of a later page.
fn is_later_page(query: &[(String, String)]) -> bool {
    query.iter().any(|(k, _)| k == "page-token" || k == "next-page-token")
}

#[test]
fn a_killed_full_refresh_resumes_where_its_last_state_was_and_reads_every_record_once() {
    let mock = mock();
    let work = Workdir::new();
    // (stream, kill once this many STATEs of it were printed, then this many more lines): right
    // after a STATE, and in the middle of a page (those lines are not committed).
    let kills = [
        ("contacts", 3, 0),
        ("contacts", 11, 57),
        ("agents", 4, 0),
        ("agents", 7, 23),
        ("intents", 2, 0),
        ("intents", 6, 120),
    ];
    for (stream, states, extra) in kills {
        let what = format!("{stream} killed after {states} states + {extra} lines");
        let (mut seen, mut after) = (0, 0);
        let lines = read_until(&work, &mock, stream, |m| {
            if seen == states {
                after += 1;
            } else if is_state_of(m, stream) {
                seen += 1;
            }
            seen == states && after == extra
        });
        let printed: Vec<&Value> = lines.iter().filter(|m| is_state_of(m, stream)).collect();
        assert_eq!(printed.len(), states, "{what}");
        for s in &printed {
            let blob = &s["state"]["stream"]["stream_state"];
            let position = blob["next_page"].as_str().unwrap_or_default();
            assert!(!position.is_empty() && blob.as_object().unwrap().len() == 1, "{what}: a list position: {blob}");
            assert!(s["state"]["sourceStats"]["recordCount"].as_f64().unwrap() > 0.0, "{what}: {s}");
        }
        let (first, saved) = committed(&lines, stream);
        let position = saved["stream"]["stream_state"]["next_page"].as_str().unwrap().to_string();

        // Requests the killed sync had in flight may still reach the mock's log: let them land
        // before clearing it, so what follows is the resumed sync's alone.
        settle(&mock);
        mock.clear_requests();
        let resumed = read_all(&work, &mock, stream, Some(&json!([saved])));
        assert_eq!(resumed.code, 0, "{what}: {:?}", resumed.errors());
        resumed.assert_protocol_rules();
        assert!(
            resumed.logs().iter().any(|l| l.contains(stream) && l.contains("resuming the list")),
            "{what}: {:?}",
            resumed.logs()
        );
        // It went on from the saved page rather than reading everything and dropping repeats.
        let requests = mock.requests();
        assert!(requests.iter().all(|r| is_later_page(&r.query)), "{what}: the list's first page was requested");
        let first_request = requests.first().expect("a request");
        let wanted: Vec<(String, String)> = match reqwest::Url::parse(&position) {
            Ok(link) => link.query_pairs().into_owned().collect(),
            Err(_) => vec![("next-page-token".to_string(), position.clone())],
        };
        assert!(
            wanted.iter().all(|pair| first_request.query.contains(pair)),
            "{what}: the first request carries the saved position {position}: {:?}",
            first_request.query
        );
        let second = resumed.keys(stream);
        let twice: Vec<_> = first.intersection(&second).take(3).collect();
        assert!(twice.is_empty(), "{what}: committed by the first sync and read again: {twice:?}");
        let all: HashSet<String> = first.union(&second).cloned().collect();
        assert_same_keys(stream, &all, &expected_keys(&mock, stream, Utc::now(), Utc::now()));
        let last = resumed.states(stream).last().unwrap()["state"]["stream"]["stream_state"].clone();
        assert_eq!(last, json!({}), "{what}: the list is complete");
        assert_eq!(resumed.statuses(stream).last().map(String::as_str), Some("COMPLETE"), "{what}");
    }
}

#[test]
fn a_saved_position_that_is_refused_starts_the_list_over_with_a_warning() {
    let mock = mock();
    let foreign = mock_with(MockConfig::with_scale(10));
    let work = Workdir::new();
    // A valid link into intents' list, saved as agents' position (a state copied across
    // streams): Botmaker would serve it, and its intents must not be written as agents.
    let intents = read_all(&work, &mock, "intents", None);
    let intents_link = intents.states("intents")[2]["state"]["stream"]["stream_state"]["next_page"]
        .as_str()
        .expect("intents saves links")
        .to_string();
    let cases = [
        ("agents", intents_link),
        // A token Botmaker does not know (HTTP 400).
        ("contacts", "not-a-token-botmaker-gave".to_string()),
        // A link on the right host whose token was tampered with (HTTP 400).
        ("intents", format!("{}/intents?page-token=tampered", mock.base_url())),
        // A link on another host (api_url changed since): the token is not sent there.
        ("agents", format!("{}/agents?page-token=abc", foreign.base_url())),
        // Not a link, for a list that pages by links only.
        ("agents", "page-3".to_string()),
    ];
    for (stream, position) in cases {
        mock.clear_requests();
        let run = read_all(&work, &mock, stream, Some(&state_of(stream, json!({"next_page": position}))));
        assert_eq!(run.code, 0, "{stream} from {position}: {:?}", run.errors());
        assert!(run.errors().is_empty(), "{stream} from {position}: {:?}", run.errors());
        run.assert_protocol_rules();
        let warnings = run.warnings();
        assert!(
            warnings.iter().any(|w| w.starts_with(stream) && w.contains("read again from its start")),
            "{stream} from {position}: {warnings:?}"
        );
        assert_same_keys(stream, &run.keys(stream), &expected_keys(&mock, stream, Utc::now(), Utc::now()));
        assert_eq!(run.states(stream).last().unwrap()["state"]["stream"]["stream_state"], json!({}), "{stream}");
        assert!(mock.requests().iter().any(|r| !is_later_page(&r.query)), "{stream}: the first page was read");
    }
    assert!(foreign.requests().is_empty(), "the other host got requests: {:?}", foreign.requests());
}

#[test]
fn a_list_refused_after_its_resumed_pages_were_written_fails_instead_of_writing_them_again() {
    let mock = mock();
    let work = Workdir::new();
    let whole = read_all(&work, &mock, "contacts", None);
    let saved = whole.states("contacts")[2]["state"].clone();
    // The page after the resumed one is refused (its token is junk): starting over now would
    // write the resumed page's contacts a second time in this sync.
    mock.set_scenario(Stream::Contacts, Some(Scenario::NextPageNotUrl));
    mock.clear_requests();
    let run = read_all(&work, &mock, "contacts", Some(&json!([saved])));
    assert_eq!(run.code, 1);
    assert_eq!(run.statuses("contacts").last().map(String::as_str), Some("INCOMPLETE"));
    let error = &run.errors()[0]["trace"]["error"];
    assert!(error["message"].as_str().unwrap().contains("refused the next page of stream 'contacts'"), "{error}");
    assert_eq!(run.keys("contacts").len(), 100, "only the resumed page");
    assert!(!run.logs().iter().any(|l| l.contains("read again from its start")), "{:?}", run.logs());
    assert!(mock.requests().iter().all(|r| is_later_page(&r.query)), "the list was not started over");
}

#[test]
fn an_empty_or_absent_position_reads_the_list_from_its_start() {
    let mock = mock();
    let work = Workdir::new();
    for state in [
        None,
        Some(state_of("contacts", json!({}))),
        Some(state_of("contacts", json!({"next_page": null}))),
        Some(json!([])),
    ] {
        mock.clear_requests();
        let run = read_all(&work, &mock, "contacts", state.as_ref());
        assert_eq!(run.code, 0, "{state:?}: {:?}", run.errors());
        run.assert_protocol_rules();
        assert_same_keys("contacts", &run.keys("contacts"), &expected_keys(&mock, "contacts", Utc::now(), Utc::now()));
        let first = &mock.requests()[0];
        assert!(!is_later_page(&first.query), "{state:?}: starts at the first page: {:?}", first.query);
        assert!(!run.logs().iter().any(|l| l.contains("resuming")), "{state:?}: {:?}", run.logs());
        // A STATE per page, then {} at the end.
        let states = run.states("contacts");
        assert_eq!(states.len(), 25, "{state:?}");
        assert_eq!(states.last().unwrap()["state"]["stream"]["stream_state"], json!({}));
    }
    assert_eq!(mock.requests().iter().filter(|r| r.endpoint == Some(Stream::Contacts)).count(), 25);
}

#[test]
fn discover_marks_the_lists_resumable() {
    let work = Workdir::new();
    let config = work.write_json("config.json", &json!({"access_token": "tok-123456789", "start_date": "2024-01-01"}));
    let run = run_bin(&["discover", "--config", path_str(&config)], &[]);
    assert_eq!(run.code, 0);
    let streams = run.of_type("CATALOG")[0]["catalog"]["streams"].as_array().unwrap().clone();
    // Streams read in one response have nothing to resume.
    let single = [
        "channels",
        "whatsapp_templates",
        "whatsapp_accounts",
        "variables",
        "typifications",
        "ticket_field_definitions",
        "webhooks",
    ];
    for s in &streams {
        let name = s["name"].as_str().unwrap();
        let want = !single.contains(&name);
        assert_eq!(s["is_resumable"], json!(want), "{name}: {s}");
    }
    for list in LISTS {
        assert!(streams.iter().any(|s| s["name"] == list && s["is_resumable"] == json!(true)), "{list}");
    }
}
