//! Finding where each ng message ends on a TCP stream, incrementally.
//!
//! An ng message is a cookie, a space and one bencoded value; on TCP messages follow each
//! other (whitespace between them is allowed). A message may arrive in many pieces, so the
//! framer keeps its place between reads: it tracks the nesting depth and the length of the
//! string it is inside, skips string bodies without looking at them, and never goes back
//! over bytes it has scanned. Only once a message is complete is it parsed, once, by the
//! total bencode parser. A 900 KB message in 240-byte pieces costs one pass, not one
//! re-parse per piece.

use thiserror::Error;

/// Longest cookie accepted (as the datagram parser).
const MAX_COOKIE: usize = 256;
/// Deepest nesting the framer follows; the parser's own, lower limit gives the exact error.
const MAX_DEPTH: u32 = 64;
/// Digits of an integer, sign included.
const MAX_INT_DIGITS: u8 = 21;

/// Why a byte stream is not a sequence of ng messages. The stream cannot continue after
/// one: its framing is lost.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A message longer than the limit.
    #[error("message longer than {0} bytes")]
    TooLarge(usize),
    /// An empty cookie, or one longer than 256 bytes.
    #[error("no cookie, or a cookie longer than 256 bytes")]
    BadCookie,
    /// A byte that cannot continue a bencoded value.
    #[error("byte {byte:#04x} cannot continue bencode at offset {at} of the message")]
    Unexpected {
        /// The byte.
        byte: u8,
        /// Its offset from the start of the message.
        at: usize,
    },
    /// Nested deeper than any ng message.
    #[error("nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scan {
    /// Between messages (whitespace is skipped).
    Gap,
    /// Inside the cookie.
    Cookie,
    /// Where a value (or, inside a list or dictionary, its `e`) starts.
    Value,
    /// Inside `i…e`.
    Int { digits: u8 },
    /// Inside a string's length.
    Len { value: u64 },
    /// Inside a string's bytes.
    Body { remaining: u64 },
}

/// Splits a byte stream into ng messages.
pub struct Framer {
    buf: Vec<u8>,
    /// Where the current message starts in `buf`.
    start: usize,
    /// Bytes of `buf` already scanned.
    pos: usize,
    scan: Scan,
    depth: u32,
    cookie_len: usize,
    max: usize,
    scanned: u64,
}

