//! The shard's control path: creating channels, and every [`Command`]. A command that
//! cannot be carried out changes nothing and reports `Event::CommandFailed` with its
//! request, its object and a [`CommandError`].
//!
//! The topology lives here too: bridges (two channels name each other as peers), rooms
//! (a room lists its participants' slots, each channel names its room), supervision (a
//! bridged call turned into a room) and recordings (a tap lists its channels, each channel
//! lists its taps).

use std::net::SocketAddr;

use rand::Rng;

use super::Shard;
use crate::channel::Channel;
use crate::channel::rtcp::REPORT_INTERVAL;
use crate::command::Command;
use crate::error::CommandError;
use crate::event::Event;
use crate::ids::{ChannelId, Object, RequestId, RoomId, TapId};
use crate::player::Player;
use crate::room::Room;
use crate::spec::{
    ChannelSpec, ParticipantOptions, PlayTarget, RoomOptions, RtcpMode, SuperviseMode, TapTarget,
};
use crate::tap::{Tap, TapSink};
use crate::time::Micros;

impl Shard {
    /// Creates channel `channel` on local RTP port `port` (RTCP on `port + 1` unless muxed
    /// or off). The driver holds the port's sockets; if the creation fails, the ports no
    /// live channel uses come back through
    /// [`drain_released_ports`](Shard::drain_released_ports) so it closes them.
    pub fn create_channel(
        &mut self,
        now: Micros,
        request: RequestId,
        channel: ChannelId,
        port: u16,
        spec: ChannelSpec,
    ) {
        let rtcp = spec.rtcp;
        if let Err(error) = self.try_create(now, channel, port, spec) {
            let rtcp_port = (rtcp == RtcpMode::Companion).then(|| port.wrapping_add(1));
            for p in std::iter::once(port).chain(rtcp_port) {
                if self.ports.is_free(p) {
                    self.released_ports.push(p);
                }
            }
            self.fail(request, "create channel", Object::Channel(channel), error);
        }
    }

    /// Applies one command. One that touches a stream in the kernel fast path waits until
    /// the driver has taken the stream back (see `crate::offload`).
    pub fn handle_command(&mut self, now: Micros, request: RequestId, cmd: Command) {
        if let Some(cmd) = self.offload_intercept(now, request, cmd) {
            self.handle_command_now(now, request, cmd);
        }
    }

    pub(super) fn handle_command_now(&mut self, _now: Micros, request: RequestId, cmd: Command) {
        // The name only: formatting the whole command would copy prompt samples per call.
        let name = cmd.name();
        let object = cmd.object();
        if let Err(error) = self.apply(cmd) {
            self.fail(request, name, object, error);
        }
    }

    fn fail(
        &mut self,
        request: RequestId,
        command: &'static str,
        object: Object,
        error: CommandError,
    ) {
        tracing::debug!(%request, command, %object, %error, "command failed");
        self.events.push_back(Event::CommandFailed {
            request,
            command,
            object,
            error,
        });
    }

    fn try_create(
        &mut self,
        now: Micros,
        channel: ChannelId,
        port: u16,
        spec: ChannelSpec,
    ) -> Result<(), CommandError> {
        if self.channels.contains(channel) {
            return Err(CommandError::ChannelExists(channel));
        }
        let rtcp_port = match spec.rtcp {
            RtcpMode::Companion => Some(port.checked_add(1).ok_or(CommandError::NoRtcpPort)?),
            _ => None,
        };
        for p in std::iter::once(port).chain(rtcp_port) {
            if !self.ports.is_free(p) {
                return Err(CommandError::PortInUse(p));
            }
        }
        if spec.ptime_ms == 0 || spec.ptime_ms > 200 {
            return Err(CommandError::Ptime(spec.ptime_ms));
        }
        if let Some(f) = spec.codec.passthrough.and(spec.needs_samples()) {
            return Err(CommandError::PassThroughSpec(f));
        }
        if let Some(r) = spec.remote {
            self.check_remote(r)?;
        }
        let start = (
            self.rng.random::<u32>(),
            self.rng.random::<u16>(),
            self.rng.random::<u32>(),
        );
        // Spread the first reports over one interval so channels created together do not
        // report together.
        let spread = self
            .rng
            .random_range(REPORT_INTERVAL.as_us() / 2..REPORT_INTERVAL.as_us() * 3 / 2);
        let first_report = now + Micros::from_us(spread);
        let ch = Channel::new(channel, port, spec, now, start, first_report);
        let slot = self.channels.insert(channel, ch);
        self.ports.set(port, slot, false);
        if let Some(p) = rtcp_port {
            self.ports.set(p, slot, true);
        }
        Ok(())
    }

