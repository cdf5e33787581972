//! The emulation's checks, each shown firing on a wrong input and quiet on the right one.

use std::sync::Arc;

use super::host::{CoChars, Host, enter};
use super::layout::{self as l, Header, wr};
use super::linkmap::LinkMap;
use super::{cparams, kernel, nbl, ndis};
use crate::clock::Clock;

pub(super) fn host() -> Arc<Host> {
    Arc::new(Host::new(Arc::new(Clock::new()), LinkMap::default(), 0))
}

pub(super) fn rules(h: &Host) -> Vec<String> {
    h.findings().into_iter().map(|(r, _)| r).collect()
}

pub(super) fn object(ty: u64, revision: u8, size: u16) -> Vec<u64> {
    let mut v = vec![0u64; 64];
    let p = v.as_mut_ptr() as usize;
    // SAFETY: inside `v`.
    unsafe { wr::<4>(p, 0, Header { ty: ty as u8, revision, size }.word()) };
    v
}

#[test]
fn header_check_refuses_wrong_type_revision_or_short_size_and_flags_a_non_wdk_size() {
    let h = host();
    let revs = [(1, l::SIZEOF_CM_HANDLERS_REV_1)];
    let ok = object(l::OBJ_TYPE_CM_OPTIONAL_HANDLERS, 1, 0x88);
    assert!(ndis::check_header(&h, "t", ok.as_ptr() as usize, l::OBJ_TYPE_CM_OPTIONAL_HANDLERS, &revs).is_ok());
    assert!(rules(&h).is_empty());
    // size_of instead of the macro: accepted (as NDIS would), but flagged.
    let big = object(l::OBJ_TYPE_CM_OPTIONAL_HANDLERS, 1, 0x90);
    assert!(ndis::check_header(&h, "t", big.as_ptr() as usize, l::OBJ_TYPE_CM_OPTIONAL_HANDLERS, &revs).is_ok());
    assert_eq!(rules(&h), ["SYS-HEADER-SIZE"]);
    for (o, rule) in [
        (object(l::OBJ_TYPE_CM_OPTIONAL_HANDLERS, 1, 0x80), "SYS-HEADER-SIZE"),
        (object(l::OBJ_TYPE_CM_OPTIONAL_HANDLERS, 3, 0x88), "SYS-HEADER-REVISION"),
        (object(l::OBJ_TYPE_CO_MINIPORT_CHARS, 1, 0x88), "SYS-HEADER-TYPE"),
    ] {
        let h = host();
        assert!(ndis::check_header(&h, "t", o.as_ptr() as usize, l::OBJ_TYPE_CM_OPTIONAL_HANDLERS, &revs).is_err());
        assert_eq!(rules(&h), [rule]);
    }
}

pub(super) fn registration(flags: u32) -> Vec<u64> {
    let mut o = object(l::OBJ_TYPE_REGISTRATION_ATTRS, 1, l::SIZEOF_REGISTRATION_ATTRS_REV_1 as u16);
    let p = o.as_mut_ptr() as usize;
    // SAFETY: inside `o`.
    unsafe {
        wr::<8>(p, l::RA_CONTEXT, 0x1234);
        wr::<4>(p, l::RA_FLAGS, u64::from(flags));
        wr::<4>(p, l::RA_INTERFACE, l::INTERFACE_PCI);
    }
    o
}

