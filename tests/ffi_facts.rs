//! Facts check (issue 7, Deliver 5): every constant, structure size and field offset src/windows
//! declares is compared with `ndis6-facts.tsv` (NDIS 6 / CoNDIS / ATM values for x64, each row
//! confirmed in WDK headers). mingw-w64's ndis.h has almost no NDIS 6, so `scripts/ffi-check`
//! cannot see these; the table can.
//!
//! - Values come from the compiler: `src/windows/ffi/` is compiled here (`#[path]`), and every
//!   constant, `size_of` and `offset_of!` is evaluated, not parsed. repr(C) layout on x86_64 Linux
//!   equals x64 Windows for these declarations (ULONG is declared `u32`, never `c_long`).
//! - Completeness comes from the source: ffi/*.rs is parsed for every `pub const`, `struct`, `union`
//!   and field, and each must be in the compiled lists below; the other src/windows files' integer
//!   constants are parsed (literal values) and checked the same way.
//! - A declared name with no row in the table, or a value that knowingly differs from a row, must
//!   be listed in `tests/ffi_facts_allow.tsv` with a reason; an entry that no longer matches
//!   anything is an error too, so nothing is silently ignored.
//! - Negative checks: a deliberately wrong value, layout, unlisted name and stale entry are each
//!   caught by the same `check`.

#[path = "../src/windows/ffi/mod.rs"]
#[allow(dead_code, unused_imports, clippy::all)]
mod ffi;

use std::collections::{BTreeMap, BTreeSet};
use std::mem::{offset_of, size_of};

use ffi::*;

const FACTS: &str = include_str!("../reference/ndis6-facts.tsv");
const ALLOW: &str = include_str!("ffi_facts_allow.tsv");
/// src/windows/ffi/, file by file (every `mod` of ffi/mod.rs must be listed: checked below).
const FFI_SRC: &[(&str, &str)] = &[
    ("mod.rs", include_str!("../src/windows/ffi/mod.rs")),
    ("adapter.rs", include_str!("../src/windows/ffi/adapter.rs")),
    ("call_params.rs", include_str!("../src/windows/ffi/call_params.rs")),
    ("handlers.rs", include_str!("../src/windows/ffi/handlers.rs")),
    ("nbl.rs", include_str!("../src/windows/ffi/nbl.rs")),
];
const ADAPTER_SRC: &str = include_str!("../src/adapter/mod.rs");
/// The other src/windows files whose constants are parsed (ffi.rs is compiled).
const OTHER_SRC: &[(&str, &str)] = &[
    ("align.rs", include_str!("../src/windows/align.rs")),
    ("bus.rs", include_str!("../src/windows/bus.rs")),
    ("busmem.rs", include_str!("../src/windows/busmem.rs")),
    ("cm.rs", include_str!("../src/windows/cm.rs")),
    ("cparams.rs", include_str!("../src/windows/cparams.rs")),
    ("ctx.rs", include_str!("../src/windows/ctx.rs")),
    ("device.rs", include_str!("../src/windows/device.rs")),
    ("freelist.rs", include_str!("../src/windows/freelist.rs")),
    ("imports.rs", include_str!("../src/windows/imports.rs")),
    ("lock.rs", include_str!("../src/windows/lock.rs")),
    ("miniport.rs", include_str!("../src/windows/miniport.rs")),
    ("mod.rs", include_str!("../src/windows/mod.rs")),
    ("netaddr.rs", include_str!("../src/windows/netaddr.rs")),
    ("registry.rs", include_str!("../src/windows/registry.rs")),
    ("rt.rs", include_str!("../src/windows/rt.rs")),
    ("teardown.rs", include_str!("../src/windows/teardown.rs")),
    ("win_ndis.rs", include_str!("../src/windows/win_ndis.rs")),
];

/// Name and value as the C bit pattern (an NDIS_STATUS like 0xC0000001 is negative as an i32).
macro_rules! consts {
    ($($n:ident),* $(,)?) => {
        &[$((stringify!($n), {
            let v = $n as i128;
            if v < 0 { v + (1i128 << (8 * core::mem::size_of_val(&$n))) } else { v }
        })),*]
    };
}

/// (structure, size, [(field, offset)]).
type Layout = (&'static str, usize, Vec<(&'static str, usize)>);

