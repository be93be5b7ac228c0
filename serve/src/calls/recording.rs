//! Recording a call: one new file per segment, a JSON metadata file per call, failures
//! reported.
//!
//! Every `start recording` (and an answer to a call flagged `record call`) starts a new
//! segment in a file of its own, named after the call, the caller's tag, the start time and
//! the segment number; a file is never reopened, truncated or shared (the engine refuses
//! to overwrite one). Call-IDs and tags are free text: the name keeps a short, safe prefix
//! of each and adds a hash of the call-id, so `col/1` and `col_1` get different files and a
//! 300-character call-id gives a name well within file-system limits. `output-destination`
//! names the file instead (later segments get `-2`, `-3`… before the extension), and
//! `recording-dir` the directory; neither may point outside the recording directory or the
//! directories the operator allowed. A recording that fails (the file cannot be created, the
//! disk is full) is logged at WARN, counted, and reported by `query` and by the `stop
//! recording` reply; the call goes on.

use std::path::{Component, Path, PathBuf};

use tandem_codecs::g711::Law;
use tandem_codecs::wav::Encoding;
use tandem_engine::MediaEngine;
use tandem_engine::{Codec, Command, TapId, TapMode, TapSpec, TapTarget};

use super::{Calls, RequestCtx, engine_err};
use crate::bencode::Value;
use crate::ng::Params;

/// Characters of the call-id and of the tag kept in a file name.
const CALL_ID_PREFIX: usize = 40;
const TAG_PREFIX: usize = 24;
/// Most segments one call may record.
const MAX_SEGMENTS: usize = 1000;

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

/// One recording segment.
#[derive(Clone, Debug)]
pub(super) struct Recording {
    pub tap: TapId,
    pub path: PathBuf,
    pub state: State,
    pub start_s: u64,
    pub stop_s: Option<u64>,
    /// The engine reported the file complete.
    pub finished: bool,
}

/// Where a call's files go (`output-destination`, `recording-dir`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Destination {
    pub file: Option<PathBuf>,
    pub dir: Option<PathBuf>,
}

/// A call's recording: its segments, metadata file and destination.
#[derive(Clone, Debug, Default)]
pub(super) struct RecordingLog {
    pub segments: Vec<Recording>,
    pub sidecar: Option<PathBuf>,
    pub dest: Destination,
    /// `discard recording`: files are deleted once complete.
    pub discard: bool,
}

impl RecordingLog {
    /// The current or last segment.
    pub fn current(&self) -> Option<&Recording> {
        self.segments.last()
    }

    /// The tap, while the engine is still recording into it.
    pub fn live_tap(&self) -> Option<TapId> {
        self.current().and_then(Recording::live_tap)
    }

    /// The segment files, as replies list them.
    pub fn files(&self) -> Value {
        Value::List(
            self.segments
                .iter()
                .map(|r| Value::str(&r.path.to_string_lossy()))
                .collect(),
        )
    }
}

impl Recording {
    /// The tap, while the engine is still recording into it.
    pub fn live_tap(&self) -> Option<TapId> {
        matches!(self.state, State::Active | State::Paused).then_some(self.tap)
    }

    /// The state's name.
    pub fn state_name(&self) -> &'static str {
        match &self.state {
            State::Active => "recording",
            State::Paused => "paused",
            State::Stopped => "stopped",
            State::Failed(_) => "failed",
        }
    }

    /// The recording as replies show it: whether a file is being written, which, and why
    /// it failed.
    pub fn report(recording: Option<&Recording>) -> Value {
        let Some(r) = recording else {
            return Value::dict().with("state", Value::str("off"));
        };
        let mut v = Value::dict()
            .with("state", Value::str(r.state_name()))
            .with("file", Value::str(&r.path.to_string_lossy()));
        if let State::Failed(reason) = &r.state {
            v = v.with("error", Value::str(reason));
        }
        v
    }
}

