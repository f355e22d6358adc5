//! The opaque page token carried by `nextPage`.

use crate::rng::{b32_decode, b32_encode, hash_bytes};

/// Paging state carried by nextPage: the first page's clock (so defaults, recent windows and
/// "finished" stay consistent across pages), a duplicate-page flag and the `(key, id)` cursor
/// after which the next page starts. A checksum keyed by the seed rejects tampered tokens.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Token {
    pub epoch: i64,
    pub again: bool,
    pub cursor: Option<(i64, String)>,
    /// Pages with records served so far, counted only while empty pages are being inserted
    /// (`None` otherwise, which keeps the token's text as it always was).
    pub pages: Option<u32>,
    /// This link leads to an inserted empty page (the cursor is where the records resume).
    pub empty: bool,
}

impl Token {
    pub(crate) fn encode(&self, seed: u64) -> String {
        let mut p = format!("{}|{}", self.epoch, self.again as u8);
        if let Some(n) = self.pages {
            p.push_str(&format!("p{n}"));
        }
        if self.empty {
            p.push('e');
        }
        p.push('|');
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
        let flags = it.next()?;
        let again = flags.starts_with('1');
        let empty = flags.ends_with('e');
        let pages = match flags.find('p') {
            Some(at) => Some(flags[at + 1..].trim_end_matches('e').parse().ok()?),
            None => None,
        };
        let k = it.next()?;
        let cursor = if k == "-" { None } else { Some((k.parse().ok()?, it.next()?.to_string())) };
        Some(Token { epoch, again, cursor, pages, empty })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_roundtrip_and_keep_their_old_text_without_page_counts() {
        let plain =
            Token { epoch: 1_700_000_000_000, again: true, cursor: Some((5, "A|B".into())), ..Token::default() };
        let text = plain.encode(42);
        let bytes = crate::rng::b32_decode(&text).unwrap();
        assert_eq!(&bytes[..bytes.len() - 4], b"1700000000000|1|5|A|B");
        assert_eq!(Token::decode(&text, 42), Some(plain.clone()));
        let counted = Token { pages: Some(12), empty: true, cursor: None, ..plain };
        assert_eq!(Token::decode(&counted.encode(42), 42), Some(counted));
        assert_eq!(Token::decode(&text, 43), None);
    }
}
