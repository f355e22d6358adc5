//! Reading one stream: windows, pages, records, checkpoints.
//!
//! One engine serves all nine streams; the stream table decides which of the three shapes
//! applies (date windows, tickets' `daysBeforeNow` list, or a plain list).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Url;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::emitter::{Event, Events};
use super::plan::{lower_bound, plan, PlanInput, WindowSizer, INGESTION_LAG, RECENT_MARGIN};
use super::sink::{Deduper, NeighbourKeys, PageStats, RecordSink, Span, Spill};
use crate::buffers::ChunkPool;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{ApiClient, Page};
use crate::protocol::{now_millis, LogLevel, RecordEncoder, RecordSuffix};
use crate::streams::codec::PageMeta;
use crate::streams::{Pagination, ReadMode, StreamDef, WindowRules};
use crate::time::{ceil_second, floor_second, format_api, format_cursor};

/// Pages in a row that bring nothing new before pagination is declared stuck.
const MAX_STALE_PAGES: u32 = 3;
/// How many recent page addresses are remembered to detect a `nextPage` loop.
const PAGE_MEMORY: usize = 16;
/// Tickets pages overlap by this many items, so a ticket shifted by a deletion between two
/// requests is still seen (repeats are dropped).
const TICKET_OVERLAP: u64 = 10;

/// Everything a stream task needs.
pub struct SyncContext {
    pub config: Config,
    pub client: ApiClient,
    pub events: Events,
    /// Buffers for chunks of encoded records; they return once written.
    pub chunks: Arc<ChunkPool>,
    /// The sync's start; every stream plans against the same instant.
    pub now: DateTime<Utc>,
}

/// How a stream is to be read in this sync.
#[derive(Debug, Clone, Copy)]
pub struct StreamJob {
    pub index: usize,
    pub def: &'static StreamDef,
    /// `Some` for an incremental read resuming from a saved cursor.
    pub cursor: Option<DateTime<Utc>>,
}

/// Reads one stream to the end and returns its final `stream_state`.
pub async fn read_stream(ctx: Arc<SyncContext>, job: StreamJob) -> Result<Value> {
    match job.def.mode {
        ReadMode::Windowed(rules) => read_windowed(ctx, job, rules).await,
        ReadMode::DaysBeforeNow => read_tickets(ctx, job).await,
        ReadMode::Everything => {
            let url = ctx.client.endpoint_url(job.def, &(job.def.params)(&ctx.config));
            let encoder = RecordEncoder::new(job.def.name);
            let stats = read_pages(&ctx, job, url, None, Deduper::adjacent(), &encoder).await?;
            log_oddities(&ctx, job.def, &stats);
            Ok(json!({}))
        }
    }
}

fn lookback(ctx: &SyncContext, def: &StreamDef) -> TimeDelta {
    if def.uses_lookback {
        TimeDelta::days(i64::from(ctx.config.lookback_window_days))
    } else {
        TimeDelta::zero()
    }
}

fn cursor_state(def: &StreamDef, cursor: DateTime<Utc>) -> Value {
    json!({ def.cursor_field.unwrap_or("cursor"): format_cursor(cursor) })
}

/// How many windows of one stream are read at once: enough to keep the endpoint's rate limit
/// busy while pages are in flight, few enough to leave room for the other streams.
fn window_parallelism(def: &StreamDef, max_concurrent: u32) -> usize {
    let per_second = def.rate_limit.requests as f64 / def.rate_limit.per.as_secs_f64();
    (per_second.ceil() as usize).clamp(1, 4).min(max_concurrent as usize)
}

