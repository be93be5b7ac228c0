//! The strings of the `flags` list, then the prefix flags that carry a value (`codec-strip-PCMA`).

use crate::ng::options::Kind::{Flag, FlagPrefix};
use crate::ng::options::State::{Honoured, NotApplicable, Refused};
use crate::ng::options::{Opt, alias, opt};

use super::{NO_DB, NO_ICE, NO_OSRTP, NO_PLAYER_MIX, NO_SUBSCRIPTIONS, NO_T38};

/// The strings of the `flags` list, then the prefix flags that carry a value (`codec-strip-PCMA`).
pub(super) static FLAGS: &[Opt] = &[
    opt(Flag, "all", Honoured("same as `all` = `all`")),
    alias(
        Flag,
        "allow asymmetric codecs",
        &["allow asymmetric codec", "asymmetric codecs"],
        Honoured(
            "Tandem always accepts an answer's payload types as they are (each leg keeps its own)",
        ),
    ),
    alias(
        Flag,
        "allow no codec media",
        &["allow no codec medias", "allow empty codec media"],
        Honoured(
            "a stream left without codecs by `codec` operations is rejected (port 0) instead of keeping the original codecs",
        ),
    ),
    opt(
        Flag,
        "allow transcoding",
        Refused("belongs to `subscribe answer`, which is refused"),
    ),
    opt(
        Flag,
        "force transcoding",
        Refused("Tandem transcodes only between different codecs"),
    ),
    opt(
        Flag,
        "always transcode",
        Honoured("same as `codec` `accept` `all`"),
    ),
    opt(
        Flag,
        "asymmetric",
        Refused("Tandem always learns where a party sends from"),
    ),
    opt(Flag, "bidirectional", Refused(NO_SUBSCRIPTIONS)),
    opt(
        Flag,
        "unsubscribe",
        Refused("belongs to `mesh`, which is refused"),
    ),
    opt(
        Flag,
        "block DTMF",
        Honoured("in an offer or answer: blocks DTMF from the party that sent it"),
    ),
    alias(
        Flag,
        "block egress",
        &["egress"],
        Refused("playback does not block other media yet"),
    ),
    alias(
        Flag,
        "block short",
        &["block short packets", "block shorts"],
        Refused("short-packet blocking is not supported"),
    ),
    alias(
        Flag,
        "debug",
        &["debugging"],
        NotApplicable(
            "logging is set for the whole daemon (RUST_LOG); every command is logged at info",
        ),
    ),
    opt(
        Flag,
        "detect DTMF",
        Honoured("the party's audio is also searched for in-band DTMF (Goertzel)"),
    ),
    opt(
        Flag,
        "directional",
        Honoured("block/unblock/silence honour the from-tag"),
    ),
    opt(
        Flag,
        "discard recording",
        Honoured("the call's recording files and metadata are deleted once complete"),
    ),
    opt(
        Flag,
        "exclude recording",
        Refused("recording always covers both parties"),
    ),
    alias(
        Flag,
        "skip-recording-db",
        &["skip recording database"],
        NotApplicable(NO_DB),
    ),
    opt(Flag, "early media", Refused(NO_PLAYER_MIX)),
    opt(Flag, "fragment", Refused(NO_ICE)),
    opt(
        Flag,
        "full rtcp attribute",
        Honoured("`a=rtcp` carries the address as well as the port"),
    ),
    opt(
        Flag,
        "generate RTCP",
        Honoured("same as `generate RTCP` = `on`"),
    ),
    opt(
        Flag,
        "generate mid",
        Honoured("adds `a=mid` to streams that lack one"),
    ),
    opt(Flag, "inactive", Refused(NO_SUBSCRIPTIONS)),
    opt(
        Flag,
        "inject DTMF",
        Honoured("`play DTMF` works on every call; nothing more to mark"),
    ),
    opt(
        Flag,
        "loop protect",
        Honoured(
            "marks rewritten SDP with `a=rtpengine:<id>`; an SDP carrying this relay's mark is returned untouched",
        ),
    ),
    opt(
        Flag,
        "media handover",
        Refused("a new source takes over only by the latching rule"),
    ),
    alias(Flag, "mix", &["mixed"], Refused(NO_SUBSCRIPTIONS)),
    opt(
        Flag,
        "NAT-wait",
        Refused("media is sent as soon as the address is known"),
    ),
    opt(
        Flag,
        "new branch",
        Refused(
            "to-tag aliases are not supported: the latest answer's to-tag takes the callee leg",
        ),
    ),
    opt(
        Flag,
        "no port latching",
        Refused("Tandem never changes a call's local ports"),
    ),
    opt(
        Flag,
        "no rtcp attribute",
        Honoured("no `a=rtcp` in rewritten SDP"),
    ),
    opt(
        Flag,
        "no-tls-id",
        Honoured("Tandem never generates `a=tls-id`"),
    ),
    opt(
        Flag,
        "original sendrecv",
        Honoured("direction attributes pass unchanged (Tandem's behaviour)"),
    ),
    opt(
        Flag,
        "pad crypto",
        Refused("keys are printed unpadded, as RFC 4568 asks"),
    ),
    opt(
        Flag,
        "pierce NAT",
        Refused("NAT-piercing packets are not sent"),
    ),
    opt(
        Flag,
        "port latching",
        Honoured("local ports are kept across re-offers (Tandem's behaviour)"),
    ),
    opt(
        Flag,
        "provisional",
        Refused("to-tag changes after a final answer are handled as a new answer"),
    ),
    opt(
        Flag,
        "record call",
        Honoured("same as `record call` = `on`"),
    ),
    opt(Flag, "recording announcement", Refused(NO_PLAYER_MIX)),
    opt(
        Flag,
        "recrypt",
        Honoured("SRTP is always decrypted and re-encrypted with each leg's own keys"),
    ),
    alias(
        Flag,
        "reject ICE",
        &["ICE reject"],
        Honoured("ICE attributes are removed from the offer"),
    ),
    opt(
        Flag,
        "reset",
        NotApplicable("Tandem keeps no learnt ICE or SRTP support per endpoint"),
    ),
    alias(
        Flag,
        "reuse codecs",
        &["no codec renegotiation"],
        Refused("a re-offer's codecs are used as offered"),
    ),
    alias(
        Flag,
        "RTCP mirror",
        &["mirror RTCP"],
        Refused(NO_SUBSCRIPTIONS),
    ),
    opt(
        Flag,
        "single codec",
        Honoured("the answer towards the caller lists one codec (and telephone-event)"),
    ),
    alias(
        Flag,
        "static codecs",
        &["static codec"],
        Refused("the callee is offered the caller's codecs"),
    ),
    opt(
        Flag,
        "SIP source address",
        Honoured("media goes to `received from`, not the SDP's address"),
    ),
    opt(
        Flag,
        "symmetric",
        Honoured("Tandem's behaviour: media goes back where it comes from"),
    ),
    opt(
        Flag,
        "trust address",
        Honoured("Tandem's behaviour: the SDP's address is used"),
    ),
    opt(
        Flag,
        "strip extmap",
        Honoured("every `a=extmap` is removed (Tandem's behaviour)"),
    ),
    opt(
        Flag,
        "strict source",
        Honoured("both legs accept media only from the source heard first"),
    ),
    opt(Flag, "trickle ICE", Refused(NO_ICE)),
    opt(
        Flag,
        "unidirectional",
        NotApplicable("Tandem has no kernel forwarding to restrict"),
    ),
    opt(
        Flag,
        "WebRTC",
        Refused("needs ICE, DTLS-SRTP and rtcp-mux; ICE and DTLS are not supported"),
    ),
    opt(
        Flag,
        "fatal",
        Honoured("`delete` of an unknown call is an error (without it, `ok` with a warning)"),
    ),
    opt(
        Flag,
        "fast",
        Honoured("`delete` replies without statistics"),
    ),
    opt(
        Flag,
        "to-tag",
        Honoured("`delete`: the to-tag must be the call's callee"),
    ),
    opt(Flag, "pause", Honoured("`stop recording` pauses instead")),
    opt(
        Flag,
        "pass non audio",
        Honoured(
            "Tandem extension: non-audio streams go to the callee unrelayed (their original address and port) instead of being rejected",
        ),
    ),
    opt(
        FlagPrefix,
        "codec-strip-",
        Honoured("same as `codec` `strip`"),
    ),
    opt(
        FlagPrefix,
        "codec-offer-",
        Honoured("same as `codec` `offer`"),
    ),
    opt(
        FlagPrefix,
        "codec-transcode-",
        Honoured("same as `codec` `transcode`"),
    ),
    opt(
        FlagPrefix,
        "transcode-",
        Honoured("same as `codec` `transcode`"),
    ),
    opt(
        FlagPrefix,
        "codec-mask-",
        Honoured("same as `codec` `mask`"),
    ),
    opt(FlagPrefix, "codec-set-", Honoured("same as `codec` `set`")),
    opt(
        FlagPrefix,
        "codec-except-",
        Honoured("same as `codec` `except`"),
    ),
    opt(
        FlagPrefix,
        "codec-accept-",
        Honoured("same as `codec` `accept`"),
    ),
    opt(
        FlagPrefix,
        "codec-consume-",
        Honoured("same as `codec` `consume`"),
    ),
    opt(
        FlagPrefix,
        "codec-ignore-",
        Honoured("same as `codec` `ignore`"),
    ),
    opt(FlagPrefix, "from-tags-", Honoured("adds to `from-tags`")),
    opt(
        FlagPrefix,
        "replace-",
        Honoured("same as the `replace` value"),
    ),
    opt(
        FlagPrefix,
        "rtcp-mux-",
        Honoured("same as the `rtcp-mux` value"),
    ),
    opt(FlagPrefix, "SDES-", Honoured("same as the `SDES` value")),
    opt(FlagPrefix, "OSRTP-", Refused(NO_OSRTP)),
    opt(
        FlagPrefix,
        "endpoint-learning-",
        Refused("Tandem's latching rule is set by the daemon's latch-packets and latch-idle-ms"),
    ),
    opt(
        FlagPrefix,
        "BUNDLE-",
        Refused("SDP bundling (RFC 9143) is not supported"),
    ),
    opt(
        FlagPrefix,
        "sdp-attr-",
        Refused("SDP attribute manipulation is not supported"),
    ),
    alias(FlagPrefix, "T.38-", &["T38-"], Refused(NO_T38)),
];
