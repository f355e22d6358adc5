//! Hostile input, table-driven: broken config, catalog and state files, and API
//! bodies that break the rules (through mock scenarios). Whatever comes in, the connector must
//! not panic, must exit 0, 1 or 2 as the protocol expects, must print only Airbyte messages,
//! must say clearly what is wrong and where, and must never print the token.
//!
//! `HOSTILE_VERBOSE=1 cargo test --test hostile -- --nocapture` prints every case's message.
//! Tests marked `#[ignore = "bug: …"]` document connector bugs; run them with `--ignored`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::*;
use botmaker_mock::{MockConfig, MockServer, Scenario, Stream};
use chrono::{TimeDelta, Utc};
use serde_json::{json, Value};

/// A token with a digit, at least 8 characters, and characters that JSON-escaping and
/// percent-encoding change.
const TOKEN: &str = "h0stile/Tok+en\"\\-secret";

const RUN_DEADLINE: Duration = Duration::from_secs(30);

// ------------------------------------------------------------------ the guarded runner

/// The error a run reported: for `check` a FAILED CONNECTION_STATUS's message or the TRACE
/// ERROR; otherwise the last TRACE ERROR, which must carry a failure_type. All stream-level
/// errors are appended, so a case can look for the stream's own explanation too.
fn reported_error(run: &Run) -> Result<(String, Option<String>), String> {
    if let Some(status) = run.of_type("CONNECTION_STATUS").first() {
        let status = &status["connectionStatus"];
        if status["status"] != "FAILED" {
            return Err(format!("check did not fail: {status}"));
        }
        if run.code != 0 {
            return Err(format!("a FAILED check exits 0, got {}", run.code));
        }
        return Ok((status["message"].as_str().unwrap_or_default().to_string(), None));
    }
    let errors = run.errors();
    let Some(last) = errors.last() else {
        return Err(format!("no TRACE ERROR (exit {}): {}", run.code, clip(&run.stdout)));
    };
    let failure_type = last["trace"]["error"]["failure_type"].as_str().map(str::to_string);
    if !matches!(failure_type.as_deref(), Some("config_error" | "transient_error" | "system_error")) {
        return Err(format!("TRACE ERROR without a valid failure_type: {last}"));
    }
    if run.code == 0 {
        return Err("a failed command exits non-zero".into());
    }
    let text: Vec<&str> = errors.iter().filter_map(|e| e["trace"]["error"]["message"].as_str()).collect();
    Ok((text.join(" | "), failure_type))
}

fn env_quick(max_elapsed_secs: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20".to_string()),
        ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", max_elapsed_secs.to_string()),
        ("SOURCE_BOTMAKER_REQUEST_TIMEOUT_SECS", "5".to_string()),
    ]
}

// ------------------------------------------------------------------ input files

/// What a hostile file holds.
#[derive(Clone)]
enum Content {
    Json(Value),
    Text(String),
    Bytes(Vec<u8>),
    /// The path is a directory.
    Dir,
    /// The path does not exist.
    Missing,
    /// The path is a symbolic link to this file (a device, say).
    SymlinkTo(&'static str),
    /// The path is a named pipe nobody writes to: opening it for reading would block.
    Fifo,
    /// The path is a Unix socket.
    Socket,
    /// A regular file of this many bytes (sparse: zeros, no disk space).
    Sized(u64),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Config,
    Catalog,
    State,
}

/// How the connector must answer.
#[derive(Clone)]
enum Expect {
    /// An error whose text contains every one of these (case-insensitively), with this
    /// failure_type when it is a TRACE ERROR.
    Fails(&'static str, Vec<String>),
    /// Not an error at all: the input is odd but legitimate.
    Succeeds,
}

struct Case {
    name: &'static str,
    target: Target,
    content: Content,
    expect: Expect,
    /// Further strings that must never be printed (a token given in an odd form).
    secrets: Vec<String>,
    /// Commands that must fail (config cases: all three unless narrowed); the others succeed.
    failing: &'static [&'static str],
}

impl Case {
    /// Only these commands reject the input (the others do not need what is wrong with it).
    fn failing_only(mut self, commands: &'static [&'static str]) -> Self {
        self.failing = commands;
        self
    }

    /// The message need not name the file (the problem is found after the file was read).
    fn not_naming_the_file(mut self) -> Self {
        if let Expect::Fails(_, names) = &mut self.expect {
            names.retain(|n| !n.starts_with("hostile-"));
        }
        self
    }

    fn secret(mut self, s: &str) -> Self {
        self.secrets.push(s.into());
        self
    }
}

fn case(name: &'static str, target: Target, content: Content, names: &[&str]) -> Case {
    let file = match target {
        Target::Config => "config",
        Target::Catalog => "catalog",
        Target::State => "state",
    };
    let mut must: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    // A file-level problem names the file; a field-level problem names the file and the field.
    if !names.iter().any(|n| n.starts_with('\'')) {
        must.push(format!("hostile-{file}"));
    }
    Case {
        name,
        target,
        content,
        expect: Expect::Fails("config_error", must),
        secrets: vec![],
        failing: &["check", "discover", "read"],
    }
}

fn ok_case(name: &'static str, target: Target, content: Content) -> Case {
    Case { name, target, content, expect: Expect::Succeeds, secrets: vec![], failing: &[] }
}

/// A valid config for `mock`, changed by `f`.
fn config_with(mock_url: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Content {
    let mut v = json!({"access_token": TOKEN, "start_date": "2024-01-01", "api_url": mock_url});
    f(v.as_object_mut().unwrap());
    Content::Json(v)
}

fn garbage(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn stream_entry(name: &str, sync_mode: Value) -> Value {
    json!({"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
        "sync_mode": sync_mode, "destination_sync_mode": "append"})
}

fn state_of(stream: &str, stream_state: Value) -> Value {
    json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state}}])
}

