//! The nine streams, described as data.
//!
//! [`STREAMS`] is the one table the rest of the connector reads: the endpoint, how it pages,
//! whether and how it is windowed by date, its cursor and primary key, its rate limit and the
//! record type its items become. The read engine is written once against this table.

pub mod codec;
pub mod records;

use std::time::Duration;

use chrono::TimeDelta;
use serde_json::{json, Value};

use crate::config::Config;
use crate::schema::record_schema_for;
use codec::{Codec, Envelope, PageCodec};
use records::*;

/// How an endpoint pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// `nextPage` is an absolute URL, followed as-is with the token re-sent.
    NextPageUrl,
    /// `nextPage` is an opaque token sent back in this query parameter (a URL is followed as one).
    NextPageToken(&'static str),
    /// `limit`/`offset` until `offset >= total` or an empty page.
    LimitOffset { limit: u32 },
    /// One response holds everything.
    Single,
}

/// How a stream is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// `from`/`to` date windows on the API's filter field.
    Windowed(WindowRules),
    /// Tickets: no date filter; `daysBeforeNow` bounds the list and records are filtered by
    /// their cursor.
    DaysBeforeNow,
    /// No dates at all: every sync reads everything.
    Everything,
}

/// The date-window rules of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRules {
    /// How far back a request without `long-term-search=true` can see.
    pub recent_days: i64,
    /// Keep only records whose cursor lies in the window (event streams). Chats are current-state
    /// rows filtered by the API on last activity, so every chat returned is kept.
    pub filter_by_cursor: bool,
    /// Records in one full page, used to size windows.
    pub page_size: u32,
    /// Botmaker lists a record only once it is finished (sessions), so the cursor stays
    /// `session_settle_days` behind now and the last days are read again next time.
    pub listed_when_finished: bool,
}

/// An endpoint's documented rate limit: `requests` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per: Duration,
}

impl RateLimit {
    const fn per_second(requests: u32) -> Self {
        RateLimit { requests, per: Duration::from_secs(1) }
    }
}

/// One stream.
pub struct StreamDef {
    pub name: &'static str,
    /// Endpoint path below `api_url`.
    pub path: &'static str,
    pub pagination: Pagination,
    pub mode: ReadMode,
    /// Incremental cursor field (in the emitted record), or `None` for full-refresh-only streams.
    pub cursor_field: Option<&'static str>,
    pub primary_key: &'static str,
    pub rate_limit: RateLimit,
    /// Whether `lookback_window_days` applies.
    pub uses_lookback: bool,
    /// Query parameters sent on the first request of every window.
    pub params: fn(&Config) -> Vec<(&'static str, String)>,
    pub codec: &'static dyn PageCodec,
    /// The record's JSON Schema.
    pub schema: fn() -> Value,
}

impl std::fmt::Debug for StreamDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamDef").field("name", &self.name).finish_non_exhaustive()
    }
}

impl StreamDef {
    pub fn supports_incremental(&self) -> bool {
        self.cursor_field.is_some()
    }

    pub fn windowed(&self) -> Option<WindowRules> {
        match self.mode {
            ReadMode::Windowed(rules) => Some(rules),
            _ => None,
        }
    }

    /// The stream as `discover` describes it.
    pub fn airbyte_stream(&self) -> Value {
        let mut stream = json!({
            "name": self.name,
            "json_schema": (self.schema)(),
            "supported_sync_modes": if self.supports_incremental() { json!(["full_refresh", "incremental"]) } else { json!(["full_refresh"]) },
            "source_defined_primary_key": [[self.primary_key]],
        });
        if let Some(cursor) = self.cursor_field {
            stream["source_defined_cursor"] = json!(true);
            stream["default_cursor_field"] = json!([cursor]);
            stream["is_resumable"] = json!(true);
        }
        stream
    }
}

fn no_params(_: &Config) -> Vec<(&'static str, String)> {
    Vec::new()
}

fn message_params(_: &Config) -> Vec<(&'static str, String)> {
    vec![("limit", "1500".into())]
}

fn session_params(config: &Config) -> Vec<(&'static str, String)> {
    let mut params = vec![("timestamp-precision", "milliseconds".to_string())];
    for (on, name) in [
        (config.include_session_messages, "include-messages"),
        (config.include_session_events, "include-events"),
        (config.include_session_ai_analysis, "include-ai-analysis"),
    ] {
        if on {
            params.push((name, "true".into()));
        }
    }
    params
}

