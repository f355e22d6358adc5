//! The spec as Airbyte's form shows it: every example and default passes its own field's schema
//! with format checking on, `start_date`'s schema lets through what the connector accepts (and
//! nothing else), and fields sit in the group and `order` range their kind calls for.

use crate::config::{self, Config};
use serde_json::{json, Value};

fn connection_specification() -> Value {
    config::connector_specification()["connectionSpecification"].clone()
}

fn properties() -> serde_json::Map<String, Value> {
    connection_specification()["properties"].as_object().expect("the spec has properties").clone()
}

/// A validator for one property's schema, with `format` checked (jsonschema only asserts
/// formats on request).
fn property_validator(name: &str) -> jsonschema::Validator {
    let mut schema = properties()[name].clone();
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    jsonschema::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&schema)
        .unwrap_or_else(|e| panic!("property `{name}` has an invalid schema: {e}"))
}

#[test]
fn every_example_and_default_passes_its_field_schema_with_formats_checked() {
    let mut checked = 0;
    for (name, schema) in properties() {
        let validator = property_validator(&name);
        let mut values: Vec<(String, Value)> = Vec::new();
        if let Some(default) = schema.get("default") {
            values.push(("default".into(), default.clone()));
        }
        for example in schema.get("examples").and_then(Value::as_array).into_iter().flatten() {
            values.push(("example".into(), example.clone()));
        }
        for (what, value) in values {
            let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "`{name}`: the {what} {value} fails the field's own schema: {errors:?}");
            checked += 1;
        }
    }
    // access_token has neither; start_date has two examples; every optional field a default.
    assert!(checked >= 10, "only {checked} examples and defaults found");
}

#[test]
fn the_field_validator_really_checks_formats() {
    // The validator above must really check formats: a value breaking `format: uri` is refused.
    let validator = property_validator("api_url");
    assert!(validator.is_valid(&json!("https://api.botmaker.com/v2.0")));
    assert!(!validator.is_valid(&json!("not a uri")), "format checking is off");
}

/// Whether the connector takes `start_date` (any later error is about another field).
fn connector_accepts(start_date: &str) -> bool {
    match Config::from_value(json!({"access_token": "tok-123456", "start_date": start_date}), "config.json") {
        Ok(_) => true,
        Err(e) => {
            assert!(e.message.contains("start_date"), "{start_date:?}: unexpected error {}", e.message);
            false
        }
    }
}

#[test]
fn start_date_schema_lets_through_what_the_connector_accepts() {
    let validator = property_validator("start_date");
    let valid = [
        "2024-01-01",
        "1970-01-01",
        "2024-02-29",
        "2024-12-31",
        "2024-01-01T00:00:00Z",
        "2024-06-30T23:59:59Z",
        "2024-01-01T10:00:00.5+02:00",
        "2024-01-01T10:00:00.123456789-03:00",
        "2024-01-01T10:00:00.1234567891234Z",
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T12:00:00-23:59",
    ];
    let malformed = [
        "",
        "2024",
        "2024-1-01",
        "2024-01-1",
        "24-01-01",
        "2024/01/01",
        "01/02/2024",
        "2024-00-10",
        "2024-13-01",
        "2024-01-00",
        "2024-01-32",
        " 2024-01-01",
        "2024-01-01 ",
        "2024-01-01\n",
        "2024-01-01T",
        "2024-01-01T00:00Z",
        "2024-01-01T00:00:00",
        "2024-01-01t00:00:00Z",
        "2024-01-01T00:00:00z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T23:60:00Z",
        "2024-01-01T23:59:60Z",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00+0200",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+02:60",
        "2024-01-01T00:00:00+02:00:00",
        "2024-01-01T00:00:00ZZ",
        "2024-01-01T00:00:00GMT",
        "２０２４-01-01",
        "1704067200000",
    ];
    for raw in valid {
        assert!(validator.is_valid(&json!(raw)), "the schema refuses {raw:?}");
        assert!(connector_accepts(raw), "the connector refuses {raw:?}");
    }
    for raw in malformed {
        assert!(!validator.is_valid(&json!(raw)), "the schema accepts {raw:?}");
        assert!(!connector_accepts(raw), "the connector accepts {raw:?}");
    }
    // What a pattern cannot express: the schema lets these through, the connector says why not.
    for raw in ["2023-02-29", "2024-04-31", "2999-01-01", "1969-12-31", "1970-01-01T00:00:00+01:00"] {
        assert!(validator.is_valid(&json!(raw)), "{raw:?} should match the pattern");
        assert!(!connector_accepts(raw), "the connector accepts {raw:?}");
    }
}

#[test]
fn start_date_is_a_pattern_not_a_format_that_refuses_its_own_examples() {
    let start_date = &properties()["start_date"];
    // No JSON Schema format covers "a date or a date-time"; `format: date-time` would refuse
    // `2024-01-01`, which the connector accepts.
    assert!(start_date.get("format").is_none(), "{start_date}");
    assert_eq!(start_date["pattern"], config::START_DATE_PATTERN);
    assert!(start_date["pattern_descriptor"].as_str().is_some_and(|d| d.contains("YYYY-MM-DD")));
}

#[test]
fn options_users_decide_on_come_first_and_tuning_goes_in_the_advanced_group() {
    let spec = connection_specification();
    let groups: Vec<&str> = spec["groups"]
        .as_array()
        .expect("the spec declares its field groups")
        .iter()
        .map(|g| g["id"].as_str().expect("a group has an id"))
        .collect();
    assert_eq!(groups, ["main", "advanced"]);
    let required: Vec<&str> = spec["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    let tuning = [
        "lookback_window_days",
        "session_settle_days",
        "max_concurrent_requests",
        "api_url",
        "notification_results_lookback_days",
    ];
    for (name, property) in properties() {
        let group = property["group"].as_str().unwrap_or_else(|| panic!("`{name}` has no `group`"));
        let order = property["order"].as_i64().unwrap_or_else(|| panic!("`{name}` has no `order`"));
        assert!(groups.contains(&group), "`{name}`: group `{group}` is not declared in `groups`");
        if tuning.contains(&name.as_str()) {
            assert_eq!(group, "advanced", "`{name}` is a tuning option");
            assert!(order >= 20, "`{name}`: tuning options take order 20 and up, got {order}");
        } else {
            assert_eq!(group, "main", "`{name}` is an option users decide on");
            assert!((0..20).contains(&order), "`{name}`: options users decide on take order 0-19, got {order}");
        }
        if required.contains(&name.as_str()) {
            assert_eq!(group, "main", "required field `{name}` must be in the main group");
        }
        assert!(property["title"].is_string(), "`{name}` has no title");
        assert!(property["description"].as_str().is_some_and(|d| !d.is_empty()), "`{name}` has no description");
    }
    assert_eq!(properties()["api_url"]["airbyte_hidden"], true, "api_url is for proxies and tests only");
    assert_eq!(properties()["long_term_search"]["always_show"], true, "long-term search is a decision to make");
}
