//! Filtering, per-endpoint inclusivity, recent windows, parameter validation and record shape.

use std::collections::HashSet;

use crate::common::*;
use botmaker_mock::{MockConfig, MockServer, Stream};
use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::Value;

/// True if the record `id` is returned for this window.
fn present(server: &MockServer, s: Stream, id: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    let mut url = format!("/{}?from={}&to={}&long-term-search=true", s.name(), q(from), q(to));
    if s == Stream::Messages {
        url.push_str("&limit=1500");
    }
    let (items, _) = walk(server, &url);
    items.iter().any(|i| pk(s, i) == id)
}

#[test]
fn inclusivity_differs_per_endpoint() {
    let server = server(1000);
    let a = server.data_start() + Duration::days(3);
    let b = a + Duration::days(2);
    let h = Duration::hours(1);
    // (stream, from-inclusive, to-inclusive) as documented in the README.
    for (s, from_incl, to_incl) in [
        (Stream::Chats, false, false),
        (Stream::Messages, true, true),
        (Stream::Sessions, true, false),
        (Stream::Calls, false, true),
    ] {
        let truth = server.expected(s, a, b);
        let rec = &truth[truth.len() / 2];
        let id = pk(s, rec);
        let t = match s {
            Stream::Chats => server.chat_last_activity(&id).unwrap(),
            Stream::Calls => parse_time(&rec["creationDatetime"]),
            _ => parse_time(&rec["creationTime"]),
        };
        assert_eq!(present(&server, s, &id, t, t + h), from_incl, "{s} from == t");
        assert_eq!(present(&server, s, &id, t - h, t), to_incl, "{s} to == t");
        assert!(present(&server, s, &id, t - ms(1), t + ms(1)), "{s} around t");
        assert!(!present(&server, s, &id, t + ms(1), t + h), "{s} after t");
    }
}

#[test]
fn records_sit_on_midnights_and_whole_seconds() {
    let server = server(3000);
    let msgs = server.expected_all(Stream::Messages);
    let times: Vec<&str> = msgs.iter().map(|m| m["creationTime"].as_str().unwrap()).collect();
    let no_frac = times.iter().filter(|t| !t.contains('.')).count();
    let share = no_frac as f64 / times.len() as f64;
    assert!((0.2..0.45).contains(&share), "share without fraction {share}");
    let midnights: HashSet<_> = msgs
        .iter()
        .map(|m| parse_time(&m["creationTime"]))
        .filter(|t| t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0)
        .collect();
    assert!(midnights.len() >= 29, "midnight records: {}", midnights.len());
    assert!(times.iter().any(|t| t.ends_with("T00:00:00Z")));
    assert!(times.iter().any(|t| t.ends_with("T00:00:00.000Z")));
    // Whole seconds served with milliseconds too.
    assert!(times.iter().any(|t| t.ends_with(".000Z") && !t.ends_with("T00:00:00.000Z")) || midnights.len() > 1);
}

