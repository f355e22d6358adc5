//! The output side of `read`: one thread owns stdout and turns events from the stream tasks
//! into Airbyte messages, in order.
//!
//! Stream tasks encode their records themselves (in parallel) and send the bytes here; this
//! thread writes them, counts them per stream, and decides when a STATE may be written: a
//! window's checkpoint is emitted only once every earlier window of that stream has been
//! written too (ordered checkpoints), so a STATE never covers a record that is not yet out.
//! Because all of this happens in one place, in the order events arrive, `recordCount` always
//! equals the records of that stream written since its previous STATE.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::progress::Progress;
use crate::buffers::Chunk;
use crate::error::Error;
use crate::protocol::{LogLevel, MessageWriter, StreamStatus};
use crate::time::format_cursor;

/// What stream tasks tell the output thread.
pub enum Event {
    /// A stream begins.
    Started {
        stream: usize,
    },
    /// Encoded RECORD lines. The chunk returns to its pool once written, which lets parsing
    /// go on.
    Records {
        stream: usize,
        count: u64,
        bytes: Chunk,
    },
    /// Window `seq` (numbered from 0 in checkpoint order) has written all its records; when it
    /// and all before it are done, the stream's cursor may move to `checkpoint`.
    WindowDone {
        stream: usize,
        seq: u64,
        checkpoint: Option<DateTime<Utc>>,
    },
    /// A stream ended: `Ok(state)` with its final `stream_state`, or the error that stopped it.
    Finished {
        stream: usize,
        result: Result<Value, Error>,
    },
    Log {
        level: LogLevel,
        message: String,
    },
    Estimate {
        stream: usize,
        rows: u64,
    },
    /// For the progress display: the windows the stream is now expected to need in all.
    Windows {
        stream: usize,
        expected: u64,
    },
}

/// Sends events; cheap to clone into every task.
#[derive(Clone)]
pub struct Events(Sender<Event>);

impl Events {
    /// A new channel: the sending side and the receiving end for [`spawn`].
    pub fn channel() -> (Events, Receiver<Event>) {
        let (tx, rx) = std::sync::mpsc::channel();
        (Events(tx), rx)
    }

    /// Sends an event. Fails only when the output thread has stopped (stdout is gone), and then
    /// there is nothing left to do but stop.
    pub fn send(&self, event: Event) -> Result<(), Error> {
        self.0.send(event).map_err(|_| Error::system("The output channel closed (stdout is no longer writable)."))
    }

    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        let _ = self.0.send(Event::Log { level, message: message.into() });
    }
}

/// Per-stream output bookkeeping.
struct StreamOut {
    name: String,
    cursor_field: Option<&'static str>,
    records_total: u64,
    since_state: u64,
    running: bool,
    next_seq: u64,
    done: BTreeMap<u64, Option<DateTime<Utc>>>,
    last_state: Option<Value>,
    finished: Option<Result<(), Error>>,
}

/// How the streams ended.
#[derive(Debug)]
pub struct Summary {
    pub records: Vec<(String, u64)>,
    pub failures: Vec<(String, Error)>,
}

/// Turns events into messages. Pure apart from the writer, so it is tested directly.
pub struct Emitter<W: Write> {
    writer: MessageWriter<W>,
    streams: Vec<StreamOut>,
    progress: Option<Progress>,
    last_flush: Instant,
}

/// Records never wait in the stdout buffer longer than this.
const MAX_FLUSH_DELAY: Duration = Duration::from_secs(1);

