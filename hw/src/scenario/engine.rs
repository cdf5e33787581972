//! Runs one scenario on a fresh lab: client steps through the scriptable CoNDIS client, tester
//! steps through the network-side peer, expectations against the tester's own decode of the
//! wire and the shared NDIS + wire sequence ([`super::trace`]); then the verifier, a halt, and
//! the leak count.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use atmmcm::ndis::{AtmAddress, AtmAddressType, CallParameters};
use atmmcm::{NdisStatus, SignallingVariant};

use super::format::{AnswerKind, CallSpec, MsgSpec, Octets, Scenario, Step, Uni, WireExpect};
use super::trace;
use crate::host::verifier::status_name;
use crate::host::{Accept, Client, PartyHandle, SapHandle, VcHandle, VcState, When};
use crate::lab::{Lab, LabConfig, call_to};
use crate::network::codec::ie::{Body, ConnectionId, EndpointRef, Ie, id};
use crate::network::codec::q2931::{CallRef, Message, mt};
use crate::network::{Answer, Direction, NetEvent, OfferParams, PduFaults};

/// The driver under test. The lab runs the driver core (`atmmcm::Adapter`) over the emulated
/// NDIS; another driver (e.g. the built `.sys` under an NDIS emulation) is another variant,
/// built by [`DriverUnderTest::lab`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DriverUnderTest {
    /// The `no_std` driver core linked into the lab.
    #[default]
    Core,
}

impl DriverUnderTest {
    /// A lab running this driver on every node.
    pub fn lab(self, cfg: LabConfig) -> Lab {
        match self {
            DriverUnderTest::Core => Lab::with(cfg),
        }
    }
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub driver: DriverUnderTest,
    /// Write `<case>.pcap` (port 0) and `<case>.port<i>.pcap` here.
    pub pcap_dir: Option<PathBuf>,
    /// Keep the shared sequence as trace lines in the outcome.
    pub trace: bool,
}

/// A case's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Fails as its `known_defect` says.
    XFail,
    /// Has a `known_defect` but passed: the defect is gone or the case is wrong.
    XPass,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::XFail => "XFAIL",
            Verdict::XPass => "XPASS",
        }
    }
    /// Whether a run with this verdict is good.
    pub fn ok(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::XFail)
    }
}

/// What one case did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub name: String,
    pub group: String,
    pub file: String,
    pub uni: Uni,
    pub verdict: Verdict,
    pub known_defect: Option<String>,
    /// The case sends malformed frames on purpose (tshark may flag the tester's frames).
    pub malformed_by_tester: Option<String>,
    /// Each failed expectation: `line N: what`.
    pub failures: Vec<String>,
    /// NdisClMakeCall requests and offered calls.
    pub calls: usize,
    /// Signalling messages both ways.
    pub frames: usize,
    /// NDIS sequence items and wire messages an expectation matched.
    pub checked: usize,
    pub violations: usize,
    /// Driver objects alive after the halt.
    pub leaks: usize,
    pub virtual_time: Duration,
    pub real_time: Duration,
    /// The shared sequence (`--trace`), when asked for.
    pub trace: Vec<String>,
    /// Captures written.
    pub pcaps: Vec<PathBuf>,
}

const MOMENT: Duration = Duration::from_secs(1);

/// A call reference as the tester knows it: value, and whether the user allocated it.
#[derive(Clone, Copy, Debug)]
struct Cref {
    value: u32,
    user: bool,
}

struct Ctx {
    lab: Lab,
    vcs: Vec<HashMap<String, VcHandle>>,
    crefs: Vec<HashMap<String, Cref>>,
    /// Outgoing call labels in NdisClMakeCall order, per node (bound to SETUPs in order).
    outgoing: Vec<Vec<String>>,
    parties: HashMap<String, PartyHandle>,
    saps: Vec<Option<SapHandle>>,
    /// Index into the network log of the next IUT message to look at, per node.
    wire_cursor: Vec<usize>,
    /// Stamp after which sequence expectations search, per node.
    seq_cursor: Vec<u64>,
    /// Per VC label: stamp after which that call's sequence expectations search (never before
    /// the node's cursor), so two calls' interleaved sequences are checked independently.
    call_cursor: Vec<HashMap<String, u64>>,
    checked: usize,
    calls: usize,
    halted: bool,
}

type R = Result<(), String>;

/// Parses octets: hex (spaces allowed) with `{cref}` for `cref`, or `'text'`.
pub fn octets(o: &Octets, cref: Option<[u8; 3]>) -> Result<Vec<u8>, String> {
    let s = o.0.trim();
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        return Ok(s.as_bytes()[1..s.len() - 1].to_vec());
    }
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{cref}") {
            out.extend_from_slice(&cref.ok_or("{cref} used where the step names no call")?);
            rest = r;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_whitespace() || c == ':' || c == '-' {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let pair = rest.get(..2).ok_or_else(|| format!("odd number of hex digits in {s:?}"))?;
        out.push(u8::from_str_radix(pair, 16).map_err(|_| format!("bad hex {pair:?} in {s:?}"))?);
        rest = &rest[2..];
    }
    Ok(out)
}

