//! IVR flows on real media: the TV-shopping flow runs in the engine on the memory transport,
//! the simulated callers key real RFC 4733 digits, and what the engine detected is what the
//! callers pressed.

use std::sync::Arc;

use tandem_engine::NetworkConditions;
use tandem_ivr::{CallInfo, Flow};
use tandem_sim::Scenario;
use tandem_sim::drive::flow::{scenario_prompt_length, synthetic_prompts};
use tandem_sim::drive::flow_rig::{Caller, FlowRig};
use tandem_sim::drive::transport::MemoryNet;

const TV_SHOPPING: &str = include_str!("../../ivr/flows/tv-shopping.toml");
/// 2025-03-10 20:30 at UTC+08:00: the line is open.
const MONDAY_EVENING: i64 = 1_741_609_800;

/// A rig for the TV-shopping flow with its prompts as long as the `tv-shopping-flow`
/// scenario says (the greeting 4 s, the menu 6 s, the survey question 4 s, others 3 s).
fn rig(dir: &std::path::Path) -> FlowRig<MemoryNet> {
    let sc = Scenario::built_in("tv-shopping-flow").expect("the scenario");
    let flow = Arc::clone(sc.ivr.as_ref().and_then(|i| i.flow()).expect("a flow"));
    let length = |name: &str| scenario_prompt_length(&sc, name);
    let prompts = synthetic_prompts(&flow, &length, &dir.join("prompts")).expect("prompts");
    let net = MemoryNet::new(1, NetworkConditions::default(), 11);
    FlowRig::new(net, flow, Arc::new(prompts), dir.join("voicemail"))
}

fn call(dnis: &str) -> CallInfo {
    CallInfo {
        dnis: dnis.into(),
        ani: "13800138000".into(),
        unix_time: MONDAY_EVENING,
    }
}

#[test]
fn menu_queue_agent_survey_with_real_digits() {
    let dir = tempfile::tempdir().expect("a directory");
    let mut rig = rig(dir.path());
    let scores = ['4', '1', '3', '2', '4'];
    for (i, score) in scores.iter().enumerate() {
        // The menu: 0 (an agent) or 1 (buy): both go to the sales queue.
        let menu_key = if i % 2 == 0 { '0' } else { '1' };
        let mut choose = |node: &str| match node {
            "main" => Some(menu_key),
            "survey" => Some(*score),
            _ => None,
        };
        let mut caller = Caller {
            choose: &mut choose,
            think_us: 700_000,
            queue_wait_us: 3_000_000,
            talk_us: 5_000_000,
        };
        rig.call(call("4008101001"), &mut caller).expect("the call");
    }
    let f = &rig.figures;
    let scores_keyed: Vec<u8> = scores.iter().map(|c| *c as u8 - b'0').collect();
    // The engine detected every key the phones pressed: the survey scores are the keys.
    assert_eq!(f.survey_scores, scores_keyed, "{f:#?}");
    assert_eq!(f.surveys_unanswered, 0);
    assert_eq!(rig.counters.keys_pressed, 2 * scores.len() as u64);
    assert_eq!((f.calls, f.ended), (5, 5));
    assert_eq!(f.queue_entries, 5);
    assert!(f.balanced(), "{f:#?}");
    let node = |n: &str| f.nodes.iter().find(|x| x.name == n).expect("a node");
    assert_eq!(node("main").entries, 5);
    assert_eq!(node("agent").entries, 3);
    assert_eq!(node("buy").entries, 2);
    assert_eq!(node("sales_queue").exits, 5);
    assert_eq!(node("survey").entries, 5);
    assert_eq!(node("goodbye").entries, 5);
    assert_eq!(node("closed").entries, 0);
    assert_eq!(f.media_failures, 0);
    assert_eq!(rig.counters.errors, 0, "{:?}", rig.counters.first_errors);
    // The scenario's prompt lengths hold on real media: nobody keys in the greeting, which
    // lasts its 4 s; the menu plays its 6 s, the caller keys 0.7 s after, and the key
    // counts when its 100 ms of telephone-events end (within a frame or two of the
    // players' and the phones' 20 ms steps).
    let near = |got: f64, want: f64| (got - want).abs() <= 0.06;
    let greet = node("greet_channel1");
    assert!(near(greet.time_s / greet.entries as f64, 4.0), "{greet:?}");
    let main = node("main");
    assert!(near(main.time_s / main.entries as f64, 6.8), "{main:?}");
    // The queue: its 2 s announcement, then 3 s to the answer and the 5 s conversation.
    let q = node("sales_queue");
    assert!(near(q.time_s / q.exits as f64, 10.0), "{q:?}");
}

