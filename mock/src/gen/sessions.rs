//! /sessions records (`SessionResponse`): the nested chat, and the messages, events and AI
//! analysis that `include-*` flags add.

use super::chats::ChatShape;
use super::messages::Sender;
use super::vocab::{EVENT_NAMES, QUEUES};
use super::{Gen, SessOpts, SALT, SALT_SESS, SALT_SESS_AI, SALT_SESS_DUR, SALT_SESS_EVT, SALT_SESS_MSG};
use crate::config::Stream;
use crate::json::{Arr, Obj};
use crate::rng::{make_id, Id, Rng};
use crate::time::{push_ts, TsMode, DAY, HOUR, MIN};

/// One session's timeline: start, end, and the last moment anything happened by `now`.
struct Timeline {
    start: i64,
    end: i64,
    finished: bool,
    last: i64,
}

const AI_SUMMARIES: [&str; 3] = [
    "El cliente consultó por el estado de su pedido y se le informó la fecha de entrega.",
    "Consulta sobre medios de pago; se envió el link de pago.",
    "Reclamo por demora; se derivó a soporte.",
];
const ASPECTS: [&str; 5] = ["clarity", "conciseness", "empathyTone", "understanding", "resolution"];

impl Gen {
    pub(crate) fn session_id(&self, i: u64, t: i64, millis: bool) -> String {
        let mut r = Rng::new(self.seed, SALT_SESS, i);
        let j = self.chat_index_for(&mut r, i);
        let f = self.chat_facts(j);
        let mut s = String::with_capacity(45);
        s.push_str(f.id.as_str());
        s.push('_');
        push_ts(&mut s, t, millis);
        s
    }

    /// When base/extra session `i` (starting at `t`) ends. Mostly minutes to a few hours, ~2%
    /// between one and two days. No generated session ends during the first hour after the
    /// anchor, so ground truth taken at test start stays valid while the test runs.
    pub(crate) fn session_end(&self, i: u64, t: i64) -> i64 {
        let mut r = Rng::new(self.seed, SALT_SESS_DUR, i);
        let dur = if r.pct(2) {
            DAY + r.range(0, DAY)
        } else {
            // Skewed towards short sessions: 2 min .. ~4 h.
            let u = r.unit();
            2 * MIN + (u * u * (4 * HOUR) as f64) as i64
        };
        let end = t + dur;
        if end > self.anchor {
            end + HOUR
        } else {
            end
        }
    }

