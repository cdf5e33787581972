//! The harness's own C encoding of `CO_CALL_PARAMETERS` (Q.2931 call-manager parameters, ATM
//! media parameters), `CO_ADDRESS_FAMILY` and `CO_SAP` / `ATM_SAP`, from ndis6-facts.tsv.
//!
//! Offsets the table does not list directly follow from it: Q2931_CALLMGR_PARAMETERS.CalledParty
//! at 0 (CallingParty at 0x1C = sizeof(ATM_ADDRESS)); ATM_MEDIA_PARAMETERS.ConnectionId at 0
//! (ATM_VPIVCI: Vpi, Vci u32); ATM_FLOW_PARAMETERS fields in WDK order, all ULONG: ServiceCategory
//! 0, AverageCellRate 4, PeakCellRate 8, MinimumCellRate 0xC, InitialCellRate 0x10,
//! BurstLengthCells 0x14, MaxSduSize 0x18; CO_SPECIFIC_PARAMETERS.ParamType at 0.

use atmmcm::ndis::{
    AalType, AtmAddress, AtmAddressType, AtmFlowParameters, AtmMediaParameters, CallParameters, CoAddressFamily, Sap,
    ServiceCategory, VpiVci,
};

use super::layout::{self as l, rd, wr};
use super::ndis::{kernel_alloc, kernel_free};

const CM_AT: usize = 0x18;
const Q2931_AT: usize = CM_AT + l::CCMP_SPECIFIC as usize + l::CSP_PARAMETERS as usize;
const MEDIA_AT: usize = 0xA0;
const ATM_AT: usize = MEDIA_AT + l::CMP_ATM_PARAMS as usize;
/// Bytes of one block from [`CParams::new`].
pub const BLOCK: usize = ATM_AT + l::SIZEOF_ATM_MEDIA_PARAMETERS as usize;

const _: () = assert!(Q2931_AT + l::SIZEOF_Q2931_PARAMETERS as usize <= MEDIA_AT);

/// One C `CO_CALL_PARAMETERS` block in NDIS memory (freed on drop).
pub struct CParams(pub usize);

impl Drop for CParams {
    fn drop(&mut self) {
        kernel_free(self.0, BLOCK);
    }
}

fn write_address(p: usize, a: Option<&AtmAddress>) {
    // SAFETY (all writes): `p` is an ATM_ADDRESS inside a block of ours.
    let Some(a) = a else {
        unsafe { wr::<4>(p, l::AA_DIGITS, 0) };
        return;
    };
    let ty = match a.kind {
        AtmAddressType::Nsap => l::ATM_NSAP,
        AtmAddressType::E164 => l::ATM_E164,
    };
    let b = a.as_bytes();
    unsafe {
        wr::<4>(p, 0, ty);
        wr::<4>(p, l::AA_DIGITS, b.len() as u64);
        std::ptr::copy_nonoverlapping(b.as_ptr(), (p + l::AA_ADDRESS as usize) as *mut u8, b.len().min(20));
    }
}

/// # Safety
/// `p` must be a readable ATM_ADDRESS.
unsafe fn read_address(p: usize) -> Result<Option<AtmAddress>, String> {
    // SAFETY: as the caller guarantees.
    let (ty, n) = unsafe { (rd::<4>(p, 0), rd::<4>(p, l::AA_DIGITS) as usize) };
    let kind = match ty {
        t if t == l::ATM_NSAP => AtmAddressType::Nsap,
        t if t == l::ATM_E164 => AtmAddressType::E164,
        t => return Err(format!("ATM_ADDRESS type {t}")),
    };
    if n == 0 {
        return Ok(None);
    }
    if n > 20 {
        return Err(format!("ATM_ADDRESS with {n} digits"));
    }
    // SAFETY: 20 bytes of Address follow.
    let digits = unsafe { std::slice::from_raw_parts((p + l::AA_ADDRESS as usize) as *const u8, n) };
    AtmAddress::new(kind, digits).map(Some).ok_or_else(|| "ATM_ADDRESS digits refused".to_string())
}

