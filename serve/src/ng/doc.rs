//! `docs/ng.md`: the option table rendered as Markdown. The page's table is this rendering,
//! checked by a test (it cannot drift from what request parsing does); set
//! `TANDEM_WRITE_DOCS=1` when running that test to rewrite the page after changing the table.

use super::options::{CONDITIONAL, Gap, Kind, State, counts, engine_can, entries};

/// The line after which `docs/ng.md` holds the generated table.
pub const BEGIN: &str = "<!-- BEGIN generated from the option table -->";
/// The line before which the generated table ends.
pub const END: &str = "<!-- END generated -->";

/// A section of the rendering: its title and the kinds it lists.
type Section = (&'static str, fn(Kind) -> bool);

/// The table as the Markdown of `docs/ng.md` (between its markers [`BEGIN`] and [`END`]).
pub fn markdown() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let (h, r, n) = counts();
    let _ = writeln!(
        out,
        "{} entries: {h} honoured, {r} refused, {n} not applicable.\n",
        entries().count()
    );
    let sections: [Section; 4] = [
        ("Commands", |k| k == Kind::Command),
        ("Keys", |k| k == Kind::Key),
        ("Flags", |k| matches!(k, Kind::Flag | Kind::FlagPrefix)),
        ("Values of keys", |k| {
            matches!(k, Kind::Value(_) | Kind::ValuePrefix(_))
        }),
    ];
    for (title, pick) in sections {
        let _ = writeln!(out, "### {title}\n");
        let _ = writeln!(out, "| Name | Also | State | What Tandem does |");
        let _ = writeln!(out, "|---|---|---|---|");
        for o in entries().filter(|o| pick(o.kind)) {
            let name = match o.kind {
                Kind::Value(k) => format!("`{k}`: `{}`", o.name),
                Kind::ValuePrefix(k) => format!("`{k}`: `{}`…", o.name),
                Kind::FlagPrefix => format!("`{}`…", o.name),
                _ => format!("`{}`", o.name),
            };
            let also = o
                .aliases
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let (state, text) = match o.state {
                State::Honoured(t) => ("honoured", t.to_string()),
                State::Refused(t) => ("refused", t.to_string()),
                State::Engine(g) if engine_can(g) => ("honoured", g.needs().to_string()),
                State::Engine(g) => ("refused (engine)", g.needs().to_string()),
                State::NotApplicable(t) => ("n/a", t.to_string()),
            };
            let _ = writeln!(
                out,
                "| {name} | {also} | {state} | {} |",
                text.replace('|', "\\|")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "### Refused until the media engine can\n");
    let _ = writeln!(
        out,
        "These are refused with an error naming them; each turns into honoured when the engine \
         gains the capability (one switch per capability in the code).\n"
    );
    let _ = writeln!(out, "| Capability the engine lacks | Refused until then |");
    let _ = writeln!(out, "|---|---|");
    for gap in Gap::ALL {
        let mut what: Vec<String> = entries()
            .filter(|o| o.state == State::Engine(gap))
            .map(|o| match o.kind {
                Kind::Value(k) | Kind::ValuePrefix(k) => format!("`{k}`: `{}`", o.name),
                _ => format!("{} `{}`", o.kind.noun(), o.name),
            })
            .collect();
        what.extend(
            CONDITIONAL
                .iter()
                .filter(|(_, g)| *g == gap)
                .map(|(w, _)| w.to_string()),
        );
        let state = if engine_can(gap) {
            " (now honoured)"
        } else {
            ""
        };
        let _ = writeln!(out, "| {}{state} | {} |", gap.needs(), what.join("; "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/ng.md");

    /// The page with its generated part replaced by `table`.
    fn with_table(page: &str, table: &str) -> Option<String> {
        let start = page.find(BEGIN)? + BEGIN.len();
        let end = start + page[start..].find(END)?;
        Some(format!(
            "{}\n\n{}\n{}",
            &page[..start],
            table.trim_end(),
            &page[end..]
        ))
    }

    #[test]
    fn docs_ng_md_is_the_rendered_table() {
        let page = std::fs::read_to_string(PAGE).expect("docs/ng.md");
        let want =
            with_table(&page, &markdown()).expect("docs/ng.md has the BEGIN and END markers");
        if std::env::var_os("TANDEM_WRITE_DOCS").is_some() {
            std::fs::write(PAGE, &want).expect("write docs/ng.md");
            return;
        }
        assert!(
            page == want,
            "docs/ng.md differs from the option table; rerun this test with TANDEM_WRITE_DOCS=1 \
             to rewrite it"
        );
    }

    #[test]
    fn the_rendering_states_every_entry_once() {
        let md = markdown();
        let rows = md.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(rows, entries().count());
        let (h, r, n) = counts();
        assert_eq!(h + r + n, entries().count());
        assert!(md.contains(&format!("{h} honoured, {r} refused, {n} not applicable")));
    }
}
