//! The shard's side of the kernel fast path (see [`crate::offload`]): finding directions to
//! hand over, holding back commands that need a stream back, and taking in what the
//! kernel did.

use std::net::Ipv4Addr;

use tandem_kfwd::StreamCounters;

use super::Shard;
use crate::command::Command;
use crate::ids::{ChannelId, RequestId};
use crate::offload::{
    COOLDOWN, KernelClock, OffloadRequest, OffloadTotals, READ_INTERVAL, SCAN_PER_TICK, Seen,
    State, Stream, channels_of, decide,
};
use crate::time::Micros;

impl Shard {
    /// Lets this shard hand pass-through directions to a kernel forwarder, for media bound
    /// to `bind`. The driver then executes [`take_offload_requests`](Shard::take_offload_requests)
    /// after every turn.
    pub fn enable_kernel_forwarding(&mut self, bind: Ipv4Addr) {
        self.offload.bind = Some(bind);
    }

    /// What the shard wants done with the kernel forwarder.
    pub fn take_offload_requests(&mut self) -> Vec<OffloadRequest> {
        std::mem::take(&mut self.offload.requests)
    }

    /// Kernel forwarding counters of this shard.
    pub fn offload_totals(&self) -> OffloadTotals {
        OffloadTotals {
            streams: self
                .offload
                .streams
                .values()
                .filter(|s| s.state != State::Adding)
                .count() as u64,
            ..self.offload.totals
        }
    }

    /// The answer to [`OffloadRequest::Add`]: the stream's handle bits, or why the kernel
    /// refused it (the direction stays in userspace for a while).
    pub fn offload_added(&mut self, now: Micros, channel: ChannelId, result: Result<u64, String>) {
        let o = &mut self.offload;
        match result {
            Ok(bits) => {
                if let Some(s) = o.streams.get_mut(&channel) {
                    s.state = State::Kernel(bits);
                    s.next_read = now + s.read_every;
                    o.totals.added += 1;
                    if let Some(ch) = self
                        .channels
                        .slot(channel)
                        .and_then(|x| self.channels.get_mut(x))
                    {
                        ch.set_kernel_held(true);
                    }
                }
            }
            Err(reason) => {
                tracing::debug!(%channel, %reason, "kernel refused the stream");
                o.streams.remove(&channel);
                o.cooldown.insert(channel, now + COOLDOWN);
                o.totals.refused += 1;
            }
        }
    }

    /// The answer to [`OffloadRequest::Remove`]: the kernel's last counters, taken in so
    /// the stream continues in userspace where the kernel left it.
    pub fn offload_removed(
        &mut self,
        clock: KernelClock,
        channel: ChannelId,
        result: Result<StreamCounters, String>,
    ) {
        let Some(mut s) = self.offload.streams.remove(&channel) else {
            return;
        };
        self.offload.totals.removed += 1;
        if let Some(ch) = self
            .channels
            .slot(channel)
            .and_then(|x| self.channels.get_mut(x))
        {
            ch.set_kernel_held(false);
        }
        match result {
            Ok(c) => self.take_in(clock, channel, &mut s, &c),
            Err(reason) => tracing::warn!(%channel, %reason, "kernel stream lost"),
        }
    }

    /// The answer to [`OffloadRequest::Read`].
    pub fn offload_read(
        &mut self,
        clock: KernelClock,
        channel: ChannelId,
        result: Result<StreamCounters, String>,
    ) {
        let Some(mut s) = self.offload.streams.get(&channel).copied() else {
            return;
        };
        let State::Reading(bits) = s.state else {
            return;
        };
        s.state = State::Kernel(bits);
        s.next_read = clock.now + s.read_every;
        match result {
            Ok(c) => {
                self.take_in(clock, channel, &mut s, &c);
                // A source silent for the latching idle time may be replaced: that is
                // userspace's to judge, with the packets of the newcomer.
                let quiet = self
                    .channels
                    .slot(channel)
                    .and_then(|x| self.channels.get(x))
                    .is_none_or(|ch| ch.source_idle(clock.now));
                if s.seen.media_passed_up(&c) || quiet {
                    self.reclaim(clock.now, channel, &mut s);
                }
            }
            Err(reason) => {
                tracing::warn!(%channel, %reason, "kernel stream counters unreadable");
                self.reclaim(clock.now, channel, &mut s);
            }
        }
        self.offload.streams.insert(channel, s);
    }

    /// After the driver answered every request: applies the commands held back, in order,
    /// as far as no stream they touch is still on its way.
    pub fn offload_settled(&mut self, now: Micros) {
        while !self.offload.in_flight() {
            let Some((request, cmd)) = self.offload.deferred.pop_front() else {
                return;
            };
            // A query held back for a read has its fresh counters now.
            let query = matches!(cmd, Command::QueryStats { .. });
            if !query && self.needs_streams_back(now, &cmd) {
                self.offload.deferred.push_front((request, cmd));
                return;
            }
            self.handle_command_now(now, request, cmd);
        }
    }

    /// Holds back a command while streams it touches are in the kernel (asking for them
    /// back), or while earlier ones are held back. Returns it if it may run now.
    pub(super) fn offload_intercept(
        &mut self,
        now: Micros,
        request: RequestId,
        cmd: Command,
    ) -> Option<Command> {
        if !self.offload.busy() {
            return Some(cmd);
        }
        if self.offload.deferred.is_empty() && !self.needs_streams_back(now, &cmd) {
            return Some(cmd);
        }
        self.offload.deferred.push_back((request, cmd));
        None
    }

