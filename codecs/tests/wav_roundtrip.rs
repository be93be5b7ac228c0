//! WAV round-trips over encodings, channel counts and lengths, and totality of the reader.

use std::io::Cursor;

use proptest::prelude::*;
use tandem_codecs::g711::Law;
use tandem_codecs::wav::{Encoding, SizeRepair, Wav, WavFormat, WavWriter};

fn encoding() -> impl Strategy<Value = Encoding> {
    prop::sample::select(vec![Encoding::Pcm16, Encoding::Ulaw, Encoding::Alaw])
}

proptest! {
    #[test]
    fn raw_bytes_round_trip(
        enc in encoding(),
        channels in 1u16..=6,
        rate in prop::sample::select(vec![8000u32, 16000, 44100, 48000]),
        frames in 0usize..600,
        seed in any::<u8>(),
        update_every in prop::option::of(1u64..2000),
    ) {
        let f = WavFormat { encoding: enc, channels, sample_rate: rate };
        let n = frames * f.block_align() as usize;
        let data: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
        let mut w = WavWriter::new(Cursor::new(Vec::new()), f).unwrap();
        w.set_update_interval(update_every);
        w.write_raw(&data).unwrap();
        let bytes = w.finalize().unwrap().into_inner();
        let wav = Wav::parse(&bytes).unwrap();
        prop_assert_eq!(wav.format, f);
        prop_assert_eq!(&wav.data, &data);
        prop_assert!(wav.repaired.is_empty());
        prop_assert_eq!(wav.frames(), frames);
    }

    #[test]
    fn linear_samples_round_trip_through_g711(
        law in prop::sample::select(vec![Law::Ulaw, Law::Alaw]),
        samples in prop::collection::vec(any::<i16>(), 0..500),
    ) {
        let enc = if law == Law::Ulaw { Encoding::Ulaw } else { Encoding::Alaw };
        let mut w = WavWriter::new(Cursor::new(Vec::new()), WavFormat::telephony(enc)).unwrap();
        w.write_samples(&samples).unwrap();
        let wav = Wav::parse(&w.finalize().unwrap().into_inner()).unwrap();
        // Reading gives the G.711 reconstruction of each sample.
        let expected: Vec<i16> = samples.iter().map(|&s| law.decode(law.encode(s))).collect();
        prop_assert_eq!(wav.samples(), expected);
    }

    #[test]
    fn truncation_anywhere_loses_only_the_tail(
        frames in 1usize..400,
        cut in any::<prop::sample::Index>(),
    ) {
        let f = WavFormat { encoding: Encoding::Pcm16, channels: 2, sample_rate: 8000 };
        let data: Vec<i16> = (0..frames * 2).map(|i| i as i16).collect();
        let mut w = WavWriter::new(Cursor::new(Vec::new()), f).unwrap();
        w.write_samples(&data).unwrap();
        let full = w.finalize().unwrap().into_inner();
        let at = 44 + cut.index(full.len() - 44 + 1);
        match Wav::parse(&full[..at]) {
            Ok(wav) => {
                let got = wav.samples();
                prop_assert_eq!(&got[..], &data[..got.len()]);
                prop_assert_eq!(got.len(), ((at - 44) / 4) * 2);
                if at < full.len() {
                    let is_size_repair = matches!(wav.repaired[0], SizeRepair::DataSizeFromFileLength { .. });
                    prop_assert!(is_size_repair);
                }
            }
            Err(e) => prop_assert!(false, "truncated file rejected: {e}"),
        }
    }

    #[test]
    fn reader_is_total(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Wav::parse(&bytes);
        let mut riff = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
        riff.extend_from_slice(&bytes);
        let _ = Wav::parse(&riff);
    }
}

#[test]
fn garbage_sizes_are_repaired() {
    let mut w = WavWriter::new(
        Cursor::new(Vec::new()),
        WavFormat::telephony(Encoding::Ulaw),
    )
    .unwrap();
    w.write_raw(&[0x7F; 321]).unwrap();
    let mut bytes = w.finalize().unwrap().into_inner();
    let len = bytes.len();
    // RIFF size and data size both set to 0xFFFFFFFF, as streaming recorders do.
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes[len - 321 - 4..len - 321].copy_from_slice(&u32::MAX.to_le_bytes());
    let wav = Wav::parse(&bytes).unwrap();
    assert_eq!(wav.data.len(), 321);
    assert_eq!(
        wav.repaired,
        vec![SizeRepair::DataSizeFromFileLength {
            declared: u32::MAX,
            used: 321
        }]
    );
}

#[test]
fn skips_unknown_chunks_and_odd_padding() {
    let mut w = WavWriter::new(
        Cursor::new(Vec::new()),
        WavFormat::telephony(Encoding::Pcm16),
    )
    .unwrap();
    w.write_samples(&[1, -2, 3]).unwrap();
    let clean = w.finalize().unwrap().into_inner();
    // Insert a 3-byte LIST chunk (padded to 4) between fmt and data.
    let mut v = clean[..36].to_vec();
    v.extend_from_slice(b"LIST\x03\x00\x00\x00abc\x00");
    v.extend_from_slice(&clean[36..]);
    let wav = Wav::parse(&v).unwrap();
    assert_eq!(wav.samples(), vec![1, -2, 3]);
}

#[test]
fn regression_huge_channel_count_is_an_error_not_an_overflow() {
    // Found by fuzzing: 65,281 channels of PCM16 overflowed the 16-bit frame size.
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus/wav/regression-block-align-overflow"
    ))
    .unwrap();
    assert!(matches!(
        Wav::parse(&bytes),
        Err(tandem_codecs::wav::WavError::BadFormat(_))
    ));
    let f = WavFormat {
        encoding: Encoding::Pcm16,
        channels: 40000,
        sample_rate: 8000,
    };
    assert!(WavWriter::new(Cursor::new(Vec::new()), f).is_err());
}
