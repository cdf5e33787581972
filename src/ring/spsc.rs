//! Bounded single-producer single-consumer ring of `T: Copy` (NBL handles plus small metadata).
//!
//! - Capacity is a power of two; `head` and `tail` run free (wrapping `usize`) and are masked on
//!   use, so every slot is usable and `tail - head` is the fill level.
//! - `tail` (producer) and `head` (consumer) live 128 bytes apart ([`CachePadded`]).
//! - Each side keeps the other side's index as last read and re-reads it (`Acquire`) only when
//!   the ring looks full (producer) or empty (consumer).
//! - Batches: the producer writes n slots and publishes them with ONE `Release` store of `tail`;
//!   the consumer reads a chunk (copied out, or in place with `pop_each`) and frees it with ONE
//!   `Release` store of `head`.
//!
//! The ring sits in a VC slot shared by `&`, so the two roles are handles claimed at run time:
//! [`Spsc::producer`] / [`Spsc::consumer`] hand out at most one [`Producer`] and one
//! [`Consumer`] at a time (a second claim gets `None`), and the handle gives the claim back on
//! drop. A claim is one uncontended atomic swap; hold the handle for a whole batch or DPC run.
//! Side-local state (the cached remote index) stays in the ring between claims, so a handle may
//! be claimed by a different CPU each time.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::mem::MaybeUninit;

use super::AllocError;
use super::sync::{AtomicBool, AtomicUsize, CachePadded, Ordering, UnsafeCell};

type Slot<T> = UnsafeCell<MaybeUninit<T>>;

/// Slot-array alignment goal (bytes): two 64-byte lines, as for [`CachePadded`].
const LINE: usize = 128;

/// One side of the ring: its published index, its claim flag and its private cache of the other
/// side's index. Everything here is written only by that side (and the index read by the other).
struct Side {
    /// Producer: `tail` (next slot to fill). Consumer: `head` (next slot to read).
    index: AtomicUsize,
    /// Set while a handle for this side exists.
    claimed: AtomicBool,
    /// The other side's index as last read. Touched only by the claim holder.
    cached_remote: UnsafeCell<usize>,
}

impl Side {
    fn new() -> Self {
        Side { index: AtomicUsize::new(0), claimed: AtomicBool::new(false), cached_remote: UnsafeCell::new(0) }
    }

    /// Takes the claim; `false` if a handle for this side already exists.
    #[inline]
    fn claim(&self) -> bool {
        // Acquire: pairs with the previous holder's Release in `unclaim`, so we see the
        // `cached_remote` it wrote back and the index it published.
        !self.claimed.swap(true, Ordering::Acquire)
    }

    #[inline]
    fn unclaim(&self) {
        self.claimed.store(false, Ordering::Release);
    }

    #[inline]
    fn load_cached(&self) -> usize {
        // SAFETY: only the holder of this side's claim (or of the caller's equivalent exclusive
        // right, see `producer_unchecked`) touches `cached_remote`, so nothing writes it now.
        self.cached_remote.with(|p| unsafe { p.read() })
    }

    #[inline]
    fn store_cached(&self, v: usize) {
        // SAFETY: as in `load_cached`: the claim holder is the only accessor.
        self.cached_remote.with_mut(|p| unsafe { p.write(v) })
    }
}

/// See the module docs.
pub struct Spsc<T> {
    prod: CachePadded<Side>,
    cons: CachePadded<Side>,
    mask: usize,
    /// `capacity` slots starting at `first` (a few extra before it, see [`Spsc::new`]).
    slots: Box<[Slot<T>]>,
    first: usize,
    /// Loom-only: the ordering of the commit stores, so a model can show a too-weak one failing.
    #[cfg(loom)]
    commit: Ordering,
}

// SAFETY: the ring moves `T` values between threads (needs `T: Send`); all shared state is
// atomics, slots handed over by the head/tail protocol, and side-local cells guarded by claims.
unsafe impl<T: Send> Send for Spsc<T> {}
// SAFETY: as above; `&Spsc` only gives claim-checked handles (or `unsafe` unchecked ones).
unsafe impl<T: Send> Sync for Spsc<T> {}

impl<T: Copy> core::fmt::Debug for Spsc<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Spsc").field("capacity", &self.capacity()).field("len", &self.len()).finish()
    }
}

