//! `tandem dtmf` (being built).

/// Arguments of `tandem dtmf`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `tandem dtmf`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`tandem dtmf` is not built yet")
}
