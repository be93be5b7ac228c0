//! Drive mode's recordings and supervisors: one stereo WAV per conversation with the caller
//! on the left and the agent on the right; supervised calls keep their media.

use tandem_codecs::wav::Wav;
use tandem_sim::Scenario;
use tandem_sim::drive::signal::{AGENT_HZ, CALLER_HZ, goertzel_power};
use tandem_sim::drive::{DriveConfig, drive};

fn scenario(extra: &str) -> Scenario {
    let text = format!(
        r#"
name = "recorded"
duration_s = 90
seed = 5
{extra}
[arrivals]
kind = "poisson"
per_min = 12
[trunks]
channels = 6
[queue]
patience = {{ kind = "deterministic", value = 40 }}
[agents]
count = 3
talk = {{ kind = "uniform", min = 4, max = 12 }}
ring = {{ kind = "deterministic", value = 1 }}
"#
    );
    Scenario::from_toml(&text, "recorded.toml", None).unwrap()
}

#[test]
fn every_conversation_is_a_stereo_wav_caller_left_agent_right() {
    let sc = scenario("record = true");
    let dir = tempfile::tempdir().unwrap();
    let cfg = DriveConfig {
        record_dir: Some(dir.path().to_path_buf()),
        ..DriveConfig::default()
    };
    let d = drive(&sc, &cfg).unwrap();
    let answered = d.metrics.totals().answered as usize;
    assert!(answered >= 5, "{answered}");
    let r = &d.drive;
    assert_eq!(r.counters.errors, 0, "{:?}", r.counters.first_errors);
    assert_eq!(r.calls.len(), answered);
    assert_eq!(r.counters.recordings_finished as usize, answered);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    assert_eq!(files.len(), answered, "{files:?}");
    let bytes: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    assert_eq!(r.counters.recording_bytes, bytes);
    for call in &r.calls {
        let path = call.recording.as_ref().expect("recorded");
        let wav = Wav::parse(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(
            (wav.format.channels, wav.format.sample_rate),
            (2, 8000),
            "{path:?}"
        );
        // The recording covers the conversation (within a few frames).
        assert!(
            (wav.duration_secs() - call.talk_s).abs() < 0.2,
            "{path:?}: {} s recorded, {} s talked",
            wav.duration_secs(),
            call.talk_s
        );
        let (left, right) = (wav.channel(0), wav.channel(1));
        // Skip the first 100 ms (the recording's jitter buffers fill).
        let (left, right) = (&left[800..], &right[800..]);
        let (l_caller, l_agent) = (
            goertzel_power(left, CALLER_HZ),
            goertzel_power(left, AGENT_HZ),
        );
        let (r_caller, r_agent) = (
            goertzel_power(right, CALLER_HZ),
            goertzel_power(right, AGENT_HZ),
        );
        assert!(
            l_caller > 50.0 * l_agent,
            "{path:?} left: {l_caller} vs {l_agent}"
        );
        assert!(
            r_agent > 50.0 * r_caller,
            "{path:?} right: {r_agent} vs {r_caller}"
        );
        // Loud enough to be the voice, not leakage: the voice's 400 Hz line is ~5,500.
        assert!(l_caller.sqrt() > 1_000.0 && r_agent.sqrt() > 1_000.0);
    }
}

#[test]
fn supervised_calls_keep_their_media() {
    let sc = scenario("supervisor_fraction = 1.0");
    let d = drive(&sc, &DriveConfig::default()).unwrap();
    let r = &d.drive;
    println!("{}", r.to_text());
    assert_eq!(r.counters.errors, 0, "{:?}", r.counters.first_errors);
    assert_eq!(r.counters.supervised, r.media.conversations);
    assert!(r.media.conversations >= 5);
    assert_eq!((r.counters.misrouted, r.counters.wrong_source), (0, 0));
    // Mixing re-times the voice through jitter buffers, but loses nothing on a clean network.
    assert!(r.media.voice_loss_pct < 0.5, "{:?}", r.media);
    assert!(
        r.calls
            .iter()
            .all(|c| c.supervised && c.uplink.received > 100)
    );
}

#[test]
fn unknown_scenario_keys_are_still_errors_and_the_new_keys_are_checked() {
    let text = r#"
name = "x"
duration_s = 10
supervisor_fraction = 1.5
[arrivals]
kind = "poisson"
per_min = 1
[queue]
patience = { kind = "deterministic", value = 1 }
[agents]
count = 1
talk = { kind = "deterministic", value = 1 }
"#;
    let e = Scenario::from_toml(text, "x.toml", None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("x.toml:4") && e.contains("supervisor_fraction"),
        "{e}"
    );
    let typo = text.replace("supervisor_fraction = 1.5", "recrod = true");
    assert!(Scenario::from_toml(&typo, "x.toml", None).is_err());
    assert!(!scenario("").record && scenario("record = true").record);
}
