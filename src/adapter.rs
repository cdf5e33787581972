//! The adapter: wires the pieces together (MiniportInitializeEx .. MiniportHaltEx) and carries
//! every entry point NDIS calls. `windows/` wraps each method in an `extern "system"`
//! trampoline; the lab's emulated NDIS calls them directly, from several threads where NDIS would.

use crate::config::Config;
use crate::ndis::{
    AfContext, CallParameters, CloseData, CoAddressFamily, Ndis, NdisStatus, PartyContext, Sap, SapContext,
    VcContext,
};
use crate::nic::Device;

/// An OID request as the core sees it (`NDIS_OID_REQUEST`, the parts used).
#[derive(Debug)]
pub struct OidRequest<'a> {
    pub oid: u32,
    /// Query: the output buffer. Set: the input.
    pub buffer: &'a mut [u8],
    pub is_query: bool,
    /// Octets written (query) or read (set).
    pub bytes_done: usize,
    /// Octets needed when the buffer was too short.
    pub bytes_needed: usize,
}

/// One adapter (one NIC).
pub struct Adapter<N: Ndis, D: Device> {
    ndis: N,
    device: D,
    config: Config,
}

impl<N: Ndis, D: Device> Adapter<N, D> {
    // ---- miniport ---------------------------------------------------------------------------------

    /// MiniportInitializeEx, up to (not including) the address-family registration. All of the
    /// adapter's memory is allocated here; nothing later allocates.
    pub fn initialize(ndis: N, device: D, config: Config) -> Result<Self, NdisStatus> {
        Ok(Adapter { ndis, device, config })
    }

    /// The end of MiniportInitializeEx (PASSIVE): NdisMCmRegisterAddressFamilyEx and signalling
    /// link start.
    pub fn start(&self) -> NdisStatus {
        NdisStatus::NOT_SUPPORTED
    }

    /// MiniportHaltEx (PASSIVE): NdisMCmNotifyCloseAddressFamily first, then waits for the
    /// client-driven teardown.
    pub fn halt(&self) {}

    /// MiniportPause.
    pub fn pause(&self) -> NdisStatus {
        NdisStatus::SUCCESS
    }

    /// MiniportRestart.
    pub fn restart(&self) -> NdisStatus {
        NdisStatus::SUCCESS
    }

    /// MiniportShutdownEx: quiet the NIC; no NDIS calls.
    pub fn shutdown(&self) {}

    /// MiniportDevicePnPEventNotify with NdisDevicePnPEventSurpriseRemoved.
    pub fn surprise_removed(&self) {}

    /// The interrupt DPC (and any DPC requested with `Ndis::request_dpc`).
    pub fn dpc(&self) {}

    /// The adapter timer fired.
    pub fn timer(&self) {}

    /// MiniportCoSendNetBufferLists.
    pub fn miniport_co_send_net_buffer_lists(&self, vc: VcContext, nbls: N::Nbl, flags: u32) {
        let _ = (vc, nbls, flags);
    }

    /// MiniportReturnNetBufferLists.
    pub fn miniport_return_net_buffer_lists(&self, nbls: N::Nbl, flags: u32) {
        let _ = (nbls, flags);
    }

    /// MiniportCoOidRequest.
    pub fn miniport_co_oid_request(&self, vc: Option<VcContext>, req: &mut OidRequest<'_>) -> NdisStatus {
        let _ = (vc, req);
        NdisStatus::NOT_SUPPORTED
    }

    // ---- call manager -------------------------------------------------------------------------------

    /// ProtocolCmOpenAf.
    pub fn protocol_cm_open_af(&self, af: &CoAddressFamily, ndis_af: N::AfHandle) -> Result<AfContext, NdisStatus> {
        let _ = (af, ndis_af);
        Err(NdisStatus::NOT_SUPPORTED)
    }

    /// ProtocolCmCloseAf.
    pub fn protocol_cm_close_af(&self, af: AfContext) -> NdisStatus {
        let _ = af;
        NdisStatus::NOT_SUPPORTED
    }

    /// ProtocolCmRegisterSap.
    pub fn protocol_cm_register_sap(
        &self,
        af: AfContext,
        sap: &Sap,
        ndis_sap: N::SapHandle,
    ) -> Result<SapContext, NdisStatus> {
        let _ = (af, sap, ndis_sap);
        Err(NdisStatus::NOT_SUPPORTED)
    }

    /// ProtocolCmDeregisterSap.
    pub fn protocol_cm_deregister_sap(&self, sap: SapContext) -> NdisStatus {
        let _ = sap;
        NdisStatus::NOT_SUPPORTED
    }

    /// ProtocolCoCreateVc (never PENDING).
    pub fn protocol_co_create_vc(&self, af: AfContext, ndis_vc: N::VcHandle) -> Result<VcContext, NdisStatus> {
        let _ = (af, ndis_vc);
        Err(NdisStatus::NOT_SUPPORTED)
    }

    /// ProtocolCoDeleteVc (never PENDING).
    pub fn protocol_co_delete_vc(&self, vc: VcContext) -> NdisStatus {
        let _ = vc;
        NdisStatus::NOT_SUPPORTED
    }

    /// ProtocolCmMakeCall. `params` may be updated in place (assigned VPI/VCI) for a synchronous
    /// completion; a pended one completes through NdisMCmMakeCallComplete with `client`.
    pub fn protocol_cm_make_call(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: N::ClientParams,
        ndis_party: Option<N::PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        let _ = (vc, params, client, ndis_party);
        (NdisStatus::NOT_SUPPORTED, None)
    }

    /// ProtocolCmCloseCall.
    pub fn protocol_cm_close_call(&self, vc: VcContext, party: Option<PartyContext>, data: CloseData<'_>) -> NdisStatus {
        let _ = (vc, party, data);
        NdisStatus::NOT_SUPPORTED
    }

    /// ProtocolCmIncomingCallComplete.
    pub fn protocol_cm_incoming_call_complete(&self, status: NdisStatus, vc: VcContext, params: &CallParameters) {
        let _ = (status, vc, params);
    }

    /// ProtocolCmAddParty.
    pub fn protocol_cm_add_party(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: N::ClientParams,
        ndis_party: N::PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus> {
        let _ = (vc, params, client, ndis_party);
        Err(NdisStatus::NOT_SUPPORTED)
    }

    /// ProtocolCmDropParty.
    pub fn protocol_cm_drop_party(&self, party: PartyContext, data: CloseData<'_>) -> NdisStatus {
        let _ = (party, data);
        NdisStatus::NOT_SUPPORTED
    }

    /// ProtocolCmModifyCallQoS.
    pub fn protocol_cm_modify_call_qos(
        &self,
        vc: VcContext,
        params: &CallParameters,
        client: N::ClientParams,
    ) -> NdisStatus {
        let _ = (vc, params, client);
        NdisStatus::NOT_SUPPORTED
    }

    /// ProtocolCoOidRequest (requests that carry an AF handle).
    pub fn protocol_co_oid_request(
        &self,
        af: AfContext,
        vc: Option<VcContext>,
        party: Option<PartyContext>,
        req: &mut OidRequest<'_>,
    ) -> NdisStatus {
        let _ = (af, vc, party, req);
        NdisStatus::NOT_SUPPORTED
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

    /// ProtocolCmNotifyCloseAfComplete.
    pub fn protocol_cm_notify_close_af_complete(&self, status: NdisStatus, af: AfContext) {
        let _ = (status, af);
    }

    /// The configuration the adapter runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    #[doc(hidden)]
    pub fn parts(&self) -> (&N, &D) {
        (&self.ndis, &self.device)
    }
}
