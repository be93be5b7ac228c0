//! The io_uring driver: one multishot `recvmsg` per socket drawing from a shared ring of
//! provided buffers, and `sendmsg` submissions batched into one `io_uring_enter` per turn.
//!
//! The loop: submit pending entries and wait for at least one completion or the shard's next
//! deadline; handle every completion (datagrams go to the shard, their buffers straight back
//! to the ring); run the tick if due; queue the shard's output as sends; repeat.
//!
//! Memory handed to the kernel (the buffer ring, receive buffers, the shared `msghdr`,
//! send slots, the eventfd read buffer) is allocated once, never moves, and outlives the
//! ring: the ring is dropped (and with it every in-flight operation) before the memory.
//! A socket whose channel is deleted is kept open until its multishot receive has
//! completed for the last time (after an async cancel), so the kernel never holds a
//! closed, possibly reused, descriptor.
#![allow(unsafe_code)]

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::HashMap;
use std::io;
use std::mem;
use std::net::UdpSocket;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::thread::{self, JoinHandle};

use io_uring::types::{BufRingEntry, Fd, RecvMsgOut, SubmitArgs, Timespec};
use io_uring::{IoUring, cqueue, opcode, squeue};

use super::common::{Control, ShardThread, Wake};
use super::mmsg::{MAX_DATAGRAM, from_storage, to_storage};

/// Provided receive buffers (a power of two, at most 32768).
const RECV_BUFFERS: usize = 4096;
/// Each receive buffer: the recvmsg header, the source address, the datagram.
const RECV_BUF_LEN: usize = MAX_DATAGRAM + 256;
/// Sends that may be in flight at once.
const SEND_SLOTS: usize = 4096;
/// Submission queue entries.
const RING_ENTRIES: u32 = 4096;
const BGID: u16 = 7;

const KIND_RECV: u64 = 1;
const KIND_SEND: u64 = 2;
const KIND_WAKE: u64 = 3;
const KIND_CANCEL: u64 = 4;

/// user_data: kind in the top byte, then a 32-bit generation, then the 16-bit port (or slot).
fn user_data(kind: u64, generation: u32, low: u16) -> u64 {
    (kind << 56) | (u64::from(generation) << 16) | u64::from(low)
}

struct EventFdWaker(OwnedFd);

impl Wake for EventFdWaker {
    fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd we own; a failed write
        // (counter overflow) still leaves the fd readable, which is all a wake needs.
        unsafe {
            libc::write(self.0.as_raw_fd(), (&raw const one).cast(), 8);
        }
    }
}

/// Page-aligned memory for the buffer ring's entries.
struct RingMemory {
    ptr: *mut BufRingEntry,
    layout: Layout,
}

impl RingMemory {
    fn new(entries: usize) -> io::Result<RingMemory> {
        let layout = Layout::from_size_align(entries * mem::size_of::<BufRingEntry>(), 4096)
            .map_err(|e| io::Error::other(e.to_string()))?;
        // SAFETY: the layout has a non-zero size; zeroed entries are valid (all integers).
        let ptr = unsafe { alloc_zeroed(layout) }.cast::<BufRingEntry>();
        if ptr.is_null() {
            return Err(io::Error::other("out of memory for the buffer ring"));
        }
        Ok(RingMemory { ptr, layout })
    }
}

impl Drop for RingMemory {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the ring that used it is gone (the
        // driver drops the IoUring first).
        unsafe { dealloc(self.ptr.cast(), self.layout) }
    }
}

/// The provided-buffer ring and its buffers.
struct Buffers {
    ring: RingMemory,
    data: Box<[[u8; RECV_BUF_LEN]]>,
    tail: u16,
}

impl Buffers {
    fn new() -> io::Result<Buffers> {
        let mut b = Buffers {
            ring: RingMemory::new(RECV_BUFFERS)?,
            data: vec![[0u8; RECV_BUF_LEN]; RECV_BUFFERS].into_boxed_slice(),
            tail: 0,
        };
        for bid in 0..RECV_BUFFERS as u16 {
            b.push(bid);
        }
        b.publish();
        Ok(b)
    }

