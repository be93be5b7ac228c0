//! Aligned text tables for the load lab's reports: text columns left-aligned, figures
//! right-aligned, a rule under the headers.

use std::fmt::Write as _;

/// An aligned text table: the first `left` columns left-aligned (text), the others
/// right-aligned (figures), a rule under the headers.
pub fn aligned_table(headers: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w - cell.chars().count().min(*w);
            if i == 0 {
                let _ = write!(l, "{cell}{}", " ".repeat(pad));
            } else if i < left {
                l.push_str("  ");
                let _ = write!(l, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(l, "  {}{cell}", " ".repeat(pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&headers.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    line(&rule);
    for row in rows {
        line(row);
    }
    out
}
