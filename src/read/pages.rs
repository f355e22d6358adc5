//! Reading pages: one page fetched, decoded, filtered and handed to the output; a list of pages
//! followed through its next-page links, never endlessly.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use reqwest::Url;

use super::context::StreamCtx;
use super::dedupe::Dedupe;
use super::events::Event;
use crate::error::Error;
use crate::http::{Failed, Origin};
use crate::protocol::input::shorten;
use crate::protocol::writer::EMITTED_AT_KEY;
use crate::protocol::LogLevel;
use crate::streams::codec::RecordNote;
use crate::streams::shape::Report;
use crate::time::Span;

/// Pages in a row that bring only records already seen before the list is declared stuck.
const MAX_STALE_PAGES: u32 = 3;
/// Empty pages in a row that still point further before the list is declared stuck.
const MAX_EMPTY_PAGES: u32 = 30;

/// Which records of a page are kept by time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// Keep records whose cursor lies in one of these spans; `None` keeps everything.
    spans: Option<Vec<Span>>,
}

impl Filter {
    pub(crate) fn everything() -> Filter {
        Filter { spans: None }
    }

    pub(crate) fn within(spans: Vec<Span>) -> Filter {
        Filter { spans: Some(spans) }
    }
}

/// What happened to a page's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageStats {
    pub(crate) items: u64,
    pub(crate) emitted: u64,
    /// Records whose cursor lies outside the span read (requests are wider on purpose).
    pub(crate) outside: u64,
    /// Records already emitted (a repeated page, a neighbouring window).
    pub(crate) duplicates: u64,
    /// Records emitted without a readable cursor value.
    pub(crate) without_cursor: u64,
    /// Records emitted without their primary key (they cannot be deduplicated).
    pub(crate) without_key: u64,
    /// The earliest cursor among the records emitted.
    pub(crate) oldest: Option<chrono::DateTime<chrono::Utc>>,
    /// The latest cursor among the records emitted.
    pub(crate) newest: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the records emitted came in time order (those with a cursor).
    pub(crate) in_order: bool,
}

impl Default for PageStats {
    /// No records yet: in order, nothing counted.
    fn default() -> Self {
        PageStats {
            items: 0,
            emitted: 0,
            outside: 0,
            duplicates: 0,
            without_cursor: 0,
            without_key: 0,
            oldest: None,
            newest: None,
            in_order: true,
        }
    }
}

