//! cargo-fuzz target `saal` (see `fuzz/README.md`); the body and its oracle are in
//! `fuzz/bodies.rs`, shared with the stable twin in `tests/fuzz_twins.rs`.
#![no_main]

#[path = "../bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::saal(data));
