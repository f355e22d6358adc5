//! The endpoints beyond the core nine (dashboards, notifications, WhatsApp templates and
//! accounts, billing, roles, variables, typifications, ticket field definitions, webhooks):
//! paging to exactly the ground truth, each window's inclusivity, parameters and filters, rate
//! limits, counts, and records added at runtime.

use std::collections::HashSet;
use std::time::Instant;

use crate::common::*;
use botmaker_mock::{MockConfig, MockServer, Stream, StreamCounts, Variants};
use chrono::{DateTime, Datelike, Duration, Utc};
use serde_json::{json, Value};

/// Enough records for several pages on every paged endpoint, over a 20-day span.
fn paged_server() -> MockServer {
    start_with(|c| {
        *c = MockConfig::with_scale(600)
            .with_count(Stream::Campaigns, 600)
            .with_count(Stream::Roles, 120)
            .with_count(Stream::ContactsBlacklist, 2_500)
            .with_count(Stream::AgentMetrics, 10_001)
            .with_count(Stream::AgentPerformance, 10_001)
            .with_count(Stream::NotificationResults, 1_201)
            .with_count(Stream::BilledConversations, 6_000);
        c.rate_limits = false;
        c.anchor = Some(anchor_now());
        c.span_days = 20;
    })
}

fn assert_unique(s: Stream, items: &[Value]) {
    let keys: HashSet<String> = items.iter().map(|i| pk(s, i)).collect();
    assert_eq!(keys.len(), items.len(), "{s}: duplicates");
}

/// A record's filter time.
fn time_of(s: Stream, v: &Value) -> DateTime<Utc> {
    let field = match s {
        Stream::AgentMetrics => "sessionCreationTime",
        Stream::AgentPerformance => "checkin",
        Stream::NotificationResults => "start",
        _ => "startDatetime",
    };
    parse_time(&v[field])
}

#[test]
fn paged_lists_walk_to_exactly_the_ground_truth() {
    let server = paged_server();
    for (s, pages) in [(Stream::Campaigns, 3), (Stream::Roles, 3), (Stream::ContactsBlacklist, 3)] {
        let walked = walk_pages(&server, &format!("/{}", s.path()));
        assert_eq!(walked.len(), pages, "{s}");
        let items: Vec<Value> = walked.iter().flat_map(|p| page_items(p).clone()).collect();
        assert_eq!(items, server.expected_all(s), "{s}");
        assert_eq!(items.len() as u64, server.count_all(s));
        assert_unique(s, &items);
    }
    for s in [
        Stream::WhatsappTemplates,
        Stream::WhatsappAccounts,
        Stream::Variables,
        Stream::Typifications,
        Stream::Webhooks,
    ] {
        let pages = walk_pages(&server, &format!("/{}", s.path()));
        assert_eq!(pages.len(), 1, "{s}: one response");
        assert!(pages[0].as_object().unwrap().keys().all(|k| LIST_KEYS.contains(&k.as_str())), "{s}: no next page");
        assert_eq!(page_items(&pages[0]), &server.expected_all(s), "{s}");
    }
    // The last page of the blacklist ends with an empty string.
    let last = walk_pages(&server, "/notifications/contacts-blacklist").pop().unwrap();
    assert_eq!(last["nextPage"], "");
}

#[test]
fn windowed_endpoints_walk_to_exactly_the_ground_truth() {
    let server = paged_server();
    let (a, b) = (server.data_start(), server.anchor());
    for s in [Stream::AgentMetrics, Stream::AgentPerformance, Stream::NotificationResults] {
        let (items, pages) = walk(&server, &window_query(s, a, b));
        assert!(pages >= 3, "{s}: {pages} pages");
        assert_eq!(items, server.expected(s, a, b), "{s}");
        assert_unique(s, &items);
        // Newest first for sent results, oldest first otherwise.
        let times: Vec<DateTime<Utc>> = items.iter().map(|i| time_of(s, i)).collect();
        let ordered =
            times.windows(2).all(|w| if s == Stream::NotificationResults { w[0] > w[1] } else { w[0] < w[1] });
        assert!(ordered, "{s}: order");
        // Adjacent windows split it without gaps or overlaps.
        let mid = a + Duration::days(7) + ms(1);
        let parts = [walk(&server, &window_query(s, a, mid)).0, walk(&server, &window_query(s, mid, b)).0];
        assert_eq!(parts[0], server.expected(s, a, mid));
        assert_eq!(parts[1], server.expected(s, mid, b));
        assert_eq!(parts[0].len() + parts[1].len(), items.len(), "{s}");
        assert_eq!(server.count(s, a, mid) as usize, parts[0].len());
    }
    let s = Stream::BilledConversations;
    let mut items = vec![];
    for month in billed_months(a, b) {
        let (got, _) = walk(&server, &format!("/{}?billingPeriod={month}", s.path()));
        assert!(got.iter().all(|i| i["startDatetime"].as_str().unwrap().starts_with(&month)), "{month}");
        items.extend(got);
    }
    assert!(items.len() > 2500, "several pages");
    assert_eq!(items, server.expected(s, a, b));
    assert_unique(s, &items);
}

