//! The kernel's output route from the relay's address to a peer (`ip route get TO from
//! FROM`), over an rtnetlink socket made in the forwarder's network namespace.
//!
//! Hand-written because the maintained netlink crates are asynchronous stacks far larger
//! than one request and one reply; the messages are fixed-layout (see rtnetlink(7)).

use std::io::{self, Read, Write};
use std::net::SocketAddrV4;

use socket2::{Domain, Protocol, Socket, Type};

use crate::rule::Route;

const NLMSG_HDRLEN: usize = 16;
const RTMSG_LEN: usize = 12;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;

/// An rtnetlink socket for route queries.
pub(crate) struct RouteQuery {
    sock: Socket,
    seq: u32,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("rtnetlink: {what}"))
}

impl RouteQuery {
    /// A socket in the calling thread's network namespace.
    pub(crate) fn new() -> io::Result<RouteQuery> {
        let sock = Socket::new(
            Domain::from(libc::AF_NETLINK),
            Type::RAW,
            Some(Protocol::from(libc::NETLINK_ROUTE)),
        )?;
        sock.set_read_timeout(Some(std::time::Duration::from_secs(1)))?;
        Ok(RouteQuery { sock, seq: 0 })
    }

    /// The route a packet from `from` to `to` takes.
    pub(crate) fn lookup(&mut self, from: SocketAddrV4, to: SocketAddrV4) -> io::Result<Route> {
        self.seq = self.seq.wrapping_add(1);
        let mut req = Vec::with_capacity(NLMSG_HDRLEN + RTMSG_LEN + 16);
        let len = (NLMSG_HDRLEN + RTMSG_LEN + 16) as u32;
        req.extend_from_slice(&len.to_ne_bytes());
        req.extend_from_slice(&RTM_GETROUTE.to_ne_bytes());
        req.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        req.extend_from_slice(&self.seq.to_ne_bytes());
        req.extend_from_slice(&0u32.to_ne_bytes());
        // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
        req.extend_from_slice(&[libc::AF_INET as u8, 32, 32, 0, 0, 0, 0, 0]);
        req.extend_from_slice(&0u32.to_ne_bytes());
        for (kind, ip) in [(RTA_DST, to.ip()), (RTA_SRC, from.ip())] {
            req.extend_from_slice(&8u16.to_ne_bytes());
            req.extend_from_slice(&kind.to_ne_bytes());
            req.extend_from_slice(&ip.octets());
        }
        (&self.sock).write_all(&req)?;
        let mut buf = [0u8; 4096];
        loop {
            let n = (&self.sock).read(&mut buf)?;
            if let Some(route) = parse_reply(&buf[..n], self.seq)? {
                return Ok(route);
            }
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> io::Result<u16> {
    b.get(at..at + 2)
        .map(|s| u16::from_ne_bytes([s[0], s[1]]))
        .ok_or_else(|| invalid("short message"))
}

fn u32_at(b: &[u8], at: usize) -> io::Result<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| invalid("short message"))
}

/// The route in a reply datagram, `None` if it answers another request.
fn parse_reply(mut b: &[u8], seq: u32) -> io::Result<Option<Route>> {
    while b.len() >= NLMSG_HDRLEN {
        let len = u32_at(b, 0)? as usize;
        if len < NLMSG_HDRLEN || len > b.len() {
            return Err(invalid("bad message length"));
        }
        let (msg, rest) = b.split_at(len);
        b = rest.get(len.next_multiple_of(4) - len..).unwrap_or(&[]);
        if u32_at(msg, 8)? != seq {
            continue;
        }
        match u16_at(msg, 4)? {
            NLMSG_ERROR => {
                let code = u32_at(msg, NLMSG_HDRLEN)? as i32;
                return Err(io::Error::from_raw_os_error(-code));
            }
            RTM_NEWROUTE => return parse_route(&msg[NLMSG_HDRLEN..]).map(Some),
            _ => {}
        }
    }
    Ok(None)
}

fn parse_route(body: &[u8]) -> io::Result<Route> {
    let kind = *body.get(7).ok_or_else(|| invalid("short rtmsg"))?;
    let mut attrs = body
        .get(RTMSG_LEN..)
        .ok_or_else(|| invalid("short rtmsg"))?;
    let mut ifindex = 0;
    while attrs.len() >= 4 {
        let len = usize::from(u16_at(attrs, 0)?);
        if len < 4 || len > attrs.len() {
            return Err(invalid("bad attribute length"));
        }
        if u16_at(attrs, 2)? == RTA_OIF {
            ifindex = u32_at(attrs, 4)?;
        }
        attrs = attrs.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    match kind {
        RTN_LOCAL => Ok(Route {
            ifindex,
            local: true,
            reinject_local: false,
        }),
        RTN_UNICAST if ifindex != 0 => Ok(Route {
            ifindex,
            local: false,
            reinject_local: false,
        }),
        _ => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("route of type {kind} cannot be forwarded to"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(seq: u32, kind: u8, oif: Option<u32>) -> Vec<u8> {
        let mut body = vec![2, 32, 0, 0, 254, 0, 0, kind, 0, 0, 0, 0];
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&RTA_DST.to_ne_bytes());
        body.extend_from_slice(&[198, 18, 2, 2]);
        if let Some(oif) = oif {
            body.extend_from_slice(&8u16.to_ne_bytes());
            body.extend_from_slice(&RTA_OIF.to_ne_bytes());
            body.extend_from_slice(&oif.to_ne_bytes());
        }
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&RTM_NEWROUTE.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn a_unicast_route_gives_its_interface_and_a_local_one_says_local() {
        let r = parse_reply(&reply(5, RTN_UNICAST, Some(7)), 5)
            .unwrap()
            .unwrap();
        assert_eq!((r.ifindex, r.local), (7, false));
        let r = parse_reply(&reply(5, RTN_LOCAL, Some(1)), 5)
            .unwrap()
            .unwrap();
        assert!(r.local);
        assert_eq!(
            parse_reply(&reply(4, RTN_UNICAST, Some(7)), 5).unwrap(),
            None
        );
    }

    #[test]
    fn unroutable_and_truncated_replies_are_errors_not_panics() {
        assert!(parse_reply(&reply(1, 6, Some(7)), 1).is_err()); // RTN_PROHIBIT
        assert!(parse_reply(&reply(1, RTN_UNICAST, None), 1).is_err());
        let full = reply(1, RTN_UNICAST, Some(7));
        for cut in 0..full.len() {
            let _ = parse_reply(&full[..cut], 1);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_give_a_route_an_error_or_nothing(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256), seq in 0u32..4) {
            let _ = parse_reply(&bytes, seq);
        }

        #[test]
        fn a_valid_reply_with_flipped_bytes_never_panics(i in 0usize..44, b in proptest::num::u8::ANY) {
            let mut m = reply(1, RTN_UNICAST, Some(7));
            let at = i % m.len();
            m[at] = b;
            let _ = parse_reply(&m, 1);
        }
    }

    #[test]
    fn the_kernel_answers_for_loopback() {
        let mut q = RouteQuery::new().unwrap();
        let lo = SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 9);
        let r = q.lookup(lo, lo).unwrap();
        assert!(r.local);
        assert_eq!(r.ifindex, 1);
    }
}
