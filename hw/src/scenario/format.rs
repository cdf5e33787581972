//! The scenario file format (TOML, read with serde + toml). See README "Scenario files".
//!
//! A file is a header (name, group, UNI variant, timer overrides, known defect) and a list of
//! `[[step]]` tables, each with `do = "<step>"` and that step's fields. Unknown fields, unknown
//! steps and wrong types are errors that name the file and line.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// A virtual-time span: `"30s"`, `"500ms"`, `"1.5s"`, `"2m"`, or an integer of milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span(pub Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Ms(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Ms(ms) => Ok(Span(Duration::from_millis(ms))),
            Raw::Text(s) => parse_span(&s).map(Span).map_err(serde::de::Error::custom),
        }
    }
}

/// Parses `"30s"`, `"500ms"`, `"250us"`, `"2m"`, `"1.5s"`.
pub fn parse_span(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?} (use e.g. \"30s\", \"500ms\")"))?;
    let secs = match unit.trim() {
        "s" => n,
        "ms" => n / 1e3,
        "us" => n / 1e6,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("bad duration unit in {s:?} (s, ms, us or m)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("bad duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Octets written as hex (`"09 03 00 00 01"`, spaces optional) with `{cref}` standing for the
/// three call reference octets of the step's call, or as text in quotes (`"'goodbye'"`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Octets(pub String);

/// UNI signalling variant of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
pub enum Uni {
    #[serde(rename = "3.1")]
    V31,
    #[default]
    #[serde(rename = "4.0")]
    V40,
}

impl fmt::Display for Uni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Uni::V31 => "3.1",
            Uni::V40 => "4.0",
        })
    }
}

/// Network-side (tester) timer values.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetTimers {
    pub t303: Option<Span>,
    pub t308: Option<Span>,
    pub t309: Option<Span>,
    pub t310: Option<Span>,
    pub t316: Option<Span>,
    pub t322: Option<Span>,
    pub t398: Option<Span>,
}

/// One scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Case name; the file stem when absent.
    #[serde(default)]
    pub name: String,
    /// Group; the parent directory when absent.
    #[serde(default)]
    pub group: String,
    /// One line saying what the case proves.
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub uni: Uni,
    /// E.164 addresses of the lab's nodes (default one node, "1001").
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Driver timers by registry name (`T303`, `T308`, ...), overriding the defaults.
    #[serde(default)]
    pub timers: BTreeMap<String, Span>,
    /// Network-side (tester) timers.
    #[serde(default)]
    pub network_timers: NetTimers,
    /// A driver defect this case exposes and that is not fixed yet: the runner reports XFAIL
    /// when the case fails, and fails the run (XPASS) when it unexpectedly passes.
    pub known_defect: Option<String>,
    /// The tester sends malformed frames on purpose (why): tshark may flag its frames, never the
    /// IUT's.
    pub malformed_by_tester: Option<String>,
    /// Verifier rule ids this case expects to fire (default: none may).
    #[serde(default)]
    pub violations: Vec<String>,
    /// The `[[step]]` tables as written (each is checked against [`Step`] on its own, so an
    /// error names the step's line).
    #[serde(default, rename = "step")]
    raw_steps: Vec<Spanned<toml::Value>>,
    /// The steps with their line.
    #[serde(skip)]
    pub steps: Vec<(usize, Step)>,
}

/// A VC label: a name given at `create_vc` / `call`, or to an offered call at `offer`.
pub type Label = String;

/// Tester (network-side) answer to a SETUP or ADD PARTY it terminates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    Connect,
    Reject,
    Ignore,
    ProceedThenConnect,
    ProceedOnly,
}

