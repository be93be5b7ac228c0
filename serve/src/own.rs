//! The addresses the daemon owns: its media ports on the media interface, and its UDP
//! control listener (media is UDP, so TCP listeners such as metrics cannot loop). An offer or answer that names one of them as a party's media
//! address would make the relay send media to itself (a loop), so it is refused.
//!
//! A media port counts as the daemon's when the engine holds a socket on it, or when it is
//! in the media range and free (a later call may get it). A port of the range that another
//! program holds is not the daemon's: a phone on the same host gets ephemeral ports, and
//! Linux's ephemeral range (32768–60999) overlaps the usual media range (30000–40000). Should
//! the daemon later hold a port a party named, the engine still drops every packet from its
//! own sockets, so no loop forms.
//!
//! A loopback or wildcard address stands for any loopback or wildcard address (a socket on
//! `0.0.0.0` receives what is sent to `127.0.0.1`, and a datagram sent to `0.0.0.0` stays on
//! this host). Behind a wildcard bind, any address of this host reaches the socket; whether
//! an address is this host's is found by trying to bind it (only the host's own addresses
//! can be bound), so no interface list is needed.

use std::net::{IpAddr, SocketAddr, UdpSocket};

use tandem_engine::MediaAddresses;

/// Everything the daemon listens on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnAddresses {
    /// The media sockets: the interface address and the port range.
    pub media: MediaAddresses,
    /// The UDP control (ng) listeners.
    pub listeners: Vec<SocketAddr>,
}

impl OwnAddresses {
    /// What of ours `addr` names, if anything: `"media port"`, `"media port range"` or
    /// `"control address"`. `holds` says whether the engine holds a socket on a
    /// port of its media address.
    pub fn owner_of(
        &self,
        addr: SocketAddr,
        holds: &dyn Fn(SocketAddr) -> bool,
    ) -> Option<&'static str> {
        let port = addr.port();
        if self
            .listeners
            .iter()
            .any(|l| l.port() == port && same_host(l.ip(), addr.ip()))
        {
            return Some("control address");
        }
        let m = &self.media;
        if !(m.port_min..=m.port_max).contains(&port) || !same_host(m.ip, addr.ip()) {
            return None;
        }
        let ours = SocketAddr::new(m.ip, port);
        if holds(ours) {
            Some("media port")
        } else if UdpSocket::bind(ours).is_ok() {
            Some("media port range")
        } else {
            None // another program holds it
        }
    }
}

/// Whether a datagram sent to `ip` reaches a socket bound to `bound`.
fn same_host(bound: IpAddr, ip: IpAddr) -> bool {
    if MediaAddresses::same_host(bound, ip) {
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

    /// The engine holds every port.
    fn all(_: SocketAddr) -> bool {
        true
    }

    #[test]
    fn media_ports_and_listeners_with_host_equivalence() {
        let o = own("127.0.0.1");
        assert_eq!(o.owner_of(a("127.0.0.1:30500"), &all), Some("media port"));
        assert_eq!(o.owner_of(a("0.0.0.0:30500"), &all), Some("media port"));
        assert_eq!(
            o.owner_of(a("127.0.0.1:2223"), &all),
            Some("control address")
        );
        assert_eq!(o.owner_of(a("127.0.0.1:31000"), &all), None);
        assert_eq!(o.owner_of(a("192.0.2.1:30500"), &all), None);
        let public = own("203.0.113.5");
        assert_eq!(
            public.owner_of(a("203.0.113.5:30000"), &all),
            Some("media port")
        );
        assert_eq!(public.owner_of(a("127.0.0.1:30000"), &all), None);
    }

    #[test]
    fn a_port_of_the_range_another_program_holds_is_not_ours() {
        let phone = UdpSocket::bind("127.0.0.1:0").unwrap();
        let at = phone.local_addr().unwrap();
        let mut o = own("127.0.0.1");
        o.media.port_min = at.port() - 2;
        o.media.port_max = at.port() + 2;
        let none = |_| false;
        assert_eq!(o.owner_of(at, &none), None, "the phone holds it");
        drop(phone);
        assert_eq!(
            o.owner_of(at, &none),
            Some("media port range"),
            "free: may be ours"
        );
    }

    #[test]
    fn a_wildcard_interface_owns_every_local_address() {
        let o = own("0.0.0.0");
        assert_eq!(o.owner_of(a("127.0.0.1:30001"), &all), Some("media port"));
        assert_eq!(o.owner_of(a("[::1]:30001"), &all), Some("media port"));
        // TEST-NET-3 is nobody's address, so it cannot be bound here.
        assert_eq!(o.owner_of(a("203.0.113.77:30001"), &all), None);
    }
}