#[test]
fn inclusivity_of_each_window() {
    let server = paged_server();
    let (a, b) = (server.data_start() + Duration::days(3), server.data_start() + Duration::days(5));
    // (stream, from-inclusive, to-inclusive) as documented in the README.
    for (s, from_incl, to_incl) in [
        (Stream::AgentMetrics, true, false),
        (Stream::AgentPerformance, true, false),
        (Stream::NotificationResults, true, true),
    ] {
        let truth = server.expected(s, a, b);
        let rec = &truth[truth.len() / 2];
        let (id, t) = (pk(s, rec), time_of(s, rec));
        let present = |from: DateTime<Utc>, to: DateTime<Utc>| {
            let url = format!("/{}?from={}&to={}&session-status=closed", s.path(), q(from), q(to));
            walk(&server, &url).0.iter().any(|i| pk(s, i) == id)
        };
        let h = Duration::hours(1);
        assert_eq!(present(t, t + h), from_incl, "{s} from == t");
        assert_eq!(present(t - h, t), to_incl, "{s} to == t");
        assert!(present(t - ms(1), t + ms(1)), "{s} around t");
        assert!(!present(t + ms(1), t + h), "{s} after t");
    }
    // Billing months: the first instant of a month belongs to it.
    let month = billed_months(a, a)[0].clone();
    let start = DateTime::parse_from_rfc3339(&format!("{month}-01T00:00:00Z")).unwrap().with_timezone(&Utc);
    let rec = json!({
        "startDatetime": "PLACEHOLDER", "wabaId": "104857600123456", "businessId": "mockbiz", "phoneNumber": "5491147038000",
        "country": "AR", "userPhoneNumber": "5491100000000", "whatsappConversationId": "EDGE-OF-MONTH",
        "customerId": "X", "linkToChat": "https://go.botmaker.com/#/chats/X", "origin": "user-initiated",
    });
    for (at, in_month) in [(start, true), (start - ms(1), false)] {
        let mut r = rec.clone();
        r["startDatetime"] = json!(q(at));
        server.add_records(Stream::BilledConversations, vec![r]);
        let (items, _) = walk(&server, &format!("/billing/whatsapp/billed-conversations?billingPeriod={month}"));
        assert_eq!(items.iter().any(|i| i["whatsappConversationId"] == "EDGE-OF-MONTH"), in_month, "{at}");
    }
}

/// 400 with this error type and source.
fn assert_rejected(server: &MockServer, path: &str, typ: &str, source: &str) {
    let r = api(server, path);
    assert_eq!(r.status, 400, "{path}: {}", r.text());
    assert_eq!(r.error_type(), typ, "{path}");
    assert_eq!(r.json()["errors"][0]["source"], source, "{path}");
}

