//! Multi-producer send queue as per-CPU SPSC lanes merged by the single consumer.
//!
//! A producer passes its lane (its CPU number) and claims that lane's [`Spsc`] producer side
//! for the push: one uncontended swap on a line no other CPU writes. If the lane is already
//! claimed (the caller passed another CPU's lane, or a lab thread migrated), it tries the next
//! lanes, and spins only if every lane is busy. Order is FIFO per lane; items from different
//! lanes are merged round-robin, so one sender that moves between CPUs between two pushes can
//! see them reordered.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::AllocError;
use super::spsc::Spsc;
use super::sync::{AtomicBool, CachePadded, Ordering, UnsafeCell, spin_loop};

struct ConsumerSide {
    claimed: AtomicBool,
    /// The lane the next `pop_slice` starts at. Touched only by the claim holder.
    next: UnsafeCell<usize>,
}

/// See the module docs.
pub struct Lanes<T> {
    lanes: Box<[Spsc<T>]>,
    cons: CachePadded<ConsumerSide>,
}

// SAFETY: the lanes are `Send + Sync` for `T: Send`; `next` is guarded by the consumer claim.
unsafe impl<T: Send> Send for Lanes<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Lanes<T> {}

impl<T> core::fmt::Debug for Lanes<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lanes").field("lanes", &self.lanes.len()).finish()
    }
}

impl<T: Copy> Lanes<T> {
    /// `lanes` lanes of `capacity_per_lane` slots each (a power of two). All allocation happens
    /// here and fails with an error, never an abort.
    pub fn new(capacity_per_lane: usize, lanes: usize) -> Result<Self, AllocError> {
        if lanes == 0 {
            return Err(AllocError::Capacity);
        }
        let mut v: Vec<Spsc<T>> = Vec::new();
        v.try_reserve_exact(lanes).map_err(|_| AllocError::OutOfMemory)?;
        for _ in 0..lanes {
            v.push(Spsc::new(capacity_per_lane)?);
        }
        Ok(Lanes {
            lanes: v.into_boxed_slice(),
            cons: CachePadded(ConsumerSide { claimed: AtomicBool::new(false), next: UnsafeCell::new(0) }),
        })
    }

    /// Number of lanes.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// Total slots over all lanes.
    pub fn capacity(&self) -> usize {
        self.lanes.iter().map(Spsc::capacity).fold(0, usize::saturating_add)
    }

    /// Runs `f` with the producer side of `lane` (or, if that one is claimed, of the next free
    /// lane).
    #[inline]
    fn with_producer<R>(&self, lane: usize, f: impl Fn(&mut super::spsc::Producer<'_, T>) -> R) -> R {
        let n = self.lanes.len();
        let start = if lane < n { lane } else { lane % n.max(1) };
        loop {
            let mut idx = start;
            for _ in 0..n {
                if let Some(mut p) = self.lanes.get(idx).and_then(Spsc::producer) {
                    return f(&mut p);
                }
                idx += 1;
                if idx == n {
                    idx = 0;
                }
            }
            spin_loop();
        }
    }

    /// Queues `item` on `lane` (normally the current CPU); gives it back when that lane is full.
    #[inline]
    pub fn push(&self, lane: usize, item: T) -> Result<(), T> {
        self.with_producer(lane, |p| p.push(item))
    }

    /// Queues as many of `items` as fit on `lane`, with one commit. Returns how many.
    #[inline]
    pub fn push_slice(&self, lane: usize, items: &[T]) -> usize {
        self.with_producer(lane, |p| p.push_slice(items))
    }

    /// Every lane empty (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.lanes.iter().all(Spsc::is_empty)
    }

    /// The consumer handle, or `None` while another one exists.
    #[inline]
    pub fn consumer(&self) -> Option<LanesConsumer<'_, T>> {
        if self.cons.claimed.swap(true, Ordering::Acquire) {
            return None;
        }
        // SAFETY: we hold the consumer claim, the only right to touch `next`.
        let next = self.cons.next.with(|p| unsafe { p.read() });
        Some(LanesConsumer { ring: self, next })
    }
}

/// The single consumer of a [`Lanes`]. Gives the claim back on drop.
pub struct LanesConsumer<'a, T: Copy> {
    ring: &'a Lanes<T>,
    next: usize,
}

impl<T: Copy> LanesConsumer<'_, T> {
    /// Copies up to `out.len()` items into `out`, lane by lane round-robin (each lane's chunk
    /// freed with one store). Returns how many.
    #[inline]
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
        let n = self.ring.lanes.len();
        let mut idx = if self.next < n { self.next } else { 0 };
        self.next = if idx + 1 < n { idx + 1 } else { 0 };
        let mut got = 0;
        for _ in 0..n {
            let Some(rest) = out.get_mut(got..) else { break };
            if rest.is_empty() {
                break;
            }
            if let Some(lane) = self.ring.lanes.get(idx) {
                // SAFETY: the `Lanes` consumer claim we hold covers every lane's consumer side,
                // and lane consumers are only ever made here.
                let mut c = unsafe { lane.consumer_unchecked() };
                got += c.pop_slice(rest);
            }
            idx += 1;
            if idx == n {
                idx = 0;
            }
        }
        got
    }

    /// Takes one item (lanes round-robin), or `None`.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let n = self.ring.lanes.len();
        let mut idx = if self.next < n { self.next } else { 0 };
        for _ in 0..n {
            let lane = self.ring.lanes.get(idx);
            idx += 1;
            if idx == n {
                idx = 0;
            }
            // SAFETY: as in `pop_slice`.
            if let Some(v) = lane.and_then(|l| unsafe { l.consumer_unchecked() }.pop()) {
                self.next = idx;
                return Some(v);
            }
        }
        None
    }
}

impl<T: Copy> Drop for LanesConsumer<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let next = self.next;
        // SAFETY: we still hold the consumer claim.
        self.ring.cons.next.with_mut(|p| unsafe { p.write(next) });
        self.ring.cons.claimed.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_fifo_each_and_out_of_range_lane_wraps() {
        let r = Lanes::<u32>::new(4, 2).unwrap();
        assert_eq!(r.capacity(), 8);
        assert_eq!(r.push(0, 1), Ok(()));
        assert_eq!(r.push(1, 10), Ok(()));
        assert_eq!(r.push(3, 11), Ok(()), "lane 3 of 2 maps to lane 1");
        assert_eq!(r.push_slice(0, &[2, 3, 4, 5]), 3);
        assert_eq!(r.push(0, 9), Err(9), "lane 0 full");
        let mut c = r.consumer().unwrap();
        let mut out = [0u32; 8];
        let n = c.pop_slice(&mut out);
        assert_eq!(&out[..n], &[1, 2, 3, 4, 10, 11]);
        assert!(r.is_empty());
    }

    #[test]
    fn zero_lanes_is_an_error() {
        assert_eq!(Lanes::<u32>::new(4, 0).err(), Some(AllocError::Capacity));
    }
}
