//! `tandem sim --drive` with a scenario that names an IVR flow: every call that walks the
//! TV-shopping flow in the model runs the same flow in the engine, its phone pressing the
//! keys the model's caller chose; the engine's flow takes the same nodes.

use tandem_sim::Scenario;
use tandem_sim::drive::flow_report::DtmfMode;
use tandem_sim::drive::{DriveConfig, drive};
use tandem_sim::flow_metrics::{Exit, FlowEnd};
use tandem_sim::model::Run;

/// A few minutes of a small line through the TV-shopping flow: one agent, so some callers
/// wait out the queue's 45 s and leave a message; the rest order, track an order (ten
/// digits and #) or ask for a person, and rate the call after the agent.
fn small_flow(seed: u64, queue: &str) -> Scenario {
    let toml = format!(
        r#"
name = "small-flow"
duration_s = 150
seed = {seed}
[arrivals]
kind = "poisson"
per_min = 10
[trunks]
channels = 30
[ivr]
ports = 30
flow = "tv-shopping"
starts_at = "2025-03-10 20:30"
dnis = [
  {{ number = "4008101001", share = 0.5 }},
  {{ number = "4008101002", share = 0.5 }},
]
think = {{ kind = "deterministic", value = 1.5 }}
prompt_s = {{ kind = "deterministic", value = 2 }}
[ivr.prompts]
"tv/welcome-channel1" = {{ kind = "deterministic", value = 3 }}
"tv/welcome-channel2" = {{ kind = "deterministic", value = 3 }}
"tv/menu-order-1-track-2-agent-0" = {{ kind = "deterministic", value = 4 }}
[ivr.nodes.main]
choices = {{ "1" = 0.55, "2" = 0.2, "0" = 0.25 }}
[ivr.nodes.track]
digits = 10
digit_gap = {{ kind = "deterministic", value = 0.4 }}
[ivr.nodes.after_status]
choices = {{ "0" = 1.0 }}
no_input = 0.5
[ivr.nodes.sales_queue]
callback = 0.2
[ivr.nodes.voicemail]
message = {{ kind = "deterministic", value = 3 }}
[ivr.nodes.survey]
choices = {{ "1" = 0.2, "2" = 0.2, "3" = 0.3, "4" = 0.3 }}
[callback]
answer_probability = 0.5
busy_share = 1
dial_time = {{ kind = "deterministic", value = 8 }}
[queue]
patience = {{ kind = "deterministic", value = 300 }}
{queue}
[agents]
count = 1
talk = {{ kind = "deterministic", value = 15 }}
acw = {{ kind = "deterministic", value = 1 }}
ring = {{ kind = "deterministic", value = 1 }}
"#
    );
    Scenario::from_toml(&toml, "small-flow.toml", None).expect("the scenario")
}

fn run(dtmf: DtmfMode, queue: &str, dir: &std::path::Path) -> tandem_sim::drive::Drive {
    let sc = small_flow(3, queue);
    let cfg = DriveConfig {
        record_dir: Some(dir.to_path_buf()),
        dtmf,
        ..DriveConfig::default()
    };
    let d = drive(&sc, &cfg).expect("the drive run");
    // The media changed nothing the model decided.
    let pure = Run::new(&sc, 0).expect("a run").run().expect("the run");
    assert_eq!(pure.totals(), d.metrics.totals());
    d
}

