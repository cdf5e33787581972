//! NDIS.SYS on the Microsoft x64 ABI, miniport side: registration, attributes, configuration,
//! DMA and BAR0, timers, memory, NBL / NB / MDL pools. Every structure is read with
//! `layout` (ndis6-facts.tsv), and validated as NDIS validates it: a wrong type, a revision NDIS
//! does not know or a size below the revision's fails the call; a size that is not exactly the
//! WDK's `NDIS_SIZEOF_*_REVISION_n` for the declared revision is recorded (`SYS-HEADER-SIZE`).

use std::sync::Arc;
use std::time::Duration;

use atmmcm::Ndis;

use crate::host::Irql;

use super::host::{self, CmHandlers, CoChars, DriverChars, Host, Timer, host};
use super::layout::{self as l, Header, rd, wr};
use super::rule;

const OK: u32 = l::ST_SUCCESS as u32;
const FAIL: u32 = l::ST_FAILURE as u32;
const INVALID: u32 = l::ST_INVALID_PARAMETER as u32;
const RESOURCES: u32 = l::ST_RESOURCES as u32;

/// Checks an object header: type, one of the known revisions (with the exact size of each),
/// size at least the revision's. Returns the header or the refusal.
pub fn check_header(h: &Host, func: &str, p: usize, ty: u64, revisions: &[(u64, u64)]) -> Result<Header, u32> {
    if p == 0 {
        h.finding(rule::NULL, format!("{func}: NULL object"));
        return Err(INVALID);
    }
    // SAFETY: the driver's object; the header is its first 4 bytes.
    let hd = unsafe { Header::read(p) };
    if u64::from(hd.ty) != ty {
        h.finding(rule::HEADER_TYPE, format!("{func}: header type {:#x}, want {ty:#x}", hd.ty));
        return Err(INVALID);
    }
    let Some(&(_, size)) = revisions.iter().find(|(r, _)| *r == u64::from(hd.revision)) else {
        h.finding(rule::HEADER_REVISION, format!("{func}: revision {} unknown", hd.revision));
        return Err(INVALID);
    };
    if u64::from(hd.size) < size {
        h.finding(rule::HEADER_SIZE, format!("{func}: size {:#x} below {size:#x} (revision {})", hd.size, hd.revision));
        return Err(INVALID);
    }
    if u64::from(hd.size) != size {
        h.finding(
            rule::HEADER_SIZE,
            format!("{func}: size {:#x}, the WDK's NDIS_SIZEOF for revision {} is {size:#x}", hd.size, hd.revision),
        );
    }
    Ok(hd)
}

pub fn adapter_ok(h: &Host, func: &str, handle: usize) -> bool {
    if handle != h as *const Host as usize {
        h.finding(rule::HANDLE, format!("{func}: {handle:#x} is not this adapter's handle"));
        return false;
    }
    true
}

// ---- registration ----------------------------------------------------------------------------

