//! One cohort of the soak's calls, turn after turn: set up `n` calls over ng, stream
//! through them for the holding time with the load lab's generator, delete them, and
//! again with new call-ids, until a further turn would run past the end.
//!
//! The relay ports of a cohort's live calls are published in [`Live`] for the hostile
//! traffic to aim at, and withdrawn before the calls are deleted.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tandem_serve::client::NgClient;

use crate::bridged::{LoadGen, LoadGenConfig, LoadReport};
use crate::target::CallTarget;

/// The relay ports of every cohort's live calls, one list per cohort.
#[derive(Debug)]
pub struct Live {
    cohorts: Vec<Mutex<Vec<SocketAddr>>>,
}

impl Live {
    /// Empty lists for `cohorts` cohorts.
    pub fn new(cohorts: usize) -> Live {
        Live {
            cohorts: (0..cohorts).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// Replaces cohort `k`'s ports.
    pub fn publish(&self, k: usize, ports: Vec<SocketAddr>) {
        *self.cohorts[k].lock().unwrap_or_else(|p| p.into_inner()) = ports;
    }

    /// One live relay port, chosen by `pick` (a random number): `None` when no call is live.
    pub fn any(&self, pick: usize) -> Option<SocketAddr> {
        let n = self.cohorts.len();
        (0..n).find_map(|i| {
            let list = self.cohorts[(pick + i) % n]
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            (!list.is_empty()).then(|| list[(pick / n) % list.len()])
        })
    }
}

/// What a cohort did over all its turns.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CohortTally {
    /// Turns completed.
    pub turns: u64,
    /// Calls set up (offer and answer both answered `ok`).
    pub calls_set_up: u64,
    /// Calls whose set-up failed (refused or unanswered).
    pub setup_failures: u64,
    /// Deletes refused or unanswered.
    pub delete_failures: u64,
    /// The first set-up or delete failure, as the client reported it.
    pub first_failure: Option<String>,
    /// Measured RTP packets sent through the calls.
    pub sent: u64,
    /// Of those, not received at the other end.
    pub lost: u64,
    /// Packets received on the wrong call or endpoint (cross-talk).
    pub misrouted: u64,
    /// Datagrams received that were not the generator's RTP (a stranger's, relayed).
    pub malformed: u64,
    /// Calls whose endpoints had not both been heard when streaming began.
    pub unprimed_calls: u64,
}

impl CohortTally {
    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &CohortTally) {
        self.turns += other.turns;
        self.calls_set_up += other.calls_set_up;
        self.setup_failures += other.setup_failures;
        self.delete_failures += other.delete_failures;
        if self.first_failure.is_none() {
            self.first_failure.clone_from(&other.first_failure);
        }
        self.sent += other.sent;
        self.lost += other.lost;
        self.misrouted += other.misrouted;
        self.malformed += other.malformed;
        self.unprimed_calls += other.unprimed_calls;
    }

    fn add_media(&mut self, r: &LoadReport) {
        self.sent += r.sent;
        self.lost += r.lost;
        self.misrouted += r.misrouted;
        self.malformed += r.malformed;
        self.unprimed_calls += r.unprimed_calls as u64;
    }

    fn failed(&mut self, what: String) {
        self.first_failure.get_or_insert(what);
    }
}

/// Runs cohort `k` of `n` calls against the ng relay at `ng`: the first turn at `start`,
/// the last one that ends by `end`.
pub fn run(
    ng: SocketAddr,
    k: usize,
    n: usize,
    hold: Duration,
    start: Instant,
    end: Instant,
    live: &Live,
) -> io::Result<CohortTally> {
    let mut client = NgClient::new(ng, Duration::from_secs(1), 3)?;
    let ip = client.local_ip()?;
    let media = LoadGenConfig {
        duration: hold,
        // Timer turns of 1 ms: the soak is about the relay, not the generator's precision.
        tick: Duration::from_millis(1),
        ..LoadGenConfig::default()
    };
    let mut tally = CohortTally::default();
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    while Instant::now() + hold <= end {
        turn(&mut client, ip, k, n, &media, live, &mut tally)?;
        tally.turns += 1;
    }
    Ok(tally)
}

