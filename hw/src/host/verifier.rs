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
use super::irql::Irql;

/// The rule ids. Rules tightened or added for issue 8, in `verifier-rules.md` form (the rest are
/// as written there):
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

/// The execution context of a call: who is calling, from where.
#[derive(Copy, Clone, Debug)]
pub struct Cx {
    pub irql: Irql,
    pub cpu: u32,
    /// Inside a DPC, timer, send or receive-return path.
    pub deferred: bool,
    pub time: Duration,
}

/// A call the driver makes into NDIS.
#[derive(Clone, Debug)]
pub enum Call {
    RegisterAf,
    OpenAfComplete {
        status: NdisStatus,
        af: AfHandle,
    },
    CloseAfComplete {
        status: NdisStatus,
        af: AfHandle,
    },
    NotifyCloseAf {
        af: AfHandle,
    },
    RegisterSapComplete {
        status: NdisStatus,
        sap: SapHandle,
    },
    DeregisterSapComplete {
        status: NdisStatus,
        sap: SapHandle,
    },
    /// `vc`: the handle NDIS is about to return.
    CreateVc {
        af: AfHandle,
        vc: VcHandle,
    },
    DeleteVc {
        vc: VcHandle,
    },
    ActivateVc {
        vc: VcHandle,
    },
    DeactivateVc {
        vc: VcHandle,
    },
    MakeCallComplete {
        status: NdisStatus,
        vc: VcHandle,
        party: Option<PartyHandle>,
    },
    DispatchIncomingCall {
        sap: SapHandle,
        vc: VcHandle,
    },
    DispatchCallConnected {
        vc: VcHandle,
    },
    CloseCallComplete {
        status: NdisStatus,
        vc: VcHandle,
        party: Option<PartyHandle>,
    },
    DispatchIncomingCloseCall {
        status: NdisStatus,
        vc: VcHandle,
    },
    AddPartyComplete {
        status: NdisStatus,
        party: PartyHandle,
    },
    DropPartyComplete {
        status: NdisStatus,
        party: PartyHandle,
    },
    DispatchIncomingDropParty {
        status: NdisStatus,
        party: PartyHandle,
    },
    ModifyQosComplete {
        status: NdisStatus,
        vc: VcHandle,
    },
    /// Each NBL of the chain with the status the driver set on it.
    SendComplete {
        vc: VcHandle,
        nbls: Vec<(Nbl, NdisStatus)>,
    },
    IndicateReceive {
        vc: VcHandle,
        nbls: Vec<Nbl>,
        flags: u32,
    },
    /// `link`: the link state carried, when the indication is a link change.
    IndicateStatus {
        vc: Option<VcHandle>,
        code: NdisStatus,
        link: Option<bool>,
    },
}

impl Call {
    /// The NDIS function name, with the status argument in parentheses where it has one:
    /// `NdisMCmCloseCallComplete(SUCCESS)`, `NdisMCmDeactivateVc`.
    pub fn name(&self) -> String {
        let with = |n: &str, s: &NdisStatus| format!("{n}({})", status_name(*s));
        match self {
            Call::RegisterAf => "NdisMCmRegisterAddressFamilyEx".into(),
            Call::OpenAfComplete { status, .. } => with("NdisMCmOpenAddressFamilyComplete", status),
            Call::CloseAfComplete { status, .. } => with("NdisMCmCloseAddressFamilyComplete", status),
            Call::NotifyCloseAf { .. } => "NdisMCmNotifyCloseAddressFamily".into(),
            Call::RegisterSapComplete { status, .. } => with("NdisMCmRegisterSapComplete", status),
            Call::DeregisterSapComplete { status, .. } => with("NdisMCmDeregisterSapComplete", status),
            Call::CreateVc { .. } => "NdisMCmCreateVc".into(),
            Call::DeleteVc { .. } => "NdisMCmDeleteVc".into(),
            Call::ActivateVc { .. } => "NdisMCmActivateVc".into(),
            Call::DeactivateVc { .. } => "NdisMCmDeactivateVc".into(),
            Call::MakeCallComplete { status, .. } => with("NdisMCmMakeCallComplete", status),
            Call::DispatchIncomingCall { .. } => "NdisMCmDispatchIncomingCall".into(),
            Call::DispatchCallConnected { .. } => "NdisMCmDispatchCallConnected".into(),
            Call::CloseCallComplete { status, .. } => with("NdisMCmCloseCallComplete", status),
            Call::DispatchIncomingCloseCall { status, .. } => with("NdisMCmDispatchIncomingCloseCall", status),
            Call::AddPartyComplete { status, .. } => with("NdisMCmAddPartyComplete", status),
            Call::DropPartyComplete { status, .. } => with("NdisMCmDropPartyComplete", status),
            Call::DispatchIncomingDropParty { status, .. } => with("NdisMCmDispatchIncomingDropParty", status),
            Call::ModifyQosComplete { status, .. } => with("NdisMCmModifyCallQoSComplete", status),
            Call::SendComplete { .. } => "NdisMCoSendNetBufferListsComplete".into(),
            Call::IndicateReceive { .. } => "NdisMCoIndicateReceiveNetBufferLists".into(),
            Call::IndicateStatus { code, .. } => with("NdisMCoIndicateStatusEx", code),
        }
    }

    /// The VC the call names, if any.
    pub fn vc(&self) -> Option<VcHandle> {
        match self {
            Call::CreateVc { vc, .. }
            | Call::DeleteVc { vc }
            | Call::ActivateVc { vc }
            | Call::DeactivateVc { vc }
            | Call::MakeCallComplete { vc, .. }
            | Call::DispatchIncomingCall { vc, .. }
            | Call::DispatchCallConnected { vc }
            | Call::CloseCallComplete { vc, .. }
            | Call::DispatchIncomingCloseCall { vc, .. }
            | Call::ModifyQosComplete { vc, .. }
            | Call::SendComplete { vc, .. }
            | Call::IndicateReceive { vc, .. } => Some(*vc),
            Call::IndicateStatus { vc, .. } => *vc,
            _ => None,
        }
    }

