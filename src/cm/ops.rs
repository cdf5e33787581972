//! Pending NDIS calls ("ops") and the queue of objects that have some.
//!
//! The state machines never call NDIS while holding the control lock: a decision sets an op bit
//! on its object (VC, party, AF) and queues the object once. A single drainer at a time takes the
//! ops out in a fixed order and performs them with the lock released, feeding each call's result
//! back under the lock. Within one object the bit order *is* the NDIS order the contract demands
//! (activate before make-call-complete; deactivate before close-complete before delete), so no
//! queue of actions can overflow and no allocation is needed: the work queue holds each object at
//! most once.

use alloc::collections::{TryReserveError, VecDeque};

/// Per-VC ops, in the order they are performed.
pub mod vc_op {
    pub const CREATE_VC: u16 = 1 << 0;
    pub const ACTIVATE_VC: u16 = 1 << 1;
    pub const DISPATCH_INCOMING_CALL: u16 = 1 << 2;
    pub const MAKE_CALL_COMPLETE: u16 = 1 << 3;
    pub const DISPATCH_CALL_CONNECTED: u16 = 1 << 4;
    pub const DISPATCH_INCOMING_CLOSE: u16 = 1 << 5;
    pub const DEACTIVATE_VC: u16 = 1 << 6;
    pub const CLOSE_CALL_COMPLETE: u16 = 1 << 7;
    pub const DELETE_VC: u16 = 1 << 8;
}

/// Per-party ops.
pub mod party_op {
    pub const ADD_PARTY_COMPLETE: u16 = 1 << 0;
    pub const DISPATCH_INCOMING_DROP: u16 = 1 << 1;
    pub const DROP_PARTY_COMPLETE: u16 = 1 << 2;
}

/// Per-AF ops.
pub mod af_op {
    pub const CLOSE_AF_COMPLETE: u16 = 1 << 0;
}

/// Adapter-wide ops.
pub mod adapter_op {
    pub const INDICATE_LINK: u16 = 1 << 0;
}

/// The lowest set bit of `ops`, if any.
pub fn next_op(ops: u16) -> Option<u16> {
    if ops == 0 { None } else { Some(ops & ops.wrapping_neg()) }
}

/// Which object has ops.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Work {
    /// VC slot index.
    Vc(u16),
    /// Party slot index.
    Party(u16),
    /// AF slot index.
    Af(u16),
    Adapter,
}

/// FIFO of objects with pending ops; each object at most once (the caller keeps a "queued" flag
/// on the object), so capacity = number of objects and a push never fails in practice.
#[derive(Debug)]
pub struct WorkQueue {
    q: VecDeque<Work>,
}

impl WorkQueue {
    pub fn with_capacity(n: usize) -> Result<Self, TryReserveError> {
        let mut q = VecDeque::new();
        q.try_reserve_exact(n)?;
        Ok(WorkQueue { q })
    }

    /// Queues `w`. Returns `false` if the queue is full, which the object-at-most-once rule makes
    /// impossible; the caller counts it as an internal error.
    pub fn push(&mut self, w: Work) -> bool {
        if self.q.len() >= self.q.capacity() {
            return false;
        }
        self.q.push_back(w);
        true
    }

    pub fn pop(&mut self) -> Option<Work> {
        self.q.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_come_out_in_contract_order() {
        let mut ops = vc_op::DELETE_VC | vc_op::CLOSE_CALL_COMPLETE | vc_op::DEACTIVATE_VC;
        let mut seen = alloc::vec::Vec::new();
        while let Some(op) = next_op(ops) {
            seen.push(op);
            ops &= !op;
        }
        assert_eq!(seen, [vc_op::DEACTIVATE_VC, vc_op::CLOSE_CALL_COMPLETE, vc_op::DELETE_VC]);
    }

    #[test]
    fn work_queue_refuses_past_capacity() {
        let mut q = WorkQueue::with_capacity(1).unwrap();
        assert!(q.push(Work::Adapter));
        assert!(!q.push(Work::Vc(1)));
        assert_eq!(q.pop(), Some(Work::Adapter));
    }
}
