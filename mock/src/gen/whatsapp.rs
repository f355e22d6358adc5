//! /whatsapp/templates (`WhatsAppTemplateResponse`) and /whatsapp/accounts
//! (`WhatsAppAccountResponse`): the business's phone lines and the message templates they send.

use super::vocab::QUEUES;
use super::{Gen, SALT, SALT_BODY};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{mix, Rng};

/// Template names; a template exists in [`TEMPLATE_LOCALES`] each, and further ones get a
/// numeric suffix. `promo_semana_v3` is the template messages and events name.
const TEMPLATE_NAMES: [&str; 8] = [
    "bienvenida",
    "confirmacion_pedido",
    "recordatorio_turno",
    "promo_semana_v3",
    "encuesta_satisfaccion",
    "codigo_verificacion",
    "aviso_envio",
    "factura_disponible",
];
const TEMPLATE_LOCALES: [&str; 2] = ["es_AR", "pt_BR"];
/// Phone line numbers: account `k` is `FIRST_LINE + k` (account 0 is the WhatsApp channel's).
const FIRST_LINE: u64 = 5_491_147_038_000;
const ACCOUNT_ALIASES: [&str; 4] = ["Ventas", "Soporte", "Cobranzas", "Marketing"];

/// The approval states a template can be in, as filters and records spell them.
pub(crate) const TEMPLATE_STATES: [&str; 4] = ["APPROVED", "REJECTED", "ACCOUNT_PENDING", "BOTMAKER_PENDING"];

/// What /whatsapp/templates filters on.
pub(crate) struct TemplateFacts {
    pub state: &'static str,
    pub queues: Vec<&'static str>,
}

impl Gen {
    /// `(name, locale)` of template `k`.
    fn template_identity(k: u64) -> (String, &'static str) {
        let b = k / 2;
        let base = TEMPLATE_NAMES[(b % TEMPLATE_NAMES.len() as u64) as usize];
        let name = if b < TEMPLATE_NAMES.len() as u64 { base.to_string() } else { format!("{base}_{b}") };
        (name, TEMPLATE_LOCALES[(k % 2) as usize])
    }

    /// The primary key of template `k` as the store keys it: `name|locale`.
    pub(super) fn template_key(&self, k: u64) -> String {
        let (name, locale) = Self::template_identity(k);
        format!("{name}|{locale}")
    }

    fn template_rng(&self, k: u64) -> Rng {
        Rng::new(self.seed, SALT_BODY ^ SALT[Stream::WhatsappTemplates.idx()], k)
    }

    pub(crate) fn template_facts(&self, k: u64) -> TemplateFacts {
        let mut r = self.template_rng(k);
        let state = match r.below(100) {
            0..=69 => TEMPLATE_STATES[0],
            70..=79 => TEMPLATE_STATES[1],
            80..=89 => TEMPLATE_STATES[2],
            _ => TEMPLATE_STATES[3],
        };
        let off = r.below(QUEUES.len() as u64) as usize;
        let queues = (0..1 + r.below(2) as usize).map(|x| QUEUES[(off + x) % QUEUES.len()]).collect();
        TemplateFacts { state, queues }
    }

    pub(crate) fn write_template(&self, out: &mut String, k: u64) {
        let (name, locale) = Self::template_identity(k);
        let facts = self.template_facts(k);
        let mut r = self.template_rng(k ^ (1 << 62));
        let base = name.split('_').next().unwrap_or("");
        let category = match base {
            "codigo" => "AUTHENTICATION",
            "promo" | "encuesta" => "MARKETING",
            _ => "UTILITY",
        };
        let mut o = Obj::new(out);
        o.str("name", &name).str("state", facts.state);
        if facts.state == "REJECTED" {
            let mut a = o.arr("notes");
            let mut note = a.obj();
            let mut detail = note.obj("INVALID_FORMAT");
            detail.str("message", "Variable parameters can't be at the start or end of the template.");
            detail.end();
            note.end();
            a.end();
        }
        let lines = self.n(Stream::WhatsappAccounts).clamp(1, 2);
        let numbers: Vec<String> = (0..1 + r.below(lines)).map(account_number).collect();
        o.strs("phoneLinesNumbers", numbers.iter().map(String::as_str))
            .str("botName", "MockBiz Bot")
            .str("category", category)
            .str("locale", locale);
        if r.pct(20) {
            o.str("optInImage", "https://storage.mockbiz.example/optin/whatsapp-optin.png");
        }
        Self::write_template_texts(&mut o, category, locale, &mut r);
        Self::write_template_buttons(&mut o, category);
        let requester = match self.agent_pick(&mut r) {
            Some(a) => self.agent_profile(a).0.email,
            None => "admin@mockbiz.example".to_string(),
        };
        o.str("requesterEmail", &requester).strs("allowedQueues", facts.queues.iter().copied());
        o.end();
    }

