//! /tickets records (`TicketResponse`): all 24 fields, with a life cycle (answered, resolved)
//! that never runs past the data's end.

use super::vocab::QUEUES;
use super::{ref_channel_id, ChatFacts, Gen, EXTRA_BASE, SALT, SALT_TICKET};
use crate::config::Stream;
use crate::json::{push_str_lit, Obj};
use crate::rng::{make_id, Id, Rng};
use crate::time::{TsMode, DAY, HOUR, MIN};

const SUBJECTS: [(&str, &str); 4] = [
    ("No llegó mi pedido", "Hice el pedido #48213 hace 10 días y no llegó."),
    ("Factura incorrecta", "La factura tiene mal el CUIT: 20-12345678-9."),
    ("Cambio de talle", "Quiero cambiar la remera por un talle M."),
    ("Consulta \"urgente\"", "Necesito saber si puedo retirar hoy.\nGracias."),
];

/// The options of the `Motivo` field every ticket fills in (see /tickets/field-definitions).
pub(crate) const MOTIVO_OPTIONS: [(&str, &str); 3] =
    [("opt-envio", "Envío"), ("opt-factura", "Facturación"), ("opt-cambio", "Cambio")];

/// Where a ticket is in its life cycle at the data's end.
struct TicketLife {
    state: &'static str,
    /// Style of the times below.
    millis: bool,
    first_answer: i64,
    resolve: i64,
    answered: bool,
    resolved: bool,
    last_modification: i64,
}

impl Gen {
    /// State and times of ticket `i` created at `t`. Nothing happens after the data's end:
    /// tickets too recent are still being worked on.
    fn ticket_life(&self, r: &mut Rng, t: i64) -> TicketLife {
        let mut state = r.pick(&["OPEN", "IN_PROGRESS", "WAITING", "RESOLVED", "CLOSED"]);
        let millis = r.pct(67);
        let first_answer = t + r.range(5 * MIN, 8 * HOUR);
        let resolve = first_answer + r.range(HOUR, 3 * DAY);
        let horizon = self.anchor.max(t);
        let answered = first_answer <= horizon;
        if !answered {
            state = "OPEN";
        } else if resolve > horizon && matches!(state, "RESOLVED" | "CLOSED") {
            state = "IN_PROGRESS";
        }
        let resolved = matches!(state, "RESOLVED" | "CLOSED");
        let last_modification = if resolved {
            resolve
        } else if answered {
            first_answer
        } else {
            t
        };
        TicketLife { state, millis, first_answer, resolve, answered, resolved, last_modification }
    }

    pub(crate) fn write_ticket(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = Rng::new(self.seed, SALT_TICKET, i);
        let id = make_id(self.seed, SALT[Stream::Tickets.idx()], i);
        let life = self.ticket_life(&mut r, t);
        let queue = r.pick(&QUEUES);
        let agent = self.agent_id(&mut r);
        let j = self.chat_index_for(&mut r, i);
        let f = self.chat_facts(j);
        let (subject, body) = r.pick(&SUBJECTS);

        let mut o = Obj::new(out);
        o.str("id", id.as_str()).str("businessId", "mockbiz");
        Self::write_ticket_code(&mut o, i, &id);
        o.str("state", life.state).ts("lastStateModification", life.last_modification, life.millis, TsMode::Native).ts(
            "creationTime",
            t,
            native,
            TsMode::Native,
        );
        Self::write_last_modification_by(&mut o, agent.as_ref());
        o.str("subject", subject);
        Self::write_html_content(&mut o, body);
        o.str("contentFormat", "HTML")
            .str("searchableContent", body)
            .int("companyId", 1_000 + r.below(50) as i64)
            .int("authorId", 50_000 + r.below(1_000) as i64);
        Self::write_assigned_to(&mut o, agent.as_ref(), queue);
        Self::write_follow_by(&mut o, &mut r);
        o.strs("waitingQueueIds", if life.resolved { vec![] } else { vec![queue] })
            .ts("waitingAssignationSince", t, native, TsMode::Native)
            .str("assignedQueueId", queue);
        Self::write_resolution(&mut o, &life, &mut r);
        Self::write_attachments(&mut o, &mut r);
        Self::write_chat_ids(&mut o, &f);
        Self::write_field_values(&mut o, &mut r);
        o.end();
    }

