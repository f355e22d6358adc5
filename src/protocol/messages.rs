//! Outgoing Airbyte messages, serialised from borrowed data.

use serde::Serialize;
use serde_json::Value;

/// The Airbyte LOG levels this source writes (errors go out as TRACE ERROR messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum LogLevel {
    Warn,
    Info,
}

/// Airbyte stream statuses (TRACE STREAM_STATUS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum StreamStatus {
    Started,
    Running,
    Complete,
    Incomplete,
}

/// The envelope: `{"type": "...", "<payload>": {...}}`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Message<'a> {
    Spec {
        spec: &'a Value,
    },
    ConnectionStatus {
        #[serde(rename = "connectionStatus")]
        connection_status: ConnectionStatus<'a>,
    },
    Catalog {
        catalog: &'a Value,
    },
    State {
        state: StateMessage<'a>,
    },
    Log {
        log: LogMessage<'a>,
    },
    Trace {
        trace: TraceMessage<'a>,
    },
}

#[derive(Serialize)]
pub(crate) struct ConnectionStatus<'a> {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct StreamDescriptor<'a> {
    pub name: &'a str,
}

#[derive(Serialize)]
pub(crate) struct StateMessage<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub stream: StreamState<'a>,
    #[serde(rename = "sourceStats")]
    pub source_stats: SourceStats,
}

#[derive(Serialize)]
pub(crate) struct StreamState<'a> {
    pub stream_descriptor: StreamDescriptor<'a>,
    pub stream_state: &'a Value,
}

#[derive(Serialize)]
pub(crate) struct SourceStats {
    /// A float on purpose: the protocol defines it as a double ("should always have a decimal point").
    #[serde(rename = "recordCount")]
    pub record_count: f64,
}

#[derive(Serialize)]
pub(crate) struct LogMessage<'a> {
    pub level: LogLevel,
    pub message: &'a str,
}

#[derive(Serialize)]
pub(crate) struct TraceMessage<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub emitted_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorTrace<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_status: Option<StreamStatusTrace<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<EstimateTrace<'a>>,
}

#[derive(Serialize)]
pub(crate) struct ErrorTrace<'a> {
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_message: Option<&'a str>,
    pub failure_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_descriptor: Option<StreamDescriptor<'a>>,
}

#[derive(Serialize)]
pub(crate) struct StreamStatusTrace<'a> {
    pub stream_descriptor: StreamDescriptor<'a>,
    pub status: StreamStatus,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<StatusReason>,
}

/// Why a stream is in its status: only rate limiting is defined.
#[derive(Serialize)]
pub(crate) struct StatusReason {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub rate_limited: RateLimited,
}

#[derive(Serialize)]
pub(crate) struct RateLimited {
    /// When the quota resets, in milliseconds since the epoch.
    pub quota_reset: i64,
}

#[derive(Serialize)]
pub(crate) struct EstimateTrace<'a> {
    pub name: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub row_estimate: u64,
}