    /// The party the call names, if any.
    pub fn party(&self) -> Option<PartyHandle> {
        match self {
            Call::MakeCallComplete { party, .. } | Call::CloseCallComplete { party, .. } => *party,
            Call::AddPartyComplete { party, .. }
            | Call::DropPartyComplete { party, .. }
            | Call::DispatchIncomingDropParty { party, .. } => Some(*party),
            _ => None,
        }
    }
}

/// A driver entry point NDIS (or the lab) runs.
#[derive(Clone, Debug)]
pub enum Handler {
    /// MiniportInitializeEx (the adapter's `start`).
    Initialize,
    Halt,
    Dpc,
    Timer,
    OpenAf {
        af: AfHandle,
    },
    CloseAf {
        af: AfHandle,
    },
    RegisterSap {
        af: AfHandle,
        sap: SapHandle,
    },
    DeregisterSap {
        sap: SapHandle,
    },
    CoCreateVc {
        af: AfHandle,
        vc: VcHandle,
    },
    CoDeleteVc {
        vc: VcHandle,
    },
    MakeCall {
        vc: VcHandle,
        party: Option<PartyHandle>,
        multipoint: bool,
    },
    CloseCall {
        vc: VcHandle,
        party: Option<PartyHandle>,
        data_given: bool,
    },
    IncomingCallComplete {
        vc: VcHandle,
        status: NdisStatus,
    },
    AddParty {
        vc: VcHandle,
        party: PartyHandle,
    },
    DropParty {
        vc: VcHandle,
        party: PartyHandle,
        data_given: bool,
    },
    ModifyQos {
        vc: VcHandle,
    },
    NotifyCloseAfComplete {
        af: AfHandle,
        status: NdisStatus,
    },
    Send {
        vc: VcHandle,
        nbls: Vec<Nbl>,
    },
    /// MiniportReturnNetBufferLists; `vc` = the VC the first NBL was indicated on.
    Return {
        vc: Option<VcHandle>,
        nbls: Vec<Nbl>,
    },
    Other(&'static str),
}

impl Handler {
    /// The entry point's NDIS name (`ProtocolCmCloseCall`, `MiniportCoSendNetBufferLists`, ...).
    pub fn name(&self) -> String {
        match self {
            Handler::Initialize => "MiniportInitializeEx".into(),
            Handler::Halt => "MiniportHaltEx".into(),
            Handler::Dpc => "MiniportDpc".into(),
            Handler::Timer => "MiniportTimer".into(),
            Handler::OpenAf { .. } => "ProtocolCmOpenAf".into(),
            Handler::CloseAf { .. } => "ProtocolCmCloseAf".into(),
            Handler::RegisterSap { .. } => "ProtocolCmRegisterSap".into(),
            Handler::DeregisterSap { .. } => "ProtocolCmDeregisterSap".into(),
            Handler::CoCreateVc { .. } => "ProtocolCoCreateVc".into(),
            Handler::CoDeleteVc { .. } => "ProtocolCoDeleteVc".into(),
            Handler::MakeCall { .. } => "ProtocolCmMakeCall".into(),
            Handler::CloseCall { .. } => "ProtocolCmCloseCall".into(),
            Handler::IncomingCallComplete { status, .. } => {
                format!("ProtocolCmIncomingCallComplete({})", status_name(*status))
            }
            Handler::AddParty { .. } => "ProtocolCmAddParty".into(),
            Handler::DropParty { .. } => "ProtocolCmDropParty".into(),
            Handler::ModifyQos { .. } => "ProtocolCmModifyCallQoS".into(),
            Handler::NotifyCloseAfComplete { status, .. } => {
                format!("ProtocolCmNotifyCloseAfComplete({})", status_name(*status))
            }
            Handler::Send { .. } => "MiniportCoSendNetBufferLists".into(),
            Handler::Return { .. } => "MiniportReturnNetBufferLists".into(),
            Handler::Other(n) => (*n).into(),
        }
    }

    pub fn vc(&self) -> Option<VcHandle> {
        match self {
            Handler::CoCreateVc { vc, .. }
            | Handler::CoDeleteVc { vc }
            | Handler::MakeCall { vc, .. }
            | Handler::CloseCall { vc, .. }
            | Handler::IncomingCallComplete { vc, .. }
            | Handler::AddParty { vc, .. }
            | Handler::DropParty { vc, .. }
            | Handler::ModifyQos { vc }
            | Handler::Send { vc, .. } => Some(*vc),
            Handler::Return { vc, .. } => *vc,
            _ => None,
        }
    }

