//! One caller at a time through an IVR flow on real media: the caller's channel runs the
//! flow ([`FlowLeg`]), the caller's phone talks (its voice is what a voicemail records) and
//! keys its choices as RFC 4733 telephone-events, once per attempt of a node, a think time
//! after the flow waits for it (or after a recording starts); a queue entry is answered
//! after a wait and hung up by the agent after a talk time (the flow then runs on: the
//! survey).
//!
//! The rig checks a flow and its prompts on the engine before a run, and measures what a
//! flow does on real media (per-node traffic, survey scores, voicemails).

use std::path::PathBuf;
use std::sync::Arc;

use tandem_engine::{ChannelSpec, Codec, Command, GroupKey, Micros, PromptSet, RtcpMode};
use tandem_ivr::{CallInfo, Flow};

use super::DriveError;
use super::flow::{FlowLeg, FlowMedia, LegStep};
use super::phones::{Phones, Role};
use super::report::Counters;
use super::signal::PTIME_US;
use super::transport::Net;

/// Longest a call may last on the rig, media µs (a flow that never ends is refused).
const MAX_CALL_US: u64 = 3_600_000_000;

/// How the rig's caller behaves.
pub struct Caller<'a> {
    /// The key to press in the named node (`None`: key nothing), asked once per attempt.
    pub choose: &'a mut dyn FnMut(&str) -> Option<char>,
    /// From the end of the prompts to the key, µs.
    pub think_us: u64,
    /// From a queue entry to the agent's answer, µs.
    pub queue_wait_us: u64,
    /// From the answer to the agent's hang-up, µs.
    pub talk_us: u64,
}

/// Calls through one flow on a transport.
pub struct FlowRig<N: Net> {
    net: N,
    phones: Phones,
    flow: Arc<Flow>,
    prompts: Arc<PromptSet>,
    voicemail_dir: PathBuf,
    now_us: u64,
    serial: u32,
    /// What the phones and the engine did.
    pub counters: Counters,
    /// What the flow did.
    pub figures: FlowMedia,
}

impl<N: Net> FlowRig<N> {
    /// A rig for `flow` with `prompts` on `net`; voicemail is recorded under
    /// `voicemail_dir`.
    pub fn new(
        net: N,
        flow: Arc<Flow>,
        prompts: Arc<PromptSet>,
        voicemail_dir: PathBuf,
    ) -> FlowRig<N> {
        FlowRig {
            figures: FlowMedia::new(&flow),
            net,
            phones: Phones::new(),
            flow,
            prompts,
            voicemail_dir,
            now_us: 0,
            serial: 0,
            counters: Counters::default(),
        }
    }

    /// Runs one call through the flow until the flow ends.
    pub fn call(&mut self, info: CallInfo, caller: &mut Caller<'_>) -> Result<(), DriveError> {
        self.serial += 1;
        let serial = self.serial;
        let ep = self.net.open_endpoint()?;
        let spec = ChannelSpec {
            codec: Codec::PCMU,
            remote: Some(self.net.endpoint_addr(ep)),
            rtcp: RtcpMode::Mux,
            ..ChannelSpec::default()
        };
        let channel = match self
            .net
            .engine()
            .create_channel(GroupKey(u64::from(serial)), spec)
        {
            Ok(c) => c,
            Err(e) => {
                self.net.close_endpoint(ep);
                return Err(e.into());
            }
        };
        self.phones
            .add(ep, channel.local, Role::Caller, serial, u64::from(serial));
        let config =
            tandem_engine::IvrConfig::new(Arc::clone(&self.prompts), self.voicemail_dir.clone());
        let walked = self.walk(
            FlowLeg::new(
                Arc::clone(&self.flow),
                channel.id,
                config,
                &format!("call-{serial:06}"),
            ),
            info,
            ep,
            caller,
        );
        let r = self.net.engine().command(Command::DestroyChannel {
            channel: channel.id,
        });
        self.phones.remove(&mut self.net, ep, &mut self.counters);
        self.net.close_endpoint(ep);
        walked?;
        r?;
        Ok(())
    }

    fn walk(
        &mut self,
        leg: Result<FlowLeg, DriveError>,
        info: CallInfo,
        ep: usize,
        caller: &mut Caller<'_>,
    ) -> Result<(), DriveError> {
        let mut leg = leg?;
        let fig = &mut self.figures;
        leg.start(self.net.engine(), Micros::from_us(self.now_us), info, fig)?;
        let end = self.now_us + MAX_CALL_US;
        let mut decided = (u32::MAX, 0);
        let mut key_at: Option<(u64, char)> = None;
        let mut answer_at = None;
        let mut hangup_at = None;
        while self.now_us < end {
            self.now_us += PTIME_US;
            let now = self.now_us;
            self.phones.frame(&mut self.net, now, &mut self.counters);
            self.net.run_until(now);
            let t = Micros::from_us(now);
            while let Some(e) = self.net.engine().poll_event() {
                leg.handle_event(self.net.engine(), t, &e, &mut self.figures)?;
                self.counters.count(e);
            }
            leg.advance(self.net.engine(), t, &mut self.figures)?;
            if answer_at.is_some_and(|a| a <= now) {
                answer_at = None;
                hangup_at = Some(now + caller.talk_us);
                let ev = tandem_ivr::Event::QueueAnswered;
                leg.notify(self.net.engine(), t, ev, &mut self.figures)?;
            }
            if hangup_at.is_some_and(|h| h <= now) {
                hangup_at = None;
                let ev = tandem_ivr::Event::AgentHungUp;
                leg.notify(self.net.engine(), t, ev, &mut self.figures)?;
            }
            while let Some(step) = leg.poll_step() {
                match step {
                    LegStep::EnterQueue(_) => answer_at = Some(now + caller.queue_wait_us),
                    LegStep::LeaveQueue => answer_at = None,
                    LegStep::Hangup | LegStep::End(_) => {}
                }
            }
            if leg.is_finished() {
                return Ok(());
            }
            if let Some((at, k)) = key_at
                && at <= now
            {
                key_at = None;
                if let Some(p) = self.phones.get_mut(ep) {
                    p.press(k);
                }
            }
            let attempt = leg.attempt();
            if key_at.is_none()
                && (leg.waiting_for_caller() || leg.recording())
                && attempt != decided
            {
                decided = attempt;
                key_at = (caller.choose)(leg.node_name()).map(|k| (now + caller.think_us, k));
            }
        }
        Err(DriveError::Invalid(format!(
            "flow `{}`: a call did not end within {} s",
            self.flow.name(),
            MAX_CALL_US / 1_000_000
        )))
    }
}
