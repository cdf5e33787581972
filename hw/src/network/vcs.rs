//! A port's VCs, stored densely by VPI / VCI: chunks of 256 consecutive VCIs, so the calls of a
//! storm (consecutive VCIs) sit next to each other in memory and the chunk map stays small. A
//! chunk is allocated when a VC in it is first written, never up front.

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::{Network, PortVc};

/// VCIs per chunk.
const CHUNK: usize = 256;

/// What the network knows of one VC at a port.
#[derive(Debug, Clone, Default)]
pub(crate) struct VcEntry {
    /// Allocated to a call or a PVC (or the signalling VC).
    pub used: bool,
    /// The network terminates this VC's data (its call is up).
    pub terminated: bool,
    /// Data that arrived from the user while terminated; kept after the call is gone, until the
    /// VC is terminated again.
    pub received: Vec<Vec<u8>>,
    /// Where frames from the user on this VC go.
    pub to: SmallVec<[PortVc; 1]>,
}

/// The VCs of one port.
#[derive(Debug, Default)]
pub(crate) struct VcTable {
    /// (VPI, VCI >> 8) → the 256 entries of that VCI range.
    chunks: FxHashMap<(u16, u8), Box<[VcEntry]>>,
}

/// Chunk key and index in the chunk of a VC.
fn split(vpi: u16, vci: u16) -> ((u16, u8), usize) {
    let [hi, lo] = vci.to_be_bytes();
    ((vpi, hi), usize::from(lo))
}

impl VcTable {
    /// The VC's entry, if its chunk exists.
    pub fn get(&self, vpi: u16, vci: u16) -> Option<&VcEntry> {
        let (chunk, i) = split(vpi, vci);
        self.chunks.get(&chunk)?.get(i)
    }

    /// The VC's entry for writing, if its chunk exists (looking up allocates nothing).
    pub fn get_mut(&mut self, vpi: u16, vci: u16) -> Option<&mut VcEntry> {
        let (chunk, i) = split(vpi, vci);
        self.chunks.get_mut(&chunk)?.get_mut(i)
    }

    /// The VC's entry, its chunk allocated if needed.
    pub fn entry(&mut self, vpi: u16, vci: u16) -> &mut VcEntry {
        let (chunk, i) = split(vpi, vci);
        let entries = self.chunks.entry(chunk).or_insert_with(|| vec![VcEntry::default(); CHUNK].into_boxed_slice());
        &mut entries[i]
    }

    /// Marks a VC used; false if it already was.
    pub fn claim(&mut self, vpi: u16, vci: u16) -> bool {
        !std::mem::replace(&mut self.entry(vpi, vci).used, true)
    }

    /// Frees a VC (its cross-connects and received data are left as they are).
    pub fn release(&mut self, vpi: u16, vci: u16) {
        if let Some(e) = self.get_mut(vpi, vci) {
            e.used = false;
        }
    }
}

impl Network {
    /// The entry of a VC, if it was ever written.
    pub(crate) fn vc(&self, (port, vpi, vci): PortVc) -> Option<&VcEntry> {
        self.ports.get(port)?.vcs.get(vpi, vci)
    }

    /// The entry of a VC for writing, if it was ever written.
    pub(crate) fn vc_mut(&mut self, (port, vpi, vci): PortVc) -> Option<&mut VcEntry> {
        self.ports.get_mut(port)?.vcs.get_mut(vpi, vci)
    }

    /// The entry of a VC at an existing port, created if needed.
    pub(crate) fn vc_entry(&mut self, (port, vpi, vci): PortVc) -> Option<&mut VcEntry> {
        Some(self.ports.get_mut(port)?.vcs.entry(vpi, vci))
    }

    /// Cross-connects `a` and `b` both ways (once).
    pub(crate) fn connect_vc(&mut self, a: PortVc, b: PortVc) {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(e) = self.vc_entry(x)
                && !e.to.contains(&y)
            {
                e.to.push(y);
            }
        }
    }

    /// Removes every cross-connect to and from `x` and stops terminating its data. Cross-connects
    /// are made in pairs (`connect_vc`, `add_pvc`), so the VCs that send to `x` are exactly those
    /// `x` sends to: only their lists are touched.
    pub(crate) fn disconnect_vc(&mut self, x: PortVc) {
        let Some(e) = self.vc_mut(x) else {
            return;
        };
        e.terminated = false;
        let to = std::mem::take(&mut e.to);
        for y in to {
            if let Some(v) = self.vc_mut(y) {
                v.to.retain(|d| *d != x);
            }
        }
    }

    /// The network terminates `x`'s data from now on (what arrived before is forgotten).
    pub(crate) fn terminate_vc(&mut self, x: PortVc) {
        if let Some(e) = self.vc_entry(x) {
            e.terminated = true;
            e.received = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vc_table_keeps_neighbouring_vcis_apart_and_allocates_chunks_lazily() {
        let mut t = VcTable::default();
        assert!(t.get(0, 32).is_none(), "nothing before a write");
        assert!(t.claim(0, 255));
        assert!(!t.claim(0, 255), "a used VC is not claimed twice");
        assert!(t.claim(0, 256), "the next chunk's first VCI is a VC of its own");
        assert!(t.claim(1, 255), "another VPI is another VC");
        assert!(t.get(0, 254).is_some_and(|e| !e.used), "a neighbour in the chunk is free");
        t.release(0, 255);
        assert!(t.claim(0, 255), "released, it can be claimed again");
        assert!(t.claim(7, u16::MAX), "the last VCI");
        assert_eq!(t.chunks.len(), 4);
        t.release(9, 9);
        assert!(t.get(9, 9).is_none(), "releasing an unknown VC allocates nothing");
    }
}
