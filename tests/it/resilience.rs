//! Resilience and security against the mock: faults, rate limits, retries that run
//! out, how each failure is classified, redirects, and the token never leaking into output.
//!
//! Every run here goes through [`run_guarded`], which fails the test on a panic, a signal, an
//! unexpected exit code, a stdout line that is not an Airbyte message, or any form of the
//! access token in stdout or stderr.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use botmaker_mock::{
    FaultConfig, Latency, LoggedRequest, MockConfig, MockServer, RetryAfterMode, Scenario, Stream, StreamCounts,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

const ALL: [&str; 9] =
    ["chats", "messages", "sessions", "calls", "contacts", "agents", "channels", "intents", "tickets"];

/// A token with a digit, at least 8 characters, and characters that JSON-escaping and
/// percent-encoding change, so every printed form of it can be looked for.
const TOKEN: &str = "s3cr3t/Tok+en\"\\9-resilience";
const WRONG_TOKEN: &str = "wr0ng/token+\"\\-77";

/// Kills a run that takes longer than this (a pagination loop that is never detected, say).
const RUN_DEADLINE: Duration = Duration::from_secs(90);

// ------------------------------------------------------------------ the guarded runner

/// [`guarded`] with this file's deadline; any breach fails the test.
fn run_guarded(args: &[&str], env: &[(&str, &str)], secrets: &[&str]) -> Run {
    let owned: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    guarded(&owned, env, secrets, RUN_DEADLINE).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// `read` through [`run_guarded`], with quick retries giving up after `max_elapsed_secs`.
fn read_guarded(
    work: &Workdir,
    config: &Value,
    catalog: &Value,
    max_elapsed_secs: u64,
    extra_env: &[(&str, &str)],
) -> Run {
    let c = work.write_json("config.json", config);
    let k = work.write_json("catalog.json", catalog);
    let max = max_elapsed_secs.to_string();
    let mut env = vec![("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20"), ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", &max)];
    env.extend_from_slice(extra_env);
    let token = config["access_token"].as_str().unwrap_or_default().to_string();
    run_guarded(&["read", "--config", path_str(&c), "--catalog", path_str(&k)], &env, &[TOKEN, WRONG_TOKEN, &token])
}

// ------------------------------------------------------------------ fixtures

/// A mock whose data ends an hour ago, so a sync started now sees all of it.
fn mock_cfg(scale: u64) -> MockConfig {
    let mut cfg = MockConfig::with_scale(scale);
    cfg.token = TOKEN.to_string();
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    cfg.span_days = 30;
    cfg.rate_limits = false;
    cfg
}

fn config_from(mock: &MockServer, start: DateTime<Utc>) -> Value {
    json!({
        "access_token": mock.token(),
        "start_date": start.to_rfc3339(),
        "long_term_search": true,
        "api_url": mock.base_url(),
    })
}

fn fixed(status: u16, content_type: &str, body: &str) -> Scenario {
    Scenario::Fixed { status, content_type: content_type.into(), body: body.into() }
}

/// The TRACE ERROR about `stream` (there is exactly one).
fn stream_error<'a>(run: &'a Run, stream: &str) -> &'a Value {
    let errors: Vec<_> =
        run.errors().into_iter().filter(|e| e["trace"]["error"]["stream_descriptor"]["name"] == stream).collect();
    assert_eq!(errors.len(), 1, "{stream}: expected one stream error, got {errors:?}\n{}", run.stdout);
    &errors[0]["trace"]["error"]
}

fn message_of(error: &Value) -> &str {
    error["message"].as_str().unwrap()
}

fn requests_to(mock: &MockServer, stream: Stream) -> Vec<LoggedRequest> {
    mock.requests().into_iter().filter(|r| r.endpoint == Some(stream)).collect()
}

/// `before ⊆ got ⊆ after`, for sets that may change while a sync runs (sessions finishing).
fn assert_bracketed(stream: &str, got: &HashSet<String>, before: &HashSet<String>, after: &HashSet<String>) {
    let missing: Vec<_> = before.difference(got).take(5).collect();
    let extra: Vec<_> = got.difference(after).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{stream}: got {} keys; missing {missing:?}, unexpected {extra:?}",
        got.len()
    );
}

