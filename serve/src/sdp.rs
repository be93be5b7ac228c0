//! SDP (RFC 4566/8866) as a proxy needs it: parse, inspect the audio streams, rewrite
//! addresses, ports and attributes, print.
//!
//! Lines are kept as they came (type and text), in order, so everything Tandem does not
//! touch passes through unchanged. The parser is total: any text gives an [`Sdp`] or an
//! [`SdpError`] naming the line, never a panic.

use std::fmt::Write as _;
use std::net::IpAddr;

use thiserror::Error;

/// Largest SDP body accepted.
const MAX_LEN: usize = 64 * 1024;

/// Why a body is not usable SDP.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SdpError {
    /// Longer than 64 KiB.
    #[error("SDP body is larger than 64 KiB")]
    TooLarge,
    /// The first line is not `v=0`.
    #[error("SDP does not start with v=0")]
    NoVersion,
    /// A line that is not `<letter>=<text>`.
    #[error("SDP line {0} is not of the form x=...")]
    BadLine(usize),
    /// An `m=` line that cannot be parsed.
    #[error("SDP line {0}: malformed m= line")]
    BadMedia(usize),
    /// A `c=` or `o=` line with an address that cannot be parsed.
    #[error("SDP line {0}: malformed address")]
    BadAddress(usize),
}

/// One `x=text` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The type letter.
    pub kind: u8,
    /// Everything after `=`.
    pub text: String,
}

impl Line {
    /// A new line.
    pub fn new(kind: u8, text: impl Into<String>) -> Line {
        Line {
            kind,
            text: text.into(),
        }
    }

    /// For an `a=` line, its name and value (`a=rtpmap:0 PCMU/8000` → `("rtpmap", "0
    /// PCMU/8000")`, `a=sendrecv` → `("sendrecv", "")`).
    pub fn attribute(&self) -> Option<(&str, &str)> {
        if self.kind != b'a' {
            return None;
        }
        Some(self.text.split_once(':').unwrap_or((&self.text, "")))
    }
}

/// A media section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, `image`, ….
    pub kind: String,
    /// Transport port (0: disabled).
    pub port: u16,
    /// The `/<count>` after the port, if any.
    pub port_count: Option<u16>,
    /// Transport protocol (`RTP/AVP`, …).
    pub proto: String,
    /// Formats (payload types for RTP).
    pub formats: Vec<String>,
    /// The lines after `m=`.
    pub lines: Vec<Line>,
}

/// Stream direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    SendRecv,
    /// Only sends.
    SendOnly,
    /// Only receives.
    RecvOnly,
    /// Neither (hold).
    Inactive,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// A parsed session description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sdp {
    /// Session-level lines, from `v=` on.
    pub session: Vec<Line>,
    /// Media sections in order.
    pub media: Vec<Media>,
}

/// The address of a `c=` or `o=` line's text (`IN IP4 192.0.2.1`, `… IN IP6 ::1`).
fn address_of(text: &str) -> Option<IpAddr> {
    let mut it = text.split_whitespace().rev();
    let addr = it.next()?;
    let family = it.next()?;
    // A multicast c= may carry /ttl.
    let addr = addr.split('/').next()?;
    let ip: IpAddr = addr.parse().ok()?;
    match (family, ip) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Some(ip),
        _ => None,
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IP4" } else { "IP6" }
}

