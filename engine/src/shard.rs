//! A shard: the sans-I/O state machine that owns a set of channels and switches media
//! between them.
//!
//! Inputs are commands, received datagrams and the time; outputs are datagrams to send
//! ([`Shard::transmits`]), events ([`Shard::poll_event`]) and the next deadline
//! ([`Shard::next_deadline`]). A shard never reads a clock or touches a socket, so the same
//! code runs under a UDP driver in real time and under the in-memory network on a virtual
//! clock.
//!
//! All periodic work (jitter-buffer playout, RTCP reports, media timeouts) happens in one
//! tick per period for every channel, so idle channels cost a few comparisons per tick and
//! there are no per-channel timers.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tandem_codecs::g711::{self, Law};
use tandem_codecs::rtp::looks_like_rtcp;
use tandem_codecs::telephone_event::TelephoneEvent;

use crate::channel::Channel;
use crate::channel::rtcp::{REPORT_INTERVAL_US, ntp_from_unix_us};
use crate::channel::rx::{Accepted, MediaKind};
use crate::channel::tx::FeedKey;
use crate::command::{Command, PlayTarget, SuperviseMode, TapTarget};
use crate::event::Event;
use crate::ids::{ChannelId, RoomId};
use crate::jitter::{JitterBuffer, JitterConfig};
use crate::player::{Player, Produced};
use crate::ports::OwnSockets;
use crate::room::{ParticipantOptions, Room, RoomOptions};
use crate::spec::RtcpMode;
use crate::stats::ChannelStats;
use crate::tap::{Tap, TapHandoff, TapId, TapSpec};
use crate::transmit::{Transmit, TransmitQueue};

/// The tick-driven playout feed's epoch: constant, because the jitter buffer's output is
/// continuous across the source's own discontinuities.
const PLAYOUT_EPOCH: u32 = u32::MAX;

/// Static settings of a shard.
#[derive(Clone, Debug)]
pub struct ShardConfig {
    /// Index among the engine's shards.
    pub index: usize,
    /// Tick period in microseconds (20 ms by default).
    pub tick_us: u64,
    /// Seed for SSRCs, initial sequence numbers and report jitter.
    pub seed: u64,
    /// Unix time in microseconds at `now = 0` (for RTCP's NTP timestamps).
    pub unix_epoch_us: u64,
    /// The engine's own media sockets: never a remote, and nothing from them is accepted.
    pub own: Option<OwnSockets>,
}

impl ShardConfig {
    /// Shard `index` with a 20 ms tick.
    pub fn new(index: usize, seed: u64) -> ShardConfig {
        ShardConfig {
            index,
            tick_us: 20_000,
            seed,
            unix_epoch_us: 0,
            own: None,
        }
    }
}

/// Shard-wide counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Datagrams received on ports that belong to no channel (late after a delete).
    pub unknown_port: u64,
    /// Ticks run.
    pub ticks: u64,
    /// Ticks skipped because the shard was late.
    pub ticks_missed: u64,
    /// Datagrams handled.
    pub datagrams_in: u64,
    /// Datagrams queued for sending.
    pub datagrams_out: u64,
    /// Live channels.
    pub channels: u64,
}

const NO_PORT: u32 = 0;

/// The shard state machine.
pub struct Shard {
    cfg: ShardConfig,
    channels: Vec<Option<Channel>>,
    free_slots: Vec<u32>,
    by_id: HashMap<ChannelId, u32>,
    rooms: Vec<Option<Room>>,
    free_rooms: Vec<u32>,
    room_by_id: HashMap<RoomId, u32>,
    taps: Vec<Option<Tap>>,
    tap_by_id: HashMap<TapId, u32>,
    handoffs: Vec<TapHandoff>,
    /// Local port → (slot << 1 | is_rtcp) + 1, or [`NO_PORT`].
    ports: Vec<u32>,
    transmits: TransmitQueue,
    events: VecDeque<Event>,
    released_ports: Vec<u16>,
    next_tick_us: u64,
    rng: SmallRng,
    pcm: Vec<i16>,
    stats: ShardStats,
}

impl Shard {
    /// An empty shard whose first tick is at `now_us + tick`.
    pub fn new(cfg: ShardConfig, now_us: u64) -> Shard {
        let samples = (cfg.tick_us * 8 / 1000) as usize;
        Shard {
            rng: SmallRng::seed_from_u64(cfg.seed ^ (cfg.index as u64).wrapping_mul(0x9E37_79B9)),
            next_tick_us: now_us + cfg.tick_us,
            cfg,
            channels: Vec::new(),
            free_slots: Vec::new(),
            by_id: HashMap::new(),
            rooms: Vec::new(),
            free_rooms: Vec::new(),
            room_by_id: HashMap::new(),
            taps: Vec::new(),
            tap_by_id: HashMap::new(),
            handoffs: Vec::new(),
            ports: vec![NO_PORT; 65_536],
            transmits: TransmitQueue::with_capacity(256),
            events: VecDeque::new(),
            released_ports: Vec::new(),
            pcm: vec![0; samples],
            stats: ShardStats::default(),
        }
    }

