//! The call manager's objects: address family, SAP, VC (with its call), party.

use core::time::Duration;

use crate::ndis::{AfContext, CallParameters, Ndis, NdisStatus, PartyContext, Sap, SapContext, Token, VcContext};
use crate::nic::ConnId;
use crate::uni::msg::Diag;
use crate::uni::state::{CallRef, CallTimer, UniState};

/// Largest user-user information carried (UNI 4.0, Q.2957: 128 octets of user information).
pub const UU_MAX: usize = 128;

/// A small fixed buffer for CloseData / user-user information. Only the first `len` octets
/// mean anything: [`UuBuf::set`] and [`UuBuf::copied`] move those alone, so storing or reading
/// an empty one touches its length octet, not 129 octets (two or three cache lines of a call
/// pool entry in a link-loss teardown of thousands of calls).
#[derive(Copy, Clone, Debug)]
pub struct UuBuf {
    len: u8,
    buf: [u8; UU_MAX],
}

impl PartialEq for UuBuf {
    fn eq(&self, other: &UuBuf) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for UuBuf {}

impl UuBuf {
    pub const EMPTY: UuBuf = UuBuf { len: 0, buf: [0; UU_MAX] };

    /// A copy of `data`; `None` if longer than [`UU_MAX`].
    pub fn new(data: &[u8]) -> Option<UuBuf> {
        let mut b = UuBuf::EMPTY;
        b.buf.get_mut(..data.len())?.copy_from_slice(data);
        b.len = data.len() as u8;
        Some(b)
    }

    pub fn as_slice(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Takes `other`'s contents, copying only its `len` octets.
    pub fn set(&mut self, other: &UuBuf) {
        let src = other.as_slice();
        if let Some(dst) = self.buf.get_mut(..src.len()) {
            dst.copy_from_slice(src);
            self.len = other.len;
        }
    }

    /// Empties it (the length octet only).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// A copy made from its `len` octets only.
    pub fn copied(&self) -> UuBuf {
        UuBuf::new(self.as_slice()).unwrap_or(UuBuf::EMPTY)
    }
}

/// An address family opened by a client.
#[derive(Debug)]
pub struct AfObj<N: Ndis> {
    pub handle: N::AfHandle,
    /// NdisMCmNotifyCloseAddressFamily made (halt).
    pub notified: bool,
    /// ProtocolCmCloseAf returned PENDING; completes when the last SAP and VC are gone.
    pub close_pending: bool,
    /// SAPs and VCs of this AF still alive (CloseAf completes when it reaches 0).
    pub children: u32,
    pub ops: u16,
    pub queued: bool,
}

/// A registered SAP.
#[derive(Debug)]
pub struct SapObj<N: Ndis> {
    pub handle: N::SapHandle,
    pub af: AfContext,
    pub sap: Sap,
}

/// The CoNDIS view of the call on a VC (`condis-contract.md` §7, C0..C7).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// C0: no call.
    Idle,
    /// C1: ProtocolCmMakeCall pended.
    MakePending,
    /// Incoming call: VC being created/activated by us, not yet offered.
    Offering,
    /// C2: NdisMCmDispatchIncomingCall returned PENDING; awaiting ProtocolCmIncomingCallComplete.
    OfferPending,
    /// C3: accepted, awaiting CONNECT ACKNOWLEDGE.
    Accepted,
    /// C4: connected.
    Connected,
    /// C5: NdisMCmDispatchIncomingCloseCall decided; awaiting the client's NdisClCloseCall.
    RemoteClosing,
    /// C6: ProtocolCmCloseCall accepted; the close is in progress.
    Closing,
    /// Incoming call refused or failed: tearing the VC down (deactivate, delete) without a client
    /// close.
    Rejecting,
}

/// How a VC's data path is doing.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DataState {
    /// No NIC connection and nothing to drain.
    None,
    /// NIC connection open (sends/receives allowed once active).
    Open,
    /// Teardown requested; waiting for the data path to report drained.
    Draining,
    /// Drained: nothing in flight, the NIC connection (if any) closed.
    Drained,
}

