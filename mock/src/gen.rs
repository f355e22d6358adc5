//! Lazy, deterministic record generation.
//!
//! Record `i` of a stream is a pure function of `(seed, stream, i)`: nothing is materialised, so
//! a million messages cost no memory. For windowed streams the span `[start, anchor)` is cut into
//! `n` equal slots and record `i` gets a time inside slot `i`; times are therefore strictly
//! increasing in `i`, and a time range maps to an index range by binary search. Records are
//! written straight to JSON (see [`crate::json`]).
//!
//! Realism knobs that exercise connectors: about a third of the times have no fractional
//! seconds (the API mixes `…:05Z` and `…:05.123Z`), the record whose slot contains a UTC
//! midnight usually sits exactly on it, optional fields are sometimes absent, texts contain
//! quotes, newlines, backslashes and non-ASCII characters.

use crate::config::{Stream, StreamCounts};
use crate::json::{push_str_lit, Obj};
use crate::rng::{make_id, mix, parse_id, Id, Rng};
use crate::time::{ceil_day, ceil_sec, push_ts, TsMode, DAY, HOUR, MIN, SEC};

/// Per-stream salts (ids and times of different streams are independent).
const SALT: [u64; 9] = [
    0xC4A7_0001,
    0x3E55_0002,
    0x5E55_0003,
    0xCA11_0004,
    0xC047_0005,
    0xA6E7_0006,
    0xC4A1_0007,
    0x1A7E_0008,
    0x71C7_0009,
];
const SALT_TIME: u64 = 0x7173_0000;
const SALT_CHAT_FACTS: u64 = 0xFAC7_0001;
const SALT_CHAT_BODY: u64 = 0xB0D1_0001;
const SALT_CHAT_VARS: u64 = 0x7A25_0001;
const SALT_MSG: u64 = 0xB0D1_0002;
const SALT_SESS: u64 = 0xB0D1_0003;
const SALT_SESS_DUR: u64 = 0xD0_0003;
const SALT_SESS_MSG: u64 = 0x5E_5500;
const SALT_SESS_EVT: u64 = 0xE7_0003;
const SALT_SESS_AI: u64 = 0xA1_0003;
const SALT_CALL: u64 = 0xB0D1_0004;
const SALT_REC: u64 = 0x2EC0_0004;
const SALT_CONTACT: u64 = 0xB0D1_0005;
const SALT_AGENT: u64 = 0xB0D1_0006;
const SALT_INTENT: u64 = 0xB0D1_0008;
const SALT_TICKET: u64 = 0xB0D1_0009;

/// Indices of records created by `add_generated`/`open_session` start here, far above any base
/// index, so their ids never collide with (or hide) base records.
pub(crate) const EXTRA_BASE: u64 = 1 << 40;
/// Chat index used for references when there are no base chats (ids stay well-formed).
const SYNTH_CHAT: u64 = 1 << 50;
/// Sort key of overlay records of full-refresh streams: after every base record.
pub(crate) const OVERLAY_KEY: i64 = 1 << 62;

