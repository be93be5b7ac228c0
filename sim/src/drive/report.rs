//! Drive mode's report: what the media did, next to the model's loss report.

use std::fmt::Write as _;
use std::path::PathBuf;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::quality::{MouthToEar, StreamSummary};
use super::transport::EngineFigures;
use crate::emodel::{self, Params};

/// How many error messages a report keeps (the count covers all).
const KEPT_ERRORS: usize = 5;

/// Counts of what happened during a drive run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counters {
    /// Calls that seized a trunk and got media.
    pub calls: u64,
    /// Arrivals lost at the trunk (no media).
    pub trunk_blocked: u64,
    /// Inbound calls answered (bridged to an agent).
    pub answered: u64,
    /// Callback attempts dialled.
    pub callbacks_dialled: u64,
    /// Callbacks connected (bridged).
    pub callbacks_connected: u64,
    /// Conversations with a listening supervisor.
    pub supervised: u64,
    /// Channels created.
    pub channels_created: u64,
    /// Most channels alive at once.
    pub peak_channels: u64,
    /// Most phones alive at once.
    pub peak_phones: u64,
    /// RTP packets the phones sent.
    pub packets_sent: u64,
    /// Datagrams the phones received.
    pub packets_received: u64,
    /// Datagrams from an address other than the phone's channel.
    pub wrong_source: u64,
    /// RTCP packets received.
    pub rtcp_received: u64,
    /// Datagrams that were neither RTP nor RTCP.
    pub malformed: u64,
    /// RTP packets of another payload type (telephone-events).
    pub other_payload: u64,
    /// Marked voice from a stream other than the far party's (cross-talk).
    pub misrouted: u64,
    /// Audio without a marker (prompts, music on hold, ringback, mixed audio).
    pub unmarked: u64,
    /// Marked voice a supervisor heard unmixed (one party's frame alone in the mix).
    pub overheard: u64,
    /// Packets of the engine's output streams expected by the phones (by RTP sequence).
    pub downlink_rtp_expected: u64,
    /// Of those, never received.
    pub downlink_rtp_lost: u64,
    /// Play commands (prompts, queue announcements with music on hold, ringback).
    pub plays_started: u64,
    /// Players that finished or were stopped.
    pub plays_finished: u64,
    /// Position announcements played.
    pub announcements: u64,
    /// Stops that found the prompt already finished (a harmless race on UDP).
    pub stops_after_end: u64,
    /// Recordings started.
    pub recordings_started: u64,
    /// Recordings finished (file complete).
    pub recordings_finished: u64,
    /// Recordings that failed.
    pub recordings_failed: u64,
    /// Bytes of the finished recordings.
    pub recording_bytes: u64,
    /// Audio recorded, ms.
    pub recorded_ms: u64,
    /// Frames the recording writer dropped.
    pub recording_dropped_frames: u64,
    /// Commands the engine refused.
    pub commands_failed: u64,
    /// Ticks the engine's shards skipped (overruns).
    pub tick_overruns: u64,
    /// Media timeouts the engine reported.
    pub media_timeouts: u64,
    /// RTP packets the engine's closed channels had received.
    pub engine_packets_received: u64,
    /// RTP packets the engine's closed channels had sent.
    pub engine_packets_sent: u64,
    /// Keys the phones pressed (RFC 4733 telephone-events).
    pub keys_pressed: u64,
    /// Calls still up when the model finished (0 in a finished run).
    pub calls_open_at_end: u64,
    /// Errors (engine refusals, failed recordings, transport errors).
    pub errors: u64,
    /// The first few error messages.
    pub first_errors: Vec<String>,
}

impl Counters {
    /// Counts an error, keeping the first few messages.
    pub fn note_error(&mut self, message: String) {
        self.errors += 1;
        if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.push(message);
        }
    }
}

/// The media of one conversation (an answered call or a connected callback).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallMedia {
    /// Drive mode's call number (also in the recording's file name).
    pub serial: u32,
    /// The agent.
    pub agent: u32,
    /// A callback (outbound) rather than an inbound call.
    pub outbound: bool,
    /// A supervisor listened.
    pub supervised: bool,
    /// Length of the conversation, media seconds.
    pub talk_s: f64,
    /// The caller's voice as the agent's phone received it.
    pub uplink: StreamSummary,
    /// The agent's voice as the caller's phone received it.
    pub downlink: StreamSummary,
    /// E-model R of the worse direction.
    pub r: f64,
    /// Its MOS.
    pub mos: f64,
    /// The stereo recording, if any.
    pub recording: Option<PathBuf>,
}

