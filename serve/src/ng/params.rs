//! A request's parameters, read through the option table: every key, flag and value is
//! looked up; an unknown or refused one makes the whole request an error naming it, so
//! nothing is accepted and then ignored.

use std::net::{IpAddr, SocketAddr};

use super::normalise;
use super::options::{
    Effective, Kind, Opt, lookup, lookup_prefix, refusal, strip_prefix_loose, unknown,
};
use crate::bencode::Value;

/// How strictly names are checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Strictness {
    /// Dictionary keys in no table are skipped (logged) instead of refused.
    pub ignore_unknown_keys: bool,
}

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4.
    Ip4,
    /// IPv6.
    Ip6,
}

/// The `codec` operations, as given (codec specifications like `PCMU` or `opus/48000/2`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodecOps {
    /// `strip`.
    pub strip: Vec<String>,
    /// `mask` and `consume`.
    pub mask: Vec<String>,
    /// `offer`.
    pub offer: Vec<String>,
    /// `transcode`.
    pub transcode: Vec<String>,
    /// `except`.
    pub except: Vec<String>,
    /// `accept` (`all` for every codec).
    pub accept: Vec<String>,
    /// `ignore`.
    pub ignore: Vec<String>,
    /// `set`.
    pub set: Vec<String>,
}

impl CodecOps {
    /// Whether any operation was given.
    pub fn is_empty(&self) -> bool {
        *self == CodecOps::default()
    }
}

/// The SDES options of a request (`SDES` values or `SDES-…` flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdesOptions {
    /// `off`: no SDES towards the party the message goes to.
    pub off: bool,
    /// `no-<suite>`: suites left out of what is offered.
    pub no: Vec<String>,
    /// `only-<suite>`: only these suites are offered.
    pub only: Vec<String>,
}

/// The parameters of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// The command (normalised).
    pub command: String,
    /// Call-ID.
    pub call_id: Option<String>,
    /// From-tag.
    pub from_tag: Option<String>,
    /// To-tag.
    pub to_tag: Option<String>,
    /// SDP body.
    pub sdp: Option<String>,
    /// Honoured flags, normalised canonical names.
    pub flags: Vec<String>,
    /// `replace` values, normalised canonical names.
    pub replace: Vec<String>,
    /// `ICE` = `remove`.
    pub ice_remove: bool,
    /// `transport protocol`: `RTP/AVP`, `RTP/AVPF` or `accept`.
    pub transport_protocol: Option<&'static str>,
    /// `SDES` values and `SDES-…` flags.
    pub sdes: SdesOptions,
    /// `record call`.
    pub record_call: Option<bool>,
    /// `received from` address.
    pub received_from: Option<IpAddr>,
    /// `media address`.
    pub media_address: Option<IpAddr>,
    /// `address family`.
    pub address_family: Option<Family>,
    /// Interface names from `direction`, `from-interface`, `to-interface`, `interface`.
    pub interfaces: Vec<String>,
    /// `label` / `from-label`.
    pub label: Option<String>,
    /// `set-label`.
    pub set_label: Option<String>,
    /// `to-label`.
    pub to_label: Option<String>,
    /// `from-tags` (and `from-tags-` flags).
    pub from_tags: Vec<String>,
    /// `codec` operations (and `codec-…` flags).
    pub codec: CodecOps,
    /// `ptime`.
    pub ptime: Option<u32>,
    /// `ptime-reverse`.
    pub ptime_reverse: Option<u32>,
    /// `repacketize`: the ptime both parties are sent.
    pub repacketize: Option<u32>,
    /// `rtcp-mux` values, normalised canonical names.
    pub rtcp_mux: Vec<String>,
    /// `metadata`.
    pub metadata: Option<String>,
    /// `output-destination` / `recording-file`.
    pub recording_file: Option<String>,
    /// `recording-dir`.
    pub recording_dir: Option<String>,
    /// `supports` lists `load limit`.
    pub supports_load_limit: bool,
    /// `delete delay`, seconds.
    pub delete_delay: Option<u32>,
    /// `all` (key or flag): normalised canonical value.
    pub all: Option<&'static str>,
    /// `DTMF-log-dest`.
    pub dtmf_log_dest: Option<SocketAddr>,
    /// `address` (party selection).
    pub address: Option<IpAddr>,
    /// `pause` (stop recording).
    pub pause: bool,
    /// `drop-traffic`: start (true) or stop.
    pub drop_traffic: Option<bool>,
    /// `DTMF-security` = `off` (no blocking).
    pub dtmf_security_off: bool,
    /// `file` (play media).
    pub file: Option<String>,
    /// `repeat-times` (play media).
    pub repeat_times: Option<i64>,
    /// `repeat-duration`, ms (play media).
    pub repeat_duration: Option<i64>,
    /// `code` / `digit` (play DTMF).
    pub code: Option<String>,
    /// `limit` (list).
    pub limit: Option<i64>,
    /// `after` (list): the call-id a page starts after.
    pub after: Option<String>,
    /// Keys skipped under `ignore-unknown-keys`.
    pub ignored: Vec<String>,
}

