//! The one place atomics (and the cells and spin hints the rings use) come from: `core` normally,
//! `loom` under `--cfg loom`, so a loom model explores every interleaving of the real code.

#[cfg(not(loom))]
pub use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};
#[cfg(loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};

/// Interior-mutable cell with loom's closure API (`with`/`with_mut` instead of `get`), so slot
/// and side-local accesses are race-checked by loom and compile to plain pointer use otherwise.
#[cfg(loom)]
pub use loom::cell::UnsafeCell;

/// Interior-mutable cell with loom's closure API (`with`/`with_mut` instead of `get`).
#[cfg(not(loom))]
#[derive(Debug)]
#[repr(transparent)]
pub struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    #[inline(always)]
    pub const fn new(value: T) -> Self {
        UnsafeCell(core::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a shared raw pointer to the contents.
    #[inline(always)]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a mutable raw pointer to the contents.
    #[inline(always)]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Busy-wait hint. Under loom it yields, so a model with a spin loop terminates.
#[inline(always)]
pub fn spin_loop() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// Aligns and pads `T` to 128 bytes: x86-64's spatial prefetcher pulls pairs of 64-byte lines,
/// so two indices written by different CPUs must sit 128 bytes apart (crossbeam's choice too).
#[derive(Debug, Default)]
#[repr(C, align(128))]
pub struct CachePadded<T>(pub T);

impl<T> core::ops::Deref for CachePadded<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn cache_padded_is_128_aligned_and_sized() {
        assert_eq!(core::mem::align_of::<CachePadded<AtomicUsize>>(), 128);
        assert_eq!(core::mem::size_of::<CachePadded<AtomicUsize>>(), 128);
    }
}
