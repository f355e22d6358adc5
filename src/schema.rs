//! JSON Schemas generated from Rust types, shaped the way Airbyte wants them.
//!
//! schemars produces the schema; [`normalize`] then applies Airbyte's conventions: draft-07,
//! everything inline (the CDK's catalog checks reject `$ref`), `"null"` first in nullable type
//! lists, `airbyte_type: timestamp_with_timezone` on date-times, and no Rust-specific integer
//! formats such as `int64` that mean nothing to destinations.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{Map, Value};

/// Formats schemars adds for Rust number types; not JSON Schema vocabulary destinations know.
const RUST_NUMBER_FORMATS: &[&str] =
    &["int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float", "double"];

/// The schema of a stream's records: [`schema_for`] plus Airbyte's timestamp type hints.
pub(crate) fn record_schema_for<T: JsonSchema>() -> Value {
    let mut value = schema_for::<T>();
    mark_timestamps(&mut value);
    value
}

/// The draft-07, fully inline schema of `T`.
pub(crate) fn schema_for<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|s| {
            s.inline_subschemas = true;
        })
        .into_generator();
    let mut value = generator.into_root_schema_for::<T>().to_value();
    if let Some(map) = value.as_object_mut() {
        map.remove("definitions");
        map.remove("$defs");
    }
    normalize(&mut value);
    value
}

/// Applies Airbyte's schema conventions recursively.
pub(crate) fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            normalize_object(map);
            for child in map.values_mut() {
                normalize(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

fn normalize_object(map: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = map.get_mut("type") {
        if let Some(pos) = types.iter().position(|t| t == "null") {
            let null = types.remove(pos);
            types.insert(0, null);
        }
    }
    if map.get("format").and_then(Value::as_str).is_some_and(|f| RUST_NUMBER_FORMATS.contains(&f)) {
        map.remove("format");
    }
    // Doc comments arrive hard-wrapped; a description is one paragraph of prose per blank line.
    if let Some(Value::String(text)) = map.get_mut("description") {
        *text = unwrap_lines(text);
    }
}

fn unwrap_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|para| para.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Adds `airbyte_type: timestamp_with_timezone` to every date-time string.
fn mark_timestamps(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("date-time") && is_string_schema(map) {
                map.insert("airbyte_type".into(), "timestamp_with_timezone".into());
            }
            map.values_mut().for_each(mark_timestamps);
        }
        Value::Array(items) => items.iter_mut().for_each(mark_timestamps),
        _ => {}
    }
}

fn is_string_schema(map: &Map<String, Value>) -> bool {
    match map.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}
