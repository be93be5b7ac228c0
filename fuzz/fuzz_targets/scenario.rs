#![no_main]
//! The scenario loader and a short run of what it loads: any text gives a report or an error
//! naming where, never a panic, and the run ends within a bounded number of events.
use libfuzzer_sys::fuzz_target;
use tandem_sim::{Scenario, simulate};

/// Events a fuzzed run may be estimated to process (and the most any replication may).
const MAX_EVENTS: f64 = 200_000.0;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut sc) = Scenario::from_toml(text, "fuzz", None) else {
        return;
    };
    sc.replications = sc.replications.min(2);
    sc.batches = sc.batches.filter(|_| sc.replications == 1);
    sc.limits.max_events = MAX_EVENTS;
    sc.limits.max_memory_mib = 256.0;
    if let Ok(report) = simulate(&sc, 1, &|_| {}) {
        assert!(report.events <= MAX_EVENTS, "{} events", report.events);
        let _ = report.to_text();
        let _ = serde_json::to_string(&report);
    }
});