pub(crate) const FIRST: [&str; 24] = [
    "María",
    "José",
    "Lucía",
    "Juan",
    "Sofía",
    "Mateo",
    "Valentina",
    "Santiago",
    "Camila",
    "Diego",
    "Ana",
    "Pedro",
    "João",
    "Gabriela",
    "Martín",
    "Florencia",
    "Carlos",
    "Paula",
    "Andrés",
    "Renée",
    "Zoë",
    "Luis",
    "Isabella",
    "Tomás",
];
const FIRST_ASCII: [&str; 24] = [
    "maria",
    "jose",
    "lucia",
    "juan",
    "sofia",
    "mateo",
    "valentina",
    "santiago",
    "camila",
    "diego",
    "ana",
    "pedro",
    "joao",
    "gabriela",
    "martin",
    "florencia",
    "carlos",
    "paula",
    "andres",
    "renee",
    "zoe",
    "luis",
    "isabella",
    "tomas",
];
pub(crate) const LAST: [&str; 20] = [
    "González",
    "Rodríguez",
    "Gómez",
    "Fernández",
    "López",
    "Díaz",
    "Martínez",
    "Pérez",
    "García",
    "Sánchez",
    "Romero",
    "Sosa",
    "Álvarez",
    "Torres",
    "Ruiz",
    "Silva",
    "Santos",
    "O'Connor",
    "Müller",
    "Ramírez",
];
const LAST_ASCII: [&str; 20] = [
    "gonzalez",
    "rodriguez",
    "gomez",
    "fernandez",
    "lopez",
    "diaz",
    "martinez",
    "perez",
    "garcia",
    "sanchez",
    "romero",
    "sosa",
    "alvarez",
    "torres",
    "ruiz",
    "silva",
    "santos",
    "oconnor",
    "muller",
    "ramirez",
];
const COUNTRIES: [&str; 9] = ["AR", "BR", "MX", "CO", "CL", "PE", "UY", "ES", "US"];
const TAGS: [&str; 6] = ["returningCustomer", "buyer", "vip", "lead", "churn-risk", "newsletter"];
pub(crate) const QUEUES: [&str; 5] = ["sales", "returns", "support", "billing", "vip"];
const USER_TEXTS: [&str; 12] = [
    "Hola, quiero saber el estado de mi pedido",
    "¿Tienen envío a Córdoba?",
    "Gracias!",
    "Necesito hablar con un agente",
    "Mi número de orden es 48213",
    "Quiero la \"promo\" del 2x1",
    "No me llegó el código 🙁",
    "Perfecto, muchas gracias\nSaludos",
    "Olá, preciso de ajuda com minha fatura",
    "Can I change my delivery address?",
    "Backslash test: C:\\temp\\factura.pdf",
    "ok",
];
const BOT_TEXTS: [&str; 5] = [
    "¡Hola! Soy el asistente virtual de MockBiz. ¿En qué te puedo ayudar?",
    "Elegí una opción:",
    "Te derivo con un agente humano, aguardá un momento.",
    "Tu pedido está en camino 🚚",
    "¿Te puedo ayudar con algo más?",
];
const AGENT_TEXTS: [&str; 5] = [
    "Hola, soy Laura del equipo de ventas. ¿Cómo te ayudo?",
    "Ya revisé tu pedido: sale mañana por la mañana.",
    "Te paso el link de pago: https://pay.mockbiz.example/l/8KQ2",
    "¿Hay algo más en lo que pueda ayudarte?",
    "Gracias por tu paciencia 🙏",
];
const BUTTONS: [&str; 4] = ["Ventas", "Soporte", "Estado de pedido", "Hablar con un agente"];
const EVENT_NAMES: [&str; 17] = [
    "conversation-close",
    "notification-read",
    "notification-error",
    "notification-delivered",
    "go-to",
    "url-click",
    "user-note",
    "find-intent",
    "set-variable",
    "bot-change",
    "queue-set",
    "agent-action",
    "blacklist-word-found",
    "unassigned-agent",
    "assigned-to-agent",
    "blocked-content-message",
    "notification-sent",
];
const INTENT_NAMES: [&str; 12] = [
    "saludo",
    "despedida",
    "estado_pedido",
    "hablar_con_agente",
    "horarios",
    "medios_de_pago",
    "envios",
    "devoluciones",
    "promociones",
    "reclamo",
    "factura",
    "cambio_direccion",
];

/// The reference channels every chat belongs to (the /channels list serves these).
pub(crate) struct ChannelDef {
    pub id: String,
    pub platform: &'static str,
    pub name: String,
    pub active: bool,
}

/// Platform of each of the six reference channels, in order.
const PLATFORMS: [&str; 6] = ["whatsapp", "messenger", "telegram", "instagram", "webchat", "webhook"];

/// Cheap facts about chat `j` that other streams reference (and that filters look at).
pub(crate) struct ChatFacts {
    pub id: Id,
    pub channel: usize,
    pub contact: String,
    pub first: usize,
    pub last: usize,
    pub has_email: bool,
    /// Never talked: no session, no `lastUserMessageDatetime`.
    pub never: bool,
}

/// Session render options (the `/sessions` query flags).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessOpts {
    pub mode: TsMode,
    pub messages: bool,
    pub events: bool,
    pub ai: bool,
    pub variables: bool,
}

impl SessOpts {
    /// What `expected()` serves: milliseconds, no includes.
    pub(crate) const EXPECTED: SessOpts =
        SessOpts { mode: TsMode::Millis, messages: false, events: false, ai: false, variables: false };
    pub(crate) const ALL: SessOpts =
        SessOpts { mode: TsMode::Native, messages: true, events: true, ai: true, variables: true };
}

/// Layout of one windowed stream's base records over the span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub start: i64,
    pub span: i64,
    pub n: u64,
}

pub(crate) struct Gen {
    pub seed: u64,
    pub base_url: String,
    pub anchor: i64,
    pub start: i64,
    pub span: i64,
    /// Base record counts (windowed ones capped at one per millisecond of span).
    pub n: [u64; 9],
    pub channels: Vec<ChannelDef>,
}

