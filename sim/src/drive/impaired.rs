//! Network impairment over any transport: [`Impaired`] wraps a [`Net`] and puts a
//! simulated link (delay, jitter, loss: [`NetworkConditions`]) between every phone and the
//! engine, in both directions, in the manner of smoltcp's fault injector.
//!
//! A datagram a phone sends is held until its arrival time and then handed to the inner
//! transport (or dropped); a datagram the inner transport delivers to a phone is held the
//! same way before the phone sees it, stamped with its new arrival time. The fates come
//! from the engine's own [`Impairment`], one seeded generator per direction, so a run on the
//! memory transport stays a function of its seed. The UDP transport uses it to impair
//! loopback; the memory transport has the same links built in.

use std::collections::VecDeque;
use std::net::SocketAddr;

use tandem_engine::netsim::{DelayLine, Impairment};
use tandem_engine::{MediaEngine, Micros, NetworkConditions};

use super::DriveError;
use super::transport::{EngineFigures, Net};

/// A datagram held on its way to the engine.
struct Outbound {
    ep: usize,
    to: SocketAddr,
    data: Vec<u8>,
}

/// A transport with impaired links between the phones and the engine.
pub struct Impaired<N> {
    inner: N,
    up: Impairment,
    down: Impairment,
    outbound: DelayLine<Outbound>,
    /// Per endpoint: datagrams on their way to the phone, by arrival.
    inbound: Vec<DelayLine<(SocketAddr, Vec<u8>)>>,
    now_us: u64,
    scratch: VecDeque<(u64, SocketAddr, Vec<u8>)>,
}

impl<N: Net> Impaired<N> {
    /// `inner` with links of `conditions`, their fates drawn from generators seeded by
    /// `seed`.
    pub fn new(inner: N, conditions: NetworkConditions, seed: u64) -> Impaired<N> {
        Impaired {
            inner,
            up: Impairment::new(conditions, seed ^ 0x7570),
            down: Impairment::new(conditions, seed ^ 0x646F_776E),
            outbound: DelayLine::default(),
            inbound: Vec::new(),
            now_us: 0,
            scratch: VecDeque::new(),
        }
    }

    /// Datagrams the links dropped, both directions.
    pub fn lost(&self) -> u64 {
        self.up.lost() + self.down.lost()
    }
}

impl<N: Net> Net for Impaired<N> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn engine(&mut self) -> &mut dyn MediaEngine {
        self.inner.engine()
    }

    fn open_endpoint(&mut self) -> Result<usize, DriveError> {
        let ep = self.inner.open_endpoint()?;
        if self.inbound.len() <= ep {
            self.inbound.resize_with(ep + 1, DelayLine::default);
        }
        Ok(ep)
    }

    fn endpoint_addr(&self, ep: usize) -> SocketAddr {
        self.inner.endpoint_addr(ep)
    }

    fn close_endpoint(&mut self, ep: usize) {
        if let Some(line) = self.inbound.get_mut(ep) {
            line.clear();
        }
        self.inner.close_endpoint(ep);
    }

    fn send(&mut self, ep: usize, to: SocketAddr, data: &[u8]) {
        if let Some(at) = self.up.arrival(Micros::from_us(self.now_us)) {
            let data = data.to_vec();
            self.outbound.push(at, Outbound { ep, to, data });
        }
    }

    fn run_until(&mut self, t_us: u64) {
        let t = Micros::from_us(t_us);
        while let Some((at, o)) = self.outbound.pop_due(t) {
            self.inner.run_until(at.as_us());
            // A phone that hung up meanwhile sends nothing.
            if self.inbound.get(o.ep).is_some() {
                self.inner.send(o.ep, o.to, &o.data);
            }
        }
        self.inner.run_until(t_us);
        self.now_us = self.now_us.max(t_us);
    }

    fn drain(&mut self, ep: usize, f: &mut dyn FnMut(u64, SocketAddr, &[u8])) {
        let scratch = &mut self.scratch;
        self.inner.drain(ep, &mut |at, from, data| {
            scratch.push_back((at, from, data.to_vec()))
        });
        let Some(line) = self.inbound.get_mut(ep) else {
            return;
        };
        for (at, from, data) in self.scratch.drain(..) {
            if let Some(arrival) = self.down.arrival(Micros::from_us(at)) {
                line.push(arrival, (from, data));
            }
        }
        while let Some((at, (from, data))) = line.pop_due(Micros::from_us(self.now_us)) {
            f(at.as_us(), from, &data);
        }
    }

    fn figures(&self) -> EngineFigures {
        let mut figures = self.inner.figures();
        figures.network_lost += self.lost();
        figures
    }

    fn max_lag_us(&self) -> u64 {
        self.inner.max_lag_us()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::transport::MemoryNet;
    use tandem_codecs::rtp::RtpHeader;
    use tandem_engine::{ChannelSpec, Command, GroupKey, RtcpMode};

    /// Two phones bridged through an in-memory engine on ideal links, impaired by the
    /// wrapper; returns (the arrival time of each packet the callee heard, µs; the net).
    fn call(conditions: NetworkConditions, packets: u32) -> (Vec<u64>, Impaired<MemoryNet>) {
        let inner = MemoryNet::new(1, NetworkConditions::IDEAL, 1);
        let mut net = Impaired::new(inner, conditions, 5);
        let (pa, pb) = (net.open_endpoint().unwrap(), net.open_endpoint().unwrap());
        let spec = |ep| ChannelSpec {
            remote: Some(net.endpoint_addr(ep)),
            rtcp: RtcpMode::Off,
            ..ChannelSpec::default()
        };
        let (sa, sb) = (spec(pa), spec(pb));
        let a = net.engine().create_channel(GroupKey(1), sa).unwrap();
        let b = net.engine().create_channel(GroupKey(1), sb).unwrap();
        net.engine()
            .command(Command::Bridge { a: a.id, b: b.id })
            .unwrap();
        let mut heard = Vec::new();
        for n in 0..packets {
            let mut pkt = Vec::new();
            RtpHeader {
                payload_type: 0,
                sequence: n as u16,
                timestamp: n * 160,
                ssrc: 7,
                ..RtpHeader::default()
            }
            .write(&mut pkt, &[0x55; 160])
            .unwrap();
            let t = u64::from(n) * 20_000;
            net.run_until(t);
            net.send(pa, a.local, &pkt);
            net.drain(pb, &mut |at, _, _| heard.push(at));
        }
        net.run_until(u64::from(packets) * 20_000 + 200_000);
        net.drain(pb, &mut |at, _, _| heard.push(at));
        (heard, net)
    }

    #[test]
    fn delay_is_added_each_way_and_loss_is_counted() {
        let (heard, net) = call(
            NetworkConditions {
                delay: Micros::from_ms(30),
                ..NetworkConditions::IDEAL
            },
            50,
        );
        assert_eq!((heard.len(), net.lost()), (50, 0));
        // 30 ms to the engine, which relays at once, and 30 ms back out.
        let want: Vec<u64> = (0..50).map(|n| n * 20_000 + 60_000).collect();
        assert_eq!(heard, want);
        let lossy = NetworkConditions {
            loss: 0.1,
            ..NetworkConditions::IDEAL
        };
        let (heard, net) = call(lossy, 2_000);
        // Every packet either arrived or was counted lost on one of the two links.
        assert_eq!(heard.len() as u64 + net.lost(), 2_000);
        // 1 - 0.9² = 19 % lost end to end; 4 standard deviations (35) either side.
        assert!((345..=415).contains(&net.lost()), "{}", net.lost());
        assert_eq!(net.figures().network_lost, net.lost());
    }
}