/// A VC and the call on it.
#[derive(Debug)]
pub struct VcObj<N: Ndis> {
    pub handle: Option<N::VcHandle>,
    pub af: AfContext,
    /// Created by NdisMCmCreateVc (incoming call) rather than by the client.
    pub ours: bool,
    /// NdisMCmActivateVc succeeded and NdisMCmDeactivateVc not yet made.
    pub active: bool,
    pub phase: Phase,
    pub data: DataState,
    pub conn: Option<ConnId>,
    /// This call's entry in the call pool ([`CallObj`]); `None` while the VC has no call.
    pub call: Option<Token>,
    pub multipoint: bool,
    /// Parties on a multipoint call (live in the party table).
    pub parties: u16,
    /// Head of this VC's list of party slots ([`NO_PARTY`] when none), linked through
    /// `PartyObj::prev`/`next`: the parties of one call are found without a table walk.
    pub first_party: u16,
    /// The signalling call on this VC. `uni`, `cref` and `owe_release_complete` decide what a
    /// link loss does to the call ([`LinkClass`]): they change only through the setters, which
    /// keep [`LinkCounts`] (`Control::link_counts`) in step.
    uni: UniState,
    cref: Option<CallRef>,
    pub timer: Option<CallTimer>,
    /// The network side of the release is settled (RELEASE COMPLETE received, T308 gave up, the
    /// link died, or the remote released and we answer when the VC is closed).
    pub network_done: bool,
    /// RELEASE COMPLETE owed to the network once the data path is drained.
    owe_release_complete: bool,
    /// A RESTART cleared this call: the RESTART ACKNOWLEDGE waits for its data path to drain.
    pub owe_restart_ack: bool,
    /// ProtocolCmCloseCall returned PENDING: exactly one NdisMCmCloseCallComplete follows.
    pub close_pended: bool,
    /// NdisMCmDispatchIncomingCloseCall decided for this call.
    pub dispatched_close: bool,
    // op bookkeeping
    pub ops: u16,
    pub queued: bool,
    pub make_status: NdisStatus,
    /// The MakeCall failed; its completion waits for the data path to settle.
    pub make_failed: bool,
    pub close_status: NdisStatus,
}

impl<N: Ndis> VcObj<N> {
    pub fn new(af: AfContext, handle: Option<N::VcHandle>, ours: bool) -> Self {
        VcObj {
            handle,
            af,
            ours,
            active: false,
            phase: Phase::Idle,
            data: DataState::None,
            conn: None,
            call: None,
            multipoint: false,
            parties: 0,
            first_party: NO_PARTY,
            uni: UniState::Null,
            cref: None,
            timer: None,
            network_done: true,
            owe_release_complete: false,
            owe_restart_ack: false,
            close_pended: false,
            dispatched_close: false,
            ops: 0,
            queued: false,
            make_status: NdisStatus::SUCCESS,
            make_failed: false,
            close_status: NdisStatus::SUCCESS,
        }
    }

    /// Resets the call part for the VC's next call (client VCs are reusable). Returns the call's
    /// pool entry, for the caller to give back (`Control::calls`).
    #[must_use]
    pub fn reset_call(&mut self, counts: &mut LinkCounts) -> Option<Token> {
        let was = self.link_class();
        self.phase = Phase::Idle;
        self.multipoint = false;
        self.parties = 0;
        self.uni = UniState::Null;
        self.cref = None;
        self.timer = None;
        self.network_done = true;
        self.owe_release_complete = false;
        counts.moved(was, LinkClass::Unaffected);
        self.owe_restart_ack = false;
        self.close_pended = false;
        self.dispatched_close = false;
        self.make_failed = false;
        self.data = DataState::None;
        self.conn = None;
        self.call.take()
    }