#[test]
fn not_co_ndis_on_a_condis_miniport_is_refused_and_bus_master_is_required_for_sg_dma() {
    for (flags, want, rule) in [(0xd, l::ST_INVALID_PARAMETER, Some("SYS-ATTR-FLAGS")), (0x45, l::ST_SUCCESS, None)] {
        let h = host();
        h.st().co = Some(CoChars::default());
        let mut o = registration(flags);
        let handle = Arc::as_ptr(&h) as usize;
        let st = enter(&h, "t", || ndis::ndis_m_set_miniport_attributes(handle, o.as_mut_ptr() as usize));
        assert_eq!(u64::from(st), want, "flags {flags:#x}");
        assert_eq!(rules(&h).first().map(String::as_str), rule);
    }
    // Registered without BUS_MASTER: scatter-gather DMA is refused.
    let h = host();
    let mut o = registration(0x5);
    let handle = Arc::as_ptr(&h) as usize;
    enter(&h, "t", || ndis::ndis_m_set_miniport_attributes(handle, o.as_mut_ptr() as usize));
    let mut sg = object(l::OBJ_TYPE_SG_DMA, 1, l::SIZEOF_SG_DMA_REV_1 as u16);
    let p = sg.as_mut_ptr() as usize;
    // SAFETY: inside `sg`.
    unsafe {
        wr::<4>(p, l::SG_FLAGS, l::SG_DMA_64_BIT);
        wr::<4>(p, l::SG_MAX_MAPPING, 65536);
        wr::<8>(p, l::SG_PROCESS_SG_LIST, 0x1000);
    }
    let mut out = 0usize;
    let op = std::ptr::addr_of_mut!(out) as usize;
    let st = enter(&h, "t", || ndis::ndis_m_register_scatter_gather_dma(handle, p, op));
    assert_eq!(u64::from(st), l::ST_NOT_SUPPORTED);
    assert_eq!(rules(&h), ["SYS-BUS-MASTER"]);
}

#[test]
fn spin_locks_raise_irql_and_an_entry_returning_with_a_lock_held_is_a_finding() {
    let h = host();
    let lock = Box::new(0usize);
    let lp = &*lock as *const usize as usize;
    enter(&h, "balanced", || {
        let old = kernel::ke_acquire_spin_lock_raise_to_dpc(lp);
        assert_eq!(crate::host::current_irql(), crate::host::Irql::Dispatch);
        kernel::ke_release_spin_lock(lp, old);
    });
    assert!(rules(&h).is_empty());
    enter(&h, "leaky", || {
        kernel::ke_acquire_spin_lock_raise_to_dpc(lp);
    });
    assert_eq!(rules(&h), ["SYS-IRQL-BALANCE", "SYS-SPINLOCK-BALANCE"]);
    assert_eq!(crate::host::current_irql(), crate::host::Irql::Passive, "restored after the finding");
    let h2 = host();
    let free = Box::new(0usize);
    let fp = &*free as *const usize as usize;
    enter(&h2, "release of a free lock", || {
        let old = crate::host::set_irql(crate::host::Irql::Dispatch);
        kernel::ke_release_spin_lock(fp, old as u8);
        super::host::lock_acquired(); // balance the count the bad release took
    });
    assert_eq!(rules(&h2), ["SYS-SPINLOCK"]);
}

#[test]
fn pool_double_free_and_wrong_tag_are_findings() {
    let h = host();
    enter(&h, "t", || {
        let p = kernel::ex_allocate_pool_with_tag(0x200, 100, 0x4d4d5441);
        assert_ne!(p, 0);
        assert_eq!(p % 16, 0, "x64 pool alignment");
        kernel::ex_free_pool_with_tag(p, 0x4d4d5441);
        kernel::ex_free_pool_with_tag(p, 0x4d4d5441);
        let q = kernel::ex_allocate_pool_with_tag(0x200, 8, 1);
        kernel::ex_free_pool_with_tag(q, 2);
    });
    assert_eq!(rules(&h), ["SYS-POOL-FREE", "SYS-POOL-TAG"]);
}

