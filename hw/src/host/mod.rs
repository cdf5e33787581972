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
pub mod verifier;

#[cfg(test)]
mod verifier_tests;

pub use client::{Accept, Client, ClientVc, IncomingCall, Policy, ReturnReceives, SendCompletion, VcState, When};
pub use driver::Driver;
pub use handles::{AfHandle, ClientParams, Nbl, PartyHandle, SapHandle, VcHandle};
pub use irql::{Irql, LabSpinLock, Path, at_irql, current_cpu, current_irql, set_irql};
pub use log::{LogEntry, LogKind};
pub use verifier::{LiveCounts, Violation, rule};

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use atmmcm::ndis::{
    AfContext, CallParameters, CoAddressFamily, LinkState, PartyContext, SapContext, StatusIndication, VcContext,
    receive_flags,
};
use atmmcm::{Ndis, NdisStatus};

use crate::clock::Clock;
use verifier::{Call, Cx, Handler, Verifier};

/// An allocation counter the lab registers (HALT-NO-LEAK): must read 0 when MiniportHaltEx returns.
pub type AllocCounter = Box<dyn Fn() -> usize + Send + Sync>;

#[derive(Clone, Debug)]
pub(crate) enum NblKind {
    /// A send NBL the client built.
    Send,
    /// A receive NBL from the driver's pool, with the driver's tag.
    Rx { tag: usize },
}

