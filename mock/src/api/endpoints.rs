//! Endpoint dispatch and the full-list endpoints: /contacts, /agents, /intents,
//! /notifications/campaigns, /roles, /notifications/contacts-blacklist (paged), /channels (one
//! list) and /tickets (limit/offset).

use super::paging::{envelope, page_size, token_param, PageRequest};
use super::query::Q;
use super::response::{bad_param, Out};
use super::scenarios::wrong_types;
use super::token::Token;
use super::{Ctx, Shared};
use crate::config::{Scenario, Stream};
use crate::gen::{ref_channel_id, SessOpts};
use crate::reshape::Reshape;
use crate::store::{Filter, PageOut, PageSpec, Start};
use crate::time::{now_ms, DAY};
use crate::variants::NextPageKey;

/// Values accepted by `chat-platform` (the spec's ChatPlatformQueryParam, plus instagram).
pub(crate) const CHAT_PLATFORMS: [&str; 16] = [
    "whatsapp",
    "googlechat",
    "messenger",
    "webchat",
    "voice-text",
    "telegram",
    "msteams",
    "workplace",
    "google-business-messages",
    "twitter",
    "webhook",
    "assistant",
    "skyhub",
    "conversational-web",
    "gmail",
    "instagram",
];

impl Shared {
    /// The endpoint handler: a pure read of the store.
    pub(crate) fn endpoint(&self, s: Stream, query: &[(String, String)], cx: &Ctx) -> Out {
        let q = Q(query);
        let mut out = match s {
            Stream::Chats | Stream::Messages | Stream::Sessions | Stream::Calls => self.windowed(s, &q, cx),
            Stream::Contacts
            | Stream::Agents
            | Stream::Intents
            | Stream::Campaigns
            | Stream::Roles
            | Stream::ContactsBlacklist => self.listed(s, &q, cx),
            Stream::Channels => self.channels(&q, cx.scenario),
            Stream::Tickets => self.tickets(&q, cx.scenario),
            Stream::AgentMetrics => self.agent_metrics(&q, cx),
            Stream::AgentPerformance => self.agent_performance(&q, cx),
            Stream::NotificationResults => self.sent_results(&q, cx),
            Stream::BilledConversations => self.billed_conversations(&q, cx),
            Stream::WhatsappTemplates
            | Stream::WhatsappAccounts
            | Stream::Variables
            | Stream::Typifications
            | Stream::Webhooks => self.configuration_list(s, &q, cx),
            Stream::TicketFieldDefinitions => self.field_definitions(cx),
        };
        if out.status != 200 {
            return out;
        }
        if let Some(reshape) = Reshape::for_endpoint(s, cx.variants) {
            out.body = reshape.apply(&out.body);
        }
        if cx.scenario == Some(&Scenario::WrongTypes) {
            out.body = wrong_types(s, &out.body);
        }
        out
    }

    /// The page token in `param`, if any; a token that does not verify is a 400.
    pub(crate) fn page_token(&self, q: &Q, param: &str) -> Result<Option<Token>, Out> {
        match q.get(param) {
            None | Some("") => Ok(None),
            Some(t) => Token::decode(t, self.cfg.seed).map(Some).ok_or_else(|| bad_param(param, "Invalid page token.")),
        }
    }

    pub(crate) fn known_channel(&self, id: &str) -> bool {
        (0..6).any(|k| ref_channel_id(k) == id) || self.store.gen.channels.iter().any(|c| c.id == id)
    }

    /// Contacts, agents, intents, campaigns, roles, blacklisted contacts: full lists in index
    /// order, paged.
    fn listed(&self, s: Stream, q: &Q, cx: &Ctx) -> Out {
        let tok = match self.page_token(q, token_param(s)) {
            Ok(t) => t,
            Err(e) => return e,
        };
        let filter = match listed_filter(s, q) {
            Ok(f) => f,
            Err(e) => return e,
        };
        let req = PageRequest {
            stream: s,
            query: q,
            now: tok.as_ref().map(|t| t.epoch).unwrap_or_else(now_ms),
            token: tok,
            lo: i64::MIN,
            hi: i64::MAX,
            limit: page_size(s),
            filter,
            include_open: false,
            sess: SessOpts::EXPECTED,
            effective: vec![],
        };
        self.paged(req, cx)
    }

