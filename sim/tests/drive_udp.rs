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

/// `len` consecutive ports (from an even one) that were free for UDP on 127.0.0.1 a moment
/// ago: below the kernel's ephemeral range (32768 and up), where other sockets land, from
/// a place that differs per process, so runs side by side try different ranges first.
fn free_ports(len: u32) -> (u16, u16) {
    const LO: u32 = 20_000;
    const HI: u32 = 32_000;
    let windows = (HI - LO) / len;
    let first = std::process::id() * 17;
    for w in (0..windows).map(|i| (first + i) % windows) {
        let lo = LO + w * len;
        if (lo..lo + len).all(|p| std::net::UdpSocket::bind(("127.0.0.1", p as u16)).is_ok()) {
            return (lo as u16, (lo + len - 1) as u16);
        }
    }
    panic!("no {len} consecutive free UDP ports in {LO}-{HI}");
}

#[test]
fn udp_transport_completes_a_tiny_scenario_without_media_loss() {
    let sc = tiny();
    let cfg = DriveConfig {
        transport: TransportKind::Udp,
        time_scale: 4.0,
        udp_ports: free_ports(1_000),
        ..DriveConfig::default()
    };
    let started = Instant::now();
    let d = drive(&sc, &cfg).unwrap();
    let wall = started.elapsed();
    let r = &d.drive;
    println!("{}{}", d.report.to_text(), r.to_text());
    // Real time, compressed four times: ~10 s of media, and the report says so. Paced by
    // the clock, the media cannot run ahead of it; how far it falls behind depends on the
    // machine (a benchmark's question), within a bound that says nothing hung.
    let media_s = d.metrics.end_time / 4.0;
    assert!(r.time_compressed && r.time_scale == 4.0);
    assert!((r.media_s - media_s).abs() < 1e-9, "{} s media", r.media_s);
    assert!(
        (r.real_time_factor - r.media_s / r.wall_s).abs() < 1e-9,
        "{}",
        r.real_time_factor
    );
    assert!(r.real_time_factor <= 1.01, "{}", r.real_time_factor);
    assert!(wall >= Duration::from_secs_f64(media_s), "{wall:?}");
    assert!(wall < Duration::from_secs_f64(10.0 * media_s), "{wall:?}");
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
    // Loopback through the engine, relayed as packets arrive: well under a 20 ms packet
    // time one way (at the median: a loaded machine delays a few).
    assert!(r.media.latency_ms.p50 < 20.0, "{:?}", r.media.latency_ms);
    assert!(r.engine.shards.iter().all(|s| s.cpu_s.is_some()));
}
