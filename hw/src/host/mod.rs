//! The emulated NDIS: implements [`atmmcm::Ndis`] for the driver, plays the one CoNDIS client
//! protocol bound to it (scriptable through [`Client`]), logs everything ([`LogEntry`]) and feeds
//! every call and handler to the [`Verifier`].
//!
//! Locking: all host state sits behind one mutex, which is never held while the driver runs
//! (the driver re-enters NDIS from its handlers, and NDIS re-enters the driver from its calls,
//! e.g. NdisMCmDispatchIncomingCloseCall → the client's NdisClCloseCall → ProtocolCmCloseCall).
//!
//! Execution context: handlers called for the client run at the caller's IRQL (PASSIVE unless a
//! test raises it with [`EmuNdis::at_irql`]); [`EmuNdis::run_dpc`] and [`EmuNdis::run_timer`] run
//! the driver at DISPATCH; [`EmuNdis::start`] and [`EmuNdis::halt`] at PASSIVE. [`LabSpinLock`]
//! raises IRQL while held.
//!
//! Wiring (what the lab does):
//!
//! ```ignore
//! let clock = Arc::new(Clock::new());
//! let emu = EmuNdis::new(clock.clone());
//! let adapter = Arc::new(Adapter::initialize(emu.clone(), device, config)?); // PASSIVE
//! emu.attach_arc(&adapter);           // NDIS keeps a Weak<dyn Driver>
//! emu.phy_link_changed(true);         // optional: STS-LINK expects an indication
//! emu.start();                        // end of MiniportInitializeEx (AF registration)
//! let client = emu.client();
//! let af = client.open_af()?;
//! let vc = client.create_vc()?;
//! client.make_call(vc, params);
//! while emu.run_pending() {}          // requested DPC, due timer, deferred client actions
//! assert_eq!(emu.ndis_calls_on(vc), ["ProtocolCmMakeCall->PENDING", "NdisMCmActivateVc", ...]);
//! emu.halt();                         // MiniportHaltEx + HALT-* checks
//! emu.check_outstanding();            // pended requests / sends never completed
//! emu.assert_clean();                 // panics with every violation and the log tail
//! ```

mod client;
mod driver;
mod handles;
mod irql;
mod log;
mod ndis_calls;
mod state;
pub mod verifier;

#[cfg(test)]
mod verifier_tests;

pub use client::{Accept, Client, ClientVc, IncomingCall, Policy, ReturnReceives, SendCompletion, VcState, When};
pub use driver::Driver;
pub use handles::{AfHandle, ClientParams, Nbl, PartyHandle, SapHandle, VcHandle};
pub use irql::{Irql, LabSpinLock, Path, at_irql, current_cpu, current_irql, set_irql};
pub use log::{LogEntry, LogKind};
pub(crate) use state::{AfRec, AfState, NblKind, NblRec, Notify, PartyRec, PartyState, SapRec, SapState, State, VcRec};
pub use verifier::{LiveCounts, Violation, rule};

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm::ndis::{LinkState, StatusIndication, VcContext};

use crate::clock::Clock;
use verifier::{Call, Cx, Handler, Verifier};

/// An allocation counter the lab registers (HALT-NO-LEAK): must read 0 when MiniportHaltEx returns.
pub type AllocCounter = Box<dyn Fn() -> usize + Send + Sync>;