fn config_cases(url: &str) -> Vec<Case> {
    use Content::*;
    use Target::Config as C;
    let set = |k: &'static str, v: Value| config_with(url, move |m| drop(m.insert(k.into(), v)));
    let without = |k: &'static str| config_with(url, move |m| drop(m.remove(k)));
    let mut cases = vec![
        case("empty config file", C, Text(String::new()), &["empty"]),
        case("config of only whitespace", C, Text(" \n\t \r\n".into()), &["empty"]),
        case("binary garbage config", C, Bytes(garbage(4096, 1)), &[]),
        case("UTF-16 config", C, Bytes(b"\xff\xfe{\x00}\x00".to_vec()), &["UTF-8"]),
        case("NUL bytes in config", C, Bytes(b"{\"access_token\": \"a\x00b\"}".to_vec()), &["JSON"]),
        case("truncated config", C, Text(format!("{{\"access_token\": \"{}", "abc123")), &["JSON"]),
        case("config is an array", C, Json(json!([TOKEN, "2024-01-01"])), &["object"]),
        case("config is a string", C, Json(json!("access_token")), &["object"]),
        case("config is null", C, Json(Value::Null), &["object"]),
        case("config is a number", C, Json(json!(42)), &["object"]),
        case("config nested 100000 deep", C, Text(nested(100_000)), &["JSON"]),
        case(
            "config field nested 5000 deep",
            C,
            Text(format!("{{\"access_token\": \"{}\", \"start_date\": {}}}", "abc12345", nested(5_000))),
            &["JSON"],
        ),
        case(
            "NaN literal",
            C,
            Text(r#"{"access_token": "abc12345", "start_date": "2024-01-01", "lookback_window_days": NaN}"#.into()),
            &["JSON"],
        ),
        case(
            "Infinity literal",
            C,
            Text(
                r#"{"access_token": "abc12345", "start_date": "2024-01-01", "max_concurrent_requests": Infinity}"#
                    .into(),
            ),
            &["JSON"],
        ),
        case(
            "lone surrogate in token",
            C,
            Text(r#"{"access_token": "ab\ud800cd1234", "start_date": "2024-01-01"}"#.into()),
            &["JSON"],
        ),
        case("missing access_token", C, without("access_token"), &["access_token"]),
        case("missing start_date", C, without("start_date"), &["start_date"]),
        case("access_token null", C, set("access_token", Value::Null), &["access_token"]),
        case("access_token object", C, set("access_token", json!({"token": TOKEN})), &["access_token"]),
        case("access_token array", C, set("access_token", json!([TOKEN])), &["access_token"]),
        case("access_token empty", C, set("access_token", json!("")), &["access_token"]),
        case("access_token only spaces", C, set("access_token", json!("    \t ")), &["access_token"]),
        case("access_token with a line break", C, set("access_token", json!("abcd\r\n1234efgh")), &["access_token"]),
        case("start_date not a date", C, set("start_date", json!("next tuesday")), &["start_date"]),
        case("start_date month 13", C, set("start_date", json!("2024-13-01")), &["start_date"]),
        case("start_date 30 February", C, set("start_date", json!("2024-02-30")), &["start_date"]),
        case("start_date 29 February of a common year", C, set("start_date", json!("2023-02-29")), &["start_date"]),
        case("start_date hour 25", C, set("start_date", json!("2024-01-01T25:00:00Z")), &["start_date"]),
        case("start_date offset +25:00", C, set("start_date", json!("2024-01-01T00:00:00+25:00")), &["start_date"]),
        case("start_date in the future", C, set("start_date", json!("2999-01-01")), &["start_date"]),
        case("start_date year 99999", C, set("start_date", json!("99999-01-01")), &["start_date"]),
        case("start_date before 1970", C, set("start_date", json!("1969-12-31")), &["start_date"]),
        case("start_date year 0", C, set("start_date", json!("0000-01-01T00:00:00Z")), &["start_date"]),
        case("start_date negative year", C, set("start_date", json!("-2024-01-01")), &["start_date"]),
        case("start_date as a number", C, set("start_date", json!(20240101)), &["start_date"]),
        case("start_date as epoch milliseconds", C, set("start_date", json!(1_704_067_200_000i64)), &["start_date"]),
        case("start_date empty", C, set("start_date", json!("")), &["start_date"]),
        case("start_date NaN", C, set("start_date", json!("NaN")), &["start_date"]),
        case("start_date fullwidth digits", C, set("start_date", json!("２０２４-０１-０１")), &["start_date"]),
        case("start_date with zero-width space", C, set("start_date", json!("2024-01-01\u{200b}")), &["start_date"]),
        case(
            "start_date with right-to-left override",
            C,
            set("start_date", json!("\u{202e}10-10-4202")),
            &["start_date"],
        ),
        case("start_date a megabyte long", C, set("start_date", json!("9".repeat(1 << 20))), &["start_date"]),
        case("long_term_search as a string", C, set("long_term_search", json!("yes")), &["long_term_search"]),
        case("long_term_search as a number", C, set("long_term_search", json!(1)), &["long_term_search"]),
        case(
            "include_session_events null-like string",
            C,
            set("include_session_events", json!("null")),
            &["include_session_events"],
        ),
        case("lookback_window_days negative", C, set("lookback_window_days", json!(-1)), &["lookback_window_days"]),
        case("lookback_window_days too big", C, set("lookback_window_days", json!(61)), &["lookback_window_days"]),
        case(
            "lookback_window_days beyond u32",
            C,
            set("lookback_window_days", json!(4_294_967_296u64)),
            &["lookback_window_days"],
        ),
        case(
            "lookback_window_days beyond u64",
            C,
            Text(format!(
                "{{\"access_token\": \"abc12345\", \"start_date\": \"2024-01-01\", \"lookback_window_days\": 1{}}}",
                "0".repeat(40)
            )),
            &["lookback_window_days"],
        ),
        case(
            "lookback_window_days 1e400",
            C,
            Text(r#"{"access_token": "abc12345", "start_date": "2024-01-01", "lookback_window_days": 1e400}"#.into()),
            &["JSON"],
        ),
        case("lookback_window_days fractional", C, set("lookback_window_days", json!(1.5)), &["lookback_window_days"]),
        case("lookback_window_days as a string", C, set("lookback_window_days", json!("7")), &["lookback_window_days"]),
        case("session_settle_days too big", C, set("session_settle_days", json!(31)), &["session_settle_days"]),
        case("session_settle_days negative", C, set("session_settle_days", json!(-2)), &["session_settle_days"]),
        case("max_concurrent_requests zero", C, set("max_concurrent_requests", json!(0)), &["max_concurrent_requests"]),
        case(
            "max_concurrent_requests huge",
            C,
            set("max_concurrent_requests", json!(1_000_000)),
            &["max_concurrent_requests"],
        ),
        case(
            "max_concurrent_requests negative",
            C,
            set("max_concurrent_requests", json!(-8)),
            &["max_concurrent_requests"],
        ),
        case("api_url not a URL", C, set("api_url", json!("not a url")), &["api_url"]),
        case(
            "api_url plain http to a remote host",
            C,
            set("api_url", json!("http://api.botmaker.com/v2.0")),
            &["api_url", "https"],
        ),
        case("api_url ftp", C, set("api_url", json!("ftp://127.0.0.1/v2.0")), &["api_url"]),
        case("api_url javascript", C, set("api_url", json!("javascript:alert(1)")), &["api_url"]),
        case("api_url file", C, set("api_url", json!("file:///etc/passwd")), &["api_url"]),
        case(
            "api_url with credentials",
            C,
            set("api_url", json!("https://user:pw@api.botmaker.com/v2.0")),
            &["api_url"],
        ),
        case("api_url with a query", C, set("api_url", json!("https://api.botmaker.com/v2.0?token=x")), &["api_url"]),
        case("api_url as a number", C, set("api_url", json!(443)), &["api_url"]),
        case("api_url empty", C, set("api_url", json!("")), &["api_url"]),
        case("config path is a directory", C, Dir, &["directory"]),
        case("config path does not exist", C, Missing, &["does not exist"]),
    ];
    let odd_token = "t\u{f8}ken-\u{1f511}-12345678";
    cases.extend([
        // Not a token Botmaker issues: rejected by the API, explained, never echoed; discover
        // does not need the token.
        case(
            "access_token with non-ASCII characters",
            C,
            set("access_token", json!(odd_token)),
            &["access token", "regenerate"],
        )
        .failing_only(&["check", "read"])
        .not_naming_the_file()
        .secret(odd_token),
        case("access_token as a number", C, set("access_token", json!(31_415_926_535u64)), &["access_token"])
            .secret("31415926535"),
    ]);
    cases
}

fn catalog_cases() -> Vec<Case> {
    use Content::*;
    use Target::Catalog as K;
    let streams = |v: Value| Json(json!({ "streams": v }));
    vec![
        case("empty catalog file", K, Text(String::new()), &["empty"]),
        case("binary garbage catalog", K, Bytes(garbage(2048, 2)), &[]),
        case("truncated catalog", K, Text(r#"{"streams": [{"stream": {"name": "chats""#.into()), &["JSON"]),
        case("catalog nested 100000 deep", K, Text(nested(100_000)), &["JSON"]),
        case("catalog is an array", K, Json(json!([stream_entry("chats", json!("full_refresh"))])), &[]),
        case("catalog is null", K, Json(Value::Null), &[]),
        case("catalog without streams", K, Json(json!({})), &["streams"]),
        case("streams is an object", K, streams(json!({"chats": "full_refresh"})), &["streams"]),
        case("streams is null", K, streams(Value::Null), &["streams"]),
        case("streams holds numbers", K, streams(json!([1, 2, 3])), &["streams"]),
        case("stream without sync_mode", K, streams(json!([{"stream": {"name": "chats"}}])), &["sync_mode"]),
        case("unknown sync_mode", K, streams(json!([stream_entry("chats", json!("append"))])), &["sync_mode"]),
        case(
            "sync_mode in capitals",
            K,
            streams(json!([stream_entry("chats", json!("FULL_REFRESH"))])),
            &["sync_mode"],
        ),
        case("sync_mode a number", K, streams(json!([stream_entry("chats", json!(1))])), &["sync_mode"]),
        case("sync_mode null", K, streams(json!([stream_entry("chats", Value::Null)])), &["sync_mode"]),
        case("stream without a name", K, streams(json!([{"stream": {}, "sync_mode": "full_refresh"}])), &["name"]),
        case(
            "stream name a number",
            K,
            streams(json!([{"stream": {"name": 7}, "sync_mode": "full_refresh"}])),
            &["name"],
        ),
        case("stream is a string", K, streams(json!([{"stream": "chats", "sync_mode": "full_refresh"}])), &["stream"]),
        case(
            "stream listed twice",
            K,
            streams(json!([
                stream_entry("agents", json!("full_refresh")),
                stream_entry("agents", json!("full_refresh"))
            ])),
            &["agents", "twice"],
        ),
        case(
            "unknown stream",
            K,
            streams(json!([stream_entry("dashboards", json!("full_refresh"))])),
            &["'dashboards'"],
        ),
        case(
            "empty stream name",
            K,
            streams(json!([stream_entry("", json!("full_refresh"))])),
            &["streams[0].stream.name"],
        ),
        case(
            "stream name with a zero-width space",
            K,
            streams(json!([stream_entry("chats\u{200b}", json!("full_refresh"))])),
            &["'chats\\u{200b}'"],
        ),
        case(
            "stream name in fullwidth letters",
            K,
            streams(json!([stream_entry("ｃｈａｔｓ", json!("full_refresh"))])),
            &["'ｃｈａｔｓ'"],
        ),
        case(
            "stream name with a NUL",
            K,
            streams(json!([stream_entry("chats\u{0}", json!("full_refresh"))])),
            &["'chats\\u{0}'", "no such stream"],
        ),
        case(
            "stream name 100 kB long",
            K,
            streams(json!([stream_entry(&"x".repeat(100_000), json!("full_refresh"))])),
            &["'xxxxxxxx", "no such stream"],
        ),
        case("catalog path is a directory", K, Dir, &["directory"]),
        case("catalog path does not exist", K, Missing, &["does not exist"]),
    ]
}

fn state_cases() -> Vec<Case> {
    use Content::*;
    use Target::State as S;
    let cursor = |v: Value| Json(state_of("messages", json!({ "creationTime": v })));
    vec![
        case("binary garbage state", S, Bytes(garbage(1024, 3)), &[]),
        case("truncated state", S, Text(r#"[{"type": "STREAM", "stream": {"#.into()), &["JSON"]),
        case("state nested 100000 deep", S, Text(nested(100_000)), &["JSON"]),
        case("state is a string", S, Json(json!("messages")), &["array"]),
        case("state is a number", S, Json(json!(-1)), &["array"]),
        case("state holds numbers", S, Json(json!([1])), &["entry 0"]),
        case("unknown state type", S, Json(json!([{"type": "PER_STREAM", "stream": {}}])), &["PER_STREAM"]),
        case("STREAM state without stream", S, Json(json!([{"type": "STREAM"}])), &["stream"]),
        case(
            "STREAM state without a name",
            S,
            Json(json!([{"type": "STREAM", "stream": {"stream_state": {"creationTime": "2024-01-01T00:00:00Z"}}}])),
            &["stream_descriptor.name"],
        ),
        case(
            "GLOBAL stream_states a number",
            S,
            Json(json!([{"type": "GLOBAL", "global": {"stream_states": 3}}])),
            &["stream_states"],
        ),
        case("LEGACY data a number", S, Json(json!([{"type": "LEGACY", "data": 5}])), &["data"]),
        case("cursor not a date", S, cursor(json!("yesterday")), &["'messages'", "creationTime"]),
        case("cursor a number", S, cursor(json!(17)), &["'messages'", "creationTime"]),
        case("cursor NaN", S, cursor(json!("NaN")), &["'messages'"]),
        case("cursor month 13", S, cursor(json!("2024-13-01T00:00:00Z")), &["'messages'"]),
        case("cursor fullwidth digits", S, cursor(json!("２０２４-０１-０１T00:00:00Z")), &["'messages'"]),
        case("cursor a megabyte long", S, cursor(json!("2".repeat(1 << 20))), &["'messages'"]),
        case("cursor an object", S, cursor(json!({"$date": "2024-01-01"})), &["'messages'"]),
        case("stream_state an array", S, Json(state_of("messages", json!(["2024-01-01T00:00:00Z"]))), &["'messages'"]),
        case("stream_state a string", S, Json(state_of("messages", json!("2024-01-01T00:00:00Z"))), &["'messages'"]),
        case(
            "cursor under another field name",
            S,
            Json(state_of("messages", json!({"updated_at": "2024-01-01T00:00:00Z"}))),
            &["'messages'", "updated_at"],
        ),
        case("state path is a directory", S, Dir, &["directory"]),
        case("state path does not exist", S, Missing, &["does not exist"]),
    ]
}

/// Paths that are not regular files, or files far too large, for each kind of input: refused
/// before they are read (a pipe would block, a device never ends), with a
/// message saying what the path is.
fn special_file_cases(target: Target) -> Vec<Case> {
    use Content::*;
    let [zero, urandom, fifo, socket, huge] = match target {
        Target::Config => {
            ["config -> /dev/zero", "config -> /dev/urandom", "config FIFO", "config socket", "config 100 MB"]
        }
        Target::Catalog => {
            ["catalog -> /dev/zero", "catalog -> /dev/urandom", "catalog FIFO", "catalog socket", "catalog 100 MB"]
        }
        Target::State => ["state -> /dev/zero", "state -> /dev/urandom", "state FIFO", "state socket", "state 100 MB"],
    };
    vec![
        case(zero, target, SymlinkTo("/dev/zero"), &["is a device", "not a regular file"]),
        case(urandom, target, SymlinkTo("/dev/urandom"), &["is a device", "not a regular file"]),
        case(fifo, target, Fifo, &["named pipe", "not a regular file"]),
        case(socket, target, Socket, &["socket", "not a regular file"]),
        case(huge, target, Sized(100_000_000), &["larger than 64 MiB"]),
    ]
}

/// Files that start with a UTF-8 byte-order mark, as some Windows editors write them: accepted.
fn bom_cases(url: &str) -> Vec<Case> {
    let with_bom = |v: Value| {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(serde_json::to_vec_pretty(&v).unwrap());
        Content::Bytes(bytes)
    };
    let Content::Json(config) = config_with(url, |_| {}) else { unreachable!("config_with makes JSON") };
    vec![
        ok_case("config with a BOM", Target::Config, with_bom(config)),
        ok_case("catalog with a BOM", Target::Catalog, with_bom(catalog(&["agents"], false))),
        ok_case("state with a BOM", Target::State, with_bom(state_of("messages", json!({"creationTime": null})))),
        ok_case("state of only a BOM", Target::State, Content::Bytes(b"\xEF\xBB\xBF\n".to_vec())),
    ]
}

/// Odd but legitimate state files: no error.
fn tolerated_state_cases() -> Vec<Case> {
    use Content::*;
    use Target::State as S;
    vec![
        ok_case("empty state file", S, Text(String::new())),
        ok_case("state of whitespace", S, Text("\n \n".into())),
        ok_case("state null", S, Json(Value::Null)),
        ok_case("state empty array", S, Json(json!([]))),
        ok_case("state for an unknown stream", S, Json(state_of("dashboards", json!({"x": [1, {"y": null}]})))),
        ok_case("stream_state null (a reset)", S, Json(state_of("messages", Value::Null))),
    ]
}

/// Writes `content` for `target` under `dir`, returning the path to pass.
fn materialize(work: &Workdir, target: Target, content: &Content, tag: &str) -> PathBuf {
    let name = match target {
        Target::Config => format!("hostile-config-{tag}.json"),
        Target::Catalog => format!("hostile-catalog-{tag}.json"),
        Target::State => format!("hostile-state-{tag}.json"),
    };
    let path = work.path(&name);
    match content {
        Content::Json(v) => std::fs::write(&path, serde_json::to_vec(v).unwrap()).unwrap(),
        Content::Text(t) => std::fs::write(&path, t).unwrap(),
        Content::Bytes(b) => std::fs::write(&path, b).unwrap(),
        Content::Dir => std::fs::create_dir(&path).unwrap(),
        Content::Missing => {}
        Content::SymlinkTo(target) => std::os::unix::fs::symlink(target, &path).unwrap(),
        Content::Fifo => {
            let made = std::process::Command::new("mkfifo").arg(&path).status().expect("mkfifo runs");
            assert!(made.success(), "mkfifo {}", path.display());
        }
        Content::Socket => drop(std::os::unix::net::UnixListener::bind(&path).unwrap()),
        Content::Sized(len) => std::fs::File::create(&path).unwrap().set_len(*len).unwrap(),
    }
    path
}

/// Checks one run against the case's expectation.
fn judge(run: &Run, expect: &Expect, command: &str) -> Result<(), String> {
    match expect {
        Expect::Succeeds => {
            if run.code != 0 || !run.errors().is_empty() {
                return Err(format!("expected success, got exit {}: {:?}", run.code, run.errors()));
            }
            Ok(())
        }
        Expect::Fails(failure_type, names) => {
            let (message, kind) = reported_error(run)?;
            if let Some(kind) = kind {
                if kind != *failure_type {
                    return Err(format!("failure_type {kind}, expected {failure_type}: {}", clip(&message)));
                }
                if command != "check" && run.code != 1 {
                    return Err(format!("exit code {} for a failed {command}", run.code));
                }
            }
            let lower = message.to_lowercase();
            for name in names {
                if !lower.contains(&name.to_lowercase()) {
                    return Err(format!("the message does not mention {name:?}: {}", clip(&message)));
                }
            }
            Ok(())
        }
    }
}

/// A mock and good input files, against which one bad file at a time is tried.
struct Fixture {
    mock: MockServer,
    work: Workdir,
    good_config: String,
    good_catalog: String,
}

impl Fixture {
    fn new() -> Fixture {
        let mut cfg = MockConfig::with_scale(20);
        cfg.token = TOKEN.to_string();
        cfg.rate_limits = false;
        cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
        let mock = MockServer::start(cfg).unwrap();
        let work = Workdir::new();
        let good_config = work.write_json(
            "good-config.json",
            &json!({"access_token": TOKEN, "start_date": mock.data_start().to_rfc3339(), "api_url": mock.base_url(),
                "long_term_search": true}),
        );
        let good_catalog = work.write_json("good-catalog.json", &catalog(&["messages", "agents"], true));
        Fixture {
            good_config: path_str(&good_config).to_string(),
            good_catalog: path_str(&good_catalog).to_string(),
            mock,
            work,
        }
    }

    /// Runs every command the case applies to; returns one line per failed run.
    fn run(&self, cases: &[Case]) -> (usize, Vec<String>) {
        let env_owned = env_quick("2");
        let env: Vec<(&str, &str)> = env_owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut failures = Vec::new();
        let mut runs = 0;
        for (i, c) in cases.iter().enumerate() {
            let path = materialize(&self.work, c.target, &c.content, &format!("{i}-{}", c.name.len()));
            let p = path_str(&path).to_string();
            let (gc, gk) = (self.good_config.clone(), self.good_catalog.clone());
            let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            let commands: Vec<(&str, Vec<String>)> = match c.target {
                Target::Config => vec![
                    ("check", args(&["check", "--config", &p])),
                    ("discover", args(&["discover", "--config", &p])),
                    ("read", args(&["read", "--config", &p, "--catalog", &gk])),
                ],
                Target::Catalog => vec![("read", args(&["read", "--config", &gc, "--catalog", &p]))],
                Target::State => vec![("read", args(&["read", "--config", &gc, "--catalog", &gk, "--state", &p]))],
            };
            let mut secrets: Vec<&str> = vec![TOKEN];
            secrets.extend(c.secrets.iter().map(String::as_str));
            for (command, args) in commands {
                runs += 1;
                let expect =
                    if c.failing.is_empty() || c.failing.contains(&command) { &c.expect } else { &Expect::Succeeds };
                let outcome = guarded(&args, &env, &secrets, RUN_DEADLINE).and_then(|run| {
                    if std::env::var_os("HOSTILE_VERBOSE").is_some() {
                        let shown =
                            reported_error(&run).map(|(m, k)| format!("{k:?} {}", clip(&m))).unwrap_or_else(|e| e);
                        eprintln!("[{:?}] {} ({command}) exit {}: {shown}", c.target, c.name, run.code);
                    }
                    judge(&run, expect, command)
                });
                if let Err(why) = outcome {
                    failures.push(format!("[{:?}] {} ({command}): {why}", c.target, c.name));
                }
            }
        }
        (runs, failures)
    }
}

#[test]
fn hostile_config_catalog_and_state_files_get_clear_errors_and_never_a_panic() {
    let fixture = Fixture::new();
    let mut cases = config_cases(&fixture.mock.base_url());
    let n_config = cases.len();
    cases.extend(catalog_cases());
    let n_catalog = cases.len() - n_config;
    cases.extend(state_cases());
    let n_state = cases.len() - n_config - n_catalog;
    for target in [Target::Config, Target::Catalog, Target::State] {
        cases.extend(special_file_cases(target));
    }
    let n_bad = cases.len();
    cases.extend(tolerated_state_cases());
    cases.extend(bom_cases(&fixture.mock.base_url()));
    let names: HashSet<_> = cases.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases.len(), "case names are distinct");
    assert!(n_bad >= 40, "{n_bad} bad inputs");
    eprintln!(
        "{n_bad} bad input files ({n_config} config, {n_catalog} catalog, {n_state} state), {} tolerated",
        cases.len() - n_bad
    );
    let (runs, failures) = fixture.run(&cases);
    assert!(failures.is_empty(), "{} of {runs} runs failed:\n{}", failures.len(), failures.join("\n"));
}

/// The duplicate-name check once compared each stream with every one before it, so
/// a catalog of 160k streams took 101 s to refuse. 200k distinct names and one repeated at the
/// end go through the whole check; linear, it takes well under a second (the bound leaves room
/// for a loaded machine and a debug build).
#[test]
fn a_catalog_of_200k_streams_is_parsed_in_linear_time() {
    let fixture = Fixture::new();
    let mut entries: Vec<Value> =
        (0..200_000).map(|i| json!({"stream": {"name": format!("s{i}")}, "sync_mode": "full_refresh"})).collect();
    entries.push(json!({"stream": {"name": "s199999"}, "sync_mode": "full_refresh"}));
    let path = fixture.work.path("huge-catalog.json");
    std::fs::write(&path, serde_json::to_vec(&json!({ "streams": entries })).unwrap()).unwrap();
    let args: Vec<String> = ["read", "--config", &fixture.good_config, "--catalog", path_str(&path)]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let started = std::time::Instant::now();
    let run = guarded(&args, &[], &[TOKEN], RUN_DEADLINE).unwrap();
    let took = started.elapsed();
    let (message, kind) = reported_error(&run).unwrap();
    assert_eq!(kind.as_deref(), Some("config_error"), "{message}");
    assert!(message.contains("lists stream 's199999' twice"), "{message}");
    assert!(took < Duration::from_secs(10), "{took:?} to refuse a 200k-stream catalog");
    eprintln!("200k-stream catalog refused in {took:?}");
}

/// A stream name from the catalog is quoted with its control characters
/// escaped, never written raw to a terminal that would act on them.
#[test]
fn control_characters_in_a_stream_name_are_shown_escaped() {
    let fixture = Fixture::new();
    let name = "chats\u{1b}[2J\u{1b}]0;pwned\u{7}\r\n\u{9b}31m\u{202e}";
    let shown = "chats\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\r\\n\\u{9b}31m\\u{202e}";
    let cases = [
        json!({"streams": [stream_entry(name, json!("full_refresh")), stream_entry(name, json!("full_refresh"))]}),
        json!({"streams": [stream_entry(name, json!("append"))]}),
    ];
    for (i, catalog) in cases.iter().enumerate() {
        let path = fixture.work.write_json(&format!("escape-{i}.json"), catalog);
        let args: Vec<String> = ["read", "--config", &fixture.good_config, "--catalog", path_str(&path)]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let run = guarded(&args, &[], &[TOKEN], RUN_DEADLINE).unwrap();
        let (message, kind) = reported_error(&run).unwrap();
        assert_eq!(kind.as_deref(), Some("config_error"), "{message}");
        assert!(message.contains(&format!("'{shown}'")), "case {i}: {message:?}");
        assert!(!message.chars().any(|c| c.is_control() || c == '\u{202e}'), "case {i}: {message:?}");
    }
}

/// A stream the source does not have is quoted through `escape::printable` like the catalog's
/// own messages, so a name with escape sequences never reaches the terminal.
#[test]
fn control_characters_in_an_unknown_stream_name_are_shown_escaped() {
    let fixture = Fixture::new();
    let catalog = json!({"streams": [stream_entry("chats\u{1b}[2J", json!("full_refresh"))]});
    let path = fixture.work.write_json("unknown-escape.json", &catalog);
    let args: Vec<String> = ["read", "--config", &fixture.good_config, "--catalog", path_str(&path)]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let run = guarded(&args, &[], &[TOKEN], RUN_DEADLINE).unwrap();
    let (message, _) = reported_error(&run).unwrap();
    assert!(message.contains("'chats\\u{1b}[2J'"), "{message:?}");
    assert!(!message.contains('\u{1b}'), "{message:?}");
}

/// Config errors echo the offending value (shortened to 80 characters, `{:?}`-escaped): the
/// token pasted into another field must not come out in any form, whole or in pieces (a value
/// cut before it was redacted once left up to 79 characters of a token behind, and base64, fully
/// percent-encoded and case-folded forms were printed whole). [`guarded`] looks for every form of
/// the token and every 8-character piece of one.
#[test]
fn a_token_pasted_into_another_config_field_is_masked_in_the_error() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let fixture = Fixture::new();
    let url = fixture.mock.base_url();
    let set = |k: &'static str, v: Value| config_with(&url, move |m| drop(m.insert(k.into(), v)));
    let every_byte_encoded: String = TOKEN.bytes().map(|b| format!("%{b:02X}")).collect();
    let lower_hex: String = TOKEN
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect();
    let cases = vec![
        case("token pasted into start_date", Target::Config, set("start_date", json!(TOKEN)), &["start_date"]),
        case(
            "token pasted into api_url",
            Target::Config,
            set("api_url", json!(format!("https://api.botmaker.com/v2.0?access-token={TOKEN}"))),
            &["api_url"],
        ),
        case(
            "token across the 80-character cut",
            Target::Config,
            set("start_date", json!(format!("{}{TOKEN}", "2".repeat(70)))),
            &["start_date"],
        ),
        case("token lower-cased", Target::Config, set("start_date", json!(TOKEN.to_lowercase())), &["start_date"]),
        case("token upper-cased", Target::Config, set("start_date", json!(TOKEN.to_uppercase())), &["start_date"]),
        case("token in base64", Target::Config, set("start_date", json!(STANDARD.encode(TOKEN))), &["start_date"]),
        case(
            "token in URL-safe base64 after a user name",
            Target::Config,
            set("start_date", json!(URL_SAFE_NO_PAD.encode(format!("user:{TOKEN}")))),
            &["start_date"],
        ),
        case(
            "token fully percent-encoded in a URL",
            Target::Config,
            set("api_url", json!(format!("http://api.botmaker.com/v2.0/{every_byte_encoded}"))),
            &["api_url"],
        ),
        case(
            "token percent-encoded in lower-case hex",
            Target::Config,
            set("api_url", json!(format!("http://api.botmaker.com/{lower_hex}"))),
            &["api_url"],
        ),
    ];
    let (runs, failures) = fixture.run(&cases);
    assert!(failures.is_empty(), "{} of {runs} runs failed:\n{}", failures.len(), failures.join("\n"));
}

/// Bug: a catalog of the wrong shape gets serde's words, not the user's: a top-level array is
/// "invalid at `[0]`: invalid type: map, expected a sequence" (no mention that an object with
/// `streams` is wanted), null is "expected struct RawCatalog" (an internal type name).
#[test]

fn a_catalog_of_the_wrong_shape_is_explained_in_the_users_terms() {
    let fixture = Fixture::new();
    let entry = stream_entry("chats", json!("full_refresh"));
    let cases = vec![
        case("catalog is an array", Target::Catalog, Content::Json(json!([entry])), &["object", "streams"]),
        case("catalog is null", Target::Catalog, Content::Json(Value::Null), &["object", "streams"]),
        case("catalog is a string", Target::Catalog, Content::Json(json!("chats")), &["object", "streams"]),
        case("streams holds numbers", Target::Catalog, Content::Json(json!({"streams": [1]})), &["streams[0]"]),
    ];
    let (mut runs, mut failures) = fixture.run(&cases);
    // Whatever the wording, no internal type names.
    for c in &cases {
        let path = materialize(&fixture.work, c.target, &c.content, "internal");
        let args: Vec<String> = ["read", "--config", &fixture.good_config, "--catalog", path_str(&path)]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let run = guarded(&args, &[], &[TOKEN], RUN_DEADLINE).unwrap();
        runs += 1;
        if run.stdout.contains("RawCatalog") || run.stdout.contains("RawConfiguredStream") {
            failures.push(format!("{}: the message names an internal type: {}", c.name, clip(&run.stdout)));
        }
    }
    assert!(failures.is_empty(), "{} of {runs} runs failed:\n{}", failures.len(), failures.join("\n"));
}

/// Bug: a saved cursor earlier than `start_date` is honoured as the lower bound
/// (`(cursor - lookback).max(start_date.min(cursor))`), so a corrupt state with a cursor in
/// year 1000 (or `"0000000000000"`, which parses as epoch milliseconds 0) plans ~13,500
/// (or ~760) 27-day long-term-search windows from there: hours of billed requests for a range
/// the user excluded. Expected: such a cursor is refused with a config_error naming the
/// stream, or reading starts no earlier than `start_date`.
#[test]

fn a_state_cursor_centuries_before_start_date_does_not_start_centuries_of_requests() {
    let fixture = Fixture::new();
    let start_date = fixture.mock.data_start();
    for cursor in ["1000-01-01T00:00:00Z", "0000000000000"] {
        fixture.mock.clear_requests();
        let state = fixture.work.write_json("old-state.json", &state_of("messages", json!({ "creationTime": cursor })));
        let cat = fixture.work.write_json("messages.json", &catalog(&["messages"], true));
        let args: Vec<String> =
            ["read", "--config", &fixture.good_config, "--catalog", path_str(&cat), "--state", path_str(&state)]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let env_owned = env_quick("2");
        let env: Vec<(&str, &str)> = env_owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let outcome = guarded(&args, &env, &[TOKEN], Duration::from_secs(6));
        let earliest = fixture
            .mock
            .requests()
            .iter()
            .filter_map(|r| r.query.iter().find(|(k, _)| k == "from").map(|(_, v)| v.clone()))
            .min();
        let run = outcome.unwrap_or_else(|e| {
            panic!(
                "cursor {cursor}: {e}\n{} requests so far, earliest from={earliest:?}",
                fixture.mock.requests().len()
            )
        });
        match run.errors().last() {
            Some(error) => {
                let message = error["trace"]["error"]["message"].as_str().unwrap_or_default();
                assert_eq!(error["trace"]["error"]["failure_type"], "config_error", "{cursor}: {message}");
                assert!(message.contains("'messages'"), "{cursor}: {message}");
            }
            None => {
                let floor = (start_date - TimeDelta::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                assert!(earliest.as_deref() >= Some(floor.as_str()), "{cursor}: requests from {earliest:?}");
            }
        }
    }
}

// ------------------------------------------------------------------ API bodies

/// One misbehaving API, read through the real binary.
struct ApiCase {
    name: &'static str,
    stream: Stream,
    scenario: Scenario,
    expect: ApiExpect,
}

enum ApiExpect {
    /// The stream still reads exactly the mock's records, over several pages.
    MockRecords,
    /// Every record is still read, and the odd values are reported in the log.
    Tolerated,
    /// The stream completes with this many records (a fixed body).
    Records(usize),
    /// The stream fails with this failure_type and a message with these words.
    Fails(&'static str, &'static [&'static str]),
}

fn fixed(status: u16, content_type: &str, body: &str) -> Scenario {
    Scenario::Fixed { status, content_type: content_type.into(), body: body.into() }
}

fn api_cases() -> Vec<ApiCase> {
    let t = "transient_error";
    let s = "system_error";
    let body_quote: &[&str] = &["unexpected response body", "starts with"];
    let mut cases = Vec::new();
    for stream in Stream::ALL {
        // A field of the wrong type never fails a page: the record is emitted, the value
        // converted where that loses nothing and kept as sent otherwise.
        cases.push(ApiCase {
            name: "wrong types for known fields",
            stream,
            scenario: Scenario::WrongTypes,
            expect: ApiExpect::Tolerated,
        });
        cases.push(ApiCase {
            name: "missing items",
            stream,
            scenario: Scenario::MissingItems,
            expect: ApiExpect::Fails(t, body_quote),
        });
    }
    for stream in [
        Stream::Chats,
        Stream::Messages,
        Stream::Sessions,
        Stream::Calls,
        Stream::Contacts,
        Stream::Agents,
        Stream::Intents,
    ] {
        cases.push(ApiCase {
            name: "duplicated pages",
            stream,
            scenario: Scenario::DuplicatePages,
            expect: ApiExpect::MockRecords,
        });
        cases.push(ApiCase {
            name: "nextPage loop",
            stream,
            scenario: Scenario::NextPageLoop,
            expect: ApiExpect::Fails(s, &["pagination", "stopped"]),
        });
    }
    for stream in [Stream::Chats, Stream::Messages, Stream::Sessions, Stream::Calls, Stream::Agents, Stream::Intents] {
        cases.push(ApiCase {
            name: "nextPage not a URL",
            stream,
            scenario: Scenario::NextPageNotUrl,
            expect: ApiExpect::Fails(s, &["nextPage", "not a URL"]),
        });
    }
    // /contacts pages by a bare token, so any string is a plausible token: it is sent back and
    // the API refuses it with a 400. Nothing in the config is wrong, so it is a system_error
    // carrying the API's message.
    cases.push(ApiCase {
        name: "nextPage not a URL",
        stream: Stream::Contacts,
        scenario: Scenario::NextPageNotUrl,
        expect: ApiExpect::Fails("system_error", &["400", "Invalid page token", "next page"]),
    });
    cases.push(ApiCase {
        name: "429 forever",
        stream: Stream::Sessions,
        scenario: fixed(429, "application/json", r#"{"errors":[{"type":"TOO_MANY_REQUESTS","message":"Slow down"}]}"#),
        expect: ApiExpect::Fails(t, &["429", "kept failing", "Slow down"]),
    });

    let bodies: [(&'static str, &'static str, &'static str); 10] = [
        ("items is a string", "application/json", r#"{"items": "none", "nextPage": null}"#),
        ("items holds numbers", "application/json", r#"{"items": [1, 2, 3]}"#),
        ("items is null", "application/json", r#"{"items": null}"#),
        ("nextPage is a number", "application/json", r#"{"items": [], "nextPage": 5}"#),
        ("body is JSON null", "application/json", "null"),
        ("body is a bare array", "application/json", r#"[{"id": "a1"}]"#),
        ("body nested 100000 deep", "application/json", ""),
        ("body is XML", "application/xml", "<?xml version=\"1.0\"?><items><item id=\"1\"/></items>"),
        ("body with a NUL and control bytes", "application/json", "{\"items\": [\u{0}\u{1b}[31m]}"),
        ("number too big for any type", "application/json", r#"{"items": [{"id": "a", "isOnline": 1e999}]}"#),
    ];
    for (name, content_type, body) in bodies {
        let body = if name == "body nested 100000 deep" {
            format!("{{\"items\": {}}}", nested(100_000))
        } else {
            body.to_string()
        };
        cases.push(ApiCase {
            name,
            stream: Stream::Agents,
            scenario: fixed(200, content_type, &body),
            expect: ApiExpect::Fails(t, body_quote),
        });
    }
    // Odd values in a well-formed page are records, not body faults.
    for (name, body) in [
        ("item with an id of the wrong type", r#"{"items": [{"id": 12345, "name": "x"}]}"#),
        ("body of unicode oddities", "{\"items\": [{\"id\": \"\u{202e}\u{200b}\u{fffd}\", \"name\": 5}]}"),
    ] {
        cases.push(ApiCase {
            name,
            stream: Stream::Agents,
            scenario: fixed(200, "application/json", body),
            expect: ApiExpect::Records(1),
        });
    }
    cases.push(ApiCase {
        name: "huge 200 body of garbage",
        stream: Stream::Intents,
        scenario: fixed(200, "application/json", &"\u{fffd}garbage ".repeat(400_000)),
        expect: ApiExpect::Fails(t, body_quote),
    });
    cases.push(ApiCase {
        name: "status 418",
        stream: Stream::Channels,
        scenario: fixed(418, "text/plain", "I'm a teapot"),
        expect: ApiExpect::Fails(s, &["418"]),
    });
    cases.push(ApiCase {
        name: "400 without an error body",
        stream: Stream::Calls,
        scenario: fixed(400, "text/html", "<html>Bad Request</html>"),
        expect: ApiExpect::Fails("config_error", &["400", "Bad Request"]),
    });
    cases
}

#[test]
fn hostile_api_bodies_are_survived_with_clear_errors_or_exact_records() {
    let cases = api_cases();
    let n = cases.len();
    // Several workers: each case waits out a short retry budget, so run them side by side.
    let queue = std::sync::Mutex::new(cases.into_iter().enumerate().collect::<Vec<_>>());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let Some((i, c)) = queue.lock().unwrap().pop() else { break };
                if let Err(why) = run_api_case(i, &c) {
                    failures.lock().unwrap().push(format!("{} on {}: {why}", c.name, c.stream));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!("{n} hostile API cases");
    assert!(failures.is_empty(), "{} of {n} API cases failed:\n{}", failures.len(), failures.join("\n"));
}

fn run_api_case(i: usize, c: &ApiCase) -> Result<(), String> {
    let scale = if matches!(c.expect, ApiExpect::MockRecords) { 1_200 } else { 300 };
    let mut cfg = MockConfig::with_scale(scale);
    // Several pages of every stream whose pages are duplicated.
    cfg.counts.set(c.stream, cfg.counts.get(c.stream).max(scale));
    cfg.token = TOKEN.to_string();
    cfg.rate_limits = false;
    cfg.anchor = Some(Utc::now() - TimeDelta::hours(1));
    cfg.span_days = 20;
    let mock = MockServer::start(cfg).unwrap();
    mock.set_scenario(c.stream, Some(c.scenario.clone()));
    let work = Workdir::new();
    let start = mock.data_start() - TimeDelta::days(1);
    let other = if c.stream == Stream::Channels { "agents" } else { "channels" };
    let config = work.write_json(
        &format!("config-{i}.json"),
        &json!({"access_token": TOKEN, "start_date": start.to_rfc3339(), "long_term_search": true, "api_url": mock.base_url()}),
    );
    let cat = work.write_json(&format!("catalog-{i}.json"), &catalog(&[c.stream.name(), other], true));
    let args: Vec<String> =
        ["read", "--config", path_str(&config), "--catalog", path_str(&cat)].iter().map(|s| s.to_string()).collect();
    let env_owned = env_quick("1");
    let env: Vec<(&str, &str)> = env_owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sessions_before = expected_keys(&mock, "sessions", start, Utc::now());
    let run = guarded(&args, &env, &[TOKEN], RUN_DEADLINE)?;
    let stream = c.stream.name();
    // The other stream is never affected.
    let other_status = run.statuses(other);
    if other_status.last().map(String::as_str) != Some("COMPLETE") {
        return Err(format!("{other} did not complete: {other_status:?}"));
    }
    match c.expect {
        ApiExpect::Tolerated => {
            if run.code != 0 {
                return Err(format!("exit {}: {:?}", run.code, run.errors()));
            }
            let got = keys_no_panic(&run, stream)?;
            let after = expected_keys(&mock, stream, start, Utc::now());
            let before = if stream == "sessions" { sessions_before } else { after.clone() };
            if !before.is_subset(&got) || !got.is_subset(&after) {
                return Err(format!("records differ from the mock's: got {}, expected {}", got.len(), after.len()));
            }
            if !run.logs().iter().any(|l| l.starts_with(&format!("{stream}: field `"))) {
                return Err(format!("the odd values are not reported: {:?}", run.logs()));
            }
            Ok(())
        }
        ApiExpect::Records(n) => {
            if run.code != 0 || run.records(stream).len() != n {
                return Err(format!(
                    "exit {}, {} records, expected {n}: {:?}",
                    run.code,
                    run.records(stream).len(),
                    run.errors()
                ));
            }
            Ok(())
        }
        ApiExpect::MockRecords => {
            if run.code != 0 {
                return Err(format!("exit {}: {:?}", run.code, run.errors()));
            }
            let got = keys_no_panic(&run, stream)?;
            let after = expected_keys(&mock, stream, start, Utc::now());
            let before = if stream == "sessions" { sessions_before } else { after.clone() };
            if !before.is_subset(&got) || !got.is_subset(&after) {
                return Err(format!(
                    "records differ from the mock's: got {}, missing {}, unexpected {}",
                    got.len(),
                    before.difference(&got).count(),
                    got.difference(&after).count()
                ));
            }
            if got.len() < 250 {
                return Err(format!("too few records ({}) to span several pages", got.len()));
            }
            let requests = mock.requests().iter().filter(|r| r.endpoint == Some(c.stream)).count();
            if requests < 3 {
                return Err(format!("only {requests} requests: the duplicated pages were never served"));
            }
            Ok(())
        }
        ApiExpect::Fails(failure_type, words) => {
            if run.code != 1 {
                return Err(format!(
                    "exit {}, expected 1; {} {stream} records, e.g. {:?}; logs: {:?}",
                    run.code,
                    run.records(stream).len(),
                    run.records(stream).first(),
                    run.logs()
                ));
            }
            let errors = run.errors();
            let own: Vec<_> =
                errors.iter().filter(|e| e["trace"]["error"]["stream_descriptor"]["name"] == stream).collect();
            let [error] = own.as_slice() else {
                return Err(format!("expected one TRACE ERROR for {stream}, got {}: {errors:?}", own.len()));
            };
            let error = &error["trace"]["error"];
            if error["failure_type"] != failure_type {
                return Err(format!(
                    "failure_type {}, expected {failure_type}: {}",
                    error["failure_type"], error["message"]
                ));
            }
            let message = error["message"].as_str().unwrap_or_default();
            if !message.contains(&format!("'{stream}'")) && !message.contains(&format!("/v2.0/{stream}")) {
                return Err(format!("the message does not name the stream: {message}"));
            }
            for w in words {
                if !message.contains(w) {
                    return Err(format!("the message does not mention {w:?}: {}", clip(message)));
                }
            }
            if run.statuses(stream).last().map(String::as_str) != Some("INCOMPLETE") {
                return Err(format!("status {:?}", run.statuses(stream)));
            }
            let last = &errors.last().unwrap()["trace"]["error"];
            if !last["message"].as_str().unwrap_or_default().contains(stream) {
                return Err(format!("the final error does not name {stream}: {last}"));
            }
            Ok(())
        }
    }
}

/// [`Run::keys`] without panicking: primary keys, each at most once.
fn keys_no_panic(run: &Run, stream: &str) -> Result<HashSet<String>, String> {
    let pk = pk_of(stream);
    let mut keys = HashSet::new();
    for r in run.records(stream) {
        let k = r[pk].as_str().ok_or_else(|| format!("record without {pk}: {r}"))?.to_string();
        if !keys.insert(k.clone()) {
            return Err(format!("{k} emitted twice"));
        }
    }
    Ok(keys)
}

/// Bug: items without the stream's primary key are emitted silently, though the catalog
/// declares `id` as the source-defined primary key (destinations deduplicating on it merge or
/// reject such rows). Expected: an error naming the stream, or at least a WARN log saying how
/// many records of which stream lacked `id`.
#[test]

fn records_without_their_primary_key_are_not_emitted_silently() {
    let mut cfg = MockConfig::with_scale(20);
    cfg.token = TOKEN.to_string();
    cfg.rate_limits = false;
    let mock = MockServer::start(cfg).unwrap();
    let body = r#"{"items": [{"name": "Nobody"}, {"id": "", "name": "Empty"}, {"id": null, "name": "Null"}]}"#;
    mock.set_scenario(Stream::Agents, Some(fixed(200, "application/json", body)));
    let work = Workdir::new();
    let config = work.write_json(
        "config.json",
        &json!({"access_token": TOKEN, "start_date": "2024-01-01", "api_url": mock.base_url()}),
    );
    let cat = work.write_json("catalog.json", &catalog(&["agents"], false));
    let args: Vec<String> =
        ["read", "--config", path_str(&config), "--catalog", path_str(&cat)].iter().map(|s| s.to_string()).collect();
    let env_owned = env_quick("1");
    let env: Vec<(&str, &str)> = env_owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = guarded(&args, &env, &[TOKEN], RUN_DEADLINE).unwrap();
    let error_names_it = run.errors().iter().any(|e| {
        let m = e["trace"]["error"]["message"].as_str().unwrap_or_default();
        m.contains("agents") && m.contains("id")
    });
    let warned = run.warnings().iter().any(|w| w.contains("agents") && w.contains("`id`"));
    assert!(
        error_names_it || warned,
        "{} agents records without an id were emitted with no error and no warning; logs: {:?}",
        run.records("agents").len(),
        run.logs()
    );
}
