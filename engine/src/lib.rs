//! Tandem's media switching engine: shards, channels, jitter buffers, bridges and drivers.
//!
//! The core is sans-I/O: shards take received datagrams, commands and `now`, and return
//! datagrams to send, events and their next deadline. Drivers own sockets and clocks.
#![deny(unsafe_code)]
#![warn(missing_docs)]
