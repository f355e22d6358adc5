//! Fault injection and misbehaviour scenarios.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::*;
use botmaker_mock::{FaultConfig, RetryAfterMode, Scenario, Stream};
use chrono::Duration as CDuration;
use serde_json::Value;

fn url(server: &botmaker_mock::MockServer, p: &str) -> String {
    format!("{}{}", server.base_url(), p)
}

fn fetch(server: &botmaker_mock::MockServer, p: &str) -> Outcome {
    get(&url(server, p), Some(&server.token()))
}

#[test]
fn injected_429_with_each_retry_after_mode() {
    let server = server(20);
    for (mode, check) in
        [(RetryAfterMode::None, "absent"), (RetryAfterMode::Seconds, "seconds"), (RetryAfterMode::HttpDate, "date")]
    {
        server.set_faults(FaultConfig { p_429: 1.0, retry_after: mode, ..FaultConfig::default() });
        let r = fetch(&server, "/agents").resp();
        assert_eq!(r.status, 429);
        assert_eq!(r.error_type(), "TOO_MANY_REQUESTS");
        let h = r.header("Retry-After");
        match check {
            "absent" => assert!(h.is_none()),
            "seconds" => assert_eq!(h, Some("1")),
            _ => {
                let d = chrono::DateTime::parse_from_rfc2822(h.unwrap()).expect("HTTP-date");
                assert!(d.timestamp() >= chrono::Utc::now().timestamp());
                assert!(h.unwrap().ends_with(" GMT"));
            }
        }
    }
    server.set_faults(FaultConfig { p_429: 1.0, retry_after: RetryAfterMode::Mixed, ..FaultConfig::default() });
    let kinds: HashSet<String> = (0..40)
        .map(|_| match fetch(&server, "/agents").resp().header("Retry-After") {
            None => "none".to_string(),
            Some(v) if v.parse::<u64>().is_ok() => "secs".to_string(),
            Some(_) => "date".to_string(),
        })
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    let log = server.requests();
    assert!(log.iter().all(|r| r.fault.as_deref() == Some("429") && r.status == 429));
}

#[test]
fn injected_5xx_html_and_json() {
    let server = server(20);
    server.set_faults(FaultConfig { p_5xx: 1.0, ..FaultConfig::default() });
    let mut statuses = HashSet::new();
    let (mut html, mut json) = (0, 0);
    for _ in 0..60 {
        let r = fetch(&server, "/intents").resp();
        statuses.insert(r.status);
        if r.header("Content-Type").unwrap().starts_with("text/html") {
            assert!(r.text().contains("<html"));
            html += 1;
        } else {
            assert!(r.json()["errors"][0]["type"].is_string());
            json += 1;
        }
    }
    assert_eq!(statuses, HashSet::from([500, 502, 503, 504]));
    assert!(html > 5 && json > 5);
}

#[test]
fn injected_reset_body_cut_and_malformed() {
    let server = server(300);
    server.set_faults(FaultConfig { p_reset: 1.0, ..FaultConfig::default() });
    assert!(matches!(fetch(&server, "/contacts"), Outcome::Reset));
    let log = server.requests();
    assert_eq!(log[0].status, 0);
    assert_eq!(log[0].fault.as_deref(), Some("reset"));

    server.set_faults(FaultConfig { p_body_cut: 1.0, ..FaultConfig::default() });
    for _ in 0..5 {
        match fetch(&server, "/contacts") {
            Outcome::Truncated { status, declared, got } => {
                assert_eq!(status, 200);
                assert!(got < declared);
            }
            other => panic!("expected a cut body, got {other:?}"),
        }
    }

    server.set_faults(FaultConfig { p_malformed: 1.0, ..FaultConfig::default() });
    let mut kinds = HashSet::new();
    for _ in 0..40 {
        let r = fetch(&server, "/contacts").resp();
        assert_eq!(r.status, 200);
        match serde_json::from_slice::<Value>(&r.body) {
            Err(_) if r.text().contains("<html") => kinds.insert("html"),
            Err(_) => kinds.insert("truncated"),
            Ok(v) => {
                assert!(v.get("items").is_none(), "wrong envelope expected: {v}");
                kinds.insert("envelope")
            }
        };
    }
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}

