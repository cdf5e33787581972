//! The call-manager side on the C ABI, both directions: the client's requests become calls of the
//! ProtocolCm* / ProtocolCo* pointers the image registered (NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS),
//! and the image's NdisMCm* / NdisCm* calls become the emulated NDIS's calls, so the verifier sees
//! exactly what it sees for the in-process driver.
//!
//! NDIS handles handed to the image are the lab's ids tagged with their kind
//! (`0x5A5A_<kind>_<id>`), so a handle of the wrong kind or a stale one is recognisable.

use std::collections::HashMap;
use std::sync::Mutex;

use atmmcm::ndis::{
    AfContext, CallParameters, CloseData, CoAddressFamily, LinkState, PartyContext, Sap, SapContext, StatusIndication,
    VcContext,
};
use atmmcm::{Ndis, NdisStatus};

use crate::host::{AfHandle, ClientParams, Irql, PartyHandle, SapHandle, VcHandle};

use super::cparams::{self, CParams};
use super::driver::{SysDriver, call};
use super::host::{Host, enter, host};
use super::layout::{self as l, rd, wr};
use super::rule;

const TAG: usize = 0x5A5A << 48;
pub const AF: usize = 0xA1;
pub const SAP: usize = 0xA2;
pub const VC: usize = 0xA3;
pub const PARTY: usize = 0xA4;

pub fn to_c(kind: usize, id: u32) -> usize {
    TAG | kind << 32 | id as usize
}

pub fn from_c(h: &Host, func: &str, kind: usize, v: usize) -> Option<u32> {
    if v & !0xFFFF_FFFF == TAG | kind << 32 {
        return Some(v as u32);
    }
    h.finding(rule::HANDLE, format!("{func}: {v:#x} is not an NDIS handle of the right kind"));
    None
}

fn st(s: u32) -> NdisStatus {
    NdisStatus(s as i32)
}

/// Client call-parameter blocks the image holds (a pended MakeCall / AddParty / ModifyQoS).
static PENDING_PARAMS: Mutex<Option<HashMap<usize, (ClientParams, CParams)>>> = Mutex::new(None);

fn keep_params(block: CParams, cp: ClientParams) {
    let mut m = PENDING_PARAMS.lock().unwrap_or_else(|e| e.into_inner());
    m.get_or_insert_with(HashMap::new).insert(block.0, (cp, block));
}

fn take_params(p: usize) -> Option<(ClientParams, CParams)> {
    PENDING_PARAMS.lock().unwrap_or_else(|e| e.into_inner()).as_mut()?.remove(&p)
}

fn cm(d: &SysDriver) -> Option<super::host::CmHandlers> {
    let c = d.host.st().cm.clone();
    if c.is_none() {
        d.host.finding(rule::NOT_REGISTERED, "no NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS registered".into());
    }
    c
}

fn read_back(d: &SysDriver, func: &str, block: &CParams, params: &mut CallParameters) {
    // SAFETY: our own block, possibly changed by the driver (within its pointers).
    match unsafe { cparams::read(block.0) } {
        Ok(p) => *params = p,
        Err(e) => d.host.finding(rule::CALL_PARAMS, format!("{func}: call parameters unreadable after the call: {e}")),
    }
}

// ---- NDIS -> driver (ProtocolCm* / ProtocolCo*) ---------------------------------------------------

pub fn open_af(d: &SysDriver, af: &CoAddressFamily, ndis_af: AfHandle) -> Result<AfContext, NdisStatus> {
    let Some(c) = cm(d) else { return Err(NdisStatus::FAILURE) };
    let binding = d.host.st().adapter_context;
    let mut caf = cparams::write_af(af);
    let mut ctx: usize = 0;
    let (pa, pc) = (caf.as_mut_ptr() as usize, std::ptr::addr_of_mut!(ctx) as usize);
    let s = enter(&d.host, "ProtocolCmOpenAf", || {
        call!(c.open_af, fn(usize, usize, usize, usize) -> u32, binding, pa, to_c(AF, ndis_af.0), pc)
    });
    match (st(s), AfContext::from_usize(ctx)) {
        (NdisStatus::SUCCESS, Some(a)) => Ok(a),
        (NdisStatus::SUCCESS, None) => {
            d.host.finding(rule::CONTEXT, "ProtocolCmOpenAf succeeded with a NULL CallMgrAfContext".into());
            Err(NdisStatus::FAILURE)
        }
        (s, _) => Err(s),
    }
}

