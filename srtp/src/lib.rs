//! SRTP and SRTCP (RFC 3711) for Tandem's media path, keyed by SDES (RFC 4568).
//!
//! - [`SendContext`] and [`RecvContext`] protect and unprotect RTP and RTCP packets **in place**
//!   in the caller's buffer: no allocation, no clock, no socket. They keep per-SSRC state (the
//!   rollover counter, replay windows of [`REPLAY_WINDOW`] packets for SRTP and for SRTCP, the
//!   SRTCP index) and check authentication tags in constant time.
//! - [`Suite`] lists the suites: AES-128, -192 and -256 in counter mode with 80- or 32-bit
//!   HMAC-SHA1 tags (SRTCP always uses the 80-bit tag). Keys are derived with key derivation
//!   rate 0; packets may carry an MKI.
//! - [`sdes`] parses and prints `a=crypto` lines (total: any text gives a value or a typed
//!   error), and [`negotiate`] answers an offer or checks an answer, refusing by name the
//!   session parameters that are not implemented.
//!
//! A [`SendContext`] protects what one endpoint sends; a [`RecvContext`] unprotects what it
//! receives from its peer. SDES keys each direction with its own master key, so a leg has one
//! of each. A context serves every SSRC of its direction (one master key may cover several
//! SSRCs, each with its own index): it keeps a table keyed by SSRC, of bounded size
//! ([`DEFAULT_MAX_SSRCS`] unless given), allocated when the context is made. A receiving
//! context adds an SSRC only after one of its packets authenticated, so strangers cannot fill
//! the table; when it is full, the least recently used SSRC is forgotten (if that SSRC comes
//! back, its replay history starts afresh). A sending context refuses a new SSRC instead
//! ([`SrtpError::TooManySsrcs`]), because forgetting a sender's index would reuse key stream.
//!
//! The cipher, MAC and hash are RustCrypto's `aes`, `ctr`, `hmac` and `sha1`; comparisons of
//! tags use `subtle`.
//!
//! ```
//! use tandem_srtp::{Keying, RecvContext, SendContext, Suite};
//! # use rand::SeedableRng;
//! # let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let keying = Keying::generate(Suite::AesCm128HmacSha1_80, &mut rng);
//! let (mut tx, mut rx) = (SendContext::new(&keying), RecvContext::new(&keying));
//! let mut buf = [0u8; 200];
//! buf[..12].copy_from_slice(&[0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 42]);
//! buf[12..172].fill(0xFF);
//! let n = tx.protect_rtp(&mut buf, 172)?;
//! assert_eq!(n, 182);
//! let m = rx.unprotect_rtp(&mut buf[..n])?;
//! assert_eq!(&buf[12..m], &[0xFF; 160][..]);
//! # Ok::<(), tandem_srtp::SrtpError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod context;
mod error;
mod kdf;
mod key;
pub mod negotiate;
mod replay;
pub mod sdes;
mod streams;
mod suite;

pub use context::{DEFAULT_MAX_SSRCS, RecvContext, SendContext};
pub use error::{KeyError, SrtpError};
pub use key::{Keying, MAX_LIFETIME, MAX_MASTER_KEY_LEN, MAX_MKI_LEN, MasterKey, Mki};
pub use replay::REPLAY_WINDOW;
pub use suite::{MASTER_SALT_LEN, SESSION_AUTH_KEY_LEN, SRTCP_TAG_LEN, Suite};
