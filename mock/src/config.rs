//! Public configuration and value types of the mock.
//!
//! These types are a contract shared with the connector's integration tests, the demo and the
//! benchmarks: keep names and semantics stable.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::variants::Variants;

/// The Botmaker endpoints the mock serves, one per stream: the nine core streams the connector
/// has always read ([`Stream::ALL`]) and the further endpoints ([`Stream::EXTENDED`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    Chats,
    Messages,
    Sessions,
    Calls,
    Contacts,
    Agents,
    Channels,
    Intents,
    Tickets,
    /// GET /whatsapp/templates
    WhatsappTemplates,
    /// GET /whatsapp/accounts
    WhatsappAccounts,
    /// GET /dashboards/agent-metrics
    AgentMetrics,
    /// GET /dashboards/agent-performance
    AgentPerformance,
    /// GET /notifications/campaigns
    Campaigns,
    /// GET /notifications/sent-results
    NotificationResults,
    /// GET /roles
    Roles,
    /// GET /variables
    Variables,
    /// GET /typifications
    Typifications,
    /// GET /tickets/field-definitions
    TicketFieldDefinitions,
    /// GET /webhooks
    Webhooks,
    /// GET /notifications/contacts-blacklist
    ContactsBlacklist,
    /// GET /billing/whatsapp/billed-conversations
    BilledConversations,
}

/// How many streams (endpoints) there are: the length of [`Stream::EVERY`].
pub(crate) const STREAMS: usize = 22;

impl Stream {
    /// The nine core streams, in a fixed order. (It stays these nine: callers iterate it as "the
    /// streams the connector reads"; [`Stream::EVERY`] has every endpoint.)
    pub const ALL: [Stream; 9] = [
        Stream::Chats,
        Stream::Messages,
        Stream::Sessions,
        Stream::Calls,
        Stream::Contacts,
        Stream::Agents,
        Stream::Channels,
        Stream::Intents,
        Stream::Tickets,
    ];

    /// The endpoints beyond the core streams, in a fixed order.
    pub const EXTENDED: [Stream; 13] = [
        Stream::WhatsappTemplates,
        Stream::WhatsappAccounts,
        Stream::AgentMetrics,
        Stream::AgentPerformance,
        Stream::Campaigns,
        Stream::NotificationResults,
        Stream::Roles,
        Stream::Variables,
        Stream::Typifications,
        Stream::TicketFieldDefinitions,
        Stream::Webhooks,
        Stream::ContactsBlacklist,
        Stream::BilledConversations,
    ];

    /// Every endpoint: [`Stream::ALL`] then [`Stream::EXTENDED`] (also the order of
    /// `/_mock/counts`).
    pub const EVERY: [Stream; STREAMS] = [
        Stream::Chats,
        Stream::Messages,
        Stream::Sessions,
        Stream::Calls,
        Stream::Contacts,
        Stream::Agents,
        Stream::Channels,
        Stream::Intents,
        Stream::Tickets,
        Stream::WhatsappTemplates,
        Stream::WhatsappAccounts,
        Stream::AgentMetrics,
        Stream::AgentPerformance,
        Stream::Campaigns,
        Stream::NotificationResults,
        Stream::Roles,
        Stream::Variables,
        Stream::Typifications,
        Stream::TicketFieldDefinitions,
        Stream::Webhooks,
        Stream::ContactsBlacklist,
        Stream::BilledConversations,
    ];

