//! Batched UDP I/O: `recvmmsg` into a fixed set of buffers (optionally with the kernel's receive
//! time stamps) and `sendmmsg` of what was received to one destination, with no allocation per
//! call.
//!
//! The `mmsghdr`/`iovec` arrays point into the buffers; they are rebuilt from base pointers just
//! before each system call, so no pointer is kept across Rust borrows of the buffers.

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr;

/// Largest datagram a [`Batch`] slot holds; longer ones are truncated.
pub const MAX_DATAGRAM: usize = 2048;

/// Control-message room per slot: one `SCM_TIMESTAMPNS` needs 32 bytes on 64-bit Linux.
const CONTROL_LEN: usize = 64;

/// A control-message buffer, aligned for `cmsghdr`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Control([u8; CONTROL_LEN]);

/// Asks the kernel to stamp every datagram `fd` receives with the time it arrived
/// (`SO_TIMESTAMPNS`, `CLOCK_REALTIME`); [`Batch::with_rx_timestamps`] reads the stamps.
#[allow(unsafe_code)]
pub fn enable_rx_timestamps(fd: BorrowedFd<'_>) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a valid c_int that outlives the call and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The `SCM_TIMESTAMPNS` time stamp among the control messages of a received `hdr`, in ns of
/// `CLOCK_REALTIME`.
#[allow(unsafe_code)]
fn rx_timestamp(hdr: &libc::msghdr) -> Option<u64> {
    // SAFETY: `hdr.msg_control` points at a live, aligned `Control` buffer and the kernel set
    // `msg_controllen` to the bytes it wrote there (at most CONTROL_LEN), so the CMSG_* walk
    // stays inside it; each header it yields is complete, and a SCM_TIMESTAMPNS one carries a
    // timespec, read unaligned to be safe.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(hdr);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            c = libc::CMSG_NXTHDR(hdr, c);
        }
    }
    None
}

/// A socket address in kernel form, as `recvmmsg` reported it; handed back to `sendmmsg`
/// without conversion.
#[derive(Clone, Copy)]
pub struct RawAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl RawAddr {
    #[allow(unsafe_code)]
    fn empty() -> RawAddr {
        RawAddr {
            // SAFETY: sockaddr_storage is plain integers; all zeroes is a valid value.
            storage: unsafe { std::mem::zeroed() },
            len: 0,
        }
    }

    /// The address as a [`SocketAddr`] (`None` for a family other than IPv4/IPv6).
    #[allow(unsafe_code)]
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        let len = self.len as usize;
        match i32::from(self.storage.ss_family) {
            libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
                // SAFETY: the family is AF_INET, so the kernel wrote a sockaddr_in at the start
                // of the storage, which is larger and at least as aligned.
                let sin: &libc::sockaddr_in = unsafe { &*(&raw const self.storage).cast() };
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
                // SAFETY: as above, for AF_INET6 and sockaddr_in6.
                let sin6: &libc::sockaddr_in6 = unsafe { &*(&raw const self.storage).cast() };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

impl std::fmt::Debug for RawAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawAddr({:?})", self.socket_addr())
    }
}

/// Buffers for up to `capacity` datagrams, received and forwarded in one system call each.
pub struct Batch {
    data: Box<[[u8; MAX_DATAGRAM]]>,
    lens: Box<[usize]>,
    addrs: Box<[RawAddr]>,
    iov: Box<[libc::iovec]>,
    hdrs: Box<[libc::mmsghdr]>,
    /// Control buffers, when receive time stamps are wanted.
    control: Option<Box<[Control]>>,
    /// Kernel receive time per slot (ns of CLOCK_REALTIME; 0: none).
    stamps: Box<[u64]>,
    count: usize,
}

impl Batch {
    /// Buffers for `capacity` datagrams (at least 1).
    #[allow(unsafe_code)]
    pub fn new(capacity: usize) -> Batch {
        let n = capacity.max(1);
        let iov = libc::iovec {
            iov_base: ptr::null_mut(),
            iov_len: 0,
        };
        // SAFETY: mmsghdr is integers and raw pointers; all zeroes (null pointers) is valid.
        let hdr: libc::mmsghdr = unsafe { std::mem::zeroed() };
        Batch {
            data: vec![[0u8; MAX_DATAGRAM]; n].into_boxed_slice(),
            lens: vec![0; n].into_boxed_slice(),
            addrs: vec![RawAddr::empty(); n].into_boxed_slice(),
            iov: vec![iov; n].into_boxed_slice(),
            hdrs: vec![hdr; n].into_boxed_slice(),
            control: None,
            stamps: vec![0; n].into_boxed_slice(),
            count: 0,
        }
    }

