//! `nextPage` pagination: serves one page from the store, builds the link to the next one
//! (applying paging scenarios and the [`crate::Variants`] that insert empty pages or rename the
//! key) and writes the `{items, nextPage}` envelope.

use super::query::{pct_encode, Q};
use super::response::Out;
use super::token::Token;
use super::{Ctx, Shared};
use crate::config::{Scenario, Stream};
use crate::gen::SessOpts;
use crate::json::push_str_lit;
use crate::store::{Filter, PageOut, PageSpec, Start};
use crate::variants::NextPageKey;

/// Page sizes per endpoint (messages: the default of its `limit`).
pub(crate) fn page_size(s: Stream) -> usize {
    match s {
        Stream::Chats => 250,
        Stream::Messages => 1000,
        Stream::Sessions => 500,
        Stream::Calls => 250,
        Stream::Intents => 200,
        Stream::Agents => 100,
        Stream::Contacts => 100,
        Stream::Channels => usize::MAX,
        Stream::Tickets => 50,
        Stream::AgentMetrics | Stream::AgentPerformance => 5000,
        Stream::Campaigns => 250,
        Stream::NotificationResults => 500,
        Stream::Roles => 50,
        Stream::ContactsBlacklist => 1000,
        Stream::BilledConversations => 2500,
        Stream::WhatsappTemplates
        | Stream::WhatsappAccounts
        | Stream::Variables
        | Stream::Typifications
        | Stream::TicketFieldDefinitions
        | Stream::Webhooks => usize::MAX,
    }
}

/// The envelope key of an endpoint's record list.
pub(crate) fn list_key(s: Stream) -> &'static str {
    match s {
        Stream::Tickets => "tickets",
        Stream::Variables => "variables",
        Stream::Typifications => "typifications",
        Stream::ContactsBlacklist => "contacts",
        _ => "items",
    }
}

/// How the last page says "no more": the real API is inconsistent, so the mock is too.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LastPage {
    Null,
    Absent,
    Empty,
}

fn last_page_shape(s: Stream) -> LastPage {
    match s {
        Stream::Chats | Stream::Sessions | Stream::Agents | Stream::Contacts => LastPage::Null,
        Stream::Campaigns | Stream::NotificationResults | Stream::Roles | Stream::BilledConversations => LastPage::Null,
        Stream::Calls | Stream::ContactsBlacklist => LastPage::Empty,
        _ => LastPage::Absent,
    }
}

/// The query parameter a page token travels in: /contacts hands out the bare token, to be sent
/// back as `next-page-token`; every other endpoint embeds it in its `nextPage` URL.
pub(crate) fn token_param(s: Stream) -> &'static str {
    if s == Stream::Contacts {
        "next-page-token"
    } else {
        "page-token"
    }
}

/// One page request of a `nextPage`-paginated endpoint, its parameters already checked.
pub(crate) struct PageRequest<'a> {
    pub stream: Stream,
    pub query: &'a Q<'a>,
    /// Where the previous page stopped (`None` on the first page).
    pub token: Option<Token>,
    /// The first page's clock.
    pub now: i64,
    /// Half-open key range `[lo, hi)` of the records to list.
    pub lo: i64,
    pub hi: i64,
    pub limit: usize,
    pub filter: Filter,
    pub include_open: bool,
    pub sess: SessOpts,
    /// Parameters written into `nextPage` URLs in place of the request's own (the effective
    /// `from`/`to`, so defaults do not drift between pages).
    pub effective: Vec<(&'static str, String)>,
}

