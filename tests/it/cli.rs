//! The binary's commands and their failure modes, run as a user would run them.

use crate::common::*;
use serde_json::{json, Value};

const WRONG_TOKEN: &str = "wrong-token-987654321";

/// The token must appear nowhere in anything the binary printed.
fn assert_no_token(run: &Run, token: &str) {
    assert!(!run.stdout.contains(token), "token leaked on stdout: {}", run.stdout);
    assert!(!run.stderr.contains(token), "token leaked on stderr: {}", run.stderr);
}

fn single_error(run: &Run) -> &Value {
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "expected one TRACE ERROR: {}", run.stdout);
    &errors[0]["trace"]["error"]
}

#[test]
fn spec_prints_the_committed_spec() {
    let run = run_bin(&["spec"], &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.messages.len(), 1);
    let committed: Value = serde_json::from_str(include_str!("../../spec/spec.json")).unwrap();
    assert_eq!(run.messages[0], json!({"type": "SPEC", "spec": committed}));
}

/// The allocator's settings are in place before mimalloc reserves its first arena, which a
/// glibc build does before `main`: set in `main` they came too late there, and a 10k-record
/// sync peaked at about 30 MB instead of 13. mimalloc lists its options as it starts when
/// `MIMALLOC_VERBOSE` is set.
#[test]
fn the_allocator_is_tuned_before_it_starts() {
    let run = run_bin(&["spec"], &[("MIMALLOC_VERBOSE", "1")]);
    assert_eq!(run.code, 0);
    let options: Vec<&str> = run.stderr.lines().map(str::trim_end).collect();
    for option in ["mimalloc: option 'purge_delay': 0", "mimalloc: option 'arena_eager_commit': 0"] {
        assert!(options.contains(&option), "mimalloc started without `{option}`: {}", run.stderr);
    }
}

#[test]
fn help_and_version() {
    let out = std::process::Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for cmd in ["spec", "check --config", "discover --config", "read --config"] {
        assert!(help.contains(&format!("source-botmaker {cmd}")), "--help shows an example of {cmd}: {help}");
    }
    for sub in ["check", "discover", "read"] {
        let out = std::process::Command::new(BIN).args([sub, "--help"]).output().unwrap();
        assert!(String::from_utf8(out.stdout).unwrap().contains("Example"), "{sub} --help has an example");
    }
    let out = std::process::Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), format!("source-botmaker {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn bad_command_lines_are_config_errors() {
    for args in [&["frobnicate"][..], &["read", "--config", "c.json"], &["check"], &["spec", "--bogus"]] {
        let run = run_bin(args, &[]);
        assert_eq!(run.code, 2, "{args:?}");
        let error = single_error(&run);
        assert_eq!(error["failure_type"], "config_error", "{args:?}");
        assert!(error["message"].as_str().unwrap().contains("--help"), "{args:?}");
    }
    // Airbyte's Python entrypoint passes --debug; it is accepted.
    assert_eq!(run_bin(&["spec", "--debug"], &[]).code, 0);
}

#[test]
fn check_succeeds_with_the_right_token() {
    let mock = fast_mock(10);
    let work = Workdir::new();
    let config = work.write_json("config.json", &config_for(&mock));
    let run = run_bin(&["check", "--config", path_str(&config)], &FAST_RETRIES);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.of_type("CONNECTION_STATUS")[0]["connectionStatus"], json!({"status": "SUCCEEDED"}));
    assert_eq!(run.messages.iter().filter(|m| m["type"] == "CONNECTION_STATUS").count(), 1);
    assert_no_token(&run, &mock.token());
    assert!(mock.requests().iter().any(|r| r.path.ends_with("/channels")), "check makes a real request");
}

#[test]
fn check_fails_cleanly_with_a_wrong_or_bearer_token() {
    let mock = fast_mock(10);
    let work = Workdir::new();
    for token in [WRONG_TOKEN.to_string(), format!("Bearer {}", mock.token())] {
        let config = work.write_json(
            "config.json",
            &json!({"access_token": token, "start_date": "2024-01-01", "api_url": mock.base_url()}),
        );
        let run = run_bin(&["check", "--config", path_str(&config)], &FAST_RETRIES);
        assert_eq!(run.code, 0, "a failed check still exits 0");
        let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
        assert_eq!(status["status"], "FAILED");
        let message = status["message"].as_str().unwrap();
        assert!(message.contains("regenerate it in Botmaker under Configuration → Integrations → API"), "{message}");
        assert_no_token(&run, &token);
        assert_no_token(&run, &mock.token());
    }
}

