//! ntoskrnl.exe on the Microsoft x64 ABI: pool, spin locks with IRQL, DPCs, the processor number,
//! the C runtime the image imports, and KeBugCheckEx.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::host::{Irql, current_irql, set_irql};

use super::host::{self, host};
use super::rule;

const NON_PAGED_POOL: u32 = 0;
const NON_PAGED_POOL_NX: u32 = 0x200;

/// Allocates pool for the driver (16-byte aligned, as x64 pool is), recording it for the leak
/// check.
pub fn pool_alloc(func: &str, size: usize, tag: u32) -> usize {
    let h = host();
    let Ok(layout) = std::alloc::Layout::from_size_align(size.max(1), 16) else { return 0 };
    // SAFETY: non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) } as usize;
    if p == 0 {
        return 0;
    }
    let late = h.initializing.load(Ordering::Relaxed);
    h.st().pool.insert(p, (layout, tag, late));
    let _ = func;
    p
}

pub fn pool_free(func: &str, p: usize, tag: Option<u32>) {
    let h = host();
    let rec = h.st().pool.remove(&p);
    match rec {
        Some((layout, t, _)) => {
            if let Some(tag) = tag
                && tag != t
            {
                h.finding(rule::POOL_TAG, format!("{func}({p:#x}) with tag {tag:#x}, allocated with {t:#x}"));
            }
            // SAFETY: allocated by `pool_alloc` with this layout and not freed since (removed
            // from the table above).
            unsafe { std::alloc::dealloc(p as *mut u8, layout) };
        }
        None => h.finding(rule::POOL_FREE, format!("{func}({p:#x}): not an allocated block (double free?)")),
    }
}

pub extern "win64" fn ex_allocate_pool_with_tag(pool_type: u32, size: usize, tag: u32) -> usize {
    let h = host();
    h.require_irql("ExAllocatePoolWithTag", Irql::Dispatch);
    if pool_type != NON_PAGED_POOL_NX && pool_type != NON_PAGED_POOL {
        h.finding(rule::POOL_TYPE, format!("ExAllocatePoolWithTag pool type {pool_type:#x}"));
    }
    pool_alloc("ExAllocatePoolWithTag", size, tag)
}

pub extern "win64" fn ex_free_pool_with_tag(p: usize, tag: u32) {
    host().require_irql("ExFreePoolWithTag", Irql::Dispatch);
    pool_free("ExFreePoolWithTag", p, Some(tag));
}

fn lock_word(p: usize) -> &'static AtomicUsize {
    if p == 0 || !p.is_multiple_of(8) {
        host::fatal(&format!("spin lock at a bad address {p:#x}"));
    }
    // SAFETY: a KSPIN_LOCK is a pointer-sized, pointer-aligned word of driver memory, only ever
    // accessed atomically (by these functions).
    unsafe { AtomicUsize::from_ptr(p as *mut usize) }
}

pub extern "win64" fn ke_acquire_spin_lock_raise_to_dpc(lock: usize) -> u8 {
    let h = host();
    h.require_irql("KeAcquireSpinLockRaiseToDpc", Irql::Dispatch);
    let old = set_irql(Irql::Dispatch.max(current_irql()));
    let w = lock_word(lock);
    while w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
        std::hint::spin_loop();
        std::thread::yield_now();
    }
    host::lock_acquired();
    old as u8
}

fn irql_from(v: u8) -> Irql {
    match v {
        0 => Irql::Passive,
        1 => Irql::Apc,
        2 => Irql::Dispatch,
        _ => Irql::Device,
    }
}

pub extern "win64" fn ke_release_spin_lock(lock: usize, new_irql: u8) {
    let h = host();
    if current_irql() != Irql::Dispatch {
        h.finding(rule::IRQL, format!("KeReleaseSpinLock at {:?}, want DISPATCH", current_irql()));
    }
    if lock_word(lock).swap(0, Ordering::Release) == 0 {
        h.finding(rule::SPINLOCK, format!("KeReleaseSpinLock({lock:#x}) of a lock not held"));
    }
    host::lock_released();
    set_irql(irql_from(new_irql));
}

pub extern "win64" fn ke_try_to_acquire_spin_lock_at_dpc_level(lock: usize) -> u8 {
    let h = host();
    if current_irql() != Irql::Dispatch {
        h.finding(rule::IRQL, format!("KeTryToAcquireSpinLockAtDpcLevel at {:?}", current_irql()));
    }
    let ok = lock_word(lock).compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok();
    if ok {
        host::lock_acquired();
    }
    u8::from(ok)
}

