//! What a stream's schema declares, and what to do with a value that does not fit it.
//!
//! Botmaker's docs type some fields one way while the API may send them another (an integer
//! as a JSON string, a timestamp as epoch milliseconds). A record is never refused for that:
//! a value is converted to the declared type when that loses nothing (`"7"` → `7` for an
//! integer, `7` → `"7"` for a string), every readable timestamp of a `date-time` field becomes
//! RFC 3339 UTC, and anything else is kept exactly as sent. Each such value is counted per
//! field in a [`Report`], which the read summarises in one log line per stream and field.
//! Where Botmaker's own spec says a number comes as text, converting it is expected and not
//! reported ([`Shape::NumberText`]).
//! (The copying itself is in `transcode`.)

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::records::NUMBER_SENT_AS_TEXT;
use crate::time::parse_datetime;

/// The declared type of a value, read from a stream's JSON Schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// Anything goes (free-form objects, unions, unknown schemas).
    Any,
    String,
    /// A string with `format: date-time`.
    DateTime,
    Integer,
    Number,
    /// A number Botmaker sends as text by its own spec (schema keyword
    /// [`NUMBER_SENT_AS_TEXT`]): numeric text becomes a number and `-` or an empty text null,
    /// neither reported (both are expected); other text is kept and reported.
    NumberText,
    Boolean,
    Array(Box<Shape>),
    /// Known properties (none for a free-form object); other properties are left as they are.
    Object(Vec<(String, Shape)>),
}

/// What happened to one unexpected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Fix {
    /// Converted to the declared type without loss.
    Converted { from: JsonKind },
    /// Kept as sent: the declared type could not hold it without loss.
    Kept { from: JsonKind },
    /// A timestamp in another shape, rewritten as RFC 3339 UTC.
    TimestampNormalised,
    /// A timestamp that could not be read, kept as sent.
    TimestampUnreadable,
}

/// The JSON type of a value, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum JsonKind {
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    fn name(self) -> &'static str {
        match self {
            JsonKind::Bool => "a boolean",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        }
    }
}

/// Counts of unexpected values per field path (`companyId`, `participants[].joinedDatetime`)
/// and what was done with them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    counts: BTreeMap<(String, Fix), (u64, &'static str)>,
}

impl Report {
    pub(crate) fn note(&mut self, path: &Path<'_>, fix: Fix, expected: &'static str) {
        let entry = self.counts.entry((path.render(), fix)).or_insert((0, expected));
        entry.0 += 1;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    pub(crate) fn merge(&mut self, other: Report) {
        for (key, (n, expected)) in other.counts {
            self.counts.entry(key).or_insert((0, expected)).0 += n;
        }
    }

    /// One sentence per field, and whether it is worth a warning (values kept as sent) or
    /// only a note (values converted or normalised without loss).
    pub(crate) fn lines(&self, stream: &str) -> Vec<(bool, String)> {
        let mut by_field: BTreeMap<&str, Vec<(Fix, u64, &'static str)>> = BTreeMap::new();
        for ((path, fix), (n, expected)) in &self.counts {
            by_field.entry(path).or_default().push((*fix, *n, expected));
        }
        by_field
            .into_iter()
            .map(|(path, fixes)| {
                let mut warn = false;
                let parts: Vec<String> = fixes
                    .iter()
                    .map(|&(fix, n, expected)| match fix {
                        Fix::Converted { from } => {
                            format!("{n} arrived as {} and were converted to {expected} without loss", from.name())
                        }
                        Fix::Kept { from } => {
                            warn = true;
                            format!("{n} arrived as {} instead of {expected} and were kept as sent", from.name())
                        }
                        Fix::TimestampNormalised => {
                            format!("{n} timestamps in another form were rewritten as RFC 3339 UTC")
                        }
                        Fix::TimestampUnreadable => {
                            warn = true;
                            format!("{n} values could not be read as a date-time and were kept as sent")
                        }
                    })
                    .collect();
                (warn, format!("{stream}: field `{path}`: {}.", parts.join("; ")))
            })
            .collect()
    }
}

/// Where a value sits in its record, rendered only when something is reported.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Items(&'a Path<'a>),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Field(parent, name) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                let _ = write!(out, "{name}");
            }
            Path::Items(parent) => {
                parent.render_into(out);
                out.push_str("[]");
            }
        }
    }
}

