//! The kernel fast path on real interfaces: peer A → relay → peer B across veth pairs in
//! network namespaces (see `support/netns.rs`). Skipped, with the reason printed, where the
//! process is not root, the program was not built or the kernel refuses it.

// Built without the program, the forwarder has nothing to drop; the drops that detach it
// are still the point where they stand.
#![allow(clippy::drop_non_drop)]

mod support;

use std::net::{SocketAddrV4, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tandem_codecs::g711;
use tandem_codecs::rtp::RtpPacket;
use tandem_kfwd::{
    Error, KernelForwarder, Output, SourceCheck, SourcePosition, StreamRule, Transcode,
};

use support::netns::{self, A, B, Lab, RELAY_A, RELAY_B};
use support::wire::{self, check_ipv4_udp, recv_n, rtp, silent};

/// How long a check that nothing arrives waits.
const QUIET: Duration = Duration::from_millis(300);
/// How long an expected packet may take on a loaded machine (softirq work can be deferred
/// to ksoftirqd); receiving returns as soon as everything expected arrived.
const WAIT: Duration = Duration::from_secs(3);

/// Polls `cond` until it holds or `WAIT` passes.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}
const SRC_SSRC: u32 = 0x1111_2222;
const OUT_SSRC: u32 = 0xabcd_ef01;

/// One bridged call through the lab: peers' sockets, the relay's two leg sockets (where
/// passed-up packets land), and the forwarder attached to the relay's two veths.
struct Call {
    lab: Lab,
    fwd: KernelForwarder,
    a: UdpSocket,
    relay_a: UdpSocket,
    relay_b: UdpSocket,
    b: UdpSocket,
    /// Raw IPv4/UDP socket in B's namespace: every UDP packet B receives, headers included.
    raw_b: Socket,
}

fn addr(ip: std::net::Ipv4Addr, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip, port)
}

impl Call {
    fn new() -> Call {
        let lab = Lab::new().expect("lab");
        let fwd = lab
            .relay
            .enter(|| KernelForwarder::open(&["ra", "rb"]))
            .expect("forwarder");
        let raw_b = lab
            .b
            .enter(|| Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::UDP)).unwrap());
        raw_b.set_read_timeout(Some(WAIT)).unwrap();
        Call {
            a: lab.a.udp(addr(A, 5004)),
            relay_a: lab.relay.udp(addr(RELAY_A, 20_000)),
            relay_b: lab.relay.udp(addr(RELAY_B, 20_002)),
            b: lab.b.udp(addr(B, 6000)),
            lab,
            fwd,
            raw_b,
        }
    }

    /// A→B: arriving at the relay's leg-A port, leaving from its leg-B port.
    fn rule(
        &self,
        pt_in: u8,
        pt_out: u8,
        transcode: Transcode,
        seq_offset: u16,
        ts_offset: u32,
    ) -> StreamRule {
        let mut r = StreamRule::new(
            addr(RELAY_A, 20_000),
            SourceCheck::Strict(addr(A, 5004)),
            pt_in,
            Output {
                from: addr(RELAY_B, 20_002),
                to: addr(B, 6000),
                ssrc: OUT_SSRC,
                payload_type: pt_out,
                seq_offset,
                ts_offset,
                transcode,
            },
        );
        r.source_ssrc = Some(SRC_SSRC);
        r.telephone_event_pt = Some(101);
        r
    }

    fn send(&self, pkt: &[u8]) {
        self.a.send_to(pkt, addr(RELAY_A, 20_000)).unwrap();
    }

    /// UDP payloads B's raw socket saw, each checked for valid IPv4 and UDP checksums and
    /// the TTL a locally sent packet has.
    fn captured(&self, n: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
        while out.len() < n {
            let len = match self.raw_b.recv(&mut buf) {
                Ok(len) => len,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            // SAFETY: recv initialised the first `len` bytes.
            let pkt: Vec<u8> = buf[..len]
                .iter()
                .map(|b| unsafe { b.assume_init() })
                .collect();
            if pkt[16..20] != B.octets() || u16::from_be_bytes([pkt[22], pkt[23]]) != 6000 {
                continue;
            }
            let (ttl, udp_payload) = check_ipv4_udp(&pkt).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ttl, 64, "a forwarded packet leaves with a fresh TTL");
            out.push(udp_payload.to_vec());
        }
        out
    }
}

