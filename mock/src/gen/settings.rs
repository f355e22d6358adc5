//! The account's configuration lists: /roles (`RoleRequestResponse`), /variables
//! (`VariableResponse`), /typifications (`TypificationResponse`), /tickets/field-definitions
//! (`FieldDefinitionResponse`) and /webhooks (`ListedWebhookResponse`, with a secret token).
//!
//! The first records of each are the ones other endpoints refer to: the custom role some agents
//! have, the chat variables sessions carry, the typifications sessions close with, the `Motivo`
//! field every ticket fills in.

use super::agents::CUSTOM_ROLE;
use super::tickets::MOTIVO_OPTIONS;
use super::vocab::QUEUES;
use super::{ref_channel_id, Gen, SALT, SALT_BODY};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{make_id, mix, parse_id, Rng};
use crate::store::Facets;

const ROLE_NAMES: [&str; 5] = [CUSTOM_ROLE, "Soporte N1", "Soporte N2", "Supervisión nocturna", "Cobranzas"];
/// `(name, type, scope)` of the first variables: those chats and sessions carry, then others.
const VARIABLES: [(&str, &str, &str); 8] = [
    ("typification", "string", "session"),
    ("plan", "string", "user"),
    ("orderNumber", "number", "user"),
    ("cliente_vip", "tag", "user"),
    ("email", "string", "user"),
    ("ultima_compra", "date", "user"),
    ("acepto_terminos", "boolean", "user"),
    ("recompra", "tag", "user"),
];
const TYPIFICATIONS: [&str; 6] = ["venta", "consulta", "reclamo", "sin_tipificar", "baja", "cambio_de_plan"];
const GROUPS: [&str; 3] = ["Equipo A", "Equipo B", "Nocturno"];
/// A list field's options: `(valueId, label)`.
type Options = &'static [(&'static str, &'static str)];

/// `(id, name, type, options)` of the first ticket fields.
const FIELDS: [(&str, &str, &str, Options); 5] = [
    ("fld-motivo", "Motivo", "LIST", &MOTIVO_OPTIONS),
    ("fld-prioridad", "Prioridad", "LIST", &[("opt-alta", "Alta"), ("opt-media", "Media"), ("opt-baja", "Baja")]),
    ("fld-sucursal", "Sucursal", "TEXT", &[]),
    ("fld-monto", "Monto reclamado", "NUMBER", &[]),
    ("fld-fecha-compra", "Fecha de compra", "DATE", &[]),
];

/// The name of typification `k` (sessions and agent metrics close with the first ones).
pub(crate) fn typification_name(k: u64) -> String {
    nth_name(&TYPIFICATIONS, k)
}

/// `list[k]`, or `<list[k mod len]>_<k>` beyond the list.
fn nth_name(list: &[&str], k: u64) -> String {
    let base = list[(k % list.len() as u64) as usize];
    if k < list.len() as u64 {
        base.to_string()
    } else {
        format!("{base}_{k}")
    }
}

impl Gen {
    fn settings_rng(&self, s: Stream, k: u64) -> Rng {
        Rng::new(self.seed, SALT_BODY ^ SALT[s.idx()], k)
    }

    fn id_str(&self, s: Stream, k: u64) -> String {
        make_id(self.seed, SALT[s.idx()], k).as_str().to_string()
    }

