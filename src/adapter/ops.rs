//! The drainer: NDIS calls the control state decided, performed in order with its lock released.

use super::*;

/// One NDIS call the drainer performs, with its arguments taken under the lock.
pub(super) enum Perform<N: Ndis> {
    CreateVc {
        index: usize,
        af: N::AfHandle,
        ctx: VcContext,
    },
    Activate {
        index: usize,
        vc: N::VcHandle,
        params: CallParameters,
    },
    DispatchIncomingCall {
        index: usize,
        sap: N::SapHandle,
        vc: N::VcHandle,
        params: CallParameters,
    },
    MakeCallComplete {
        status: NdisStatus,
        vc: N::VcHandle,
        party: Option<(N::PartyHandle, PartyContext)>,
        client: N::ClientParams,
        params: CallParameters,
    },
    CallConnected {
        vc: N::VcHandle,
    },
    IncomingClose {
        index: usize,
        status: NdisStatus,
        vc: N::VcHandle,
        data: UuBuf,
    },
    Deactivate {
        vc: N::VcHandle,
    },
    CloseComplete {
        status: NdisStatus,
        vc: N::VcHandle,
        party: Option<N::PartyHandle>,
    },
    Delete {
        index: usize,
        vc: N::VcHandle,
    },
    AddPartyComplete {
        token: Token,
        status: NdisStatus,
        party: N::PartyHandle,
        ctx: Option<PartyContext>,
        client: N::ClientParams,
        params: CallParameters,
    },
    IncomingDrop {
        token: Token,
        status: NdisStatus,
        party: N::PartyHandle,
        data: UuBuf,
    },
    DropComplete {
        token: Token,
        status: NdisStatus,
        party: N::PartyHandle,
    },
    CloseAfComplete {
        af: N::AfHandle,
    },
    IndicateLink,
    /// The op could not be performed (its object vanished); nothing to call.
    Nothing,
}

impl<N: Ndis, D: Device> Adapter<N, D> {
    /// Performs pending ops until none is left; one drainer at a time (see the module docs).
    pub(super) fn drain_ops(&self) {
        // Announce the work first, then try to become the drainer: a drainer that is just
        // leaving re-checks the flag after dropping its role, so no op is ever stranded.
        self.drain_again.store(true, Ordering::SeqCst);
        loop {
            if self.draining.swap(true, Ordering::SeqCst) {
                return;
            }
            self.drain_again.store(false, Ordering::SeqCst);
            loop {
                let next = self.control.lock().work.pop();
                let Some(work) = next else { break };
                let perform = {
                    let mut c = self.control.lock();
                    Self::take_op(&mut c, work)
                };
                self.perform(perform);
            }
            self.draining.store(false, Ordering::SeqCst);
            if !self.drain_again.load(Ordering::SeqCst) {
                return;
            }
        }
    }

    pub(super) fn requeue(c: &mut Control<N>, work: Work, more: bool) {
        if more {
            if !c.work.push(work) {
                c.stats.internal_errors += 1;
            }
            return;
        }
        match work {
            Work::Vc(i) => {
                if let Some(t) = c.vcs.token_at(usize::from(i))
                    && let Some(v) = c.vcs.get_mut(t)
                {
                    v.queued = false;
                }
            }
            Work::Party(i) => {
                if let Some(t) = c.parties.token_at(usize::from(i))
                    && let Some(p) = c.parties.get_mut(t)
                {
                    p.queued = false;
                }
            }
            Work::Af(i) => {
                if let Some(t) = c.afs.token_at(usize::from(i))
                    && let Some(a) = c.afs.get_mut(t)
                {
                    a.queued = false;
                }
            }
            Work::Adapter => c.adapter_dequeued(),
        }
    }