/// Asserts every stream's keys equal the mock's (sessions: bracketed by the sync's start and end).
fn assert_exactly_the_mock_records(
    run: &Run,
    mock: &MockServer,
    streams: &[&str],
    start: DateTime<Utc>,
    sessions_before: &HashSet<String>,
) {
    for &stream in streams {
        let got = run.keys(stream);
        if stream == "sessions" {
            assert_bracketed(stream, &got, sessions_before, &expected_keys(mock, "sessions", start, Utc::now()));
        } else {
            assert_same_keys(stream, &got, &expected_keys(mock, stream, start, Utc::now()));
        }
        assert!(!got.is_empty(), "{stream}: the mock has records for it");
        assert_eq!(run.statuses(stream).last().map(String::as_str), Some("COMPLETE"), "{stream}");
    }
}

// ------------------------------------------------------------------ faults and rate limits

#[test]
fn with_faults_on_every_stream_is_read_exactly_none_lost_none_duplicated() {
    let mut cfg = mock_cfg(0);
    // A few thousand records over many pages: the request count is what exposes faults.
    cfg.counts = StreamCounts {
        chats: 1_500,
        messages: 1_000,
        sessions: 1_000,
        calls: 1_500,
        contacts: 1_500,
        agents: 4_000,
        channels: 6,
        intents: 40,
        tickets: 1_000,
    };
    cfg.latency = Latency { base_ms: 1, jitter_ms: 15 };
    cfg.faults = FaultConfig {
        p_429: 0.12,
        retry_after: RetryAfterMode::Mixed,
        p_5xx: 0.06,
        p_reset: 0.02,
        p_malformed: 0.02,
        p_body_cut: 0.02,
        p_slow: 0.04,
        // Longer than the request timeout below: slow responses become timeouts.
        slow_ms: 2_500,
    };
    let mock = mock_with(cfg);
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let sessions_before = expected_keys(&mock, "sessions", start, Utc::now());
    let began = Instant::now();
    let run = read_guarded(
        &work,
        &config_from(&mock, start),
        &catalog(&ALL, true),
        60,
        &[("SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS", "1")],
    );
    let took = began.elapsed();
    assert_eq!(run.code, 0, "{:?}", run.errors());
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    run.assert_protocol_rules();
    assert_exactly_the_mock_records(&run, &mock, &ALL, start, &sessions_before);
    let total: usize = run.record_counts().values().sum();
    assert!((5_000..20_000).contains(&total), "a few thousand records, got {total}");

    // The faults really happened, so the test cannot pass vacuously.
    let log = mock.requests();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for r in &log {
        let kind = match (r.status, r.fault.as_deref()) {
            (429, _) => "429".to_string(),
            (500..=599, _) => "5xx".to_string(),
            (_, Some(f)) => f.trim_end_matches("+slow").to_string(),
            _ => "ok".to_string(),
        };
        *by_kind.entry(kind).or_default() += 1;
    }
    let n = log.len();
    let count = |k: &str| by_kind.get(k).copied().unwrap_or(0);
    let mut per_endpoint: BTreeMap<String, usize> = BTreeMap::new();
    for r in &log {
        *per_endpoint.entry(r.path.clone()).or_default() += 1;
    }
    eprintln!("{n} requests in {took:?}: {by_kind:?} {per_endpoint:?}");
    assert!(n >= 120, "enough requests to mean something: {n}");
    assert!(count("429") * 100 >= n * 6 && count("429") >= 10, "many 429s: {by_kind:?}");
    assert!(count("5xx") * 100 >= n * 2 && count("5xx") >= 4, "many 5xx: {by_kind:?}");
    assert!(count("reset") + count("malformed") + count("body_cut") >= 5, "resets and broken bodies: {by_kind:?}");
    for kind in ["reset", "malformed", "body_cut"] {
        assert!(count(kind) >= 1, "at least one {kind}: {by_kind:?}");
    }
    let endpoints_hit: HashSet<_> = log.iter().filter(|r| r.status == 429).filter_map(|r| r.endpoint).collect();
    assert!(endpoints_hit.len() >= 4, "429s spread over endpoints: {endpoints_hit:?}");

    // Users see why the sync is slow.
    let logs = run.logs();
    let backoffs: Vec<&String> = logs.iter().filter(|l| l.contains("retrying in")).collect();
    assert!(backoffs.len() >= count("429") / 2, "{} backoff lines for {} 429s", backoffs.len(), count("429"));
    assert!(backoffs.iter().any(|l| l.contains("429")), "a backoff line names the 429: {backoffs:?}");
    assert!(backoffs.iter().any(|l| l.contains("HTTP 5")), "a backoff line names a 5xx: {backoffs:?}");
    assert!(
        backoffs.iter().any(|l| l.contains("timed out")),
        "a slow response timed out and was retried: {backoffs:?}"
    );
    let warn_levels: HashSet<&str> = run
        .of_type("LOG")
        .iter()
        .filter(|m| m["log"]["message"].as_str().unwrap().contains("retrying in"))
        .map(|m| m["log"]["level"].as_str().unwrap())
        .collect();
    assert_eq!(warn_levels, HashSet::from(["WARN"]), "backoffs are warnings");
    assert!(took < Duration::from_secs(45), "the faulty sync stays quick: {took:?}");
}

