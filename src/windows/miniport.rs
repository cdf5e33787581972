//! DriverEntry and the miniport side: registration, MiniportSetOptions (which installs the CoNDIS
//! miniport and call-manager handlers), MiniportInitializeEx .. MiniportHaltEx, interrupt, timer
//! and DPC routines, and the data-path and OID trampolines.
//!
//! MiniportAdapterContext is a pointer to the adapter's static [`Slot`]; the slot holds the boxed
//! adapter from the end of initialisation until halt. Timer, DPC and interrupt routines get the
//! same pointer as their context.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

use super::ctx::{self, MAX_ADAPTERS};
use super::device::{self, WinDevice};
use super::ffi::*;
use super::freelist::{try_box, try_box_uninit};
use super::teardown::{self, Teardown};
use super::win_ndis::{Nbl, WinNdis};
use super::{cm, registry};
use crate::adapter::{Adapter, OidRequest, oid};
use crate::config::Config;
use crate::ndis::{Ndis, NdisStatus, VcContext};
use crate::nic::regnic::{IrqSync, RegNicConfig};

/// The adapter type the Windows build runs: the core over NDIS and the register-level NIC
/// ([`WinDevice`] = `RegNic<WinBus, NdisSpinLock>`).
pub type WinAdapter = Adapter<WinNdis, WinDevice>;

/// One adapter's anchor: static, so its address can be MiniportAdapterContext before the adapter
/// exists and after it is gone.
pub struct Slot {
    claimed: AtomicBool,
    adapter: AtomicPtr<Holder>,
}

pub struct Holder {
    pub adapter: CoreBox,
    /// NdisInterruptHandle, set once just after the holder is published.
    interrupt: AtomicUsize,
    dma: usize,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_SLOT: Slot = Slot { claimed: AtomicBool::new(false), adapter: AtomicPtr::new(core::ptr::null_mut()) };
static SLOTS: [Slot; MAX_ADAPTERS] = [EMPTY_SLOT; MAX_ADAPTERS];
static DRIVER_HANDLE: AtomicUsize = AtomicUsize::new(0);

const DRIVER_VERSION: (u8, u8) = (0, 1);
/// Link MTU: RFC 2225's default for IP over ATM.
const MTU: u32 = 9180;
/// RX NBLs per adapter (and incoming-call parameter blocks).
const RX_NBLS_PER_RING_SLOT: usize = 2;

/// SupportedOidList: exactly the OIDs the core's MiniportCoOidRequest answers.
static SUPPORTED_OIDS: [NDIS_OID; oid::SUPPORTED.len()] = oid::SUPPORTED;

// The core's OID values are ffi.rs's (both checked against ndis6-facts.tsv by tests/ffi_facts.rs).
const _: () = {
    assert!(oid::GEN_SUPPORTED_LIST == OID_GEN_SUPPORTED_LIST);
    assert!(oid::GEN_HARDWARE_STATUS == OID_GEN_HARDWARE_STATUS);
    assert!(oid::GEN_MEDIA_SUPPORTED == OID_GEN_MEDIA_SUPPORTED);
    assert!(oid::GEN_MEDIA_IN_USE == OID_GEN_MEDIA_IN_USE);
    assert!(oid::GEN_VENDOR_DESCRIPTION == OID_GEN_VENDOR_DESCRIPTION);
    assert!(oid::GEN_DRIVER_VERSION == OID_GEN_DRIVER_VERSION);
    assert!(oid::GEN_CO_MEDIA_CONNECT_STATUS == OID_GEN_MEDIA_CONNECT_STATUS);
    assert!(oid::ATM_SUPPORTED_VC_RATES == OID_ATM_SUPPORTED_VC_RATES);
    assert!(oid::ATM_SUPPORTED_SERVICE_CATEGORY == OID_ATM_SUPPORTED_SERVICE_CATEGORY);
    assert!(oid::ATM_SUPPORTED_AAL_TYPES == OID_ATM_SUPPORTED_AAL_TYPES);
    assert!(oid::ATM_HW_CURRENT_ADDRESS == OID_ATM_HW_CURRENT_ADDRESS);
    assert!(oid::ATM_MAX_ACTIVE_VCS == OID_ATM_MAX_ACTIVE_VCS);
    assert!(oid::ATM_MAX_AAL5_PACKET_SIZE == OID_ATM_MAX_AAL5_PACKET_SIZE);
};

/// Sends whose MiniportVcContext named no adapter (see [`co_send_net_buffer_lists`]).
pub static UNROUTABLE_SENDS: AtomicUsize = AtomicUsize::new(0);

impl Slot {
    fn context(&'static self) -> PVOID {
        core::ptr::from_ref(self).cast_mut().cast()
    }

    /// The adapter, while it exists.
    pub fn adapter(&self) -> Option<&'static Holder> {
        let p = self.adapter.load(Ordering::Acquire);
        // SAFETY: a non-NULL pointer is a leaked Box published by initialize; halt unpublishes it
        // and flushes every routine that could still hold it before freeing it, and NDIS calls no
        // handler of a halted adapter.
        unsafe { p.as_ref() }
    }
}

