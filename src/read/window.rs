//! Reading a stream in date windows, several at once, and letting the API decide about
//! long-term search where the docs leave room.
//!
//! Long-term search is billed, so it is sent only for windows older than the endpoint's recent
//! window. What the API answers then decides the rest of the sync:
//! - `LONG_TERM_SEARCH_PARAM_REQUIRED` for a window sent without it: with `long_term_search`
//!   on, the window is asked again with it, and so is every window of that stream from then
//!   on (a recent window that needs it means every window does); with it off, the window is
//!   recorded as a gap, and if no window of the stream can be read the stream fails with a
//!   config error that says to enable it.
//! - Where the docs state no recent window (/calls), an old window is asked without long-term
//!   search first. Records in the answer prove the endpoint serves old history plainly; an
//!   empty answer may hide records, so it is asked again with long-term search (when enabled)
//!   or recorded as a gap (when not), until an answer proves either way. Such a gap is filled
//!   at the end of the stream if a later answer proved that plain requests serve old records
//!   (the empty answer was then the whole truth).
//!
//! Endpoints with a retention limit (/notifications/sent-results keeps three months) are read
//! with plain requests only: what lies beyond the limit, when planned or by the time its window
//! is requested, is reported as unavailable and passed over in the state.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use tokio::task::JoinSet;

use super::context::StreamCtx;
use super::dedupe::{Dedupe, NeighbourKeys};
use super::events::Event;
use super::pages::{follow, log_summary, Filter, PageStats};
use super::plan::{plan, OldSpans, PlanInput, Segment, Skip, WindowSizer, RECENT_MARGIN};
use super::state::{Coverage, Delta};
use crate::error::{Error, Result};
use crate::http::{Failed, Origin};
use crate::protocol::LogLevel;
use crate::streams::{RecentWindow, WindowRules};
use crate::time::{ceil_second, floor_second, format_api, now_to_millis, Span};

/// What the API's answers have shown about long-term search, shared by a stream's windows.
#[derive(Default)]
struct Learned {
    /// Botmaker wants long-term search on every request of this endpoint.
    always_long_term: AtomicBool,
    /// Plain requests returned old records (no recent window after all).
    old_served_plainly: AtomicBool,
    /// Old records came only with long-term search.
    old_needs_long_term: AtomicBool,
    windows_read: AtomicU64,
    windows_refused: AtomicU64,
    /// Records of some window came out of time order: checkpoints wait for whole windows.
    out_of_order: AtomicBool,
    /// Old spans recorded as gaps only because a plain request found nothing in them before
    /// any answer had shown whether plain requests reach old records.
    unproven_gaps: Mutex<Vec<Span>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    seq: u64,
    span: Span,
    old: bool,
    checkpoints: bool,
}

/// What reading a window came to.
enum WindowOutcome {
    Read(PageStats),
    /// This part of the window (its start, or all of it) may hold records Botmaker serves only
    /// to long-term searches, which are off; recorded as a gap. The rest was read.
    Gap(Span),
    /// This part of the window (its start, or all of it) lies beyond the endpoint's retention
    /// limit; the rest was read.
    Unavailable(Span, PageStats),
}

/// How many windows of one stream are read at once: enough to keep the endpoint's rate limit
/// busy while pages are in flight, few enough to leave room for the other streams.
fn window_parallelism(ctx: &StreamCtx) -> usize {
    let limit = ctx.def.rate_limit;
    let per_second = f64::from(limit.requests) / limit.per.as_secs_f64();
    (per_second.ceil() as usize).clamp(1, 4).min(ctx.config.max_concurrent_requests as usize)
}