macro_rules! layouts {
    ($($s:ident { $($f:ident),* })*) => {
        vec![$((stringify!($s), size_of::<$s>(), vec![$((stringify!($f), offset_of!($s, $f))),*])),*]
    };
}

/// Every integer constant src/windows/ffi/ declares, evaluated by the compiler.
const FFI_CONSTS: &[(&str, i128)] = consts![
    NDIS_OBJECT_TYPE_DEFAULT,
    NDIS_OBJECT_TYPE_MINIPORT_INIT_PARAMETERS,
    NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION,
    NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
    NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
    NDIS_OBJECT_TYPE_CO_MINIPORT_CHARACTERISTICS,
    NDIS_OBJECT_TYPE_OID_REQUEST,
    NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
    NDIS_OBJECT_TYPE_STATUS_INDICATION,
    NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
    NDIS_OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS,
    NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
    NDIS_STATUS_SUCCESS,
    NDIS_STATUS_FAILURE,
    NDIS_STATUS_RESOURCES,
    NDIS_STATUS_ADAPTER_NOT_FOUND,
    NDIS_STATUS_LINK_STATE,
    NdisMediumAtm,
    NdisInterfacePci,
    NdisDevicePnPEventSurpriseRemoved,
    NdisParameterInteger,
    NdisParameterString,
    NdisRequestQueryInformation,
    NdisRequestSetInformation,
    NdisRequestQueryStatistics,
    NonPagedPoolNx,
    NormalPoolPriority,
    CmResourceTypeInterrupt,
    CmResourceTypeMemory,
    NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE,
    NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK,
    NDIS_MINIPORT_ATTRIBUTES_NOT_CO_NDIS,
    NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER,
    NDIS_SG_DMA_64_BIT_ADDRESS,
    NDIS_SEND_FLAGS_DISPATCH_LEVEL,
    NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL,
    NDIS_MAC_OPTION_NDISWAN,
    MediaConnectStateUnknown,
    MediaConnectStateConnected,
    MediaConnectStateDisconnected,
    MediaDuplexStateFull,
    NET_IF_ACCESS_POINT_TO_MULTI_POINT,
    NET_IF_DIRECTION_SENDRECEIVE,
    NET_IF_CONNECTION_DEDICATED,
    IF_TYPE_ATM,
    NdisPhysicalMediumUnspecified,
    OID_GEN_SUPPORTED_LIST,
    OID_GEN_HARDWARE_STATUS,
    OID_GEN_MEDIA_SUPPORTED,
    OID_GEN_MEDIA_IN_USE,
    OID_GEN_VENDOR_ID,
    OID_GEN_VENDOR_DESCRIPTION,
    OID_GEN_DRIVER_VERSION,
    OID_GEN_MEDIA_CONNECT_STATUS,
    OID_ATM_SUPPORTED_VC_RATES,
    OID_ATM_SUPPORTED_SERVICE_CATEGORY,
    OID_ATM_SUPPORTED_AAL_TYPES,
    OID_ATM_HW_CURRENT_ADDRESS,
    OID_ATM_MAX_ACTIVE_VCS,
    OID_ATM_MAX_AAL5_PACKET_SIZE,
    ATM_MEDIA_SPECIFIC,
    CALLMGR_SPECIFIC_Q2931,
    ATM_NSAP,
    ATM_E164,
    ATM_ADDRESS_LENGTH,
    SAP_TYPE_NSAP,
    SAP_TYPE_E164,
    NDIS_CONFIGURATION_OBJECT_REVISION_1,
    NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1,
    NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
    NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
    NDIS_OID_REQUEST_NDIS_RESERVED_SIZE,
    NDIS_LINK_STATE_REVISION_1,
    NDIS_SIZEOF_LINK_STATE_REVISION_1,
    NDIS_STATUS_INDICATION_REVISION_1,
    NDIS_SIZEOF_STATUS_INDICATION_REVISION_1,
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
    NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1,
    NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1,
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1,
    NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1,
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
    NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
    NDIS_MINIPORT_MAJOR_VERSION,
    NDIS_MINIPORT_MINOR_VERSION,
    NDIS_MINIPORT_CO_CHARACTERISTICS_REVISION_1,
    NDIS_SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1,
    NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
    NDIS_SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
    NDIS_MINIPORT_INTERRUPT_REVISION_1,
    NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1,
    NDIS_SG_DMA_DESCRIPTION_REVISION_1,
    NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1,
    NDIS_TIMER_CHARACTERISTICS_REVISION_1,
    NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1,
];

