//! A replication's set-up: the scenario's groups, call types and overflow rules as the ACD's
//! queues and agents, and the model's random streams and measurements.
//!
//! Each call type has a queue per overflow stage: stage 0 is answered by the type's own
//! groups; when a call has waited as long as the type's first overflow rule says, the ACD
//! moves it (keeping its age) to stage 1, answered by those groups and the rule's group; and
//! so on. A call that overflows is thus still answered by the first agent of any group so
//! far to become free. Agents serve their groups' types at skill level 2 and the stages they
//! reach by overflow at level 1 (which matters to the `skills-based` policy only).

use std::collections::HashMap;
use std::sync::Arc;

use tandem_acd::{
    Acd, AcdConfig, AgentConfig, CallbackConfig, OverflowRule, OverflowTarget, OverflowTrigger,
    QueueConfig, QueueId, Seconds,
};

use super::{GroupModel, Rngs, Run, SimAgent, Slots, Stream, TypeModel};
use crate::SimError;
use crate::arrivals::ArrivalGen;
use crate::breakdown::Breakdown;
use crate::grid::Grid;
use crate::kernel::Kernel;
use crate::metrics::RunMetrics;
use crate::rng::{self, Stream as Source, stream};
use crate::scenario::{Routing, Scenario, Shift};

/// The ACD's queues: per call type, one per overflow stage. Returns the configs, the type
/// and stage of each queue, and each type's first queue.
fn queues(sc: &Scenario, r: &Routing) -> (Vec<QueueConfig>, Vec<(u16, u16)>, Vec<u32>) {
    let mut configs = Vec::new();
    let mut stage_of = Vec::new();
    let mut first = Vec::new();
    let plain = r.types.len() == 1 && r.steps[0].is_empty();
    for (t, steps) in r.steps.iter().enumerate() {
        let base = configs.len() as u32;
        first.push(base);
        for s in 0..=steps.len() {
            let entered = if s == 0 { 0.0 } else { steps[s - 1].0 };
            let mut overflow = Vec::new();
            if let Some(&(after, _)) = steps.get(s) {
                let gap = after - entered;
                overflow.push(OverflowRule {
                    trigger: if s == 0 && gap == 0.0 {
                        OverflowTrigger::QueueLengthAtLeast(0)
                    } else {
                        OverflowTrigger::WaitAtLeast(gap)
                    },
                    target: OverflowTarget::Queue(QueueId(base + s as u32 + 1)),
                });
            }
            if let Some(v) = sc.queue.voicemail_after_s
                && v > entered
            {
                overflow.push(OverflowRule {
                    trigger: OverflowTrigger::WaitAtLeast(v - entered),
                    target: OverflowTarget::Voicemail,
                });
            }
            let mut name = if plain {
                "main".to_string()
            } else {
                r.types[t].clone()
            };
            for (_, g) in &steps[..s] {
                name.push('+');
                name.push_str(&r.groups[*g]);
            }
            configs.push(QueueConfig {
                name,
                sl_target: 0.8,
                sl_seconds: sc.sl_threshold_s,
                overflow,
            });
            stage_of.push((t as u16, s as u16));
        }
    }
    (configs, stage_of, first)
}

/// The skills of an agent of group `g`.
fn skills(r: &Routing, first_queue: &[u32], g: usize) -> Vec<(QueueId, u8)> {
    let mut out = Vec::new();
    for (t, steps) in r.steps.iter().enumerate() {
        let primary = r.primary[t].contains(&g);
        for s in 0..=steps.len() {
            let reached = steps[..s].iter().any(|(_, x)| *x == g);
            if primary || reached {
                out.push((
                    QueueId(first_queue[t] + s as u32),
                    if primary { 2 } else { 1 },
                ));
            }
        }
    }
    out
}

