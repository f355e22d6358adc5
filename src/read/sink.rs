//! Where a page's items become RECORD lines: the half-open window filter, duplicate removal
//! and encoding, one item at a time while the page is parsed.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

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
    /// Items an earlier attempt at this page emitted before the page failed to parse.
    pub resumed: u64,
}

impl PageStats {
    pub fn add(&mut self, other: PageStats) {
        self.items += other.items;
        self.emitted += other.emitted;
        self.outside += other.outside;
        self.duplicates += other.duplicates;
        self.without_cursor += other.without_cursor;
        self.without_key += other.without_key;
        self.resumed += other.resumed;
    }
}

/// Remembers primary keys to drop repeats.
///
/// Keys are kept as 128-bit hashes (a collision is practically impossible: about 1e-29 for a
/// million keys). A page's keys are committed only once the whole page has been read; the keys
/// of records a broken attempt at the page already emitted travel to the next attempt on their
/// own ([`RecordSink::resume_after`]), so the retry skips exactly those and counts them apart.
///
/// Event streams need no more than the previous page: their windows never overlap (the
/// half-open filter), so a repeat can only come from the API serving a page twice or shifting
/// records between pages. Remembering a whole window instead would cost memory in proportion to
/// the window (megabytes for a busy day of messages) for no gain.
pub enum Deduper {
    /// Keys of the previous page only: enough for offset paging whose pages shift when records
    /// arrive, and for a page served twice, without growing with the stream.
    Adjacent(KeySet),
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
pub struct NeighbourInner {
    keys: HashMap<u64, KeySet>,
    done: HashSet<u64>,
}

impl NeighbourKeys {
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
    pub fn adjacent() -> Self {
        Deduper::Adjacent(KeySet::default())
    }

    /// The keys a page is checked against. For neighbouring windows it holds the shared lock
    /// for the page, so checking and committing are one step for concurrent windows.
    pub fn begin_page(&mut self) -> SeenKeys<'_> {
        match self {
            Deduper::Adjacent(previous) => SeenKeys::Previous(previous),
            Deduper::Neighbours { shared, seq } => {
                SeenKeys::Neighbours(shared.inner.lock().unwrap_or_else(|e| e.into_inner()), *seq)
            }
        }
    }
}

/// Keys already emitted, as seen by one page (see [`Deduper::begin_page`]).
pub enum SeenKeys<'d> {
    /// The previous page's keys, replaced by the page being read once it is complete.
    Previous(&'d mut KeySet),
    Neighbours(MutexGuard<'d, NeighbourInner>, u64),
}

impl SeenKeys<'_> {
    fn contains(&self, hash: u128) -> bool {
        match self {
            SeenKeys::Previous(seen) => seen.contains(hash),
            SeenKeys::Neighbours(inner, seq) => [seq.checked_sub(1), Some(*seq), seq.checked_add(1)]
                .into_iter()
                .flatten()
                .any(|n| inner.keys.get(&n).is_some_and(|k| k.contains(hash))),
        }
    }

    /// Records the keys of a page that was read completely.
    pub fn commit(self, page: HashSet<u128>) {
        match self {
            SeenKeys::Previous(seen) => *seen = KeySet::from(page),
            SeenKeys::Neighbours(mut inner, seq) => inner.keys.entry(seq).or_default().merge(page),
        }
    }
}

/// Remembered keys, sorted: 16 bytes a key, where a hash set needs up to twice that. Windows keep
/// their keys while neighbours run, and a busy sync runs many windows at once, so this is what
/// keeps that memory small; a lookup is a binary search.
#[derive(Debug, Default)]
pub struct KeySet(Vec<u128>);

impl KeySet {
    fn contains(&self, hash: u128) -> bool {
        self.0.binary_search(&hash).is_ok()
    }

    fn merge(&mut self, more: HashSet<u128>) {
        self.0.extend(more);
        self.0.sort_unstable();
        self.0.dedup();
        self.0.shrink_to_fit();
    }
}

