//! Tandem's media codecs and parsers.
//!
//! Everything here is pure: functions over byte slices and sample buffers, no sockets, no
//! clocks. The only I/O is the WAV reader and writer, which work over any
//! `Read`/`Write`/`Seek`. Every parser is total: any byte string yields `Ok` or a typed error.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dtmf;
pub mod g711;
pub mod plc;
pub mod progress;
pub mod rtcp;
pub mod rtp;
pub mod seq;
pub mod sit;
pub mod telephone_event;
pub mod tone;
pub mod vad;
pub mod wav;
