//! The call-manager trampolines (`NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS`): one
//! `extern "system"` function per PROTOCOL_CM_* / PROTOCOL_CO_* role type, each decoding the
//! context words ([`super::ctx`]), converting the C parameters ([`super::cparams`]) and calling
//! the matching [`Adapter`](crate::Adapter) method.
//!
//! `CloseData`/`Size` pairs go through [`CloseData::from_raw`]: no slice is built over a `Size`
//! larger than [`CloseData::MAX_SLICE`].

use super::cparams;
use super::ctx;
use super::ffi::*;
use super::miniport::{by_word, slot_of, with_oid_request};
use super::win_ndis::{ClientParams, Handle};
use crate::ndis::{
    AalType, AfContext, AtmFlowParameters, AtmMediaParameters, CallParameters, CloseData, NdisStatus, PartyContext,
    SapContext, VcContext, VpiVci,
};

/// The handler table MiniportSetOptions installs. Every handler is set (an MCM must).
pub fn handlers() -> NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS {
    NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS {
        Header: NDIS_OBJECT_HEADER::new(
            NDIS_OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS,
            NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
            NDIS_SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
        ),
        Reserved: 0,
        CmCreateVcHandler: Some(protocol_co_create_vc),
        CmDeleteVcHandler: Some(protocol_co_delete_vc),
        CmOpenAfHandler: Some(protocol_cm_open_af),
        CmCloseAfHandler: Some(protocol_cm_close_af),
        CmRegisterSapHandler: Some(protocol_cm_register_sap),
        CmDeregisterSapHandler: Some(protocol_cm_deregister_sap),
        CmMakeCallHandler: Some(protocol_cm_make_call),
        CmCloseCallHandler: Some(protocol_cm_close_call),
        CmIncomingCallCompleteHandler: Some(protocol_cm_incoming_call_complete),
        CmAddPartyHandler: Some(protocol_cm_add_party),
        CmDropPartyHandler: Some(protocol_cm_drop_party),
        CmActivateVcCompleteHandler: Some(protocol_cm_activate_vc_complete),
        CmDeactivateVcCompleteHandler: Some(protocol_cm_deactivate_vc_complete),
        CmModifyCallQoSHandler: Some(protocol_cm_modify_call_qos),
        CmOidRequestHandler: Some(protocol_co_oid_request),
        CmOidRequestCompleteHandler: Some(protocol_co_oid_request_complete),
        CmNotifyCloseAddressFamilyCompleteHandler: Some(protocol_cm_notify_close_af_complete),
    }
}

const BAD_CONTEXT: NDIS_STATUS = NdisStatus::INVALID_PARAMETER.0;

/// Writes an issued context into NDIS's out-parameter as an encoded word.
///
/// # Safety
/// `out` is NULL or NDIS's writable out-parameter.
unsafe fn put(out: PNDIS_HANDLE, slot: usize, token: usize) -> bool {
    let Some(word) = ctx::encode(slot, token) else {
        return false;
    };
    // SAFETY: caller's contract.
    match unsafe { out.as_mut() } {
        Some(o) => {
            *o = word as NDIS_HANDLE;
            true
        }
        None => false,
    }
}

fn slot_index(word: NDIS_HANDLE) -> Option<usize> {
    ctx::decode(word as usize).map(|(s, _)| s)
}

/// `Option` context from an optional word: NULL is `None`; a word that does not decode is an error.
fn opt<T>(word: NDIS_HANDLE, f: impl FnOnce(usize) -> Option<T>) -> Result<Option<T>, NdisStatus> {
    if word.is_null() {
        return Ok(None);
    }
    ctx::decode(word as usize).and_then(|(_, t)| f(t)).map(Some).ok_or(NdisStatus::INVALID_PARAMETER)
}

/// Close data as the core sees it.
///
/// # Safety
/// `data` is NULL or readable for `size` octets (NDIS's contract for ProtocolCmCloseCall /
/// ProtocolCmDropParty); it is only read when `size <= CloseData::MAX_SLICE`.
unsafe fn close_data<'a>(data: PVOID, size: UINT) -> CloseData<'a> {
    let size = size as usize;
    CloseData::from_raw(!data.is_null(), size, || {
        // SAFETY: from_raw calls this only for non-NULL data and 0 < size <= MAX_SLICE.
        unsafe { core::slice::from_raw_parts(data.cast::<u8>(), size) }
    })
}

