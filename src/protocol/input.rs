//! Reading the JSON files the platform hands us (config, configured catalog, state).
//!
//! Every problem becomes one `config_error` sentence that names the file and, where there is
//! one, the field, so the user knows exactly what to fix. File contents are never echoed: a
//! config file holds the access token.
//!
//! Only regular files are read (after following symlinks): a directory, a named pipe, a socket
//! or a device is refused before it is read (a pipe would block, `/dev/zero` never ends), and
//! never more than [`MAX_INPUT_BYTES`] plus one byte is read, whatever size the file claims.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::escape::printable;
use crate::protocol::redact::excerpt;

/// Files larger than this are refused before parsing; no legitimate config, catalog or state
/// comes close, and it keeps a wrong path (say, a log file) from eating memory.
pub(crate) const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// The UTF-8 byte-order mark some Windows editors put at the start of a text file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads `path` and parses it as JSON. `what` names the file's role ("config", "catalog", "state").
pub(crate) fn read_json_file(path: &Path, what: &str) -> Result<Value> {
    let bytes = read_input_file(path, what, MAX_INPUT_BYTES)?;
    parse_json_bytes(&bytes, &format!("The {what} file '{}'", path.display()))
}

/// Reads the state file: `None` when it is empty (or only whitespace), which the platform
/// sometimes passes to mean "no state".
pub(crate) fn read_state_file(path: &Path) -> Result<Option<Value>> {
    let bytes = read_input_file(path, "state", MAX_INPUT_BYTES)?;
    if without_bom(&bytes).iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    parse_json_bytes(&bytes, &format!("The state file '{}'", path.display())).map(Some)
}

/// Parses `bytes` as JSON, after a UTF-8 byte-order mark if there is one; `subject` starts the
/// error sentence ("The config file 'x.json'").
pub(crate) fn parse_json_bytes(bytes: &[u8], subject: &str) -> Result<Value> {
    let bytes = without_bom(bytes);
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

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// The bytes of the regular file at `path`, refusing anything else and anything over `limit`.
fn read_input_file(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>> {
    let shown = path.display();
    let cannot_read = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => Error::config(format!("The {what} file '{shown}' does not exist.")),
        _ => Error::config(format!("The {what} file '{shown}' cannot be read: {e}.")),
    };
    // Looked at before opening, because opening is what blocks on a pipe (or rewinds a tape).
    ensure_regular_file(&std::fs::metadata(path).map_err(cannot_read)?, path, what)?;
    let file = open_without_blocking(path).map_err(cannot_read)?;
    // And again on what was opened, in case the path was replaced in between.
    let meta = file.metadata().map_err(cannot_read)?;
    ensure_regular_file(&meta, path, what)?;
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize + 1);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(cannot_read)?;
    if bytes.len() as u64 > limit {
        return Err(Error::config(format!(
            "The {what} file '{shown}' is larger than {} MiB, far more than any valid {what} file; check the path.",
            limit >> 20
        )));
    }
    Ok(bytes)
}

fn ensure_regular_file(meta: &Metadata, path: &Path, what: &str) -> Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let shown = path.display();
    if meta.is_dir() {
        return Err(Error::config(format!("The {what} path '{shown}' is a directory, not a JSON file.")));
    }
    Err(Error::config(format!(
        "The {what} path '{shown}' is {}, not a regular file; pass the path of a JSON file.",
        special_kind(meta)
    )))
}

#[cfg(unix)]
fn special_kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &Metadata) -> &'static str {
    "a special file"
}

/// Opens for reading without waiting for a writer (a pipe) and without becoming the
/// controlling terminal (a tty); neither flag changes how a regular file is read.
#[cfg(unix)]
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// At most 80 characters of a value the user gave, for quoting it in a message: enough to
/// recognise it, never a megabyte of it, and redacted before it is cut (see
/// [`excerpt`]). Control characters are kept; quote the result with `{:?}` or pass it through
/// [`printable`].
pub(crate) fn shorten(value: &str) -> String {
    excerpt(value, 80)
}