#[test]
fn with_the_mock_rate_limits_on_a_healthy_multi_stream_sync_gets_no_429() {
    let mut cfg = mock_cfg(900);
    cfg.rate_limits = true;
    cfg.rate_limit_retry_after = true;
    cfg.latency = Latency { base_ms: 5, jitter_ms: 40 };
    let mock = mock_with(cfg);
    let start = mock.data_start() - TimeDelta::days(1);
    let streams = ["chats", "messages", "calls", "contacts", "agents", "channels", "intents", "tickets"];
    let work = Workdir::new();
    let run = read_guarded(&work, &config_from(&mock, start), &catalog(&streams, true), 60, &[]);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    run.assert_protocol_rules();
    assert_exactly_the_mock_records(&run, &mock, &streams, start, &HashSet::new());
    let log = mock.requests();
    let limited: Vec<_> = log.iter().filter(|r| r.status == 429).map(|r| (r.path.clone(), r.at)).collect();
    assert!(limited.is_empty(), "{} of {} requests got 429: {limited:?}", limited.len(), log.len());
    assert!(log.iter().all(|r| r.status == 200), "every request succeeded");
    // The limits could have bitten: some endpoints got more requests than their per-second cap.
    let mut per_endpoint: HashMap<Stream, usize> = HashMap::new();
    for r in &log {
        *per_endpoint.entry(r.endpoint.unwrap()).or_default() += 1;
    }
    assert!(per_endpoint[&Stream::Chats] > 3 && per_endpoint[&Stream::Contacts] > 3, "{per_endpoint:?}");
    assert!(!run.logs().iter().any(|l| l.contains("retrying in")), "no backoff at all: {:?}", run.logs());
}

// ------------------------------------------------------------------ retries that run out