async fn read_windowed(ctx: Arc<SyncContext>, job: StreamJob, rules: WindowRules) -> Result<Value> {
    let def = job.def;
    let settle = rules.listed_when_finished.then(|| TimeDelta::days(i64::from(ctx.config.session_settle_days)));
    let plan = plan(PlanInput {
        now: ctx.now,
        start_date: ctx.config.start_date,
        cursor: job.cursor,
        lookback: lookback(&ctx, def),
        recent_days: rules.recent_days,
        long_term_search: ctx.config.long_term_search,
        settle,
    });
    if let Some(skipped) = plan.skipped {
        ctx.events.log(
            LogLevel::Warn,
            format!(
                "{}: skipping {} → {} because long_term_search is off and Botmaker serves only the last {} days of {} without it. Enable long_term_search to backfill that range (Botmaker bills long-term searches).",
                def.name,
                format_api(skipped.start),
                format_api(skipped.end),
                rules.recent_days,
                def.name
            ),
        );
    }
    if let Some(settle) = settle {
        if plan.segments.iter().any(|s| !s.checkpoints) {
            ctx.events.log(
                LogLevel::Info,
                format!(
                    "{}: the last {} days are read but not checkpointed (Botmaker lists them only once finished); the next sync reads them again.",
                    def.name,
                    settle.num_days()
                ),
            );
        }
    }
    let encoder = Arc::new(RecordEncoder::new(def.name));
    let neighbours = Arc::new(NeighbourKeys::default());
    let mut sizer = WindowSizer::new(rules.page_size);
    let parallel = window_parallelism(def, ctx.config.max_concurrent_requests);
    let mut running: JoinSet<Result<(Span, PageStats)>> = JoinSet::new();
    let mut totals = PageStats::default();
    let mut seq = 0u64;
    for (i, segment) in plan.segments.iter().enumerate() {
        let mut start = segment.span.start;
        while start < segment.span.end {
            while running.len() >= parallel {
                let (span, stats) = join_next(&mut running).await?;
                sizer.observe(span, stats.items);
                totals.add(stats);
            }
            let span = sizer.next(start, segment.span.end);
            let checkpoint = (segment.checkpoints && job.cursor.is_none_or(|c| span.end > c)).then_some(span.end);
            let window = Window {
                seq,
                span,
                long_term_allowed: segment.long_term,
                checkpoint,
                filter: rules.filter_by_cursor,
                recent_days: rules.recent_days,
            };
            let dedupe = if rules.filter_by_cursor {
                Deduper::adjacent()
            } else {
                Deduper::Neighbours { shared: neighbours.clone(), seq }
            };
            running.spawn(read_window(ctx.clone(), job, window, encoder.clone(), dedupe));
            seq += 1;
            start = span.end;
            let remaining = (segment.span.end - start)
                + plan.segments[i + 1..].iter().map(|s| s.span.end - s.span.start).sum::<TimeDelta>();
            let ahead = (remaining.num_seconds() as f64 / sizer.len().num_seconds().max(1) as f64).ceil() as u64;
            let _ = ctx.events.send(Event::Windows { stream: job.index, expected: seq + ahead });
        }
    }
    while !running.is_empty() {
        let (span, stats) = join_next(&mut running).await?;
        sizer.observe(span, stats.items);
        totals.add(stats);
    }
    log_oddities(&ctx, def, &totals);
    Ok(cursor_state(def, plan.final_cursor))
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
            running.abort_all();
            Err(Error::system(format!("A window task stopped unexpectedly: {join_error}")))
        }
        None => Err(Error::system("No window task was running.")),
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    seq: u64,
    span: Span,
    long_term_allowed: bool,
    checkpoint: Option<DateTime<Utc>>,
    filter: bool,
    recent_days: i64,
}

async fn read_window(
    ctx: Arc<SyncContext>,
    job: StreamJob,
    window: Window,
    encoder: Arc<RecordEncoder>,
    dedupe: Deduper,
) -> Result<(Span, PageStats)> {
    let def = job.def;
    // Ask for a little more than the window: the API's from/to inclusivity differs by endpoint
    // and requests carry whole seconds; the half-open filter then keeps each record exactly once.
    let from = floor_second(window.span.start) - TimeDelta::seconds(1);
    let to = ceil_second(window.span.end) + TimeDelta::seconds(1);
    let mut params = (def.params)(&ctx.config);
    params.push(("from", format_api(from)));
    params.push(("to", format_api(to)));
    // Decided now rather than when planned: a window planned as recent may have aged out of
    // the recent window by the time its turn comes in a long sync.
    let recent_limit = chrono::Utc::now() - TimeDelta::days(window.recent_days) + RECENT_MARGIN / 60;
    if ctx.config.long_term_search && (window.long_term_allowed || from < recent_limit) {
        params.push(("long-term-search", "true".into()));
    } else if from < chrono::Utc::now() - TimeDelta::days(window.recent_days) {
        // Only possible when a sync without long-term search runs for hours before reaching
        // this window: say so rather than let Botmaker silently shorten it.
        ctx.events.log(
            LogLevel::Warn,
            format!(
                "{}: the window starting {} has aged out of Botmaker's {}-day recent window while the sync ran; records at its start may be missing. Enable long_term_search to read it fully.",
                def.name,
                format_api(window.span.start),
                window.recent_days
            ),
        );
    }
    let url = ctx.client.endpoint_url(def, &params);
    let filter = window.filter.then_some(window.span);
    let neighbours = match &dedupe {
        Deduper::Neighbours { shared, .. } => Some(shared.clone()),
        _ => None,
    };
    let stats = read_pages(&ctx, job, url, filter, dedupe, &encoder).await?;
    if let Some(shared) = neighbours {
        shared.window_done(window.seq);
    }
    ctx.events.send(Event::WindowDone { stream: job.index, seq: window.seq, checkpoint: window.checkpoint })?;
    Ok((window.span, stats))
}

