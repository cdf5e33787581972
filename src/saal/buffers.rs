//! Fixed-capacity SSCOP buffers, allocated once: the transmit queue (sent-unacknowledged SD PDUs
//! followed by messages not yet sent) and the receive window (out-of-sequence SD PDUs).

use alloc::vec::Vec;

use super::{AllocError, MAX_MESSAGE};

/// Allocates `n` default values, failing instead of aborting when memory is short.
fn alloc_vec<T: Clone + Default>(n: usize) -> Result<Vec<T>, AllocError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| AllocError)?;
    v.resize(n, T::default());
    Ok(v)
}

/// Book-keeping of one transmit slot.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct TxSlot {
    len: usize,
    /// VT(PS) when the SD was last transmitted (Q.2110: an SD is retransmitted on a STAT only if
    /// it went out before the POLL that STAT answers).
    pub poll_seq: u32,
    /// In the retransmission queue (set through [`TxQueue::set_rexmit`], which counts them).
    rexmit: bool,
    /// Selectively acknowledged by a STAT list (never retransmitted again).
    pub acked: bool,
}

/// The transmit queue. Entry `k` (from the front) carries N(S) = VT(A) + k; entries below
/// VT(S) have been sent, the rest wait for the window.
pub(crate) struct TxQueue {
    data: Vec<u8>,
    meta: Vec<TxSlot>,
    head: usize,
    len: usize,
    /// Entries in the retransmission queue: with none, looking for the first costs nothing
    /// (the transmitter asks before every SD).
    marks: usize,
}

impl TxQueue {
    pub(crate) fn new(capacity: usize) -> Result<Self, AllocError> {
        let bytes = capacity.checked_mul(MAX_MESSAGE).ok_or(AllocError)?;
        Ok(TxQueue { data: alloc_vec(bytes)?, meta: alloc_vec(capacity)?, head: 0, len: 0, marks: 0 })
    }

    pub(crate) fn capacity(&self) -> usize {
        self.meta.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn slot(&self, k: usize) -> Option<usize> {
        if k >= self.len {
            return None;
        }
        self.head.checked_add(k)?.checked_rem(self.capacity())
    }

    /// Appends a message; false when full or longer than [`MAX_MESSAGE`].
    pub(crate) fn push(&mut self, msg: &[u8]) -> bool {
        if self.len >= self.capacity() || msg.len() > MAX_MESSAGE {
            return false;
        }
        self.len += 1;
        let Some(i) = self.slot(self.len - 1) else {
            self.len -= 1;
            return false;
        };
        let start = i.saturating_mul(MAX_MESSAGE);
        let Some(dst) = self.data.get_mut(start..start.saturating_add(msg.len())) else {
            self.len -= 1;
            return false;
        };
        dst.copy_from_slice(msg);
        if let Some(m) = self.meta.get_mut(i) {
            *m = TxSlot { len: msg.len(), ..TxSlot::default() };
        }
        true
    }

    pub(crate) fn meta(&self, k: usize) -> Option<&TxSlot> {
        self.meta.get(self.slot(k)?)
    }

    pub(crate) fn meta_mut(&mut self, k: usize) -> Option<&mut TxSlot> {
        let i = self.slot(k)?;
        self.meta.get_mut(i)
    }

    /// Puts entry `k` in the retransmission queue or takes it out.
    pub(crate) fn set_rexmit(&mut self, k: usize, on: bool) {
        let Some(m) = self.meta_mut(k) else { return };
        let was = core::mem::replace(&mut m.rexmit, on);
        match (was, on) {
            (false, true) => self.marks += 1,
            (true, false) => self.marks = self.marks.saturating_sub(1),
            _ => {}
        }
    }

    /// The message of entry `k`.
    pub(crate) fn payload(&self, k: usize) -> Option<&[u8]> {
        let i = self.slot(k)?;
        let len = self.meta.get(i)?.len;
        let start = i.checked_mul(MAX_MESSAGE)?;
        self.data.get(start..start.checked_add(len)?)
    }

    /// Removes the first `n` entries (acknowledged, or lost with a re-initialisation).
    pub(crate) fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        for k in 0..n {
            self.set_rexmit(k, false);
        }
        let cap = self.capacity().max(1);
        self.head = self.head.saturating_add(n) % cap;
        self.len -= n;
    }

    /// Clears the retransmission marks of every entry (they will be renumbered).
    pub(crate) fn reset_marks(&mut self) {
        for k in 0..self.len {
            if let Some(m) = self.meta_mut(k) {
                m.rexmit = false;
                m.acked = false;
            }
        }
        self.marks = 0;
    }

    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.marks = 0;
    }

    /// Offset of the first entry in the retransmission queue, if any.
    pub(crate) fn first_rexmit(&self, below: usize) -> Option<usize> {
        if self.marks == 0 {
            return None;
        }
        (0..below.min(self.len)).find(|&k| self.meta(k).is_some_and(|m| m.rexmit))
    }
}