impl Shared {
    /// Serves one page and builds `nextPage` (applying paging scenarios and inserted empty
    /// pages).
    pub(crate) fn paged(&self, req: PageRequest, cx: &Ctx) -> Out {
        let s = req.stream;
        let key = cx.variants.next_page_key_of(s);
        let missing = cx.scenario == Some(&Scenario::MissingItems);
        if let Some(tok) = req.token.as_ref().filter(|t| t.empty) {
            // An inserted empty page: no records, and a link to where they resume.
            let resume = Token { empty: false, ..tok.clone() };
            let next = self.next_link(&req, &resume, cx.host);
            return envelope(s, &PageOut::default(), Some(next), missing, key);
        }
        let start_cursor = req.token.as_ref().and_then(|t| t.cursor.clone());
        let again = req.token.as_ref().is_some_and(|t| t.again);
        let page = self.store.page(&PageSpec {
            stream: s,
            lo: req.lo,
            hi: req.hi,
            start: match &start_cursor {
                None => Start::Begin,
                Some((k, id)) => Start::After(*k, id.clone()),
            },
            skip: 0,
            limit: req.limit,
            filter: &req.filter,
            now: req.now,
            include_open: req.include_open,
            sess: req.sess,
        });
        let after = self.token_after(&req, &page, cx);
        let same = Token { epoch: req.now, again: true, cursor: start_cursor, ..Token::default() };
        // Which position the next page starts from (None = no next page)...
        let next_tok: Option<&Token> = match cx.scenario {
            Some(Scenario::NextPageLoop) => Some(&same),
            Some(Scenario::DuplicatePages) if !again => Some(&same),
            Some(Scenario::ForeignNextPage(_)) => Some(if page.more { &after } else { &same }),
            _ => page.more.then_some(&after),
        };
        // ...and how it is written: a link on our base, a foreign URL, or junk.
        let next: Option<String> = match cx.scenario {
            Some(Scenario::NextPageNotUrl) => Some("%%% not a url".into()),
            Some(Scenario::ForeignNextPage(foreign)) => next_tok.map(|t| {
                let url = self.next_url(&req, t, cx.host);
                let rest = url.strip_prefix("http://").unwrap_or(&url);
                let path = rest.find('/').map(|p| &rest[p..]).unwrap_or("/");
                format!("http://{foreign}{path}")
            }),
            _ => next_tok.map(|t| self.next_link(&req, t, cx.host)),
        };
        envelope(s, &page, next, missing, key)
    }

    /// Where the page after `page` starts; with [`Variants::empty_pages_every`] on, it counts
    /// the pages and makes every `n`th link lead to an inserted empty page first.
    fn token_after(&self, req: &PageRequest, page: &PageOut, cx: &Ctx) -> Token {
        let base = Token { epoch: req.now, cursor: page.last.clone(), ..Token::default() };
        let every = cx.variants.empty_pages_every;
        if every == 0 {
            return base;
        }
        let pages = req.token.as_ref().and_then(|t| t.pages).unwrap_or(0).saturating_add(1);
        Token { pages: Some(pages), empty: pages % every == 0, ..base }
    }

    /// The link to the page starting at `tok`: a bare token for /contacts (sent back as
    /// `next-page-token`), an absolute URL elsewhere.
    fn next_link(&self, req: &PageRequest, tok: &Token, host: Option<&str>) -> String {
        if req.stream == Stream::Contacts {
            tok.encode(self.cfg.seed)
        } else {
            self.next_url(req, tok, host)
        }
    }

    /// The absolute URL of the page starting at `tok`: the request's parameters (effective
    /// ones replaced) plus the token.
    fn next_url(&self, req: &PageRequest, tok: &Token, host: Option<&str>) -> String {
        let s = req.stream;
        let param = token_param(s);
        let mut url = match host {
            Some(h) => format!("http://{h}/v2.0/{}?", s.path()),
            None => format!("{}/{}?", self.base_url, s.path()),
        };
        let mut first = true;
        let mut push = |url: &mut String, k: &str, v: &str| {
            if !first {
                url.push('&');
            }
            first = false;
            url.push_str(&pct_encode(k));
            url.push('=');
            url.push_str(&pct_encode(v));
        };
        for (k, v) in req.query.0 {
            if k == param || req.effective.iter().any(|(e, _)| e == k) {
                continue;
            }
            push(&mut url, k, v);
        }
        for (k, v) in &req.effective {
            push(&mut url, k, v);
        }
        push(&mut url, param, &tok.encode(self.cfg.seed));
        url
    }
}

/// `{"items":[…],"nextPage":…}` (the list under the endpoint's own key) with the endpoint's own
/// last-page marker, the link under `key`.
pub(crate) fn envelope(s: Stream, page: &PageOut, next: Option<String>, missing_items: bool, key: NextPageKey) -> Out {
    let mut body = String::with_capacity(page.body.len() + 200);
    body.push('{');
    if !missing_items {
        body.push('"');
        body.push_str(list_key(s));
        body.push_str("\":[");
        body.push_str(&page.body);
        body.push(']');
    }
    let link_key = |b: &mut String| {
        if b.len() > 1 {
            b.push(',');
        }
        b.push('"');
        b.push_str(key.as_str());
        b.push_str("\":");
    };
    match next {
        Some(url) => {
            link_key(&mut body);
            push_str_lit(&mut body, &url);
        }
        None if page.n() > 0 || missing_items => match last_page_shape(s) {
            LastPage::Null => {
                link_key(&mut body);
                body.push_str("null");
            }
            LastPage::Empty => {
                link_key(&mut body);
                body.push_str("\"\"");
            }
            LastPage::Absent => {}
        },
        None => {}
    }
    body.push('}');
    Out::ok(body, page.n())
}
