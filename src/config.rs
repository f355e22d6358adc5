//! The connector's configuration: the struct the spec is generated from, and its validation.
//!
//! `spec` is never written by hand: [`ConfigSpec`]'s doc comments, titles and defaults become the
//! form users fill in. [`Config::from_value`] turns a config file into a validated [`Config`] or
//! one `config_error` sentence that names the field to fix.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Url;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::protocol::input::shorten;
use crate::protocol::redact::register_secret;

/// Where Botmaker's API v2.0 lives.
pub(crate) const DEFAULT_API_URL: &str = "https://api.botmaker.com/v2.0";

/// Regex for `start_date`: a date, or an RFC 3339 date-time with an upper-case `T` and a `Z` or
/// `±HH:MM` offset, every number within its range. [`Config::from_value`] accepts exactly the
/// strings this pattern matches, less those no pattern can rule out: a day past the end of its
/// month (`2024-02-30`), a moment before 1970 or one in the future.
pub(crate) const START_DATE_PATTERN: &str = concat!(
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])",
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
);

/// The form's field groups (`group` on each property, `groups` on the spec): what every user
/// fills in, then the settings that only need changing in particular cases.
const MAIN_GROUP: &str = "main";
const ADVANCED_GROUP: &str = "advanced";

/// Configuration of the Botmaker source.
// Form order (not a doc comment: it would show in the spec): options users decide on take
// `order` 0–19 in the main group; tuning options take 20 and up in the advanced group.
// tests/spec_form.rs holds new fields to that.
#[derive(Deserialize, JsonSchema)]
#[schemars(
    title = "Botmaker Source Spec",
    extend(
        "additionalProperties" = true,
        "groups" = [{"id": MAIN_GROUP}, {"id": ADVANCED_GROUP, "title": "Advanced"}]
    )
)]
pub(crate) struct ConfigSpec {
    /// Botmaker API access token, sent in the `access-token` header. Generate it in Botmaker
    /// under Configuration → Integrations → API (Credentials tab).
    #[schemars(title = "Access token", extend("airbyte_secret" = true, "order" = 0, "group" = MAIN_GROUP))]
    pub access_token: AccessToken,

