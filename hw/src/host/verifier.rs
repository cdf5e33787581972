//! The lab's CoNDIS verifier: every rule of `verifier-rules.md`, by id.
//!
//! The emulated NDIS feeds it every call the driver makes into NDIS ([`Call`], checked before NDIS
//! acts on it, plus [`Verifier::call_returned`] for the calls whose result matters), and every
//! handler NDIS runs in the driver ([`Handler`], at entry and at return). The verifier keeps its own
//! small model of the AF/SAP/VC/party/NBL lifecycles — independent of the emulated NDIS's
//! bookkeeping — and records a [`Violation`] (rule id, handles, the last NDIS calls on that VC)
//! whenever the driver breaks a rule.
//!
//! Refinements of the written rules (the lab's interpretation):
//! - **DATA-NO-IND-CLOSING / DATA-CLOSING-STATUS**: the close "has started" once
//!   ProtocolCmCloseCall *returned* a non-error status, or NdisMCmDispatchIncomingCloseCall was
//!   made. While ProtocolCmCloseCall is still running, only an indication *on the same thread*
//!   (the handler's own stack) counts: one that begins concurrently on another thread is a benign
//!   race in real NDIS (the driver cannot have told the other CPU yet).
//! - **VC-ACTIVATE-OPEN**: an NdisMCmActivateVc on a call the client closed *during make*
//!   (ProtocolCmCloseCall entered in the setup phase) is a benign race when the close was entered
//!   on another thread and the MakeCall is still outstanding: the driver decides an activation
//!   under its lock and makes it with the lock released (its drainer), so a close on another CPU
//!   can overtake a decision taken before the close reached the driver — no driver can close that
//!   window, as NDIS runs the handler without asking it (the other rules judge what follows). On
//!   the closing thread itself, after a MakeCall completion, or for a close of an established
//!   call, the rule fires as written.
//! - **DATA-CLOSING-STATUS** (as strict as the contract): a send that began after the close started
//!   (ProtocolCmCloseCall returned a non-error status, or NdisMCmDispatchIncomingCloseCall was
//!   made) completes with NDIS_STATUS_CLOSING — not SUCCESS, not SEND_ABORTED or another failure;
//!   VC_NOT_ACTIVATED only if the VC was inactive when the send began.
//! - **DATA-DRAINED-AT-DEACT** covers every send that began before the close started: at
//!   NdisMCmDeactivateVc none of its NBLs is outstanding, accepted or rejected — a sender still
//!   inside MiniportCoSendNetBufferLists holding a rejected NBL is a violation (the message counts
//!   the send calls still inside). A call that has completed all its NBLs and is only on its way
//!   out (the driver names no VC any more) is not: no driver can close that window. A send that
//!   began after the client's close was *entered* (ProtocolCmCloseCall entered and not failed)
//!   broke "no send after NdisClCloseCall" (`condis-contract.md` §1.3): it is held to
//!   DATA-CLOSING-STATUS, DATA-SEND-ONCE and HDL-DEAD instead. A send between an incoming close's
//!   dispatch and the client's NdisClCloseCall is legal (the client must only see it completed
//!   before it closes) and is judged like any other. A send
//!   "begins" at the driver's first NDIS call from inside MiniportCoSendNetBufferLists
//!   ([`Verifier::send_progress`]; at the handler's entry if it makes none): a thread preempted
//!   between NDIS's dispatch and the driver's first instruction has not begun — it is not judged
//!   while it has not — and no driver could count it.
//! - **DATA-NO-CMP-AFTER-DELETE** (new; N): from the moment NdisMCmDeleteVc is *called* — not
//!   when it returns — no send that began before the close started is outstanding or completed
//!   on that VC. (The client's ProtocolCoDeleteVc waits for its own late
//!   sends; HDL-DEAD catches any completion after the delete returned.)
//! - **CMP-CLOSE-INPROGRESS** fires for a close completion on a VC where no ProtocolCmCloseCall was
//!   made for the current call; **CMP-CLOSE-ONCE** for a second completion, for a completion of a
//!   close whose handler returned something other than PENDING (before or after the return), and
//!   ([`Verifier::check_outstanding`]) for a pended close never completed.
//! - **HDL-DEAD** also covers handles NDIS never issued; when a handle is dead no other rule is
//!   checked for that call.
//! - **STS-LINK**: the lab tells the verifier when the PHY changes ([`Verifier::phy_link`]);
//!   [`Verifier::check_link_indicated`] fires when the last indicated link state differs, and a
//!   raw link indication with a status other than LINK_STATE / MEDIA_CONNECT / MEDIA_DISCONNECT
//!   fires at once.
//! - **HALT-NO-LEAK** counts AFs open, SAPs registered, VCs not deleted, calls not over, parties
//!   not dropped, receive NBLs not freed and every registered allocation counter; it is judged only
//!   when HALT-NOTIFY-AF held (an AF never handed to the client for teardown keeps everything
//!   under it alive: one finding, not two).
//! - **IRQL-PASSIVE** covers the PASSIVE-only calls the `Ndis` seam has
//!   (NdisMCmRegisterAddressFamilyEx, NdisMCmNotifyCloseAddressFamily); a DPC, timer, send or
//!   receive-return path counts as not PASSIVE even when the IRQL is.
//! - **CMP-ONCE** for "IncomingCallComplete's outcome": after an accept (synchronous SUCCESS from
//!   NdisMCmDispatchIncomingCall or ProtocolCmIncomingCallComplete(SUCCESS)) exactly one
//!   NdisMCmDispatchCallConnected, unless the close starts first.

