//! Packets on the wire for the kernel tests: RTP built with the codec crate, and IPv4/UDP
//! checksums verified independently (RFC 1071 over what a raw socket captured).

#![allow(dead_code)]

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use tandem_codecs::rtp::RtpHeader;

/// An RTP packet.
pub fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let h = RtpHeader {
        marker,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
        ..RtpHeader::default()
    };
    let mut buf = vec![0u8; h.packet_len(payload.len()).unwrap()];
    h.write_into(&mut buf, payload).unwrap();
    buf
}

/// A payload whose bytes differ packet to packet and cover every code over a few packets.
pub fn payload(n: usize, seed: u32) -> Vec<u8> {
    (0..n).map(|i| (i as u32 * 7 + seed * 13) as u8).collect()
}

/// Receives datagrams until `n` arrived or nothing came for `quiet`.
pub fn recv_n(sock: &UdpSocket, n: usize, quiet: Duration) -> Vec<(Vec<u8>, SocketAddr)> {
    sock.set_read_timeout(Some(quiet)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while out.len() < n {
        match sock.recv_from(&mut buf) {
            Ok((len, from)) => out.push((buf[..len].to_vec(), from)),
            // A signal to another thread of the test process (a child exiting) interrupts it.
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("recv: {e}"),
        }
    }
    out
}

/// Whether anything arrives within `wait`.
pub fn silent(sock: &UdpSocket, wait: Duration) -> bool {
    let end = Instant::now() + wait;
    sock.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        match sock.recv_from(&mut buf) {
            Ok(_) => return false,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(e) => panic!("recv: {e}"),
        }
    }
    true
}

fn ones_sum(data: &[u8], mut sum: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Checks an IPv4 packet's header checksum and its UDP checksum (which must be present).
/// Returns the TTL and the UDP payload.
pub fn check_ipv4_udp(pkt: &[u8]) -> Result<(u8, &[u8]), String> {
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    if fold(ones_sum(&pkt[..ihl], 0)) != 0xffff {
        return Err("bad IPv4 header checksum".into());
    }
    let udp = &pkt[ihl..];
    let udp_len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if u16::from_be_bytes([udp[6], udp[7]]) == 0 {
        return Err("no UDP checksum".into());
    }
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend_from_slice(&pkt[12..20]);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(udp_len as u16).to_be_bytes());
    let sum = ones_sum(&udp[..udp_len], ones_sum(&pseudo, 0));
    if fold(sum) != 0xffff {
        return Err(format!(
            "bad UDP checksum {:#06x}",
            u16::from_be_bytes([udp[6], udp[7]])
        ));
    }
    Ok((pkt[8], &udp[8..udp_len]))
}
