//! Building the node kinds that wait for the caller or the network.

use std::sync::Arc;

use super::{Compiler, Ctx, MAX_DIGITS, MAX_NAME, R};
use crate::flow::*;
use crate::raw::RawNode;

impl Compiler<'_> {
    pub(super) fn retry(&self, c: &Ctx, n: &RawNode) -> R<Retry> {
        let retries = n.retries.unwrap_or(2);
        if retries > 9 {
            return Err(self.err(c, Some("retries"), format!("must be 0–9, got {retries}")));
        }
        Ok(Retry {
            retries,
            no_input: self.prompts(c, "no_input_prompts", &n.no_input_prompts)?,
            invalid: self.prompts(c, "invalid_prompts", &n.invalid_prompts)?,
        })
    }

    pub(super) fn menu(&mut self, c: &Ctx, n: &RawNode, announce: Announce) -> R<Menu> {
        let raw = n
            .choices
            .as_ref()
            .ok_or_else(|| self.err(c, Some("choices"), "a menu needs choices"))?;
        let mut choices = Vec::with_capacity(raw.len());
        for (k, target) in raw {
            let key = self.key_char(c, "choices", k)?;
            if choices.iter().any(|&(x, _)| x == key) {
                return Err(self.err(c, Some("choices"), format!("key `{key}` given twice")));
            }
            choices.push((key, self.resolve(c, "choices", target)?));
        }
        if choices.is_empty() {
            return Err(self.err(c, Some("choices"), "a menu needs at least one choice"));
        }
        Ok(Menu {
            announce,
            choices,
            timeout: self.ms(c, "timeout_ms", n.timeout_ms, 5000, (100, 600_000))?,
            retry: self.retry(c, n)?,
            on_no_input: self.target(c, "on_no_input", &n.on_no_input)?,
            on_no_match: self.target(c, "on_no_match", &n.on_no_match)?,
        })
    }

    pub(super) fn collect(&mut self, c: &Ctx, n: &RawNode, announce: Announce) -> R<Collect> {
        let var = self.var(c, "var", n.var.as_deref())?;
        let max = n.max_digits.unwrap_or(16);
        let min = n.min_digits.unwrap_or(1);
        if !(1..=MAX_DIGITS).contains(&max) || min > max {
            return Err(self.err(
                c,
                Some(if min > max { "min_digits" } else { "max_digits" }),
                format!("need 0 ≤ min_digits ≤ max_digits, 1 ≤ max_digits ≤ {MAX_DIGITS}; got {min} and {max}"),
            ));
        }
        Ok(Collect {
            announce,
            var,
            min_digits: min,
            max_digits: max,
            terminator: self.key(c, "terminator", &n.terminator)?,
            timeout: self.ms(c, "timeout_ms", n.timeout_ms, 5000, (100, 600_000))?,
            inter_digit_timeout: self.ms(
                c,
                "inter_digit_timeout_ms",
                n.inter_digit_timeout_ms,
                3000,
                (100, 600_000),
            )?,
            retry: self.retry(c, n)?,
            next: self.target(c, "next", &n.next)?,
            on_failure: self.target(c, "on_failure", &n.on_failure)?,
        })
    }

    pub(super) fn set(&mut self, c: &Ctx, n: &RawNode) -> R<SetVar> {
        let var = self.var(c, "var", n.var.as_deref())?;
        let value = match (&n.value, &n.from) {
            (Some(v), None) if v.len() <= MAX_NAME => Value::Literal(Arc::from(v.as_str())),
            (Some(_), None) => {
                return Err(self.err(c, Some("value"), format!("at most {MAX_NAME} bytes")));
            }
            (None, Some(f)) => match f.as_str() {
                "ani" => Value::Ani,
                "dnis" => Value::Dnis,
                other => match other.strip_prefix("var.") {
                    Some(name) => Value::Var(self.var(c, "from", Some(name))?),
                    None => {
                        return Err(self.err(
                            c,
                            Some("from"),
                            "one of \"ani\", \"dnis\" or \"var.NAME\"",
                        ));
                    }
                },
            },
            _ => return Err(self.err(c, Some("value"), "give exactly one of `value` and `from`")),
        };
        Ok(SetVar {
            var,
            value,
            next: self.required(c, "next", &n.next)?,
        })
    }

    pub(super) fn queue(&mut self, c: &Ctx, n: &RawNode, announce: Announce) -> R<Queue> {
        let callback_key = self.key(c, "callback_key", &n.callback_key)?;
        let on_callback = self.target(c, "on_callback", &n.on_callback)?;
        if callback_key.is_some() != on_callback.is_some() {
            return Err(self.err(
                c,
                Some(if callback_key.is_some() {
                    "callback_key"
                } else {
                    "on_callback"
                }),
                "`callback_key` and `on_callback` go together",
            ));
        }
        let repeat = self.prompts(c, "repeat_prompts", &n.repeat_prompts)?;
        let repeat_every = match n.repeat_every_ms {
            Some(v) => Some(self.ms(c, "repeat_every_ms", Some(v), 0, (5000, 600_000))?),
            None => None,
        };
        if repeat.is_empty() != repeat_every.is_none() {
            return Err(self.err(
                c,
                Some("repeat_every_ms"),
                "`repeat_prompts` and `repeat_every_ms` go together",
            ));
        }
        Ok(Queue {
            announce,
            queue: self.text(c, "queue", &n.queue)?,
            callback_key,
            repeat,
            repeat_every,
            max_wait: self.ms(c, "max_wait_ms", n.max_wait_ms, 600_000, (1000, 14_400_000))?,
            on_callback,
            on_overflow: self.target(c, "on_overflow", &n.on_overflow)?,
            after_agent: self.target(c, "after_agent", &n.after_agent)?,
        })
    }

    pub(super) fn survey(&mut self, c: &Ctx, n: &RawNode, announce: Announce) -> R<Survey> {
        let (min, max) = (n.min.unwrap_or(1), n.max.unwrap_or(4));
        if !(1..=9).contains(&min) || !(min..=9).contains(&max) {
            return Err(self.err(
                c,
                Some("max"),
                format!("need 1 ≤ min ≤ max ≤ 9, got {min} and {max}"),
            ));
        }
        Ok(Survey {
            announce,
            survey: self.text(c, "survey", &n.survey)?,
            range: (min, max),
            timeout: self.ms(c, "timeout_ms", n.timeout_ms, 5000, (100, 600_000))?,
            retry: self.retry(c, n)?,
            thanks: self.prompts(c, "thanks_prompts", &n.thanks_prompts)?,
            next: self.target(c, "next", &n.next)?,
        })
    }

    // ----- values -----
}