#[test]
fn dashboards_parameters() {
    let server = paged_server();
    let now = Utc::now();
    let w = |from: DateTime<Utc>, to: DateTime<Utc>| format!("from={}&to={}", q(from), q(to));
    let day = w(now - Duration::days(3), now - Duration::days(2));
    let m = "/dashboards/agent-metrics";
    assert_rejected(&server, &format!("{m}?{day}"), "INVALID_PARAMETER", "session-status");
    assert_rejected(&server, &format!("{m}?{day}&session-status=both"), "INVALID_PARAMETER", "session-status");
    assert_rejected(
        &server,
        &format!("{m}?{day}&session-status=closed&online-status=away"),
        "INVALID_PARAMETER",
        "online-status",
    );
    assert_rejected(&server, &format!("{m}?to={}&session-status=closed", q(now)), "INVALID_PARAMETER", "from");
    let long = w(now - Duration::days(40), now);
    assert_rejected(&server, &format!("{m}?{long}&session-status=closed"), "INVALID_DATETIME_INTERVAL", "from");
    assert_rejected(&server, &format!("/dashboards/agent-performance?{long}"), "INVALID_DATETIME_INTERVAL", "from");
    assert_rejected(&server, &format!("/dashboards/agent-performance?to={}", q(now)), "INVALID_PARAMETER", "from");
    // Open conversations: none in the mock's dashboards.
    assert_eq!(api(&server, &format!("{m}?{day}&session-status=open")).json(), json!({"items": []}));
    // Without from/to: the last hour.
    let hour = walk(&server, &format!("{m}?session-status=Closed")).0;
    let truth = server.expected(Stream::AgentMetrics, now - Duration::hours(1) - Duration::seconds(5), now);
    assert!(hour.len() <= truth.len() && hour.len() + 2 >= truth.len(), "{} vs {}", hour.len(), truth.len());

    let all = walk(&server, &format!("{m}?{day}&session-status=closed")).0;
    assert!(all.len() > 100);
    let agent = all[0]["agentId"].as_str().unwrap();
    let queue = all[0]["queue"].as_str().unwrap();
    let filtered = |extra: &str| walk(&server, &format!("{m}?{day}&session-status=closed&{extra}")).0;
    let by_agent = filtered(&format!("agent-ids={agent}"));
    assert_eq!(by_agent, all.iter().filter(|i| i["agentId"] == agent).cloned().collect::<Vec<_>>());
    let by_queue = filtered(&format!("queues={queue}&queues=nope"));
    assert_eq!(by_queue, all.iter().filter(|i| i["queue"] == queue).cloned().collect::<Vec<_>>());
    let online = filtered("online-status=online").len();
    let offline = filtered("online-status=offline").len();
    assert_eq!(online + offline, all.len());
    assert!(online > 0 && offline > 0);
    let whatsapp = filtered("channel-ids=mockbiz-whatsapp-5491147038000").len();
    assert_eq!(filtered("channel-ids=5491147038000").len(), whatsapp, "a line number names its channel");
    assert!(whatsapp > 0 && whatsapp < all.len());

    let p = "/dashboards/agent-performance";
    let all = walk(&server, &format!("{p}?{day}")).0;
    let email = all[0]["agentEmail"].as_str().unwrap();
    let agent_id = walk(&server, "/agents").0.into_iter().find(|a| a["email"] == email).unwrap()["id"].clone();
    let mine = walk(&server, &format!("{p}?{day}&operatorsIds={}", agent_id.as_str().unwrap())).0;
    assert_eq!(mine, all.iter().filter(|i| i["agentEmail"] == email).cloned().collect::<Vec<_>>());
    // Documented but not narrowing.
    assert_eq!(walk(&server, &format!("{p}?{day}&groups=Equipo%20A&includeSubgroups=true")).0, all);
}

#[test]
fn sent_results_parameters() {
    let server = paged_server();
    let now = Utc::now();
    let s = "/notifications/sent-results";
    assert_rejected(&server, s, "INVALID_PARAMETER", "from");
    let old = q(now - Duration::days(95));
    assert_rejected(&server, &format!("{s}?from={old}"), "INVALID_DATETIME_INTERVAL", "from");
    // `to` defaults to a day ago.
    let from = server.data_start();
    let (items, _) = walk(&server, &format!("{s}?from={}", q(from)));
    let latest = items.iter().map(|i| time_of(Stream::NotificationResults, i)).max().unwrap();
    assert!(latest <= now - Duration::days(1) && latest > now - Duration::days(2), "{latest}");
    // By name: every sending of it, whatever the dates say.
    let name = "Encuesta \"NPS\"";
    let encoded = "Encuesta%20%22NPS%22";
    let (named, _) = walk(&server, &format!("{s}?notification-name={encoded}&from=2001-01-01T00:00:00Z"));
    let truth: Vec<Value> = server
        .expected_all(Stream::NotificationResults)
        .into_iter()
        .filter(|i| i["notificationName"] == name)
        .collect();
    assert!(named.len() > 100);
    assert_eq!(named, truth);
    let r = api(&server, &format!("{s}?notification-name=Nunca%20enviada"));
    assert_eq!(r.status, 404);
    assert_eq!(r.error_type(), "NOT_FOUND");
}