impl Framer {
    /// A framer accepting messages of up to `max` bytes.
    pub fn new(max: usize) -> Framer {
        Framer {
            buf: Vec::new(),
            start: 0,
            pos: 0,
            scan: Scan::Gap,
            depth: 0,
            cookie_len: 0,
            max,
            scanned: 0,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, if the bytes so far hold one. Scanning resumes where
    /// the last call stopped.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            let mut complete = false;
            match self.scan {
                Scan::Gap if b.is_ascii_whitespace() => self.advance(1),
                Scan::Gap => {
                    self.start = self.pos;
                    self.scan = Scan::Cookie;
                }
                Scan::Cookie if b == b' ' => {
                    self.cookie_len = self.pos - self.start;
                    if self.cookie_len == 0 {
                        return Err(FrameError::BadCookie);
                    }
                    self.advance(1);
                    self.scan = Scan::Value;
                }
                Scan::Cookie => {
                    if self.pos - self.start >= MAX_COOKIE {
                        return Err(FrameError::BadCookie);
                    }
                    self.advance(1);
                }
                Scan::Value => match b {
                    b'i' => {
                        self.advance(1);
                        self.scan = Scan::Int { digits: 0 };
                    }
                    b'l' | b'd' => {
                        self.depth += 1;
                        if self.depth > MAX_DEPTH {
                            return Err(FrameError::TooDeep);
                        }
                        self.advance(1);
                    }
                    b'0'..=b'9' => self.scan = Scan::Len { value: 0 },
                    b'e' if self.depth > 0 => {
                        self.depth -= 1;
                        self.advance(1);
                        complete = true;
                    }
                    _ => return Err(self.unexpected(b)),
                },
                Scan::Int { digits } => {
                    self.advance(1);
                    match b {
                        b'e' => complete = true,
                        b'-' | b'0'..=b'9' if digits < MAX_INT_DIGITS => {
                            self.scan = Scan::Int { digits: digits + 1 };
                        }
                        _ => return Err(self.unexpected(b)),
                    }
                }
                Scan::Len { value } => match b {
                    b'0'..=b'9' => {
                        let value = value * 10 + u64::from(b - b'0');
                        if value > self.max as u64 {
                            return Err(FrameError::TooLarge(self.max));
                        }
                        self.advance(1);
                        self.scan = Scan::Len { value };
                    }
                    b':' => {
                        self.advance(1);
                        self.scan = Scan::Body { remaining: value };
                        complete = value == 0;
                    }
                    _ => return Err(self.unexpected(b)),
                },
                Scan::Body { remaining } => {
                    // The string's bytes are skipped in one step, however many arrived.
                    let take = remaining.min((self.buf.len() - self.pos) as u64);
                    self.advance(take as usize);
                    self.scan = Scan::Body {
                        remaining: remaining - take,
                    };
                    complete = take == remaining;
                }
            }
            if self.pos - self.start.min(self.pos) > self.max && self.scan != Scan::Gap {
                return Err(FrameError::TooLarge(self.max));
            }
            if complete {
                self.scan = Scan::Value;
                if self.depth == 0 {
                    return Ok(Some(self.take_message()));
                }
            }
        }
        if self.scan == Scan::Gap {
            // Only whitespace is buffered: drop it.
            self.buf.clear();
            self.pos = 0;
            self.start = 0;
        }
        Ok(None)
    }

    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.scanned += n as u64;
    }

    fn unexpected(&self, byte: u8) -> FrameError {
        FrameError::Unexpected {
            byte,
            at: self.pos - self.start,
        }
    }

    fn take_message(&mut self) -> Vec<u8> {
        let end = self.pos;
        let msg = if self.start == 0 && end == self.buf.len() {
            std::mem::take(&mut self.buf)
        } else {
            let m = self.buf[self.start..end].to_vec();
            self.buf.drain(..end);
            m
        };
        self.start = 0;
        self.pos = 0;
        self.scan = Scan::Gap;
        self.depth = 0;
        self.cookie_len = 0;
        msg
    }

    /// Whether part of a message is buffered (its end has not arrived).
    pub fn in_message(&self) -> bool {
        self.scan != Scan::Gap || self.pos < self.buf.len()
    }

    /// The cookie of the message being read, once its space has arrived.
    pub fn cookie(&self) -> Option<&[u8]> {
        (self.cookie_len > 0).then(|| &self.buf[self.start..self.start + self.cookie_len])
    }

    /// Bytes buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes scanned since the framer was made. Every byte is scanned once, so this equals
    /// the bytes pushed and framed: the evidence that nothing is re-parsed.
    pub fn scanned(&self) -> u64 {
        self.scanned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bencode::Value;
    use crate::ng;
    use proptest::prelude::*;

    fn all(f: &mut Framer) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut out = Vec::new();
        while let Some(m) = f.next_message()? {
            out.push(m);
        }
        Ok(out)
    }

    #[test]
    fn splits_messages_and_skips_the_whitespace_between() {
        let mut f = Framer::new(1 << 20);
        f.push(b"a d7:command4:pinge\r\n b d4:listli1ei-2e3:xyzd0:0:eee  c i5e");
        let msgs = all(&mut f).unwrap();
        assert_eq!(
            msgs,
            vec![
                b"a d7:command4:pinge".to_vec(),
                b"b d4:listli1ei-2e3:xyzd0:0:eee".to_vec(),
                b"c i5e".to_vec()
            ]
        );
        assert!(!f.in_message());
        f.push(b"d d3:sdp");
        assert_eq!(f.next_message(), Ok(None));
        assert!(f.in_message());
        assert_eq!(f.cookie(), Some(&b"d"[..]));
        f.push(b"3:v=0e e x");
        assert_eq!(f.next_message(), Ok(Some(b"d d3:sdp3:v=0e".to_vec())));
        // "e" is a cookie; "x" cannot start a value.
        assert_eq!(
            f.next_message(),
            Err(FrameError::Unexpected { byte: b'x', at: 2 })
        );
    }

    #[test]
    fn a_large_message_in_small_pieces_is_scanned_once() {
        let big = Value::dict()
            .with("command", Value::str("ping"))
            .with("pad", Value::Bytes(vec![b'x'; 900_000]));
        let mut msg = b"big ".to_vec();
        big.encode(&mut msg);
        let mut f = Framer::new(1 << 20);
        let mut got = Vec::new();
        for piece in msg.chunks(240) {
            f.push(piece);
            got.extend(all(&mut f).unwrap());
        }
        assert_eq!(got, vec![msg.clone()]);
        assert_eq!(f.scanned(), msg.len() as u64);
        assert!(ng::parse_datagram(&got[0]).is_ok());
    }

    #[test]
    fn hostile_streams_are_refused() {
        for (bytes, want) in [
            (&b" x"[..], None),
            (b"c x", Some(FrameError::Unexpected { byte: b'x', at: 2 })),
            (b"c i12345678901234567890123e", None),
            (b"c 99999999999:", Some(FrameError::TooLarge(1000))),
            (b"c e", Some(FrameError::Unexpected { byte: b'e', at: 2 })),
        ] {
            let mut f = Framer::new(1000);
            f.push(bytes);
            let r = all(&mut f);
            match want {
                Some(e) => assert_eq!(r, Err(e), "{bytes:?}"),
                None => assert!(r.is_err() || r == Ok(vec![]), "{bytes:?}"),
            }
        }
        let mut f = Framer::new(1000);
        f.push(&[b'c'; 300]);
        assert_eq!(all(&mut f), Err(FrameError::BadCookie));
        let mut f = Framer::new(1000);
        f.push(b"c ");
        f.push(&[b'l'; 100]);
        assert_eq!(all(&mut f), Err(FrameError::TooDeep));
        let mut f = Framer::new(1000);
        f.push(b"c d3:pad2000:");
        f.push(&[b'x'; 1000]);
        assert_eq!(all(&mut f), Err(FrameError::TooLarge(1000)));
        // Whitespace alone is not kept.
        let mut f = Framer::new(1000);
        f.push(&[b' '; 5000]);
        assert_eq!(all(&mut f), Ok(vec![]));
        assert_eq!((f.buffered(), f.in_message()), (0, false));
    }

    fn message() -> impl Strategy<Value = Vec<u8>> {
        ("[a-z0-9_]{1,12}", crate::bencode::tests::value()).prop_map(|(cookie, v)| {
            let mut m = cookie.into_bytes();
            m.push(b' ');
            v.encode(&mut m);
            m
        })
    }

    proptest! {
        #[test]
        fn any_chunking_yields_the_messages_sent(
            msgs in proptest::collection::vec(message(), 1..6),
            gaps in proptest::collection::vec(0usize..3, 6),
            cuts in proptest::collection::vec(1usize..50, 1..40),
        ) {
            let mut stream = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                stream.extend(std::iter::repeat_n(b'\n', gaps[i]));
                stream.extend_from_slice(m);
            }
            let mut f = Framer::new(1 << 20);
            let mut got = Vec::new();
            let (mut at, mut i) = (0, 0);
            while at < stream.len() {
                let n = cuts[i % cuts.len()].min(stream.len() - at);
                f.push(&stream[at..at + n]);
                got.extend(all(&mut f).unwrap());
                at += n;
                i += 1;
            }
            prop_assert_eq!(got, msgs);
            prop_assert_eq!(f.scanned(), stream.len() as u64);
        }

        #[test]
        fn any_bytes_frame_the_same_in_any_pieces(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            cut in 1usize..40,
        ) {
            let mut whole = Framer::new(200);
            whole.push(&bytes);
            let a = all(&mut whole);
            let mut pieces = Framer::new(200);
            let mut b = Ok(Vec::new());
            for p in bytes.chunks(cut) {
                pieces.push(p);
                match (&mut b, all(&mut pieces)) {
                    (Ok(v), Ok(more)) => v.extend(more),
                    (Ok(_), Err(e)) => { b = Err(e); break; }
                    (Err(_), _) => break,
                }
            }
            prop_assert_eq!(a.is_ok(), b.is_ok());
            if let (Ok(a), Ok(b)) = (a, b) {
                prop_assert_eq!(a, b);
            }
        }
    }
}
