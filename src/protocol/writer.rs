//! The one place that knows how Airbyte messages are written.
//!
//! stdout is the protocol channel, so it is wrapped in a large `BufWriter` (Rust's `Stdout` is
//! line-buffered, which would cost one syscall per record) and flushed at checkpoints, after
//! every message worth seeing at once (logs, statuses, errors), at least once a second while
//! records flow, and at exit. Records are encoded by [`RecordEncoder`] directly into a byte buffer, which lets the read
//! engine encode a whole page off the output thread and hand the bytes over in one piece.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::messages::*;
use super::redact::redact;
use crate::error::Error;

/// Size of the stdout buffer: large enough that records cost no syscalls, small enough to flush
/// promptly.
pub const STDOUT_BUFFER_BYTES: usize = 256 * 1024;

/// Milliseconds since the Unix epoch, as Airbyte's `emitted_at` wants them.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Writes Airbyte messages, one JSON object per line.
pub struct MessageWriter<W: Write> {
    out: W,
}

impl<W: Write> MessageWriter<W> {
    pub fn new(out: W) -> Self {
        MessageWriter { out }
    }

    fn write(&mut self, message: &Message<'_>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, message).map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }

    pub(crate) fn spec(&mut self, spec: &Value) -> io::Result<()> {
        self.write(&Message::Spec { spec })
    }

    pub(crate) fn catalog(&mut self, catalog: &Value) -> io::Result<()> {
        self.write(&Message::Catalog { catalog })
    }

    pub(crate) fn connection_status(&mut self, succeeded: bool, message: Option<&str>) -> io::Result<()> {
        let message = message.map(redact);
        self.write(&Message::ConnectionStatus {
            connection_status: ConnectionStatus {
                status: if succeeded { "SUCCEEDED" } else { "FAILED" },
                message: message.as_deref(),
            },
        })
    }

    /// A per-stream STATE; `record_count` is the number of records of this stream written since
    /// its previous STATE (the platform checks it against what the destination received).
    pub(crate) fn state(&mut self, stream: &str, stream_state: &Value, record_count: u64) -> io::Result<()> {
        self.write(&Message::State {
            state: StateMessage {
                kind: "STREAM",
                stream: StreamState { stream_descriptor: StreamDescriptor { name: stream }, stream_state },
                source_stats: SourceStats { record_count: record_count as f64 },
            },
        })
    }

    pub(crate) fn log(&mut self, level: LogLevel, message: &str) -> io::Result<()> {
        let message = redact(message);
        self.write(&Message::Log { log: LogMessage { level, message: &message } })
    }

    fn trace(&mut self, trace: TraceMessage<'_>) -> io::Result<()> {
        self.write(&Message::Trace { trace })
    }

    fn empty_trace(kind: &'static str) -> TraceMessage<'static> {
        TraceMessage { kind, emitted_at: now_millis() as f64, error: None, stream_status: None, estimate: None }
    }

    /// A TRACE ERROR. `stream` ties the error to one stream when it is about that stream only.
    pub fn error(&mut self, error: &Error, stream: Option<&str>) -> io::Result<()> {
        let message = redact(&error.message);
        let internal = error.internal.as_deref().map(redact);
        self.trace(TraceMessage {
            error: Some(ErrorTrace {
                message: &message,
                internal_message: internal.as_deref(),
                failure_type: error.failure_type.as_str(),
                stream_descriptor: stream.map(|name| StreamDescriptor { name }),
            }),
            ..Self::empty_trace("ERROR")
        })
    }

    /// A STREAM_STATUS; `rate_limited_until` (milliseconds since the epoch) adds the
    /// RATE_LIMITED reason, telling the platform the stream waits for its quota.
    pub(crate) fn stream_status(
        &mut self,
        stream: &str,
        status: StreamStatus,
        rate_limited_until: Option<i64>,
    ) -> io::Result<()> {
        let reasons = rate_limited_until
            .map(|quota_reset| StatusReason { kind: "RATE_LIMITED", rate_limited: RateLimited { quota_reset } })
            .into_iter()
            .collect();
        self.trace(TraceMessage {
            stream_status: Some(StreamStatusTrace {
                stream_descriptor: StreamDescriptor { name: stream },
                status,
                reasons,
            }),
            ..Self::empty_trace("STREAM_STATUS")
        })
    }

    pub(crate) fn estimate(&mut self, stream: &str, rows: u64) -> io::Result<()> {
        self.trace(TraceMessage {
            estimate: Some(EstimateTrace { name: stream, kind: "STREAM", row_estimate: rows }),
            ..Self::empty_trace("ESTIMATE")
        })
    }

    /// Bytes already encoded as whole message lines (see [`RecordEncoder`]).
    pub(crate) fn raw(&mut self, lines: &[u8]) -> io::Result<()> {
        self.out.write_all(lines)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    #[cfg(test)]
    pub(crate) fn into_inner(self) -> W {
        self.out
    }
}

/// Encodes RECORD lines for one stream into a byte buffer.
///
/// The envelope around `data` is constant for a stream (and, for `emitted_at`, for a page), so
/// its two halves are prepared once; a page's records are encoded into one buffer by the task
/// that read the page, and the output thread writes that buffer as it is.
#[derive(Clone)]
pub(crate) struct RecordEncoder {
    prefix: Vec<u8>,
}

/// Where the per-page part of a RECORD line starts: what follows differs from page to page.
pub(crate) const EMITTED_AT_KEY: &str = ",\"emitted_at\":";

/// The end of every RECORD line of one page: `,"emitted_at":<ms>}}` and a newline.
pub(crate) struct RecordSuffix(Vec<u8>);

impl RecordSuffix {
    pub(crate) fn new(emitted_at: i64) -> Self {
        RecordSuffix(format!("{EMITTED_AT_KEY}{emitted_at}}}}}\n").into_bytes())
    }
}

impl RecordEncoder {
    pub(crate) fn new(stream: &str) -> Self {
        let name = serde_json::to_string(stream).expect("a string always serialises");
        RecordEncoder { prefix: format!(r#"{{"type":"RECORD","record":{{"stream":{name},"data":"#).into_bytes() }
    }

    /// Appends one RECORD line for `data` to `buf`.
    #[cfg(test)]
    pub(crate) fn encode<T: serde::Serialize + ?Sized>(
        &self,
        buf: &mut Vec<u8>,
        data: &T,
        suffix: &RecordSuffix,
    ) -> serde_json::Result<()> {
        self.start(buf);
        serde_json::to_writer(&mut *buf, data)?;
        self.finish(buf, suffix);
        Ok(())
    }

    /// Starts a RECORD line; its `data` object is written next, then [`RecordEncoder::finish`].
    pub(crate) fn start(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.prefix);
    }

    /// Ends a RECORD line started with [`RecordEncoder::start`].
    pub(crate) fn finish(&self, buf: &mut Vec<u8>, suffix: &RecordSuffix) {
        buf.extend_from_slice(&suffix.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(bytes: &[u8]) -> Vec<Value> {
        std::str::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn record_lines_are_airbyte_records() {
        let mut buf = Vec::new();
        let enc = RecordEncoder::new("messages");
        enc.encode(&mut buf, &json!({"id": "m1", "text": "a \"quoted\"\nline"}), &RecordSuffix::new(1_700_000_000_123))
            .unwrap();
        enc.encode(&mut buf, &json!({"id": "m2"}), &RecordSuffix::new(5)).unwrap();
        let got = lines(&buf);
        assert_eq!(
            got[0],
            json!({"type":"RECORD","record":{"stream":"messages","data":{"id":"m1","text":"a \"quoted\"\nline"},"emitted_at":1_700_000_000_123i64}})
        );
        assert_eq!(got[1]["record"]["data"]["id"], "m2");
    }

    #[test]
    fn state_count_is_a_float() {
        let mut w = MessageWriter::new(Vec::new());
        w.state("chats", &json!({"lastUserMessageDatetime": "2026-01-01T00:00:00.000Z"}), 12).unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        assert!(text.contains(r#""sourceStats":{"recordCount":12.0}"#), "{text}");
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["state"]["type"], "STREAM");
        assert_eq!(v["state"]["stream"]["stream_descriptor"]["name"], "chats");
    }

    #[test]
    fn traces_have_the_protocol_shape() {
        let mut w = MessageWriter::new(Vec::new());
        w.error(&Error::config("bad token").with_internal("HTTP 401"), Some("chats")).unwrap();
        w.stream_status("chats", StreamStatus::Incomplete, None).unwrap();
        w.estimate("tickets", 42).unwrap();
        w.log(LogLevel::Warn, "careful").unwrap();
        w.connection_status(false, Some("nope")).unwrap();
        let got = lines(&w.into_inner());
        assert_eq!(got[0]["trace"]["type"], "ERROR");
        assert_eq!(got[0]["trace"]["error"]["failure_type"], "config_error");
        assert_eq!(got[0]["trace"]["error"]["stream_descriptor"]["name"], "chats");
        assert!(got[0]["trace"]["emitted_at"].is_f64());
        assert_eq!(got[1]["trace"]["stream_status"]["status"], "INCOMPLETE");
        assert_eq!(got[2]["trace"]["estimate"], json!({"name":"tickets","type":"STREAM","row_estimate":42}));
        assert_eq!(got[3], json!({"type":"LOG","log":{"level":"WARN","message":"careful"}}));
        assert_eq!(got[4], json!({"type":"CONNECTION_STATUS","connectionStatus":{"status":"FAILED","message":"nope"}}));
    }
}