#[test]
fn an_endpoint_that_always_answers_503_ends_in_a_transient_error_naming_it_and_the_time() {
    let mock = mock_with(mock_cfg(200));
    mock.set_scenario(
        Stream::Calls,
        Some(fixed(503, "text/html", "<html><body><h1>503 Service Unavailable</h1></body></html>")),
    );
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let began = Instant::now();
    let run = read_guarded(&work, &config_from(&mock, start), &catalog(&["calls", "agents", "channels"], true), 2, &[]);
    let took = began.elapsed();
    assert_eq!(run.code, 1);
    assert_eq!(run.statuses("calls").last().unwrap(), "INCOMPLETE");
    let error = stream_error(&run, "calls");
    assert_eq!(error["failure_type"], "transient_error", "{error}");
    let message = message_of(error);
    assert!(message.contains("GET /v2.0/calls") && message.contains("'calls'"), "names the endpoint: {message}");
    assert!(message.contains("kept failing for") && message.contains(" s over "), "says how long: {message}");
    assert!(message.contains("503"), "says what the last failure was: {message}");
    let attempts = requests_to(&mock, Stream::Calls).len();
    assert!(attempts >= 3, "it was retried: {attempts} requests");
    assert!(took < Duration::from_secs(20), "gave up after the configured 2 s, took {took:?}");
    // The other streams are unaffected.
    assert_exactly_the_mock_records(&run, &mock, &["agents", "channels"], start, &HashSet::new());
    let last = run.errors().last().unwrap()["trace"]["error"].clone();
    assert_eq!(last["failure_type"], "transient_error", "{last}");
    assert!(message_of(&last).contains("calls"), "{last}");
    assert!(message_of(&last).ends_with("The next sync resumes from the last checkpoint."), "{last}");
    assert!(
        run.logs().iter().any(|l| l.contains("/v2.0/calls") && l.contains("503") && l.contains("retrying in")),
        "the backoffs were logged"
    );
    run.assert_protocol_rules();
}

// ------------------------------------------------------------------ error classification

#[test]
fn a_rejected_token_is_a_config_error_that_is_not_retried() {
    let mock = mock_with(mock_cfg(300));
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let mut config = config_from(&mock, start);
    config["access_token"] = json!(WRONG_TOKEN);
    let run = read_guarded(&work, &config, &catalog(&ALL, true), 30, &[]);
    assert_eq!(run.code, 1);
    assert!(run.of_type("RECORD").is_empty());
    for stream in ALL {
        let error = stream_error(&run, stream);
        assert_eq!(error["failure_type"], "config_error", "{stream}: {error}");
        let message = message_of(error);
        assert!(
            message.contains("regenerate it in Botmaker under Configuration → Integrations → API"),
            "{stream}: {message}"
        );
        assert!(message.contains("401"), "{stream}: {message}");
    }
    let last = &run.errors().last().unwrap()["trace"]["error"];
    assert_eq!(last["failure_type"], "config_error");
    assert_not_retried(&mock);
    assert!(!run.logs().iter().any(|l| l.contains("retrying in")), "{:?}", run.logs());
}

#[test]
fn a_403_is_the_same_config_error_and_not_retried() {
    let mock = mock_with(mock_cfg(300));
    let body = r#"{"errors":[{"type":"FORBIDDEN","message":"This token cannot read contacts"}]}"#;
    for stream in [Stream::Contacts, Stream::Chats] {
        mock.set_scenario(stream, Some(fixed(403, "application/json", body)));
    }
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let run =
        read_guarded(&work, &config_from(&mock, start), &catalog(&["contacts", "chats", "channels"], true), 30, &[]);
    assert_eq!(run.code, 1);
    for stream in ["contacts", "chats"] {
        let error = stream_error(&run, stream);
        assert_eq!(error["failure_type"], "config_error", "{error}");
        let message = message_of(error);
        assert!(message.contains("regenerate it in Botmaker under Configuration → Integrations → API"), "{message}");
        assert!(message.contains("403") && message.contains(&format!("/v2.0/{stream}")), "{message}");
    }
    assert_eq!(requests_to(&mock, Stream::Contacts).len(), 1, "one request, no retry");
    assert_not_retried(&mock);
    assert_eq!(run.records("channels").len(), 6, "other streams still complete");
}

/// Every URL was requested once: a failure that cannot be fixed by waiting is not retried
/// (windowed streams may have several windows in flight, each failing on its first request).
fn assert_not_retried(mock: &MockServer) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in mock.requests() {
        let query: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        *seen.entry(format!("{}?{}", r.path, query.join("&"))).or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(repeated.is_empty(), "requests repeated: {repeated:?}");
    let mut per_path: HashMap<String, usize> = HashMap::new();
    for r in mock.requests() {
        *per_path.entry(r.path).or_default() += 1;
    }
    for (path, n) in per_path {
        let windowed = ["chats", "messages", "sessions", "calls"].iter().any(|s| path.ends_with(&format!("/{s}")));
        let max = if windowed { 4 } else { 1 };
        assert!(n <= max, "{path}: {n} requests for a failure that is not retried");
    }
}

