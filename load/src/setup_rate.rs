//! Call set-up rate over ng: how many calls per second a relay daemon sets up and tears down
//! (`offer`, `answer`, `delete` per call), with the round-trip time of each request.
//!
//! One client keeps a window of calls in flight ([`SetupConfig::window`]), each with one
//! request outstanding, so the relay always has work queued and the figure is the relay's
//! rate, not the client's round-trip time. Requests are sent as a SIP proxy sends them (the
//! offer with the caller's SDP, the answer with the callee's, the delete with no delay), each
//! reply is checked (`result` not `error`, an audio address in the SDP), and a request that
//! gets no reply within the timeout is sent again with the same cookie.
//!
//! [`compare_setups`] runs this against several daemons in alternation, round after round,
//! after one unmeasured warm-up round each, with the daemon's CPU time per call set-up.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tandem_serve::bencode::Value;
use tandem_serve::client::{media_address, pcmu_sdp};
use tandem_serve::ng;

use crate::compare::median;
use crate::daemon::{DaemonSpec, RelayDaemon};

/// How a set-up run is shaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupConfig {
    /// Calls set up and deleted.
    pub calls: usize,
    /// Calls in flight at once (each with one request outstanding).
    pub window: usize,
    /// Wait for a reply before sending a request again.
    pub timeout: Duration,
    /// Times a request is sent before the run fails.
    pub attempts: u32,
    /// The address the SDPs name for the endpoints (no media is sent).
    pub endpoint_ip: IpAddr,
    /// Pin the client's thread to this CPU.
    pub cpu: Option<usize>,
}

impl Default for SetupConfig {
    fn default() -> SetupConfig {
        SetupConfig {
            calls: 2000,
            window: 64,
            timeout: Duration::from_secs(1),
            attempts: 3,
            endpoint_ip: IpAddr::from([127, 0, 0, 1]),
            cpu: None,
        }
    }
}

/// Round-trip times of one kind of request, µs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundTrips {
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Largest.
    pub max_us: f64,
}

/// What one set-up run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetupReport {
    /// The daemon.
    pub relay: String,
    /// Calls set up and deleted.
    pub calls: usize,
    /// Calls in flight at once.
    pub window: usize,
    /// From the first request to the last reply, s.
    pub seconds: f64,
    /// Calls set up and deleted per second.
    pub setups_per_s: f64,
    /// `offer` round trips (from the first send, retransmissions included).
    pub offer: RoundTrips,
    /// `answer` round trips.
    pub answer: RoundTrips,
    /// `delete` round trips.
    pub delete: RoundTrips,
    /// Requests sent again after a timeout.
    pub retransmits: u64,
    /// The daemon's CPU time (all threads) over the run, s (0 when not measured).
    pub relay_cpu_s: f64,
    /// `relay_cpu_s` per call, µs.
    pub cpu_us_per_setup: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Offer,
    Answer,
    Delete,
}

struct InFlight {
    call: usize,
    stage: Stage,
    cookie: String,
    msg: Vec<u8>,
    first_sent: Instant,
    deadline: Instant,
    attempts: u32,
}