    /// The Q.2931 call state (U0..U12).
    pub fn uni(&self) -> UniState {
        self.uni
    }

    pub fn cref(&self) -> Option<CallRef> {
        self.cref
    }

    pub fn owe_release_complete(&self) -> bool {
        self.owe_release_complete
    }

    /// The VC carries a call the network knows of: a call reference, and a state past U0 or a
    /// RELEASE COMPLETE still owed (incoming messages find it; a RESTART or a link loss acts
    /// on it).
    pub fn has_call(&self) -> bool {
        self.cref.is_some() && (self.uni != UniState::Null || self.owe_release_complete)
    }

    /// What a loss of the signalling link does to this VC's call.
    pub fn link_class(&self) -> LinkClass {
        match (self.has_call(), self.uni) {
            // No call the network knows of (none, or U0 with nothing owed): nothing to clear.
            (false, _) => LinkClass::Unaffected,
            // U10: kept, T309 runs (Q.2931 §5.6.10).
            (true, UniState::Active) => LinkClass::Active,
            // Every other state (and U0 owing a RELEASE COMPLETE): cleared with #27 at once.
            (true, _) => LinkClass::Cleared,
        }
    }

    /// Moves the call to state `uni`.
    pub fn set_uni(&mut self, counts: &mut LinkCounts, uni: UniState) {
        let was = self.link_class();
        self.uni = uni;
        counts.moved(was, self.link_class());
    }

    /// A call starts on the VC: call reference `cref`, state `uni`.
    pub fn start_call(&mut self, counts: &mut LinkCounts, cref: CallRef, uni: UniState) {
        let was = self.link_class();
        self.cref = Some(cref);
        self.uni = uni;
        counts.moved(was, self.link_class());
    }

    pub fn set_owe_release_complete(&mut self, counts: &mut LinkCounts, owe: bool) {
        let was = self.link_class();
        self.owe_release_complete = owe;
        counts.moved(was, self.link_class());
    }
}

/// What a loss of the signalling link does to a call (Q.2931 §5.6.10).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LinkClass {
    /// No call the network knows of.
    Unaffected,
    /// Active: kept while T309 runs.
    Active,
    /// Not yet active, or being released: cleared with #27 at once.
    Cleared,
}

/// How many VCs' calls are in each [`LinkClass`] that a link loss acts on, kept at every change
/// of a call's state: a link loss walks the VCs only if some call is to be cleared at once, and
/// arms T309 only if some call is active, so with every call active it touches no VC.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkCounts {
    pub active: u32,
    pub cleared: u32,
}

impl LinkCounts {
    /// A call went from class `was` to `now`.
    pub fn moved(&mut self, was: LinkClass, now: LinkClass) {
        if was == now {
            return;
        }
        match was {
            LinkClass::Unaffected => {}
            LinkClass::Active => self.active = self.active.saturating_sub(1),
            LinkClass::Cleared => self.cleared = self.cleared.saturating_sub(1),
        }
        match now {
            LinkClass::Unaffected => {}
            LinkClass::Active => self.active = self.active.saturating_add(1),
            LinkClass::Cleared => self.cleared = self.cleared.saturating_add(1),
        }
    }

    /// The counts of `classes` (a recount, for checks).
    pub fn of(classes: impl Iterator<Item = LinkClass>) -> LinkCounts {
        let mut n = LinkCounts::default();
        for c in classes {
            n.moved(LinkClass::Unaffected, c);
        }
        n
    }
}