impl Shape {
    /// The shape a (normalised, inline) JSON Schema describes.
    pub(crate) fn of_schema(schema: &Value) -> Shape {
        let Some(map) = schema.as_object() else { return Shape::Any };
        let types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
            _ => Vec::new(),
        };
        let [kind] = types.as_slice() else { return Shape::Any };
        match *kind {
            "string" if map.get("format").and_then(Value::as_str) == Some("date-time") => Shape::DateTime,
            "string" => Shape::String,
            "integer" => Shape::Integer,
            "number" if map.get(NUMBER_SENT_AS_TEXT) == Some(&Value::Bool(true)) => Shape::NumberText,
            "number" => Shape::Number,
            "boolean" => Shape::Boolean,
            "array" => Shape::Array(Box::new(map.get("items").map_or(Shape::Any, Shape::of_schema))),
            "object" => {
                let props = map.get("properties").and_then(Value::as_object);
                let mut props: Vec<(String, Shape)> =
                    props.into_iter().flatten().map(|(k, v)| (k.clone(), Shape::of_schema(v))).collect();
                props.sort_by(|a, b| a.0.cmp(&b.0));
                Shape::Object(props)
            }
            _ => Shape::Any,
        }
    }

    pub(crate) fn expected(&self) -> &'static str {
        match self {
            Shape::Any => "any value",
            Shape::String => "a string",
            Shape::DateTime => "a date-time string",
            Shape::Integer => "an integer",
            Shape::Number | Shape::NumberText => "a number",
            Shape::Boolean => "a boolean",
            Shape::Array(_) => "an array",
            Shape::Object(_) => "an object",
        }
    }
}

/// `2024-01-01T00:00:00Z` or `2024-01-01T00:00:00.123Z`: already what destinations want.
/// Checked by hand, because it runs on every timestamp of every record and a full parse
/// costs several times more.
pub(crate) fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let fraction = match &b[19..b.len() - 1] {
        [] => true,
        [b'.', rest @ ..] => !rest.is_empty() && rest.len() <= 9 && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    shape
        && fraction
        && (1..=12).contains(&two(5))
        && (1..=days_in_month(&b[0..4], two(5))).contains(&two(8))
        && two(11) < 24
        && two(14) < 60
        && two(17) < 60
}

fn days_in_month(year: &[u8], month: u8) -> u8 {
    let year = year.iter().fold(0u32, |y, d| y * 10 + u32::from(d - b'0'));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The instant a timestamp value stands for: any form [`parse_datetime`] reads, or epoch
/// seconds or milliseconds as a JSON number.
pub(crate) fn instant_of(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => parse_datetime(s),
        Value::Number(n) => match n.as_i64() {
            Some(whole) => from_epoch(whole),
            None => n.as_f64().and_then(from_epoch_fraction),
        },
        _ => None,
    }
}

/// Epoch seconds or milliseconds: values below 10^11 are seconds (that is until the year
/// 5138), larger ones milliseconds.
pub(crate) fn from_epoch(n: i64) -> Option<DateTime<Utc>> {
    if n.unsigned_abs() < 100_000_000_000 {
        DateTime::from_timestamp(n, 0)
    } else {
        DateTime::from_timestamp_millis(n)
    }
}

