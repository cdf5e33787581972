//! The shared sequence of a lab node: the NDIS log (driver calls, handler entries and returns,
//! client requests and callbacks) and the signalling on its port, merged by stamp
//! ([`crate::clock::next_stamp`]), so a scenario can assert their relative order.

use std::time::Duration;

use crate::host::{LogEntry, LogKind, VcHandle};
use crate::lab::Lab;
use crate::network::{Direction, NetEvent};

/// One entry of the shared sequence.
#[derive(Clone, Debug)]
pub struct Event {
    pub stamp: u64,
    pub time: Duration,
    /// What scenario items match: `NdisMCmCloseCallComplete(SUCCESS)`, `ProtocolCmCloseCall`,
    /// `ProtocolCmCloseCall->PENDING`, `->RELEASE[16]`, `<-RELEASE COMPLETE`.
    pub name: String,
    /// NDIS entries: the VC it names.
    pub vc: Option<VcHandle>,
    /// Wire entries: true.
    pub wire: bool,
    /// Wire entries: the call reference value.
    pub cref: Option<u32>,
    /// The `--trace` line.
    pub line: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

/// The match name of a wire message: `->NAME` (from the user) or `<-NAME`, with the cause
/// values in brackets when it has any.
pub fn wire_name(e: &NetEvent) -> String {
    let d = if e.direction == Direction::FromUser { "->" } else { "<-" };
    if e.causes.is_empty() { format!("{d}{}", e.name) } else { format!("{d}{}{:?}", e.name, e.causes) }
}

fn ndis_line(e: &LogEntry) -> String {
    // `Base`, `Base(STATUS)`, `Base->RET`, `Base(STATUS)->RET`.
    let (call, ret) = match e.name.split_once("->") {
        Some((c, r)) => (c, Some(r)),
        None => (e.name.as_str(), None),
    };
    let (base, status) = match call.split_once('(') {
        Some((b, rest)) => (b, rest.strip_suffix(')')),
        None => (call, None),
    };
    let mut args = Vec::new();
    if let Some(s) = status {
        args.push(format!("status={s}"));
    }
    if let Some(vc) = e.vc {
        args.push(format!("vc={}", vc.0));
        args.push(match e.party {
            Some(p) => format!("party={}", p.0),
            None => "party=NULL".to_string(),
        });
    }
    let tag = match e.kind {
        LogKind::NdisCall => "ndis  ",
        LogKind::HandlerEnter => "enter ",
        LogKind::HandlerReturn => "return",
        LogKind::Client => "client",
        LogKind::ClientCallback => "cl-cb ",
        LogKind::Lab => "lab   ",
    };
    let ret = ret.map(|r| format!(" -> {r}")).unwrap_or_default();
    format!("{tag} {base}({}){ret}", args.join(", "))
}

fn wire_line(e: &NetEvent) -> String {
    let dir = if e.direction == Direction::FromUser { "-> net" } else { "<- net" };
    let cref = e.call_ref.map_or(String::new(), |c| format!(" cref={}{}", c.value, if c.flag { "/1" } else { "/0" }));
    let causes = if e.causes.is_empty() { String::new() } else { format!(" causes={:?}", e.causes) };
    format!("wire   {dir} port{} {}{cref}{causes} | {}", e.port, e.name, hex(&e.raw))
}

/// The shared sequence of node `node` (its NDIS log and its port's signalling), by stamp.
pub fn events(lab: &Lab, node: usize) -> Vec<Event> {
    let n = lab.node(node);
    let port = n.port;
    let mut v: Vec<Event> = n
        .ndis
        .log()
        .iter()
        .map(|e| Event {
            stamp: e.stamp,
            time: e.time,
            name: e.name.clone(),
            vc: e.vc,
            wire: false,
            cref: None,
            line: ndis_line(e),
        })
        .collect();
    v.extend(lab.network().log().iter().filter(|e| e.port == port).map(|e| Event {
        stamp: e.stamp,
        time: e.time,
        name: wire_name(e),
        vc: None,
        wire: true,
        cref: e.call_ref.map(|c| c.value),
        line: wire_line(e),
    }));
    v.sort_by_key(|e| e.stamp);
    v
}

/// Whether scenario item `pat` matches an entry named `name`: equal, or `name` is `pat`
/// followed by its status / causes (`NdisMCmCloseCallComplete` matches
/// `NdisMCmCloseCallComplete(SUCCESS)`, `->RELEASE` matches `->RELEASE[16]`).
pub fn matches(pat: &str, name: &str) -> bool {
    name == pat || name.strip_prefix(pat).is_some_and(|rest| rest.starts_with('(') || rest.starts_with('['))
}

/// Entries the `--trace` text leaves out: the DPC and timer entry points themselves (what they
/// do is shown).
pub fn noise(e: &Event) -> bool {
    !e.wire && (e.name.starts_with("MiniportDpc") || e.name.starts_with("MiniportTimer"))
}
