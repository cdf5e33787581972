//! The interrupt DPC and the adapter timer: NIC events, signalling PDUs, receive indications.

use super::*;

impl<N: Ndis, D: Device> Adapter<N, D> {
    /// The interrupt DPC (and any DPC requested with `Ndis::request_dpc`).
    pub fn dpc(&self) {
        if self.halted.load(Ordering::Acquire) {
            return;
        }
        self.dpc_again.store(true, Ordering::SeqCst);
        loop {
            let Some(mut st) = self.dpc_state.try_lock() else { return };
            self.dpc_again.store(false, Ordering::SeqCst);
            self.dpc_body(&mut st);
            drop(st);
            if !self.dpc_again.load(Ordering::SeqCst) {
                break;
            }
        }
        // The next step of an expired T309's clearing (`Control::continue_clearing`).
        if self.clearing.swap(false, Ordering::AcqRel) {
            self.with_control(|c| self.clear_step(c));
        }
        self.after_control();
    }

    /// One step of an expired T309's clearing; another DPC is asked for while calls are left.
    pub(super) fn clear_step(&self, c: &mut Control<N>) {
        if c.continue_clearing(self, crate::uni::timers::CLEAR_STEP) {
            self.more_clearing();
        }
    }

    /// An expired T309 has calls left to clear: the next DPC takes a step.
    fn more_clearing(&self) {
        self.clearing.store(true, Ordering::Release);
        self.ndis.request_dpc();
    }

    /// The adapter timer fired.
    pub fn timer(&self) {
        if self.halted.load(Ordering::Acquire) {
            return;
        }
        self.armed.store(u64::MAX, Ordering::Release);
        let now = self.ndis.now();
        // NIC closes past their deadline: the DPC forces them (it owns the list of closes).
        if self.drain_deadline.load(Ordering::Acquire) <= ticks(now) {
            self.drain_deadline.store(u64::MAX, Ordering::Release);
            self.drain_overdue.store(true, Ordering::Release);
            self.ndis.request_dpc();
        }
        let mut inbox = SigInbox::new();
        self.with_control(|c| {
            c.saal.on_timer(now, &mut |pdu: &[u8]| self.sig_transmit(pdu), &mut |e| inbox.collect(e));
            self.deliver(c, &inbox);
            c.on_timer(self);
            if c.clearing.is_some() {
                self.more_clearing();
            }
        });
        self.after_control();
    }

    pub(super) fn deliver(&self, c: &mut Control<N>, inbox: &SigInbox) {
        c.stats.messages_lost += inbox.stray;
        if inbox.released {
            c.on_saal_released(self);
            self.reestablish(c);
        }
        if inbox.established {
            c.on_saal_established(self);
        }
        // Credit may have come back (or the link up): messages waiting in the backlog go.
        c.pump_backlog(self);
    }