use std::collections::{HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::time::Duration;

use atmmcm::NdisStatus;

use super::handles::{AfHandle, Nbl, PartyHandle, SapHandle, VcHandle};

mod calls;
mod end_checks;
mod events;
mod handlers;

pub use events::{Call, Cx, Handler};

/// The rule ids (every one documented for scenario writers in `hw/VERIFIER.md`, checked by
/// `every_verifier_rule_id_is_documented_and_every_documented_id_exists`). Rules tightened or
/// added for issue 8, in `verifier-rules.md` form (the rest are as written there):
///
/// | id | rule | src |
/// |---|---|---|
/// | DATA-DRAINED-AT-DEACT | At NdisMCmDeactivateVc no NBL of a send that began before the close was entered is outstanding — accepted or rejected, also one a sender still inside MiniportCoSendNetBufferLists holds — and every NBL indicated on the VC has been returned (unless indicated with RESOURCES). | N |
/// | DATA-CLOSING-STATUS | A send that began after the close started (ProtocolCmCloseCall returned a non-error status, or NdisMCmDispatchIncomingCloseCall was made) completes with NDIS_STATUS_CLOSING (VC_NOT_ACTIVATED if the VC was inactive when it began), never SUCCESS or another status. | P |
/// | DATA-NO-CMP-AFTER-DELETE | From the moment NdisMCmDeleteVc is called, no NBL of a send that began before the close was entered is outstanding on that VC, and none is completed on it. | N |
pub mod rule {
    pub const IRQL_PASSIVE: &str = "IRQL-PASSIVE";
    pub const IRQL_DISPATCH: &str = "IRQL-DISPATCH";
    pub const RET_COCREATEVC: &str = "RET-COCREATEVC";
    pub const RET_CODELETEVC: &str = "RET-CODELETEVC";
    pub const RET_CLOSECALL: &str = "RET-CLOSECALL";
    pub const RET_DROPPARTY_LAST: &str = "RET-DROPPARTY-LAST";
    pub const CMP_CLOSE_NOTPENDING: &str = "CMP-CLOSE-NOTPENDING";
    pub const CMP_CLOSE_ONCE: &str = "CMP-CLOSE-ONCE";
    pub const CMP_CLOSE_INPROGRESS: &str = "CMP-CLOSE-INPROGRESS";
    pub const CMP_CLOSE_PARTY: &str = "CMP-CLOSE-PARTY";
    pub const CMP_MAKECALL: &str = "CMP-MAKECALL";
    pub const CMP_ONCE: &str = "CMP-ONCE";
    pub const VC_DEACT_BEFORE_COMPLETE: &str = "VC-DEACT-BEFORE-COMPLETE";
    pub const VC_DEACT_ONCE: &str = "VC-DEACT-ONCE";
    pub const VC_DELETE_INACTIVE: &str = "VC-DELETE-INACTIVE";
    pub const VC_DELETE_CREATOR: &str = "VC-DELETE-CREATOR";
    pub const VC_ACTIVATE_OPEN: &str = "VC-ACTIVATE-OPEN";
    pub const DATA_SEND_ONCE: &str = "DATA-SEND-ONCE";
    pub const DATA_DRAINED_AT_DEACT: &str = "DATA-DRAINED-AT-DEACT";
    pub const DATA_NO_IND_INACTIVE: &str = "DATA-NO-IND-INACTIVE";
    pub const DATA_NO_IND_CLOSING: &str = "DATA-NO-IND-CLOSING";
    pub const DATA_CLOSING_STATUS: &str = "DATA-CLOSING-STATUS";
    pub const DATA_NO_CMP_AFTER_DELETE: &str = "DATA-NO-CMP-AFTER-DELETE";
    pub const HDL_DEAD: &str = "HDL-DEAD";
    pub const HDL_DISPATCH_ONCE: &str = "HDL-DISPATCH-ONCE";
    pub const HDL_DROP_DISPATCH: &str = "HDL-DROP-DISPATCH";
    pub const HALT_NOTIFY_AF: &str = "HALT-NOTIFY-AF";
    pub const HALT_QUIET: &str = "HALT-QUIET";
    pub const HALT_NO_LEAK: &str = "HALT-NO-LEAK";
    pub const STS_LINK: &str = "STS-LINK";

    /// Every rule id the verifier enforces.
    pub const ALL: [&str; 30] = [
        IRQL_PASSIVE,
        IRQL_DISPATCH,
        RET_COCREATEVC,
        RET_CODELETEVC,
        RET_CLOSECALL,
        RET_DROPPARTY_LAST,
        CMP_CLOSE_NOTPENDING,
        CMP_CLOSE_ONCE,
        CMP_CLOSE_INPROGRESS,
        CMP_CLOSE_PARTY,
        CMP_MAKECALL,
        CMP_ONCE,
        VC_DEACT_BEFORE_COMPLETE,
        VC_DEACT_ONCE,
        VC_DELETE_INACTIVE,
        VC_DELETE_CREATOR,
        VC_ACTIVATE_OPEN,
        DATA_SEND_ONCE,
        DATA_DRAINED_AT_DEACT,
        DATA_NO_IND_INACTIVE,
        DATA_NO_IND_CLOSING,
        DATA_CLOSING_STATUS,
        DATA_NO_CMP_AFTER_DELETE,
        HDL_DEAD,
        HDL_DISPATCH_ONCE,
        HDL_DROP_DISPATCH,
        HALT_NOTIFY_AF,
        HALT_QUIET,
        HALT_NO_LEAK,
        STS_LINK,
    ];
}

/// Short name of a status for logs: `SUCCESS`, `PENDING`, or `0xC0001234`.
pub fn status_name(s: NdisStatus) -> String {
    match s.name() {
        Some(n) => n.to_string(),
        None => format!("0x{:08X}", s.0 as u32),
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule id (`rule::*`).
    pub rule: &'static str,
    pub message: String,
    pub af: Option<AfHandle>,
    pub sap: Option<SapHandle>,
    pub vc: Option<VcHandle>,
    pub party: Option<PartyHandle>,
    /// The last NDIS calls and handler returns on that VC (oldest first), the offending one last.
    pub recent: Vec<String>,
    /// Virtual time of the offending call.
    pub time: Duration,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.message)?;
        for (n, h) in [
            ("af", self.af.map(|h| h.0)),
            ("sap", self.sap.map(|h| h.0)),
            ("vc", self.vc.map(|h| h.0)),
            ("party", self.party.map(|h| h.0)),
        ] {
            if let Some(id) = h {
                write!(f, " {n}={id}")?;
            }
        }
        write!(f, " at {:?}", self.time)?;
        if !self.recent.is_empty() {
            write!(f, "\n      recent on VC: {}", self.recent.join(", "))?;
        }
        Ok(())
    }
}

