//! The scriptable CoNDIS client bound to the emulated NDIS (one protocol binding, one AF).
//!
//! Every request goes through the emulated NDIS into the driver's handler and is logged and
//! verified. Callbacks from the driver's NDIS calls (ProtocolClCloseCallComplete, incoming calls,
//! receives, ...) are answered according to the [`Policy`]: at once (re-entrantly, on the driver's
//! stack, as a real client may), later ([`Client::run_deferred`]), or never (the test acts).

use atmmcm::NdisStatus;
use atmmcm::ndis::{AtmAddress, CallParameters, CloseData, Sap};

use super::handles::{AfHandle, ClientParams, Nbl, PartyHandle, SapHandle, VcHandle};
use super::irql::{self, Path};
use super::log::LogKind;
use super::verifier::{Handler, status_name};
use super::{AfState, EmuNdis, NblKind, NblRec, Notify, PartyRec, PartyState, SapRec, SapState, VcRec};

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

    // ---- address family and SAPs ------------------------------------------------------------------

    /// The client's open AF (the last one opened).
    pub fn af(&self) -> Option<AfHandle> {
        self.emu.st().client_af
    }

    /// NdisClOpenAddressFamilyEx → ProtocolCmOpenAf. `Ok` also when the open pended.
    pub fn open_af(&self) -> Result<AfHandle, NdisStatus> {
        let (af, family) = {
            let mut st = self.emu.st();
            let Some(family) = st.family else { return Err(NdisStatus::FAILURE) };
            let af = AfHandle(st.alloc_id());
            st.afs
                .insert(af, super::AfRec { ctx: None, state: AfState::Opening, teardown: false, notify: Notify::None });
            (af, family)
        };
        self.emu.log_client(LogKind::Client, "NdisClOpenAddressFamilyEx", None, None);
        let r = self
            .emu
            .handler(
                Handler::OpenAf { af },
                |d| d.protocol_cm_open_af(&family, af),
                |r| Some(r.err().unwrap_or(NdisStatus::SUCCESS)),
            )
            .unwrap_or(Err(NdisStatus::FAILURE));
        let mut st = self.emu.st();
        match r {
            Ok(ctx) => {
                if let Some(a) = st.afs.get_mut(&af) {
                    a.ctx = Some(ctx);
                    a.state = AfState::Open;
                }
                st.client_af = Some(af);
                Ok(af)
            }
            Err(NdisStatus::PENDING) => Ok(af),
            Err(e) => {
                if let Some(a) = st.afs.get_mut(&af) {
                    a.state = AfState::Closed;
                }
                Err(e)
            }
        }
    }

    /// NdisClCloseAddressFamily → ProtocolCmCloseAf on the client's AF.
    pub fn close_af(&self) -> NdisStatus {
        let Some((af, ctx)) = ({
            let mut st = self.emu.st();
            let af = st.client_af;
            af.and_then(|af| {
                let a = st.afs.get_mut(&af)?;
                if a.state != AfState::Open {
                    return None;
                }
                a.state = AfState::Closing;
                Some((af, a.ctx?))
            })
        }) else {
            return NdisStatus::FAILURE;
        };
        self.emu.log_client(LogKind::Client, "NdisClCloseAddressFamily", None, None);
        let s = self
            .emu
            .handler(Handler::CloseAf { af }, |d| d.protocol_cm_close_af(ctx), |s| Some(*s))
            .unwrap_or(NdisStatus::FAILURE);
        if s != NdisStatus::PENDING {
            self.af_close_finished(af, s);
        }
        s
    }

    /// The AF close finished (synchronously or through NdisMCmCloseAddressFamilyComplete).
    pub(crate) fn af_close_finished(&self, af: AfHandle, status: NdisStatus) {
        let notify_ctx = {
            let mut st = self.emu.st();
            let Some(a) = st.afs.get_mut(&af) else { return };
            if a.state != AfState::Closing {
                return;
            }
            a.state = if status == NdisStatus::SUCCESS { AfState::Closed } else { AfState::Open };
            if a.state == AfState::Closed && a.notify == Notify::Returned {
                a.notify = Notify::None;
                a.ctx
            } else {
                None
            }
        };
        if let Some(ctx) = notify_ctx {
            self.emu.log_client(LogKind::Client, "NdisClNotifyCloseAddressFamilyComplete(SUCCESS)", None, None);
            let _ = self.emu.handler(
                Handler::NotifyCloseAfComplete { af, status: NdisStatus::SUCCESS },
                |d| d.protocol_cm_notify_close_af_complete(NdisStatus::SUCCESS, ctx),
                |_| None,
            );
        }
    }

    /// NdisClRegisterSap → ProtocolCmRegisterSap on the client's AF. `Ok` also when it pended.
    pub fn register_sap(&self, address: Option<AtmAddress>) -> Result<SapHandle, NdisStatus> {
        let (af, actx, sap) = {
            let mut st = self.emu.st();
            let Some(af) = st.client_af else { return Err(NdisStatus::FAILURE) };
            let Some(actx) = st.afs.get(&af).filter(|a| a.state == AfState::Open).and_then(|a| a.ctx) else {
                return Err(NdisStatus::FAILURE);
            };
            let sap = SapHandle(st.alloc_id());
            st.saps.insert(sap, SapRec { af, ctx: None, state: SapState::Registering });
            (af, actx, sap)
        };
        self.emu.log_client(LogKind::Client, "NdisClRegisterSap", None, None);
        let co_sap = Sap { address };
        let r = self
            .emu
            .handler(
                Handler::RegisterSap { af, sap },
                |d| d.protocol_cm_register_sap(actx, &co_sap, sap),
                |r| Some(r.err().unwrap_or(NdisStatus::SUCCESS)),
            )
            .unwrap_or(Err(NdisStatus::FAILURE));
        let mut st = self.emu.st();
        match r {
            Ok(ctx) => {
                if let Some(s) = st.saps.get_mut(&sap) {
                    s.ctx = Some(ctx);
                    s.state = SapState::Registered;
                }
                Ok(sap)
            }
            Err(NdisStatus::PENDING) => Ok(sap),
            Err(e) => {
                if let Some(s) = st.saps.get_mut(&sap) {
                    s.state = SapState::Gone;
                }
                Err(e)
            }
        }
    }

    /// NdisClDeregisterSap → ProtocolCmDeregisterSap.
    pub fn deregister_sap(&self, sap: SapHandle) -> NdisStatus {
        let Some((af, ctx)) = ({
            let mut st = self.emu.st();
            st.saps.get_mut(&sap).filter(|s| s.state == SapState::Registered).and_then(|s| {
                s.state = SapState::Deregistering;
                Some((s.af, s.ctx?))
            })
        }) else {
            return NdisStatus::FAILURE;
        };
        self.emu.log_client(LogKind::Client, "NdisClDeregisterSap", None, None);
        let s = self
            .emu
            .handler(Handler::DeregisterSap { sap }, |d| d.protocol_cm_deregister_sap(ctx), |s| Some(*s))
            .unwrap_or(NdisStatus::FAILURE);
        if s != NdisStatus::PENDING {
            let mut st = self.emu.st();
            if let Some(x) = st.saps.get_mut(&sap).filter(|x| x.state == SapState::Deregistering) {
                x.state = if s == NdisStatus::SUCCESS { SapState::Gone } else { SapState::Registered };
            }
            drop(st);
            self.continue_teardown(af);
        }
        s
    }

    // ---- VCs and calls ----------------------------------------------------------------------------------

    /// NdisCoCreateVc → ProtocolCoCreateVc on the client's AF.
    pub fn create_vc(&self) -> Result<VcHandle, NdisStatus> {
        let (af, actx, vc) = {
            let mut st = self.emu.st();
            let Some(af) = st.client_af else { return Err(NdisStatus::FAILURE) };
            let Some(actx) = st.afs.get(&af).filter(|a| a.state == AfState::Open).and_then(|a| a.ctx) else {
                return Err(NdisStatus::FAILURE);
            };
            let vc = VcHandle(st.alloc_id());
            st.vcs.insert(vc, VcRec::new(af, None, true));
            (af, actx, vc)
        };
        self.emu.log_client(LogKind::Client, "NdisCoCreateVc", Some(vc), None);
        let r = self
            .emu
            .handler(
                Handler::CoCreateVc { af, vc },
                |d| d.protocol_co_create_vc(actx, vc),
                |r| Some(r.err().unwrap_or(NdisStatus::SUCCESS)),
            )
            .unwrap_or(Err(NdisStatus::FAILURE));
        let mut st = self.emu.st();
        match r {
            Ok(ctx) => {
                if let Some(v) = st.vcs.get_mut(&vc) {
                    v.ctx = Some(ctx);
                }
                Ok(vc)
            }
            Err(e) => {
                if let Some(v) = st.vcs.get_mut(&vc) {
                    v.state = VcState::Deleted;
                }
                Err(e)
            }
        }
    }

    /// NdisCoDeleteVc → ProtocolCoDeleteVc (client-created VCs only; others: NOT_ACCEPTED
    /// without calling the driver).
    pub fn delete_vc(&self, vc: VcHandle) -> NdisStatus {
        let Some((af, ctx)) = ({
            let mut st = self.emu.st();
            st.vcs.get_mut(&vc).filter(|v| v.client_created && v.state != VcState::Deleted).and_then(|v| {
                let r = (v.af, v.ctx?);
                v.deleting = true;
                Some(r)
            })
        }) else {
            return NdisStatus::NOT_ACCEPTED;
        };
        // A client never uses a handle it is deleting: its own sends still inside the driver on
        // other threads finish first (they take no lock the deleter could hold).
        while self.emu.st().vcs.get(&vc).is_some_and(|v| v.sending > 0) {
            std::thread::yield_now();
        }
        self.emu.log_client(LogKind::Client, "NdisCoDeleteVc", Some(vc), None);
        let s = self
            .emu
            .handler(Handler::CoDeleteVc { vc }, |d| d.protocol_co_delete_vc(ctx), |s| Some(*s))
            .unwrap_or(NdisStatus::FAILURE);
        if let Some(v) = self.emu.st().vcs.get_mut(&vc) {
            v.deleting = false;
            if s == NdisStatus::SUCCESS {
                v.state = VcState::Deleted;
            }
        }
        if s == NdisStatus::SUCCESS {
            self.continue_teardown(af);
        }
        s
    }

    /// NdisClMakeCall → ProtocolCmMakeCall. A multipoint call (`params.flags` MULTIPOINT_VC)
    /// gets its first party; its handle is returned.
    pub fn make_call(&self, vc: VcHandle, params: CallParameters) -> (NdisStatus, Option<PartyHandle>) {
        let Some((ctx, party, cp)) = ({
            let mut st = self.emu.st();
            let multipoint = params.is_multipoint();
            let party = multipoint.then(|| PartyHandle(st.alloc_id()));
            let cp = ClientParams(st.alloc_id());
            match st.vcs.get_mut(&vc).filter(|v| v.state != VcState::Deleted).and_then(|v| v.ctx.map(|c| (v, c))) {
                None => None,
                Some((v, ctx)) => {
                    v.state = VcState::MakePending;
                    v.multipoint = multipoint;
                    v.want_close = false;
                    if let Some(p) = party {
                        st.parties.insert(p, PartyRec { vc, ctx: None, state: PartyState::Adding });
                    }
                    st.client_params.insert(cp, (vc, params));
                    Some((ctx, party, cp))
                }
            }
        }) else {
            return (NdisStatus::FAILURE, None);
        };
        self.emu.log_client(LogKind::Client, "NdisClMakeCall", Some(vc), party);
        let mut p = params;
        let multipoint = params.is_multipoint();
        let (s, pctx) = self
            .emu
            .handler(
                Handler::MakeCall { vc, party, multipoint },
                |d| d.protocol_cm_make_call(ctx, &mut p, cp, party),
                |r| Some(r.0),
            )
            .unwrap_or((NdisStatus::FAILURE, None));
        if s == NdisStatus::PENDING {
            if let (Some(ph), Some(pc)) = (party, pctx)
                && let Some(pr) = self.emu.st().parties.get_mut(&ph)
            {
                pr.ctx = pr.ctx.or(Some(pc));
            }
        } else {
            self.make_call_finished(vc, party, pctx, s, Some(p), false);
        }
        (s, party)
    }

    /// The make call ended (synchronous return or NdisMCmMakeCallComplete).
    pub(crate) fn make_call_finished(
        &self,
        vc: VcHandle,
        party: Option<PartyHandle>,
        pctx: Option<atmmcm::ndis::PartyContext>,
        status: NdisStatus,
        params: Option<CallParameters>,
        callback: bool,
    ) {
        let (delete, af) = {
            let mut st = self.emu.st();
            let policy = st.policy.delete_after_close;
            let Some(v) = st.vcs.get_mut(&vc).filter(|v| v.state == VcState::MakePending) else { return };
            let ok = status == NdisStatus::SUCCESS;
            v.state = if ok { VcState::Connected } else { VcState::Closed };
            if ok {
                v.params = params.or(v.params);
            }
            let delete = !ok && v.client_created;
            let af = v.af;
            let party = party.or_else(|| {
                st.parties.iter().find(|(_, p)| p.vc == vc && p.state == PartyState::Adding).map(|(h, _)| *h)
            });
            if let Some(pr) = party.and_then(|p| st.parties.get_mut(&p)) {
                pr.state = if ok { PartyState::Active } else { PartyState::Gone };
                pr.ctx = pctx.or(pr.ctx);
            }
            (delete.then_some(policy), af)
        };
        if callback {
            self.emu.log_client(
                LogKind::ClientCallback,
                format!("ProtocolClMakeCallComplete({})", status_name(status)),
                Some(vc),
                party,
            );
        }
        if let Some(w) = delete {
            self.after(w, Action::DeleteVc(vc));
        }
        self.continue_teardown(af);
    }

    /// NdisClCloseCall → ProtocolCmCloseCall. `party`: the last party of a multipoint call.
    pub fn close_call(&self, vc: VcHandle, party: Option<PartyHandle>, data: Option<&[u8]>) -> NdisStatus {
        let Some((ctx, pctx, redundant)) = ({
            let mut st = self.emu.st();
            let pctx = party.and_then(|p| st.parties.get(&p)).and_then(|p| p.ctx);
            st.vcs.get_mut(&vc).filter(|v| v.state != VcState::Deleted).and_then(|v| {
                let redundant = v.state == VcState::Closing;
                if !redundant {
                    v.before_close = v.state;
                }
                v.state = VcState::Closing;
                v.want_close = false;
                Some((v.ctx?, pctx, redundant))
            })
        }) else {
            return NdisStatus::FAILURE;
        };
        self.emu.log_client(LogKind::Client, "NdisClCloseCall", Some(vc), party);
        let data_given = data.is_some_and(|d| !d.is_empty());
        let s = self
            .emu
            .handler(
                Handler::CloseCall { vc, party, data_given },
                |d| d.protocol_cm_close_call(ctx, pctx, close_data(data)),
                |s| Some(*s),
            )
            .unwrap_or(NdisStatus::FAILURE);
        // A redundant close the CM refuses (CLOSING) leaves the close already in progress as it
        // is: its NdisMCmCloseCallComplete still ends it.
        if s != NdisStatus::PENDING && !(redundant && s != NdisStatus::SUCCESS) {
            self.close_finished(vc, s);
        }
        s
    }

    /// The close ended (synchronous return or NdisMCmCloseCallComplete).
    pub(crate) fn close_finished(&self, vc: VcHandle, status: NdisStatus) {
        let (delete, af) = {
            let mut st = self.emu.st();
            let policy = st.policy.delete_after_close;
            let Some(v) = st.vcs.get_mut(&vc).filter(|v| v.state == VcState::Closing) else { return };
            if status != NdisStatus::SUCCESS {
                v.state = v.before_close;
                return;
            }
            v.state = VcState::Closed;
            let delete = v.client_created;
            let af = v.af;
            for p in st.parties.values_mut().filter(|p| p.vc == vc) {
                p.state = PartyState::Gone;
            }
            (delete.then_some(policy), af)
        };
        if let Some(w) = delete {
            self.after(w, Action::DeleteVc(vc));
        }
        self.continue_teardown(af);
    }

    /// NdisClAddParty → ProtocolCmAddParty.
    pub fn add_party(&self, vc: VcHandle, params: CallParameters) -> (NdisStatus, Option<PartyHandle>) {
        let Some((ctx, party, cp)) = ({
            let mut st = self.emu.st();
            let party = PartyHandle(st.alloc_id());
            let cp = ClientParams(st.alloc_id());
            let ctx = st.vcs.get(&vc).filter(|v| v.state != VcState::Deleted).and_then(|v| v.ctx);
            ctx.map(|ctx| {
                st.parties.insert(party, PartyRec { vc, ctx: None, state: PartyState::Adding });
                st.client_params.insert(cp, (vc, params));
                (ctx, party, cp)
            })
        }) else {
            return (NdisStatus::FAILURE, None);
        };
        self.emu.log_client(LogKind::Client, "NdisClAddParty", Some(vc), Some(party));
        let mut p = params;
        let r = self
            .emu
            .handler(
                Handler::AddParty { vc, party },
                |d| d.protocol_cm_add_party(ctx, &mut p, cp, party),
                |r| {
                    Some(match r {
                        Ok((s, _)) => *s,
                        Err(e) => *e,
                    })
                },
            )
            .unwrap_or(Err(NdisStatus::FAILURE));
        let mut st = self.emu.st();
        let s = match r {
            Ok((s, pctx)) => {
                if let Some(pr) = st.parties.get_mut(&party) {
                    pr.ctx = pr.ctx.or(Some(pctx));
                    if s == NdisStatus::SUCCESS && pr.state == PartyState::Adding {
                        pr.state = PartyState::Active;
                    } else if s != NdisStatus::PENDING && s != NdisStatus::SUCCESS {
                        pr.state = PartyState::Gone;
                    }
                }
                s
            }
            Err(e) => {
                if let Some(pr) = st.parties.get_mut(&party) {
                    pr.state = PartyState::Gone;
                }
                e
            }
        };
        (s, Some(party))
    }

    /// NdisClDropParty → ProtocolCmDropParty.
    pub fn drop_party(&self, party: PartyHandle, data: Option<&[u8]>) -> NdisStatus {
        let Some((vc, pctx)) = ({
            let mut st = self.emu.st();
            st.parties.get_mut(&party).filter(|p| p.state == PartyState::Active).and_then(|p| {
                p.state = PartyState::Dropping;
                Some((p.vc, p.ctx?))
            })
        }) else {
            return NdisStatus::FAILURE;
        };
        self.emu.log_client(LogKind::Client, "NdisClDropParty", Some(vc), Some(party));
        let data_given = data.is_some_and(|d| !d.is_empty());
        let s = self
            .emu
            .handler(
                Handler::DropParty { vc, party, data_given },
                |d| d.protocol_cm_drop_party(pctx, close_data(data)),
                |s| Some(*s),
            )
            .unwrap_or(NdisStatus::FAILURE);
        if s != NdisStatus::PENDING {
            let mut st = self.emu.st();
            if let Some(p) = st.parties.get_mut(&party).filter(|p| p.state == PartyState::Dropping) {
                p.state = if s == NdisStatus::SUCCESS { PartyState::Gone } else { PartyState::Active };
            }
        }
        s
    }

    /// NdisMCmDropPartyComplete arrived.
    pub(crate) fn drop_finished(&self, party: PartyHandle, status: NdisStatus) {
        let vc = {
            let mut st = self.emu.st();
            let Some(p) = st.parties.get_mut(&party) else { return };
            if p.state == PartyState::Dropping {
                p.state = if status == NdisStatus::SUCCESS { PartyState::Gone } else { PartyState::Active };
            }
            p.vc
        };
        self.progress_close(vc);
    }

    /// ProtocolClIncomingDropParty: drop it per policy.
    pub(crate) fn incoming_drop(&self, party: PartyHandle) {
        let w = self.policy().close_on_incoming_close;
        self.after(w, Action::DropParty(party));
    }

    /// NdisClModifyCallQoS → ProtocolCmModifyCallQoS.
    pub fn modify_qos(&self, vc: VcHandle, params: CallParameters) -> NdisStatus {
        let Some((ctx, cp)) = ({
            let mut st = self.emu.st();
            let cp = ClientParams(st.alloc_id());
            let ctx = st.vcs.get(&vc).filter(|v| v.state != VcState::Deleted).and_then(|v| v.ctx);
            ctx.map(|c| {
                st.client_params.insert(cp, (vc, params));
                (c, cp)
            })
        }) else {
            return NdisStatus::FAILURE;
        };
        self.emu.log_client(LogKind::Client, "NdisClModifyCallQoS", Some(vc), None);
        let s = self
            .emu
            .handler(Handler::ModifyQos { vc }, |d| d.protocol_cm_modify_call_qos(ctx, &params, cp), |s| Some(*s))
            .unwrap_or(NdisStatus::FAILURE);
        if s == NdisStatus::SUCCESS
            && let Some(v) = self.emu.st().vcs.get_mut(&vc)
        {
            v.params = Some(params);
        }
        s
    }

    // ---- incoming calls and closes ---------------------------------------------------------------------

    /// ProtocolClIncomingCall: answered per policy.
    pub(crate) fn incoming_call(&self, sap: SapHandle, vc: VcHandle, params: &CallParameters) -> NdisStatus {
        let answer = {
            let mut st = self.emu.st();
            let answer = match st.policy.accept_incoming {
                Accept::Sync => NdisStatus::SUCCESS,
                Accept::Pending => NdisStatus::PENDING,
                Accept::Reject(s) => s,
            };
            if let Some(v) = st.vcs.get_mut(&vc) {
                v.params = Some(*params);
                v.multipoint = params.is_multipoint();
                v.want_close = false;
                v.state = match answer {
                    NdisStatus::SUCCESS => VcState::Accepted,
                    NdisStatus::PENDING => VcState::Offered,
                    _ => VcState::Closed,
                };
            }
            st.incoming.push(IncomingCall { sap, vc, params: *params, answer });
            answer
        };
        self.emu.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClIncomingCall->{}", status_name(answer)),
            Some(vc),
            None,
        );
        answer
    }

    /// ProtocolClIncomingCloseCall calls seen so far: (vc, status, CloseData).
    pub fn incoming_closes(&self) -> Vec<(VcHandle, NdisStatus, Vec<u8>)> {
        self.emu.st().incoming_closes.clone()
    }

    /// NdisClIncomingCallComplete with call parameters the client changed.
    pub fn complete_incoming_with(&self, vc: VcHandle, status: NdisStatus, params: CallParameters) {
        if let Some(v) = self.emu.st().vcs.get_mut(&vc) {
            v.params = Some(params);
        }
        self.complete_incoming(vc, status);
    }

    /// NdisClIncomingCallComplete → ProtocolCmIncomingCallComplete for a pended incoming call.
    pub fn complete_incoming(&self, vc: VcHandle, status: NdisStatus) {
        let Some((ctx, params)) = ({
            let mut st = self.emu.st();
            st.vcs.get_mut(&vc).filter(|v| v.state == VcState::Offered).and_then(|v| {
                v.state = if status == NdisStatus::SUCCESS { VcState::Accepted } else { VcState::Closed };
                Some((v.ctx?, v.params?))
            })
        }) else {
            return;
        };
        self.emu.log_client(
            LogKind::Client,
            format!("NdisClIncomingCallComplete({})", status_name(status)),
            Some(vc),
            None,
        );
        let _ = self.emu.handler(
            Handler::IncomingCallComplete { vc, status },
            |d| d.protocol_cm_incoming_call_complete(status, ctx, &params),
            |_| None,
        );
    }

    /// ProtocolClIncomingCloseCall: NdisClCloseCall per policy.
    pub(crate) fn incoming_close(&self, status: NdisStatus, vc: VcHandle, data: &[u8]) {
        let w = {
            let mut st = self.emu.st();
            st.incoming_closes.push((vc, status, data.to_vec()));
            let w = st.policy.close_on_incoming_close;
            if let Some(v) = st.vcs.get_mut(&vc).filter(|v| !matches!(v.state, VcState::Deleted | VcState::Closing)) {
                v.before_close = v.state;
                v.state = VcState::RemoteClosing;
                v.want_close = w != When::Never;
            }
            w
        };
        self.emu.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClIncomingCloseCall({})", status_name(status)),
            Some(vc),
            None,
        );
        self.after(w, Action::CloseCall(vc));
    }

    /// Drives a wanted close: drops all parties but one, then NdisClCloseCall with the last.
    fn progress_close(&self, vc: VcHandle) {
        loop {
            let step = {
                let st = self.emu.st();
                let Some(v) = st.vcs.get(&vc) else { return };
                if !v.want_close || matches!(v.state, VcState::Closing | VcState::Closed | VcState::Deleted) {
                    return;
                }
                let mut active: Vec<PartyHandle> = st
                    .parties
                    .iter()
                    .filter(|(_, p)| p.vc == vc && p.state == PartyState::Active)
                    .map(|(h, _)| *h)
                    .collect();
                active.sort();
                let busy = st
                    .parties
                    .values()
                    .any(|p| p.vc == vc && matches!(p.state, PartyState::Adding | PartyState::Dropping));
                if busy {
                    return;
                }
                if active.len() > 1 {
                    Err(active.get(1..).map(|s| s.to_vec()).unwrap_or_default())
                } else {
                    Ok(active.first().copied())
                }
            };
            match step {
                Ok(last) => {
                    self.close_call(vc, last, None);
                    return;
                }
                Err(drops) => {
                    let mut any = false;
                    for p in drops {
                        let s = self.drop_party(p, None);
                        any |= s == NdisStatus::SUCCESS;
                    }
                    if !any {
                        return;
                    }
                }
            }
        }
    }

    /// Runs `a` now, later, or not at all.
    fn after(&self, w: When, a: Action) {
        match w {
            When::Immediate => self.perform(a),
            When::Deferred => self.emu.st().deferred.push_back(a),
            When::Never => {}
        }
    }

    fn perform(&self, a: Action) {
        match a {
            Action::CloseCall(vc) => {
                if let Some(v) = self.emu.st().vcs.get_mut(&vc) {
                    v.want_close = true;
                }
                self.progress_close(vc)
            }
            Action::DropParty(p) => {
                self.drop_party(p, None);
            }
            Action::DeleteVc(vc) => {
                self.delete_vc(vc);
            }
        }
    }

    /// Runs the deferred actions queued so far; returns how many ran.
    pub fn run_deferred(&self) -> usize {
        let actions: Vec<Action> = self.emu.st().deferred.drain(..).collect();
        let n = actions.len();
        for a in actions {
            self.perform(a);
        }
        n
    }

    // ---- AF teardown (ProtocolClNotifyCloseAf) ------------------------------------------------------------

    /// Tears down everything on `af`: parties, calls, SAPs, VCs, then the AF.
    pub(crate) fn teardown(&self, af: AfHandle) {
        self.continue_teardown(af);
    }

    /// The next teardown steps, as far as they go without waiting for a completion.
    pub(crate) fn continue_teardown(&self, af: AfHandle) {
        #[derive(Debug)]
        enum Step {
            Reject(VcHandle),
            Close(VcHandle),
            Delete(VcHandle),
            Deregister(SapHandle),
            CloseAf,
        }
        let mut tried: Vec<String> = Vec::new();
        loop {
            let step = {
                let mut st = self.emu.st();
                if !st.afs.get(&af).is_some_and(|a| a.teardown && a.state == AfState::Open) {
                    return;
                }
                let mut vcs: Vec<(VcHandle, VcState, bool, bool)> = st
                    .vcs
                    .iter()
                    .filter(|(_, v)| v.af == af && v.state != VcState::Deleted)
                    .map(|(h, v)| (*h, v.state, v.client_created, v.want_close))
                    .collect();
                vcs.sort_by_key(|x| x.0);
                let mut step = None;
                for &(vc, state, client_created, want_close) in &vcs {
                    let s = match state {
                        VcState::Offered => Some(Step::Reject(vc)),
                        VcState::Accepted | VcState::Connected | VcState::RemoteClosing if !want_close => {
                            if let Some(v) = st.vcs.get_mut(&vc) {
                                v.want_close = true;
                                if v.state != VcState::RemoteClosing {
                                    v.before_close = v.state;
                                }
                            }
                            Some(Step::Close(vc))
                        }
                        VcState::Idle | VcState::Closed if client_created => Some(Step::Delete(vc)),
                        _ => None,
                    };
                    if let Some(s) = s
                        && !tried.contains(&format!("{s:?}"))
                    {
                        step = Some(s);
                        break;
                    }
                }
                if step.is_none() {
                    let mut saps: Vec<SapHandle> = st
                        .saps
                        .iter()
                        .filter(|(_, s)| s.af == af && s.state == SapState::Registered)
                        .map(|(h, _)| *h)
                        .collect();
                    saps.sort();
                    step = saps.into_iter().map(Step::Deregister).find(|s| !tried.contains(&format!("{s:?}")));
                }
                if step.is_none() && vcs.is_empty() {
                    let saps_busy = st.saps.values().any(|s| s.af == af && s.state != SapState::Gone);
                    if !saps_busy && !tried.contains(&"CloseAf".to_string()) {
                        step = Some(Step::CloseAf);
                    }
                }
                match step {
                    Some(s) => s,
                    None => return,
                }
            };
            tried.push(format!("{step:?}"));
            match step {
                Step::Reject(vc) => self.complete_incoming(vc, NdisStatus::FAILURE),
                Step::Close(vc) => self.progress_close(vc),
                Step::Delete(vc) => {
                    self.delete_vc(vc);
                }
                Step::Deregister(sap) => {
                    self.deregister_sap(sap);
                }
                Step::CloseAf => {
                    let mine = self.emu.st().client_af == Some(af);
                    if mine {
                        self.close_af();
                    }
                    return;
                }
            }
        }
    }

    // ---- data --------------------------------------------------------------------------------------------

    /// NdisCoSendNetBufferLists: one NBL per frame, chained, in one call. Returns the NBLs.
    pub fn send(&self, vc: VcHandle, frames: Vec<Vec<u8>>) -> Vec<Nbl> {
        if frames.is_empty() {
            return Vec::new();
        }
        let Some((ctx, nbls)) = ({
            let mut st = self.emu.st();
            let ctx = st.vcs.get_mut(&vc).filter(|v| v.state != VcState::Deleted && !v.deleting).and_then(|v| {
                let ctx = v.ctx?;
                v.sending += 1;
                Some(ctx)
            });
            ctx.map(|ctx| {
                let ids: Vec<Nbl> = frames.iter().map(|_| Nbl(st.alloc_id())).collect();
                for (i, f) in frames.into_iter().enumerate() {
                    let next = ids.get(i + 1).copied();
                    if let Some(&id) = ids.get(i) {
                        st.nbls.insert(
                            id,
                            NblRec {
                                frames: vec![f],
                                next,
                                status: NdisStatus::SUCCESS,
                                owner: Some(vc),
                                kind: NblKind::Send,
                            },
                        );
                    }
                }
                (ctx, ids)
            })
        }) else {
            return Vec::new();
        };
        let Some(&head) = nbls.first() else { return Vec::new() };
        self.emu.log_client(LogKind::Client, "NdisCoSendNetBufferLists", Some(vc), None);
        super::IN_SEND.with(|c| c.set(true));
        super::SEND_HEAD.with(|c| c.set(Some(head)));
        self.data_irql(|| {
            irql::in_path(Path::Send, || {
                let _ = self.emu.handler(
                    Handler::Send { vc, nbls: nbls.clone() },
                    |d| d.miniport_co_send_net_buffer_lists(ctx, head, 0),
                    |_| None,
                );
            })
        });
        super::IN_SEND.with(|c| c.set(false));
        super::SEND_HEAD.with(|c| c.set(None));
        if let Some(v) = self.emu.st().vcs.get_mut(&vc) {
            v.sending = v.sending.saturating_sub(1);
        }
        nbls
    }

    /// NdisReturnNetBufferLists → MiniportReturnNetBufferLists for one indicated chain.
    pub(crate) fn return_nbls(&self, head: Nbl) {
        let (chain, vc) = {
            let st = self.emu.st();
            let chain = st.chain(head);
            let vc = chain.first().and_then(|n| st.nbls.get(n)).and_then(|r| r.owner);
            (chain, vc)
        };
        self.emu.log_client(LogKind::Client, "NdisReturnNetBufferLists", vc, None);
        self.data_irql(|| {
            irql::in_path(Path::Return, || {
                let _ = self.emu.handler(
                    Handler::Return { vc, nbls: chain },
                    |d| d.miniport_return_net_buffer_lists(head, 0),
                    |_| None,
                );
            })
        });
    }

    /// Returns every held receive chain; returns how many chains.
    pub fn return_pending_receives(&self) -> usize {
        let held: Vec<Nbl> = std::mem::take(&mut self.emu.st().held_rx);
        let n = held.len();
        for h in held {
            self.return_nbls(h);
        }
        n
    }

    // ---- OID requests ---------------------------------------------------------------------------------

    /// An OID request without an AF handle (NDIS routes it to MiniportCoOidRequest). Returns the
    /// status, octets written/read and octets needed.
    pub fn oid_request(
        &self,
        vc: Option<VcHandle>,
        oid: u32,
        is_query: bool,
        buffer: &mut [u8],
    ) -> (NdisStatus, usize, usize) {
        let vctx = vc.and_then(|h| self.emu.st().vcs.get(&h).and_then(|v| v.ctx));
        self.emu.log_client(LogKind::Client, format!("NdisCoOidRequest(0x{oid:08X})"), vc, None);
        let mut req = atmmcm::adapter::OidRequest { oid, buffer, is_query, bytes_done: 0, bytes_needed: 0 };
        let s = self
            .emu
            .handler(
                Handler::Other("MiniportCoOidRequest"),
                |d| d.miniport_co_oid_request(vctx, &mut req),
                |s| Some(*s),
            )
            .unwrap_or(NdisStatus::FAILURE);
        (s, req.bytes_done, req.bytes_needed)
    }

    /// An OID request on the client's AF (NDIS routes it to ProtocolCoOidRequest).
    pub fn af_oid_request(
        &self,
        vc: Option<VcHandle>,
        oid: u32,
        is_query: bool,
        buffer: &mut [u8],
    ) -> (NdisStatus, usize, usize) {
        let (actx, vctx) = {
            let st = self.emu.st();
            let actx = st.client_af.and_then(|af| st.afs.get(&af)).and_then(|a| a.ctx);
            (actx, vc.and_then(|h| st.vcs.get(&h).and_then(|v| v.ctx)))
        };
        let Some(actx) = actx else { return (NdisStatus::FAILURE, 0, 0) };
        self.emu.log_client(LogKind::Client, format!("NdisCoOidRequest(af, 0x{oid:08X})"), vc, None);
        let mut req = atmmcm::adapter::OidRequest { oid, buffer, is_query, bytes_done: 0, bytes_needed: 0 };
        let s = self
            .emu
            .handler(
                Handler::Other("ProtocolCoOidRequest"),
                |d| d.protocol_co_oid_request(actx, vctx, None, &mut req),
                |s| Some(*s),
            )
            .unwrap_or(NdisStatus::FAILURE);
        (s, req.bytes_done, req.bytes_needed)
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