impl From<HashSet<u128>> for KeySet {
    fn from(keys: HashSet<u128>) -> Self {
        let mut set = KeySet::default();
        set.merge(keys);
        set
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

/// Where encoded records go before the page is complete.
///
/// A page of messages is close to a megabyte once encoded; handing it on in chunks of
/// [`Spill::threshold`] bytes lets the output thread write it while the rest is parsed, so no
/// page's output sits whole in memory (peak memory stays flat however full the pages are).
pub struct Spill<'a> {
    /// Hand the buffer on once it holds this many bytes.
    pub threshold: usize,
    /// Takes the buffer's records (their bytes and count) and leaves an empty buffer behind.
    pub send: &'a mut dyn FnMut(&mut Vec<u8>, u64),
}

/// Encodes one page's records into `buf` as the page is parsed.
pub struct RecordSink<'a> {
    pub encoder: &'a RecordEncoder,
    pub buf: &'a mut Vec<u8>,
    pub suffix: &'a RecordSuffix,
    /// Keep only items whose cursor lies in this span (event streams).
    pub filter: Option<Span>,
    pub seen: SeenKeys<'a>,
    /// Keys emitted from this page, committed to `seen` when the page is complete.
    pub page_keys: HashSet<u128>,
    /// Keys an earlier, failed attempt at this page already emitted (see [`RecordSink::abandon`]).
    carried: HashSet<u128>,
    pub stats: PageStats,
    /// Records in `buf` not yet handed to `spill`.
    unsent: u64,
    spill: Option<Spill<'a>>,
}

impl<'a> RecordSink<'a> {
    pub fn new(
        encoder: &'a RecordEncoder,
        buf: &'a mut Vec<u8>,
        suffix: &'a RecordSuffix,
        filter: Option<Span>,
        seen: SeenKeys<'a>,
    ) -> Self {
        RecordSink {
            encoder,
            buf,
            suffix,
            filter,
            seen,
            page_keys: HashSet::new(),
            carried: HashSet::new(),
            stats: PageStats::default(),
            unsent: 0,
            spill: None,
        }
    }

    /// Hands records on in chunks while the page is parsed (see [`Spill`]).
    pub fn spill_to(mut self, spill: Spill<'a>) -> Self {
        self.spill = Some(spill);
        self
    }

