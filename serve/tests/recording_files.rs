//! Recording with a real daemon on 127.0.0.1: one new file per segment, call-ids that are
//! long or sanitise alike, and a disk that fills up.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{Daemon, Phone, cmd, error, eventually, marked, ok};
use tandem_codecs::wav::Wav;
use tandem_serve::bencode::Value;

const PERIOD: Duration = Duration::from_millis(20);

/// Both parties talk for `periods` ticks.
fn talk(
    alice: &mut Phone,
    bob: &mut Phone,
    (to_alice, to_bob): (SocketAddr, SocketAddr),
    periods: u16,
) {
    for n in 0..periods {
        alice.send(to_alice, &marked(0xA1, n));
        bob.send(to_bob, &marked(0xB0, n));
        std::thread::sleep(PERIOD);
    }
}

/// The `recording` dictionary of a reply: its state and file.
fn recording(reply: &Value) -> (String, Option<PathBuf>) {
    let r = reply
        .get("recording")
        .expect("the reply says how recording stands");
    let state = r.get("state").and_then(Value::as_str).unwrap().to_string();
    let file = r.get("file").and_then(Value::as_str).map(PathBuf::from);
    (state, file)
}

/// A finished WAV's duration in seconds, once the writer has completed it.
fn finished_duration(path: &Path, about: f64) -> f64 {
    let mut last = 0.0;
    let done = eventually(Duration::from_secs(5), || {
        let Ok(bytes) = std::fs::read(path) else {
            return false;
        };
        match Wav::parse(&bytes) {
            Ok(w) if w.repaired.is_empty() => {
                last = w.duration_secs();
                (last - about).abs() < 0.3
            }
            _ => false,
        }
    });
    assert!(done, "{} is {last} s, not about {about} s", path.display());
    last
}

#[test]
fn every_segment_gets_a_file_of_its_own() {
    let d = Daemon::start("mio", 100, |_| {}).unwrap();
    let (mut alice, mut bob) = (Phone::new(1), Phone::new(2));
    let ports = d.call("seg", &alice, &bob, &[]);
    let (state, first) = recording(ok(&d.ng(&cmd("start recording", "seg"))));
    assert_eq!(state, "recording");
    let first = first.unwrap();
    talk(&mut alice, &mut bob, ports, 50);
    let (state, file) = recording(ok(&d.ng(&cmd("stop recording", "seg"))));
    assert_eq!((state.as_str(), file.as_ref()), ("stopped", Some(&first)));
    let (_, second) = recording(ok(&d.ng(&cmd("start recording", "seg"))));
    let second = second.unwrap();
    assert_ne!(first, second, "a new segment, a new file");
    talk(&mut alice, &mut bob, ports, 50);
    ok(&d.ng(&cmd("stop recording", "seg")));
    // Neither truncated the other: each holds its second of the call.
    finished_duration(&second, 1.0);
    finished_duration(&first, 1.0);
    // query says the last segment stopped, and where it is.
    let (state, file) = recording(ok(&d.ng(&cmd("query", "seg"))));
    assert_eq!((state.as_str(), file), ("stopped", Some(second)));
    d.stop();
}

#[test]
fn odd_and_long_call_ids_get_distinct_working_files() {
    let d = Daemon::start("mio", 200, |_| {}).unwrap();
    let long = "L".repeat(300);
    let mut files = Vec::new();
    let mut phones = Vec::new();
    for id in ["col/1", "col_1", long.as_str()] {
        let (alice, bob) = (Phone::new(1), Phone::new(2));
        let ports = d.call(id, &alice, &bob, &[]);
        let (state, file) = recording(ok(&d.ng(&cmd("start recording", id))));
        assert_eq!(state, "recording", "{id}");
        files.push(file.unwrap());
        phones.push((alice, bob, ports));
    }
    assert_ne!(files[0], files[1], "col/1 and col_1 must not share a file");
    for n in 0..25 {
        for (alice, bob, (to_alice, to_bob)) in &mut phones {
            alice.send(*to_alice, &marked(0xA1, n));
            bob.send(*to_bob, &marked(0xB0, n));
        }
        std::thread::sleep(PERIOD);
    }
    for id in ["col/1", "col_1", long.as_str()] {
        ok(&d.ng(&cmd("stop recording", id)));
    }
    for f in &files {
        assert_eq!(f.parent(), Some(d.dir.as_path()));
        finished_duration(f, 0.5);
    }
    assert_eq!(d.total("recordingsfailed"), 0);
    d.stop();
}

/// Mounts a small tmpfs at `dir`, or says why not.
fn small_tmpfs(dir: &Path) -> bool {
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs here ({}); the test did not run",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            false
        }
        Err(e) => {
            eprintln!("SKIPPED: cannot run mount ({e}); the test did not run");
            false
        }
    }
}

/// Unmounts when dropped.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_reported_and_the_call_goes_on() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("rec");
    std::fs::create_dir(&dir).unwrap();
    if !small_tmpfs(&dir) {
        return;
    }
    let _mounted = Mounted(dir.clone());
    // Fill it, leaving no room for a recording.
    let filler = vec![0u8; 4096];
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    while std::io::Write::write_all(&mut f, &filler).is_ok() {}
    drop(f);

    let d = Daemon::start("mio", 100, |c| c.recording_dir = dir.clone()).unwrap();
    let (mut alice, mut bob) = (Phone::new(1), Phone::new(2));
    let ports = d.call("full", &alice, &bob, &[]);
    let (state, file) = recording(ok(&d.ng(&cmd("start recording", "full"))));
    assert_eq!(state, "recording");
    let file = file.unwrap();
    // The writer fails at its first flush (after a second of audio); the call goes on.
    talk(&mut alice, &mut bob, ports, 75);
    assert!(eventually(Duration::from_secs(3), || {
        recording(&d.ng(&cmd("query", "full"))).0 == "failed"
    }));
    let q = d.ng(&cmd("query", "full"));
    let why = q
        .get("recording")
        .and_then(|r| r.get("error"))
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    assert!(why.contains(&file.display().to_string()), "{why}");
    assert!(why.to_lowercase().contains("space"), "{why}");
    assert_eq!(d.total("recordingsfailed"), 1);
    // Media still flows after the failure.
    bob.drain(Duration::from_millis(50));
    talk(&mut alice, &mut bob, ports, 10);
    assert!(bob.drain(Duration::from_millis(200)).len() >= 9);
    // Stopping it says it failed, not ok.
    let reason = error(&d.ng(&cmd("stop recording", "full")));
    assert!(reason.contains("failed"), "{reason}");
    ok(&d.delete("full"));
    d.stop();
}
