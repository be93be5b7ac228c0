//! Codec negotiation: what the callee is offered and what the caller may be answered with,
//! from the caller's offer and the `codec` operations, within what the engine can relay:
//! PCMU and PCMA (transcoded between each other), RFC 4733 telephone-event, and any other
//! audio codec passed through unchanged (G.722, opus, G.729, ...) when the callee answers
//! with one the caller offered.
//!
//! Comfort noise and formats whose encoding is not known (a dynamic payload type without
//! `a=rtpmap`) are removed from the offer and named, so the reply can say so; an offer with
//! no audio codec left is refused. Transcoding to or from a codec other than G.711 is
//! refused, naming the codec.

use tandem_codecs::g711::Law;
use tandem_engine::Codec;

use crate::ng::CodecOps;
use crate::sdp::Sdp;

/// Why codecs other than G.711 cannot be transcoded, as error replies say it.
pub(super) const NOT_TRANSCODED: &str = "Tandem transcodes between PCMU and PCMA only; other codecs pass through unchanged when \
     both sides share them";

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

    /// The RTP clock rate the encoding names (`opus/48000/2`: 48000).
    fn clock_rate(&self) -> Option<u32> {
        self.enc.split('/').nth(1)?.parse().ok().filter(|&r| r > 0)
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

    /// Whether it is an audio codec the engine relays without decoding: not G.711, not
    /// telephone-event, not comfort noise, with a known encoding and clock rate.
    pub fn is_passthrough(&self) -> bool {
        self.law().is_none()
            && !self.is_te()
            && self.name() != "CN"
            && !self.enc.starts_with("PT")
            && self.clock_rate().is_some()
    }

    /// Whether the engine relays it.
    fn relayable(&self) -> bool {
        self.law().is_some() || self.is_te() || self.is_passthrough()
    }

    /// The engine codec of a G.711 format with a numeric payload type.
    pub fn g711(&self) -> Option<Codec> {
        Some(Codec::g711(self.law()?, self.pt.parse().ok()?))
    }

    /// The engine codec of an audio format (G.711, or a pass-through codec) with a numeric
    /// payload type.
    pub fn codec(&self) -> Option<Codec> {
        if self.is_passthrough() {
            return Some(Codec::passthrough(
                self.pt.parse().ok()?,
                self.clock_rate()?,
            ));
        }
        self.g711()
    }

    /// Whether two formats are the same encoding (name, rate and channels; the payload
    /// types may differ).
    pub fn same_encoding(&self, other: &Format) -> bool {
        let channels = |f: &Format| f.enc.split('/').nth(2).unwrap_or("1").to_string();
        self.name() == other.name()
            && self.clock_rate() == other.clock_rate()
            && channels(self) == channels(other)
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
            return Err(format!(
                "codec transcode '{spec}' is not supported: {NOT_TRANSCODED}"
            ));
        }
        if spec_is_g711(spec) && !offered.iter().any(|f| f.law().is_some()) {
            return Err(format!(
                "codec transcode '{spec}' is not supported for this offer: it has no PCMU or \
                 PCMA to transcode from ({NOT_TRANSCODED})"
            ));
        }
    }
    for spec in &ops.set {
        if !spec_is_g711(spec) {
            return Err(format!(
                "codec set '{spec}' is not supported: {NOT_TRANSCODED}"
            ));
        }
    }
    // Keeping a caller codec towards the caller when the callee picks another transcodes.
    for spec in ops.accept.iter().filter(|s| !is_all(s)) {
        if offered
            .iter()
            .any(|f| f.is_passthrough() && f.matches(spec))
        {
            return Err(format!(
                "codec accept '{spec}' is not supported: {NOT_TRANSCODED}"
            ));
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
    let audio = |f: &Format| f.law().is_some() || f.is_passthrough();
    let relayable: Vec<Format> = offered.iter().filter(|f| f.relayable()).cloned().collect();
    if !relayable.iter().any(audio) {
        return Err(if removed.is_empty() {
            "no supported codec in offer".to_string()
        } else {
            format!(
                "no supported codec in offer ({} cannot be relayed)",
                removed.join(", ")
            )
        });
    }
    let matches_any = |f: &Format, list: &[String]| list.iter().any(|s| !is_all(s) && f.matches(s));
    let caller: Vec<Format> = relayable
        .iter()
        .filter(|f| !matches_any(f, &ops.ignore))
        .cloned()
        .collect();
    if !caller.iter().any(audio) {
        return Err("codec ignore leaves the caller no codec".into());
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
    if !outgoing.iter().any(audio) {
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

    /// The caller's first codec: G.711 if it offered any (so what needs the samples can
    /// work if the callee takes it), else its first pass-through codec.
    pub fn caller_first(&self) -> Option<Codec> {
        first_codec(&self.caller)
    }

    /// The callee's first codec offered, G.711 first as for the caller.
    pub fn outgoing_first(&self) -> Option<Codec> {
        first_codec(&self.outgoing)
    }

    /// Keeps only codecs the engine decodes (G.711), because `feature` needs the audio:
    /// the others are removed from both lists and named in `removed`. An error naming
    /// `feature` when the callee would be left no G.711 codec.
    pub fn keep_decodable(&mut self, feature: &str) -> Result<(), String> {
        let others = self.passthrough_names();
        if others.is_empty() {
            return Ok(());
        }
        if !self.outgoing.iter().any(|f| f.law().is_some()) {
            return Err(format!(
                "{feature} needs PCMU or PCMA, and the offer's codecs ({}) are relayed \
                 without decoding",
                others.join(", ")
            ));
        }
        self.outgoing.retain(|f| !f.is_passthrough());
        self.caller.retain(|f| !f.is_passthrough());
        for enc in others {
            if !self.removed.contains(&enc) {
                self.removed.push(enc);
            }
        }
        Ok(())
    }

    /// The encodings of the offer relayed without decoding, for messages.
    pub fn passthrough_names(&self) -> Vec<String> {
        self.caller
            .iter()
            .filter(|f| f.is_passthrough())
            .map(|f| f.enc.clone())
            .collect()
    }

    /// The codec the caller is answered with when the callee chose `callee`. G.711: the
    /// same law if the caller offered it (no transcoding), else the first `accept`ed caller
    /// G.711 codec, else the caller's first G.711 codec (transcoded). A pass-through codec:
    /// the caller's format of the same encoding (its own payload type), or none (there is
    /// no transcoding).
    pub fn caller_codec_for(&self, callee: &Format) -> Option<(Codec, Format)> {
        if callee.is_passthrough() {
            let f = self
                .caller
                .iter()
                .find(|f| f.is_passthrough() && f.same_encoding(callee))?;
            return Some((f.codec()?, f.clone()));
        }
        let law = callee.law()?;
        let g711 = || self.caller.iter().filter(|f| f.law().is_some());
        let f = g711()
            .find(|f| f.law() == Some(law))
            .or_else(|| {
                self.accept
                    .iter()
                    .find_map(|spec| g711().find(|f| is_all(spec) || f.matches(spec)))
            })
            .or_else(|| g711().next())?;
        Some((f.g711()?, f.clone()))
    }
}

/// The first G.711 codec of `formats`, else the first pass-through one.
fn first_codec(formats: &[Format]) -> Option<Codec> {
    formats
        .iter()
        .find_map(Format::g711)
        .or_else(|| formats.iter().find_map(Format::codec))
}

#[cfg(test)]
#[path = "codecs_tests.rs"]
mod tests;
