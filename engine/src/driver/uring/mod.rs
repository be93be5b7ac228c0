//! The io_uring driver: one multishot `recvmsg` per socket drawing from a shared ring of
//! provided buffers, and `sendmsg` submissions batched into one `io_uring_enter` per turn.
//!
//! The loop: submit pending entries and wait for at least one completion or the shard's next
//! deadline; handle every completion (datagrams go to the shard, their buffers straight back
//! to the ring); run the tick; queue the shard's output as sends; close the sockets of deleted
//! channels; repeat. Steady state allocates nothing: completions, send slots and buffers are
//! preallocated, and counters are published once per turn.
//!
//! # Memory the kernel uses
//!
//! Everything handed to the kernel (the buffer ring, the receive buffers, the `msghdr` of the
//! receives, the send slots, the eventfd read buffer) is allocated once, never moves, and is
//! only ever accessed through raw pointers while the kernel may use it (the receive buffers
//! and send slots live in `mmap`ed regions, not in Rust boxes or slices, so no reference ever
//! covers memory the kernel is writing). On the way out, the driver's `Drop` cancels every
//! request synchronously, unregisters the buffer ring and closes the ring before the memory
//! is freed; if the kernel does not confirm, the memory is leaked rather than freed.
//!
//! # Closing a socket
//!
//! An armed multishot receive keeps a reference to its socket, and a queued entry names the
//! descriptor by number. Closing a port therefore (1) submits whatever is queued, so no
//! unsubmitted entry can later name a reused descriptor number, (2) cancels every request on
//! the descriptor with a synchronous cancel (`IORING_REGISTER_SYNC_CANCEL`), which returns
//! once they are done (their completions, `-ECANCELED`, are reaped later and ignored), and
//! only then (3) closes the socket. The port is thus really free when `finish_turn` returns it
//! to the pool and the `ChannelClosed` event goes out. Should the synchronous cancel fail, the
//! socket is parked in a "closing" list until its receive's last completion arrives.
//!
//! Setup needs Linux 6.0 (buffer rings, multishot `recvmsg`, synchronous cancel); `spawn`
//! probes for them, so an older kernel or a sandbox that forbids io_uring makes
//! `Engine::builder().build()` fail with an `Unsupported` or `PermissionDenied` error.
#![allow(unsafe_code)]

mod memory;
mod sockets;
mod stamp;
mod turn;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::mem::ManuallyDrop;
use std::net::UdpSocket;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use io_uring::types::{CancelBuilder, SubmitArgs, Timespec};
use io_uring::{IoUring, cqueue, opcode, squeue};
use tandem_udp::{MAX_DATAGRAM, addr};

use self::memory::Memory;
use self::stamp::CONTROL_LEN;
use super::thread::{ShardThread, Wake};
use crate::time::Micros;

/// Provided receive buffers shared by all sockets of the shard (a power of two ≤ 32768).
/// They go back to the ring every turn, so running out (`ENOBUFS`) only means a burst
/// waits in the socket buffers until the next turn.
const RECV_BUFFERS: usize = 2048;
/// Space for the source address in a receive buffer (a `sockaddr_in6`, the larger kind).
const NAME_LEN: usize = addr::MAX_LEN;
/// Each receive buffer: the `io_uring_recvmsg_out` header (16 bytes), the source address,
/// the control data (the kernel's receive stamp), then the datagram; rounded up to whole
/// cache lines.
const RECV_BUF_LEN: usize = (16 + NAME_LEN + CONTROL_LEN + MAX_DATAGRAM).next_multiple_of(64);
/// Sends that may be in flight at once; a turn that produces more drops the excess (counted
/// as send errors), as a full socket buffer would.
const SEND_SLOTS: usize = 4096;
/// Submission queue entries (a full queue is submitted early, so this is no hard limit).
const SQ_ENTRIES: u32 = 1024;
/// Completion queue entries: room for every buffer and every send slot at once.
const CQ_ENTRIES: u32 = 8192;
const _: () = assert!(RECV_BUFFERS.is_power_of_two() && RECV_BUFFERS <= 32768);
const _: () = assert!(RECV_BUF_LEN >= 16 + NAME_LEN + CONTROL_LEN + MAX_DATAGRAM);
const _: () = assert!(SEND_SLOTS <= 1 << 16);
/// The buffer group id of the receive buffers.
const BGID: u16 = 0;
/// How long a receive that ended in an error waits before it is armed again, so a
/// persistent error cannot turn the loop into a busy loop.
const RETRY: Micros = Micros::from_ms(20);

