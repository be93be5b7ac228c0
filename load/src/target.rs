//! The relay ports a load run sends to: [`CallTarget`] (a bridged call's two ports) and the
//! comma-separated lists the generator's child process takes them in.
//!
//! An address in a list is `ip:port` (`[v6]:port`), or a bare port on a host given once,
//! which is how a list of thousands of ports on one address stays short (6 bytes a port).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The two ports a relay exposes for one bridged call.
///
/// Endpoint a (the caller) sends to `a_port`; the relay forwards out of `b_port` to the address
/// it latched from endpoint b's packets on `b_port` (symmetric RTP), and vice versa.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallTarget {
    /// The port endpoint a sends to and receives from.
    pub a_port: SocketAddr,
    /// The port endpoint b sends to and receives from.
    pub b_port: SocketAddr,
}

/// One address of a list: `ip:port` (`[v6]:port`), or a bare port on `host`; `what` names
/// it in the error.
fn parse_address(s: &str, host: IpAddr, what: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    SocketAddr::from_str(s)
        .or_else(|_| s.parse::<u16>().map(|p| SocketAddr::new(host, p)))
        .map_err(|_| format!("bad {what} {s:?}"))
}

/// The IP every address is on, if they share one: a list then names bare ports and the
/// host once (the usual case, and 6 bytes per port).
fn common_host(mut addrs: impl Iterator<Item = SocketAddr>) -> Option<IpAddr> {
    let host = addrs.next()?.ip();
    addrs.all(|a| a.ip() == host).then_some(host)
}

/// An address as a list writes it: the bare port when the list has a common host.
fn list_address(addr: SocketAddr, common: bool) -> String {
    if common {
        addr.port().to_string()
    } else {
        addr.to_string()
    }
}

/// Parses a comma-separated list of `A/B` targets; bare ports are on `host`.
pub fn parse_targets(list: &str, host: IpAddr) -> Result<Vec<CallTarget>, String> {
    list.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let (a, b) = item
                .split_once('/')
                .ok_or_else(|| format!("target {item:?} is not A/B"))?;
            Ok(CallTarget {
                a_port: parse_address(a, host, "target address")?,
                b_port: parse_address(b, host, "target address")?,
            })
        })
        .collect()
}

/// Formats targets for `--targets`: bare ports plus the common host when every port is on
/// the same IP, else full addresses.
pub fn format_targets(targets: &[CallTarget]) -> (Option<IpAddr>, String) {
    let host = common_host(targets.iter().flat_map(|t| [t.a_port, t.b_port]));
    let list = targets
        .iter()
        .map(|t| {
            format!(
                "{}/{}",
                list_address(t.a_port, host.is_some()),
                list_address(t.b_port, host.is_some())
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    (host, list)
}

/// Parses a comma-separated list of single ports (conference participants); bare ports are
/// on `host`.
pub fn parse_ports(list: &str, host: IpAddr) -> Result<Vec<SocketAddr>, String> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_address(s, host, "port"))
        .collect()
}

/// Formats conference ports for `--targets`, as [`format_targets`] does calls.
pub fn format_ports(ports: &[SocketAddr]) -> (Option<IpAddr>, String) {
    let host = common_host(ports.iter().copied());
    let list = ports
        .iter()
        .map(|&p| list_address(p, host.is_some()))
        .collect::<Vec<_>>()
        .join(",");
    (host, list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_format_and_parse() {
        let host: IpAddr = "127.0.0.1".parse().unwrap();
        let p = vec![SocketAddr::new(host, 1), SocketAddr::new(host, 2)];
        let (h, list) = format_ports(&p);
        assert_eq!((h, list.as_str()), (Some(host), "1,2"));
        assert_eq!(parse_ports(&list, host).unwrap(), p);
        let mixed = vec![p[0], "[::1]:7".parse().unwrap()];
        let (h, list) = format_ports(&mixed);
        assert_eq!(h, None);
        assert_eq!(parse_ports(&list, host).unwrap(), mixed);
        assert!(parse_ports("1,x", host).is_err());
    }

    #[test]
    fn format_and_parse_round_trip() {
        let host: IpAddr = "127.0.0.1".parse().unwrap();
        let t = vec![
            CallTarget {
                a_port: SocketAddr::new(host, 1000),
                b_port: SocketAddr::new(host, 1001),
            },
            CallTarget {
                a_port: SocketAddr::new(host, 1002),
                b_port: SocketAddr::new(host, 1003),
            },
        ];
        let (h, list) = format_targets(&t);
        assert_eq!((h, list.as_str()), (Some(host), "1000/1001,1002/1003"));
        assert_eq!(parse_targets(&list, host).unwrap(), t);

        let mut mixed = t.clone();
        mixed[1].b_port = "[::1]:7".parse().unwrap();
        let (h, list) = format_targets(&mixed);
        assert_eq!(h, None);
        assert_eq!(parse_targets(&list, host).unwrap(), mixed);
        assert_eq!(format_targets(&[]), (None, String::new()));
    }
}
