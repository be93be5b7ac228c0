//! The page around the charts: one self-contained HTML document (inline CSS and SVG, no
//! scripts, no external files), with headings, KPI cards, tables and chart figures.

use std::fmt::Write as _;

use super::chart::Chart;

const CSS: &str = "\
body{font-family:sans-serif;margin:0;color:#222;background:#fff}\
main{max-width:1240px;margin:0 auto;padding:1.5em 1.5em 3em}\
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd}\
p.lead{color:#444;max-width:70em}p.note{color:#555;font-size:.92em;max-width:75em}\
.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}\
.card{border:1px solid #ccc;border-radius:6px;padding:.5em .8em;min-width:9.5em}\
.card .k{font-size:.82em;color:#555}.card .v{font-size:1.35em;font-weight:bold}\
.card .s{font-size:.78em;color:#666}\
table{border-collapse:collapse;margin:.4em 0 1em}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}\
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}\
td.sig{font-weight:bold}td.sub{padding-left:1.6em;color:#444}\
figure.chart{margin:1.2em 0;border:1px solid #ddd;border-radius:4px;padding:4px}\
figure.chart svg{display:block;width:100%;height:auto}\
figure.chart figcaption{font-size:.9em;color:#444;padding:.3em .5em}";

/// An HTML page under construction.
pub struct Page {
    html: String,
    charts: usize,
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Page {
    /// A page titled `title`, with `lead` under the main heading.
    pub fn new(title: &str, lead: &str) -> Page {
        let mut html = String::new();
        let _ = write!(
            html,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{}</title><style>{CSS}</style></head><body><main><h1>{}</h1>",
            esc(title),
            esc(title)
        );
        if !lead.is_empty() {
            let _ = write!(html, "<p class=\"lead\">{}</p>", esc(lead));
        }
        Page { html, charts: 0 }
    }

    /// A section heading.
    pub fn h2(&mut self, text: &str) {
        let _ = write!(self.html, "<h2>{}</h2>", esc(text));
    }

    /// A paragraph of notes.
    pub fn note(&mut self, text: &str) {
        let _ = write!(self.html, "<p class=\"note\">{}</p>", esc(text));
    }

    /// KPI cards: (label, value, small print).
    pub fn cards(&mut self, cards: &[(String, String, String)]) {
        self.html.push_str("<div class=\"cards\">");
        for (k, v, s) in cards {
            let _ = write!(
                self.html,
                "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div>\
                 <div class=\"s\">{}</div></div>",
                esc(k),
                esc(v),
                esc(s)
            );
        }
        self.html.push_str("</div>");
    }

    /// A table: a header row, then rows; a cell starting with `*` is marked significant, one
    /// starting with two spaces is indented (a sub-row).
    pub fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        self.html.push_str("<table><tr>");
        for h in head {
            let _ = write!(self.html, "<th>{}</th>", esc(h));
        }
        self.html.push_str("</tr>");
        for row in rows {
            self.html.push_str("<tr>");
            for cell in row {
                match cell.strip_prefix('*') {
                    Some(c) => {
                        let _ = write!(self.html, "<td class=\"sig\">{}</td>", esc(c));
                    }
                    None => match cell.strip_prefix("  ") {
                        Some(c) => {
                            let _ = write!(self.html, "<td class=\"sub\">{}</td>", esc(c));
                        }
                        None => {
                            let _ = write!(self.html, "<td>{}</td>", esc(cell));
                        }
                    },
                }
            }
            self.html.push_str("</tr>");
        }
        self.html.push_str("</table>");
    }

    /// A chart with a caption. The figure carries its axis titles as data attributes, so a
    /// check of the rendered page can find them.
    pub fn chart(&mut self, chart: &Chart, caption: &str) {
        self.charts += 1;
        let svg = chart.svg().unwrap_or_else(|e| {
            format!(
                "<p class=\"note\">chart could not be drawn: {}</p>",
                esc(&e)
            )
        });
        let _ = write!(
            self.html,
            "<figure class=\"chart\" id=\"chart-{}\" data-title=\"{}\" data-x-label=\"{}\" \
             data-y-label=\"{}\">{svg}<figcaption>{}</figcaption></figure>",
            self.charts,
            esc(&chart.title),
            esc(&chart.x.title),
            esc(&chart.y_title),
            esc(caption)
        );
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.html.push_str("</main></body></html>\n");
        self.html
    }
}
