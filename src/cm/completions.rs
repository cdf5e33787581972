//! Results of the NDIS calls the adapter made for an op (NdisMCmCreateVc, NdisMCmActivateVc,
//! NdisMCmDispatchIncomingCall, ...completing, NdisMCmDeactivateVc, NdisMCmDeleteVc), the
//! data path's drain report, the frees they allow, and MiniportHaltEx.

use crate::cm::control::Control;
use crate::cm::control::Env;
use crate::cm::objects::DataState;
use crate::cm::objects::PartyPhase;
use crate::cm::objects::Phase;
use crate::cm::ops::vc_op;
use crate::ndis::Ndis;
use crate::ndis::NdisStatus;
use crate::ndis::Token;
use crate::ndis::VcContext;
use crate::uni::msg::cause;

impl<N: Ndis> Control<N> {
    /// The data path of slot `index` is drained: nothing in flight, NIC connection closed.
    pub fn on_drained(&mut self, env: &impl Env<N>, index: usize) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        if let Some(v) = self.vcs.get_mut(vc) {
            if v.data != DataState::Draining {
                return;
            }
            v.data = DataState::Drained;
            v.conn = None;
        }
        // The VC is really closed now: the RELEASE COMPLETE owed to the network can go, and a
        // RESTART waiting for it may be acknowledged.
        self.pay_release_complete(env, vc);
        self.pay_restart_ack(env, vc);
        self.advance_close(env, vc);
    }

    pub(crate) fn vc_has_handle_pending(&self, vc: Token) -> bool {
        self.vcs.get(vc).is_some_and(|v| {
            v.ops & (vc_op::CREATE_VC | vc_op::ACTIVATE_VC | vc_op::DISPATCH_INCOMING_CALL) != 0 || v.handle.is_some()
        })
    }

    // ---- NDIS call results (from the drainer) -----------------------------------------------------

    /// NdisMCmCreateVc returned.
    pub fn on_create_vc(&mut self, env: &impl Env<N>, index: usize, result: Result<N::VcHandle, NdisStatus>) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        match result {
            Ok(h) => {
                let conn = self.vcs.get(vc).and_then(|v| v.conn);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.handle = Some(h);
                }
                if let Some(conn) = conn {
                    env.datapath_open(index, vc.generation(), h, conn);
                }
                if self.vcs.get(vc).is_some_and(|v| v.network_done) {
                    // The caller hung up meanwhile.
                    self.reject_incoming(env, vc, None);
                } else {
                    self.vc_op(vc, vc_op::ACTIVATE_VC);
                }
            }
            Err(_) => self.reject_incoming(env, vc, Some(cause::RESOURCE_UNAVAILABLE)),
        }
    }

    /// NdisMCmActivateVc returned.
    pub fn on_activate(&mut self, env: &impl Env<N>, index: usize, status: NdisStatus) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        let Some(v) = self.vcs.get_mut(vc) else { return };
        let ok = status == NdisStatus::SUCCESS;
        if ok {
            v.active = true;
        }
        match (v.phase, ok) {
            // Incoming call: offer it to the client, unless the caller already left.
            (Phase::Offering, true) if !v.network_done => self.vc_op(vc, vc_op::DISPATCH_INCOMING_CALL),
            (Phase::Offering, _) => self.reject_incoming(env, vc, Some(cause::RESOURCE_UNAVAILABLE)),
            // Outgoing call answered (or a PVC): MakeCall succeeds.
            (Phase::MakePending, true) => {
                v.make_status = NdisStatus::SUCCESS;
                self.vc_op(vc, vc_op::MAKE_CALL_COMPLETE);
            }
            // Activation refused: MakeCall fails; the network gets a RELEASE.
            (Phase::MakePending, false) => {
                let cref = v.cref();
                if let Some(cref) = cref {
                    self.orphan_release(env, cref, cause::RESOURCE_UNAVAILABLE);
                }
                self.fail_make_call(env, vc, status);
            }
            // The call was closed meanwhile: the close path deals with the VC. Its end may have
            // been decided while this activation was in flight (the drainer inside
            // NdisMCmActivateVc, the close and the data path's drain on other CPUs): the close
            // completion (or an MCM VC's delete) is then queued without a deactivation, as the
            // VC was not active yet. Deactivate first (DEACTIVATE_VC is performed before
            // CLOSE_CALL_COMPLETE and DELETE_VC): a close never completes on an active VC.
            _ => {
                if ok && v.ops & (vc_op::CLOSE_CALL_COMPLETE | vc_op::DELETE_VC) != 0 {
                    self.vc_op(vc, vc_op::DEACTIVATE_VC);
                }
                self.advance_close(env, vc)
            }
        }
    }

    /// NdisMCmDispatchIncomingCall returned.
    pub fn on_dispatch_incoming_call(&mut self, env: &impl Env<N>, index: usize, status: NdisStatus) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        let network_gone = self.vcs.get(vc).is_some_and(|v| v.network_done);
        match status {
            // Accepted on the spot.
            NdisStatus::SUCCESS if !network_gone => self.accept_incoming(env, vc),
            // Pending: ProtocolCmIncomingCallComplete follows.
            NdisStatus::PENDING => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.phase = Phase::OfferPending;
                }
            }
            // Refused, or accepted after the caller left.
            _ => self.reject_incoming(env, vc, Some(cause::CALL_REJECTED)),
        }
    }

    /// NdisMCmMakeCallComplete is about to be made (the client may re-enter from inside it —
    /// close the call, send, delete the VC — so the state moves first).
    pub fn make_call_completing(&mut self, index: usize, status: NdisStatus) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        let Some(v) = self.vcs.get_mut(vc) else { return };
        match (v.phase, status == NdisStatus::SUCCESS) {
            // Connected.
            (Phase::MakePending, true) => {
                v.phase = Phase::Connected;
                // Multipoint: the first party is active now.
                let vcc = VcContext(vc);
                if let Some(p) = self.first_party_where(vcc, |p| p.phase == PartyPhase::Initial)
                    && let Some(obj) = self.parties.get_mut(p)
                {
                    obj.phase = PartyPhase::Active;
                }
            }
            // Failed (and drained): the VC is idle again for the client to delete or reuse; the
            // parties die with the completion.
            (Phase::MakePending, false) => {
                if let Some(c) = v.cref() {
                    self.crefs.remove(c, index);
                }
                if let Some(call) = v.reset_call(&mut self.link_counts) {
                    self.calls.remove(call);
                }
                self.timers.cancel(index);
                self.free_parties_of(vc);
            }
            // Aborted by a close: the close goes on.
            _ => {}
        }
    }

    /// NdisMCmCloseCallComplete is about to be made: the call ends now (the client may delete its
    /// VC from inside the completion).
    pub fn close_call_completing(&mut self, index: usize) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        let ours = self.vcs.get(vc).is_some_and(|v| v.ours);
        self.free_parties_of(vc);
        if let Some(v) = self.vcs.get_mut(vc) {
            v.close_pended = false;
            if !ours {
                if let Some(c) = v.cref() {
                    self.crefs.remove(c, index);
                }
                if let Some(call) = v.reset_call(&mut self.link_counts) {
                    self.calls.remove(call);
                }
                self.timers.cancel(index);
            }
        }
    }

    /// NdisMCmDeactivateVc is about to be made.
    pub fn deactivating(&mut self, index: usize) {
        if let Some(vc) = self.vcs.token_at(index)
            && let Some(v) = self.vcs.get_mut(vc)
        {
            v.active = false;
        }
    }

    /// NdisMCmDeleteVc returned: the VC is gone.
    pub fn on_deleted(&mut self, env: &impl Env<N>, index: usize) {
        let Some(vc) = self.vcs.token_at(index) else { return };
        self.free_parties_of(vc);
        if let Some(v) = self.vcs.get_mut(vc) {
            v.handle = None;
        }
        self.maybe_free_vc(env, vc);
    }

    /// Frees an MCM VC whose delete was performed and whose ops are all done.
    pub fn maybe_free_vc(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get(vc) else { return };
        if v.ours
            && v.handle.is_none()
            && v.ops == 0
            && !v.queued
            && matches!(v.data, DataState::None | DataState::Drained)
        {
            self.remove_vc(env, vc);
        }
    }

    /// A party's ops are all done.
    pub fn maybe_free_party(&mut self, p: Token) {
        if self.parties.get(p).is_some_and(|o| o.free_after_ops && o.ops == 0 && !o.queued) {
            self.remove_party(p);
        }
    }

    /// MiniportHaltEx starts: no new AFs, SAPs, calls. Fills `out` with the AFs to notify (the
    /// AF table holds at most 8) and returns how many.
    pub fn begin_halt(&mut self, out: &mut [Option<N::AfHandle>; 8]) -> usize {
        self.halting = true;
        self.abort_calls = true;
        let mut n = 0;
        for i in 0..self.afs.capacity() {
            let Some(t) = self.afs.token_at(i) else { continue };
            let Some(a) = self.afs.get_mut(t) else { continue };
            if a.notified {
                continue;
            }
            if let Some(slot) = out.get_mut(n) {
                a.notified = true;
                *slot = Some(a.handle);
                n += 1;
            }
        }
        n
    }
}
