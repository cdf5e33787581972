//! The emulated ATM network: a switch whose every port runs the network side of UNI signalling
//! (Q.2931 over SSCOP on VPI 0 / VCI 5), routes calls between ports by E.164 address,
//! terminates calls to other numbers itself (per tester knobs), cross-connects data, and taps
//! every frame into a SunATM pcap.
//!
//! Everything here — codecs, SSCOP, call control — is independent of the driver's own
//! `atmmcm::wire` / `atmmcm::saal`, so that the two implementations check each other.
//!
//! Time is virtual: every entry point takes `now`; `next_deadline` / `advance` run the timers.
//!
//! Error handling (Q.2931 §5.6) honoured by the network side:
//! - bad protocol discriminator, call reference length ≠ 3, short or structurally broken
//!   message: ignored (logged with `msg_type: None` if not even the header decodes);
//! - unknown message type: the message action indicator is followed when flagged (0 clear the
//!   call with #97, 1 discard, 2 discard and STATUS #97); unflagged → STATUS #97;
//! - unrecognized IE (identifier not in UNI 4.0), or a known IE with bad content: flagged action
//!   indicators are followed (0 clear call #99/#100, 1 discard IE, 2 discard IE + STATUS,
//!   5 discard message, 6 discard message + STATUS); unflagged → proceed + STATUS #99/#100;
//! - missing / invalid mandatory IE in SETUP → RELEASE COMPLETE #96 / #100; RELEASE without a
//!   valid cause is still honoured, RELEASE COMPLETE then carries #96 / #100;
//! - unknown call reference: RELEASE COMPLETE ignored, STATUS ENQUIRY → STATUS(N0, #30),
//!   STATUS ≠ N0 → RELEASE COMPLETE #101, anything else → RELEASE COMPLETE #81;
//! - global call reference: RESTART / RESTART ACK / STATUS only, others → STATUS #81.
//!
//! Timers (network side, values in `Timers`): T303 (SETUP sent: one retransmission, then
//! RELEASE #102 "303" to that user and #18 to the caller), T308 (RELEASE sent: one
//! retransmission with #102 "308" as second cause, then the call is forgotten), T309 (SAAL
//! down: active calls survive this long), T310 (CALL PROCEEDING received: RELEASE #102 "310"),
//! T316 (RESTART sent: one retransmission, then local clearing), T322 (STATUS ENQUIRY sent: one
//! retransmission, then RELEASE #102 "322"), T398 (DROP PARTY sent: the party is dropped
//! anyway); SSCOP Timer_CC, Timer_POLL, Timer_NO_RESPONSE. Not run: T301 (alerting), T313 (a
//! user-side timer), T317, T399 (the network never sends ADD PARTY: every routed party gets
//! its own SETUP on the leaf's port).
//!
//! Link loss (PHY down, SSCOP END, Timer_NO_RESPONSE): calls not in N10 are cleared at once
//! (the other legs hear #27); N10 calls survive T309 and are cleared (#27) if the link is not
//! back by then.

pub mod call;
pub mod codec;
mod control;
pub mod sscop;
#[cfg(test)]
mod tests;
mod vcs;
mod wakeups;

use std::collections::VecDeque;
use std::time::Duration;

use call::Key;
pub use call::{Answer, Behaviour, CallInfo, CallState, OfferParams, PartyState};
use codec::q2931::{self, Message};
use sscop::{LinkEvent, LinkState, Sscop};
use vcs::VcTable;
use wakeups::Calls;

use crate::pcap::Pcap;

pub type PortId = usize;
/// A VC at a port: (port, VPI, VCI).
pub type PortVc = (PortId, u16, u16);
/// A call reference value (23 bits). Network-allocated references start at `NETWORK_CREF_BASE`.
pub type CallRef = u32;

/// First call reference value the network allocates (kept apart from typical user values).
pub const NETWORK_CREF_BASE: u32 = 0x40_0001;
/// First VCI the network allocates for switched calls.
pub const FIRST_SVC_VCI: u16 = 32;
/// The signalling VC.
pub const SIG_VPI: u16 = 0;
pub const SIG_VCI: u16 = 5;

