//! Which spans of time a windowed stream reads, in which order, and how.
//!
//! From the stream's coverage (see `state`) and the API's rules:
//! - gaps that earlier syncs left (or a `start_date` moved earlier) are read first, oldest
//!   first, then the stream goes forward from its cursor (minus any lookback) to a little
//!   before now, so records still being written are left for the next sync;
//! - a span older than the endpoint's recent window needs long-term search; where the docs
//!   state that window and long-term search is off, such a span is not requested but recorded
//!   as a gap, to be read once long-term search is enabled; where the endpoint keeps nothing
//!   older (a retention limit), it is not requested and reported as unavailable;
//! - sessions are listed only once finished, so their cursor stays `settle` behind now and the
//!   unsettled span is read first, without checkpoints: every later window then checkpoints
//!   in order, and the stream never ends with records after its last STATE.

use chrono::{DateTime, TimeDelta, Utc};

use super::state::Coverage;
use crate::streams::MAX_WINDOW;
use crate::time::{ceil_hour, Span};

/// How far behind "now" a sync reads, so records written while it runs are left for the next.
pub(crate) const INGESTION_LAG: TimeDelta = TimeDelta::minutes(2);

/// Spans are read with plain requests only if they start at least this far inside the recent
/// window, so a window requested a little later has not aged out of it.
pub(crate) const RECENT_MARGIN: TimeDelta = TimeDelta::hours(1);

/// A contiguous span read under the same rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) span: Span,
    /// Older than the recent window: needs long-term search as far as the docs say.
    pub(crate) old: bool,
    /// Not requested, and why.
    pub(crate) skip: Option<Skip>,
    /// Whether reading it moves the state (the unsettled span of sessions does not).
    pub(crate) checkpoints: bool,
}

/// Why a span is not requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Old, long-term search off, documented recent window: recorded as a gap for a later sync.
    Gap,
    /// Older than the endpoint keeps at all: reported, and passed over in the state.
    Unavailable,
}

/// What becomes of spans older than the recent window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OldSpans {
    /// Requested: long-term search is on, or the docs state no recent window (the API's answer
    /// decides then).
    Read,
    /// Recorded as gaps.
    Gap,
    /// Reported as unavailable (the endpoint's retention limit).
    Unavailable,
}

/// What a plan is made from.
#[derive(Debug, Clone)]
pub(crate) struct PlanInput<'a> {
    /// The sync's start.
    pub(crate) now: DateTime<Utc>,
    /// What earlier syncs read, fitted to `start_date`.
    pub(crate) coverage: &'a Coverage,
    /// Read this far behind the cursor again (calls, tickets).
    pub(crate) lookback: TimeDelta,
    /// How far back plain requests reach (`None`: everything is recent).
    pub(crate) recent_days: Option<i64>,
    pub(crate) old: OldSpans,
    /// Sessions: the cursor stays this far behind now.
    pub(crate) settle: Option<TimeDelta>,
}

/// The segments, in reading (and checkpoint) order.
pub(crate) fn plan(input: &PlanInput<'_>) -> Vec<Segment> {
    let coverage = input.coverage;
    let upper = input.now - INGESTION_LAG;
    let recent_start = input.recent_days.map(|days| input.now - TimeDelta::days(days) + RECENT_MARGIN);
    let cap = input.settle.map_or(upper, |s| (input.now - s).min(upper));
    // Forward from the cursor (less the lookback), taking in any gap the lookback reaches.
    let mut forward_start = (coverage.cursor - input.lookback).max(coverage.covered_from);
    let (before, overlapping): (Vec<Span>, Vec<Span>) = coverage.gaps.iter().partition(|g| g.end < forward_start);
    if let Some(first) = overlapping.first() {
        forward_start = forward_start.min(first.start);
    }
    let mut segments = Vec::new();
    for gap in before {
        cut(Span::new(gap.start, gap.end.min(upper)), recent_start, None, input, &mut segments);
    }
    let forward = Span::new(forward_start, upper);
    let mut settled = Vec::new();
    cut(forward, recent_start, Some(cap), input, &mut settled);
    // Unsettled spans first: their records then precede every checkpoint (see module docs).
    let (unsettled, settled): (Vec<Segment>, Vec<Segment>) = settled.into_iter().partition(|s| !s.checkpoints);
    segments.extend(unsettled);
    segments.extend(settled);
    segments
}

/// Cuts `span` at the recent-window boundary and at the settle cap.
fn cut(
    span: Span,
    recent_start: Option<DateTime<Utc>>,
    cap: Option<DateTime<Utc>>,
    input: &PlanInput<'_>,
    out: &mut Vec<Segment>,
) {
    if span.is_empty() {
        return;
    }
    let mut cuts = vec![span.start];
    for c in [recent_start, cap].into_iter().flatten() {
        if c > span.start && c < span.end {
            cuts.push(c);
        }
    }
    cuts.push(span.end);
    cuts.sort();
    cuts.dedup();
    for pair in cuts.windows(2) {
        let span = Span::new(pair[0], pair[1]);
        let old = recent_start.is_some_and(|r| span.start < r);
        let skip = match input.old {
            _ if !old => None,
            OldSpans::Read => None,
            OldSpans::Gap => Some(Skip::Gap),
            OldSpans::Unavailable => Some(Skip::Unavailable),
        };
        out.push(Segment { span, old, skip, checkpoints: cap.is_none_or(|c| span.end <= c) });
    }
}

