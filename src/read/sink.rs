//! Where a page's items become RECORD lines: the half-open window filter, duplicate removal
//! and encoding, in one pass over the typed items.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::protocol::{RecordEncoder, RecordSuffix};
use crate::streams::codec::ApiItem;
use crate::time::parse_datetime;

/// A half-open time span `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Span {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// What happened to a page's items.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageStats {
    pub items: u64,
    pub emitted: u64,
    /// Items whose cursor lies outside the window (the request is wider on purpose).
    pub outside: u64,
    /// Items already emitted in this window (or, for list endpoints, on the previous page).
    pub duplicates: u64,
    /// Items emitted without a usable cursor value.
    pub without_cursor: u64,
    /// Items emitted without their primary key (they cannot be deduplicated).
    pub without_key: u64,
}

impl PageStats {
    pub fn add(&mut self, other: PageStats) {
        self.items += other.items;
        self.emitted += other.emitted;
        self.outside += other.outside;
        self.duplicates += other.duplicates;
        self.without_cursor += other.without_cursor;
        self.without_key += other.without_key;
    }
}

/// Remembers primary keys to drop repeats.
///
/// Keys are kept as 128-bit hashes (a collision is practically impossible: about 1e-29 for a
/// million keys) so that memory stays small and flat.
pub enum Deduper {
    /// Every key seen in the current window: windows are bounded in size, so this is too.
    Window(HashSet<u128>),
    /// Keys of the current and the previous page only: enough for offset paging whose pages
    /// shift when records arrive, and for a page served twice, without growing with the stream.
    Adjacent { previous: HashSet<u128>, current: HashSet<u128> },
    /// Keys of this window and of its two neighbours, for streams whose windows overlap at the
    /// edges and cannot be filtered by cursor (chats).
    Neighbours { shared: Arc<NeighbourKeys>, seq: u64 },
}

/// The keys of the windows of one stream that may still overlap a running window.
///
/// Adjacent windows are requested one second wider than they are, so a chat whose last activity
/// sits on the edge comes back from both. A window's keys are kept until both its neighbours are
/// done, so memory stays bounded by the windows in flight.
#[derive(Default)]
pub struct NeighbourKeys {
    inner: Mutex<NeighbourInner>,
}

#[derive(Default)]
struct NeighbourInner {
    keys: HashMap<u64, HashSet<u128>>,
    done: HashSet<u64>,
}

impl NeighbourKeys {
    fn insert(&self, seq: u64, hash: u128) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let in_neighbour = [seq.checked_sub(1), seq.checked_add(1)]
            .into_iter()
            .flatten()
            .any(|n| inner.keys.get(&n).is_some_and(|k| k.contains(&hash)));
        !in_neighbour && inner.keys.entry(seq).or_default().insert(hash)
    }

    /// Window `seq` is finished; forget every window whose neighbours are all finished.
    pub fn window_done(&self, seq: u64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.done.insert(seq);
        for s in [seq.checked_sub(1), Some(seq), seq.checked_add(1)].into_iter().flatten() {
            let before_done = s == 0 || inner.done.contains(&(s - 1));
            if inner.done.contains(&s) && before_done && inner.done.contains(&(s + 1)) {
                inner.keys.remove(&s);
            }
        }
    }

    /// How many windows' keys are held (for tests).
    pub fn held(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).keys.len()
    }
}

impl Deduper {
    pub fn window() -> Self {
        Deduper::Window(HashSet::new())
    }

    pub fn adjacent() -> Self {
        Deduper::Adjacent { previous: HashSet::new(), current: HashSet::new() }
    }

    /// True if `key` is new.
    fn insert(&mut self, key: &str) -> bool {
        let hash = hash128(key);
        match self {
            Deduper::Window(seen) => seen.insert(hash),
            Deduper::Adjacent { previous, current } => {
                let on_previous_page = previous.contains(&hash);
                current.insert(hash) && !on_previous_page
            }
            Deduper::Neighbours { shared, seq } => shared.insert(*seq, hash),
        }
    }

    /// Called between pages.
    pub fn next_page(&mut self) {
        if let Deduper::Adjacent { previous, current } = self {
            std::mem::swap(previous, current);
            current.clear();
        }
    }
}

fn hash128(key: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        key.hash(&mut h);
        h.finish() as u128
    };
    (half(1) << 64) | half(2)
}

/// Encodes one page's records into `buf`.
pub struct RecordSink<'a> {
    pub encoder: &'a RecordEncoder,
    pub buf: &'a mut Vec<u8>,
    pub suffix: &'a RecordSuffix,
    /// Keep only items whose cursor lies in this span (event streams).
    pub filter: Option<Span>,
    pub dedupe: &'a mut Deduper,
    pub stats: PageStats,
}