/// One turn: set up, stream, delete.
fn turn(
    client: &mut NgClient,
    ip: IpAddr,
    k: usize,
    n: usize,
    media: &LoadGenConfig,
    live: &Live,
    tally: &mut CohortTally,
) -> io::Result<()> {
    let mut sockets = Vec::with_capacity(2 * n);
    // Held for the turn and never read: the relay's RTCP lands there and nowhere else.
    let mut rtcp = Vec::with_capacity(2 * n);
    let mut targets = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("soak-{}-{k}-{}-{i}", std::process::id(), tally.turns);
        let ((a, a_rtcp), (b, b_rtcp)) = (endpoint(ip)?, endpoint(ip)?);
        rtcp.extend([a_rtcp, b_rtcp]);
        match client.setup_call(&id, a.local_addr()?, b.local_addr()?) {
            Ok(p) => {
                tally.calls_set_up += 1;
                sockets.extend([a, b]);
                targets.push(CallTarget {
                    a_port: p.a_port,
                    b_port: p.b_port,
                });
                ids.push(id);
            }
            Err(e) => {
                tally.setup_failures += 1;
                tally.failed(format!("setting up {id}: {e}"));
                // The offer alone may have created the call.
                let _ = client.delete(&id);
            }
        }
    }
    live.publish(
        k,
        targets.iter().flat_map(|t| [t.a_port, t.b_port]).collect(),
    );
    let streamed = if targets.is_empty() {
        std::thread::sleep(media.duration);
        Ok(())
    } else {
        LoadGen::with_sockets(sockets, &targets, media.clone())
            .and_then(LoadGen::run)
            .map(|r| tally.add_media(&r))
    };
    live.publish(k, Vec::new());
    for id in &ids {
        if let Err(e) = client.delete(id) {
            tally.delete_failures += 1;
            tally.failed(format!("deleting {id}: {e}"));
        }
    }
    drop(rtcp);
    streamed
}

/// Tries at binding an endpoint's port pair before giving up.
const PAIR_ATTEMPTS: usize = 256;

/// An endpoint's RTP socket on an even port and its RTCP socket on the next one, as a
/// phone binds them. The relay sends its RTCP to the RTP port + 1 (RFC 3550 section 11):
/// with only the RTP port bound, that port may be another call's endpoint in the next turn,
/// which would then count the relay's sender reports as foreign media.
fn endpoint(ip: IpAddr) -> io::Result<(UdpSocket, UdpSocket)> {
    for _ in 0..PAIR_ATTEMPTS {
        let rtp = UdpSocket::bind((ip, 0))?;
        let port = rtp.local_addr()?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        match UdpSocket::bind((ip, port + 1)) {
            Ok(rtcp) => return Ok((rtp, rtcp)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        format!("no free RTP/RTCP port pair on {ip} in {PAIR_ATTEMPTS} tries"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_holds_an_even_port_and_the_next_one() {
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..20 {
            let (rtp, rtcp) = endpoint(ip).unwrap();
            let p = rtp.local_addr().unwrap().port();
            assert_eq!(p % 2, 0);
            assert_eq!(rtcp.local_addr().unwrap().port(), p + 1);
        }
    }

    #[test]
    fn live_ports_are_found_in_any_cohort_and_none_when_all_are_empty() {
        let live = Live::new(3);
        assert_eq!(live.any(7), None);
        let p: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let q: SocketAddr = "127.0.0.1:4002".parse().unwrap();
        live.publish(2, vec![p, q]);
        for pick in 0..20 {
            assert!([Some(p), Some(q)].contains(&live.any(pick)));
        }
        live.publish(2, Vec::new());
        assert_eq!(live.any(1), None);
    }
}
