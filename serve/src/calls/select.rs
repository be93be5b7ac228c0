//! Commands on a party of a call: selecting it (from-tag, label, address, or the whole
//! call), blocking and silencing its media or DTMF, and playing to it.
//!
//! Blocking has two levels, as in rtpengine: the whole call and each party. What is held
//! back from a party's media is the union of both, and unblocking the whole call leaves a
//! party's own block in place unless `all` is given. Block, unblock and silence honour a
//! from-tag only with the `directional` flag (proxies send one anyway); a label or an
//! address always selects.

use std::sync::Arc;

use tandem_engine::MediaEngine;
use tandem_engine::{ChannelId, Command, PlayItem, PlaySpec, PlayTarget};

use super::{Call, Calls, Side, Stream, engine_err};
use crate::bencode::Value;
use crate::ng::Params;

/// What `block`/`unblock` act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Block {
    Dtmf,
    Media,
    Silence,
}

/// The other side.
fn other(side: Side) -> Side {
    match side {
        Side::Caller => Side::Callee,
        Side::Callee => Side::Caller,
    }
}

/// The party a request selects, `None` for the whole call. `directional`: the command
/// honours a from-tag only with the `directional` flag.
fn select(call: &Call, p: &Params, directional: bool) -> Result<Option<Side>, String> {
    if p.whole_call() {
        return Ok(None);
    }
    let sides = [Side::Caller, Side::Callee];
    let side = if let Some(label) = &p.label {
        let found = sides.into_iter().find(|&s| {
            call.party(s)
                .is_some_and(|x| x.label.as_ref() == Some(label))
        });
        Some(found.ok_or_else(|| format!("no party has label '{label}'"))?)
    } else if let Some(addr) = p.address {
        let found = sides
            .into_iter()
            .find(|&s| call.party(s).is_some_and(|x| x.advertised == Some(addr)));
        Some(found.ok_or_else(|| format!("no party's SDP names address {addr}"))?)
    } else if let Some(tag) = p
        .from_tag
        .as_deref()
        .filter(|_| !directional || p.flag("directional"))
    {
        Some(
            call.side_of_tag(tag)
                .ok_or_else(|| format!("unknown tag '{tag}'"))?,
        )
    } else {
        None
    };
    // A flow to another party (`to-tag` / `to-label`): Tandem has one, to the other side.
    if let Some(from) = side {
        let to = match (&p.to_label, &p.to_tag) {
            (Some(l), _) => Some(
                sides
                    .into_iter()
                    .find(|&s| call.party(s).is_some_and(|x| x.label.as_ref() == Some(l)))
                    .ok_or_else(|| format!("no party has label '{l}'"))?,
            ),
            (None, Some(t)) if directional => Some(
                call.side_of_tag(t)
                    .ok_or_else(|| format!("unknown to-tag '{t}'"))?,
            ),
            _ => None,
        };
        if to.is_some_and(|t| t != other(from)) {
            return Err("the flow named goes from a party to itself".into());
        }
    }
    Ok(side)
}

impl Calls {
    /// Sends each leg the filter in force on its party.
    pub(super) fn apply_filters(
        &self,
        media: &mut dyn MediaEngine,
        call: &Call,
    ) -> Result<(), String> {
        for s in &call.streams {
            for side in [Side::Caller, Side::Callee] {
                media
                    .command(Command::SetFilter {
                        channel: s.leg(side),
                        filter: call.effective_filter(side),
                    })
                    .map_err(engine_err)?;
            }
        }
        Ok(())
    }

    /// `block`/`unblock` DTMF or media, `silence`/`unsilence` media.
    pub(super) fn block(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
        what: Block,
        on: bool,
    ) -> Result<Value, String> {
        let call = self.call_mut(p)?;
        if what == Block::Silence && on {
            decoded(call, "silence media")?;
        }
        let side = select(call, p, true)?;
        // `DTMF-security` = `off`: blocking mode off, so nothing is blocked.
        let on = on && !(what == Block::Dtmf && p.dtmf_security_off);
        let set = |f: &mut tandem_engine::MediaFilter| match what {
            Block::Dtmf => f.block_dtmf = on,
            Block::Media => f.block_audio = on,
            Block::Silence => f.silence_audio = on,
        };
        match side {
            Some(s) => {
                if let Some(party) = call.party_mut(s) {
                    set(&mut party.filter);
                    if p.set_label.is_some() {
                        party.label.clone_from(&p.set_label);
                    }
                } else {
                    return Err("that party has not answered yet".into());
                }
            }
            None => {
                set(&mut call.call_filter);
                if !on && p.whole_call() {
                    set(&mut call.caller.filter);
                    if let Some(c) = call.callee.as_mut() {
                        set(&mut c.filter);
                    }
                }
            }
        }
        let call = call.clone();
        self.apply_filters(media, &call)?;
        Ok(Value::dict())
    }

