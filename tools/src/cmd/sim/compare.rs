//! `tandem sim --compare A B [C…]`: scenarios side by side with common random numbers.

use anyhow::{Context, Result};
use tandem_sim::compare::compare;
use tandem_sim::scenario::BUILT_IN_SETS;

use super::{Args, apply_overrides, load, threads};
use crate::ui::progress;

/// Scenario specs with built-in set names expanded to their members.
fn expand(specs: &[String]) -> Vec<String> {
    specs
        .iter()
        .flat_map(|s| match BUILT_IN_SETS.iter().find(|(n, _, _)| n == s) {
            Some((_, _, members)) => members.iter().map(|m| m.to_string()).collect(),
            None => vec![s.clone()],
        })
        .collect()
}

pub(super) fn run(args: &Args) -> Result<()> {
    let specs = expand(&args.compare);
    let mut scenarios = Vec::with_capacity(specs.len());
    for spec in &specs {
        let mut sc = load(Some(spec))?;
        apply_overrides(args, &mut sc).with_context(|| format!("scenario {spec}"))?;
        scenarios.push(sc);
    }
    let first = scenarios.first().map(|s| (s.seed, s.replications));
    let aligned: Vec<&str> = scenarios
        .iter()
        .filter(|s| Some((s.seed, s.replications)) != first)
        .map(|s| s.name.as_str())
        .collect();
    let total = scenarios
        .first()
        .map_or(0, |s| u64::from(s.replications) * scenarios.len() as u64);
    let bar = progress::bar(
        total,
        "replications",
        format!("comparing {} scenarios", scenarios.len()),
        args.quiet || args.json,
    );
    let cmp = compare(&scenarios, threads(args), &|done, _| bar.set_position(done));
    bar.finish_and_clear();
    let cmp = cmp?;
    if let Some(path) = &args.html {
        std::fs::write(path, tandem_sim::html::render_comparison(&cmp))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&cmp)?);
        return Ok(());
    }
    print!("{}", cmp.to_text());
    if !aligned.is_empty() {
        println!(
            "\n(run with the first scenario's seed and replications: {})",
            aligned.join(", ")
        );
    }
    if let Some(path) = &args.html {
        println!("HTML report: {}", path.display());
    }
    Ok(())
}
