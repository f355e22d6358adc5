//! A live progress display on stderr, one line per stream, when stderr is a terminal.
//!
//! stdout carries the protocol and is never touched; when stderr is a pipe or a file (the
//! Airbyte platform, CI) nothing is drawn at all.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::emitter::Event;
use crate::http::ClientStats;

const REDRAW_EVERY: Duration = Duration::from_millis(500);

struct Row {
    name: String,
    records: u64,
    windows_done: u64,
    windows_expected: u64,
    stats: Option<Arc<ClientStats>>,
    state: &'static str,
    started: Option<Instant>,
    ended: Option<Instant>,
}

/// Per-stream progress, drawn on stderr.
pub struct Progress {
    rows: Vec<Row>,
    last_draw: Option<Instant>,
    lines_drawn: usize,
    out: Box<dyn Write + Send>,
}

impl Progress {
    /// A display on stderr if stderr is a terminal, else `None`.
    pub fn for_stderr(streams: &[(String, Option<Arc<ClientStats>>)]) -> Option<Progress> {
        std::io::stderr().is_terminal().then(|| Progress::new(streams, Box::new(std::io::stderr())))
    }

    pub fn new(streams: &[(String, Option<Arc<ClientStats>>)], out: Box<dyn Write + Send>) -> Progress {
        let rows = streams
            .iter()
            .map(|(name, stats)| Row {
                name: name.clone(),
                records: 0,
                windows_done: 0,
                windows_expected: 0,
                stats: stats.clone(),
                state: "waiting",
                started: None,
                ended: None,
            })
            .collect();
        Progress { rows, last_draw: None, lines_drawn: 0, out }
    }

    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::Started { stream } => {
                self.rows[*stream].state = "reading";
                self.rows[*stream].started = Some(Instant::now());
            }
            Event::Records { stream, count, .. } => self.rows[*stream].records += count,
            Event::WindowDone { stream, .. } => self.rows[*stream].windows_done += 1,
            Event::Windows { stream, expected, .. } => self.rows[*stream].windows_expected = *expected,
            Event::Finished { stream, result } => {
                let row = &mut self.rows[*stream];
                row.state = if result.is_ok() { "done" } else { "FAILED" };
                row.ended = Some(Instant::now());
                row.windows_expected = row.windows_expected.max(row.windows_done);
            }
            Event::Log { .. } | Event::Estimate { .. } => {}
        }
    }

    /// Redraws if due (or always with `force`).
    pub fn draw(&mut self, force: bool) {
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
    let (requests, retries) = row
        .stats
        .as_ref()
        .map(|s| (s.requests.load(Ordering::Relaxed), s.retries.load(Ordering::Relaxed)))
        .unwrap_or((0, 0));
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
    use std::sync::Mutex;

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
        let stats = Arc::new(ClientStats::default());
        stats.requests.fetch_add(7, Ordering::Relaxed);
        let mut p =
            Progress::new(&[("messages".into(), Some(stats)), ("channels".into(), None)], Box::new(out.clone()));
        p.observe(&Event::Started { stream: 0 });
        p.observe(&Event::Records { stream: 0, count: 1500, bytes: crate::buffers::Chunk::detached(Vec::new()) });
        p.observe(&Event::Windows { stream: 0, expected: 4 });
        p.observe(&Event::WindowDone { stream: 0, seq: 0, checkpoint: None });
        p.draw(true);
        p.draw(true);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("messages  reading        1500 records  windows    1/4"), "{text}");
        assert!(text.contains("7 requests"), "{text}");
        assert!(text.contains("channels  waiting"), "{text}");
        assert!(text.contains("\x1b[2A"), "the second drawing moves up over the first");
    }
}
