//! API readings other than the mock's own ([`Variants`]): each switch changes what is served as
//! described, following the pages still yields exactly the canonical records (compared as
//! instants and numbers where the switch changes their text), and switched off the mock serves
//! what it always did.

use std::collections::HashSet;

use crate::common::*;
use botmaker_mock::{
    canonical_timestamp, semantically_equal, ExtendedCounts, MockConfig, MockServer, NextPageKey, Stream, StreamCounts,
    TimestampShape, Variants,
};
use chrono::{DateTime, Datelike, Duration, Months, TimeZone, Utc};
use serde_json::Value;

const WINDOWED: [Stream; 8] = [
    Stream::Chats,
    Stream::Messages,
    Stream::Sessions,
    Stream::Calls,
    Stream::AgentMetrics,
    Stream::AgentPerformance,
    Stream::NotificationResults,
    Stream::BilledConversations,
];
const PAGED: [Stream; 14] = [
    Stream::Chats,
    Stream::Messages,
    Stream::Sessions,
    Stream::Calls,
    Stream::Contacts,
    Stream::Agents,
    Stream::Intents,
    Stream::Campaigns,
    Stream::Roles,
    Stream::ContactsBlacklist,
    Stream::AgentMetrics,
    Stream::AgentPerformance,
    Stream::NotificationResults,
    Stream::BilledConversations,
];

/// A 20-day span (one window reads it all; the billing month read has at least half of it).
fn configure(c: &mut MockConfig, variants: Variants) {
    c.counts = StreamCounts::with_scale(1200).with(Stream::Agents, 450).with(Stream::Intents, 450);
    c.extended_counts = ExtendedCounts::with_scale(1200);
    c.span_days = 20;
    c.variants = variants;
}

fn server_with(variants: Variants) -> MockServer {
    start_with(|c| configure(c, variants))
}

/// [`server_with`], with several pages on every paginated endpoint.
fn paged_server_with(variants: Variants) -> MockServer {
    start_with(|c| {
        configure(c, variants);
        for (s, n) in [
            (Stream::Campaigns, 600),
            (Stream::Roles, 120),
            (Stream::ContactsBlacklist, 2_500),
            (Stream::AgentMetrics, 10_001),
            (Stream::AgentPerformance, 10_001),
            (Stream::NotificationResults, 1_201),
            (Stream::BilledConversations, 10_002),
        ] {
            c.set_count(s, n);
        }
    })
}

/// The first day of the billing month read: the one holding the middle of the span.
fn billing_month(server: &MockServer) -> DateTime<Utc> {
    let mid = server.anchor() - Duration::days(10);
    Utc.with_ymd_and_hms(mid.year(), mid.month(), 1, 0, 0, 0).unwrap()
}

/// The first page of a full read of `s`.
fn full_read(server: &MockServer, s: Stream) -> String {
    match s {
        Stream::BilledConversations => format!("/{}?billingPeriod={}", s.path(), billing_month(server).format("%Y-%m")),
        _ if WINDOWED.contains(&s) => window_query(s, server.data_start(), server.anchor()),
        _ => format!("/{}", s.path()),
    }
}

fn canonical(server: &MockServer, s: Stream) -> Vec<Value> {
    match s {
        Stream::BilledConversations => {
            let month = billing_month(server);
            server.expected(s, month, month.checked_add_months(Months::new(1)).unwrap())
        }
        _ => server.expected(s, server.data_start(), server.anchor()),
    }
}

/// `served` is `canonical` record for record, compared semantically.
fn assert_same_records(s: Stream, served: &[Value], canonical: &[Value]) {
    assert_eq!(served.len(), canonical.len(), "{s}: record count");
    for (a, b) in served.iter().zip(canonical) {
        assert!(semantically_equal(a, b), "{s}: served\n{a}\nis not\n{b}");
    }
}

#[test]
fn empty_pages_mid_list_are_followed_to_every_record_once() {
    for every in [1, 3] {
        let server = paged_server_with(Variants { empty_pages_every: every, ..Variants::default() });
        for s in PAGED {
            let pages = walk_pages(&server, &full_read(&server, s));
            let empty_with_link = pages.iter().filter(|p| page_items(p).is_empty() && next_link(p).is_some()).count();
            let data_pages = pages.len() - empty_with_link;
            assert!(data_pages >= 3, "{s}: several pages ({data_pages})");
            // One empty page after every `every`th page that has a successor.
            assert_eq!(empty_with_link, (data_pages - 1) / every as usize, "{s} every {every}");
            let items: Vec<Value> = pages.iter().flat_map(|p| page_items(p).clone()).collect();
            assert_eq!(items, canonical(&server, s), "{s}: the records, byte for byte");
            let keys: HashSet<String> = items.iter().map(|i| pk(s, i)).collect();
            assert_eq!(keys.len(), items.len(), "{s}: no duplicates");
        }
    }
}