pub extern "win64" fn ndis_m_register_miniport_driver(
    driver_object: usize,
    registry_path: usize,
    driver_context: usize,
    chars: usize,
    out_handle: usize,
) -> u32 {
    let h = host();
    h.require_irql("NdisMRegisterMiniportDriver", Irql::Passive);
    if driver_object == 0 || registry_path == 0 || out_handle == 0 {
        h.finding(rule::NULL, "NdisMRegisterMiniportDriver: NULL argument".into());
        return INVALID;
    }
    let revs = [(1, l::SIZEOF_DRIVER_CHARS_REV_1), (l::DRIVER_CHARS_REVISION_2, l::SIZEOF_DRIVER_CHARS_REV_2)];
    let hd = match check_header(h, "NdisMRegisterMiniportDriver", chars, l::OBJ_TYPE_DRIVER_CHARS, &revs) {
        Ok(hd) => hd,
        Err(s) => return s,
    };
    // SAFETY: the driver's characteristics, at least the revision's size (checked above).
    let (r8, r32, r64) = unsafe {
        (|o: u64| rd::<1>(chars, o) as u8, |o: u64| rd::<4>(chars, o) as u32, |o: u64| rd::<8>(chars, o) as usize)
    };
    let c = DriverChars {
        major: r8(l::DC_MAJOR),
        minor: r8(l::DC_MAJOR + 1),
        revision: hd.revision,
        size: hd.size,
        flags: r32(l::DC_MAJOR + 4),
        set_options: r64(l::DC_SET_OPTIONS),
        initialize: r64(l::DC_INITIALIZE),
        halt: r64(l::DC_HALT),
        unload: r64(l::DC_UNLOAD),
        pause: r64(l::DC_PAUSE),
        restart: r64(l::DC_RESTART),
        oid: r64(l::DC_OID),
        send: r64(l::DC_SEND),
        ret: r64(l::DC_RETURN),
        cancel_send: r64(l::DC_CANCEL_SEND),
        check_for_hang: r64(l::DC_CHECK_FOR_HANG),
        reset: r64(l::DC_RESET),
        pnp: r64(l::DC_PNP),
        shutdown: r64(l::DC_SHUTDOWN),
        cancel_oid: r64(l::DC_CANCEL_OID),
    };
    // NDIS 6.x only; 6.20 wants revision 2.
    let ver_ok = c.major == 6 && matches!(c.minor, 0 | 1 | 0x14 | 0x1E);
    if !ver_ok {
        h.finding(rule::VERSION, format!("NdisMRegisterMiniportDriver: NDIS {}.{} not supported", c.major, c.minor));
        return INVALID;
    }
    if c.minor >= 0x14 && u64::from(c.revision) < l::DRIVER_CHARS_REVISION_2 {
        h.finding(rule::VERSION, "NdisMRegisterMiniportDriver: NDIS 6.20 needs characteristics revision 2".into());
        return INVALID;
    }
    let required = [
        ("InitializeHandlerEx", c.initialize),
        ("HaltHandlerEx", c.halt),
        ("UnloadHandler", c.unload),
        ("PauseHandler", c.pause),
        ("RestartHandler", c.restart),
        ("OidRequestHandler", c.oid),
        ("SendNetBufferListsHandler", c.send),
        ("ReturnNetBufferListsHandler", c.ret),
        ("CancelSendHandler", c.cancel_send),
        ("DevicePnPEventNotifyHandler", c.pnp),
        ("ShutdownHandlerEx", c.shutdown),
        ("CancelOidRequestHandler", c.cancel_oid),
    ];
    for (name, p) in required {
        if p == 0 {
            h.finding(rule::CHARS, format!("NdisMRegisterMiniportDriver: {name} is NULL"));
            return INVALID;
        }
    }
    {
        let mut st = h.st();
        st.chars = Some(c.clone());
        st.driver_context = driver_context;
    }
    let handle = h as *const Host as usize;
    // SAFETY: the driver's out-pointer.
    unsafe { wr::<8>(out_handle, 0, handle as u64) };
    // NDIS calls MiniportSetOptions inside the registration.
    if c.set_options != 0 {
        // SAFETY: the driver's MiniportSetOptions (NDIS_HANDLE, NDIS_HANDLE) -> NDIS_STATUS.
        let f: extern "win64" fn(usize, usize) -> u32 = unsafe { std::mem::transmute(c.set_options) };
        let st = f(handle, driver_context);
        if st != OK {
            h.st().chars = None;
            return st;
        }
    }
    OK
}

pub extern "win64" fn ndis_m_deregister_miniport_driver(handle: usize) {
    let h = host();
    if adapter_ok(h, "NdisMDeregisterMiniportDriver", handle) {
        h.st().deregistered = true;
    }
}

