//! Socket addresses in the kernel's form (`sockaddr_in`, `sockaddr_in6`) and back.
//!
//! One conversion, written over bytes: [`write()`] lays a [`SocketAddr`] out as the kernel
//! reads it, [`parse`] reads what the kernel wrote. Both are safe code; only handing the
//! bytes to a system call needs `unsafe`, and that happens in the batches
//! ([`RecvBatch`](crate::RecvBatch), [`SendBatch`](crate::SendBatch)) and in the engine's
//! io_uring driver, which uses these functions for its own buffers.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Bytes of the largest address kind handled (`sockaddr_in6`); a `sockaddr_in` is shorter.
pub const MAX_LEN: usize = size_of::<libc::sockaddr_in6>();

const V4_LEN: usize = size_of::<libc::sockaddr_in>();
const FAMILY_V4: u16 = libc::AF_INET as u16;
const FAMILY_V6: u16 = libc::AF_INET6 as u16;

/// Writes `addr` into `out` as the kernel lays it out (family in host order, port and
/// address in network order; an IPv6 flow info and scope id pass through as they are, as
/// std does), zeroing the rest. Returns the length of the address.
pub fn write(addr: SocketAddr, out: &mut [u8; MAX_LEN]) -> libc::socklen_t {
    *out = [0; MAX_LEN];
    match addr {
        SocketAddr::V4(a) => {
            out[..2].copy_from_slice(&FAMILY_V4.to_ne_bytes());
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.ip().octets());
            V4_LEN as libc::socklen_t
        }
        SocketAddr::V6(a) => {
            out[..2].copy_from_slice(&FAMILY_V6.to_ne_bytes());
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.flowinfo().to_ne_bytes());
            out[8..24].copy_from_slice(&a.ip().octets());
            out[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
            MAX_LEN as libc::socklen_t
        }
    }
}

/// Reads a kernel socket address: `None` if `b` is shorter than its family needs or the
/// family is neither IPv4 nor IPv6.
pub fn parse(b: &[u8]) -> Option<SocketAddr> {
    let family = u16::from_ne_bytes([*b.first()?, *b.get(1)?]);
    let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    match family {
        FAMILY_V4 => {
            let ip: [u8; 4] = b.get(4..8)?.try_into().ok()?;
            Some(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)))
        }
        FAMILY_V6 => {
            let flowinfo = u32::from_ne_bytes(b.get(4..8)?.try_into().ok()?);
            let ip: [u8; 16] = b.get(8..24)?.try_into().ok()?;
            let scope = u32::from_ne_bytes(b.get(24..28)?.try_into().ok()?);
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                port,
                flowinfo,
                scope,
            )))
        }
        _ => None,
    }
}

/// A socket address in kernel form with its length, as `recvmmsg` reported it or ready for
/// `sendmmsg`: a relay that answers a source hands it back without converting it.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, align(4))]
pub struct KernelAddr {
    bytes: [u8; MAX_LEN],
    len: libc::socklen_t,
}

impl KernelAddr {
    /// No address (length 0): what a receive slot holds before the kernel fills it.
    pub const EMPTY: KernelAddr = KernelAddr {
        bytes: [0; MAX_LEN],
        len: 0,
    };

    /// `addr` in kernel form.
    pub fn new(addr: SocketAddr) -> KernelAddr {
        let mut a = KernelAddr::EMPTY;
        a.set(addr);
        a
    }

    /// Overwrites this address with `addr`.
    #[inline]
    pub fn set(&mut self, addr: SocketAddr) {
        self.len = write(addr, &mut self.bytes);
    }

    /// The address (`None` for a family other than IPv4/IPv6, or an empty one).
    #[inline]
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        parse(self.as_bytes())
    }

    /// The bytes the kernel reads or wrote.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..(self.len as usize).min(MAX_LEN)]
    }

    /// Where the kernel may write an address of up to [`MAX_LEN`] bytes (`msg_name`).
    pub(crate) fn name_ptr(&mut self) -> *mut libc::c_void {
        self.bytes.as_mut_ptr().cast()
    }

    /// The length the kernel reported (`msg_namelen` after a receive).
    pub(crate) fn set_len(&mut self, len: libc::socklen_t) {
        self.len = len;
    }

    /// The length to pass with the bytes (`msg_namelen` for a send).
    pub(crate) fn len(&self) -> libc::socklen_t {
        self.len
    }
}

