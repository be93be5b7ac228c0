//! `tandem dtmf`: detect DTMF digits in a WAV file.

use std::path::PathBuf;

use anyhow::{Result, bail};
use tandem_codecs::dtmf::{DtmfConfig, DtmfDetector};

/// Arguments of `tandem dtmf`.
#[derive(clap::Args)]
pub struct Args {
    /// Input WAV file at 8 kHz (PCM16, μ-law or A-law). Multi-channel files are analysed per
    /// channel.
    input: PathBuf,
    /// Minimum digit duration in milliseconds.
    #[arg(long, default_value_t = 40)]
    min_duration_ms: u32,
}

/// Runs `tandem dtmf`.
pub fn run(args: Args) -> Result<()> {
    let wav = super::read_wav(&args.input)?;
    super::convert::warn_repairs(&args.input, &wav);
    if wav.format.sample_rate != 8000 {
        bail!(
            "{}: DTMF detection needs 8000 Hz audio, this file is {} Hz (convert it first)",
            args.input.display(),
            wav.format.sample_rate
        );
    }
    let cfg = DtmfConfig {
        min_duration_ms: args.min_duration_ms,
        ..DtmfConfig::default()
    };
    let channels = wav.format.channels;
    let mut total = 0;
    for ch in 0..channels {
        let samples = wav.channel(ch);
        for d in DtmfDetector::new(cfg).detect(&samples) {
            total += 1;
            if channels > 1 {
                println!("{:.3}s ch{ch} {}", d.start_secs(), d.key);
            } else {
                println!("{:.3}s {}", d.start_secs(), d.key);
            }
        }
    }
    if total == 0 {
        eprintln!("{}: no DTMF digits found", args.input.display());
    }
    Ok(())
}
