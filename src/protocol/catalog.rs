//! The configured catalog `read` receives: which streams to read and in which sync mode.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::escape::printable;
use crate::protocol::input::{kind_of, shorten};

/// Full refresh or incremental.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncMode {
    FullRefresh,
    Incremental,
}

/// One selected stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfiguredStream {
    pub name: String,
    pub sync_mode: SyncMode,
}

/// The configured catalog, in the order the streams were listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfiguredCatalog {
    pub streams: Vec<ConfiguredStream>,
}

impl ConfiguredCatalog {
    /// Reads a configured catalog's JSON. `file` names it in error messages.
    ///
    /// Only `streams[].stream.name` and `streams[].sync_mode` matter to this source; everything
    /// else the platform or PyAirbyte adds is accepted and ignored.
    pub(crate) fn from_value(value: Value, file: &str) -> Result<ConfiguredCatalog> {
        let subject = format!("The catalog file '{file}'");
        let bad = |what: String| Error::config(format!("{subject} {what}"));
        let Value::Object(mut catalog) = value else {
            return Err(bad(format!(
                "must hold a configured catalog: a JSON object with a `streams` array, not {}.",
                kind_of(&value)
            )));
        };
        let entries = match catalog.remove("streams") {
            Some(Value::Array(entries)) => entries,
            None => return Err(bad("has no `streams` array; it must list the streams to read.".into())),
            Some(other) => return Err(bad(format!("has `streams` of type {}, not an array.", kind_of(&other)))),
        };
        let mut streams: Vec<ConfiguredStream> = Vec::with_capacity(entries.len());
        let mut seen: HashSet<String> = HashSet::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            let Value::Object(entry) = entry else {
                return Err(bad(format!(
                    "has `streams[{i}]` of type {}; each entry must be an object with `stream` and `sync_mode`.",
                    kind_of(&entry)
                )));
            };
            let name = match entry.get("stream").map(|s| (s, s.get("name"))) {
                Some((Value::Object(_), Some(Value::String(name)))) if !name.trim().is_empty() => name.clone(),
                Some((Value::Object(_), _)) => {
                    return Err(bad(format!("has no stream name at `streams[{i}].stream.name` (a non-empty string).")))
                }
                _ => return Err(bad(format!("has no `streams[{i}].stream` object."))),
            };
            let sync_mode = match entry.get("sync_mode").and_then(Value::as_str) {
                Some("full_refresh") => SyncMode::FullRefresh,
                Some("incremental") => SyncMode::Incremental,
                other => {
                    let got = other.map_or_else(|| "nothing".to_string(), |s| format!("{:?}", shorten(s)));
                    return Err(bad(format!(
                        "has `streams[{i}].sync_mode` = {got} for stream '{}'; it must be \"full_refresh\" or \"incremental\".",
                        printable(&shorten(&name))
                    )));
                }
            };
            if !seen.insert(name.clone()) {
                return Err(bad(format!("lists stream '{}' twice.", printable(&shorten(&name)))));
            }
            streams.push(ConfiguredStream { name, sync_mode });
        }
        Ok(ConfiguredCatalog { streams })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_pyairbyte_style_catalogs() {
        let v = json!({"streams": [{"stream": {"name": "chats", "json_schema": {}, "supported_sync_modes": ["incremental"]},
            "sync_mode": "incremental", "cursor_field": ["lastUserMessageDatetime"], "destination_sync_mode": "overwrite",
            "primary_key": [["chat_id"]], "generation_id": 1, "minimum_generation_id": 1, "sync_id": 1}]});
        let c = ConfiguredCatalog::from_value(v, "catalog.json").unwrap();
        assert_eq!(c.streams, vec![ConfiguredStream { name: "chats".into(), sync_mode: SyncMode::Incremental }]);
    }

    #[test]
    fn explains_bad_catalogs() {
        for (v, expect) in [
            (json!({}), "streams"),
            (json!({"streams": {}}), "streams"),
            (
                json!({"streams": [{"stream": {"name": "chats"}, "sync_mode": "INVALID"}]}),
                "must be \"full_refresh\" or",
            ),
            (json!({"streams": [{"stream": {}, "sync_mode": "full_refresh"}]}), "name"),
            (json!([{"stream": {"name": "chats"}, "sync_mode": "full_refresh"}]), "JSON object with a `streams` array"),
            (Value::Null, "not null"),
            (json!({"streams": [1]}), "`streams[0]` of type a number"),
            (json!({"streams": [{"stream": {"name": "chats"}}]}), "sync_mode"),
            (
                json!({"streams": [{"stream": {"name": "a"}, "sync_mode": "full_refresh"}, {"stream": {"name": "a"}, "sync_mode": "full_refresh"}]}),
                "twice",
            ),
        ] {
            let e = ConfiguredCatalog::from_value(v.clone(), "catalog.json").unwrap_err();
            assert!(
                e.is_config() && e.message.contains(expect) && e.message.contains("catalog.json"),
                "{v}: {}",
                e.message
            );
        }
    }

    #[test]
    fn names_are_quoted_with_control_characters_escaped() {
        let name = "chats\u{1b}[2J\n";
        for v in [
            json!({"streams": [{"stream": {"name": name}, "sync_mode": "full_refresh"}, {"stream": {"name": name}, "sync_mode": "full_refresh"}]}),
            json!({"streams": [{"stream": {"name": name}, "sync_mode": "sometimes"}]}),
        ] {
            let e = ConfiguredCatalog::from_value(v, "catalog.json").unwrap_err();
            assert!(e.message.contains("'chats\\u{1b}[2J\\n'"), "{}", e.message);
            assert!(!e.message.chars().any(char::is_control), "{}", e.message);
        }
    }
}