#[test]
fn billing_parameters() {
    let server = paged_server();
    let b = "/billing/whatsapp/billed-conversations";
    for bad in ["12-2023", "2023-13", "last-month"] {
        assert_rejected(&server, &format!("{b}?billingPeriod={bad}"), "INVALID_PARAMETER", "billingPeriod");
    }
    let now = Utc::now();
    let month = format!("{}-{:02}", now.year(), now.month());
    let this_month = walk(&server, &format!("{b}?billingPeriod={month}")).0;
    assert_eq!(walk(&server, b).0, this_month, "the current month by default");
    let as_datetime = format!("{b}?billingPeriod={}-15T10:00:00Z", month);
    assert_eq!(walk(&server, &as_datetime).0, this_month, "a date-time names its month");
    assert_eq!(walk(&server, &format!("{b}?billingPeriod={month}&businessId=mockbiz")).0, this_month);
    assert!(walk(&server, &format!("{b}?billingPeriod={month}&businessId=other")).0.is_empty());
}

#[test]
fn configuration_lists_parameters() {
    let server = start_with(|c| {
        *c = MockConfig::with_scale(20_000);
        c.rate_limits = false;
        c.anchor = Some(anchor_now());
    });
    let templates = walk(&server, "/whatsapp/templates").0;
    assert!(templates.len() >= 100);
    let approved = walk(&server, "/whatsapp/templates?state=APPROVED").0;
    assert_eq!(approved, templates.iter().filter(|t| t["state"] == "APPROVED").cloned().collect::<Vec<_>>());
    assert!(approved.len() < templates.len());
    assert_rejected(&server, "/whatsapp/templates?state=PENDING", "INVALID_PARAMETER", "state");
    let vip = walk(&server, "/whatsapp/templates?queues=vip").0;
    assert_eq!(
        vip,
        templates
            .iter()
            .filter(|t| t["allowedQueues"].as_array().unwrap().contains(&json!("vip")))
            .cloned()
            .collect::<Vec<_>>()
    );
    // A template's name and locale are its key: the same name in two locales.
    let names: HashSet<&str> = templates.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len() * 2, templates.len());
    assert!(names.contains("promo_semana_v3"), "the template messages name");

    let variables = walk(&server, "/variables").0;
    let tags = walk(&server, "/variables?onlyTags=true").0;
    assert_eq!(tags, variables.iter().filter(|v| v["type"] == "tag").cloned().collect::<Vec<_>>());
    assert!(!tags.is_empty() && tags.len() < variables.len());

    let typifications = walk(&server, "/typifications").0;
    let sales = walk(&server, "/typifications?queue=sales").0;
    assert_eq!(
        sales,
        typifications
            .iter()
            .filter(|t| t["queues"].as_array().unwrap().contains(&json!("sales")))
            .cloned()
            .collect::<Vec<_>>()
    );
    let agent = &walk(&server, "/agents").0[0];
    let agent_queues = agent["queues"].as_array().unwrap().clone();
    let of_agent = walk(&server, &format!("/typifications?agent-email={}", agent["email"].as_str().unwrap())).0;
    let truth: Vec<Value> = typifications
        .iter()
        .filter(|t| t["queues"].as_array().unwrap().iter().any(|q| agent_queues.contains(q)))
        .cloned()
        .collect();
    assert_eq!(of_agent, truth);
    assert!(walk(&server, "/typifications?agent-email=nobody%40mockbiz.example").0.is_empty());

    // Webhooks carry their secret token, for the connector to strip.
    for w in walk(&server, "/webhooks").0 {
        assert!(w["token"].as_str().unwrap().contains("secret"), "{w}");
    }
}

#[test]
fn field_definitions_as_one_object_or_a_list() {
    let server = start_with(|c| c.set_count(Stream::TicketFieldDefinitions, 6));
    let all = server.expected_all(Stream::TicketFieldDefinitions);
    assert_eq!(all.len(), 6);
    assert_eq!(all[0]["id"], "fld-motivo");
    // The spec's single object: the first definition.
    assert_eq!(api(&server, "/tickets/field-definitions").json(), all[0]);
    server.set_variants(Variants { field_definitions_list: true, ..Variants::default() });
    assert_eq!(api(&server, "/tickets/field-definitions").json(), Value::Array(all.clone()));
    // The Motivo field decodes every ticket's fieldValues.
    let options: HashSet<&str> =
        all[0]["validOptions"].as_array().unwrap().iter().map(|o| o["valueId"].as_str().unwrap()).collect();
    for t in server.expected_all(Stream::Tickets) {
        let v = &t["fieldValues"][0];
        assert_eq!(v["id"], "fld-motivo");
        assert!(options.contains(v["value"][0]["valueId"].as_str().unwrap()), "{v}");
    }
    let empty = start_with(|c| c.set_count(Stream::TicketFieldDefinitions, 0));
    assert_eq!(api(&empty, "/tickets/field-definitions").json(), json!({}));
}

