//! The gate's workloads: one per hot path. Each builds its state, then runs the hot path
//! inside [`gate_measure`].

use std::hint::black_box;

use crate::measure::gate_measure;

/// One named workload.
pub struct Workload {
    /// Stable name; the key in the baseline file.
    pub name: &'static str,
    /// What it measures.
    pub about: &'static str,
    /// Runs it once.
    pub run: fn(),
}

/// Finds a workload by name.
pub fn find(name: &str) -> Option<&'static Workload> {
    ALL.iter().find(|w| w.name == name)
}

/// Every workload, in table order.
pub static ALL: &[Workload] = &[Workload {
    name: "selftest/sum_1k",
    about: "sums 1,000 integers (checks the harness itself)",
    run: selftest,
}];

fn selftest() {
    let v: Vec<u64> = (0..1000).collect();
    let mut s = 0u64;
    gate_measure(&mut || {
        for x in black_box(&v) {
            s = s.wrapping_add(*x);
        }
    });
    black_box(s);
}
