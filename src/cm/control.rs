//! The call manager's state machine: every client request (ProtocolCm*), every signalling
//! message, timer and link event, and every NDIS call result meets the state here, under the
//! control lock. Nothing here calls NDIS: decisions become ops (`cm::ops`) that the adapter
//! performs with the lock released, in the order the contract demands.
//!
//! Transitions are `match (phase, event)`-shaped with a comment per arm; the phases are the CoNDIS
//! call states of `condis-contract.md` §7 and the UNI user-side states of Q.2931.

use core::time::Duration;

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use crate::cm::index::{CrefIndex, TimerHeap};
use crate::cm::objects::{AfObj, DataState, NO_PARTY, PartyObj, PartyPhase, Phase, SapObj, UU_MAX, UuBuf, VcObj};
use crate::cm::ops::{Work, WorkQueue, adapter_op, af_op, party_op, vc_op};
use crate::config::{Config, SignallingVariant};
use crate::ndis::{
    AalType, AfContext, AtmFlowParameters, AtmMediaParameters, CO_ADDRESS_FAMILY_Q2931, CallParameters, CloseData,
    CoAddressFamily, LinkState, Ndis, NdisStatus, PartyContext, Sap, SapContext, ServiceCategory, Token, VcContext,
    VpiVci, call_flags, media_flags,
};
use crate::nic::{ConnId, ConnParams};
use crate::uni::msg::{In, InKind, MAX_MESSAGE, Out, UnknownIeAction, UnknownMessageAction, cause};
use crate::uni::state::{CallRef, CallTimer, TimerKind, UniState};
use crate::vc::Table;

/// What the control state needs from the rest of the adapter (implemented by `Adapter`).
pub trait Env<N: Ndis> {
    fn now(&self) -> Duration;
    fn config(&self) -> &Config;
    /// Hands one Q.2931 message to the signalling AAL (SSCOP) for transmission on 0/5.
    fn send_message(&self, saal: &mut crate::saal::Link, msg: &[u8]) -> Result<(), crate::saal::SendError>;
    /// Opens a NIC connection.
    fn open_connection(&self, params: &ConnParams) -> Result<ConnId, NdisStatus>;
    /// Publishes a VC's data-path identity so the hot path can find it: slot, generation,
    /// NDIS handle, NIC connection. The rundown is reopened.
    fn datapath_open(&self, slot: usize, generation: u32, handle: N::VcHandle, conn: ConnId);
    /// Starts the data-path teardown of `slot` (sends stop at once; queued NBLs abort; the NIC
    /// connection closes). `Control::on_drained` follows, possibly from inside this call.
    fn datapath_teardown(&self, slot: usize, conn: Option<ConnId>);
    /// Forgets a VC slot's data-path identity (the VC was deleted).
    fn datapath_forget(&self, slot: usize);
}

/// What ProtocolCmCloseCall should do after the lock is dropped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CloseOutcome<H> {
    /// Return this status.
    Status(NdisStatus),
    /// The close completes synchronously: NdisMCmDeactivateVc(handle), then return SUCCESS.
    DeactivateThenSuccess(H),
}

/// Live object counts (the verifier's HALT-NO-LEAK looks at these).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveCounts {
    pub afs: usize,
    pub saps: usize,
    pub vcs: usize,
    pub calls: usize,
    pub parties: usize,
}

impl LiveCounts {
    /// Everything still alive.
    pub fn total(&self) -> usize {
        self.afs + self.saps + self.vcs + self.calls + self.parties
    }
}

/// Counters worth reporting.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub messages_in: u64,
    pub messages_out: u64,
    pub malformed_in: u64,
    pub unknown_cref: u64,
    /// Messages that waited in the backlog because the SSCOP queue was full.
    pub backlogged: u64,
    /// Messages lost: the backlog was full too, or the link was being released.
    pub messages_lost: u64,
    /// Impossible states met and survived (should stay 0).
    pub internal_errors: u64,
    /// Our RESTART went unanswered through every T316 (the maintenance indication, Q.2931
    /// §5.5.1): the VCs are out of service until the link is re-established.
    pub restart_unanswered: u64,
    /// T317 expired with restarted VCs still not idle (the maintenance indication, §5.5.2).
    pub restart_clearing_overdue: u64,
}

/// A release we sent for a call that no longer has a VC (its MakeCall already failed): kept only
/// to retransmit the RELEASE once on T308.
#[derive(Copy, Clone, Debug)]
struct Orphan {
    cref: CallRef,
    cause: u8,
    due: Duration,
    retransmitted: bool,
}

/// The control state. See the module docs.
pub struct Control<N: Ndis> {
    pub afs: Table<AfObj<N>>,
    pub saps: Table<SapObj<N>>,
    pub vcs: Table<VcObj<N>>,
    pub parties: Table<PartyObj<N>>,
    pub work: WorkQueue,
    pub adapter_ops: u16,
    adapter_queued: bool,
    /// The link state to indicate with the INDICATE_LINK op.
    pub link_report: LinkState,
    pub saal: crate::saal::Link,
    /// Physical layer up.
    phy_up: bool,
    /// SAAL link established.
    saal_up: bool,
    t309: Option<Duration>,
    /// The link came back: verify the surviving calls with STATUS ENQUIRY (Q.2931 §5.6.10).
    verify_calls: bool,
    /// A RESTART ACKNOWLEDGE owed once `restart_waiting` restarted VCs have drained (Q.2931
    /// §5.5.2: acknowledged when the resources are idle): (class, indicated VC).
    restart_ack: Option<(u8, Option<VpiVci>)>,
    restart_waiting: usize,
    /// Our own RESTART (class "all") is to be sent by the next `pump_backlog`.
    send_restart: bool,
    /// The halt began: outgoing calls still being set up are cleared by the next `pump_backlog`.
    abort_calls: bool,
    /// Our RESTART is outstanding (Restart Request, REST1): T316 expiries so far.
    restart_sent: Option<u8>,
    next_cref: u32,
    next_endpoint: u16,
    /// Released calls without a VC, in fixed slots (timer ids follow the slot).
    orphans: Vec<Option<Orphan>>,
    /// Every running timer: VC slot `i` is id `i`, orphan `k` is `max_vcs + k`, party slot `j`
    /// is `max_vcs + ORPHANS + j`, then the global call reference's T316 and T317 (see
    /// [`Control::global_timer_id`]), so equal deadlines fire in that order.
    timers: TimerHeap,
    /// Timer ids found due by one `on_timer`, handled after the heap is read (a handler that
    /// re-arms for `now` waits for the next call instead of looping).
    due: Vec<u32>,
    /// Call reference → VC slot, for incoming messages.
    crefs: CrefIndex,
    /// Live VC slots copied out before a walk that changes them (link loss, RESTART, T309).
    walk: Vec<u16>,
    /// Encoded messages waiting for room in the SSCOP transmit queue, in order.
    backlog: crate::msgq::MsgQueue,
    pub halting: bool,
    pub stats: Stats,
}

/// The Restart Indicator IE identifier (a STATUS #96 diagnostic).
const RESTART_INDICATOR_IE: u8 = 0x79;

/// Octets of encoded messages that may wait for the SSCOP window (thousands of SETUPs)...
const BACKLOG_BYTES: usize = 256 * 1024;
/// ...or this much per VC slot when that is more, so a storm on every VC at once (a SETUP or a
/// RELEASE each, 40–80 octets) waits instead of being lost.
const BACKLOG_PER_VC: usize = 96;
/// Released calls without a VC kept for one T308 retransmission.
const ORPHANS: usize = 64;
/// Timers on the global call reference, after the VC, orphan and party ids.
const GLOBAL_T316: usize = 0;
const GLOBAL_T317: usize = 1;
const GLOBAL_TIMERS: usize = 2;
/// RESTARTs sent per attempt: the first and one per T316 expiry (Q.2931 §5.5.1: default limit
/// of two consecutive unsuccessful attempts).
const N316: u8 = 2;
/// STATUS ENQUIRYs per enquiry: the first and one retransmission on T322 (`signalling.md`: T322 ×2).
const N322: u8 = 2;

fn status_for_cause(c: Option<u8>) -> NdisStatus {
    match c {
        Some(cause::UNALLOCATED_NUMBER) => NdisStatus::INVALID_ADDRESS,
        Some(cause::NO_ROUTE_TO_DESTINATION) => NdisStatus::NO_ROUTE_TO_DESTINATION,
        Some(cause::DESTINATION_OUT_OF_ORDER) => NdisStatus::DEST_OUT_OF_ORDER,
        Some(cause::VPCI_VCI_UNAVAILABLE) | Some(cause::NO_VPCI_VCI_AVAILABLE) => NdisStatus::VC_NOT_AVAILABLE,
        Some(37) => NdisStatus::CELLRATE_NOT_AVAILABLE,
        Some(cause::RESOURCE_UNAVAILABLE) => NdisStatus::RESOURCES,
        Some(cause::QOS_UNAVAILABLE) => NdisStatus::INCOMPATABLE_QOS,
        Some(93) => NdisStatus::AAL_PARAMS_UNSUPPORTED,
        _ => NdisStatus::FAILURE,
    }
}

impl<N: Ndis> Control<N> {
    /// All tables at their configured sizes; the only allocation the control path makes.
    pub fn new(config: &Config, saal: crate::saal::Link) -> Result<Self, TryReserveError> {
        let vcs = config.max_vcs.min(Token::MAX_SLOTS);
        let parties = config.max_parties.min(Token::MAX_SLOTS);
        let mut orphans = Vec::new();
        orphans.try_reserve_exact(ORPHANS)?;
        orphans.resize(ORPHANS, None);
        let timer_ids = vcs + ORPHANS + parties + GLOBAL_TIMERS;
        let mut due = Vec::new();
        due.try_reserve_exact(timer_ids)?;
        let mut walk = Vec::new();
        walk.try_reserve_exact(vcs)?;
        Ok(Control {
            afs: Table::with_capacity(8)?,
            saps: Table::with_capacity(64)?,
            vcs: Table::with_capacity(vcs)?,
            parties: Table::with_capacity(parties)?,
            work: WorkQueue::with_capacity(8 + vcs + parties + 1)?,
            adapter_ops: 0,
            adapter_queued: false,
            link_report: LinkState { connected: false, speed_bps: config.link_speed_bps },
            saal,
            phy_up: false,
            saal_up: false,
            t309: None,
            verify_calls: false,
            restart_ack: None,
            restart_waiting: 0,
            send_restart: false,
            abort_calls: false,
            restart_sent: None,
            next_cref: 1,
            next_endpoint: 1,
            orphans,
            timers: TimerHeap::with_capacity(timer_ids)?,
            due,
            crefs: CrefIndex::with_capacity(vcs)?,
            walk,
            backlog: crate::msgq::MsgQueue::new(BACKLOG_BYTES.max(vcs * BACKLOG_PER_VC))?,
            halting: false,
            stats: Stats::default(),
        })
    }

    pub fn live(&self) -> LiveCounts {
        LiveCounts {
            afs: self.afs.len(),
            saps: self.saps.len(),
            vcs: self.vcs.len(),
            calls: self.vcs.iter().filter(|(_, v)| v.phase != Phase::Idle).count(),
            parties: self.parties.len(),
        }
    }

    pub fn saal_up(&self) -> bool {
        self.saal_up
    }

    // ---- op plumbing ----------------------------------------------------------------------------

    fn vc_op(&mut self, vc: Token, op: u16) {
        let Some(v) = self.vcs.get_mut(vc) else {
            self.stats.internal_errors += 1;
            return;
        };
        v.ops |= op;
        if !v.queued {
            v.queued = true;
            if !self.work.push(Work::Vc(vc.index() as u16)) {
                self.stats.internal_errors += 1;
            }
        }
    }

    fn party_op(&mut self, p: Token, op: u16) {
        let Some(obj) = self.parties.get_mut(p) else {
            self.stats.internal_errors += 1;
            return;
        };
        obj.ops |= op;
        if !obj.queued {
            obj.queued = true;
            if !self.work.push(Work::Party(p.index() as u16)) {
                self.stats.internal_errors += 1;
            }
        }
    }

