//! Our own declarations of the NDIS 6 / kernel surface the driver uses (wdk-sys has no NDIS).
//!
//! Names follow the C headers so `scripts/ffi-check` can compare them with bindgen's output for
//! mingw-w64's `ddk/ndis.h`, `ddk/atm.h`, `ddk/wdm.h` and `ntddndis.h`:
//! - every function in [`ndis_imports!`]'s `header` group is signature-checked against the header;
//! - the `by_name` group (NDIS 6, not in mingw's NDIS 5 era header) is checked by name against the
//!   exports of `libndis.a` / `libntoskrnl.a`;
//! - every `#[repr(C)]` struct marked `// layout: header` is size/offset-checked against the
//!   header; the NDIS 6 structures (no header here) carry the `const` layout assertions at the end
//!   of this file, derived from the documented field lists and the x64 C layout rules.
//!
//! The `NdisMCm*` completion/dispatch names are macros over `NdisCm*` in the WDK's ndis.h, so the
//! `NdisCm*` symbols are bound (`condis-contract.md` §1.2).
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, clippy::upper_case_acronyms)]

use core::ffi::c_void;

// ---- scalar types ----------------------------------------------------------------------------------

pub type PVOID = *mut c_void;
pub type NDIS_HANDLE = *mut c_void;
pub type PNDIS_HANDLE = *mut NDIS_HANDLE;
pub type NDIS_STATUS = i32;
pub type PNDIS_STATUS = *mut NDIS_STATUS;
pub type NTSTATUS = i32;
pub type UINT = u32;
pub type ULONG = u32;
pub type USHORT = u16;
pub type UCHAR = u8;
pub type BOOLEAN = u8;
pub type PBOOLEAN = *mut BOOLEAN;
pub type PULONG = *mut ULONG;
pub type ULONG64 = u64;
pub type SIZE_T = usize;
pub type KIRQL = u8;
pub type KSPIN_LOCK = usize;
pub type PKSPIN_LOCK = *mut KSPIN_LOCK;
pub type NDIS_OID = ULONG;
pub type NDIS_PORT_NUMBER = ULONG;
pub type NDIS_MEDIUM = i32;
pub type NDIS_PARAMETER_TYPE = i32;
pub type NDIS_INTERFACE_TYPE = i32;
pub type NDIS_DEVICE_PNP_EVENT = i32;
pub type NDIS_HALT_ACTION = i32;
pub type NDIS_SHUTDOWN_ACTION = i32;
pub type NDIS_REQUEST_TYPE = i32;
pub type POOL_TYPE = i32;
pub type EX_POOL_PRIORITY = i32;
pub type NDIS_AF = ULONG;
pub type PWSTR = *mut u16;

/// `LARGE_INTEGER` / `PHYSICAL_ADDRESS` (a union in C; passed and laid out as one `i64` on x64).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default)]
pub struct LARGE_INTEGER {
    pub QuadPart: i64,
}
pub type PHYSICAL_ADDRESS = LARGE_INTEGER;
pub type NDIS_PHYSICAL_ADDRESS = LARGE_INTEGER;
pub type PNDIS_PHYSICAL_ADDRESS = *mut NDIS_PHYSICAL_ADDRESS;

/// Opaque kernel objects we only pass by pointer.
#[repr(C)]
pub struct DRIVER_OBJECT {
    _opaque: [u8; 0],
}
pub type PDRIVER_OBJECT = *mut DRIVER_OBJECT;
#[repr(C)]
pub struct DEVICE_OBJECT {
    _opaque: [u8; 0],
}
pub type PDEVICE_OBJECT = *mut DEVICE_OBJECT;
#[repr(C)]
pub struct SCATTER_GATHER_LIST {
    _opaque: [u8; 0],
}
pub type PSCATTER_GATHER_LIST = *mut SCATTER_GATHER_LIST;

// layout: header
#[repr(C)]
#[derive(Copy, Clone)]
pub struct UNICODE_STRING {
    pub Length: USHORT,
    pub MaximumLength: USHORT,
    pub Buffer: PWSTR,
}
pub type PUNICODE_STRING = *mut UNICODE_STRING;
pub type NDIS_STRING = UNICODE_STRING;
pub type PNDIS_STRING = *mut NDIS_STRING;

/// `MDL` (we never read it; NdisAllocateMdl/NdisFreeMdl own it).
// layout: header
#[repr(C)]
pub struct MDL {
    pub Next: *mut MDL,
    pub Size: i16,
    pub MdlFlags: i16,
    pub Process: PVOID,
    pub MappedSystemVa: PVOID,
    pub StartVa: PVOID,
    pub ByteCount: ULONG,
    pub ByteOffset: ULONG,
}
pub type PMDL = *mut MDL;

/// `KDPC`: opaque storage, initialised by KeInitializeDpc (64 octets on x64).
// layout: header
#[repr(C, align(8))]
pub struct KDPC {
    _opaque: [u8; 64],
}
pub type PKDPC = *mut KDPC;
pub type PKDEFERRED_ROUTINE = Option<
    unsafe extern "system" fn(Dpc: PKDPC, DeferredContext: PVOID, SystemArgument1: PVOID, SystemArgument2: PVOID),
>;

/// `PROCESSOR_NUMBER`.
// layout: header
#[repr(C)]
#[derive(Copy, Clone, Default)]
pub struct PROCESSOR_NUMBER {
    pub Group: USHORT,
    pub Number: UCHAR,
    pub Reserved: UCHAR,
}
pub type PPROCESSOR_NUMBER = *mut PROCESSOR_NUMBER;

// ---- NDIS object header and constants ------------------------------------------------------------------

// layout: header
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct NDIS_OBJECT_HEADER {
    pub Type: UCHAR,
    pub Revision: UCHAR,
    pub Size: USHORT,
}

impl NDIS_OBJECT_HEADER {
    pub const fn new(ty: u8, revision: u8, size: usize) -> Self {
        NDIS_OBJECT_HEADER { Type: ty, Revision: revision, Size: size as u16 }
    }
}

pub const NDIS_OBJECT_TYPE_DEFAULT: u8 = 0x80;
pub const NDIS_OBJECT_TYPE_MINIPORT_INIT_PARAMETERS: u8 = 0x81;
pub const NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION: u8 = 0x83;
pub const NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT: u8 = 0x84;
pub const NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS: u8 = 0x8a;
pub const NDIS_OBJECT_TYPE_CO_MINIPORT_CHARACTERISTICS: u8 = 0x91;
pub const NDIS_OBJECT_TYPE_OID_REQUEST: u8 = 0x96;
pub const NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS: u8 = 0x97;
pub const NDIS_OBJECT_TYPE_STATUS_INDICATION: u8 = 0x98;
pub const NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES: u8 = 0x9e;
pub const NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES: u8 = 0x9f;
pub const NDIS_OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS: u8 = 0xa5;
pub const NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT: u8 = 0xa9;

