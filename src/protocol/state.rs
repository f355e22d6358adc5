//! Incoming state: every form the platform, the CDK tooling and PyAirbyte produce, reduced to
//! one cursor per stream.
//!
//! Accepted: an array of per-stream STATE messages, GLOBAL states (their `stream_states`),
//! LEGACY states (`data` = `{stream: blob}`), the bare legacy object `{stream: blob}`, and no
//! state at all (`[]`, `{}`, an empty file). `stream_state: null` resets that stream.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::protocol::input::{kind_of, shorten};

/// The raw state blobs per stream name; `None` means "reset this stream" (`stream_state: null`).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct InputState {
    streams: HashMap<String, Option<Value>>,
}

impl InputState {
    /// Reads a state file's JSON. `file` names it in error messages.
    pub(crate) fn from_value(value: Value, file: &str) -> Result<InputState> {
        let mut state = InputState::default();
        let subject = format!("The state file '{file}'");
        match value {
            Value::Null => {}
            Value::Array(messages) => {
                for (i, message) in messages.into_iter().enumerate() {
                    state.add_message(message, &format!("{subject}, entry {i},"))?;
                }
            }
            Value::Object(map) if looks_like_state_message(&map) => state.add_message(Value::Object(map), &subject)?,
            Value::Object(map) => state.add_legacy(map, &subject)?,
            other => {
                return Err(Error::config(format!(
                    "{subject} must hold a JSON array of state messages (or a legacy state object), not {}.",
                    kind_of(&other)
                )))
            }
        }
        Ok(state)
    }

    fn add_message(&mut self, message: Value, subject: &str) -> Result<()> {
        let Value::Object(mut map) = message else {
            return Err(Error::config(format!("{subject} must be a state message object, not {}.", kind_of(&message))));
        };
        let kind = map.get("type").and_then(Value::as_str).map(str::to_ascii_uppercase);
        match kind.as_deref() {
            Some("STREAM") => self.add_stream_state(map.remove("stream"), subject),
            Some("GLOBAL") => {
                let stream_states = map.get_mut("global").and_then(|g| g.get_mut("stream_states")).map(Value::take);
                match stream_states {
                    Some(Value::Array(states)) => {
                        for s in states {
                            self.add_stream_state(Some(s), subject)?;
                        }
                        Ok(())
                    }
                    Some(Value::Null) | None => Ok(()),
                    Some(other) => Err(Error::config(format!(
                        "{subject}: `global.stream_states` must be an array, not {}.",
                        kind_of(&other)
                    ))),
                }
            }
            Some("LEGACY") | None => match map.remove("data") {
                Some(Value::Object(data)) => self.add_legacy(data, subject),
                Some(Value::Null) | None if kind.is_none() && map.get("stream").is_some() => {
                    self.add_stream_state(map.remove("stream"), subject)
                }
                Some(Value::Null) | None => Ok(()),
                Some(other) => {
                    Err(Error::config(format!("{subject}: legacy `data` must be an object, not {}.", kind_of(&other))))
                }
            },
            Some(other) => Err(Error::config(format!(
                "{subject} has state type {:?}; expected STREAM, GLOBAL or LEGACY.",
                shorten(other)
            ))),
        }
    }

    fn add_stream_state(&mut self, stream: Option<Value>, subject: &str) -> Result<()> {
        let Some(Value::Object(mut stream)) = stream else {
            return Err(Error::config(format!("{subject}: a STREAM state needs a `stream` object.")));
        };
        let name = stream
            .get("stream_descriptor")
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::config(format!("{subject}: `stream.stream_descriptor.name` is missing.")))?;
        let blob = match stream.remove("stream_state") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        };
        self.streams.insert(name, blob);
        Ok(())
    }

    fn add_legacy(&mut self, data: Map<String, Value>, _subject: &str) -> Result<()> {
        for (name, blob) in data {
            self.streams.insert(name, if blob.is_null() { None } else { Some(blob) });
        }
        Ok(())
    }

    /// What the state file says about `stream`.
    pub(crate) fn blob(&self, stream: &str) -> Blob<'_> {
        match self.streams.get(stream) {
            None => Blob::Absent,
            Some(None) => Blob::Reset,
            Some(Some(value)) => Blob::Value(value),
        }
    }
}

