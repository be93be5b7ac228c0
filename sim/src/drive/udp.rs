//! The UDP transport: the threaded engine on real sockets on 127.0.0.1, in real time.
//!
//! The engine runs its shard threads (mio driver) as in production; every simulated phone
//! is a real non-blocking UDP socket on 127.0.0.1 registered with one `mio` poll, so the
//! driver sleeps until the next packet is due or a datagram arrives and stamps each datagram
//! when it reads it (latency then includes the wake-up, tens of microseconds). Media time is
//! wall time since the transport started.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use tandem_engine::{Engine, MediaEngine};

use super::DriveError;
use super::transport::{EngineFigures, Net, ShardFigures};

/// Largest datagram a phone reads.
const MAX_DATAGRAM: usize = 2048;

struct Endpoint {
    socket: UdpSocket,
    addr: SocketAddr,
    inbox: VecDeque<(u64, SocketAddr, Vec<u8>)>,
}

/// The UDP transport.
pub struct UdpNet {
    engine: Engine,
    poll: Poll,
    events: Events,
    endpoints: Vec<Option<Endpoint>>,
    free: Vec<usize>,
    start: Instant,
    max_lag_us: u64,
    buf: Vec<u8>,
}

impl UdpNet {
    /// Starts an engine of `shards` shards on 127.0.0.1 with local ports `ports`.
    pub fn new(shards: usize, ports: (u16, u16), seed: u64) -> Result<UdpNet, DriveError> {
        let engine = Engine::builder()
            .shards(shards.max(1))
            .bind(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .port_range(ports.0, ports.1)
            .queue_capacity(65_536)
            .seed(seed)
            .build()?;
        Ok(UdpNet {
            engine,
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            endpoints: Vec::new(),
            free: Vec::new(),
            start: Instant::now(),
            max_lag_us: 0,
            buf: vec![0; MAX_DATAGRAM],
        })
    }

    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// Waits up to `timeout` for datagrams and moves them into the phones' inboxes.
    fn pump(&mut self, timeout: Duration) {
        // An interrupted wait returns early; the caller's loop waits again.
        if self.poll.poll(&mut self.events, Some(timeout)).is_err() {
            return;
        }
        let ready: Vec<usize> = self.events.iter().map(|e| e.token().0).collect();
        for ep in ready {
            while let Some(Some(end)) = self.endpoints.get_mut(ep) {
                match end.socket.recv_from(&mut self.buf) {
                    Ok((n, from)) => {
                        let at = self.start.elapsed().as_micros() as u64;
                        end.inbox.push_back((at, from, self.buf[..n].to_vec()));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
    }
}

/// CPU time of thread `tid` of this process, from `/proc` (scheduler statistics).
fn thread_cpu_s(tid: i32) -> Option<f64> {
    tandem_udp::thread_cpu_time_precise(tid)
        .ok()
        .map(|d| d.as_secs_f64())
}

impl Net for UdpNet {
    fn name(&self) -> &'static str {
        "udp"
    }

    fn engine(&mut self) -> &mut dyn MediaEngine {
        &mut self.engine
    }

    fn open_endpoint(&mut self) -> Result<usize, DriveError> {
        let std_socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_socket.set_nonblocking(true)?;
        let addr = std_socket.local_addr()?;
        let mut socket = UdpSocket::from_std(std_socket);
        let ep = match self.free.pop() {
            Some(i) => i,
            None => {
                self.endpoints.push(None);
                self.endpoints.len() - 1
            }
        };
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut socket, Token(ep), Interest::READABLE)
        {
            self.free.push(ep);
            return Err(e.into());
        }
        self.endpoints[ep] = Some(Endpoint {
            socket,
            addr,
            inbox: VecDeque::new(),
        });
        Ok(ep)
    }

    fn endpoint_addr(&self, ep: usize) -> SocketAddr {
        self.endpoints[ep].as_ref().expect("open endpoint").addr
    }

    fn close_endpoint(&mut self, ep: usize) {
        if let Some(mut end) = self.endpoints[ep].take() {
            let _ = self.poll.registry().deregister(&mut end.socket);
            self.free.push(ep);
        }
    }

    fn send(&mut self, ep: usize, to: SocketAddr, data: &[u8]) {
        if let Some(Some(end)) = self.endpoints.get(ep) {
            // A full socket buffer drops the datagram, as a congested link would; the
            // receiving phone counts the loss.
            let _ = end.socket.send_to(data, to);
        }
    }

    fn run_until(&mut self, t_us: u64) {
        loop {
            let now = self.now_us();
            if now >= t_us {
                self.max_lag_us = self.max_lag_us.max(now - t_us);
                self.pump(Duration::ZERO);
                return;
            }
            self.pump(Duration::from_micros(t_us - now));
        }
    }

    fn drain(&mut self, ep: usize, f: &mut dyn FnMut(u64, SocketAddr, &[u8])) {
        let Some(Some(end)) = self.endpoints.get_mut(ep) else {
            return;
        };
        while let Some((at, from, data)) = end.inbox.pop_front() {
            f(at, from, &data);
        }
    }

    fn figures(&self) -> EngineFigures {
        EngineFigures {
            shards: self
                .engine
                .thread_stats()
                .iter()
                .map(|s| ShardFigures {
                    ticks: None,
                    ticks_missed: s.ticks_missed,
                    datagrams_in: s.datagrams_in,
                    datagrams_out: s.datagrams_out,
                    cpu_s: thread_cpu_s(s.tid),
                })
                .collect(),
            network_lost: 0,
            // Only commands take the caller's time; the conductor counts those.
            engine_busy_s: 0.0,
        }
    }

    fn max_lag_us(&self) -> u64 {
        self.max_lag_us
    }
}
