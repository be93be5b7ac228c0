//! The driver's side of the kernel fast path: it owns the forwarder and carries out what
//! the shard asks, answering each request.

use std::sync::Arc;

use tandem_kfwd::{KernelForwarder, StreamHandle};

use super::{KernelClock, OffloadRequest};
use crate::shard::Shard;
use crate::time::Micros;

/// Rounds of requests one turn may carry out (a removal may let a held-back command run,
/// which may ask for more removals).
const MAX_ROUNDS: usize = 4;

/// Carries out a shard's requests on a kernel forwarder shared by every shard.
pub(crate) struct Executor {
    fwd: Arc<KernelForwarder>,
}

impl Executor {
    pub fn new(fwd: Arc<KernelForwarder>) -> Executor {
        Executor { fwd }
    }

    /// Carries out everything the shard asked for; `now` reads the shard's clock.
    pub fn run(&self, shard: &mut Shard, now: impl Fn() -> Micros) {
        for _ in 0..MAX_ROUNDS {
            let requests = shard.take_offload_requests();
            if requests.is_empty() {
                return;
            }
            for r in requests {
                let clock = KernelClock {
                    now: now(),
                    mono_ns: tandem_kfwd::monotonic_ns(),
                };
                match r {
                    OffloadRequest::Add { channel, plan } => {
                        let mut rule = plan.rule;
                        if let (Some(out), Some(at)) = (rule.output_position.as_mut(), plan.sent_at)
                        {
                            out.at_ns = clock.to_kernel(at);
                        }
                        let result = self
                            .fwd
                            .add_stream(&rule)
                            .map(StreamHandle::to_bits)
                            .map_err(|e| e.to_string());
                        shard.offload_added(clock.now, channel, result);
                    }
                    OffloadRequest::Remove { channel, stream } => {
                        let result = self
                            .fwd
                            .remove_stream(StreamHandle::from_bits(stream))
                            .map_err(|e| e.to_string());
                        shard.offload_removed(clock, channel, result);
                    }
                    OffloadRequest::Read { channel, stream } => {
                        let result = self
                            .fwd
                            .counters(StreamHandle::from_bits(stream))
                            .map_err(|e| e.to_string());
                        shard.offload_read(clock, channel, result);
                    }
                }
            }
            shard.offload_settled(now());
        }
    }
}

/// Opens the forwarder for media bound to `bind` as `mode` asks: `Ok(None)` when it is off
/// or (under `Auto`) unavailable, with the reason logged; an error under `On`.
pub(crate) fn open(
    mode: super::KernelForwarding,
    bind: std::net::IpAddr,
) -> Result<Option<Arc<KernelForwarder>>, String> {
    use super::KernelForwarding;
    if mode == KernelForwarding::Off {
        tracing::info!("kernel forwarding off");
        return Ok(None);
    }
    let opened = match bind {
        std::net::IpAddr::V4(ip) if !ip.is_unspecified() => {
            let interfaces = tandem_kfwd::interfaces_for(ip);
            let names: Vec<&str> = interfaces.iter().map(String::as_str).collect();
            KernelForwarder::open(&names).map_err(|e| e.to_string())
        }
        other => Err(format!(
            "kernel forwarding needs media bound to one IPv4 address (bound to {other})"
        )),
    };
    match opened {
        Ok(fwd) => {
            tracing::info!(interfaces = ?fwd.interfaces(), capacity = fwd.capacity(), "kernel forwarding on");
            Ok(Some(Arc::new(fwd)))
        }
        Err(reason) if mode == KernelForwarding::Auto => {
            tracing::info!(%reason, "kernel forwarding unavailable; forwarding in userspace");
            Ok(None)
        }
        Err(reason) => Err(reason),
    }
}