#[test]
fn recent_windows_without_long_term_search() {
    let mut c = MockConfig::with_scale(3000);
    c.rate_limits = false;
    let server = MockServer::start(c).unwrap();
    let now = Utc::now();
    let old = q(now - Duration::days(10));
    let to = q(now);
    // chats, sessions, calls: older records silently left out.
    for s in [Stream::Chats, Stream::Sessions, Stream::Calls] {
        let (items, _) = walk(&server, &format!("/{}?from={old}&to={to}", s.name()));
        let (all, _) = walk(&server, &format!("/{}?from={old}&to={to}&long-term-search=true", s.name()));
        assert!(!items.is_empty() && items.len() < all.len(), "{s}: {} vs {}", items.len(), all.len());
        let recent = server.count(s, now - Duration::days(7) + Duration::seconds(5), now);
        let wider = server.count(s, now - Duration::days(7) - Duration::seconds(5), now + Duration::seconds(5));
        assert!((recent..=wider).contains(&(items.len() as u64)), "{s}: {} not in {recent}..={wider}", items.len());
    }
    // messages: 400 beyond 3 days, fine within, fine with LTS.
    let r = api(&server, &format!("/messages?from={}&to={to}", q(now - Duration::days(4))));
    assert_eq!(r.status, 400);
    assert_eq!(r.error_type(), "LONG_TERM_SEARCH_PARAM_REQUIRED");
    assert_eq!(r.json()["errors"][0]["source"], "long-term-search");
    let r = api(&server, &format!("/messages?from={}&to={to}", q(now - Duration::days(2))));
    assert_eq!(r.status, 200);
    let r = api(
        &server,
        &format!(
            "/messages?from={}&to={}&long-term-search=true",
            q(now - Duration::days(20)),
            q(now - Duration::days(10))
        ),
    );
    assert_eq!(r.status, 200);
    assert!(!r.json()["items"].as_array().unwrap().is_empty());
    // A chat-scoped message search may look back 90 days.
    let chat = server.expected_all(Stream::Messages)[0]["chat"]["chatId"].as_str().unwrap().to_string();
    let r = api(&server, &format!("/messages?chat-id={chat}&from={}&to={to}", q(now - Duration::days(60))));
    assert_eq!(r.status, 200, "{}", r.text());
    // Defaults: /messages without params = the last 3 days; /chats = the last day.
    let (m, _) = walk(&server, "/messages?limit=1500");
    let expect = server.count(Stream::Messages, now - Duration::days(3) + Duration::seconds(5), now);
    assert!(m.len() as u64 >= expect && m.len() as u64 <= expect + 3);
    let (c, _) = walk(&server, "/chats");
    let expect = server.count(Stream::Chats, now - Duration::days(1) + Duration::seconds(5), now);
    assert!(c.len() as u64 >= expect && c.len() as u64 <= expect + 3);
    // /sessions defaults to [now-2d, now-1d) unless open sessions are requested.
    let (s, _) = walk(&server, "/sessions?timestamp-precision=milliseconds");
    for it in &s {
        let t = parse_time(&it["creationTime"]);
        assert!(
            t < now - Duration::days(1) + Duration::seconds(5) && t >= now - Duration::days(2) - Duration::seconds(5)
        );
    }
}

#[test]
fn datetime_and_interval_errors() {
    let server = server(100);
    let bad_fmt = ["2024-01-01", "2024-01-01T00:00:00", "yesterday", "1704067200", "2024-13-01T00:00:00Z", ""];
    for f in bad_fmt {
        let r = api(&server, &format!("/chats?from={f}&to=2024-01-02T00:00:00Z&long-term-search=true"));
        assert_eq!(r.status, 400, "{f}");
        assert_eq!(r.error_type(), "INVALID_DATETIME_FORMAT", "{f}");
        assert_eq!(r.json()["errors"][0]["source"], "from");
    }
    for ok in [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00.5Z",
        "2024-01-01T00:00:00.123456Z",
        "2024-01-01T02:00:00%2B02:00",
        "2024-01-01T02:00:00+02:00",
        "2023-12-31T21:00:00-03:00",
    ] {
        for ep in ["chats", "messages", "sessions", "calls"] {
            let r = api(&server, &format!("/{ep}?from={ok}&to=2024-01-02T00:00:00Z&long-term-search=true"));
            assert_eq!(r.status, 200, "{ep} {ok}: {}", r.text());
        }
    }
    let check = |from: &str, to: &str, ok: bool| {
        for ep in ["chats", "messages", "sessions", "calls"] {
            let r = api(&server, &format!("/{ep}?from={from}&to={to}&long-term-search=true"));
            if ok {
                assert_eq!(r.status, 200, "{ep} {from}..{to}: {}", r.text());
            } else {
                assert_eq!(r.status, 400, "{ep} {from}..{to}");
                assert_eq!(r.error_type(), "INVALID_DATETIME_INTERVAL");
            }
        }
    };
    check("2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z", true);
    check("2024-01-31T00:00:00Z", "2024-02-29T00:00:00.001Z", false);
    check("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", true);
    check("2024-01-01T00:00:00Z", "2024-02-01T00:00:01Z", false);
    check("2024-02-01T00:00:00Z", "2024-01-01T00:00:00Z", false);
    check("2024-02-01T00:00:00Z", "2024-02-01T00:00:00Z", true);
    let r = api(&server, "/chats?from=2024-01-01T00:00:00Z&to=2024-03-01T00:00:00Z&long-term-search=true");
    assert_eq!(
        r.json()["errors"][0]["message"],
        "The difference between 'from' and 'to' cannot be greater than 1 month"
    );
    // Only `from` given: `to` defaults to now, which is far more than a month later.
    let r = api(&server, "/calls?from=2020-01-01T00:00:00Z&long-term-search=true");
    assert_eq!(r.error_type(), "INVALID_DATETIME_INTERVAL");
}

