//! The frame the time-series charts of a report share: its time axis, interval slots and
//! the drain after arrivals stop.

use super::chart::{Band, Chart, XAxis};
use super::{colours as c, time_axis};
use crate::report::Report;

/// The shared pieces of the time-series charts of a report.
pub(super) struct Frame {
    pub x: XAxis,
    pub slots: Vec<(f64, f64)>,
    pub drain: Option<Band>,
    pub per: String,
}

impl Frame {
    pub fn of(r: &Report) -> Frame {
        let iv = r.interval_s;
        let hi = (r.intervals.len() as f64 * iv).max(r.duration_s);
        let slots = r
            .intervals
            .iter()
            .map(|i| (i.start_s, i.start_s + iv))
            .collect();
        Frame {
            x: time_axis(0.0, hi),
            slots,
            drain: (hi > r.duration_s).then(|| Band {
                name: "after arrivals stop (draining)".into(),
                colour: c::GREY,
                spans: vec![(r.duration_s, hi, 0.4)],
            }),
            per: crate::report::span(iv),
        }
    }

    pub fn chart(&self, title: &str, y_title: &str) -> Chart {
        Chart {
            title: title.into(),
            x: self.x.clone(),
            y_title: y_title.into(),
            y_top: None,
            slots: self.slots.clone(),
            series: Vec::new(),
            hlines: Vec::new(),
            vlines: Vec::new(),
            bands: self.drain.iter().cloned().collect(),
        }
    }
}
