//! Which spans of time a windowed stream reads, in which order, and where it may checkpoint.
//!
//! The API's rules decide most of this (see the README's streams table):
//! - without long-term search only the recent window exists (7 days; 3 for messages), so older
//!   history is skipped, and the skip is logged;
//! - with long-term search, only spans older than the recent window need it; recent spans are
//!   read with plain (unbilled) requests;
//! - the upper bound stays a little behind now, so records still being written are not missed;
//! - sessions are listed only once finished, so their checkpoint stays `settle` behind now and
//!   the unsettled span is read first: every later window then checkpoints in order, and the
//!   stream never ends with records after its last STATE.

use chrono::{DateTime, TimeDelta, Utc};

use super::sink::Span;
use crate::streams::MAX_WINDOW;
use crate::time::ceil_hour;

/// How far behind "now" a sync reads, so records written while it runs are left for the next.
pub const INGESTION_LAG: TimeDelta = TimeDelta::minutes(2);

/// Spans are read with plain requests only if they start at least this far inside the recent
/// window, so a window requested a little later has not aged out of it.
pub const RECENT_MARGIN: TimeDelta = TimeDelta::hours(1);

/// A contiguous span read under the same rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub span: Span,
    /// Older than the recent window: needs `long-term-search=true`.
    pub long_term: bool,
    /// Whether windows in this segment move the cursor.
    pub checkpoints: bool,
}

/// The plan for one windowed stream in one sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// In reading (and checkpoint) order.
    pub segments: Vec<Segment>,
    /// History that exists but is out of reach without long-term search.
    pub skipped: Option<Span>,
    /// The cursor once everything is read.
    pub final_cursor: DateTime<Utc>,
}

/// What a plan is made from.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput {
    /// The sync's start.
    pub now: DateTime<Utc>,
    /// `start_date`, for a first sync or a full refresh.
    pub start_date: DateTime<Utc>,
    /// The saved cursor (incremental syncs with state).
    pub cursor: Option<DateTime<Utc>>,
    /// Read this far behind the cursor again (calls, tickets).
    pub lookback: TimeDelta,
    pub recent_days: i64,
    pub long_term_search: bool,
    /// Sessions: the cursor stays this far behind now.
    pub settle: Option<TimeDelta>,
}

pub fn plan(input: PlanInput) -> Plan {
    let upper = input.now - INGESTION_LAG;
    let mut lower = lower_bound(input.cursor, input.lookback, input.start_date);
    let keep = input.cursor.unwrap_or(input.start_date);
    let recent_start = input.now - TimeDelta::days(input.recent_days) + RECENT_MARGIN;
    let mut skipped = None;
    if !input.long_term_search && lower < recent_start && upper > lower {
        skipped = Some(Span { start: lower, end: recent_start.min(upper) });
        lower = recent_start;
    }
    let cap = input.settle.map_or(upper, |s| (input.now - s).min(upper));
    let final_cursor = keep.max(cap.min(upper)).max(input.cursor.unwrap_or(keep));
    if lower >= upper {
        return Plan { segments: Vec::new(), skipped, final_cursor };
    }
    // Cut [lower, upper) at the recent-window boundary and at the settle cap.
    let mut cuts = vec![lower];
    for cut in [recent_start, cap] {
        if cut > lower && cut < upper {
            cuts.push(cut);
        }
    }
    cuts.push(upper);
    cuts.sort();
    cuts.dedup();
    let mut settled = Vec::new();
    let mut unsettled = Vec::new();
    for pair in cuts.windows(2) {
        let span = Span { start: pair[0], end: pair[1] };
        let segment = Segment { span, long_term: span.start < recent_start, checkpoints: span.end <= cap };
        if segment.checkpoints {
            settled.push(segment);
        } else {
            unsettled.push(segment);
        }
    }
    // Unsettled spans first: their records then precede every checkpoint (see module docs).
    unsettled.extend(settled);
    Plan { segments: unsettled, skipped, final_cursor }
}

/// Where reading starts: the cursor minus the lookback, never before `start_date` (a cursor
/// older than `start_date`, say after the user moved it forward, does not reopen excluded
/// history).
pub fn lower_bound(cursor: Option<DateTime<Utc>>, lookback: TimeDelta, start_date: DateTime<Utc>) -> DateTime<Utc> {
    cursor.map_or(start_date, |c| (c - lookback).max(start_date))
}

/// Picks window lengths so a window holds about `target` records: fewer requests for quiet
/// accounts (long windows), frequent checkpoints and parallelism for busy ones (short windows).
#[derive(Debug, Clone)]
pub struct WindowSizer {
    len: TimeDelta,
    target: u64,
}

impl WindowSizer {
    pub const MIN: TimeDelta = TimeDelta::hours(1);
    const INITIAL: TimeDelta = TimeDelta::days(1);

    /// `page_size`: records per full page of the endpoint.
    pub fn new(page_size: u32) -> Self {
        WindowSizer { len: Self::INITIAL, target: u64::from(page_size) * 10 }
    }

    /// The current window length.
    pub fn len(&self) -> TimeDelta {
        self.len
    }

    /// The next window starting at `start`, ending on the hour grid, within `limit`.
    pub fn next(&self, start: DateTime<Utc>, limit: DateTime<Utc>) -> Span {
        let end = ceil_hour(start + self.len).min(limit);
        Span { start, end }
    }