    pub fn party(&self) -> Option<PartyHandle> {
        match self {
            Handler::MakeCall { party, .. } | Handler::CloseCall { party, .. } => *party,
            Handler::AddParty { party, .. } | Handler::DropParty { party, .. } => Some(*party),
            _ => None,
        }
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

    /// A call from the driver into NDIS, checked before NDIS acts on it.
    pub fn call(&mut self, c: &Call, cx: &Cx) {
        self.now = cx.time;
        let vc = c.vc();
        let party = c.party();
        self.note(vc, c.name());

        if self.halted {
            self.fire(rule::HALT_QUIET, format!("{} after MiniportHaltEx returned", c.name()), vc, party);
            return;
        }
        match c {
            Call::RegisterAf | Call::NotifyCloseAf { .. } => {
                if cx.irql != Irql::Passive || cx.deferred {
                    self.fire(
                        rule::IRQL_PASSIVE,
                        format!(
                            "{} at {:?}{}",
                            c.name(),
                            cx.irql,
                            if cx.deferred { " from a DPC/timer/data path" } else { "" }
                        ),
                        vc,
                        party,
                    );
                }
            }
            _ => {
                if cx.irql > Irql::Dispatch {
                    self.fire(rule::IRQL_DISPATCH, format!("{} at {:?}", c.name(), cx.irql), vc, party);
                }
            }
        }

        match *c {
            Call::RegisterAf => {}
            // An AF open completion: only after ProtocolCmOpenAf returned PENDING.
            Call::OpenAfComplete { status, af } => {
                if self.af_dead(af) {
                    return self.fire_af(rule::HDL_DEAD, format!("{} on a dead {af}", c.name()), af);
                }
                if self.pend_complete(Req::OpenAf(af), &c.name(), None, None)
                    && let Some(a) = self.afs.get_mut(&af)
                {
                    a.open = status == NdisStatus::SUCCESS;
                    a.dead = status != NdisStatus::SUCCESS;
                }
            }
            Call::CloseAfComplete { status, af } => {
                if self.af_dead(af) {
                    return self.fire_af(rule::HDL_DEAD, format!("{} on a dead {af}", c.name()), af);
                }
                if self.pend_complete(Req::CloseAf(af), &c.name(), None, None)
                    && status == NdisStatus::SUCCESS
                    && let Some(a) = self.afs.get_mut(&af)
                {
                    a.open = false;
                    a.dead = true;
                }
            }
            Call::NotifyCloseAf { af } => {
                if self.af_dead(af) {
                    return self.fire_af(rule::HDL_DEAD, format!("{} on a dead {af}", c.name()), af);
                }
                if self.pending.get(&Req::NotifyCloseAf(af)).is_some_and(|p| p.ret.is_none() || p.outstanding()) {
                    self.fire_af(rule::CMP_ONCE, "NdisMCmNotifyCloseAddressFamily while one is outstanding", af);
                }
                self.pend_start(Req::NotifyCloseAf(af));
                if self.in_halt {
                    self.notified_in_halt = true;
                }
            }
            Call::RegisterSapComplete { status, sap } => {
                if self.sap_dead(sap) {
                    return self.fire_sap(rule::HDL_DEAD, format!("{} on a dead {sap}", c.name()), sap);
                }
                if self.pend_complete(Req::RegisterSap(sap), &c.name(), None, None)
                    && let Some(s) = self.saps.get_mut(&sap)
                {
                    s.registered = status == NdisStatus::SUCCESS;
                    s.dead = status != NdisStatus::SUCCESS;
                }
            }
            Call::DeregisterSapComplete { status, sap } => {
                if self.sap_dead(sap) {
                    return self.fire_sap(rule::HDL_DEAD, format!("{} on a dead {sap}", c.name()), sap);
                }
                if self.pend_complete(Req::DeregisterSap(sap), &c.name(), None, None)
                    && status == NdisStatus::SUCCESS
                    && let Some(s) = self.saps.get_mut(&sap)
                {
                    s.dead = true;
                }
            }
            Call::CreateVc { af, vc } => {
                if self.af_dead(af) {
                    return self.fire_af(rule::HDL_DEAD, format!("NdisMCmCreateVc on a dead {af}"), af);
                }
                let mut v = VVc::new(Creator::Driver);
                v.recent.push_back(c.name());
                self.vcs.insert(vc, v);
            }
            Call::DeleteVc { vc } => {
                if self.check_vc(vc, "NdisMCmDeleteVc") {
                    return;
                }
                let Some(v) = self.vcs.get(&vc) else { return };
                if v.creator != Creator::Driver {
                    return self.fire(
                        rule::VC_DELETE_CREATOR,
                        "NdisMCmDeleteVc on a VC the client created (the client deletes it)",
                        Some(vc),
                        None,
                    );
                }
                if v.active || matches!(v.phase, Phase::Setup | Phase::Connected | Phase::Closing) {
                    let why = format!(
                        "NdisMCmDeleteVc on a VC that is {} with call phase {:?}",
                        if v.active { "active" } else { "inactive" },
                        v.phase
                    );
                    self.fire(rule::VC_DELETE_INACTIVE, why, Some(vc), None)
                }
                self.quiet_at_delete(vc, "NdisMCmDeleteVc");
                // Marked deleted when the call returns (see call_returned).
            }
            Call::ActivateVc { vc } => {
                if self.check_vc(vc, "NdisMCmActivateVc") {
                    return;
                }
                let Some(v) = self.vcs.get(&vc) else { return };
                // A close during make entered on another thread while the MakeCall is still
                // outstanding: the driver may have decided the activation before the close reached
                // it (see the module doc).
                let overtaken = v.phase == Phase::Closing
                    && v.close.as_ref().is_some_and(|c| c.prev_phase == Phase::Setup && c.cpu != cx.cpu)
                    && self.pending.get(&Req::MakeCall(vc)).is_some_and(|p| p.completions == 0);
                let ok = v.phase == Phase::Setup
                    || overtaken
                    || (v.modifying && v.phase == Phase::Connected)
                    || (v.phase == Phase::Idle && v.creator == Creator::Driver);
                if !ok {
                    let why = format!("NdisMCmActivateVc with call phase {:?} (not being set up or modified)", v.phase);
                    self.fire(rule::VC_ACTIVATE_OPEN, why, Some(vc), None);
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.active = true;
                }
            }
            Call::DeactivateVc { vc } => {
                if self.check_vc(vc, "NdisMCmDeactivateVc") {
                    return;
                }
                if !self.vcs.get(&vc).is_some_and(|v| v.active) {
                    return self.fire(rule::VC_DEACT_ONCE, "NdisMCmDeactivateVc on an inactive VC", Some(vc), None);
                }
                // Sends that began before the close started: none may still be outstanding —
                // accepted or rejected (a sender inside the driver still holding its NBL).
                let sends = self.sends.values().filter(|s| s.vc == vc && s.started && !s.late).count();
                let inside = self.running.values().filter(|r| r.vc == vc && r.started && !r.late).count();
                let held = self.held_rx.values().filter(|&&h| h == vc).count();
                if sends > 0 || held > 0 {
                    self.fire(
                        rule::DATA_DRAINED_AT_DEACT,
                        format!(
                            "NdisMCmDeactivateVc with {sends} send NBL(s) outstanding ({inside} send call(s) still \
                             inside the driver) and {held} indicated NBL(s) not returned"
                        ),
                        Some(vc),
                        None,
                    );
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.active = false;
                }
            }
            Call::MakeCallComplete { status, vc, party } => {
                if self.check_vc(vc, "NdisMCmMakeCallComplete") {
                    return;
                }
                if !self.pend_complete(Req::MakeCall(vc), &c.name(), Some(vc), party) {
                    return;
                }
                self.make_call_outcome(vc, party, status, &c.name());
            }
            Call::DispatchIncomingCall { sap, vc } => {
                if self.sap_dead(sap) {
                    return self.fire_sap(rule::HDL_DEAD, format!("NdisMCmDispatchIncomingCall on a dead {sap}"), sap);
                }
                if self.check_vc(vc, "NdisMCmDispatchIncomingCall") {
                    return;
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.start_new_call();
                    v.phase = Phase::Setup;
                }
                self.pending.remove(&Req::CloseCall(vc));
            }
            Call::DispatchCallConnected { vc } => {
                if self.check_vc(vc, "NdisMCmDispatchCallConnected") {
                    return;
                }
                let Some(v) = self.vcs.get_mut(&vc) else { return };
                if !v.connect_expected {
                    return self.fire(
                        rule::CMP_ONCE,
                        "NdisMCmDispatchCallConnected without an accepted incoming call waiting for it",
                        Some(vc),
                        None,
                    );
                }
                v.connect_expected = false;
                v.phase = Phase::Connected;
            }
            Call::CloseCallComplete { status, vc, party } => self.close_call_complete(status, vc, party, &c.name()),
            Call::DispatchIncomingCloseCall { vc, .. } => {
                if self.check_vc(vc, "NdisMCmDispatchIncomingCloseCall") {
                    return;
                }
                let Some(v) = self.vcs.get(&vc) else { return };
                let close_started = v.close.is_some() && v.close_ret(&self.pending, vc).is_none_or(|s| !s.is_error());
                if v.incoming_close {
                    self.fire(
                        rule::HDL_DISPATCH_ONCE,
                        "second NdisMCmDispatchIncomingCloseCall for this call",
                        Some(vc),
                        None,
                    );
                } else if close_started {
                    self.fire(
                        rule::HDL_DISPATCH_ONCE,
                        "NdisMCmDispatchIncomingCloseCall after the close started (ProtocolCmCloseCall)",
                        Some(vc),
                        None,
                    );
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.incoming_close = true;
                    v.connect_expected = false;
                }
            }
            Call::AddPartyComplete { status, party } => {
                if self.check_party_exists(party, &c.name()) {
                    return;
                }
                let vc = self.parties.get(&party).map(|p| p.vc);
                if self.pend_complete(Req::AddParty(party), &c.name(), vc, Some(party))
                    && let Some(p) = self.parties.get_mut(&party)
                {
                    p.added = status == NdisStatus::SUCCESS;
                    p.dead = status != NdisStatus::SUCCESS;
                }
            }
            Call::DropPartyComplete { status, party } => {
                if self.check_party(party, &c.name()) {
                    return;
                }
                let vc = self.parties.get(&party).map(|p| p.vc);
                if self.pend_complete(Req::DropParty(party), &c.name(), vc, Some(party))
                    && status == NdisStatus::SUCCESS
                    && let Some(p) = self.parties.get_mut(&party)
                {
                    p.dead = true;
                }
            }
            Call::DispatchIncomingDropParty { party, .. } => {
                if self.check_party(party, &c.name()) {
                    return;
                }
                let vc = self.parties.get(&party).map(|p| p.vc);
                if let Some(vc) = vc
                    && self.live_parties(vc) <= 1
                {
                    self.fire(
                        rule::HDL_DROP_DISPATCH,
                        "NdisMCmDispatchIncomingDropParty for the last party (use NdisMCmDispatchIncomingCloseCall)",
                        Some(vc),
                        Some(party),
                    );
                }
            }
            Call::ModifyQosComplete { vc, .. } => {
                if self.check_vc(vc, "NdisMCmModifyCallQoSComplete") {
                    return;
                }
                if self.pend_complete(Req::ModifyQos(vc), &c.name(), Some(vc), None)
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.modifying = false;
                }
            }
            Call::SendComplete { vc, ref nbls } => {
                if self.check_vc(vc, "NdisMCoSendNetBufferListsComplete") {
                    return;
                }
                for &(nbl, status) in nbls {
                    match self.sends.remove(&nbl) {
                        None => self.fire(
                            rule::DATA_SEND_ONCE,
                            format!("{nbl} completed but it is not outstanding (never sent, or already completed)"),
                            Some(vc),
                            None,
                        ),
                        Some(s) if s.vc != vc => self.fire(
                            rule::DATA_SEND_ONCE,
                            format!("{nbl} was sent on {} but completed on {vc}", s.vc),
                            Some(vc),
                            None,
                        ),
                        Some(s) => {
                            let want_ok =
                                status == NdisStatus::CLOSING || (s.inactive && status == NdisStatus::VC_NOT_ACTIVATED);
                            if s.after_close && !want_ok {
                                self.fire(
                                    rule::DATA_CLOSING_STATUS,
                                    format!(
                                        "{nbl} was sent after the close started and completed with {} (want CLOSING)",
                                        status_name(status)
                                    ),
                                    Some(vc),
                                    None,
                                );
                            }
                            if s.started && !s.late && self.vcs.get(&vc).is_some_and(|v| v.deleting) {
                                self.fire(
                                    rule::DATA_NO_CMP_AFTER_DELETE,
                                    format!(
                                        "{nbl} (sent before the close started) completed after the VC's delete began"
                                    ),
                                    Some(vc),
                                    None,
                                );
                            }
                        }
                    }
                }
            }
            Call::IndicateReceive { vc, ref nbls, flags } => {
                if self.check_vc(vc, "NdisMCoIndicateReceiveNetBufferLists") {
                    return;
                }
                let Some(v) = self.vcs.get(&vc) else { return };
                if !v.active {
                    self.fire(rule::DATA_NO_IND_INACTIVE, "receive indication on an inactive VC", Some(vc), None);
                } else if v.close_started(&self.pending, vc, cx.cpu) {
                    self.fire(
                        rule::DATA_NO_IND_CLOSING,
                        "receive indication after the close of the VC started",
                        Some(vc),
                        None,
                    );
                }
                if flags & atmmcm::ndis::receive_flags::RESOURCES == 0 {
                    for &n in nbls {
                        self.held_rx.insert(n, vc);
                    }
                }
            }
            Call::IndicateStatus { vc, code, link } => {
                if let Some(h) = vc
                    && self.check_vc(h, "NdisMCoIndicateStatusEx")
                {
                    return;
                }
                if let Some(up) = link {
                    let ok = code == NdisStatus::LINK_STATE
                        || (code == NdisStatus::MEDIA_CONNECT && up)
                        || (code == NdisStatus::MEDIA_DISCONNECT && !up);
                    if !ok {
                        self.fire(
                            rule::STS_LINK,
                            format!(
                                "link change indicated with {} (want LINK_STATE, or MEDIA_CONNECT/DISCONNECT)",
                                status_name(code)
                            ),
                            vc,
                            None,
                        );
                    }
                    self.link_indicated = Some(up);
                }
            }
        }
    }

