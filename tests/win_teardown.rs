//! Host test of the halt order in `src/windows/teardown.rs` (issue 7 item 11): against a model of
//! a shared level-triggered line, the order never leaves our NIC asserting the line with no ISR
//! able to claim it, never frees the adapter while a routine may run, and gives the DMA
//! registration back last. The old order (unpublish first) is shown to fail the same model.

#[path = "../src/windows/teardown.rs"]
mod teardown;

use std::cell::RefCell;

use teardown::Teardown;

#[derive(Debug, Default)]
struct World {
    nic_masked: bool,
    isr_registered: bool,
    published: bool,
    routines_quiesced: bool,
    freed: bool,
    dma_registered: bool,
    steps: Vec<&'static str>,
    violations: Vec<String>,
}

/// The NIC has a cause pending throughout (the worst case: a level-triggered line).
struct Model(RefCell<World>);

impl Model {
    fn new() -> Model {
        Model(RefCell::new(World { isr_registered: true, published: true, dma_registered: true, ..World::default() }))
    }
    fn step(&self, name: &'static str, f: impl FnOnce(&mut World)) {
        let mut w = self.0.borrow_mut();
        f(&mut w);
        w.steps.push(name);
        // The line is asserted unless the NIC is masked (or gone). An ISR is registered but finds
        // no adapter: it answers FALSE and the line storms.
        let asserted = !w.nic_masked && !w.freed;
        if asserted && w.isr_registered && !w.published {
            w.violations.push(format!("after {name}: line asserted, ISR registered, adapter unpublished"));
        }
        if w.freed && (w.isr_registered || !w.routines_quiesced || w.published) {
            w.violations.push(format!("after {name}: adapter freed while reachable"));
        }
        if !w.dma_registered && !w.freed {
            w.violations.push(format!("after {name}: DMA deregistered under a live adapter"));
        }
        if w.nic_masked && w.freed && w.steps.contains(&"mask_interrupts") && !w.steps.contains(&"deregister_interrupt")
        {
            w.violations.push(format!("after {name}: freed before deregistering"));
        }
    }
}

impl Teardown for Model {
    fn mask_interrupts(&self) {
        self.step("mask_interrupts", |w| {
            if !w.published && !w.isr_registered {
                // Masking needs the adapter; without it the NIC stays unmasked until the reset.
                return;
            }
            w.nic_masked = true
        });
    }
    fn deregister_interrupt(&self) {
        self.step("deregister_interrupt", |w| w.isr_registered = false);
    }
    fn unpublish(&self) {
        self.step("unpublish", |w| w.published = false);
    }
    fn quiesce(&self) {
        self.step("quiesce", |w| w.routines_quiesced = true);
    }
    fn free(&self) {
        self.step("free", |w| w.freed = true);
    }
    fn deregister_dma(&self) {
        self.step("deregister_dma", |w| w.dma_registered = false);
    }
}

#[test]
fn halt_masks_and_deregisters_the_interrupt_before_unpublishing_the_adapter() {
    let m = Model::new();
    teardown::run(&m);
    let w = m.0.into_inner();
    assert_eq!(w.violations, Vec::<String>::new());
    assert_eq!(w.steps, ["mask_interrupts", "deregister_interrupt", "unpublish", "quiesce", "free", "deregister_dma"]);
    assert!(w.freed && !w.dma_registered && !w.isr_registered);
}

#[test]
fn the_old_order_unpublish_first_storms_the_shared_line() {
    // What miniport.rs did before: swap the adapter out, then mask, then deregister.
    let m = Model::new();
    m.unpublish();
    m.mask_interrupts();
    m.deregister_interrupt();
    m.quiesce();
    m.free();
    m.deregister_dma();
    let w = m.0.into_inner();
    assert!(w.violations.iter().any(|v| v.contains("line asserted")), "{:?}", w.violations);
}

#[test]
fn freeing_before_quiesce_is_caught() {
    let m = Model::new();
    m.mask_interrupts();
    m.deregister_interrupt();
    m.unpublish();
    m.free();
    assert!(!m.0.borrow().violations.is_empty());
}