    /// 1–3 queues starting at a random one.
    fn some_queues(r: &mut Rng) -> Vec<&'static str> {
        let off = r.below(QUEUES.len() as u64) as usize;
        (0..1 + r.below(3) as usize).map(|x| QUEUES[(off + x) % QUEUES.len()]).collect()
    }

    pub(crate) fn write_role(&self, out: &mut String, k: u64) {
        let mut r = self.settings_rng(Stream::Roles, k);
        let name = nth_name(&ROLE_NAMES, k);
        let mut o = Obj::new(out);
        o.str("id", &self.id_str(Stream::Roles, k))
            .str("name", &name)
            .str("description", &format!("Rol \"{name}\": permisos de atención y métricas"))
            .strs("queues", Self::some_queues(&mut r))
            .str("priority", r.pick(&["never", "low", "normal", "high"]))
            .int("slots", r.below(31) as i64);
        Self::write_permissions(&mut o, &mut r);
        o.end();
    }

    /// `permissions`: a few sections, some with actions.
    fn write_permissions(o: &mut Obj, r: &mut Rng) {
        let mut p = o.obj("permissions");
        p.bool("home", true);
        let mut chats = p.obj("chats");
        for action in ["view", "filter", "muteBot", "tags", "sendChat", "closeConversation", "AssignToAgent"] {
            chats.bool(action, action == "view" || r.pct(70));
        }
        chats.end();
        let mut contacts = p.obj("contacts");
        for action in ["view", "add", "edit", "delete"] {
            contacts.bool(action, action == "view" || r.pct(40));
        }
        contacts.end();
        p.bool("metrics", r.pct(50));
        let mut tickets = p.obj("tickets");
        for action in ["create", "edit", "changeState"] {
            tickets.bool(action, r.pct(60));
        }
        tickets.end();
        p.bool("roles", r.pct(10)).bool("webhooks", r.pct(10)).bool("audit", r.pct(10));
        p.end();
    }

    /// Whether variable `k` is a tag (what `onlyTags=true` lists).
    pub(crate) fn variable_is_tag(k: u64) -> bool {
        VARIABLES[(k % VARIABLES.len() as u64) as usize].1 == "tag"
    }

    pub(crate) fn write_variable(&self, out: &mut String, k: u64) {
        let mut r = self.settings_rng(Stream::Variables, k);
        let (base, typ, scope) = VARIABLES[(k % VARIABLES.len() as u64) as usize];
        let name = nth_name(&VARIABLES.map(|v| v.0), k);
        let mut o = Obj::new(out);
        o.str("id", &self.id_str(Stream::Variables, k))
            .str("name", &name)
            .str("type", typ)
            .str("scope", scope)
            .bool("visibleInUserInfo", r.pct(60))
            .str("category", if base == "typification" { "Atención" } else { r.pick(&["Cliente", "Ventas"]) })
            .str("icon", r.pick(&["user", "tag", "cart", "star"]));
        if typ == "tag" {
            o.str("tagColor", r.pick(&["#FF5733", "#33A1FF", "#2ECC71"]));
        }
        o.str("orderInUserInfo", &(k + 1).to_string());
        o.end();
    }

    fn typification_queues(&self, k: u64) -> (Vec<&'static str>, Rng) {
        let mut r = self.settings_rng(Stream::Typifications, k);
        let queues = Self::some_queues(&mut r);
        (queues, r)
    }

    pub(crate) fn write_typification(&self, out: &mut String, k: u64) {
        let (queues, mut r) = self.typification_queues(k);
        let groups: Vec<&str> = if r.pct(50) { vec![r.pick(&GROUPS)] } else { vec![] };
        let mut o = Obj::new(out);
        o.str("id", &self.id_str(Stream::Typifications, k))
            .str("displayName", &typification_name(k))
            .strs("groups", groups)
            .strs("queues", queues);
        o.end();
    }

    pub(crate) fn typification_facts(&self, k: u64) -> Facets {
        let queues = self.typification_queues(k).0.iter().map(|q| q.to_string()).collect();
        Facets { queues, ..Default::default() }
    }

    /// The id of ticket field `k`: the named fields first, then `fld-<id>`.
    pub(super) fn field_definition_id(&self, k: u64) -> String {
        match FIELDS.get(k as usize) {
            Some(f) => f.0.to_string(),
            None => format!("fld-{}", self.id_str(Stream::TicketFieldDefinitions, k)),
        }
    }

    pub(super) fn field_definition_index(&self, id: &str) -> Option<u64> {
        if let Some(k) = FIELDS.iter().position(|f| f.0 == id) {
            return Some(k as u64);
        }
        let salt = SALT[Stream::TicketFieldDefinitions.idx()];
        parse_id(self.seed, salt, id.strip_prefix("fld-")?).filter(|k| *k >= FIELDS.len() as u64)
    }

    pub(crate) fn write_field_definition(&self, out: &mut String, k: u64) {
        let mut r = self.settings_rng(Stream::TicketFieldDefinitions, k);
        let (name, typ, options) = match FIELDS.get(k as usize) {
            Some(&(_, name, typ, options)) => (name.to_string(), typ, options),
            None => (format!("Campo {k}"), r.pick(&["TEXT", "NUMBER", "DATE"]), &[][..]),
        };
        let mut o = Obj::new(out);
        o.str("id", &self.field_definition_id(k))
            .bool("active", k < FIELDS.len() as u64 || r.pct(80))
            .str("name", &name)
            .str("type", typ);
        let mut a = o.arr("validOptions");
        for (value_id, label) in options {
            let mut x = a.obj();
            x.str("valueId", value_id).str("label", label);
            x.end();
        }
        a.end();
        o.end();
    }

    pub(crate) fn write_webhook(&self, out: &mut String, k: u64) {
        let mut r = self.settings_rng(Stream::Webhooks, k);
        let mut o = Obj::new(out);
        o.str("id", &self.id_str(Stream::Webhooks, k)).bool("active", k == 0 || r.pct(70));
        {
            let mut m = o.obj("messagesNotifications");
            let channels: Vec<&str> = (0..1 + r.below(3) as usize).map(ref_channel_id).collect();
            m.strs("channelsIds", channels)
                .bool("notifyBotMessages", r.pct(50))
                .bool("notifyUserMessages", true)
                .bool("notifyOperatorMessages", r.pct(50))
                .bool("notifyStatusChanges", r.pct(30))
                .bool("includeVariableChanges", r.pct(30));
            m.end();
        }
        o.str("token", &format!("whk-token-secret-{:016x}", mix(self.seed ^ k ^ 0x70C3)))
            .str("version", "v2")
            .strs(
                "redirectionRules",
                if r.pct(30) { vec!["https://dev.mockbiz.example/botmaker/hook"] } else { vec![] },
            )
            .str("url", &format!("https://crm.mockbiz.example/botmaker/hook/{k}"));
        o.end();
    }
}
