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
use crate::input::shorten;
use crate::protocol::redact::register_secret;
use crate::time::parse_datetime;

/// Where Botmaker's API v2.0 lives.
pub const DEFAULT_API_URL: &str = "https://api.botmaker.com/v2.0";

/// Regex for `start_date`: a date, or an RFC 3339 date-time.
pub const START_DATE_PATTERN: &str =
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$";

/// Configuration of the Botmaker source.
#[derive(Deserialize, JsonSchema)]
#[schemars(title = "Botmaker Source Spec", extend("additionalProperties" = true))]
pub struct ConfigSpec {
    /// Botmaker API access token, sent in the `access-token` header. Generate it in Botmaker
    /// under Configuration → Integrations → API (Credentials tab).
    #[schemars(title = "Access token", extend("airbyte_secret" = true, "order" = 0))]
    pub access_token: AccessToken,

    /// Records created (or, for chats, active) on or after this date are replicated. UTC, as
    /// `YYYY-MM-DD` or an RFC 3339 date-time such as `2024-01-01T00:00:00Z`.
    #[schemars(
        title = "Start date",
        regex(pattern = START_DATE_PATTERN),
        extend(
            "format" = "date-time",
            "examples" = ["2024-01-01", "2024-01-01T00:00:00Z"],
            "pattern_descriptor" = "YYYY-MM-DD or YYYY-MM-DDTHH:mm:ssZ",
            "order" = 1
        )
    )]
    pub start_date: String,

    /// Read chats, messages, sessions and calls older than Botmaker's recent window (7 days;
    /// 3 days for messages) by sending `long-term-search=true`. Botmaker bills long-term searches
    /// as BI data-source consumption, so enable it only to backfill history; the connector sends
    /// it only for the windows that need it. Without it, history before the recent window is
    /// skipped and the sync logs which range.
    #[serde(default)]
    #[schemars(title = "Long-term search", extend("order" = 2))]
    pub long_term_search: bool,

    /// Add each session's messages to the sessions stream (`include-messages`). Raises
    /// Botmaker's BI data-source cost.
    #[serde(default)]
    #[schemars(title = "Include session messages", extend("order" = 3))]
    pub include_session_messages: bool,

    /// Add each session's variables to the sessions stream (`include-variables`). Raises
    /// Botmaker's BI data-source cost.
    #[serde(default)]
    #[schemars(title = "Include session variables", extend("order" = 10))]
    pub include_session_variables: bool,

    /// Add each session's events to the sessions stream (`include-events`). Raises Botmaker's BI
    /// data-source cost.
    #[serde(default)]
    #[schemars(title = "Include session events", extend("order" = 4))]
    pub include_session_events: bool,

    /// Add Botmaker's AI analysis of each session to the sessions stream
    /// (`include-ai-analysis`). Raises Botmaker's BI data-source cost.
    #[serde(default)]
    #[schemars(title = "Include session AI analysis", extend("order" = 5))]
    pub include_session_ai_analysis: bool,

    /// Calls and tickets are re-read this many days behind the saved cursor on every sync, to
    /// pick up late changes; destinations deduplicate them by `id`. 0 reads each record once.
    #[serde(default)]
    #[schemars(title = "Lookback window (days)", range(min = 0, max = 60), extend("order" = 6))]
    pub lookback_window_days: u32,

    /// Botmaker lists a session only once it has finished (almost all within 2 days), so the
    /// sessions cursor never moves closer to now than this; the next sync reads those days
    /// again and destinations deduplicate sessions by `id`.
    #[serde(default = "default_session_settle_days")]
    #[schemars(title = "Session settle time (days)", range(min = 0, max = 30), extend("order" = 7))]
    pub session_settle_days: u32,

    /// Upper bound on HTTP requests in flight at once, across all streams. Each endpoint's own
    /// rate limit is always respected on top of this.
    #[serde(default = "default_max_concurrent_requests")]
    #[schemars(title = "Maximum concurrent requests", range(min = 1, max = 64), extend("order" = 8))]
    pub max_concurrent_requests: u32,

    /// Base URL of the Botmaker API. Change it only to use a proxy or a test server; `https://`
    /// is required, except `http://` to a loopback address.
    #[serde(default = "default_api_url")]
    #[schemars(title = "API URL", extend("format" = "uri", "order" = 9))]
    pub api_url: String,
}

fn default_session_settle_days() -> u32 {
    2
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
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> Self {
        AccessToken(token.into())
    }

    /// The token itself, for the one header that carries it.
    pub fn expose(&self) -> &str {
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
pub struct Config {
    pub access_token: AccessToken,
    pub start_date: DateTime<Utc>,
    pub long_term_search: bool,
    pub include_session_messages: bool,
    pub include_session_variables: bool,
    pub include_session_events: bool,
    pub include_session_ai_analysis: bool,
    pub lookback_window_days: u32,
    pub session_settle_days: u32,
    pub max_concurrent_requests: u32,
    pub api_url: Url,
}

impl Config {
    /// Validates a parsed config file. `file` names it in error messages.
    pub fn from_value(value: Value, file: &str) -> Result<Config> {
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
        let spec: ConfigSpec = crate::input::from_value_at(value, &subject)?;
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
            lookback_window_days: spec.lookback_window_days,
            session_settle_days: spec.session_settle_days,
            max_concurrent_requests: spec.max_concurrent_requests,
            api_url,
        })
    }
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time, not in the future.
fn parse_start_date(raw: &str) -> std::result::Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    let parsed = if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        date.and_hms_opt(0, 0, 0).map(|d| d.and_utc())
    } else if raw.contains('T') {
        parse_datetime(raw)
    } else {
        None
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
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The connector specification (`spec` output), generated from [`ConfigSpec`].
pub fn connector_specification() -> Value {
    let schema = crate::schema::schema_for::<ConfigSpec>();
    serde_json::json!({
        "documentationUrl": "https://docs.airbyte.com/integrations/sources/botmaker",
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
