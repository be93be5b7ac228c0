//! The option table against rtpengine's documentation and against request parsing: every
//! name rtpengine documents has an entry, and every entry does what its state says when a
//! request carries it (refused ones are refused with their name in the reason).

use super::Params;
use super::normalise;
use super::options::{Effective, Kind, entries, lookup, lookup_prefix};
use crate::bencode::Value;

/// The names rtpengine's `docs/ng_control_protocol.md` documents (see the file's header).
const RTPENGINE_NAMES: &str = include_str!("../../tests/fixtures/rtpengine-ng-names.txt");

/// The fixture's lines as (kind, name).
fn rtpengine_names() -> Vec<(&'static str, &'static str)> {
    RTPENGINE_NAMES
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once('\t').expect("kind<TAB>name"))
        .collect()
}

/// Whether a documented name has its entry; `Err` says what is missing.
fn covered(kind: &str, name: &str) -> Result<(), String> {
    let found = match kind {
        "command" => lookup(Kind::Command, name).is_some(),
        "key" => lookup(Kind::Key, name).is_some(),
        "flag" => lookup(Kind::Flag, name).is_some(),
        "flag-prefix" => lookup_prefix(Kind::FlagPrefix, &format!("{name}X"))
            .is_some_and(|(o, _)| normalise(o.name) == normalise(name)),
        _ => {
            let (prefix, key) = kind.split_once(':').ok_or("unknown kind")?;
            let key = lookup(Kind::Key, key).ok_or(format!("no key '{key}'"))?;
            // A refused key refuses all its values, naming the key.
            if matches!(key.state.effective(), Effective::Refused(_)) {
                return Ok(());
            }
            match prefix {
                "value" => {
                    lookup(Kind::Value(key.name), name).is_some()
                        || lookup_prefix(Kind::ValuePrefix(key.name), name).is_some()
                }
                "value-prefix" => {
                    lookup_prefix(Kind::ValuePrefix(key.name), &format!("{name}X")).is_some()
                }
                _ => return Err(format!("unknown kind '{kind}'")),
            }
        }
    };
    if found {
        Ok(())
    } else {
        Err(format!("{kind} '{name}'"))
    }
}

#[test]
fn every_name_rtpengine_documents_has_an_entry() {
    let names = rtpengine_names();
    assert!(names.len() > 300, "the fixture lists {} names", names.len());
    let missing: Vec<String> = names
        .iter()
        .filter_map(|(k, n)| covered(k, n).err())
        .collect();
    assert!(missing.is_empty(), "not in the option table: {missing:?}");
}

#[test]
fn the_coverage_check_can_fail() {
    assert!(covered("key", "no-such-key").is_err());
    assert!(covered("flag", "no such flag").is_err());
    assert!(covered("value:ICE", "sideways").is_err());
    assert!(
        covered("flag-prefix", "codec-").is_err(),
        "only the longer prefixes exist"
    );
    assert!(
        covered("value:T.38", "anything").is_ok(),
        "T.38 is refused whole"
    );
}

/// A request of `command` with `extra` entries.
fn request(command: &str, extra: &[(&str, Value)]) -> Value {
    let mut d = Value::dict()
        .with("command", Value::str(command))
        .with("call-id", Value::str("c"))
        .with("from-tag", Value::str("f"));
    for (k, v) in extra {
        d = d.with(k, v.clone());
    }
    d
}

/// What parsing a request says about one entry: `Ok` when accepted, the reason otherwise.
fn parse(body: &Value) -> Result<Params, String> {
    Params::from_body(body)
}

fn expect_refused(body: &Value, name: &str) {
    match parse(body) {
        Err(why) => assert!(
            why.contains(name),
            "the refusal of '{name}' does not name it: {why}"
        ),
        Ok(_) => panic!("'{name}' is refused in the table but was accepted"),
    }
}

#[test]
fn every_refused_entry_is_refused_by_name_and_every_not_applicable_one_accepted() {
    let mut checked = 0;
    for o in entries() {
        let state = o.state.effective();
        let body = match o.kind {
            Kind::Command => request(o.name, &[]),
            Kind::Flag => request("offer", &[("flags", Value::List(vec![Value::str(o.name)]))]),
            Kind::FlagPrefix => {
                let f = format!("{}x", o.name);
                request("offer", &[("flags", Value::List(vec![Value::str(&f)]))])
            }
            // Refused keys are refused whatever their value; honoured ones need a valid value
            // (their behaviour is tested where they are carried out).
            Kind::Key => request("offer", &[(o.name, Value::str("x"))]),
            Kind::Value(key) | Kind::ValuePrefix(key) => {
                let v = match o.kind {
                    Kind::ValuePrefix(_) => format!("{}x", o.name),
                    _ => o.name.to_string(),
                };
                match key {
                    "codec" => request(
                        "offer",
                        &[("codec", Value::dict().with(o.name, Value::List(vec![])))],
                    ),
                    "extmap" => request(
                        "offer",
                        &[("extmap", Value::dict().with(o.name, Value::List(vec![])))],
                    ),
                    "replace" | "rtcp-mux" | "supports" => {
                        request("offer", &[(key, Value::List(vec![Value::str(&v)]))])
                    }
                    _ => request("offer", &[(key, Value::str(&v))]),
                }
            }
        };
        match state {
            Effective::Refused(_) => {
                expect_refused(&body, o.name.trim_end_matches(['-', ':']));
                checked += 1;
            }
            Effective::NotApplicable => {
                if let Err(why) = parse(&body) {
                    panic!("'{}' is not applicable (accepted) but: {why}", o.name);
                }
                checked += 1;
            }
            Effective::Honoured => {}
        }
    }
    assert!(checked > 100, "{checked} entries checked");
}
