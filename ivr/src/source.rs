//! The text of a flow being loaded and the errors found in it: each names the file, the
//! line and the node.

use std::fmt;

/// Why a flow was refused: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FlowError {
    /// The file (or the name the embedder gave the text).
    pub file: String,
    /// The line, when known.
    pub line: Option<u32>,
    /// The node, when the problem is inside one.
    pub node: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(n) = &self.node {
            write!(f, ": node `{n}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The text being loaded, for locating errors.
pub(crate) struct Source<'a> {
    pub text: &'a str,
    pub origin: &'a str,
}

impl Source<'_> {
    pub fn error(&self, line: Option<u32>, node: Option<String>, message: String) -> FlowError {
        FlowError {
            file: self.origin.to_string(),
            line,
            node,
            message,
        }
    }

    /// 1-based line of byte `offset`.
    pub fn line_of(&self, offset: usize) -> u32 {
        let end = floor_char_boundary(self.text, offset);
        (self.text[..end].matches('\n').count() + 1) as u32
    }

    /// The node whose table holds byte `offset`: the last `[nodes.NAME…]` header before it,
    /// or a `nodes.NAME = …` line it is on.
    pub fn node_at(&self, offset: usize) -> Option<String> {
        let mut found = None;
        let mut pos = 0;
        for line in self.text.split_inclusive('\n') {
            if pos > offset {
                break;
            }
            let t = line.trim_start();
            if let Some(h) = t.strip_prefix('[') {
                let h = h.trim_start_matches('[').trim_start();
                found = h.strip_prefix("nodes.").and_then(first_key);
            } else if let Some(rest) = t.strip_prefix("nodes.")
                && pos + line.len() > offset
            {
                return first_key(rest);
            }
            pos += line.len();
        }
        found
    }

    /// Line of a top-level (or `[holidays]`) `key = …`, outside every node's table.
    pub fn top_key_line(&self, key: &str) -> Option<u32> {
        let mut in_nodes = false;
        for (i, line) in self.text.lines().enumerate() {
            let t = line.trim_start();
            if let Some(h) = t.strip_prefix('[') {
                in_nodes = h.trim_start_matches('[').trim_start().starts_with("nodes");
                continue;
            }
            if !in_nodes
                && t.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                return Some(i as u32 + 1);
            }
        }
        None
    }

    /// Line of `key = …` within the node table that starts at `start` (the header or inline
    /// table), or the table's own line.
    pub fn key_line(&self, start: usize, key: &str) -> u32 {
        let start = floor_char_boundary(self.text, start);
        let mut pos = start;
        for (i, line) in self.text[start..].split_inclusive('\n').enumerate() {
            let t = line.trim_start();
            if i > 0 && t.starts_with('[') {
                break;
            }
            // The key, at the start of the line or after `{` / `,` of an inline table.
            let hit = [t, line].iter().any(|s| {
                s.match_indices(key).any(|(k, _)| {
                    let before = s[..k].trim_end();
                    let after = s[k + key.len()..].trim_start();
                    (before.is_empty() || before.ends_with('{') || before.ends_with(','))
                        && after.starts_with('=')
                })
            });
            if hit {
                return self.line_of(pos);
            }
            pos += line.len();
        }
        self.line_of(start)
    }
}

/// The first dotted-key component: `name`, `"quoted"` or `'literal'`.
fn first_key(s: &str) -> Option<String> {
    let s = s.trim_start();
    if let Some(q) = s.strip_prefix('"') {
        return q.split('"').next().map(str::to_string);
    }
    if let Some(q) = s.strip_prefix('\'') {
        return q.split('\'').next().map(str::to_string);
    }
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    (end > 0).then(|| s[..end].to_string())
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