#[test]
fn a_400_is_a_config_error_carrying_the_api_message() {
    let mock = mock_with(mock_cfg(100));
    let body = r#"{"errors":[{"type":"INVALID_PARAMETER","field":"from","message":"The range between from and to cannot exceed one month (zq-marker)"}]}"#;
    mock.set_scenario(Stream::Messages, Some(fixed(400, "application/json", body)));
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let run = read_guarded(&work, &config_from(&mock, start), &catalog(&["messages"], true), 30, &[]);
    assert_eq!(run.code, 1);
    let error = stream_error(&run, "messages");
    assert_eq!(error["failure_type"], "config_error");
    let message = message_of(error);
    assert!(message.contains("The range between from and to cannot exceed one month (zq-marker)"), "{message}");
    assert!(message.contains("400") && message.contains("'messages'"), "{message}");
    assert_not_retried(&mock);
}

#[test]
fn a_404_names_the_endpoint() {
    // A wrong api_url path: the real mock answers 404 for every endpoint below it.
    let mock = mock_with(mock_cfg(50));
    let work = Workdir::new();
    let mut config = config_from(&mock, mock.data_start());
    config["api_url"] = json!(format!("{}/v1", mock.base_url()));
    let run = read_guarded(&work, &config, &catalog(&["agents", "tickets"], true), 30, &[]);
    assert_eq!(run.code, 1);
    for stream in ["agents", "tickets"] {
        let error = stream_error(&run, stream);
        assert_eq!(error["failure_type"], "config_error");
        let message = message_of(error);
        assert!(message.contains(&format!("GET /v2.0/v1/{stream}")) && message.contains("404"), "{message}");
        assert!(message.contains("api_url"), "{message}");
    }
    assert_not_retried(&mock);
}

