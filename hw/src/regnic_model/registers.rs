//! The model's register file: reads, writes (doorbells, masks, the PHY and coalescing
//! registers) and the command interface that opens and closes connections.

use super::*;

impl Model {
    // ---- registers -----------------------------------------------------------------------------

    pub(super) fn ring_reg(off: u32) -> Option<(usize, u32)> {
        [regs::TX, regs::RXB, regs::RXC, regs::EV]
            .iter()
            .enumerate()
            .find_map(|(i, r)| (r.base_lo..=r.cons).contains(&off).then(|| (i, off - r.base_lo)))
    }

    pub(super) fn conn_of(&self, off: u32) -> Option<(usize, u32)> {
        let end = regs::CONN_TABLE + self.table.len() as u32 * regs::CONN_ENTRY_LEN;
        (regs::CONN_TABLE..end).contains(&off).then(|| {
            let rel = off - regs::CONN_TABLE;
            ((rel / regs::CONN_ENTRY_LEN) as usize, rel % regs::CONN_ENTRY_LEN)
        })
    }

    pub(super) fn read32(&self, off: u32) -> u32 {
        if self.removed {
            return u32::MAX;
        }
        let c = &self.cnt;
        match off {
            regs::ID => regs::ID_VALUE,
            regs::CTRL => self.ctrl.0 & !1,
            regs::STATUS => {
                let mut s = Status(0);
                s.set_enabled(self.ctrl.enable());
                s.set_link_up(self.link_up());
                s.0
            }
            regs::INT_STATUS => self.int_status,
            regs::INT_MASK => self.int_mask,
            regs::INT_COALESCE => self.coalesce.0,
            regs::PHY_STATUS => {
                let mut p = PhyStatus(0);
                p.set_los(self.los);
                p.set_lof(self.lof);
                p.set_link_up(self.link_up());
                p.0
            }
            regs::CONN_COUNT => self.table.len() as u32,
            regs::CMD_STATUS => self.cmd_status.0,
            regs::CNT_TX_CELLS => c.tx_cells,
            regs::CNT_RX_CELLS => c.rx_cells,
            regs::CNT_HEC_ERRORS => c.hec_errors,
            regs::CNT_CRC_ERRORS => c.crc_errors,
            regs::CNT_RX_DROPPED => c.rx_dropped,
            regs::CNT_TX_PDUS => c.tx_pdus,
            regs::CNT_RX_PDUS => c.rx_pdus,
            regs::CNT_RX_UNKNOWN => c.rx_unknown,
            regs::CNT_TX_FLUSHED => c.tx_flushed,
            _ => {
                if let Some((r, w)) = Self::ring_reg(off) {
                    let ring = self.rings[r];
                    return match w {
                        0x0 => ring.base as u32,
                        0x4 => (ring.base >> 32) as u32,
                        0x8 => ring.size,
                        0xC => ring.prod,
                        0x10 => ring.cons,
                        _ => 0,
                    };
                }
                if let Some((n, w)) = self.conn_of(off) {
                    let e = &self.table[n];
                    return match w {
                        regs::conn_word::VC => e.vc.0,
                        regs::conn_word::CFG => e.cfg.0,
                        regs::conn_word::PCR => e.pcr,
                        regs::conn_word::MAX_SDU => e.max_sdu.0,
                        _ => 0,
                    };
                }
                0
            }
        }
    }

    pub(super) fn write32(&mut self, off: u32, v: u32) {
        if self.removed {
            return;
        }
        match off {
            regs::CTRL => {
                let c = Ctrl(v);
                if c.reset() {
                    self.reset();
                } else {
                    self.ctrl = c;
                }
            }
            regs::INT_STATUS => {
                self.int_status &= !v;
                self.occurrences = 0;
                self.pending_ticks = 0;
            }
            regs::INT_MASK => self.int_mask = v & IntBits::ALL.0,
            regs::INT_COALESCE => self.coalesce = Coalesce(v & 0x00FF_FFFF),
            regs::CMD => self.command(Cmd(v)),
            _ => {
                if let Some((r, w)) = Self::ring_reg(off) {
                    let ring = &mut self.rings[r];
                    let mask = ring.size.saturating_sub(1);
                    match (w, r) {
                        (0x0, _) => ring.base = (ring.base & !0xFFFF_FFFF) | u64::from(v),
                        (0x4, _) => ring.base = (ring.base & 0xFFFF_FFFF) | (u64::from(v) << 32),
                        (0x8, _) if v.is_power_of_two() && v <= regs::MAX_RING => {
                            ring.size = v;
                            ring.prod = 0;
                            ring.cons = 0;
                        }
                        // The driver's side of each ring.
                        (0xC, R_TX | R_RXB) => ring.prod = v & mask,
                        (0x10, R_RXC | R_EV) => ring.cons = v & mask,
                        _ => {}
                    }
                    return;
                }
                if let Some((n, w)) = self.conn_of(off) {
                    let e = &mut self.table[n];
                    if e.cfg.state() != conn_state::IDLE {
                        return;
                    }
                    match w {
                        regs::conn_word::VC => e.vc = ConnVc(v & 0x00FF_FFFF),
                        regs::conn_word::CFG => e.cfg = ConnCfg(v & 0x1F),
                        regs::conn_word::PCR => e.pcr = v,
                        regs::conn_word::MAX_SDU => e.max_sdu = ConnMaxSdu(v & 0x1_FFFF),
                        _ => {}
                    }
                }
            }
        }
    }

    pub(super) fn command(&mut self, c: Cmd) {
        let n = usize::from(c.conn());
        self.table_work += 1;
        let result = match (c.op(), self.table.get(n).map(|e| e.cfg.state())) {
            // No such entry.
            (_, None) => cmd_result::BAD_CONN,
            // OPEN an idle entry: parameters, then the VPI/VCI must be free.
            (op::OPEN, Some(conn_state::IDLE)) => {
                let e = &self.table[n];
                let key = (e.vc.vpi(), e.vc.vci());
                let sdu = e.max_sdu.max_sdu();
                if e.cfg.aal() != regs::AAL5 || sdu == 0 || sdu > 65_535 {
                    cmd_result::BAD_PARAM
                } else if let std::collections::hash_map::Entry::Vacant(v) = self.by_vc.entry(key) {
                    v.insert(c.conn());
                    let e = &mut self.table[n];
                    e.cfg.set_state(conn_state::OPEN);
                    e.reasm.clear();
                    e.too_long = false;
                    self.reassembling.remove(&c.conn());
                    cmd_result::OK
                } else {
                    cmd_result::VC_IN_USE
                }
            }
            // CLOSE an open entry: receive stops now, transmit drains what is posted.
            (op::CLOSE, Some(conn_state::OPEN)) => {
                let tx = self.rings[R_TX];
                let posted = if tx.size == 0 { 0 } else { (tx.prod + tx.size - tx.cons) % tx.size };
                let close_at = self.tx_consumed + u64::from(posted);
                let e = &mut self.table[n];
                e.cfg.set_state(conn_state::CLOSING);
                e.close_at = close_at;
                if !e.reasm.is_empty() || e.too_long {
                    self.cnt.rx_dropped = self.cnt.rx_dropped.wrapping_add(1);
                }
                e.reasm.clear();
                e.too_long = false;
                self.reassembling.remove(&c.conn());
                self.closing.insert((close_at, c.conn()));
                cmd_result::OK
            }
            // Anything else: wrong state or unknown opcode.
            _ => cmd_result::BAD_CONN,
        };
        let mut s = CmdStatus(0);
        s.set_result(result);
        self.cmd_status = s;
    }
}
