//! Agent groups and call types: who serves what, and overflow between groups.

use serde::{Deserialize, Serialize};

use super::Shift;
use super::bounds::{MAX_AGENTS, MAX_GROUPS, MAX_OVERFLOW_RULES, MAX_SHIFTS, Problem, within};
use crate::arrivals::ArrivalSpec;
use crate::dist::Dist;

/// A group of agents besides the `[agents]` group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Name, used by call types' overflow rules and in reports.
    pub name: String,
    /// Agents on duty outside any shift window.
    #[serde(default)]
    pub count: u32,
    /// Staffing windows of this group.
    #[serde(default)]
    pub shifts: Vec<Shift>,
    /// Call types this group answers from the start (none: only calls that overflow to it).
    #[serde(default)]
    pub serves: Vec<String>,
}

/// A kind of call with its own arrivals, priority, agents, handle time and patience.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallType {
    /// Name, used by groups' `serves` and in reports.
    pub name: String,
    /// Weight of this type among the calls of the main `[arrivals]` stream.
    #[serde(default)]
    pub share: f64,
    /// An arrival stream of its own (instead of a share of the main one).
    #[serde(default)]
    pub arrivals: Option<ArrivalSpec>,
    /// Queue priority, 0 (default) to 254; higher is answered first. VIP callers rank above
    /// every type.
    #[serde(default)]
    pub priority: u8,
    /// Talk time (default: `agents.talk`).
    #[serde(default)]
    pub talk: Option<Dist>,
    /// After-call work (default: `agents.acw`).
    #[serde(default)]
    pub acw: Option<Dist>,
    /// Patience (default: `queue.patience`).
    #[serde(default)]
    pub patience: Option<Dist>,
    /// Further groups that may answer the call once it has waited long enough.
    #[serde(default)]
    pub overflow: Vec<Overflow>,
}

/// Overflow to a further agent group after a wait.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overflow {
    /// After the call has waited this long (from reaching the ACD); 0: at once when no agent
    /// of its groups so far is free.
    pub after_s: f64,
    /// The group that may answer it from then on (as well as the groups before).
    pub to: String,
}

/// The routing a scenario describes, resolved to indices.
#[derive(Clone, Debug, PartialEq)]
pub struct Routing {
    /// Group names; group 0 is `[agents]`.
    pub groups: Vec<String>,
    /// Call type names; without `[[call_types]]`, one type named `calls`.
    pub types: Vec<String>,
    /// Per type: the groups answering it from the start.
    pub primary: Vec<Vec<usize>>,
    /// Per type: (after_s, group) overflow steps in order of `after_s`.
    pub steps: Vec<Vec<(f64, usize)>>,
    /// Per type: the index of its first overflow rule in the scenario's list of all rules
    /// (types in order, each type's rules in its own order).
    pub first_rule: Vec<usize>,
}

impl Routing {
    /// Resolves names to indices, checking every reference.
    pub(crate) fn resolve(
        agents_serve: &[String],
        groups: &[Group],
        types: &[CallType],
        default_overflow: &[Overflow],
    ) -> Result<Routing, Problem> {
        if groups.len() + 1 > MAX_GROUPS {
            return Err(Problem(
                "groups".into(),
                format!("at most {} groups besides [agents]", MAX_GROUPS - 1),
            ));
        }
        if types.len() > MAX_GROUPS {
            return Err(Problem(
                "call_types".into(),
                format!("at most {MAX_GROUPS} call types"),
            ));
        }
        let mut names = vec!["agents".to_string()];
        for (i, g) in groups.iter().enumerate() {
            let key = format!("groups[{i}]");
            if g.name.is_empty() || names.contains(&g.name) {
                return Err(Problem(
                    format!("{key}.name"),
                    format!("`{}` is empty or used twice (`agents` is [agents])", g.name),
                ));
            }
            if g.count > MAX_AGENTS || g.shifts.len() > MAX_SHIFTS {
                return Err(Problem(
                    format!("{key}.count"),
                    format!("at most {MAX_AGENTS} agents and {MAX_SHIFTS} shifts"),
                ));
            }
            names.push(g.name.clone());
        }
        let type_names: Vec<String> = if types.is_empty() {
            vec!["calls".into()]
        } else {
            types.iter().map(|t| t.name.clone()).collect()
        };
        for (i, t) in types.iter().enumerate() {
            if t.name.is_empty() || type_names[..i].contains(&t.name) {
                return Err(Problem(
                    format!("call_types[{i}].name"),
                    format!("`{}` is empty or used twice", t.name),
                ));
            }
        }
        let serves_of = |key: &str, list: &[String]| -> Result<Vec<usize>, Problem> {
            list.iter()
                .map(|n| {
                    type_names
                        .iter()
                        .position(|t| t == n)
                        .ok_or_else(|| Problem(key.into(), format!("no call type named `{n}`")))
                })
                .collect()
        };
        let mut serves: Vec<Vec<usize>> = Vec::new();
        serves.push(if agents_serve.is_empty() {
            (0..type_names.len()).collect()
        } else {
            serves_of("agents.serves", agents_serve)?
        });
        for (i, g) in groups.iter().enumerate() {
            serves.push(serves_of(&format!("groups[{i}].serves"), &g.serves)?);
        }
        let mut primary = Vec::new();
        let mut steps = Vec::new();
        let mut first_rule = Vec::new();
        let mut rules = 0;
        for (ti, tname) in type_names.iter().enumerate() {
            let p: Vec<usize> = (0..names.len())
                .filter(|&g| serves[g].contains(&ti))
                .collect();
            if p.is_empty() {
                return Err(Problem(
                    "agents.serves".into(),
                    format!("no agent group serves call type `{tname}`"),
                ));
            }
            let (key, list) = if types.is_empty() {
                ("queue.overflow".to_string(), default_overflow)
            } else {
                (
                    format!("call_types[{ti}].overflow"),
                    &types[ti].overflow[..],
                )
            };
            if list.len() > MAX_OVERFLOW_RULES {
                return Err(Problem(key, format!("at most {MAX_OVERFLOW_RULES} rules")));
            }
            let mut s = Vec::new();
            for (ri, o) in list.iter().enumerate() {
                within(
                    &format!("{key}[{ri}].after_s"),
                    o.after_s,
                    0.0,
                    super::bounds::MAX_SPAN_S,
                    " s",
                )?;
                let g = names.iter().position(|n| *n == o.to).ok_or_else(|| {
                    Problem(
                        format!("{key}[{ri}].to"),
                        format!("no agent group named `{}`", o.to),
                    )
                })?;
                if p.contains(&g) || s.iter().any(|(_, x)| *x == g) {
                    return Err(Problem(
                        format!("{key}[{ri}].to"),
                        format!("group `{}` already answers this call type", o.to),
                    ));
                }
                if s.last().is_some_and(|(a, _)| *a > o.after_s) {
                    return Err(Problem(
                        format!("{key}[{ri}].after_s"),
                        "overflow rules must be in order of `after_s`".into(),
                    ));
                }
                s.push((o.after_s, g));
            }
            first_rule.push(rules);
            rules += s.len();
            primary.push(p);
            steps.push(s);
        }
        Ok(Routing {
            groups: names,
            types: type_names,
            primary,
            steps,
            first_rule,
        })
    }

    /// All overflow rules, as `type → group` labels, in the order of [`Routing::first_rule`].
    pub fn rule_labels(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (t, s) in self.steps.iter().enumerate() {
            for (after, g) in s {
                out.push(format!(
                    "{} → {} after {after} s",
                    self.types[t], self.groups[*g]
                ));
            }
        }
        out
    }
}
