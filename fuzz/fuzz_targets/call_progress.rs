#![no_main]
//! The call-progress detector is total over any 16-bit input, in chunks of any size, and
//! chunking never changes what it reports.
use libfuzzer_sys::fuzz_target;
use tandem_codecs::progress::ProgressDetector;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let pcm: Vec<i16> = rest
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let whole = ProgressDetector::with_defaults().detect(&pcm);
    let mut d = ProgressDetector::with_defaults();
    let mut parts = Vec::new();
    for c in pcm.chunks(usize::from(chunk).max(1)) {
        d.process(c, |e| parts.push(e));
    }
    assert_eq!(whole, parts);
});
