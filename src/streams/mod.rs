//! The streams, described as data.
//!
//! [`STREAMS`] is the one table the rest of the connector reads: the endpoint, how it is read
//! and paged, its cursor and primary key, its rate limit, the shape of its pages and the record
//! type its schema comes from. The read engine is written once against this table.

pub(crate) mod codec;
pub(crate) mod records;
pub(crate) mod shape;
pub(crate) mod transcode;

use std::time::Duration;

use chrono::TimeDelta;
use serde_json::{json, Value};

use crate::config::Config;
use crate::schema::record_schema_for;
use codec::{Envelope, Transform};
use records::*;

/// How a stream is read. Each mode carries what only it needs, so a stream cannot be declared
/// in a way the engine does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadMode {
    /// `from`/`to` date windows on the API's filter field, each followed through its next-page
    /// links; incremental on `cursor`.
    Windowed { cursor: &'static str, rules: WindowRules },
    /// Tickets: no date filter, only `daysBeforeNow`; pages by `limit`/`offset` and keeps the
    /// records whose `cursor` lies in the span being read.
    RecentList { cursor: &'static str, limit: u32 },
    /// A full list followed through next-page links (a link is followed as-is; anything else is
    /// a token sent back in `token_param`). Resumable: the position reached is checkpointed.
    List { token_param: Option<&'static str> },
    /// Whole calendar months (UTC), each asked for as `<period_param>=yyyy-MM` and followed
    /// through its next-page links; incremental on `cursor`. A month is checkpointed once it has
    /// closed ([`MONTH_SETTLE`] after its end); until then it is read again on every sync. Every
    /// record the API returns for a month is kept: the API decides which month a record belongs
    /// to.
    Months { cursor: &'static str, period_param: &'static str },
    /// One response holds everything.
    Single,
}

/// How far back an endpoint's plain requests (without `long-term-search=true`) reach, and what
/// lies beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecentWindow {
    /// The docs state it: older windows are read with long-term search when it is enabled, and
    /// recorded as a gap (not requested) when it is not.
    Documented { days: i64 },
    /// The docs state none: older windows are first asked without long-term search, and the
    /// answer decides (see `read::window`). `assumed_days` only marks which windows count as old.
    Undocumented { assumed_days: i64 },
    /// The endpoint serves its whole history to plain requests and takes no long-term search
    /// (the dashboards).
    Unlimited,
    /// The endpoint serves only the last `days` days, with or without long-term search (the API
    /// refuses an older `from`): older spans are not requested but reported as unavailable, and
    /// the state passes over them, since no later sync could read them either.
    Retention { days: i64 },
}

impl RecentWindow {
    /// The days plain requests reach back, if there is a limit.
    pub(crate) fn days(self) -> Option<i64> {
        match self {
            RecentWindow::Documented { days }
            | RecentWindow::Undocumented { assumed_days: days }
            | RecentWindow::Retention { days } => Some(days),
            RecentWindow::Unlimited => None,
        }
    }
}

/// The date-window rules of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowRules {
    pub(crate) recent: RecentWindow,
    /// Keep only records whose cursor lies in the window (event streams). Chats are current-state
    /// rows filtered by the API on last activity, so every chat returned is kept.
    pub(crate) filter_by_cursor: bool,
    /// Records in one full page, used to size windows.
    pub(crate) page_size: u32,
    /// Botmaker lists a record only once it is finished (sessions, their agent metrics), so the
    /// cursor stays `session_settle_days` behind now and the last days are read again next time.
    pub(crate) listed_when_finished: bool,
}

/// An endpoint's documented rate limit: `requests` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit {
    pub(crate) requests: u32,
    pub(crate) per: Duration,
}

impl RateLimit {
    const fn per_second(requests: u32) -> Self {
        RateLimit { requests, per: Duration::from_secs(1) }
    }
}

/// One stream.
pub(crate) struct StreamDef {
    pub(crate) name: &'static str,
    /// Endpoint path below `api_url`.
    pub(crate) path: &'static str,
    pub(crate) mode: ReadMode,
    /// The record fields that identify it (all must be present to deduplicate it).
    pub(crate) primary_key: &'static [&'static str],
    pub(crate) rate_limit: RateLimit,
    /// How many days behind the saved cursor every sync starts reading again.
    pub(crate) lookback_days: fn(&Config) -> u32,
    /// Botmaker bills the endpoint as BI data-source consumption: the stream is listed by
    /// `discover` and read only when `include_bi_dashboards` is on.
    pub(crate) bi_dashboard: bool,
    /// Query parameters of every first request.
    pub(crate) params: fn(&Config) -> Vec<(&'static str, String)>,
    /// How a page wraps its items.
    pub(crate) envelope: Envelope,
    /// How an item becomes a record.
    pub(crate) transform: Transform,
    /// The record's JSON Schema.
    pub(crate) schema: fn() -> Value,
}

