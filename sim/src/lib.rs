//! Tandem's capacity lab: a deterministic discrete-event call-centre simulator.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