    /// The stream name (snake case). For the core streams it is also the endpoint path.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Chats => "chats",
            Stream::Messages => "messages",
            Stream::Sessions => "sessions",
            Stream::Calls => "calls",
            Stream::Contacts => "contacts",
            Stream::Agents => "agents",
            Stream::Channels => "channels",
            Stream::Intents => "intents",
            Stream::Tickets => "tickets",
            Stream::WhatsappTemplates => "whatsapp_templates",
            Stream::WhatsappAccounts => "whatsapp_accounts",
            Stream::AgentMetrics => "agent_metrics",
            Stream::AgentPerformance => "agent_performance",
            Stream::Campaigns => "campaigns",
            Stream::NotificationResults => "notification_results",
            Stream::Roles => "roles",
            Stream::Variables => "variables",
            Stream::Typifications => "typifications",
            Stream::TicketFieldDefinitions => "ticket_field_definitions",
            Stream::Webhooks => "webhooks",
            Stream::ContactsBlacklist => "contacts_blacklist",
            Stream::BilledConversations => "billed_conversations",
        }
    }

    /// The endpoint path below `/v2.0/`, e.g. `notifications/sent-results`.
    pub fn path(self) -> &'static str {
        match self {
            Stream::WhatsappTemplates => "whatsapp/templates",
            Stream::WhatsappAccounts => "whatsapp/accounts",
            Stream::AgentMetrics => "dashboards/agent-metrics",
            Stream::AgentPerformance => "dashboards/agent-performance",
            Stream::Campaigns => "notifications/campaigns",
            Stream::NotificationResults => "notifications/sent-results",
            Stream::TicketFieldDefinitions => "tickets/field-definitions",
            Stream::ContactsBlacklist => "notifications/contacts-blacklist",
            Stream::BilledConversations => "billing/whatsapp/billed-conversations",
            other => other.name(),
        }
    }

    /// The stream served at `path` (below `/v2.0/`), if any.
    pub fn from_path(path: &str) -> Option<Stream> {
        Stream::EVERY.into_iter().find(|s| s.path() == path)
    }

    /// Streams whose records carry a time the API filters or sorts on (the others are
    /// full-refresh lists).
    pub fn is_windowed(self) -> bool {
        matches!(
            self,
            Stream::Chats
                | Stream::Messages
                | Stream::Sessions
                | Stream::Calls
                | Stream::Tickets
                | Stream::AgentMetrics
                | Stream::AgentPerformance
                | Stream::NotificationResults
                | Stream::BilledConversations
        )
    }

    /// Windowed streams the API lists newest first by their time (/notifications/sent-results).
    pub(crate) fn is_newest_first(self) -> bool {
        self == Stream::NotificationResults
    }

    pub(crate) fn idx(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stream {
    type Err = anyhow::Error;
    /// A stream name (any case) or an endpoint path (`notifications/sent-results`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Stream::EVERY
            .into_iter()
            .find(|x| x.name().eq_ignore_ascii_case(t) || x.path() == t.trim_matches('/'))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown stream {s:?} (expected one of: {})",
                    Stream::EVERY.map(|x| x.name()).join(", ")
                )
            })
    }
}

/// Number of generated (base) records of each core stream ([`Stream::ALL`]); the further
/// endpoints are counted in [`ExtendedCounts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StreamCounts {
    pub chats: u64,
    pub messages: u64,
    pub sessions: u64,
    pub calls: u64,
    pub contacts: u64,
    pub agents: u64,
    pub channels: u64,
    pub intents: u64,
    pub tickets: u64,
}

/// The message of the panic when a [`StreamCounts`] is asked about a stream it does not hold.
fn not_core(stream: Stream) -> String {
    format!("StreamCounts holds the core streams only; {stream} is counted in MockConfig::extended_counts (see MockConfig::set_count)")
}

impl StreamCounts {
    /// Counts derived from one scale figure (see [`MockConfig::with_scale`]).
    pub fn with_scale(scale: u64) -> Self {
        if scale == 0 {
            return StreamCounts::default();
        }
        StreamCounts {
            chats: scale,
            messages: scale,
            sessions: scale,
            calls: scale,
            contacts: scale,
            agents: (scale / 100).clamp(3, 300),
            channels: 6,
            intents: (scale / 50).clamp(3, 2000),
            tickets: scale,
        }
    }

