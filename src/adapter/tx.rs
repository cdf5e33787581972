//! Transmit side of the DPC: pumping rings to the NIC, completions, and VC teardown steps.

use super::*;
use crate::ring::SendConsumer;

/// What the pump does after one NBL.
enum TxNext {
    /// Next NBL.
    Go,
    /// The NIC had no room for any of it: park it (it goes first next time) and stop.
    Park,
    /// The NIC took part of it and is full: stop.
    Stop,
}

impl<N: Ndis, D: Device> Adapter<N, D> {
    /// Appends `nbl` to slot's chain; remembers the slot when its chain was empty.
    pub(super) fn chain_push(
        n: &N,
        chains: &mut [Chain],
        touched: &mut alloc::vec::Vec<u16>,
        slot: usize,
        nbl: N::Nbl,
    ) {
        let Some(c) = chains.get_mut(slot) else { return };
        let w = nbl.to_word();
        if c.count == 0 {
            *c = Chain { head: w, tail: w, count: 1 };
            if touched.len() < touched.capacity() {
                touched.push(slot as u16);
            }
        } else {
            n.nbl_set_next(N::Nbl::from_word(c.tail), Some(nbl));
            c.tail = w;
            c.count += 1;
        }
    }

    /// One NdisMCoIndicateReceiveNetBufferLists per VC for what this poll gathered — unless the
    /// VC's close began meanwhile: then the NBLs go back to the pool unindicated.
    pub(super) fn flush_rx(&self, st: &mut DpcState) {
        let n = &self.ndis;
        for slot in st.rx_touched.drain(..) {
            let slot = usize::from(slot);
            let Some(c) = st.rx_ready.get_mut(slot).map(core::mem::take) else { continue };
            if c.count == 0 {
                continue;
            }
            let Some(p) = self.paths.get(slot) else { continue };
            if !p.rundown.try_acquire() {
                let mut next = Some(N::Nbl::from_word(c.head));
                while let Some(nbl) = next {
                    next = n.nbl_next(nbl);
                    n.rx_nbl_free(nbl);
                }
                DataStats::bump(&self.stats.rx_dropped, u64::from(c.count));
                continue;
            }
            p.rx_outstanding.fetch_add(c.count, Ordering::AcqRel);
            p.rx_cpu.store(n.current_cpu(), Ordering::Release);
            let handle = N::VcHandle::from_word(p.handle.load(Ordering::Acquire));
            n.co_indicate_receive_net_buffer_lists(
                handle,
                N::Nbl::from_word(c.head),
                c.count,
                receive_flags::DISPATCH_LEVEL,
            );
            p.rx_cpu.store(NONE, Ordering::Release);
            DataStats::bump(&self.stats.rx_indicated, u64::from(c.count));
            if p.rundown.release() {
                self.teardown.mark(slot);
            }
        }
    }

    /// One NdisMCoSendNetBufferListsComplete per VC for what this run completed (the run's
    /// counters reach [`DataStats`] first). A completion on a VC being torn down marks its
    /// teardown step again: it may be the last thing the drain waited for.
    pub(super) fn flush_tx(&self, st: &mut DpcState) {
        let n = &self.ndis;
        self.flush_counts(st);
        for slot in st.tx_touched.drain(..) {
            let slot = usize::from(slot);
            // Emptied by its count alone (`chain_push` rewrites head and tail of an empty chain).
            let Some(c) = st.tx_done.get_mut(slot) else { continue };
            let (head, count) = (c.head, core::mem::take(&mut c.count));
            if count == 0 {
                continue;
            }
            let Some(p) = self.paths.get(slot) else { continue };
            let handle = N::VcHandle::from_word(p.handle.load(Ordering::Acquire));
            n.co_send_net_buffer_lists_complete(handle, N::Nbl::from_word(head), send_complete_flags::DISPATCH_LEVEL);
            if p.flags.load(Ordering::Acquire) & flag::TEARDOWN != 0 {
                self.teardown.mark(slot);
            }
        }
    }

    /// Adds the run's counters to [`DataStats`]: one atomic add per counter that moved.
    fn flush_counts(&self, st: &mut DpcState) {
        let c = core::mem::take(&mut st.counts);
        for (stat, v) in [
            (&self.stats.tx_accepted, c.accepted),
            (&self.stats.tx_completed_ok, c.completed_ok),
            (&self.stats.tx_completed_failed, c.completed_failed),
            (&self.stats.tx_aborted, c.aborted),
        ] {
            if v > 0 {
                DataStats::bump(stat, v);
            }
        }
    }

