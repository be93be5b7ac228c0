//! What drive mode counts of the engine's events.

use tandem_engine::{CommandError, Event};

use super::report::Counters;

impl Counters {
    /// Counts one engine event: recordings finished or failed, refused commands (a stop
    /// that crossed a prompt's natural end apart), tick overruns, media timeouts, players
    /// finished, and each closed channel's packets.
    pub fn count(&mut self, event: Event) {
        let c = self;
        match event {
            Event::TapFinished {
                path,
                duration_ms,
                dropped_frames,
                ..
            } => {
                c.recordings_finished += 1;
                c.recorded_ms += duration_ms;
                c.recording_dropped_frames += dropped_frames;
                c.recording_bytes += std::fs::metadata(&path).map_or(0, |m| m.len());
            }
            Event::TapFailed { reason, .. } => {
                c.recordings_failed += 1;
                c.note_error(format!("recording failed: {reason}"));
            }
            Event::CommandFailed {
                error: CommandError::NothingPlaying,
                ..
            } => {
                // A stop that crossed a prompt's natural end (UDP transport).
                c.stops_after_end += 1;
            }
            Event::CommandFailed {
                command,
                object,
                error,
                ..
            } => {
                c.commands_failed += 1;
                c.note_error(format!("engine refused {command} on {object}: {error}"));
            }
            Event::TickOverrun { missed, .. } => c.tick_overruns += missed,
            Event::MediaTimeout { .. } => c.media_timeouts += 1,
            Event::PlayFinished { .. } => c.plays_finished += 1,
            Event::ChannelClosed { stats, .. } => {
                c.engine_packets_received += stats.packets_received;
                c.engine_packets_sent += stats.packets_sent;
            }
            _ => {}
        }
    }
}
