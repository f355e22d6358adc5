//! Data changing between syncs: touched chats, added records, sessions that finish late.

use crate::common::*;
use botmaker_mock::Stream;
use chrono::{Duration, Utc};
use serde_json::json;

#[test]
fn touch_chat_moves_it_between_windows() {
    let server = server(500);
    let a = server.data_start() + Duration::days(2);
    let b = a + Duration::days(1);
    let old = server.expected(Stream::Chats, a, b);
    let id = pk(Stream::Chats, &old[0]);
    let at = server.anchor() - Duration::hours(3) + ms(123);
    let before_all = server.count_all(Stream::Chats);
    assert!(server.touch_chat(&id, at));
    assert!(!server.touch_chat("NOT-A-CHAT", at));
    assert_eq!(server.count_all(Stream::Chats), before_all);
    // Gone from the old window, present in the new one, via the API too.
    let now_old = server.expected(Stream::Chats, a, b);
    assert_eq!(now_old.len(), old.len() - 1);
    assert!(now_old.iter().all(|c| pk(Stream::Chats, c) != id));
    let w = |x: chrono::DateTime<Utc>, y: chrono::DateTime<Utc>| {
        format!("/chats?from={}&to={}&long-term-search=true", q(x - ms(1)), q(y))
    };
    let (api_old, _) = walk(&server, &w(a, b));
    assert_eq!(api_old, now_old);
    let na = at - Duration::minutes(1);
    let nb = at + Duration::minutes(1);
    let (api_new, _) = walk(&server, &w(na, nb));
    let moved = api_new.iter().find(|c| pk(Stream::Chats, c) == id).expect("moved chat");
    assert_eq!(
        moved["lastUserMessageDatetime"],
        "2026-01-01T00:00:00.123Z".replace("2026-01-01T00:00:00", &at.format("%Y-%m-%dT%H:%M:%S").to_string(),)
    );
    assert!(moved.get("_mockLastActivity").is_none());
    assert_eq!(server.chat_last_activity(&id), Some(at));
    assert_eq!(moved["firstName"], old[0]["firstName"]);
    // Touching again moves it again (no copies left behind).
    let at2 = at + Duration::hours(1);
    assert!(server.touch_chat(&id, at2));
    let (again, _) = walk(&server, &w(na, nb));
    assert!(again.iter().all(|c| pk(Stream::Chats, c) != id));
    assert_eq!(server.count_all(Stream::Chats), before_all);
}

#[test]
fn add_generated_and_add_records() {
    let server = server(300);
    let a = server.anchor() - Duration::days(2);
    let b = a + Duration::hours(6);
    for s in [Stream::Chats, Stream::Messages, Stream::Sessions, Stream::Calls, Stream::Tickets] {
        let before = server.count(s, a, b);
        let ids = server.add_generated(s, 25, a, b);
        assert_eq!(ids.len(), 25);
        assert_eq!(server.count(s, a, b), before + 25, "{s}");
        let got: Vec<String> = server.expected(s, a, b).iter().map(|r| pk(s, r)).collect();
        for id in &ids {
            assert!(got.contains(id), "{s}: {id} missing");
        }
    }
    for s in [Stream::Contacts, Stream::Agents, Stream::Intents, Stream::Channels] {
        let before = server.count_all(s);
        let ids = server.add_generated(s, 3, a, b);
        assert_eq!(server.count_all(s), before + 3, "{s}");
        let (walked, _) = walk(&server, &format!("/{}", s.name()));
        let got: Vec<String> = walked.iter().map(|r| pk(s, r)).collect();
        assert!(ids.iter().all(|id| got.contains(id)), "{s}");
    }
    // Explicit records; one replaces a generated message by id.
    let msgs = server.expected(Stream::Messages, a - Duration::days(1), a);
    let mut replaced = msgs[0].clone();
    replaced["content"] = json!({"type": "text", "text": "edited"});
    let new_msg = json!({
        "id": "CUSTOM0000000000001",
        "creationTime": (a + Duration::hours(1)).to_rfc3339(),
        "from": "user",
        "content": {"type": "text", "text": "added"},
        "chat": {"chatId": "C1", "channelId": "mockbiz-webchat-main", "contactId": "wc-1"},
    });
    let total = server.count_all(Stream::Messages);
    server.add_records(Stream::Messages, vec![replaced.clone(), new_msg.clone()]);
    assert_eq!(server.count_all(Stream::Messages), total + 1);
    let day = server.expected(Stream::Messages, a - Duration::days(1), a);
    assert_eq!(day.len(), msgs.len());
    assert!(day.contains(&replaced));
    assert!(server.expected(Stream::Messages, a, b).contains(&new_msg));
    let (api_day, _) = walk(
        &server,
        &format!("/messages?from={}&to={}&long-term-search=true", q(a - Duration::days(1)), q(a - ms(1))),
    );
    assert_eq!(api_day, day);
    // A chat record with an explicit internal last activity.
    server.add_records(
        Stream::Chats,
        vec![json!({
            "chat": {"chatId": "CHATX", "channelId": "mockbiz-webchat-main", "contactId": "wc-x"},
            "_mockLastActivity": (a + Duration::minutes(5)).to_rfc3339(),
            "firstName": "Ada",
        })],
    );
    assert_eq!(server.chat_last_activity("CHATX"), Some(a + Duration::minutes(5)));
    let got = server.expected(Stream::Chats, a, a + Duration::minutes(6));
    let x = got.iter().find(|c| pk(Stream::Chats, c) == "CHATX").unwrap();
    assert!(x.get("_mockLastActivity").is_none());
}

