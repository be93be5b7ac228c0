//! `tandem convert`: re-encode a WAV file as PCM16, μ-law or A-law, and change its sample
//! rate.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use tandem_codecs::wav::{Encoding, Wav, WavFormat, WavWriter};

/// Target encodings.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Target {
    /// G.711 μ-law (format tag 7).
    Pcmu,
    /// G.711 A-law (format tag 6).
    Pcma,
    /// Signed 16-bit linear PCM.
    Pcm16,
}

/// Arguments of `tandem convert`.
#[derive(clap::Args)]
pub struct Args {
    /// Input WAV file (PCM16, μ-law or A-law; any channel count).
    input: PathBuf,
    /// Output WAV file.
    output: PathBuf,
    /// Encoding to write.
    #[arg(long)]
    to: Target,
    /// Sample rate to write, Hz (default: the input's). Telephony tools expect 8000.
    #[arg(long)]
    rate: Option<u32>,
}

/// Runs `tandem convert`.
pub fn run(args: Args) -> Result<()> {
    let wav = super::read_wav(&args.input)?;
    if args.input.canonicalize().ok() == args.output.canonicalize().ok() {
        bail!(
            "refusing to overwrite the input file {}",
            args.input.display()
        );
    }
    let encoding = match args.to {
        Target::Pcmu => Encoding::Ulaw,
        Target::Pcma => Encoding::Alaw,
        Target::Pcm16 => Encoding::Pcm16,
    };
    let rate = args.rate.unwrap_or(wav.format.sample_rate);
    let format = WavFormat {
        encoding,
        sample_rate: rate,
        ..wav.format
    };
    let samples = super::resample::resample(
        &wav.samples(),
        wav.format.channels,
        wav.format.sample_rate,
        rate,
    )
    .with_context(|| format!("--rate {rate}"))?;
    // Write to a temporary name first, so a failure never leaves a half-written output.
    let tmp = args.output.with_extension("wav.partial");
    let write = || -> Result<()> {
        let f = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = WavWriter::new(BufWriter::new(f), format)?;
        w.write_samples(&samples)?;
        w.finalize()?;
        Ok(())
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("writing {}", args.output.display())));
    }
    std::fs::rename(&tmp, &args.output)
        .with_context(|| format!("moving output into place at {}", args.output.display()))?;
    warn_repairs(&args.input, &wav);
    eprintln!(
        "{}: {} frames, {} ch, {} Hz, {:.2} s → {} ({:?}, {rate} Hz)",
        args.input.display(),
        wav.frames(),
        wav.format.channels,
        wav.format.sample_rate,
        wav.duration_secs(),
        args.output.display(),
        encoding
    );
    Ok(())
}

/// Tells the user what the reader had to repair in the input's header.
pub fn warn_repairs(path: &std::path::Path, wav: &Wav) {
    for r in &wav.repaired {
        eprintln!("warning: {}: repaired header: {r:?}", path.display());
    }
}
