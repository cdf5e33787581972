//! Bounded multi-producer single-consumer ring (Vyukov's per-slot sequence numbers).
//!
//! Every slot carries a sequence number `seq`. For the slot at free-running position `pos`:
//! `seq == pos` means free for the producer of `pos`; `seq == pos + 1` means written and
//! readable; the consumer frees it by storing `pos + capacity` (free for the next lap).
//!
//! Producers claim positions with a CAS on the shared `tail` and never wait for each other: a
//! producer that stalls between claim and publish only delays the consumer (which then sees the
//! ring as empty at that slot), never another producer. The single consumer owns `head` outright
//! (no CAS), which is what makes this cheaper than an MPMC queue. Producers never read `head`.
//!
//! `push_slice` claims a run of slots with ONE CAS and publishes them slot by slot (a per-slot
//! store is inherent to this design).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use super::AllocError;
use super::sync::{AtomicBool, AtomicUsize, CachePadded, Ordering, UnsafeCell, spin_loop};

struct Slot<T> {
    seq: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The ring's slot array as both sides see it: a copy sits on each side's own padded line, so a
/// push touches the producer line and one slot line, a pop the consumer line and one slot line
/// (no third, shared line for the array's address and size).
struct SlotsView<T> {
    /// First of `mask + 1` slots, owned by the ring (freed in its `Drop`).
    base: NonNull<Slot<T>>,
    mask: usize,
}

impl<T> Clone for SlotsView<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SlotsView<T> {}

impl<T> SlotsView<T> {
    /// Where the slot of free-running position `pos` is: always inside the array, as
    /// `pos & mask < mask + 1`, its length.
    #[inline(always)]
    fn ptr(self, pos: usize) -> *const Slot<T> {
        self.base.as_ptr().wrapping_add(pos & self.mask)
    }
}

struct ProducerSide<T> {
    /// Next position to claim.
    tail: AtomicUsize,
    slots: SlotsView<T>,
}

struct ConsumerSide<T> {
    claimed: AtomicBool,
    /// Next position to read. Touched only by the claim holder.
    head: UnsafeCell<usize>,
    slots: SlotsView<T>,
}

/// See the module docs.
pub struct Mpsc<T> {
    prod: CachePadded<ProducerSide<T>>,
    cons: CachePadded<ConsumerSide<T>>,
    /// Loom-only: the ordering of the publish stores, so a model can show a too-weak one failing.
    #[cfg(loom)]
    publish: Ordering,
}

// SAFETY: values move between threads (`T: Send`); slots are handed over by the `seq` protocol
// and the consumer-local `head` is guarded by the consumer claim. The slot array is owned by the
// ring (the `NonNull` copies are views of it).
unsafe impl<T: Send> Send for Mpsc<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mpsc<T> {}

impl<T> core::fmt::Debug for Mpsc<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mpsc").field("capacity", &self.prod.slots.mask.wrapping_add(1)).finish()
    }
}

impl<T> Drop for Mpsc<T> {
    fn drop(&mut self) {
        let v = self.prod.slots;
        let all = core::ptr::slice_from_raw_parts_mut(v.base.as_ptr(), v.mask.wrapping_add(1));
        // SAFETY: `all` is exactly the boxed slice `new` leaked (same address and length), freed
        // once, here; no view of it outlives `&mut self`. Slot values are `MaybeUninit`: nothing
        // in them is dropped.
        drop(unsafe { Box::from_raw(all) });
    }
}

/// Signed distance `a - b` of two free-running positions.
#[inline(always)]
fn diff(a: usize, b: usize) -> isize {
    a.wrapping_sub(b) as isize
}

