//! The overload benchmark's parts: a relay run at twice the highest level it carries must
//! shed (drop stale packets, refuse new calls) rather than queue, so the packets it still
//! delivers keep a bounded latency.
//!
//! [`OfferProbe`] offers new calls to a daemon over ng while the load runs (once the
//! daemon has set up the level's calls, read from its `tandem_calls` metric), deletes the
//! ones it accepts, and counts the ones it refuses; [`OverloadResult`] holds what the run
//! at twice the passing level measured, with its verdict.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tandem_serve::client::{NgClient, NgClientError};
use tandem_serve::metrics::read::{scrape, sum};

use crate::results::LevelResult;

/// What the offers made during a run got.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferCounts {
    /// Offers for new calls made while the load ran.
    pub made: u64,
    /// Accepted (then deleted).
    pub accepted: u64,
    /// Refused with an error (the relay over a load limit, out of ports, …).
    pub refused: u64,
    /// Given no answer in time.
    pub unanswered: u64,
    /// The last refusal's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reason: Option<String>,
}

/// Offers new calls to a daemon at a steady pace while its load runs.
pub struct OfferProbe {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<OfferCounts>,
}

impl OfferProbe {
    /// Starts offering to `ng` every `every`, once the daemon's metrics at `metrics` count
    /// `calls` calls in progress (the level's calls are set up and the load is starting).
    pub fn start(
        ng: SocketAddr,
        metrics: SocketAddr,
        calls: usize,
        every: Duration,
    ) -> io::Result<OfferProbe> {
        let mut client = NgClient::new(ng, Duration::from_millis(500), 1)?;
        // Where the probe's callers say they send from: a bound socket, so nothing else
        // gets the relay's media should any arrive.
        let endpoint = UdpSocket::bind((client.local_ip()?, 0))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = thread::Builder::new()
            .name("offer-probe".into())
            .spawn(move || {
                let mut counts = OfferCounts::default();
                let Ok(from) = endpoint.local_addr() else {
                    return counts;
                };
                // Wait for the level's calls.
                while !flag.load(Ordering::Relaxed) {
                    let live = scrape(metrics, Duration::from_secs(2))
                        .ok()
                        .and_then(|t| sum(&t, "tandem_calls"))
                        .unwrap_or(0.0);
                    if live >= calls as f64 {
                        break;
                    }
                    thread::sleep(Duration::from_millis(50));
                }
                let mut next = Instant::now();
                while !flag.load(Ordering::Relaxed) {
                    let id = format!("overload-probe-{}-{}", std::process::id(), counts.made);
                    counts.made += 1;
                    match client.offer(&id, "probe", from) {
                        Ok(_) => {
                            counts.accepted += 1;
                            let _ = client.delete(&id);
                        }
                        Err(NgClientError::Refused { reason, .. }) => {
                            counts.refused += 1;
                            counts.last_reason = Some(reason);
                        }
                        Err(_) => counts.unanswered += 1,
                    }
                    next += every;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                }
                counts
            })?;
        Ok(OfferProbe { stop, handle })
    }

    /// Stops offering; what the offers got.
    pub fn finish(self) -> OfferCounts {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

/// The overload benchmark's figures for one relay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverloadResult {
    /// The highest level carried within the loss limit, calls.
    pub passing_calls: usize,
    /// The run at twice that.
    pub overload: LevelResult,
    /// Datagrams the relay shed as stale during the run (all shards).
    pub stale_dropped: u64,
    /// Offers for new calls made during the run.
    pub offers: OfferCounts,
    /// The limit on the delivered packets' p99 added latency, ms.
    pub limit_ms: f64,
}

impl OverloadResult {
    /// Gathers the figures of the run at twice `passing_calls`.
    pub fn new(
        passing_calls: usize,
        overload: LevelResult,
        offers: OfferCounts,
        limit_ms: f64,
    ) -> OverloadResult {
        let stale_dropped = overload
            .shards
            .as_ref()
            .map_or(0, |s| s.shards.iter().map(|x| x.stale_dropped).sum());
        OverloadResult {
            passing_calls,
            overload,
            stale_dropped,
            offers,
            limit_ms,
        }
    }

    /// The delivered packets' p99 added latency, ms.
    pub fn p99_ms(&self) -> f64 {
        self.overload.report.latency_p99_us / 1e3
    }

    /// Whether the p99 stayed within the limit.
    pub fn pass(&self) -> bool {
        self.p99_ms() <= self.limit_ms
    }

    /// A few lines for a person.
    pub fn text(&self) -> String {
        let r = &self.overload.report;
        let o = &self.offers;
        format!(
            "highest level within 0.1% loss: {} calls; run at {} calls ({:.0} pps offered)\n\
             delivered packets' added latency: p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms\n\
             loss {:.2}%, shed as stale by the relay: {} datagrams\n\
             offers for new calls during the run: {} made, {} refused, {} accepted, {} unanswered{}\n\
             generator send lag p99 {:.0} µs; steal {:.2} s, other CPU {:.2} s\n\
             verdict: p99 {:.1} ms vs limit {:.0} ms: {}\n",
            self.passing_calls,
            self.overload.calls,
            self.overload.pps_offered,
            r.latency_p50_us / 1e3,
            r.latency_p99_us / 1e3,
            r.latency_p999_us / 1e3,
            r.latency_max_us / 1e3,
            r.loss_ratio * 100.0,
            self.stale_dropped,
            o.made,
            o.refused,
            o.accepted,
            o.unanswered,
            o.last_reason
                .as_ref()
                .map_or(String::new(), |why| format!(" (last: {why})")),
            r.send_lag_p99_us,
            self.overload.steal_s,
            self.overload.other_cpu_s,
            self.p99_ms(),
            self.limit_ms,
            if self.pass() { "PASS" } else { "FAIL" }
        )
    }
}