#[test]
fn a_registered_stream_is_forwarded_by_the_kernel_with_offsets_and_valid_checksums() {
    if netns::skip("forwarding") {
        return;
    }
    let call = Call::new();
    // The sender computes full checksums, so B's raw capture checks the kernel's updates.
    call.lab.a.set_tx_checksum("a0", false);
    let seq0 = 65_500u16; // the input and the output both wrap
    let (seq_off, ts_off) = (30u16, 0x8000_0000u32);
    let h = call
        .fwd
        .add_stream(&call.rule(0, 0, Transcode::None, seq_off, ts_off))
        .unwrap();
    let t0 = tandem_kfwd::monotonic_ns();
    let mut sent = Vec::new();
    for i in 0..60u16 {
        let seq = seq0.wrapping_add(i);
        let ts = 1000 + u32::from(i) * 160;
        let p = wire::payload(160, u32::from(i));
        call.send(&rtp(0, seq, ts, SRC_SSRC, i == 0, &p));
        sent.push((seq, ts, p));
    }
    let got = recv_n(&call.b, sent.len(), WAIT);
    assert_eq!(got.len(), sent.len(), "every packet reaches B");
    for ((data, from), (seq, ts, p)) in got.iter().zip(&sent) {
        assert_eq!(*from, std::net::SocketAddr::V4(addr(RELAY_B, 20_002)));
        let pkt = RtpPacket::parse(data).unwrap();
        assert_eq!(pkt.sequence(), seq.wrapping_add(seq_off));
        assert_eq!(pkt.timestamp(), ts.wrapping_add(ts_off));
        assert_eq!(pkt.ssrc(), OUT_SSRC);
        assert_eq!(pkt.payload_type(), 0);
        assert_eq!(pkt.marker(), *seq == seq0, "the marker passes through");
        assert_eq!(pkt.payload(), &p[..]);
    }
    let captured = call.captured(sent.len());
    assert_eq!(captured.len(), sent.len());
    assert!(
        silent(&call.relay_a, QUIET),
        "nothing reached the relay's socket"
    );
    assert_eq!(call.lab.b.snmp("Udp", "InCsumErrors"), 0);

    let c = call.fwd.counters(h).unwrap();
    assert_eq!(c.packets, 60);
    assert_eq!(c.octets, 60 * 160);
    assert_eq!(c.passed.total() + c.dropped.wrong_source, 0);
    let last = sent.last().unwrap();
    let out = c.output.unwrap();
    assert_eq!(
        (out.seq, out.ts),
        (last.0.wrapping_add(seq_off), last.1.wrapping_add(ts_off))
    );
    let src = c.source.unwrap();
    assert_eq!((src.max_seq, src.cycles, src.last_ts), (last.0, 1, last.1));
    let now = tandem_kfwd::monotonic_ns();
    let seen = c.last_forwarded_ns.unwrap();
    assert!(t0 <= seen && seen <= now, "{t0} <= {seen} <= {now}");
    let g = call.fwd.global_counters().unwrap();
    assert_eq!((g.matched, g.redirected), (60, 60));
}

/// Sends `n` packets of `payload_len` bytes with the given payload type, each payload a
/// different slice of all 256 codes; returns the payloads.
fn send_codes(call: &Call, pt: u8, n: u16, payload_len: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let p: Vec<u8> = (0..payload_len)
                .map(|j| (usize::from(i) * 97 + j) as u8)
                .collect();
            call.send(&rtp(
                pt,
                100 + i,
                16_000 + u32::from(i) * 240,
                SRC_SSRC,
                false,
                &p,
            ));
            p
        })
        .collect()
}

