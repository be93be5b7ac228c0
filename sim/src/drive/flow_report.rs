//! What drive mode reports of a scenario's IVR flow on real media: the flow the engine ran
//! next to the walk the model took, call by call and node by node.

use std::fmt::Write as _;

use serde::Serialize;

use super::flow::FlowMedia;

/// How the simulated phones key their choices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DtmfMode {
    /// RFC 4733 telephone-events (the engine reports them as they end).
    #[default]
    Rfc4733,
    /// Tones in the audio (ITU-T Q.23, 100 ms each), found by the engine's in-band
    /// detector.
    Inband,
}

impl std::str::FromStr for DtmfMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rfc4733" => Ok(DtmfMode::Rfc4733),
            "inband" => Ok(DtmfMode::Inband),
            _ => Err(format!("unknown DTMF mode {s:?} (rfc4733 or inband)")),
        }
    }
}

/// One node: how often the model's callers entered it, and what the engine's flow did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeCompare {
    /// The node's name.
    pub name: String,
    /// Entries in the model's walks.
    pub model_entries: u64,
    /// Entries in the engine's flows.
    pub media_entries: u64,
    /// Exits in the engine's flows.
    pub media_exits: u64,
    /// Callers who hung up in it, in the engine's flows.
    pub media_abandons: u64,
}

/// The flow on real media.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlowDriveReport {
    /// How the phones keyed.
    pub dtmf: DtmfMode,
    /// Flow legs run on the engine (one per call that walked the flow).
    pub legs: u64,
    /// Keys the model's callers chose, pressed on the phones.
    pub keys_sent: u64,
    /// Keys the engine detected on the flow legs' channels.
    pub keys_detected: u64,
    /// Caller actions (keys, hang-ups, answers) carried out although the engine's flow had
    /// not reached the node the model's caller acted in within the grace period.
    pub actions_unanchored: u64,
    /// Calls whose engine flow entered the same nodes in the same order as the model's walk
    /// and took the same survey result.
    pub calls_matched: u64,
    /// Calls where the two differ.
    pub calls_mismatched: u64,
    /// The first few mismatches, described.
    pub first_mismatches: Vec<String>,
    /// Legs whose engine flow had not ended when the model's call had (after the grace
    /// period): torn down with a hang-up.
    pub legs_cut: u64,
    /// Per node, in the flow's order.
    pub nodes: Vec<NodeCompare>,
    /// Nodes whose entry counts differ between the model and the media.
    pub nodes_differing: u64,
    /// Survey results (score or none) equal to the model's.
    pub surveys_matched: u64,
    /// Survey results that differ from the model's.
    pub surveys_mismatched: u64,
    /// What the engine's flows did (scores, voicemail files, queue entries).
    pub media: FlowMedia,
}

/// Mismatches kept in the report.
pub(super) const MAX_MISMATCHES: usize = 5;

impl FlowDriveReport {
    /// Whether the media did what the model did: every call and node matched.
    pub fn agrees(&self) -> bool {
        self.calls_mismatched == 0 && self.nodes_differing == 0 && self.surveys_mismatched == 0
    }

    /// The section as text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let m = &self.media;
        let _ = writeln!(
            s,
            "  IVR flow `{}` on media: {} legs; keys {} sent, {} detected ({}); calls \
             matching the model {}, differing {}; legs cut {}; actions unanchored {}",
            m.flow,
            self.legs,
            self.keys_sent,
            self.keys_detected,
            match self.dtmf {
                DtmfMode::Rfc4733 => "RFC 4733",
                DtmfMode::Inband => "in-band",
            },
            self.calls_matched,
            self.calls_mismatched,
            self.legs_cut,
            self.actions_unanchored,
        );
        let _ = writeln!(
            s,
            "    queue entries {}, callback requests {}, voicemails {}, survey scores {:?} \
             (matching the model {}, differing {}), media failures {}",
            m.queue_entries,
            m.callback_requests,
            m.voicemails.len(),
            m.survey_scores,
            self.surveys_matched,
            self.surveys_mismatched,
            m.media_failures,
        );
        let _ = writeln!(
            s,
            "    {:<24} {:>8} {:>8} {:>8} {:>8}",
            "node", "model", "media", "exits", "hung up"
        );
        for n in self
            .nodes
            .iter()
            .filter(|n| n.model_entries + n.media_entries > 0)
        {
            let _ = writeln!(
                s,
                "    {:<24} {:>8} {:>8} {:>8} {:>8}{}",
                n.name,
                n.model_entries,
                n.media_entries,
                n.media_exits,
                n.media_abandons,
                if n.model_entries == n.media_entries {
                    ""
                } else {
                    "  DIFFERS"
                }
            );
        }
        for x in &self.first_mismatches {
            let _ = writeln!(s, "    mismatch: {x}");
        }
        s
    }
}
