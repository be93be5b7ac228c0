//! Tandem's batched UDP I/O and the Linux calls around it: the one home of that `unsafe`.
//!
//! - [`RecvBatch`] and [`SendBatch`]: `recvmmsg` into preallocated buffers (with the
//!   kernel's receive time stamps if asked: [`enable_rx_timestamps`]) and `sendmmsg` of
//!   caller-owned datagrams, one system call per batch, no allocation per call.
//! - [`addr`]: socket addresses in the kernel's form and back ([`KernelAddr`]), the one
//!   conversion, also used by the engine's io_uring driver for its own buffers.
//! - [`clock`]: `CLOCK_MONOTONIC` and `CLOCK_REALTIME` in nanoseconds, and the conversion
//!   between them that receive time stamps need.
//! - [`thread`]: the calling thread's TID, CPU pinning and timer slack.
//! - [`procfs`]: CPU time of threads, processes and the machine from `/proc`, and the
//!   open-files limit.
//!
//! Everything here is Linux (the BSDs have `recvmmsg` too, but nothing else here is tested
//! there). Every `unsafe` block states why it is sound in a `// SAFETY:` comment; the
//! engine's io_uring driver keeps its ring and buffer memory to itself.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

pub mod addr;
mod batch;
pub mod clock;
pub mod procfs;
pub mod thread;
mod timestamp;

pub use addr::KernelAddr;
pub use batch::{MAX_DATAGRAM, RecvBatch, SendBatch};
pub use procfs::{raise_open_files_limit, thread_cpu_time_precise};
pub use thread::current_tid;
pub use timestamp::enable_rx_timestamps;