impl PageStats {
    pub(crate) fn add(&mut self, other: PageStats) {
        self.in_order =
            self.in_order && other.in_order && !matches!((self.newest, other.oldest), (Some(a), Some(b)) if b < a);
        self.oldest = match (self.oldest, other.oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.newest = self.newest.max(other.newest);
        self.items += other.items;
        self.emitted += other.emitted;
        self.outside += other.outside;
        self.duplicates += other.duplicates;
        self.without_cursor += other.without_cursor;
        self.without_key += other.without_key;
    }
}

/// One page's outcome.
pub(crate) struct PageRead {
    pub(crate) stats: PageStats,
    pub(crate) next_page: Option<String>,
    pub(crate) total: Option<u64>,
}

/// Fetches one page and hands the records `filter` and `dedupe` keep to the output. The page
/// is atomic: nothing of it goes out unless its whole body parsed.
pub(crate) async fn read_page(
    ctx: &StreamCtx,
    url: &Url,
    origin: Origin,
    filter: &Filter,
    dedupe: &mut Dedupe,
) -> Result<PageRead, Failed> {
    let codec = &ctx.codec;
    let (mut page, permit) = ctx.endpoint.fetch(url, origin, &mut |body| codec.decode(body)).await?;
    let mut stats = PageStats { items: page.records.len() as u64, ..PageStats::default() };
    // The same records as the page before (an API ignoring `offset`, a page served twice):
    // all repeats, those without a key or outside the span included.
    let signature = signature(&page.lines, &page.records);
    let repeated = dedupe.repeats_previous(signature);
    page.retain(|note| {
        if repeated {
            stats.duplicates += 1;
            return false;
        }
        if let Some(spans) = &filter.spans {
            match note.cursor {
                Some(t) if !spans.iter().any(|s| s.contains(t)) => {
                    stats.outside += 1;
                    return false;
                }
                Some(_) => {}
                // The API placed it here; without a time of its own, dropping it would lose it.
                None => stats.without_cursor += 1,
            }
        }
        match note.key {
            Some(key) if !dedupe.is_new(key) => {
                stats.duplicates += 1;
                false
            }
            Some(_) => true,
            None => {
                stats.without_key += 1;
                true
            }
        }
    });
    dedupe.page_done(signature);
    stats.emitted = page.records.len() as u64;
    let cursors: Vec<_> = page.records.iter().filter_map(|n| n.cursor).collect();
    stats.oldest = cursors.iter().min().copied();
    stats.newest = cursors.iter().max().copied();
    stats.in_order = cursors.windows(2).all(|w| w[0] <= w[1]);
    ctx.add_report(std::mem::take(&mut page.report));
    let (next_page, total) = (page.next_page.take(), page.total);
    ctx.out.send(Event::Page { stream: ctx.index, records: stats.emitted, lines: page.lines, permit: Some(permit) })?;
    Ok(PageRead { stats, next_page, total })
}

/// Follows a list of pages from `first` to its end. `on_page` runs after each page has been
/// handed to the output, with the next page's link (`None` after the last).
pub(crate) async fn follow(
    ctx: &StreamCtx,
    first: Url,
    origin: Origin,
    filter: &Filter,
    dedupe: &mut Dedupe,
    mut on_page: impl FnMut(&PageStats, Option<&str>) -> Result<(), Error>,
) -> Result<PageStats, Failed> {
    let mut url = first.clone();
    let mut origin = origin;
    let mut seen: HashSet<u64> = HashSet::from([link_hash(url.as_str())]);
    let (mut stale, mut empty) = (0, 0);
    let mut totals = PageStats::default();
    loop {
        let page = read_page(ctx, &url, origin, filter, dedupe).await?;
        let stats = page.stats;
        totals.add(stats);
        on_page(&stats, page.next_page.as_deref())?;
        let Some(next) = page.next_page else { return Ok(totals) };
        stale = if stats.items > 0 && stats.items == stats.duplicates { stale + 1 } else { 0 };
        if stale >= MAX_STALE_PAGES {
            return Err(stuck(ctx, "kept returning records it had already returned").into());
        }
        empty = if stats.items == 0 { empty + 1 } else { 0 };
        if empty > MAX_EMPTY_PAGES {
            return Err(stuck(
                ctx,
                &format!("returned more than {MAX_EMPTY_PAGES} empty pages in a row that still pointed further"),
            )
            .into());
        }
        url = next_url(ctx, &first, &next)?;
        origin = Origin::Link;
        if !seen.insert(link_hash(url.as_str())) {
            return Err(stuck(ctx, "pointed the next page back at a page it had already returned").into());
        }
    }
}

/// `next` as an http(s) link, if it is one.
pub(crate) fn as_link(next: &str) -> Option<Url> {
    Url::parse(next).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// A fingerprint of a page's records, in any order, `None` for an empty page: a record's key
/// and cursor, or for a record without a key its whole RECORD line (records without keys often
/// have no cursor either, and two pages of them must not look alike). Two pages with the same
/// fingerprint hold the same records.
fn signature(lines: &[u8], records: &[RecordNote]) -> Option<u64> {
    if records.is_empty() {
        return None;
    }
    let mut start = 0;
    let sum = records.iter().fold(0u64, |sum, note| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match note.key {
            Some(key) => (key, note.cursor).hash(&mut h),
            None => without_emitted_at(&lines[start..note.end]).hash(&mut h),
        }
        start = note.end;
        sum.wrapping_add(h.finish())
    });
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (sum, records.len()).hash(&mut h);
    Some(h.finish())
}

/// A RECORD line without its `emitted_at`, which differs from page to page.
fn without_emitted_at(line: &[u8]) -> &[u8] {
    let mark = EMITTED_AT_KEY.as_bytes();
    line.windows(mark.len()).rposition(|w| w == mark).map_or(line, |at| &line[..at])
}

fn link_hash(link: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    link.hash(&mut h);
    h.finish()
}

fn stuck(ctx: &StreamCtx, what: &str) -> Error {
    Error::system(format!(
        "Botmaker's pagination for stream '{}' {what}, so the connector stopped instead of reading forever. Retry the sync later; if it persists, report it to Botmaker support.",
        ctx.def.name
    ))
}

/// The address of the next page: a link is followed as-is (on api_url's host only); anything
/// else is a token sent back in the endpoint's token parameter, where it has one, replacing
/// any token `first` already carries.
pub(crate) fn next_url(ctx: &StreamCtx, first: &Url, next: &str) -> Result<Url, Error> {
    match (as_link(next), ctx.token_param()) {
        (Some(url), _) => {
            ctx.endpoint.check_link(&url)?;
            Ok(url)
        }
        (None, Some(param)) => {
            let kept: Vec<(String, String)> =
                first.query_pairs().filter(|(k, _)| k != param).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            let mut url = first.clone();
            url.query_pairs_mut().clear().extend_pairs(kept).append_pair(param, next);
            Ok(url)
        }
        (None, None) => Err(Error::system(format!(
            "Botmaker returned a nextPage for stream '{}' that is not a URL ({:?}), so the next page cannot be requested. Retry the sync later; if it persists, report it to Botmaker support.",
            ctx.def.name,
            shorten(next)
        ))),
    }
}

/// Logs what is worth knowing about a stream's records once it is done.
pub(crate) fn log_summary(ctx: &StreamCtx, stats: &PageStats, repeats_expected: bool) {
    let def = ctx.def;
    if stats.without_cursor > 0 {
        ctx.out.log(
            LogLevel::Warn,
            format!(
                "{}: {} records had no readable {} and were emitted as the API returned them.",
                def.name,
                stats.without_cursor,
                def.cursor_field().unwrap_or("cursor")
            ),
        );
    }
    if stats.without_key > 0 {
        let key = def.primary_key.join("`, `");
        ctx.out.log(
            LogLevel::Warn,
            format!(
                "{}: {} records had no `{key}` (the primary key) and were emitted as the API returned them; destinations deduplicating on it cannot tell them apart.",
                def.name, stats.without_key
            ),
        );
    }
    if stats.duplicates > 0 && !repeats_expected {
        ctx.out.log(
            LogLevel::Info,
            format!(
                "{}: {} records came back twice (from neighbouring windows or a repeated page) and were emitted once.",
                def.name, stats.duplicates
            ),
        );
    }
    let report = ctx.take_report();
    log_report(ctx, &report);
}

fn log_report(ctx: &StreamCtx, report: &Report) {
    for (warn, line) in report.lines(ctx.def.name) {
        ctx.out.log(if warn { LogLevel::Warn } else { LogLevel::Info }, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc)
    }

    fn page(oldest: &str, newest: &str, in_order: bool) -> PageStats {
        PageStats { oldest: Some(t(oldest)), newest: Some(t(newest)), in_order, ..PageStats::default() }
    }

    #[test]
    fn time_order_holds_only_while_every_page_follows_the_one_before() {
        let mut so_far = PageStats::default();
        assert!(so_far.in_order, "nothing read is in order");
        so_far.add(page("2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", true));
        so_far.add(PageStats::default());
        so_far.add(page("2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z", true));
        assert!(so_far.in_order, "a page may start at the time the one before ended");
        assert_eq!(so_far.newest, Some(t("2024-01-01T02:00:00Z")));
        let mut back = so_far;
        back.add(page("2024-01-01T01:30:00Z", "2024-01-01T03:00:00Z", true));
        assert!(!back.in_order, "a page reaching back before the last record");
        let mut inside = so_far;
        inside.add(page("2024-01-01T03:00:00Z", "2024-01-01T04:00:00Z", false));
        assert!(!inside.in_order, "a page out of order inside");
    }

    use chrono::{TimeZone, Utc};

    /// A page of records given as (key, minute of the cursor, record data), emitted at `at`.
    fn page_of(records: &[(Option<u128>, u32, &str)], at: u64) -> (Vec<u8>, Vec<RecordNote>) {
        let (mut lines, mut notes) = (Vec::new(), Vec::new());
        for &(key, minute, data) in records {
            let line = format!("{{\"type\":\"RECORD\",\"record\":{{\"data\":{data},\"emitted_at\":{at}}}}}\n");
            lines.extend_from_slice(line.as_bytes());
            let cursor = Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, minute, 0).unwrap());
            notes.push(RecordNote { end: lines.len(), key, cursor });
        }
        (lines, notes)
    }

    fn signature_of(records: &[(Option<u128>, u32, &str)], at: u64) -> Option<u64> {
        let (lines, notes) = page_of(records, at);
        signature(&lines, &notes)
    }

    #[test]
    fn signatures_match_the_same_records_in_any_order_keys_or_not() {
        let page = [(Some(1), 1, "{}"), (None, 2, r#"{"a":1}"#), (None, 3, r#"{"a":2}"#)];
        let shuffled = [page[2], page[0], page[1]];
        assert_eq!(signature_of(&page, 1), signature_of(&shuffled, 2), "order and emitted_at do not matter");
        assert_ne!(signature_of(&page, 1), signature_of(&[page[0], page[1], (None, 4, r#"{"a":3}"#)], 1));
        assert_ne!(signature_of(&page, 1), signature_of(&page[..2], 1));
        assert_ne!(signature_of(&[page[1], page[1]], 1), signature_of(&[page[1]], 1));
        assert_eq!(signature_of(&[], 1), None);
    }

    #[test]
    fn pages_of_different_records_without_keys_or_cursors_differ() {
        // A list stream whose records came without ids: same count, no cursor, other records.
        let first = [(None, 0, r#"{"name":"a"}"#), (None, 0, r#"{"name":"b"}"#)];
        let second = [(None, 0, r#"{"name":"c"}"#), (None, 0, r#"{"name":"d"}"#)];
        assert_ne!(signature_of(&first, 1), signature_of(&second, 1));
        assert_eq!(signature_of(&first, 1), signature_of(&first, 9), "the same page served again");
    }
}
