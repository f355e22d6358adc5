//! /dashboards/agent-metrics (`DashboardMetricsResponse`: one agent's metrics of one closed
//! conversation, keyed by the session's creation time) and /dashboards/agent-performance
//! (`DashboardAgentPerformanceResponse`: an agent's check-in, keyed by its time).
//!
//! The spec types every agent-metrics counter as a string: they are served as numeric strings,
//! `"-"` where a metric does not apply and now and then `""`, as live clients report.

use super::agents::AgentProfile;
use super::settings::typification_name;
use super::vocab::QUEUES;
use super::{ref_channel_id, Gen, SALT, SALT_BODY};
use crate::config::Stream;
use crate::json::Obj;
use crate::rng::Rng;
use crate::store::Facets;
use crate::time::{fmt_ts, parse_ts, push_ts, TsMode, HOUR, MIN, SEC};

/// Agent index used when the account has no agents (ids stay well-formed).
const SYNTH_AGENT: u64 = 1 << 50;

/// The agent-metrics counters, in the spec's order: the two averages (sent before `queue`),
/// then the rest (sent after `closedTime`). All are typed as strings in the spec.
pub const AGENT_METRIC_COUNTERS: [&str; 21] = [
    "avgAttendingTime",
    "avgResponseTime",
    "openSessions",
    "closedSessions",
    "onHold",
    "opResponseTime",
    "operatorResponses",
    "sessionTransferIn",
    "sessionTransferOut",
    "sessionTransferOutNoMessages",
    "closedWithNoMessages",
    "timeoutNoMessages",
    "agentTimeout",
    "userTimeout",
    "fromQueueAsignToOpAssigned",
    "fromSessionStartToOpFirstResponse",
    "fromQueueAsignToOpFirstResponse",
    "fromOpAssignedToOpFirstResponse",
    "fromQueueAsignToSessionClosed",
    "fromOpAssignationToSessionClosed",
    "sessionTimeout",
];

/// Who one metric or check-in belongs to.
struct Actor {
    chat: u64,
    agent: Option<u64>,
    queue: &'static str,
}

impl Gen {
    fn dashboard_rng(&self, s: Stream, i: u64) -> Rng {
        Rng::new(self.seed, SALT_BODY ^ SALT[s.idx()], i)
    }

    /// The chat, agent and queue of agent-metric `i` (drawn first from its RNG).
    fn metric_actor(&self, r: &mut Rng, i: u64) -> Actor {
        let chat = self.chat_index_for(r, i);
        let agent = self.agent_pick(r);
        Actor { chat, agent, queue: r.pick(&QUEUES) }
    }

    /// The agent (generated, or a stand-in with a well-formed id when there are none).
    fn dashboard_agent(&self, agent: Option<u64>, i: u64) -> AgentProfile {
        self.agent_profile(agent.unwrap_or(SYNTH_AGENT + i)).0
    }

    /// `sessionId|agentId` of agent-metric `i`.
    pub(super) fn agent_metric_key(&self, i: u64) -> String {
        let s = Stream::AgentMetrics;
        let (t, native) = self.time_of(s, i);
        let mut r = self.dashboard_rng(s, i);
        let actor = self.metric_actor(&mut r, i);
        let agent = self.dashboard_agent(actor.agent, i);
        let mut key = self.chat_facts(actor.chat).id.as_str().to_string();
        key.push('_');
        push_ts(&mut key, t, native);
        key.push('|');
        key.push_str(agent.id.as_str());
        key
    }

    /// `agentEmail|checkin` of check-in `i`.
    pub(super) fn agent_performance_key(&self, i: u64) -> String {
        let s = Stream::AgentPerformance;
        let (t, native) = self.time_of(s, i);
        let mut r = self.dashboard_rng(s, i);
        let agent = self.dashboard_agent(self.agent_pick(&mut r), i);
        format!("{}|{}", agent.email, fmt_ts(t, native))
    }

    /// The time inside an agent-metrics or agent-performance primary key.
    pub(super) fn keyed_time(&self, s: Stream, pk: &str) -> Option<i64> {
        let ts = match s {
            Stream::AgentMetrics => pk.split_once('|')?.0.rsplit_once('_')?.1,
            _ => pk.rsplit_once('|')?.1,
        };
        parse_ts(ts)
    }

