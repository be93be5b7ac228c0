//! One turn of the io_uring driver's loop: wait, handle completions (datagrams into the
//! shard, buffers back to the ring, messages from the handle), tick, queue the shard's
//! output as sends, publish counters.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;

use io_uring::types::{Fd, RecvMsgOut, SubmitArgs, Timespec};
use io_uring::{cqueue, opcode};
use tandem_udp::{MAX_DATAGRAM, addr};

use super::stamp::rx_stamp_ns;
use super::{
    Driver, KIND_RECV, KIND_SEND, KIND_WAKE, RECV_BUF_LEN, RECV_BUFFERS, RETRY, user_data,
};
use crate::driver::thread::{Clock, ShardThread, received_at};
use crate::time::Micros;

impl Driver {
    pub(super) fn run(&mut self, st: &mut ShardThread) -> io::Result<()> {
        st.start();
        loop {
            let now = st.clock.now();
            let mut deadline = st.shard.next_deadline();
            if !self.retry.is_empty() {
                deadline = deadline.min(self.retry_at);
            }
            let wait = deadline.saturating_sub(now).as_us();
            let ts = Timespec::new()
                .sec(wait / 1_000_000)
                .nsec((wait % 1_000_000) as u32 * 1000);
            let args = SubmitArgs::new().timespec(&ts);
            match self.ring.submitter().submit_with_args(1, &args) {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN)
                    ) => {}
                Err(e) => return Err(e),
            }
            let waited_from = now;
            // Completions of the turn, up to the drain limit of datagrams: the rest stay
            // queued for the next turn (which then does not wait), so a flood cannot hold
            // the tick off. Fairness between ports is the kernel's order of arrival.
            self.completions.clear();
            let mut datagrams = 0;
            for c in self.ring.completion() {
                let ud = c.user_data();
                self.completions.push((ud, c.result(), c.flags()));
                if ud >> 56 == KIND_RECV {
                    datagrams += 1;
                    if datagrams >= st.drain.per_turn {
                        break;
                    }
                }
            }
            // One clock read for the whole batch, as the mio driver does per recvmmsg.
            let now = st.clock.now();
            st.waited(waited_from, now);
            let rt = Clock::realtime_ns();
            let mut shutdown = false;
            for i in 0..self.completions.len() {
                let (ud, res, flags) = self.completions[i];
                if !cqueue::more(flags) {
                    self.inflight = self.inflight.saturating_sub(1);
                }
                match ud >> 56 {
                    KIND_RECV => self.on_recv(st, (now, rt), ud, res, flags)?,
                    KIND_SEND => {
                        self.free_slots.push((ud & 0xFFFF) as u16);
                        if res < 0 {
                            self.send_failed += 1;
                        } else {
                            self.sent += 1;
                        }
                    }
                    KIND_WAKE => {
                        shutdown |= !self.apply_control(st)?;
                        self.arm_wake()?;
                    }
                    // Cancel results (and a late probe completion): nothing to do; the
                    // cancelled request's own completion does the work.
                    _ => {}
                }
            }
            self.publish_buffers();
            if shutdown {
                self.publish_counters(st);
                return Ok(());
            }
            let now = st.clock.now();
            if !self.retry.is_empty() && now >= self.retry_at {
                let mut retry = mem::take(&mut self.retry);
                for &port in &retry {
                    self.arm_recv(port)?;
                }
                retry.clear();
                self.retry = retry;
            }
            st.tick(now);
            self.flush(st)?;
            self.publish_counters(st);
            st.finish_turn(|port| self.close_socket(port));
        }
    }

    /// A completion of a multishot receive (`now` with the wall clock read with it, in ns,
    /// to date the datagram by its receive stamp).
    pub(super) fn on_recv(
        &mut self,
        st: &mut ShardThread,
        (now, rt): (Micros, u64),
        ud: u64,
        res: i32,
        flags: u32,
    ) -> io::Result<()> {
        let port = (ud & 0xFFFF) as u16;
        let live = self.sockets.get(&port).is_some_and(|s| s.ud == ud);
        if let Some(bid) = cqueue::buffer_select(flags) {
            if res >= 0 && live && usize::from(bid) < RECV_BUFFERS {
                let len = (res as usize).min(RECV_BUF_LEN);
                // SAFETY: the kernel filled `len` bytes of buffer `bid` and handed it over
                // with this completion; it does not touch it again until `give_back` below,
                // after the last use of this slice.
                let buf = unsafe { std::slice::from_raw_parts(self.recv_buf(bid), len) };
                if let Ok(msg) = RecvMsgOut::parse(buf, &self.mem.recv_hdr) {
                    if !msg.is_payload_truncated() && !msg.is_name_data_truncated() {
                        if let Some(from) = addr::parse(msg.name_data()) {
                            self.received += 1;
                            let at = received_at(now, rt, rx_stamp_ns(msg.control_data()));
                            st.receive((now, at), port, from, msg.payload_data());
                        }
                    }
                }
            }
            if usize::from(bid) < RECV_BUFFERS {
                self.give_back(bid);
            }
        }
        if cqueue::more(flags) {
            return Ok(());
        }
        // The receive is over.
        if let Some(sock) = self.closing.remove(&ud) {
            drop(sock); // its last completion: now the descriptor may close
            return Ok(());
        }
        if !live {
            return Ok(());
        }
        if let Some(s) = self.sockets.get_mut(&port) {
            s.armed = false;
        }
        if res >= 0 || res == -libc::ENOBUFS {
            // Out of buffers (they are back by the next submit) or ended by the kernel:
            // arm it again at once.
            self.arm_recv(port)
        } else {
            tracing::debug!(port, error = %io::Error::from_raw_os_error(-res), "receive failed");
            if self.retry.is_empty() {
                self.retry_at = now + RETRY;
            }
            self.retry.push(port);
            Ok(())
        }
    }

    /// Applies queued messages, arming the receives of new channels' sockets. Returns false
    /// on shutdown (or when the handle is gone).
    pub(super) fn apply_control(&mut self, st: &mut ShardThread) -> io::Result<bool> {
        st.take_messages(|port, sock| self.add_socket(port, sock))
    }

    /// Queues a `sendmsg` for each pending datagram (copied into a send slot, since the
    /// shard's queue is cleared now); they are submitted together by the next wait.
    pub(super) fn flush(&mut self, st: &mut ShardThread) -> io::Result<()> {
        let q = st.shard.transmit_queue();
        for i in 0..q.len() {
            let t = q.get(i);
            let fd: RawFd = match self.sockets.get(&t.local_port) {
                Some(s) => s.sock.as_raw_fd(),
                None => {
                    self.send_failed += 1;
                    continue;
                }
            };
            if t.payload.len() > MAX_DATAGRAM {
                self.send_failed += 1;
                continue;
            }
            let Some(slot) = self.free_slots.pop() else {
                // Every slot in flight: the kernel is behind; drop, as a full socket would.
                self.send_failed += 1;
                continue;
            };
            let p = self.send_slot(slot);
            // SAFETY: the slot was on the free list, so no request and no other reference
            // uses it; it lies in mapped memory (zeroed at first: valid for these plain C
            // types) and stays there until the send's completion puts it back on the list.
            let e = unsafe {
                let s = &mut *p;
                let len = t.payload.len();
                s.buf[..len].copy_from_slice(t.payload);
                let namelen = addr::write(t.dest, &mut s.name);
                s.iov = libc::iovec {
                    iov_base: (&raw mut s.buf).cast(),
                    iov_len: len,
                };
                s.hdr.msg_name = (&raw mut s.name).cast();
                s.hdr.msg_namelen = namelen;
                s.hdr.msg_iov = &raw mut s.iov;
                s.hdr.msg_iovlen = 1;
                opcode::SendMsg::new(Fd(fd), &raw const s.hdr)
                    .build()
                    .user_data(user_data(KIND_SEND, 0, slot))
            };
            // SAFETY: the header, iovec, address and bytes are in the slot, which stays
            // reserved until this send's completion is reaped; the socket stays open until
            // every request on it is over (close_socket).
            unsafe { self.push(&e)? };
        }
        st.shard.clear_transmits();
        // Queued: the next wait submits them, at the top of the loop.
        st.sent();
        Ok(())
    }

    /// Adds the turn's counts to the shared counters.
    pub(super) fn publish_counters(&mut self, st: &ShardThread) {
        let c = &st.counters;
        if self.received > 0 {
            c.datagrams_in.fetch_add(self.received, Ordering::Relaxed);
        }
        if self.sent > 0 {
            c.datagrams_out.fetch_add(self.sent, Ordering::Relaxed);
        }
        if self.send_failed > 0 {
            c.send_errors.fetch_add(self.send_failed, Ordering::Relaxed);
        }
        (self.received, self.sent, self.send_failed) = (0, 0, 0);
    }
}
