//! Engine events folded into the call table (media timeouts, sources, digits, recordings
//! finished or failed), and the table's shutdown.

use tandem_engine::MediaEngine;
use tandem_engine::{ChannelId, Event, TapId};

use super::{Call, Calls};

impl Calls {
    /// The call a channel belongs to.
    fn call_of(&mut self, channel: ChannelId) -> Option<(&String, &mut Call)> {
        self.calls
            .iter_mut()
            .find(|(_, c)| c.channels().any(|x| x == channel))
    }

    /// Folds an engine event into the table. Returns the Call-ID deleted for a media
    /// timeout, if any.
    pub fn on_event(
        &mut self,
        media: &mut dyn MediaEngine,
        e: &Event,
        now_unix_s: u64,
    ) -> Option<String> {
        self.teardown.retry(media, &mut self.totals);
        match e {
            Event::MediaTimeout { channel, .. } => {
                let (id, call) = self.call_of(*channel)?;
                if !call.timed_out.contains(channel) {
                    call.timed_out.push(*channel);
                }
                // Every leg silent at once: the call is dead.
                if call.channels().all(|ch| call.timed_out.contains(&ch)) {
                    let id = id.clone();
                    tracing::info!(call_id = %id, "media timeout: deleting call");
                    self.remove(media, &id, now_unix_s);
                    self.totals.calls_timed_out += 1;
                    return Some(id);
                }
                None
            }
            Event::MediaResumed { channel } => {
                let (_, call) = self.call_of(*channel)?;
                call.timed_out.retain(|c| c != channel);
                None
            }
            Event::FirstPacket { channel, from } | Event::RemoteChanged { channel, from } => {
                // An event can come after its call was deleted: a channel of no call is
                // not remembered (it would never be forgotten).
                self.call_of(*channel)?;
                self.sources.insert(*channel, *from);
                None
            }
            Event::Dtmf {
                channel,
                digit,
                duration_ms,
                ..
            } => {
                self.log_digit(*channel, *digit, *duration_ms, now_unix_s);
                None
            }
            Event::TapFailed { tap, reason } => {
                self.recording_failed(*tap, reason);
                None
            }
            Event::TapFinished { tap, .. } => {
                self.recording_finished(*tap);
                None
            }
            _ => None,
        }
    }

    /// Shuts the table down: stops every recording and deletes every call. Returns the
    /// recordings stopped; each ends with `Event::TapFinished` (or `TapFailed`) once its
    /// file is complete, which the caller waits for.
    pub fn drain(&mut self, media: &mut dyn MediaEngine, now_unix_s: u64) -> Vec<TapId> {
        let taps: Vec<TapId> = self
            .calls
            .values()
            .filter_map(|c| c.recording.live_tap())
            .collect();
        let ids: Vec<String> = self.calls.keys().cloned().collect();
        for id in ids {
            self.remove(media, &id, now_unix_s);
        }
        taps
    }
}
