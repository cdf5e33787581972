//! RegNic (the driver's register-level `Device`) over the ATM1 model, through the cell switch and
//! the network, without the adapter.

use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm::ndis::{AalType, VpiVci};
use atmmcm::nic::regnic::{RegNic, RegNicConfig};
use atmmcm::nic::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};
use atmmcm::wire::{aal5, cell};

use crate::host::LabSpinLock;
use crate::network::Network;
use crate::regnic_model::{Cell, ModelBus, RegNicModel, Violation};
use crate::switch::CellSwitch;

type Nic = RegNic<ModelBus, LabSpinLock>;
/// Fault injection on a cell in flight (port, cell).
type Tamper = Box<dyn FnMut(usize, &mut Cell)>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Rx(u16, Vec<u8>),
    Tx(u16, u64, bool),
    Closed(u16, bool),
    Link(bool),
}

struct Rig {
    net: Network,
    sw: CellSwitch,
    models: Vec<RegNicModel>,
    nics: Vec<Nic>,
    /// Applied to each cell leaving a NIC before the switch sees it (fault injection).
    tamper_up: Option<Tamper>,
    /// Applied to each cell leaving the switch before a NIC sees it.
    tamper_down: Option<Tamper>,
}

fn params(vci: u16, max: u32) -> ConnParams {
    ConnParams { id: VpiVci { vpi: 0, vci }, aal: AalType::Aal5, tx_pcr: 0, max_rx_sdu: max }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + len) as u8).collect()
}

impl Rig {
    fn new(n: usize, cfg: RegNicConfig) -> Rig {
        let mut net = Network::new();
        let mut models = Vec::new();
        let mut nics = Vec::new();
        for i in 0..n {
            net.add_port(format!("100{i}").into_bytes());
            let m = RegNicModel::new();
            nics.push(RegNic::new(m.bus(), cfg).expect("RegNic::new"));
            models.push(m);
        }
        Rig { net, sw: CellSwitch::new(n), models, nics, tamper_up: None, tamper_down: None }
    }

    /// Two NICs joined by a PVC: port 0 VC 0/100 <-> port 1 VC 0/200; both connections open.
    fn pair(cfg: RegNicConfig) -> (Rig, ConnId, ConnId) {
        let mut r = Rig::new(2, cfg);
        r.net.add_pvc((0, 0, 100), (1, 0, 200));
        let a = r.nics[0].open_connection(&params(100, 65_535)).unwrap();
        let b = r.nics[1].open_connection(&params(200, 65_535)).unwrap();
        (r, a, b)
    }

    fn pump(&mut self) -> bool {
        let mut moved = false;
        for (i, m) in self.models.iter().enumerate() {
            moved |= m.step();
            for mut c in m.take_cells() {
                if let Some(t) = self.tamper_up.as_mut() {
                    t(i, &mut c);
                }
                self.sw.input(i, c);
                moved = true;
            }
        }
        moved |= self.sw.step(Duration::ZERO, &mut self.net);
        for (i, m) in self.models.iter().enumerate() {
            for mut c in self.sw.output(i) {
                if let Some(t) = self.tamper_down.as_mut() {
                    t(i, &mut c);
                }
                m.put_cell(&c);
                moved = true;
            }
        }
        moved
    }

    fn settle(&mut self) {
        for _ in 0..10_000 {
            if !self.pump() {
                return;
            }
        }
        panic!("rig did not settle");
    }

    fn events(&self, i: usize) -> Vec<Ev> {
        let mut out = Vec::new();
        self.nics[i].poll(100_000, &mut |e| {
            out.push(match e {
                DeviceEvent::Received { conn, frame } => Ev::Rx(conn.0, frame.to_vec()),
                DeviceEvent::Transmitted { conn, cookie, sent } => Ev::Tx(conn.0, cookie.0, sent),
                DeviceEvent::ConnectionClosed { conn, forced } => Ev::Closed(conn.0, forced),
                DeviceEvent::Link { up } => Ev::Link(up),
            })
        });
        out
    }

    fn no_violations(&self) {
        for m in &self.models {
            assert_eq!(m.violations(), Vec::<Violation>::new());
        }
    }
}

