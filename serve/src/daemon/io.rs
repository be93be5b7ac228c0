//! The control plane's I/O: the ng UDP socket, the TCP listener and every TCP connection
//! in one mio event loop on one thread.
//!
//! Messages go to the control thread through a bounded queue; when it is full the request
//! is answered at once with an "overloaded, retry" error instead of being dropped. TCP
//! replies come back through a channel and a waker and are written in request order. The
//! loop enforces the connection cap and each connection's idle and read deadlines.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use mio::net::{TcpListener, UdpSocket};
use mio::{Events, Interest, Poll, Token, Waker};

use super::conn::{Conn, Deadlines, Dispatch};
use crate::metrics::Metrics;
use crate::ng;

const UDP: Token = Token(0);
const LISTENER: Token = Token(1);
/// Wakes the loop for TCP replies and for stopping.
pub(crate) const WAKER: Token = Token(2);
const FIRST_CONN: usize = 3;
/// Datagrams read per turn of the loop, so TCP is served under a UDP flood.
const UDP_BUDGET: usize = 256;
/// Longest wait for events; deadlines are checked at least this often.
const MAX_WAIT: Duration = Duration::from_millis(250);
/// Shortest time between two warnings that requests were refused for overload.
const OVERLOAD_LOG_PERIOD: Duration = Duration::from_secs(10);

/// A message for the control thread.
pub(crate) struct Incoming {
    /// Where it came from (the TCP peer for a connection).
    pub source: SocketAddr,
    /// The datagram, or one framed TCP message.
    pub bytes: Vec<u8>,
    /// Where its reply goes.
    pub via: Via,
    /// When it was received, for the latency histogram.
    pub received: Instant,
}

/// Where a reply goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// A datagram back to the source, sent by the control thread.
    Udp,
    /// The connection with this token, written by the loop.
    Tcp(usize),
}

/// Limits of the control plane's I/O.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IoLimits {
    pub max_connections: usize,
    pub max_message: usize,
    pub deadlines: Deadlines,
}

/// The event loop's state.
pub(crate) struct IoLoop {
    pub poll: Poll,
    pub udp: UdpSocket,
    pub listener: TcpListener,
    pub requests: Sender<Incoming>,
    pub replies: Receiver<(usize, Vec<u8>)>,
    pub limits: IoLimits,
    pub metrics: Arc<Metrics>,
    pub stop: Arc<AtomicBool>,
}

/// An error reply built where the control thread is not involved.
fn refusal(bytes: &[u8], reason: &str) -> Vec<u8> {
    let cookie = bytes
        .split(|&b| b == b' ')
        .next()
        .filter(|c| !c.is_empty() && c.len() <= 256)
        .unwrap_or(b"0");
    ng::reply(cookie, &ng::error_reply(reason))
}

/// Queues a message for the control thread, or says why it cannot be.
fn dispatch(
    requests: &Sender<Incoming>,
    metrics: &Metrics,
    source: SocketAddr,
    bytes: Vec<u8>,
    via: Via,
) -> Dispatch {
    let msg = Incoming {
        source,
        bytes,
        via,
        received: Instant::now(),
    };
    match requests.try_send(msg) {
        Ok(()) => Dispatch::Queued,
        Err(TrySendError::Full(m)) => {
            metrics.overloaded.inc();
            tracing::debug!(%source, "control queue full: overloaded reply");
            Dispatch::Answered(refusal(&m.bytes, "overloaded, retry"))
        }
        Err(TrySendError::Disconnected(m)) => {
            Dispatch::Answered(refusal(&m.bytes, "shutting down"))
        }
    }
}

impl IoLoop {
    /// Runs until the stop flag is raised (with a wake).
    pub(crate) fn run(mut self) {
        let reg = self.poll.registry();
        let ok = reg
            .register(&mut self.udp, UDP, Interest::READABLE)
            .and_then(|()| reg.register(&mut self.listener, LISTENER, Interest::READABLE));
        if let Err(e) = ok {
            tracing::error!(error = %e, "cannot poll the ng sockets");
            return;
        }
        let mut events = Events::with_capacity(256);
        let mut conns: HashMap<usize, Conn> = HashMap::new();
        let mut next_token = FIRST_CONN;
        let mut datagram = vec![0u8; 65_536];
        let mut chunk = vec![0u8; 16 * 1024];
        let mut udp_pending = false;
        let mut at_cap = false;
        let (mut overload_logged, mut overload_seen) = (None::<Instant>, 0);
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let next = conns
                .values()
                .map(|c| c.next_deadline(self.limits.deadlines))
                .min()
                .map_or(MAX_WAIT, |d| d.saturating_duration_since(now).min(MAX_WAIT));
            let wait = if udp_pending { Duration::ZERO } else { next };
            if let Err(e) = self.poll.poll(&mut events, Some(wait)) {
                if e.kind() != ErrorKind::Interrupted {
                    tracing::error!(error = %e, "ng event loop failed");
                    return;
                }
            }
            let now = Instant::now();
            let mut ready: Vec<usize> = Vec::new();
            for ev in events.iter() {
                match ev.token() {
                    UDP => udp_pending = true,
                    LISTENER => {
                        self.accept(&mut conns, &mut next_token, &mut at_cap, now);
                    }
                    WAKER => {}
                    Token(t) => ready.push(t),
                }
            }
            if udp_pending {
                udp_pending = self.read_udp(&mut datagram);
            }
            for (token, reply) in self.replies.try_iter() {
                if let Some(c) = conns.get_mut(&token) {
                    if let Err(reason) = c.fill(reply, now) {
                        close(&self.poll, &self.metrics, &mut conns, token, reason);
                        continue;
                    }
                    // Serviced below: a connection paused for its replies reads again, one
                    // closing closes once they are out.
                    ready.push(token);
                }
            }
            ready.sort_unstable();
            ready.dedup();
            for token in ready {
                self.service(&mut conns, token, &mut chunk, now);
            }
            let d = self.limits.deadlines;
            let expired: Vec<(usize, &'static str)> = conns
                .iter()
                .filter_map(|(t, c)| c.expired(now, d).map(|r| (*t, r)))
                .collect();
            for (token, reason) in expired {
                close(&self.poll, &self.metrics, &mut conns, token, reason);
            }
            let refused = self.metrics.overloaded.get();
            if refused > overload_seen
                && overload_logged.is_none_or(|t: Instant| now - t >= OVERLOAD_LOG_PERIOD)
            {
                tracing::warn!(
                    refused = refused - overload_seen,
                    "control queue full: requests answered \"overloaded, retry\""
                );
                overload_logged = Some(now);
                overload_seen = refused;
            }
        }
        for (_, mut c) in conns.drain() {
            let _ = self.poll.registry().deregister(c.stream());
        }
    }

