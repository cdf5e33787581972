//! The scriptable CoNDIS client bound to the emulated NDIS (one protocol binding, one AF).
//!
//! Every request goes through the emulated NDIS into the driver's handler and is logged and
//! verified. Callbacks from the driver's NDIS calls (ProtocolClCloseCallComplete, incoming calls,
//! receives, ...) are answered according to the [`Policy`]: at once (re-entrantly, on the driver's
//! stack, as a real client may), later ([`Client::run_deferred`]), or never (the test acts).

mod callbacks;
mod requests;

use atmmcm::NdisStatus;
use atmmcm::ndis::{CallParameters, CloseData};

use super::handles::{Nbl, PartyHandle, SapHandle, VcHandle};
use super::irql;
use super::{EmuNdis, PartyState};

/// How the client answers ProtocolClIncomingCall.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Accept {
    /// SUCCESS from the handler.
    Sync,
    /// PENDING; the test completes it with [`Client::complete_incoming`].
    Pending,
    /// This status from the handler.
    Reject(NdisStatus),
}

/// When the client performs a follow-up action.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// Inside the callback (re-entrantly).
    Immediate,
    /// Queued for [`Client::run_deferred`] (the lab pump runs it).
    Deferred,
    /// Not at all: the test does it.
    Never,
}

/// What the client does with indicated receive NBLs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReturnReceives {
    /// NdisReturnNetBufferLists inside the indication.
    Immediate,
    /// Kept until [`Client::return_pending_receives`].
    Hold,
}

/// The client's behaviour knobs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub accept_incoming: Accept,
    /// NdisClCloseCall after ProtocolClIncomingCloseCall (and NdisClDropParty after
    /// ProtocolClIncomingDropParty).
    pub close_on_incoming_close: When,
    pub return_receives: ReturnReceives,
    /// NdisCoDeleteVc on a client-created VC once its call ended (close completed, make call
    /// failed).
    pub delete_after_close: When,
    /// Sends and receive returns reach the driver at DISPATCH (as from a DPC-driven client)
    /// instead of the caller's IRQL.
    pub data_at_dispatch: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            accept_incoming: Accept::Sync,
            close_on_incoming_close: When::Immediate,
            return_receives: ReturnReceives::Immediate,
            delete_after_close: When::Immediate,
            data_at_dispatch: false,
        }
    }
}

/// The client's view of a VC.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VcState {
    /// No call.
    Idle,
    /// NdisClMakeCall pended.
    MakePending,
    /// Incoming call offered, the client's answer pending.
    Offered,
    /// Incoming call accepted, NdisMCmDispatchCallConnected not yet seen.
    Accepted,
    Connected,
    /// ProtocolClIncomingCloseCall seen, NdisClCloseCall not yet made.
    RemoteClosing,
    /// NdisClCloseCall made, not yet complete.
    Closing,
    Closed,
    Deleted,
}

/// A VC as the client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientVc {
    pub vc: VcHandle,
    pub state: VcState,
    pub client_created: bool,
    pub active: bool,
    pub multipoint: bool,
    pub params: Option<CallParameters>,
    /// Parties not dropped.
    pub parties: Vec<PartyHandle>,
}

/// An incoming call the client was offered, and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingCall {
    pub sap: SapHandle,
    pub vc: VcHandle,
    pub params: CallParameters,
    pub answer: NdisStatus,
}

/// One completed send NBL.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SendCompletion {
    pub vc: VcHandle,
    pub nbl: Nbl,
    pub status: NdisStatus,
}

/// A deferred client action.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    CloseCall(VcHandle),
    DropParty(PartyHandle),
    DeleteVc(VcHandle),
}

/// CloseData as the Windows trampoline builds it: no slice over a Size beyond
/// `CloseData::MAX_SLICE`.
fn close_data(data: Option<&[u8]>) -> CloseData<'_> {
    match data {
        Some(b) => CloseData::from_raw(true, b.len(), || b),
        None => CloseData::None,
    }
}

/// The client protocol: a cheap handle over the emulated NDIS.
#[derive(Clone, Debug)]
pub struct Client {
    emu: EmuNdis,
}

impl Client {
    pub(crate) fn new(emu: EmuNdis) -> Client {
        Client { emu }
    }

    pub fn emu(&self) -> &EmuNdis {
        &self.emu
    }

    // ---- policy ---------------------------------------------------------------------------------------

    pub fn policy(&self) -> Policy {
        self.emu.st().policy
    }
    pub fn set_policy(&self, p: Policy) {
        self.emu.st().policy = p;
    }
    pub fn accept_incoming(&self, a: Accept) {
        self.emu.st().policy.accept_incoming = a;
    }
    pub fn close_on_incoming_close(&self, w: When) {
        self.emu.st().policy.close_on_incoming_close = w;
    }
    pub fn return_receives(&self, r: ReturnReceives) {
        self.emu.st().policy.return_receives = r;
    }
    pub fn delete_after_close(&self, w: When) {
        self.emu.st().policy.delete_after_close = w;
    }
    pub fn data_at_dispatch(&self, on: bool) {
        self.emu.st().policy.data_at_dispatch = on;
    }

    /// Runs a data-path call at the IRQL the policy asks for.
    fn data_irql<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.policy().data_at_dispatch {
            irql::at_irql(super::Irql::Dispatch.max(irql::current_irql()), f)
        } else {
            f()
        }
    }

    /// ProtocolClIncomingCloseCall calls seen so far: (vc, status, CloseData).
    pub fn incoming_closes(&self) -> Vec<(VcHandle, NdisStatus, Vec<u8>)> {
        self.emu.st().incoming_closes.clone()
    }

    // ---- queries ---------------------------------------------------------------------------------------------

    /// Every frame received on `vc`, in order.
    pub fn received_frames(&self, vc: VcHandle) -> Vec<Vec<u8>> {
        self.emu.st().vcs.get(&vc).map(|v| v.received.clone()).unwrap_or_default()
    }

    /// Every send completion, in order.
    pub fn send_completions(&self) -> Vec<SendCompletion> {
        self.emu.st().send_completions.clone()
    }

    /// Every incoming call offered, in order.
    pub fn incoming_calls(&self) -> Vec<IncomingCall> {
        self.emu.st().incoming.clone()
    }

    /// Every VC the client knows (deleted ones included), by handle.
    pub fn vcs(&self) -> Vec<ClientVc> {
        let st = self.emu.st();
        let mut out: Vec<ClientVc> = st
            .vcs
            .iter()
            .map(|(h, v)| {
                let mut parties: Vec<PartyHandle> = st
                    .parties
                    .iter()
                    .filter(|(_, p)| p.vc == *h && p.state != PartyState::Gone)
                    .map(|(p, _)| *p)
                    .collect();
                parties.sort();
                ClientVc {
                    vc: *h,
                    state: v.state,
                    client_created: v.client_created,
                    active: v.active,
                    multipoint: v.multipoint,
                    params: v.params,
                    parties,
                }
            })
            .collect();
        out.sort_by_key(|v| v.vc);
        out
    }

    /// The client's view of `vc`.
    pub fn state(&self, vc: VcHandle) -> Option<VcState> {
        self.emu.st().vcs.get(&vc).map(|v| v.state)
    }

    /// Parties of `vc` not dropped.
    pub fn parties(&self, vc: VcHandle) -> Vec<PartyHandle> {
        self.vcs().into_iter().find(|v| v.vc == vc).map(|v| v.parties).unwrap_or_default()
    }
}
