//! Reading a stream by whole calendar months, for endpoints that take a month (`yyyy-MM`) rather
//! than a date range: billed WhatsApp conversations by billing period.
//!
//! The state is a coverage like the windowed streams' (see `state`), whose cursor is the start
//! of the first month not yet closed. Every sync reads the months from the cursor's month up to
//! the current one (and the months of any gap); a month counts as closed, and is checkpointed,
//! once [`MONTH_SETTLE`] has passed since its end. Months still open are read first and move
//! nothing, so their records precede every checkpoint and are read again by the next sync, until
//! they close.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use super::context::StreamCtx;
use super::dedupe::Dedupe;
use super::events::Event;
use super::pages::{follow, log_summary, Filter, PageStats};
use super::plan::INGESTION_LAG;
use super::state::{Coverage, Delta};
use crate::error::Result;
use crate::http::Origin;
use crate::protocol::LogLevel;
use crate::streams::MONTH_SETTLE;
use crate::time::Span;

/// One month to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MonthPart {
    /// The month's first day.
    pub(crate) month: NaiveDate,
    /// The month, midnight to midnight UTC.
    pub(crate) span: Span,
    /// Closed months are checkpointed; open ones are read again next time.
    pub(crate) closed: bool,
}

impl MonthPart {
    fn of(month: NaiveDate, now: DateTime<Utc>) -> MonthPart {
        let next = month.checked_add_months(Months::new(1)).unwrap_or(month);
        let span = Span::new(midnight(month), midnight(next));
        MonthPart { month, span, closed: span.end + MONTH_SETTLE <= now }
    }

    /// The period parameter: `2024-05`.
    fn period(&self) -> String {
        self.month.format("%Y-%m").to_string()
    }
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn first_of_month(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive().with_day(1).unwrap_or(t.date_naive())
}

/// The months to read, in reading (and checkpoint) order: the open ones first, then the closed
/// ones, oldest first. A month is read if any of it is still wanted: a gap, or the span from the
/// cursor to a little before now.
pub(crate) fn plan_months(coverage: &Coverage, now: DateTime<Utc>) -> Vec<MonthPart> {
    let upper = now - INGESTION_LAG;
    let mut wanted: Vec<Span> = coverage.gaps.iter().map(|g| Span::new(g.start, g.end.min(upper))).collect();
    wanted.push(Span::new(coverage.cursor, upper));
    wanted.retain(|s| !s.is_empty());
    let mut months: Vec<NaiveDate> = Vec::new();
    for span in wanted {
        let mut month = first_of_month(span.start);
        while midnight(month) < span.end {
            months.push(month);
            let Some(next) = month.checked_add_months(Months::new(1)) else { break };
            month = next;
        }
    }
    months.sort();
    months.dedup();
    let parts: Vec<MonthPart> = months.into_iter().map(|m| MonthPart::of(m, now)).collect();
    let (closed, open): (Vec<MonthPart>, Vec<MonthPart>) = parts.into_iter().partition(|p| p.closed);
    open.into_iter().chain(closed).collect()
}

/// Reads every planned month, one after the other (these endpoints allow one request a second).
pub(crate) async fn read_months(ctx: Arc<StreamCtx>, coverage: Coverage, period_param: &'static str) -> Result<()> {
    let parts = plan_months(&coverage, ctx.now);
    let open = parts.iter().filter(|p| !p.closed).count();
    if open > 0 {
        let (what, it) = if open == 1 { ("the current month is", "it") } else { ("these months are", "them") };
        ctx.out.log(
            LogLevel::Info,
            format!(
                "{}: {what} not closed yet ({}): read but not checkpointed, so the next sync reads {it} again.",
                ctx.def.name,
                parts.iter().filter(|p| !p.closed).map(MonthPart::period).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    ctx.out.send(Event::Planned { stream: ctx.index, partitions: parts.len() as u64 })?;
    let mut totals = PageStats::default();
    for (seq, part) in parts.iter().enumerate() {
        let mut params = (ctx.def.params)(&ctx.config);
        params.push((period_param, part.period()));
        let url = ctx.endpoint.url(&params);
        let mut dedupe = Dedupe::previous_page();
        let stats = follow(&ctx, url, Origin::Built, &Filter::everything(), &mut dedupe, |_, _| Ok(())).await?;
        totals.add(stats);
        let deltas = if part.closed { vec![Delta::Covered(part.span)] } else { Vec::new() };
        ctx.out.send(Event::Done { stream: ctx.index, seq: seq as u64, deltas })?;
    }
    log_summary(&ctx, &totals, false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;

    fn t(s: &str) -> DateTime<Utc> {
        parse_datetime(s).unwrap()
    }

    fn periods(parts: &[MonthPart]) -> Vec<(String, bool)> {
        parts.iter().map(|p| (p.period(), p.closed)).collect()
    }

    #[test]
    fn open_months_first_then_closed_ones_from_the_cursor_month() {
        let coverage = Coverage::fresh("startDatetime", t("2024-02-10T00:00:00Z"));
        let parts = plan_months(&coverage, t("2024-05-15T12:00:00Z"));
        assert_eq!(
            periods(&parts),
            [("2024-05".into(), false), ("2024-02".into(), true), ("2024-03".into(), true), ("2024-04".into(), true)]
        );
        assert_eq!(parts[1].span, Span::new(t("2024-02-01T00:00:00Z"), t("2024-03-01T00:00:00Z")));
    }

    #[test]
    fn a_month_closes_a_day_after_its_end() {
        let mut coverage = Coverage::fresh("startDatetime", t("2024-01-01T00:00:00Z"));
        coverage.cursor = t("2024-04-01T00:00:00Z");
        let early = plan_months(&coverage, t("2024-05-01T20:00:00Z"));
        assert_eq!(periods(&early), [("2024-04".into(), false), ("2024-05".into(), false)]);
        let later = plan_months(&coverage, t("2024-05-02T00:00:00Z"));
        assert_eq!(periods(&later), [("2024-05".into(), false), ("2024-04".into(), true)]);
        // Just after midnight, the new month has nothing to read yet.
        coverage.cursor = t("2024-05-01T00:00:00Z");
        assert!(plan_months(&coverage, t("2024-05-01T00:01:00Z")).is_empty());
    }

    #[test]
    fn gaps_bring_their_months_back() {
        let mut coverage = Coverage::fresh("startDatetime", t("2023-01-01T00:00:00Z"));
        coverage.cursor = t("2024-03-01T00:00:00Z");
        coverage.gaps = vec![Span::new(t("2023-06-20T00:00:00Z"), t("2023-07-02T00:00:00Z"))];
        let parts = plan_months(&coverage, t("2024-03-20T00:00:00Z"));
        assert_eq!(periods(&parts), [("2024-03".into(), false), ("2023-06".into(), true), ("2023-07".into(), true)]);
    }

    #[test]
    fn a_future_cursor_reads_nothing() {
        let mut coverage = Coverage::fresh("startDatetime", t("2024-01-01T00:00:00Z"));
        coverage.cursor = t("2099-01-01T00:00:00Z");
        assert!(plan_months(&coverage, t("2024-03-20T00:00:00Z")).is_empty());
    }
}
