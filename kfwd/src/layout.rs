//! The BPF maps' key and value layouts, mirroring `bpf/kfwd.bpf.c` field for field. The C
//! file pins the same sizes and offsets with `_Static_assert`; the asserts below pin them
//! here, so a change on one side alone fails the build.

use std::mem::{offset_of, size_of};
use std::net::{Ipv4Addr, SocketAddrV4};

/// `kfwd_rule.flags`: a packet from the wrong source is dropped (else passed up).
pub(crate) const RULE_STRICT_SOURCE: u32 = 1 << 0;
/// `kfwd_rule.flags`: a packet with another SSRC is passed up.
pub(crate) const RULE_CHECK_SSRC: u32 = 1 << 1;
/// `kfwd_rule.flags`: the peer is on this host (from userspace's route lookup).
pub(crate) const RULE_LOCAL_PEER: u32 = 1 << 2;
/// `kfwd_rule.flags`: a local peer may be reached from another interface through loopback.
pub(crate) const RULE_REINJECT_LOCAL: u32 = 1 << 3;

/// `kfwd_stats.state`: the source position is valid.
pub(crate) const STATE_SRC: u32 = 1 << 0;
/// `kfwd_stats.state`: the output position is valid.
pub(crate) const STATE_OUT: u32 = 1 << 1;

/// `kfwd_rule.event_pt` when the stream has no telephone-event payload type.
pub(crate) const NO_EVENT_PT: u8 = 0xff;

/// Entries of `kfwd_stats.dropped`.
pub(crate) const DROP_MAX: usize = 2;
/// Entries of `kfwd_stats.passed`.
pub(crate) const PASS_MAX: usize = 12;
/// Entries of the per-CPU `kfwd_global` array.
pub(crate) const GLOBAL_MAX: u32 = 4;

/// `struct kfwd_key`: the local address and port a stream arrives at.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub addr: u32,
    pub port: u16,
    pub pad: u16,
}

/// `struct kfwd_rule`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rule {
    pub src_addr: u32,
    pub src_port: u16,
    pub pt_in: u8,
    pub pt_out: u8,
    pub src_ssrc: u32,
    pub out_ssrc: u32,
    pub out_saddr: u32,
    pub out_daddr: u32,
    pub out_sport: u16,
    pub out_dport: u16,
    pub ts_off: u32,
    pub seq_off: u16,
    pub transcode: u8,
    pub event_pt: u8,
    pub flags: u32,
    pub slot: u32,
    pub generation: u32,
    pub samples_per_packet: u16,
    pub max_dropout: u16,
    pub max_misorder: u16,
    pub pad: u16,
    pub max_ts_jump: u32,
    pub egress_ifindex: u32,
}

/// `struct kfwd_stats`: written by the program, seeded by userspace when a stream is added.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub generation: u32,
    pub state: u32,
    pub packets: u64,
    pub octets: u64,
    pub last_seen_ns: u64,
    pub out_last_ns: u64,
    pub out_last_ts: u32,
    pub out_last_seq: u16,
    pub src_max_seq: u16,
    pub src_cycles: u32,
    pub src_last_ts: u32,
    pub src_last_seq: u16,
    pub pad: u16,
    pub jitter_q4: u32,
    pub last_transit: i64,
    pub dropped: [u64; DROP_MAX],
    pub passed: [u64; PASS_MAX],
}

/// `struct kfwd_table`: μ-law→A-law in `[0, 256)`, A-law→μ-law in `[256, 512)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table {
    pub t: [u8; 512],
}

const _: () = {
    assert!(size_of::<Key>() == 8);
    assert!(size_of::<Rule>() == 64);
    assert!(offset_of!(Rule, ts_off) == 28);
    assert!(offset_of!(Rule, flags) == 36);
    assert!(offset_of!(Rule, max_ts_jump) == 56);
    assert!(offset_of!(Rule, egress_ifindex) == 60);
    assert!(size_of::<Stats>() == 72 + 8 * DROP_MAX + 8 * PASS_MAX);
    assert!(offset_of!(Stats, out_last_ts) == 40);
    assert!(offset_of!(Stats, jitter_q4) == 60);
    assert!(offset_of!(Stats, dropped) == 72);
    assert!(size_of::<Table>() == 512);
};

/// An IPv4 address as the packet carries it (network order in memory).
pub(crate) fn addr_be(ip: Ipv4Addr) -> u32 {
    u32::from_ne_bytes(ip.octets())
}

/// A port as the packet carries it (network order in memory).
pub(crate) fn port_be(port: u16) -> u16 {
    port.to_be()
}

/// The map key of a local address.
pub(crate) fn key(local: SocketAddrV4) -> Key {
    Key {
        addr: addr_be(*local.ip()),
        port: port_be(local.port()),
        pad: 0,
    }
}

/// The transcoding tables, from the codec crate's G.711 conversions.
pub(crate) fn table() -> Table {
    let mut t = [0u8; 512];
    for c in 0..=255u8 {
        t[c as usize] = tandem_codecs::g711::ulaw_to_alaw(c);
        t[256 + c as usize] = tandem_codecs::g711::alaw_to_ulaw(c);
    }
    Table { t }
}

#[cfg(kfwd_bpf)]
mod pod {
    // SAFETY: each type is `repr(C)`, `Copy`, made only of integers and arrays of integers,
    // with every padding byte an explicit field, so any bit pattern is a valid value and the
    // bytes the kernel copies in and out are exactly the fields.
    unsafe impl aya::Pod for super::Key {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::Rule {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::Stats {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::Table {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_addresses_in_network_order() {
        let k = key(SocketAddrV4::new(Ipv4Addr::new(198, 18, 1, 2), 0x1234));
        let bytes = key_bytes(&k);
        assert_eq!(bytes, [198, 18, 1, 2, 0x12, 0x34, 0, 0]);
    }

    fn key_bytes(k: &Key) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&k.addr.to_ne_bytes());
        b[4..6].copy_from_slice(&k.port.to_ne_bytes());
        b[6..].copy_from_slice(&k.pad.to_ne_bytes());
        b
    }
}
