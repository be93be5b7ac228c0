//! `tandem convert` (being built).

/// Arguments of `tandem convert`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `tandem convert`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`tandem convert` is not built yet")
}
