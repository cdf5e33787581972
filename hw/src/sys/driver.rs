//! [`SysDriver`]: the loaded `atmmcm.sys` as the lab's [`Driver`]: every entry point NDIS would
//! call is a call through the handler pointer the image registered, with C structures built by
//! the harness's own layouts.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use atmmcm::NdisStatus;
use atmmcm::adapter::OidRequest;
use atmmcm::ndis::{AfContext, CallParameters, CloseData, CoAddressFamily, PartyContext, Sap, SapContext, VcContext};

use crate::clock::Clock;
use crate::host::{AfHandle, ClientParams, Driver, EmuNdis, Irql, Nbl, PartyHandle, SapHandle, VcHandle, at_irql};
use crate::regnic_model::RegNicModel;

use super::config::RegValue;
use super::host::{self, CmHandlers, CoChars, DriverChars, Host, enter};
use super::interrupt::with_interrupt_lock;
use super::layout::{self as l, wr};
use super::linkmap::LinkMap;
use super::ndis::{kernel_alloc, kernel_free};
use super::pe::{LoadError, MappedImage};
use super::rule;

/// The image `scripts/build-sys` writes: `$ATMMCM_SYS`, else `<workspace>/target/x86_64-pc-windows-msvc/release/atmmcm.sys`.
pub fn default_image_path() -> PathBuf {
    if let Some(p) = std::env::var_os("ATMMCM_SYS") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("x86_64-pc-windows-msvc/release/atmmcm.sys")
}

/// The Ndi\params defaults of `inf/atmmcm.inx`, by lower-case name.
pub fn inf_defaults() -> Vec<(String, u32)> {
    const INX: &str = include_str!("../../../inf/atmmcm.inx");
    INX.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let key = f.get(1)?.strip_prefix("Ndi\\params\\")?;
            if key.contains('\\') || !f.get(2)?.eq_ignore_ascii_case("Default") {
                return None;
            }
            let v = f.get(4)?.trim_matches('"').parse().ok()?;
            Some((key.to_ascii_lowercase(), v))
        })
        .collect()
}

/// One loaded `atmmcm.sys` with its emulated NDIS side.
pub struct SysDriver {
    image: MappedImage,
    pub(crate) host: Arc<Host>,
    entry_status: u32,
    driver_object: usize,
    registry_path: (usize, Vec<u16>),
}

// SAFETY: the raw words are NDIS-owned blocks only this value frees; driver code synchronises
// through its own locks.
unsafe impl Send for SysDriver {}
// SAFETY: as above.
unsafe impl Sync for SysDriver {}

struct TrapView(Arc<Host>);

impl super::trap::TrapHost for TrapView {
    fn interrupt_time_100ns(&self) -> u64 {
        (self.0.clock.now().as_nanos() / 100) as u64
    }
    fn symbolise(&self, addr: usize) -> String {
        self.0.symbolise(addr)
    }
    fn note_stack(&self, rsp: usize) {
        host::note_sp(&self.0, rsp)
    }
}

/// The x64 kernel stack (KERNEL_STACK_SIZE, 0x6000).
pub const KERNEL_STACK: usize = 24 * 1024;