pub extern "win64" fn ndis_set_optional_handlers(handle: usize, header: usize) -> u32 {
    let h = host();
    if !adapter_ok(h, "NdisSetOptionalHandlers", handle) || header == 0 {
        return INVALID;
    }
    // SAFETY: the driver's object header.
    let ty = u64::from(unsafe { Header::read(header) }.ty);
    // SAFETY (reads below): the object is at least the revision's size (check_header).
    let r64 = |o: u64| unsafe { rd::<8>(header, o) } as usize;
    if ty == l::OBJ_TYPE_CO_MINIPORT_CHARS {
        if let Err(s) = check_header(h, "NdisSetOptionalHandlers(CO)", header, ty, &[(1, l::SIZEOF_CO_CHARS_REV_1)]) {
            return s;
        }
        let co = CoChars {
            create_vc: r64(l::CO_CREATE_VC),
            delete_vc: r64(l::CO_DELETE_VC),
            activate_vc: r64(l::CO_ACTIVATE_VC),
            deactivate_vc: r64(l::CO_DEACTIVATE_VC),
            send: r64(l::CO_SEND),
            oid: r64(l::CO_OID),
        };
        if co.activate_vc == 0 || co.deactivate_vc == 0 || co.send == 0 || co.oid == 0 {
            h.finding(rule::CHARS, "NDIS_MINIPORT_CO_CHARACTERISTICS: a mandatory handler is NULL".into());
            return INVALID;
        }
        h.st().co = Some(co);
        OK
    } else if ty == l::OBJ_TYPE_CM_OPTIONAL_HANDLERS {
        let revs = [(1, l::SIZEOF_CM_HANDLERS_REV_1)];
        if let Err(s) = check_header(h, "NdisSetOptionalHandlers(CM)", header, ty, &revs) {
            return s;
        }
        let cm = CmHandlers {
            create_vc: r64(l::CM_CREATE_VC),
            delete_vc: r64(l::CM_DELETE_VC),
            open_af: r64(l::CM_OPEN_AF),
            close_af: r64(l::CM_CLOSE_AF),
            register_sap: r64(l::CM_REGISTER_SAP),
            deregister_sap: r64(l::CM_DEREGISTER_SAP),
            make_call: r64(l::CM_MAKE_CALL),
            close_call: r64(l::CM_CLOSE_CALL),
            incoming_call_complete: r64(l::CM_INCOMING_CALL_COMPLETE),
            add_party: r64(l::CM_ADD_PARTY),
            drop_party: r64(l::CM_DROP_PARTY),
            activate_vc_complete: r64(l::CM_ACTIVATE_VC_COMPLETE),
            deactivate_vc_complete: r64(l::CM_DEACTIVATE_VC_COMPLETE),
            modify_qos: r64(l::CM_MODIFY_QOS),
            oid: r64(l::CM_OID),
            oid_complete: r64(l::CM_OID_COMPLETE),
            notify_close_af_complete: r64(l::CM_NOTIFY_CLOSE_AF_COMPLETE),
        };
        let required = [
            ("CmCreateVcHandler", cm.create_vc),
            ("CmDeleteVcHandler", cm.delete_vc),
            ("CmOpenAfHandler", cm.open_af),
            ("CmCloseAfHandler", cm.close_af),
            ("CmRegisterSapHandler", cm.register_sap),
            ("CmDeregisterSapHandler", cm.deregister_sap),
            ("CmMakeCallHandler", cm.make_call),
            ("CmCloseCallHandler", cm.close_call),
            ("CmIncomingCallCompleteHandler", cm.incoming_call_complete),
            ("CmActivateVcCompleteHandler", cm.activate_vc_complete),
            ("CmDeactivateVcCompleteHandler", cm.deactivate_vc_complete),
            ("CmModifyCallQoSHandler", cm.modify_qos),
        ];
        for (name, p) in required {
            if p == 0 {
                h.finding(rule::CHARS, format!("NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.{name} is NULL"));
                return INVALID;
            }
        }
        h.st().cm = Some(cm);
        OK
    } else {
        h.finding(rule::HEADER_TYPE, format!("NdisSetOptionalHandlers: object type {ty:#x}"));
        INVALID
    }
}

