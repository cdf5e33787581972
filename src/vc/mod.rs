//! VCs: the generational table and the per-VC rundown word.

pub mod rundown;

pub use rundown::Rundown;
