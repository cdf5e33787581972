//! An emulated ATM cell switch between NIC PHYs and the [`Network`].
//!
//! Ingress: every cell's HEC is checked (bad → dropped, counted). Data cells on a VC the network
//! cross-connects (routed calls and PVCs, [`Network::cross_connects`]) are forwarded cell by cell
//! with the header rewritten (VPI/VCI, new HEC; PTI and CLP kept). Everything else — the
//! signalling VC 0/5 and VCs the network terminates itself — is reassembled per port and VC into
//! AAL5 SDUs (CRC checked: bad → dropped, counted) and handed to [`Network::from_user`].
//! Egress: every SDU the network sends towards a port (`to_user`: signalling, `inject_data`,
//! terminated calls) is AAL5-encapsulated and segmented into cells.
//!
//! Cell-forwarded data never passes `Network::from_user`, so it is not in the network's pcap.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use atmmcm::wire::{aal5, cell};

use crate::network::{Network, PortId, SIG_VCI, SIG_VPI};
use crate::regnic_model::Cell;

/// What the switch counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SwitchCounters {
    pub cells_in: u64,
    pub hec_errors: u64,
    pub cells_forwarded: u64,
    /// OAM/RM cells, and cells cross-connected to a VPI that does not fit a UNI header.
    pub cells_dropped: u64,
    pub pdus_to_network: u64,
    /// Reassembled PDUs dropped (bad CRC, bad length, abort, oversize).
    pub aal5_errors: u64,
    pub pdus_from_network: u64,
    pub cells_out: u64,
}

#[derive(Debug, Default)]
struct Reasm {
    pdu: Vec<u8>,
    discard: bool,
}

#[derive(Debug, Default)]
struct SwitchPort {
    ingress: VecDeque<Cell>,
    egress: VecDeque<Cell>,
    reasm: HashMap<(u16, u16), Reasm>,
    /// Cells towards the user still to drop / to corrupt (one payload bit flipped: the AAL5
    /// CRC at the NIC catches it).
    drop_cells: u32,
    corrupt_cells: u32,
}

/// The cell switch. Port `i` is the network's port `i`.
#[derive(Debug, Default)]
pub struct CellSwitch {
    ports: Vec<SwitchPort>,
    pub counters: SwitchCounters,
}

/// Segments `sdu` into cells on VPI/VCI (PTI 1 on the last); None if it does not fit AAL5 / UNI.
pub fn segment(vpi: u16, vci: u16, sdu: &[u8]) -> Option<Vec<Cell>> {
    let vpi = u8::try_from(vpi).ok()?;
    let mut pdu = vec![0u8; aal5::pdu_len(sdu.len())];
    aal5::encapsulate(sdu, 0, 0, &mut pdu).ok()?;
    let n = pdu.len() / cell::PAYLOAD_LEN;
    let mut out = Vec::with_capacity(n);
    for (k, chunk) in pdu.chunks_exact(cell::PAYLOAD_LEN).enumerate() {
        let mut c = [0u8; cell::CELL_LEN];
        let pti = if k + 1 == n { cell::PTI_SDU_TYPE_1 } else { 0 };
        cell::Header { gfc: 0, vpi, vci, pti, clp: false }.emit(&mut c).ok()?;
        c[cell::HEADER_LEN..].copy_from_slice(chunk);
        out.push(c);
    }
    Some(out)
}

impl CellSwitch {
    /// A switch with `ports` ports (match the network's port ids).
    pub fn new(ports: usize) -> CellSwitch {
        let mut s = CellSwitch::default();
        for _ in 0..ports {
            s.add_port();
        }
        s
    }

    /// One more port; returns its id.
    pub fn add_port(&mut self) -> PortId {
        self.ports.push(SwitchPort::default());
        self.ports.len() - 1
    }

