//! Batched UDP I/O: [`RecvBatch`] (`recvmmsg` into preallocated buffers, optionally with the
//! kernel's receive time stamps) and [`SendBatch`] (`sendmmsg` of caller-owned datagrams).
//! Nothing allocates after construction.
//!
//! The `mmsghdr`/`iovec` arrays point into the batch's own buffers. They are pointed again
//! just before each system call, from references to the buffers, so no pointer outlives the
//! borrow it was made from.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::ptr;

use crate::addr::{self, KernelAddr};
use crate::timestamp::{self, CONTROL_LEN, Control};

/// Largest datagram a slot holds; a longer one is cut to this length and flagged
/// ([`RecvBatch::truncated`]). RTP over Ethernet never comes close.
pub const MAX_DATAGRAM: usize = 2048;

/// An all-zero `T`.
fn zeroed<T: Copy>() -> T {
    // SAFETY: only instantiated (below) for `iovec` and `mmsghdr`, C structs of integers and
    // raw pointers, for which all-zero bytes (null pointers, zero lengths) are valid values.
    unsafe { std::mem::zeroed() }
}

/// The datagram count a `recvmmsg`/`sendmmsg` returned: the error it set if negative, but
/// 0 for "would block" (nothing queued, or no room to send).
fn count(r: libc::c_int) -> io::Result<usize> {
    if r >= 0 {
        return Ok(r as usize);
    }
    let e = io::Error::last_os_error();
    match e.kind() {
        io::ErrorKind::WouldBlock => Ok(0),
        _ => Err(e),
    }
}

/// Points one `mmsghdr` at its address slot (`namelen` bytes in use) and its single iovec,
/// with the control buffer `control` (or none), and clears what the kernel reports back.
fn point_header(
    hdr: &mut libc::mmsghdr,
    name: *mut libc::c_void,
    namelen: libc::socklen_t,
    iov: &mut libc::iovec,
    control: Option<&mut Control>,
) {
    let h = &mut hdr.msg_hdr;
    h.msg_name = name;
    h.msg_namelen = namelen;
    h.msg_iov = ptr::from_mut(iov);
    h.msg_iovlen = 1;
    match control {
        Some(c) => {
            h.msg_control = ptr::from_mut(c).cast();
            h.msg_controllen = CONTROL_LEN;
        }
        None => {
            h.msg_control = ptr::null_mut();
            h.msg_controllen = 0;
        }
    }
    h.msg_flags = 0;
    hdr.msg_len = 0;
}

/// Buffers for receiving up to a batch of datagrams in one `recvmmsg`.
pub struct RecvBatch {
    bufs: Box<[[u8; MAX_DATAGRAM]]>,
    addrs: Box<[KernelAddr]>,
    iovs: Box<[libc::iovec]>,
    hdrs: Box<[libc::mmsghdr]>,
    /// Control buffers, when receive time stamps are wanted.
    control: Option<Box<[Control]>>,
    /// Per slot of the last receive: the datagram's length as stored.
    lens: Box<[usize]>,
    /// Per slot of the last receive: whether the datagram was cut to fit.
    truncated: Box<[bool]>,
    /// Per slot of the last receive: kernel receive time, ns of CLOCK_REALTIME (0: none).
    stamps: Box<[u64]>,
    count: usize,
}

impl RecvBatch {
    /// Buffers for up to `n` datagrams per call (at least 1).
    pub fn new(n: usize) -> RecvBatch {
        let n = n.max(1);
        RecvBatch {
            bufs: vec![[0; MAX_DATAGRAM]; n].into_boxed_slice(),
            addrs: vec![KernelAddr::EMPTY; n].into_boxed_slice(),
            iovs: vec![zeroed::<libc::iovec>(); n].into_boxed_slice(),
            hdrs: vec![zeroed::<libc::mmsghdr>(); n].into_boxed_slice(),
            control: None,
            lens: vec![0; n].into_boxed_slice(),
            truncated: vec![false; n].into_boxed_slice(),
            stamps: vec![0; n].into_boxed_slice(),
            count: 0,
        }
    }

    /// As [`new`](Self::new), also collecting the kernel's receive time stamps of sockets
    /// set up with [`enable_rx_timestamps`](crate::enable_rx_timestamps).
    pub fn with_rx_timestamps(n: usize) -> RecvBatch {
        let mut b = RecvBatch::new(n);
        b.control = Some(vec![Control::default(); b.bufs.len()].into_boxed_slice());
        b
    }

