//! VCs: the generational table and the per-VC rundown word.