#[test]
fn frames_of_every_boundary_size_cross_a_pvc_byte_exact_both_ways() {
    let (mut r, a, b) = Rig::pair(RegNicConfig::default());
    let sizes = [1usize, 47, 48, 49, 95, 96, 9188, 65_535];
    for (k, &len) in sizes.iter().enumerate() {
        let f = pattern(len);
        r.nics[0].transmit(a, &f, TxCookie(k as u64)).unwrap();
        r.settle();
        assert_eq!(r.events(0), vec![Ev::Tx(a.0, k as u64, true)], "size {len}");
        assert_eq!(r.events(1), vec![Ev::Rx(b.0, f.clone())], "size {len}");
        // And back.
        r.nics[1].transmit(b, &f, TxCookie(1000)).unwrap();
        r.settle();
        assert_eq!(r.events(1), vec![Ev::Tx(b.0, 1000, true)]);
        assert_eq!(r.events(0), vec![Ev::Rx(a.0, f)], "size {len} back");
    }
    let cells: usize = sizes.iter().map(|&l| aal5::pdu_len(l) / 48).sum();
    assert_eq!(r.models[0].counters().tx_cells as usize, cells);
    assert_eq!(r.models[1].counters().rx_cells as usize, cells);
    assert_eq!(r.models[1].counters().rx_pdus as usize, sizes.len());
    assert_eq!(r.sw.counters.cells_forwarded as usize, 2 * cells);
    r.no_violations();
}

#[test]
fn many_frames_queued_at_once_arrive_in_order() {
    let (mut r, a, b) = Rig::pair(RegNicConfig::default());
    let frames: Vec<Vec<u8>> = (0..40).map(|i| pattern(1 + i * 97)).collect();
    for (i, f) in frames.iter().enumerate() {
        r.nics[0].transmit(a, f, TxCookie(i as u64)).unwrap();
    }
    r.settle();
    let tx: Vec<Ev> = (0..40).map(|i| Ev::Tx(a.0, i, true)).collect();
    assert_eq!(r.events(0), tx);
    let rx: Vec<Ev> = frames.into_iter().map(|f| Ev::Rx(b.0, f)).collect();
    assert_eq!(r.events(1), rx);
    r.no_violations();
}

#[test]
fn a_crc_error_in_flight_is_dropped_and_counted_never_delivered() {
    let (mut r, a, b) = Rig::pair(RegNicConfig::default());
    let mut flipped = false;
    r.tamper_up = Some(Box::new(move |_, c: &mut Cell| {
        if !flipped {
            c[cell::HEADER_LEN + 10] ^= 0x04; // payload bit: the HEC still holds
            flipped = true;
        }
    }));
    r.nics[0].transmit(a, &pattern(100), TxCookie(1)).unwrap();
    r.settle();
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 1, true)]);
    assert_eq!(r.events(1), vec![], "a corrupted SDU must not be delivered");
    let hw = r.models[1].counters();
    assert_eq!((hw.crc_errors, hw.rx_dropped, hw.rx_pdus), (1, 1, 0));
    assert_eq!(r.nics[1].stats.rx_crc_errors.load(std::sync::atomic::Ordering::Relaxed), 1);
    // The next frame is clean and arrives.
    r.nics[0].transmit(a, &pattern(100), TxCookie(2)).unwrap();
    r.settle();
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, pattern(100))]);
}

#[test]
fn a_hec_error_is_dropped_at_the_switch_ingress_and_counted() {
    let (mut r, a, b) = Rig::pair(RegNicConfig::default());
    let mut flipped = false;
    r.tamper_up = Some(Box::new(move |_, c: &mut Cell| {
        if !flipped {
            c[2] ^= 0x10; // a VCI bit: the HEC no longer matches
            flipped = true;
        }
    }));
    r.nics[0].transmit(a, &pattern(30), TxCookie(1)).unwrap(); // one cell
    r.nics[0].transmit(a, &pattern(31), TxCookie(2)).unwrap();
    r.settle();
    assert_eq!(r.sw.counters.hec_errors, 1);
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, pattern(31))], "only the intact frame arrives");
}

#[test]
fn a_hec_error_is_dropped_at_the_nic_phy_and_counted() {
    let (mut r, a, b) = Rig::pair(RegNicConfig::default());
    let mut flipped = false;
    r.tamper_down = Some(Box::new(move |_, c: &mut Cell| {
        if !flipped {
            c[4] ^= 0x01; // the HEC octet itself
            flipped = true;
        }
    }));
    r.nics[0].transmit(a, &pattern(30), TxCookie(1)).unwrap();
    r.nics[0].transmit(a, &pattern(31), TxCookie(2)).unwrap();
    r.settle();
    assert_eq!(r.models[1].counters().hec_errors, 1);
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, pattern(31))]);
}

