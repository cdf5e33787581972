//! What an adapter exchanges with NDIS besides calls and data: configuration and resources,
//! OID requests, status indications and link state, registration and general attributes.

use super::*;

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
