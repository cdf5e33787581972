//! NDIS.SYS's line-based interrupt on the Microsoft x64 ABI: NdisMRegisterInterruptEx,
//! NdisMDeregisterInterruptEx and NdisMSynchronizeWithInterruptEx, and the interrupt's spin lock.
//!
//! As on Windows, one spin lock per interrupt object serialises MiniportInterrupt,
//! MiniportDisableInterruptEx / MiniportEnableInterruptEx (NDIS calls them through
//! KeSynchronizeExecution) and every SynchronizeFunction, each run at the interrupt's DIRQL with
//! the per-thread IRQL raised and restored. Taking it again on a thread that holds it deadlocks
//! a real machine: here that is a finding (`SYS-INTERRUPT-LOCK`) and the function does not run.

use std::cell::Cell;
use std::sync::atomic::Ordering;

use crate::host::{Irql, at_irql};

use super::host::{Host, Interrupt, host};
use super::layout::{self as l, rd, wr};
use super::ndis::check_header;
use super::rule;

const OK: u32 = l::ST_SUCCESS as u32;
const INVALID: u32 = l::ST_INVALID_PARAMETER as u32;

thread_local! {
    /// The interrupt lock this thread holds (its Host), or null.
    static HOLDING: Cell<*const Host> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` holding `h`'s interrupt spin lock at DIRQL (`what` names the caller for a finding).
/// `None` (and a `SYS-INTERRUPT-LOCK` finding) when this thread already holds it.
pub fn with_interrupt_lock<R>(h: &Host, what: &str, f: impl FnOnce() -> R) -> Option<R> {
    if std::ptr::eq(HOLDING.with(|c| c.get()), h) {
        h.finding(
            rule::INTERRUPT_LOCK,
            format!("{what} with the interrupt lock already held on this thread (deadlock on Windows)"),
        );
        return None;
    }
    at_irql(Irql::Device, || {
        while h.interrupt_lock.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            std::hint::spin_loop();
            std::thread::yield_now();
        }
        let prev = HOLDING.with(|c| c.replace(h));
        struct Release<'a>(&'a Host, *const Host);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                HOLDING.with(|c| c.set(self.1));
                self.0.interrupt_lock.store(false, Ordering::Release);
            }
        }
        let _r = Release(h, prev);
        Some(f())
    })
}

pub extern "win64" fn ndis_m_register_interrupt_ex(handle: usize, ctx: usize, chars: usize, out: usize) -> u32 {
    let h = host();
    h.require_irql("NdisMRegisterInterruptEx", Irql::Passive);
    if !super::ndis::adapter_ok(h, "NdisMRegisterInterruptEx", handle) || out == 0 {
        return INVALID;
    }
    if let Err(s) =
        check_header(h, "NdisMRegisterInterruptEx", chars, l::OBJ_TYPE_INTERRUPT, &[(1, l::SIZEOF_INTERRUPT_REV_1)])
    {
        return s;
    }
    let ih = Box::into_raw(Box::new(2u64)) as usize;
    // SAFETY: the characteristics (size checked).
    let i = unsafe {
        Interrupt {
            handle: ih,
            ctx,
            isr: rd::<8>(chars, l::IC_ISR) as usize,
            dpc: rd::<8>(chars, l::IC_DPC) as usize,
            disable: rd::<8>(chars, l::IC_DISABLE) as usize,
            enable: rd::<8>(chars, l::IC_ENABLE) as usize,
        }
    };
    if i.isr == 0 || i.dpc == 0 {
        h.finding(rule::INTERRUPT, "NdisMRegisterInterruptEx: InterruptHandler / InterruptDpcHandler NULL".into());
        // SAFETY: allocated just above, never handed out.
        drop(unsafe { Box::from_raw(ih as *mut u64) });
        return INVALID;
    }
    h.st().interrupt = Some(i);
    // SAFETY: the driver's out-pointer.
    unsafe { wr::<8>(out, 0, ih as u64) };
    OK
}

pub extern "win64" fn ndis_m_deregister_interrupt_ex(ih: usize) {
    let h = host();
    h.require_irql("NdisMDeregisterInterruptEx", Irql::Passive);
    // The device must not be able to assert the line any more: masked at the NIC first.
    if let Some(m) = h.model.get() {
        use atmmcm::nic::bus::Bus;
        let bus = m.bus();
        let mask = bus.read32(atmmcm::nic::regs::INT_MASK);
        let ctrl = atmmcm::nic::regs::Ctrl(bus.read32(atmmcm::nic::regs::CTRL));
        if mask != 0 && ctrl.irq_enable() {
            h.finding(
                rule::INTERRUPT_ORDER,
                format!("NdisMDeregisterInterruptEx with the NIC's interrupts unmasked (INT_MASK {mask:#x})"),
            );
        }
    }
    let registered = h.st().interrupt.as_ref().map(|i| i.handle);
    if ih == 0 || registered != Some(ih) {
        h.finding(rule::INTERRUPT, format!("NdisMDeregisterInterruptEx({ih:#x}): not the registered interrupt"));
        return;
    }
    // No ISR or SynchronizeFunction is running once NDIS returns: wait for the lock's holder.
    let _ = with_interrupt_lock(h, "NdisMDeregisterInterruptEx", || ());
    h.st().interrupt = None;
    // SAFETY: allocated by NdisMRegisterInterruptEx, no longer registered.
    drop(unsafe { Box::from_raw(ih as *mut u64) });
}

/// `BOOLEAN NdisMSynchronizeWithInterruptEx(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
/// MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER SynchronizeFunction, PVOID SynchronizeContext)`: runs
/// `BOOLEAN SynchronizeFunction(SynchronizeContext)` holding the interrupt's lock at its DIRQL
/// and returns its result. Callable at IRQL <= DIRQL.
pub extern "win64" fn ndis_m_synchronize_with_interrupt_ex(ih: usize, message_id: u32, func: usize, ctx: usize) -> u8 {
    let h = host();
    h.require_irql("NdisMSynchronizeWithInterruptEx", Irql::Device);
    let registered = h.st().interrupt.as_ref().map(|i| i.handle);
    if ih == 0 || registered != Some(ih) {
        h.finding(
            rule::INTERRUPT,
            format!("NdisMSynchronizeWithInterruptEx({ih:#x}): not the registered interrupt ({registered:#x?})"),
        );
        return 0;
    }
    if message_id != 0 {
        h.finding(
            rule::INTERRUPT,
            format!("NdisMSynchronizeWithInterruptEx: MessageId {message_id} on a line-based interrupt"),
        );
    }
    if func == 0 {
        h.finding(rule::NULL, "NdisMSynchronizeWithInterruptEx: NULL SynchronizeFunction".into());
        return 0;
    }
    // SAFETY: the driver's MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER: BOOLEAN (PVOID).
    let f: extern "win64" fn(usize) -> u8 = unsafe { std::mem::transmute(func) };
    with_interrupt_lock(h, "NdisMSynchronizeWithInterruptEx", || f(ctx)).unwrap_or(0)
}