pub extern "win64" fn ndis_m_set_miniport_attributes(handle: usize, attrs: usize) -> u32 {
    let h = host();
    h.require_irql("NdisMSetMiniportAttributes", Irql::Passive);
    if !adapter_ok(h, "NdisMSetMiniportAttributes", handle) || attrs == 0 {
        return INVALID;
    }
    // SAFETY: the driver's object header.
    let ty = u64::from(unsafe { Header::read(attrs) }.ty);
    if ty == l::OBJ_TYPE_REGISTRATION_ATTRS {
        let revs = [(1, l::SIZEOF_REGISTRATION_ATTRS_REV_1)];
        if let Err(s) = check_header(h, "NdisMSetMiniportAttributes(registration)", attrs, ty, &revs) {
            return s;
        }
        // SAFETY: at least the revision-1 size (checked).
        let (ctx, flags, iface) = unsafe {
            (
                rd::<8>(attrs, l::RA_CONTEXT) as usize,
                rd::<4>(attrs, l::RA_FLAGS) as u32,
                rd::<4>(attrs, l::RA_INTERFACE),
            )
        };
        let is_co = h.st().co.is_some();
        if is_co && u64::from(flags) & l::ATTR_NOT_CO_NDIS != 0 {
            h.finding(
                rule::ATTR_FLAGS,
                format!("registration attributes: flags {flags:#x} include NOT_CO_NDIS (0x8) on a CoNDIS miniport"),
            );
            return INVALID;
        }
        let known = l::ATTR_HARDWARE_DEVICE
            | l::ATTR_NDIS_WDM
            | l::ATTR_SURPRISE_REMOVE_OK
            | l::ATTR_NOT_CO_NDIS
            | l::ATTR_DO_NOT_BIND_TO_ALL_CO
            | l::ATTR_BUS_MASTER;
        if u64::from(flags) & !known != 0 {
            h.finding(rule::ATTR_FLAGS, format!("registration attributes: unknown flags in {flags:#x}"));
        }
        if ctx == 0 {
            h.finding(rule::ATTR, "registration attributes: MiniportAdapterContext is NULL".into());
            return INVALID;
        }
        if iface != l::INTERFACE_PCI {
            h.finding(rule::ATTR, format!("registration attributes: InterfaceType {iface}, the NIC is PCI"));
        }
        let mut st = h.st();
        st.adapter_context = ctx;
        st.registration_flags = Some(flags);
        OK
    } else if ty == l::OBJ_TYPE_GENERAL_ATTRS {
        if h.st().registration_flags.is_none() {
            h.finding(rule::ATTR_ORDER, "general attributes before the registration attributes".into());
            return FAIL;
        }
        let revs = [(1, l::SIZEOF_GENERAL_ATTRS_REV_1), (2, l::SIZEOF_GENERAL_ATTRS_REV_2)];
        let hd = match check_header(h, "NdisMSetMiniportAttributes(general)", attrs, ty, &revs) {
            Ok(hd) => hd,
            Err(s) => return s,
        };
        // An NDIS 6.20 miniport registers revision-2 general attributes (with
        // PowerManagementCapabilitiesEx); revision 1 is the 6.0/6.1 structure.
        let minor = h.st().chars.as_ref().map_or(0, |c| c.minor);
        if minor >= l::MINIPORT_MINOR_620 as u8 && hd.revision < 2 {
            h.finding(
                rule::VERSION,
                format!(
                    "an NDIS 6.{minor} miniport set revision-{} general attributes (6.20 needs revision 2)",
                    hd.revision
                ),
            );
        }
        // SAFETY: at least the revision-1 size (checked).
        let (media, list, len) = unsafe {
            (
                rd::<4>(attrs, l::GA_MEDIA_TYPE),
                rd::<8>(attrs, l::GA_OID_LIST) as usize,
                rd::<4>(attrs, l::GA_OID_LIST_LENGTH) as usize,
            )
        };
        if media != l::MEDIUM_ATM {
            h.finding(rule::ATTR, format!("general attributes: MediaType {media}, want NdisMediumAtm (8)"));
        }
        let oids = if list != 0 && len >= 4 {
            // SAFETY: the driver's OID list of `len` bytes.
            (0..len / 4).map(|i| unsafe { rd::<4>(list, (i * 4) as u64) } as u32).collect()
        } else {
            Vec::new()
        };
        let mut st = h.st();
        st.general_set = true;
        st.supported_oids = oids;
        OK
    } else {
        h.finding(rule::HEADER_TYPE, format!("NdisMSetMiniportAttributes: object type {ty:#x}"));
        INVALID
    }
}

