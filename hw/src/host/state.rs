//! The emulated NDIS's bookkeeping: its records of AFs, SAPs, VCs, parties and NBLs, the log,
//! and the verifier, all in the one [`State`] behind the host mutex.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm::ndis::{AfContext, CallParameters, CoAddressFamily, PartyContext, SapContext, StatusIndication, VcContext};

use super::client::{self, IncomingCall, Policy, SendCompletion, VcState};
use super::handles::{AfHandle, ClientParams, Nbl, PartyHandle, SapHandle, VcHandle};
use super::log::{LogEntry, LogKind};
use super::verifier::{Cx, Verifier};

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
    pub(super) next_id: u32,
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

    pub(super) fn entry(
        &mut self,
        kind: LogKind,
        name: String,
        vc: Option<VcHandle>,
        party: Option<PartyHandle>,
        cx: &Cx,
    ) {
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
