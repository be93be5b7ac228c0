//! The flow file as written: TOML tables deserialised as they are, before names are resolved
//! and values checked. Unknown keys are errors.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlow {
    pub name: String,
    pub start: String,
    #[serde(default)]
    pub utc_offset: Option<String>,
    #[serde(default)]
    pub max_steps: Option<u32>,
    #[serde(default)]
    pub prompt_guard_ms: Option<u64>,
    #[serde(default)]
    pub holidays: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub nodes: BTreeMap<String, Spanned<RawNode>>,
}

/// Every key any node kind takes; which ones a kind accepts is checked after parsing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNode {
    pub kind: String,
    pub prompts: Option<Vec<String>>,
    pub barge_in: Option<bool>,
    pub next: Option<String>,
    // menu
    pub choices: Option<BTreeMap<String, String>>,
    pub timeout_ms: Option<u64>,
    pub retries: Option<u8>,
    pub no_input_prompts: Option<Vec<String>>,
    pub invalid_prompts: Option<Vec<String>>,
    pub on_no_input: Option<String>,
    pub on_no_match: Option<String>,
    // collect
    pub var: Option<String>,
    pub min_digits: Option<u8>,
    pub max_digits: Option<u8>,
    pub terminator: Option<String>,
    pub inter_digit_timeout_ms: Option<u64>,
    pub on_failure: Option<String>,
    // branch
    pub rules: Option<Vec<RawRule>>,
    #[serde(rename = "else")]
    pub otherwise: Option<String>,
    // set
    pub value: Option<String>,
    pub from: Option<String>,
    // voicemail
    pub mailbox: Option<String>,
    pub max_duration_ms: Option<u64>,
    pub beep: Option<bool>,
    pub finish_key: Option<String>,
    // queue
    pub queue: Option<String>,
    pub callback_key: Option<String>,
    pub repeat_prompts: Option<Vec<String>>,
    pub repeat_every_ms: Option<u64>,
    pub max_wait_ms: Option<u64>,
    pub on_callback: Option<String>,
    pub on_overflow: Option<String>,
    pub after_agent: Option<String>,
    // transfer
    pub target: Option<String>,
    pub ring_timeout_ms: Option<u64>,
    pub on_fail: Option<String>,
    // survey
    pub survey: Option<String>,
    pub min: Option<u8>,
    pub max: Option<u8>,
    pub thanks_prompts: Option<Vec<String>>,
}

impl RawNode {
    /// Names of the keys present (other than `kind`), for refusing keys a kind does not use.
    pub fn present_keys(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        macro_rules! keys {
            ($($field:ident => $name:literal),* $(,)?) => {
                $(if self.$field.is_some() { v.push($name); })*
            };
        }
        keys!(
            prompts => "prompts", barge_in => "barge_in", next => "next",
            choices => "choices", timeout_ms => "timeout_ms", retries => "retries",
            no_input_prompts => "no_input_prompts", invalid_prompts => "invalid_prompts",
            on_no_input => "on_no_input", on_no_match => "on_no_match",
            var => "var", min_digits => "min_digits", max_digits => "max_digits",
            terminator => "terminator", inter_digit_timeout_ms => "inter_digit_timeout_ms",
            on_failure => "on_failure", rules => "rules", otherwise => "else",
            value => "value", from => "from", mailbox => "mailbox",
            max_duration_ms => "max_duration_ms", beep => "beep", finish_key => "finish_key",
            queue => "queue", callback_key => "callback_key", repeat_prompts => "repeat_prompts",
            repeat_every_ms => "repeat_every_ms", max_wait_ms => "max_wait_ms",
            on_callback => "on_callback", on_overflow => "on_overflow",
            after_agent => "after_agent", target => "target",
            ring_timeout_ms => "ring_timeout_ms", on_fail => "on_fail", survey => "survey",
            min => "min", max => "max", thanks_prompts => "thanks_prompts",
        );
        v
    }
}

/// One rule of a branch node: every condition given must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub dnis: Option<Vec<String>>,
    pub dnis_prefix: Option<Vec<String>>,
    pub ani: Option<Vec<String>>,
    pub ani_prefix: Option<Vec<String>>,
    pub var: Option<String>,
    pub values: Option<Vec<String>>,
    pub time: Option<String>,
    pub weekdays: Option<Vec<String>>,
    pub holiday: Option<String>,
    pub next: String,
}
