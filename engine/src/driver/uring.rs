//! The io_uring driver (being written).
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::common::{ShardThread, Wake};

/// Starts a shard thread on io_uring.
pub fn spawn(st: ShardThread) -> io::Result<(JoinHandle<()>, Arc<dyn Wake>)> {
    let _ = st;
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "io_uring driver not built yet",
    ))
}
