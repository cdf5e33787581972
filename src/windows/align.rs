//! [`Aligned`]: raises a pool allocator's alignment guarantee to any `Layout::align()`.
//! Free of kernel dependencies so `tests/ffi_host.rs` can test it on the host.

use core::alloc::{GlobalAlloc, Layout};

/// `MEMORY_ALLOCATION_ALIGNMENT` on x64: every pool block is at least this aligned.
pub const POOL_ALIGN: usize = 16;
/// Raises an allocator's guarantee from [`POOL_ALIGN`] to any `Layout::align()`: larger
/// alignments over-allocate by `align` octets, round up, and keep the original pointer in the
/// word just below the returned block.
pub struct Aligned<A>(pub A);

impl<A> Aligned<A> {
    /// The inner layout used for an over-aligned request; `None` on overflow.
    fn padded(layout: Layout) -> Option<Layout> {
        let total = layout.size().checked_add(layout.align())?;
        Layout::from_size_align(total, POOL_ALIGN).ok()
    }
}

// SAFETY: blocks are at least `layout.size()` octets at `layout.align()` (see alloc), dealloc
// undoes exactly what alloc did for the same layout, and nothing here unwinds.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Aligned<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= POOL_ALIGN {
            // SAFETY: the caller's layout has non-zero size (GlobalAlloc contract).
            return unsafe { self.0.alloc(layout) };
        }
        let Some(inner) = Self::padded(layout) else {
            return core::ptr::null_mut();
        };
        // SAFETY: `inner` has non-zero size.
        let raw = unsafe { self.0.alloc(inner) };
        if raw.is_null() {
            return raw;
        }
        // raw is POOL_ALIGN-aligned and align > POOL_ALIGN, so the rounded-up address is at
        // least POOL_ALIGN (>= 8) past raw, and aligned + size <= raw + inner.size().
        let offset = layout.align() - (raw as usize & (layout.align() - 1));
        // SAFETY: offset <= align, within the inner block.
        let aligned = unsafe { raw.add(offset) };
        // SAFETY: aligned - 8 .. aligned lies inside the block (offset >= 16) and is 8-aligned.
        unsafe { aligned.cast::<*mut u8>().wrapping_sub(1).write(raw) };
        aligned
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.align() <= POOL_ALIGN {
            // SAFETY: ptr came from self.0.alloc(layout).
            unsafe { self.0.dealloc(ptr, layout) };
            return;
        }
        let Some(inner) = Self::padded(layout) else { return };
        // SAFETY: alloc stored the original pointer in the word below `ptr`.
        let raw = unsafe { ptr.cast::<*mut u8>().wrapping_sub(1).read() };
        // SAFETY: raw came from self.0.alloc(inner) with this very inner layout.
        unsafe { self.0.dealloc(raw, inner) };
    }
}
