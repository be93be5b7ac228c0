//! Drive mode on the memory transport: the media changes nothing the model decides, a
//! perfect network loses nothing, and the E-model sees a lossy network.

use tandem_engine::Micros;
use tandem_engine::NetworkConditions;
use tandem_sim::Scenario;
use tandem_sim::drive::{DriveConfig, drive};
use tandem_sim::lifecycle::{Ending, Transcript, Transition};
use tandem_sim::model::Run;

/// A small, busy centre: trunk, IVR, queue and ring losses all happen, with redials.
fn small() -> Scenario {
    Scenario::from_toml(
        r#"
name = "small"
duration_s = 300
seed = 11
[arrivals]
kind = "poisson"
per_min = 40
[redial]
probability = 0.3
delay = { kind = "exponential", mean = 30 }
[trunks]
channels = 14
[ivr]
ports = 5
time = { kind = "lognormal", mean = 6, sd = 2 }
self_service = 0.1
no_answer_hangup_s = 5
[queue]
patience = { kind = "lognormal", mean = 25, sd = 10 }
[agents]
count = 6
talk = { kind = "lognormal", mean = 30, sd = 10 }
acw = { kind = "deterministic", value = 2 }
ring = { kind = "uniform", min = 1, max = 4 }
ring_timeout_s = 3.5
"#,
        "small.toml",
        None,
    )
    .unwrap()
}

#[test]
fn drive_mode_takes_the_same_decisions_as_the_pure_model() {
    let sc = small();
    let pure = Run::new(&sc, 0).unwrap().run().unwrap();
    let d = drive(&sc, &DriveConfig::default()).unwrap();
    let (a, b) = (pure.totals(), d.metrics.totals());
    assert_eq!(a, b, "counts differ");
    assert!(
        a.trunk_lost > 0.0 && a.ivr_lost > 0.0 && a.queue_abandoned > 0.0,
        "{a:?}"
    );
    assert!(a.ring_lost > 0.0 || a.answered > 0.0);
    assert_eq!(pure.pieces, d.metrics.pieces);
    assert_eq!(pure.waits_ms, d.metrics.waits_ms, "answer waits differ");
    assert_eq!(pure.events, d.metrics.events);
    assert_eq!(pure.end_time, d.metrics.end_time);
    // Every agent-occupancy step was the same: the ACD routed identically.
    assert_eq!(pure.agents_busy.area, d.metrics.agents_busy.area);
    assert_eq!(pure.trunks.area, d.metrics.trunks.area);
    // And the report built from them is the one a pure run prints.
    let pure_report = tandem_sim::Report::from_runs(&sc, &[pure]);
    assert_eq!(pure_report.to_text(), d.report.to_text());

    // The media followed the model: a conversation per answered call.
    let c = &d.drive.counters;
    println!("{}", d.drive.to_text());
    assert_eq!(c.answered as f64, b.answered);
    assert_eq!(d.drive.media.conversations as f64, b.answered);
    assert_eq!(c.trunk_blocked as f64, b.trunk_lost);
    assert_eq!(c.calls as f64, b.offered - b.trunk_lost);
    assert_eq!(c.errors, 0, "{:?}", c.first_errors);
    assert_eq!(c.calls_open_at_end, 0);
}

