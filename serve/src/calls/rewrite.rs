//! SDP rewriting shared by offers and answers: attributes that would promise what the relay
//! does not do are removed, RTCP attributes follow each leg's mode, and the origin and
//! session lines follow the `replace` options.

use std::net::IpAddr;

use crate::ng::Params;
use crate::sdp::{Line, Sdp};

/// Media attributes removed from every rewritten stream: the relay does not do ICE, DTLS
/// or SRTP on a plain RTP stream, re-originates RTP (its own SSRC, no header extensions)
/// and generates its own RTCP (no feedback), and writes its own RTCP attributes.
const MEDIA_DROPPED: [&str; 16] = [
    "candidate",
    "remote-candidates",
    "ice-ufrag",
    "ice-pwd",
    "ice-options",
    "ice-lite",
    "end-of-candidates",
    "extmap",
    "rtcp-fb",
    "ssrc",
    "ssrc-group",
    "crypto",
    "fingerprint",
    "setup",
    "tls-id",
    "rtcp",
];

/// Session attributes removed: ICE, DTLS, header extensions, bundling and loop marks.
const SESSION_DROPPED: [&str; 10] = [
    "ice-ufrag",
    "ice-pwd",
    "ice-options",
    "ice-lite",
    "extmap",
    "fingerprint",
    "setup",
    "tls-id",
    "group",
    "rtpengine",
];

/// Removes what the relay does not do from media `i` (and, once, the session).
pub(super) fn strip_unrelayed(sdp: &mut Sdp, i: usize) {
    let drop = |l: &Line, names: &[&str]| l.attribute().is_some_and(|(n, _)| names.contains(&n));
    sdp.session.retain(|l| !drop(l, &SESSION_DROPPED));
    if let Some(m) = sdp.media.get_mut(i) {
        m.lines
            .retain(|l| !drop(l, &MEDIA_DROPPED) && !drop(l, &["rtcp-mux"]));
    }
}

/// How a rewritten stream's RTCP is advertised.
#[derive(Clone, Copy, Debug)]
pub(super) struct RtcpAdvert {
    /// RTP port of the leg.
    pub port: u16,
    /// Whether the leg muxes RTCP on the RTP port.
    pub mux: bool,
    /// rtcp-mux offered with no separate port (`rtcp-mux` `require`).
    pub require: bool,
}

/// Writes media `i`'s RTCP attributes: `a=rtcp-mux` for a muxed leg, else `a=rtcp` with the
/// companion port (with the address under `full rtcp attribute`; none under `no rtcp
/// attribute`).
pub(super) fn advertise_rtcp(sdp: &mut Sdp, i: usize, r: RtcpAdvert, ip: IpAddr, p: &Params) {
    sdp.remove_attribute(i, "rtcp");
    sdp.remove_attribute(i, "rtcp-mux");
    if r.mux || r.require {
        sdp.set_attribute(i, "rtcp-mux", None);
        return;
    }
    if p.flag("no rtcp attribute") {
        return;
    }
    let port = r.port.saturating_add(1);
    let value = if p.flag("full rtcp attribute") {
        let fam = if ip.is_ipv4() { "IP4" } else { "IP6" };
        format!("{port} IN {fam} {ip}")
    } else {
        port.to_string()
    };
    sdp.set_attribute(i, "rtcp", Some(&value));
}

/// Points every connection line at `ip`, except for the media in `passed` (streams that go
/// end to end, not through the relay), which keep their own address.
pub(super) fn set_connections(sdp: &mut Sdp, ip: IpAddr, passed: &[usize]) {
    for &i in passed {
        let own = sdp.media[i].lines.iter().any(|l| l.kind == b'c');
        if let (false, Some(addr)) = (own, sdp.connection(i)) {
            let fam = if addr.is_ipv4() { "IP4" } else { "IP6" };
            sdp.media[i]
                .lines
                .insert(0, Line::new(b'c', format!("IN {fam} {addr}")));
        }
    }
    let fam = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let text = format!("IN {fam} {ip}");
    let has_session = sdp.session.iter().any(|l| l.kind == b'c');
    for l in sdp.session.iter_mut().filter(|l| l.kind == b'c') {
        l.text.clone_from(&text);
    }
    for (i, m) in sdp.media.iter_mut().enumerate() {
        if passed.contains(&i) {
            continue;
        }
        let mut found = false;
        for l in m.lines.iter_mut().filter(|l| l.kind == b'c') {
            l.text.clone_from(&text);
            found = true;
        }
        if !found && !has_session {
            m.lines.insert(0, Line::new(b'c', text.clone()));
        }
    }
}

/// Adds `a=mid` to media `i` if it has none (`generate mid`).
pub(super) fn generate_mid(sdp: &mut Sdp, i: usize) {
    if sdp.media.get(i).is_some_and(|m| {
        !m.lines
            .iter()
            .any(|l| l.attribute().is_some_and(|(n, _)| n == "mid"))
    }) {
        sdp.set_attribute(i, "mid", Some(&i.to_string()));
    }
}

/// 64-bit FNV-1a, for remembering an SDP without keeping it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// What the relay last sent one party, for the `replace` options that keep the origin and
/// session lines stable across the SDPs a party gets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct OriginState {
    first_origin: Option<Vec<String>>,
    first_session_name: Option<String>,
    last_body: Option<u64>,
    version: Option<u64>,
}