pub const NDIS_STATUS_SUCCESS: NDIS_STATUS = 0;
pub const NDIS_STATUS_FAILURE: NDIS_STATUS = 0xC000_0001_u32 as i32;
pub const NDIS_STATUS_RESOURCES: NDIS_STATUS = 0xC000_009A_u32 as i32;
pub const NDIS_STATUS_ADAPTER_NOT_FOUND: NDIS_STATUS = 0xC001_0006_u32 as i32;
pub const NDIS_STATUS_LINK_STATE: NDIS_STATUS = 0x4001_0017;

/// `NDIS_MEDIUM`: NdisMediumAtm.
pub const NdisMediumAtm: NDIS_MEDIUM = 8;
/// `NDIS_INTERFACE_TYPE`: NdisInterfacePci (= PCIBus).
pub const NdisInterfacePci: NDIS_INTERFACE_TYPE = 5;
/// `NDIS_DEVICE_PNP_EVENT` (QueryRemoved 0, Removed 1, SurpriseRemoved 2, … in the DDK/WDK ndis.h).
// header-differs: mingw's netpnp.h (marked FIXME) lists only SurpriseRemoved, PowerProfileChanged, so it says 0.
pub const NdisDevicePnPEventSurpriseRemoved: NDIS_DEVICE_PNP_EVENT = 2;
/// `NDIS_PARAMETER_TYPE`.
pub const NdisParameterInteger: NDIS_PARAMETER_TYPE = 0;
pub const NdisParameterString: NDIS_PARAMETER_TYPE = 2;
/// `NDIS_REQUEST_TYPE`.
pub const NdisRequestQueryInformation: NDIS_REQUEST_TYPE = 0;
pub const NdisRequestSetInformation: NDIS_REQUEST_TYPE = 1;
pub const NdisRequestQueryStatistics: NDIS_REQUEST_TYPE = 2;
/// `POOL_TYPE`: NonPagedPoolNx.
pub const NonPagedPoolNx: POOL_TYPE = 512;
/// `EX_POOL_PRIORITY`: NormalPoolPriority.
pub const NormalPoolPriority: EX_POOL_PRIORITY = 16;
/// `CM_RESOURCE_TYPE`.
pub const CmResourceTypeInterrupt: u8 = 2;
pub const CmResourceTypeMemory: u8 = 3;

pub const NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE: ULONG = 0x1;
pub const NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK: ULONG = 0x4;
/// 0x8 is NDIS_MINIPORT_ATTRIBUTES_NOT_CO_NDIS (a connectionless miniport): never set it here.
pub const NDIS_MINIPORT_ATTRIBUTES_NOT_CO_NDIS: ULONG = 0x8;
pub const NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER: ULONG = 0x40;
pub const NDIS_SG_DMA_64_BIT_ADDRESS: ULONG = 0x1;
pub const NDIS_SEND_FLAGS_DISPATCH_LEVEL: ULONG = 0x1;
pub const NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL: ULONG = 0x1;
pub const NDIS_MAC_OPTION_NDISWAN: ULONG = 0; // not a WAN miniport: no MAC options
pub const MediaConnectStateUnknown: i32 = 0;
pub const MediaConnectStateConnected: i32 = 1;
pub const MediaConnectStateDisconnected: i32 = 2;
pub const MediaDuplexStateFull: i32 = 2;
pub const NET_IF_ACCESS_POINT_TO_MULTI_POINT: i32 = 4;
pub const NET_IF_DIRECTION_SENDRECEIVE: i32 = 0;
pub const NET_IF_CONNECTION_DEDICATED: i32 = 1;
/// `IF_TYPE_ATM` (IANA ifType 37).
pub const IF_TYPE_ATM: u16 = 37;
pub const NdisPhysicalMediumUnspecified: i32 = 0;

pub const OID_GEN_SUPPORTED_LIST: NDIS_OID = 0x0001_0101;
pub const OID_GEN_HARDWARE_STATUS: NDIS_OID = 0x0001_0102;
pub const OID_GEN_MEDIA_SUPPORTED: NDIS_OID = 0x0001_0103;
pub const OID_GEN_MEDIA_IN_USE: NDIS_OID = 0x0001_0104;
pub const OID_GEN_VENDOR_ID: NDIS_OID = 0x0001_010C;
pub const OID_GEN_VENDOR_DESCRIPTION: NDIS_OID = 0x0001_010D;
pub const OID_GEN_DRIVER_VERSION: NDIS_OID = 0x0001_0110;
pub const OID_GEN_MEDIA_CONNECT_STATUS: NDIS_OID = 0x0001_0114;
pub const OID_ATM_SUPPORTED_VC_RATES: NDIS_OID = 0x0801_0101;
pub const OID_ATM_SUPPORTED_SERVICE_CATEGORY: NDIS_OID = 0x0801_0102;
pub const OID_ATM_SUPPORTED_AAL_TYPES: NDIS_OID = 0x0801_0103;
pub const OID_ATM_HW_CURRENT_ADDRESS: NDIS_OID = 0x0801_0104;
pub const OID_ATM_MAX_ACTIVE_VCS: NDIS_OID = 0x0801_0105;
pub const OID_ATM_MAX_AAL5_PACKET_SIZE: NDIS_OID = 0x0801_010B;

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

// ---- configuration and resources ---------------------------------------------------------------------------

/// `NDIS_CONFIGURATION_PARAMETER` (the integer arm of its union is at offset 8 on x64).
// layout: header
#[repr(C)]
pub struct NDIS_CONFIGURATION_PARAMETER {
    pub ParameterType: NDIS_PARAMETER_TYPE,
    pub ParameterData: NDIS_CONFIGURATION_PARAMETER_DATA,
}
#[repr(C)]
pub union NDIS_CONFIGURATION_PARAMETER_DATA {
    pub IntegerData: ULONG,
    pub StringData: NDIS_STRING,
    pub BinaryData: [u8; 16],
}
pub type PNDIS_CONFIGURATION_PARAMETER = *mut NDIS_CONFIGURATION_PARAMETER;