/// A request the driver may pend: which completion belongs to which handler call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum Req {
    OpenAf(AfHandle),
    CloseAf(AfHandle),
    RegisterSap(SapHandle),
    DeregisterSap(SapHandle),
    MakeCall(VcHandle),
    CloseCall(VcHandle),
    AddParty(PartyHandle),
    DropParty(PartyHandle),
    ModifyQos(VcHandle),
    NotifyCloseAf(AfHandle),
}

impl Req {
    fn rule(self) -> &'static str {
        match self {
            Req::MakeCall(_) => rule::CMP_MAKECALL,
            Req::CloseCall(_) => rule::CMP_CLOSE_ONCE,
            _ => rule::CMP_ONCE,
        }
    }
}

/// One pended-or-not request: handler return and completions seen.
#[derive(Clone, Debug, Default)]
struct Pend {
    ret: Option<NdisStatus>,
    completions: u32,
    reported: bool,
}

impl Pend {
    /// A completion arrived.
    fn complete(&mut self) -> Result<(), String> {
        self.completions = self.completions.saturating_add(1);
        if self.completions > 1 {
            return Err("completed twice".into());
        }
        match self.ret {
            Some(s) if s != NdisStatus::PENDING => {
                Err(format!("completed although the handler returned {} (not PENDING)", status_name(s)))
            }
            _ => Ok(()),
        }
    }