#[test]
fn a_pdu_missing_a_middle_cell_is_dropped_as_aborted() {
    let (mut r, a, _) = Rig::pair(RegNicConfig::default());
    let mut n = 0;
    r.tamper_up = Some(Box::new(move |_, c: &mut Cell| {
        n += 1;
        if n == 2 {
            c[0] ^= 0x80; // GFC bit: HEC breaks, the switch drops the cell
        }
    }));
    r.nics[0].transmit(a, &pattern(200), TxCookie(1)).unwrap(); // five cells
    r.settle();
    assert_eq!(r.events(1), vec![]);
    let hw = r.models[1].counters();
    assert_eq!(hw.rx_dropped, 1);
    // Four cells of a five-cell PDU: the Length field no longer fits, so the PDU is "aborted".
    assert_eq!(hw.crc_errors, 0);
    assert_eq!(r.nics[1].stats.rx_aborted.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn close_drains_queued_frames_then_reports_closed() {
    let (mut r, a, b) = Rig::pair(RegNicConfig::default());
    r.models[0].set_tx_frames_per_step(1);
    for i in 0..3 {
        r.nics[0].transmit(a, &pattern(60 + i), TxCookie(i as u64)).unwrap();
    }
    r.nics[0].close_connection(a);
    assert_eq!(r.nics[0].transmit(a, b"late", TxCookie(9)), Err(NdisStatus::CLOSING));
    r.pump();
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 0, true)], "one frame per tick, not closed yet");
    r.settle();
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 1, true), Ev::Tx(a.0, 2, true), Ev::Closed(a.0, false)]);
    let rx = r.events(1);
    assert_eq!(rx.len(), 3, "every queued frame went out before the close: {rx:?}");
    // The connection slot and the VC are free again.
    let again = r.nics[0].open_connection(&params(100, 9188)).unwrap();
    r.nics[0].transmit(again, b"again", TxCookie(5)).unwrap();
    r.settle();
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, b"again".to_vec())]);
    r.no_violations();
}

#[test]
fn closed_is_reported_after_transmitted_even_when_polled_late() {
    let (mut r, a, _) = Rig::pair(RegNicConfig::default());
    for i in 0..5 {
        r.nics[0].transmit(a, &pattern(10), TxCookie(i)).unwrap();
    }
    r.nics[0].close_connection(a);
    r.settle(); // completions and the event are all in the rings before the first poll
    let mut ev = Vec::new();
    // A budget of 2 per poll: the close must still come last.
    loop {
        let mut got = Vec::new();
        let n = r.nics[0].poll(2, &mut |e| got.push(format!("{e:?}")));
        ev.extend(got);
        if n < 2 {
            break;
        }
    }
    assert_eq!(ev.len(), 6);
    assert!(ev[5].contains("ConnectionClosed"), "{ev:?}");
}

#[test]
fn the_stall_knob_keeps_a_close_from_ever_reporting() {
    let (mut r, a, _) = Rig::pair(RegNicConfig::default());
    r.models[0].set_stall_close(true);
    r.nics[0].transmit(a, b"x", TxCookie(1)).unwrap();
    r.nics[0].close_connection(a);
    for _ in 0..50 {
        r.pump();
    }
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 1, true)], "no ConnectionClosed");
    assert_eq!(r.nics[0].transmit(a, b"y", TxCookie(2)), Err(NdisStatus::CLOSING));
    assert_eq!(r.nics[0].open_connection(&params(100, 100)), Err(NdisStatus::INVALID_DATA), "VC still held");
    // Negative control: without the knob the same sequence reports closed.
    r.models[0].set_stall_close(false);
    r.settle();
    assert_eq!(r.events(0), vec![Ev::Closed(a.0, false)]);
}

