//! One chart as inline SVG, drawn with `plotters`: a title, a legend above the plot, axes
//! with ticks, tick labels and titles with units, then shaded spans, stacked bars, lines
//! (with gaps where a value does not exist), step lines and reference lines.
//!
//! Text is left to the browser (plotters' SVG backend writes `<text>` elements), so the
//! report needs no font files.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{value_label, value_ticks, value_top};

/// Chart width and plot height in pixels (the legend adds rows above).
const WIDTH: u32 = 1200;
const PLOT_HEIGHT: u32 = 330;
const TITLE_HEIGHT: u32 = 30;
const LEGEND_ROW: u32 = 22;
const FONT: &str = "sans-serif";

/// A colour as `#rrggbb` components.
pub type Colour = (u8, u8, u8);

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark {
    /// Bars stacked on the series before them (missing values count as 0).
    Stack,
    /// A line through the slot midpoints; a missing value breaks it.
    Line,
    /// A horizontal segment across each slot, joined to the next; a missing value breaks it.
    Step,
}

/// One data series: a value (or none) per slot.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Colour.
    pub colour: Colour,
    /// Drawing.
    pub mark: Mark,
    /// Values, one per slot.
    pub values: Vec<Option<f64>>,
    /// Line width in pixels (lines drawn earlier and wider stay visible under later ones
    /// where they coincide).
    pub width: u32,
}

impl Series {
    /// A series of width 2.
    pub fn new(name: &str, colour: Colour, mark: Mark, values: Vec<Option<f64>>) -> Series {
        Series {
            name: name.into(),
            colour,
            mark,
            values,
            width: 2,
        }
    }

    /// The same series drawn `width` pixels wide.
    pub fn width(mut self, width: u32) -> Series {
        self.width = width;
        self
    }
}

/// A horizontal reference line (a target, a capacity).
#[derive(Clone, Debug)]
pub struct Rule {
    /// Legend text.
    pub name: String,
    /// Position: y for a horizontal rule, x for a vertical one.
    pub at: f64,
    /// Colour.
    pub colour: Colour,
}

/// Shaded x spans, with their strength (0..1).
#[derive(Clone, Debug)]
pub struct Band {
    /// Legend text.
    pub name: String,
    /// Colour.
    pub colour: Colour,
    /// (from, to, strength).
    pub spans: Vec<(f64, f64, f64)>,
}

/// The x axis: its range, its title and its labelled ticks.
#[derive(Clone, Debug)]
pub struct XAxis {
    /// Title with unit.
    pub title: String,
    /// Lowest x.
    pub lo: f64,
    /// Highest x.
    pub hi: f64,
    /// (position, label).
    pub ticks: Vec<(f64, String)>,
}

/// A chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// The x axis.
    pub x: XAxis,
    /// The y axis title with unit.
    pub y_title: String,
    /// A fixed top of the y axis (e.g. 100 for percentages); else from the data.
    pub y_top: Option<f64>,
    /// The x extent of each slot (an interval, a bin, a category).
    pub slots: Vec<(f64, f64)>,
    /// Data series.
    pub series: Vec<Series>,
    /// Horizontal reference lines.
    pub hlines: Vec<Rule>,
    /// Vertical reference lines.
    pub vlines: Vec<Rule>,
    /// Shaded spans, drawn under everything.
    pub bands: Vec<Band>,
}

fn rgb(c: Colour) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// A legend entry's swatch.
enum Swatch {
    Box(Colour, f64),
    Line(Colour, u32),
    Dashed(Colour),
}

impl Chart {
    fn legend(&self) -> Vec<(String, Swatch)> {
        let mut items = Vec::new();
        for s in &self.series {
            let sw = match s.mark {
                Mark::Stack => Swatch::Box(s.colour, 1.0),
                Mark::Line | Mark::Step => Swatch::Line(s.colour, s.width),
            };
            items.push((s.name.clone(), sw));
        }
        for r in self.hlines.iter().chain(&self.vlines) {
            items.push((r.name.clone(), Swatch::Dashed(r.colour)));
        }
        for b in self.bands.iter().filter(|b| !b.spans.is_empty()) {
            items.push((b.name.clone(), Swatch::Box(b.colour, 0.35)));
        }
        items
    }