    /// The handler returned `s`.
    fn returned(&mut self, s: NdisStatus) -> Result<(), String> {
        self.ret = Some(s);
        if s != NdisStatus::PENDING && self.completions > 0 {
            Err(format!("completed during the handler, which then returned {} instead of PENDING", status_name(s)))
        } else {
            Ok(())
        }
    }

    fn outstanding(&self) -> bool {
        self.ret == Some(NdisStatus::PENDING) && self.completions == 0
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Creator {
    Client,
    Driver,
}

/// Where the call on a VC is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// No call.
    Idle,
    /// MakeCall in progress, or an incoming call offered / accepted but not yet connected.
    Setup,
    Connected,
    /// ProtocolCmCloseCall entered and not failed.
    Closing,
    /// The call is over (close completed, make failed, incoming call rejected).
    Closed,
}

#[derive(Clone, Debug)]
struct CloseInfo {
    party: Option<PartyHandle>,
    cpu: u32,
    prev_phase: Phase,
}

#[derive(Clone, Debug)]
struct VVc {
    creator: Creator,
    /// False between ProtocolCoCreateVc's entry and its successful return.
    created: bool,
    deleted: bool,
    /// NdisMCmDeleteVc was called: it may still be running.
    deleting: bool,
    active: bool,
    phase: Phase,
    multipoint: bool,
    modifying: bool,
    incoming_close: bool,
    /// A ProtocolCmCloseCall of this call returned a non-error status: the close started, and a
    /// later failing NdisClCloseCall does not undo that.
    close_began: bool,
    connect_expected: bool,
    close: Option<CloseInfo>,
    recent: VecDeque<String>,
}

impl VVc {
    fn new(creator: Creator) -> VVc {
        VVc {
            creator,
            created: creator == Creator::Driver,
            deleted: false,
            deleting: false,
            active: false,
            phase: Phase::Idle,
            multipoint: false,
            modifying: false,
            incoming_close: false,
            close_began: false,
            connect_expected: false,
            close: None,
            recent: VecDeque::new(),
        }
    }

    fn close_ret(&self, pending: &HashMap<Req, Pend>, vc: VcHandle) -> Option<NdisStatus> {
        pending.get(&Req::CloseCall(vc)).and_then(|p| p.ret)
    }

    /// The close has started as seen from `cpu` (see the module doc).
    fn close_started(&self, pending: &HashMap<Req, Pend>, vc: VcHandle, cpu: u32) -> bool {
        if self.incoming_close || self.close_began {
            return true;
        }
        match (&self.close, self.close_ret(pending, vc)) {
            (Some(_), Some(s)) => !s.is_error(),
            (Some(c), None) => c.cpu == cpu,
            (None, _) => false,
        }
    }

    /// The client's close was entered and has not failed (see [`VSend::late`]). An incoming close
    /// dispatched does not count: until its NdisClCloseCall the client may still send (and must
    /// see those sends completed before it calls it).
    fn close_entered(&self, pending: &HashMap<Req, Pend>, vc: VcHandle) -> bool {
        self.close_began || (self.close.is_some() && self.close_ret(pending, vc).is_none_or(|s| !s.is_error()))
    }