/// Picks window lengths so a window holds about `target` records: fewer requests for quiet
/// accounts (long windows), frequent checkpoints and parallelism for busy ones (short windows).
///
/// A window's count says little about a much longer span: the first day of an account's data
/// may hold a handful of records and the next day thousands. So a window that returned records
/// at most doubles the length it was read with, and one that returned none quadruples it (or
/// leaves a longer current length as it is).
/// Without that limit a sparse first day sized the next window at two weeks: a hundred pages
/// without a checkpoint, and for chats, whose windows remember every key they returned, a
/// ten times larger key set.
#[derive(Debug, Clone)]
pub(crate) struct WindowSizer {
    len: TimeDelta,
    target: u64,
}

impl WindowSizer {
    pub(crate) const MIN: TimeDelta = TimeDelta::hours(1);
    const INITIAL: TimeDelta = TimeDelta::days(1);

    /// `page_size`: records per full page of the endpoint.
    pub(crate) fn new(page_size: u32) -> Self {
        WindowSizer { len: Self::INITIAL, target: u64::from(page_size) * 10 }
    }

    /// The current window length.
    pub(crate) fn len(&self) -> TimeDelta {
        self.len
    }

    /// The next window starting at `start`, ending on the hour grid, within `limit`.
    pub(crate) fn next(&self, start: DateTime<Utc>, limit: DateTime<Utc>) -> Span {
        Span::new(start, ceil_hour(start + self.len).min(limit))
    }

