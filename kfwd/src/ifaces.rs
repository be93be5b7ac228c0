//! Which interfaces a relay's media address receives on.

use std::net::Ipv4Addr;

/// The interfaces the forwarder should attach to for media bound to `ip`: the interface
/// that holds the address, and loopback (peers on this host send to the address over
/// loopback whatever interface holds it). Loopback alone when no interface holds it.
pub fn interfaces_for(ip: Ipv4Addr) -> Vec<String> {
    let mut out = holders(ip);
    if !out.iter().any(|n| n == "lo") {
        out.push("lo".to_owned());
    }
    out
}

#[cfg(target_os = "linux")]
fn holders(ip: Ipv4Addr) -> Vec<String> {
    let mut names = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list it allocated into `list`, or fails and writes nothing.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return names;
    }
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_addr points to a sockaddr whose family says how long it is.
        if i32::from(unsafe { (*ifa.ifa_addr).sa_family }) != libc::AF_INET {
            continue;
        }
        // SAFETY: an AF_INET address is a sockaddr_in.
        let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
        if Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)) != ip {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) };
        let name = name.to_string_lossy().into_owned();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    // SAFETY: `list` came from getifaddrs and is freed once, after the last use.
    unsafe { libc::freeifaddrs(list) };
    names
}

#[cfg(not(target_os = "linux"))]
fn holders(_ip: Ipv4Addr) -> Vec<String> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loopback_address_is_on_lo_and_lo_is_always_there() {
        assert_eq!(interfaces_for(Ipv4Addr::LOCALHOST), vec!["lo".to_owned()]);
        // TEST-NET-1 is held by no interface here.
        assert_eq!(
            interfaces_for(Ipv4Addr::new(192, 0, 2, 77)),
            vec!["lo".to_owned()]
        );
    }
}
