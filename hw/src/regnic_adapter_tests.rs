//! The real adapter over RegNic + the ATM1 model, cells through the switch: a miniature of
//! `Lab` (which still uses the frame-level `NicModel`), and the blueprint for integrating the
//! register-level NIC there.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use atmmcm::nic::regnic::{RegNic, RegNicConfig};
use atmmcm::{Adapter, Config, NdisStatus};

use crate::clock::Clock;
use crate::host::{EmuNdis, LabSpinLock, When};
use crate::lab::call_to;
use crate::network::{Network, PortId};
use crate::regnic_model::{ModelBus, RegNicModel};
use crate::switch::CellSwitch;

type Nic = RegNic<ModelBus, LabSpinLock>;

struct Node {
    ndis: EmuNdis,
    model: RegNicModel,
    adapter: Arc<Adapter<EmuNdis, Nic>>,
    port: PortId,
    halted: AtomicBool,
}

struct CellLab {
    clock: Arc<Clock>,
    net: Mutex<Network>,
    sw: Mutex<CellSwitch>,
    nodes: Vec<Node>,
}

impl CellLab {
    fn new(addresses: &[&[u8]]) -> CellLab {
        let clock = Arc::new(Clock::new());
        let mut net = Network::new();
        let mut sw = CellSwitch::default();
        let mut nodes = Vec::new();
        for a in addresses {
            let port = net.add_port(a.to_vec());
            assert_eq!(sw.add_port(), port);
            let ndis = EmuNdis::new(clock.clone());
            let model = RegNicModel::new();
            let dev = RegNic::new(model.bus(), RegNicConfig::default()).expect("RegNic::new");
            let adapter = Arc::new(Adapter::initialize(ndis.clone(), dev, Config::default()).expect("initialize"));
            ndis.attach_arc(&adapter);
            ndis.phy_link_changed(true);
            nodes.push(Node { ndis, model, adapter, port, halted: AtomicBool::new(false) });
        }
        let lab = CellLab { clock, net: Mutex::new(net), sw: Mutex::new(sw), nodes };
        for n in &lab.nodes {
            assert_eq!(n.ndis.start(), NdisStatus::SUCCESS);
        }
        lab.settle();
        lab
    }

    fn net(&self) -> MutexGuard<'_, Network> {
        self.net.lock().unwrap()
    }

    fn pump_once(&self) -> bool {
        let now = self.clock.now();
        let mut busy = false;
        for n in &self.nodes {
            busy |= n.model.step();
            let cells = n.model.take_cells();
            busy |= !cells.is_empty();
            let mut sw = self.sw.lock().unwrap();
            for c in cells {
                sw.input(n.port, c);
            }
        }
        {
            let mut net = self.net();
            let mut sw = self.sw.lock().unwrap();
            busy |= sw.step(now, &mut net);
            net.advance(now);
            busy |= sw.step(now, &mut net);
        }
        for n in &self.nodes {
            let cells = self.sw.lock().unwrap().output(n.port);
            busy |= !cells.is_empty();
            for c in &cells {
                n.model.put_cell(c);
            }
            if n.halted.load(Ordering::Acquire) {
                continue;
            }
            if n.model.interrupt_line() {
                n.ndis.run_dpc();
                busy = true;
            }
            busy |= n.ndis.run_pending();
        }
        busy
    }

    fn settle(&self) {
        for _ in 0..100_000 {
            if !self.pump_once() {
                return;
            }
        }
        panic!("cell lab did not settle");
    }

    fn next_deadline(&self) -> Option<Duration> {
        let net = self.net().next_deadline();
        net.into_iter().chain(self.nodes.iter().filter_map(|n| n.ndis.timer_due())).min()
    }

    fn advance(&self, d: Duration) {
        let end = self.clock.now() + d;
        self.settle();
        while let Some(t) = self.next_deadline().filter(|&t| t <= end) {
            self.clock.advance_to(t.max(self.clock.now()));
            self.settle();
            if self.next_deadline() == Some(t) {
                self.clock.advance_to(t + Duration::from_micros(1));
                self.settle();
            }
        }
        self.clock.advance_to(end);
        self.settle();
    }

    fn halt_all(&self) {
        for n in &self.nodes {
            n.ndis.halt_with(&mut || {
                if !self.pump_once()
                    && let Some(t) = self.next_deadline()
                    && t > self.clock.now()
                {
                    self.clock.advance_to(t);
                }
            });
            n.halted.store(true, Ordering::Release);
            self.settle();
        }
    }
}

#[test]
fn the_adapter_over_regnic_brings_up_signalling_places_a_call_and_moves_data_as_cells() {
    let lab = CellLab::new(&[b"1001", b"1002"]);
    for n in &lab.nodes {
        assert_eq!(
            lab.net().link_state(n.port),
            Some(crate::network::sscop::LinkState::DataTransferReady),
            "SSCOP came up over cells on 0/5"
        );
    }
    let a = lab.nodes[0].ndis.client();
    let b = lab.nodes[1].ndis.client();
    a.open_af().unwrap();
    b.open_af().unwrap();
    b.register_sap(None).unwrap();
    b.close_on_incoming_close(When::Never);
    let vc = a.create_vc().unwrap();
    assert_eq!(a.make_call(vc, call_to(b"1002")).0, NdisStatus::PENDING);
    lab.advance(Duration::from_secs(1));
    let bvc = b.incoming_calls().last().expect("the call reached node 1").vc;
    let frames: Vec<Vec<u8>> = [1usize, 47, 48, 49, 95, 96, 9188, 65_535]
        .iter()
        .map(|&l| (0..l).map(|i| (i * 3 + l) as u8).collect())
        .collect();
    a.send(vc, frames.clone());
    lab.advance(Duration::from_millis(10));
    let got = b.received_frames(bvc);
    let lens = |v: &[Vec<u8>]| v.iter().map(Vec::len).collect::<Vec<_>>();
    // The call's receive max SDU is 9188 (UBR default): the 65535-octet frame crosses the
    // network and is dropped by node 1's NIC as too long; the others arrive byte-exact.
    assert_eq!(lens(&got), lens(&frames[..7]), "every frame up to the max SDU arrived");
    assert!(got == frames[..7], "byte-exact, cell-forwarded over the routed call");
    let (_, dev) = lab.nodes[1].adapter.parts();
    assert_eq!(dev.stats.rx_too_long.load(Ordering::Relaxed), 1);
    let data_cells: usize = frames.iter().map(|f| atmmcm::wire::aal5::pdu_len(f.len()) / 48).sum();
    assert_eq!(lab.sw.lock().unwrap().counters.cells_forwarded as usize, data_cells, "data went cell by cell");
    assert!(lab.nodes[0].model.counters().tx_cells > 0);
    assert_eq!(lab.sw.lock().unwrap().counters.hec_errors, 0);
    assert_eq!(a.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(Duration::from_secs(1));
    let closes = b.incoming_closes();
    assert_eq!(closes.len(), 1);
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING);
    lab.advance(Duration::from_secs(1));
    lab.halt_all();
    for n in &lab.nodes {
        n.ndis.check_outstanding();
        n.ndis.assert_clean();
        assert!(n.model.violations().is_empty(), "{:?}", n.model.violations());
        let l = n.adapter.live_objects();
        assert_eq!((l.afs, l.saps, l.vcs, l.calls, l.parties), (0, 0, 0, 0, 0));
    }
}
