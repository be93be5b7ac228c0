//! The conference generator against stand-in rooms and against nobody.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tandem_codecs::g711::{Law, decode_frame, encode_frame};
use tandem_codecs::rtp::{self, FIXED_HEADER_LEN};

use super::{ConferenceConfig, run_conference};
use crate::probe::{FRAME_LEN, SILENCE};
use crate::rtp_out::PACKET_LEN;

/// A stand-in room on one thread: latches each participant's address from its packets
/// and, for every packet it receives, sends every other participant `sum − own` of the
/// latest frames (a crude mixer, but with the room's arithmetic); `leak` also sends each
/// mix to the next room's first participant.
fn toy_rooms(
    rooms: usize,
    k: usize,
    leak: bool,
    run: Duration,
) -> (Vec<SocketAddr>, std::thread::JoinHandle<()>) {
    let socks: Vec<std::net::UdpSocket> = (0..rooms * k)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports = socks.iter().map(|s| s.local_addr().unwrap()).collect();
    for s in &socks {
        s.set_nonblocking(true).unwrap();
    }
    let h = std::thread::spawn(move || {
        let n = socks.len();
        let mut peer = vec![None; n];
        let mut last = vec![[SILENCE; FRAME_LEN]; n];
        let mut seq = vec![0u16; n];
        let end = std::time::Instant::now() + run;
        let mut buf = [0u8; 2048];
        while std::time::Instant::now() < end {
            let mut idle = true;
            for j in 0..n {
                let Ok((len, from)) = socks[j].recv_from(&mut buf) else {
                    continue;
                };
                idle = false;
                peer[j] = Some(from);
                last[j].copy_from_slice(&buf[FIXED_HEADER_LEN..len]);
                let room = j / k;
                for l in room * k..room * k + k {
                    if l == j {
                        continue;
                    }
                    let mut sum = [0i32; FRAME_LEN];
                    for (t, frame) in last.iter().enumerate().skip(room * k).take(k) {
                        if t != l {
                            let mut p = [0i16; FRAME_LEN];
                            decode_frame(Law::Ulaw, frame, &mut p);
                            for (s, v) in sum.iter_mut().zip(p) {
                                *s += i32::from(v);
                            }
                        }
                    }
                    let pcm: Vec<i16> =
                        sum.iter().map(|&s| s.clamp(-32768, 32767) as i16).collect();
                    let mut pkt = vec![0u8; PACKET_LEN];
                    rtp::RtpHeader {
                        payload_type: 0,
                        sequence: seq[l],
                        ssrc: l as u32,
                        ..Default::default()
                    }
                    .write_into(&mut pkt, &[0; FRAME_LEN])
                    .unwrap();
                    encode_frame(Law::Ulaw, &pcm, &mut pkt[FIXED_HEADER_LEN..]);
                    seq[l] = seq[l].wrapping_add(1);
                    if let Some(to) = peer[l] {
                        let _ = socks[l].send_to(&pkt, to);
                    }
                    if leak && l == room * k + 1 {
                        let other = ((room + 1) % (n / k)) * k;
                        if let Some(to) = peer[other] {
                            let _ = socks[other].send_to(&pkt, to);
                        }
                    }
                }
            }
            if idle {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    });
    (ports, h)
}

fn config(k: usize) -> ConferenceConfig {
    ConferenceConfig {
        participants: k,
        duration: Duration::from_millis(400),
        warmup: Duration::from_millis(100),
        drain: Duration::from_millis(100),
        ..ConferenceConfig::default()
    }
}

#[test]
fn a_mixer_that_keeps_samples_delivers_every_mark() {
    let (ports, h) = toy_rooms(2, 3, false, Duration::from_secs(2));
    let r = run_conference(&ports, &config(3)).unwrap();
    h.join().unwrap();
    assert_eq!((r.rooms, r.participants), (2, 6));
    assert_eq!(r.sent, 6 * 20, "{r:?}");
    assert_eq!(r.marks_expected, r.sent * 2);
    // The toy mixes once per received packet, so each mark is heard (usually more than
    // once: the later copies are duplicates).
    assert_eq!(r.marks_heard, r.marks_expected, "{r:?}");
    assert_eq!((r.marks_lost, r.pairs_unheard), (0, 0));
    assert_eq!((r.cross_talk, r.echo, r.malformed), (0, 0, 0), "{r:?}");
    assert_eq!(r.unprimed, 0);
    assert!(r.latency_p50_us > 0.0 && r.latency_max_us >= r.latency_p99_us);
}

#[test]
fn leaked_mixes_are_cross_talk() {
    let (ports, h) = toy_rooms(2, 3, true, Duration::from_secs(2));
    let r = run_conference(&ports, &config(3)).unwrap();
    h.join().unwrap();
    assert!(r.cross_talk > 0, "{r:?}");
}

#[test]
fn nobody_mixing_means_every_mark_lost() {
    let sinks: Vec<std::net::UdpSocket> = (0..3)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<SocketAddr> = sinks.iter().map(|s| s.local_addr().unwrap()).collect();
    let r = run_conference(&ports, &config(3)).unwrap();
    assert_eq!(r.sent, 3 * 20);
    assert_eq!((r.marks_heard, r.marks_lost), (0, r.sent * 2));
    assert_eq!((r.loss_ratio, r.pairs_unheard, r.unprimed), (1.0, 6, 3));
}

#[test]
fn bad_shapes_are_refused() {
    let p: Vec<SocketAddr> = (0..6)
        .map(|i| SocketAddr::from(([127, 0, 0, 1], 9000 + i)))
        .collect();
    for (ports, k) in [(&p[..], 2), (&p[..], 21), (&p[..4], 3), (&p[..0], 3)] {
        let e = run_conference(ports, &config(k)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{k}: {e}");
    }
}
