//! Reusing the large byte buffers pages pass through (response bodies, encoded RECORD lines).
//!
//! A page's buffers are allocated by the task that reads it and freed by the output thread once
//! written; with a steady stream of fresh megabyte buffers freed on another thread, the
//! allocator keeps memory it could return, and a sync's resident memory grew to twice what its
//! pages need. Buffers go back to a small shared pool when dropped instead, and the next page
//! takes one from there. The pool never waits: it hands out a new buffer when none is free, and
//! keeps only a few (page permits bound how many are in use at once anyway).

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Free buffers are kept for reuse up to this many bytes in all: a little more than the default
/// page memory budget, so the pages in flight keep reusing the same buffers (the allocator then
/// has nothing to purge and fault in again: a pool of half the budget cost a tenth more CPU),
/// while memory stays bounded when fewer pages are in flight.
const KEEP_BYTES: usize = 4 << 20;

static FREE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// An empty buffer with room for at least `capacity` bytes.
pub(crate) fn take(capacity: usize) -> Buf {
    let reused = {
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        // The smallest one large enough, or else the largest (it grows least).
        let fits = free.iter().enumerate().filter(|(_, b)| b.capacity() >= capacity).min_by_key(|(_, b)| b.capacity());
        let best = fits.or_else(|| free.iter().enumerate().max_by_key(|(_, b)| b.capacity())).map(|(i, _)| i);
        best.map(|i| free.swap_remove(i))
    };
    let mut buf = reused.unwrap_or_default();
    buf.reserve(capacity);
    Buf(buf)
}

/// A byte buffer that returns to the pool when dropped.
#[derive(Debug, Default)]
pub(crate) struct Buf(Vec<u8>);

impl Deref for Buf {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Buf {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl From<Vec<u8>> for Buf {
    fn from(v: Vec<u8>) -> Buf {
        Buf(v)
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.0);
        if buf.capacity() == 0 {
            return;
        }
        buf.clear();
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        let kept: usize = free.iter().map(Vec::capacity).sum();
        if kept + buf.capacity() <= KEEP_BYTES {
            free.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_and_are_reused() {
        let mut a = take(1000);
        a.extend_from_slice(b"hello");
        let ptr = a.as_ptr();
        drop(a);
        let b = take(10);
        assert!(b.is_empty(), "a reused buffer comes back empty");
        assert!(b.capacity() >= 1000);
        // Other tests share the pool, so the very same allocation is likely but not certain.
        let _ = ptr;
        drop(Buf::from(Vec::with_capacity(KEEP_BYTES + 1)));
        for _ in 0..20 {
            drop(Buf::from(Vec::with_capacity(KEEP_BYTES / 8)));
        }
        let kept: usize = FREE.lock().unwrap().iter().map(Vec::capacity).sum();
        assert!(kept <= KEEP_BYTES, "the pool keeps at most {KEEP_BYTES} bytes, not {kept}");
    }
}
