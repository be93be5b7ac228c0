//! Static configuration of an ACD: queues, agents, routing policy, lists and callback.

use serde::{Deserialize, Serialize};

use crate::{AgentId, QueueId};

/// How an idle agent is chosen for a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// The agent idle the longest.
    LongestIdle,
    /// The next agent after the last one chosen, in configuration order.
    RoundRobin,
    /// The agent who has handled the fewest calls (ties: longest idle).
    FewestCalls,
    /// A uniformly random idle agent (from the ACD's seeded generator).
    Random,
    /// The highest skill level for the call's queue (ties: longest idle).
    SkillsBased,
}

/// What triggers an overflow rule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverflowTrigger {
    /// The call has waited this many seconds in the queue.
    WaitAtLeast(f64),
    /// On arrival, this many calls are already waiting.
    QueueLengthAtLeast(u32),
    /// On arrival, the expected wait is at least this many seconds.
    ExpectedWaitAtLeast(f64),
}

/// Where an overflowing call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverflowTarget {
    /// Another queue; the call keeps its age.
    Queue(QueueId),
    /// Back to the IVR (the call leaves the ACD).
    Ivr,
    /// To voicemail (the call leaves the ACD).
    Voicemail,
    /// The callback offer ("smart dissuasion").
    Callback,
}

/// One overflow rule of a queue.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverflowRule {
    /// When it fires.
    pub trigger: OverflowTrigger,
    /// Where the call goes.
    pub target: OverflowTarget,
}

/// A queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueConfig {
    /// Name, for reports.
    pub name: String,
    /// Service-level target: this fraction answered within `sl_seconds`.
    pub sl_target: f64,
    /// Service-level threshold in seconds.
    pub sl_seconds: f64,
    /// Overflow rules, checked in order.
    pub overflow: Vec<OverflowRule>,
}

/// An agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    /// Name, for reports.
    pub name: String,
    /// Queues this agent serves, with a skill level (higher is better).
    pub skills: Vec<(QueueId, u8)>,
}

/// Callback ("smart dissuasion") settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallbackConfig {
    /// Offer a callback on arrival when no agent of the queue is idle and the expected wait
    /// is at least this many seconds (0: whenever no agent is idle).
    pub offer_when_expected_wait_s: f64,
    /// Most entries kept; offers beyond this are not made.
    pub max_entries: usize,
    /// Entries older than this many seconds expire unserved.
    pub expire_after_s: f64,
    /// Dial attempts per entry before it expires.
    pub max_attempts: u32,
    /// Callbacks are dialled only from this time on (seconds), and only when no inbound call
    /// waits for the agent.
    pub start_at_s: f64,
}

/// What a driver tells the ACD about an arriving call besides its queue and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallOptions {
    /// Queue priority (higher is answered first); VIP callers rank above any.
    pub priority: u8,
    /// Whether the caller would accept a callback offer.
    pub accepts_callback: bool,
}

impl Default for CallOptions {
    fn default() -> CallOptions {
        CallOptions {
            priority: 0,
            accepts_callback: true,
        }
    }
}

/// Everything the ACD needs to know up front.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcdConfig {
    /// Queues, indexed by [`QueueId`].
    pub queues: Vec<QueueConfig>,
    /// Agents, indexed by [`AgentId`].
    pub agents: Vec<AgentConfig>,
    /// Agent selection policy.
    pub policy: Policy,
    /// Ring-no-answer timeout in seconds: the call returns to the head of its queue and the
    /// agent goes not-ready.
    pub ring_timeout_s: Option<f64>,
    /// Sticky agent: a caller waits up to this long for the agent who served them last.
    pub sticky_wait_s: Option<f64>,
    /// Callback settings, if offered.
    pub callback: Option<CallbackConfig>,
    /// VIP callers: they jump the queue (highest priority).
    pub vip: Vec<u64>,
    /// VIP callers routed to a set agent when that agent is idle.
    pub vip_agent: Vec<(u64, AgentId)>,
    /// Blacklisted callers: rejected as busy.
    pub blacklist: Vec<u64>,
    /// Seed of the generator behind [`Policy::Random`].
    pub seed: u64,
    /// Keep a per-call record for reports (costs memory per call).
    pub record_calls: bool,
}

impl AcdConfig {
    /// One queue served by `agents` identical agents with `policy`, nothing else enabled: the
    /// M/M/n shape.
    pub fn single_queue(agents: usize, policy: Policy) -> AcdConfig {
        AcdConfig {
            queues: vec![QueueConfig {
                name: "main".into(),
                sl_target: 0.8,
                sl_seconds: 20.0,
                overflow: Vec::new(),
            }],
            agents: (0..agents)
                .map(|i| AgentConfig {
                    name: format!("agent{i}"),
                    skills: vec![(QueueId(0), 1)],
                })
                .collect(),
            policy,
            ring_timeout_s: None,
            sticky_wait_s: None,
            callback: None,
            vip: Vec::new(),
            vip_agent: Vec::new(),
            blacklist: Vec::new(),
            seed: 1,
            record_calls: false,
        }
    }
}
