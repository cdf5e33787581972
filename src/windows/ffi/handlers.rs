//! Handler (callback) types and the characteristics structures that register them: miniport,
//! CoNDIS miniport, call manager, timer.

use super::*;

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
