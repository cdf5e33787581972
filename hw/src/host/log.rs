//! The emulated NDIS's log: every NDIS call the driver makes, every handler NDIS runs in it (entry
//! and return), every client request and every callback into the client, in order.
//!
//! Naming scheme ([`LogEntry::name`]):
//! - [`LogKind::NdisCall`] (driver → NDIS): the NDIS function, with its status argument in
//!   parentheses when it has one: `NdisMCmDeactivateVc`, `NdisMCmCloseCallComplete(SUCCESS)`,
//!   `NdisMCmDispatchIncomingCloseCall(DEST_OUT_OF_ORDER)`, `NdisMCoIndicateStatusEx(LINK_STATE)`.
//! - [`LogKind::HandlerEnter`] / [`LogKind::HandlerReturn`] (NDIS → driver): the entry point's
//!   NDIS name at entry (`ProtocolCmCloseCall`), and `Name->STATUS` at return
//!   (`ProtocolCmCloseCall->PENDING`; `Name->()` for a void handler such as
//!   `MiniportCoSendNetBufferLists->()`). Handlers that take a status show it at entry:
//!   `ProtocolCmIncomingCallComplete(SUCCESS)`.
//! - [`LogKind::Client`] (client → NDIS): `NdisClCloseCall`, `NdisCoCreateVc`,
//!   `NdisCoSendNetBufferLists`, `NdisReturnNetBufferLists`, ...
//! - [`LogKind::ClientCallback`] (NDIS → client): `ProtocolClCloseCallComplete(SUCCESS)`,
//!   `ProtocolClIncomingCloseCall(SUCCESS)`, `ProtocolCoCreateVc`, `ProtocolCoReceiveNetBufferLists`...
//! - [`LogKind::Lab`]: lab events (`PhyLink(down)`).
//!
//! Status names are `NdisStatus::name()` without the `NDIS_STATUS_` prefix, or `0x%08X`.

use std::fmt;
use std::time::Duration;

use super::handles::{PartyHandle, VcHandle};
use super::irql::Irql;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogKind {
    NdisCall,
    HandlerEnter,
    HandlerReturn,
    Client,
    ClientCallback,
    Lab,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Position in the log (0, 1, 2, ...).
    pub seq: usize,
    /// Position in the lab's shared NDIS + wire order ([`crate::clock::next_stamp`]).
    pub stamp: u64,
    pub time: Duration,
    /// The emulated processor (thread) id.
    pub cpu: u32,
    pub irql: Irql,
    pub kind: LogKind,
    pub name: String,
    pub vc: Option<VcHandle>,
    pub party: Option<PartyHandle>,
}

impl fmt::Display for LogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            LogKind::NdisCall => "ndis  ",
            LogKind::HandlerEnter => "enter ",
            LogKind::HandlerReturn => "return",
            LogKind::Client => "client",
            LogKind::ClientCallback => "cl-cb ",
            LogKind::Lab => "lab   ",
        };
        write!(f, "#{:<5} {:>12?} cpu{} {:?} {kind} {}", self.seq, self.time, self.cpu, self.irql, self.name)?;
        if let Some(vc) = self.vc {
            write!(f, " {vc}")?;
        }
        if let Some(p) = self.party {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}
