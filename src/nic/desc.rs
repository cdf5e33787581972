//! Descriptor formats of the ATM1 rings (TX, RX free buffers, RX completions, events): 16 octets
//! each, four little-endian words, word 3 bit 31 = `OWN` (1: the NIC owns the entry). Declared
//! once with `bitfield`; the driver and the lab's model both use them. See `hw/REGISTERS.md`.

// `len` here is a field of a descriptor word, not a container length.
#![allow(clippy::len_without_is_empty)]

use bitfield::bitfield;

/// Octets per descriptor (every ring).
pub const DESC_LEN: usize = 16;

/// Byte offsets of the words inside a descriptor.
pub mod word {
    /// Buffer bus address bits 31:0 (TX, RX free buffer); first info word otherwise.
    pub const W0: usize = 0;
    /// Buffer bus address bits 63:32; second info word otherwise.
    pub const W1: usize = 4;
    pub const W2: usize = 8;
    /// Carries `OWN`; written last (release) by whoever hands the entry over.
    pub const W3: usize = 12;
}

/// The `OWN` bit of word 3.
pub const OWN: u32 = 1 << 31;

/// `BUF_ID` meaning "no buffer" in an RX completion.
pub const NO_BUFFER: u16 = 0xFFFF;

/// TX write-back `STATUS` values.
pub mod tx_status {
    pub const PENDING: u8 = 0;
    pub const SENT: u8 = 1;
    pub const FLUSHED: u8 = 2;
    pub const BAD_CONN: u8 = 3;
    pub const BAD_LEN: u8 = 4;
    pub const DMA_ERROR: u8 = 5;
}

/// RX completion `STATUS` values.
pub mod rx_status {
    pub const OK: u8 = 0;
    pub const CRC_ERROR: u8 = 1;
    pub const TOO_LONG: u8 = 2;
    pub const ABORTED: u8 = 3;
}

/// Event `TYPE` values.
pub mod ev_type {
    pub const CONN_CLOSED: u8 = 1;
    pub const LINK_CHANGE: u8 = 2;
}

bitfield! {
    /// TX descriptor word 2.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct TxLenConn(pub u32);
    impl Debug;
    pub u16, len, set_len: 15, 0;
    pub u16, conn, set_conn: 31, 16;
}

bitfield! {
    /// TX descriptor word 3.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct TxCtl(pub u32);
    impl Debug;
    /// A [`tx_status`] value (written back by the NIC).
    pub u8, status, set_status: 27, 24;
    pub eop, set_eop: 30;
    pub own, set_own: 31;
}

bitfield! {
    /// RX free-buffer descriptor word 2.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RxBufInfo(pub u32);
    impl Debug;
    pub u16, len, set_len: 15, 0;
    pub u16, buf_id, set_buf_id: 31, 16;
}

bitfield! {
    /// RX completion word 0.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RxcBuf(pub u32);
    impl Debug;
    pub u16, buf_id, set_buf_id: 15, 0;
    pub u16, conn, set_conn: 31, 16;
}

bitfield! {
    /// RX completion word 1.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RxcInfo(pub u32);
    impl Debug;
    pub u16, len, set_len: 15, 0;
    /// An [`rx_status`] value.
    pub u8, status, set_status: 19, 16;
    pub sop, set_sop: 20;
    pub eop, set_eop: 21;
}

bitfield! {
    /// RX completion word 2.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RxcTrailer(pub u32);
    impl Debug;
    pub u8, uu, set_uu: 7, 0;
    pub u8, cpi, set_cpi: 15, 8;
}

bitfield! {
    /// Event word 0.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct EvType(pub u32);
    impl Debug;
    /// An [`ev_type`] value.
    pub u8, kind, set_kind: 7, 0;
}

bitfield! {
    /// Event word 1.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct EvInfo(pub u32);
    impl Debug;
    pub u16, conn, set_conn: 15, 0;
    pub forced, set_forced: 16;
    pub link_up, set_link_up: 17;
}

