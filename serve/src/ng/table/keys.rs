//! The dictionary keys: those of `offer` as rtpengine's documentation lists them, then those of the other commands.

use crate::ng::options::Kind::Key;
use crate::ng::options::State::{Honoured, NotApplicable, Refused};
use crate::ng::options::{Opt, alias, opt};

use super::{NO_DB, NO_DTLS, NO_DTMF_REPLACE, NO_ICE, NO_OSRTP, NO_T38};

/// The dictionary keys.
pub(super) static KEYS: &[Opt] = &[
    opt(Key, "command", Honoured("selects the command")),
    opt(
        Key,
        "sdp",
        Honoured("the SDP body to rewrite (at most 64 KiB)"),
    ),
    opt(Key, "call-id", Honoured("identifies the call")),
    opt(
        Key,
        "from-tag",
        Honoured("the caller's tag (offer), the party selected (other commands)"),
    ),
    opt(
        Key,
        "to-tag",
        Honoured("the callee's tag (answer); selects a party or flow"),
    ),
    opt(Key, "flags", Honoured("a list of the flags below")),
    opt(
        Key,
        "replace",
        Honoured("a list of the `replace` values below"),
    ),
    opt(
        Key,
        "codec",
        Honoured("a dictionary of the `codec` values below"),
    ),
    opt(
        Key,
        "all",
        Honoured("`all`: the whole call (delete, block, unblock, play); see its values"),
    ),
    opt(
        Key,
        "address family",
        Honoured("`IP4` or `IP6` for the rewritten SDP; must be the media interface's family"),
    ),
    opt(
        Key,
        "alias key",
        Refused("from-tag aliases are not supported"),
    ),
    alias(
        Key,
        "audio player",
        &["player"],
        Honoured("see its values: Tandem has no audio player"),
    ),
    opt(
        Key,
        "bundle",
        Refused("SDP bundling (RFC 9143) is not supported"),
    ),
    opt(
        Key,
        "extmap",
        Honoured(
            "a dictionary of the `extmap` values below; every `a=extmap` is removed (the relay does not forward RTP header extensions)",
        ),
    ),
    opt(
        Key,
        "delay-buffer",
        Honoured(
            "0 only (no delay, Tandem's behaviour); any other value is refused: media delay buffers are not supported",
        ),
    ),
    opt(
        Key,
        "direction",
        Honoured(
            "two interface names: both must be the configured interface (two different ones wait for the engine)",
        ),
    ),
    alias(
        Key,
        "digit",
        &["code"],
        Honoured("the digit of `play DTMF` (0-15, or one of 0-9 * # A-D)"),
    ),
    opt(
        Key,
        "drop-traffic",
        Honoured("`start` drops all media of the call, `stop` lets it through again"),
    ),
    opt(
        Key,
        "DTLS",
        Honoured("see its values: Tandem never offers DTLS"),
    ),
    opt(Key, "DTLS-fingerprint", Refused(NO_DTLS)),
    opt(Key, "DTMF-security", Honoured("see its values")),
    opt(Key, "DTMF-security-trigger", Refused(NO_DTMF_REPLACE)),
    opt(Key, "DTMF-security-trigger-end", Refused(NO_DTMF_REPLACE)),
    opt(Key, "DTMF-delay", Refused(NO_DTMF_REPLACE)),
    alias(
        Key,
        "DTMF-log-dest",
        &["dtmf-log-destination"],
        Honoured(
            "each digit of the call is sent there as one UDP datagram of JSON (rtpengine's format)",
        ),
    ),
    opt(
        Key,
        "endpoint-learning",
        Refused("Tandem's latching rule is set by the daemon's latch-packets and latch-idle-ms"),
    ),
    opt(
        Key,
        "from-interface",
        Honoured("must name the configured interface"),
    ),
    opt(
        Key,
        "inbound-peer",
        Honoured("one interface: every peer is reached through it"),
    ),
    alias(Key, "frequency", &["frequencies"], Refused(NO_DTMF_REPLACE)),
    opt(Key, "from-tags", Honoured("selects parties (query)")),
    opt(Key, "generate RTCP", Honoured("see its values")),
    opt(Key, "ICE", Honoured("see its values")),
    opt(Key, "ICE-lite", Refused(NO_ICE)),
    opt(
        Key,
        "interface",
        Honoured("must name the configured interface"),
    ),
    opt(
        Key,
        "peer",
        Honoured("one interface: every peer is reached through it"),
    ),
    alias(
        Key,
        "label",
        &["from-label"],
        Honoured(
            "names a party: set on offer (caller) and answer (callee), selects a party elsewhere",
        ),
    ),
    opt(
        Key,
        "media address",
        Honoured("the party's media address, over the SDP's and `received from`"),
    ),
    opt(
        Key,
        "media echo",
        Refused("media echo modes are not supported"),
    ),
    opt(
        Key,
        "metadata",
        Honoured(
            "kept with the call and written to the recording's metadata file; later messages replace it",
        ),
    ),
    opt(Key, "OSRTP", Refused(NO_OSRTP)),
    alias(
        Key,
        "output-destination",
        &[
            "output-dest",
            "output-file",
            "recording-destination",
            "recording-dest",
            "recording-file",
        ],
        Honoured(
            "the recording file: a name in the recording directory (`.wav` added) or a path (used as given), never outside the allowed directories",
        ),
    ),
    opt(
        Key,
        "ptime",
        Honoured(
            "the ptime towards the callee, put in the offer; when it differs from what the caller sends, the caller's packets are re-framed (10 to 60 ms; other values are refused); a re-offer may repeat or omit it, not change it",
        ),
    ),
    opt(
        Key,
        "ptime-reverse",
        Honoured(
            "the ptime towards the caller, put in the answer; the callee's packets are re-framed to it (10 to 60 ms; other values are refused)",
        ),
    ),
    opt(
        Key,
        "received from",
        Honoured("the SIP source address, used with `SIP source address`"),
    ),
    opt(
        Key,
        "record call",
        Honoured("see its values: records the call from the answer on"),
    ),
    opt(Key, "rtcp-mux", Honoured("see its values")),
    opt(
        Key,
        "SIP message type",
        NotApplicable(
            "informational: Tandem's handling does not depend on whether a request or a response carried the SDP",
        ),
    ),
    alias(
        Key,
        "SIP code",
        &["sip-response-code"],
        NotApplicable("informational: Tandem's handling does not depend on the SIP response code"),
    ),
    opt(
        Key,
        "template",
        Refused("signalling templates are not supported"),
    ),
    opt(
        Key,
        "via-branch",
        Refused(
            "forked branches are not told apart by Via branch: calls are keyed by call-id and tags",
        ),
    ),
    opt(
        Key,
        "set-label",
        Honoured("sets the label of the selected party"),
    ),
    opt(Key, "SDES", Honoured("see its values")),
    opt(
        Key,
        "supports",
        Honoured(
            "`load limit`: a full or draining relay answers `load limit` so the proxy tries another; other capabilities of the proxy need nothing from Tandem",
        ),
    ),
    opt(
        Key,
        "to-interface",
        Honoured("must name the configured interface"),
    ),
    opt(
        Key,
        "outbound-peer",
        Honoured("one interface: every peer is reached through it"),
    ),
    opt(
        Key,
        "to-label",
        Honoured("selects the other party (block, unblock)"),
    ),
    opt(
        Key,
        "TOS",
        Refused("setting the IP TOS of media packets is not supported"),
    ),
    opt(Key, "transport protocol", Honoured("see its values")),
    opt(Key, "trigger", Refused(NO_DTMF_REPLACE)),
    alias(
        Key,
        "trigger-end",
        &["end trigger"],
        Refused(NO_DTMF_REPLACE),
    ),
    opt(Key, "trigger-end-time", Refused(NO_DTMF_REPLACE)),
    opt(Key, "trigger-end-digits", Refused(NO_DTMF_REPLACE)),
    alias(Key, "T.38", &["T38"], Refused(NO_T38)),
    alias(Key, "T.38 version", &["T38 version"], Refused(NO_T38)),
    opt(
        Key,
        "volume",
        Refused("the engine plays digits and tones at a fixed level"),
    ),
    opt(
        Key,
        "xmlrpc-callback",
        Refused("Tandem has no XMLRPC timeout callback"),
    ),
    opt(
        Key,
        "sdp-attr",
        Refused("SDP attribute manipulation is not supported"),
    ),
    opt(
        Key,
        "sdp-media-remove",
        Refused("removing media sections is not supported"),
    ),
    opt(Key, "moh", Refused("music on hold is not supported")),
    opt(
        Key,
        "rtpp-flags",
        Refused(
            "flags in rtpp-flags form are not parsed by Tandem; let the proxy module parse them",
        ),
    ),
    opt(
        Key,
        "delete delay",
        Honoured(
            "seconds before the call is deleted (0: now, at most 3600); a later offer or answer cancels it",
        ),
    ),
    opt(Key, "limit", Honoured("most call-ids in a `list` reply")),
    opt(
        Key,
        "after",
        Honoured("Tandem extension: the call-id a `list` page starts after"),
    ),
    opt(
        Key,
        "address",
        Honoured("selects the party whose SDP names this address"),
    ),
    opt(
        Key,
        "pause",
        Honoured(
            "in `stop recording`: `yes` pauses; in `play DTMF`: refused (the engine's gap between digits is fixed)",
        ),
    ),
    alias(
        Key,
        "recording-dir",
        &[
            "recording-path",
            "recording-directory",
            "output-dir",
            "output-path",
        ],
        Honoured(
            "directory of the recording files; must be the recording directory, below it, or an allowed directory",
        ),
    ),
    alias(
        Key,
        "recording-pattern",
        &["output-pattern"],
        Refused("file names follow Tandem's pattern (call-id, hash, tag, time, segment)"),
    ),
    opt(Key, "file", Honoured("the WAV file `play media` plays")),
    opt(Key, "blob", Refused("only `file` playback is supported")),
    opt(Key, "blob64", Refused("only `file` playback is supported")),
    opt(Key, "db-id", Refused(NO_DB)),
    opt(
        Key,
        "repeat-times",
        Honoured("plays the file this many times (1-1000)"),
    ),
    opt(
        Key,
        "repeat-duration",
        Honoured("repeats the file until at least this many ms have played (at most 1000 times)"),
    ),
    opt(
        Key,
        "start-pos",
        Refused("playback always starts at the beginning"),
    ),
    opt(
        Key,
        "duration",
        Honoured("`play DTMF`: 100 only (the engine's digit length); other values are refused"),
    ),
    opt(
        Key,
        "source-tag",
        Refused("belongs to `inject start`, which is refused"),
    ),
    opt(
        Key,
        "source-call-id",
        Refused("belongs to `inject start`, which is refused"),
    ),
    opt(
        Key,
        "to-call-id",
        Refused("belongs to `connect`, which is refused"),
    ),
    opt(Key, "calls", Refused("belongs to `mesh`, which is refused")),
    opt(Key, "tags", Refused("belongs to `mesh`, which is refused")),
    opt(
        Key,
        "medias",
        Refused("belongs to `create`, which is refused"),
    ),
    opt(
        Key,
        "codecs-offer",
        Refused("belongs to `create`, which is refused"),
    ),
    opt(
        Key,
        "repacketize",
        Honoured(
            "media to both parties is re-framed to this many milliseconds (10 to 60), and each party's SDP says so; `ptime` and `ptime-reverse` take precedence for their direction",
        ),
    ),
];