/// Builds replication `rep` of `sc`.
pub(super) fn build(sc: &Scenario, rep: u32) -> Result<Run<'_>, SimError> {
    let r = sc.routing()?;
    let group_specs: Vec<(u32, &[Shift])> =
        std::iter::once((sc.agents.count, &sc.agents.shifts[..]))
            .chain(sc.groups.iter().map(|g| (g.count, &g.shifts[..])))
            .collect();
    let mut groups = Vec::new();
    let mut agent_group = Vec::new();
    let mut first = 0u32;
    for (gi, (count, shifts)) in group_specs.iter().enumerate() {
        let size = crate::scenario::most_on_duty(*count, shifts);
        groups.push(GroupModel {
            first,
            size,
            count: *count,
            shifts,
            excess: 0,
        });
        agent_group.extend(std::iter::repeat_n(gi as u16, size as usize));
        first += size;
    }
    let (queue_configs, queue_stage, first_queue) = queues(sc, &r);
    let mut agents = Vec::with_capacity(first as usize);
    for (gi, g) in groups.iter().enumerate() {
        let sk = skills(&r, &first_queue, gi);
        for i in 0..g.size {
            agents.push(AgentConfig {
                name: format!("{}{i}", r.groups[gi]),
                skills: sk.clone(),
            });
        }
    }
    let pop = sc.callers.population;
    let vip_below = (sc.callers.vip_fraction * pop as f64) as u64;
    let blacklist_below = vip_below + (sc.callers.blacklist_fraction * pop as f64) as u64;
    let cfg = AcdConfig {
        queues: queue_configs,
        agents,
        policy: sc.agents.policy,
        ring_timeout_s: sc.agents.ring_timeout_s,
        sticky_wait_s: sc.callers.sticky_wait_s,
        callback: sc.callback.as_ref().map(|c| CallbackConfig {
            offer_when_expected_wait_s: c.offer_when_expected_wait_s,
            max_entries: c.max_entries,
            expire_after_s: c.expire_after_s,
            max_attempts: c.max_attempts,
            start_at_s: c.start_at_s,
        }),
        vip: (0..vip_below).collect(),
        vip_agent: Vec::new(),
        blacklist: (vip_below..blacklist_below).collect(),
        seed: rng::splitmix64(sc.seed ^ u64::from(rep)),
        record_calls: false,
    };
    let mut acd = Acd::new(cfg).map_err(|e| SimError::Invalid(e.to_string()))?;

    let types: Vec<TypeModel> = if sc.call_types.is_empty() {
        vec![TypeModel {
            talk: &sc.agents.talk,
            acw: &sc.agents.acw,
            patience: &sc.queue.patience,
            priority: 0,
            queue: 0,
        }]
    } else {
        sc.call_types
            .iter()
            .enumerate()
            .map(|(i, t)| TypeModel {
                talk: t.talk.as_ref().unwrap_or(&sc.agents.talk),
                acw: t.acw.as_ref().unwrap_or(&sc.agents.acw),
                patience: t.patience.as_ref().unwrap_or(&sc.queue.patience),
                priority: t.priority,
                queue: first_queue[i],
            })
            .collect()
    };
    // The expected-wait estimate starts from the model's own handle time: ring, talk and
    // after-call work, weighted by each type's expected calls.
    let main_calls = sc.arrivals.expected_between(0.0, sc.duration_s);
    let total_share: f64 = sc.call_types.iter().map(|t| t.share).sum();
    let weights: Vec<f64> = if sc.call_types.is_empty() {
        vec![1.0]
    } else {
        sc.call_types
            .iter()
            .map(|t| match &t.arrivals {
                Some(a) => a.expected_between(0.0, sc.duration_s),
                None if total_share > 0.0 => main_calls * t.share / total_share,
                None => 0.0,
            })
            .collect()
    };
    let wsum: f64 = weights.iter().sum();
    if wsum > 0.0 {
        let handle: f64 = types
            .iter()
            .zip(&weights)
            .map(|(t, w)| w * (t.talk.mean() + t.acw.mean()))
            .sum::<f64>()
            / wsum
            + sc.agents.ring.mean();
        acd.set_expected_handle_time(Seconds(handle));
    }
    let mut acc = 0.0;
    let shares: Vec<f64> = if sc.call_types.is_empty() {
        Vec::new()
    } else {
        sc.call_types
            .iter()
            .map(|t| {
                acc += t.share;
                acc
            })
            .collect()
    };
    let s = |st| stream(sc.seed, rep, st);
    let busyness = match &sc.busyness {
        Some(d) => d.sample(&mut s(Source::Busyness)),
        None => 1.0,
    };
    let streams = sc
        .call_types
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            t.arrivals.as_ref().map(|a| Stream {
                arrivals: ArrivalGen::scaled(a, busyness),
                rng: rng::type_arrivals(sc.seed, rep, i),
                ctype: i as u16,
            })
        })
        .collect();
    let mut shift_times: Vec<f64> = group_specs
        .iter()
        .flat_map(|(_, shifts)| shifts.iter().flat_map(|s| [s.start_s, s.end_s]))
        .filter(|t| *t > 0.0)
        .collect();
    shift_times.sort_by(f64::total_cmp);
    shift_times.dedup();

    let grid = Arc::new(Grid::new(
        sc.interval_s,
        sc.duration_s,
        sc.warmup_s,
        sc.batches.unwrap_or(1),
    ));
    let breakdown = Breakdown::new(
        &grid,
        if sc.call_types.is_empty() {
            0
        } else {
            types.len()
        },
        if sc.groups.is_empty() {
            0
        } else {
            groups.len()
        },
        r.steps.iter().map(Vec::len).sum(),
    );
    let flow = super::flow::FlowPlan::of(sc);
    let mut m = RunMetrics::new(
        &grid,
        sc.trunks.capacity(),
        sc.ivr.as_ref().map(|i| i.ports),
        breakdown,
    );
    m.flow = flow.as_ref().map(|f| f.metrics());
    Ok(Run {
        sc,
        k: Kernel::new(),
        acd,
        rng: Rngs {
            arrivals: s(Source::Arrivals),
            patience: s(Source::Patience),
            ivr: s(Source::Ivr),
            ring: s(Source::Ring),
            talk: s(Source::Talk),
            acw: s(Source::Acw),
            redial: s(Source::Redial),
            callback: s(Source::Callback),
            callers: s(Source::Callers),
            types: s(Source::CallTypes),
            balk: s(Source::Balk),
            acceptance: s(Source::Acceptance),
            far_end: s(Source::FarEnd),
        },
        calls: Vec::new(),
        free: Vec::new(),
        by_acd: Vec::new(),
        agents: vec![SimAgent::default(); first as usize],
        agent_group,
        groups,
        types,
        shares,
        queue_stage,
        first_rule: r.first_rule.clone(),
        streams,
        busyness,
        timers: Slots::new(),
        dials: Slots::new(),
        attempts: HashMap::default(),
        callback_types: HashMap::default(),
        redials: Slots::new(),
        shift_times,
        m,
        vip_below,
        numbered_callers: sc.callers.vip_fraction > 0.0
            || sc.callers.blacklist_fraction > 0.0
            || sc.callers.sticky_wait_s.is_some()
            || sc.callback.is_some(),
        short_waits: 0,
        event_cap: crate::budget::replication_cap(sc),
        breakdown_on: !sc.call_types.is_empty() || !sc.groups.is_empty(),
        excess_total: 0,
        declined_seen: 0,
        acceptance: sc.callback.as_ref().map_or(1.0, |c| c.acceptance),
        observer: None,
        flow_on: flow.is_some(),
        flow,
        flow_calls: Vec::new(),
        flow_actions: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(extra: &str) -> Scenario {
        Scenario::from_toml(
            &format!(
                "name = \"x\"\nduration_s = 3600\n[arrivals]\nkind = \"poisson\"\nper_min = 10\n\
                 [queue]\npatience = {{ kind = \"exponential\", mean = 60 }}\n\
                 [agents]\ncount = 5\ntalk = {{ kind = \"exponential\", mean = 40 }}\n\
                 acw = {{ kind = \"deterministic\", value = 10 }}\n\
                 ring = {{ kind = \"uniform\", min = 2, max = 8 }}\n{extra}"
            ),
            "t",
            None,
        )
        .unwrap()
    }

    #[test]
    fn the_expected_wait_starts_from_the_models_handle_time() {
        // Ring 5 s + talk 40 s + wrap-up 10 s, not the ACD's default of 180 s.
        let sc = scenario("");
        assert_eq!(
            build(&sc, 0).unwrap().acd.expected_handle_time().get(),
            55.0
        );
        // Call types weight their handle times by their expected calls: the main 10/min of
        // 40 + 10 s and 5/min of a stream of its own of 200 + 10 s.
        let sc = scenario(
            "[[call_types]]\nname = \"a\"\nshare = 1\n\
             [[call_types]]\nname = \"b\"\narrivals = { kind = \"poisson\", per_min = 5 }\n\
             talk = { kind = \"deterministic\", value = 200 }\n",
        );
        let want = (10.0 * 50.0 + 5.0 * 210.0) / 15.0 + 5.0;
        let got = build(&sc, 0).unwrap().acd.expected_handle_time().get();
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
}