    /// Most datagrams one call receives.
    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    /// Datagrams the last [`recv`](Self::recv) returned.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the last [`recv`](Self::recv) returned nothing.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Receives what is queued on `fd` without blocking (`recvmmsg` with `MSG_DONTWAIT`).
    /// Returns how many datagrams arrived; `Ok(0)` means nothing was queued. Fewer than the
    /// [`capacity`](Self::capacity) means the socket's queue was drained.
    pub fn recv(&mut self, fd: impl AsRawFd) -> io::Result<usize> {
        self.count = 0;
        let n = self.bufs.len();
        let mut control = self.control.as_deref_mut().map(|c| c.iter_mut());
        for i in 0..n {
            self.iovs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: MAX_DATAGRAM,
            };
            point_header(
                &mut self.hdrs[i],
                self.addrs[i].name_ptr(),
                addr::MAX_LEN as libc::socklen_t,
                &mut self.iovs[i],
                control.as_mut().and_then(Iterator::next),
            );
        }
        // SAFETY: each of the `n` headers points at one iovec of MAX_DATAGRAM writable bytes
        // in `bufs`, at an address slot of addr::MAX_LEN bytes and at a CONTROL_LEN control
        // buffer (or none), each with its true size. All of them belong to `self`, which is
        // mutably borrowed for the whole call, so they stay valid and unaliased while the
        // kernel writes. A null timeout is allowed.
        let r = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                ptr::null_mut(),
            )
        };
        let got = count(r)?;
        for i in 0..got {
            let h = &self.hdrs[i];
            self.lens[i] = (h.msg_len as usize).min(MAX_DATAGRAM);
            self.truncated[i] = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            self.addrs[i].set_len(h.msg_hdr.msg_namelen);
            self.stamps[i] = if self.control.is_some() {
                timestamp::from_header(&h.msg_hdr).unwrap_or(0)
            } else {
                0
            };
        }
        self.count = got;
        Ok(got)
    }

    /// Datagram `i` of the last receive: its source (if IPv4/IPv6) and bytes.
    #[inline]
    pub fn get(&self, i: usize) -> (Option<SocketAddr>, &[u8]) {
        (self.addrs[i].socket_addr(), self.datagram(i))
    }

    /// The bytes of datagram `i` of the last receive.
    #[inline]
    pub fn datagram(&self, i: usize) -> &[u8] {
        &self.bufs[i][..self.lens[i]]
    }

    /// Source address of datagram `i` of the last receive, in kernel form.
    #[inline]
    pub fn source(&self, i: usize) -> &KernelAddr {
        &self.addrs[i]
    }

    /// Whether datagram `i` of the last receive was longer than [`MAX_DATAGRAM`] (only its
    /// first `MAX_DATAGRAM` bytes were kept).
    #[inline]
    pub fn truncated(&self, i: usize) -> bool {
        self.truncated[i]
    }

    /// When the kernel received datagram `i` of the last receive, in ns of
    /// `CLOCK_REALTIME` (`None` without [`with_rx_timestamps`](Self::with_rx_timestamps) and
    /// [`enable_rx_timestamps`](crate::enable_rx_timestamps)).
    #[inline]
    pub fn rx_realtime_ns(&self, i: usize) -> Option<u64> {
        Some(self.stamps[i]).filter(|&t| t != 0)
    }

    /// Sends every datagram of the last receive from `fd` to `dest` (`sendmmsg`, without
    /// blocking), as a relay forwards a batch. Returns how many the kernel took; datagrams
    /// it refused (a full send buffer, an error queued on the socket) are dropped.
    pub fn forward(&mut self, fd: impl AsRawFd, dest: &KernelAddr) -> usize {
        let k = self.count;
        let mut dest = *dest;
        for i in 0..k {
            self.iovs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.lens[i],
            };
            point_header(
                &mut self.hdrs[i],
                dest.name_ptr(),
                dest.len(),
                &mut self.iovs[i],
                None,
            );
        }
        let fd = fd.as_raw_fd();
        let (mut done, mut sent) = (0, 0);
        while done < k {
            // SAFETY: headers `done..k` point at `lens[i]` readable bytes in `bufs` and at
            // `dest`, a local copy that outlives the call; sendmmsg only reads through them.
            // `self` is mutably borrowed for the whole call.
            let r = unsafe {
                libc::sendmmsg(
                    fd,
                    self.hdrs.as_mut_ptr().add(done),
                    (k - done) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r > 0 {
                done += r as usize;
                sent += r as usize;
            } else if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                // The kernel refused the datagram at `done`: drop it and go on.
                done += 1;
            }
        }
        sent
    }
}