fn cref_octets(value: u32, flag: bool) -> [u8; 3] {
    let v = (value & 0x7f_ffff) | if flag { 0x80_0000 } else { 0 };
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

/// Message type by name (`RELEASE COMPLETE`, `release_complete`) or number.
fn msg_type(v: &toml::Value) -> Result<u8, String> {
    match v {
        toml::Value::Integer(n) => u8::try_from(*n).map_err(|_| format!("message type {n} out of range")),
        toml::Value::String(s) => {
            let want = s.trim().to_ascii_uppercase().replace('_', " ");
            (0..=255u8)
                .find(|&t| mt::is_known(t) && mt::name(t) == want)
                .ok_or_else(|| format!("unknown message type {s:?}"))
        }
        other => Err(format!("message type must be a name or a number, not {other}")),
    }
}

/// IE identifier by name (`CAUSE`, `USER_USER`) or number (`0x7e`, `126`).
fn ie_id(s: &str) -> Result<u8, String> {
    let t = s.trim().to_ascii_uppercase();
    let named = match t.as_str() {
        "CAUSE" => Some(id::CAUSE),
        "CALL_STATE" => Some(id::CALL_STATE),
        "NOTIFY" => Some(id::NOTIFY),
        "ENDPOINT_REF" => Some(id::ENDPOINT_REF),
        "ENDPOINT_STATE" => Some(id::ENDPOINT_STATE),
        "AAL" => Some(id::AAL),
        "TRAFFIC" => Some(id::TRAFFIC),
        "CONNECTION_ID" => Some(id::CONNECTION_ID),
        "QOS" => Some(id::QOS),
        "BHLI" => Some(id::BHLI),
        "BEARER" => Some(id::BEARER),
        "BLLI" => Some(id::BLLI),
        "CALLING" => Some(id::CALLING),
        "CALLED" => Some(id::CALLED),
        "RESTART" => Some(id::RESTART),
        "USER_USER" => Some(id::USER_USER),
        _ => None,
    };
    if let Some(n) = named {
        return Ok(n);
    }
    let n = match t.strip_prefix("0X") {
        Some(h) => u8::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    };
    n.ok_or_else(|| format!("unknown IE {s:?}"))
}

const STATUSES: &[NdisStatus] = &[
    NdisStatus::SUCCESS,
    NdisStatus::PENDING,
    NdisStatus::NOT_ACCEPTED,
    NdisStatus::FAILURE,
    NdisStatus::INVALID_PARAMETER,
    NdisStatus::RESOURCES,
    NdisStatus::NOT_SUPPORTED,
    NdisStatus::INVALID_STATE,
    NdisStatus::CLOSING,
    NdisStatus::INVALID_DATA,
    NdisStatus::INVALID_SAP,
    NdisStatus::SAP_IN_USE,
    NdisStatus::INVALID_ADDRESS,
    NdisStatus::DEST_OUT_OF_ORDER,
    NdisStatus::VC_NOT_AVAILABLE,
    NdisStatus::CELLRATE_NOT_AVAILABLE,
    NdisStatus::INCOMPATABLE_QOS,
    NdisStatus::AAL_PARAMS_UNSUPPORTED,
    NdisStatus::NO_ROUTE_TO_DESTINATION,
    NdisStatus::CALL_ACTIVE,
];

fn status_by_name(s: &str) -> Result<NdisStatus, String> {
    let t = s.trim().trim_start_matches("NDIS_STATUS_");
    STATUSES.iter().copied().find(|x| x.name() == Some(t)).ok_or_else(|| format!("unknown NDIS status {s:?}"))
}

/// Checks `got` against the expected status name, or against any of `default` when none.
fn check_status(what: &str, got: NdisStatus, want: &Option<String>, default: &[NdisStatus]) -> R {
    let ok = match want {
        Some(w) => status_name(got) == w.trim().trim_start_matches("NDIS_STATUS_"),
        None => default.contains(&got),
    };
    if ok {
        Ok(())
    } else {
        let w = want.clone().unwrap_or_else(|| default.iter().map(|s| status_name(*s)).collect::<Vec<_>>().join("|"));
        Err(format!("{what} returned {}, expected {w}", status_name(got)))
    }
}

fn when(s: &str) -> Result<When, String> {
    match s {
        "immediate" => Ok(When::Immediate),
        "deferred" => Ok(When::Deferred),
        "never" => Ok(When::Never),
        other => Err(format!("unknown policy {other:?} (immediate, deferred, never)")),
    }
}

fn e164(s: &str) -> Option<AtmAddress> {
    AtmAddress::new(AtmAddressType::E164, s.as_bytes())
}

impl Ctx {
    fn client(&self, node: usize) -> Result<Client, String> {
        if node >= self.lab.nodes.len() {
            return Err(format!("node {node} does not exist (the scenario has {})", self.lab.nodes.len()));
        }
        Ok(self.lab.node(node).client())
    }

    fn vc(&self, node: usize, label: &str) -> Result<VcHandle, String> {
        self.vcs
            .get(node)
            .and_then(|m| m.get(label))
            .copied()
            .ok_or_else(|| format!("no VC named {label:?} on node {node} (create_vc, make_call or offer names one)"))
    }

    fn port(&self, node: usize) -> Result<usize, String> {
        self.lab.nodes.get(node).map(|n| n.port).ok_or_else(|| format!("node {node} does not exist"))
    }

    /// Binds outgoing call labels to the SETUPs the tester saw, in order.
    fn bind_outgoing(&mut self, node: usize) {
        let Ok(port) = self.port(node) else { return };
        let mut seen: Vec<u32> = Vec::new();
        for e in self.lab.network().log() {
            if e.port == port
                && e.direction == Direction::FromUser
                && e.msg_type == Some(mt::SETUP)
                && let Some(c) = e.call_ref
                && !seen.contains(&c.value)
            {
                seen.push(c.value);
            }
        }
        for (label, value) in self.outgoing[node].iter().zip(seen) {
            self.crefs[node].entry(label.clone()).or_insert(Cref { value, user: true });
        }
    }

    fn cref(&mut self, node: usize, label: &str) -> Result<Cref, String> {
        if !self.crefs.get(node).is_some_and(|m| m.contains_key(label)) {
            self.bind_outgoing(node);
        }
        self.crefs
            .get(node)
            .and_then(|m| m.get(label))
            .copied()
            .ok_or_else(|| format!("call {label:?} on node {node} has no call reference yet (no SETUP seen)"))
    }

    /// Where sequence expectations on `label`'s call (or on everything) search from.
    fn cursor(&self, node: usize, label: Option<&str>) -> u64 {
        let all = self.seq_cursor[node];
        label.and_then(|l| self.call_cursor[node].get(l)).map_or(all, |c| (*c).max(all))
    }

    /// Moves both cursors past everything so far (a preamble's messages are not the case's).
    fn skip_to_now(&mut self, node: usize) {
        self.wire_cursor[node] = self.lab.network().log().len();
        let last = trace::events(&self.lab, node).last().map_or(0, |e| e.stamp);
        self.seq_cursor[node] = self.seq_cursor[node].max(last);
    }

    fn settle(&self) {
        self.lab.settle();
    }

    /// Runs virtual time up to `within` from now, stopping as soon as `done` holds.
    fn wait_for(&self, within: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = self.lab.now() + within;
        self.settle();
        loop {
            if done(self) {
                return true;
            }
            match self.lab.next_deadline() {
                // A deadline already behind the clock after settling will never be served (a
                // halted node's timer): it is no reason to keep stepping.
                Some(t) if t <= end && t >= self.lab.now() => {
                    if t > self.lab.now() {
                        self.lab.clock.advance_to(t);
                    }
                    self.settle();
                    if self.lab.next_deadline() == Some(t) {
                        self.lab.clock.advance_to(t + Duration::from_micros(1));
                        self.settle();
                    }
                }
                _ => break,
            }
        }
        self.lab.clock.advance_to(end);
        self.settle();
        done(self)
    }

    fn params(spec: &CallSpec) -> CallParameters {
        let mut p = call_to(spec.to.as_bytes());
        if spec.multipoint {
            p.flags |= atmmcm::ndis::call_flags::MULTIPOINT_VC;
        }
        if spec.pcr != 0 {
            p.media.transmit.pcr = spec.pcr;
            p.media.receive.pcr = spec.pcr;
        }
        if let Some(s) = spec.sdu {
            p.media.transmit.max_sdu_size = s;
            p.media.receive.max_sdu_size = s;
        }
        p
    }

    fn make_call(&mut self, spec: &CallSpec) -> R {
        let c = self.client(spec.node)?;
        let vc = match self.vc(spec.node, &spec.vc) {
            Ok(v) => v,
            Err(_) => {
                let v = c.create_vc().map_err(|s| format!("NdisCoCreateVc failed: {}", status_name(s)))?;
                self.vcs[spec.node].insert(spec.vc.clone(), v);
                v
            }
        };
        let (st, party) = c.make_call(vc, Self::params(spec));
        self.calls += 1;
        self.outgoing[spec.node].push(spec.vc.clone());
        if let (Some(l), Some(p)) = (&spec.party, party) {
            self.parties.insert(l.clone(), p);
        }
        self.settle();
        check_status("NdisClMakeCall", st, &spec.status, &[NdisStatus::PENDING])
    }

    fn step(&mut self, step: &Step) -> R {
        match step {
            // ---- client ----
            Step::OpenAf { node, status } => {
                let c = self.client(*node)?;
                let st = match c.open_af() {
                    Ok(_) => NdisStatus::SUCCESS,
                    Err(s) => s,
                };
                self.settle();
                check_status("NdisClOpenAddressFamilyEx", st, status, &[NdisStatus::SUCCESS])
            }
            Step::CloseAf { node } => {
                let st = self.client(*node)?.close_af();
                self.settle();
                check_status("NdisClCloseAddressFamily", st, &None, &[NdisStatus::SUCCESS, NdisStatus::PENDING])
            }
            Step::RegisterSap { node, address, status } => {
                let c = self.client(*node)?;
                let r = c.register_sap(address.as_deref().and_then(e164));
                self.settle();
                match r {
                    Ok(s) => {
                        self.saps[*node] = Some(s);
                        check_status("NdisClRegisterSap", NdisStatus::SUCCESS, status, &[NdisStatus::SUCCESS])
                    }
                    Err(s) => check_status("NdisClRegisterSap", s, status, &[NdisStatus::SUCCESS]),
                }
            }
            Step::DeregisterSap { node } => {
                let c = self.client(*node)?;
                let sap = self.saps[*node].take().ok_or("no SAP registered")?;
                let st = c.deregister_sap(sap);
                self.settle();
                check_status("NdisClDeregisterSap", st, &None, &[NdisStatus::SUCCESS, NdisStatus::PENDING])
            }
            Step::CreateVc { node, vc } => {
                let c = self.client(*node)?;
                let v = c.create_vc().map_err(|s| format!("NdisCoCreateVc failed: {}", status_name(s)))?;
                self.vcs[*node].insert(vc.clone(), v);
                Ok(())
            }
            Step::DeleteVc { node, vc, status } => {
                let c = self.client(*node)?;
                let st = c.delete_vc(self.vc(*node, vc)?);
                self.settle();
                check_status("NdisCoDeleteVc", st, status, &[NdisStatus::SUCCESS])
            }
            Step::MakeCall(spec) => self.make_call(spec),
            Step::ActiveCall(spec) => {
                self.make_call(spec)?;
                self.lab.advance(spec.wait.map_or(MOMENT, |w| w.0));
                let c = self.client(spec.node)?;
                let vc = self.vc(spec.node, &spec.vc)?;
                match c.state(vc) {
                    Some(VcState::Connected) => {
                        self.skip_to_now(spec.node);
                        Ok(())
                    }
                    other => Err(format!(
                        "call {:?} did not connect ({other:?}); NDIS on it: {:?}",
                        spec.vc,
                        self.lab.node(spec.node).ndis.ndis_calls_on(vc)
                    )),
                }
            }
            Step::CloseCall { node, vc, data, party, status } => {
                let c = self.client(*node)?;
                let v = self.vc(*node, vc)?;
                let d = data.as_ref().map(|d| octets(d, None)).transpose()?;
                let p = party
                    .as_ref()
                    .map(|l| self.parties.get(l).copied().ok_or(format!("no party {l:?}")))
                    .transpose()?;
                let st = c.close_call(v, p, d.as_deref());
                self.settle();
                check_status("NdisClCloseCall", st, status, &[NdisStatus::PENDING, NdisStatus::SUCCESS])
            }
            Step::AddParty { node, vc, party, to, status } => {
                let c = self.client(*node)?;
                let v = self.vc(*node, vc)?;
                let mut p = call_to(to.as_bytes());
                p.flags |= atmmcm::ndis::call_flags::MULTIPOINT_VC;
                let (st, h) = c.add_party(v, p);
                if let Some(h) = h {
                    self.parties.insert(party.clone(), h);
                }
                self.settle();
                check_status("NdisClAddParty", st, status, &[NdisStatus::PENDING])
            }
            Step::DropParty { node, party, data, status } => {
                let c = self.client(*node)?;
                let p = self.parties.get(party).copied().ok_or(format!("no party {party:?}"))?;
                let d = data.as_ref().map(|d| octets(d, None)).transpose()?;
                let st = c.drop_party(p, d.as_deref());
                self.settle();
                check_status("NdisClDropParty", st, status, &[NdisStatus::PENDING, NdisStatus::SUCCESS])
            }
            Step::Accept { node, answer } => {
                let a = match answer.as_str() {
                    "sync" => Accept::Sync,
                    "pending" => Accept::Pending,
                    s => Accept::Reject(status_by_name(s)?),
                };
                self.client(*node)?.accept_incoming(a);
                Ok(())
            }
            Step::CompleteIncoming { node, vc, status } => {
                let c = self.client(*node)?;
                c.complete_incoming(self.vc(*node, vc)?, status_by_name(status)?);
                self.settle();
                Ok(())
            }
            Step::Policy { node, close_on_incoming_close, delete_after_close, hold_receives } => {
                let c = self.client(*node)?;
                if let Some(w) = close_on_incoming_close {
                    c.close_on_incoming_close(when(w)?);
                }
                if let Some(w) = delete_after_close {
                    c.delete_after_close(when(w)?);
                }
                if let Some(h) = hold_receives {
                    c.return_receives(if *h {
                        crate::host::ReturnReceives::Hold
                    } else {
                        crate::host::ReturnReceives::Immediate
                    });
                }
                Ok(())
            }
            Step::Send { node, vc, count, size } => {
                let c = self.client(*node)?;
                let v = self.vc(*node, vc)?;
                let frames = (0..*count).map(|_| (0..*size).map(|i| i as u8).collect()).collect();
                c.send(v, frames);
                self.settle();
                Ok(())
            }
            Step::Oid { node, oid, vc, set, af, len, data, status, answer } => {
                let c = self.client(*node)?;
                let v = vc.as_ref().map(|l| self.vc(*node, l)).transpose()?;
                let mut buf = vec![0u8; *len];
                if let Some(d) = data {
                    let d = octets(d, None)?;
                    let n = d.len().min(buf.len());
                    buf[..n].copy_from_slice(&d[..n]);
                }
                let (st, done, _) = if *af {
                    c.af_oid_request(v, *oid, !set, &mut buf)
                } else {
                    c.oid_request(v, *oid, !set, &mut buf)
                };
                self.settle();
                check_status(&format!("OID 0x{oid:08X}"), st, status, &[NdisStatus::SUCCESS])?;
                if let Some(a) = answer {
                    let a = octets(a, None)?;
                    let got = &buf[..done.min(buf.len())];
                    if !got.starts_with(&a) {
                        return Err(format!("OID 0x{oid:08X} answered {got:02x?}, expected it to start {a:02x?}"));
                    }
                }
                Ok(())
            }
            Step::Halt => {
                self.lab.halt_all();
                self.halted = true;
                Ok(())
            }

            // ---- tester ----
            Step::NetSend(m) => self.net_send(m),
            Step::Offer {
                node,
                vc,
                active,
                from,
                vci,
                sdu,
                pcr,
                best_effort,
                bearer_class,
                p2mp,
                qos,
                user_user,
                ies,
            } => {
                let port = self.port(*node)?;
                let c = self.client(*node)?;
                let before = c.incoming_calls().len();
                let mut p = OfferParams {
                    vci: *vci,
                    forward_max_sdu: *sdu,
                    backward_max_sdu: *sdu,
                    best_effort: *best_effort,
                    p2mp: *p2mp,
                    ..OfferParams::default()
                };
                if let Some(r) = pcr {
                    p.pcr = *r;
                }
                if let Some(b) = bearer_class {
                    p.bearer_class = *b;
                }
                if let Some([f, b]) = qos {
                    p.qos = (*f, *b);
                }
                p.user_user = user_user.as_ref().map(|u| octets(u, None)).transpose()?;
                if let Some(raw) = ies {
                    p.extra_ies = parse_ies(&octets(raw, None)?)?;
                }
                let now = self.lab.now();
                let cref = self.lab.network().offer_call(now, port, from.as_bytes(), p);
                self.calls += 1;
                self.crefs[*node].insert(vc.clone(), Cref { value: cref, user: false });
                self.settle();
                if let Some(ic) = c.incoming_calls().get(before) {
                    self.vcs[*node].insert(vc.clone(), ic.vc);
                }
                if *active {
                    self.lab.advance(MOMENT);
                    let v = self.vc(*node, vc)?;
                    if c.state(v) != Some(VcState::Connected) {
                        return Err(format!(
                            "offered call {vc:?} is not active ({:?}); NDIS on it: {:?}",
                            c.state(v),
                            self.lab.node(*node).ndis.ndis_calls_on(v)
                        ));
                    }
                    self.skip_to_now(*node);
                }
                Ok(())
            }
            Step::Release { node, vc, cause, user_user } => {
                let port = self.port(*node)?;
                let cref = self.cref(*node, vc)?;
                let uu = user_user.as_ref().map(|u| octets(u, None)).transpose()?;
                let now = self.lab.now();
                self.lab.network().release(now, port, cref.value, *cause, uu.as_deref());
                self.settle();
                Ok(())
            }
            Step::Restart { node, vc, vpi_vci } => {
                let port = self.port(*node)?;
                let target = match (vc, vpi_vci) {
                    (_, Some([p, c])) => Some((*p, *c)),
                    (Some(l), None) => {
                        let cref = self.cref(*node, l)?;
                        let calls = self.lab.network().calls(port);
                        let k = calls
                            .iter()
                            .find(|k| k.call_ref == cref.value)
                            .ok_or(format!("the tester holds no call {l:?} to restart"))?;
                        Some((k.vpi, k.vci))
                    }
                    (None, None) => None,
                };
                let now = self.lab.now();
                self.lab.network().restart(now, port, target.is_none(), target);
                self.settle();
                Ok(())
            }
            Step::StatusEnquiry { node, vc } => {
                let port = self.port(*node)?;
                let cref = self.cref(*node, vc)?;
                let now = self.lab.now();
                self.lab.network().status_enquiry(now, port, cref.value);
                self.settle();
                Ok(())
            }
            Step::NetDropParty { node, vc, endpoint, cause } => {
                let port = self.port(*node)?;
                let cref = self.cref(*node, vc)?;
                let now = self.lab.now();
                self.lab.network().drop_party(now, port, cref.value, *endpoint, *cause);
                self.settle();
                Ok(())
            }
            Step::Tester {
                node,
                answer,
                reject_cause,
                add_party,
                release_complete,
                drop_party_ack,
                connect_delay,
                connect_ack,
                restart_ack,
                status_reply,
            } => {
                let port = self.port(*node)?;
                let conv = |a: AnswerKind| match a {
                    AnswerKind::Connect => Answer::Connect,
                    AnswerKind::Reject => Answer::Reject(reject_cause.unwrap_or(21)),
                    AnswerKind::Ignore => Answer::Ignore,
                    AnswerKind::ProceedThenConnect => Answer::ProceedThenConnect,
                    AnswerKind::ProceedOnly => Answer::ProceedOnly,
                };
                let mut net = self.lab.network();
                let b = net.behaviour(port);
                if let Some(a) = answer {
                    b.answer = conv(*a);
                }
                if let Some(a) = add_party {
                    b.add_party = conv(*a);
                }
                if let Some(r) = release_complete {
                    b.release_complete = *r;
                }
                if let Some(d) = drop_party_ack {
                    b.drop_party_ack = *d;
                }
                if let Some(d) = connect_delay {
                    b.connect_delay = d.0;
                }
                if let Some(v) = connect_ack {
                    b.connect_ack = *v;
                }
                if let Some(v) = restart_ack {
                    b.restart_ack = *v;
                }
                if let Some(v) = status_reply {
                    b.status_reply = *v;
                }
                Ok(())
            }
            Step::Link { node, up } => {
                self.port(*node)?;
                self.lab.set_link(*node, *up);
                Ok(())
            }
            Step::Nic { node, stall_close } => {
                self.port(*node)?;
                self.lab.node(*node).model.set_stall_close(*stall_close);
                Ok(())
            }
            Step::Faults { node, to_user, drop, duplicate, reorder, corrupt, drop_cells, corrupt_cells } => {
                let port = self.port(*node)?;
                let f = PduFaults { drop: *drop, duplicate: *duplicate, reorder: *reorder, corrupt: *corrupt };
                self.lab.network().set_pdu_faults(port, *to_user, f);
                if *drop_cells > 0 || *corrupt_cells > 0 {
                    self.lab.cell_faults(*node, *drop_cells, *corrupt_cells);
                }
                Ok(())
            }
            Step::NetPdu { node, raw } => {
                let port = self.port(*node)?;
                let b = octets(raw, None)?;
                self.lab.network().inject_data(port, crate::network::SIG_VPI, crate::network::SIG_VCI, &b);
                self.settle();
                Ok(())
            }
            Step::Wait { span } => {
                self.lab.advance(span.0);
                Ok(())
            }

            // ---- expectations ----
            Step::ExpectWire(w) => self.expect_wire(w),
            Step::ExpectSilence { node, span } => {
                let port = self.port(*node)?;
                let from = self.wire_cursor[*node];
                self.lab.advance(span.map_or(MOMENT, |s| s.0));
                let net = self.lab.network();
                let extra: Vec<String> = net.log()[from..]
                    .iter()
                    .filter(|e| e.port == port && e.direction == Direction::FromUser)
                    .map(trace::wire_name)
                    .collect();
                if extra.is_empty() { Ok(()) } else { Err(format!("the IUT was to stay silent but sent {extra:?}")) }
            }
            Step::Expect { node, seq, vc, within, exact } => {
                self.expect_seq(*node, seq, vc.as_deref(), *within, *exact)
            }
            Step::ExpectNot { node, seq, vc } => {
                let label = vc.clone();
                let vc = match vc {
                    Some(l) => Some((self.vc(*node, l)?, self.cref(*node, l).ok().map(|c| c.value))),
                    None => None,
                };
                let after = self.cursor(*node, label.as_deref());
                let ev = trace::events(&self.lab, *node);
                for e in ev.iter().filter(|e| e.stamp > after && on_call(e, vc)) {
                    if let Some(p) = seq.iter().find(|p| trace::matches(p, &e.name)) {
                        return Err(format!("{p:?} occurred ({}) and must not have", e.line.trim()));
                    }
                }
                self.checked += seq.len();
                Ok(())
            }
            Step::ExpectCounters { node, vc, counters } => self.expect_counters(*node, vc.as_deref(), counters),
        }
    }

    fn net_send(&mut self, m: &MsgSpec) -> R {
        let port = self.port(m.node)?;
        let (value, flag) = match (&m.vc, m.global, m.cref_value) {
            (Some(l), _, _) => {
                let c = self.cref(m.node, l)?;
                (c.value, m.cref_flag.unwrap_or(c.user))
            }
            (None, true, _) => (0, m.cref_flag.unwrap_or(false)),
            (None, false, Some(v)) => (v, m.cref_flag.unwrap_or(false)),
            (None, false, None) if m.raw.is_some() => (0, false),
            (None, false, None) => return Err("net_send needs vc, global = true or cref_value".into()),
        };
        let bytes = match &m.raw {
            Some(raw) => octets(raw, Some(cref_octets(value, flag)))?,
            None => {
                let t = msg_type(m.msg.as_ref().ok_or("net_send needs msg (or raw)")?)?;
                let mut msg = Message::new(CallRef { flag, value }, t);
                if let Some(a) = m.msg_action {
                    msg.ext = 0x80 | 0x10 | (a & 0x03);
                }
                let diag = m.diag.as_ref().map(|d| octets(d, None)).transpose()?.unwrap_or_default();
                for (i, c) in m.causes.iter().enumerate() {
                    msg = msg.with(Ie::cause(2, *c, if i == 0 { &diag } else { &[] }));
                }
                if let Some(s) = m.call_state {
                    msg = msg.with(Ie::new(id::CALL_STATE, Body::CallState(s)));
                }
                if let Some([p, c]) = m.vpi_vci {
                    msg = msg.with(Ie::new(id::CONNECTION_ID, Body::ConnectionId(ConnectionId::exclusive(p, c))));
                }
                if let Some(rc) = m.restart_class {
                    msg = msg.with(Ie::new(id::RESTART, Body::Restart(rc)));
                }
                if let Some(e) = m.endpoint {
                    msg = msg.with(Ie::new(id::ENDPOINT_REF, Body::EndpointRef(EndpointRef { flag: true, value: e })));
                }
                if let Some(s) = m.endpoint_state {
                    msg = msg.with(Ie::new(id::ENDPOINT_STATE, Body::EndpointState(s)));
                }
                if let Some(u) = &m.user_user {
                    msg = msg.with(Ie::new(id::USER_USER, Body::UserUser(4, octets(u, None)?)));
                }
                let mut b = msg.emit();
                if let Some(extra) = &m.ies {
                    b.extend(octets(extra, None)?);
                    let len = u16::try_from(b.len().saturating_sub(9)).unwrap_or(u16::MAX).to_be_bytes();
                    b[7] = len[0];
                    b[8] = len[1];
                }
                b
            }
        };
        let now = self.lab.now();
        self.lab.network().send_raw(now, port, &bytes);
        self.settle();
        Ok(())
    }

    fn next_iut_message(&self, node: usize) -> Option<(usize, NetEvent)> {
        let port = self.port(node).ok()?;
        let net = self.lab.network();
        net.log()
            .iter()
            .enumerate()
            .skip(self.wire_cursor[node])
            .find(|(_, e)| e.port == port && e.direction == Direction::FromUser)
            .map(|(i, e)| (i, e.clone()))
    }

    fn expect_wire(&mut self, w: &WireExpect) -> R {
        self.port(w.node)?;
        let start = self.lab.now();
        let within = w.within.map_or(MOMENT, |s| s.0);
        self.wait_for(within, |k| k.next_iut_message(w.node).is_some());
        let Some((idx, e)) = self.next_iut_message(w.node) else {
            return Err(format!("expected {} from the IUT within {within:?}: nothing came", w.msg));
        };
        self.wire_cursor[w.node] = idx + 1;
        self.checked += 1;
        let got = trace::wire_name(&e);
        let hexs = e.raw.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        let fail = |what: String| Err(format!("{what}; the IUT sent {got} [{hexs}]"));
        if e.name != w.msg.trim().to_ascii_uppercase().replace('_', " ") {
            return fail(format!("expected {}", w.msg));
        }
        if let Some(a) = w.after
            && e.time < start + a.0
        {
            return fail(format!(
                "expected {} no sooner than {:?} after the step, it came after {:?}",
                w.msg,
                a.0,
                e.time - start
            ));
        }
        let Some(m) = e.message.as_ref() else {
            return fail("the tester could not decode the message".into());
        };
        let mut cref_iut = None;
        if let Some(l) = &w.vc {
            let c = self.cref(w.node, l)?;
            if m.call_ref.value != c.value {
                return fail(format!("expected call reference {} (call {l:?}), got {}", c.value, m.call_ref.value));
            }
            if m.call_ref.flag == c.user {
                return fail(format!("call reference flag {} is wrong for call {l:?}", u8::from(m.call_ref.flag)));
            }
            cref_iut = Some(cref_octets(c.value, !c.user));
        }
        if w.global && m.call_ref.value != 0 {
            return fail("expected the global call reference".into());
        }
        if let Some(cs) = &w.causes
            && &m.cause_values() != cs
        {
            return fail(format!("expected causes {cs:?}"));
        }
        let first = m.causes().first().map(|c| (*c).clone());
        if let Some(d) = &w.diag {
            let want = octets(d, None)?;
            if first.as_ref().map(|c| c.diagnostics.clone()) != Some(want.clone()) {
                return fail(format!(
                    "expected cause diagnostic {want:02x?}, got {:02x?}",
                    first.map(|c| c.diagnostics)
                ));
            }
        }
        if let Some(l) = w.location
            && first.as_ref().map(|c| c.location) != Some(l)
        {
            return fail(format!("expected cause location {l}"));
        }
        if let Some(s) = w.call_state
            && m.call_state() != Some(s)
        {
            return fail(format!("expected call state {s}, got {:?}", m.call_state()));
        }
        if let Some(ep) = w.endpoint
            && m.endpoint_ref().map(|e| e.value) != Some(ep)
        {
            return fail(format!("expected endpoint reference {ep}"));
        }
        if let Some(s) = w.endpoint_state {
            let got = m.ie(id::ENDPOINT_STATE).and_then(|i| match i.body {
                Body::EndpointState(v) => Some(v),
                _ => None,
            });
            if got != Some(s) {
                return fail(format!("expected endpoint state {s}, got {got:?}"));
            }
        }
        if let Some(rc) = w.restart_class
            && m.restart_class() != Some(rc)
        {
            return fail(format!("expected restart class {rc}, got {:?}", m.restart_class()));
        }
        if let Some([p, c]) = w.vpi_vci
            && m.connection_id().map(|x| (x.vpci, x.vci)) != Some((p, c))
        {
            return fail(format!("expected connection identifier {p}/{c}"));
        }
        if let Some(u) = &w.user_user {
            let want = octets(u, None)?;
            if m.user_user().map(|(_, d)| d.to_vec()) != Some(want.clone()) {
                return fail(format!("expected user-user information {want:02x?}"));
            }
        }
        for h in &w.has {
            if m.ie(ie_id(h)?).is_none() {
                return fail(format!("expected a {h} IE"));
            }
        }
        for h in &w.lacks {
            if m.ie(ie_id(h)?).is_some() {
                return fail(format!("expected no {h} IE"));
            }
        }
        if let Some(b) = &w.bytes {
            let want = octets(b, cref_iut)?;
            if want != e.raw {
                let ws = want.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
                return fail(format!("expected octets [{ws}]"));
            }
        }
        Ok(())
    }

    /// Finds `seq` as an ordered subsequence after the cursor; on success, the last stamp.
    fn find_seq(
        &self,
        node: usize,
        seq: &[String],
        vc: Option<(VcHandle, Option<u32>)>,
        after: u64,
        exact: bool,
    ) -> Result<u64, (usize, String)> {
        let ev: Vec<trace::Event> = trace::events(&self.lab, node)
            .into_iter()
            .filter(|e| e.stamp > after || (after == 0 && e.stamp == 0))
            .filter(|e| on_call(e, vc))
            .collect();
        let mut at = 0;
        let mut last = after;
        for (k, p) in seq.iter().enumerate() {
            let found = if exact && k > 0 {
                ev.get(at).filter(|e| trace::matches(p, &e.name)).map(|_| at)
            } else {
                ev.iter().skip(at).position(|e| trace::matches(p, &e.name)).map(|i| i + at)
            };
            match found {
                Some(i) => {
                    last = ev[i].stamp;
                    at = i + 1;
                }
                None => {
                    let seen: Vec<&str> = ev.iter().skip(at).map(|e| e.name.as_str()).take(24).collect();
                    return Err((k, format!("{p:?} not found after {:?}; then came {seen:?}", &seq[..k])));
                }
            }
        }
        Ok(last)
    }

    fn expect_seq(
        &mut self,
        node: usize,
        seq: &[String],
        vc: Option<&str>,
        within: Option<super::format::Span>,
        exact: bool,
    ) -> R {
        self.port(node)?;
        let label = vc;
        let vc = match vc {
            Some(l) => Some((self.vc(node, l)?, self.cref(node, l).ok().map(|c| c.value))),
            None => None,
        };
        let after = self.cursor(node, label);
        let within = within.map_or(MOMENT, |s| s.0);
        self.wait_for(within, |k| k.find_seq(node, seq, vc, after, exact).is_ok());
        match self.find_seq(node, seq, vc, after, exact) {
            Ok(last) => {
                self.checked += seq.len();
                match label {
                    Some(l) => {
                        self.call_cursor[node].insert(l.to_string(), last);
                    }
                    None => self.seq_cursor[node] = last,
                }
                Ok(())
            }
            Err((_, why)) => Err(why),
        }
    }

    fn expect_counters(
        &mut self,
        node: usize,
        vc: Option<&str>,
        counters: &std::collections::BTreeMap<String, i64>,
    ) -> R {
        let port = self.port(node)?;
        let c = self.client(node)?;
        let vc = vc.map(|l| self.vc(node, l)).transpose()?;
        let need_vc = |name: &str| vc.ok_or(format!("counter {name} needs vc"));
        let n = self.lab.node(node);
        for (name, want) in counters {
            let got: i64 = match name.as_str() {
                "net_calls" => self.lab.network().calls(port).len() as i64,
                "rx_frames" => c.received_frames(need_vc(name)?).len() as i64,
                "send_ok" => {
                    let v = need_vc(name)?;
                    c.send_completions().iter().filter(|s| s.vc == v && s.status == NdisStatus::SUCCESS).count() as i64
                }
                "send_completed" => {
                    let v = need_vc(name)?;
                    c.send_completions().iter().filter(|s| s.vc == v).count() as i64
                }
                "incoming_calls" => c.incoming_calls().len() as i64,
                "live_vcs" => n.adapter.live_objects().vcs as i64,
                "live_calls" => n.adapter.live_objects().calls as i64,
                "live_parties" => n.adapter.live_objects().parties as i64,
                "live_saps" => n.adapter.live_objects().saps as i64,
                "live_afs" => n.adapter.live_objects().afs as i64,
                "malformed_in" => n.adapter.control_stats().malformed_in as i64,
                "unknown_cref" => n.adapter.control_stats().unknown_cref as i64,
                "messages_lost" => n.adapter.control_stats().messages_lost as i64,
                "internal_errors" => n.adapter.control_stats().internal_errors as i64,
                "link_up" => i64::from(n.adapter.signalling_up()),
                "violations" => n.ndis.violations().len() as i64,
                other => return Err(format!("unknown counter {other:?}")),
            };
            self.checked += 1;
            if got != *want {
                return Err(format!("counter {name} = {got}, expected {want}"));
            }
        }
        Ok(())
    }
}

/// Whether a sequence entry belongs to the call: NDIS entries on its VC, wire messages on its
/// call reference (or the global one). No filter: everything.
fn on_call(e: &trace::Event, vc: Option<(VcHandle, Option<u32>)>) -> bool {
    match vc {
        None => true,
        Some((_, cref)) if e.wire => match (cref, e.cref) {
            (Some(want), Some(got)) => got == want || got == 0,
            _ => true,
        },
        Some((h, _)) => e.vc == Some(h),
    }
}

/// Splits octets into IEs for a SETUP the tester offers.
fn parse_ies(b: &[u8]) -> Result<Vec<Ie>, String> {
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        let [ident, ins, l0, l1, tail @ ..] = rest else {
            return Err(format!("IE octets too short: {rest:02x?}"));
        };
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let content = tail.get(..len).ok_or("IE length runs past the octets")?;
        out.push(Ie {
            id: *ident,
            instruction: crate::network::codec::ie::Instruction(*ins),
            body: Body::Raw(content.to_vec()),
            invalid: false,
        });
        rest = &tail[len..];
    }
    Ok(out)
}

