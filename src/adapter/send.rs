//! MiniportCoSendNetBufferLists and MiniportReturnNetBufferLists: the lock-free entry of the data path.

use super::*;

impl<N: Ndis, D: Device> Adapter<N, D> {
    /// MiniportCoSendNetBufferLists: every NBL is accepted and completed exactly once — queued
    /// for the NIC, or completed at once with CLOSING (the VC is closing), VC_NOT_ACTIVATED (no
    /// call) or RESOURCES (ring full). No lock, no allocation. The sender is counted in the VC's
    /// rundown for the whole call, rejected NBLs included: the close cannot deactivate or delete
    /// the VC while a rejected NBL is still waiting for its completion.
    ///
    /// Cost per call: four atomic read-modify-writes whatever the chain length (rundown enter,
    /// one ring claim per 32 NBLs, the ready mark, rundown leave); what was accepted is counted
    /// by the DPC when it takes the NBLs from the ring.
    pub fn miniport_co_send_net_buffer_lists(&self, vc: VcContext, nbls: N::Nbl, flags: u32) {
        let _ = flags;
        let n = &self.ndis;
        let slot = vc.0.index();
        let Some(path) = self.paths.get(slot).filter(|p| p.is(vc.0)) else {
            // A VC context that is not (or no longer) ours names no VC to complete on.
            DataStats::bump(&self.stats.stale_context, 1);
            return;
        };
        // One trip through the rundown word per call: the whole chain is in, or none of it.
        let Some(entry) = path.rundown.enter() else {
            DataStats::bump(&self.stats.stale_context, 1);
            return;
        };
        let mut rejected = Rejected::<N>::default();
        let mut queued = false;
        if !entry.open {
            let (status, counter) = if path.flags.load(Ordering::Acquire) & flag::OPEN != 0 {
                (NdisStatus::CLOSING, &self.stats.tx_rejected_closing)
            } else {
                (NdisStatus::VC_NOT_ACTIVATED, &self.stats.tx_rejected_inactive)
            };
            let mut next = Some(nbls);
            while let Some(nbl) = next {
                next = n.nbl_next(nbl);
                DataStats::bump(counter, 1);
                rejected.add(n, nbl, status);
            }
        } else if n.nbl_next(nbls).is_none() {
            // One NBL (the common case): one claim, no batch.
            n.nbl_set_status(nbls, NdisStatus::SUCCESS);
            let lane = n.current_cpu() as usize;
            match self.ring_of(path).map(|r| r.push(lane, nbls.to_word())) {
                Some(Ok(())) => queued = true,
                _ => {
                    DataStats::bump(&self.stats.tx_rejected_full, 1);
                    rejected.add(n, nbls, NdisStatus::RESOURCES);
                }
            }
        } else {
            // A chain goes into the ring in batches: one claim (one CAS) per batch.
            let lane = n.current_cpu() as usize;
            let ring = self.ring_of(path);
            let mut next = Some(nbls);
            let mut batch = [0usize; SEND_BATCH];
            loop {
                let mut k = 0;
                while k < SEND_BATCH {
                    let Some(nbl) = next else { break };
                    next = n.nbl_next(nbl);
                    n.nbl_set_status(nbl, NdisStatus::SUCCESS);
                    if let Some(w) = batch.get_mut(k) {
                        *w = nbl.to_word();
                    }
                    k += 1;
                }
                if k == 0 {
                    break;
                }
                let words = batch.get(..k).unwrap_or(&[]);
                let pushed = ring.map_or(0, |r| r.push_batch(lane, words));
                // Ring full: what did not fit completes with RESOURCES.
                for &w in words.get(pushed..).unwrap_or(&[]) {
                    DataStats::bump(&self.stats.tx_rejected_full, 1);
                    rejected.add(n, N::Nbl::from_word(w), NdisStatus::RESOURCES);
                }
                queued |= pushed > 0;
            }
        }
        // Rejected NBLs complete while this sender still holds the rundown.
        if let Some((head, _)) = rejected.chain {
            let handle = N::VcHandle::from_word(path.handle.load(Ordering::Acquire));
            n.co_send_net_buffer_lists_complete(handle, head, send_complete_flags::DISPATCH_LEVEL);
        }
        if queued {
            self.tx_ready.mark(slot);
        }
        if path.rundown.leave(entry) {
            // Last sender out of a closing VC: the teardown can go on.
            self.teardown.mark(slot);
            n.request_dpc();
        } else if queued {
            n.request_dpc();
        }
    }

    /// MiniportReturnNetBufferLists.
    pub fn miniport_return_net_buffer_lists(&self, nbls: N::Nbl, flags: u32) {
        let _ = flags;
        let n = &self.ndis;
        let mut next = Some(nbls);
        let mut wake = false;
        while let Some(nbl) = next {
            next = n.nbl_next(nbl);
            let tag = n.rx_nbl_tag(nbl);
            n.rx_nbl_free(nbl);
            if let Some(t) = Token::from_usize(tag)
                && let Some(p) = self.paths.get(t.index())
            {
                // A double return (NDIS, or a buggy client, hands one NBL back twice) must not
                // wrap the count: the VC would never drain and its close never complete.
                match p.rx_outstanding.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1)) {
                    Ok(1) if p.flags.load(Ordering::Acquire) & flag::TEARDOWN != 0 => {
                        self.teardown.mark(t.index());
                        wake = true;
                    }
                    Ok(_) => {}
                    Err(_) => DataStats::bump(&self.stats.rx_double_return, 1),
                }
            }
        }
        if wake {
            n.request_dpc();
        }
    }
}

/// NBLs a sender completes at once, linked in order (head, tail).
struct Rejected<N: Ndis> {
    chain: Option<(N::Nbl, N::Nbl)>,
}

impl<N: Ndis> Default for Rejected<N> {
    fn default() -> Self {
        Rejected { chain: None }
    }
}

impl<N: Ndis> Rejected<N> {
    fn add(&mut self, n: &N, nbl: N::Nbl, status: NdisStatus) {
        n.nbl_set_status(nbl, status);
        n.nbl_set_next(nbl, None);
        self.chain = match self.chain {
            None => Some((nbl, nbl)),
            Some((head, tail)) => {
                n.nbl_set_next(tail, Some(nbl));
                Some((head, nbl))
            }
        };
    }
}
