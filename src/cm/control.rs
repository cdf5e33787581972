//! The call manager's state: `Control` holds the AF, SAP, VC/call and party tables, the timer
//! heap, the call-reference index and the signalling backlog, under the control lock. Nothing in
//! it calls NDIS: decisions become ops (`cm::ops`) that the adapter performs with the lock
//! released, in the order the contract demands.
//!
//! Its methods live by concern: the CoNDIS face in `cm::requests` (ProtocolCm* requests) and
//! `cm::completions` (results of the driver's NDIS calls, drain, halt); the Q.2931 user side in
//! `uni::call` (call control and clearing), `uni::party` (point-to-multipoint), `uni::restart`
//! (RESTART, the global call reference, T316/T317), `uni::link` (message dispatch, SAAL and PHY
//! events) and `uni::timers` (the timer heap and expiries). Transitions are
//! `match (phase, event)`-shaped with a comment per arm; the phases are the CoNDIS call states of
//! `condis-contract.md` §7 and the UNI user-side states of Q.2931.

use alloc::vec::Vec;
use core::time::Duration;

use crate::cm::index::CrefIndex;
use crate::cm::index::TimerHeap;
use crate::cm::objects::AfObj;
use crate::cm::objects::CallObj;
use crate::cm::objects::LinkCounts;
use crate::cm::objects::PartyObj;
use crate::cm::objects::Phase;
use crate::cm::objects::SapObj;
use crate::cm::objects::VcObj;
use crate::cm::ops::Work;
use crate::cm::ops::WorkQueue;
use crate::config::Config;
use crate::ndis::CallParameters;
use crate::ndis::LinkState;
use crate::ndis::Ndis;
use crate::ndis::NdisStatus;
use crate::ndis::Token;
use crate::ndis::VpiVci;
use crate::nic::ConnId;
use crate::nic::ConnParams;
use crate::uni::msg::MAX_MESSAGE;
use crate::uni::msg::Out;
use crate::uni::state::CallRef;
use crate::uni::timers::GLOBAL_TIMERS;
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
    /// The client's close of a call whose data path already drained: seals the VC's rundown (a
    /// sender from now on broke "no send after NdisClCloseCall") and, if a sender that came in
    /// since the drain is still inside (rejecting an NBL), starts the drain again so the close
    /// waits for it: `true`, and `Control::on_drained` follows once it has left.
    fn datapath_redrain(&self, slot: usize) -> bool;
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
    /// Calls not placed or accepted because our RESTART was outstanding or had gone unanswered
    /// (Q.2931 §5.5.1): NdisClMakeCall failed with VC_NOT_AVAILABLE, SETUP refused with #35.
    pub restart_refused: u64,
    /// 1 while the VCs are out of service (our RESTART went unanswered; a later acknowledged
    /// RESTART returns them), else 0: a level, not a count.
    pub vcs_out_of_service: u64,
    /// Link losses that walked the VCs to clear calls not yet active (none is made when every
    /// call is active or there is none).
    pub link_loss_walks: u64,
}

/// A release we sent for a call that no longer has a VC (its MakeCall already failed): kept only
/// to retransmit the RELEASE once on T308.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Orphan {
    pub(crate) cref: CallRef,
    pub(crate) cause: u8,
    pub(crate) due: Duration,
    pub(crate) retransmitted: bool,
}