pub extern "win64" fn ke_release_spin_lock_from_dpc_level(lock: usize) {
    let h = host();
    if current_irql() != Irql::Dispatch {
        h.finding(rule::IRQL, format!("KeReleaseSpinLockFromDpcLevel at {:?}", current_irql()));
    }
    if lock_word(lock).swap(0, Ordering::Release) == 0 {
        h.finding(rule::SPINLOCK, format!("KeReleaseSpinLockFromDpcLevel({lock:#x}) of a lock not held"));
    }
    host::lock_released();
}

pub extern "win64" fn ke_get_current_processor_number_ex(pn: usize) -> u32 {
    let n = crate::host::current_cpu();
    if pn != 0 {
        // PROCESSOR_NUMBER: Group (u16), Number (u8), Reserved (u8).
        // SAFETY: the driver's PROCESSOR_NUMBER.
        unsafe { super::layout::wr::<4>(pn, 0, u64::from(n & 0xFF) << 16) };
    }
    n
}

pub extern "win64" fn ke_initialize_dpc(dpc: usize, routine: usize, ctx: usize) {
    host().st().dpcs.insert(dpc, (routine, ctx, false));
}

pub extern "win64" fn ke_insert_queue_dpc(dpc: usize, _a1: usize, _a2: usize) -> u8 {
    let h = host();
    h.require_irql("KeInsertQueueDpc", Irql::Device);
    let queued = {
        let mut st = h.st();
        match st.dpcs.get_mut(&dpc) {
            Some(d) if d.2 => false,
            Some(d) => {
                d.2 = true;
                true
            }
            None => {
                drop(st);
                h.finding(rule::DPC, format!("KeInsertQueueDpc({dpc:#x}) of an uninitialised KDPC"));
                false
            }
        }
    };
    if queued {
        use atmmcm::Ndis;
        h.emu().request_dpc();
    }
    u8::from(queued)
}

pub extern "win64" fn ke_remove_queue_dpc(dpc: usize) -> u8 {
    let h = host();
    let mut st = h.st();
    match st.dpcs.get_mut(&dpc) {
        Some(d) if d.2 => {
            d.2 = false;
            1
        }
        _ => 0,
    }
}

pub extern "win64" fn ke_flush_queued_dpcs() {
    let h = host();
    h.require_irql("KeFlushQueuedDpcs", Irql::Passive);
    // Queued DPCs run now, on this thread (Windows waits for them on their processors).
    super::driver::run_queued_dpcs(h);
}

pub extern "win64" fn memcpy(dst: usize, src: usize, n: usize) -> usize {
    // SAFETY: the driver's buffers, non-overlapping as memcpy requires.
    unsafe { std::ptr::copy_nonoverlapping(src as *const u8, dst as *mut u8, n) };
    dst
}

pub extern "win64" fn memmove(dst: usize, src: usize, n: usize) -> usize {
    // SAFETY: the driver's buffers.
    unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, n) };
    dst
}

pub extern "win64" fn memset(dst: usize, c: i32, n: usize) -> usize {
    // SAFETY: the driver's buffer.
    unsafe { std::ptr::write_bytes(dst as *mut u8, c as u8, n) };
    dst
}

pub extern "win64" fn memcmp(a: usize, b: usize, n: usize) -> i32 {
    // SAFETY: the driver's buffers of at least `n` bytes.
    let (x, y) =
        unsafe { (std::slice::from_raw_parts(a as *const u8, n), std::slice::from_raw_parts(b as *const u8, n)) };
    match x.iter().zip(y).find(|(p, q)| p != q) {
        Some((p, q)) => i32::from(*p) - i32::from(*q),
        None => 0,
    }
}

/// KeBugCheckEx: the stub moves the Microsoft-ABI arguments and the return address into a
/// System V call of [`bugcheck`].
#[unsafe(naked)]
pub extern "win64" fn ke_bug_check_ex() {
    core::arch::naked_asm!(
        "mov rdi, rcx",
        "mov rsi, rdx",
        "mov rdx, r8",
        "mov rcx, r9",
        "mov r8, [rsp + 0x28]",
        "mov r9, [rsp]",
        "and rsp, -16",
        "call {f}",
        "ud2",
        f = sym bugcheck,
    )
}

extern "C" fn bugcheck(code: u32, p1: usize, p2: usize, p3: usize, p4: usize, ret: usize) -> ! {
    let h = host();
    let at = h.symbolise(ret.saturating_sub(1));
    let msg = format!("KeBugCheckEx({code:#x}, {p1:#x}, {p2:#x}, {p3:#x}, {p4:#x}) called from {at}");
    h.finding(rule::BUGCHECK, msg.clone());
    host::fatal(&format!("{}: {msg}", rule::BUGCHECK))
}
