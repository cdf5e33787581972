//! CoNDIS / ATM call parameters: address family, SAP, flow and media parameters, ATM
//! addresses and the Q.2931 call-manager parameters (mingw-w64's ndis.h / atm.h have them).

use super::*;

// ---- CoNDIS / ATM parameter structures (in mingw's ndis.h / atm.h) ----------------------------------------

// layout: header
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct CO_ADDRESS_FAMILY {
    pub AddressFamily: NDIS_AF,
    pub MajorVersion: ULONG,
    pub MinorVersion: ULONG,
}
pub type PCO_ADDRESS_FAMILY = *mut CO_ADDRESS_FAMILY;

// layout: header
#[repr(C)]
pub struct CO_SPECIFIC_PARAMETERS {
    pub ParamType: ULONG,
    pub Length: ULONG,
    pub Parameters: [UCHAR; 1],
}

// layout: header
#[repr(C)]
pub struct CO_SAP {
    pub SapType: ULONG,
    pub SapLength: ULONG,
    pub Sap: [UCHAR; 1],
}
pub type PCO_SAP = *mut CO_SAP;

// layout: header
#[repr(C)]
#[derive(Copy, Clone, Default)]
pub struct FLOWSPEC {
    pub TokenRate: ULONG,
    pub TokenBucketSize: ULONG,
    pub PeakBandwidth: ULONG,
    pub Latency: ULONG,
    pub DelayVariation: ULONG,
    pub ServiceType: ULONG,
    pub MaxSduSize: ULONG,
    pub MinimumPolicedSize: ULONG,
}

// layout: header
#[repr(C)]
pub struct CO_CALL_MANAGER_PARAMETERS {
    pub Transmit: FLOWSPEC,
    pub Receive: FLOWSPEC,
    pub CallMgrSpecific: CO_SPECIFIC_PARAMETERS,
}
pub type PCO_CALL_MANAGER_PARAMETERS = *mut CO_CALL_MANAGER_PARAMETERS;

/// `DECLSPEC_ALIGN(8)` (the WDK's `POINTER_ALIGNMENT` on x64) on a structure member.
#[repr(C, align(8))]
pub struct A8<T>(pub T);

/// `CO_MEDIA_PARAMETERS`. The WDK declares `CO_SPECIFIC_PARAMETERS POINTER_ALIGNMENT
/// MediaSpecific`, so on x64 it sits at 0x10 and the structure is 0x20 octets; mingw-w64's
/// ddk/ndis.h omits the alignment (0xC / 0x18), so this one is not `layout: header`-checked: the
/// WDK values are in ndis6-facts.tsv and checked by tests/ffi_facts.rs.
#[repr(C)]
pub struct CO_MEDIA_PARAMETERS {
    pub Flags: ULONG,
    pub ReceivePriority: ULONG,
    pub ReceiveSizeHint: ULONG,
    pub MediaSpecific: A8<CO_SPECIFIC_PARAMETERS>,
}
pub type PCO_MEDIA_PARAMETERS = *mut CO_MEDIA_PARAMETERS;

// layout: header
#[repr(C)]
pub struct CO_CALL_PARAMETERS {
    pub Flags: ULONG,
    pub CallMgrParameters: PCO_CALL_MANAGER_PARAMETERS,
    pub MediaParameters: PCO_MEDIA_PARAMETERS,
}
pub type PCO_CALL_PARAMETERS = *mut CO_CALL_PARAMETERS;

pub const ATM_MEDIA_SPECIFIC: ULONG = 1;
pub const CALLMGR_SPECIFIC_Q2931: ULONG = 1;
pub const ATM_NSAP: ULONG = 0;
pub const ATM_E164: ULONG = 1;
pub const ATM_ADDRESS_LENGTH: usize = 20;
pub const SAP_TYPE_NSAP: ULONG = 1;
pub const SAP_TYPE_E164: ULONG = 2;

// layout: header
#[repr(C)]
#[derive(Copy, Clone, Default)]
pub struct ATM_VPIVCI {
    pub Vpi: ULONG,
    pub Vci: ULONG,
}

// layout: header
#[repr(C)]
#[derive(Copy, Clone, Default)]
pub struct ATM_FLOW_PARAMETERS {
    pub ServiceCategory: ULONG,
    pub AverageCellRate: ULONG,
    pub PeakCellRate: ULONG,
    pub MinimumCellRate: ULONG,
    pub InitialCellRate: ULONG,
    pub BurstLengthCells: ULONG,
    pub MaxSduSize: ULONG,
    pub TransientBufferExposure: ULONG,
    pub CumulativeRMFixedRTT: ULONG,
    pub RateIncreaseFactor: UCHAR,
    pub RateDecreaseFactor: UCHAR,
    pub ACRDecreaseTimeFactor: USHORT,
    pub MaximumCellsPerForwardRMCell: UCHAR,
    pub MaximumForwardRMCellInterval: UCHAR,
    pub CutoffDecreaseFactor: UCHAR,
    pub Reserved1: UCHAR,
    pub MissingRMCellCount: ULONG,
    pub Reserved2: ULONG,
    pub Reserved3: ULONG,
}

// layout: header
#[repr(C)]
#[derive(Copy, Clone, Default)]
pub struct ATM_MEDIA_PARAMETERS {
    pub ConnectionId: ATM_VPIVCI,
    pub AALType: ULONG,
    pub CellDelayVariationCLP0: ULONG,
    pub CellDelayVariationCLP1: ULONG,
    pub CellLossRatioCLP0: ULONG,
    pub CellLossRatioCLP1: ULONG,
    pub CellTransferDelayCLP0: ULONG,
    pub CellTransferDelayCLP1: ULONG,
    pub DefaultCLP: ULONG,
    pub Transmit: ATM_FLOW_PARAMETERS,
    pub Receive: ATM_FLOW_PARAMETERS,
}

// layout: header
#[repr(C)]
#[derive(Copy, Clone)]
pub struct ATM_ADDRESS {
    pub AddressType: ULONG,
    pub NumberOfDigits: ULONG,
    pub Address: [UCHAR; ATM_ADDRESS_LENGTH],
}

// layout: header
#[repr(C)]
pub struct Q2931_CALLMGR_PARAMETERS {
    pub CalledParty: ATM_ADDRESS,
    pub CallingParty: ATM_ADDRESS,
    pub InfoElementCount: ULONG,
    pub InfoElements: [UCHAR; 1],
}

// layout: header
#[repr(C)]
#[derive(Copy, Clone)]
pub struct ATM_BLLI_IE {
    pub Layer2Protocol: ULONG,
    pub Layer2Mode: UCHAR,
    pub Layer2WindowSize: UCHAR,
    pub Layer2UserSpecifiedProtocol: ULONG,
    pub Layer3Protocol: ULONG,
    pub Layer3Mode: UCHAR,
    pub Layer3DefaultPacketSize: UCHAR,
    pub Layer3PacketWindowSize: UCHAR,
    pub Layer3UserSpecifiedProtocol: ULONG,
    pub Layer3IPI: ULONG,
    pub SnapId: [UCHAR; 5],
}

// layout: header
#[repr(C)]
#[derive(Copy, Clone)]
pub struct ATM_BHLI_IE {
    pub HighLayerInfoType: ULONG,
    pub HighLayerInfoLength: ULONG,
    pub HighLayerInfo: [UCHAR; 8],
}

// layout: header
#[repr(C)]
pub struct ATM_SAP {
    pub Blli: ATM_BLLI_IE,
    pub Bhli: ATM_BHLI_IE,
    pub NumberOfAddresses: ULONG,
    pub Addresses: [UCHAR; 1],
}
