//! Shared set-ups for the integration suites.
#![allow(dead_code)]

use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm::ndis::{CallParameters, VpiVci, call_flags};
use atmmcm_hw::host::{Client, VcHandle};
use atmmcm_hw::lab::{Lab, LabConfig, call_to};
use atmmcm_hw::network::OfferParams;

/// A number that is not a lab port: the network answers calls to it itself.
pub const REMOTE: &[u8] = b"9999";

/// Long enough for any exchange the network answers promptly (its CONNECT comes after 100 ms).
pub const A_MOMENT: Duration = Duration::from_secs(1);

/// Whether this suite runs against the real `atmmcm.sys`: compiled into a `sys_*` test crate
/// (tests/sys_suites.rs includes the suites), or `ATMMCM_LAB_DRIVER=sys`.
pub fn is_sys() -> bool {
    module_path!().starts_with("sys_") || std::env::var("ATMMCM_LAB_DRIVER").is_ok_and(|v| v == "sys")
}

/// `cfg` with the driver this suite runs against.
pub fn with_driver(cfg: LabConfig) -> LabConfig {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    if is_sys() {
        let p = atmmcm_hw::sys::default_image_path();
        assert!(p.exists(), "{} not built (scripts/build-sys)", p.display());
        return cfg.driver(atmmcm_hw::lab::LabDriver::Sys(p));
    }
    cfg
}

pub fn lab() -> Lab {
    Lab::with(with_driver(LabConfig::default()))
}

pub fn lab_with(cfg: LabConfig) -> Lab {
    Lab::with(with_driver(cfg))
}

/// Node `i`'s live objects (in-process driver); `None` for `atmmcm.sys`, whose allocations
/// HALT-NO-LEAK (the sys-lab's counter) checks at halt instead.
pub fn live(lab: &Lab, i: usize) -> Option<atmmcm::cm::LiveCounts> {
    lab.node(i).live_objects()
}

/// Client of node 0 with its AF open.
pub fn client(lab: &Lab) -> Client {
    let c = lab.node(0).client();
    c.open_af().expect("open AF");
    c
}

