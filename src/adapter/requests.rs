//! The call-manager entry points (ProtocolCm* / ProtocolCo*) and MiniportCoOidRequest.

use super::*;

impl<N: Ndis, D: Device> Adapter<N, D> {
    /// ProtocolCmOpenAf (always completes synchronously).
    pub fn protocol_cm_open_af(&self, af: &CoAddressFamily, ndis_af: N::AfHandle) -> Result<AfContext, NdisStatus> {
        self.with_control(|c| c.open_af(af, ndis_af))
    }

    /// ProtocolCmCloseAf: SUCCESS when nothing is left on the AF, else PENDING until the last SAP
    /// and VC are gone (then NdisMCmCloseAddressFamilyComplete).
    pub fn protocol_cm_close_af(&self, af: AfContext) -> NdisStatus {
        let st = self.with_control(|c| c.close_af(af));
        self.after_control();
        st
    }

    /// ProtocolCmRegisterSap (always completes synchronously).
    pub fn protocol_cm_register_sap(
        &self,
        af: AfContext,
        sap: &Sap,
        ndis_sap: N::SapHandle,
    ) -> Result<SapContext, NdisStatus> {
        self.with_control(|c| c.register_sap(af, sap, ndis_sap))
    }

    /// ProtocolCmDeregisterSap (always completes synchronously).
    pub fn protocol_cm_deregister_sap(&self, sap: SapContext) -> NdisStatus {
        let st = self.with_control(|c| c.deregister_sap(sap));
        self.after_control();
        st
    }

    /// ProtocolCoCreateVc (never PENDING).
    pub fn protocol_co_create_vc(&self, af: AfContext, ndis_vc: N::VcHandle) -> Result<VcContext, NdisStatus> {
        let r = self.with_control(|c| c.create_vc(af, ndis_vc));
        if let Ok(vc) = r
            && let Some(p) = self.paths.get(vc.0.index())
        {
            p.generation.store(vc.0.generation(), Ordering::Release);
            p.handle.store(ndis_vc.to_word(), Ordering::Release);
        }
        r
    }

    /// ProtocolCoDeleteVc (never PENDING; NOT_ACCEPTED while a call is on the VC).
    pub fn protocol_co_delete_vc(&self, vc: VcContext) -> NdisStatus {
        let st = self.with_control(|c| c.delete_vc(self, vc));
        self.after_control();
        st
    }

    /// ProtocolCmMakeCall. A pended call completes through NdisMCmMakeCallComplete with `client`.
    pub fn protocol_cm_make_call(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: N::ClientParams,
        ndis_party: Option<N::PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        let r = self.with_control(|c| c.make_call(self, vc, params, client, ndis_party));
        self.after_control();
        r
    }

    /// ProtocolCmCloseCall: SUCCESS when the close completes at once, PENDING when the network
    /// release (or the data path) is outstanding — exactly one NdisMCmCloseCallComplete follows —
    /// or an error (INVALID_DATA: UNI 3.1 cannot carry CloseData; INVALID_LENGTH: CloseData larger
    /// than the UNI 4.0 user-user IE; FAILURE: more than one party remains).
    pub fn protocol_cm_close_call(
        &self,
        vc: VcContext,
        party: Option<PartyContext>,
        data: CloseData<'_>,
    ) -> NdisStatus {
        let path = self.paths.get(vc.0.index()).filter(|p| p.is(vc.0));
        if let Some(p) = path {
            p.flags.fetch_or(flag::CLOSE_CALL, Ordering::AcqRel);
        }
        let outcome = self.with_control(|c| c.close_call(self, vc, party, data));
        // After the close started no indication may begin on this VC: wait out one in progress
        // on another CPU.
        self.wait_rx_quiet(vc.0.index());
        let st = match outcome {
            CloseOutcome::Status(s) => s,
            CloseOutcome::DeactivateThenSuccess(h) => {
                let _ = self.ndis.cm_deactivate_vc(h);
                NdisStatus::SUCCESS
            }
        };
        self.after_control();
        // The client's NdisClCloseCall returns now and it may not send after it: a sender that
        // still comes is late, completed with CLOSING at once, and the drain does not wait for
        // it (a client flooding a closed VC cannot keep it open).
        if let Some(p) = path {
            if !st.is_error() {
                p.rundown.seal();
            }
            let f = p.flags.fetch_and(!flag::CLOSE_CALL, Ordering::AcqRel);
            if f & flag::TEARDOWN != 0 {
                // The teardown may have been waiting for this return.
                self.teardown.mark(vc.0.index());
                self.ndis.request_dpc();
            }
        }
        st
    }

