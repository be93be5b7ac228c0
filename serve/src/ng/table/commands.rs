//! The commands, as rtpengine's documentation lists them.

use crate::ng::options::Kind::Command;
use crate::ng::options::State::{Honoured, Refused};
use crate::ng::options::{Opt, opt};

use super::NO_SUBSCRIPTIONS;

/// The commands, as rtpengine's documentation lists them.
pub(super) static COMMANDS: &[Opt] = &[
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
    opt(Command, "start forwarding", Refused(FORWARDING)),
    opt(Command, "stop forwarding", Refused(FORWARDING)),
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
];

/// Why `start forwarding` and `stop forwarding` are refused: the transports differ.
const FORWARDING: &str = "rtpengine forwards decoded PCM over TCP/TLS from its recording daemon \
     to a destination set in that daemon's configuration; Tandem's media fork sends RTP over UDP";