/// The request body for `stage` of call `call`.
fn request(stage: Stage, call_id: &str, ip: IpAddr, call: usize) -> Value {
    let (from_tag, to_tag) = (format!("{call_id}-a"), format!("{call_id}-b"));
    // Endpoint ports in the SDP: distinct per call, never used (no media is sent).
    let port = |side: u16| SocketAddr::new(ip, 2 * (1000 + (call % 30_000) as u16) + side);
    let body = Value::dict().with("call-id", Value::str(call_id));
    match stage {
        Stage::Offer => body
            .with("command", Value::str("offer"))
            .with("from-tag", Value::str(&from_tag))
            .with("sdp", Value::str(&pcmu_sdp(port(0)))),
        Stage::Answer => body
            .with("command", Value::str("answer"))
            .with("from-tag", Value::str(&from_tag))
            .with("to-tag", Value::str(&to_tag))
            .with("sdp", Value::str(&pcmu_sdp(port(1)))),
        Stage::Delete => body
            .with("command", Value::str("delete"))
            .with("delete-delay", Value::Int(0)),
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("valid histogram bounds")
}

fn round_trips(h: &Histogram<u64>) -> RoundTrips {
    let us = |ns: u64| ns as f64 / 1000.0;
    RoundTrips {
        p50_us: us(h.value_at_quantile(0.5)),
        p99_us: us(h.value_at_quantile(0.99)),
        p999_us: us(h.value_at_quantile(0.999)),
        max_us: us(h.max()),
    }
}

/// Sets up and deletes `config.calls` calls at the ng address `addr`, call-ids starting
/// with `prefix`, and reports the rate and round trips (the relay's CPU is left at 0).
pub fn run_setups(addr: SocketAddr, prefix: &str, config: &SetupConfig) -> io::Result<SetupReport> {
    if config.calls == 0 || config.window == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a set-up run needs at least one call and a window of at least one",
        ));
    }
    if let Some(cpu) = config.cpu {
        tandem_udp::thread::pin_current_thread(cpu)?;
    }
    let local: SocketAddr = match addr {
        SocketAddr::V4(_) => "0.0.0.0:0".parse().expect("valid"),
        SocketAddr::V6(_) => "[::]:0".parse().expect("valid"),
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(addr)?;
    let mut slots: Vec<Option<InFlight>> =
        (0..config.window.min(config.calls)).map(|_| None).collect();
    let mut hist = [histogram(), histogram(), histogram()];
    let (mut next_call, mut done, mut serial, mut retransmits) = (0usize, 0usize, 0u64, 0u64);
    let mut buf = vec![0u8; 65_536];
    let start = Instant::now();
    let send = |sock: &UdpSocket, msg: &[u8]| match sock.send(msg) {
        // Nobody listening (yet): the retransmission timer covers it.
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
        r => r.map(drop),
    };
    let issue =
        |slot: usize, call: usize, stage: Stage, first: Option<Instant>, serial: &mut u64| {
            *serial += 1;
            let call_id = format!("{prefix}-{call}");
            // Unique across runs too: a relay answers a cookie it has seen from its cache.
            let cookie = format!("{slot}.{serial}.{prefix}");
            let msg = ng::reply(
                cookie.as_bytes(),
                &request(stage, &call_id, config.endpoint_ip, call),
            );
            let now = Instant::now();
            InFlight {
                call,
                stage,
                cookie,
                msg,
                first_sent: first.unwrap_or(now),
                deadline: now + config.timeout,
                attempts: 1,
            }
        };
    // Fill the window.
    for (i, slot) in slots.iter_mut().enumerate() {
        let f = issue(i, next_call, Stage::Offer, None, &mut serial);
        next_call += 1;
        send(&sock, &f.msg)?;
        *slot = Some(f);
    }
    while done < config.calls {
        let now = Instant::now();
        let earliest = slots
            .iter()
            .flatten()
            .map(|f| f.deadline)
            .min()
            .unwrap_or(now + config.timeout);
        let wait = earliest
            .saturating_duration_since(now)
            .max(Duration::from_micros(100));
        sock.set_read_timeout(Some(wait))?;
        let n = match sock.recv(&mut buf) {
            Ok(n) => Some(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::ConnectionRefused
                ) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(n) = n {
            let got = Instant::now();
            let reply = ng::parse_datagram(&buf[..n]).map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("ng reply: {e}"))
            })?;
            let cookie = String::from_utf8_lossy(&reply.cookie).into_owned();
            let Some(i) = cookie
                .split_once('.')
                .and_then(|(s, _)| s.parse::<usize>().ok())
                .filter(|&i| {
                    slots
                        .get(i)
                        .is_some_and(|f| f.as_ref().is_some_and(|f| f.cookie == cookie))
                })
            else {
                continue; // a late reply to a request answered already
            };
            let f = slots[i].take().expect("checked above");
            check_reply(f.stage, &reply.body)?;
            hist[f.stage as usize]
                .record((got - f.first_sent).as_nanos().max(1) as u64)
                .map_err(io::Error::other)?;
            let next = match f.stage {
                Stage::Offer => Some((f.call, Stage::Answer)),
                Stage::Answer => Some((f.call, Stage::Delete)),
                Stage::Delete => {
                    done += 1;
                    (next_call < config.calls).then(|| {
                        next_call += 1;
                        (next_call - 1, Stage::Offer)
                    })
                }
            };
            if let Some((call, stage)) = next {
                let f = issue(i, call, stage, None, &mut serial);
                send(&sock, &f.msg)?;
                slots[i] = Some(f);
            }
        }
        let now = Instant::now();
        for f in slots.iter_mut().flatten().filter(|f| f.deadline <= now) {
            if f.attempts >= config.attempts.max(1) {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "ng relay {addr} did not answer {:?} of call {} ({} attempts)",
                        f.stage, f.call, f.attempts
                    ),
                ));
            }
            f.attempts += 1;
            f.deadline = now + config.timeout;
            retransmits += 1;
            send(&sock, &f.msg)?;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(SetupReport {
        relay: String::new(),
        calls: config.calls,
        window: slots.len(),
        seconds,
        setups_per_s: config.calls as f64 / seconds,
        offer: round_trips(&hist[0]),
        answer: round_trips(&hist[1]),
        delete: round_trips(&hist[2]),
        retransmits,
        relay_cpu_s: 0.0,
        cpu_us_per_setup: 0.0,
    })
}