/// Q.2931 network-side timer values (ngatm defaults, `signalling.md` §1).
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    pub t303: Duration,
    pub t308: Duration,
    pub t309: Duration,
    pub t310: Duration,
    pub t316: Duration,
    pub t322: Duration,
    pub t398: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t303: Duration::from_secs(4),
            t308: Duration::from_secs(30),
            t309: Duration::from_secs(10),
            t310: Duration::from_secs(10),
            t316: Duration::from_secs(120),
            t322: Duration::from_secs(4),
            t398: Duration::from_secs(4),
        }
    }
}

/// Direction of a logged message, seen from the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    FromUser,
    ToUser,
}

/// One signalling message that crossed a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetEvent {
    /// Position in the lab's shared NDIS + wire order ([`crate::clock::next_stamp`]).
    pub stamp: u64,
    pub time: Duration,
    pub port: PortId,
    pub direction: Direction,
    /// None if the header did not decode.
    pub msg_type: Option<u8>,
    pub name: &'static str,
    pub call_ref: Option<q2931::CallRef>,
    pub causes: Vec<u8>,
    pub raw: Vec<u8>,
    pub message: Option<Message>,
}

/// Faults injected on the next SSCOP PDUs (AAL5 frames on 0/5) in one direction: each count
/// is how many more PDUs it applies to. Captures show the PDU as the sender put it on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PduFaults {
    /// Lost.
    pub drop: u32,
    /// Delivered twice.
    pub duplicate: u32,
    /// Held back and delivered after the PDU that follows it.
    pub reorder: u32,
    /// Last octet (the low bits of N(S)/N(R) or of the PDU type word) flipped.
    pub corrupt: u32,
}

impl PduFaults {
    /// No fault pending.
    fn is_clear(&self) -> bool {
        *self == PduFaults::default()
    }

    /// What happens to one PDU: the frames to deliver now, in order (`held` keeps a reordered
    /// one until the next PDU).
    fn apply(&mut self, held: &mut Option<Vec<u8>>, frame: Vec<u8>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if self.drop > 0 {
            self.drop -= 1;
        } else if self.reorder > 0 && held.is_none() {
            self.reorder -= 1;
            *held = Some(frame);
            return out;
        } else if self.corrupt > 0 {
            self.corrupt -= 1;
            let mut f = frame;
            if let Some(b) = f.last_mut() {
                *b ^= 0x01;
            }
            out.push(f);
        } else if self.duplicate > 0 {
            self.duplicate -= 1;
            out.push(frame.clone());
            out.push(frame);
        } else {
            out.push(frame);
        }
        out.extend(held.take());
        out
    }
}

/// One SSCOP PDU the user (driver) sent on a port's signalling VC, as it left the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PduEvent {
    /// Position in the lab's shared order ([`crate::clock::next_stamp`]).
    pub stamp: u64,
    pub time: Duration,
    pub raw: Vec<u8>,
}

/// A pending RESTART sent by the network.
#[derive(Debug, Clone)]
pub(crate) struct PendingRestart {
    pub msg: Message,
    pub deadline: Duration,
    pub count: u8,
}

pub(crate) struct Port {
    pub address: Vec<u8>,
    pub phy_up: bool,
    pub sscop: Sscop,
    pub to_user: VecDeque<(u16, u16, Vec<u8>)>,
    /// The calls, with their timer index.
    pub calls: Calls,
    /// The VCs: used, terminated (and what arrived), cross-connects.
    pub vcs: VcTable,
    pub next_vci: u16,
    pub next_cref: u32,
    pub behaviour: Behaviour,
    pub restart: Option<PendingRestart>,
    pub t309: Option<Duration>,
    pub pcap: Option<Pcap>,
    /// Faults towards the user / from the user, and the PDU each holds back for reordering.
    pub faults: [PduFaults; 2],
    pub held: [Option<Vec<u8>>; 2],
    /// Faults on this port's signalling VC (both directions), if any.
    pub sig_faults: Option<SigFaults>,
    /// The tester's SSCOP is off the line (scenario step `sscop`, `hold = true`): PDUs from the
    /// user are only logged, its timers stand still, nothing it would send goes out; the
    /// scenario plays the peer with raw PDUs.
    pub sscop_hold: bool,
    /// Every SSCOP PDU the user sent on 0/5.
    pub pdus: Vec<PduEvent>,
}

/// Faults the wire applies to SSCOP PDUs on 0/5, each a chance in 1000 per PDU, decided by a
/// seeded xorshift so a run repeats.
#[derive(Clone, Debug, Default)]
pub struct SigFaults {
    pub loss: u32,
    pub duplicate: u32,
    /// Held back and delivered after the next PDU in the same direction.
    pub reorder: u32,
    /// One octet flipped.
    pub corrupt: u32,
    pub seed: u64,
    held: [Option<Vec<u8>>; 2],
    /// PDUs lost, duplicated, reordered, corrupted so far.
    pub counts: [u64; 4],
}