/// The slot for a MiniportAdapterContext / timer / DPC / interrupt context pointer.
pub fn slot_of(ctx: PVOID) -> Option<&'static Slot> {
    SLOTS.iter().find(|s| core::ptr::eq(core::ptr::from_ref(*s).cast::<core::ffi::c_void>(), ctx.cast_const()))
}

/// The adapter in slot `i`.
pub fn adapter_at(i: usize) -> Option<&'static Holder> {
    SLOTS.get(i)?.adapter()
}

/// The adapter and the core's token behind a context word NDIS handed back.
pub fn by_word(word: NDIS_HANDLE) -> Option<(&'static WinAdapter, usize)> {
    let (slot, token) = ctx::decode(word as usize)?;
    Some((&*adapter_at(slot)?.adapter, token))
}

fn holder_of(ctx: PVOID) -> Option<&'static Holder> {
    slot_of(ctx)?.adapter()
}

// ---- DriverEntry ---------------------------------------------------------------------------------

/// DriverEntry: registers the NDIS 6.0 miniport (WINDOWS.md: why not 6.20).
///
/// # Safety
/// Called by the I/O manager with its driver object and registry path.
#[unsafe(export_name = "DriverEntry")]
pub unsafe extern "system" fn driver_entry(driver: PDRIVER_OBJECT, registry_path: PUNICODE_STRING) -> NTSTATUS {
    let mut ch = NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
        Header: NDIS_OBJECT_HEADER::new(
            NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
            NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1,
            NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1,
        ),
        MajorNdisVersion: NDIS_MINIPORT_MAJOR_VERSION,
        MinorNdisVersion: NDIS_MINIPORT_MINOR_VERSION,
        MajorDriverVersion: DRIVER_VERSION.0,
        MinorDriverVersion: DRIVER_VERSION.1,
        Flags: 0,
        SetOptionsHandler: Some(set_options),
        InitializeHandlerEx: Some(initialize),
        HaltHandlerEx: Some(halt),
        UnloadHandler: Some(unload),
        PauseHandler: Some(pause),
        RestartHandler: Some(restart),
        OidRequestHandler: Some(oid_request),
        SendNetBufferListsHandler: Some(send_net_buffer_lists),
        ReturnNetBufferListsHandler: Some(return_net_buffer_lists),
        CancelSendHandler: Some(cancel_send),
        CheckForHangHandlerEx: None,
        ResetHandlerEx: Some(reset),
        DevicePnPEventNotifyHandler: Some(device_pnp_event_notify),
        ShutdownHandlerEx: Some(shutdown),
        CancelOidRequestHandler: Some(cancel_oid_request),
        DirectOidRequestHandler: None,
        CancelDirectOidRequestHandler: None,
    };
    core::hint::black_box(&IMPORT_TABLE);
    let mut handle: NDIS_HANDLE = core::ptr::null_mut();
    // SAFETY: PASSIVE; NDIS copies the characteristics.
    let st = unsafe { NdisMRegisterMiniportDriver(driver, registry_path, core::ptr::null_mut(), &mut ch, &mut handle) };
    if st == NDIS_STATUS_SUCCESS {
        DRIVER_HANDLE.store(handle as usize, Ordering::Release);
    }
    st
}

unsafe extern "system" fn unload(_driver: PDRIVER_OBJECT) {
    let h = DRIVER_HANDLE.swap(0, Ordering::AcqRel);
    if h != 0 {
        // SAFETY: the handle came from NdisMRegisterMiniportDriver; every adapter is halted.
        unsafe { NdisMDeregisterMiniportDriver(h as NDIS_HANDLE) };
    }
}

/// MiniportSetOptions: NdisSetOptionalHandlers twice — the CoNDIS miniport characteristics
/// (CoCreateVc/CoDeleteVc NULL, as an MCM must) and the call-manager handlers (all set).
unsafe extern "system" fn set_options(driver_handle: NDIS_HANDLE, _driver_context: NDIS_HANDLE) -> NDIS_STATUS {
    let mut co = NDIS_MINIPORT_CO_CHARACTERISTICS {
        Header: NDIS_OBJECT_HEADER::new(
            NDIS_OBJECT_TYPE_CO_MINIPORT_CHARACTERISTICS,
            NDIS_MINIPORT_CO_CHARACTERISTICS_REVISION_1,
            NDIS_SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1,
        ),
        Flags: 0,
        CoCreateVcHandler: None,
        CoDeleteVcHandler: None,
        CoActivateVcHandler: Some(co_activate_vc),
        CoDeactivateVcHandler: Some(co_deactivate_vc),
        CoSendNetBufferListsHandler: Some(co_send_net_buffer_lists),
        CoOidRequestHandler: Some(co_oid_request),
    };
    // SAFETY: PASSIVE; NDIS copies the structure.
    let st = unsafe { NdisSetOptionalHandlers(driver_handle, &mut co.Header) };
    if st != NDIS_STATUS_SUCCESS {
        return st;
    }
    let mut cmh = cm::handlers();
    // SAFETY: as above.
    unsafe { NdisSetOptionalHandlers(driver_handle, &mut cmh.Header) }
}