/// Percentiles of a quantity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// Percentiles of `xs` (nearest rank).
    pub fn of(mut xs: Vec<f64>) -> Spread {
        if xs.is_empty() {
            return Spread::default();
        }
        xs.sort_by(f64::total_cmp);
        let at = |q: f64| xs[((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1];
        Spread {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: xs[xs.len() - 1],
        }
    }
}

/// Packet latency percentiles, ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

/// The E-model over all conversations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Quality {
    /// Mean R of the conversations (each the worse direction).
    pub r_mean: f64,
    /// Lowest R.
    pub r_min: f64,
    /// Mean MOS.
    pub mos_mean: f64,
    /// 5th percentile of MOS (the worst 5% of calls are at or below).
    pub mos_p5: f64,
    /// Lowest MOS.
    pub mos_min: f64,
    /// Share of conversations with R below 70 (many users dissatisfied).
    pub share_r_below_70: f64,
    /// R of the pooled figures: all voice loss, the loss-weighted burst ratio and the mean
    /// mouth-to-ear delay.
    pub aggregate_r: f64,
    /// MOS of `aggregate_r`.
    pub aggregate_mos: f64,
    /// The mean mouth-to-ear delay used, ms.
    pub aggregate_delay_ms: f64,
    /// The loss-weighted burst ratio used.
    pub aggregate_burst_r: f64,
}

/// Media quality over the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MediaSummary {
    /// Conversations measured.
    pub conversations: u64,
    /// Voice packets expected by the phones in conversation (both directions).
    pub voice_expected: u64,
    /// Voice packets received.
    pub voice_received: u64,
    /// Voice packets lost.
    pub voice_lost: u64,
    /// Lost ÷ expected, percent.
    pub voice_loss_pct: f64,
    /// Voice packets that arrived out of order.
    pub reordered: u64,
    /// Duplicate voice packets.
    pub duplicates: u64,
    /// One-way latency of every voice packet (phone to engine to phone), ms.
    pub latency_ms: Latency,
    /// Final interarrival jitter per stream, ms.
    pub jitter_ms: Spread,
    /// Loss per conversation (the worse direction), percent.
    pub call_loss_pct: Spread,
    /// E-model figures.
    pub quality: Quality,
    /// How mouth-to-ear delay and loss robustness were derived.
    pub mouth_to_ear: MouthToEar,
}

impl MediaSummary {
    /// Summarises `calls`, with the packet latencies in `latencies_us`.
    pub fn of(calls: &[CallMedia], latencies_us: &Histogram<u64>, m2e: MouthToEar) -> MediaSummary {
        let streams = || calls.iter().flat_map(|c| [&c.uplink, &c.downlink]);
        let expected: u64 = streams().map(|s| s.expected).sum();
        let received: u64 = streams().map(|s| s.received).sum();
        let lost: u64 = streams().map(|s| s.lost).sum();
        let pct = |v: f64| latencies_us.value_at_quantile(v) as f64 / 1000.0;
        let latency_ms = if latencies_us.is_empty() {
            Latency::default()
        } else {
            Latency {
                p50: pct(0.50),
                p99: pct(0.99),
                p999: pct(0.999),
                max: latencies_us.max() as f64 / 1000.0,
            }
        };
        let loss_pct = if expected > 0 {
            100.0 * lost as f64 / expected as f64
        } else {
            0.0
        };
        let n = calls.len() as f64;
        let quality = if calls.is_empty() {
            Quality::default()
        } else {
            let burst_r = if lost > 0 {
                streams().map(|s| s.burst_r * s.lost as f64).sum::<f64>() / lost as f64
            } else {
                1.0
            };
            let delay = streams().map(|s| m2e.delay_ms(s)).sum::<f64>() / (2.0 * n);
            let agg = emodel::rate(&Params::g711(delay, loss_pct, burst_r, m2e.plc));
            let mos = Spread::of(calls.iter().map(|c| -c.mos).collect());
            Quality {
                r_mean: calls.iter().map(|c| c.r).sum::<f64>() / n,
                r_min: calls.iter().map(|c| c.r).fold(f64::INFINITY, f64::min),
                mos_mean: calls.iter().map(|c| c.mos).sum::<f64>() / n,
                mos_p5: -mos.p95,
                mos_min: -mos.max,
                share_r_below_70: calls.iter().filter(|c| c.r < 70.0).count() as f64 / n,
                aggregate_r: agg.r,
                aggregate_mos: agg.mos,
                aggregate_delay_ms: delay,
                aggregate_burst_r: burst_r,
            }
        };
        MediaSummary {
            conversations: calls.len() as u64,
            voice_expected: expected,
            voice_received: received,
            voice_lost: lost,
            voice_loss_pct: loss_pct,
            reordered: streams().map(|s| s.reordered).sum(),
            duplicates: streams().map(|s| s.duplicates).sum(),
            latency_ms,
            jitter_ms: Spread::of(streams().map(|s| s.jitter_ms).collect()),
            call_loss_pct: Spread::of(
                calls
                    .iter()
                    .map(|c| c.uplink.loss_pct.max(c.downlink.loss_pct))
                    .collect(),
            ),
            quality,
            mouth_to_ear: m2e,
        }
    }
}