    fn slot(&mut self, stream: Stream) -> Option<&mut u64> {
        Some(match stream {
            Stream::Chats => &mut self.chats,
            Stream::Messages => &mut self.messages,
            Stream::Sessions => &mut self.sessions,
            Stream::Calls => &mut self.calls,
            Stream::Contacts => &mut self.contacts,
            Stream::Agents => &mut self.agents,
            Stream::Channels => &mut self.channels,
            Stream::Intents => &mut self.intents,
            Stream::Tickets => &mut self.tickets,
            _ => return None,
        })
    }

    /// # Panics
    /// For a stream outside [`Stream::ALL`] (a bug in the caller: see [`MockConfig::count`]).
    pub fn get(&self, stream: Stream) -> u64 {
        let mut c = *self;
        *c.slot(stream).unwrap_or_else(|| panic!("{}", not_core(stream)))
    }

    /// # Panics
    /// For a stream outside [`Stream::ALL`] (a bug in the caller: see [`MockConfig::set_count`]).
    pub fn set(&mut self, stream: Stream, n: u64) {
        *self.slot(stream).unwrap_or_else(|| panic!("{}", not_core(stream))) = n;
    }

    /// Builder form of [`StreamCounts::set`], e.g. `StreamCounts::with_scale(100).with(Stream::Calls, 0)`.
    pub fn with(mut self, stream: Stream, n: u64) -> Self {
        self.set(stream, n);
        self
    }
}

/// Number of generated (base) records of each endpoint in [`Stream::EXTENDED`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ExtendedCounts {
    pub whatsapp_templates: u64,
    pub whatsapp_accounts: u64,
    pub agent_metrics: u64,
    pub agent_performance: u64,
    pub campaigns: u64,
    pub notification_results: u64,
    pub roles: u64,
    pub variables: u64,
    pub typifications: u64,
    /// The spec shows one object, so one definition by default (see
    /// [`crate::Variants::field_definitions_list`]).
    pub ticket_field_definitions: u64,
    pub webhooks: u64,
    pub contacts_blacklist: u64,
    pub billed_conversations: u64,
}

impl ExtendedCounts {
    /// Counts derived from one scale figure (see [`MockConfig::with_scale`]).
    pub fn with_scale(scale: u64) -> Self {
        if scale == 0 {
            return ExtendedCounts::default();
        }
        ExtendedCounts {
            whatsapp_templates: (scale / 100).clamp(3, 300),
            whatsapp_accounts: 2,
            agent_metrics: scale,
            agent_performance: (scale / 10).max(3),
            campaigns: (scale / 20).clamp(3, 5000),
            notification_results: (scale / 10).max(3),
            roles: (scale / 200).clamp(3, 500),
            variables: (scale / 100).clamp(5, 500),
            typifications: (scale / 200).clamp(4, 300),
            ticket_field_definitions: 1,
            webhooks: 2,
            contacts_blacklist: (scale / 20).max(3),
            billed_conversations: (scale / 4).max(3),
        }
    }

    fn slot(&mut self, stream: Stream) -> Option<&mut u64> {
        Some(match stream {
            Stream::WhatsappTemplates => &mut self.whatsapp_templates,
            Stream::WhatsappAccounts => &mut self.whatsapp_accounts,
            Stream::AgentMetrics => &mut self.agent_metrics,
            Stream::AgentPerformance => &mut self.agent_performance,
            Stream::Campaigns => &mut self.campaigns,
            Stream::NotificationResults => &mut self.notification_results,
            Stream::Roles => &mut self.roles,
            Stream::Variables => &mut self.variables,
            Stream::Typifications => &mut self.typifications,
            Stream::TicketFieldDefinitions => &mut self.ticket_field_definitions,
            Stream::Webhooks => &mut self.webhooks,
            Stream::ContactsBlacklist => &mut self.contacts_blacklist,
            Stream::BilledConversations => &mut self.billed_conversations,
            _ => return None,
        })
    }

    /// The count of an extended stream; `None` for a core one.
    pub fn get(&self, stream: Stream) -> Option<u64> {
        let mut c = *self;
        c.slot(stream).map(|n| *n)
    }