impl SigFaults {
    pub fn new(loss: u32, duplicate: u32, reorder: u32, corrupt: u32, seed: u64) -> SigFaults {
        SigFaults {
            loss,
            duplicate,
            reorder,
            corrupt,
            seed: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            ..SigFaults::default()
        }
    }

    fn roll(&mut self) -> u32 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed % 1000) as u32
    }

    /// What reaches the other end for one PDU in direction `dir` (0 to the user, 1 from it).
    fn apply(&mut self, dir: usize, mut pdu: Vec<u8>) -> Vec<Vec<u8>> {
        if self.roll() < self.loss {
            self.counts[0] += 1;
            return Vec::new();
        }
        if self.roll() < self.corrupt && !pdu.is_empty() {
            self.counts[3] += 1;
            let i = (self.roll() as usize) % pdu.len();
            pdu[i] ^= 1 << (self.roll() % 8);
        }
        let mut out = Vec::new();
        if self.roll() < self.reorder && self.held[dir].is_none() {
            self.counts[2] += 1;
            self.held[dir] = Some(pdu);
            return out;
        }
        if self.roll() < self.duplicate {
            self.counts[1] += 1;
            out.push(pdu.clone());
        }
        out.push(pdu);
        if let Some(h) = self.held[dir].take() {
            out.push(h);
        }
        out
    }
}

/// The emulated ATM network.
pub struct Network {
    pub(crate) ports: Vec<Port>,
    pub(crate) log: Vec<NetEvent>,
    pub(crate) pcap: Option<Pcap>,
    pub(crate) now: Duration,
    /// Timer values; tests may shorten them.
    pub timers: Timers,
    /// Frames from the user on VCs that go nowhere.
    pub dropped_frames: u64,
    /// Keep every SSCOP PDU the users send ([`Network::user_pdus`]); scenarios turn it on.
    pub log_pdus: bool,
    /// Call keys of one timer walk, kept between walks: a walk over 65 534 calls neither
    /// allocates nor frees half a megabyte (whose free made the allocator consolidate every
    /// small chunk freed since).
    pub(crate) keys: Vec<Key>,
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

impl Network {
    pub fn new() -> Self {
        Network {
            ports: Vec::new(),
            log: Vec::new(),
            pcap: None,
            now: Duration::ZERO,
            timers: Timers::default(),
            dropped_frames: 0,
            log_pdus: false,
            keys: Vec::new(),
        }
    }

    /// Adds a port with this E.164 address (ASCII digits). The PHY is up; SSCOP waits for BGN.
    pub fn add_port(&mut self, address: Vec<u8>) -> PortId {
        let mut vcs = VcTable::default();
        vcs.claim(SIG_VPI, SIG_VCI);
        self.ports.push(Port {
            address,
            phy_up: true,
            sscop: Sscop::default(),
            to_user: VecDeque::new(),
            calls: Calls::default(),
            vcs,
            next_vci: FIRST_SVC_VCI,
            next_cref: NETWORK_CREF_BASE,
            behaviour: Behaviour::default(),
            restart: None,
            t309: None,
            pcap: None,
            faults: [PduFaults::default(); 2],
            held: [None, None],
            sig_faults: None,
            sscop_hold: false,
            pdus: Vec::new(),
        });
        self.ports.len() - 1
    }

    /// Writes every frame crossing every port into `pcap` (None stops).
    pub fn set_pcap(&mut self, pcap: Option<Pcap>) {
        self.pcap = pcap;
    }
    /// Same as `set_pcap(Some(pcap))`.
    pub fn tap(&mut self, pcap: Pcap) {
        self.pcap = Some(pcap);
    }
    /// Writes the frames crossing one port into its own capture.
    pub fn set_port_pcap(&mut self, port: PortId, pcap: Option<Pcap>) {
        if let Some(p) = self.ports.get_mut(port) {
            p.pcap = pcap;
        }
    }

