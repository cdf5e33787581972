//! Lock-free rings. Every atomic the rings and the rundown word use comes from [`sync`], so loom
//! can model them (`RUSTFLAGS="--cfg loom"`).

pub mod sync;