    /// Its index.
    pub fn index(&self) -> usize {
        self.cfg.index
    }

    /// When [`tick`](Shard::tick) must next run.
    pub fn next_deadline(&self) -> u64 {
        self.next_tick_us
    }

    /// Datagrams waiting to be sent. The driver sends them and calls
    /// [`clear_transmits`](Shard::clear_transmits).
    pub fn transmits(&self) -> impl Iterator<Item = Transmit<'_>> + '_ {
        self.transmits.iter()
    }

    /// The pending datagrams as a queue (for drivers that batch by index).
    pub fn transmit_queue(&self) -> &TransmitQueue {
        &self.transmits
    }

    /// Forgets the datagrams the driver has sent.
    pub fn clear_transmits(&mut self) {
        self.transmits.clear();
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The engine's own sockets, if the shard knows them (the driver marks the ports it
    /// closes as free there).
    pub fn own_sockets(&self) -> Option<&OwnSockets> {
        self.cfg.own.as_ref()
    }

    /// Local ports no longer used (the driver closes their sockets).
    pub fn drain_released_ports(&mut self) -> std::vec::Drain<'_, u16> {
        self.released_ports.drain(..)
    }

    /// Shard-wide counters.
    pub fn stats(&self) -> ShardStats {
        ShardStats {
            channels: self.by_id.len() as u64,
            ..self.stats
        }
    }

    /// A channel's counters, if it exists here.
    pub fn channel_stats(&self, id: ChannelId) -> Option<ChannelStats> {
        self.channel(id).map(Channel::snapshot_stats)
    }

    /// A channel's latched or signalled remote address.
    pub fn channel_remote(&self, id: ChannelId) -> Option<SocketAddr> {
        self.channel(id).and_then(|c| c.rx.remote)
    }

    fn channel(&self, id: ChannelId) -> Option<&Channel> {
        let slot = *self.by_id.get(&id)?;
        self.channels[slot as usize].as_ref()
    }

    fn slot(&self, id: ChannelId) -> Result<u32, String> {
        self.by_id
            .get(&id)
            .copied()
            .ok_or_else(|| format!("no channel {id} on shard {}", self.cfg.index))
    }

    /// Refuses a remote that is one of the engine's own sockets: media would loop.
    fn check_remote(&self, remote: SocketAddr) -> Result<(), String> {
        match &self.cfg.own {
            Some(own) if own.contains(remote) => Err(format!(
                "remote {remote} is one of the engine's own media addresses (a loop)"
            )),
            _ => Ok(()),
        }
    }

    fn fail(&mut self, command: String, reason: String) {
        tracing::debug!(%command, %reason, "command failed");
        self.events
            .push_back(Event::CommandFailed { command, reason });
    }

    /// Applies one command. A command that cannot be carried out changes nothing and
    /// reports `Event::CommandFailed`.
    pub fn handle_command(&mut self, now_us: u64, cmd: Command) {
        // The name only: formatting the whole command would copy prompt samples per call.
        let name = cmd.name();
        let created = match &cmd {
            Command::CreateChannel { port, spec, .. } => Some((*port, spec.rtcp)),
            _ => None,
        };
        if let Err(reason) = self.apply(now_us, cmd) {
            if let Some((port, rtcp)) = created {
                // The driver holds the new channel's sockets: hand back the ones no live
                // channel uses, so they are closed and their ports freed.
                let rtcp_port = (rtcp == RtcpMode::Companion).then(|| port.wrapping_add(1));
                for p in std::iter::once(port).chain(rtcp_port) {
                    if self.ports[p as usize] == NO_PORT {
                        self.released_ports.push(p);
                    }
                }
            }
            self.fail(name.to_string(), reason);
        }
    }