    fn apply(&mut self, cmd: Command) -> Result<(), CommandError> {
        match cmd {
            Command::SetRemote { channel, remote } => {
                let slot = self.slot(channel)?;
                self.check_remote(remote)?;
                self.ch_mut(slot).set_remote(remote);
            }
            Command::SetCodec {
                channel,
                codec,
                telephone_event_pt,
            } => {
                let slot = self.slot(channel)?;
                if codec.is_passthrough() {
                    self.decodes(slot)?;
                }
                self.ch_mut(slot).set_codec(codec, telephone_event_pt);
            }
            Command::SetSrtp { channel, keys } => {
                let slot = self.slot(channel)?;
                self.ch_mut(slot).set_srtp(keys.as_deref());
            }
            Command::SetFilter { channel, filter } => {
                let slot = self.slot(channel)?;
                if filter.silence_audio {
                    self.needs_samples(slot, "silencing")?;
                }
                self.ch_mut(slot).set_filter(filter);
            }
            Command::Bridge { a, b } => {
                if a == b {
                    return Err(CommandError::BridgeToItself);
                }
                let (sa, sb) = (self.slot(a)?, self.slot(b)?);
                self.detach(sa);
                self.detach(sb);
                self.ch_mut(sa).set_peer(Some(sb));
                self.ch_mut(sb).set_peer(Some(sa));
            }
            Command::Unbridge { channel } => {
                let slot = self.slot(channel)?;
                self.unbridge(slot);
            }
            Command::QueryStats { channel } => {
                let slot = self.slot(channel)?;
                let stats = self.ch_mut(slot).snapshot_stats();
                self.events.push_back(Event::Stats { channel, stats });
            }
            Command::DestroyChannel { channel } => self.destroy_channel(channel)?,
            Command::CreateRoom { room, options } => {
                if self.rooms.contains(room) {
                    return Err(CommandError::RoomExists(room));
                }
                self.create_room(room, options);
            }
            Command::JoinRoom {
                room,
                channel,
                options,
            } => {
                let rs = self.room_slot(room)?;
                let slot = self.slot(channel)?;
                self.needs_samples(slot, "a room")?;
                self.join(rs, slot, options);
            }
            Command::LeaveRoom { channel } => {
                let slot = self.slot(channel)?;
                if self.ch_mut(slot).room().is_none() {
                    return Err(CommandError::NotInRoom(channel));
                }
                self.leave_room(slot);
            }
            Command::DestroyRoom { room } => {
                let rs = self.room_slot(room)?;
                let slots: Vec<u32> = self
                    .rooms
                    .get(rs)
                    .map(|r| r.slots().collect())
                    .unwrap_or_default();
                for slot in slots {
                    self.leave_room(slot);
                }
                self.rooms.remove(rs);
            }
            Command::Supervise {
                agent,
                supervisor,
                mode,
                room,
            } => self.supervise(agent, supervisor, mode, room)?,
            Command::StartTap { tap, target, spec } => {
                self.start_tap(tap, target, TapSink::File(spec))?
            }
            Command::StartFork { tap, target, spec } => {
                self.start_tap(tap, target, TapSink::Fork(spec))?
            }
            Command::PauseTap { tap, paused } => {
                let ts = self.tap_slot(tap)?;
                if let Some(t) = self.taps.get_mut(ts) {
                    t.set_paused(paused);
                }
            }
            Command::StopTap { tap } => {
                let ts = self.tap_slot(tap)?;
                self.remove_tap(ts);
            }
            Command::Play { target, spec } => match target {
                PlayTarget::Channel(c) => {
                    let slot = self.slot(c)?;
                    self.needs_samples(slot, "a player")?;
                    let ch = self.ch_mut(slot);
                    let player = Player::new(spec, ch.has_telephone_events());
                    if let Some(old) = ch.play(player) {
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
                    if let Some(room) = self.rooms.get_mut(rs) {
                        room.play(Player::new(spec, false), &mut self.events);
                    }
                }
            },
            Command::StopPlay { target } => {
                let stopped = match target {
                    PlayTarget::Channel(c) => {
                        let slot = self.slot(c)?;
                        self.ch_mut(slot).stop_player()
                    }
                    PlayTarget::Room(r) => {
                        let rs = self.room_slot(r)?;
                        self.rooms.get_mut(rs).and_then(Room::stop_player)
                    }
                };
                let p = stopped.ok_or(CommandError::NothingPlaying)?;
                self.events.push_back(Event::PlayFinished {
                    target,
                    interrupted: true,
                    position_ms: p.position_ms(),
                });
            }
        }
        Ok(())
    }

    fn slot(&self, channel: ChannelId) -> Result<u32, CommandError> {
        self.channels.slot(channel).ok_or(CommandError::NoChannel {
            channel,
            shard: self.cfg.index,
        })
    }

    fn room_slot(&self, room: RoomId) -> Result<u32, CommandError> {
        self.rooms.slot(room).ok_or(CommandError::NoRoom {
            room,
            shard: self.cfg.index,
        })
    }

    fn tap_slot(&self, tap: TapId) -> Result<u32, CommandError> {
        self.taps.slot(tap).ok_or(CommandError::NoTap {
            tap,
            shard: self.cfg.index,
        })
    }

    /// Refuses `feature` for a channel that relays its codec without decoding it.
    fn needs_samples(&mut self, slot: u32, feature: &'static str) -> Result<(), CommandError> {
        let ch = self.ch_mut(slot);
        if ch.codec().is_passthrough() {
            return Err(CommandError::PassThrough {
                channel: ch.id(),
                feature,
            });
        }
        Ok(())
    }

    /// Refuses a pass-through codec for a channel that uses its samples.
    fn decodes(&mut self, slot: u32) -> Result<(), CommandError> {
        let ch = self.ch_mut(slot);
        match ch.uses_samples() {
            Some(feature) => Err(CommandError::PassThrough {
                channel: ch.id(),
                feature,
            }),
            None => Ok(()),
        }
    }

    fn ch_mut(&mut self, slot: u32) -> &mut Channel {
        self.channels.get_mut(slot).expect("slot of a live channel")
    }

    /// Refuses a remote that is one of the engine's own sockets: media would loop.
    fn check_remote(&self, remote: SocketAddr) -> Result<(), CommandError> {
        match &self.cfg.own {
            Some(own) if own.contains(remote) => Err(CommandError::OwnAddress(remote)),
            _ => Ok(()),
        }
    }

    fn destroy_channel(&mut self, channel: ChannelId) -> Result<(), CommandError> {
        let slot = self.slot(channel)?;
        self.detach(slot);
        for ts in self.ch_mut(slot).take_taps() {
            if let Some(t) = self.taps.get_mut(ts) {
                t.forget(channel);
            }
        }
        let ch = self.channels.remove(slot).expect("slot of a live id");
        let port = ch.port();
        for p in std::iter::once(port).chain(ch.rtcp_port().filter(|&p| p != port)) {
            self.ports.clear(p);
            self.released_ports.push(p);
        }
        self.events.push_back(Event::ChannelClosed {
            channel,
            stats: ch.snapshot_stats(),
        });
        Ok(())
    }

    fn create_room(&mut self, id: RoomId, options: RoomOptions) -> u32 {
        self.rooms
            .insert(id, Room::new(id, options, self.pcm.len()))
    }

    /// Puts channel `slot` into room `rs` (leaving its bridge or other room).
    fn join(&mut self, rs: u32, slot: u32, options: ParticipantOptions) {
        if self.ch_mut(slot).room() != Some(rs) {
            self.detach(slot);
            self.ch_mut(slot).enter_room(rs);
        }
        let id = self.ch_mut(slot).id();
        if let Some(r) = self.rooms.get_mut(rs) {
            r.join(slot, id, options);
        }
    }

    fn leave_room(&mut self, slot: u32) {
        if let Some(rs) = self.ch_mut(slot).leave_room() {
            if let Some(r) = self.rooms.get_mut(rs) {
                r.leave(slot);
            }
        }
    }

    /// Leaves whatever the channel is connected to.
    fn detach(&mut self, slot: u32) {
        self.unbridge(slot);
        self.leave_room(slot);
    }

    fn unbridge(&mut self, slot: u32) {
        let ch = self.ch_mut(slot);
        if let Some(peer) = ch.peer() {
            ch.set_peer(None);
            if let Some(p) = self.channels.get_mut(peer) {
                p.set_peer(None);
            }
        }
    }

    fn supervise(
        &mut self,
        agent: ChannelId,
        supervisor: ChannelId,
        mode: SuperviseMode,
        room: RoomId,
    ) -> Result<(), CommandError> {
        let sa = self.slot(agent)?;
        let ss = self.slot(supervisor)?;
        if sa == ss {
            return Err(CommandError::SuperviseItself);
        }
        for slot in [Some(sa), Some(ss), self.ch_mut(sa).peer()]
            .into_iter()
            .flatten()
        {
            self.needs_samples(slot, "supervision (a room)")?;
        }
        let (in_room, peer) = (self.ch_mut(sa).room(), self.ch_mut(sa).peer());
        let rs = match (in_room, peer) {
            (Some(rs), _) => rs,
            (None, Some(caller)) => {
                // Turn the two-party bridge into a room; both output streams continue.
                let rs = match self.rooms.slot(room) {
                    Some(rs) => rs,
                    None => self.create_room(room, RoomOptions::default()),
                };
                self.join(rs, sa, ParticipantOptions::default());
                self.join(rs, caller, ParticipantOptions::default());
                rs
            }
            (None, None) => return Err(CommandError::NotInCall(agent)),
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

    fn start_tap(
        &mut self,
        id: TapId,
        target: TapTarget,
        sink: TapSink,
    ) -> Result<(), CommandError> {
        if self.taps.contains(id) {
            return Err(CommandError::TapExists(id));
        }
        let slots: Vec<u32> = match target {
            TapTarget::Channel(c) => {
                let slot = self.slot(c)?;
                std::iter::once(slot)
                    .chain(self.ch_mut(slot).peer())
                    .collect()
            }
            TapTarget::Room(r) => {
                let rs = self.room_slot(r)?;
                self.rooms
                    .get(rs)
                    .map(|r| r.slots().collect())
                    .unwrap_or_default()
            }
        };
        for &slot in &slots {
            self.needs_samples(slot, "recording")?;
        }
        let recorded: Vec<ChannelId> = slots.iter().map(|&s| self.ch_mut(s).id()).collect();
        let (tap, handoff) = Tap::new(id, sink, &recorded, self.pcm.len());
        let ts = self.taps.insert(id, tap);
        for &slot in &slots {
            self.ch_mut(slot).add_tap(ts);
        }
        self.handoffs.push(handoff);
        Ok(())
    }

    /// Drops a recording's shard side; its writer then finishes the file.
    pub(super) fn remove_tap(&mut self, ts: u32) {
        let Some(tap) = self.taps.remove(ts) else {
            return;
        };
        for channel in tap.channels() {
            if let Some(slot) = self.channels.slot(channel) {
                self.ch_mut(slot).remove_tap(ts);
            }
        }
    }
}
