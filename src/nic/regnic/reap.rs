//! The DPC side of [`RegNic`]: reaping the TX, RX completion and event rings and the local closes,
//! and reposting RX buffers.

use super::*;

impl<B: Bus, R: RawMutex + Send + Sync> RegNic<B, R> {
    /// Hands RX buffer `id` to the NIC at the next free-ring slot (no doorbell).
    pub(super) fn post_rx(&self, dp: &mut DataPath, id: u16) {
        let rg = &self.regions;
        let Some(addr) = rg.rxb.bus_at(usize::from(id) * self.cfg.rx_buf as usize) else {
            return;
        };
        let base = (dp.rxb_prod & (self.cfg.rx_ring - 1)) as usize * DESC_LEN;
        let mut info = RxBufInfo(0);
        info.set_len(self.cfg.rx_buf as u16);
        info.set_buf_id(id);
        let b = &self.bus;
        let _ = b.dma_write32(&rg.rxbd, base + desc::word::W0, addr as u32);
        let _ = b.dma_write32(&rg.rxbd, base + desc::word::W1, (addr >> 32) as u32);
        let _ = b.dma_write32(&rg.rxbd, base + desc::word::W2, info.0);
        let _ = b.dma_write32_release(&rg.rxbd, base + desc::word::W3, OWN);
        dp.rxb_prod = dp.rxb_prod.wrapping_add(1);
    }

    /// Reaps written-back TX descriptors; one `Transmitted` per frame, at most `limit`.
    pub(super) fn reap_tx(&self, dp: &mut DataPath, limit: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        let mut n = 0;
        while dp.tx_clean != dp.tx_prod && n < limit {
            let idx = (dp.tx_clean & (self.cfg.tx_ring - 1)) as usize;
            let ctl = TxCtl(self.bus.dma_read32_acquire(&self.regions.txd, idx * DESC_LEN + desc::word::W3));
            if ctl.own() {
                break;
            }
            if ctl.status() != tx_status::SENT {
                dp.tx_frame_failed = true;
            }
            dp.tx_clean = dp.tx_clean.wrapping_add(1);
            let sh = dp.tx_shadow.get(idx).copied().unwrap_or_default();
            if sh.eop {
                let sent = !dp.tx_frame_failed;
                dp.tx_frame_failed = false;
                bump(if sent { &self.stats.tx_frames } else { &self.stats.tx_failed });
                sink(DeviceEvent::Transmitted { conn: ConnId(sh.conn), cookie: TxCookie(sh.cookie), sent });
                n += 1;
            }
        }
        n
    }

    /// Reaps RX completions; one `Received` per good SDU, at most `limit`.
    pub(super) fn reap_rx(&self, dp: &mut DataPath, limit: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        let rg = self.regions;
        let b = &self.bus;
        let nbufs = self.cfg.rx_ring - 1;
        let start = dp.rxc_next;
        let mut n = 0;
        while n < limit {
            let base = (dp.rxc_next & (self.cfg.rxc_ring - 1)) as usize * DESC_LEN;
            if b.dma_read32_acquire(&rg.rxc, base + desc::word::W3) & OWN != 0 {
                break;
            }
            let w0 = RxcBuf(b.dma_read32_acquire(&rg.rxc, base + desc::word::W0));
            let info = RxcInfo(b.dma_read32_acquire(&rg.rxc, base + desc::word::W1));
            if info.sop() {
                dp.rx_fill = 0;
                dp.rx_bad = false;
                dp.rx_conn = w0.conn();
            }
            match info.status() {
                rx_status::OK => {}
                rx_status::CRC_ERROR => bump(&self.stats.rx_crc_errors),
                rx_status::TOO_LONG => bump(&self.stats.rx_too_long),
                _ => bump(&self.stats.rx_aborted),
            }
            if info.status() != rx_status::OK || w0.conn() != dp.rx_conn {
                dp.rx_bad = true;
            }
            let id = w0.buf_id();
            let buffer = (id != NO_BUFFER).then_some(id);
            if let Some(id) = buffer {
                let len = usize::from(info.len());
                let end = dp.rx_fill.checked_add(len);
                let src_off = usize::from(id) * self.cfg.rx_buf as usize;
                let fits = u32::from(id) < nbufs && len <= self.cfg.rx_buf as usize;
                match (fits, end.and_then(|e| dp.scratch.get_mut(dp.rx_fill..e))) {
                    (true, Some(dst)) if !dp.rx_bad => {
                        if b.dma_read(&rg.rxb, src_off, dst).is_err() {
                            dp.rx_bad = true;
                        }
                        dp.rx_fill = end.unwrap_or(dp.rx_fill);
                    }
                    (_, _) if dp.rx_bad => {}
                    _ => {
                        bump(&self.stats.rx_malformed);
                        dp.rx_bad = true;
                    }
                }
            }
            if info.eop()
                && !dp.rx_bad
                && let Some(frame) = dp.scratch.get(..dp.rx_fill)
            {
                {
                    bump(&self.stats.rx_frames);
                    sink(DeviceEvent::Received { conn: ConnId(dp.rx_conn), frame });
                    n += 1;
                }
            }
            // The buffer goes back after the sink returned (its octets were copied anyway).
            if let Some(id) = buffer.filter(|&id| u32::from(id) < nbufs) {
                self.post_rx(dp, id);
            }
            let _ = b.dma_write32_release(&rg.rxc, base + desc::word::W3, OWN);
            dp.rxc_next = dp.rxc_next.wrapping_add(1);
        }
        if dp.rxc_next != start {
            b.write32(regs::RXC.cons, dp.rxc_next & (self.cfg.rxc_ring - 1));
            b.write32(regs::RXB.prod, dp.rxb_prod & (self.cfg.rx_ring - 1));
        }
        n
    }

