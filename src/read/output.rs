//! The output side of `read`: one thread owns stdout and turns events from the stream tasks
//! into Airbyte messages, in order.
//!
//! Stream tasks decode and encode their pages themselves (in parallel) and send each page's
//! bytes here with its [`PagePermit`], which is released once the page is written: pages in
//! memory are bounded by the permits, whatever the volume. Partitions of a stream (windows,
//! list pages) report their progress as numbered [`Delta`]s; this thread applies them in
//! number order and writes a STATE only for the contiguous prefix of partitions whose records
//! are all out, so a STATE never covers a record that is not yet written. Partitions that
//! bring no records fold into the next STATE, unless a minute has passed since the last one.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;

use super::events::Event;
use super::progress::Progress;
use super::state::{Delta, StreamState};
use crate::error::Error;
use crate::http::Signal;
use crate::protocol::{LogLevel, MessageWriter, StreamStatus};

/// A STATE follows at least this often while partitions complete, even without records.
const MAX_STATE_INTERVAL: Duration = Duration::from_secs(60);
/// Records never wait in the stdout buffer longer than this.
const MAX_FLUSH_DELAY: Duration = Duration::from_secs(1);

/// Per-stream output bookkeeping.
struct StreamOut {
    name: String,
    state: StreamState,
    /// The last STATE written, to never write the same one twice in a row.
    last_state: Option<Value>,
    last_state_at: Instant,
    records_total: u64,
    since_state: u64,
    running: bool,
    /// Waits on the rate limit in progress.
    rate_limited: u32,
    next_seq: u64,
    done: BTreeMap<u64, Vec<Delta>>,
    /// The latest progress of partitions still being read.
    progress: BTreeMap<u64, Delta>,
    requests: u64,
    long_term_searches: u64,
    retries: u64,
    finished: Option<Result<(), Error>>,
}

/// How the streams ended.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) failures: Vec<(String, Error)>,
    pub(crate) requests: u64,
    pub(crate) long_term_searches: u64,
    pub(crate) retries: u64,
}

/// Turns events into messages. Pure apart from the writer, so it is tested directly.
pub(crate) struct Emitter<'w, W: Write> {
    writer: &'w mut MessageWriter<W>,
    streams: Vec<StreamOut>,
    progress: Option<Progress>,
    last_flush: Instant,
}

impl<'w, W: Write> Emitter<'w, W> {
    /// `streams` are (name, initial state) in the index order events use.
    pub(crate) fn new(writer: &'w mut MessageWriter<W>, streams: Vec<(String, StreamState)>) -> Self {
        let streams = streams
            .into_iter()
            .map(|(name, state)| StreamOut {
                // Names come from the catalog: never written with control characters in them.
                name: crate::escape::printable(&name).into_owned(),
                state,
                last_state: None,
                last_state_at: Instant::now(),
                records_total: 0,
                since_state: 0,
                running: false,
                rate_limited: 0,
                next_seq: 0,
                done: BTreeMap::new(),
                progress: BTreeMap::new(),
                requests: 0,
                long_term_searches: 0,
                retries: 0,
                finished: None,
            })
            .collect();
        Emitter { writer, streams, progress: None, last_flush: Instant::now() }
    }

    pub(crate) fn with_progress(mut self, progress: Option<Progress>) -> Self {
        self.progress = progress;
        self
    }