/// `PCMU/8000` or `PCMA/8000`.
pub(super) fn codec_name(c: Codec) -> &'static str {
    match c.law {
        Law::Ulaw => "PCMU/8000",
        Law::Alaw => "PCMA/8000",
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

/// `file` for segment 1, `<stem>-<n>.<ext>` for segment `n`.
fn numbered(file: &Path, segment: u32) -> PathBuf {
    if segment <= 1 {
        return file.to_path_buf();
    }
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match file.extension() {
        Some(ext) => format!("{stem}-{segment}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{segment}"),
    };
    file.with_file_name(name)
}

impl Calls {
    /// A path an ng key names: relative to the recording directory, no `..`.
    fn key_path(&self, key: &str, s: &str) -> Result<PathBuf, String> {
        let path = Path::new(s);
        if s.is_empty() || path.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(format!("key '{key}': '{s}' is empty or contains '..'"));
        }
        Ok(if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cfg.recording_dir.join(path)
        })
    }

    /// Checks that `dir` exists and lies in the recording directory or an allowed one (after
    /// resolving links, so a link cannot lead out).
    fn check_allowed_dir(&self, key: &str, dir: &Path) -> Result<(), String> {
        let real = dir
            .canonicalize()
            .map_err(|e| format!("key '{key}': directory {}: {e}", dir.display()))?;
        if !real.is_dir() {
            return Err(format!("key '{key}': {} is not a directory", dir.display()));
        }
        let inside = std::iter::once(&self.cfg.recording_dir)
            .chain(&self.cfg.recording_allowed_dirs)
            .filter_map(|r| r.canonicalize().ok())
            .any(|r| real.starts_with(r));
        if !inside {
            return Err(format!(
                "key '{key}': {} is outside the recording directory and the allowed directories",
                dir.display()
            ));
        }
        Ok(())
    }

    /// The destination `output-destination` and `recording-dir` name, checked.
    pub(super) fn recording_dest(&self, p: &Params) -> Result<Option<Destination>, String> {
        if p.recording_file.is_none() && p.recording_dir.is_none() {
            return Ok(None);
        }
        let dir = match &p.recording_dir {
            Some(d) => {
                let d = self.key_path("recording-dir", d)?;
                self.check_allowed_dir("recording-dir", &d)?;
                Some(d)
            }
            None => None,
        };
        let file = match &p.recording_file {
            Some(f) if f.contains('/') => {
                let f = self.key_path("output-destination", f)?;
                let parent = f.parent().unwrap_or(Path::new("/"));
                self.check_allowed_dir("output-destination", parent)?;
                Some(f)
            }
            Some(name) => {
                if matches!(name.as_str(), "" | "." | "..") {
                    return Err(format!(
                        "key 'output-destination': '{name}' is not a file name"
                    ));
                }
                let name = if name.ends_with(".wav") {
                    name.clone()
                } else {
                    format!("{name}.wav")
                };
                let base = dir
                    .clone()
                    .unwrap_or_else(|| self.cfg.recording_dir.clone());
                Some(base.join(name))
            }
            None => None,
        };
        if let Some(f) = &file {
            if f.exists() {
                return Err(format!("key 'output-destination': {} exists", f.display()));
            }
        }
        Ok(Some(Destination { file, dir }))
    }

    pub(super) fn recording(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
        op: RecordingOp,
        ctx: &RequestCtx,
    ) -> Result<Value, String> {
        let id = p.call_id.clone().ok_or("no call-id")?;
        let dest = self.recording_dest(p)?;
        let now = ctx.now_unix_s;
        let call = self.call_mut(p)?;
        if let Some(d) = dest {
            call.recording.dest = d;
        }
        if p.metadata.is_some() {
            call.metadata.clone_from(&p.metadata);
        }
        if p.flag("discard recording") {
            call.recording.discard = true;
        }
        let tap = call.recording.live_tap();
        match op {
            RecordingOp::Start => {
                call.record = true;
                match (tap, call.recording.segments.last_mut()) {
                    (Some(tap), Some(r)) if r.state == State::Paused => {
                        media
                            .command(Command::PauseTap { tap, paused: false })
                            .map_err(engine_err)?;
                        r.state = State::Active;
                    }
                    (Some(_), _) => {} // already recording: starting twice is no error
                    _ => self.start_recording(media, &id, now)?,
                }
            }
            RecordingOp::Stop => {
                call.record = false;
                let r = call
                    .recording
                    .segments
                    .last_mut()
                    .ok_or("call is not being recorded")?;
                if let State::Failed(reason) = &r.state {
                    return Err(format!(
                        "recording to {} failed: {reason}",
                        r.path.display()
                    ));
                }
                let tap = tap.ok_or("call is not being recorded")?;
                r.state = State::Stopped;
                r.stop_s = Some(now);
                self.teardown
                    .send(media, Command::StopTap { tap }, &mut self.totals);
            }
            RecordingOp::Pause => {
                let tap = tap.ok_or("call is not being recorded")?;
                media
                    .command(Command::PauseTap { tap, paused: true })
                    .map_err(engine_err)?;
                if let Some(r) = call.recording.segments.last_mut() {
                    r.state = State::Paused;
                }
            }
        }
        self.write_sidecar(&id, None);
        let call = self.call_mut(p)?;
        let mut v = Value::dict()
            .with("recording", Recording::report(call.recording.current()))
            .with("recordings", call.recording.files());
        if let Some(s) = &call.recording.sidecar {
            v = v.with("recording metadata", Value::str(&s.to_string_lossy()));
        }
        Ok(v)
    }

    /// Starts a new segment for call `id` into a file of its own.
    pub(super) fn start_recording(
        &mut self,
        media: &mut dyn MediaEngine,
        id: &str,
        now_unix_s: u64,
    ) -> Result<(), String> {
        let dir = self.cfg.recording_dir.clone();
        let call = self.calls.get_mut(id).ok_or("Unknown call-id")?;
        if call.recording.segments.len() >= MAX_SEGMENTS {
            return Err(format!(
                "the call has {MAX_SEGMENTS} recording segments already"
            ));
        }
        let stream = call.streams.first().ok_or("call has no audio")?;
        if let Some(enc) = stream.passthrough_encoding() {
            return Err(format!(
                "recording needs PCMU or PCMA: the call's audio is {enc}, relayed without \
                 decoding"
            ));
        }
        let leg = stream.caller_leg.id;
        let segment = call.recording.segments.len() as u32 + 1;
        let d = &call.recording.dest;
        let path = match (&d.file, &d.dir) {
            (Some(f), _) => numbered(f, segment),
            (None, Some(dir)) => recording_path(dir, id, &call.caller.tag, now_unix_s, segment),
            (None, None) => recording_path(&dir, id, &call.caller.tag, now_unix_s, segment),
        };
        let spec = TapSpec {
            path: path.clone(),
            mode: TapMode::Stereo,
            encoding: Encoding::Pcm16,
        };
        let tap = media
            .start_tap(TapTarget::Channel(leg), spec)
            .map_err(engine_err)?;
        call.recording.segments.push(Recording {
            tap,
            path,
            state: State::Active,
            start_s: now_unix_s,
            stop_s: None,
            finished: false,
        });
        self.totals.recordings += 1;
        self.write_sidecar(id, None);
        Ok(())
    }

    /// A recording failed in the engine: logged, counted, and kept for `query` and `stop
    /// recording` to report. The call goes on.
    pub(super) fn recording_failed(&mut self, tap: TapId, reason: &str) {
        self.totals.recordings_failed += 1;
        let found = self.calls.iter_mut().find_map(|(id, c)| {
            let r = c.recording.segments.iter_mut().find(|r| r.tap == tap)?;
            r.state = State::Failed(reason.to_string());
            c.record = false;
            Some(id.clone())
        });
        match found {
            Some(id) => {
                tracing::warn!(call_id = %id, %reason, "recording failed");
                self.write_sidecar(&id, None);
            }
            None => {
                tracing::warn!(tap = tap.0, %reason, "recording failed");
                self.finished_after_delete(tap, Some(reason));
            }
        }
    }

    /// A segment's file is complete.
    pub(super) fn recording_finished(&mut self, tap: TapId) {
        let found = self.calls.iter_mut().find_map(|(id, c)| {
            let r = c.recording.segments.iter_mut().find(|r| r.tap == tap)?;
            r.finished = true;
            Some((id.clone(), c.recording.discard.then(|| r.path.clone())))
        });
        match found {
            Some((id, discard)) => {
                if let Some(path) = discard {
                    let _ = std::fs::remove_file(&path);
                }
                self.write_sidecar(&id, None);
            }
            None => self.finished_after_delete(tap, None),
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
        assert_eq!(numbered(Path::new("/r/a.wav"), 1), Path::new("/r/a.wav"));
        assert_eq!(numbered(Path::new("/r/a.wav"), 3), Path::new("/r/a-3.wav"));
        assert_eq!(numbered(Path::new("/r/a"), 2), Path::new("/r/a-2"));
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // From the FNV reference (draft-eastlake-fnv): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
