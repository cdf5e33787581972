//! The link flap at scale against the real `atmmcm.sys` (`atmmcm_hw::scale::run_flap` with
//! `FlapDriver::Sys`): the same procedure and verdict as the driver core's (tests/scale.rs),
//! reached through the entry points the image registered with the sys-lab's NDIS. Skipped (and
//! says so) when the image was not built (`scripts/build-sys`; `.ci/run` builds it first). The
//! 65 534-call run is `#[ignore]` (about 20 s in release, 0.8 GB); `atmlab --driver sys flap`
//! runs it too.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use atmmcm_hw::scale::{FlapDriver, FlapFault, FlapReport, run_flap};
use atmmcm_hw::sys::default_image_path;

fn sys() -> Option<FlapDriver> {
    let p = default_image_path();
    if !p.exists() {
        eprintln!("SKIPPED: {} not built (run scripts/build-sys)", p.display());
        return None;
    }
    Some(FlapDriver::Sys(p))
}

fn flap(d: &FlapDriver, calls: usize, fault: Option<FlapFault>) -> FlapReport {
    match run_flap(d, calls, fault) {
        Ok(r) => r,
        Err(e) => panic!("sys flap: {e}"),
    }
}

#[test]
fn sys_link_flap_with_2000_calls_clears_every_call_after_t309_and_leaks_nothing() {
    let Some(d) = sys() else { return };
    let r = flap(&d, 2000, None);
    assert!(r.passed(), "{:?}\n{r:#?}", r.failures());
    assert_eq!((r.driver, r.connected, r.incoming_closes), ("sys", 2000, 2000));
    assert_eq!(r.nic_connections_before_loss, 2001, "a NIC connection per call and 0/5");
    assert!(r.cells.is_some_and(|(tx, rx)| tx > 2000 && rx > 2000), "signalling through the PHY as cells: {r:?}");
    assert_eq!(r.driver_live_after_t309, None, "the image's insides are not read: the verifier's count is the one");
}

#[test]
#[ignore = "65 534 calls: run with `cargo test --release --test sys_scale -- --ignored`"]
fn sys_link_flap_with_65534_calls_clears_every_call_after_t309_and_leaks_nothing() {
    let Some(d) = sys() else { return };
    let r = flap(&d, 65_534, None);
    assert!(r.passed(), "{:?}\n{r:#?}", r.failures());
}

#[test]
fn sys_flap_verdict_fails_when_the_link_never_comes_back() {
    let Some(d) = sys() else { return };
    let r = flap(&d, 50, Some(FlapFault::LinkStaysDown));
    assert!(!r.signalling_back, "{r:#?}");
    assert!(!r.passed());
    assert!(r.failures().iter().any(|f| f.contains("signalling link did not come back")), "{:?}", r.failures());
}

#[test]
fn sys_flap_verdict_fails_when_the_client_keeps_its_calls_after_t309() {
    let Some(d) = sys() else { return };
    let r = flap(&d, 50, Some(FlapFault::ClientKeepsCalls));
    assert_eq!(r.incoming_closes, 50, "T309 still closes every call towards the client: {r:#?}");
    assert_eq!((r.live_after_t309.vcs, r.live_after_t309.calls), (50, 50), "{r:#?}");
    assert!(!r.passed());
    assert!(r.failures().iter().any(|f| f.starts_with("left after T309 (verifier)")), "{:?}", r.failures());
}

#[test]
fn sys_flap_verdict_fails_when_the_image_leaks_a_pool_block() {
    let Some(d) = sys() else { return };
    let r = flap(&d, 50, Some(FlapFault::Leak));
    assert_eq!(r.held_after_halt, 1, "{r:#?}");
    assert!(r.violations.iter().any(|v| v.contains("HALT-NO-LEAK")), "{:?}", r.violations);
    assert!(!r.passed());
    assert!(r.failures().iter().any(|f| f == "1 driver allocations held after halt"), "{:?}", r.failures());
}