impl<T: Copy> Mpsc<T> {
    /// A ring of `capacity` slots (a power of two). The only allocation it ever makes; errors
    /// (never aborts) on a bad capacity or short memory.
    pub fn new(capacity: usize) -> Result<Self, AllocError> {
        if !capacity.is_power_of_two() {
            return Err(AllocError::Capacity);
        }
        let mut slots: Vec<Slot<T>> = Vec::new();
        slots.try_reserve_exact(capacity).map_err(|_| AllocError::OutOfMemory)?;
        slots.extend(
            (0..capacity).map(|i| Slot { seq: AtomicUsize::new(i), value: UnsafeCell::new(MaybeUninit::uninit()) }),
        );
        // len == capacity == the exact reservation: no shrinking reallocation here.
        // Owned by the ring from here on, through its views; `Drop` gives it back.
        let base = NonNull::from(Box::leak(slots.into_boxed_slice())).cast::<Slot<T>>();
        let view = SlotsView { base, mask: capacity.wrapping_sub(1) };
        Ok(Mpsc {
            prod: CachePadded(ProducerSide { tail: AtomicUsize::new(0), slots: view }),
            cons: CachePadded(ConsumerSide { claimed: AtomicBool::new(false), head: UnsafeCell::new(0), slots: view }),
            #[cfg(loom)]
            publish: Ordering::Release,
        })
    }

    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.prod.slots.mask.wrapping_add(1)
    }

    /// Loom-only: publish with `order` instead of `Release`.
    #[cfg(loom)]
    pub fn loom_set_publish_ordering(&mut self, order: Ordering) {
        self.publish = order;
    }

    #[inline(always)]
    fn publish_ordering(&self) -> Ordering {
        #[cfg(loom)]
        return self.publish;
        #[cfg(not(loom))]
        Ordering::Release
    }

    /// The slot of `pos`, through the producer line's view.
    #[inline(always)]
    fn slot(&self, pos: usize) -> &Slot<T> {
        // SAFETY: `ptr` stays inside the slot array, which the ring owns and frees only in its
        // `Drop`, after every borrow of `self` ended.
        unsafe { &*self.prod.slots.ptr(pos) }
    }

    /// The slot of `pos`, through the consumer line's view (the same array).
    #[inline(always)]
    fn cons_slot(&self, pos: usize) -> &Slot<T> {
        // SAFETY: as in `slot`.
        unsafe { &*self.cons.slots.ptr(pos) }
    }

    #[inline(always)]
    fn write_and_publish(&self, slot: &Slot<T>, pos: usize, item: T) {
        // SAFETY: our CAS claimed `pos`, and `seq == pos` (Acquire) showed the consumer done
        // with this slot's previous lap; nobody else touches it until we publish.
        slot.value.with_mut(|p| unsafe { p.cast::<T>().write(item) });
        slot.seq.store(pos.wrapping_add(1), self.publish_ordering());
    }

    /// Queues one item from any thread; gives it back when the ring is full.
    #[inline]
    pub fn push(&self, item: T) -> Result<(), T> {
        let mut pos = self.prod.tail.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(pos);
            // Acquire: pairs with the consumer's Release freeing this slot.
            let seq = slot.seq.load(Ordering::Acquire);
            match diff(seq, pos) {
                0 => match self.prod.tail.compare_exchange_weak(
                    pos,
                    pos.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        self.write_and_publish(slot, pos, item);
                        return Ok(());
                    }
                    Err(now) => pos = now,
                },
                // The slot still holds last lap's item: full.
                d if d < 0 => return Err(item),
                // Another producer took `pos` already: catch up.
                _ => {
                    spin_loop();
                    pos = self.prod.tail.load(Ordering::Relaxed);
                }
            }
        }
    }

    /// Queues as many of `items` as fit, in order and contiguous, claimed with one CAS. Returns
    /// how many were queued.
    #[inline]
    pub fn push_slice(&self, items: &[T]) -> usize {
        if items.is_empty() {
            return 0;
        }
        let mut pos = self.prod.tail.load(Ordering::Relaxed);
        loop {
            // Count free slots from `pos` on (the consumer frees in order, so they are a run).
            let mut n = 0usize;
            let mut stale = false;
            while n < items.len() {
                let at = pos.wrapping_add(n);
                let slot = self.slot(at);
                let d = diff(slot.seq.load(Ordering::Acquire), at);
                if d != 0 {
                    stale = n == 0 && d > 0;
                    break;
                }
                n += 1;
            }
            if n == 0 {
                if !stale {
                    return 0;
                }
                spin_loop();
                pos = self.prod.tail.load(Ordering::Relaxed);
                continue;
            }
            match self.prod.tail.compare_exchange_weak(pos, pos.wrapping_add(n), Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    for (i, &item) in items.iter().take(n).enumerate() {
                        let at = pos.wrapping_add(i);
                        self.write_and_publish(self.slot(at), at, item);
                    }
                    return n;
                }
                Err(now) => pos = now,
            }
        }
    }

    /// Nothing queued (a snapshot): the consumer frees slots in order, so the ring is empty iff
    /// the slot of the last claimed position has been freed for its next lap. A claimed but not
    /// yet published item counts as queued.
    pub fn is_empty(&self) -> bool {
        let last = self.prod.tail.load(Ordering::Acquire).wrapping_sub(1);
        diff(self.slot(last).seq.load(Ordering::Acquire), last.wrapping_add(self.capacity())) >= 0
    }

    /// The consumer handle, or `None` while another one exists.
    #[inline]
    pub fn consumer(&self) -> Option<MpscConsumer<'_, T>> {
        // Acquire: pairs with the previous holder's Release, so we see the `head` it left.
        if self.cons.claimed.swap(true, Ordering::Acquire) {
            return None;
        }
        // SAFETY: we hold the consumer claim, the only right to touch `head`.
        let head = self.cons.head.with(|p| unsafe { p.read() });
        Some(MpscConsumer { ring: self, head, claimed: true })
    }

    /// A consumer handle without taking the claim (no atomic read-modify-write).
    ///
    /// # Safety
    /// The caller guarantees that no other consumer handle of this ring exists while this one
    /// lives, and that every consumer handle ever made of this ring was made under the same
    /// exclusion (the claim is not taken, so a claimed handle would not see this one).
    #[inline]
    pub unsafe fn consumer_unchecked(&self) -> MpscConsumer<'_, T> {
        // SAFETY: the caller's exclusion stands in for the claim, the only right to touch `head`.
        let head = self.cons.head.with(|p| unsafe { p.read() });
        MpscConsumer { ring: self, head, claimed: false }
    }
}