    pub(super) fn take_op(c: &mut Control<N>, work: Work) -> Perform<N> {
        match work {
            Work::Vc(i) => {
                let index = usize::from(i);
                let Some(vc) = c.vcs.token_at(index) else { return Perform::Nothing };
                let Some(v) = c.vcs.get_mut(vc) else { return Perform::Nothing };
                let Some(op) = next_op(v.ops) else {
                    v.queued = false;
                    return Perform::Nothing;
                };
                v.ops &= !op;
                let more = v.ops != 0;
                let (handle, af, call) = (v.handle, v.af, v.call);
                let (make_status, close_status) = (v.make_status, v.close_status);
                Self::requeue(c, work, more);
                // What the call carries, from its pool entry (none: the VC has no call); each op
                // copies only what it hands NDIS.
                let call = call.and_then(|t| c.calls.get(t));
                let ctx = VcContext(vc);
                let party_of = |c: &Control<N>| {
                    c.first_party_where(ctx, |_| true)
                        .and_then(|t| c.parties.get(t).map(|p| (p.handle, PartyContext(t))))
                };
                let r = match (op, handle, call) {
                    (vc_op::CREATE_VC, _, _) => c.afs.get(af.0).map(|a| Perform::CreateVc { index, af: a.handle, ctx }),
                    (vc_op::ACTIVATE_VC, Some(h), Some(k)) => {
                        Some(Perform::Activate { index, vc: h, params: k.params })
                    }
                    (vc_op::DISPATCH_INCOMING_CALL, Some(h), Some(k)) => k
                        .sap
                        .and_then(|s| c.saps.get(s.0))
                        .map(|s| Perform::DispatchIncomingCall { index, sap: s.handle, vc: h, params: k.params }),
                    (vc_op::MAKE_CALL_COMPLETE, Some(h), Some(k)) => k.client.map(|cl| Perform::MakeCallComplete {
                        status: make_status,
                        vc: h,
                        party: if k.params.is_multipoint() { party_of(c) } else { None },
                        client: cl,
                        params: k.params,
                    }),
                    (vc_op::DISPATCH_CALL_CONNECTED, Some(h), _) => Some(Perform::CallConnected { vc: h }),
                    (vc_op::DISPATCH_INCOMING_CLOSE, Some(h), Some(k)) => Some(Perform::IncomingClose {
                        index,
                        status: k.incoming_close_status,
                        vc: h,
                        data: k.incoming_close_data.copied(),
                    }),
                    (vc_op::DEACTIVATE_VC, Some(h), _) => Some(Perform::Deactivate { vc: h }),
                    (vc_op::CLOSE_CALL_COMPLETE, Some(h), _) => Some(Perform::CloseComplete {
                        status: close_status,
                        vc: h,
                        party: call.and_then(|k| k.close_party).and_then(|p| c.parties.get(p.0)).map(|p| p.handle),
                    }),
                    (vc_op::DELETE_VC, Some(h), _) => Some(Perform::Delete { index, vc: h }),
                    _ => None,
                };
                // State moves before the call: the client may re-enter from inside it.
                match &r {
                    Some(Perform::MakeCallComplete { status, .. }) => c.make_call_completing(index, *status),
                    Some(Perform::CloseComplete { .. }) => c.close_call_completing(index),
                    Some(Perform::Deactivate { .. }) => c.deactivating(index),
                    _ => {}
                }
                r.unwrap_or_else(|| {
                    c.stats.internal_errors += 1;
                    Perform::Nothing
                })
            }
            Work::Party(i) => {
                let Some(t) = c.parties.token_at(usize::from(i)) else { return Perform::Nothing };
                let Some(p) = c.parties.get_mut(t) else { return Perform::Nothing };
                let Some(op) = next_op(p.ops) else {
                    p.queued = false;
                    return Perform::Nothing;
                };
                p.ops &= !op;
                let more = p.ops != 0;
                let (status, handle, client, params, data) = (p.op_status, p.handle, p.client, p.params, p.drop_data);
                Self::requeue(c, work, more);
                let r = match op {
                    party_op::ADD_PARTY_COMPLETE => client.zip(params).map(|(cl, pa)| Perform::AddPartyComplete {
                        token: t,
                        status,
                        party: handle,
                        ctx: (status == NdisStatus::SUCCESS).then_some(PartyContext(t)),
                        client: cl,
                        params: pa,
                    }),
                    party_op::DISPATCH_INCOMING_DROP => {
                        Some(Perform::IncomingDrop { token: t, status, party: handle, data })
                    }
                    party_op::DROP_PARTY_COMPLETE => Some(Perform::DropComplete { token: t, status, party: handle }),
                    _ => None,
                };
                r.unwrap_or(Perform::Nothing)
            }
            Work::Af(i) => {
                let Some(t) = c.afs.token_at(usize::from(i)) else { return Perform::Nothing };
                let Some(a) = c.afs.get_mut(t) else { return Perform::Nothing };
                let Some(op) = next_op(a.ops) else {
                    a.queued = false;
                    return Perform::Nothing;
                };
                a.ops &= !op;
                let h = a.handle;
                if op == af_op::CLOSE_AF_COMPLETE {
                    // The AF dies with its completion.
                    c.afs.remove(t);
                    Perform::CloseAfComplete { af: h }
                } else {
                    let more = a.ops != 0;
                    Self::requeue(c, work, more);
                    Perform::Nothing
                }
            }
            Work::Adapter => {
                let ops = c.adapter_ops;
                c.adapter_ops = 0;
                Self::requeue(c, work, false);
                if ops & adapter_op::INDICATE_LINK != 0 { Perform::IndicateLink } else { Perform::Nothing }
            }
        }
    }

