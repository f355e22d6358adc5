//! A small pool of byte buffers, so response bodies and encoded pages reuse memory instead of
//! allocating (and page-faulting) a fresh megabyte for every page.
//!
//! Only a few buffers are kept and oversized ones are dropped, so the pool never holds more
//! memory than a handful of pages in flight would anyway. Bodies (whole pages) and encoded
//! record chunks (tens of KiB) use separate pools, so a small chunk never has to grow into a
//! page or a page-sized buffer sit idle as a chunk.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

/// Buffers that grew beyond this are freed rather than kept.
const MAX_KEPT_CAPACITY: usize = 4 * 1024 * 1024;

pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
    /// Buffers kept for reuse.
    keep: usize,
}

impl BufferPool {
    /// A pool that keeps at most `keep` free buffers.
    pub fn new(keep: usize) -> Self {
        BufferPool { free: Mutex::new(Vec::with_capacity(keep)), keep }
    }

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
        if free.len() < self.keep {
            free.push(buf);
        }
    }
}

/// Buffers for encoded records on their way to stdout, and the bound on how many exist.
///
/// Parsing runs ahead of stdout only by `max_out` chunks: [`ChunkPool::take`] waits while that
/// many are in use, so a slow stdout (or an output thread that falls behind the parsers) holds
/// back parsing instead of letting encoded records pile up in memory.
pub struct ChunkPool {
    state: Mutex<ChunkState>,
    returned: Condvar,
    max_out: usize,
    capacity: usize,
}

struct ChunkState {
    free: Vec<Vec<u8>>,
    out: usize,
}

impl ChunkPool {
    /// At most `max_out` chunks exist at once; each starts with `capacity` bytes reserved.
    /// A parser asks for its next chunk while still holding the full one, so `max_out` must be
    /// at least twice the number of concurrent parsers, or they could end up waiting on each
    /// other with nothing queued for the output thread to release.
    pub fn new(max_out: usize, capacity: usize) -> Arc<Self> {
        Arc::new(ChunkPool {
            state: Mutex::new(ChunkState { free: Vec::with_capacity(max_out), out: 0 }),
            returned: Condvar::new(),
            max_out: max_out.max(1),
            capacity,
        })
    }

    /// An empty chunk, once one is free. Returned to the pool when dropped.
    pub fn take(self: &Arc<Self>) -> Chunk {
        let mut state = self.lock();
        if state.out >= self.max_out {
            // Parsers call this on the runtime's worker threads. A short wait (the output thread
            // is a chunk behind, the usual case when parsing is the faster side) blocks the
            // thread outright: handing its other tasks to another thread first cost a tenth of
            // the throughput in the benchmark. A longer one (stdout stalls) does hand them over,
            // so sockets and timers keep being served meanwhile.
            let full = |s: &mut ChunkState| s.out >= self.max_out;
            state = self.returned.wait_timeout_while(state, SHORT_WAIT, full).unwrap_or_else(|e| e.into_inner()).0;
            if full(&mut state) {
                drop(state);
                state = blocking(|| {
                    let state = self.lock();
                    self.returned.wait_while(state, full).unwrap_or_else(|e| e.into_inner())
                });
            }
        }
        state.out += 1;
        let buf = state.free.pop().unwrap_or_else(|| Vec::with_capacity(self.capacity));
        Chunk { buf, pool: Some(self.clone()) }
    }

    /// Chunks currently in use.
    #[cfg(test)]
    fn in_use(&self) -> usize {
        self.lock().out
    }

    fn lock(&self) -> MutexGuard<'_, ChunkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn give(&self, mut buf: Vec<u8>) {
        let mut state = self.lock();
        state.out -= 1;
        // A chunk that grew around an unusually large record is not kept at that size.
        if buf.capacity() <= 4 * self.capacity && state.free.len() < self.max_out {
            buf.clear();
            state.free.push(buf);
        }
        drop(state);
        self.returned.notify_one();
    }
}

/// How long a parser waits for a chunk before letting the runtime move its other tasks away.
const SHORT_WAIT: Duration = Duration::from_millis(20);

/// Runs `wait`, which blocks the thread, telling a multi-threaded tokio runtime first so it
/// moves its other tasks elsewhere meanwhile.
fn blocking<R>(wait: impl FnOnce() -> R) -> R {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(wait),
        _ => wait(),
    }
}

/// A buffer of encoded records from a [`ChunkPool`]; it goes back to the pool when dropped,
/// wherever that happens (written, discarded with an error, or left in a closed channel).
pub struct Chunk {
    buf: Vec<u8>,
    pool: Option<Arc<ChunkPool>>,
}

impl Chunk {
    /// A chunk that belongs to no pool (for tests).
    pub fn detached(buf: Vec<u8>) -> Chunk {
        Chunk { buf, pool: None }
    }
}

impl Deref for Chunk {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl DerefMut for Chunk {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.give(std::mem::take(&mut self.buf));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_a_bounded_number_of_buffers() {
        let pool = BufferPool::new(2);
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
        assert_eq!(pool.free.lock().unwrap().len(), 2);
        pool.give(Vec::with_capacity(MAX_KEPT_CAPACITY + 1));
        assert_eq!(pool.free.lock().unwrap().len(), 2);
    }

    #[test]
    fn chunks_are_bounded_and_come_back_when_dropped() {
        let pool = ChunkPool::new(2, 64);
        let a = pool.take();
        let mut b = pool.take();
        b.extend_from_slice(b"records");
        assert_eq!(pool.in_use(), 2);
        let waiter = {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let c = pool.take();
                assert!(c.is_empty(), "a reused chunk comes back empty");
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished(), "a third chunk waits while two are in use");
        drop(b);
        waiter.join().unwrap();
        drop(a);
        assert_eq!(pool.in_use(), 0);
        assert!(Chunk::detached(vec![1]).len() == 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_long_wait_for_a_chunk_does_not_stall_the_runtime() {
        let pool = ChunkPool::new(1, 64);
        let held = pool.take();
        let waiter = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.take().len() })
        };
        // The only worker now waits for a chunk; once the wait is no longer short it hands its
        // other tasks to another thread, so this one still runs.
        let (tx, rx) = std::sync::mpsc::channel();
        tokio::spawn(async move { tx.send(7).unwrap() });
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(7), "another task ran meanwhile");
        drop(held);
        assert_eq!(waiter.await.unwrap(), 0);
    }
}
