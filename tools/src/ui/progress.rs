//! Progress bars on stderr for work that takes more than a moment. They stay silent with
//! `--quiet`, and whenever stderr is not a terminal (a pipe, a file, CI logs), so only
//! people watching see them.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Whether to draw progress: not asked to be quiet, and stderr is a terminal.
pub fn enabled(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A bar counting `len` units of work (`unit` names them, e.g. "replications"), labelled
/// `msg`, with elapsed time and an estimate of the rest.
pub fn bar(len: u64, unit: &str, msg: impl Into<String>, quiet: bool) -> ProgressBar {
    if !enabled(quiet) {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    let template = format!(
        "{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{elapsed}}, about {{eta}} left)"
    );
    b.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(msg.into());
    b.enable_steady_tick(Duration::from_millis(200));
    b
}

/// A spinner with elapsed time, for work whose length is not known in advance.
pub fn spinner(msg: impl Into<String>, quiet: bool) -> ProgressBar {
    if !enabled(quiet) {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new_spinner();
    b.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    b.set_message(msg.into());
    b.enable_steady_tick(Duration::from_millis(120));
    b
}
