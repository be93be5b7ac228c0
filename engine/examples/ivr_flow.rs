//! An IVR flow on the in-memory engine: the bank flow of `ivr/flows/bank.toml` answers a
//! simulated phone that keys through three menu levels (in-band tones and RFC 4733
//! events), leaves a voicemail, and on a second call rates the agent in the survey.
//!
//! Run it with `cargo run -p tandem-engine --example ivr_flow`; its tests run with
//! `cargo test -p tandem-engine --example ivr_flow`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tandem_codecs::g711::Law;
use tandem_codecs::rtp::RtpHeader;
use tandem_codecs::telephone_event::{TelephoneEvent, char_to_event};
use tandem_codecs::tone::DtmfTone;
use tandem_codecs::wav::{Encoding, WavFormat, WavWriter};
use tandem_engine::{
    ChannelInfo, ChannelSpec, DtmfSettings, Event, GroupKey, IvrConfig, IvrOutput, IvrSession,
    MediaEngine, MemoryEngine, Micros, NetworkConditions, PromptCache, PromptSet, RtcpMode,
};
use tandem_ivr::{Action, CallInfo, Flow};

type Error = Box<dyn std::error::Error>;

/// The bank flow, as shipped.
const BANK: &str = include_str!("../../ivr/flows/bank.toml");
/// Monday 3 March 2025, 10:00 in Beijing (UTC+08:00): the bank is open.
const MONDAY_10AM: i64 = 1_740_967_200;
/// 20 ms at 8 kHz.
const FRAME: usize = 160;

/// What a simulated phone sends in one 20 ms packet.
enum Send {
    Audio(Box<[i16; FRAME]>),
    /// An RFC 4733 event packet.
    Event(TelephoneEvent, bool),
}

/// A phone: sends one RTP packet every 20 ms (silence unless told otherwise).
struct Phone {
    addr: SocketAddr,
    queue: VecDeque<Send>,
    seq: u16,
    ts: u32,
    /// Timestamp of the RFC 4733 event being sent.
    event_ts: u32,
}

impl Phone {
    fn new(addr: SocketAddr) -> Phone {
        Phone {
            addr,
            queue: VecDeque::new(),
            seq: 0,
            ts: 0,
            event_ts: 0,
        }
    }

    fn audio(&mut self, samples: &[i16]) {
        for chunk in samples.chunks(FRAME) {
            let mut f = [0i16; FRAME];
            f[..chunk.len()].copy_from_slice(chunk);
            self.queue.push_back(Send::Audio(Box::new(f)));
        }
    }

    fn silence(&mut self, ms: usize) {
        self.audio(&vec![0; ms * 8]);
    }

    /// Keys `digits` as in-band tones: 100 ms on, 100 ms off, −10 dBm0 per frequency.
    fn inband(&mut self, digits: &str) {
        for d in digits.chars() {
            let mut s = Vec::new();
            DtmfTone::for_key(d, -10.0)
                .expect("a key")
                .render(8000, 800, &mut s);
            self.audio(&s);
            self.silence(100);
        }
    }

    /// Keys `digits` as RFC 4733 events: 100 ms each (five updates, three end packets).
    fn rfc4733(&mut self, digits: &str) {
        for d in digits.chars() {
            let event = char_to_event(d).expect("a key");
            for i in 1..=8u16 {
                let end = i > 5;
                let ev = TelephoneEvent {
                    event,
                    end,
                    volume: 10,
                    duration: (i.min(5)) * FRAME as u16,
                };
                self.queue.push_back(Send::Event(ev, i == 1));
            }
            self.silence(60);
        }
    }

    /// A steady tone (the caller's "voice").
    fn tone(&mut self, hz: f64, ms: usize) {
        let s: Vec<i16> = (0..ms * 8)
            .map(|n| (8000.0 * (2.0 * std::f64::consts::PI * hz * n as f64 / 8000.0).sin()) as i16)
            .collect();
        self.audio(&s);
    }