impl<T: Copy> Spsc<T> {
    /// A ring of `capacity` slots (a power of two). The only allocation the ring ever makes;
    /// fails with an error (never aborts) when `capacity` is not a power of two or memory is short.
    pub fn new(capacity: usize) -> Result<Self, AllocError> {
        if !capacity.is_power_of_two() {
            return Err(AllocError::Capacity);
        }
        // A few spare slots in front, so the ring can start on a 128-byte boundary: full batches
        // then fill whole cache lines, and the producer writing batch k+1 does not share a line
        // with the consumer still reading batch k.
        let size = core::mem::size_of::<Slot<T>>();
        let spare = if size != 0 && size <= LINE && LINE.is_multiple_of(size) { LINE / size } else { 0 };
        let total = capacity.checked_add(spare).ok_or(AllocError::OutOfMemory)?;
        let mut slots: Vec<Slot<T>> = Vec::new();
        slots.try_reserve_exact(total).map_err(|_| AllocError::OutOfMemory)?;
        // Within the reservation: no further allocation.
        slots.extend((0..total).map(|_| UnsafeCell::new(MaybeUninit::uninit())));
        let misalign = (slots.as_ptr() as usize) % LINE;
        let first = if spare == 0 || !misalign.is_multiple_of(size) { 0 } else { ((LINE - misalign) % LINE) / size };
        Ok(Spsc {
            prod: CachePadded(Side::new()),
            cons: CachePadded(Side::new()),
            mask: capacity.wrapping_sub(1),
            // len == total == the exact reservation: no shrinking reallocation here.
            slots: slots.into_boxed_slice(),
            first,
            #[cfg(loom)]
            commit: Ordering::Release,
        })
    }

    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mask.wrapping_add(1)
    }

    /// Items in the ring right now (a snapshot; exact only when both sides are idle).
    pub fn len(&self) -> usize {
        // Head first: it never passes the tail read after it, so the difference never wraps.
        let head = self.cons.index.load(Ordering::Acquire);
        let tail = self.prod.index.load(Ordering::Acquire);
        tail.wrapping_sub(head).min(self.capacity())
    }

    /// Nothing queued (a snapshot).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The producer handle, or `None` while another one exists.
    #[inline]
    pub fn producer(&self) -> Option<Producer<'_, T>> {
        if !self.prod.claim() {
            return None;
        }
        Some(Producer::start(self, true))
    }

    /// The consumer handle, or `None` while another one exists.
    #[inline]
    pub fn consumer(&self) -> Option<Consumer<'_, T>> {
        if !self.cons.claim() {
            return None;
        }
        Some(Consumer::start(self, true))
    }

    /// A producer handle without taking the claim.
    ///
    /// # Safety
    /// The caller guarantees that no other producer handle of this ring exists while this one
    /// lives (e.g. it holds an outer claim that covers this ring).
    #[inline]
    pub unsafe fn producer_unchecked(&self) -> Producer<'_, T> {
        Producer::start(self, false)
    }

    /// A consumer handle without taking the claim.
    ///
    /// # Safety
    /// The caller guarantees that no other consumer handle of this ring exists while this one
    /// lives.
    #[inline]
    pub unsafe fn consumer_unchecked(&self) -> Consumer<'_, T> {
        Consumer::start(self, false)
    }

    /// Loom-only: publish with `order` instead of `Release` (to show a model catching it).
    #[cfg(loom)]
    pub fn loom_set_commit_ordering(&mut self, order: Ordering) {
        self.commit = order;
    }

    #[inline(always)]
    fn commit_ordering(&self) -> Ordering {
        #[cfg(loom)]
        return self.commit;
        #[cfg(not(loom))]
        Ordering::Release
    }

    #[inline(always)]
    fn view(&self) -> View<'_, T> {
        let end = self.first.wrapping_add(self.capacity());
        View { slots: self.slots.get(self.first..end).unwrap_or(&[]), mask: self.mask }
    }
}

/// The slot array and mask, copied into each handle so the hot loops keep them in registers
/// instead of re-reading the shared ring after every atomic store.
#[derive(Clone, Copy)]
struct View<'a, T> {
    slots: &'a [Slot<T>],
    mask: usize,
}

