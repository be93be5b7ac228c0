//! The capacity harness: how many bridged calls a relay carries, and at what cost.
//!
//! A load generator in a separate process ([`loadgen_main`]) sends G.711 RTP — 50 packets/s
//! per direction per call — for N bridged calls over loopback through a [`Relay`], and
//! measures loss, added one-way latency (p50/p99/p99.9, from a send time stamp in the
//! payload) and the relay's CPU time per relayed packet (from `/proc`). The same figures for
//! [`RawRelay`], a minimal `recvmmsg`/`sendmmsg` relay, show what the kernel alone costs.
//! [`run_levels`] steps through load levels, stopping at the first with more than 0.1% loss;
//! [`table`] and [`json_line`] print the results.
//!
//! Files, one job each: [`payload`] (the measurement payload), [`rtp_out`] (outgoing RTP),
//! [`clock`], [`pacer`] (the send schedule), [`seqtrack`] (loss/order accounting),
//! [`loadgen`] and [`shard`] (one generator thread), the private `paced` (a generator
//! thread's set-up and paced send/receive loop) and `rx_pump` (its poll, `recvmmsg` drain and
//! receive time stamps), shared by the shard and the conference generator, [`raw_relay`], [`cpu`] (`/proc` CPU
//! times), [`levels`] (results and formatting), [`driver`] (the level loop), [`cli`] (the
//! load generator's command line), [`baseline_cli`] (a command for the raw baseline alone),
//! [`mixmark`], [`conference`] and [`conference_run`] (conference rooms: marks that survive
//! mixing, the generator, one run),
//! [`os`] (small system calls), and the private `mmsg` (batched UDP I/O).

pub mod baseline_cli;
pub mod cli;
pub mod clock;
pub mod conference;
pub mod conference_run;
pub mod cpu;
pub mod driver;
pub mod levels;
pub mod loadgen;
pub mod mixmark;
mod mmsg;
pub mod os;
mod paced;
pub mod pacer;
pub mod payload;
pub mod raw_relay;
pub mod relay;
pub mod rtp_out;
mod rx_pump;
pub mod seqtrack;
pub mod shard;

pub use baseline_cli::raw_capacity_main;
pub use cli::loadgen_main;
pub use conference::{ConferenceConfig, ConferenceReport, run_conference};
pub use conference_run::{
    ConferenceRelay, ConferenceResult, RelayJitter, conference_text, run_conference_level,
    run_conference_loadgen,
};
pub use driver::{LoadGenMode, run_level, run_levels, run_levels_observed, run_loadgen};
pub use levels::{Level, LevelResult, json_line, table};
pub use loadgen::{LoadGen, LoadGenConfig, LoadReport, run_load};
pub use raw_relay::RawRelay;
pub use relay::{CallTarget, Relay};

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::net::{IpAddr, Ipv4Addr, UdpSocket};
    use std::time::Duration;

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
        let mut factory = |calls| -> io::Result<Box<dyn Relay>> {
            Ok(Box::new(RawRelay::start(calls, LOCALHOST)?))
        };
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
}
