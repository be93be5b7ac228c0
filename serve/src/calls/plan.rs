//! An offer's plan: every audio stream of the SDP checked (transport, addresses, codecs,
//! ptime, rtcp-mux, interfaces, address family, limits, loops) and turned into the two
//! channel specifications it needs, before anything is created.

use std::net::{IpAddr, SocketAddr};

use tandem_engine::MediaEngine;
use tandem_engine::{ChannelSpec, DtmfSettings, RtcpMode};

use tandem_srtp::sdes::Crypto;

use super::codecs::{self, CodecPlan};
use super::sdes;
use super::{Call, Calls, Stream};
use crate::ng::options::{Gap, Kind, engine_refusal, refusal};
use crate::ng::{Family, Params};
use crate::sdp::Sdp;

/// The ptime of G.711 when an SDP does not say (RFC 3551).
const DEFAULT_PTIME: u32 = 20;

/// Whether media `i` is an audio stream the relay carries (RTP, or SRTP keyed by SDES).
/// DTLS-SRTP audio is refused (naming the protocol); other media are not relayed.
pub(super) fn relayed_audio(sdp: &Sdp, i: usize) -> Result<bool, String> {
    let m = &sdp.media[i];
    if m.kind != "audio" {
        return Ok(false);
    }
    let proto = m.proto.to_ascii_uppercase();
    match proto.as_str() {
        "RTP/AVP" | "RTP/AVPF" => Ok(true),
        p if p.starts_with("UDP/TLS/") => Err(refusal(
            Kind::Value("transport protocol"),
            &m.proto,
            "DTLS-SRTP is not supported",
        )),
        "RTP/SAVP" | "RTP/SAVPF" => Ok(true),
        _ => Ok(false),
    }
}

/// Longest and shortest ptime the engine re-frames to.
const REPACKETISE_MS: std::ops::RangeInclusive<u32> = 10..=60;

/// A ptime the engine can re-frame G.711 to.
fn check_repacketise(ms: u32) -> Result<(), String> {
    if REPACKETISE_MS.contains(&ms) {
        Ok(())
    } else {
        Err(format!(
            "ptime {ms} is not supported: packets are re-framed to 10 to 60 ms"
        ))
    }
}

/// The ptime media `i` says it is sent with.
pub(super) fn ptime_of(sdp: &Sdp, i: usize) -> u32 {
    sdp.attribute(i, "ptime")
        .and_then(|v| v.trim().parse().ok())
        .filter(|&v: &u32| (1..=200).contains(&v))
        .unwrap_or(DEFAULT_PTIME)
}

/// Where a party says its media for stream `i` goes: none when the port is 0 (rejected)
/// or the address is a wildcard (the old hold convention, `c=0.0.0.0`). `media address`
/// overrides the SDP and `received from`; `SIP source address` uses `received from`.
pub(super) fn party_address(sdp: &Sdp, i: usize, p: &Params) -> Result<Option<SocketAddr>, String> {
    let ip: Option<IpAddr> = match p.media_address {
        Some(a) => Some(a),
        None if p.flag("sip source address") => p.received_from,
        None => sdp.connection(i),
    };
    let ip = ip.ok_or("no connection address")?;
    let port = sdp.media[i].port;
    Ok((port != 0 && !ip.is_unspecified()).then(|| SocketAddr::new(ip, port)))
}

/// One audio stream of an offer, checked before anything is created.
pub(super) struct Planned {
    pub(super) index: usize,
    pub(super) caller: ChannelSpec,
    pub(super) callee: ChannelSpec,
    pub(super) plan: CodecPlan,
    pub(super) proto: String,
    /// The ptime the caller sends with.
    pub(super) caller_ptime: u32,
    /// The ptime the caller is sent (`ptime-reverse` or `repacketize`).
    pub(super) ptime_reverse: Option<u32>,
    /// The ptime the callee is sent when its leg re-frames.
    pub(super) to_callee_ptime: Option<u32>,
    pub(super) existing: Option<Stream>,
    /// The relay's line in the answer to an SRTP caller.
    pub(super) caller_crypto: Option<Crypto>,
    /// The lines offered to the callee (none: plain RTP).
    pub(super) callee_offer: Vec<Crypto>,
}

