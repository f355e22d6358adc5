//! Last line of defence for secrets: every human-readable text the connector writes (logs,
//! error traces, connection status, stderr) passes through [`redact`], and every quote of outside
//! text (an API body, a value from an input file) is cut by [`excerpt`], which redacts before it
//! shortens. The access token is registered as soon as it is read from the config file, before
//! the config is even validated, so not even an error about the config itself can echo it.
//!
//! What is masked is every run of text made of 8-byte pieces of the secret in any of the forms it
//! takes inside other text: as is, lower- or upper-cased, JSON- and Rust-escaped, percent-encoded
//! (only where needed, or every byte as `%XX`; either hex case) and base64-encoded (standard or
//! URL-safe alphabet, padded or not, also in the middle of a longer encoded text). Matching
//! ignores ASCII case. A fragment of 8 characters or more left by someone else's truncation is
//! therefore still masked; only a shorter one can survive, and a whole token never does.

use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::{LazyLock, RwLock};

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;

/// What a masked run is replaced by.
const MASK: &str = "****";

/// Secrets shorter than this are not redacted: replacing every "a" in a message would destroy it
/// and a one-character token is not a secret worth hiding.
const MIN_SECRET_LEN: usize = 4;

/// The length of the pieces matched. A piece this long of a random token does not occur in text
/// by chance, and it fits a `u64`, which makes every text position one hash lookup.
const PIECE: usize = 8;

static SECRETS: LazyLock<RwLock<Redactor>> = LazyLock::new(|| RwLock::new(Redactor::default()));

/// Registers a secret so that it is masked in every message written from now on.
pub(crate) fn register_secret(secret: &str) {
    SECRETS.write().unwrap_or_else(|e| e.into_inner()).add(secret);
}

/// Returns `text` with every registered secret, in any of its forms, replaced by `****`.
pub fn redact(text: &str) -> Cow<'_, str> {
    SECRETS.read().unwrap_or_else(|e| e.into_inner()).redact(text)
}

/// At most `max_chars` characters of outside text, for quoting it in a message: redacted first,
/// then cut (with `…` when something was left out), so a secret straddling the cut cannot leave
/// its head behind. Only as much of `text` as the excerpt needs is examined (for secrets of 8
/// bytes or more, that is any real token), so a quote of a 64 MiB body costs no more than a quote
/// of its first kilobyte. Control characters are left
/// as they are; pass the result through [`crate::escape::printable`] to show them escaped.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    SECRETS.read().unwrap_or_else(|e| e.into_inner()).excerpt(text, max_chars)
}

/// A set of secrets and the masking of them.
#[derive(Default)]
pub(crate) struct Redactor {
    /// Every 8-byte piece of every form of every secret of 8 bytes or more, ASCII-lowercased,
    /// read as a big-endian `u64`.
    pieces: HashSet<u64, BuildHasherDefault<PieceHasher>>,
    /// Forms shorter than 8 bytes (secrets of 4 to 7 bytes), ASCII-lowercased, matched whole.
    short: Vec<Vec<u8>>,
}

