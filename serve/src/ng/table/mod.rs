//! The data of the option table (see `options.rs`): every command, key, flag and value of
//! rtpengine's `docs/ng_control_protocol.md`, a few names the Kamailio module sends, and
//! Tandem's own extensions (marked as such), one file per kind.

mod commands;
mod flags;
mod keys;
mod values;

use super::options::Gap::{self, PassThroughCodecs, TwoInterfaces};
use super::options::Opt;

pub(super) const NO_SUBSCRIPTIONS: &str = "Tandem has no publish/subscribe media forking";
pub(super) const NO_DTLS: &str = "DTLS-SRTP is not supported";
pub(super) const NO_OSRTP: &str = "opportunistic SRTP (RFC 8643) is not supported";
pub(super) const NO_WEAK_SRTP: &str = "SRTP is always encrypted and authenticated";
pub(super) const OWN_SUITES: &str = "the callee is offered the relay's own suites, 128-bit first (narrow them with SDES-only/SDES-no)";
pub(super) const NO_ICE: &str = "Tandem does not do ICE; use ICE=remove";
pub(super) const NO_T38: &str = "T.38 gatewaying is not supported";
pub(super) const NO_DTMF_REPLACE: &str = "only dropping DTMF events is supported (no replacement modes, \
                               triggers or delays)";
pub(super) const NO_PLAYER_MIX: &str = "Tandem has no audio player mixing";
pub(super) const NO_DB: &str = "Tandem has no database";

/// The parts of the table, in order: commands, keys, flags, values; within each as
/// rtpengine's documentation lists them.
static PARTS: [&[Opt]; 4] = [commands::COMMANDS, keys::KEYS, flags::FLAGS, values::VALUES];

/// Every entry of the table, in order.
pub fn entries() -> impl Iterator<Item = &'static Opt> + Clone {
    PARTS.iter().flat_map(|p| p.iter())
}

/// Values of honoured keys that are refused until the engine can (checked where the
/// request is carried out): what, and the gap. Listed in `docs/ng.md` with the table.
pub static CONDITIONAL: &[(&str, Gap)] = &[
    (
        "`codec` `offer`, `except`, `strip`, `mask` or `ignore` naming a codec other than PCMU or PCMA (G.722, opus, G.729, ...): applied like any codec; `transcode`, `set` or `accept` naming one is refused (Tandem transcodes between PCMU and PCMA only)",
        PassThroughCodecs,
    ),
    (
        "an offer's codecs other than PCMU, PCMA and telephone-event: kept, and relayed unchanged (no decoding) when the callee answers with one the caller offered; recording, `detect DTMF`, DTMF conversion and ptime changes need the audio decoded, so with them such codecs are removed from the offer (named in the reply's `warning`), or the offer is refused when it has no PCMU or PCMA; `play media`, `play DTMF` and `silence media` are refused on such a call; comfort noise and formats without a known encoding are removed and named in the `warning`",
        PassThroughCodecs,
    ),
    (
        "`direction`, `from-interface`/`to-interface` naming two different interfaces",
        TwoInterfaces,
    ),
];
