//! Reading a daemon's metrics from outside: one `GET /metrics` and the figures in the text.
//! The soak benchmark and the daemon's tests watch a running daemon with it.
//!
//! The request is a plain HTTP/1.0 exchange on a fresh connection (the server closes it after
//! the body), written by hand: a client crate would bring a TLS stack and a connection pool
//! for one request on loopback.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `GET /metrics` from `addr`: the body of a 200 answer, or an error (connection, timeout,
/// another status).
pub fn scrape(addr: SocketAddr, timeout: Duration) -> io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: tandem\r\n\r\n")?;
    let mut text = String::new();
    // A daemon's page is a few hundred KB at most; anything longer is not one.
    s.take(16 << 20).read_to_string(&mut text)?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no HTTP header"))?;
    let status = head.split(' ').nth(1).unwrap_or("");
    if status != "200" {
        return Err(io::Error::other(format!(
            "metrics at {addr} answered HTTP status {status:?}"
        )));
    }
    Ok(body.to_string())
}

/// The sum of the samples of `name` in an exposition: every line whose name is exactly
/// `name` (with any labels), or, if `name` carries labels (`x{a="b"}`), the line that
/// starts with it. `None` if there is no such sample.
pub fn sum(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !rest.starts_with([' ', '{']) {
            continue;
        }
        if let Some(v) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

/// The `q` quantile (0 to 1) of histogram `name` summed over all its label sets (shards),
/// as the upper bound of the bucket it falls in (`le`, `f64::INFINITY` for `+Inf`): no more
/// than `1 - q` of the observations exceed it. `None` without observations.
pub fn histogram_quantile(text: &str, name: &str, q: f64) -> Option<f64> {
    let bounds = histogram_buckets(text, name)?;
    let total = bounds.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let want = (q.clamp(0.0, 1.0) * total).ceil().max(1.0);
    bounds.iter().find(|(_, c)| *c >= want).map(|(b, _)| *b)
}

/// The buckets of histogram `name` summed over all its label sets (shards): each upper
/// bound (`le`, `f64::INFINITY` for `+Inf`) with its cumulative count, in order of bound.
/// `None` if a bucket line is malformed; empty if there are none.
pub fn histogram_buckets(text: &str, name: &str) -> Option<Vec<(f64, f64)>> {
    let prefix = format!("{name}_bucket{{");
    // Cumulative counts per bound, summed over label sets.
    let mut bounds: Vec<(f64, f64)> = Vec::new();
    for line in text.lines().filter(|l| l.starts_with(&prefix)) {
        let (labels, value) = line[prefix.len()..].split_once("} ")?;
        let le = labels
            .split(',')
            .find_map(|kv| kv.trim().strip_prefix("le=\""))?
            .trim_end_matches('"');
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().ok()?
        };
        let v: f64 = value.trim().parse().ok()?;
        match bounds.iter_mut().find(|(b, _)| *b == le) {
            Some((_, sum)) => *sum += v,
            None => bounds.push((le, v)),
        }
    }
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP a_total A.\n# TYPE a_total counter\na_total{shard=\"0\"} 2\n\
                        a_total{shard=\"1\"} 3\nab_total 7\nb 1.5\n";

    #[test]
    fn sums_a_family_and_reads_one_sample() {
        assert_eq!(sum(TEXT, "a_total"), Some(5.0));
        assert_eq!(sum(TEXT, "a_total{shard=\"1\"}"), Some(3.0));
        assert_eq!(sum(TEXT, "b"), Some(1.5));
        assert_eq!(
            sum(TEXT, "a"),
            None,
            "a prefix of another name is not that name"
        );
        assert_eq!(sum(TEXT, "c"), None);
    }

    #[test]
    fn histogram_quantiles_sum_the_shards_cumulative_buckets() {
        let text = "# TYPE t histogram\n\
            t_sum{shard=\"0\"} 1\nt_count{shard=\"0\"} 1000\n\
            t_bucket{le=\"0.001\",shard=\"0\"} 990\nt_bucket{le=\"0.02\",shard=\"0\"} 999\n\
            t_bucket{le=\"+Inf\",shard=\"0\"} 1000\n\
            t_bucket{le=\"0.001\",shard=\"1\"} 1000\nt_bucket{le=\"0.02\",shard=\"1\"} 1000\n\
            t_bucket{le=\"+Inf\",shard=\"1\"} 1000\n";
        assert_eq!(histogram_quantile(text, "t", 0.5), Some(0.001));
        assert_eq!(histogram_quantile(text, "t", 0.995), Some(0.001));
        assert_eq!(histogram_quantile(text, "t", 0.9991), Some(0.02));
        assert_eq!(histogram_quantile(text, "t", 1.0), Some(f64::INFINITY));
        assert_eq!(histogram_quantile(text, "u", 0.5), None);
        assert_eq!(
            histogram_quantile("t_bucket{le=\"+Inf\"} 0\n", "t", 0.5),
            None
        );
    }
}
