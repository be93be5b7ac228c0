//! Drive mode: the simulator's calls as real media in the engine.
//!
//! Built with the `drive` feature. The model runs exactly as in a pure run, reporting each
//! call's transitions ([`crate::lifecycle`]) to the conductor, which turns them into engine
//! channels, prompts, music on hold, ringback, bridges, recordings and supervisors; a
//! simulated phone on the far side of every channel talks and listens ([`signal`],
//! [`quality`]). Media never feeds back into the model, so the loss counts and every ACD
//! decision equal those of the pure run with the same seed.
//!
//! Two transports ([`transport`]):
//! - **memory**: the engine's in-memory driver on a virtual clock, with a simulated
//!   network ([`NetworkConditions`]): deterministic, and as fast as the machine allows;
//! - **udp**: the threaded engine on real sockets on 127.0.0.1 in real time ([`udp`]),
//!   with the same simulated links added over loopback when asked ([`impaired`]),
//!   optionally time-compressed: with `time_scale` = k, k simulated seconds pass per
//!   second of media, so a 10-minute burst replays in 10/k minutes (calls, prompts and
//!   conversations k times shorter), and the report says so.
//!
//! [`drive`] runs a scenario's one replication and returns the loss report with a
//! [`report::DriveReport`]: per-call loss, jitter and latency, E-model R and
//! MOS ([`crate::emodel`]), engine figures and recordings.

pub mod call_progress;
mod conductor;
mod events;
pub mod flow;
pub mod flow_report;
pub mod flow_rig;
pub mod impaired;
mod phones;
pub mod prompts;
pub mod quality;
pub mod report;
pub mod signal;
pub mod transport;
pub mod udp;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tandem_codecs::wav::Encoding;
use tandem_engine::{EngineError, NetworkConditions};

use crate::metrics::RunMetrics;
use crate::model;
use crate::scenario::Scenario;
use crate::{Report, SimError};
use conductor::{Conductor, Recording};
use quality::MouthToEar;
use report::{DriveReport, MediaSummary, NetworkSetting};
use transport::{MemoryNet, Net};

/// Errors of drive mode.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// The engine refused to start or to carry out a command.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// A socket or file operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The scenario could not be run.
    #[error("{0}")]
    Sim(#[from] SimError),
    /// An invalid setting.
    #[error("{0}")]
    Invalid(String),
}

/// Which transport carries the media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// The in-memory driver on a virtual clock.
    Memory,
    /// Real UDP sockets on 127.0.0.1, in real time.
    Udp,
}

impl std::str::FromStr for TransportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "memory" => Ok(TransportKind::Memory),
            "udp" => Ok(TransportKind::Udp),
            _ => Err(format!("unknown transport {s:?} (memory or udp)")),
        }
    }
}

/// How a drive run is set up.
#[derive(Clone, Debug)]
pub struct DriveConfig {
    /// The transport.
    pub transport: TransportKind,
    /// Engine shards.
    pub shards: usize,
    /// The simulated links between the phones and the engine on the memory transport.
    pub network: NetworkConditions,
    /// Links added over loopback on the UDP transport ([`impaired::Impaired`]); `None`:
    /// loopback as it is.
    pub udp_impairment: Option<NetworkConditions>,
    /// Simulated seconds per media second (1 = the scenario's own times).
    pub time_scale: f64,
    /// Directory for recordings when the scenario records (`None`: a new directory under
    /// the system's temporary directory).
    pub record_dir: Option<PathBuf>,
    /// Sample encoding of recordings.
    pub record_encoding: Encoding,
    /// How E-model inputs are derived.
    pub mouth_to_ear: MouthToEar,
    /// Local port range of the UDP engine.
    pub udp_ports: (u16, u16),
    /// Media time allowed after the last call for the last packets and files, ms.
    pub settle_ms: u64,
    /// How the phones key an IVR flow's choices.
    pub dtmf: flow_report::DtmfMode,
}

impl Default for DriveConfig {
    fn default() -> Self {
        DriveConfig {
            transport: TransportKind::Memory,
            shards: 1,
            network: NetworkConditions::default(),
            udp_impairment: None,
            time_scale: 1.0,
            record_dir: None,
            record_encoding: Encoding::Pcm16,
            mouth_to_ear: MouthToEar::default(),
            udp_ports: (20_000, 29_999),
            settle_ms: 500,
            dtmf: flow_report::DtmfMode::default(),
        }
    }
}

/// The result of a drive run.
#[derive(Debug)]
pub struct Drive {
    /// The loss report (one replication), as a pure run gives it.
    pub report: Report,
    /// What the media did.
    pub drive: DriveReport,
    /// The model's raw measurements (equal to a pure run's).
    pub metrics: RunMetrics,
}

