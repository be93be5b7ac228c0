//! The ACD against a naive reference model of the same rules, over random command sequences:
//! two queues, agents with different skills and levels, VIP and ordinary callers.
//!
//! The model keeps plain vectors and chooses by scanning them: an arriving call goes to the
//! longest-idle (or best-skilled, then longest-idle) idle agent serving its queue, else waits
//! at the position its priority and age give it; a freed agent takes the highest-priority,
//! oldest call among its queues. Every `Offer` and `Queued` the ACD emits must match.

use proptest::prelude::*;
use tandem_acd::*;

const SKILLS: [&[(u32, u8)]; 5] = [
    &[(0, 1)],
    &[(0, 3), (1, 1)],
    &[(1, 2)],
    &[(0, 2), (1, 2)],
    &[(0, 3)],
];

#[derive(Clone, Debug)]
enum Op {
    Arrive { queue: u32, vip: bool },
    Abandon(usize),
    Answer(usize),
    Finish(usize),
    Break(usize),
    Ready(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u32..2, prop::bool::weighted(0.2)).prop_map(|(queue, vip)| Op::Arrive { queue, vip }),
        2 => any::<usize>().prop_map(Op::Abandon),
        3 => any::<usize>().prop_map(Op::Answer),
        3 => any::<usize>().prop_map(Op::Finish),
        1 => any::<usize>().prop_map(Op::Break),
        1 => any::<usize>().prop_map(Op::Ready),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum St {
    Idle(u64),
    Ringing(usize),
    Talking(usize),
    NotReady,
}

struct Model {
    skills_based: bool,
    agents: Vec<St>,
    /// Waiting calls: (call index, queue, priority, age).
    waiting: Vec<(usize, u32, u8, u64)>,
    seq: u64,
}

impl Model {
    fn level(a: usize, q: u32) -> Option<u8> {
        SKILLS[a].iter().find(|s| s.0 == q).map(|s| s.1)
    }

    fn pick_agent(&self, q: u32) -> Option<usize> {
        (0..self.agents.len())
            .filter_map(|a| match self.agents[a] {
                St::Idle(since) => Model::level(a, q).map(|l| (a, l, since)),
                _ => None,
            })
            .min_by_key(|&(_, l, since)| {
                if self.skills_based {
                    (u8::MAX - l, since)
                } else {
                    (0, since)
                }
            })
            .map(|(a, _, _)| a)
    }

    fn position(&self, q: u32, prio: u8, age: u64) -> u32 {
        1 + self
            .waiting
            .iter()
            .filter(|w| w.1 == q && (w.2 > prio || (w.2 == prio && w.3 < age)))
            .count() as u32
    }

    /// The agent is free: the best call it serves, else idle.
    fn free(&mut self, a: usize) -> Option<usize> {
        let best = self
            .waiting
            .iter()
            .enumerate()
            .filter(|(_, w)| Model::level(a, w.1).is_some())
            .min_by_key(|(_, w)| (u8::MAX - w.2, w.3))
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                let call = self.waiting.remove(i).0;
                self.agents[a] = St::Ringing(call);
                Some(call)
            }
            None => {
                self.seq += 1;
                self.agents[a] = St::Idle(self.seq);
                None
            }
        }
    }
}

fn drain(acd: &mut Acd) -> Vec<Action> {
    std::iter::from_fn(|| acd.poll_action()).collect()
}