impl<'a, T> View<'a, T> {
    #[inline(always)]
    fn slot(self, index: usize) -> Option<&'a Slot<T>> {
        self.slots.get(index & self.mask)
    }

    /// The slots of positions `[start, start + n)` as two contiguous runs (the second one
    /// starts after the wrap). `n` must not exceed the capacity.
    #[inline(always)]
    fn runs(self, start: usize, n: usize) -> (&'a [Slot<T>], &'a [Slot<T>]) {
        let Some((before, after)) = self.slots.split_at_checked(start & self.mask) else {
            return (&[], &[]);
        };
        match after.get(..n) {
            Some(a) => (a, &[]),
            None => (after, before.get(..n.wrapping_sub(after.len())).unwrap_or(before)),
        }
    }
}

/// The single producer of an [`Spsc`]. Gives the claim back on drop.
pub struct Producer<'a, T: Copy> {
    ring: &'a Spsc<T>,
    view: View<'a, T>,
    tail: usize,
    cached_head: usize,
    owns_claim: bool,
}

// SAFETY: the handle is the ring's one producer right; moving it to another thread moves that
// right (its slice view is of cells only this right may write).
unsafe impl<T: Copy + Send> Send for Producer<'_, T> {}

impl<'a, T: Copy> Producer<'a, T> {
    #[inline]
    fn start(ring: &'a Spsc<T>, owns_claim: bool) -> Self {
        // Relaxed: only producers store `tail`, and the claim's Acquire ordered us after the last.
        let tail = ring.prod.index.load(Ordering::Relaxed);
        let cached_head = ring.prod.load_cached();
        Producer { ring, view: ring.view(), tail, cached_head, owns_claim }
    }

    /// Free slots, re-reading the consumer's `head` only if fewer than `want` look free.
    #[inline]
    fn free(&mut self, want: usize) -> usize {
        let cap = self.view.mask.wrapping_add(1);
        let free = cap.saturating_sub(self.tail.wrapping_sub(self.cached_head));
        if free >= want {
            return free;
        }
        // Acquire: pairs with the consumer's Release of `head`, so its reads of the slots we are
        // about to overwrite are finished.
        self.cached_head = self.ring.cons.index.load(Ordering::Acquire);
        cap.saturating_sub(self.tail.wrapping_sub(self.cached_head))
    }

    /// Writes `item` into `slot`, which must lie in the producer's free range.
    #[inline(always)]
    fn write(slot: &Slot<T>, item: T) {
        // SAFETY: callers pass slots in [tail, head + capacity): the consumer has released them
        // and will not read them before our Release store of a tail beyond them.
        slot.with_mut(|p| unsafe { p.cast::<T>().write(item) });
    }

    #[inline(always)]
    fn commit(&mut self, new_tail: usize) {
        self.tail = new_tail;
        self.ring.prod.index.store(new_tail, self.ring.commit_ordering());
    }

    /// Slots free right now (may re-read the consumer's index).
    #[inline]
    pub fn slots(&mut self) -> usize {
        self.free(usize::MAX)
    }

    /// Queues one item; gives it back when the ring is full.
    #[inline]
    pub fn push(&mut self, item: T) -> Result<(), T> {
        if self.free(1) == 0 {
            return Err(item);
        }
        let Some(slot) = self.view.slot(self.tail) else { return Err(item) };
        Self::write(slot, item);
        self.commit(self.tail.wrapping_add(1));
        Ok(())
    }

    /// Queues as many of `items` as fit, in order, and publishes them with one store. Returns
    /// how many were queued.
    #[inline]
    pub fn push_slice(&mut self, items: &[T]) -> usize {
        let n = items.len().min(self.free(items.len()));
        let (a, b) = self.view.runs(self.tail, n);
        let Some((ia, ib)) = items.split_at_checked(a.len()) else { return 0 };
        for (slot, &item) in a.iter().zip(ia) {
            Self::write(slot, item);
        }
        for (slot, &item) in b.iter().zip(ib) {
            Self::write(slot, item);
        }
        let done = n.min(a.len().saturating_add(b.len()));
        if done != 0 {
            self.commit(self.tail.wrapping_add(done));
        }
        done
    }

    /// Queues items pulled from `iter` while there is room (never pulls one it cannot queue) and
    /// publishes them with one store. Returns how many were queued. The consumer's index is
    /// re-read only if fewer slots than the iterator's lower size bound look free.
    #[inline]
    pub fn push_iter<I: IntoIterator<Item = T>>(&mut self, iter: I) -> usize {
        let mut it = iter.into_iter();
        let room = self.free(it.size_hint().0.max(1));
        let (a, b) = self.view.runs(self.tail, room);
        // `zip` asks the slot iterator first, so no item is pulled that has no slot.
        let mut fill = |run: &[Slot<T>]| {
            let mut k = 0usize;
            for (slot, item) in run.iter().zip(it.by_ref()) {
                Self::write(slot, item);
                k += 1;
            }
            k
        };
        let first = fill(a);
        let done = if first == a.len() { first.saturating_add(fill(b)) } else { first };
        if done != 0 {
            self.commit(self.tail.wrapping_add(done));
        }
        done
    }
}