impl std::fmt::Debug for StreamDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamDef").field("name", &self.name).finish_non_exhaustive()
    }
}

impl StreamDef {
    /// The incremental cursor field, for streams that have one.
    pub(crate) fn cursor_field(&self) -> Option<&'static str> {
        match self.mode {
            ReadMode::Windowed { cursor, .. }
            | ReadMode::RecentList { cursor, .. }
            | ReadMode::Months { cursor, .. } => Some(cursor),
            ReadMode::List { .. } | ReadMode::Single => None,
        }
    }

    /// Whether a sync can resume part-way through this stream.
    pub(crate) fn is_resumable(&self) -> bool {
        !matches!(self.mode, ReadMode::Single)
    }

    /// The stream as `discover` describes it.
    pub(crate) fn airbyte_stream(&self) -> Value {
        let cursor = self.cursor_field();
        let mut schema = (self.schema)();
        remove_key(&mut schema, NUMBER_SENT_AS_TEXT);
        let mut stream = json!({
            "name": self.name,
            "json_schema": schema,
            "supported_sync_modes": if cursor.is_some() { json!(["full_refresh", "incremental"]) } else { json!(["full_refresh"]) },
            "source_defined_primary_key": self.primary_key.iter().map(|k| [k]).collect::<Vec<_>>(),
            "is_resumable": self.is_resumable(),
        });
        if let Some(cursor) = cursor {
            stream["source_defined_cursor"] = json!(true);
            stream["default_cursor_field"] = json!([cursor]);
        }
        stream
    }

    /// The decoder of this stream's pages.
    pub(crate) fn codec(&self) -> codec::Codec {
        codec::Codec::new(
            self.name,
            &(self.schema)(),
            self.envelope,
            self.transform,
            self.primary_key,
            self.cursor_field(),
        )
    }
}

/// Removes `key` from every object in `value`.
fn remove_key(value: &mut Value, key: &str) {
    match value {
        Value::Object(map) => {
            map.remove(key);
            map.values_mut().for_each(|v| remove_key(v, key));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| remove_key(v, key)),
        _ => {}
    }
}

fn no_lookback(_: &Config) -> u32 {
    0
}

/// Calls and tickets: `lookback_window_days`.
fn configured_lookback(config: &Config) -> u32 {
    config.lookback_window_days
}

/// Notification results' counters keep changing for days after a sending.
fn notification_lookback(config: &Config) -> u32 {
    config.notification_results_lookback_days
}

/// A check-in gets its checkout at the end of the agent's shift, within a day.
fn checkout_lookback(_: &Config) -> u32 {
    1
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
        (config.include_session_variables, "include-variables"),
        (config.include_session_events, "include-events"),
        (config.include_session_ai_analysis, "include-ai-analysis"),
    ] {
        if on {
            params.push((name, "true".into()));
        }
    }
    params
}

fn agent_metrics_params(_: &Config) -> Vec<(&'static str, String)> {
    vec![("session-status", "closed".into())]
}

const ID: &[&str] = &["id"];