#[test]
fn get_data_buffer_is_contiguous_in_one_mdl_and_copies_across_an_mdl_chain() {
    let a = b"hello ".to_vec();
    let b = b"world".to_vec();
    let ma = nbl::build_mdl(a.as_ptr() as usize, a.len() as u32);
    let mb = nbl::build_mdl(b.as_ptr() as usize, b.len() as u32);
    // SAFETY: `ma` is ours.
    unsafe { wr::<8>(ma, l::MDL_NEXT, mb as u64) };
    let (nbl, nb) = nbl::build_nbl(0, ma, 0, 11);
    assert_eq!(nbl::ndis_get_data_buffer(nb, 4, 0, 1, 0), a.as_ptr() as usize, "in the first MDL: no copy");
    let mut storage = [0u8; 11];
    let p = nbl::ndis_get_data_buffer(nb, 11, storage.as_mut_ptr() as usize, 1, 0);
    assert_eq!(p, storage.as_ptr() as usize);
    assert_eq!(&storage, b"hello world");
    assert_eq!(nbl::ndis_get_data_buffer(nb, 12, storage.as_mut_ptr() as usize, 1, 0), 0, "more than DataLength");
    // SAFETY: a valid NB over a valid chain.
    assert_eq!(unsafe { nbl::nb_bytes(nb) }, b"hello world");
    nbl::free_nbl(nbl, nb);
    ndis::kernel_free(ma, l::SIZEOF_MDL as usize);
    ndis::kernel_free(mb, l::SIZEOF_MDL as usize);
}

#[test]
fn call_parameters_survive_the_harness_c_encoding_and_a_wrong_media_type_is_refused() {
    let mut p = crate::lab::call_to(b"1002");
    p.calling = crate::lab::e164(b"1001");
    p.media.transmit.max_sdu_size = 65535;
    p.media.connection_id = atmmcm::ndis::VpiVci { vpi: 1, vci: 77 };
    let c = cparams::CParams::new(&p);
    // SAFETY: our block.
    assert_eq!(unsafe { cparams::read(c.0) }, Ok(p));
    // MediaSpecific read 4 bytes early (mingw's CO_MEDIA_PARAMETERS) finds no ATM_MEDIA_SPECIFIC.
    let media = unsafe { super::layout::rd::<8>(c.0, l::CCP_MEDIA) } as usize;
    // SAFETY: inside the block.
    unsafe { wr::<4>(media, l::CMP_MEDIA_SPECIFIC, 0) };
    // SAFETY: our block.
    assert!(unsafe { cparams::read(c.0) }.is_err());
}

#[test]
fn inf_defaults_cover_every_registry_key_with_its_default() {
    let d = super::inf_defaults();
    for k in atmmcm::config::REGISTRY_KEYS {
        assert_eq!(
            d.iter().find(|(n, _)| *n == k.name.to_ascii_lowercase()).map(|(_, v)| *v),
            Some(k.default),
            "{}",
            k.name
        );
    }
}

