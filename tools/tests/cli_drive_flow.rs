//! `tandem sim --drive` with a scenario whose IVR runs a flow, on the real binary: the
//! engine runs the flow for each call, the phones key the model's choices, and the JSON
//! report's flow section says the two walks agree.

mod common;

use common::{json, tandem};

/// One agent behind the TV-shopping flow: callers order, ask for a person or wait out the
/// queue and leave a message, and rate the call after the agent.
const FLOW: &str = r#"
name = "small-flow-drive"
duration_s = 90
seed = 5
[arrivals]
kind = "poisson"
per_min = 10
[trunks]
channels = 30
[ivr]
ports = 30
flow = "tv-shopping"
starts_at = "2025-03-10 20:30"
dnis = [{ number = "4008101001", share = 1 }]
think = { kind = "deterministic", value = 1.5 }
prompt_s = { kind = "deterministic", value = 2 }
[ivr.nodes.main]
choices = { "1" = 0.7, "0" = 0.3 }
[ivr.nodes.voicemail]
message = { kind = "deterministic", value = 3 }
[ivr.nodes.survey]
choices = { "1" = 0.25, "2" = 0.25, "3" = 0.25, "4" = 0.25 }
[queue]
patience = { kind = "deterministic", value = 300 }
[agents]
count = 1
talk = { kind = "deterministic", value = 15 }
acw = { kind = "deterministic", value = 1 }
ring = { kind = "deterministic", value = 1 }
"#;

/// A short run without a flow.
const PLAIN: &str = r#"
name = "plain-drive"
duration_s = 30
seed = 5
[arrivals]
kind = "poisson"
per_min = 6
[ivr]
ports = 4
time = { kind = "deterministic", value = 3 }
[queue]
patience = { kind = "deterministic", value = 60 }
[agents]
count = 2
talk = { kind = "deterministic", value = 5 }
"#;

#[test]
fn drive_runs_the_flow_on_the_engine_with_in_band_keys() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("flow.toml");
    std::fs::write(&sc, FLOW).unwrap();
    let media = dir.path().join("media");
    let out = tandem()
        .args([
            "sim",
            "--scenario",
            sc.to_str().unwrap(),
            "--json",
            "--drive",
        ])
        .args(["--dtmf", "inband", "--record-dir", media.to_str().unwrap()])
        .output()
        .unwrap();
    let v = json(&out);
    let f = &v["drive"]["flow"];
    assert_eq!(f["dtmf"], "inband");
    let sent = f["keys_sent"].as_u64().unwrap();
    assert!(sent > 5, "{f}");
    assert_eq!(f["keys_detected"].as_u64(), Some(sent), "{f}");
    assert_eq!(f["calls_mismatched"], 0, "{f}");
    assert_eq!(f["nodes_differing"], 0, "{f}");
    assert_eq!(f["calls_matched"], f["legs"]);
    let scores = f["media"]["survey_scores"].as_array().unwrap();
    assert!(!scores.is_empty(), "{f}");
    assert_eq!(f["surveys_mismatched"], 0);
    let mails = f["media"]["voicemails"].as_array().unwrap();
    assert!(!mails.is_empty(), "{f}");
    for m in mails {
        let wav = std::path::PathBuf::from(m.as_str().unwrap());
        assert!(wav.starts_with(&media), "{}", wav.display());
        assert!(wav.exists() && wav.with_extension("json").exists());
    }
}

#[test]
fn drive_refuses_flow_options_it_cannot_honour() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("flow.toml");
    std::fs::write(&sc, FLOW).unwrap();
    let sc = sc.to_str().unwrap();
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, PLAIN).unwrap();
    let plain = plain.to_str().unwrap().to_string();
    // Runs as it is.
    let ok = tandem()
        .args(["sim", "--scenario", &plain, "--drive", "--quiet"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for args in [
        vec!["sim", "--scenario", sc, "--drive", "--time-scale", "2"],
        vec![
            "sim",
            "--scenario",
            sc,
            "--drive",
            "--dtmf",
            "smoke-signals",
        ],
        // No flow: nothing to key.
        vec!["sim", "--scenario", &plain, "--drive", "--dtmf", "inband"],
    ] {
        let out = tandem().args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
    }
}