fn origin_fields(sdp: &Sdp) -> Option<Vec<String>> {
    let l = sdp.session.iter().find(|l| l.kind == b'o')?;
    let f: Vec<String> = l.text.split_whitespace().map(str::to_string).collect();
    (f.len() == 6).then_some(f)
}

fn set_origin_fields(sdp: &mut Sdp, f: &[String]) {
    if let Some(l) = sdp.session.iter_mut().find(|l| l.kind == b'o') {
        l.text = f.join(" ");
    }
}

impl OriginState {
    /// Applies the `replace` options to an SDP about to be sent to this party.
    pub fn apply(&mut self, sdp: &mut Sdp, p: &Params, media_ip: IpAddr) {
        if p.replaces("origin") || p.replaces("origin full") {
            sdp.set_origin_address(media_ip);
        }
        let Some(mut o) = origin_fields(sdp) else {
            return;
        };
        let first = self.first_origin.get_or_insert_with(|| o.clone()).clone();
        if p.replaces("username") {
            o[0].clone_from(&first[0]);
        }
        if p.replaces("origin full") {
            let version = o[2].clone();
            o.clone_from(&first);
            o[2] = version;
        }
        if let Some(s) = sdp.session.iter_mut().find(|l| l.kind == b's') {
            let first = self
                .first_session_name
                .get_or_insert_with(|| s.text.clone());
            if p.replaces("session name") {
                s.text.clone_from(first);
            }
        }
        let force = p.replaces("force increment sdp ver");
        if force || p.replaces("sdp version") {
            set_origin_fields(sdp, &o);
            let body = fnv1a(
                sdp.to_string()
                    .lines()
                    .filter(|l| !l.starts_with("o="))
                    .collect::<String>()
                    .as_bytes(),
            );
            let incoming = o[2].parse().unwrap_or(0);
            let version = match (self.version, self.last_body) {
                (None, _) => incoming,
                (Some(v), Some(b)) if b == body && !force => v,
                (Some(v), _) => v + 1,
            };
            o[2] = version.to_string();
            self.version = Some(version);
            self.last_body = Some(body);
        }
        set_origin_fields(sdp, &o);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bencode::Value;

    const BODY: &str = "v=0\r\no=alice 7 7 IN IP4 192.0.2.1\r\ns=first\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=candidate:1 1 UDP 1 10.0.0.1 4000 typ host\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\na=ssrc:1 cname:x\r\na=rtcp:4001\r\na=sendrecv\r\n";

    fn params(replace: &[&str]) -> Params {
        let body = Value::dict().with("command", Value::str("offer")).with(
            "replace",
            Value::List(replace.iter().map(|r| Value::str(r)).collect()),
        );
        Params::from_body(&body).unwrap()
    }

    #[test]
    fn unrelayed_attributes_go_and_rtcp_follows_the_leg() {
        let mut s = Sdp::parse(BODY).unwrap();
        strip_unrelayed(&mut s, 0);
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        let r = RtcpAdvert {
            port: 30_000,
            mux: false,
            require: false,
        };
        advertise_rtcp(&mut s, 0, r, ip, &params(&[]));
        let t = s.to_string();
        for gone in ["candidate", "extmap", "crypto", "ssrc"] {
            assert!(!t.contains(gone), "{gone}: {t}");
        }
        assert!(
            t.contains("a=rtcp:30001\r\n") && t.contains("a=sendrecv"),
            "{t}"
        );
        let r = RtcpAdvert { mux: true, ..r };
        advertise_rtcp(&mut s, 0, r, ip, &params(&[]));
        let t = s.to_string();
        assert!(
            t.contains("a=rtcp-mux\r\n") && !t.contains("a=rtcp:"),
            "{t}"
        );
    }

    #[test]
    fn sdp_version_goes_up_only_when_the_sdp_changes() {
        let p = params(&["SDP-version", "username", "session-name"]);
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        let mut st = OriginState::default();
        let mut a = Sdp::parse(BODY).unwrap();
        st.apply(&mut a, &p, ip);
        assert!(a.to_string().contains("o=alice 7 7 "), "{a}");
        let mut same = Sdp::parse(BODY).unwrap();
        st.apply(&mut same, &p, ip);
        assert!(
            same.to_string().contains("o=alice 7 7 "),
            "unchanged SDP keeps its version"
        );
        let changed = BODY
            .replace("o=alice 7 7", "o=bob 9 9")
            .replace("s=first", "s=other");
        let mut c = Sdp::parse(&changed.replace("4000", "4002")).unwrap();
        st.apply(&mut c, &p, ip);
        let t = c.to_string();
        assert!(t.contains("o=alice 9 8 ") && t.contains("s=first"), "{t}");
        let mut f = Sdp::parse(BODY).unwrap();
        let mut st2 = OriginState::default();
        st2.apply(&mut f, &params(&["force-increment-sdp-ver"]), ip);
        let mut f = Sdp::parse(BODY).unwrap();
        st2.apply(&mut f, &params(&["force-increment-sdp-ver"]), ip);
        assert!(f.to_string().contains("o=alice 7 8 "), "{f}");
    }
}
