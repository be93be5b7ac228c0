//! A real daemon on 127.0.0.1 against strangers on its media ports, endpoints that move,
//! signalling that names the relay itself, and legs that fall silent in turn.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use support::{Daemon, Phone, cmd, error, eventually, local, marked, ok, rtp, sdp};
use tandem_serve::bencode::Value;

const EVIL: u8 = 0xEE;
const PERIOD: Duration = Duration::from_millis(20);

/// Payloads a phone received, checked to be exactly `mark`'s packets in order; returns
/// how many.
fn only_from(got: &[Vec<u8>], mark: u8) -> usize {
    let mut last = None;
    for p in got {
        assert_eq!(
            p[0],
            mark,
            "a packet not sent by the party: {:02x?}",
            &p[..4]
        );
        assert!(p.iter().skip(3).all(|&b| b == mark), "payload altered");
        let n = u16::from_be_bytes([p[1], p[2]]);
        assert!(
            last.is_none_or(|l| n > l),
            "out of order: {n} after {last:?}"
        );
        last = Some(n);
    }
    got.len()
}

/// Every kind of hostile datagram a stranger can send at one relay port (and its RTCP
/// port), in period `n`. `victim_ssrc` is the SSRC of the party that really sends there.
struct Stranger {
    burst: UdpSocket,
    flood: UdpSocket,
    spoof: UdpSocket,
    runner: UdpSocket,
    junk: UdpSocket,
    seq: u16,
}

impl Stranger {
    fn new() -> Stranger {
        let s = || UdpSocket::bind("127.0.0.1:0").unwrap();
        Stranger {
            burst: s(),
            flood: s(),
            spoof: s(),
            runner: s(),
            junk: s(),
            seq: 0,
        }
    }

    fn attack(&mut self, n: u16, port: SocketAddr, victim_ssrc: u32, victim_seq: u16) {
        let evil = [EVIL; 160];
        let rtcp = SocketAddr::new(port.ip(), port.port() + 1);
        if n % 5 == 0 {
            // Two back to back, sequence numbers continuing across bursts.
            for _ in 0..2 {
                self.seq = self.seq.wrapping_add(1);
                self.burst
                    .send_to(&rtp(0xBAD, self.seq, &evil), port)
                    .unwrap();
            }
            self.junk
                .send_to(&[0x81, 200, 0xFF, 0xFF, 1, 2], rtcp)
                .unwrap();
            self.junk.send_to(&[0xAB; 300], rtcp).unwrap();
        }
        for k in 0..3u32 {
            let ssrc = 0xF000_0000 ^ (u32::from(n) << 8) ^ k;
            self.flood.send_to(&rtp(ssrc, n, &evil), port).unwrap();
        }
        // The victim's own SSRC, one packet ahead of it.
        self.spoof
            .send_to(&rtp(victim_ssrc, victim_seq.wrapping_add(1), &evil), port)
            .unwrap();
        // A perfect stream of its own.
        self.runner.send_to(&rtp(0x5EED, n, &evil), port).unwrap();
        self.junk.send_to(&[], port).unwrap();
        if n % 25 == 0 {
            let mut big = rtp(0xB16, n, &[]);
            big.resize(65_000, EVIL);
            self.junk.send_to(&big, port).unwrap();
        }
    }
}

fn attacked_call(driver: &str, strict: bool) {
    let Some(d) = Daemon::start(driver, 100, |_| {}) else {
        return;
    };
    let mut alice = Phone::new(0xA11CE);
    let mut bob = Phone::new(0xB0B);
    let flags = Value::List(vec![Value::str("strict-source")]);
    let extra: Vec<(&str, Value)> = if strict {
        vec![("flags", flags)]
    } else {
        Vec::new()
    };
    let (to_alice, to_bob) = d.call("attacked", &alice, &bob, &extra);
    let (mut at_alice_port, mut at_bob_port) = (Stranger::new(), Stranger::new());
    for n in 0..150u16 {
        alice.send(to_alice, &marked(0xA1, n));
        bob.send(to_bob, &marked(0xB0, n));
        at_alice_port.attack(n, to_alice, alice.ssrc, alice.seq);
        at_bob_port.attack(n, to_bob, bob.ssrc, bob.seq);
        std::thread::sleep(PERIOD);
    }
    let heard_by_bob = only_from(&bob.drain(Duration::from_millis(300)), 0xA1);
    let heard_by_alice = only_from(&alice.drain(Duration::from_millis(300)), 0xB0);
    assert!(
        heard_by_bob >= 140,
        "strict={strict}: Bob heard {heard_by_bob} of 150"
    );
    assert!(
        heard_by_alice >= 140,
        "strict={strict}: Alice heard {heard_by_alice} of 150"
    );
    // The drops are counted in the call's statistics.
    let q = ok(&d.ng(&cmd("query", "attacked"))).clone();
    let errors = q
        .get("totals")
        .and_then(|t| t.get("RTP"))
        .and_then(|r| r.get("errors"))
        .and_then(Value::as_int)
        .unwrap();
    assert!(errors > 1_000, "strict={strict}: {errors} errors counted");
    d.stop();
}

#[test]
fn strangers_never_reach_the_other_party() {
    attacked_call("mio", false);
}

#[test]
fn strangers_never_reach_the_other_party_on_io_uring() {
    attacked_call("io-uring", false);
}

