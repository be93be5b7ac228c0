//! `tandem erlang` (being built).

/// Arguments of `tandem erlang`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `tandem erlang`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`tandem erlang` is not built yet")
}