    /// As [`new`](Self::new), also collecting the kernel's receive time stamps of sockets set
    /// up with [`enable_rx_timestamps`].
    pub fn with_rx_timestamps(capacity: usize) -> Batch {
        let mut b = Batch::new(capacity);
        b.control = Some(vec![Control([0; CONTROL_LEN]); b.data.len()].into_boxed_slice());
        b
    }

    /// How many datagrams one call can receive.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Datagram `i` of the last receive.
    #[inline]
    pub fn datagram(&self, i: usize) -> &[u8] {
        &self.data[i][..self.lens[i]]
    }

    /// When the kernel received datagram `i` of the last receive, in ns of `CLOCK_REALTIME`
    /// (`None` without [`with_rx_timestamps`](Self::with_rx_timestamps) and
    /// [`enable_rx_timestamps`]).
    #[inline]
    pub fn rx_realtime_ns(&self, i: usize) -> Option<u64> {
        Some(self.stamps[i]).filter(|&t| t != 0)
    }

    /// Source address of datagram `i` of the last receive.
    #[inline]
    pub fn source(&self, i: usize) -> &RawAddr {
        &self.addrs[i]
    }

    /// Receives up to [`capacity`](Self::capacity) datagrams without blocking (`recvmmsg` with
    /// `MSG_DONTWAIT`). Returns how many; [`io::ErrorKind::WouldBlock`] if none was queued.
    /// Fewer than the capacity means the socket's queue was drained.
    #[allow(unsafe_code)]
    pub fn recv(&mut self, fd: BorrowedFd<'_>) -> io::Result<usize> {
        self.count = 0;
        let n = self.data.len();
        let data = self.data.as_mut_ptr();
        let addrs = self.addrs.as_mut_ptr();
        let iov = self.iov.as_mut_ptr();
        let control = self
            .control
            .as_mut()
            .map_or(ptr::null_mut(), |c| c.as_mut_ptr());
        for (i, h) in self.hdrs.iter_mut().enumerate() {
            // SAFETY: i < n, the length of `data`, `addrs`, `iov` and `control` (when
            // present), so every `add` stays in bounds; the writes go to `iov[i]`, which
            // nothing else borrows now.
            unsafe {
                *iov.add(i) = libc::iovec {
                    iov_base: data.add(i).cast(),
                    iov_len: MAX_DATAGRAM,
                };
                h.msg_hdr.msg_name = (&raw mut (*addrs.add(i)).storage).cast();
                h.msg_hdr.msg_iov = iov.add(i);
                if control.is_null() {
                    h.msg_hdr.msg_control = ptr::null_mut();
                    h.msg_hdr.msg_controllen = 0;
                } else {
                    h.msg_hdr.msg_control = control.add(i).cast();
                    h.msg_hdr.msg_controllen = CONTROL_LEN;
                }
            }
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        // SAFETY: `hdrs` holds `n` initialised headers; each points at one iovec of
        // MAX_DATAGRAM writable bytes inside `data`, at a sockaddr_storage inside `addrs` and
        // at a CONTROL_LEN control buffer (or none), each with its true size. All arrays are
        // owned by `self`, which is mutably borrowed for the whole call, so they stay valid
        // and unaliased. A null timeout is allowed.
        let rc = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let got = rc as usize;
        for i in 0..got {
            self.lens[i] = (self.hdrs[i].msg_len as usize).min(MAX_DATAGRAM);
            self.addrs[i].len = self.hdrs[i].msg_hdr.msg_namelen;
            self.stamps[i] = if self.control.is_some() {
                rx_timestamp(&self.hdrs[i].msg_hdr).unwrap_or(0)
            } else {
                0
            };
        }
        self.count = got;
        Ok(got)
    }

    /// Sends every datagram of the last receive to `dest` (`sendmmsg`, without blocking).
    /// Returns how many the kernel took; datagrams it refused (full send buffer, an error
    /// queued on the socket) are dropped, as a relay would.
    #[allow(unsafe_code)]
    pub fn send_all_to(&mut self, fd: BorrowedFd<'_>, dest: &RawAddr) -> usize {
        let k = self.count;
        let data = self.data.as_mut_ptr();
        let iov = self.iov.as_mut_ptr();
        let name: *mut libc::c_void = (&raw const dest.storage).cast_mut().cast();
        for (i, h) in self.hdrs[..k].iter_mut().enumerate() {
            // SAFETY: i < k <= n, in bounds of `data` and `iov` as in `recv`.
            unsafe {
                *iov.add(i) = libc::iovec {
                    iov_base: data.add(i).cast(),
                    iov_len: self.lens[i],
                };
                h.msg_hdr.msg_iov = iov.add(i);
            }
            h.msg_hdr.msg_name = name;
            h.msg_hdr.msg_namelen = dest.len;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        let mut done = 0;
        let mut sent = 0;
        while done < k {
            // SAFETY: headers `done..k` are initialised and point at `lens[i]` readable bytes
            // in `data` and at `dest`, which the kernel only reads (sendmmsg does not write
            // through msg_name or the iovecs). `self` and `dest` are borrowed for the call.
            let rc = unsafe {
                libc::sendmmsg(
                    fd.as_raw_fd(),
                    self.hdrs.as_mut_ptr().add(done),
                    (k - done) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if rc > 0 {
                done += rc as usize;
                sent += rc as usize;
            } else if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                // The kernel refused the datagram at `done`: drop it and go on.
                done += 1;
            }
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsFd;

    fn pair() -> (UdpSocket, UdpSocket) {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    #[test]
    fn empty_socket_would_block() {
        let (a, _) = pair();
        let mut batch = Batch::new(4);
        let err = batch.recv(a.as_fd()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(batch.count, 0);
    }

    #[test]
    fn receives_in_batches_and_forwards() {
        let (relay, peer) = pair();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..6u8 {
            sender
                .send_to(&[i; 100], relay.local_addr().unwrap())
                .unwrap();
        }
        let mut batch = Batch::new(4);
        assert_eq!(batch.recv(relay.as_fd()).unwrap(), 4);
        assert_eq!(batch.datagram(3), &[3u8; 100][..]);
        assert_eq!(
            batch.source(0).socket_addr(),
            Some(sender.local_addr().unwrap())
        );

        // Forward the batch to `peer` via the address latched from `peer` itself.
        peer.send_to(b"latch", relay.local_addr().unwrap()).unwrap();
        let mut latch = Batch::new(8);
        // Two left from the sender plus the latch packet.
        assert_eq!(latch.recv(relay.as_fd()).unwrap(), 3);
        let peer_addr = *latch.source(2);
        assert_eq!(peer_addr.socket_addr(), Some(peer.local_addr().unwrap()));
        assert_eq!(batch.send_all_to(relay.as_fd(), &peer_addr), 4);
        let mut got = Batch::new(8);
        assert_eq!(got.recv(peer.as_fd()).unwrap(), 4);
        for i in 0..4 {
            assert_eq!(got.datagram(i), &[i as u8; 100][..]);
        }
    }

    #[test]
    fn kernel_receive_time_stamps() {
        let (a, b) = pair();
        enable_rx_timestamps(b.as_fd()).unwrap();
        let before = crate::capacity::clock::realtime_ns();
        for _ in 0..3 {
            a.send_to(b"stamp me", b.local_addr().unwrap()).unwrap();
        }
        let after = crate::capacity::clock::realtime_ns();
        let mut batch = Batch::with_rx_timestamps(4);
        assert_eq!(batch.recv(b.as_fd()).unwrap(), 3);
        for i in 0..3 {
            let t = batch.rx_realtime_ns(i).unwrap();
            assert!((before..=after).contains(&t), "{before} {t} {after}");
        }
        // Without control buffers there are no stamps.
        a.send_to(b"x", b.local_addr().unwrap()).unwrap();
        let mut plain = Batch::new(1);
        assert_eq!(plain.recv(b.as_fd()).unwrap(), 1);
        assert_eq!(plain.rx_realtime_ns(0), None);
    }

    #[test]
    fn ipv6_addresses_convert() {
        let Ok(a) = UdpSocket::bind("[::1]:0") else {
            return; // no IPv6 loopback here
        };
        a.set_nonblocking(true).unwrap();
        let b = UdpSocket::bind("[::1]:0").unwrap();
        b.send_to(b"x", a.local_addr().unwrap()).unwrap();
        let mut batch = Batch::new(2);
        std::thread::sleep(std::time::Duration::from_millis(10));
        assert_eq!(batch.recv(a.as_fd()).unwrap(), 1);
        assert_eq!(batch.source(0).socket_addr(), Some(b.local_addr().unwrap()));
    }
}
