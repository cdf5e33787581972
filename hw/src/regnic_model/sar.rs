//! The model's TX and RX engines: descriptors it owns segmented into cells out of the PHY,
//! cells reassembled per connection into posted buffers and completions, and the closes that
//! finish once a connection's frames have left.

use super::*;

impl Model {
    // ---- TX engine -----------------------------------------------------------------------------

    /// Processes complete owned chains; `limit` frames (0 = all). Whether anything moved.
    pub(super) fn tx_engine(&mut self, limit: usize) -> bool {
        let mut frames = 0usize;
        while self.ctrl.enable() && (limit == 0 || frames < limit) {
            let ring = self.rings[R_TX];
            if ring.size == 0 || ring.cons == ring.prod {
                break;
            }
            let mut chain = Vec::new();
            let mut j = ring.cons;
            let mut complete = false;
            while j != ring.prod && chain.len() < ring.size as usize {
                let d = self.read_desc(R_TX, j);
                if !d.own() {
                    break;
                }
                chain.push((j, d));
                j = ring.next(j);
                if TxCtl(d.0[3]).eop() {
                    complete = true;
                    break;
                }
            }
            if !complete {
                break;
            }
            let conn = chain.first().map_or(0, |(_, d)| TxLenConn(d.0[2]).conn());
            let mut sdu = Vec::new();
            let mut dma_ok = true;
            for (_, d) in &chain {
                let len = usize::from(TxLenConn(d.0[2]).len());
                let start = sdu.len();
                sdu.resize(start + len, 0);
                dma_ok &= self.mem_read(d.addr(), &mut sdu[start..]);
            }
            self.table_work += 1;
            let entry = self.table.get(usize::from(conn));
            let consumed = self.tx_consumed;
            let sendable = entry.is_some_and(|e| match e.cfg.state() {
                conn_state::OPEN => true,
                conn_state::CLOSING => e.close_at > consumed,
                _ => false,
            });
            let status = if !self.link_up() {
                tx_status::FLUSHED
            } else if !sendable {
                tx_status::BAD_CONN
            } else if !dma_ok {
                tx_status::DMA_ERROR
            } else if sdu.is_empty() || sdu.len() > aal5::MAX_SDU_LEN {
                tx_status::BAD_LEN
            } else {
                tx_status::SENT
            };
            if status == tx_status::SENT
                && let Some(e) = entry
            {
                let (vpi, vci) = (e.vc.vpi(), e.vc.vci());
                self.segment(vpi, vci, &sdu);
                self.cnt.tx_pdus = self.cnt.tx_pdus.wrapping_add(1);
            }
            for (i, d) in &chain {
                let mut ctl = TxCtl(d.0[3]);
                ctl.set_own(false);
                ctl.set_status(status);
                self.write_word(self.rings[R_TX].desc_addr(*i) + desc::word::W3 as u64, ctl.0);
                if status != tx_status::SENT {
                    self.cnt.tx_flushed = self.cnt.tx_flushed.wrapping_add(1);
                }
                self.tx_consumed += 1;
            }
            self.rings[R_TX].cons = j;
            let mut b = IntBits(0);
            b.set_tx_done(true);
            self.raise(b);
            frames += 1;
        }
        frames > 0
    }

    /// AAL5-encapsulates `sdu` and queues its cells on the PHY (PTI 1 on the last).
    pub(super) fn segment(&mut self, vpi: u8, vci: u16, sdu: &[u8]) {
        let cells = crate::switch::segment(u16::from(vpi), vci, sdu).unwrap_or_default();
        self.cnt.tx_cells = self.cnt.tx_cells.wrapping_add(cells.len() as u32);
        self.phy_out.extend(cells);
    }

    /// Closes whose transmit side drained: the entry goes idle, CONN_CLOSED is written.
    pub(super) fn finish_closes(&mut self) -> bool {
        if self.stall_close {
            return false;
        }
        let forced = !self.link_up();
        let mut finished = false;
        // Drained closes are at the front of `closing`: only those are looked at.
        while let Some(&(at, conn)) = self.closing.first() {
            if at > self.tx_consumed {
                break;
            }
            // A close completes only when its event has an entry: it waits in CLOSING otherwise.
            let ev = self.rings[R_EV];
            if ev.size == 0 || !self.read_desc(R_EV, ev.prod).own() {
                break;
            }
            self.closing.pop_first();
            self.table_work += 1;
            finished = true;
            let i = usize::from(conn);
            let Some(e) = self.table.get_mut(i) else { continue };
            e.cfg.set_state(conn_state::IDLE);
            let key = (e.vc.vpi(), e.vc.vci());
            self.by_vc.remove(&key);
            let mut info = EvInfo(0);
            info.set_conn(i as u16);
            info.set_forced(forced);
            self.event(ev_type::CONN_CLOSED, info);
        }
        finished
    }

    // ---- RX engine -----------------------------------------------------------------------------

