//! The capacity search end to end: the raw relay at a few levels, in-process, and the
//! stepping rule (stop at the first lossy level).

use std::io;
use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::Duration;
use tandem_load::{
    CallTarget, LoadGenMode, RawRelay, Relay, json_line, run_levels, run_loadgen, table,
};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[test]
fn raw_relay_carries_20_calls_without_loss() {
    let relay = RawRelay::start(20, LOCALHOST).unwrap();
    let before = relay.packets_relayed();
    let report = run_loadgen(
        &relay.targets(),
        Duration::from_secs(1),
        &LoadGenMode::InProcessThread,
    )
    .unwrap();
    let relayed = relay.packets_relayed() - before;
    relay.stop().unwrap();

    assert_eq!(report.calls, 20);
    assert_eq!(report.sent, 20 * 2 * 50, "{report:?}");
    assert_eq!(report.received, report.sent, "{report:?}");
    assert_eq!((report.lost, report.loss_ratio), (0, 0.0));
    assert_eq!(report.unprimed_calls, 0);
    assert_eq!(report.misrouted + report.malformed + report.duplicates, 0);
    assert_eq!(report.rx_stamp_fallbacks, 0);
    assert!(report.latency_p50_us > 0.0, "{report:?}");
    assert!(report.latency_p99_us >= report.latency_p50_us);
    assert!(report.latency_max_us >= report.latency_p999_us);
    // Every measured packet plus the primers went through the relay.
    assert!(relayed >= report.sent, "{relayed} < {}", report.sent);
}

#[test]
fn run_levels_measures_cpu_and_formats() {
    let mut factory =
        |calls| -> io::Result<Box<dyn Relay>> { Ok(Box::new(RawRelay::start(calls, LOCALHOST)?)) };
    let results = run_levels(
        &mut factory,
        &[2, 5],
        Duration::from_millis(300),
        LoadGenMode::InProcessThread,
    )
    .unwrap();
    assert_eq!(results.len(), 2);
    let r = &results[1];
    assert_eq!(
        (r.relay.as_str(), r.calls, r.pps_offered),
        ("raw", 5, 500.0)
    );
    assert_eq!(r.report.lost, 0);
    assert!(r.packets_relayed >= r.report.sent);
    assert!(r.relay_cpu_s > 0.0 && r.cpu_us_per_packet > 0.0, "{r:?}");
    assert!(table(&results).lines().count() == 4);
    assert!(json_line(r).starts_with("{\"relay\":\"raw\""));
}

/// A relay that relays nothing: its ports are sinks.
struct BlackHole(Vec<UdpSocket>);

impl Relay for BlackHole {
    fn name(&self) -> &str {
        "black-hole"
    }
    fn targets(&self) -> Vec<CallTarget> {
        self.0
            .chunks_exact(2)
            .map(|p| CallTarget {
                a_port: p[0].local_addr().unwrap(),
                b_port: p[1].local_addr().unwrap(),
            })
            .collect()
    }
    fn cpu_time(&self) -> io::Result<Duration> {
        Ok(Duration::ZERO)
    }
    fn packets_relayed(&self) -> u64 {
        0
    }
    fn stop(self: Box<Self>) {}
}

#[test]
fn stepping_stops_at_the_first_lossy_level() {
    let mut factory = |calls: usize| -> io::Result<Box<dyn Relay>> {
        let socks = (0..2 * calls)
            .map(|_| UdpSocket::bind((LOCALHOST, 0)))
            .collect::<io::Result<_>>()?;
        Ok(Box::new(BlackHole(socks)))
    };
    let results = run_levels(
        &mut factory,
        &[1, 2, 3],
        Duration::from_millis(60),
        LoadGenMode::InProcessThread,
    )
    .unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].report.loss_ratio, 1.0);
    assert_eq!(results[0].cpu_us_per_packet, 0.0);
}