#[test]
fn the_kernel_transcodes_exactly_as_the_codec_crate_both_ways() {
    if netns::skip("transcoding") {
        return;
    }
    let call = Call::new();
    // Offload left on at the sender (partial checksums, the usual case) but off on the
    // relay's egress: the kernel completes the checksum from what the program left, so the
    // capture checks the pseudo-header update.
    call.lab.relay.set_tx_checksum("rb", false);
    for (pt_in, pt_out, transcode, convert) in [
        (
            0u8,
            8u8,
            Transcode::UlawToAlaw,
            g711::ulaw_to_alaw as fn(u8) -> u8,
        ),
        (8, 0, Transcode::AlawToUlaw, g711::alaw_to_ulaw),
    ] {
        let h = call
            .fwd
            .add_stream(&call.rule(pt_in, pt_out, transcode, 7, 9))
            .unwrap();
        let sent = send_codes(&call, pt_in, 8, 240);
        let got = recv_n(&call.b, sent.len(), WAIT);
        assert_eq!(got.len(), sent.len());
        let mut codes_seen = [false; 256];
        for ((data, _), p) in got.iter().zip(&sent) {
            let pkt = RtpPacket::parse(data).unwrap();
            assert_eq!(pkt.payload_type(), pt_out);
            let expect: Vec<u8> = p.iter().map(|&c| convert(c)).collect();
            assert_eq!(pkt.payload(), &expect[..], "{transcode:?}");
            p.iter().for_each(|&c| codes_seen[usize::from(c)] = true);
        }
        assert!(codes_seen.iter().all(|&s| s), "every code was checked");
        assert_eq!(call.captured(sent.len()).len(), sent.len());

        // One byte more than the kernel transcodes: up to userspace, unchanged.
        let long = rtp(pt_in, 108, 16_000 + 8 * 240, SRC_SSRC, false, &[0x55; 241]);
        call.send(&long);
        let up = recv_n(&call.relay_a, 1, WAIT);
        assert_eq!(up.len(), 1);
        assert_eq!(up[0].0, long);
        let c = call.fwd.remove_stream(h).unwrap();
        assert_eq!((c.packets, c.passed.too_long, c.passed.total()), (8, 1, 1));
    }
    assert_eq!(call.lab.b.snmp("Udp", "InCsumErrors"), 0);
}

#[test]
fn a_stranger_is_dropped_in_the_kernel_under_strict_and_passed_up_when_latched() {
    if netns::skip("source check") {
        return;
    }
    let call = Call::new();
    let stranger = call.lab.a.udp(addr(A, 5006));
    let pkt = rtp(0, 1, 160, SRC_SSRC, false, &[0xff; 160]);

    let h = call
        .fwd
        .add_stream(&call.rule(0, 0, Transcode::None, 0, 0))
        .unwrap();
    for _ in 0..5 {
        stranger.send_to(&pkt, addr(RELAY_A, 20_000)).unwrap();
    }
    assert!(eventually(|| call
        .fwd
        .counters(h)
        .unwrap()
        .dropped
        .wrong_source
        == 5));
    assert!(silent(&call.b, QUIET), "nothing from a stranger reaches B");
    assert!(silent(&call.relay_a, QUIET), "nor the relay's socket");
    let c = call.fwd.remove_stream(h).unwrap();
    assert_eq!(
        (c.dropped.wrong_source, c.packets, c.passed.total()),
        (5, 0, 0)
    );

    let mut latched = call.rule(0, 0, Transcode::None, 0, 0);
    latched.source = SourceCheck::Latched(addr(A, 5004));
    let h = call.fwd.add_stream(&latched).unwrap();
    for _ in 0..3 {
        stranger.send_to(&pkt, addr(RELAY_A, 20_000)).unwrap();
    }
    let up = recv_n(&call.relay_a, 3, WAIT);
    assert_eq!(up.len(), 3, "the relay decides whether to latch again");
    assert!(
        up.iter()
            .all(|(d, from)| *d == pkt && *from == stranger.local_addr().unwrap())
    );
    assert!(silent(&call.b, QUIET));
    let c = call.fwd.counters(h).unwrap();
    assert_eq!(
        (c.passed.wrong_source, c.dropped.wrong_source, c.packets),
        (3, 0, 0)
    );
}