    /// Puts buffer `bid` at the ring's tail (visible to the kernel after `publish`).
    fn push(&mut self, bid: u16) {
        let idx = usize::from(self.tail) & (RECV_BUFFERS - 1);
        // SAFETY: idx < RECV_BUFFERS, the number of entries allocated; the kernel only reads
        // entries between its head and our published tail, and this one is past the tail.
        let entry = unsafe { &mut *self.ring.ptr.add(idx) };
        entry.set_addr(self.data[usize::from(bid)].as_ptr() as u64);
        entry.set_len(RECV_BUF_LEN as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the pushed entries visible to the kernel.
    fn publish(&self) {
        // SAFETY: the tail field lives in entry 0 of the ring we allocated (aligned for u16);
        // the kernel reads it concurrently, so it is written atomically with release order.
        unsafe {
            let tail = BufRingEntry::tail(self.ring.ptr).cast::<AtomicU16>();
            (*tail).store(self.tail, Ordering::Release);
        }
    }
}

/// One in-flight send: its bytes, address and headers, at a fixed address.
struct SendSlot {
    buf: [u8; MAX_DATAGRAM],
    addr: libc::sockaddr_storage,
    iov: libc::iovec,
    hdr: libc::msghdr,
}

struct Socket {
    sock: UdpSocket,
    generation: u32,
}

struct Driver {
    ring: IoUring,
    buffers: Buffers,
    /// The header every multishot receive is described by (name space, no control data).
    recv_hdr: Box<libc::msghdr>,
    slots: Box<[SendSlot]>,
    free_slots: Vec<u16>,
    sockets: HashMap<u16, Socket>,
    /// Sockets being closed, by the user_data of their receive, until its last completion.
    closing: HashMap<u64, UdpSocket>,
    generation: u32,
    efd: OwnedFd,
    efd_buf: Box<u64>,
    completions: Vec<(u64, i32, u32)>,
}

// SAFETY: the raw pointers inside (buffer ring, msghdrs, iovecs) point only into memory the
// Driver owns; it is built on the spawning thread, moved whole into the shard thread, and
// used only there.
unsafe impl Send for Driver {}

/// Starts a shard thread on io_uring.
pub fn spawn(st: ShardThread) -> io::Result<(JoinHandle<()>, Arc<dyn Wake>)> {
    let ring = IoUring::builder().build(RING_ENTRIES)?;
    // SAFETY: eventfd takes no pointers; a negative result is an error, checked below.
    let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor owned by nobody else.
    let efd = unsafe { OwnedFd::from_raw_fd(raw) };
    let waker: Arc<dyn Wake> = Arc::new(EventFdWaker(efd.try_clone()?));
    let buffers = Buffers::new()?;
    // SAFETY: the ring memory is page-aligned, holds RECV_BUFFERS entries and lives in the
    // Driver next to the ring, which is dropped first (see Driver's field order and Drop).
    unsafe {
        ring.submitter().register_buf_ring_with_flags(
            buffers.ring.ptr as u64,
            RECV_BUFFERS as u16,
            BGID,
            0,
        )?;
    }
    // SAFETY: all-zero is a valid msghdr.
    let mut recv_hdr: Box<libc::msghdr> = Box::new(unsafe { mem::zeroed() });
    recv_hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let slots = (0..SEND_SLOTS)
        .map(|_| SendSlot {
            buf: [0; MAX_DATAGRAM],
            // SAFETY: all-zero is valid for these plain C structs.
            addr: unsafe { mem::zeroed() },
            iov: unsafe { mem::zeroed() },
            hdr: unsafe { mem::zeroed() },
        })
        .collect::<Vec<_>>()
        .into_boxed_slice();
    let mut driver = Driver {
        ring,
        buffers,
        recv_hdr,
        slots,
        free_slots: (0..SEND_SLOTS as u16).rev().collect(),
        sockets: HashMap::new(),
        closing: HashMap::new(),
        generation: 0,
        efd,
        efd_buf: Box::new(0),
        completions: Vec::with_capacity(1024),
    };
    driver.arm_wake()?;
    let name = format!("tandem-shard-{}", st.shard.index());
    let handle = thread::Builder::new().name(name).spawn(move || {
        if let Err(e) = driver.run(st) {
            tracing::error!(error = %e, "io_uring shard thread failed");
        }
    })?;
    Ok((handle, waker))
}

impl Driver {
    /// Pushes an entry, submitting first if the queue is full.
    fn push(&mut self, e: squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: every pointer in our entries refers to memory owned by this Driver
            // that stays in place until the operation's completion is reaped (or the ring is
            // dropped, which cancels it first).
            if unsafe { self.ring.submission().push(&e) }.is_ok() {
                return Ok(());
            }
            self.ring.submit()?;
        }
    }

    fn arm_wake(&mut self) -> io::Result<()> {
        let e = opcode::Read::new(Fd(self.efd.as_raw_fd()), (&raw mut *self.efd_buf).cast(), 8)
            .build()
            .user_data(user_data(KIND_WAKE, 0, 0));
        self.push(e)
    }

    fn arm_recv(&mut self, port: u16) -> io::Result<()> {
        let Some(s) = self.sockets.get(&port) else {
            return Ok(());
        };
        let e = opcode::RecvMsgMulti::new(Fd(s.sock.as_raw_fd()), &raw const *self.recv_hdr, BGID)
            .build()
            .user_data(user_data(KIND_RECV, s.generation, port));
        self.push(e)
    }

    fn add_socket(&mut self, port: u16, sock: UdpSocket) -> io::Result<()> {
        self.generation = self.generation.wrapping_add(1);
        self.sockets.insert(
            port,
            Socket {
                sock,
                generation: self.generation,
            },
        );
        self.arm_recv(port)
    }

    fn close_socket(&mut self, port: u16) {
        if let Some(s) = self.sockets.remove(&port) {
            let ud = user_data(KIND_RECV, s.generation, port);
            self.closing.insert(ud, s.sock);
            let e = opcode::AsyncCancel::new(ud)
                .build()
                .user_data(user_data(KIND_CANCEL, 0, 0));
            if self.push(e).is_err() {
                tracing::warn!(port, "could not cancel a receive; the socket stays open");
            }
        }
    }

    fn run(&mut self, mut st: ShardThread) -> io::Result<()> {
        st.start();
        loop {
            let now = st.clock.now_us();
            let wait = st.shard.next_deadline().saturating_sub(now);
            let ts = Timespec::new()
                .sec(wait / 1_000_000)
                .nsec((wait % 1_000_000) as u32 * 1000);
            let args = SubmitArgs::new().timespec(&ts);
            match self.ring.submitter().submit_with_args(1, &args) {
                Ok(_) => {}
                Err(e)
                    if e.raw_os_error() == Some(libc::ETIME)
                        || e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
                Err(e) => return Err(e),
            }
            self.completions.clear();
            for c in self.ring.completion() {
                self.completions
                    .push((c.user_data(), c.result(), c.flags()));
            }
            let mut recycled = false;
            let mut shutdown = false;
            for i in 0..self.completions.len() {
                let (ud, res, flags) = self.completions[i];
                match ud >> 56 {
                    KIND_RECV => recycled |= self.on_recv(&mut st, ud, res, flags)?,
                    KIND_SEND => {
                        self.free_slots.push((ud & 0xFFFF) as u16);
                        if res < 0 {
                            st.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                        } else {
                            st.counters.datagrams_out.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    KIND_WAKE => {
                        shutdown |= !self.apply_control(&mut st)?;
                        self.arm_wake()?;
                    }
                    _ => {} // cancel results: the receive's own completion does the work
                }
            }
            if recycled {
                self.buffers.publish();
            }
            if shutdown {
                return Ok(());
            }
            st.shard.tick(st.clock.now_us());
            self.flush(&mut st)?;
            let mut closed = Vec::new();
            st.finish_turn(|port| closed.push(port));
            for port in closed {
                self.close_socket(port);
            }
        }
    }

    /// A multishot receive completion. Returns whether a buffer went back to the ring.
    fn on_recv(&mut self, st: &mut ShardThread, ud: u64, res: i32, flags: u32) -> io::Result<bool> {
        let port = (ud & 0xFFFF) as u16;
        let mut recycled = false;
        if let Some(bid) = cqueue::buffer_select(flags) {
            if res >= 0 {
                let buf = &self.buffers.data[usize::from(bid)][..(res as usize).min(RECV_BUF_LEN)];
                if let Ok(msg) = RecvMsgOut::parse(buf, &self.recv_hdr) {
                    // SAFETY: all-zero is a valid sockaddr_storage; at most its size is copied.
                    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
                    let name = msg.name_data();
                    let n = name.len().min(mem::size_of::<libc::sockaddr_storage>());
                    // SAFETY: copies n ≤ size_of(sockaddr_storage) bytes into it.
                    unsafe {
                        std::ptr::copy_nonoverlapping(name.as_ptr(), (&raw mut ss).cast::<u8>(), n)
                    };
                    let live = self
                        .sockets
                        .get(&port)
                        .is_some_and(|s| user_data(KIND_RECV, s.generation, port) == ud);
                    if let (Some(from), false, true) =
                        (from_storage(&ss), msg.is_payload_truncated(), live)
                    {
                        st.counters.datagrams_in.fetch_add(1, Ordering::Relaxed);
                        st.shard
                            .handle_datagram(st.clock.now_us(), port, from, msg.payload_data());
                    }
                }
            }
            self.buffers.push(bid);
            recycled = true;
        }
        if !cqueue::more(flags) {
            if let Some(sock) = self.closing.remove(&ud) {
                drop(sock); // its last completion: now the descriptor can go
            } else if self
                .sockets
                .get(&port)
                .is_some_and(|s| user_data(KIND_RECV, s.generation, port) == ud)
            {
                // Ended (out of buffers, or an error): start it again.
                self.arm_recv(port)?;
            }
        }
        Ok(recycled)
    }

    /// Applies queued control messages. Returns false on shutdown.
    fn apply_control(&mut self, st: &mut ShardThread) -> io::Result<bool> {
        while let Ok(msg) = st.control.try_recv() {
            match msg {
                Control::Shutdown => return Ok(false),
                Control::Command { cmd, sockets } => {
                    for (port, s) in sockets {
                        s.set_nonblocking(true)?;
                        self.add_socket(port, s)?;
                    }
                    st.shard.handle_command(st.clock.now_us(), cmd);
                }
            }
        }
        Ok(true)
    }

    /// Queues a sendmsg for each pending datagram (copied into a slot, since the shard's
    /// queue is cleared now) and submits them with the next wait.
    fn flush(&mut self, st: &mut ShardThread) -> io::Result<()> {
        let n = st.shard.transmit_queue().len();
        for i in 0..n {
            let t = st.shard.transmit_queue().get(i);
            let fd: RawFd = match self.sockets.get(&t.local_port) {
                Some(s) => s.sock.as_raw_fd(),
                None => {
                    st.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            let Some(slot) = self.free_slots.pop() else {
                // Every slot in flight: the kernel is behind; drop, as a full socket would.
                st.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let s = &mut self.slots[usize::from(slot)];
            let len = t.payload.len().min(MAX_DATAGRAM);
            s.buf[..len].copy_from_slice(&t.payload[..len]);
            let namelen = to_storage(t.dest, &mut s.addr);
            s.iov = libc::iovec {
                iov_base: s.buf.as_mut_ptr().cast(),
                iov_len: len,
            };
            s.hdr.msg_name = (&raw mut s.addr).cast();
            s.hdr.msg_namelen = namelen;
            s.hdr.msg_iov = &raw mut s.iov;
            s.hdr.msg_iovlen = 1;
            let e = opcode::SendMsg::new(Fd(fd), &raw const s.hdr)
                .build()
                .user_data(user_data(KIND_SEND, 0, slot));
            self.push(e)?;
        }
        st.shard.clear_transmits();
        Ok(())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Unregister first so the kernel stops using the ring memory; the IoUring itself is
        // dropped (torn down, cancelling everything) before `buffers` because it is declared
        // first.
        let _ = self.ring.submitter().unregister_buf_ring(BGID);
    }
}
