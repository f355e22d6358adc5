//! /intents records (`IntentResponse`).

use super::vocab::INTENT_NAMES;
use super::{Gen, SALT, SALT_INTENT};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{make_id, Rng};

impl Gen {
    pub(crate) fn write_intent(&self, out: &mut String, k: u64) {
        let mut r = Rng::new(self.seed, SALT_INTENT, k);
        let base = INTENT_NAMES[(k % INTENT_NAMES.len() as u64) as usize];
        let name = if k < INTENT_NAMES.len() as u64 { base.to_string() } else { format!("{base}_{k}") };
        let (bot_id, bot_name) = r.pick(&[("bot-main", "MockBiz Bot"), ("bot-ventas", "Ventas")]);
        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[Stream::Intents.idx()], k).as_str()).str("name", &name);
        {
            let mut b = o.obj("bot");
            b.str("id", bot_id).str("name", bot_name);
            b.end();
        }
        o.strs("topics", [r.pick(&["ventas", "soporte", "general", "pagos"])])
            .strs(
                "triggers",
                match k % 4 {
                    0 => vec!["hola", "buen día", "buenas"],
                    1 => vec!["quiero comprar", "precio"],
                    2 => vec!["¿dónde está mi pedido?"],
                    _ => vec![],
                },
            )
            .bool("active", r.pct(90));
        o.end();
    }
}