#[test]
fn rtcp_events_and_anything_unusual_reach_userspace_unchanged_and_counted() {
    if netns::skip("pass-up") {
        return;
    }
    let call = Call::new();
    let h = call
        .fwd
        .add_stream(&call.rule(0, 0, Transcode::None, 0, 0))
        .unwrap();
    let audio = |seq: u16| rtp(0, seq, u32::from(seq) * 160, SRC_SSRC, false, &[0xff; 160]);
    let mut rtcp = vec![0x80, 200, 0, 6];
    rtcp.extend_from_slice(&SRC_SSRC.to_be_bytes());
    rtcp.extend_from_slice(&[0; 20]);
    let with_csrc = {
        let mut p = audio(12);
        p[0] |= 1; // one CSRC: the "CSRC" is the first 4 payload bytes
        p
    };
    let with_ext = {
        let mut p = audio(12);
        p[0] |= 0x10;
        p[12..16].copy_from_slice(&[0xbe, 0xde, 0, 0]);
        p
    };
    let padded = {
        let mut p = audio(12);
        p[0] |= 0x20;
        *p.last_mut().unwrap() = 4;
        p
    };
    let mut version1 = audio(12);
    version1[0] = 0x40;
    let unusual: Vec<(Vec<u8>, &str)> = vec![
        (rtcp, "rtcp"),
        (
            rtp(101, 11, 1600, SRC_SSRC, true, &[1, 0x0a, 0, 160]),
            "telephone_event",
        ),
        (
            rtp(18, 11, 1600, SRC_SSRC, false, &[0; 20]),
            "other_payload_type",
        ),
        (rtp(0, 11, 1600, 0x5555_5555, false, &[0xff; 160]), "ssrc"),
        (with_csrc, "unsupported_header"),
        (with_ext, "unsupported_header"),
        (padded, "unsupported_header"),
        (version1, "malformed"),
        (vec![0x80, 0, 0], "malformed"),
        (audio(10 + 5000), "discontinuity"), // sequence jump
        (
            rtp(0, 11, 1600 + 1_000_000, SRC_SSRC, false, &[0xff; 160]),
            "discontinuity",
        ),
    ];
    // Steady audio first, so the kernel knows where the stream stands.
    for seq in 0..=10 {
        call.send(&audio(seq));
    }
    assert_eq!(recv_n(&call.b, 11, WAIT).len(), 11);
    for (p, _) in &unusual {
        call.send(p);
    }
    let up = recv_n(&call.relay_a, unusual.len(), WAIT);
    assert_eq!(up.len(), unusual.len());
    for ((got, from), (sent, why)) in up.iter().zip(&unusual) {
        assert_eq!(got, sent, "{why}: byte for byte");
        assert_eq!(*from, std::net::SocketAddr::V4(addr(A, 5004)));
    }
    assert!(silent(&call.b, QUIET));
    // Audio goes on in the kernel after all that.
    call.send(&audio(11));
    assert_eq!(recv_n(&call.b, 1, WAIT).len(), 1);
    let c = call.fwd.counters(h).unwrap();
    let p = c.passed;
    assert_eq!(
        (p.rtcp, p.telephone_event, p.other_payload_type, p.ssrc),
        (1, 1, 1, 1)
    );
    assert_eq!(
        (p.unsupported_header, p.malformed, p.discontinuity),
        (3, 2, 2)
    );
    assert_eq!((p.total(), c.packets), (unusual.len() as u64, 12));
}

/// The shard's send side for one feed, as the engine keeps it: a fixed offset while the
/// feed lasts.
struct UserspaceLeg {
    seq_off: u16,
    ts_off: u32,
}