impl Sdp {
    /// Parses a body (CRLF or LF line ends).
    pub fn parse(text: &str) -> Result<Sdp, SdpError> {
        if text.len() > MAX_LEN {
            return Err(SdpError::TooLarge);
        }
        let mut session = Vec::new();
        let mut media: Vec<Media> = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.is_empty() {
                continue;
            }
            let n = i + 1;
            let b = raw.as_bytes();
            if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
                return Err(SdpError::BadLine(n));
            }
            let line = Line::new(b[0], &raw[2..]);
            if session.is_empty()
                && media.is_empty()
                && (line.kind != b'v' || line.text.trim() != "0")
            {
                return Err(SdpError::NoVersion);
            }
            match line.kind {
                b'm' => media.push(Self::media_line(&line.text).ok_or(SdpError::BadMedia(n))?),
                b'c' if address_of(&line.text).is_none() => return Err(SdpError::BadAddress(n)),
                b'o' if line.text.split_whitespace().count() != 6
                    || address_of(&line.text).is_none() =>
                {
                    return Err(SdpError::BadAddress(n));
                }
                _ => match media.last_mut() {
                    Some(m) => m.lines.push(line),
                    None => session.push(line),
                },
            }
        }
        if session.is_empty() {
            return Err(SdpError::NoVersion);
        }
        Ok(Sdp { session, media })
    }

    fn media_line(text: &str) -> Option<Media> {
        let mut it = text.split_whitespace();
        let kind = it.next()?.to_string();
        let port_field = it.next()?;
        let (port, count) = match port_field.split_once('/') {
            Some((p, c)) => (p.parse().ok()?, Some(c.parse().ok()?)),
            None => (port_field.parse().ok()?, None),
        };
        let proto = it.next()?.to_string();
        let formats: Vec<String> = it.map(str::to_string).collect();
        if formats.is_empty() {
            return None;
        }
        Some(Media {
            kind,
            port,
            port_count: count,
            proto,
            formats,
            lines: Vec::new(),
        })
    }

    /// The connection address of media `i` (its own `c=`, else the session's).
    pub fn connection(&self, i: usize) -> Option<IpAddr> {
        let m = self.media.get(i)?;
        m.lines
            .iter()
            .chain(&self.session)
            .find(|l| l.kind == b'c')
            .and_then(|l| address_of(&l.text))
    }

    /// The value of attribute `name` on media `i` (falling back to session level).
    pub fn attribute(&self, i: usize, name: &str) -> Option<&str> {
        let m = self.media.get(i)?;
        m.lines
            .iter()
            .chain(&self.session)
            .filter_map(Line::attribute)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The value of session-level attribute `name`.
    pub fn session_attribute(&self, name: &str) -> Option<&str> {
        self.session
            .iter()
            .filter_map(Line::attribute)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// Whether media `i` (or the session) has the flag attribute `name`.
    pub fn has_attribute(&self, i: usize, name: &str) -> bool {
        self.attribute(i, name).is_some()
    }

    /// The direction of media `i` (default sendrecv).
    pub fn direction(&self, i: usize) -> Direction {
        for d in [
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
            Direction::SendRecv,
        ] {
            if self.has_attribute(i, d.name()) {
                return d;
            }
        }
        Direction::SendRecv
    }

    /// The RTP encoding name of payload type `pt` in media `i` (from `a=rtpmap`, or the
    /// static table for 0 and 8).
    pub fn encoding(&self, i: usize, pt: &str) -> Option<String> {
        let m = self.media.get(i)?;
        for (name, value) in m.lines.iter().filter_map(Line::attribute) {
            if name == "rtpmap" {
                let (p, enc) = value.split_once(' ')?;
                if p == pt {
                    return Some(enc.trim().to_ascii_uppercase());
                }
            }
        }
        static_encoding(pt).map(str::to_string)
    }

    /// Points every connection line at `ip` and sets media `i`'s port.
    pub fn set_connection(&mut self, ip: IpAddr) {
        let text = format!("IN {} {ip}", family(ip));
        for l in self
            .session
            .iter_mut()
            .chain(self.media.iter_mut().flat_map(|m| m.lines.iter_mut()))
        {
            if l.kind == b'c' {
                l.text = text.clone();
            }
        }
        // Media without their own c= rely on the session's; make sure there is one.
        if !self.session.iter().any(|l| l.kind == b'c') {
            for m in &mut self.media {
                if !m.lines.iter().any(|l| l.kind == b'c') {
                    m.lines.insert(0, Line::new(b'c', text.clone()));
                }
            }
        }
    }

    /// Replaces the origin's address (`replace origin`).
    pub fn set_origin_address(&mut self, ip: IpAddr) {
        for l in self.session.iter_mut().filter(|l| l.kind == b'o') {
            let mut f: Vec<String> = l.text.split_whitespace().map(str::to_string).collect();
            if f.len() == 6 {
                f[4] = family(ip).to_string();
                f[5] = ip.to_string();
                l.text = f.join(" ");
            }
        }
    }

    /// Removes ICE attributes everywhere (`ICE=remove`).
    pub fn remove_ice(&mut self) {
        const ICE: [&str; 6] = [
            "candidate",
            "ice-ufrag",
            "ice-pwd",
            "ice-options",
            "end-of-candidates",
            "ice-lite",
        ];
        let keep = |l: &Line| !l.attribute().is_some_and(|(n, _)| ICE.contains(&n));
        self.session.retain(keep);
        for m in &mut self.media {
            m.lines.retain(keep);
        }
    }

    /// Removes attribute `name` from media `i`.
    pub fn remove_attribute(&mut self, i: usize, name: &str) {
        if let Some(m) = self.media.get_mut(i) {
            m.lines
                .retain(|l| l.attribute().is_none_or(|(n, _)| n != name));
        }
    }

    /// Sets (replacing any) attribute `name[:value]` on media `i`.
    pub fn set_attribute(&mut self, i: usize, name: &str, value: Option<&str>) {
        self.remove_attribute(i, name);
        if let Some(m) = self.media.get_mut(i) {
            let text = match value {
                Some(v) => format!("{name}:{v}"),
                None => name.to_string(),
            };
            m.lines.push(Line::new(b'a', text));
        }
    }

    /// Keeps only the formats in `keep` (in their order) on media `i`, dropping the rtpmap
    /// and fmtp lines of the others, and adds rtpmaps for dynamic ones that need them.
    pub fn set_formats(&mut self, i: usize, keep: &[(String, String)]) {
        let Some(m) = self.media.get_mut(i) else {
            return;
        };
        m.formats = keep.iter().map(|(pt, _)| pt.clone()).collect();
        m.lines.retain(|l| match l.attribute() {
            Some(("rtpmap" | "fmtp", v)) => {
                let pt = v.split_whitespace().next().unwrap_or("");
                keep.iter().any(|(p, _)| p == pt)
            }
            _ => true,
        });
        for (pt, enc) in keep {
            let has = m
                .lines
                .iter()
                .filter_map(Line::attribute)
                .any(|(n, v)| n == "rtpmap" && v.split_whitespace().next() == Some(pt));
            if !has {
                m.lines.push(Line::new(b'a', format!("rtpmap:{pt} {enc}")));
            }
        }
    }
}

/// The audio encodings of RFC 3551's static payload types (table 4), as `a=rtpmap` writes
/// them (upper case), for an `m=` line that gives a static type without an rtpmap.
fn static_encoding(pt: &str) -> Option<&'static str> {
    Some(match pt {
        "0" => "PCMU/8000",
        "3" => "GSM/8000",
        "4" => "G723/8000",
        "5" => "DVI4/8000",
        "6" => "DVI4/16000",
        "7" => "LPC/8000",
        "8" => "PCMA/8000",
        "9" => "G722/8000",
        "10" => "L16/44100/2",
        "11" => "L16/44100",
        "12" => "QCELP/8000",
        "13" => "CN/8000",
        "14" => "MPA/90000",
        "15" => "G728/8000",
        "16" => "DVI4/11025",
        "17" => "DVI4/22050",
        "18" => "G729/8000",
        _ => return None,
    })
}