// ---- initialise / halt ----------------------------------------------------------------------------

fn claim_slot() -> Option<usize> {
    SLOTS.iter().position(|s| s.claimed.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok())
}

/// MiniportInitializeEx.
unsafe extern "system" fn initialize(
    handle: NDIS_HANDLE,
    _driver_context: NDIS_HANDLE,
    params: PNDIS_MINIPORT_INIT_PARAMETERS,
) -> NDIS_STATUS {
    let Some(i) = claim_slot() else {
        return NdisStatus::RESOURCES.0;
    };
    // SAFETY: NDIS's own handle and parameters, PASSIVE.
    let st = unsafe { initialize_slot(i, handle, params) };
    if let Err(e) = st {
        if let Some(s) = SLOTS.get(i) {
            s.claimed.store(false, Ordering::Release);
        }
        return e.0;
    }
    NDIS_STATUS_SUCCESS
}

/// # Safety
/// As MiniportInitializeEx.
///
/// Each step is its own non-inlined function, so their temporaries (attribute blocks, the core's
/// construction) share stack space instead of adding up in one frame (issue 7 item 10;
/// `scripts/stack-check` bounds every frame).
unsafe fn initialize_slot(
    i: usize,
    handle: NDIS_HANDLE,
    params: PNDIS_MINIPORT_INIT_PARAMETERS,
) -> Result<(), NdisStatus> {
    let slot: &'static Slot = SLOTS.get(i).ok_or(NdisStatus::RESOURCES)?;
    // 1. Registration attributes: must come first.
    // SAFETY: NDIS's handle, PASSIVE.
    unsafe { set_registration_attributes(handle, slot) }?;
    // 2. Configuration (Ndi\params).
    // SAFETY: our adapter handle, PASSIVE.
    let config = unsafe { registry::read_config(handle) };
    // 3. Scatter-gather DMA: NdisMAllocateSharedMemory (the NIC's rings) needs it registered.
    // SAFETY: as above; bus-master adapter.
    let dma_guard = unsafe { register_sg_dma(handle) }?;
    // 4. The NIC: BAR 0 mapped, ID checked, reset, rings allocated and programmed, enabled; its
    //    DPC-side INT_MASK updates go through NdisMSynchronizeWithInterruptEx. Declared after
    //    `dma_guard`, so on every error below it is dropped (NIC reset, shared memory freed, BAR
    //    unmapped) before the DMA registration goes.
    // SAFETY: NDIS's init parameters.
    let resources = unsafe { params.as_ref() }.map_or(core::ptr::null_mut(), |p| p.AllocatedResources);
    // SAFETY: NDIS's resource list and our handle; DMA registered above; PASSIVE.
    let device = unsafe { open_device(handle, resources, i) }?;
    // 5. General attributes: an ATM medium.
    // SAFETY: NDIS's handle, PASSIVE.
    unsafe { set_general_attributes(handle, &config) }?;
    // 6. NDIS resources for the core (timer, DPC, RX pool, call-parameter blocks), the core, and
    //    the holder, published.
    // SAFETY: our adapter handle; the slot is static.
    let holder = unsafe { build_holder(i, slot, handle, dma_guard, device, config) }?;
    // 7. The interrupt, once the routines can find the adapter.
    // SAFETY: NDIS's resource list.
    if unsafe { device::has_interrupt(resources) } {
        // SAFETY: NDIS's handle, PASSIVE; the holder is published.
        if let Err(e) = unsafe { register_interrupt(handle, slot, holder) } {
            teardown(slot);
            return Err(e);
        }
    }
    // 8. NdisMCmRegisterAddressFamilyEx and signalling start.
    let st = holder.adapter.start();
    if st.is_error() {
        teardown(slot);
        return Err(st);
    }
    Ok(())
}

/// # Safety
/// NDIS's adapter handle, PASSIVE.
#[inline(never)]
unsafe fn set_registration_attributes(handle: NDIS_HANDLE, slot: &'static Slot) -> Result<(), NdisStatus> {
    let mut reg = NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES {
        Header: NDIS_OBJECT_HEADER::new(
            NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
            NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
            NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
        ),
        MiniportAdapterContext: slot.context(),
        // A CoNDIS (NOT_CO_NDIS clear) bus-master PCI device.
        AttributeFlags: NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE
            | NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER
            | NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK,
        CheckForHangTimeInSeconds: 0,
        InterfaceType: NdisInterfacePci,
    };
    // SAFETY: PASSIVE; NDIS copies the attributes.
    ok(unsafe { NdisMSetMiniportAttributes(handle, &mut reg.Header) })
}

