//! The lab at the limit (`atmmcm_hw::scale`): a link flap with every call of a full VC table,
//! under the emulated NDIS's verifier. The 65 534-call run is `#[ignore]` (about a minute in
//! release); a 300-call run of the same scenario is in the normal suite.

use atmmcm_hw::scale::link_flap;

#[test]
fn link_flap_with_300_calls_clears_every_call_after_t309_and_leaks_nothing() {
    let r = link_flap(300);
    println!("{r:#?}");
    assert!(r.passed(), "{r:#?}");
    assert_eq!((r.connected, r.incoming_closes), (300, 300));
}

#[test]
#[ignore = "65 534 calls: run with `cargo test --release --test scale -- --ignored`"]
fn link_flap_with_65534_calls_clears_every_call_after_t309_and_leaks_nothing() {
    let r = link_flap(65_534);
    println!("{r:#?}");
    assert!(r.passed(), "{r:#?}");
}