/// NDIS's own memory (not the driver's pool): zeroed, 16-aligned.
pub fn kernel_alloc(n: usize) -> usize {
    let Ok(layout) = std::alloc::Layout::from_size_align(n.max(1), 16) else { return 0 };
    // SAFETY: non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) } as usize;
    if p == 0 {
        host::fatal("out of memory");
    }
    p
}

pub fn kernel_free(p: usize, n: usize) {
    let Ok(layout) = std::alloc::Layout::from_size_align(n.max(1), 16) else { return };
    // SAFETY: allocated by `kernel_alloc(n)`.
    unsafe { std::alloc::dealloc(p as *mut u8, layout) };
}

// ---- DMA, BAR0 --------------------------------------------------------------------

fn bus_master(h: &Host, func: &str) -> bool {
    let flags = h.st().registration_flags.unwrap_or(0);
    if u64::from(flags) & l::ATTR_BUS_MASTER == 0 {
        h.finding(rule::BUS_MASTER, format!("{func}: the registration attributes ({flags:#x}) lack BUS_MASTER (0x40)"));
        return false;
    }
    true
}

pub extern "win64" fn ndis_m_register_scatter_gather_dma(handle: usize, desc: usize, out: usize) -> u32 {
    let h = host();
    h.require_irql("NdisMRegisterScatterGatherDma", Irql::Passive);
    if !adapter_ok(h, "NdisMRegisterScatterGatherDma", handle) || out == 0 {
        return INVALID;
    }
    if let Err(s) =
        check_header(h, "NdisMRegisterScatterGatherDma", desc, l::OBJ_TYPE_SG_DMA, &[(1, l::SIZEOF_SG_DMA_REV_1)])
    {
        return s;
    }
    if !bus_master(h, "NdisMRegisterScatterGatherDma") {
        return l::ST_NOT_SUPPORTED as u32;
    }
    // SAFETY: the description (size checked).
    let (flags, max_map, process) =
        unsafe { (rd::<4>(desc, l::SG_FLAGS), rd::<4>(desc, l::SG_MAX_MAPPING), rd::<8>(desc, l::SG_PROCESS_SG_LIST)) };
    if flags & !l::SG_DMA_64_BIT != 0 || max_map == 0 || process == 0 {
        h.finding(
            rule::SG_DMA,
            format!("SG DMA description: flags {flags:#x}, max mapping {max_map}, handler {process:#x}"),
        );
        return INVALID;
    }
    let dma = Box::into_raw(Box::new(1u64)) as usize;
    h.st().sg_dma = Some(dma);
    // SAFETY: the driver's out-pointer.
    unsafe { wr::<8>(out, 0, dma as u64) };
    OK
}

pub extern "win64" fn ndis_m_deregister_scatter_gather_dma(dma: usize) {
    let h = host();
    let mut st = h.st();
    if st.sg_dma != Some(dma) {
        drop(st);
        h.finding(rule::HANDLE, format!("NdisMDeregisterScatterGatherDma({dma:#x}): not registered"));
        return;
    }
    st.sg_dma = None;
    // SAFETY: allocated by NdisMRegisterScatterGatherDma.
    drop(unsafe { Box::from_raw(dma as *mut u64) });
}

