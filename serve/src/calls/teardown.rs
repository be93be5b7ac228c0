//! The teardown commands waiting to reach the engine.
//!
//! The call table speaks to any [`MediaEngine`]: the threaded engine in the daemon, the
//! in-memory one in tests.

use std::collections::VecDeque;

use tandem_engine::{Command, EngineError, MediaEngine};

use super::Totals;

/// Teardown commands (destroy a channel, stop a recording) that the engine could not take
/// yet, kept in order and retried before anything else the table does.
///
/// The engine already waits for room in a full queue before it refuses a teardown command,
/// so this list is only used when a shard is stalled for longer than that wait. It holds
/// at most one entry per channel or recording the table has released, so it is bounded by
/// the port range. A command the engine refuses for good (it has shut down) is logged and
/// counted as failed.
#[derive(Debug, Default)]
pub(super) struct Teardown {
    pending: VecDeque<Command>,
}

impl Teardown {
    /// Sends a teardown command now, or queues it behind those already waiting.
    pub fn send(&mut self, media: &mut dyn MediaEngine, cmd: Command, totals: &mut Totals) {
        if !self.pending.is_empty() {
            totals.teardown_deferred += 1;
            self.pending.push_back(cmd);
            self.retry(media, totals);
            return;
        }
        match media.command(cmd.clone()) {
            Ok(_) => {}
            Err(EngineError::QueueFull(shard)) => {
                tracing::warn!(
                    command = cmd.name(),
                    shard,
                    "engine queue full: teardown deferred"
                );
                totals.teardown_deferred += 1;
                self.pending.push_back(cmd);
            }
            Err(e) => {
                tracing::warn!(command = cmd.name(), error = %e, "teardown command failed");
                totals.teardown_failed += 1;
            }
        }
    }

    /// Sends what is waiting, in order, until the engine refuses again.
    pub fn retry(&mut self, media: &mut dyn MediaEngine, totals: &mut Totals) {
        while let Some(cmd) = self.pending.front() {
            match media.command(cmd.clone()) {
                Ok(_) => {}
                Err(EngineError::QueueFull(_)) => return,
                Err(e) => {
                    tracing::warn!(command = cmd.name(), error = %e, "teardown command failed");
                    totals.teardown_failed += 1;
                }
            }
            self.pending.pop_front();
        }
    }

    /// Commands waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use tandem_engine::{
        ChannelId, ChannelInfo, ChannelSpec, ChannelStats, Event, GroupKey, MediaAddresses,
        RequestId, RoomId, RoomOptions, TapId, TapSpec, TapTarget,
    };

    /// An engine whose queue is full for the first `refuse` commands.
    struct Stalled {
        refuse: usize,
        got: Vec<Command>,
    }

    impl MediaEngine for Stalled {
        fn create_channel(
            &mut self,
            _: GroupKey,
            _: ChannelSpec,
        ) -> Result<ChannelInfo, EngineError> {
            Err(EngineError::ShutDown)
        }
        fn create_room(&mut self, _: GroupKey, _: RoomOptions) -> Result<RoomId, EngineError> {
            Err(EngineError::ShutDown)
        }
        fn command(&mut self, cmd: Command) -> Result<RequestId, EngineError> {
            if self.refuse > 0 {
                self.refuse -= 1;
                return Err(EngineError::QueueFull(0));
            }
            self.got.push(cmd);
            Ok(RequestId(self.got.len() as u64))
        }
        fn poll_event(&mut self) -> Option<Event> {
            None
        }
        fn barrier(&mut self) -> Result<(), EngineError> {
            Ok(())
        }
        fn start_tap(&mut self, _: TapTarget, _: TapSpec) -> Result<TapId, EngineError> {
            Err(EngineError::ShutDown)
        }
        fn read_stats(
            &mut self,
            _: &[ChannelId],
        ) -> Result<Vec<(ChannelId, ChannelStats)>, EngineError> {
            Ok(Vec::new())
        }
        fn media_addresses(&self) -> MediaAddresses {
            MediaAddresses {
                ip: std::net::Ipv4Addr::LOCALHOST.into(),
                port_min: 1,
                port_max: 2,
            }
        }
        fn holds(&self, _: SocketAddr) -> bool {
            false
        }
    }

    #[test]
    fn refused_teardowns_wait_in_order_and_are_counted() {
        let mut m = Stalled {
            refuse: 2,
            got: Vec::new(),
        };
        let mut t = Teardown::default();
        let mut totals = Totals::default();
        let destroy = |n| Command::DestroyChannel {
            channel: ChannelId(n),
        };
        t.send(&mut m, destroy(1), &mut totals);
        assert_eq!((t.len(), totals.teardown_deferred), (1, 1));
        // Queued behind the first, in order; the engine refuses once more, then takes both.
        t.send(
            &mut m,
            Command::DestroyRoom { room: RoomId(9) },
            &mut totals,
        );
        assert_eq!((t.len(), totals.teardown_deferred), (2, 2));
        t.retry(&mut m, &mut totals);
        assert_eq!(t.len(), 0);
        assert!(matches!(
            m.got[0],
            Command::DestroyChannel {
                channel: ChannelId(1)
            }
        ));
        assert!(matches!(m.got[1], Command::DestroyRoom { .. }));
        assert_eq!(totals.teardown_failed, 0);
    }
}
