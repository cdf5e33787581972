//! C ⇄ core conversions: `CO_CALL_PARAMETERS` ⇄ [`CallParameters`], `CO_ADDRESS_FAMILY`,
//! `CO_SAP`. Every length that comes from a client (`CO_SPECIFIC_PARAMETERS.Length`,
//! `CO_SAP.SapLength`, `ATM_ADDRESS.NumberOfDigits`) is checked before anything is read past it.

use core::mem::{offset_of, size_of};
use core::ptr::{addr_of, addr_of_mut};

use super::ffi::*;
use crate::ndis::{
    AalType, AtmAddress, AtmAddressType, AtmFlowParameters, AtmMediaParameters, CallParameters, CoAddressFamily,
    NdisStatus, Sap, ServiceCategory, VpiVci,
};

/// Reads a `CO_ADDRESS_FAMILY`.
///
/// # Safety
/// `af` is NULL or points to a readable `CO_ADDRESS_FAMILY`.
pub unsafe fn read_af(af: *const CO_ADDRESS_FAMILY) -> Option<CoAddressFamily> {
    // SAFETY: the caller's contract; NULL gives None.
    let af = unsafe { af.as_ref() }?;
    Some(CoAddressFamily {
        address_family: af.AddressFamily,
        major_version: af.MajorVersion,
        minor_version: af.MinorVersion,
    })
}

pub fn to_c_af(af: &CoAddressFamily) -> CO_ADDRESS_FAMILY {
    CO_ADDRESS_FAMILY {
        AddressFamily: af.address_family,
        MajorVersion: af.major_version,
        MinorVersion: af.minor_version,
    }
}

fn read_address(a: &ATM_ADDRESS) -> Result<Option<AtmAddress>, NdisStatus> {
    let kind = match a.AddressType {
        ATM_NSAP => AtmAddressType::Nsap,
        ATM_E164 => AtmAddressType::E164,
        _ => return Err(NdisStatus::INVALID_ADDRESS),
    };
    let n = a.NumberOfDigits as usize;
    if n == 0 {
        return Ok(None);
    }
    let digits = a.Address.get(..n).ok_or(NdisStatus::INVALID_ADDRESS)?;
    AtmAddress::new(kind, digits).map(Some).ok_or(NdisStatus::INVALID_ADDRESS)
}

fn to_c_address(a: Option<&AtmAddress>) -> ATM_ADDRESS {
    let mut c = ATM_ADDRESS { AddressType: ATM_NSAP, NumberOfDigits: 0, Address: [0; ATM_ADDRESS_LENGTH] };
    if let Some(a) = a {
        c.AddressType = match a.kind {
            AtmAddressType::Nsap => ATM_NSAP,
            AtmAddressType::E164 => ATM_E164,
        };
        let b = a.as_bytes();
        if let Some(dst) = c.Address.get_mut(..b.len()) {
            dst.copy_from_slice(b);
            c.NumberOfDigits = b.len() as u32;
        }
    }
    c
}

fn read_flow(f: &ATM_FLOW_PARAMETERS) -> Result<AtmFlowParameters, NdisStatus> {
    Ok(AtmFlowParameters {
        service_category: ServiceCategory::from_u32(f.ServiceCategory).ok_or(NdisStatus::INCOMPATABLE_QOS)?,
        pcr: f.PeakCellRate,
        scr: f.AverageCellRate,
        mbs: f.BurstLengthCells,
        max_sdu_size: f.MaxSduSize,
    })
}

fn write_flow(f: &mut ATM_FLOW_PARAMETERS, p: &AtmFlowParameters) {
    f.ServiceCategory = p.service_category as u32;
    f.PeakCellRate = p.pcr;
    f.AverageCellRate = p.scr;
    f.BurstLengthCells = p.mbs;
    f.MaxSduSize = p.max_sdu_size;
}

fn read_media(m: &ATM_MEDIA_PARAMETERS) -> Result<AtmMediaParameters, NdisStatus> {
    let vpi = u16::try_from(m.ConnectionId.Vpi).map_err(|_| NdisStatus::INVALID_DATA)?;
    let vci = u16::try_from(m.ConnectionId.Vci).map_err(|_| NdisStatus::INVALID_DATA)?;
    Ok(AtmMediaParameters {
        connection_id: VpiVci { vpi, vci },
        aal_type: AalType::from_u32(m.AALType).ok_or(NdisStatus::AAL_PARAMS_UNSUPPORTED)?,
        transmit: read_flow(&m.Transmit)?,
        receive: read_flow(&m.Receive)?,
    })
}