/// Longest string a key may carry besides `sdp` (call-ids, tags, labels, metadata, paths).
const MAX_TEXT: usize = 4096;
/// Most items in one list value.
const MAX_ITEMS: usize = 64;

fn text(key: &str, v: &Value) -> Result<String, String> {
    let s = match v {
        Value::Int(i) => return Ok(i.to_string()),
        _ => v
            .as_str()
            .ok_or_else(|| format!("key '{key}' must be a string"))?,
    };
    if s.len() > MAX_TEXT && key != "sdp" {
        return Err(format!("key '{key}' is longer than {MAX_TEXT} bytes"));
    }
    Ok(s.to_string())
}

/// The strings of a list value (or of a string, split at spaces).
fn strings(key: &str, v: &Value) -> Result<Vec<String>, String> {
    let items: Vec<String> = match v {
        Value::List(l) => l.iter().map(|i| text(key, i)).collect::<Result<_, _>>()?,
        _ => text(key, v)?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    };
    if items.len() > MAX_ITEMS {
        return Err(format!("key '{key}' has more than {MAX_ITEMS} items"));
    }
    Ok(items)
}

fn int(key: &str, v: &Value) -> Result<i64, String> {
    v.as_int()
        .ok_or_else(|| format!("key '{key}' must be an integer"))
}

fn ranged(key: &str, v: &Value, lo: i64, hi: i64) -> Result<i64, String> {
    let n = int(key, v)?;
    if !(lo..=hi).contains(&n) {
        return Err(format!("key '{key}' is {n}: use {lo} to {hi}"));
    }
    Ok(n)
}

fn ip(key: &str, s: &str) -> Result<IpAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("key '{key}': '{s}' is not an IP address"))
}