#[test]
#[should_panic(expected = "without a parseable time")]
fn add_records_rejects_records_without_time() {
    let server = server(10);
    server.add_records(Stream::Calls, vec![json!({"id": "X"})]);
}

#[test]
fn sessions_open_then_finish() {
    let server = server(200);
    let t = Utc::now() - Duration::days(3);
    let id = server.open_session(t);
    let w = |extra: &str| {
        format!(
            "/sessions?from={}&to={}&long-term-search=true&timestamp-precision=milliseconds{extra}",
            q(t - Duration::hours(1)),
            q(t + Duration::hours(1))
        )
    };
    let ids = |p: &str| -> Vec<String> { walk(&server, p).0.iter().map(|s| pk(Stream::Sessions, s)).collect() };
    assert!(!ids(&w("")).contains(&id), "open session listed");
    assert!(ids(&w("&include-open-sessions=true")).contains(&id));
    let before = server.count_all(Stream::Sessions);
    assert!(!server
        .expected(Stream::Sessions, t - Duration::hours(1), t + Duration::hours(1))
        .iter()
        .any(|s| pk(Stream::Sessions, s) == id));
    assert!(server.finish_session(&id));
    assert_eq!(server.count_all(Stream::Sessions), before + 1);
    assert!(ids(&w("")).contains(&id), "finished session at its old start time");
    let (full, _) = walk(&server, &w("&include-events=true"));
    let s = full.iter().find(|s| pk(Stream::Sessions, s) == id).unwrap();
    assert_eq!(s["events"].as_array().unwrap().last().unwrap()["name"], "conversation-close");
    assert!(!server.finish_session("nope"));
}

#[test]
fn generated_open_sessions_can_be_finished() {
    let mut c = botmaker_mock::MockConfig::with_scale(3000);
    c.rate_limits = false;
    // Anchor now: the last day or two hold sessions that are still open.
    let server = botmaker_mock::MockServer::start(c).unwrap();
    let now = Utc::now();
    let from = now - Duration::days(2);
    let p =
        format!("/sessions?from={}&to={}&include-open-sessions=true&timestamp-precision=milliseconds", q(from), q(now));
    let (all, _) = walk(&server, &p);
    let finished: Vec<String> =
        server.expected(Stream::Sessions, from, now).iter().map(|s| pk(Stream::Sessions, s)).collect();
    let open: Vec<String> = all.iter().map(|s| pk(Stream::Sessions, s)).filter(|id| !finished.contains(id)).collect();
    assert!(!open.is_empty(), "some generated sessions are still open");
    let before = server.count(Stream::Sessions, from, now);
    assert!(server.finish_session(&open[0]));
    assert_eq!(server.count(Stream::Sessions, from, now), before + 1);
    assert!(server.expected(Stream::Sessions, from, now).iter().any(|s| pk(Stream::Sessions, s) == open[0]));
    // Finishing a finished one is a no-op that still reports success.
    assert!(server.finish_session(&finished[0]));
    assert_eq!(server.count(Stream::Sessions, from, now), before + 1);
}
