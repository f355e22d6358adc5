//! Deterministic randomness and invertible ids.
//!
//! Every generated record is a pure function of `(seed, stream, index)`, so nothing is stored and
//! any record can be recomputed on demand. Ids are an invertible encoding of the index, which lets
//! `touch_chat("…")` or `add_records` find (and hide) the generated record an id belongs to
//! without an index table.

/// The splitmix64 finaliser: a bijective 64-bit mixer with good avalanche.
#[inline]
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A splitmix64 stream keyed by `(seed, salt, index)`.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    #[inline]
    pub(crate) fn new(seed: u64, salt: u64, i: u64) -> Rng {
        Rng(mix(seed ^ mix(salt.wrapping_add(mix(i ^ 0x5851_f42d_4c95_7f2d)))))
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n == 0`).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..hi` (lo when the range is empty).
    #[inline]
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p_percent / 100`.
    #[inline]
    pub(crate) fn pct(&mut self, p_percent: u64) -> bool {
        self.below(100) < p_percent
    }

    #[inline]
    pub(crate) fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Crockford base32 (no I, L, O, U): ids look like Botmaker's `B6H5TVN6UTM1V8TVPG7Z`.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn alpha_val(c: u8) -> Option<u64> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u64)
}

/// A 20-character id; chars 0..7 are a keyed check, chars 7..20 a Feistel-permuted index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Id([u8; 20]);

impl Id {
    pub(crate) fn as_str(&self) -> &str {
        // Only ALPHABET bytes are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

fn round_key(seed: u64, salt: u64, round: u64) -> u64 {
    mix(seed ^ mix(salt ^ (round.wrapping_mul(0x2545_f491_4f6c_dd1d))))
}

fn feistel(seed: u64, salt: u64, x: u64) -> u64 {
    let (mut l, mut r) = ((x >> 32) as u32, x as u32);
    for k in 0..4 {
        let f = mix(r as u64 ^ round_key(seed, salt, k)) as u32;
        (l, r) = (r, l ^ f);
    }
    ((l as u64) << 32) | r as u64
}

fn feistel_inv(seed: u64, salt: u64, y: u64) -> u64 {
    let (mut l, mut r) = ((y >> 32) as u32, y as u32);
    for k in (0..4).rev() {
        let f = mix(l as u64 ^ round_key(seed, salt, k)) as u32;
        (l, r) = (r ^ f, l);
    }
    ((l as u64) << 32) | r as u64
}

fn check(seed: u64, salt: u64, i: u64) -> u64 {
    mix(seed ^ mix(salt ^ 0x00c0_ffee) ^ mix(i))
}

/// The id of record `i` of the stream identified by `salt`.
pub(crate) fn make_id(seed: u64, salt: u64, i: u64) -> Id {
    let mut out = [b'0'; 20];
    let c = check(seed, salt, i);
    for (k, o) in out.iter_mut().take(7).enumerate() {
        *o = ALPHABET[((c >> (5 * k)) & 31) as usize];
    }
    let y = feistel(seed, salt, i);
    // 13 base32 digits hold 65 bits; the top digit only uses 4.
    for k in 0..13 {
        out[19 - k] = ALPHABET[((y >> (5 * k)) & 31) as usize];
    }
    Id(out)
}

/// The index an id was made from, if it is one of ours for this `(seed, salt)`.
pub(crate) fn parse_id(seed: u64, salt: u64, s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 20 {
        return None;
    }
    let mut y: u64 = 0;
    for (k, &ch) in b[7..].iter().enumerate() {
        let v = alpha_val(ch)?;
        if k == 0 && v >= 16 {
            return None;
        }
        y = (y << 5) | v;
    }
    let i = feistel_inv(seed, salt, y);
    (make_id(seed, salt, i).0 == b[..]).then_some(i)
}

/// Encodes arbitrary bytes with [`ALPHABET`] (used for opaque page tokens).
pub(crate) fn b32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub(crate) fn b32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in s.as_bytes() {
        acc = ((acc << 5) | alpha_val(c.to_ascii_uppercase())? as u32) & 0xffff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// A keyed 64-bit hash of bytes (FNV-1a, then mixed with the seed).
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h ^ mix(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_roundtrip_and_reject_foreign() {
        for i in [0u64, 1, 2, 999, 1 << 40, (1 << 40) + 7, u32::MAX as u64 * 3] {
            let id = make_id(42, 7, i);
            assert_eq!(id.as_str().len(), 20);
            assert_eq!(parse_id(42, 7, id.as_str()), Some(i));
            assert_eq!(parse_id(43, 7, id.as_str()), None);
            assert_eq!(parse_id(42, 8, id.as_str()), None);
        }
        assert_eq!(parse_id(42, 7, "ABC123DEF456GHI789JK"), None);
        assert_eq!(parse_id(42, 7, "short"), None);
        assert_eq!(parse_id(42, 7, "ééééééééééé"), None);
        assert_ne!(make_id(42, 7, 1), make_id(42, 7, 2));
    }

    #[test]
    fn b32_roundtrip() {
        for s in ["", "a", "hello world", "1700000000000.123.0.X_2024-01-01T00:00:00Z"] {
            assert_eq!(b32_decode(&b32_encode(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert!(b32_decode("%%%").is_none());
    }

    #[test]
    fn rng_ranges() {
        let mut r = Rng::new(1, 2, 3);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
            let x = r.range(-5, 5);
            assert!((-5..5).contains(&x));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range(3, 3), 3);
    }
}
