#![no_main]
// Placeholder until the parser lands; replaced by the parser's owner.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = data.len();
});