/// One step. `node` picks the lab node (default 0) for client steps and the port for tester
/// steps.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    // ---- client (NDIS) side ----------------------------------------------------------------
    /// NdisClOpenAddressFamilyEx.
    OpenAf {
        #[serde(default)]
        node: usize,
        status: Option<String>,
    },
    /// NdisClCloseAddressFamily.
    CloseAf {
        #[serde(default)]
        node: usize,
    },
    /// NdisClRegisterSap (E.164 address, or any address when absent).
    RegisterSap {
        #[serde(default)]
        node: usize,
        address: Option<String>,
        status: Option<String>,
    },
    /// NdisClDeregisterSap of the last registered SAP.
    DeregisterSap {
        #[serde(default)]
        node: usize,
    },
    /// NdisCoCreateVc, naming the VC.
    CreateVc {
        #[serde(default)]
        node: usize,
        vc: Label,
    },
    /// NdisCoDeleteVc.
    DeleteVc {
        #[serde(default)]
        node: usize,
        vc: Label,
        status: Option<String>,
    },
    /// NdisClMakeCall on a created VC (or create_vc + make_call when `vc` is new).
    MakeCall(CallSpec),
    /// An outgoing call to a number the tester answers (`to`, default "9999"), then `wait`
    /// (default 1 s) and a check that it connected: the common preamble of U10 cases.
    ActiveCall(CallSpec),
    /// NdisClCloseCall (CloseData when `data` is given).
    CloseCall {
        #[serde(default)]
        node: usize,
        vc: Label,
        data: Option<Octets>,
        /// Party to drop with the close (point-to-multipoint).
        party: Option<Label>,
        status: Option<String>,
    },
    /// NdisClAddParty.
    AddParty {
        #[serde(default)]
        node: usize,
        vc: Label,
        party: Label,
        to: String,
        status: Option<String>,
    },
    /// NdisClDropParty.
    DropParty {
        #[serde(default)]
        node: usize,
        party: Label,
        data: Option<Octets>,
        status: Option<String>,
    },
    /// How the client answers ProtocolClIncomingCall: "sync", "pending", or a status name to
    /// reject with.
    Accept {
        #[serde(default)]
        node: usize,
        answer: String,
    },
    /// NdisClIncomingCallComplete for a pended offer.
    CompleteIncoming {
        #[serde(default)]
        node: usize,
        vc: Label,
        status: String,
    },
    /// Client policy knobs: close_on_incoming_close / delete_after_close ("immediate",
    /// "deferred", "never"), hold_receives.
    Policy {
        #[serde(default)]
        node: usize,
        close_on_incoming_close: Option<String>,
        delete_after_close: Option<String>,
        hold_receives: Option<bool>,
    },
    /// NdisCoSendNetBufferLists: `count` frames of `size` octets (pattern i mod 256).
    Send {
        #[serde(default)]
        node: usize,
        vc: Label,
        #[serde(default = "one")]
        count: usize,
        #[serde(default = "default_size")]
        size: usize,
    },
    /// An OID request (query unless `set`), to the miniport or to the AF (`af = true`).
    Oid {
        #[serde(default)]
        node: usize,
        oid: u32,
        vc: Option<Label>,
        #[serde(default)]
        set: bool,
        #[serde(default)]
        af: bool,
        #[serde(default = "default_oid_len")]
        len: usize,
        data: Option<Octets>,
        status: Option<String>,
        /// Expected octets in the answer (prefix).
        answer: Option<Octets>,
    },
    /// MiniportHaltEx on every node (clients tear down).
    Halt,

    // ---- tester (network) side -------------------------------------------------------------
    /// A Q.2931 message towards the user, built from fields, or `raw` octets.
    NetSend(MsgSpec),
    /// The tester offers a call (SETUP); the client's VC is named `vc`. With `active = true`
    /// the call must be active 1 s later, and its messages are not the case's.
    Offer {
        #[serde(default)]
        node: usize,
        vc: Label,
        #[serde(default)]
        active: bool,
        #[serde(default = "caller")]
        from: String,
        /// VPI of the offered VC (default 0).
        #[serde(default)]
        vpi: u16,
        vci: Option<u16>,
        #[serde(default = "default_sdu")]
        sdu: u16,
        pcr: Option<u32>,
        /// UBR (best effort) unless false.
        #[serde(default = "yes")]
        best_effort: bool,
        /// Broadband bearer class octet: 0x10 BCOB-X (default), 0x03 BCOB-C, 0x01 BCOB-A.
        bearer_class: Option<u8>,
        #[serde(default)]
        p2mp: bool,
        qos: Option<[u8; 2]>,
        user_user: Option<Octets>,
        /// IEs appended as octets (identifier, instruction, length, content).
        ies: Option<Octets>,
    },
    /// The tester releases a call (RELEASE, network state kept in step).
    Release {
        #[serde(default)]
        node: usize,
        vc: Label,
        #[serde(default = "cause16")]
        cause: u8,
        user_user: Option<Octets>,
    },
    /// The tester sends RESTART: class "all" or the indicated VC.
    Restart {
        #[serde(default)]
        node: usize,
        /// VC label whose VPI/VCI is indicated (class 0); all VCs when absent.
        vc: Option<Label>,
        vpi_vci: Option<[u16; 2]>,
    },
    /// The tester sends STATUS ENQUIRY on a call.
    StatusEnquiry {
        #[serde(default)]
        node: usize,
        vc: Label,
    },
    /// The tester sends DROP PARTY for an endpoint of a call.
    NetDropParty {
        #[serde(default)]
        node: usize,
        vc: Label,
        endpoint: u16,
        #[serde(default = "cause16")]
        cause: u8,
    },
    /// Tester knobs: how it answers SETUP / ADD PARTY, whether it completes releases.
    Tester {
        #[serde(default)]
        node: usize,
        answer: Option<AnswerKind>,
        reject_cause: Option<u8>,
        add_party: Option<AnswerKind>,
        release_complete: Option<bool>,
        drop_party_ack: Option<bool>,
        connect_delay: Option<Span>,
        connect_ack: Option<bool>,
        restart_ack: Option<bool>,
        status_reply: Option<bool>,
    },
    /// PHY of a node's link down or up.
    Link {
        #[serde(default)]
        node: usize,
        up: bool,
    },
    /// The NIC model: closes never finish (a NIC slow to close; the driver's drain deadline
    /// copes).
    Nic {
        #[serde(default)]
        node: usize,
        stall_close: bool,
    },
    /// Faults on the next SSCOP PDUs (frames on 0/5) or cells, towards the user
    /// (`to_user`, default) or from it.
    Faults {
        #[serde(default)]
        node: usize,
        #[serde(default = "yes")]
        to_user: bool,
        #[serde(default)]
        drop: u32,
        #[serde(default)]
        duplicate: u32,
        #[serde(default)]
        reorder: u32,
        #[serde(default)]
        corrupt: u32,
        /// Cells towards the user dropped / with a payload bit flipped (AAL5 CRC catches it).
        #[serde(default)]
        drop_cells: u32,
        #[serde(default)]
        corrupt_cells: u32,
    },
    /// A raw SSCOP PDU (octets, trailer included) towards the node on 0/5, bypassing the
    /// tester's SSCOP: for PDUs out of place in the link's state.
    NetPdu {
        #[serde(default)]
        node: usize,
        raw: Octets,
    },
    /// The tester's SSCOP off the line (`hold = true`: the user's PDUs are only logged, the
    /// tester sends none, its timers stand still; `net_pdu` plays the peer) or back on it
    /// (`hold = false`: it restarts with a BGN of a new N(SQ)).
    Sscop {
        #[serde(default)]
        node: usize,
        hold: bool,
    },
    /// Lets virtual time run.
    Wait {
        #[serde(rename = "for")]
        span: Span,
    },

    // ---- expectations ----------------------------------------------------------------------
    /// The next message the user (IUT) sends on the port must match, within `within`
    /// (default 1 s) and not before `after`.
    ExpectWire(WireExpect),
    /// The IUT sends nothing on the port for `for` (default 1 s).
    ExpectSilence {
        #[serde(default)]
        node: usize,
        #[serde(rename = "for")]
        span: Option<Span>,
    },
    /// An ordered subsequence of the shared NDIS + wire sequence, searched from the last
    /// match on: NDIS names (`NdisMCmDeactivateVc`, `NdisMCmCloseCallComplete(SUCCESS)`,
    /// `ProtocolCmCloseCall->PENDING`) and wire messages (`->RELEASE[16]` from the user,
    /// `<-RELEASE COMPLETE` towards it). Waits up to `within` (default 1 s).
    Expect {
        #[serde(default)]
        node: usize,
        seq: Vec<String>,
        /// Only NDIS entries on this VC (wire entries are not filtered).
        vc: Option<Label>,
        within: Option<Span>,
        /// The items must follow one another with nothing in between (after filtering).
        #[serde(default)]
        exact: bool,
    },
    /// None of these items occurs from the last match on (up to now).
    ExpectNot {
        #[serde(default)]
        node: usize,
        seq: Vec<String>,
        vc: Option<Label>,
    },
    /// The next SSCOP PDU of type `pdu` with these fields the IUT sends (other PDUs before it
    /// are passed over unless `next`), within `within` (default 1 s).
    ExpectPdu(PduExpect),
    /// The IUT sends no SSCOP PDU of these types (all types when empty) for `for`
    /// (default 1 s), from the last matched PDU on.
    ExpectNoPdu {
        #[serde(default)]
        node: usize,
        #[serde(default)]
        pdu: Vec<String>,
        #[serde(rename = "for")]
        span: Option<Span>,
    },
    /// Counters: `net_calls` (calls the tester holds at the port), `rx_frames` / `send_ok`
    /// (on `vc`), `live_vcs` / `live_calls` / `live_parties` (driver), `malformed_in`,
    /// `unknown_cref`, `messages_lost`, `restart_unanswered`, `restart_clearing_overdue`,
    /// `restart_refused`, `vcs_out_of_service` (0/1), `link_up` (0/1), `client_state` (on `vc`).
    ExpectCounters {
        #[serde(default)]
        node: usize,
        vc: Option<Label>,
        counters: BTreeMap<String, i64>,
    },
}

