//! A loaded scenario's values against their bounds and each other.

// Checks are written `!(x > 0.0)` on purpose: a NaN fails them too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use super::bounds::*;
use super::{Scenario, Shift};
use crate::dist::Dist;

type Check = Result<(), Problem>;

fn problem(key: &str, message: impl Into<String>) -> Check {
    Err(Problem(key.into(), message.into()))
}

fn dist(key: &str, d: &Dist) -> Check {
    d.validate(key)
        .map_err(|e| Problem(key.into(), e.to_string()))
}

fn shifts(key: &str, list: &[Shift]) -> Check {
    if list.len() > MAX_SHIFTS {
        return problem(key, format!("at most {MAX_SHIFTS} windows"));
    }
    for (i, s) in list.iter().enumerate() {
        let k = format!("{key}[{i}]");
        within(
            &format!("{k}.start_s"),
            s.start_s,
            0.0,
            MAX_DURATION_S,
            " s",
        )?;
        within(&format!("{k}.end_s"), s.end_s, 0.0, MAX_DURATION_S, " s")?;
        if !(s.end_s > s.start_s) {
            return problem(&k, "each shift needs end_s > start_s");
        }
        if s.count > MAX_AGENTS {
            return problem(&format!("{k}.count"), format!("at most {MAX_AGENTS}"));
        }
    }
    Ok(())
}

/// Every distribution of scenario `$s` with its key, as `&Dist` or (with `mut`) `&mut Dist`.
macro_rules! all_dists {
    ($s:expr $(, $m:tt)?) => {{
        let s = $s;
        let mut out: Vec<(String, &$($m)? Dist)> = vec![
            ("queue.patience".into(), &$($m)? s.queue.patience),
            ("agents.talk".into(), &$($m)? s.agents.talk),
            ("agents.acw".into(), &$($m)? s.agents.acw),
            ("agents.ring".into(), &$($m)? s.agents.ring),
        ];
        if let Some(r) = &$($m)? s.redial {
            out.push(("redial.delay".into(), &$($m)? r.delay));
        }
        if let Some(i) = &$($m)? s.ivr {
            if let Some(d) = &$($m)? i.time {
                out.push(("ivr.time".into(), d));
            }
            if let Some(d) = &$($m)? i.prompt_s {
                out.push(("ivr.prompt_s".into(), d));
            }
            if let Some(d) = &$($m)? i.think {
                out.push(("ivr.think".into(), d));
            }
            for (name, d) in &$($m)? i.prompts {
                out.push((format!("ivr.prompts.{name}"), d));
            }
            for (name, b) in &$($m)? i.nodes {
                for (k, d) in [
                    ("think", &$($m)? b.think),
                    ("digit_gap", &$($m)? b.digit_gap),
                    ("message", &$($m)? b.message),
                    ("ring", &$($m)? b.ring),
                ] {
                    if let Some(d) = d {
                        out.push((format!("ivr.nodes.{name}.{k}"), d));
                    }
                }
            }
        }
        if let Some(c) = &$($m)? s.callback {
            out.push(("callback.dial_time".into(), &$($m)? c.dial_time));
        }
        if let Some(b) = &$($m)? s.busyness {
            out.push(("busyness".into(), b));
        }
        if let Some(a) = &$($m)? s.queue.announcement
            && let Some(p) = &$($m)? a.patience
        {
            out.push(("queue.announcement.patience".into(), p));
        }
        for (i, t) in (&$($m)? s.call_types).into_iter().enumerate() {
            for (name, d) in [
                ("talk", &$($m)? t.talk),
                ("acw", &$($m)? t.acw),
                ("patience", &$($m)? t.patience),
            ] {
                if let Some(d) = d {
                    out.push((format!("call_types[{i}].{name}"), d));
                }
            }
        }
        out
    }};
}

impl Scenario {
    /// Every distribution of the scenario, with its key.
    pub(crate) fn dists_mut(&mut self) -> Vec<(String, &mut Dist)> {
        all_dists!(self, mut)
    }

    /// Every distribution of the scenario, with its key.
    pub(crate) fn dists(&self) -> Vec<(String, &Dist)> {
        all_dists!(self)
    }