    /// `header` (sometimes), `body`, `footer` (sometimes).
    fn write_template_texts(o: &mut Obj, category: &str, locale: &str, r: &mut Rng) {
        match r.below(3) {
            0 => {
                let mut h = o.obj("header");
                h.str("format", "TEXT").str("text", "MockBiz");
                h.end();
            }
            1 => {
                let mut h = o.obj("header");
                h.str("format", "IMAGE").str("exampleURL", "https://storage.mockbiz.example/templates/header.jpg");
                h.end();
            }
            _ => {}
        }
        let text = match (category, locale) {
            ("AUTHENTICATION", _) => "{{1}} es tu código de verificación. No lo compartas con nadie.",
            ("MARKETING", "pt_BR") => "Olá {{1}}! Esta semana tem 2x1 em \"tudo\" 🎉",
            ("MARKETING", _) => "¡Hola {{1}}! Esta semana hay 2x1 en \"todo\" 🎉",
            (_, "pt_BR") => "Olá {{1}}, seu pedido {{2}} foi atualizado.",
            _ => "Hola {{1}}, tu pedido {{2}} fue actualizado.\nGracias por elegirnos.",
        };
        let mut b = o.obj("body");
        b.str("text", text);
        b.end();
        if r.pct(60) {
            let mut f = o.obj("footer");
            f.str("text", "MockBiz · Respondé BAJA para no recibir más mensajes");
            f.end();
        }
    }

    /// `buttons`: quick replies for marketing, a link and a phone for utility, none for
    /// authentication.
    fn write_template_buttons(o: &mut Obj, category: &str) {
        let mut a = o.arr("buttons");
        match category {
            "MARKETING" => {
                let mut b = a.obj();
                b.str("type", "QUICK_REPLY").str("text", "Me interesa").str("intentIdOrName", "promociones");
                b.end();
                let mut b = a.obj();
                b.str("type", "QUICK_REPLY").str("text", "No, gracias").str("webhookPayload", "optout");
                b.end();
            }
            "UTILITY" => {
                let mut b = a.obj();
                b.str("type", "URL").str("text", "Ver pedido").str("url", "https://shop.mockbiz.example/pedidos/{{1}}");
                b.end();
                let mut b = a.obj();
                b.str("type", "PHONE_NUMBER").str("text", "Llamar").str("phoneNumber", "+5491147038000");
                b.end();
            }
            _ => {}
        }
        a.end();
    }

    pub(crate) fn write_account(&self, out: &mut String, k: u64) {
        let mut o = Obj::new(out);
        o.str("number", &account_number(k))
            .str("alias", ACCOUNT_ALIASES[(k % ACCOUNT_ALIASES.len() as u64) as usize])
            .str("templateNamespace", &format!("mockbiz_{:012x}", mix(self.seed ^ k) >> 16))
            .str("wabaId", &waba_id(k));
        o.end();
    }
}

/// The phone line of account `k` (its primary key).
pub(super) fn account_number(k: u64) -> String {
    (FIRST_LINE + k).to_string()
}

/// The account a phone line belongs to.
pub(super) fn account_index(number: &str) -> Option<u64> {
    number.parse::<u64>().ok()?.checked_sub(FIRST_LINE)
}

/// The WhatsApp business account of line `k`: the first two lines share the main one.
pub(super) fn waba_id(k: u64) -> String {
    if k < 2 {
        "104857600123456".to_string()
    } else {
        (104_857_600_200_000 + k).to_string()
    }
}