    /// DATA-NO-CMP-AFTER-DELETE at the start of a VC's delete: nothing sent before the close
    /// started is still outstanding or inside MiniportCoSendNetBufferLists. (Sends the client
    /// began after the close broke "no send after NdisClCloseCall": the client's own delete waits
    /// for those; HDL-DEAD catches any completion after the delete returned.)
    fn quiet_at_delete(&mut self, vc: VcHandle, what: &str) {
        let sends = self.sends.values().filter(|s| s.vc == vc && s.started && !s.late).count();
        let inside = self.running.values().filter(|r| r.vc == vc && r.started && !r.late).count();
        if sends > 0 {
            self.fire(
                rule::DATA_NO_CMP_AFTER_DELETE,
                format!("{what} with {sends} send NBL(s) outstanding ({inside} send call(s) inside the driver)"),
                Some(vc),
                None,
            );
        }
        if let Some(v) = self.vcs.get_mut(&vc) {
            v.deleting = true;
        }
    }

    fn check_party_exists(&mut self, party: PartyHandle, what: &str) -> bool {
        if !self.parties.contains_key(&party) || self.parties.get(&party).is_some_and(|p| p.dead) {
            let vc = self.parties.get(&party).map(|p| p.vc);
            self.fire(
                rule::HDL_DEAD,
                format!("{what} names {party}, which is dead or was never issued"),
                vc,
                Some(party),
            );
            return true;
        }
        false
    }