    /// Learns from a finished window that returned `items` records.
    pub fn observe(&mut self, span: Span, items: u64) {
        let len = span.end - span.start;
        if len <= TimeDelta::zero() {
            return;
        }
        let next = if items == 0 {
            self.len.max(len) * 4
        } else {
            let ms = len.num_milliseconds() as f64 * self.target as f64 / items as f64;
            TimeDelta::milliseconds(ms.min(MAX_WINDOW.num_milliseconds() as f64) as i64)
        };
        self.len = next.clamp(Self::MIN, MAX_WINDOW);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;

    fn t(s: &str) -> DateTime<Utc> {
        parse_datetime(s).unwrap()
    }

    fn input() -> PlanInput {
        PlanInput {
            now: t("2024-06-30T12:00:00Z"),
            start_date: t("2024-06-01T00:00:00Z"),
            cursor: None,
            lookback: TimeDelta::zero(),
            recent_days: 7,
            long_term_search: true,
            settle: None,
        }
    }

    #[test]
    fn long_term_search_only_for_old_spans() {
        let p = plan(input());
        assert_eq!(p.skipped, None);
        assert_eq!(p.segments.len(), 2);
        assert!(p.segments[0].long_term && !p.segments[1].long_term);
        assert_eq!(p.segments[0].span.end, t("2024-06-23T13:00:00Z"));
        assert_eq!(p.segments[1].span.end, t("2024-06-30T11:58:00Z"));
        assert_eq!(p.final_cursor, t("2024-06-30T11:58:00Z"));
    }

    #[test]
    fn without_long_term_search_old_history_is_skipped() {
        let p = plan(PlanInput { long_term_search: false, recent_days: 3, ..input() });
        assert_eq!(p.skipped, Some(Span { start: t("2024-06-01T00:00:00Z"), end: t("2024-06-27T13:00:00Z") }));
        assert_eq!(
            p.segments,
            [Segment {
                span: Span { start: t("2024-06-27T13:00:00Z"), end: t("2024-06-30T11:58:00Z") },
                long_term: false,
                checkpoints: true
            }]
        );
    }

    #[test]
    fn sessions_read_the_unsettled_span_first() {
        let p =
            plan(PlanInput { settle: Some(TimeDelta::days(2)), cursor: Some(t("2024-06-27T00:00:00Z")), ..input() });
        let spans: Vec<_> = p.segments.iter().map(|s| (s.span.start, s.span.end, s.checkpoints)).collect();
        assert_eq!(
            spans,
            [
                (t("2024-06-28T12:00:00Z"), t("2024-06-30T11:58:00Z"), false),
                (t("2024-06-27T00:00:00Z"), t("2024-06-28T12:00:00Z"), true),
            ]
        );
        assert_eq!(p.final_cursor, t("2024-06-28T12:00:00Z"));
    }

    #[test]
    fn a_future_cursor_reads_nothing_and_keeps_the_cursor() {
        let future = t("2030-01-01T00:00:00Z");
        let p = plan(PlanInput { cursor: Some(future), ..input() });
        assert!(p.segments.is_empty());
        assert_eq!(p.final_cursor, future);
        let p = plan(PlanInput { cursor: Some(future), settle: Some(TimeDelta::days(2)), ..input() });
        assert_eq!(p.final_cursor, future);
    }

    #[test]
    fn lookback_rereads_but_never_moves_the_cursor_back() {
        let c = t("2024-06-29T00:00:00Z");
        let p = plan(PlanInput { cursor: Some(c), lookback: TimeDelta::days(3), ..input() });
        assert_eq!(p.segments[0].span.start, t("2024-06-26T00:00:00Z"));
        assert!(p.final_cursor > c);
    }

    #[test]
    fn a_cursor_older_than_start_date_does_not_reopen_excluded_history() {
        let p = plan(PlanInput { cursor: Some(t("1000-01-01T00:00:00Z")), ..input() });
        assert_eq!(p.segments[0].span.start, t("2024-06-01T00:00:00Z"));
        let p = plan(PlanInput { cursor: Some(t("2024-06-02T00:00:00Z")), lookback: TimeDelta::days(5), ..input() });
        assert_eq!(p.segments[0].span.start, t("2024-06-01T00:00:00Z"), "lookback stops at start_date");
    }

    #[test]
    fn sizer_grows_on_empty_windows_and_shrinks_on_busy_ones() {
        let mut s = WindowSizer::new(250);
        let start = t("2024-06-01T00:00:00Z");
        let w = s.next(start, t("2024-07-01T00:00:00Z"));
        assert_eq!(w.end, t("2024-06-02T00:00:00Z"));
        s.observe(w, 0);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-05T00:00:00Z"));
        s.observe(Span { start, end: t("2024-06-02T00:00:00Z") }, 25_000);
        assert_eq!(
            s.next(start, t("2024-07-01T00:00:00Z")).end,
            t("2024-06-01T03:00:00Z"),
            "2.4 h rounds up to the hour"
        );
        s.observe(Span { start, end: t("2024-06-01T01:00:00Z") }, 1_000_000);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-01T01:00:00Z"), "never below an hour");
        for _ in 0..10 {
            s.observe(Span { start, end: t("2024-06-29T00:00:00Z") }, 0);
        }
        assert_eq!(s.next(start, t("2024-12-01T00:00:00Z")).end - start, MAX_WINDOW);
        assert!(MAX_WINDOW + TimeDelta::seconds(2) < TimeDelta::days(28), "a request must fit in February");
    }
}
