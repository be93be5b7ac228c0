//! How a session answers keys, events and timeouts in each phase.

use std::sync::Arc;

use crate::action::*;
use crate::flow::*;
use crate::session::{After, MAX_TYPE_AHEAD, Phase, Session};
use crate::time::Micros;

/// How long the driver may take to report a recording's end after its limit or a stop.
const RECORD_GRACE: Micros = Micros::from_secs(2);

impl Session {
    pub(crate) fn on_key(&mut self, key: char) -> Handled {
        match self.phase {
            Phase::Playing { after, barge_in } if barge_in => {
                self.push(Action::StopPlayback);
                self.disarm();
                // A key that interrupts a menu's prompts (or the prompt before one) is the
                // caller's input; interrupting a greeting only skips it.
                if matches!(after, After::Next | After::Input | After::Reprompt)
                    && self.type_ahead.len() < MAX_TYPE_AHEAD
                {
                    self.type_ahead.push_back(key);
                }
                self.prompts_done(after);
                Handled::Used
            }
            Phase::Input => {
                self.key_input(key);
                Handled::Used
            }
            Phase::Recording { stopping: false } => {
                let NodeKind::Voicemail(v) = self.kind() else {
                    return Handled::Ignored;
                };
                if v.finish_key != Some(key) {
                    return Handled::Ignored;
                }
                self.push(Action::StopRecording);
                self.phase = Phase::Recording { stopping: true };
                self.arm(RECORD_GRACE);
                Handled::Used
            }
            Phase::Queued => {
                let NodeKind::Queue(q) = self.kind() else {
                    return Handled::Ignored;
                };
                if q.callback_key != Some(key) {
                    return Handled::Ignored;
                }
                let (queue, next) = (Arc::clone(&q.queue), q.on_callback);
                if self.announcing {
                    self.push(Action::StopPlayback);
                }
                self.push(Action::LeaveQueue {
                    queue: Arc::clone(&queue),
                });
                self.push(Action::RequestCallback { queue });
                self.go(next, EndReason::Completed);
                Handled::Used
            }
            _ => Handled::Ignored,
        }
    }

    pub(crate) fn on_event(&mut self, event: Event) -> Handled {
        match (self.phase, event) {
            (Phase::Done, _) | (Phase::Idle, _) => Handled::Ignored,
            (_, Event::CallerHungUp) => {
                self.end(EndReason::CallerHungUp);
                Handled::Used
            }
            (Phase::Playing { after, .. }, Event::PromptFinished) => {
                self.disarm();
                self.prompts_done(after);
                Handled::Used
            }
            (Phase::Queued, Event::PromptFinished) if self.announcing => {
                self.announcing = false;
                Handled::Used
            }
            (Phase::Recording { .. }, Event::RecordingFinished { .. }) => {
                self.recording_done();
                Handled::Used
            }
            (Phase::Queued, Event::QueueAnswered) => {
                if self.announcing {
                    self.push(Action::StopPlayback);
                    self.announcing = false;
                }
                self.phase = Phase::Connected;
                self.disarm();
                Handled::Used
            }
            (Phase::Queued, Event::QueueOverflow) => {
                if self.announcing {
                    self.push(Action::StopPlayback);
                }
                let next = self.queue_node().and_then(|q| q.on_overflow);
                self.go(next, EndReason::QueueOverflow);
                Handled::Used
            }
            (Phase::Connected, Event::AgentHungUp) => {
                let next = self.queue_node().and_then(|q| q.after_agent);
                self.go(next, EndReason::AgentHungUp);
                Handled::Used
            }
            (Phase::Transferring, Event::TransferAnswered) => {
                self.end(EndReason::Transferred);
                Handled::Used
            }
            (Phase::Transferring, Event::TransferFailed) => {
                self.transfer_failed();
                Handled::Used
            }
            _ => Handled::Ignored,
        }
    }

