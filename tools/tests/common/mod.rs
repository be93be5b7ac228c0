//! What the command-line tests share: the binary under test and reading its JSON output.

// Each test file is its own crate and uses only some of these helpers.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The `tandem` binary built for these tests.
pub fn tandem() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
}

/// A successful run's stdout as text; panics with the run's stderr if it failed.
pub fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The last non-empty line of a successful run's stdout, as JSON; panics with the run's
/// stderr if it failed.
pub fn json(out: &Output) -> serde_json::Value {
    let text = stdout_ok(out);
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    serde_json::from_str(line).expect("JSON")
}

/// Writes `text` to `dir/name` (a scenario, a profile) and returns the path.
pub fn write_file(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A UDP port on 127.0.0.1 that was free a moment ago (the socket that held it is closed).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
pub mod serve;