/// Headers for sending up to a batch of caller-owned datagrams in one `sendmmsg`.
pub struct SendBatch {
    addrs: Box<[KernelAddr]>,
    iovs: Box<[libc::iovec]>,
    hdrs: Box<[libc::mmsghdr]>,
}

impl SendBatch {
    /// Headers for up to `n` datagrams per call (at least 1).
    pub fn new(n: usize) -> SendBatch {
        let n = n.max(1);
        SendBatch {
            addrs: vec![KernelAddr::EMPTY; n].into_boxed_slice(),
            iovs: vec![zeroed::<libc::iovec>(); n].into_boxed_slice(),
            hdrs: vec![zeroed::<libc::mmsghdr>(); n].into_boxed_slice(),
        }
    }

    /// Most datagrams one call takes.
    pub fn capacity(&self) -> usize {
        self.hdrs.len()
    }

    /// Sends `datagrams` (the first [`capacity`](Self::capacity) of them), each to its own
    /// destination, from `fd` without blocking. Returns how many the kernel took, from the
    /// front; the rest were not sent (`Ok(0)` when the send buffer is full).
    pub fn send(
        &mut self,
        fd: impl AsRawFd,
        datagrams: &[(SocketAddr, &[u8])],
    ) -> io::Result<usize> {
        let n = datagrams.len().min(self.hdrs.len());
        if n == 0 {
            return Ok(0);
        }
        for (i, (dest, data)) in datagrams.iter().take(n).enumerate() {
            self.addrs[i].set(*dest);
            self.iovs[i] = libc::iovec {
                iov_base: data.as_ptr().cast_mut().cast(),
                iov_len: data.len(),
            };
            let namelen = self.addrs[i].len();
            point_header(
                &mut self.hdrs[i],
                self.addrs[i].name_ptr(),
                namelen,
                &mut self.iovs[i],
                None,
            );
        }
        // SAFETY: the first n headers point at addresses and iovecs owned by `self` (mutably
        // borrowed for the call) and at the caller's byte slices, which outlive the call;
        // sendmmsg only reads through them.
        let r = unsafe {
            libc::sendmmsg(
                fd.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        count(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsFd;
    use std::time::Duration;

    fn bound(addr: &str) -> Option<UdpSocket> {
        let s = UdpSocket::bind(addr).ok()?;
        s.set_nonblocking(true).unwrap();
        Some(s)
    }

    /// Receives until `want` datagrams arrived (or a second passed).
    fn receive_all(rb: &mut RecvBatch, s: &UdpSocket, want: usize) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut got = Vec::new();
        for _ in 0..200 {
            let n = rb.recv(s.as_fd()).unwrap();
            for i in 0..n {
                let (from, data) = rb.get(i);
                got.push((from.unwrap(), data.to_vec()));
            }
            if got.len() >= want {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        got
    }

    #[test]
    fn a_batch_round_trips_over_loopback() {
        let rx = bound("127.0.0.1:0").unwrap();
        let tx = bound("127.0.0.1:0").unwrap();
        let dest = rx.local_addr().unwrap();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10 + i as usize]).collect();
        let items: Vec<(SocketAddr, &[u8])> = msgs.iter().map(|m| (dest, m.as_slice())).collect();
        let mut sb = SendBatch::new(8);
        assert_eq!(sb.send(tx.as_fd(), &items).unwrap(), 5);
        let mut rb = RecvBatch::new(8);
        let got = receive_all(&mut rb, &rx, 5);
        let from = tx.local_addr().unwrap();
        assert_eq!(got, msgs.into_iter().map(|m| (from, m)).collect::<Vec<_>>());
        assert_eq!(
            rb.recv(rx.as_fd()).unwrap(),
            0,
            "nothing left: WouldBlock is Ok(0)"
        );
        assert!(rb.is_empty());
    }

    /// One send batch to an IPv4 and an IPv6 receiver from a dual-stack socket (skipped
    /// where the machine has no IPv6 loopback).
    #[test]
    fn mixed_families_in_one_batch() {
        let (Some(tx), Some(rx6)) = (bound("[::]:0"), bound("[::1]:0")) else {
            return;
        };
        let rx4 = bound("127.0.0.1:0").unwrap();
        let to4 = rx4.local_addr().unwrap();
        let to6 = rx6.local_addr().unwrap();
        let items: [(SocketAddr, &[u8]); 4] = [
            (to4, b"four-a"),
            (to6, b"six-a"),
            (to4, b"four-b"),
            (to6, b"six-b"),
        ];
        let mut sb = SendBatch::new(4);
        assert_eq!(sb.send(tx.as_fd(), &items).unwrap(), 4);
        let mut rb = RecvBatch::new(4);
        let four = receive_all(&mut rb, &rx4, 2);
        let six = receive_all(&mut rb, &rx6, 2);
        let port = tx.local_addr().unwrap().port();
        assert_eq!(
            four.iter().map(|(_, d)| d.as_slice()).collect::<Vec<_>>(),
            [&b"four-a"[..], b"four-b"]
        );
        // The dual-stack socket sends an IPv4 destination as IPv4, from 127.0.0.1.
        assert!(
            four.iter()
                .all(|(f, _)| *f == SocketAddr::from(([127, 0, 0, 1], port))),
            "{four:?}"
        );
        assert_eq!(
            six.iter().map(|(_, d)| d.as_slice()).collect::<Vec<_>>(),
            [&b"six-a"[..], b"six-b"]
        );
        assert!(
            six.iter()
                .all(|(f, _)| *f == SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], port)))
        );
    }

