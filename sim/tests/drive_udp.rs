//! Drive mode on the UDP transport: real sockets on 127.0.0.1, real time (compressed).

use std::time::{Duration, Instant};

use tandem_sim::Scenario;
use tandem_sim::drive::{DriveConfig, TransportKind, drive};
use tandem_sim::model::Run;

fn tiny() -> Scenario {
    Scenario::from_toml(
        r#"
name = "tiny"
duration_s = 24
seed = 3
[arrivals]
kind = "poisson"
per_min = 40
[trunks]
channels = 8
[ivr]
ports = 4
time = { kind = "uniform", min = 2, max = 4 }
[queue]
patience = { kind = "deterministic", value = 30 }
[agents]
count = 3
talk = { kind = "uniform", min = 4, max = 8 }
ring = { kind = "deterministic", value = 1 }
"#,
        "tiny.toml",
        None,
    )
    .unwrap()
}

#[test]
fn udp_transport_completes_a_tiny_scenario_without_media_loss() {
    let sc = tiny();
    let cfg = DriveConfig {
        transport: TransportKind::Udp,
        time_scale: 4.0,
        udp_ports: (41_000, 41_999),
        ..DriveConfig::default()
    };
    let started = Instant::now();
    let d = drive(&sc, &cfg).unwrap();
    let wall = started.elapsed();
    let r = &d.drive;
    println!("{}{}", d.report.to_text(), r.to_text());
    // Real time, compressed four times: ~10 s of media, and the report says so.
    assert!(wall < Duration::from_secs(30), "{wall:?}");
    assert!(r.time_compressed && r.time_scale == 4.0);
    assert!(
        (r.real_time_factor - 1.0).abs() < 0.2,
        "{}",
        r.real_time_factor
    );
    // The same decisions as the pure model.
    let pure = Run::new(&sc, 0).unwrap().run().unwrap();
    assert_eq!(pure.totals(), d.metrics.totals());
    // Media: every conversation measured, nothing lost, misrouted or from the wrong place.
    let c = &r.counters;
    assert_eq!(c.errors, 0, "{:?}", c.first_errors);
    assert!(r.media.conversations >= 4, "{:?}", r.media);
    assert_eq!(r.media.conversations as f64, d.metrics.totals().answered);
    assert_eq!(r.media.voice_lost, 0, "{:?}", r.media);
    assert!(r.media.voice_received > 100 * r.media.conversations);
    assert_eq!(
        (c.misrouted, c.wrong_source, c.malformed),
        (0, 0, 0),
        "{c:?}"
    );
    assert_eq!(c.downlink_rtp_lost, 0, "{c:?}");
    // Loopback through the engine: well under 20 ms one way.
    assert!(r.media.latency_ms.p50 < 5.0, "{:?}", r.media.latency_ms);
    assert!(r.engine.shards.iter().all(|s| s.cpu_s.is_some()));
}
