//! /calls records (`CallResponse`): a call in a chat, its recording and its participants.

use super::vocab::QUEUES;
use super::{ChatFacts, Gen, SALT, SALT_CALL, SALT_REC};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::{make_id, Id, Rng};
use crate::time::{TsMode, MIN, SEC};

/// When a call was created, started and ended; `styled` is the style of start/end times.
struct CallTimes {
    created: i64,
    created_millis: bool,
    start: i64,
    end: i64,
    styled: bool,
}

impl Gen {
    pub(crate) fn write_call(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = Rng::new(self.seed, SALT_CALL, i);
        let j = self.chat_index_for(&mut r, i);
        let f = self.chat_facts(j);
        let agent = self.agent_id(&mut r);
        let start = t + r.range(2 * SEC, 30 * SEC);
        let end = start + r.range(30 * SEC, 40 * MIN);
        let times = CallTimes { created: t, created_millis: native, start, end, styled: r.pct(67) };
        let video = r.pct(20);
        let rec = r.pct(70);
        let queue = r.pick(&QUEUES);

        let mut o = Obj::new(out);
        o.str("id", make_id(self.seed, SALT[Stream::Calls.idx()], i).as_str());
        Self::write_chat_ref(&mut o, &f);
        if let Some(a) = &agent {
            o.str("agentId", a.as_str());
        }
        o.ts("creationDatetime", t, native, TsMode::Native)
            .ts("startDatetime", start, times.styled, TsMode::Native)
            .ts("endDatetime", end, times.styled, TsMode::Native);
        if rec {
            self.write_recording(&mut o, i);
        }
        o.str("type", if video { "video" } else { "audio" });
        Self::write_participants(&mut o, &f, agent.as_ref(), queue, &times);
        o.end();
    }

    /// `recording`: its id and a download URL on the mock's own base URL.
    fn write_recording(&self, o: &mut Obj, i: u64) {
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

    /// `participants`: the user, then the agent if one took the call.
    fn write_participants(o: &mut Obj, f: &ChatFacts, agent: Option<&Id>, queue: &str, tm: &CallTimes) {
        let mut a = o.arr("participants");
        let mut p = a.obj();
        p.str("participantId", &f.contact)
            .str("initiatedByType", "user")
            .ts("joinedDatetime", tm.start, tm.styled, TsMode::Native)
            .ts("leftDatetime", tm.end, tm.styled, TsMode::Native);
        p.end();
        if let Some(ag) = agent {
            let mut p = a.obj();
            p.str("participantId", ag.as_str())
                .str("initiatedByType", "agent")
                .ts("assignedTs", tm.created, tm.created_millis, TsMode::Native)
                .str("supportTeamId", queue)
                .ts("joinedDatetime", tm.start + 1500, true, TsMode::Native)
                .ts("leftDatetime", tm.end, tm.styled, TsMode::Native);
            p.end();
        }
        a.end();
    }
}
