//! The control-path lock: an `NDIS_SPIN_LOCK`-style kernel spin lock as a `lock_api::RawMutex`.
//!
//! `NDIS_SPIN_LOCK` is `{ KSPIN_LOCK SpinLock; KIRQL OldIrql; }` and NdisAcquireSpinLock parks the
//! previous IRQL inside the lock. Here the previous IRQL travels in the lock_api guard instead
//! (`RawMutex::Guard = KIRQL`), so nested locks taken in any order restore the right IRQL. A zeroed
//! `KSPIN_LOCK` is an initialised one (KeInitializeSpinLock stores 0), so `INIT` is a constant.

use core::cell::UnsafeCell;

use super::ffi;

/// `DISPATCH_LEVEL`.
const DISPATCH_LEVEL: u8 = 2;

pub struct NdisSpinLock {
    lock: UnsafeCell<ffi::KSPIN_LOCK>,
}

// SAFETY: the KSPIN_LOCK word is only touched through the Ke* spin-lock routines, which are
// multiprocessor-safe.
unsafe impl Send for NdisSpinLock {}
// SAFETY: as above.
unsafe impl Sync for NdisSpinLock {}

/// The IRQL to restore at unlock.
pub struct OldIrql(u8);

/// Reads the current IRQL (CR8 on x64).
#[cfg(target_arch = "x86_64")]
fn current_irql() -> u8 {
    let cr8: u64;
    // SAFETY: reading CR8 at kernel mode has no side effect.
    unsafe { core::arch::asm!("mov {}, cr8", out(reg) cr8, options(nomem, nostack, preserves_flags)) };
    cr8 as u8
}

/// Sets the IRQL (KeRaiseIrql / KeLowerIrql are inline CR8 writes on x64).
#[cfg(target_arch = "x86_64")]
fn set_irql(irql: u8) {
    // SAFETY: callers only raise to DISPATCH_LEVEL and restore the value they read.
    unsafe { core::arch::asm!("mov cr8, {}", in(reg) u64::from(irql), options(nomem, nostack, preserves_flags)) };
}

// SAFETY: KeAcquireSpinLockRaiseToDpc / KeReleaseSpinLock give mutual exclusion across processors;
// a guard is produced only by a successful acquisition and consumed by exactly one release.
unsafe impl lock_api::RawMutex for NdisSpinLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = NdisSpinLock { lock: UnsafeCell::new(0) };
    type Guard = OldIrql;

    fn lock(&self) -> OldIrql {
        // SAFETY: the lock word is a valid, initialised KSPIN_LOCK for the life of `self`.
        OldIrql(unsafe { ffi::KeAcquireSpinLockRaiseToDpc(self.lock.get()) })
    }

    #[cfg(target_arch = "x86_64")]
    fn try_lock(&self) -> Option<OldIrql> {
        let old = current_irql();
        if old > DISPATCH_LEVEL {
            return None;
        }
        set_irql(DISPATCH_LEVEL);
        // SAFETY: we run at DISPATCH_LEVEL, as KeTryToAcquireSpinLockAtDpcLevel requires.
        if unsafe { ffi::KeTryToAcquireSpinLockAtDpcLevel(self.lock.get()) } != 0 {
            Some(OldIrql(old))
        } else {
            set_irql(old);
            None
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn try_lock(&self) -> Option<OldIrql> {
        // No portable raise-IRQL-and-try without the WDK inlines; only used in diagnostics.
        None
    }

    unsafe fn unlock(&self, guard: OldIrql) {
        // SAFETY: the caller holds the lock (lock_api contract) and `guard` is its saved IRQL.
        unsafe { ffi::KeReleaseSpinLock(self.lock.get(), guard.0) }
    }

    fn is_locked(&self) -> bool {
        // SAFETY: a racy read of the lock word is exactly KeTestSpinLock's semantics.
        unsafe { core::ptr::read_volatile(self.lock.get()) != 0 }
    }
}

/// A `lock_api` mutex over [`NdisSpinLock`].
pub type SpinMutex<T> = lock_api::Mutex<NdisSpinLock, T>;