/// The receive window: slot `k` holds the SD with N(S) = VR(R) + k once received out of sequence.
pub(crate) struct RxWindow {
    data: Vec<u8>,
    lens: Vec<Option<usize>>,
    head: usize,
}

impl RxWindow {
    pub(crate) fn new(capacity: usize) -> Result<Self, AllocError> {
        let bytes = capacity.checked_mul(MAX_MESSAGE).ok_or(AllocError)?;
        Ok(RxWindow { data: alloc_vec(bytes)?, lens: alloc_vec(capacity)?, head: 0 })
    }

    pub(crate) fn capacity(&self) -> usize {
        self.lens.len()
    }

    fn slot(&self, k: usize) -> Option<usize> {
        if k >= self.capacity() {
            return None;
        }
        self.head.checked_add(k)?.checked_rem(self.capacity())
    }

    pub(crate) fn is_present(&self, k: usize) -> bool {
        self.slot(k).and_then(|i| self.lens.get(i)).is_some_and(Option::is_some)
    }

    /// Stores the SD at offset `k`; false if outside the window, too long, or already held.
    pub(crate) fn store(&mut self, k: usize, msg: &[u8]) -> bool {
        let Some(i) = self.slot(k) else { return false };
        if msg.len() > MAX_MESSAGE || self.is_present(k) {
            return false;
        }
        let start = i.saturating_mul(MAX_MESSAGE);
        let Some(dst) = self.data.get_mut(start..start.saturating_add(msg.len())) else {
            return false;
        };
        dst.copy_from_slice(msg);
        if let Some(l) = self.lens.get_mut(i) {
            *l = Some(msg.len());
        }
        true
    }

    /// The SD at offset 0 (N(S) = VR(R)), if received.
    pub(crate) fn front(&self) -> Option<&[u8]> {
        let i = self.slot(0)?;
        let len = (*self.lens.get(i)?)?;
        let start = i.checked_mul(MAX_MESSAGE)?;
        self.data.get(start..start.checked_add(len)?)
    }

    /// Moves the window one sequence number on (VR(R) + 1), freeing the front slot.
    pub(crate) fn advance(&mut self) {
        if let Some(l) = self.slot(0).and_then(|i| self.lens.get_mut(i)) {
            *l = None;
        }
        let cap = self.capacity().max(1);
        self.head = self.head.saturating_add(1) % cap;
    }

    pub(crate) fn clear(&mut self) {
        self.lens.iter_mut().for_each(|l| *l = None);
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_queue_wraps_and_refuses_when_full() {
        let mut q = TxQueue::new(3).unwrap();
        assert!(q.push(b"a") && q.push(b"bb") && q.push(b"ccc"));
        assert!(!q.push(b"d"), "a full queue must refuse");
        q.drop_front(2);
        assert!(q.push(b"d") && q.push(b"e"));
        assert_eq!(q.payload(0), Some(&b"ccc"[..]));
        assert_eq!(q.payload(2), Some(&b"e"[..]));
        assert_eq!(q.payload(3), None);
        assert!(!q.push(&[0; MAX_MESSAGE + 1][..]) || q.len() < 3);
    }

    #[test]
    fn rx_window_refuses_duplicates_and_out_of_window() {
        let mut w = RxWindow::new(4).unwrap();
        assert!(w.store(2, b"x"));
        assert!(!w.store(2, b"y"), "duplicate");
        assert!(!w.store(4, b"z"), "outside window");
        assert_eq!(w.front(), None);
        w.advance();
        w.advance();
        assert_eq!(w.front(), Some(&b"x"[..]));
        w.advance();
        assert!(w.store(3, b"w"), "slot reused after wrap");
    }
}

#[cfg(test)]
mod rexmit_tests {
    use super::*;

    #[test]
    fn first_rexmit_follows_marks_through_sends_acks_and_drops() {
        let mut q = TxQueue::new(8).unwrap();
        for m in [b"a", b"b", b"c", b"d"] {
            assert!(q.push(m));
        }
        assert_eq!(q.first_rexmit(4), None);
        q.set_rexmit(2, true);
        q.set_rexmit(1, true);
        q.set_rexmit(1, true); // twice: still one entry
        assert_eq!(q.first_rexmit(4), Some(1));
        assert_eq!(q.first_rexmit(1), None, "only below the limit");
        q.set_rexmit(1, false);
        assert_eq!(q.first_rexmit(4), Some(2));
        q.drop_front(3); // the marked entry is acknowledged away
        assert_eq!(q.first_rexmit(4), None);
        assert!(q.push(b"e"));
        assert_eq!(q.first_rexmit(4), None, "a reused slot starts unmarked");
        q.set_rexmit(0, true);
        q.reset_marks();
        assert_eq!(q.first_rexmit(4), None);
    }
}
