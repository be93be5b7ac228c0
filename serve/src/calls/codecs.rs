//! Codec negotiation: what the callee is offered and what the caller may be answered with,
//! from the caller's offer and the `codec` operations, within what the engine can relay
//! (PCMU and PCMA, transcoded between each other, and RFC 4733 telephone-event).
//!
//! Codecs the engine cannot relay are removed from the offer and named, so the reply can
//! say so; an offer with neither PCMU nor PCMA is refused. An operation that would need one
//! of those codecs (offering, keeping or transcoding to it) is refused until the engine can.

use tandem_codecs::g711::Law;
use tandem_engine::Codec;

use crate::ng::CodecOps;
use crate::ng::options::{Gap, engine_refusal};
use crate::sdp::Sdp;

/// One format of an `m=` line: payload type and encoding (`PCMU/8000`, upper case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Format {
    pub pt: String,
    pub enc: String,
}

impl Format {
    fn new(pt: &str, enc: &str) -> Format {
        Format {
            pt: pt.to_string(),
            enc: enc.to_ascii_uppercase(),
        }
    }

    /// The encoding name (`PCMU`).
    pub fn name(&self) -> &str {
        self.enc.split('/').next().unwrap_or("")
    }

    /// The G.711 law, if it is PCMU or PCMA.
    pub fn law(&self) -> Option<Law> {
        match self.name() {
            "PCMU" => Some(Law::Ulaw),
            "PCMA" => Some(Law::Alaw),
            _ => None,
        }
    }

    /// Whether it is RFC 4733 telephone-event.
    pub fn is_te(&self) -> bool {
        self.name() == "TELEPHONE-EVENT"
    }

    /// Whether the engine relays it.
    fn relayable(&self) -> bool {
        self.law().is_some() || self.is_te()
    }

    /// The engine codec, if G.711 with a numeric payload type.
    pub fn codec(&self) -> Option<Codec> {
        Some(Codec {
            law: self.law()?,
            payload_type: self.pt.parse().ok()?,
        })
    }

    /// Whether a codec specification names this format: a payload type number, or
    /// `name[/rate[/channels]]` (names without regard to case, as RFC 4855 says).
    pub fn matches(&self, spec: &str) -> bool {
        if spec == self.pt {
            return true;
        }
        let mut want = spec.split('/');
        let mut have = self.enc.split('/');
        let name_ok = want
            .next()
            .zip(have.next())
            .is_some_and(|(w, h)| w.eq_ignore_ascii_case(h));
        let rate_ok = match (want.next(), have.next()) {
            (Some(w), Some(h)) if !w.is_empty() => w == h,
            _ => true,
        };
        let channels_ok = match want.next() {
            Some(w) if !w.is_empty() => w == have.next().unwrap_or("1"),
            _ => true,
        };
        name_ok && rate_ok && channels_ok
    }
}

/// Every format of media `i`, in order (encodings from `a=rtpmap` or the static table).
pub(super) fn formats(sdp: &Sdp, i: usize) -> Vec<Format> {
    sdp.media[i]
        .formats
        .iter()
        .map(|pt| {
            Format::new(
                pt,
                &sdp.encoding(i, pt).unwrap_or_else(|| format!("PT{pt}")),
            )
        })
        .collect()
}

/// What an offer's codecs become.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct CodecPlan {
    /// What the caller may be answered with (relayable, not ignored), in offer order.
    pub caller: Vec<Format>,
    /// What the callee is offered, in order.
    pub outgoing: Vec<Format>,
    /// `codec` `accept`: caller codecs kept towards the caller when the callee picks
    /// another (`all`: any).
    pub accept: Vec<String>,
    /// Encodings of the offer the engine cannot relay, removed.
    pub removed: Vec<String>,
    /// No codec is left for the callee and `allow no codec media` was given: the stream
    /// is rejected.
    pub reject: bool,
    /// `codec` `transcode` named telephone-event: digits are converted between RFC 4733
    /// events and in-band tones for a party that has no telephone-event.
    pub convert_dtmf: bool,
}

fn is_all(spec: &str) -> bool {
    spec.eq_ignore_ascii_case("all") || spec.eq_ignore_ascii_case("full")
}