#[test]
fn a_200_that_is_not_the_expected_json_is_retried_then_a_transient_error_quoting_it() {
    let mock = mock_with(mock_cfg(200));
    let cases = [
        (
            Stream::Contacts,
            fixed(200, "text/html", "<!DOCTYPE html><html><head><title>Botmaker maintenance</title></head></html>"),
            "Botmaker maintenance",
        ),
        (Stream::Agents, fixed(200, "application/json", r#"{"items": [{"id": "agent-1", "name": "Tru"#), "agent-1"),
        (Stream::Intents, fixed(200, "application/json", r#"{"data": [], "status": "ok"}"#), "status"),
        (Stream::Chats, fixed(200, "application/json", ""), "empty body"),
    ];
    for (stream, scenario, _) in &cases {
        mock.set_scenario(*stream, Some(scenario.clone()));
    }
    let start = mock.data_start() - TimeDelta::days(1);
    let work = Workdir::new();
    let run = read_guarded(
        &work,
        &config_from(&mock, start),
        &catalog(&["contacts", "agents", "intents", "chats", "channels"], true),
        1,
        &[],
    );
    assert_eq!(run.code, 1);
    for (stream, _, quoted) in cases {
        let error = stream_error(&run, stream.name());
        assert_eq!(error["failure_type"], "transient_error", "{stream}: {error}");
        let message = message_of(error);
        assert!(message.contains(&format!("GET /v2.0/{stream}")), "{stream}: {message}");
        assert!(message.contains("unexpected response body"), "{stream}: {message}");
        assert!(message.contains(quoted), "{stream}: quotes the body's first bytes: {message}");
        assert!(requests_to(&mock, stream).len() >= 2, "{stream}: retried");
    }
    assert_eq!(run.records("channels").len(), 6);
    assert_eq!(run.statuses("channels").last().unwrap(), "COMPLETE");
}

#[test]
fn a_redirect_to_another_host_is_refused_and_that_host_never_sees_a_request() {
    let mock = mock_with(mock_cfg(100));
    let mut other_cfg = mock_cfg(10);
    other_cfg.token = TOKEN.to_string();
    let other = mock_with(other_cfg);
    let target = format!("http://127.0.0.1:{}/v2.0/agents", other.port());
    mock.set_scenario(Stream::Agents, Some(Scenario::Redirect(target)));
    // Same host name, other port: a different origin too.
    mock.set_scenario(Stream::Channels, Some(Scenario::Redirect(format!("{}/channels", other.base_url()))));
    let work = Workdir::new();
    let start = mock.data_start() - TimeDelta::days(1);
    let run =
        read_guarded(&work, &config_from(&mock, start), &catalog(&["agents", "channels", "intents"], true), 30, &[]);
    assert_eq!(run.code, 1);
    assert!(other.requests().is_empty(), "the other host got requests: {:?}", other.requests());
    for stream in ["agents", "channels"] {
        let error = stream_error(&run, stream);
        let message = message_of(error);
        assert!(message.contains("redirected") && message.contains(&other.port().to_string()), "{message}");
        assert!(message.contains(&format!("/v2.0/{stream}")), "{message}");
    }
    assert_exactly_the_mock_records(&run, &mock, &["intents"], start, &HashSet::new());
}

#[test]
fn check_with_error_responses_never_prints_the_token() {
    let mock = mock_with(mock_cfg(20));
    let work = Workdir::new();
    let scenarios = [
        None,
        Some(fixed(401, "application/json", r#"{"errors":[{"type":"UNAUTHORIZED","message":"bad token"}]}"#)),
        Some(fixed(500, "text/html", "<html>oops</html>")),
        Some(fixed(200, "text/html", "<html>maintenance</html>")),
        Some(Scenario::Redirect("http://127.0.0.1:9/elsewhere".into())),
    ];
    for scenario in scenarios {
        mock.set_scenario(Stream::Channels, scenario.clone());
        for token in [TOKEN, WRONG_TOKEN] {
            let mut config = config_from(&mock, mock.data_start());
            config["access_token"] = json!(token);
            let c = work.write_json("config.json", &config);
            let run = run_guarded(
                &["check", "--config", path_str(&c)],
                &[("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20"), ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "1")],
                &[TOKEN, WRONG_TOKEN],
            );
            assert_eq!(run.code, 0, "{scenario:?}");
            let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
            let want = if scenario.is_none() && token == TOKEN { "SUCCEEDED" } else { "FAILED" };
            assert_eq!(status["status"], want, "{scenario:?} {token}: {status}");
        }
    }
}

/// A consumer that stops reading stdout for a while (a destination flushing) holds the
/// connector's page slots; requests waiting for a slot must not time out and be retried.
/// Regression test: the request timeout once covered the wait for a slot.
#[test]
fn a_slow_stdout_reader_is_backpressure_not_a_timeout() {
    let mut cfg = mock_cfg(3_000);
    cfg.rate_limits = false;
    let mock = MockServer::start(cfg).unwrap();
    let work = Workdir::new();
    let start = mock.data_start() - TimeDelta::days(1);
    let config = work.write_json("config.json", &config_from(&mock, start));
    let catalog = work.write_json("catalog.json", &catalog(&["messages", "calls", "contacts"], true));
    let mut child = Command::new(BIN)
        .args(["read", "--config", path_str(&config), "--catalog", path_str(&catalog)])
        .env("SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS", "1")
        .env("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20")
        .env("SOURCE_BOTMAKER_CLIENT_RATE_LIMITS", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Longer than the request timeout: the pipe fills and every page slot waits on it.
    std::thread::sleep(Duration::from_secs(3));
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(child.wait().unwrap().success(), "the sync succeeds");
    let messages: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let retries: Vec<&str> =
        messages.iter().filter_map(|m| m["log"]["message"].as_str()).filter(|l| l.contains("retrying")).collect();
    assert!(retries.is_empty(), "waiting for stdout caused retries: {retries:?}");
    let records = messages.iter().filter(|m| m["type"] == "RECORD").count();
    assert!(records > 6_000, "everything arrived ({records} records)");
    assert!(mock.requests().iter().all(|r| r.status == 200));
}
