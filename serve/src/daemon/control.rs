//! The control thread: the only owner of the call table and the engine handle. It takes
//! messages from the I/O thread, engine events, a once-a-second tick and lifecycle
//! commands, one at a time, so nothing here needs a lock.
//!
//! A shutdown ([`Lifecycle::Drain`]) refuses new offers, stops every recording, deletes
//! every call and waits for each recording's file to be completed, up to the grace period.

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, never, select, tick};
use mio::Waker;

use tandem_engine::{Engine, Event};

use super::io::{Incoming, Via};
use super::path::{ControlPath, UDP_REPLY_MAX};

/// How often statistics are refreshed.
const STATS_PERIOD: Duration = Duration::from_secs(1);

/// What the daemon's handle asks of the control thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// Shut down gracefully.
    Drain,
    /// Stop now.
    Stop,
}

/// How the daemon ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A shutdown completed: every recording finished and every call deleted.
    Drained,
    /// The grace period ended first; the engine completed the files it could as it
    /// stopped.
    GraceExpired {
        /// Recordings whose completion was not reported in time.
        unfinished_recordings: usize,
    },
    /// Stopped without a shutdown (by [`super::Running::stop`], or the I/O thread ended).
    Stopped,
}

/// The control thread's links.
pub(crate) struct Control {
    pub path: ControlPath<Arc<Engine>>,
    pub requests: Receiver<Incoming>,
    pub events: Receiver<Event>,
    pub lifecycle: Receiver<Lifecycle>,
    pub tcp_replies: Sender<(usize, Vec<u8>)>,
    pub waker: Arc<Waker>,
    pub udp: UdpSocket,
    /// Sends DTMF log datagrams (`DTMF-log-dest`), non-blocking.
    pub dtmf_log: UdpSocket,
    pub grace: Duration,
}

impl Control {
    /// Runs until a shutdown completes, the grace period ends, or a stop.
    pub(crate) fn run(mut self) -> Outcome {
        let ticker = tick(STATS_PERIOD);
        let events = self.events.clone();
        let mut grace_end = never();
        loop {
            select! {
                recv(self.requests) -> msg => match msg {
                    Ok(m) => self.request(m),
                    Err(_) => return Outcome::Stopped,
                },
                recv(events) -> e => {
                    if let Ok(e) = e {
                        if let Some(id) = self.path.on_event(&e) {
                            tracing::info!(call_id = %id, "call deleted after media timeout");
                        }
                    }
                },
                recv(ticker) -> _ => self.path.refresh(Instant::now()),
                recv(self.lifecycle) -> l => match l {
                    Ok(Lifecycle::Drain) if !self.path.draining() => {
                        let calls = self.path.calls().len();
                        let recordings = self.path.begin_drain();
                        tracing::info!(
                            calls,
                            recordings,
                            grace_s = self.grace.as_secs_f64(),
                            "shutting down: offers refused, recordings stopped, calls deleted"
                        );
                        grace_end = crossbeam_channel::after(self.grace);
                    }
                    Ok(Lifecycle::Drain) => tracing::info!("already shutting down"),
                    Ok(Lifecycle::Stop) | Err(_) => return Outcome::Stopped,
                },
                recv(grace_end) -> _ => {
                    let n = self.path.pending_recordings();
                    tracing::warn!(
                        unfinished_recordings = n,
                        "grace period over before every recording finished"
                    );
                    return Outcome::GraceExpired { unfinished_recordings: n };
                },
            }
            self.flush_dtmf_log();
            if self.path.drained() {
                tracing::info!("shutdown complete");
                return Outcome::Drained;
            }
        }
    }

    /// Sends the DTMF log datagrams the call table queued. A datagram the kernel does not
    /// take at once is dropped and logged: logging never holds up the control thread.
    fn flush_dtmf_log(&mut self) {
        for (to, payload) in self.path.take_dtmf_log() {
            if let Err(e) = self.dtmf_log.send_to(&payload, to) {
                tracing::warn!(%to, error = %e, "DTMF log datagram not sent");
            }
        }
    }

    fn request(&mut self, m: Incoming) {
        // A UDP reply must fit one datagram; a TCP stream carries any length.
        let limit = match m.via {
            Via::Udp => Some(UDP_REPLY_MAX),
            Via::Tcp(_) => None,
        };
        let h = self
            .path
            .handle_within(m.source, &m.bytes, Instant::now(), limit);
        self.path
            .metrics()
            .request_seconds
            .get_or_create(&[("command", h.command)])
            .observe(m.received.elapsed().as_secs_f64());
        match m.via {
            Via::Udp => {
                if let Some(reply) = h.reply {
                    if let Err(e) = self.udp.send_to(&reply, m.source) {
                        self.path.metrics().udp_reply_errors.inc();
                        tracing::warn!(
                            to = %m.source,
                            bytes = reply.len(),
                            error = %e,
                            "ng reply not sent"
                        );
                    }
                }
            }
            Via::Tcp(token) => {
                // Every framed message gets its slot filled, with nothing if there is no
                // reply, so later replies on the connection are not held up.
                if self
                    .tcp_replies
                    .send((token, h.reply.unwrap_or_default()))
                    .is_ok()
                {
                    let _ = self.waker.wake();
                }
            }
        }
    }
}