/// What only a call in progress needs, kept out of the VC slot: an entry of the call pool
/// (`Control::calls`, `MaxActiveVcs` entries allocated at initialize), taken when the call starts
/// (ProtocolCmMakeCall, an incoming SETUP) and given back when it ends (the close or the failed
/// MakeCall completes, or the VC is freed). An idle VC slot stays small whatever a call carries.
#[derive(Debug)]
pub struct CallObj<N: Ndis> {
    pub params: CallParameters,
    pub client: Option<N::ClientParams>,
    /// The SAP an incoming call matched.
    pub sap: Option<SapContext>,
    /// The party named in ProtocolCmCloseCall (multipoint).
    pub close_party: Option<PartyContext>,
    /// The RELEASE being answered was in error: (cause, IE identifier) for the owed RELEASE
    /// COMPLETE (#96 / #100, Q.2931 §5.6.7).
    pub release_complete_error: Option<(u8, u8)>,
    pub incoming_close_status: NdisStatus,
    pub incoming_close_data: UuBuf,
    /// The first cause (and its diagnostic) of the RELEASE we sent: T308's first expiry sends
    /// that RELEASE again, with #102 "308" as the second cause.
    pub release_cause: (u8, Diag),
}

impl<N: Ndis> CallObj<N> {
    pub fn new(params: CallParameters) -> Self {
        CallObj {
            params,
            client: None,
            sap: None,
            close_party: None,
            release_complete_error: None,
            incoming_close_status: NdisStatus::SUCCESS,
            incoming_close_data: UuBuf::EMPTY,
            release_cause: (crate::uni::msg::cause::NORMAL_CALL_CLEARING, Diag::NONE),
        }
    }
}

/// A party's life.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PartyPhase {
    /// The first party of a MakeCall (completes with the call).
    Initial,
    /// ADD PARTY sent.
    Adding,
    Active,
    /// DROP PARTY sent (ProtocolCmDropParty pended).
    Dropping,
    /// The network dropped it; NdisMCmDispatchIncomingDropParty decided, awaiting the client's
    /// NdisClDropParty.
    RemoteDropped,
}

/// A party on a point-to-multipoint call.
#[derive(Debug)]
pub struct PartyObj<N: Ndis> {
    pub handle: N::PartyHandle,
    pub vc: VcContext,
    pub endpoint: u16,
    pub phase: PartyPhase,
    pub client: Option<N::ClientParams>,
    pub params: Option<CallParameters>,
    pub timer_due: Option<Duration>,
    pub ops: u16,
    pub queued: bool,
    pub op_status: NdisStatus,
    pub drop_data: UuBuf,
    /// Freed once its last op has been performed.
    pub free_after_ops: bool,
    /// Neighbours in its VC's party list ([`NO_PARTY`] at the ends).
    pub prev: u16,
    pub next: u16,
}

impl<N: Ndis> PartyObj<N> {
    /// A party of `vc` not yet linked into its call's list, with no ops pending.
    pub fn new(
        handle: N::PartyHandle,
        vc: VcContext,
        endpoint: u16,
        phase: PartyPhase,
        client: Option<N::ClientParams>,
        params: CallParameters,
    ) -> Self {
        PartyObj {
            handle,
            vc,
            endpoint,
            phase,
            client,
            params: Some(params),
            timer_due: None,
            ops: 0,
            queued: false,
            op_status: NdisStatus::SUCCESS,
            drop_data: UuBuf::EMPTY,
            free_after_ops: false,
            prev: NO_PARTY,
            next: NO_PARTY,
        }
    }
}

/// End of a per-call party list.
pub const NO_PARTY: u16 = u16::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uubuf_set_copies_only_the_length_and_equality_ignores_the_stale_tail() {
        let long = UuBuf::new(&[7; UU_MAX]).unwrap();
        let short = UuBuf::new(b"hi").unwrap();
        let mut b = long;
        b.set(&short);
        assert_eq!(b.as_slice(), b"hi");
        assert_eq!(b, short, "octets past the length do not count");
        assert_eq!(b.copied(), short);
        b.clear();
        assert_eq!(b, UuBuf::EMPTY);
        assert_ne!(short, UuBuf::new(b"ho").unwrap());
        assert_eq!(UuBuf::new(&[0; UU_MAX + 1]), None);
    }
}