    pub(crate) fn write_agent_metric(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = self.dashboard_rng(Stream::AgentMetrics, i);
        let actor = self.metric_actor(&mut r, i);
        let agent = self.dashboard_agent(actor.agent, i);
        let chat = self.chat_facts(actor.chat).id;
        let closed = t + 3 * MIN + r.range(0, 3 * HOUR);
        let mut o = Obj::new(out);
        o.str("chatId", chat.as_str()).ts("sessionCreationTime", t, native, TsMode::Native);
        let responded = r.pct(90);
        o.str("avgAttendingTime", &r.range(30, 4_000).to_string());
        o.str("avgResponseTime", &if responded { r.range(5, 900).to_string() } else { "-".into() });
        o.str("queue", actor.queue).str("agentName", &agent.name).str("agentId", agent.id.as_str());
        {
            let k = o.key("sessionId");
            k.push('"');
            k.push_str(chat.as_str());
            k.push('_');
            push_ts(k, t, native);
            k.push('"');
        }
        o.str("typification", &typification_name(r.below(self.n(Stream::Typifications).max(1)))).ts(
            "closedTime",
            closed,
            r.pct(67),
            TsMode::Native,
        );
        // The counters after the two averages, which went out above.
        for name in &AGENT_METRIC_COUNTERS[2..] {
            o.str(name, &Self::counter(name, responded, &mut r));
        }
        o.str("conversationLink", &format!("https://go.botmaker.com/#/chats/{}", chat.as_str()));
        o.end();
    }

    /// One counter's text: a number, `"-"` where it does not apply (no response yet), or
    /// sometimes `""`.
    fn counter(name: &str, responded: bool, r: &mut Rng) -> String {
        let needs_response = name.contains("FirstResponse") || name == "opResponseTime";
        if needs_response && !responded {
            return "-".into();
        }
        if r.pct(3) {
            return String::new();
        }
        let v = match name {
            "openSessions" => 0,
            "closedSessions" => 1,
            "operatorResponses" => r.range(1, 25),
            n if n.starts_with("from") || n.ends_with("Time") => r.range(1, 3_600),
            _ => r.range(0, 2),
        };
        v.to_string()
    }

    pub(crate) fn agent_metric_facts(&self, i: u64) -> Facets {
        let mut r = self.dashboard_rng(Stream::AgentMetrics, i);
        let actor = self.metric_actor(&mut r, i);
        let agent = self.dashboard_agent(actor.agent, i);
        let f = self.chat_facts(actor.chat);
        Facets {
            agent_id: agent.id.as_str().to_string(),
            online: agent.online,
            queues: vec![actor.queue.to_string()],
            channel_ids: vec![ref_channel_id(f.channel).to_string(), f.channel_line()],
            ..Default::default()
        }
    }

    pub(crate) fn write_agent_performance(&self, out: &mut String, i: u64, t: i64, native: bool) {
        let mut r = self.dashboard_rng(Stream::AgentPerformance, i);
        let agent = self.dashboard_agent(self.agent_pick(&mut r), i);
        let checkout = t + HOUR + r.range(0, 8 * HOUR) + r.range(0, 60) * SEC;
        let state = r.pick(&["Available", "Busy", "Away", "Offline"]);
        let mut o = Obj::new(out);
        o.str("agentEmail", &agent.email)
            .str("agentName", &agent.name)
            .str("role", agent.role)
            .strs("queue", agent.queues.iter().copied())
            .str("state", if checkout <= self.anchor { "Offline" } else { state })
            .ts("checkin", t, native, TsMode::Native);
        // Still checked in at the data's end: no checkout yet.
        if checkout <= self.anchor {
            o.ts("checkout", checkout, native, TsMode::Native);
        }
        o.end();
    }

    pub(crate) fn agent_performance_facts(&self, i: u64) -> Facets {
        let mut r = self.dashboard_rng(Stream::AgentPerformance, i);
        let agent = self.dashboard_agent(self.agent_pick(&mut r), i);
        Facets {
            agent_id: agent.id.as_str().to_string(),
            queues: agent.queues.iter().map(|q| q.to_string()).collect(),
            ..Default::default()
        }
    }
}

impl super::ChatFacts {
    /// The chat's channel as a bare line or recipient number (`channel-ids` of agent-metrics
    /// accepts a channel id or that number).
    fn channel_line(&self) -> String {
        let id = ref_channel_id(self.channel);
        id.rsplit('-').next().unwrap_or(id).to_string()
    }
}
