//! What a waiting caller hears and does: the delay announcement, balking on what it tells,
//! and patience drawn afresh after it.

use rand::Rng;
use tandem_acd::{CallState, QueueId};

use super::{CallRef, Event, Run};
use crate::SimError;
use crate::lifecycle::{Ending, Transition};
use crate::scenario::Tells;

impl Run<'_> {
    /// Call `i` joined queue `queue` at `position` for the first time: the announcement
    /// plays now or is scheduled.
    pub(super) fn queued_first(
        &mut self,
        t: f64,
        i: u32,
        queue: QueueId,
        position: u32,
    ) -> Result<(), SimError> {
        let Some(a) = &self.sc.queue.announcement else {
            return Ok(());
        };
        if a.after_s > 0.0 {
            let c = self.call_ref(i);
            self.k.schedule(t + a.after_s, Event::Announce(c));
            return Ok(());
        }
        self.hear(t, i, queue, position).map(|_| ())
    }

    /// The announcement of call `i` comes due. Returns whether it changed anything.
    pub(super) fn announce(&mut self, t: f64, i: u32) -> Result<bool, SimError> {
        let Some(id) = self.calls[i as usize].acd else {
            return Ok(false);
        };
        let Some(CallState::Queued(q)) = self.acd.call_state(id) else {
            return Ok(false);
        };
        let position = self
            .acd
            .queued_calls(q)
            .position(|c| c == id)
            .map_or(1, |p| p as u32 + 1);
        self.hear(t, i, q, position)?;
        Ok(true)
    }

    /// Call `i`, waiting at `position` in `queue`, hears the announcement: it may balk, and
    /// otherwise draws its patience afresh if the scenario says so. Returns whether it
    /// balked.
    fn hear(&mut self, t: f64, i: u32, queue: QueueId, position: u32) -> Result<bool, SimError> {
        let Some(a) = &self.sc.queue.announcement else {
            return Ok(false);
        };
        let told = match a.tells {
            Tells::Position => f64::from(position),
            Tells::ExpectedWait => {
                let agents = self.acd.staffed(queue);
                if agents == 0 {
                    f64::INFINITY
                } else {
                    f64::from(position) * self.acd.expected_handle_time().get() / agents as f64
                }
            }
        };
        let p = a.balk_probability(told);
        if p > 0.0 && self.rng.balk.random::<f64>() < p {
            let counts = self.at(t);
            counts.queue_abandoned += 1.0;
            counts.balked += 1.0;
            self.note(t, i, Transition::Ended(Ending::QueueAbandoned));
            self.abandoned(t, i)?;
            return Ok(true);
        }
        if let Some(d) = &a.patience {
            let patience = d.sample(&mut self.rng.balk);
            let c = &mut self.calls[i as usize];
            c.deadline = t + patience;
            let generation = c.generation;
            if c.deadline < c.patience_at {
                c.patience_at = c.deadline;
                self.k.schedule(
                    c.deadline,
                    Event::Patience(CallRef {
                        slot: i,
                        generation,
                    }),
                );
            }
        }
        Ok(false)
    }
}