    fn start_new_call(&mut self) {
        self.close = None;
        self.incoming_close = false;
        self.close_began = false;
        self.connect_expected = false;
        self.modifying = false;
    }
}

#[derive(Clone, Debug, Default)]
struct VAf {
    open: bool,
    dead: bool,
}

#[derive(Clone, Debug, Default)]
struct VSap {
    registered: bool,
    dead: bool,
}

#[derive(Clone, Debug)]
struct VParty {
    vc: VcHandle,
    added: bool,
    dead: bool,
    /// Set at ProtocolCmDropParty entry: it was the VC's last party.
    drop_was_last: bool,
}

#[derive(Clone, Debug)]
struct VSend {
    vc: VcHandle,
    /// Began after the close started (DATA-CLOSING-STATUS): ProtocolCmCloseCall returned a
    /// non-error status or NdisMCmDispatchIncomingCloseCall was made.
    after_close: bool,
    /// The VC was not active when the send began (VC_NOT_ACTIVATED is then a right answer too).
    inactive: bool,
    /// The send began after the client's close was entered (ProtocolCmCloseCall entered and not
    /// failed): the client broke "no send after NdisClCloseCall", so DATA-DRAINED-AT-DEACT and
    /// DATA-NO-CMP-AFTER-DELETE do not judge it. A send between an incoming close's dispatch and
    /// the client's NdisClCloseCall is legal and judged.
    late: bool,
    /// The driver has begun the send (its first NDIS call from inside it): until then the send
    /// is still on its way in and no driver could count it.
    started: bool,
}

/// One MiniportCoSendNetBufferLists still running (entered, not returned).
#[derive(Clone, Debug)]
struct VRunning {
    vc: VcHandle,
    late: bool,
    started: bool,
    nbls: Vec<Nbl>,
}

/// Live-object counts the driver owes NDIS at halt (HALT-NO-LEAK): the verifier keeps its own
/// count, from what it saw cross the NDIS boundary, in the driver's `LiveCounts` shape.
pub use atmmcm::cm::LiveCounts;

const RECENT: usize = 8;

/// The verifier state. Owned by the emulated NDIS; all methods are called with its lock held.
#[derive(Debug, Default)]
pub struct Verifier {
    violations: Vec<Violation>,
    afs: HashMap<AfHandle, VAf>,
    saps: HashMap<SapHandle, VSap>,
    vcs: HashMap<VcHandle, VVc>,
    parties: HashMap<PartyHandle, VParty>,
    pending: HashMap<Req, Pend>,
    sends: HashMap<Nbl, VSend>,
    /// Running MiniportCoSendNetBufferLists calls, by the head NBL they were given.
    running: HashMap<Nbl, VRunning>,
    /// ProtocolCmCloseCall calls made while a close of the same VC was outstanding (a client's
    /// double NdisClCloseCall): one refused with an error leaves the outstanding close alone.
    dup_closes: HashMap<VcHandle, u32>,
    held_rx: HashMap<Nbl, VcHandle>,
    in_halt: bool,
    halted: bool,
    af_open_at_halt: bool,
    notified_in_halt: bool,
    link_expected: Option<bool>,
    link_indicated: Option<bool>,
    now: Duration,
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// Every violation so far, in order.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The rule ids that fired, in order (with repeats).
    pub fn fired(&self) -> Vec<&'static str> {
        self.violations.iter().map(|v| v.rule).collect()
    }

    /// A readable report of every violation, or `None` when clean.
    pub fn report(&self) -> Option<String> {
        if self.violations.is_empty() {
            return None;
        }
        let mut s = format!("NDIS verifier: {} violation(s)\n", self.violations.len());
        for (i, v) in self.violations.iter().enumerate() {
            let _ = writeln!(s, "  {}. {v}", i + 1);
        }
        Some(s)
    }

    /// Panics with [`Verifier::report`] if any rule was broken.
    pub fn assert_clean(&self) {
        if let Some(r) = self.report() {
            panic!("{r}");
        }
    }

