//! Reading one stream: what it needs, and the readers of lists and tickets (windowed streams
//! are in `window`, monthly ones in `months`).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use super::dedupe::Dedupe;
use super::months::read_months;
use super::output::{Event, Output};
use super::pages::{follow, log_summary, next_url, read_page, Filter, PageStats};
use super::plan::INGESTION_LAG;
use super::state::{Coverage, Delta};
use super::window::read_windowed;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{Endpoint, Failed, Origin};
use crate::protocol::LogLevel;
use crate::streams::codec::Codec;
use crate::streams::shape::Report;
use crate::streams::{ReadMode, StreamDef};
use crate::time::Span;

/// Tickets pages overlap by this many items, so a ticket shifted by a deletion between two
/// requests is still seen (repeats are dropped).
const TICKET_OVERLAP: u64 = 10;
/// Pages of tickets in a row that bring nothing new before paging is declared stuck.
const MAX_STALE_TICKET_PAGES: u32 = 3;

/// Everything a stream's tasks share.
pub(crate) struct StreamCtx {
    /// The stream's position in the catalog (events use it).
    pub(crate) index: usize,
    pub(crate) def: &'static StreamDef,
    pub(crate) endpoint: Endpoint,
    pub(crate) codec: Codec,
    pub(crate) out: Output,
    pub(crate) config: Arc<Config>,
    /// The sync's start; every stream plans against the same instant.
    pub(crate) now: DateTime<Utc>,
    report: Mutex<Report>,
}

/// Where a stream starts, from its saved state.
#[derive(Debug, Clone)]
pub(crate) enum Start {
    Windowed(Coverage),
    RecentList(Coverage),
    Months(Coverage),
    /// A list, resumed at the saved next page if there is one.
    List(Option<String>),
}

impl StreamCtx {
    pub(crate) fn new(
        index: usize,
        def: &'static StreamDef,
        endpoint: Endpoint,
        out: Output,
        config: Arc<Config>,
        now: DateTime<Utc>,
    ) -> StreamCtx {
        StreamCtx { index, def, endpoint, codec: def.codec(), out, config, now, report: Mutex::default() }
    }

    pub(crate) fn token_param(&self) -> Option<&'static str> {
        match self.def.mode {
            ReadMode::List { token_param } => token_param,
            _ => None,
        }
    }

    pub(crate) fn lookback(&self) -> TimeDelta {
        TimeDelta::days(i64::from((self.def.lookback_days)(&self.config)))
    }

    /// Adds a page's notes on values that did not fit the schema.
    pub(crate) fn add_report(&self, report: Report) {
        if !report.is_empty() {
            self.report.lock().unwrap_or_else(|e| e.into_inner()).merge(report);
        }
    }

    pub(crate) fn take_report(&self) -> Report {
        std::mem::take(&mut *self.report.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        (self.def.params)(&self.config)
    }
}

/// Reads one stream to the end; its final state is what the output has applied by then.
pub(crate) async fn read_stream(ctx: Arc<StreamCtx>, start: Start) -> Result<()> {
    match (start, ctx.def.mode) {
        (Start::Windowed(coverage), ReadMode::Windowed { rules, .. }) => read_windowed(ctx, coverage, rules).await,
        (Start::RecentList(coverage), ReadMode::RecentList { limit, .. }) => read_tickets(&ctx, &coverage, limit).await,
        (Start::Months(coverage), ReadMode::Months { period_param, .. }) => {
            read_months(ctx, coverage, period_param).await
        }
        (Start::List(resume), ReadMode::List { .. } | ReadMode::Single) => read_list(&ctx, resume).await,
        (start, mode) => {
            Err(Error::system(format!("stream '{}' cannot start from {start:?} in mode {mode:?}", ctx.def.name)))
        }
    }
}

