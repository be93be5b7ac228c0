//! The kernel baseline: a minimal symmetric-RTP relay that does nothing but `recvmmsg` and
//! `sendmmsg`, on one thread, with epoll (mio). Its CPU time per packet is what the kernel
//! alone costs for a packet in and a packet out on loopback; the engine is judged against it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};

use tandem_udp::{KernelAddr, RecvBatch, procfs, thread};

use crate::relay::Relay;
use crate::target::CallTarget;

/// Datagrams per `recvmmsg`.
const BATCH: usize = 32;

#[derive(Default)]
struct Counters {
    relayed: AtomicU64,
    dropped: AtomicU64,
}

/// A running baseline relay: two UDP ports per call, one relay thread.
pub struct RawRelay {
    targets: Vec<CallTarget>,
    tid: i32,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl RawRelay {
    /// Binds two UDP ports on `bind` for each of `calls` calls and starts the relay thread.
    pub fn start(calls: usize, bind: IpAddr) -> io::Result<RawRelay> {
        RawRelay::start_pinned(calls, bind, None)
    }

    /// As [`start`](Self::start), with the relay thread pinned to CPU `cpu` if given.
    pub fn start_pinned(calls: usize, bind: IpAddr, cpu: Option<usize>) -> io::Result<RawRelay> {
        procfs::raise_open_files_limit(2 * calls as u64 + 256)?;
        let mut sockets = Vec::with_capacity(2 * calls);
        for _ in 0..2 * calls {
            let s = std::net::UdpSocket::bind(SocketAddr::new(bind, 0))?;
            s.set_nonblocking(true)?;
            sockets.push(UdpSocket::from_std(s));
        }
        let targets = sockets
            .chunks_exact(2)
            .map(|p| {
                Ok(CallTarget {
                    a_port: p[0].local_addr()?,
                    b_port: p[1].local_addr()?,
                })
            })
            .collect::<io::Result<Vec<_>>>()?;

        let poll = Poll::new()?;
        for (i, s) in sockets.iter_mut().enumerate() {
            poll.registry().register(s, Token(i), Interest::READABLE)?;
        }
        let waker = Arc::new(Waker::new(poll.registry(), Token(sockets.len()))?);
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let thread = {
            let (counters, stop) = (counters.clone(), stop.clone());
            std::thread::Builder::new()
                .name("raw-relay".into())
                .spawn(move || {
                    let pinned = cpu.map_or(Ok(()), thread::pin_current_thread);
                    let _ = tid_tx.send(tandem_udp::current_tid());
                    pinned?;
                    relay_loop(poll, &sockets, &counters, &stop)
                })?
        };
        let tid = tid_rx
            .recv()
            .map_err(|_| io::Error::other("raw relay thread died at start"))?;
        let mut relay = RawRelay {
            targets,
            tid,
            counters,
            stop,
            waker,
            thread: Some(thread),
        };
        if cpu.is_some() {
            // Surface a pinning failure now rather than at stop().
            std::thread::sleep(Duration::from_millis(1));
            if relay.thread.as_ref().is_some_and(|t| t.is_finished()) {
                return Err(relay
                    .shutdown()
                    .err()
                    .unwrap_or_else(|| io::Error::other("raw relay thread exited at start")));
            }
        }
        Ok(relay)
    }

    /// The ports of every call.
    pub fn targets(&self) -> Vec<CallTarget> {
        self.targets.clone()
    }

    /// Linux TID of the relay thread (for `/proc/self/task/<tid>/stat`).
    pub fn thread_id(&self) -> i32 {
        self.tid
    }

    /// Datagrams forwarded so far (updated after every batch of readiness events).
    pub fn packets_relayed(&self) -> u64 {
        self.counters.relayed.load(Ordering::Relaxed)
    }

    /// Datagrams received but not forwarded: the paired port had not latched a peer yet, or
    /// the kernel refused the send.
    pub fn packets_dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// CPU time used by the relay thread so far (nanosecond resolution).
    pub fn cpu_time(&self) -> io::Result<Duration> {
        procfs::thread_cpu_time_precise(self.tid)
    }

    /// Stops the relay thread, closes the ports, and reports an I/O error the thread hit.
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.stop.store(true, Ordering::Release);
        self.waker.wake()?;
        thread
            .join()
            .map_err(|_| io::Error::other("raw relay thread panicked"))?
    }
}

