//! A firing test for each `SYS-*` id that `tests.rs` does not already show firing: each drives
//! the emulated NDIS / kernel with a deliberately wrong input and asserts exactly that id, and,
//! where the same call has a right input, that it stays quiet. `hw/VERIFIER.md` names them.

use std::sync::Arc;

use super::host::{Host, Timer, enter};
use super::layout::{self as l, wr};
use super::tests::{host, object, registration, rules};
use super::{cm, data, kernel, nbl, ndis};

const OK: u32 = l::ST_SUCCESS as u32;
const FAIL: u32 = l::ST_FAILURE as u32;
const INVALID: u32 = l::ST_INVALID_PARAMETER as u32;
const RESOURCES: u32 = l::ST_RESOURCES as u32;

fn handle(h: &Arc<Host>) -> usize {
    Arc::as_ptr(h) as usize
}

/// NDIS_MINIPORT_DRIVER_CHARACTERISTICS of revision `rev` declaring NDIS `major`.`minor`, every
/// mandatory handler set except the one at offset `null`; no MiniportSetOptions.
fn driver_chars(major: u8, minor: u8, rev: u8, null: Option<u64>) -> Vec<u64> {
    let size = if rev == 1 { l::SIZEOF_DRIVER_CHARS_REV_1 } else { l::SIZEOF_DRIVER_CHARS_REV_2 };
    let mut o = object(l::OBJ_TYPE_DRIVER_CHARS, rev, size as u16);
    let p = o.as_mut_ptr() as usize;
    // SAFETY: inside `o` (512 bytes).
    unsafe { wr::<1>(p, l::DC_MAJOR, u64::from(major)) };
    // SAFETY: inside `o`.
    unsafe { wr::<1>(p, l::DC_MAJOR + 1, u64::from(minor)) };
    for off in (l::DC_INITIALIZE..=l::DC_CANCEL_OID).step_by(8).filter(|o| Some(*o) != null) {
        // SAFETY: inside `o`.
        unsafe { wr::<8>(p, off, 0x1000) };
    }
    o
}

/// NdisMRegisterMiniportDriver with `chars` (non-NULL driver object, registry path, out-pointer).
fn register(h: &Arc<Host>, chars: &mut [u64]) -> u32 {
    let mut out = 0usize;
    let (c, op) = (chars.as_mut_ptr() as usize, std::ptr::addr_of_mut!(out) as usize);
    enter(h, "t", || ndis::ndis_m_register_miniport_driver(0x1000, 0x2000, 0, c, op))
}

#[test]
fn sys_null_fires_on_a_null_object_and_a_null_registration_argument() {
    let h = host();
    let revs = [(1, l::SIZEOF_TIMER_REV_1)];
    assert_eq!(ndis::check_header(&h, "t", 0, l::OBJ_TYPE_TIMER, &revs).err(), Some(INVALID));
    let mut chars = driver_chars(6, 0, 1, None);
    let c = chars.as_mut_ptr() as usize;
    let st = enter(&h, "t", || ndis::ndis_m_register_miniport_driver(0, 0x2000, 0, c, 0x3000));
    assert_eq!(st, INVALID);
    assert_eq!(rules(&h), ["SYS-NULL", "SYS-NULL"]);
}

#[test]
fn sys_version_fires_on_ndis_5_and_on_ndis_6_20_with_revision_1_characteristics() {
    let h = host();
    assert_eq!(register(&h, &mut driver_chars(6, 0x14, 2, None)), OK, "NDIS 6.20, revision 2");
    assert_eq!(register(&h, &mut driver_chars(6, 0, 1, None)), OK, "NDIS 6.0, revision 1");
    assert!(rules(&h).is_empty(), "{:?}", h.findings());
    for (major, minor) in [(5, 1), (6, 0x14)] {
        let h = host();
        assert_eq!(register(&h, &mut driver_chars(major, minor, 1, None)), INVALID, "{major}.{minor}");
        assert_eq!(rules(&h), ["SYS-VERSION"], "{major}.{minor}");
    }
}