/// # Safety
/// NDIS's adapter handle, PASSIVE, registration attributes set.
#[inline(never)]
unsafe fn register_sg_dma(handle: NDIS_HANDLE) -> Result<DmaGuard, NdisStatus> {
    let mut sg = NDIS_SG_DMA_DESCRIPTION {
        Header: NDIS_OBJECT_HEADER::new(
            NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION,
            NDIS_SG_DMA_DESCRIPTION_REVISION_1,
            NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1,
        ),
        Flags: NDIS_SG_DMA_64_BIT_ADDRESS,
        MaximumPhysicalMapping: 65536,
        ProcessSGListHandler: Some(process_sg_list),
        SharedMemAllocateCompleteHandler: None,
        ScatterGatherListSize: 0,
    };
    let mut dma: NDIS_HANDLE = core::ptr::null_mut();
    // SAFETY: PASSIVE; bus-master adapter.
    ok(unsafe { NdisMRegisterScatterGatherDma(handle, &mut sg, &mut dma) })?;
    Ok(DmaGuard(dma))
}

/// # Safety
/// NDIS's adapter handle, PASSIVE.
#[inline(never)]
unsafe fn set_general_attributes(handle: NDIS_HANDLE, config: &Config) -> Result<(), NdisStatus> {
    let mut general = NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES {
        Header: NDIS_OBJECT_HEADER::new(
            NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
            NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1,
            NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1,
        ),
        Flags: 0,
        MediaType: NdisMediumAtm,
        PhysicalMediumType: NdisPhysicalMediumUnspecified,
        MtuSize: MTU,
        MaxXmitLinkSpeed: config.link_speed_bps,
        XmitLinkSpeed: config.link_speed_bps,
        MaxRcvLinkSpeed: config.link_speed_bps,
        RcvLinkSpeed: config.link_speed_bps,
        MediaConnectState: MediaConnectStateUnknown,
        MediaDuplexState: MediaDuplexStateFull,
        LookaheadSize: MTU,
        PowerManagementCapabilities: core::ptr::null_mut(),
        MacOptions: NDIS_MAC_OPTION_NDISWAN,
        SupportedPacketFilters: 0,
        MaxMulticastListSize: 0,
        // The ESI is the ATM address's hardware part (OID_ATM_HW_CURRENT_ADDRESS), not a MAC
        // address NDIS would filter on.
        MacAddressLength: 0,
        PermanentMacAddress: [0; 32],
        CurrentMacAddress: [0; 32],
        RecvScaleCapabilities: core::ptr::null_mut(),
        AccessType: NET_IF_ACCESS_POINT_TO_MULTI_POINT,
        DirectionType: NET_IF_DIRECTION_SENDRECEIVE,
        ConnectionType: NET_IF_CONNECTION_DEDICATED,
        IfType: IF_TYPE_ATM,
        IfConnectorPresent: 1,
        SupportedStatistics: 0,
        SupportedPauseFunctions: 0,
        DataBackFillSize: 0,
        ContextBackFillSize: 0,
        SupportedOidList: SUPPORTED_OIDS.as_ptr(),
        SupportedOidListLength: core::mem::size_of_val(&SUPPORTED_OIDS) as u32,
        AutoNegotiationFlags: 0,
    };
    // SAFETY: PASSIVE; NDIS copies the attributes and the OID list.
    ok(unsafe { NdisMSetMiniportAttributes(handle, &mut general.Header) })
}

/// WinNdis, the core and the holder (fallible allocation throughout), published in the slot. The
/// core is built straight into its heap block (`Adapter::initialize` returns into it): its
/// 2.5 KiB never sit on this stack.
///
/// # Safety
/// NDIS's adapter handle, PASSIVE; `slot` is slot `i`.
#[inline(never)]
unsafe fn build_holder(
    i: usize,
    slot: &'static Slot,
    handle: NDIS_HANDLE,
    // Before `device`: parameters drop in reverse order, so on an early return the NIC is reset
    // and its shared memory freed before the DMA registration goes.
    dma_guard: DmaGuard,
    device: WinDevice,
    config: Config,
) -> Result<&'static Holder, NdisStatus> {
    let mut core = try_box_uninit::<Result<WinAdapter, NdisStatus>>().map_err(|_| NdisStatus::RESOURCES)?;
    let rx = config.ring_size.saturating_mul(RX_NBLS_PER_RING_SLOT);
    // SAFETY: our adapter handle; the slot is static.
    let ndis = unsafe { WinNdis::new(i, slot.context(), handle, rx, config.max_vcs, timer_routine, dpc_routine) }?;
    build_core(&mut core, ndis, device, config);
    // SAFETY: written just above.
    let adapter = CoreBox::new(unsafe { core.assume_init() })?;
    let holder = try_box(Holder { adapter, interrupt: AtomicUsize::new(0), dma: dma_guard.take() })
        .map_err(|_| NdisStatus::RESOURCES)?;
    let p = Box::into_raw(holder);
    slot.adapter.store(p, Ordering::Release);
    // SAFETY: leaked just above; freed only by teardown.
    Ok(unsafe { &*p })
}

/// `Adapter::initialize` straight into its heap block: with the destination a `noalias`
/// parameter the result is returned into it (call-slot), not built in `build_holder`'s frame and
/// copied (issue 7 item 10; scripts/stack-check bounds the frames).
#[inline(never)]
fn build_core(
    out: &mut core::mem::MaybeUninit<Result<WinAdapter, NdisStatus>>,
    ndis: WinNdis,
    device: WinDevice,
    config: Config,
) {
    out.write(Adapter::initialize(ndis, device, config));
}