pub(crate) struct Inner {
    st: Mutex<State>,
    driver: RwLock<Option<Weak<dyn Driver>>>,
    clock: Arc<Clock>,
    dpc_requested: AtomicBool,
    counters: Mutex<Vec<(String, AllocCounter)>>,
    /// µs a client's sending thread is held inside NdisMCoSendNetBufferListsComplete when the
    /// driver completes from within MiniportCoSendNetBufferLists (0 = never): widens the windows
    /// a scheduler would open on a busy machine (see `set_send_preemption`).
    send_preempt_us: std::sync::atomic::AtomicU64,
    /// NdisMCmCreateVc fails with this status for the next so many calls (`fail_next_create_vc`).
    fail_create_vc: Mutex<(NdisStatus, u32)>,
    /// Run once by the next NdisMCmActivateVc before NDIS sees it (`before_next_activate`).
    before_activate: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    /// Run once by the next send at its start, on the sending thread (`after_next_send_start`).
    after_send_start: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

thread_local! {
    /// This thread is inside a client's NdisCoSendNetBufferLists.
    pub(crate) static IN_SEND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The head NBL of that send until the driver's first NDIS call from inside it.
    pub(crate) static SEND_HEAD: std::cell::Cell<Option<Nbl>> = const { std::cell::Cell::new(None) };
    /// This thread is inside ProtocolCmCloseCall.
    static IN_CLOSE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The emulated NDIS: a cheap clonable handle.
#[derive(Clone)]
pub struct EmuNdis {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EmuNdis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmuNdis")
    }
}

impl EmuNdis {
    /// A fresh NDIS with no driver attached, running on `clock`.
    pub fn new(clock: Arc<Clock>) -> EmuNdis {
        let st = State {
            next_id: 0,
            family: None,
            client_af: None,
            afs: HashMap::new(),
            saps: HashMap::new(),
            vcs: HashMap::new(),
            parties: HashMap::new(),
            nbls: HashMap::new(),
            client_params: HashMap::new(),
            rx_live: 0,
            rx_limit: 4096,
            timer_due: None,
            policy: Policy::default(),
            deferred: VecDeque::new(),
            held_rx: Vec::new(),
            send_completions: Vec::new(),
            incoming: Vec::new(),
            incoming_closes: Vec::new(),
            status_indications: Vec::new(),
            log: Vec::new(),
            log_by_vc: HashMap::new(),
            verifier: Verifier::new(),
        };
        EmuNdis {
            inner: Arc::new(Inner {
                st: Mutex::new(st),
                driver: RwLock::new(None),
                clock,
                dpc_requested: AtomicBool::new(false),
                send_preempt_us: std::sync::atomic::AtomicU64::new(0),
                fail_create_vc: Mutex::new((NdisStatus::SUCCESS, 0)),
                before_activate: Mutex::new(None),
                after_send_start: Mutex::new(None),
                counters: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Binds the driver (after `Adapter::initialize` returned and the adapter is in an `Arc`).
    pub fn attach(&self, driver: Weak<dyn Driver>) {
        *self.inner.driver.write().unwrap_or_else(|e| e.into_inner()) = Some(driver);
    }

    /// [`EmuNdis::attach`] for a driver in an `Arc` (keeps only a weak reference).
    pub fn attach_arc<T: Driver + 'static>(&self, driver: &Arc<T>) {
        let d: Arc<dyn Driver> = driver.clone();
        self.attach(Arc::downgrade(&d));
    }

    /// The client protocol bound to this NDIS.
    pub fn client(&self) -> Client {
        Client::new(self.clone())
    }

    pub fn clock(&self) -> Arc<Clock> {
        self.inner.clock.clone()
    }

    pub(crate) fn st(&self) -> MutexGuard<'_, State> {
        self.inner.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn driver(&self) -> Option<Arc<dyn Driver>> {
        self.inner.driver.read().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|w| w.upgrade())
    }

    pub(crate) fn cx(&self) -> Cx {
        Cx {
            irql: current_irql(),
            cpu: current_cpu(),
            deferred: irql::in_deferred_or_data_path(),
            time: self.inner.clock.now(),
        }
    }

    // ---- feeding the log and the verifier ----------------------------------------------------------

    /// A driver → NDIS call: logged and checked. Returns the state guard for the behaviour.
    fn ndis_call(&self, c: &Call) -> MutexGuard<'_, State> {
        let cx = self.cx();
        let mut st = self.st();
        st.entry(LogKind::NdisCall, c.name(), c.vc(), c.party(), &cx);
        st.verifier.call(c, &cx);
        st
    }

    /// Preempts threads as a busy machine would: a sending thread for `d` whenever the driver
    /// completes NBLs from inside MiniportCoSendNetBufferLists (a rejected send), and the thread
    /// running ProtocolCmCloseCall for `d / 8` at each current-CPU query it makes (the driver
    /// makes one after starting the teardown, waiting out receive indications). Sends then begin while the close runs, and a close that does not wait for the
    /// senders that began before it returned is caught nearly every time.
    pub fn set_send_preemption(&self, d: std::time::Duration) {
        self.inner.send_preempt_us.store(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// The next `count` NdisMCmCreateVc calls fail with `status`, as NDIS's do when it is out of
    /// memory (RESOURCES) or the client's ProtocolCoCreateVc refuses.
    pub fn fail_next_create_vc(&self, status: NdisStatus, count: u32) {
        *self.inner.fail_create_vc.lock().unwrap_or_else(|e| e.into_inner()) = (status, count);
    }

    /// Runs `f` once, on the thread making the next NdisMCmActivateVc, before NDIS sees the call:
    /// the driver's drainer preempted between deciding the activation (under its lock) and making
    /// it, so a test can run a client's close on another thread in that window.
    pub fn before_next_activate(&self, f: impl FnOnce() + Send + 'static) {
        *self.inner.before_activate.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(f));
    }

    /// Runs `f` once, on the thread of the next send that reaches the driver's first NDIS call
    /// from inside MiniportCoSendNetBufferLists, right after the verifier placed the send's start
    /// there: the sender preempted just after the driver's first look at the VC, still holding its
    /// NBLs, for as long as `f` runs (a test parks it on a channel and runs a call on other
    /// threads meanwhile).
    pub fn after_next_send_start(&self, f: impl FnOnce() + Send + 'static) {
        *self.inner.after_send_start.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(f));
    }

    /// The driver's first NDIS call from inside a send: the verifier places the send's start
    /// here (`Verifier::send_progress`); with preemption on, the sender is then held (a thread
    /// preempted just after the driver's first look at the VC).
    fn send_progress(&self) {
        if let Some(head) = SEND_HEAD.with(|c| c.take()) {
            self.st().verifier.send_progress(head);
            let hook = self.inner.after_send_start.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(f) = hook {
                f();
            }
            let us = self.inner.send_preempt_us.load(Ordering::Relaxed);
            if us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(us / 8));
            }
        }
    }