    pub(crate) fn on_timeout(&mut self) {
        match self.phase {
            Phase::Playing { after, .. } => {
                // The driver never said the prompts ended: stop them and carry on.
                self.push(Action::StopPlayback);
                self.prompts_done(after);
            }
            Phase::Input => match self.kind() {
                NodeKind::Collect(_) if !self.digits.is_empty() => self.finish_collect(),
                _ => self.failed(true),
            },
            Phase::Recording { stopping: false } => {
                self.push(Action::StopRecording);
                self.phase = Phase::Recording { stopping: true };
                self.arm(RECORD_GRACE);
            }
            Phase::Recording { stopping: true } => self.recording_done(),
            Phase::Queued => self.queue_timer(),
            Phase::Transferring => {
                self.push(Action::CancelTransfer);
                self.transfer_failed();
            }
            Phase::Idle | Phase::Connected | Phase::Done => {}
        }
    }

    /// The prompts ended (or were interrupted, or skipped).
    pub(crate) fn prompts_done(&mut self, after: After) {
        let flow = Arc::clone(&self.flow);
        let kind = &flow.nodes[self.node.index()].kind;
        match (after, kind) {
            (After::Next, NodeKind::Play(p)) => self.go(p.next, EndReason::Completed),
            (After::Input, _) => self.start_input(),
            (After::Reprompt, NodeKind::Menu(m)) => self.play(&m.announce, After::Input),
            (After::Reprompt, NodeKind::Collect(c)) => self.play(&c.announce, After::Input),
            (After::Reprompt, NodeKind::Survey(s)) => self.play(&s.announce, After::Input),
            (After::Record, NodeKind::Voicemail(v)) => {
                self.push(Action::Record {
                    mailbox: Arc::clone(&v.mailbox),
                    max_duration: v.max_duration,
                    beep: v.beep,
                    finish_key: v.finish_key,
                });
                self.phase = Phase::Recording { stopping: false };
                self.arm(v.max_duration.saturating_add(RECORD_GRACE));
            }
            (After::EnterQueue, NodeKind::Queue(q)) => {
                self.push(Action::EnterQueue {
                    queue: Arc::clone(&q.queue),
                    callback_key: q.callback_key,
                });
                self.phase = Phase::Queued;
                self.announcing = false;
                self.wait_until = self.now.saturating_add(q.max_wait);
                self.next_repeat = q.repeat_every.map(|e| self.now.saturating_add(e));
                self.arm_queue_timer();
            }
            (After::Transfer, NodeKind::Transfer(t)) => {
                self.push(Action::Transfer {
                    target: Arc::clone(&t.target),
                    ring_timeout: t.ring_timeout,
                });
                self.phase = Phase::Transferring;
                self.arm(t.ring_timeout);
            }
            (After::Thanks, NodeKind::Survey(s)) => self.go(s.next, EndReason::Completed),
            // Hang-up prompts, and anything else, end the call.
            _ => self.end(EndReason::Completed),
        }
    }

    /// A menu, collect or survey node starts waiting for keys; keys typed ahead go first.
    fn start_input(&mut self) {
        let flow = Arc::clone(&self.flow);
        let timeout = match &flow.nodes[self.node.index()].kind {
            NodeKind::Menu(m) => m.timeout,
            NodeKind::Survey(s) => s.timeout,
            NodeKind::Collect(c) => {
                self.push(Action::CollectDigits {
                    max_digits: c.max_digits,
                    terminator: c.terminator,
                    first_digit_timeout: c.timeout,
                    inter_digit_timeout: c.inter_digit_timeout,
                });
                c.timeout
            }
            _ => return self.end(EndReason::Completed),
        };
        self.phase = Phase::Input;
        self.arm(timeout);
        let node = self.node;
        while self.phase == Phase::Input
            && self.node == node
            && let Some(k) = self.type_ahead.pop_front()
        {
            self.key_input(k);
        }
    }

    fn key_input(&mut self, key: char) {
        let flow = Arc::clone(&self.flow);
        match &flow.nodes[self.node.index()].kind {
            NodeKind::Menu(m) => match m.choices.iter().find(|&&(k, _)| k == key) {
                Some(&(_, next)) => self.enter(next),
                None => self.failed(false),
            },
            NodeKind::Collect(c) => {
                if Some(key) == c.terminator {
                    return self.finish_collect();
                }
                self.digits.push(key);
                if self.digits.len() >= usize::from(c.max_digits) {
                    self.finish_collect();
                } else {
                    self.arm(c.inter_digit_timeout);
                }
            }
            NodeKind::Survey(s) => {
                let score = key.to_digit(10).map(|d| d as u8);
                match score.filter(|d| (s.range.0..=s.range.1).contains(d)) {
                    Some(d) => {
                        self.push(Action::SurveyResult {
                            survey: Arc::clone(&s.survey),
                            score: Some(d),
                        });
                        let thanks = Announce {
                            prompts: Arc::clone(&s.thanks),
                            barge_in: false,
                        };
                        self.play(&thanks, After::Thanks);
                    }
                    None => self.failed(false),
                }
            }
            _ => {}
        }
    }

