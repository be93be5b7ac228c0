//! Drivers: what owns the sockets and the clock around the sans-I/O shards.

pub mod common;
pub mod memory;
pub mod mio;
#[cfg(target_os = "linux")]
pub mod uring;

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use common::{ShardThread, Wake};

/// Starts a shard thread on io_uring, or reports that this platform has none.
pub fn spawn_uring(st: ShardThread) -> io::Result<(JoinHandle<()>, Arc<dyn Wake>)> {
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