pub(crate) async fn read_windowed(ctx: Arc<StreamCtx>, coverage: Coverage, rules: WindowRules) -> Result<()> {
    let def = ctx.def;
    let long_term_search = ctx.config.long_term_search;
    let old = match rules.recent {
        RecentWindow::Documented { .. } if !long_term_search => OldSpans::Gap,
        RecentWindow::Retention { .. } => OldSpans::Unavailable,
        _ => OldSpans::Read,
    };
    let settle = rules.listed_when_finished.then(|| TimeDelta::days(i64::from(ctx.config.session_settle_days)));
    let segments = plan(&PlanInput {
        now: ctx.now,
        coverage: &coverage,
        lookback: ctx.lookback(),
        recent_days: rules.recent.days(),
        old,
        settle,
    });
    log_plan(&ctx, &segments, rules, settle);
    let learned = Arc::new(Learned::default());
    let neighbours = Arc::new(NeighbourKeys::default());
    let mut sizer = WindowSizer::new(rules.page_size);
    let parallel = window_parallelism(&ctx);
    let mut running: JoinSet<Result<(Span, PageStats)>> = JoinSet::new();
    let mut totals = PageStats::default();
    let mut seq = 0u64;
    for (i, segment) in segments.iter().enumerate() {
        if let Some(skip) = segment.skip {
            let delta = match skip {
                Skip::Gap => Delta::Gap(segment.span),
                Skip::Unavailable => Delta::Unavailable(segment.span),
            };
            ctx.out.send(Event::Done { stream: ctx.index, seq, deltas: vec![delta] })?;
            seq += 1;
            continue;
        }
        let mut start = segment.span.start;
        while start < segment.span.end {
            while running.len() >= parallel {
                let (span, stats) = join_next(&mut running).await?;
                sizer.observe(span, stats.items);
                totals.add(stats);
            }
            let span = sizer.next(start, segment.span.end);
            let window = Window { seq, span, old: segment.old, checkpoints: segment.checkpoints };
            let dedupe = if rules.filter_by_cursor {
                Dedupe::previous_page()
            } else {
                Dedupe::Neighbours { shared: neighbours.clone(), seq }
            };
            running.spawn(read_window(ctx.clone(), learned.clone(), rules, window, dedupe));
            seq += 1;
            start = span.end;
            let remaining = (segment.span.end - start)
                + segments[i + 1..]
                    .iter()
                    .filter(|s| s.skip.is_none())
                    .map(|s| s.span.end - s.span.start)
                    .sum::<TimeDelta>();
            let ahead = (remaining.num_seconds() as f64 / sizer.len().num_seconds().max(1) as f64).ceil() as u64;
            ctx.out.send(Event::Planned { stream: ctx.index, partitions: seq + ahead })?;
        }
    }
    while !running.is_empty() {
        let (span, stats) = join_next(&mut running).await?;
        sizer.observe(span, stats.items);
        totals.add(stats);
    }
    // Empty plain answers that proved nothing at the time are the whole truth if a later
    // answer showed that plain requests serve old records: their gaps are filled.
    let unproven = std::mem::take(&mut *learned.unproven_gaps.lock().unwrap_or_else(|e| e.into_inner()));
    if !unproven.is_empty() && learned.old_served_plainly.load(Ordering::Relaxed) {
        ctx.out.send(Event::Planned { stream: ctx.index, partitions: seq + 1 })?;
        ctx.out.send(Event::Done {
            stream: ctx.index,
            seq,
            deltas: unproven.into_iter().map(Delta::Covered).collect(),
        })?;
    }
    log_summary(&ctx, &totals, false);
    let (read, refused) =
        (learned.windows_read.load(Ordering::Relaxed), learned.windows_refused.load(Ordering::Relaxed));
    if refused > 0 && read == 0 {
        return Err(Error::config(format!(
            "Botmaker refused every window of stream '{}' without long-term search (LONG_TERM_SEARCH_PARAM_REQUIRED). Enable long_term_search in the source's settings to read it (Botmaker bills long-term searches).",
            def.name
        )));
    }
    if refused > 0 {
        ctx.out.log(
            LogLevel::Warn,
            format!(
                "{}: Botmaker refused {refused} windows without long-term search; they are recorded as gaps and read once long_term_search is enabled.",
                def.name
            ),
        );
    }
    Ok(())
}