impl Calls {
    /// Checks `direction` and the interface keys: one interface is configured, and every
    /// name must be it.
    pub(super) fn check_interfaces(&self, p: &Params) -> Result<(), String> {
        let ours = &self.cfg.interface_name;
        let Some(other) = p.interfaces.iter().find(|n| *n != ours) else {
            return Ok(());
        };
        let distinct = p.interfaces.iter().any(|n| n != &p.interfaces[0]);
        if distinct {
            if let Some(e) = engine_refusal(
                &format!("interfaces {:?} for one call", p.interfaces),
                Gap::TwoInterfaces,
            ) {
                return Err(format!("{e} (this relay's interface is '{ours}')"));
            }
        }
        Err(format!(
            "unknown interface '{other}': this relay has one interface, '{ours}'"
        ))
    }

    /// Checks `address family` against the media interface.
    pub(super) fn check_family(&self, p: &Params) -> Result<(), String> {
        let ip = self.cfg.media_ip;
        let (want, name) = match p.address_family {
            Some(Family::Ip4) => (true, "IP4"),
            Some(Family::Ip6) => (false, "IP6"),
            None => return Ok(()),
        };
        if ip.is_ipv4() != want {
            return Err(refusal(
                Kind::Value("address family"),
                name,
                &format!("the media interface {ip} is of the other family"),
            ));
        }
        Ok(())
    }