/// An error unless `body` is a success reply (with an audio address, for offer and answer).
fn check_reply(stage: Stage, body: &Value) -> io::Result<()> {
    let command = match stage {
        Stage::Offer => "offer",
        Stage::Answer => "answer",
        Stage::Delete => "delete",
    };
    match body.get("result").and_then(Value::as_str) {
        Some("error") => {
            let why = body
                .get("error-reason")
                .and_then(Value::as_str)
                .unwrap_or("(no error-reason)");
            return Err(io::Error::other(format!(
                "ng relay refused {command}: {why}"
            )));
        }
        Some(_) => {}
        None => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("ng reply to {command} has no result"),
            ));
        }
    }
    if stage != Stage::Delete {
        media_address(command, body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    }
    Ok(())
}

/// Set-up runs of several daemons, alternated.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SetupComparison {
    /// The daemons, in the order given.
    pub relays: Vec<String>,
    /// `(round, report)` in the order run.
    pub runs: Vec<(usize, SetupReport)>,
}

impl SetupComparison {
    /// Median over the rounds of `relay`'s `figure`.
    pub fn median_of(&self, relay: &str, figure: fn(&SetupReport) -> f64) -> Option<f64> {
        let v: Vec<f64> = self
            .runs
            .iter()
            .filter(|(_, r)| r.relay == relay)
            .map(|(_, r)| figure(r))
            .collect();
        (!v.is_empty()).then(|| median(v))
    }

    /// Median over the rounds in which both ran of `relay`'s set-up rate over
    /// `reference`'s.
    pub fn paired_rate_ratio(&self, relay: &str, reference: &str) -> Option<f64> {
        let of = |name: &str, round: usize| {
            self.runs
                .iter()
                .find(|(k, r)| *k == round && r.relay == name)
                .map(|(_, r)| r.setups_per_s)
        };
        let v: Vec<f64> = self
            .runs
            .iter()
            .filter(|(_, r)| r.relay == relay)
            .filter_map(|(k, r)| Some(r.setups_per_s / of(reference, *k).filter(|b| *b > 0.0)?))
            .collect();
        (!v.is_empty()).then(|| median(v))
    }
}

