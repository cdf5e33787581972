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
//!
//! Here: scalar types, the NDIS object header and constants, the imports and the layout
//! assertions; the structures by concern in [`call_params`], [`adapter`], [`nbl`] and [`handlers`]
//! (all re-exported, so `ffi::NAME` is every declaration wherever it lives).
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, clippy::upper_case_acronyms)]

use core::ffi::c_void;

mod adapter;
mod call_params;
mod handlers;
mod nbl;

pub use adapter::*;
pub use call_params::*;
pub use handlers::*;
pub use nbl::*;

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

include!("../imports.rs");

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
