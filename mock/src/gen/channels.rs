//! /channels: the six reference channels every chat belongs to, and further rounds of them.

use super::{Gen, EXTRA_BASE};
use crate::json::Obj;

/// The reference channels every chat belongs to (the /channels list serves these).
pub(crate) struct ChannelDef {
    pub id: String,
    pub platform: &'static str,
    pub name: String,
    pub active: bool,
}

/// Platform of each of the six reference channels, in order.
pub(super) const PLATFORMS: [&str; 6] = ["whatsapp", "messenger", "telegram", "instagram", "webchat", "webhook"];

pub(super) fn channel_defs(n: u64) -> Vec<ChannelDef> {
    (0..n.min(10_000)).map(channel_def).collect()
}

/// Channel `k`: the six reference channels, then further rounds of the same platforms
/// (extra indices from `add_generated` get an `-x<n>` suffix).
fn channel_def(k: u64) -> ChannelDef {
    let names =
        ["WhatsApp Ventas", "Facebook Messenger", "Telegram Bot", "Instagram DM", "Webchat sitio", "CRM webhook"];
    let (k, tag) = if k >= EXTRA_BASE { (k - EXTRA_BASE, "x") } else { (k, "") };
    let b = (k % 6) as usize;
    let round = k / 6;
    let plain = round == 0 && tag.is_empty();
    ChannelDef {
        id: if plain { ref_channel_id(b).to_string() } else { format!("{}-{tag}{}", ref_channel_id(b), round + 1) },
        platform: PLATFORMS[b],
        name: if plain { names[b].to_string() } else { format!("{} {tag}{}", names[b], round + 1) },
        // Instagram is switched off: exercises the `active` filter.
        active: b != 3,
    }
}

/// Reference channel ids (independent of how many channels /channels lists).
pub(crate) fn ref_channel_id(k: usize) -> &'static str {
    [
        "mockbiz-whatsapp-5491147038000",
        "mockbiz-messenger-104857600111222",
        "mockbiz-telegram-mockbiz_bot",
        "mockbiz-instagram-17841400000000",
        "mockbiz-webchat-main",
        "mockbiz-webhook-crm",
    ][k % 6]
}

/// Platform of a channel id, from the reference table or the `<business>-<platform>-…` shape.
pub(crate) fn platform_of_channel(channel_id: &str) -> &str {
    for p in PLATFORMS {
        if channel_id.contains(&format!("-{p}-")) {
            return p;
        }
    }
    channel_id.split('-').nth(1).unwrap_or("")
}

impl Gen {
    pub(crate) fn write_channel(&self, out: &mut String, k: u64) {
        let owned;
        let c = match self.channels.get(k as usize) {
            Some(c) => c,
            None => {
                owned = channel_def(k);
                &owned
            }
        };
        let mut o = Obj::new(out);
        o.str("id", &c.id)
            .str("platform", c.platform)
            .bool("active", c.active)
            .str("name", &c.name)
            .str("webhookId", "wh-main-01");
        match c.platform {
            "whatsapp" => {
                o.str("number", "5491147038000")
                    .str("status", "CONNECTED")
                    .str("quality", "GREEN")
                    .str("wabaId", "104857600123456")
                    .bool("trial", false);
            }
            "messenger" => {
                o.str("recipientId", "104857600111222").int("daysToExpire", 45);
            }
            "telegram" => {
                o.str("token", "5012345678:AAF-telegram-bot-secret-0123456789abcdef");
            }
            "instagram" => {
                o.str("pageId", "104857600333444").str("recipientId", "17841400000000");
            }
            "webhook" => {
                let mut w = o.obj("webhook");
                w.str("url", "https://crm.mockbiz.example/botmaker/hook")
                    .str("token", "whk-webhook-secret-9f8e7d6c5b4a");
                w.end();
            }
            _ => {}
        }
        o.end();
    }
}