    /// An AAL5 SDU from the user (driver) side of `port` on VPI/VCI.
    pub fn from_user(&mut self, now: Duration, port: PortId, vpi: u16, vci: u16, frame: &[u8]) {
        self.now = now;
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        if !p.phy_up {
            return;
        }
        Self::capture(&mut self.pcap, &mut p.pcap, now, false, vpi, vci, frame);
        if (vpi, vci) == (SIG_VPI, SIG_VCI) {
            if self.log_pdus {
                p.pdus.push(PduEvent { stamp: crate::clock::next_stamp(), time: now, raw: frame.to_vec() });
            }
            if p.sscop_hold {
                return;
            }
            let [_, faults] = &mut p.faults;
            let [_, held] = &mut p.held;
            if faults.is_clear() && held.is_none() && p.sig_faults.is_none() {
                // A clean wire: the PDU as it came.
                p.sscop.receive(now, frame);
                self.pump(now);
                return;
            }
            // The scripted faults (scenario steps), then the random ones (soak, reliability tests).
            for f in faults.apply(held, frame.to_vec()) {
                let pdus = match p.sig_faults.as_mut() {
                    Some(r) => r.apply(1, f),
                    None => vec![f],
                };
                for pdu in pdus {
                    p.sscop.receive(now, &pdu);
                }
            }
            self.pump(now);
            return;
        }
        let Some(vc) = p.vcs.get_mut(vpi, vci) else {
            self.dropped_frames += 1;
            return;
        };
        let recorded = vc.terminated;
        if recorded {
            vc.received.push(frame.to_vec());
        }
        let dests = vc.to.clone();
        if dests.is_empty() && !recorded {
            self.dropped_frames += 1;
        }
        for (dp, dvpi, dvci) in dests {
            self.enqueue(dp, dvpi, dvci, frame.to_vec());
        }
    }

    /// Next SDU towards the user side of `port`.
    pub fn to_user(&mut self, port: PortId) -> Option<(u16, u16, Vec<u8>)> {
        self.ports.get_mut(port)?.to_user.pop_front()
    }

    /// Runs every timer due at `now`.
    pub fn advance(&mut self, now: Duration) {
        self.now = now;
        for port in 0..self.ports.len() {
            if !self.ports[port].sscop_hold {
                self.ports[port].sscop.advance(now);
            }
            self.pump(now);
            self.run_call_timers(now, port);
            self.pump(now);
        }
    }

    /// The earliest pending timer, if any. O(ports · log calls): the calls' timers come from
    /// each port's timer index (debug builds check it against a walk of every call).
    pub fn next_deadline(&self) -> Option<Duration> {
        self.ports
            .iter()
            .flat_map(|p| {
                #[cfg(debug_assertions)]
                {
                    assert_eq!(p.calls.next_deadline(), p.calls.walk_next_deadline(), "timer index vs walk");
                    if let Err(e) = p.calls.check_index() {
                        panic!("timer index: {e}");
                    }
                }
                let sscop = if p.sscop_hold { None } else { p.sscop.next_deadline() };
                [sscop, p.t309, p.restart.as_ref().map(|r| r.deadline), p.calls.next_deadline()]
            })
            .flatten()
            .min()
    }

    /// PHY up/down at `port`. Down loses all SSCOP state (and frames queued towards the user);
    /// up makes the network send BGN (a crossing BGN from the user is answered too).
    pub fn set_link(&mut self, now: Duration, port: PortId, up: bool) {
        self.now = now;
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        match (p.phy_up, up) {
            (true, false) => {
                p.phy_up = false;
                p.sscop.link_lost();
                p.to_user.clear();
                self.pump(now);
            }
            (_, true) => {
                p.phy_up = true;
                if p.sscop.state() != LinkState::DataTransferReady {
                    p.sscop.establish(now);
                }
                self.pump(now);
            }
            (false, false) => {}
        }
    }

    /// Number of ports.
    pub fn port_count(&self) -> usize {
        self.ports.len()
    }
    /// The address a port was added with.
    pub fn port_address(&self, port: PortId) -> Option<&[u8]> {
        self.ports.get(port).map(|p| p.address.as_slice())
    }

    /// SSCOP link state of a port.
    pub fn link_state(&self, port: PortId) -> Option<LinkState> {
        self.ports.get(port).map(|p| p.sscop.state())
    }
    /// Sends a POLL to the user side of `port` now ([`Sscop::probe`]); its N(PS), or `None`
    /// when the port's link is not in Data Transfer Ready.
    pub fn probe_link(&mut self, now: Duration, port: PortId) -> Option<u32> {
        self.now = now;
        let nps = self.ports.get_mut(port)?.sscop.probe(now)?;
        self.pump(now);
        Some(nps)
    }

