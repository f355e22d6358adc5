//! The generated spec and catalogs are committed; these tests keep them identical to what the
//! code generates, so every schema change shows up as a diff in review.
//!
//! After an intended change: `UPDATE_SNAPSHOTS=1 cargo test --test it snapshots`, then commit.

use std::path::PathBuf;

use serde_json::{json, Value};
use source_botmaker::{catalog, specification};

fn check_snapshot(relative: &str, generated: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = serde_json::to_string_pretty(generated).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{relative} differs from what the code generates. If the change is intended, run `UPDATE_SNAPSHOTS=1 cargo test --test it snapshots` and commit the file."
    );
}

/// A configured catalog selecting every stream; incremental where supported unless `full_refresh_only`.
fn configured(full_refresh_only: bool) -> Value {
    let catalog = catalog();
    let streams: Vec<Value> = catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let incremental =
                !full_refresh_only && s["supported_sync_modes"].as_array().unwrap().contains(&json!("incremental"));
            let mut c = json!({
                "stream": s,
                "sync_mode": if incremental { "incremental" } else { "full_refresh" },
                "destination_sync_mode": if incremental { "append_dedup" } else { "overwrite" },
                "primary_key": s["source_defined_primary_key"],
            });
            if incremental {
                c["cursor_field"] = s["default_cursor_field"].clone();
            }
            c
        })
        .collect();
    json!({ "streams": streams })
}

#[test]
fn spec_json_is_generated() {
    check_snapshot("spec/spec.json", &specification());
}

#[test]
fn catalog_json_is_generated() {
    check_snapshot("catalog/catalog.json", &catalog());
}

#[test]
fn sample_configured_catalogs_are_generated() {
    check_snapshot("catalog/configured_catalog.json", &configured(false));
    check_snapshot("catalog/configured_catalog_full_refresh.json", &configured(true));
}

#[test]
fn catalog_follows_airbyte_rules() {
    let catalog = catalog();
    let names: Vec<&str> = catalog["streams"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "chats",
            "messages",
            "sessions",
            "calls",
            "contacts",
            "agents",
            "channels",
            "intents",
            "tickets",
            "whatsapp_templates",
            "whatsapp_accounts",
            "agent_metrics",
            "agent_performance",
            "campaigns",
            "notification_results",
            "roles",
            "variables",
            "typifications",
            "ticket_field_definitions",
            "webhooks",
            "contacts_blacklist",
            "billed_conversations",
        ]
    );
    let text = catalog.to_string();
    // Keywords as keys (`ticket_field_definitions` is a stream name, not a keyword).
    for banned in ["$ref", "\"allOf\"", "\"not\"", "\"additionalProperties\":false", "\"definitions\":", "$defs"] {
        assert!(!text.contains(banned), "catalog contains {banned}");
    }
    for s in catalog["streams"].as_array().unwrap() {
        let props = &s["json_schema"]["properties"];
        assert_eq!(s["json_schema"]["additionalProperties"], true, "{}", s["name"]);
        let key = s["source_defined_primary_key"].as_array().unwrap();
        assert!((1..=2).contains(&key.len()), "{}: a primary key of one or two fields", s["name"]);
        for pk in key {
            assert_eq!(pk.as_array().unwrap().len(), 1, "{}: primary key fields are top-level", s["name"]);
            assert!(
                props.get(pk[0].as_str().unwrap()).is_some(),
                "primary key of {} missing from its schema",
                s["name"]
            );
        }
        if let Some(cursor) = s.get("default_cursor_field") {
            let c = cursor[0].as_str().unwrap();
            assert_eq!(props[c]["format"], "date-time", "cursor {c} of {}", s["name"]);
            assert_eq!(s["source_defined_cursor"], true);
        }
    }
    let cursors: Vec<(String, String)> = catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            Some((s["name"].as_str()?.to_string(), s.get("default_cursor_field")?[0].as_str()?.to_string()))
        })
        .collect();
    assert_eq!(
        cursors,
        [
            ("chats".to_string(), "lastUserMessageDatetime".to_string()),
            ("messages".into(), "creationTime".into()),
            ("sessions".into(), "creationTime".into()),
            ("calls".into(), "creationDatetime".into()),
            ("tickets".into(), "creationTime".into()),
            ("agent_metrics".into(), "sessionCreationTime".into()),
            ("agent_performance".into(), "checkin".into()),
            ("notification_results".into(), "start".into()),
            ("billed_conversations".into(), "startDatetime".into()),
        ]
    );
    let keys: Vec<(&str, Value)> = catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source_defined_primary_key"].as_array().unwrap().len() > 1)
        .map(|s| (s["name"].as_str().unwrap(), s["source_defined_primary_key"].clone()))
        .collect();
    assert_eq!(
        keys,
        [
            ("whatsapp_templates", json!([["name"], ["locale"]])),
            ("agent_metrics", json!([["sessionId"], ["agentId"]])),
            ("agent_performance", json!([["agentEmail"], ["checkin"]])),
        ]
    );
}