/// The adapter in its own heap block, as `Adapter::initialize` returned it (always `Ok`: the
/// only constructor refuses an `Err`), so it is never copied across the stack.
pub struct CoreBox(Box<Result<WinAdapter, NdisStatus>>);

impl CoreBox {
    fn new(b: Box<Result<WinAdapter, NdisStatus>>) -> Result<CoreBox, NdisStatus> {
        match *b {
            Ok(_) => Ok(CoreBox(b)),
            Err(e) => Err(e),
        }
    }
}

impl core::ops::Deref for CoreBox {
    type Target = WinAdapter;
    fn deref(&self) -> &WinAdapter {
        match &*self.0 {
            Ok(a) => a,
            // SAFETY: `CoreBox::new` is the only constructor and accepts only `Ok`.
            Err(_) => unsafe { core::hint::unreachable_unchecked() },
        }
    }
}

/// The NIC's rings. The receive ring holds 1024 buffers of 2 KiB: a frame of the largest max SDU
/// a VC can negotiate (65 535) takes 32, so the default 256 held 8 and a burst of such frames
/// overran it before the DPC reposted (the sys-lab's data-path sweep lost frames at the NIC).
/// The lab's in-process driver runs the same rings.
fn nic_config() -> RegNicConfig {
    RegNicConfig { rx_ring: 1024, rxc_ring: 1024, ..RegNicConfig::default() }
}

/// # Safety
/// As [`device::open`].
#[inline(never)]
unsafe fn open_device(handle: NDIS_HANDLE, resources: PNDIS_RESOURCE_LIST, i: usize) -> Result<WinDevice, NdisStatus> {
    // SAFETY: caller's contract.
    let nic = unsafe { device::open(handle, resources, nic_config()) }?;
    Ok(nic.with_irq_sync(IrqSync { run: sync_with_interrupt, ctx: i }))
}

/// # Safety
/// NDIS's adapter handle, PASSIVE; `holder` is the slot's published adapter.
#[inline(never)]
unsafe fn register_interrupt(handle: NDIS_HANDLE, slot: &'static Slot, holder: &Holder) -> Result<(), NdisStatus> {
    let mut ic = NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS {
        Header: NDIS_OBJECT_HEADER::new(
            NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
            NDIS_MINIPORT_INTERRUPT_REVISION_1,
            NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1,
        ),
        InterruptHandler: Some(isr),
        InterruptDpcHandler: Some(interrupt_dpc),
        DisableInterruptHandler: Some(disable_interrupt),
        EnableInterruptHandler: Some(enable_interrupt),
        MsiSupported: 0,
        MsiSyncWithAllMessages: 0,
        MessageInterruptHandler: core::ptr::null_mut(),
        MessageInterruptDpcHandler: core::ptr::null_mut(),
        DisableMessageInterruptHandler: core::ptr::null_mut(),
        EnableMessageInterruptHandler: core::ptr::null_mut(),
        InterruptType: 0,
        MessageInfoTable: core::ptr::null_mut(),
    };
    let mut ih: NDIS_HANDLE = core::ptr::null_mut();
    // SAFETY: PASSIVE; the slot pointer is the interrupt context.
    ok(unsafe { NdisMRegisterInterruptEx(handle, slot.context(), &mut ic, &mut ih) })?;
    holder.interrupt.store(ih as usize, Ordering::Release);
    Ok(())
}

/// [`IrqSync`] for the NIC: runs `body` under the interrupt's spin lock
/// (NdisMSynchronizeWithInterruptEx), or directly while no interrupt is registered (no ISR,
/// Disable- or EnableInterrupt can run then).
fn sync_with_interrupt(slot: usize, body: &mut dyn FnMut()) {
    let ih = adapter_at(slot).map_or(0, |h| h.interrupt.load(Ordering::Acquire));
    if ih == 0 {
        body();
        return;
    }
    let mut body = body;
    let ctx: *mut &mut dyn FnMut() = &mut body;
    // SAFETY: the handle is registered (halt clears it and flushes DPCs before deregistering);
    // `ctx` outlives the call, which runs `synchronized_body` once before returning.
    unsafe { NdisMSynchronizeWithInterruptEx(ih as NDIS_HANDLE, 0, Some(synchronized_body), ctx.cast()) };
}

/// MiniportSynchronizeInterrupt: runs the body [`sync_with_interrupt`] passed.
unsafe extern "system" fn synchronized_body(ctx: NDIS_HANDLE) -> BOOLEAN {
    // SAFETY: `ctx` is the `&mut &mut dyn FnMut()` sync_with_interrupt passed, live for the call.
    if let Some(body) = unsafe { ctx.cast::<&mut dyn FnMut()>().as_mut() } {
        body();
    }
    1
}

fn ok(st: NDIS_STATUS) -> Result<(), NdisStatus> {
    if st == NDIS_STATUS_SUCCESS { Ok(()) } else { Err(NdisStatus(st)) }
}

/// Deregisters the DMA handle unless taken.
struct DmaGuard(NDIS_HANDLE);

impl DmaGuard {
    fn take(self) -> usize {
        let h = self.0 as usize;
        core::mem::forget(self);
        h
    }
}

