//! The harness's own reading of NDIS 6 on x64: every value and offset below is a row of
//! `reference/ndis6-facts.tsv` (WDK values; a copy of the team's shared reference), never taken from `src/windows/ffi.rs`. The
//! test at the bottom checks each constant against the table, so the driver's reading and this one
//! are independent and must agree at run time.

macro_rules! facts {
    ($($name:ident = $v:expr => $row:literal;)*) => {
        $(#[doc = $row] pub const $name: u64 = $v;)*
        /// (constant, tsv row name, value) for the cross-check.
        pub const FACTS: &[(&str, &str, u64)] = &[$((stringify!($name), $row, $v)),*];
    };
}

facts! {
    OBJ_TYPE_DRIVER_CHARS = 0x8A => "NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS";
    OBJ_TYPE_CO_MINIPORT_CHARS = 0x91 => "NDIS_OBJECT_TYPE_CO_MINIPORT_CHARACTERISTICS";
    OBJ_TYPE_CM_OPTIONAL_HANDLERS = 0xA5 => "NDIS_OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS";
    OBJ_TYPE_REGISTRATION_ATTRS = 0x9E => "NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES";
    OBJ_TYPE_GENERAL_ATTRS = 0x9F => "NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES";
    OBJ_TYPE_SG_DMA = 0x83 => "NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION";
    OBJ_TYPE_INTERRUPT = 0x84 => "NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT";
    OBJ_TYPE_TIMER = 0x97 => "NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS";
    OBJ_TYPE_CONFIG = 0xA9 => "NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT";
    OBJ_TYPE_INIT_PARAMS = 0x81 => "NDIS_OBJECT_TYPE_MINIPORT_INIT_PARAMETERS";
    OBJ_TYPE_DEFAULT = 0x80 => "NDIS_OBJECT_TYPE_DEFAULT";
    OBJ_TYPE_OID_REQUEST = 0x96 => "NDIS_OBJECT_TYPE_OID_REQUEST";
    OBJ_TYPE_STATUS_INDICATION = 0x98 => "NDIS_OBJECT_TYPE_STATUS_INDICATION";

    ST_SUCCESS = 0x0 => "NDIS_STATUS_SUCCESS";
    ST_FAILURE = 0xC000_0001 => "NDIS_STATUS_FAILURE";
    ST_RESOURCES = 0xC000_009A => "NDIS_STATUS_RESOURCES";
    ST_INVALID_PARAMETER = 0xC000_000D => "NDIS_STATUS_INVALID_PARAMETER";
    ST_NOT_SUPPORTED = 0xC000_00BB => "NDIS_STATUS_NOT_SUPPORTED";
    ST_PENDING = 0x103 => "NDIS_STATUS_PENDING";
    ST_LINK_STATE = 0x4001_0017 => "NDIS_STATUS_LINK_STATE";

    MEDIUM_ATM = 0x8 => "NdisMediumAtm";
    INTERFACE_PCI = 0x5 => "NdisInterfacePci";
    PARAM_INTEGER = 0x0 => "NdisParameterInteger";
    REQ_QUERY = 0x0 => "NdisRequestQueryInformation";
    REQ_SET = 0x1 => "NdisRequestSetInformation";
    RES_INTERRUPT = 0x2 => "CmResourceTypeInterrupt";
    RES_MEMORY = 0x3 => "CmResourceTypeMemory";

    ATTR_HARDWARE_DEVICE = 0x1 => "NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE";
    ATTR_NDIS_WDM = 0x2 => "NDIS_MINIPORT_ATTRIBUTES_NDIS_WDM";
    ATTR_SURPRISE_REMOVE_OK = 0x4 => "NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK";
    ATTR_NOT_CO_NDIS = 0x8 => "NDIS_MINIPORT_ATTRIBUTES_NOT_CO_NDIS";
    ATTR_DO_NOT_BIND_TO_ALL_CO = 0x10 => "NDIS_MINIPORT_ATTRIBUTES_DO_NOT_BIND_TO_ALL_CO";
    ATTR_BUS_MASTER = 0x40 => "NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER";
    SG_DMA_64_BIT = 0x1 => "NDIS_SG_DMA_64_BIT_ADDRESS";

    DRIVER_CHARS_REVISION_2 = 0x2 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2";
    SIZEOF_DRIVER_CHARS_REV_1 = 0x88 => "NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1";
    SIZEOF_DRIVER_CHARS_REV_2 = 0x98 => "NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2";
    SIZEOF_CO_CHARS_REV_1 = 0x38 => "NDIS_SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1";
    SIZEOF_CM_HANDLERS_REV_1 = 0x88 => "NDIS_SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1";
    SIZEOF_INTERRUPT_REV_1 = 0x60 => "NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1";
    SIZEOF_SG_DMA_REV_1 = 0x24 => "NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1";
    SIZEOF_TIMER_REV_1 = 0x18 => "NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1";
    SIZEOF_CONFIG_OBJECT_REV_1 = 0x14 => "NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1";
    SIZEOF_REGISTRATION_ATTRS_REV_1 = 0x1C => "NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1";
    SIZEOF_GENERAL_ATTRS_REV_1 = 0xD8 => "NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1";
    SIZEOF_GENERAL_ATTRS_REV_2 = 0xE0 => "NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2";
    SIZEOF_INIT_PARAMS_REV_1 = 0x40 => "NDIS_SIZEOF_MINIPORT_INIT_PARAMETER_REVISION_1";
    SIZEOF_NBL_POOL_PARAMS_REV_1 = 0x10 => "NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1";
    SIZEOF_OID_REQUEST_REV_1 = 0xEC => "NDIS_SIZEOF_OID_REQUEST_REVISION_1";
    SIZEOF_OID_REQUEST = 0xF0 => "sizeof(NDIS_OID_REQUEST) x64";
    SIZEOF_STATUS_INDICATION_REV_1 = 0x70 => "NDIS_SIZEOF_STATUS_INDICATION_REVISION_1";
    SIZEOF_LINK_STATE_REV_1 = 0x28 => "NDIS_SIZEOF_LINK_STATE_REVISION_1";
    MINIPORT_MAJOR_620 = 0x6 => "NDIS_MINIPORT_MAJOR_VERSION (NDIS620_MINIPORT)";
    MINIPORT_MINOR_620 = 0x14 => "NDIS_MINIPORT_MINOR_VERSION (NDIS620_MINIPORT)";

    // NDIS_MINIPORT_DRIVER_CHARACTERISTICS
    DC_MAJOR = 0x4 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.MajorNdisVersion offset (x64)";
    DC_SET_OPTIONS = 0x10 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.SetOptionsHandler offset (x64)";
    DC_INITIALIZE = 0x18 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.InitializeHandlerEx offset (x64)";
    DC_HALT = 0x20 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.HaltHandlerEx offset (x64)";
    DC_UNLOAD = 0x28 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.UnloadHandler offset (x64)";
    DC_PAUSE = 0x30 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.PauseHandler offset (x64)";
    DC_RESTART = 0x38 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.RestartHandler offset (x64)";
    DC_OID = 0x40 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.OidRequestHandler offset (x64)";
    DC_SEND = 0x48 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.SendNetBufferListsHandler offset (x64)";
    DC_RETURN = 0x50 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.ReturnNetBufferListsHandler offset (x64)";
    DC_CANCEL_SEND = 0x58 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.CancelSendHandler offset (x64)";
    DC_CHECK_FOR_HANG = 0x60 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.CheckForHangHandlerEx offset (x64)";
    DC_RESET = 0x68 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.ResetHandlerEx offset (x64)";
    DC_PNP = 0x70 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.DevicePnPEventNotifyHandler offset (x64)";
    DC_SHUTDOWN = 0x78 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.ShutdownHandlerEx offset (x64)";
    DC_CANCEL_OID = 0x80 => "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.CancelOidRequestHandler offset (x64)";

    // NDIS_MINIPORT_CO_CHARACTERISTICS
    CO_CREATE_VC = 0x8 => "NDIS_MINIPORT_CO_CHARACTERISTICS.CoCreateVcHandler offset (x64)";
    CO_DELETE_VC = 0x10 => "NDIS_MINIPORT_CO_CHARACTERISTICS.CoDeleteVcHandler offset (x64)";
    CO_ACTIVATE_VC = 0x18 => "NDIS_MINIPORT_CO_CHARACTERISTICS.CoActivateVcHandler offset (x64)";
    CO_DEACTIVATE_VC = 0x20 => "NDIS_MINIPORT_CO_CHARACTERISTICS.CoDeactivateVcHandler offset (x64)";
    CO_SEND = 0x28 => "NDIS_MINIPORT_CO_CHARACTERISTICS.CoSendNetBufferListsHandler offset (x64)";
    CO_OID = 0x30 => "NDIS_MINIPORT_CO_CHARACTERISTICS.CoOidRequestHandler offset (x64)";

    // NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS
    CM_CREATE_VC = 0x8 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmCreateVcHandler offset (x64)";
    CM_DELETE_VC = 0x10 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmDeleteVcHandler offset (x64)";
    CM_OPEN_AF = 0x18 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmOpenAfHandler offset (x64)";
    CM_CLOSE_AF = 0x20 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmCloseAfHandler offset (x64)";
    CM_REGISTER_SAP = 0x28 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmRegisterSapHandler offset (x64)";
    CM_DEREGISTER_SAP = 0x30 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmDeregisterSapHandler offset (x64)";
    CM_MAKE_CALL = 0x38 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmMakeCallHandler offset (x64)";
    CM_CLOSE_CALL = 0x40 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmCloseCallHandler offset (x64)";
    CM_INCOMING_CALL_COMPLETE = 0x48 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmIncomingCallCompleteHandler offset (x64)";
    CM_ADD_PARTY = 0x50 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmAddPartyHandler offset (x64)";
    CM_DROP_PARTY = 0x58 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmDropPartyHandler offset (x64)";
    CM_ACTIVATE_VC_COMPLETE = 0x60 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmActivateVcCompleteHandler offset (x64)";
    CM_DEACTIVATE_VC_COMPLETE = 0x68 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmDeactivateVcCompleteHandler offset (x64)";
    CM_MODIFY_QOS = 0x70 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmModifyCallQoSHandler offset (x64)";
    CM_OID = 0x78 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmOidRequestHandler offset (x64)";
    CM_OID_COMPLETE = 0x80 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmOidRequestCompleteHandler offset (x64)";
    CM_NOTIFY_CLOSE_AF_COMPLETE = 0x88 => "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS.CmNotifyCloseAddressFamilyCompleteHandler offset (x64)";

    // NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES
    RA_CONTEXT = 0x8 => "NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES.MiniportAdapterContext offset (x64)";
    RA_FLAGS = 0x10 => "NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES.AttributeFlags offset (x64)";
    RA_HANG_TIME = 0x14 => "NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES.CheckForHangTimeInSeconds offset (x64)";
    RA_INTERFACE = 0x18 => "NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES.InterfaceType offset (x64)";

    // NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES
    GA_MEDIA_TYPE = 0x8 => "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES.MediaType offset (x64)";
    GA_MTU = 0x10 => "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES.MtuSize offset (x64)";
    GA_MAX_XMIT_SPEED = 0x18 => "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES.MaxXmitLinkSpeed offset (x64)";
    GA_MAC_ADDRESS_LENGTH = 0x5C => "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES.MacAddressLength offset (x64)";
    GA_IF_TYPE = 0xB4 => "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES.IfType offset (x64)";
    GA_OID_LIST = 0xC8 => "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES.SupportedOidList offset (x64)";
    GA_OID_LIST_LENGTH = 0xD0 => "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES.SupportedOidListLength offset (x64)";

    // NDIS_SG_DMA_DESCRIPTION
    SG_FLAGS = 0x4 => "NDIS_SG_DMA_DESCRIPTION.Flags offset (x64)";
    SG_MAX_MAPPING = 0x8 => "NDIS_SG_DMA_DESCRIPTION.MaximumPhysicalMapping offset (x64)";
    SG_PROCESS_SG_LIST = 0x10 => "NDIS_SG_DMA_DESCRIPTION.ProcessSGListHandler offset (x64)";

    // NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS
    IC_ISR = 0x8 => "NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS.InterruptHandler offset (x64)";
    IC_DPC = 0x10 => "NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS.InterruptDpcHandler offset (x64)";
    IC_DISABLE = 0x18 => "NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS.DisableInterruptHandler offset (x64)";
    IC_ENABLE = 0x20 => "NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS.EnableInterruptHandler offset (x64)";
    IC_MSI_SUPPORTED = 0x28 => "NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS.MsiSupported offset (x64)";

    // NDIS_TIMER_CHARACTERISTICS
    TC_TAG = 0x4 => "NDIS_TIMER_CHARACTERISTICS.AllocationTag offset (x64)";
    TC_FUNCTION = 0x8 => "NDIS_TIMER_CHARACTERISTICS.TimerFunction offset (x64)";
    TC_CONTEXT = 0x10 => "NDIS_TIMER_CHARACTERISTICS.FunctionContext offset (x64)";

    // NDIS_CONFIGURATION_OBJECT / NDIS_CONFIGURATION_PARAMETER
    CO_NDIS_HANDLE = 0x8 => "NDIS_CONFIGURATION_OBJECT.NdisHandle offset (x64)";
    CO_FLAGS = 0x10 => "NDIS_CONFIGURATION_OBJECT.Flags offset (x64)";
    SIZEOF_CONFIG_PARAMETER = 0x18 => "sizeof(NDIS_CONFIGURATION_PARAMETER) x64";
    CP_DATA = 0x8 => "NDIS_CONFIGURATION_PARAMETER.ParameterData offset (x64)";
    US_BUFFER = 0x8 => "UNICODE_STRING.Buffer offset (x64)";
    SIZEOF_UNICODE_STRING = 0x10 => "sizeof(UNICODE_STRING) x64";

    // NDIS_MINIPORT_INIT_PARAMETERS / CM_PARTIAL_RESOURCE_LIST
    IP_RESOURCES = 0x8 => "NDIS_MINIPORT_INIT_PARAMETERS.AllocatedResources offset (x64)";
    RL_COUNT = 0x4 => "CM_PARTIAL_RESOURCE_LIST.Count offset (x64)";
    RL_DESCRIPTORS = 0x8 => "CM_PARTIAL_RESOURCE_LIST.PartialDescriptors offset (x64)";
    SIZEOF_RESOURCE_DESCRIPTOR = 0x14 => "sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR) x64";

    // NET_BUFFER_LIST_POOL_PARAMETERS
    NPP_CONTEXT_SIZE = 0x6 => "NET_BUFFER_LIST_POOL_PARAMETERS.ContextSize offset (x64)";
    NPP_TAG = 0x8 => "NET_BUFFER_LIST_POOL_PARAMETERS.PoolTag offset (x64)";
    NPP_DATA_SIZE = 0xC => "NET_BUFFER_LIST_POOL_PARAMETERS.DataSize offset (x64)";
    NBL_POOL_PARAMS_REVISION_1 = 0x1 => "NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1";

    // NET_BUFFER_LIST / NET_BUFFER / MDL
    NBL_NEXT = 0x0 => "NET_BUFFER_LIST.Next offset (x64)";
    NBL_FIRST_NB = 0x8 => "NET_BUFFER_LIST.FirstNetBuffer offset (x64)";
    NBL_CONTEXT = 0x10 => "NET_BUFFER_LIST.Context offset (x64)";
    NBL_POOL = 0x20 => "NET_BUFFER_LIST.NdisPoolHandle offset (x64)";
    NBL_MINIPORT_RESERVED = 0x60 => "NET_BUFFER_LIST.MiniportReserved offset (x64)";
    NBL_SOURCE_HANDLE = 0x78 => "NET_BUFFER_LIST.SourceHandle offset (x64)";
    NBL_FLAGS = 0x88 => "NET_BUFFER_LIST.Flags offset (x64)";
    NBL_STATUS = 0x8C => "NET_BUFFER_LIST.Status offset (x64)";
    NBL_INFO = 0x90 => "NET_BUFFER_LIST.NetBufferListInfo offset (x64)";
    NB_NEXT = 0x0 => "NET_BUFFER.Next offset (x64)";
    NB_CURRENT_MDL = 0x8 => "NET_BUFFER.CurrentMdl offset (x64)";
    NB_CURRENT_MDL_OFFSET = 0x10 => "NET_BUFFER.CurrentMdlOffset offset (x64)";
    NB_DATA_LENGTH = 0x18 => "NET_BUFFER.DataLength offset (x64)";
    NB_MDL_CHAIN = 0x20 => "NET_BUFFER.MdlChain offset (x64)";
    NB_DATA_OFFSET = 0x28 => "NET_BUFFER.DataOffset offset (x64)";
    NB_POOL = 0x38 => "NET_BUFFER.NdisPoolHandle offset (x64)";
    SIZEOF_NB = 0xB0 => "sizeof(NET_BUFFER) x64";
    SIZEOF_MDL = 0x30 => "sizeof(MDL) x64";
    MDL_NEXT = 0x0 => "MDL.Next offset (x64)";
    MDL_SIZE = 0x8 => "MDL.Size offset (x64)";
    MDL_FLAGS = 0xA => "MDL.MdlFlags offset (x64)";
    MDL_MAPPED_VA = 0x18 => "MDL.MappedSystemVa offset (x64)";
    MDL_START_VA = 0x20 => "MDL.StartVa offset (x64)";
    MDL_BYTE_COUNT = 0x28 => "MDL.ByteCount offset (x64)";
    MDL_BYTE_OFFSET = 0x2C => "MDL.ByteOffset offset (x64)";

    // NDIS_OID_REQUEST
    OR_TYPE = 0x4 => "NDIS_OID_REQUEST.RequestType offset (x64)";
    OR_DATA = 0x20 => "NDIS_OID_REQUEST.DATA offset (x64)";
    Q_BUFFER = 0x8 => "_QUERY.InformationBuffer offset (x64)";
    Q_LENGTH = 0x10 => "_QUERY.InformationBufferLength offset (x64)";
    Q_WRITTEN = 0x14 => "_QUERY.BytesWritten offset (x64)";
    Q_NEEDED = 0x18 => "_QUERY.BytesNeeded offset (x64)";
    S_READ = 0x14 => "_SET.BytesRead offset (x64)";

    // NDIS_STATUS_INDICATION / NDIS_LINK_STATE
    SI_SOURCE = 0x8 => "NDIS_STATUS_INDICATION.SourceHandle offset (x64)";
    SI_CODE = 0x14 => "NDIS_STATUS_INDICATION.StatusCode offset (x64)";
    SI_BUFFER = 0x30 => "NDIS_STATUS_INDICATION.StatusBuffer offset (x64)";
    SI_BUFFER_SIZE = 0x38 => "NDIS_STATUS_INDICATION.StatusBufferSize offset (x64)";
    LS_CONNECT = 0x4 => "NDIS_LINK_STATE.MediaConnectState offset (x64)";
    LS_XMIT_SPEED = 0x10 => "NDIS_LINK_STATE.XmitLinkSpeed offset (x64)";
    LS_REVISION_1 = 0x1 => "NDIS_LINK_STATE_REVISION_1";
    SI_REVISION_1 = 0x1 => "NDIS_STATUS_INDICATION_REVISION_1";
    MEDIA_CONNECTED = 0x1 => "MediaConnectStateConnected";

    // KDPC, KUSER_SHARED_DATA
    SIZEOF_KDPC = 0x40 => "sizeof(KDPC) x64";
    KUSER_INTERRUPT_TIME = 0xFFFF_F780_0000_0008 => "KI_USER_SHARED_DATA (AMD64) + SharedInterruptTime offset";
    DISPATCH_LEVEL = 0x2 => "DISPATCH_LEVEL";

    // CO_ADDRESS_FAMILY and call parameters
    SIZEOF_CO_ADDRESS_FAMILY = 0xC => "sizeof(CO_ADDRESS_FAMILY) x64";
    CO_ADDRESS_FAMILY_Q2931 = 0x1 => "CO_ADDRESS_FAMILY_Q2931";
    CCP_CALL_MGR = 0x8 => "CO_CALL_PARAMETERS.CallMgrParameters offset (x64)";
    CCP_MEDIA = 0x10 => "CO_CALL_PARAMETERS.MediaParameters offset (x64)";
    SIZEOF_CO_CALL_PARAMETERS = 0x18 => "sizeof(CO_CALL_PARAMETERS) x64";
    SIZEOF_CO_MEDIA_PARAMETERS = 0x20 => "sizeof(CO_MEDIA_PARAMETERS) x64";
    CMP_MEDIA_SPECIFIC = 0x10 => "CO_MEDIA_PARAMETERS.MediaSpecific offset (x64)";
    CMP_ATM_PARAMS = 0x18 => "CO_MEDIA_PARAMETERS.MediaSpecific.Parameters (ATM_MEDIA_PARAMETERS) offset (x64)";
    SIZEOF_ATM_MEDIA_PARAMETERS = 0x98 => "sizeof(ATM_MEDIA_PARAMETERS) x64";
    AMP_AAL_TYPE = 0x8 => "ATM_MEDIA_PARAMETERS.AALType offset (x64)";
    AMP_TRANSMIT = 0x28 => "ATM_MEDIA_PARAMETERS.Transmit offset (x64)";
    AMP_RECEIVE = 0x60 => "ATM_MEDIA_PARAMETERS.Receive offset (x64)";
    SIZEOF_ATM_FLOW_PARAMETERS = 0x38 => "sizeof(ATM_FLOW_PARAMETERS) x64";
    SIZEOF_CO_CALL_MANAGER_PARAMETERS = 0x4C => "sizeof(CO_CALL_MANAGER_PARAMETERS) x64";
    CCMP_SPECIFIC = 0x40 => "CO_CALL_MANAGER_PARAMETERS.CallMgrSpecific offset (x64)";
    CSP_LENGTH = 0x4 => "CO_SPECIFIC_PARAMETERS.Length offset (x64)";
    CSP_PARAMETERS = 0x8 => "CO_SPECIFIC_PARAMETERS.Parameters offset (x64)";
    SIZEOF_Q2931_PARAMETERS = 0x40 => "sizeof(Q2931_CALLMGR_PARAMETERS) x64";
    Q2931_CALLING = 0x1C => "Q2931_CALLMGR_PARAMETERS.CallingParty offset (x64)";
    Q2931_INFO_ELEMENTS = 0x3C => "Q2931_CALLMGR_PARAMETERS.InfoElements offset (x64)";
    SIZEOF_ATM_ADDRESS = 0x1C => "sizeof(ATM_ADDRESS) x64";
    AA_DIGITS = 0x4 => "ATM_ADDRESS.NumberOfDigits offset (x64)";
    AA_ADDRESS = 0x8 => "ATM_ADDRESS.Address offset (x64)";
    ATM_MEDIA_SPECIFIC = 0x1 => "ATM_MEDIA_SPECIFIC";
    CALLMGR_SPECIFIC_Q2931 = 0x1 => "CALLMGR_SPECIFIC_Q2931";
    ATM_E164 = 0x1 => "ATM_E164";
    ATM_NSAP = 0x0 => "ATM_NSAP";
}

/// Reads `N` little-endian bytes at `base + off` as an integer.
///
/// # Safety
/// `base + off .. + N` must be readable.
pub unsafe fn rd<const N: usize>(base: usize, off: u64) -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: the caller guarantees the range is readable; `b` holds 8 >= N bytes.
    unsafe { std::ptr::copy_nonoverlapping((base + off as usize) as *const u8, b.as_mut_ptr(), N) };
    u64::from_le_bytes(b)
}