pub extern "win64" fn ndis_m_allocate_shared_memory(handle: usize, len: u32, _cached: u8, va: usize, pa: usize) {
    let h = host();
    h.require_irql("NdisMAllocateSharedMemory", Irql::Passive);
    let put = |v: usize| {
        // SAFETY: the driver's out-pointers (PVOID, NDIS_PHYSICAL_ADDRESS).
        unsafe {
            if va != 0 {
                wr::<8>(va, 0, v as u64);
            }
            if pa != 0 {
                wr::<8>(pa, 0, v as u64);
            }
        }
    };
    if !adapter_ok(h, "NdisMAllocateSharedMemory", handle) || len == 0 {
        put(0);
        return;
    }
    if h.st().sg_dma.is_none() {
        h.finding(rule::SG_DMA, "NdisMAllocateSharedMemory before NdisMRegisterScatterGatherDma".into());
        put(0);
        return;
    }
    if !bus_master(h, "NdisMAllocateSharedMemory") {
        put(0);
        return;
    }
    let n = (len as usize).div_ceil(4096) * 4096;
    // SAFETY: a fresh anonymous mapping.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            n,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        put(0);
        return;
    }
    let p = p as usize;
    if let Some(m) = h.model.get() {
        // SAFETY: the mapping stays until NdisMFreeSharedMemory, which detaches it first.
        unsafe { m.attach_host_memory(p, len as usize) };
    }
    h.st().shared.insert(p, len as usize);
    put(p);
}

pub extern "win64" fn ndis_m_free_shared_memory(handle: usize, len: u32, _cached: u8, va: usize, pa: u64) {
    let h = host();
    h.require_irql("NdisMFreeSharedMemory", Irql::Passive);
    let _ = adapter_ok(h, "NdisMFreeSharedMemory", handle);
    let rec = h.st().shared.remove(&va);
    match rec {
        Some(n) if n == len as usize && pa == va as u64 => {
            if let Some(m) = h.model.get() {
                m.detach_host_memory(va);
            }
            // SAFETY: the mapping NdisMAllocateSharedMemory made, detached from the model.
            unsafe { libc::munmap(va as *mut libc::c_void, n.div_ceil(4096) * 4096) };
        }
        Some(n) => {
            h.finding(
                rule::SHARED_MEMORY,
                format!("NdisMFreeSharedMemory({va:#x}, {len}) of a {n}-byte block / pa {pa:#x}"),
            );
            h.st().shared.insert(va, n);
        }
        None => h.finding(rule::SHARED_MEMORY, format!("NdisMFreeSharedMemory({va:#x}): not allocated")),
    }
}

struct ModelMmio(crate::regnic_model::ModelBus);

impl super::trap::Mmio for ModelMmio {
    fn read32(&self, off: u32) -> u32 {
        atmmcm::nic::bus::Bus::read32(&self.0, off)
    }
    fn write32(&self, off: u32, v: u32) {
        atmmcm::nic::bus::Bus::write32(&self.0, off, v)
    }
}

pub extern "win64" fn ndis_m_map_io_space(va: usize, handle: usize, pa: u64, len: u32) -> u32 {
    let h = host();
    h.require_irql("NdisMMapIoSpace", Irql::Passive);
    if !adapter_ok(h, "NdisMMapIoSpace", handle) || va == 0 {
        return INVALID;
    }
    let bar = atmmcm::nic::regs::BAR_LEN;
    if pa != host::BAR0_PHYS || len == 0 || len > bar {
        h.finding(rule::IO, format!("NdisMMapIoSpace({pa:#x}, {len}): BAR0 is {:#x}+{bar:#x}", host::BAR0_PHYS));
        return l::ST_RESOURCES as u32;
    }
    let Some(model) = h.model.get() else {
        return l::ST_RESOURCES as u32;
    };
    let Some(base) = super::trap::map_window(len as usize, Arc::new(ModelMmio(model.bus()))) else {
        return RESOURCES;
    };
    h.st().io.insert(base, len as usize);
    // SAFETY: the driver's out-pointer.
    unsafe { wr::<8>(va, 0, base as u64) };
    OK
}

