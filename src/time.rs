//! Timestamps: parsing what the API returns and formatting what we send and store.
//!
//! The API mixes `2024-05-01T12:00:00Z` and `2024-05-01T12:00:00.123Z` in one response, so
//! parsing takes an optional fraction. Requests carry whole seconds (`YYYY-MM-DDTHH:MM:SSZ`, the
//! form in the spec's examples and every known client); saved cursors keep milliseconds so a
//! record on a window edge is placed exactly.

use chrono::{DateTime, DurationRound, NaiveDateTime, SecondsFormat, TimeDelta, Utc};

/// Parses an RFC 3339 timestamp (fraction optional, `Z` or offset). Also takes a timestamp
/// without zone (read as UTC) and epoch milliseconds, two forms seen from other APIs of the same
/// family, rather than losing the record's place in time.
pub(crate) fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(raw) {
        return Some(dt.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(naive.and_utc());
        }
    }
    if raw.len() == 13 && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis);
    }
    None
}

/// The current time, to the millisecond. Every instant a sync may store in a state (window
/// edges, gaps, cursors) derives from it, and states keep milliseconds: an instant finer than
/// that would be saved a little off, leaving a sliver between what was read and what the state
/// says was read (a record there lost), or reading one twice.
pub(crate) fn now_to_millis() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(now)
}

/// A half-open time span `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Span {
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
}

impl Span {
    pub(crate) fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Span {
        Span { start, end }
    }

    pub(crate) fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    /// "2024-01-01T00:00:00Z → 2024-02-01T00:00:00.250Z", for messages: exact, with a fraction
    /// only where an end has one.
    pub(crate) fn describe(&self) -> String {
        let exact = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        format!("{} → {}", exact(self.start), exact(self.end))
    }
}

/// The form sent in `from`/`to` query parameters: whole seconds, `Z`.
pub(crate) fn format_api(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The form saved in state: milliseconds, `Z`.
pub(crate) fn format_cursor(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Rounds down to the whole second.
pub(crate) fn floor_second(dt: DateTime<Utc>) -> DateTime<Utc> {
    dt.duration_trunc(TimeDelta::seconds(1)).unwrap_or(dt)
}

/// Rounds up to the whole second.
pub(crate) fn ceil_second(dt: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_second(dt);
    if floor == dt {
        dt
    } else {
        floor + TimeDelta::seconds(1)
    }
}

/// Rounds up to the whole hour: window edges sit on the hour grid so they are predictable.
pub(crate) fn ceil_hour(dt: DateTime<Utc>) -> DateTime<Utc> {
    let floor = dt.duration_trunc(TimeDelta::hours(1)).unwrap_or(dt);
    if floor == dt {
        dt
    } else {
        floor + TimeDelta::hours(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_the_api_mixes() {
        let a = parse_datetime("2024-05-01T12:00:00Z").unwrap();
        let b = parse_datetime("2024-05-01T12:00:00.123Z").unwrap();
        assert_eq!((b - a).num_milliseconds(), 123);
        assert_eq!(parse_datetime("2024-05-01T14:00:00+02:00"), Some(a));
        assert_eq!(parse_datetime("2024-05-01T12:00:00"), Some(a));
        assert_eq!(parse_datetime("1714564800000"), Some(a));
        assert_eq!(parse_datetime("yesterday"), None);
        assert_eq!(parse_datetime(""), None);
    }

    #[test]
    fn the_clock_keeps_what_a_state_keeps() {
        let now = now_to_millis();
        assert_eq!(parse_datetime(&format_cursor(now)), Some(now));
    }

    #[test]
    fn formats_and_rounds() {
        let t = parse_datetime("2024-05-01T12:34:56.789Z").unwrap();
        assert_eq!(format_api(t), "2024-05-01T12:34:56Z");
        assert_eq!(format_cursor(t), "2024-05-01T12:34:56.789Z");
        assert_eq!(format_api(ceil_second(t)), "2024-05-01T12:34:57Z");
        assert_eq!(format_api(floor_second(t)), "2024-05-01T12:34:56Z");
        assert_eq!(format_api(ceil_hour(t)), "2024-05-01T13:00:00Z");
        assert_eq!(Span::new(ceil_hour(t), t).describe(), "2024-05-01T13:00:00Z → 2024-05-01T12:34:56.789Z");
        let whole = parse_datetime("2024-05-01T12:00:00Z").unwrap();
        assert_eq!(ceil_second(whole), whole);
        assert_eq!(ceil_hour(whole), whole);
    }
}