#[test]
fn a_transcript_observer_sees_every_call_end_once() {
    let sc = small();
    let mut t = Transcript::default();
    let m = Run::with_observer(&sc, 0, &mut t).unwrap().run().unwrap();
    let tot = m.totals();
    let count = |f: &dyn Fn(&Transition) -> bool| t.steps.iter().filter(|s| f(&s.2)).count() as f64;
    assert_eq!(
        count(&|s| matches!(s, Transition::TrunkBlocked)),
        tot.trunk_lost
    );
    assert_eq!(
        count(&|s| matches!(s, Transition::Seized { .. })),
        tot.offered - tot.trunk_lost
    );
    assert_eq!(
        count(&|s| matches!(s, Transition::Answered { .. })),
        tot.answered
    );
    assert_eq!(
        count(&|s| *s == Transition::Ended(Ending::IvrLost)),
        tot.ivr_lost
    );
    assert_eq!(
        count(&|s| *s == Transition::Ended(Ending::QueueAbandoned)),
        tot.queue_abandoned
    );
    assert_eq!(
        count(&|s| *s == Transition::Ended(Ending::RingAbandoned)),
        tot.ring_lost
    );
    assert_eq!(
        count(&|s| *s == Transition::Ended(Ending::TalkEnded)),
        tot.answered
    );
    assert_eq!(
        count(&|s| *s == Transition::Ended(Ending::SelfService)),
        tot.ivr_completed
    );
    // Every seized call ends exactly once, and the steps are in time order.
    let seized = count(&|s| matches!(s, Transition::Seized { .. }));
    let ended = count(&|s| matches!(s, Transition::Ended(_)));
    assert_eq!(seized, ended);
    assert!(t.steps.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn a_perfect_network_loses_no_media() {
    let sc = small();
    let cfg = DriveConfig {
        network: NetworkConditions {
            delay: Micros::from_us(1_000),
            jitter: Micros::from_us(0),
            loss: 0.0,
        },
        ..DriveConfig::default()
    };
    let d = drive(&sc, &cfg).unwrap().drive;
    let m = &d.media;
    let c = &d.counters;
    assert!(m.conversations > 10, "{m:?}");
    assert_eq!(
        (m.voice_lost, m.reordered, m.duplicates),
        (0, 0, 0),
        "{m:?}"
    );
    assert!(m.voice_received > 1000 * m.conversations / 2, "{m:?}");
    assert_eq!(
        (c.misrouted, c.wrong_source, c.malformed),
        (0, 0, 0),
        "{c:?}"
    );
    assert_eq!(c.downlink_rtp_lost, 0, "{c:?}");
    // Phone → engine → phone over two 1 ms links, forwarded at once.
    assert!(
        (m.latency_ms.p50 - 2.0).abs() < 0.01 && m.latency_ms.max < 2.01,
        "{m:?}"
    );
    // Prompts, music and ringback reached the callers.
    assert!(c.unmarked > 0 && c.announcements > 0 && c.plays_started > 0);
    assert!(
        m.quality.r_min > 90.0 && m.quality.mos_min > 4.3,
        "{:?}",
        m.quality
    );
    assert!(d.real_time_factor > 1.0, "{}", d.real_time_factor);
}

#[test]
fn a_lossy_network_lowers_the_e_model_rating() {
    let sc = small();
    let cfg = DriveConfig {
        network: NetworkConditions {
            delay: Micros::from_us(40_000),
            jitter: Micros::from_us(15_000),
            loss: 0.01,
        },
        ..DriveConfig::default()
    };
    let d = drive(&sc, &cfg).unwrap().drive;
    println!("{}", d.to_text());
    let m = &d.media;
    // Two lossy links in a row: about 2% of voice lost.
    assert!(m.voice_loss_pct > 1.5 && m.voice_loss_pct < 2.5, "{m:?}");
    assert!(m.reordered > 0);
    assert!(
        m.latency_ms.p50 > 80.0 && m.latency_ms.max <= 110.5,
        "{:?}",
        m.latency_ms
    );
    let q = &m.quality;
    // About 2% random loss with PLC (Ie,eff ≈ 7) and ~125 ms mouth to ear: R in the 80s.
    assert!(q.aggregate_r > 78.0 && q.aggregate_r < 88.0, "{q:?}");
    assert!(
        q.r_mean < 88.0 && q.mos_mean > 3.8 && q.mos_mean < 4.3,
        "{q:?}"
    );
    assert!((q.aggregate_burst_r - 1.0).abs() < 0.3, "{q:?}");
}

#[test]
fn callbacks_become_outbound_conversations() {
    let sc = Scenario::from_toml(
        r#"
name = "callbacks"
duration_s = 240
seed = 2
[arrivals]
kind = "poisson"
per_min = 20
[queue]
patience = { kind = "lognormal", mean = 60, sd = 20 }
[agents]
count = 3
talk = { kind = "lognormal", mean = 20, sd = 5 }
[callback]
offer_when_expected_wait_s = 15
dial_time = { kind = "deterministic", value = 4 }
answer_probability = 0.7
start_at_s = 60
[callers]
population = 1000000
"#,
        "callbacks.toml",
        None,
    )
    .unwrap();
    let d = drive(&sc, &DriveConfig::default()).unwrap();
    let tot = d.metrics.totals();
    let c = &d.drive.counters;
    assert!(
        tot.callback_offered > 5.0 && tot.callback_served > 2.0,
        "{tot:?}"
    );
    assert_eq!(c.errors, 0, "{:?}", c.first_errors);
    assert_eq!(c.callbacks_connected as f64, tot.callback_served);
    assert!(c.callbacks_dialled >= c.callbacks_connected);
    assert_eq!(
        d.drive.media.conversations as f64,
        tot.answered + tot.callback_served
    );
    assert!(d.drive.calls.iter().filter(|m| m.outbound).count() as f64 == tot.callback_served);
    assert_eq!(d.drive.media.voice_lost, 0);
    assert_eq!(c.calls_open_at_end, 0);
}
