//! `tandem sim` (being built).

/// Arguments of `tandem sim`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `tandem sim`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`tandem sim` is not built yet")
}