/// Every structure / union src/windows/ffi/ declares: size and each field's offset, from the
/// compiler (repr(C) layout on x86_64 is the x64 Windows layout for these: ULONG is declared u32).
fn ffi_layouts() -> Vec<Layout> {
    layouts![
    LARGE_INTEGER { QuadPart }
    DRIVER_OBJECT {  }
    DEVICE_OBJECT {  }
    SCATTER_GATHER_LIST {  }
    UNICODE_STRING { Length, MaximumLength, Buffer }
    MDL { Next, Size, MdlFlags, Process, MappedSystemVa, StartVa, ByteCount, ByteOffset }
    KDPC {  }
    PROCESSOR_NUMBER { Group, Number, Reserved }
    NDIS_OBJECT_HEADER { Type, Revision, Size }
    CO_ADDRESS_FAMILY { AddressFamily, MajorVersion, MinorVersion }
    CO_SPECIFIC_PARAMETERS { ParamType, Length, Parameters }
    CO_SAP { SapType, SapLength, Sap }
    FLOWSPEC { TokenRate, TokenBucketSize, PeakBandwidth, Latency, DelayVariation, ServiceType, MaxSduSize, MinimumPolicedSize }
    CO_CALL_MANAGER_PARAMETERS { Transmit, Receive, CallMgrSpecific }
    CO_MEDIA_PARAMETERS { Flags, ReceivePriority, ReceiveSizeHint, MediaSpecific }
    CO_CALL_PARAMETERS { Flags, CallMgrParameters, MediaParameters }
    ATM_VPIVCI { Vpi, Vci }
    ATM_FLOW_PARAMETERS { ServiceCategory, AverageCellRate, PeakCellRate, MinimumCellRate, InitialCellRate, BurstLengthCells, MaxSduSize, TransientBufferExposure, CumulativeRMFixedRTT, RateIncreaseFactor, RateDecreaseFactor, ACRDecreaseTimeFactor, MaximumCellsPerForwardRMCell, MaximumForwardRMCellInterval, CutoffDecreaseFactor, Reserved1, MissingRMCellCount, Reserved2, Reserved3 }
    ATM_MEDIA_PARAMETERS { ConnectionId, AALType, CellDelayVariationCLP0, CellDelayVariationCLP1, CellLossRatioCLP0, CellLossRatioCLP1, CellTransferDelayCLP0, CellTransferDelayCLP1, DefaultCLP, Transmit, Receive }
    ATM_ADDRESS { AddressType, NumberOfDigits, Address }
    Q2931_CALLMGR_PARAMETERS { CalledParty, CallingParty, InfoElementCount, InfoElements }
    ATM_BLLI_IE { Layer2Protocol, Layer2Mode, Layer2WindowSize, Layer2UserSpecifiedProtocol, Layer3Protocol, Layer3Mode, Layer3DefaultPacketSize, Layer3PacketWindowSize, Layer3UserSpecifiedProtocol, Layer3IPI, SnapId }
    ATM_BHLI_IE { HighLayerInfoType, HighLayerInfoLength, HighLayerInfo }
    ATM_SAP { Blli, Bhli, NumberOfAddresses, Addresses }
    NDIS_CONFIGURATION_PARAMETER { ParameterType, ParameterData }
    NDIS_CONFIGURATION_PARAMETER_DATA { IntegerData, StringData, BinaryData }
    NDIS_CONFIGURATION_OBJECT { Header, NdisHandle, Flags }
    CM_PARTIAL_RESOURCE_DESCRIPTOR { Type, ShareDisposition, Flags, u }
    CM_PARTIAL_RESOURCE_LIST { Version, Revision, Count, PartialDescriptors }
    NDIS_MINIPORT_INIT_PARAMETERS { Header, Flags, AllocatedResources, IMDeviceInstanceContext, MiniportAddDeviceContext }
    NET_DEVICE_PNP_EVENT { Header, PortNumber, DevicePnPEvent, InformationBuffer, InformationBufferLength, NdisReserved }
    NET_BUFFER_DATA { Next, CurrentMdl, CurrentMdlOffset, DataLength, MdlChain, DataOffset }
    NET_BUFFER_DATA_LENGTH { DataLength, stDataLength }
    NET_BUFFER { NetBufferData, ChecksumBias, Reserved, NdisPoolHandle, NdisReserved, ProtocolReserved, MiniportReserved, DataPhysicalAddress, SharedMemoryInfo }
    NET_BUFFER_LIST { Next, FirstNetBuffer, Context, ParentNetBufferList, NdisPoolHandle, NdisReserved, ProtocolReserved, MiniportReserved, Scratch, SourceHandle, NblFlags, ChildRefCount, Flags, Status, NetBufferListInfo }
    NET_BUFFER_LIST_POOL_PARAMETERS { Header, ProtocolId, fAllocateNetBuffer, ContextSize, PoolTag, DataSize }
    _QUERY { Oid, InformationBuffer, InformationBufferLength, BytesWritten, BytesNeeded }
    _SET { Oid, InformationBuffer, InformationBufferLength, BytesRead, BytesNeeded }
    _METHOD { Oid, InformationBuffer, InputBufferLength, OutputBufferLength, MethodId, BytesWritten, BytesRead, BytesNeeded }
    _REQUEST_DATA { QUERY_INFORMATION, SET_INFORMATION, METHOD_INFORMATION }
    NDIS_OID_REQUEST { Header, RequestType, PortNumber, Timeout, RequestId, RequestHandle, DATA, NdisReserved, MiniportReserved, SourceReserved, SupportedRevision, Reserved1, Reserved2 }
    NDIS_LINK_STATE { Header, MediaConnectState, MediaDuplexState, XmitLinkSpeed, RcvLinkSpeed, PauseFunctions, AutoNegotiationFlags }
    GUID { Data1, Data2, Data3, Data4 }
    NDIS_STATUS_INDICATION { Header, SourceHandle, PortNumber, StatusCode, Flags, DestinationHandle, RequestId, StatusBuffer, StatusBufferSize, Guid, NdisReserved }
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES { Header, MiniportAdapterContext, AttributeFlags, CheckForHangTimeInSeconds, InterfaceType }
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES { Header, Flags, MediaType, PhysicalMediumType, MtuSize, MaxXmitLinkSpeed, XmitLinkSpeed, MaxRcvLinkSpeed, RcvLinkSpeed, MediaConnectState, MediaDuplexState, LookaheadSize, PowerManagementCapabilities, MacOptions, SupportedPacketFilters, MaxMulticastListSize, MacAddressLength, PermanentMacAddress, CurrentMacAddress, RecvScaleCapabilities, AccessType, DirectionType, ConnectionType, IfType, IfConnectorPresent, SupportedStatistics, SupportedPauseFunctions, DataBackFillSize, ContextBackFillSize, SupportedOidList, SupportedOidListLength, AutoNegotiationFlags }
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS { Header, MajorNdisVersion, MinorNdisVersion, MajorDriverVersion, MinorDriverVersion, Flags, SetOptionsHandler, InitializeHandlerEx, HaltHandlerEx, UnloadHandler, PauseHandler, RestartHandler, OidRequestHandler, SendNetBufferListsHandler, ReturnNetBufferListsHandler, CancelSendHandler, CheckForHangHandlerEx, ResetHandlerEx, DevicePnPEventNotifyHandler, ShutdownHandlerEx, CancelOidRequestHandler, DirectOidRequestHandler, CancelDirectOidRequestHandler }
    NDIS_MINIPORT_CO_CHARACTERISTICS { Header, Flags, CoCreateVcHandler, CoDeleteVcHandler, CoActivateVcHandler, CoDeactivateVcHandler, CoSendNetBufferListsHandler, CoOidRequestHandler }
    NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS { Header, Reserved, CmCreateVcHandler, CmDeleteVcHandler, CmOpenAfHandler, CmCloseAfHandler, CmRegisterSapHandler, CmDeregisterSapHandler, CmMakeCallHandler, CmCloseCallHandler, CmIncomingCallCompleteHandler, CmAddPartyHandler, CmDropPartyHandler, CmActivateVcCompleteHandler, CmDeactivateVcCompleteHandler, CmModifyCallQoSHandler, CmOidRequestHandler, CmOidRequestCompleteHandler, CmNotifyCloseAddressFamilyCompleteHandler }
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS { Header, InterruptHandler, InterruptDpcHandler, DisableInterruptHandler, EnableInterruptHandler, MsiSupported, MsiSyncWithAllMessages, MessageInterruptHandler, MessageInterruptDpcHandler, DisableMessageInterruptHandler, EnableMessageInterruptHandler, InterruptType, MessageInfoTable }
    NDIS_SG_DMA_DESCRIPTION { Header, Flags, MaximumPhysicalMapping, ProcessSGListHandler, SharedMemAllocateCompleteHandler, ScatterGatherListSize }
    NDIS_TIMER_CHARACTERISTICS { Header, AllocationTag, TimerFunction, FunctionContext }
    ]
}