    pub(crate) fn handle(&mut self, event: Event) -> io::Result<()> {
        if let Some(p) = &mut self.progress {
            p.observe(&event);
        }
        // Records wait in the buffer for the next STATE (or `tick`); everything else is rare
        // and worth seeing at once.
        let urgent = !matches!(
            event,
            Event::Page { .. }
                | Event::Done { .. }
                | Event::Progress { .. }
                | Event::Planned { .. }
                | Event::Http { .. }
        );
        // A window task cancelled as its stream failed may still hand over a page or progress
        // while it stops: after the stream's final status nothing more of it goes out (its
        // state stays where it was, so the next sync reads that part again).
        if let Event::Page { stream, .. } | Event::Done { stream, .. } | Event::Progress { stream, .. } = &event {
            if self.streams[*stream].finished.is_some() {
                return Ok(());
            }
        }
        match event {
            Event::Started { stream } => {
                self.writer.stream_status(&self.streams[stream].name, StreamStatus::Started, None)?;
            }
            Event::Page { stream, records, lines, permit } => {
                let s = &mut self.streams[stream];
                if records > 0 && !s.running {
                    s.running = true;
                    self.writer.stream_status(&s.name, StreamStatus::Running, None)?;
                }
                self.writer.raw(&lines)?;
                drop(permit);
                s.records_total += records;
                s.since_state += records;
            }
            Event::Done { stream, seq, deltas } => self.partition_done(stream, seq, deltas)?,
            Event::Progress { stream, seq, delta } => self.partition_progress(stream, seq, delta)?,
            Event::Finished { stream, result } => self.finished(stream, result)?,
            Event::Log { level, message } => self.writer.log(level, &message)?,
            Event::Estimate { stream, rows } => self.writer.estimate(&self.streams[stream].name, rows)?,
            Event::Http { stream, signal } => self.http(stream, signal)?,
            Event::Planned { .. } => {}
        }
        if urgent {
            self.flush()?;
        }
        Ok(())
    }

    fn partition_done(&mut self, stream: usize, seq: u64, deltas: Vec<Delta>) -> io::Result<()> {
        let s = &mut self.streams[stream];
        s.progress.remove(&seq);
        s.done.insert(seq, deltas);
        let mut moved = false;
        while let Some(deltas) = s.done.remove(&s.next_seq) {
            s.next_seq += 1;
            for delta in &deltas {
                s.state.apply(delta);
                moved = true;
            }
        }
        // The partition now first in line may have got part of the way already.
        if let Some(delta) = s.progress.remove(&s.next_seq) {
            s.state.apply(&delta);
            moved = true;
        }
        self.state_if_due(stream, moved)
    }

    fn partition_progress(&mut self, stream: usize, seq: u64, delta: Delta) -> io::Result<()> {
        let s = &mut self.streams[stream];
        if seq != s.next_seq {
            // Kept until every partition before it is done (only the latest counts).
            s.progress.insert(seq, delta);
            return Ok(());
        }
        s.state.apply(&delta);
        self.state_if_due(stream, true)
    }

    /// Writes a STATE for a moved state when records went out since the last one, or a minute
    /// has passed.
    fn state_if_due(&mut self, stream: usize, moved: bool) -> io::Result<()> {
        let s = &self.streams[stream];
        if moved && (s.since_state > 0 || s.last_state_at.elapsed() >= MAX_STATE_INTERVAL) {
            self.write_state(stream)?;
        }
        Ok(())
    }

    fn finished(&mut self, stream: usize, result: Result<(), Error>) -> io::Result<()> {
        match result {
            Ok(()) => {
                self.write_state(stream)?;
                let s = &mut self.streams[stream];
                if !s.state.gaps().is_empty() {
                    let gaps: Vec<String> = s.state.gaps().iter().map(|g| g.describe()).collect();
                    let message = format!(
                        "{}: these ranges have not been read yet: {}. Botmaker serves them only to long-term searches: enable long_term_search and the next sync reads them (and nothing it already read).",
                        s.name,
                        gaps.join(", ")
                    );
                    self.writer.log(LogLevel::Warn, &message)?;
                }
                let s = &mut self.streams[stream];
                s.finished = Some(Ok(()));
                self.writer.stream_status(&s.name, StreamStatus::Complete, None)?;
            }
            Err(error) => {
                let s = &mut self.streams[stream];
                self.writer.error(&error, Some(&s.name))?;
                self.writer.stream_status(&s.name, StreamStatus::Incomplete, None)?;
                s.finished = Some(Err(error));
            }
        }
        Ok(())
    }