// ---- address family and SAPs --------------------------------------------------------------------------

/// ProtocolCmOpenAf. For an MCM, CallMgrBindingContext is the MiniportAdapterContext.
unsafe extern "system" fn protocol_cm_open_af(
    binding: NDIS_HANDLE,
    af: PCO_ADDRESS_FAMILY,
    ndis_af: NDIS_HANDLE,
    out: PNDIS_HANDLE,
) -> NDIS_STATUS {
    let Some(slot) = slot_of(binding) else {
        return BAD_CONTEXT;
    };
    let Some(h) = slot.adapter() else {
        return NdisStatus::NOT_ACCEPTED.0;
    };
    let Some(ndis_af) = Handle::from_ptr(ndis_af) else {
        return BAD_CONTEXT;
    };
    // SAFETY: NDIS's address family, valid for the call.
    let Some(family) = (unsafe { cparams::read_af(af) }) else {
        return NdisStatus::INVALID_DATA.0;
    };
    match h.adapter.protocol_cm_open_af(&family, ndis_af) {
        Ok(c) => {
            let i = h.adapter.parts().0.slot();
            // SAFETY: NDIS's out-parameter.
            if unsafe { put(out, i, c.as_usize()) } { NDIS_STATUS_SUCCESS } else { NdisStatus::RESOURCES.0 }
        }
        Err(e) => e.0,
    }
}

unsafe extern "system" fn protocol_cm_close_af(af: NDIS_HANDLE) -> NDIS_STATUS {
    let Some((a, t)) = by_word(af) else { return BAD_CONTEXT };
    let Some(af) = AfContext::from_usize(t) else {
        return BAD_CONTEXT;
    };
    a.protocol_cm_close_af(af).0
}

unsafe extern "system" fn protocol_cm_register_sap(
    af: NDIS_HANDLE,
    sap: PCO_SAP,
    ndis_sap: NDIS_HANDLE,
    out: PNDIS_HANDLE,
) -> NDIS_STATUS {
    let Some((a, t)) = by_word(af) else { return BAD_CONTEXT };
    let (Some(af_ctx), Some(slot)) = (AfContext::from_usize(t), slot_index(af)) else {
        return BAD_CONTEXT;
    };
    let Some(ndis_sap) = Handle::from_ptr(ndis_sap) else {
        return BAD_CONTEXT;
    };
    // SAFETY: NDIS's CO_SAP with SapLength octets.
    let sap = match unsafe { cparams::read_sap(sap) } {
        Ok(s) => s,
        Err(e) => return e.0,
    };
    match a.protocol_cm_register_sap(af_ctx, &sap, ndis_sap) {
        // SAFETY: NDIS's out-parameter.
        Ok(c) => match unsafe { put(out, slot, c.as_usize()) } {
            true => NDIS_STATUS_SUCCESS,
            false => NdisStatus::RESOURCES.0,
        },
        Err(e) => e.0,
    }
}

unsafe extern "system" fn protocol_cm_deregister_sap(sap: NDIS_HANDLE) -> NDIS_STATUS {
    let Some((a, t)) = by_word(sap) else { return BAD_CONTEXT };
    let Some(sap) = SapContext::from_usize(t) else {
        return BAD_CONTEXT;
    };
    a.protocol_cm_deregister_sap(sap).0
}

// ---- VCs ---------------------------------------------------------------------------------------------------

/// ProtocolCoCreateVc (synchronous: never PENDING).
unsafe extern "system" fn protocol_co_create_vc(
    af: NDIS_HANDLE,
    ndis_vc: NDIS_HANDLE,
    out: PNDIS_HANDLE,
) -> NDIS_STATUS {
    let Some((a, t)) = by_word(af) else { return BAD_CONTEXT };
    let (Some(af_ctx), Some(slot)) = (AfContext::from_usize(t), slot_index(af)) else {
        return BAD_CONTEXT;
    };
    let Some(ndis_vc) = Handle::from_ptr(ndis_vc) else {
        return BAD_CONTEXT;
    };
    match a.protocol_co_create_vc(af_ctx, ndis_vc) {
        Ok(vc) => {
            // SAFETY: NDIS's out-parameter.
            if unsafe { put(out, slot, vc.as_usize()) } {
                NDIS_STATUS_SUCCESS
            } else {
                let _ = a.protocol_co_delete_vc(vc);
                NdisStatus::RESOURCES.0
            }
        }
        Err(NdisStatus::PENDING) => NdisStatus::FAILURE.0, // PENDING is forbidden here
        Err(e) => e.0,
    }
}

