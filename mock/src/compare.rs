//! Comparing records served under [`crate::Variants`] with the canonical ground truth.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// Epoch numbers below this are seconds, above it milliseconds (10^11 s is the year 5138;
/// 10^11 ms is 1973, before any data the mock generates).
const EPOCH_SECONDS_BELOW: f64 = 1e11;

/// The instant a timestamp value denotes, in any shape [`crate::TimestampShape`] produces: RFC
/// 3339 (with or without fraction, `Z` or an offset), zone-less or space-separated (read as
/// UTC), or an epoch number (seconds below 10^11, else milliseconds). `None` for anything else.
pub fn canonical_timestamp(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => parse_text_timestamp(s),
        Value::Number(n) => {
            let x = n.as_f64()?;
            let ms = if x.abs() < EPOCH_SECONDS_BELOW { (x * 1000.0).round() } else { x.round() };
            Utc.timestamp_millis_opt(ms as i64).single()
        }
        _ => None,
    }
}

fn parse_text_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let with_t = s.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&with_t) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(&with_t, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc())
}

/// Whether `served` says the same as `canonical` (what [`crate::MockServer::expected`]
/// returns): equal JSON, or equal after reading a timestamp in any shape as its instant and a
/// number and a string holding the same integer as the same value. Objects need the same keys,
/// arrays the same length, compared member by member.
pub fn semantically_equal(served: &Value, canonical: &Value) -> bool {
    match (served, canonical) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| semantically_equal(x, y)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| semantically_equal(x, y))
        }
        (a, b) if a == b => true,
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) if same_integer(n, s) => true,
        (a, b) => b.is_string() && canonical_timestamp(b).is_some() && canonical_timestamp(a) == canonical_timestamp(b),
    }
}

fn same_integer(n: &serde_json::Number, s: &str) -> bool {
    match (n.as_i64(), s.parse::<i64>()) {
        (Some(a), Ok(b)) => a == b && b.to_string() == s,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_in_every_shape_denote_their_instant() {
        let t = Utc.timestamp_millis_opt(1_704_067_201_250).unwrap();
        for v in [
            json!("2024-01-01T00:00:01.250Z"),
            json!("2024-01-01T03:00:01.250+03:00"),
            json!("2024-01-01T00:00:01.250"),
            json!("2024-01-01 00:00:01.250Z"),
            json!("2024-01-01 00:00:01.250"),
            json!(1_704_067_201_250i64),
            json!(1_704_067_201.25),
        ] {
            assert_eq!(canonical_timestamp(&v), Some(t), "{v}");
        }
        assert_eq!(canonical_timestamp(&json!("tomorrow")), None);
        assert_eq!(canonical_timestamp(&json!(true)), None);
    }

    #[test]
    fn semantic_equality() {
        let canonical = json!({"t": "2024-01-01T00:00:01Z", "n": 7, "s": "42", "a": [1, "x"], "o": {"k": null}});
        let served = json!({"t": 1_704_067_201_000i64, "n": "7", "s": 42, "a": ["1", "x"], "o": {"k": null}});
        assert!(semantically_equal(&served, &canonical));
        for bad in [
            json!({"t": 1_704_067_202_000i64, "n": 7, "s": "42", "a": [1, "x"], "o": {"k": null}}),
            json!({"t": "2024-01-01T00:00:01Z", "n": "07", "s": "42", "a": [1, "x"], "o": {"k": null}}),
            json!({"t": "2024-01-01T00:00:01Z", "n": 7, "s": "42", "a": [1], "o": {"k": null}}),
            json!({"t": "2024-01-01T00:00:01Z", "n": 7, "s": "42", "a": [1, "x"], "o": {}}),
            json!({"t": "2024-01-01T00:00:01Z", "n": 7, "s": "42", "a": [1, "x"], "o": {"k": null}, "extra": 1}),
        ] {
            assert!(!semantically_equal(&bad, &canonical), "{bad}");
        }
        // A number is never a timestamp of the canonical side by accident.
        assert!(!semantically_equal(&json!(5), &json!(1_704_067_201_000i64)));
    }
}