    /// Learns from a finished window that returned `items` records.
    pub(crate) fn observe(&mut self, span: Span, items: u64) {
        let len = span.end - span.start;
        if len <= TimeDelta::zero() {
            return;
        }
        let next = if items == 0 {
            self.len.max(len * 4)
        } else {
            let factor = (self.target as f64 / items as f64).min(2.0);
            let ms = len.num_milliseconds() as f64 * factor;
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

    fn fresh() -> Coverage {
        Coverage::fresh("c", t("2024-06-01T00:00:00Z"))
    }

    fn input(coverage: &Coverage) -> PlanInput<'_> {
        PlanInput {
            now: t("2024-06-30T12:00:00Z"),
            coverage,
            lookback: TimeDelta::zero(),
            recent_days: Some(7),
            old: OldSpans::Read,
            settle: None,
        }
    }

    /// start, end, old, skip, checkpoints
    type Row = (DateTime<Utc>, DateTime<Utc>, bool, bool, bool);

    fn spans(segments: &[Segment]) -> Vec<Row> {
        segments.iter().map(|s| (s.span.start, s.span.end, s.old, s.skip.is_some(), s.checkpoints)).collect()
    }

    #[test]
    fn old_spans_are_marked_and_skipped_only_when_unreadable() {
        let c = fresh();
        let p = plan(&input(&c));
        assert_eq!(
            spans(&p),
            [
                (t("2024-06-01T00:00:00Z"), t("2024-06-23T13:00:00Z"), true, false, true),
                (t("2024-06-23T13:00:00Z"), t("2024-06-30T11:58:00Z"), false, false, true),
            ]
        );
        let p = plan(&PlanInput { old: OldSpans::Gap, recent_days: Some(3), ..input(&c) });
        assert_eq!(
            spans(&p),
            [
                (t("2024-06-01T00:00:00Z"), t("2024-06-27T13:00:00Z"), true, true, true),
                (t("2024-06-27T13:00:00Z"), t("2024-06-30T11:58:00Z"), false, false, true),
            ]
        );
    }

    #[test]
    fn spans_beyond_a_retention_limit_are_unavailable_and_nothing_is_old_without_a_limit() {
        let c = fresh();
        let p = plan(&PlanInput { old: OldSpans::Unavailable, recent_days: Some(20), ..input(&c) });
        assert_eq!(
            p.iter().map(|s| (s.span.start, s.span.end, s.skip)).collect::<Vec<_>>(),
            [
                (t("2024-06-01T00:00:00Z"), t("2024-06-10T13:00:00Z"), Some(Skip::Unavailable)),
                (t("2024-06-10T13:00:00Z"), t("2024-06-30T11:58:00Z"), None),
            ]
        );
        let p = plan(&PlanInput { old: OldSpans::Read, recent_days: None, ..input(&c) });
        assert_eq!(spans(&p), [(t("2024-06-01T00:00:00Z"), t("2024-06-30T11:58:00Z"), false, false, true)]);
    }

    #[test]
    fn gaps_are_read_first_then_forward() {
        let mut c = fresh();
        c.cursor = t("2024-06-29T00:00:00Z");
        c.gaps = vec![Span::new(t("2024-06-02T00:00:00Z"), t("2024-06-03T00:00:00Z"))];
        let p = plan(&input(&c));
        assert_eq!(
            spans(&p),
            [
                (t("2024-06-02T00:00:00Z"), t("2024-06-03T00:00:00Z"), true, false, true),
                (t("2024-06-29T00:00:00Z"), t("2024-06-30T11:58:00Z"), false, false, true),
            ]
        );
    }

    #[test]
    fn lookback_takes_in_a_gap_it_reaches() {
        let mut c = fresh();
        c.cursor = t("2024-06-29T00:00:00Z");
        c.gaps = vec![Span::new(t("2024-06-27T00:00:00Z"), t("2024-06-28T00:00:00Z"))];
        let p = plan(&PlanInput { lookback: TimeDelta::days(1), ..input(&c) });
        assert_eq!(spans(&p), [(t("2024-06-27T00:00:00Z"), t("2024-06-30T11:58:00Z"), false, false, true)]);
    }

    #[test]
    fn sessions_read_the_unsettled_span_first() {
        let mut c = fresh();
        c.cursor = t("2024-06-27T00:00:00Z");
        let p = plan(&PlanInput { settle: Some(TimeDelta::days(2)), ..input(&c) });
        assert_eq!(
            spans(&p),
            [
                (t("2024-06-28T12:00:00Z"), t("2024-06-30T11:58:00Z"), false, false, false),
                (t("2024-06-27T00:00:00Z"), t("2024-06-28T12:00:00Z"), false, false, true),
            ]
        );
    }

    #[test]
    fn a_future_cursor_reads_nothing() {
        let mut c = fresh();
        c.cursor = t("2030-01-01T00:00:00Z");
        assert!(plan(&input(&c)).is_empty());
        assert!(plan(&PlanInput { settle: Some(TimeDelta::days(2)), ..input(&c) }).is_empty());
    }

    #[test]
    fn lookback_never_reaches_before_what_was_covered() {
        let mut c = fresh();
        c.cursor = t("2024-06-29T00:00:00Z");
        let p = plan(&PlanInput { lookback: TimeDelta::days(3), ..input(&c) });
        assert_eq!(p[0].span.start, t("2024-06-26T00:00:00Z"));
        c.cursor = t("2024-06-02T00:00:00Z");
        let p = plan(&PlanInput { lookback: TimeDelta::days(5), ..input(&c) });
        assert_eq!(p[0].span.start, t("2024-06-01T00:00:00Z"), "lookback stops at covered_from");
    }

    /// A sparse first day (the start of an account's data) sized the next window at two
    /// weeks of the busy days after it.
    #[test]
    fn sizer_grows_at_most_twofold_from_a_window_with_records() {
        let mut s = WindowSizer::new(250);
        let start = t("2024-06-01T00:00:00Z");
        s.observe(Span::new(start, t("2024-06-02T00:00:00Z")), 189);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-03T00:00:00Z"));
        s.observe(Span::new(start, t("2024-06-03T00:00:00Z")), 2_500);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-03T00:00:00Z"), "on target: same length");
        s.observe(Span::new(start, t("2024-06-03T00:00:00Z")), 1_250);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-05T00:00:00Z"));
    }

    #[test]
    fn sizer_grows_on_empty_windows_and_shrinks_on_busy_ones() {
        let mut s = WindowSizer::new(250);
        let start = t("2024-06-01T00:00:00Z");
        let w = s.next(start, t("2024-07-01T00:00:00Z"));
        assert_eq!(w.end, t("2024-06-02T00:00:00Z"));
        s.observe(w, 0);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-05T00:00:00Z"));
        s.observe(Span::new(start, t("2024-06-02T00:00:00Z")), 25_000);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-01T03:00:00Z"), "2.4 h rounds up");
        s.observe(Span::new(start, t("2024-06-01T01:00:00Z")), 1_000_000);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-01T01:00:00Z"), "never below an hour");
        for _ in 0..10 {
            s.observe(Span::new(start, t("2024-06-29T00:00:00Z")), 0);
        }
        assert_eq!(s.next(start, t("2024-12-01T00:00:00Z")).end - start, MAX_WINDOW);
        s.observe(Span::new(start, t("2024-06-01T01:00:00Z")), 1_000_000);
        s.observe(Span::new(start, t("2024-06-01T01:00:00Z")), 0);
        assert_eq!(s.next(start, t("2024-07-01T00:00:00Z")).end, t("2024-06-01T04:00:00Z"), "an empty hour: four");
        assert!(MAX_WINDOW + TimeDelta::seconds(2) < TimeDelta::days(28), "a request must fit in February");
    }
}