    /// The port's SSCOP peer (counters, state) for tests.
    pub fn sscop(&self, port: PortId) -> Option<&Sscop> {
        self.ports.get(port).map(|p| &p.sscop)
    }

    /// Permanent cross-connect, data both ways.
    pub fn add_pvc(&mut self, a: (PortId, u16, u16), b: (PortId, u16, u16)) {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(e) = self.vc_entry(x) {
                e.used = true;
                e.to.push(y);
            }
        }
    }

    /// Where data arriving from the user at (port, VPI, VCI) goes: the routed calls' and PVCs'
    /// cross-connects (empty if none). Read-only, for a cell switch that forwards cell by cell.
    pub fn cross_connects(&self, port: PortId, vpi: u16, vci: u16) -> &[PortVc] {
        self.vc((port, vpi, vci)).map_or(&[], |e| e.to.as_slice())
    }

    /// Every signalling message both ways, in order.
    pub fn log(&self) -> &[NetEvent] {
        &self.log
    }

    /// The network-side view of the calls at `port`.
    pub fn calls(&self, port: PortId) -> Vec<CallInfo> {
        let Some(p) = self.ports.get(port) else {
            return Vec::new();
        };
        p.calls
            .iter()
            .map(|(k, c)| CallInfo {
                call_ref: k.1,
                network_allocated: k.0,
                state: c.state,
                vpi: c.vpi,
                vci: c.vci,
                calling: c.calling.to_vec(),
                called: c.called.to_vec(),
                peers: c.legs.iter().map(|(e, l)| (*e, l.port, l.key.1)).collect(),
                parties: c.parties.iter().map(|(e, p)| (*e, p.state)).collect(),
            })
            .collect()
    }

    /// Tester knobs of `port`. Panics if the port does not exist (a test bug).
    pub fn behaviour(&mut self, port: PortId) -> &mut Behaviour {
        &mut self.ports[port].behaviour
    }

    /// Data frames that arrived from the user on a VC the network terminates.
    pub fn received_data(&self, port: PortId, vpi: u16, vci: u16) -> Vec<Vec<u8>> {
        self.vc((port, vpi, vci)).map(|e| e.received.clone()).unwrap_or_default()
    }

    /// Faults on `port`'s signalling VC from now on (`None`: a clean wire again).
    pub fn set_sig_faults(&mut self, port: PortId, faults: Option<SigFaults>) {
        if let Some(p) = self.ports.get_mut(port) {
            p.sig_faults = faults;
        }
    }

    /// The faults applied so far on `port`'s signalling VC: lost, duplicated, reordered, corrupted.
    pub fn sig_fault_counts(&self, port: PortId) -> [u64; 4] {
        self.ports.get(port).and_then(|p| p.sig_faults.as_ref()).map_or([0; 4], |f| f.counts)
    }

    /// A data frame towards the user on any VC (the network as the remote end).
    pub fn inject_data(&mut self, port: PortId, vpi: u16, vci: u16, frame: &[u8]) {
        self.enqueue(port, vpi, vci, frame.to_vec());
    }

    /// An arbitrary (possibly malformed) Q.2931 message to the user in an SD.
    pub fn send_raw(&mut self, now: Duration, port: PortId, q2931_message: &[u8]) {
        self.now = now;
        self.transmit(now, port, q2931_message.to_vec());
        self.pump(now);
    }

    fn capture(
        all: &mut Option<Pcap>,
        one: &mut Option<Pcap>,
        now: Duration,
        to_user: bool,
        vpi: u16,
        vci: u16,
        frame: &[u8],
    ) {
        for p in [all, one].into_iter().flatten() {
            let _ = p.write(now, to_user, vpi, vci, frame);
        }
    }

    /// A frame onto the wire towards the user of `port` (captured).
    pub(crate) fn enqueue(&mut self, port: PortId, vpi: u16, vci: u16, frame: Vec<u8>) {
        let now = self.now;
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        if !p.phy_up {
            return;
        }
        Self::capture(&mut self.pcap, &mut p.pcap, now, true, vpi, vci, &frame);
        if (vpi, vci) == (SIG_VPI, SIG_VCI) {
            let [faults, _] = &mut p.faults;
            let [held, _] = &mut p.held;
            if faults.is_clear() && held.is_none() {
                p.to_user.push_back((vpi, vci, frame));
                return;
            }
            for f in faults.apply(held, frame) {
                p.to_user.push_back((vpi, vci, f));
            }
            return;
        }
        p.to_user.push_back((vpi, vci, frame));
    }

