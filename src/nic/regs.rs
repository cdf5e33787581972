//! The ATM1 register map (BAR0): offsets and bit layouts, declared once with `bitfield` and used
//! by both the driver (`regnic`) and the lab's model. The datasheet is `hw/REGISTERS.md`.

use bitfield::bitfield;

/// Octets of BAR0 (2 MiB: room for the largest connection table, [`MAX_CONNECTIONS`]).
pub const BAR_LEN: u32 = 0x20_0000;
/// Value of [`ID`].
pub const ID_VALUE: u32 = 0x4154_4D31;

/// Identification ("ATM1").
pub const ID: u32 = 0x000;
/// [`Ctrl`].
pub const CTRL: u32 = 0x004;
/// [`Status`].
pub const STATUS: u32 = 0x008;
/// [`IntBits`], write 1 to clear.
pub const INT_STATUS: u32 = 0x00C;
/// [`IntBits`], 1 = enabled.
pub const INT_MASK: u32 = 0x010;
/// [`Coalesce`].
pub const INT_COALESCE: u32 = 0x014;
/// [`PhyStatus`].
pub const PHY_STATUS: u32 = 0x018;
/// Entries in the connection table (1..=[`MAX_CONNECTIONS`]; the driver sizes itself from it).
pub const CONN_COUNT: u32 = 0x01C;
/// [`Cmd`] (write-only).
pub const CMD: u32 = 0x020;
/// [`CmdStatus`].
pub const CMD_STATUS: u32 = 0x024;

/// One descriptor ring's five registers: base (lo, hi), size, producer, consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingRegs {
    pub base_lo: u32,
    pub base_hi: u32,
    pub size: u32,
    pub prod: u32,
    pub cons: u32,
}

impl RingRegs {
    const fn at(base: u32) -> RingRegs {
        RingRegs { base_lo: base, base_hi: base + 4, size: base + 8, prod: base + 0xC, cons: base + 0x10 }
    }
}

/// TX descriptor ring (driver produces, NIC consumes).
pub const TX: RingRegs = RingRegs::at(0x040);
/// RX free-buffer ring (driver produces, NIC consumes).
pub const RXB: RingRegs = RingRegs::at(0x060);
/// RX completion ring (NIC produces, driver consumes).
pub const RXC: RingRegs = RingRegs::at(0x080);
/// Event ring (NIC produces, driver consumes).
pub const EV: RingRegs = RingRegs::at(0x0A0);

/// Largest ring (entries).
pub const MAX_RING: u32 = 4096;

/// Cells sent.
pub const CNT_TX_CELLS: u32 = 0x100;
/// Cells received with a good HEC.
pub const CNT_RX_CELLS: u32 = 0x104;
/// Cells dropped for a bad HEC.
pub const CNT_HEC_ERRORS: u32 = 0x108;
/// PDUs dropped for a bad CRC-32.
pub const CNT_CRC_ERRORS: u32 = 0x10C;
/// PDUs dropped for any reason.
pub const CNT_RX_DROPPED: u32 = 0x110;
/// PDUs sent.
pub const CNT_TX_PDUS: u32 = 0x114;
/// PDUs written to host buffers.
pub const CNT_RX_PDUS: u32 = 0x118;
/// Cells on no open connection (or OAM/RM cells).
pub const CNT_RX_UNKNOWN: u32 = 0x11C;
/// TX descriptors completed "not sent".
pub const CNT_TX_FLUSHED: u32 = 0x120;

/// First connection-table entry.
pub const CONN_TABLE: u32 = 0x4000;
/// Octets per connection-table entry.
pub const CONN_ENTRY_LEN: u32 = 16;
/// Most connection-table entries an ATM1 may have ([`CONN_COUNT`] says how many this one has):
/// every 16-bit connection id names one.
pub const MAX_CONNECTIONS: u32 = 65_536;
/// Word offsets inside a connection-table entry.
pub mod conn_word {
    /// [`super::ConnVc`].
    pub const VC: u32 = 0;
    /// [`super::ConnCfg`].
    pub const CFG: u32 = 4;
    /// Peak cell rate, cells/s (0 = line rate).
    pub const PCR: u32 = 8;
    /// [`super::ConnMaxSdu`].
    pub const MAX_SDU: u32 = 12;
}