#[test]
fn sys_chars_fires_on_a_null_mandatory_miniport_handler() {
    for off in [l::DC_HALT, l::DC_CANCEL_OID] {
        let h = host();
        assert_eq!(register(&h, &mut driver_chars(6, 0, 1, Some(off))), INVALID);
        assert_eq!(rules(&h), ["SYS-CHARS"], "handler at {off:#x} NULL");
    }
    // CheckForHangHandlerEx and ResetHandlerEx are optional.
    let h = host();
    assert_eq!(register(&h, &mut driver_chars(6, 0, 1, Some(l::DC_CHECK_FOR_HANG))), OK);
    assert!(rules(&h).is_empty(), "{:?}", h.findings());
}

#[test]
fn sys_handle_fires_on_a_foreign_adapter_handle_a_handle_of_the_wrong_kind_and_unknown_objects() {
    let h = host();
    let ours = handle(&h);
    enter(&h, "t", || ndis::ndis_m_deregister_miniport_driver(ours));
    assert!(rules(&h).is_empty(), "{:?}", h.findings());
    enter(&h, "t", || {
        ndis::ndis_m_deregister_miniport_driver(ours + 8);
        // A VC handle where NdisCmDeregisterSapComplete wants a SAP.
        cm::ndis_cm_deregister_sap_complete(0, cm::to_c(cm::VC, 1));
        ndis::ndis_free_timer_object(0x5000);
        nbl::ndis_free_net_buffer_list_pool(0x6000);
    });
    assert_eq!(rules(&h), ["SYS-HANDLE"; 4]);
}

#[test]
fn sys_attr_fires_on_a_null_adapter_context_a_non_pci_interface_and_a_non_atm_medium() {
    let h = host();
    let ours = handle(&h);
    let set = |o: &mut [u64]| {
        let p = o.as_mut_ptr() as usize;
        enter(&h, "t", || ndis::ndis_m_set_miniport_attributes(ours, p))
    };
    let mut no_ctx = registration(0x41);
    // SAFETY: inside the object.
    unsafe { wr::<8>(no_ctx.as_mut_ptr() as usize, l::RA_CONTEXT, 0) };
    assert_eq!(set(&mut no_ctx), INVALID);
    let mut isa = registration(0x41);
    // SAFETY: inside the object (1 = NdisInterfaceIsa).
    unsafe { wr::<4>(isa.as_mut_ptr() as usize, l::RA_INTERFACE, 1) };
    assert_eq!(set(&mut isa), OK, "recorded, not refused");
    assert_eq!(rules(&h), ["SYS-ATTR", "SYS-ATTR"]);
    let mut general = object(l::OBJ_TYPE_GENERAL_ATTRS, 1, l::SIZEOF_GENERAL_ATTRS_REV_1 as u16);
    assert_eq!(set(&mut general), OK, "MediaType 0 (802.3)");
    assert_eq!(rules(&h), ["SYS-ATTR"; 3]);
    // SAFETY: inside the object.
    unsafe { wr::<4>(general.as_mut_ptr() as usize, l::GA_MEDIA_TYPE, l::MEDIUM_ATM) };
    assert_eq!(set(&mut general), OK);
    assert_eq!(rules(&h).len(), 3, "NdisMediumAtm is quiet");
}

#[test]
fn sys_attr_order_fires_on_general_attributes_before_the_registration_attributes() {
    let h = host();
    let ours = handle(&h);
    let mut general = object(l::OBJ_TYPE_GENERAL_ATTRS, 1, l::SIZEOF_GENERAL_ATTRS_REV_1 as u16);
    // SAFETY: inside the object.
    unsafe { wr::<4>(general.as_mut_ptr() as usize, l::GA_MEDIA_TYPE, l::MEDIUM_ATM) };
    let g = general.as_mut_ptr() as usize;
    assert_eq!(enter(&h, "t", || ndis::ndis_m_set_miniport_attributes(ours, g)), FAIL);
    assert_eq!(rules(&h), ["SYS-ATTR-ORDER"]);
    let mut reg = registration(0x41);
    let r = reg.as_mut_ptr() as usize;
    assert_eq!(enter(&h, "t", || ndis::ndis_m_set_miniport_attributes(ours, r)), OK);
    assert_eq!(enter(&h, "t", || ndis::ndis_m_set_miniport_attributes(ours, g)), OK, "in order");
    assert_eq!(rules(&h), ["SYS-ATTR-ORDER"]);
}

