//! A minimal streaming JSON writer for generated records.
//!
//! Serving must reach hundreds of thousands of records per second, so generated records are
//! written straight into the response buffer instead of being built as `serde_json::Value`s.
//! The ground-truth API (`expected`) parses this same output, so what tests compare against is
//! byte-for-byte what the server sends.

use crate::time::{push_ts, TsMode};

/// Appends `s` as a JSON string literal.
pub(crate) fn push_str_lit(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
            out.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

pub(crate) fn push_int(out: &mut String, v: i64) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// An open JSON object; `end` closes it.
pub(crate) struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, first: true }
    }

    #[inline]
    pub(crate) fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(k);
        self.out.push_str("\":");
        self.out
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        let o = self.key(k);
        push_str_lit(o, v);
        self
    }

    pub(crate) fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        if let Some(v) = v {
            self.str(k, v);
        }
        self
    }

    pub(crate) fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        let o = self.key(k);
        o.push_str(if v { "true" } else { "false" });
        self
    }

    pub(crate) fn int(&mut self, k: &str, v: i64) -> &mut Self {
        let o = self.key(k);
        push_int(o, v);
        self
    }

    /// A timestamp string; `native_millis` is the record's own style, `mode` may override it.
    pub(crate) fn ts(&mut self, k: &str, ms: i64, native_millis: bool, mode: TsMode) -> &mut Self {
        let o = self.key(k);
        o.push('"');
        push_ts(o, ms, mode.millis(native_millis));
        o.push('"');
        self
    }

    pub(crate) fn strs<'s>(&mut self, k: &str, vs: impl IntoIterator<Item = &'s str>) -> &mut Self {
        let o = self.key(k);
        o.push('[');
        for (i, v) in vs.into_iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            push_str_lit(o, v);
        }
        o.push(']');
        self
    }

    pub(crate) fn obj(&mut self, k: &str) -> Obj<'_> {
        let o = self.key(k);
        Obj::new(o)
    }

    pub(crate) fn arr(&mut self, k: &str) -> Arr<'_> {
        let o = self.key(k);
        o.push('[');
        Arr { out: o, first: true }
    }

    pub(crate) fn end(self) {
        self.out.push('}');
    }
}

/// An open JSON array; `end` closes it.
pub(crate) struct Arr<'a> {
    out: &'a mut String,
    first: bool,
}

impl Arr<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    pub(crate) fn obj(&mut self) -> Obj<'_> {
        self.sep();
        Obj::new(self.out)
    }

    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        push_int(self.out, v);
        self
    }

    pub(crate) fn end(self) {
        self.out.push(']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json() {
        let mut s = String::new();
        let mut o = Obj::new(&mut s);
        o.str("a", "q\"uo\\te\n\u{1}é🙂").int("n", -42).bool("b", true);
        o.strs("xs", ["x", "y"]);
        {
            let mut a = o.arr("objs");
            let mut x = a.obj();
            x.str("k", "v").int("i", i64::MIN);
            x.end();
            a.int(7).int(8);
            a.end();
        }
        let mut inner = o.obj("inner");
        inner.int("z", 0);
        inner.end();
        o.ts("t", 1_700_000_000_123, false, TsMode::Native);
        o.end();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a"], "q\"uo\\te\n\u{1}é🙂");
        assert_eq!(v["n"], -42);
        assert_eq!(v["objs"][0]["i"], i64::MIN);
        assert_eq!(v["objs"][2], 8);
        assert_eq!(v["t"], "2023-11-14T22:13:20Z");
        assert_eq!(v["inner"]["z"], 0);
    }
}