    /// Records created (or, for chats, active) on or after this date are replicated. UTC, as
    /// `YYYY-MM-DD` or an RFC 3339 date-time such as `2024-01-01T00:00:00Z`.
    #[schemars(
        title = "Start date",
        regex(pattern = START_DATE_PATTERN),
        extend(
            "examples" = ["2024-01-01", "2024-01-01T00:00:00Z"],
            "pattern_descriptor" = "YYYY-MM-DD or YYYY-MM-DDTHH:mm:ssZ",
            "order" = 1,
            "group" = MAIN_GROUP
        )
    )]
    pub start_date: String,

    /// Read chats, messages, sessions and calls older than Botmaker's recent window (7 days;
    /// 3 days for messages) by sending `long-term-search=true`. Botmaker bills long-term searches
    /// as BI data-source consumption, so enable it only to backfill history; the connector sends
    /// it only for the windows that need it. Without it, history before the recent window is
    /// skipped and the sync logs which range.
    #[serde(default)]
    #[schemars(title = "Long-term search", extend("order" = 2, "group" = MAIN_GROUP, "always_show" = true))]
    pub long_term_search: bool,

    /// Add each session's messages to the sessions stream (`include-messages`). Raises
    /// Botmaker's BI data-source cost.
    #[serde(default)]
    #[schemars(title = "Include session messages", extend("order" = 3, "group" = MAIN_GROUP))]
    pub include_session_messages: bool,

    /// Add each session's variables to the sessions stream (`include-variables`). Raises
    /// Botmaker's BI data-source cost.
    #[serde(default)]
    #[schemars(title = "Include session variables", extend("order" = 4, "group" = MAIN_GROUP))]
    pub include_session_variables: bool,

    /// Add each session's events to the sessions stream (`include-events`). Raises Botmaker's BI
    /// data-source cost.
    #[serde(default)]
    #[schemars(title = "Include session events", extend("order" = 5, "group" = MAIN_GROUP))]
    pub include_session_events: bool,

    /// Add Botmaker's AI analysis of each session to the sessions stream
    /// (`include-ai-analysis`). Raises Botmaker's BI data-source cost.
    #[serde(default)]
    #[schemars(title = "Include session AI analysis", extend("order" = 6, "group" = MAIN_GROUP))]
    pub include_session_ai_analysis: bool,

    /// List and read the agent_metrics and agent_performance streams (Botmaker's Agent Metrics
    /// and Agent Performance dashboards). Botmaker bills every request to them as BI data-source
    /// consumption, which raises your Botmaker cost: a first sync asks for the whole history since
    /// the start date, and each later sync for the days since the previous one (agent_metrics also
    /// the last session settle days again). Off by default, so selecting every stream never
    /// incurs that cost by accident.
    #[serde(default)]
    #[schemars(title = "Include BI dashboards (billed)", extend("order" = 7, "group" = MAIN_GROUP))]
    pub include_bi_dashboards: bool,

    /// Calls and tickets are re-read this many days behind the saved cursor on every sync, so
    /// changes made after a sync read them (a recording added to a call, a ticket's new state)
    /// reach the destination, which deduplicates them by `id`. Leave it at 0 (each record read
    /// once) unless you need those later changes; then set it to how many days such changes
    /// usually come in. Each day adds its calls and tickets to every sync.
    #[serde(default)]
    #[schemars(
        title = "Lookback window (days)",
        range(min = 0, max = 60),
        extend("order" = 20, "group" = ADVANCED_GROUP)
    )]
    pub lookback_window_days: u32,

    /// Botmaker lists a session only once it has finished, so the sessions cursor stays this many
    /// days behind now and every sync reads those days again (destinations deduplicate sessions
    /// by `id`). The default of 2 covers almost every session. Raise it if sessions in your
    /// account often stay open longer: a session that finishes after the cursor has passed its
    /// start is never read. Lower it only if all sessions close within hours and you want them
    /// sooner.
    #[serde(default = "default_session_settle_days")]
    #[schemars(
        title = "Session settle time (days)",
        range(min = 0, max = 30),
        extend("order" = 21, "group" = ADVANCED_GROUP)
    )]
    pub session_settle_days: u32,

    /// Upper bound on HTTP requests in flight at once, across all streams; each endpoint's own
    /// rate limit applies on top of it, and those limits, not this setting, bound how fast a
    /// sync goes. Leave it at 8. Lower it if other programs use the same Botmaker account's API
    /// while syncs run and start getting rate-limited.
    #[serde(default = "default_max_concurrent_requests")]
    #[schemars(
        title = "Maximum concurrent requests",
        range(min = 1, max = 64),
        extend("order" = 22, "group" = ADVANCED_GROUP)
    )]
    pub max_concurrent_requests: u32,

    /// The notification_results stream reads this many days behind its saved cursor again on
    /// every sync, because Botmaker keeps updating a sending's delivered, read and answered
    /// counters for days after it; destinations deduplicate them by `notificationInstanceId`.
    /// The default of 3 catches most late counts. Raise it if your counters still change after
    /// that; 0 reads each sending once, with the counters it had then.
    #[serde(default = "default_notification_results_lookback_days")]
    #[schemars(
        title = "Notification results lookback (days)",
        range(min = 0, max = 60),
        extend("order" = 24, "group" = ADVANCED_GROUP)
    )]
    pub notification_results_lookback_days: u32,

    /// Base URL of the Botmaker API. Change it only to use a proxy or a test server; `https://`
    /// is required, except `http://` to a loopback address.
    #[serde(default = "default_api_url")]
    #[schemars(
        title = "API URL",
        extend("format" = "uri", "order" = 23, "group" = ADVANCED_GROUP, "airbyte_hidden" = true)
    )]
    pub api_url: String,
}

fn default_session_settle_days() -> u32 {
    2
}

