//! WAV files of PCM16, G.711 A-law (format tag 6) and μ-law (tag 7), with any channel count.
//!
//! The writer can rewrite the RIFF and data sizes in the header as it goes
//! ([`WavWriter::update_header`], or automatically every N bytes), so a recording cut off by a
//! crash is still a valid file up to the last update. The reader is total over any bytes and
//! forgiving where real recorders are sloppy: a data size that is zero, `0xFFFFFFFF` or larger
//! than the file is replaced by what the file actually holds, and the reader says so in
//! [`Wav::repaired`].

use std::io::{self, Read, Seek, SeekFrom, Write};

use thiserror::Error;

use crate::g711::{self, Law};

/// WAV format tag of PCM.
pub const TAG_PCM: u16 = 1;
/// WAV format tag of A-law.
pub const TAG_ALAW: u16 = 6;
/// WAV format tag of μ-law.
pub const TAG_ULAW: u16 = 7;
const TAG_EXTENSIBLE: u16 = 0xFFFE;

/// How samples are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Signed 16-bit little-endian linear PCM.
    Pcm16,
    /// G.711 μ-law, one byte per sample.
    Ulaw,
    /// G.711 A-law, one byte per sample.
    Alaw,
}

impl Encoding {
    /// Bytes per sample of one channel.
    pub const fn bytes_per_sample(self) -> u16 {
        match self {
            Encoding::Pcm16 => 2,
            Encoding::Ulaw | Encoding::Alaw => 1,
        }
    }

    /// The WAV format tag.
    pub const fn tag(self) -> u16 {
        match self {
            Encoding::Pcm16 => TAG_PCM,
            Encoding::Ulaw => TAG_ULAW,
            Encoding::Alaw => TAG_ALAW,
        }
    }

    /// The G.711 law, for the companded encodings.
    pub const fn law(self) -> Option<Law> {
        match self {
            Encoding::Pcm16 => None,
            Encoding::Ulaw => Some(Law::Ulaw),
            Encoding::Alaw => Some(Law::Alaw),
        }
    }
}

/// The format of a WAV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WavFormat {
    /// Sample encoding.
    pub encoding: Encoding,
    /// Channels (interleaved).
    pub channels: u16,
    /// Samples per second per channel.
    pub sample_rate: u32,
}

impl WavFormat {
    /// Mono 8 kHz in `encoding`, the telephony default.
    pub const fn telephony(encoding: Encoding) -> WavFormat {
        WavFormat {
            encoding,
            channels: 1,
            sample_rate: 8000,
        }
    }

    /// Bytes per frame (one sample of every channel). Computed in 32 bits: a format whose
    /// frame does not fit the header's 16-bit field is rejected by validation, not wrapped.
    pub const fn block_align(&self) -> u32 {
        self.encoding.bytes_per_sample() as u32 * self.channels as u32
    }

    fn validate(&self) -> Result<(), WavError> {
        if self.channels == 0 || self.sample_rate == 0 {
            return Err(WavError::BadFormat("zero channels or sample rate"));
        }
        if self.block_align() > u32::from(u16::MAX) {
            return Err(WavError::BadFormat("frame size exceeds 65535 bytes"));
        }
        if self.block_align().checked_mul(self.sample_rate).is_none() {
            return Err(WavError::BadFormat("byte rate overflows 32 bits"));
        }
        Ok(())
    }
}

