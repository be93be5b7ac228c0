//! `tandem dtmf`: detect DTMF digits in a WAV file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use tandem_codecs::dtmf::{DtmfConfig, DtmfDetector};

use super::resample::resample;

/// Arguments of `tandem dtmf`.
#[derive(clap::Args)]
pub struct Args {
    /// Input WAV file (PCM16, μ-law or A-law), any sample rate: other rates than 8 kHz are
    /// resampled to 8 kHz first. Multi-channel files are analysed per channel.
    input: PathBuf,
    /// Minimum digit duration in milliseconds.
    #[arg(long, default_value_t = 40)]
    min_duration_ms: u32,
}

/// Runs `tandem dtmf`.
pub fn run(args: Args) -> Result<()> {
    let wav = super::read_wav(&args.input)?;
    super::convert::warn_repairs(&args.input, &wav);
    let channels = wav.format.channels;
    let mut samples = wav.samples();
    if wav.format.sample_rate != 8000 {
        samples =
            resample(&samples, channels, wav.format.sample_rate, 8000).with_context(|| {
                format!(
                    "{}: resampling {} Hz to the detector's 8000 Hz",
                    args.input.display(),
                    wav.format.sample_rate
                )
            })?;
        eprintln!(
            "{}: {} Hz, resampled to 8000 Hz for detection",
            args.input.display(),
            wav.format.sample_rate
        );
    }
    let cfg = DtmfConfig {
        min_duration_ms: args.min_duration_ms,
        ..DtmfConfig::default()
    };
    let mut total = 0;
    for ch in 0..channels {
        let mono: Vec<i16> = samples
            .iter()
            .skip(usize::from(ch))
            .step_by(usize::from(channels.max(1)))
            .copied()
            .collect();
        for d in DtmfDetector::new(cfg).detect(&mono) {
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
