//! `/metrics` over HTTP (tiny_http): `GET` and `HEAD /metrics` answer the exposition,
//! every other path 404 and every other method 405. Connections are read by tiny_http's
//! own threads and requests answered by a few handler threads, so idle or slow
//! connections do not hold up a scrape.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tiny_http::{Header, Method, Response, Server};

use super::Metrics;

/// Threads answering requests.
const HANDLERS: usize = 2;

/// A running metrics endpoint.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl MetricsServer {
    /// Serves `metrics` on an already bound listener.
    pub fn start(listener: TcpListener, metrics: Arc<Metrics>) -> std::io::Result<MetricsServer> {
        let addr = listener.local_addr()?;
        let server =
            Arc::new(Server::from_listener(listener, None).map_err(std::io::Error::other)?);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for i in 0..HANDLERS {
            let (server, metrics, stop) = (server.clone(), metrics.clone(), stop.clone());
            threads.push(
                thread::Builder::new()
                    .name(format!("metrics-{i}"))
                    .spawn(move || handle(&server, &metrics, &stop))?,
            );
        }
        Ok(MetricsServer {
            addr,
            stop,
            threads,
        })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the handlers and closes the listener.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn handle(server: &Server, metrics: &Metrics, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let req = match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(_) => return,
        };
        let path = req.url().split('?').next().unwrap_or("");
        let get = matches!(req.method(), Method::Get | Method::Head);
        let r = if path != "/metrics" {
            req.respond(Response::from_string("not found\n").with_status_code(404))
        } else if !get {
            let allow = Header::from_bytes("Allow", "GET, HEAD").expect("valid header");
            req.respond(
                Response::from_string("method not allowed\n")
                    .with_status_code(405)
                    .with_header(allow),
            )
        } else {
            let ct = Header::from_bytes(
                "Content-Type",
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            )
            .expect("valid header");
            req.respond(Response::from_string(metrics.render()).with_header(ct))
        };
        if let Err(e) = r {
            tracing::debug!(error = %e, "metrics response not delivered");
        }
    }
}
