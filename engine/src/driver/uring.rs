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

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::mem::{self, ManuallyDrop};
use std::net::UdpSocket;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::thread::{self, JoinHandle};

use crossbeam_channel::TryRecvError;
use io_uring::types::{BufRingEntry, CancelBuilder, Fd, RecvMsgOut, SubmitArgs, Timespec};
use io_uring::{IoUring, cqueue, opcode, squeue};
use socket2::{Domain, Socket as Socket2, Type};
use tandem_udp::{MAX_DATAGRAM, addr};

use super::common::{Control, ShardThread, Wake};

/// Provided receive buffers shared by all sockets of the shard (a power of two ≤ 32768).
/// They go back to the ring every turn, so running out (`ENOBUFS`) only means a burst
/// waits in the socket buffers until the next turn.
const RECV_BUFFERS: usize = 2048;
/// Space for the source address in a receive buffer (a `sockaddr_in6`, the larger kind).
const NAME_LEN: usize = addr::MAX_LEN;
/// Each receive buffer: the `io_uring_recvmsg_out` header (16 bytes), the source address,
/// then the datagram; rounded up to whole cache lines.
const RECV_BUF_LEN: usize = (16 + NAME_LEN + MAX_DATAGRAM).next_multiple_of(64);
/// Sends that may be in flight at once; a turn that produces more drops the excess (counted
/// as send errors), as a full socket buffer would.
const SEND_SLOTS: usize = 4096;
/// Submission queue entries (a full queue is submitted early, so this is no hard limit).
const SQ_ENTRIES: u32 = 1024;
/// Completion queue entries: room for every buffer and every send slot at once.
const CQ_ENTRIES: u32 = 8192;
const _: () = assert!(RECV_BUFFERS.is_power_of_two() && RECV_BUFFERS <= 32768);
const _: () = assert!(RECV_BUF_LEN >= 16 + NAME_LEN + MAX_DATAGRAM);
const _: () = assert!(SEND_SLOTS <= 1 << 16);
/// The buffer group id of the receive buffers.
const BGID: u16 = 0;
/// How long a receive that ended in an error waits before it is armed again, so a
/// persistent error cannot turn the loop into a busy loop.
const RETRY_US: u64 = 20_000;

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

/// Page-aligned, zeroed memory from an anonymous `mmap`: pages cost nothing until touched,
/// and the kernel may read or write it while the driver holds only this raw pointer.
struct Region {
    ptr: NonNull<u8>,
    len: usize,
}

impl Region {
    fn new(len: usize) -> io::Result<Region> {
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing; no
        // existing memory is affected. The result is checked for MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Region { ptr, len })
    }