#[derive(Clone, Debug)]
pub(crate) struct NblRec {
    pub frames: Vec<Vec<u8>>,
    pub next: Option<Nbl>,
    pub status: NdisStatus,
    /// The VC it was sent or indicated on.
    pub owner: Option<VcHandle>,
    pub kind: NblKind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum AfState {
    Opening,
    Open,
    Closing,
    Closed,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Notify {
    None,
    /// Inside NdisMCmNotifyCloseAddressFamily.
    InCall,
    /// Returned PENDING: ProtocolCmNotifyCloseAfComplete follows the AF close.
    Returned,
}

#[derive(Clone, Debug)]
pub(crate) struct AfRec {
    pub ctx: Option<AfContext>,
    pub state: AfState,
    /// The client is tearing everything down (NdisMCmNotifyCloseAddressFamily).
    pub teardown: bool,
    pub notify: Notify,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum SapState {
    Registering,
    Registered,
    Deregistering,
    Gone,
}

#[derive(Clone, Debug)]
pub(crate) struct SapRec {
    pub af: AfHandle,
    pub ctx: Option<SapContext>,
    pub state: SapState,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum PartyState {
    Adding,
    Active,
    Dropping,
    Gone,
}

#[derive(Clone, Debug)]
pub(crate) struct PartyRec {
    pub vc: VcHandle,
    pub ctx: Option<PartyContext>,
    pub state: PartyState,
}

#[derive(Clone, Debug)]
pub(crate) struct VcRec {
    pub af: AfHandle,
    pub ctx: Option<VcContext>,
    pub client_created: bool,
    pub state: VcState,
    /// State to go back to when a close fails.
    pub before_close: VcState,
    pub active: bool,
    pub multipoint: bool,
    pub params: Option<CallParameters>,
    pub received: Vec<Vec<u8>>,
    /// The client wants this call closed (remote close or teardown): drop parties, then close.
    pub want_close: bool,
    /// Sends of this client inside the driver right now.
    pub sending: u32,
    /// NdisCoDeleteVc began: the client makes no new sends on the VC (its handle is about to die).
    pub deleting: bool,
}

impl VcRec {
    /// A VC with no call yet: created by the client (`ctx` comes with ProtocolCoCreateVc's
    /// answer) or by the driver through NdisMCmCreateVc (`ctx` known).
    pub fn new(af: AfHandle, ctx: Option<VcContext>, client_created: bool) -> VcRec {
        VcRec {
            af,
            ctx,
            client_created,
            state: VcState::Idle,
            before_close: VcState::Idle,
            active: false,
            multipoint: false,
            params: None,
            received: Vec::new(),
            want_close: false,
            sending: 0,
            deleting: false,
        }
    }
}

/// All host state, behind one mutex.
pub(crate) struct State {
    next_id: u32,
    pub family: Option<CoAddressFamily>,
    pub client_af: Option<AfHandle>,
    pub afs: HashMap<AfHandle, AfRec>,
    pub saps: HashMap<SapHandle, SapRec>,
    pub vcs: HashMap<VcHandle, VcRec>,
    pub parties: HashMap<PartyHandle, PartyRec>,
    pub nbls: HashMap<Nbl, NblRec>,
    pub client_params: HashMap<ClientParams, (VcHandle, CallParameters)>,
    pub rx_live: usize,
    pub rx_limit: usize,
    pub timer_due: Option<Duration>,
    pub policy: Policy,
    pub deferred: VecDeque<client::Action>,
    pub held_rx: Vec<Nbl>,
    pub send_completions: Vec<SendCompletion>,
    pub incoming: Vec<IncomingCall>,
    /// ProtocolClIncomingCloseCall / ProtocolClIncomingDropParty as seen: (vc, status, data).
    pub incoming_closes: Vec<(VcHandle, NdisStatus, Vec<u8>)>,
    pub status_indications: Vec<(Option<VcHandle>, StatusIndication)>,
    pub log: Vec<LogEntry>,
    /// Positions in `log` of the entries naming each VC, in order (so a VC's history costs its
    /// own entries, not the whole log: a 65 534-call run asks for every VC's).
    pub log_by_vc: HashMap<VcHandle, Vec<usize>>,
    pub verifier: Verifier,
}

impl State {
    pub fn alloc_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    fn entry(&mut self, kind: LogKind, name: String, vc: Option<VcHandle>, party: Option<PartyHandle>, cx: &Cx) {
        let seq = self.log.len();
        let stamp = crate::clock::next_stamp();
        if let Some(v) = vc {
            self.log_by_vc.entry(v).or_default().push(seq);
        }
        self.log.push(LogEntry { seq, stamp, time: cx.time, cpu: cx.cpu, irql: cx.irql, kind, name, vc, party });
    }

    /// Walks an NBL chain (stops after an unknown NBL, or at a loop).
    pub fn chain(&self, head: Nbl) -> Vec<Nbl> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut cur = Some(head);
        while let Some(n) = cur {
            if !seen.insert(n) {
                break;
            }
            // An unknown NBL (freed, completed, never issued) ends the chain but is reported.
            out.push(n);
            if !self.nbls.contains_key(&n) {
                break;
            }
            cur = self.nbls.get(&n).and_then(|r| r.next);
        }
        out
    }
}

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

impl Ndis for EmuNdis {
    type AfHandle = AfHandle;
    type SapHandle = SapHandle;
    type VcHandle = VcHandle;
    type PartyHandle = PartyHandle;
    type ClientParams = ClientParams;
    type Nbl = Nbl;
    type RawLock = LabSpinLock;

    fn cm_register_address_family_ex(&self, af: &CoAddressFamily) -> NdisStatus {
        let mut st = self.ndis_call(&Call::RegisterAf);
        if st.family.is_some() {
            return NdisStatus::FAILURE;
        }
        st.family = Some(*af);
        NdisStatus::SUCCESS
    }

    fn cm_open_address_family_complete(&self, status: NdisStatus, af: AfHandle, ctx: AfContext) {
        let mut st = self.ndis_call(&Call::OpenAfComplete { status, af });
        if let Some(a) = st.afs.get_mut(&af).filter(|a| a.state == AfState::Opening) {
            if status == NdisStatus::SUCCESS {
                a.state = AfState::Open;
                a.ctx = Some(ctx);
            } else {
                a.state = AfState::Closed;
            }
        }
        if status == NdisStatus::SUCCESS {
            st.client_af = Some(af);
        }
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClOpenAfCompleteEx({})", verifier::status_name(status)),
            None,
            None,
        );
    }

    fn cm_close_address_family_complete(&self, status: NdisStatus, af: AfHandle) {
        let st = self.ndis_call(&Call::CloseAfComplete { status, af });
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClCloseAfComplete({})", verifier::status_name(status)),
            None,
            None,
        );
        self.client().af_close_finished(af, status);
    }

    fn cm_notify_close_address_family(&self, af: AfHandle) -> NdisStatus {
        let c = Call::NotifyCloseAf { af };
        let mut st = self.ndis_call(&c);
        let open = st.afs.get(&af).is_some_and(|a| a.state == AfState::Open);
        if !open {
            st.verifier.call_returned(&c, NdisStatus::FAILURE);
            return NdisStatus::FAILURE;
        }
        if let Some(a) = st.afs.get_mut(&af) {
            a.teardown = true;
            a.notify = Notify::InCall;
        }
        drop(st);
        self.log_client(LogKind::ClientCallback, "ProtocolClNotifyCloseAf", None, None);
        self.client().teardown(af);
        let mut st = self.st();
        let closed = st.afs.get(&af).is_none_or(|a| a.state == AfState::Closed);
        let ret = if closed { NdisStatus::SUCCESS } else { NdisStatus::PENDING };
        if let Some(a) = st.afs.get_mut(&af) {
            a.notify = if closed { Notify::None } else { Notify::Returned };
        }
        st.verifier.call_returned(&c, ret);
        ret
    }

    fn cm_register_sap_complete(&self, status: NdisStatus, sap: SapHandle, ctx: SapContext) {
        let mut st = self.ndis_call(&Call::RegisterSapComplete { status, sap });
        if let Some(s) = st.saps.get_mut(&sap).filter(|s| s.state == SapState::Registering) {
            if status == NdisStatus::SUCCESS {
                s.state = SapState::Registered;
                s.ctx = Some(ctx);
            } else {
                s.state = SapState::Gone;
            }
        }
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClRegisterSapComplete({})", verifier::status_name(status)),
            None,
            None,
        );
    }

