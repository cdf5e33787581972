//! VCs: the generational table and the per-VC rundown word.

pub mod rundown;
pub mod table;

pub use rundown::Rundown;
pub use table::{Full, Table};
