//! The `Ndis` implementation: every NDIS function the driver calls (NdisMCm*, NdisMCo*, the NBL
//! accessors, timer and DPC requests), each logged and checked before it acts.

use std::sync::atomic::Ordering;
use std::time::Duration;

use atmmcm::ndis::{
    AfContext, CallParameters, CoAddressFamily, PartyContext, SapContext, StatusIndication, VcContext, receive_flags,
};
use atmmcm::{Ndis, NdisStatus};

use super::verifier::{self, Call};
use super::{
    AfHandle, AfState, ClientParams, EmuNdis, IN_SEND, LabSpinLock, LogKind, Nbl, NblKind, NblRec, Notify, PartyHandle,
    PartyState, ReturnReceives, SapHandle, SapState, SendCompletion, VcHandle, VcRec, VcState, current_cpu,
};

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
