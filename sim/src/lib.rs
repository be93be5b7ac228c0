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
pub mod breakdown;
pub mod budget;
mod calendar;
pub mod compare;
pub mod dist;
#[cfg(feature = "drive")]
pub mod drive;
pub mod emodel;
pub mod erlang;
pub mod flow_metrics;
pub mod grid;
pub mod html;
pub mod kernel;
pub mod level;
pub mod lifecycle;
pub mod metrics;
pub mod model;
pub mod replicate;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod staffing;
pub mod summary;

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

/// Runs every replication of `sc` on up to `threads` threads and combines them, folding
/// each replication into running statistics as it finishes (memory does not grow with the
/// number of replications). The run's estimated events and memory are checked against the
/// scenario's limits first. `progress` is called after each replication with the number
/// finished.
pub fn simulate(
    sc: &Scenario,
    threads: usize,
    progress: &(dyn Fn(u32) + Sync),
) -> Result<Report, SimError> {
    budget::check(sc, threads)?;
    let mut summary = summary::Summary::new(sc);
    replicate::for_each_replication(sc, threads, progress, |_, m| {
        summary.add(&m);
        Ok(())
    })?;
    Ok(summary.into_report(sc))
}

/// Runs the replications and returns their raw measurements, in replication order. This
/// holds every replication's measurements at once; [`simulate`] and
/// [`replicate::for_each_replication`] do not.
pub fn run_replications(
    sc: &Scenario,
    threads: usize,
    progress: &(dyn Fn(u32) + Sync),
) -> Result<Vec<metrics::RunMetrics>, SimError> {
    budget::check(sc, threads)?;
    let mut runs = Vec::with_capacity(sc.replications as usize);
    replicate::for_each_replication(sc, threads, progress, |_, m| {
        runs.push(m);
        Ok(())
    })?;
    Ok(runs)
}