/// The OIDs the core answers (src/adapter/mod.rs `oid`), under their NDIS names.
fn oid_consts() -> Vec<(String, i128)> {
    use atmmcm::adapter::oid::*;
    let v: &[(&str, i128)] = consts![
        GEN_SUPPORTED_LIST,
        GEN_HARDWARE_STATUS,
        GEN_MEDIA_SUPPORTED,
        GEN_MEDIA_IN_USE,
        GEN_CO_LINK_SPEED,
        GEN_VENDOR_DESCRIPTION,
        GEN_DRIVER_VERSION,
        GEN_CO_MEDIA_CONNECT_STATUS,
        ATM_SUPPORTED_VC_RATES,
        ATM_SUPPORTED_SERVICE_CATEGORY,
        ATM_SUPPORTED_AAL_TYPES,
        ATM_HW_CURRENT_ADDRESS,
        ATM_MAX_ACTIVE_VCS,
        ATM_MAX_AAL5_PACKET_SIZE,
        ATMMCM_CONTROL_COUNTERS,
    ];
    v.iter().map(|(n, x)| (format!("OID_{n}"), *x)).collect()
}

/// One declaration to check: `NAME` (constant), `sizeof(S)` or `S.F` (offset), with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decl {
    key: String,
    value: i128,
    origin: &'static str,
}