impl From<SocketAddr> for KernelAddr {
    fn from(addr: SocketAddr) -> KernelAddr {
        KernelAddr::new(addr)
    }
}

impl fmt::Debug for KernelAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KernelAddr({:?})", self.socket_addr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples_round_trip() {
        for addr in [
            "192.0.2.7:5004".parse::<SocketAddr>().unwrap(),
            "[2001:db8::1]:40000".parse().unwrap(),
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 9, 0x12345, 3)),
        ] {
            let mut b = [0u8; MAX_LEN];
            let n = write(addr, &mut b);
            assert_eq!(parse(&b[..n as usize]), Some(addr));
            assert_eq!(KernelAddr::new(addr).socket_addr(), Some(addr));
        }
    }

    #[test]
    fn short_or_foreign_bytes_are_no_address() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0; 3]), None);
        assert_eq!(parse(&[0; MAX_LEN]), None, "AF_UNSPEC");
        let mut b = [0u8; MAX_LEN];
        write("[::1]:1".parse().unwrap(), &mut b);
        assert_eq!(parse(&b[..20]), None, "a truncated sockaddr_in6");
        let unix = (libc::AF_UNIX as u16).to_ne_bytes();
        assert_eq!(parse(&[unix[0], unix[1], 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(KernelAddr::EMPTY.socket_addr(), None);
    }

    /// The byte layout is libc's: a `sockaddr_in` and a `sockaddr_in6` built field by field
    /// have exactly the bytes `write` produces.
    #[test]
    fn the_layout_is_libcs() {
        let v4: SocketAddr = "10.1.2.3:258".parse().unwrap();
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 258u16.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(Ipv4Addr::new(10, 1, 2, 3)).to_be(),
            },
            sin_zero: [0; 8],
        };
        let v6 = SocketAddrV6::new("2001:db8::7".parse().unwrap(), 4000, 0xABCDE, 5);
        let sin6 = libc::sockaddr_in6 {
            sin6_family: libc::AF_INET6 as libc::sa_family_t,
            sin6_port: 4000u16.to_be(),
            sin6_flowinfo: 0xABCDE,
            sin6_addr: libc::in6_addr {
                s6_addr: v6.ip().octets(),
            },
            sin6_scope_id: 5,
        };
        let mut b = [0u8; MAX_LEN];
        let n = write(v4, &mut b);
        assert_eq!(&b[..n as usize], bytes_of(&sin));
        let n = write(SocketAddr::V6(v6), &mut b);
        assert_eq!(&b[..n as usize], bytes_of(&sin6));
    }

    fn bytes_of<T>(v: &T) -> &[u8] {
        // SAFETY: `v` is a live, initialised plain C struct without padding (sockaddr_in and
        // sockaddr_in6 are packed by their definition); its bytes are read for its size only.
        unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }
    }

    proptest! {
        #[test]
        fn any_v4_address_round_trips(ip: u32, port: u16) {
            let a = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port));
            prop_assert_eq!(KernelAddr::new(a).socket_addr(), Some(a));
        }

        #[test]
        fn any_v6_address_round_trips(ip: u128, port: u16, flow: u32, scope: u32) {
            let a = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flow, scope));
            let k = KernelAddr::new(a);
            prop_assert_eq!(k.as_bytes().len(), MAX_LEN);
            prop_assert_eq!(k.socket_addr(), Some(a));
        }

        #[test]
        fn parsing_any_bytes_is_total(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Some(a) = parse(&b) {
                let mut out = [0u8; MAX_LEN];
                let n = write(a, &mut out) as usize;
                prop_assert_eq!(parse(&out[..n]), Some(a));
            }
        }
    }
}
