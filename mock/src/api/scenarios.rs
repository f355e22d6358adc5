//! Scenarios: deliberate misbehaviours of one endpoint, set at runtime. Some replace the
//! response outright (a fixed answer, a redirect), paging ones shape `nextPage` (see
//! [`super::paging`]), and `WrongTypes` rewrites the served items.

use serde_json::Value;

use super::paging::list_key;
use super::response::Reply;
use crate::config::{Scenario, Stream};

/// The name the request log shows, as `scenario:<name>`.
pub(crate) fn scenario_name(s: &Scenario) -> &'static str {
    match s {
        Scenario::NextPageLoop => "next_page_loop",
        Scenario::ForeignNextPage(_) => "foreign_next_page",
        Scenario::DuplicatePages => "duplicate_pages",
        Scenario::NextPageNotUrl => "next_page_not_url",
        Scenario::WrongTypes => "wrong_types",
        Scenario::MissingItems => "missing_items",
        Scenario::Redirect(_) => "redirect",
        Scenario::Fixed { .. } => "fixed",
    }
}

/// The response of a scenario that replaces the endpoint's answer entirely, if it is one.
pub(crate) fn replacement(scenario: &Scenario) -> Option<Reply> {
    match scenario {
        Scenario::Fixed { status, content_type, body } => Some(Reply::Full {
            status: *status,
            content_type: content_type.clone(),
            headers: vec![],
            body: body.clone().into_bytes(),
        }),
        Scenario::Redirect(url) => Some(Reply::Full {
            status: 302,
            content_type: "text/plain".into(),
            headers: vec![("Location".into(), url.clone())],
            body: format!("Found. Redirecting to {url}").into_bytes(),
        }),
        _ => None,
    }
}

/// The field `WrongTypes` breaks in every item of `s`, and its wrong-typed value (`None` for
/// blacklisted contacts, whose records are plain strings).
fn wrong_field(s: Stream, item: &serde_json::Map<String, Value>) -> Option<(&'static str, Value)> {
    Some(match s {
        Stream::Chats => ("isBanned", "yes".into()),
        // Times as epoch milliseconds: the same instant in the wrong JSON type.
        Stream::Messages | Stream::Sessions => {
            let ms = item.get("creationTime").and_then(Value::as_str).and_then(crate::time::parse_ts).unwrap_or(0);
            ("creationTime", ms.into())
        }
        Stream::Calls => {
            let ms = item.get("creationDatetime").and_then(Value::as_str).and_then(crate::time::parse_ts).unwrap_or(0);
            ("creationDatetime", ms.into())
        }
        Stream::Contacts => ("chats", "none".into()),
        Stream::Agents => ("isOnline", "yes".into()),
        Stream::Channels => ("active", "yes".into()),
        Stream::Intents => ("active", "no".into()),
        Stream::Tickets => ("companyId", "ACME".into()),
        Stream::WhatsappTemplates => ("buttons", "none".into()),
        Stream::WhatsappAccounts => ("number", true.into()),
        Stream::AgentMetrics => ("sessionCreationTime", true.into()),
        Stream::AgentPerformance => ("queue", "support".into()),
        Stream::Campaigns | Stream::Webhooks => ("active", "yes".into()),
        Stream::NotificationResults => ("details", "none".into()),
        Stream::Roles => ("permissions", "all".into()),
        Stream::Variables => ("visibleInUserInfo", "yes".into()),
        Stream::Typifications => ("queues", "sales".into()),
        Stream::TicketFieldDefinitions => ("validOptions", "none".into()),
        Stream::BilledConversations => ("origin", 1.into()),
        Stream::ContactsBlacklist => return None,
    })
}

/// A record with a known field of the wrong type (blacklisted contacts, plain strings, become
/// objects).
fn wrong_item(s: Stream, item: &mut Value) {
    if s == Stream::ContactsBlacklist {
        *item = serde_json::json!({ "phone": item.clone() });
        return;
    }
    if let Some(o) = item.as_object_mut() {
        if let Some((k, val)) = wrong_field(s, o) {
            o.insert(k.to_string(), val);
        }
    }
}

/// The WrongTypes scenario: one known field per item gets the wrong JSON type.
pub(crate) fn wrong_types(s: Stream, body: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    match (s, &mut v) {
        // Field definitions come as one object or a bare list.
        (Stream::TicketFieldDefinitions, Value::Array(items)) => items.iter_mut().for_each(|it| wrong_item(s, it)),
        (Stream::TicketFieldDefinitions, item) => wrong_item(s, item),
        (_, v) => {
            if let Some(items) = v.get_mut(list_key(s)).and_then(Value::as_array_mut) {
                items.iter_mut().for_each(|it| wrong_item(s, it));
            }
        }
    }
    v.to_string()
}
