//! The NDIS surface in Rust terms: [`NdisStatus`], the contexts the driver issues, call and media
//! parameters, and the [`Ndis`] trait — every NDIS function the driver calls.
//!
//! `windows/` implements [`Ndis`] over FFI (the `NdisMCm*` close-family names are macros over
//! `NdisCm*` in the WDK's ndis.h, so it binds the `NdisCm*` symbols); the lab implements it with
//! the emulated NDIS and its verifier. The core is generic over it, so it is monomorphized: no
//! dynamic dispatch in the kernel.

mod context;
mod params;
mod status;

pub use context::{AfContext, PartyContext, SapContext, Token, VcContext};
pub use params::{
    AalType, AtmAddress, AtmAddressType, AtmFlowParameters, AtmMediaParameters, CO_ADDRESS_FAMILY_PROXY,
    CO_ADDRESS_FAMILY_Q2931, CallParameters, CloseData, CoAddressFamily, Sap, ServiceCategory, VpiVci, call_flags,
    media_flags,
};
pub use status::NdisStatus;

use core::fmt::Debug;
use core::time::Duration;

/// An NDIS handle as the core carries it: opaque, copyable, comparable, and storable in an atomic
/// word (a pointer value on Windows, an id in the lab) so the hot path can read it without a lock.
pub trait Handle: Copy + Eq + Send + Sync + Debug + 'static {
    /// The handle as a machine word.
    fn to_word(self) -> usize;
    /// Back from [`Handle::to_word`]; only ever given words that came from `to_word`.
    fn from_word(word: usize) -> Self;
}

/// `NDIS_LINK_STATE` (the part this driver reports).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    pub connected: bool,
    /// Bits per second, both directions.
    pub speed_bps: u64,
}

/// `NDIS_STATUS_INDICATION` (the part this driver reports).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StatusIndication {
    /// `NDIS_STATUS_LINK_STATE` with an `NDIS_LINK_STATE` payload.
    LinkState(LinkState),
}

/// `NDIS_RECEIVE_FLAGS_*` used with NdisMCoIndicateReceiveNetBufferLists.
pub mod receive_flags {
    pub const DISPATCH_LEVEL: u32 = 0x1;
    pub const RESOURCES: u32 = 0x2;
}

/// `NDIS_SEND_COMPLETE_FLAGS_*`.
pub mod send_complete_flags {
    pub const DISPATCH_LEVEL: u32 = 0x1;
}