fn default_notification_results_lookback_days() -> u32 {
    3
}

fn default_max_concurrent_requests() -> u32 {
    8
}

fn default_api_url() -> String {
    DEFAULT_API_URL.to_string()
}

/// The access token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, JsonSchema, Serialize)]
#[schemars(transparent)]
pub(crate) struct AccessToken(String);

impl AccessToken {
    pub(crate) fn new(token: impl Into<String>) -> Self {
        AccessToken(token.into())
    }

    /// The token itself, for the one header that carries it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for AccessToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(AccessToken)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(****)")
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub access_token: AccessToken,
    pub start_date: DateTime<Utc>,
    pub long_term_search: bool,
    pub include_session_messages: bool,
    pub include_session_variables: bool,
    pub include_session_events: bool,
    pub include_session_ai_analysis: bool,
    pub include_bi_dashboards: bool,
    pub lookback_window_days: u32,
    pub notification_results_lookback_days: u32,
    pub session_settle_days: u32,
    pub max_concurrent_requests: u32,
    pub api_url: Url,
}

impl Config {
    /// Validates a parsed config file. `file` names it in error messages.
    pub(crate) fn from_value(value: Value, file: &str) -> Result<Config> {
        let subject = format!("The config file '{file}'");
        let Value::Object(map) = &value else {
            return Err(Error::config(format!("{subject} must hold a JSON object with access_token and start_date.")));
        };
        // Mask the token before anything below can mention it.
        match map.get("access_token") {
            Some(Value::String(s)) => register_secret(s),
            Some(other @ (Value::Number(_) | Value::Bool(_))) => register_secret(&other.to_string()),
            _ => {}
        }
        let spec: ConfigSpec = crate::protocol::input::from_value_at(value, &subject)?;
        let field_error = |field: &str, what: String| Error::config(format!("{subject}: `{field}` {what}"));

        let token = spec.access_token.expose().trim();
        if token.is_empty() {
            return Err(field_error(
                "access_token",
                "is empty; paste the token from Botmaker's Configuration → Integrations → API.".into(),
            ));
        }
        if token.chars().any(|c| c.is_control()) {
            return Err(field_error(
                "access_token",
                "contains control characters; paste the token again without line breaks.".into(),
            ));
        }
        let start_date = parse_start_date(&spec.start_date).map_err(|why| field_error("start_date", why))?;
        for (field, value, max) in [
            ("lookback_window_days", spec.lookback_window_days, 60),
            ("notification_results_lookback_days", spec.notification_results_lookback_days, 60),
            ("session_settle_days", spec.session_settle_days, 30),
            ("max_concurrent_requests", spec.max_concurrent_requests, 64),
        ] {
            if value > max || (field == "max_concurrent_requests" && value == 0) {
                let min = if field == "max_concurrent_requests" { 1 } else { 0 };
                return Err(field_error(field, format!("must be between {min} and {max}, got {value}.")));
            }
        }
        let api_url = parse_api_url(&spec.api_url).map_err(|why| field_error("api_url", why))?;
        Ok(Config {
            access_token: AccessToken::new(token),
            start_date,
            long_term_search: spec.long_term_search,
            include_session_messages: spec.include_session_messages,
            include_session_variables: spec.include_session_variables,
            include_session_events: spec.include_session_events,
            include_session_ai_analysis: spec.include_session_ai_analysis,
            include_bi_dashboards: spec.include_bi_dashboards,
            lookback_window_days: spec.lookback_window_days,
            notification_results_lookback_days: spec.notification_results_lookback_days,
            session_settle_days: spec.session_settle_days,
            max_concurrent_requests: spec.max_concurrent_requests,
            api_url,
        })
    }
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time, as [`START_DATE_PATTERN`] spells them,
/// naming a real moment from 1970 up to now.
fn parse_start_date(raw: &str) -> std::result::Result<DateTime<Utc>, String> {
    let parsed = if !matches_start_date_pattern(raw) {
        None
    } else if raw.len() == "YYYY-MM-DD".len() {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc())
    } else {
        DateTime::parse_from_rfc3339(raw).ok().map(|d| d.with_timezone(&Utc))
    };
    let Some(date) = parsed else {
        return Err(format!(
            "must be a date like 2024-01-01 or a UTC date-time like 2024-01-01T00:00:00Z, got {:?}.",
            shorten(raw)
        ));
    };
    if date.timestamp() < 0 {
        return Err(format!("must be after 1970-01-01, got {:?}.", shorten(raw)));
    }
    if date > Utc::now() {
        return Err(format!("is in the future ({}); set a date in the past.", shorten(raw)));
    }
    Ok(date)
}