    fn apply(&mut self, now_us: u64, cmd: Command) -> Result<(), String> {
        match cmd {
            Command::CreateChannel {
                channel,
                port,
                spec,
            } => {
                if self.by_id.contains_key(&channel) {
                    return Err(format!("channel {channel} exists"));
                }
                let rtcp_port = match spec.rtcp {
                    RtcpMode::Companion => Some(port.checked_add(1).ok_or("no port for RTCP")?),
                    _ => None,
                };
                for p in std::iter::once(port).chain(rtcp_port) {
                    if self.ports[p as usize] != NO_PORT {
                        return Err(format!("port {p} in use"));
                    }
                }
                if spec.ptime_ms == 0 || spec.ptime_ms > 200 {
                    return Err(format!("ptime {} ms out of range", spec.ptime_ms));
                }
                if let Some(r) = spec.remote {
                    self.check_remote(r)?;
                }
                let slot = self.free_slots.pop().unwrap_or_else(|| {
                    self.channels.push(None);
                    (self.channels.len() - 1) as u32
                });
                let start = (
                    self.rng.random::<u32>(),
                    self.rng.random::<u16>(),
                    self.rng.random::<u32>(),
                );
                // Spread the first reports over one interval so channels created together
                // do not report together.
                let first_report = now_us
                    + self
                        .rng
                        .random_range(REPORT_INTERVAL_US / 2..REPORT_INTERVAL_US * 3 / 2);
                self.channels[slot as usize] = Some(Channel::new(
                    channel,
                    port,
                    spec,
                    now_us,
                    start,
                    first_report,
                ));
                self.by_id.insert(channel, slot);
                self.ports[port as usize] = (slot << 1) + 1;
                if let Some(p) = rtcp_port {
                    self.ports[p as usize] = (slot << 1 | 1) + 1;
                }
                Ok(())
            }
            Command::SetRemote { channel, remote } => {
                let slot = self.slot(channel)?;
                self.check_remote(remote)?;
                self.ch_mut(slot).rx.set_remote(remote);
                Ok(())
            }
            Command::SetCodec {
                channel,
                codec,
                telephone_event_pt,
            } => {
                let slot = self.slot(channel)?;
                let ch = self.ch_mut(slot);
                ch.spec.codec = codec;
                ch.spec.telephone_event_pt = telephone_event_pt;
                ch.rx
                    .set_payload_types(codec.payload_type, telephone_event_pt);
                Ok(())
            }
            Command::SetFilter { channel, filter } => {
                let slot = self.slot(channel)?;
                self.ch_mut(slot).filter = filter;
                Ok(())
            }
            Command::Bridge { a, b } => {
                if a == b {
                    return Err("cannot bridge a channel to itself".into());
                }
                let (sa, sb) = (self.slot(a)?, self.slot(b)?);
                self.detach(sa);
                self.detach(sb);
                self.ch_mut(sa).peer = Some(sb);
                self.ch_mut(sb).peer = Some(sa);
                Ok(())
            }
            Command::Unbridge { channel } => {
                let slot = self.slot(channel)?;
                self.unbridge(slot);
                Ok(())
            }
            Command::QueryStats { channel } => {
                let stats = self
                    .channel_stats(channel)
                    .ok_or_else(|| format!("no channel {channel}"))?;
                self.events.push_back(Event::Stats { channel, stats });
                Ok(())
            }
            Command::DestroyChannel { channel } => {
                let slot = self.slot(channel)?;
                self.detach(slot);
                for ts in std::mem::take(&mut self.ch_mut(slot).taps) {
                    if let Some(t) = self.taps[ts as usize].as_mut() {
                        t.forget_slot(slot);
                    }
                }
                let ch = self.channels[slot as usize]
                    .take()
                    .expect("slot of a live id");
                self.by_id.remove(&channel);
                self.free_slots.push(slot);
                for p in std::iter::once(ch.port).chain(ch.rtcp_port().filter(|&p| p != ch.port)) {
                    self.ports[p as usize] = NO_PORT;
                    self.released_ports.push(p);
                }
                self.events.push_back(Event::ChannelClosed {
                    channel,
                    stats: ch.snapshot_stats(),
                });
                Ok(())
            }
            Command::CreateRoom { room, options } => {
                if self.room_by_id.contains_key(&room) {
                    return Err(format!("room {room} exists"));
                }
                self.create_room(room, options);
                Ok(())
            }
            Command::JoinRoom {
                room,
                channel,
                options,
            } => {
                let rs = self.room_slot(room)?;
                let slot = self.slot(channel)?;
                self.join(rs, slot, options);
                Ok(())
            }
            Command::LeaveRoom { channel } => {
                let slot = self.slot(channel)?;
                if self.ch_mut(slot).room.is_none() {
                    return Err(format!("{channel} is in no room"));
                }
                self.leave_room(slot);
                Ok(())
            }
            Command::DestroyRoom { room } => {
                let rs = self.room_slot(room)?;
                let slots: Vec<u32> = self.rooms[rs as usize]
                    .as_ref()
                    .map(|r| r.slots().collect())
                    .unwrap_or_default();
                for slot in slots {
                    self.leave_room(slot);
                }
                self.rooms[rs as usize] = None;
                self.room_by_id.remove(&room);
                self.free_rooms.push(rs);
                Ok(())
            }
            Command::Supervise {
                agent,
                supervisor,
                mode,
                room,
            } => self.supervise(agent, supervisor, mode, room),
            Command::StartTap { tap, target, spec } => self.start_tap(tap, target, spec),
            Command::Play { target, spec } => {
                match target {
                    PlayTarget::Channel(c) => {
                        let slot = self.slot(c)?;
                        let ch = self.ch_mut(slot);
                        let rfc4733 = ch.spec.telephone_event_pt.is_some();
                        if let Some(old) = ch.player.replace(Player::new(spec, rfc4733)) {
                            let position_ms = old.position_ms();
                            self.events.push_back(Event::PlayFinished {
                                target,
                                interrupted: true,
                                position_ms,
                            });
                        }
                    }
                    PlayTarget::Room(r) => {
                        let rs = self.room_slot(r)?;
                        if let Some(room) = self.rooms[rs as usize].as_mut() {
                            room.play(Player::new(spec, false), &mut self.events);
                        }
                    }
                }
                Ok(())
            }
            Command::StopPlay { target } => {
                let stopped = match target {
                    PlayTarget::Channel(c) => {
                        let slot = self.slot(c)?;
                        self.ch_mut(slot).player.take()
                    }
                    PlayTarget::Room(r) => {
                        let rs = self.room_slot(r)?;
                        self.rooms[rs as usize]
                            .as_mut()
                            .and_then(|room| room.stop_player())
                    }
                };
                let p = stopped.ok_or("nothing is playing")?;
                self.events.push_back(Event::PlayFinished {
                    target,
                    interrupted: true,
                    position_ms: p.position_ms(),
                });
                Ok(())
            }
            Command::PauseTap { tap, paused } => {
                let ts = self.tap_slot(tap)?;
                if let Some(t) = self.taps[ts as usize].as_mut() {
                    t.set_paused(paused);
                }
                Ok(())
            }
            Command::StopTap { tap } => {
                let ts = self.tap_slot(tap)?;
                self.remove_tap(ts);
                Ok(())
            }
        }
    }