    pub(super) fn put_cell(&mut self, c: &Cell) {
        if !self.ctrl.enable() || !self.link_up() {
            return;
        }
        let Ok(p) = cell::Packet::new_checked(&c[..]) else {
            self.cnt.hec_errors = self.cnt.hec_errors.wrapping_add(1);
            return;
        };
        self.cnt.rx_cells = self.cnt.rx_cells.wrapping_add(1);
        let h = cell::Header::parse(&p);
        let conn = self.by_vc.get(&(h.vpi, h.vci)).copied();
        self.table_work += 1;
        let open = conn.is_some_and(|n| self.table[usize::from(n)].cfg.state() == conn_state::OPEN);
        let (Some(conn), true, false) = (conn, open, h.pti & cell::PTI_NON_USER != 0) else {
            self.cnt.rx_unknown = self.cnt.rx_unknown.wrapping_add(1);
            return;
        };
        let e = &mut self.table[usize::from(conn)];
        let max_sdu = e.max_sdu.max_sdu() as usize;
        if !e.too_long {
            e.reasm.extend_from_slice(p.payload());
            if e.reasm.len() > aal5::pdu_len(max_sdu) {
                e.too_long = true;
                e.reasm.clear();
            }
        }
        let partial = !e.reasm.is_empty() || e.too_long;
        if !h.is_end_of_frame() {
            if partial {
                self.reassembling.insert(conn);
            }
            return;
        }
        self.reassembling.remove(&conn);
        let pdu = std::mem::take(&mut e.reasm);
        let too_long = std::mem::replace(&mut e.too_long, false);
        let t = aal5::Trailer::new_unchecked(&pdu[..]);
        let (uu, cpi) = (t.uu(), t.cpi());
        let result = match (too_long, aal5::decapsulate(&pdu)) {
            (true, _) => Err(rx_status::TOO_LONG),
            (false, Ok(sdu)) if sdu.len() > max_sdu => Err(rx_status::TOO_LONG),
            (false, Ok(sdu)) => Ok(sdu),
            (false, Err(aal5::Aal5Error::BadCrc)) => Err(rx_status::CRC_ERROR),
            (false, Err(_)) => Err(rx_status::ABORTED),
        };
        match result {
            Ok(sdu) => {
                let sdu = sdu.to_vec();
                self.deliver(conn, &sdu, uu, cpi);
            }
            Err(status) => self.report_bad(conn, status),
        }
    }

    /// A good SDU into posted buffers (all or nothing), one completion per buffer.
    pub(super) fn deliver(&mut self, conn: u16, sdu: &[u8], uu: u8, cpi: u8) {
        let rxb = self.rings[R_RXB];
        let rxc = self.rings[R_RXC];
        // Buffers needed, walking the posted ones.
        let mut bufs = Vec::new();
        let mut room = 0usize;
        let mut i = rxb.cons;
        while room < sdu.len() && i != rxb.prod && rxb.size != 0 && bufs.len() < rxb.size as usize {
            let d = self.read_desc(R_RXB, i);
            if !d.own() {
                break;
            }
            let info = RxBufInfo(d.0[2]);
            if info.len() == 0 {
                break;
            }
            room += usize::from(info.len());
            bufs.push((i, d));
            i = rxb.next(i);
        }
        // Completion entries free (NIC-owned) for every buffer.
        let mut entries_ok = rxc.size as usize >= bufs.len() && rxc.size != 0;
        let mut k = rxc.prod;
        for _ in 0..bufs.len() {
            entries_ok &= self.read_desc(R_RXC, k).own();
            k = rxc.next(k);
        }
        if room < sdu.len() || !entries_ok {
            self.cnt.rx_dropped = self.cnt.rx_dropped.wrapping_add(1);
            let mut b = IntBits(0);
            b.set_rx_no_buffer(true);
            self.raise(b);
            return;
        }
        let mut off = 0usize;
        let n = bufs.len();
        for (k, (slot, d)) in bufs.into_iter().enumerate() {
            let info = RxBufInfo(d.0[2]);
            let take = usize::from(info.len()).min(sdu.len() - off);
            self.mem_write(d.addr(), &sdu[off..off + take]);
            off += take;
            // The free-ring entry goes back to the driver.
            self.write_word(self.rings[R_RXB].desc_addr(slot) + desc::word::W3 as u64, 0);
            let mut w0 = RxcBuf(0);
            w0.set_buf_id(info.buf_id());
            w0.set_conn(conn);
            let mut w1 = RxcInfo(0);
            w1.set_len(take as u16);
            w1.set_status(rx_status::OK);
            w1.set_sop(k == 0);
            w1.set_eop(k + 1 == n);
            let mut w2 = RxcTrailer(0);
            w2.set_uu(uu);
            w2.set_cpi(cpi);
            let at = self.rings[R_RXC].prod;
            self.write_desc(R_RXC, at, &Desc([w0.0, w1.0, w2.0, 0]));
            self.rings[R_RXC].prod = rxc.next(at);
        }
        self.rings[R_RXB].cons = i;
        self.cnt.rx_pdus = self.cnt.rx_pdus.wrapping_add(1);
        let mut b = IntBits(0);
        b.set_rx_done(true);
        self.raise(b);
    }

    /// A bad PDU: counted, and one buffer-less completion with the error status.
    pub(super) fn report_bad(&mut self, conn: u16, status: u8) {
        self.cnt.rx_dropped = self.cnt.rx_dropped.wrapping_add(1);
        if status == rx_status::CRC_ERROR {
            self.cnt.crc_errors = self.cnt.crc_errors.wrapping_add(1);
        }
        let rxc = self.rings[R_RXC];
        if rxc.size == 0 || !self.read_desc(R_RXC, rxc.prod).own() {
            return;
        }
        let mut w0 = RxcBuf(0);
        w0.set_buf_id(NO_BUFFER);
        w0.set_conn(conn);
        let mut w1 = RxcInfo(0);
        w1.set_status(status);
        w1.set_sop(true);
        w1.set_eop(true);
        self.write_desc(R_RXC, rxc.prod, &Desc([w0.0, w1.0, 0, 0]));
        self.rings[R_RXC].prod = rxc.next(rxc.prod);
        let mut b = IntBits(0);
        b.set_rx_done(true);
        self.raise(b);
    }
}