    /// This is another attempt at a page whose earlier attempt failed half-way after emitting
    /// the records with these keys: they are not emitted again.
    pub fn resume_after(mut self, emitted: HashSet<u128>) -> Self {
        self.carried = emitted;
        self
    }

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
                let hash = hash128(key);
                if self.carried.remove(&hash) {
                    self.page_keys.insert(hash);
                    self.stats.resumed += 1;
                    return Ok(());
                }
                // Remembered even when seen before, so a shift of several records between two
                // pages (offset paging) is still caught on the page after.
                let seen_before = self.seen.contains(hash);
                if !self.page_keys.insert(hash) || seen_before {
                    self.stats.duplicates += 1;
                    return Ok(());
                }
            }
            // Kept: dropping it would lose a row; the stream's summary warns about it.
            _ => self.stats.without_key += 1,
        }
        let complete = self.buf.len();
        if let Err(e) = self.encoder.encode(self.buf, &item.into_record(), self.suffix) {
            // Only whole lines may ever be handed on.
            self.buf.truncate(complete);
            return Err(e);
        }
        self.stats.emitted += 1;
        self.unsent += 1;
        if let Some(spill) = &mut self.spill {
            if self.buf.len() >= spill.threshold {
                (spill.send)(self.buf, self.unsent);
                self.unsent = 0;
            }
        }
        Ok(())
    }

    /// The page was read completely: remember its keys and return what happened, and how many
    /// records `buf` still holds.
    pub fn finish(mut self) -> (PageStats, u64) {
        // Keys an earlier attempt emitted stay emitted, even if this attempt no longer saw them.
        self.page_keys.extend(self.carried.drain());
        self.seen.commit(self.page_keys);
        (self.stats, self.unsent)
    }

    /// The page failed to parse half-way and will be fetched again. Without a spill, nothing
    /// of it has left: its records are dropped and the retry starts afresh. With one, the
    /// records parsed so far are handed on like any others (each is a whole record from the
    /// part of the body that parsed) and their keys returned, for the retry to
    /// [resume after](RecordSink::resume_after) them. Records without a key cannot be
    /// recognised and may come out twice.
    pub fn abandon(mut self) -> HashSet<u128> {
        let Some(spill) = &mut self.spill else {
            self.buf.clear();
            return HashSet::new();
        };
        if self.unsent > 0 {
            (spill.send)(self.buf, self.unsent);
        }
        self.page_keys.extend(self.carried.drain());
        self.page_keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::codec::{Codec, Envelope, PageCodec};
    use crate::streams::records::MessageItem;

    fn run(body: &str, filter: Option<Span>, dedupe: &mut Deduper) -> (PageStats, Vec<String>) {
        let encoder = RecordEncoder::new("messages");
        let mut buf = Vec::new();
        let suffix = RecordSuffix::new(1);
        let mut sink = RecordSink::new(&encoder, &mut buf, &suffix, filter, dedupe.begin_page());
        Codec::<MessageItem>::new(Envelope::Items).decode_into(body.as_bytes(), &mut sink).unwrap();
        let (stats, unsent) = sink.finish();
        assert_eq!(unsent, stats.emitted, "without a spill every record stays in the buffer");
        (stats, record_ids(&String::from_utf8(buf).unwrap()))
    }

    /// The `id`s of the RECORD lines in `text`.
    fn record_ids(text: &str) -> Vec<String> {
        text.lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["record"]["data"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    fn page(ids: &[&str]) -> String {
        format!(r#"{{"items":[{}]}}"#, ids.iter().map(|i| format!(r#"{{"id":"{i}"}}"#)).collect::<Vec<_>>().join(","))
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
        let (stats, ids) = run(body, Some(span), &mut Deduper::adjacent());
        assert_eq!(ids, ["start-s", "start-ms", "inside", "no-time"]);
        assert_eq!((stats.outside, stats.duplicates, stats.without_cursor, stats.items), (3, 1, 1, 8));
    }

    #[test]
    fn without_a_spill_a_page_that_fails_half_way_leaves_nothing_behind() {
        let mut d = Deduper::adjacent();
        let encoder = RecordEncoder::new("messages");
        let suffix = RecordSuffix::new(1);
        let mut buf = Vec::new();
        let mut sink = RecordSink::new(&encoder, &mut buf, &suffix, None, d.begin_page());
        let truncated = r#"{"items":[{"id":"a"},{"id":"b"},{"id":"#;
        assert!(Codec::<MessageItem>::new(Envelope::Items).decode_into(truncated.as_bytes(), &mut sink).is_err());
        assert!(sink.abandon().is_empty());
        assert!(buf.is_empty(), "nothing of the failed attempt is kept");
        assert_eq!(run(&page(&["a", "b", "c"]), None, &mut d).1, ["a", "b", "c"], "the retried page is whole");
    }

    /// Runs `body` through a sink that spills every `threshold` bytes; returns what the attempt
    /// handed on (ids per chunk), whether it parsed, and the keys to resume after if not.
    fn spilled(
        body: &str,
        threshold: usize,
        dedupe: &mut Deduper,
        resume: HashSet<u128>,
    ) -> (Vec<Vec<String>>, std::result::Result<PageStats, HashSet<u128>>) {
        let encoder = RecordEncoder::new("messages");
        let suffix = RecordSuffix::new(1);
        let mut chunks: Vec<(Vec<u8>, u64)> = Vec::new();
        let mut send = |buf: &mut Vec<u8>, count: u64| chunks.push((std::mem::take(buf), count));
        let mut buf = Vec::new();
        let sink = RecordSink::new(&encoder, &mut buf, &suffix, None, dedupe.begin_page());
        let mut sink = sink.spill_to(Spill { threshold, send: &mut send }).resume_after(resume);
        let outcome = match Codec::<MessageItem>::new(Envelope::Items).decode_into(body.as_bytes(), &mut sink) {
            Ok(_) => {
                let (stats, unsent) = sink.finish();
                Ok((stats, unsent))
            }
            Err(_) => Err(sink.abandon()),
        };
        let outcome = outcome.map(|(stats, unsent)| {
            let rest = std::mem::take(&mut buf);
            assert_eq!(rest.iter().filter(|&&b| b == b'\n').count() as u64, unsent);
            if unsent > 0 {
                chunks.push((rest, unsent));
            }
            stats
        });
        let ids = chunks
            .into_iter()
            .map(|(bytes, count)| {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.ends_with('\n'), "chunks hold whole lines: {text:?}");
                let ids = record_ids(&text);
                assert_eq!(ids.len() as u64, count, "the count travels with its records");
                ids
            })
            .collect();
        (ids, outcome)
    }

    #[test]
    fn a_spilling_sink_hands_records_on_in_whole_lines_as_it_goes() {
        let mut d = Deduper::adjacent();
        let ids: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        // A record line is well over 40 bytes: every record fills a chunk of its own.
        let (chunks, outcome) = spilled(&page(&ids), 40, &mut d, HashSet::new());
        assert_eq!(outcome.unwrap().emitted, 10);
        assert_eq!(chunks.len(), 10);
        assert_eq!(chunks.concat(), ids);
        let (chunks, _) = spilled(&page(&["m9", "n1"]), 1 << 20, &mut d, HashSet::new());
        assert_eq!(chunks, [["n1"]], "below the threshold the page's records stay together; m9 is a repeat");
    }

    #[test]
    fn a_page_that_fails_half_way_after_spilling_is_resumed_without_loss_or_repeat() {
        let mut d = Deduper::adjacent();
        let whole = page(&["a", "b", "c", "d"]);
        // The body breaks inside the fourth item: a, b and c parsed and went out.
        let cut = &whole[..whole.find(r#"{"id":"d"#).unwrap() + 4];
        let (first, outcome) = spilled(cut, 1, &mut d, HashSet::new());
        assert_eq!(first.concat(), ["a", "b", "c"]);
        let emitted = outcome.unwrap_err();
        assert_eq!(emitted.len(), 3);
        // The retry gets the whole page (here with c repeated, and a new e).
        let (second, outcome) = spilled(&page(&["a", "b", "c", "c", "d", "e"]), 1, &mut d, emitted);
        let stats = outcome.unwrap();
        assert_eq!(second.concat(), ["d", "e"], "only what the failed attempt had not emitted");
        assert_eq!((stats.resumed, stats.duplicates, stats.emitted), (3, 1, 2));
        // All six keys count as the page's: the next page's repeats of them are dropped.
        assert_eq!(run(&page(&["a", "e", "f"]), None, &mut d).1, ["f"]);
    }

    #[test]
    fn a_record_that_fails_to_encode_leaves_no_partial_line() {
        #[derive(serde::Deserialize)]
        struct Item {
            id: String,
        }
        /// Writes a field, then fails.
        struct FailsHalfWay;
        impl serde::Serialize for FailsHalfWay {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("id", "x")?;
                Err(serde::ser::Error::custom("cannot encode"))
            }
        }
        impl ApiItem for Item {
            type Record = FailsHalfWay;
            fn cursor(&self) -> Option<&str> {
                None
            }
            fn key(&self) -> Option<&str> {
                Some(&self.id)
            }
            fn into_record(self) -> FailsHalfWay {
                FailsHalfWay
            }
        }
        let mut d = Deduper::adjacent();
        let encoder = RecordEncoder::new("messages");
        let suffix = RecordSuffix::new(1);
        let mut buf = b"{\"earlier\":\"line\"}\n".to_vec();
        let before = buf.clone();
        let mut sink = RecordSink::new(&encoder, &mut buf, &suffix, None, d.begin_page());
        assert!(sink.push(Item { id: "a".into() }).is_err());
        drop(sink);
        assert_eq!(buf, before);
    }

    #[test]
    fn key_sets_are_sorted_and_merge_without_repeats() {
        let mut keys = KeySet::from(HashSet::from([5u128, 1, 9]));
        assert!(keys.contains(1) && keys.contains(9) && !keys.contains(4));
        keys.merge(HashSet::from([4, 5]));
        assert_eq!(keys.0, [1, 4, 5, 9]);
    }

    #[test]
    fn neighbour_windows_share_their_edges_and_are_forgotten_when_done() {
        let shared = Arc::new(NeighbourKeys::default());
        let mut w0 = Deduper::Neighbours { shared: shared.clone(), seq: 0 };
        let mut w1 = Deduper::Neighbours { shared: shared.clone(), seq: 1 };
        let mut w2 = Deduper::Neighbours { shared: shared.clone(), seq: 2 };
        assert_eq!(run(&page(&["edge01", "a", "a"]), None, &mut w0).1, ["edge01", "a"]);
        assert_eq!(run(&page(&["edge01", "edge12"]), None, &mut w1).1, ["edge12"]);
        assert_eq!(run(&page(&["edge12", "a"]), None, &mut w2).1, ["a"], "window 2 does not touch window 0");
        shared.window_done(1);
        shared.window_done(0);
        assert_eq!(shared.held(), 2, "window 0 is forgotten once 1 is done; 1 and 2 are kept for 2's sake");
        shared.window_done(2);
        shared.window_done(3);
        assert_eq!(shared.held(), 0);
    }

    #[test]
    fn adjacent_dedupe_forgets_older_pages() {
        let mut d = Deduper::adjacent();
        assert_eq!(run(&page(&["a", "b"]), None, &mut d).1, ["a", "b"]);
        assert_eq!(run(&page(&["b", "c"]), None, &mut d).1, ["c"]);
        assert_eq!(run(&page(&["d"]), None, &mut d).1, ["d"]);
        assert_eq!(run(&page(&["a"]), None, &mut d).1, ["a"]);
    }
}