/// Errors reading or writing WAV files.
#[derive(Debug, Error)]
pub enum WavError {
    /// An I/O error from the underlying reader or writer.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// Not a RIFF/WAVE file.
    #[error("not a WAV file (no RIFF/WAVE header)")]
    NotWav,
    /// The `fmt ` chunk is missing or too short.
    #[error("missing or truncated `fmt ` chunk")]
    MissingFormat,
    /// There is no `data` chunk.
    #[error("no `data` chunk")]
    MissingData,
    /// A format this library does not handle (tag and bits per sample).
    #[error("unsupported WAV format: tag {tag}, {bits} bits per sample")]
    Unsupported {
        /// Format tag.
        tag: u16,
        /// Bits per sample.
        bits: u16,
    },
    /// An invalid format description.
    #[error("invalid WAV format: {0}")]
    BadFormat(&'static str),
    /// Samples given to a writer do not fill whole frames, or do not match its encoding.
    #[error("write does not match the file format: {0}")]
    Mismatch(&'static str),
    /// The file would exceed the 4 GiB RIFF limit.
    #[error("WAV file would exceed 4 GiB")]
    TooLarge,
}

/// What the reader repaired in a sloppy header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeRepair {
    /// The data chunk's size field (0, `0xFFFFFFFF`, or past the end of the file) was
    /// replaced by the bytes actually present.
    DataSizeFromFileLength {
        /// The size field as written.
        declared: u32,
        /// The bytes used.
        used: usize,
    },
    /// The data ended in the middle of a frame; the partial frame was dropped.
    PartialFrameDropped {
        /// Bytes dropped.
        bytes: usize,
    },
}

/// A WAV file read into memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wav {
    /// Its format.
    pub format: WavFormat,
    /// Raw sample bytes, interleaved, whole frames only.
    pub data: Vec<u8>,
    /// Header problems the reader repaired (empty for a clean file).
    pub repaired: Vec<SizeRepair>,
}

impl Wav {
    /// Parses a whole WAV file from memory. Never panics.
    pub fn parse(bytes: &[u8]) -> Result<Wav, WavError> {
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(WavError::NotWav);
        }
        // The RIFF size is ignored: chunks are walked to the real end of the file.
        let mut pos = 12;
        let mut format = None;
        let mut repaired = Vec::new();
        while pos + 8 <= bytes.len() {
            let id = &bytes[pos..pos + 4];
            let size = u32::from_le_bytes([
                bytes[pos + 4],
                bytes[pos + 5],
                bytes[pos + 6],
                bytes[pos + 7],
            ]);
            let body_start = pos + 8;
            let remaining = bytes.len() - body_start;
            if id == b"fmt " {
                let body = bytes
                    .get(body_start..body_start + (size as usize).min(remaining))
                    .ok_or(WavError::MissingFormat)?;
                format = Some(parse_fmt(body)?);
            } else if id == b"data" {
                let fmt = format.ok_or(WavError::MissingFormat)?;
                let mut used = size as usize;
                if size == 0 || size == u32::MAX || size as usize > remaining {
                    used = remaining;
                    if used != size as usize {
                        repaired.push(SizeRepair::DataSizeFromFileLength {
                            declared: size,
                            used,
                        });
                    }
                }
                let align = fmt.block_align() as usize;
                let partial = used % align;
                if partial != 0 {
                    repaired.push(SizeRepair::PartialFrameDropped { bytes: partial });
                    used -= partial;
                }
                return Ok(Wav {
                    format: fmt,
                    data: bytes[body_start..body_start + used].to_vec(),
                    repaired,
                });
            }
            // Chunks are padded to an even length.
            let next = body_start as u64 + u64::from(size) + u64::from(size & 1);
            if next > bytes.len() as u64 {
                break;
            }
            pos = next as usize;
        }
        Err(if format.is_some() {
            WavError::MissingData
        } else {
            WavError::MissingFormat
        })
    }

    /// Reads a whole WAV file from a reader.
    pub fn read(mut r: impl Read) -> Result<Wav, WavError> {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes)?;
        Self::parse(&bytes)
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.data.len() / self.format.block_align() as usize
    }

    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames() as f64 / f64::from(self.format.sample_rate)
    }

    /// All samples as linear PCM16, interleaved (G.711 is decoded).
    pub fn samples(&self) -> Vec<i16> {
        match self.format.encoding {
            Encoding::Pcm16 => self
                .data
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect(),
            Encoding::Ulaw | Encoding::Alaw => {
                let law = self.format.encoding.law().unwrap_or(Law::Ulaw);
                self.data.iter().map(|&c| law.decode(c)).collect()
            }
        }
    }

    /// The samples of one channel as linear PCM16.
    pub fn channel(&self, ch: u16) -> Vec<i16> {
        let n = self.format.channels as usize;
        self.samples()
            .into_iter()
            .skip(ch as usize)
            .step_by(n.max(1))
            .collect()
    }
}