fn sg_description(max_mapping: u64) -> Vec<u64> {
    let mut sg = object(l::OBJ_TYPE_SG_DMA, 1, l::SIZEOF_SG_DMA_REV_1 as u16);
    let p = sg.as_mut_ptr() as usize;
    // SAFETY: inside `sg`.
    unsafe { wr::<4>(p, l::SG_FLAGS, l::SG_DMA_64_BIT) };
    // SAFETY: inside `sg`.
    unsafe { wr::<4>(p, l::SG_MAX_MAPPING, max_mapping) };
    // SAFETY: inside `sg`.
    unsafe { wr::<8>(p, l::SG_PROCESS_SG_LIST, 0x1000) };
    sg
}

#[test]
fn sys_sg_dma_fires_on_shared_memory_before_dma_registration_and_a_zero_maximum_mapping() {
    let h = host();
    let ours = handle(&h);
    h.st().registration_flags = Some(0x41);
    let (mut va, mut pa) = (1usize, 1u64);
    let (vp, pp) = (std::ptr::addr_of_mut!(va) as usize, std::ptr::addr_of_mut!(pa) as usize);
    enter(&h, "t", || ndis::ndis_m_allocate_shared_memory(ours, 4096, 0, vp, pp));
    assert_eq!((va, pa), (0, 0), "refused");
    let mut out = 0usize;
    let op = std::ptr::addr_of_mut!(out) as usize;
    let mut zero = sg_description(0);
    let z = zero.as_mut_ptr() as usize;
    assert_eq!(enter(&h, "t", || ndis::ndis_m_register_scatter_gather_dma(ours, z, op)), INVALID);
    assert_eq!(rules(&h), ["SYS-SG-DMA", "SYS-SG-DMA"]);
    let mut good = sg_description(65536);
    let g = good.as_mut_ptr() as usize;
    assert_eq!(enter(&h, "t", || ndis::ndis_m_register_scatter_gather_dma(ours, g, op)), OK);
    enter(&h, "t", || ndis::ndis_m_deregister_scatter_gather_dma(out));
    assert_eq!(rules(&h).len(), 2, "{:?}", h.findings());
}

#[test]
fn sys_pool_type_fires_on_paged_pool() {
    let h = host();
    enter(&h, "t", || {
        let p = kernel::ex_allocate_pool_with_tag(0x200, 64, 0x4d4d5441);
        kernel::ex_free_pool_with_tag(p, 0x4d4d5441);
    });
    assert!(rules(&h).is_empty(), "NonPagedPoolNx is quiet");
    enter(&h, "t", || {
        let p = kernel::ex_allocate_pool_with_tag(1, 64, 0x4d4d5441);
        kernel::ex_free_pool_with_tag(p, 0x4d4d5441);
    });
    assert_eq!(rules(&h), ["SYS-POOL-TYPE"]);
}

#[test]
fn sys_io_fires_on_mapping_outside_bar0_and_unmapping_what_was_not_mapped() {
    let h = host();
    let ours = handle(&h);
    let mut va = 0usize;
    let vp = std::ptr::addr_of_mut!(va) as usize;
    let bar0 = super::host::BAR0_PHYS;
    assert_eq!(enter(&h, "t", || ndis::ndis_m_map_io_space(vp, ours, bar0 + 0x1000, 16)), RESOURCES);
    assert_eq!(enter(&h, "t", || ndis::ndis_m_map_io_space(vp, ours, bar0, 0)), RESOURCES);
    enter(&h, "t", || ndis::ndis_m_unmap_io_space(ours, 0x7000, 16));
    assert_eq!(va, 0);
    assert_eq!(rules(&h), ["SYS-IO"; 3]);
}