/// `NDIS_CONFIGURATION_OBJECT` (NDIS 6).
#[repr(C)]
pub struct NDIS_CONFIGURATION_OBJECT {
    pub Header: NDIS_OBJECT_HEADER,
    pub NdisHandle: NDIS_HANDLE,
    pub Flags: ULONG,
}
pub type PNDIS_CONFIGURATION_OBJECT = *mut NDIS_CONFIGURATION_OBJECT;
pub const NDIS_CONFIGURATION_OBJECT_REVISION_1: u8 = 1;
/// Through Flags (sizeof is 0x18).
pub const NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1: usize = 0x14;

/// `CM_PARTIAL_RESOURCE_DESCRIPTOR` (`#pragma pack(4)` in wdm.h: 20 octets on x64). The union
/// `u` is kept as raw words; [`CmPartialResourceDescriptor::memory`] and `interrupt` read the arms.
// layout: header
#[repr(C, packed(4))]
#[derive(Copy, Clone)]
pub struct CM_PARTIAL_RESOURCE_DESCRIPTOR {
    pub Type: UCHAR,
    pub ShareDisposition: UCHAR,
    pub Flags: USHORT,
    pub u: [u32; 4],
}

impl CM_PARTIAL_RESOURCE_DESCRIPTOR {
    /// `u.Memory`: (Start, Length).
    pub fn memory(&self) -> (i64, u32) {
        let u = self.u;
        let start = (u64::from(u[1]) << 32 | u64::from(u[0])) as i64;
        (start, u[2])
    }
}

// layout: header
#[repr(C)]
pub struct CM_PARTIAL_RESOURCE_LIST {
    pub Version: USHORT,
    pub Revision: USHORT,
    pub Count: ULONG,
    pub PartialDescriptors: [CM_PARTIAL_RESOURCE_DESCRIPTOR; 1],
}
pub type PNDIS_RESOURCE_LIST = *mut CM_PARTIAL_RESOURCE_LIST;

/// `NDIS_MINIPORT_INIT_PARAMETERS` (the fields up to the resource list; NDIS owns the rest).
#[repr(C)]
pub struct NDIS_MINIPORT_INIT_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: ULONG,
    pub AllocatedResources: PNDIS_RESOURCE_LIST,
    pub IMDeviceInstanceContext: NDIS_HANDLE,
    pub MiniportAddDeviceContext: NDIS_HANDLE,
}
pub type PNDIS_MINIPORT_INIT_PARAMETERS = *mut NDIS_MINIPORT_INIT_PARAMETERS;

/// `NET_DEVICE_PNP_EVENT`.
#[repr(C)]
pub struct NET_DEVICE_PNP_EVENT {
    pub Header: NDIS_OBJECT_HEADER,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub DevicePnPEvent: NDIS_DEVICE_PNP_EVENT,
    pub InformationBuffer: PVOID,
    pub InformationBufferLength: ULONG,
    pub NdisReserved: [UCHAR; 2 * core::mem::size_of::<PVOID>()],
}
pub type PNET_DEVICE_PNP_EVENT = *mut NET_DEVICE_PNP_EVENT;

// ---- NET_BUFFER_LIST / NET_BUFFER (NDIS 6, nbl.h) -------------------------------------------------------------

/// `DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT)` on x64.
#[repr(C, align(16))]
pub struct A16<T>(pub T);

/// `NET_BUFFER_DATA` inside the leading union of `NET_BUFFER` (the union also holds an
/// `SLIST_HEADER`, hence 16-byte alignment and 48 octets).
#[repr(C, align(16))]
pub struct NET_BUFFER_DATA {
    pub Next: *mut NET_BUFFER,
    pub CurrentMdl: PMDL,
    pub CurrentMdlOffset: ULONG,
    pub DataLength: NET_BUFFER_DATA_LENGTH,
    pub MdlChain: PMDL,
    pub DataOffset: ULONG,
}

/// `union { ULONG DataLength; SIZE_T stDataLength; }`: NDIS and protocols write the ULONG arm
/// (NET_BUFFER_DATA_LENGTH), so only those 32 bits are meaningful on read.
#[repr(C)]
#[derive(Copy, Clone)]
pub union NET_BUFFER_DATA_LENGTH {
    pub DataLength: ULONG,
    pub stDataLength: SIZE_T,
}

impl NET_BUFFER_DATA_LENGTH {
    /// The ULONG arm (what NDIS wrote).
    pub fn get(self) -> usize {
        // SAFETY: every bit pattern is a valid ULONG; the low 32 bits are the ULONG arm on x64.
        unsafe { self.DataLength as usize }
    }
    /// Both arms (the SIZE_T write zero-extends, so the ULONG arm reads the same value).
    pub fn new(len: u32) -> Self {
        NET_BUFFER_DATA_LENGTH { stDataLength: len as SIZE_T }
    }
}

/// `NET_BUFFER`, with the documented x64 offsets (asserted below).
#[repr(C, align(16))]
pub struct NET_BUFFER {
    pub NetBufferData: NET_BUFFER_DATA,
    pub ChecksumBias: USHORT,
    pub Reserved: USHORT,
    pub NdisPoolHandle: NDIS_HANDLE,
    pub NdisReserved: A16<[PVOID; 2]>,
    pub ProtocolReserved: A16<[PVOID; 6]>,
    pub MiniportReserved: A16<[PVOID; 4]>,
    pub DataPhysicalAddress: NDIS_PHYSICAL_ADDRESS,
    pub SharedMemoryInfo: PVOID,
}
pub type PNET_BUFFER = *mut NET_BUFFER;

/// `NET_BUFFER_LIST` up to the start of `NetBufferListInfo[]` (whose length depends on the NDIS
/// version; the driver never allocates an NBL itself, so the total size is irrelevant).
#[repr(C, align(16))]
pub struct NET_BUFFER_LIST {
    pub Next: *mut NET_BUFFER_LIST,
    pub FirstNetBuffer: PNET_BUFFER,
    pub Context: PVOID,
    pub ParentNetBufferList: *mut NET_BUFFER_LIST,
    pub NdisPoolHandle: NDIS_HANDLE,
    pub NdisReserved: A16<[PVOID; 2]>,
    pub ProtocolReserved: A16<[PVOID; 4]>,
    pub MiniportReserved: A16<[PVOID; 2]>,
    pub Scratch: PVOID,
    pub SourceHandle: NDIS_HANDLE,
    pub NblFlags: ULONG,
    pub ChildRefCount: i32,
    pub Flags: ULONG,
    pub Status: NDIS_STATUS,
    pub NetBufferListInfo: [PVOID; 0],
}
pub type PNET_BUFFER_LIST = *mut NET_BUFFER_LIST;

