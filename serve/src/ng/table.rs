//! The data of the option table (see `options.rs`): every command, key, flag and value of
//! rtpengine's `docs/ng_control_protocol.md`, a few names the Kamailio module sends, and
//! Tandem's own extensions (marked as such).

use super::options::Gap::{DtmfConversion, PassThroughCodecs, Repacketise, Srtp, TwoInterfaces};
use super::options::Kind::{Command, Flag, FlagPrefix, Key, Value, ValuePrefix};
use super::options::State::{Engine, Honoured, NotApplicable, Refused};
use super::options::{Opt, alias, opt};

const NO_SUBSCRIPTIONS: &str = "Tandem has no publish/subscribe media forking";
const NO_DTLS: &str = "DTLS-SRTP is not supported";
const NO_ICE: &str = "Tandem does not do ICE; use ICE=remove";
const NO_T38: &str = "T.38 gatewaying is not supported";
const NO_DTMF_REPLACE: &str = "only dropping DTMF events is supported (no replacement modes, \
                               triggers or delays)";
const NO_PLAYER_MIX: &str = "Tandem has no audio player mixing";
const NO_DB: &str = "Tandem has no database";

/// Every entry. Order: commands, keys, flags, values; within each as rtpengine's
/// documentation lists them.
pub static TABLE: &[Opt] = &[
    // ---- commands ----
    opt(Command, "ping", Honoured("answers `pong`")),
    opt(
        Command,
        "offer",
        Honoured("creates or updates a call; replies with the rewritten SDP"),
    ),
    opt(
        Command,
        "answer",
        Honoured("completes a call; replies with the rewritten SDP"),
    ),
    opt(
        Command,
        "delete",
        Honoured("deletes the call (now or after `delete delay`), with its statistics"),
    ),
    opt(
        Command,
        "query",
        Honoured("the call's statistics, read from the engine at the time of the request"),
    ),
    opt(
        Command,
        "list",
        Honoured("call-ids in pages (`limit`, then `after`)"),
    ),
    opt(
        Command,
        "start recording",
        Honoured("starts a new recording segment (WAV) with a JSON metadata file"),
    ),
    opt(
        Command,
        "stop recording",
        Honoured("stops the recording (or pauses it with `pause`)"),
    ),
    opt(
        Command,
        "pause recording",
        Honoured("pauses the recording (silence is written)"),
    ),
    opt(
        Command,
        "block DTMF",
        Honoured("drops RFC 4733 events from the whole call or from one party"),
    ),
    opt(
        Command,
        "unblock DTMF",
        Honoured("undoes `block DTMF` for the call or for one party"),
    ),
    opt(
        Command,
        "block media",
        Honoured("drops audio (not DTMF) from the whole call or from one party"),
    ),
    opt(
        Command,
        "unblock media",
        Honoured("undoes `block media` for the call or for one party"),
    ),
    opt(
        Command,
        "silence media",
        Honoured("replaces audio with silence, the stream stays up"),
    ),
    opt(
        Command,
        "unsilence media",
        Honoured("undoes `silence media`"),
    ),
    opt(
        Command,
        "start forwarding",
        Refused("PCM forwarding to a recording daemon is not supported"),
    ),
    opt(
        Command,
        "stop forwarding",
        Refused("PCM forwarding to a recording daemon is not supported"),
    ),
    opt(
        Command,
        "play media",
        Honoured("plays a WAV `file` to a party"),
    ),
    opt(
        Command,
        "stop media",
        Honoured("stops what `play media` started"),
    ),
    opt(
        Command,
        "play DTMF",
        Honoured(
            "sends a digit from a party to the other (RFC 4733 when negotiated, else in-band)",
        ),
    ),
    opt(
        Command,
        "statistics",
        Honoured("daemon-wide counters in rtpengine's layout"),
    ),
    opt(Command, "publish", Refused(NO_SUBSCRIPTIONS)),
    opt(Command, "subscribe request", Refused(NO_SUBSCRIPTIONS)),
    opt(Command, "subscribe answer", Refused(NO_SUBSCRIPTIONS)),
    opt(Command, "unsubscribe", Refused(NO_SUBSCRIPTIONS)),
    opt(
        Command,
        "inject start",
        Refused("mixing one party's audio into another's stream is not supported"),
    ),
    opt(
        Command,
        "inject stop",
        Refused("mixing one party's audio into another's stream is not supported"),
    ),
    opt(
        Command,
        "connect",
        Refused("connecting parties of different dialogues is not supported"),
    ),
    opt(
        Command,
        "create",
        Refused("creating calls without an offer is not supported"),
    ),
    opt(
        Command,
        "create answer",
        Refused("creating calls without an offer is not supported"),
    ),
    opt(Command, "mesh", Refused("merging calls is not supported")),
    // ---- keys ----
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
            "every `a=extmap` is removed (the relay does not forward RTP header extensions), which covers `strip` and `mask`",
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
    opt(Key, "OSRTP", Engine(Srtp)),
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
            "the ptime towards the callee; only when it equals what the caller sends (default 20), otherwise refused until the engine repacketises",
        ),
    ),
    opt(
        Key,
        "ptime-reverse",
        Honoured(
            "the ptime towards the caller, put in the answer; only when it equals what the callee sends, otherwise the answer is refused until the engine repacketises",
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
    opt(
        Key,
        "SDES",
        Honoured("see its values: Tandem never offers SDES"),
    ),
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
    opt(Key, "repacketize", Engine(Repacketise)),
    // ---- flags ----
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
    opt(Flag, "pad crypto", Engine(Srtp)),
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
    opt(Flag, "recrypt", Engine(Srtp)),
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
    opt(FlagPrefix, "OSRTP-", Engine(Srtp)),
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
            "these caller codecs are kept towards the caller when the callee picks another (transcoding)",
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
        Honoured("G.711 has no options to set: `PCMU`/`PCMA` entries are accepted, others refused"),
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
            "PCMU or PCMA: added to the offer, transcoded if the callee picks it; other codecs wait for the engine",
        ),
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
    opt(Value("transport protocol"), "RTP/SAVP", Engine(Srtp)),
    opt(Value("transport protocol"), "RTP/SAVPF", Engine(Srtp)),
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
    opt(Value("DTMF-security"), "silence", Engine(DtmfConversion)),
    opt(Value("DTMF-security"), "tone", Engine(DtmfConversion)),
    opt(Value("DTMF-security"), "random", Engine(DtmfConversion)),
    opt(Value("DTMF-security"), "zero", Engine(DtmfConversion)),
    opt(Value("DTMF-security"), "DTMF", Engine(DtmfConversion)),
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
        Honoured("Tandem never offers SDES"),
    ),
    opt(Value("SDES"), "unencrypted_srtp", Engine(Srtp)),
    opt(Value("SDES"), "unencrypted_srtcp", Engine(Srtp)),
    opt(Value("SDES"), "unauthenticated_srtp", Engine(Srtp)),
    opt(Value("SDES"), "encrypted_srtp", Engine(Srtp)),
    opt(Value("SDES"), "encrypted_srtcp", Engine(Srtp)),
    opt(Value("SDES"), "authenticated_srtp", Engine(Srtp)),
    opt(Value("SDES"), "nonew", Engine(Srtp)),
    opt(Value("SDES"), "pad", Engine(Srtp)),
    opt(Value("SDES"), "lifetime", Engine(Srtp)),
    opt(Value("SDES"), "static", Engine(Srtp)),
    opt(Value("SDES"), "prefer", Engine(Srtp)),
    opt(ValuePrefix("SDES"), "no-", Engine(Srtp)),
    opt(ValuePrefix("SDES"), "only-", Engine(Srtp)),
    opt(ValuePrefix("SDES"), "order:", Engine(Srtp)),
    opt(ValuePrefix("SDES"), "offerer_pref:", Engine(Srtp)),
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

/// Values of honoured keys that are refused until the engine can (checked where the
/// request is carried out): what, and the gap. Listed in `docs/ng.md` with the table.
pub static CONDITIONAL: &[(&str, super::options::Gap)] = &[
    (
        "`ptime` or `ptime-reverse` different from what the sending party uses",
        Repacketise,
    ),
    (
        "`codec` `transcode` naming `telephone-event` (DTMF conversion)",
        DtmfConversion,
    ),
    (
        "`codec` `transcode`, `offer`, `except` or `set` naming a codec other than PCMU or PCMA",
        PassThroughCodecs,
    ),
    (
        "an offer's codecs other than PCMU, PCMA and telephone-event: removed from the offer, named in the reply's `warning` (an offer with none of PCMU and PCMA is refused)",
        PassThroughCodecs,
    ),
    (
        "an offer or answer with `RTP/SAVP` or `RTP/SAVPF` media",
        Srtp,
    ),
    (
        "`direction`, `from-interface`/`to-interface` naming two different interfaces",
        TwoInterfaces,
    ),
];