#[test]
fn a_caller_who_keys_nothing_is_put_through_and_leaves_no_score() {
    let dir = tempfile::tempdir().expect("a directory");
    let mut rig = rig(dir.path());
    let mut choose = |_: &str| None;
    let mut caller = Caller {
        choose: &mut choose,
        think_us: 500_000,
        queue_wait_us: 1_000_000,
        talk_us: 1_000_000,
    };
    rig.call(call("4008101002"), &mut caller).expect("the call");
    let f = &rig.figures;
    assert_eq!(rig.counters.keys_pressed, 0);
    assert!(f.survey_scores.is_empty());
    assert_eq!(f.surveys_unanswered, 1);
    assert!(f.balanced(), "{f:#?}");
    let node = |n: &str| f.nodes.iter().find(|x| x.name == n).expect("a node");
    // No input in the menu: the flow puts the caller through to a person.
    assert_eq!(node("greet_channel2").entries, 1);
    assert_eq!(node("agent").entries, 1);
}

#[test]
fn a_prompt_without_a_length_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("a directory");
    let flow = Flow::from_toml(TV_SHOPPING, "tv-shopping.toml").expect("the flow");
    let e = synthetic_prompts(&flow, &|_| None, dir.path())
        .expect_err("no lengths")
        .to_string();
    assert!(e.contains("no length for prompt"), "{e}");
}

#[test]
fn a_caller_who_waits_too_long_leaves_a_voicemail_through_the_engine() {
    let dir = tempfile::tempdir().expect("a directory");
    let mut rig = rig(dir.path());
    let mut choose = |node: &str| match node {
        "main" => Some('1'),
        "voicemail" => Some('#'),
        _ => None,
    };
    let mut caller = Caller {
        choose: &mut choose,
        think_us: 3_000_000,
        // Longer than the queue's 45 s longest wait: nobody answers.
        queue_wait_us: 60_000_000,
        talk_us: 1_000_000,
    };
    rig.call(call("4008101001"), &mut caller).expect("the call");
    let f = &rig.figures;
    assert!(f.balanced(), "{f:#?}");
    assert_eq!(f.voicemails.len(), 1, "{f:#?}");
    assert!(f.survey_scores.is_empty() && f.surveys_unanswered == 0);
    let node = |n: &str| f.nodes.iter().find(|x| x.name == n).expect("a node");
    assert_eq!(node("voicemail").entries, 1);
    assert_eq!(node("survey").entries, 0);
    // The message is the caller's voice (its tone), recorded from the caller's channel
    // until the phone keyed #, about 3 s after the beep.
    let wav = tandem_codecs::wav::Wav::read(std::fs::File::open(&f.voicemails[0]).expect("a file"))
        .expect("a WAV");
    let secs = wav.duration_secs();
    assert!((2.5..=3.5).contains(&secs), "{secs} s");
    let samples = wav.samples();
    let hz = tandem_sim::drive::signal::CALLER_HZ;
    let on = tandem_sim::drive::signal::goertzel_power(&samples, hz);
    let off = tandem_sim::drive::signal::goertzel_power(&samples, hz * 1.37);
    assert!(on > 100.0 * off, "caller tone {on}, elsewhere {off}");
}
