//! Conference rooms: N-party mixing on the shard tick.
//!
//! A room holds channel slots of its shard. Each tick it takes one frame from every
//! participant's jitter buffer, decides who contributes (not muted, audio present, and, with
//! the VAD gate, speaking; optionally only the K loudest), mixes with [`mix`], and sends each
//! listener its frame on the listener's own continuous output stream. Supervisor modes are
//! participant options: *listen* is muted, *whisper* contributes only to one target, *barge*
//! is an ordinary participant.

pub mod mix;

use std::collections::VecDeque;

use tandem_codecs::g711::{self, Law};
use tandem_codecs::vad::{Vad, VadEvent, frame_dbov};

use crate::channel::tx::FeedKey;
use crate::channel::{Channel, Writer};
use crate::event::Event;
use crate::ids::{ChannelId, RoomId};
use crate::jitter::PopOutcome;
use crate::player::{Player, Produced};
use crate::slab::Slab;
use crate::spec::{ParticipantOptions, PlayTarget, RoomOptions};
use crate::time::Micros;
use crate::transmit::TransmitQueue;

/// Ticks a new loudest talker must hold before the active speaker changes (100 ms).
const SPEAKER_HOLD_TICKS: u32 = 5;

struct Participant {
    slot: u32,
    channel: ChannelId,
    opts: ParticipantOptions,
    gain: i32,
    vad: Vad,
    input: Vec<i16>,
    dbov: f64,
    contributes: bool,
    /// Index of the whisper target among the participants, resolved each tick.
    whisper_target: Option<usize>,
    whisper_in: Vec<i32>,
    has_whisper: bool,
}

/// A room's state.
pub(crate) struct Room {
    id: RoomId,
    opts: RoomOptions,
    participants: Vec<Participant>,
    sum: Vec<i32>,
    pcm: Vec<i16>,
    encoded: Vec<u8>,
    shared: [Vec<u8>; 2],
    shared_valid: [bool; 2],
    order: Vec<usize>,
    speaker: Option<ChannelId>,
    candidate: Option<(ChannelId, u32)>,
    player: Option<Player>,
    player_frame: Vec<i16>,
}

fn law_index(law: Law) -> usize {
    match law {
        Law::Ulaw => 0,
        Law::Alaw => 1,
    }
}

impl Room {
    /// An empty room mixing `samples` per tick.
    pub fn new(id: RoomId, opts: RoomOptions, samples: usize) -> Room {
        Room {
            id,
            opts,
            participants: Vec::new(),
            sum: vec![0; samples],
            pcm: vec![0; samples],
            encoded: vec![0; samples],
            shared: [vec![0; samples], vec![0; samples]],
            shared_valid: [false; 2],
            order: Vec::new(),
            speaker: None,
            candidate: None,
            player: None,
            player_frame: vec![0; samples],
        }
    }

