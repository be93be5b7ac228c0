//! `tandem staff` (being built).

/// Arguments of `tandem staff`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `tandem staff`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`tandem staff` is not built yet")
}
