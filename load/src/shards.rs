//! How a level's calls and datagrams spread over a multi-shard relay's shards
//! ([`ShardSpread`]), and whether any call's media crossed shards.
//!
//! Two independent views, both from outside the relay:
//! - **placement**: each shard owns a disjoint slice of the media port range, so the ports
//!   the relay handed out say which shard holds each leg; a call whose two legs are on
//!   different shards is *split*;
//! - **traffic**: each shard's own datagram counters (`tandem serve`'s Prometheus metrics
//!   `tandem_shard_datagrams_in`, `_out` and `_send_errors`, read before and after the
//!   load). A shard only sends from sockets it owns, so a datagram it received for a call
//!   whose other leg is elsewhere could not leave through it: it would show as a shard
//!   receiving more than it sends (sends the kernel refused aside). Sending more than
//!   receiving is the relay's own traffic (RTCP reports, about 0.2% of a 5 s level), which
//!   can hide a smaller shortfall: the placement is the exact check, the traffic the gross
//!   one.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::table::aligned_table;
use crate::target::CallTarget;

/// One shard's datagram counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardCounters {
    /// Datagrams received so far.
    pub datagrams_in: u64,
    /// Datagrams sent so far.
    pub datagrams_out: u64,
    /// Sends the kernel refused so far.
    #[serde(default)]
    pub send_errors: u64,
    /// Datagrams dropped unread so far because they had waited too long (shed).
    #[serde(default)]
    pub stale_dropped: u64,
}

/// One shard's share of a level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardLoad {
    /// Calls with both legs on this shard.
    pub calls: usize,
    /// Datagrams it received during the level.
    pub datagrams_in: u64,
    /// Datagrams it sent during the level.
    pub datagrams_out: u64,
    /// Sends the kernel refused during the level.
    #[serde(default)]
    pub send_errors: u64,
    /// Datagrams it dropped unread during the level because they had waited too long.
    #[serde(default)]
    pub stale_dropped: u64,
}

/// How a level's calls and traffic spread over the relay's shards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpread {
    /// Per shard, in shard order.
    pub shards: Vec<ShardLoad>,
    /// Calls whose two legs are on different shards (or on a port no shard owns).
    pub split_calls: usize,
}

impl ShardSpread {
    /// Places each call of `targets` by `shard_of` (the shard owning a relay port) and takes
    /// each shard's counters from `after - before`.
    pub fn measure(
        targets: &[CallTarget],
        shard_of: &dyn Fn(SocketAddr) -> Option<usize>,
        before: &[ShardCounters],
        after: &[ShardCounters],
    ) -> ShardSpread {
        let mut shards: Vec<ShardLoad> = after
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let b = before.get(i).copied().unwrap_or_default();
                ShardLoad {
                    calls: 0,
                    datagrams_in: a.datagrams_in.saturating_sub(b.datagrams_in),
                    datagrams_out: a.datagrams_out.saturating_sub(b.datagrams_out),
                    send_errors: a.send_errors.saturating_sub(b.send_errors),
                    stale_dropped: a.stale_dropped.saturating_sub(b.stale_dropped),
                }
            })
            .collect();
        let mut split_calls = 0;
        for t in targets {
            match (shard_of(t.a_port), shard_of(t.b_port)) {
                (Some(a), Some(b)) if a == b && a < shards.len() => shards[a].calls += 1,
                _ => split_calls += 1,
            }
        }
        ShardSpread {
            shards,
            split_calls,
        }
    }

    /// Datagrams shards received beyond what they sent or tried to send themselves or
    /// shed as stale, summed: what a shard would have had to hand to another to forward.
    pub fn unforwarded(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| {
                s.datagrams_in
                    .saturating_sub(s.datagrams_out)
                    .saturating_sub(s.send_errors)
                    .saturating_sub(s.stale_dropped)
            })
            .sum()
    }

    /// Split calls plus unforwarded datagrams: zero when no media crossed shards.
    pub fn cross_shard(&self) -> u64 {
        self.split_calls as u64 + self.unforwarded()
    }

    /// One row per shard: calls, datagrams in and out, and their share of the total.
    pub fn text(&self) -> String {
        let total_in: u64 = self.shards.iter().map(|s| s.datagrams_in).sum();
        let rows: Vec<Vec<String>> = self
            .shards
            .iter()
            .enumerate()
            .map(|(i, s)| {
                vec![
                    i.to_string(),
                    s.calls.to_string(),
                    s.datagrams_in.to_string(),
                    s.datagrams_out.to_string(),
                    s.send_errors.to_string(),
                    if total_in > 0 {
                        format!("{:.1}", s.datagrams_in as f64 * 100.0 / total_in as f64)
                    } else {
                        "-".into()
                    },
                ]
            })
            .collect();
        let mut out = aligned_table(
            &[
                "shard",
                "calls",
                "datagrams in",
                "datagrams out",
                "send errors",
                "share %",
            ],
            &rows,
            1,
        );
        out.push_str(&format!(
            "split calls: {}, datagrams received and not forwarded by their shard: {}\n",
            self.split_calls,
            self.unforwarded()
        ));
        out
    }
}

/// Fetches `http://addr/metrics` and returns the body (waiting at most 2 s for each step).
pub fn scrape_metrics(addr: SocketAddr) -> io::Result<String> {
    tandem_serve::metrics::read::scrape(addr, Duration::from_secs(2))
}

