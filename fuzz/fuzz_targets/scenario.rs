#![no_main]
//! The scenario loader: any text gives a scenario or an error naming where, never a panic.
use libfuzzer_sys::fuzz_target;
use tandem_sim::Scenario;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Scenario::from_toml(text, "fuzz", None);
    }
});