#[test]
fn check_explains_an_unreachable_host_and_bad_settings() {
    let work = Workdir::new();
    // Nothing listens on port 9 of loopback.
    let config = work.write_json(
        "config.json",
        &json!({"access_token": WRONG_TOKEN, "start_date": "2024-01-01", "api_url": "http://127.0.0.1:9/v2.0"}),
    );
    let run = run_bin(
        &["check", "--config", path_str(&config)],
        &[("SOURCE_BOTMAKER_RETRY_INITIAL_MS", "20"), ("SOURCE_BOTMAKER_RETRY_MAX_ELAPSED_SECS", "1")],
    );
    assert_eq!(run.code, 0);
    let message = run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("api_url") && message.contains("connect"), "{message}");
    assert!(!message.contains("sync"), "check runs no sync, so its message says nothing of one: {message}");
    assert_no_token(&run, WRONG_TOKEN);

    for (config, field) in [
        (json!({"access_token": WRONG_TOKEN, "start_date": "next tuesday"}), "start_date"),
        (
            json!({"access_token": WRONG_TOKEN, "start_date": "2024-01-01", "api_url": "http://example.com/v2.0"}),
            "api_url",
        ),
        (json!({"start_date": "2024-01-01"}), "access_token"),
    ] {
        let path = work.write_json("config.json", &config);
        let run = run_bin(&["check", "--config", path_str(&path)], &FAST_RETRIES);
        assert_eq!(run.code, 0);
        let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
        assert_eq!(status["status"], "FAILED");
        assert!(status["message"].as_str().unwrap().contains(field), "{config}: {status}");
        assert_no_token(&run, WRONG_TOKEN);
    }
}

#[test]
fn unreadable_input_files_are_config_errors_naming_the_file() {
    let work = Workdir::new();
    let missing = work.path("nope.json");
    let garbage = work.write_bytes("garbage.json", b"\x00\x01not json");
    let good_config = work.write_json("config.json", &json!({"access_token": WRONG_TOKEN, "start_date": "2024-01-01"}));
    let catalog = work.write_json("catalog.json", &catalog(&["channels"], false));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["check", "--config", path_str(&missing)], "nope.json"),
        (vec!["discover", "--config", path_str(&missing)], "nope.json"),
        (vec!["discover", "--config", path_str(&garbage)], "garbage.json"),
        (vec!["read", "--config", path_str(&good_config), "--catalog", path_str(&missing)], "nope.json"),
        (vec!["read", "--config", path_str(&good_config), "--catalog", path_str(&garbage)], "garbage.json"),
        (
            vec![
                "read",
                "--config",
                path_str(&good_config),
                "--catalog",
                path_str(&catalog),
                "--state",
                path_str(&missing),
            ],
            "nope.json",
        ),
        (
            vec![
                "read",
                "--config",
                path_str(&good_config),
                "--catalog",
                path_str(&catalog),
                "--state",
                path_str(&garbage),
            ],
            "garbage.json",
        ),
    ];
    for (args, file) in cases {
        let run = run_bin(&args, &[]);
        assert_eq!(run.code, 1, "{args:?}");
        let error = single_error(&run);
        assert_eq!(error["failure_type"], "config_error", "{args:?}");
        assert!(error["message"].as_str().unwrap().contains(file), "{args:?}: {error}");
        assert_no_token(&run, WRONG_TOKEN);
        assert!(!run.stdout.contains("panicked") && !run.stderr.contains("panicked"), "{args:?}");
    }
}

#[test]
fn discover_lists_the_billed_dashboards_only_when_enabled_and_rejects_a_bad_config() {
    let work = Workdir::new();
    let committed: Value = serde_json::from_str(include_str!("../../catalog/catalog.json")).unwrap();
    let billed = ["agent_metrics", "agent_performance"];
    let mut unbilled = committed.clone();
    unbilled["streams"].as_array_mut().unwrap().retain(|s| !billed.contains(&s["name"].as_str().unwrap()));
    assert_eq!(unbilled["streams"].as_array().unwrap().len() + 2, committed["streams"].as_array().unwrap().len());
    for (include, expected) in [(None, &unbilled), (Some(false), &unbilled), (Some(true), &committed)] {
        let mut config = json!({"access_token": WRONG_TOKEN, "start_date": "2024-01-01"});
        if let Some(include) = include {
            config["include_bi_dashboards"] = json!(include);
        }
        let config = work.write_json("config.json", &config);
        let run = run_bin(&["discover", "--config", path_str(&config)], &[]);
        assert_eq!(run.code, 0);
        assert_eq!(run.messages, vec![json!({"type": "CATALOG", "catalog": expected})], "{include:?}");
    }

    let bad = work.write_json(
        "config.json",
        &json!({"access_token": WRONG_TOKEN, "start_date": "2024-01-01", "long_term_search": "yes"}),
    );
    let run = run_bin(&["discover", "--config", path_str(&bad)], &[]);
    assert_eq!(run.code, 1);
    let error = single_error(&run);
    assert!(error["message"].as_str().unwrap().contains("long_term_search"), "{error}");
    assert_no_token(&run, WRONG_TOKEN);
}

#[test]
fn read_with_a_wrong_token_fails_as_a_config_error() {
    let mock = fast_mock(10);
    let work = Workdir::new();
    let config = json!({"access_token": WRONG_TOKEN, "start_date": "2024-01-01", "api_url": mock.base_url()});
    let run = read(&work, &config, &catalog(&["channels", "agents"], false), None);
    assert_eq!(run.code, 1);
    let last = run.errors().last().unwrap()["trace"]["error"].clone();
    assert_eq!(last["failure_type"], "config_error");
    assert!(last["message"].as_str().unwrap().contains("channels"), "{last}");
    for stream in ["channels", "agents"] {
        assert_eq!(run.statuses(stream), ["STARTED", "INCOMPLETE"]);
    }
    assert_no_token(&run, WRONG_TOKEN);
}
