//! Thousands of calls created and deleted quickly through a real daemon, on each driver,
//! with separate RTCP ports and media on some calls: at the end no channel is left, every
//! port can be used again, and the process holds exactly the descriptors it held before.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use support::{Daemon, Phone, eventually, marked, ok, open_fds, sdp_port};

/// Calls per driver.
const CALLS: usize = 5_000;
/// Calls alive at once.
const BATCH: usize = 40;
/// Media ports: 2 shards × 100 RTP/RTCP pairs, 100 channels each.
const PORTS: u16 = 400;

/// Descriptor counts are process-wide: one churn at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn churn(driver: &str) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(d) = Daemon::start(driver, PORTS, |c| c.num_threads = 2) else {
        return;
    };
    let (mut alice, mut bob) = (Phone::new(1), Phone::new(2));
    // Let the shard threads settle before counting.
    std::thread::sleep(Duration::from_millis(100));
    let fds_before = open_fds();

    let mut n = 0;
    while n < CALLS {
        let ids: Vec<String> = (n..n + BATCH).map(|k| format!("churn-{k}")).collect();
        for (k, id) in ids.iter().enumerate() {
            let (to_alice, to_bob) = d.call(id, &alice, &bob, &[]);
            if (n + k) % 10 == 0 {
                for s in 0..3 {
                    alice.send(to_alice, &marked(0xA1, s));
                    bob.send(to_bob, &marked(0xB0, s));
                }
            }
        }
        for id in &ids {
            ok(&d.delete(id));
        }
        n += BATCH;
        if n % 1_000 == 0 {
            alice.drain(Duration::from_millis(1));
            bob.drain(Duration::from_millis(1));
        }
    }
    assert_eq!(d.total("managedsessions"), CALLS as i64);
    assert_eq!(d.total("deletedsessions"), CALLS as i64);
    assert_eq!(d.current("sessionsown"), 0);
    assert_eq!(d.current("channels"), 0);

    // Every socket of every deleted call is closed.
    let settled = eventually(Duration::from_secs(5), || open_fds() == fds_before);
    assert!(
        settled,
        "{driver}: {} descriptors open, {fds_before} before the churn",
        open_fds()
    );

    // Every port is free: the range holds exactly as many calls as before (offers land on
    // shards by hash, so keep offering until both are full).
    let capacity = usize::from(PORTS) / 4;
    let mut made = Vec::new();
    for k in 0..capacity * 4 {
        let id = format!("fill-{k}");
        let r = d.offer(&id, alice.addr(), &[]);
        if r.get("result").and_then(|v| v.as_str()) == Some("ok") {
            sdp_port(&r);
            made.push(id);
        }
    }
    assert_eq!(
        made.len(),
        capacity,
        "{driver}: calls that fit after the churn"
    );
    for id in &made {
        ok(&d.delete(id));
    }
    assert!(eventually(Duration::from_secs(5), || open_fds() == fds_before));
    d.stop();
}

#[test]
fn churn_leaves_nothing_behind_on_mio() {
    churn("mio");
}

#[test]
fn churn_leaves_nothing_behind_on_io_uring() {
    churn("io-uring");
}
