//! End to end over loopback UDP: two phones (plain sockets in the test) bridged through a
//! running engine on the mio driver. The io_uring driver has its own file, `udp_uring.rs`,
//! which skips where the kernel forbids io_uring.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Sender, free_ports, payload, phone};
use tandem_engine::{ChannelSpec, Command, DriverKind, Engine, Event, GroupKey};

fn engine(driver: DriverKind, ports: (u16, u16)) -> Engine {
    Engine::builder()
        .shards(2)
        .driver(driver)
        .port_range(ports.0, ports.1)
        .seed(7)
        .build()
        .unwrap()
}

fn bridged_call(driver: DriverKind, ports: (u16, u16)) {
    let eng = engine(driver, ports);
    common::relay_checks(&eng);
    eng.shutdown();
}

#[test]
fn mio_driver_relays_bit_exact_transcodes_and_passes_dtmf() {
    bridged_call(DriverKind::Mio, free_ports(100));
}

#[test]
fn media_timeout_fires_over_udp_and_delete_frees_ports() {
    let eng = engine(DriverKind::Mio, free_ports(4));
    let spec = ChannelSpec {
        media_timeout_ms: 200,
        ..ChannelSpec::default()
    };
    let ch = eng.create_channel(GroupKey(1), spec.clone()).unwrap();
    let in_use = |eng: &Engine| eng.ports_in_use().iter().map(|p| p.0).sum::<usize>();
    assert_eq!(in_use(&eng), 1);
    let ev = eng.events().recv_timeout(Duration::from_secs(3)).unwrap();
    assert!(
        matches!(ev, Event::MediaTimeout { channel, silent_ms } if channel == ch.id && silent_ms >= 200)
    );
    // The range holds one pair per shard, so the port must come back after a delete.
    eng.destroy(ch.id).unwrap();
    let ev = eng.events().recv_timeout(Duration::from_secs(3)).unwrap();
    assert!(matches!(ev, Event::ChannelClosed { channel, .. } if channel == ch.id));
    assert_eq!(in_use(&eng), 0);
    let again = eng.create_channel(GroupKey(1), spec).unwrap();
    assert_eq!(again.local, ch.local);
    let _: SocketAddr = again.local;
}

/// Creates and deletes channels under traffic: closing a port mid-stream must neither
/// crash the driver nor leak its port.
fn churn(driver: DriverKind, ports: (u16, u16)) {
    let eng = Engine::builder()
        .shards(1)
        .driver(driver)
        .port_range(ports.0, ports.1)
        .build()
        .unwrap();
    let phone = phone();
    let mut s = Sender::new(3, 0, 0, 0);
    for round in 0..100 {
        let a = eng
            .create_channel(GroupKey(round), ChannelSpec::default())
            .unwrap();
        let b = eng
            .create_channel(GroupKey(round), ChannelSpec::default())
            .unwrap();
        eng.bridge(a.id, b.id).unwrap();
        for n in 0..3 {
            phone.send_to(&s.audio(&payload(n)), a.local).unwrap();
            phone.send_to(&s.audio(&payload(n)), b.local).unwrap();
        }
        eng.destroy(a.id).unwrap();
        eng.destroy(b.id).unwrap();
        // Deletion is asynchronous; the ports are free once both closures are reported.
        let mut closed = 0;
        while closed < 2 {
            match eng.events().recv_timeout(Duration::from_secs(5)) {
                Ok(Event::ChannelClosed { .. }) => closed += 1,
                Ok(_) => {}
                Err(e) => panic!("round {round}: {e}"),
            }
        }
    }
    // 200 channels went through a range of 8 port pairs: every port came back.
    assert_eq!(eng.ports_in_use(), vec![(0, 8)]);
    let st = eng.thread_stats();
    assert!(st[0].datagrams_in > 0);
    eng.shutdown();
}

#[test]
fn mio_driver_survives_channel_churn() {
    churn(DriverKind::Mio, free_ports(16));
}

#[test]
fn the_default_driver_is_chosen_at_build_and_relays() {
    let (lo, hi) = free_ports(100);
    let eng = Engine::builder()
        .shards(1)
        .port_range(lo, hi)
        .build()
        .unwrap();
    assert_ne!(
        eng.driver(),
        DriverKind::Auto,
        "the engine reports the driver it chose"
    );
    common::relay_checks(&eng);
    eng.shutdown();
}

#[test]
fn shutdown_with_a_full_command_queue_does_not_hang() {
    let (lo, hi) = free_ports(100);
    let eng = Engine::builder()
        .shards(1)
        .queue_capacity(1)
        .port_range(lo, hi)
        .build()
        .unwrap();
    let ch = eng
        .create_channel(GroupKey(1), ChannelSpec::default())
        .unwrap();
    let mut full = 0;
    for _ in 0..10_000 {
        if let Err(tandem_engine::EngineError::QueueFull(_)) =
            eng.command(tandem_engine::Command::QueryStats { channel: ch.id })
        {
            full += 1;
        }
    }
    assert!(full > 0, "a one-slot queue fills under a burst of commands");
    eng.shutdown(); // returns: the test would time out otherwise
}

#[test]
fn teardown_commands_are_never_lost_to_a_full_queue() {
    let (lo, hi) = free_ports(200);
    let eng = Engine::builder()
        .shards(2)
        .queue_capacity(2)
        .port_range(lo, hi)
        .build()
        .unwrap();
    let channels: Vec<_> = (0..20)
        .map(|g| {
            // A full queue may refuse a create (it is not a teardown): try again.
            loop {
                match eng.create_channel(GroupKey(g), ChannelSpec::default()) {
                    Ok(c) => break c.id,
                    Err(tandem_engine::EngineError::QueueFull(_)) => {
                        std::thread::sleep(std::time::Duration::from_millis(1))
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        })
        .collect();
    let read = eng.read_stats(&channels).unwrap();
    let ids: Vec<_> = read.iter().map(|(c, _)| *c).collect();
    assert_eq!(ids, channels, "every channel, in the order asked");
    for &ch in &channels {
        // Fill the queue with commands that may be refused, then destroy: the destroy
        // waits for room instead of failing.
        for _ in 0..4 {
            let _ = eng.command(Command::SetFilter {
                channel: ch,
                filter: Default::default(),
            });
        }
        eng.destroy(ch).unwrap();
    }
    // (The event queue is as small as the command queue, so the ChannelClosed events are
    // mostly dropped: the shards' own state is what counts.)
    assert!(eng.read_stats(&channels).unwrap().is_empty());
    // The live-channel gauge is published at the end of each turn.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while eng.thread_stats().iter().map(|s| s.channels).sum::<u64>() > 0 {
        assert!(std::time::Instant::now() < deadline, "channels left");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let st = eng.thread_stats();
    assert_eq!(st.iter().map(|s| s.control_timeouts).sum::<u64>(), 0);
    eng.shutdown();
}