/// Kinds of operation, in the top byte of `user_data`.
const KIND_RECV: u64 = 1;
const KIND_SEND: u64 = 2;
const KIND_WAKE: u64 = 3;
const KIND_CANCEL: u64 = 4;
const KIND_PROBE: u64 = 5;

/// `user_data`: the kind in the top byte, then a 32-bit generation (so completions of a
/// closed socket are never mistaken for those of a new socket on the same port), then the
/// 16-bit port (or send slot).
fn user_data(kind: u64, generation: u32, low: u16) -> u64 {
    (kind << 56) | (u64::from(generation) << 16) | u64::from(low)
}

/// Wakes the shard thread by writing to the eventfd its ring keeps a read armed on.
struct EventFdWaker(OwnedFd);

impl Wake for EventFdWaker {
    fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd this struct owns. The write
        // cannot block in practice (the counter would have to reach 2^64 - 2; every read by
        // the ring resets it), and a failure leaves nothing to clean up.
        let _ = unsafe { libc::write(self.0.as_raw_fd(), (&raw const one).cast(), 8) };
    }
}

/// Hashes a port with one multiplication (Fibonacci hashing spreads the bits over the
/// whole word, which the hash table's tag bits need); SipHash would be wasted on a u16
/// looked up for every datagram.
#[derive(Default)]
struct PortHasher(u64);

impl Hasher for PortHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u16(&mut self, n: u16) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Sockets by port.
type PortMap<V> = HashMap<u16, V, BuildHasherDefault<PortHasher>>;

/// A socket of a live channel.
struct Socket {
    sock: UdpSocket,
    /// The `user_data` of its receive.
    ud: u64,
    /// Whether its multishot receive is armed (queued or in flight).
    armed: bool,
}

/// The ring, its memory and the sockets of one shard thread.
struct Driver {
    /// Dropped explicitly in `Drop`, before `mem`.
    ring: ManuallyDrop<IoUring>,
    /// Freed in `Drop` once the kernel is done with it (or leaked if that is uncertain).
    mem: ManuallyDrop<Memory>,
    /// The buffer ring's tail as the driver knows it (published with `publish_buffers`).
    buf_tail: u16,
    /// Whether buffers went back to the ring since the last publish.
    buf_dirty: bool,
    /// Whether the buffer ring is registered (to unregister it in `Drop`).
    buf_registered: bool,
    /// Requests queued or in flight: +1 per entry pushed, -1 per final completion (one
    /// without the MORE flag). `Drop` frees the memory only once this is back to zero.
    inflight: usize,
    /// Free send slots (a stack, so few slots are ever touched).
    free_slots: Vec<u16>,
    sockets: PortMap<Socket>,
    /// Sockets whose synchronous cancel failed, by the `user_data` of their receive, kept
    /// open until that receive's last completion.
    closing: HashMap<u64, UdpSocket>,
    /// Ports whose receive ended in an error, armed again at `retry_at`.
    retry: Vec<u16>,
    retry_at: Micros,
    generation: u32,
    efd: OwnedFd,
    /// Completions of the turn, copied out of the queue (capacity: the whole queue).
    completions: Vec<(u64, i32, u32)>,
    /// Counts of the turn, published once per turn.
    received: u64,
    sent: u64,
    send_failed: u64,
}

// SAFETY: the raw pointers inside (regions, and the msghdrs and iovecs in the send slots)
// point only into memory the Driver owns. It is built on the spawning thread, moved whole
// into the shard thread, and used only there.
unsafe impl Send for Driver {}

/// An error for a kernel that lacks what the driver needs (`Unsupported`), unless the kernel
/// said "not allowed".
fn unsupported(what: &str, e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::PermissionDenied => e,
        _ => io::Error::new(
            io::ErrorKind::Unsupported,
            format!("io_uring {what} unavailable (needs Linux 6.0): {e}"),
        ),
    }
}