#[test]
fn strict_source_protects_both_legs() {
    attacked_call("mio", true);
}

#[test]
fn a_party_whose_nat_rebinds_is_followed() {
    let d = Daemon::start("mio", 100, |_| {}).unwrap();
    let mut alice = Phone::new(0xA11CE);
    let mut bob = Phone::new(0xB0B);
    let (to_alice, to_bob) = d.call("moving", &alice, &bob, &[]);
    for n in 0..25u16 {
        alice.send(to_alice, &marked(0xA1, n));
        std::thread::sleep(PERIOD);
    }
    assert_eq!(only_from(&bob.drain(Duration::from_millis(100)), 0xA1), 25);
    // The same stream now leaves from another port; the old one is silent.
    let mut moved = Phone::new(0xA11CE);
    moved.seq = alice.seq;
    for n in 25..100u16 {
        moved.send(to_alice, &marked(0xA1, n));
        std::thread::sleep(PERIOD);
    }
    let got = bob.drain(Duration::from_millis(200));
    let relayed = only_from(&got, 0xA1);
    // Followed once the old source has been silent for the idle window (500 ms).
    assert!(relayed >= 40, "{relayed} of 75 relayed after the move");
    assert_eq!(got.last().unwrap(), &marked(0xA1, 99));
    // Bob's media now reaches Alice's new address, not the old one.
    alice.drain(Duration::from_millis(50));
    for n in 0..5 {
        bob.send(to_bob, &marked(0xB0, n));
    }
    assert_eq!(only_from(&moved.drain(Duration::from_millis(200)), 0xB0), 5);
    assert!(alice.drain(Duration::from_millis(50)).is_empty());
    d.stop();
}

#[test]
fn signalling_that_names_the_relay_itself_is_refused() {
    let d = Daemon::start("mio", 100, |_| {}).unwrap();
    let alice = Phone::new(1);
    let own_media = local(d.ports.0 + 10);
    let loopback_alias: SocketAddr = format!("127.0.0.2:{}", d.ports.0 + 12).parse().unwrap();
    for (n, target) in [own_media, loopback_alias, d.ng].into_iter().enumerate() {
        let reason = error(&d.offer(&format!("loop-{n}"), target, &[]));
        assert!(reason.contains(&target.to_string()), "{reason}");
        assert!(reason.contains("own"), "{reason}");
    }
    assert_eq!(d.current("channels"), 0, "a refused offer creates nothing");
    assert_eq!(d.current("sessionsown"), 0);
    // A port of the media range that another program holds is that program's: a phone on
    // the relay's host with an ephemeral port inside the range is a party like any other.
    let neighbour = UdpSocket::bind(local(d.ports.1 - 1)).unwrap();
    ok(&d.offer("neighbour", neighbour.local_addr().unwrap(), &[]));
    ok(&d.delete("neighbour"));
    // The metrics listener is TCP: a phone's UDP port may carry the same number (media to
    // it cannot loop), so it is a party like any other.
    ok(&d.offer("tcp-twin", d.metrics.unwrap(), &[]));
    ok(&d.delete("tcp-twin"));

    // An answer naming the port the relay gave for the callee.
    let to_callee = support::sdp_port(ok(&d.offer("c", alice.addr(), &[])));
    let relay = local(to_callee);
    let reason = error(&d.answer("c", relay));
    assert!(reason.contains(&relay.to_string()), "{reason}");
    // The call is as it was: unanswered, two channels.
    assert_eq!(d.current("channels"), 2);
    let bob = Phone::new(2);
    ok(&d.answer("c", bob.addr()));
    d.stop();
}

#[test]
fn a_call_is_deleted_only_when_every_leg_is_silent_at_once() {
    let d = Daemon::start("mio", 100, |c| c.timeout = 1).unwrap();
    let mut alice = Phone::new(1);
    let mut bob = Phone::new(2);
    let (to_alice, to_bob) = d.call("turns", &alice, &bob, &[]);
    // Alice silent 1.6 s while Bob talks (her leg times out), then Alice talks 1.6 s while
    // Bob is silent (his leg times out; hers has resumed).
    for _ in 0..80 {
        bob.send(to_bob, &marked(0xB0, 0));
        std::thread::sleep(PERIOD);
    }
    for _ in 0..80 {
        alice.send(to_alice, &marked(0xA1, 0));
        std::thread::sleep(PERIOD);
    }
    ok(&d.ng(&cmd("query", "turns")));
    assert_eq!(d.total("timeoutsessions"), 0);
    // Both silent: the call goes within the timeout and a tick or two.
    assert!(eventually(Duration::from_secs(4), || {
        d.ng(&cmd("query", "turns"))
            .get("result")
            .and_then(Value::as_str)
            == Some("error")
    }));
    assert_eq!(d.total("timeoutsessions"), 1);
    d.stop();
}

#[test]
fn hold_with_a_wildcard_address_is_not_a_loop() {
    let d = Daemon::start("mio", 100, |_| {}).unwrap();
    let alice = Phone::new(1);
    ok(&d.offer("h", alice.addr(), &[]));
    // The old hold convention: c=0.0.0.0 (on a port inside the relay's range, even).
    let held = SocketAddr::from(([0, 0, 0, 0], d.ports.0 + 20));
    ok(&d.ng(&cmd("offer", "h")
        .with("from-tag", Value::str("caller"))
        .with("sdp", Value::str(&sdp(held)))));
    d.stop();
}
