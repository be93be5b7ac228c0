//! Checking single values: prompt lists, texts, durations, keys, node references, variables.

use std::sync::Arc;

use super::{Compiler, Ctx, MAX_NAME, MAX_PROMPTS, MAX_TEXT, MAX_VARIABLES, R};
use crate::flow::*;
use crate::time::Micros;

impl Compiler<'_> {
    pub(super) fn prompts(&self, c: &Ctx, key: &str, v: &Option<Vec<String>>) -> R<Prompts> {
        let v = v.as_deref().unwrap_or(&[]);
        if v.len() > MAX_PROMPTS {
            return Err(self.err(c, Some(key), format!("more than {MAX_PROMPTS} prompts")));
        }
        if let Some(p) = v.iter().find(|p| !valid_text(p)) {
            return Err(self.err(
                c,
                Some(key),
                format!(
                    "prompt `{}`: names are 1–{MAX_TEXT} bytes without control characters",
                    p.escape_debug()
                ),
            ));
        }
        Ok(v.iter().map(|p| Arc::from(p.as_str())).collect())
    }

    pub(super) fn text(&self, c: &Ctx, key: &str, v: &Option<String>) -> R<Arc<str>> {
        match v {
            Some(s) if valid_text(s) => Ok(Arc::from(s.as_str())),
            Some(_) => Err(self.err(
                c,
                Some(key),
                format!("1–{MAX_TEXT} bytes without control characters"),
            )),
            None => Err(self.err(c, Some(key), "required")),
        }
    }

    pub(super) fn ms(
        &self,
        c: &Ctx,
        key: &str,
        v: Option<u64>,
        default: u64,
        (lo, hi): (u64, u64),
    ) -> R<Micros> {
        let v = v.unwrap_or(default);
        if !(lo..=hi).contains(&v) {
            return Err(self.err(c, Some(key), format!("must be {lo}–{hi} ms, got {v}")));
        }
        Ok(Micros::from_millis(v))
    }

    pub(super) fn key(&self, c: &Ctx, key: &str, v: &Option<String>) -> R<Option<char>> {
        v.as_deref().map(|s| self.key_char(c, key, s)).transpose()
    }

    /// One DTMF key written as a string.
    pub(super) fn key_char(&self, c: &Ctx, key: &str, s: &str) -> R<char> {
        let mut it = s.chars();
        match (it.next().map(|k| k.to_ascii_uppercase()), it.next()) {
            (Some(k), None) if is_key(k) => Ok(k),
            _ => Err(self.err(
                c,
                Some(key),
                format!("`{}` is not a key (0–9, *, #, A–D)", s.escape_debug()),
            )),
        }
    }

    pub(super) fn resolve(&self, c: &Ctx, key: &str, target: &str) -> R<NodeId> {
        self.ids.get(target).copied().ok_or_else(|| {
            self.err(
                c,
                Some(key),
                format!("no node named `{}`", target.escape_debug()),
            )
        })
    }

    pub(super) fn target(&self, c: &Ctx, key: &str, v: &Option<String>) -> R<Option<NodeId>> {
        v.as_deref().map(|t| self.resolve(c, key, t)).transpose()
    }

    pub(super) fn required(&self, c: &Ctx, key: &str, v: &Option<String>) -> R<NodeId> {
        match v {
            Some(t) => self.resolve(c, key, t),
            None => Err(self.err(c, Some(key), "required")),
        }
    }

    pub(super) fn var(&mut self, c: &Ctx, key: &str, name: Option<&str>) -> R<VarId> {
        let name = name.ok_or_else(|| self.err(c, Some(key), "required"))?;
        if !valid_name(name) {
            return Err(self.err(
                c,
                Some(key),
                format!("variable names are 1–{MAX_NAME} letters, digits, `_` or `-`"),
            ));
        }
        if let Some(i) = self.vars.iter().position(|v| &**v == name) {
            return Ok(VarId(i as u16));
        }
        if self.vars.len() >= MAX_VARIABLES {
            return Err(self.err(c, Some(key), format!("more than {MAX_VARIABLES} variables")));
        }
        self.vars.push(Arc::from(name));
        Ok(VarId(self.vars.len() as u16 - 1))
    }
}

/// A DTMF key: `0`–`9`, `*`, `#`, `A`–`D`.
pub(crate) fn is_key(k: char) -> bool {
    k.is_ascii_digit() || matches!(k, '*' | '#' | 'A'..='D')
}

pub(super) fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn valid_text(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_TEXT && !s.chars().any(char::is_control)
}