/// The control state. See the module docs.
pub struct Control<N: Ndis> {
    pub afs: Table<AfObj<N>>,
    pub saps: Table<SapObj<N>>,
    pub vcs: Table<VcObj<N>>,
    /// The call pool: one entry per call in progress (`VcObj::call`), `MaxActiveVcs` of them.
    pub calls: Table<CallObj<N>>,
    /// Calls by what a link loss does to them, kept at every change of their state.
    pub link_counts: LinkCounts,
    pub parties: Table<PartyObj<N>>,
    pub work: WorkQueue,
    pub adapter_ops: u16,
    pub(crate) adapter_queued: bool,
    /// The link state to indicate with the INDICATE_LINK op.
    pub link_report: LinkState,
    pub saal: crate::saal::Link,
    /// Physical layer up.
    pub(crate) phy_up: bool,
    /// SAAL link established.
    pub(crate) saal_up: bool,
    pub(crate) t309: Option<Duration>,
    /// The link came back: verify the surviving calls with STATUS ENQUIRY (Q.2931 §5.6.10).
    pub(crate) verify_calls: bool,
    /// A RESTART ACKNOWLEDGE owed once `restart_waiting` restarted VCs have drained (Q.2931
    /// §5.5.2: acknowledged when the resources are idle): (class, indicated VC).
    pub(crate) restart_ack: Option<(u8, Option<VpiVci>)>,
    pub(crate) restart_waiting: usize,
    /// Our own RESTART (class "all") is to be sent by the next `pump_backlog`.
    pub(crate) send_restart: bool,
    /// The halt began: outgoing calls still being set up are cleared by the next `pump_backlog`.
    pub(crate) abort_calls: bool,
    /// Our RESTART is outstanding (Restart Request, REST1): T316 expiries so far.
    pub(crate) restart_sent: Option<u8>,
    /// Our RESTART went unanswered through every T316: no call is placed or accepted until a
    /// later RESTART is acknowledged (Q.2931 §5.5.1, out of service), ours or the network's.
    pub(crate) out_of_service: bool,
    /// While out of service: VCs the network's RESTART (indicated VC) returned to service since;
    /// a SETUP naming one is accepted (Q.2931 §5.5.2). Fixed capacity; when full, a further VC
    /// stays out of service until a RESTART of every VC.
    pub(crate) returned_to_service: Vec<VpiVci>,
    pub(crate) next_cref: u32,
    pub(crate) next_endpoint: u16,
    /// Released calls without a VC, in fixed slots (timer ids follow the slot).
    pub(crate) orphans: Vec<Option<Orphan>>,
    /// Every running timer: VC slot `i` is id `i`, orphan `k` is `max_vcs + k`, party slot `j`
    /// is `max_vcs + ORPHANS + j`, then the global call reference's T316 and T317 (see
    /// [`Control::global_timer_id`]), so equal deadlines fire in that order.
    pub(crate) timers: TimerHeap,
    /// Timer ids found due by one `on_timer`, handled after the heap is read (a handler that
    /// re-arms for `now` waits for the next call instead of looping).
    pub(crate) due: Vec<u32>,
    /// Call reference → VC slot, for incoming messages.
    pub(crate) crefs: CrefIndex,
    /// Live VC slots copied out before a walk that changes them (link loss, RESTART, T309).
    pub(crate) walk: Vec<u16>,
    /// An expired T309's clearing still under way: the next VC to look at (`continue_clearing`).
    pub(crate) clearing: Option<Token>,
    /// Encoded messages waiting for room in the SSCOP transmit queue, in order.
    pub(crate) backlog: crate::msgq::MsgQueue,
    pub halting: bool,
    pub stats: Stats,
}

/// Octets of encoded messages that may wait for the SSCOP window (thousands of SETUPs)...
pub(crate) const BACKLOG_BYTES: usize = 256 * 1024;

/// ...or this much per entry of the call pool when that is more, so a storm on every call at once
/// (a SETUP or a RELEASE each, 40–80 octets) waits instead of being lost. Sized by the calls that
/// can exist (`MaxActiveVcs`), not by the VC slots: an idle VC has no call and sends nothing.
pub(crate) const BACKLOG_PER_CALL: usize = 96;

/// VCs a network RESTART (indicated VC) may return to service while the rest are out of service.
pub(crate) const RETURNED_TO_SERVICE: usize = 16;

/// Released calls without a VC kept for one T308 retransmission.
pub(crate) const ORPHANS: usize = 64;

