//! Runs one scenario on a fresh lab: client steps through the scriptable CoNDIS client, tester
//! steps through the network-side peer, expectations against the tester's own decode of the
//! wire and the shared NDIS + wire sequence ([`super::trace`]); then the verifier, a halt, and
//! the leak count.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use atmmcm::ndis::CallParameters;
use atmmcm::{NdisStatus, SignallingVariant};

use super::format::{CallSpec, Scenario, Step, Uni};
use super::trace;
use super::values::{check_status, e164, octets, status_by_name, when};
use crate::host::verifier::status_name;
use crate::host::{Accept, Client, PartyHandle, SapHandle, VcHandle, VcState};
use crate::lab::{Lab, LabConfig, LabDriver, call_to};
use crate::network::Direction;
use crate::network::codec::q2931::mt;

/// The driver under test: the driver core (`atmmcm::Adapter`) linked into the lab, or the built
/// `atmmcm.sys` loaded by the sys-lab (PE loader + NDIS/kernel emulation, x86_64 Linux). Either
/// runs over the same emulated NDIS, verifier, NIC model and network.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum DriverUnderTest {
    /// The `no_std` driver core linked into the lab.
    #[default]
    Core,
    /// The real `atmmcm.sys` at this path.
    Sys(PathBuf),
}

impl DriverUnderTest {
    /// A lab running this driver on every node; an error when the image cannot be loaded or a
    /// driver does not start.
    pub fn lab(&self, cfg: LabConfig) -> Result<Lab, String> {
        match self {
            DriverUnderTest::Core => Lab::try_with(cfg),
            DriverUnderTest::Sys(p) => Lab::try_with(cfg.driver(LabDriver::Sys(p.clone()))),
        }
    }

    /// The lab's driver setting for this driver.
    pub fn lab_driver(&self) -> LabDriver {
        match self {
            DriverUnderTest::Core => LabDriver::InProcess,
            DriverUnderTest::Sys(p) => LabDriver::Sys(p.clone()),
        }
    }

    /// `core` or `sys`.
    pub fn name(&self) -> &'static str {
        match self {
            DriverUnderTest::Core => "core",
            DriverUnderTest::Sys(_) => "sys",
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
    /// Everything the case checks passed except what the driver under test cannot show: a
    /// control-path counter (`malformed_in`, `unknown_cref`, ...) read after `atmmcm.sys` was
    /// halted (it answers `OID_ATMMCM_CONTROL_COUNTERS` only while it runs). Not a pass: that
    /// check was not made.
    NotObservable,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::XFail => "XFAIL",
            Verdict::XPass => "XPASS",
            Verdict::NotObservable => "N/A",
        }
    }
    /// Whether a run with this verdict is good: nothing failed (N/A: nothing that could be
    /// checked failed; it is counted and shown apart from PASS).
    pub fn ok(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::XFail | Verdict::NotObservable)
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
    /// Each check the driver under test cannot show (`line N: what`): why the verdict is N/A.
    pub not_observable: Vec<String>,
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

pub(super) const MOMENT: Duration = Duration::from_secs(1);

/// The x64 kernel stack (KERNEL_STACK_SIZE, 0x6000): the `.sys`'s deepest stack must fit.
const KERNEL_STACK: usize = 24 * 1024;

/// A call reference as the tester knows it: value, and whether the user allocated it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cref {
    pub(super) value: u32,
    pub(super) user: bool,
}

pub(super) struct Ctx {
    pub(super) lab: Lab,
    pub(super) vcs: Vec<HashMap<String, VcHandle>>,
    pub(super) crefs: Vec<HashMap<String, Cref>>,
    /// Outgoing call labels in NdisClMakeCall order, per node (bound to SETUPs in order).
    pub(super) outgoing: Vec<Vec<String>>,
    pub(super) parties: HashMap<String, PartyHandle>,
    pub(super) saps: Vec<Option<SapHandle>>,
    /// Index into the network log of the next IUT message to look at, per node.
    pub(super) wire_cursor: Vec<usize>,
    /// Stamp after which sequence expectations search, per node.
    pub(super) seq_cursor: Vec<u64>,
    /// Per VC label: stamp after which that call's sequence expectations search (never before
    /// the node's cursor), so two calls' interleaved sequences are checked independently.
    pub(super) call_cursor: Vec<HashMap<String, u64>>,
    /// Index into the port's SSCOP PDU log of the next IUT PDU to look at, per node.
    pub(super) pdu_cursor: Vec<usize>,
    pub(super) checked: usize,
    pub(super) calls: usize,
    pub(super) halted: bool,
    /// Checks of the current step the driver under test cannot show.
    pub(super) not_observable: Vec<String>,
}

pub(super) type R = Result<(), String>;

impl Ctx {
    pub(super) fn client(&self, node: usize) -> Result<Client, String> {
        if node >= self.lab.nodes.len() {
            return Err(format!("node {node} does not exist (the scenario has {})", self.lab.nodes.len()));
        }
        Ok(self.lab.node(node).client())
    }