/// Writes the low `N` bytes of `v` at `base + off`.
///
/// # Safety
/// `base + off .. + N` must be writable.
pub unsafe fn wr<const N: usize>(base: usize, off: u64, v: u64) {
    let b = v.to_le_bytes();
    // SAFETY: the caller guarantees the range is writable.
    unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), (base + off as usize) as *mut u8, N) };
}

/// An `NDIS_OBJECT_HEADER`: Type (u8), Revision (u8), Size (u16).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub ty: u8,
    pub revision: u8,
    pub size: u16,
}

impl Header {
    /// # Safety
    /// `p` must point at 4 readable bytes.
    pub unsafe fn read(p: usize) -> Header {
        // SAFETY: as the caller guarantees.
        let w = unsafe { rd::<4>(p, 0) };
        Header { ty: w as u8, revision: (w >> 8) as u8, size: (w >> 16) as u16 }
    }

    pub fn word(self) -> u64 {
        u64::from(self.ty) | u64::from(self.revision) << 8 | u64::from(self.size) << 16
    }
}

#[cfg(test)]
mod tests {
    use super::FACTS;
    use std::collections::HashMap;

    pub(crate) fn facts_table() -> Option<HashMap<String, String>> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../reference/ndis6-facts.tsv");
        let text = std::fs::read_to_string(p).ok()?;
        Some(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| {
                    let mut f = l.split('\t');
                    Some((f.next()?.to_string(), f.next()?.to_string()))
                })
                .collect(),
        )
    }

    fn parse(v: &str) -> Option<u64> {
        let v = v.trim();
        match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => v.parse().ok(),
        }
    }

    fn mismatches(table: &HashMap<String, String>, facts: &[(&str, &str, u64)]) -> Vec<String> {
        facts
            .iter()
            .filter_map(|(c, row, v)| match table.get(*row).map(|s| parse(s)) {
                Some(Some(t)) if t == *v => None,
                Some(t) => Some(format!("{c}: {v:#x} but tsv row {row:?} says {t:?}")),
                None => Some(format!("{c}: tsv has no row {row:?}")),
            })
            .collect()
    }

    #[test]
    fn every_harness_layout_constant_equals_its_ndis6_facts_row() {
        let Some(table) = facts_table() else {
            eprintln!("SKIPPED: reference/ndis6-facts.tsv not found in the repository");
            return;
        };
        let bad = mismatches(&table, FACTS);
        assert!(bad.is_empty(), "harness layouts disagree with ndis6-facts.tsv:\n{}", bad.join("\n"));
    }

    #[test]
    fn layout_cross_check_catches_a_wrong_constant_and_a_missing_row() {
        let Some(table) = facts_table() else {
            eprintln!("SKIPPED: ndis6-facts.tsv not found");
            return;
        };
        // The mingw value of BUS_MASTER, and a row that does not exist.
        let wrong = [("ATTR_BUS_MASTER", "NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER", 0x8), ("X", "NO_SUCH_ROW", 1)];
        assert_eq!(mismatches(&table, &wrong).len(), 2);
    }
}