fn write_flow(p: usize, f: &AtmFlowParameters) {
    // SAFETY: `p` is an ATM_FLOW_PARAMETERS inside a block of ours.
    unsafe {
        wr::<4>(p, 0, f.service_category as u64);
        wr::<4>(p, 4, u64::from(f.scr));
        wr::<4>(p, 8, u64::from(f.pcr));
        wr::<4>(p, 0x14, u64::from(f.mbs));
        wr::<4>(p, 0x18, u64::from(f.max_sdu_size));
    }
}

/// # Safety
/// `p` must be a readable ATM_FLOW_PARAMETERS.
unsafe fn read_flow(p: usize) -> Result<AtmFlowParameters, String> {
    // SAFETY: as the caller guarantees.
    let (sc, scr, pcr, mbs, sdu) =
        unsafe { (rd::<4>(p, 0), rd::<4>(p, 4), rd::<4>(p, 8), rd::<4>(p, 0x14), rd::<4>(p, 0x18)) };
    let service_category = ServiceCategory::from_u32(sc as u32).ok_or_else(|| format!("service category {sc}"))?;
    Ok(AtmFlowParameters {
        service_category,
        pcr: pcr as u32,
        scr: scr as u32,
        mbs: mbs as u32,
        max_sdu_size: sdu as u32,
    })
}

impl CParams {
    /// A block holding `p`: CO_CALL_PARAMETERS -> CO_CALL_MANAGER_PARAMETERS (Q.2931 specific)
    /// and CO_MEDIA_PARAMETERS (ATM specific).
    pub fn new(p: &CallParameters) -> CParams {
        let b = kernel_alloc(BLOCK);
        let cm = b + CM_AT;
        let media = b + MEDIA_AT;
        let atm = b + ATM_AT;
        // SAFETY: a fresh zeroed block of BLOCK bytes; every offset below is inside it.
        unsafe {
            wr::<4>(b, 0, u64::from(p.flags));
            wr::<8>(b, l::CCP_CALL_MGR, cm as u64);
            wr::<8>(b, l::CCP_MEDIA, media as u64);
            wr::<4>(cm, l::CCMP_SPECIFIC, l::CALLMGR_SPECIFIC_Q2931);
            wr::<4>(cm, l::CCMP_SPECIFIC + l::CSP_LENGTH, l::SIZEOF_Q2931_PARAMETERS);
            wr::<4>(media, 0, u64::from(p.media_flags));
            wr::<4>(media, l::CMP_MEDIA_SPECIFIC, l::ATM_MEDIA_SPECIFIC);
            wr::<4>(media, l::CMP_MEDIA_SPECIFIC + l::CSP_LENGTH, l::SIZEOF_ATM_MEDIA_PARAMETERS);
            wr::<4>(atm, 0, u64::from(p.media.connection_id.vpi));
            wr::<4>(atm, 4, u64::from(p.media.connection_id.vci));
            wr::<4>(atm, l::AMP_AAL_TYPE, p.media.aal_type as u64);
        }
        write_address(b + Q2931_AT, p.called.as_ref());
        write_address(b + Q2931_AT + l::Q2931_CALLING as usize, p.calling.as_ref());
        write_flow(atm + l::AMP_TRANSMIT as usize, &p.media.transmit);
        write_flow(atm + l::AMP_RECEIVE as usize, &p.media.receive);
        CParams(b)
    }
}

