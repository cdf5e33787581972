//! The per-image host state every emulated NDIS / kernel function reaches through the thread's
//! "current image" (set while the host runs driver code), plus the entry wrapper that sets it,
//! checks IRQL and spin-lock balance on return, and measures the driver's stack depth.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::clock::Clock;
use crate::host::{EmuNdis, Irql};
use crate::regnic_model::RegNicModel;

use super::linkmap::LinkMap;
use super::rule;

/// A captured `NDIS_MINIPORT_DRIVER_CHARACTERISTICS` (handler addresses).
#[derive(Clone, Debug, Default)]
pub struct DriverChars {
    pub major: u8,
    pub minor: u8,
    pub revision: u8,
    pub size: u16,
    pub flags: u32,
    pub set_options: usize,
    pub initialize: usize,
    pub halt: usize,
    pub unload: usize,
    pub pause: usize,
    pub restart: usize,
    pub oid: usize,
    pub send: usize,
    pub ret: usize,
    pub cancel_send: usize,
    pub check_for_hang: usize,
    pub reset: usize,
    pub pnp: usize,
    pub shutdown: usize,
    pub cancel_oid: usize,
}

/// A captured `NDIS_MINIPORT_CO_CHARACTERISTICS`.
#[derive(Clone, Debug, Default)]
pub struct CoChars {
    pub create_vc: usize,
    pub delete_vc: usize,
    pub activate_vc: usize,
    pub deactivate_vc: usize,
    pub send: usize,
    pub oid: usize,
}

/// A captured `NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS`.
#[derive(Clone, Debug, Default)]
pub struct CmHandlers {
    pub create_vc: usize,
    pub delete_vc: usize,
    pub open_af: usize,
    pub close_af: usize,
    pub register_sap: usize,
    pub deregister_sap: usize,
    pub make_call: usize,
    pub close_call: usize,
    pub incoming_call_complete: usize,
    pub add_party: usize,
    pub drop_party: usize,
    pub activate_vc_complete: usize,
    pub deactivate_vc_complete: usize,
    pub modify_qos: usize,
    pub oid: usize,
    pub oid_complete: usize,
    pub notify_close_af_complete: usize,
}

/// `NdisMRegisterInterruptEx`'s characteristics.
#[derive(Clone, Debug, Default)]
pub struct Interrupt {
    /// The NDIS_HANDLE NdisMRegisterInterruptEx returned.
    pub handle: usize,
    pub ctx: usize,
    pub isr: usize,
    pub dpc: usize,
    pub disable: usize,
    pub enable: usize,
}

/// `NdisAllocateTimerObject`.
#[derive(Clone, Debug, Default)]
pub struct Timer {
    pub function: usize,
    pub context: usize,
    /// Set (NdisSetTimerObject) and not yet fired or cancelled: (due, context to pass).
    pub armed: Option<(Duration, usize)>,
}

/// What the emulated NDIS keeps per adapter.
#[derive(Default)]
pub struct State {
    pub chars: Option<DriverChars>,
    pub driver_context: usize,
    pub co: Option<CoChars>,
    pub cm: Option<CmHandlers>,
    /// MiniportAdapterContext from the registration attributes.
    pub adapter_context: usize,
    pub registration_flags: Option<u32>,
    pub general_set: bool,
    pub supported_oids: Vec<u32>,
    pub sg_dma: Option<usize>,
    pub interrupt: Option<Interrupt>,
    /// The ISR asked for its DPC (NDIS queued MiniportInterruptDPC); it runs at the next DPC.
    pub interrupt_dpc_queued: bool,
    pub timers: BTreeMap<usize, Timer>,
    /// KDPC address -> (routine, context, queued).
    pub dpcs: HashMap<usize, (usize, usize, bool)>,
    /// Pool blocks: address -> (layout, tag, allocated after DriverEntry).
    pub pool: HashMap<usize, (std::alloc::Layout, u32, bool)>,
    /// Shared memory: address -> length.
    pub shared: HashMap<usize, usize>,
    /// BAR0 windows mapped: address -> length.
    pub io: HashMap<usize, usize>,
    /// Configuration handles open -> parameter blocks handed out (address, size).
    pub configs: HashMap<usize, Vec<(usize, usize)>>,
    pub nbl_pools: HashMap<usize, u16>,
    /// NBLs from NdisAllocateNetBufferAndNetBufferList: NBL -> NB.
    pub nbls: HashMap<usize, usize>,
    pub mdls: HashMap<usize, ()>,
    pub deregistered: bool,
}

/// One loaded image's host side.
pub struct Host {
    pub clock: Arc<Clock>,
    pub map: LinkMap,
    pub image_base: AtomicUsize,
    pub preferred_base: u64,
    pub st: Mutex<State>,
    pub emu: OnceLock<EmuNdis>,
    pub model: OnceLock<RegNicModel>,
    /// The adapter's registry key (INF defaults plus overrides), by lower-case name.
    pub registry: Mutex<BTreeMap<String, super::config::RegValue>>,
    /// What NDIS would have refused or flagged: each a rule id and a message.
    pub findings: Mutex<Vec<(String, String)>>,
    /// Deepest driver stack seen (bytes below the innermost entry).
    pub max_stack: AtomicUsize,
    /// MiniportInitializeEx has begun (allocations from now on must be gone at halt).
    pub initializing: std::sync::atomic::AtomicBool,
    /// The interrupt object's spin lock (ISR, Disable/Enable, SynchronizeFunction).
    pub interrupt_lock: std::sync::atomic::AtomicBool,
}