/// The simulated network of the memory transport.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NetworkSetting {
    /// One-way delay of every link, ms.
    pub delay_ms: f64,
    /// Extra delay, uniform in `0..=jitter_ms`.
    pub jitter_ms: f64,
    /// Loss probability per datagram.
    pub loss: f64,
}

impl NetworkSetting {
    /// The setting of links with `conditions`.
    pub fn of(conditions: tandem_engine::NetworkConditions) -> NetworkSetting {
        NetworkSetting {
            delay_ms: conditions.delay.as_us() as f64 / 1000.0,
            jitter_ms: conditions.jitter.as_us() as f64 / 1000.0,
            loss: conditions.loss,
        }
    }
}

/// What drive mode adds to the loss report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DriveReport {
    /// `memory` or `udp`.
    pub transport: String,
    /// Engine shards.
    pub shards: usize,
    /// Simulated seconds per media second (1: real time).
    pub time_scale: f64,
    /// Whether the run was time-compressed (`time_scale` ≠ 1): calls, prompts and
    /// conversations were shorter than the scenario's by that factor.
    pub time_compressed: bool,
    /// The simulated network (memory transport).
    pub network: Option<NetworkSetting>,
    /// Wall time of the run, s.
    pub wall_s: f64,
    /// Simulated time of the run (until the last call ended), s.
    pub simulated_s: f64,
    /// Media time carried: simulated time ÷ the time scale, s.
    pub media_s: f64,
    /// Media time ÷ wall time: above 1, media was processed faster than it plays.
    pub real_time_factor: f64,
    /// How far behind the media clock the UDP transport fell at worst, ms.
    pub max_lag_ms: f64,
    /// Where recordings were written.
    pub record_dir: Option<PathBuf>,
    /// What happened.
    pub counters: Counters,
    /// Media quality.
    pub media: MediaSummary,
    /// The engine's counters.
    pub engine: EngineFigures,
    /// Per conversation (not in the JSON; see [`DriveReport::calls_csv`]).
    #[serde(skip)]
    pub calls: Vec<CallMedia>,
    /// The scenario's IVR flow on media, if it runs one.
    pub flow: Option<super::flow_report::FlowDriveReport>,
    /// Call progress on the callback legs.
    pub call_progress: super::call_progress::CallProgressReport,
}