fn channel_defs(n: u64) -> Vec<ChannelDef> {
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
    pub(crate) fn new(seed: u64, base_url: String, anchor: i64, span_days: u32, c: &StreamCounts) -> Gen {
        let span = span_days as i64 * DAY;
        let mut n = [0u64; 9];
        for s in Stream::ALL {
            let mut v = c.get(s);
            if s.is_windowed() {
                // Strictly increasing millisecond times need at least one ms per record.
                v = v.min(span.max(0) as u64);
            } else {
                v = v.min(EXTRA_BASE - 1);
            }
            n[s.idx()] = v;
        }
        n[Stream::Channels.idx()] = n[Stream::Channels.idx()].min(10_000);
        Gen { seed, base_url, anchor, start: anchor - span, span, n, channels: channel_defs(c.channels) }
    }

    pub(crate) fn n(&self, s: Stream) -> u64 {
        self.n[s.idx()]
    }

    pub(crate) fn layout(&self, s: Stream) -> Layout {
        Layout { start: self.start, span: self.span, n: self.n(s) }
    }

    // ------------------------------------------------------------------ times & keys

    /// Time of base record `i` and whether it is written with milliseconds.
    pub(crate) fn time_of(&self, s: Stream, i: u64) -> (i64, bool) {
        let l = self.layout(s);
        let a = l.start + (i as u128 * l.span as u128 / l.n.max(1) as u128) as i64;
        let b = l.start + ((i as u128 + 1) * l.span as u128 / l.n.max(1) as u128) as i64;
        let w = (b - a).max(1);
        let mut r = Rng::new(self.seed, SALT_TIME ^ SALT[s.idx()], i);
        let roll = r.below(100);
        let m = ceil_day(a);
        if m < b && (w <= 2 * DAY || roll < 30) {
            // Exactly on a UTC midnight: exercises window edges.
            return (m, r.pct(50));
        }
        let t = a + r.below(w as u64) as i64;
        if roll % 3 == 0 {
            let s1 = ceil_sec(t);
            if s1 < b {
                return (s1, false);
            }
            let s2 = ceil_sec(a);
            if s2 < b {
                return (s2, false);
            }
        }
        (t, true)
    }

    /// Sort key of base record `i`: its time for windowed streams, the index otherwise.
    pub(crate) fn key_of(&self, s: Stream, i: u64) -> i64 {
        if s.is_windowed() {
            self.time_of(s, i).0
        } else {
            i as i64
        }
    }

    /// First base index whose key is `>= k`.
    pub(crate) fn lower_bound(&self, s: Stream, k: i64) -> u64 {
        let n = self.n(s);
        if !s.is_windowed() {
            return k.clamp(0, n as i64) as u64;
        }
        let (mut lo, mut hi) = (0u64, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.time_of(s, mid).0 < k {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The primary key of base record `i` (chats: `chat.chatId`; sessions: `chatId_creationTime`).
    pub(crate) fn id_of(&self, s: Stream, i: u64) -> String {
        match s {
            Stream::Sessions => {
                let (t, millis) = self.time_of(s, i);
                self.session_id(i, t, millis)
            }
            Stream::Channels => self.channels.get(i as usize).map(|c| c.id.clone()).unwrap_or_default(),
            _ => make_id(self.seed, SALT[s.idx()], i).as_str().to_string(),
        }
    }

    /// The base index a primary key belongs to, if it is a base record.
    pub(crate) fn base_index(&self, s: Stream, pk: &str) -> Option<u64> {
        let n = self.n(s);
        match s {
            Stream::Sessions => {
                let (_, ts) = pk.rsplit_once('_')?;
                let t = crate::time::parse_ts(ts)?;
                let i = self.lower_bound(s, t);
                (i < n && self.id_of(s, i) == pk).then_some(i)
            }
            Stream::Channels => self.channels.iter().position(|c| c.id == pk).map(|p| p as u64),
            _ => parse_id(self.seed, SALT[s.idx()], pk).filter(|&i| i < n),
        }
    }

    // ------------------------------------------------------------------ shared facts

    fn chat_index_for(&self, r: &mut Rng, i: u64) -> u64 {
        let nc = self.n(Stream::Chats);
        if nc > 0 {
            r.below(nc)
        } else {
            SYNTH_CHAT + i
        }
    }

    pub(crate) fn chat_facts(&self, j: u64) -> ChatFacts {
        let mut r = Rng::new(self.seed, SALT_CHAT_FACTS, j);
        let roll = r.below(100);
        let channel = match roll {
            0..=54 => 0,
            55..=64 => 1,
            65..=69 => 2,
            70..=79 => 3,
            80..=94 => 4,
            _ => 5,
        };
        let contact = match channel {
            0 => format!("549{:010}", r.below(10_000_000_000)),
            1 => format!("{}", 3_000_000_000_000_000u64 + r.below(1_000_000_000_000_000)),
            2 => format!("{}", 100_000_000 + r.below(900_000_000)),
            3 => format!("{}", 17_841_400_000_000_000u64 + r.below(100_000_000_000_000)),
            4 => format!("wc-{:012x}", r.below(1 << 48)),
            _ => format!("crm-{:08}", r.below(100_000_000)),
        };
        ChatFacts {
            id: make_id(self.seed, SALT[Stream::Chats.idx()], j),
            channel,
            contact,
            first: r.below(FIRST.len() as u64) as usize,
            last: r.below(LAST.len() as u64) as usize,
            has_email: r.pct(60),
            never: r.pct(2),
        }
    }

    fn agent_id(&self, r: &mut Rng) -> Option<Id> {
        let na = self.n(Stream::Agents);
        (na > 0).then(|| make_id(self.seed, SALT[Stream::Agents.idx()], r.below(na)))
    }

    fn write_chat_ref(o: &mut Obj, f: &ChatFacts) {
        let mut c = o.obj("chat");
        c.str("chatId", f.id.as_str()).str("channelId", ref_channel_id(f.channel)).str("contactId", &f.contact);
        c.end();
    }

    /// Time (and style) a referenced chat has in its own stream.
    fn chat_time(&self, j: u64, fallback: i64) -> (i64, bool) {
        if j < self.n(Stream::Chats) {
            self.time_of(Stream::Chats, j)
        } else {
            (fallback, true)
        }
    }

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

    // ------------------------------------------------------------------ chats

    /// A chat record (`ChatWithMessagesResponse`, or `ChatResponse` inside sessions when
    /// `list_url` is false). `t` is the chat's last activity.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_chat(
        &self,
        out: &mut String,
        j: u64,
        t: i64,
        native: bool,
        mode: TsMode,
        list_url: bool,
        variables: bool,
    ) {
        let f = self.chat_facts(j);
        let mut r = Rng::new(self.seed, SALT_CHAT_BODY, j);
        let lum: Option<(i64, bool)> = if f.never {
            None
        } else if r.pct(40) {
            Some((t, native))
        } else {
            let u = t - r.range(1, 6 * HOUR);
            let millis = r.pct(67);
            Some((if millis { u } else { u.div_euclid(SEC) * SEC }, millis))
        };
        let lsc = lum.map(|(u, _)| {
            let s = u - r.range(0, 2 * HOUR);
            let millis = r.pct(67);
            (if millis { s } else { s.div_euclid(SEC) * SEC }, millis)
        });
        let created = t - r.range(DAY, 700 * DAY);
        let created_millis = r.pct(67);
        let external = r.pct(40).then(|| r.below(1_000_000_000));
        let country = r.pick(&COUNTRIES);
        let ntags = r.below(3);
        let tags: Vec<&str> = (0..ntags).map(|_| r.pick(&TAGS)).collect();
        let queue = r.pct(70).then(|| r.pick(&QUEUES));
        let agent = if r.pct(40) { self.agent_id(&mut r) } else { None };
        let on_hold = if r.pct(5) { self.agent_id(&mut r) } else { None };
        let banned = r.pct(1);
        let tester = r.pct(2);
        let muted = r.pct(10);

        let mut o = Obj::new(out);
        Self::write_chat_ref(&mut o, &f);
        o.ts("creationTime", created, created_millis, mode);
        if let Some((s, m)) = lsc {
            o.ts("lastSessionCreationTime", s, m, mode);
        }
        if let Some(x) = external {
            let k = o.key("externalId");
            k.push_str("\"EXT-");
            crate::json::push_int(k, x as i64);
            k.push('"');
        }
        o.str("firstName", FIRST[f.first]).str("lastName", LAST[f.last]).str("country", country);
        if f.has_email {
            let k = o.key("email");
            k.push('"');
            k.push_str(FIRST_ASCII[f.first]);
            k.push('.');
            k.push_str(LAST_ASCII[f.last]);
            crate::json::push_int(k, (j % 1000) as i64);
            k.push_str("@example.com\"");
        }
        if f.channel == 0 {
            if let Some((u, m)) = lum {
                o.ts("whatsAppWindowCloseDatetime", u + DAY, m, mode);
            }
        }
        if variables {
            let mut v = o.obj("variables");
            {
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
                    crate::json::push_int(k, 10_000 + rv.below(90_000) as i64);
                    k.push('"');
                }
            }
            v.end();
        }
        o.strs("tags", tags);
        o.opt_str("queueId", queue);
        if let Some(a) = agent {
            o.str("agentId", a.as_str());
        }
        if let Some(a) = on_hold {
            o.str("onHoldAgentId", a.as_str());
        }
        if let Some((u, m)) = lum {
            o.ts("lastUserMessageDatetime", u, m, mode);
        }
        if list_url {
            let k = o.key("listMessagesURL");
            k.push('"');
            k.push_str(&self.base_url);
            k.push_str("/messages?chat-id=");
            k.push_str(f.id.as_str());
            k.push_str("&long-term-search=true\"");
        }
        o.bool("isBanned", banned).bool("isTester", tester).bool("isBotMuted", muted);
        o.end();
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

    // ------------------------------------------------------------------ messages

    fn write_content(o: &mut Obj, from: u8, r: &mut Rng, media_key: u64) {
        let mut c = o.obj("content");
        let roll = r.below(100);
        match from {
            // user
            0 => match roll {
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
                70..=79 => Self::media(&mut c, "image", "jpg", media_key, r),
                80..=84 => {
                    Self::media(&mut c, "audio", "ogg", media_key, r);
                    if r.pct(50) {
                        c.str("text", "hola quería consultar por mi pedido")
                            .str("originalAudioUrl", "https://storage.mockbiz.example/media/audio/original.ogg");
                    }
                }
                85..=87 => Self::media(&mut c, "file", "pdf", media_key, r),
                88..=89 => Self::media(&mut c, "video", "mp4", media_key, r),
                90..=96 => {
                    c.str("type", "button-click").str("selectedButton", r.pick(&BUTTONS));
                }
                _ => {
                    c.str("type", "call");
                    let mut k = c.obj("call");
                    k.str(
                        "event",
                        r.pick(&[
                            "user-joined",
                            "agent-joined",
                            "user-left",
                            "agent-left",
                            "recording",
                            "room-destroyed",
                        ]),
                    );
                    k.end();
                }
            },
            // bot
            1 => match roll {
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
            },
            // agent
            _ => {
                if roll < 90 {
                    c.str("type", "text").str("text", r.pick(&AGENT_TEXTS));
                } else {
                    Self::media(&mut c, "image", "png", media_key, r);
                }
            }
        }
        c.end();
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
        let mut from: u8 = if roll < 45 {
            0
        } else if roll < 85 {
            1
        } else {
            2
        };
        let agent = if from == 2 { self.agent_id(&mut r) } else { None };
        if from == 2 && agent.is_none() {
            from = 1;
        }
        let queue = r.pct(50).then(|| r.pick(&QUEUES));
        let sct = t - r.range(0, 90 * MIN);
        let sct_millis = r.pct(67);
        let sct = if sct_millis { sct } else { sct.div_euclid(SEC) * SEC };

        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[1], i).as_str());
        o.ts("creationTime", t, native, TsMode::Native);
        o.str("from", ["user", "bot", "agent"][from as usize]);
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

    // ------------------------------------------------------------------ sessions

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
        let last = if finished { end } else { now.max(t) };
        let mode = opts.mode;

        let mut o = Obj::new(out);
        {
            let k = o.key("id");
            k.push('"');
            k.push_str(f.id.as_str());
            k.push('_');
            push_ts(k, t, native);
            k.push('"');
        }
        o.ts("creationTime", t, native, mode);
        o.str("startingCause", cause);
        {
            let k = o.key("chat");
            let (ct, cm) = self.chat_time(j, t);
            self.write_chat(k, j, ct, cm, mode, false, opts.variables);
        }
        let sid = {
            let mut s = String::with_capacity(45);
            s.push_str(f.id.as_str());
            s.push('_');
            push_ts(&mut s, t, native);
            s
        };
        if opts.messages {
            let mut rm = Rng::new(self.seed, SALT_SESS_MSG, i);
            let cnt = 2 + rm.below(7);
            let mut a = o.arr("messages");
            for k in 0..cnt {
                let tk = t + ((last - t) as i128 * k as i128 / cnt as i128) as i64;
                let from: u8 = if k % 2 == 0 { 0 } else { 1 + (rm.below(3) == 0) as u8 };
                let agent = if from == 2 { self.agent_id(&mut rm) } else { None };
                let from = if from == 2 && agent.is_none() { 1 } else { from };
                let millis = rm.pct(67);
                let mut m = a.obj();
                m.str("id", make_id(self.seed, SALT_SESS_MSG, i.wrapping_mul(16).wrapping_add(k)).as_str());
                m.ts("creationTime", tk, millis, mode);
                m.str("from", ["user", "bot", "agent"][from as usize]);
                if let Some(ag) = agent {
                    m.str("agentId", ag.as_str());
                }
                if rm.pct(50) {
                    m.str("queueId", rm.pick(&QUEUES));
                }
                Self::write_content(&mut m, from, &mut rm, i.wrapping_mul(16) ^ k);
                m.str("sessionId", &sid);
                m.end();
            }
            a.end();
        }
        if opts.events {
            let mut re = Rng::new(self.seed, SALT_SESS_EVT, i);
            let cnt = 1 + re.below(4);
            let mut a = o.arr("events");
            for k in 0..cnt {
                let tk = t + ((last - t) as i128 * k as i128 / (cnt + 1) as i128) as i64;
                // Any event name except conversation-close, which only closes finished ones.
                let name = EVENT_NAMES[1 + re.below(EVENT_NAMES.len() as u64 - 1) as usize];
                self.write_event(&mut a, name, tk, &sid, mode, &mut re);
            }
            if finished {
                self.write_event(&mut a, "conversation-close", end, &sid, mode, &mut re);
            }
            a.end();
        }
        if opts.ai {
            let mut ra = Rng::new(self.seed, SALT_SESS_AI, i);
            let mut ai = o.obj("aiAnalysis");
            let dnm = ra.pct(10);
            ai.str(
                "summary",
                ra.pick(&[
                    "El cliente consultó por el estado de su pedido y se le informó la fecha de entrega.",
                    "Consulta sobre medios de pago; se envió el link de pago.",
                    "Reclamo por demora; se derivó a soporte.",
                ]),
            )
            .bool("doesNotMeetCriteria", dnm)
            .str("name", "Calidad de atención")
            .str("justification", "El agente respondió con claridad y resolvió la consulta.");
            let mut total = 0i64;
            {
                let mut sc = ai.obj("aspectScores");
                for (name, weight) in [
                    ("clarity", 20),
                    ("conciseness", 20),
                    ("empathyTone", 20),
                    ("understanding", 20),
                    ("resolution", 20),
                ] {
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
        o.end();
    }

    fn write_event(&self, a: &mut crate::json::Arr, name: &str, t: i64, sid: &str, mode: TsMode, r: &mut Rng) {
        let mut e = a.obj();
        e.str("name", name);
        e.ts("creationTime", t, r.pct(67), mode);
        {
            let mut info = e.obj("info");
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
            info.end();
        }
        e.str("sessionId", sid);
        e.end();
    }

    // ------------------------------------------------------------------ calls

    pub(crate) fn write_call(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = Rng::new(self.seed, SALT_CALL, i);
        let j = self.chat_index_for(&mut r, i);
        let f = self.chat_facts(j);
        let agent = self.agent_id(&mut r);
        let start = t + r.range(2 * SEC, 30 * SEC);
        let end = start + r.range(30 * SEC, 40 * MIN);
        let m2 = r.pct(67);
        let video = r.pct(20);
        let rec = r.pct(70);
        let queue = r.pick(&QUEUES);

        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[Stream::Calls.idx()], i).as_str());
        Self::write_chat_ref(&mut o, &f);
        if let Some(a) = agent {
            o.str("agentId", a.as_str());
        }
        o.ts("creationDatetime", t, native, TsMode::Native).ts("startDatetime", start, m2, TsMode::Native).ts(
            "endDatetime",
            end,
            m2,
            TsMode::Native,
        );
        if rec {
            let rid = make_id(self.seed, SALT_REC, i);
            let mut rc = o.obj("recording");
            rc.str("id", rid.as_str());
            let k = rc.key("url");
            k.push('"');
            k.push_str(&self.base_url);
            k.push_str("/calls/recordings/");
            k.push_str(rid.as_str());
            k.push('"');
            rc.end();
        }
        o.str("type", if video { "video" } else { "audio" });
        {
            let mut a = o.arr("participants");
            let mut p = a.obj();
            p.str("participantId", &f.contact)
                .str("initiatedByType", "user")
                .ts("joinedDatetime", start, m2, TsMode::Native)
                .ts("leftDatetime", end, m2, TsMode::Native);
            p.end();
            if let Some(ag) = agent {
                let mut p = a.obj();
                p.str("participantId", ag.as_str())
                    .str("initiatedByType", "agent")
                    .ts("assignedTs", t, native, TsMode::Native)
                    .str("supportTeamId", queue)
                    .ts("joinedDatetime", start + 1500, true, TsMode::Native)
                    .ts("leftDatetime", end, m2, TsMode::Native);
                p.end();
            }
            a.end();
        }
        o.end();
    }

    // ------------------------------------------------------------------ tickets

    pub(crate) fn write_ticket(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = Rng::new(self.seed, SALT_TICKET, i);
        let id = make_id(self.seed, SALT[Stream::Tickets.idx()], i);
        let mut state = r.pick(&["OPEN", "IN_PROGRESS", "WAITING", "RESOLVED", "CLOSED"]);
        let m = r.pct(67);
        let first_answer = t + r.range(5 * MIN, 8 * HOUR);
        let resolve = first_answer + r.range(HOUR, 3 * DAY);
        // Nothing happens after the data's end: tickets too recent are still being worked on.
        let horizon = self.anchor.max(t);
        let answered = first_answer <= horizon;
        if !answered {
            state = "OPEN";
        } else if resolve > horizon && matches!(state, "RESOLVED" | "CLOSED") {
            state = "IN_PROGRESS";
        }
        let resolved = matches!(state, "RESOLVED" | "CLOSED");
        let last_mod = if resolved {
            resolve
        } else if answered {
            first_answer
        } else {
            t
        };
        let queue = r.pick(&QUEUES);
        let agent = self.agent_id(&mut r);
        let j = self.chat_index_for(&mut r, i);
        let f = self.chat_facts(j);
        let (subject, body) = r.pick(&[
            ("No llegó mi pedido", "Hice el pedido #48213 hace 10 días y no llegó."),
            ("Factura incorrecta", "La factura tiene mal el CUIT: 20-12345678-9."),
            ("Cambio de talle", "Quiero cambiar la remera por un talle M."),
            ("Consulta \"urgente\"", "Necesito saber si puedo retirar hoy.\nGracias."),
        ]);

        let mut o = Obj::new(out);
        o.str("id", id.as_str()).str("businessId", "mockbiz");
        {
            let k = o.key("ticketCode");
            k.push_str("\"TK-");
            if i < EXTRA_BASE {
                k.push_str(&format!("{:07}", i + 1));
            } else {
                k.push_str(&id.as_str()[12..]);
            }
            k.push('"');
        }
        o.str("state", state).ts("lastStateModification", last_mod, m, TsMode::Native).ts(
            "creationTime",
            t,
            native,
            TsMode::Native,
        );
        {
            let mut lm = o.obj("lastModificationBy");
            let mut a = lm.obj("agent");
            a.str("id", agent.as_ref().map(|x| x.as_str()).unwrap_or("system"))
                .str("name", "Laura Gómez")
                .str("email", "laura.gomez@mockbiz.example");
            a.end();
            lm.end();
        }
        o.str("subject", subject);
        {
            let k = o.key("content");
            k.push_str("\"<p>");
            let mut tmp = String::new();
            push_str_lit(&mut tmp, body);
            k.push_str(&tmp[1..tmp.len() - 1]);
            k.push_str("</p>\"");
        }
        o.str("contentFormat", "HTML")
            .str("searchableContent", body)
            .int("companyId", 1_000 + r.below(50) as i64)
            .int("authorId", 50_000 + r.below(1_000) as i64);
        {
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
        {
            let mut a = o.arr("followBy");
            let base = 50_000 + r.below(1_000) as i64;
            for k in 0..r.below(3) as i64 {
                a.int(base + 7 * k);
            }
            a.end();
        }
        o.strs("waitingQueueIds", if resolved { vec![] } else { vec![queue] })
            .ts("waitingAssignationSince", t, native, TsMode::Native)
            .str("assignedQueueId", queue);
        if answered {
            o.ts("firstAnswer", first_answer, m, TsMode::Native);
        } else {
            o.str("firstAnswer", "");
        }
        if resolved {
            o.ts("resolveDate", resolve, m, TsMode::Native);
        } else {
            o.str("resolveDate", "");
        }
        {
            let mut s = o.obj("finishedSlasMetrics");
            s.str("firstResponse", if r.pct(80) { "MET" } else { "BREACHED" });
            if resolved {
                s.str("resolution", if r.pct(70) { "MET" } else { "BREACHED" });
            }
            s.end();
        }
        {
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
        {
            let mut c = o.obj("chatIds");
            c.str(ref_channel_id(f.channel), f.id.as_str());
            c.end();
        }
        {
            let mut a = o.arr("fieldValues");
            let mut fv = a.obj();
            fv.str("id", "fld-motivo").str("name", "Motivo").str("type", "LIST");
            {
                let mut v = fv.arr("value");
                let (vid, label) =
                    r.pick(&[("opt-envio", "Envío"), ("opt-factura", "Facturación"), ("opt-cambio", "Cambio")]);
                let mut x = v.obj();
                x.str("valueId", vid).str("label", label);
                x.end();
                v.end();
            }
            fv.end();
            a.end();
        }
        o.end();
    }

    // ------------------------------------------------------------------ contacts

    pub(crate) fn write_contact(&self, out: &mut String, k: u64) {
        let mut r = Rng::new(self.seed, SALT_CONTACT, k);
        let j = if k < self.n(Stream::Chats) { k } else { SYNTH_CHAT + k };
        let f = self.chat_facts(j);
        let second = r.pct(10);
        let bsuid = (f.channel == 0 && r.pct(50)).then(|| format!("AR.{:016X}", mix(k ^ 0xB5)));

        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[Stream::Contacts.idx()], k).as_str())
            .str("firstName", FIRST[f.first])
            .str("lastName", LAST[f.last]);
        if r.pct(60) {
            o.str("birthday", &format!("{}-{:02}-{:02}", 1950 + r.below(55), 1 + r.below(12), 1 + r.below(28)));
        }
        if r.pct(30) {
            o.str("pictureUrl", &format!("https://cdn.mockbiz.example/avatars/{:012x}.jpg", mix(k)));
        }
        o.str("language", r.pick(&["es", "pt", "en"])).str("country", r.pick(&COUNTRIES));
        if r.pct(20) {
            o.str("companyId", &format!("cmp-{:04}", r.below(500)));
        }
        if r.pct(20) {
            o.str("jobTitle", r.pick(&["Compras", "Gerente", "Dueño", "Analista"]));
        }
        {
            let mut a = o.arr("phoneNumbers");
            if f.channel == 0 {
                let mut p = a.obj();
                p.str("value", &format!("+{}", f.contact)).str("label", "Mobile");
                p.end();
            }
            a.end();
        }
        {
            let mut a = o.arr("emails");
            if f.has_email {
                let mut e = a.obj();
                e.str("value", &format!("{}.{}{}@example.com", FIRST_ASCII[f.first], LAST_ASCII[f.last], j % 1000))
                    .str("label", "Home");
                e.end();
            }
            a.end();
        }
        {
            let mut a = o.arr("addresses");
            if r.pct(15) {
                let mut e = a.obj();
                e.str("value", "Av. Corrientes 1234, Piso 5 \"B\", CABA").str("label", "Work");
                e.end();
            }
            a.end();
        }
        {
            let mut a = o.arr("websites");
            if r.pct(5) {
                let mut e = a.obj();
                e.str("value", "https://tienda-ejemplo.example").str("label", "Shop");
                e.end();
            }
            a.end();
        }
        o.strs("instagramIds", if f.channel == 3 { vec![f.contact.as_str()] } else { vec![] })
            .strs("facebookIds", if f.channel == 1 { vec![f.contact.as_str()] } else { vec![] })
            .strs("twitterIds", std::iter::empty())
            .strs("notes", if r.pct(10) { vec!["Prefiere contacto por la tarde"] } else { vec![] });
        {
            let mut a = o.arr("chats");
            let mut c = a.obj();
            c.str("id", f.id.as_str())
                .str("platformContactId", &f.contact)
                .str("chatChannelId", ref_channel_id(f.channel));
            if let Some(b) = &bsuid {
                c.str("bsuid", b);
            }
            c.end();
            if second {
                let mut c = a.obj();
                let wid = make_id(self.seed, SALT[Stream::Chats.idx()], SYNTH_CHAT + (1 << 48) + k);
                c.str("id", wid.as_str())
                    .str("platformContactId", &format!("wc-{:012x}", mix(k) >> 16))
                    .str("chatChannelId", ref_channel_id(4));
                c.end();
            }
            a.end();
        }
        o.strs("whatsappBsuids", bsuid.as_deref());
        o.end();
    }

    pub(crate) fn contact_facts(&self, k: u64) -> crate::store::Facets {
        let mut r = Rng::new(self.seed, SALT_CONTACT, k);
        let j = if k < self.n(Stream::Chats) { k } else { SYNTH_CHAT + k };
        let f = self.chat_facts(j);
        let second = r.pct(10);
        let has_bsuid = f.channel == 0 && r.pct(50);
        let mut channel_ids = vec![ref_channel_id(f.channel).to_string()];
        let mut platforms = vec![PLATFORMS[f.channel].to_string()];
        if second {
            channel_ids.push(ref_channel_id(4).to_string());
            platforms.push(PLATFORMS[4].to_string());
        }
        crate::store::Facets { channel_ids, platforms, has_bsuid, ..Default::default() }
    }

    // ------------------------------------------------------------------ agents

    pub(crate) fn agent_facts(&self, k: u64) -> (bool, String) {
        let mut r = Rng::new(self.seed, SALT_AGENT, k);
        let first = r.below(FIRST.len() as u64) as usize;
        let last = r.below(LAST.len() as u64) as usize;
        let online = r.pct(30);
        (online, format!("{}.{}{}@mockbiz.example", FIRST_ASCII[first], LAST_ASCII[last], k))
    }

    pub(crate) fn write_agent(&self, out: &mut String, k: u64) {
        let mut r = Rng::new(self.seed, SALT_AGENT, k);
        let first = r.below(FIRST.len() as u64) as usize;
        let last = r.below(LAST.len() as u64) as usize;
        let online = r.pct(30);
        let (_, email) = self.agent_facts(k);
        let role = match r.below(100) {
            0..=69 => "OPERATOR",
            70..=84 => "SUPERVISOR",
            85..=89 => "ADMIN",
            90..=94 => "CONFIGURATOR",
            _ => "Ventas Senior",
        };
        let nq = 1 + r.below(3) as usize;
        let off = r.below(QUEUES.len() as u64) as usize;
        let queues: Vec<&str> = (0..nq).map(|x| QUEUES[(off + x) % QUEUES.len()]).collect();
        let created = self.start - r.range(30 * DAY, 1100 * DAY);
        let created_millis = r.pct(67);

        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[Stream::Agents.idx()], k).as_str())
            .str("email", &email)
            .str("name", &format!("{} {}", FIRST[first], LAST[last]))
            .str("alias", FIRST[first])
            .bool("isOnline", online)
            .str(
                "status",
                if online {
                    if r.pct(70) {
                        "available"
                    } else {
                        "busy"
                    }
                } else {
                    "offline"
                },
            )
            .str("role", role)
            .strs("queues", queues)
            .int("slots", r.below(31) as i64)
            .str("priority", r.pick(&["never", "low", "normal", "high"]))
            .strs("groups", if r.pct(60) { vec![r.pick(&["Equipo A", "Equipo B", "Nocturno"])] } else { vec![] });
        {
            let mut ai = o.obj("additionalInfo");
            if r.pct(50) {
                let mut p = ai.obj("profile");
                p.str("site", r.pick(&["BA", "CBA", "MVD"])).str("shift", r.pick(&["morning", "afternoon", "night"]));
                p.end();
            }
            ai.end();
        }
        o.ts("creationTime", created, created_millis, TsMode::Native);
        o.end();
    }

    // ------------------------------------------------------------------ intents

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

    // ------------------------------------------------------------------ channels

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

    /// Renders any base (or extra-index) record of a non-session stream.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_record(
        &self,
        s: Stream,
        out: &mut String,
        i: u64,
        t: i64,
        native: bool,
        now: i64,
        sess: SessOpts,
    ) {
        match s {
            Stream::Chats => self.write_chat(out, i, t, native, TsMode::Native, true, true),
            Stream::Messages => self.write_message(out, i, t, native),
            Stream::Calls => self.write_call(out, i, t, native),
            Stream::Tickets => self.write_ticket(out, i, t, native),
            Stream::Contacts => self.write_contact(out, i),
            Stream::Agents => self.write_agent(out, i),
            Stream::Intents => self.write_intent(out, i),
            Stream::Channels => self.write_channel(out, i),
            Stream::Sessions => {
                let end = self.session_end(i, t);
                self.write_session(out, i, t, native, end, now, sess)
            }
        }
    }
}