#[test]
fn slow_responses_and_fault_free_retries_return_the_same_data() {
    let server = server(500);
    server.set_faults(FaultConfig { p_slow: 1.0, slow_ms: 250, ..FaultConfig::default() });
    let t = Instant::now();
    let r = fetch(&server, "/agents").resp();
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(250));
    assert_eq!(server.requests()[0].fault.as_deref(), Some("slow"));

    let a = server.data_start();
    let p = format!("/messages?from={}&to={}&long-term-search=true&limit=250", q(a), q(a + CDuration::days(20)));
    server.set_faults(FaultConfig::default());
    let clean = fetch(&server, &p).resp().json();
    let next = clean["nextPage"].as_str().unwrap().to_string();
    let clean2 = get(&next, Some(&server.token())).resp().json();
    server.set_faults(FaultConfig {
        p_429: 0.15,
        p_5xx: 0.15,
        p_reset: 0.15,
        p_malformed: 0.15,
        p_body_cut: 0.15,
        ..FaultConfig::default()
    });
    let retry = |u: &str| -> Value {
        for _ in 0..200 {
            if let Outcome::Ok(r) = get(u, Some(&server.token())) {
                if r.status == 200 {
                    if let Ok(v) = serde_json::from_slice::<Value>(&r.body) {
                        if v.get("items").is_some() {
                            return v;
                        }
                    }
                }
            }
        }
        panic!("no success in 200 tries");
    };
    let faulty = retry(&url(&server, &p));
    assert_eq!(faulty["items"], clean["items"]);
    let faulty2 = retry(faulty["nextPage"].as_str().unwrap());
    assert_eq!(faulty2["items"], clean2["items"]);
    let faults: HashSet<_> = server.requests().iter().filter_map(|r| r.fault.clone()).collect();
    assert!(faults.len() >= 3, "{faults:?}");
}