#[test]
fn every_import_of_the_image_has_a_host_function() {
    // The 69 imports scripts/build-sys reports for today's image.
    let ndis = "NdisAllocateMdl NdisAllocateMemoryWithTagPriority NdisAllocateNetBufferAndNetBufferList NdisAllocateNetBufferListPool NdisAllocateTimerObject NdisCancelTimerObject NdisCloseConfiguration NdisCmAddPartyComplete NdisCmCloseAddressFamilyComplete NdisCmCloseCallComplete NdisCmDeregisterSapComplete NdisCmDispatchCallConnected NdisCmDispatchIncomingCall NdisCmDispatchIncomingCloseCall NdisCmDispatchIncomingDropParty NdisCmDropPartyComplete NdisCmMakeCallComplete NdisCmModifyCallQoSComplete NdisCmNotifyCloseAddressFamily NdisCmOpenAddressFamilyComplete NdisCmRegisterSapComplete NdisFreeMdl NdisFreeMemoryWithTagPriority NdisFreeNetBufferList NdisFreeNetBufferListPool NdisFreeTimerObject NdisGetDataBuffer NdisMAllocateSharedMemory NdisMCmActivateVc NdisMCmCreateVc NdisMCmDeactivateVc NdisMCmDeleteVc NdisMCmRegisterAddressFamilyEx NdisMCoIndicateReceiveNetBufferLists NdisMCoIndicateStatusEx NdisMCoSendNetBufferListsComplete NdisMDeregisterInterruptEx NdisMDeregisterMiniportDriver NdisMDeregisterScatterGatherDma NdisMFreeSharedMemory NdisMMapIoSpace NdisMRegisterInterruptEx NdisMRegisterMiniportDriver NdisMRegisterScatterGatherDma NdisMSendNetBufferListsComplete NdisMSetMiniportAttributes NdisMSleep NdisMSynchronizeWithInterruptEx NdisMUnmapIoSpace NdisOpenConfigurationEx NdisReadConfiguration NdisSetOptionalHandlers NdisSetTimerObject";
    let nt = "ExAllocatePoolWithTag ExFreePoolWithTag KeAcquireSpinLockRaiseToDpc KeBugCheckEx KeFlushQueuedDpcs KeGetCurrentProcessorNumberEx KeInitializeDpc KeInsertQueueDpc KeReleaseSpinLock KeReleaseSpinLockFromDpcLevel KeRemoveQueueDpc KeTryToAcquireSpinLockAtDpcLevel memcmp memcpy memmove memset";
    let missing: Vec<&str> = ndis
        .split(' ')
        .filter(|n| super::imports::resolve("NDIS.SYS", n).is_none())
        .chain(nt.split(' ').filter(|n| super::imports::resolve("ntoskrnl.exe", n).is_none()))
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(super::imports::table().len(), 69);
    assert!(super::imports::resolve("NDIS.SYS", "NdisMIndicateReceiveNetBufferLists").is_none());
}

#[test]
fn irql_dpc_mdl_and_shared_memory_misuse_are_findings() {
    let h = host();
    let handle = Arc::as_ptr(&h) as usize;
    enter(&h, "t", || {
        crate::host::at_irql(crate::host::Irql::Device, || {
            let p = kernel::ex_allocate_pool_with_tag(0x200, 8, 1);
            kernel::ex_free_pool_with_tag(p, 1);
        });
        let mut kdpc = [0u64; 8];
        kernel::ke_insert_queue_dpc(kdpc.as_mut_ptr() as usize, 0, 0);
        nbl::ndis_free_mdl(0x1000);
        ndis::ndis_m_free_shared_memory(handle, 4096, 0, 0x2000, 0x2000);
    });
    assert_eq!(rules(&h), ["SYS-IRQL", "SYS-IRQL", "SYS-DPC", "SYS-MDL", "SYS-SHARED-MEMORY"]);
}

#[test]
fn deregistering_the_interrupt_while_the_nic_can_still_assert_it_is_a_finding() {
    use atmmcm::nic::bus::Bus;
    use atmmcm::nic::regs;
    for (mask, want) in [(regs::IntBits::ALL.0, vec!["SYS-INTERRUPT-ORDER"]), (0, vec![])] {
        let h = host();
        let model = crate::regnic_model::RegNicModel::new();
        let mut ctrl = regs::Ctrl(0);
        ctrl.set_irq_enable(true);
        model.bus().write32(regs::CTRL, ctrl.0);
        model.bus().write32(regs::INT_MASK, mask);
        let _ = h.model.set(model);
        let ih = Box::into_raw(Box::new(2u64)) as usize;
        h.st().interrupt = Some(super::host::Interrupt { handle: ih, ..Default::default() });
        enter(&h, "t", || super::interrupt::ndis_m_deregister_interrupt_ex(ih));
        assert_eq!(rules(&h), want, "INT_MASK {mask:#x}");
    }
}

// ---- NdisMSynchronizeWithInterruptEx -------------------------------------------------------------

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

static ISR_INSIDE: AtomicBool = AtomicBool::new(false);
static SAW_ISR_INSIDE: AtomicBool = AtomicBool::new(false);
static SYNC_IRQL: AtomicU8 = AtomicU8::new(0);