fn log_plan(ctx: &StreamCtx, segments: &[Segment], rules: WindowRules, settle: Option<TimeDelta>) {
    let def = ctx.def;
    let days = rules.recent.days().unwrap_or_default();
    for skipped in segments.iter().filter(|s| s.skip == Some(Skip::Gap)) {
        ctx.out.log(
            LogLevel::Warn,
            format!(
                "{}: not reading {} because long_term_search is off and Botmaker serves only the last {days} days of {} without it. The range is recorded in the state; enable long_term_search and the next sync reads it (Botmaker bills long-term searches).",
                def.name,
                skipped.span.describe(),
                def.name
            ),
        );
    }
    for skipped in segments.iter().filter(|s| s.skip == Some(Skip::Unavailable)) {
        log_unavailable(ctx, skipped.span, days);
    }
    if let Some(settle) = settle {
        if segments.iter().any(|s| !s.checkpoints) {
            ctx.out.log(
                LogLevel::Info,
                format!(
                    "{}: the last {} days are read but not checkpointed (Botmaker lists them only once finished); the next sync reads them again.",
                    def.name,
                    settle.num_days()
                ),
            );
        }
    }
}

/// Reports history the endpoint no longer keeps.
fn log_unavailable(ctx: &StreamCtx, span: Span, days: i64) {
    ctx.out.log(
        LogLevel::Warn,
        format!(
            "{}: {} is unavailable: Botmaker keeps only the last {days} days of {} (its docs say three months) and refuses older requests, with or without long-term search. Those records cannot be read, now or by a later sync; the state moves past them.",
            ctx.def.name,
            span.describe(),
            ctx.def.name
        ),
    );
}

/// Waits for the next window; on failure the others are cancelled (the stream has failed).
async fn join_next(running: &mut JoinSet<Result<(Span, PageStats)>>) -> Result<(Span, PageStats)> {
    match running.join_next().await {
        Some(Ok(Ok(done))) => Ok(done),
        Some(Ok(Err(e))) => {
            running.abort_all();
            Err(e)
        }
        Some(Err(join_error)) => {
            // A panic, where panics unwind (tests); release builds abort in main.rs's hook.
            running.abort_all();
            Err(Error::system(format!("A window task stopped unexpectedly: {join_error}")))
        }
        None => Err(Error::system("No window task was running.")),
    }
}

async fn read_window(
    ctx: Arc<StreamCtx>,
    learned: Arc<Learned>,
    rules: WindowRules,
    window: Window,
    mut dedupe: Dedupe,
) -> Result<(Span, PageStats)> {
    let def = ctx.def;
    if let RecentWindow::Retention { days } = rules.recent {
        let outcome = read_retained(&ctx, rules, &window, days, &mut dedupe).await?;
        drop(dedupe);
        return finish_window(&ctx, &learned, &window, outcome);
    }
    let enabled = ctx.config.long_term_search;
    let documented = matches!(rules.recent, RecentWindow::Documented { .. });
    // Decided now rather than when planned: a window planned as recent may have aged out of
    // the recent window by the time its turn comes in a long sync.
    let recent_days = rules.recent.days();
    let aged = recent_days
        .is_some_and(|days| window.span.start < chrono::Utc::now() - TimeDelta::days(days) + RECENT_MARGIN / 60);
    let old = window.old || aged;
    let long_term = enabled
        && (learned.always_long_term.load(Ordering::Relaxed)
            || (old && (documented || learned.old_needs_long_term.load(Ordering::Relaxed))));
    if aged && !window.old && !enabled && documented {
        ctx.out.log(
            LogLevel::Warn,
            format!(
                "{}: the window starting {} has aged out of Botmaker's {}-day recent window while the sync ran; if Botmaker refuses it, it is recorded as a gap for a later sync.",
                def.name,
                format_api(window.span.start),
                recent_days.unwrap_or_default()
            ),
        );
    }
    // What counts as old before the request was sent: only a record older than that proves
    // that plain requests reach old records.
    let proof_boundary = now_to_millis() - TimeDelta::days(recent_days.unwrap_or_default());
    // A probe's outcome may still be a gap: only reads whose window will count as read report
    // progress inside it.
    let settled_read = window.checkpoints && (documented || long_term || !old);
    let progress = settled_read.then_some(Progress { learned: &learned, seq: window.seq });
    let outcome = match read_pages(&ctx, window.span, rules, long_term, &mut dedupe, progress).await {
        Ok(stats) if !documented && old && !long_term => {
            let proven = stats.oldest.is_some_and(|t| t < proof_boundary);
            if proven && !learned.old_served_plainly.swap(true, Ordering::Relaxed) {
                ctx.out.log(
                    LogLevel::Info,
                    format!(
                        "{}: Botmaker returned records older than {} days without long-term search, so old windows are read without it.",
                        def.name,
                        recent_days.unwrap_or_default()
                    ),
                );
            }
            if proven || learned.old_served_plainly.load(Ordering::Relaxed) {
                WindowOutcome::Read(stats)
            } else {
                // What may have been hidden is measured after the answer, so that the part
                // taken as read never reaches into what the API still counted as old.
                let hidden_before = now_to_millis() - TimeDelta::days(recent_days.unwrap_or_default());
                probe_old_part(&ctx, &learned, &window, hidden_before, rules, stats, &mut dedupe).await?
            }
        }
        Ok(stats) => WindowOutcome::Read(stats),
        Err(Failed::LongTermSearchRequired(_)) if enabled => {
            if !learned.always_long_term.swap(true, Ordering::Relaxed) {
                ctx.out.log(
                    LogLevel::Info,
                    format!(
                        "{}: Botmaker requires long-term search even for recent windows; it is sent with every request of this stream from now on (Botmaker bills long-term searches).",
                        def.name
                    ),
                );
            }
            let progress = window.checkpoints.then_some(Progress { learned: &learned, seq: window.seq });
            WindowOutcome::Read(read_pages(&ctx, window.span, rules, true, &mut dedupe, progress).await?)
        }
        Err(Failed::LongTermSearchRequired(_)) => {
            learned.windows_refused.fetch_add(1, Ordering::Relaxed);
            WindowOutcome::Gap(window.span)
        }
        Err(e) => return Err(e.into()),
    };
    drop(dedupe);
    finish_window(&ctx, &learned, &window, outcome)
}