/// Runs replication 0 of `sc` with its calls as media on the configured transport.
pub fn drive(sc: &Scenario, cfg: &DriveConfig) -> Result<Drive, DriveError> {
    if sc.replications != 1 {
        return Err(DriveError::Invalid(format!(
            "drive mode runs one replication; the scenario asks for {} (use --replications 1)",
            sc.replications
        )));
    }
    if !(cfg.time_scale.is_finite() && cfg.time_scale > 0.0) {
        return Err(DriveError::Invalid(format!(
            "time scale must be > 0, got {}",
            cfg.time_scale
        )));
    }
    let flow = sc.ivr.as_ref().and_then(|i| i.flow());
    if flow.is_some() && cfg.time_scale != 1.0 {
        return Err(DriveError::Invalid(format!(
            "scenario `{}` runs an IVR flow, whose prompts, timeouts and keys take their own \
             time on the engine: drive it with time scale 1 (got {})",
            sc.name, cfg.time_scale
        )));
    }
    if flow.is_none() && cfg.dtmf != flow_report::DtmfMode::default() {
        return Err(DriveError::Invalid(format!(
            "scenario `{}` runs no IVR flow: its phones key nothing, in band or otherwise",
            sc.name
        )));
    }
    let record = if sc.record || flow.is_some() {
        let dir = cfg.record_dir.clone().unwrap_or_else(|| {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            std::env::temp_dir().join(format!(
                "tandem-recordings-{}-{stamp:x}",
                std::process::id()
            ))
        });
        std::fs::create_dir_all(&dir)?;
        Some(Recording {
            dir,
            encoding: cfg.record_encoding,
        })
    } else {
        None
    };
    match cfg.transport {
        TransportKind::Memory => {
            let net = MemoryNet::new(cfg.shards, cfg.network, sc.seed);
            let setting = NetworkSetting::of(cfg.network);
            run_with(sc, cfg, net, record, Some(setting))
        }
        TransportKind::Udp => {
            let net = udp::UdpNet::new(cfg.shards, cfg.udp_ports, sc.seed)?;
            match cfg.udp_impairment {
                Some(n) => {
                    let net = impaired::Impaired::new(net, n, sc.seed);
                    run_with(sc, cfg, net, record, Some(NetworkSetting::of(n)))
                }
                None => run_with(sc, cfg, net, record, None),
            }
        }
    }
}

fn run_with<N: Net + 'static>(
    sc: &Scenario,
    cfg: &DriveConfig,
    net: N,
    record: Option<Recording>,
    network: Option<NetworkSetting>,
) -> Result<Drive, DriveError> {
    crate::budget::check(sc, 1)?;
    let started = Instant::now();
    let record_dir = record.as_ref().map(|r| r.dir.clone());
    let flow = match (sc.ivr.as_ref(), &record_dir) {
        (Some(ivr), Some(dir)) => match ivr.flow() {
            Some(f) => {
                let length = |name: &str| flow::scenario_prompt_length(sc, name);
                let prompts = flow::synthetic_prompts(f, &length, &dir.join("prompts"))?;
                Some(conductor::FlowSetup {
                    flow: Arc::clone(f),
                    prompts: Arc::new(prompts),
                    voicemail_dir: dir.join("voicemail"),
                    dnis: ivr.dnis.iter().map(|d| d.number.clone()).collect(),
                    start_unix: ivr.start_unix(),
                    dtmf: cfg.dtmf,
                })
            }
            None => None,
        },
        _ => None,
    };
    // Calls are recorded only when the scenario asks; the directory may be the flow's.
    let record = record.filter(|_| sc.record);
    let mut conductor = Conductor::new(
        net,
        sc.seed,
        cfg.time_scale,
        record,
        sc.supervisor_fraction,
        cfg.mouth_to_ear,
    );
    if let Some(f) = flow {
        conductor.set_flow(f);
    }
    let metrics = model::Run::with_observer(sc, 0, &mut conductor)?.run()?;
    conductor.finish(metrics.end_time, cfg.settle_ms * 1000);
    let wall_s = started.elapsed().as_secs_f64();
    let report = Report::from_runs(sc, std::slice::from_ref(&metrics));
    let media = MediaSummary::of(
        &conductor.calls_media,
        conductor.latencies(),
        cfg.mouth_to_ear,
    );
    let net = conductor.net();
    let mut engine = net.figures();
    engine.engine_busy_s += conductor.engine_busy().as_secs_f64();
    let max_lag_ms = net.max_lag_us() as f64 / 1000.0;
    let transport = net.name().to_string();
    let media_s = metrics.end_time / cfg.time_scale;
    let drive = DriveReport {
        transport,
        shards: cfg.shards.max(1),
        time_scale: cfg.time_scale,
        time_compressed: cfg.time_scale != 1.0,
        network,
        wall_s,
        simulated_s: metrics.end_time,
        media_s,
        real_time_factor: if wall_s > 0.0 { media_s / wall_s } else { 0.0 },
        max_lag_ms,
        record_dir,
        counters: conductor.counters.clone(),
        media,
        engine,
        calls: std::mem::take(&mut conductor.calls_media),
        flow: conductor.take_flow_report(),
        call_progress: std::mem::take(&mut conductor.call_progress),
    };
    Ok(Drive {
        report,
        drive,
        metrics,
    })
}