    fn preempt_closer(&self) {
        let us = self.inner.send_preempt_us.load(Ordering::Relaxed);
        if us > 0 && IN_CLOSE.with(|c| c.get()) {
            std::thread::sleep(std::time::Duration::from_micros(us / 8));
        }
    }

    /// Receive chains the client holds (not yet returned), by head NBL.
    pub fn held_receives(&self) -> Vec<Nbl> {
        self.st().held_rx.clone()
    }

    /// The newest NBL a client sent (test hooks that play a driver use it).
    pub fn newest_send_nbl(&self) -> Option<Nbl> {
        self.st().nbls.iter().filter(|(_, r)| matches!(r.kind, NblKind::Send)).map(|(n, _)| *n).max_by_key(|n| n.0)
    }

    pub(crate) fn log_client(
        &self,
        kind: LogKind,
        name: impl Into<String>,
        vc: Option<VcHandle>,
        party: Option<PartyHandle>,
    ) {
        let cx = self.cx();
        self.st().entry(kind, name.into(), vc, party, &cx);
    }

    /// Runs a driver handler: logs and checks entry and return; `status` maps the result to the
    /// handler's NDIS status (`None` for a void handler). `None` when no driver is attached.
    pub(crate) fn handler<R>(
        &self,
        h: Handler,
        f: impl FnOnce(&dyn Driver) -> R,
        status: impl FnOnce(&R) -> Option<NdisStatus>,
    ) -> Option<R> {
        let drv = self.driver()?;
        {
            let cx = self.cx();
            let mut st = self.st();
            st.entry(LogKind::HandlerEnter, h.name(), h.vc(), h.party(), &cx);
            st.verifier.handler_enter(&h, &cx);
        }
        let closing = matches!(h, Handler::CloseCall { .. });
        if closing {
            IN_CLOSE.with(|c| c.set(true));
        }
        let r = f(&*drv);
        if closing {
            IN_CLOSE.with(|c| c.set(false));
        }
        let s = status(&r);
        let cx = self.cx();
        let mut st = self.st();
        let name = match s {
            Some(s) => format!("{}->{}", h.name(), verifier::status_name(s)),
            None => format!("{}->()", h.name()),
        };
        st.entry(LogKind::HandlerReturn, name, h.vc(), h.party(), &cx);
        st.verifier.handler_return(&h, s, &cx);
        Some(r)
    }

    // ---- lab-facing: lifecycle and context ------------------------------------------------------------

    /// Runs `f` at `irql` on this thread.
    pub fn at_irql<R>(&self, irql: Irql, f: impl FnOnce() -> R) -> R {
        at_irql(irql, f)
    }

    /// Runs `f` at DISPATCH on this thread.
    pub fn set_irql_dispatch_for<R>(&self, f: impl FnOnce() -> R) -> R {
        at_irql(Irql::Dispatch, f)
    }

