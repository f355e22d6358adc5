//! Reading the JSON files the platform hands us (config, configured catalog, state).
//!
//! Every problem becomes one `config_error` sentence that names the file and, where there is
//! one, the field, so the user knows exactly what to fix. File contents are never echoed: a
//! config file holds the access token.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// Files larger than this are refused before parsing; no legitimate config, catalog or state
/// comes close, and it keeps a wrong path (say, a log file) from eating memory.
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Reads `path` and parses it as JSON. `what` names the file's role ("config", "catalog", "state").
pub fn read_json_file(path: &Path, what: &str) -> Result<Value> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::config(format!("The {what} file '{shown}' does not exist.")),
        _ => Error::config(format!("The {what} file '{shown}' cannot be read: {e}.")),
    })?;
    if meta.is_dir() {
        return Err(Error::config(format!("The {what} path '{shown}' is a directory, not a JSON file.")));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(Error::config(format!(
            "The {what} file '{shown}' is {} bytes, larger than any valid {what} file; check the path.",
            meta.len()
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::config(format!("The {what} file '{shown}' cannot be read: {e}.")))?;
    parse_json_bytes(&bytes, &format!("The {what} file '{shown}'"))
}

/// Parses `bytes` as JSON; `subject` starts the error sentence ("The config file 'x.json'").
pub fn parse_json_bytes(bytes: &[u8], subject: &str) -> Result<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::config(format!("{subject} is empty; it must hold a JSON object.")));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(Error::config(format!("{subject} is not UTF-8 text; it must hold JSON.")));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's messages name a position and a category, never the input text.
        Error::config(format!("{subject} is not valid JSON: {e}."))
    })
}

/// At most 80 characters of a value the user gave, for quoting it in a message: enough to
/// recognise it, never a megabyte of it.
pub fn shorten(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        format!("{}…", value.chars().take(MAX).collect::<String>())
    }
}

/// Deserializes `value` into `T`, naming the offending field on failure.
pub fn from_value_at<T: DeserializeOwned>(value: Value, subject: &str) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            Error::config(format!("{subject} is invalid: {inner}."))
        } else {
            Error::config(format!("{subject} is invalid at `{path}`: {inner}."))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_missing_empty_garbage_and_bad_json() {
        let dir = std::env::temp_dir().join(format!("sbm-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = read_json_file(&dir.join("nope.json"), "config").unwrap_err();
        assert!(missing.message.contains("does not exist"), "{}", missing.message);
        let as_dir = read_json_file(&dir, "config").unwrap_err();
        assert!(as_dir.message.contains("is a directory"));
        for (name, bytes, expect) in [
            ("empty.json", &b"  \n"[..], "is empty"),
            ("binary.json", &[0xff, 0xfe, 0x00, 0x80][..], "not UTF-8"),
            ("bad.json", &b"{\"a\": }"[..], "not valid JSON"),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            let err = read_json_file(&p, "state").unwrap_err();
            assert!(err.message.contains(expect), "{name}: {}", err.message);
            assert!(err.message.contains(name), "{name}: {}", err.message);
            assert!(err.is_config());
        }
    }
}