/// `NET_BUFFER_LIST_POOL_PARAMETERS` revision 1.
#[repr(C)]
pub struct NET_BUFFER_LIST_POOL_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub ProtocolId: UCHAR,
    pub fAllocateNetBuffer: BOOLEAN,
    pub ContextSize: USHORT,
    pub PoolTag: ULONG,
    pub DataSize: ULONG,
}
pub const NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1: u8 = 1;
pub const NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1: usize = 16;

// ---- OID requests, status indications, link state -----------------------------------------------------------

#[repr(C)]
#[derive(Copy, Clone)]
pub struct _QUERY {
    pub Oid: NDIS_OID,
    pub InformationBuffer: PVOID,
    pub InformationBufferLength: UINT,
    pub BytesWritten: UINT,
    pub BytesNeeded: UINT,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub struct _SET {
    pub Oid: NDIS_OID,
    pub InformationBuffer: PVOID,
    pub InformationBufferLength: UINT,
    pub BytesRead: UINT,
    pub BytesNeeded: UINT,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub struct _METHOD {
    pub Oid: NDIS_OID,
    pub InformationBuffer: PVOID,
    pub InputBufferLength: ULONG,
    pub OutputBufferLength: ULONG,
    pub MethodId: ULONG,
    pub BytesWritten: UINT,
    pub BytesRead: UINT,
    pub BytesNeeded: UINT,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub union _REQUEST_DATA {
    pub QUERY_INFORMATION: _QUERY,
    pub SET_INFORMATION: _SET,
    pub METHOD_INFORMATION: _METHOD,
}

pub const NDIS_OID_REQUEST_NDIS_RESERVED_SIZE: usize = 16;

/// `NDIS_OID_REQUEST` (NDIS 6; mingw's ntddndis.h only forward-declares it).
#[repr(C)]
pub struct NDIS_OID_REQUEST {
    pub Header: NDIS_OBJECT_HEADER,
    pub RequestType: NDIS_REQUEST_TYPE,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub Timeout: UINT,
    pub RequestId: PVOID,
    pub RequestHandle: NDIS_HANDLE,
    pub DATA: _REQUEST_DATA,
    pub NdisReserved: [UCHAR; NDIS_OID_REQUEST_NDIS_RESERVED_SIZE * core::mem::size_of::<PVOID>()],
    pub MiniportReserved: [UCHAR; 2 * core::mem::size_of::<PVOID>()],
    pub SourceReserved: [UCHAR; 2 * core::mem::size_of::<PVOID>()],
    pub SupportedRevision: UCHAR,
    pub Reserved1: UCHAR,
    pub Reserved2: USHORT,
}
pub type PNDIS_OID_REQUEST = *mut NDIS_OID_REQUEST;

// layout: header
#[repr(C)]
pub struct NDIS_LINK_STATE {
    pub Header: NDIS_OBJECT_HEADER,
    pub MediaConnectState: i32,
    pub MediaDuplexState: i32,
    pub XmitLinkSpeed: ULONG64,
    pub RcvLinkSpeed: ULONG64,
    pub PauseFunctions: i32,
    pub AutoNegotiationFlags: ULONG,
}
pub const NDIS_LINK_STATE_REVISION_1: u8 = 1;
pub const NDIS_SIZEOF_LINK_STATE_REVISION_1: usize = 0x28;

/// `GUID`.
// layout: header
#[repr(C)]
#[derive(Copy, Clone, Default)]
pub struct GUID {
    pub Data1: u32,
    pub Data2: u16,
    pub Data3: u16,
    pub Data4: [u8; 8],
}

/// `NDIS_STATUS_INDICATION` revision 1.
#[repr(C)]
pub struct NDIS_STATUS_INDICATION {
    pub Header: NDIS_OBJECT_HEADER,
    pub SourceHandle: NDIS_HANDLE,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub StatusCode: NDIS_STATUS,
    pub Flags: ULONG,
    pub DestinationHandle: NDIS_HANDLE,
    pub RequestId: PVOID,
    pub StatusBuffer: PVOID,
    pub StatusBufferSize: ULONG,
    pub Guid: GUID,
    pub NdisReserved: [PVOID; 4],
}
pub type PNDIS_STATUS_INDICATION = *mut NDIS_STATUS_INDICATION;
pub const NDIS_STATUS_INDICATION_REVISION_1: u8 = 1;
pub const NDIS_SIZEOF_STATUS_INDICATION_REVISION_1: usize = 0x70;

// ---- miniport attributes ----------------------------------------------------------------------------------------

/// `NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES` revision 1.
#[repr(C)]
pub struct NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub MiniportAdapterContext: NDIS_HANDLE,
    pub AttributeFlags: ULONG,
    pub CheckForHangTimeInSeconds: UINT,
    pub InterfaceType: NDIS_INTERFACE_TYPE,
}
pub const NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1: u8 = 1;
pub const NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1: usize = 0x1C;

/// `NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES` revision 1 (NDIS 6.0).
#[repr(C)]
pub struct NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: ULONG,
    pub MediaType: NDIS_MEDIUM,
    pub PhysicalMediumType: i32,
    pub MtuSize: ULONG,
    pub MaxXmitLinkSpeed: ULONG64,
    pub XmitLinkSpeed: ULONG64,
    pub MaxRcvLinkSpeed: ULONG64,
    pub RcvLinkSpeed: ULONG64,
    pub MediaConnectState: i32,
    pub MediaDuplexState: i32,
    pub LookaheadSize: ULONG,
    pub PowerManagementCapabilities: PVOID,
    pub MacOptions: ULONG,
    pub SupportedPacketFilters: ULONG,
    pub MaxMulticastListSize: ULONG,
    pub MacAddressLength: USHORT,
    pub PermanentMacAddress: [UCHAR; 32],
    pub CurrentMacAddress: [UCHAR; 32],
    pub RecvScaleCapabilities: PVOID,
    pub AccessType: i32,
    pub DirectionType: i32,
    pub ConnectionType: i32,
    pub IfType: u16,
    pub IfConnectorPresent: BOOLEAN,
    pub SupportedStatistics: ULONG,
    pub SupportedPauseFunctions: ULONG,
    pub DataBackFillSize: ULONG,
    pub ContextBackFillSize: ULONG,
    pub SupportedOidList: *const NDIS_OID,
    pub SupportedOidListLength: ULONG,
    pub AutoNegotiationFlags: ULONG,
}
pub const NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1: u8 = 1;
pub const NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1: usize = 0xD8;

// ---- handler types and characteristics ---------------------------------------------------------------------------

pub type SET_OPTIONS_HANDLER =
    unsafe extern "system" fn(NdisDriverHandle: NDIS_HANDLE, DriverContext: NDIS_HANDLE) -> NDIS_STATUS;
pub type MINIPORT_INITIALIZE_HANDLER = unsafe extern "system" fn(
    NdisMiniportHandle: NDIS_HANDLE,
    MiniportDriverContext: NDIS_HANDLE,
    MiniportInitParameters: PNDIS_MINIPORT_INIT_PARAMETERS,
) -> NDIS_STATUS;
pub type MINIPORT_HALT_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, HaltAction: NDIS_HALT_ACTION);
pub type MINIPORT_DRIVER_UNLOAD = unsafe extern "system" fn(DriverObject: PDRIVER_OBJECT);
pub type MINIPORT_PAUSE_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, PauseParameters: PVOID) -> NDIS_STATUS;
pub type MINIPORT_RESTART_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, RestartParameters: PVOID) -> NDIS_STATUS;
pub type MINIPORT_OID_REQUEST_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, OidRequest: PNDIS_OID_REQUEST) -> NDIS_STATUS;
pub type MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    NetBufferList: PNET_BUFFER_LIST,
    PortNumber: NDIS_PORT_NUMBER,
    SendFlags: ULONG,
);
pub type MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    NetBufferLists: PNET_BUFFER_LIST,
    ReturnFlags: ULONG,
);
pub type MINIPORT_CANCEL_SEND_HANDLER = unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, CancelId: PVOID);
pub type MINIPORT_CHECK_FOR_HANG_HANDLER = unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE) -> BOOLEAN;
pub type MINIPORT_RESET_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, AddressingReset: PBOOLEAN) -> NDIS_STATUS;
pub type MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, NetDevicePnPEvent: PNET_DEVICE_PNP_EVENT);
pub type MINIPORT_SHUTDOWN_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, ShutdownAction: NDIS_SHUTDOWN_ACTION);
pub type MINIPORT_CANCEL_OID_REQUEST_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, RequestId: PVOID);
pub type MINIPORT_DIRECT_OID_REQUEST_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, OidRequest: PNDIS_OID_REQUEST) -> NDIS_STATUS;
pub type MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, RequestId: PVOID);

