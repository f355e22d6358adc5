//! What the stream tasks tell the output thread, and the channel that carries it.

use std::sync::mpsc::{Receiver, Sender};

use super::state::Delta;
use crate::buffers::Buf;
use crate::error::Error;
use crate::http::{PagePermit, Signal};
use crate::protocol::LogLevel;

/// What stream tasks tell the output thread.
#[derive(Debug)]
pub(crate) enum Event {
    /// A stream begins.
    Started {
        stream: usize,
    },
    /// A page's RECORD lines.
    Page {
        stream: usize,
        records: u64,
        lines: Buf,
        permit: Option<PagePermit>,
    },
    /// Partition `seq` (numbered from 0 in checkpoint order) has written all its records; its
    /// deltas apply once every partition before it has too.
    Done {
        stream: usize,
        seq: u64,
        deltas: Vec<Delta>,
    },
    /// Partition `seq` is still being read but has written every record before this point:
    /// applied once every partition before it is done, and replaced by later progress or by
    /// its `Done`.
    Progress {
        stream: usize,
        seq: u64,
        delta: Delta,
    },
    /// A stream ended: its state is final, or the error that stopped it.
    Finished {
        stream: usize,
        result: Result<(), Error>,
    },
    Log {
        level: LogLevel,
        message: String,
    },
    Estimate {
        stream: usize,
        rows: u64,
    },
    /// What the stream's endpoint did.
    Http {
        stream: usize,
        signal: Signal,
    },
    /// For the progress display: the partitions the stream is now expected to need in all.
    Planned {
        stream: usize,
        partitions: u64,
    },
}

/// Sends events; cheap to clone into every task.
#[derive(Clone)]
pub(crate) struct Output(Sender<Event>);

impl Output {
    pub(crate) fn channel() -> (Output, Receiver<Event>) {
        let (tx, rx) = std::sync::mpsc::channel();
        (Output(tx), rx)
    }

    /// Sends an event. Fails only when the output thread has stopped (stdout is gone), and then
    /// there is nothing left to do but stop. Never blocks.
    pub(crate) fn send(&self, event: Event) -> Result<(), Error> {
        self.0.send(event).map_err(|_| Error::system("The output channel closed (stdout is no longer writable)."))
    }

    pub(crate) fn log(&self, level: LogLevel, message: impl Into<String>) {
        let _ = self.0.send(Event::Log { level, message: message.into() });
    }
}