fn run(policy: Policy, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut cfg = AcdConfig::single_queue(SKILLS.len(), policy);
    cfg.queues.push(cfg.queues[0].clone());
    for (a, s) in SKILLS.iter().enumerate() {
        cfg.agents[a].skills = s.iter().map(|&(q, l)| (QueueId(q), l)).collect();
    }
    cfg.vip = vec![1];
    let mut acd = Acd::new(cfg).unwrap();
    let mut m = Model {
        skills_based: policy == Policy::SkillsBased,
        agents: vec![St::NotReady; SKILLS.len()],
        waiting: Vec::new(),
        seq: 0,
    };
    let mut ids: Vec<CallId> = Vec::new();
    let mut now = 0.0;
    for a in 0..SKILLS.len() {
        acd.agent_login(Seconds(now), AgentId(a as u32)).unwrap();
    }
    for op in ops {
        now += 1.0;
        // What the model expects: an offer (call, agent) and/or a queue position.
        let mut expect_offer: Option<(usize, usize)> = None;
        let mut expect_position: Option<u32> = None;
        match op {
            Op::Arrive { queue, vip } => {
                let call = ids.len();
                ids.push(
                    acd.call_arrived(Seconds(now), QueueId(queue), u64::from(vip))
                        .unwrap(),
                );
                match m.pick_agent(queue) {
                    Some(a) => {
                        m.agents[a] = St::Ringing(call);
                        expect_offer = Some((call, a));
                    }
                    None => {
                        let prio = if vip { u8::MAX } else { 0 };
                        m.seq += 1;
                        expect_position = Some(m.position(queue, prio, m.seq));
                        m.waiting.push((call, queue, prio, m.seq));
                    }
                }
            }
            Op::Abandon(i) => {
                if !m.waiting.is_empty() {
                    let (call, ..) = m.waiting.remove(i % m.waiting.len());
                    acd.caller_abandoned(Seconds(now), ids[call]).unwrap();
                }
            }
            Op::Answer(i) => {
                let ringing: Vec<usize> = (0..m.agents.len())
                    .filter(|&a| matches!(m.agents[a], St::Ringing(_)))
                    .collect();
                if !ringing.is_empty() {
                    let a = ringing[i % ringing.len()];
                    let St::Ringing(call) = m.agents[a] else {
                        unreachable!()
                    };
                    prop_assert_eq!(
                        acd.agent_answered(Seconds(now), AgentId(a as u32)).unwrap(),
                        ids[call]
                    );
                    m.agents[a] = St::Talking(call);
                }
            }
            Op::Finish(i) => {
                let talking: Vec<usize> = (0..m.agents.len())
                    .filter(|&a| matches!(m.agents[a], St::Talking(_)))
                    .collect();
                if !talking.is_empty() {
                    let a = talking[i % talking.len()];
                    let St::Talking(call) = m.agents[a] else {
                        unreachable!()
                    };
                    acd.call_ended(Seconds(now), ids[call]).unwrap();
                    acd.wrap_up_done(Seconds(now), AgentId(a as u32)).unwrap();
                    expect_offer = m.free(a).map(|c| (c, a));
                }
            }
            Op::Break(i) => {
                let a = i % m.agents.len();
                if matches!(m.agents[a], St::Idle(_)) {
                    acd.agent_not_ready(Seconds(now), AgentId(a as u32))
                        .unwrap();
                    m.agents[a] = St::NotReady;
                }
            }
            Op::Ready(i) => {
                let a = i % m.agents.len();
                if m.agents[a] == St::NotReady {
                    acd.agent_ready(Seconds(now), AgentId(a as u32)).unwrap();
                    expect_offer = m.free(a).map(|c| (c, a));
                }
            }
        }
        let acts = drain(&mut acd);
        let offer = acts.iter().find_map(|x| match x {
            Action::Offer { call, agent } => Some((*call, *agent)),
            _ => None,
        });
        prop_assert_eq!(
            offer,
            expect_offer.map(|(c, a)| (ids[c], AgentId(a as u32)))
        );
        let position = acts.iter().find_map(|x| match x {
            Action::Queued { position, .. } => Some(*position),
            _ => None,
        });
        prop_assert_eq!(position, expect_position);
        for q in 0..2u32 {
            let n = m.waiting.iter().filter(|w| w.1 == q).count();
            prop_assert_eq!(acd.queue_len(QueueId(q)), n);
            let idle = (0..m.agents.len())
                .filter(|&a| matches!(m.agents[a], St::Idle(_)) && Model::level(a, q).is_some())
                .count();
            prop_assert_eq!(acd.idle_agents_for(QueueId(q)), idle);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn longest_idle_matches_the_reference(ops in prop::collection::vec(op(), 1..200)) {
        run(Policy::LongestIdle, ops)?;
    }

    #[test]
    fn skills_based_matches_the_reference(ops in prop::collection::vec(op(), 1..200)) {
        run(Policy::SkillsBased, ops)?;
    }
}
