//! Building branch nodes: rules and their conditions.

use std::sync::Arc;

use super::{Compiler, Ctx, MAX_LIST, MAX_RULES, R};
use crate::flow::*;
use crate::raw::{RawNode, RawRule};
use crate::time::{WEEKDAYS, parse_clock};

impl Compiler<'_> {
    pub(super) fn branch(&mut self, c: &Ctx, n: &RawNode) -> R<Branch> {
        let raw = n
            .rules
            .as_ref()
            .ok_or_else(|| self.err(c, Some("rules"), "a branch needs rules"))?;
        if raw.len() > MAX_RULES {
            return Err(self.err(c, Some("rules"), format!("more than {MAX_RULES} rules")));
        }
        let mut rules = Vec::with_capacity(raw.len());
        for r in raw {
            rules.push(self.rule(c, r)?);
        }
        Ok(Branch {
            rules,
            otherwise: self.required(c, "else", &n.otherwise)?,
        })
    }

    pub(super) fn rule(&mut self, c: &Ctx, r: &RawRule) -> R<Rule> {
        let mut conditions = Vec::new();
        let list = |s: &Self, key: &str, v: &Option<Vec<String>>| -> R<Option<Vec<Arc<str>>>> {
            let Some(v) = v else { return Ok(None) };
            if v.is_empty() || v.len() > MAX_LIST || v.iter().any(|x| x.is_empty() || x.len() > 32)
            {
                return Err(s.err(
                    c,
                    Some(key),
                    format!("a list of 1–{MAX_LIST} values of 1–32 bytes"),
                ));
            }
            Ok(Some(v.iter().map(|x| Arc::from(x.as_str())).collect()))
        };
        if let Some(v) = list(self, "dnis", &r.dnis)? {
            conditions.push(Condition::Dnis(v));
        }
        if let Some(v) = list(self, "dnis_prefix", &r.dnis_prefix)? {
            conditions.push(Condition::DnisPrefix(v));
        }
        if let Some(v) = list(self, "ani", &r.ani)? {
            conditions.push(Condition::Ani(v));
        }
        if let Some(v) = list(self, "ani_prefix", &r.ani_prefix)? {
            conditions.push(Condition::AniPrefix(v));
        }
        match (&r.var, list(self, "values", &r.values)?) {
            (Some(name), Some(values)) => {
                let var = self.var(c, "var", Some(name))?;
                conditions.push(Condition::Var(var, values));
            }
            (None, None) => {}
            _ => {
                return Err(self.err(
                    c,
                    Some("var"),
                    "a rule tests `var` against `values`: give both",
                ));
            }
        }
        if let Some(t) = &r.time {
            let bad = || {
                self.err(
                    c,
                    Some("time"),
                    format!("`{}` is not a range like \"09:00-18:00\"", t.escape_debug()),
                )
            };
            let (a, b) = t.split_once('-').ok_or_else(bad)?;
            let (from, to) = (
                parse_clock(a.trim()).ok_or_else(bad)?,
                parse_clock(b.trim()).ok_or_else(bad)?,
            );
            if from == to {
                return Err(self.err(c, Some("time"), "an empty range"));
            }
            conditions.push(Condition::Time { from, to });
        }
        if let Some(days) = &r.weekdays {
            let mut mask = 0u8;
            for d in days {
                let i = WEEKDAYS
                    .iter()
                    .position(|w| w.eq_ignore_ascii_case(d))
                    .ok_or_else(|| {
                        self.err(
                            c,
                            Some("weekdays"),
                            format!(
                                "`{}` is not one of {}",
                                d.escape_debug(),
                                WEEKDAYS.join(", ")
                            ),
                        )
                    })?;
                mask |= 1 << i;
            }
            if mask == 0 {
                return Err(self.err(c, Some("weekdays"), "no days given"));
            }
            conditions.push(Condition::Weekdays(mask));
        }
        if let Some(h) = &r.holiday {
            let i = self
                .holidays
                .iter()
                .position(|x| &*x.name == h)
                .ok_or_else(|| {
                    self.err(
                        c,
                        Some("holiday"),
                        format!("no holiday calendar `{}`", h.escape_debug()),
                    )
                })?;
            conditions.push(Condition::Holiday(i));
        }
        Ok(Rule {
            conditions,
            next: self.resolve(c, "next", &r.next)?,
        })
    }
}
