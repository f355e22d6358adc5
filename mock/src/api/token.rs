//! The opaque page token carried by `nextPage`.

use crate::rng::{b32_decode, b32_encode, hash_bytes};

/// Paging state carried by nextPage: the first page's clock (so defaults, recent windows and
/// "finished" stay consistent across pages), a duplicate-page flag and the `(key, id)` cursor
/// after which the next page starts. A checksum keyed by the seed rejects tampered tokens.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub epoch: i64,
    pub again: bool,
    pub cursor: Option<(i64, String)>,
}

impl Token {
    pub(crate) fn encode(&self, seed: u64) -> String {
        let mut p = format!("{}|{}|", self.epoch, self.again as u8);
        match &self.cursor {
            None => p.push('-'),
            Some((k, id)) => p.push_str(&format!("{k}|{id}")),
        }
        let mut bytes = p.into_bytes();
        let h = hash_bytes(seed, &bytes) as u32;
        bytes.extend_from_slice(&h.to_be_bytes());
        b32_encode(&bytes)
    }

    pub(crate) fn decode(s: &str, seed: u64) -> Option<Token> {
        let bytes = b32_decode(s.trim())?;
        if bytes.len() < 5 {
            return None;
        }
        let (p, h) = bytes.split_at(bytes.len() - 4);
        if (hash_bytes(seed, p) as u32).to_be_bytes() != h {
            return None;
        }
        let p = std::str::from_utf8(p).ok()?;
        let mut it = p.splitn(4, '|');
        let epoch = it.next()?.parse().ok()?;
        let again = it.next()? == "1";
        let k = it.next()?;
        let cursor = if k == "-" { None } else { Some((k.parse().ok()?, it.next()?.to_string())) };
        Some(Token { epoch, again, cursor })
    }
}
