//! What the verifier is fed: the execution context ([`Cx`]), the driver's calls into NDIS
//! ([`Call`]) and NDIS's calls into the driver's handlers ([`Handler`]).

use std::time::Duration;

use atmmcm::NdisStatus;

use super::super::handles::{AfHandle, Nbl, PartyHandle, SapHandle, VcHandle};
use super::super::irql::Irql;
use super::status_name;

/// The execution context of a call: who is calling, from where.
#[derive(Copy, Clone, Debug)]
pub struct Cx {
    pub irql: Irql,
    pub cpu: u32,
    /// Inside a DPC, timer, send or receive-return path.
    pub deferred: bool,
    pub time: Duration,
}

/// A call the driver makes into NDIS.
#[derive(Clone, Debug)]
pub enum Call {
    RegisterAf,
    OpenAfComplete {
        status: NdisStatus,
        af: AfHandle,
    },
    CloseAfComplete {
        status: NdisStatus,
        af: AfHandle,
    },
    NotifyCloseAf {
        af: AfHandle,
    },
    RegisterSapComplete {
        status: NdisStatus,
        sap: SapHandle,
    },
    DeregisterSapComplete {
        status: NdisStatus,
        sap: SapHandle,
    },
    /// `vc`: the handle NDIS is about to return.
    CreateVc {
        af: AfHandle,
        vc: VcHandle,
    },
    DeleteVc {
        vc: VcHandle,
    },
    ActivateVc {
        vc: VcHandle,
    },
    DeactivateVc {
        vc: VcHandle,
    },
    MakeCallComplete {
        status: NdisStatus,
        vc: VcHandle,
        party: Option<PartyHandle>,
    },
    DispatchIncomingCall {
        sap: SapHandle,
        vc: VcHandle,
    },
    DispatchCallConnected {
        vc: VcHandle,
    },
    CloseCallComplete {
        status: NdisStatus,
        vc: VcHandle,
        party: Option<PartyHandle>,
    },
    DispatchIncomingCloseCall {
        status: NdisStatus,
        vc: VcHandle,
    },
    AddPartyComplete {
        status: NdisStatus,
        party: PartyHandle,
    },
    DropPartyComplete {
        status: NdisStatus,
        party: PartyHandle,
    },
    DispatchIncomingDropParty {
        status: NdisStatus,
        party: PartyHandle,
    },
    ModifyQosComplete {
        status: NdisStatus,
        vc: VcHandle,
    },
    /// Each NBL of the chain with the status the driver set on it.
    SendComplete {
        vc: VcHandle,
        nbls: Vec<(Nbl, NdisStatus)>,
    },
    IndicateReceive {
        vc: VcHandle,
        nbls: Vec<Nbl>,
        flags: u32,
    },
    /// `link`: the link state carried, when the indication is a link change.
    IndicateStatus {
        vc: Option<VcHandle>,
        code: NdisStatus,
        link: Option<bool>,
    },
}

impl Call {
    /// The NDIS function name, with the status argument in parentheses where it has one:
    /// `NdisMCmCloseCallComplete(SUCCESS)`, `NdisMCmDeactivateVc`.
    pub fn name(&self) -> String {
        let with = |n: &str, s: &NdisStatus| format!("{n}({})", status_name(*s));
        match self {
            Call::RegisterAf => "NdisMCmRegisterAddressFamilyEx".into(),
            Call::OpenAfComplete { status, .. } => with("NdisMCmOpenAddressFamilyComplete", status),
            Call::CloseAfComplete { status, .. } => with("NdisMCmCloseAddressFamilyComplete", status),
            Call::NotifyCloseAf { .. } => "NdisMCmNotifyCloseAddressFamily".into(),
            Call::RegisterSapComplete { status, .. } => with("NdisMCmRegisterSapComplete", status),
            Call::DeregisterSapComplete { status, .. } => with("NdisMCmDeregisterSapComplete", status),
            Call::CreateVc { .. } => "NdisMCmCreateVc".into(),
            Call::DeleteVc { .. } => "NdisMCmDeleteVc".into(),
            Call::ActivateVc { .. } => "NdisMCmActivateVc".into(),
            Call::DeactivateVc { .. } => "NdisMCmDeactivateVc".into(),
            Call::MakeCallComplete { status, .. } => with("NdisMCmMakeCallComplete", status),
            Call::DispatchIncomingCall { .. } => "NdisMCmDispatchIncomingCall".into(),
            Call::DispatchCallConnected { .. } => "NdisMCmDispatchCallConnected".into(),
            Call::CloseCallComplete { status, .. } => with("NdisMCmCloseCallComplete", status),
            Call::DispatchIncomingCloseCall { status, .. } => with("NdisMCmDispatchIncomingCloseCall", status),
            Call::AddPartyComplete { status, .. } => with("NdisMCmAddPartyComplete", status),
            Call::DropPartyComplete { status, .. } => with("NdisMCmDropPartyComplete", status),
            Call::DispatchIncomingDropParty { status, .. } => with("NdisMCmDispatchIncomingDropParty", status),
            Call::ModifyQosComplete { status, .. } => with("NdisMCmModifyCallQoSComplete", status),
            Call::SendComplete { .. } => "NdisMCoSendNetBufferListsComplete".into(),
            Call::IndicateReceive { .. } => "NdisMCoIndicateReceiveNetBufferLists".into(),
            Call::IndicateStatus { code, .. } => with("NdisMCoIndicateStatusEx", code),
        }
    }