/// The table.
pub(crate) static STREAMS: [StreamDef; 22] = [
    StreamDef {
        name: "chats",
        path: "/chats",
        mode: ReadMode::Windowed {
            cursor: "lastUserMessageDatetime",
            rules: WindowRules {
                recent: RecentWindow::Documented { days: 7 },
                filter_by_cursor: false,
                page_size: 250,
                listed_when_finished: false,
            },
        },
        primary_key: &["chat_id"],
        rate_limit: RateLimit::per_second(3),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::FlattenChat,
        schema: record_schema_for::<ChatRecord>,
    },
    StreamDef {
        name: "messages",
        path: "/messages",
        mode: ReadMode::Windowed {
            cursor: "creationTime",
            rules: WindowRules {
                recent: RecentWindow::Documented { days: 3 },
                filter_by_cursor: true,
                page_size: 1500,
                listed_when_finished: false,
            },
        },
        primary_key: ID,
        rate_limit: RateLimit::per_second(5),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: message_params,
        envelope: Envelope::Key("items"),
        transform: Transform::FlattenChat,
        schema: record_schema_for::<MessageRecord>,
    },
    StreamDef {
        name: "sessions",
        path: "/sessions",
        mode: ReadMode::Windowed {
            cursor: "creationTime",
            rules: WindowRules {
                recent: RecentWindow::Documented { days: 7 },
                filter_by_cursor: true,
                page_size: 500,
                listed_when_finished: true,
            },
        },
        primary_key: ID,
        rate_limit: RateLimit::per_second(5),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: session_params,
        envelope: Envelope::Key("items"),
        transform: Transform::AddSessionChatId,
        schema: record_schema_for::<SessionRecord>,
    },
    StreamDef {
        name: "calls",
        path: "/calls",
        mode: ReadMode::Windowed {
            cursor: "creationDatetime",
            rules: WindowRules {
                recent: RecentWindow::Undocumented { assumed_days: 7 },
                filter_by_cursor: true,
                page_size: 250,
                listed_when_finished: false,
            },
        },
        primary_key: ID,
        rate_limit: RateLimit::per_second(5),
        lookback_days: configured_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::FlattenChat,
        schema: record_schema_for::<CallRecord>,
    },
    StreamDef {
        name: "contacts",
        path: "/contacts",
        mode: ReadMode::List { token_param: Some("next-page-token") },
        primary_key: ID,
        rate_limit: RateLimit::per_second(3),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<ContactRecord>,
    },
    StreamDef {
        name: "agents",
        path: "/agents",
        mode: ReadMode::List { token_param: None },
        primary_key: ID,
        rate_limit: RateLimit::per_second(200),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<AgentRecord>,
    },
    StreamDef {
        name: "channels",
        path: "/channels",
        mode: ReadMode::Single,
        primary_key: ID,
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::RemoveSecrets,
        schema: record_schema_for::<ChannelRecord>,
    },
    StreamDef {
        name: "intents",
        path: "/intents",
        mode: ReadMode::List { token_param: None },
        primary_key: ID,
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<IntentRecord>,
    },
    StreamDef {
        name: "tickets",
        path: "/tickets",
        mode: ReadMode::RecentList { cursor: "creationTime", limit: 500 },
        primary_key: ID,
        rate_limit: RateLimit { requests: 60, per: Duration::from_secs(60) },
        lookback_days: configured_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("tickets"),
        transform: Transform::None,
        schema: record_schema_for::<TicketRecord>,
    },
    StreamDef {
        name: "whatsapp_templates",
        path: "/whatsapp/templates",
        mode: ReadMode::Single,
        primary_key: &["name", "locale"],
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<WhatsAppTemplateRecord>,
    },
    StreamDef {
        name: "whatsapp_accounts",
        path: "/whatsapp/accounts",
        mode: ReadMode::Single,
        primary_key: &["number"],
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<WhatsAppAccountRecord>,
    },
    StreamDef {
        name: "agent_metrics",
        path: "/dashboards/agent-metrics",
        mode: ReadMode::Windowed {
            cursor: "sessionCreationTime",
            rules: WindowRules {
                recent: RecentWindow::Unlimited,
                filter_by_cursor: true,
                page_size: 5000,
                listed_when_finished: true,
            },
        },
        primary_key: &["sessionId", "agentId"],
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: true,
        params: agent_metrics_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<AgentMetricRecord>,
    },
    StreamDef {
        name: "agent_performance",
        path: "/dashboards/agent-performance",
        mode: ReadMode::Windowed {
            cursor: "checkin",
            rules: WindowRules {
                recent: RecentWindow::Unlimited,
                filter_by_cursor: true,
                page_size: 5000,
                listed_when_finished: false,
            },
        },
        primary_key: &["agentEmail", "checkin"],
        rate_limit: RateLimit::per_second(1),
        lookback_days: checkout_lookback,
        bi_dashboard: true,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<AgentPerformanceRecord>,
    },
    StreamDef {
        name: "campaigns",
        path: "/notifications/campaigns",
        mode: ReadMode::List { token_param: None },
        primary_key: ID,
        rate_limit: RateLimit::per_second(5),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<CampaignRecord>,
    },
    StreamDef {
        name: "notification_results",
        path: "/notifications/sent-results",
        mode: ReadMode::Windowed {
            cursor: "start",
            rules: WindowRules {
                recent: RecentWindow::Retention { days: NOTIFICATION_RESULTS_RETENTION_DAYS },
                filter_by_cursor: true,
                page_size: 500,
                listed_when_finished: false,
            },
        },
        primary_key: &["notificationInstanceId"],
        rate_limit: RateLimit::per_second(30),
        lookback_days: notification_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<NotificationResultRecord>,
    },
    StreamDef {
        name: "roles",
        path: "/roles",
        mode: ReadMode::List { token_param: None },
        primary_key: ID,
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<RoleRecord>,
    },
    StreamDef {
        name: "variables",
        path: "/variables",
        mode: ReadMode::Single,
        primary_key: ID,
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("variables"),
        transform: Transform::None,
        schema: record_schema_for::<VariableRecord>,
    },
    StreamDef {
        name: "typifications",
        path: "/typifications",
        mode: ReadMode::Single,
        primary_key: ID,
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("typifications"),
        transform: Transform::None,
        schema: record_schema_for::<TypificationRecord>,
    },
    StreamDef {
        name: "ticket_field_definitions",
        path: "/tickets/field-definitions",
        mode: ReadMode::Single,
        primary_key: ID,
        rate_limit: RateLimit { requests: 60, per: Duration::from_secs(60) },
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::OneOrMany,
        transform: Transform::None,
        schema: record_schema_for::<TicketFieldDefinitionRecord>,
    },
    StreamDef {
        name: "webhooks",
        path: "/webhooks",
        mode: ReadMode::Single,
        primary_key: ID,
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::RemoveSecrets,
        schema: record_schema_for::<WebhookRecord>,
    },
    StreamDef {
        name: "contacts_blacklist",
        path: "/notifications/contacts-blacklist",
        mode: ReadMode::List { token_param: None },
        primary_key: &["contact"],
        rate_limit: RateLimit::per_second(30),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("contacts"),
        transform: Transform::WrapString("contact"),
        schema: record_schema_for::<BlacklistedContactRecord>,
    },
    StreamDef {
        name: "billed_conversations",
        path: "/billing/whatsapp/billed-conversations",
        mode: ReadMode::Months { cursor: "startDatetime", period_param: "billingPeriod" },
        primary_key: &["whatsappConversationId"],
        rate_limit: RateLimit::per_second(1),
        lookback_days: no_lookback,
        bi_dashboard: false,
        params: no_params,
        envelope: Envelope::Key("items"),
        transform: Transform::None,
        schema: record_schema_for::<BilledConversationRecord>,
    },
];

