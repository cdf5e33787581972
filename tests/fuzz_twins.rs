//! Stable-toolchain twins of the cargo-fuzz targets in `fuzz/` (issue 8, deliver 2): the same
//! bodies (`fuzz/bodies.rs`) fed random and structured-random inputs by proptest. The fuzzers
//! run for hours by hand; these keep every body exercised in `cargo test`.

#[path = "../fuzz/bodies.rs"]
mod bodies;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn persist() -> Option<Box<dyn proptest::test_runner::FailurePersistence>> {
    Some(Box::new(FileFailurePersistence::Direct("tests/fuzz_twins.proptest-regressions")))
}

/// Inputs that start like a Q.2931 message (protocol discriminator, call reference length 3) so
/// the decoder gets past the header, or plain random bytes.
fn q2931_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        (any::<[u8; 4]>(), proptest::collection::vec(any::<u8>(), 0..120)).prop_map(|(h, body)| {
            let mut m = vec![0x09, 0x03, h[0], h[1], h[2], h[3], 0x80];
            m.extend_from_slice(&(body.len() as u16).to_be_bytes());
            m.extend_from_slice(&body);
            m
        }),
        // A known IE (first octet of each 4-octet IE header from the set the codec decodes).
        (
            any::<u8>(),
            proptest::sample::select(vec![
                0x08u8, 0x14, 0x54, 0x55, 0x5A, 0x58, 0x59, 0x5E, 0x5F, 0x5C, 0x6C, 0x6D, 0x70, 0x71, 0x79, 0x7E
            ]),
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(ty, ie, instr, content)| {
                let mut body = vec![ie, instr | 0x80];
                body.extend_from_slice(&(content.len() as u16).to_be_bytes());
                body.extend_from_slice(&content);
                let mut m = vec![0x09, 0x03, 0, 0, 7, ty, 0x80];
                m.extend_from_slice(&(body.len() as u16).to_be_bytes());
                m.extend_from_slice(&body);
                m
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: persist(), ..ProptestConfig::default() })]

    #[test]
    fn q2931_decoder_never_panics_and_what_it_accepts_round_trips(data in q2931_input()) {
        bodies::q2931(&data);
    }

    #[test]
    fn sscop_decoder_never_panics_and_what_it_accepts_round_trips(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        bodies::sscop_pdu(&data);
    }

    #[test]
    fn aal5_never_panics_and_every_sdu_round_trips(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        bodies::aal5(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, failure_persistence: persist(), ..ProptestConfig::default() })]

    #[test]
    fn sscop_sscf_machine_never_panics_on_any_pdu_script(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        bodies::saal(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: persist(), ..ProptestConfig::default() })]

    #[test]
    fn the_driver_in_the_lab_survives_any_signalling_input_and_halts_clean(
        data in proptest::collection::vec(any::<u8>(), 0..600)
    ) {
        bodies::lab_driver(&data);
    }
}

/// The lab oracle can fail: with the PVC closed before the check, the check fires.
#[test]
#[should_panic(expected = "the untouched PVC still carries data")]
fn the_lab_oracle_fires_when_the_pvc_is_broken() {
    bodies::lab_driver_with_broken_pvc();
}

/// Inputs the fuzzers found, kept: a frame tag with nothing after it (a harness bug, fixed).
#[test]
fn fuzz_regressions_replay_clean() {
    bodies::lab_driver(&[0xFF]);
}