    /// The end of MiniportInitializeEx (`Adapter::start`) at PASSIVE.
    pub fn start(&self) -> NdisStatus {
        at_irql(Irql::Passive, || {
            self.handler(Handler::Initialize, |d| d.start(), |s| Some(*s)).unwrap_or(NdisStatus::FAILURE)
        })
    }

    /// MiniportHaltEx at PASSIVE, then the halt checks (HALT-NOTIFY-AF, HALT-NO-LEAK with the
    /// registered allocation counters, outstanding requests). Afterwards every NDIS call is
    /// HALT-QUIET.
    pub fn halt(&self) {
        self.halt_with(&mut || {
            let _ = self.run_pending();
        });
    }

    /// [`EmuNdis::halt`] with the lab's idle step (pumping the network and the clock) run while
    /// the driver waits for the clients' teardown.
    pub fn halt_with(&self, idle: &mut dyn FnMut()) {
        at_irql(Irql::Passive, || {
            let _ = self.handler(Handler::Halt, |d| d.halt(&mut *idle), |_| None);
        });
        let counts: Vec<(String, usize)> = {
            let counters = self.inner.counters.lock().unwrap_or_else(|e| e.into_inner());
            counters.iter().map(|(n, f)| (n.clone(), f())).collect()
        };
        let mut counts = counts;
        let cx = self.cx();
        let mut st = self.st();
        counts.push(("rx NBLs".into(), st.rx_live));
        st.verifier.halt_returned(&counts, &cx);
    }

    /// Runs the driver's DPC at DISPATCH (clears a pending DPC request).
    pub fn run_dpc(&self) {
        self.inner.dpc_requested.store(false, Ordering::Release);
        at_irql(Irql::Dispatch, || {
            irql::in_path(Path::Dpc, || {
                let _ = self.handler(Handler::Dpc, |d| d.dpc(), |_| None);
            })
        });
    }

    /// Runs the driver's timer at DISPATCH (disarms it first; the driver may re-arm it).
    pub fn run_timer(&self) {
        self.st().timer_due = None;
        at_irql(Irql::Dispatch, || {
            irql::in_path(Path::Timer, || {
                let _ = self.handler(Handler::Timer, |d| d.timer(), |_| None);
            })
        });
    }

    /// Whether the driver asked for its DPC since the last call (and clears the request).
    pub fn take_dpc_request(&self) -> bool {
        self.inner.dpc_requested.swap(false, Ordering::AcqRel)
    }

    /// When the driver's timer is due, if armed.
    pub fn timer_due(&self) -> Option<Duration> {
        self.st().timer_due
    }

    /// One pump step: the requested DPC, then the timer if due, then the client's deferred
    /// actions. Returns whether anything ran.
    pub fn run_pending(&self) -> bool {
        let mut ran = false;
        if self.take_dpc_request() {
            self.run_dpc();
            ran = true;
        }
        if self.timer_due().is_some_and(|t| t <= self.inner.clock.now()) {
            self.run_timer();
            ran = true;
        }
        if self.client().run_deferred() > 0 {
            ran = true;
        }
        ran
    }

    /// MiniportPause / MiniportRestart / MiniportShutdownEx / surprise removal, at PASSIVE.
    pub fn pause(&self) -> NdisStatus {
        self.handler(Handler::Other("MiniportPause"), |d| d.pause(), |s| Some(*s)).unwrap_or(NdisStatus::FAILURE)
    }
    pub fn restart(&self) -> NdisStatus {
        self.handler(Handler::Other("MiniportRestart"), |d| d.restart(), |s| Some(*s)).unwrap_or(NdisStatus::FAILURE)
    }
    pub fn shutdown(&self) {
        let _ = self.handler(Handler::Other("MiniportShutdownEx"), |d| d.shutdown(), |_| None);
    }
    pub fn surprise_removed(&self) {
        let _ = self.handler(Handler::Other("MiniportDevicePnPEventNotify"), |d| d.surprise_removed(), |_| None);
    }

    /// Registers an allocation counter that must read 0 when MiniportHaltEx returns (HALT-NO-LEAK).
    pub fn register_alloc_counter(&self, name: &str, f: impl Fn() -> usize + Send + Sync + 'static) {
        self.inner.counters.lock().unwrap_or_else(|e| e.into_inner()).push((name.to_string(), Box::new(f)));
    }

    /// Size of the driver's receive NBL pool (`rx_nbl_alloc` returns `None` beyond it).
    pub fn set_rx_pool_limit(&self, n: usize) {
        self.st().rx_limit = n;
    }

