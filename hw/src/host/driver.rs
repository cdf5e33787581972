//! The driver as the emulated NDIS sees it: an object-safe mirror of the adapter's entry points
//! with the lab's concrete handle types. The host holds a `Weak<dyn Driver>` (the adapter owns an
//! [`EmuNdis`](super::EmuNdis) clone, so a strong reference would be a cycle).

use atmmcm::adapter::OidRequest;
use atmmcm::ndis::{AfContext, CallParameters, CloseData, CoAddressFamily, PartyContext, Sap, SapContext, VcContext};
use atmmcm::{Adapter, NdisStatus};

use super::EmuNdis;
use super::handles::{AfHandle, ClientParams, Nbl, PartyHandle, SapHandle, VcHandle};

/// Every entry point NDIS calls in the driver (see `atmmcm::Adapter` for each one's contract).
pub trait Driver: Send + Sync {
    /// End of MiniportInitializeEx (AF registration, link start).
    fn start(&self) -> NdisStatus;
    /// MiniportHaltEx; `idle` runs while the driver waits for the clients' teardown.
    fn halt(&self, idle: &mut dyn FnMut());
    fn pause(&self) -> NdisStatus;
    fn restart(&self) -> NdisStatus;
    fn shutdown(&self);
    fn surprise_removed(&self);
    fn dpc(&self);
    fn timer(&self);
    fn miniport_co_send_net_buffer_lists(&self, vc: VcContext, nbls: Nbl, flags: u32);
    fn miniport_return_net_buffer_lists(&self, nbls: Nbl, flags: u32);
    fn miniport_co_oid_request(&self, vc: Option<VcContext>, req: &mut OidRequest<'_>) -> NdisStatus;
    fn protocol_cm_open_af(&self, af: &CoAddressFamily, ndis_af: AfHandle) -> Result<AfContext, NdisStatus>;
    fn protocol_cm_close_af(&self, af: AfContext) -> NdisStatus;
    fn protocol_cm_register_sap(&self, af: AfContext, sap: &Sap, ndis_sap: SapHandle)
    -> Result<SapContext, NdisStatus>;
    fn protocol_cm_deregister_sap(&self, sap: SapContext) -> NdisStatus;
    fn protocol_co_create_vc(&self, af: AfContext, ndis_vc: VcHandle) -> Result<VcContext, NdisStatus>;
    fn protocol_co_delete_vc(&self, vc: VcContext) -> NdisStatus;
    fn protocol_cm_make_call(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: ClientParams,
        ndis_party: Option<PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>);
    fn protocol_cm_close_call(&self, vc: VcContext, party: Option<PartyContext>, data: CloseData<'_>) -> NdisStatus;
    fn protocol_cm_incoming_call_complete(&self, status: NdisStatus, vc: VcContext, params: &CallParameters);
    fn protocol_cm_add_party(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: ClientParams,
        ndis_party: PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus>;
    fn protocol_cm_drop_party(&self, party: PartyContext, data: CloseData<'_>) -> NdisStatus;
    fn protocol_cm_modify_call_qos(&self, vc: VcContext, params: &CallParameters, client: ClientParams) -> NdisStatus;
    fn protocol_co_oid_request(
        &self,
        af: AfContext,
        vc: Option<VcContext>,
        party: Option<PartyContext>,
        req: &mut OidRequest<'_>,
    ) -> NdisStatus;
    fn protocol_cm_notify_close_af_complete(&self, status: NdisStatus, af: AfContext);
}

impl<D: atmmcm::nic::Device> Driver for Adapter<EmuNdis, D> {
    fn start(&self) -> NdisStatus {
        Adapter::start(self)
    }
    fn halt(&self, idle: &mut dyn FnMut()) {
        Adapter::halt(self, idle)
    }
    fn pause(&self) -> NdisStatus {
        Adapter::pause(self)
    }
    fn restart(&self) -> NdisStatus {
        Adapter::restart(self)
    }
    fn shutdown(&self) {
        Adapter::shutdown(self)
    }
    fn surprise_removed(&self) {
        Adapter::surprise_removed(self)
    }
    fn dpc(&self) {
        Adapter::dpc(self)
    }
    fn timer(&self) {
        Adapter::timer(self)
    }
    fn miniport_co_send_net_buffer_lists(&self, vc: VcContext, nbls: Nbl, flags: u32) {
        Adapter::miniport_co_send_net_buffer_lists(self, vc, nbls, flags)
    }
    fn miniport_return_net_buffer_lists(&self, nbls: Nbl, flags: u32) {
        Adapter::miniport_return_net_buffer_lists(self, nbls, flags)
    }
    fn miniport_co_oid_request(&self, vc: Option<VcContext>, req: &mut OidRequest<'_>) -> NdisStatus {
        Adapter::miniport_co_oid_request(self, vc, req)
    }
    fn protocol_cm_open_af(&self, af: &CoAddressFamily, ndis_af: AfHandle) -> Result<AfContext, NdisStatus> {
        Adapter::protocol_cm_open_af(self, af, ndis_af)
    }
    fn protocol_cm_close_af(&self, af: AfContext) -> NdisStatus {
        Adapter::protocol_cm_close_af(self, af)
    }
    fn protocol_cm_register_sap(
        &self,
        af: AfContext,
        sap: &Sap,
        ndis_sap: SapHandle,
    ) -> Result<SapContext, NdisStatus> {
        Adapter::protocol_cm_register_sap(self, af, sap, ndis_sap)
    }
    fn protocol_cm_deregister_sap(&self, sap: SapContext) -> NdisStatus {
        Adapter::protocol_cm_deregister_sap(self, sap)
    }
    fn protocol_co_create_vc(&self, af: AfContext, ndis_vc: VcHandle) -> Result<VcContext, NdisStatus> {
        Adapter::protocol_co_create_vc(self, af, ndis_vc)
    }
    fn protocol_co_delete_vc(&self, vc: VcContext) -> NdisStatus {
        Adapter::protocol_co_delete_vc(self, vc)
    }
    fn protocol_cm_make_call(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: ClientParams,
        ndis_party: Option<PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        Adapter::protocol_cm_make_call(self, vc, params, client, ndis_party)
    }
    fn protocol_cm_close_call(&self, vc: VcContext, party: Option<PartyContext>, data: CloseData<'_>) -> NdisStatus {
        Adapter::protocol_cm_close_call(self, vc, party, data)
    }
    fn protocol_cm_incoming_call_complete(&self, status: NdisStatus, vc: VcContext, params: &CallParameters) {
        Adapter::protocol_cm_incoming_call_complete(self, status, vc, params)
    }
    fn protocol_cm_add_party(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: ClientParams,
        ndis_party: PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus> {
        Adapter::protocol_cm_add_party(self, vc, params, client, ndis_party)
    }
    fn protocol_cm_drop_party(&self, party: PartyContext, data: CloseData<'_>) -> NdisStatus {
        Adapter::protocol_cm_drop_party(self, party, data)
    }
    fn protocol_cm_modify_call_qos(&self, vc: VcContext, params: &CallParameters, client: ClientParams) -> NdisStatus {
        Adapter::protocol_cm_modify_call_qos(self, vc, params, client)
    }
    fn protocol_co_oid_request(
        &self,
        af: AfContext,
        vc: Option<VcContext>,
        party: Option<PartyContext>,
        req: &mut OidRequest<'_>,
    ) -> NdisStatus {
        Adapter::protocol_co_oid_request(self, af, vc, party, req)
    }
    fn protocol_cm_notify_close_af_complete(&self, status: NdisStatus, af: AfContext) {
        Adapter::protocol_cm_notify_close_af_complete(self, status, af)
    }
}
