//! The emulated execution context of each thread: IRQL, the "processor" number, and whether the
//! thread is inside a DPC, the timer, or a send/return path. The lab's spin lock raises IRQL to
//! DISPATCH while held, like `KeAcquireSpinLock`, so the verifier sees the IRQL the driver runs at.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Emulated IRQL.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Irql {
    Passive = 0,
    Apc = 1,
    Dispatch = 2,
    /// Device IRQL (an interrupt service routine).
    Device = 5,
}

/// Where on a thread's stack the driver is running (deferred or data path), for IRQL-PASSIVE.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    Dpc,
    Timer,
    Send,
    Return,
}

thread_local! {
    static IRQL: Cell<Irql> = const { Cell::new(Irql::Passive) };
    static CPU: Cell<u32> = const { Cell::new(u32::MAX) };
    /// Depth inside DPC/timer/send/return paths.
    static PATH_DEPTH: Cell<u32> = const { Cell::new(0) };
}

static NEXT_CPU: AtomicU32 = AtomicU32::new(0);

/// The current thread's emulated IRQL.
pub fn current_irql() -> Irql {
    IRQL.with(|c| c.get())
}

/// Sets the current thread's IRQL; returns the previous one.
pub fn set_irql(irql: Irql) -> Irql {
    IRQL.with(|c| c.replace(irql))
}

/// Runs `f` at `irql` (raised or lowered), restoring the previous IRQL afterwards.
pub fn at_irql<R>(irql: Irql, f: impl FnOnce() -> R) -> R {
    struct Restore(Irql);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_irql(self.0);
        }
    }
    let _r = Restore(set_irql(irql));
    f()
}

/// Runs `f` marked as inside a deferred or data path (`path` is informational).
pub fn in_path<R>(_path: Path, f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            PATH_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
    PATH_DEPTH.with(|d| d.set(d.get().saturating_add(1)));
    let _l = Leave;
    f()
}

/// Whether the thread is inside a DPC, timer, send or return path.
pub fn in_deferred_or_data_path() -> bool {
    PATH_DEPTH.with(|d| d.get() > 0)
}

/// A small per-thread "processor" id, allocated on first use (0, 1, 2, ...).
pub fn current_cpu() -> u32 {
    CPU.with(|c| {
        if c.get() == u32::MAX {
            c.set(NEXT_CPU.fetch_add(1, Ordering::Relaxed));
        }
        c.get()
    })
}

/// The lab's `NDIS_SPIN_LOCK`: a spin lock that raises the holder's emulated IRQL to DISPATCH
/// and restores it on release. The guard state is the IRQL to restore.
#[derive(Debug, Default)]
pub struct LabSpinLock {
    held: AtomicBool,
}

impl LabSpinLock {
    fn try_take(&self) -> bool {
        self.held.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }
}

// SAFETY: `held` is taken with an Acquire CAS and released with a Release store, so only one
// holder exists at a time and the holder's writes are visible to the next one.
unsafe impl lock_api::RawMutex for LabSpinLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: LabSpinLock = LabSpinLock { held: AtomicBool::new(false) };
    /// The IRQL to restore on unlock. `GuardNoSend`-like: an IRQL belongs to one thread.
    type Guard = (Irql, lock_api::GuardNoSend);

    fn lock(&self) -> Self::Guard {
        let old = set_irql(Irql::Dispatch.max(current_irql()));
        while !self.try_take() {
            std::hint::spin_loop();
            std::thread::yield_now();
        }
        (old, lock_api::GuardNoSend::default())
    }

    fn try_lock(&self) -> Option<Self::Guard> {
        let old = set_irql(Irql::Dispatch.max(current_irql()));
        if self.try_take() {
            Some((old, lock_api::GuardNoSend::default()))
        } else {
            set_irql(old);
            None
        }
    }

    unsafe fn unlock(&self, guard: Self::Guard) {
        self.held.store(false, Ordering::Release);
        set_irql(guard.0);
    }

    fn is_locked(&self) -> bool {
        self.held.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_lock_raises_irql_to_dispatch_while_held_and_restores_it() {
        let m: lock_api::Mutex<LabSpinLock, u32> = lock_api::Mutex::new(0);
        assert_eq!(current_irql(), Irql::Passive);
        {
            let mut g = m.lock();
            *g += 1;
            assert_eq!(current_irql(), Irql::Dispatch);
            assert!(m.try_lock().is_none());
            assert_eq!(current_irql(), Irql::Dispatch);
        }
        assert_eq!(current_irql(), Irql::Passive);
        assert_eq!(*m.lock(), 1);
    }

    #[test]
    fn spin_lock_excludes_other_threads() {
        let m = std::sync::Arc::new(lock_api::Mutex::<LabSpinLock, u64>::new(0));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        *m.lock() += 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*m.lock(), 4000);
    }

    #[test]
    fn each_thread_gets_its_own_cpu_id() {
        let here = current_cpu();
        assert_eq!(here, current_cpu());
        let there = std::thread::spawn(current_cpu).join().unwrap();
        assert_ne!(here, there);
    }
}