extern "win64" fn sync_probe(ctx: usize) -> u8 {
    SAW_ISR_INSIDE.fetch_or(ISR_INSIDE.load(Ordering::SeqCst), Ordering::SeqCst);
    SYNC_IRQL.store(crate::host::current_irql() as u8, Ordering::SeqCst);
    ctx as u8
}

extern "win64" fn sync_reenters(ih: usize) -> u8 {
    super::interrupt::ndis_m_synchronize_with_interrupt_ex(ih, 0, sync_probe as *const () as usize, 7)
}

fn with_interrupt(h: &Host) -> usize {
    let ih = Box::into_raw(Box::new(2u64)) as usize;
    h.st().interrupt = Some(super::host::Interrupt { handle: ih, ..Default::default() });
    ih
}

#[test]
fn synchronize_runs_the_function_at_dirql_under_the_interrupt_lock_excluding_the_isr() {
    let h = host();
    let ih = with_interrupt(&h);
    let f = sync_probe as *const () as usize;
    // Returns the function's BOOLEAN; runs at DIRQL; IRQL restored after.
    let r = enter(&h, "t", || super::interrupt::ndis_m_synchronize_with_interrupt_ex(ih, 0, f, 1));
    assert_eq!(r, 1);
    assert_eq!(SYNC_IRQL.load(Ordering::SeqCst), crate::host::Irql::Device as u8);
    assert_eq!(crate::host::current_irql(), crate::host::Irql::Passive);
    // An "ISR" holding the interrupt lock on another thread: the function waits for it.
    let h2 = h.clone();
    let isr = std::thread::spawn(move || {
        super::interrupt::with_interrupt_lock(&h2, "MiniportInterrupt", || {
            ISR_INSIDE.store(true, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(50));
            ISR_INSIDE.store(false, Ordering::SeqCst);
        })
    });
    while !ISR_INSIDE.load(Ordering::SeqCst) && !isr.is_finished() {
        std::thread::yield_now();
    }
    enter(&h, "t", || super::interrupt::ndis_m_synchronize_with_interrupt_ex(ih, 0, f, 1));
    assert!(isr.join().expect("isr thread").is_some());
    assert!(!SAW_ISR_INSIDE.load(Ordering::SeqCst), "the SynchronizeFunction ran while the ISR held the lock");
    assert!(rules(&h).is_empty(), "{:?}", h.findings());
}

#[test]
fn synchronize_on_a_wrong_handle_or_from_inside_the_lock_is_a_finding_and_does_not_run() {
    let h = host();
    let ih = with_interrupt(&h);
    let f = sync_probe as *const () as usize;
    let r = enter(&h, "t", || super::interrupt::ndis_m_synchronize_with_interrupt_ex(ih + 8, 0, f, 1));
    assert_eq!(r, 0);
    assert_eq!(rules(&h), ["SYS-INTERRUPT"]);
    // A SynchronizeFunction that synchronizes again: a deadlock on Windows.
    let h = host();
    let ih = with_interrupt(&h);
    let r = enter(&h, "t", || {
        super::interrupt::ndis_m_synchronize_with_interrupt_ex(ih, 0, sync_reenters as *const () as usize, ih)
    });
    assert_eq!(r, 0, "the inner call did not run");
    assert_eq!(rules(&h), ["SYS-INTERRUPT-LOCK"]);
    // Spin locks at DIRQL (inside the function) are an IRQL finding, as on Windows.
    extern "win64" fn takes_a_spin_lock(lock: usize) -> u8 {
        let old = kernel::ke_acquire_spin_lock_raise_to_dpc(lock);
        kernel::ke_release_spin_lock(lock, old);
        1
    }
    let h = host();
    let ih = with_interrupt(&h);
    let lock = Box::new(0usize);
    let lp = &*lock as *const usize as usize;
    enter(&h, "t", || {
        super::interrupt::ndis_m_synchronize_with_interrupt_ex(ih, 0, takes_a_spin_lock as *const () as usize, lp)
    });
    assert!(rules(&h).contains(&"SYS-IRQL".to_string()), "{:?}", h.findings());
}