/// Reads a CO_CALL_PARAMETERS the driver built (or changed), checking every type and length.
///
/// # Safety
/// `p` must be NULL or a readable CO_CALL_PARAMETERS whose pointers are NULL or readable.
pub unsafe fn read(p: usize) -> Result<CallParameters, String> {
    if p == 0 {
        return Err("NULL CO_CALL_PARAMETERS".into());
    }
    // SAFETY: as the caller guarantees.
    unsafe {
        let flags = rd::<4>(p, 0) as u32;
        let cm = rd::<8>(p, l::CCP_CALL_MGR) as usize;
        let media = rd::<8>(p, l::CCP_MEDIA) as usize;
        let (mut called, mut calling) = (None, None);
        if cm != 0 {
            let ty = rd::<4>(cm, l::CCMP_SPECIFIC);
            let len = rd::<4>(cm, l::CCMP_SPECIFIC + l::CSP_LENGTH);
            // Without information elements the parameters end at InfoElements (0x3C).
            if ty == l::CALLMGR_SPECIFIC_Q2931 && len >= l::Q2931_INFO_ELEMENTS {
                let q = cm + (l::CCMP_SPECIFIC + l::CSP_PARAMETERS) as usize;
                called = read_address(q)?;
                calling = read_address(q + l::Q2931_CALLING as usize)?;
            } else if len != 0 {
                return Err(format!("CallMgrSpecific type {ty} length {len}"));
            }
        }
        if media == 0 {
            return Err("NULL MediaParameters".into());
        }
        let media_flags = rd::<4>(media, 0) as u32;
        let ty = rd::<4>(media, l::CMP_MEDIA_SPECIFIC);
        let len = rd::<4>(media, l::CMP_MEDIA_SPECIFIC + l::CSP_LENGTH);
        if ty != l::ATM_MEDIA_SPECIFIC || len < l::SIZEOF_ATM_MEDIA_PARAMETERS {
            return Err(format!(
                "MediaSpecific type {ty} length {len:#x} (want ATM_MEDIA_SPECIFIC, {:#x})",
                l::SIZEOF_ATM_MEDIA_PARAMETERS
            ));
        }
        let atm = media + l::CMP_ATM_PARAMS as usize;
        let vpi = rd::<4>(atm, 0);
        let vci = rd::<4>(atm, 4);
        let aal = rd::<4>(atm, l::AMP_AAL_TYPE);
        let aal_type = AalType::from_u32(aal as u32).ok_or_else(|| format!("AALType {aal}"))?;
        let connection_id = VpiVci {
            vpi: u16::try_from(vpi).map_err(|_| format!("VPI {vpi}"))?,
            vci: u16::try_from(vci).map_err(|_| format!("VCI {vci}"))?,
        };
        let media = AtmMediaParameters {
            connection_id,
            aal_type,
            transmit: read_flow(atm + l::AMP_TRANSMIT as usize)?,
            receive: read_flow(atm + l::AMP_RECEIVE as usize)?,
        };
        Ok(CallParameters { flags, media_flags, media, called, calling })
    }
}

/// A CO_ADDRESS_FAMILY (three ULONGs).
pub fn write_af(af: &CoAddressFamily) -> [u32; 3] {
    [af.address_family, af.major_version, af.minor_version]
}

/// # Safety
/// `p` must be a readable CO_ADDRESS_FAMILY.
pub unsafe fn read_af(p: usize) -> CoAddressFamily {
    // SAFETY: as the caller guarantees.
    unsafe {
        CoAddressFamily {
            address_family: rd::<4>(p, 0) as u32,
            major_version: rd::<4>(p, 4) as u32,
            minor_version: rd::<4>(p, 8) as u32,
        }
    }
}

/// A CO_SAP holding an ATM_SAP: SapType at 0, SapLength at 4, Sap at 8 (CO_SAP.Sap offset).
/// ATM_SAP: Blli (0x24 bytes) at 0, Bhli at 0x24, NumberOfAddresses at 0x34, Addresses at 0x38.
pub fn write_sap(sap: &Sap) -> Vec<u64> {
    const SAP_TYPE_E164: u64 = 2;
    const SAP_TYPE_NSAP: u64 = 1;
    let atm_len = 0x38 + l::SIZEOF_ATM_ADDRESS as usize;
    let total = 8 + atm_len;
    let mut buf = vec![0u64; total.div_ceil(8)];
    let b = buf.as_mut_ptr() as usize;
    let ty = match sap.address.map(|a| a.kind) {
        Some(AtmAddressType::Nsap) => SAP_TYPE_NSAP,
        _ => SAP_TYPE_E164,
    };
    // SAFETY: inside `buf`.
    unsafe {
        wr::<4>(b, 0, ty);
        wr::<4>(b, 4, atm_len as u64);
        wr::<4>(b, 8 + 0x34, u64::from(sap.address.is_some()));
    }
    write_address(b + 8 + 0x38, sap.address.as_ref());
    buf
}