#[test]
fn next_page_key_can_be_renamed_for_all_or_one_endpoint() {
    for key in [NextPageKey::NextPageURL, NextPageKey::NextPageUrl] {
        let server = paged_server_with(Variants { next_page_key: key, ..Variants::default() });
        for s in PAGED {
            let pages = walk_pages(&server, &full_read(&server, s));
            assert!(pages.len() >= 3, "{s}");
            for p in &pages {
                let o = p.as_object().unwrap();
                for other in NEXT_PAGE_KEYS.iter().filter(|k| **k != key.as_str()) {
                    assert!(!o.contains_key(*other), "{s}: {other} in {}", Value::Object(o.clone()));
                }
            }
            // Every page but the last links on under the new key; /contacts still hands out a
            // bare token.
            for p in &pages[..pages.len() - 1] {
                let link = p[key.as_str()].as_str().unwrap();
                assert_eq!(link.starts_with("http://"), s != Stream::Contacts, "{s}: {link}");
            }
            let items: Vec<Value> = pages.iter().flat_map(|p| page_items(p).clone()).collect();
            assert_eq!(items, canonical(&server, s), "{s}");
        }
        // The last page's end marker moves too.
        let last = walk_pages(&server, &full_read(&server, Stream::Chats)).pop().unwrap();
        assert_eq!(last[key.as_str()], Value::Null);
    }
    let v = Variants { next_page_key_for: vec![(Stream::Intents, NextPageKey::NextPageURL)], ..Variants::default() };
    let server = server_with(v);
    assert!(api(&server, "/intents").json()["nextPageURL"].is_string());
    assert!(api(&server, "/agents").json()["nextPage"].is_string());
}

#[test]
fn numbers_as_strings_and_strings_as_numbers() {
    let server = server_with(Variants { numbers_as_strings: true, ..Variants::default() });
    let tickets = api(&server, "/tickets?limit=500").json()["tickets"].as_array().unwrap().clone();
    assert!(!tickets.is_empty());
    for t in &tickets {
        assert!(t["companyId"].as_str().is_some_and(|v| v.parse::<i64>().is_ok()), "{t}");
        assert!(t["authorId"].is_string(), "{t}");
        assert!(t["followBy"].as_array().unwrap().iter().all(Value::is_string), "{t}");
    }
    assert!(tickets.iter().any(|t| !t["followBy"].as_array().unwrap().is_empty()));
    let agents = walk(&server, "/agents").0;
    assert!(agents.iter().all(|a| a["slots"].is_string()));
    assert_same_records(Stream::Agents, &agents, &server.expected_all(Stream::Agents));
    let channels = walk(&server, "/channels").0;
    assert!(channels.iter().any(|c| c["daysToExpire"].is_string()));
    assert_same_records(Stream::Channels, &channels, &server.expected_all(Stream::Channels));
    let mut newest_first = server.expected_all(Stream::Tickets);
    newest_first.reverse();
    assert_same_records(Stream::Tickets, &tickets, &newest_first[..tickets.len()]);

    let roles = walk(&server, "/roles").0;
    assert!(roles.iter().all(|r| r["slots"].is_string()));
    assert_same_records(Stream::Roles, &roles, &server.expected_all(Stream::Roles));
    let s = Stream::NotificationResults;
    let results = walk(&server, &full_read(&server, s)).0;
    assert!(results.iter().all(|r| r["details"]["sent"].is_string() && r["details"]["error"].is_string()));
    assert_same_records(s, &results, &canonical(&server, s));

    let server = server_with(Variants { strings_as_numbers: true, ..Variants::default() });
    for s in [Stream::Chats, Stream::Messages, Stream::Sessions, Stream::Calls] {
        let served = walk(&server, &full_read(&server, s)).0;
        assert_same_records(s, &served, &canonical(&server, s));
        // Sessions nest the chat reference one level deeper.
        let contact = |r: &Value| {
            if s == Stream::Sessions {
                r["chat"]["chat"]["contactId"].clone()
            } else {
                r["chat"]["contactId"].clone()
            }
        };
        let numeric = served.iter().filter(|r| contact(r).is_number()).count();
        let textual = served.iter().filter(|r| contact(r).is_string()).count();
        // WhatsApp and Messenger contacts are integers; webchat ones and Instagram's 17 digits
        // (beyond 2^53) stay strings.
        assert!(numeric > 0 && textual > 0, "{s}: {numeric} numeric, {textual} strings");
    }
    let channels = walk(&server, "/channels").0;
    let whatsapp = channels.iter().find(|c| c["platform"] == "whatsapp").unwrap();
    assert_eq!(whatsapp["number"], serde_json::json!(5_491_147_038_000i64));
    assert_eq!(whatsapp["wabaId"], serde_json::json!(104_857_600_123_456i64));
    assert_same_records(Stream::Channels, &channels, &server.expected_all(Stream::Channels));
    // Agent-metric counters become numbers; "-" and "" (no value) stay strings.
    let s = Stream::AgentMetrics;
    let metrics = walk(&server, &full_read(&server, s)).0;
    assert_same_records(s, &metrics, &canonical(&server, s));
    let values: Vec<&Value> = metrics.iter().map(|m| &m["avgResponseTime"]).collect();
    assert!(values.iter().any(|v| v.is_i64()) && values.iter().any(|v| **v == "-"), "{values:?}");
    assert!(metrics.iter().any(|m| m.as_object().unwrap().values().any(|v| v == "")));
    for s in [Stream::WhatsappAccounts, Stream::WhatsappTemplates, Stream::ContactsBlacklist, Stream::Variables] {
        let served = walk(&server, &full_read(&server, s)).0;
        assert_same_records(s, &served, &server.expected_all(s));
    }
    let accounts = walk(&server, "/whatsapp/accounts").0;
    assert!(accounts.iter().all(|a| a["number"].is_i64() && a["wabaId"].is_i64()));
    assert!(walk(&server, "/notifications/contacts-blacklist").0.iter().all(Value::is_i64));
    let s = Stream::BilledConversations;
    let billed = walk(&server, &full_read(&server, s)).0;
    assert!(billed.iter().all(|b| b["phoneNumber"].is_i64() && b["userPhoneNumber"].is_i64()));
    assert_same_records(s, &billed, &canonical(&server, s));
}