/// The table: key -> value (None for "(none)"), keyed like [`Decl::key`].
fn facts(text: &str) -> BTreeMap<String, Option<i128>> {
    let mut m = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let mut cols = line.split('\t');
        let (Some(name), Some(value)) = (cols.next(), cols.next()) else { continue };
        let key = if let Some(s) = name.strip_prefix("sizeof(").and_then(|s| s.strip_suffix(") x64")) {
            format!("sizeof({s})")
        } else if let Some(s) = name.strip_suffix(" offset (x64)") {
            // "S.F" or "S.F.G (note)": the part before any note.
            s.split(" (").next().unwrap_or(s).to_string()
        } else {
            name.split(" (").next().unwrap_or(name).to_string()
        };
        let v = match value.strip_prefix("0x") {
            Some(h) => i128::from_str_radix(h, 16).ok(),
            None if value == "(none)" => None,
            None => continue, // multi-valued rows ("0x4/0xC"): not a single declaration's value
        };
        if let Some(prev) = m.insert(key.clone(), v) {
            assert_eq!(prev, v, "ndis6-facts.tsv: conflicting rows for {key}");
        }
    }
    m
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Declared, but no row in the table (reason given).
    Absent,
    /// Declared with a value the table's row does not have, on purpose (reason given).
    Differs,
    /// Checked against another row (`target`).
    Alias,
}

#[derive(Debug, Clone)]
struct Allow {
    kind: Kind,
    name: String,
    target: String,
}

fn allow_list(text: &str) -> Vec<Allow> {
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        assert!(
            c.len() == 4 && !c[3].trim().is_empty(),
            "ffi_facts_allow.tsv:{}: want kind, name, target, reason",
            i + 1
        );
        let kind = match c[0] {
            "absent" => Kind::Absent,
            "differs" => Kind::Differs,
            "alias" => Kind::Alias,
            k => panic!("ffi_facts_allow.tsv:{}: unknown kind {k}", i + 1),
        };
        v.push(Allow { kind, name: c[1].to_string(), target: c[2].to_string() });
    }
    v
}

/// `S.*` matches every field of S; otherwise exact.
fn matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(s) => key.strip_prefix(s).is_some_and(|r| r.starts_with('.')),
        None => pattern == key,
    }
}