/// Looks a stream up by name.
pub(crate) fn find(name: &str) -> Option<&'static StreamDef> {
    STREAMS.iter().find(|s| s.name == name)
}

/// The `discover` catalog: every stream, less those Botmaker bills as BI data-source
/// consumption unless `include_bi_dashboards` is on.
pub(crate) fn catalog(include_bi_dashboards: bool) -> Value {
    let streams: Vec<Value> =
        STREAMS.iter().filter(|s| include_bi_dashboards || !s.bi_dashboard).map(StreamDef::airbyte_stream).collect();
    json!({ "streams": streams })
}

/// The longest window: the API refuses a `from`/`to` range over one calendar month (28 days in
/// February), and requests reach one second beyond each end of their window.
pub(crate) const MAX_WINDOW: TimeDelta = TimeDelta::days(27);

/// How far back /notifications/sent-results reaches: the docs say three months, which is 89 days
/// at the shortest (February to April), so nothing asked for is ever refused.
pub(crate) const NOTIFICATION_RESULTS_RETENTION_DAYS: i64 = 89;

/// How long after its end a billing month is still read again: billing data of the month's last
/// hours may come in a little late.
pub(crate) const MONTH_SETTLE: TimeDelta = TimeDelta::days(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stream_decodes_with_its_own_schema() {
        for def in &STREAMS {
            let codec = def.codec();
            let page = codec.decode(br#"{"items":[],"tickets":[],"variables":[],"typifications":[],"contacts":[]}"#);
            assert!(page.is_ok(), "{}: {page:?}", def.name);
            let schema = (def.schema)();
            for key in def.primary_key.iter().chain(def.cursor_field().as_ref()) {
                assert!(schema["properties"].get(*key).is_some(), "{}: `{key}` is not in the schema", def.name);
            }
        }
    }

    #[test]
    fn bi_dashboards_are_listed_only_when_enabled() {
        let names = |include| -> Vec<String> {
            catalog(include)["streams"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().into()).collect()
        };
        let billed: Vec<&str> = STREAMS.iter().filter(|s| s.bi_dashboard).map(|s| s.name).collect();
        assert_eq!(billed, ["agent_metrics", "agent_performance"]);
        assert_eq!(names(true).len(), STREAMS.len());
        assert_eq!(names(false).len(), STREAMS.len() - billed.len());
        assert!(names(false).iter().all(|n| !billed.contains(&n.as_str())));
    }

    #[test]
    fn the_numbers_as_text_marker_stays_out_of_the_catalog() {
        let def = find("agent_metrics").unwrap();
        assert_eq!((def.schema)()["properties"]["onHold"][records::NUMBER_SENT_AS_TEXT], true);
        let text = catalog(true).to_string();
        assert!(!text.contains(records::NUMBER_SENT_AS_TEXT));
        let on_hold = &def.airbyte_stream()["json_schema"]["properties"]["onHold"];
        assert_eq!(on_hold["type"], json!(["null", "number"]), "{on_hold}");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = STREAMS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), STREAMS.len());
    }
}