impl Redactor {
    pub(crate) fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        for form in forms(secret) {
            let form = form.to_ascii_lowercase();
            if form.len() >= PIECE {
                self.pieces.extend(form.windows(PIECE).map(piece_key));
            } else if !self.short.contains(&form) {
                self.short.push(form);
            }
        }
    }

    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let (ranges, _) = self.find(text, None);
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(mask(text, &ranges))
    }

    pub(crate) fn excerpt(&self, text: &str, max_chars: usize) -> String {
        let (ranges, scanned) = self.find(text, Some(max_chars));
        let redacted = mask(&text[..scanned], &ranges);
        match redacted.char_indices().nth(max_chars) {
            Some((cut, _)) => format!("{}…", &redacted[..cut]),
            None if scanned < text.len() => format!("{redacted}…"),
            None => redacted,
        }
    }

    /// The byte ranges of `text` to mask, sorted, disjoint and on character boundaries, and how
    /// much of `text` they account for: all of it, or (with `enough_chars`) a prefix long enough
    /// that its redacted form has more than `enough_chars` characters.
    fn find(&self, text: &str, enough_chars: Option<usize>) -> (Vec<Range<usize>>, usize) {
        let bytes = text.as_bytes();
        let mut ranges: Vec<Range<usize>> = Vec::new();
        if !self.short.is_empty() {
            // Only toy secrets are this short; they get a plain search of the whole text.
            let lower = bytes.to_ascii_lowercase();
            for form in &self.short {
                for start in (0..=lower.len().saturating_sub(form.len())).filter(|&i| lower[i..].starts_with(form)) {
                    ranges.push(start..start + form.len());
                }
            }
            ranges.sort_by_key(|r| r.start);
        }
        if !self.pieces.is_empty() {
            let before = std::mem::take(&mut ranges);
            let scanned = self.find_pieces(bytes, enough_chars.filter(|_| before.is_empty()), &mut ranges);
            if !before.is_empty() {
                ranges.extend(before);
                ranges.sort_by_key(|r| r.start);
            }
            let ranges = merge(bytes, ranges);
            return (ranges, scanned);
        }
        (merge(bytes, ranges), bytes.len())
    }

    /// Appends the ranges covered by pieces, in order, merged as they come; returns how far it
    /// scanned. With `enough_chars`, it stops once the settled part of the text (which no later
    /// piece can reach back into) would show more than that many characters.
    fn find_pieces(&self, bytes: &[u8], enough_chars: Option<usize>, ranges: &mut Vec<Range<usize>>) -> usize {
        // A piece found at byte i starts at i - 7 and is widened to a character boundary, at most
        // 3 bytes further back; bytes before i - LAG can no longer be reached.
        const LAG: usize = PIECE - 1 + 3;
        let mut key = 0u64;
        let mut shown = 0usize;
        // The first range that may still hold the next byte to settle.
        let mut current = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            key = (key << 8) | u64::from(b.to_ascii_lowercase());
            if i + 1 >= PIECE && self.pieces.contains(&key) {
                let start = floor_boundary(bytes, i + 1 - PIECE);
                let end = ceil_boundary(bytes, i + 1);
                match ranges.last_mut() {
                    Some(last) if start <= last.end => last.end = last.end.max(end),
                    _ => ranges.push(start..end),
                }
            }
            let (Some(enough), Some(settled)) = (enough_chars, i.checked_sub(LAG)) else { continue };
            // A range that ends at or before a settled byte is final: no later piece reaches it.
            while ranges.get(current).is_some_and(|r| r.end <= settled) {
                current += 1;
            }
            shown += match ranges.get(current) {
                Some(r) if r.start == settled => MASK.len(),
                Some(r) if r.start < settled => 0,
                _ => usize::from(!is_continuation(bytes[settled])),
            };
            if shown > enough {
                return ceil_boundary(bytes, settled + 1).max(ranges.last().map_or(0, |r| r.end.min(bytes.len())));
            }
        }
        bytes.len()
    }
}

/// `text` with each range replaced by [`MASK`].
fn mask(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges.iter().filter(|r| r.start < text.len()) {
        out.push_str(&text[at..r.start]);
        out.push_str(MASK);
        at = r.end.min(text.len());
    }
    out.push_str(&text[at..]);
    out
}