    /// Legend entries laid out in rows: (row, x, entry).
    fn legend_layout(&self) -> Vec<(u32, i32, String, Swatch)> {
        let mut out = Vec::new();
        let (mut row, mut x) = (0u32, 70i32);
        for (name, sw) in self.legend() {
            // Rough width of 12.5 px sans-serif text: 0.58 em per character.
            let w = 28 + (name.chars().count() as f64 * 6.6) as i32 + 22;
            if x + w > WIDTH as i32 - 10 && x > 70 {
                row += 1;
                x = 70;
            }
            out.push((row, x, name, sw));
            x += w;
        }
        out
    }

    fn y_top(&self) -> f64 {
        if let Some(t) = self.y_top {
            return t;
        }
        let mut max: f64 = 0.0;
        for j in 0..self.slots.len() {
            let stacked: f64 = self
                .series
                .iter()
                .filter(|s| s.mark == Mark::Stack)
                .filter_map(|s| s.values.get(j).copied().flatten())
                .sum();
            max = max.max(stacked);
        }
        for s in self.series.iter().filter(|s| s.mark != Mark::Stack) {
            for v in s.values.iter().flatten() {
                max = max.max(*v);
            }
        }
        for r in &self.hlines {
            max = max.max(r.at);
        }
        value_top(max, 1.0)
    }

