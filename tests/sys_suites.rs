//! The close-family, signalling, data-path and stress (real threads) suites against the real `atmmcm.sys`: the same test
//! files, compiled into this crate, where `common::is_sys()` makes every lab load the image
//! (`default_image_path()`, `$ATMMCM_SYS` to override).
//!
//! Gated by the `atmmcm_sys_suites` cfg, which build.rs sets when `ATMMCM_SYS_SUITES=1` at build
//! time: today's image fails at MiniportInitializeEx (registration AttributeFlags 0xd carry
//! NOT_CO_NDIS; NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS size 0x90; CO_MEDIA_PARAMETERS 4 bytes off),
//! so every test here would fail until the win7 fixes merge. After that merge build.rs sets the cfg
//! by default and `.ci/run` builds the image first.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]
// Each suite declares `mod common;`: the helpers are compiled once per suite, as in their own crates.
#![allow(clippy::duplicate_mod)]

#[cfg(atmmcm_sys_suites)]
#[path = "close_family.rs"]
mod close_family;
#[cfg(atmmcm_sys_suites)]
#[path = "datapath.rs"]
mod datapath;
#[cfg(atmmcm_sys_suites)]
#[path = "signalling.rs"]
mod signalling;
#[cfg(atmmcm_sys_suites)]
#[path = "stress.rs"]
mod stress;

#[test]
fn sys_suites_run_or_say_why_not() {
    if cfg!(atmmcm_sys_suites) {
        let p = atmmcm_hw::sys::default_image_path();
        assert!(p.exists(), "the sys suites are enabled but {} was not built (scripts/build-sys)", p.display());
    } else {
        eprintln!("SKIPPED: sys suites not compiled (build with ATMMCM_SYS_SUITES=1; pending the win7 fixes)");
    }
}
