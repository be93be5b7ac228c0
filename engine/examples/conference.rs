//! A three-party conference with a recording, on the in-memory engine.
//!
//! Three phones join one room; each hears the other two mixed (never itself). A recording
//! taps the room with one file channel per participant. The phones here are addresses on
//! the in-memory engine's simulated network, so the run is deterministic and takes a few
//! milliseconds; the same code drives the threaded engine (see `bridge_udp`).
//!
//! Run with `cargo run -p tandem-engine --example conference`.

use std::net::SocketAddr;

use tandem_codecs::g711;
use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_codecs::wav::Encoding;
use tandem_engine::{
    ChannelSpec, Command, EngineError, Event, GroupKey, MediaEngine, MemoryEngine, Micros,
    NetworkConditions, ParticipantOptions, RoomOptions, RtcpMode, TapMode, TapSpec, TapTarget,
};

/// 20 ms of a tone at `hz`, μ-law.
fn tone(hz: f64, frame: u32) -> Vec<u8> {
    (0..160)
        .map(|i| {
            let t = f64::from(frame * 160 + i) / 8000.0;
            g711::linear_to_ulaw((8000.0 * (std::f64::consts::TAU * hz * t).sin()) as i16)
        })
        .collect()
}

fn rtp(ssrc: u32, frame: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    RtpHeader {
        payload_type: 0,
        sequence: frame as u16,
        timestamp: frame * 160,
        ssrc,
        ..RtpHeader::default()
    }
    .write(&mut out, payload)
    .expect("a valid header");
    out
}

fn main() -> Result<(), EngineError> {
    let mut engine = MemoryEngine::new(1, NetworkConditions::default(), 7);
    let conference = GroupKey(100);
    let room = engine.create_room(
        conference,
        RoomOptions {
            vad_gate: false,
            ..RoomOptions::default()
        },
    )?;

    // Three phones, each a channel in the room.
    let phones: Vec<SocketAddr> = (1..=3)
        .map(|i| format!("192.0.2.{i}:4000").parse().expect("an address"))
        .collect();
    let mut channels = Vec::new();
    for &phone in &phones {
        let ch = engine.create_channel(
            conference,
            ChannelSpec {
                remote: Some(phone),
                rtcp: RtcpMode::Off,
                ..ChannelSpec::default()
            },
        )?;
        engine.command(Command::JoinRoom {
            room,
            channel: ch.id,
            options: ParticipantOptions::default(),
        })?;
        channels.push(ch);
    }

    // Record the room: one file channel per participant.
    let path = std::env::temp_dir().join(format!("tandem-conference-{}.wav", std::process::id()));
    let tap = engine.start_tap(
        TapTarget::Room(room),
        TapSpec {
            path: path.clone(),
            mode: TapMode::Multitrack,
            encoding: Encoding::Pcm16,
        },
    )?;

    // Two seconds of talk: each phone its own tone, a packet every 20 ms.
    let tones = [440.0, 660.0, 880.0];
    for frame in 0..100u32 {
        for (i, ch) in channels.iter().enumerate() {
            let packet = rtp(0x100 + i as u32, frame, &tone(tones[i], frame));
            engine.send(phones[i], ch.local, &packet);
        }
        engine.advance_by(Micros::from_ms(20));
    }
    engine.command(Command::StopTap { tap })?;
    engine.advance_by(Micros::from_ms(100));

    for (i, &phone) in phones.iter().enumerate() {
        let mut heard = 0;
        while let Some(d) = engine.recv(phone) {
            if RtpPacket::parse(&d.data).is_ok() {
                heard += 1;
            }
        }
        println!("phone {} heard {heard} mixed frames", i + 1);
        assert!(heard >= 90, "a frame of the other two every 20 ms");
    }
    let mut finished = false;
    while let Some(event) = engine.poll_event() {
        if let Event::TapFinished {
            path, duration_ms, ..
        } = event
        {
            println!("recorded {duration_ms} ms into {}", path.display());
            finished = true;
        }
    }
    let _ = std::fs::remove_file(&path);
    assert!(finished, "the recording completed");
    Ok(())
}