/// Whether `raw` matches [`START_DATE_PATTERN`], so the connector takes what the spec's schema
/// lets through (tests/spec_form.rs compares the two on a corpus).
fn matches_start_date_pattern(raw: &str) -> bool {
    let b = raw.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let number = |at: usize| -> u32 { u32::from(b[at] - b'0') * 10 + u32::from(b[at + 1] - b'0') };
    let two_digits_within = |at: usize, min: u32, max: u32| digits(at..at + 2) && (min..=max).contains(&number(at));
    // YYYY-MM-DD
    let date = digits(0..4)
        && b.get(4) == Some(&b'-')
        && two_digits_within(5, 1, 12)
        && b.get(7) == Some(&b'-')
        && two_digits_within(8, 1, 31);
    if !date {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    // THH:MM:SS
    let time = b.get(10) == Some(&b'T')
        && two_digits_within(11, 0, 23)
        && b.get(13) == Some(&b':')
        && two_digits_within(14, 0, 59)
        && b.get(16) == Some(&b':')
        && two_digits_within(17, 0, 59);
    if !time {
        return false;
    }
    // (.fraction)?
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        let fraction = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return false;
        }
        at += 1 + fraction;
    }
    // Z or ±HH:MM, then the end
    match b.get(at) {
        Some(b'Z') => b.len() == at + 1,
        Some(b'+' | b'-') => {
            b.len() == at + 6
                && two_digits_within(at + 1, 0, 23)
                && b[at + 3] == b':'
                && two_digits_within(at + 4, 0, 59)
        }
        _ => false,
    }
}

/// An absolute http(s) URL: https anywhere, plain http only to a loopback host (tests, local
/// proxies), because the token travels in a header.
fn parse_api_url(raw: &str) -> std::result::Result<Url, String> {
    let raw = raw.trim();
    let shown = shorten(raw);
    let url = Url::parse(raw).map_err(|e| format!("is not a valid URL ({e}): {shown:?}."))?;
    if url.host_str().is_none() {
        return Err(format!("must name a host, got {shown:?}."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password; the token goes in access_token.".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not contain a query string or fragment (the token goes in access_token).".into());
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "must use https:// (plain http is only allowed to a loopback address such as 127.0.0.1), got {shown:?}."
            ))
        }
        other => return Err(format!("must be an https:// URL, got scheme {other:?}.")),
    }
    // A trailing slash would double up when endpoint paths are appended.
    let mut url = url;
    let trimmed = url.path().trim_end_matches('/').to_string();
    url.set_path(&trimmed);
    Ok(url)
}

/// Whether `url` points at this machine.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The connector's documentation page: `docs/botmaker.md` in its repository (Cargo.toml's
/// `repository`), until the connector is listed in Airbyte's own catalog.
pub(crate) const DOCUMENTATION_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/botmaker.md");