/// Every call the driver makes into NDIS.
///
/// IRQL: [`Ndis::cm_register_address_family_ex`] and [`Ndis::cm_notify_close_address_family`] are
/// PASSIVE only; everything else may be called at DISPATCH. Calls that NDIS answers with a
/// callback into a client may re-enter the driver on the same thread (for example
/// NdisMCmDispatchIncomingCloseCall → the client's NdisClCloseCall → ProtocolCmCloseCall): the
/// driver never holds a lock across any of these calls.
pub trait Ndis: Send + Sync + 'static {
    /// `NdisAfHandle`.
    type AfHandle: Handle;
    /// `NdisSapHandle`.
    type SapHandle: Handle;
    /// `NdisVcHandle`.
    type VcHandle: Handle;
    /// `NdisPartyHandle`.
    type PartyHandle: Handle;
    /// The client's own `PCO_CALL_PARAMETERS` of a pended request (MakeCall, AddParty,
    /// ModifyCallQoS), handed back in its completion.
    type ClientParams: Copy + Send + Sync + Debug + 'static;
    /// One `NET_BUFFER_LIST` (a chain is linked through [`Ndis::nbl_next`]).
    type Nbl: Handle;
    /// The control-path lock (`NDIS_SPIN_LOCK` on Windows).
    type RawLock: lock_api::RawMutex + Send + Sync;

    // ---- address family and SAPs -------------------------------------------------------------

    /// NdisMCmRegisterAddressFamilyEx. PASSIVE.
    fn cm_register_address_family_ex(&self, af: &CoAddressFamily) -> NdisStatus;
    /// NdisMCmOpenAddressFamilyComplete (only after ProtocolCmOpenAf returned PENDING).
    fn cm_open_address_family_complete(&self, status: NdisStatus, af: Self::AfHandle, ctx: AfContext);
    /// NdisMCmCloseAddressFamilyComplete.
    fn cm_close_address_family_complete(&self, status: NdisStatus, af: Self::AfHandle);
    /// NdisMCmNotifyCloseAddressFamily. PASSIVE. PENDING means ProtocolCmNotifyCloseAfComplete
    /// follows.
    fn cm_notify_close_address_family(&self, af: Self::AfHandle) -> NdisStatus;
    /// NdisMCmRegisterSapComplete.
    fn cm_register_sap_complete(&self, status: NdisStatus, sap: Self::SapHandle, ctx: SapContext);
    /// NdisMCmDeregisterSapComplete.
    fn cm_deregister_sap_complete(&self, status: NdisStatus, sap: Self::SapHandle);

    // ---- VCs ------------------------------------------------------------------------------------

    /// NdisMCmCreateVc: the client's ProtocolCoCreateVc runs before it returns.
    fn cm_create_vc(&self, af: Self::AfHandle, ctx: VcContext) -> Result<Self::VcHandle, NdisStatus>;
    /// NdisMCmDeleteVc (only for a VC the driver created): calls the client's ProtocolCoDeleteVc.
    fn cm_delete_vc(&self, vc: Self::VcHandle) -> NdisStatus;
    /// NdisMCmActivateVc.
    fn cm_activate_vc(&self, vc: Self::VcHandle, params: &CallParameters) -> NdisStatus;
    /// NdisMCmDeactivateVc: SUCCESS, or NOT_ACCEPTED when already inactive.
    fn cm_deactivate_vc(&self, vc: Self::VcHandle) -> NdisStatus;

    // ---- calls and parties ---------------------------------------------------------------------

    /// NdisMCmMakeCallComplete (NdisCmMakeCallComplete).
    fn cm_make_call_complete(
        &self,
        status: NdisStatus,
        vc: Self::VcHandle,
        party: Option<Self::PartyHandle>,
        party_ctx: Option<PartyContext>,
        client: Self::ClientParams,
        params: &CallParameters,
    );
    /// NdisMCmDispatchIncomingCall: SUCCESS (accepted now), PENDING (ProtocolCmIncomingCallComplete
    /// follows) or a rejection.
    fn cm_dispatch_incoming_call(
        &self,
        sap: Self::SapHandle,
        vc: Self::VcHandle,
        params: &CallParameters,
    ) -> NdisStatus;
    /// NdisMCmDispatchCallConnected.
    fn cm_dispatch_call_connected(&self, vc: Self::VcHandle);
    /// NdisMCmCloseCallComplete (NdisCmCloseCallComplete). Never PENDING.
    fn cm_close_call_complete(&self, status: NdisStatus, vc: Self::VcHandle, party: Option<Self::PartyHandle>);
    /// NdisMCmDispatchIncomingCloseCall (NdisCmDispatchIncomingCloseCall).
    fn cm_dispatch_incoming_close_call(&self, status: NdisStatus, vc: Self::VcHandle, data: &[u8]);
    /// NdisMCmAddPartyComplete.
    fn cm_add_party_complete(
        &self,
        status: NdisStatus,
        party: Self::PartyHandle,
        party_ctx: Option<PartyContext>,
        client: Self::ClientParams,
        params: &CallParameters,
    );
    /// NdisMCmDropPartyComplete.
    fn cm_drop_party_complete(&self, status: NdisStatus, party: Self::PartyHandle);
    /// NdisMCmDispatchIncomingDropParty (non-last parties only).
    fn cm_dispatch_incoming_drop_party(&self, status: NdisStatus, party: Self::PartyHandle, data: &[u8]);
    /// NdisMCmModifyCallQoSComplete.
    fn cm_modify_call_qos_complete(
        &self,
        status: NdisStatus,
        vc: Self::VcHandle,
        client: Self::ClientParams,
        params: &CallParameters,
    );

    // ---- data and status -----------------------------------------------------------------------

    /// NdisMCoSendNetBufferListsComplete for the chain starting at `nbls`.
    fn co_send_net_buffer_lists_complete(&self, vc: Self::VcHandle, nbls: Self::Nbl, flags: u32);
    /// NdisMCoIndicateReceiveNetBufferLists for the chain starting at `nbls`.
    fn co_indicate_receive_net_buffer_lists(&self, vc: Self::VcHandle, nbls: Self::Nbl, count: u32, flags: u32);
    /// NdisMCoIndicateStatusEx; `None` = to every binding.
    fn co_indicate_status_ex(&self, vc: Option<Self::VcHandle>, indication: StatusIndication);

    // ---- NET_BUFFER_LIST access ------------------------------------------------------------------

    /// `NET_BUFFER_LIST_NEXT_NBL`.
    fn nbl_next(&self, nbl: Self::Nbl) -> Option<Self::Nbl>;
    /// Sets `NET_BUFFER_LIST_NEXT_NBL`.
    fn nbl_set_next(&self, nbl: Self::Nbl, next: Option<Self::Nbl>);
    /// Sets `NET_BUFFER_LIST_STATUS`.
    fn nbl_set_status(&self, nbl: Self::Nbl, status: NdisStatus);
    /// Number of NET_BUFFERs (frames) in the NBL.
    fn nbl_frame_count(&self, nbl: Self::Nbl) -> usize;
    /// DataLength of frame `i`.
    fn nbl_frame_len(&self, nbl: Self::Nbl, i: usize) -> usize;
    /// Copies frame `i` into `dst` (at most `dst.len()` octets); returns the octets copied.
    fn nbl_copy_frame(&self, nbl: Self::Nbl, i: usize, dst: &mut [u8]) -> usize;
    /// A receive NBL from the driver's preallocated pool holding a copy of `data`, with `tag`
    /// stored in its MiniportReserved area; `None` when the pool is empty.
    fn rx_nbl_alloc(&self, tag: usize, data: &[u8]) -> Option<Self::Nbl>;
    /// The tag given to [`Ndis::rx_nbl_alloc`].
    fn rx_nbl_tag(&self, nbl: Self::Nbl) -> usize;
    /// Returns a receive NBL (and its buffer) to the pool.
    fn rx_nbl_free(&self, nbl: Self::Nbl);

    // ---- time, timers, deferred work ---------------------------------------------------------------

    /// Monotonic time (interrupt time on Windows, virtual time in the lab).
    fn now(&self) -> Duration;
    /// (Re)arms the adapter's one timer to call `Adapter::timer` at `due`, replacing any earlier
    /// setting (NdisSetTimerObject).
    fn set_timer(&self, due: Duration);
    /// Asks for `Adapter::dpc` to run soon at DISPATCH (KeInsertQueueDpc).
    fn request_dpc(&self);
    /// The processor (lab: thread) the caller runs on; used to tell a re-entrant call from a
    /// concurrent one.
    fn current_cpu(&self) -> u32;
}