pub fn close_af(d: &SysDriver, af: AfContext) -> NdisStatus {
    let Some(c) = cm(d) else { return NdisStatus::FAILURE };
    st(enter(&d.host, "ProtocolCmCloseAf", || call!(c.close_af, fn(usize) -> u32, af.as_usize())))
}

pub fn register_sap(d: &SysDriver, af: AfContext, sap: &Sap, ndis_sap: SapHandle) -> Result<SapContext, NdisStatus> {
    let Some(c) = cm(d) else { return Err(NdisStatus::FAILURE) };
    let mut buf = cparams::write_sap(sap);
    let mut ctx: usize = 0;
    let (pb, pc) = (buf.as_mut_ptr() as usize, std::ptr::addr_of_mut!(ctx) as usize);
    let s = enter(&d.host, "ProtocolCmRegisterSap", || {
        call!(c.register_sap, fn(usize, usize, usize, usize) -> u32, af.as_usize(), pb, to_c(SAP, ndis_sap.0), pc)
    });
    match (st(s), SapContext::from_usize(ctx)) {
        (NdisStatus::SUCCESS, Some(x)) => Ok(x),
        (NdisStatus::SUCCESS, None) => Err(NdisStatus::FAILURE),
        (s, _) => Err(s),
    }
}

pub fn deregister_sap(d: &SysDriver, sap: SapContext) -> NdisStatus {
    let Some(c) = cm(d) else { return NdisStatus::FAILURE };
    st(enter(&d.host, "ProtocolCmDeregisterSap", || call!(c.deregister_sap, fn(usize) -> u32, sap.as_usize())))
}

pub fn create_vc(d: &SysDriver, af: AfContext, ndis_vc: VcHandle) -> Result<VcContext, NdisStatus> {
    let Some(c) = cm(d) else { return Err(NdisStatus::FAILURE) };
    let mut ctx: usize = 0;
    let pc = std::ptr::addr_of_mut!(ctx) as usize;
    let s = enter(&d.host, "ProtocolCoCreateVc", || {
        call!(c.create_vc, fn(usize, usize, usize) -> u32, af.as_usize(), to_c(VC, ndis_vc.0), pc)
    });
    match (st(s), VcContext::from_usize(ctx)) {
        (NdisStatus::SUCCESS, Some(x)) => Ok(x),
        (NdisStatus::SUCCESS, None) => Err(NdisStatus::FAILURE),
        (s, _) => Err(s),
    }
}

pub fn delete_vc(d: &SysDriver, vc: VcContext) -> NdisStatus {
    let Some(c) = cm(d) else { return NdisStatus::FAILURE };
    st(enter(&d.host, "ProtocolCoDeleteVc", || call!(c.delete_vc, fn(usize) -> u32, vc.as_usize())))
}

pub fn make_call(
    d: &SysDriver,
    vc: VcContext,
    params: &mut CallParameters,
    client: ClientParams,
    ndis_party: Option<PartyHandle>,
) -> (NdisStatus, Option<PartyContext>) {
    let Some(c) = cm(d) else { return (NdisStatus::FAILURE, None) };
    let block = CParams::new(params);
    let b = block.0;
    let mut pctx: usize = 0;
    let pp = std::ptr::addr_of_mut!(pctx) as usize;
    let party = ndis_party.map_or(0, |p| to_c(PARTY, p.0));
    // Kept before the call: the completion may come from inside it.
    keep_params(block, client);
    let s = st(enter(&d.host, "ProtocolCmMakeCall", || {
        call!(c.make_call, fn(usize, usize, usize, usize) -> u32, vc.as_usize(), b, party, pp)
    }));
    if s != NdisStatus::PENDING
        && let Some((_, block)) = take_params(b)
    {
        read_back(d, "ProtocolCmMakeCall", &block, params);
    }
    (s, PartyContext::from_usize(pctx))
}

fn close_data(data: CloseData<'_>) -> (usize, u32) {
    match data {
        CloseData::None => (0, 0),
        CloseData::Bytes(b) => (b.as_ptr() as usize, b.len() as u32),
        CloseData::Oversized(n) => (1, n as u32),
    }
}

pub fn close_call(d: &SysDriver, vc: VcContext, party: Option<PartyContext>, data: CloseData<'_>) -> NdisStatus {
    let Some(c) = cm(d) else { return NdisStatus::FAILURE };
    let (p, n) = close_data(data);
    let party = party.map_or(0, |x| x.as_usize());
    st(enter(&d.host, "ProtocolCmCloseCall", || {
        call!(c.close_call, fn(usize, usize, usize, u32) -> u32, vc.as_usize(), party, p, n)
    }))
}