    fn tap_slot(&self, id: TapId) -> Result<u32, String> {
        self.tap_by_id
            .get(&id)
            .copied()
            .ok_or_else(|| format!("no tap {} on shard {}", id.0, self.cfg.index))
    }

    fn start_tap(&mut self, id: TapId, target: TapTarget, spec: TapSpec) -> Result<(), String> {
        if self.tap_by_id.contains_key(&id) {
            return Err(format!("tap {} exists", id.0));
        }
        let slots: Vec<u32> = match target {
            TapTarget::Channel(c) => {
                let slot = self.slot(c)?;
                std::iter::once(slot)
                    .chain(self.ch_mut(slot).peer)
                    .collect()
            }
            TapTarget::Room(r) => {
                let rs = self.room_slot(r)?;
                self.rooms[rs as usize]
                    .as_ref()
                    .map(|r| r.slots().collect())
                    .unwrap_or_default()
            }
        };
        let (tap, handoff) = Tap::new(id, spec, &slots, self.pcm.len());
        let ts = self
            .taps
            .iter()
            .position(Option::is_none)
            .unwrap_or_else(|| {
                self.taps.push(None);
                self.taps.len() - 1
            }) as u32;
        for &slot in &slots {
            self.ch_mut(slot).taps.push(ts);
        }
        self.taps[ts as usize] = Some(tap);
        self.tap_by_id.insert(id, ts);
        self.handoffs.push(handoff);
        Ok(())
    }

    /// Drops a tap's shard side; its writer then finishes the file.
    fn remove_tap(&mut self, ts: u32) {
        let Some(tap) = self.taps[ts as usize].take() else {
            return;
        };
        for slot in tap.slots() {
            if let Some(ch) = self
                .channels
                .get_mut(slot as usize)
                .and_then(Option::as_mut)
            {
                ch.taps.retain(|&t| t != ts);
            }
        }
        self.tap_by_id.remove(&tap.id);
    }

