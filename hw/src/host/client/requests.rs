//! The client's requests: what a test asks of it (NdisClOpenAddressFamilyEx, NdisClRegisterSap,
//! NdisCoCreateVc, NdisClMakeCall, NdisClCloseCall, NdisCoSendNetBufferLists, OID requests, ...),
//! each going through the emulated NDIS into the driver's handler.

use atmmcm::NdisStatus;
use atmmcm::ndis::{AtmAddress, CallParameters, Sap};

use super::super::handles::{AfHandle, ClientParams, Nbl, PartyHandle, SapHandle, VcHandle};
use super::super::irql::{self, Path};
use super::super::log::LogKind;
use super::super::verifier::{Handler, status_name};
use super::super::{AfState, NblKind, NblRec, Notify, PartyRec, PartyState, SapRec, SapState, VcRec};
use super::{Client, VcState, close_data};

impl Client {
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
            st.afs.insert(
                af,
                super::super::AfRec { ctx: None, state: AfState::Opening, teardown: false, notify: Notify::None },
            );
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
        super::super::IN_SEND.with(|c| c.set(true));
        super::super::SEND_HEAD.with(|c| c.set(Some(head)));
        self.data_irql(|| {
            irql::in_path(Path::Send, || {
                let _ = self.emu.handler(
                    Handler::Send { vc, nbls: nbls.clone() },
                    |d| d.miniport_co_send_net_buffer_lists(ctx, head, 0),
                    |_| None,
                );
            })
        });
        super::super::IN_SEND.with(|c| c.set(false));
        super::super::SEND_HEAD.with(|c| c.set(None));
        if let Some(v) = self.emu.st().vcs.get_mut(&vc) {
            v.sending = v.sending.saturating_sub(1);
        }
        nbls
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
}