/// BAR0 offset of word `word` (a [`conn_word`] constant) of connection-table entry `conn`.
pub const fn conn_reg(conn: u16, word: u32) -> u32 {
    CONN_TABLE + (conn as u32) * CONN_ENTRY_LEN + word
}

bitfield! {
    /// `CTRL` (0x004).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Ctrl(pub u32);
    impl Debug;
    /// Reset (self-clearing).
    pub reset, set_reset: 0;
    /// TX and RX engines run.
    pub enable, set_enable: 1;
    /// The interrupt line may assert.
    pub irq_enable, set_irq_enable: 2;
}

bitfield! {
    /// `STATUS` (0x008).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Status(pub u32);
    impl Debug;
    pub reset_busy, set_reset_busy: 0;
    pub enabled, set_enabled: 1;
    pub link_up, set_link_up: 2;
}

bitfield! {
    /// `INT_STATUS` / `INT_MASK` bits.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct IntBits(pub u32);
    impl Debug;
    pub tx_done, set_tx_done: 0;
    pub rx_done, set_rx_done: 1;
    pub event, set_event: 2;
    pub rx_no_buffer, set_rx_no_buffer: 3;
    pub link, set_link: 4;
    pub error, set_error: 5;
}

impl IntBits {
    /// Every defined bit.
    pub const ALL: IntBits = IntBits(0x3F);
}

bitfield! {
    /// `INT_COALESCE` (0x014).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Coalesce(pub u32);
    impl Debug;
    /// Occurrences before the line asserts (0 or 1: at once).
    pub u8, count, set_count: 7, 0;
    /// Ticks with a pending status after which the line asserts anyway (0: none).
    pub u16, timeout, set_timeout: 23, 8;
}

bitfield! {
    /// `PHY_STATUS` (0x018).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct PhyStatus(pub u32);
    impl Debug;
    /// Loss of signal.
    pub los, set_los: 0;
    /// Loss of frame (cell delineation).
    pub lof, set_lof: 1;
    /// Neither LOS nor LOF.
    pub link_up, set_link_up: 2;
}

/// `CMD.OP` values.
pub mod op {
    pub const OPEN: u8 = 1;
    pub const CLOSE: u8 = 2;
}

bitfield! {
    /// `CMD` (0x020).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Cmd(pub u32);
    impl Debug;
    pub u16, conn, set_conn: 15, 0;
    /// An [`op`] value.
    pub u8, op, set_op: 31, 28;
}

/// `CMD_STATUS.RESULT` values.
pub mod cmd_result {
    pub const OK: u8 = 0;
    pub const BAD_CONN: u8 = 1;
    pub const VC_IN_USE: u8 = 2;
    pub const BAD_PARAM: u8 = 3;
}

bitfield! {
    /// `CMD_STATUS` (0x024).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct CmdStatus(pub u32);
    impl Debug;
    /// A [`cmd_result`] value.
    pub u8, result, set_result: 3, 0;
    pub busy, set_busy: 31;
}

bitfield! {
    /// Connection-table word 0.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct ConnVc(pub u32);
    impl Debug;
    pub u16, vci, set_vci: 15, 0;
    pub u8, vpi, set_vpi: 23, 16;
}

/// `CFG.AAL` values.
pub const AAL5: u8 = 0;

/// `CFG.SERVICE` values.
pub mod service {
    pub const UBR: u8 = 0;
    pub const CBR: u8 = 1;
    pub const RT_VBR: u8 = 2;
    pub const NRT_VBR: u8 = 3;
    pub const ABR: u8 = 4;
}

/// `CFG.STATE` values.
pub mod conn_state {
    pub const IDLE: u8 = 0;
    pub const OPEN: u8 = 1;
    pub const CLOSING: u8 = 2;
}

