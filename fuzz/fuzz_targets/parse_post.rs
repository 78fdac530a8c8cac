#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crier_fuzz::parse_post(data));
