//! Drivers: what owns the sockets and the clock around the sans-I/O shards.

pub mod memory;
