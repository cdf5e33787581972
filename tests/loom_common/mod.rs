//! What every loom model file shares (tests/loom_ring.rs, loom_rundown.rs, loom_slotset.rs): the
//! spawn that works around tokio-rs/loom#392 and the `model!` runner that counts executions.
#![allow(dead_code)]

use loom::thread;

/// `thread::spawn` followed by a yield of the caller: right after a spawn loom 0.7.2 can mark the
/// new thread "skip" and explore one execution (tokio-rs/loom#392, open);
/// `loom_ring::loom_explores_both_orders_after_spawn` checks this still works.
pub fn spawn<F, T>(f: F) -> thread::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let h = thread::spawn(f);
    thread::yield_now();
    h
}

/// Runs the body under `loom::model` and prints how many executions loom explored.
macro_rules! model {
    ($name:expr, $body:expr) => {{
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        loom::model(move || {
            RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ($body)();
        });
        println!("loom model {}: {} executions", $name, RUNS.load(std::sync::atomic::Ordering::Relaxed));
    }};
}
pub(crate) use model;
