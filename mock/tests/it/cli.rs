//! The `botmaker-mock` binary: first stdout line, `--url-file`, flags, clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

#[test]
fn binary_prints_its_url_serves_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("botmaker-mock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url_file = dir.join("url.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_botmaker-mock"))
        .args([
            "--port",
            "0",
            "--scale",
            "120",
            "--count",
            "calls=0",
            "--count",
            "Messages=77",
            "--count",
            "notifications/sent-results=9",
            "--count",
            "roles=4",
            "--seed",
            "9",
            "--token",
            "cli-token",
            "--no-rate-limits",
            "--url-file",
        ])
        .arg(&url_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("botmaker-mock listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/v2.0"), "{url}");
    assert_eq!(std::fs::read_to_string(&url_file).unwrap().trim(), url);
    let r = get(&format!("{url}/agents"), Some("cli-token")).resp();
    assert_eq!(r.status, 200);
    let (host, _) = split_url(&url);
    let counts = get(&format!("http://{host}/_mock/counts"), None).resp().json();
    assert_eq!(counts["calls"], 0);
    assert_eq!(counts["messages"], 77);
    assert_eq!(counts["chats"], 120);
    assert_eq!(counts["notification_results"], 9);
    assert_eq!(counts["roles"], 4);
    assert_eq!(counts["agent_metrics"], 120);
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "{s:?}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flags_are_rejected() {
    for args in [
        vec!["--count", "nope=3"],
        vec!["--count", "chats"],
        vec!["--fault-5xx", "1.5"],
        vec!["--anchor", "yesterday"],
        vec!["--retry-after", "sometimes"],
        vec!["--timestamps", "julian"],
        vec!["--next-page-key", "next_page"],
        vec!["--next-page-key-for", "intents"],
        vec!["--lts-required=agents"],
        vec!["--no-recent-window=nope"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_botmaker-mock")).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let help = Command::new(env!("CARGO_BIN_EXE_botmaker-mock")).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--host",
        "--port",
        "--scale",
        "--seed",
        "--span-days",
        "--token",
        "--no-rate-limits",
        "--rate-limit-retry-after",
        "--latency-ms",
        "--jitter-ms",
        "--fault-429",
        "--fault-5xx",
        "--fault-reset",
        "--fault-malformed",
        "--fault-body-cut",
        "--count",
        "--url-file",
        "--empty-pages-every",
        "--next-page-key",
        "--next-page-key-for",
        "--numbers-as-strings",
        "--strings-as-numbers",
        "--timestamps",
        "--lts-required",
        "--no-recent-window",
        "--field-definitions-list",
        "/dashboards/agent-metrics",
        "/billing/whatsapp/billed-conversations",
        "/_mock/counts",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

/// Scripts stop the mock as soon as they are done with it, which may be right after it printed
/// its URL: the signal handlers must already be in place then (the process exits 0 rather than
/// being killed by the signal).
#[test]
fn sigterm_right_after_the_url_line_exits_cleanly() {
    for _ in 0..5 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_botmaker-mock"))
            .args(["--port", "0", "--scale", "100000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        assert!(first.starts_with("botmaker-mock listening on "), "{first:?}");
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let t = Instant::now();
        let exit = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(exit.success(), "{exit:?}");
    }
}

/// The API-reading flags reach the server (each one's behaviour is covered by the `variants`
/// tests through the library).
#[test]
fn variant_flags_switch_the_readings() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_botmaker-mock"))
        .args(["--port", "0", "--scale", "300", "--token", "t0k3n", "--no-rate-limits"])
        .args(["--lts-required", "--no-recent-window", "--next-page-key", "nextPageUrl"])
        .args(["--next-page-key-for", "agents=nextPageURL", "--numbers-as-strings", "--strings-as-numbers"])
        .args(["--timestamps", "epoch-millis", "--empty-pages-every", "1", "--field-definitions-list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("botmaker-mock listening on ").unwrap().to_string();
    let fetch = |p: &str| get(&format!("{url}{p}"), Some("t0k3n")).resp();
    assert_eq!(fetch("/chats").error_type(), "LONG_TERM_SEARCH_PARAM_REQUIRED");
    assert_eq!(fetch("/sessions").error_type(), "LONG_TERM_SEARCH_PARAM_REQUIRED");
    let contacts = fetch("/contacts").json();
    assert!(contacts["nextPageUrl"].is_string(), "{contacts}");
    let agents = fetch("/agents?online=false").json();
    assert!(agents.as_object().unwrap().contains_key("nextPageURL"), "{agents}");
    let tickets = fetch("/tickets?limit=3").json();
    assert!(tickets["tickets"][0]["companyId"].is_string(), "{tickets}");
    assert!(tickets["tickets"][0]["creationTime"].is_i64(), "{tickets}");
    let channels = fetch("/channels").json();
    assert!(channels["items"][0]["number"].is_i64(), "{channels}");
    // /calls has no recent window: calls weeks old are served without long-term search.
    let to = chrono::Utc::now() - chrono::Duration::days(10);
    let from = to - chrono::Duration::days(10);
    let calls = fetch(&format!("/calls?from={}&to={}", q(from), q(to))).json();
    assert!(!calls["items"].as_array().unwrap().is_empty(), "{calls}");
    // Every page boundary gets an empty page first.
    let token = contacts["nextPageUrl"].as_str().unwrap();
    let second = fetch(&format!("/contacts?next-page-token={token}")).json();
    assert_eq!(second["items"], serde_json::json!([]), "{second}");
    assert!(fetch("/tickets/field-definitions").json().is_array());
    let _ = child.kill();
    let _ = child.wait();
}
