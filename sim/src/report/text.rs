//! The report as text for a terminal.

use std::fmt::Write as _;

use super::{IntervalRow, Report};
use crate::metrics::Counts;

/// Interval tables longer than this are condensed by merging neighbouring intervals.
const MAX_TABLE_ROWS: usize = 50;

/// `H:MM:SS` of a time in seconds.
pub fn clock(t: f64) -> String {
    let s = t.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A duration in words: "60 s", "15 min", "1 h", "1.5 h".
pub fn span(s: f64) -> String {
    if s >= 3600.0 && (s % 1800.0).abs() < 1e-9 {
        format!("{} h", s / 3600.0)
    } else if s >= 60.0 && (s % 60.0).abs() < 1e-9 {
        format!("{} min", s / 60.0)
    } else {
        format!("{s} s")
    }
}

impl Report {
    /// `v` as a percentage with its half-width, or "± n/a" when none can exist.
    pub(super) fn pct_ci(&self, v: f64, key: &str) -> String {
        match self.half_width(key) {
            Some(hw) => format!("{:6.1}% ± {:.1}", v * 100.0, hw * 100.0),
            None => format!("{:6.1}% ± n/a", v * 100.0),
        }
    }

    /// The report as text for a terminal.
    pub fn to_text(&self) -> String {
        let c = &self.counts;
        let r = &self.rates;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Scenario {} — {} replication(s), seed {}; counts are means per replication, \
             ± are {:.0}% confidence half-widths (n/a: one replication gives none)",
            self.scenario,
            self.replications,
            self.seed,
            self.ci_level * 100.0
        );
        let _ = writeln!(
            s,
            "\nWhere calls went                     calls   share of offered"
        );
        let _ = writeln!(s, "  offered                        {:>9.0}", c.offered);
        if c.redials > 0.0 {
            let _ = writeln!(s, "    of which redials             {:>9.0}", c.redials);
        }
        let rows = [
            (
                "1 trunk loss (all lines busy)",
                c.trunk_lost,
                r.trunk_loss_share,
                "trunk_loss_share",
            ),
            (
                "2 IVR loss (no IVR port)",
                c.ivr_lost,
                r.ivr_loss_share,
                "ivr_loss_share",
            ),
            (
                "3 queue loss (abandoned)",
                c.queue_abandoned,
                r.queue_loss_share,
                "queue_loss_share",
            ),
            (
                "4 ring loss (hung up ringing)",
                c.ring_lost,
                r.ring_loss_share,
                "ring_loss_share",
            ),
        ];
        for (name, n, share, key) in rows {
            let _ = writeln!(s, "  {name:<30} {n:>9.0}   {}", self.pct_ci(share, key));
        }
        let _ = writeln!(
            s,
            "  all four losses                {:>9.0}   {}",
            c.trunk_lost + c.ivr_lost + c.queue_abandoned + c.ring_lost,
            self.pct_ci(r.total_loss_share, "total_loss_share")
        );
        if c.redials_lost > 0.0 {
            let _ = writeln!(
                s,
                "    of which redial attempts     {:>9.0}",
                c.redials_lost
            );
        }
        let _ = writeln!(s, "  answered by agents             {:>9.0}", c.answered);
        let _ = writeln!(
            s,
            "  finished in IVR self-service   {:>9.0}",
            c.ivr_completed
        );
        if c.callback_offered > 0.0 || c.callback_served > 0.0 {
            let _ = writeln!(
                s,
                "  callback offered / served / expired  {:.0} / {:.0} / {:.0}",
                c.callback_offered, c.callback_served, c.callback_expired
            );
        }
        if c.voicemail > 0.0 {
            let _ = writeln!(s, "  to voicemail                   {:>9.0}", c.voicemail);
        }
        if c.rejected > 0.0 {
            let _ = writeln!(s, "  blacklisted (busy)             {:>9.0}", c.rejected);
        }
        self.service_text(&mut s);
        self.capacity_text(&mut s);
        self.figures_text(&mut s);
        self.flow_text(&mut s);
        self.interval_text(&mut s);
        s
    }

    fn service_text(&self, s: &mut String) {
        let r = &self.rates;
        let _ = writeln!(s, "\nService");
        let _ = writeln!(
            s,
            "  service level ({:.0} s)          {}   target {:.0}%",
            self.sl_threshold_s,
            self.pct_ci(r.service_level, "service_level"),
            self.sl_target * 100.0
        );
        let asa_hw = self
            .half_width("asa_s")
            .map_or_else(|| "n/a".to_string(), |h| format!("{h:.1}"));
        let _ = writeln!(
            s,
            "  ASA                            {:>6.1} s ± {asa_hw}",
            r.asa_s
        );
        let _ = writeln!(
            s,
            "  waited for an agent            {}",
            self.pct_ci(r.p_wait, "p_wait")
        );
        let _ = writeln!(
            s,
            "  abandon rate (of ACD calls)    {}",
            self.pct_ci(r.abandon_rate, "abandon_rate")
        );
        let _ = writeln!(
            s,
            "  human answer rate              {}",
            self.pct_ci(r.human_answer_rate, "human_answer_rate")
        );
        let w = &self.wait_percentiles_s;
        let _ = writeln!(
            s,
            "  wait of answered p50/p90/p99   {:.1} / {:.1} / {:.1} s",
            w.p50, w.p90, w.p99
        );
        let _ = writeln!(
            s,
            "  agent occupancy                {}",
            self.pct_ci(r.occupancy, "occupancy")
        );
    }

    fn capacity_text(&self, s: &mut String) {
        let r = &self.rates;
        let _ = writeln!(s, "\nCapacity");
        match self.trunk_channels {
            Some(ch) => {
                let _ = writeln!(
                    s,
                    "  trunks {ch} channels: occupancy {:.1}%, peak {:.0}, all lines busy {:.0} s",
                    r.trunk_occupancy * 100.0,
                    self.trunk_peak,
                    self.all_trunks_busy_s
                );
            }
            None => {
                let _ = writeln!(s, "  trunks unlimited: peak {:.0} in use", self.trunk_peak);
            }
        }
        if let Some(p) = self.ivr_ports {
            let _ = writeln!(
                s,
                "  IVR {p} ports: occupancy {:.1}%, peak {:.0}, all ports busy {:.0} s",
                r.ivr_occupancy * 100.0,
                self.ivr_peak,
                self.all_ivr_busy_s
            );
        }
        let _ = writeln!(
            s,
            "  peak queue                     {:.0} calls",
            self.queue_peak
        );
    }

    /// The interval table: every interval with activity, idle stretches folded into one
    /// line, and neighbouring intervals merged when the table would be long.
    fn interval_text(&self, s: &mut String) {
        let active = self.intervals.iter().filter(|r| r.has_activity()).count();
        let merge = merge_factor(active, self.interval_s);
        let width = self.interval_s * merge as f64;
        let callbacks = self.counts.callback_offered > 0.0 || self.counts.callback_served > 0.0;
        let _ = write!(s, "\nPer {} interval", span(self.interval_s));
        if merge > 1 {
            let _ = write!(
                s,
                ", {merge} merged per row ({}; --json lists every interval)",
                span(width)
            );
        }
        let _ = writeln!(s, "; * marks time after arrivals stop (draining)");
        let cb_head = if callbacks { " callbacks" } else { "" };
        let _ = writeln!(
            s,
            "  {:>9} {:>7} {:>7}  {:-^31}  {:>8}{cb_head} {:>5} {:>7} {:>5}",
            "", "", "", " lost at stage ", "", "", "mean", ""
        );
        let _ = writeln!(
            s,
            "  {:>9} {:>7} {:>7}  {:>6} {:>6} {:>9} {:>6}  {:>8}{} {:>5} {:>7} {:>5}",
            "start",
            "offered",
            "redials",
            "trunk",
            "IVR",
            "abandoned",
            "ring",
            "answered",
            if callbacks { "    served" } else { "" },
            "SL",
            "waiting",
            "occ"
        );
        let rows: Vec<&IntervalRow> = self.intervals.iter().collect();
        let mut i = 0;
        while i < rows.len() {
            if !rows[i].has_activity() {
                let from = i;
                while i < rows.len() && !rows[i].has_activity() {
                    i += 1;
                }
                let end = if i < rows.len() {
                    rows[i].start_s
                } else {
                    rows[i - 1].start_s + self.interval_s
                };
                let _ = writeln!(
                    s,
                    "  {}–{}  no calls",
                    clock(rows[from].start_s),
                    clock(end)
                );
                continue;
            }
            let mut group = vec![rows[i]];
            i += 1;
            while group.len() < merge && i < rows.len() && rows[i].has_activity() {
                group.push(rows[i]);
                i += 1;
            }
            let m = Merged::of(&group);
            let c = &m.counts;
            let sl = m
                .service_level
                .map_or_else(|| "  n/a".into(), |v| format!("{:>4.0}%", v * 100.0));
            let occ = m
                .occupancy
                .map_or_else(|| "  n/a".into(), |v| format!("{:>4.0}%", v * 100.0));
            let cb = if callbacks {
                format!(" {:>9.0}", c.callback_served)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                " {}{:>9} {:>7.0} {:>7.0}  {:>6.0} {:>6.0} {:>9.0} {:>6.0}  {:>8.0}{cb} {sl} {:>7.1} {occ}",
                if m.drain { '*' } else { ' ' },
                clock(m.start_s),
                c.offered,
                c.redials,
                c.trunk_lost,
                c.ivr_lost,
                c.queue_abandoned,
                c.ring_lost,
                c.answered,
                m.queue_len,
            );
        }
    }
}

