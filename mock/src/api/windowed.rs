//! /chats, /messages, /sessions, /calls: time windows with per-endpoint defaults, inclusivity
//! and recent-window rules, filters, and `nextPage` URL paging.

use chrono::Months;

use super::endpoints::CHAT_PLATFORMS;
use super::paging::{page_size, PageRequest};
use super::query::Q;
use super::response::{bad_param, err, Out};
use super::{Ctx, Shared};
use crate::config::Stream;
use crate::gen::SessOpts;
use crate::store::Filter;
use crate::time::{fmt_ts, now_ms, parse_param_ts, to_ms, TsMode, DAY, HOUR};

/// The `from`/`to` a request asked for, before defaults.
pub(super) struct Requested {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// What decides a window's defaults and its recent-window rules.
struct WindowRules {
    lts: bool,
    /// Without long-term search, only a recent window is served (unless the endpoint is one of
    /// [`crate::Variants::no_recent_window`]).
    recent_window: bool,
    include_open: bool,
    chat_scoped: bool,
}

impl Shared {
    /// chats, messages, sessions, calls: time windows, recent-window rules, URL paging.
    pub(crate) fn windowed(&self, s: Stream, q: &Q, cx: &Ctx) -> Out {
        self.try_windowed(s, q, cx).unwrap_or_else(|e| e)
    }

    fn try_windowed(&self, s: Stream, q: &Q, cx: &Ctx) -> Result<Out, Out> {
        let lts = q.flag("long-term-search");
        if !lts && cx.variants.lts_required.contains(&s) {
            return Err(err(
                400,
                "LONG_TERM_SEARCH_PARAM_REQUIRED",
                "long-term-search",
                &format!(
                    "LONG_TERM_SEARCH_PARAM_REQUIRED: /{} requires long-term-search=true on every request \
                     (you must state you are aware of the BI data source costs)",
                    s.name()
                ),
            ));
        }
        let tok = self.page_token(q, "page-token")?;
        let now = tok.as_ref().map(|t| t.epoch).unwrap_or_else(now_ms);
        let requested = requested_window(q)?;
        let (filter, chat_scoped) = self.windowed_filter(s, q)?;
        let limit = windowed_limit(s, q)?;
        let sess = session_options(s, q)?;
        let rules = WindowRules {
            lts,
            recent_window: !cx.variants.no_recent_window.contains(&s),
            include_open: q.flag("include-open-sessions"),
            chat_scoped,
        };
        let (from, to) = window_bounds(s, &requested, &rules, now)?;
        let (lo, hi) = listed_range(s, from, to, &rules, now);
        let req = PageRequest {
            stream: s,
            query: q,
            token: tok,
            now,
            lo,
            hi,
            limit,
            filter,
            include_open: rules.include_open,
            sess,
            effective: vec![("from", fmt_ts(from, true)), ("to", fmt_ts(to, true))],
        };
        Ok(self.paged(req, cx))
    }

    /// The filters of a windowed endpoint, and whether they scope the request to one chat.
    fn windowed_filter(&self, s: Stream, q: &Q) -> Result<(Filter, bool), Out> {
        if s == Stream::Chats {
            return self.chats_filter(q).map(|f| (f, false));
        }
        let mut filter = Filter { chat_id: q.nonempty("chat-id"), ..Filter::default() };
        if filter.chat_id.is_none() {
            filter.channel_id = q.nonempty("channel-id");
            filter.contact_id = q.nonempty("contact-id");
            if filter.channel_id.is_some() != filter.contact_id.is_some() {
                return Err(bad_param(
                    if filter.channel_id.is_some() { "contact-id" } else { "channel-id" },
                    "'channel-id' and 'contact-id' must be sent together.",
                ));
            }
        }
        if s == Stream::Messages {
            if let Some(p) = q.nonempty("chat-platform") {
                if !CHAT_PLATFORMS.contains(&p.as_str()) {
                    return Err(bad_param("chat-platform", "Invalid chat platform."));
                }
                filter.platform = Some(p);
            }
        }
        let chat_scoped = filter.chat_id.is_some() || filter.contact_id.is_some();
        Ok((filter, chat_scoped))
    }

