//! The NIC model, frame level: a connection table (VPI/VCI → connection), a bounded transmit
//! queue drained onto the wire one step at a time, a close command that drains then reports
//! "connection closed", receive delivery, link up/down, and the events the driver polls from its
//! DPC. (The register-level NIC — descriptor rings, DMA, SAR — replaces the inside of this model
//! in its own issue; the `Device` seam the driver sees stays the same.)

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use atmmcm::ndis::{NdisStatus, VpiVci};
use atmmcm::nic::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};

/// Frames the transmit queue holds before `transmit` answers RESOURCES.
pub const TX_QUEUE: usize = 4096;
/// Connections in the table.
pub const CONNECTIONS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnState {
    Open,
    /// Close requested: queued frames still go out, then "closed" is reported.
    Closing,
}

#[derive(Debug, Clone)]
struct Conn {
    id: VpiVci,
    state: ConnState,
    max_rx_sdu: u32,
}

#[derive(Debug)]
enum Event {
    Received { conn: ConnId, frame: Vec<u8> },
    Transmitted { conn: ConnId, cookie: TxCookie, sent: bool },
    Closed { conn: ConnId, forced: bool },
    Link { up: bool },
}

/// Counters a test can read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NicCounters {
    pub tx_frames: u64,
    pub tx_flushed: u64,
    pub rx_frames: u64,
    /// Frames for a VPI/VCI with no open connection (or over its max SDU).
    pub rx_dropped: u64,
    pub tx_refused_full: u64,
    /// A transmit on a connection that is not open (a driver bug the model reports).
    pub tx_on_closed_conn: u64,
    pub opens: u64,
    pub closes: u64,
}

#[derive(Debug, Default)]
struct State {
    conns: Vec<Option<Conn>>,
    by_vc: HashMap<VpiVci, u16>,
    txq: VecDeque<(ConnId, Vec<u8>, TxCookie)>,
    wire: VecDeque<(VpiVci, Vec<u8>)>,
    events: VecDeque<Event>,
    link_up: bool,
    /// Test knob: connections never report closed (the driver must not wait forever).
    stall_close: bool,
    /// Test knob: frames sent per `step` (0 = all).
    tx_per_step: usize,
    /// Test knob: transmit queue size (0 = [`TX_QUEUE`]).
    tx_limit: usize,
    counters: NicCounters,
}

/// The NIC model. Cheap to clone (`Arc` inside); the clone the driver holds is its `Device`.
#[derive(Debug, Clone)]
pub struct NicModel {
    inner: Arc<Mutex<State>>,
}

impl Default for NicModel {
    fn default() -> Self {
        Self::new()
    }
}