/// The single consumer of an [`Mpsc`]. Gives the claim back on drop.
pub struct MpscConsumer<'a, T: Copy> {
    ring: &'a Mpsc<T>,
    head: usize,
    /// Made by `consumer` (gives the claim back on drop), not `consumer_unchecked`.
    claimed: bool,
}

impl<T: Copy> MpscConsumer<'_, T> {
    /// How many items producers have claimed that this consumer has not taken (a snapshot):
    /// each is published or about to be. Popping at most this many skips the final pop that
    /// finds the ring empty; an item claimed after the snapshot is left for the next run (its
    /// producer signals after publishing). At most the capacity: a producer claims a position
    /// only once the consumer freed its slot, and every position below `head` was claimed
    /// before this consumer's Acquire of its publish, so the load sees `tail >= head`.
    #[inline]
    pub fn claimed(&self) -> usize {
        self.ring.prod.tail.load(Ordering::Relaxed).wrapping_sub(self.head)
    }

    /// Takes the oldest published item, or `None`.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let ring = self.ring;
        let slot = ring.cons_slot(self.head);
        // Acquire: pairs with the producer's Release publish, so its value write is visible.
        if slot.seq.load(Ordering::Acquire) != self.head.wrapping_add(1) {
            return None;
        }
        // SAFETY: `seq == head + 1`: the producer published this slot and will not touch it
        // again until we free it below.
        let item = slot.value.with(|p| unsafe { p.cast::<T>().read() });
        slot.seq.store(self.head.wrapping_add(ring.cons.slots.mask).wrapping_add(1), ring.publish_ordering());
        self.head = self.head.wrapping_add(1);
        Some(item)
    }

    /// Hands up to `max` published items, oldest first, to `f`. Returns how many.
    #[inline]
    pub fn pop_each(&mut self, max: usize, mut f: impl FnMut(T)) -> usize {
        let mut done = 0;
        while done < max {
            let Some(item) = self.pop() else { break };
            f(item);
            done += 1;
        }
        done
    }

    /// Copies up to `out.len()` published items, oldest first, into `out`. Returns how many.
    #[inline]
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
        let mut done = 0;
        for dst in out.iter_mut() {
            let Some(item) = self.pop() else { break };
            *dst = item;
            done += 1;
        }
        done
    }
}