bitfield! {
    /// Connection-table word 1.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct ConnCfg(pub u32);
    impl Debug;
    pub u8, aal, set_aal: 1, 0;
    /// A [`service`] value.
    pub u8, service, set_service: 4, 2;
    /// A [`conn_state`] value (read-only to the driver).
    pub u8, state, set_state: 9, 8;
}

bitfield! {
    /// Connection-table word 3.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct ConnMaxSdu(pub u32);
    impl Debug;
    pub u32, max_sdu, set_max_sdu: 16, 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_offsets_match_the_datasheet() {
        assert_eq!((ID, CTRL, STATUS, INT_STATUS, INT_MASK), (0x000, 0x004, 0x008, 0x00C, 0x010));
        assert_eq!((INT_COALESCE, PHY_STATUS, CONN_COUNT, CMD, CMD_STATUS), (0x014, 0x018, 0x01C, 0x020, 0x024));
        assert_eq!(TX, RingRegs { base_lo: 0x40, base_hi: 0x44, size: 0x48, prod: 0x4C, cons: 0x50 });
        assert_eq!(RXB, RingRegs { base_lo: 0x60, base_hi: 0x64, size: 0x68, prod: 0x6C, cons: 0x70 });
        assert_eq!(RXC, RingRegs { base_lo: 0x80, base_hi: 0x84, size: 0x88, prod: 0x8C, cons: 0x90 });
        assert_eq!(EV, RingRegs { base_lo: 0xA0, base_hi: 0xA4, size: 0xA8, prod: 0xAC, cons: 0xB0 });
        assert_eq!((CNT_TX_CELLS, CNT_HEC_ERRORS, CNT_TX_FLUSHED), (0x100, 0x108, 0x120));
        assert_eq!(conn_reg(0, conn_word::VC), 0x4000);
        assert_eq!(conn_reg(2, conn_word::MAX_SDU), 0x402C);
        assert_eq!(conn_reg(1023, conn_word::MAX_SDU), 0x7FFC);
        assert_eq!(conn_reg(u16::MAX, conn_word::MAX_SDU), 0x10_3FFC);
        assert!(conn_reg(u16::MAX, conn_word::MAX_SDU) < BAR_LEN);
        assert_eq!(MAX_CONNECTIONS, u32::from(u16::MAX) + 1, "every 16-bit connection id names an entry");
    }

    #[test]
    fn register_bits_sit_where_the_datasheet_says() {
        let mut c = Ctrl(0);
        c.set_enable(true);
        c.set_irq_enable(true);
        assert_eq!(c.0, 0b110);
        let mut i = IntBits(0);
        i.set_link(true);
        assert_eq!(i.0, 1 << 4);
        assert!(IntBits(1 << 2).event() && !IntBits(1 << 2).rx_done());
        let mut cmd = Cmd(0);
        cmd.set_op(op::CLOSE);
        cmd.set_conn(0x1234);
        assert_eq!(cmd.0, 0x2000_1234);
        let mut vc = ConnVc(0);
        vc.set_vpi(0xAB);
        vc.set_vci(0xCDEF);
        assert_eq!(vc.0, 0x00AB_CDEF);
        let mut cfg = ConnCfg(0);
        cfg.set_service(service::ABR);
        cfg.set_state(conn_state::CLOSING);
        assert_eq!(cfg.0, (4 << 2) | (2 << 8));
        let mut co = Coalesce(0);
        co.set_count(8);
        co.set_timeout(0x1234);
        assert_eq!(co.0, 0x0012_3408);
        assert!(CmdStatus(1 << 31).busy());
        assert!(PhyStatus(0b100).link_up() && !PhyStatus(0b011).link_up());
        assert_eq!(ConnMaxSdu(0x1_FFFF).max_sdu(), 0x1_FFFF);
    }

    #[test]
    fn setters_mask_values_that_do_not_fit() {
        // A hostile or buggy value cannot spill into the neighbouring field.
        let mut cmd = Cmd(0);
        cmd.set_op(0xFF);
        assert_eq!(cmd.0, 0xF000_0000);
        let mut cfg = ConnCfg(0);
        cfg.set_aal(0xFF);
        assert_eq!(cfg.0, 0b11);
    }
}