impl RecordSink<'_> {
    pub fn push<T: ApiItem>(&mut self, item: T) -> serde_json::Result<()> {
        self.stats.items += 1;
        if let Some(span) = self.filter {
            match item.cursor().and_then(parse_datetime) {
                Some(t) if !span.contains(t) => {
                    self.stats.outside += 1;
                    return Ok(());
                }
                Some(_) => {}
                // The API placed it in this window; without a time of our own, dropping it
                // would lose it, so it is kept.
                None => self.stats.without_cursor += 1,
            }
        }
        match item.key() {
            Some(key) if !key.is_empty() => {
                if !self.dedupe.insert(key) {
                    self.stats.duplicates += 1;
                    return Ok(());
                }
            }
            // Kept: dropping it would lose a row; the stream's summary warns about it.
            _ => self.stats.without_key += 1,
        }
        self.encoder.encode(self.buf, &item.into_record(), self.suffix)?;
        self.stats.emitted += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::codec::{Codec, Envelope, PageCodec};
    use crate::streams::records::MessageItem;

    fn run(body: &str, filter: Option<Span>, dedupe: &mut Deduper) -> (PageStats, Vec<String>) {
        let decoded = Codec::<MessageItem>::new(Envelope::Items).decode(body.as_bytes()).unwrap();
        let encoder = RecordEncoder::new("messages");
        let mut buf = Vec::new();
        let suffix = RecordSuffix::new(1);
        let mut sink = RecordSink {
            encoder: &encoder,
            buf: &mut buf,
            suffix: &suffix,
            filter,
            dedupe,
            stats: PageStats::default(),
        };
        decoded.items.write_to(&mut sink).unwrap();
        let stats = sink.stats;
        let ids = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["record"]["data"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        (stats, ids)
    }

    #[test]
    fn keeps_the_half_open_window_exactly() {
        let span = Span {
            start: parse_datetime("2024-01-01T00:00:00Z").unwrap(),
            end: parse_datetime("2024-01-02T00:00:00Z").unwrap(),
        };
        let body = r#"{"items":[
            {"id":"before","creationTime":"2023-12-31T23:59:59.999Z"},
            {"id":"start-s","creationTime":"2024-01-01T00:00:00Z"},
            {"id":"start-ms","creationTime":"2024-01-01T00:00:00.000Z"},
            {"id":"inside","creationTime":"2024-01-01T12:00:00.5Z"},
            {"id":"end-ms","creationTime":"2024-01-02T00:00:00.000Z"},
            {"id":"end","creationTime":"2024-01-02T00:00:00Z"},
            {"id":"no-time"},
            {"id":"inside","creationTime":"2024-01-01T12:00:00.5Z"}]}"#;
        let (stats, ids) = run(body, Some(span), &mut Deduper::window());
        assert_eq!(ids, ["start-s", "start-ms", "inside", "no-time"]);
        assert_eq!((stats.outside, stats.duplicates, stats.without_cursor, stats.items), (3, 1, 1, 8));
    }

    #[test]
    fn neighbour_windows_share_their_edges_and_are_forgotten_when_done() {
        let shared = Arc::new(NeighbourKeys::default());
        let mut w0 = Deduper::Neighbours { shared: shared.clone(), seq: 0 };
        let mut w1 = Deduper::Neighbours { shared: shared.clone(), seq: 1 };
        let mut w2 = Deduper::Neighbours { shared: shared.clone(), seq: 2 };
        assert!(w0.insert("edge01") && w0.insert("a"));
        assert!(!w1.insert("edge01"), "the edge chat was already emitted by window 0");
        assert!(w2.insert("edge12") && !w1.insert("edge12"));
        assert!(w2.insert("a"), "window 2 does not touch window 0");
        assert!(!w0.insert("a"), "repeats within a window are dropped too");
        shared.window_done(1);
        shared.window_done(0);
        assert_eq!(shared.held(), 1, "window 0 is forgotten once 1 is done; window 2 still runs");
        shared.window_done(2);
        shared.window_done(3);
        assert_eq!(shared.held(), 0);
    }

    #[test]
    fn adjacent_dedupe_forgets_older_pages() {
        let mut d = Deduper::adjacent();
        let page = |ids: &[&str]| {
            format!(
                r#"{{"items":[{}]}}"#,
                ids.iter().map(|i| format!(r#"{{"id":"{i}"}}"#)).collect::<Vec<_>>().join(",")
            )
        };
        assert_eq!(run(&page(&["a", "b"]), None, &mut d).1, ["a", "b"]);
        d.next_page();
        assert_eq!(run(&page(&["b", "c"]), None, &mut d).1, ["c"]);
        d.next_page();
        d.next_page();
        assert_eq!(run(&page(&["a"]), None, &mut d).1, ["a"]);
    }
}