    /// The chart as an SVG document (no XML declaration).
    pub fn svg(&self) -> Result<String, String> {
        let layout = self.legend_layout();
        let rows = layout.last().map_or(0, |l| l.0 + 1);
        let top_h = TITLE_HEIGHT + rows * LEGEND_ROW + 6;
        let mut out = String::new();
        self.draw(&mut out, top_h, &layout)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    fn draw(
        &self,
        out: &mut String,
        top_h: u32,
        layout: &[(u32, i32, String, Swatch)],
    ) -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(out, (WIDTH, top_h + PLOT_HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (head, body) = root.split_vertically(top_h);
        head.draw(&Text::new(
            self.title.clone(),
            (70, 6),
            (FONT, 19).into_font().style(FontStyle::Bold).color(&BLACK),
        ))?;
        for (row, x, name, sw) in layout {
            let y = (TITLE_HEIGHT + row * LEGEND_ROW + 8) as i32;
            match sw {
                Swatch::Box(c, a) => {
                    head.draw(&Rectangle::new(
                        [(*x, y), (*x + 22, y + 12)],
                        rgb(*c).mix(*a).filled(),
                    ))?;
                }
                Swatch::Line(c, w) => {
                    head.draw(&PathElement::new(
                        vec![(*x, y + 6), (*x + 22, y + 6)],
                        rgb(*c).stroke_width((*w).clamp(2, 8)),
                    ))?;
                }
                Swatch::Dashed(c) => {
                    for k in 0..3 {
                        head.draw(&PathElement::new(
                            vec![(*x + k * 8, y + 6), (*x + k * 8 + 5, y + 6)],
                            rgb(*c).stroke_width(2),
                        ))?;
                    }
                }
            }
            head.draw(&Text::new(
                name.clone(),
                (*x + 28, y + 6),
                (FONT, 15)
                    .into_font()
                    .color(&RGBColor(40, 40, 40))
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }

        let y_top = self.y_top();
        let (y_step, y_ticks) = value_ticks(y_top);
        let x_ticks: Vec<f64> = self.x.ticks.iter().map(|t| t.0).collect();
        let labels = self.x.ticks.clone();
        let x_fmt = move |v: &f64| {
            labels
                .iter()
                .find(|(p, _)| (p - v).abs() < 1e-6)
                .map(|(_, l)| l.clone())
                .unwrap_or_default()
        };
        let y_fmt = move |v: &f64| value_label(*v, y_step);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(8)
            .margin_right(24)
            .margin_top(6)
            .margin_bottom(4)
            .x_label_area_size(54)
            .y_label_area_size(78)
            .build_cartesian_2d(
                Ticked {
                    lo: self.x.lo,
                    hi: self.x.hi,
                    ticks: x_ticks,
                },
                Ticked {
                    lo: 0.0,
                    hi: y_top,
                    ticks: y_ticks,
                },
            )?;
        chart
            .configure_mesh()
            .x_desc(self.x.title.clone())
            .y_desc(self.y_title.clone())
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style((FONT, 15).into_font().color(&RGBColor(40, 40, 40)))
            .axis_desc_style((FONT, 16).into_font().color(&BLACK))
            .bold_line_style(RGBColor(220, 220, 220).stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(RGBColor(90, 90, 90).stroke_width(1))
            .draw()?;

        for b in &self.bands {
            chart.draw_series(b.spans.iter().map(|(a, z, s)| {
                Rectangle::new(
                    [(*a, 0.0), (*z, y_top)],
                    rgb(b.colour).mix(0.12 + 0.33 * s.clamp(0.0, 1.0)).filled(),
                )
            }))?;
        }
        let mut base = vec![0.0; self.slots.len()];
        for s in self.series.iter().filter(|s| s.mark == Mark::Stack) {
            let style = rgb(s.colour).filled();
            chart.draw_series(self.slots.iter().enumerate().filter_map(|(j, (a, z))| {
                let v = s.values.get(j).copied().flatten().unwrap_or(0.0);
                if v <= 0.0 {
                    return None;
                }
                let gap = (z - a) * 0.12;
                let r = Rectangle::new([(a + gap, base[j]), (z - gap, base[j] + v)], style);
                base[j] += v;
                Some(r)
            }))?;
        }
        for s in self.series.iter().filter(|s| s.mark != Mark::Stack) {
            let style = rgb(s.colour).stroke_width(s.width);
            for run in runs(&s.values) {
                let pts: Vec<(f64, f64)> = match s.mark {
                    Mark::Step => run
                        .iter()
                        .flat_map(|&(j, v)| [(self.slots[j].0, v), (self.slots[j].1, v)])
                        .collect(),
                    _ => run
                        .iter()
                        .map(|&(j, v)| ((self.slots[j].0 + self.slots[j].1) / 2.0, v))
                        .collect(),
                };
                if pts.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(pts[0], 3, style.filled())))?;
                } else {
                    chart.draw_series(LineSeries::new(pts, style))?;
                }
            }
        }
        for r in &self.hlines {
            chart.draw_series(DashedLineSeries::new(
                vec![(self.x.lo, r.at), (self.x.hi, r.at)],
                8,
                5,
                rgb(r.colour).stroke_width(2),
            ))?;
        }
        for r in &self.vlines {
            chart.draw_series(DashedLineSeries::new(
                vec![(r.at, 0.0), (r.at, y_top)],
                8,
                5,
                rgb(r.colour).stroke_width(2),
            ))?;
        }
        root.present()?;
        Ok(())
    }
}

/// A linear axis whose ticks are exactly the given values (plotters' own f64 axis picks its
/// ticks itself, and its key-point combinator has no default label format).
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo).max(1e-12);
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Maximal runs of present values: (slot, value) lists.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut out: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut cur = Vec::new();
    for (j, v) in values.iter().enumerate() {
        match v {
            Some(v) if v.is_finite() => cur.push((j, *v)),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_lines() {
        let r = runs(&[Some(1.0), None, Some(2.0), Some(3.0), None]);
        assert_eq!(r, vec![vec![(0, 1.0)], vec![(2, 2.0), (3, 3.0)]]);
    }
}
