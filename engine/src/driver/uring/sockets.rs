//! The io_uring driver's sockets: the start-up probe, the wake-up read, and arming,
//! adding and closing the sockets of channels (see the parent module's docs on closing).

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

use io_uring::cqueue;
use io_uring::opcode;
use io_uring::types::{CancelBuilder, Fd, SubmitArgs, Timespec};
use socket2::{Domain, Socket as Socket2, Type};

use super::{
    BGID, Driver, KIND_CANCEL, KIND_PROBE, KIND_RECV, KIND_WAKE, Socket, unsupported, user_data,
};

impl Driver {
    /// buffers (6.0) and synchronous cancel (6.0): arms a receive, cancels it, and expects
    /// `-ECANCELED` (an older kernel fails the receive with `-EINVAL`).
    pub(super) fn probe(&mut self) -> io::Result<()> {
        // Unbound, so no datagram can reach it.
        let sock = Socket2::new(Domain::IPV4, Type::DGRAM, None)
            .or_else(|_| Socket2::new(Domain::IPV6, Type::DGRAM, None))?;
        let ud = user_data(KIND_PROBE, 0, 0);
        let e =
            opcode::RecvMsgMulti::new(Fd(sock.as_raw_fd()), &raw const *self.mem.recv_hdr, BGID)
                .build()
                .user_data(ud);
        // SAFETY: the msghdr lives in `mem`; the socket outlives the request (it is cancelled
        // and reaped below, or cancelled in Drop on an early return).
        unsafe { self.push(&e)? };
        self.ring.submit()?;
        let timeout = Timespec::new().sec(1);
        match self
            .ring
            .submitter()
            .register_sync_cancel(Some(timeout), CancelBuilder::user_data(ud))
        {
            Ok(()) => {}
            // Already completed: the receive failed at once; its result says why.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(unsupported("synchronous cancel", e)),
        }
        let mut result = None;
        for _ in 0..2 {
            self.completions.clear();
            self.completions.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for i in 0..self.completions.len() {
                let (cud, res, flags) = self.completions[i];
                if let Some(bid) = cqueue::buffer_select(flags) {
                    self.give_back(bid);
                }
                if !cqueue::more(flags) {
                    self.inflight = self.inflight.saturating_sub(1);
                    if cud == ud {
                        result = Some(res);
                    }
                }
            }
            self.publish_buffers();
            if result.is_some() {
                break;
            }
            // The cancellation's completion runs as task work; an enter flushes it.
            let args = SubmitArgs::new().timespec(&timeout);
            let _ = self.ring.submitter().submit_with_args(1, &args);
        }
        match result {
            Some(r) if r == -libc::ECANCELED => Ok(()),
            Some(r) => Err(unsupported(
                "multishot recvmsg",
                io::Error::from_raw_os_error(-r),
            )),
            None => Err(io::Error::other("io_uring probe: no completion")),
        }
    }

    /// Arms (again) the read of the eventfd the waker writes to.
    pub(super) fn arm_wake(&mut self) -> io::Result<()> {
        let buf = (&raw mut *self.mem.efd_buf).cast::<u8>();
        let e = opcode::Read::new(Fd(self.efd.as_raw_fd()), buf, 8)
            .build()
            .user_data(user_data(KIND_WAKE, 0, 0));
        // SAFETY: the 8-byte buffer is a Box in `mem`, never read or moved by the driver,
        // and the eventfd is owned by the Driver; both outlive the request.
        unsafe { self.push(&e) }
    }

    /// Arms the multishot receive of `port`'s socket, unless it is armed already.
    pub(super) fn arm_recv(&mut self, port: u16) -> io::Result<()> {
        let Some(s) = self.sockets.get_mut(&port) else {
            return Ok(());
        };
        if s.armed {
            return Ok(());
        }
        s.armed = true;
        let e =
            opcode::RecvMsgMulti::new(Fd(s.sock.as_raw_fd()), &raw const *self.mem.recv_hdr, BGID)
                .build()
                .user_data(s.ud);
        // SAFETY: the msghdr lives in `mem`; the buffers it selects are in the registered
        // buffer ring; the socket stays open until the request is over (see close_socket).
        unsafe { self.push(&e) }
    }

    pub(super) fn add_socket(&mut self, port: u16, sock: UdpSocket) -> io::Result<()> {
        // A port is only handed out again after its old socket was closed, but be safe.
        self.close_socket(port);
        sock.set_nonblocking(true)?;
        // Receive stamps date each datagram's arrival, for the shard's queueing-delay limit.
        tandem_udp::enable_rx_timestamps(sock.as_raw_fd())?;
        self.generation = self.generation.wrapping_add(1);
        let ud = user_data(KIND_RECV, self.generation, port);
        let armed = false;
        self.sockets.insert(port, Socket { sock, ud, armed });
        self.arm_recv(port)
    }

    /// Closes `port`'s socket once no request uses it (see the module docs).
    pub(super) fn close_socket(&mut self, port: u16) {
        let Some(s) = self.sockets.remove(&port) else {
            return;
        };
        // Queued entries may name this descriptor (sends, a re-armed receive): submit them
        // now, so the cancel below sees them and none names a reused descriptor later.
        let submitted = self.ring.submit();
        let cancel = CancelBuilder::fd(Fd(s.sock.as_raw_fd())).all();
        let timeout = Timespec::new().sec(1);
        match (
            submitted,
            self.ring
                .submitter()
                .register_sync_cancel(Some(timeout), cancel),
        ) {
            // Every request on it is over (or there was none): close it now.
            (Ok(_), Ok(())) => drop(s.sock),
            (Ok(_), Err(e)) if e.kind() == io::ErrorKind::NotFound => drop(s.sock),
            (submitted, cancelled) => {
                // Cannot confirm: keep the socket open until its receive's last completion,
                // and ask for that completion asynchronously.
                tracing::warn!(
                    port,
                    submit = ?submitted.err(),
                    cancel = ?cancelled.err(),
                    "synchronous cancel failed; the socket closes later"
                );
                if s.armed {
                    self.closing.insert(s.ud, s.sock);
                    let e = opcode::AsyncCancel::new(s.ud).build().user_data(user_data(
                        KIND_CANCEL,
                        0,
                        port,
                    ));
                    // SAFETY: a cancel carries no pointers.
                    if unsafe { self.push(&e) }.is_err() {
                        tracing::warn!(port, "could not queue a cancel");
                    }
                }
                // Not armed: no receive is in flight, only sends, which hold their own
                // reference to the socket; it can close now.
            }
        }
    }
}
