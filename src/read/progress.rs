//! A live progress display on stderr, one line per stream, when stderr is a terminal.
//!
//! stdout carries the protocol and is never touched; when stderr is a pipe or a file (the
//! Airbyte platform, CI) nothing is drawn at all.

use std::io::Write;
use std::time::{Duration, Instant};

use super::events::Event;
use crate::http::Signal;

const REDRAW_EVERY: Duration = Duration::from_millis(500);

struct Row {
    name: String,
    records: u64,
    windows_done: u64,
    windows_expected: u64,
    requests: u64,
    retries: u64,
    state: &'static str,
    started: Option<Instant>,
    ended: Option<Instant>,
}

/// Per-stream progress, drawn on stderr.
pub(crate) struct Progress {
    rows: Vec<Row>,
    last_draw: Option<Instant>,
    lines_drawn: usize,
    out: Box<dyn Write + Send>,
}

impl Progress {
    /// A display on stderr (which the caller found to be a terminal).
    pub(crate) fn for_stderr(streams: &[String]) -> Progress {
        Progress::new(streams, Box::new(std::io::stderr()))
    }

    fn new(streams: &[String], out: Box<dyn Write + Send>) -> Progress {
        let rows = streams
            .iter()
            .map(|name| Row {
                // Names come from the catalog: never draw control characters on a terminal.
                name: crate::escape::printable(name).into_owned(),
                records: 0,
                windows_done: 0,
                windows_expected: 0,
                requests: 0,
                retries: 0,
                state: "waiting",
                started: None,
                ended: None,
            })
            .collect();
        Progress { rows, last_draw: None, lines_drawn: 0, out }
    }

    pub(crate) fn observe(&mut self, event: &Event) {
        match event {
            Event::Started { stream } => {
                self.rows[*stream].state = "reading";
                self.rows[*stream].started = Some(Instant::now());
            }
            Event::Page { stream, records, .. } => self.rows[*stream].records += records,
            Event::Done { stream, .. } => self.rows[*stream].windows_done += 1,
            Event::Planned { stream, partitions } => self.rows[*stream].windows_expected = *partitions,
            Event::Http { stream, signal: Signal::Request { .. } } => self.rows[*stream].requests += 1,
            Event::Http { stream, signal: Signal::Retry { .. } } => self.rows[*stream].retries += 1,
            Event::Http { stream, signal: Signal::RateLimited { .. } } => self.rows[*stream].state = "waiting",
            Event::Http { stream, signal: Signal::Resumed } => self.rows[*stream].state = "reading",
            Event::Finished { stream, result } => {
                let row = &mut self.rows[*stream];
                row.state = if result.is_ok() { "done" } else { "FAILED" };
                row.ended = Some(Instant::now());
                row.windows_expected = row.windows_expected.max(row.windows_done);
            }
            Event::Log { .. } | Event::Estimate { .. } | Event::Progress { .. } => {}
        }
    }

    /// Redraws if due (or always with `force`).
    pub(crate) fn draw(&mut self, force: bool) {
        if !force && self.last_draw.is_some_and(|t| t.elapsed() < REDRAW_EVERY) {
            return;
        }
        self.last_draw = Some(Instant::now());
        let mut text = String::new();
        if self.lines_drawn > 0 {
            // Back to the first line of the previous drawing.
            text.push_str(&format!("\x1b[{}A", self.lines_drawn));
        }
        for row in &self.rows {
            text.push_str("\x1b[2K");
            text.push_str(&render(row));
            text.push('\n');
        }
        self.lines_drawn = self.rows.len();
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}

fn render(row: &Row) -> String {
    let (requests, retries) = (row.requests, row.retries);
    let elapsed = match (row.started, row.ended) {
        (Some(s), Some(e)) => e - s,
        (Some(s), None) => s.elapsed(),
        _ => Duration::ZERO,
    };
    let windows = if row.windows_expected > 0 {
        format!("windows {:>4}/{:<4}", row.windows_done, row.windows_expected)
    } else {
        " ".repeat(17)
    };
    format!(
        "{:<9} {:<7} {:>11} records  {windows}  {:>6} requests  {:>4} retries  {:>4}:{:02}",
        row.name,
        row.state,
        row.records,
        requests,
        retries,
        elapsed.as_secs() / 60,
        elapsed.as_secs() % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn draws_one_line_per_stream_and_redraws_in_place() {
        let out = Shared::default();
        let mut p = Progress::new(&["messages".into(), "chan\x1b[2Jnels".into()], Box::new(out.clone()));
        p.observe(&Event::Started { stream: 0 });
        p.observe(&Event::Page { stream: 0, records: 1500, lines: Default::default(), permit: None });
        p.observe(&Event::Planned { stream: 0, partitions: 4 });
        p.observe(&Event::Done { stream: 0, seq: 0, deltas: Vec::new() });
        for _ in 0..7 {
            p.observe(&Event::Http { stream: 0, signal: Signal::Request { long_term_search: false } });
        }
        p.draw(true);
        p.draw(true);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("messages  reading        1500 records  windows    1/4"), "{text}");
        assert!(text.contains("7 requests"), "{text}");
        assert!(text.contains("chan\\u{1b}[2Jnels waiting"), "control characters are shown escaped: {text}");
        assert!(text.contains("\x1b[2A"), "the second drawing moves up over the first");
    }
}
