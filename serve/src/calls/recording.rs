//! Recording a call: one new file per segment, failures reported.
//!
//! Every `start recording` (and an answer to a call flagged `record call`) starts a new
//! segment in a file of its own, named after the call, the caller's tag, the start time and
//! the segment number; a file is never reopened, truncated or shared (the engine refuses
//! to overwrite one). Call-IDs and tags are free text: the name keeps a short, safe prefix
//! of each and adds a hash of the call-id, so `col/1` and `col_1` get different files and a
//! 300-character call-id gives a name well within file-system limits. A recording that
//! fails (the file cannot be created, the disk is full) is logged at WARN, counted, and
//! reported by `query` and by the `stop recording` reply; the call goes on.

use std::path::{Path, PathBuf};

use tandem_codecs::wav::Encoding;
use tandem_engine::{Command, TapId, TapMode, TapSpec, TapTarget};

use super::{Calls, Media, RequestCtx};
use crate::bencode::Value;
use crate::ng::Params;

/// Characters of the call-id and of the tag kept in a file name.
const CALL_ID_PREFIX: usize = 40;
const TAG_PREFIX: usize = 24;

#[derive(Clone, Copy)]
pub(super) enum RecordingOp {
    Start,
    Stop,
    Pause,
}

/// Where a recording segment stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum State {
    Active,
    Paused,
    Stopped,
    Failed(String),
}

/// The current or last recording segment of a call.
#[derive(Clone, Debug)]
pub(super) struct Recording {
    pub tap: TapId,
    pub path: PathBuf,
    pub state: State,
}

impl Recording {
    /// The tap, while the engine is still recording into it.
    pub fn live_tap(&self) -> Option<TapId> {
        matches!(self.state, State::Active | State::Paused).then_some(self.tap)
    }

    /// The recording as replies show it: whether a file is being written, which, and why
    /// it failed.
    pub fn report(recording: Option<&Recording>) -> Value {
        let Some(r) = recording else {
            return Value::dict().with("state", Value::str("off"));
        };
        let state = match &r.state {
            State::Active => "recording",
            State::Paused => "paused",
            State::Stopped => "stopped",
            State::Failed(_) => "failed",
        };
        let mut v = Value::dict()
            .with("state", Value::str(state))
            .with("file", Value::str(&r.path.to_string_lossy()));
        if let State::Failed(reason) = &r.state {
            v = v.with("error", Value::str(reason));
        }
        v
    }
}

/// 64-bit FNV-1a: a stable hash for file names (the standard library's hasher may change
/// between releases, and names must not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Up to `max` characters of `s` that are safe in a file name (others become `_`).
fn safe_prefix(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file of one recording segment: `<call-id prefix>-<call-id hash>-<tag prefix>-
/// <unix start time>-<segment>.wav` in `dir`.
pub fn recording_path(
    dir: &Path,
    call_id: &str,
    from_tag: &str,
    start_unix_s: u64,
    segment: u32,
) -> PathBuf {
    dir.join(format!(
        "{}-{:016x}-{}-{start_unix_s}-{segment}.wav",
        safe_prefix(call_id, CALL_ID_PREFIX),
        fnv1a(call_id.as_bytes()),
        safe_prefix(from_tag, TAG_PREFIX),
    ))
}

impl Calls {
    pub(super) fn recording(
        &mut self,
        media: &mut dyn Media,
        p: &Params,
        op: RecordingOp,
        ctx: &RequestCtx,
    ) -> Result<Value, String> {
        let id = p.call_id.clone().ok_or("no call-id")?;
        let call = self.call_mut(p)?;
        let tap = call.recording.as_ref().and_then(Recording::live_tap);
        match op {
            RecordingOp::Start => {
                call.record = true;
                match (tap, call.recording.as_mut()) {
                    (Some(tap), Some(r)) if r.state == State::Paused => {
                        media
                            .command(Command::PauseTap { tap, paused: false })
                            .map_err(|e| e.to_string())?;
                        r.state = State::Active;
                    }
                    (Some(_), _) => {} // already recording: starting twice is no error
                    _ => self.start_recording(media, &id, ctx.now_unix_s)?,
                }
            }
            RecordingOp::Stop => {
                call.record = false;
                let r = call
                    .recording
                    .as_mut()
                    .ok_or("call is not being recorded")?;
                if let State::Failed(reason) = &r.state {
                    return Err(format!(
                        "recording to {} failed: {reason}",
                        r.path.display()
                    ));
                }
                let tap = tap.ok_or("call is not being recorded")?;
                r.state = State::Stopped;
                self.teardown
                    .send(media, Command::StopTap { tap }, &mut self.totals);
            }
            RecordingOp::Pause => {
                let tap = tap.ok_or("call is not being recorded")?;
                media
                    .command(Command::PauseTap { tap, paused: true })
                    .map_err(|e| e.to_string())?;
                if let Some(r) = call.recording.as_mut() {
                    r.state = State::Paused;
                }
            }
        }
        let call = self.call_mut(p)?;
        Ok(Value::dict().with("recording", Recording::report(call.recording.as_ref())))
    }

    /// Starts a new segment for call `id` into a file of its own.
    pub(super) fn start_recording(
        &mut self,
        media: &mut dyn Media,
        id: &str,
        now_unix_s: u64,
    ) -> Result<(), String> {
        let dir = self.cfg.recording_dir.clone();
        let call = self.calls.get_mut(id).ok_or("Unknown call-id")?;
        let leg = call
            .streams
            .first()
            .ok_or("call has no audio")?
            .caller_leg
            .id;
        let segment = call.segments + 1;
        let path = recording_path(&dir, id, &call.from_tag, now_unix_s, segment);
        let spec = TapSpec {
            path: path.clone(),
            mode: TapMode::Stereo,
            encoding: Encoding::Pcm16,
        };
        let tap = media
            .start_tap(TapTarget::Channel(leg), spec)
            .map_err(|e| e.to_string())?;
        call.segments = segment;
        call.recording = Some(Recording {
            tap,
            path,
            state: State::Active,
        });
        self.totals.recordings += 1;
        Ok(())
    }

    /// A recording failed in the engine: logged, counted, and kept for `query` and `stop
    /// recording` to report. The call goes on.
    pub(super) fn recording_failed(&mut self, tap: TapId, reason: &str) {
        self.totals.recordings_failed += 1;
        let call = self
            .calls
            .iter_mut()
            .find(|(_, c)| c.recording.as_ref().is_some_and(|r| r.tap == tap));
        match call {
            Some((id, c)) => {
                tracing::warn!(call_id = %id, %reason, "recording failed");
                c.record = false;
                if let Some(r) = c.recording.as_mut() {
                    r.state = State::Failed(reason.to_string());
                }
            }
            None => tracing::warn!(tap = tap.0, %reason, "recording failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_safe_and_short() {
        let dir = Path::new("/rec");
        let a = recording_path(dir, "col/1", "t", 100, 1);
        let b = recording_path(dir, "col_1", "t", 100, 1);
        assert_ne!(a, b, "sanitising alone would make these one file");
        assert_ne!(a, recording_path(dir, "col/1", "t", 100, 2));
        assert_ne!(a, recording_path(dir, "col/1", "t", 101, 1));
        let long = "x".repeat(300) + "/../../etc";
        let p = recording_path(dir, &long, &"y".repeat(300), 1_700_000_000, 9);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.len() < 120, "{name}");
        assert_eq!(p.parent(), Some(dir));
        assert!(!name.contains('/'));
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // From the FNV reference (draft-eastlake-fnv): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