/// `NDIS_MINIPORT_DRIVER_CHARACTERISTICS`, declared through the revision-2 fields; the driver
/// registers it as revision 1 (size 0x88: NDIS 6.0), so NDIS reads no further than
/// CancelOidRequestHandler.
#[repr(C)]
pub struct NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
    pub Header: NDIS_OBJECT_HEADER,
    pub MajorNdisVersion: UCHAR,
    pub MinorNdisVersion: UCHAR,
    pub MajorDriverVersion: UCHAR,
    pub MinorDriverVersion: UCHAR,
    pub Flags: ULONG,
    pub SetOptionsHandler: Option<SET_OPTIONS_HANDLER>,
    pub InitializeHandlerEx: Option<MINIPORT_INITIALIZE_HANDLER>,
    pub HaltHandlerEx: Option<MINIPORT_HALT_HANDLER>,
    pub UnloadHandler: Option<MINIPORT_DRIVER_UNLOAD>,
    pub PauseHandler: Option<MINIPORT_PAUSE_HANDLER>,
    pub RestartHandler: Option<MINIPORT_RESTART_HANDLER>,
    pub OidRequestHandler: Option<MINIPORT_OID_REQUEST_HANDLER>,
    pub SendNetBufferListsHandler: Option<MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER>,
    pub ReturnNetBufferListsHandler: Option<MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER>,
    pub CancelSendHandler: Option<MINIPORT_CANCEL_SEND_HANDLER>,
    pub CheckForHangHandlerEx: Option<MINIPORT_CHECK_FOR_HANG_HANDLER>,
    pub ResetHandlerEx: Option<MINIPORT_RESET_HANDLER>,
    pub DevicePnPEventNotifyHandler: Option<MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER>,
    pub ShutdownHandlerEx: Option<MINIPORT_SHUTDOWN_HANDLER>,
    pub CancelOidRequestHandler: Option<MINIPORT_CANCEL_OID_REQUEST_HANDLER>,
    pub DirectOidRequestHandler: Option<MINIPORT_DIRECT_OID_REQUEST_HANDLER>,
    pub CancelDirectOidRequestHandler: Option<MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER>,
}
pub const NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1: u8 = 1;
/// Through CancelOidRequestHandler: an NDIS 6.0 miniport (the Direct OID handlers are 6.1).
pub const NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1: usize = 0x88;
pub const NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: u8 = 2;
pub const NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: usize = 0x98;
/// The NDIS version the driver declares (NDIS60_MINIPORT); see WINDOWS.md for why not 6.20.
// header-differs: ffi-check reads the header as an NDIS51_MINIPORT (5.1); for NDIS60_MINIPORT it gives 6.0 too
pub const NDIS_MINIPORT_MAJOR_VERSION: u8 = 6;
// header-differs: ffi-check reads the header as an NDIS51_MINIPORT (5.1); for NDIS60_MINIPORT it gives 6.0 too
pub const NDIS_MINIPORT_MINOR_VERSION: u8 = 0;

pub type MINIPORT_CO_CREATE_VC = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    NdisVcHandle: NDIS_HANDLE,
    MiniportVcContext: PNDIS_HANDLE,
) -> NDIS_STATUS;
pub type MINIPORT_CO_DELETE_VC = unsafe extern "system" fn(MiniportVcContext: NDIS_HANDLE) -> NDIS_STATUS;
pub type MINIPORT_CO_ACTIVATE_VC =
    unsafe extern "system" fn(MiniportVcContext: NDIS_HANDLE, CallParameters: PCO_CALL_PARAMETERS) -> NDIS_STATUS;
pub type MINIPORT_CO_DEACTIVATE_VC = unsafe extern "system" fn(MiniportVcContext: NDIS_HANDLE) -> NDIS_STATUS;
pub type MINIPORT_CO_SEND_NET_BUFFER_LISTS =
    unsafe extern "system" fn(MiniportVcContext: NDIS_HANDLE, NetBufferLists: PNET_BUFFER_LIST, SendFlags: ULONG);
pub type MINIPORT_CO_OID_REQUEST = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    MiniportVcContext: NDIS_HANDLE,
    NdisRequest: PNDIS_OID_REQUEST,
) -> NDIS_STATUS;