fn parse_fmt(b: &[u8]) -> Result<WavFormat, WavError> {
    if b.len() < 16 {
        return Err(WavError::MissingFormat);
    }
    let u16at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let mut tag = u16at(0);
    let channels = u16at(2);
    let sample_rate = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let bits = u16at(14);
    if tag == TAG_EXTENSIBLE {
        // WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of the sub-format GUID.
        if b.len() < 26 {
            return Err(WavError::MissingFormat);
        }
        tag = u16at(24);
    }
    let encoding = match (tag, bits) {
        (TAG_PCM, 16) => Encoding::Pcm16,
        (TAG_ULAW, 8) => Encoding::Ulaw,
        (TAG_ALAW, 8) => Encoding::Alaw,
        _ => return Err(WavError::Unsupported { tag, bits }),
    };
    let f = WavFormat {
        encoding,
        channels,
        sample_rate,
    };
    f.validate()?;
    Ok(f)
}

/// Writes a WAV file incrementally, keeping the header valid as it goes.
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    out: W,
    format: WavFormat,
    data_bytes: u64,
    header_len: u64,
    update_every: Option<u64>,
    since_update: u64,
}

impl<W: Write + Seek> WavWriter<W> {
    /// Starts a file: writes a header describing an empty data chunk.
    pub fn new(mut out: W, format: WavFormat) -> Result<Self, WavError> {
        format.validate()?;
        let header = header_bytes(&format, 0);
        out.write_all(&header)?;
        Ok(WavWriter {
            out,
            format,
            data_bytes: 0,
            header_len: header.len() as u64,
            update_every: None,
            since_update: 0,
        })
    }

    /// Rewrites the header sizes automatically after every `bytes` bytes of data (`None`:
    /// only on [`update_header`](Self::update_header) and [`finalize`](Self::finalize)).
    pub fn set_update_interval(&mut self, bytes: Option<u64>) {
        self.update_every = bytes;
    }

    /// The format being written.
    pub fn format(&self) -> WavFormat {
        self.format
    }

    /// Data bytes written so far.
    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// Writes raw sample bytes in the file's encoding (interleaved, whole frames).
    pub fn write_raw(&mut self, bytes: &[u8]) -> Result<(), WavError> {
        if bytes.len() % self.format.block_align() as usize != 0 {
            return Err(WavError::Mismatch("bytes are not whole frames"));
        }
        self.check_room(bytes.len() as u64)?;
        self.append(bytes)
    }

    /// Writes linear samples (interleaved), encoding them to the file's encoding.
    pub fn write_samples(&mut self, samples: &[i16]) -> Result<(), WavError> {
        if samples.len() % self.format.channels as usize != 0 {
            return Err(WavError::Mismatch("samples are not whole frames"));
        }
        let bytes = samples.len() as u64 * u64::from(self.format.encoding.bytes_per_sample());
        self.check_room(bytes)?;
        let mut buf = [0u8; 1024];
        for chunk in samples.chunks(512) {
            let n = match self.format.encoding {
                Encoding::Pcm16 => {
                    for (i, s) in chunk.iter().enumerate() {
                        buf[2 * i..2 * i + 2].copy_from_slice(&s.to_le_bytes());
                    }
                    2 * chunk.len()
                }
                Encoding::Ulaw | Encoding::Alaw => {
                    let law = self.format.encoding.law().unwrap_or(Law::Ulaw);
                    g711::encode_frame(law, chunk, &mut buf[..chunk.len()])
                }
            };
            // A 512-sample chunk may end mid-frame; `append` only rewrites the header on
            // frame boundaries.
            self.append(&buf[..n])?;
        }
        Ok(())
    }

    /// Fails, before anything is written, if `bytes` more would pass the 4 GiB RIFF limit.
    fn check_room(&self, bytes: u64) -> Result<(), WavError> {
        if self.header_len + self.data_bytes + bytes > u64::from(u32::MAX) {
            return Err(WavError::TooLarge);
        }
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), WavError> {
        self.out.write_all(bytes)?;
        self.data_bytes += bytes.len() as u64;
        self.since_update += bytes.len() as u64;
        if let Some(every) = self.update_every
            && self.since_update >= every
            && self.data_bytes % u64::from(self.format.block_align()) == 0
        {
            self.update_header()?;
        }
        Ok(())
    }

    /// Rewrites the RIFF, fact and data sizes for the data written so far, flushes, and
    /// returns to the end. After this, the file on disk is a valid WAV of everything written.
    pub fn update_header(&mut self) -> Result<(), WavError> {
        let header = header_bytes(&self.format, self.data_bytes as u32);
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&header)?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        self.since_update = 0;
        Ok(())
    }

    /// Finishes the file and returns the writer.
    pub fn finalize(mut self) -> Result<W, WavError> {
        self.update_header()?;
        Ok(self.out)
    }
}

