//! The real `atmmcm.sys` in the sys-lab: PE loading, import binding, DriverEntry and the
//! registration NDIS sees, read with the harness's own (ndis6-facts.tsv) layouts.
//! Skipped (and says so) when the image was not built (`scripts/build-sys`; `.ci/run` builds it).
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::sync::Arc;

use atmmcm_hw::clock::Clock;
use atmmcm_hw::sys::{LoadError, SysDriver, default_image_path};

fn image() -> Option<std::path::PathBuf> {
    let p = default_image_path();
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {} not built (run scripts/build-sys)", p.display());
        None
    }
}

#[test]
fn sys_loader_binds_every_import_and_driver_entry_registers_a_condis_miniport() {
    let Some(p) = image() else { return };
    let d = SysDriver::load(&p, Arc::new(Clock::new())).expect("load");
    let img = d.image();
    let ndis = img.imports.iter().filter(|i| i.dll.eq_ignore_ascii_case("NDIS.SYS")).count();
    let nt = img.imports.iter().filter(|i| i.dll.eq_ignore_ascii_case("ntoskrnl.exe")).count();
    eprintln!(
        "imports: {ndis} NDIS.SYS, {nt} ntoskrnl.exe; {} DIR64 relocations; {} exports",
        img.relocations, img.exports
    );
    assert!(ndis > 40 && nt > 10, "imports bound: {ndis} + {nt}");
    assert!(img.relocations > 0, "a driver image carries base relocations");
    assert_eq!(img.exports, 0);
    assert_eq!(d.driver_entry_status(), 0, "DriverEntry NTSTATUS");
    let c = d.characteristics().expect("NdisMRegisterMiniportDriver captured");
    assert!(c.major == 6 && matches!(c.minor, 0 | 0x14), "NDIS 6.0 or 6.20: {}.{}", c.major, c.minor);
    assert!(d.co_characteristics().is_some(), "MiniportSetOptions registered NDIS_MINIPORT_CO_CHARACTERISTICS");
    assert!(d.cm_handlers().is_some(), "MiniportSetOptions registered the call-manager handlers");
    for a in [c.initialize, c.halt, c.oid, c.pause, c.restart] {
        assert!(img.in_code(a), "handler {a:#x} points into the image's code");
    }
}

#[test]
fn sys_loader_refuses_an_image_whose_import_has_no_host_function() {
    let Some(p) = image() else { return };
    let resolve = |dll: &str, name: &str| {
        if name == "NdisMCmActivateVc" { None } else { atmmcm_hw::sys::imports::resolve(dll, name) }
    };
    let e = SysDriver::load_with(&p, Arc::new(Clock::new()), &resolve).err().expect("load must fail");
    assert_eq!(e, LoadError::MissingImport { dll: "NDIS.SYS".into(), name: "NdisMCmActivateVc".into() });
    assert!(e.to_string().contains("NDIS.SYS!NdisMCmActivateVc"));
}

#[test]
fn sys_loader_symbolises_driver_addresses_with_the_link_map() {
    let Some(p) = image() else { return };
    let d = SysDriver::load(&p, Arc::new(Clock::new())).expect("load");
    let entry = d.image().va(d.image().entry_rva);
    assert_eq!(d.symbolise(entry), "DriverEntry+0x0");
    assert!(d.symbolise(entry + 3).starts_with("DriverEntry+0x3"));
}

/// KeBugCheckEx ends the run (a driver frame cannot be unwound) naming the code, its four
/// parameters and the caller. Proven in a child process calling the image's own import thunk.
#[test]
fn sys_bugcheck_fails_the_run_naming_the_code_and_parameters() {
    let Some(p) = image() else { return };
    if std::env::var_os("ATMMCM_BUGCHECK_CHILD").is_some() {
        let d = SysDriver::load(&p, Arc::new(Clock::new())).expect("load");
        let thunk = d.address_of("KeBugCheckEx").expect("KeBugCheckEx thunk in the link map");
        // SAFETY: the image's import thunk for KeBugCheckEx (jmp [IAT]), Microsoft ABI.
        let f: extern "win64" fn(u32, usize, usize, usize, usize) = unsafe { std::mem::transmute(thunk) };
        d.run_in_image("bugcheck", || f(0xDEAD, 1, 2, 3, 4));
        unreachable!("KeBugCheckEx returned");
    }
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "sys_bugcheck_fails_the_run_naming_the_code_and_parameters", "--nocapture"])
        .env("ATMMCM_BUGCHECK_CHILD", "1")
        .output()
        .expect("run child");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bugcheck must fail the run");
    assert!(err.contains("BUGCHECK: KeBugCheckEx(0xdead, 0x1, 0x2, 0x3, 0x4) called from"), "stderr: {err}");
}