    /// Reads datagrams until the socket is empty or the budget is spent (then returns true:
    /// more may be waiting).
    fn read_udp(&mut self, buf: &mut [u8]) -> bool {
        for _ in 0..UDP_BUDGET {
            let (n, from) = match self.udp.recv_from(buf) {
                Ok(r) => r,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ICMP errors from earlier sends surface here; the socket stays usable.
                    tracing::debug!(error = %e, "ng UDP receive error");
                    continue;
                }
            };
            let bytes = buf[..n].to_vec();
            if let Dispatch::Answered(reply) =
                dispatch(&self.requests, &self.metrics, from, bytes, Via::Udp)
            {
                if let Err(e) = self.udp.send_to(&reply, from) {
                    self.metrics.udp_reply_errors.inc();
                    tracing::warn!(%from, error = %e, "ng reply not sent");
                }
            }
        }
        true
    }

    fn accept(
        &mut self,
        conns: &mut HashMap<usize, Conn>,
        next_token: &mut usize,
        at_cap: &mut bool,
        now: Instant,
    ) {
        loop {
            let (mut stream, peer) = match self.listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted.
                    tracing::warn!(error = %e, "ng TCP accept failed");
                    return;
                }
            };
            if conns.len() >= self.limits.max_connections {
                self.metrics.tcp_refused.inc();
                if !*at_cap {
                    tracing::warn!(
                        %peer,
                        cap = self.limits.max_connections,
                        "ng TCP connection cap reached: closing new connections"
                    );
                }
                *at_cap = true;
                continue; // dropping the stream closes it
            }
            *at_cap = false;
            let token = *next_token;
            *next_token += 1;
            let _ = stream.set_nodelay(true);
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                Token(token),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                tracing::warn!(%peer, error = %e, "cannot poll an ng TCP connection");
                continue;
            }
            self.metrics.tcp_accepted.inc();
            self.metrics.tcp_open.inc();
            conns.insert(token, Conn::new(stream, peer, self.limits.max_message, now));
        }
    }

    /// Reads, frames, dispatches and writes for one connection.
    fn service(
        &mut self,
        conns: &mut HashMap<usize, Conn>,
        token: usize,
        chunk: &mut [u8],
        now: Instant,
    ) {
        let Some(c) = conns.get_mut(&token) else {
            return;
        };
        let (requests, metrics) = (&self.requests, &self.metrics);
        let mut to_control = |peer: SocketAddr, msg: Vec<u8>| {
            dispatch(requests, metrics, peer, msg, Via::Tcp(token))
        };
        let r = c.pump(now, chunk, &mut to_control);
        self.metrics.tcp_scanned_bytes.inc_by(c.take_scanned());
        match r {
            Ok(framed) => {
                self.metrics.tcp_messages.inc_by(framed);
                if let Some(reason) = c.finished() {
                    close(&self.poll, &self.metrics, conns, token, reason);
                }
            }
            Err(reason) => close(&self.poll, &self.metrics, conns, token, reason),
        }
    }
}

fn close(
    poll: &Poll,
    metrics: &Metrics,
    conns: &mut HashMap<usize, Conn>,
    token: usize,
    reason: &'static str,
) {
    if let Some(mut c) = conns.remove(&token) {
        let _ = poll.registry().deregister(c.stream());
        metrics.tcp_closed(reason);
        if reason != "peer" {
            tracing::debug!(reason, "ng TCP connection closed");
        }
    }
}

/// Makes the waker the control thread and the daemon's handle use.
pub(crate) fn waker(poll: &Poll) -> std::io::Result<Arc<Waker>> {
    Waker::new(poll.registry(), WAKER).map(Arc::new)
}