/// Hands a window's progress to the output.
fn finish_window(
    ctx: &StreamCtx,
    learned: &Learned,
    window: &Window,
    outcome: WindowOutcome,
) -> Result<(Span, PageStats)> {
    let (deltas, stats) = match outcome {
        WindowOutcome::Read(stats) => {
            learned.windows_read.fetch_add(1, Ordering::Relaxed);
            (vec![Delta::Covered(window.span)], stats)
        }
        WindowOutcome::Gap(gap) => {
            let rest = Span::new(gap.end, window.span.end);
            let mut deltas = vec![Delta::Gap(gap)];
            if !rest.is_empty() {
                deltas.push(Delta::Covered(rest));
            }
            (deltas, PageStats::default())
        }
        WindowOutcome::Unavailable(lost, stats) => {
            learned.windows_read.fetch_add(1, Ordering::Relaxed);
            let rest = Span::new(lost.end, window.span.end);
            let mut deltas = vec![Delta::Unavailable(lost)];
            if !rest.is_empty() {
                deltas.push(Delta::Covered(rest));
            }
            (deltas, stats)
        }
    };
    let deltas = if window.checkpoints { deltas } else { Vec::new() };
    ctx.out.send(Event::Done { stream: ctx.index, seq: window.seq, deltas })?;
    Ok((window.span, stats))
}

/// A window of an endpoint with a retention limit: plain requests only, and whatever part of the
/// window has passed the limit by now (a window planned just inside it, requested late in a long
/// sync) is not requested but reported as unavailable. The window checkpoints at its end only:
/// /notifications/sent-results lists newest first, so a page says nothing about how far the
/// window is written.
async fn read_retained(
    ctx: &StreamCtx,
    rules: WindowRules,
    window: &Window,
    days: i64,
    dedupe: &mut Dedupe,
) -> Result<WindowOutcome> {
    // Requests reach a second before their window; a minute's margin keeps them inside. (The
    // clock in milliseconds, like every edge the state records.)
    let oldest = now_to_millis() - TimeDelta::days(days) + RECENT_MARGIN / 60;
    if window.span.start >= oldest {
        return Ok(WindowOutcome::Read(read_pages(ctx, window.span, rules, false, dedupe, None).await?));
    }
    let lost = Span::new(window.span.start, oldest.min(window.span.end));
    log_unavailable(ctx, lost, days);
    let rest = Span::new(lost.end, window.span.end);
    let stats =
        if rest.is_empty() { PageStats::default() } else { read_pages(ctx, rest, rules, false, dedupe, None).await? };
    Ok(WindowOutcome::Unavailable(lost, stats))
}