    pub(super) fn transmitted(&self, st: &mut DpcState, conn: ConnId, sent: bool) {
        let Some(slot) = self.conn_map.get(conn) else { return };
        let ri = self.paths.get(slot).map_or(usize::MAX, |p| p.ring.load(Ordering::Acquire) as usize);
        let Some(front) = st.inflight.front_mut(ri) else { return };
        front.frames_left = front.frames_left.saturating_sub(1);
        front.failed |= !sent;
        if front.frames_left > 0 {
            return;
        }
        // A full queue is the one reason the pump stops with NBLs left that nobody else restarts
        // (an empty ring waits for its sender's mark, a full NIC for `wake_waiting`): the first
        // completion that makes room marks the VC ready again.
        let was_full = st.inflight.is_full(ri);
        let Some(done) = st.inflight.pop_front(ri) else { return };
        let status = if done.failed { NdisStatus::FAILURE } else { NdisStatus::SUCCESS };
        self.complete_one(st, slot, done.nbl, status);
        if was_full {
            self.tx_ready.mark(slot);
        }
    }

    /// Sets the NBL's final status and gathers it for its VC's completion (`flush_tx`).
    pub(super) fn complete_one(&self, st: &mut DpcState, slot: usize, nbl_word: usize, status: NdisStatus) {
        let n = &self.ndis;
        let nbl = N::Nbl::from_word(nbl_word);
        n.nbl_set_status(nbl, status);
        n.nbl_set_next(nbl, None);
        match status {
            NdisStatus::SUCCESS => st.counts.completed_ok += 1,
            NdisStatus::SEND_ABORTED => st.counts.aborted += 1,
            _ => st.counts.completed_failed += 1,
        }
        Self::chain_push(n, &mut st.tx_done, &mut st.tx_touched, slot, nbl);
    }

    /// Hands a VC's queued NBLs to the NIC, oldest first, while its in-flight queue has room.
    /// The common visit (open VC, nothing parked) takes the lean path below; a VC being torn
    /// down, without a NIC connection or with an NBL parked goes through `pump_tx_slow`.
    #[inline]
    pub(super) fn pump_tx(&self, st: &mut DpcState, slot: usize) {
        let Some(p) = self.paths.get(slot) else { return };
        let tearing = p.flags.load(Ordering::Acquire) & flag::TEARDOWN != 0;
        let conn = p.conn.load(Ordering::Acquire);
        let ri = p.ring.load(Ordering::Acquire) as usize;
        if tearing || conn == NONE || st.is_parked(slot) {
            self.pump_tx_slow(st, slot, tearing, conn, ri);
            return;
        }
        let Some(ring) = self.rings.get(ri) else { return };
        // SAFETY: the DPC is every pool ring's one consumer: pump_tx and step_teardown, the only
        // code that takes from a send ring, run in the DPC with `dpc_state` locked (`st`).
        let mut consumer = unsafe { ring.consumer_unchecked() };
        // What senders had claimed when the pump began is what it pops (no pop to find the ring
        // empty: a VC visited for one NBL, as in round robin, pays one pop): an NBL claimed later
        // has its VC marked ready again by its sender.
        let mut queued = consumer.claimed();
        while queued > 0 && st.inflight.has_room(ri) {
            queued -= 1;
            let Some(word) = consumer.pop() else { break };
            st.counts.accepted += 1;
            match self.transmit_nbl(st, slot, conn, ri, word) {
                TxNext::Go => {}
                TxNext::Park => {
                    st.park(slot, word);
                    break;
                }
                TxNext::Stop => break,
            }
        }
    }

    /// `pump_tx` for a VC being torn down or without a NIC connection (what it takes from the
    /// ring completes as aborted), or with an NBL parked (which goes first).
    #[cold]
    #[inline(never)]
    fn pump_tx_slow(&self, st: &mut DpcState, slot: usize, tearing: bool, conn: u32, ri: usize) {
        // SAFETY: as in `pump_tx`: the DPC, holding `dpc_state`, is the ring's only consumer.
        let mut consumer = self.rings.get(ri).map(|r| unsafe { r.consumer_unchecked() });
        let mut queued = consumer.as_ref().map_or(0, SendConsumer::claimed);
        let mut parked = st.take_parked(slot);
        loop {
            if queued == 0 && parked.is_none() {
                break;
            }
            if !tearing && !st.inflight.has_room(ri) {
                break;
            }
            let word = match parked.take() {
                Some(w) => w,
                None => {
                    let Some(q) = queued.checked_sub(1) else { break };
                    queued = q;
                    match consumer.as_mut().and_then(SendConsumer::pop) {
                        Some(w) => {
                            st.counts.accepted += 1;
                            w
                        }
                        None => break,
                    }
                }
            };
            if tearing || conn == NONE {
                // Queued but never on the wire: it completes with a failure status.
                self.complete_one(st, slot, word, NdisStatus::SEND_ABORTED);
                continue;
            }
            match self.transmit_nbl(st, slot, conn, ri, word) {
                TxNext::Go => {}
                TxNext::Park => {
                    parked = Some(word);
                    break;
                }
                TxNext::Stop => break,
            }
        }
        if let Some(w) = parked {
            st.park(slot, w);
        }
    }