impl NicModel {
    pub fn new() -> NicModel {
        let st = State { conns: vec![None; CONNECTIONS], link_up: true, ..State::default() };
        NicModel { inner: Arc::new(Mutex::new(st)) }
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves up to the configured number of queued frames onto the wire (each reported
    /// transmitted), and finishes closes whose frames are all out. Returns whether anything moved.
    pub fn step(&self) -> bool {
        let mut st = self.st();
        let mut moved = false;
        let limit = if st.tx_per_step == 0 { usize::MAX } else { st.tx_per_step };
        let mut n = 0;
        while n < limit {
            let Some((conn, frame, cookie)) = st.txq.pop_front() else { break };
            let id = st.conns.get(usize::from(conn.0)).and_then(|c| c.as_ref()).map(|c| c.id);
            match (id, st.link_up) {
                (Some(id), true) => {
                    st.counters.tx_frames += 1;
                    st.wire.push_back((id, frame));
                    st.events.push_back(Event::Transmitted { conn, cookie, sent: true });
                }
                _ => {
                    st.counters.tx_flushed += 1;
                    st.events.push_back(Event::Transmitted { conn, cookie, sent: false });
                }
            }
            n += 1;
            moved = true;
        }
        if !st.stall_close {
            let closing: Vec<u16> = (0..st.conns.len() as u16)
                .filter(|&i| matches!(st.conns.get(usize::from(i)), Some(Some(c)) if c.state == ConnState::Closing))
                .filter(|&i| !st.txq.iter().any(|(c, _, _)| c.0 == i))
                .collect();
            for i in closing {
                if let Some(slot) = st.conns.get_mut(usize::from(i))
                    && let Some(c) = slot.take()
                {
                    st.by_vc.remove(&c.id);
                    st.events.push_back(Event::Closed { conn: ConnId(i), forced: false });
                    moved = true;
                }
            }
        }
        moved
    }

    /// Frames that left the NIC, for the network: (VPI/VCI, AAL5 SDU).
    pub fn take_wire(&self) -> Vec<(VpiVci, Vec<u8>)> {
        self.st().wire.drain(..).collect()
    }

    /// A frame from the network for VPI/VCI: delivered on its open connection, else dropped.
    pub fn deliver(&self, id: VpiVci, frame: Vec<u8>) {
        let mut st = self.st();
        let conn = st.by_vc.get(&id).copied();
        let ok = conn.and_then(|c| st.conns.get(usize::from(c)).and_then(|x| x.as_ref()).map(|x| (c, x.max_rx_sdu)));
        match ok {
            Some((c, max)) if st.link_up && frame.len() <= max as usize => {
                st.counters.rx_frames += 1;
                st.events.push_back(Event::Received { conn: ConnId(c), frame });
            }
            _ => st.counters.rx_dropped += 1,
        }
    }

    /// PHY up/down. Down flushes the transmit queue (frames reported not sent).
    pub fn set_link(&self, up: bool) {
        let mut st = self.st();
        if st.link_up == up {
            return;
        }
        st.link_up = up;
        if !up {
            while let Some((conn, _, cookie)) = st.txq.pop_front() {
                st.counters.tx_flushed += 1;
                st.events.push_back(Event::Transmitted { conn, cookie, sent: false });
            }
        }
        st.events.push_back(Event::Link { up });
    }

    /// Events are waiting for the driver's DPC (the model's interrupt line).
    pub fn interrupt_pending(&self) -> bool {
        !self.st().events.is_empty()
    }

    /// Frames waiting to go out.
    pub fn tx_queued(&self) -> usize {
        self.st().txq.len()
    }

    /// Open connections (the signalling VC included).
    pub fn open_connections(&self) -> usize {
        self.st().conns.iter().filter(|c| c.is_some()).count()
    }

    pub fn counters(&self) -> NicCounters {
        self.st().counters
    }

    /// Test knob: closes never finish.
    pub fn set_stall_close(&self, stall: bool) {
        self.st().stall_close = stall;
    }

    /// Test knob: the transmit queue holds `n` frames (0 = the default [`TX_QUEUE`]).
    pub fn set_tx_queue_limit(&self, n: usize) {
        self.st().tx_limit = n;
    }

    /// Test knob: at most `n` frames per step (0 = unlimited).
    pub fn set_tx_per_step(&self, n: usize) {
        self.st().tx_per_step = n;
    }
}

impl Device for NicModel {
    fn open_connection(&self, params: &ConnParams) -> Result<ConnId, NdisStatus> {
        let mut st = self.st();
        if st.by_vc.contains_key(&params.id) {
            return Err(NdisStatus::INVALID_DATA);
        }
        let Some(free) = st.conns.iter().position(Option::is_none) else {
            return Err(NdisStatus::RESOURCES);
        };
        let Ok(id) = u16::try_from(free) else {
            return Err(NdisStatus::RESOURCES);
        };
        if let Some(slot) = st.conns.get_mut(free) {
            *slot = Some(Conn { id: params.id, state: ConnState::Open, max_rx_sdu: params.max_rx_sdu });
        }
        st.by_vc.insert(params.id, id);
        st.counters.opens += 1;
        Ok(ConnId(id))
    }

    fn close_connection(&self, conn: ConnId) {
        let mut st = self.st();
        st.counters.closes += 1;
        if let Some(Some(c)) = st.conns.get_mut(usize::from(conn.0)) {
            c.state = ConnState::Closing;
        }
    }

    fn transmit(&self, conn: ConnId, frame: &[u8], cookie: TxCookie) -> Result<(), NdisStatus> {
        let mut st = self.st();
        let open = matches!(st.conns.get(usize::from(conn.0)), Some(Some(c)) if c.state == ConnState::Open);
        if !open {
            st.counters.tx_on_closed_conn += 1;
            return Err(NdisStatus::CLOSING);
        }
        let limit = if st.tx_limit == 0 { TX_QUEUE } else { st.tx_limit };
        if st.txq.len() >= limit {
            st.counters.tx_refused_full += 1;
            return Err(NdisStatus::RESOURCES);
        }
        st.txq.push_back((conn, frame.to_vec(), cookie));
        Ok(())
    }

    fn poll(&self, budget: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        // Take the events out first: the driver may transmit (re-enter the model) from the sink.
        let batch: Vec<Event> = {
            let mut st = self.st();
            let k = budget.min(st.events.len());
            st.events.drain(..k).collect()
        };
        let n = batch.len();
        for ev in batch {
            match ev {
                Event::Received { conn, frame } => sink(DeviceEvent::Received { conn, frame: &frame }),
                Event::Transmitted { conn, cookie, sent } => sink(DeviceEvent::Transmitted { conn, cookie, sent }),
                Event::Closed { conn, forced } => sink(DeviceEvent::ConnectionClosed { conn, forced }),
                Event::Link { up } => sink(DeviceEvent::Link { up }),
            }
        }
        n
    }

    fn link_up(&self) -> bool {
        self.st().link_up
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atmmcm::ndis::AalType;

    fn params(vci: u16) -> ConnParams {
        ConnParams { id: VpiVci { vpi: 0, vci }, aal: AalType::Aal5, tx_pcr: 0, max_rx_sdu: 9188 }
    }

    fn events(nic: &NicModel) -> Vec<String> {
        let mut out = Vec::new();
        nic.poll(1000, &mut |e| out.push(format!("{e:?}")));
        out
    }

    #[test]
    fn close_drains_queued_frames_then_reports_closed() {
        let nic = NicModel::new();
        let c = nic.open_connection(&params(40)).unwrap();
        nic.transmit(c, b"a", TxCookie(1)).unwrap();
        nic.close_connection(c);
        assert_eq!(nic.transmit(c, b"b", TxCookie(2)), Err(NdisStatus::CLOSING), "no sends after close");
        nic.step();
        let ev = events(&nic);
        assert_eq!(ev.len(), 2);
        assert!(ev[0].contains("Transmitted") && ev[0].contains("sent: true"));
        assert!(ev[1].contains("ConnectionClosed"));
        assert_eq!(nic.take_wire(), vec![(VpiVci { vpi: 0, vci: 40 }, b"a".to_vec())]);
        assert_eq!(nic.counters().tx_on_closed_conn, 1);
    }

    #[test]
    fn link_down_flushes_and_unknown_vc_is_dropped() {
        let nic = NicModel::new();
        let c = nic.open_connection(&params(41)).unwrap();
        nic.transmit(c, b"x", TxCookie(9)).unwrap();
        nic.set_link(false);
        let ev = events(&nic);
        assert!(ev[0].contains("sent: false"), "{ev:?}");
        assert!(ev[1].contains("Link { up: false }"));
        nic.set_link(true);
        nic.deliver(VpiVci { vpi: 0, vci: 99 }, vec![1]);
        assert_eq!(nic.counters().rx_dropped, 1);
        assert_eq!(nic.open_connection(&params(41)), Err(NdisStatus::INVALID_DATA), "VPI/VCI in use");
    }

    #[test]
    fn stalled_close_never_reports() {
        let nic = NicModel::new();
        let c = nic.open_connection(&params(42)).unwrap();
        nic.set_stall_close(true);
        nic.close_connection(c);
        nic.step();
        assert!(events(&nic).is_empty());
    }
}