/// Runs one parsed scenario. `file` and `text` locate failures by line. Errors (the case did
/// not run) are set-up problems: a timer name the driver does not know, an unwritable capture.
pub fn run(sc: &Scenario, file: &str, _text: &str, opts: &RunOptions) -> Result<Outcome, String> {
    let wall = Instant::now();
    let mut cfg = LabConfig::default();
    cfg.config.variant = match sc.uni {
        Uni::V31 => SignallingVariant::Uni31,
        Uni::V40 => SignallingVariant::Uni40,
    };
    for (k, v) in &sc.timers {
        let ms = u32::try_from(v.0.as_millis()).unwrap_or(u32::MAX);
        cfg.config.set(k, ms).map_err(|e| format!("{file}: timer {k} = {ms} ms: {e:?}"))?;
    }
    if !sc.nodes.is_empty() {
        cfg.addresses = sc.nodes.iter().map(|a| a.as_bytes().to_vec()).collect();
    }
    let mut pcaps = Vec::new();
    if let Some(dir) = &opts.pcap_dir {
        for i in 0..cfg.addresses.len() {
            let p = if i == 0 {
                dir.join(format!("{}.pcap", sc.name))
            } else {
                dir.join(format!("{}.port{i}.pcap", sc.name))
            };
            // Fail here, loudly, rather than inside the lab.
            std::fs::File::create(&p).map_err(|e| format!("cannot write capture {}: {e}", p.display()))?;
            pcaps.push(p);
        }
        cfg.port_pcaps = pcaps.clone();
    }
    let nodes = cfg.addresses.len();
    let lab = opts.driver.lab(cfg);
    {
        let mut net = lab.network();
        let t = &mut net.timers;
        let nt = &sc.network_timers;
        for (slot, v) in [
            (&mut t.t303, nt.t303),
            (&mut t.t308, nt.t308),
            (&mut t.t309, nt.t309),
            (&mut t.t310, nt.t310),
            (&mut t.t316, nt.t316),
            (&mut t.t322, nt.t322),
            (&mut t.t398, nt.t398),
        ] {
            if let Some(v) = v {
                *slot = v.0;
            }
        }
    }
    let mut k = Ctx {
        lab,
        vcs: vec![HashMap::new(); nodes],
        crefs: vec![HashMap::new(); nodes],
        outgoing: vec![Vec::new(); nodes],
        parties: HashMap::new(),
        saps: vec![None; nodes],
        wire_cursor: vec![0; nodes],
        seq_cursor: vec![0; nodes],
        call_cursor: vec![HashMap::new(); nodes],
        checked: 0,
        calls: 0,
        halted: false,
    };
    let mut failures = Vec::new();
    for (line, s) in &sc.steps {
        if let Err(why) = k.step(s) {
            failures.push(format!("line {line}: {why}"));
            break;
        }
    }
    // The verifier before the halt, then the halt, the outstanding-request check and leaks.
    let mut fired: Vec<String> = Vec::new();
    for n in &k.lab.nodes {
        fired.extend(n.ndis.violations().iter().map(|v| format!("{}: {}", v.rule, v.message)));
    }
    if !k.halted {
        k.lab.halt_all();
    }
    let mut leaks = 0;
    for n in &k.lab.nodes {
        n.ndis.check_outstanding();
        leaks += n.adapter.live_objects().total();
    }
    let mut after: Vec<String> = Vec::new();
    for n in &k.lab.nodes {
        after.extend(n.ndis.violations().iter().map(|v| format!("{}: {}", v.rule, v.message)));
    }
    let violations = after.len().max(fired.len());
    let expected = &sc.violations;
    let unexpected: Vec<&String> =
        after.iter().filter(|v| !expected.iter().any(|r| v.starts_with(&format!("{r}:")))).collect();
    for v in &unexpected {
        failures.push(format!("verifier: {v}"));
    }
    for r in expected {
        if !after.iter().any(|v| v.starts_with(&format!("{r}:"))) {
            failures.push(format!("verifier rule {r} was expected to fire and did not"));
        }
    }
    if leaks > 0 {
        failures.push(format!("{leaks} driver objects alive after the halt"));
    }
    let frames = k.lab.network().log().len();
    for i in 0..nodes {
        let p = k.lab.network().take_port_pcap(i);
        if let Some(p) = p
            && let Err(e) = p.finish()
        {
            return Err(format!("capture {}: {e}", pcaps.get(i).map_or(String::new(), |p| p.display().to_string())));
        }
    }
    let trace = if opts.trace {
        let mut all = Vec::new();
        for i in 0..nodes {
            let tag = if nodes > 1 { format!("node{i} ") } else { String::new() };
            for e in trace::events(&k.lab, i) {
                if !trace::noise(&e) {
                    all.push((e.stamp, format!("{:>12.6}s  {tag}{}", e.time.as_secs_f64(), e.line)));
                }
            }
        }
        all.sort_by_key(|x| x.0);
        all.into_iter().map(|x| x.1).collect()
    } else {
        Vec::new()
    };
    let verdict = match (&sc.known_defect, failures.is_empty()) {
        (None, true) => Verdict::Pass,
        (None, false) => Verdict::Fail,
        (Some(_), true) => Verdict::XPass,
        (Some(_), false) => Verdict::XFail,
    };
    Ok(Outcome {
        name: sc.name.clone(),
        group: sc.group.clone(),
        file: file.to_string(),
        uni: sc.uni,
        verdict,
        known_defect: sc.known_defect.clone(),
        malformed_by_tester: sc.malformed_by_tester.clone(),
        failures,
        calls: k.calls,
        frames,
        checked: k.checked,
        violations,
        leaks,
        virtual_time: k.lab.now(),
        real_time: wall.elapsed(),
        trace,
        pcaps,
    })
}