    /// Reads the event ring; `ConnectionClosed` only after that connection's TX completions.
    pub(super) fn reap_events(&self, dp: &mut DataPath, limit: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        let rg = self.regions;
        let b = &self.bus;
        let start = dp.ev_next;
        let mut n = 0;
        while n < limit {
            let base = (dp.ev_next & (self.cfg.ev_ring - 1)) as usize * DESC_LEN;
            if b.dma_read32_acquire(&rg.ev, base + desc::word::W3) & OWN != 0 {
                break;
            }
            let kind = EvType(b.dma_read32_acquire(&rg.ev, base + desc::word::W0)).kind();
            let info = EvInfo(b.dma_read32_acquire(&rg.ev, base + desc::word::W1));
            match kind {
                ev_type::CONN_CLOSED => {
                    // The NIC wrote every descriptor of this connection back before the event:
                    // report those first.
                    n += self.reap_tx(dp, limit.saturating_sub(n), sink);
                    if n >= limit {
                        break;
                    }
                    bump(&self.stats.events);
                    sink(DeviceEvent::ConnectionClosed { conn: ConnId(info.conn()), forced: info.forced() });
                    n += 1;
                    if let Some(c) = self.conns.get(usize::from(info.conn()))
                        && c.swap(cs::FREE, Ordering::AcqRel) != cs::FREE
                    {
                        self.freed.mark(usize::from(info.conn()));
                    }
                }
                ev_type::LINK_CHANGE => {
                    bump(&self.stats.events);
                    sink(DeviceEvent::Link { up: info.link_up() });
                    n += 1;
                }
                _ => {}
            }
            let _ = b.dma_write32_release(&rg.ev, base + desc::word::W3, OWN);
            dp.ev_next = dp.ev_next.wrapping_add(1);
        }
        if dp.ev_next != start {
            b.write32(regs::EV.cons, dp.ev_next & (self.cfg.ev_ring - 1));
        }
        n
    }

    /// Closes the NIC refused: reported closed (forced), once.
    pub(super) fn reap_local_closes(&self, limit: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        let mut n = 0;
        self.close_local.take_all(|i| {
            if n >= limit {
                // Over budget: left for the next poll (a mark made here is not seen by this take).
                self.close_local.mark(i);
                return;
            }
            let Some(c) = self.conns.get(i) else { return };
            if c.compare_exchange(cs::CLOSE_LOCAL, cs::FREE, Ordering::AcqRel, Ordering::Acquire).is_err() {
                return;
            }
            self.freed.mark(i);
            sink(DeviceEvent::ConnectionClosed { conn: ConnId(i as u16), forced: true });
            n += 1;
        });
        n
    }
}