fn write_media(m: &mut ATM_MEDIA_PARAMETERS, p: &AtmMediaParameters) {
    m.ConnectionId = ATM_VPIVCI { Vpi: u32::from(p.connection_id.vpi), Vci: u32::from(p.connection_id.vci) };
    m.AALType = p.aal_type as u32;
    write_flow(&mut m.Transmit, &p.transmit);
    write_flow(&mut m.Receive, &p.receive);
}

/// Where the ATM media parameters of a `CO_MEDIA_PARAMETERS` live, if its MediaSpecific is ATM
/// and long enough.
///
/// # Safety
/// `m` points to a readable `CO_MEDIA_PARAMETERS` whose `MediaSpecific.Length` octets of
/// `Parameters` are readable (the CoNDIS contract for call parameters).
unsafe fn atm_media_ptr(m: *mut CO_MEDIA_PARAMETERS) -> Option<*mut ATM_MEDIA_PARAMETERS> {
    // SAFETY: m is readable (caller).
    let spec = unsafe { &(*m).MediaSpecific.0 };
    let (ty, len) = (spec.ParamType, spec.Length);
    if ty != ATM_MEDIA_SPECIFIC || (len as usize) < size_of::<ATM_MEDIA_PARAMETERS>() {
        return None;
    }
    // SAFETY: in-bounds field projection of a valid pointer.
    Some(unsafe { addr_of_mut!((*m).MediaSpecific.0.Parameters) }.cast())
}

/// Reads a client's `CO_CALL_PARAMETERS`.
///
/// # Safety
/// `p` is NULL or points to call parameters laid out per the CoNDIS contract (every non-NULL
/// sub-pointer readable for its declared Length).
pub unsafe fn read_call_params(p: *const CO_CALL_PARAMETERS) -> Result<CallParameters, NdisStatus> {
    // SAFETY: caller's contract; NULL is refused.
    let p = unsafe { p.as_ref() }.ok_or(NdisStatus::INVALID_DATA)?;
    let m = p.MediaParameters;
    if m.is_null() {
        return Err(NdisStatus::INVALID_DATA);
    }
    // SAFETY: m is non-NULL and readable (caller).
    let atm = unsafe { atm_media_ptr(m) }.ok_or(NdisStatus::INVALID_DATA)?;
    // SAFETY: atm_media_ptr checked Length >= size_of; Parameters is only 4-aligned in general.
    let media = read_media(&unsafe { atm.read_unaligned() })?;
    // SAFETY: m is readable.
    let media_flags = unsafe { (*m).Flags };
    let (mut called, mut calling) = (None, None);
    let cm = p.CallMgrParameters;
    if !cm.is_null() {
        // SAFETY: cm is readable (caller).
        let spec = unsafe { &(*cm).CallMgrSpecific };
        let (ty, len) = (spec.ParamType, spec.Length);
        let need = offset_of!(Q2931_CALLMGR_PARAMETERS, InfoElementCount);
        if ty == CALLMGR_SPECIFIC_Q2931 && len as usize >= need {
            // SAFETY: in-bounds projection; Length covers both addresses.
            let q = unsafe { addr_of!((*cm).CallMgrSpecific.Parameters) }.cast::<ATM_ADDRESS>();
            // SAFETY: the first ATM_ADDRESS is within Length (checked above).
            called = read_address(&unsafe { q.read_unaligned() })?;
            // SAFETY: the second one too.
            calling = read_address(&unsafe { q.wrapping_add(1).read_unaligned() })?;
        }
    }
    Ok(CallParameters { flags: p.Flags, media_flags, media, called, calling })
}