#[test]
fn receive_stops_at_close_and_a_partial_pdu_is_dropped() {
    let (mut r, a, b) = Rig::pair(RegNicConfig::default());
    r.nics[0].transmit(a, &pattern(200), TxCookie(1)).unwrap();
    r.models[0].step();
    let cells = r.models[0].take_cells();
    assert_eq!(cells.len(), 5);
    for c in &cells[..2] {
        r.models[1].put_cell(&remap(c, 200));
    }
    r.nics[1].close_connection(b);
    for c in &cells[2..] {
        r.models[1].put_cell(&remap(c, 200));
    }
    r.settle();
    let hw = r.models[1].counters();
    assert_eq!(hw.rx_dropped, 1, "the partial PDU");
    assert_eq!(hw.rx_unknown, 3, "cells after the close have no connection");
    assert_eq!(r.events(1), vec![Ev::Closed(b.0, false)]);
}

/// The cell with its VCI rewritten (as the switch would), HEC recomputed.
fn remap(c: &Cell, vci: u16) -> Cell {
    let p = cell::Packet::new_checked(&c[..]).unwrap();
    let h = cell::Header { vci, ..cell::Header::parse(&p) };
    let mut out = *c;
    h.emit(&mut out).unwrap();
    out
}

#[test]
fn an_sdu_over_the_connections_max_is_dropped_as_too_long() {
    let mut r = Rig::new(2, RegNicConfig::default());
    r.net.add_pvc((0, 0, 100), (1, 0, 200));
    let a = r.nics[0].open_connection(&params(100, 65_535)).unwrap();
    let b = r.nics[1].open_connection(&params(200, 100)).unwrap();
    r.nics[0].transmit(a, &pattern(101), TxCookie(1)).unwrap();
    r.nics[0].transmit(a, &pattern(100), TxCookie(2)).unwrap();
    r.settle();
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, pattern(100))], "101 octets refused, 100 accepted");
    assert_eq!(r.nics[1].stats.rx_too_long.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn ownership_violation_is_recorded_only_for_the_deliberate_misuse() {
    let (mut r, a, _) = Rig::pair(RegNicConfig::default());
    r.nics[0].transmit(a, b"frame", TxCookie(1)).unwrap();
    r.no_violations();
    assert!(r.nics[0].misuse_rewrite_in_flight_descriptor());
    assert_eq!(r.models[0].violations(), vec![Violation { ring: "tx", index: 0, offset: 8 }]);
    // Once the NIC wrote it back, the same write is legal.
    r.settle();
    r.events(0);
    assert!(!r.nics[0].misuse_rewrite_in_flight_descriptor(), "nothing in flight");
    assert_eq!(r.models[0].violations().len(), 1);
}

#[test]
fn link_loss_flushes_transmit_as_not_sent_and_reports_link_changes() {
    let (mut r, a, _) = Rig::pair(RegNicConfig::default());
    assert!(r.nics[0].link_up());
    r.nics[0].transmit(a, b"one", TxCookie(1)).unwrap();
    r.nics[0].transmit(a, &pattern(5000), TxCookie(2)).unwrap();
    r.models[0].set_los(true);
    assert!(!r.nics[0].link_up());
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 1, false), Ev::Tx(a.0, 2, false), Ev::Link(false)]);
    r.nics[0].transmit(a, b"while down", TxCookie(3)).unwrap();
    r.settle();
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 3, false)]);
    assert!(r.events(1).is_empty(), "nothing reached the peer");
    assert_eq!(r.models[0].counters().tx_cells, 0);
    r.models[0].set_los(false);
    assert_eq!(r.events(0), vec![Ev::Link(true)]);
    r.nics[0].transmit(a, b"up again", TxCookie(4)).unwrap();
    r.settle();
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 4, true)]);
    // LOF alone also takes the link down.
    r.models[0].set_lof(true);
    assert_eq!(r.events(0), vec![Ev::Link(false)]);
}

#[test]
fn a_full_transmit_ring_answers_resources_until_completions_are_reaped() {
    let cfg = RegNicConfig { tx_ring: 4, tx_buf: 64, ..RegNicConfig::default() };
    let (mut r, a, b) = Rig::pair(cfg);
    for i in 0..3 {
        r.nics[0].transmit(a, &pattern(64), TxCookie(i)).unwrap();
    }
    assert_eq!(r.nics[0].transmit(a, b"x", TxCookie(3)), Err(NdisStatus::RESOURCES));
    assert_eq!(r.nics[0].stats.tx_ring_full.load(std::sync::atomic::Ordering::Relaxed), 1);
    r.settle();
    assert_eq!(r.nics[0].transmit(a, b"x", TxCookie(3)), Err(NdisStatus::RESOURCES), "not reaped yet");
    assert_eq!(r.events(0).len(), 3);
    // A 129-octet frame needs three 64-octet descriptors: fits exactly.
    r.nics[0].transmit(a, &pattern(129), TxCookie(4)).unwrap();
    assert_eq!(r.nics[0].tx_free(), Some(0));
    r.settle();
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 4, true)]);
    let rx = r.events(1);
    assert_eq!(rx.len(), 4);
    assert_eq!(rx.last(), Some(&Ev::Rx(b.0, pattern(129))));
    r.no_violations();
}