    fn cm_deregister_sap_complete(&self, status: NdisStatus, sap: SapHandle) {
        let mut st = self.ndis_call(&Call::DeregisterSapComplete { status, sap });
        let af = st.saps.get(&sap).map(|s| s.af);
        if let Some(s) = st.saps.get_mut(&sap).filter(|s| s.state == SapState::Deregistering) {
            s.state = if status == NdisStatus::SUCCESS { SapState::Gone } else { SapState::Registered };
        }
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClDeregisterSapComplete({})", verifier::status_name(status)),
            None,
            None,
        );
        if let Some(af) = af {
            self.client().continue_teardown(af);
        }
    }

    fn cm_create_vc(&self, af: AfHandle, ctx: VcContext) -> Result<VcHandle, NdisStatus> {
        let vc = VcHandle(self.st().alloc_id());
        let c = Call::CreateVc { af, vc };
        let injected = {
            let mut f = self.inner.fail_create_vc.lock().unwrap_or_else(|e| e.into_inner());
            (f.1 > 0).then(|| {
                f.1 -= 1;
                f.0
            })
        };
        let mut st = self.ndis_call(&c);
        if let Some(status) = injected {
            st.verifier.call_returned(&c, status);
            return Err(status);
        }
        let open = st.afs.get(&af).is_some_and(|a| a.state == AfState::Open || a.state == AfState::Closing);
        if !open {
            st.verifier.call_returned(&c, NdisStatus::FAILURE);
            return Err(NdisStatus::FAILURE);
        }
        st.vcs.insert(vc, VcRec::new(af, Some(ctx), false));
        st.verifier.call_returned(&c, NdisStatus::SUCCESS);
        drop(st);
        self.log_client(LogKind::ClientCallback, "ProtocolCoCreateVc->SUCCESS", Some(vc), None);
        Ok(vc)
    }

    fn cm_delete_vc(&self, vc: VcHandle) -> NdisStatus {
        let c = Call::DeleteVc { vc };
        let mut st = self.ndis_call(&c);
        let ret = match st.vcs.get(&vc) {
            None => NdisStatus::FAILURE,
            Some(r) if r.state == VcState::Deleted || r.client_created => NdisStatus::FAILURE,
            Some(r) if r.active => NdisStatus::NOT_ACCEPTED,
            Some(_) => NdisStatus::SUCCESS,
        };
        let af = st.vcs.get(&vc).map(|r| r.af);
        if ret == NdisStatus::SUCCESS {
            // The client's ProtocolCoDeleteVc: it stops sending on the handle and lets its own
            // sends still inside the driver finish first (as its NdisCoDeleteVc does). Those
            // began after the call closed; the driver completes them while the delete runs.
            if let Some(r) = st.vcs.get_mut(&vc) {
                r.deleting = true;
            }
            while st.vcs.get(&vc).is_some_and(|r| r.sending > 0) {
                drop(st);
                std::thread::yield_now();
                st = self.st();
            }
            if let Some(r) = st.vcs.get_mut(&vc) {
                r.state = VcState::Deleted;
                r.deleting = false;
            }
        }
        st.verifier.call_returned(&c, ret);
        drop(st);
        if ret == NdisStatus::SUCCESS {
            self.log_client(LogKind::ClientCallback, "ProtocolCoDeleteVc->SUCCESS", Some(vc), None);
            if let Some(af) = af {
                self.client().continue_teardown(af);
            }
        }
        ret
    }

    fn cm_activate_vc(&self, vc: VcHandle, params: &CallParameters) -> NdisStatus {
        let hook = self.inner.before_activate.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(f) = hook {
            f();
        }
        let mut st = self.ndis_call(&Call::ActivateVc { vc });
        match st.vcs.get_mut(&vc).filter(|r| r.state != VcState::Deleted) {
            Some(r) => {
                r.active = true;
                r.params = Some(*params);
                NdisStatus::SUCCESS
            }
            None => NdisStatus::FAILURE,
        }
    }

    fn cm_deactivate_vc(&self, vc: VcHandle) -> NdisStatus {
        let mut st = self.ndis_call(&Call::DeactivateVc { vc });
        match st.vcs.get_mut(&vc).filter(|r| r.state != VcState::Deleted) {
            Some(r) if r.active => {
                r.active = false;
                NdisStatus::SUCCESS
            }
            _ => NdisStatus::NOT_ACCEPTED,
        }
    }

    fn cm_make_call_complete(
        &self,
        status: NdisStatus,
        vc: VcHandle,
        party: Option<PartyHandle>,
        party_ctx: Option<PartyContext>,
        client: ClientParams,
        params: &CallParameters,
    ) {
        let _ = client;
        let st = self.ndis_call(&Call::MakeCallComplete { status, vc, party });
        drop(st);
        self.client().make_call_finished(vc, party, party_ctx, status, Some(*params), true);
    }

    fn cm_dispatch_incoming_call(&self, sap: SapHandle, vc: VcHandle, params: &CallParameters) -> NdisStatus {
        let c = Call::DispatchIncomingCall { sap, vc };
        let st = self.ndis_call(&c);
        drop(st);
        let ret = self.client().incoming_call(sap, vc, params);
        self.st().verifier.call_returned(&c, ret);
        ret
    }

    fn cm_dispatch_call_connected(&self, vc: VcHandle) {
        let mut st = self.ndis_call(&Call::DispatchCallConnected { vc });
        if let Some(r) = st.vcs.get_mut(&vc).filter(|r| r.state == VcState::Offered || r.state == VcState::Accepted) {
            r.state = VcState::Connected;
        }
        drop(st);
        self.log_client(LogKind::ClientCallback, "ProtocolClCallConnected", Some(vc), None);
    }

    fn cm_close_call_complete(&self, status: NdisStatus, vc: VcHandle, party: Option<PartyHandle>) {
        let st = self.ndis_call(&Call::CloseCallComplete { status, vc, party });
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClCloseCallComplete({})", verifier::status_name(status)),
            Some(vc),
            party,
        );
        self.client().close_finished(vc, status);
    }

    fn cm_dispatch_incoming_close_call(&self, status: NdisStatus, vc: VcHandle, data: &[u8]) {
        let st = self.ndis_call(&Call::DispatchIncomingCloseCall { status, vc });
        drop(st);
        self.client().incoming_close(status, vc, data);
    }

    fn cm_add_party_complete(
        &self,
        status: NdisStatus,
        party: PartyHandle,
        party_ctx: Option<PartyContext>,
        client: ClientParams,
        params: &CallParameters,
    ) {
        let _ = (client, params);
        let mut st = self.ndis_call(&Call::AddPartyComplete { status, party });
        let vc = st.parties.get(&party).map(|p| p.vc);
        if let Some(p) = st.parties.get_mut(&party).filter(|p| p.state == PartyState::Adding) {
            if status == NdisStatus::SUCCESS {
                p.state = PartyState::Active;
                p.ctx = party_ctx.or(p.ctx);
            } else {
                p.state = PartyState::Gone;
            }
        }
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClAddPartyComplete({})", verifier::status_name(status)),
            vc,
            Some(party),
        );
    }

    fn cm_drop_party_complete(&self, status: NdisStatus, party: PartyHandle) {
        let st = self.ndis_call(&Call::DropPartyComplete { status, party });
        let vc = st.parties.get(&party).map(|p| p.vc);
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClDropPartyComplete({})", verifier::status_name(status)),
            vc,
            Some(party),
        );
        self.client().drop_finished(party, status);
    }

    fn cm_dispatch_incoming_drop_party(&self, status: NdisStatus, party: PartyHandle, data: &[u8]) {
        let _ = data;
        let st = self.ndis_call(&Call::DispatchIncomingDropParty { status, party });
        let vc = st.parties.get(&party).map(|p| p.vc);
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClIncomingDropParty({})", verifier::status_name(status)),
            vc,
            Some(party),
        );
        self.client().incoming_drop(party);
    }

    fn cm_modify_call_qos_complete(
        &self,
        status: NdisStatus,
        vc: VcHandle,
        client: ClientParams,
        params: &CallParameters,
    ) {
        let _ = client;
        let mut st = self.ndis_call(&Call::ModifyQosComplete { status, vc });
        if status == NdisStatus::SUCCESS
            && let Some(r) = st.vcs.get_mut(&vc)
        {
            r.params = Some(*params);
        }
        drop(st);
        self.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClModifyCallQoSComplete({})", verifier::status_name(status)),
            Some(vc),
            None,
        );
    }

    fn co_send_net_buffer_lists_complete(&self, vc: VcHandle, nbls: Nbl, flags: u32) {
        let _ = flags;
        self.send_progress();
        let us = self.inner.send_preempt_us.load(Ordering::Relaxed);
        if us > 0 && IN_SEND.with(|c| c.get()) {
            std::thread::sleep(std::time::Duration::from_micros(us));
        }
        let (chain, statuses) = {
            let st = self.st();
            let chain = st.chain(nbls);
            let statuses: Vec<(Nbl, NdisStatus)> =
                chain.iter().map(|n| (*n, st.nbls.get(n).map_or(NdisStatus::FAILURE, |r| r.status))).collect();
            (chain, statuses)
        };
        let mut st = self.ndis_call(&Call::SendComplete { vc, nbls: statuses.clone() });
        for (n, status) in statuses {
            let frames = st.nbls.get(&n).filter(|r| matches!(r.kind, NblKind::Send)).map(|r| r.frames.clone());
            if frames.is_some() {
                st.nbls.remove(&n);
            }
            st.send_completions.push(SendCompletion { vc, nbl: n, status });
        }
        let _ = chain;
    }

    fn co_indicate_receive_net_buffer_lists(&self, vc: VcHandle, nbls: Nbl, count: u32, flags: u32) {
        let _ = count;
        let chain = self.st().chain(nbls);
        let mut st = self.ndis_call(&Call::IndicateReceive { vc, nbls: chain.clone(), flags });
        let mut frames = Vec::new();
        for n in &chain {
            if let Some(r) = st.nbls.get_mut(n) {
                r.owner = Some(vc);
                frames.extend(r.frames.iter().cloned());
            }
        }
        if let Some(r) = st.vcs.get_mut(&vc) {
            r.received.extend(frames);
        }
        let resources = flags & receive_flags::RESOURCES != 0;
        let hold = !resources && st.policy.return_receives == ReturnReceives::Hold;
        if hold {
            st.held_rx.push(nbls);
        }
        drop(st);
        self.log_client(LogKind::ClientCallback, "ProtocolCoReceiveNetBufferLists", Some(vc), None);
        if !resources && !hold {
            self.client().return_nbls(nbls);
        }
    }

    fn co_indicate_status_ex(&self, vc: Option<VcHandle>, indication: StatusIndication) {
        let (code, link) = Self::link_status(&indication);
        let mut st = self.ndis_call(&Call::IndicateStatus { vc, code, link });
        st.status_indications.push((vc, indication));
    }

    fn nbl_next(&self, nbl: Nbl) -> Option<Nbl> {
        self.st().nbls.get(&nbl).and_then(|r| r.next)
    }

    fn nbl_set_next(&self, nbl: Nbl, next: Option<Nbl>) {
        if let Some(r) = self.st().nbls.get_mut(&nbl) {
            r.next = next;
        }
    }

    fn nbl_set_status(&self, nbl: Nbl, status: NdisStatus) {
        self.send_progress();
        if let Some(r) = self.st().nbls.get_mut(&nbl) {
            r.status = status;
        }
    }

    fn nbl_frame_count(&self, nbl: Nbl) -> usize {
        self.st().nbls.get(&nbl).map_or(0, |r| r.frames.len())
    }

    fn nbl_frame_len(&self, nbl: Nbl, i: usize) -> usize {
        self.st().nbls.get(&nbl).and_then(|r| r.frames.get(i)).map_or(0, |f| f.len())
    }

    fn nbl_copy_frame(&self, nbl: Nbl, i: usize, dst: &mut [u8]) -> usize {
        let st = self.st();
        let Some(f) = st.nbls.get(&nbl).and_then(|r| r.frames.get(i)) else { return 0 };
        let n = f.len().min(dst.len());
        dst[..n].copy_from_slice(&f[..n]);
        n
    }

    fn rx_nbl_alloc(&self, tag: usize, data: &[u8]) -> Option<Nbl> {
        let mut st = self.st();
        if st.rx_live >= st.rx_limit {
            return None;
        }
        let n = Nbl(st.alloc_id());
        st.rx_live += 1;
        st.nbls.insert(
            n,
            NblRec {
                frames: vec![data.to_vec()],
                next: None,
                status: NdisStatus::SUCCESS,
                owner: None,
                kind: NblKind::Rx { tag },
            },
        );
        Some(n)
    }

    fn rx_nbl_tag(&self, nbl: Nbl) -> usize {
        match self.st().nbls.get(&nbl).map(|r| &r.kind) {
            Some(NblKind::Rx { tag }) => *tag,
            _ => 0,
        }
    }

    fn rx_nbl_free(&self, nbl: Nbl) {
        let mut st = self.st();
        if st.nbls.get(&nbl).is_some_and(|r| matches!(r.kind, NblKind::Rx { .. })) {
            st.nbls.remove(&nbl);
            st.rx_live = st.rx_live.saturating_sub(1);
        }
    }

    fn now(&self) -> Duration {
        self.inner.clock.now()
    }

    fn set_timer(&self, due: Duration) {
        self.st().timer_due = Some(due);
    }

    fn request_dpc(&self) {
        self.inner.dpc_requested.store(true, Ordering::Release);
    }

    fn current_cpu(&self) -> u32 {
        self.send_progress();
        self.preempt_closer();
        current_cpu()
    }
}