    fn finish_collect(&mut self) {
        let NodeKind::Collect(c) = self.kind() else {
            return;
        };
        let (min, var, next) = (usize::from(c.min_digits), c.var, c.next);
        if self.digits.len() >= min {
            let value: Arc<str> = Arc::from(self.digits.as_str());
            self.set(var, value);
            self.go(next, EndReason::Completed);
        } else {
            let silent = self.digits.is_empty();
            self.failed(silent);
        }
    }

    /// An attempt failed (`silent`: nothing keyed in time); retry or take the node's exit.
    fn failed(&mut self, silent: bool) {
        let flow = Arc::clone(&self.flow);
        let kind = &flow.nodes[self.node.index()].kind;
        let (retry, announce) = match kind {
            NodeKind::Menu(m) => (&m.retry, &m.announce),
            NodeKind::Collect(c) => (&c.retry, &c.announce),
            NodeKind::Survey(s) => (&s.retry, &s.announce),
            _ => return self.end(EndReason::Completed),
        };
        self.digits.clear();
        self.disarm();
        self.attempts += 1;
        if self.attempts <= retry.retries {
            let prompts = if silent {
                &retry.no_input
            } else {
                &retry.invalid
            };
            let a = Announce {
                prompts: Arc::clone(prompts),
                barge_in: announce.barge_in,
            };
            return self.play(&a, After::Reprompt);
        }
        let reason = if silent {
            EndReason::NoInput
        } else {
            EndReason::NoMatch
        };
        match kind {
            NodeKind::Menu(m) => {
                self.go(if silent { m.on_no_input } else { m.on_no_match }, reason)
            }
            NodeKind::Collect(c) => self.go(c.on_failure, reason),
            NodeKind::Survey(s) => {
                self.push(Action::SurveyResult {
                    survey: Arc::clone(&s.survey),
                    score: None,
                });
                self.go(s.next, EndReason::Completed);
            }
            _ => self.end(reason),
        }
    }

    fn recording_done(&mut self) {
        let next = match self.kind() {
            NodeKind::Voicemail(v) => v.next,
            _ => None,
        };
        self.disarm();
        self.go(next, EndReason::Completed);
    }

    fn transfer_failed(&mut self) {
        let next = match self.kind() {
            NodeKind::Transfer(t) => t.on_fail,
            _ => None,
        };
        self.disarm();
        self.go(next, EndReason::TransferFailed);
    }

    fn queue_node(&self) -> Option<&Queue> {
        match self.kind() {
            NodeKind::Queue(q) => Some(q),
            _ => None,
        }
    }

    fn arm_queue_timer(&mut self) {
        let at = self
            .next_repeat
            .map_or(self.wait_until, |r| r.min(self.wait_until));
        self.arm(at.saturating_sub(self.now));
    }

    /// The queue's timer: the wait is over, or a repeat announcement is due.
    fn queue_timer(&mut self) {
        let Some(q) = self.queue_node() else { return };
        let (queue, overflow, repeat, every) = (
            Arc::clone(&q.queue),
            q.on_overflow,
            Arc::clone(&q.repeat),
            q.repeat_every,
        );
        if self.now >= self.wait_until {
            if self.announcing {
                self.push(Action::StopPlayback);
            }
            self.push(Action::LeaveQueue { queue });
            return self.go(overflow, EndReason::QueueOverflow);
        }
        if let (Some(at), Some(every)) = (self.next_repeat, every)
            && self.now >= at
        {
            if !self.announcing {
                self.push(Action::Play {
                    prompts: repeat,
                    barge_in: true,
                });
                self.announcing = true;
            }
            self.next_repeat = Some(at.saturating_add(every));
        }
        self.arm_queue_timer();
    }
}