    /// A `SessionResponse` starting at `t`. `end` decides whether it is finished at `now`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_session(
        &self,
        out: &mut String,
        i: u64,
        t: i64,
        native: bool,
        end: i64,
        now: i64,
        opts: SessOpts,
    ) {
        let mut r = Rng::new(self.seed, SALT_SESS, i);
        let j = self.chat_index_for(&mut r, i);
        let f = self.chat_facts(j);
        let cause = match r.below(100) {
            0..=69 => "Organic",
            70..=94 => "WhatsAppTemplate",
            _ => "Referral",
        };
        let finished = end <= now;
        let tl = Timeline { start: t, end, finished, last: if finished { end } else { now.max(t) } };
        let sid = self.session_id_of_chat(&f.id, t, native);
        let mode = opts.mode;

        let mut o = Obj::new(out);
        o.str("id", &sid);
        o.ts("creationTime", t, native, mode);
        o.str("startingCause", cause);
        {
            let k = o.key("chat");
            let (ct, cm) = self.chat_time(j, t);
            let shape = ChatShape { mode, list_url: false, variables: opts.variables };
            self.write_chat(k, j, ct, cm, shape);
        }
        if opts.messages {
            self.write_session_messages(&mut o, i, &tl, &sid, mode);
        }
        if opts.events {
            self.write_session_events(&mut o, i, &tl, &sid, mode);
        }
        if opts.ai {
            self.write_ai_analysis(&mut o, i);
        }
        o.end();
    }

    /// `chatId + "_" + creationTime` as the record writes it.
    fn session_id_of_chat(&self, chat: &Id, t: i64, native: bool) -> String {
        let mut s = String::with_capacity(45);
        s.push_str(chat.as_str());
        s.push('_');
        push_ts(&mut s, t, native);
        s
    }

    /// `messages`: 2–8 alternating user and bot/agent messages spread over the session.
    fn write_session_messages(&self, o: &mut Obj, i: u64, tl: &Timeline, sid: &str, mode: TsMode) {
        let mut rm = Rng::new(self.seed, SALT_SESS_MSG, i);
        let cnt = 2 + rm.below(7);
        let mut a = o.arr("messages");
        for k in 0..cnt {
            let tk = tl.start + ((tl.last - tl.start) as i128 * k as i128 / cnt as i128) as i64;
            let from = match k % 2 {
                0 => Sender::User,
                _ if rm.below(3) == 0 => Sender::Agent,
                _ => Sender::Bot,
            };
            let agent = if from == Sender::Agent { self.agent_id(&mut rm) } else { None };
            let from = if from == Sender::Agent && agent.is_none() { Sender::Bot } else { from };
            let millis = rm.pct(67);
            let mut m = a.obj();
            m.str("id", make_id(self.seed, SALT_SESS_MSG, i.wrapping_mul(16).wrapping_add(k)).as_str());
            m.ts("creationTime", tk, millis, mode);
            m.str("from", from.as_str());
            if let Some(ag) = agent {
                m.str("agentId", ag.as_str());
            }
            if rm.pct(50) {
                m.str("queueId", rm.pick(&QUEUES));
            }
            Self::write_content(&mut m, from, &mut rm, i.wrapping_mul(16) ^ k);
            m.str("sessionId", sid);
            m.end();
        }
        a.end();
    }

    /// `events`: 1–4 events, then `conversation-close` when the session is finished.
    fn write_session_events(&self, o: &mut Obj, i: u64, tl: &Timeline, sid: &str, mode: TsMode) {
        let mut re = Rng::new(self.seed, SALT_SESS_EVT, i);
        let cnt = 1 + re.below(4);
        let mut a = o.arr("events");
        for k in 0..cnt {
            let tk = tl.start + ((tl.last - tl.start) as i128 * k as i128 / (cnt + 1) as i128) as i64;
            // Any event name except conversation-close, which only closes finished ones.
            let name = EVENT_NAMES[1 + re.below(EVENT_NAMES.len() as u64 - 1) as usize];
            self.write_event(&mut a, name, tk, sid, mode, &mut re);
        }
        if tl.finished {
            self.write_event(&mut a, "conversation-close", tl.end, sid, mode, &mut re);
        }
        a.end();
    }

    /// `aiAnalysis` with the open-map `aspectScores` shape and their weighted `qualityScore`.
    fn write_ai_analysis(&self, o: &mut Obj, i: u64) {
        let mut ra = Rng::new(self.seed, SALT_SESS_AI, i);
        let mut ai = o.obj("aiAnalysis");
        let dnm = ra.pct(10);
        ai.str("summary", ra.pick(&AI_SUMMARIES))
            .bool("doesNotMeetCriteria", dnm)
            .str("name", "Calidad de atención")
            .str("justification", "El agente respondió con claridad y resolvió la consulta.");
        let mut total = 0i64;
        {
            let mut sc = ai.obj("aspectScores");
            for name in ASPECTS {
                let weight = 20;
                let result = ra.range(20, 101);
                total += result * weight;
                let mut x = sc.obj(name);
                x.int("result", result).int("weight", weight);
                x.end();
            }
            sc.end();
        }
        ai.int("qualityScore", total / 100);
        ai.end();
    }

    fn write_event(&self, a: &mut Arr, name: &str, t: i64, sid: &str, mode: TsMode, r: &mut Rng) {
        let mut e = a.obj();
        e.str("name", name);
        e.ts("creationTime", t, r.pct(67), mode);
        {
            let mut info = e.obj("info");
            self.write_event_info(&mut info, name, r);
            info.end();
        }
        e.str("sessionId", sid);
        e.end();
    }

    /// The spec's EventInfo variant for `name`.
    fn write_event_info(&self, info: &mut Obj, name: &str, r: &mut Rng) {
        let agent = self.agent_id(r);
        let agent_s = agent.as_ref().map(|x| x.as_str()).unwrap_or("");
        match name {
            "conversation-close" => {
                info.str("typification", r.pick(&["venta", "consulta", "reclamo", "sin_tipificar"]));
                if agent.is_some() {
                    info.str("agentName", "Laura Gómez")
                        .str("agentEmail", "laura.gomez@mockbiz.example")
                        .str("agentId", agent_s);
                }
            }
            "notification-read" | "notification-delivered" | "notification-sent" => {
                info.str("messageId", make_id(self.seed, 0xE5, r.below(1 << 30)).as_str())
                    .str("whatsappTemplate", "promo_semana_v3");
            }
            "notification-error" => {
                info.str("error", "131026")
                    .str("reason", "Message undeliverable")
                    .str("messageId", make_id(self.seed, 0xE5, r.below(1 << 30)).as_str());
            }
            "go-to" | "find-intent" => {
                let ni = self.n(Stream::Intents).max(1);
                info.str("intentId", make_id(self.seed, SALT[Stream::Intents.idx()], r.below(ni)).as_str())
                    .str("executingIntents", "saludo");
            }
            "url-click" => {
                info.str("url", "https://shop.mockbiz.example/promo?utm_source=bot");
            }
            "user-note" => {
                info.str("operatorId", agent_s)
                    .str("operatorName", "Laura Gómez")
                    .str("value", "Cliente pide factura A");
            }
            _ => Self::write_other_event_info(info, name, agent_s, r),
        }
    }

    fn write_other_event_info(info: &mut Obj, name: &str, agent_s: &str, r: &mut Rng) {
        match name {
            "set-variable" => {
                info.str("variableName", "plan").str("previousVariableValue", "basic").str("variableValue", "gold");
            }
            "bot-change" => {
                info.str("previousBotId", "bot-main").str("currentBotId", "bot-ventas").str("reason", "go-to");
            }
            "queue-set" => {
                info.str("queue", r.pick(&QUEUES));
            }
            "agent-action" => {
                info.str("intentName", "enviar_link_pago")
                    .str("intentId", "intent-link-pago")
                    .str("agentId", agent_s)
                    .str("agentName", "Laura Gómez");
            }
            "blacklist-word-found" => {
                info.str("foundWord", "estafa").str("messageText", "esto es una estafa");
            }
            "unassigned-agent" => {
                info.str("explain", "timeout")
                    .str("unassignedByAgentId", agent_s)
                    .str("unassignedByAgent", "Laura Gómez");
            }
            "assigned-to-agent" => {
                info.str("explain", "queue")
                    .str("agentId", agent_s)
                    .str("agentName", "Laura Gómez")
                    .str("assignedByAgentId", "system");
            }
            _ => {
                info.str("reason", "policy").str("consoleUserName", "Supervisor").str("consoleUserId", agent_s);
            }
        }
    }
}