impl<N: Ndis> Control<N> {
    /// All tables at their configured sizes; the only allocation the control path makes.
    ///
    /// The SAAL link is built here, not passed in: by value it was copied three times through
    /// `Adapter::initialize`'s frame, on the deepest stack path of MiniportInitializeEx.
    pub fn new(config: &Config, saal: crate::saal::SaalConfig) -> Result<Self, crate::saal::AllocError> {
        let vcs = config.max_vcs.min(Token::MAX_SLOTS);
        let parties = config.max_parties.min(Token::MAX_SLOTS);
        // As many calls at once as send rings (`Adapter::initialize` sizes both the same way).
        let calls = config.max_active_vcs.clamp(1, vcs.max(1));
        let mut orphans = Vec::new();
        orphans.try_reserve_exact(ORPHANS)?;
        orphans.resize(ORPHANS, None);
        let timer_ids = vcs + ORPHANS + parties + GLOBAL_TIMERS;
        let mut due = Vec::new();
        due.try_reserve_exact(timer_ids)?;
        let mut walk = Vec::new();
        walk.try_reserve_exact(vcs)?;
        let mut returned_to_service = Vec::new();
        returned_to_service.try_reserve_exact(RETURNED_TO_SERVICE)?;
        // Every fallible part before the literal (no `?` inside it): the control state is built
        // once, in the caller's slot, not assembled on this stack and copied (MiniportInitializeEx
        // runs on a 24 KiB kernel stack; `tests/sys_defects.rs` bounds it).
        let afs = Table::with_capacity(8)?;
        let saps = Table::with_capacity(64)?;
        let vc_table = Table::with_capacity(vcs)?;
        let call_pool = Table::with_capacity(calls)?;
        let party_table = Table::with_capacity(parties)?;
        let work = WorkQueue::with_capacity(8 + vcs + parties + 1)?;
        let timers = TimerHeap::with_capacity(timer_ids)?;
        let crefs = CrefIndex::with_capacity(vcs)?;
        let backlog = crate::msgq::MsgQueue::new(BACKLOG_BYTES.max(calls * BACKLOG_PER_CALL))?;
        let saal = crate::saal::Link::new(saal)?;
        Ok(Control {
            afs,
            saps,
            vcs: vc_table,
            calls: call_pool,
            link_counts: LinkCounts::default(),
            parties: party_table,
            work,
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
            out_of_service: false,
            returned_to_service,
            next_cref: 1,
            next_endpoint: 1,
            orphans,
            timers,
            due,
            crefs,
            walk,
            clearing: None,
            backlog,
            halting: false,
            stats: Stats::default(),
        })
    }

    pub fn live(&self) -> LiveCounts {
        LiveCounts {
            afs: self.afs.len(),
            saps: self.saps.len(),
            vcs: self.vcs.len(),
            // Calls in progress, or call-pool entries held if more (an entry never given back
            // shows here as a leak).
            calls: self.vcs.iter().filter(|(_, v)| v.phase != Phase::Idle).count().max(self.calls.len()),
            parties: self.parties.len(),
        }
    }

    pub fn saal_up(&self) -> bool {
        self.saal_up
    }

    /// The calls by link class as kept (`link_counts`) and as recounted from every VC: the two
    /// must agree (checked by the lab after every scenario step).
    pub fn link_counts_kept_and_recounted(&self) -> (LinkCounts, LinkCounts) {
        (self.link_counts, LinkCounts::of(self.vcs.iter().map(|(_, v)| v.link_class())))
    }

    // ---- the call pool ----------------------------------------------------------------------------

    /// The call on VC `vc`, if it has one.
    pub(crate) fn call(&self, vc: Token) -> Option<&CallObj<N>> {
        self.vcs.get(vc).and_then(|v| v.call).and_then(|c| self.calls.get(c))
    }

    pub(crate) fn call_mut(&mut self, vc: Token) -> Option<&mut CallObj<N>> {
        self.vcs.get(vc).and_then(|v| v.call).and_then(|c| self.calls.get_mut(c))
    }

    /// Takes a call-pool entry for a call about to start; `None` when every entry is in use (the
    /// caller answers NDIS_STATUS_RESOURCES or cause #47).
    pub(crate) fn take_call(&mut self, params: CallParameters) -> Option<Token> {
        self.calls.insert(CallObj::new(params)).ok()
    }

    // ---- op plumbing ----------------------------------------------------------------------------

    pub(crate) fn vc_op(&mut self, vc: Token, op: u16) {
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

    pub(crate) fn party_op(&mut self, p: Token, op: u16) {
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

    pub(crate) fn af_op(&mut self, af: Token, op: u16) {
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

    pub(crate) fn adapter_op(&mut self, op: u16) {
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

    pub(crate) fn emit(&mut self, env: &impl Env<N>, out: &Out<'_>) {
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

    pub(crate) fn alloc_cref(&mut self) -> CallRef {
        let value = self.next_cref;
        self.next_cref = if self.next_cref >= 0x7f_ffff { 1 } else { self.next_cref + 1 };
        CallRef { value, ours: true }
    }
}