#[test]
fn chained_descriptors_carry_a_frame_larger_than_one_buffer_on_both_sides() {
    let cfg = RegNicConfig { tx_buf: 64, rx_buf: 64, rx_ring: 8, rxc_ring: 8, ..RegNicConfig::default() };
    let (mut r, a, b) = Rig::pair(cfg);
    let f = pattern(7 * 64 - 3); // seven RX buffers (all that are posted), seven TX descriptors
    r.nics[0].transmit(a, &f, TxCookie(1)).unwrap();
    r.settle();
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, f.clone())]);
    // Buffers were reposted: the same again fits.
    r.nics[0].transmit(a, &f, TxCookie(2)).unwrap();
    r.settle();
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, f)]);
    // One octet more than the posted buffers hold is dropped (no buffer), not truncated.
    r.nics[0].transmit(a, &pattern(7 * 64 + 1), TxCookie(3)).unwrap();
    r.settle();
    assert_eq!(r.events(1), vec![]);
    assert_eq!(r.models[1].counters().rx_dropped, 1);
    r.no_violations();
}

#[test]
fn open_refuses_a_vc_in_use_and_bad_parameters() {
    let (r, _, _) = Rig::pair(RegNicConfig::default());
    assert_eq!(r.nics[0].open_connection(&params(100, 100)), Err(NdisStatus::INVALID_DATA));
    let mut p = params(101, 100);
    p.id.vpi = 256;
    assert_eq!(r.nics[0].open_connection(&p), Err(NdisStatus::INVALID_DATA), "VPI beyond the UNI's 8 bits");
    p = params(101, 100);
    p.aal = AalType::Aal34;
    assert!(r.nics[0].open_connection(&p).is_err());
    assert!(r.nics[0].open_connection(&params(101, 100)).is_ok());
}

#[test]
fn init_fails_cleanly_when_dma_memory_is_short_and_drop_frees_it() {
    let m = RegNicModel::new();
    m.set_dma_limit(Some(600 * 1024));
    assert_eq!(
        RegNic::<ModelBus, LabSpinLock>::new(m.bus(), RegNicConfig::default()).err(),
        Some(NdisStatus::RESOURCES)
    );
    assert_eq!(m.dma_regions(), 0, "partial allocations were returned");
    m.set_dma_limit(None);
    let nic = RegNic::<ModelBus, LabSpinLock>::new(m.bus(), RegNicConfig::default()).unwrap();
    assert_eq!(m.dma_regions(), 6);
    drop(nic);
    assert_eq!(m.dma_regions(), 0);
    let bad = RegNicConfig { tx_ring: 3, ..RegNicConfig::default() };
    assert_eq!(RegNic::<ModelBus, LabSpinLock>::new(m.bus(), bad).err(), Some(NdisStatus::INVALID_PARAMETER));
}

#[test]
fn the_interrupt_line_follows_status_mask_and_coalescing() {
    let (mut r, a, _) = Rig::pair(RegNicConfig::default());
    assert!(!r.models[0].interrupt_line());
    r.nics[0].transmit(a, b"1", TxCookie(1)).unwrap();
    r.settle();
    assert!(r.models[0].interrupt_line(), "TX_DONE is pending and unmasked");
    r.events(0);
    assert!(!r.models[0].interrupt_line(), "poll acknowledged it");
    // Coalesce three occurrences, no timeout.
    r.models[0].set_coalesce(3, 0);
    r.nics[0].transmit(a, b"2", TxCookie(2)).unwrap();
    r.models[0].step();
    assert!(!r.models[0].interrupt_line(), "one of three");
    r.nics[0].transmit(a, b"3", TxCookie(3)).unwrap();
    r.nics[0].transmit(a, b"4", TxCookie(4)).unwrap();
    r.models[0].step();
    assert!(r.models[0].interrupt_line(), "three of three");
    r.events(0);
    // Timeout: two ticks with a pending status.
    r.models[0].set_coalesce(100, 2);
    r.nics[0].transmit(a, b"5", TxCookie(5)).unwrap();
    r.models[0].step();
    assert!(!r.models[0].interrupt_line());
    r.models[0].step();
    assert!(r.models[0].interrupt_line(), "the timeout fired");
}