/// `NDIS_MINIPORT_CO_CHARACTERISTICS` revision 1. An MCM leaves CoCreateVc/CoDeleteVc NULL.
#[repr(C)]
pub struct NDIS_MINIPORT_CO_CHARACTERISTICS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: ULONG,
    pub CoCreateVcHandler: Option<MINIPORT_CO_CREATE_VC>,
    pub CoDeleteVcHandler: Option<MINIPORT_CO_DELETE_VC>,
    pub CoActivateVcHandler: Option<MINIPORT_CO_ACTIVATE_VC>,
    pub CoDeactivateVcHandler: Option<MINIPORT_CO_DEACTIVATE_VC>,
    pub CoSendNetBufferListsHandler: Option<MINIPORT_CO_SEND_NET_BUFFER_LISTS>,
    pub CoOidRequestHandler: Option<MINIPORT_CO_OID_REQUEST>,
}
pub const NDIS_MINIPORT_CO_CHARACTERISTICS_REVISION_1: u8 = 1;
pub const NDIS_SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1: usize = 0x38;

pub type PROTOCOL_CO_CREATE_VC = unsafe extern "system" fn(
    ProtocolAfContext: NDIS_HANDLE,
    NdisVcHandle: NDIS_HANDLE,
    ProtocolVcContext: PNDIS_HANDLE,
) -> NDIS_STATUS;
pub type PROTOCOL_CO_DELETE_VC = unsafe extern "system" fn(ProtocolVcContext: NDIS_HANDLE) -> NDIS_STATUS;
pub type PROTOCOL_CM_OPEN_AF = unsafe extern "system" fn(
    CallMgrBindingContext: NDIS_HANDLE,
    AddressFamily: PCO_ADDRESS_FAMILY,
    NdisAfHandle: NDIS_HANDLE,
    CallMgrAfContext: PNDIS_HANDLE,
) -> NDIS_STATUS;
pub type PROTOCOL_CM_CLOSE_AF = unsafe extern "system" fn(CallMgrAfContext: NDIS_HANDLE) -> NDIS_STATUS;
pub type PROTOCOL_CM_REG_SAP = unsafe extern "system" fn(
    CallMgrAfContext: NDIS_HANDLE,
    Sap: PCO_SAP,
    NdisSapHandle: NDIS_HANDLE,
    CallMgrSapContext: PNDIS_HANDLE,
) -> NDIS_STATUS;
pub type PROTOCOL_CM_DEREGISTER_SAP = unsafe extern "system" fn(CallMgrSapContext: NDIS_HANDLE) -> NDIS_STATUS;
pub type PROTOCOL_CM_MAKE_CALL = unsafe extern "system" fn(
    CallMgrVcContext: NDIS_HANDLE,
    CallParameters: PCO_CALL_PARAMETERS,
    NdisPartyHandle: NDIS_HANDLE,
    CallMgrPartyContext: PNDIS_HANDLE,
) -> NDIS_STATUS;
pub type PROTOCOL_CM_CLOSE_CALL = unsafe extern "system" fn(
    CallMgrVcContext: NDIS_HANDLE,
    CallMgrPartyContext: NDIS_HANDLE,
    CloseData: PVOID,
    Size: UINT,
) -> NDIS_STATUS;
pub type PROTOCOL_CM_INCOMING_CALL_COMPLETE =
    unsafe extern "system" fn(Status: NDIS_STATUS, CallMgrVcContext: NDIS_HANDLE, CallParameters: PCO_CALL_PARAMETERS);
pub type PROTOCOL_CM_ADD_PARTY = unsafe extern "system" fn(
    CallMgrVcContext: NDIS_HANDLE,
    CallParameters: PCO_CALL_PARAMETERS,
    NdisPartyHandle: NDIS_HANDLE,
    CallMgrPartyContext: PNDIS_HANDLE,
) -> NDIS_STATUS;
pub type PROTOCOL_CM_DROP_PARTY =
    unsafe extern "system" fn(CallMgrPartyContext: NDIS_HANDLE, CloseData: PVOID, Size: UINT) -> NDIS_STATUS;
pub type PROTOCOL_CM_ACTIVATE_VC_COMPLETE =
    unsafe extern "system" fn(Status: NDIS_STATUS, CallMgrVcContext: NDIS_HANDLE, CallParameters: PCO_CALL_PARAMETERS);
pub type PROTOCOL_CM_DEACTIVATE_VC_COMPLETE =
    unsafe extern "system" fn(Status: NDIS_STATUS, CallMgrVcContext: NDIS_HANDLE);
pub type PROTOCOL_CM_MODIFY_QOS_CALL =
    unsafe extern "system" fn(CallMgrVcContext: NDIS_HANDLE, CallParameters: PCO_CALL_PARAMETERS) -> NDIS_STATUS;
pub type PROTOCOL_CO_OID_REQUEST = unsafe extern "system" fn(
    ProtocolAfContext: NDIS_HANDLE,
    ProtocolVcContext: NDIS_HANDLE,
    ProtocolPartyContext: NDIS_HANDLE,
    OidRequest: PNDIS_OID_REQUEST,
) -> NDIS_STATUS;
pub type PROTOCOL_CO_OID_REQUEST_COMPLETE = unsafe extern "system" fn(
    ProtocolAfContext: NDIS_HANDLE,
    ProtocolVcContext: NDIS_HANDLE,
    ProtocolPartyContext: NDIS_HANDLE,
    OidRequest: PNDIS_OID_REQUEST,
    Status: NDIS_STATUS,
);
pub type PROTOCOL_CM_NOTIFY_CLOSE_AF_COMPLETE =
    unsafe extern "system" fn(CallMgrAfContext: NDIS_HANDLE, Status: NDIS_STATUS);