/// The per-shard datagram counters in a Prometheus text exposition
/// (`tandem_shard_datagrams_in{shard="0"} 12`, counters possibly suffixed `_total`).
pub fn shard_counters(metrics: &str) -> io::Result<Vec<ShardCounters>> {
    let mut out: Vec<ShardCounters> = Vec::new();
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, rest)) = line.split_once('{') else {
            continue;
        };
        let name = name.strip_suffix("_total").unwrap_or(name);
        let field = match name {
            "tandem_shard_datagrams_in" => 0,
            "tandem_shard_datagrams_out" => 1,
            "tandem_shard_send_errors" => 2,
            "tandem_shard_stale_dropped" => 3,
            _ => continue,
        };
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad metric line {line:?}"),
            )
        };
        let (labels, value) = rest.split_once('}').ok_or_else(bad)?;
        let shard: usize = labels
            .split(',')
            .find_map(|l| l.trim().strip_prefix("shard=\""))
            .and_then(|v| v.strip_suffix('"'))
            .and_then(|v| v.parse().ok())
            .ok_or_else(bad)?;
        let value: u64 = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .map(|v| v as u64)
            .ok_or_else(bad)?;
        if shard >= 4096 {
            return Err(bad());
        }
        if out.len() <= shard {
            out.resize(shard + 1, ShardCounters::default());
        }
        let c = &mut out[shard];
        *match field {
            0 => &mut c.datagrams_in,
            1 => &mut c.datagrams_out,
            2 => &mut c.send_errors,
            _ => &mut c.stale_dropped,
        } = value;
    }
    if out.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no tandem_shard_datagrams_* metrics",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    fn call(a: u16, b: u16) -> CallTarget {
        CallTarget {
            a_port: SocketAddr::from(([127, 0, 0, 1], a)),
            b_port: SocketAddr::from(([127, 0, 0, 1], b)),
        }
    }

    /// Two shards owning 1000-1999 and 2000-2999.
    fn by_range(a: SocketAddr) -> Option<usize> {
        match a.port() {
            1000..=1999 => Some(0),
            2000..=2999 => Some(1),
            _ => None,
        }
    }

    /// Counters with `in`, `out` and `errors` datagrams.
    fn counted(datagrams_in: u64, datagrams_out: u64, send_errors: u64) -> ShardCounters {
        ShardCounters {
            datagrams_in,
            datagrams_out,
            send_errors,
            stale_dropped: 0,
        }
    }

    #[test]
    fn calls_are_placed_by_port_and_splits_counted() {
        let before = [ShardCounters::default(); 2];
        // Shard 0 sent 4 RTCP reports of its own; shard 1's kernel refused 3 sends.
        let after = [counted(200, 204, 0), counted(100, 97, 3)];
        let s = ShardSpread::measure(
            &[call(1000, 1002), call(1004, 1006), call(2000, 2002)],
            &by_range,
            &before,
            &after,
        );
        assert_eq!((s.shards[0].calls, s.shards[1].calls), (2, 1));
        assert_eq!((s.split_calls, s.unforwarded(), s.cross_shard()), (0, 0, 0));
        let text = s.text();
        assert!(text.contains("66.7"), "{text}");

        // A call across shards, and a shard that received what another sent.
        let crossed = [counted(200, 100, 0), counted(0, 100, 0)];
        let s = ShardSpread::measure(
            &[call(1000, 2000), call(1000, 9)],
            &by_range,
            &before,
            &crossed,
        );
        assert_eq!(
            (s.split_calls, s.unforwarded(), s.cross_shard()),
            (2, 100, 102)
        );
        // Counters are taken as differences.
        let s = ShardSpread::measure(&[], &by_range, &crossed, &crossed);
        assert_eq!(s.shards, [ShardLoad::default(); 2]);
    }

    #[test]
    fn counters_come_from_the_prometheus_text() {
        let text = "# HELP tandem_shard_datagrams_in Datagrams received per shard.\n\
                    # TYPE tandem_shard_datagrams_in counter\n\
                    tandem_shard_datagrams_in_total{shard=\"0\"} 10\n\
                    tandem_shard_datagrams_in_total{shard=\"1\"} 20\n\
                    tandem_shard_datagrams_out_total{shard=\"1\"} 21\n\
                    tandem_shard_datagrams_out{shard=\"0\"} 9\n\
                    tandem_shard_send_errors_total{shard=\"0\"} 5\n\
                    tandem_shard_ticks_missed_total{shard=\"0\"} 7\n\
                    # EOF\n";
        let c = shard_counters(text).unwrap();
        assert_eq!(c, [counted(10, 9, 5), counted(20, 21, 0)]);
        assert!(shard_counters("up 1\n").is_err());
        assert!(shard_counters("tandem_shard_datagrams_in{shard=\"x\"} 1").is_err());
        assert!(shard_counters("tandem_shard_datagrams_in{shard=\"0\"} y").is_err());
        assert!(shard_counters("tandem_shard_datagrams_in{shard=\"99999\"} 1").is_err());
    }

    #[test]
    fn scraping_reads_the_body_of_a_200_and_refuses_other_statuses() {
        let serve = |reply: &'static str| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            std::thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                let mut req = [0u8; 1024];
                let n = s.read(&mut req).unwrap();
                assert!(req[..n].starts_with(b"GET /metrics HTTP/1.0\r\n"));
                s.write_all(reply.as_bytes()).unwrap();
            });
            addr
        };
        let ok = serve("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nup 1\n");
        assert_eq!(scrape_metrics(ok).unwrap(), "up 1\n");
        let missing = serve("HTTP/1.0 404 Not Found\r\n\r\n");
        assert!(
            scrape_metrics(missing)
                .unwrap_err()
                .to_string()
                .contains("404")
        );
    }
}