#[test]
fn cross_references_resolve() {
    let server = start_with(|c| {
        *c = MockConfig::with_scale(2_000);
        c.rate_limits = false;
        c.anchor = Some(anchor_now());
    });
    let (a, b) = (server.data_start(), server.anchor());
    let chats: HashSet<String> = server.expected_all(Stream::Chats).iter().map(|c| pk(Stream::Chats, c)).collect();
    let agents = server.expected_all(Stream::Agents);
    let agent_ids: HashSet<&str> = agents.iter().map(|a| a["id"].as_str().unwrap()).collect();
    let emails: HashSet<&str> = agents.iter().map(|a| a["email"].as_str().unwrap()).collect();
    let typifications: HashSet<String> = server
        .expected_all(Stream::Typifications)
        .iter()
        .map(|t| t["displayName"].as_str().unwrap().to_string())
        .collect();
    for m in server.expected(Stream::AgentMetrics, a, b) {
        assert!(chats.contains(m["chatId"].as_str().unwrap()));
        assert!(agent_ids.contains(m["agentId"].as_str().unwrap()));
        assert!(typifications.contains(m["typification"].as_str().unwrap()));
    }
    for p in server.expected(Stream::AgentPerformance, a, b) {
        assert!(emails.contains(p["agentEmail"].as_str().unwrap()));
    }
    let accounts: HashSet<String> =
        server.expected_all(Stream::WhatsappAccounts).iter().map(|a| pk(Stream::WhatsappAccounts, a)).collect();
    assert!(accounts.contains("5491147038000"), "the WhatsApp channel's line");
    for c in server.expected(Stream::BilledConversations, a, b) {
        assert!(chats.contains(c["customerId"].as_str().unwrap()));
        assert!(accounts.contains(c["phoneNumber"].as_str().unwrap()));
    }
    for t in server.expected_all(Stream::WhatsappTemplates) {
        assert!(emails.contains(t["requesterEmail"].as_str().unwrap()));
        assert!(t["phoneLinesNumbers"].as_array().unwrap().iter().all(|n| accounts.contains(n.as_str().unwrap())));
    }
    let campaigns: HashSet<String> =
        server.expected_all(Stream::Campaigns).iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    for n in server.expected(Stream::NotificationResults, a, b) {
        assert!(campaigns.contains(n["campaignName"].as_str().unwrap()));
    }
    let roles: HashSet<String> =
        server.expected_all(Stream::Roles).iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    for agent in &agents {
        let role = agent["role"].as_str().unwrap();
        assert!(role.chars().all(|c| c.is_ascii_uppercase()) || roles.contains(role), "custom role {role}");
    }
}

#[test]
fn rate_limits_as_documented() {
    let server = start_with(|c| c.rate_limits = true);
    let now = Utc::now();
    let window = format!("from={}&to={}", q(now - Duration::days(2)), q(now - Duration::days(1)));
    for (s, cap, per_second, message) in [
        (Stream::WhatsappTemplates, 1, 1.0, "Only one request per second allowed."),
        (Stream::WhatsappAccounts, 1, 1.0, "Only one request per second allowed."),
        (Stream::AgentMetrics, 1, 1.0, "Only one request per second allowed."),
        (Stream::AgentPerformance, 1, 1.0, "Only one request per second allowed."),
        (Stream::Campaigns, 5, 5.0, "Only 5 requests per second allowed."),
        (Stream::NotificationResults, 30, 30.0, "Only 30 requests per second allowed."),
        (Stream::Roles, 1, 1.0, "Only one request per second allowed."),
        (Stream::Variables, 1, 1.0, "Only one request per second allowed."),
        (Stream::Typifications, 1, 1.0, "Only one request per second allowed."),
        (Stream::TicketFieldDefinitions, 60, 1.0, "Only 60 requests per minute allowed."),
        (Stream::Webhooks, 1, 1.0, "Only one request per second allowed."),
        (Stream::ContactsBlacklist, 30, 30.0, "Only 30 requests per second allowed."),
        (Stream::BilledConversations, 1, 1.0, "Only one request per second allowed."),
    ] {
        let path = format!("/{}?{window}&session-status=closed", s.path());
        let started = Instant::now();
        let statuses: Vec<u16> = (0..cap + 5)
            .map(|_| {
                let r = api(&server, &path);
                if r.status == 429 {
                    assert_eq!(r.json()["errors"][0]["message"], message, "{s}");
                }
                r.status
            })
            .collect();
        let refilled = (started.elapsed().as_secs_f64() * per_second).ceil() as usize;
        let served = statuses.iter().filter(|c| **c == 200).count();
        assert!(served >= cap.min(cap + 5 - refilled) && served <= cap + refilled, "{s}: {statuses:?}");
        assert!(statuses.contains(&429), "{s}: {statuses:?}");
    }
}

