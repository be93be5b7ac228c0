//! Conference load: rooms of K participants, every participant talking, every listener
//! checking what the mix brings it.
//!
//! Each participant owns one non-blocking UDP socket connected to its channel's port in the
//! room, and sends one PCMU packet per period (50 packets/s), phases spread over the period
//! as in the two-party generator. The payload is a [`probe`](crate::probe) frame: the
//! participant's mark in its own slot, silence elsewhere. So the mix a listener receives
//! carries, in one frame, the marks of all the other participants of its room, and for each
//! (listener, talker) pair the generator counts marks heard against marks sent, reordering,
//! duplicates, and one-way latency from the talker's send to the listener's receive (the
//! room's jitter-buffer delay and tick wait included: that is what a conference adds).
//! Marks from another room's participants are cross-talk; a participant's own mark coming
//! back is an echo (the room must subtract the listener's own voice); a slot that is neither
//! silence nor an intact mark is damaged (concealment, or a mix that altered samples).
//! The mix stream's own RTP sequence numbers give its loss and reordering.
//!
//! The two losses are counted differently, as [`track`](crate::track) explains: marks
//! against what each talker sent (the generator counts every mark), the mix against the
//! range of RTP sequence numbers each listener saw (the room numbers it).
//!
//! A run: a warm-up of `warmup` (silent frames on the same schedule, so the relay latches
//! every participant and the jitter buffers settle on a steady stream with no gap before
//! the marks start), `duration` of marks, then `drain` to receive what is in flight.

mod level;
mod listeners;
#[cfg(test)]
mod tests;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::UdpSocket;
use serde::{Deserialize, Serialize};
use tandem_udp::clock::monotonic_ns;
use tandem_udp::raise_open_files_limit;

use crate::endpoint;
use crate::paced::PacedThread;
use crate::pacer::Pacer;
use crate::probe::{MAX_STREAM, SLOT_LEN, SLOTS};
use listeners::Listeners;

pub use level::{ConferenceResult, conference_text, run_conference_level, run_conference_loadgen};

/// Most participants per room: one probe slot each in a frame.
pub const MAX_PARTICIPANTS: usize = SLOTS;

/// Smallest room the conference mode accepts (two parties is the bridged mode).
pub const MIN_PARTICIPANTS: usize = 3;

/// How a conference run is shaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConferenceConfig {
    /// Participants per room, [`MIN_PARTICIPANTS`]..=[`MAX_PARTICIPANTS`].
    pub participants: usize,
    /// How long every participant sends marks.
    pub duration: Duration,
    /// Silent frames before the marks (latching, jitter buffers settling).
    pub warmup: Duration,
    /// Time after the last send for frames in flight (the jitter buffer holds some).
    pub drain: Duration,
    /// Packet interval (20 ms).
    pub period: Duration,
    /// Shortest sleep between loop turns (see [`LoadGenConfig::tick`](super::LoadGenConfig)).
    pub tick: Duration,
    /// Pin the generator's thread to this CPU.
    pub cpu: Option<usize>,
}

impl Default for ConferenceConfig {
    fn default() -> ConferenceConfig {
        ConferenceConfig {
            participants: 3,
            duration: Duration::from_secs(10),
            warmup: Duration::from_millis(500),
            drain: Duration::from_millis(400),
            period: Duration::from_millis(20),
            tick: Duration::from_micros(50),
            cpu: None,
        }
    }
}

