//! The prompts of a flow, resolved to what the engine's players play.
//!
//! A prompt name is one of:
//! - a path under the prompt directory without its extension (`bank/welcome` plays
//!   `<dir>/bank/welcome.wav`, an 8 kHz WAV file decoded once through the [`PromptCache`]);
//! - `tone:<plan>:<ms>`, a built-in tone plan of `tandem_codecs::tone` for `ms`
//!   milliseconds (`tone:cn-ringback:3000`);
//! - `silence:<ms>`.
//!
//! Every prompt of a flow is resolved when the set is built, so a missing or unreadable file
//! refuses the flow before the first call rather than leaving a caller in silence.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use tandem_codecs::tone;
use tandem_ivr::Flow;

use crate::player::{PlayItem, PromptCache, PromptError};

/// Longest tone or silence a prompt name may ask for, milliseconds.
pub const MAX_GENERATED_MS: u32 = 600_000;

/// Why a prompt of a flow cannot be played.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptSetError {
    /// The name is not a relative path, a `tone:` or a `silence:` item.
    #[error("prompt {name:?}: {reason}")]
    Name {
        /// The prompt name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The prompt's file could not be loaded.
    #[error("prompt {name:?}: {source}")]
    File {
        /// The prompt name.
        name: String,
        /// Why.
        source: PromptError,
    },
}

/// A flow's prompts, resolved once and shared by every call that runs the flow.
#[derive(Debug, Default)]
pub struct PromptSet {
    items: HashMap<Arc<str>, PlayItem>,
}

impl PromptSet {
    /// Resolves every prompt `flow` can play, loading files from `dir` through `cache`.
    pub fn load(flow: &Flow, dir: &Path, cache: &PromptCache) -> Result<PromptSet, PromptSetError> {
        let mut items = HashMap::new();
        for name in flow.prompts() {
            let item = resolve(&name, dir, cache)?;
            items.insert(name, item);
        }
        Ok(PromptSet { items })
    }

    /// The item for `name`, if the set holds it.
    pub fn item(&self, name: &str) -> Option<&PlayItem> {
        self.items.get(name)
    }

    /// Prompts held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

fn bad(name: &str, reason: &'static str) -> PromptSetError {
    PromptSetError::Name {
        name: name.to_string(),
        reason,
    }
}

fn millis(name: &str, ms: &str) -> Result<u32, PromptSetError> {
    match ms.parse::<u32>() {
        Ok(v) if (1..=MAX_GENERATED_MS).contains(&v) => Ok(v),
        _ => Err(bad(name, "the duration must be 1 to 600000 milliseconds")),
    }
}

fn resolve(name: &str, dir: &Path, cache: &PromptCache) -> Result<PlayItem, PromptSetError> {
    if let Some(rest) = name.strip_prefix("tone:") {
        let (plan, ms) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad(name, "a tone is tone:<plan>:<milliseconds>"))?;
        let plan =
            tone::plan(plan).ok_or_else(|| bad(name, "no built-in tone plan by that name"))?;
        return Ok(PlayItem::Tone {
            plan: plan.clone(),
            duration_ms: millis(name, ms)?,
        });
    }
    if let Some(ms) = name.strip_prefix("silence:") {
        return Ok(PlayItem::Silence {
            ms: millis(name, ms)?,
        });
    }
    let rel = Path::new(name);
    if name.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(bad(
            name,
            "a prompt file is a relative path inside the prompt directory",
        ));
    }
    let mut path: PathBuf = dir.join(rel);
    path.as_mut_os_string().push(".wav");
    let prompt = cache.get(&path).map_err(|source| PromptSetError::File {
        name: name.to_string(),
        source,
    })?;
    Ok(PlayItem::Prompt(prompt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_directory_or_ask_too_much_are_refused() {
        let cache = PromptCache::new();
        let dir = Path::new("/nonexistent");
        for name in [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "",
            "tone:no-such-plan:100",
            "tone:cn-busy",
            "tone:cn-busy:0",
            "silence:600001",
            "silence:x",
        ] {
            assert!(
                matches!(resolve(name, dir, &cache), Err(PromptSetError::Name { .. })),
                "{name}"
            );
        }
        assert!(matches!(
            resolve("missing", dir, &cache),
            Err(PromptSetError::File { .. })
        ));
        assert!(matches!(
            resolve("tone:cn-busy:700", dir, &cache),
            Ok(PlayItem::Tone {
                duration_ms: 700,
                ..
            })
        ));
        assert_eq!(
            resolve("silence:250", dir, &cache).unwrap(),
            PlayItem::Silence { ms: 250 }
        );
    }
}
