//! Reading one stream: the readers of lists and tickets, and the dispatch to the windowed
//! reader (`window`) and the monthly one (`months`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use reqwest::Url;

use super::context::{Start, StreamCtx};
use super::dedupe::Dedupe;
use super::events::Event;
use super::months::read_months;
use super::pages::{as_link, follow, log_summary, next_url, read_page, Filter, PageStats};
use super::plan::INGESTION_LAG;
use super::state::{Coverage, Delta};
use super::window::read_windowed;
use crate::error::{Error, Result};
use crate::http::classify::describe_origin;
use crate::http::{Failed, Origin};
use crate::protocol::input::shorten;
use crate::protocol::redact::redact;
use crate::protocol::LogLevel;
use crate::streams::ReadMode;
use crate::time::Span;

/// Tickets pages overlap by this many items, so a ticket shifted by a deletion between two
/// requests is still seen (repeats are dropped).
const TICKET_OVERLAP: u64 = 10;
/// Pages of tickets in a row that bring nothing new before paging is declared stuck.
const MAX_STALE_TICKET_PAGES: u32 = 3;

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
/// a saved position is where the list resumes. A saved position that cannot be continued (a
/// link to another host or another endpoint, not a link at all, or one Botmaker refuses)
/// starts the list over, with a warning: nothing of it has been written in this sync yet, so
/// nothing repeats.
async fn read_list(ctx: &StreamCtx, resume: Option<String>) -> Result<()> {
    let first = ctx.endpoint.url(&ctx.params());
    let resumable = ctx.def.is_resumable();
    let pages = AtomicU64::new(0);
    let warned_of_token = std::sync::atomic::AtomicBool::new(false);
    let on_page = |_: &PageStats, next: Option<&str>| {
        // A STATE is output like any other message: a link carrying the token is not saved (the
        // state keeps the position before it, so a resumed sync reads a little again).
        let carries_token = next.is_some_and(|n| redact(n) != n);
        if carries_token && !warned_of_token.swap(true, Ordering::Relaxed) {
            ctx.out.log(
                LogLevel::Warn,
                format!(
                    "{}: Botmaker's next-page links carry the access token, so they are not saved in the state; a resumed sync reads this list again from an earlier page.",
                    ctx.def.name
                ),
            );
        }
        let deltas =
            if resumable && !carries_token { vec![Delta::Position(next.map(str::to_string))] } else { Vec::new() };
        ctx.out.send(Event::Done { stream: ctx.index, seq: pages.fetch_add(1, Ordering::Relaxed), deltas })?;
        Ok(())
    };
    let start_over = |why: &str| {
        ctx.out.log(
            LogLevel::Warn,
            format!(
                "{}: the position saved by the previous sync {why}, so the list is read again from its start.",
                ctx.def.name
            ),
        );
    };
    let resumed = match resume.as_deref().map(|position| saved_position(ctx, &first, position)) {
        Some(Ok(url)) => {
            ctx.out
                .log(LogLevel::Info, format!("{}: resuming the list where the previous sync stopped.", ctx.def.name));
            Some(url)
        }
        Some(Err(why)) => {
            start_over(&why);
            None
        }
        None => None,
    };
    let outcome = match &resumed {
        Some(url) => {
            follow(ctx, url.clone(), Origin::Link, &Filter::everything(), &mut Dedupe::previous_page(), on_page).await
        }
        None => {
            follow(ctx, first.clone(), Origin::Built, &Filter::everything(), &mut Dedupe::previous_page(), on_page)
                .await
        }
    };
    let stats = match outcome {
        Ok(stats) => stats,
        // Only a refusal of the saved position itself: once a page has been written, starting
        // over would write it again.
        Err(Failed::StaleLink { answer, .. }) if resumed.is_some() && pages.load(Ordering::Relaxed) == 0 => {
            start_over(&format!("was refused by Botmaker ({answer})"));
            follow(ctx, first, Origin::Built, &Filter::everything(), &mut Dedupe::previous_page(), on_page).await?
        }
        Err(e) => return Err(e.into()),
    };
    log_summary(ctx, &stats, false);
    Ok(())
}

/// The page a saved list position continues at, or why it cannot be used.
fn saved_position(ctx: &StreamCtx, first: &Url, position: &str) -> std::result::Result<Url, String> {
    match (as_link(position), ctx.token_param()) {
        (Some(link), _) if ctx.endpoint.check_link(&link).is_err() => Err(format!(
            "links to {}, not to the configured api_url (the access token is sent nowhere else)",
            describe_origin(&link)
        )),
        // Another list's page (a state copied from another stream or connection): following it
        // would write that list's records as this stream's.
        (Some(link), _) if link.path().trim_end_matches('/') != first.path().trim_end_matches('/') => {
            Err(format!("links to {}, not to this stream's endpoint {}", shorten(link.path()), first.path()))
        }
        (None, None) => Err(format!("is not a page link ({:?})", shorten(position))),
        _ => next_url(ctx, first, position).map_err(|e| format!("cannot be continued ({})", e.message)),
    }
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
        if len == 0 {
            if let Some(total) = total.filter(|&t| offset < t) {
                // Ending here would take the tickets past `offset` as read.
                return Err(Error::transient(format!(
                    "Botmaker returned no tickets at offset {offset} although the same answer counts {total}, so the rest of the list could not be read. Retry the sync later; if it persists, report it to Botmaker support."
                )));
            }
            break;
        }
        if total.is_some_and(|t| offset + len >= t) {
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
