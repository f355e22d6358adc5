//! Rewrites served JSON for the [`Variants`] that change how values are written: integers as
//! strings, integer-valued strings as numbers, timestamps in other shapes.
//!
//! Works on the JSON text the generators wrote (no `Value` round trip, so key order and every
//! other byte stay as they were). Which keys are touched depends on the endpoint; a timestamp is
//! any string value that is exactly an RFC 3339 UTC time as the mock writes it
//! (`YYYY-MM-DDTHH:MM:SS[.mmm]Z`).

use crate::config::Stream;
use crate::gen::AGENT_METRIC_COUNTERS;
use crate::rng::mix;
use crate::time::parse_ts;
use crate::variants::{TimestampShape, Variants};

/// What to rewrite in one endpoint's body.
pub(crate) struct Reshape {
    /// Keys whose integer values (or integer array items) become strings.
    to_strings: &'static [&'static str],
    /// Keys whose canonical-integer string values (or array items) become numbers.
    to_numbers: &'static [&'static str],
    /// How timestamps are written (`None`: as they are).
    timestamps: Option<TimestampShape>,
}

/// Integer-typed fields, per endpoint.
fn integer_fields(s: Stream) -> &'static [&'static str] {
    match s {
        Stream::Tickets => &["companyId", "authorId", "followBy"],
        Stream::Agents | Stream::Roles => &["slots"],
        Stream::Channels => &["daysToExpire"],
        Stream::NotificationResults => &["sent", "delivered", "read", "answered", "error"],
        _ => &[],
    }
}

/// String-typed fields that often hold integers, per endpoint.
fn numeric_string_fields(s: Stream) -> &'static [&'static str] {
    match s {
        Stream::Chats | Stream::Sessions => &["contactId", "orderNumber"],
        Stream::Messages => &["contactId", "version"],
        Stream::Calls => &["contactId", "participantId"],
        Stream::Contacts => &["platformContactId"],
        Stream::Channels => &["number", "wabaId", "recipientId", "pageId"],
        Stream::AgentMetrics => &AGENT_METRIC_COUNTERS,
        Stream::WhatsappAccounts => &["number", "wabaId"],
        Stream::WhatsappTemplates => &["phoneLinesNumbers"],
        Stream::BilledConversations => &["wabaId", "phoneNumber", "userPhoneNumber"],
        Stream::ContactsBlacklist => &["contacts"],
        Stream::Variables => &["orderInUserInfo"],
        _ => &[],
    }
}

/// Endpoints whose record timestamps follow [`Variants::timestamps`].
fn has_timestamp_variants(s: Stream) -> bool {
    s.is_windowed()
}

impl Reshape {
    /// The rewrite `variants` ask of `s`'s bodies, if any.
    pub(crate) fn for_endpoint(s: Stream, variants: &Variants) -> Option<Reshape> {
        if !variants.reshapes_records() {
            return None;
        }
        let r = Reshape {
            to_strings: if variants.numbers_as_strings { integer_fields(s) } else { &[] },
            to_numbers: if variants.strings_as_numbers { numeric_string_fields(s) } else { &[] },
            timestamps: (variants.timestamps != TimestampShape::Rfc3339 && has_timestamp_variants(s))
                .then_some(variants.timestamps),
        };
        (!r.to_strings.is_empty() || !r.to_numbers.is_empty() || r.timestamps.is_some()).then_some(r)
    }

    /// `body` rewritten; unchanged if it is not the JSON the mock writes.
    pub(crate) fn apply(&self, body: &str) -> String {
        let mut w =
            Walker { src: body.as_bytes(), pos: 0, out: String::with_capacity(body.len() + body.len() / 8), r: self };
        let whole = w.value(None).map(|()| w.copy_ws());
        match whole {
            Some(()) if w.pos == w.src.len() => w.out,
            _ => body.to_string(),
        }
    }
}

