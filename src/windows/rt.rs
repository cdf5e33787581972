//! The kernel runtime the driver needs besides NDIS: the global allocator (honouring alignment),
//! the panic handler and, in the WDK-less cross build, the two symbols MSVC codegen expects
//! (`_fltused`, `__chkstk`) that the WDK's libraries normally provide.
//!
//! - `--cfg atmmcm_nowdk` (scripts/build-sys): [`PoolAllocator`] over ExAllocatePoolWithTag /
//!   ExFreePoolWithTag, a panic handler that bugchecks, `_fltused`, `__chkstk`.
//! - With the WDK: wdk-alloc's `WdkAllocator` and wdk-panic's handler. `WdkAllocator` ignores
//!   `Layout::align()`, so it is wrapped in the same [`Aligned`] adaptor.

#[cfg(atmmcm_nowdk)]
use core::alloc::{GlobalAlloc, Layout};

pub use super::align::{Aligned, POOL_ALIGN};

/// Pool tag `'Atmm'` (reads "Atmm" in the debugger).
pub const POOL_TAG: u32 = u32::from_le_bytes(*b"Atmm");

/// Non-paged, no-execute pool (ExAllocatePoolWithTag: present in every Windows 10/11 ntoskrnl and
/// in mingw's libntoskrnl.a, unlike ExAllocatePool2).
#[cfg(atmmcm_nowdk)]
pub struct PoolAllocator;

// SAFETY: ExAllocatePoolWithTag returns POOL_ALIGN-aligned blocks of at least the size asked for
// (or NULL); ExFreePoolWithTag frees them. Both are callable at IRQL <= DISPATCH_LEVEL.
#[cfg(atmmcm_nowdk)]
unsafe impl GlobalAlloc for PoolAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain pool allocation; NULL on failure is passed on.
        unsafe { super::ffi::ExAllocatePoolWithTag(super::ffi::NonPagedPoolNx, layout.size(), POOL_TAG) }.cast()
    }
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: ptr came from alloc above with the same tag.
        unsafe { super::ffi::ExFreePoolWithTag(ptr.cast(), POOL_TAG) }
    }
}

#[cfg(atmmcm_nowdk)]
#[global_allocator]
static GLOBAL: Aligned<PoolAllocator> = Aligned(PoolAllocator);

#[cfg(not(atmmcm_nowdk))]
#[global_allocator]
static GLOBAL: Aligned<wdk_alloc::WdkAllocator> = Aligned(wdk_alloc::WdkAllocator);

#[cfg(not(atmmcm_nowdk))]
use wdk_panic as _;

/// Bugcheck code for a Rust panic: 'RPNC' (as wdk-panic uses), then the source line and column.
#[cfg(atmmcm_nowdk)]
pub const BUGCHECK_RUST_PANIC: u32 = u32::from_be_bytes(*b"RPNC");

#[cfg(atmmcm_nowdk)]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let (file, line, col) = match info.location() {
        Some(l) => (l.file(), l.line(), l.column()),
        None => ("", 0, 0),
    };
    // SAFETY: KeBugCheckEx never returns; the parameters are plain words (the file name's
    // address and length for the crash dump).
    unsafe {
        super::ffi::KeBugCheckEx(BUGCHECK_RUST_PANIC, file.as_ptr() as usize, file.len(), line as usize, col as usize)
    }
}

/// MSVC codegen references `_fltused` from any function that uses floating point.
#[cfg(atmmcm_nowdk)]
#[unsafe(no_mangle)]
#[used]
pub static _fltused: i32 = 0;

// `__chkstk` (MSVC x64 convention): RAX = bytes the caller is about to allocate below RSP. Touch
// every page from the caller's stack page down to the new stack bottom, in order, so the guard page
// is hit page by page. Only R10/R11 and the flags may change (RAX must be preserved).
#[cfg(all(atmmcm_nowdk, target_arch = "x86_64"))]
core::arch::global_asm!(
    ".globl __chkstk",
    "__chkstk:",
    "lea r10, [rsp + 8]", // the caller's RSP before `call`
    "mov r11, r10",
    "sub r11, rax", // the new stack bottom
    "jb 2f",        // wrapped: nothing sensible to probe
    "and r10, -4096",
    "1:",
    "cmp r10, r11",
    "jbe 2f",
    "sub r10, 4096",
    "test qword ptr [r10], r10",
    "jmp 1b",
    "2:",
    "ret",
);