/// Compares the declarations with the table under the allow-list; returns every problem.
fn check(decls: &[Decl], table: &BTreeMap<String, Option<i128>>, allow: &[Allow]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut used = vec![false; allow.len()];
    for d in decls {
        // A wildcard `absent` entry never hides a field the table does have: that one is compared.
        let entry = allow.iter().position(|a| matches(&a.name, &d.key)).filter(|&i| {
            !(allow[i].kind == Kind::Absent && allow[i].name.ends_with(".*") && table.contains_key(&d.key))
        });
        let target = match entry.map(|i| &allow[i]) {
            // `S.*` -> `T.*`: the same field of T.
            Some(a) if a.kind == Kind::Alias => match (a.name.strip_suffix(".*"), a.target.strip_suffix(".*")) {
                (Some(s), Some(t)) => format!("{t}{}", &d.key[s.len()..]),
                _ => a.target.clone(),
            },
            _ => d.key.clone(),
        };
        if let Some(i) = entry {
            used[i] = true;
        }
        let kind = entry.map(|i| allow[i].kind);
        match (table.get(&target), kind) {
            (Some(Some(v)), Some(Kind::Differs)) if *v == d.value => problems.push(format!(
                "{} ({}) = {:#x} now agrees with the table: drop its `differs` entry",
                d.key, d.origin, d.value
            )),
            (Some(_), Some(Kind::Differs)) => {}
            (Some(Some(v)), _) if *v == d.value => {}
            (Some(v), _) => problems.push(format!(
                "{} ({}) = {:#x}, ndis6-facts.tsv {} says {}",
                d.key,
                d.origin,
                d.value,
                target,
                v.map_or("(no such name)".to_string(), |v| format!("{v:#x}"))
            )),
            (None, Some(Kind::Absent)) => {}
            (None, Some(Kind::Alias)) => problems.push(format!("{}: alias target {target} is not in the table", d.key)),
            (None, _) => problems.push(format!(
                "{} ({}) = {:#x} is declared but not in ndis6-facts.tsv: add a row, or an `absent` entry with a reason",
                d.key, d.origin, d.value
            )),
        }
        if kind == Some(Kind::Absent) && table.contains_key(&d.key) {
            problems.push(format!("{}: listed `absent` but the table has it", d.key));
        }
    }
    for (a, u) in allow.iter().zip(used) {
        if !u {
            problems.push(format!("allow-list entry {} matches no declaration: remove it", a.name));
        }
    }
    problems
}

/// Integer constants of a non-compiled source file: `const NAME: T = <integer literal>;`.
fn parsed_consts(file: &'static str, src: &str) -> Vec<Decl> {
    let mut v = Vec::new();
    for line in src.lines() {
        let t = line.trim_start().trim_start_matches("pub(super) ").trim_start_matches("pub ");
        let Some(rest) = t.strip_prefix("const ") else { continue };
        let Some((name, rest)) = rest.split_once(':') else { continue };
        if name == "_" {
            continue;
        }
        let Some((_, value)) = rest.split_once('=') else { continue };
        let lit = value.trim().trim_end_matches(';').replace('_', "");
        let lit = lit.trim_end_matches("usize").trim_end_matches("u32").trim_end_matches("u8");
        let parsed = match lit.strip_prefix("0x") {
            Some(h) => i128::from_str_radix(h, 16).ok(),
            None => lit.parse::<i128>().ok(),
        };
        // A non-literal value (an expression, a struct) is recorded as -1: its name must then be
        // allow-listed as `absent` (driver-internal); an NDIS name must be a literal.
        v.push(Decl { key: name.trim().to_string(), value: parsed.unwrap_or(-1), origin: file });
    }
    v
}

fn declarations() -> Vec<Decl> {
    let mut d: Vec<Decl> =
        FFI_CONSTS.iter().map(|(n, v)| Decl { key: n.to_string(), value: *v, origin: "ffi.rs" }).collect();
    for (s, size, fields) in ffi_layouts() {
        // Zero-field opaque structures and those ending in a flexible array still have a C size.
        d.push(Decl { key: format!("sizeof({s})"), value: size as i128, origin: "ffi.rs" });
        for (f, off) in fields {
            d.push(Decl { key: format!("{s}.{f}"), value: off as i128, origin: "ffi.rs" });
        }
    }
    d.extend(oid_consts().into_iter().map(|(key, value)| Decl { key, value, origin: "adapter.rs oid" }));
    for (file, src) in OTHER_SRC {
        d.extend(parsed_consts(file, src));
    }
    d
}