    fn make_call_outcome(&mut self, vc: VcHandle, party: Option<PartyHandle>, status: NdisStatus, what: &str) {
        let active = self.vcs.get(&vc).is_some_and(|v| v.active);
        if status == NdisStatus::SUCCESS && !active {
            self.fire(rule::CMP_MAKECALL, format!("{what}: SUCCESS before NdisMCmActivateVc"), Some(vc), party);
        }
        let ok = status == NdisStatus::SUCCESS;
        if let Some(v) = self.vcs.get_mut(&vc) {
            v.phase = if ok { Phase::Connected } else { Phase::Closed };
        }
        let party_of_call: Vec<PartyHandle> =
            self.parties.iter().filter(|(_, p)| p.vc == vc && !p.added && !p.dead).map(|(h, _)| *h).collect();
        for p in party_of_call {
            if let Some(p) = self.parties.get_mut(&p) {
                p.added = ok;
                p.dead = !ok;
            }
        }
    }

    fn close_call_complete(&mut self, status: NdisStatus, vc: VcHandle, party: Option<PartyHandle>, what: &str) {
        if self.check_vc(vc, what) {
            return;
        }
        if status == NdisStatus::PENDING {
            return self.fire(
                rule::CMP_CLOSE_NOTPENDING,
                "NdisMCmCloseCallComplete with NDIS_STATUS_PENDING",
                Some(vc),
                party,
            );
        }
        let Some(close) = self.vcs.get(&vc).and_then(|v| v.close.clone()) else {
            return self.fire(
                rule::CMP_CLOSE_INPROGRESS,
                "NdisMCmCloseCallComplete without ProtocolCmCloseCall on this call",
                Some(vc),
                party,
            );
        };
        if !self.pend_complete(Req::CloseCall(vc), what, Some(vc), party) {
            return;
        }
        let multipoint = self.vcs.get(&vc).is_some_and(|v| v.multipoint);
        let party_ok = if multipoint { party == close.party } else { party.is_none() };
        if !party_ok {
            let want = if multipoint { format!("{:?}", close.party) } else { "NULL (point-to-point)".to_string() };
            self.fire(rule::CMP_CLOSE_PARTY, format!("{what} with party {party:?}, want {want}"), Some(vc), party);
        }
        self.close_done(vc, status, close.party, what);
    }

