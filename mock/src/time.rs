//! Millisecond timestamps: fast formatting for the hot serving path and lenient-but-checked
//! parsing of request parameters.
//!
//! Times are `i64` milliseconds since the Unix epoch everywhere inside the mock: the API compares
//! at millisecond precision, and integers make range arithmetic and binary search trivial.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

pub(crate) const SEC: i64 = 1000;
pub(crate) const MIN: i64 = 60 * SEC;
pub(crate) const HOUR: i64 = 60 * MIN;
pub(crate) const DAY: i64 = 24 * HOUR;

/// How a timestamp is written: `…:SSZ` (no fraction, truncated) or `…:SS.mmmZ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TsMode {
    /// Use the record's own style flag (the API mixes both).
    Native,
    /// Always whole seconds (sessions' `timestamp-precision=seconds`).
    Seconds,
    /// Always milliseconds.
    Millis,
}

impl TsMode {
    #[inline]
    pub(crate) fn millis(self, native_millis: bool) -> bool {
        match self {
            TsMode::Native => native_millis,
            TsMode::Seconds => false,
            TsMode::Millis => true,
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Days since 1970-01-01 to (year, month, day) — Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[inline]
fn push2(out: &mut String, v: u32) {
    out.push((b'0' + (v / 10) as u8) as char);
    out.push((b'0' + (v % 10) as u8) as char);
}

/// Appends `YYYY-MM-DDTHH:MM:SS[.mmm]Z`; without millis the time is truncated to the second.
pub(crate) fn push_ts(out: &mut String, ms: i64, millis: bool) {
    let secs = ms.div_euclid(SEC);
    let frac = ms.rem_euclid(SEC) as u32;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&y) {
        let t = from_ms(if millis { ms } else { secs * SEC });
        let f = if millis { SecondsFormat::Millis } else { SecondsFormat::Secs };
        out.push_str(&t.to_rfc3339_opts(f, true));
        return;
    }
    let sod = secs.rem_euclid(86_400) as u32;
    let y = y as u32;
    push2(out, y / 100);
    push2(out, y % 100);
    out.push('-');
    push2(out, mo);
    out.push('-');
    push2(out, d);
    out.push('T');
    push2(out, sod / 3600);
    out.push(':');
    push2(out, sod / 60 % 60);
    out.push(':');
    push2(out, sod % 60);
    if millis {
        out.push('.');
        out.push((b'0' + (frac / 100) as u8) as char);
        push2(out, frac % 100);
    }
    out.push('Z');
}

pub(crate) fn fmt_ts(ms: i64, millis: bool) -> String {
    let mut s = String::with_capacity(24);
    push_ts(&mut s, ms, millis);
    s
}

/// Parses an RFC 3339 datetime (fraction optional, `Z` or an offset) to epoch milliseconds,
/// truncating sub-millisecond digits.
pub(crate) fn parse_ts(s: &str) -> Option<i64> {
    let t = DateTime::parse_from_rfc3339(s.trim()).ok()?;
    Some(t.with_timezone(&Utc).timestamp_millis())
}

/// Parses a request datetime. Also accepts a space where the `+` of an offset was sent
/// unencoded and decoded as a form space by some client libraries.
pub(crate) fn parse_param_ts(s: &str) -> Option<DateTime<Utc>> {
    let parse = |v: &str| DateTime::parse_from_rfc3339(v).ok().map(|t| t.with_timezone(&Utc));
    if let Some(t) = parse(s) {
        return Some(t);
    }
    // "2024-01-01T00:00:00 03:00" -> "+03:00" (only the offset position, nothing else).
    let b = s.as_bytes();
    if b.len() >= 25 && b[b.len() - 6] == b' ' {
        let fixed = format!("{}+{}", &s[..s.len() - 6], &s[s.len() - 5..]);
        return parse(&fixed);
    }
    None
}

/// `Tue, 15 Nov 1994 08:12:31 GMT` (for `Retry-After`).
pub(crate) fn http_date(ms: i64) -> String {
    from_ms(ms).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The first UTC midnight at or after `ms`.
pub(crate) fn ceil_day(ms: i64) -> i64 {
    ms.div_euclid(DAY) * DAY + if ms.rem_euclid(DAY) == 0 { 0 } else { DAY }
}

/// The first whole second at or after `ms`.
pub(crate) fn ceil_sec(ms: i64) -> i64 {
    ms.div_euclid(SEC) * SEC + if ms.rem_euclid(SEC) == 0 { 0 } else { SEC }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_chrono() {
        for ms in [
            0i64,
            1,
            999,
            1_700_000_000_123,
            1_709_251_199_999, // 2024-02-29T23:59:59.999Z
            951_782_400_000,   // 2000-02-29
            -1,
            4_102_444_800_000, // 2100-01-01
        ] {
            let t = from_ms(ms);
            assert_eq!(fmt_ts(ms, true), t.to_rfc3339_opts(SecondsFormat::Millis, true));
            let ts = from_ms(ms.div_euclid(1000) * 1000);
            assert_eq!(fmt_ts(ms, false), ts.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
    }

    #[test]
    fn parses_variants() {
        assert_eq!(parse_ts("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_ts("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_ts("1970-01-01T00:00:01.123456Z"), Some(1123));
        assert_eq!(parse_ts("1970-01-01T01:00:01+01:00"), Some(1000));
        assert_eq!(parse_ts("1970-01-01"), None);
        assert_eq!(parse_ts("yesterday"), None);
        assert_eq!(parse_param_ts("1970-01-01T01:00:01 01:00").map(to_ms), Some(1000));
        assert!(parse_param_ts("1970-01-01T01:00:01 0100").is_none());
        assert!(parse_param_ts("").is_none());
    }

    #[test]
    fn ceilings() {
        assert_eq!(ceil_day(0), 0);
        assert_eq!(ceil_day(1), DAY);
        assert_eq!(ceil_day(-1), 0);
        assert_eq!(ceil_sec(1001), 2000);
        assert_eq!(ceil_sec(2000), 2000);
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
