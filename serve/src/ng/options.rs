//! What Tandem does with every command, key, flag and enumerated value of rtpengine's ng
//! protocol: one table ([`entries`], in `table/`) that request parsing reads and
//! `docs/ng.md` is generated from.
//!
//! Each entry is in one of four states:
//! - **honoured**: Tandem does what rtpengine's documentation says (the text says how);
//! - **refused**: a request carrying it gets `result: error` with an `error-reason` naming
//!   it and saying why, and changes nothing;
//! - **refused until the media engine can** ([`State::Engine`]): the same, for features
//!   waiting on one engine capability ([`Gap`]); [`engine_can`] is the one place that turns
//!   them on;
//! - **not applicable**: accepted because it has no meaning for Tandem (the text says why).
//!
//! rtpengine ignores names it does not know; Tandem refuses them (`unknown key 'x'`), because
//! a proxy that is told `ok` for something that was not done is worse off than one told no.
//! The `ignore-unknown-keys` setting relaxes that for dictionary keys that are in no table
//! at all (never for refused ones).
//!
//! Names are matched after [`normalise`]: case, `-`, `_` and repeated spaces do not matter
//! (`call-id`, `Call ID` and `call_id` are one key).

use std::collections::HashMap;
use std::sync::LazyLock;

use super::normalise;
pub use super::table::{CONDITIONAL, entries};

/// What a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A `command`.
    Command,
    /// A dictionary key.
    Key,
    /// A string of the `flags` list.
    Flag,
    /// A flag that is a prefix and a value (`codec-strip-PCMA`): the same as the value given
    /// to a key.
    FlagPrefix,
    /// One value of a key (`ICE` = `remove`), or a key of a sub-dictionary (`codec` →
    /// `strip`).
    Value(&'static str),
    /// A value that is a prefix and a parameter (`SDES` = `no-AES_CM_128_HMAC_SHA1_32`).
    ValuePrefix(&'static str),
}

impl Kind {
    /// How replies and docs name the kind.
    pub fn noun(self) -> String {
        match self {
            Kind::Command => "command".into(),
            Kind::Key => "key".into(),
            Kind::Flag | Kind::FlagPrefix => "flag".into(),
            Kind::Value(k) | Kind::ValuePrefix(k) => format!("'{k}' value"),
        }
    }
}

/// An engine capability some options wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gap {
    /// Relaying codecs other than G.711 unchanged (G.722 and others).
    PassThroughCodecs,
    /// Binding the legs of one call on two interfaces.
    TwoInterfaces,
}

impl Gap {
    /// Every gap, for docs.
    pub const ALL: [Gap; 2] = [Gap::PassThroughCodecs, Gap::TwoInterfaces];

    /// What the engine lacks, as error replies and docs say it.
    pub fn needs(self) -> &'static str {
        match self {
            Gap::PassThroughCodecs => {
                "the media engine relays codecs other than PCMU and PCMA unchanged (pass-through)"
            }
            Gap::TwoInterfaces => "the media engine binds every call on one interface",
        }
    }
}

/// Whether the media engine has a capability. The one switch the engine work flips: an
/// entry in [`State::Engine`] reads as honoured once its gap is closed here.
pub const fn engine_can(gap: Gap) -> bool {
    match gap {
        Gap::PassThroughCodecs => true,
        Gap::TwoInterfaces => false,
    }
}

/// What Tandem does with a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Done as documented; the text says how.
    Honoured(&'static str),
    /// Refused with an error reply; the text says why.
    Refused(&'static str),
    /// Refused until the media engine has the capability.
    Engine(Gap),
    /// Accepted with no effect, because it means nothing for Tandem; the text says why.
    NotApplicable(&'static str),
}

/// How a state reads once [`engine_can`] is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effective {
    /// Accepted and done.
    Honoured,
    /// Refused with this reason.
    Refused(&'static str),
    /// Accepted, no effect.
    NotApplicable,
}

impl State {
    /// The state as parsing applies it.
    pub fn effective(self) -> Effective {
        match self {
            State::Honoured(_) => Effective::Honoured,
            State::Refused(why) => Effective::Refused(why),
            State::Engine(g) if engine_can(g) => Effective::Honoured,
            State::Engine(g) => Effective::Refused(g.needs()),
            State::NotApplicable(_) => Effective::NotApplicable,
        }
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    /// What it is.
    pub kind: Kind,
    /// Its name as rtpengine's documentation spells it.
    pub name: &'static str,
    /// Other spellings rtpengine accepts.
    pub aliases: &'static [&'static str],
    /// What Tandem does with it.
    pub state: State,
}

/// Shorthand for the table.
pub(super) const fn opt(kind: Kind, name: &'static str, state: State) -> Opt {
    Opt {
        kind,
        name,
        aliases: &[],
        state,
    }
}

/// Shorthand for the table: with aliases.
pub(super) const fn alias(
    kind: Kind,
    name: &'static str,
    aliases: &'static [&'static str],
    state: State,
) -> Opt {
    Opt {
        kind,
        name,
        aliases,
        state,
    }
}

/// The kinds with their own namespace in the index (prefixes are scanned).
fn index() -> &'static HashMap<(Kind, String), &'static Opt> {
    static INDEX: LazyLock<HashMap<(Kind, String), &'static Opt>> = LazyLock::new(|| {
        let mut m = HashMap::new();
        for o in entries() {
            for n in std::iter::once(o.name).chain(o.aliases.iter().copied()) {
                m.insert((o.kind, normalise(n)), o);
            }
        }
        m
    });
    &INDEX
}