/// Writes the parts of `params` the call manager may change (flags, connection id, AAL, flow
/// parameters) back into a client's `CO_CALL_PARAMETERS`; silently leaves out parts the client's
/// structure has no room for.
///
/// # Safety
/// As [`read_call_params`], and the structure is writable.
pub unsafe fn write_call_params(p: *mut CO_CALL_PARAMETERS, params: &CallParameters) {
    // SAFETY: caller's contract.
    let Some(cp) = (unsafe { p.as_mut() }) else { return };
    cp.Flags = params.flags;
    let m = cp.MediaParameters;
    if m.is_null() {
        return;
    }
    // SAFETY: m is writable (caller).
    unsafe { (*m).Flags = params.media_flags };
    // SAFETY: m is readable.
    if let Some(atm) = unsafe { atm_media_ptr(m) } {
        // SAFETY: Length covers the structure (checked by atm_media_ptr).
        let mut c = unsafe { atm.read_unaligned() };
        write_media(&mut c, &params.media);
        // SAFETY: as above, writable.
        unsafe { atm.write_unaligned(c) };
    }
}

/// Call parameters the driver builds itself (incoming calls, activation): one block holding the
/// `CO_CALL_PARAMETERS` and both parameter structures it points to. Never move a block after
/// [`CallParamsBlock::fill`] until NDIS is done with it (it is self-referential).
#[repr(C)]
pub struct CallParamsBlock {
    params: CO_CALL_PARAMETERS,
    cm: CmBlock,
    media: MediaBlock,
}

#[repr(C)]
struct CmBlock {
    transmit: FLOWSPEC,
    receive: FLOWSPEC,
    param_type: ULONG,
    length: ULONG,
    called: ATM_ADDRESS,
    calling: ATM_ADDRESS,
    info_element_count: ULONG,
}

/// `CO_MEDIA_PARAMETERS` with its ATM_MEDIA_PARAMETERS: `MediaSpecific` is pointer-aligned on
/// x64 (0x10), so `param_type` follows a padding word.
#[repr(C, align(8))]
struct MediaBlock {
    flags: ULONG,
    receive_priority: ULONG,
    receive_size_hint: ULONG,
    _align: ULONG,
    param_type: ULONG,
    length: ULONG,
    atm: ATM_MEDIA_PARAMETERS,
}

// The blocks must line up with the C structures they stand for.
const _: () = {
    assert!(offset_of!(CmBlock, param_type) == offset_of!(CO_CALL_MANAGER_PARAMETERS, CallMgrSpecific));
    assert!(
        offset_of!(CmBlock, called)
            == offset_of!(CO_CALL_MANAGER_PARAMETERS, CallMgrSpecific) + offset_of!(CO_SPECIFIC_PARAMETERS, Parameters)
    );
    assert!(offset_of!(MediaBlock, param_type) == offset_of!(CO_MEDIA_PARAMETERS, MediaSpecific));
    assert!(
        offset_of!(MediaBlock, atm)
            == offset_of!(CO_MEDIA_PARAMETERS, MediaSpecific) + offset_of!(CO_SPECIFIC_PARAMETERS, Parameters)
    );
    // The WDK's x64 values (ndis6-facts.tsv): MediaSpecific at 0x10, ATM parameters at 0x18.
    assert!(offset_of!(MediaBlock, param_type) == 0x10);
    assert!(offset_of!(MediaBlock, atm) == 0x18);
};

impl CallParamsBlock {
    pub const fn zeroed() -> Self {
        const ADDR: ATM_ADDRESS = ATM_ADDRESS { AddressType: 0, NumberOfDigits: 0, Address: [0; ATM_ADDRESS_LENGTH] };
        const FS: FLOWSPEC = FLOWSPEC {
            TokenRate: 0,
            TokenBucketSize: 0,
            PeakBandwidth: 0,
            Latency: 0,
            DelayVariation: 0,
            ServiceType: 0,
            MaxSduSize: 0,
            MinimumPolicedSize: 0,
        };
        const FLOW: ATM_FLOW_PARAMETERS = ATM_FLOW_PARAMETERS {
            ServiceCategory: 0,
            AverageCellRate: 0,
            PeakCellRate: 0,
            MinimumCellRate: 0,
            InitialCellRate: 0,
            BurstLengthCells: 0,
            MaxSduSize: 0,
            TransientBufferExposure: 0,
            CumulativeRMFixedRTT: 0,
            RateIncreaseFactor: 0,
            RateDecreaseFactor: 0,
            ACRDecreaseTimeFactor: 0,
            MaximumCellsPerForwardRMCell: 0,
            MaximumForwardRMCellInterval: 0,
            CutoffDecreaseFactor: 0,
            Reserved1: 0,
            MissingRMCellCount: 0,
            Reserved2: 0,
            Reserved3: 0,
        };
        CallParamsBlock {
            params: CO_CALL_PARAMETERS {
                Flags: 0,
                CallMgrParameters: core::ptr::null_mut(),
                MediaParameters: core::ptr::null_mut(),
            },
            cm: CmBlock {
                transmit: FS,
                receive: FS,
                param_type: 0,
                length: 0,
                called: ADDR,
                calling: ADDR,
                info_element_count: 0,
            },
            media: MediaBlock {
                flags: 0,
                receive_priority: 0,
                receive_size_hint: 0,
                _align: 0,
                param_type: 0,
                length: 0,
                atm: ATM_MEDIA_PARAMETERS {
                    ConnectionId: ATM_VPIVCI { Vpi: 0, Vci: 0 },
                    AALType: 0,
                    CellDelayVariationCLP0: 0,
                    CellDelayVariationCLP1: 0,
                    CellLossRatioCLP0: 0,
                    CellLossRatioCLP1: 0,
                    CellTransferDelayCLP0: 0,
                    CellTransferDelayCLP1: 0,
                    DefaultCLP: 0,
                    Transmit: FLOW,
                    Receive: FLOW,
                },
            },
        }
    }

