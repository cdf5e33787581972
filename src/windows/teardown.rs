//! The order MiniportHaltEx (and a failed MiniportInitializeEx) tears an adapter down in.
//! Kernel-independent, so `tests/win_teardown.rs` runs [`run`] against a model of the shared,
//! level-triggered interrupt line.
//!
//! The NIC is silenced and the ISR deregistered *before* the adapter is unpublished: an ISR that
//! finds no adapter answers "not mine", and a line still asserted by our NIC then storms (nobody
//! claims it, the OS masks the vector and every device sharing it).

/// One adapter's teardown steps.
pub trait Teardown {
    /// Masks every NIC interrupt source, under the interrupt lock.
    fn mask_interrupts(&self);
    /// NdisMDeregisterInterruptEx: afterwards no ISR or interrupt DPC runs.
    fn deregister_interrupt(&self);
    /// Unpublishes the adapter: routines entering from now on find none.
    fn unpublish(&self);
    /// Cancels the timer and the DPC and waits for running routines to return.
    fn quiesce(&self);
    /// Frees the adapter (its drop resets the NIC, frees the shared memory, unmaps the BAR).
    fn free(&self);
    /// NdisMDeregisterScatterGatherDma.
    fn deregister_dma(&self);
}

/// Runs the steps in the one safe order.
pub fn run(t: &impl Teardown) {
    t.mask_interrupts();
    t.deregister_interrupt();
    t.unpublish();
    t.quiesce();
    t.free();
    t.deregister_dma();
}
