//! Dropping records the API returns twice.
//!
//! Keys are 128-bit hashes of the primary key (see `streams::codec`).
//!
//! Most lists need no more than the previous page: event streams' windows never overlap (their
//! records are kept only inside the window's half-open span), so a repeat can only come from a
//! page served twice or records shifting between pages (tickets' offset paging). Remembering
//! whole windows would cost memory in proportion to the data for no gain.
//!
//! Chats cannot be filtered by their own timestamps, and neighbouring windows both return a
//! chat whose last activity sits on their shared edge, so chats' windows remember their keys
//! until both neighbours are done, and a key claimed by a neighbour is a repeat.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

/// Keys are already uniformly distributed 128-bit hashes: folding them is all the hashing a set
/// of them needs (hashing them again with SipHash cost a few percent of the connector's CPU).
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0 ^ u64::from_le_bytes(word)).rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u128(&mut self, key: u128) {
        self.0 ^= (key as u64) ^ ((key >> 64) as u64);
    }
}

/// A set of record keys.
type Keys = HashSet<u128, BuildHasherDefault<KeyHasher>>;

/// Remembers keys of the previous page, to drop a page's repeats, and the previous page's
/// signature, to drop a whole page served again (records without a key included).
#[derive(Debug, Default)]
pub(crate) struct PreviousPage {
    previous: Keys,
    current: Keys,
    previous_signature: Option<u64>,
}

impl PreviousPage {
    /// Whether a page of this signature holds exactly the previous page's records.
    pub(crate) fn repeats_previous(&self, signature: Option<u64>) -> bool {
        signature.is_some() && signature == self.previous_signature
    }

    /// Whether `key` is new (not on the previous page, nor earlier on this one).
    pub(crate) fn is_new(&mut self, key: u128) -> bool {
        // Remembered even when seen before, so a shift of several records between two pages
        // is still caught on the page after.
        let first_on_page = self.current.insert(key);
        first_on_page && !self.previous.contains(&key)
    }

    /// The page is complete: its keys and signature become the previous page's.
    pub(crate) fn page_done(&mut self, signature: Option<u64>) {
        self.previous = std::mem::take(&mut self.current);
        self.previous_signature = signature;
    }
}

/// The keys of one stream's windows that may still overlap a running window.
#[derive(Debug, Default)]
pub(crate) struct NeighbourKeys {
    inner: Mutex<Neighbours>,
}

#[derive(Debug, Default)]
struct Neighbours {
    keys: HashMap<u64, Keys>,
    done: HashSet<u64>,
}

impl NeighbourKeys {
    /// Claims `key` for window `seq`; false if this window or a neighbour already has it. The
    /// lock is held for this one key only.
    pub(crate) fn claim(&self, seq: u64, key: u128) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let neighbours = [seq.checked_sub(1), seq.checked_add(1)];
        if neighbours.into_iter().flatten().any(|n| inner.keys.get(&n).is_some_and(|k| k.contains(&key))) {
            return false;
        }
        inner.keys.entry(seq).or_default().insert(key)
    }

    /// Window `seq` is finished; forget every window whose neighbours are all finished.
    pub(crate) fn window_done(&self, seq: u64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.done.insert(seq);
        for s in [seq.checked_sub(1), Some(seq), seq.checked_add(1)].into_iter().flatten() {
            let before_done = s == 0 || inner.done.contains(&(s - 1));
            if inner.done.contains(&s) && before_done && inner.done.contains(&(s + 1)) {
                inner.keys.remove(&s);
            }
        }
    }

    /// How many windows' keys are held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.inner.lock().unwrap().keys.len()
    }
}

/// How one list (a window's pages, or a full list) drops repeats.
pub(crate) enum Dedupe {
    PreviousPage(PreviousPage),
    Neighbours { shared: Arc<NeighbourKeys>, seq: u64 },
}

impl Dedupe {
    pub(crate) fn previous_page() -> Dedupe {
        Dedupe::PreviousPage(PreviousPage::default())
    }

    pub(crate) fn is_new(&mut self, key: u128) -> bool {
        match self {
            Dedupe::PreviousPage(p) => p.is_new(key),
            Dedupe::Neighbours { shared, seq } => shared.claim(*seq, key),
        }
    }

    /// Whether a page of this signature (see `pages::signature`) is the previous page again,
    /// so that all of it is a repeat. Windows that share keys with their neighbours do not
    /// track pages.
    pub(crate) fn repeats_previous(&self, signature: Option<u64>) -> bool {
        match self {
            Dedupe::PreviousPage(p) => p.repeats_previous(signature),
            Dedupe::Neighbours { .. } => false,
        }
    }

    pub(crate) fn page_done(&mut self, signature: Option<u64>) {
        if let Dedupe::PreviousPage(p) = self {
            p.page_done(signature);
        }
    }
}

impl Drop for Dedupe {
    fn drop(&mut self) {
        if let Dedupe::Neighbours { shared, seq } = self {
            shared.window_done(*seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_page_forgets_older_pages() {
        let mut d = PreviousPage::default();
        assert!(d.is_new(1) && d.is_new(2) && !d.is_new(2));
        d.page_done(None);
        assert!(!d.is_new(2) && d.is_new(3));
        d.page_done(None);
        assert!(d.is_new(1), "two pages back is forgotten");
        assert!(!d.is_new(2), "2 was seen (as a repeat) on the previous page");
    }

    #[test]
    fn a_page_is_a_repeat_only_right_after_the_same_page() {
        let mut d = Dedupe::previous_page();
        assert!(!d.repeats_previous(Some(7)), "nothing before the first page");
        d.page_done(Some(7));
        assert!(d.repeats_previous(Some(7)) && !d.repeats_previous(Some(8)));
        assert!(!d.repeats_previous(None), "an empty page repeats nothing");
        d.page_done(Some(8));
        assert!(!d.repeats_previous(Some(7)), "two pages back is forgotten");
        let n = Dedupe::Neighbours { shared: Arc::new(NeighbourKeys::default()), seq: 0 };
        assert!(!n.repeats_previous(Some(7)));
    }

    #[test]
    fn neighbour_windows_share_their_edges_and_are_forgotten_when_done() {
        let shared = Arc::new(NeighbourKeys::default());
        assert!(shared.claim(0, 10) && shared.claim(0, 1) && !shared.claim(0, 1));
        assert!(!shared.claim(1, 10), "window 1 sees window 0's edge");
        assert!(shared.claim(1, 12) && !shared.claim(2, 12));
        assert!(shared.claim(2, 1), "window 2 does not touch window 0");
        shared.window_done(1);
        shared.window_done(0);
        assert_eq!(shared.held(), 2, "window 0 is forgotten once 1 is done; 1 and 2 are kept for 2's sake");
        shared.window_done(2);
        shared.window_done(3);
        assert_eq!(shared.held(), 0);
        let d = Dedupe::Neighbours { shared: shared.clone(), seq: 4 };
        drop(d);
        assert_eq!(shared.held(), 0);
    }
}