/// Every timestamp-looking value of a served record, by its JSON type.
fn time_values<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                // Agent-metric counters like `avgAttendingTime` are durations, not times.
                let counter = k.starts_with("avg") || k.ends_with("ResponseTime");
                let suffix = ["Time", "Datetime", "Since", "Date", "Ts", "timestamp"].iter().any(|w| k.ends_with(w));
                let named =
                    ["firstAnswer", "resolveDate", "lastStateModification", "start", "end", "checkin", "checkout"];
                let named_time = (suffix && !counter) || named.contains(&k.as_str());
                if named_time && !x.is_object() && !x.is_array() && x != "" {
                    out.push(x);
                } else {
                    time_values(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| time_values(x, out)),
        _ => {}
    }
}

#[test]
fn timestamps_in_other_shapes_carry_the_same_instants() {
    for shape in TimestampShape::ALTERNATIVES {
        let server = server_with(Variants { timestamps: shape, ..Variants::default() });
        let mut seen_types = HashSet::new();
        for s in WINDOWED {
            let served = walk(&server, &full_read(&server, s)).0;
            assert_same_records(s, &served, &canonical(&server, s));
            let mut times = vec![];
            served.iter().for_each(|r| time_values(r, &mut times));
            assert!(times.len() >= served.len(), "{s}: the cursor field at least");
            for t in times {
                assert!(canonical_timestamp(t).is_some(), "{s} {shape:?}: {t}");
                let shaped = match shape {
                    TimestampShape::EpochMillis => t.as_i64().is_some_and(|n| n > 1_000_000_000_000),
                    TimestampShape::EpochSeconds => t.as_f64().is_some_and(|n| n < 1e11),
                    TimestampShape::ZoneLess => t.as_str().is_some_and(|x| x.contains('T') && !x.ends_with('Z')),
                    TimestampShape::SpaceSeparated => t.as_str().is_some_and(|x| x.contains(' ') && x.ends_with('Z')),
                    _ => true,
                };
                assert!(shaped, "{s} {shape:?}: {t}");
                seen_types.insert(match t {
                    Value::Number(_) => "number",
                    Value::String(x) if x.ends_with('Z') && x.contains('T') => "rfc3339",
                    _ => "other string",
                });
            }
        }
        if shape == TimestampShape::Mixed {
            assert_eq!(seen_types.len(), 3, "mixed shapes: {seen_types:?}");
        }
        let tickets = api(&server, "/tickets?limit=5").json();
        assert!(
            !tickets["tickets"][0]["creationTime"].as_str().is_some_and(|x| x.ends_with('Z') && x.contains('T'))
                || shape == TimestampShape::Mixed
        );
        // Full-refresh endpoints keep the documented form.
        let agent = &walk(&server, "/agents").0[0];
        assert!(agent["creationTime"].as_str().unwrap().ends_with('Z'));
    }
}

