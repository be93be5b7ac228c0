//! Kernel fast path for pass-through RTP streams.
//!
//! A bridge that needs nothing but header rewriting (the same codec or a μ-law↔A-law table
//! transcode, no tap, no in-band DTMF detection, no jitter buffer, no room) can hand each of
//! its two directions to an eBPF program at tc ingress. The program rewrites each packet of
//! the stream into the one the relay would have sent (addresses, ports, SSRC, sequence
//! number and timestamp shifted by the relay's offsets, payload type, optionally the
//! payload transcoded), fixes the checksums and redirects it, without the packet ever
//! reaching a socket. RTCP, RFC 4733 events and anything unusual still reach the relay's
//! socket unchanged, counted by reason.
//!
//! ```no_run
//! use std::net::{Ipv4Addr, SocketAddrV4};
//! use tandem_kfwd::{KernelForwarder, Output, SourceCheck, StreamRule, Transcode};
//!
//! let fwd = match KernelForwarder::open(&["eth0"]) {
//!     Ok(f) => f,
//!     Err(why) => { eprintln!("forwarding in userspace: {why}"); return; }
//! };
//! let ip = Ipv4Addr::new(192, 0, 2, 1);
//! let rule = StreamRule::new(
//!     SocketAddrV4::new(ip, 30_000),                                        // leg A's port
//!     SourceCheck::Latched(SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 7), 4000)),
//!     0,                                                                    // PCMU in
//!     Output {
//!         from: SocketAddrV4::new(ip, 30_002),                              // leg B's port
//!         to: SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 9), 5000),
//!         ssrc: 0x1234_5678, payload_type: 8, seq_offset: 17, ts_offset: 4242,
//!         transcode: Transcode::UlawToAlaw,
//!     },
//! );
//! let handle = fwd.add_stream(&rule).unwrap();
//! // ... later, when a feature needs the stream in userspace again:
//! let last = fwd.remove_stream(handle).unwrap();
//! println!("kernel forwarded {} packets, output at {:?}", last.packets, last.output);
//! ```
//!
//! The crate builds everywhere: without clang and the BPF headers at build time (or off
//! Linux) [`KernelForwarder::open`] returns [`Unavailable::NotBuilt`] with the reason.
//! See `docs/kernel-forwarding.md` for the map layout and the hand-over protocol.

mod counters;
mod error;
mod ifaces;
// Without the program (no clang at build time) only the types and their tests use these.
#[cfg_attr(not(kfwd_bpf), allow(dead_code))]
mod layout;
#[cfg(target_os = "linux")]
#[cfg_attr(not(kfwd_bpf), allow(dead_code))]
mod route;
#[cfg_attr(not(kfwd_bpf), allow(dead_code))]
mod rule;

#[cfg(kfwd_bpf)]
mod loaded;

pub use counters::{Dropped, GlobalCounters, Passed, ProgramStats, StreamCounters};
pub use error::{Error, Unavailable};
pub use ifaces::interfaces_for;
pub use rule::{
    Discontinuity, MAX_TRANSCODE_PAYLOAD, Output, OutputPosition, SourceCheck, SourcePosition,
    StreamRule, Transcode,
};

/// Streams a forwarder holds unless told otherwise (one direction of a call each).
pub const DEFAULT_CAPACITY: u32 = 16_384;

/// What the build recorded about the BPF program: `built`, or why not.
pub const BUILD_NOTE: &str = env!("TANDEM_KFWD_BUILD_NOTE");

/// A stream handed to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamHandle {
    slot: u32,
    generation: u32,
}

impl StreamHandle {
    /// The handle as one number (for a caller that stores handles as plain data).
    pub fn to_bits(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.slot)
    }

    /// The handle [`to_bits`](StreamHandle::to_bits) gave. Bits that name no current
    /// stream are refused by the forwarder with [`Error::UnknownStream`].
    pub fn from_bits(bits: u64) -> StreamHandle {
        StreamHandle {
            slot: bits as u32,
            generation: (bits >> 32) as u32,
        }
    }
}

/// The kernel's monotonic clock (`CLOCK_MONOTONIC`, the clock of `bpf_ktime_get_ns`) in
/// nanoseconds: the time base of [`StreamCounters::last_forwarded_ns`] and
/// [`OutputPosition::at_ns`].
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on the
    // platforms libc supports, so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(kfwd_bpf)]
type Inner = loaded::Loaded;

/// Uninhabited: without the program no forwarder can exist.
#[cfg(not(kfwd_bpf))]
enum Inner {}

/// The eBPF program attached at tc ingress of some interfaces, and its stream table.
///
/// All methods take `&self` (share it between shards with an `Arc`); adding and removing
/// streams serialise on an internal lock, packets never take it. Dropping the forwarder
/// detaches the program: every stream goes back to the relay's sockets.
pub struct KernelForwarder {
    inner: Inner,
}