impl UserspaceLeg {
    /// Forwards what reached the relay's socket, as the userspace path would.
    fn relay(&self, call: &Call, n: usize) -> usize {
        let got = recv_n(&call.relay_a, n, WAIT);
        for (data, _) in &got {
            let pkt = RtpPacket::parse(data).unwrap();
            let out = rtp(
                0,
                pkt.sequence().wrapping_add(self.seq_off),
                pkt.timestamp().wrapping_add(self.ts_off),
                OUT_SSRC,
                pkt.marker(),
                pkt.payload(),
            );
            call.relay_b.send_to(&out, addr(B, 6000)).unwrap();
        }
        got.len()
    }
}

#[test]
fn hand_over_to_the_kernel_and_back_keeps_sequence_and_timestamp_continuous() {
    if netns::skip("hand-over") {
        return;
    }
    let call = Call::new();
    let leg = UserspaceLeg {
        seq_off: 40_000,
        ts_off: 123_456_789,
    };
    let packet = |i: u16| {
        rtp(
            0,
            65_000u16.wrapping_add(i),
            7 + u32::from(i) * 160,
            SRC_SSRC,
            i == 0,
            &wire::payload(160, u32::from(i)),
        )
    };

    // B reads each phase as it ends (its socket buffer holds a few hundred packets).
    let mut at_b = Vec::new();
    // 1. Userspace forwards the first 20.
    for i in 0..20 {
        call.send(&packet(i));
    }
    assert_eq!(leg.relay(&call, 20), 20);
    at_b.extend(recv_n(&call.b, 20, WAIT));

    // 2. The shard hands the stream over with its offsets and the receive position.
    let mut rule = call.rule(0, 0, Transcode::None, leg.seq_off, leg.ts_off);
    let last_in = (65_000u16.wrapping_add(19), 7 + 19 * 160);
    rule.source_position = Some(SourcePosition {
        max_seq: last_in.0,
        cycles: 0,
        last_seq: last_in.0,
        last_ts: last_in.1,
    });
    let h = call.fwd.add_stream(&rule).unwrap();
    for i in 20..600 {
        call.send(&packet(i)); // wraps the sequence number on the way
        if i % 100 == 99 {
            at_b.extend(recv_n(&call.b, 100, WAIT));
        }
    }
    assert!(silent(&call.relay_a, Duration::from_millis(100)));

    // 3. The stream is taken back; the very next packet reaches userspace.
    let back = call.fwd.remove_stream(h).unwrap();
    call.send(&packet(600));
    assert_eq!(
        leg.relay(&call, 1),
        1,
        "no loss of the packet after the hand-back"
    );
    for i in 601..620 {
        call.send(&packet(i));
    }
    assert_eq!(leg.relay(&call, 19), 19);
    at_b.extend(recv_n(&call.b, 20, WAIT));

    assert_eq!(back.packets, 580);
    let out = back.output.unwrap();
    let last = RtpPacket::parse(&packet(599))
        .map(|p| (p.sequence(), p.timestamp()))
        .unwrap();
    assert_eq!(
        out.seq,
        last.0.wrapping_add(leg.seq_off),
        "the kernel's last output sequence"
    );
    assert_eq!(out.ts, last.1.wrapping_add(leg.ts_off));
    let src = back.source.unwrap();
    assert_eq!((src.max_seq, src.cycles), (last.0, 1));

    // B saw one stream: consecutive sequence numbers and timestamps 160 apart throughout.
    assert_eq!(at_b.len(), 620);
    for (i, pair) in at_b.windows(2).enumerate() {
        let a = RtpPacket::parse(&pair[0].0).unwrap();
        let b = RtpPacket::parse(&pair[1].0).unwrap();
        assert_eq!(b.sequence(), a.sequence().wrapping_add(1), "at {i}");
        assert_eq!(b.timestamp(), a.timestamp().wrapping_add(160), "at {i}");
        assert_eq!(b.ssrc(), OUT_SSRC);
        assert_eq!(
            b.payload(),
            RtpPacket::parse(&packet(i as u16 + 1)).unwrap().payload()
        );
        assert!(!b.marker(), "no new-stream marker at a hand-over");
    }
}