/// A full list, page after page; for resumable lists each page's position is checkpointed, and
/// a saved position is where the list resumes.
async fn read_list(ctx: &StreamCtx, resume: Option<String>) -> Result<()> {
    let first = ctx.endpoint.url(&ctx.params());
    let resumable = ctx.def.is_resumable();
    let mut seq = 0u64;
    let mut on_page = |_: &PageStats, next: Option<&str>| {
        let deltas = if resumable { vec![Delta::Position(next.map(str::to_string))] } else { Vec::new() };
        ctx.out.send(Event::Done { stream: ctx.index, seq, deltas })?;
        seq += 1;
        Ok(())
    };
    let mut dedupe = Dedupe::previous_page();
    let outcome = match &resume {
        Some(position) => {
            ctx.out
                .log(LogLevel::Info, format!("{}: resuming the list where the previous sync stopped.", ctx.def.name));
            let url = next_url(ctx, &first, position)?;
            follow(ctx, url, Origin::Link, &Filter::everything(), &mut dedupe, &mut on_page).await
        }
        None => follow(ctx, first.clone(), Origin::Built, &Filter::everything(), &mut dedupe, &mut on_page).await,
    };
    let stats = match outcome {
        Ok(stats) => stats,
        Err(Failed::StaleLink(e)) if resume.is_some() => {
            ctx.out.log(
                LogLevel::Warn,
                format!(
                    "{}: Botmaker no longer accepts the saved position ({}), so the list is read again from its start.",
                    ctx.def.name, e.message
                ),
            );
            follow(ctx, first, Origin::Built, &Filter::everything(), &mut Dedupe::previous_page(), &mut on_page).await?
        }
        Err(e) => return Err(e.into()),
    };
    log_summary(ctx, &stats, false);
    Ok(())
}

/// Tickets: no date filter in the API, so list what `daysBeforeNow` covers with limit/offset
/// and keep the tickets created in the spans to read (gaps, and from the cursor less the
/// lookback to a little before now).
async fn read_tickets(ctx: &StreamCtx, coverage: &Coverage, limit: u32) -> Result<()> {
    let spans = ticket_spans(ctx, coverage);
    let Some(lower) = spans.first().map(|s| s.start) else {
        return ctx.out.send(Event::Done { stream: ctx.index, seq: 0, deltas: Vec::new() });
    };
    let days_before_now = ((ctx.now - lower).num_seconds() as f64 / 86_400.0).ceil() as i64 + 1;
    let filter = Filter::within(spans.clone());
    let mut dedupe = Dedupe::previous_page();
    let (mut offset, mut stale, mut estimated) = (0u64, 0u32, false);
    let mut totals = PageStats::default();
    loop {
        let mut params = ctx.params();
        params.push(("limit", limit.to_string()));
        params.push(("offset", offset.to_string()));
        params.push(("daysBeforeNow", days_before_now.max(1).to_string()));
        let url = ctx.endpoint.url(&params);
        let page = read_page(ctx, &url, Origin::Built, &filter, &mut dedupe).await?;
        let (stats, total) = (page.stats, page.total);
        totals.add(stats);
        if let (false, Some(total)) = (estimated, total) {
            ctx.out.send(Event::Estimate { stream: ctx.index, rows: total })?;
            estimated = true;
        }
        let len = stats.items;
        if len == 0 || total.is_some_and(|t| offset + len >= t) {
            break;
        }
        // A page whose tickets were all on the previous one means the API ignores `offset`
        // (or serves the same page again): paging would never end.
        stale = if stats.duplicates == len { stale + 1 } else { 0 };
        if stale >= MAX_STALE_TICKET_PAGES {
            return Err(Error::system(format!(
                "Botmaker kept returning the same tickets for later pages (offset {offset}{}), so the connector stopped instead of paging forever. Retry the sync later; if it persists, report it to Botmaker support.",
                total.map(|t| format!(", total {t}")).unwrap_or_default()
            )));
        }
        offset += if len > TICKET_OVERLAP { len - TICKET_OVERLAP } else { len };
    }
    // Repeats are expected here (pages overlap on purpose).
    log_summary(ctx, &totals, true);
    let deltas = spans.into_iter().map(Delta::Covered).collect();
    ctx.out.send(Event::Done { stream: ctx.index, seq: 0, deltas })
}

/// The spans of ticket creation times to read, oldest first, merged where they touch.
fn ticket_spans(ctx: &StreamCtx, coverage: &Coverage) -> Vec<Span> {
    let upper = ctx.now - INGESTION_LAG;
    let forward = Span::new((coverage.cursor - ctx.lookback()).max(coverage.covered_from), upper);
    let mut spans: Vec<Span> = coverage.gaps.iter().map(|g| Span::new(g.start, g.end.min(upper))).collect();
    spans.push(forward);
    spans.retain(|s| !s.is_empty());
    spans.sort();
    let mut merged: Vec<Span> = Vec::new();
    for s in spans {
        match merged.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => merged.push(s),
        }
    }
    merged
}