/// A recursive copy of a JSON text that rewrites the values the [`Reshape`] names.
struct Walker<'a> {
    src: &'a [u8],
    pos: usize,
    out: String,
    r: &'a Reshape,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn copy_ws(&mut self) {
        while let Some(b) = self.peek().filter(u8::is_ascii_whitespace) {
            self.out.push(b as char);
            self.pos += 1;
        }
    }

    fn text(&self, a: usize, b: usize) -> &str {
        std::str::from_utf8(&self.src[a..b]).unwrap_or("")
    }

    /// One value; `key` is the object key it belongs to (array items inherit it).
    fn value(&mut self, key: Option<&str>) -> Option<()> {
        self.copy_ws();
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(key),
            b'"' => {
                let (a, b) = self.string()?;
                let raw = self.text(a + 1, b - 1).to_string();
                self.string_value(key, &raw, a, b);
                Some(())
            }
            _ => {
                let a = self.pos;
                while self.peek().is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace()) {
                    self.pos += 1;
                }
                let lit = self.text(a, self.pos).to_string();
                let quote = key.is_some_and(|k| self.r.to_strings.contains(&k)) && is_integer(&lit);
                if quote {
                    self.out.push('"');
                    self.out.push_str(&lit);
                    self.out.push('"');
                } else {
                    self.out.push_str(&lit);
                }
                Some(())
            }
        }
    }

    fn string_value(&mut self, key: Option<&str>, raw: &str, a: usize, b: usize) {
        if key.is_some_and(|k| self.r.to_numbers.contains(&k)) && is_canonical_safe_integer(raw) {
            self.out.push_str(raw);
        } else if let Some(shape) = self.r.timestamps.filter(|_| is_mock_timestamp(raw)) {
            write_timestamp(&mut self.out, raw, shape);
        } else {
            let s = self.text(a, b).to_string();
            self.out.push_str(&s);
        }
    }

    /// A string token starting at `pos`: its byte range including the quotes.
    fn string(&mut self) -> Option<(usize, usize)> {
        let a = self.pos;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return Some((a, self.pos));
                }
                _ => self.pos += 1,
            }
        }
    }

    fn object(&mut self) -> Option<()> {
        self.out.push('{');
        self.pos += 1;
        loop {
            self.copy_ws();
            match self.peek()? {
                b'}' => break,
                b',' => {
                    self.out.push(',');
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let (a, b) = self.string()?;
            let key = self.text(a + 1, b - 1).to_string();
            let token = self.text(a, b).to_string();
            self.out.push_str(&token);
            self.copy_ws();
            if self.peek()? != b':' {
                return None;
            }
            self.out.push(':');
            self.pos += 1;
            self.value(Some(&key))?;
        }
        self.out.push('}');
        self.pos += 1;
        Some(())
    }

    fn array(&mut self, key: Option<&str>) -> Option<()> {
        self.out.push('[');
        self.pos += 1;
        loop {
            self.copy_ws();
            match self.peek()? {
                b']' => break,
                b',' => {
                    self.out.push(',');
                    self.pos += 1;
                }
                _ => self.value(key)?,
            }
        }
        self.out.push(']');
        self.pos += 1;
        Some(())
    }
}

/// A JSON integer literal (no fraction, no exponent).
fn is_integer(lit: &str) -> bool {
    let digits = lit.strip_prefix('-').unwrap_or(lit);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An integer written the one way a JSON number would write it, small enough for any JSON
/// reader to keep exactly (|v| <= 2^53).
fn is_canonical_safe_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits == "0" && s.starts_with('-') {
        return false;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return false;
    }
    digits.parse::<u64>().is_ok_and(|v| v <= 1 << 53)
}

/// `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_mock_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    let shape = match b.len() {
        20 => true,
        24 => b[19] == b'.' && digits(20..23),
        _ => return false,
    };
    shape
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[b.len() - 1] == b'Z'
}

/// The concrete shape `Mixed` picks for this instant.
fn mixed_choice(ms: i64) -> TimestampShape {
    const CHOICES: [TimestampShape; 5] = [
        TimestampShape::Rfc3339,
        TimestampShape::EpochMillis,
        TimestampShape::EpochSeconds,
        TimestampShape::ZoneLess,
        TimestampShape::SpaceSeparated,
    ];
    CHOICES[(mix(ms as u64) % 5) as usize]
}

