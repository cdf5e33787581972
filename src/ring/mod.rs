//! Lock-free rings. Every atomic the rings and the rundown word use comes from [`sync`], so loom
//! can model them (`RUSTFLAGS="--cfg loom"`).
//!
//! - [`spsc::Spsc`]: single producer, single consumer, batch commit with one `Release` store.
//! - [`mpsc::Mpsc`]: many producers (per-slot sequence numbers), one consumer.
//! - [`lanes::Lanes`]: per-CPU SPSC lanes merged by one consumer (the measured alternative).
//! - [`SendRing`]: the per-VC send queue the datapath uses (see BENCHMARKS.md for the choice).

pub mod lanes;
pub mod mpsc;
pub mod spsc;
pub mod sync;

/// Why a ring could not be built. Rings allocate only in their constructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// Capacity zero or not a power of two (or zero lanes).
    Capacity,
    /// The allocator refused (or the size overflowed).
    OutOfMemory,
}

impl core::fmt::Display for AllocError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AllocError::Capacity => f.write_str("ring capacity must be a non-zero power of two"),
            AllocError::OutOfMemory => f.write_str("out of memory for ring"),
        }
    }
}

/// The per-VC send queue: any number of senders (MiniportCoSendNetBufferLists on any CPU), one
/// consumer (the TX DPC). A multi-producer ring ([`mpsc::Mpsc`]): chosen over per-CPU lanes by
/// measurement and because it keeps one global FIFO order (BENCHMARKS.md).
pub struct SendRing<T: Copy> {
    inner: mpsc::Mpsc<T>,
}

impl<T: Copy> core::fmt::Debug for SendRing<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SendRing").field("capacity", &self.capacity()).finish()
    }
}

impl<T: Copy> SendRing<T> {
    /// A queue of `capacity` slots (a non-zero power of two). `lanes` (the CPU count) is accepted
    /// for API stability and ignored by the multi-producer ring. The only allocation.
    pub fn new(capacity: usize, lanes: usize) -> Result<Self, AllocError> {
        let _ = lanes;
        Ok(SendRing { inner: mpsc::Mpsc::new(capacity)? })
    }

    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// Queues one item from any thread; `lane` is the current CPU (a hint). Gives the item back
    /// when full.
    #[inline]
    pub fn push(&self, lane: usize, item: T) -> Result<(), T> {
        let _ = lane;
        self.inner.push(item)
    }

    /// Queues as many of `items` as fit, in order, with one claim. Returns how many.
    #[inline]
    pub fn push_batch(&self, lane: usize, items: &[T]) -> usize {
        let _ = lane;
        self.inner.push_slice(items)
    }

    /// The consumer handle (the TX DPC holds it for one run), or `None` while another exists.
    #[inline]
    pub fn consumer(&self) -> Option<SendConsumer<'_, T>> {
        self.inner.consumer().map(|inner| SendConsumer { inner })
    }

    /// The consumer handle without the claim's atomic swap, for a caller that is the ring's only
    /// consumer by construction (the TX DPC, under its state lock).
    ///
    /// # Safety
    /// No other consumer handle of this ring exists while this one lives, and every consumer of
    /// this ring (claimed or not) runs under the same exclusion.
    #[inline]
    pub unsafe fn consumer_unchecked(&self) -> SendConsumer<'_, T> {
        // SAFETY: the caller's guarantee is exactly `Mpsc::consumer_unchecked`'s contract.
        SendConsumer { inner: unsafe { self.inner.consumer_unchecked() } }
    }

    /// Takes up to `out.len()` items, oldest first. Safe from any thread: it claims the consumer
    /// side for the call and returns 0 if another consumer holds it.
    #[inline]
    pub fn pop_batch(&self, out: &mut [T]) -> usize {
        match self.consumer() {
            Some(mut c) => c.pop_batch(out),
            None => 0,
        }
    }

    /// Nothing queued (a snapshot).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

/// The single consumer of a [`SendRing`]. Gives the claim back on drop.
pub struct SendConsumer<'a, T: Copy> {
    inner: mpsc::MpscConsumer<'a, T>,
}

impl<T: Copy> SendConsumer<'_, T> {
    /// How many items senders have claimed that this consumer has not taken (a snapshot): pop
    /// at most this many and no pop is spent finding the ring empty. Each is published or about
    /// to be; one claimed after the snapshot is left for the next run (its sender marks the VC
    /// ready after publishing).
    #[inline]
    pub fn claimed(&self) -> usize {
        self.inner.claimed()
    }

    /// Takes the oldest item, or `None`.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        self.inner.pop()
    }

    /// Takes up to `out.len()` items, oldest first. Returns how many.
    #[inline]
    pub fn pop_batch(&mut self, out: &mut [T]) -> usize {
        self.inner.pop_slice(out)
    }

    /// Hands up to `max` items, oldest first, to `f`. Returns how many.
    #[inline]
    pub fn pop_each(&mut self, max: usize, f: impl FnMut(T)) -> usize {
        self.inner.pop_each(max, f)
    }
}

#[cfg(all(test, not(loom)))]
mod stress;
