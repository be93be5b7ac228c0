//! rtpengine (Debian's `rtpengine-daemon`, userspace) as a relay under test, started by the
//! harness on 127.0.0.1 and driven over ng: a load level through it and a set-up run
//! against it. Skipped, with a message, where rtpengine is not installed.

use std::time::Duration;

use tandem_load::setup_rate::{SetupConfig, compare_setups};
use tandem_load::{DaemonKind, DaemonSpec, LoadGenMode, NgRelay, Relay, find_rtpengine, run_level};

fn rtpengine() -> Option<DaemonSpec> {
    match find_rtpengine(None) {
        Ok(exe) => Some(DaemonSpec {
            kind: DaemonKind::Rtpengine { exe },
            threads: 1,
            cpu: None,
        }),
        Err(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

#[test]
fn a_level_through_rtpengine_loses_nothing_and_counts_its_cpu() {
    let Some(spec) = rtpengine() else { return };
    let relay = NgRelay::start(&spec, 4).unwrap();
    let pid = relay.daemon().pid();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    let r = run_level(
        Box::new(relay) as Box<dyn Relay>,
        Duration::from_secs(1),
        &LoadGenMode::InProcessThread,
    )
    .unwrap();
    assert_eq!(r.relay, "rtpengine");
    assert_eq!(r.report.sent, 4 * 2 * 50, "{r:?}");
    assert_eq!(r.report.received, r.report.sent, "{r:?}");
    assert_eq!((r.report.misrouted, r.report.unprimed_calls), (0, 0));
    // rtpengine's own count (its query replies) covers every measured packet.
    assert!(r.packets_relayed >= r.report.sent, "{r:?}");
    assert!(r.relay_cpu_s > 0.0, "{r:?}");
    assert!(r.shards.is_none());
    // Stopped by PID: the process is gone (a zombie is reaped by the wait).
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn rtpengine_sets_up_and_deletes_calls_over_ng() {
    let Some(spec) = rtpengine() else { return };
    let config = SetupConfig {
        calls: 200,
        window: 16,
        ..SetupConfig::default()
    };
    let mut seen = Vec::new();
    let c = compare_setups(&[spec], &config, 2, &mut |relay, round, r| {
        seen.push((relay.to_string(), round, r.is_some()));
    })
    .unwrap();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(c.runs.len(), 2);
    for (_, r) in &c.runs {
        assert_eq!(
            (r.relay.as_str(), r.calls, r.window),
            ("rtpengine", 200, 16)
        );
        assert!(r.setups_per_s > 0.0 && r.relay_cpu_s > 0.0, "{r:?}");
        assert!(
            r.offer.p50_us > 0.0 && r.offer.p99_us >= r.offer.p50_us,
            "{r:?}"
        );
    }
}