    fn channels(&self, q: &Q, scenario: Option<&Scenario>) -> Out {
        let mut filter = Filter::default();
        if let Some(p) = q.nonempty("platform") {
            if !CHAT_PLATFORMS.contains(&p.as_str()) && p != "instagram" {
                return bad_param("platform", "Invalid platform.");
            }
            filter.platform = Some(p);
        }
        filter.active = q.opt_bool("active");
        let page = self.store.page(&PageSpec {
            stream: Stream::Channels,
            lo: i64::MIN,
            hi: i64::MAX,
            start: Start::Begin,
            skip: 0,
            limit: usize::MAX,
            filter: &filter,
            now: now_ms(),
            include_open: false,
            sess: SessOpts::EXPECTED,
        });
        envelope(Stream::Channels, &page, None, scenario == Some(&Scenario::MissingItems), NextPageKey::NextPage)
    }

    fn tickets(&self, q: &Q, scenario: Option<&Scenario>) -> Out {
        let (limit, offset, days) = match tickets_params(q) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let now = now_ms();
        let lo = now.saturating_sub(days.saturating_mul(DAY));
        let total = self.store.count(Stream::Tickets, lo, i64::MAX, now);
        let page = self.newest_first(Stream::Tickets, lo, total, offset, limit, now);
        let mut body = String::with_capacity(page.body.len() + 40);
        body.push_str("{\"total\":");
        body.push_str(&total.to_string());
        if scenario != Some(&Scenario::MissingItems) {
            body.push_str(",\"tickets\":[");
            body.push_str(&page.body);
            body.push(']');
        }
        body.push('}');
        Out::ok(body, page.n())
    }

    /// Positions `[offset, offset + limit)` of the records with key `>= lo`, newest first:
    /// the ascending positions `[total - offset - limit, total - offset)`, reversed.
    fn newest_first(&self, s: Stream, lo: i64, total: u64, offset: u64, limit: usize, now: i64) -> PageOut {
        let mut page = PageOut::default();
        if offset >= total {
            return page;
        }
        let end = total - offset;
        let begin = end.saturating_sub(limit as u64);
        let (start, skip) = self.store.seek(s, lo, i64::MAX, begin);
        let asc = self.store.page(&PageSpec {
            stream: s,
            lo,
            hi: i64::MAX,
            start,
            skip,
            limit: (end - begin) as usize,
            filter: &Filter::default(),
            now,
            include_open: false,
            sess: SessOpts::EXPECTED,
        });
        for &(a, b) in asc.spans.iter().rev() {
            if !page.body.is_empty() {
                page.body.push(',');
            }
            let st = page.body.len();
            page.body.push_str(&asc.body[a..b]);
            page.spans.push((st, page.body.len()));
        }
        page
    }
}

/// The filters /contacts and /agents accept (/intents has none).
fn listed_filter(s: Stream, q: &Q) -> Result<Filter, Out> {
    let mut filter = Filter::default();
    match s {
        Stream::Contacts => {
            filter.channel_id = q.nonempty("channel-id");
            filter.platform = q.nonempty("platform");
            filter.has_bsuid = q.flag("has-whastapp-bsuid");
            if filter.channel_id.is_some() && filter.platform.is_some() {
                return Err(bad_param("platform", "'channel-id' and 'platform' cannot be combined."));
            }
        }
        Stream::Agents => {
            filter.online = q.opt_bool("online");
            filter.emails = q.list("emails");
        }
        _ => {}
    }
    Ok(filter)
}

/// /tickets' `limit` (1..=500, 50), `offset` (>= 0) and `daysBeforeNow` (>= 1, 60).
fn tickets_params(q: &Q) -> Result<(usize, u64, i64), Out> {
    let limit = q.int("limit", 50, 1, 500)? as usize;
    let offset = q.int("offset", 0, 0, i64::MAX)? as u64;
    let days = q.int("daysBeforeNow", 60, 1, i32::MAX as i64)?;
    Ok((limit, offset, days))
}
