//! Everything the mock serves matches the official OpenAPI schemas (copied, unedited, into
//! `tests/fixtures/botmaker-schemas.json`).
//!
//! A small validator covers the keywords those schemas use: `$ref`, `type`, `properties`,
//! `additionalProperties`, `items`, `required`, `enum`, `format` (`date-time`, `snake_case`),
//! `maxLength`, `minimum`, `maximum`, `oneOf`. `oneOf`
//! is checked as "any of": the channel and event-info variants are supersets of each other and
//! carry no `additionalProperties: false`, so real responses match several branches too.
//! Documented deviations: `aiAnalysis.aspectScores` uses the newer open-map shape
//! `{"clarity": {"result": 40, "weight": 20}}` that replaced the spec's flat integers, and a
//! last page may say `"nextPage": null` (the spec's prose) although the schema says string.

use crate::common::*;
use botmaker_mock::{MockConfig, Stream};
use chrono::Duration;
use serde_json::{Map, Value};

struct Validator {
    schemas: Map<String, Value>,
}

impl Validator {
    fn load() -> Validator {
        let text = include_str!("../fixtures/botmaker-schemas.json");
        let v: Value = serde_json::from_str(text).unwrap();
        Validator { schemas: v["schemas"].as_object().unwrap().clone() }
    }

    fn check(&self, schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap();
            if name == "SessionAspectScoresResponse" {
                // Documented deviation (see module docs): an open map of {result, weight}.
                for (k, x) in v.as_object().into_iter().flatten() {
                    if !(x["result"].is_i64() && x["weight"].is_i64()) {
                        errs.push(format!("{path}.{k}: not {{result, weight}}"));
                    }
                }
                return;
            }
            let s = self.schemas.get(name).unwrap_or_else(|| panic!("unknown schema {name}"));
            return self.check(s, v, path, errs);
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") if !v.is_object() => {
                errs.push(format!("{path}: expected object, got {v}"));
                return;
            }
            Some("array") if !v.is_array() => {
                errs.push(format!("{path}: expected array, got {v}"));
                return;
            }
            Some("string") if !v.is_string() => {
                errs.push(format!("{path}: expected string, got {v}"));
                return;
            }
            Some("integer") if !(v.is_i64() || v.is_u64()) => {
                errs.push(format!("{path}: expected integer, got {v}"));
                return;
            }
            Some("boolean") if !v.is_boolean() => {
                errs.push(format!("{path}: expected boolean, got {v}"));
                return;
            }
            _ => {}
        }
        if let Some(e) = schema.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                errs.push(format!("{path}: {v} not in enum"));
            }
        }
        if let Some(s) = v.as_str() {
            match schema.get("format").and_then(Value::as_str) {
                Some("date-time") if chrono::DateTime::parse_from_rfc3339(s).is_err() => {
                    errs.push(format!("{path}: {s:?} is not a date-time"))
                }
                Some("snake_case") if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') => {
                    errs.push(format!("{path}: {s:?} is not snake_case"))
                }
                _ => {}
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
                if s.chars().count() as u64 > max {
                    errs.push(format!("{path}: {s:?} is longer than {max}"));
                }
            }
        }
        if let Some(n) = v.as_f64() {
            let below = schema.get("minimum").and_then(Value::as_f64).is_some_and(|m| n < m);
            let above = schema.get("maximum").and_then(Value::as_f64).is_some_and(|m| n > m);
            if below || above {
                errs.push(format!("{path}: {n} out of range"));
            }
        }
        if let Some(o) = v.as_object() {
            let props = schema.get("properties").and_then(Value::as_object);
            for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                if !o.contains_key(req.as_str().unwrap()) {
                    errs.push(format!("{path}: missing required {req}"));
                }
            }
            for (k, x) in o {
                // The spec's prose says paging ends when `nextPage` "returns null", while its
                // schema types it as a plain string: null is the documented end marker.
                if k == "nextPage" && x.is_null() {
                    continue;
                }
                match props.and_then(|p| p.get(k)) {
                    Some(sub) => self.check(sub, x, &format!("{path}.{k}"), errs),
                    None => {
                        if let Some(ap) = schema.get("additionalProperties") {
                            if ap.is_object() {
                                self.check(ap, x, &format!("{path}.{k}"), errs);
                            }
                        }
                    }
                }
            }
        }
        if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
            for (i, x) in a.iter().enumerate() {
                self.check(items, x, &format!("{path}[{i}]"), errs);
            }
        }
        if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
            let ok = alts.iter().any(|alt| {
                let mut e = vec![];
                self.check(alt, v, path, &mut e);
                e.is_empty()
            });
            if !ok {
                errs.push(format!("{path}: matches no oneOf branch: {v}"));
            }
        }
    }

    fn assert_valid(&self, schema_name: &str, v: &Value) {
        let mut errs = vec![];
        let root = serde_json::json!({ "$ref": format!("#/components/schemas/{schema_name}") });
        self.check(&root, v, schema_name, &mut errs);
        assert!(errs.is_empty(), "{schema_name}: {}", errs[..errs.len().min(10)].join("\n"));
    }
}

