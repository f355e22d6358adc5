//! A small pool of byte buffers, so response bodies and encoded pages reuse memory instead of
//! allocating (and page-faulting) a fresh megabyte for every page.
//!
//! Only a few buffers are kept and oversized ones are dropped, so the pool never holds more
//! memory than a handful of pages in flight would anyway.

use std::sync::Mutex;

/// Buffers kept for reuse.
const KEEP: usize = 2;
/// Buffers that grew beyond this are freed rather than kept.
const MAX_KEPT_CAPACITY: usize = 4 * 1024 * 1024;

#[derive(Default)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// An empty buffer with at least `capacity` bytes reserved.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let reused = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buf = reused.unwrap_or_default();
        buf.reserve(capacity);
        buf
    }

    /// Returns a buffer for reuse.
    pub fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_CAPACITY {
            return;
        }
        buf.clear();
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < KEEP {
            free.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_a_bounded_number_of_buffers() {
        let pool = BufferPool::default();
        let mut a = pool.take(1000);
        a.extend_from_slice(b"hello");
        let ptr = a.as_ptr();
        pool.give(a);
        let b = pool.take(10);
        assert!(b.is_empty());
        assert_eq!(b.as_ptr(), ptr, "the same allocation comes back");
        for _ in 0..10 {
            pool.give(Vec::with_capacity(16));
        }
        assert_eq!(pool.free.lock().unwrap().len(), KEEP);
        pool.give(Vec::with_capacity(MAX_KEPT_CAPACITY + 1));
        assert_eq!(pool.free.lock().unwrap().len(), KEEP);
    }
}
