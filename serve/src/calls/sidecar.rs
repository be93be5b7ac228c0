//! The JSON metadata file written next to a call's recording: call-id, tags and labels,
//! both parties' SDP, codecs, the recording format, every segment (file, start and stop
//! times, state, whether the file is complete) and the ng `metadata`.
//!
//! It is created with the first segment, named after it with `.json` (never over an
//! existing file: a suffix is added instead), and replaced whole (written aside, then
//! renamed) whenever something changes, so a reader never sees half a file. After the call
//! is deleted it is updated once more as each segment's file is completed.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use tandem_engine::TapId;

use super::recording::State;
use super::{Call, Calls};

/// A segment still being completed after its call was deleted.
#[derive(Clone, Debug)]
pub(super) struct Finishing {
    sidecar: Option<PathBuf>,
    segment: usize,
    wav: PathBuf,
    discard: bool,
}

/// Metadata documents of deleted calls whose segments are still being completed.
pub(super) type ClosingDocs = HashMap<PathBuf, Json>;

fn document(id: &str, call: &Call, stop: Option<u64>) -> Json {
    let callee = call.callee.as_ref();
    let streams: Vec<Json> = call
        .streams
        .iter()
        .map(|s| {
            json!({
                "index": s.index + 1,
                "caller_codec": s.encoding(s.caller_codec),
                "callee_codec": s.callee_codec.map(|c| s.encoding(c)),
                "telephone_event": s.caller_te,
            })
        })
        .collect();
    let segments: Vec<Json> = call
        .recording
        .segments
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let mut v = json!({
                "segment": k + 1,
                "file": r.path.to_string_lossy(),
                "start": r.start_s,
                "stop": r.stop_s,
                "state": r.state_name(),
                "complete": r.finished,
            });
            if let State::Failed(e) = &r.state {
                v["error"] = json!(e);
            }
            v
        })
        .collect();
    json!({
        "call_id": id,
        "from_tag": call.caller.tag,
        "to_tag": callee.map(|c| c.tag.clone()),
        "labels": {
            "caller": call.caller.label,
            "callee": callee.and_then(|c| c.label.clone()),
        },
        "created": call.created_s,
        "stop": stop,
        "metadata": call.metadata,
        "sdp": {
            "offer": call.caller.sdp,
            "answer": callee.and_then(|c| c.sdp.clone()),
        },
        "streams": streams,
        "format": {
            "container": "WAV",
            "encoding": "PCM, 16-bit linear",
            "sample_rate": 8000,
            "channels": 2,
            "left": "caller (from-tag), first audio stream",
            "right": "callee (to-tag), first audio stream",
        },
        "segments": segments,
    })
}

/// Creates the metadata file for a call whose first segment is `first`, never over an
/// existing file.
fn create(first: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let stem = first
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let mut last = None;
    for n in 1..=20 {
        let name = if n == 1 {
            format!("{stem}.json")
        } else {
            format!("{stem}.meta-{n}.json")
        };
        let path = first.with_file_name(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
}

/// Replaces the file's content whole: written aside, then renamed over it.
fn replace(path: &Path, doc: &Json) -> std::io::Result<()> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".tmp");
    let aside = PathBuf::from(aside);
    let mut f = std::fs::File::create(&aside)?;
    f.write_all(
        serde_json::to_string_pretty(doc)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    f.write_all(b"\n")?;
    f.sync_data()?;
    std::fs::rename(&aside, path)
}

impl Calls {
    /// Writes the call's metadata file (creating it with the first segment).
    pub(super) fn write_sidecar(&mut self, id: &str, stop: Option<u64>) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if let Err(e) = write_doc(id, call, stop) {
            tracing::warn!(call_id = %id, error = %e, "recording metadata not written");
            self.totals.metadata_failed += 1;
        }
    }

    /// A deleted call's recording: live segments end now, the metadata file says so, and
    /// segments still being completed are followed until they are.
    pub(super) fn close_recording(&mut self, id: &str, call: &mut Call, now: u64) {
        if call.recording.segments.is_empty() {
            return;
        }
        for r in &mut call.recording.segments {
            if matches!(r.state, State::Active | State::Paused) {
                r.state = State::Stopped;
                r.stop_s = Some(now);
            }
        }
        let discard = call.recording.discard;
        let doc = match write_doc(id, call, Some(now)) {
            Ok(doc) => Some(doc),
            Err(e) => {
                tracing::warn!(call_id = %id, error = %e, "recording metadata not written");
                self.totals.metadata_failed += 1;
                None
            }
        };
        let sidecar = call.recording.sidecar.clone();
        let mut pending = 0;
        for (k, r) in call.recording.segments.iter().enumerate() {
            if r.finished || matches!(r.state, State::Failed(_)) {
                if discard {
                    let _ = std::fs::remove_file(&r.path);
                }
                continue;
            }
            pending += 1;
            self.finishing.insert(
                r.tap,
                Finishing {
                    sidecar: sidecar.clone(),
                    segment: k,
                    wav: r.path.clone(),
                    discard,
                },
            );
        }
        match (sidecar, doc) {
            (Some(path), _) if discard && pending == 0 => {
                let _ = std::fs::remove_file(path);
            }
            (Some(path), Some(doc)) if pending > 0 => {
                self.closing_docs.insert(path, doc);
            }
            _ => {}
        }
    }

    /// A segment of a deleted call was completed (or failed).
    pub(super) fn finished_after_delete(&mut self, tap: TapId, failed: Option<&str>) {
        let Some(f) = self.finishing.remove(&tap) else {
            return;
        };
        if f.discard {
            let _ = std::fs::remove_file(&f.wav);
        }
        let Some(path) = f.sidecar else {
            return;
        };
        let last = !self
            .finishing
            .values()
            .any(|o| o.sidecar.as_ref() == Some(&path));
        if f.discard {
            if last {
                self.closing_docs.remove(&path);
                let _ = std::fs::remove_file(&path);
            }
            return;
        }
        let Some(doc) = self.closing_docs.get_mut(&path) else {
            return;
        };
        let seg = &mut doc["segments"][f.segment];
        match failed {
            Some(reason) => {
                seg["state"] = json!("failed");
                seg["error"] = json!(reason);
            }
            None => seg["complete"] = json!(true),
        }
        if let Err(e) = replace(&path, doc) {
            tracing::warn!(path = %path.display(), error = %e, "recording metadata not written");
        }
        if last {
            self.closing_docs.remove(&path);
        }
    }
}

/// Writes a call's metadata file; returns the document written.
fn write_doc(id: &str, call: &mut Call, stop: Option<u64>) -> std::io::Result<Json> {
    let doc = document(id, call, stop);
    let Some(first) = call.recording.segments.first() else {
        return Ok(doc);
    };
    let path = match &call.recording.sidecar {
        Some(p) => p.clone(),
        None => {
            let (p, _) = create(&first.path)?;
            call.recording.sidecar = Some(p.clone());
            p
        }
    };
    replace(&path, &doc)?;
    Ok(doc)
}
