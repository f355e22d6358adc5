//! The account's configuration lists, each served whole in one response: /whatsapp/templates
//! and /whatsapp/accounts (`{items}`), /variables (`{variables}`), /typifications
//! (`{typifications}`), /webhooks (`{items}`), and /tickets/field-definitions (one object, as the
//! spec shows, or a list).

use super::paging::envelope;
use super::query::Q;
use super::response::{bad_param, Out};
use super::{Ctx, Shared};
use crate::config::{Scenario, Stream};
use crate::gen::SessOpts;
use crate::store::{Filter, PageOut, PageSpec, Start};
use crate::time::now_ms;

impl Shared {
    /// Templates (`state` APPROVED|REJECTED, `queues`), accounts, variables (`onlyTags`),
    /// typifications (`queue`, `agent-email`: the agent's queues), webhooks.
    pub(crate) fn configuration_list(&self, s: Stream, q: &Q, cx: &Ctx) -> Out {
        let page = match self.configuration_filter(s, q) {
            Ok(Some(filter)) => self.whole(s, &filter),
            // A filter nothing can match.
            Ok(None) => PageOut::default(),
            Err(e) => return e,
        };
        envelope(s, &page, None, cx.scenario == Some(&Scenario::MissingItems), cx.variants.next_page_key_of(s))
    }

    /// The filter of a configuration list; `None` when nothing can match it.
    fn configuration_filter(&self, s: Stream, q: &Q) -> Result<Option<Filter>, Out> {
        let mut filter = Filter::default();
        match s {
            Stream::WhatsappTemplates => {
                filter.state = q.nonempty("state");
                if filter.state.as_deref().is_some_and(|st| st != "APPROVED" && st != "REJECTED") {
                    return Err(bad_param("state", "'state' must be APPROVED or REJECTED."));
                }
                filter.queues = q.list("queues");
            }
            Stream::Variables => filter.only_tags = q.flag("onlyTags"),
            Stream::Typifications => match self.typification_queues(q) {
                Some(queues) => filter.queues = queues,
                None => return Ok(None),
            },
            _ => {}
        }
        Ok(Some(filter))
    }

    /// The queues typifications must have one of (empty: any): `queue`, narrowed to the queues
    /// of the agent `agent-email` names. `None` when no queue is left (an unknown agent has
    /// none).
    fn typification_queues(&self, q: &Q) -> Option<Vec<String>> {
        let queue = q.nonempty("queue");
        let Some(email) = q.nonempty("agent-email") else {
            return Some(queue.into_iter().collect());
        };
        let g = &self.store.gen;
        let agent =
            (0..g.n(Stream::Agents)).map(|k| g.agent_profile(k).0).find(|a| a.email.eq_ignore_ascii_case(&email));
        let of_agent: Vec<String> = agent?.queues.iter().map(|q| q.to_string()).collect();
        let queues: Vec<String> = match queue {
            Some(q) => of_agent.into_iter().filter(|x| *x == q).collect(),
            None => of_agent,
        };
        (!queues.is_empty()).then_some(queues)
    }

    /// Every record of `s` passing `filter`.
    fn whole(&self, s: Stream, filter: &Filter) -> PageOut {
        self.store.page(&PageSpec {
            stream: s,
            lo: i64::MIN,
            hi: i64::MAX,
            start: Start::Begin,
            skip: 0,
            limit: usize::MAX,
            filter,
            now: now_ms(),
            include_open: false,
            sess: SessOpts::EXPECTED,
        })
    }

    /// The spec's single `FieldDefinitionResponse` (the first definition; `{}` when there is
    /// none), or with [`crate::Variants::field_definitions_list`] a JSON array of all of them.
    pub(crate) fn field_definitions(&self, cx: &Ctx) -> Out {
        let page = self.whole(Stream::TicketFieldDefinitions, &Filter::default());
        if cx.variants.field_definitions_list {
            return Out::ok(format!("[{}]", page.body), page.n());
        }
        match page.spans.first() {
            Some(&(a, b)) => Out::ok(page.body[a..b].to_string(), 1),
            None => Out::ok("{}".to_string(), 0),
        }
    }
}
