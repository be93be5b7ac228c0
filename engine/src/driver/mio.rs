//! The portable UDP driver: `mio` (epoll) readiness, `recvmmsg` to drain each readable
//! socket in batches (up to the thread's drain limits per socket and per turn, so the
//! tick runs between floods), `sendmmsg` for runs of datagrams from the same socket.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::{self, JoinHandle};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};

use super::thread::{Clock, ShardThread, Wake, received_at};
use crate::time::Micros;
use tandem_udp::{RecvBatch, SendBatch, enable_rx_timestamps};

const WAKE: Token = Token(usize::MAX);
/// Datagrams per recvmmsg/sendmmsg call.
const BATCH: usize = 32;

struct MioWaker(Waker);

impl Wake for MioWaker {
    fn wake(&self) {
        // A failed wake means the poll is gone (the thread has exited): nothing to wake.
        let _ = self.0.wake();
    }
}

/// Starts a shard thread on the mio driver.
pub(crate) fn spawn(st: ShardThread) -> io::Result<(JoinHandle<()>, Arc<dyn Wake>)> {
    let poll = Poll::new()?;
    let waker: Arc<dyn Wake> = Arc::new(MioWaker(Waker::new(poll.registry(), WAKE)?));
    let name = format!("tandem-shard-{}", st.shard.index());
    let handle = thread::Builder::new().name(name).spawn(move || {
        if let Err(e) = run(st, poll) {
            tracing::error!(error = %e, "shard thread failed");
        }
    })?;
    Ok((handle, waker))
}

fn run(mut st: ShardThread, mut poll: Poll) -> io::Result<()> {
    st.start();
    let mut sockets: HashMap<u16, UdpSocket> = HashMap::new();
    let mut events = Events::with_capacity(1024);
    let mut rb = RecvBatch::with_rx_timestamps(BATCH);
    let mut sb = SendBatch::new(BATCH);
    // Readable ports not yet drained to `WouldBlock` (edge-triggered readiness will not
    // report them again): served first next turn, which then does not wait.
    let mut ready: VecDeque<u16> = VecDeque::new();
    loop {
        let now = st.clock.now();
        let wait = if ready.is_empty() {
            st.shard.next_deadline().saturating_sub(now)
        } else {
            Micros::ZERO
        };
        match poll.poll(&mut events, Some(wait.to_duration())) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        st.waited(now, st.clock.now());
        for ev in events.iter() {
            if ev.token() == WAKE {
                if !apply_control(&mut st, &poll, &mut sockets)? {
                    return Ok(());
                }
                continue;
            }
            ready.push_back(ev.token().0 as u16);
        }
        drain(&mut st, &sockets, &mut ready, (&mut rb, &mut sb));
        let now = st.clock.now();
        st.tick(now);
        flush(&mut st, &sockets, &mut sb);
        st.finish_turn(|port| {
            if let Some(mut s) = sockets.remove(&port) {
                let _ = poll.registry().deregister(&mut s);
            }
        });
    }
}

/// Receives from the ready ports, in turn, up to the thread's drain limits: a port still
/// readable at its limit goes to the back of the queue, and what the turn's limit leaves
/// waits for the next turn.
fn drain(
    st: &mut ShardThread,
    sockets: &HashMap<u16, UdpSocket>,
    ready: &mut VecDeque<u16>,
    (rb, sb): (&mut RecvBatch, &mut SendBatch),
) {
    let limits = st.drain;
    let mut turn = 0;
    // Each port present now is served at most once this turn.
    let mut left = ready.len();
    while left > 0 && turn < limits.per_turn {
        left -= 1;
        let Some(port) = ready.pop_front() else {
            break;
        };
        let Some(sock) = sockets.get(&port) else {
            continue;
        };
        let fd = sock.as_raw_fd();
        let mut taken = 0;
        let drained = loop {
            if taken >= limits.per_socket || turn >= limits.per_turn {
                break false;
            }
            let n = match rb.recv(fd) {
                Ok(n) => n,
                Err(e) => {
                    tracing::debug!(port, error = %e, "receive error");
                    break true;
                }
            };
            if n == 0 {
                break true;
            }
            taken += n;
            turn += n;
            let (now, rt) = (st.clock.now(), Clock::realtime_ns());
            st.counters
                .datagrams_in
                .fetch_add(n as u64, Ordering::Relaxed);
            for i in 0..n {
                // A datagram cut to fit the buffer is larger than any RTP or RTCP
                // packet: dropped unread, as the io_uring driver does.
                if let (Some(from), data) = rb.get(i) {
                    if !rb.truncated(i) {
                        let at = received_at(now, rt, rb.rx_realtime_ns(i));
                        st.receive((now, at), port, from, data);
                    }
                }
            }
            flush(st, sockets, sb);
        };
        if !drained {
            ready.push_back(port);
        }
    }
}

/// Applies queued messages, registering the sockets of new channels. Returns false on
/// shutdown.
fn apply_control(
    st: &mut ShardThread,
    poll: &Poll,
    sockets: &mut HashMap<u16, UdpSocket>,
) -> io::Result<bool> {
    st.take_messages(|port, s| {
        s.set_nonblocking(true)?;
        // Receive stamps date each datagram's arrival, for the shard's queueing-delay limit.
        enable_rx_timestamps(s.as_raw_fd())?;
        let mut s = UdpSocket::from_std(s);
        poll.registry()
            .register(&mut s, Token(usize::from(port)), Interest::READABLE)?;
        sockets.insert(port, s);
        Ok(())
    })
}

/// Sends the shard's pending datagrams, one sendmmsg per run from the same socket.
fn flush(st: &mut ShardThread, sockets: &HashMap<u16, UdpSocket>, sb: &mut SendBatch) {
    let q = st.shard.transmit_queue();
    let total = q.len();
    if total == 0 {
        st.sent();
        return;
    }
    let unspecified = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
    let mut items: [(SocketAddr, &[u8]); BATCH] = [(unspecified, &[]); BATCH];
    let mut i = 0;
    let mut sent = 0u64;
    let mut failed = 0u64;
    while i < total {
        let port = q.get(i).local_port;
        let mut k = 0;
        while i < total && k < BATCH && q.get(i).local_port == port {
            let t = q.get(i);
            items[k] = (t.dest, t.payload);
            k += 1;
            i += 1;
        }
        match sockets.get(&port) {
            Some(s) => match sb.send(s.as_raw_fd(), &items[..k]) {
                Ok(n) => {
                    sent += n as u64;
                    failed += (k - n) as u64;
                }
                Err(_) => failed += k as u64,
            },
            None => failed += k as u64,
        }
    }
    st.counters.datagrams_out.fetch_add(sent, Ordering::Relaxed);
    st.sent();
    if failed > 0 {
        st.counters.send_errors.fetch_add(failed, Ordering::Relaxed);
    }
    st.shard.clear_transmits();
}