    fn af_op(&mut self, af: Token, op: u16) {
        let Some(obj) = self.afs.get_mut(af) else {
            self.stats.internal_errors += 1;
            return;
        };
        obj.ops |= op;
        if !obj.queued {
            obj.queued = true;
            if !self.work.push(Work::Af(af.index() as u16)) {
                self.stats.internal_errors += 1;
            }
        }
    }

    fn adapter_op(&mut self, op: u16) {
        self.adapter_ops |= op;
        if !self.adapter_queued {
            self.adapter_queued = true;
            if !self.work.push(Work::Adapter) {
                self.stats.internal_errors += 1;
            }
        }
    }

    /// The drainer is done with `Work::Adapter` for now.
    pub fn adapter_dequeued(&mut self) {
        self.adapter_queued = false;
    }

    // ---- signalling output ------------------------------------------------------------------------

    fn emit(&mut self, env: &impl Env<N>, out: &Out<'_>) {
        let mut buf = [0u8; MAX_MESSAGE];
        match crate::uni::msg::encode(out, &mut buf) {
            Some(n) => {
                self.stats.messages_out += 1;
                let Some(msg) = buf.get(..n) else { return };
                // Order is kept: once anything waits, everything after it waits too.
                let sent = self.backlog.is_empty() && env.send_message(&mut self.saal, msg).is_ok();
                if !sent {
                    self.stats.backlogged += 1;
                    if self.backlog.push(msg).is_err() {
                        self.stats.messages_lost += 1;
                    }
                }
            }
            None => self.stats.internal_errors += 1,
        }
    }

    /// Moves backlogged messages into the SSCOP queue while it has room.
    pub fn pump_backlog(&mut self, env: &impl Env<N>) {
        if core::mem::take(&mut self.verify_calls) && self.saal_up {
            self.verify_surviving_calls(env);
        }
        if core::mem::take(&mut self.abort_calls) {
            self.abort_pending_calls(env);
        }
        if core::mem::take(&mut self.send_restart) && self.saal_up && env.config().restart_on_link_up {
            self.send_restart(env);
        }
        let mut buf = [0u8; MAX_MESSAGE];
        while let Some(n) = self.backlog.peek(&mut buf) {
            let msg = buf.get(..n).unwrap_or(&[]);
            match env.send_message(&mut self.saal, msg) {
                Ok(()) => self.backlog.pop(),
                Err(crate::saal::SendError::QueueFull) => return,
                // The link is going away (or the message cannot ever be sent): Q.2931 recovers.
                Err(_) => {
                    self.stats.messages_lost += 1;
                    self.backlog.pop();
                }
            }
        }
    }

    fn alloc_cref(&mut self) -> CallRef {
        let value = self.next_cref;
        self.next_cref = if self.next_cref >= 0x7f_ffff { 1 } else { self.next_cref + 1 };
        CallRef { value, ours: true }
    }

    fn start_timer(&mut self, env: &impl Env<N>, vc: Token, kind: TimerKind) {
        let t = &env.config().timers;
        let d = match kind {
            TimerKind::T303 => t.t303,
            TimerKind::T308 => t.t308,
            TimerKind::T309 => t.t309,
            TimerKind::T310 => t.t310,
            TimerKind::T313 => t.t313,
            TimerKind::T322 => t.t322,
        };
        let now = env.now();
        if let Some(v) = self.vcs.get_mut(vc) {
            let expiries = match v.timer {
                Some(old) if old.kind == kind => old.expiries,
                _ => 0,
            };
            let due = now.saturating_add(d);
            v.timer = Some(CallTimer { kind, due, expiries });
            self.timers.set(vc.index(), due);
        }
    }

    fn stop_timer(&mut self, vc: Token) {
        if let Some(v) = self.vcs.get_mut(vc) {
            v.timer = None;
            self.timers.cancel(vc.index());
        }
    }

    /// Timer id of `GLOBAL_T316` / `GLOBAL_T317`.
    fn global_timer_id(&self, which: usize) -> usize {
        self.vcs.capacity() + ORPHANS + self.parties.capacity() + which
    }

    fn party_timer_id(&self, p: Token) -> usize {
        self.vcs.capacity() + ORPHANS + p.index()
    }

    /// Sets (or clears) a party's T398/T399 deadline.
    fn set_party_timer(&mut self, p: Token, due: Option<Duration>) {
        let id = self.party_timer_id(p);
        let Some(obj) = self.parties.get_mut(p) else { return };
        obj.timer_due = due;
        match due {
            Some(d) => self.timers.set(id, d),
            None => {
                self.timers.cancel(id);
                true
            }
        };
    }

    /// The earliest deadline of anything the control state runs: O(1).
    pub fn next_deadline(&self) -> Option<Duration> {
        let timers = self.timers.earliest().map(|(d, _)| d);
        timers.into_iter().chain(self.t309).chain(self.saal.next_deadline()).min()
    }

    // ---- address family and SAPs ------------------------------------------------------------------

    /// ProtocolCmOpenAf.
    pub fn open_af(&mut self, af: &CoAddressFamily, handle: N::AfHandle) -> Result<AfContext, NdisStatus> {
        if af.address_family != CO_ADDRESS_FAMILY_Q2931 {
            return Err(NdisStatus::NOT_SUPPORTED);
        }
        if self.halting {
            return Err(NdisStatus::CLOSING);
        }
        let obj = AfObj { handle, notified: false, close_pending: false, children: 0, ops: 0, queued: false };
        self.afs.insert(obj).map(AfContext).map_err(|_| NdisStatus::RESOURCES)
    }

    /// ProtocolCmCloseAf: completes at once when the AF has no SAP and no VC left, else pends
    /// until the last one is gone.
    pub fn close_af(&mut self, af: AfContext) -> NdisStatus {
        let busy = self.af_busy(af);
        let Some(obj) = self.afs.get_mut(af.0) else {
            return NdisStatus::INVALID_PARAMETER;
        };
        if obj.close_pending {
            return NdisStatus::CLOSING;
        }
        if busy {
            obj.close_pending = true;
            return NdisStatus::PENDING;
        }
        if obj.ops != 0 || obj.queued {
            // An op (the close completion of an earlier close) is still due; cannot happen once
            // close_pending was checked, but never free an object with ops outstanding.
            obj.close_pending = true;
            return NdisStatus::PENDING;
        }
        self.afs.remove(af.0);
        NdisStatus::SUCCESS
    }

    fn af_busy(&self, af: AfContext) -> bool {
        self.afs.get(af.0).is_some_and(|a| a.children > 0)
    }

    /// A SAP or VC of `af` was created.
    fn af_child_born(&mut self, af: AfContext) {
        if let Some(a) = self.afs.get_mut(af.0) {
            a.children = a.children.saturating_add(1);
        }
    }

    /// A SAP or VC of `af` went away: re-checks a pending CloseAf.
    fn af_child_gone(&mut self, af: AfContext) {
        if let Some(a) = self.afs.get_mut(af.0) {
            a.children = a.children.saturating_sub(1);
        }
        let busy = self.af_busy(af);
        let due =
            matches!(self.afs.get(af.0), Some(obj) if obj.close_pending && obj.ops & af_op::CLOSE_AF_COMPLETE == 0);
        if due && !busy {
            self.af_op(af.0, af_op::CLOSE_AF_COMPLETE);
        }
    }

    /// ProtocolCmRegisterSap.
    pub fn register_sap(&mut self, af: AfContext, sap: &Sap, handle: N::SapHandle) -> Result<SapContext, NdisStatus> {
        match self.afs.get(af.0) {
            None => return Err(NdisStatus::INVALID_PARAMETER),
            Some(a) if a.close_pending || a.notified => return Err(NdisStatus::CLOSING),
            Some(_) => {}
        }
        if self.saps.iter().any(|(_, s)| s.sap.address == sap.address) {
            return Err(NdisStatus::SAP_IN_USE);
        }
        let sap =
            self.saps.insert(SapObj { handle, af, sap: *sap }).map(SapContext).map_err(|_| NdisStatus::RESOURCES)?;
        self.af_child_born(af);
        Ok(sap)
    }

    /// ProtocolCmDeregisterSap: calls already offered through it are unaffected.
    pub fn deregister_sap(&mut self, sap: SapContext) -> NdisStatus {
        let Some(obj) = self.saps.remove(sap.0) else {
            return NdisStatus::INVALID_PARAMETER;
        };
        self.af_child_gone(obj.af);
        NdisStatus::SUCCESS
    }

    // ---- VCs --------------------------------------------------------------------------------------

    /// ProtocolCoCreateVc (client-created VC).
    pub fn create_vc(&mut self, af: AfContext, handle: N::VcHandle) -> Result<VcContext, NdisStatus> {
        match self.afs.get(af.0) {
            None => return Err(NdisStatus::INVALID_PARAMETER),
            Some(a) if a.close_pending => return Err(NdisStatus::CLOSING),
            Some(_) => {}
        }
        let vc = self.vcs.insert(VcObj::new(af, Some(handle), false)).map_err(|_| NdisStatus::RESOURCES)?;
        self.af_child_born(af);
        Ok(VcContext(vc))
    }

    /// Frees a VC slot and everything indexed by it (timer, call reference, data path, AF count).
    fn remove_vc(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.remove(vc) else { return };
        self.timers.cancel(vc.index());
        if let Some(c) = v.cref {
            self.crefs.remove(c, vc.index());
        }
        env.datapath_forget(vc.index());
        self.af_child_gone(v.af);
    }

    /// ProtocolCoDeleteVc: only for a client VC with no call; NOT_ACCEPTED otherwise (never
    /// PENDING).
    pub fn delete_vc(&mut self, env: &impl Env<N>, vc: VcContext) -> NdisStatus {
        let Some(v) = self.vcs.get(vc.0) else {
            return NdisStatus::INVALID_PARAMETER;
        };
        if v.ours || v.active || v.phase != Phase::Idle || v.ops != 0 || v.queued {
            return NdisStatus::NOT_ACCEPTED;
        }
        self.remove_vc(env, vc.0);
        NdisStatus::SUCCESS
    }

    // ---- outgoing calls ---------------------------------------------------------------------------

    fn check_params(env: &impl Env<N>, p: &CallParameters) -> Result<(), NdisStatus> {
        if p.media.aal_type != AalType::Aal5 {
            return Err(NdisStatus::AAL_PARAMS_UNSUPPORTED);
        }
        let line_cps = env.config().link_speed_bps / 424;
        for f in [&p.media.transmit, &p.media.receive] {
            if u64::from(f.pcr) > line_cps {
                return Err(NdisStatus::CELLRATE_NOT_AVAILABLE);
            }
            if f.max_sdu_size > 65_535 {
                return Err(NdisStatus::INCOMPATABLE_QOS);
            }
        }
        Ok(())
    }

    /// ProtocolCmMakeCall.
    pub fn make_call(
        &mut self,
        env: &impl Env<N>,
        vc: VcContext,
        params: &mut CallParameters,
        client: N::ClientParams,
        party: Option<N::PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        let Some(v) = self.vcs.get(vc.0) else {
            return (NdisStatus::INVALID_PARAMETER, None);
        };
        if self.halting {
            return (NdisStatus::CLOSING, None);
        }
        if v.ours || v.phase != Phase::Idle || v.ops != 0 || v.queued {
            return (NdisStatus::INVALID_STATE, None);
        }
        let Some(handle) = v.handle else {
            return (NdisStatus::INVALID_STATE, None);
        };
        if let Err(s) = Self::check_params(env, params) {
            return (s, None);
        }
        let multipoint = params.is_multipoint();
        if multipoint != party.is_some() {
            return (NdisStatus::INVALID_PARAMETER, None);
        }
        if params.is_permanent() {
            return self.make_pvc(env, vc, handle, params, client, party);
        }
        if params.called.is_none() {
            return (NdisStatus::INVALID_ADDRESS, None);
        }
        let party_ctx = match party {
            Some(ph) => {
                let endpoint = 0;
                let obj = PartyObj {
                    handle: ph,
                    vc,
                    endpoint,
                    phase: PartyPhase::Initial,
                    client: None,
                    params: Some(*params),
                    timer_due: None,
                    ops: 0,
                    queued: false,
                    op_status: NdisStatus::SUCCESS,
                    drop_data: UuBuf::EMPTY,
                    free_after_ops: false,
                    prev: NO_PARTY,
                    next: NO_PARTY,
                };
                match self.insert_party(obj) {
                    Some(t) => Some(PartyContext(t)),
                    None => return (NdisStatus::RESOURCES, None),
                }
            }
            None => None,
        };
        let cref = self.alloc_cref();
        if let Some(v) = self.vcs.get_mut(vc.0) {
            v.phase = Phase::MakePending;
            v.params = Some(*params);
            v.client = Some(client);
            v.multipoint = multipoint;
            v.parties = u16::from(multipoint);
            v.uni = UniState::CallInitiated;
            v.cref = Some(cref);
            v.network_done = false;
            self.crefs.insert(cref, vc.0.index());
        }
        self.emit(env, &Out::Setup { cref, params, multipoint });
        self.start_timer(env, vc.0, TimerKind::T303);
        (NdisStatus::PENDING, party_ctx)
    }