impl<T: Copy> Drop for Producer<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.ring.prod.store_cached(self.cached_head);
        if self.owns_claim {
            self.ring.prod.unclaim();
        }
    }
}

/// The single consumer of an [`Spsc`]. Gives the claim back on drop.
pub struct Consumer<'a, T: Copy> {
    ring: &'a Spsc<T>,
    view: View<'a, T>,
    head: usize,
    cached_tail: usize,
    owns_claim: bool,
}

// SAFETY: as for `Producer`: the handle carries the one consumer right with it.
unsafe impl<T: Copy + Send> Send for Consumer<'_, T> {}

impl<'a, T: Copy> Consumer<'a, T> {
    #[inline]
    fn start(ring: &'a Spsc<T>, owns_claim: bool) -> Self {
        // Relaxed: only consumers store `head`, and the claim's Acquire ordered us after the last.
        let head = ring.cons.index.load(Ordering::Relaxed);
        let cached_tail = ring.cons.load_cached();
        Consumer { ring, view: ring.view(), head, cached_tail, owns_claim }
    }

    /// Items ready, re-reading the producer's `tail` only if fewer than `want` look ready.
    #[inline]
    fn ready(&mut self, want: usize) -> usize {
        let ready = self.cached_tail.wrapping_sub(self.head);
        if ready >= want {
            return ready;
        }
        // Acquire: pairs with the producer's Release commit, so the slot writes are visible.
        self.cached_tail = self.ring.prod.index.load(Ordering::Acquire);
        self.cached_tail.wrapping_sub(self.head)
    }

    /// Reads `slot`, which must lie in the consumer's ready range.
    #[inline(always)]
    fn read(slot: &Slot<T>) -> T {
        // SAFETY: callers pass slots in [head, tail): the producer wrote them before its Release
        // commit of `tail`, which we Acquire-loaded, and will not touch them again before we
        // release `head` past them.
        slot.with(|p| unsafe { p.cast::<T>().read() })
    }

    #[inline(always)]
    fn release(&mut self, new_head: usize) {
        self.head = new_head;
        self.ring.cons.index.store(new_head, self.ring.commit_ordering());
    }

    /// Items ready right now (may re-read the producer's index).
    #[inline]
    pub fn slots(&mut self) -> usize {
        self.ready(usize::MAX)
    }

    /// Takes the oldest item, or `None` when empty.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        if self.ready(1) == 0 {
            return None;
        }
        let item = Self::read(self.view.slot(self.head)?);
        self.release(self.head.wrapping_add(1));
        Some(item)
    }

    /// Hands up to `max` items, oldest first, to `f` straight from their slots (no staging copy)
    /// and frees them with one store afterwards. Returns how many.
    #[inline]
    pub fn pop_each(&mut self, max: usize, mut f: impl FnMut(T)) -> usize {
        let n = max.min(self.ready(max));
        let (a, b) = self.view.runs(self.head, n);
        // Two plain loops (not `chain`), so each compiles to a straight, vectorisable run.
        for slot in a {
            f(Self::read(slot));
        }
        for slot in b {
            f(Self::read(slot));
        }
        let done = n.min(a.len().saturating_add(b.len()));
        if done != 0 {
            self.release(self.head.wrapping_add(done));
        }
        done
    }

    /// Copies up to `out.len()` items, oldest first, into `out` and frees their slots with one
    /// store. Returns how many.
    #[inline]
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
        let n = out.len().min(self.ready(out.len()));
        let (a, b) = self.view.runs(self.head, n);
        let Some((oa, ob)) = out.split_at_mut_checked(a.len()) else { return 0 };
        for (dst, slot) in oa.iter_mut().zip(a) {
            *dst = Self::read(slot);
        }
        for (dst, slot) in ob.iter_mut().zip(b) {
            *dst = Self::read(slot);
        }
        let done = n.min(a.len().saturating_add(b.len()));
        if done != 0 {
            self.release(self.head.wrapping_add(done));
        }
        done
    }
}