    /// Sets an extended stream's count; false (nothing set) for a core one.
    pub fn set(&mut self, stream: Stream, n: u64) -> bool {
        self.slot(stream).map(|slot| *slot = n).is_some()
    }
}

/// Artificial response latency: every API response waits `base_ms + uniform(0..=jitter_ms)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Latency {
    pub base_ms: u64,
    pub jitter_ms: u64,
}

/// How injected 429 faults announce when to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RetryAfterMode {
    /// No `Retry-After` header (the real API's behaviour is unknown).
    #[default]
    None,
    /// `Retry-After: <seconds>`.
    Seconds,
    /// `Retry-After: <IMF-fixdate>` (RFC 9110 HTTP-date).
    HttpDate,
    /// A deterministic-random choice among the three above, per response.
    Mixed,
}

impl FromStr for RetryAfterMode {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(RetryAfterMode::None),
            "seconds" => Ok(RetryAfterMode::Seconds),
            "http-date" | "httpdate" | "date" => Ok(RetryAfterMode::HttpDate),
            "mixed" => Ok(RetryAfterMode::Mixed),
            _ => anyhow::bail!("unknown Retry-After mode {s:?} (none|seconds|http-date|mixed)"),
        }
    }
}

/// Per-request fault probabilities (each in `0.0..=1.0`, drawn from a deterministic RNG seeded by
/// [`MockConfig::seed`]). At most one of 429/5xx/reset/malformed/body-cut hits a request (they are
/// checked in that order against one draw, so their probabilities add up); `p_slow` is drawn
/// independently and only adds `slow_ms` of delay. Faults replace a response and never change
/// the data a later successful retry returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultConfig {
    /// 429 TOO_MANY_REQUESTS (independent of the real rate limiter).
    pub p_429: f64,
    /// What the injected 429s say about `Retry-After`.
    pub retry_after: RetryAfterMode,
    /// 500/502/503/504, some with an HTML body, some with an ErrorResponse JSON body.
    pub p_5xx: f64,
    /// The connection is reset (RST) without any response.
    pub p_reset: f64,
    /// 200 with a broken body: truncated JSON, an HTML page, or JSON with the wrong envelope.
    pub p_malformed: f64,
    /// The real response is started with its full `Content-Length` but the body is cut short and
    /// the connection closed.
    pub p_body_cut: f64,
    /// An extra `slow_ms` delay before an otherwise normal response.
    pub p_slow: f64,
    pub slow_ms: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            p_429: 0.0,
            retry_after: RetryAfterMode::None,
            p_5xx: 0.0,
            p_reset: 0.0,
            p_malformed: 0.0,
            p_body_cut: 0.0,
            p_slow: 0.0,
            slow_ms: 1500,
        }
    }
}

impl FaultConfig {
    /// No faults at all.
    pub fn none() -> Self {
        Self::default()
    }
}

/// A deliberate misbehaviour of one endpoint, set at runtime with
/// [`crate::MockServer::set_scenario`]. Paging scenarios only affect endpoints paginated with
/// `nextPage` (not /tickets or the endpoints answering one whole list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// `nextPage` always points at the page just served: same items, forever.
    NextPageLoop,
    /// `nextPage` is a URL on another host (`host:port` or `host`); the path and query are kept.
    ForeignNextPage(String),
    /// Every page is served twice in a row through the `nextPage` chain before moving on.
    DuplicatePages,
    /// `nextPage` is `"%%% not a url"`.
    NextPageNotUrl,
    /// A known field of every item has the wrong JSON type (e.g. `"isBanned":"yes"`, a numeric
    /// `creationTime`).
    WrongTypes,
    /// The envelope lacks `items` (or `tickets` for /tickets).
    MissingItems,
    /// `302 Found` with `Location:` the given absolute URL.
    Redirect(String),
    /// This exact response.
    Fixed { status: u16, content_type: String, body: String },
}

