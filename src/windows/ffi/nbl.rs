//! NET_BUFFER_LIST / NET_BUFFER (NDIS 6, nbl.h), with the MDL chain they carry.

use super::*;

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