impl std::fmt::Debug for KernelForwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelForwarder")
            .field("interfaces", &self.interfaces())
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl KernelForwarder {
    /// Whether the fast path can be used here: the program was built, and the kernel loads
    /// and verifies it for this process (nothing is attached).
    pub fn is_available() -> Result<(), Unavailable> {
        #[cfg(kfwd_bpf)]
        return loaded::Loaded::probe();
        #[cfg(not(kfwd_bpf))]
        return Err(Unavailable::NotBuilt(BUILD_NOTE));
    }

    /// Loads the program and attaches it at tc ingress of each interface (the ones the
    /// relay's media addresses receive on; `lo` for peers on this host), with room for
    /// [`DEFAULT_CAPACITY`] streams.
    pub fn open(interfaces: &[&str]) -> Result<KernelForwarder, Unavailable> {
        Self::open_with_capacity(interfaces, DEFAULT_CAPACITY)
    }

    /// As [`KernelForwarder::open`], with room for `capacity` streams (at least 1).
    pub fn open_with_capacity(
        interfaces: &[&str],
        capacity: u32,
    ) -> Result<KernelForwarder, Unavailable> {
        #[cfg(kfwd_bpf)]
        {
            loaded::Loaded::open(interfaces, capacity.max(1)).map(|inner| KernelForwarder { inner })
        }
        #[cfg(not(kfwd_bpf))]
        {
            let _ = (interfaces, capacity);
            Err(Unavailable::NotBuilt(BUILD_NOTE))
        }
    }

    /// Hands a stream to the kernel. From the next packet on, the kernel forwards it.
    pub fn add_stream(&self, rule: &StreamRule) -> Result<StreamHandle, Error> {
        #[cfg(kfwd_bpf)]
        {
            let (slot, generation) = self.inner.add(rule)?;
            Ok(StreamHandle { slot, generation })
        }
        #[cfg(not(kfwd_bpf))]
        {
            let _ = rule;
            match self.inner {}
        }
    }

    /// Takes a stream back: from the next packet on it reaches the relay's socket. Returns
    /// the counters and positions the kernel left, read after the rule was removed.
    pub fn remove_stream(&self, handle: StreamHandle) -> Result<StreamCounters, Error> {
        #[cfg(kfwd_bpf)]
        return self.inner.remove(handle.slot, handle.generation);
        #[cfg(not(kfwd_bpf))]
        {
            let _ = handle;
            match self.inner {}
        }
    }

    /// The stream's counters and positions now.
    pub fn counters(&self, handle: StreamHandle) -> Result<StreamCounters, Error> {
        #[cfg(kfwd_bpf)]
        return self.inner.counters(handle.slot, handle.generation);
        #[cfg(not(kfwd_bpf))]
        {
            let _ = handle;
            match self.inner {}
        }
    }

    /// Counters over all streams.
    pub fn global_counters(&self) -> Result<GlobalCounters, Error> {
        #[cfg(kfwd_bpf)]
        return self.inner.global();
        #[cfg(not(kfwd_bpf))]
        match self.inner {}
    }

    /// The program's run count and run time, as the kernel accounts them.
    pub fn program_stats(&self) -> Result<ProgramStats, Error> {
        #[cfg(kfwd_bpf)]
        return self.inner.program_stats();
        #[cfg(not(kfwd_bpf))]
        match self.inner {}
    }

    /// Streams held now.
    pub fn len(&self) -> usize {
        #[cfg(kfwd_bpf)]
        return self.inner.len();
        #[cfg(not(kfwd_bpf))]
        match self.inner {}
    }

    /// Whether no stream is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Streams it can hold.
    pub fn capacity(&self) -> u32 {
        #[cfg(kfwd_bpf)]
        return self.inner.capacity();
        #[cfg(not(kfwd_bpf))]
        match self.inner {}
    }

    /// The interfaces the program is attached to.
    pub fn interfaces(&self) -> &[String] {
        #[cfg(kfwd_bpf)]
        return self.inner.interfaces();
        #[cfg(not(kfwd_bpf))]
        match self.inner {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_survives_its_bits() {
        let h = StreamHandle {
            slot: 7,
            generation: u32::MAX,
        };
        assert_eq!(StreamHandle::from_bits(h.to_bits()), h);
    }

    #[test]
    fn the_monotonic_clock_advances() {
        let a = monotonic_ns();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = monotonic_ns();
        assert!(b >= a + 2_000_000, "{a} then {b}");
    }

    #[test]
    fn without_interfaces_or_program_open_refuses_with_a_reason() {
        let err = KernelForwarder::open(&[]).unwrap_err();
        if cfg!(kfwd_bpf) {
            // Refused before any BPF call, whatever this process may do.
            assert_eq!(err, Unavailable::NoInterface);
        } else {
            assert!(matches!(err, Unavailable::NotBuilt(note) if !note.is_empty()));
        }
    }
}
