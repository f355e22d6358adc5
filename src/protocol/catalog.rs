//! The configured catalog `read` receives: which streams to read and in which sync mode.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Full refresh or incremental.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    FullRefresh,
    Incremental,
}

/// One selected stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredStream {
    pub name: String,
    pub sync_mode: SyncMode,
}

#[derive(Deserialize)]
struct RawCatalog {
    streams: Vec<RawConfiguredStream>,
}

#[derive(Deserialize)]
struct RawConfiguredStream {
    stream: RawStream,
    sync_mode: SyncMode,
}

#[derive(Deserialize)]
struct RawStream {
    name: String,
}

/// The configured catalog, in the order the streams were listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredCatalog {
    pub streams: Vec<ConfiguredStream>,
}

impl ConfiguredCatalog {
    /// Reads a configured catalog's JSON. `file` names it in error messages.
    pub fn from_value(value: Value, file: &str) -> Result<ConfiguredCatalog> {
        let subject = format!("The catalog file '{file}'");
        let raw: RawCatalog = crate::input::from_value_at(value, &subject).map_err(|e| {
            if e.message.contains("sync_mode") {
                Error::config(format!("{} sync_mode must be \"full_refresh\" or \"incremental\".", e.message))
            } else {
                e
            }
        })?;
        let mut streams: Vec<ConfiguredStream> = Vec::with_capacity(raw.streams.len());
        for s in raw.streams {
            if streams.iter().any(|seen| seen.name == s.stream.name) {
                return Err(Error::config(format!("{subject} lists stream '{}' twice.", s.stream.name)));
            }
            streams.push(ConfiguredStream { name: s.stream.name, sync_mode: s.sync_mode });
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
            (json!({"streams": [{"stream": {"name": "chats"}, "sync_mode": "INVALID"}]}), "sync_mode must be"),
            (json!({"streams": [{"stream": {}, "sync_mode": "full_refresh"}]}), "name"),
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
}