    fn http(&mut self, stream: usize, signal: Signal) -> io::Result<()> {
        let s = &mut self.streams[stream];
        // As for pages: the stream's status is final by then.
        let ended = s.finished.is_some();
        match signal {
            Signal::Request { long_term_search } => {
                s.requests += 1;
                s.long_term_searches += u64::from(long_term_search);
            }
            Signal::Retry { what, reason, delay, attempt } => {
                s.retries += 1;
                let message = format!(
                    "{what} ({}): {reason}; retrying in {:.1} s (attempt {attempt})",
                    s.name,
                    delay.as_secs_f64()
                );
                self.writer.log(LogLevel::Warn, &message)?;
            }
            Signal::RateLimited { until } => {
                s.rate_limited += 1;
                if s.rate_limited == 1 && !ended {
                    let reset = until.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
                    self.writer.stream_status(&s.name, StreamStatus::Running, Some(reset))?;
                    s.running = true;
                    self.flush()?;
                }
            }
            Signal::Resumed => {
                s.rate_limited = s.rate_limited.saturating_sub(1);
                if s.rate_limited == 0 && !ended {
                    self.writer.stream_status(&s.name, StreamStatus::Running, None)?;
                    self.flush()?;
                }
            }
        }
        Ok(())
    }

    fn write_state(&mut self, stream: usize) -> io::Result<()> {
        let s = &mut self.streams[stream];
        let state = s.state.to_json();
        // Never the same state twice in a row, even with records in between (they then count
        // towards the next STATE that moves): the platform fails such a sync.
        if s.last_state.as_ref() == Some(&state) {
            return Ok(());
        }
        self.writer.state(&s.name, &state, s.since_state)?;
        s.since_state = 0;
        s.last_state = Some(state);
        s.last_state_at = Instant::now();
        self.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.last_flush = Instant::now();
        self.writer.flush()
    }

    /// Redraws the progress display if it is due, and flushes records that have waited a
    /// while, so a slow stream's output still trickles out between STATEs.
    fn tick(&mut self, force: bool) -> io::Result<()> {
        if let Some(p) = &mut self.progress {
            p.draw(force);
        }
        if self.last_flush.elapsed() >= MAX_FLUSH_DELAY {
            self.flush()?;
        }
        Ok(())
    }

    /// Flushes and reports how each stream ended.
    pub(crate) fn finish(mut self) -> io::Result<Summary> {
        self.tick(true)?;
        self.flush()?;
        let mut summary = Summary::default();
        for s in &mut self.streams {
            summary.requests += s.requests;
            summary.long_term_searches += s.long_term_searches;
            summary.retries += s.retries;
            if let Some(Err(e)) = s.finished.take() {
                summary.failures.push((s.name.clone(), e));
            }
        }
        Ok(summary)
    }

    /// Handles events until every sender is gone. On a write error (stdout closed) it stops:
    /// dropping the receiver makes every sender fail, which stops the stream tasks.
    pub(crate) fn run(mut self, events: Receiver<Event>) -> io::Result<Summary> {
        loop {
            match events.recv_timeout(Duration::from_millis(250)) {
                Ok(event) => self.handle(event)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.tick(false)?;
        }
        self.finish()
    }
}

/// Milliseconds since the epoch of `t`, for messages.
#[cfg(test)]
fn millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::state::Coverage;
    use crate::time::{parse_datetime, Span};
    use serde_json::json;

    fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
        parse_datetime(s).unwrap()
    }

    fn covered(a: &str, b: &str) -> Vec<Delta> {
        vec![Delta::Covered(Span::new(t(a), t(b)))]
    }

    fn page(stream: usize, n: u64) -> Event {
        let line = b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"s\",\"data\":{},\"emitted_at\":1}}\n";
        Event::Page { stream, records: n, lines: line.repeat(n as usize).into(), permit: None }
    }

    fn coverage() -> StreamState {
        StreamState::Coverage(Coverage::fresh("creationTime", t("2024-01-01T00:00:00Z")))
    }

    fn messages(writer: MessageWriter<Vec<u8>>) -> Vec<Value> {
        let text = String::from_utf8(writer.into_inner()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
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
    fn states_cover_only_the_contiguous_prefix_and_count_records() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("messages".into(), coverage())]);
        e.handle(Event::Started { stream: 0 }).unwrap();
        // Windows 1 and 2 finish before window 0.
        e.handle(page(0, 2)).unwrap();
        e.handle(Event::Done { stream: 0, seq: 1, deltas: covered("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z") })
            .unwrap();
        e.handle(page(0, 3)).unwrap();
        e.handle(Event::Done { stream: 0, seq: 2, deltas: covered("2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z") })
            .unwrap();
        e.handle(page(0, 1)).unwrap();
        e.handle(Event::Done { stream: 0, seq: 0, deltas: covered("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z") })
            .unwrap();
        e.handle(page(0, 4)).unwrap();
        e.handle(Event::Done { stream: 0, seq: 3, deltas: covered("2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z") })
            .unwrap();
        e.handle(Event::Finished { stream: 0, result: Ok(()) }).unwrap();
        let summary = e.finish().unwrap();
        let msgs = messages(w);
        assert_eq!(
            states(&msgs),
            [("2024-01-04T00:00:00.000Z".to_string(), 6.0), ("2024-01-05T00:00:00.000Z".to_string(), 4.0)]
        );
        assert!(summary.failures.is_empty());
        let statuses: Vec<_> = msgs.iter().filter_map(|m| m["trace"]["stream_status"]["status"].as_str()).collect();
        assert_eq!(statuses, ["STARTED", "RUNNING", "COMPLETE"]);
    }

    #[test]
    fn progress_inside_a_partition_checkpoints_once_the_partitions_before_it_are_done() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("messages".into(), coverage())]);
        let progress = |seq, end: &str| Event::Progress {
            stream: 0,
            seq,
            delta: Delta::Covered(Span::new(t("2024-01-02T00:00:00Z"), t(end))),
        };
        // Window 1 gets part of the way while window 0 is still being read: nothing yet.
        e.handle(page(0, 3)).unwrap();
        e.handle(progress(1, "2024-01-02T06:00:00Z")).unwrap();
        e.handle(progress(1, "2024-01-02T12:00:00Z")).unwrap();
        // Window 0 ends: its state, and window 1's latest progress with it.
        e.handle(Event::Done { stream: 0, seq: 0, deltas: covered("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z") })
            .unwrap();
        // Window 1 goes on, first in line now: each progress with records is a STATE.
        e.handle(page(0, 2)).unwrap();
        e.handle(progress(1, "2024-01-02T18:00:00Z")).unwrap();
        e.handle(page(0, 1)).unwrap();
        e.handle(Event::Done { stream: 0, seq: 1, deltas: covered("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z") })
            .unwrap();
        e.handle(Event::Finished { stream: 0, result: Ok(()) }).unwrap();
        e.finish().unwrap();
        assert_eq!(
            states(&messages(w)),
            [
                ("2024-01-02T12:00:00.000Z".to_string(), 3.0),
                ("2024-01-02T18:00:00.000Z".to_string(), 2.0),
                ("2024-01-03T00:00:00.000Z".to_string(), 1.0),
            ]
        );
    }

    #[test]
    fn progress_that_does_not_move_the_state_writes_no_state() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("sessions".into(), coverage())]);
        let progress = || Event::Progress {
            stream: 0,
            seq: 0,
            delta: Delta::Covered(Span::new(t("2024-01-01T00:00:00Z"), t("2024-01-01T06:00:00Z"))),
        };
        e.handle(page(0, 2)).unwrap();
        e.handle(progress()).unwrap();
        // An empty page, or records all at the same time: the same progress again.
        e.handle(page(0, 1)).unwrap();
        e.handle(progress()).unwrap();
        e.handle(page(0, 4)).unwrap();
        e.handle(Event::Done { stream: 0, seq: 0, deltas: covered("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z") })
            .unwrap();
        e.handle(Event::Finished { stream: 0, result: Ok(()) }).unwrap();
        e.finish().unwrap();
        assert_eq!(
            states(&messages(w)),
            [("2024-01-01T06:00:00.000Z".to_string(), 2.0), ("2024-01-02T00:00:00.000Z".to_string(), 5.0)]
        );
    }

    #[test]
    fn empty_partitions_fold_into_the_next_state() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("messages".into(), coverage())]);
        for day in 1..=9 {
            let (a, b) = (format!("2024-01-0{day}T00:00:00Z"), format!("2024-01-{:02}T00:00:00Z", day + 1));
            if day == 5 {
                e.handle(page(0, 7)).unwrap();
            }
            e.handle(Event::Done { stream: 0, seq: day - 1, deltas: covered(&a, &b) }).unwrap();
        }
        e.handle(Event::Finished { stream: 0, result: Ok(()) }).unwrap();
        e.finish().unwrap();
        assert_eq!(
            states(&messages(w)),
            [("2024-01-06T00:00:00.000Z".to_string(), 7.0), ("2024-01-10T00:00:00.000Z".to_string(), 0.0)],
            "one STATE for the window with records, one at the end"
        );
    }

    #[test]
    fn no_status_follows_a_streams_last_one() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("calls".into(), coverage())]);
        let until = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
        e.handle(Event::Started { stream: 0 }).unwrap();
        e.handle(Event::Http { stream: 0, signal: Signal::RateLimited { until } }).unwrap();
        e.handle(Event::Finished { stream: 0, result: Err(Error::transient("down")) }).unwrap();
        // A cancelled window still waking from its wait, or hitting a 429 as it stops.
        e.handle(Event::Http { stream: 0, signal: Signal::Resumed }).unwrap();
        e.handle(Event::Http { stream: 0, signal: Signal::RateLimited { until } }).unwrap();
        e.finish().unwrap();
        let statuses: Vec<String> = messages(w)
            .iter()
            .filter_map(|m| m["trace"]["stream_status"]["status"].as_str().map(str::to_string))
            .collect();
        assert_eq!(statuses, ["STARTED", "RUNNING", "INCOMPLETE"]);
    }

    #[test]
    fn a_minute_without_a_state_brings_one_even_without_records() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("messages".into(), coverage())]);
        e.streams[0].last_state_at = Instant::now().checked_sub(MAX_STATE_INTERVAL).unwrap();
        e.handle(Event::Done { stream: 0, seq: 0, deltas: covered("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z") })
            .unwrap();
        // The minute starts again: the next empty window folds.
        e.handle(Event::Done { stream: 0, seq: 1, deltas: covered("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z") })
            .unwrap();
        e.finish().unwrap();
        assert_eq!(states(&messages(w)), [("2024-01-02T00:00:00.000Z".to_string(), 0.0)]);
    }

    #[test]
    fn windows_without_deltas_hold_the_state_back() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("sessions".into(), coverage())]);
        // The unsettled span is read first and moves nothing.
        e.handle(page(0, 5)).unwrap();
        e.handle(Event::Done { stream: 0, seq: 0, deltas: Vec::new() }).unwrap();
        e.handle(page(0, 1)).unwrap();
        e.handle(Event::Done { stream: 0, seq: 1, deltas: covered("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z") })
            .unwrap();
        e.handle(Event::Finished { stream: 0, result: Ok(()) }).unwrap();
        e.finish().unwrap();
        assert_eq!(states(&messages(w)), [("2024-01-02T00:00:00.000Z".to_string(), 6.0)]);
    }

    #[test]
    fn an_empty_stream_still_gets_a_state_and_failures_are_reported() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(
            &mut w,
            vec![("contacts".into(), StreamState::List { next_page: None }), ("calls".into(), coverage())],
        );
        e.handle(Event::Started { stream: 0 }).unwrap();
        e.handle(Event::Finished { stream: 0, result: Ok(()) }).unwrap();
        e.handle(Event::Started { stream: 1 }).unwrap();
        e.handle(page(1, 2)).unwrap();
        e.handle(Event::Finished { stream: 1, result: Err(Error::transient("down")) }).unwrap();
        let summary = e.finish().unwrap();
        let msgs = messages(w);
        let state = msgs.iter().find(|m| m["type"] == "STATE").unwrap();
        assert_eq!(state["state"]["stream"]["stream_state"], json!({}));
        assert_eq!(state["state"]["sourceStats"]["recordCount"], 0.0);
        assert_eq!(summary.failures.len(), 1);
        let error = msgs.iter().find(|m| m["trace"]["type"] == "ERROR").unwrap();
        assert_eq!(error["trace"]["error"]["stream_descriptor"]["name"], "calls");
        assert!(msgs.iter().any(|m| m["trace"]["stream_status"]["status"] == "INCOMPLETE"));
        assert_eq!(msgs.iter().filter(|m| m["type"] == "STATE").count(), 1, "no state for the failed stream");
    }

    #[test]
    fn nothing_of_a_stream_goes_out_after_its_final_status() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("calls".into(), coverage())]);
        e.handle(Event::Started { stream: 0 }).unwrap();
        e.handle(page(0, 2)).unwrap();
        e.handle(Event::Finished { stream: 0, result: Err(Error::transient("down")) }).unwrap();
        // A window task that was cancelled with its stream, still finishing its page.
        e.handle(page(0, 3)).unwrap();
        e.handle(Event::Progress {
            stream: 0,
            seq: 0,
            delta: Delta::Covered(Span::new(t("2024-01-01T00:00:00Z"), t("2024-01-01T06:00:00Z"))),
        })
        .unwrap();
        e.handle(Event::Done { stream: 0, seq: 0, deltas: covered("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z") })
            .unwrap();
        e.finish().unwrap();
        let msgs = messages(w);
        let last_status = msgs.iter().rposition(|m| m["trace"]["stream_status"]["status"] == "INCOMPLETE").unwrap();
        assert_eq!(last_status, msgs.len() - 1, "{msgs:?}");
        assert_eq!(msgs.iter().filter(|m| m["type"] == "RECORD").count(), 2);
        assert!(msgs.iter().all(|m| m["type"] != "STATE"), "{msgs:?}");
    }

    #[test]
    fn rate_limit_waits_are_reported_once_per_wait() {
        let mut w = MessageWriter::new(Vec::new());
        let mut e = Emitter::new(&mut w, vec![("tickets".into(), coverage())]);
        let until = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
        e.handle(Event::Http { stream: 0, signal: Signal::RateLimited { until } }).unwrap();
        e.handle(Event::Http { stream: 0, signal: Signal::RateLimited { until } }).unwrap();
        e.handle(Event::Http { stream: 0, signal: Signal::Resumed }).unwrap();
        e.handle(Event::Http { stream: 0, signal: Signal::Resumed }).unwrap();
        // Running already: the first records bring no second RUNNING.
        e.handle(page(0, 2)).unwrap();
        e.finish().unwrap();
        let statuses: Vec<Value> = messages(w)
            .into_iter()
            .filter(|m| m["type"] == "TRACE")
            .map(|m| m["trace"]["stream_status"].clone())
            .collect();
        assert_eq!(statuses.len(), 2);
        assert_eq!(
            statuses[0]["reasons"],
            json!([{"type": "RATE_LIMITED", "rate_limited": {"quota_reset": millis(until)}}])
        );
        assert_eq!(statuses[1]["status"], "RUNNING");
        assert!(statuses[1].get("reasons").is_none());
    }
}
