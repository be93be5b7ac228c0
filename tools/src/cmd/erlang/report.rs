//! How `tandem erlang` prints: text with significant digits, or one JSON object.
//!
//! Numbers print with four decimals, except below 0.001 (and from 10⁷ up), which print in
//! scientific notation with four significant digits (`7.800e-6`), so that small
//! probabilities never show as 0. Exact zeros print as `0` (an f64 result below ~1e-308).

use anyhow::Result;
use serde_json::{Map, Value, json};
use tandem_sim::erlang::{ErlangA, ErlangC, ErlangTarget};

/// A number with significant digits.
pub(super) fn num(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else if x == 0.0 {
        "0".into()
    } else if x.abs() < 1e-3 || x.abs() >= 1e7 {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// A fraction as a percentage.
fn pct(x: f64) -> String {
    format!("{}%", num(100.0 * x))
}

/// A value the user gave, in its shortest form (0.05, 1e-9), rounded to 10 significant
/// digits so that 0.07 × 100 prints as 7.
fn plain(x: f64) -> String {
    let rounded: f64 = format!("{x:.9e}").parse().unwrap_or(x);
    if rounded != 0.0 && rounded.abs() < 1e-3 {
        format!("{rounded:e}")
    } else {
        format!("{rounded}")
    }
}

/// The figures for one size.
pub(super) enum Row {
    B {
        n: u32,
        a: f64,
        rate_per_min: f64,
        blocking: f64,
    },
    /// `None`: the load is at or above the agents.
    C {
        n: u32,
        t: f64,
        r: Option<ErlangC>,
    },
    A {
        n: u32,
        t: f64,
        r: ErlangA,
    },
}

impl Row {
    pub fn b(n: u32, a: f64, rate_per_min: f64, blocking: f64) -> Self {
        Row::B {
            n,
            a,
            rate_per_min,
            blocking,
        }
    }
    pub fn c(n: u32, t: f64, r: Option<ErlangC>) -> Self {
        Row::C { n, t, r }
    }
    pub fn a(n: u32, t: f64, r: ErlangA) -> Self {
        Row::A { n, t, r }
    }

    fn json(&self) -> Map<String, Value> {
        let v = match self {
            Row::B {
                n,
                a,
                rate_per_min,
                blocking,
            } => json!({
                "offered_erlang": a,
                "blocking": blocking,
                "carried_erlang": a * (1.0 - blocking),
                "occupancy": a * (1.0 - blocking) / f64::from(*n),
                "lost_per_min": rate_per_min * blocking,
            }),
            Row::C { r: None, .. } => json!({ "stable": false }),
            Row::C { t, r: Some(c), .. } => json!({
                "stable": true,
                "offered_erlang": c.offered_erlang,
                "p_wait": c.p_wait,
                "asa_s": c.asa_s,
                "wait_if_delayed_s": c.wait_if_delayed_s,
                "mean_queue_length": c.mean_queue_length,
                "service_level": c.service_level,
                "sl_threshold_s": t,
                "occupancy": c.occupancy,
            }),
            Row::A { n, t, r } => json!({
                "offered_erlang": r.offered_erlang,
                "offered_per_agent": r.offered_erlang / f64::from(*n),
                "carried_erlang": r.carried_erlang,
                "p_wait": r.p_wait,
                "p_abandon": r.p_abandon,
                "p_abandon_given_wait": r.p_abandon_given_wait,
                "p_abandon_within_t": r.p_abandon_within_t,
                "asa_s": r.asa_s,
                "mean_wait_abandoned_s": r.mean_wait_abandoned_s,
                "mean_wait_all_s": r.mean_wait_all_s,
                "mean_queue_length": r.mean_queue_length,
                "service_level": r.service_level,
                "service_level_answered": r.service_level_answered,
                "service_level_excluding_short_abandons":
                    r.service_level_excluding_short_abandons,
                "sl_threshold_s": t,
                "occupancy": r.occupancy,
            }),
        };
        match v {
            Value::Object(m) => m,
            _ => unreachable!("json! of an object"),
        }
    }

    /// Label–value lines for the one-size view.
    fn lines(&self) -> Vec<(String, String)> {
        let l = |k: &str, v: String| (k.to_string(), v);
        match self {
            Row::B {
                n,
                a,
                rate_per_min,
                blocking,
            } => vec![
                l(
                    "offered load",
                    format!("{} Erlang on {n} channels", num(*a)),
                ),
                l(
                    "P(block)",
                    format!("{} ({})", num(*blocking), pct(*blocking)),
                ),
                l(
                    "lost calls",
                    format!("{} per min", num(rate_per_min * blocking)),
                ),
                l(
                    "carried load",
                    format!("{} Erlang", num(a * (1.0 - blocking))),
                ),
                l("occupancy", pct(a * (1.0 - blocking) / f64::from(*n))),
            ],
            Row::C { n, r: None, .. } => vec![l("agents", format!("{n}: unstable"))],
            Row::C { n, t, r: Some(c) } => vec![
                l(
                    "offered load",
                    format!("{} Erlang on {n} agents", num(c.offered_erlang)),
                ),
                l("P(wait)", num(c.p_wait)),
                l("ASA", format!("{} s", num(c.asa_s))),
                l("wait if delayed", format!("{} s", num(c.wait_if_delayed_s))),
                l("mean queue length", num(c.mean_queue_length)),
                l(
                    "service level",
                    format!("{} answered within {t} s", pct(c.service_level)),
                ),
                l("occupancy", pct(c.occupancy)),
            ],
            Row::A { n, t, r } => vec![
                l(
                    "offered load",
                    format!(
                        "{} Erlang on {n} agents ({} per agent)",
                        num(r.offered_erlang),
                        num(r.offered_erlang / f64::from(*n))
                    ),
                ),
                l("P(wait)", num(r.p_wait)),
                l("P(abandon)", num(r.p_abandon)),
                l("P(abandon | wait)", num(r.p_abandon_given_wait)),
                l(&format!("P(abandon ≤ {t} s)"), num(r.p_abandon_within_t)),
                l("ASA (answered)", format!("{} s", num(r.asa_s))),
                l(
                    "mean wait, abandoned",
                    format!("{} s", num(r.mean_wait_abandoned_s)),
                ),
                l("mean wait, all", format!("{} s", num(r.mean_wait_all_s))),
                l("mean queue length", num(r.mean_queue_length)),
                l(
                    "service level",
                    format!(
                        "{} answered within {t} s, of all callers",
                        pct(r.service_level)
                    ),
                ),
                l(
                    "  of answered",
                    format!("{} of answered callers", pct(r.service_level_answered)),
                ),
                l(
                    "  excl. short aband.",
                    format!(
                        "{} without callers abandoning within {t} s",
                        pct(r.service_level_excluding_short_abandons)
                    ),
                ),
                l("occupancy", pct(r.occupancy)),
                l("carried load", format!("{} Erlang", num(r.carried_erlang))),
            ],
        }
    }

    fn header(&self) -> &'static [&'static str] {
        match self {
            Row::B { .. } => &["channels", "P(block)", "carried (E)", "occupancy"],
            Row::C { .. } => &["agents", "SL", "ASA (s)", "P(wait)", "occupancy"],
            Row::A { .. } => &[
                "agents",
                "SL",
                "ASA (s)",
                "P(wait)",
                "P(abandon)",
                "occupancy",
            ],
        }
    }

    fn cells(&self) -> Vec<String> {
        match self {
            Row::B { n, a, blocking, .. } => vec![
                n.to_string(),
                num(*blocking),
                num(a * (1.0 - blocking)),
                pct(a * (1.0 - blocking) / f64::from(*n)),
            ],
            Row::C { n, r: None, .. } => vec![n.to_string(), "unstable".into()],
            Row::C { n, r: Some(c), .. } => vec![
                n.to_string(),
                pct(c.service_level),
                num(c.asa_s),
                num(c.p_wait),
                pct(c.occupancy),
            ],
            Row::A { n, r, .. } => vec![
                n.to_string(),
                pct(r.service_level),
                num(r.asa_s),
                num(r.p_wait),
                num(r.p_abandon),
                pct(r.occupancy),
            ],
        }
    }
}

/// Collects one command's output and prints it as text or as one JSON object.
pub(super) struct Out {
    json: bool,
    doc: Map<String, Value>,
    inputs: Map<String, Value>,
    text: Vec<String>,
}

impl Out {
    pub fn new(model: &str, json: bool) -> Self {
        let mut doc = Map::new();
        doc.insert("model".into(), model.into());
        Out {
            json,
            doc,
            inputs: Map::new(),
            text: Vec::new(),
        }
    }

    pub fn input(&mut self, key: &str, v: f64) {
        self.inputs.insert(key.into(), v.into());
    }

    fn detail(&mut self, row: &Row) {
        for (k, v) in row.lines() {
            self.text.push(format!("{k:<22} {v}"));
        }
    }

    /// Figures for one size.
    pub fn one(&mut self, size_key: &str, n: u32, row: Row) {
        self.inputs.insert(size_key.into(), n.into());
        self.doc.insert("results".into(), Value::Object(row.json()));
        self.detail(&row);
    }

    /// A table over sizes.
    pub fn table(
        &mut self,
        size_key: &str,
        from: u32,
        to: u32,
        step: u32,
        rows: impl Iterator<Item = Result<Row>>,
    ) -> Result<()> {
        self.inputs.insert(format!("{size_key}_from"), from.into());
        self.inputs.insert(format!("{size_key}_to"), to.into());
        self.inputs.insert("step".into(), step.into());
        let mut table = Vec::new();
        for row in rows {
            let row = row?;
            if self.text.is_empty() {
                let h = row.header();
                self.text.push(Self::line(h.iter().map(|s| s.to_string())));
            }
            self.text.push(Self::line(row.cells().into_iter()));
            let mut m = Map::new();
            m.insert(size_key.into(), row.size().into());
            m.extend(row.json());
            table.push(Value::Object(m));
        }
        self.doc.insert("table".into(), Value::Array(table));
        Ok(())
    }

    fn line(cells: impl Iterator<Item = String>) -> String {
        cells
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    format!("{c:>9}")
                } else {
                    format!("{c:>13}")
                }
            })
            .collect::<Vec<_>>()
            .join("")
    }

    /// A staffing target (Erlang C or A).
    pub fn targets(&mut self, t: &ErlangTarget) {
        let mut m = Map::new();
        let mut words = Vec::new();
        if let Some((f, s)) = t.service_level {
            m.insert("service_level".into(), f.into());
            m.insert("sl_threshold_s".into(), s.into());
            words.push(format!("SL ≥ {}% within {s} s", plain(100.0 * f)));
        }
        if let Some(x) = t.max_abandon {
            m.insert("max_abandon".into(), x.into());
            words.push(format!("P(abandon) ≤ {}", plain(x)));
        }
        if let Some(x) = t.max_asa_s {
            m.insert("max_asa_s".into(), x.into());
            words.push(format!("ASA ≤ {} s", plain(x)));
        }
        self.doc.insert("target".into(), Value::Object(m));
        self.text
            .push(format!("{:<22} {}", "target", words.join(", ")));
    }

    /// A blocking target (Erlang B).
    pub fn target(&mut self, key: &str, v: f64) {
        self.doc.insert("target".into(), json!({ key: v }));
        self.text
            .push(format!("{:<22} P(block) ≤ {}", "target", plain(v)));
    }

    /// The answer of an inverse search, with the figures at one fewer to show it is the least.
    pub fn inverse(&mut self, size_key: &str, n: u32, row: Row, fewer: Option<Row>) {
        self.doc.insert(size_key.into(), n.into());
        let mut needed = format!("{n}");
        if size_key == "channels" {
            let e1 = n.div_ceil(30);
            self.doc.insert("e1".into(), e1.into());
            needed.push_str(&format!(
                " ({e1} E1 span{})",
                if e1 == 1 { "" } else { "s" }
            ));
        }
        self.text
            .push(format!("{:<22} {needed}", format!("{size_key} needed")));
        self.doc.insert("results".into(), Value::Object(row.json()));
        self.detail(&row);
        if let Some(f) = &fewer {
            let h = f.header();
            let summary: Vec<String> = h
                .iter()
                .zip(f.cells())
                .skip(1)
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            self.text.push(format!(
                "{:<22} {} (misses the target)",
                format!("with {}", f.size()),
                summary.join(", ")
            ));
        }
        self.doc.insert(
            "one_fewer".into(),
            fewer.map_or(Value::Null, |f| Value::Object(f.json())),
        );
    }

    /// Prints the output; a reader that stops early (`| head`) ends it quietly.
    pub fn finish(mut self) -> Result<()> {
        use std::io::Write;
        let mut text = String::new();
        if self.json {
            self.doc.insert("inputs".into(), Value::Object(self.inputs));
            text = Value::Object(self.doc).to_string();
            text.push('\n');
        } else {
            for l in &self.text {
                text.push_str(l);
                text.push('\n');
            }
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        }
    }
}

impl Row {
    fn size(&self) -> u32 {
        match self {
            Row::B { n, .. } | Row::C { n, .. } | Row::A { n, .. } => *n,
        }
    }
}
