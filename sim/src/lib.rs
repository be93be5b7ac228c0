//! Tandem's capacity lab: a deterministic discrete-event call-centre simulator.
//!
//! A [`Scenario`] (TOML) describes arrivals, trunks, IVR ports, caller patience, agents and
//! callbacks; [`simulate`] runs its replications (in parallel, with results independent of
//! the thread count) through the real ACD from `tandem-acd` and returns a [`Report`] that
//! counts losses at the four stages — trunk, IVR, queue, agent ring — with the KPIs of the
//! call-centre brief. [`erlang`] holds the analytic oracles the simulator is tested against.
//!
//! The model reports every call's steps to an observer ([`lifecycle`]). With the `drive`
//! feature, the `drive` module is such an observer: drive mode pushes the simulated calls
//! through the real media engine as prompts, queues, bridges and recordings. Without it the
//! simulator does not build the engine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arrivals;
mod calendar;
pub mod compare;
pub mod dist;
#[cfg(feature = "drive")]
pub mod drive;
pub mod emodel;
pub mod erlang;
pub mod html;
pub mod kernel;
pub mod lifecycle;
pub mod metrics;
pub mod model;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod staffing;

pub use report::Report;
pub use scenario::Scenario;

/// Errors of the simulator.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A file could not be read.
    #[error("{0}")]
    Io(String),
    /// A scenario is malformed: where, and what is wrong.
    #[error("{origin}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// File name (or `built-in:NAME`).
        origin: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong, naming the key.
        message: String,
    },
    /// An invalid value or request.
    #[error("{0}")]
    Invalid(String),
}

/// Runs every replication of `sc` on up to `threads` threads and combines them. `progress`
/// is called after each replication with the number finished.
pub fn simulate(
    sc: &Scenario,
    threads: usize,
    progress: &(dyn Fn(u32) + Sync),
) -> Result<Report, SimError> {
    let runs = run_replications(sc, threads, progress)?;
    Ok(Report::from_runs(sc, &runs))
}

/// Runs the replications and returns their raw measurements, in replication order.
pub fn run_replications(
    sc: &Scenario,
    threads: usize,
    progress: &(dyn Fn(u32) + Sync),
) -> Result<Vec<metrics::RunMetrics>, SimError> {
    let reps = sc.replications;
    let threads = threads.clamp(1, reps.max(1) as usize);
    let done = std::sync::atomic::AtomicU32::new(0);
    let mut slots: Vec<Option<Result<metrics::RunMetrics, SimError>>> =
        (0..reps).map(|_| None).collect();
    std::thread::scope(|scope| {
        let chunks: Vec<_> = slots
            .chunks_mut(reps.div_ceil(threads as u32) as usize)
            .enumerate()
            .collect();
        let per = reps.div_ceil(threads as u32);
        for (ci, chunk) in chunks {
            let done = &done;
            scope.spawn(move || {
                for (j, slot) in chunk.iter_mut().enumerate() {
                    let rep = ci as u32 * per + j as u32;
                    *slot = Some(model::Run::new(sc, rep).and_then(|r| r.run()));
                    progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err(SimError::Invalid("replication did not run".into()))))
        .collect()
}