#[test]
fn fault_draws_are_deterministic_per_seed() {
    let run = || {
        let server = start_with(|c| c.faults = FaultConfig { p_5xx: 0.3, p_429: 0.2, ..FaultConfig::default() });
        (0..30).map(|_| fetch(&server, "/agents").resp().status).collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    assert!(a.contains(&200) && a.iter().any(|s| *s != 200));
}

#[test]
fn scenario_next_page_loop_and_foreign_and_not_url() {
    let server = server(2000);
    let a = server.data_start();
    let p = format!("/messages?from={}&to={}&long-term-search=true", q(a), q(a + CDuration::days(20)));
    server.set_scenario(Stream::Messages, Some(Scenario::NextPageLoop));
    let first = fetch(&server, &p).resp().json();
    let loop_url = first["nextPage"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let v = get(&loop_url, Some(&server.token())).resp().json();
        assert_eq!(v["nextPage"].as_str().unwrap(), loop_url);
        assert_eq!(v["items"], first["items"]);
    }
    server.set_scenario(Stream::Messages, Some(Scenario::ForeignNextPage("evil.example:8443".into())));
    let v = fetch(&server, &p).resp().json();
    let n = v["nextPage"].as_str().unwrap();
    assert!(n.starts_with("http://evil.example:8443/v2.0/messages?"), "{n}");
    server.set_scenario(Stream::Messages, Some(Scenario::NextPageNotUrl));
    let v = fetch(&server, &p).resp().json();
    assert_eq!(v["nextPage"], "%%% not a url");
    server.set_scenario(Stream::Messages, None);
    let v = fetch(&server, &p).resp().json();
    assert!(v["nextPage"].as_str().unwrap().starts_with(&server.base_url()));
    // Other endpoints are unaffected by a scenario on one.
    server.set_scenario(Stream::Chats, Some(Scenario::NextPageNotUrl));
    let v = fetch(&server, &p).resp().json();
    assert!(v["nextPage"].as_str().unwrap().starts_with("http"));
}

#[test]
fn scenario_duplicate_pages() {
    let server = server(1000);
    server.set_scenario(Stream::Contacts, Some(Scenario::DuplicatePages));
    server.set_scenario(Stream::Agents, Some(Scenario::DuplicatePages));
    let (items, pages) = walk(&server, "/contacts");
    let truth = server.expected_all(Stream::Contacts);
    assert_eq!(pages, 20);
    assert_eq!(items.len(), 2 * truth.len());
    for (k, chunk) in items.chunks(200).enumerate() {
        assert_eq!(chunk[..100], chunk[100..], "page {k} served twice");
        assert_eq!(chunk[..100], truth[k * 100..(k + 1) * 100]);
    }
    // /contacts keeps its bare-token form under paging scenarios.
    server.set_scenario(Stream::Contacts, Some(Scenario::NextPageLoop));
    let v = fetch(&server, "/contacts").resp().json();
    let tok = v["nextPage"].as_str().unwrap().to_string();
    assert!(!tok.starts_with("http"));
    let v2 = fetch(&server, &format!("/contacts?next-page-token={tok}")).resp().json();
    assert_eq!(v2["nextPage"].as_str().unwrap(), tok);
    assert_eq!(v2["items"], v["items"]);
    let (agents, pages) = walk(&server, "/agents");
    assert_eq!(pages, 2);
    assert_eq!(agents.len(), 20);
}

#[test]
fn scenario_wrong_types_and_missing_items() {
    let server = server(300);
    let a = server.data_start();
    let w = format!("from={}&to={}&long-term-search=true", q(a), q(a + CDuration::days(20)));
    for s in Stream::ALL {
        server.set_scenario(s, Some(Scenario::WrongTypes));
    }
    let v = fetch(&server, &format!("/chats?{w}")).resp().json();
    assert!(v["items"].as_array().unwrap().iter().all(|c| c["isBanned"] == "yes"));
    let v = fetch(&server, &format!("/messages?{w}")).resp().json();
    assert!(v["items"][0]["creationTime"].is_i64());
    let v = fetch(&server, &format!("/sessions?{w}")).resp().json();
    assert!(v["items"][0]["creationTime"].is_i64());
    let v = fetch(&server, &format!("/calls?{w}")).resp().json();
    assert!(v["items"][0]["creationDatetime"].is_i64());
    let v = fetch(&server, "/contacts").resp().json();
    assert_eq!(v["items"][0]["chats"], "none");
    let v = fetch(&server, "/agents").resp().json();
    assert_eq!(v["items"][0]["isOnline"], "yes");
    let v = fetch(&server, "/channels").resp().json();
    assert_eq!(v["items"][0]["active"], "yes");
    let v = fetch(&server, "/tickets").resp().json();
    assert_eq!(v["tickets"][0]["companyId"], "ACME");

    for s in Stream::ALL {
        server.set_scenario(s, Some(Scenario::MissingItems));
    }
    for p in ["/contacts", "/agents", "/intents", "/channels"] {
        let v = fetch(&server, p).resp().json();
        assert!(v.get("items").is_none(), "{p}: {v}");
    }
    let v = fetch(&server, &format!("/chats?{w}")).resp().json();
    assert!(v.get("items").is_none() && v.get("nextPage").is_some());
    let v = fetch(&server, "/tickets").resp().json();
    assert!(v.get("tickets").is_none() && v["total"].is_u64());
}

#[test]
fn scenario_redirect_and_fixed() {
    let server = server(10);
    server.set_scenario(Stream::Agents, Some(Scenario::Redirect("http://127.0.0.1:9/elsewhere".into())));
    let r = fetch(&server, "/agents").resp();
    assert_eq!(r.status, 302);
    assert_eq!(r.header("Location"), Some("http://127.0.0.1:9/elsewhere"));
    server.set_scenario(
        Stream::Agents,
        Some(Scenario::Fixed { status: 418, content_type: "text/plain".into(), body: "I'm a teapot".into() }),
    );
    let r = fetch(&server, "/agents").resp();
    assert_eq!(r.status, 418);
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(r.text(), "I'm a teapot");
    // Auth still comes first.
    let r = get(&url(&server, "/agents"), None).resp();
    assert_eq!(r.status, 401);
    let log = server.requests();
    assert_eq!(log[0].fault.as_deref(), Some("scenario:redirect"));
    assert_eq!(log[1].fault.as_deref(), Some("scenario:fixed"));
}