    /// The VC the call names, if any.
    pub fn vc(&self) -> Option<VcHandle> {
        match self {
            Call::CreateVc { vc, .. }
            | Call::DeleteVc { vc }
            | Call::ActivateVc { vc }
            | Call::DeactivateVc { vc }
            | Call::MakeCallComplete { vc, .. }
            | Call::DispatchIncomingCall { vc, .. }
            | Call::DispatchCallConnected { vc }
            | Call::CloseCallComplete { vc, .. }
            | Call::DispatchIncomingCloseCall { vc, .. }
            | Call::ModifyQosComplete { vc, .. }
            | Call::SendComplete { vc, .. }
            | Call::IndicateReceive { vc, .. } => Some(*vc),
            Call::IndicateStatus { vc, .. } => *vc,
            _ => None,
        }
    }

    /// The party the call names, if any.
    pub fn party(&self) -> Option<PartyHandle> {
        match self {
            Call::MakeCallComplete { party, .. } | Call::CloseCallComplete { party, .. } => *party,
            Call::AddPartyComplete { party, .. }
            | Call::DropPartyComplete { party, .. }
            | Call::DispatchIncomingDropParty { party, .. } => Some(*party),
            _ => None,
        }
    }
}

/// A driver entry point NDIS (or the lab) runs.
#[derive(Clone, Debug)]
pub enum Handler {
    /// MiniportInitializeEx (the adapter's `start`).
    Initialize,
    Halt,
    Dpc,
    Timer,
    OpenAf {
        af: AfHandle,
    },
    CloseAf {
        af: AfHandle,
    },
    RegisterSap {
        af: AfHandle,
        sap: SapHandle,
    },
    DeregisterSap {
        sap: SapHandle,
    },
    CoCreateVc {
        af: AfHandle,
        vc: VcHandle,
    },
    CoDeleteVc {
        vc: VcHandle,
    },
    MakeCall {
        vc: VcHandle,
        party: Option<PartyHandle>,
        multipoint: bool,
    },
    CloseCall {
        vc: VcHandle,
        party: Option<PartyHandle>,
        data_given: bool,
    },
    IncomingCallComplete {
        vc: VcHandle,
        status: NdisStatus,
    },
    AddParty {
        vc: VcHandle,
        party: PartyHandle,
    },
    DropParty {
        vc: VcHandle,
        party: PartyHandle,
        data_given: bool,
    },
    ModifyQos {
        vc: VcHandle,
    },
    NotifyCloseAfComplete {
        af: AfHandle,
        status: NdisStatus,
    },
    Send {
        vc: VcHandle,
        nbls: Vec<Nbl>,
    },
    /// MiniportReturnNetBufferLists; `vc` = the VC the first NBL was indicated on.
    Return {
        vc: Option<VcHandle>,
        nbls: Vec<Nbl>,
    },
    Other(&'static str),
}

impl Handler {
    /// The entry point's NDIS name (`ProtocolCmCloseCall`, `MiniportCoSendNetBufferLists`, ...).
    pub fn name(&self) -> String {
        match self {
            Handler::Initialize => "MiniportInitializeEx".into(),
            Handler::Halt => "MiniportHaltEx".into(),
            Handler::Dpc => "MiniportDpc".into(),
            Handler::Timer => "MiniportTimer".into(),
            Handler::OpenAf { .. } => "ProtocolCmOpenAf".into(),
            Handler::CloseAf { .. } => "ProtocolCmCloseAf".into(),
            Handler::RegisterSap { .. } => "ProtocolCmRegisterSap".into(),
            Handler::DeregisterSap { .. } => "ProtocolCmDeregisterSap".into(),
            Handler::CoCreateVc { .. } => "ProtocolCoCreateVc".into(),
            Handler::CoDeleteVc { .. } => "ProtocolCoDeleteVc".into(),
            Handler::MakeCall { .. } => "ProtocolCmMakeCall".into(),
            Handler::CloseCall { .. } => "ProtocolCmCloseCall".into(),
            Handler::IncomingCallComplete { status, .. } => {
                format!("ProtocolCmIncomingCallComplete({})", status_name(*status))
            }
            Handler::AddParty { .. } => "ProtocolCmAddParty".into(),
            Handler::DropParty { .. } => "ProtocolCmDropParty".into(),
            Handler::ModifyQos { .. } => "ProtocolCmModifyCallQoS".into(),
            Handler::NotifyCloseAfComplete { status, .. } => {
                format!("ProtocolCmNotifyCloseAfComplete({})", status_name(*status))
            }
            Handler::Send { .. } => "MiniportCoSendNetBufferLists".into(),
            Handler::Return { .. } => "MiniportReturnNetBufferLists".into(),
            Handler::Other(n) => (*n).into(),
        }
    }

    pub fn vc(&self) -> Option<VcHandle> {
        match self {
            Handler::CoCreateVc { vc, .. }
            | Handler::CoDeleteVc { vc }
            | Handler::MakeCall { vc, .. }
            | Handler::CloseCall { vc, .. }
            | Handler::IncomingCallComplete { vc, .. }
            | Handler::AddParty { vc, .. }
            | Handler::DropParty { vc, .. }
            | Handler::ModifyQos { vc }
            | Handler::Send { vc, .. } => Some(*vc),
            Handler::Return { vc, .. } => *vc,
            _ => None,
        }
    }

    pub fn party(&self) -> Option<PartyHandle> {
        match self {
            Handler::MakeCall { party, .. } | Handler::CloseCall { party, .. } => *party,
            Handler::AddParty { party, .. } | Handler::DropParty { party, .. } => Some(*party),
            _ => None,
        }
    }
}