    /// `TK-0000001` for base tickets; added ones take the end of their id.
    fn write_ticket_code(o: &mut Obj, i: u64, id: &Id) {
        let k = o.key("ticketCode");
        k.push_str("\"TK-");
        if i < EXTRA_BASE {
            k.push_str(&format!("{:07}", i + 1));
        } else {
            k.push_str(&id.as_str()[12..]);
        }
        k.push('"');
    }

    fn write_last_modification_by(o: &mut Obj, agent: Option<&Id>) {
        let mut lm = o.obj("lastModificationBy");
        let mut a = lm.obj("agent");
        a.str("id", agent.map(|x| x.as_str()).unwrap_or("system"))
            .str("name", "Laura Gómez")
            .str("email", "laura.gomez@mockbiz.example");
        a.end();
        lm.end();
    }

    /// `content`: the body as one HTML paragraph (JSON-escaped, not HTML-escaped).
    fn write_html_content(o: &mut Obj, body: &str) {
        let k = o.key("content");
        k.push_str("\"<p>");
        let mut tmp = String::new();
        push_str_lit(&mut tmp, body);
        k.push_str(&tmp[1..tmp.len() - 1]);
        k.push_str("</p>\"");
    }

    fn write_assigned_to(o: &mut Obj, agent: Option<&Id>, queue: &str) {
        let mut at = o.obj("assignedTo");
        if let Some(a) = agent {
            let mut x = at.obj("agent");
            x.str("id", a.as_str()).str("name", "Laura Gómez");
            x.end();
        }
        let mut q = at.obj("queue");
        q.str("id", queue);
        q.end();
        at.end();
    }

    /// `followBy`: 0–2 integer user ids.
    fn write_follow_by(o: &mut Obj, r: &mut Rng) {
        let mut a = o.arr("followBy");
        let base = 50_000 + r.below(1_000) as i64;
        for k in 0..r.below(3) as i64 {
            a.int(base + 7 * k);
        }
        a.end();
    }

    /// `firstAnswer`, `resolveDate` (`""` until they happen) and `finishedSlasMetrics`.
    fn write_resolution(o: &mut Obj, life: &TicketLife, r: &mut Rng) {
        if life.answered {
            o.ts("firstAnswer", life.first_answer, life.millis, TsMode::Native);
        } else {
            o.str("firstAnswer", "");
        }
        if life.resolved {
            o.ts("resolveDate", life.resolve, life.millis, TsMode::Native);
        } else {
            o.str("resolveDate", "");
        }
        let mut s = o.obj("finishedSlasMetrics");
        s.str("firstResponse", if r.pct(80) { "MET" } else { "BREACHED" });
        if life.resolved {
            s.str("resolution", if r.pct(70) { "MET" } else { "BREACHED" });
        }
        s.end();
    }

    fn write_attachments(o: &mut Obj, r: &mut Rng) {
        let mut a = o.arr("attachments");
        if r.pct(20) {
            let mut x = a.obj();
            let mut mp = x.obj("map");
            let mut file = mp.obj("file");
            file.str("name", "comprobante.pdf")
                .str("url", "https://storage.mockbiz.example/tickets/comprobante.pdf")
                .int("size", 48_213);
            file.end();
            mp.end();
            x.end();
        }
        a.end();
    }

    /// `chatIds`: the ticket's chat, keyed by its channel.
    fn write_chat_ids(o: &mut Obj, f: &ChatFacts) {
        let mut c = o.obj("chatIds");
        c.str(ref_channel_id(f.channel), f.id.as_str());
        c.end();
    }

    /// `fieldValues`: the `Motivo` list field with one chosen option.
    fn write_field_values(o: &mut Obj, r: &mut Rng) {
        let mut a = o.arr("fieldValues");
        let mut fv = a.obj();
        fv.str("id", "fld-motivo").str("name", "Motivo").str("type", "LIST");
        {
            let mut v = fv.arr("value");
            let (vid, label) = r.pick(&MOTIVO_OPTIONS);
            let mut x = v.obj();
            x.str("valueId", vid).str("label", label);
            x.end();
            v.end();
        }
        fv.end();
        a.end();
    }
}