#[test]
fn the_table_refuses_duplicates_and_overflow_and_dropping_detaches() {
    if netns::skip("table") {
        return;
    }
    let lab = Lab::new().unwrap();
    let fwd = lab
        .relay
        .enter(|| KernelForwarder::open_with_capacity(&["ra", "rb"], 2))
        .unwrap();
    let base = StreamRule::new(
        addr(RELAY_A, 20_000),
        SourceCheck::Strict(addr(A, 5004)),
        0,
        Output {
            from: addr(RELAY_B, 20_002),
            to: addr(B, 6000),
            ssrc: 1,
            payload_type: 0,
            seq_offset: 0,
            ts_offset: 0,
            transcode: Transcode::None,
        },
    );
    let h1 = fwd.add_stream(&base).unwrap();
    assert_eq!(fwd.add_stream(&base), Err(Error::Duplicate(base.local)));
    let second = StreamRule {
        local: addr(RELAY_A, 20_004),
        ..base
    };
    let h2 = fwd.add_stream(&second).unwrap();
    let third = StreamRule {
        local: addr(RELAY_A, 20_006),
        ..base
    };
    assert_eq!(fwd.add_stream(&third), Err(Error::Full(2)));
    let unroutable = StreamRule {
        output: Output {
            to: addr(std::net::Ipv4Addr::new(198, 19, 9, 9), 6000),
            ..base.output
        },
        ..third
    };
    fwd.remove_stream(h2).unwrap();
    assert!(matches!(
        fwd.add_stream(&unroutable),
        Err(Error::NoRoute(..))
    ));
    assert_eq!(fwd.remove_stream(h2), Err(Error::UnknownStream));
    assert_eq!(fwd.len(), 1);

    // While attached, the stream is the kernel's; once the forwarder is dropped, the relay's
    // socket gets it.
    let a = lab.a.udp(addr(A, 5004));
    let relay_a = lab.relay.udp(addr(RELAY_A, 20_000));
    let pkt = rtp(0, 1, 160, 9, false, &[0xff; 160]);
    a.send_to(&pkt, addr(RELAY_A, 20_000)).unwrap();
    assert!(eventually(|| fwd.counters(h1).unwrap().packets == 1));
    assert!(silent(&relay_a, QUIET));
    drop(fwd);
    a.send_to(&pkt, addr(RELAY_A, 20_000)).unwrap();
    assert_eq!(recv_n(&relay_a, 1, WAIT).len(), 1);
}