    #[test]
    fn oversized_datagrams_are_cut_and_flagged() {
        let rx = bound("127.0.0.1:0").unwrap();
        let tx = bound("127.0.0.1:0").unwrap();
        let big: Vec<u8> = (0..MAX_DATAGRAM + 700).map(|i| i as u8).collect();
        tx.send_to(&big, rx.local_addr().unwrap()).unwrap();
        tx.send_to(b"small", rx.local_addr().unwrap()).unwrap();
        let mut rb = RecvBatch::new(4);
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(rb.recv(rx.as_fd()).unwrap(), 2);
        assert_eq!(rb.datagram(0), &big[..MAX_DATAGRAM]);
        assert!(rb.truncated(0));
        assert_eq!(rb.datagram(1), b"small");
        assert!(!rb.truncated(1));
    }

    #[test]
    fn a_received_batch_is_forwarded_to_a_latched_source() {
        let relay = bound("127.0.0.1:0").unwrap();
        let peer = bound("127.0.0.1:0").unwrap();
        let sender = bound("127.0.0.1:0").unwrap();
        let to = relay.local_addr().unwrap();
        for i in 0..6u8 {
            sender.send_to(&[i; 100], to).unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
        let mut batch = RecvBatch::new(4);
        assert_eq!(batch.recv(relay.as_fd()).unwrap(), 4);
        assert_eq!(batch.datagram(3), &[3u8; 100][..]);
        assert_eq!(
            batch.source(0).socket_addr(),
            Some(sender.local_addr().unwrap())
        );
        // Latch `peer` from a datagram of its own, then forward the first batch to it.
        peer.send_to(b"latch", to).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        let mut latch = RecvBatch::new(8);
        assert_eq!(
            latch.recv(relay.as_fd()).unwrap(),
            3,
            "two left from the sender, the latch"
        );
        let peer_addr = *latch.source(2);
        assert_eq!(peer_addr.socket_addr(), Some(peer.local_addr().unwrap()));
        assert_eq!(batch.forward(relay.as_fd(), &peer_addr), 4);
        let mut got = RecvBatch::new(8);
        let got = receive_all(&mut got, &peer, 4);
        let want: Vec<(SocketAddr, Vec<u8>)> = (0..4u8).map(|i| (to, vec![i; 100])).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sending_nothing_or_too_much() {
        let tx = bound("127.0.0.1:0").unwrap();
        let rx = bound("127.0.0.1:0").unwrap();
        let mut sb = SendBatch::new(2);
        assert_eq!(sb.capacity(), 2);
        assert_eq!(sb.send(tx.as_fd(), &[]).unwrap(), 0);
        let to = rx.local_addr().unwrap();
        let items: [(SocketAddr, &[u8]); 3] = [(to, b"1"), (to, b"2"), (to, b"3")];
        assert_eq!(
            sb.send(tx.as_fd(), &items).unwrap(),
            2,
            "at most the capacity per call"
        );
    }
}