/// How many neighbouring intervals of `interval_s` to merge per row so that `rows` fit the
/// table: the fewest that fit, preferring merged widths that divide an hour or are whole
/// hours (15 min intervals merge into 30 min or 1 h rows, not 45 min ones).
fn merge_factor(rows: usize, interval_s: f64) -> usize {
    let least = rows.div_ceil(MAX_TABLE_ROWS).max(1);
    if least == 1 {
        return 1;
    }
    let nice = |k: usize| {
        let w = (k as f64 * interval_s).round() as u64;
        w > 0 && (3600 % w == 0 || w % 3600 == 0)
    };
    (least..least * 4).find(|&k| nice(k)).unwrap_or(least)
}

/// Neighbouring interval rows summed (counts) or averaged (levels).
struct Merged {
    start_s: f64,
    drain: bool,
    counts: Counts,
    service_level: Option<f64>,
    queue_len: f64,
    occupancy: Option<f64>,
}

impl Merged {
    fn of(rows: &[&IntervalRow]) -> Merged {
        let mut counts = Counts::default();
        let (mut q, mut busy, mut staffed) = (0.0, 0.0, 0.0);
        for r in rows {
            counts.add(&r.counts);
            q += r.queue_len;
            busy += r.occupancy.unwrap_or(0.0) * r.agents_staffed;
            staffed += r.agents_staffed;
        }
        let judged = counts.answered + counts.queue_abandoned + counts.ring_lost;
        Merged {
            start_s: rows[0].start_s,
            drain: rows[0].drain,
            service_level: (judged > 0.0).then(|| counts.answered_within_sl / judged),
            counts,
            queue_len: q / rows.len() as f64,
            occupancy: (staffed > 0.0).then(|| busy / staffed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_span() {
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(span(60.0), "1 min");
        assert_eq!(span(900.0), "15 min");
        assert_eq!(span(3600.0), "1 h");
        assert_eq!(span(45.0), "45 s");
    }

    #[test]
    fn long_tables_merge_but_short_ones_do_not() {
        assert_eq!(merge_factor(25, 60.0), 1);
        assert_eq!(merge_factor(50, 60.0), 1);
        assert_eq!(merge_factor(97, 900.0), 2);
        // 3 × 15 min would fit but reads badly: 4 × 15 min = 1 h.
        assert_eq!(merge_factor(120, 900.0), 4);
        assert_eq!(merge_factor(1441, 60.0), 30);
        // No nice width nearby: the least that fits.
        assert_eq!(merge_factor(120, 7.0), 3);
    }
}
