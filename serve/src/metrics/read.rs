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
}