impl<T: Copy> Drop for MpscConsumer<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let head = self.head;
        // SAFETY: we still hold the consumer claim (or the exclusion `consumer_unchecked` asked for).
        self.ring.cons.head.with_mut(|p| unsafe { p.write(head) });
        if self.claimed {
            self.ring.cons.claimed.store(false, Ordering::Release);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fills_refuses_when_full_and_drains_in_order_across_laps() {
        let r = Mpsc::<u32>::new(4).unwrap();
        let mut c = r.consumer().unwrap();
        assert!(r.is_empty());
        for round in 0..5u32 {
            for i in 0..4 {
                assert_eq!(r.push(round * 4 + i), Ok(()));
            }
            assert!(!r.is_empty());
            assert_eq!(r.push(7), Err(7));
            for i in 0..4 {
                assert_eq!(c.pop(), Some(round * 4 + i));
            }
            assert_eq!(c.pop(), None);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn push_slice_claims_only_the_free_run() {
        let r = Mpsc::<u32>::new(8).unwrap();
        assert_eq!(r.push_slice(&[1, 2, 3, 4, 5]), 5);
        assert_eq!(r.push_slice(&[6, 7, 8, 9]), 3);
        assert_eq!(r.push_slice(&[10]), 0);
        let mut c = r.consumer().unwrap();
        let mut out = [0u32; 3];
        assert_eq!(c.pop_slice(&mut out), 3);
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(r.push_slice(&[10, 11, 12, 13]), 3);
        let mut out = [0u32; 16];
        assert_eq!(c.pop_slice(&mut out), 8);
        assert_eq!(&out[..8], &[4, 5, 6, 7, 8, 10, 11, 12]);
    }

    #[test]
    fn claimed_counts_pushed_not_yet_popped_across_laps() {
        let r = Mpsc::<u32>::new(4).unwrap();
        let mut c = r.consumer().unwrap();
        assert_eq!(c.claimed(), 0);
        for round in 0..3u32 {
            assert_eq!(r.push_slice(&[1, 2, 3]), 3);
            assert_eq!(c.claimed(), 3);
            assert_eq!(c.pop(), Some(1));
            assert_eq!(c.claimed(), 2);
            assert_eq!(r.push(round), Ok(()));
            assert_eq!(r.push_slice(&[9, 9]), 1, "one slot was free");
            assert_eq!(c.claimed(), 4, "a full ring: the capacity");
            let mut out = [0u32; 4];
            assert_eq!(c.pop_slice(&mut out), 4);
            assert_eq!(out, [2, 3, round, 9]);
            assert_eq!(c.claimed(), 0);
        }
        drop(c);
        // A new consumer starts from the head the last one left.
        assert_eq!(r.push(5), Ok(()));
        assert_eq!(r.consumer().unwrap().claimed(), 1);
    }

    #[test]
    fn second_consumer_claim_is_refused() {
        let r = Mpsc::<u32>::new(2).unwrap();
        let c = r.consumer();
        assert!(c.is_some());
        assert!(r.consumer().is_none());
        drop(c);
        assert!(r.consumer().is_some());
    }
}