    /// A permanent VC: no signalling; open the connection, activate, complete.
    fn make_pvc(
        &mut self,
        env: &impl Env<N>,
        vc: VcContext,
        handle: N::VcHandle,
        params: &mut CallParameters,
        client: N::ClientParams,
        party: Option<N::PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        if party.is_some() {
            return (NdisStatus::NOT_SUPPORTED, None);
        }
        let id = params.media.connection_id;
        if id.vpi == 0 && id.vci < 32 {
            return (NdisStatus::INVALID_DATA, None);
        }
        let conn = match env.open_connection(&conn_params(params)) {
            Ok(c) => c,
            Err(s) => return (s, None),
        };
        env.datapath_open(vc.0.index(), vc.0.generation(), handle, conn);
        if let Some(v) = self.vcs.get_mut(vc.0) {
            v.phase = Phase::MakePending;
            v.params = Some(*params);
            v.client = Some(client);
            v.conn = Some(conn);
            v.data = DataState::Open;
            v.network_done = true;
        }
        self.vc_op(vc.0, vc_op::ACTIVATE_VC);
        (NdisStatus::PENDING, None)
    }

    // ---- closing ----------------------------------------------------------------------------------

    fn check_close_data(env: &impl Env<N>, data: CloseData<'_>) -> Result<UuBuf, NdisStatus> {
        match (env.config().variant, data) {
            // Nothing to carry: fine in every variant.
            (_, CloseData::None) => Ok(UuBuf::EMPTY),
            // UNI 3.1's RELEASE has no user-user IE: the medium cannot send close data.
            (SignallingVariant::Uni31, _) => Err(NdisStatus::INVALID_DATA),
            // UNI 4.0 carries up to 128 octets in the user-user IE; more never gets truncated.
            (SignallingVariant::Uni40, CloseData::Oversized(_)) => Err(NdisStatus::INVALID_LENGTH),
            (SignallingVariant::Uni40, CloseData::Bytes(b)) => UuBuf::new(b).ok_or(NdisStatus::INVALID_LENGTH),
        }
    }

    /// ProtocolCmCloseCall.
    pub fn close_call(
        &mut self,
        env: &impl Env<N>,
        vc: VcContext,
        party: Option<PartyContext>,
        data: CloseData<'_>,
    ) -> CloseOutcome<N::VcHandle> {
        use CloseOutcome::Status;
        let Some(v) = self.vcs.get(vc.0) else {
            return Status(NdisStatus::INVALID_PARAMETER);
        };
        let phase = v.phase;
        let multipoint = v.multipoint;
        let parties = v.parties;
        // Party rules: NULL for point-to-point, the last remaining party for multipoint.
        match (multipoint, party) {
            (false, Some(_)) => return Status(NdisStatus::INVALID_PARAMETER),
            (true, None) => return Status(NdisStatus::INVALID_PARAMETER),
            (true, Some(p)) => {
                match self.parties.get(p.0) {
                    Some(obj) if obj.vc == vc => {}
                    _ => return Status(NdisStatus::INVALID_PARAMETER),
                }
                if parties > 1 {
                    return Status(NdisStatus::FAILURE);
                }
            }
            (false, None) => {}
        }
        let uu = match Self::check_close_data(env, data) {
            Ok(uu) => uu,
            Err(s) => return Status(s),
        };
        match phase {
            // C1: the SETUP is outstanding. MakeCall completes with REQUEST_ABORTED, the network
            // gets a RELEASE, and the close pends until the release is confirmed.
            Phase::MakePending => {
                let pvc = self.vcs.get(vc.0).is_some_and(|v| v.cref.is_none());
                if let Some(v) = self.vcs.get_mut(vc.0) {
                    v.make_status = NdisStatus::REQUEST_ABORTED;
                    v.phase = Phase::Closing;
                    v.close_party = party;
                    v.close_pended = true;
                    v.ops &= !vc_op::ACTIVATE_VC;
                }
                self.vc_op(vc.0, vc_op::MAKE_CALL_COMPLETE);
                if !pvc {
                    self.release_towards_network(env, vc.0, cause::NORMAL_CALL_CLEARING, uu);
                }
                self.start_teardown(env, vc.0);
                self.advance_close(env, vc.0);
                Status(NdisStatus::PENDING)
            }
            // C3/C4 (local close) and C5 (the client answering our incoming close): the close
            // proper.
            Phase::Accepted | Phase::Connected | Phase::RemoteClosing => {
                let remote = phase == Phase::RemoteClosing;
                if let Some(v) = self.vcs.get_mut(vc.0) {
                    v.phase = Phase::Closing;
                    v.close_party = party;
                    // The client closed before our incoming-close dispatch was made: it is moot.
                    if v.ops & vc_op::DISPATCH_INCOMING_CLOSE != 0 {
                        v.ops &= !vc_op::DISPATCH_INCOMING_CLOSE;
                    }
                }
                if !remote {
                    self.release_towards_network(env, vc.0, cause::NORMAL_CALL_CLEARING, uu);
                }
                self.start_teardown(env, vc.0);
                // Synchronous completion: nothing outstanding on the network or the data path,
                // no NDIS call owed first, and a client VC (an MCM VC must be deleted after the
                // completion, so it always completes through NdisMCmCloseCallComplete).
                let sync = self.vcs.get(vc.0).and_then(|v| {
                    let quiet = v.network_done
                        && matches!(v.data, DataState::None | DataState::Drained)
                        && v.ops == 0
                        && !v.queued
                        && !v.ours;
                    quiet.then_some((v.active, v.handle))
                });
                match sync {
                    Some((active, handle)) => {
                        self.finish_client_close(vc.0);
                        match (active, handle) {
                            (true, Some(h)) => CloseOutcome::DeactivateThenSuccess(h),
                            _ => Status(NdisStatus::SUCCESS),
                        }
                    }
                    None => {
                        if let Some(v) = self.vcs.get_mut(vc.0) {
                            v.close_pended = true;
                        }
                        self.advance_close(env, vc.0);
                        Status(NdisStatus::PENDING)
                    }
                }
            }
            // A second close while one is in progress.
            Phase::Closing => Status(NdisStatus::CLOSING),
            // No call to close.
            Phase::Idle => Status(NdisStatus::INVALID_STATE),
            // The client has not been given this call (or is still deciding on it).
            Phase::Offering | Phase::OfferPending | Phase::Rejecting => Status(NdisStatus::INVALID_STATE),
        }
    }

