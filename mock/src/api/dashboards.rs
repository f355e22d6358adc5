//! /dashboards/agent-metrics and /dashboards/agent-performance: time windows (the last hour by
//! default, at most a month), `nextPage` URL paging, 5000 records per page.

use super::paging::{page_size, PageRequest};
use super::query::Q;
use super::response::{bad_param, Out};
use super::windowed::{at_most_a_month, from_after_to, requested_window};
use super::{Ctx, Shared};
use crate::config::Stream;
use crate::gen::SessOpts;
use crate::store::Filter;
use crate::time::{fmt_ts, now_ms, HOUR};

impl Shared {
    /// Metrics per agent and closed conversation, by `sessionCreationTime`:
    /// `from <= t < to`. `session-status` (`open`|`closed`) is required; the mock's dashboards
    /// hold closed conversations only, so `open` lists nothing.
    pub(crate) fn agent_metrics(&self, q: &Q, cx: &Ctx) -> Out {
        self.try_agent_metrics(q, cx).unwrap_or_else(|e| e)
    }

    fn try_agent_metrics(&self, q: &Q, cx: &Ctx) -> Result<Out, Out> {
        let status = match q.get("session-status") {
            None | Some("") => {
                return Err(bad_param("session-status", "'session-status' is required: 'open' or 'closed'."))
            }
            Some(v) if v.eq_ignore_ascii_case("open") || v.eq_ignore_ascii_case("closed") => v.to_ascii_lowercase(),
            Some(_) => return Err(bad_param("session-status", "'session-status' must be 'open' or 'closed'.")),
        };
        let online = match q.get("online-status").map(str::to_ascii_lowercase).as_deref() {
            None | Some("all") => None,
            Some("online") => Some(true),
            Some("offline") => Some(false),
            Some(_) => return Err(bad_param("online-status", "'online-status' must be 'online', 'offline' or 'all'.")),
        };
        let filter = Filter {
            agent_ids: q.list("agent-ids"),
            queues: q.list("queues"),
            channels: q.list("channel-ids"),
            online,
            ..Filter::default()
        };
        let mut req = self.dashboard_window(Stream::AgentMetrics, q, filter)?;
        if status == "open" {
            req.hi = req.lo;
        }
        Ok(self.paged(req, cx))
    }

    /// Agents' check-ins, by `checkin`: `from <= t < to`. `operatorsIds` and `queues` filter;
    /// `groups`, `rolesIds` and `includeSubgroups` are accepted and do not narrow the list.
    pub(crate) fn agent_performance(&self, q: &Q, cx: &Ctx) -> Out {
        let filter = Filter { agent_ids: q.list("operatorsIds"), queues: q.list("queues"), ..Filter::default() };
        match self.dashboard_window(Stream::AgentPerformance, q, filter) {
            Ok(req) => self.paged(req, cx),
            Err(e) => e,
        }
    }

    /// The page request of a dashboards window: `from` defaults to an hour before `to`, `to`
    /// to now and requires `from`.
    fn dashboard_window<'q>(&self, s: Stream, q: &'q Q<'q>, filter: Filter) -> Result<PageRequest<'q>, Out> {
        let tok = self.page_token(q, "page-token")?;
        let now = tok.as_ref().map(|t| t.epoch).unwrap_or_else(now_ms);
        let requested = requested_window(q)?;
        if requested.to.is_some() && requested.from.is_none() {
            return Err(bad_param("from", "'to' requires 'from'."));
        }
        let to = requested.to.unwrap_or(now);
        let from = requested.from.unwrap_or(to - HOUR);
        if from > to {
            return Err(from_after_to());
        }
        at_most_a_month(from, to)?;
        Ok(PageRequest {
            stream: s,
            query: q,
            token: tok,
            now,
            lo: from,
            hi: to,
            limit: page_size(s),
            filter,
            include_open: false,
            sess: SessOpts::EXPECTED,
            effective: vec![("from", fmt_ts(from, true)), ("to", fmt_ts(to, true))],
        })
    }
}