/// The entry for a name of a kind (not prefixes).
pub fn lookup(kind: Kind, name: &str) -> Option<&'static Opt> {
    index().get(&(kind, normalise(name))).copied()
}

/// Loose prefix match: `prefix` at the start of `s`, ignoring ASCII case and treating `-`,
/// `_` and space alike. Returns the rest of `s` as given (its case kept).
pub fn strip_prefix_loose<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let sep = |c: u8| matches!(c, b'-' | b'_' | b' ');
    let (sb, pb) = (s.as_bytes(), prefix.as_bytes());
    if sb.len() < pb.len() {
        return None;
    }
    let same = sb
        .iter()
        .zip(pb)
        .all(|(&a, &b)| a.eq_ignore_ascii_case(&b) || sep(a) && sep(b));
    // `pb.len()` is on a char boundary of `s`: the bytes before it matched ASCII ones.
    (same && s.is_char_boundary(pb.len())).then(|| &s[pb.len()..])
}

/// The prefix entry of `kind` (`FlagPrefix` or `ValuePrefix(key)`) that starts `s`, with the
/// rest of `s`; the longest prefix wins.
pub fn lookup_prefix(kind: Kind, s: &str) -> Option<(&'static Opt, &str)> {
    entries()
        .filter(|o| o.kind == kind)
        .flat_map(|o| {
            std::iter::once(o.name)
                .chain(o.aliases.iter().copied())
                .map(move |n| (o, n))
        })
        .filter_map(|(o, n)| strip_prefix_loose(s, n).map(|rest| (o, n.len(), rest)))
        .filter(|(_, _, rest)| !rest.is_empty())
        .max_by_key(|(_, len, _)| *len)
        .map(|(o, _, rest)| (o, rest))
}

/// The error reason for a refused name.
pub fn refusal(kind: Kind, name: &str, why: &str) -> String {
    format!("{} '{name}' is not supported: {why}", kind.noun())
}

/// The error reason for a name in no table.
pub fn unknown(kind: Kind, name: &str) -> String {
    format!("unknown {} '{name}'", kind.noun())
}

/// The error reason for an option that needs an engine capability, if it is missing.
pub fn engine_refusal(what: &str, gap: Gap) -> Option<String> {
    (!engine_can(gap)).then(|| format!("{what} is not supported: {}", gap.needs()))
}

/// Entries counted by effective state: (honoured, refused, not applicable).
pub fn counts() -> (usize, usize, usize) {
    entries().fold((0, 0, 0), |(h, r, n), o| match o.state.effective() {
        Effective::Honoured => (h + 1, r, n),
        Effective::Refused(_) => (h, r + 1, n),
        Effective::NotApplicable => (h, r, n + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_within_its_kind() {
        let mut seen = HashMap::new();
        for o in entries() {
            for n in std::iter::once(o.name).chain(o.aliases.iter().copied()) {
                if let Some(first) = seen.insert((o.kind, normalise(n)), o.name) {
                    panic!(
                        "{n:?} ({:?}) is listed twice: {first} and {}",
                        o.kind, o.name
                    );
                }
            }
        }
    }

    #[test]
    fn lookups_ignore_case_and_separators() {
        let o = lookup(Kind::Key, "Call_ID").unwrap();
        assert_eq!(o.name, "call-id");
        assert_eq!(lookup(Kind::Value("ICE"), "REMOVE").unwrap().name, "remove");
        assert!(lookup(Kind::Key, "no-such-key").is_none());
        let (o, rest) = lookup_prefix(Kind::FlagPrefix, "codec_strip-PCMA").unwrap();
        assert_eq!((o.name, rest), ("codec-strip-", "PCMA"));
        let (o, rest) = lookup_prefix(Kind::FlagPrefix, "transcode-G722").unwrap();
        assert_eq!((o.name, rest), ("transcode-", "G722"));
        assert_eq!(strip_prefix_loose("SDES-é", "sdes-"), Some("é"));
        assert_eq!(strip_prefix_loose("é", "ab"), None);
    }

    #[test]
    fn engine_entries_are_refused_while_the_engine_lacks_them() {
        for o in entries() {
            if let State::Engine(g) = o.state {
                assert_eq!(
                    o.state.effective() == Effective::Honoured,
                    engine_can(g),
                    "{}",
                    o.name
                );
            }
        }
        for g in Gap::ALL {
            assert_eq!(engine_refusal("x", g).is_some(), !engine_can(g));
        }
    }
}
