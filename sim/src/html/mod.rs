//! Self-contained HTML reports: one file each, inline CSS and SVG charts drawn with
//! `plotters`, no scripts or external files. [`render`] is the page of one scenario run,
//! [`render_comparison`] of scenarios side by side, [`render_plan`] of a staffing plan.

mod axis;
mod chart;
mod compare_page;
mod flow_section;
mod frame;
mod page;
mod plan_page;
mod report_charts;
mod report_page;

pub use compare_page::render_comparison;
pub use plan_page::render_plan;
pub use report_page::render;

use chart::XAxis;

/// The comparison's cell formats, shared with its text report.
use crate::compare::text as compare_text;

/// The palette (Okabe–Ito, distinguishable with the common colour-vision deficiencies).
mod colours {
    pub use super::chart::Colour;
    pub const BLACK: Colour = (0, 0, 0);
    pub const GREY: Colour = (150, 150, 150);
    pub const ORANGE: Colour = (230, 159, 0);
    pub const SKY: Colour = (86, 180, 233);
    pub const GREEN: Colour = (0, 158, 115);
    pub const YELLOW: Colour = (240, 228, 66);
    pub const BLUE: Colour = (0, 114, 178);
    pub const VERMILION: Colour = (213, 94, 0);
    pub const PURPLE: Colour = (204, 121, 167);
    pub const RED: Colour = (200, 30, 30);
    /// Series colours in order, for one line per scenario.
    pub const CYCLE: [Colour; 7] = [BLUE, VERMILION, GREEN, PURPLE, ORANGE, SKY, YELLOW];
}

/// A time x axis over `[lo, hi]` seconds: ticks on whole minutes or hours, as many as fit
/// (about 34 px per `H:MM` label on the plot's 1,090 px).
fn time_axis(lo: f64, hi: f64) -> XAxis {
    let (mut step, mut ticks) = axis::time_ticks(lo, hi, 30);
    if step < 60.0 {
        // H:MM:SS labels are twice as wide.
        (step, ticks) = axis::time_ticks(lo, hi, 15);
    }
    XAxis {
        title: if step >= 60.0 {
            "time since the start (h:mm)".into()
        } else {
            "time since the start (h:mm:ss)".into()
        },
        lo,
        hi,
        ticks: ticks
            .into_iter()
            .map(|t| (t, axis::time_label(t, step)))
            .collect(),
    }
}
