//! Tandem's benchmark support: the inputs the criterion benches and the instruction-count gate
//! (`bench/gate`) share, so both measure exactly the same work. The engine and simulator
//! workloads they measure live in `tandem_load::rigs`, which `tandem bench` runs too.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Inputs and workloads of the benchmarks.
pub mod fixtures {
    use tandem_acd::{Acd, AcdConfig, Action, AgentId, CallId, Policy, QueueId, Seconds};
    use tandem_codecs::rtcp::{self, ReportBlock, SenderInfo};
    use tandem_codecs::rtp::RtpHeader;
    use tandem_sim::kernel::Kernel;

    pub use tandem_load::rigs::speech_frame;

    /// A 172-byte PCMU RTP packet (12-byte header, 160 bytes of payload).
    pub fn pcmu_packet() -> Vec<u8> {
        let mut pkt = Vec::new();
        RtpHeader {
            payload_type: 0,
            sequence: 4711,
            timestamp: 160_000,
            ssrc: 0xCAFE,
            ..Default::default()
        }
        .write(&mut pkt, &[0xFF; 160])
        .expect("valid header");
        pkt
    }

    /// An RTCP compound packet: SR with one report block, then SDES with a CNAME.
    pub fn sr_sdes_compound() -> Vec<u8> {
        let mut v = Vec::new();
        let block = ReportBlock {
            ssrc: 2,
            fraction_lost: 3,
            cumulative_lost: 10,
            highest_seq: 1000,
            jitter: 20,
            last_sr: 5,
            delay_since_last_sr: 6,
        };
        rtcp::write_sr(&mut v, 1, &SenderInfo::default(), &[block]).expect("valid SR");
        let items: [(u8, &[u8]); 1] = [(rtcp::SDES_CNAME, b"caller@tandem.example")];
        rtcp::write_sdes(&mut v, &[(1, &items)]).expect("valid SDES");
        v
    }

    /// A kernel event of the size of the simulator's own (a tag and two words).
    pub type KernelEvent = [u32; 3];

    /// A kernel with 1,000 pending events.
    pub fn loaded_kernel() -> Kernel<KernelEvent> {
        let mut k = Kernel::new();
        for i in 0..1000u32 {
            k.schedule(f64::from(i), [0, i, 0]);
        }
        k
    }

    /// Pops `n` events, rescheduling each 1–1,000 s later (xorshift-chosen from `x`).
    pub fn kernel_churn(k: &mut Kernel<KernelEvent>, n: u32, x: &mut u64) {
        for _ in 0..n {
            let (t, e) = k.pop().expect("events pending");
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            k.schedule(t + 1.0 + (*x % 1000) as f64, e);
        }
    }

    /// An ACD with one queue and `agents` agents, all logged in and idle.
    pub fn ready_acd(agents: u32, policy: Policy) -> Acd {
        let mut acd =
            Acd::new(AcdConfig::single_queue(agents as usize, policy)).expect("valid config");
        for a in 0..agents {
            acd.agent_login(Seconds(0.0), AgentId(a))
                .expect("offline agent");
            acd.agent_ready(Seconds(0.0), AgentId(a))
                .expect("not-ready agent");
        }
        while acd.poll_action().is_some() {}
        acd
    }

    /// One full decision cycle with idle agents: a call arrives, is offered, answered,
    /// ended and wrapped up, so its agent returns to the idle set.
    pub fn route_cycle(acd: &mut Acd, t: f64, caller: u64) -> CallId {
        let call = acd
            .call_arrived(Seconds(t), QueueId(0), caller)
            .expect("known queue");
        let Some(Action::Offer { agent, .. }) = acd.poll_action() else {
            panic!("an idle agent is offered the call")
        };
        acd.agent_answered(Seconds(t), agent)
            .expect("ringing agent");
        acd.call_ended(Seconds(t), call).expect("talking call");
        acd.wrap_up_done(Seconds(t), agent)
            .expect("agent in wrap-up");
        while acd.poll_action().is_some() {}
        call
    }
}