    pub(super) fn vc(&self, node: usize, label: &str) -> Result<VcHandle, String> {
        self.vcs
            .get(node)
            .and_then(|m| m.get(label))
            .copied()
            .ok_or_else(|| format!("no VC named {label:?} on node {node} (create_vc, make_call or offer names one)"))
    }

    pub(super) fn port(&self, node: usize) -> Result<usize, String> {
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

    pub(super) fn cref(&mut self, node: usize, label: &str) -> Result<Cref, String> {
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
    pub(super) fn cursor(&self, node: usize, label: Option<&str>) -> u64 {
        let all = self.seq_cursor[node];
        label.and_then(|l| self.call_cursor[node].get(l)).map_or(all, |c| (*c).max(all))
    }

    /// Moves both cursors past everything so far (a preamble's messages are not the case's).
    pub(super) fn skip_to_now(&mut self, node: usize) {
        self.wire_cursor[node] = self.lab.network().log().len();
        if let Ok(port) = self.port(node) {
            self.pdu_cursor[node] = self.lab.network().user_pdus(port).len();
        }
        let last = trace::events(&self.lab, node).last().map_or(0, |e| e.stamp);
        self.seq_cursor[node] = self.seq_cursor[node].max(last);
    }

    pub(super) fn settle(&self) {
        self.lab.settle();
    }

    /// Runs virtual time up to `within` from now, stopping as soon as `done` holds.
    pub(super) fn wait_for(&self, within: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
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

    pub(super) fn params(spec: &CallSpec) -> CallParameters {
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

    pub(super) fn make_call(&mut self, spec: &CallSpec) -> R {
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
        if step.is_expectation() {
            self.expect_step(step)
        } else if step.is_tester() {
            self.tester_step(step)
        } else {
            self.client_step(step)
        }
    }

    /// A client (NDIS) step.
    pub(super) fn client_step(&mut self, step: &Step) -> R {
        match step {
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

            // Not this kind of step (`step` dispatches by kind).
            _ => Ok(()),
        }
    }
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
    let lab = opts.driver.lab(cfg).map_err(|e| format!("{file}: {e}"))?;
    {
        let mut net = lab.network();
        net.log_pdus = true;
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
        pdu_cursor: vec![0; nodes],
        checked: 0,
        calls: 0,
        halted: false,
        not_observable: Vec::new(),
    };
    let mut failures = Vec::new();
    let mut not_observable = Vec::new();
    for (line, s) in &sc.steps {
        let r = k.step(s);
        not_observable.extend(k.not_observable.drain(..).map(|w| format!("line {line}: {w}")));
        if let Err(why) = r {
            failures.push(format!("line {line}: {why}"));
            break;
        }
        // The driver's count of calls by what a link loss does to them must follow every
        // transition (its link-loss walk is skipped on it).
        if let Some(why) = link_counts_drift(&k.lab) {
            failures.push(format!("line {line}: {why}"));
            break;
        }
    }
    // The verifier before the halt, then the halt, the outstanding-request check and leaks.
    // The sys-lab's own findings (SYS-* rules: NDIS refusals, IRQL and spin-lock balance) count
    // as violations beside the CoNDIS verifier's.
    let seen = |lab: &Lab| -> Vec<String> {
        let mut v = Vec::new();
        for n in &lab.nodes {
            v.extend(n.ndis.violations().iter().map(|v| format!("{}: {}", v.rule, v.message)));
            v.extend(n.sys_findings().iter().map(|(r, m)| format!("{r}: {m}")));
        }
        v
    };
    let fired = seen(&k.lab);
    if !k.halted {
        k.lab.halt_all();
    }
    let mut leaks = 0;
    for n in &k.lab.nodes {
        n.ndis.check_outstanding();
        leaks += n.held_after_halt();
        if let Some(d) = n.sys_stack_depth()
            && d >= KERNEL_STACK
        {
            failures
                .push(format!("{}: the driver used {d} bytes of stack below an entry (kernel stack 24 KiB)", n.name));
        }
    }
    let after = seen(&k.lab);
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
    let verdict = match (&sc.known_defect, failures.is_empty(), not_observable.is_empty()) {
        (None, false, _) => Verdict::Fail,
        (Some(_), false, _) => Verdict::XFail,
        // Passed, but a check was not made: neither PASS nor (for a known defect) XPASS.
        (_, true, false) => Verdict::NotObservable,
        (None, true, true) => Verdict::Pass,
        (Some(_), true, true) => Verdict::XPass,
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
        not_observable,
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

/// A node whose driver's kept link counts differ from a recount of its VCs.
fn link_counts_drift(lab: &Lab) -> Option<String> {
    lab.nodes.iter().find_map(|n| {
        let (kept, recounted) = n.link_counts()?;
        (kept != recounted).then(|| format!("{}: link counts kept {kept:?}, recounted {recounted:?}", n.name))
    })
}
