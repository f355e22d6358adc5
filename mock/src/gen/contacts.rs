//! /contacts records (`ContactResponse`): contact `k` is the person of chat `k`.

use super::channels::PLATFORMS;
use super::vocab::{COUNTRIES, FIRST, FIRST_ASCII, LAST, LAST_ASCII};
use super::{ref_channel_id, ChatFacts, Gen, SALT, SALT_CONTACT, SYNTH_CHAT};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{make_id, mix, Rng};

impl Gen {
    /// The chat contact `k` belongs to (a synthetic one beyond the generated chats).
    fn contact_chat(&self, k: u64) -> u64 {
        if k < self.n(Stream::Chats) {
            k
        } else {
            SYNTH_CHAT + k
        }
    }

    pub(crate) fn write_contact(&self, out: &mut String, k: u64) {
        let mut r = Rng::new(self.seed, SALT_CONTACT, k);
        let j = self.contact_chat(k);
        let f = self.chat_facts(j);
        let second = r.pct(10);
        let bsuid = (f.channel == 0 && r.pct(50)).then(|| format!("AR.{:016X}", mix(k ^ 0xB5)));

        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[Stream::Contacts.idx()], k).as_str())
            .str("firstName", FIRST[f.first])
            .str("lastName", LAST[f.last]);
        Self::write_profile(&mut o, k, &mut r);
        Self::write_contact_fields(&mut o, &f, j, &mut r);
        o.strs("instagramIds", if f.channel == 3 { vec![f.contact.as_str()] } else { vec![] })
            .strs("facebookIds", if f.channel == 1 { vec![f.contact.as_str()] } else { vec![] })
            .strs("twitterIds", std::iter::empty())
            .strs("notes", if r.pct(10) { vec!["Prefiere contacto por la tarde"] } else { vec![] });
        self.write_contact_chats(&mut o, k, &f, bsuid.as_deref(), second);
        o.strs("whatsappBsuids", bsuid.as_deref());
        o.end();
    }

    /// `birthday`, `pictureUrl`, `language`, `country`, `companyId`, `jobTitle`.
    fn write_profile(o: &mut Obj, k: u64, r: &mut Rng) {
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
    }

    /// `phoneNumbers`, `emails`, `addresses`, `websites`: `{value, label}` lists.
    fn write_contact_fields(o: &mut Obj, f: &ChatFacts, j: u64, r: &mut Rng) {
        let phone = (f.channel == 0).then(|| (format!("+{}", f.contact), "Mobile"));
        Self::write_labelled(o, "phoneNumbers", phone);
        let email = f
            .has_email
            .then(|| (format!("{}.{}{}@example.com", FIRST_ASCII[f.first], LAST_ASCII[f.last], j % 1000), "Home"));
        Self::write_labelled(o, "emails", email);
        let address = r.pct(15).then(|| ("Av. Corrientes 1234, Piso 5 \"B\", CABA".to_string(), "Work"));
        Self::write_labelled(o, "addresses", address);
        let website = r.pct(5).then(|| ("https://tienda-ejemplo.example".to_string(), "Shop"));
        Self::write_labelled(o, "websites", website);
    }

    /// A `ContactField` list with zero or one entry.
    fn write_labelled(o: &mut Obj, key: &str, entry: Option<(String, &str)>) {
        let mut a = o.arr(key);
        if let Some((value, label)) = entry {
            let mut e = a.obj();
            e.str("value", &value).str("label", label);
            e.end();
        }
        a.end();
    }

    /// `chats`: the contact's own chat, and for some a second (webchat) one.
    fn write_contact_chats(&self, o: &mut Obj, k: u64, f: &ChatFacts, bsuid: Option<&str>, second: bool) {
        let mut a = o.arr("chats");
        let mut c = a.obj();
        c.str("id", f.id.as_str()).str("platformContactId", &f.contact).str("chatChannelId", ref_channel_id(f.channel));
        if let Some(b) = bsuid {
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

    pub(crate) fn contact_facts(&self, k: u64) -> crate::store::Facets {
        let mut r = Rng::new(self.seed, SALT_CONTACT, k);
        let f = self.chat_facts(self.contact_chat(k));
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
}