    /// Slots of the participants.
    pub fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.participants.iter().map(|p| p.slot)
    }

    /// Adds (or updates) a participant.
    pub fn join(&mut self, slot: u32, channel: ChannelId, opts: ParticipantOptions) {
        if let Some(p) = self.participants.iter_mut().find(|p| p.slot == slot) {
            p.opts = opts;
            p.gain = mix::gain_q12(opts.gain_db);
            return;
        }
        let n = self.sum.len();
        self.participants.push(Participant {
            slot,
            channel,
            opts,
            gain: mix::gain_q12(opts.gain_db),
            vad: Vad::new(self.opts.vad),
            input: vec![0; n],
            dbov: f64::NEG_INFINITY,
            contributes: false,
            whisper_target: None,
            whisper_in: Vec::new(),
            has_whisper: false,
        });
    }

    /// Starts a player into the room (everyone hears it), replacing any other.
    pub fn play(&mut self, player: Player, events: &mut VecDeque<Event>) {
        if let Some(old) = self.player.replace(player) {
            events.push_back(Event::PlayFinished {
                target: PlayTarget::Room(self.id),
                interrupted: true,
                position_ms: old.position_ms(),
            });
        }
    }

    /// Stops the room's player, returning it.
    pub fn stop_player(&mut self) -> Option<Player> {
        self.player.take()
    }

    /// Removes a participant. Returns whether it was there.
    pub fn leave(&mut self, slot: u32) -> bool {
        let before = self.participants.len();
        self.participants.retain(|p| p.slot != slot);
        before != self.participants.len()
    }

    /// One tick: pull a frame from every participant, mix, and queue every listener's frame.
    pub fn tick(
        &mut self,
        now: Micros,
        channels: &mut Slab<ChannelId, Channel>,
        transmits: &mut TransmitQueue,
        events: &mut VecDeque<Event>,
    ) {
        // Nobody to hear anybody (and nothing playing): leave the buffers alone (they
        // resynchronise when the room fills) and spend nothing.
        if self.participants.is_empty() || (self.participants.len() < 2 && self.player.is_none()) {
            return;
        }
        self.gather(now, channels, events);
        self.select_top_k();
        self.sum_contributions();
        self.add_player(events);
        self.update_speaker(events);
        self.send(now, channels, transmits);
    }

    fn gather(
        &mut self,
        now: Micros,
        channels: &mut Slab<ChannelId, Channel>,
        events: &mut VecDeque<Event>,
    ) {
        let gate = self.opts.vad_gate;
        let off = self.opts.vad.off_dbov;
        for p in &mut self.participants {
            let Some(ch) = channels.get_mut(p.slot) else {
                p.contributes = false;
                continue;
            };
            let has_input = ch
                .pop_received(now, &mut p.input)
                .is_some_and(|o| o != PopOutcome::Silence);
            if !has_input {
                p.input.fill(0);
            }
            p.dbov = if has_input {
                frame_dbov(&p.input)
            } else {
                f64::NEG_INFINITY
            };
            match p.vad.push_frame(&p.input) {
                Some(VadEvent::SpeechStart(_)) => events.push_back(Event::TalkStart {
                    room: self.id,
                    channel: p.channel,
                }),
                Some(VadEvent::SpeechStop(_)) => events.push_back(Event::TalkStop {
                    room: self.id,
                    channel: p.channel,
                }),
                None => {}
            }
            p.contributes =
                !p.opts.mute && has_input && (!gate || p.vad.is_speaking() || p.dbov > off);
        }
    }

    fn select_top_k(&mut self) {
        let Some(k) = self.opts.top_k else {
            return;
        };
        self.order.clear();
        self.order
            .extend((0..self.participants.len()).filter(|&i| self.participants[i].contributes));
        if self.order.len() <= k {
            return;
        }
        let ps = &self.participants;
        self.order
            .sort_unstable_by(|&a, &b| ps[b].dbov.total_cmp(&ps[a].dbov));
        for &i in &self.order[k..] {
            self.participants[i].contributes = false;
        }
    }

    fn sum_contributions(&mut self) {
        self.sum.fill(0);
        for p in &mut self.participants {
            p.has_whisper = false;
        }
        for i in 0..self.participants.len() {
            let target = self.participants[i]
                .opts
                .whisper_to
                .and_then(|t| self.participants.iter().position(|q| q.channel == t));
            self.participants[i].whisper_target = target;
            let p = &self.participants[i];
            if !p.contributes {
                continue;
            }
            match (p.opts.whisper_to, target) {
                (None, _) => mix::accumulate(&mut self.sum, &p.input, p.gain),
                (Some(_), Some(t)) if t != i => {
                    let n = self.sum.len();
                    let (p, q) = if t < i {
                        let (left, right) = self.participants.split_at_mut(i);
                        (&right[0], &mut left[t])
                    } else {
                        let (left, right) = self.participants.split_at_mut(t);
                        (&left[i], &mut right[0])
                    };
                    if !q.has_whisper {
                        q.whisper_in.clear();
                        q.whisper_in.resize(n, 0);
                        q.has_whisper = true;
                    }
                    mix::accumulate(&mut q.whisper_in, &p.input, p.gain);
                }
                // Whispering to someone not in the room (or to oneself): heard by no one.
                (Some(_), _) => {}
            }
        }
    }

    /// Mixes the room's player in: part of what every listener hears, nobody's own voice.
    fn add_player(&mut self, events: &mut VecDeque<Event>) {
        let Some(p) = self.player.as_mut() else {
            return;
        };
        match p.next(&mut self.player_frame) {
            Produced::Audio => mix::accumulate(&mut self.sum, &self.player_frame, mix::UNITY_Q12),
            Produced::Event { .. } => {}
            Produced::Done => {
                let p = self.player.take().expect("playing");
                events.push_back(Event::PlayFinished {
                    target: PlayTarget::Room(self.id),
                    interrupted: false,
                    position_ms: p.position_ms(),
                });
            }
        }
    }

    fn update_speaker(&mut self, events: &mut VecDeque<Event>) {
        let loudest = self
            .participants
            .iter()
            .filter(|p| p.contributes && p.vad.is_speaking())
            .max_by(|a, b| a.dbov.total_cmp(&b.dbov))
            .map(|p| p.channel);
        if loudest == self.speaker || loudest.is_none() {
            self.candidate = None;
            return;
        }
        let held = match self.candidate {
            Some((c, n)) if Some(c) == loudest => n + 1,
            _ => 1,
        };
        self.candidate = loudest.map(|c| (c, held));
        if held >= SPEAKER_HOLD_TICKS || self.speaker.is_none() {
            self.speaker = loudest;
            self.candidate = None;
            events.push_back(Event::ActiveSpeaker {
                room: self.id,
                channel: loudest,
            });
        }
    }

    fn send(
        &mut self,
        now: Micros,
        channels: &mut Slab<ChannelId, Channel>,
        transmits: &mut TransmitQueue,
    ) {
        self.shared_valid = [false; 2];
        let key = FeedKey {
            source: self.id.0 | ROOM_FEED_BIT,
            epoch: 0,
        };
        let samples = self.sum.len() as u32;
        for p in &self.participants {
            if p.opts.deaf {
                continue;
            }
            let Some(out) = channels
                .get_mut(p.slot)
                .and_then(|c| c.output(Writer::Room))
            else {
                continue;
            };
            let codec = out.codec();
            let own_in_sum = p.contributes && p.opts.whisper_to.is_none();
            let payload: &[u8] = if !own_in_sum && !p.has_whisper {
                // Heard the room without contributing: one shared encoding per law.
                let li = law_index(codec.law);
                if !self.shared_valid[li] {
                    mix::saturate(&self.sum, &mut self.pcm);
                    g711::encode_frame(codec.law, &self.pcm, &mut self.shared[li]);
                    self.shared_valid[li] = true;
                }
                &self.shared[li]
            } else {
                let own = own_in_sum.then_some((p.input.as_slice(), p.gain));
                let extra = p.has_whisper.then_some(p.whisper_in.as_slice());
                mix::listener_frame(&self.sum, own, extra, &mut self.pcm);
                g711::encode_frame(codec.law, &self.pcm, &mut self.encoded);
                &self.encoded
            };
            out.encoded_frame(now, key, samples, payload, transmits);
        }
    }
}

/// Marks a feed key as a room's (room ids and channel ids share the number space).
const ROOM_FEED_BIT: u64 = 1 << 47;