unsafe extern "system" fn protocol_co_delete_vc(vc: NDIS_HANDLE) -> NDIS_STATUS {
    let Some((a, t)) = by_word(vc) else { return BAD_CONTEXT };
    let Some(vc) = VcContext::from_usize(t) else {
        return BAD_CONTEXT;
    };
    a.protocol_co_delete_vc(vc).0
}

// ---- calls and parties ------------------------------------------------------------------------------------

unsafe extern "system" fn protocol_cm_make_call(
    vc: NDIS_HANDLE,
    params: PCO_CALL_PARAMETERS,
    ndis_party: NDIS_HANDLE,
    out_party: PNDIS_HANDLE,
) -> NDIS_STATUS {
    let Some((a, t)) = by_word(vc) else { return BAD_CONTEXT };
    let (Some(vc), Some(slot)) = (VcContext::from_usize(t), slot_index(vc)) else {
        return BAD_CONTEXT;
    };
    // SAFETY: the client's call parameters, valid until the call completes.
    let mut cp = match unsafe { cparams::read_call_params(params) } {
        Ok(p) => p,
        Err(e) => return e.0,
    };
    let (st, party) = a.protocol_cm_make_call(vc, &mut cp, ClientParams(params as usize), Handle::from_ptr(ndis_party));
    if st == NdisStatus::SUCCESS {
        // SAFETY: as above; a synchronous completion returns the parameters in place.
        unsafe { cparams::write_call_params(params, &cp) };
    }
    if let Some(p) = party {
        // SAFETY: NDIS's optional out-parameter.
        unsafe { put(out_party, slot, p.as_usize()) };
    }
    st.0
}

unsafe extern "system" fn protocol_cm_close_call(
    vc: NDIS_HANDLE,
    party: NDIS_HANDLE,
    data: PVOID,
    size: UINT,
) -> NDIS_STATUS {
    let Some((a, t)) = by_word(vc) else { return BAD_CONTEXT };
    let Some(vc) = VcContext::from_usize(t) else {
        return BAD_CONTEXT;
    };
    let party = match opt(party, PartyContext::from_usize) {
        Ok(p) => p,
        Err(e) => return e.0,
    };
    // SAFETY: NDIS's CloseData/Size pair.
    let data = unsafe { close_data(data, size) };
    a.protocol_cm_close_call(vc, party, data).0
}

/// Parameters standing in for unreadable ones, so the core still hears of the completion (with an
/// error status, which makes it reject the call).
fn unreadable_params() -> CallParameters {
    CallParameters {
        flags: 0,
        media_flags: 0,
        media: AtmMediaParameters {
            connection_id: VpiVci::default(),
            aal_type: AalType::Aal5,
            transmit: AtmFlowParameters::ubr(0),
            receive: AtmFlowParameters::ubr(0),
        },
        called: None,
        calling: None,
    }
}

unsafe extern "system" fn protocol_cm_incoming_call_complete(
    status: NDIS_STATUS,
    vc: NDIS_HANDLE,
    params: PCO_CALL_PARAMETERS,
) {
    let Some((slot, t)) = ctx::decode(vc as usize) else {
        return;
    };
    let Some(h) = super::miniport::adapter_at(slot) else {
        return;
    };
    let Some(vc) = VcContext::from_usize(t) else { return };
    // SAFETY: the block we passed to NdisCmDispatchIncomingCall (possibly modified by the client).
    let (status, cp) = match unsafe { cparams::read_call_params(params) } {
        Ok(p) => (NdisStatus(status), p),
        Err(e) => (if status == NDIS_STATUS_SUCCESS { e } else { NdisStatus(status) }, unreadable_params()),
    };
    h.adapter.parts().0.return_call_block(params);
    h.adapter.protocol_cm_incoming_call_complete(status, vc, &cp);
}

