//! Walking every endpoint's pages returns exactly the ground truth: no gaps, no duplicates,
//! same bytes, same order — at several scales, including an empty account.

use std::collections::HashSet;

use crate::common::*;
use botmaker_mock::{MockServer, Stream};
use chrono::Duration;
use serde_json::Value;

fn assert_unique(s: Stream, items: &[Value]) {
    let mut seen = HashSet::new();
    for it in items {
        assert!(seen.insert(pk(s, it)), "{s}: duplicate {}", pk(s, it));
    }
}

fn check_windowed(server: &MockServer, s: Stream) -> usize {
    let start = server.data_start();
    let mut got = vec![];
    let mut pages = 0;
    for k in 0..4 {
        let a = start + Duration::days(10 * k);
        let b = a + Duration::days(10);
        let (items, p) = walk(server, &window_query(s, a, b));
        assert_eq!(items, server.expected(s, a, b), "{s} window {a}..{b} differs from ground truth");
        assert_eq!(items.len() as u64, server.count(s, a, b));
        got.extend(items);
        pages += p;
    }
    let end = start + Duration::days(40);
    assert_eq!(got, server.expected(s, start, end));
    assert_eq!(got.len() as u64, server.count_all(s), "{s}: count_all");
    assert_unique(s, &got);
    pages
}

fn check_tickets(server: &MockServer) {
    let total = server.count_all(Stream::Tickets) as usize;
    let mut got: Vec<Value> = vec![];
    let mut offset = 0;
    loop {
        let r = api(server, &format!("/tickets?limit=37&offset={offset}&daysBeforeNow=60"));
        let v = r.json();
        assert_eq!(v["total"].as_u64(), Some(total as u64));
        let page = v["tickets"].as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        offset += page.len();
        got.extend(page);
    }
    assert_eq!(got.len(), total);
    got.reverse(); // newest first -> ascending
    assert_eq!(got, server.expected_all(Stream::Tickets));
    assert_unique(Stream::Tickets, &got);
}

fn check_all(scale: u64) {
    let server = server(scale);
    for s in [Stream::Chats, Stream::Messages, Stream::Sessions, Stream::Calls] {
        let pages = check_windowed(&server, s);
        if scale >= 1000 && s != Stream::Sessions {
            assert!(pages > 4, "{s}: expected several pages, got {pages}");
        }
    }
    for (s, path) in [
        (Stream::Contacts, "/contacts"),
        (Stream::Agents, "/agents"),
        (Stream::Intents, "/intents"),
        (Stream::Channels, "/channels"),
    ] {
        let (items, pages) = walk(&server, path);
        assert_eq!(items, server.expected_all(s), "{s}");
        assert_eq!(items.len() as u64, server.count_all(s), "{s}");
        assert_unique(s, &items);
        if s == Stream::Contacts && scale >= 1000 {
            assert_eq!(pages, scale.div_ceil(100) as usize);
        }
    }
    check_tickets(&server);
}