/// Every `pub const`, struct / union and field ffi.rs declares, from the source text.
fn ffi_source_items() -> BTreeSet<String> {
    let (_, top) = FFI_SRC[0];
    for m in top.lines().filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';')) {
        assert!(FFI_SRC.iter().any(|(f, _)| *f == format!("{m}.rs")), "ffi/{m}.rs is not in FFI_SRC");
    }
    let mut items = BTreeSet::new();
    let mut lines = FFI_SRC.iter().flat_map(|(_, src)| src.lines()).peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("pub const ") {
            items.insert(rest.split(':').next().unwrap_or_default().to_string());
        }
        let head = line.strip_prefix("pub struct ").or_else(|| line.strip_prefix("pub union "));
        let Some(head) = head else { continue };
        let name: String = head.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if head[name.len()..].starts_with("<T>(") || head[name.len()..].starts_with("(") {
            items.insert(format!("wrapper {name}"));
            continue;
        }
        items.insert(format!("sizeof({name})"));
        if !line.trim_end().ends_with('{') {
            continue;
        }
        for body in lines.by_ref() {
            if body.starts_with('}') {
                break;
            }
            let f = body.trim_start().trim_start_matches("pub ");
            if let Some((field, _)) = f.split_once(':')
                && !field.contains(' ')
                && !field.starts_with("//")
                && !field.starts_with('_')
            {
                items.insert(format!("{name}.{field}"));
            }
        }
    }
    items
}

#[test]
fn every_declared_constant_size_and_offset_matches_ndis6_facts() {
    let (decls, table, allow) = (declarations(), facts(FACTS), allow_list(ALLOW));
    let compared = decls.iter().filter(|d| table.contains_key(&d.key)).count();
    eprintln!(
        "{} declarations: {} compared with a row of their own name, {} via an alias, the rest listed in ffi_facts_allow.tsv ({} entries)",
        decls.len(),
        compared,
        decls.iter().filter(|d| allow.iter().any(|a| a.kind == Kind::Alias && matches(&a.name, &d.key))).count(),
        allow.len()
    );
    let problems = check(&decls, &table, &allow);
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
}

#[test]
fn the_compiled_lists_cover_every_declaration_in_ffi_rs() {
    let mut compiled: BTreeSet<String> = FFI_CONSTS.iter().map(|(n, _)| n.to_string()).collect();
    for (s, _, fields) in ffi_layouts() {
        compiled.insert(format!("sizeof({s})"));
        compiled.extend(fields.iter().map(|(f, _)| format!("{s}.{f}")));
    }
    // The alignment wrappers carry no NDIS name (A16 = DECLSPEC_ALIGN(16), A8 = POINTER_ALIGNMENT).
    compiled.insert("wrapper A16".into());
    compiled.insert("wrapper A8".into());
    // The import table (function addresses, not an NDIS structure).
    compiled.insert("wrapper ImportTable".into());
    let source = ffi_source_items();
    let missing: Vec<_> = source.difference(&compiled).collect();
    assert!(missing.is_empty(), "declared in ffi.rs but not in this test's compiled lists: {missing:?}");
    let stale: Vec<_> = compiled.difference(&source).collect();
    assert!(stale.is_empty(), "in this test's lists but not declared in ffi.rs: {stale:?}");
}

#[test]
fn the_oid_list_covers_every_oid_constant_in_the_core() {
    let block = ADAPTER_SRC.split("pub mod oid {").nth(1).expect("src/adapter/mod.rs has `pub mod oid`");
    let block = block.split("pub mod value").next().unwrap_or(block);
    let declared: BTreeSet<String> = block
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter_map(|l| l.split(':').next())
        .filter(|n| *n != "SUPPORTED")
        .map(|n| format!("OID_{n}"))
        .collect();
    let listed: BTreeSet<String> = oid_consts().into_iter().map(|(n, _)| n).collect();
    assert_eq!(declared, listed);
}

#[test]
fn composite_values_the_core_answers_are_built_from_table_values() {
    use atmmcm::adapter::oid::value::*;
    let t = facts(FACTS);
    let f = |k: &str| t[k].unwrap() as u32;
    assert_eq!(SERVICE_CATEGORIES, f("ATM_SERVICE_CATEGORY_CBR") | f("ATM_SERVICE_CATEGORY_UBR"));
    assert_eq!(AAL_TYPES, f("AAL_TYPE_AAL5"));
    assert_eq!(NDIS_MEDIUM_ATM, f("NdisMediumAtm"));
    assert_eq!(u32::from(NDIS_VERSION), f("NDIS_MINIPORT_MAJOR_VERSION") << 8 | NDIS_MINIPORT_MINOR_VERSION as u32);
    // The registration flags the driver sets: a CoNDIS bus master (NOT_CO_NDIS clear).
    let flags = NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE
        | NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER
        | NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK;
    assert_eq!(flags, 0x45);
    assert_eq!(flags & f("NDIS_MINIPORT_ATTRIBUTES_NOT_CO_NDIS"), 0);
}

