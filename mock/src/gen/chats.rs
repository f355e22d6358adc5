//! /chats records (`ChatWithMessagesResponse`), also nested in sessions (`ChatResponse`).

use super::vocab::{COUNTRIES, FIRST, FIRST_ASCII, LAST, LAST_ASCII, QUEUES, TAGS};
use super::{ref_channel_id, ChatFacts, Gen, SALT_CHAT_BODY, SALT_CHAT_VARS};
use crate::config::Stream;
use crate::json::{push_int, Obj};
use crate::rng::{Id, Rng};
use crate::time::{TsMode, DAY, HOUR, SEC};

/// How a chat is rendered: listed by /chats, or nested in a session.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChatShape {
    /// Timestamp style of every time field.
    pub mode: TsMode,
    /// `listMessagesURL` (only /chats has it).
    pub list_url: bool,
    /// The `variables` map (sessions only with `include-variables=true`).
    pub variables: bool,
}

impl ChatShape {
    /// As /chats serves it.
    pub(crate) const LISTED: ChatShape = ChatShape { mode: TsMode::Native, list_url: true, variables: true };
}

/// The random facts of one chat body, drawn in a fixed order.
struct ChatDraws {
    /// `lastUserMessageDatetime` and its style; absent when the user never talked.
    last_user_message: Option<(i64, bool)>,
    last_session: Option<(i64, bool)>,
    created: (i64, bool),
    external: Option<u64>,
    country: &'static str,
    tags: Vec<&'static str>,
    queue: Option<&'static str>,
    agent: Option<Id>,
    on_hold: Option<Id>,
    banned: bool,
    tester: bool,
    muted: bool,
}

/// `t` rounded down to the second unless `millis`.
fn styled(t: i64, millis: bool) -> (i64, bool) {
    (if millis { t } else { t.div_euclid(SEC) * SEC }, millis)
}

impl Gen {
    /// Time (and style) a referenced chat has in its own stream.
    pub(super) fn chat_time(&self, j: u64, fallback: i64) -> (i64, bool) {
        if j < self.n(Stream::Chats) {
            self.time_of(Stream::Chats, j)
        } else {
            (fallback, true)
        }
    }

    fn chat_draws(&self, f: &ChatFacts, j: u64, t: i64, native: bool) -> ChatDraws {
        let mut r = Rng::new(self.seed, SALT_CHAT_BODY, j);
        let last_user_message = if f.never {
            None
        } else if r.pct(40) {
            Some((t, native))
        } else {
            let u = t - r.range(1, 6 * HOUR);
            Some(styled(u, r.pct(67)))
        };
        let last_session = last_user_message.map(|(u, _)| {
            let s = u - r.range(0, 2 * HOUR);
            styled(s, r.pct(67))
        });
        let created = (t - r.range(DAY, 700 * DAY), r.pct(67));
        let external = r.pct(40).then(|| r.below(1_000_000_000));
        let country = r.pick(&COUNTRIES);
        let ntags = r.below(3);
        let tags = (0..ntags).map(|_| r.pick(&TAGS)).collect();
        let queue = r.pct(70).then(|| r.pick(&QUEUES));
        let agent = if r.pct(40) { self.agent_id(&mut r) } else { None };
        let on_hold = if r.pct(5) { self.agent_id(&mut r) } else { None };
        ChatDraws {
            last_user_message,
            last_session,
            created,
            external,
            country,
            tags,
            queue,
            agent,
            on_hold,
            banned: r.pct(1),
            tester: r.pct(2),
            muted: r.pct(10),
        }
    }

    /// A chat record (`ChatWithMessagesResponse`, or `ChatResponse` inside sessions when
    /// `shape.list_url` is false). `t` is the chat's last activity.
    pub(crate) fn write_chat(&self, out: &mut String, j: u64, t: i64, native: bool, shape: ChatShape) {
        let f = self.chat_facts(j);
        let d = self.chat_draws(&f, j, t, native);
        let mode = shape.mode;
        let mut o = Obj::new(out);
        Self::write_chat_ref(&mut o, &f);
        o.ts("creationTime", d.created.0, d.created.1, mode);
        if let Some((s, m)) = d.last_session {
            o.ts("lastSessionCreationTime", s, m, mode);
        }
        if let Some(x) = d.external {
            let k = o.key("externalId");
            k.push_str("\"EXT-");
            push_int(k, x as i64);
            k.push('"');
        }
        o.str("firstName", FIRST[f.first]).str("lastName", LAST[f.last]).str("country", d.country);
        if f.has_email {
            let k = o.key("email");
            k.push('"');
            k.push_str(FIRST_ASCII[f.first]);
            k.push('.');
            k.push_str(LAST_ASCII[f.last]);
            push_int(k, (j % 1000) as i64);
            k.push_str("@example.com\"");
        }
        if f.channel == 0 {
            if let Some((u, m)) = d.last_user_message {
                o.ts("whatsAppWindowCloseDatetime", u + DAY, m, mode);
            }
        }
        if shape.variables {
            self.write_chat_variables(&mut o, j);
        }
        self.write_chat_assignment(&mut o, &d);
        if let Some((u, m)) = d.last_user_message {
            o.ts("lastUserMessageDatetime", u, m, mode);
        }
        if shape.list_url {
            let k = o.key("listMessagesURL");
            k.push('"');
            k.push_str(&self.base_url);
            k.push_str("/messages?chat-id=");
            k.push_str(f.id.as_str());
            k.push_str("&long-term-search=true\"");
        }
        o.bool("isBanned", d.banned).bool("isTester", d.tester).bool("isBotMuted", d.muted);
        o.end();
    }

    /// `variables`: a string map (a typification, a plan, an order number).
    fn write_chat_variables(&self, o: &mut Obj, j: u64) {
        let mut v = o.obj("variables");
        let mut rv = Rng::new(self.seed, SALT_CHAT_VARS, j);
        if rv.pct(80) {
            v.str("typification", rv.pick(&["venta", "consulta", "reclamo", "sin_tipificar"]));
        }
        if rv.pct(50) {
            v.str("plan", rv.pick(&["gold", "silver", "basic"]));
        }
        if rv.pct(30) {
            let k = v.key("orderNumber");
            k.push('"');
            push_int(k, 10_000 + rv.below(90_000) as i64);
            k.push('"');
        }
        v.end();
    }

    /// `tags`, `queueId`, `agentId`, `onHoldAgentId`.
    fn write_chat_assignment(&self, o: &mut Obj, d: &ChatDraws) {
        o.strs("tags", d.tags.iter().copied());
        o.opt_str("queueId", d.queue);
        if let Some(a) = &d.agent {
            o.str("agentId", a.as_str());
        }
        if let Some(a) = &d.on_hold {
            o.str("onHoldAgentId", a.as_str());
        }
    }

    /// Facts used by /chats filters for base chat `j`.
    pub(crate) fn chat_filter_facts(&self, j: u64) -> crate::store::Facets {
        let f = self.chat_facts(j);
        crate::store::Facets {
            chat_id: f.id.as_str().to_string(),
            channel_ids: vec![ref_channel_id(f.channel).to_string()],
            contact_id: f.contact.clone(),
            first: FIRST[f.first].to_string(),
            last: LAST[f.last].to_string(),
            email: f
                .has_email
                .then(|| format!("{}.{}{}@example.com", FIRST_ASCII[f.first], LAST_ASCII[f.last], j % 1000)),
            never_talked: f.never,
            ..Default::default()
        }
    }
}