/// Starts each daemon of `specs` once, warms each up with a tenth of the calls, then runs
/// `rounds` set-up runs on each, alternated (the order rotated each round); `observer` hears
/// of each run before it starts (`relay`, round) and after (`report`).
pub fn compare_setups(
    specs: &[DaemonSpec],
    config: &SetupConfig,
    rounds: usize,
    observer: &mut dyn FnMut(&str, usize, Option<&SetupReport>),
) -> io::Result<SetupComparison> {
    // Room for every call of a round at once: a daemon may free a deleted call's ports
    // after it has replied (tandem serve's shards do), so a range sized for the window alone
    // could run dry on a busy machine.
    let daemons = specs
        .iter()
        .map(|s| RelayDaemon::start(s, config.calls.max(config.window)))
        .collect::<io::Result<Vec<_>>>()?;
    let pid = std::process::id();
    let measure = |d: &RelayDaemon, tag: &str, config: &SetupConfig| -> io::Result<SetupReport> {
        let cpu_before = d.cpu_time()?;
        let prefix = format!("setup-{pid}-{tag}");
        let mut r = std::thread::scope(|s| {
            s.spawn(|| run_setups(d.ng_addr(), &prefix, config))
                .join()
                .map_err(|_| io::Error::other("set-up client thread panicked"))?
        })
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", d.name())))?;
        r.relay_cpu_s = d.cpu_time()?.saturating_sub(cpu_before).as_secs_f64();
        r.cpu_us_per_setup = r.relay_cpu_s * 1e6 / r.calls as f64;
        r.relay = d.name().to_string();
        Ok(r)
    };
    let warm = SetupConfig {
        calls: (config.calls / 10).max(config.window.min(config.calls)),
        ..config.clone()
    };
    for d in &daemons {
        measure(d, "warm", &warm)?;
    }
    let mut out = SetupComparison {
        relays: daemons.iter().map(|d| d.name().to_string()).collect(),
        runs: Vec::new(),
    };
    for round in 0..rounds.max(1) {
        for k in 0..daemons.len() {
            let d = &daemons[(k + round) % daemons.len()];
            observer(d.name(), round, None);
            let r = measure(d, &format!("r{round}"), config)?;
            observer(d.name(), round, Some(&r));
            out.runs.push((round, r));
        }
    }
    for d in daemons {
        d.stop();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_serve::ng::Request;

    /// A fake relay: answers every request with `ok` and an SDP, except that it ignores the
    /// first copy of every 5th request (so the client must retransmit) and, with `refuse`,
    /// refuses every answer.
    fn fake_relay(refuse: bool) -> (SocketAddr, std::thread::JoinHandle<(u32, u32)>) {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let addr = s.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let mut buf = [0u8; 65_536];
            let (mut n, mut ignored) = (0u32, 0u32);
            let mut seen = std::collections::HashSet::new();
            while let Ok((len, from)) = s.recv_from(&mut buf) {
                n += 1;
                let Request { cookie, body } = ng::parse_datagram(&buf[..len]).unwrap();
                if n % 5 == 0 && seen.insert(cookie.clone()) {
                    ignored += 1;
                    continue;
                }
                let cmd = body
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_string();
                let reply = if refuse && cmd == "answer" {
                    ng::error_reply("no answer today")
                } else {
                    let sdp = pcmu_sdp(SocketAddr::from(([127, 0, 0, 1], 40_000)));
                    Value::dict()
                        .with("result", Value::str("ok"))
                        .with("sdp", Value::str(&sdp))
                };
                s.send_to(&ng::reply(&cookie, &reply), from).unwrap();
            }
            (n, ignored)
        });
        (addr, h)
    }

    #[test]
    fn every_call_is_set_up_and_deleted_through_lost_replies() {
        let (addr, h) = fake_relay(false);
        let config = SetupConfig {
            calls: 50,
            window: 8,
            timeout: Duration::from_millis(200),
            ..SetupConfig::default()
        };
        let r = run_setups(addr, "t", &config).unwrap();
        let (requests, ignored) = h.join().unwrap();
        assert_eq!((r.calls, r.window), (50, 8));
        // Three requests per call, plus one retransmission per ignored request.
        assert_eq!(u64::from(requests), 150 + r.retransmits, "{r:?}");
        // (More only if a reply took longer than the timeout on a busy machine.)
        assert!(
            r.retransmits >= u64::from(ignored) && ignored >= 20,
            "{r:?}"
        );
        // A retransmitted request waited at least one timeout.
        let max = [r.offer.max_us, r.answer.max_us, r.delete.max_us];
        assert!(max.iter().any(|&m| m >= 200_000.0), "{r:?}");
        assert!(r.setups_per_s > 0.0 && r.offer.p50_us > 0.0);
    }

    #[test]
    fn a_refusal_or_silence_fails_the_run() {
        let (addr, h) = fake_relay(true);
        let config = SetupConfig {
            calls: 5,
            window: 2,
            timeout: Duration::from_millis(50),
            ..SetupConfig::default()
        };
        let e = run_setups(addr, "t", &config).unwrap_err();
        assert!(e.to_string().contains("no answer today"), "{e}");
        h.join().unwrap();
        let nobody = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let e = run_setups(
            nobody,
            "t",
            &SetupConfig {
                attempts: 2,
                ..config
            },
        )
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        let zero = SetupConfig {
            calls: 0,
            ..SetupConfig::default()
        };
        assert!(run_setups(nobody, "t", &zero).is_err());
    }

    #[test]
    fn paired_rate_ratios_take_the_median() {
        let report = |relay: &str, rate: f64| SetupReport {
            relay: relay.into(),
            calls: 1,
            window: 1,
            seconds: 1.0,
            setups_per_s: rate,
            offer: RoundTrips::default(),
            answer: RoundTrips::default(),
            delete: RoundTrips::default(),
            retransmits: 0,
            relay_cpu_s: 0.0,
            cpu_us_per_setup: 0.0,
        };
        let c = SetupComparison {
            relays: vec!["serve".into(), "rtpengine".into()],
            runs: vec![
                (0, report("serve", 200.0)),
                (0, report("rtpengine", 100.0)),
                (1, report("rtpengine", 50.0)),
                (1, report("serve", 150.0)),
                (2, report("serve", 90.0)),
                (2, report("rtpengine", 100.0)),
            ],
        };
        // Ratios 2.0, 3.0, 0.9.
        assert_eq!(c.paired_rate_ratio("serve", "rtpengine"), Some(2.0));
        assert_eq!(c.median_of("serve", |r| r.setups_per_s), Some(150.0));
        assert_eq!(c.paired_rate_ratio("serve", "nobody"), None);
    }
}