fn spec_is_g711(spec: &str) -> bool {
    let name = spec.split('/').next().unwrap_or("");
    name.eq_ignore_ascii_case("PCMU") || name.eq_ignore_ascii_case("PCMA")
}

fn spec_is_te(spec: &str) -> bool {
    spec.split('/')
        .next()
        .is_some_and(|n| n.eq_ignore_ascii_case("telephone-event"))
}

/// A new format for a transcoded codec: its static payload type unless the offer uses it
/// for something else, then a free dynamic one.
fn added(spec: &str, used: &[Format]) -> Format {
    let (pt, enc) = if spec_is_te(spec) {
        ("101", "telephone-event/8000")
    } else if spec
        .split('/')
        .next()
        .unwrap_or("")
        .eq_ignore_ascii_case("PCMU")
    {
        ("0", "PCMU/8000")
    } else {
        ("8", "PCMA/8000")
    };
    if !used.iter().any(|f| f.pt == pt) {
        return Format::new(pt, enc);
    }
    let free = (96..=127u8)
        .map(|p| p.to_string())
        .find(|p| !used.iter().any(|f| &f.pt == p))
        .unwrap_or_else(|| "127".into());
    Format::new(&free, enc)
}

/// Checks the operations against what the engine can do.
fn check_ops(offered: &[Format], ops: &CodecOps) -> Result<(), String> {
    for spec in &ops.transcode {
        if !spec_is_g711(spec) && !spec_is_te(spec) {
            if let Some(e) =
                engine_refusal(&format!("codec transcode '{spec}'"), Gap::PassThroughCodecs)
            {
                return Err(e);
            }
        }
    }
    for spec in &ops.set {
        if !spec_is_g711(spec) {
            if let Some(e) = engine_refusal(&format!("codec set '{spec}'"), Gap::PassThroughCodecs)
            {
                return Err(e);
            }
        }
    }
    // Keeping or preferring a codec of the offer that the engine cannot relay.
    for (op, list) in [
        ("offer", &ops.offer),
        ("except", &ops.except),
        ("accept", &ops.accept),
    ] {
        for spec in list.iter().filter(|s| !is_all(s)) {
            if offered.iter().any(|f| !f.relayable() && f.matches(spec)) {
                if let Some(e) =
                    engine_refusal(&format!("codec {op} '{spec}'"), Gap::PassThroughCodecs)
                {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// Plans a stream's codecs from the caller's formats and the operations.
pub(super) fn plan(
    offered: &[Format],
    ops: &CodecOps,
    allow_no_codec: bool,
) -> Result<CodecPlan, String> {
    check_ops(offered, ops)?;
    let mut removed: Vec<String> = Vec::new();
    for f in offered.iter().filter(|f| !f.relayable()) {
        if !removed.contains(&f.enc) {
            removed.push(f.enc.clone());
        }
    }
    let relayable: Vec<Format> = offered.iter().filter(|f| f.relayable()).cloned().collect();
    if !relayable.iter().any(|f| f.law().is_some()) {
        return Err(if removed.is_empty() {
            "no supported codec (PCMU or PCMA) in offer".to_string()
        } else {
            engine_refusal(
                &format!("an offer without PCMU or PCMA ({})", removed.join(", ")),
                Gap::PassThroughCodecs,
            )
            .unwrap_or_else(|| "no supported codec in offer".into())
        });
    }
    let matches_any = |f: &Format, list: &[String]| list.iter().any(|s| !is_all(s) && f.matches(s));
    let caller: Vec<Format> = relayable
        .iter()
        .filter(|f| !matches_any(f, &ops.ignore))
        .cloned()
        .collect();
    if !caller.iter().any(|f| f.law().is_some()) {
        return Err("codec ignore leaves the caller no PCMU or PCMA".into());
    }
    let strip_all = ops.strip.iter().chain(&ops.mask).any(|s| is_all(s));
    let keep = |f: &Format| {
        matches_any(f, &ops.offer) || matches_any(f, &ops.except) || matches_any(f, &ops.transcode)
    };
    let mut outgoing: Vec<Format> = relayable
        .iter()
        .filter(|f| {
            let named = matches_any(f, &ops.strip) || matches_any(f, &ops.mask);
            let by_all = strip_all && !f.is_te() && !keep(f);
            !(named || by_all)
        })
        .cloned()
        .collect();
    // `offer`: these first, in the order given.
    let mut front: Vec<Format> = Vec::new();
    for spec in &ops.offer {
        while let Some(k) = outgoing.iter().position(|f| f.matches(spec)) {
            front.push(outgoing.remove(k));
        }
    }
    front.append(&mut outgoing);
    let mut outgoing = front;
    for spec in &ops.transcode {
        if !outgoing.iter().any(|f| f.matches(spec)) {
            let f = added(spec, offered);
            let at = outgoing
                .iter()
                .position(Format::is_te)
                .unwrap_or(outgoing.len());
            outgoing.insert(at, f);
        }
    }
    let mut reject = false;
    if !outgoing.iter().any(|f| f.law().is_some()) {
        if allow_no_codec {
            outgoing.clear();
            reject = true;
        } else {
            // As rtpengine: stripping every codec is a usage error; the offer stays whole.
            outgoing = relayable.clone();
        }
    }
    Ok(CodecPlan {
        caller,
        outgoing,
        accept: ops.accept.clone(),
        removed,
        reject,
        convert_dtmf: ops.transcode.iter().any(|s| spec_is_te(s)),
    })
}

impl CodecPlan {
    /// The caller's telephone-event payload type, if it offered one (and it is not ignored).
    pub fn caller_te(&self) -> Option<u8> {
        self.caller.iter().find(|f| f.is_te())?.pt.parse().ok()
    }

    /// The telephone-event payload type offered to the callee.
    pub fn outgoing_te(&self) -> Option<u8> {
        self.outgoing.iter().find(|f| f.is_te())?.pt.parse().ok()
    }

    /// The caller's first G.711 codec.
    pub fn caller_first(&self) -> Option<Codec> {
        self.caller.iter().find_map(Format::codec)
    }

    /// The callee's first G.711 codec offered.
    pub fn outgoing_first(&self) -> Option<Codec> {
        self.outgoing.iter().find_map(Format::codec)
    }

    /// The codec the caller is answered with when the callee chose `law`: the same law if
    /// the caller offered it (no transcoding), else the first `accept`ed caller codec, else
    /// the caller's first.
    pub fn caller_codec_for(&self, law: Law) -> Option<Codec> {
        let g711 = || self.caller.iter().filter(|f| f.law().is_some());
        g711()
            .find(|f| f.law() == Some(law))
            .or_else(|| {
                self.accept
                    .iter()
                    .find_map(|spec| g711().find(|f| is_all(spec) || f.matches(spec)))
            })
            .or_else(|| g711().next())
            .and_then(Format::codec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(list: &[(&str, &str)]) -> Vec<Format> {
        list.iter().map(|(pt, e)| Format::new(pt, e)).collect()
    }

    fn names(fs: &[Format]) -> Vec<&str> {
        fs.iter().map(Format::name).collect()
    }

    fn ops(f: impl FnOnce(&mut CodecOps)) -> CodecOps {
        let mut o = CodecOps::default();
        f(&mut o);
        o
    }

    const A: &[(&str, &str)] = &[
        ("9", "G722/8000"),
        ("0", "PCMU/8000"),
        ("8", "PCMA/8000"),
        ("101", "telephone-event/8000"),
    ];

    #[test]
    fn unrelayable_codecs_are_removed_and_named() {
        let p = plan(&offer(A), &CodecOps::default(), false).unwrap();
        assert_eq!(names(&p.outgoing), ["PCMU", "PCMA", "TELEPHONE-EVENT"]);
        assert_eq!(p.removed, ["G722/8000"]);
        let only = offer(&[("9", "G722/8000")]);
        let e = plan(&only, &CodecOps::default(), false).unwrap_err();
        assert!(e.contains("G722") && e.contains("PCMU"), "{e}");
    }

    #[test]
    fn strip_mask_offer_except_transcode() {
        let a = offer(A);
        let p = plan(&a, &ops(|o| o.strip = vec!["PCMU".into()]), false).unwrap();
        assert_eq!(names(&p.outgoing), ["PCMA", "TELEPHONE-EVENT"]);
        assert_eq!(names(&p.caller), ["PCMU", "PCMA", "TELEPHONE-EVENT"]);
        let p = plan(&a, &ops(|o| o.offer = vec!["pcma".into()]), false).unwrap();
        assert_eq!(names(&p.outgoing), ["PCMA", "PCMU", "TELEPHONE-EVENT"]);
        let p = plan(
            &a,
            &ops(|o| {
                o.strip = vec!["all".into()];
                o.except = vec!["PCMA".into()];
            }),
            false,
        )
        .unwrap();
        assert_eq!(names(&p.outgoing), ["PCMA", "TELEPHONE-EVENT"]);
        let mu = offer(&[("0", "PCMU/8000"), ("101", "telephone-event/8000")]);
        let p = plan(
            &mu,
            &ops(|o| {
                o.mask = vec!["PCMU".into()];
                o.transcode = vec!["PCMA".into()];
            }),
            false,
        )
        .unwrap();
        assert_eq!(names(&p.outgoing), ["PCMA", "TELEPHONE-EVENT"]);
        assert_eq!(p.outgoing[0].pt, "8");
        assert_eq!(
            names(&p.caller),
            ["PCMU", "TELEPHONE-EVENT"],
            "masked: still the caller's"
        );
        // Stripping everything keeps the offer, unless empty media is allowed.
        let p = plan(&mu, &ops(|o| o.strip = vec!["PCMU".into()]), false).unwrap();
        assert_eq!(names(&p.outgoing), ["PCMU", "TELEPHONE-EVENT"]);
        let p = plan(&mu, &ops(|o| o.strip = vec!["PCMU".into()]), true).unwrap();
        assert!(p.reject && p.outgoing.is_empty());
    }

    #[test]
    fn operations_the_engine_cannot_do_are_refused_naming_them() {
        let a = offer(A);
        for o in [
            ops(|o| o.transcode = vec!["opus".into()]),
            ops(|o| o.offer = vec!["G722".into()]),
            ops(|o| o.set = vec!["opus/48000/2/32000".into()]),
        ] {
            let e = plan(&a, &o, false).unwrap_err();
            assert!(e.contains("not supported"), "{e}");
        }
        // A codec the offer does not have: no effect, as documented.
        assert!(
            plan(
                &offer(&A[1..]),
                &ops(|o| o.offer = vec!["G722".into()]),
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn transcoding_telephone_event_offers_it_and_asks_for_conversion() {
        let no_te = offer(&[("8", "PCMA/8000")]);
        let p = plan(
            &no_te,
            &ops(|o| o.transcode = vec!["telephone-event".into()]),
            false,
        )
        .unwrap();
        assert!(p.convert_dtmf);
        assert_eq!(p.caller_te(), None);
        assert_eq!(p.outgoing_te(), Some(101));
        assert_eq!(names(&p.outgoing), ["PCMA", "TELEPHONE-EVENT"]);
        // A payload type the offer already uses is not taken.
        let taken = offer(&[("8", "PCMA/8000"), ("101", "PCMU/8000")]);
        let o = ops(|o| o.transcode = vec!["telephone-event/8000".into()]);
        let p = plan(&taken, &o, false).unwrap();
        assert_ne!(p.outgoing_te(), Some(101));
        assert!(p.outgoing_te().is_some());
        assert!(
            !plan(&taken, &CodecOps::default(), false)
                .unwrap()
                .convert_dtmf
        );
    }

    #[test]
    fn the_caller_keeps_its_law_or_an_accepted_one() {
        let both = offer(&[("8", "PCMA/8000"), ("0", "PCMU/8000")]);
        let p = plan(&both, &CodecOps::default(), false).unwrap();
        assert_eq!(p.caller_codec_for(Law::Ulaw), Some(Codec::PCMU));
        let a_only = offer(&[("8", "PCMA/8000")]);
        let p = plan(&a_only, &CodecOps::default(), false).unwrap();
        assert_eq!(
            p.caller_codec_for(Law::Ulaw),
            Some(Codec::PCMA),
            "transcoded"
        );
        let p = plan(&both, &ops(|o| o.ignore = vec!["PCMU".into()]), false).unwrap();
        assert_eq!(p.caller_codec_for(Law::Ulaw), Some(Codec::PCMA), "ignored");
        assert!(Format::new("98", "opus/48000/2").matches("OPUS/48000/2"));
        assert!(!Format::new("98", "opus/48000/2").matches("opus/48000/1"));
        assert!(Format::new("0", "PCMU/8000").matches("PCMU/8000/1"));
    }
}
