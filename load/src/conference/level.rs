//! One conference load level against a relay of rooms: the generator in its own process (or
//! a thread, for tests), the relay's CPU time around it.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{ConferenceConfig, ConferenceReport, run_conference};
use crate::rates::PACKETS_PER_SECOND_PER_STREAM;
use crate::relay::{ConferenceRelay, RelayJitter};
use crate::runner::{LoadGenMode, on_loadgen_thread, run_child};
use crate::target::format_ports;

/// A conference run's figures with the relay's cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConferenceResult {
    /// The relay's name.
    pub relay: String,
    /// Rooms.
    pub rooms: usize,
    /// Participants per room.
    pub participants_per_room: usize,
    /// The generator's figures.
    pub report: ConferenceReport,
    /// CPU time of the relay's threads over the whole run (warm-up, marks, drain), s.
    pub relay_cpu_s: f64,
    /// Wall time of the same window, s.
    pub wall_s: f64,
    /// Datagrams the relay sent in the window.
    pub packets_relayed: u64,
    /// Relay CPU per participant per 20 ms frame, µs: receiving, jitter buffer, mixing,
    /// encoding and sending, over every tick of the window.
    pub cpu_us_per_participant_frame: f64,
    /// The relay's jitter-buffer counters after the run, if it reports them.
    pub relay_jitter: Option<RelayJitter>,
}

/// Runs conference load against `relay` for `duration`, then stops it.
pub fn run_conference_level(
    relay: Box<dyn ConferenceRelay>,
    duration: Duration,
    mode: &LoadGenMode,
) -> io::Result<ConferenceResult> {
    let ports = relay.ports();
    let k = relay.participants_per_room();
    let wall = Instant::now();
    let cpu_before = relay.cpu_time()?;
    let relayed_before = relay.packets_relayed();
    let report = run_conference_loadgen(&ports, k, duration, mode);
    let cpu_after = relay.cpu_time();
    let relayed = relay.packets_relayed() - relayed_before;
    let wall_s = wall.elapsed().as_secs_f64();
    let name = relay.name().to_string();
    let relay_jitter = relay.jitter();
    relay.stop();
    let report = report?;
    let cpu = cpu_after?.saturating_sub(cpu_before).as_secs_f64();
    let frames = ports.len() as f64 * wall_s * PACKETS_PER_SECOND_PER_STREAM;
    Ok(ConferenceResult {
        relay: name,
        rooms: ports.len() / k.max(1),
        participants_per_room: k,
        report,
        relay_cpu_s: cpu,
        wall_s,
        packets_relayed: relayed,
        cpu_us_per_participant_frame: if frames > 0.0 {
            cpu * 1e6 / frames
        } else {
            0.0
        },
        relay_jitter,
    })
}

/// Runs the conference generator against `ports` (rooms of `k`) for `duration`.
pub fn run_conference_loadgen(
    ports: &[SocketAddr],
    k: usize,
    duration: Duration,
    mode: &LoadGenMode,
) -> io::Result<ConferenceReport> {
    match mode {
        LoadGenMode::InProcessThread => {
            let ports = ports.to_vec();
            let config = ConferenceConfig {
                participants: k,
                duration,
                ..ConferenceConfig::default()
            };
            on_loadgen_thread(move || run_conference(&ports, &config))
        }
        LoadGenMode::Subprocess { exe, args_prefix } => {
            let (host, list) = format_ports(ports);
            let extra = ["--conference".to_string(), k.to_string()];
            run_child(exe, args_prefix, host, duration, &extra, &list)
        }
    }
}

/// The result as aligned text.
pub fn conference_text(r: &ConferenceResult) -> String {
    let c = &r.report;
    let rows = [
        ("relay", r.relay.clone()),
        (
            "rooms × participants",
            format!(
                "{} × {} = {}",
                r.rooms, r.participants_per_room, c.participants
            ),
        ),
        ("mark phase", format!("{:.1} s", c.duration_s)),
        ("packets sent (marked)", c.sent.to_string()),
        (
            "mix packets received / lost",
            format!("{} / {}", c.mix_received, c.mix_lost),
        ),
        (
            "mix reordered / duplicates",
            format!("{} / {}", c.mix_reordered, c.mix_duplicates),
        ),
        (
            "marks expected / heard",
            format!("{} / {}", c.marks_expected, c.marks_heard),
        ),
        (
            "marks lost",
            format!("{} ({:.4}%)", c.marks_lost, c.loss_ratio * 100.0),
        ),
        (
            "marks reordered / duplicates",
            format!("{} / {}", c.marks_reordered, c.marks_duplicates),
        ),
        (
            "cross-talk / echo / damaged slots",
            format!("{} / {} / {}", c.cross_talk, c.echo, c.damaged_slots),
        ),
        (
            "concealed stream ends (not damage)",
            c.tail_concealed.to_string(),
        ),
        ("pairs that heard nothing", c.pairs_unheard.to_string()),
        (
            "relay jitter: concealed (grown) / skipped, late",
            r.relay_jitter.map_or("not reported".into(), |j| {
                format!(
                    "{} ({}) / {} frames, {} packets",
                    j.concealed_frames, j.stretched_frames, j.dropped_frames, j.late_packets
                )
            }),
        ),
        (
            "latency p50 / p99 / p99.9 / max",
            format!(
                "{:.0} / {:.0} / {:.0} / {:.0} µs (talker send → listener receive, jitter buffer included)",
                c.latency_p50_us, c.latency_p99_us, c.latency_p999_us, c.latency_max_us
            ),
        ),
        (
            "relay CPU",
            format!(
                "{:.2} s in {:.1} s, {:.2} µs per participant per frame",
                r.relay_cpu_s, r.wall_s, r.cpu_us_per_participant_frame
            ),
        ),
        (
            "generator send lag p99 / max",
            format!("{:.0} / {:.0} µs", c.send_lag_p99_us, c.send_lag_max_us),
        ),
        ("generator CPU", format!("{:.2} s", c.loadgen_cpu_s)),
        (
            "unprimed / malformed / send errors",
            format!("{} / {} / {}", c.unprimed, c.malformed, c.send_errors),
        ),
    ];
    rows.iter()
        .map(|(k, v)| format!("  {k:<48} {v}\n"))
        .collect()
}