pub extern "win64" fn ndis_m_unmap_io_space(handle: usize, va: usize, len: u32) {
    let h = host();
    let _ = adapter_ok(h, "NdisMUnmapIoSpace", handle);
    let rec = h.st().io.remove(&va);
    match rec {
        Some(n) if n == len as usize => {
            super::trap::unmap_window(va);
        }
        _ => h.finding(rule::IO, format!("NdisMUnmapIoSpace({va:#x}, {len}): not mapped so")),
    }
}

// ---- timers ----------------------------------------------------------------------------------

pub extern "win64" fn ndis_allocate_timer_object(handle: usize, chars: usize, out: usize) -> u32 {
    let h = host();
    h.require_irql("NdisAllocateTimerObject", Irql::Passive);
    if !adapter_ok(h, "NdisAllocateTimerObject", handle) || out == 0 {
        return INVALID;
    }
    if let Err(s) = check_header(h, "NdisAllocateTimerObject", chars, l::OBJ_TYPE_TIMER, &[(1, l::SIZEOF_TIMER_REV_1)])
    {
        return s;
    }
    // SAFETY: the characteristics (size checked).
    let (f, c) = unsafe { (rd::<8>(chars, l::TC_FUNCTION) as usize, rd::<8>(chars, l::TC_CONTEXT) as usize) };
    if f == 0 {
        return INVALID;
    }
    let t = Box::into_raw(Box::new(3u64)) as usize;
    let mut st = h.st();
    if !st.timers.is_empty() {
        drop(st);
        h.finding(rule::LAB_LIMIT, "the lab runs one timer object per adapter".into());
        return RESOURCES;
    }
    st.timers.insert(t, Timer { function: f, context: c, armed: None });
    drop(st);
    // SAFETY: the driver's out-pointer.
    unsafe { wr::<8>(out, 0, t as u64) };
    OK
}

pub extern "win64" fn ndis_set_timer_object(timer: usize, due: i64, period_ms: u32, ctx: usize) -> u8 {
    let h = host();
    h.require_irql("NdisSetTimerObject", Irql::Dispatch);
    if period_ms != 0 {
        h.finding(rule::LAB_LIMIT, "periodic timers are not emulated".into());
    }
    let now = h.clock.now();
    // Negative = relative, in 100 ns; positive = absolute system time (not used by drivers here).
    let at = if due < 0 { now + Duration::from_nanos(due.unsigned_abs().saturating_mul(100)) } else { now };
    let was = {
        let mut st = h.st();
        let Some(t) = st.timers.get_mut(&timer) else {
            drop(st);
            h.finding(rule::HANDLE, format!("NdisSetTimerObject({timer:#x}): not a timer"));
            return 0;
        };
        t.armed.replace((at, ctx)).is_some()
    };
    h.emu().set_timer(at);
    u8::from(was)
}

pub extern "win64" fn ndis_cancel_timer_object(timer: usize) -> u8 {
    let h = host();
    let mut st = h.st();
    match st.timers.get_mut(&timer) {
        Some(t) => u8::from(t.armed.take().is_some()),
        None => {
            drop(st);
            h.finding(rule::HANDLE, format!("NdisCancelTimerObject({timer:#x}): not a timer"));
            0
        }
    }
}

pub extern "win64" fn ndis_free_timer_object(timer: usize) {
    let h = host();
    let t = h.st().timers.remove(&timer);
    match t {
        Some(t) => {
            if t.armed.is_some() {
                h.finding(rule::TIMER, "NdisFreeTimerObject of a set timer (cancel it first)".into());
            }
            // SAFETY: allocated by NdisAllocateTimerObject.
            drop(unsafe { Box::from_raw(timer as *mut u64) });
        }
        None => h.finding(rule::HANDLE, format!("NdisFreeTimerObject({timer:#x}): not a timer")),
    }
}

pub extern "win64" fn ndis_m_sleep(us: u32) {
    let h = host();
    h.require_irql("NdisMSleep", Irql::Passive);
    // Inside MiniportHaltEx the lab's idle step runs (network, clients, clock); else time passes.
    if !super::driver::run_halt_idle() {
        h.clock.advance(Duration::from_micros(u64::from(us)));
    }
}
