//! `tandem serve`'s lifecycle on the real binary: SIGTERM while calls are recording drains
//! the daemon (every WAV complete, exit status 0), SIGHUP reopens the log file, and logs
//! on a pipe carry no colour codes.

mod common;

use std::time::{Duration, Instant};

use tandem_codecs::wav::Wav;
use tandem_serve::bencode::Value;

use common::serve::{Rtp, Serve, answer, command, offer, result, sdp_port, tone_frame};

/// Root mean square of samples.
fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

/// Milliseconds of audio (20 ms frames louder than -30 dBFS) in one channel of an 8 kHz
/// recording: a tone sent at -12 dBFS is counted, silence and the relay's comfort filling
/// are not.
fn audible_ms(samples: &[i16]) -> f64 {
    let frames = samples.chunks(160).filter(|f| rms(f) > 1000.0).count();
    20.0 * frames as f64
}

#[test]
fn sigterm_finishes_every_recording_and_exits_zero() {
    const PACKETS: u32 = 100; // 2 s of audio on each leg
    const PLC_FADE_MS: f64 = 60.0;
    let mut d = Serve::start(&["--grace", "5"]);
    let mut ng = d.ng();
    let mut legs = Vec::new();
    for (k, call) in ["rec-1", "rec-2"].into_iter().enumerate() {
        let (alice, bob) = (Rtp::new(100 + k as u32), Rtp::new(200 + k as u32));
        let o = ng.request(&offer(call, alice.port()));
        assert_eq!(result(&o), "ok", "{o:?}");
        let a = ng.request(&answer(call, bob.port()));
        assert_eq!(result(&a), "ok", "{a:?}");
        let to_bob = ([127, 0, 0, 1], sdp_port(&o)).into();
        let to_alice = ([127, 0, 0, 1], sdp_port(&a)).into();
        legs.push((alice, to_alice, bob, to_bob));
    }
    // The shard skips ticks it is too late for (a loaded machine) and a recording has no
    // frame for a skipped tick: those are counted and allowed for.
    let missed_before = d.metric("tandem_shard_ticks_missed_total");
    let datagrams_before = d.metric("tandem_shard_datagrams_in_total");
    let recording_from = Instant::now();
    for call in ["rec-1", "rec-2"] {
        assert_eq!(result(&ng.request(&command("start recording", call))), "ok");
    }
    // Real RTP into both legs of both calls, paced at 20 ms, then SIGTERM at once.
    let t0 = Instant::now();
    for n in 0..PACKETS {
        let at = t0 + Duration::from_millis(20 * u64::from(n));
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        for (alice, to_alice, bob, to_bob) in &mut legs {
            alice.send(*to_alice, &tone_frame(400.0, n));
            bob.send(*to_bob, &tone_frame(1000.0, n));
        }
    }
    // Every packet has reached the relay, and the recorders' playout buffers (a few
    // frames) have had time to write the last of them: what SIGTERM then finds is the
    // whole conversation.
    let sent = f64::from(4 * PACKETS);
    let until = Instant::now() + Duration::from_secs(30);
    while d.metric("tandem_shard_datagrams_in_total") - datagrams_before < sent
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let missed = d.metric("tandem_shard_ticks_missed_total") - missed_before;
    d.signal("TERM");
    let status = d
        .wait_exit(Duration::from_secs(30))
        .expect("exited in time");
    // The recordings run from their start until the drain stops them: on a loaded machine
    // the signal and the drain come late, and the files end with that much silence.
    let life_ms = recording_from.elapsed().as_secs_f64() * 1000.0;
    assert!(status.success(), "{status:?}: {:?}", d.stderr());
    assert!(
        d.stderr().iter().any(|l| l.contains("shut down cleanly")),
        "{:?}",
        d.stderr()
    );
    let log = std::fs::read_to_string(d.log_path()).unwrap();
    assert_eq!(log.matches("recording finished").count(), 2, "{log}");

    let sent_ms = f64::from(PACKETS * 20);
    let expect_ms = sent_ms - 20.0 * missed;
    let mut wavs = 0;
    for entry in std::fs::read_dir(d.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "wav") {
            continue;
        }
        wavs += 1;
        let bytes = std::fs::read(&path).unwrap();
        let riff = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff, bytes.len() - 8, "{}: RIFF size", path.display());
        let wav = Wav::parse(&bytes).unwrap();
        assert!(
            wav.repaired.is_empty(),
            "{}: {:?}",
            path.display(),
            wav.repaired
        );
        assert_eq!((wav.format.channels, wav.format.sample_rate), (2, 8000));
        let ms = wav.duration_secs() * 1000.0;
        let audible = [audible_ms(&wav.channel(0)), audible_ms(&wav.channel(1))];
        println!(
            "{}: {ms} ms recorded, {audible:?} ms of it audio, {sent_ms} ms sent, {missed} \
             ticks skipped, {life_ms:.0} ms from the start of the recording to the exit",
            path.display()
        );
        // All the audio sent on each leg is in the file, and nothing else is loud but the
        // concealment after the last packet, which fades to silence within 60 ms (G.711
        // Appendix I).
        for (ch, a) in audible.into_iter().enumerate() {
            assert!(
                a >= expect_ms - 20.0 && a <= sent_ms + PLC_FADE_MS,
                "channel {ch}: {a} ms of audio, {sent_ms} ms sent, {missed} ticks skipped"
            );
        }
        // The file covers the recording's life and no more: from `start recording` to the
        // process's exit, to the frame.
        assert!(ms >= audible[0].max(audible[1]), "{ms} ms recorded");
        assert!(
            ms <= life_ms + 20.0,
            "{ms} ms recorded, {life_ms} ms from the start of the recording to the exit"
        );
    }
    assert_eq!(wavs, 2);
}

#[test]
fn sighup_reopens_the_log_file_and_sigint_drains() {
    let mut d = Serve::start(&[]);
    let log = d.log_path();
    let rotated = log.with_extension("log.1");
    std::fs::rename(&log, &rotated).unwrap();
    d.signal("HUP");
    let until = Instant::now() + Duration::from_secs(5);
    while !log.exists() {
        assert!(Instant::now() < until, "the log file was not reopened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ping = Value::dict().with("command", Value::str("ping"));
    assert_eq!(result(&d.ng().with_cookie("after-hup", &ping)), "pong");
    d.signal("INT");
    let status = d
        .wait_exit(Duration::from_secs(10))
        .expect("exited in time");
    assert!(status.success(), "{status:?}");
    let fresh = std::fs::read_to_string(&log).unwrap();
    let old = std::fs::read_to_string(&rotated).unwrap();
    assert!(old.contains("tandem serve listening"), "{old}");
    assert!(fresh.contains("log file reopened"), "{fresh}");
    assert!(fresh.contains("command=ping"), "{fresh}");
    assert!(fresh.contains("shutdown complete"), "{fresh}");
    assert!(
        !old.contains('\u{1b}') && !fresh.contains('\u{1b}'),
        "colour codes in the log"
    );
}

#[test]
fn logs_on_a_pipe_carry_no_colour() {
    let mut d = Serve::start_logging_to_stderr(&[]);
    let ping = Value::dict().with("command", Value::str("ping"));
    assert_eq!(result(&d.ng().with_cookie("p", &ping)), "pong");
    d.signal("TERM");
    assert!(d.wait_exit(Duration::from_secs(10)).unwrap().success());
    std::thread::sleep(Duration::from_millis(100));
    let err = d.stderr().join("\n");
    assert!(
        err.contains("command=ping") || err.contains("ng command"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "{err}");
}
