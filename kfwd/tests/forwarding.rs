//! The kernel fast path on real interfaces: peer A → relay → peer B across veth pairs in
//! network namespaces (see `support/netns.rs`). Skipped, with the reason printed, where the
//! process is not root, the program was not built or the kernel refuses it.

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

const QUIET: Duration = Duration::from_millis(300);
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
        let raw_b = lab.b.enter(|| Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::UDP)).unwrap());
        raw_b.set_read_timeout(Some(QUIET)).unwrap();
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
    fn rule(&self, pt_in: u8, pt_out: u8, transcode: Transcode, seq_offset: u16, ts_offset: u32) -> StreamRule {
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
            let Ok(len) = self.raw_b.recv(&mut buf) else { break };
            // SAFETY: recv initialised the first `len` bytes.
            let pkt: Vec<u8> = buf[..len].iter().map(|b| unsafe { b.assume_init() }).collect();
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
    let h = call.fwd.add_stream(&call.rule(0, 0, Transcode::None, seq_off, ts_off)).unwrap();
    let t0 = tandem_kfwd::monotonic_ns();
    let mut sent = Vec::new();
    for i in 0..60u16 {
        let seq = seq0.wrapping_add(i);
        let ts = 1000 + u32::from(i) * 160;
        let p = wire::payload(160, u32::from(i));
        call.send(&rtp(0, seq, ts, SRC_SSRC, i == 0, &p));
        sent.push((seq, ts, p));
    }
    let got = recv_n(&call.b, sent.len(), QUIET);
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
    assert!(silent(&call.relay_a, QUIET), "nothing reached the relay's socket");
    assert_eq!(call.lab.b.snmp("Udp", "InCsumErrors"), 0);

    let c = call.fwd.counters(h).unwrap();
    assert_eq!(c.packets, 60);
    assert_eq!(c.octets, 60 * 160);
    assert_eq!(c.passed.total() + c.dropped.wrong_source, 0);
    let last = sent.last().unwrap();
    let out = c.output.unwrap();
    assert_eq!((out.seq, out.ts), (last.0.wrapping_add(seq_off), last.1.wrapping_add(ts_off)));
    let src = c.source.unwrap();
    assert_eq!((src.max_seq, src.cycles, src.last_ts), (last.0, 1, last.1));
    let now = tandem_kfwd::monotonic_ns();
    let seen = c.last_forwarded_ns.unwrap();
    assert!(t0 <= seen && seen <= now, "{t0} <= {seen} <= {now}");
    let g = call.fwd.global_counters().unwrap();
    assert_eq!((g.matched, g.redirected), (60, 60));
}