pub fn incoming_call_complete(d: &SysDriver, status: NdisStatus, vc: VcContext, params: &CallParameters) {
    let Some(c) = cm(d) else { return };
    let block = CParams::new(params);
    let b = block.0;
    enter(&d.host, "ProtocolCmIncomingCallComplete", || {
        call!(c.incoming_call_complete, fn(u32, usize, usize) -> (), status.0 as u32, vc.as_usize(), b)
    });
}

pub fn add_party(
    d: &SysDriver,
    vc: VcContext,
    params: &mut CallParameters,
    client: ClientParams,
    ndis_party: PartyHandle,
) -> Result<(NdisStatus, PartyContext), NdisStatus> {
    let Some(c) = cm(d) else { return Err(NdisStatus::FAILURE) };
    if c.add_party == 0 {
        return Err(NdisStatus::NOT_SUPPORTED);
    }
    let block = CParams::new(params);
    let b = block.0;
    let mut pctx: usize = 0;
    let pp = std::ptr::addr_of_mut!(pctx) as usize;
    keep_params(block, client);
    let s = st(enter(&d.host, "ProtocolCmAddParty", || {
        call!(c.add_party, fn(usize, usize, usize, usize) -> u32, vc.as_usize(), b, to_c(PARTY, ndis_party.0), pp)
    }));
    if s != NdisStatus::PENDING
        && let Some((_, block)) = take_params(b)
    {
        read_back(d, "ProtocolCmAddParty", &block, params);
    }
    match (s, PartyContext::from_usize(pctx)) {
        (NdisStatus::SUCCESS | NdisStatus::PENDING, Some(p)) => Ok((s, p)),
        (NdisStatus::SUCCESS | NdisStatus::PENDING, None) => Err(NdisStatus::FAILURE),
        (s, _) => Err(s),
    }
}

pub fn drop_party(d: &SysDriver, party: PartyContext, data: CloseData<'_>) -> NdisStatus {
    let Some(c) = cm(d) else { return NdisStatus::FAILURE };
    if c.drop_party == 0 {
        return NdisStatus::NOT_SUPPORTED;
    }
    let (p, n) = close_data(data);
    st(enter(&d.host, "ProtocolCmDropParty", || {
        call!(c.drop_party, fn(usize, usize, u32) -> u32, party.as_usize(), p, n)
    }))
}

pub fn modify_call_qos(d: &SysDriver, vc: VcContext, params: &CallParameters, client: ClientParams) -> NdisStatus {
    let Some(c) = cm(d) else { return NdisStatus::FAILURE };
    let block = CParams::new(params);
    let b = block.0;
    keep_params(block, client);
    let s = st(enter(&d.host, "ProtocolCmModifyCallQoS", || {
        call!(c.modify_qos, fn(usize, usize) -> u32, vc.as_usize(), b)
    }));
    if s != NdisStatus::PENDING {
        let _ = take_params(b);
    }
    s
}

pub fn cm_oid(
    d: &SysDriver,
    af: AfContext,
    vc: Option<VcContext>,
    party: Option<PartyContext>,
    req: &mut atmmcm::adapter::OidRequest<'_>,
) -> NdisStatus {
    let Some(c) = cm(d) else { return NdisStatus::FAILURE };
    if c.oid == 0 {
        return NdisStatus::NOT_SUPPORTED;
    }
    let (vc, party) = (vc.map_or(0, |v| v.as_usize()), party.map_or(0, |p| p.as_usize()));
    super::data::with_oid_request(req, |r| {
        st(enter(&d.host, "ProtocolCoOidRequest", || {
            call!(c.oid, fn(usize, usize, usize, usize) -> u32, af.as_usize(), vc, party, r)
        }))
    })
}

pub fn notify_close_af_complete(d: &SysDriver, status: NdisStatus, af: AfContext) {
    let Some(c) = cm(d) else { return };
    if c.notify_close_af_complete == 0 {
        d.host.finding(rule::CHARS, "CmNotifyCloseAddressFamilyCompleteHandler is NULL".into());
        return;
    }
    enter(&d.host, "ProtocolCmNotifyCloseAfComplete", || {
        call!(c.notify_close_af_complete, fn(u32, usize) -> (), status.0 as u32, af.as_usize())
    });
}

