//! `tandem bench` (being built).

/// Arguments of `tandem bench`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `tandem bench`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`tandem bench` is not built yet")
}