impl<W: Write> Emitter<W> {
    /// `streams` are (name, cursor field) in the index order events use.
    pub fn new(writer: MessageWriter<W>, streams: &[(&str, Option<&'static str>)]) -> Self {
        let streams = streams
            .iter()
            .map(|&(name, cursor_field)| StreamOut {
                name: name.to_string(),
                cursor_field,
                records_total: 0,
                since_state: 0,
                running: false,
                next_seq: 0,
                done: BTreeMap::new(),
                last_state: None,
                finished: None,
            })
            .collect();
        Emitter { writer, streams, progress: None, last_flush: Instant::now() }
    }

    /// Shows a live progress display (on stderr, which must be a terminal).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    pub fn handle(&mut self, event: Event) -> io::Result<()> {
        if let Some(p) = &mut self.progress {
            p.observe(&event);
        }
        // Records wait in the buffer for the next checkpoint (or `tick`); everything else is
        // rare and worth seeing at once (statuses, logs, estimates).
        let urgent = !matches!(event, Event::Records { .. } | Event::WindowDone { .. } | Event::Windows { .. });
        match event {
            Event::Started { stream } => {
                self.writer.stream_status(&self.streams[stream].name, StreamStatus::Started)?;
            }
            Event::Records { stream, count, bytes } => {
                let s = &mut self.streams[stream];
                if count > 0 && !s.running {
                    s.running = true;
                    self.writer.stream_status(&s.name, StreamStatus::Running)?;
                }
                self.writer.raw(&bytes)?;
                s.records_total += count;
                s.since_state += count;
            }
            Event::WindowDone { stream, seq, checkpoint } => {
                let s = &mut self.streams[stream];
                s.done.insert(seq, checkpoint);
                let mut advanced_to = None;
                while let Some(cp) = s.done.remove(&s.next_seq) {
                    s.next_seq += 1;
                    if cp.is_some() {
                        advanced_to = cp;
                    }
                }
                if let (Some(cursor), Some(field)) = (advanced_to, s.cursor_field) {
                    self.write_state(stream, json!({ field: format_cursor(cursor) }))?;
                }
            }
            Event::Finished { stream, result } => match result {
                Ok(final_state) => {
                    let s = &self.streams[stream];
                    let repeat = s.last_state.as_ref() == Some(&final_state) && s.since_state == 0;
                    if !repeat {
                        self.write_state(stream, final_state)?;
                    }
                    let s = &mut self.streams[stream];
                    s.finished = Some(Ok(()));
                    self.writer.stream_status(&s.name, StreamStatus::Complete)?;
                }
                Err(error) => {
                    let s = &mut self.streams[stream];
                    self.writer.error(&error, Some(&s.name))?;
                    self.writer.stream_status(&s.name, StreamStatus::Incomplete)?;
                    s.finished = Some(Err(error));
                }
            },
            Event::Log { level, message } => self.writer.log(level, &message)?,
            Event::Estimate { stream, rows } => {
                self.writer.estimate(&self.streams[stream].name, rows)?;
            }
            Event::Windows { .. } => {}
        }
        if urgent {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.last_flush = Instant::now();
        self.writer.flush()
    }

    /// Redraws the progress display if it is due, and flushes records that have waited a
    /// while, so a slow stream's output still trickles out between checkpoints.
    fn tick(&mut self, force: bool) -> io::Result<()> {
        if let Some(p) = &mut self.progress {
            p.draw(force);
        }
        if self.last_flush.elapsed() >= MAX_FLUSH_DELAY {
            self.flush()?;
        }
        Ok(())
    }

    fn write_state(&mut self, stream: usize, state: Value) -> io::Result<()> {
        let s = &mut self.streams[stream];
        // Never the same state twice in a row with records in between: the platform fails such
        // a sync. The read plan guarantees it cannot happen; this is the last guard.
        if s.last_state.as_ref() == Some(&state) {
            return Ok(());
        }
        self.writer.state(&s.name, &state, s.since_state)?;
        s.since_state = 0;
        s.last_state = Some(state);
        self.flush()
    }

    /// Consumes the emitter, flushing and reporting how each stream ended.
    pub fn finish(mut self) -> io::Result<(Summary, MessageWriter<W>)> {
        self.tick(true)?;
        self.flush()?;
        let mut summary = Summary { records: Vec::new(), failures: Vec::new() };
        for s in &mut self.streams {
            summary.records.push((s.name.clone(), s.records_total));
            if let Some(Err(e)) = s.finished.take() {
                summary.failures.push((s.name.clone(), e));
            }
        }
        Ok((summary, self.writer))
    }
}

/// The output thread's result: the summary and the writer back.
pub type OutputThread<W> = std::thread::JoinHandle<io::Result<(Summary, MessageWriter<W>)>>;

/// Runs `emitter` on a dedicated thread until every sender is dropped.
pub fn spawn<W: Write + Send + 'static>(mut emitter: Emitter<W>, rx: Receiver<Event>) -> OutputThread<W> {
    std::thread::Builder::new()
        .name("airbyte-output".into())
        .spawn(move || {
            loop {
                match rx.recv_timeout(Duration::from_millis(250)) {
                    // On a write error (stdout closed) stop: dropping the receiver makes every
                    // sender fail, which stops the stream tasks.
                    Ok(event) => emitter.handle(event)?,
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                emitter.tick(false)?;
            }
            emitter.finish()
        })
        .expect("spawning the output thread")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;

    fn t(s: &str) -> Option<DateTime<Utc>> {
        parse_datetime(s)
    }

    fn records(stream: usize, n: u64) -> Event {
        let line = b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"s\",\"data\":{},\"emitted_at\":1}}\n";
        Event::Records { stream, count: n, bytes: Chunk::detached(line.repeat(n as usize)) }
    }

    fn messages(emitter: Emitter<Vec<u8>>) -> (Summary, Vec<Value>) {
        let (summary, writer) = emitter.finish().unwrap();
        let text = String::from_utf8(writer.into_inner()).unwrap();
        (summary, text.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
    }

    fn states(msgs: &[Value]) -> Vec<(String, f64)> {
        msgs.iter()
            .filter(|m| m["type"] == "STATE")
            .map(|m| {
                (
                    m["state"]["stream"]["stream_state"]["creationTime"].as_str().unwrap_or("{}").to_string(),
                    m["state"]["sourceStats"]["recordCount"].as_f64().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn checkpoints_only_cover_the_contiguous_prefix_and_count_records() {
        let mut e = Emitter::new(MessageWriter::new(Vec::new()), &[("messages", Some("creationTime"))]);
        e.handle(Event::Started { stream: 0 }).unwrap();
        // Windows 1 and 2 finish before window 0.
        e.handle(records(0, 2)).unwrap();
        e.handle(Event::WindowDone { stream: 0, seq: 1, checkpoint: t("2024-01-02T00:00:00Z") }).unwrap();
        e.handle(records(0, 3)).unwrap();
        e.handle(Event::WindowDone { stream: 0, seq: 2, checkpoint: t("2024-01-03T00:00:00Z") }).unwrap();
        e.handle(records(0, 1)).unwrap();
        e.handle(Event::WindowDone { stream: 0, seq: 0, checkpoint: t("2024-01-01T00:00:00Z") }).unwrap();
        e.handle(records(0, 4)).unwrap();
        e.handle(Event::WindowDone { stream: 0, seq: 3, checkpoint: t("2024-01-04T00:00:00Z") }).unwrap();
        e.handle(Event::Finished { stream: 0, result: Ok(json!({"creationTime": "2024-01-04T00:00:00.000Z"})) })
            .unwrap();
        let (summary, msgs) = messages(e);
        assert_eq!(
            states(&msgs),
            [("2024-01-03T00:00:00.000Z".to_string(), 6.0), ("2024-01-04T00:00:00.000Z".to_string(), 4.0)]
        );
        assert_eq!(summary.records, [("messages".to_string(), 10)]);
        let statuses: Vec<_> = msgs.iter().filter_map(|m| m["trace"]["stream_status"]["status"].as_str()).collect();
        assert_eq!(statuses, ["STARTED", "RUNNING", "COMPLETE"]);
    }

    #[test]
    fn windows_without_checkpoint_hold_the_state_back() {
        let mut e = Emitter::new(MessageWriter::new(Vec::new()), &[("sessions", Some("creationTime"))]);
        // The unsettled span is read first and carries no checkpoint.
        e.handle(records(0, 5)).unwrap();
        e.handle(Event::WindowDone { stream: 0, seq: 0, checkpoint: None }).unwrap();
        e.handle(records(0, 1)).unwrap();
        e.handle(Event::WindowDone { stream: 0, seq: 1, checkpoint: t("2024-01-01T00:00:00Z") }).unwrap();
        e.handle(Event::Finished { stream: 0, result: Ok(json!({"creationTime": "2024-01-01T00:00:00.000Z"})) })
            .unwrap();
        let (_, msgs) = messages(e);
        assert_eq!(states(&msgs), [("2024-01-01T00:00:00.000Z".to_string(), 6.0)]);
    }

    #[test]
    fn an_empty_stream_still_gets_a_state_and_failures_are_reported() {
        let mut e =
            Emitter::new(MessageWriter::new(Vec::new()), &[("contacts", None), ("calls", Some("creationDatetime"))]);
        e.handle(Event::Started { stream: 0 }).unwrap();
        e.handle(Event::Finished { stream: 0, result: Ok(json!({})) }).unwrap();
        e.handle(Event::Started { stream: 1 }).unwrap();
        e.handle(records(1, 2)).unwrap();
        e.handle(Event::Finished { stream: 1, result: Err(Error::transient("down")) }).unwrap();
        let (summary, msgs) = messages(e);
        let state = msgs.iter().find(|m| m["type"] == "STATE").unwrap();
        assert_eq!(state["state"]["stream"]["stream_state"], json!({}));
        assert_eq!(state["state"]["sourceStats"]["recordCount"], 0.0);
        assert_eq!(summary.failures.len(), 1);
        let error = msgs.iter().find(|m| m["trace"]["type"] == "ERROR").unwrap();
        assert_eq!(error["trace"]["error"]["stream_descriptor"]["name"], "calls");
        assert!(msgs.iter().any(|m| m["trace"]["stream_status"]["status"] == "INCOMPLETE"));
        assert_eq!(msgs.iter().filter(|m| m["type"] == "STATE").count(), 1, "no state for the failed stream");
    }
}