/// Writes the timestamp `raw` (a mock timestamp) in `shape`.
fn write_timestamp(out: &mut String, raw: &str, shape: TimestampShape) {
    let Some(ms) = parse_ts(raw) else {
        out.push('"');
        out.push_str(raw);
        out.push('"');
        return;
    };
    let has_millis = raw.len() == 24;
    let shape = if shape == TimestampShape::Mixed { mixed_choice(ms) } else { shape };
    match shape {
        TimestampShape::EpochMillis => out.push_str(&ms.to_string()),
        TimestampShape::EpochSeconds if has_millis => {
            out.push_str(&format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000)))
        }
        TimestampShape::EpochSeconds => out.push_str(&ms.div_euclid(1000).to_string()),
        TimestampShape::ZoneLess => {
            out.push('"');
            out.push_str(&raw[..raw.len() - 1]);
            out.push('"');
        }
        TimestampShape::SpaceSeparated => {
            out.push('"');
            out.push_str(&raw[..10]);
            out.push(' ');
            out.push_str(&raw[11..]);
            out.push('"');
        }
        TimestampShape::Rfc3339 | TimestampShape::Mixed => {
            out.push('"');
            out.push_str(raw);
            out.push('"');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reshape(s: Stream, v: Variants, body: &str) -> String {
        match Reshape::for_endpoint(s, &v) {
            Some(r) => r.apply(body),
            None => body.to_string(),
        }
    }

    #[test]
    fn integers_become_strings_only_under_their_keys() {
        let v = Variants { numbers_as_strings: true, ..Variants::default() };
        let body = r#"{"total":3,"tickets":[{"companyId":1007,"authorId":-5,"followBy":[1,2],"x":4,"size":1.5}]}"#;
        assert_eq!(
            reshape(Stream::Tickets, v, body),
            r#"{"total":3,"tickets":[{"companyId":"1007","authorId":"-5","followBy":["1","2"],"x":4,"size":1.5}]}"#
        );
    }

    #[test]
    fn only_lossless_integer_strings_become_numbers() {
        let v = Variants { strings_as_numbers: true, ..Variants::default() };
        let body = r#"{"items":[{"number":"5491147038000","wabaId":"0123","recipientId":"17841400000000001","pageId":"-0","name":"7"}]}"#;
        assert_eq!(
            reshape(Stream::Channels, v, body),
            r#"{"items":[{"number":5491147038000,"wabaId":"0123","recipientId":"17841400000000001","pageId":"-0","name":"7"}]}"#
        );
    }

    #[test]
    fn timestamps_take_each_shape() {
        let body = r#"{"items":[{"a":"2024-01-01T00:00:01.250Z","b":"2024-01-01T00:00:01Z","c":"x_2024-01-01T00:00:01Z","d":"say \"2024-01-01T00:00:01Z\""}]}"#;
        let cases = [
            (TimestampShape::EpochMillis, r#""a":1704067201250,"b":1704067201000,"#),
            (TimestampShape::EpochSeconds, r#""a":1704067201.250,"b":1704067201,"#),
            (TimestampShape::ZoneLess, r#""a":"2024-01-01T00:00:01.250","b":"2024-01-01T00:00:01","#),
            (TimestampShape::SpaceSeparated, r#""a":"2024-01-01 00:00:01.250Z","b":"2024-01-01 00:00:01Z","#),
        ];
        for (shape, want) in cases {
            let got = reshape(Stream::Messages, Variants { timestamps: shape, ..Variants::default() }, body);
            assert!(got.contains(want), "{shape:?}: {got}");
            // Values that merely contain a timestamp stay as they are.
            assert!(got.contains(r#""c":"x_2024-01-01T00:00:01Z","d":"say \"2024-01-01T00:00:01Z\"""#), "{got}");
        }
        // Full-refresh endpoints keep their timestamps.
        let v = Variants { timestamps: TimestampShape::EpochMillis, ..Variants::default() };
        assert_eq!(reshape(Stream::Agents, v, body), body);
    }

    #[test]
    fn default_variants_change_nothing_and_broken_json_is_left_alone() {
        assert!(Reshape::for_endpoint(Stream::Tickets, &Variants::default()).is_none());
        let v = Variants { numbers_as_strings: true, ..Variants::default() };
        let r = Reshape::for_endpoint(Stream::Tickets, &v).unwrap();
        assert_eq!(r.apply(r#"{"companyId":7"#), r#"{"companyId":7"#);
        assert_eq!(r.apply(" { \"companyId\" : 7 } "), " { \"companyId\" : \"7\" } ");
    }
}