#[test]
fn the_switch_reassembles_network_terminated_vcs_and_segments_network_frames() {
    let mut r = Rig::new(1, RegNicConfig::default());
    r.net.terminate_vc((0, 0, 77));
    let c = r.nics[0].open_connection(&params(77, 65_535)).unwrap();
    let f = pattern(5000);
    r.nics[0].transmit(c, &f, TxCookie(1)).unwrap();
    r.settle();
    assert_eq!(r.net.received_data(0, 0, 77), vec![f.clone()]);
    assert_eq!(r.sw.counters.pdus_to_network, 1);
    r.net.inject_data(0, 0, 77, &f[..999]);
    r.settle();
    assert_eq!(r.events(0), vec![Ev::Tx(c.0, 1, true), Ev::Rx(c.0, f[..999].to_vec())]);
    // A frame on a VC that goes nowhere is counted by the network.
    let d = r.nics[0].open_connection(&params(78, 100)).unwrap();
    r.nics[0].transmit(d, b"void", TxCookie(2)).unwrap();
    r.settle();
    assert_eq!(r.net.dropped_frames, 1);
}

#[test]
fn the_switch_drops_a_reassembled_pdu_with_a_bad_crc() {
    let mut r = Rig::new(1, RegNicConfig::default());
    r.net.terminate_vc((0, 0, 77));
    let c = r.nics[0].open_connection(&params(77, 65_535)).unwrap();
    r.tamper_up = Some(Box::new(|_, c: &mut Cell| c[20] ^= 1));
    r.nics[0].transmit(c, b"corrupt me", TxCookie(1)).unwrap();
    r.settle();
    assert!(r.net.received_data(0, 0, 77).is_empty());
    assert_eq!(r.sw.counters.aal5_errors, 1);
}

#[test]
fn transmit_refuses_unopened_connections_and_bad_lengths() {
    let (r, a, _) = Rig::pair(RegNicConfig::default());
    assert_eq!(r.nics[0].transmit(ConnId(999), b"x", TxCookie(0)), Err(NdisStatus::INVALID_STATE));
    assert_eq!(r.nics[0].transmit(a, b"", TxCookie(0)), Err(NdisStatus::INVALID_LENGTH));
    assert_eq!(r.nics[0].transmit(a, &vec![0; 65_536], TxCookie(0)), Err(NdisStatus::INVALID_LENGTH));
}

#[test]
fn closes_wait_for_event_ring_room_and_none_is_lost() {
    let cfg = RegNicConfig { ev_ring: 2, ..RegNicConfig::default() };
    let mut r = Rig::new(1, cfg);
    let conns: Vec<ConnId> = (0..5).map(|i| r.nics[0].open_connection(&params(100 + i, 100)).unwrap()).collect();
    for &c in &conns {
        r.nics[0].close_connection(c);
    }
    r.settle();
    let first = r.events(0);
    assert_eq!(first.len(), 2, "two entries, two closes: {first:?}");
    let mut closed = first;
    for _ in 0..10 {
        r.settle();
        closed.extend(r.events(0));
    }
    let mut ids: Vec<Ev> = closed;
    ids.sort_by_key(|e| format!("{e:?}"));
    let want: Vec<Ev> = conns.iter().map(|c| Ev::Closed(c.0, false)).collect();
    assert_eq!(ids, want);
    assert_eq!(r.models[0].events_lost(), 0);
}

