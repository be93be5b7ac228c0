//! `DTMF-log-dest`: each digit a party sends is reported as one UDP datagram of JSON, in
//! rtpengine's format (`callid`, `source_tag`, `source_label`, `tags`, `type`, `timestamp`,
//! `source_ip`, `event`, `duration`). The call table only queues the datagrams; the daemon
//! sends them.

use serde_json::json;
use tandem_engine::ChannelId;

use super::Calls;

/// Datagrams queued at most; beyond it the oldest are dropped (and counted in the log).
const MAX_QUEUED: usize = 4096;

impl Calls {
    /// Queues the log datagram of a digit received on `channel`, if its call logs digits.
    pub(super) fn log_digit(
        &mut self,
        channel: ChannelId,
        digit: char,
        duration_ms: u32,
        now: u64,
    ) {
        let Some((id, call)) = self
            .calls
            .iter()
            .find(|(_, c)| c.dtmf_log.is_some() && c.channels().any(|x| x == channel))
        else {
            return;
        };
        let Some(dest) = call.dtmf_log else {
            return;
        };
        let Some((side, stream)) = call.side_of_channel(channel) else {
            return;
        };
        let party = call.party(side);
        let remote = match side {
            super::Side::Caller => stream.caller_remote,
            super::Side::Callee => stream.callee_remote,
        };
        let source = self.sources.get(&channel).copied().or(remote);
        let tags: Vec<&str> = std::iter::once(call.caller.tag.as_str())
            .chain(call.callee.as_ref().map(|c| c.tag.as_str()))
            .collect();
        let doc = json!({
            "callid": id,
            "source_tag": party.map(|p| p.tag.as_str()).unwrap_or_default(),
            "source_label": party.and_then(|p| p.label.as_deref()).unwrap_or_default(),
            "tags": tags,
            "type": "DTMF",
            "timestamp": now,
            "source_ip": source.map(|a| a.ip().to_string()).unwrap_or_default(),
            "event": tandem_codecs::telephone_event::char_to_event(digit),
            "duration": duration_ms,
        });
        if self.dtmf_out.len() >= MAX_QUEUED {
            tracing::warn!("DTMF log queue full: oldest datagram dropped");
            self.dtmf_out.remove(0);
        }
        self.dtmf_out.push((dest, doc.to_string().into_bytes()));
    }
}
