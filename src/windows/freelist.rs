//! Fallible allocation for MiniportInitializeEx and the bounded free lists the Windows layer hands
//! out blocks from (incoming-call parameter blocks, RX NBLs). Kernel-independent, so
//! `tests/win_freelist.rs` runs it on the host.
//!
//! Every allocation here is fallible (`try_reserve_exact`, `alloc` with a NULL check): out of
//! memory becomes NDIS_STATUS_RESOURCES, never an abort. A [`FreeList`] is sized once and never
//! allocates again (pushes happen at DISPATCH_LEVEL); an index pushed twice — a double return —
//! is refused and counted, never listed twice.

use alloc::boxed::Box;
use alloc::vec::Vec;

/// Allocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

/// `Box::new` that reports allocation failure instead of aborting.
pub fn try_box<T>(value: T) -> Result<Box<T>, OutOfMemory> {
    let layout = core::alloc::Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(Box::new(value));
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc::alloc::alloc(layout) }.cast::<T>();
    if p.is_null() {
        return Err(OutOfMemory);
    }
    // SAFETY: `p` is a fresh, suitably aligned allocation for one T.
    unsafe { p.write(value) };
    // SAFETY: allocated with the global allocator and T's layout, and initialised above.
    Ok(unsafe { Box::from_raw(p) })
}

/// Uninitialised heap storage for one `T` (built in place, so a large `T` never sits on the
/// stack).
pub fn try_box_uninit<T>() -> Result<Box<core::mem::MaybeUninit<T>>, OutOfMemory> {
    let layout = core::alloc::Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(Box::new(core::mem::MaybeUninit::uninit()));
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc::alloc::alloc(layout) }.cast::<core::mem::MaybeUninit<T>>();
    if p.is_null() {
        return Err(OutOfMemory);
    }
    // SAFETY: allocated with the global allocator and T's layout (= MaybeUninit<T>'s);
    // MaybeUninit needs no initialisation.
    Ok(unsafe { Box::from_raw(p) })
}

/// `n` values from `f`, in a boxed slice allocated once (no reallocation).
pub fn try_boxed_slice<T>(n: usize, mut f: impl FnMut(usize) -> T) -> Result<Box<[T]>, OutOfMemory> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| OutOfMemory)?;
    for i in 0..n {
        v.push(f(i));
    }
    // len == capacity: no reallocation.
    Ok(v.into_boxed_slice())
}

/// The free indices of `0..capacity`, bounded: a stack plus a "listed" flag per index.
#[derive(Debug)]
pub struct FreeList {
    stack: Box<[u32]>,
    len: usize,
    listed: Box<[bool]>,
    refused: u64,
}

impl FreeList {
    /// Every index of `0..capacity` free; [`FreeList::pop`] hands them out lowest first.
    pub fn try_new_full(capacity: usize) -> Result<FreeList, OutOfMemory> {
        let capacity = capacity.min(u32::MAX as usize);
        let stack = try_boxed_slice(capacity, |i| (capacity - 1 - i) as u32)?;
        let listed = try_boxed_slice(capacity, |_| true)?;
        Ok(FreeList { stack, len: capacity, listed, refused: 0 })
    }

    /// Takes a free index.
    pub fn pop(&mut self) -> Option<u32> {
        let len = self.len.checked_sub(1)?;
        let i = *self.stack.get(len)?;
        self.len = len;
        if let Some(l) = self.listed.get_mut(i as usize) {
            *l = false;
        }
        Some(i)
    }

    /// Gives index `i` back. Refused (false, counted) when `i` is out of range or already free —
    /// a double return — so the list never holds an index twice and never grows.
    pub fn push(&mut self, i: u32) -> bool {
        let ok = match (self.listed.get_mut(i as usize), self.stack.get_mut(self.len)) {
            (Some(l), Some(slot)) if !*l => {
                *l = true;
                *slot = i;
                true
            }
            _ => false,
        };
        if ok {
            self.len += 1;
        } else {
            self.refused += 1;
        }
        ok
    }

    /// Whether index `i` is currently free.
    pub fn is_free(&self, i: u32) -> bool {
        self.listed.get(i as usize).copied().unwrap_or(false)
    }

    /// Free indices.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Indices the list has held at most (never changes).
    pub fn capacity(&self) -> usize {
        self.stack.len()
    }

    /// Pushes refused (double returns, foreign indices).
    pub fn refused(&self) -> u64 {
        self.refused
    }
}