    /// The next packet (silence when nothing is queued).
    fn packet(&mut self) -> Vec<u8> {
        let send = self
            .queue
            .pop_front()
            .unwrap_or_else(|| Send::Audio(Box::new([0; FRAME])));
        let mut out = Vec::new();
        match send {
            Send::Audio(f) => {
                let payload: Vec<u8> = f.iter().map(|&s| Law::Ulaw.encode(s)).collect();
                header(0, self.seq, self.ts, false)
                    .write(&mut out, &payload)
                    .expect("a header");
                self.event_ts = self.ts + FRAME as u32;
            }
            Send::Event(ev, first) => {
                if first {
                    self.event_ts = self.ts;
                }
                header(101, self.seq, self.event_ts, first)
                    .write(&mut out, &ev.to_bytes().expect("an event"))
                    .expect("a header");
            }
        }
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(FRAME as u32);
        out
    }
}

fn header(pt: u8, seq: u16, ts: u32, marker: bool) -> RtpHeader<'static> {
    RtpHeader {
        marker,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc: 0x5EED,
        ..RtpHeader::default()
    }
}

/// Writes every prompt file of `flow` under `dir`: 200 ms of a quiet 400 Hz tone each.
fn write_prompts(flow: &Flow, dir: &Path) -> Result<(), Error> {
    for name in flow.prompts() {
        let path = dir.join(format!("{name}.wav"));
        std::fs::create_dir_all(path.parent().expect("a parent"))?;
        let format = WavFormat {
            encoding: Encoding::Pcm16,
            channels: 1,
            sample_rate: 8000,
        };
        let mut w = WavWriter::new(std::fs::File::create(&path)?, format)?;
        let s: Vec<i16> = (0..1600)
            .map(|n| {
                (1000.0 * (2.0 * std::f64::consts::PI * 400.0 * n as f64 / 8000.0).sin()) as i16
            })
            .collect();
        w.write_samples(&s)?;
        w.finalize()?;
    }
    Ok(())
}

/// One call to the bank on the in-memory engine.
struct Call {
    engine: MemoryEngine,
    phone: Phone,
    channel: ChannelInfo,
    ivr: IvrSession,
    /// Everything the session reported, in order.
    outputs: Vec<IvrOutput>,
}

impl Call {
    fn new(dir: &Path, tag: &str) -> Result<Call, Error> {
        let flow = Arc::new(Flow::from_toml(BANK, "bank.toml")?);
        let prompt_dir = dir.join("prompts");
        if !prompt_dir.exists() {
            write_prompts(&flow, &prompt_dir)?;
        }
        let prompts = Arc::new(PromptSet::load(&flow, &prompt_dir, &PromptCache::new())?);
        let mut engine = MemoryEngine::new(1, NetworkConditions::default(), 7);
        let phone = Phone::new("192.0.2.10:4000".parse()?);
        let spec = ChannelSpec {
            remote: Some(phone.addr),
            rtcp: RtcpMode::Off,
            dtmf: DtmfSettings {
                rfc4733: true,
                inband: true,
                ..DtmfSettings::default()
            },
            ..ChannelSpec::default()
        };
        let channel = engine.create_channel(GroupKey(1), spec)?;
        let config = IvrConfig::new(prompts, dir.join("voicemail"));
        let ivr = IvrSession::new(flow, channel.id, config, tag)?;
        Ok(Call {
            engine,
            phone,
            channel,
            ivr,
            outputs: Vec::new(),
        })
    }

    fn start(&mut self) -> Result<(), Error> {
        let call = CallInfo {
            dnis: "95555".into(),
            ani: "13800138000".into(),
            unix_time: MONDAY_10AM,
        };
        let now = self.engine.now();
        self.ivr.start(&mut self.engine, now, call)?;
        self.collect();
        Ok(())
    }

    fn collect(&mut self) {
        while let Some(o) = self.ivr.poll_output() {
            self.outputs.push(o);
        }
    }

    /// 20 ms of the call: the phone sends a packet, the engine runs, the session takes its
    /// events and deadlines.
    fn step(&mut self) -> Result<(), Error> {
        let packet = self.phone.packet();
        self.engine
            .send(self.phone.addr, self.channel.local, &packet);
        self.engine.advance_by(Micros::from_ms(20));
        while self.engine.recv(self.phone.addr).is_some() {}
        while let Some(e) = self.engine.poll_event() {
            if let Event::CommandFailed { command, error, .. } = &e {
                // A StopPlay racing the prompt's natural end is harmless.
                assert_eq!(*command, "stop play", "{error}");
            }
            let now = self.engine.now();
            self.ivr.handle_event(&mut self.engine, now, &e)?;
        }
        let now = self.engine.now();
        if self.ivr.next_deadline().is_some_and(|d| d <= now) {
            self.ivr.advance(&mut self.engine, now)?;
        }
        self.collect();
        Ok(())
    }

