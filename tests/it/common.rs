//! Shared helpers for the integration tests: start the mock, write input files, run the real
//! binary and look at what it printed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use botmaker_mock::{MockConfig, MockServer, Stream};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_source-botmaker");

/// Environment that makes retries quick in tests.
pub const FAST_RETRIES: [(&str, &str); 2] =
    [("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20"), ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "60")];

/// A temporary directory for one test's files.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        Workdir { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write_json(&self, name: &str, value: &Value) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        p
    }

    pub fn write_bytes(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// A mock with rate limits off (fast) and the given scale.
pub fn fast_mock(scale: u64) -> MockServer {
    let mut cfg = MockConfig::with_scale(scale);
    cfg.rate_limits = false;
    MockServer::start(cfg).unwrap()
}

pub fn mock_with(cfg: MockConfig) -> MockServer {
    MockServer::start(cfg).unwrap()
}

/// A config pointing at `mock`, reading its whole span with long-term search.
pub fn config_for(mock: &MockServer) -> Value {
    json!({
        "access_token": mock.token(),
        "start_date": "2000-01-01",
        "long_term_search": true,
        "api_url": mock.base_url(),
    })
}

/// The nine streams the connector read before issue 15 added the others.
pub const CORE: [&str; 9] =
    ["chats", "messages", "sessions", "calls", "contacts", "agents", "channels", "intents", "tickets"];

/// A configured catalog for `streams` (every stream, the billed dashboards too, when empty).
pub fn catalog(streams: &[&str], incremental: bool) -> Value {
    let discovered = source_botmaker::catalog();
    let selected: Vec<Value> = discovered["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| streams.is_empty() || streams.contains(&s["name"].as_str().unwrap()))
        .map(|s| {
            let inc = incremental && s["supported_sync_modes"].as_array().unwrap().contains(&json!("incremental"));
            json!({"stream": s, "sync_mode": if inc {"incremental"} else {"full_refresh"}, "destination_sync_mode": "append"})
        })
        .collect();
    json!({ "streams": selected })
}

/// What one run of the binary printed.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub messages: Vec<Value>,
}

impl Run {
    /// Every stdout line must be an Airbyte message.
    fn parse(code: i32, stdout: String, stderr: String) -> Run {
        let messages = stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l:?}"))
            })
            .collect::<Vec<_>>();
        for m in &messages {
            assert!(m["type"].is_string(), "not an Airbyte message: {m}");
        }
        Run { code, stdout, stderr, messages }
    }

    pub fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.messages.iter().filter(|m| m["type"] == kind).collect()
    }

    pub fn records(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
            .map(|m| &m["record"]["data"])
            .collect()
    }

    pub fn record_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in self.of_type("RECORD") {
            *counts.entry(m["record"]["stream"].as_str().unwrap().to_string()).or_default() += 1;
        }
        counts
    }

    /// Primary keys of `stream`'s records, asserting none repeats.
    pub fn keys(&self, stream: &str) -> HashSet<String> {
        let pk = pk_of(stream);
        let mut keys = HashSet::new();
        for r in self.records(stream) {
            let k = r[pk].as_str().unwrap_or_else(|| panic!("{stream} record without {pk}: {r}")).to_string();
            assert!(keys.insert(k.clone()), "{stream}: {k} emitted twice");
        }
        keys
    }

    pub fn states(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "STATE" && m["state"]["stream"]["stream_descriptor"]["name"] == stream)
            .collect()
    }

    /// The state file the next sync would get: the last STATE of each stream.
    pub fn final_state(&self) -> Value {
        let mut last: BTreeMap<String, Value> = BTreeMap::new();
        for m in self.of_type("STATE") {
            last.insert(
                m["state"]["stream"]["stream_descriptor"]["name"].as_str().unwrap().to_string(),
                m["state"].clone(),
            );
        }
        Value::Array(last.into_values().collect())
    }

    pub fn errors(&self) -> Vec<&Value> {
        self.messages.iter().filter(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR").collect()
    }

    pub fn statuses(&self, stream: &str) -> Vec<String> {
        self.messages
            .iter()
            .filter(|m| {
                m["trace"]["type"] == "STREAM_STATUS"
                    && m["trace"]["stream_status"]["stream_descriptor"]["name"] == stream
            })
            .map(|m| m["trace"]["stream_status"]["status"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn logs(&self) -> Vec<String> {
        self.of_type("LOG").iter().map(|m| m["log"]["message"].as_str().unwrap().to_string()).collect()
    }

    /// The messages of the WARN logs.
    pub fn warnings(&self) -> Vec<String> {
        self.of_type("LOG")
            .iter()
            .filter(|m| m["log"]["level"] == "WARN")
            .map(|m| m["log"]["message"].as_str().unwrap().to_string())
            .collect()
    }

    /// Checks the protocol rules a platform enforces on a sync's output: per stream, each
    /// STATE's recordCount equals the records since the previous STATE, no two identical
    /// states follow each other with records in between, and STREAM_STATUS comes in order.
    pub fn assert_protocol_rules(&self) {
        let mut since: HashMap<String, u64> = HashMap::new();
        let mut last_state: HashMap<String, Value> = HashMap::new();
        for m in &self.messages {
            match m["type"].as_str().unwrap() {
                "RECORD" => *since.entry(m["record"]["stream"].as_str().unwrap().to_string()).or_default() += 1,
                "STATE" => {
                    let name = m["state"]["stream"]["stream_descriptor"]["name"].as_str().unwrap().to_string();
                    let count = m["state"]["sourceStats"]["recordCount"].as_f64().expect("recordCount is a number");
                    let n = since.remove(&name).unwrap_or(0);
                    assert_eq!(count, n as f64, "{name}: recordCount {count} but {n} records since the previous state");
                    let value = m["state"]["stream"]["stream_state"].clone();
                    if n > 0 {
                        assert_ne!(
                            last_state.get(&name),
                            Some(&value),
                            "{name}: the same state twice with records in between"
                        );
                    }
                    last_state.insert(name, value);
                }
                _ => {}
            }
        }
    }
}

pub fn pk_of(stream: &str) -> &'static str {
    if stream == "chats" {
        "chat_id"
    } else {
        "id"
    }
}

/// Runs the binary with `args` and `env`, collecting its output.
pub fn run_bin(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run::parse(
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `read` with the given inputs.
pub fn read(work: &Workdir, config: &Value, catalog: &Value, state: Option<&Value>) -> Run {
    let c = work.write_json("config.json", config);
    let k = work.write_json("catalog.json", catalog);
    let mut args = vec!["read", "--config", c.to_str().unwrap(), "--catalog", k.to_str().unwrap()];
    let s;
    if let Some(state) = state {
        s = work.write_json("state.json", state);
        args.extend(["--state", s.to_str().unwrap()]);
    }
    run_bin(&args, &FAST_RETRIES)
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The keys of `records`.
pub fn keys_of(stream: &str, records: &[Value]) -> HashSet<String> {
    let pk = if stream == "chats" { None } else { Some("id") };
    records
        .iter()
        .map(|r| match pk {
            Some(pk) => r[pk].as_str().unwrap().to_string(),
            None => r["chat"]["chatId"].as_str().unwrap().to_string(),
        })
        .collect()
}

pub fn mock_stream(name: &str) -> Stream {
    name.parse().unwrap()
}

/// Everything the mock serves for `stream` from `from` until now (long-term search).
pub fn expected_keys(mock: &MockServer, stream: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> HashSet<String> {
    let s = mock_stream(stream);
    let records = if matches!(stream, "chats" | "messages" | "sessions" | "calls" | "tickets") {
        mock.expected(s, from, to)
    } else {
        mock.expected_all(s)
    };
    keys_of(stream, &records)
}

/// Asserts set equality with a readable diff.
pub fn assert_same_keys(stream: &str, got: &HashSet<String>, want: &HashSet<String>) {
    let missing: Vec<_> = want.difference(got).take(5).collect();
    let extra: Vec<_> = got.difference(want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{stream}: got {} keys, want {}; missing e.g. {missing:?}; unexpected e.g. {extra:?}",
        got.len(),
        want.len()
    );
}

/// Every form in which `token` could show up in output: as is, lower- and upper-cased,
/// JSON-escaped (inside a serialized string), `Debug`-escaped, percent-encoded (only where a URL
/// needs it, or every byte; upper and lower hex) and base64-encoded (standard and URL-safe
/// alphabets, padded or not).
pub fn token_forms(token: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use base64::Engine;
    let json = serde_json::to_string(token).unwrap();
    let debug = format!("{token:?}");
    let mut forms = vec![
        token.to_string(),
        token.to_lowercase(),
        token.to_uppercase(),
        json[1..json.len() - 1].to_string(),
        debug[1..debug.len() - 1].to_string(),
    ];
    for upper in [true, false] {
        for every_byte in [false, true] {
            let mut enc = String::new();
            for b in token.bytes() {
                if !every_byte && (b.is_ascii_alphanumeric() || b"-_.~".contains(&b)) {
                    enc.push(b as char);
                } else if upper {
                    enc.push_str(&format!("%{b:02X}"));
                } else {
                    enc.push_str(&format!("%{b:02x}"));
                }
            }
            forms.push(enc);
        }
    }
    for engine in [STANDARD, URL_SAFE] {
        let padded = engine.encode(token);
        forms.push(padded.trim_end_matches('=').to_string());
        forms.push(padded);
    }
    forms.retain(|f| f.len() >= 8);
    forms.sort();
    forms.dedup();
    forms
}

/// Every 8-character piece of every form of `token`: what a cut through the token (an excerpt
/// shortened before it was redacted) leaves behind.
pub fn token_pieces(token: &str) -> Vec<String> {
    let mut pieces: Vec<String> = token_forms(token)
        .iter()
        .flat_map(|form| {
            let chars: Vec<char> = form.chars().collect();
            chars.windows(8).map(|w| w.iter().collect::<String>()).collect::<Vec<_>>()
        })
        .collect();
    pieces.sort();
    pieces.dedup();
    pieces
}

/// Appends every string (keys too) inside `v` to `out`, one per line.
pub fn strings_in(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|x| strings_in(x, out)),
        Value::Object(m) => {
            for (k, x) in m {
                out.push_str(k);
                out.push('\n');
                strings_in(x, out);
            }
        }
        _ => {}
    }
}

/// Runs the binary and checks what every run must satisfy whatever its input: it ends by
/// itself with exit code 0, 1 or 2 (not a panic's 101, not a signal), prints no panic, prints
/// only Airbyte messages on stdout, prints no form of any of `secrets` anywhere, and no 8-character
/// piece of one outside the records.
pub fn guarded(args: &[String], env: &[(&str, &str)], secrets: &[&str], deadline: Duration) -> Result<Run, String> {
    guarded_measured(args, env, secrets, deadline).map(|(run, _)| run)
}

/// [`guarded`], also returning the run's peak resident memory in bytes (the kernel's
/// `ru_maxrss` for that one child, read when it is reaped, so no peak between two samples is
/// missed).
pub fn guarded_measured(
    args: &[String],
    env: &[(&str, &str)],
    secrets: &[&str],
    deadline: Duration,
) -> Result<(Run, u64), String> {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out_pipe.read_to_end(&mut b);
        b
    });
    let err_thread = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err_pipe.read_to_end(&mut b);
        b
    });
    let started = Instant::now();
    let (status, peak_rss) = loop {
        if let Some(reaped) = reap(&child, false) {
            break reaped;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = reap(&child, true);
            let out = String::from_utf8_lossy(&out_thread.join().unwrap()).into_owned();
            let tail: String = out.lines().rev().take(5).collect::<Vec<_>>().join("\n");
            return Err(format!("still running after {deadline:?}, killed; last stdout lines:\n{tail}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8(out_thread.join().unwrap()).map_err(|e| format!("stdout is not UTF-8: {e}"))?;
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap()).into_owned();
    let code = status.code().ok_or_else(|| format!("killed by a signal ({status:?}); stderr: {stderr}"))?;
    if ![0, 1, 2].contains(&code) {
        return Err(format!("exit code {code}; stderr: {stderr}; stdout: {}", clip(&stdout)));
    }
    for text in [&stdout, &stderr] {
        for bad in ["panicked", "RUST_BACKTRACE", "internal error"] {
            if text.contains(bad) {
                return Err(format!("printed {bad:?}; stdout: {}; stderr: {}", clip(&stdout), clip(&stderr)));
            }
        }
    }
    let mut messages = Vec::new();
    for line in stdout.lines() {
        let m: Value =
            serde_json::from_str(line).map_err(|e| format!("stdout line is not JSON ({e}): {}", clip(line)))?;
        let kind = m["type"].as_str().unwrap_or_default();
        if !["RECORD", "STATE", "LOG", "TRACE", "SPEC", "CATALOG", "CONNECTION_STATUS", "CONTROL"].contains(&kind) {
            return Err(format!("not an Airbyte message: {}", clip(line)));
        }
        messages.push(m);
    }
    // Also look inside the messages' decoded strings: a token escaped once by the connector
    // and once more by JSON is still readable by anyone who looks at the message.
    let mut decoded = String::new();
    for m in &messages {
        strings_in(m, &mut decoded);
    }
    // Pieces of the token are looked for where text is quoted and cut (every message but the
    // records, and stderr); the records are searched for its whole forms only.
    let mut quoted = String::new();
    for m in messages.iter().filter(|m| m["type"] != "RECORD") {
        quoted.push_str(&m.to_string());
        quoted.push('\n');
        strings_in(m, &mut quoted);
    }
    for secret in secrets {
        for form in token_forms(secret) {
            for (place, text) in [("stdout", &stdout), ("stderr", &stderr), ("a message's text", &decoded)] {
                if text.contains(&form) {
                    return Err(format!("the token leaked on {place} as `{form}`"));
                }
            }
        }
        for piece in token_pieces(secret) {
            for (place, text) in [("stderr", &stderr), ("a message", &quoted)] {
                if text.contains(&piece) {
                    return Err(format!("a piece of the token leaked in {place}: `{piece}`"));
                }
            }
        }
    }
    Ok((Run { code, stdout, stderr, messages }, peak_rss))
}

/// Reaps `child` if it has exited (or, with `block`, once it has), with its exit status and
/// peak resident memory in bytes. `std::process::Child` does not report memory, so the child is
/// reaped here with `wait4` rather than by `Child::wait`.
fn reap(child: &std::process::Child, block: bool) -> Option<(std::process::ExitStatus, u64)> {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 writes only into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: `pid` is our own child, not yet reaped (`Child::wait` is never called on it).
    let reaped = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
    assert!(reaped >= 0, "wait4 on the connector failed: {}", std::io::Error::last_os_error());
    // Linux reports ru_maxrss in KiB.
    (reaped == pid).then(|| (std::process::ExitStatus::from_raw(status), usage.ru_maxrss as u64 * 1024))
}

pub fn clip(s: &str) -> String {
    if s.len() > 600 {
        let mut end = 600;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s.to_string()
    }
}

/// Reads an RFC 3339 timestamp as the connector writes them.
pub fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw).ok().map(|t| t.with_timezone(&Utc))
}

/// The form the connector saves cursors in: milliseconds, `Z`.
pub fn format_cursor(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Validators for every stream's discovered schema, with formats (date-time) checked.
pub fn schema_validators() -> HashMap<String, jsonschema::Validator> {
    let catalog = source_botmaker::catalog();
    catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let v = jsonschema::options().should_validate_formats(true).build(&s["json_schema"]).unwrap();
            (s["name"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// Every record valid against its stream's discovered schema (formats checked), with an
/// integer `emitted_at`.
pub fn assert_records_match_schemas(run: &Run) {
    let validators = schema_validators();
    for m in run.of_type("RECORD") {
        let stream = m["record"]["stream"].as_str().unwrap();
        let data = &m["record"]["data"];
        if let Err(e) = validators[stream].validate(data) {
            panic!("{stream} record does not match its schema: {e} at {}\n{data}", e.instance_path);
        }
        assert!(m["record"]["emitted_at"].is_i64());
    }
}