/// Checks a name against the table; `Ok(None)`: not applicable (accepted, no effect).
fn check(kind: Kind, name: &str, o: Option<&'static Opt>) -> Result<Option<&'static Opt>, String> {
    let o = o.ok_or_else(|| unknown(kind, name))?;
    match o.state.effective() {
        Effective::Honoured => Ok(Some(o)),
        Effective::Refused(why) => Err(refusal(kind, name, why)),
        Effective::NotApplicable => Ok(None),
    }
}

/// The entry for `value` of `key` (exact, then prefix), checked.
fn value_of(key: &'static str, value: &str) -> Result<Option<&'static Opt>, String> {
    let o = lookup(Kind::Value(key), value)
        .or_else(|| lookup_prefix(Kind::ValuePrefix(key), value).map(|(o, _)| o));
    let kind = match o {
        Some(o) => o.kind,
        None => Kind::Value(key),
    };
    check(kind, value, o)
}

impl Params {
    /// Reads a request strictly: any unknown or refused name is an error naming it.
    pub fn from_body(body: &Value) -> Result<Params, String> {
        Params::parse(body, Strictness::default())
    }

    /// Reads a request.
    pub fn parse(body: &Value, strict: Strictness) -> Result<Params, String> {
        let Value::Dict(items) = body else {
            return Err("the request is not a dictionary".into());
        };
        let mut p = Params::default();
        let command = body
            .get("command")
            .and_then(Value::as_str)
            .ok_or("no command")?;
        check(Kind::Command, command, lookup(Kind::Command, command))?;
        p.command = normalise(command);
        for (k, v) in items {
            let name = String::from_utf8_lossy(k);
            let Some(o) = lookup(Kind::Key, &name) else {
                if strict.ignore_unknown_keys {
                    p.ignored.push(name.into_owned());
                    continue;
                }
                return Err(unknown(Kind::Key, &name));
            };
            if let Some(o) = check(Kind::Key, &name, Some(o))? {
                p.key(o.name, v)?;
            }
        }
        Ok(p)
    }

    /// Whether honoured flag `name` (any spelling) was given.
    pub fn flag(&self, name: &str) -> bool {
        let n = normalise(name);
        self.flags.contains(&n)
    }

    /// Whether `replace` value `name` (any spelling) was given.
    pub fn replaces(&self, name: &str) -> bool {
        let n = normalise(name);
        self.replace.contains(&n)
    }

    /// Whether `rtcp-mux` value `name` was given.
    pub fn rtcp_mux(&self, name: &str) -> bool {
        self.rtcp_mux.iter().any(|f| f == name)
    }

    /// Whether the request is for the whole call (`all` = `all`).
    pub fn whole_call(&self) -> bool {
        self.all == Some("all")
    }

    fn key(&mut self, key: &'static str, v: &Value) -> Result<(), String> {
        match key {
            "command" => {}
            "sdp" => self.sdp = Some(text(key, v)?),
            "call-id" => self.call_id = Some(text(key, v)?),
            "from-tag" => self.from_tag = Some(text(key, v)?),
            "to-tag" => self.to_tag = Some(text(key, v)?),
            "flags" => {
                for f in strings(key, v)? {
                    self.flag_item(&f)?;
                }
            }
            "replace" => {
                for r in strings(key, v)? {
                    self.replace_item(&r)?;
                }
            }
            "codec" => self.codec_dict(v)?,
            "ICE" => {
                for s in strings(key, v)? {
                    value_of(key, &s)?;
                    self.ice_remove = true; // `remove` is the only value honoured
                }
            }
            "transport protocol" => {
                let s = text(key, v)?;
                self.transport_protocol = value_of("transport protocol", &s)?.map(|o| o.name);
            }
            "record call" => {
                let s = text(key, v)?;
                self.record_call = value_of("record call", &s)?.map(|o| o.name == "yes");
            }
            "received from" => {
                let items = strings(key, v)?;
                let addr = items.last().ok_or("key 'received from' is empty")?;
                self.received_from = Some(ip(key, addr)?);
            }
            "media address" => self.media_address = Some(ip(key, &text(key, v)?)?),
            "address" => self.address = Some(ip(key, &text(key, v)?)?),
            "address family" => {
                let s = text(key, v)?;
                self.address_family = match value_of("address family", &s)?.map(|o| o.name) {
                    Some("IP6") => Some(Family::Ip6),
                    Some(_) => Some(Family::Ip4),
                    None => None,
                };
            }
            "direction" => {
                for s in strings(key, v)? {
                    if normalise(&s) == "round robin calls" {
                        value_of("direction", &s)?;
                    }
                    self.interfaces.push(s);
                }
            }
            "from-interface" | "to-interface" | "interface" => {
                self.interfaces.push(text(key, v)?);
            }
            // One interface: every peer is reached through it; the address is checked.
            "inbound-peer" | "outbound-peer" | "peer" => {
                ip(key, &text(key, v)?)?;
            }
            "label" => self.label = Some(text(key, v)?),
            "set-label" => self.set_label = Some(text(key, v)?),
            "to-label" => self.to_label = Some(text(key, v)?),
            "from-tags" => self.from_tags.extend(strings(key, v)?),
            "ptime" => self.ptime = Some(ranged(key, v, 1, 1000)? as u32),
            "ptime-reverse" => self.ptime_reverse = Some(ranged(key, v, 1, 1000)? as u32),
            "repacketize" => self.repacketize = Some(ranged(key, v, 10, 60)? as u32),
            "rtcp-mux" => {
                for s in strings(key, v)? {
                    self.rtcp_mux_item(&s)?;
                }
            }
            "metadata" => self.metadata = Some(text(key, v)?),
            "output-destination" => self.recording_file = Some(text(key, v)?),
            "recording-dir" => self.recording_dir = Some(text(key, v)?),
            "supports" => {
                for s in strings(key, v)? {
                    // Capabilities of the proxy: only `load limit` asks anything of Tandem.
                    if normalise(&s) == "load limit" {
                        self.supports_load_limit = true;
                    }
                }
            }
            "delete delay" => self.delete_delay = Some(ranged(key, v, 0, 3600)? as u32),
            "all" => {
                let s = text(key, v)?;
                self.all = value_of("all", &s)?.map(|o| o.name);
            }
            "DTMF-log-dest" => {
                let s = text(key, v)?;
                let addr = s.trim().parse().map_err(|_| {
                    format!("key 'DTMF-log-dest': '{s}' is not an address and port")
                })?;
                self.dtmf_log_dest = Some(addr);
            }
            "pause" if self.command == "play dtmf" => {
                return Err(refusal(
                    Kind::Key,
                    "pause",
                    "the engine's gap between digits is fixed (60 ms)",
                ));
            }
            "pause" => {
                let s = text(key, v)?;
                self.pause = matches!(normalise(&s).as_str(), "yes" | "on" | "true" | "1");
            }
            "drop-traffic" => {
                let s = text(key, v)?;
                self.drop_traffic = value_of("drop-traffic", &s)?.map(|o| o.name == "start");
            }
            "DTMF-security" => {
                let s = text(key, v)?;
                self.dtmf_security_off =
                    value_of("DTMF-security", &s)?.map(|o| o.name) == Some("off");
            }
            "SDES" => {
                for s in strings(key, v)? {
                    self.sdes_item(&s)?;
                }
            }
            "DTLS" | "audio player" | "generate RTCP" => {
                for s in strings(key, v)? {
                    value_of(key, &s)?;
                }
            }
            "delay-buffer" => {
                if int(key, v)? != 0 {
                    return Err(refusal(
                        Kind::Key,
                        "delay-buffer",
                        "media delay buffers are not supported (0 only)",
                    ));
                }
            }
            "duration" => {
                if int(key, v)? != 100 {
                    return Err(refusal(
                        Kind::Key,
                        "duration",
                        "the engine plays each digit for 100 ms (100 only)",
                    ));
                }
            }
            "extmap" => {
                let Value::Dict(items) = v else {
                    return Err("key 'extmap' must be a dictionary".into());
                };
                for (k, _) in items {
                    value_of("extmap", &String::from_utf8_lossy(k))?;
                }
            }
            "file" => self.file = Some(text(key, v)?),
            "repeat-times" => self.repeat_times = Some(ranged(key, v, 1, 1000)?),
            "repeat-duration" => self.repeat_duration = Some(ranged(key, v, 1, 3_600_000)?),
            "digit" => self.code = Some(text(key, v)?),
            "limit" => self.limit = Some(int(key, v)?),
            "after" => self.after = Some(text(key, v)?),
            other => {
                return Err(format!(
                    "key '{other}' has no reader (a table without code)"
                ));
            }
        }
        Ok(())
    }

    fn flag_item(&mut self, f: &str) -> Result<(), String> {
        if let Some(o) = lookup(Kind::Flag, f) {
            if let Some(o) = check(Kind::Flag, f, Some(o))? {
                match o.name {
                    "all" => self.all = Some("all"),
                    "always transcode" => self.codec.accept.push("all".into()),
                    "reject ICE" => self.ice_remove = true,
                    "record call" => self.record_call = Some(true),
                    "pause" => self.pause = true,
                    _ => {}
                }
                self.flags.push(normalise(o.name));
            }
            return Ok(());
        }
        let Some((o, rest)) = lookup_prefix(Kind::FlagPrefix, f) else {
            return Err(unknown(Kind::Flag, f));
        };
        let Some(o) = check(Kind::Flag, f, Some(o))? else {
            return Ok(());
        };
        let rest = rest.to_string();
        match o.name {
            "codec-strip-" => self.codec.strip.push(rest),
            "codec-offer-" => self.codec.offer.push(rest),
            "codec-transcode-" | "transcode-" => self.codec.transcode.push(rest),
            "codec-mask-" | "codec-consume-" => self.codec.mask.push(rest),
            "codec-set-" => self.codec.set.push(rest),
            "codec-except-" => self.codec.except.push(rest),
            "codec-accept-" => self.codec.accept.push(rest),
            "codec-ignore-" => self.codec.ignore.push(rest),
            "from-tags-" => self.from_tags.push(rest),
            "replace-" => self.replace_item(&rest)?,
            "rtcp-mux-" => self.rtcp_mux_item(&rest)?,
            "SDES-" => self.sdes_item(&rest)?,
            other => return Err(format!("flag prefix '{other}' has no reader")),
        }
        Ok(())
    }

    /// One `SDES` value (`off`, `no-<suite>`, `only-<suite>`; the others are refused by
    /// the table).
    fn sdes_item(&mut self, s: &str) -> Result<(), String> {
        let Some(o) = value_of("SDES", s)? else {
            return Ok(());
        };
        let rest = |prefix| strip_prefix_loose(s, prefix).map(str::to_string);
        match o.name {
            "off" => self.sdes.off = true,
            "no-" => self.sdes.no.extend(rest("no-")),
            "only-" => self.sdes.only.extend(rest("only-")),
            _ => {}
        }
        Ok(())
    }

    fn replace_item(&mut self, r: &str) -> Result<(), String> {
        if let Some(o) = value_of("replace", r)? {
            self.replace.push(normalise(o.name));
        }
        Ok(())
    }

    fn rtcp_mux_item(&mut self, s: &str) -> Result<(), String> {
        if let Some(o) = value_of("rtcp-mux", s)? {
            self.rtcp_mux.push(o.name.to_string());
        }
        Ok(())
    }

    fn codec_dict(&mut self, v: &Value) -> Result<(), String> {
        let Value::Dict(items) = v else {
            return Err("key 'codec' must be a dictionary".into());
        };
        for (k, list) in items {
            let name = String::from_utf8_lossy(k);
            let Some(o) = value_of("codec", &name)? else {
                continue;
            };
            let codecs = strings("codec", list)?;
            let into = match o.name {
                "strip" => &mut self.codec.strip,
                "mask" | "consume" => &mut self.codec.mask,
                "offer" => &mut self.codec.offer,
                "transcode" => &mut self.codec.transcode,
                "except" => &mut self.codec.except,
                "accept" => &mut self.codec.accept,
                "ignore" => &mut self.codec.ignore,
                "set" => &mut self.codec.set,
                other => return Err(format!("codec operation '{other}' has no reader")),
            };
            into.extend(codecs);
        }
        Ok(())
    }
}