/// The header for `data_len` bytes of data: RIFF, `fmt ` (18 bytes for G.711, with a `fact`
/// chunk as non-PCM formats require), `data`.
fn header_bytes(f: &WavFormat, data_len: u32) -> Vec<u8> {
    let pcm = f.encoding == Encoding::Pcm16;
    let fmt_len: u32 = if pcm { 16 } else { 18 };
    let fact_len: u32 = if pcm { 0 } else { 12 };
    let mut h = Vec::with_capacity(58);
    h.extend_from_slice(b"RIFF");
    let riff = 4 + 8 + fmt_len + fact_len + 8 + data_len + (data_len & 1);
    h.extend_from_slice(&riff.to_le_bytes());
    h.extend_from_slice(b"WAVE");
    h.extend_from_slice(b"fmt ");
    h.extend_from_slice(&fmt_len.to_le_bytes());
    h.extend_from_slice(&f.encoding.tag().to_le_bytes());
    h.extend_from_slice(&f.channels.to_le_bytes());
    h.extend_from_slice(&f.sample_rate.to_le_bytes());
    // Validated formats keep both products within their fields.
    let byte_rate = f.sample_rate * f.block_align();
    h.extend_from_slice(&byte_rate.to_le_bytes());
    h.extend_from_slice(&(f.block_align() as u16).to_le_bytes());
    h.extend_from_slice(&(f.encoding.bytes_per_sample() * 8).to_le_bytes());
    if !pcm {
        h.extend_from_slice(&0u16.to_le_bytes()); // cbSize
        h.extend_from_slice(b"fact");
        h.extend_from_slice(&4u32.to_le_bytes());
        let frames = data_len / f.block_align();
        h.extend_from_slice(&frames.to_le_bytes());
    }
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn pcm_header_is_the_canonical_44_bytes() {
        let h = header_bytes(&WavFormat::telephony(Encoding::Pcm16), 320);
        assert_eq!(h.len(), 44);
        assert_eq!(&h[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes([h[4], h[5], h[6], h[7]]), 36 + 320);
        assert_eq!(u32::from_le_bytes([h[28], h[29], h[30], h[31]]), 16000); // byte rate
        assert_eq!(u32::from_le_bytes([h[40], h[41], h[42], h[43]]), 320);
    }

    #[test]
    fn truncated_recording_is_repaired_from_file_length() {
        let mut w = WavWriter::new(
            Cursor::new(Vec::new()),
            WavFormat::telephony(Encoding::Ulaw),
        )
        .unwrap();
        w.write_raw(&[0xFF; 800]).unwrap();
        // No header update: the file claims 0 data bytes, as after a crash.
        let bytes = w.out.into_inner();
        let wav = Wav::parse(&bytes).unwrap();
        assert_eq!(wav.data.len(), 800);
        assert_eq!(
            wav.repaired,
            vec![SizeRepair::DataSizeFromFileLength {
                declared: 0,
                used: 800
            }]
        );
    }

    #[test]
    fn periodic_updates_keep_the_header_valid() {
        let mut w = WavWriter::new(
            Cursor::new(Vec::new()),
            WavFormat::telephony(Encoding::Alaw),
        )
        .unwrap();
        w.set_update_interval(Some(8000));
        w.write_raw(&[0xD5; 8000]).unwrap();
        w.write_raw(&[0xD5; 100]).unwrap(); // after the last update
        let bytes = w.out.get_ref().clone();
        // Cut the file at the last update point plus the un-updated tail: the header still
        // says 8000, which is within the file, so no repair is needed.
        let wav = Wav::parse(&bytes).unwrap();
        assert_eq!(wav.data.len(), 8000);
        assert!(wav.repaired.is_empty());
    }

    #[test]
    fn rejects_non_wav_and_unsupported() {
        assert!(matches!(Wav::parse(b"hello"), Err(WavError::NotWav)));
        let mut h = header_bytes(&WavFormat::telephony(Encoding::Pcm16), 0);
        h[34] = 24; // 24-bit PCM
        assert!(matches!(
            Wav::parse(&h),
            Err(WavError::Unsupported { tag: 1, bits: 24 })
        ));
    }
}