/// The fake physical address of BAR0 in the resource list.
pub const BAR0_PHYS: u64 = 0xF000_0000;

impl Host {
    pub fn new(clock: Arc<Clock>, map: LinkMap, preferred_base: u64) -> Host {
        Host {
            clock,
            map,
            image_base: AtomicUsize::new(0),
            preferred_base,
            st: Mutex::new(State::default()),
            emu: OnceLock::new(),
            model: OnceLock::new(),
            registry: Mutex::new(BTreeMap::new()),
            findings: Mutex::new(Vec::new()),
            max_stack: AtomicUsize::new(0),
            initializing: Default::default(),
            interrupt_lock: Default::default(),
        }
    }

    pub fn st(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records something NDIS would refuse or a kernel rule the driver broke.
    pub fn finding(&self, rule: &str, msg: String) {
        self.findings.lock().unwrap_or_else(|e| e.into_inner()).push((rule.to_string(), msg));
    }

    pub fn findings(&self) -> Vec<(String, String)> {
        self.findings.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `symbol+off` for an address in the mapped image.
    pub fn symbolise(&self, addr: usize) -> String {
        let base = self.image_base.load(Ordering::Relaxed);
        match addr.checked_sub(base) {
            Some(rva) => {
                let at = self.preferred_base + rva as u64;
                self.map.symbolise(at).unwrap_or_else(|| format!("{at:#x}"))
            }
            None => format!("{addr:#x}"),
        }
    }

    pub fn emu(&self) -> &EmuNdis {
        match self.emu.get() {
            Some(e) => e,
            None => fatal("the driver called NDIS before the lab attached an EmuNdis"),
        }
    }

    /// The IRQL check every host function makes: a `SYS-IRQL` finding when above `max`.
    pub fn require_irql(&self, func: &str, max: Irql) {
        let now = crate::host::current_irql();
        if now > max {
            self.finding(rule::IRQL, format!("{func} called at {now:?}, allowed up to {max:?}"));
        }
    }
}

thread_local! {
    static CURRENT: Cell<*const Host> = const { Cell::new(std::ptr::null()) };
    static ENTRY_SP: Cell<usize> = const { Cell::new(0) };
    static LOCKS_HELD: Cell<isize> = const { Cell::new(0) };
}

/// Prints and aborts: the driver cannot be unwound through.
pub fn fatal(msg: &str) -> ! {
    eprintln!("sys-lab: FATAL: {msg}");
    std::process::abort()
}

fn sp() -> usize {
    let x = 0u8;
    std::ptr::addr_of!(x) as usize
}

/// The image whose driver code called the current host function.
pub fn host() -> &'static Host {
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        fatal("a host function ran outside any driver entry");
    }
    // SAFETY: `enter` set it from an `Arc<Host>` it keeps alive for the duration of the call.
    let h = unsafe { &*p };
    let depth = ENTRY_SP.with(|e| e.get()).saturating_sub(sp());
    h.max_stack.fetch_max(depth, Ordering::Relaxed);
    h
}

/// Records the driver's stack depth at `sp` (a trap's RSP: leaf frames that call no host function).
pub fn note_sp(h: &Host, sp: usize) {
    let depth = ENTRY_SP.with(|e| e.get()).saturating_sub(sp);
    h.max_stack.fetch_max(depth, Ordering::Relaxed);
}

pub fn lock_acquired() {
    LOCKS_HELD.with(|l| l.set(l.get() + 1));
}

pub fn lock_released() {
    LOCKS_HELD.with(|l| l.set(l.get() - 1));
}

/// Runs `f` (which calls into the driver) with `h` as the current image. On return checks that
/// IRQL is where it was and every spin lock taken inside was released.
pub fn enter<R>(h: &Arc<Host>, what: &str, f: impl FnOnce() -> R) -> R {
    let prev = CURRENT.with(|c| c.replace(Arc::as_ptr(h)));
    let prev_sp = ENTRY_SP.with(|e| e.replace(sp()));
    let irql = crate::host::current_irql();
    let locks = LOCKS_HELD.with(|l| l.get());
    let r = f();
    let irql_after = crate::host::current_irql();
    if irql_after != irql {
        h.finding(rule::IRQL_BALANCE, format!("{what} returned at {irql_after:?}, entered at {irql:?}"));
        crate::host::set_irql(irql);
    }
    let held = LOCKS_HELD.with(|l| l.get());
    if held != locks {
        h.finding(rule::SPINLOCK_BALANCE, format!("{what} returned with {} spin lock(s) held", held - locks));
        LOCKS_HELD.with(|l| l.set(locks));
    }
    ENTRY_SP.with(|e| e.set(prev_sp));
    CURRENT.with(|c| c.set(prev));
    r
}