#[test]
fn the_engine_walks_the_flow_the_model_walked_with_rfc4733_keys() {
    let dir = tempfile::tempdir().expect("a directory");
    let d = run(DtmfMode::Rfc4733, "", dir.path());
    let f = d.drive.flow.as_ref().expect("a flow section");
    println!("{}", d.drive.to_text());
    let c = &d.drive.counters;
    assert_eq!(c.errors, 0, "{:?}", c.first_errors);
    assert!(f.legs >= 8, "{f:#?}");
    // Every key the model's callers chose was pressed on a phone and detected by the
    // engine.
    assert!(f.keys_sent > 20, "{f:#?}");
    assert_eq!(c.keys_pressed, f.keys_sent);
    assert_eq!(f.keys_detected, f.keys_sent);
    // Call by call the engine's flow entered the model's nodes, and node by node the
    // counts agree.
    assert_eq!((f.calls_mismatched, f.legs_cut), (0, 0), "{f:#?}");
    assert_eq!(f.calls_matched, f.legs);
    assert_eq!(f.nodes_differing, 0, "{f:#?}");
    assert!(f.media.balanced(), "{f:#?}");
    let node = |n: &str| f.nodes.iter().find(|x| x.name == n).expect("a node");
    assert!(node("track").media_entries > 0, "{f:#?}");
    assert!(node("survey").media_entries > 0, "{f:#?}");
    assert!(node("voicemail").media_entries > 0, "{f:#?}");
    assert!(node("callback_confirmed").media_entries > 0, "{f:#?}");
    assert_eq!(
        f.media.callback_requests,
        node("callback_confirmed").media_entries
    );
    // The requests went on the ACD's list, and the agent called back: busy lines heard as
    // busy, answers bridged.
    let tot = d.metrics.totals();
    assert_eq!(tot.callback_offered, f.media.callback_requests as f64);
    assert!(tot.callback_attempts > 0.0, "{tot:?}");
    assert_eq!(c.callbacks_connected as f64, tot.callback_served);
    let p = &d.drive.call_progress;
    assert_eq!(p.busy.detected, p.busy.attempts);
    assert_eq!(p.answered.attempts as f64, tot.callback_served);
    // Survey scores came back as the engine's events, each the model's.
    assert!(!f.media.survey_scores.is_empty());
    assert_eq!(f.surveys_mismatched, 0);
    assert!(f.surveys_matched as usize >= f.media.survey_scores.len());
    // The messages: WAVs of the caller's voice under the run's directory, with sidecars.
    assert_eq!(
        f.media.voicemails.len() as u64,
        node("voicemail").media_entries
    );
    for v in &f.media.voicemails {
        assert!(v.starts_with(dir.path()), "{}", v.display());
        let wav = tandem_codecs::wav::Wav::read(std::fs::File::open(v).expect("the message"))
            .expect("a WAV");
        let secs = wav.duration_secs();
        assert!((2.5..=3.5).contains(&secs), "{secs} s");
        let samples = wav.samples();
        let hz = tandem_sim::drive::signal::CALLER_HZ;
        let on = tandem_sim::drive::signal::goertzel_power(&samples, hz);
        let off = tandem_sim::drive::signal::goertzel_power(&samples, hz * 1.37);
        assert!(on > 100.0 * off, "caller tone {on}, elsewhere {off}");
        let sidecar = std::fs::read_to_string(v.with_extension("json")).expect("a sidecar");
        assert!(sidecar.contains("\"mailbox\": \"sales\""), "{sidecar}");
    }
}

#[test]
fn in_band_keys_are_found_by_the_engines_detector() {
    let dir = tempfile::tempdir().expect("a directory");
    let d = run(DtmfMode::Inband, "", dir.path());
    let f = d.drive.flow.as_ref().expect("a flow section");
    println!("{}", d.drive.to_text());
    assert_eq!(d.drive.counters.errors, 0);
    assert_eq!(f.dtmf, DtmfMode::Inband);
    assert!(f.keys_sent > 20, "{f:#?}");
    assert_eq!(f.keys_detected, f.keys_sent);
    assert_eq!(f.calls_mismatched, 0, "{f:#?}");
    assert_eq!(f.nodes_differing, 0, "{f:#?}");
}

#[test]
fn a_flow_is_driven_at_time_scale_one_only() {
    let sc = small_flow(3, "");
    let cfg = DriveConfig {
        time_scale: 4.0,
        ..DriveConfig::default()
    };
    let e = drive(&sc, &cfg).expect_err("refused").to_string();
    assert!(e.contains("time scale 1"), "{e}");
}