/// Server configuration. Cheap to build; [`MockConfig::default`] is `with_scale(1000)`.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Seed of all generated data, ids and fault draws.
    pub seed: u64,
    /// Generated records per core stream (at most one per millisecond of the span for windowed
    /// streams; larger counts are capped).
    pub counts: StreamCounts,
    /// Generated records per extended endpoint (same cap).
    pub extended_counts: ExtendedCounts,
    /// Base data lies in `[anchor - span_days, anchor)`.
    pub span_days: u32,
    /// End of the generated data; `None` = the server start time.
    pub anchor: Option<DateTime<Utc>>,
    /// The only accepted `access-token`.
    pub token: String,
    pub host: IpAddr,
    /// 0 = an ephemeral port.
    pub port: u16,
    /// Per-endpoint token buckets with the limits the spec documents.
    pub rate_limits: bool,
    /// Whether 429s from the rate limiter carry `Retry-After` (seconds).
    pub rate_limit_retry_after: bool,
    pub latency: Latency,
    pub faults: FaultConfig,
    /// Readings of the API docs other than the mock's own (all off by default).
    pub variants: Variants,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig::with_scale(1000)
    }
}

impl MockConfig {
    /// chats, messages, sessions, calls, contacts, tickets, agent metrics = `scale`; agents =
    /// `clamp(scale/100, 3, 300)`; intents = `clamp(scale/50, 3, 2000)`; channels = 6; the other
    /// extended endpoints per [`ExtendedCounts::with_scale`]. `scale == 0` gives an entirely
    /// empty account (every count 0).
    pub fn with_scale(scale: u64) -> Self {
        MockConfig {
            seed: 42,
            counts: StreamCounts::with_scale(scale),
            extended_counts: ExtendedCounts::with_scale(scale),
            span_days: 30,
            anchor: None,
            token: "mock-token-0123456789".to_string(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            rate_limits: true,
            rate_limit_retry_after: false,
            latency: Latency::default(),
            faults: FaultConfig::default(),
            variants: Variants::default(),
        }
    }

    /// The generated records of any stream.
    pub fn count(&self, stream: Stream) -> u64 {
        self.extended_counts.get(stream).unwrap_or_else(|| self.counts.get(stream))
    }

    /// Sets the generated records of any stream.
    pub fn set_count(&mut self, stream: Stream, n: u64) {
        if !self.extended_counts.set(stream, n) {
            self.counts.set(stream, n);
        }
    }

    /// Every stream's count, by [`Stream::idx`].
    pub(crate) fn counts_by_index(&self) -> [u64; STREAMS] {
        Stream::EVERY.map(|s| self.count(s))
    }

    /// Builder form of [`MockConfig::set_count`].
    pub fn with_count(mut self, stream: Stream, n: u64) -> Self {
        self.set_count(stream, n);
        self
    }
}

/// How the `access-token` header of a request compared with the configured token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    Ok,
    Missing,
    Wrong,
    /// `Bearer <token>` (the right token with a prefix the API rejects).
    Bearer,
}

/// One API request as the mock saw it (control endpoints under `/_mock/` are not logged).
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// 1-based arrival order.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub method: String,
    /// Path without the query string.
    pub path: String,
    pub endpoint: Option<Stream>,
    /// Percent-decoded query pairs in request order.
    pub query: Vec<(String, String)>,
    pub auth: AuthOutcome,
    /// Status sent; 0 when the connection was reset without a response.
    pub status: u16,
    /// Injected fault or scenario, e.g. `"429"`, `"5xx"`, `"reset"`, `"malformed"`,
    /// `"body_cut"`, `"slow"`, `"scenario:redirect"`, `"scenario:wrong_types"`; `None` for
    /// rate-limit 429s and normal responses.
    pub fault: Option<String>,
    /// `long-term-search=true` was sent (directly or inside a `nextPage` URL).
    pub long_term_search: bool,
    /// Records in the (intended) response body.
    pub items: usize,
}