/// Follows one list from its first page to its last, writing records as pages arrive.
async fn read_pages(
    ctx: &SyncContext,
    job: StreamJob,
    first: Url,
    filter: Option<Span>,
    mut dedupe: Deduper,
    encoder: &RecordEncoder,
) -> Result<PageStats> {
    let def = job.def;
    let mut url = first.clone();
    let mut page = Page::First;
    let mut seen: VecDeque<String> = VecDeque::with_capacity(PAGE_MEMORY);
    let mut stale_pages = 0;
    let mut totals = PageStats::default();
    loop {
        let (meta, stats) = fetch_records(ctx, job, &url, page, filter, &mut dedupe, encoder).await?;
        let next_page = meta.next_page;
        totals.add(stats);
        stale_pages = if stats.items > 0 && stats.items == stats.duplicates { stale_pages + 1 } else { 0 };
        if stale_pages >= MAX_STALE_PAGES {
            return Err(stuck(def, "kept returning records it had already returned"));
        }
        let Some(next) = next_page else { return Ok(totals) };
        if stats.items == 0 {
            // An empty page that still points further: take it as the end rather than risk
            // paging through nothing forever.
            return Ok(totals);
        }
        url = next_url(ctx, def, &first, &next)?;
        page = Page::Next;
        if seen.contains(&url.as_str().to_string()) || url == first {
            return Err(stuck(def, "pointed nextPage back at a page it had already returned"));
        }
        if seen.len() == PAGE_MEMORY {
            seen.pop_front();
        }
        seen.push_back(url.as_str().to_string());
    }
}

fn stuck(def: &StreamDef, what: &str) -> Error {
    Error::system(format!(
        "Botmaker's pagination for stream '{}' {what}, so the connector stopped instead of reading forever. Retry the sync later; if it persists, report it to Botmaker support.",
        def.name
    ))
}

/// The address of the next page, per the endpoint's pagination style.
fn next_url(ctx: &SyncContext, def: &StreamDef, first: &Url, next: &str) -> Result<Url> {
    let as_url = Url::parse(next).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
    match (def.pagination, as_url) {
        (_, Some(url)) => {
            ctx.client.check_same_origin(def, &url)?;
            Ok(url)
        }
        (Pagination::NextPageToken(param), None) => {
            let mut url = first.clone();
            url.query_pairs_mut().append_pair(param, next);
            Ok(url)
        }
        (_, None) => Err(Error::system(format!(
            "Botmaker returned a nextPage for stream '{}' that is not a URL ({:?}), so the next page cannot be requested. Retry the sync later; if it persists, report it to Botmaker support.",
            def.name,
            next.chars().take(80).collect::<String>()
        ))),
    }
}

/// Encoded records go to the output thread in chunks of about this many bytes while a page
/// is parsed, rather than a whole page (near a megabyte for messages) at once.
const CHUNK: usize = 64 * 1024;
/// A chunk's buffer: room for the record that crosses the 64 KiB threshold without reallocating.
pub const CHUNK_CAPACITY: usize = CHUNK + 16 * 1024;
/// Chunks that may exist at once. Each page being parsed (at most
/// [`crate::http::PAGES_IN_MEMORY`]) holds the chunk it fills and, while handing that one on,
/// the next; the rest are queued for stdout. Parsing waits when all are out, so encoded output
/// never holds more than this many chunks' worth of memory.
pub const CHUNKS_IN_MEMORY: usize = 2 * crate::http::PAGES_IN_MEMORY + 2;

