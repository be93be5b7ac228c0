//! What the handle does when a shard's queue is full, how statistics are read, and
//! barriers.
//!
//! Each shard drains its whole queue at every turn of its loop (at least once a tick), so
//! the queue fills only in a burst or when the shard is stalled. Most commands then fail at
//! once with [`EngineError::QueueFull`] (media never waits for control). Commands that
//! release something ([`Command::is_teardown`](crate::Command::is_teardown): destroy, stop a recording, leave a room,
//! unbridge) must not be lost, or a deleted call would leave a live channel behind holding
//! its ports and sockets. For those the handle applies back-pressure: it wakes the shard
//! and waits for room, up to [`EngineBuilder::control_wait`](super::EngineBuilder::control_wait). Waiting in the same queue
//! keeps every command of a shard in the order it was given (a second, priority lane
//! would let a destroy overtake the create it undoes). If the wait runs out the command
//! is not queued and the caller gets `QueueFull` to retry later; both outcomes are counted
//! (`ShardThreadStats::control_waits`, `control_timeouts`).
//!
//! Statistics are read with [`Engine::read_stats`]: one request per shard touched,
//! answered by the shard thread at its next turn with the counters as they are then.
//!
//! A barrier ([`Engine::barrier`]) goes into every shard's queue behind the commands given
//! before it; each shard answers once it has applied them and passed on their events.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::{SendTimeoutError, TrySendError, bounded};

use super::Engine;
use crate::driver::thread::Message;
use crate::error::EngineError;
use crate::ids::ChannelId;
use crate::stats::ChannelStats;

impl Engine {
    /// Queues a message that must not be dropped for a full queue: wakes the shard so it
    /// drains, and waits for room up to `control_wait` (see the module docs).
    pub(super) fn send_waiting(&self, shard: usize, msg: Message) -> Result<(), EngineError> {
        let h = &self.shards[shard];
        let Some(control) = h.messages.as_ref() else {
            return Err(EngineError::ShutDown);
        };
        let msg = match control.try_send(msg) {
            Ok(()) => {
                h.waker.wake();
                return Ok(());
            }
            Err(TrySendError::Full(msg)) => msg,
            Err(TrySendError::Disconnected(_)) => return Err(EngineError::ShutDown),
        };
        h.counters.control_waits.fetch_add(1, Ordering::Relaxed);
        h.waker.wake();
        match control.send_timeout(msg, self.control_wait) {
            Ok(()) => {
                h.waker.wake();
                Ok(())
            }
            Err(SendTimeoutError::Timeout(_)) => {
                h.counters.control_timeouts.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    shard,
                    wait_ms = self.control_wait.as_millis() as u64,
                    "shard command queue stayed full"
                );
                Err(EngineError::QueueFull(shard))
            }
            Err(SendTimeoutError::Disconnected(_)) => Err(EngineError::ShutDown),
        }
    }

    /// The counters of `channels`, read now: one request to each shard they live on,
    /// answered by its thread at its next turn (within a tick). Channels that no longer
    /// exist are left out; the rest come in the order given. Fails if a shard does not
    /// answer within the control wait.
    pub fn read_stats(
        &self,
        channels: &[ChannelId],
    ) -> Result<Vec<(ChannelId, ChannelStats)>, EngineError> {
        let mut per_shard: Vec<Vec<ChannelId>> = vec![Vec::new(); self.shards.len()];
        for &c in channels {
            per_shard
                .get_mut(c.shard())
                .ok_or(EngineError::NoShard(c.shard()))?
                .push(c);
        }
        let mut waiting = Vec::new();
        for (shard, ids) in per_shard.into_iter().enumerate() {
            if ids.is_empty() {
                continue;
            }
            let (reply, answer) = bounded(1);
            self.send_waiting(
                shard,
                Message::ReadStats {
                    channels: ids,
                    reply,
                },
            )?;
            waiting.push((shard, answer));
        }
        let deadline = Instant::now() + self.control_wait;
        let mut found = Vec::with_capacity(channels.len());
        for (shard, answer) in waiting {
            let part = answer
                .recv_deadline(deadline)
                .map_err(|_| EngineError::Timeout(shard))?;
            found.extend(part);
        }
        if self.shards.len() > 1 {
            // Back into the order asked.
            let rank: HashMap<ChannelId, usize> =
                channels.iter().enumerate().map(|(i, &c)| (c, i)).collect();
            found.sort_by_key(|(c, _)| rank.get(c).copied().unwrap_or(usize::MAX));
        }
        Ok(found)
    }

    /// Returns once every shard has applied the commands given before and passed on the
    /// events they caused (see the module docs). Fails if a shard does not answer within
    /// the control wait.
    pub fn barrier(&self) -> Result<(), EngineError> {
        let mut waiting = Vec::with_capacity(self.shards.len());
        for shard in 0..self.shards.len() {
            let (reply, answer) = bounded(1);
            self.send_waiting(shard, Message::Barrier { reply })?;
            waiting.push((shard, answer));
        }
        let deadline = Instant::now() + self.control_wait;
        for (shard, answer) in waiting {
            answer
                .recv_deadline(deadline)
                .map_err(|_| EngineError::Timeout(shard))?;
        }
        Ok(())
    }
}
