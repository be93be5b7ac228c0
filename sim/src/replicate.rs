//! Running replications on several threads and folding them in, in order, as they finish.
//!
//! Replications are independent runs; any thread may run any of them. Their results are
//! handed to the caller strictly in replication order, so whatever folds them (sums, running
//! means and variances) sees the same sequence of additions — and gives the same floating-
//! point result to the last bit — whatever the number of threads. A replication is dropped
//! as soon as it is folded in, and no thread starts replication `i` until replication
//! `i - window` has been folded (the window is [`budget::max_in_flight`]), so memory stays
//! flat however many replications run.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use crate::SimError;
use crate::budget;
use crate::metrics::RunMetrics;
use crate::model::Run;
use crate::scenario::Scenario;

struct Shared {
    /// Next replication to start.
    next: u32,
    /// Replications folded in so far.
    folded: u32,
    /// Stop starting replications (an error).
    stop: bool,
}

/// Runs every replication of `sc` on up to `threads` threads and hands each one's metrics
/// to `sink` in replication order. `progress` is called with the number folded in so far.
/// Stops at the first error (a replication's or the sink's), in replication order.
pub fn for_each_replication(
    sc: &Scenario,
    threads: usize,
    progress: &(dyn Fn(u32) + Sync),
    mut sink: impl FnMut(u32, RunMetrics) -> Result<(), SimError>,
) -> Result<(), SimError> {
    let reps = sc.replications;
    let threads = threads.clamp(1, reps.max(1) as usize);
    let window = budget::max_in_flight(threads) as u32;
    let state = Mutex::new(Shared {
        next: 0,
        folded: 0,
        stop: false,
    });
    let turn = Condvar::new();
    let (tx, rx) = mpsc::channel::<(u32, Result<RunMetrics, SimError>)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (state, turn) = (&state, &turn);
            scope.spawn(move || {
                loop {
                    let rep = {
                        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if s.stop || s.next >= reps {
                                return;
                            }
                            if s.next < s.folded + window {
                                break;
                            }
                            s = turn.wait(s).unwrap_or_else(|e| e.into_inner());
                        }
                        s.next += 1;
                        s.next - 1
                    };
                    let result = Run::new(sc, rep).and_then(|r| r.run());
                    if tx.send((rep, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut next = 0u32;
        let mut outcome = Ok(());
        for (rep, result) in rx {
            pending.insert(rep, result);
            while let Some(result) = pending.remove(&next) {
                if outcome.is_ok() {
                    outcome = result.and_then(|m| sink(next, m));
                }
                next += 1;
                if outcome.is_ok() {
                    progress(next);
                }
                let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                s.folded = next;
                s.stop |= outcome.is_err();
                drop(s);
                turn.notify_all();
            }
        }
        outcome
    })
}
