//! /notifications/campaigns (`CampaignResponse`), /notifications/sent-results
//! (`NotificationInstanceResponse`: one sending of a notification and its counters, keyed by its
//! start) and /notifications/contacts-blacklist (plain phone numbers).

use super::{Gen, EXTRA_BASE, SALT, SALT_BODY};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{make_id, Rng};
use crate::store::Facets;
use crate::time::{TsMode, MIN};

const CAMPAIGN_NAMES: [&str; 6] = [
    "Black Friday",
    "Bienvenida clientes nuevos",
    "Recupero de carrito",
    "Encuesta NPS",
    "Aviso de envío",
    "Cumpleaños 🎂",
];
const CAMPAIGN_GOALS: [&str; 4] = ["sales", "engagement", "retention", "service"];
pub(crate) const NOTIFICATION_NAMES: [&str; 5] =
    ["Promo semanal", "Recordatorio de turno", "Carrito abandonado", "Encuesta \"NPS\"", "Aviso de envío"];
const CONTACT_GROUPS: [&str; 4] = ["Clientes VIP", "Todos", "Carritos abandonados", "Nuevos"];

/// Blacklisted numbers are `5491` + nine digits, an invertible scramble of the index
/// (`5492` for records added at runtime).
const SCRAMBLE_MOD: u64 = 1_000_000_000;
const SCRAMBLE_MUL: u64 = 7_919;
const SCRAMBLE_ADD: u64 = 12_345;

fn campaign_name(c: u64) -> String {
    let base = CAMPAIGN_NAMES[(c % CAMPAIGN_NAMES.len() as u64) as usize];
    if c < CAMPAIGN_NAMES.len() as u64 {
        base.to_string()
    } else {
        format!("{base} {c}")
    }
}

impl Gen {
    pub(crate) fn write_campaign(&self, out: &mut String, k: u64) {
        let mut r = Rng::new(self.seed, SALT_BODY ^ SALT[Stream::Campaigns.idx()], k);
        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[Stream::Campaigns.idx()], k).as_str())
            .str("name", &campaign_name(k))
            .str("goal", r.pick(&CAMPAIGN_GOALS))
            .bool("active", r.pct(70));
        o.end();
    }

    fn notification_rng(&self, i: u64) -> Rng {
        Rng::new(self.seed, SALT_BODY ^ SALT[Stream::NotificationResults.idx()], i)
    }

    /// The notification instance `i` sends (drawn first from its RNG).
    fn notification_name(r: &mut Rng) -> &'static str {
        r.pick(&NOTIFICATION_NAMES)
    }

    /// A sending that started at `t`: its campaign, audience, end, status and counters.
    pub(crate) fn write_notification_result(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = self.notification_rng(i);
        let name = Self::notification_name(&mut r);
        let campaign = campaign_name(r.below(self.n(Stream::Campaigns).max(1)));
        let end = t + 2 * MIN + r.range(0, 90 * MIN);
        let status = if r.pct(3) {
            "CANCELLED"
        } else if end <= self.anchor {
            "COMPLETED"
        } else {
            "IN_PROGRESS"
        };
        let sent = r.range(10, 5_000);
        let delivered = sent - r.range(0, sent / 20 + 1);
        let read = delivered - r.range(0, delivered / 3 + 1);
        let answered = r.range(0, read / 4 + 1);
        let mut o = Obj::new(out);
        o.str("campaignName", &campaign)
            .str("contactGroup", r.pick(&CONTACT_GROUPS))
            .str("notificationName", name)
            .ts("start", t, native, TsMode::Native)
            .ts("end", end, native, TsMode::Native)
            .str("status", status);
        {
            let mut d = o.obj("details");
            d.int("sent", sent)
                .int("delivered", delivered)
                .int("read", read)
                .int("answered", answered)
                .int("error", sent - delivered);
            d.end();
        }
        o.str("notificationInstanceId", make_id(self.seed, SALT[Stream::NotificationResults.idx()], i).as_str());
        o.end();
    }

    pub(crate) fn notification_result_facts(&self, i: u64) -> Facets {
        let name = Self::notification_name(&mut self.notification_rng(i));
        Facets { name: name.to_string(), ..Default::default() }
    }
}

/// The `k`-th blacklisted number (its own primary key).
pub(super) fn blacklisted_number(k: u64) -> String {
    let (prefix, j) = if k >= EXTRA_BASE { ("5492", k - EXTRA_BASE) } else { ("5491", k) };
    let x = ((j % SCRAMBLE_MOD) as u128 * SCRAMBLE_MUL as u128 + SCRAMBLE_ADD as u128) % SCRAMBLE_MOD as u128;
    format!("{prefix}{x:09}")
}

/// The base index a blacklisted number was made from.
pub(super) fn blacklist_index(number: &str) -> Option<u64> {
    let digits = number.strip_prefix("5491").filter(|d| d.len() == 9)?;
    let x: u64 = digits.parse().ok()?;
    let inverse = mod_inverse(SCRAMBLE_MUL, SCRAMBLE_MOD)?;
    let j = ((x + SCRAMBLE_MOD - SCRAMBLE_ADD) % SCRAMBLE_MOD) as u128 * inverse as u128 % SCRAMBLE_MOD as u128;
    Some(j as u64)
}

/// `a⁻¹ mod m` by the extended Euclidean algorithm.
fn mod_inverse(a: u64, m: u64) -> Option<u64> {
    let (mut old_r, mut r) = (a as i128, m as i128);
    let (mut old_s, mut s) = (1i128, 0i128);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_s, s) = (s, old_s - q * s);
    }
    (old_r == 1).then(|| old_s.rem_euclid(m as i128) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blacklisted_numbers_are_distinct_and_map_back() {
        let mut seen = std::collections::HashSet::new();
        for k in (0..5_000).chain([999_999_999, 123_456_789]) {
            let n = blacklisted_number(k);
            assert_eq!(n.len(), 13, "{n}");
            assert!(seen.insert(n.clone()));
            assert_eq!(blacklist_index(&n), Some(k));
        }
        assert_eq!(blacklist_index(&blacklisted_number(EXTRA_BASE + 3)), None);
        assert_eq!(blacklist_index("549112345678"), None);
    }
}
