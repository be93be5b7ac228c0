//! Kernel receive time stamps (`SO_TIMESTAMPNS`): switching them on for a socket, and
//! finding them among a received message's control data.

use std::io;
use std::os::fd::AsRawFd;
use std::ptr;

/// Control-message room per datagram: one `SCM_TIMESTAMPNS` needs 32 bytes on 64-bit Linux.
pub(crate) const CONTROL_LEN: usize = 64;

/// A control-message buffer, aligned for `cmsghdr`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub(crate) struct Control([u8; CONTROL_LEN]);

impl Default for Control {
    fn default() -> Control {
        Control([0; CONTROL_LEN])
    }
}

/// Asks the kernel to stamp every datagram `fd` receives with the time it arrived
/// (`SO_TIMESTAMPNS`, `CLOCK_REALTIME`); [`RecvBatch::with_rx_timestamps`] reads the stamps.
///
/// [`RecvBatch::with_rx_timestamps`]: crate::RecvBatch::with_rx_timestamps
pub fn enable_rx_timestamps(fd: impl AsRawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a live c_int that outlives the call, and its true size is passed;
    // setsockopt only reads it.
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

/// The `SCM_TIMESTAMPNS` time stamp among the control messages of a received `hdr`, in ns
/// of `CLOCK_REALTIME`.
pub(crate) fn from_header(hdr: &libc::msghdr) -> Option<u64> {
    if hdr.msg_control.is_null() {
        return None;
    }
    // SAFETY: `hdr.msg_control` points at a live `Control` buffer (aligned for cmsghdr) and
    // the kernel set `msg_controllen` to the bytes it wrote there (at most CONTROL_LEN), so
    // the CMSG_* walk stays inside it; each header it yields is complete, and an
    // SCM_TIMESTAMPNS one carries a timespec, read unaligned to be safe.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecvBatch;
    use crate::clock::realtime_ns;
    use std::net::UdpSocket;
    use std::os::fd::AsFd;

    #[test]
    fn kernel_receive_time_stamps() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        b.set_nonblocking(true).unwrap();
        enable_rx_timestamps(b.as_fd()).unwrap();
        let before = realtime_ns();
        for _ in 0..3 {
            a.send_to(b"stamp me", b.local_addr().unwrap()).unwrap();
        }
        let mut batch = RecvBatch::with_rx_timestamps(4);
        assert_eq!(batch.recv(b.as_fd()).unwrap(), 3);
        // Loopback may hand the datagrams over after send_to returns, but always before
        // they can be read.
        let after = realtime_ns();
        for i in 0..3 {
            let t = batch.rx_realtime_ns(i).unwrap();
            assert!((before..=after).contains(&t), "{before} {t} {after}");
        }
        // Without control buffers there are no stamps.
        a.send_to(b"x", b.local_addr().unwrap()).unwrap();
        let mut plain = RecvBatch::new(1);
        assert_eq!(plain.recv(b.as_fd()).unwrap(), 1);
        assert_eq!(plain.rx_realtime_ns(0), None);
    }

    #[test]
    fn a_bad_descriptor_is_an_error() {
        assert!(enable_rx_timestamps(-1).is_err());
    }
}