unsafe extern "system" fn protocol_cm_add_party(
    vc: NDIS_HANDLE,
    params: PCO_CALL_PARAMETERS,
    ndis_party: NDIS_HANDLE,
    out: PNDIS_HANDLE,
) -> NDIS_STATUS {
    let Some((a, t)) = by_word(vc) else { return BAD_CONTEXT };
    let (Some(vc), Some(slot)) = (VcContext::from_usize(t), slot_index(vc)) else {
        return BAD_CONTEXT;
    };
    let Some(ndis_party) = Handle::from_ptr(ndis_party) else {
        return BAD_CONTEXT;
    };
    // SAFETY: the client's parameters, valid until the request completes.
    let mut cp = match unsafe { cparams::read_call_params(params) } {
        Ok(p) => p,
        Err(e) => return e.0,
    };
    match a.protocol_cm_add_party(vc, &mut cp, ClientParams(params as usize), ndis_party) {
        Ok((st, party)) => {
            // SAFETY: NDIS's out-parameter.
            unsafe { put(out, slot, party.as_usize()) };
            if st == NdisStatus::SUCCESS {
                // SAFETY: as above.
                unsafe { cparams::write_call_params(params, &cp) };
            }
            st.0
        }
        Err(e) => e.0,
    }
}

unsafe extern "system" fn protocol_cm_drop_party(party: NDIS_HANDLE, data: PVOID, size: UINT) -> NDIS_STATUS {
    let Some((a, t)) = by_word(party) else {
        return BAD_CONTEXT;
    };
    let Some(party) = PartyContext::from_usize(t) else {
        return BAD_CONTEXT;
    };
    // SAFETY: NDIS's CloseData/Size pair.
    let data = unsafe { close_data(data, size) };
    a.protocol_cm_drop_party(party, data).0
}

unsafe extern "system" fn protocol_cm_modify_call_qos(vc: NDIS_HANDLE, params: PCO_CALL_PARAMETERS) -> NDIS_STATUS {
    let Some((a, t)) = by_word(vc) else { return BAD_CONTEXT };
    let Some(vc) = VcContext::from_usize(t) else {
        return BAD_CONTEXT;
    };
    // SAFETY: the client's parameters.
    let cp = match unsafe { cparams::read_call_params(params) } {
        Ok(p) => p,
        Err(e) => return e.0,
    };
    a.protocol_cm_modify_call_qos(vc, &cp, ClientParams(params as usize)).0
}

unsafe extern "system" fn protocol_cm_activate_vc_complete(
    status: NDIS_STATUS,
    vc: NDIS_HANDLE,
    _params: PCO_CALL_PARAMETERS,
) {
    let Some((a, t)) = by_word(vc) else { return };
    if let Some(vc) = VcContext::from_usize(t) {
        a.protocol_cm_activate_vc_complete(NdisStatus(status), vc);
    }
}

unsafe extern "system" fn protocol_cm_deactivate_vc_complete(status: NDIS_STATUS, vc: NDIS_HANDLE) {
    let Some((a, t)) = by_word(vc) else { return };
    if let Some(vc) = VcContext::from_usize(t) {
        a.protocol_cm_deactivate_vc_complete(NdisStatus(status), vc);
    }
}

// ---- OIDs and close notification ---------------------------------------------------------------------------

unsafe extern "system" fn protocol_co_oid_request(
    af: NDIS_HANDLE,
    vc: NDIS_HANDLE,
    party: NDIS_HANDLE,
    req: PNDIS_OID_REQUEST,
) -> NDIS_STATUS {
    let Some((a, t)) = by_word(af) else { return BAD_CONTEXT };
    let Some(af) = AfContext::from_usize(t) else {
        return BAD_CONTEXT;
    };
    let (vc, party) = match (opt(vc, VcContext::from_usize), opt(party, PartyContext::from_usize)) {
        (Ok(v), Ok(p)) => (v, p),
        (Err(e), _) | (_, Err(e)) => return e.0,
    };
    // SAFETY: NDIS's request.
    unsafe { with_oid_request(req, |o| a.protocol_co_oid_request(af, vc, party, o)) }
}

unsafe extern "system" fn protocol_co_oid_request_complete(
    af: NDIS_HANDLE,
    _vc: NDIS_HANDLE,
    _party: NDIS_HANDLE,
    _req: PNDIS_OID_REQUEST,
    status: NDIS_STATUS,
) {
    let Some((a, t)) = by_word(af) else { return };
    if let Some(af) = AfContext::from_usize(t) {
        a.protocol_co_oid_request_complete(af, NdisStatus(status));
    }
}

unsafe extern "system" fn protocol_cm_notify_close_af_complete(af: NDIS_HANDLE, status: NDIS_STATUS) {
    let Some((a, t)) = by_word(af) else { return };
    if let Some(af) = AfContext::from_usize(t) {
        a.protocol_cm_notify_close_af_complete(NdisStatus(status), af);
    }
}
