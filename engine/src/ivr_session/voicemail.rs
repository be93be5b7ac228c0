//! Voicemail files: where a message is recorded and the JSON sidecar written beside it.
//!
//! A message of mailbox `m` for the call tagged `t` is `<dir>/m/t-<n>.wav` (`n` counts the
//! call's messages from 1), recorded by a tap on the caller's channel, and
//! `<dir>/m/t-<n>.json` holds its metadata ([`VoicemailRecord`]). Neither file is ever
//! overwritten: an existing file fails the recording.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Longest call tag, bytes.
pub const MAX_TAG: usize = 64;

/// A finished voicemail message, as its sidecar records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoicemailRecord {
    /// The mailbox.
    pub mailbox: String,
    /// The caller's number (ANI).
    pub caller: String,
    /// The dialled number (DNIS).
    pub dnis: String,
    /// The flow that took the message.
    pub flow: String,
    /// The call's tag.
    pub call: String,
    /// When recording started, Unix milliseconds.
    pub started_unix_ms: i64,
    /// Audio recorded, milliseconds.
    pub duration_ms: u64,
    /// Frames lost because the writer fell behind (0 on a healthy system).
    pub dropped_frames: u64,
    /// The WAV file.
    pub recording: PathBuf,
}

/// Whether `s` is usable as one file-name component: 1 to 64 characters of
/// `A-Z a-z 0-9 - _ .`, not starting with a dot.
pub(crate) fn is_file_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TAG
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The mailbox name as a directory name: characters outside `A-Z a-z 0-9 - _` become `_`.
pub(crate) fn mailbox_dir(mailbox: &str) -> String {
    let s: String = mailbox
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "_".to_string() } else { s }
}

/// The WAV path of message `n` of the call tagged `tag` in `mailbox` (its directory is
/// created).
pub(crate) fn message_path(
    dir: &Path,
    mailbox: &str,
    tag: &str,
    n: u32,
) -> std::io::Result<PathBuf> {
    let folder = dir.join(mailbox_dir(mailbox));
    std::fs::create_dir_all(&folder)?;
    Ok(folder.join(format!("{tag}-{n}.wav")))
}

/// Writes the sidecar of `record` beside its recording; returns its path.
pub(crate) fn write_sidecar(record: &VoicemailRecord) -> std::io::Result<PathBuf> {
    let path = record.recording.with_extension("json");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    let json = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    f.write_all(&json)?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_mailboxes_stay_inside_the_directory() {
        for ok in ["call-1", "A.b_c", "x"] {
            assert!(is_file_word(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", &"x".repeat(65)] {
            assert!(!is_file_word(bad), "{bad}");
        }
        assert_eq!(mailbox_dir("../etc"), "___etc");
        assert_eq!(mailbox_dir("card-emergencies"), "card-emergencies");
        assert_eq!(mailbox_dir(""), "_");
    }
}