    /// Steps until the phone has sent all it was given and the session waits for the
    /// caller again (its prompts done), at most `max_ms`.
    fn settle(&mut self, max_ms: u64) -> Result<(), Error> {
        let end = self.engine.now().as_ms() + max_ms;
        while self.engine.now().as_ms() < end {
            self.step()?;
            if self.phone.queue.is_empty() && !self.ivr.session().waiting_for_driver() {
                return Ok(());
            }
        }
        Err(format!(
            "still waiting after {max_ms} ms; outputs {:?}",
            self.outputs
        )
        .into())
    }

    /// Steps until an output matches, at most `max_ms`.
    fn until(&mut self, max_ms: u64, f: impl Fn(&IvrOutput) -> bool) -> Result<(), Error> {
        let end = self.engine.now().as_ms() + max_ms;
        while self.engine.now().as_ms() < end {
            if self.outputs.iter().any(&f) {
                return Ok(());
            }
            self.step()?;
        }
        Err(format!("nothing matched in {max_ms} ms; outputs {:?}", self.outputs).into())
    }

    /// Steps until the call is put in a queue.
    fn until_queued(&mut self) -> Result<(), Error> {
        self.until(5_000, |o| {
            matches!(o, IvrOutput::Flow(Action::EnterQueue { .. }))
        })
    }

    fn notify(&mut self, e: tandem_ivr::Event) -> Result<(), Error> {
        let now = self.engine.now();
        self.ivr.notify(&mut self.engine, now, e)?;
        self.collect();
        Ok(())
    }

    /// The names of the nodes entered, in order.
    fn path(&self) -> Vec<String> {
        let flow = self.ivr.session().flow();
        self.outputs
            .iter()
            .filter_map(|o| match o {
                IvrOutput::Flow(Action::Entered { node }) => {
                    Some(flow.node(*node).name.to_string())
                }
                _ => None,
            })
            .collect()
    }
}

/// Call one: three menu levels (a transfer of 500 confirmed), back to the main menu, an
/// agent who is not there, and a two-second message in a 523 Hz voice.
fn menus_and_voicemail(dir: &Path) -> Result<Call, Error> {
    let mut c = Call::new(dir, "call-1")?;
    c.start()?;
    c.settle(5_000)?; // the welcome
    c.phone.inband("1"); // main: accounts
    c.settle(5_000)?;
    c.phone.rfc4733("12345678#"); // the account number
    c.settle(5_000)?;
    c.phone.inband("2"); // accounts: transfer money
    c.settle(5_000)?;
    c.phone.rfc4733("500#"); // the amount
    c.settle(5_000)?;
    c.phone.inband("1"); // confirm
    c.settle(5_000)?; // "accepted", back at accounts
    c.phone.rfc4733("*"); // back to main
    c.settle(5_000)?;
    c.phone.inband("0"); // an agent
    c.until_queued()?;
    c.notify(tandem_ivr::Event::QueueOverflow)?; // nobody free: voicemail
    // The greeting and the beep, then the message.
    while !c.ivr.is_recording() {
        c.step()?;
        if c.engine.now().as_ms() > 600_000 {
            return Err("no recording started".into());
        }
    }
    c.phone.tone(523.0, 2_000);
    for _ in 0..110 {
        c.step()?;
    }
    c.notify(tandem_ivr::Event::CallerHungUp)?;
    c.until(2_000, |o| matches!(o, IvrOutput::Voicemail(_)))?;
    Ok(c)
}