impl Step {
    /// A network-side (tester) step.
    pub fn is_tester(&self) -> bool {
        matches!(
            self,
            Step::NetSend(_)
                | Step::Offer { .. }
                | Step::Release { .. }
                | Step::Restart { .. }
                | Step::StatusEnquiry { .. }
                | Step::NetDropParty { .. }
                | Step::Tester { .. }
                | Step::Link { .. }
                | Step::Nic { .. }
                | Step::Faults { .. }
                | Step::NetPdu { .. }
                | Step::Sscop { .. }
                | Step::Wait { .. }
        )
    }

    /// An expectation.
    pub fn is_expectation(&self) -> bool {
        matches!(
            self,
            Step::ExpectWire(_)
                | Step::ExpectSilence { .. }
                | Step::Expect { .. }
                | Step::ExpectNot { .. }
                | Step::ExpectCounters { .. }
                | Step::ExpectPdu(_)
                | Step::ExpectNoPdu { .. }
        )
    }
}

/// A call the client makes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    #[serde(default)]
    pub node: usize,
    pub vc: Label,
    #[serde(default = "called")]
    pub to: String,
    #[serde(default)]
    pub multipoint: bool,
    /// Peak cell rate both ways (0 = line rate).
    #[serde(default)]
    pub pcr: u32,
    /// Maximum SDU both ways.
    pub sdu: Option<u32>,
    /// Party label for the first leaf (multipoint).
    pub party: Option<Label>,
    /// Virtual time to let pass after the request (ActiveCall; default 1 s).
    pub wait: Option<Span>,
    /// Expected return status of NdisClMakeCall (default PENDING).
    pub status: Option<String>,
}

