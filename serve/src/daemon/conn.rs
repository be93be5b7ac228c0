//! One ng TCP connection in the event loop: the framer's progress, the replies owed in
//! request order, the bytes not yet written, and the deadlines that close it.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use super::framing::{FrameError, Framer};
use crate::ng;

/// Requests of one connection waiting for their replies; beyond it the connection is not
/// read until replies go out (back-pressure on a client that pipelines without reading).
const MAX_IN_FLIGHT: usize = 32;
/// Reply bytes waiting for a client that does not read; beyond it the connection is not
/// read either.
const MAX_UNSENT: usize = 4 << 20;

/// Deadlines of every connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadlines {
    /// Nothing received, sent or in flight for this long closes the connection.
    pub idle: Duration,
    /// A message started but not complete after this long closes it.
    pub read: Duration,
}

/// A reply owed, in request order.
enum Slot {
    /// The control thread has the request.
    Waiting,
    /// The reply (empty: none).
    Ready(Vec<u8>),
}

/// What becomes of a framed message.
pub(crate) enum Dispatch {
    /// Queued for the control thread; its reply will come back.
    Queued,
    /// Answered at once (e.g. refused for overload).
    Answered(Vec<u8>),
}

/// A connection.
pub(crate) struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    framer: Framer,
    slots: VecDeque<Slot>,
    out: Vec<u8>,
    written: usize,
    last_active: Instant,
    partial_since: Option<Instant>,
    closing: Option<&'static str>,
    peer_closed: bool,
    scanned_reported: u64,
}

impl Conn {
    pub(crate) fn new(
        stream: TcpStream,
        peer: SocketAddr,
        max_message: usize,
        now: Instant,
    ) -> Conn {
        Conn {
            stream,
            peer,
            framer: Framer::new(max_message),
            slots: VecDeque::new(),
            out: Vec::new(),
            written: 0,
            last_active: now,
            partial_since: None,
            closing: None,
            peer_closed: false,
            scanned_reported: 0,
        }
    }

    pub(crate) fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    fn paused(&self) -> bool {
        self.slots.len() >= MAX_IN_FLIGHT || self.out.len() - self.written > MAX_UNSENT
    }

    /// Frames what is buffered and reads what the socket holds, handing each complete
    /// message to `dispatch`, until the socket is drained or the connection must wait for
    /// replies. Returns the messages framed; an `Err` closes the connection at once.
    pub(crate) fn pump(
        &mut self,
        now: Instant,
        chunk: &mut [u8],
        dispatch: &mut dyn FnMut(SocketAddr, Vec<u8>) -> Dispatch,
    ) -> Result<u64, &'static str> {
        let mut framed = 0;
        loop {
            while self.closing.is_none() && !self.paused() {
                match self.framer.next_message() {
                    Ok(Some(msg)) => {
                        framed += 1;
                        self.last_active = now;
                        self.partial_since = None;
                        let slot = match dispatch(self.peer, msg) {
                            Dispatch::Queued => Slot::Waiting,
                            Dispatch::Answered(r) => Slot::Ready(r),
                        };
                        self.slots.push_back(slot);
                    }
                    Ok(None) => break,
                    Err(e) => self.refuse(&e),
                }
            }
            if self.framer.in_message() {
                self.partial_since.get_or_insert(now);
            }
            if self.closing.is_some() || self.paused() || self.peer_closed {
                break;
            }
            match self.stream.read(chunk) {
                Ok(0) => self.peer_closed = true,
                Ok(n) => self.framer.push(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err("error"),
            }
        }
        self.flush(now)?;
        Ok(framed)
    }

    /// A stream whose framing is lost: an error reply (with the cookie if it arrived),
    /// then the connection closes once the replies before it are out.
    fn refuse(&mut self, e: &FrameError) {
        let cookie = self.framer.cookie().unwrap_or(b"0").to_vec();
        tracing::warn!(peer = %self.peer, error = %e, "bad ng stream on TCP; closing");
        self.slots.push_back(Slot::Ready(ng::reply(
            &cookie,
            &ng::error_reply(&e.to_string()),
        )));
        self.closing = Some(match e {
            FrameError::TooLarge(_) => "too_large",
            _ => "malformed",
        });
    }

    /// The control thread's reply to this connection's oldest waiting request.
    pub(crate) fn fill(&mut self, reply: Vec<u8>, now: Instant) -> Result<(), &'static str> {
        if let Some(slot) = self.slots.iter_mut().find(|s| matches!(s, Slot::Waiting)) {
            *slot = Slot::Ready(reply);
        }
        self.flush(now)
    }

    /// Moves ready replies, in order, to the output and writes what the socket takes.
    pub(crate) fn flush(&mut self, now: Instant) -> Result<(), &'static str> {
        while let Some(Slot::Ready(_)) = self.slots.front() {
            if let Some(Slot::Ready(r)) = self.slots.pop_front() {
                if self.written == self.out.len() {
                    self.out.clear();
                    self.written = 0;
                }
                self.out.extend_from_slice(&r);
            }
        }
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err("error"),
                Ok(n) => {
                    self.written += n;
                    self.last_active = now;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err("error"),
            }
        }
        Ok(())
    }

    /// Whether the connection has finished: closing (or closed by the peer) with every
    /// reply written. Returns the reason.
    pub(crate) fn finished(&self) -> Option<&'static str> {
        let done = self.slots.is_empty() && self.written == self.out.len();
        match (self.closing, self.peer_closed) {
            (Some(r), _) if done => Some(r),
            (None, true) if done => Some("peer"),
            _ => None,
        }
    }

    /// The deadline the connection has passed, if any: a partial message too slow to
    /// complete, or nothing at all for the idle time.
    pub(crate) fn expired(&self, now: Instant, d: Deadlines) -> Option<&'static str> {
        if let Some(since) = self.partial_since.filter(|_| !self.paused()) {
            if now.saturating_duration_since(since) >= d.read {
                return Some("read_deadline");
            }
        }
        let waiting = self.slots.iter().any(|s| matches!(s, Slot::Waiting));
        if !waiting && now.saturating_duration_since(self.last_active) >= d.idle {
            return Some("idle");
        }
        None
    }

    /// When [`expired`](Self::expired) would next have something to say.
    pub(crate) fn next_deadline(&self, d: Deadlines) -> Instant {
        let idle = self.last_active + d.idle;
        match self.partial_since {
            Some(s) => idle.min(s + d.read),
            None => idle,
        }
    }

    /// Bytes scanned by the framer since the last call.
    pub(crate) fn take_scanned(&mut self) -> u64 {
        let s = self.framer.scanned();
        let d = s - self.scanned_reported;
        self.scanned_reported = s;
        d
    }
}
