//! The values of keys (and keys of sub-dictionaries such as `codec`), by key.

use crate::ng::options::Kind::{Value, ValuePrefix};
use crate::ng::options::State::{Honoured, Refused};
use crate::ng::options::{Opt, alias, opt};

use super::{
    NO_DTLS, NO_DTMF_REPLACE, NO_ICE, NO_PLAYER_MIX, NO_SUBSCRIPTIONS, NO_WEAK_SRTP, OWN_SUITES,
};

/// The values of keys (and keys of sub-dictionaries such as `codec`), by key.
pub(super) static VALUES: &[Opt] = &[
    // ---- values: replace ----
    opt(
        Value("replace"),
        "origin",
        Honoured("the `o=` address becomes the media interface's"),
    ),
    opt(
        Value("replace"),
        "session-connection",
        Honoured("Tandem's behaviour: every `c=` is the media interface's"),
    ),
    opt(
        Value("replace"),
        "force-increment-sdp-ver",
        Honoured("the `o=` version goes up with every SDP sent to a party"),
    ),
    opt(
        Value("replace"),
        "origin-full",
        Honoured("the whole `o=` line a party gets stays the first one it got (version aside)"),
    ),
    opt(
        Value("replace"),
        "session name",
        Honoured("the `s=` line a party gets stays the first one it got"),
    ),
    opt(
        Value("replace"),
        "SDP version",
        Honoured(
            "the `o=` version a party gets goes up when the SDP changes and stays when it does not",
        ),
    ),
    opt(
        Value("replace"),
        "username",
        Honoured("the `o=` username a party gets stays the first one it got"),
    ),
    opt(
        Value("replace"),
        "zero address",
        Honoured("Tandem's behaviour: a zero `c=` address becomes the media interface's"),
    ),
    // ---- values: codec ----
    opt(
        Value("codec"),
        "accept",
        Honoured(
            "these caller codecs are kept towards the caller when the callee picks another (transcoding; PCMU and PCMA only, others are refused)",
        ),
    ),
    opt(Value("codec"), "consume", Honoured("like `mask`")),
    opt(
        Value("codec"),
        "except",
        Honoured("with `strip`/`mask` `all`: these stay in the offer"),
    ),
    opt(
        Value("codec"),
        "ignore",
        Honoured("these caller codecs are not used towards the caller"),
    ),
    opt(
        Value("codec"),
        "mask",
        Honoured(
            "removed from the offer to the callee, still usable towards the caller (transcoding)",
        ),
    ),
    opt(
        Value("codec"),
        "offer",
        Honoured("like `except`, and first in the offer, in this order"),
    ),
    opt(
        Value("codec"),
        "set",
        Honoured(
            "G.711 has no options to set: `PCMU`/`PCMA` entries are accepted, others refused (other codecs pass through untouched)",
        ),
    ),
    opt(
        Value("codec"),
        "strip",
        Honoured(
            "removed from the offer to the callee (`all`/`full`: every codec not kept by `offer`/`except`/`transcode`)",
        ),
    ),
    opt(
        Value("codec"),
        "transcode",
        Honoured(
            "PCMU or PCMA: added to the offer, transcoded if the callee picks it (the offer must have PCMU or PCMA); telephone-event: added to the offer, and digits are converted between RFC 4733 events and in-band tones for a party without it; other codecs are refused (they pass through untranscoded)",
        ),
    ),
    // ---- values: extmap ----
    opt(
        Value("extmap"),
        "strip",
        Honoured("every `a=extmap` is removed already (Tandem's behaviour), whatever the list"),
    ),
    opt(
        Value("extmap"),
        "mask",
        Honoured("every `a=extmap` is removed already (Tandem's behaviour), whatever the list"),
    ),
    // ---- values: ICE ----
    opt(
        Value("ICE"),
        "remove",
        Honoured("ICE attributes are removed (Tandem's behaviour: it does not do ICE)"),
    ),
    opt(Value("ICE"), "force", Refused(NO_ICE)),
    opt(Value("ICE"), "default", Refused(NO_ICE)),
    opt(Value("ICE"), "force-relay", Refused(NO_ICE)),
    opt(Value("ICE"), "optional", Refused(NO_ICE)),
    opt(Value("ICE"), "trickle", Refused(NO_ICE)),
    opt(Value("ICE"), "ice2", Refused(NO_ICE)),
    opt(ValuePrefix("ICE"), "lite", Refused(NO_ICE)),
    // ---- values: rtcp-mux ----
    opt(
        Value("rtcp-mux"),
        "offer",
        Honoured("rtcp-mux is offered to the callee"),
    ),
    opt(
        Value("rtcp-mux"),
        "require",
        Honoured("rtcp-mux is offered to the callee with no separate RTCP port"),
    ),
    opt(
        Value("rtcp-mux"),
        "demux",
        Honoured("rtcp-mux is not offered to the callee, still accepted from the caller"),
    ),
    opt(
        Value("rtcp-mux"),
        "accept",
        Honoured("rtcp-mux is accepted from the caller and offered on (Tandem's default)"),
    ),
    opt(
        Value("rtcp-mux"),
        "reject",
        Honoured("rtcp-mux is refused to the caller"),
    ),
    // ---- values: transport protocol ----
    opt(
        Value("transport protocol"),
        "RTP/AVP",
        Honoured("the callee is offered RTP/AVP"),
    ),
    opt(
        Value("transport protocol"),
        "RTP/AVPF",
        Honoured("the callee is offered RTP/AVPF"),
    ),
    opt(
        Value("transport protocol"),
        "RTP/SAVP",
        Honoured("the callee is offered RTP/SAVP with the relay's own SDES keys"),
    ),
    opt(
        Value("transport protocol"),
        "RTP/SAVPF",
        Honoured("the callee is offered RTP/SAVPF with the relay's own SDES keys"),
    ),
    opt(
        Value("transport protocol"),
        "UDP/TLS/RTP/SAVP",
        Refused(NO_DTLS),
    ),
    opt(
        Value("transport protocol"),
        "UDP/TLS/RTP/SAVPF",
        Refused(NO_DTLS),
    ),
    opt(
        Value("transport protocol"),
        "accept",
        Honoured("`answer`: the caller gets the protocol the callee answered with"),
    ),
    // ---- values: others ----
    opt(
        Value("address family"),
        "IP4",
        Honoured("IPv4, when the media interface is IPv4"),
    ),
    opt(
        Value("address family"),
        "IP6",
        Honoured("IPv6, when the media interface is IPv6"),
    ),
    opt(Value("all"), "none", Honoured("no effect (the default)")),
    opt(Value("all"), "all", Honoured("the whole call")),
    opt(
        Value("all"),
        "offer-answer",
        Honoured("the flows of the offer/answer (Tandem has no others)"),
    ),
    opt(
        Value("all"),
        "except-offer-answer",
        Refused(NO_SUBSCRIPTIONS),
    ),
    opt(
        Value("all"),
        "flows",
        Honoured("every flow of the selected party (Tandem has one per party)"),
    ),
    opt(
        Value("audio player"),
        "default",
        Honoured("Tandem has no audio player"),
    ),
    opt(
        Value("audio player"),
        "off",
        Honoured("Tandem has no audio player"),
    ),
    opt(Value("audio player"), "transcoding", Refused(NO_PLAYER_MIX)),
    opt(Value("audio player"), "always", Refused(NO_PLAYER_MIX)),
    alias(
        Value("DTLS"),
        "off",
        &["no", "disable", "disabled"],
        Honoured("Tandem never offers DTLS"),
    ),
    opt(Value("DTLS"), "passive", Refused(NO_DTLS)),
    opt(Value("DTLS"), "active", Refused(NO_DTLS)),
    opt(
        Value("DTMF-security"),
        "drop",
        Honoured("DTMF events are dropped (the default of `block DTMF`)"),
    ),
    opt(
        Value("DTMF-security"),
        "off",
        Honoured("DTMF events pass (no blocking)"),
    ),
    opt(Value("DTMF-security"), "silence", Refused(NO_DTMF_REPLACE)),
    opt(Value("DTMF-security"), "tone", Refused(NO_DTMF_REPLACE)),
    opt(Value("DTMF-security"), "random", Refused(NO_DTMF_REPLACE)),
    opt(Value("DTMF-security"), "zero", Refused(NO_DTMF_REPLACE)),
    opt(Value("DTMF-security"), "DTMF", Refused(NO_DTMF_REPLACE)),
    opt(
        Value("generate RTCP"),
        "on",
        Honoured("Tandem's behaviour: each leg's RTCP is generated by the relay"),
    ),
    opt(
        Value("generate RTCP"),
        "off",
        Refused("RTCP is not passed through: each leg's RTCP is generated by the relay"),
    ),
    alias(
        Value("record call"),
        "yes",
        &["on", "true"],
        Honoured("the call is recorded"),
    ),
    alias(
        Value("record call"),
        "no",
        &["off", "false"],
        Honoured("the call is not recorded"),
    ),
    opt(
        Value("drop-traffic"),
        "start",
        Honoured("all media of the call is dropped"),
    ),
    opt(Value("drop-traffic"), "stop", Honoured("media flows again")),
    alias(
        Value("SDES"),
        "off",
        &["no", "disable", "disabled"],
        Honoured("no SDES towards the callee: an SRTP offer to it is refused (no DTLS-SRTP)"),
    ),
    opt(Value("SDES"), "unencrypted_srtp", Refused(NO_WEAK_SRTP)),
    opt(Value("SDES"), "unencrypted_srtcp", Refused(NO_WEAK_SRTP)),
    opt(Value("SDES"), "unauthenticated_srtp", Refused(NO_WEAK_SRTP)),
    opt(
        Value("SDES"),
        "encrypted_srtp",
        Honoured("SRTP is always encrypted (the default)"),
    ),
    opt(
        Value("SDES"),
        "encrypted_srtcp",
        Honoured("SRTCP is always encrypted (the default)"),
    ),
    opt(
        Value("SDES"),
        "authenticated_srtp",
        Honoured("SRTP is always authenticated (the default)"),
    ),
    opt(Value("SDES"), "nonew", Refused(OWN_SUITES)),
    opt(
        Value("SDES"),
        "pad",
        Refused("keys are printed unpadded, as RFC 4568 asks"),
    ),
    opt(
        Value("SDES"),
        "lifetime",
        Refused("the relay's keys carry no lifetime"),
    ),
    opt(
        Value("SDES"),
        "static",
        Refused("the relay's keys are fresh for every offer"),
    ),
    opt(Value("SDES"), "prefer", Refused(OWN_SUITES)),
    opt(
        ValuePrefix("SDES"),
        "no-",
        Honoured("the named suite is left out of the offer to the callee"),
    ),
    opt(
        ValuePrefix("SDES"),
        "only-",
        Honoured("only the named suites are offered to the callee"),
    ),
    opt(ValuePrefix("SDES"), "order:", Refused(OWN_SUITES)),
    opt(ValuePrefix("SDES"), "offerer_pref:", Refused(OWN_SUITES)),
    opt(
        Value("supports"),
        "load limit",
        Honoured("a full or draining relay answers `result: load limit`"),
    ),
    opt(
        Value("direction"),
        "round-robin-calls",
        Refused("interface round-robin needs more than one interface"),
    ),
];
