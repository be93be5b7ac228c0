//! Tandem's automatic call distributor (ACD).
//!
//! A pure state machine with time injected: it never reads a clock. Production call control
//! and the simulator drive it the same way.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
