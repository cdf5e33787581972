//! [`FrameNic`]: the scale lab's frame-level NIC stand-in (and the call-storm benches' NIC).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm::nic::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};

use super::{ScaleDevice, Wire};
use crate::clock::Clock;
use crate::network::{Network, PortId};

impl ScaleDevice for FrameNic {
    fn build(net: &Arc<Mutex<Network>>, port: PortId, clock: &Arc<Clock>) -> Result<Self, String> {
        Ok(FrameNic::new(net.clone(), port, clock.clone()))
    }

    fn wire(&self, _: &Wire<'_>) -> (bool, bool) {
        let pending = self.pull();
        (pending, pending)
    }

    fn set_link(&self, up: bool) {
        FrameNic::set_link(self, up);
    }

    fn open_connections(&self) -> usize {
        FrameNic::open_connections(self)
    }

    fn cells(&self) -> Option<(u32, u32)> {
        None
    }
}

enum Ev {
    Rx(Vec<u8>),
    Sent(u16, u64),
    Closed(u16),
    Link(bool),
}

struct FrameState {
    /// Connection id → (VPI, VCI); `None` = free.
    conns: Vec<Option<(u16, u16)>>,
    free: Vec<u16>,
    events: VecDeque<Ev>,
    sig: Option<u16>,
}

/// Where a [`FrameNic`] reads virtual time: the lab's [`Clock`], or a bench's own.
pub type TimeSource = Arc<dyn Fn() -> Duration + Send + Sync>;

/// A frame-level NIC with 65 535 connections in front of the lab network (see the module docs):
/// the driver's 0/5 frames go to the network's SSCOP peer while the PHY is up, data frames are
/// taken and reported sent. Also the NIC of the call-storm benches (`benches/support`).
pub struct FrameNic {
    net: Arc<Mutex<Network>>,
    port: PortId,
    now: TimeSource,
    link: AtomicBool,
    st: Mutex<FrameState>,
}

impl FrameNic {
    /// On the lab's clock.
    pub fn new(net: Arc<Mutex<Network>>, port: PortId, clock: Arc<Clock>) -> FrameNic {
        FrameNic::with_time(net, port, Arc::new(move || clock.now()))
    }

    /// On any virtual time source.
    pub fn with_time(net: Arc<Mutex<Network>>, port: PortId, now: TimeSource) -> FrameNic {
        let n = usize::from(u16::MAX);
        FrameNic {
            net,
            port,
            now,
            link: AtomicBool::new(true),
            st: Mutex::new(FrameState {
                conns: vec![None; n],
                free: (0..u16::MAX).rev().collect(),
                // Room for a close of every connection at once (a link-loss teardown) without
                // growing the queue (a regrowth copies every queued event through the cache).
                events: VecDeque::with_capacity(n + 1024),
                sig: None,
            }),
        }
    }

    fn st(&self) -> MutexGuard<'_, FrameState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn net(&self) -> MutexGuard<'_, Network> {
        self.net.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// PHY loss or return (the driver hears it at its next poll).
    pub fn set_link(&self, up: bool) {
        self.link.store(up, Ordering::Release);
        self.st().events.push_back(Ev::Link(up));
    }

    /// Whether events wait for the driver's next poll.
    pub fn has_events(&self) -> bool {
        !self.st().events.is_empty()
    }

    /// Moves what the network sent on 0/5 into the event queue; whether anything is pending.
    pub fn pull(&self) -> bool {
        loop {
            let next = self.net().to_user(self.port);
            let Some((vpi, vci, frame)) = next else { break };
            if (vpi, vci) == (0, 5) {
                self.st().events.push_back(Ev::Rx(frame));
            }
        }
        !self.st().events.is_empty()
    }

    /// Connections open and not being closed.
    pub fn open_connections(&self) -> usize {
        let st = self.st();
        let closing = st.events.iter().filter(|e| matches!(e, Ev::Closed(_))).count();
        st.conns.iter().filter(|c| c.is_some()).count().saturating_sub(closing)
    }
}

impl Device for FrameNic {
    fn open_connection(&self, p: &ConnParams) -> Result<ConnId, NdisStatus> {
        let mut st = self.st();
        let key = (p.id.vpi, p.id.vci);
        let c = st.free.pop().ok_or(NdisStatus::RESOURCES)?;
        if let Some(slot) = st.conns.get_mut(usize::from(c)) {
            *slot = Some(key);
        }
        if key == (0, 5) {
            st.sig = Some(c);
        }
        Ok(ConnId(c))
    }

    fn close_connection(&self, conn: ConnId) {
        self.st().events.push_back(Ev::Closed(conn.0));
    }

    fn transmit(&self, conn: ConnId, frame: &[u8], cookie: TxCookie) -> Result<(), NdisStatus> {
        let mut st = self.st();
        let Some(Some((vpi, vci))) = st.conns.get(usize::from(conn.0)).copied() else {
            return Err(NdisStatus::INVALID_STATE);
        };
        st.events.push_back(Ev::Sent(conn.0, cookie.0));
        drop(st);
        if self.link.load(Ordering::Acquire) && (vpi, vci) == (0, 5) {
            let now = (self.now)();
            self.net().from_user(now, self.port, vpi, vci, frame);
        }
        Ok(())
    }

    fn poll(&self, budget: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        let mut n = 0;
        while n < budget {
            let (ev, sig) = {
                let mut st = self.st();
                let ev = st.events.pop_front();
                if let Some(Ev::Closed(c)) = ev {
                    if let Some(slot) = st.conns.get_mut(usize::from(c)) {
                        *slot = None;
                    }
                    st.free.push(c);
                }
                (ev, st.sig)
            };
            let Some(ev) = ev else { break };
            match ev {
                Ev::Rx(frame) => {
                    if let Some(c) = sig {
                        sink(DeviceEvent::Received { conn: ConnId(c), frame: &frame });
                    }
                }
                Ev::Sent(c, k) => sink(DeviceEvent::Transmitted { conn: ConnId(c), cookie: TxCookie(k), sent: true }),
                Ev::Closed(c) => sink(DeviceEvent::ConnectionClosed { conn: ConnId(c), forced: false }),
                Ev::Link(up) => sink(DeviceEvent::Link { up }),
            }
            n += 1;
        }
        n
    }

    fn link_up(&self) -> bool {
        self.link.load(Ordering::Acquire)
    }
}
