//! Loading a flow: TOML in, a validated [`Flow`] or a [`FlowError`] naming file, line and
//! node out. Every input is bounded; nothing here panics on any text.

use std::io::Read;
use std::path::Path;

use crate::compile::Compiler;
use crate::flow::Flow;
use crate::raw::RawFlow;
use crate::source::{FlowError, Source};

/// Largest flow file, in bytes.
pub const MAX_FLOW_BYTES: usize = 256 * 1024;

impl Flow {
    /// Parses and validates a flow. `origin` names the text in errors (usually its file).
    pub fn from_toml(text: &str, origin: &str) -> Result<Flow, FlowError> {
        let src = Source { text, origin };
        if text.len() > MAX_FLOW_BYTES {
            return Err(src.error(
                None,
                None,
                format!("the flow is larger than {MAX_FLOW_BYTES} bytes"),
            ));
        }
        let raw: RawFlow = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| s.start);
            src.error(
                at.map(|o| src.line_of(o)),
                at.and_then(|o| src.node_at(o)),
                e.message().to_string(),
            )
        })?;
        Compiler::new(&src).compile(raw)
    }

    /// Reads and validates a flow file.
    pub fn load(path: &Path) -> Result<Flow, FlowError> {
        let name = path.display().to_string();
        let io = |e: std::io::Error| FlowError {
            file: name.clone(),
            line: None,
            node: None,
            message: e.to_string(),
        };
        let f = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        f.take(MAX_FLOW_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let text = String::from_utf8(bytes).map_err(|_| FlowError {
            file: name.clone(),
            line: None,
            node: None,
            message: "the flow is not UTF-8 text".into(),
        })?;
        Flow::from_toml(&text, &name)
    }
}