#[test]
fn an_acd_overflow_sends_the_engines_flow_to_its_overflow_branch() {
    let dir = tempfile::tempdir().expect("a directory");
    // The ACD's rule (30 s) comes before the flow's own longest wait (45 s).
    let d = run(DtmfMode::Rfc4733, "voicemail_after_s = 30", dir.path());
    let f = d.drive.flow.as_ref().expect("a flow section");
    assert_eq!(d.drive.counters.errors, 0);
    assert!(d.metrics.totals().voicemail > 0.0);
    assert!(!f.media.voicemails.is_empty(), "{f:#?}");
    assert_eq!((f.calls_mismatched, f.nodes_differing), (0, 0), "{f:#?}");
    // Each message ended when the model's did: none of the engine's flows was left waiting
    // for its own longest wait.
    assert_eq!((f.legs_cut, f.actions_unanchored), (0, 0), "{f:#?}");
    let node = |n: &str| f.nodes.iter().find(|x| x.name == n).expect("a node");
    assert_eq!(node("voicemail").media_abandons, 0);
}

/// A short line where an agent is free at once (no ring time), with `ports` IVR ports.
fn answer_at_once(ports: u32) -> Scenario {
    let text = format!(
        r#"
name = "answer-at-once"
duration_s = 60
seed = 4
[arrivals]
kind = "poisson"
per_min = 12
[ivr]
ports = {ports}
no_answer_hangup_s = 2
flow = "tv-shopping"
starts_at = "2025-03-10 20:30"
dnis = [{{ number = "4008101001", share = 1 }}]
think = {{ kind = "deterministic", value = 1.5 }}
prompt_s = {{ kind = "deterministic", value = 2 }}
[ivr.nodes.main]
choices = {{ "1" = 1 }}
[ivr.nodes.survey]
choices = {{ "4" = 1 }}
[queue]
patience = {{ kind = "deterministic", value = 300 }}
[agents]
count = 2
talk = {{ kind = "deterministic", value = 5 }}
ring = {{ kind = "deterministic", value = 0 }}
"#
    );
    Scenario::from_toml(&text, "answer-at-once.toml", None).expect("the scenario")
}

#[test]
fn an_agent_free_at_once_answers_when_the_engines_queue_prompt_has_ended() {
    // No ring time: the model's agent answers the moment the queue's prompt ends, which on
    // the engine is a frame later.
    let sc = answer_at_once(30);
    let d = drive(&sc, &DriveConfig::default()).expect("the run");
    let f = d.drive.flow.as_ref().expect("a flow section");
    assert!(f.legs > 0);
    assert_eq!(f.calls_matched, f.legs, "{f:#?}");
    assert_eq!((f.legs_cut, f.actions_unanchored), (0, 0), "{f:#?}");
    assert_eq!(f.media.survey_scores.len() as u64, f.legs);
}

#[test]
fn a_call_that_finds_no_port_after_the_agent_is_hung_up_on_the_engine_too() {
    // Two IVR ports: some callers find both taken when the agent hangs up, and the model
    // releases them before the survey; the engine's flow hears them hang up.
    let sc = answer_at_once(2);
    let d = drive(&sc, &DriveConfig::default()).expect("the run");
    let no_port = d
        .metrics
        .flow
        .as_ref()
        .expect("flow figures")
        .nodes
        .iter()
        .map(|n| {
            n.exits
                .iter()
                .filter(|(e, _)| *e == Exit::End(FlowEnd::NoPortAfterAgent))
                .map(|(_, k)| *k)
                .sum::<f64>()
        });
    assert!(no_port.sum::<f64>() > 0.0);
    let f = d.drive.flow.as_ref().expect("a flow section");
    assert_eq!(f.calls_matched, f.legs, "{f:#?}");
    assert_eq!((f.legs_cut, f.actions_unanchored), (0, 0), "{f:#?}");
    assert_eq!(d.drive.counters.errors, 0);
}