#[test]
fn parameter_validation_and_unknown_params() {
    let server = server(3000);
    let lts = "long-term-search=true";
    let w = format!("from={}&to={}", q(server.data_start()), q(server.data_start() + Duration::days(20)));
    for l in ["249", "1501", "abc", "-1", "99999999999999999999999"] {
        let r = api(&server, &format!("/messages?{w}&{lts}&limit={l}"));
        assert_eq!(r.status, 400, "limit {l}");
        assert_eq!(r.error_type(), "INVALID_PARAMETER");
    }
    for l in [250usize, 1500] {
        let v = api(&server, &format!("/messages?{w}&{lts}&limit={l}")).json();
        assert_eq!(v["items"].as_array().unwrap().len(), l);
    }
    let v = api(&server, &format!("/messages?{w}&{lts}")).json();
    assert_eq!(v["items"].as_array().unwrap().len(), 1000, "default limit");
    let r = api(&server, &format!("/sessions?{w}&{lts}&timestamp-precision=nanos"));
    assert_eq!(r.status, 400);
    for p in ["limit=0", "limit=501", "offset=-1", "daysBeforeNow=0", "limit=x", "offset=1e3"] {
        let r = api(&server, &format!("/tickets?{p}"));
        assert_eq!(r.status, 400, "{p}");
        assert_eq!(r.error_type(), "INVALID_PARAMETER");
    }
    // Unknown params are ignored (camelCase chatId is NOT chat-id).
    let plain = api(&server, &format!("/messages?{w}&{lts}")).body;
    let odd = api(&server, &format!("/messages?{w}&{lts}&chatId=XYZ&pag=true&offset=0&foo")).body;
    // nextPage URLs echo the params, so compare items only.
    let a: Value = serde_json::from_slice(&plain).unwrap();
    let b: Value = serde_json::from_slice(&odd).unwrap();
    assert_eq!(a["items"], b["items"]);
    // Booleans follow Java's parseBoolean: "yes" is false.
    let r = api(&server, &format!("/messages?{w}&long-term-search=yes"));
    assert_eq!(r.error_type(), "LONG_TERM_SEARCH_PARAM_REQUIRED");
    let r = api(&server, "/channels?platform=carrier-pigeon");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["message"], "Invalid platform.");
    let r = api(&server, &format!("/chats?{w}&{lts}&channel-id=nope"));
    assert_eq!(r.json()["errors"][0]["message"], "Invalid channel id.");
    let r = api(&server, &format!("/chats?{w}&{lts}&contact-id=123"));
    assert_eq!(r.status, 400);
    let r = api(&server, "/contacts?channel-id=mockbiz-webchat-main&platform=webchat");
    assert_eq!(r.status, 400);
    let r = api(&server, &format!("/messages?{w}&{lts}&chat-platform=fax"));
    assert_eq!(r.status, 400);
    let r = api(&server, "/v2.0/nope");
    assert_eq!(r.status, 404);
    let r = api(&server, "/chats/ABC");
    assert_eq!(r.status, 404);
}