    /// Receive NBLs allocated and not freed.
    pub fn rx_nbls_live(&self) -> usize {
        self.st().rx_live
    }

    /// The lab's PHY changed: the driver is expected to indicate it (STS-LINK, checked by
    /// [`EmuNdis::check_link_indicated`]).
    pub fn phy_link_changed(&self, up: bool) {
        let cx = self.cx();
        let mut st = self.st();
        st.entry(LogKind::Lab, format!("PhyLink({})", if up { "up" } else { "down" }), None, None, &cx);
        st.verifier.phy_link(up);
    }

    /// STS-LINK: fires if the last PHY change was not indicated.
    pub fn check_link_indicated(&self) {
        self.st().verifier.check_link_indicated();
    }

    /// A raw status indication with an explicit code (the NDIS 5 style MEDIA_CONNECT/DISCONNECT,
    /// or a wrong code in verifier tests). `link`: the link state it reports, if it is one.
    pub fn indicate_status_code(&self, vc: Option<VcHandle>, code: NdisStatus, link: Option<bool>) {
        let _st = self.ndis_call(&Call::IndicateStatus { vc, code, link });
    }

    /// Every status indication the driver made.
    pub fn status_indications(&self) -> Vec<(Option<VcHandle>, StatusIndication)> {
        self.st().status_indications.clone()
    }

    // ---- lab-facing: log and verifier ---------------------------------------------------------------

    /// The whole log.
    pub fn log(&self) -> Vec<LogEntry> {
        self.st().log.clone()
    }

    /// Every log entry naming `vc`.
    pub fn log_on(&self, vc: VcHandle) -> Vec<LogEntry> {
        let st = self.st();
        let at = st.log_by_vc.get(&vc).map_or(&[][..], Vec::as_slice);
        at.iter().filter_map(|&i| st.log.get(i)).cloned().collect()
    }

    /// The driver-side sequence on `vc`: NDIS calls the driver made and handler returns
    /// (`["ProtocolCmCloseCall->PENDING", "NdisMCmDeactivateVc", "NdisMCmCloseCallComplete(SUCCESS)",
    /// "NdisMCmDeleteVc"]`).
    pub fn ndis_calls_on(&self, vc: VcHandle) -> Vec<String> {
        let st = self.st();
        let at = st.log_by_vc.get(&vc).map_or(&[][..], Vec::as_slice);
        at.iter()
            .filter_map(|&i| st.log.get(i))
            .filter(|e| matches!(e.kind, LogKind::NdisCall | LogKind::HandlerReturn))
            .map(|e| e.name.clone())
            .collect()
    }

    /// The driver's context for `vc` (CallMgrVcContext), while NDIS knows it.
    pub fn vc_context(&self, vc: VcHandle) -> Option<VcContext> {
        self.st().vcs.get(&vc).and_then(|v| v.ctx)
    }

    /// Every NDIS call the driver made (names), in order.
    pub fn ndis_calls(&self) -> Vec<String> {
        self.st().log.iter().filter(|e| e.kind == LogKind::NdisCall).map(|e| e.name.clone()).collect()
    }

    /// The log as text, one entry a line.
    pub fn dump_log(&self) -> String {
        self.st().log.iter().map(|e| format!("{e}\n")).collect()
    }

    pub fn violations(&self) -> Vec<Violation> {
        self.st().verifier.violations().to_vec()
    }

    /// The rule ids that fired, in order.
    pub fn fired(&self) -> Vec<&'static str> {
        self.st().verifier.fired()
    }

    /// Reports requests pended and never completed and sends never completed (call when the lab
    /// is quiet, e.g. at the end of a test).
    pub fn check_outstanding(&self) {
        self.st().verifier.check_outstanding();
    }

    /// Live objects as the verifier counts them.
    pub fn live(&self) -> LiveCounts {
        self.st().verifier.live()
    }

    /// Panics with a readable report of every violation (and the tail of the log).
    pub fn assert_clean(&self) {
        let st = self.st();
        if let Some(r) = st.verifier.report() {
            let tail: String = st.log.iter().rev().take(30).rev().map(|e| format!("    {e}\n")).collect();
            drop(st);
            panic!("{r}  last log entries:\n{tail}");
        }
    }

    fn link_status(ind: &StatusIndication) -> (NdisStatus, Option<bool>) {
        match ind {
            StatusIndication::LinkState(LinkState { connected, .. }) => (NdisStatus::LINK_STATE, Some(*connected)),
        }
    }
}