    fn chats_filter(&self, q: &Q) -> Result<Filter, Out> {
        let filter = Filter {
            channel_id: q.nonempty("channel-id"),
            contact_id: q.nonempty("contact-id"),
            name: q.nonempty("name"),
            emails: q
                .get("emails")
                .map(|e| e.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
                .unwrap_or_default(),
            never_talked: q.flag("only-users-never-talked"),
            ..Filter::default()
        };
        if let Some(c) = &filter.channel_id {
            if !self.known_channel(c) {
                return Err(bad_param("channel-id", "Invalid channel id."));
            }
        }
        if filter.contact_id.is_some() && filter.channel_id.is_none() {
            return Err(bad_param("contact-id", "'channel-id' is required when searching by 'contact-id'."));
        }
        Ok(filter)
    }
}

/// Parses `from` and `to` (each optional): RFC 3339, else 400 `INVALID_DATETIME_FORMAT`.
pub(super) fn requested_window(q: &Q) -> Result<Requested, Out> {
    let parse = |name: &str| -> Result<Option<i64>, Out> {
        let Some(v) = q.get(name) else {
            return Ok(None);
        };
        match parse_param_ts(v) {
            Some(t) => Ok(Some(to_ms(t))),
            None => Err(err(
                400,
                "INVALID_DATETIME_FORMAT",
                name,
                &format!("Invalid '{name}' datetime {v:?}: expected ISO-8601 / RFC 3339, e.g. 2021-01-01T00:00:00Z"),
            )),
        }
    };
    Ok(Requested { from: parse("from")?, to: parse("to")? })
}

/// Page size: messages take `limit` (250..=1500, default 1000), the others are fixed.
fn windowed_limit(s: Stream, q: &Q) -> Result<usize, Out> {
    if s == Stream::Messages {
        return q.int("limit", 1000, 250, 1500).map(|n| n as usize);
    }
    Ok(page_size(s))
}

/// The `include-*` flags and `timestamp-precision` of /sessions (ignored elsewhere).
fn session_options(s: Stream, q: &Q) -> Result<SessOpts, Out> {
    let mut sess = SessOpts {
        mode: TsMode::Seconds,
        messages: q.flag("include-messages"),
        events: q.flag("include-events"),
        ai: q.flag("include-ai-analysis"),
        variables: q.flag("include-variables"),
    };
    if s == Stream::Sessions {
        sess.mode = match q.get("timestamp-precision") {
            None => TsMode::Seconds,
            Some(p) if p.eq_ignore_ascii_case("seconds") => TsMode::Seconds,
            Some(p) if p.eq_ignore_ascii_case("milliseconds") => TsMode::Millis,
            Some(_) => {
                return Err(bad_param(
                    "timestamp-precision",
                    "'timestamp-precision' must be 'seconds' or 'milliseconds'",
                ))
            }
        };
    }
    Ok(sess)
}

/// The effective `from`/`to`: the spec's defaults (evaluated at the first page's clock), then
/// the interval checks and /messages' long-term-search rule.
fn window_bounds(s: Stream, requested: &Requested, rules: &WindowRules, now: i64) -> Result<(i64, i64), Out> {
    let to_default = match s {
        Stream::Messages if rules.lts => now - HOUR,
        Stream::Sessions if !rules.include_open => now - DAY,
        _ => now,
    };
    let to = requested.to.unwrap_or(to_default);
    let from = requested.from.unwrap_or(match s {
        Stream::Messages if !rules.lts && rules.chat_scoped => now - 90 * DAY,
        Stream::Messages if !rules.lts => now - 3 * DAY,
        _ => to - DAY,
    });
    if from > to {
        return Err(from_after_to());
    }
    if !(s == Stream::Messages && rules.chat_scoped) {
        at_most_a_month(from, to)?;
    }
    if s == Stream::Messages && !rules.lts && rules.recent_window {
        let (days, what) = if rules.chat_scoped { (90, "90 days") } else { (3, "3 days") };
        if from < now - days * DAY {
            return Err(err(
                400,
                "LONG_TERM_SEARCH_PARAM_REQUIRED",
                "long-term-search",
                &format!("Messages older than {what} can only be listed with long-term-search=true"),
            ));
        }
    }
    Ok((from, to))
}

pub(super) fn from_after_to() -> Out {
    err(400, "INVALID_DATETIME_INTERVAL", "from", "'from' must not be after 'to'")
}

/// 400 `INVALID_DATETIME_INTERVAL` when `to` is more than one calendar month after `from`.
pub(super) fn at_most_a_month(from: i64, to: i64) -> Result<(), Out> {
    let too_long =
        crate::time::from_ms(from).checked_add_months(Months::new(1)).map(|lim| to > to_ms(lim)).unwrap_or(true);
    if too_long {
        return Err(err(
            400,
            "INVALID_DATETIME_INTERVAL",
            "from",
            "The difference between 'from' and 'to' cannot be greater than 1 month",
        ));
    }
    Ok(())
}

/// The half-open key range listed for `[from, to]`: each endpoint's own inclusivity (at
/// millisecond precision), and without long-term search the recent window of chats, sessions
/// and calls (older records are silently left out) unless the endpoint has none.
fn listed_range(s: Stream, from: i64, to: i64, rules: &WindowRules, now: i64) -> (i64, i64) {
    let (mut lo, hi) = match s {
        Stream::Chats => (from.saturating_add(1), to),
        Stream::Messages => (from, to.saturating_add(1)),
        Stream::Sessions => (from, to),
        _ => (from.saturating_add(1), to.saturating_add(1)),
    };
    if !rules.lts && rules.recent_window && matches!(s, Stream::Chats | Stream::Sessions | Stream::Calls) {
        lo = lo.max(now - 7 * DAY);
    }
    (lo, hi)
}