    /// Taps started since the last call, for the driver to hand to a writer.
    pub fn drain_tap_handoffs(&mut self) -> std::vec::Drain<'_, TapHandoff> {
        self.handoffs.drain(..)
    }

    fn room_slot(&self, id: RoomId) -> Result<u32, String> {
        self.room_by_id
            .get(&id)
            .copied()
            .ok_or_else(|| format!("no room {id} on shard {}", self.cfg.index))
    }

    fn create_room(&mut self, id: RoomId, options: RoomOptions) -> u32 {
        let rs = self.free_rooms.pop().unwrap_or_else(|| {
            self.rooms.push(None);
            (self.rooms.len() - 1) as u32
        });
        self.rooms[rs as usize] = Some(Room::new(id, options, self.pcm.len()));
        self.room_by_id.insert(id, rs);
        rs
    }

    /// Puts channel `slot` into room `rs` (leaving its bridge or other room). A room mixes
    /// decoded frames, so a channel without a jitter buffer gets one while it is there.
    fn join(&mut self, rs: u32, slot: u32, options: ParticipantOptions) {
        let ch = self.ch_mut(slot);
        if ch.room != Some(rs) {
            self.detach(slot);
            let ch = self.ch_mut(slot);
            if ch.jitter.is_none() {
                ch.jitter = Some(JitterBuffer::new(JitterConfig::default()));
                ch.room_jitter = true;
            }
            ch.room = Some(rs);
        }
        let id = self.ch_mut(slot).id;
        if let Some(r) = self.rooms[rs as usize].as_mut() {
            r.join(slot, id, options);
        }
    }

    fn leave_room(&mut self, slot: u32) {
        let ch = self.ch_mut(slot);
        let Some(rs) = ch.room.take() else {
            return;
        };
        if ch.room_jitter {
            ch.jitter = None;
            ch.room_jitter = false;
        }
        if let Some(r) = self.rooms[rs as usize].as_mut() {
            r.leave(slot);
        }
    }

    /// Leaves whatever the channel is connected to.
    fn detach(&mut self, slot: u32) {
        self.unbridge(slot);
        self.leave_room(slot);
    }

    fn supervise(
        &mut self,
        agent: ChannelId,
        supervisor: ChannelId,
        mode: SuperviseMode,
        room: RoomId,
    ) -> Result<(), String> {
        let sa = self.slot(agent)?;
        let ss = self.slot(supervisor)?;
        if sa == ss {
            return Err("a supervisor cannot supervise itself".into());
        }
        let rs = match (self.ch_mut(sa).room, self.ch_mut(sa).peer) {
            (Some(rs), _) => rs,
            (None, Some(caller)) => {
                // Turn the two-party bridge into a room; both output streams continue.
                let rs = match self.room_by_id.get(&room) {
                    Some(&rs) => rs,
                    None => self.create_room(room, RoomOptions::default()),
                };
                self.join(rs, sa, ParticipantOptions::default());
                self.join(rs, caller, ParticipantOptions::default());
                rs
            }
            (None, None) => return Err(format!("{agent} is not in a call")),
        };
        let options = match mode {
            SuperviseMode::Listen => ParticipantOptions::listen_only(),
            SuperviseMode::Whisper => ParticipantOptions::whisper(agent),
            SuperviseMode::Barge => ParticipantOptions::default(),
            SuperviseMode::ForceDisconnect => {
                self.leave_room(sa);
                self.events
                    .push_back(Event::ForcedDisconnect { channel: agent });
                ParticipantOptions::default()
            }
        };
        self.join(rs, ss, options);
        Ok(())
    }

    fn ch_mut(&mut self, slot: u32) -> &mut Channel {
        self.channels[slot as usize]
            .as_mut()
            .expect("slot of a live channel")
    }

    fn unbridge(&mut self, slot: u32) {
        if let Some(peer) = self.ch_mut(slot).peer.take() {
            if let Some(p) = self.channels[peer as usize].as_mut() {
                p.peer = None;
            }
        }
    }

    fn ntp(&self, now_us: u64) -> u64 {
        ntp_from_unix_us(self.cfg.unix_epoch_us + now_us)
    }

    /// Handles one received datagram on `local_port` from `from`.
    pub fn handle_datagram(&mut self, now_us: u64, local_port: u16, from: SocketAddr, data: &[u8]) {
        self.stats.datagrams_in += 1;
        let entry = self.ports[local_port as usize];
        if entry == NO_PORT {
            self.stats.unknown_port += 1;
            return;
        }
        let slot = (entry - 1) >> 1;
        let is_rtcp_port = (entry - 1) & 1 == 1;
        let epoch_us = self.cfg.unix_epoch_us;
        let ch = self.channels[slot as usize]
            .as_mut()
            .expect("mapped slot is live");
        let mux = ch.spec.rtcp == RtcpMode::Mux;
        let own = self.cfg.own.as_ref();
        if is_rtcp_port || (mux && looks_like_rtcp(data)) {
            if !ch.rx.rtcp_source_ok(from, own) {
                ch.stats.unlatched_source += 1;
                return;
            }
            let ssrc = ch.tx.ssrc;
            let ntp = ntp_from_unix_us(epoch_us + now_us);
            ch.rtcp
                .receive(now_us, ntp, from, data, ssrc, &mut ch.stats);
            return;
        }
        let Ok(acc) = ch.rx.accept(now_us, from, data, own, &mut ch.stats) else {
            return;
        };
        let id = ch.id;
        if ch.timeout_reported {
            ch.timeout_reported = false;
            self.events.push_back(Event::MediaResumed { channel: id });
        }
        if acc.first | acc.remote_changed {
            if acc.first {
                self.events
                    .push_back(Event::FirstPacket { channel: id, from });
            } else {
                tracing::info!(channel = %id, %from, "remote changed to a new source");
                self.events
                    .push_back(Event::RemoteChanged { channel: id, from });
            }
        }
        let ch = self.channels[slot as usize]
            .as_mut()
            .expect("mapped slot is live");
        if let Some(old) = acc.ssrc_changed_from {
            if let Some(jb) = ch.jitter.as_mut() {
                jb.reset();
            }
            let new = ch.rx.ssrc().unwrap_or_default();
            self.events.push_back(Event::SsrcChanged {
                channel: id,
                old,
                new,
            });
        }
        let ch = self.channels[slot as usize]
            .as_mut()
            .expect("mapped slot is live");
        let payload = &data[acc.payload_start..acc.payload_start + acc.payload_len];
        let law = ch.spec.codec.law;
        let buffered = ch.jitter.is_some();
        let peer = ch.peer;
        match acc.kind {
            MediaKind::TelephoneEvent => {
                let min = ch.spec.dtmf.min_duration_ms;
                if ch.spec.dtmf.rfc4733 {
                    for d in ch.dtmf.packet(acc.ts, payload).into_iter().flatten() {
                        if d.duration_ms >= min {
                            on_digit(ch, &mut self.events, d.digit, d.duration_ms, now_us);
                        }
                    }
                }
                if let (Some(p), false) = (peer, ch.filter.block_dtmf) {
                    self.forward_event(now_us, id, p, &acc, buffered, payload);
                }
            }
            MediaKind::Audio => {
                if let Some(det) = ch.inband.as_mut() {
                    let mut found = [None; 4];
                    let mut k = 0;
                    let mut pcm = [0i16; 240];
                    for chunk in payload.chunks(pcm.len()) {
                        g711::decode_frame(law, chunk, &mut pcm);
                        det.process(&pcm[..chunk.len()], |d| {
                            if k < found.len() {
                                found[k] = Some(d.key);
                                k += 1;
                            }
                        });
                    }
                    for key in found.into_iter().flatten() {
                        on_digit(ch, &mut self.events, key, 0, now_us);
                    }
                }
                for &ts in &ch.taps {
                    if let Some(t) = self.taps[ts as usize].as_mut() {
                        t.receive(slot, now_us, acc.seq, acc.ts, law, payload);
                    }
                }
                let filter = ch.filter;
                if filter.block_audio {
                    return;
                }
                if filter.silence_audio {
                    // Silence in the sender's law, so the stream, its timing and any
                    // transcoding carry on unchanged.
                    let quiet = [law.encode(0); 480];
                    let n = payload.len().min(quiet.len());
                    if let Some(jb) = ch.jitter.as_mut() {
                        jb.insert(now_us, acc.seq, acc.ts, law, &quiet[..n]);
                    } else if let Some(p) = peer {
                        self.forward_audio(now_us, id, law, p, &acc, &quiet[..n]);
                    }
                    return;
                }
                if let Some(jb) = ch.jitter.as_mut() {
                    jb.insert(now_us, acc.seq, acc.ts, law, payload);
                } else if let Some(p) = peer {
                    self.forward_audio(now_us, id, law, p, &acc, payload);
                }
            }
        }
    }

    /// Pass-through: re-stamps the packet onto the peer's output stream, transcoding when
    /// the two legs use different laws.
    fn forward_audio(
        &mut self,
        now_us: u64,
        src: ChannelId,
        src_law: Law,
        dst: u32,
        acc: &Accepted,
        payload: &[u8],
    ) {
        let Some(dst_ch) = self.channels[dst as usize].as_mut() else {
            return;
        };
        if dst_ch.player.is_some() {
            return; // a prompt is playing into the peer; its voice waits
        }
        let Some(dest) = dst_ch.rx.remote else {
            return;
        };
        let key = FeedKey {
            source: src.0,
            epoch: acc.epoch,
        };
        let stamp = dst_ch.tx.forward(now_us, key, acc.seq, acc.ts, acc.marker);
        let codec = dst_ch.spec.codec;
        dst_ch.send_rtp(
            &mut self.transmits,
            dest,
            codec.payload_type,
            stamp,
            |buf| {
                if src_law == codec.law {
                    buf.extend_from_slice(payload);
                } else {
                    let start = buf.len();
                    buf.resize(start + payload.len(), 0);
                    g711::transcode_frame(src_law, codec.law, payload, &mut buf[start..]);
                }
            },
        );
        self.stats.datagrams_out += 1;
    }

    /// Passes an RFC 4733 packet to the peer with the peer's event payload type. Durations
    /// are in timestamp units, identical at 8 kHz on both sides, so the payload is untouched.
    fn forward_event(
        &mut self,
        now_us: u64,
        src: ChannelId,
        dst: u32,
        acc: &Accepted,
        buffered: bool,
        payload: &[u8],
    ) {
        let Some(dst_ch) = self.channels[dst as usize].as_mut() else {
            return;
        };
        let (Some(dest), Some(pt)) = (dst_ch.rx.remote, dst_ch.spec.telephone_event_pt) else {
            return;
        };
        if dst_ch.player.is_some() {
            return;
        }
        let stamp = if buffered {
            dst_ch.tx.next_event(now_us, acc.ts, acc.marker)
        } else {
            let key = FeedKey {
                source: src.0,
                epoch: acc.epoch,
            };
            dst_ch.tx.forward(now_us, key, acc.seq, acc.ts, acc.marker)
        };
        dst_ch.send_rtp(&mut self.transmits, dest, pt, stamp, |buf| {
            buf.extend_from_slice(payload)
        });
        self.stats.datagrams_out += 1;
    }

    /// Runs the periodic work if its deadline has come: jitter-buffer playout into bridged
    /// peers, RTCP reports and media timeouts. Ticks missed by more than a period are
    /// skipped and reported, not replayed in a burst.
    pub fn tick(&mut self, now_us: u64) {
        if now_us < self.next_tick_us {
            return;
        }
        let late = now_us - self.next_tick_us;
        let missed = late / self.cfg.tick_us;
        if missed > 0 {
            self.stats.ticks_missed += missed;
            self.events.push_back(Event::TickOverrun {
                shard: self.cfg.index,
                missed,
            });
        }
        self.next_tick_us += (missed + 1) * self.cfg.tick_us;
        self.stats.ticks += 1;
        let ntp = self.ntp(now_us);
        let samples = self.pcm.len() as u32;
        for slot in 0..self.channels.len() {
            let Some(ch) = self.channels[slot].as_mut() else {
                continue;
            };
            if let Some(silent_ms) = ch.media_timed_out(now_us) {
                ch.timeout_reported = true;
                self.events.push_back(Event::MediaTimeout {
                    channel: ch.id,
                    silent_ms,
                });
            }
            if now_us >= ch.rtcp.next_report_us {
                let jitter = self
                    .rng
                    .random_range(REPORT_INTERVAL_US / 2..REPORT_INTERVAL_US * 3 / 2);
                ch.rtcp.next_report_us = now_us + jitter;
                if let (Some(dest), Some(port)) = (ch.rtcp_destination(), ch.rtcp_port()) {
                    let (rtcp, tx, rx) = (&mut ch.rtcp, &ch.tx, &ch.rx);
                    self.transmits.push_with(port, dest, |buf| {
                        rtcp.write_report(now_us, ntp, tx, rx, buf)
                    });
                    ch.stats.rtcp_sent += 1;
                    self.stats.datagrams_out += 1;
                }
            }
            let timeout = u64::from(ch.spec.dtmf.inter_digit_timeout_ms) * 1000;
            if timeout > 0
                && !ch.collected.0.is_empty()
                && now_us.saturating_sub(ch.collected.1) >= timeout
            {
                let digits = std::mem::take(&mut ch.collected.0);
                self.events.push_back(Event::DigitsCollected {
                    channel: ch.id,
                    digits,
                });
            }
            if ch.player.is_some() {
                play_tick(
                    ch,
                    now_us,
                    &mut self.pcm,
                    &mut self.transmits,
                    &mut self.events,
                );
            }
            // Playout: a buffered channel feeds one frame per tick to its peer.
            let (Some(jb), Some(peer)) = (ch.jitter.as_mut(), ch.peer) else {
                continue;
            };
            if ch.rx.ssrc().is_none() {
                continue; // nothing to play before the first packet
            }
            // Played, concealed or silent: the outgoing stream stays continuous either way.
            jb.pop(now_us, &mut self.pcm);
            let src = ch.id;
            let Some(dst_ch) = self.channels[peer as usize].as_mut() else {
                continue;
            };
            let Some(dest) = dst_ch.rx.remote else {
                continue;
            };
            if dst_ch.player.is_some() {
                continue;
            }
            let key = FeedKey {
                source: src.0,
                epoch: PLAYOUT_EPOCH,
            };
            let stamp = dst_ch.tx.next_frame(now_us, key, samples);
            let codec = dst_ch.spec.codec;
            let pcm = &self.pcm;
            dst_ch.send_rtp(
                &mut self.transmits,
                dest,
                codec.payload_type,
                stamp,
                |buf| {
                    let start = buf.len();
                    buf.resize(start + pcm.len(), 0);
                    g711::encode_frame(codec.law, pcm, &mut buf[start..]);
                },
            );
            self.stats.datagrams_out += 1;
        }
        for ts in 0..self.taps.len() {
            let gone = match self.taps[ts].as_mut() {
                Some(t) if t.writer_gone() => true,
                Some(t) => {
                    t.tick(now_us, &mut self.events);
                    false
                }
                None => false,
            };
            if gone {
                self.remove_tap(ts as u32);
            }
        }
        for room in self.rooms.iter_mut().flatten() {
            let before = self.transmits.len();
            room.tick(
                now_us,
                &mut self.channels,
                &mut self.transmits,
                &mut self.events,
            );
            self.stats.datagrams_out += (self.transmits.len() - before) as u64;
        }
    }
}

