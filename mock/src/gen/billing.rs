//! /billing/whatsapp/billed-conversations (`WhatsAppDetailedConversationResponse`): WhatsApp
//! conversations with their billing data, keyed by their start.

use super::whatsapp::{account_number, waba_id};
use super::{Gen, SALT, SALT_BODY, SYNTH_CHAT};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{make_id, Rng};
use crate::time::TsMode;

/// How many chats are tried to find a WhatsApp one for a conversation.
const WHATSAPP_TRIES: u32 = 8;

impl Gen {
    /// A WhatsApp chat for conversation `i` and the customer's number (chats of other platforms
    /// stand in, with a made-up number, when none is found).
    fn whatsapp_customer(&self, r: &mut Rng, i: u64) -> (super::ChatFacts, String) {
        let mut j = SYNTH_CHAT + i;
        for _ in 0..WHATSAPP_TRIES {
            j = self.chat_index_for(r, i);
            let f = self.chat_facts(j);
            if f.channel == 0 {
                let number = f.contact.clone();
                return (f, number);
            }
        }
        (self.chat_facts(j), format!("549{:010}", r.below(10_000_000_000)))
    }

    pub(crate) fn write_billed_conversation(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = Rng::new(self.seed, SALT_BODY ^ SALT[Stream::BilledConversations.idx()], i);
        let (chat, customer) = self.whatsapp_customer(&mut r, i);
        let line = r.below(self.n(Stream::WhatsappAccounts).max(1));
        let origin = match r.below(100) {
            0..=59 => "user-initiated",
            60..=89 => "business-initiated",
            _ => "referral-initiated",
        };
        let country = match &customer[..2] {
            "55" => "BR",
            "52" => "MX",
            _ => "AR",
        };
        let mut o = Obj::new(out);
        o.ts("startDatetime", t, native, TsMode::Native)
            .str("wabaId", &waba_id(line))
            .str("businessId", "mockbiz")
            .str("phoneNumber", &account_number(line))
            .str("country", country)
            .str("userPhoneNumber", &customer)
            .str("whatsappConversationId", make_id(self.seed, SALT[Stream::BilledConversations.idx()], i).as_str())
            .str("customerId", chat.id.as_str())
            .str("linkToChat", &format!("https://go.botmaker.com/#/chats/{}", chat.id.as_str()))
            .str("origin", origin);
        if origin == "business-initiated" {
            o.str("templateName", r.pick(&["promo_semana_v3", "confirmacion_pedido", "recordatorio_turno"]));
        }
        o.end();
    }
}