#[test]
fn filters_select_what_they_say() {
    let server = server(3000);
    let lts = "long-term-search=true";
    let a = server.data_start();
    let w = format!("from={}&to={}", q(a), q(a + Duration::days(25)));
    let (chats, _) = walk(&server, &format!("/chats?{w}&{lts}&channel-id=mockbiz-telegram-mockbiz_bot"));
    assert!(!chats.is_empty());
    assert!(chats.iter().all(|c| c["chat"]["channelId"] == "mockbiz-telegram-mockbiz_bot"));
    let c0 = &chats[0]["chat"];
    let (one, _) = walk(
        &server,
        &format!(
            "/chats?{w}&{lts}&channel-id={}&contact-id={}",
            c0["channelId"].as_str().unwrap(),
            c0["contactId"].as_str().unwrap()
        ),
    );
    assert_eq!(one.len(), 1);
    let (never, _) = walk(&server, &format!("/chats?{w}&{lts}&only-users-never-talked=true"));
    assert!(!never.is_empty());
    assert!(never.iter().all(|c| c.get("lastUserMessageDatetime").is_none()));
    let named = &chats[0];
    let name = format!("{} {}", named["firstName"].as_str().unwrap(), named["lastName"].as_str().unwrap());
    let (by_name, _) = walk(&server, &format!("/chats?{w}&{lts}&name={}", name.replace(' ', "%20")));
    assert!(by_name.iter().any(|c| pk(Stream::Chats, c) == pk(Stream::Chats, named)));
    assert!(by_name.iter().all(|c| c["firstName"] == named["firstName"] && c["lastName"] == named["lastName"]));
    if let Some(email) = chats.iter().find_map(|c| c["email"].as_str()) {
        let (by_mail, _) = walk(&server, &format!("/chats?{w}&{lts}&emails=x@y.z,{email}"));
        assert!(!by_mail.is_empty() && by_mail.iter().all(|c| c["email"] == email));
    }

    let msgs = server.expected(Stream::Messages, a, a + Duration::days(25));
    let chat = msgs[10]["chat"].clone();
    let (m, _) = walk(&server, &format!("/messages?{w}&{lts}&chat-id={}", chat["chatId"].as_str().unwrap()));
    let want: Vec<_> = msgs.iter().filter(|x| x["chat"]["chatId"] == chat["chatId"]).cloned().collect();
    assert_eq!(m, want);
    let (m2, _) = walk(
        &server,
        &format!(
            "/messages?{w}&{lts}&channel-id={}&contact-id={}",
            chat["channelId"].as_str().unwrap(),
            chat["contactId"].as_str().unwrap()
        ),
    );
    assert_eq!(m2, want);
    let (wc, _) = walk(&server, &format!("/messages?{w}&{lts}&chat-platform=webchat&limit=1500"));
    assert!(!wc.is_empty() && wc.iter().all(|x| x["chat"]["channelId"] == "mockbiz-webchat-main"));

    let (online, _) = walk(&server, "/agents?online=true");
    let (offline, _) = walk(&server, "/agents?online=false");
    assert!(online.iter().all(|x| x["isOnline"] == true));
    assert!(offline.iter().all(|x| x["isOnline"] == false));
    assert_eq!(online.len() + offline.len(), server.count_all(Stream::Agents) as usize);
    let e1 = offline[0]["email"].as_str().unwrap();
    let e2 = offline[1]["email"].as_str().unwrap();
    let (two, _) = walk(&server, &format!("/agents?emails={e1}&emails={e2}"));
    assert_eq!(two.len(), 2);
    let (two, _) = walk(&server, &format!("/agents?emails={e1},{e2}"));
    assert_eq!(two.len(), 2);

    let v = api(&server, "/channels?platform=whatsapp").json();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let v = api(&server, "/channels?active=false").json();
    assert_eq!(v["items"][0]["platform"], "instagram");
    let (bsuid, _) = walk(&server, "/contacts?has-whastapp-bsuid=true");
    assert!(!bsuid.is_empty());
    assert!(bsuid.iter().all(|c| !c["whatsappBsuids"].as_array().unwrap().is_empty()));
    let (tg, _) = walk(&server, "/contacts?platform=telegram");
    assert!(!tg.is_empty());
    assert!(tg.iter().all(|c| c["chats"][0]["chatChannelId"] == "mockbiz-telegram-mockbiz_bot"));
    let (ig, _) = walk(&server, "/contacts?platform=instagram_chat");
    assert!(!ig.is_empty());
}