/// A DTMF digit on a channel: report it, collect it, and let it barge into a prompt.
fn on_digit(
    ch: &mut Channel,
    events: &mut VecDeque<Event>,
    digit: char,
    duration_ms: u32,
    now_us: u64,
) {
    ch.stats.dtmf_received += 1;
    events.push_back(Event::Dtmf {
        channel: ch.id,
        digit,
        duration_ms,
        at_us: now_us,
    });
    if ch.spec.dtmf.inter_digit_timeout_ms > 0 {
        ch.collected.0.push(digit);
        ch.collected.1 = now_us;
    }
    if ch.player.as_ref().is_some_and(|p| p.barge_in) {
        let p = ch.player.take().expect("checked");
        events.push_back(Event::PlayFinished {
            target: PlayTarget::Channel(ch.id),
            interrupted: true,
            position_ms: p.position_ms(),
        });
    }
}

/// One tick of a channel's player: an audio frame or a telephone-event packet.
fn play_tick(
    ch: &mut Channel,
    now_us: u64,
    pcm: &mut [i16],
    transmits: &mut TransmitQueue,
    events: &mut VecDeque<Event>,
) {
    let Some(player) = ch.player.as_mut() else {
        return;
    };
    let produced = player.next(pcm);
    let key = FeedKey {
        source: ch.id.0 | PLAYER_FEED_BIT,
        epoch: 0,
    };
    let samples = pcm.len() as u32;
    let dest = ch.rx.remote;
    match produced {
        Produced::Done => {
            let p = ch.player.take().expect("playing");
            events.push_back(Event::PlayFinished {
                target: PlayTarget::Channel(ch.id),
                interrupted: false,
                position_ms: p.position_ms(),
            });
        }
        Produced::Audio => {
            let Some(dest) = dest else { return };
            let stamp = ch.tx.next_frame(now_us, key, samples);
            let codec = ch.spec.codec;
            ch.send_rtp(transmits, dest, codec.payload_type, stamp, |buf| {
                let start = buf.len();
                buf.resize(start + pcm.len(), 0);
                g711::encode_frame(codec.law, pcm, &mut buf[start..]);
            });
        }
        Produced::Event {
            code,
            duration,
            end,
            digit_index,
        } => {
            let (Some(dest), Some(pt)) = (dest, ch.spec.telephone_event_pt) else {
                return;
            };
            let ev = TelephoneEvent {
                event: code,
                end,
                volume: 10,
                duration,
            };
            let bytes = ev.to_bytes().unwrap_or([0; 4]);
            // The end packet goes three times (RFC 4733 §2.5.1.4), all with the same stamp.
            for copy in 0..if end { 3 } else { 1 } {
                let stamp = if copy == 0 {
                    ch.tx.event_frame(now_us, key, samples, digit_index)
                } else {
                    ch.tx.event_repeat()
                };
                ch.send_rtp(transmits, dest, pt, stamp, |buf| {
                    buf.extend_from_slice(&bytes)
                });
            }
        }
    }
}

/// Marks a feed key as a channel's own player.
const PLAYER_FEED_BIT: u64 = 1 << 46;