    /// The objects the driver has handed out and not retired.
    pub fn live(&self) -> LiveCounts {
        LiveCounts {
            afs: self.afs.values().filter(|a| a.open && !a.dead).count(),
            saps: self.saps.values().filter(|s| s.registered && !s.dead).count(),
            vcs: self.vcs.values().filter(|v| v.created && !v.deleted).count(),
            calls: self
                .vcs
                .values()
                .filter(|v| !v.deleted && matches!(v.phase, Phase::Setup | Phase::Connected | Phase::Closing))
                .count(),
            parties: self.parties.values().filter(|p| p.added && !p.dead).count(),
        }
    }

    // ---- reporting helpers ------------------------------------------------------------------------

    fn fire(
        &mut self,
        rule: &'static str,
        message: impl Into<String>,
        vc: Option<VcHandle>,
        party: Option<PartyHandle>,
    ) {
        let recent = vc.and_then(|h| self.vcs.get(&h)).map(|v| v.recent.iter().cloned().collect()).unwrap_or_default();
        self.violations.push(Violation {
            rule,
            message: message.into(),
            af: None,
            sap: None,
            vc,
            party,
            recent,
            time: self.now,
        });
    }

    fn fire_af(&mut self, rule: &'static str, message: impl Into<String>, af: AfHandle) {
        self.fire(rule, message, None, None);
        if let Some(v) = self.violations.last_mut() {
            v.af = Some(af);
        }
    }

    fn fire_sap(&mut self, rule: &'static str, message: impl Into<String>, sap: SapHandle) {
        self.fire(rule, message, None, None);
        if let Some(v) = self.violations.last_mut() {
            v.sap = Some(sap);
        }
    }

    fn note(&mut self, vc: Option<VcHandle>, entry: String) {
        if let Some(v) = vc.and_then(|h| self.vcs.get_mut(&h)) {
            if v.recent.len() == RECENT {
                v.recent.pop_front();
            }
            v.recent.push_back(entry);
        }
    }

    fn vc_dead(&self, vc: VcHandle) -> bool {
        self.vcs.get(&vc).is_none_or(|v| v.deleted)
    }

    fn party_dead(&self, p: PartyHandle) -> bool {
        self.parties.get(&p).is_none_or(|p| p.dead)
    }

    fn af_dead(&self, af: AfHandle) -> bool {
        self.afs.get(&af).is_none_or(|a| a.dead)
    }

    fn sap_dead(&self, sap: SapHandle) -> bool {
        self.saps.get(&sap).is_none_or(|s| s.dead)
    }

    /// HDL-DEAD for a VC; true when it fired.
    fn check_vc(&mut self, vc: VcHandle, what: &str) -> bool {
        if self.vc_dead(vc) {
            self.fire(
                rule::HDL_DEAD,
                format!("{what} names {vc}, which is deleted or was never issued"),
                Some(vc),
                None,
            );
            return true;
        }
        false
    }

    fn check_party(&mut self, p: PartyHandle, what: &str) -> bool {
        if self.party_dead(p) {
            let vc = self.parties.get(&p).map(|x| x.vc);
            self.fire(
                rule::HDL_DEAD,
                format!("{what} names {p}, which is dropped/closed or was never issued"),
                vc,
                Some(p),
            );
            return true;
        }
        false
    }

    fn live_parties(&self, vc: VcHandle) -> usize {
        self.parties.values().filter(|p| p.vc == vc && p.added && !p.dead).count()
    }

    fn pend_start(&mut self, r: Req) {
        self.pending.insert(r, Pend::default());
    }

    /// A completion for `r`; returns false (after firing) when it does not belong to a request.
    fn pend_complete(&mut self, r: Req, what: &str, vc: Option<VcHandle>, party: Option<PartyHandle>) -> bool {
        let res = match self.pending.get_mut(&r) {
            None => Err("no such request was made".to_string()),
            Some(p) => p.complete(),
        };
        match res {
            Ok(()) => true,
            Err(why) => {
                self.fire(r.rule(), format!("{what}: {why}"), vc, party);
                false
            }
        }
    }

    fn pend_return(&mut self, r: Req, s: NdisStatus, what: &str, vc: Option<VcHandle>, party: Option<PartyHandle>) {
        if let Some(Err(why)) = self.pending.get_mut(&r).map(|p| p.returned(s)) {
            self.fire(r.rule(), format!("{what}: {why}"), vc, party);
        }
    }

    // ---- the feed ---------------------------------------------------------------------------------
}