    pub(super) fn perform(&self, p: Perform<N>) {
        let n = &self.ndis;
        match p {
            Perform::Nothing => {}
            Perform::CreateVc { index, af, ctx } => {
                let r = n.cm_create_vc(af, ctx);
                self.with_control(|c| c.on_create_vc(self, index, r));
            }
            Perform::Activate { index, vc, params } => {
                let st = n.cm_activate_vc(vc, &params);
                self.with_control(|c| c.on_activate(self, index, st));
            }
            Perform::DispatchIncomingCall { index, sap, vc, params } => {
                let st = n.cm_dispatch_incoming_call(sap, vc, &params);
                self.with_control(|c| c.on_dispatch_incoming_call(self, index, st));
            }
            Perform::MakeCallComplete { status, vc, party, client, params } => {
                let (ph, pc) = match party {
                    Some((h, c)) if status == NdisStatus::SUCCESS => (Some(h), Some(c)),
                    Some((h, _)) => (Some(h), None),
                    None => (None, None),
                };
                n.cm_make_call_complete(status, vc, ph, pc, client, &params);
            }
            Perform::CallConnected { vc } => n.cm_dispatch_call_connected(vc),
            Perform::IncomingClose { index, status, vc, data } => {
                self.wait_rx_quiet(index);
                n.cm_dispatch_incoming_close_call(status, vc, data.as_slice());
            }
            Perform::Deactivate { vc } => {
                let _ = n.cm_deactivate_vc(vc);
            }
            Perform::CloseComplete { status, vc, party } => n.cm_close_call_complete(status, vc, party),
            Perform::Delete { index, vc } => {
                let _ = n.cm_delete_vc(vc);
                self.with_control(|c| c.on_deleted(self, index));
            }
            Perform::AddPartyComplete { token, status, party, ctx, client, params } => {
                n.cm_add_party_complete(status, party, ctx, client, &params);
                self.with_control(|c| c.maybe_free_party(token));
            }
            Perform::IncomingDrop { token, status, party, data } => {
                n.cm_dispatch_incoming_drop_party(status, party, data.as_slice());
                self.with_control(|c| c.maybe_free_party(token));
            }
            Perform::DropComplete { token, status, party } => {
                n.cm_drop_party_complete(status, party);
                self.with_control(|c| c.maybe_free_party(token));
            }
            Perform::CloseAfComplete { af } => n.cm_close_address_family_complete(NdisStatus::SUCCESS, af),
            Perform::IndicateLink => {
                let link = self.control.lock().link_report;
                n.co_indicate_status_ex(None, StatusIndication::LinkState(link));
            }
        }
    }
}