    /// The next `drop` cells towards `port` are lost, the `corrupt` after them get a payload
    /// bit flipped.
    pub fn cell_faults(&mut self, port: PortId, drop: u32, corrupt: u32) {
        if let Some(p) = self.ports.get_mut(port) {
            p.drop_cells = drop;
            p.corrupt_cells = corrupt;
        }
    }

    /// A cell from the NIC on `port`.
    pub fn input(&mut self, port: PortId, c: Cell) {
        if let Some(p) = self.ports.get_mut(port) {
            p.ingress.push_back(c);
        }
    }

    /// Cells towards the NIC on `port`.
    pub fn output(&mut self, port: PortId) -> Vec<Cell> {
        self.ports.get_mut(port).map(|p| p.egress.drain(..).collect()).unwrap_or_default()
    }

    /// Moves every queued ingress cell, then every SDU the network has for the ports. Whether
    /// anything moved.
    pub fn step(&mut self, now: Duration, net: &mut Network) -> bool {
        let mut moved = false;
        for port in 0..self.ports.len() {
            while let Some(c) = self.ports[port].ingress.pop_front() {
                moved = true;
                self.ingress(now, net, port, &c);
            }
        }
        for port in 0..self.ports.len() {
            while let Some((vpi, vci, frame)) = net.to_user(port) {
                moved = true;
                self.counters.pdus_from_network += 1;
                match segment(vpi, vci, &frame) {
                    Some(cells) => {
                        self.counters.cells_out += cells.len() as u64;
                        let p = &mut self.ports[port];
                        for mut c in cells {
                            if p.drop_cells > 0 {
                                p.drop_cells -= 1;
                                continue;
                            }
                            if p.corrupt_cells > 0 {
                                p.corrupt_cells -= 1;
                                if let Some(b) = c.get_mut(cell::HEADER_LEN) {
                                    *b ^= 0x10;
                                }
                            }
                            p.egress.push_back(c);
                        }
                    }
                    None => self.counters.cells_dropped += 1,
                }
            }
        }
        moved
    }

    fn ingress(&mut self, now: Duration, net: &mut Network, port: PortId, c: &Cell) {
        self.counters.cells_in += 1;
        let Ok(p) = cell::Packet::new_checked(&c[..]) else {
            self.counters.hec_errors += 1;
            return;
        };
        let h = cell::Header::parse(&p);
        if h.pti & cell::PTI_NON_USER != 0 {
            self.counters.cells_dropped += 1;
            return;
        }
        let (vpi, vci) = (u16::from(h.vpi), h.vci);
        let dests = if (vpi, vci) == (SIG_VPI, SIG_VCI) { &[][..] } else { net.cross_connects(port, vpi, vci) };
        if !dests.is_empty() {
            for &(dp, dvpi, dvci) in dests {
                let (Ok(dvpi), Some(out)) = (u8::try_from(dvpi), self.ports.get_mut(dp)) else {
                    self.counters.cells_dropped += 1;
                    continue;
                };
                let mut fwd = *c;
                let nh = cell::Header { vpi: dvpi, vci: dvci, ..h };
                if nh.emit(&mut fwd).is_ok() {
                    out.egress.push_back(fwd);
                    self.counters.cells_forwarded += 1;
                }
            }
            return;
        }
        let r = self.ports[port].reasm.entry((vpi, vci)).or_default();
        if !r.discard {
            r.pdu.extend_from_slice(p.payload());
            if r.pdu.len() > aal5::pdu_len(aal5::MAX_SDU_LEN) {
                r.discard = true;
                r.pdu.clear();
            }
        }
        if !h.is_end_of_frame() {
            return;
        }
        let pdu = std::mem::take(&mut r.pdu);
        let discard = std::mem::replace(&mut r.discard, false);
        match (discard, aal5::decapsulate(&pdu)) {
            (false, Ok(sdu)) => {
                self.counters.pdus_to_network += 1;
                net.from_user(now, port, vpi, vci, sdu);
            }
            _ => self.counters.aal5_errors += 1,
        }
    }
}
