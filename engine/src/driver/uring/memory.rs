//! The memory the io_uring driver shares with the kernel: the provided-buffer ring and
//! its receive buffers, the send slots, and the headers of the multishot receives (see
//! the parent module's docs on how it is kept safe).

use std::io;
use std::mem;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use tandem_udp::MAX_DATAGRAM;

use super::{CONTROL_LEN, Driver, NAME_LEN, RECV_BUF_LEN, RECV_BUFFERS, SEND_SLOTS};

/// Page-aligned, zeroed memory from an anonymous `mmap`: pages cost nothing until touched,
/// and the kernel may read or write it while the driver holds only this raw pointer.
pub(super) struct Region {
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

    pub(super) fn base(&self) -> *mut u8 {
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
pub(super) struct SendSlot {
    pub(super) hdr: libc::msghdr,
    pub(super) iov: libc::iovec,
    pub(super) name: [u8; NAME_LEN],
    pub(super) buf: [u8; MAX_DATAGRAM],
}

/// The memory shared with the kernel (see the module docs).
pub(super) struct Memory {
    /// The buffer ring: RECV_BUFFERS entries.
    pub(super) ring: Region,
    /// The receive buffers: RECV_BUFFERS × RECV_BUF_LEN bytes.
    pub(super) recv: Region,
    /// The send slots: SEND_SLOTS × SendSlot.
    pub(super) send: Region,
    /// The header every multishot receive is described by: only its name and control
    /// lengths matter to the kernel.
    pub(super) recv_hdr: Box<libc::msghdr>,
    /// Where the ring's read of the eventfd lands (never read by the driver).
    pub(super) efd_buf: Box<u64>,
}

impl Memory {
    pub(super) fn new() -> io::Result<Memory> {
        // SAFETY: all-zero is a valid msghdr (null pointers, zero lengths).
        let mut recv_hdr: Box<libc::msghdr> = Box::new(unsafe { mem::zeroed() });
        recv_hdr.msg_namelen = NAME_LEN as libc::socklen_t;
        // Room for the receive stamp; the kernel only reads the length (the data goes into
        // each provided buffer, after the name).
        recv_hdr.msg_controllen = CONTROL_LEN as _;
        Ok(Memory {
            ring: Region::new(RECV_BUFFERS * mem::size_of::<BufEntry>())?,
            recv: Region::new(RECV_BUFFERS * RECV_BUF_LEN)?,
            send: Region::new(SEND_SLOTS * mem::size_of::<SendSlot>())?,
            recv_hdr,
            efd_buf: Box::new(0),
        })
    }
}

impl Driver {
    /// Puts receive buffer `bid` at the buffer ring's tail (seen by the kernel once
    /// published).
    pub(super) fn give_back(&mut self, bid: u16) {
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
    pub(super) fn publish_buffers(&mut self) {
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
    pub(super) fn recv_buf(&self, bid: u16) -> *mut u8 {
        debug_assert!(usize::from(bid) < RECV_BUFFERS);
        // SAFETY: in bounds of the receive region for every bid < RECV_BUFFERS (the kernel
        // only hands out the ids given to it).
        unsafe { self.mem.recv.base().add(usize::from(bid) * RECV_BUF_LEN) }
    }

    /// The address of send slot `slot`.
    pub(super) fn send_slot(&self, slot: u16) -> *mut SendSlot {
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
}