impl DriveReport {
    /// The report as text, for after the loss report.
    pub fn to_text(&self) -> String {
        let c = &self.counters;
        let m = &self.media;
        let q = &m.quality;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\nDrive mode: {} transport, {} shard(s){}",
            self.transport,
            self.shards,
            if self.time_compressed {
                format!(
                    ", TIME-COMPRESSED ×{} (media lasts 1/{} of the scenario's times)",
                    self.time_scale, self.time_scale
                )
            } else {
                String::new()
            }
        );
        if let Some(n) = &self.network {
            let _ = writeln!(
                s,
                "  network: {} ms delay + up to {} ms jitter, {:.2}% loss per datagram",
                n.delay_ms,
                n.jitter_ms,
                n.loss * 100.0
            );
        }
        let _ = writeln!(
            s,
            "  run: {:.1} s media in {:.1} s wall: real-time factor {:.2}{}",
            self.media_s,
            self.wall_s,
            self.real_time_factor,
            if self.transport == "udp" {
                format!(" (worst lag behind the clock {:.1} ms)", self.max_lag_ms)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            s,
            "  calls with media {}, conversations {} ({} callbacks), supervised {}; peak \
             {} channels, {} phones",
            c.calls,
            m.conversations,
            c.callbacks_connected,
            c.supervised,
            c.peak_channels,
            c.peak_phones
        );
        let _ = writeln!(
            s,
            "  phones: sent {} packets, received {} ({} prompt/music/ringback audio, {} RTCP)",
            c.packets_sent, c.packets_received, c.unmarked, c.rtcp_received
        );
        let _ = writeln!(
            s,
            "  checks: wrong source {}, cross-talk {}, malformed {}, engine stream gaps {} of \
             {}",
            c.wrong_source, c.misrouted, c.malformed, c.downlink_rtp_lost, c.downlink_rtp_expected
        );
        let _ = writeln!(
            s,
            "  voice in conversation: {} expected, {} lost ({:.3}%), {} reordered, {} \
             duplicated",
            m.voice_expected, m.voice_lost, m.voice_loss_pct, m.reordered, m.duplicates
        );
        let _ = writeln!(
            s,
            "  one-way latency p50/p99/p99.9/max: {:.2}/{:.2}/{:.2}/{:.2} ms; jitter per \
             stream p50/p95/max {:.2}/{:.2}/{:.2} ms",
            m.latency_ms.p50,
            m.latency_ms.p99,
            m.latency_ms.p999,
            m.latency_ms.max,
            m.jitter_ms.p50,
            m.jitter_ms.p95,
            m.jitter_ms.max
        );
        let _ = writeln!(
            s,
            "  loss per call p50/p95/max: {:.2}/{:.2}/{:.2}%",
            m.call_loss_pct.p50, m.call_loss_pct.p95, m.call_loss_pct.max
        );
        let _ = writeln!(
            s,
            "  E-model (G.107, G.711{}): R mean {:.1} (min {:.1}), MOS mean {:.2}, p5 {:.2}, \
             min {:.2}; {:.1}% of calls R < 70",
            if m.mouth_to_ear.plc { " with PLC" } else { "" },
            q.r_mean,
            q.r_min,
            q.mos_mean,
            q.mos_p5,
            q.mos_min,
            q.share_r_below_70 * 100.0
        );
        let _ = writeln!(
            s,
            "  E-model aggregate: R {:.1}, MOS {:.2} (delay {:.1} ms, loss {:.3}%, BurstR {:.2})",
            q.aggregate_r,
            q.aggregate_mos,
            q.aggregate_delay_ms,
            m.voice_loss_pct,
            q.aggregate_burst_r
        );
        let cpu: Vec<String> = self
            .engine
            .shards
            .iter()
            .enumerate()
            .map(|(i, f)| {
                format!(
                    "shard {i}: {}{} missed ticks, {} in / {} out{}",
                    f.ticks.map(|t| format!("{t} ticks, ")).unwrap_or_default(),
                    f.ticks_missed,
                    f.datagrams_in,
                    f.datagrams_out,
                    f.cpu_s
                        .map(|c| format!(", CPU {c:.2} s"))
                        .unwrap_or_default()
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "  engine: {}; busy {:.2} s; network dropped {}; {} tick overruns",
            cpu.join("; "),
            self.engine.engine_busy_s,
            self.engine.network_lost,
            c.tick_overruns
        );
        if c.recordings_started > 0 || self.record_dir.is_some() {
            let _ = writeln!(
                s,
                "  recordings: {} written ({} failed), {:.1} MB, {:.0} s of audio, {} frames \
                 dropped, in {}",
                c.recordings_finished,
                c.recordings_failed,
                c.recording_bytes as f64 / 1e6,
                c.recorded_ms as f64 / 1000.0,
                c.recording_dropped_frames,
                self.record_dir
                    .as_ref()
                    .map_or("-".into(), |d| d.display().to_string())
            );
        }
        if let Some(f) = &self.flow {
            s.push_str(&f.to_text());
        }
        if !self.call_progress.is_empty() {
            s.push_str(&self.call_progress.to_text());
        }
        if c.errors > 0 {
            let _ = writeln!(s, "  ERRORS: {}", c.errors);
            for e in &c.first_errors {
                let _ = writeln!(s, "    {e}");
            }
        }
        s
    }

    /// One CSV line per conversation, with a header.
    pub fn calls_csv(&self) -> String {
        let mut s = String::from(
            "serial,agent,outbound,supervised,talk_s,up_expected,up_lost,up_loss_pct,\
             up_burst_r,up_jitter_ms,up_latency_ms,down_expected,down_lost,down_loss_pct,\
             down_burst_r,down_jitter_ms,down_latency_ms,r,mos,recording\n",
        );
        for c in &self.calls {
            let _ = writeln!(
                s,
                "{},{},{},{},{:.2},{},{},{:.3},{:.2},{:.3},{:.3},{},{},{:.3},{:.2},{:.3},{:.3},\
                 {:.2},{:.3},{}",
                c.serial,
                c.agent,
                c.outbound,
                c.supervised,
                c.talk_s,
                c.uplink.expected,
                c.uplink.lost,
                c.uplink.loss_pct,
                c.uplink.burst_r,
                c.uplink.jitter_ms,
                c.uplink.mean_latency_ms,
                c.downlink.expected,
                c.downlink.lost,
                c.downlink.loss_pct,
                c.downlink.burst_r,
                c.downlink.jitter_ms,
                c.downlink.mean_latency_ms,
                c.r,
                c.mos,
                c.recording
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_nearest_rank() {
        let s = Spread::of((1..=100).map(f64::from).collect());
        assert_eq!((s.p50, s.p95, s.p99, s.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Spread::of(vec![]), Spread::default());
        assert_eq!(Spread::of(vec![3.0]).p50, 3.0);
    }
}