    /// Checks every value against its bounds.
    pub(crate) fn check(&self) -> Check {
        within("duration_s", self.duration_s, 0.0, MAX_DURATION_S, " s")?;
        if !(self.duration_s > 0.0) {
            return problem("duration_s", "must be > 0");
        }
        within("interval_s", self.interval_s, 1e-3, MAX_DURATION_S, " s")?;
        if self.duration_s / self.interval_s > MAX_INTERVALS {
            return problem(
                "interval_s",
                format!("more than {MAX_INTERVALS} intervals; use a wider interval"),
            );
        }
        within("sl_threshold_s", self.sl_threshold_s, 0.0, MAX_SPAN_S, " s")?;
        if !(self.sl_target > 0.0 && self.sl_target <= 1.0) {
            return problem("sl_target", "must be in (0, 1]");
        }
        if crate::report::CI_LEVELS
            .iter()
            .all(|l| (l - self.ci_level).abs() > 1e-9)
        {
            return problem(
                "ci_level",
                format!("must be 0.90, 0.95 or 0.99, got {}", self.ci_level),
            );
        }
        count(
            "replications",
            u64::from(self.replications),
            u64::from(MAX_REPLICATIONS),
        )?;
        within("warmup_s", self.warmup_s, 0.0, MAX_DURATION_S, " s")?;
        if !(self.warmup_s < self.duration_s) {
            return problem("warmup_s", "must be less than duration_s");
        }
        if let Some(b) = self.batches {
            if !(2..=MAX_BATCHES).contains(&b) {
                return problem(
                    "batches",
                    format!("{b} is outside the bounds [2, {MAX_BATCHES}]"),
                );
            }
            if self.replications != 1 {
                return problem(
                    "batches",
                    "batch means cut one long run: set `replications = 1`",
                );
            }
        }
        if let Some(r) = &self.redial {
            probability("redial.probability", r.probability)?;
            if let Some(p) = r.after_busy {
                probability("redial.after_busy", p)?;
            }
            if let Some(p) = r.after_abandon {
                probability("redial.after_abandon", p)?;
            }
            count(
                "redial.max_attempts",
                u64::from(r.max_attempts),
                u64::from(MAX_ATTEMPTS),
            )?;
        }
        if self.trunks.channels.is_some() && self.trunks.e1.is_some() {
            return problem("trunks.e1", "give either `channels` or `e1`, not both");
        }
        if let Some(c) = self.trunks.channels {
            count("trunks.channels", u64::from(c), u64::from(MAX_CHANNELS))?;
        }
        if let Some(e) = self.trunks.e1 {
            count("trunks.e1", u64::from(e), u64::from(MAX_CHANNELS / 30))?;
        }
        if let Some(ivr) = &self.ivr {
            count("ivr.ports", u64::from(ivr.ports), u64::from(MAX_CHANNELS))?;
            probability("ivr.self_service", ivr.self_service)?;
            within(
                "ivr.no_answer_hangup_s",
                ivr.no_answer_hangup_s,
                0.0,
                MAX_SPAN_S,
                " s",
            )?;
        }
        super::ivr_flow::check(self)?;
        if let Some(v) = self.queue.voicemail_after_s {
            within("queue.voicemail_after_s", v, 0.0, MAX_SPAN_S, " s")?;
            if !(v > 0.0) {
                return problem("queue.voicemail_after_s", "must be > 0");
            }
        }
        if let Some(a) = &self.queue.announcement {
            a.check()?;
        }
        let a = &self.agents;
        if a.count > MAX_AGENTS {
            return problem("agents.count", format!("at most {MAX_AGENTS}"));
        }
        if a.count == 0 && a.shifts.is_empty() && self.groups.is_empty() {
            return problem("agents.count", "must be > 0");
        }
        if let Some(t) = a.ring_timeout_s {
            within("agents.ring_timeout_s", t, 0.0, MAX_SPAN_S, " s")?;
            if !(t > 0.0) {
                return problem("agents.ring_timeout_s", "must be > 0");
            }
        }
        shifts("agents.shifts", &a.shifts)?;
        for (i, g) in self.groups.iter().enumerate() {
            shifts(&format!("groups[{i}].shifts"), &g.shifts)?;
        }
        let total: u64 = std::iter::once((a.count, &a.shifts))
            .chain(self.groups.iter().map(|g| (g.count, &g.shifts)))
            .map(|(c, s)| u64::from(super::most_on_duty(c, s)))
            .sum();
        if total > u64::from(MAX_AGENTS) {
            return problem(
                "agents.shifts",
                format!("{total} agents on duty at once in all groups; at most {MAX_AGENTS}"),
            );
        }
        if let Some(cb) = &self.callback {
            within(
                "callback.offer_when_expected_wait_s",
                cb.offer_when_expected_wait_s,
                0.0,
                MAX_SPAN_S,
                " s",
            )?;
            count(
                "callback.max_entries",
                cb.max_entries as u64,
                MAX_CALLBACK_ENTRIES as u64,
            )?;
            within(
                "callback.expire_after_s",
                cb.expire_after_s,
                0.0,
                MAX_DURATION_S,
                " s",
            )?;
            count(
                "callback.max_attempts",
                u64::from(cb.max_attempts),
                u64::from(MAX_ATTEMPTS),
            )?;
            probability("callback.answer_probability", cb.answer_probability)?;
            probability("callback.acceptance", cb.acceptance)?;
            probability("callback.busy_share", cb.busy_share)?;
            probability("callback.unassigned_share", cb.unassigned_share)?;
            if cb.busy_share + cb.unassigned_share > 1.0 {
                return problem(
                    "callback.unassigned_share",
                    "busy_share + unassigned_share must be at most 1",
                );
            }
            if cb.attempt_answer_probabilities.len() > MAX_ATTEMPTS as usize {
                return problem(
                    "callback.attempt_answer_probabilities",
                    format!("at most {MAX_ATTEMPTS} entries"),
                );
            }
            for p in &cb.attempt_answer_probabilities {
                probability("callback.attempt_answer_probabilities", *p)?;
            }
            within(
                "callback.start_at_s",
                cb.start_at_s,
                0.0,
                MAX_DURATION_S,
                " s",
            )?;
            within(
                "callback.trunk_retry_s",
                cb.trunk_retry_s,
                0.0,
                MAX_SPAN_S,
                " s",
            )?;
            if !(cb.trunk_retry_s > 0.0) {
                return problem("callback.trunk_retry_s", "must be > 0");
            }
        }
        probability("supervisor_fraction", self.supervisor_fraction)?;
        let c = &self.callers;
        if c.population == 0 {
            return problem("callers.population", "must be > 0");
        }
        probability("callers.vip_fraction", c.vip_fraction)?;
        probability("callers.blacklist_fraction", c.blacklist_fraction)?;
        if c.vip_fraction + c.blacklist_fraction > 1.0 {
            return problem("callers.vip_fraction", "fractions must sum to at most 1");
        }
        if let Some(s) = c.sticky_wait_s {
            within("callers.sticky_wait_s", s, 0.0, MAX_SPAN_S, " s")?;
        }
        let mut shares = 0.0;
        for (i, t) in self.call_types.iter().enumerate() {
            within(&format!("call_types[{i}].share"), t.share, 0.0, 1e9, "")?;
            if t.arrivals.is_some() && t.share > 0.0 {
                return problem(
                    &format!("call_types[{i}].share"),
                    "a call type has a `share` of the main arrivals or `arrivals` of its own, not both",
                );
            }
            if t.priority == u8::MAX {
                return problem(
                    &format!("call_types[{i}].priority"),
                    "at most 254 (255 is the VIP priority)",
                );
            }
            shares += t.share;
        }
        if !self.call_types.is_empty() && shares == 0.0 && self.arrivals.peak_per_s() > 0.0 {
            return problem(
                "call_types",
                "the main [arrivals] stream needs a call type with a `share` (or a rate of 0)",
            );
        }
        for (key, d) in self.dists() {
            dist(&key, d)?;
        }
        self.routing_checked()?;
        self.limits.check()?;
        Ok(())
    }
}