    /// The close finished with `status` (completion or synchronous return).
    fn close_done(&mut self, vc: VcHandle, status: NdisStatus, party: Option<PartyHandle>, what: &str) {
        if status != NdisStatus::SUCCESS {
            return;
        }
        if self.vcs.get(&vc).is_some_and(|v| v.active) {
            self.fire(
                rule::VC_DEACT_BEFORE_COMPLETE,
                format!("{what}: the VC is still active (NdisMCmDeactivateVc first)"),
                Some(vc),
                party,
            );
        }
        if let Some(v) = self.vcs.get_mut(&vc) {
            v.phase = Phase::Closed;
        }
        // The call is over: every party of it is gone.
        for p in self.parties.values_mut().filter(|p| p.vc == vc) {
            p.dead = true;
        }
    }

    /// A call into NDIS returned `ret` (only the calls whose result changes state).
    pub fn call_returned(&mut self, c: &Call, ret: NdisStatus) {
        match *c {
            Call::DeleteVc { vc } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.deleted = ret == NdisStatus::SUCCESS;
                    v.deleting = false;
                }
            }
            Call::CreateVc { vc, .. } => {
                if ret != NdisStatus::SUCCESS
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.deleted = true;
                }
            }
            Call::DispatchIncomingCall { vc, .. } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    if ret == NdisStatus::SUCCESS {
                        v.connect_expected = true;
                    } else if ret != NdisStatus::PENDING {
                        v.phase = Phase::Closed;
                    }
                }
            }
            Call::NotifyCloseAf { af } => {
                if let Some(p) = self.pending.get_mut(&Req::NotifyCloseAf(af)) {
                    p.ret = Some(ret);
                    if ret != NdisStatus::PENDING {
                        p.completions = 1;
                    }
                }
            }
            _ => {}
        }
    }

    /// The send whose chain starts at `head` reached the driver: its first NDIS call from inside
    /// MiniportCoSendNetBufferLists. Whether it began before the close is judged again now — the
    /// driver has had its first look at the VC by then; a thread preempted between NDIS's
    /// dispatch and the driver's first instruction did not begin its send yet.
    pub fn send_progress(&mut self, head: Nbl) {
        let Some(r) = self.running.get(&head) else { return };
        let vc = r.vc;
        let late = self.vcs.get(&vc).is_some_and(|v| v.close_entered(&self.pending, vc));
        let nbls = r.nbls.clone();
        if let Some(r) = self.running.get_mut(&head) {
            r.late = late;
            r.started = true;
        }
        for n in nbls {
            if let Some(s) = self.sends.get_mut(&n) {
                s.late = late;
                s.started = true;
            }
        }
    }

    /// NDIS enters a driver handler.
    pub fn handler_enter(&mut self, h: &Handler, cx: &Cx) {
        self.now = cx.time;
        let vc = h.vc();
        if let Handler::CoCreateVc { vc, .. } = *h {
            self.vcs.insert(vc, VVc::new(Creator::Client));
        }
        self.note(vc, h.name());
        match *h {
            Handler::Halt => {
                self.in_halt = true;
                self.notified_in_halt = false;
                self.af_open_at_halt = self.afs.values().any(|a| a.open && !a.dead);
            }
            Handler::OpenAf { af } => {
                self.afs.insert(af, VAf::default());
                self.pend_start(Req::OpenAf(af));
            }
            Handler::CloseAf { af } => self.pend_start(Req::CloseAf(af)),
            Handler::RegisterSap { sap, .. } => {
                self.saps.insert(sap, VSap::default());
                self.pend_start(Req::RegisterSap(sap));
            }
            Handler::DeregisterSap { sap } => self.pend_start(Req::DeregisterSap(sap)),
            Handler::MakeCall { vc, party, multipoint } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.start_new_call();
                    v.phase = Phase::Setup;
                    v.multipoint = multipoint;
                }
                self.pending.remove(&Req::CloseCall(vc));
                if let Some(p) = party {
                    self.parties.insert(p, VParty { vc, added: false, dead: false, drop_was_last: false });
                }
                self.pend_start(Req::MakeCall(vc));
            }
            Handler::CloseCall { vc, party, .. } => {
                let outstanding = self.vcs.get(&vc).is_some_and(|v| v.close.is_some())
                    && self
                        .pending
                        .get(&Req::CloseCall(vc))
                        .is_some_and(|p| p.completions == 0 && p.ret.is_none_or(|r| r == NdisStatus::PENDING));
                if outstanding {
                    *self.dup_closes.entry(vc).or_default() += 1;
                    return;
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    let prev_phase = v.phase;
                    v.close = Some(CloseInfo { party, cpu: cx.cpu, prev_phase });
                    v.phase = Phase::Closing;
                    v.connect_expected = false;
                }
                self.pend_start(Req::CloseCall(vc));
            }
            Handler::IncomingCallComplete { vc, status } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    if status == NdisStatus::SUCCESS {
                        v.connect_expected = true;
                    } else {
                        v.phase = Phase::Closed;
                    }
                }
            }
            Handler::AddParty { vc, party } => {
                self.parties.insert(party, VParty { vc, added: false, dead: false, drop_was_last: false });
                self.pend_start(Req::AddParty(party));
            }
            Handler::DropParty { vc, party, .. } => {
                let last = self.live_parties(vc) <= 1;
                if let Some(p) = self.parties.get_mut(&party) {
                    p.drop_was_last = last;
                }
                self.pend_start(Req::DropParty(party));
            }
            Handler::ModifyQos { vc } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.modifying = true;
                }
                self.pend_start(Req::ModifyQos(vc));
            }
            Handler::NotifyCloseAfComplete { af, .. } => {
                if let Some(p) = self.pending.get_mut(&Req::NotifyCloseAf(af)) {
                    p.completions = p.completions.saturating_add(1);
                }
            }
            Handler::Send { vc, ref nbls } => {
                let after_close = self.vcs.get(&vc).is_some_and(|v| v.close_started(&self.pending, vc, u32::MAX));
                let inactive = self.vcs.get(&vc).is_none_or(|v| !v.active);
                let late = self.vcs.get(&vc).is_some_and(|v| v.close_entered(&self.pending, vc));
                for &n in nbls {
                    self.sends.insert(n, VSend { vc, after_close, inactive, late, started: false });
                }
                if let Some(&head) = nbls.first() {
                    self.running.insert(head, VRunning { vc, late, started: false, nbls: nbls.clone() });
                }
            }

            Handler::Return { ref nbls, .. } => {
                for n in nbls {
                    self.held_rx.remove(n);
                }
            }
            _ => {}
        }
    }

    /// A driver handler returned (`ret`: its status; `None` for a void handler).
    pub fn handler_return(&mut self, h: &Handler, ret: Option<NdisStatus>, cx: &Cx) {
        self.now = cx.time;
        let vc = h.vc();
        let name = match ret {
            Some(s) => format!("{}->{}", h.name(), status_name(s)),
            None => format!("{}->()", h.name()),
        };
        self.note(vc, name.clone());
        if let Handler::Send { ref nbls, .. } = *h
            && let Some(head) = nbls.first()
        {
            // A send the driver returned from without an NDIS call is judged as of its entry.
            if self.running.get(head).is_some_and(|r| !r.started) {
                for n in nbls {
                    if let Some(s) = self.sends.get_mut(n) {
                        s.started = true;
                    }
                }
            }
            self.running.remove(head);
        }
        let Some(s) = ret else {
            if let Handler::Halt = h {
                self.in_halt = false;
            }
            return;
        };
        match *h {
            Handler::OpenAf { af } => {
                self.pend_return(Req::OpenAf(af), s, &name, None, None);
                if let Some(a) = self.afs.get_mut(&af) {
                    if s == NdisStatus::SUCCESS {
                        a.open = true;
                    } else if s != NdisStatus::PENDING {
                        a.dead = true;
                    }
                }
            }
            Handler::CloseAf { af } => {
                self.pend_return(Req::CloseAf(af), s, &name, None, None);
                if s == NdisStatus::SUCCESS
                    && let Some(a) = self.afs.get_mut(&af)
                {
                    a.open = false;
                    a.dead = true;
                }
            }
            Handler::RegisterSap { sap, .. } => {
                self.pend_return(Req::RegisterSap(sap), s, &name, None, None);
                if let Some(x) = self.saps.get_mut(&sap) {
                    if s == NdisStatus::SUCCESS {
                        x.registered = true;
                    } else if s != NdisStatus::PENDING {
                        x.dead = true;
                    }
                }
            }
            Handler::DeregisterSap { sap } => {
                self.pend_return(Req::DeregisterSap(sap), s, &name, None, None);
                if s == NdisStatus::SUCCESS
                    && let Some(x) = self.saps.get_mut(&sap)
                {
                    x.dead = true;
                }
            }
            Handler::CoCreateVc { vc, .. } => {
                if s == NdisStatus::PENDING {
                    self.fire(rule::RET_COCREATEVC, "ProtocolCoCreateVc returned PENDING", Some(vc), None);
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.created = s == NdisStatus::SUCCESS;
                    v.deleted = s != NdisStatus::SUCCESS;
                }
            }
            Handler::CoDeleteVc { vc } => {
                let active = self.vcs.get(&vc).is_some_and(|v| v.active);
                if s == NdisStatus::PENDING {
                    self.fire(rule::RET_CODELETEVC, "ProtocolCoDeleteVc returned PENDING", Some(vc), None);
                } else if active && s == NdisStatus::SUCCESS {
                    self.fire(
                        rule::RET_CODELETEVC,
                        "ProtocolCoDeleteVc returned SUCCESS for an active VC (want NOT_ACCEPTED)",
                        Some(vc),
                        None,
                    );
                }
                if s == NdisStatus::SUCCESS
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.deleted = true;
                }
            }
            Handler::MakeCall { vc, party, .. } => {
                self.pend_return(Req::MakeCall(vc), s, &name, Some(vc), party);
                let completed = self.pending.get(&Req::MakeCall(vc)).is_some_and(|p| p.completions > 0);
                if s != NdisStatus::PENDING && !completed {
                    self.make_call_outcome(vc, party, s, &name);
                }
            }
            Handler::CloseCall { vc, party, data_given } => {
                if let Some(n) = self.dup_closes.get_mut(&vc)
                    && *n > 0
                {
                    *n -= 1;
                    if s.is_error() {
                        // A second close refused while the first is outstanding: nothing changes.
                        return;
                    }
                    self.fire(
                        rule::CMP_CLOSE_ONCE,
                        format!("a second ProtocolCmCloseCall returned {} while one is outstanding", status_name(s)),
                        Some(vc),
                        party,
                    );
                    return;
                }
                let allowed = s == NdisStatus::SUCCESS
                    || s == NdisStatus::PENDING
                    || (s == NdisStatus::INVALID_DATA && data_given)
                    || (s.is_error() && s != NdisStatus::INVALID_DATA);
                if !allowed {
                    self.fire(
                        rule::RET_CLOSECALL,
                        format!("ProtocolCmCloseCall returned {}", status_name(s)),
                        Some(vc),
                        party,
                    );
                }
                let completed = self.pending.get(&Req::CloseCall(vc)).is_some_and(|p| p.completions > 0);
                self.pend_return(Req::CloseCall(vc), s, &name, Some(vc), party);
                if !s.is_error()
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.close_began = true;
                }
                if s.is_error() {
                    if let Some(v) = self.vcs.get_mut(&vc)
                        && let Some(c) = &v.close
                        && !completed
                    {
                        v.phase = c.prev_phase;
                    }
                } else if s != NdisStatus::PENDING && !completed {
                    self.close_done(vc, s, party, &name);
                }
            }
            Handler::AddParty { party, vc } => {
                self.pend_return(Req::AddParty(party), s, &name, Some(vc), Some(party));
                let completed = self.pending.get(&Req::AddParty(party)).is_some_and(|p| p.completions > 0);
                if s != NdisStatus::PENDING
                    && !completed
                    && let Some(p) = self.parties.get_mut(&party)
                {
                    p.added = s == NdisStatus::SUCCESS;
                    p.dead = s != NdisStatus::SUCCESS;
                }
            }
            Handler::DropParty { vc, party, .. } => {
                if self.parties.get(&party).is_some_and(|p| p.drop_was_last) && s != NdisStatus::FAILURE {
                    self.fire(
                        rule::RET_DROPPARTY_LAST,
                        format!("ProtocolCmDropParty on the last party returned {} (want FAILURE)", status_name(s)),
                        Some(vc),
                        Some(party),
                    );
                }
                self.pend_return(Req::DropParty(party), s, &name, Some(vc), Some(party));
                if s == NdisStatus::SUCCESS
                    && let Some(p) = self.parties.get_mut(&party)
                {
                    p.dead = true;
                }
            }
            Handler::ModifyQos { vc } => {
                self.pend_return(Req::ModifyQos(vc), s, &name, Some(vc), None);
                if s != NdisStatus::PENDING
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.modifying = false;
                }
            }
            _ => {}
        }
    }

    /// MiniportHaltEx returned: HALT-NOTIFY-AF, HALT-NO-LEAK (with the lab's allocation counters
    /// `allocs`: (name, count)), outstanding requests; from now on every NDIS call is HALT-QUIET.
    pub fn halt_returned(&mut self, allocs: &[(String, usize)], cx: &Cx) {
        self.now = cx.time;
        self.in_halt = false;
        let af_still_open = self.afs.values().any(|a| a.open && !a.dead);
        let notify_failed = self.af_open_at_halt && (!self.notified_in_halt || af_still_open);
        if notify_failed {
            let why = if self.notified_in_halt {
                "MiniportHaltEx returned before the address family was closed"
            } else {
                "MiniportHaltEx with an AF open did not call NdisMCmNotifyCloseAddressFamily"
            };
            self.fire(rule::HALT_NOTIFY_AF, why, None, None);
        }
        // An AF the driver never asked the client to close keeps its objects alive: that is
        // HALT-NOTIFY-AF's finding, so HALT-NO-LEAK is only judged once the AF rule held.
        let live = self.live();
        let leaked: Vec<String> =
            allocs.iter().filter(|(_, n)| *n != 0).map(|(name, n)| format!("{name}={n}")).collect();
        if !notify_failed && (live.total() != 0 || !leaked.is_empty()) {
            self.fire(
                rule::HALT_NO_LEAK,
                format!("at halt: live {live:?}, allocation counters {leaked:?}"),
                None,
                None,
            );
        }
        self.check_outstanding();
        self.halted = true;
    }

    /// Pended requests never completed, sends never completed, accepted calls never connected:
    /// each is reported once.
    pub fn check_outstanding(&mut self) {
        let mut out: Vec<(Req, String)> = Vec::new();
        for (r, p) in self.pending.iter_mut() {
            if p.outstanding() && !p.reported {
                p.reported = true;
                out.push((*r, format!("{r:?} returned PENDING and was never completed")));
            }
        }
        out.sort_by_key(|(r, _)| format!("{r:?}"));
        for (r, why) in out {
            let vc = match r {
                Req::MakeCall(v) | Req::CloseCall(v) | Req::ModifyQos(v) => Some(v),
                _ => None,
            };
            self.fire(r.rule(), why, vc, None);
        }
        let mut sends: Vec<(Nbl, VcHandle)> = self.sends.drain().map(|(n, s)| (n, s.vc)).collect();
        sends.sort();
        for (n, vc) in sends {
            self.fire(rule::DATA_SEND_ONCE, format!("{n} was never completed"), Some(vc), None);
        }
    }

    /// The lab's PHY changed (STS-LINK expects an indication of it).
    pub fn phy_link(&mut self, up: bool) {
        self.link_expected = Some(up);
    }

    /// STS-LINK: the last link state the driver indicated matches the PHY.
    pub fn check_link_indicated(&mut self) {
        if let Some(up) = self.link_expected
            && self.link_indicated != Some(up)
        {
            self.fire(
                rule::STS_LINK,
                format!("the link went {} and the driver did not indicate it", if up { "up" } else { "down" }),
                None,
                None,
            );
            self.link_indicated = Some(up);
        }
    }

    /// Whether MiniportHaltEx has returned.
    pub fn halted(&self) -> bool {
        self.halted
    }
}
