//! Tandem's benchmark support: the capacity harness and the regression gate.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