/// Starts a shard thread on io_uring.
///
/// The ring, the buffer ring and the memory are set up here, and the kernel's support for
/// multishot `recvmsg` and synchronous cancel is probed, so a machine without them gets an
/// error (`Unsupported`, or `PermissionDenied` where io_uring is forbidden) rather than a
/// dead or spinning thread. The returned [`Wake`] writes to an eventfd the ring reads.
pub(crate) fn spawn(st: ShardThread) -> io::Result<(JoinHandle<()>, Arc<dyn Wake>)> {
    let ring = IoUring::builder()
        .setup_cqsize(CQ_ENTRIES)
        .setup_submit_all()
        .setup_coop_taskrun()
        .build(SQ_ENTRIES)
        .map_err(|e| match e.kind() {
            io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied => e,
            _ => unsupported("setup", e),
        })?;
    // Blocking mode, so the ring's read waits for a write on every kernel version; the
    // waker's writes never block (see EventFdWaker).
    // SAFETY: eventfd takes no pointers; a negative result is an error, checked below.
    let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor owned by nobody else.
    let efd = unsafe { OwnedFd::from_raw_fd(raw) };
    let waker: Arc<dyn Wake> = Arc::new(EventFdWaker(efd.try_clone()?));
    let mem = Memory::new()?;
    // SAFETY: the ring memory is page-aligned (mmap), holds RECV_BUFFERS zeroed entries
    // (a zero tail: empty) and stays mapped until after the buffer ring is unregistered
    // (Driver's Drop unregisters first, and leaks the memory if that fails).
    let registered = unsafe {
        ring.submitter().register_buf_ring_with_flags(
            mem.ring.base() as u64,
            RECV_BUFFERS as u16,
            BGID,
            0,
        )
    };
    // From here on the Driver owns ring and memory, so its Drop tears them down in order.
    let mut driver = Driver {
        ring: ManuallyDrop::new(ring),
        mem: ManuallyDrop::new(mem),
        buf_tail: 0,
        buf_dirty: false,
        buf_registered: registered.is_ok(),
        inflight: 0,
        free_slots: (0..SEND_SLOTS as u16).rev().collect(),
        sockets: PortMap::default(),
        closing: HashMap::new(),
        retry: Vec::new(),
        retry_at: Micros::ZERO,
        generation: 0,
        efd,
        completions: Vec::with_capacity(CQ_ENTRIES as usize),
        received: 0,
        sent: 0,
        send_failed: 0,
    };
    registered.map_err(|e| unsupported("provided buffer ring", e))?;
    for bid in 0..RECV_BUFFERS as u16 {
        driver.give_back(bid);
    }
    driver.publish_buffers();
    driver.probe()?;
    driver.arm_wake()?;
    let name = format!("tandem-shard-{}", st.shard.index());
    let handle = thread::Builder::new().name(name).spawn(move || {
        let mut st = st;
        if let Err(e) = driver.run(&mut st) {
            tracing::error!(error = %e, "io_uring shard thread failed");
        }
        // `driver` drops here, on the thread that submitted its requests.
    })?;
    Ok((handle, waker))
}

impl Driver {
    /// Queues an entry, submitting the queue first if it is full.
    ///
    /// # Safety
    ///
    /// Every pointer in `e` must stay valid until the operation's completion is reaped (or
    /// the operation is cancelled in `Drop`).
    unsafe fn push(&mut self, e: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: forwarded from the caller.
            if unsafe { self.ring.submission().push(e) }.is_ok() {
                self.inflight += 1;
                return Ok(());
            }
            self.ring.submit()?;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Submit what is queued, so that it too is cancelled; then cancel every request and
        // reap completions until none is left (or a second has passed).
        let _ = self.ring.submit();
        if self.inflight > 0 {
            let timeout = Timespec::new().sec(1);
            match self
                .ring
                .submitter()
                .register_sync_cancel(Some(timeout), CancelBuilder::any())
            {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(_) => {
                    let e = opcode::AsyncCancel2::new(CancelBuilder::any())
                        .build()
                        .user_data(user_data(KIND_CANCEL, 0, 0));
                    // SAFETY: a cancel carries no pointers.
                    let _ = unsafe { self.push(&e) };
                }
            }
        }
        let wait = Timespec::new().nsec(50_000_000);
        for _ in 0..20 {
            if self.inflight == 0 {
                break;
            }
            let args = SubmitArgs::new().timespec(&wait);
            let _ = self.ring.submitter().submit_with_args(1, &args);
            for c in self.ring.completion() {
                if !cqueue::more(c.flags()) {
                    self.inflight = self.inflight.saturating_sub(1);
                }
            }
        }
        // The kernel stops reading the buffer ring once it is unregistered.
        let ring_released =
            !self.buf_registered || self.ring.submitter().unregister_buf_ring(BGID).is_ok();
        // SAFETY: `ring` is dropped exactly once, here, and not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.ring) };
        if self.inflight == 0 && ring_released {
            // SAFETY: `mem` is dropped exactly once, here. Every request is over (its final
            // completion reaped), the buffer ring is unregistered and the ring closed, so
            // the kernel holds no pointer into it.
            unsafe { ManuallyDrop::drop(&mut self.mem) };
        } else {
            // The kernel might still write into it: leaking is the only safe choice.
            tracing::warn!(
                inflight = self.inflight,
                "io_uring teardown unconfirmed; leaking its buffers"
            );
        }
        // The sockets close after this, with the fields.
    }
}
