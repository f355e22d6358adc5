//! /billing/whatsapp/billed-conversations: one billing month's WhatsApp conversations, by
//! `startDatetime`, `nextPage` URL paging, 2500 per page.

use chrono::{Datelike, Months, NaiveDate};

use super::paging::{page_size, PageRequest};
use super::query::Q;
use super::response::{bad_param, Out};
use super::{Ctx, Shared};
use crate::config::Stream;
use crate::gen::SessOpts;
use crate::store::Filter;
use crate::time::{from_ms, now_ms, parse_param_ts};

/// The first day of a billing month.
fn month_of(q: &Q, now: i64) -> Result<NaiveDate, Out> {
    let bad = || bad_param("billingPeriod", "'billingPeriod' must be a month, e.g. 2023-12.");
    let day = match q.nonempty("billingPeriod") {
        None => from_ms(now).date_naive(),
        // The spec types it as date-time and gives `2023-12` as its example: take either.
        Some(p) => match parse_param_ts(&p) {
            Some(t) => t.date_naive(),
            None => NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").map_err(|_| bad())?,
        },
    };
    day.with_day(1).ok_or_else(bad)
}

impl Shared {
    /// Conversations started in `billingPeriod` (`yyyy-MM`, default: the current month), of
    /// `businessId` if given: `month start <= startDatetime < next month start`.
    pub(crate) fn billed_conversations(&self, q: &Q, cx: &Ctx) -> Out {
        self.try_billed_conversations(q, cx).unwrap_or_else(|e| e)
    }

    fn try_billed_conversations(&self, q: &Q, cx: &Ctx) -> Result<Out, Out> {
        let s = Stream::BilledConversations;
        let tok = self.page_token(q, "page-token")?;
        let now = tok.as_ref().map(|t| t.epoch).unwrap_or_else(now_ms);
        let month = month_of(q, now)?;
        let next = month.checked_add_months(Months::new(1)).unwrap_or(month);
        let start_of = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(0);
        let req = PageRequest {
            stream: s,
            query: q,
            token: tok,
            now,
            lo: start_of(month),
            hi: start_of(next),
            limit: page_size(s),
            filter: Filter { business: q.nonempty("businessId"), ..Filter::default() },
            include_open: false,
            sess: SessOpts::EXPECTED,
            effective: vec![("billingPeriod", month.format("%Y-%m").to_string())],
        };
        Ok(self.paged(req, cx))
    }
}