// ---- driver -> NDIS (NdisMCm* / NdisCm*) ----------------------------------------------------------

fn params_or_finding(h: &Host, func: &str, p: usize) -> Option<CallParameters> {
    // SAFETY: the driver's CO_CALL_PARAMETERS (NULL is refused by `read`).
    match unsafe { cparams::read(p) } {
        Ok(x) => Some(x),
        Err(e) => {
            h.finding(rule::CALL_PARAMS, format!("{func}: {e}"));
            None
        }
    }
}

pub extern "win64" fn ndis_m_cm_register_address_family_ex(handle: usize, af: usize) -> u32 {
    let h = host();
    h.require_irql("NdisMCmRegisterAddressFamilyEx", Irql::Passive);
    if handle != h as *const Host as usize || af == 0 {
        h.finding(rule::HANDLE, "NdisMCmRegisterAddressFamilyEx: bad adapter handle or NULL family".into());
        return l::ST_INVALID_PARAMETER as u32;
    }
    if let Some(flags) = h.st().registration_flags
        && u64::from(flags) & l::ATTR_NOT_CO_NDIS != 0
    {
        h.finding(rule::ATTR_FLAGS, "NdisMCmRegisterAddressFamilyEx on a miniport registered NOT_CO_NDIS".into());
        return l::ST_NOT_SUPPORTED as u32;
    }
    // SAFETY: the driver's CO_ADDRESS_FAMILY.
    let a = unsafe { cparams::read_af(af) };
    h.emu().cm_register_address_family_ex(&a).0 as u32
}

pub extern "win64" fn ndis_cm_open_address_family_complete(status: u32, af: usize, ctx: usize) {
    let h = host();
    let (Some(af), Some(c)) = (from_c(h, "NdisCmOpenAddressFamilyComplete", AF, af), AfContext::from_usize(ctx)) else {
        return;
    };
    h.emu().cm_open_address_family_complete(st(status), AfHandle(af), c);
}

pub extern "win64" fn ndis_cm_close_address_family_complete(status: u32, af: usize) {
    let h = host();
    if let Some(af) = from_c(h, "NdisCmCloseAddressFamilyComplete", AF, af) {
        h.emu().cm_close_address_family_complete(st(status), AfHandle(af));
    }
}

pub extern "win64" fn ndis_cm_notify_close_address_family(af: usize) -> u32 {
    let h = host();
    match from_c(h, "NdisCmNotifyCloseAddressFamily", AF, af) {
        Some(af) => h.emu().cm_notify_close_address_family(AfHandle(af)).0 as u32,
        None => l::ST_INVALID_PARAMETER as u32,
    }
}

pub extern "win64" fn ndis_cm_register_sap_complete(status: u32, sap: usize, ctx: usize) {
    let h = host();
    let Some(sap) = from_c(h, "NdisCmRegisterSapComplete", SAP, sap) else { return };
    // A failed registration carries no context; the lab's seam wants one (it ignores it then).
    let failed = st(status) != NdisStatus::SUCCESS;
    match SapContext::from_usize(ctx).or_else(|| SapContext::from_usize(usize::MAX).filter(|_| failed)) {
        Some(c) => h.emu().cm_register_sap_complete(st(status), SapHandle(sap), c),
        None => h.finding(rule::CONTEXT, "NdisCmRegisterSapComplete(SUCCESS) with a NULL context".into()),
    }
}

pub extern "win64" fn ndis_cm_deregister_sap_complete(status: u32, sap: usize) {
    let h = host();
    if let Some(sap) = from_c(h, "NdisCmDeregisterSapComplete", SAP, sap) {
        h.emu().cm_deregister_sap_complete(st(status), SapHandle(sap));
    }
}

pub extern "win64" fn ndis_m_cm_create_vc(handle: usize, af: usize, ctx: usize, out: usize) -> u32 {
    let h = host();
    if handle != h as *const Host as usize || out == 0 {
        h.finding(rule::HANDLE, "NdisMCmCreateVc: bad adapter handle or NULL out-pointer".into());
        return l::ST_INVALID_PARAMETER as u32;
    }
    let (Some(af), Some(c)) = (from_c(h, "NdisMCmCreateVc", AF, af), VcContext::from_usize(ctx)) else {
        return l::ST_INVALID_PARAMETER as u32;
    };
    match h.emu().cm_create_vc(AfHandle(af), c) {
        Ok(vc) => {
            // SAFETY: the driver's out-pointer.
            unsafe { wr::<8>(out, 0, to_c(VC, vc.0) as u64) };
            0
        }
        Err(s) => s.0 as u32,
    }
}