impl Drop for DmaGuard {
    fn drop(&mut self) {
        // SAFETY: the handle came from NdisMRegisterScatterGatherDma and no SG list is in use.
        unsafe { NdisMDeregisterScatterGatherDma(self.0) };
    }
}

/// One slot's [`Teardown`] steps over its published holder.
struct SlotTeardown {
    slot: &'static Slot,
    holder: *mut Holder,
    /// The holder's DMA handle, copied out before `free`.
    dma: usize,
}

impl Teardown for SlotTeardown {
    fn mask_interrupts(&self) {
        // SAFETY: the holder is live until `free`.
        unsafe { &*self.holder }.adapter.parts().1.mask_interrupts();
    }

    fn deregister_interrupt(&self) {
        // SAFETY: as above.
        let h = unsafe { &*self.holder };
        // From here the NIC's synchronizer runs bodies directly (they find the interrupt masked
        // and disabled, so they write nothing); wait for any DPC still inside
        // NdisMSynchronizeWithInterruptEx with the old handle before deregistering it.
        let interrupt = h.interrupt.swap(0, Ordering::AcqRel);
        if interrupt != 0 {
            // SAFETY: PASSIVE.
            unsafe { KeFlushQueuedDpcs() };
            // SAFETY: registered in initialize; after this no ISR or interrupt DPC runs.
            unsafe { NdisMDeregisterInterruptEx(interrupt as NDIS_HANDLE) };
        }
    }

    fn unpublish(&self) {
        self.slot.adapter.store(core::ptr::null_mut(), Ordering::Release);
    }

    fn quiesce(&self) {
        // Routines that loaded the pointer before it was unpublished finish before the free.
        // SAFETY: as above.
        unsafe { &*self.holder }.adapter.parts().0.quiesce();
    }

    fn free(&self) {
        // SAFETY: unpublished and quiesced: nothing else refers to the holder, which came from
        // Box::into_raw in build_holder.
        drop(unsafe { Box::from_raw(self.holder) });
    }

    fn deregister_dma(&self) {
        if self.dma != 0 {
            // SAFETY: every user of the DMA handle is gone (the adapter was freed).
            unsafe { NdisMDeregisterScatterGatherDma(self.dma as NDIS_HANDLE) };
        }
    }
}

/// Tears the slot's adapter down in [`teardown::run`]'s order: NIC interrupts masked, interrupt
/// deregistered, adapter unpublished, routines flushed, the adapter's own resources freed (WinNdis
/// releases its own; WinDevice resets the NIC, frees the shared memory and unmaps the BAR), then
/// the DMA registration. PASSIVE.
fn teardown(slot: &'static Slot) {
    let p = slot.adapter.load(Ordering::Acquire);
    if p.is_null() {
        return;
    }
    // SAFETY: published by build_holder; only teardown (PASSIVE, serialized by NDIS) frees it.
    let dma = unsafe { &*p }.dma;
    teardown::run(&SlotTeardown { slot, holder: p, dma });
    slot.claimed.store(false, Ordering::Release);
}

/// MiniportHaltEx.
unsafe extern "system" fn halt(ctx: NDIS_HANDLE, _action: NDIS_HALT_ACTION) {
    let Some(slot) = slot_of(ctx) else { return };
    if let Some(h) = slot.adapter() {
        // Between checks for the clients' teardown, sleep 1 ms (PASSIVE).
        h.adapter.halt(|| {
            // SAFETY: MiniportHaltEx runs at PASSIVE_LEVEL.
            unsafe { NdisMSleep(1000) }
        });
    }
    teardown(slot);
}

unsafe extern "system" fn pause(ctx: NDIS_HANDLE, _params: PVOID) -> NDIS_STATUS {
    holder_of(ctx).map_or(NDIS_STATUS_SUCCESS, |h| h.adapter.pause().0)
}

unsafe extern "system" fn restart(ctx: NDIS_HANDLE, _params: PVOID) -> NDIS_STATUS {
    holder_of(ctx).map_or(NDIS_STATUS_FAILURE, |h| h.adapter.restart().0)
}

/// MiniportShutdownEx (any IRQL, possibly during a bugcheck): register writes only — interrupts
/// masked and the NIC reset, which stops its DMA; no lock, no wait, no NDIS call.
unsafe extern "system" fn shutdown(ctx: NDIS_HANDLE, _action: NDIS_SHUTDOWN_ACTION) {
    if let Some(h) = holder_of(ctx) {
        h.adapter.shutdown();
        h.adapter.parts().1.shutdown();
    }
}

unsafe extern "system" fn device_pnp_event_notify(ctx: NDIS_HANDLE, event: PNET_DEVICE_PNP_EVENT) {
    // SAFETY: NDIS's event structure, valid for the call.
    let Some(ev) = (unsafe { event.as_ref() }) else { return };
    if ev.DevicePnPEvent == NdisDevicePnPEventSurpriseRemoved
        && let Some(h) = holder_of(ctx)
    {
        h.adapter.surprise_removed();
    }
}

