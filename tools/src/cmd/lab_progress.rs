//! Progress on stderr for the load lab's long runs (`tandem load`, `capacity`, `bench`).
//!
//! Two shapes: a [`countdown`](LabProgress::countdown) over one run's duration, and a bar
//! over a number of [`steps`](LabProgress::steps) (levels × relays × rounds) whose message
//! names the step running and counts down its expected length. The bar is drawn only when
//! stderr is a terminal and `--quiet` is not given; [`note`](LabProgress::note) lines go
//! above the bar, or straight to stderr when there is no bar (a CI log then still shows
//! each step), and nowhere with `--quiet`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often the countdown is redrawn.
const TICK: Duration = Duration::from_millis(200);

/// What the current step is and when it should end.
struct Step {
    label: String,
    started: Instant,
    expected: Duration,
}

/// A progress display for one command (see the module documentation).
pub struct LabProgress {
    bar: ProgressBar,
    quiet: bool,
    step: Arc<Mutex<Step>>,
    ticker: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

/// Whether a bar is drawn: stderr is a terminal and `--quiet` was not given.
fn drawn(quiet: bool) -> bool {
    crate::ui::progress::enabled(quiet)
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl LabProgress {
    /// A countdown of `duration` labelled `label` (one load run).
    pub fn countdown(quiet: bool, label: &str, duration: Duration) -> LabProgress {
        let bar = if drawn(quiet) {
            let b = ProgressBar::new(duration.as_millis().max(1) as u64);
            b.set_style(style("{spinner} {msg} [{bar:30}]"));
            b
        } else {
            ProgressBar::hidden()
        };
        let p = LabProgress::with(bar, quiet, label, duration, true);
        if !drawn(quiet) && !quiet {
            eprintln!("{label}: {:.0} s…", duration.as_secs_f64());
        }
        p
    }

    /// A bar over `steps` steps, each announced with [`start`](Self::start).
    pub fn steps(quiet: bool, what: &str, steps: usize) -> LabProgress {
        let bar = if drawn(quiet) {
            let b = ProgressBar::new(steps as u64);
            b.set_style(style(
                "{spinner} [{bar:25}] {pos}/{len} {prefix}: {wide_msg}",
            ));
            b.set_prefix(what.to_string());
            b
        } else {
            ProgressBar::hidden()
        };
        LabProgress::with(bar, quiet, what, Duration::ZERO, false)
    }

    fn with(
        bar: ProgressBar,
        quiet: bool,
        label: &str,
        expected: Duration,
        countdown: bool,
    ) -> LabProgress {
        let step = Arc::new(Mutex::new(Step {
            label: label.to_string(),
            started: Instant::now(),
            expected,
        }));
        let ticker = (!bar.is_hidden()).then(|| {
            let stop = Arc::new(AtomicBool::new(false));
            let (b, s, st) = (bar.clone(), step.clone(), stop.clone());
            let h = std::thread::spawn(move || {
                while !st.load(Ordering::Relaxed) {
                    {
                        let step = s.lock().unwrap_or_else(|e| e.into_inner());
                        let elapsed = step.started.elapsed();
                        if countdown {
                            b.set_position(elapsed.as_millis() as u64);
                        }
                        b.set_message(message(&step.label, step.expected, elapsed));
                    }
                    b.tick();
                    std::thread::sleep(TICK);
                }
            });
            (stop, h)
        });
        LabProgress {
            bar,
            quiet,
            step,
            ticker,
        }
    }

    /// Announces the next step, expected to take about `expected`; without a bar the label
    /// is printed as a line (unless quiet).
    pub fn start(&self, label: String, expected: Duration) {
        if self.bar.is_hidden() && !self.quiet {
            eprintln!("{label}…");
        }
        let mut step = self.step.lock().unwrap_or_else(|e| e.into_inner());
        self.bar
            .set_message(message(&label, expected, Duration::ZERO));
        *step = Step {
            label,
            started: Instant::now(),
            expected,
        };
    }

    /// The current step is done.
    pub fn done(&self) {
        self.bar.inc(1);
    }

    /// A line for the person watching: above the bar, or on stderr without one; nothing
    /// when quiet.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    /// A line of results on stdout (also when quiet), with the bar out of the way.
    pub fn stdout_line(&self, line: &str) {
        self.bar.suspend(|| println!("{line}"));
    }

    /// Removes the bar.
    pub fn finish(mut self) {
        self.stop_ticker();
        self.bar.finish_and_clear();
    }

    fn stop_ticker(&mut self) {
        if let Some((stop, h)) = self.ticker.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = h.join();
        }
    }
}

impl Drop for LabProgress {
    fn drop(&mut self) {
        self.stop_ticker();
        self.bar.finish_and_clear();
    }
}

/// `label (N s left)`, or `label (finishing)` once the expected time is up.
fn message(label: &str, expected: Duration, elapsed: Duration) -> String {
    if expected.is_zero() {
        return label.to_string();
    }
    match expected.checked_sub(elapsed) {
        Some(left) => format!("{label} ({} s left)", left.as_secs_f64().ceil() as u64),
        None => format!("{label} (finishing)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_counts_down_then_says_finishing() {
        let s = Duration::from_secs;
        assert_eq!(
            message("500 calls", s(5), Duration::from_millis(1200)),
            "500 calls (4 s left)"
        );
        assert_eq!(message("x", s(5), s(6)), "x (finishing)");
        assert_eq!(message("sim", Duration::ZERO, s(6)), "sim");
    }

    #[test]
    fn a_quiet_display_draws_nothing_and_runs_no_thread() {
        let p = LabProgress::steps(true, "capacity", 3);
        assert!(p.ticker.is_none() && p.bar.is_hidden());
        p.start("step".into(), Duration::from_secs(1));
        p.note("hidden");
        p.done();
        p.finish();
        let c = LabProgress::countdown(true, "load", Duration::from_secs(2));
        assert!(c.ticker.is_none());
    }
}
