//! Drivers: what owns the sockets and the clock around the sans-I/O shards. The threaded
//! engine runs each shard on a thread ([`thread`]) with the [`mio`] or io_uring driver; the
//! in-memory engine ([`memory`]) runs them all on a simulated network and a virtual clock.

pub(crate) mod histogram;
pub(crate) mod memory;
pub(crate) mod mio;
pub(crate) mod thread;
#[cfg(target_os = "linux")]
mod uring;

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use thread::{ShardThread, Wake};

/// Starts a shard thread on io_uring, or reports that this platform has none.
pub(crate) fn spawn_uring(st: ShardThread) -> io::Result<(JoinHandle<()>, Arc<dyn Wake>)> {
    #[cfg(target_os = "linux")]
    {
        uring::spawn(st)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = st;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "io_uring needs Linux",
        ))
    }
}