    /// Asks for the streams `cmd` touches back (a fresh read for a statistics query);
    /// true if any is in the kernel or on its way.
    fn needs_streams_back(&mut self, now: Micros, cmd: &Command) -> bool {
        let query = matches!(cmd, Command::QueryStats { .. });
        let mut wait = false;
        for c in channels_of(cmd).into_iter().flatten() {
            let peer = self
                .channels
                .slot(c)
                .and_then(|s| self.channels.get(s))
                .and_then(|ch| ch.peer())
                .and_then(|p| self.channels.get(p))
                .map(|ch| ch.id());
            for key in std::iter::once(c).chain(peer) {
                let Some(mut s) = self.offload.streams.get(&key).copied() else {
                    continue;
                };
                if query && key != c {
                    continue;
                }
                wait = true;
                match s.state {
                    State::Kernel(bits) if query => {
                        s.state = State::Reading(bits);
                        self.offload.requests.push(OffloadRequest::Read {
                            channel: key,
                            stream: bits,
                        });
                    }
                    State::Kernel(_) => self.reclaim(now, key, &mut s),
                    _ => {}
                }
                self.offload.streams.insert(key, s);
            }
        }
        wait
    }

    fn reclaim(&mut self, now: Micros, channel: ChannelId, s: &mut Stream) {
        if let State::Kernel(bits) = s.state {
            s.state = State::Removing(bits);
            self.offload.requests.push(OffloadRequest::Remove {
                channel,
                stream: bits,
            });
            self.offload.cooldown.insert(channel, now + COOLDOWN);
        }
    }

    /// Takes the kernel's counters into both channels of the direction.
    fn take_in(
        &mut self,
        clock: KernelClock,
        channel: ChannelId,
        s: &mut Stream,
        c: &StreamCounters,
    ) {
        let p = s.seen.take(c, clock);
        self.offload.totals.packets += p.packets;
        if let Some(ch) = self
            .channels
            .slot(channel)
            .and_then(|x| self.channels.get_mut(x))
        {
            ch.received_in_kernel(s.rx, &p);
            ch.dropped_in_kernel(p.wrong_source);
        }
        if let Some(ch) = self
            .channels
            .slot(s.to)
            .and_then(|x| self.channels.get_mut(x))
        {
            ch.sent_in_kernel(&p);
        }
    }

    /// The tick's share: reads due, streams whose source changed in userspace come back, and
    /// a slice of the channels is looked at for offloading.
    pub(super) fn offload_tick(&mut self, now: Micros) {
        let Some(bind) = self.offload.bind else {
            return;
        };
        let o = &mut self.offload;
        for (&key, s) in o.streams.iter_mut() {
            let State::Kernel(bits) = s.state else {
                continue;
            };
            // Packets queued on the socket before the hand-over are still the shard's to
            // forward (with the same offsets); a new source, SSRC or epoch is not.
            let now_rx = self
                .channels
                .slot(key)
                .and_then(|x| self.channels.get(x))
                .and_then(|ch| ch.rx_position());
            let same = now_rx.is_some_and(|r| {
                (r.confirmed, r.ssrc, r.epoch) == (s.rx.confirmed, s.rx.ssrc, s.rx.epoch)
            });
            if !same {
                s.state = State::Removing(bits);
                o.requests.push(OffloadRequest::Remove {
                    channel: key,
                    stream: bits,
                });
                o.cooldown.insert(key, now + COOLDOWN);
            } else if now >= s.next_read {
                s.state = State::Reading(bits);
                o.requests.push(OffloadRequest::Read {
                    channel: key,
                    stream: bits,
                });
            }
        }
        self.offload.cooldown.retain(|_, until| *until > now);
        let bound = self.channels.slot_bound();
        if bound == 0 {
            return;
        }
        for _ in 0..SCAN_PER_TICK.min(bound) {
            let slot = self.offload.cursor % bound;
            self.offload.cursor = self.offload.cursor.wrapping_add(1) % bound;
            self.consider(now, bind, slot);
        }
    }

    /// Looks at the direction received by the channel in `slot`.
    fn consider(&mut self, _now: Micros, bind: Ipv4Addr, slot: u32) {
        let Some(a) = self.channels.get(slot) else {
            return;
        };
        let id = a.id();
        if self.offload.streams.contains_key(&id) || self.offload.cooldown.contains_key(&id) {
            return;
        }
        let Some(b) = a.peer().and_then(|p| self.channels.get(p)) else {
            return;
        };
        let from = a.leg_facts(Some(b.id()));
        let to = b.leg_facts(b.peer().and_then(|p| self.channels.get(p)).map(|c| c.id()));
        let Some(rx) = from.rx else {
            return;
        };
        let feed = b.feed_offsets_from(id, rx.epoch);
        let Ok(plan) = decide(&from, &to, feed, bind) else {
            return;
        };
        self.offload.streams.insert(
            id,
            Stream {
                state: State::Adding,
                to: to.id,
                rx,
                seen: Seen::default(),
                next_read: Micros::ZERO,
                read_every: a.kernel_read_interval(READ_INTERVAL),
            },
        );
        self.offload.requests.push(OffloadRequest::Add {
            channel: id,
            plan: Box::new(plan),
        });
    }
}