#[test]
fn spec_follows_airbyte_rules() {
    let spec = specification();
    let conn = &spec["connectionSpecification"];
    assert_eq!(conn["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(conn["required"], json!(["access_token", "start_date"]));
    assert_eq!(conn["properties"]["access_token"]["airbyte_secret"], true);
    assert_eq!(conn["properties"]["access_token"]["order"], 0);
    assert_eq!(conn["properties"]["long_term_search"]["default"], false);
    assert_eq!(conn["properties"]["api_url"]["default"], "https://api.botmaker.com/v2.0");
    assert!(conn["properties"]["long_term_search"]["description"].as_str().unwrap().contains("bills"));
    assert_eq!(conn["properties"]["include_bi_dashboards"]["default"], false, "the billed dashboards are opt-in");
    assert_eq!(conn["properties"]["notification_results_lookback_days"]["default"], 3);
    for include in
        ["include_session_messages", "include_session_events", "include_session_ai_analysis", "include_bi_dashboards"]
    {
        assert!(conn["properties"][include]["description"].as_str().unwrap().contains("cost"), "{include}");
    }
    let text = spec.to_string();
    assert!(!text.contains("$ref") && !text.contains("definitions"));
    let orders: Vec<i64> =
        conn["properties"].as_object().unwrap().values().map(|p| p["order"].as_i64().unwrap()).collect();
    let mut sorted = orders.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), orders.len(), "every field has its own order");
}

/// Paths of the properties under `schema`, at every depth (object properties and array items),
/// that have no description.
fn undescribed(schema: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let here = format!("{path}.{name}");
            if property.get("description").and_then(Value::as_str).is_none_or(|d| d.trim().is_empty()) {
                out.push(here.clone());
            }
            undescribed(property, &here, out);
        }
    }
    if let Some(items) = schema.get("items") {
        undescribed(items, &format!("{path}[]"), out);
    }
    for combinator in ["anyOf", "oneOf"] {
        for branch in schema.get(combinator).and_then(Value::as_array).into_iter().flatten() {
            undescribed(branch, path, out);
        }
    }
}

#[test]
fn every_field_of_every_stream_schema_has_a_description() {
    let mut missing = Vec::new();
    for stream in catalog()["streams"].as_array().unwrap() {
        undescribed(&stream["json_schema"], stream["name"].as_str().unwrap(), &mut missing);
    }
    assert!(
        missing.is_empty(),
        "these record fields have no description (add a doc comment in src/streams/records.rs): {missing:#?}"
    );
    // The walk reaches nested objects and array items.
    let mut nested = Vec::new();
    undescribed(&json!({"properties": {"a": {"items": {"properties": {"b": {}}}}}}), "s", &mut nested);
    assert_eq!(nested, ["s.a", "s.a[].b"]);
}

#[test]
fn every_stream_schema_says_what_a_record_is_and_how_the_stream_is_read() {
    for stream in catalog()["streams"].as_array().unwrap() {
        let name = stream["name"].as_str().unwrap();
        let description = stream["json_schema"]["description"].as_str().unwrap_or_default();
        assert!(description.starts_with("One "), "{name}: the description should start with what one record is");
        assert!(description.contains("`GET /"), "{name}: the description should name the endpoint");
        match stream.get("default_cursor_field") {
            Some(cursor) => {
                let cursor = cursor[0].as_str().unwrap();
                assert!(
                    description.contains(&format!("Incremental, cursor `{cursor}`")),
                    "{name}: the description should say it is incremental on `{cursor}`"
                );
            }
            None => {
                assert!(description.contains("Full refresh"), "{name}: the description should say it is full refresh")
            }
        }
    }
}
