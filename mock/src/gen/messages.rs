//! /messages records (`MessageResponse`) and the message `content` shared with sessions.

use super::channels::PLATFORMS;
use super::vocab::{AGENT_TEXTS, BOT_TEXTS, BUTTONS, QUEUES, USER_TEXTS};
use super::{ref_channel_id, Gen, SALT, SALT_CALL, SALT_MSG, SALT_SESS};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{make_id, mix, Rng};
use crate::time::{push_ts, TsMode, MIN, SEC};

/// Who wrote a message (`from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sender {
    User,
    Bot,
    Agent,
}

impl Sender {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Sender::User => "user",
            Sender::Bot => "bot",
            Sender::Agent => "agent",
        }
    }
}

const CALL_EVENTS: [&str; 6] =
    ["user-joined", "agent-joined", "user-left", "agent-left", "recording", "room-destroyed"];

impl Gen {
    /// `content`: text, media, buttons, carousel, location or a call event, by sender.
    pub(super) fn write_content(o: &mut Obj, from: Sender, r: &mut Rng, media_key: u64) {
        let mut c = o.obj("content");
        let roll = r.below(100);
        match from {
            Sender::User => Self::user_content(&mut c, roll, r, media_key),
            Sender::Bot => Self::bot_content(&mut c, roll, r),
            Sender::Agent => {
                if roll < 90 {
                    c.str("type", "text").str("text", r.pick(&AGENT_TEXTS));
                } else {
                    Self::media(&mut c, "image", "png", media_key, r);
                }
            }
        }
        c.end();
    }

    fn user_content(c: &mut Obj, roll: u64, r: &mut Rng, media_key: u64) {
        match roll {
            0..=69 => {
                c.str("type", "text").str("text", r.pick(&USER_TEXTS));
                if r.pct(5) {
                    let mut l = c.obj("location");
                    l.str("latitude", "-34.6037")
                        .str("longitude", "-58.3816")
                        .str("name", "Obelisco")
                        .str("address", "Av. 9 de Julio s/n, CABA");
                    l.end();
                }
                if r.pct(3) {
                    c.str("originalText", "I want to know my order status");
                }
            }
            70..=79 => Self::media(c, "image", "jpg", media_key, r),
            80..=84 => {
                Self::media(c, "audio", "ogg", media_key, r);
                if r.pct(50) {
                    c.str("text", "hola quería consultar por mi pedido")
                        .str("originalAudioUrl", "https://storage.mockbiz.example/media/audio/original.ogg");
                }
            }
            85..=87 => Self::media(c, "file", "pdf", media_key, r),
            88..=89 => Self::media(c, "video", "mp4", media_key, r),
            90..=96 => {
                c.str("type", "button-click").str("selectedButton", r.pick(&BUTTONS));
            }
            _ => {
                c.str("type", "call");
                let mut k = c.obj("call");
                k.str("event", r.pick(&CALL_EVENTS));
                k.end();
            }
        }
    }

    fn bot_content(c: &mut Obj, roll: u64, r: &mut Rng) {
        match roll {
            0..=59 => {
                c.str("type", "text").str("text", r.pick(&BOT_TEXTS));
            }
            60..=84 => {
                c.str("type", "buttons").str("text", "Elegí una opción:").strs("buttons", BUTTONS);
            }
            85..=92 => {
                c.str("type", "carousel")
                    .strs("carouselItems", ["Remera azul", "Zapatillas running", "Mochila urbana"]);
            }
            _ => {
                c.str("type", "text")
                    .str("text", "Hola! Tenemos novedades para vos.")
                    .str("whatsAppTemplateName", "promo_semana_v3");
            }
        }
    }

    fn media(c: &mut Obj, kind: &str, ext: &str, key: u64, r: &mut Rng) {
        c.str("type", kind);
        let mut m = c.obj("media");
        if r.pct(30) {
            m.str("caption", "Te mando la foto 📷");
        }
        let k = m.key("url");
        k.push_str("\"https://storage.mockbiz.example/media/");
        k.push_str(kind);
        k.push('/');
        k.push_str(&format!("{:016x}", mix(key)));
        k.push('.');
        k.push_str(ext);
        k.push('"');
        m.end();
    }

    /// A `MessageResponse`. `t` is its `creationTime`.
    pub(crate) fn write_message(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = Rng::new(self.seed, SALT_MSG, i);
        let j = self.chat_index_for(&mut r, i);
        let f = self.chat_facts(j);
        let roll = r.below(100);
        let mut from = match roll {
            0..=44 => Sender::User,
            45..=84 => Sender::Bot,
            _ => Sender::Agent,
        };
        let agent = if from == Sender::Agent { self.agent_id(&mut r) } else { None };
        if from == Sender::Agent && agent.is_none() {
            from = Sender::Bot;
        }
        let queue = r.pct(50).then(|| r.pick(&QUEUES));
        let sct = t - r.range(0, 90 * MIN);
        let sct_millis = r.pct(67);
        let sct = if sct_millis { sct } else { sct.div_euclid(SEC) * SEC };

        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[1], i).as_str());
        o.ts("creationTime", t, native, TsMode::Native);
        o.str("from", from.as_str());
        if let Some(a) = agent {
            o.str("agentId", a.as_str());
        }
        o.opt_str("queueId", queue);
        Self::write_content(&mut o, from, &mut r, i ^ SALT_MSG);
        if r.pct(3) {
            let mut e = o.obj("encryptionParams");
            e.str("version", "2")
                .str("configId", "enc-cfg-01")
                .ts("timestamp", t, true, TsMode::Native)
                .str("encryptedKey", "c2VjcmV0LWtleS1ub3QtcmVhbGx5LWVuY3J5cHRlZA==");
            e.end();
        }
        o.ts("sessionCreationTime", sct, sct_millis, TsMode::Native);
        Self::write_chat_ref(&mut o, &f);
        {
            let k = o.key("sessionId");
            k.push('"');
            k.push_str(f.id.as_str());
            k.push('_');
            push_ts(k, sct, sct_millis);
            k.push('"');
        }
        o.end();
    }

    /// Chat reference facts of a base message/call/session (for filters).
    pub(crate) fn ref_facts(&self, s: Stream, i: u64) -> crate::store::Facets {
        let salt = match s {
            Stream::Messages => SALT_MSG,
            Stream::Calls => SALT_CALL,
            _ => SALT_SESS,
        };
        let mut r = Rng::new(self.seed, salt, i);
        let j = self.chat_index_for(&mut r, i);
        let f = self.chat_facts(j);
        crate::store::Facets {
            chat_id: f.id.as_str().to_string(),
            channel_ids: vec![ref_channel_id(f.channel).to_string()],
            contact_id: f.contact,
            platforms: vec![PLATFORMS[f.channel].to_string()],
            ..Default::default()
        }
    }
}
