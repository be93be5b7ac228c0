//! The shard's tick: all periodic work, once per period for every object, so idle channels
//! cost a few comparisons per tick and there are no per-channel timers.
//!
//! In order: each channel's own work (media timeout, RTCP report, digit collection, its
//! player) and, for a buffered channel in a bridge, one frame of playout into its peer;
//! then each recording's frame; then each room's mix.

use super::Shard;
use crate::channel::Writer;
use crate::channel::tx::FeedKey;
use crate::event::Event;
use crate::time::Micros;

/// The tick-driven playout feed's epoch: constant, because the jitter buffer's output is
/// continuous across the source's own discontinuities.
const PLAYOUT_EPOCH: u32 = u32::MAX;

impl Shard {
    /// Runs the periodic work if its deadline has come. Ticks missed by more than a period
    /// are skipped and reported (`Event::TickOverrun`), not replayed in a burst; a call
    /// before the deadline does nothing.
    pub fn tick(&mut self, now: Micros) {
        if now < self.next_tick {
            return;
        }
        let missed = (now - self.next_tick) / self.cfg.tick;
        if missed > 0 {
            self.stats.ticks_missed += missed;
            self.events.push_back(Event::TickOverrun {
                shard: self.cfg.index,
                missed,
            });
        }
        self.next_tick += self.cfg.tick * (missed + 1);
        self.stats.ticks += 1;
        let ntp = self.ntp(now);
        for slot in 0..self.channels.slot_bound() {
            let Some(ch) = self.channels.get_mut(slot) else {
                continue;
            };
            let reported = ch.tick(
                now,
                ntp,
                &mut self.rng,
                &mut self.pcm,
                &mut self.transmits,
                &mut self.events,
            );
            if reported {
                self.stats.datagrams_out += 1;
            }
            // Playout: a buffered channel feeds one frame per tick to its peer. Played,
            // concealed or silent, the outgoing stream stays continuous.
            let Some(peer) = ch.peer() else {
                continue;
            };
            if ch.pop_received(now, &mut self.pcm).is_none() {
                continue; // no buffer, or nothing to play before the first packet
            }
            let key = FeedKey {
                source: ch.id().0,
                epoch: PLAYOUT_EPOCH,
            };
            let Some(out) = self
                .channels
                .get_mut(peer)
                .and_then(|c| c.output(Writer::Peer))
            else {
                continue;
            };
            out.frame(now, key, &self.pcm, &mut self.transmits);
            self.stats.datagrams_out += 1;
        }
        for ts in 0..self.taps.slot_bound() {
            let gone = match self.taps.get_mut(ts) {
                Some(t) if t.writer_gone() => true,
                Some(t) => {
                    t.tick(now, &mut self.events);
                    false
                }
                None => false,
            };
            if gone {
                self.remove_tap(ts);
            }
        }
        self.offload_tick(now);
        for room in self.rooms.values_mut() {
            let before = self.transmits.len();
            room.tick(
                now,
                &mut self.channels,
                &mut self.transmits,
                &mut self.events,
            );
            self.stats.datagrams_out += (self.transmits.len() - before) as u64;
        }
    }
}