/// `NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS` revision 1: every handler must be set for an MCM.
#[repr(C)]
pub struct NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Reserved: ULONG,
    pub CmCreateVcHandler: Option<PROTOCOL_CO_CREATE_VC>,
    pub CmDeleteVcHandler: Option<PROTOCOL_CO_DELETE_VC>,
    pub CmOpenAfHandler: Option<PROTOCOL_CM_OPEN_AF>,
    pub CmCloseAfHandler: Option<PROTOCOL_CM_CLOSE_AF>,
    pub CmRegisterSapHandler: Option<PROTOCOL_CM_REG_SAP>,
    pub CmDeregisterSapHandler: Option<PROTOCOL_CM_DEREGISTER_SAP>,
    pub CmMakeCallHandler: Option<PROTOCOL_CM_MAKE_CALL>,
    pub CmCloseCallHandler: Option<PROTOCOL_CM_CLOSE_CALL>,
    pub CmIncomingCallCompleteHandler: Option<PROTOCOL_CM_INCOMING_CALL_COMPLETE>,
    pub CmAddPartyHandler: Option<PROTOCOL_CM_ADD_PARTY>,
    pub CmDropPartyHandler: Option<PROTOCOL_CM_DROP_PARTY>,
    pub CmActivateVcCompleteHandler: Option<PROTOCOL_CM_ACTIVATE_VC_COMPLETE>,
    pub CmDeactivateVcCompleteHandler: Option<PROTOCOL_CM_DEACTIVATE_VC_COMPLETE>,
    pub CmModifyCallQoSHandler: Option<PROTOCOL_CM_MODIFY_QOS_CALL>,
    pub CmOidRequestHandler: Option<PROTOCOL_CO_OID_REQUEST>,
    pub CmOidRequestCompleteHandler: Option<PROTOCOL_CO_OID_REQUEST_COMPLETE>,
    pub CmNotifyCloseAddressFamilyCompleteHandler: Option<PROTOCOL_CM_NOTIFY_CLOSE_AF_COMPLETE>,
}
pub const NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1: u8 = 1;
/// Through CmOidRequestCompleteHandler: excludes the last member (sizeof is 0x90).
pub const NDIS_SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1: usize = 0x88;

pub type MINIPORT_ISR_HANDLER = unsafe extern "system" fn(
    MiniportInterruptContext: NDIS_HANDLE,
    QueueDefaultInterruptDpc: PBOOLEAN,
    TargetProcessors: PULONG,
) -> BOOLEAN;
pub type MINIPORT_INTERRUPT_DPC_HANDLER = unsafe extern "system" fn(
    MiniportInterruptContext: NDIS_HANDLE,
    MiniportDpcContext: PVOID,
    ReceiveThrottleParameters: PVOID,
    NdisReserved2: PVOID,
);
/// `MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER` (run by NdisMSynchronizeWithInterruptEx at DIRQL,
/// holding the interrupt's spin lock).
pub type MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER =
    Option<unsafe extern "system" fn(SynchronizeContext: NDIS_HANDLE) -> BOOLEAN>;
pub type MINIPORT_DISABLE_INTERRUPT_HANDLER = unsafe extern "system" fn(MiniportInterruptContext: NDIS_HANDLE);
pub type MINIPORT_ENABLE_INTERRUPT_HANDLER = unsafe extern "system" fn(MiniportInterruptContext: NDIS_HANDLE);

/// `NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS` revision 1 (line-based interrupts; MSI arms NULL).
#[repr(C)]
pub struct NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS {
    pub Header: NDIS_OBJECT_HEADER,
    pub InterruptHandler: Option<MINIPORT_ISR_HANDLER>,
    pub InterruptDpcHandler: Option<MINIPORT_INTERRUPT_DPC_HANDLER>,
    pub DisableInterruptHandler: Option<MINIPORT_DISABLE_INTERRUPT_HANDLER>,
    pub EnableInterruptHandler: Option<MINIPORT_ENABLE_INTERRUPT_HANDLER>,
    pub MsiSupported: BOOLEAN,
    pub MsiSyncWithAllMessages: BOOLEAN,
    pub MessageInterruptHandler: PVOID,
    pub MessageInterruptDpcHandler: PVOID,
    pub DisableMessageInterruptHandler: PVOID,
    pub EnableMessageInterruptHandler: PVOID,
    pub InterruptType: i32,
    pub MessageInfoTable: PVOID,
}
pub const NDIS_MINIPORT_INTERRUPT_REVISION_1: u8 = 1;
pub const NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1: usize = 0x60;

pub type MINIPORT_PROCESS_SG_LIST_HANDLER = unsafe extern "system" fn(
    DeviceObject: PDEVICE_OBJECT,
    Reserved: PVOID,
    ScatterGatherListBuffer: PSCATTER_GATHER_LIST,
    Context: PVOID,
);
pub type MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    VirtualAddress: PVOID,
    PhysicalAddress: *mut NDIS_PHYSICAL_ADDRESS,
    Length: ULONG,
    Context: PVOID,
);

/// `NDIS_SG_DMA_DESCRIPTION` revision 1.
#[repr(C)]
pub struct NDIS_SG_DMA_DESCRIPTION {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: ULONG,
    pub MaximumPhysicalMapping: ULONG,
    pub ProcessSGListHandler: Option<MINIPORT_PROCESS_SG_LIST_HANDLER>,
    pub SharedMemAllocateCompleteHandler: Option<MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE_HANDLER>,
    pub ScatterGatherListSize: ULONG,
}
pub const NDIS_SG_DMA_DESCRIPTION_REVISION_1: u8 = 1;
/// Through ScatterGatherListSize (sizeof is 0x28).
pub const NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1: usize = 0x24;

pub type NDIS_TIMER_FUNCTION = unsafe extern "system" fn(
    SystemSpecific1: PVOID,
    FunctionContext: PVOID,
    SystemSpecific2: PVOID,
    SystemSpecific3: PVOID,
);

/// `NDIS_TIMER_CHARACTERISTICS` revision 1.
#[repr(C)]
pub struct NDIS_TIMER_CHARACTERISTICS {
    pub Header: NDIS_OBJECT_HEADER,
    pub AllocationTag: ULONG,
    pub TimerFunction: Option<NDIS_TIMER_FUNCTION>,
    pub FunctionContext: PVOID,
}
pub const NDIS_TIMER_CHARACTERISTICS_REVISION_1: u8 = 1;
pub const NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1: usize = 0x18;

// ---- imports -------------------------------------------------------------------------------------------------------

