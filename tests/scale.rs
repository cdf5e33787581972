//! The lab at the limit (`atmmcm_hw::scale`): a link flap with every call of a full VC table,
//! under the emulated NDIS's verifier, on the ATM1 register-level NIC (and on the frame-level
//! stand-in for comparison). The 65 534-call runs are `#[ignore]` (a few seconds in release, ~0.8 GB);
//! 300-call runs of the same scenario are in the normal suite.

use std::time::Duration;

use atmmcm_hw::scale::{CoreDriver, FlapDriver, FlapFault, FrameNic, NicKind, ScaleLab, link_flap, run_flap};

#[test]
fn link_flap_with_300_calls_clears_every_call_after_t309_and_leaks_nothing() {
    let r = link_flap(300, NicKind::Atm1);
    println!("{r:#?}");
    assert!(r.passed(), "{r:#?}");
    assert_eq!((r.connected, r.incoming_closes), (300, 300));
}

#[test]
#[ignore = "65 534 calls: run with `cargo test --release --test scale -- --ignored`"]
fn link_flap_with_65534_calls_clears_every_call_after_t309_and_leaks_nothing() {
    let r = link_flap(65_534, NicKind::Atm1);
    println!("{r:#?}");
    assert!(r.passed(), "{r:#?}");
}

#[test]
fn link_flap_with_300_calls_on_the_frame_level_nic_clears_every_call_and_leaks_nothing() {
    let r = link_flap(300, NicKind::Frame);
    assert!(r.passed(), "{r:#?}");
    assert_eq!((r.connected, r.incoming_closes), (300, 300));
}

#[test]
#[ignore = "65 534 calls: run with `cargo test --release --test scale -- --ignored`"]
fn link_flap_with_65534_calls_on_the_frame_level_nic_clears_every_call_and_leaks_nothing() {
    let r = link_flap(65_534, NicKind::Frame);
    println!("{r:#?}");
    assert!(r.passed(), "{r:#?}");
}

#[test]
fn the_flap_verdict_fails_when_the_nic_did_not_hold_every_call_or_a_connection_stayed_open() {
    let good = link_flap(20, NicKind::Atm1);
    assert!(good.passed(), "{good:#?}");
    assert!(good.cells.is_some_and(|(tx, rx)| tx > 0 && rx > 0), "signalling went through the PHY as cells");
    let mut r = link_flap(20, NicKind::Atm1);
    r.nic_connections_before_loss -= 1;
    assert!(!r.passed(), "a call without a NIC connection is caught");
    let mut r = link_flap(20, NicKind::Atm1);
    r.nic_connections_after_halt = 1;
    assert!(!r.passed(), "a NIC connection left open is caught");
}

#[test]
fn the_flap_verdict_fails_when_the_link_never_comes_back() {
    let r = run_flap(&FlapDriver::Core(NicKind::Atm1), 50, Some(FlapFault::LinkStaysDown)).expect("flap");
    assert!(!r.signalling_back, "{r:#?}");
    assert_eq!(r.driver_signalling_back, Some(false), "the driver agrees with the wire");
    assert!(!r.passed());
    assert!(r.failures().iter().any(|f| f.contains("signalling link did not come back")), "{:?}", r.failures());
}

#[test]
fn the_flap_verdict_fails_when_the_client_keeps_its_calls_after_t309() {
    let r = run_flap(&FlapDriver::Core(NicKind::Atm1), 50, Some(FlapFault::ClientKeepsCalls)).expect("flap");
    assert_eq!(r.incoming_closes, 50, "T309 still closes every call towards the client: {r:#?}");
    assert_eq!((r.live_after_t309.vcs, r.live_after_t309.calls), (50, 50), "{r:#?}");
    assert!(r.driver_live_after_t309.is_some_and(|l| l.calls == 50), "{r:#?}");
    assert!(!r.passed());
    assert!(r.failures().iter().any(|f| f.starts_with("left after T309 (verifier)")), "{:?}", r.failures());
}

#[test]
fn the_flap_verdict_fails_when_the_driver_leaves_a_nic_connection_open() {
    let r = run_flap(&FlapDriver::Core(NicKind::Atm1), 50, Some(FlapFault::Leak)).expect("flap");
    assert_eq!(r.nic_connections_after_halt, 1, "{r:#?}");
    assert!(!r.passed());
    assert!(r.failures().iter().any(|f| f == "1 NIC connections open after halt"), "{:?}", r.failures());
}

#[test]
fn t309_expiry_clears_at_most_128_calls_in_its_timer_dpc_and_the_rest_in_later_dpcs() {
    let lab = ScaleLab::try_new(|s| CoreDriver::<FrameNic>::build(s, 300)).expect("lab");
    lab.offer_calls(300);
    let loss = lab.clock.now();
    lab.set_link(false);
    // Up to just before T309 (10 s after the loss), then the driver's timer alone, no DPC.
    lab.advance(Duration::from_secs(10) - Duration::from_millis(1) - (lab.clock.now() - loss));
    let count = || lab.ndis.ndis_calls().iter().filter(|n| n.starts_with("NdisMCmDispatchIncomingCloseCall")).count();
    assert_eq!(count(), 0, "active calls survive until T309");
    lab.clock.advance_to(loss + Duration::from_secs(10));
    lab.ndis.run_timer();
    let first = count();
    assert!((1..=128).contains(&first), "the timer's step clears 1..=128 calls, not {first}");
    // The DPC it asked for goes on, a step at a time, until every call is cleared.
    lab.settle();
    assert_eq!(count(), 300, "every call cleared after T309");
    assert_eq!(lab.driver.adapter.live_objects().vcs, 0, "every VC deleted");
    lab.halt();
    lab.settle();
    assert!(lab.ndis.violations().is_empty(), "{:?}", lab.ndis.violations());
}

#[test]
fn link_loss_with_every_call_active_walks_no_vc_and_t309_still_clears_every_call() {
    let lab = ScaleLab::try_new(|s| CoreDriver::<FrameNic>::build(s, 300)).expect("lab");
    lab.offer_calls(300);
    let (kept, recounted) = lab.driver.adapter.link_counts();
    assert_eq!((kept.active, kept.cleared), (300, 0), "every call counted active");
    assert_eq!(kept, recounted);
    lab.set_link(false);
    let st = lab.driver.adapter.control_stats();
    assert_eq!(st.link_loss_walks, 0, "no call to clear at once: the VCs are not walked");
    assert_eq!(lab.driver.adapter.live_objects().calls, 300, "the active calls wait for T309");
    lab.advance(Duration::from_secs(11));
    let closes = lab.ndis.ndis_calls().iter().filter(|n| n.starts_with("NdisMCmDispatchIncomingCloseCall")).count();
    assert_eq!(closes, 300, "T309 clears every call");
    assert_eq!(lab.driver.adapter.live_objects().vcs, 0);
    let (kept, recounted) = lab.driver.adapter.link_counts();
    assert_eq!((kept, recounted), (Default::default(), Default::default()), "no call left in any class");
    lab.halt();
    lab.settle();
    assert!(lab.ndis.violations().is_empty(), "{:?}", lab.ndis.violations());
}