#[test]
fn small_rings_wrap_many_times_without_loss_reorder_or_ownership_violations() {
    let cfg = RegNicConfig {
        tx_ring: 8,
        tx_buf: 64,
        rx_ring: 4,
        rx_buf: 64,
        rxc_ring: 4,
        ev_ring: 2,
        ..RegNicConfig::default()
    };
    let (mut r, a, b) = Rig::pair(cfg);
    // One SDU per tick, and the receiver polls every tick: its three buffers always suffice.
    r.models[0].set_tx_frames_per_step(1);
    let mut sent = Vec::new();
    let mut got = Vec::new();
    let mut next = 0u64;
    let mut seed = 0x2545_F491u32;
    while next < 500 {
        // xorshift: sizes 1..=192 (what three 64-octet RX buffers hold).
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let f = pattern(1 + (seed % 192) as usize);
        match r.nics[0].transmit(a, &f, TxCookie(next)) {
            Ok(()) => {
                sent.push(f);
                next += 1;
            }
            Err(NdisStatus::RESOURCES) => {
                r.pump();
                r.events(0);
                got.extend(r.events(1));
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    while r.pump() {
        r.events(0);
        got.extend(r.events(1));
    }
    assert_eq!(r.models[1].counters().rx_dropped, 0);
    let want: Vec<Ev> = sent.into_iter().map(|f| Ev::Rx(b.0, f)).collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "in order, byte-exact");
    r.no_violations();
}

#[test]
fn a_pdu_finding_no_posted_buffer_is_dropped_and_counted_not_delivered_late() {
    let cfg = RegNicConfig { rx_ring: 2, rx_buf: 64, rxc_ring: 2, ..RegNicConfig::default() };
    let (mut r, a, b) = Rig::pair(cfg);
    r.nics[0].transmit(a, b"first", TxCookie(1)).unwrap();
    r.nics[0].transmit(a, b"second", TxCookie(2)).unwrap();
    r.settle(); // both arrive before node 1 polls: one buffer posted
    assert_eq!(r.models[1].counters().rx_dropped, 1);
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, b"first".to_vec())]);
    // The buffer is back: the next one fits.
    r.nics[0].transmit(a, b"third", TxCookie(3)).unwrap();
    r.settle();
    assert_eq!(r.events(1), vec![Ev::Rx(b.0, b"third".to_vec())]);
    r.no_violations();
}

#[test]
fn the_isr_masks_the_line_until_the_dpc_polls() {
    let (mut r, a, _) = Rig::pair(RegNicConfig::default());
    assert!(!r.nics[0].interrupt(), "nothing pending: not ours");
    r.nics[0].transmit(a, b"x", TxCookie(1)).unwrap();
    r.settle();
    assert!(r.models[0].interrupt_line());
    assert!(r.nics[0].interrupt(), "ours");
    assert!(!r.models[0].interrupt_line(), "masked until the DPC");
    r.nics[0].transmit(a, b"y", TxCookie(2)).unwrap();
    r.settle();
    assert!(!r.models[0].interrupt_line(), "still masked");
    assert_eq!(r.events(0), vec![Ev::Tx(a.0, 1, true), Ev::Tx(a.0, 2, true)]);
    assert!(!r.models[0].interrupt_line(), "acknowledged and unmasked");
    r.nics[0].transmit(a, b"z", TxCookie(3)).unwrap();
    r.settle();
    assert!(r.models[0].interrupt_line(), "the line works again after the poll");
}

#[test]
fn the_tx_limit_knob_answers_resources_below_the_ring_size() {
    let (mut r, a, _) = Rig::pair(RegNicConfig::default());
    r.nics[0].set_tx_limit(2);
    r.nics[0].transmit(a, b"1", TxCookie(1)).unwrap();
    r.nics[0].transmit(a, b"2", TxCookie(2)).unwrap();
    assert_eq!(r.nics[0].transmit(a, b"3", TxCookie(3)), Err(NdisStatus::RESOURCES));
    r.nics[0].set_tx_limit(0);
    r.nics[0].transmit(a, b"3", TxCookie(3)).unwrap();
    r.settle();
    assert_eq!(r.events(0).len(), 3);
}

#[test]
fn put_sdu_delivers_a_whole_frame_on_an_open_vc_and_counts_an_unknown_one() {
    let r = Rig::new(1, RegNicConfig::default());
    let c = r.nics[0].open_connection(&params(40, 9188)).unwrap();
    r.models[0].put_sdu(0, 40, &pattern(300));
    r.models[0].put_sdu(0, 41, &pattern(10));
    assert_eq!(r.events(0), vec![Ev::Rx(c.0, pattern(300))]);
    assert_eq!(r.models[0].counters().rx_unknown, 1);
}