#[test]
fn sessions_precision_and_includes() {
    let server = server(1000);
    let a = server.data_start() + Duration::days(2);
    let w = format!("from={}&to={}&long-term-search=true", q(a), q(a + Duration::days(3)));
    let plain = api(&server, &format!("/sessions?{w}")).json();
    let items = plain["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for s in items {
        let t = s["creationTime"].as_str().unwrap();
        assert_eq!(t.len(), 20, "seconds precision: {t}");
        for k in ["messages", "events", "aiAnalysis"] {
            assert!(s.get(k).is_none(), "{k} present without include");
        }
        assert!(s["chat"].get("variables").is_none());
        assert!(s["chat"].get("listMessagesURL").is_none());
        let id = s["id"].as_str().unwrap();
        assert!(id.starts_with(&format!("{}_", s["chat"]["chat"]["chatId"].as_str().unwrap())));
    }
    let ms = api(&server, &format!("/sessions?{w}&timestamp-precision=milliseconds")).json();
    for s in ms["items"].as_array().unwrap() {
        let t = s["creationTime"].as_str().unwrap();
        assert_eq!(t.len(), 24, "millisecond precision: {t}");
    }
    assert_eq!(ms["items"], Value::Array(server.expected(Stream::Sessions, a, a + Duration::days(3))));
    let full = api(
        &server,
        &format!(
            "/sessions?{w}&include-messages=true&include-events=true&include-ai-analysis=true&include-variables=true"
        ),
    )
    .json();
    let events = [
        "conversation-close",
        "notification-read",
        "notification-error",
        "notification-delivered",
        "go-to",
        "url-click",
        "user-note",
        "find-intent",
        "set-variable",
        "bot-change",
        "queue-set",
        "agent-action",
        "blacklist-word-found",
        "unassigned-agent",
        "assigned-to-agent",
        "blocked-content-message",
        "notification-sent",
    ];
    for s in full["items"].as_array().unwrap() {
        let id = &s["id"];
        assert!(s["chat"]["variables"].is_object());
        let msgs = s["messages"].as_array().unwrap();
        assert!(msgs.len() >= 2 && msgs.iter().all(|m| &m["sessionId"] == id));
        let evs = s["events"].as_array().unwrap();
        assert!(evs.iter().all(|e| events.contains(&e["name"].as_str().unwrap())));
        assert_eq!(evs.last().unwrap()["name"], "conversation-close");
        let ai = &s["aiAnalysis"];
        assert!(ai["aspectScores"]["clarity"]["result"].is_i64());
        assert!(ai["aspectScores"]["clarity"]["weight"].is_i64());
        assert!(ai["qualityScore"].is_i64());
    }
}