/// The connector specification (`spec` output), generated from [`ConfigSpec`].
pub(crate) fn connector_specification() -> Value {
    let schema = crate::schema::schema_for::<ConfigSpec>();
    serde_json::json!({
        "documentationUrl": DOCUMENTATION_URL,
        "connectionSpecification": schema,
        "supportsIncremental": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: Value) -> Result<Config> {
        Config::from_value(v, "config.json")
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = config(json!({"access_token": "tok-123456", "start_date": "2024-01-01"})).unwrap();
        assert_eq!(c.start_date.to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert!(!c.long_term_search);
        assert!(!c.include_bi_dashboards, "the billed dashboards are opt-in");
        assert_eq!(c.notification_results_lookback_days, 3);
        assert_eq!(c.session_settle_days, 2);
        assert_eq!(c.max_concurrent_requests, 8);
        assert_eq!(c.api_url.as_str(), "https://api.botmaker.com/v2.0");
        assert_eq!(format!("{:?}", c.access_token), "AccessToken(****)");
        assert!(!format!("{c:?}").contains("tok-123456"));
    }

    #[test]
    fn accepts_datetimes_and_loopback_http() {
        let c = config(json!({"access_token": "t0k3n", "start_date": "2024-01-01T10:00:00.5+02:00",
            "api_url": "http://127.0.0.1:8080/v2.0/"}))
        .unwrap();
        assert_eq!(c.start_date.to_rfc3339(), "2024-01-01T08:00:00.500+00:00");
        assert_eq!(c.api_url.as_str(), "http://127.0.0.1:8080/v2.0");
    }

    #[test]
    fn rejects_bad_values_naming_the_field() {
        let cases = [
            (json!([]), "JSON object"),
            (json!({"start_date": "2024-01-01"}), "access_token"),
            (json!({"access_token": "abcd1234"}), "start_date"),
            (json!({"access_token": "", "start_date": "2024-01-01"}), "`access_token` is empty"),
            (json!({"access_token": "abcd1234", "start_date": "01/02/2024"}), "`start_date`"),
            (json!({"access_token": "abcd1234", "start_date": "2999-01-01"}), "in the future"),
            (json!({"access_token": "abcd1234", "start_date": "2024-02-30"}), "`start_date`"),
            (json!({"access_token": "abcd1234", "start_date": 20240101}), "start_date"),
            (
                json!({"access_token": "abcd1234", "start_date": "2024-01-01", "long_term_search": "yes"}),
                "long_term_search",
            ),
            (
                json!({"access_token": "abcd1234", "start_date": "2024-01-01", "lookback_window_days": -1}),
                "lookback_window_days",
            ),
            (
                json!({"access_token": "abcd1234", "start_date": "2024-01-01", "lookback_window_days": 61}),
                "lookback_window_days",
            ),
            (
                json!({"access_token": "abcd1234", "start_date": "2024-01-01", "notification_results_lookback_days": 61}),
                "notification_results_lookback_days",
            ),
            (
                json!({"access_token": "abcd1234", "start_date": "2024-01-01", "include_bi_dashboards": "yes"}),
                "include_bi_dashboards",
            ),
            (
                json!({"access_token": "abcd1234", "start_date": "2024-01-01", "max_concurrent_requests": 0}),
                "max_concurrent_requests",
            ),
            (
                json!({"access_token": "abcd1234", "start_date": "2024-01-01", "api_url": "http://api.botmaker.com/v2.0"}),
                "https",
            ),
            (json!({"access_token": "abcd1234", "start_date": "2024-01-01", "api_url": "ftp://127.0.0.1"}), "scheme"),
            (json!({"access_token": "abcd1234", "start_date": "2024-01-01", "api_url": "not a url"}), "api_url"),
            (json!({"access_token": "abcd1234", "start_date": "2024-01-01", "api_url": "https://u:p@h/"}), "password"),
        ];
        for (value, expect) in cases {
            let err = config(value.clone()).unwrap_err();
            assert!(err.is_config(), "{value}");
            assert!(err.message.contains(expect), "{value}: {}", err.message);
            assert!(err.message.contains("config.json"), "{value}: {}", err.message);
        }
    }

    #[test]
    fn a_token_of_the_wrong_type_is_not_echoed() {
        let err = config(json!({"access_token": 987654321, "start_date": "2024-01-01"})).unwrap_err();
        let shown = crate::protocol::redact::redact(&err.message).into_owned();
        assert!(!shown.contains("987654321"), "{shown}");
    }
}
