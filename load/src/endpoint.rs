//! A generator's endpoint sockets: bound for a relay port, then connected to it with the
//! kernel's receive time stamps on, ready for the [`RxPump`](crate::rx_pump::RxPump).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;

use mio::net::UdpSocket;
use tandem_udp::enable_rx_timestamps;

/// A socket bound to an ephemeral port on `local`, or on the wildcard address of `remote`'s
/// family when `local` is `None`.
pub fn bind_for(remote: SocketAddr, local: Option<IpAddr>) -> io::Result<std::net::UdpSocket> {
    let ip = local.unwrap_or(match remote {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    std::net::UdpSocket::bind(SocketAddr::new(ip, 0))
}

/// Connects `socket` to `remote` (so the kernel drops datagrams from anyone else), makes it
/// non-blocking and asks for receive time stamps.
pub fn connect(socket: std::net::UdpSocket, remote: SocketAddr) -> io::Result<UdpSocket> {
    socket.connect(remote)?;
    socket.set_nonblocking(true)?;
    enable_rx_timestamps(socket.as_fd())?;
    Ok(UdpSocket::from_std(socket))
}