#[test]
fn sys_context_fires_on_a_successful_sap_registration_without_a_context() {
    let h = host();
    enter(&h, "t", || cm::ndis_cm_register_sap_complete(OK, cm::to_c(cm::SAP, 1), 0));
    assert_eq!(rules(&h), ["SYS-CONTEXT"]);
}

#[test]
fn sys_timer_fires_on_freeing_a_set_timer() {
    let h = host();
    let mut timers = Vec::new();
    for armed in [None, Some((std::time::Duration::from_secs(1), 0))] {
        let t = Box::into_raw(Box::new(3u64)) as usize;
        h.st().timers.insert(t, Timer { function: 0x1000, context: 0, armed });
        timers.push(t);
    }
    enter(&h, "t", || ndis::ndis_free_timer_object(timers[0]));
    assert!(rules(&h).is_empty(), "a timer not set is quiet");
    enter(&h, "t", || ndis::ndis_free_timer_object(timers[1]));
    assert_eq!(rules(&h), ["SYS-TIMER"]);
}

#[test]
fn sys_status_fires_on_a_link_state_indication_without_its_buffer() {
    let h = host();
    let ours = handle(&h);
    let mut ind =
        object(l::OBJ_TYPE_STATUS_INDICATION, l::SI_REVISION_1 as u8, l::SIZEOF_STATUS_INDICATION_REV_1 as u16);
    let p = ind.as_mut_ptr() as usize;
    // SAFETY: inside `ind`; StatusBuffer stays NULL.
    unsafe { wr::<4>(p, l::SI_CODE, l::ST_LINK_STATE) };
    enter(&h, "t", || cm::ndis_m_co_indicate_status_ex(ours, 0, p));
    assert_eq!(rules(&h), ["SYS-STATUS"]);
}

#[test]
fn sys_call_params_fires_on_completing_with_foreign_parameters_and_dispatching_none() {
    let h = host();
    let (sap, vc) = (cm::to_c(cm::SAP, 1), cm::to_c(cm::VC, 2));
    enter(&h, "t", || cm::ndis_cm_make_call_complete(OK, vc, 0, 0, 0xBAD0));
    let st = enter(&h, "t", || cm::ndis_cm_dispatch_incoming_call(sap, vc, 0));
    assert_eq!(st, INVALID);
    assert_eq!(rules(&h), ["SYS-CALL-PARAMS", "SYS-CALL-PARAMS"]);
}

#[test]
fn sys_nbl_fires_on_freeing_a_foreign_nbl_completing_an_unsent_one_and_a_connectionless_completion() {
    let h = host();
    let ours = handle(&h);
    // A zeroed NET_BUFFER_LIST (Next NULL) the lab never handed to the driver.
    let stray = vec![0u64; 64];
    let s = stray.as_ptr() as usize;
    enter(&h, "t", || {
        nbl::ndis_free_net_buffer_list(s);
        data::ndis_m_co_send_net_buffer_lists_complete(cm::to_c(cm::VC, 1), s, 0);
        data::ndis_m_send_net_buffer_lists_complete(ours, s, 0);
    });
    assert_eq!(rules(&h), ["SYS-NBL"; 3]);
}