/// A descriptor as four words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Desc(pub [u32; 4]);

impl Desc {
    /// From the 16 little-endian octets in memory.
    pub fn from_bytes(b: &[u8; DESC_LEN]) -> Desc {
        let mut w = [0u32; 4];
        for (i, chunk) in b.chunks_exact(4).enumerate() {
            let mut a = [0u8; 4];
            a.copy_from_slice(chunk);
            if let Some(slot) = w.get_mut(i) {
                *slot = u32::from_le_bytes(a);
            }
        }
        Desc(w)
    }

    /// To the 16 little-endian octets in memory.
    pub fn to_bytes(&self) -> [u8; DESC_LEN] {
        let mut b = [0u8; DESC_LEN];
        for (chunk, w) in b.chunks_exact_mut(4).zip(self.0) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    /// Words 0–1 as a 64-bit bus address.
    pub fn addr(&self) -> u64 {
        u64::from(self.0[0]) | (u64::from(self.0[1]) << 32)
    }

    /// Sets words 0–1.
    pub fn set_addr(&mut self, a: u64) {
        self.0[0] = a as u32;
        self.0[1] = (a >> 32) as u32;
    }

    /// Whether word 3 has `OWN`.
    pub fn own(&self) -> bool {
        self.0[3] & OWN != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_descriptor_bits_sit_where_the_datasheet_says() {
        let mut lc = TxLenConn(0);
        lc.set_len(0xFFFF);
        lc.set_conn(0x03FF);
        assert_eq!(lc.0, 0x03FF_FFFF);
        let mut c = TxCtl(0);
        c.set_own(true);
        assert_eq!(c.0, OWN);
        c.set_eop(true);
        c.set_status(tx_status::BAD_LEN);
        assert_eq!(c.0, 0xC400_0000);
        assert_eq!(TxCtl(0x4100_0000).status(), tx_status::SENT);
        assert!(!TxCtl(0x4100_0000).own() && TxCtl(0x4100_0000).eop());
    }

    #[test]
    fn rx_and_event_bits_sit_where_the_datasheet_says() {
        let mut i = RxcInfo(0);
        i.set_len(48);
        i.set_status(rx_status::ABORTED);
        i.set_sop(true);
        i.set_eop(true);
        assert_eq!(i.0, 0x0033_0030);
        let mut b = RxcBuf(0);
        b.set_buf_id(NO_BUFFER);
        b.set_conn(7);
        assert_eq!(b.0, 0x0007_FFFF);
        let mut e = EvInfo(0);
        e.set_conn(5);
        e.set_forced(true);
        e.set_link_up(true);
        assert_eq!(e.0, 0x0003_0005);
        let mut t = RxcTrailer(0);
        t.set_cpi(0xAA);
        t.set_uu(0x55);
        assert_eq!(t.0, 0xAA55);
        let mut rb = RxBufInfo(0);
        rb.set_buf_id(3);
        rb.set_len(2048);
        assert_eq!(rb.0, 0x0003_0800);
    }

    #[test]
    fn descriptor_bytes_are_little_endian_words_in_order() {
        let mut d = Desc::default();
        d.set_addr(0x1122_3344_5566_7788);
        d.0[2] = 0xAABB_CCDD;
        d.0[3] = OWN | 1;
        let b = d.to_bytes();
        assert_eq!(b[0..4], [0x88, 0x77, 0x66, 0x55]);
        assert_eq!(b[4..8], [0x44, 0x33, 0x22, 0x11]);
        assert_eq!(b[8..12], [0xDD, 0xCC, 0xBB, 0xAA]);
        assert_eq!(b[12..16], [0x01, 0, 0, 0x80]);
        assert_eq!(Desc::from_bytes(&b), d);
        assert!(d.own());
        assert_eq!(d.addr(), 0x1122_3344_5566_7788);
        // Negative: a big-endian reading would not round-trip.
        let mut be = b;
        be[12..16].reverse();
        assert!(!Desc::from_bytes(&be).own());
    }
}
