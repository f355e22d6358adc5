//! /notifications/sent-results: sendings of notifications and their counters, newest first,
//! either all those of one notification or those started in a window at most three months back.
//! (/notifications/campaigns and /notifications/contacts-blacklist are plain paged lists.)

use chrono::Months;

use super::paging::{page_size, PageRequest};
use super::query::Q;
use super::response::{bad_param, err, Out};
use super::windowed::{from_after_to, requested_window};
use super::{Ctx, Shared};
use crate::config::Stream;
use crate::gen::SessOpts;
use crate::store::{Filter, Store};
use crate::time::{fmt_ts, from_ms, now_ms, to_ms, DAY};

impl Shared {
    /// With `notification-name`: every sending of it (dates ignored; 404 when there is none).
    /// Otherwise `from` (required, at most three months back) and `to` (default: a day ago)
    /// select by `start`: `from <= t <= to`.
    pub(crate) fn sent_results(&self, q: &Q, cx: &Ctx) -> Out {
        self.try_sent_results(q, cx).unwrap_or_else(|e| e)
    }

    fn try_sent_results(&self, q: &Q, cx: &Ctx) -> Result<Out, Out> {
        let s = Stream::NotificationResults;
        let tok = self.page_token(q, "page-token")?;
        let first_page = tok.is_none();
        let now = tok.as_ref().map(|t| t.epoch).unwrap_or_else(now_ms);
        let name = q.nonempty("notification-name");
        let (lo, hi, effective) = match &name {
            Some(_) => (i64::MIN, i64::MAX, vec![]),
            None => {
                let (from, to) = sent_results_window(q, now)?;
                let (lo, hi) = Store::key_range(s, from, to.saturating_add(1));
                (lo, hi, vec![("from", fmt_ts(from, true)), ("to", fmt_ts(to, true))])
            }
        };
        let req = PageRequest {
            stream: s,
            query: q,
            token: tok,
            now,
            lo,
            hi,
            limit: page_size(s),
            filter: Filter { notification_name: name.clone(), ..Filter::default() },
            include_open: false,
            sess: SessOpts::EXPECTED,
            effective,
        };
        let out = self.paged(req, cx);
        if first_page && name.is_some() && out.status == 200 && out.items == 0 {
            return Err(err(404, "NOT_FOUND", "notification-name", "Notification not found."));
        }
        Ok(out)
    }
}

/// `from` (required, not before three months ago) and `to` (default: a day ago).
fn sent_results_window(q: &Q, now: i64) -> Result<(i64, i64), Out> {
    let requested = requested_window(q)?;
    let Some(from) = requested.from else {
        return Err(bad_param("from", "'from' is required when 'notification-name' is not provided."));
    };
    let oldest = from_ms(now).checked_sub_months(Months::new(3)).map(to_ms).unwrap_or(i64::MIN);
    if from < oldest {
        return Err(err(400, "INVALID_DATETIME_INTERVAL", "from", "'from' cannot be more than 3 months back."));
    }
    let to = requested.to.unwrap_or(now - DAY);
    if from > to {
        return Err(from_after_to());
    }
    Ok((from, to))
}