pub extern "win64" fn ndis_m_cm_delete_vc(vc: usize) -> u32 {
    let h = host();
    match from_c(h, "NdisMCmDeleteVc", VC, vc) {
        Some(vc) => h.emu().cm_delete_vc(VcHandle(vc)).0 as u32,
        None => l::ST_INVALID_PARAMETER as u32,
    }
}

pub extern "win64" fn ndis_m_cm_activate_vc(vc: usize, params: usize) -> u32 {
    let h = host();
    let Some(vc) = from_c(h, "NdisMCmActivateVc", VC, vc) else { return l::ST_INVALID_PARAMETER as u32 };
    let Some(p) = params_or_finding(h, "NdisMCmActivateVc", params) else { return l::ST_INVALID_PARAMETER as u32 };
    h.emu().cm_activate_vc(VcHandle(vc), &p).0 as u32
}

pub extern "win64" fn ndis_m_cm_deactivate_vc(vc: usize) -> u32 {
    let h = host();
    match from_c(h, "NdisMCmDeactivateVc", VC, vc) {
        Some(vc) => h.emu().cm_deactivate_vc(VcHandle(vc)).0 as u32,
        None => l::ST_INVALID_PARAMETER as u32,
    }
}

fn party_opt(h: &Host, func: &str, p: usize) -> Option<Option<PartyHandle>> {
    if p == 0 {
        return Some(None);
    }
    from_c(h, func, PARTY, p).map(|x| Some(PartyHandle(x)))
}

pub extern "win64" fn ndis_cm_make_call_complete(
    status: u32,
    vc: usize,
    party: usize,
    party_ctx: usize,
    params: usize,
) {
    let h = host();
    let Some(vcid) = from_c(h, "NdisCmMakeCallComplete", VC, vc) else { return };
    let Some(party) = party_opt(h, "NdisCmMakeCallComplete", party) else { return };
    let Some((cp, block)) = take_params(params) else {
        h.finding(
            rule::CALL_PARAMS,
            format!("NdisCmMakeCallComplete: {params:#x} is not the client's CO_CALL_PARAMETERS"),
        );
        return;
    };
    let p = params_or_finding(h, "NdisCmMakeCallComplete", block.0);
    let p = p.unwrap_or_else(|| crate::lab::call_to(b"0"));
    h.emu().cm_make_call_complete(st(status), VcHandle(vcid), party, PartyContext::from_usize(party_ctx), cp, &p);
}

pub extern "win64" fn ndis_cm_dispatch_incoming_call(sap: usize, vc: usize, params: usize) -> u32 {
    let h = host();
    let (Some(sap), Some(vc)) =
        (from_c(h, "NdisCmDispatchIncomingCall", SAP, sap), from_c(h, "NdisCmDispatchIncomingCall", VC, vc))
    else {
        return l::ST_INVALID_PARAMETER as u32;
    };
    let Some(p) = params_or_finding(h, "NdisCmDispatchIncomingCall", params) else {
        return l::ST_INVALID_PARAMETER as u32;
    };
    h.emu().cm_dispatch_incoming_call(SapHandle(sap), VcHandle(vc), &p).0 as u32
}

pub extern "win64" fn ndis_cm_dispatch_call_connected(vc: usize) {
    let h = host();
    if let Some(vc) = from_c(h, "NdisCmDispatchCallConnected", VC, vc) {
        h.emu().cm_dispatch_call_connected(VcHandle(vc));
    }
}

pub extern "win64" fn ndis_cm_close_call_complete(status: u32, vc: usize, party: usize) {
    let h = host();
    let Some(vc) = from_c(h, "NdisCmCloseCallComplete", VC, vc) else { return };
    let Some(party) = party_opt(h, "NdisCmCloseCallComplete", party) else { return };
    h.emu().cm_close_call_complete(st(status), VcHandle(vc), party);
}

/// # Safety
/// `p` must be NULL or `n` readable bytes.
unsafe fn bytes<'a>(p: usize, n: u32) -> &'a [u8] {
    if p == 0 || n == 0 {
        return &[];
    }
    // SAFETY: as the caller guarantees.
    unsafe { std::slice::from_raw_parts(p as *const u8, n as usize) }
}