    /// Sends RELEASE (if the call is still up on the network) and starts T308.
    fn release_towards_network(&mut self, env: &impl Env<N>, vc: Token, c: u8, uu: UuBuf) {
        let Some(v) = self.vcs.get(vc) else { return };
        let Some(cref) = v.cref else { return };
        match v.uni {
            // Already released or being released: nothing more to say.
            UniState::Null | UniState::ReleaseRequest | UniState::ReleaseIndication => {}
            _ if !self.saal_up => {
                // No signalling link: the call is cleared locally.
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.uni = UniState::Null;
                    v.network_done = true;
                    v.timer = None;
                    self.timers.cancel(vc.index());
                }
            }
            _ => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.uni = UniState::ReleaseRequest;
                    v.network_done = false;
                    v.incoming_close_data = uu;
                }
                self.emit(env, &Out::Release { cref, cause: c, timer: None, user_user: uu.as_slice() });
                self.start_timer(env, vc, TimerKind::T308);
                if let Some(v) = self.vcs.get_mut(vc)
                    && let Some(t) = v.timer.as_mut()
                {
                    t.expiries = 0;
                }
            }
        }
    }

    /// Stops sends on the VC and starts its data-path teardown (idempotent).
    fn start_teardown(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        match v.data {
            DataState::Open => {
                v.data = DataState::Draining;
                let conn = v.conn;
                env.datapath_teardown(vc.index(), conn);
            }
            DataState::None => v.data = DataState::Drained,
            DataState::Draining | DataState::Drained => {}
        }
    }

    /// The data path of slot `index` is drained: nothing in flight, NIC connection closed.
    pub fn on_drained(&mut self, env: &impl Env<N>, index: usize) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        if let Some(v) = self.vcs.get_mut(vc) {
            if v.data != DataState::Draining {
                return;
            }
            v.data = DataState::Drained;
            v.conn = None;
        }
        // The VC is really closed now: the RELEASE COMPLETE owed to the network can go, and a
        // RESTART waiting for it may be acknowledged.
        self.pay_release_complete(env, vc);
        self.pay_restart_ack(env, vc);
        self.advance_close(env, vc);
    }

    /// One restarted VC is idle; the RESTART ACKNOWLEDGE goes when the last one is.
    fn pay_restart_ack(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        if !core::mem::take(&mut v.owe_restart_ack) {
            return;
        }
        self.restart_waiting = self.restart_waiting.saturating_sub(1);
        if self.restart_waiting == 0
            && let Some((class, vc)) = self.restart_ack.take()
        {
            self.timers.cancel(self.global_timer_id(GLOBAL_T317));
            self.emit(env, &Out::RestartAck { class, vc });
        }
    }

    /// STATUS ENQUIRY for every active call after the link came back within T309.
    fn verify_surviving_calls(&mut self, env: &impl Env<N>) {
        for i in 0..self.vcs.capacity() {
            let Some(t) = self.vcs.token_at(i) else { continue };
            let Some(v) = self.vcs.get(t) else { continue };
            if let (UniState::Active, Some(cref)) = (v.uni, v.cref) {
                self.emit(env, &Out::StatusEnquiry { cref });
                self.start_timer(env, t, TimerKind::T322);
            }
        }
    }

    fn pay_release_complete(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        if !v.owe_release_complete || v.data != DataState::Drained {
            return;
        }
        v.owe_release_complete = false;
        v.uni = UniState::Null;
        let cref = v.cref;
        let error = v.release_complete_error.take();
        if let Some(cref) = cref
            && self.saal_up
        {
            self.emit(env, &Self::release_complete(cref, error));
        }
    }

    /// RELEASE COMPLETE answering a RELEASE: with #96 / #100 and the IE when it was in error.
    fn release_complete(cref: CallRef, error: Option<(u8, u8)>) -> Out<'static> {
        match error {
            Some((cause, ie)) => Out::ReleaseCompleteDiag { cref, cause, diagnostic: ie },
            None => Out::ReleaseComplete { cref, cause: None },
        }
    }

    /// Moves a closing/rejecting VC on once both the network and the data path are done.
    fn advance_close(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get(vc) else { return };
        let settled = v.network_done && matches!(v.data, DataState::None | DataState::Drained);
        if !settled {
            return;
        }
        match v.phase {
            // A failed MakeCall completes once nothing of the call is left.
            Phase::MakePending if v.make_failed && v.ops & vc_op::MAKE_CALL_COMPLETE == 0 => {
                let mut ops = vc_op::MAKE_CALL_COMPLETE;
                if v.active {
                    ops |= vc_op::DEACTIVATE_VC;
                }
                self.vc_op(vc, ops);
            }
            // The pended close completes: deactivate → complete → delete (MCM VC).
            Phase::Closing if v.close_pended && v.ops & vc_op::CLOSE_CALL_COMPLETE == 0 => {
                let mut ops = vc_op::CLOSE_CALL_COMPLETE;
                if v.active {
                    ops |= vc_op::DEACTIVATE_VC;
                }
                if v.ours {
                    ops |= vc_op::DELETE_VC;
                }
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.close_status = NdisStatus::SUCCESS;
                }
                self.vc_op(vc, ops);
            }
            // A refused or failed incoming call: deactivate (if active) → delete; or just free
            // the slot if NDIS never knew the VC.
            Phase::Rejecting if v.ops & vc_op::DELETE_VC == 0 => match v.handle {
                Some(_) => {
                    let mut ops = vc_op::DELETE_VC;
                    if v.active {
                        ops |= vc_op::DEACTIVATE_VC;
                    }
                    self.vc_op(vc, ops);
                }
                None if v.ops == 0 && !v.queued => self.remove_vc(env, vc),
                None => {}
            },
            _ => {}
        }
    }

    /// A client VC whose close completes synchronously: deactivated and back to idle, reusable.
    fn finish_client_close(&mut self, vc: Token) {
        self.deactivating(vc.index());
        self.close_call_completing(vc.index());
    }

    /// Parties of this VC without ops are freed now; those with ops outstanding are freed after
    /// them. Walks the VC's own party list.
    fn free_parties_of(&mut self, vc: Token) {
        let mut at = self.vcs.get(vc).map_or(NO_PARTY, |v| v.first_party);
        for _ in 0..self.parties.capacity() {
            let Some(t) = self.parties.token_at(usize::from(at)) else { break };
            let Some(p) = self.parties.get_mut(t) else { break };
            if p.vc.0 != vc {
                break;
            }
            at = p.next;
            if p.ops == 0 && !p.queued {
                self.remove_party(t);
            } else {
                p.free_after_ops = true;
            }
        }
    }

    // ---- incoming calls ---------------------------------------------------------------------------

    /// ProtocolCmIncomingCallComplete.
    pub fn incoming_call_complete(
        &mut self,
        env: &impl Env<N>,
        status: NdisStatus,
        vc: VcContext,
        params: &CallParameters,
    ) {
        let Some(v) = self.vcs.get(vc.0) else {
            self.stats.internal_errors += 1;
            return;
        };
        if v.phase != Phase::OfferPending {
            self.stats.internal_errors += 1;
            return;
        }
        let network_gone = v.network_done;
        match (status == NdisStatus::SUCCESS, network_gone) {
            // The caller hung up while the client was deciding and the client accepted: the call
            // exists for NDIS now, so it ends with an incoming close (the client's close then
            // deactivates; the VC is deleted after), never a bare delete.
            (true, true) => self.remote_close(env, vc.0, NdisStatus::SUCCESS, UuBuf::EMPTY, false),
            // ... and the client refused: refuse now (row 8).
            (false, true) => self.reject_incoming(env, vc.0, None),
            // Accepted: check what the client proposes, then CONNECT.
            (true, false) => match Self::check_accept(env, v.params.as_ref(), params) {
                Ok(()) => self.accept_incoming(env, vc.0),
                Err(st) => {
                    // Unsupportable parameters: refuse the call on the network and tell the client
                    // with NdisMCmDispatchIncomingCloseCall(error).
                    if let Some(cref) = self.vcs.get(vc.0).and_then(|v| v.cref) {
                        self.emit(env, &Out::ReleaseComplete { cref, cause: Some(cause::QOS_UNAVAILABLE) });
                    }
                    self.remote_close(env, vc.0, st, UuBuf::EMPTY, false);
                }
            },
            // Refused by the client.
            (false, false) => self.reject_incoming(env, vc.0, Some(cause::CALL_REJECTED)),
        }
    }

    fn check_accept(env: &impl Env<N>, offered: Option<&CallParameters>, p: &CallParameters) -> Result<(), NdisStatus> {
        Self::check_params(env, p)?;
        let Some(o) = offered else { return Err(NdisStatus::FAILURE) };
        if p.media.connection_id != o.media.connection_id {
            return Err(NdisStatus::VC_NOT_AVAILABLE);
        }
        if p.media.transmit.pcr > o.media.transmit.pcr && o.media.transmit.pcr != 0 {
            return Err(NdisStatus::CELLRATE_NOT_AVAILABLE);
        }
        Ok(())
    }

    fn accept_incoming(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(cref) = self.vcs.get(vc).and_then(|v| v.cref) else { return };
        if let Some(v) = self.vcs.get_mut(vc) {
            v.phase = Phase::Accepted;
            v.uni = UniState::ConnectRequest;
        }
        self.emit(env, &Out::Connect { cref });
        self.start_timer(env, vc, TimerKind::T313);
    }

    /// Refuses an incoming call: RELEASE COMPLETE (when `c` is given and the network still has
    /// it), then the VC goes (deactivate, delete).
    fn reject_incoming(&mut self, env: &impl Env<N>, vc: Token, c: Option<u8>) {
        let Some(v) = self.vcs.get(vc) else { return };
        let cref = v.cref;
        let still_up = !v.network_done;
        if let (Some(cref), Some(c), true) = (cref, c, still_up && self.saal_up) {
            self.emit(env, &Out::ReleaseComplete { cref, cause: Some(c) });
        }
        if let Some(v) = self.vcs.get_mut(vc) {
            v.phase = Phase::Rejecting;
            v.uni = UniState::Null;
            v.network_done = true;
            v.timer = None;
            self.timers.cancel(vc.index());
        }
        self.start_teardown(env, vc);
        self.advance_close(env, vc);
    }

    /// The remote side (or a failure) ends an accepted/connected call: tell the client with
    /// NdisMCmDispatchIncomingCloseCall(status); its NdisClCloseCall then drives the close.
    fn remote_close(&mut self, env: &impl Env<N>, vc: Token, status: NdisStatus, uu: UuBuf, owe_rc: bool) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        if v.dispatched_close || v.phase == Phase::Closing {
            // At most one incoming close per call, none once the client's close began.
            if v.phase == Phase::Closing {
                v.network_done = true;
                v.owe_release_complete |= owe_rc;
            }
            self.pay_release_complete(env, vc);
            self.advance_close(env, vc);
            return;
        }
        v.phase = Phase::RemoteClosing;
        v.dispatched_close = true;
        v.network_done = true;
        v.owe_release_complete = owe_rc;
        v.uni = if owe_rc { UniState::ReleaseIndication } else { UniState::Null };
        v.timer = None;
        self.timers.cancel(vc.index());
        v.incoming_close_status = status;
        v.incoming_close_data = uu;
        self.vc_op(vc, vc_op::DISPATCH_INCOMING_CLOSE);
        self.start_teardown(env, vc);
        self.pay_release_complete(env, vc);
    }

    // ---- parties ----------------------------------------------------------------------------------

    /// ProtocolCmAddParty.
    pub fn add_party(
        &mut self,
        env: &impl Env<N>,
        vc: VcContext,
        params: &CallParameters,
        client: N::ClientParams,
        handle: N::PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus> {
        let Some(v) = self.vcs.get(vc.0) else {
            return Err(NdisStatus::INVALID_PARAMETER);
        };
        if !v.multipoint {
            return Err(NdisStatus::NOT_SUPPORTED);
        }
        if v.phase != Phase::Connected {
            return Err(NdisStatus::INVALID_STATE);
        }
        if params.called.is_none() {
            return Err(NdisStatus::INVALID_ADDRESS);
        }
        let Some(cref) = v.cref else { return Err(NdisStatus::INVALID_STATE) };
        let endpoint = self.next_endpoint;
        self.next_endpoint = if self.next_endpoint >= 0x7fff { 1 } else { self.next_endpoint + 1 };
        let obj = PartyObj {
            handle,
            vc,
            endpoint,
            phase: PartyPhase::Adding,
            client: Some(client),
            params: Some(*params),
            timer_due: None,
            ops: 0,
            queued: false,
            op_status: NdisStatus::SUCCESS,
            drop_data: UuBuf::EMPTY,
            free_after_ops: false,
            prev: NO_PARTY,
            next: NO_PARTY,
        };
        let p = self.insert_party(obj).ok_or(NdisStatus::RESOURCES)?;
        self.set_party_timer(p, Some(env.now().saturating_add(env.config().timers.t399)));
        if let Some(v) = self.vcs.get_mut(vc.0) {
            v.parties = v.parties.saturating_add(1);
        }
        self.emit(env, &Out::AddParty { cref, endpoint, params });
        Ok((NdisStatus::PENDING, PartyContext(p)))
    }

    /// ProtocolCmDropParty: the last party never drops (it leaves through NdisClCloseCall).
    pub fn drop_party(&mut self, env: &impl Env<N>, party: PartyContext, data: CloseData<'_>) -> NdisStatus {
        let Some(p) = self.parties.get(party.0) else {
            return NdisStatus::INVALID_PARAMETER;
        };
        let vc = p.vc;
        let phase = p.phase;
        let endpoint = p.endpoint;
        let (parties, cref, vphase) = match self.vcs.get(vc.0) {
            Some(v) => (v.parties, v.cref, v.phase),
            None => return NdisStatus::INVALID_PARAMETER,
        };
        if parties <= 1 {
            return NdisStatus::FAILURE;
        }
        let uu = match Self::check_close_data(env, data) {
            Ok(uu) => uu,
            Err(s) => return s,
        };
        let network_gone = matches!(vphase, Phase::RemoteClosing | Phase::Closing) || !self.saal_up;
        match (phase, network_gone) {
            // Already gone on the network (remote drop, or the whole call was released): the
            // drop completes now and the party is freed.
            (PartyPhase::RemoteDropped, _) | (_, true) => {
                self.remove_party(party.0);
                if let Some(v) = self.vcs.get_mut(vc.0) {
                    v.parties = v.parties.saturating_sub(1);
                }
                NdisStatus::SUCCESS
            }
            // DROP PARTY to the network; the drop pends until DROP PARTY ACKNOWLEDGE.
            (PartyPhase::Active | PartyPhase::Initial, false) => {
                let Some(cref) = cref else { return NdisStatus::INVALID_STATE };
                if let Some(p) = self.parties.get_mut(party.0) {
                    p.phase = PartyPhase::Dropping;
                    p.drop_data = uu;
                }
                self.set_party_timer(party.0, Some(env.now().saturating_add(env.config().timers.t398)));
                self.emit(env, &Out::DropParty { cref, endpoint, cause: cause::NORMAL_CALL_CLEARING });
                NdisStatus::PENDING
            }
            // Still being added, or already dropping.
            (PartyPhase::Adding | PartyPhase::Dropping, false) => NdisStatus::INVALID_STATE,
        }
    }

    fn party_by_endpoint(&self, vc: VcContext, endpoint: u16) -> Option<Token> {
        self.first_party_where(vc, |p| p.endpoint == endpoint)
    }

    /// The first party on `vc`'s list matching `f`: costs the parties of that one call.
    pub fn first_party_where(&self, vc: VcContext, mut f: impl FnMut(&PartyObj<N>) -> bool) -> Option<Token> {
        let mut at = self.vcs.get(vc.0)?.first_party;
        // Bounded by the table size even if a list were ever corrupted.
        for _ in 0..self.parties.capacity() {
            let t = self.parties.token_at(usize::from(at))?;
            let p = self.parties.get(t)?;
            if p.vc == vc && f(p) {
                return Some(t);
            }
            at = p.next;
        }
        None
    }

    /// Stores a party and links it at the head of its VC's list.
    fn insert_party(&mut self, mut obj: PartyObj<N>) -> Option<Token> {
        let vc = obj.vc;
        obj.prev = NO_PARTY;
        obj.next = self.vcs.get(vc.0).map_or(NO_PARTY, |v| v.first_party);
        let next = obj.next;
        let t = self.parties.insert(obj).ok()?;
        let idx = t.index() as u16;
        if let Some(n) = self.parties.token_at(usize::from(next)).and_then(|n| self.parties.get_mut(n)) {
            n.prev = idx;
        }
        if let Some(v) = self.vcs.get_mut(vc.0) {
            v.first_party = idx;
        }
        Some(t)
    }

    /// Unlinks a party from its VC's list and frees it (and its timer).
    fn remove_party(&mut self, p: Token) {
        let id = self.party_timer_id(p);
        let Some(obj) = self.parties.remove(p) else { return };
        self.timers.cancel(id);
        if let Some(n) = self.parties.token_at(usize::from(obj.next)).and_then(|n| self.parties.get_mut(n)) {
            n.prev = obj.prev;
        }
        match self.parties.token_at(usize::from(obj.prev)).and_then(|n| self.parties.get_mut(n)) {
            Some(prev) => prev.next = obj.next,
            None => {
                if let Some(v) = self.vcs.get_mut(obj.vc.0)
                    && v.first_party == p.index() as u16
                {
                    v.first_party = obj.next;
                }
            }
        }
    }

    fn party_done(&mut self, p: Token, status: NdisStatus, op: u16, free: bool) {
        self.set_party_timer(p, None);
        let vc = match self.parties.get_mut(p) {
            Some(obj) => {
                obj.op_status = status;
                obj.free_after_ops |= free;
                obj.vc
            }
            None => return,
        };
        if free && let Some(v) = self.vcs.get_mut(vc.0) {
            v.parties = v.parties.saturating_sub(1);
        }
        self.party_op(p, op);
    }

    // ---- signalling input -------------------------------------------------------------------------

    /// The call a message is for: its call reference names a VC whose call is still known to
    /// the network (not in U0, or owed a RELEASE COMPLETE). One index lookup.
    fn find_call(&self, cref: CallRef) -> Option<Token> {
        let vc = self.vcs.token_at(self.crefs.get(cref)?)?;
        let v = self.vcs.get(vc)?;
        (v.cref == Some(cref) && (v.uni != UniState::Null || v.owe_release_complete)).then_some(vc)
    }

    /// One Q.2931 message from the network.
    pub fn on_message(&mut self, env: &impl Env<N>, bytes: &[u8]) {
        self.stats.messages_in += 1;
        let Some(m) = crate::uni::msg::decode(bytes) else {
            // Not a Q.2931 message we can even address (bad discriminator, call reference or
            // header): ignored, as Q.2931 §5.6.1–5.6.3 say.
            self.stats.malformed_in += 1;
            return;
        };
        if m.global {
            self.on_global(env, &m);
            return;
        }
        match self.find_call(m.cref) {
            Some(vc) => self.on_call_message(env, vc, &m),
            None => self.on_unknown_cref(env, &m),
        }
    }

    /// Messages on the global call reference (Q.2931 §5.5).
    fn on_global(&mut self, env: &impl Env<N>, m: &In<'_>) {
        match m.kind {
            // RESTART: every call (class "all") or the indicated VC's call is cleared locally,
            // then acknowledged.
            // RESTART without its mandatory Restart Indicator: nothing is restarted; STATUS #96
            // naming the IE (Q.2931 §5.6.7.1).
            InKind::Restart if m.restart_class.is_none() => {
                let cref = CallRef { value: 0, ours: false };
                let (cause, diagnostic) = (cause::MANDATORY_IE_MISSING, RESTART_INDICATOR_IE);
                self.emit(env, &Out::StatusDiag { cref, state: 0, cause, diagnostic });
            }
            InKind::Restart => {
                let class = m.restart_class.unwrap_or(2);
                for k in 0..self.snapshot_vcs() {
                    let Some(t) = self.walked(k) else { continue };
                    let Some(v) = self.vcs.get(t) else { continue };
                    if v.cref.is_none() || v.uni == UniState::Null && !v.owe_release_complete {
                        continue;
                    }
                    let hit = match (class, m.connection) {
                        (2, _) => true,
                        (0, Some(id)) => v.params.is_some_and(|p| p.media.connection_id == id),
                        _ => false,
                    };
                    if hit {
                        self.clear_call(env, t, NdisStatus::FAILURE);
                        // Acknowledged only once the VC is idle (its data path drained).
                        if let Some(v) = self.vcs.get_mut(t)
                            && v.data == DataState::Draining
                            && !v.owe_restart_ack
                        {
                            v.owe_restart_ack = true;
                            self.restart_waiting += 1;
                        }
                    }
                }
                if self.restart_waiting == 0 {
                    self.emit(env, &Out::RestartAck { class, vc: m.connection });
                } else {
                    // A repeated RESTART while VCs drain supersedes the first: one ACK, when idle.
                    // T317 guards the internal clearing (Q.2931 §5.5.2); a repeat does not
                    // restart it.
                    self.restart_ack = Some((class, m.connection));
                    let id = self.global_timer_id(GLOBAL_T317);
                    if self.timers.due(id).is_none() {
                        self.timers.set(id, env.now().saturating_add(env.config().timers.t317));
                    }
                }
            }
            // RESTART ACKNOWLEDGE for our RESTART (class "all"): the restart is complete, T316
            // stops (Q.2931 §5.5.1). One for another class, or unasked for, is ignored.
            InKind::RestartAck => {
                if self.restart_sent.is_some() && m.restart_class == Some(2) {
                    self.restart_sent = None;
                    self.timers.cancel(self.global_timer_id(GLOBAL_T316));
                }
            }
            InKind::Status => {}
            // Anything else on the global call reference: STATUS #81.
            _ => {
                let cref = CallRef { value: 0, ours: false };
                self.emit(env, &Out::Status { cref, state: 0, cause: cause::INVALID_CALL_REFERENCE, endpoint: None });
            }
        }
    }

    /// A message for a call reference we do not know (Q.2931 §5.6.3.2).
    fn on_unknown_cref(&mut self, env: &impl Env<N>, m: &In<'_>) {
        match m.kind {
            InKind::Setup if !m.cref.ours => self.on_setup(env, m),
            // RELEASE COMPLETE for nothing: ignore (it may confirm an orphaned release).
            InKind::ReleaseComplete => {
                for k in 0..ORPHANS {
                    if self.orphans.get(k).copied().flatten().is_some_and(|o| o.cref == m.cref) {
                        self.drop_orphan(k);
                    }
                }
            }
            InKind::StatusEnquiry => {
                self.stats.unknown_cref += 1;
                self.emit(
                    env,
                    &Out::Status { cref: m.cref, state: 0, cause: cause::RESPONSE_TO_STATUS_ENQUIRY, endpoint: None },
                );
            }
            InKind::Status => {
                self.stats.unknown_cref += 1;
                if m.call_state.unwrap_or(0) != 0 {
                    self.emit(
                        env,
                        &Out::ReleaseComplete { cref: m.cref, cause: Some(cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE) },
                    );
                }
            }
            _ => {
                self.stats.unknown_cref += 1;
                self.emit(env, &Out::ReleaseComplete { cref: m.cref, cause: Some(cause::INVALID_CALL_REFERENCE) });
            }
        }
    }

    /// SETUP: an incoming call.
    fn on_setup(&mut self, env: &impl Env<N>, m: &In<'_>) {
        let cref = m.cref;
        let refuse = |this: &mut Self, c: u8| this.emit(env, &Out::ReleaseComplete { cref, cause: Some(c) });
        if let Some((c, _ie)) = m.error {
            refuse(self, c);
            return;
        }
        let Some(conn_id) = m.connection else {
            refuse(self, cause::MANDATORY_IE_MISSING);
            return;
        };
        // VCIs 0-31 are reserved on every VPI (I.361: unassigned, meta-signalling, broadcast, F4
        // OAM 3/4; ATM Forum: signalling 5, ILMI 16, ...): never a user call's.
        if conn_id.vci < 32 {
            refuse(self, cause::VPCI_VCI_UNAVAILABLE);
            return;
        }
        if m.aal.is_some_and(|a| a != 5) {
            refuse(self, 93);
            return;
        }
        if self.halting {
            refuse(self, cause::DESTINATION_OUT_OF_ORDER);
            return;
        }
        // The SAP: exact called-address match first, then a wildcard SAP.
        let sap = self
            .saps
            .find(|s| s.sap.address.is_some() && s.sap.address == m.called)
            .or_else(|| self.saps.find(|s| s.sap.address.is_none()));
        let Some(sap) = sap else {
            refuse(self, cause::INCOMPATIBLE_DESTINATION);
            return;
        };
        let Some(af) = self.saps.get(sap).map(|s| s.af) else { return };
        let (fwd_sdu, bwd_sdu) = m.max_sdu.unwrap_or((9188, 9188));
        let (fwd_pcr, bwd_pcr) = m.pcr.unwrap_or((0, 0));
        // Forward = calling → called, i.e. our receive direction.
        let params = CallParameters {
            flags: 0,
            media_flags: media_flags::TRANSMIT_VC | media_flags::RECEIVE_VC,
            media: AtmMediaParameters {
                connection_id: conn_id,
                aal_type: AalType::Aal5,
                transmit: AtmFlowParameters {
                    service_category: ServiceCategory::Ubr,
                    pcr: bwd_pcr,
                    scr: 0,
                    mbs: 0,
                    max_sdu_size: bwd_sdu,
                },
                receive: AtmFlowParameters {
                    service_category: ServiceCategory::Ubr,
                    pcr: fwd_pcr,
                    scr: 0,
                    mbs: 0,
                    max_sdu_size: fwd_sdu,
                },
            },
            called: m.called,
            calling: m.calling,
        };
        if Self::check_params(env, &params).is_err() {
            refuse(self, cause::QOS_UNAVAILABLE);
            return;
        }
        let mut obj = VcObj::new(af, None, true);
        obj.phase = Phase::Offering;
        obj.params = Some(params);
        obj.sap = Some(SapContext(sap));
        obj.uni = UniState::CallPresent;
        obj.cref = Some(cref);
        obj.network_done = false;
        let Ok(vc) = self.vcs.insert(obj) else {
            refuse(self, cause::RESOURCE_UNAVAILABLE);
            return;
        };
        self.af_child_born(af);
        self.crefs.insert(cref, vc.index());
        match env.open_connection(&conn_params(&params)) {
            Ok(conn) => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.conn = Some(conn);
                    v.data = DataState::Open;
                }
                self.vc_op(vc, vc_op::CREATE_VC);
            }
            Err(_) => {
                self.remove_vc(env, vc);
                refuse(self, cause::VPCI_VCI_UNAVAILABLE);
            }
        }
    }

    /// A message for a known call.
    fn on_call_message(&mut self, env: &impl Env<N>, vc: Token, m: &In<'_>) {
        let Some(v) = self.vcs.get(vc) else { return };
        let uni = v.uni;
        let phase = v.phase;
        let Some(cref) = v.cref else { return };
        let uu = UuBuf::new(m.user_user.get(..m.user_user.len().min(UU_MAX)).unwrap_or(&[])).unwrap_or(UuBuf::EMPTY);
        // A RELEASE with its Cause missing or in error is still a RELEASE; the RELEASE COMPLETE
        // answering it carries #96 / #100 naming the IE (Q.2931 §5.6.7.1, §5.6.7.2).
        let release_error = if m.kind == InKind::Release { m.error } else { None };
        // The answer to our STATUS ENQUIRY, or a clearing message, stops T322 (Q.2931 §5.6.11).
        if v.timer.is_some_and(|t| t.kind == TimerKind::T322)
            && matches!(m.kind, InKind::Status | InKind::Release | InKind::ReleaseComplete)
        {
            self.stop_timer(vc);
        }
        // An unrecognised IE, as its instruction field asks (Q.2931 §5.6.8.1, §5.7.2).
        if let Some((ie, action)) = m.unknown_ie
            && !self.on_unknown_ie(env, vc, uni, m.kind, ie, action)
        {
            return;
        }
        match (uni, m.kind) {
            // ---- outgoing call progress (U1/U3/U4) ----
            // CALL PROCEEDING: T303 → T310; remember an early connection identifier.
            (UniState::CallInitiated, InKind::CallProceeding) => {
                self.note_connection(vc, m.connection);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.uni = UniState::OutgoingCallProceeding;
                }
                self.start_timer(env, vc, TimerKind::T310);
            }
            // ALERTING: the far end is being alerted; no timer (T301 is not run).
            (UniState::CallInitiated | UniState::OutgoingCallProceeding, InKind::Alerting) => {
                self.note_connection(vc, m.connection);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.uni = UniState::CallDelivered;
                }
                self.stop_timer(vc);
            }
            // CONNECT: open the connection, acknowledge, activate; MakeCall completes after
            // the activation.
            (UniState::CallInitiated | UniState::OutgoingCallProceeding | UniState::CallDelivered, InKind::Connect) => {
                self.stop_timer(vc);
                self.note_connection(vc, m.connection);
                self.on_connect(env, vc, cref);
            }
            // RELEASE / RELEASE COMPLETE before the answer: the call failed.
            (
                UniState::CallInitiated | UniState::OutgoingCallProceeding | UniState::CallDelivered,
                InKind::Release | InKind::ReleaseComplete,
            ) => {
                if m.kind == InKind::Release {
                    self.emit(env, &Self::release_complete(cref, release_error));
                }
                self.fail_make_call(env, vc, status_for_cause(m.cause));
            }
            // ---- incoming call (U6/U8) ----
            // The caller gave up before we answered.
            (UniState::CallPresent, InKind::Release | InKind::ReleaseComplete) => {
                if m.kind == InKind::Release {
                    self.emit(env, &Self::release_complete(cref, release_error));
                }
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.network_done = true;
                    v.uni = UniState::Null;
                }
                match phase {
                    // Not yet offered to the client: refuse right away.
                    Phase::Offering if !self.vc_has_handle_pending(vc) => self.reject_incoming(env, vc, None),
                    // Offered (or being offered): wait for the client's answer, then refuse.
                    _ => {}
                }
            }
            // CONNECT ACKNOWLEDGE: the call is active; tell the client.
            (UniState::ConnectRequest, InKind::ConnectAck) => {
                self.stop_timer(vc);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.uni = UniState::Active;
                    v.phase = Phase::Connected;
                }
                self.vc_op(vc, vc_op::DISPATCH_CALL_CONNECTED);
            }
            // ---- active call (U8/U10) ----
            // RELEASE from the remote: incoming close (SUCCESS); RELEASE COMPLETE once the VC is
            // really closed.
            (UniState::Active | UniState::ConnectRequest, InKind::Release) => {
                self.stop_timer(vc);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.release_complete_error = release_error;
                }
                self.remote_close(env, vc, NdisStatus::SUCCESS, uu, true);
            }
            // RELEASE COMPLETE without RELEASE: the network cleared the call.
            (UniState::Active | UniState::ConnectRequest, InKind::ReleaseComplete) => {
                self.stop_timer(vc);
                self.remote_close(
                    env,
                    vc,
                    if m.cause == Some(cause::NORMAL_CALL_CLEARING) {
                        NdisStatus::SUCCESS
                    } else {
                        status_for_cause(m.cause)
                    },
                    uu,
                    false,
                );
            }
            // ---- our release (U11) ----
            // RELEASE COMPLETE: the network side is done.
            (UniState::ReleaseRequest, InKind::ReleaseComplete) => {
                self.stop_timer(vc);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.uni = UniState::Null;
                    v.network_done = true;
                }
                self.advance_close(env, vc);
            }
            // RELEASE while we release: a clear collision — done, and no RELEASE COMPLETE.
            (UniState::ReleaseRequest, InKind::Release) => {
                self.stop_timer(vc);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.uni = UniState::Null;
                    v.network_done = true;
                }
                self.advance_close(env, vc);
            }
            // ---- remote release pending (U12) ----
            // A repeated RELEASE: we answer once the VC is closed.
            (UniState::ReleaseIndication, InKind::Release) => {}
            (UniState::ReleaseIndication, InKind::ReleaseComplete) => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.owe_release_complete = false;
                    v.uni = UniState::Null;
                }
            }
            // ---- status ----
            (_, InKind::StatusEnquiry) => {
                self.emit(
                    env,
                    &Out::Status { cref, state: uni.code(), cause: cause::RESPONSE_TO_STATUS_ENQUIRY, endpoint: None },
                );
            }
            // STATUS saying the network has no call: clear locally (Q.2931 §5.6.11).
            (_, InKind::Status) if m.call_state == Some(0) => {
                self.clear_call(env, vc, NdisStatus::FAILURE);
            }
            // STATUS whose call state cannot be the network's view of an active call (the call
            // is not yet active there, or is incoming at our side): clear with RELEASE #101
            // (Q.2931 §5.6.11).
            (UniState::Active, InKind::Status) if matches!(m.call_state, Some(1 | 3 | 4 | 6 | 7 | 8 | 9)) => {
                self.clear_with_release(env, vc, cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE);
            }
            (_, InKind::Status) => {}
            // ---- point-to-multipoint ----
            (
                UniState::Active,
                InKind::AddPartyAck
                | InKind::AddPartyReject
                | InKind::DropParty
                | InKind::DropPartyAck
                | InKind::PartyAlerting,
            ) => {
                self.on_party_message(env, vc, cref, m, uu);
            }
            // A SETUP for a call reference already in use is ignored (Q.2931 §5.6.3.1 b).
            (_, InKind::Setup) => {}
            // RELEASE COMPLETE in any other state clears the call; nothing is sent back (Q.2931
            // §5.4.4: never answered, so no message loop can start).
            (_, InKind::ReleaseComplete) => self.clear_call(env, vc, status_for_cause(m.cause)),
            // RELEASE in any other state: RELEASE COMPLETE, and the call is cleared.
            (_, InKind::Release) => {
                self.emit(env, &Self::release_complete(cref, release_error));
                self.clear_call(env, vc, status_for_cause(m.cause));
            }
            // Messages we do not implement: STATUS #97 with the message type as diagnostic
            // (Q.2931 §5.6.4, Q.850).
            // With an explicit message action indicator: clear the call, or discard silently
            // (Q.2931 §5.7.1).
            (_, InKind::Other(_)) if m.action == UnknownMessageAction::Ignore => {}
            (UniState::Active, InKind::Other(_)) if m.action == UnknownMessageAction::Clear => {
                self.clear_with_release(env, vc, cause::MESSAGE_TYPE_NOT_IMPLEMENTED);
            }
            (_, InKind::Other(t)) => {
                self.emit(
                    env,
                    &Out::StatusDiag {
                        cref,
                        state: uni.code(),
                        cause: cause::MESSAGE_TYPE_NOT_IMPLEMENTED,
                        diagnostic: t,
                    },
                );
            }
            // Anything else is not compatible with the call state: STATUS #101 (Q.2931 §5.6.4).
            _ => {
                self.emit(
                    env,
                    &Out::Status {
                        cref,
                        state: uni.code(),
                        cause: cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE,
                        endpoint: None,
                    },
                );
            }
        }
    }

    fn vc_has_handle_pending(&self, vc: Token) -> bool {
        self.vcs.get(vc).is_some_and(|v| {
            v.ops & (vc_op::CREATE_VC | vc_op::ACTIVATE_VC | vc_op::DISPATCH_INCOMING_CALL) != 0 || v.handle.is_some()
        })
    }

    fn note_connection(&mut self, vc: Token, id: Option<VpiVci>) {
        let Some(id) = id else { return };
        if let Some(v) = self.vcs.get_mut(vc)
            && let Some(p) = v.params.as_mut()
            && p.media.connection_id != id
        {
            p.media.connection_id = id;
            p.flags |= call_flags::CALL_PARAMETERS_CHANGED;
        }
    }

    fn on_connect(&mut self, env: &impl Env<N>, vc: Token, cref: CallRef) {
        let Some(v) = self.vcs.get(vc) else { return };
        let Some(params) = v.params else { return };
        let Some(handle) = v.handle else { return };
        let id = params.media.connection_id;
        if id.vpi == 0 && id.vci == 0 {
            // No connection identifier in CALL PROCEEDING or CONNECT.
            self.emit(env, &Out::ConnectAck { cref });
            self.orphan_release(env, cref, cause::MANDATORY_IE_MISSING);
            self.fail_make_call(env, vc, NdisStatus::VC_NOT_AVAILABLE);
            return;
        }
        match env.open_connection(&conn_params(&params)) {
            Ok(conn) => {
                env.datapath_open(vc.index(), vc.generation(), handle, conn);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.conn = Some(conn);
                    v.data = DataState::Open;
                    v.uni = UniState::Active;
                }
                self.emit(env, &Out::ConnectAck { cref });
                self.vc_op(vc, vc_op::ACTIVATE_VC);
            }
            Err(_) => {
                self.emit(env, &Out::ConnectAck { cref });
                self.orphan_release(env, cref, cause::VPCI_VCI_UNAVAILABLE);
                self.fail_make_call(env, vc, NdisStatus::VC_NOT_AVAILABLE);
            }
        }
    }

    /// Sends RELEASE for a call whose VC is going away, keeping just enough to retransmit once.
    fn orphan_release(&mut self, env: &impl Env<N>, cref: CallRef, c: u8) {
        self.emit(env, &Out::Release { cref, cause: c, timer: None, user_user: &[] });
        if let Some(k) = self.orphans.iter().position(Option::is_none) {
            let due = env.now().saturating_add(env.config().timers.t308);
            if let Some(o) = self.orphans.get_mut(k) {
                *o = Some(Orphan { cref, cause: c, due, retransmitted: false });
            }
            self.timers.set(self.vcs.capacity() + k, due);
        }
    }

    fn drop_orphan(&mut self, k: usize) {
        if let Some(o) = self.orphans.get_mut(k) {
            *o = None;
        }
        self.timers.cancel(self.vcs.capacity() + k);
    }

    /// Copies the live VC slots into `walk` (for walks whose steps may free VCs).
    fn snapshot_vcs(&mut self) -> usize {
        self.walk.clear();
        for (t, _) in self.vcs.iter() {
            if self.walk.len() < self.walk.capacity() {
                self.walk.push(t.index() as u16);
            }
        }
        self.walk.len()
    }

    /// The `k`th VC of the last snapshot, if it is still alive.
    fn walked(&self, k: usize) -> Option<Token> {
        self.vcs.token_at(usize::from(*self.walk.get(k)?))
    }

    /// MakeCall fails with `status`: NdisMCmMakeCallComplete(status); the VC returns to idle
    /// once it is performed (the client then deletes it).
    fn fail_make_call(&mut self, env: &impl Env<N>, vc: Token, status: NdisStatus) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        if v.phase != Phase::MakePending {
            // A close is already in progress (Closing): the close takes it from here.
            v.network_done = true;
            v.uni = UniState::Null;
            v.timer = None;
            self.timers.cancel(vc.index());
            self.advance_close(env, vc);
            return;
        }
        v.make_status = status;
        v.make_failed = true;
        v.uni = UniState::Null;
        v.timer = None;
        self.timers.cancel(vc.index());
        v.network_done = true;
        v.ops &= !vc_op::ACTIVATE_VC;
        // The completion waits for the data path (if a connection was opened) so the VC is
        // reusable — or deletable — the moment the client hears of the failure.
        self.start_teardown(env, vc);
        self.advance_close(env, vc);
    }

    /// Clears a call locally (RESTART, STATUS U0, link failure): whatever the call's phase, it
    /// ends with the client told and the VC torn down; nothing more is sent for it.
    fn clear_call(&mut self, env: &impl Env<N>, vc: Token, status: NdisStatus) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        v.timer = None;
        self.timers.cancel(vc.index());
        let phase = v.phase;
        match phase {
            // Outgoing call not answered yet: MakeCall fails.
            Phase::MakePending => self.fail_make_call(env, vc, status),
            // Being offered / offered: refuse when the client answers (row 8).
            Phase::Offering | Phase::OfferPending => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.network_done = true;
                    v.uni = UniState::Null;
                }
                if phase == Phase::Offering && !self.vc_has_handle_pending(vc) {
                    self.reject_incoming(env, vc, None);
                }
            }
            // Accepted/connected: incoming close with an error status.
            Phase::Accepted | Phase::Connected => self.remote_close(env, vc, status, UuBuf::EMPTY, false),
            // Already closing: the network side is settled now.
            Phase::Closing | Phase::RemoteClosing | Phase::Rejecting => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.network_done = true;
                    v.owe_release_complete = false;
                    v.uni = UniState::Null;
                }
                self.advance_close(env, vc);
            }
            Phase::Idle => {}
        }
    }

    /// Acts on an unrecognised IE in a message for a known call; whether the message is still to
    /// be processed. Clearing messages and STATUS are never answered with STATUS (no loops).
    fn on_unknown_ie(
        &mut self,
        env: &impl Env<N>,
        vc: Token,
        uni: UniState,
        kind: InKind,
        ie: u8,
        action: UnknownIeAction,
    ) -> bool {
        let quiet = matches!(kind, InKind::Release | InKind::ReleaseComplete | InKind::Status);
        let report = !quiet && matches!(action, UnknownIeAction::DiscardReport | UnknownIeAction::DiscardMessageReport);
        if report && let Some(cref) = self.vcs.get(vc).and_then(|v| v.cref) {
            let st = Out::StatusDiag { cref, state: uni.code(), cause: cause::IE_NOT_IMPLEMENTED, diagnostic: ie };
            self.emit(env, &st);
        }
        match action {
            UnknownIeAction::DiscardMessage | UnknownIeAction::DiscardMessageReport => false,
            UnknownIeAction::Clear if !quiet && uni == UniState::Active => {
                self.clear_with_release(env, vc, cause::IE_NOT_IMPLEMENTED);
                false
            }
            _ => true,
        }
    }

    /// Clears an active call from our side because of a protocol error: RELEASE with `c`
    /// (T308 runs, U11), the client hears an incoming close with FAILURE, the VC is torn down.
    fn clear_with_release(&mut self, env: &impl Env<N>, vc: Token, c: u8) {
        self.clear_with_release_timer(env, vc, c, None);
    }

    /// [`Self::clear_with_release`] naming an expired timer as the second cause's diagnostic.
    fn clear_with_release_timer(&mut self, env: &impl Env<N>, vc: Token, c: u8, timer: Option<[u8; 3]>) {
        let Some(cref) = self.vcs.get(vc).and_then(|v| v.cref) else { return };
        self.stop_timer(vc);
        self.emit(env, &Out::Release { cref, cause: c, timer, user_user: &[] });
        self.start_timer(env, vc, TimerKind::T308);
        if let Some(v) = self.vcs.get_mut(vc) {
            v.uni = UniState::ReleaseRequest;
            v.phase = Phase::RemoteClosing;
            v.dispatched_close = true;
            v.network_done = false;
            v.incoming_close_status = NdisStatus::FAILURE;
            v.incoming_close_data = UuBuf::EMPTY;
        }
        self.vc_op(vc, vc_op::DISPATCH_INCOMING_CLOSE);
        self.start_teardown(env, vc);
    }

    fn on_party_message(&mut self, env: &impl Env<N>, vc: Token, cref: CallRef, m: &In<'_>, uu: UuBuf) {
        let Some(ep) = m.endpoint else {
            self.emit(
                env,
                &Out::Status {
                    cref,
                    state: UniState::Active.code(),
                    cause: cause::MANDATORY_IE_MISSING,
                    endpoint: None,
                },
            );
            return;
        };
        let party = self.party_by_endpoint(VcContext(vc), ep);
        let phase = party.and_then(|p| self.parties.get(p)).map(|p| p.phase);
        match (m.kind, party, phase) {
            // ADD PARTY ACKNOWLEDGE: the leaf joined.
            (InKind::AddPartyAck, Some(p), Some(PartyPhase::Adding)) => {
                if let Some(obj) = self.parties.get_mut(p) {
                    obj.phase = PartyPhase::Active;
                }
                self.party_done(p, NdisStatus::SUCCESS, party_op::ADD_PARTY_COMPLETE, false);
            }
            // PARTY ALERTING: informational.
            (InKind::PartyAlerting, Some(_), _) => {}
            // ADD PARTY REJECT: the add fails and the party is freed.
            (InKind::AddPartyReject, Some(p), Some(PartyPhase::Adding)) => {
                self.party_done(p, status_for_cause(m.cause), party_op::ADD_PARTY_COMPLETE, true);
            }
            // DROP PARTY ACKNOWLEDGE for our drop: it completes and the party is freed.
            (InKind::DropPartyAck, Some(p), Some(PartyPhase::Dropping)) => {
                self.party_done(p, NdisStatus::SUCCESS, party_op::DROP_PARTY_COMPLETE, true);
            }
            // DROP PARTY for the last party is the end of the call: an incoming close.
            (InKind::DropParty, Some(_), _) if self.vcs.get(vc).is_some_and(|v| v.parties <= 1) => {
                self.emit(env, &Out::DropPartyAck { cref, endpoint: ep, cause: cause::NORMAL_CALL_CLEARING });
                self.remote_close(env, vc, NdisStatus::SUCCESS, uu, false);
            }
            // DROP PARTY for an active leaf: acknowledge, tell the client.
            (InKind::DropParty, Some(p), Some(PartyPhase::Active | PartyPhase::Initial)) => {
                self.emit(env, &Out::DropPartyAck { cref, endpoint: ep, cause: cause::NORMAL_CALL_CLEARING });
                if let Some(obj) = self.parties.get_mut(p) {
                    obj.phase = PartyPhase::RemoteDropped;
                    obj.drop_data = uu;
                }
                self.party_done(p, NdisStatus::SUCCESS, party_op::DISPATCH_INCOMING_DROP, false);
            }
            // DROP PARTY crossing our own DROP PARTY: our drop completes.
            (InKind::DropParty, Some(p), Some(PartyPhase::Dropping)) => {
                self.emit(env, &Out::DropPartyAck { cref, endpoint: ep, cause: cause::NORMAL_CALL_CLEARING });
                self.party_done(p, NdisStatus::SUCCESS, party_op::DROP_PARTY_COMPLETE, true);
            }
            // Unknown endpoint: DROP PARTY ACKNOWLEDGE #89 (Q.2971 §9.5.3).
            (InKind::DropParty, None, _) => {
                self.emit(env, &Out::DropPartyAck { cref, endpoint: ep, cause: cause::INVALID_ENDPOINT_REFERENCE });
            }
            // Anything else about parties is out of place: ignored.
            _ => {}
        }
    }

    // ---- link and timers --------------------------------------------------------------------------

    /// The SAAL reported the link established.
    pub fn on_saal_established(&mut self) {
        self.saal_up = true;
        // Calls that survived on T309: the link is back in time; each is verified with STATUS
        // ENQUIRY (Q.2931 §5.6.10), sent by the next `pump_backlog`. With no call to keep (start-
        // up, or link return after the calls were cleared) every VC is restarted instead (§5.5.1).
        self.verify_calls = self.t309.take().is_some();
        self.send_restart = !self.verify_calls;
    }

    /// Sends our RESTART (class "all") and starts T316 (Q.2931 §5.5.1, Restart Request).
    fn send_restart(&mut self, env: &impl Env<N>) {
        self.emit(env, &Out::RestartAll);
        if self.restart_sent.is_none() {
            self.restart_sent = Some(0);
        }
        let id = self.global_timer_id(GLOBAL_T316);
        self.timers.set(id, env.now().saturating_add(env.config().timers.t316));
    }

    /// T316 / T317 on the global call reference.
    fn on_global_timer(&mut self, env: &impl Env<N>, which: usize) {
        match (which, self.restart_sent) {
            // T316 with attempts left: RESTART again.
            (GLOBAL_T316, Some(n)) if n.saturating_add(1) < N316 => {
                self.restart_sent = Some(n.saturating_add(1));
                self.send_restart(env);
            }
            // T316 after the last attempt: no more RESTARTs; the maintenance indication (a
            // counter); the VCs stay out of service until the link is re-established.
            (GLOBAL_T316, Some(_)) => {
                self.restart_sent = None;
                self.stats.restart_unanswered += 1;
            }
            // T317: the restarted VCs are not idle yet. The maintenance indication; the RESTART
            // ACKNOWLEDGE still waits for them (it says they are idle, and the network's T316
            // repeats the RESTART meanwhile).
            (GLOBAL_T317, _) if self.restart_ack.is_some() => self.stats.restart_clearing_overdue += 1,
            // A stale expiry (the restart finished or the link went away).
            _ => {}
        }
    }

    /// The SAAL link is gone (SSCOP released, or the PHY lost signal).
    pub fn on_saal_released(&mut self, env: &impl Env<N>) {
        let was_up = self.saal_up;
        self.saal_up = false;
        // A RESTART ACKNOWLEDGE has no link to go on; the network restarts again if it wants.
        // Our own RESTART is abandoned too: it is sent afresh when the link is re-established.
        self.restart_ack = None;
        self.restart_sent = None;
        self.send_restart = false;
        self.timers.cancel(self.global_timer_id(GLOBAL_T316));
        self.timers.cancel(self.global_timer_id(GLOBAL_T317));
        // Nothing queued for the old link means anything to the next one.
        while !self.backlog.is_empty() {
            self.backlog.pop();
        }
        // Calls not yet active are cleared with #27 at once; active ones wait T309 (Q.2931
        // §5.6.10).
        let mut any_active = false;
        for k in 0..self.snapshot_vcs() {
            let Some(t) = self.walked(k) else { continue };
            let Some(v) = self.vcs.get(t) else { continue };
            if v.cref.is_none() {
                continue;
            }
            match v.uni {
                UniState::Active => any_active = true,
                UniState::Null if !v.owe_release_complete => {}
                _ => self.clear_call(env, t, NdisStatus::DEST_OUT_OF_ORDER),
            }
        }
        for k in 0..ORPHANS {
            self.drop_orphan(k);
        }
        if any_active && was_up && self.t309.is_none() {
            self.t309 = Some(env.now().saturating_add(env.config().timers.t309));
        }
    }

    /// The PHY changed state: indicate it to the bindings and hand it to the signalling.
    pub fn on_phy(&mut self, env: &impl Env<N>, up: bool) {
        if self.phy_up == up {
            return;
        }
        self.phy_up = up;
        self.link_report = LinkState { connected: up, speed_bps: env.config().link_speed_bps };
        self.adapter_op(adapter_op::INDICATE_LINK);
        if !up && self.saal_up {
            self.on_saal_released(env);
        }
    }

    pub fn phy_up(&self) -> bool {
        self.phy_up
    }

    /// Timers due at `now`: T309, then every due timer in (deadline, id) order. The due ids are
    /// taken out of the heap first, so the cost is that of the timers that fire.
    pub fn on_timer(&mut self, env: &impl Env<N>) {
        let now = env.now();
        // T309: the link did not come back; active calls are cleared with #27.
        if self.t309.is_some_and(|d| d <= now) {
            self.t309 = None;
            for k in 0..self.snapshot_vcs() {
                let Some(t) = self.walked(k) else { continue };
                if self.vcs.get(t).is_some_and(|v| v.uni == UniState::Active && v.cref.is_some()) {
                    self.clear_call(env, t, NdisStatus::DEST_OUT_OF_ORDER);
                }
            }
        }
        self.due.clear();
        while self.due.len() < self.due.capacity() {
            let Some(id) = self.timers.pop_due(now) else { break };
            self.due.push(id as u32);
        }
        let (vcs, orphans_end) = (self.vcs.capacity(), self.vcs.capacity() + ORPHANS);
        let parties_end = orphans_end + self.parties.capacity();
        for k in 0..self.due.len() {
            let Some(id) = self.due.get(k).map(|&id| id as usize) else { break };
            if id < vcs {
                let Some(t) = self.vcs.token_at(id) else { continue };
                let Some(timer) = self.vcs.get(t).and_then(|v| v.timer) else { continue };
                if timer.due <= now {
                    self.on_call_timer(env, t, timer);
                } else {
                    // Cannot happen (the heap follows every change); keep the timer running.
                    self.timers.set(id, timer.due);
                }
            } else if id < orphans_end {
                self.on_orphan_timer(env, id - vcs, now);
            } else if id >= parties_end {
                self.on_global_timer(env, id - parties_end);
            } else {
                let Some(p) = self.parties.token_at(id - orphans_end) else { continue };
                self.on_party_timer(p, now);
            }
        }
    }

    /// T308 for a released call without a VC: RELEASE once more, then forget it.
    fn on_orphan_timer(&mut self, env: &impl Env<N>, k: usize, now: Duration) {
        let Some(o) = self.orphans.get(k).copied().flatten() else { return };
        if o.due > now {
            self.timers.set(self.vcs.capacity() + k, o.due);
            return;
        }
        if o.retransmitted {
            self.drop_orphan(k);
            return;
        }
        self.emit(env, &Out::Release { cref: o.cref, cause: o.cause, timer: Some(*b"308"), user_user: &[] });
        let due = now.saturating_add(env.config().timers.t308);
        if let Some(Some(slot)) = self.orphans.get_mut(k) {
            slot.retransmitted = true;
            slot.due = due;
        }
        self.timers.set(self.vcs.capacity() + k, due);
    }

    /// T399 / T398 for a party.
    fn on_party_timer(&mut self, p: Token, now: Duration) {
        let Some(obj) = self.parties.get(p) else { return };
        let Some(due) = obj.timer_due else { return };
        if due > now {
            self.set_party_timer(p, Some(due));
            return;
        }
        match obj.phase {
            // T399: no answer to ADD PARTY.
            PartyPhase::Adding => self.party_done(p, NdisStatus::FAILURE, party_op::ADD_PARTY_COMPLETE, true),
            // T398: no DROP PARTY ACKNOWLEDGE; the party is gone all the same.
            PartyPhase::Dropping => self.party_done(p, NdisStatus::SUCCESS, party_op::DROP_PARTY_COMPLETE, true),
            _ => self.set_party_timer(p, None),
        }
    }

    fn on_call_timer(&mut self, env: &impl Env<N>, vc: Token, timer: CallTimer) {
        let Some(v) = self.vcs.get(vc) else { return };
        let Some(cref) = v.cref else { return };
        let params = v.params;
        let multipoint = v.multipoint;
        let uu = v.incoming_close_data;
        match (timer.kind, timer.expiries) {
            // T303 first expiry: SETUP once more.
            (TimerKind::T303, 0) => {
                if let Some(p) = params {
                    self.emit(env, &Out::Setup { cref, params: &p, multipoint });
                }
                self.bump_timer(env, vc, TimerKind::T303);
            }
            // T303 again: give up (RELEASE COMPLETE #102, MakeCall fails).
            (TimerKind::T303, _) => {
                self.emit(env, &Out::ReleaseComplete { cref, cause: Some(cause::RECOVERY_ON_TIMER_EXPIRY) });
                self.fail_make_call(env, vc, NdisStatus::FAILURE);
            }
            // T310: no CONNECT after CALL PROCEEDING.
            (TimerKind::T310, _) => {
                self.stop_timer(vc);
                self.orphan_release(env, cref, cause::RECOVERY_ON_TIMER_EXPIRY);
                self.fail_make_call(env, vc, NdisStatus::FAILURE);
            }
            // T313: no CONNECT ACKNOWLEDGE; clear the call, tell the client.
            (TimerKind::T313, _) => {
                self.stop_timer(vc);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.uni = UniState::ReleaseRequest;
                }
                self.emit(
                    env,
                    &Out::Release {
                        cref,
                        cause: cause::RECOVERY_ON_TIMER_EXPIRY,
                        timer: Some(*b"313"),
                        user_user: &[],
                    },
                );
                self.start_timer(env, vc, TimerKind::T308);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.phase = Phase::RemoteClosing;
                    v.dispatched_close = true;
                    v.network_done = false;
                    v.incoming_close_status = NdisStatus::FAILURE;
                    v.incoming_close_data = UuBuf::EMPTY;
                }
                self.vc_op(vc, vc_op::DISPATCH_INCOMING_CLOSE);
                self.start_teardown(env, vc);
            }
            // T308 first expiry: RELEASE again with #102 "308" as second cause.
            (TimerKind::T308, 0) => {
                self.emit(
                    env,
                    &Out::Release {
                        cref,
                        cause: cause::NORMAL_CALL_CLEARING,
                        timer: Some(*b"308"),
                        user_user: uu.as_slice(),
                    },
                );
                self.bump_timer(env, vc, TimerKind::T308);
            }
            // T308 again: the release is confirmed locally; the call reference is free.
            (TimerKind::T308, _) => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.timer = None;
                    self.timers.cancel(vc.index());
                    v.uni = UniState::Null;
                    v.network_done = true;
                }
                self.advance_close(env, vc);
            }
            // T322 first expiry: STATUS ENQUIRY once more.
            (TimerKind::T322, n) if n.saturating_add(1) < N322 => {
                self.emit(env, &Out::StatusEnquiry { cref });
                self.bump_timer(env, vc, TimerKind::T322);
            }
            // T322 again: no STATUS; the call is cleared with #102 "322" (`signalling.md`).
            (TimerKind::T322, _) => {
                self.clear_with_release_timer(env, vc, cause::RECOVERY_ON_TIMER_EXPIRY, Some(*b"322"));
            }
            // Not run per call (T309 is link-wide).
            (TimerKind::T309, _) => self.stop_timer(vc),
        }
    }

    fn bump_timer(&mut self, env: &impl Env<N>, vc: Token, kind: TimerKind) {
        self.start_timer(env, vc, kind);
        if let Some(v) = self.vcs.get_mut(vc)
            && let Some(t) = v.timer.as_mut()
        {
            t.expiries = t.expiries.saturating_add(1);
        }
    }

    // ---- NDIS call results (from the drainer) -----------------------------------------------------

    /// NdisMCmCreateVc returned.
    pub fn on_create_vc(&mut self, env: &impl Env<N>, index: usize, result: Result<N::VcHandle, NdisStatus>) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        match result {
            Ok(h) => {
                let conn = self.vcs.get(vc).and_then(|v| v.conn);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.handle = Some(h);
                }
                if let Some(conn) = conn {
                    env.datapath_open(index, vc.generation(), h, conn);
                }
                if self.vcs.get(vc).is_some_and(|v| v.network_done) {
                    // The caller hung up meanwhile.
                    self.reject_incoming(env, vc, None);
                } else {
                    self.vc_op(vc, vc_op::ACTIVATE_VC);
                }
            }
            Err(_) => self.reject_incoming(env, vc, Some(cause::RESOURCE_UNAVAILABLE)),
        }
    }

    /// NdisMCmActivateVc returned.
    pub fn on_activate(&mut self, env: &impl Env<N>, index: usize, status: NdisStatus) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        let Some(v) = self.vcs.get_mut(vc) else { return };
        let ok = status == NdisStatus::SUCCESS;
        if ok {
            v.active = true;
        }
        match (v.phase, ok) {
            // Incoming call: offer it to the client, unless the caller already left.
            (Phase::Offering, true) if !v.network_done => self.vc_op(vc, vc_op::DISPATCH_INCOMING_CALL),
            (Phase::Offering, _) => self.reject_incoming(env, vc, Some(cause::RESOURCE_UNAVAILABLE)),
            // Outgoing call answered (or a PVC): MakeCall succeeds.
            (Phase::MakePending, true) => {
                v.make_status = NdisStatus::SUCCESS;
                self.vc_op(vc, vc_op::MAKE_CALL_COMPLETE);
            }
            // Activation refused: MakeCall fails; the network gets a RELEASE.
            (Phase::MakePending, false) => {
                let cref = v.cref;
                if let Some(cref) = cref {
                    self.orphan_release(env, cref, cause::RESOURCE_UNAVAILABLE);
                }
                self.fail_make_call(env, vc, status);
            }
            // The call was closed meanwhile: the close path deals with the VC.
            _ => self.advance_close(env, vc),
        }
    }

    /// NdisMCmDispatchIncomingCall returned.
    pub fn on_dispatch_incoming_call(&mut self, env: &impl Env<N>, index: usize, status: NdisStatus) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        let network_gone = self.vcs.get(vc).is_some_and(|v| v.network_done);
        match status {
            // Accepted on the spot.
            NdisStatus::SUCCESS if !network_gone => self.accept_incoming(env, vc),
            // Pending: ProtocolCmIncomingCallComplete follows.
            NdisStatus::PENDING => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.phase = Phase::OfferPending;
                }
            }
            // Refused, or accepted after the caller left.
            _ => self.reject_incoming(env, vc, Some(cause::CALL_REJECTED)),
        }
    }

    /// NdisMCmMakeCallComplete is about to be made (the client may re-enter from inside it —
    /// close the call, send, delete the VC — so the state moves first).
    pub fn make_call_completing(&mut self, index: usize, status: NdisStatus) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        let Some(v) = self.vcs.get_mut(vc) else { return };
        match (v.phase, status == NdisStatus::SUCCESS) {
            // Connected.
            (Phase::MakePending, true) => {
                v.phase = Phase::Connected;
                // Multipoint: the first party is active now.
                let vcc = VcContext(vc);
                if let Some(p) = self.first_party_where(vcc, |p| p.phase == PartyPhase::Initial)
                    && let Some(obj) = self.parties.get_mut(p)
                {
                    obj.phase = PartyPhase::Active;
                }
            }
            // Failed (and drained): the VC is idle again for the client to delete or reuse; the
            // parties die with the completion.
            (Phase::MakePending, false) => {
                if let Some(c) = v.cref {
                    self.crefs.remove(c, index);
                }
                v.reset_call();
                self.timers.cancel(index);
                self.free_parties_of(vc);
            }
            // Aborted by a close: the close goes on.
            _ => {}
        }
    }

    /// NdisMCmCloseCallComplete is about to be made: the call ends now (the client may delete its
    /// VC from inside the completion).
    pub fn close_call_completing(&mut self, index: usize) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        let ours = self.vcs.get(vc).is_some_and(|v| v.ours);
        self.free_parties_of(vc);
        if let Some(v) = self.vcs.get_mut(vc) {
            v.close_pended = false;
            if !ours {
                if let Some(c) = v.cref {
                    self.crefs.remove(c, index);
                }
                v.reset_call();
                self.timers.cancel(index);
            }
        }
    }

    /// NdisMCmDeactivateVc is about to be made.
    pub fn deactivating(&mut self, index: usize) {
        if let Some(vc) = self.vcs.token_at(index)
            && let Some(v) = self.vcs.get_mut(vc)
        {
            v.active = false;
        }
    }

    /// NdisMCmDeleteVc returned: the VC is gone.
    pub fn on_deleted(&mut self, env: &impl Env<N>, index: usize) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        self.free_parties_of(vc);
        if let Some(v) = self.vcs.get_mut(vc) {
            v.handle = None;
        }
        self.maybe_free_vc(env, vc);
    }

    /// Frees an MCM VC whose delete was performed and whose ops are all done.
    pub fn maybe_free_vc(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get(vc) else { return };
        if v.ours
            && v.handle.is_none()
            && v.ops == 0
            && !v.queued
            && matches!(v.data, DataState::None | DataState::Drained)
        {
            self.remove_vc(env, vc);
        }
    }

    /// A party's ops are all done.
    pub fn maybe_free_party(&mut self, p: Token) {
        if self.parties.get(p).is_some_and(|o| o.free_after_ops && o.ops == 0 && !o.queued) {
            self.remove_party(p);
        }
    }

    // ---- halt ---------------------------------------------------------------------------------------

    /// The adapter halts: every outgoing call not yet connected is cleared (RELEASE #16, kept for
    /// one T308 retransmission) and its MakeCall completes with FAILURE, so the client can delete
    /// the VC and close the AF. A call in U4 has no timer of ours (T301 is not run) that would
    /// ever end it otherwise. One walk of the live VCs, once per halt.
    fn abort_pending_calls(&mut self, env: &impl Env<N>) {
        for k in 0..self.snapshot_vcs() {
            let Some(t) = self.walked(k) else { continue };
            let Some(v) = self.vcs.get(t) else { continue };
            if v.phase != Phase::MakePending {
                continue;
            }
            if let Some(cref) = v.cref
                && v.uni != UniState::Null
                && self.saal_up
            {
                self.stop_timer(t);
                self.orphan_release(env, cref, cause::NORMAL_CALL_CLEARING);
            }
            self.fail_make_call(env, t, NdisStatus::FAILURE);
        }
    }

    /// MiniportHaltEx starts: no new AFs, SAPs, calls. Fills `out` with the AFs to notify (the
    /// AF table holds at most 8) and returns how many.
    pub fn begin_halt(&mut self, out: &mut [Option<N::AfHandle>; 8]) -> usize {
        self.halting = true;
        self.abort_calls = true;
        let mut n = 0;
        for i in 0..self.afs.capacity() {
            let Some(t) = self.afs.token_at(i) else { continue };
            let Some(a) = self.afs.get_mut(t) else { continue };
            if a.notified {
                continue;
            }
            if let Some(slot) = out.get_mut(n) {
                a.notified = true;
                *slot = Some(a.handle);
                n += 1;
            }
        }
        n
    }
}

/// What the NIC needs for a call's connection.
pub fn conn_params(p: &CallParameters) -> ConnParams {
    ConnParams {
        id: p.media.connection_id,
        aal: p.media.aal_type,
        tx_pcr: p.media.transmit.pcr,
        max_rx_sdu: p.media.receive.max_sdu_size.max(1),
    }
}
