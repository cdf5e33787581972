//! The NIC as the driver core sees it: the [`Device`] seam.
//!
//! The seam is frame-level: the device opens and closes connections (VPI/VCI → AAL5), moves
//! whole CPCS-SDUs, and reports events from the interrupt DPC. Underneath, [`regnic::RegNic`]
//! implements it on the ATM1 registers ([`regs`]) and descriptor rings ([`desc`]) through the
//! register/DMA seam [`bus::Bus`]; the datasheet is `hw/REGISTERS.md`.

pub mod bus;
pub mod desc;
pub mod regnic;
pub mod regs;

use crate::ndis::{AalType, NdisStatus, VpiVci};

/// A connection on the NIC (an index into its connection table).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnId(pub u16);

/// What the NIC needs to open a connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ConnParams {
    pub id: VpiVci,
    pub aal: AalType,
    /// Transmit peak cell rate (cells/s); 0 = line rate (UBR).
    pub tx_pcr: u32,
    /// Largest frame to reassemble.
    pub max_rx_sdu: u32,
}

/// Opaque per-frame transmit tag, reported back in [`DeviceEvent::Transmitted`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TxCookie(pub u64);

/// Something the NIC reports from its interrupt.
#[derive(Debug, PartialEq, Eq)]
pub enum DeviceEvent<'a> {
    /// A whole frame (CRC checked) arrived on `conn`.
    Received { conn: ConnId, frame: &'a [u8] },
    /// The frame tagged `cookie` on `conn` left the NIC (or was flushed: `sent == false`).
    /// Frames of one connection are reported in the order they were queued.
    Transmitted { conn: ConnId, cookie: TxCookie, sent: bool },
    /// A close requested with [`Device::close_connection`] has finished: no cell of `conn` is in
    /// flight any more. `forced` when the NIC gave up waiting for the transmit side.
    ConnectionClosed { conn: ConnId, forced: bool },
    /// The PHY gained or lost signal.
    Link { up: bool },
}

/// The NIC.
///
/// Calling contexts (the driver guarantees them): `transmit` and `poll` only from the DPC, never
/// two at once, so the transmit side has one producer; `open_connection` from the control path
/// (under the control lock) and `close_connection` from the control path or the DPC — the
/// implementation serializes those two itself; `link_up` anywhere.
pub trait Device: Send + Sync + 'static {
    /// Opens a connection. RESOURCES when the table is full, INVALID_DATA for a VPI/VCI in use.
    fn open_connection(&self, params: &ConnParams) -> Result<ConnId, NdisStatus>;
    /// Starts closing `conn`: transmit drains, then [`DeviceEvent::ConnectionClosed`].
    fn close_connection(&self, conn: ConnId);
    /// Queues one frame; RESOURCES when the transmit ring is full.
    fn transmit(&self, conn: ConnId, frame: &[u8], cookie: TxCookie) -> Result<(), NdisStatus>;
    /// Hands up to `budget` pending events to `sink` (called from the DPC); returns how many.
    fn poll(&self, budget: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize;
    /// Current PHY state.
    fn link_up(&self) -> bool;
}
