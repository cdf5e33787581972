//! Byte formats, smoltcp-style: a checked view (`Packet<T: AsRef<[u8]>>` with `new_checked`, after
//! which no accessor can panic) plus a `Repr` with `parse` / `emit` / `buffer_len` for each.
pub mod sscop;