/// Fetches one page, encoding its records while it is parsed and handing them to the output
/// thread in chunks. A body that fails to parse half-way is fetched again: what it had
/// encoded has gone out, and the retry emits only the records that did not.
async fn fetch_records(
    ctx: &SyncContext,
    job: StreamJob,
    url: &Url,
    page: Page,
    filter: Option<Span>,
    dedupe: &mut Deduper,
    encoder: &RecordEncoder,
) -> Result<(PageMeta, PageStats)> {
    let def = job.def;
    // Set if the output thread has gone (stdout closed): the page is then not worth finishing.
    let mut output_closed = None;
    let mut send = |buf: &mut Vec<u8>, count: u64| {
        // Swapped: `full` leaves with the records, `buf` carries on with the fresh buffer.
        let mut full = ctx.chunks.take();
        std::mem::swap(&mut *full, buf);
        if let Err(e) = ctx.events.send(Event::Records { stream: job.index, count, bytes: full }) {
            output_closed = Some(e);
        }
    };
    // Keys of records that attempts at this page which failed half-way have emitted.
    let mut emitted = HashSet::new();
    let mut decode = |body: &[u8]| {
        // Taken only once a body is in hand (the decode runs inside one of the client's page
        // slots), so tasks waiting for their turn hold no output buffer.
        let mut chunk = ctx.chunks.take();
        let suffix = RecordSuffix::new(now_millis());
        let sink = RecordSink::new(encoder, &mut chunk, &suffix, filter, dedupe.begin_page());
        let mut sink =
            sink.spill_to(Spill { threshold: CHUNK, send: &mut send }).resume_after(std::mem::take(&mut emitted));
        match def.codec.decode_into(body, &mut sink) {
            Ok(meta) => {
                let (stats, unsent) = sink.finish();
                Ok((meta, stats, unsent, chunk))
            }
            Err(why) => {
                emitted = sink.abandon();
                Err(why)
            }
        }
    };
    let (meta, stats, unsent, chunk) = ctx.client.fetch_page(def, url, page, &mut decode).await?;
    if let Some(e) = output_closed {
        return Err(e);
    }
    if unsent > 0 {
        ctx.events.send(Event::Records { stream: job.index, count: unsent, bytes: chunk })?;
    }
    Ok((meta, stats))
}

fn log_oddities(ctx: &SyncContext, def: &StreamDef, stats: &PageStats) {
    if stats.without_cursor > 0 {
        ctx.events.log(
            LogLevel::Warn,
            format!(
                "{}: {} records had no readable {} and were emitted as the API returned them.",
                def.name,
                stats.without_cursor,
                def.cursor_field.unwrap_or("cursor")
            ),
        );
    }
    if stats.without_key > 0 {
        ctx.events.log(
            LogLevel::Warn,
            format!(
                "{}: {} records had no `{}` (the primary key) and were emitted as the API returned them; destinations deduplicating on `{}` cannot tell them apart.",
                def.name, stats.without_key, def.primary_key, def.primary_key
            ),
        );
    }
    if stats.resumed > 0 {
        ctx.events.log(
            LogLevel::Info,
            format!(
                "{}: {} records had gone out before their page's body broke off; the page was fetched again and they were not emitted twice.",
                def.name, stats.resumed
            ),
        );
    }
    if stats.duplicates > 0 {
        ctx.events.log(
            LogLevel::Info,
            format!(
                "{}: {} records came back twice (from neighbouring windows or a repeated page) and were emitted once.",
                def.name, stats.duplicates
            ),
        );
    }
}

/// Tickets: no date filter in the API, so list what `daysBeforeNow` covers with limit/offset
/// and keep the tickets created in `[cursor - lookback, now - lag)`.
async fn read_tickets(ctx: Arc<SyncContext>, job: StreamJob) -> Result<Value> {
    let def = job.def;
    let Pagination::LimitOffset { limit } = def.pagination else {
        return Err(Error::system("tickets must page by limit/offset"));
    };
    let upper = ctx.now - INGESTION_LAG;
    let lower = lower_bound(job.cursor, lookback(&ctx, def), ctx.config.start_date);
    let final_cursor = job.cursor.map_or(upper, |c| c.max(upper));
    if lower >= upper {
        return Ok(cursor_state(def, final_cursor));
    }
    let days_before_now = ((ctx.now - lower).num_seconds() as f64 / 86_400.0).ceil() as i64 + 1;
    let filter = Some(Span { start: lower, end: upper });
    let encoder = RecordEncoder::new(def.name);
    let mut dedupe = Deduper::adjacent();
    let mut offset: u64 = 0;
    let mut totals = PageStats::default();
    let mut estimated = false;
    loop {
        let mut params = (def.params)(&ctx.config);
        params.push(("limit", limit.to_string()));
        params.push(("offset", offset.to_string()));
        params.push(("daysBeforeNow", days_before_now.max(1).to_string()));
        let url = ctx.client.endpoint_url(def, &params);
        let (meta, stats) = fetch_records(&ctx, job, &url, Page::First, filter, &mut dedupe, &encoder).await?;
        let total = meta.total;
        if let (false, Some(total)) = (estimated, total) {
            ctx.events.send(Event::Estimate { stream: job.index, rows: total })?;
            estimated = true;
        }
        totals.add(stats);
        let len = stats.items;
        if len == 0 || total.is_some_and(|t| offset + len >= t) {
            break;
        }
        offset += if len > TICKET_OVERLAP { len - TICKET_OVERLAP } else { len };
    }
    // Repeats are expected here (pages overlap on purpose), so only missing cursors are worth a line.
    log_oddities(&ctx, def, &PageStats { duplicates: 0, ..totals });
    Ok(cursor_state(def, final_cursor))
}