unsafe extern "system" fn reset(_ctx: NDIS_HANDLE, addressing_reset: PBOOLEAN) -> NDIS_STATUS {
    // SAFETY: NDIS's out-parameter.
    if let Some(a) = unsafe { addressing_reset.as_mut() } {
        *a = 0;
    }
    NDIS_STATUS_SUCCESS
}

unsafe extern "system" fn cancel_send(_ctx: NDIS_HANDLE, _cancel_id: PVOID) {}

unsafe extern "system" fn cancel_oid_request(_ctx: NDIS_HANDLE, _request_id: PVOID) {}

// ---- timer, DPC, interrupt -------------------------------------------------------------------------

unsafe extern "system" fn timer_routine(_s1: PVOID, ctx: PVOID, _s2: PVOID, _s3: PVOID) {
    if let Some(h) = holder_of(ctx) {
        h.adapter.timer();
    }
}

unsafe extern "system" fn dpc_routine(_dpc: PKDPC, ctx: PVOID, _a1: PVOID, _a2: PVOID) {
    if let Some(h) = holder_of(ctx) {
        h.adapter.dpc();
    }
}

/// MiniportInterrupt (DIRQL): claims the line when the NIC has an unmasked cause pending and masks
/// it until the DPC's poll acknowledges and unmasks; NDIS then queues the DPC. A NIC that reads
/// all-ones (surprise-removed) is never ours.
unsafe extern "system" fn isr(ctx: NDIS_HANDLE, queue_dpc: PBOOLEAN, _target: PULONG) -> BOOLEAN {
    let Some(h) = holder_of(ctx) else { return 0 };
    let ours = h.adapter.parts().1.interrupt();
    // SAFETY: NDIS's out-parameter.
    if let Some(q) = unsafe { queue_dpc.as_mut() } {
        *q = u8::from(ours);
    }
    u8::from(ours)
}

/// MiniportInterruptDPC: the adapter's DPC (polls the NIC, which unmasks its interrupt).
unsafe extern "system" fn interrupt_dpc(ctx: NDIS_HANDLE, _dpc_ctx: PVOID, _r1: PVOID, _r2: PVOID) {
    if let Some(h) = holder_of(ctx) {
        h.adapter.dpc();
    }
}

/// MiniportDisableInterruptEx (under the interrupt lock): masks every NIC interrupt source until
/// MiniportEnableInterruptEx (the DPC's unmask is synchronized and respects it).
unsafe extern "system" fn disable_interrupt(ctx: NDIS_HANDLE) {
    if let Some(h) = holder_of(ctx) {
        h.adapter.parts().1.disable_interrupts();
    }
}

/// MiniportEnableInterruptEx (under the interrupt lock): unmasks them.
unsafe extern "system" fn enable_interrupt(ctx: NDIS_HANDLE) {
    if let Some(h) = holder_of(ctx) {
        h.adapter.parts().1.enable_interrupts();
    }
}

/// Never called: RegNic copies every frame into its own shared-memory TX buffers, so no
/// scatter-gather list is ever requested (the registration exists for NdisMAllocateSharedMemory).
unsafe extern "system" fn process_sg_list(_d: PDEVICE_OBJECT, _r: PVOID, _sg: PSCATTER_GATHER_LIST, _c: PVOID) {}

// ---- data path ------------------------------------------------------------------------------------------