impl std::fmt::Display for Sdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        for l in &self.session {
            let _ = write!(out, "{}={}\r\n", l.kind as char, l.text);
        }
        for m in &self.media {
            let port = match m.port_count {
                Some(c) => format!("{}/{c}", m.port),
                None => m.port.to_string(),
            };
            let _ = write!(
                out,
                "m={} {port} {} {}\r\n",
                m.kind,
                m.proto,
                m.formats.join(" ")
            );
            for l in &m.lines {
                let _ = write!(out, "{}={}\r\n", l.kind as char, l.text);
            }
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OFFER: &str = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=candidate:1 1 UDP 2130706431 10.0.0.5 49170 typ host\r\na=sendrecv\r\nm=video 51372 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";

    #[test]
    fn reads_what_a_proxy_needs() {
        let s = Sdp::parse(OFFER).unwrap();
        assert_eq!(s.media.len(), 2);
        assert_eq!(
            (s.media[0].kind.as_str(), s.media[0].port),
            ("audio", 49170)
        );
        assert_eq!(s.connection(0), Some("192.0.2.10".parse().unwrap()));
        assert_eq!(s.attribute(0, "ptime"), Some("20"));
        assert_eq!(s.direction(0), Direction::SendRecv);
        assert_eq!(
            s.encoding(0, "8").as_deref(),
            Some("PCMA/8000"),
            "static payload type"
        );
        assert_eq!(
            s.encoding(0, "101").as_deref(),
            Some("TELEPHONE-EVENT/8000")
        );
        assert_eq!(
            s.to_string(),
            OFFER,
            "untouched SDP prints back byte for byte"
        );
    }

    #[test]
    fn rewrites_addresses_ports_and_ice() {
        let mut s = Sdp::parse(OFFER).unwrap();
        let ip: IpAddr = "203.0.113.5".parse().unwrap();
        s.set_connection(ip);
        s.set_origin_address(ip);
        s.remove_ice();
        s.media[0].port = 30_000;
        s.set_attribute(0, "rtcp", Some("30001"));
        let text = s.to_string();
        assert!(text.contains("c=IN IP4 203.0.113.5\r\n"));
        assert!(text.contains("o=alice 2890844526 2890844526 IN IP4 203.0.113.5\r\n"));
        assert!(text.contains("m=audio 30000 RTP/AVP 0 8 101\r\n"));
        assert!(text.contains("a=rtcp:30001\r\n"));
        assert!(!text.contains("candidate"));
        let again = Sdp::parse(&text).unwrap();
        assert_eq!(again.connection(1), Some(ip));
    }

    #[test]
    fn malformed_bodies_name_the_problem() {
        assert_eq!(Sdp::parse(""), Err(SdpError::NoVersion));
        assert_eq!(
            Sdp::parse("o=x 1 1 IN IP4 1.2.3.4\r\n"),
            Err(SdpError::NoVersion)
        );
        assert_eq!(Sdp::parse("v=0\r\nhello\r\n"), Err(SdpError::BadLine(2)));
        assert_eq!(
            Sdp::parse("v=0\r\nm=audio x RTP/AVP 0\r\n"),
            Err(SdpError::BadMedia(2))
        );
        assert_eq!(
            Sdp::parse("v=0\r\nm=audio 4000 RTP/AVP\r\n"),
            Err(SdpError::BadMedia(2))
        );
        assert_eq!(
            Sdp::parse("v=0\r\nc=IN IP4 999.1.1.1\r\n"),
            Err(SdpError::BadAddress(2))
        );
        assert_eq!(Sdp::parse(&"a".repeat(70_000)), Err(SdpError::TooLarge));
    }

    proptest! {
        #[test]
        fn any_text_parses_or_fails_cleanly(s in "\\PC{0,400}") {
            if let Ok(sdp) = Sdp::parse(&s) {
                // What parses prints back to something that parses the same way.
                prop_assert_eq!(Sdp::parse(&sdp.to_string()).unwrap(), sdp);
            }
        }

        #[test]
        fn sdp_shaped_text_never_panics(lines in proptest::collection::vec("[vocmtab]=[ -~]{0,40}", 0..20)) {
            let text = format!("v=0\r\n{}", lines.join("\r\n"));
            let _ = Sdp::parse(&text);
        }
    }
}