    /// Faults on the next SSCOP PDUs towards the user of `port` (`to_user`) or from it.
    pub fn set_pdu_faults(&mut self, port: PortId, to_user: bool, faults: PduFaults) {
        if let Some(p) = self.ports.get_mut(port) {
            p.faults[usize::from(!to_user)] = faults;
        }
    }

    /// Takes the tester's SSCOP off the line (`hold`) or puts it back. Back, it starts afresh
    /// (Q.2110 state 1, then AA-ESTABLISH.request: a BGN with a new N(SQ)), whatever state the
    /// user's SSCOP was left in, as a peer that restarted would.
    pub fn set_sscop_hold(&mut self, now: Duration, port: PortId, hold: bool) {
        self.now = now;
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        let was = std::mem::replace(&mut p.sscop_hold, hold);
        if was && !hold {
            p.sscop.link_lost();
            if p.phy_up {
                p.sscop.establish(now);
            }
        }
        self.pump(now);
    }

    /// The SSCOP PDUs the user sent on `port`, in order.
    pub fn user_pdus(&self, port: PortId) -> &[PduEvent] {
        self.ports.get(port).map_or(&[], |p| &p.pdus)
    }

    /// Takes the port's own capture back (to flush it and see write errors).
    pub fn take_port_pcap(&mut self, port: PortId) -> Option<Pcap> {
        self.ports.get_mut(port).and_then(|p| p.pcap.take())
    }

    /// Logs and hands a Q.2931 message to SSCOP (establishing the link if needed).
    pub(crate) fn transmit(&mut self, now: Duration, port: PortId, raw: Vec<u8>) {
        self.record(now, port, Direction::ToUser, &raw);
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        if !p.phy_up {
            return;
        }
        if p.sscop.state() == LinkState::Idle {
            p.sscop.establish(now);
        }
        p.sscop.send(now, raw);
    }

    pub(crate) fn record(&mut self, now: Duration, port: PortId, direction: Direction, raw: &[u8]) {
        self.record_parsed(now, port, direction, raw.to_vec(), Message::parse(raw).ok());
    }

    /// [`Self::record`] of a message already decoded (`message` is `Message::parse(&raw).ok()`).
    pub(crate) fn record_parsed(
        &mut self,
        now: Duration,
        port: PortId,
        direction: Direction,
        raw: Vec<u8>,
        message: Option<Message>,
    ) {
        let msg_type = message.as_ref().map(|m| m.msg_type);
        self.log.push(NetEvent {
            stamp: crate::clock::next_stamp(),
            time: now,
            port,
            direction,
            msg_type,
            name: msg_type.map_or("UNDECODABLE", q2931::mt::name),
            call_ref: message.as_ref().map(|m| m.call_ref),
            causes: message.as_ref().map(|m| m.cause_values()).unwrap_or_default(),
            raw,
            message,
        });
    }

    /// Moves SSCOP output onto the wire and SSCOP events into call control until quiet.
    pub(crate) fn pump(&mut self, now: Duration) {
        loop {
            let mut busy = false;
            for port in 0..self.ports.len() {
                // Events first (what call control sends goes into SSCOP's queue), then SSCOP's
                // output onto the wire, one at a time (no batch copies).
                while let Some(ev) = self.ports[port].sscop.pop_event() {
                    busy = true;
                    match ev {
                        LinkEvent::Data(sdu) => self.on_signalling(now, port, sdu),
                        LinkEvent::Established => self.on_link_established(port),
                        LinkEvent::Released { .. } => self.on_link_released(now, port),
                        LinkEvent::Unitdata(_) => {}
                    }
                }
                while let Some(pdu) = self.ports[port].sscop.pop_tx() {
                    busy = true;
                    if self.ports[port].sscop_hold {
                        continue;
                    }
                    let frame = pdu.emit();
                    match self.ports[port].sig_faults.as_mut() {
                        Some(f) => {
                            for p in f.apply(0, frame) {
                                self.enqueue(port, SIG_VPI, SIG_VCI, p);
                            }
                        }
                        None => self.enqueue(port, SIG_VPI, SIG_VCI, frame),
                    }
                }
            }
            if !busy {
                break;
            }
        }
    }
}