    /// Fills the block from `p` and links its pointers; returns the `PCO_CALL_PARAMETERS`.
    pub fn fill(&mut self, p: &CallParameters) -> PCO_CALL_PARAMETERS {
        self.cm.param_type = CALLMGR_SPECIFIC_Q2931;
        self.cm.length = (size_of::<ATM_ADDRESS>() * 2 + size_of::<ULONG>()) as u32;
        self.cm.called = to_c_address(p.called.as_ref());
        self.cm.calling = to_c_address(p.calling.as_ref());
        self.cm.info_element_count = 0;
        self.media.flags = p.media_flags;
        self.media.param_type = ATM_MEDIA_SPECIFIC;
        self.media.length = size_of::<ATM_MEDIA_PARAMETERS>() as u32;
        write_media(&mut self.media.atm, &p.media);
        self.params.Flags = p.flags;
        self.params.CallMgrParameters = addr_of_mut!(self.cm).cast();
        self.params.MediaParameters = addr_of_mut!(self.media).cast();
        addr_of_mut!(self.params)
    }

    /// Whether `p` is this block's `CO_CALL_PARAMETERS`.
    pub fn is(&self, p: *const CO_CALL_PARAMETERS) -> bool {
        core::ptr::eq(addr_of!(self.params), p)
    }
}

/// Reads a `CO_SAP` for the Q.2931 family: `ATM_SAP` with zero addresses is the wildcard SAP;
/// otherwise the first address is the one matched.
///
/// # Safety
/// `sap` is NULL or points to a `CO_SAP` whose `SapLength` octets of `Sap` are readable.
pub unsafe fn read_sap(sap: *const CO_SAP) -> Result<Sap, NdisStatus> {
    // SAFETY: caller's contract; NULL is refused.
    let s = unsafe { sap.as_ref() }.ok_or(NdisStatus::INVALID_DATA)?;
    if s.SapType != SAP_TYPE_NSAP && s.SapType != SAP_TYPE_E164 {
        return Err(NdisStatus::INVALID_SAP);
    }
    let len = s.SapLength as usize;
    let head = offset_of!(ATM_SAP, Addresses);
    if len < head {
        return Err(NdisStatus::INVALID_DATA);
    }
    // SAFETY: in-bounds projection of a valid pointer.
    let atm = unsafe { addr_of!((*sap).Sap) }.cast::<ATM_SAP>();
    // SAFETY: in-bounds projection.
    let count_ptr = unsafe { addr_of!((*atm).NumberOfAddresses) };
    // SAFETY: SapLength >= offset of Addresses, so NumberOfAddresses is readable.
    let count = unsafe { count_ptr.read_unaligned() };
    if count == 0 {
        return Ok(Sap { address: None });
    }
    if len < head + size_of::<ATM_ADDRESS>() {
        return Err(NdisStatus::INVALID_DATA);
    }
    // SAFETY: in-bounds projection.
    let first = unsafe { addr_of!((*atm).Addresses) }.cast::<ATM_ADDRESS>();
    // SAFETY: SapLength covers the first address (checked above).
    let address = read_address(&unsafe { first.read_unaligned() })?;
    Ok(Sap { address })
}