#[test]
fn every_endpoint_matches_the_official_schemas() {
    let v = Validator::load();
    let server = server(2000);
    let a = server.data_start();
    let w = format!("from={}&to={}&long-term-search=true", q(a), q(a + Duration::days(25)));
    for (schema, path) in [
        ("ChatsPage", format!("/chats?{w}")),
        ("MessagesPage", format!("/messages?{w}&limit=1500")),
        ("SessionsPage", format!("/sessions?{w}")),
        (
            "SessionsPage",
            format!("/sessions?{w}&include-messages=true&include-events=true&include-ai-analysis=true&include-variables=true&timestamp-precision=milliseconds"),
        ),
        ("CallsPage", format!("/calls?{w}")),
        ("ContactsPage", "/contacts".to_string()),
        ("AgentsPage", "/agents".to_string()),
        ("ChannelsListResponse", "/channels".to_string()),
        ("IntentsPage", "/intents".to_string()),
        ("TicketsResponse", "/tickets?limit=500".to_string()),
    ] {
        let (items, pages) = walk(&server, &path);
        assert!(!items.is_empty(), "{path}");
        // Validate whole first page envelope and every item.
        let first = api(&server, &path).json();
        v.assert_valid(schema, &first);
        let item_schema = match schema {
            "ChatsPage" => "ChatWithMessagesResponse",
            "MessagesPage" => "MessageResponse",
            "SessionsPage" => "SessionResponse",
            "CallsPage" => "CallResponse",
            "ContactsPage" => "ContactResponse",
            "AgentsPage" => "AgentResponse",
            "ChannelsListResponse" => "IChannelResponse",
            "IntentsPage" => "IntentResponse",
            _ => "TicketResponse",
        };
        for it in &items {
            v.assert_valid(item_schema, it);
        }
        let _ = pages;
    }
    // Added and ground-truth records too.
    for s in Stream::ALL {
        server.add_generated(s, 5, a, a + Duration::days(1));
    }
    for s in [Stream::Chats, Stream::Messages, Stream::Sessions, Stream::Calls, Stream::Tickets] {
        let name = match s {
            Stream::Chats => "ChatWithMessagesResponse",
            Stream::Messages => "MessageResponse",
            Stream::Sessions => "SessionResponse",
            Stream::Calls => "CallResponse",
            _ => "TicketResponse",
        };
        for it in server.expected(s, a, a + Duration::days(2)) {
            v.assert_valid(name, &it);
        }
    }
    // Errors follow ErrorResponse.
    for p in ["/chats?from=x", "/tickets?limit=0", "/nope"] {
        v.assert_valid("ErrorResponse", &api(&server, p).json());
    }
}

#[test]
fn the_validator_catches_wrong_types() {
    let v = Validator::load();
    let mut errs = vec![];
    let root = serde_json::json!({ "$ref": "#/components/schemas/ChatWithMessagesResponse" });
    let bad = serde_json::json!({
        "chat": {"chatId": 5},
        "isBanned": "yes",
        "creationTime": "yesterday",
        "tags": "vip",
    });
    v.check(&root, &bad, "chat", &mut errs);
    assert_eq!(errs.len(), 4, "{errs:?}");
    let mut errs = vec![];
    let root = serde_json::json!({ "$ref": "#/components/schemas/MessageResponse" });
    v.check(&root, &serde_json::json!({"from": "martian"}), "m", &mut errs);
    assert_eq!(errs.len(), 2, "{errs:?}"); // enum + required chat
    let mut errs = vec![];
    let root = serde_json::json!({ "$ref": "#/components/schemas/WhatsAppTemplateResponse" });
    let bad = serde_json::json!({
        "name": "Promo Semana",
        "body": {"text": "hola"},
        "buttons": [{"type": "URL", "text": "a button label too long"}],
    });
    v.check(&root, &bad, "t", &mut errs);
    assert_eq!(errs.len(), 2, "{errs:?}"); // snake_case + maxLength
    let mut errs = vec![];
    let root = serde_json::json!({ "$ref": "#/components/schemas/RoleRequestResponse" });
    v.check(&root, &serde_json::json!({"slots": 31}), "r", &mut errs);
    assert_eq!(errs.len(), 1, "{errs:?}"); // maximum
}