/// Sorted ranges widened to character boundaries and merged where they overlap or touch.
fn merge(bytes: &[u8], ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        let r = floor_boundary(bytes, r.start)..ceil_boundary(bytes, r.end);
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

fn floor_boundary(bytes: &[u8], mut i: usize) -> usize {
    while i > 0 && i < bytes.len() && is_continuation(bytes[i]) {
        i -= 1;
    }
    i
}

fn ceil_boundary(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_continuation(bytes[i]) {
        i += 1;
    }
    i
}

fn piece_key(piece: &[u8]) -> u64 {
    let mut key = [0u8; PIECE];
    key.copy_from_slice(piece);
    u64::from_be_bytes(key)
}

/// Every form `secret` may take inside a message.
fn forms(secret: &str) -> Vec<Vec<u8>> {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let debug = format!("{secret:?}");
    let mut forms: Vec<Vec<u8>> = vec![
        secret.into(),
        secret.to_lowercase().into(),
        secret.to_uppercase().into(),
        json.trim_matches('"').into(),
        debug.trim_matches('"').into(),
        percent_encode(secret, false).into(),
        percent_encode(secret, true).into(),
    ];
    for engine in [&STANDARD, &URL_SAFE] {
        // Alone (padded; unpadded is a prefix of it) ...
        forms.push(engine.encode(secret).into());
        // ... and inside a longer encoded text ("user:token" in a Basic header, say), where it
        // starts 0, 1 or 2 bytes into a 3-byte group: the characters that depend on the secret's
        // bytes alone.
        for offset in 0..3usize {
            let mut shifted = vec![0u8; offset];
            shifted.extend_from_slice(secret.as_bytes());
            let encoded = engine.encode(&shifted).into_bytes();
            let first = (8 * offset).div_ceil(6);
            let last = 8 * shifted.len() / 6;
            if first < last {
                forms.push(encoded[first..last].to_vec());
            }
        }
    }
    forms
}

/// Percent-encoding as in a URL: `all` encodes every byte, otherwise only what is not unreserved.
fn percent_encode(s: &str, all: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if !all && (b.is_ascii_alphanumeric() || b"-_.~".contains(&b)) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Hashes a piece key with one multiplication: the keys are fixed 8-byte values, not
/// attacker-chosen map keys, so SipHash's protection is not needed, and this keeps a lookup per
/// text byte cheap enough for every log line.
#[derive(Default)]
struct PieceHasher(u64);

impl Hasher for PieceHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64((self.0 << 8) | u64::from(b));
        }
    }

    fn write_u64(&mut self, key: u64) {
        // Fold the 128-bit product so that every key bit reaches the low (bucket) and high
        // (control) bits the table uses.
        let product = u128::from(key) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secret: &str) -> Redactor {
        let mut r = Redactor::default();
        r.add(secret);
        r
    }

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.Zm9v/Ba+r\"q\\9";

    #[test]
    fn masks_registered_secrets_and_their_url_form() {
        register_secret("s3cr3t token/+");
        assert_eq!(redact("token is s3cr3t token/+ ok"), "token is **** ok");
        assert_eq!(redact("url ?t=s3cr3t%20token%2F%2B"), "url ?t=****");
        assert_eq!(redact("nothing here"), "nothing here");
    }

    #[test]
    fn masks_escaped_forms_too() {
        let r = redactor(r#"q"uo\te-tok3n"#);
        assert_eq!(r.redact(&format!("got {:?}", r#"q"uo\te-tok3n"#)), "got \"****\"");
        assert_eq!(r.redact(&serde_json::to_string(r#"q"uo\te-tok3n"#).unwrap()), "\"****\"");
    }

    #[test]
    fn ignores_tiny_secrets_and_masks_short_ones_whole() {
        assert_eq!(redactor("ab").redact("abc"), "abc");
        let r = redactor("k3y/");
        assert_eq!(r.redact("a K3Y/ and k3y%2f and k3y"), "a **** and **** and k3y");
    }

    #[test]
    fn masks_every_piece_of_eight_characters_or_more() {
        let r = redactor(TOKEN);
        for start in 0..TOKEN.len() - 8 {
            for end in start + 8..=TOKEN.len() {
                let text = format!("before {} after", &TOKEN[start..end]);
                assert_eq!(r.redact(&text), "before **** after", "{start}..{end}");
            }
        }
        // Shorter pieces say nothing about the token; plain text stays as it is.
        assert_eq!(r.redact("eyJhbGc"), "eyJhbGc");
        assert_eq!(r.redact("a message about eyes and other things"), "a message about eyes and other things");
    }

    #[test]
    fn masks_case_folded_percent_encoded_and_base64_forms() {
        let r = redactor(TOKEN);
        let b64 = |engine: &base64::engine::GeneralPurpose, bytes: &[u8]| engine.encode(bytes);
        let mut forms = vec![
            TOKEN.to_lowercase(),
            TOKEN.to_uppercase(),
            percent_encode(TOKEN, false),
            percent_encode(TOKEN, false).to_lowercase(),
            percent_encode(TOKEN, true),
            percent_encode(TOKEN, true).to_lowercase(),
            serde_json::to_string(TOKEN).unwrap().trim_matches('"').to_string(),
            format!("{TOKEN:?}").trim_matches('"').to_string(),
        ];
        for engine in [&STANDARD, &URL_SAFE] {
            let padded = b64(engine, TOKEN.as_bytes());
            forms.push(padded.trim_end_matches('=').to_string());
            forms.push(padded);
        }
        for form in &forms {
            assert_eq!(r.redact(&format!("<{form}>")), "<****>", "{form}");
        }
        // Inside a longer encoded text, at every alignment: all but the edge characters go.
        for engine in [&STANDARD, &URL_SAFE] {
            for prefix in ["", "u:", "us:", "use:"] {
                let encoded = b64(engine, format!("{prefix}{TOKEN}:more").as_bytes());
                let shown = r.redact(&encoded).into_owned();
                let removed = encoded.len() - shown.replace(MASK, "").len();
                // The token's bytes make 4/3 as many characters; the two at its edges also
                // carry bits of the neighbouring bytes and may stay.
                assert!(removed + 2 >= TOKEN.len() * 4 / 3, "{prefix}: {encoded} -> {shown}");
            }
        }
    }

    #[test]
    fn masks_non_ascii_secrets_on_character_boundaries() {
        let secret = "t\u{f8}ken-\u{1f511}-12345678";
        let r = redactor(secret);
        for text in [secret.to_string(), secret.to_uppercase(), format!("x{}y", &secret[1..])] {
            let shown = r.redact(&text);
            assert!(!shown.to_lowercase().contains("ken-") && shown.contains(MASK), "{text}: {shown}");
        }
    }

    #[test]
    fn excerpts_redact_before_they_cut() {
        let r = redactor(TOKEN);
        // The token straddles the cut at every position: nothing of it may remain.
        for lead in 0..60 {
            let text = format!("{}{TOKEN}{}", "x".repeat(lead), "y".repeat(100));
            let shown = r.excerpt(&text, 40);
            let expected: String = format!("{}****{}", "x".repeat(lead), "y".repeat(100)).chars().take(40).collect();
            assert_eq!(shown, format!("{expected}…"), "lead {lead}");
        }
        assert_eq!(r.excerpt("short", 40), "short");
        assert_eq!(r.excerpt(&"é".repeat(50), 40), format!("{}…", "é".repeat(40)));
        assert_eq!(r.excerpt(&format!("{TOKEN}{TOKEN}"), 40), "****");
        assert_eq!(r.excerpt(&"z".repeat(41), 40), format!("{}…", "z".repeat(40)));
        assert_eq!(r.excerpt(&"z".repeat(40), 40), "z".repeat(40));
    }

    #[test]
    fn an_excerpt_of_a_huge_text_reads_only_its_head() {
        let r = redactor(TOKEN);
        let mut text = format!("head {TOKEN} ");
        text.push_str(&"a".repeat(16 << 20));
        let started = std::time::Instant::now();
        let shown = r.excerpt(&text, 20);
        assert_eq!(shown, format!("head **** {}…", "a".repeat(10)));
        // Scanning all 16 MiB takes far longer than this in a test build.
        assert!(started.elapsed() < std::time::Duration::from_millis(50), "{:?}", started.elapsed());
    }

    #[test]
    fn excerpt_and_redact_agree_on_generated_texts() {
        let r = redactor("t\u{f8}k3n-s3cr3t-\u{e9}t\u{e9}-0123456789");
        let secret = "t\u{f8}k3n-s3cr3t-\u{e9}t\u{e9}-0123456789";
        let parts: Vec<String> = (0..secret.len())
            .filter(|&i| secret.is_char_boundary(i))
            .flat_map(|i| [secret[i..].to_string(), secret[..i].to_string()])
            .chain(["\u{e9}", "\u{1f511}", "ab", " ", "T\u{d8}K3N-S3CR3T"].map(String::from))
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..300 {
            let text: String = (0..next(8)).map(|_| parts[next(parts.len())].as_str()).collect();
            let full = r.redact(&text).into_owned();
            for max in 0..full.chars().count() + 2 {
                let cut: String = full.chars().take(max).collect();
                let expected = if cut.len() < full.len() { format!("{cut}…") } else { cut };
                assert_eq!(r.excerpt(&text, max), expected, "{text:?}, max {max}");
            }
        }
    }

    #[test]
    fn excerpt_and_redact_agree_on_every_cut() {
        let r = redactor(TOKEN);
        let text = format!("a{TOKEN}b é {}{TOKEN}c{TOKEN}", &TOKEN[..20]);
        let full = r.redact(&text).into_owned();
        for max in 0..full.chars().count() + 2 {
            let cut: String = full.chars().take(max).collect();
            let expected = if cut.len() < full.len() { format!("{cut}…") } else { cut };
            assert_eq!(r.excerpt(&text, max), expected, "max {max}");
        }
    }
}