#[test]
fn counts_scale_and_config() {
    let server = paged_server();
    let counts = get(&format!("http://127.0.0.1:{}/_mock/counts", server.port()), None).resp().json();
    for s in Stream::EVERY {
        let full = if s.is_windowed() {
            server.count(s, server.data_start(), Utc::now() + ms(1))
        } else {
            server.count_all(s)
        };
        assert_eq!(counts[s.name()], json!(full), "{s}");
    }
    assert_eq!(counts.as_object().unwrap().len(), Stream::EVERY.len());
    assert_eq!(counts["contacts_blacklist"], 2_500);

    let empty = MockConfig::with_scale(0);
    assert!(Stream::EVERY.iter().all(|s| empty.count(*s) == 0));
    let c = MockConfig::with_scale(1000);
    assert_eq!(c.count(Stream::TicketFieldDefinitions), 1, "the spec's single object");
    assert_eq!(c.count(Stream::AgentMetrics), 1000);
    assert_eq!(c.clone().with_count(Stream::Roles, 7).extended_counts.roles, 7);
    assert_eq!(c.with_count(Stream::Calls, 7).counts.calls, 7);
    let misuse = std::panic::catch_unwind(|| StreamCounts::with_scale(10).with(Stream::Roles, 3));
    assert!(misuse.is_err(), "StreamCounts holds the core streams only");
}

#[test]
fn records_added_between_syncs() {
    let server = paged_server();
    let s = Stream::NotificationResults;
    let (a, b) = (server.data_start(), server.anchor());
    let before = server.expected(s, a, b);
    // Counters keep changing for days: a sending served again with new counters replaces it.
    let mut changed = before[3].clone();
    changed["details"]["read"] = json!(changed["details"]["read"].as_i64().unwrap() + 7);
    server.add_records(s, vec![changed.clone()]);
    let after = walk(&server, &window_query(s, a, b)).0;
    assert_eq!(after.len(), before.len());
    assert_eq!(after[3], changed, "same place, new counters");
    // Generated ones land by their start, newest first.
    let keys = server.add_generated(s, 5, b - Duration::days(1), b - Duration::hours(1));
    let after = walk(&server, &window_query(s, a, b)).0;
    assert_eq!(after.len(), before.len() + 5);
    assert_eq!(after, server.expected(s, a, b));
    let times: Vec<DateTime<Utc>> = after.iter().map(|i| time_of(s, i)).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
    assert!(keys.iter().all(|k| after.iter().any(|i| pk(s, i) == *k)));
    // Numbers added at runtime come after the generated ones (in number order); replacing a
    // generated one keeps a single copy.
    let first = server.expected_all(Stream::ContactsBlacklist)[0].clone();
    server.add_records(Stream::ContactsBlacklist, vec![json!("5499999999999"), first.clone()]);
    let list = walk(&server, "/notifications/contacts-blacklist").0;
    assert_eq!(list.len(), 2_501);
    assert_eq!(list.iter().filter(|n| **n == first).count(), 1);
    assert_eq!(list[list.len() - 2..], [first, json!("5499999999999")]);
    for s in Stream::EXTENDED {
        let added = server.add_generated(s, 2, b - Duration::days(2), b - Duration::days(1));
        assert_eq!(added.len(), 2, "{s}");
        let everything = server.expected(s, a, b + ms(1));
        assert!(added.iter().all(|k| everything.iter().any(|i| pk(s, i) == *k)), "{s}");
    }
}
