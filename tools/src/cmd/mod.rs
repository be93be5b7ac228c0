//! One module per subcommand; each has an `Args` (clap) and a `run`.
pub mod bench;
pub mod capacity;
pub mod convert;
pub mod demo;
pub mod dtmf;
pub mod erlang;
mod lab_progress;
pub mod load;
pub mod resample;
pub mod serve;
pub mod sim;
pub mod soak;
pub mod staff;

use std::path::Path;

use anyhow::{Context, Result};
use tandem_codecs::wav::Wav;

/// Reads a WAV file, naming the path and the reason on failure.
pub fn read_wav(path: &Path) -> Result<Wav> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Wav::parse(&bytes).with_context(|| format!("{} is not a usable WAV file", path.display()))
}