    pub(super) fn dpc_body(&self, st: &mut DpcState) {
        let sig = self.sig_conn.load(Ordering::Acquire);
        // 1. NIC events: receives, transmit completions, closes, link.
        let mut phy: Option<bool> = None;
        let mut room = false;
        loop {
            let mut sink = |ev: DeviceEvent<'_>| match ev {
                DeviceEvent::Received { conn, frame } if u32::from(conn.0) == sig => self.signalling_pdu(st, frame),
                DeviceEvent::Received { conn, frame } => self.receive(st, conn, frame),
                DeviceEvent::Transmitted { cookie, .. } if cookie.0 == SIG_COOKIE => room = true,
                DeviceEvent::Transmitted { conn, sent, .. } => {
                    room = true;
                    self.transmitted(st, conn, sent)
                }
                DeviceEvent::ConnectionClosed { conn, .. } => {
                    room = true;
                    // Every transmit of the connection was reported before this: its ring and
                    // in-flight queue are empty and go back to the pool.
                    self.release_ring(conn, self.conn_map.get(conn));
                    if let Some(slot) = self.conn_map.get(conn) {
                        self.conn_map.set(conn, None);
                        if let Some(p) = self.paths.get(slot) {
                            p.flags.fetch_or(flag::NIC_CLOSED, Ordering::AcqRel);
                            p.conn.store(NONE, Ordering::Release);
                            p.close_deadline.store(0, Ordering::Release);
                        }
                        st.closing.remove(slot);
                        self.teardown.mark(slot);
                    }
                }
                DeviceEvent::Link { up } => phy = Some(up),
            };
            let handled = self.device.poll(POLL_BUDGET, &mut sink);
            self.flush_rx(st);
            if handled < POLL_BUDGET {
                break;
            }
        }
        if let Some(up) = phy {
            self.phy_change(up);
        }
        // 2. Transmit: signalling first, then queued NBLs; frames left the NIC, so every VC that
        // found its ring full goes again.
        if room {
            st.wake_waiting(|slot| {
                self.tx_ready.mark(slot);
            });
        }
        self.flush_sig(st);
        self.tx_ready.take_all(|slot| self.pump_tx(st, slot));
        self.flush_tx(st);
        // 3. Teardown: abort what is still queued, close the NIC connection, report drained VCs.
        if self.drain_overdue.swap(false, Ordering::AcqRel) {
            // Overdue closes sit at the front of the list (deadline order): mark those.
            let now = ticks(self.ndis.now());
            let mut at = st.closing.front();
            while let Some(slot) = at {
                let due = self.paths.get(slot).map_or(0, |p| p.close_deadline.load(Ordering::Acquire));
                if due > now {
                    self.drain_deadline.fetch_min(due, Ordering::AcqRel);
                    break;
                }
                self.teardown.mark(slot);
                at = st.closing.after(slot);
            }
        }
        self.teardown.take_all(|slot| self.step_teardown(st, slot));
        self.flush_tx(st);
        self.flush_rx(st);
    }

    /// One SSCOP PDU from 0/5: through the SAAL, then every message it releases to Q.2931, in
    /// order, before the next PDU.
    pub(super) fn signalling_pdu(&self, st: &mut DpcState, pdu: &[u8]) {
        let now = self.ndis.now();
        let DpcState { scratch, sig_inbox, .. } = st;
        let (mut established, mut released, mut lost) = (false, false, 0u64);
        let mut c = self.control.lock();
        c.saal.receive(now, pdu, &mut |p: &[u8]| self.sig_transmit(p), &mut |e| match e {
            SaalEvent::Established => established = true,
            SaalEvent::Released { .. } => released = true,
            SaalEvent::Data(m) => {
                if sig_inbox.push(m).is_err() {
                    lost += 1;
                }
            }
        });
        c.stats.messages_lost += lost;
        if released {
            c.on_saal_released(self);
            self.reestablish(&mut c);
        }
        if established {
            c.on_saal_established(self);
        }
        while let Some(n) = sig_inbox.peek(scratch) {
            if let Some(m) = scratch.get(..n) {
                c.on_message(self, m);
            }
            sig_inbox.pop();
        }
        c.pump_backlog(self);
    }

    /// A received frame: copied into a receive NBL and gathered for its VC's indication.
    pub(super) fn receive(&self, st: &mut DpcState, conn: ConnId, frame: &[u8]) {
        let n = &self.ndis;
        let Some(slot) = self.conn_map.get(conn) else {
            DataStats::bump(&self.stats.rx_dropped, 1);
            return;
        };
        let Some(p) = self.paths.get(slot) else { return };
        if p.rundown.is_closing() {
            DataStats::bump(&self.stats.rx_dropped, 1);
            return;
        }
        let generation = p.generation.load(Ordering::Acquire);
        let tag = Token::new(slot, generation).map_or(0, Token::as_usize);
        let Some(nbl) = n.rx_nbl_alloc(tag, frame) else {
            DataStats::bump(&self.stats.rx_dropped, 1);
            return;
        };
        n.nbl_set_next(nbl, None);
        Self::chain_push(n, &mut st.rx_ready, &mut st.rx_touched, slot, nbl);
    }
}