#[test]
fn peers_on_the_relay_host_are_reached_through_the_local_stack() {
    if netns::skip("local peers") {
        return;
    }
    let lab = Lab::new().unwrap();
    let lo = |port| addr(std::net::Ipv4Addr::LOCALHOST, port);
    // Two cases in the relay's namespace: everything on its own loopback (the program on
    // `lo`), and a packet from peer A over the veth for a peer bound on the relay host,
    // which re-enters through loopback once loopback accepts local sources.
    lab.relay
        .exec(&["sysctl", "-q", "-w", "net.ipv4.conf.lo.accept_local=1"])
        .unwrap();
    let fwd = lab
        .relay
        .enter(|| KernelForwarder::open(&["lo", "ra"]))
        .unwrap();
    let peer_local = lab.relay.udp(lo(6000));
    let peer_on_host = lab.relay.udp(addr(RELAY_B, 6100));
    let sender_local = lab.relay.udp(lo(5004));
    let a = lab.a.udp(addr(A, 5004));
    let _relay_lo = lab.relay.udp(lo(20_000));
    let relay_a = lab.relay.udp(addr(RELAY_A, 20_000));
    let output = |from, to| Output {
        from,
        to,
        ssrc: 77,
        payload_type: 8,
        seq_offset: 1,
        ts_offset: 2,
        transcode: Transcode::UlawToAlaw,
    };
    let h_lo = fwd
        .add_stream(&StreamRule::new(
            lo(20_000),
            SourceCheck::Strict(lo(5004)),
            0,
            output(lo(20_002), lo(6000)),
        ))
        .unwrap();
    let h_host = fwd
        .add_stream(&StreamRule::new(
            addr(RELAY_A, 20_000),
            SourceCheck::Strict(addr(A, 5004)),
            0,
            output(addr(RELAY_B, 20_002), addr(RELAY_B, 6100)),
        ))
        .unwrap();
    let p = wire::payload(160, 3);
    for seq in 0..10 {
        let pkt = rtp(0, seq, u32::from(seq) * 160, 5, false, &p);
        sender_local.send_to(&pkt, lo(20_000)).unwrap();
        a.send_to(&pkt, addr(RELAY_A, 20_000)).unwrap();
    }
    let alaw: Vec<u8> = p.iter().map(|&c| g711::ulaw_to_alaw(c)).collect();
    for (sock, from) in [
        (&peer_local, lo(20_002)),
        (&peer_on_host, addr(RELAY_B, 20_002)),
    ] {
        let got = recv_n(sock, 10, WAIT);
        assert_eq!(got.len(), 10, "delivered to {:?}", sock.local_addr());
        for (i, (data, src)) in got.iter().enumerate() {
            assert_eq!(*src, std::net::SocketAddr::V4(from));
            let pkt = RtpPacket::parse(data).unwrap();
            assert_eq!(
                (pkt.sequence(), pkt.timestamp()),
                (i as u16 + 1, i as u32 * 160 + 2)
            );
            assert_eq!(pkt.payload(), &alaw[..]);
        }
    }
    assert_eq!(fwd.counters(h_lo).unwrap().packets, 10);
    assert_eq!(fwd.counters(h_host).unwrap().packets, 10);
    assert_eq!(fwd.global_counters().unwrap().local, 20);
    drop(fwd);

    // Without accept_local the stack would drop them as martians: they go up instead.
    lab.relay
        .exec(&["sysctl", "-q", "-w", "net.ipv4.conf.lo.accept_local=0"])
        .unwrap();
    let fwd = lab.relay.enter(|| KernelForwarder::open(&["ra"])).unwrap();
    let h = fwd
        .add_stream(&StreamRule::new(
            addr(RELAY_A, 20_000),
            SourceCheck::Strict(addr(A, 5004)),
            0,
            output(addr(RELAY_B, 20_002), addr(RELAY_B, 6100)),
        ))
        .unwrap();
    a.send_to(&rtp(0, 10, 1600, 5, false, &p), addr(RELAY_A, 20_000))
        .unwrap();
    assert_eq!(recv_n(&relay_a, 1, WAIT).len(), 1);
    assert_eq!(fwd.counters(h).unwrap().passed.local_peer, 1);
}

#[test]
fn with_forwarding_enabled_the_fib_lookup_routes_the_packets() {
    if netns::skip("fib route") {
        return;
    }
    let call = Call::new();
    call.lab
        .relay
        .exec(&["sysctl", "-q", "-w", "net.ipv4.conf.ra.forwarding=1"])
        .unwrap();
    let h = call
        .fwd
        .add_stream(&call.rule(0, 0, Transcode::None, 5, 5))
        .unwrap();
    for seq in 0..10u16 {
        call.send(&rtp(
            0,
            seq,
            u32::from(seq) * 160,
            SRC_SSRC,
            false,
            &[0xff; 160],
        ));
    }
    let got = recv_n(&call.b, 10, WAIT);
    assert_eq!(got.len(), 10);
    assert_eq!(RtpPacket::parse(&got[9].0).unwrap().sequence(), 14);
    assert_eq!(call.fwd.counters(h).unwrap().packets, 10);
}