    fn base(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`. The driver frees regions only
        // once the kernel is done with them (see `Driver`'s Drop).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// One entry of the provided-buffer ring: `struct io_uring_buf`. In entry 0, `resv` is the
/// ring's tail, which the application writes and the kernel reads.
#[repr(C)]
struct BufEntry {
    addr: u64,
    len: u32,
    bid: u16,
    resv: u16,
}

const _: () = assert!(mem::size_of::<BufEntry>() == mem::size_of::<BufRingEntry>());
const _: () = assert!(mem::size_of::<BufEntry>() == 16);

/// One send in flight: its headers, destination and bytes, at a fixed address.
#[repr(C)]
struct SendSlot {
    hdr: libc::msghdr,
    iov: libc::iovec,
    name: [u8; NAME_LEN],
    buf: [u8; MAX_DATAGRAM],
}

/// The memory shared with the kernel (see the module docs).
struct Memory {
    /// The buffer ring: RECV_BUFFERS entries.
    ring: Region,
    /// The receive buffers: RECV_BUFFERS × RECV_BUF_LEN bytes.
    recv: Region,
    /// The send slots: SEND_SLOTS × SendSlot.
    send: Region,
    /// The header every multishot receive is described by: only its name and control
    /// lengths matter to the kernel.
    recv_hdr: Box<libc::msghdr>,
    /// Where the ring's read of the eventfd lands (never read by the driver).
    efd_buf: Box<u64>,
}

impl Memory {
    fn new() -> io::Result<Memory> {
        // SAFETY: all-zero is a valid msghdr (null pointers, zero lengths).
        let mut recv_hdr: Box<libc::msghdr> = Box::new(unsafe { mem::zeroed() });
        recv_hdr.msg_namelen = NAME_LEN as libc::socklen_t;
        Ok(Memory {
            ring: Region::new(RECV_BUFFERS * mem::size_of::<BufEntry>())?,
            recv: Region::new(RECV_BUFFERS * RECV_BUF_LEN)?,
            send: Region::new(SEND_SLOTS * mem::size_of::<SendSlot>())?,
            recv_hdr,
            efd_buf: Box::new(0),
        })
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
    retry_at: u64,
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
pub fn spawn(st: ShardThread) -> io::Result<(JoinHandle<()>, Arc<dyn Wake>)> {
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
        retry_at: 0,
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

    /// Puts receive buffer `bid` at the buffer ring's tail (seen by the kernel once
    /// published).
    fn give_back(&mut self, bid: u16) {
        let idx = usize::from(self.buf_tail) & (RECV_BUFFERS - 1);
        let buf = self.recv_buf(bid);
        // SAFETY: idx < RECV_BUFFERS, the number of entries mapped. The kernel reads only the
        // entries between its head and the published tail, and this one is at the unpublished
        // tail (at most RECV_BUFFERS buffers exist, so the kernel has consumed it). The fields
        // are written through raw pointers: no reference is made to entry 0, whose `resv` is
        // the tail the kernel reads.
        unsafe {
            let e = self.mem.ring.base().cast::<BufEntry>().add(idx);
            (&raw mut (*e).addr).write(buf as u64);
            (&raw mut (*e).len).write(RECV_BUF_LEN as u32);
            (&raw mut (*e).bid).write(bid);
        }
        self.buf_tail = self.buf_tail.wrapping_add(1);
        self.buf_dirty = true;
    }

    /// Makes the returned buffers visible to the kernel.
    fn publish_buffers(&mut self) {
        if !self.buf_dirty {
            return;
        }
        // SAFETY: the tail is entry 0's `resv`: in mapped memory, 2-byte aligned (the region
        // is page-aligned, the field at offset 14). The kernel reads it concurrently, so it
        // is written atomically, with release order so the entries written before are
        // visible first.
        unsafe {
            let tail = &raw mut (*self.mem.ring.base().cast::<BufEntry>()).resv;
            (*tail.cast::<AtomicU16>()).store(self.buf_tail, Ordering::Release);
        }
        self.buf_dirty = false;
    }

    /// The address of receive buffer `bid`.
    fn recv_buf(&self, bid: u16) -> *mut u8 {
        debug_assert!(usize::from(bid) < RECV_BUFFERS);
        // SAFETY: in bounds of the receive region for every bid < RECV_BUFFERS (the kernel
        // only hands out the ids given to it).
        unsafe { self.mem.recv.base().add(usize::from(bid) * RECV_BUF_LEN) }
    }

    /// The address of send slot `slot`.
    fn send_slot(&self, slot: u16) -> *mut SendSlot {
        debug_assert!(usize::from(slot) < SEND_SLOTS);
        // SAFETY: in bounds of the send region for every slot < SEND_SLOTS.
        unsafe {
            self.mem
                .send
                .base()
                .cast::<SendSlot>()
                .add(usize::from(slot))
        }
    }

    /// Checks, with a throwaway socket, that the kernel has multishot `recvmsg` on provided
    /// buffers (6.0) and synchronous cancel (6.0): arms a receive, cancels it, and expects
    /// `-ECANCELED` (an older kernel fails the receive with `-EINVAL`).
    fn probe(&mut self) -> io::Result<()> {
        // Unbound, so no datagram can reach it.
        let sock = Socket2::new(Domain::IPV4, Type::DGRAM, None)
            .or_else(|_| Socket2::new(Domain::IPV6, Type::DGRAM, None))?;
        let ud = user_data(KIND_PROBE, 0, 0);
        let e =
            opcode::RecvMsgMulti::new(Fd(sock.as_raw_fd()), &raw const *self.mem.recv_hdr, BGID)
                .build()
                .user_data(ud);
        // SAFETY: the msghdr lives in `mem`; the socket outlives the request (it is cancelled
        // and reaped below, or cancelled in Drop on an early return).
        unsafe { self.push(&e)? };
        self.ring.submit()?;
        let timeout = Timespec::new().sec(1);
        match self
            .ring
            .submitter()
            .register_sync_cancel(Some(timeout), CancelBuilder::user_data(ud))
        {
            Ok(()) => {}
            // Already completed: the receive failed at once; its result says why.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(unsupported("synchronous cancel", e)),
        }
        let mut result = None;
        for _ in 0..2 {
            self.completions.clear();
            self.completions.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for i in 0..self.completions.len() {
                let (cud, res, flags) = self.completions[i];
                if let Some(bid) = cqueue::buffer_select(flags) {
                    self.give_back(bid);
                }
                if !cqueue::more(flags) {
                    self.inflight = self.inflight.saturating_sub(1);
                    if cud == ud {
                        result = Some(res);
                    }
                }
            }
            self.publish_buffers();
            if result.is_some() {
                break;
            }
            // The cancellation's completion runs as task work; an enter flushes it.
            let args = SubmitArgs::new().timespec(&timeout);
            let _ = self.ring.submitter().submit_with_args(1, &args);
        }
        match result {
            Some(r) if r == -libc::ECANCELED => Ok(()),
            Some(r) => Err(unsupported(
                "multishot recvmsg",
                io::Error::from_raw_os_error(-r),
            )),
            None => Err(io::Error::other("io_uring probe: no completion")),
        }
    }

    /// Arms (again) the read of the eventfd the waker writes to.
    fn arm_wake(&mut self) -> io::Result<()> {
        let buf = (&raw mut *self.mem.efd_buf).cast::<u8>();
        let e = opcode::Read::new(Fd(self.efd.as_raw_fd()), buf, 8)
            .build()
            .user_data(user_data(KIND_WAKE, 0, 0));
        // SAFETY: the 8-byte buffer is a Box in `mem`, never read or moved by the driver,
        // and the eventfd is owned by the Driver; both outlive the request.
        unsafe { self.push(&e) }
    }

    /// Arms the multishot receive of `port`'s socket, unless it is armed already.
    fn arm_recv(&mut self, port: u16) -> io::Result<()> {
        let Some(s) = self.sockets.get_mut(&port) else {
            return Ok(());
        };
        if s.armed {
            return Ok(());
        }
        s.armed = true;
        let e =
            opcode::RecvMsgMulti::new(Fd(s.sock.as_raw_fd()), &raw const *self.mem.recv_hdr, BGID)
                .build()
                .user_data(s.ud);
        // SAFETY: the msghdr lives in `mem`; the buffers it selects are in the registered
        // buffer ring; the socket stays open until the request is over (see close_socket).
        unsafe { self.push(&e) }
    }

    fn add_socket(&mut self, port: u16, sock: UdpSocket) -> io::Result<()> {
        // A port is only handed out again after its old socket was closed, but be safe.
        self.close_socket(port);
        sock.set_nonblocking(true)?;
        self.generation = self.generation.wrapping_add(1);
        let ud = user_data(KIND_RECV, self.generation, port);
        let armed = false;
        self.sockets.insert(port, Socket { sock, ud, armed });
        self.arm_recv(port)
    }

    /// Closes `port`'s socket once no request uses it (see the module docs).
    fn close_socket(&mut self, port: u16) {
        let Some(s) = self.sockets.remove(&port) else {
            return;
        };
        // Queued entries may name this descriptor (sends, a re-armed receive): submit them
        // now, so the cancel below sees them and none names a reused descriptor later.
        let submitted = self.ring.submit();
        let cancel = CancelBuilder::fd(Fd(s.sock.as_raw_fd())).all();
        let timeout = Timespec::new().sec(1);
        match (
            submitted,
            self.ring
                .submitter()
                .register_sync_cancel(Some(timeout), cancel),
        ) {
            // Every request on it is over (or there was none): close it now.
            (Ok(_), Ok(())) => drop(s.sock),
            (Ok(_), Err(e)) if e.kind() == io::ErrorKind::NotFound => drop(s.sock),
            (submitted, cancelled) => {
                // Cannot confirm: keep the socket open until its receive's last completion,
                // and ask for that completion asynchronously.
                tracing::warn!(
                    port,
                    submit = ?submitted.err(),
                    cancel = ?cancelled.err(),
                    "synchronous cancel failed; the socket closes later"
                );
                if s.armed {
                    self.closing.insert(s.ud, s.sock);
                    let e = opcode::AsyncCancel::new(s.ud).build().user_data(user_data(
                        KIND_CANCEL,
                        0,
                        port,
                    ));
                    // SAFETY: a cancel carries no pointers.
                    if unsafe { self.push(&e) }.is_err() {
                        tracing::warn!(port, "could not queue a cancel");
                    }
                }
                // Not armed: no receive is in flight, only sends, which hold their own
                // reference to the socket; it can close now.
            }
        }
    }

    fn run(&mut self, st: &mut ShardThread) -> io::Result<()> {
        st.start();
        loop {
            let now = st.clock.now_us();
            let mut deadline = st.shard.next_deadline();
            if !self.retry.is_empty() {
                deadline = deadline.min(self.retry_at);
            }
            let wait = deadline.saturating_sub(now);
            let ts = Timespec::new()
                .sec(wait / 1_000_000)
                .nsec((wait % 1_000_000) as u32 * 1000);
            let args = SubmitArgs::new().timespec(&ts);
            match self.ring.submitter().submit_with_args(1, &args) {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN)
                    ) => {}
                Err(e) => return Err(e),
            }
            self.completions.clear();
            self.completions.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            // One clock read for the whole batch, as the mio driver does per recvmmsg.
            let now = st.clock.now_us();
            let mut shutdown = false;
            for i in 0..self.completions.len() {
                let (ud, res, flags) = self.completions[i];
                if !cqueue::more(flags) {
                    self.inflight = self.inflight.saturating_sub(1);
                }
                match ud >> 56 {
                    KIND_RECV => self.on_recv(st, now, ud, res, flags)?,
                    KIND_SEND => {
                        self.free_slots.push((ud & 0xFFFF) as u16);
                        if res < 0 {
                            self.send_failed += 1;
                        } else {
                            self.sent += 1;
                        }
                    }
                    KIND_WAKE => {
                        shutdown |= !self.apply_control(st)?;
                        self.arm_wake()?;
                    }
                    // Cancel results (and a late probe completion): nothing to do; the
                    // cancelled request's own completion does the work.
                    _ => {}
                }
            }
            self.publish_buffers();
            if shutdown {
                self.publish_counters(st);
                return Ok(());
            }
            let now = st.clock.now_us();
            if !self.retry.is_empty() && now >= self.retry_at {
                let mut retry = mem::take(&mut self.retry);
                for &port in &retry {
                    self.arm_recv(port)?;
                }
                retry.clear();
                self.retry = retry;
            }
            st.shard.tick(now);
            self.flush(st)?;
            self.publish_counters(st);
            st.finish_turn(|port| self.close_socket(port));
        }
    }

    /// A completion of a multishot receive.
    fn on_recv(
        &mut self,
        st: &mut ShardThread,
        now: u64,
        ud: u64,
        res: i32,
        flags: u32,
    ) -> io::Result<()> {
        let port = (ud & 0xFFFF) as u16;
        let live = self.sockets.get(&port).is_some_and(|s| s.ud == ud);
        if let Some(bid) = cqueue::buffer_select(flags) {
            if res >= 0 && live && usize::from(bid) < RECV_BUFFERS {
                let len = (res as usize).min(RECV_BUF_LEN);
                // SAFETY: the kernel filled `len` bytes of buffer `bid` and handed it over
                // with this completion; it does not touch it again until `give_back` below,
                // after the last use of this slice.
                let buf = unsafe { std::slice::from_raw_parts(self.recv_buf(bid), len) };
                if let Ok(msg) = RecvMsgOut::parse(buf, &self.mem.recv_hdr) {
                    if !msg.is_payload_truncated() && !msg.is_name_data_truncated() {
                        if let Some(from) = addr::parse(msg.name_data()) {
                            self.received += 1;
                            st.shard
                                .handle_datagram(now, port, from, msg.payload_data());
                        }
                    }
                }
            }
            if usize::from(bid) < RECV_BUFFERS {
                self.give_back(bid);
            }
        }
        if cqueue::more(flags) {
            return Ok(());
        }
        // The receive is over.
        if let Some(sock) = self.closing.remove(&ud) {
            drop(sock); // its last completion: now the descriptor may close
            return Ok(());
        }
        if !live {
            return Ok(());
        }
        if let Some(s) = self.sockets.get_mut(&port) {
            s.armed = false;
        }
        if res >= 0 || res == -libc::ENOBUFS {
            // Out of buffers (they are back by the next submit) or ended by the kernel:
            // arm it again at once.
            self.arm_recv(port)
        } else {
            tracing::debug!(port, error = %io::Error::from_raw_os_error(-res), "receive failed");
            if self.retry.is_empty() {
                self.retry_at = now + RETRY_US;
            }
            self.retry.push(port);
            Ok(())
        }
    }

    /// Applies queued control messages. Returns false on shutdown (or when the handle is
    /// gone).
    fn apply_control(&mut self, st: &mut ShardThread) -> io::Result<bool> {
        loop {
            match st.control.try_recv() {
                Ok(Control::Shutdown) | Err(TryRecvError::Disconnected) => return Ok(false),
                Ok(Control::ReadStats { channels, reply }) => st.answer_stats(&channels, &reply),
                Ok(Control::Command { cmd, sockets }) => {
                    for (port, s) in sockets {
                        self.add_socket(port, s)?;
                    }
                    st.shard.handle_command(st.clock.now_us(), cmd);
                }
                Err(TryRecvError::Empty) => return Ok(true),
            }
        }
    }

    /// Queues a `sendmsg` for each pending datagram (copied into a send slot, since the
    /// shard's queue is cleared now); they are submitted together by the next wait.
    fn flush(&mut self, st: &mut ShardThread) -> io::Result<()> {
        let q = st.shard.transmit_queue();
        for i in 0..q.len() {
            let t = q.get(i);
            let fd: RawFd = match self.sockets.get(&t.local_port) {
                Some(s) => s.sock.as_raw_fd(),
                None => {
                    self.send_failed += 1;
                    continue;
                }
            };
            if t.payload.len() > MAX_DATAGRAM {
                self.send_failed += 1;
                continue;
            }
            let Some(slot) = self.free_slots.pop() else {
                // Every slot in flight: the kernel is behind; drop, as a full socket would.
                self.send_failed += 1;
                continue;
            };
            let p = self.send_slot(slot);
            // SAFETY: the slot was on the free list, so no request and no other reference
            // uses it; it lies in mapped memory (zeroed at first: valid for these plain C
            // types) and stays there until the send's completion puts it back on the list.
            let e = unsafe {
                let s = &mut *p;
                let len = t.payload.len();
                s.buf[..len].copy_from_slice(t.payload);
                let namelen = addr::write(t.dest, &mut s.name);
                s.iov = libc::iovec {
                    iov_base: (&raw mut s.buf).cast(),
                    iov_len: len,
                };
                s.hdr.msg_name = (&raw mut s.name).cast();
                s.hdr.msg_namelen = namelen;
                s.hdr.msg_iov = &raw mut s.iov;
                s.hdr.msg_iovlen = 1;
                opcode::SendMsg::new(Fd(fd), &raw const s.hdr)
                    .build()
                    .user_data(user_data(KIND_SEND, 0, slot))
            };
            // SAFETY: the header, iovec, address and bytes are in the slot, which stays
            // reserved until this send's completion is reaped; the socket stays open until
            // every request on it is over (close_socket).
            unsafe { self.push(&e)? };
        }
        st.shard.clear_transmits();
        Ok(())
    }

    /// Adds the turn's counts to the shared counters.
    fn publish_counters(&mut self, st: &ShardThread) {
        let c = &st.counters;
        if self.received > 0 {
            c.datagrams_in.fetch_add(self.received, Ordering::Relaxed);
        }
        if self.sent > 0 {
            c.datagrams_out.fetch_add(self.sent, Ordering::Relaxed);
        }
        if self.send_failed > 0 {
            c.send_errors.fetch_add(self.send_failed, Ordering::Relaxed);
        }
        (self.received, self.sent, self.send_failed) = (0, 0, 0);
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