    /// Checks every stream of an offer: codecs, addresses, options, the limits and loops.
    pub(super) fn plan_offer(
        &mut self,
        media: &dyn MediaEngine,
        sdp: &Sdp,
        p: &Params,
        existing: Option<&Call>,
    ) -> Result<Vec<Planned>, String> {
        let own = self.own_addresses(media);
        let mut audio = Vec::new();
        for i in 0..sdp.media.len() {
            if relayed_audio(sdp, i)? {
                audio.push(i);
            }
        }
        if audio.is_empty() {
            return Err("no audio stream in offer".into());
        }
        if audio.len() > self.cfg.max_streams_per_call {
            self.totals.refused_limit += 1;
            return Err(format!(
                "{} audio streams in the offer: the limit (max-streams-per-call) is {}",
                audio.len(),
                self.cfg.max_streams_per_call
            ));
        }
        let mut planned = Vec::with_capacity(audio.len());
        for i in audio {
            let mut plan = codecs::plan(
                &codecs::formats(sdp, i),
                &p.codec,
                p.flag("allow no codec media"),
            )?;
            if plan.reject {
                continue;
            }
            let remote = party_address(sdp, i, p)?;
            if let Some(r) = remote {
                self.check_not_own(media, &own, r)?;
            }
            let caller_ptime = ptime_of(sdp, i);
            // What each leg sends: towards the callee `ptime` (or `repacketize`), towards
            // the caller `ptime-reverse` (or `repacketize`); re-framed when it differs
            // from what the other party sends or is not known yet.
            let to_callee = p.ptime.or(p.repacketize).filter(|&w| w != caller_ptime);
            let to_caller = p.ptime_reverse.or(p.repacketize);
            for want in [to_callee, to_caller].into_iter().flatten() {
                check_repacketise(want)?;
            }
            let existing_stream =
                existing.and_then(|c| c.streams.iter().find(|s| s.index == i).cloned());
            if let Some(s) = &existing_stream {
                // A leg's re-framing is fixed when it is created: a re-offer may repeat it
                // or leave it out, not change it.
                let asked =
                    p.ptime.is_some() || p.ptime_reverse.is_some() || p.repacketize.is_some();
                if asked && (to_callee, to_caller) != (s.to_callee_ptime, s.ptime_reverse) {
                    return Err(format!(
                        "ptime of stream {} cannot change in a re-offer: its legs re-frame as \
                         the first offer set",
                        i + 1
                    ));
                }
            }
            let offered_mux = sdp.has_attribute(i, "rtcp-mux");
            let (caller_mux, callee_mux) = match &existing_stream {
                // A leg's RTCP mode is fixed when it is created.
                Some(s) => (s.caller_mux, s.callee_mux),
                None => (
                    offered_mux && !p.rtcp_mux("reject"),
                    offered_mux && !p.rtcp_mux("demux") && !p.rtcp_mux("reject")
                        || p.rtcp_mux("offer")
                        || p.rtcp_mux("require"),
                ),
            };
            let (caller_srtp, caller_crypto) = match sdes::answer_offer(sdp, i)? {
                Some((keys, line)) => (Some(keys), Some(line)),
                None => (None, None),
            };
            let callee_proto = match p.transport_protocol {
                Some(tp) if tp != "accept" => tp,
                _ => &sdp.media[i].proto,
            };
            let callee_offer = sdes::offer_lines(callee_proto, &p.sdes)?;
            let inband = p.flag("detect dtmf");
            let convert = plan.convert_dtmf;
            // What needs the audio decoded keeps the stream on G.711 (the engine relays
            // other codecs without decoding them).
            let record = match p.record_call {
                Some(r) => r,
                None => existing.is_some_and(|c| c.record),
            };
            let needs_samples = if inband {
                Some("detect DTMF")
            } else if convert {
                Some("DTMF conversion (codec transcode telephone-event)")
            } else if to_callee.is_some() || to_caller.is_some() {
                Some("a ptime change (repacketisation)")
            } else if record {
                Some("recording")
            } else {
                None
            };
            if let Some(feature) = needs_samples {
                plan.keep_decodable(feature)?;
            }
            let base = ChannelSpec {
                ptime_ms: caller_ptime,
                strict_source: p.flag("strict source"),
                media_timeout_ms: self.cfg.timeout_s * 1000,
                latching: self.cfg.latching,
                dtmf: DtmfSettings {
                    inband,
                    convert,
                    ..DtmfSettings::default()
                },
                ..ChannelSpec::default()
            };
            // With conversion, a leg that may lack telephone-event listens for tones (the
            // callee's is not known before its answer).
            let listen = |te: Option<u8>| DtmfSettings {
                inband: inband || (convert && te.is_none()),
                ..base.dtmf
            };
            let mode = |mux| {
                if mux {
                    RtcpMode::Mux
                } else {
                    RtcpMode::Companion
                }
            };
            let caller = ChannelSpec {
                codec: plan.caller_first().ok_or("no codec for the caller")?,
                telephone_event_pt: plan.caller_te(),
                remote,
                rtcp: mode(caller_mux),
                srtp: caller_srtp.map(Box::new),
                ptime_ms: to_caller.unwrap_or(caller_ptime),
                repacketize: to_caller.is_some(),
                dtmf: listen(plan.caller_te()),
                ..base.clone()
            };
            let callee = ChannelSpec {
                codec: plan.outgoing_first().ok_or("no codec for the callee")?,
                telephone_event_pt: plan.outgoing_te(),
                remote: None,
                rtcp: mode(callee_mux),
                ptime_ms: to_callee.unwrap_or(caller_ptime),
                repacketize: to_callee.is_some(),
                dtmf: listen(None),
                ..base
            };
            planned.push(Planned {
                index: i,
                caller,
                callee,
                plan,
                proto: sdp.media[i].proto.clone(),
                caller_ptime,
                ptime_reverse: existing_stream
                    .as_ref()
                    .map_or(to_caller, |s| s.ptime_reverse),
                to_callee_ptime: existing_stream
                    .as_ref()
                    .map_or(to_callee, |s| s.to_callee_ptime),
                existing: existing_stream,
                caller_crypto,
                callee_offer,
            });
        }
        if planned.is_empty() {
            return Err("codec operations left no audio stream to relay".into());
        }
        Ok(planned)
    }
}
