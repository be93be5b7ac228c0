//! Batched UDP I/O with `recvmmsg`/`sendmmsg`: one system call moves up to a batch of
//! datagrams. Buffers and headers are allocated once per driver thread.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;
use std::ptr;

/// Largest datagram accepted (RTP over Ethernet never comes close).
pub const MAX_DATAGRAM: usize = 2048;

/// Receive buffers for one `recvmmsg` call.
pub struct RecvBatch {
    bufs: Vec<[u8; MAX_DATAGRAM]>,
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    len: usize,
}

impl RecvBatch {
    /// Buffers for up to `n` datagrams per call.
    pub fn new(n: usize) -> RecvBatch {
        let n = n.max(1);
        RecvBatch {
            bufs: vec![[0; MAX_DATAGRAM]; n],
            // SAFETY: all-zero bytes are a valid sockaddr_storage, iovec and mmsghdr
            // (integers and null pointers).
            addrs: vec![unsafe { mem::zeroed() }; n],
            iovs: vec![unsafe { mem::zeroed() }; n],
            hdrs: vec![unsafe { mem::zeroed() }; n],
            len: 0,
        }
    }

    /// Receives what is queued on `fd` without blocking. `Ok(0)` means nothing was there.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let n = self.bufs.len();
        for i in 0..n {
            self.iovs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: MAX_DATAGRAM,
            };
            let namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            point_header(
                &mut self.hdrs[i],
                &mut self.addrs[i],
                namelen,
                &mut self.iovs[i],
            );
        }
        // SAFETY: every header points at a live buffer, iovec and address slot of this
        // struct, sized as declared; the vectors are not touched until the call returns.
        let r = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                ptr::null_mut(),
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            self.len = 0;
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(0),
                _ => Err(e),
            };
        }
        self.len = r as usize;
        Ok(self.len)
    }

    /// The `i`th datagram of the last call: its source (if IPv4/IPv6) and bytes.
    pub fn get(&self, i: usize) -> (Option<SocketAddr>, &[u8]) {
        let len = (self.hdrs[i].msg_len as usize).min(MAX_DATAGRAM);
        (from_storage(&self.addrs[i]), &self.bufs[i][..len])
    }
}

/// Points one `mmsghdr` at its address slot (`namelen` bytes used) and its single iovec,
/// with no control data, and clears what the kernel reports back.
fn point_header(
    hdr: &mut libc::mmsghdr,
    addr: &mut libc::sockaddr_storage,
    namelen: libc::socklen_t,
    iov: &mut libc::iovec,
) {
    let h = &mut hdr.msg_hdr;
    h.msg_name = ptr::from_mut(addr).cast();
    h.msg_namelen = namelen;
    h.msg_iov = ptr::from_mut(iov);
    h.msg_iovlen = 1;
    h.msg_control = ptr::null_mut();
    h.msg_controllen = 0;
    h.msg_flags = 0;
    hdr.msg_len = 0;
}

/// Converts a kernel socket address.
pub(crate) fn from_storage(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which is smaller.
            let a: libc::sockaddr_in = unsafe { ptr::read(ptr::from_ref(s).cast()) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6, which is smaller.
            let a: libc::sockaddr_in6 = unsafe { ptr::read(ptr::from_ref(s).cast()) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Writes `addr` into kernel form, returning its length.
pub(crate) fn to_storage(addr: SocketAddr, s: &mut libc::sockaddr_storage) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { ptr::write(ptr::from_mut(s).cast(), sin) };
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { ptr::write(ptr::from_mut(s).cast(), sin6) };
            mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

/// Headers for `sendmmsg` calls.
pub struct SendBatch {
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl SendBatch {
    /// Headers for up to `n` datagrams per call.
    pub fn new(n: usize) -> SendBatch {
        let n = n.max(1);
        SendBatch {
            // SAFETY: all-zero bytes are valid for these plain C structs.
            addrs: vec![unsafe { mem::zeroed() }; n],
            iovs: vec![unsafe { mem::zeroed() }; n],
            hdrs: vec![unsafe { mem::zeroed() }; n],
        }
    }

    /// Most datagrams one call takes.
    pub fn capacity(&self) -> usize {
        self.hdrs.len()
    }

    /// Sends `datagrams` (at most [`capacity`](Self::capacity)) from `fd` without
    /// blocking. Returns how many the kernel took; the rest were not sent.
    pub fn send(&mut self, fd: RawFd, datagrams: &[(SocketAddr, &[u8])]) -> io::Result<usize> {
        let n = datagrams.len().min(self.hdrs.len());
        if n == 0 {
            return Ok(0);
        }
        for (i, (dest, data)) in datagrams.iter().take(n).enumerate() {
            let namelen = to_storage(*dest, &mut self.addrs[i]);
            self.iovs[i] = libc::iovec {
                iov_base: data.as_ptr().cast_mut().cast(),
                iov_len: data.len(),
            };
            point_header(
                &mut self.hdrs[i],
                &mut self.addrs[i],
                namelen,
                &mut self.iovs[i],
            );
        }
        // SAFETY: the first n headers point at live addresses and iovecs of this struct and
        // at the caller's byte slices, which outlive the call; sendmmsg only reads them.
        let r = unsafe {
            libc::sendmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(0),
                _ => Err(e),
            };
        }
        Ok(r as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_batch_round_trips_over_loopback() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dest = rx.local_addr().unwrap();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10 + i as usize]).collect();
        let items: Vec<(SocketAddr, &[u8])> = msgs.iter().map(|m| (dest, m.as_slice())).collect();
        let mut sb = SendBatch::new(8);
        assert_eq!(sb.send(tx.as_raw_fd(), &items).unwrap(), 5);
        let mut rb = RecvBatch::new(8);
        let mut got = vec![];
        for _ in 0..100 {
            let n = rb.recv(rx.as_raw_fd()).unwrap();
            for i in 0..n {
                let (from, data) = rb.get(i);
                assert_eq!(from, Some(tx.local_addr().unwrap()));
                got.push(data.to_vec());
            }
            if got.len() == 5 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(got, msgs);
        assert_eq!(
            rb.recv(rx.as_raw_fd()).unwrap(),
            0,
            "nothing left: WouldBlock is Ok(0)"
        );
    }
}