#[test]
fn sys_lab_limit_fires_on_nbl_context_areas_a_second_timer_object_and_a_periodic_timer() {
    let h = host();
    let ours = handle(&h);
    let mut params = object(l::OBJ_TYPE_DEFAULT, 1, l::SIZEOF_NBL_POOL_PARAMS_REV_1 as u16);
    let pp = params.as_mut_ptr() as usize;
    let pool = enter(&h, "t", || nbl::ndis_allocate_net_buffer_list_pool(ours, pp));
    assert_ne!(pool, 0);
    let got = enter(&h, "t", || nbl::ndis_allocate_net_buffer_and_net_buffer_list(pool, 16, 0, 0, 0, 0));
    assert_eq!(got, 0, "refused");
    let mut tc = object(l::OBJ_TYPE_TIMER, 1, l::SIZEOF_TIMER_REV_1 as u16);
    let tp = tc.as_mut_ptr() as usize;
    // SAFETY: inside `tc`.
    unsafe { wr::<8>(tp, l::TC_FUNCTION, 0x1000) };
    let (mut t1, mut t2) = (0usize, 0usize);
    let (p1, p2) = (std::ptr::addr_of_mut!(t1) as usize, std::ptr::addr_of_mut!(t2) as usize);
    assert_eq!(enter(&h, "t", || ndis::ndis_allocate_timer_object(ours, tp, p1)), OK);
    assert_eq!(rules(&h), ["SYS-LAB-LIMIT"], "the first timer is quiet");
    assert_eq!(enter(&h, "t", || ndis::ndis_allocate_timer_object(ours, tp, p2)), RESOURCES);
    // A periodic timer (on a stale handle, so the lab's clock is not needed).
    enter(&h, "t", || ndis::ndis_set_timer_object(0x5000, -10, 100, 0));
    enter(&h, "t", || {
        ndis::ndis_free_timer_object(t1);
        nbl::ndis_free_net_buffer_list_pool(pool);
    });
    assert_eq!(rules(&h), ["SYS-LAB-LIMIT", "SYS-LAB-LIMIT", "SYS-LAB-LIMIT", "SYS-HANDLE"]);
}

/// NdisMRegisterMiniportDriver as a refusing NDIS: registers nothing.
extern "win64" fn refuse_registration(_: usize, _: usize, _: usize, _: usize, _: usize) -> u32 {
    FAIL
}

/// Needs the image (`scripts/build-sys`); prints SKIPPED without it.
#[test]
fn sys_not_registered_fires_on_initializing_an_image_whose_registration_was_refused() {
    use crate::host::Driver;
    let p = super::default_image_path();
    if !p.exists() {
        eprintln!("SKIPPED: {} missing (run scripts/build-sys)", p.display());
        return;
    }
    let resolve = |dll: &str, name: &str| match name {
        "NdisMRegisterMiniportDriver" => Some(refuse_registration as *const () as usize),
        _ => super::imports::resolve(dll, name),
    };
    let d = super::SysDriver::load_with(&p, Arc::new(crate::clock::Clock::new()), &resolve).expect("load");
    assert_ne!(d.driver_entry_status(), 0, "DriverEntry passes the refusal on");
    assert!(d.findings().is_empty(), "{:?}", d.findings());
    assert_eq!(d.start(), atmmcm::NdisStatus::FAILURE);
    assert_eq!(d.findings().into_iter().map(|(r, _)| r).collect::<Vec<_>>(), ["SYS-NOT-REGISTERED"]);
}

/// KeBugCheckEx aborts the process (a driver frame cannot be unwound), so the finding is shown in
/// a child process: its last words name the id, the code and the parameters.
#[test]
fn sys_bugcheck_fires_on_ke_bug_check_ex() {
    const CHILD: &str = "ATMMCM_SYS_BUGCHECK_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let h = host();
        // SAFETY: the host's KeBugCheckEx, Microsoft ABI (ULONG, 4 x ULONG_PTR); it never returns.
        let f: extern "win64" fn(u32, usize, usize, usize, usize) =
            unsafe { std::mem::transmute(kernel::ke_bug_check_ex as *const ()) };
        enter(&h, "bugcheck", || f(0xD1, 1, 2, 3, 4));
        unreachable!("KeBugCheckEx returned");
    }
    let name = concat!(module_path!(), "::sys_bugcheck_fires_on_ke_bug_check_ex");
    let name = name.split_once("::").map_or(name, |(_, n)| n);
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([name, "--exact", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .expect("run child");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bugcheck must fail the run");
    assert!(err.contains("FATAL: SYS-BUGCHECK: KeBugCheckEx(0xd1, 0x1, 0x2, 0x3, 0x4) called from"), "stderr: {err}");
}