#[test]
fn long_term_search_required_on_every_request() {
    let server = server_with(Variants { lts_required: Variants::LTS_REQUIRED.to_vec(), ..Variants::default() });
    let recent = |s: Stream, lts: bool| {
        let to = server.anchor();
        let from = to - Duration::hours(6);
        let extra = if lts { "&long-term-search=true" } else { "" };
        api(&server, &format!("/{}?from={}&to={}{extra}", s.name(), q(from), q(to)))
    };
    for s in Variants::LTS_REQUIRED {
        let r = recent(s, false);
        assert_eq!(r.status, 400, "{s}: a recent window too");
        assert_eq!(r.error_type(), "LONG_TERM_SEARCH_PARAM_REQUIRED");
        assert_eq!(r.json()["errors"][0]["source"], "long-term-search");
        assert!(r.json()["errors"][0]["message"].as_str().unwrap().contains("LONG_TERM_SEARCH_PARAM_REQUIRED"));
        assert_eq!(recent(s, true).status, 200);
        // Walking with it yields everything, as without the switch.
        let served = walk(&server, &full_read(&server, s)).0;
        assert_eq!(served, canonical(&server, s));
    }
    for s in [Stream::Messages, Stream::Calls] {
        assert_eq!(recent(s, false).status, 200, "{s} is not in the list");
    }
    // Switched at runtime, e.g. mid-sync.
    server.set_variants(Variants { lts_required: vec![Stream::Calls], ..Variants::default() });
    assert_eq!(recent(Stream::Calls, false).status, 400);
    assert_eq!(recent(Stream::Chats, false).status, 200);
    assert_eq!(server.variants().lts_required, vec![Stream::Calls]);
    server.set_variants(Variants::none());
    assert_eq!(recent(Stream::Calls, false).status, 200);
}

#[test]
fn switches_naming_endpoints_they_cannot_apply_to_are_refused() {
    let mut c = MockConfig::with_scale(10);
    c.variants.lts_required = vec![Stream::Agents];
    let e = MockServer::start(c).unwrap_err().to_string();
    assert!(e.contains("lts_required") && e.contains("agents"), "{e}");
    let mut c = MockConfig::with_scale(10);
    c.variants.no_recent_window = vec![Stream::Tickets];
    assert!(MockServer::start(c).is_err());
    let server = server(10);
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        server.set_variants(Variants { no_recent_window: vec![Stream::Channels], ..Variants::default() })
    }));
    assert!(refused.is_err());
}

#[test]
fn an_endpoint_without_recent_window_serves_its_whole_history() {
    let old = |server: &MockServer, s: Stream| {
        let from = server.data_start();
        let to = from + Duration::days(5);
        let r = api(server, &format!("/{}?from={}&to={}", s.name(), q(from), q(to)));
        assert_eq!(r.status, 200, "{s}: {}", r.text());
        (r.json()["items"].as_array().unwrap().len(), server.count(s, from + ms(1), to + ms(1)))
    };
    // Default: calls older than 7 days are silently left out without long-term search.
    let server = server_with(Variants::default());
    assert_eq!(old(&server, Stream::Calls).0, 0);
    let server = server_with(Variants { no_recent_window: Variants::NO_RECENT_WINDOW.to_vec(), ..Variants::default() });
    let (got, expected) = old(&server, Stream::Calls);
    assert!(got > 0 && got as u64 == expected.min(250), "{got} of {expected}");
    let (items, _) = walk(&server, &format!("/calls?from={}&to={}", q(server.data_start()), q(server.anchor())));
    assert_eq!(items, server.expected(Stream::Calls, server.data_start() + ms(1), server.anchor() + ms(1)));
    // Other endpoints keep their recent window.
    assert_eq!(old(&server, Stream::Chats).0, 0);
    // /messages without a recent window answers old windows instead of refusing them.
    let server = server_with(Variants { no_recent_window: vec![Stream::Messages], ..Variants::default() });
    assert!(old(&server, Stream::Messages).0 > 0);
}