/// MiniportCoSendNetBufferLists. Every word that names a published adapter goes to the core.
///
/// Issue 7 item 11: which words can NDIS pass here? Only the MiniportVcContext of a VC NDIS
/// knows — from ProtocolCoCreateVc (client VC) or NdisMCmCreateVc (the driver's) until
/// ProtocolCoDeleteVc / NdisMCmDeleteVc; after that the NdisVcHandle is freed and a send on it is
/// the client's use-after-free, which NDIS does not forward. For that whole span the core's data
/// path slot holds the word's generation and its NdisVcHandle (bound at ProtocolCoCreateVc, and
/// for the driver's VCs at NdisMCmCreateVc, whose connection is opened first; forgotten only
/// after the delete), so the core completes every NBL: queued, CLOSING, VC_NOT_ACTIVATED or
/// RESOURCES (`tests/sys_defects.rs`: a created, never activated VC and a closed, not deleted one).
/// A stale generation (`DataStats::stale_context`) or a word naming no adapter
/// ([`UNROUTABLE_SENDS`]) can only come from a send on a deleted VC: no NdisVcHandle exists to
/// complete on, so they are counted, not completed.
unsafe extern "system" fn co_send_net_buffer_lists(vc: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    let Some(n) = Nbl::from_ptr(nbls) else { return };
    let routed = by_word(vc).and_then(|(a, token)| Some((a, VcContext::from_usize(token)?)));
    match routed {
        Some((a, vc)) => a.miniport_co_send_net_buffer_lists(vc, n, flags),
        None => {
            UNROUTABLE_SENDS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// MiniportSendNetBufferLists (connectionless sends: not supported on a CoNDIS adapter; every NBL
/// is completed with NDIS_STATUS_NOT_SUPPORTED).
unsafe extern "system" fn send_net_buffer_lists(
    ctx: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    _port: NDIS_PORT_NUMBER,
    flags: ULONG,
) {
    let Some(h) = holder_of(ctx) else { return };
    let ndis = h.adapter.parts().0;
    let mut n = Nbl::from_ptr(nbls);
    while let Some(cur) = n {
        ndis.nbl_set_status(cur, NdisStatus::NOT_SUPPORTED);
        n = ndis.nbl_next(cur);
    }
    let dispatch =
        if flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL != 0 { NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL } else { 0 };
    // SAFETY: returns NDIS's own NBLs.
    unsafe { NdisMSendNetBufferListsComplete(ndis.adapter_handle(), nbls, dispatch) };
}

/// MiniportReturnNetBufferLists.
unsafe extern "system" fn return_net_buffer_lists(ctx: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    let Some(n) = Nbl::from_ptr(nbls) else { return };
    if let Some(h) = holder_of(ctx) {
        h.adapter.miniport_return_net_buffer_lists(n, flags);
    }
}

/// MiniportCoActivateVc: NDIS does not call it for an MCM's own VCs.
unsafe extern "system" fn co_activate_vc(_vc: NDIS_HANDLE, _params: PCO_CALL_PARAMETERS) -> NDIS_STATUS {
    NDIS_STATUS_SUCCESS
}

/// MiniportCoDeactivateVc: as above.
unsafe extern "system" fn co_deactivate_vc(_vc: NDIS_HANDLE) -> NDIS_STATUS {
    NDIS_STATUS_SUCCESS
}

// ---- OID requests -----------------------------------------------------------------------------------------

/// Runs `f` over an `NDIS_OID_REQUEST` seen as an [`OidRequest`], then writes back the byte counts.
///
/// # Safety
/// `req` is NULL or NDIS's request, valid (with its information buffer) for the call.
pub unsafe fn with_oid_request(
    req: PNDIS_OID_REQUEST,
    f: impl FnOnce(&mut OidRequest<'_>) -> NdisStatus,
) -> NDIS_STATUS {
    // SAFETY: caller's contract.
    let Some(r) = (unsafe { req.as_mut() }) else {
        return NdisStatus::INVALID_PARAMETER.0;
    };
    let ty = r.RequestType;
    let is_query = if ty == NdisRequestQueryInformation || ty == NdisRequestQueryStatistics {
        true
    } else if ty == NdisRequestSetInformation {
        false
    } else {
        return NdisStatus::NOT_SUPPORTED.0;
    };
    // QUERY and SET share Oid / InformationBuffer / InformationBufferLength.
    // SAFETY: reading the union through its QUERY arm: the three leading fields are common.
    let q = unsafe { r.DATA.QUERY_INFORMATION };
    let len = q.InformationBufferLength as usize;
    let buffer: &mut [u8] = if len == 0 {
        &mut []
    } else if q.InformationBuffer.is_null() {
        return NdisStatus::INVALID_PARAMETER.0;
    } else {
        // SAFETY: NDIS's information buffer of InformationBufferLength octets, exclusively ours
        // for the duration of the request.
        unsafe { core::slice::from_raw_parts_mut(q.InformationBuffer.cast::<u8>(), len) }
    };
    let mut o = OidRequest { oid: q.Oid, buffer, is_query, bytes_done: 0, bytes_needed: 0 };
    let st = f(&mut o);
    let done = u32::try_from(o.bytes_done.min(len)).unwrap_or(0);
    let needed = u32::try_from(o.bytes_needed).unwrap_or(u32::MAX);
    // Writing a union arm is safe; each request type uses its own arm.
    if is_query {
        r.DATA.QUERY_INFORMATION.BytesWritten = done;
        r.DATA.QUERY_INFORMATION.BytesNeeded = needed;
    } else {
        r.DATA.SET_INFORMATION.BytesRead = done;
        r.DATA.SET_INFORMATION.BytesNeeded = needed;
    }
    st.0
}

/// MiniportOidRequest (adapter-wide requests).
unsafe extern "system" fn oid_request(ctx: NDIS_HANDLE, req: PNDIS_OID_REQUEST) -> NDIS_STATUS {
    let Some(h) = holder_of(ctx) else {
        return NdisStatus::NOT_ACCEPTED.0;
    };
    // SAFETY: NDIS's request.
    unsafe { with_oid_request(req, |o| h.adapter.miniport_co_oid_request(None, o)) }
}

/// MiniportCoOidRequest (requests without an AF handle, optionally on a VC).
unsafe extern "system" fn co_oid_request(ctx: NDIS_HANDLE, vc: NDIS_HANDLE, req: PNDIS_OID_REQUEST) -> NDIS_STATUS {
    let Some(h) = holder_of(ctx) else {
        return NdisStatus::NOT_ACCEPTED.0;
    };
    let vc = if vc.is_null() {
        None
    } else {
        match ctx::decode(vc as usize).and_then(|(_, t)| VcContext::from_usize(t)) {
            Some(v) => Some(v),
            None => return NdisStatus::INVALID_PARAMETER.0,
        }
    };
    // SAFETY: NDIS's request.
    unsafe { with_oid_request(req, |o| h.adapter.miniport_co_oid_request(vc, o)) }
}