/// Declares the imports. `scripts/ffi-check` re-expands the same list (`imports.rs`) with every type
/// name resolved against bindgen's output for the `header` group.
macro_rules! ndis_imports {
    ($($group:ident { $($(#[$m:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;)* })*) => {
        unsafe extern "system" {
            $($(
                $(#[$m])*
                pub fn $name($($arg: $ty),*) $(-> $ret)?;
            )*)*
        }

        /// Every import, by address. DriverEntry keeps this table alive so the image imports the
        /// whole bound surface whatever the optimiser can prove unreachable: a name NDIS.SYS lacks
        /// then fails at link time here and at load time on Windows, never later.
        pub static IMPORT_TABLE: ImportTable = ImportTable(&[$($($name as *const (),)*)*]);
    };
}

/// See [`IMPORT_TABLE`].
pub struct ImportTable(pub &'static [*const ()]);
// SAFETY: the table holds function addresses only; nothing is ever called or written through it.
unsafe impl Sync for ImportTable {}

include!("imports.rs");

// ---- layout assertions for the NDIS 6 structures mingw's headers do not have ----------------------------------------
//
// Offsets from the documented field lists (learn.microsoft.com ddi/ndis ns-ndis-* pages; nbl.h field
// order) with x64 C layout rules (pointers 8, ULONG 4, DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT = 16)
// on the Reserved arrays of NET_BUFFER / NET_BUFFER_LIST). The header-backed structures are compared
// with bindgen by `scripts/ffi-check`.
#[cfg(target_arch = "x86_64")]
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<NDIS_OBJECT_HEADER>() == 4);
    // NET_BUFFER (x64: 0xB0).
    assert!(offset_of!(NET_BUFFER_DATA, DataLength) == 24);
    assert!(offset_of!(NET_BUFFER_DATA, MdlChain) == 32);
    assert!(offset_of!(NET_BUFFER_DATA, DataOffset) == 40);
    assert!(size_of::<NET_BUFFER_DATA>() == 48);
    assert!(offset_of!(NET_BUFFER, ChecksumBias) == 48);
    assert!(offset_of!(NET_BUFFER, NdisPoolHandle) == 56);
    assert!(offset_of!(NET_BUFFER, NdisReserved) == 64);
    assert!(offset_of!(NET_BUFFER, ProtocolReserved) == 80);
    assert!(offset_of!(NET_BUFFER, MiniportReserved) == 128);
    assert!(offset_of!(NET_BUFFER, DataPhysicalAddress) == 160);
    assert!(size_of::<NET_BUFFER>() == 176);
    // NET_BUFFER_LIST (Status at 0x8C, NetBufferListInfo at 0x90).
    assert!(offset_of!(NET_BUFFER_LIST, Context) == 16);
    assert!(offset_of!(NET_BUFFER_LIST, NdisPoolHandle) == 32);
    assert!(offset_of!(NET_BUFFER_LIST, NdisReserved) == 48);
    assert!(offset_of!(NET_BUFFER_LIST, ProtocolReserved) == 64);
    assert!(offset_of!(NET_BUFFER_LIST, MiniportReserved) == 96);
    assert!(offset_of!(NET_BUFFER_LIST, Scratch) == 112);
    assert!(offset_of!(NET_BUFFER_LIST, SourceHandle) == 120);
    assert!(offset_of!(NET_BUFFER_LIST, NblFlags) == 128);
    assert!(offset_of!(NET_BUFFER_LIST, Status) == 0x8C);
    assert!(offset_of!(NET_BUFFER_LIST, NetBufferListInfo) == 0x90);
    // Characteristics and attributes.
    assert!(offset_of!(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, SetOptionsHandler) == 16);
    assert!(offset_of!(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, CancelOidRequestHandler) == 128);
    assert!(
        size_of::<NDIS_MINIPORT_DRIVER_CHARACTERISTICS>() == NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2
    );
    assert!(size_of::<NDIS_MINIPORT_CO_CHARACTERISTICS>() == 56);
    assert!(offset_of!(NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS, CmCreateVcHandler) == 8);
    assert!(offset_of!(NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS, CmNotifyCloseAddressFamilyCompleteHandler) == 136);
    assert!(size_of::<NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS>() == 144);
    assert!(
        offset_of!(NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, InterfaceType) + 4
            == NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1
    );
    assert!(offset_of!(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, MaxXmitLinkSpeed) == 24);
    assert!(offset_of!(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, MediaConnectState) == 56);
    assert!(offset_of!(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, PermanentMacAddress) == 94);
    assert!(offset_of!(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, RecvScaleCapabilities) == 160);
    assert!(offset_of!(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, IfType) == 180);
    assert!(offset_of!(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, SupportedOidList) == 200);
    assert!(
        offset_of!(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, AutoNegotiationFlags) + 4
            == NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1
    );
    assert!(offset_of!(NDIS_STATUS_INDICATION, StatusBuffer) == 48);
    assert!(offset_of!(NDIS_STATUS_INDICATION, Guid) == 60);
    assert!(size_of::<NDIS_STATUS_INDICATION>() == 112);
    assert!(size_of::<NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS>() == 96);
    assert!(offset_of!(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, MessageInterruptHandler) == 48);
    assert!(size_of::<NDIS_SG_DMA_DESCRIPTION>() == 40);
    assert!(size_of::<NDIS_TIMER_CHARACTERISTICS>() == 24);
    assert!(size_of::<NET_BUFFER_LIST_POOL_PARAMETERS>() == NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    assert!(offset_of!(NDIS_MINIPORT_INIT_PARAMETERS, AllocatedResources) == 8);
    assert!(offset_of!(NET_DEVICE_PNP_EVENT, DevicePnPEvent) == 8);
    assert!(size_of::<NDIS_CONFIGURATION_OBJECT>() == 24);
    // Header-backed ones too (so a plain cross `cargo check` already catches a slip).
    assert!(size_of::<CM_PARTIAL_RESOURCE_DESCRIPTOR>() == 20);
    assert!(offset_of!(NDIS_CONFIGURATION_PARAMETER, ParameterData) == 8);
    // NDIS_OID_REQUEST: NDIS_SIZEOF_OID_REQUEST_REVISION_1 = through Reserved2 = 236.
    assert!(offset_of!(NDIS_OID_REQUEST, RequestId) == 16);
    assert!(offset_of!(NDIS_OID_REQUEST, DATA) == 32);
    assert!(offset_of!(_QUERY, InformationBuffer) == 8);
    assert!(offset_of!(_QUERY, InformationBufferLength) == 16);
    assert!(offset_of!(_QUERY, BytesWritten) == 20);
    assert!(offset_of!(_QUERY, BytesNeeded) == 24);
    assert!(offset_of!(_SET, BytesRead) == 20);
    assert!(offset_of!(_SET, BytesNeeded) == 24);
    assert!(size_of::<_REQUEST_DATA>() == 40);
    assert!(offset_of!(NDIS_OID_REQUEST, NdisReserved) == 72);
    assert!(offset_of!(NDIS_OID_REQUEST, SupportedRevision) == 232);
    assert!(offset_of!(NDIS_OID_REQUEST, Reserved2) + 2 == 236);
    assert!(size_of::<NDIS_LINK_STATE>() == 40);
    assert!(size_of::<ATM_FLOW_PARAMETERS>() == 56);
    assert!(size_of::<ATM_MEDIA_PARAMETERS>() == 40 + 2 * 56);
};