    /// Gives one NBL's frames to the NIC (connection `conn`, pool ring `ri`); what cannot go
    /// completes at once with its failure status.
    #[inline(always)]
    fn transmit_nbl(&self, st: &mut DpcState, slot: usize, conn: u32, ri: usize, word: usize) -> TxNext {
        let n = &self.ndis;
        let nbl = N::Nbl::from_word(word);
        let frames = n.nbl_frame_count(nbl);
        // A frame AAL5 cannot carry (empty, or over 65 535 octets) fails the whole NBL before
        // any of it reaches the NIC: never truncated, never retried. (One frame, the common
        // case, is checked again as it is copied below; only longer NBLs need this pass.)
        let limit = st.scratch.len().min(MAX_FRAME);
        if frames > 1 && (0..frames).any(|i| !(1..=limit).contains(&n.nbl_frame_len(nbl, i))) {
            DataStats::bump(&self.stats.tx_invalid_length, 1);
            self.complete_one(st, slot, word, NdisStatus::INVALID_LENGTH);
            return TxNext::Go;
        }
        let mut given = 0u32;
        let mut refused: Option<NdisStatus> = None;
        let mut bad_length = false;
        for i in 0..frames {
            let len = n.nbl_frame_len(nbl, i);
            let Some(buf) = st.scratch.get_mut(..len).filter(|_| (1..=limit).contains(&len)) else {
                bad_length = true;
                break;
            };
            let copied = n.nbl_copy_frame(nbl, i, buf);
            let frame = buf.get(..copied).unwrap_or(&[]);
            match self.device.transmit(ConnId(conn as u16), frame, TxCookie(word as u64)) {
                Ok(()) => given += 1,
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        if bad_length && given == 0 {
            DataStats::bump(&self.stats.tx_invalid_length, 1);
            self.complete_one(st, slot, word, NdisStatus::INVALID_LENGTH);
            return TxNext::Go;
        }
        match (given, refused) {
            // The NIC had no room for its first frame: park it until any VC's frames leave the
            // NIC (`dpc_body` wakes every VC waiting for room).
            (0, Some(NdisStatus::RESOURCES)) => {
                st.wait_for_room(slot);
                TxNext::Park
            }
            // The NIC refused the frame for good (closing connection, a length it cannot
            // carry): the NBL fails now and the VC goes on with the next one.
            (0, Some(e)) => {
                let status = if e == NdisStatus::INVALID_LENGTH { e } else { NdisStatus::FAILURE };
                self.complete_one(st, slot, word, status);
                TxNext::Go
            }
            // No frames at all (an empty NBL): done at once.
            (0, None) => {
                self.complete_one(st, slot, word, NdisStatus::SUCCESS);
                TxNext::Go
            }
            // Some or all frames are with the NIC; a partial one counts as failed (it
            // completes when the frames given have left). The pump's `has_room` makes the push
            // succeed.
            (g, refused) => {
                let _ = st.inflight.push_back(ri, InFlight { nbl: word, frames_left: g, failed: refused.is_some() });
                if refused == Some(NdisStatus::RESOURCES) {
                    st.wait_for_room(slot);
                    TxNext::Stop
                } else {
                    TxNext::Go
                }
            }
        }
    }

    /// The pool ring a VC's call holds.
    #[inline]
    pub(super) fn ring_of(&self, p: &VcPath) -> Option<&SendRing<usize>> {
        self.rings.get(p.ring.load(Ordering::Acquire) as usize)
    }

    /// A NIC connection is closed: the ring it held goes back to the pool, and the VC using it
    /// (if any) has none any more.
    pub(super) fn release_ring(&self, conn: ConnId, slot: Option<usize>) {
        let Some(r) = self.conn_ring.get(usize::from(conn.0)) else { return };
        let ring = r.swap(NONE, Ordering::AcqRel);
        if ring == NONE {
            return;
        }
        if let Some(p) = slot.and_then(|s| self.paths.get(s)) {
            let _ = p.ring.compare_exchange(ring, NONE, Ordering::AcqRel, Ordering::Acquire);
        }
        self.ring_free.lock().push(ring as u16);
    }

    pub(super) fn step_teardown(&self, st: &mut DpcState, slot: usize) {
        let Some(p) = self.paths.get(slot) else { return };
        let f = p.flags.load(Ordering::Acquire);
        if f & flag::TEARDOWN == 0 || f & flag::REPORTED != 0 {
            return;
        }
        if !p.rundown.is_drained() {
            // A sender is still inside; its release marks us again.
            return;
        }
        // Everything still queued (never given to the NIC) aborts.
        if let Some(w) = st.take_parked(slot) {
            self.complete_one(st, slot, w, NdisStatus::SEND_ABORTED);
        }
        let mut buf = [0usize; 32];
        loop {
            let k = self.ring_of(p).map_or(0, |r| r.pop_batch(&mut buf));
            if k == 0 {
                break;
            }
            st.counts.accepted += k as u64;
            for &w in buf.iter().take(k) {
                self.complete_one(st, slot, w, NdisStatus::SEND_ABORTED);
            }
        }
        // The NIC drains what it holds and reports the connection closed.
        let conn = p.conn.load(Ordering::Acquire);
        if f & flag::NIC_CLOSE_SENT == 0 && f & flag::NIC_CLOSED == 0 && conn != NONE {
            p.flags.fetch_or(flag::NIC_CLOSE_SENT, Ordering::AcqRel);
            let deadline = ticks(self.ndis.now().saturating_add(self.config.timers.tx_drain)).max(1);
            p.close_deadline.store(deadline, Ordering::Release);
            st.closing.push_back(slot);
            self.drain_deadline.fetch_min(deadline, Ordering::AcqRel);
            self.device.close_connection(ConnId(conn as u16));
            return;
        }
        // A NIC that never says "closed" is forced closed once the deadline passes: what it
        // still holds is completed as not sent, and its events for the connection are ignored.
        let deadline = p.close_deadline.load(Ordering::Acquire);
        if f & flag::NIC_CLOSE_SENT != 0 && f & flag::NIC_CLOSED == 0 && deadline != 0 {
            if ticks(self.ndis.now()) < deadline {
                self.drain_deadline.fetch_min(deadline, Ordering::AcqRel);
                return;
            }
            if conn != NONE {
                self.conn_map.set(ConnId(conn as u16), None);
            }
            p.conn.store(NONE, Ordering::Release);
            p.flags.fetch_or(flag::NIC_CLOSED, Ordering::AcqRel);
            DataStats::bump(&self.stats.forced_closes, 1);
            let ri = p.ring.load(Ordering::Acquire) as usize;
            while let Some(w) = st.inflight.pop_front(ri) {
                self.complete_one(st, slot, w.nbl, NdisStatus::FAILURE);
            }
            if conn != NONE {
                self.release_ring(ConnId(conn as u16), Some(slot));
            }
        }
        if f & flag::NIC_CLOSED != 0 || p.flags.load(Ordering::Acquire) & flag::NIC_CLOSED != 0 {
            p.close_deadline.store(0, Ordering::Release);
            st.closing.remove(slot);
        }
        // Completions gathered above reach NDIS before the VC can be called quiet.
        self.flush_tx(st);
        let f = p.flags.load(Ordering::Acquire);
        // A sender that entered while the NIC closed (before the client's close returned) is
        // waited for too: its leaving marks the slot again.
        // Every NBL a sender accepted is completed once no sender is inside (an early sender
        // pushes before it leaves; a later one only rejects), its ring and parked word are empty
        // (aborted above), the NIC holds none of them and the completions were flushed above.
        let quiet = f & flag::NIC_CLOSED != 0
            && f & flag::CLOSE_CALL == 0
            && p.rundown.is_drained()
            && p.rx_outstanding.load(Ordering::Acquire) == 0
            && self.ring_of(p).is_none_or(|r| r.is_empty())
            && !st.is_parked(slot)
            && st.inflight.is_empty(p.ring.load(Ordering::Acquire) as usize);
        if quiet {
            p.flags.fetch_or(flag::REPORTED, Ordering::AcqRel);
            self.with_control(|c| c.on_drained(self, slot));
        }
    }
}