impl<T: Copy> Drop for Consumer<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.ring.cons.store_cached(self.cached_tail);
        if self.owns_claim {
            self.ring.cons.unclaim();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn capacity_must_be_power_of_two() {
        assert_eq!(Spsc::<u64>::new(0).err(), Some(AllocError::Capacity));
        assert_eq!(Spsc::<u64>::new(3).err(), Some(AllocError::Capacity));
        assert_eq!(Spsc::<u64>::new(4).map(|r| r.capacity()).ok(), Some(4));
    }

    #[test]
    fn slot_array_starts_on_a_128_byte_boundary() {
        for _ in 0..8 {
            let r = Spsc::<u64>::new(64).unwrap();
            let v = r.view();
            assert_eq!(v.slots.len(), 64);
            assert_eq!(v.slots.as_ptr() as usize % LINE, 0);
        }
        // A size that does not divide 128 just starts at the front.
        let r = Spsc::<[u8; 24]>::new(8).unwrap();
        assert_eq!(r.view().slots.len(), 8);
    }

    #[test]
    fn huge_capacity_is_an_error_not_an_abort() {
        assert_eq!(Spsc::<u64>::new(1 << 62).err(), Some(AllocError::OutOfMemory));
    }

    #[test]
    fn second_producer_or_consumer_claim_is_refused_until_drop() {
        let r = Spsc::<u32>::new(4).unwrap();
        let p = r.producer().unwrap();
        assert!(r.producer().is_none());
        let c = r.consumer().unwrap();
        assert!(r.consumer().is_none());
        drop(p);
        drop(c);
        assert!(r.producer().is_some());
        assert!(r.consumer().is_some());
    }

    #[test]
    fn fills_to_capacity_then_refuses_and_drains_in_order_across_wrap() {
        let r = Spsc::<u32>::new(4).unwrap();
        let mut p = r.producer().unwrap();
        let mut c = r.consumer().unwrap();
        for round in 0..10u32 {
            for i in 0..4 {
                assert_eq!(p.push(round * 4 + i), Ok(()));
            }
            assert_eq!(p.push(99), Err(99), "full ring refuses");
            assert_eq!(r.len(), 4);
            for i in 0..4 {
                assert_eq!(c.pop(), Some(round * 4 + i));
            }
            assert_eq!(c.pop(), None, "empty ring yields nothing");
        }
    }

    #[test]
    fn push_slice_takes_what_fits_and_pop_slice_returns_it_in_order() {
        let r = Spsc::<u32>::new(8).unwrap();
        let mut p = r.producer().unwrap();
        let mut c = r.consumer().unwrap();
        assert_eq!(p.push_slice(&[1, 2, 3]), 3);
        assert_eq!(p.push_slice(&[4, 5, 6, 7, 8, 9, 10]), 5, "only 5 free");
        let mut out = [0u32; 6];
        assert_eq!(c.pop_slice(&mut out), 6);
        assert_eq!(out, [1, 2, 3, 4, 5, 6]);
        assert_eq!(p.push_iter(20..), 6, "iterator pulled only while room");
        let mut out = [0u32; 16];
        assert_eq!(c.pop_slice(&mut out), 8);
        assert_eq!(&out[..8], &[7, 8, 20, 21, 22, 23, 24, 25]);
        assert_eq!(p.push_slice(&[1, 2, 3, 4, 5, 6, 7]), 7);
        let mut seen = std::vec::Vec::new();
        assert_eq!(c.pop_each(5, |v| seen.push(v)), 5, "wraps: slots 2..8 then 0");
        assert_eq!(c.pop_each(5, |v| seen.push(v)), 2);
        assert_eq!(seen, [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(c.pop_each(5, |_| {}), 0);
    }

    #[test]
    fn handles_reclaimed_on_other_threads_keep_the_stream_intact() {
        let r = Spsc::<u64>::new(16).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut next = 0u64;
                while next < 10_000 {
                    // Re-claim every few items: the cached index must survive the hand-back.
                    let mut p = r.producer().unwrap();
                    for _ in 0..3 {
                        if next < 10_000 && p.push(next).is_ok() {
                            next += 1;
                        }
                    }
                    drop(p);
                    std::thread::yield_now();
                }
            });
            let mut want = 0u64;
            while want < 10_000 {
                let mut c = r.consumer().unwrap();
                while let Some(v) = c.pop() {
                    assert_eq!(v, want);
                    want += 1;
                }
                drop(c);
                std::thread::yield_now();
            }
        });
    }
}