impl Drop for RawRelay {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

impl Relay for RawRelay {
    fn name(&self) -> &str {
        "raw"
    }

    fn targets(&self) -> Vec<CallTarget> {
        RawRelay::targets(self)
    }

    fn cpu_time(&self) -> io::Result<Duration> {
        RawRelay::cpu_time(self)
    }

    fn packets_relayed(&self) -> u64 {
        RawRelay::packets_relayed(self)
    }

    fn stop(self: Box<Self>) {
        if let Err(e) = RawRelay::stop(*self) {
            eprintln!("raw relay: {e}");
        }
    }
}

/// The relay thread: wait for readable sockets; drain each with `recvmmsg`, latching its peer
/// from the first datagram; forward the batch out of the paired socket with `sendmmsg`.
fn relay_loop(
    mut poll: Poll,
    sockets: &[UdpSocket],
    counters: &Counters,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut events = Events::with_capacity(1024);
    let mut batch = RecvBatch::new(BATCH);
    // peers[i]: the address latched from the first datagram received on socket i.
    let mut peers: Vec<Option<KernelAddr>> = vec![None; sockets.len()];
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if stop.load(Ordering::Acquire) {
            return Ok(());
        }
        let (mut relayed, mut dropped) = (0u64, 0u64);
        for ev in events.iter() {
            let i = ev.token().0;
            if i >= sockets.len() {
                continue; // the waker
            }
            let mut errors = 0;
            loop {
                let got = match batch.recv(sockets[i].as_fd()) {
                    Ok(0) => break,
                    Ok(n) => n,
                    // A pending socket error (e.g. from an ICMP message) is reported once
                    // and cleared; datagrams may still be queued behind it, and mio's
                    // readiness is edge-triggered, so keep draining (but not forever).
                    Err(_) => {
                        errors += 1;
                        if errors > 8 {
                            break;
                        }
                        continue;
                    }
                };
                if peers[i].is_none() {
                    peers[i] = Some(*batch.source(0));
                }
                let pair = i ^ 1;
                let sent = match &peers[pair] {
                    Some(dest) => batch.forward(sockets[pair].as_fd(), dest),
                    None => 0,
                };
                relayed += sent as u64;
                dropped += (got - sent) as u64;
                if got < batch.capacity() {
                    break; // recvmmsg stopped early: the queue is empty
                }
            }
        }
        counters.relayed.fetch_add(relayed, Ordering::Relaxed);
        counters.dropped.fetch_add(dropped, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, UdpSocket};

    #[test]
    fn relays_both_ways_after_latching() {
        let relay = RawRelay::start(2, IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        let t = relay.targets()[1];
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&a, &b] {
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        }
        // b latches first; a's packet is then forwarded to b, and b's reply to a.
        b.send_to(b"hello from b", t.b_port).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        a.send_to(b"hello from a", t.a_port).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = b.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"hello from a"[..], t.b_port));
        b.send_to(b"reply", t.b_port).unwrap();
        let (n, from) = a.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"reply"[..], t.a_port));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(relay.packets_relayed(), 2);
        assert_eq!(relay.packets_dropped(), 1); // b's first packet: a not latched yet
        assert!(relay.thread_id() > 0);
        assert!(relay.cpu_time().is_ok());
        relay.stop().unwrap();
    }

    #[test]
    fn pinned_start_and_boxed_stop() {
        let relay = RawRelay::start_pinned(1, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(0)).unwrap();
        let boxed: Box<dyn Relay> = Box::new(relay);
        assert_eq!(boxed.name(), "raw");
        assert_eq!(boxed.targets().len(), 1);
        boxed.stop();
    }
}