// ---- NdisReadConfiguration -----------------------------------------------------------------------

/// Opens the configuration, reads `name` as `ty`: (status, ParameterType, integer, string).
fn read_config(h: &Arc<Host>, name: &str, ty: u32) -> (u32, u32, u32, Option<String>) {
    let handle = Arc::as_ptr(h) as usize;
    let mut obj = object(l::OBJ_TYPE_CONFIG, 1, l::SIZEOF_CONFIG_OBJECT_REV_1 as u16);
    let op = obj.as_mut_ptr() as usize;
    // SAFETY: inside `obj`.
    unsafe { wr::<8>(op, l::CO_NDIS_HANDLE, handle as u64) };
    let wide: Vec<u16> = name.encode_utf16().collect();
    let us = [(wide.len() * 2) as u64 * 0x1_0001, wide.as_ptr() as u64];
    enter(h, "t", || {
        let mut cfg = 0usize;
        assert_eq!(super::config::ndis_open_configuration_ex(op, std::ptr::addr_of_mut!(cfg) as usize), 0);
        let (mut status, mut param) = (0u32, 0usize);
        super::config::ndis_read_configuration(
            std::ptr::addr_of_mut!(status) as usize,
            std::ptr::addr_of_mut!(param) as usize,
            cfg,
            us.as_ptr() as usize,
            ty,
        );
        let out = if status == 0 {
            // SAFETY: NDIS_CONFIGURATION_PARAMETER from the host, valid until the close below.
            unsafe {
                use super::layout::rd;
                let ptype = rd::<4>(param, 0) as u32;
                let int = if ptype == super::config::PARAM_STRING { 0 } else { rd::<4>(param, l::CP_DATA) as u32 };
                let s = (ptype == super::config::PARAM_STRING).then(|| {
                    let len = rd::<2>(param, l::CP_DATA) as usize / 2;
                    let buf = rd::<8>(param, l::CP_DATA + l::US_BUFFER) as usize;
                    String::from_utf16_lossy(&(0..len).map(|i| rd::<2>(buf, (i * 2) as u64) as u16).collect::<Vec<_>>())
                });
                (status, ptype, int, s)
            }
        } else {
            (status, u32::MAX, 0, None)
        };
        super::config::ndis_close_configuration(cfg);
        out
    })
}

#[test]
fn read_configuration_returns_strings_as_ndis_strings_converts_integers_and_fails_absent_keywords() {
    use super::config::{PARAM_HEX_INTEGER, PARAM_STRING, RegValue};
    let h = host();
    {
        let mut reg = h.registry.lock().unwrap();
        reg.insert("networkaddress".into(), RegValue::Sz("02AABBCCDDEE".into()));
        reg.insert("t303".into(), RegValue::Sz("4000".into()));
        reg.insert("ringsize".into(), RegValue::Dword(64));
    }
    let fail = l::ST_FAILURE as u32;
    let int = l::PARAM_INTEGER as u32;
    assert_eq!(read_config(&h, "NetworkAddress", PARAM_STRING), (0, PARAM_STRING, 0, Some("02AABBCCDDEE".into())));
    assert_eq!(read_config(&h, "T303", int), (0, int, 4000, None), "REG_SZ converted base 10");
    assert_eq!(read_config(&h, "T303", PARAM_HEX_INTEGER), (0, PARAM_HEX_INTEGER, 0x4000, None), "base 16");
    assert_eq!(read_config(&h, "RingSize", PARAM_STRING), (0, int, 64, None), "REG_DWORD is an integer");
    assert_eq!(read_config(&h, "NetworkAddress", int).0, fail, "not a decimal number");
    assert_eq!(read_config(&h, "NoSuchKeyword", PARAM_STRING).0, fail, "absent");
    assert!(rules(&h).is_empty(), "{:?}", h.findings());
}