#[test]
fn walk_equals_ground_truth_empty_account() {
    check_all(0);
    let server = server(0);
    for s in Stream::ALL {
        assert_eq!(server.count_all(s), 0, "{s}");
    }
    // Empty results are a bare `{"items": []}`.
    let r = api(&server, "/chats?long-term-search=true");
    assert_eq!(r.text(), r#"{"items":[]}"#);
    let r = api(&server, "/tickets");
    assert_eq!(r.text(), r#"{"total":0,"tickets":[]}"#);
}

#[test]
fn walk_equals_ground_truth_tiny() {
    check_all(7);
}

#[test]
fn walk_equals_ground_truth_thousand() {
    check_all(1000);
}

#[test]
fn walk_equals_ground_truth_sparse_and_dense_mix() {
    let server = start_with(|c| {
        c.counts = botmaker_mock::StreamCounts::with_scale(300)
            .with(Stream::Messages, 5000)
            .with(Stream::Agents, 250)
            .with(Stream::Intents, 450)
            .with(Stream::Calls, 0);
        c.seed = 7;
    });
    check_windowed(&server, Stream::Messages);
    check_windowed(&server, Stream::Calls);
    for (s, path) in [(Stream::Agents, "/agents"), (Stream::Intents, "/intents")] {
        let (items, pages) = walk(&server, path);
        assert_eq!(items, server.expected_all(s));
        assert_eq!(pages, 3, "{s} pages");
    }
}

#[test]
fn last_page_shapes_differ_per_endpoint() {
    let server = server(50);
    let lts = "long-term-search=true";
    let from = q(server.data_start());
    let to = q(server.data_start() + Duration::days(30));
    let page = |p: &str| api(&server, p).json();
    let chats = page(&format!("/chats?from={from}&to={to}&{lts}"));
    assert!(chats["nextPage"].is_null() && chats.get("nextPage").is_some());
    let msgs = page(&format!("/messages?from={from}&to={to}&{lts}"));
    assert!(msgs.get("nextPage").is_none());
    let calls = page(&format!("/calls?from={from}&to={to}&{lts}"));
    assert_eq!(calls["nextPage"], "");
    let sess = page(&format!("/sessions?from={from}&to={to}&{lts}"));
    assert!(sess["nextPage"].is_null() && sess.get("nextPage").is_some());
    let intents = page("/intents");
    assert!(intents.get("nextPage").is_none());
    let agents = page("/agents");
    assert!(agents["nextPage"].is_null() && agents.get("nextPage").is_some());
    let channels = page("/channels");
    assert!(channels.get("nextPage").is_none());
    assert_eq!(channels["items"].as_array().unwrap().len(), 6);
}

#[test]
fn next_page_urls_are_absolute_and_self_contained() {
    let server = server(6000);
    let a = server.data_start() + Duration::days(1);
    let b = a + Duration::days(5);
    let url = format!("/messages?from={}&to={}&long-term-search=true&limit=250&chat-platform=whatsapp", q(a), q(b));
    let v = api(&server, &url).json();
    let next = v["nextPage"].as_str().unwrap();
    assert!(next.starts_with(&server.base_url()), "{next}");
    for p in ["from=", "to=", "long-term-search=true", "limit=250", "chat-platform=whatsapp"] {
        assert!(next.contains(p), "{next} lacks {p}");
    }
    // Followed verbatim it continues where the first page ended.
    let v2 = get(next, Some(&server.token())).resp().json();
    let first: Vec<_> = v["items"].as_array().unwrap().iter().map(|i| pk(Stream::Messages, i)).collect();
    let second: Vec<_> = v2["items"].as_array().unwrap().iter().map(|i| pk(Stream::Messages, i)).collect();
    assert_eq!(first.len(), 250);
    assert!(!second.is_empty());
    assert!(second.iter().all(|x| !first.contains(x)));
    // Everything on these pages is whatsapp.
    for it in v["items"].as_array().unwrap() {
        assert!(it["chat"]["channelId"].as_str().unwrap().contains("-whatsapp-"));
    }
    // /contacts hands out a bare token instead.
    let c = api(&server, "/contacts").json();
    let tok = c["nextPage"].as_str().unwrap();
    assert!(!tok.starts_with("http") && !tok.is_empty());
    let c2 = api(&server, &format!("/contacts?next-page-token={tok}")).json();
    assert_eq!(c2["items"].as_array().unwrap().len(), 100);
    assert_ne!(c["items"][0], c2["items"][0]);
    let bad = api(&server, "/contacts?next-page-token=garbage!!");
    assert_eq!(bad.status, 400);
}

#[test]
fn cursor_is_stable_when_data_is_added_between_pages() {
    let server = server(1000);
    let a = server.data_start();
    let b = a + Duration::days(20);
    let first_url = format!("/calls?from={}&to={}&long-term-search=true", q(a - ms(1)), q(b - ms(1)));
    let p1 = api(&server, &first_url).json();
    let items1 = p1["items"].as_array().unwrap().clone();
    assert_eq!(items1.len(), 250);
    let last_t = parse_time(&items1[249]["creationDatetime"]);
    // One call before the cursor (must not appear: the page boundary does not shift) and one
    // well after it (must appear on a later page).
    let before = server.add_generated(Stream::Calls, 1, a + Duration::hours(1), a + Duration::hours(2));
    let after = server.add_generated(Stream::Calls, 1, last_t + Duration::days(3), last_t + Duration::days(4));
    let mut rest = vec![];
    let mut next = p1["nextPage"].as_str().unwrap().to_string();
    while !next.is_empty() {
        let v = get(&next, Some(&server.token())).resp().json();
        rest.extend(v["items"].as_array().unwrap().clone());
        next = v["nextPage"].as_str().unwrap_or("").to_string();
    }
    let ids: Vec<String> = items1.iter().chain(rest.iter()).map(|i| pk(Stream::Calls, i)).collect();
    assert!(!ids.contains(&before[0]));
    assert!(ids.contains(&after[0]));
    let uniq: HashSet<_> = ids.iter().collect();
    assert_eq!(uniq.len(), ids.len());
    // The ground truth now has both; the walk missed only the one added behind the cursor.
    let truth = server.expected(Stream::Calls, a, b);
    assert_eq!(truth.len(), ids.len() + 1);
}