/// One stream's saved state, as the state file gave it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Blob<'a> {
    /// The file says nothing about the stream.
    Absent,
    /// `stream_state: null`: read the stream again from `start_date`.
    Reset,
    Value(&'a Value),
}

fn looks_like_state_message(map: &Map<String, Value>) -> bool {
    matches!(map.get("type"), Some(Value::String(_)))
        && (map.contains_key("stream") || map.contains_key("global") || map.contains_key("data"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: &str = "2024-03-01T00:00:00.000Z";

    fn blob_of(state: Value, stream: &str) -> Option<Value> {
        match InputState::from_value(state, "state.json").unwrap().blob(stream) {
            Blob::Value(v) => Some(v.clone()),
            Blob::Absent | Blob::Reset => None,
        }
    }

    #[test]
    fn reads_every_input_form() {
        let expected = Some(json!({"creationTime": T}));
        let forms = [
            json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "messages", "namespace": null}, "stream_state": {"creationTime": T}}}]),
            json!([{"type":"STREAM","stream":{"stream_descriptor":{"name":"messages","namespace":null},"stream_state":{"creationTime":T}},"global_":null,"data":null,"sourceStats":{"recordCount":3.0,"rejectedRecordCount":null},"destinationStats":null}]),
            json!([{"type": "GLOBAL", "global": {"shared_state": {"x": 1}, "stream_states": [{"stream_descriptor": {"name": "messages"}, "stream_state": {"creationTime": T}}]}}]),
            json!([{"type": "LEGACY", "data": {"messages": {"creationTime": T}}}]),
            json!([{"data": {"messages": {"creationTime": T}}}]),
            json!({"messages": {"creationTime": T}}),
            json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": "messages"}, "stream_state": {"creationTime": T}}}),
        ];
        for form in forms {
            assert_eq!(blob_of(form.clone(), "messages"), expected, "{form}");
        }
        for empty in [json!([]), json!({}), Value::Null] {
            assert_eq!(blob_of(empty, "messages"), None);
        }
    }

    #[test]
    fn null_or_empty_stream_state_starts_over() {
        let reset =
            json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "messages"}, "stream_state": null}}]);
        assert_eq!(InputState::from_value(reset, "s").unwrap().blob("messages"), Blob::Reset);
        assert_eq!(InputState::default().blob("messages"), Blob::Absent);
    }

    #[test]
    fn malformed_files_are_explained() {
        for (state, expect) in [
            (json!("text"), "JSON array"),
            (json!([1]), "entry 0"),
            (json!([{"type": "PER_STREAM", "stream": {}}]), "PER_STREAM"),
            (json!([{"type": "STREAM"}]), "`stream` object"),
            (json!([{"type": "STREAM", "stream": {"stream_state": {}}}]), "stream_descriptor.name"),
            (json!([{"type": "GLOBAL", "global": {"stream_states": 3}}]), "stream_states"),
        ] {
            let err = InputState::from_value(state.clone(), "state.json").unwrap_err();
            assert!(err.message.contains(expect), "{state}: {}", err.message);
        }
    }

    #[test]
    fn types_from_the_file_are_quoted_short() {
        let long_type = "X".repeat(1 << 20);
        let err = InputState::from_value(json!([{"type": long_type, "stream": {}}]), "state.json").unwrap_err();
        assert!(err.message.len() < 300, "{} bytes", err.message.len());
    }

    #[test]
    fn other_streams_state_is_ignored() {
        let s = json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "nonexistent"}, "stream_state": {"whatever": 1}}}]);
        assert_eq!(blob_of(s, "messages"), None);
    }
}
