//! The kernel's receive time stamp among the control messages a multishot `recvmsg` copies
//! into a provided buffer. The control area sits right after the source address there, so
//! it is not aligned for `cmsghdr`: it is read field by field from bytes, never through a
//! pointer cast (hand-written because `libc`'s `CMSG_*` walk needs an aligned `msghdr`).

/// Bytes of control data room per datagram: one `SCM_TIMESTAMPNS` takes 32 on 64-bit Linux.
pub(super) const CONTROL_LEN: usize = 64;

/// Size of a `cmsghdr` (and the alignment of what follows it).
const HDR: usize = std::mem::size_of::<libc::cmsghdr>();
const ALIGN: usize = std::mem::size_of::<usize>();

/// The `SCM_TIMESTAMPNS` stamp (ns of `CLOCK_REALTIME`) among `control`, if there is one.
/// Total: malformed or truncated control data gives `None`.
pub(super) fn rx_stamp_ns(control: &[u8]) -> Option<u64> {
    let mut off = 0;
    while off + HDR <= control.len() {
        let field = |at: usize, n: usize| control.get(off + at..off + at + n);
        let len = usize::from_ne_bytes(field(0, ALIGN)?.try_into().ok()?);
        let level = i32::from_ne_bytes(field(ALIGN, 4)?.try_into().ok()?);
        let kind = i32::from_ne_bytes(field(ALIGN + 4, 4)?.try_into().ok()?);
        if len < HDR {
            return None;
        }
        if level == libc::SOL_SOCKET && kind == libc::SCM_TIMESTAMPNS {
            let sec = i64::from_ne_bytes(field(HDR, 8)?.try_into().ok()?);
            let nsec = i64::from_ne_bytes(field(HDR + 8, 8)?.try_into().ok()?);
            let ns = u64::try_from(sec).ok()?.checked_mul(1_000_000_000)?;
            return ns.checked_add(u64::try_from(nsec).ok()?);
        }
        off = off.checked_add(len.next_multiple_of(ALIGN))?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmsg(level: i32, kind: i32, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(HDR + data.len()).to_ne_bytes());
        v.extend_from_slice(&level.to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(data);
        v.resize(v.len().next_multiple_of(ALIGN), 0);
        v
    }

    fn timespec(sec: i64, nsec: i64) -> Vec<u8> {
        [sec.to_ne_bytes(), nsec.to_ne_bytes()].concat()
    }

    #[test]
    fn finds_the_stamp_after_other_messages_at_any_alignment() {
        let mut c = cmsg(libc::IPPROTO_IP, libc::IP_TOS, &[0xb8]);
        c.extend(cmsg(
            libc::SOL_SOCKET,
            libc::SCM_TIMESTAMPNS,
            &timespec(1_700_000_000, 123),
        ));
        assert_eq!(rx_stamp_ns(&c), Some(1_700_000_000_000_000_123));
        // The control area follows the source address in a receive buffer: unaligned.
        let mut shifted = vec![0u8; 3];
        shifted.extend(&c);
        assert_eq!(rx_stamp_ns(&shifted[3..]), Some(1_700_000_000_000_000_123));
    }

    #[test]
    fn truncated_or_malformed_control_data_has_no_stamp() {
        let c = cmsg(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &timespec(5, 6));
        for n in 0..c.len() {
            assert_eq!(rx_stamp_ns(&c[..n]), None, "cut at {n}");
        }
        let mut zero_len = c.clone();
        zero_len[..ALIGN].fill(0);
        assert_eq!(rx_stamp_ns(&zero_len), None);
        assert_eq!(
            rx_stamp_ns(&cmsg(
                libc::SOL_SOCKET,
                libc::SCM_TIMESTAMPNS,
                &timespec(-1, 0)
            )),
            None
        );
        // Any bytes at all: no panic.
        let mut x = 0x1234_5678u32;
        for _ in 0..2_000 {
            let bytes: Vec<u8> = (0..(x % 80) as usize)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let _ = rx_stamp_ns(&bytes);
        }
    }
}
