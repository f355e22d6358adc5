//! /agents records (`AgentResponse`).

use super::vocab::{FIRST, FIRST_ASCII, LAST, LAST_ASCII, QUEUES};
use super::{Gen, SALT, SALT_AGENT};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{make_id, Id, Rng};
use crate::time::{TsMode, DAY};

/// The custom role some agents have (a role of /roles).
pub(crate) const CUSTOM_ROLE: &str = "Ventas Senior";

/// Who an agent is: what other endpoints (dashboards, templates) repeat about them.
pub(crate) struct AgentProfile {
    pub id: Id,
    pub name: String,
    pub alias: &'static str,
    pub email: String,
    pub online: bool,
    pub role: &'static str,
    pub queues: Vec<&'static str>,
}

impl Gen {
    pub(crate) fn agent_facts(&self, k: u64) -> (bool, String) {
        let mut r = Rng::new(self.seed, SALT_AGENT, k);
        let first = r.below(FIRST.len() as u64) as usize;
        let last = r.below(LAST.len() as u64) as usize;
        let online = r.pct(30);
        (online, format!("{}.{}{}@mockbiz.example", FIRST_ASCII[first], LAST_ASCII[last], k))
    }

    /// Who agent `k` is, and the RNG positioned after those draws (the rest of the agent's
    /// record continues from it).
    pub(crate) fn agent_profile(&self, k: u64) -> (AgentProfile, Rng) {
        let mut r = Rng::new(self.seed, SALT_AGENT, k);
        let first = r.below(FIRST.len() as u64) as usize;
        let last = r.below(LAST.len() as u64) as usize;
        let online = r.pct(30);
        let role = match r.below(100) {
            0..=69 => "OPERATOR",
            70..=84 => "SUPERVISOR",
            85..=89 => "ADMIN",
            90..=94 => "CONFIGURATOR",
            _ => CUSTOM_ROLE,
        };
        let nq = 1 + r.below(3) as usize;
        let off = r.below(QUEUES.len() as u64) as usize;
        let profile = AgentProfile {
            id: make_id(self.seed, SALT[Stream::Agents.idx()], k),
            name: format!("{} {}", FIRST[first], LAST[last]),
            alias: FIRST[first],
            email: format!("{}.{}{}@mockbiz.example", FIRST_ASCII[first], LAST_ASCII[last], k),
            online,
            role,
            queues: (0..nq).map(|x| QUEUES[(off + x) % QUEUES.len()]).collect(),
        };
        (profile, r)
    }

    pub(crate) fn write_agent(&self, out: &mut String, k: u64) {
        let (p, mut r) = self.agent_profile(k);
        let online = p.online;
        let created = self.start - r.range(30 * DAY, 1100 * DAY);
        let created_millis = r.pct(67);

        let mut o = Obj::new(out);
        o.str("id", p.id.as_str())
            .str("email", &p.email)
            .str("name", &p.name)
            .str("alias", p.alias)
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
            .str("role", p.role)
            .strs("queues", p.queues.iter().copied())
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
}