/// Every endpoint beyond the core nine, envelope and records, first page and all pages.
#[test]
fn extended_endpoints_match_the_official_schemas() {
    let v = Validator::load();
    let server = start_with(|c| {
        *c = MockConfig::with_scale(3000);
        c.rate_limits = false;
        c.anchor = Some(anchor_now());
        c.span_days = 25;
        c.set_count(Stream::TicketFieldDefinitions, 8);
    });
    let (a, b) = (server.data_start(), server.anchor());
    let mut cases: Vec<(Stream, &str, &str, String)> = vec![
        (Stream::WhatsappTemplates, "WhatsAppTemplatesListResponse", "WhatsAppTemplateResponse", String::new()),
        (Stream::WhatsappAccounts, "WhatsAppAccountListResponse", "WhatsAppAccountResponse", String::new()),
        (
            Stream::AgentMetrics,
            "DashboardMetricsPage",
            "DashboardMetricsResponse",
            window_query(Stream::AgentMetrics, a, b),
        ),
        (
            Stream::AgentPerformance,
            "DashboardAgentPerformancePage",
            "DashboardAgentPerformanceResponse",
            window_query(Stream::AgentPerformance, a, b),
        ),
        (Stream::Campaigns, "CampaignPage", "CampaignResponse", String::new()),
        (
            Stream::NotificationResults,
            "NotificationInstancesPage",
            "NotificationInstanceResponse",
            window_query(Stream::NotificationResults, a, b),
        ),
        (Stream::Roles, "RolesPageResponse", "RoleRequestResponse", String::new()),
        (Stream::Variables, "VariablesListResponse", "VariableResponse", String::new()),
        (Stream::Typifications, "TypificationResponseList", "TypificationResponse", String::new()),
        (Stream::Webhooks, "WebhookListResponse", "ListedWebhookResponse", String::new()),
        (Stream::ContactsBlacklist, "BlackListPage", "", String::new()),
    ];
    for month in billed_months(a, b) {
        let path = format!("/{}?billingPeriod={month}", Stream::BilledConversations.path());
        cases.push((
            Stream::BilledConversations,
            "WhatsAppDetailedConversationsPage",
            "WhatsAppDetailedConversationResponse",
            path,
        ));
    }
    for (s, page_schema, item_schema, path) in cases {
        let path = if path.is_empty() { format!("/{}", s.path()) } else { path };
        let pages = walk_pages(&server, &path);
        let items: Vec<&Value> = pages.iter().flat_map(page_items).collect();
        assert!(!items.is_empty(), "{path}");
        for p in &pages {
            v.assert_valid(page_schema, p);
        }
        if s == Stream::ContactsBlacklist {
            assert!(items.iter().all(|i| i.is_string()));
            continue;
        }
        for it in items {
            v.assert_valid(item_schema, it);
        }
    }
    // The spec's single field definition, and each one of the list.
    let one = api(&server, "/tickets/field-definitions").json();
    v.assert_valid("FieldDefinitionResponse", &one);
    for def in server.expected_all(Stream::TicketFieldDefinitions) {
        v.assert_valid("FieldDefinitionResponse", &def);
    }
    // Added and ground-truth records too.
    for s in Stream::EXTENDED {
        server.add_generated(s, 3, b - Duration::days(2), b - Duration::days(1));
    }
    for (s, name) in [
        (Stream::AgentMetrics, "DashboardMetricsResponse"),
        (Stream::AgentPerformance, "DashboardAgentPerformanceResponse"),
        (Stream::NotificationResults, "NotificationInstanceResponse"),
        (Stream::BilledConversations, "WhatsAppDetailedConversationResponse"),
        (Stream::WhatsappTemplates, "WhatsAppTemplateResponse"),
        (Stream::Roles, "RoleRequestResponse"),
        (Stream::Webhooks, "ListedWebhookResponse"),
    ] {
        let records = server.expected(s, b - Duration::days(3), b);
        assert!(records.len() >= 3, "{s}");
        for it in records {
            v.assert_valid(name, &it);
        }
    }
    // Errors follow ErrorResponse.
    for p in [
        "/dashboards/agent-metrics",
        "/notifications/sent-results",
        "/billing/whatsapp/billed-conversations?billingPeriod=12-2023",
    ] {
        let r = api(&server, p);
        assert_eq!(r.status, 400, "{p}");
        v.assert_valid("ErrorResponse", &r.json());
    }
}