/// An outgoing point-to-point call from node 0 to [`REMOTE`], connected.
pub fn outgoing_call(lab: &Lab, c: &Client) -> VcHandle {
    let vc = c.create_vc().expect("create VC");
    let (st, _) = c.make_call(vc, call_to(REMOTE));
    assert_eq!(st, NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert_eq!(lab.node(0).ndis.ndis_calls_on(vc).last().map(String::as_str), Some("NdisMCmMakeCallComplete(SUCCESS)"));
    vc
}

/// An incoming call offered by the network to node 0 (wildcard SAP), accepted and connected.
/// Returns the VC the driver created and the network's call reference.
pub fn incoming_call(lab: &Lab, c: &Client) -> (VcHandle, u32) {
    c.register_sap(None).expect("register SAP");
    let port = lab.node(0).port;
    let now = lab.now();
    let cref = lab.network().offer_call(now, port, b"5555", OfferParams::default());
    lab.advance(A_MOMENT);
    let vc = c.incoming_calls().last().expect("an incoming call").vc;
    (vc, cref)
}

/// The network's call reference of node 0's only call.
pub fn network_cref(lab: &Lab) -> u32 {
    let port = lab.node(0).port;
    let calls = lab.network().calls(port);
    assert_eq!(calls.len(), 1, "one call at the network: {calls:?}");
    calls[0].call_ref
}

/// Names of the signalling messages between node 0 and the network, in order, as
/// "->NAME" (from the user) / "<-NAME" (to the user), without the SSCOP chatter.
pub fn wire(lab: &Lab) -> Vec<String> {
    let port = lab.node(0).port;
    lab.network()
        .log()
        .iter()
        .filter(|e| e.port == port)
        .map(|e| {
            let dir = match e.direction {
                atmmcm_hw::network::Direction::FromUser => "->",
                atmmcm_hw::network::Direction::ToUser => "<-",
            };
            format!("{dir}{}", e.name)
        })
        .collect()
}

/// Asserts the verifier saw nothing wrong and nothing is left outstanding.
pub fn clean(lab: &Lab) {
    for n in &lab.nodes {
        n.ndis.check_outstanding();
        n.ndis.assert_clean();
    }
}

/// Halts every node and asserts the halt rules held (zero live objects, no calls after halt).
pub fn halt_clean(lab: &Lab) {
    lab.halt_all();
    clean(lab);
    for n in &lab.nodes {
        if let Some(l) = n.live_objects() {
            assert_eq!((l.afs, l.saps, l.vcs, l.calls, l.parties), (0, 0, 0, 0, 0), "live objects after halt");
        }
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        if let Some(s) = n.sys() {
            s.assert_no_findings();
            assert!(s.max_stack_depth() < 24 * 1024, "driver stack {} bytes > 24 KiB", s.max_stack_depth());
        }
    }
}

/// Two nodes, 1001 and 1002, each client's AF open; 1002 listens on a wildcard SAP.
pub fn two_nodes(cfg: LabConfig) -> (Lab, Client, Client) {
    let lab = lab_with(cfg.nodes(&[b"1001", b"1002"]));
    let a = lab.node(0).client();
    let b = lab.node(1).client();
    a.open_af().expect("open AF on 1001");
    b.open_af().expect("open AF on 1002");
    b.register_sap(None).expect("wildcard SAP on 1002");
    (lab, a, b)
}

/// A PVC made on `c` at 0/`vci`, `max_sdu` octets each way: ProtocolCmMakeCall pends, and
/// activation and completion follow without the network (no route needed: cells just leave).
pub fn pvc(c: &Client, vci: u16, max_sdu: u32) -> VcHandle {
    let vc = c.create_vc().expect("create VC");
    assert_eq!(c.make_call(vc, pvc_params(vci, max_sdu)).0, NdisStatus::PENDING);
    vc
}

/// MakeCall parameters of a PVC at 0/`vci`, `max_sdu` octets each way (no called party).
pub fn pvc_params(vci: u16, max_sdu: u32) -> CallParameters {
    let mut p = call_to(b"0");
    p.called = None;
    p.flags |= call_flags::PERMANENT_VC;
    p.media.connection_id = VpiVci { vpi: 0, vci };
    p.media.transmit.max_sdu_size = max_sdu;
    p.media.receive.max_sdu_size = max_sdu;
    p
}

/// Nodes 1001 and 1002 joined by a network PVC (1001's 0/100 to 1002's 0/200), each client's AF
/// open and its end made with [`pvc`], settled; each end was activated and completed inside
/// ProtocolCmMakeCall. Returns the lab, 1001's client and VC, 1002's client and VC.
pub fn two_nodes_with_pvc(max_sdu: u32) -> (Lab, Client, VcHandle, Client, VcHandle) {
    let lab = lab_with(LabConfig::default().nodes(&[b"1001", b"1002"]));
    let (pa, pb) = (lab.node(0).port, lab.node(1).port);
    lab.network().add_pvc((pa, 0, 100), (pb, 0, 200));
    let a = lab.node(0).client();
    let b = lab.node(1).client();
    a.open_af().expect("open AF on 1001");
    b.open_af().expect("open AF on 1002");
    let avc = pvc(&a, 100, max_sdu);
    let bvc = pvc(&b, 200, max_sdu);
    lab.settle();
    for (node, vc) in [(0, avc), (1, bvc)] {
        assert_eq!(
            lab.node(node).ndis.ndis_calls_on(vc),
            [
                "ProtocolCoCreateVc->SUCCESS",
                "NdisMCmActivateVc",
                "NdisMCmMakeCallComplete(SUCCESS)",
                "ProtocolCmMakeCall->PENDING"
            ],
            "node {node}'s PVC end"
        );
    }
    (lab, a, avc, b, bvc)
}

/// xorshift64*: deterministic garbage and orderings per seed (tests/stress.rs, tests/isolation.rs).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough below `n` (> 0) for test orderings.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
