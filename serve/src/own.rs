//! The addresses the daemon owns: its media ports on the media interface, and its control
//! and metrics listeners. An offer or answer that names one of them as a party's media
//! address would make the relay send media to itself (a loop), so it is refused.
//!
//! A loopback or wildcard address stands for any loopback or wildcard address (a socket on
//! `0.0.0.0` receives what is sent to `127.0.0.1`, and a datagram sent to `0.0.0.0` stays on
//! this host). Behind a wildcard bind, any address of this host reaches the socket; whether
//! an address is this host's is found by trying to bind it (only the host's own addresses
//! can be bound), so no interface list is needed.

use std::net::{IpAddr, SocketAddr, UdpSocket};

use tandem_engine::MediaAddresses;
use tandem_engine::ports::this_host;

/// Everything the daemon listens on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnAddresses {
    /// The media sockets: the interface address and the port range.
    pub media: MediaAddresses,
    /// The control (ng, UDP and TCP) and metrics listeners.
    pub listeners: Vec<SocketAddr>,
}

impl OwnAddresses {
    /// What of ours `addr` names, if anything: `"media port"` or `"control or metrics
    /// address"`.
    pub fn owner_of(&self, addr: SocketAddr) -> Option<&'static str> {
        let m = &self.media;
        if (m.port_min..=m.port_max).contains(&addr.port()) && same_host(m.ip, addr.ip()) {
            return Some("media port");
        }
        self.listeners
            .iter()
            .any(|l| l.port() == addr.port() && same_host(l.ip(), addr.ip()))
            .then_some("control or metrics address")
    }
}

/// Whether a datagram sent to `ip` reaches a socket bound to `bound`.
fn same_host(bound: IpAddr, ip: IpAddr) -> bool {
    if bound == ip || this_host(bound) && this_host(ip) {
        return true;
    }
    bound.is_unspecified() && is_local(ip)
}

/// Whether `ip` is one of this host's addresses: only those can be bound.
fn is_local(ip: IpAddr) -> bool {
    UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(ip: &str) -> OwnAddresses {
        OwnAddresses {
            media: MediaAddresses {
                ip: ip.parse().unwrap(),
                port_min: 30_000,
                port_max: 30_999,
            },
            listeners: vec!["127.0.0.1:2223".parse().unwrap()],
        }
    }

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn media_ports_and_listeners_with_host_equivalence() {
        let o = own("127.0.0.1");
        assert_eq!(o.owner_of(a("127.0.0.1:30500")), Some("media port"));
        assert_eq!(o.owner_of(a("0.0.0.0:30500")), Some("media port"));
        assert_eq!(
            o.owner_of(a("127.0.0.1:2223")),
            Some("control or metrics address")
        );
        assert_eq!(o.owner_of(a("127.0.0.1:31000")), None);
        assert_eq!(o.owner_of(a("192.0.2.1:30500")), None);
        let public = own("203.0.113.5");
        assert_eq!(public.owner_of(a("203.0.113.5:30000")), Some("media port"));
        assert_eq!(public.owner_of(a("127.0.0.1:30000")), None);
    }

    #[test]
    fn a_wildcard_interface_owns_every_local_address() {
        let o = own("0.0.0.0");
        assert_eq!(o.owner_of(a("127.0.0.1:30001")), Some("media port"));
        assert_eq!(o.owner_of(a("[::1]:30001")), Some("media port"));
        // TEST-NET-3 is nobody's address, so it cannot be bound here.
        assert_eq!(o.owner_of(a("203.0.113.77:30001")), None);
    }
}