/// A message the tester sends.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MsgSpec {
    #[serde(default)]
    pub node: usize,
    /// Message type by name (`RELEASE`, `STATUS`, ...) or number (`0x4d`).
    pub msg: Option<toml::Value>,
    /// Call of this VC label; the global call reference when `global = true`; a number
    /// otherwise (`cref_value`, with `cref_flag`).
    pub vc: Option<Label>,
    #[serde(default)]
    pub global: bool,
    pub cref_value: Option<u32>,
    pub cref_flag: Option<bool>,
    /// Cause values (one IE each, location "user").
    #[serde(default)]
    pub causes: Vec<u8>,
    pub diag: Option<Octets>,
    pub call_state: Option<u8>,
    pub endpoint: Option<u16>,
    pub endpoint_state: Option<u8>,
    pub restart_class: Option<u8>,
    pub vpi_vci: Option<[u16; 2]>,
    pub user_user: Option<Octets>,
    /// Octets appended after the IEs above (more IEs, or broken ones).
    pub ies: Option<Octets>,
    /// The whole message as octets (`{cref}` = the call's reference); overrides everything.
    pub raw: Option<Octets>,
    /// Message action indicator in octet 7 (flag set with this action).
    pub msg_action: Option<u8>,
}

/// What an IUT message must be.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireExpect {
    #[serde(default)]
    pub node: usize,
    /// Message type name as the tester decodes it (`RELEASE COMPLETE`).
    pub msg: String,
    /// The call reference is this VC's call.
    pub vc: Option<Label>,
    /// Global call reference.
    #[serde(default)]
    pub global: bool,
    /// Cause values in order (all of them).
    pub causes: Option<Vec<u8>>,
    /// Diagnostic of the first cause.
    pub diag: Option<Octets>,
    /// Location of the first cause.
    pub location: Option<u8>,
    pub call_state: Option<u8>,
    pub endpoint: Option<u16>,
    pub endpoint_state: Option<u8>,
    pub restart_class: Option<u8>,
    pub vpi_vci: Option<[u16; 2]>,
    /// User-user information (without the protocol discriminator).
    pub user_user: Option<Octets>,
    /// IE identifiers (names: CAUSE, USER_USER, ... or numbers) that must be present / absent.
    #[serde(default)]
    pub has: Vec<String>,
    #[serde(default)]
    pub lacks: Vec<String>,
    /// The message's octets exactly (`{cref}` = the call reference as the IUT sends it).
    pub bytes: Option<Octets>,
    pub within: Option<Span>,
    pub after: Option<Span>,
}