pub extern "win64" fn ndis_cm_dispatch_incoming_close_call(status: u32, vc: usize, buf: usize, size: u32) {
    let h = host();
    if let Some(vc) = from_c(h, "NdisCmDispatchIncomingCloseCall", VC, vc) {
        // SAFETY: the driver's buffer of `size` bytes.
        let data = unsafe { bytes(buf, size) };
        h.emu().cm_dispatch_incoming_close_call(st(status), VcHandle(vc), data);
    }
}

pub extern "win64" fn ndis_cm_add_party_complete(status: u32, party: usize, party_ctx: usize, params: usize) {
    let h = host();
    let Some(pid) = from_c(h, "NdisCmAddPartyComplete", PARTY, party) else { return };
    let Some((cp, block)) = take_params(params) else {
        h.finding(
            rule::CALL_PARAMS,
            format!("NdisCmAddPartyComplete: {params:#x} is not the client's CO_CALL_PARAMETERS"),
        );
        return;
    };
    let p = params_or_finding(h, "NdisCmAddPartyComplete", block.0).unwrap_or_else(|| crate::lab::call_to(b"0"));
    h.emu().cm_add_party_complete(st(status), PartyHandle(pid), PartyContext::from_usize(party_ctx), cp, &p);
}

pub extern "win64" fn ndis_cm_drop_party_complete(status: u32, party: usize) {
    let h = host();
    if let Some(p) = from_c(h, "NdisCmDropPartyComplete", PARTY, party) {
        h.emu().cm_drop_party_complete(st(status), PartyHandle(p));
    }
}

pub extern "win64" fn ndis_cm_dispatch_incoming_drop_party(status: u32, party: usize, buf: usize, size: u32) {
    let h = host();
    if let Some(p) = from_c(h, "NdisCmDispatchIncomingDropParty", PARTY, party) {
        // SAFETY: the driver's buffer of `size` bytes.
        let data = unsafe { bytes(buf, size) };
        h.emu().cm_dispatch_incoming_drop_party(st(status), PartyHandle(p), data);
    }
}

pub extern "win64" fn ndis_cm_modify_call_qos_complete(status: u32, vc: usize, params: usize) {
    let h = host();
    let Some(vc) = from_c(h, "NdisCmModifyCallQoSComplete", VC, vc) else { return };
    let Some((cp, block)) = take_params(params) else {
        h.finding(
            rule::CALL_PARAMS,
            format!("NdisCmModifyCallQoSComplete: {params:#x} is not the client's parameters"),
        );
        return;
    };
    let p = params_or_finding(h, "NdisCmModifyCallQoSComplete", block.0).unwrap_or_else(|| crate::lab::call_to(b"0"));
    h.emu().cm_modify_call_qos_complete(st(status), VcHandle(vc), cp, &p);
}

pub extern "win64" fn ndis_m_co_indicate_status_ex(handle: usize, vc: usize, ind: usize) {
    let h = host();
    if handle != h as *const Host as usize {
        h.finding(rule::HANDLE, "NdisMCoIndicateStatusEx: not this adapter".into());
        return;
    }
    let vc = if vc == 0 { None } else { from_c(h, "NdisMCoIndicateStatusEx", VC, vc).map(VcHandle) };
    let revs = [(l::SI_REVISION_1, l::SIZEOF_STATUS_INDICATION_REV_1)];
    if super::ndis::check_header(h, "NdisMCoIndicateStatusEx", ind, l::OBJ_TYPE_STATUS_INDICATION, &revs).is_err() {
        return;
    }
    // SAFETY: the indication (size checked) and its status buffer.
    let (code, buf, size) =
        unsafe { (rd::<4>(ind, l::SI_CODE), rd::<8>(ind, l::SI_BUFFER) as usize, rd::<4>(ind, l::SI_BUFFER_SIZE)) };
    if code == l::ST_LINK_STATE {
        if buf == 0 || size < l::SIZEOF_LINK_STATE_REV_1 {
            h.finding(rule::STATUS, format!("NDIS_STATUS_LINK_STATE with a {size}-byte buffer"));
            return;
        }
        // SAFETY: an NDIS_LINK_STATE of at least revision-1 size.
        let (connect, speed) = unsafe { (rd::<4>(buf, l::LS_CONNECT), rd::<8>(buf, l::LS_XMIT_SPEED)) };
        let ls = LinkState { connected: connect == l::MEDIA_CONNECTED, speed_bps: speed };
        h.emu().co_indicate_status_ex(vc, StatusIndication::LinkState(ls));
    } else {
        h.emu().indicate_status_code(vc, st(code as u32), None);
    }
}