/// The table.
pub static STREAMS: [StreamDef; 9] = [
    StreamDef {
        name: "chats",
        path: "/chats",
        pagination: Pagination::NextPageUrl,
        mode: ReadMode::Windowed(WindowRules {
            recent_days: 7,
            filter_by_cursor: false,
            page_size: 250,
            listed_when_finished: false,
        }),
        cursor_field: Some("lastUserMessageDatetime"),
        primary_key: "chat_id",
        rate_limit: RateLimit::per_second(3),
        uses_lookback: false,
        params: no_params,
        codec: &Codec::<ChatItem>::new(Envelope::Items),
        schema: record_schema_for::<ChatRecord>,
    },
    StreamDef {
        name: "messages",
        path: "/messages",
        pagination: Pagination::NextPageUrl,
        mode: ReadMode::Windowed(WindowRules {
            recent_days: 3,
            filter_by_cursor: true,
            page_size: 1500,
            listed_when_finished: false,
        }),
        cursor_field: Some("creationTime"),
        primary_key: "id",
        rate_limit: RateLimit::per_second(5),
        uses_lookback: false,
        params: message_params,
        codec: &Codec::<MessageItem>::new(Envelope::Items),
        schema: record_schema_for::<MessageRecord>,
    },
    StreamDef {
        name: "sessions",
        path: "/sessions",
        pagination: Pagination::NextPageUrl,
        mode: ReadMode::Windowed(WindowRules {
            recent_days: 7,
            filter_by_cursor: true,
            page_size: 500,
            listed_when_finished: true,
        }),
        cursor_field: Some("creationTime"),
        primary_key: "id",
        rate_limit: RateLimit::per_second(5),
        uses_lookback: false,
        params: session_params,
        codec: &Codec::<SessionFields>::new(Envelope::Items),
        schema: record_schema_for::<SessionRecord>,
    },
    StreamDef {
        name: "calls",
        path: "/calls",
        pagination: Pagination::NextPageUrl,
        mode: ReadMode::Windowed(WindowRules {
            recent_days: 7,
            filter_by_cursor: true,
            page_size: 250,
            listed_when_finished: false,
        }),
        cursor_field: Some("creationDatetime"),
        primary_key: "id",
        rate_limit: RateLimit::per_second(5),
        uses_lookback: true,
        params: no_params,
        codec: &Codec::<CallItem>::new(Envelope::Items),
        schema: record_schema_for::<CallRecord>,
    },
    StreamDef {
        name: "contacts",
        path: "/contacts",
        pagination: Pagination::NextPageToken("next-page-token"),
        mode: ReadMode::Everything,
        cursor_field: None,
        primary_key: "id",
        rate_limit: RateLimit::per_second(3),
        uses_lookback: false,
        params: no_params,
        codec: &Codec::<ContactRecord>::new(Envelope::Items),
        schema: record_schema_for::<ContactRecord>,
    },
    StreamDef {
        name: "agents",
        path: "/agents",
        pagination: Pagination::NextPageUrl,
        mode: ReadMode::Everything,
        cursor_field: None,
        primary_key: "id",
        rate_limit: RateLimit::per_second(200),
        uses_lookback: false,
        params: no_params,
        codec: &Codec::<AgentRecord>::new(Envelope::Items),
        schema: record_schema_for::<AgentRecord>,
    },
    StreamDef {
        name: "channels",
        path: "/channels",
        pagination: Pagination::Single,
        mode: ReadMode::Everything,
        cursor_field: None,
        primary_key: "id",
        rate_limit: RateLimit::per_second(1),
        uses_lookback: false,
        params: no_params,
        codec: &Codec::<ChannelRecord>::new(Envelope::Items),
        schema: record_schema_for::<ChannelRecord>,
    },
    StreamDef {
        name: "intents",
        path: "/intents",
        pagination: Pagination::NextPageUrl,
        mode: ReadMode::Everything,
        cursor_field: None,
        primary_key: "id",
        rate_limit: RateLimit::per_second(1),
        uses_lookback: false,
        params: no_params,
        codec: &Codec::<IntentRecord>::new(Envelope::Items),
        schema: record_schema_for::<IntentRecord>,
    },
    StreamDef {
        name: "tickets",
        path: "/tickets",
        pagination: Pagination::LimitOffset { limit: 500 },
        mode: ReadMode::DaysBeforeNow,
        cursor_field: Some("creationTime"),
        primary_key: "id",
        rate_limit: RateLimit { requests: 60, per: Duration::from_secs(60) },
        uses_lookback: true,
        params: no_params,
        codec: &Codec::<TicketRecord>::new(Envelope::Tickets),
        schema: record_schema_for::<TicketRecord>,
    },
];

/// Looks a stream up by name.
pub fn find(name: &str) -> Option<&'static StreamDef> {
    STREAMS.iter().find(|s| s.name == name)
}

/// The `discover` catalog.
pub fn catalog() -> Value {
    json!({ "streams": STREAMS.iter().map(StreamDef::airbyte_stream).collect::<Vec<_>>() })
}

/// The longest window: the API refuses a `from`/`to` range over one calendar month (28 days in
/// February), and requests reach one second beyond each end of their window.
pub const MAX_WINDOW: TimeDelta = TimeDelta::days(27);