#[test]
fn tickets_newest_first_with_days_before_now() {
    let server = server(2000);
    let now = Utc::now();
    let v = api(&server, "/tickets?daysBeforeNow=3&limit=500").json();
    let total = v["total"].as_u64().unwrap();
    let list = v["tickets"].as_array().unwrap();
    assert_eq!(list.len() as u64, total.min(500));
    let expect = server.count(Stream::Tickets, now - Duration::days(3), now + Duration::days(1));
    assert!((total as i64 - expect as i64).abs() <= 1, "{total} vs {expect}");
    let times: Vec<_> = list.iter().map(|t| parse_time(&t["creationTime"])).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(times.iter().all(|t| *t >= now - Duration::days(3) - Duration::seconds(5)));
    let v = api(&server, "/tickets").json();
    assert_eq!(v["tickets"].as_array().unwrap().len(), 50);
    assert_eq!(v["total"].as_u64(), Some(2000));
    let v = api(&server, "/tickets?offset=2000").json();
    assert_eq!(v["tickets"].as_array().unwrap().len(), 0);
    let v = api(&server, "/tickets?offset=1990&limit=500").json();
    assert_eq!(v["tickets"].as_array().unwrap().len(), 10);
    let v = api(&server, "/tickets?daysBeforeNow=2147483647").json();
    assert_eq!(v["total"].as_u64(), Some(2000));
    let t = &v["tickets"][0];
    assert_eq!(t.as_object().unwrap().len(), 24, "all 24 ticket fields");
    for k in ["lastModificationBy", "assignedTo", "finishedSlasMetrics", "chatIds"] {
        assert!(t[k].is_object(), "{k}");
    }
    for k in ["followBy", "waitingQueueIds", "attachments", "fieldValues"] {
        assert!(t[k].is_array(), "{k}");
    }
    assert!(t["companyId"].is_i64() && t["authorId"].is_i64());
}

#[test]
fn records_are_consistent_and_realistic() {
    let server = server(2000);
    let base = server.base_url();
    let chats = server.expected_all(Stream::Chats);
    let mut without_lum = 0;
    for c in &chats {
        let id = pk(Stream::Chats, c);
        let la = server.chat_last_activity(&id).unwrap();
        match c.get("lastUserMessageDatetime") {
            Some(t) => assert!(parse_time(t) <= la),
            None => without_lum += 1,
        }
        assert!(c["listMessagesURL"].as_str().unwrap().starts_with(&base));
        assert!(c["variables"].is_object());
    }
    assert!(without_lum > 5 && without_lum < 200, "{without_lum}");
    let chat_ids: HashSet<_> = chats.iter().map(|c| pk(Stream::Chats, c)).collect();
    for m in server.expected_all(Stream::Messages) {
        let sid = format!("{}_{}", m["chat"]["chatId"].as_str().unwrap(), m["sessionCreationTime"].as_str().unwrap());
        assert_eq!(m["sessionId"].as_str().unwrap(), sid);
        assert!(chat_ids.contains(m["chat"]["chatId"].as_str().unwrap()));
        assert!(parse_time(&m["sessionCreationTime"]) <= parse_time(&m["creationTime"]));
        if m["from"] == "agent" {
            assert!(m["agentId"].is_string());
        }
    }
    let channels = api(&server, "/channels").json();
    let text = channels.to_string();
    assert!(text.contains("telegram-bot-secret"));
    assert!(text.contains("webhook-secret"));
    let wh = channels["items"].as_array().unwrap().iter().find(|c| c["platform"] == "webhook").unwrap();
    assert!(wh["webhook"]["url"].is_string() && wh["webhook"]["token"].is_string());
    // Same seed and anchor, same data; another seed, other ids.
    let mut c = MockConfig::with_scale(50);
    c.anchor = Some(server.anchor());
    let s1 = MockServer::start(c.clone()).unwrap();
    let s2 = MockServer::start(c.clone()).unwrap();
    c.seed = 43;
    let s3 = MockServer::start(c).unwrap();
    let strip = |v: Vec<Value>| -> Vec<String> { v.iter().map(|x| pk(Stream::Messages, x)).collect() };
    assert_eq!(strip(s1.expected_all(Stream::Messages)), strip(s2.expected_all(Stream::Messages)));
    assert_ne!(strip(s1.expected_all(Stream::Messages)), strip(s3.expected_all(Stream::Messages)));
}