thread_local! {
    /// The lab's idle step while MiniportHaltEx waits (NdisMSleep runs it).
    static HALT_IDLE: Cell<Option<*mut (dyn FnMut() + 'static)>> = const { Cell::new(None) };
}

/// Runs the halt's idle step if a halt is waiting on this thread; false otherwise.
pub(crate) fn run_halt_idle() -> bool {
    match HALT_IDLE.with(|c| c.get()) {
        Some(f) => {
            // SAFETY: set by `Driver::halt` from a `&mut dyn FnMut()` that outlives the call it
            // wraps; cleared before that call returns. Never re-entered (the idle step does not
            // call NdisMSleep).
            HALT_IDLE.with(|c| c.set(None));
            unsafe { (*f)() };
            HALT_IDLE.with(|c| c.set(Some(f)));
            true
        }
        None => false,
    }
}

macro_rules! call {
    ($p:expr, fn($($t:ty),*) -> $r:ty, $($a:expr),*) => {{
        // SAFETY: a handler the image registered with this signature (checked non-NULL at
        // registration); its arguments are valid for the call.
        let f: extern "win64" fn($($t),*) -> $r = unsafe { std::mem::transmute::<usize, extern "win64" fn($($t),*) -> $r>($p) };
        f($($a),*)
    }};
}
pub(crate) use call;

impl SysDriver {
    /// Maps the image at `path` (link map beside it), binds its imports and runs DriverEntry.
    pub fn load(path: &Path, clock: Arc<Clock>) -> Result<SysDriver, LoadError> {
        Self::load_with(path, clock, &super::imports::resolve)
    }

    /// [`SysDriver::load`] with another import resolver (tests: a missing host function).
    pub fn load_with(
        path: &Path,
        clock: Arc<Clock>,
        resolve: &dyn Fn(&str, &str) -> Option<usize>,
    ) -> Result<SysDriver, LoadError> {
        let data = std::fs::read(path).map_err(|e| LoadError::Io(format!("{}: {e}", path.display())))?;
        let map = std::fs::read_to_string(path.with_extension("map")).map(|t| LinkMap::parse(&t)).unwrap_or_default();
        let image = super::pe::load(&data, resolve)?;
        let host = Arc::new(Host::new(clock, map, image.preferred_base));
        host.image_base.store(image.base(), Ordering::Relaxed);
        {
            let mut reg = host.registry.lock().unwrap_or_else(|e| e.into_inner());
            // The class installer writes each Ndi\params default as REG_SZ text.
            reg.extend(inf_defaults().into_iter().map(|(k, v)| (k, RegValue::Sz(v.to_string()))));
        }
        super::trap::register_image(image.base(), image.size(), Arc::new(TrapView(host.clone())));
        // DRIVER_OBJECT (0x150 bytes on x64) and the service's registry path.
        let driver_object = kernel_alloc(0x150);
        let path_w: Vec<u16> =
            "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\atmmcm".encode_utf16().collect();
        let us = kernel_alloc(l::SIZEOF_UNICODE_STRING as usize);
        // SAFETY: a fresh UNICODE_STRING over `path_w`, which lives in the SysDriver.
        unsafe {
            wr::<2>(us, 0, (path_w.len() * 2) as u64);
            wr::<2>(us, 2, (path_w.len() * 2) as u64);
            wr::<8>(us, l::US_BUFFER, path_w.as_ptr() as u64);
        }
        let entry = image.va(image.entry_rva);
        // DriverEntry runs on a thread with a kernel-sized stack (24 KiB, as on x64 Windows); the
        // host functions it reaches (registration, MiniportSetOptions' handlers) fit beside it.
        let h = host.clone();
        let st = std::thread::Builder::new()
            .name("DriverEntry".into())
            .stack_size(KERNEL_STACK)
            .spawn(move || {
                enter(&h, "DriverEntry", || {
                    at_irql(Irql::Passive, || call!(entry, fn(usize, usize) -> u32, driver_object, us))
                })
            })
            .map_err(|e| LoadError::Map(format!("DriverEntry thread: {e}")))?
            .join()
            .map_err(|_| LoadError::Map("DriverEntry thread panicked".into()))?;
        Ok(SysDriver { image, host, entry_status: st, driver_object, registry_path: (us, path_w) })
    }

    /// DriverEntry's NTSTATUS.
    pub fn driver_entry_status(&self) -> u32 {
        self.entry_status
    }

    pub fn image(&self) -> &MappedImage {
        &self.image
    }

    /// The registered miniport characteristics (read with the harness's layouts).
    pub fn characteristics(&self) -> Option<DriverChars> {
        self.host.st().chars.clone()
    }

    pub fn co_characteristics(&self) -> Option<CoChars> {
        self.host.st().co.clone()
    }

    pub fn cm_handlers(&self) -> Option<CmHandlers> {
        self.host.st().cm.clone()
    }

    /// The registration attribute flags the driver set.
    pub fn registration_flags(&self) -> Option<u32> {
        self.host.st().registration_flags
    }

    /// The OIDs the general attributes list.
    pub fn supported_oids(&self) -> Vec<u32> {
        self.host.st().supported_oids.clone()
    }

    /// Overrides one registry value (before `start`), as the Advanced tab writes it (REG_SZ text).
    pub fn set_registry(&self, name: &str, value: u32) {
        self.set_registry_value(name, RegValue::Sz(value.to_string()));
    }

    /// Sets one value of the adapter's key (before `start`); `None` removes it.
    pub fn set_registry_value(&self, name: &str, value: impl Into<Option<RegValue>>) {
        let mut reg = self.host.registry.lock().unwrap_or_else(|e| e.into_inner());
        match value.into() {
            Some(v) => reg.insert(name.to_ascii_lowercase(), v),
            None => reg.remove(&name.to_ascii_lowercase()),
        };
    }

    /// What the emulation refused or flagged: (rule, message).
    pub fn findings(&self) -> Vec<(String, String)> {
        self.host.findings()
    }

    /// Panics with every finding.
    pub fn assert_no_findings(&self) {
        let f = self.findings();
        assert!(
            f.is_empty(),
            "sys-lab findings:\n{}",
            f.iter().map(|(r, m)| format!("  {r}: {m}")).collect::<Vec<_>>().join("\n")
        );
    }

    /// Objects the adapter holds that MiniportHaltEx must free (what HALT-NO-LEAK counts).
    pub fn live_allocations(&self) -> usize {
        super::nbl::live_allocations(&self.host)
    }

    /// A deliberate leak, as a driver with a missing free would make one: `len` bytes of pool
    /// through NdisAllocateMemoryWithTagPriority with the adapter's handle, in the image's
    /// context, never freed (HALT-NO-LEAK must see it). For tests of verdicts.
    pub fn leak_pool_block(&self, len: u32) -> usize {
        let handle = Arc::as_ptr(&self.host) as usize;
        enter(&self.host, "leak_pool_block", || {
            super::nbl::ndis_allocate_memory_with_tag_priority(handle, len, u32::from_le_bytes(*b"leak"), 0)
        })
    }

    /// Deepest driver stack seen below an entry, in bytes.
    pub fn max_stack_depth(&self) -> usize {
        self.host.max_stack.load(Ordering::Relaxed)
    }

    /// Where link-map symbol `name` is mapped in this process.
    pub fn address_of(&self, name: &str) -> Option<usize> {
        let a = self.host.map.address_of(name)?;
        Some(self.image.base() + usize::try_from(a.checked_sub(self.image.preferred_base)?).ok()?)
    }

    /// Runs `f` (which calls code in the image) as a driver entry: the host functions find this
    /// image, IRQL and spin-lock balance are checked on return.
    pub fn run_in_image<R>(&self, what: &str, f: impl FnOnce() -> R) -> R {
        enter(&self.host, what, f)
    }

    /// Symbolises an address in the image.
    pub fn symbolise(&self, addr: usize) -> String {
        self.host.symbolise(addr)
    }

    /// Wires the driver to the lab: `emu` is its NDIS, `model` its NIC. Registers the allocation
    /// counter HALT-NO-LEAK reads.
    pub fn attach(self: &Arc<Self>, emu: &EmuNdis, model: &RegNicModel) {
        let _ = self.host.emu.set(emu.clone());
        let _ = self.host.model.set(model.clone());
        emu.attach_arc(self);
        let h = Arc::downgrade(&self.host);
        emu.register_alloc_counter("sys driver allocations", move || {
            h.upgrade().map_or(0, |h| super::nbl::live_allocations(&h))
        });
    }

    fn adapter_ctx(&self) -> usize {
        self.host.st().adapter_context
    }

    fn chars_or_fail(&self) -> Option<DriverChars> {
        let c = self.characteristics();
        if c.is_none() {
            self.host.finding(rule::NOT_REGISTERED, "NDIS entry point called but no miniport is registered".into());
        }
        c
    }

    /// The resource list NDIS passes to MiniportInitializeEx: BAR0 (memory) and a line interrupt.
    fn resources() -> usize {
        let n = 2usize;
        let size = l::RL_DESCRIPTORS as usize + n * l::SIZEOF_RESOURCE_DESCRIPTOR as usize;
        let p = kernel_alloc(size);
        let d0 = p + l::RL_DESCRIPTORS as usize;
        let d1 = d0 + l::SIZEOF_RESOURCE_DESCRIPTOR as usize;
        // SAFETY: a fresh block of `size` bytes. CM_PARTIAL_RESOURCE_DESCRIPTOR: Type (u8) at 0;
        // u.Memory.Start at 4, .Length at 0xC (pack 4); u.Interrupt.Level 4, Vector 8, Affinity 0xC.
        unsafe {
            wr::<2>(p, 0, 1);
            wr::<2>(p, 2, 1);
            wr::<4>(p, l::RL_COUNT, n as u64);
            wr::<1>(d0, 0, l::RES_MEMORY);
            wr::<8>(d0, 4, host::BAR0_PHYS);
            wr::<4>(d0, 0xC, u64::from(atmmcm::nic::regs::BAR_LEN));
            wr::<1>(d1, 0, l::RES_INTERRUPT);
            wr::<4>(d1, 4, 11);
            wr::<4>(d1, 8, 11);
            wr::<4>(d1, 0xC, 1);
        }
        p
    }

    fn resources_size() -> usize {
        l::RL_DESCRIPTORS as usize + 2 * l::SIZEOF_RESOURCE_DESCRIPTOR as usize
    }

    /// Calls MiniportInterrupt as for an interrupt on a shared line (whether or not this NIC
    /// asserted it); a claim that asks for the DPC queues MiniportInterruptDPC (it runs at the
    /// lab's next DPC). Returns (claimed, queue the DPC); `None` with no interrupt registered.
    pub fn shared_line_interrupt(&self) -> Option<(bool, bool)> {
        let r = self.isr()?;
        if r.0 && r.1 {
            use atmmcm::Ndis;
            self.host.emu().request_dpc();
        }
        Some(r)
    }

    /// MiniportInterrupt at DIRQL; records a requested DPC.
    fn isr(&self) -> Option<(bool, bool)> {
        let i = self.host.st().interrupt.clone()?;
        let mut queue: u8 = 0;
        let mut target: u32 = 0;
        let qp = std::ptr::addr_of_mut!(queue) as usize;
        let tp = std::ptr::addr_of_mut!(target) as usize;
        // NDIS runs the ISR holding the interrupt's lock at DIRQL (excluding SynchronizeFunctions).
        let claimed = enter(&self.host, "MiniportInterrupt", || {
            with_interrupt_lock(&self.host, "MiniportInterrupt", || {
                call!(i.isr, fn(usize, usize, usize) -> u8, i.ctx, qp, tp)
            })
        })
        .unwrap_or(0);
        if claimed != 0 && queue != 0 {
            self.host.st().interrupt_dpc_queued = true;
        }
        Some((claimed != 0, queue != 0))
    }

    /// Calls MiniportDisableInterruptEx (`false`) or MiniportEnableInterruptEx (`true`) at DIRQL
    /// holding the interrupt's lock, as NDIS does; false with no interrupt registered.
    pub fn set_interrupts(&self, enable: bool) -> bool {
        let Some(i) = self.host.st().interrupt.clone() else { return false };
        let f = if enable { i.enable } else { i.disable };
        if f == 0 {
            return false;
        }
        let what = if enable { "MiniportEnableInterruptEx" } else { "MiniportDisableInterruptEx" };
        // NDIS calls both through KeSynchronizeExecution: the interrupt's lock, DIRQL.
        enter(&self.host, what, || with_interrupt_lock(&self.host, what, || call!(f, fn(usize) -> (), i.ctx))).is_some()
    }

    /// The interrupt path of one lab DPC round: the ISR if the NIC's line is asserted, then
    /// MiniportInterruptDPC if an ISR asked for it.
    fn interrupt(&self) {
        if self.host.model.get().is_some_and(|m| m.interrupt_line()) {
            let _ = self.isr();
        }
        let Some(i) = self.host.st().interrupt.clone() else { return };
        if !std::mem::take(&mut self.host.st().interrupt_dpc_queued) {
            return;
        }
        // NDIS_RECEIVE_THROTTLE_PARAMETERS: MaxNblsToIndicate (u32), MoreNblsPending (u8).
        let mut throttle = [0u8; 8];
        throttle[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let tp = throttle.as_mut_ptr() as usize;
        enter(&self.host, "MiniportInterruptDPC", || {
            call!(i.dpc, fn(usize, usize, usize, usize) -> (), i.ctx, 0, tp, 0)
        });
        if throttle[4] != 0 {
            use atmmcm::Ndis;
            self.host.emu().request_dpc();
        }
    }
}

/// Runs every queued KDPC at DISPATCH on this thread.
pub(crate) fn run_queued_dpcs(h: &Host) {
    loop {
        let next = {
            let mut st = h.st();
            st.dpcs.iter_mut().find(|(_, d)| d.2).map(|(&k, d)| {
                d.2 = false;
                (k, d.0, d.1)
            })
        };
        let Some((dpc, routine, ctx)) = next else { return };
        at_irql(Irql::Dispatch, || call!(routine, fn(usize, usize, usize, usize) -> (), dpc, ctx, 0, 0));
    }
}

impl Drop for SysDriver {
    fn drop(&mut self) {
        let unload = self.characteristics().map_or(0, |c| c.unload);
        if unload != 0 {
            let d = self.driver_object;
            enter(&self.host, "MiniportDriverUnload", || at_irql(Irql::Passive, || call!(unload, fn(usize) -> (), d)));
        }
        super::trap::unregister_image(self.image.base());
        kernel_free(self.driver_object, 0x150);
        kernel_free(self.registry_path.0, l::SIZEOF_UNICODE_STRING as usize);
    }
}

impl Driver for SysDriver {
    fn start(&self) -> NdisStatus {
        let Some(c) = self.chars_or_fail() else { return NdisStatus::FAILURE };
        self.host.initializing.store(true, Ordering::Relaxed);
        let res = Self::resources();
        let params = kernel_alloc(l::SIZEOF_INIT_PARAMS_REV_1 as usize);
        // SAFETY: a fresh NDIS_MINIPORT_INIT_PARAMETERS: header, AllocatedResources.
        unsafe {
            wr::<4>(
                params,
                0,
                super::layout::Header {
                    ty: l::OBJ_TYPE_INIT_PARAMS as u8,
                    revision: 1,
                    size: l::SIZEOF_INIT_PARAMS_REV_1 as u16,
                }
                .word(),
            );
            wr::<8>(params, l::IP_RESOURCES, res as u64);
        }
        let handle = Arc::as_ptr(&self.host) as usize;
        let drv_ctx = self.host.st().driver_context;
        let st = enter(&self.host, "MiniportInitializeEx", || {
            call!(c.initialize, fn(usize, usize, usize) -> u32, handle, drv_ctx, params)
        });
        kernel_free(params, l::SIZEOF_INIT_PARAMS_REV_1 as usize);
        kernel_free(res, Self::resources_size());
        NdisStatus(st as i32)
    }

    fn halt(&self, idle: &mut dyn FnMut()) {
        let Some(c) = self.chars_or_fail() else { return };
        let ctx = self.adapter_ctx();
        // SAFETY: the reference outlives the halt call below; HALT_IDLE is cleared after it.
        let idle: *mut (dyn FnMut() + '_) = idle;
        // SAFETY: erasing the lifetime: the pointer is only used while `idle` is borrowed.
        let idle: *mut (dyn FnMut() + 'static) = unsafe { std::mem::transmute(idle) };
        HALT_IDLE.with(|c| c.set(Some(idle)));
        enter(&self.host, "MiniportHaltEx", || call!(c.halt, fn(usize, u32) -> (), ctx, 1));
        HALT_IDLE.with(|c| c.set(None));
    }

    fn pause(&self) -> NdisStatus {
        let Some(c) = self.chars_or_fail() else { return NdisStatus::FAILURE };
        let ctx = self.adapter_ctx();
        let mut params = [0u8; 0x10];
        let p = params.as_mut_ptr() as usize;
        NdisStatus(enter(&self.host, "MiniportPause", || call!(c.pause, fn(usize, usize) -> u32, ctx, p)) as i32)
    }

    fn restart(&self) -> NdisStatus {
        let Some(c) = self.chars_or_fail() else { return NdisStatus::FAILURE };
        let ctx = self.adapter_ctx();
        let mut params = [0u8; 0x30];
        let p = params.as_mut_ptr() as usize;
        NdisStatus(enter(&self.host, "MiniportRestart", || call!(c.restart, fn(usize, usize) -> u32, ctx, p)) as i32)
    }

    fn shutdown(&self) {
        let Some(c) = self.chars_or_fail() else { return };
        let ctx = self.adapter_ctx();
        enter(&self.host, "MiniportShutdownEx", || call!(c.shutdown, fn(usize, u32) -> (), ctx, 0));
    }

    fn surprise_removed(&self) {
        let Some(c) = self.chars_or_fail() else { return };
        let ctx = self.adapter_ctx();
        // NET_DEVICE_PNP_EVENT: header, PortNumber, DevicePnPEvent at 8 (SurpriseRemoved = 2).
        let mut ev = [0u8; 0x30];
        ev[8] = 2;
        let p = ev.as_mut_ptr() as usize;
        enter(&self.host, "MiniportDevicePnPEventNotify", || call!(c.pnp, fn(usize, usize) -> (), ctx, p));
    }

    fn dpc(&self) {
        self.interrupt();
        let h = self.host.clone();
        enter(&self.host, "KDPC", || run_queued_dpcs(&h));
    }

    fn timer(&self) {
        let now = self.host.clock.now();
        let due = {
            let mut st = self.host.st();
            st.timers.iter_mut().find(|(_, t)| t.armed.is_some_and(|(d, _)| d <= now)).map(|(_, t)| {
                let (_, ctx) = t.armed.take().unwrap_or_default();
                (t.function, ctx)
            })
        };
        let Some((f, ctx)) = due else { return };
        enter(&self.host, "NDIS_TIMER_FUNCTION", || call!(f, fn(usize, usize, usize, usize) -> (), 0, ctx, 0, 0));
    }

    fn miniport_co_send_net_buffer_lists(&self, vc: VcContext, nbls: Nbl, flags: u32) {
        super::data::send(self, vc, nbls, flags)
    }

    fn miniport_return_net_buffer_lists(&self, nbls: Nbl, flags: u32) {
        super::data::return_nbls(self, nbls, flags)
    }

    fn miniport_co_oid_request(&self, vc: Option<VcContext>, req: &mut OidRequest<'_>) -> NdisStatus {
        super::data::oid(self, vc, req)
    }

    fn protocol_cm_open_af(&self, af: &CoAddressFamily, ndis_af: AfHandle) -> Result<AfContext, NdisStatus> {
        super::cm::open_af(self, af, ndis_af)
    }

    fn protocol_cm_close_af(&self, af: AfContext) -> NdisStatus {
        super::cm::close_af(self, af)
    }

    fn protocol_cm_register_sap(
        &self,
        af: AfContext,
        sap: &Sap,
        ndis_sap: SapHandle,
    ) -> Result<SapContext, NdisStatus> {
        super::cm::register_sap(self, af, sap, ndis_sap)
    }

    fn protocol_cm_deregister_sap(&self, sap: SapContext) -> NdisStatus {
        super::cm::deregister_sap(self, sap)
    }

    fn protocol_co_create_vc(&self, af: AfContext, ndis_vc: VcHandle) -> Result<VcContext, NdisStatus> {
        super::cm::create_vc(self, af, ndis_vc)
    }

    fn protocol_co_delete_vc(&self, vc: VcContext) -> NdisStatus {
        super::cm::delete_vc(self, vc)
    }

    fn protocol_cm_make_call(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: ClientParams,
        ndis_party: Option<PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        super::cm::make_call(self, vc, params, client, ndis_party)
    }

    fn protocol_cm_close_call(&self, vc: VcContext, party: Option<PartyContext>, data: CloseData<'_>) -> NdisStatus {
        super::cm::close_call(self, vc, party, data)
    }

    fn protocol_cm_incoming_call_complete(&self, status: NdisStatus, vc: VcContext, params: &CallParameters) {
        super::cm::incoming_call_complete(self, status, vc, params)
    }

    fn protocol_cm_add_party(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: ClientParams,
        ndis_party: PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus> {
        super::cm::add_party(self, vc, params, client, ndis_party)
    }

    fn protocol_cm_drop_party(&self, party: PartyContext, data: CloseData<'_>) -> NdisStatus {
        super::cm::drop_party(self, party, data)
    }

    fn protocol_cm_modify_call_qos(&self, vc: VcContext, params: &CallParameters, client: ClientParams) -> NdisStatus {
        super::cm::modify_call_qos(self, vc, params, client)
    }

    fn protocol_co_oid_request(
        &self,
        af: AfContext,
        vc: Option<VcContext>,
        party: Option<PartyContext>,
        req: &mut OidRequest<'_>,
    ) -> NdisStatus {
        super::cm::cm_oid(self, af, vc, party, req)
    }

    fn protocol_cm_notify_close_af_complete(&self, status: NdisStatus, af: AfContext) {
        super::cm::notify_close_af_complete(self, status, af)
    }
}