    /// The legs a party hears from (what is played into them reaches it); the whole call
    /// with `all`.
    fn hearing_legs(&mut self, p: &Params, peer: bool) -> Result<Vec<ChannelId>, String> {
        let call = self.call_mut(p)?;
        let side = select(call, p, false)?;
        let sides: Vec<Side> = match side {
            Some(s) if peer => vec![other(s)],
            Some(s) => vec![s],
            None if p.whole_call() => vec![Side::Caller, Side::Callee],
            None => {
                return Err("no party selected: give from-tag, label, address or all".into());
            }
        };
        if sides.contains(&Side::Callee) && call.callee.is_none() {
            return Err("the callee has not answered yet".into());
        }
        if let (Some(s), Some(l)) = (side, &p.set_label) {
            if let Some(party) = call.party_mut(s) {
                party.label = Some(l.clone());
            }
        }
        Ok(call
            .streams
            .iter()
            .flat_map(|st| sides.iter().map(|&s| st.leg(s)))
            .collect())
    }

    pub(super) fn play_media(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
    ) -> Result<Value, String> {
        let file = p
            .file
            .as_deref()
            .ok_or("no file (only file playback is supported)")?;
        decoded(self.call_mut(p)?, "play media")?;
        let legs = self.hearing_legs(p, false)?;
        let prompt = self
            .prompts
            .get(std::path::Path::new(file))
            .map_err(|e| e.to_string())?;
        let len = prompt.duration_ms().max(1);
        // `repeat-duration`: at least that long; `repeat-times` caps it when both are given.
        let times = p.repeat_times.map(|t| t as u64);
        let repeat = match p.repeat_duration {
            Some(ms) => {
                let by_duration = (ms as u64).div_ceil(len);
                times.map_or(by_duration, |t| t.min(by_duration))
            }
            None => times.unwrap_or(1),
        }
        .clamp(1, 1000);
        let items = vec![PlayItem::Prompt(Arc::clone(&prompt)); repeat as usize];
        for ch in legs {
            media
                .command(Command::Play {
                    target: PlayTarget::Channel(ch),
                    spec: PlaySpec::once(items.clone()),
                })
                .map_err(engine_err)?;
        }
        Ok(Value::dict().with("duration", Value::Int((len * repeat) as i64)))
    }

    pub(super) fn stop_media(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
    ) -> Result<Value, String> {
        for ch in self.hearing_legs(p, false)? {
            media
                .command(Command::StopPlay {
                    target: PlayTarget::Channel(ch),
                })
                .map_err(engine_err)?;
        }
        Ok(Value::dict())
    }

    /// `play DTMF`: the selected party sends the digit, so the other party hears it.
    pub(super) fn play_dtmf(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
    ) -> Result<Value, String> {
        let code = p.code.clone().ok_or("no code")?;
        let digits: String = match code.parse::<u8>() {
            Ok(n) if code.len() > 1 || n > 9 => tandem_codecs::telephone_event::event_to_char(n)
                .map(String::from)
                .ok_or("bad code")?,
            _ => code,
        };
        if digits.chars().count() != 1
            || !digits
                .chars()
                .all(|c| tandem_codecs::telephone_event::char_to_event(c).is_some())
        {
            return Err(format!(
                "bad DTMF code '{digits}': one of 0-9 * # A-D, or 0-15"
            ));
        }
        decoded(self.call_mut(p)?, "play DTMF")?;
        for ch in self.hearing_legs(p, true)? {
            let spec = PlaySpec::once(vec![PlayItem::Digits {
                digits: digits.clone(),
                inband: false,
            }]);
            media
                .command(Command::Play {
                    target: PlayTarget::Channel(ch),
                    spec,
                })
                .map_err(engine_err)?;
        }
        Ok(Value::dict())
    }
}

/// Refuses `what`, which needs the audio decoded, on a call whose audio is relayed without
/// decoding.
fn decoded(call: &Call, what: &str) -> Result<(), String> {
    match call.streams.iter().find_map(Stream::passthrough_encoding) {
        Some(enc) => Err(format!(
            "{what} needs PCMU or PCMA: the call's audio is {enc}, relayed without decoding"
        )),
        None => Ok(()),
    }
}