/// What an SSCOP PDU from the IUT must be (Q.2110 §7 field names, in lower case).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PduExpect {
    #[serde(default)]
    pub node: usize,
    /// PDU type: BGN, BGAK, BGREJ, END, ENDAK, RS, RSAK, ER, ERAK, SD, POLL, STAT, USTAT, UD, MD.
    pub pdu: String,
    pub n_sq: Option<u8>,
    pub n_mr: Option<u32>,
    pub n_s: Option<u32>,
    pub n_r: Option<u32>,
    pub n_ps: Option<u32>,
    /// END: the S bit (true: released by SSCOP itself).
    pub source: Option<bool>,
    /// STAT / USTAT: the list elements.
    pub list: Option<Vec<u32>>,
    /// SD: the Q.2931 message it carries, by name (`STATUS ENQUIRY`).
    pub msg: Option<String>,
    /// The PDU must be the very next one the IUT sends.
    #[serde(default)]
    pub next: bool,
    pub within: Option<Span>,
    pub after: Option<Span>,
}

fn one() -> usize {
    1
}
fn default_size() -> usize {
    64
}
fn default_oid_len() -> usize {
    64
}
fn default_sdu() -> u16 {
    9188
}
fn yes() -> bool {
    true
}
fn cause16() -> u8 {
    16
}
fn called() -> String {
    "9999".into()
}
fn caller() -> String {
    "7777".into()
}

/// A problem with a scenario file: file, line, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.problem)
    }
}

/// 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text.get(..at.min(text.len())).map_or(1, |t| t.matches('\n').count() + 1)
}

/// The line of the key a serde message names (`unknown field `nodee``, `... for key `for``)
/// inside the step's text.
fn key_line(text: &str, span: std::ops::Range<usize>, problem: &str) -> Option<usize> {
    let key = problem.split('`').nth(1).or_else(|| problem.split('"').nth(1))?;
    // The step runs from its header to the next table header.
    let rest = text.get(span.start..)?;
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut at = span.start;
    for (i, l) in rest.split_inclusive('\n').enumerate() {
        if i > 0 && l.trim_start().starts_with('[') {
            break;
        }
        lines.push((at, l));
        at += l.len();
    }
    let is_key = |l: &str| l.trim_start().strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('='));
    let quoted = format!("\"{key}\"");
    // A wrong value is named by its text (`invalid type: integer `7``): the line holding it.
    let is_value = |l: &str| l.split_once('=').is_some_and(|(_, v)| v.trim() == key || v.trim() == quoted);
    lines
        .iter()
        .find(|(_, l)| is_key(l))
        .or_else(|| lines.iter().find(|(_, l)| l.contains(&quoted)))
        .or_else(|| lines.iter().find(|(_, l)| is_value(l)))
        .map(|(at, _)| line_of(text, *at))
}

/// Parses a scenario; `file` names it in errors. Name and group default from the path.
pub fn parse(file: &str, text: &str) -> Result<Scenario, FileError> {
    let mut s: Scenario = toml::from_str(text).map_err(|e| FileError {
        file: file.to_string(),
        line: e.span().map_or(1, |r| line_of(text, r.start)),
        problem: e.message().replace('\n', " ").trim().to_string(),
    })?;
    for raw in std::mem::take(&mut s.raw_steps) {
        let span = raw.span();
        let line = line_of(text, span.start);
        let step: Step = raw.into_inner().try_into().map_err(|e: toml::de::Error| {
            let problem = e.message().replace('\n', " ").trim().to_string();
            FileError { file: file.to_string(), line: key_line(text, span.clone(), &problem).unwrap_or(line), problem }
        })?;
        s.steps.push((line, step));
    }
    let path = std::path::Path::new(file);
    if s.name.is_empty() {
        s.name = path.file_stem().and_then(|x| x.to_str()).unwrap_or("case").to_string();
    }
    if s.group.is_empty() {
        s.group = path.parent().and_then(|p| p.file_name()).and_then(|x| x.to_str()).unwrap_or("misc").to_string();
    }
    Ok(s)
}
