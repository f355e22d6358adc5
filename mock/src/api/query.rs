//! Query strings: percent-decoding, encoding for `nextPage` URLs, and typed parameter access.

use super::response::{bad_param, Out};

fn hexval(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes; `+` stays a literal plus (RFC 3986 query semantics), so unencoded
/// `+03:00` offsets work. Malformed escapes are kept verbatim.
pub(crate) fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (pct_decode(k), pct_decode(v)),
            None => (pct_decode(p), String::new()),
        })
        .collect()
}

/// Typed access to a request's decoded query pairs.
pub(crate) struct Q<'a>(pub(crate) &'a [(String, String)]);

impl Q<'_> {
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }

    pub(crate) fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(a, _)| a == k).map(|(_, v)| v.as_str()).collect()
    }

    /// Java `Boolean.parseBoolean`: only "true" (any case) is true.
    pub(crate) fn flag(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub(crate) fn opt_bool(&self, k: &str) -> Option<bool> {
        match self.get(k)?.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    pub(crate) fn nonempty(&self, k: &str) -> Option<String> {
        self.get(k).filter(|v| !v.is_empty()).map(str::to_string)
    }

    /// Comma-separated or repeated values of `k`, trimmed, empty ones dropped.
    pub(crate) fn list(&self, k: &str) -> Vec<String> {
        self.all(k).iter().flat_map(|e| e.split(',')).map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
    }

    pub(crate) fn int(&self, k: &str, default: i64, min: i64, max: i64) -> Result<i64, Out> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(bad_param(k, &format!("'{k}' must be an integer between {min} and {max}"))),
            },
        }
    }
}