/// Call two: straight to an agent, who answers and later hangs up; the caller keys 3 in
/// the survey.
fn survey(dir: &Path, score: char) -> Result<Call, Error> {
    let mut c = Call::new(dir, "call-2")?;
    c.start()?;
    c.settle(5_000)?;
    c.phone.rfc4733("0");
    c.until_queued()?;
    c.notify(tandem_ivr::Event::QueueAnswered)?;
    c.notify(tandem_ivr::Event::AgentHungUp)?;
    c.settle(5_000)?; // the survey question
    c.phone.inband(&score.to_string());
    c.until(10_000, |o| matches!(o, IvrOutput::Flow(Action::End(_))))?;
    Ok(c)
}

fn main() -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("tandem-ivr-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let one = menus_and_voicemail(&dir)?;
    println!("call 1 walked {}", one.path().join(" → "));
    for o in &one.outputs {
        if let IvrOutput::Voicemail(v) = o {
            println!("voicemail: {}", serde_json_like(v));
        }
    }
    let two = survey(&dir, '3')?;
    println!("call 2 walked {}", two.path().join(" → "));
    for o in &two.outputs {
        if let IvrOutput::Flow(Action::SurveyResult { survey, score }) = o {
            println!("survey {survey}: {score:?}");
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn serde_json_like(v: &tandem_engine::VoicemailRecord) -> String {
    format!(
        "mailbox {} from {} to {}, {} ms, {}",
        v.mailbox,
        v.caller,
        v.dnis,
        v.duration_ms,
        v.recording.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_codecs::wav::Wav;

    /// Power of `x` at `hz` (8 kHz sampling), by the Goertzel recurrence.
    fn goertzel(x: &[i16], hz: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * hz / 8000.0;
        let k = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &v in x {
            let s0 = f64::from(v) + k * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        (s1 * s1 + s2 * s2 - k * s1 * s2) / (x.len() as f64).powi(2)
    }

    /// The call ended at the flow's goodbye, hung up by the flow.
    fn said_goodbye(c: &Call) {
        assert!(c.outputs.contains(&IvrOutput::Flow(Action::Hangup)));
        assert_eq!(
            c.path().last().map(String::as_str),
            Some("goodbye"),
            "{:?}",
            c.outputs
        );
    }

    #[test]
    fn a_caller_walks_three_levels_and_leaves_a_voicemail() {
        let dir = tempfile::tempdir().unwrap();
        let c = menus_and_voicemail(dir.path()).unwrap();
        let path = c.path();
        let expected = [
            "calendar",
            "main",
            "account_number",
            "accounts",
            "amount",
            "confirm",
            "transfer_requested",
            "transfer_done",
            "accounts",
            "main",
            "agent",
            "service_voicemail",
        ];
        assert_eq!(path, expected, "{:?}", c.outputs);
        let flow = c.ivr.session().flow();
        let var = |n: &str| c.ivr.session().variable(flow.variable(n).unwrap());
        assert_eq!(var("account"), Some("12345678"));
        assert_eq!(var("transfer"), Some("500"));

        let vm = c
            .outputs
            .iter()
            .find_map(|o| match o {
                IvrOutput::Voicemail(v) => Some(v.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            (vm.mailbox.as_str(), vm.caller.as_str(), vm.dnis.as_str()),
            ("service", "13800138000", "95555")
        );
        // Two seconds of voice and 200 ms of silence before the hang-up.
        assert!((2_100..=2_400).contains(&vm.duration_ms), "{vm:?}");
        assert_eq!(vm.dropped_frames, 0);
        // Recording started after the call did, within the call's first minute.
        assert!(vm.started_unix_ms > MONDAY_10AM * 1000);
        assert!(vm.started_unix_ms < (MONDAY_10AM + 60) * 1000);

        // The WAV holds the caller's tone: 523 Hz dominates, the beep (1 kHz), the prompts
        // (400 Hz) and the DTMF frequencies are absent.
        let wav = Wav::parse(&std::fs::read(&vm.recording).unwrap()).unwrap();
        assert_eq!(wav.format.sample_rate, 8000);
        let s = wav.channel(0);
        let voiced: Vec<i16> = s
            .iter()
            .copied()
            .skip_while(|v| v.abs() < 500)
            .take(8000)
            .collect();
        assert_eq!(voiced.len(), 8000, "a second of the caller's tone");
        let p = goertzel(&voiced, 523.0);
        for other in [400.0, 697.0, 941.0, 1000.0, 1336.0] {
            assert!(p > 1000.0 * goertzel(&voiced, other), "{other} Hz");
        }
        // A 8000-peak sine has power 4000² at its frequency (by this normalisation), give
        // or take the μ-law round trip.
        assert!((0.9 * 16e6..1.1 * 16e6).contains(&p), "{p}");

        // The sidecar says the same as the output.
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(vm.recording.with_extension("json")).unwrap())
                .unwrap();
        assert_eq!(json["mailbox"], "service");
        assert_eq!(json["caller"], "13800138000");
        assert_eq!(json["dnis"], "95555");
        assert_eq!(json["duration_ms"], vm.duration_ms);
        assert_eq!(json["started_unix_ms"], vm.started_unix_ms);

        // The caller hung up: the flow ended so, and nothing came after the end but the
        // message.
        let end = c
            .outputs
            .iter()
            .find_map(|o| match o {
                IvrOutput::Flow(Action::End(o)) => Some(*o),
                _ => None,
            })
            .unwrap();
        assert_eq!(end.reason, tandem_ivr::EndReason::CallerHungUp);
    }

    #[test]
    fn the_survey_score_is_the_digit_pressed() {
        for score in ['1', '4'] {
            let dir = tempfile::tempdir().unwrap();
            let c = survey(dir.path(), score).unwrap();
            let results: Vec<_> = c
                .outputs
                .iter()
                .filter_map(|o| match o {
                    IvrOutput::Flow(Action::SurveyResult { survey, score }) => {
                        Some((survey.to_string(), *score))
                    }
                    _ => None,
                })
                .collect();
            let want = score.to_digit(10).unwrap() as u8;
            assert_eq!(results, [("service-satisfaction".to_string(), Some(want))]);
            said_goodbye(&c);
        }
    }

    #[test]
    fn a_voicemail_that_cannot_be_written_is_reported_and_the_call_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        // The voicemail directory is a file: no mailbox folder can be made in it.
        std::fs::write(dir.path().join("voicemail"), b"not a directory").unwrap();
        let mut c = Call::new(dir.path(), "call-3").unwrap();
        c.start().unwrap();
        c.settle(5_000).unwrap();
        c.phone.inband("0");
        c.until_queued().unwrap();
        c.notify(tandem_ivr::Event::QueueOverflow).unwrap();
        c.until(10_000, |o| matches!(o, IvrOutput::Flow(Action::End(_))))
            .unwrap();
        assert!(c.outputs.iter().any(|o| matches!(
            o,
            IvrOutput::MediaFailed {
                what: "voicemail directory",
                ..
            }
        )));
        assert!(
            !c.outputs
                .iter()
                .any(|o| matches!(o, IvrOutput::Voicemail(_)))
        );
        // The flow went on past the message to its goodbye.
        said_goodbye(&c);
    }

    #[test]
    fn a_session_refuses_a_prompt_set_of_another_flow() {
        let other = Flow::from_toml(
            "name = \"x\"\nstart = \"bye\"\n[nodes.bye]\nkind = \"hangup\"\nprompts = [\"silence:100\"]\n",
            "x.toml",
        )
        .unwrap();
        let set = PromptSet::load(&other, Path::new("."), &PromptCache::new()).unwrap();
        let bank = Arc::new(Flow::from_toml(BANK, "bank.toml").unwrap());
        let config = IvrConfig::new(Arc::new(set), "vm");
        let channel = tandem_engine::ChannelId::new(0, 1);
        let err = IvrSession::new(bank, channel, config.clone(), "t").unwrap_err();
        assert!(
            matches!(err, tandem_engine::IvrSessionError::UnknownPrompt(_)),
            "{err}"
        );
        let err = IvrSession::new(Arc::new(other), channel, config, "../x").unwrap_err();
        assert!(
            matches!(err, tandem_engine::IvrSessionError::Tag(_)),
            "{err}"
        );
    }

    #[test]
    fn a_flow_with_a_missing_prompt_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let flow = Flow::from_toml(BANK, "bank.toml").unwrap();
        let err = PromptSet::load(&flow, dir.path(), &PromptCache::new()).unwrap_err();
        assert!(
            matches!(err, tandem_engine::PromptSetError::File { .. }),
            "{err}"
        );
    }
}