/// Epoch seconds or milliseconds with a fraction (`1704067205.123`), split as [`from_epoch`]
/// does, to the microsecond (an `f64` holds today's epoch microseconds exactly).
pub(crate) fn from_epoch_fraction(x: f64) -> Option<DateTime<Utc>> {
    let micros = if x.abs() < 1e11 { x * 1e6 } else { x * 1e3 };
    if !micros.is_finite() || micros.abs() > 9.0e15 {
        return None;
    }
    DateTime::from_timestamp_micros(micros.round() as i64)
}

/// RFC 3339 UTC with as many fractional digits as the time needs (none, 3, 6 or 9).
pub(crate) fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The canonical integer a string holds (`"7"`, `"-12"`; not `"07"`, `"+1"` or `"1e3"`,
/// whose text a number would not keep).
pub(crate) fn canonical_integer(s: &str) -> Option<i64> {
    let n: i64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

/// The number a string holds, if writing it back gives the same text.
pub(crate) fn canonical_number(s: &str) -> Option<serde_json::Number> {
    let n: serde_json::Number = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_schema() {
        let shape = Shape::of_schema(&json!({"type": "object", "properties": {
            "b": {"type": ["null", "string"], "format": "date-time"},
            "a": {"type": ["null", "array"], "items": {"type": "integer"}},
            "c": {"type": ["null", "object"], "additionalProperties": true}}}));
        assert_eq!(
            shape,
            Shape::Object(vec![
                ("a".into(), Shape::Array(Box::new(Shape::Integer))),
                ("b".into(), Shape::DateTime),
                ("c".into(), Shape::Object(Vec::new())),
            ])
        );
        assert_eq!(Shape::of_schema(&json!({"type": ["string", "integer"]})), Shape::Any);
        assert_eq!(
            Shape::of_schema(&json!({"type": ["null", "number"], NUMBER_SENT_AS_TEXT: true})),
            Shape::NumberText
        );
    }

    #[test]
    fn recognises_rfc3339_utc_exactly() {
        for ok in ["2024-01-01T00:00:05Z", "2024-02-29T23:59:59.123456Z", "2023-12-31T00:00:00.1Z"] {
            assert!(is_rfc3339_utc(ok), "{ok}");
        }
        for not in [
            "2024-01-01T00:00:05",
            "2024-01-01 00:00:05Z",
            "2024-01-01T00:00:05+00:00",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:05.Z",
            "2024-01-01T00:00:05.1234567890Z",
            "x024-01-01T00:00:05Z",
        ] {
            assert!(!is_rfc3339_utc(not), "{not}");
        }
    }

    #[test]
    fn numbers_keep_their_text() {
        assert_eq!(canonical_integer("-12"), Some(-12));
        for not in ["+12", "012", "1e3", "1.0", " 1", ""] {
            assert_eq!(canonical_integer(not), None, "{not}");
        }
        assert_eq!(canonical_number("2.5").map(|n| n.to_string()), Some("2.5".into()));
        assert_eq!(canonical_number("2.50"), None);
    }

    #[test]
    fn epochs_are_seconds_or_milliseconds() {
        assert_eq!(instant_of(&json!(1704067205)), parse_datetime("2024-01-01T00:00:05Z"));
        assert_eq!(instant_of(&json!(1704067205123i64)), parse_datetime("2024-01-01T00:00:05.123Z"));
        assert_eq!(instant_of(&json!(1704067205.123)), parse_datetime("2024-01-01T00:00:05.123Z"));
        assert_eq!(instant_of(&json!(1704067205.0)), parse_datetime("2024-01-01T00:00:05Z"));
        assert_eq!(instant_of(&json!(1704067205123.5)), parse_datetime("2024-01-01T00:00:05.1235Z"));
        assert_eq!(instant_of(&json!(1e300)), None);
        assert_eq!(format_timestamp(parse_datetime("2024-01-01T00:00:05.120Z").unwrap()), "2024-01-01T00:00:05.120Z");
        assert_eq!(format_timestamp(parse_datetime("2024-01-01T02:00:05+02:00").unwrap()), "2024-01-01T00:00:05Z");
    }
}