/// An old window of an endpoint without a documented recent window brought no record older
/// than the recent window from a plain request: that may be no data, or data hidden from plain
/// requests. Its old part is asked again with long-term search when it is enabled, and
/// recorded as a gap when it is not.
async fn probe_old_part(
    ctx: &StreamCtx,
    learned: &Learned,
    window: &Window,
    boundary: chrono::DateTime<chrono::Utc>,
    rules: WindowRules,
    plain: PageStats,
    dedupe: &mut Dedupe,
) -> Result<WindowOutcome> {
    let old_part = Span::new(window.span.start, boundary.min(window.span.end));
    if old_part.is_empty() {
        return Ok(WindowOutcome::Read(plain));
    }
    if !ctx.config.long_term_search {
        if window.checkpoints {
            learned.unproven_gaps.lock().unwrap_or_else(|e| e.into_inner()).push(old_part);
        }
        return Ok(WindowOutcome::Gap(old_part));
    }
    let progress = window.checkpoints.then_some(Progress { learned, seq: window.seq });
    let mut stats = read_pages(ctx, old_part, rules, true, dedupe, progress).await?;
    if stats.items > 0 && !learned.old_needs_long_term.swap(true, Ordering::Relaxed) {
        ctx.out.log(
            LogLevel::Info,
            format!(
                "{}: old records came only with long-term search, so it is sent for windows older than {} days from now on.",
                ctx.def.name,
                rules.recent.days().unwrap_or_default()
            ),
        );
    }
    stats.add(plain);
    Ok(WindowOutcome::Read(stats))
}

/// Where a window reports its progress between pages.
#[derive(Clone, Copy)]
struct Progress<'a> {
    learned: &'a Learned,
    seq: u64,
}

/// Reads every page of `span` (a window, or part of one). With `progress`, after each page
/// but the last it tells the output how far the window is written: up to the latest record's
/// time, as long as every record so far came in time order (Botmaker documents its lists as
/// sorted by that time; the first record out of order ends this for the stream). A window far
/// busier than expected thus still checkpoints every page instead of only at its end.
async fn read_pages(
    ctx: &StreamCtx,
    span: Span,
    rules: WindowRules,
    long_term: bool,
    dedupe: &mut Dedupe,
    progress: Option<Progress<'_>>,
) -> std::result::Result<PageStats, Failed> {
    // Ask for a little more than the span: the API's from/to inclusivity differs by endpoint
    // and requests carry whole seconds; the half-open filter then keeps each record once.
    let from = floor_second(span.start) - TimeDelta::seconds(1);
    let to = ceil_second(span.end) + TimeDelta::seconds(1);
    let mut params = (ctx.def.params)(&ctx.config);
    params.push(("from", format_api(from)));
    params.push(("to", format_api(to)));
    if long_term {
        params.push(("long-term-search", "true".into()));
    }
    let url = ctx.endpoint.url(&params);
    let filter = if rules.filter_by_cursor { Filter::within(vec![span]) } else { Filter::everything() };
    let progress = progress.filter(|_| rules.filter_by_cursor);
    let mut so_far = PageStats::default();
    let mut reported = None;
    follow(ctx, url, Origin::Built, &filter, dedupe, |page, next| {
        let Some(Progress { learned, seq }) = progress else { return Ok(()) };
        so_far.add(*page);
        if !so_far.in_order {
            if !learned.out_of_order.swap(true, Ordering::Relaxed) {
                ctx.out.log(
                    LogLevel::Info,
                    format!(
                        "{}: records of a window came out of time order, so its STATEs wait for whole windows.",
                        ctx.def.name
                    ),
                );
            }
            return Ok(());
        }
        match (next, so_far.newest) {
            // Records at exactly that time may continue on the next page: covered up to it.
            (Some(_), Some(newest))
                if !learned.out_of_order.load(Ordering::Relaxed) && newest > span.start && reported < Some(newest) =>
            {
                reported = Some(newest);
                let delta = Delta::Covered(Span::new(span.start, newest.min(span.end)));
                ctx.out.send(Event::Progress { stream: ctx.index, seq, delta })
            }
            _ => Ok(()),
        }
    })
    .await
}
