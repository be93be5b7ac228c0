#![no_main]
//! WAV parsing: any bytes give a file or a typed error; a parsed file decodes.
use libfuzzer_sys::fuzz_target;
use tandem_codecs::wav::Wav;

fuzz_target!(|data: &[u8]| {
    if let Ok(w) = Wav::parse(data) {
        assert_eq!(w.data.len() % w.format.block_align() as usize, 0);
        let _ = w.samples();
        let _ = w.channel(0);
        let _ = w.duration_secs();
    }
});
