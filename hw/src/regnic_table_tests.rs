//! The ATM1 connection table at its limit: 65 536 connections through the driver's `RegNic`, and
//! the model's per-step, per-descriptor and per-cell cost independent of how many are open
//! (counted with `RegNicModel::table_work`, not timed).

use atmmcm::NdisStatus;
use atmmcm::ndis::{AalType, VpiVci};
use atmmcm::nic::regnic::{RegNic, RegNicConfig};
use atmmcm::nic::regs;
use atmmcm::nic::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};

use crate::host::LabSpinLock;
use crate::regnic_model::{ModelBus, RegNicModel};

type Nic = RegNic<ModelBus, LabSpinLock>;

/// Two NICs wired back to back (A's PHY into B's), each with a table of `conns` entries.
struct Pair {
    a: RegNicModel,
    b: RegNicModel,
    na: Nic,
    nb: Nic,
}

/// Connection `i`'s VPI/VCI: 32 768 VCIs on each of VPI 1 and 2.
fn vc(i: usize) -> VpiVci {
    VpiVci { vpi: 1 + (i / 32_768) as u16, vci: 32 + (i % 32_768) as u16 }
}

fn params(i: usize) -> ConnParams {
    ConnParams { id: vc(i), aal: AalType::Aal5, tx_pcr: 0, max_rx_sdu: 9_180 }
}

impl Pair {
    fn new(conns: usize) -> Pair {
        let (a, b) = (RegNicModel::with_connections(conns), RegNicModel::with_connections(conns));
        let na = RegNic::new(a.bus(), RegNicConfig::default()).expect("RegNic::new (A)");
        let nb = RegNic::new(b.bus(), RegNicConfig::default()).expect("RegNic::new (B)");
        Pair { a, b, na, nb }
    }

    /// Opens connections 0..n on both NICs; their ids, in order.
    fn open(&self, n: usize) -> Vec<(ConnId, ConnId)> {
        (0..n)
            .map(|i| {
                let p = params(i);
                (self.na.open_connection(&p).expect("open on A"), self.nb.open_connection(&p).expect("open on B"))
            })
            .collect()
    }

    /// One tick of both NICs, A's cells delivered to B.
    fn step(&self) {
        self.a.step();
        self.b.step();
        for c in self.a.take_cells() {
            self.b.put_cell(&c);
        }
    }

    fn events(nic: &Nic) -> Vec<(ConnId, Vec<u8>)> {
        let mut out = Vec::new();
        nic.poll(usize::MAX, &mut |e| {
            if let DeviceEvent::Received { conn, frame } = e {
                out.push((conn, frame.to_vec()));
            }
        });
        out
    }
}

#[test]
fn sixty_five_thousand_five_hundred_thirty_six_connections_open_and_the_first_and_last_carry_a_frame() {
    let p = Pair::new(regs::MAX_CONNECTIONS as usize);
    assert_eq!(p.na.connections(), 65_536, "the driver sized itself from CONN_COUNT");
    let ids = p.open(65_536);
    assert_eq!(p.a.connections_in_use(), 65_536);
    assert_eq!(p.na.open_connection(&params(65_536)), Err(NdisStatus::RESOURCES), "the table is full");
    let (first, last) = (ids[0], ids[65_535]);
    assert_eq!((first.0.0, last.0.0), (0, 65_535), "lowest id first, the last id is 0xFFFF");
    p.na.transmit(first.0, b"first connection", TxCookie(1)).expect("send on the first");
    p.na.transmit(last.0, b"last connection", TxCookie(2)).expect("send on the last");
    for _ in 0..4 {
        p.step();
    }
    let got = Pair::events(&p.nb);
    assert_eq!(got, vec![(first.1, b"first connection".to_vec()), (last.1, b"last connection".to_vec())]);
    assert_eq!(p.a.counters().tx_pdus, 2);
    assert!(p.a.violations().is_empty() && p.b.violations().is_empty());
}

#[test]
fn a_nic_with_a_small_table_is_read_and_used_at_its_size() {
    let p = Pair::new(3);
    assert_eq!((p.na.connections(), p.nb.connections()), (3, 3));
    p.open(3);
    assert_eq!(p.na.open_connection(&params(3)), Err(NdisStatus::RESOURCES));
}

/// Table entries the models touch for a fixed workload (two frames sent, one connection closed,
/// a frame half received when the link goes, ten steps) with `open` of `table` connections open.
fn work_of_fixed_workload(table: usize, open: usize) -> u64 {
    let p = Pair::new(table);
    let ids = p.open(open);
    let before = p.a.table_work() + p.b.table_work();
    let frame = vec![0x5A; 200];
    p.na.transmit(ids[0].0, &frame, TxCookie(1)).expect("send");
    p.na.transmit(ids[0].0, &frame, TxCookie(2)).expect("send");
    p.na.close_connection(ids[1].0);
    for _ in 0..10 {
        p.step();
    }
    // Half a PDU on B, then the link drops: the partial reassembly is found without a search.
    p.na.transmit(ids[0].0, &frame, TxCookie(3)).expect("send");
    p.a.step();
    let cells = p.a.take_cells();
    for c in cells.iter().take(2) {
        p.b.put_cell(c);
    }
    p.b.set_los(true);
    p.b.step();
    p.b.set_los(false);
    p.b.step();
    p.a.table_work() + p.b.table_work() - before
}

#[test]
fn model_work_per_step_does_not_grow_with_open_connections_or_table_size() {
    let small = work_of_fixed_workload(16, 2);
    let few = work_of_fixed_workload(65_536, 2);
    let all = work_of_fixed_workload(65_536, 65_536);
    assert!(small > 0, "the counter counts");
    assert_eq!(few, small, "a 65 536-entry table costs the engines what a 16-entry one does");
    assert_eq!(all, small, "65 536 open connections cost the engines what 2 do");
}

#[test]
fn closes_the_nic_refuses_are_reported_forced_once_each_within_the_poll_budget() {
    let p = Pair::new(regs::MAX_CONNECTIONS as usize);
    let ids = p.open(4);
    p.a.set_removed(true); // every CLOSE now reads back a failure: closed locally
    p.na.close_connection(ids[3].0);
    p.na.close_connection(ids[1].0);
    p.na.close_connection(ids[1].0); // twice: reported once
    let closed = |budget: usize| {
        let mut out = Vec::new();
        p.na.poll(budget, &mut |e| {
            if let DeviceEvent::ConnectionClosed { conn, forced } = e {
                out.push((conn.0, forced));
            }
        });
        out
    };
    assert_eq!(closed(1), vec![(ids[1].0.0, true)], "one within a budget of one");
    assert_eq!(closed(8), vec![(ids[3].0.0, true)], "the other at the next poll");
    assert_eq!(closed(8), vec![], "each once");
}