    /// ProtocolCmIncomingCallComplete.
    pub fn protocol_cm_incoming_call_complete(&self, status: NdisStatus, vc: VcContext, params: &CallParameters) {
        self.with_control(|c| c.incoming_call_complete(self, status, vc, params));
        self.after_control();
    }

    /// ProtocolCmAddParty.
    pub fn protocol_cm_add_party(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: N::ClientParams,
        ndis_party: N::PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus> {
        let r = self.with_control(|c| c.add_party(self, vc, params, client, ndis_party));
        self.after_control();
        r
    }

    /// ProtocolCmDropParty: FAILURE for the last party (it leaves through NdisClCloseCall).
    pub fn protocol_cm_drop_party(&self, party: PartyContext, data: CloseData<'_>) -> NdisStatus {
        let st = self.with_control(|c| c.drop_party(self, party, data));
        self.after_control();
        st
    }

    /// ProtocolCmModifyCallQoS: not supported (UNI 3.1 has no call modification).
    pub fn protocol_cm_modify_call_qos(
        &self,
        vc: VcContext,
        params: &CallParameters,
        client: N::ClientParams,
    ) -> NdisStatus {
        let _ = (vc, params, client);
        NdisStatus::NOT_SUPPORTED
    }

    /// ProtocolCoOidRequest (requests that carry an AF handle): answered like MiniportCoOidRequest.
    pub fn protocol_co_oid_request(
        &self,
        af: AfContext,
        vc: Option<VcContext>,
        party: Option<PartyContext>,
        req: &mut OidRequest<'_>,
    ) -> NdisStatus {
        let _ = (af, party);
        self.miniport_co_oid_request(vc, req)
    }

    /// ProtocolCoOidRequestComplete (the driver never sends OID requests to clients).
    pub fn protocol_co_oid_request_complete(&self, af: AfContext, status: NdisStatus) {
        let _ = (af, status);
    }

    /// ProtocolCmActivateVcComplete: NDIS never calls it for an MCM; a no-op.
    pub fn protocol_cm_activate_vc_complete(&self, status: NdisStatus, vc: VcContext) {
        let _ = (status, vc);
    }

    /// ProtocolCmDeactivateVcComplete: NDIS never calls it for an MCM; a no-op.
    pub fn protocol_cm_deactivate_vc_complete(&self, status: NdisStatus, vc: VcContext) {
        let _ = (status, vc);
    }

    /// ProtocolCmNotifyCloseAfComplete: the client has closed the AF (its CloseAf already ran).
    pub fn protocol_cm_notify_close_af_complete(&self, status: NdisStatus, af: AfContext) {
        let _ = (status, af);
    }

    /// MiniportCoOidRequest: answers every OID in [`oid::SUPPORTED`] (queries only; a set of one
    /// is NOT_SUPPORTED, any other OID INVALID_OID). A buffer shorter than the answer gets
    /// BUFFER_TOO_SHORT with BytesNeeded set and nothing written.
    pub fn miniport_co_oid_request(&self, vc: Option<VcContext>, req: &mut OidRequest<'_>) -> NdisStatus {
        use oid::value::*;
        let _ = vc;
        req.bytes_done = 0;
        req.bytes_needed = 0;
        if !oid::SUPPORTED.contains(&req.oid) {
            return NdisStatus::INVALID_OID;
        }
        if !req.is_query {
            return NdisStatus::NOT_SUPPORTED;
        }
        let u32_le = |v: u64| u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes();
        let mut out = [0u8; 8 * CONTROL_COUNTERS.len() + 4 * oid::SUPPORTED.len()];
        let mut put = |parts: &[&[u8]]| {
            let mut n = 0;
            for p in parts {
                if let Some(dst) = out.get_mut(n..n + p.len()) {
                    dst.copy_from_slice(p);
                    n += p.len();
                }
            }
            n
        };
        let link_100bps = u32_le(self.config.link_speed_bps / 100);
        let answer: &[u8] = match req.oid {
            oid::GEN_SUPPORTED_LIST => {
                let mut n = 0;
                for (dst, o) in out.chunks_exact_mut(4).zip(oid::SUPPORTED) {
                    dst.copy_from_slice(&o.to_le_bytes());
                    n += 4;
                }
                out.get(..n).unwrap_or(&[])
            }
            oid::GEN_HARDWARE_STATUS => &NDIS_HARDWARE_STATUS_READY.to_le_bytes(),
            oid::GEN_MEDIA_SUPPORTED | oid::GEN_MEDIA_IN_USE => &NDIS_MEDIUM_ATM.to_le_bytes(),
            // NDIS_CO_LINK_SPEED { Outbound, Inbound }, in units of 100 bit/s.
            oid::GEN_CO_LINK_SPEED => {
                let n = put(&[&link_100bps, &link_100bps]);
                out.get(..n).unwrap_or(&[])
            }
            oid::GEN_VENDOR_DESCRIPTION => VENDOR_DESCRIPTION,
            oid::GEN_DRIVER_VERSION => &NDIS_VERSION.to_le_bytes(),
            oid::GEN_CO_MEDIA_CONNECT_STATUS => {
                let up = self.control.lock().phy_up();
                &(if up { NDIS_MEDIA_STATE_CONNECTED } else { NDIS_MEDIA_STATE_DISCONNECTED }).to_le_bytes()
            }
            // ATM_VC_RATES_SUPPORTED { MinCellRate, MaxCellRate } in cells/s.
            oid::ATM_SUPPORTED_VC_RATES => {
                let n = put(&[&0u32.to_le_bytes(), &u32_le(self.config.link_speed_bps / CELL_BITS)]);
                out.get(..n).unwrap_or(&[])
            }
            oid::ATM_SUPPORTED_SERVICE_CATEGORY => &SERVICE_CATEGORIES.to_le_bytes(),
            oid::ATM_SUPPORTED_AAL_TYPES => &AAL_TYPES.to_le_bytes(),
            // The End System Identifier (6 octets), what ILMI address registration uses.
            oid::ATM_HW_CURRENT_ADDRESS => &self.config.esi,
            // VCs that can be active at once: a VC slot and a ring from the pool each.
            oid::ATM_MAX_ACTIVE_VCS => &u32_le(self.config.max_vcs.min(self.config.max_active_vcs) as u64),
            oid::ATM_MAX_AAL5_PACKET_SIZE => &u32_le(MAX_FRAME as u64),
            oid::ATMMCM_CONTROL_COUNTERS => {
                let s = self.control.lock().stats;
                let v = [
                    s.malformed_in,
                    s.unknown_cref,
                    s.messages_lost,
                    s.internal_errors,
                    s.restart_unanswered,
                    s.restart_clearing_overdue,
                    s.restart_refused,
                    s.vcs_out_of_service,
                ];
                let mut n = 0;
                for (dst, x) in out.chunks_exact_mut(8).zip(v) {
                    dst.copy_from_slice(&x.to_le_bytes());
                    n += 8;
                }
                out.get(..n).unwrap_or(&[])
            }
            _ => return NdisStatus::INVALID_OID,
        };
        match req.buffer.get_mut(..answer.len()) {
            Some(dst) => {
                dst.copy_from_slice(answer);
                req.bytes_done = answer.len();
                NdisStatus::SUCCESS
            }
            None => {
                req.bytes_needed = answer.len();
                NdisStatus::BUFFER_TOO_SHORT
            }
        }
    }
}