/// "an object", "a number"... for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserializes `value` into `T`, naming the offending field on failure.
pub(crate) fn from_value_at<T: DeserializeOwned>(value: Value, subject: &str) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        // serde quotes the offending value: keep a megabyte-long one from becoming the message.
        let inner = excerpt(&e.into_inner().to_string(), 300);
        let inner = printable(&inner);
        if path == "." || path.is_empty() {
            Error::config(format!("{subject} is invalid: {inner}."))
        } else {
            Error::config(format!("{subject} is invalid at `{}`: {inner}.", printable(&shorten(&path))))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("sbm-input-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn explains_missing_empty_garbage_and_bad_json() {
        let dir = scratch_dir("bad");
        let missing = read_json_file(&dir.join("nope.json"), "config").unwrap_err();
        assert!(missing.message.contains("does not exist"), "{}", missing.message);
        let as_dir = read_json_file(&dir, "config").unwrap_err();
        assert!(as_dir.message.contains("is a directory"));
        for (name, bytes, expect) in [
            ("empty.json", &b"  \n"[..], "is empty"),
            ("bom-only.json", &b"\xEF\xBB\xBF\n"[..], "is empty"),
            ("binary.json", &[0xff, 0xfe, 0x00, 0x80][..], "not UTF-8"),
            ("bad.json", &b"{\"a\": }"[..], "not valid JSON"),
            ("two-boms.json", &b"\xEF\xBB\xBF\xEF\xBB\xBF{}"[..], "not valid JSON"),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            let err = read_json_file(&p, "state").unwrap_err();
            assert!(err.message.contains(expect), "{name}: {}", err.message);
            assert!(err.message.contains(name), "{name}: {}", err.message);
            assert!(err.is_config());
        }
    }

    #[test]
    fn accepts_a_byte_order_mark() {
        let dir = scratch_dir("bom");
        let p = dir.join("bom.json");
        std::fs::write(&p, b"\xEF\xBB\xBF{\"a\": 1}").unwrap();
        assert_eq!(read_json_file(&p, "catalog").unwrap(), serde_json::json!({"a": 1}));
        assert_eq!(read_state_file(&p).unwrap(), Some(serde_json::json!({"a": 1})));
    }

    #[test]
    fn an_empty_state_file_is_no_state() {
        let dir = scratch_dir("state");
        for (name, bytes) in [("empty", &b""[..]), ("blank", &b" \n\t"[..]), ("bom", &b"\xEF\xBB\xBF\r\n"[..])] {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            assert_eq!(read_state_file(&p).unwrap(), None, "{name}");
        }
    }

    #[test]
    fn refuses_files_over_the_limit_whatever_their_metadata_says() {
        let dir = scratch_dir("limit");
        let p = dir.join("big.json");
        std::fs::write(&p, b"[1, 2, 3, 4]").unwrap();
        let err = read_input_file(&p, "state", 11).unwrap_err();
        assert!(err.is_config() && err.message.contains("larger than"), "{}", err.message);
        assert_eq!(read_input_file(&p, "state", 12).unwrap(), b"[1, 2, 3, 4]");
        // Files in /proc say they are empty; they are read, and cut off, all the same.
        #[cfg(target_os = "linux")]
        {
            let proc_file = Path::new("/proc/self/maps");
            assert_eq!(std::fs::metadata(proc_file).unwrap().len(), 0);
            let err = read_input_file(proc_file, "config", 16).unwrap_err();
            assert!(err.message.contains("larger than"), "{}", err.message);
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_devices_pipes_and_sockets_without_opening_them() {
        let dir = scratch_dir("special");
        let socket = dir.join("socket");
        let _ = std::fs::remove_file(&socket);
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let fifo = dir.join("fifo.json");
        let _ = std::fs::remove_file(&fifo);
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let zero_link = dir.join("zero.json");
        let _ = std::fs::remove_file(&zero_link);
        std::os::unix::fs::symlink("/dev/zero", &zero_link).unwrap();
        for (path, expect) in [
            (zero_link.as_path(), "a device"),
            (Path::new("/dev/urandom"), "a device"),
            (Path::new("/dev/null"), "a device"),
            (socket.as_path(), "a socket"),
            (fifo.as_path(), "a named pipe"),
        ] {
            let err = read_json_file(path, "catalog").unwrap_err();
            assert!(err.is_config() && err.message.contains(expect), "{}: {}", path.display(), err.message);
            assert!(err.message.contains("not a regular file"), "{}", err.message);
        }
    }

    #[test]
    fn long_or_odd_values_in_serde_errors_are_cut_and_escaped() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Numbers {
            n: u32,
        }
        let value = serde_json::json!({"n": format!("\u{1b}[2J{}", "9".repeat(1 << 20))});
        let err = from_value_at::<Numbers>(value, "The config file 'c.json'").unwrap_err();
        assert!(err.message.len() < 500, "{} bytes", err.message.len());
        assert!(!err.message.contains('\u{1b}'), "{}", err.message);
        assert!(err.message.contains("`n`"), "{}", err.message);
    }
}
