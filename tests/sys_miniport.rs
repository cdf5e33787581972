//! The real `atmmcm.sys` through MiniportInitializeEx, OID requests and MiniportHaltEx, with the
//! emulated NDIS validating every object as NDIS does, BAR0 trapped to the ATM1 model, shared
//! memory in host memory, and the CoNDIS calls fed to the lab's verifier.
//! Skipped (and says so) when the image was not built.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::sync::Arc;

use atmmcm::NdisStatus;
use atmmcm_hw::clock::Clock;
use atmmcm_hw::host::EmuNdis;
use atmmcm_hw::regnic_model::RegNicModel;
use atmmcm_hw::sys::{SysDriver, default_image_path};

struct Node {
    emu: EmuNdis,
    model: RegNicModel,
    sys: Arc<SysDriver>,
}

fn node() -> Option<Node> {
    let p = default_image_path();
    if !p.exists() {
        eprintln!("SKIPPED: {} not built (run scripts/build-sys)", p.display());
        return None;
    }
    let clock = Arc::new(Clock::new());
    let emu = EmuNdis::new(clock.clone());
    let model = RegNicModel::new();
    let sys = Arc::new(SysDriver::load(&p, clock).expect("load"));
    sys.attach(&emu, &model);
    emu.phy_link_changed(true);
    Some(Node { emu, model, sys })
}

fn findings(n: &Node) -> String {
    n.sys.findings().iter().map(|(r, m)| format!("{r}: {m}")).collect::<Vec<_>>().join("\n")
}

#[test]
fn sys_initialize_registers_a_bus_master_condis_adapter_and_halts_clean() {
    let Some(n) = node() else { return };
    let st = n.emu.start();
    assert_eq!(st, NdisStatus::SUCCESS, "MiniportInitializeEx; findings:\n{}", findings(&n));
    let flags = n.sys.registration_flags().expect("registration attributes");
    assert_eq!(flags & 0x48, 0x40, "BUS_MASTER set, NOT_CO_NDIS clear: {flags:#x}");
    while n.emu.run_pending() {}
    let calls = n.emu.ndis_calls();
    eprintln!("NDIS calls: {calls:?}");
    eprintln!(
        "traps: mmio {} kuser {} cr8 {}; stack {} bytes",
        atmmcm_hw::sys::trap::MMIO_TRAPS.load(std::sync::atomic::Ordering::Relaxed),
        atmmcm_hw::sys::trap::KUSER_TRAPS.load(std::sync::atomic::Ordering::Relaxed),
        atmmcm_hw::sys::trap::CR8_TRAPS.load(std::sync::atomic::Ordering::Relaxed),
        n.sys.max_stack_depth()
    );
    assert!(calls.iter().any(|c| c.starts_with("NdisMCmRegisterAddressFamilyEx")), "AF registered: {calls:?}");
    assert!(atmmcm_hw::sys::trap::MMIO_TRAPS.load(std::sync::atomic::Ordering::Relaxed) > 0, "BAR0 accesses trapped");
    n.emu.halt();
    n.emu.check_outstanding();
    n.sys.assert_no_findings();
    n.emu.assert_clean();
    assert!(n.model.violations().is_empty(), "NIC model: {:?}", n.model.violations());
}

/// HALT-NO-LEAK sees the image's allocations: one pool block taken through the image's own
/// ExAllocatePoolWithTag import after initialisation began and never freed is a violation when
/// MiniportHaltEx returns.
#[test]
fn sys_halt_reports_a_pool_block_left_behind_as_halt_no_leak() {
    let Some(n) = node() else { return };
    assert_eq!(n.emu.start(), NdisStatus::SUCCESS, "MiniportInitializeEx; findings:\n{}", findings(&n));
    let before = n.sys.live_allocations();
    let thunk = n.sys.address_of("ExAllocatePoolWithTag").expect("ExAllocatePoolWithTag thunk");
    // SAFETY: the image's import thunk (jmp [IAT]), Microsoft ABI.
    let alloc: extern "win64" fn(u32, usize, u32) -> usize = unsafe { std::mem::transmute(thunk) };
    let p = n.sys.run_in_image("leak", || alloc(0x200, 64, 0x6b61_654c));
    assert_ne!(p, 0);
    assert_eq!(n.sys.live_allocations(), before + 1);
    n.emu.halt();
    assert!(n.emu.fired().contains(&"HALT-NO-LEAK"), "fired: {:?}", n.emu.fired());
}