// ---- negative checks: the same `check` catches what it must ---------------------------------------

fn with_value(key: &str, value: i128) -> Vec<Decl> {
    let mut d = declarations();
    let e = d.iter_mut().find(|d| d.key == key).unwrap_or_else(|| panic!("{key} not declared"));
    e.value = value;
    d
}

#[test]
fn a_wrong_constant_is_caught() {
    // The old BUS_MASTER value (0x8 = NOT_CO_NDIS).
    let p = check(&with_value("NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER", 0x8), &facts(FACTS), &allow_list(ALLOW));
    assert!(p.iter().any(|p| p.starts_with("NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER")), "{p:?}");
    // The old OID value.
    let p = check(&with_value("OID_ATM_MAX_ACTIVE_VCS", 0x0808_0107), &facts(FACTS), &allow_list(ALLOW));
    assert!(p.iter().any(|p| p.starts_with("OID_ATM_MAX_ACTIVE_VCS")), "{p:?}");
}

#[test]
fn a_wrong_layout_or_header_size_is_caught() {
    // mingw's CO_MEDIA_PARAMETERS (MediaSpecific at 0xC, 0x18 octets) and the old header sizes.
    for (k, v) in [
        ("CO_MEDIA_PARAMETERS.MediaSpecific", 0xC),
        ("sizeof(CO_MEDIA_PARAMETERS)", 0x18),
        ("NDIS_SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1", 0x90),
        ("NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1", 0x28),
        ("NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1", 0x18),
        ("NET_BUFFER_DATA.MdlChain", 0x28),
    ] {
        let p = check(&with_value(k, v), &facts(FACTS), &allow_list(ALLOW));
        assert!(p.iter().any(|p| p.starts_with(k)), "{k}: {p:?}");
    }
}

#[test]
fn an_unlisted_name_absent_from_the_table_is_reported() {
    let mut d = declarations();
    d.push(Decl { key: "NDIS_SOMETHING_NEW".into(), value: 1, origin: "test" });
    let p = check(&d, &facts(FACTS), &allow_list(ALLOW));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("not in ndis6-facts.tsv"));
}

#[test]
fn a_stale_or_wrong_allow_entry_is_reported() {
    let mut allow = allow_list(ALLOW);
    allow.push(Allow { kind: Kind::Absent, name: "NDIS_NO_LONGER_DECLARED".into(), target: "-".into() });
    allow.push(Allow { kind: Kind::Absent, name: "NDIS_STATUS_SUCCESS".into(), target: "-".into() });
    let p = check(&declarations(), &facts(FACTS), &allow);
    assert!(p.iter().any(|p| p.contains("NDIS_NO_LONGER_DECLARED matches no declaration")), "{p:?}");
    assert!(p.iter().any(|p| p.contains("NDIS_STATUS_SUCCESS: listed `absent` but the table has it")), "{p:?}");
}

#[test]
fn a_differs_entry_that_agrees_again_is_reported() {
    let t = facts(FACTS);
    let v = t["NDIS_MINIPORT_MINOR_VERSION"].unwrap();
    let p = check(&with_value("NDIS_MINIPORT_MINOR_VERSION", v), &t, &allow_list(ALLOW));
    assert!(p.iter().any(|p| p.contains("now agrees")), "{p:?}");
}

#[test]
fn net_buffer_data_length_reads_the_ulong_ndis_writes() {
    // NDIS writes the ULONG arm; the high half of the 8-octet union is whatever was there.
    let mut u = NET_BUFFER_DATA_LENGTH { stDataLength: 0xDEAD_BEEF_0000_0000 };
    u.DataLength = 0x40;
    assert_eq!(u.get(), 0x40, "reading SIZE_T would see 0xDEADBEEF00000040");
    assert_eq!(NET_BUFFER_DATA_LENGTH::new(9180).get(), 9180);
    // SAFETY-free check of the writer: both arms agree.
    assert_eq!(unsafe { NET_BUFFER_DATA_LENGTH::new(9180).stDataLength }, 9180);
}