/// Why a conference run cannot start.
fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// What a conference run measured. "Marks" are talker→listener deliveries: each packet a
/// participant sends should reach the K−1 others of its room. Latencies in µs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConferenceReport {
    /// Rooms.
    pub rooms: usize,
    /// Participants per room.
    pub participants_per_room: usize,
    /// Participants in all.
    pub participants: usize,
    /// Length of the mark phase, s.
    pub duration_s: f64,
    /// Marked packets the participants sent.
    pub sent: u64,
    /// Mix packets received (unique, warm-up included).
    pub mix_received: u64,
    /// Mix packets missing from the listeners' streams: gaps in the range of RTP sequence
    /// numbers each received (what a listener never saw the edges of is not counted).
    pub mix_lost: u64,
    /// Mix packets that arrived after a later one.
    pub mix_reordered: u64,
    /// Extra copies of mix packets.
    pub mix_duplicates: u64,
    /// Marks that should have been heard: `sent × (K − 1)`.
    pub marks_expected: u64,
    /// Marks heard (unique).
    pub marks_heard: u64,
    /// `marks_expected − marks_heard`: against what every talker sent.
    pub marks_lost: u64,
    /// `marks_lost / marks_expected`.
    pub loss_ratio: f64,
    /// Marks heard after a later mark of the same talker.
    pub marks_reordered: u64,
    /// Marks heard twice.
    pub marks_duplicates: u64,
    /// Marks of another room's participants (cross-talk).
    pub cross_talk: u64,
    /// A listener's own mark in its mix (its voice not subtracted).
    pub echo: u64,
    /// Slots neither silent nor an intact mark of the slot's participant (concealed or
    /// altered audio) while that participant was sending marks.
    pub damaged_slots: u64,
    /// Such slots after the participant's last frame: the jitter buffer concealing the end
    /// of its stream (expected; not counted as damage).
    pub tail_concealed: u64,
    /// Datagrams that were not 160-byte RTP frames.
    pub malformed: u64,
    /// (listener, talker) pairs of a room with no mark heard at all.
    pub pairs_unheard: u64,
    /// Participants that had received nothing when the marks started.
    pub unprimed: usize,
    /// Median talker→listener latency, µs.
    pub latency_p50_us: f64,
    /// 99th percentile, µs.
    pub latency_p99_us: f64,
    /// 99.9th percentile, µs.
    pub latency_p999_us: f64,
    /// Largest, µs.
    pub latency_max_us: f64,
    /// Marks heard too late for their send time to be kept (over 5 s).
    pub latency_unknown: u64,
    /// Sends the kernel refused.
    pub send_errors: u64,
    /// 99th percentile of send lateness, µs.
    pub send_lag_p99_us: f64,
    /// Largest send lateness, µs.
    pub send_lag_max_us: f64,
    /// CPU time of the generator's thread, s.
    pub loadgen_cpu_s: f64,
}

/// Runs conference load on the calling thread: `ports` are the rooms' channel ports, room by
/// room, `config.participants` per room.
pub fn run_conference(
    ports: &[SocketAddr],
    config: &ConferenceConfig,
) -> io::Result<ConferenceReport> {
    let k = config.participants;
    if !(MIN_PARTICIPANTS..=MAX_PARTICIPANTS).contains(&k) {
        return Err(invalid(format!(
            "rooms need {MIN_PARTICIPANTS} to {MAX_PARTICIPANTS} participants (each talker's \
             mark has its own {SLOT_LEN}-byte slot of the 160-byte frame), not {k}"
        )));
    }
    if ports.is_empty() || ports.len() % k != 0 {
        return Err(invalid(format!(
            "{} ports are not whole rooms of {k}",
            ports.len()
        )));
    }
    if ports.len() > MAX_STREAM as usize + 1 {
        return Err(invalid(format!(
            "at most {} participants per run",
            MAX_STREAM + 1
        )));
    }
    if config.period.is_zero() {
        return Err(invalid("the send period must be positive".into()));
    }
    raise_open_files_limit(ports.len() as u64 + 256)?;
    let mut sockets = ports
        .iter()
        .map(|&remote| endpoint::connect(endpoint::bind_for(remote, None)?, remote))
        .collect::<io::Result<Vec<_>>>()?;
    run_sockets(&mut sockets, config)
}

fn run_sockets(
    sockets: &mut [UdpSocket],
    config: &ConferenceConfig,
) -> io::Result<ConferenceReport> {
    let mut thread = PacedThread::start(sockets, config.cpu)?;
    let sockets = thread.sockets();
    let period_ns = config.period.as_nanos() as u64;
    let warm = config.warmup.as_nanos().div_ceil(u128::from(period_ns)) as u64;
    let rounds = config.duration.as_nanos().div_ceil(u128::from(period_ns)) as u64;
    let mut st = Listeners::new(sockets, config.participants, warm, rounds);
    let pacer = Pacer::new(sockets.len(), period_ns, monotonic_ns(), warm + rounds);
    thread.run(pacer, config.drain, config.tick, &mut st)?;
    let cpu_s = thread.cpu_used()?.as_secs_f64();
    Ok(st.report(config.duration.as_secs_f64(), cpu_s))
}
