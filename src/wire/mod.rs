//! Byte formats, smoltcp-style.
//!
//! Each format has two layers:
//!
//! * a **checked view** (`Packet<T: AsRef<[u8]>>`, or a named view such as [`aal5::Trailer`]):
//!   `new_unchecked` wraps any buffer, `new_checked` validates lengths (and checksums where the
//!   format has one) so that afterwards **no accessor can panic or read out of bounds**. Field
//!   positions live in a private `mod field` of `Range<usize>` / `usize` constants;
//! * a **`Repr`** (a plain value such as [`q2931::Message`] or [`cell::Header`]) with `parse`
//!   (from a checked view or a byte slice), `buffer_len` (octets `emit` will write) and `emit`
//!   (into a caller-supplied buffer, returning an error instead of panicking when it is too
//!   short or a field is out of range).
//!
//! Nothing here allocates. Hostile input ends in an error value: the core is built with
//! `panic = "abort"`, so a panic would be a bugcheck on Windows.
//!
//! Modules: [`cell`] (UNI cell header + HEC), [`aal5`] (CPCS-PDU trailer, CRC-32),
//! `sscop` (Q.2110 PDUs, written separately), [`q2931`] (Q.2931 / UNI 3.1 / UNI 4.0 signalling
//! messages and information elements).

pub mod aal5;
pub mod cell;
pub mod q2931;
pub mod sscop;

/// The generic wire error: a buffer was too short for the operation, or a value does not fit
/// its field. Formats whose receivers must tell failures apart have their own small enums
/// ([`aal5::Aal5Error`], [`cell::CellError`], [`q2931::ParseError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error;

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("wire: buffer too short or field out of range")
    }
}

/// `Result` with the unit wire [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// Reads a big-endian `u16` at `at`, if the buffer holds it.
pub(crate) fn get_u16(buf: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let b = buf.get(at..end)?;
    let mut a = [0u8; 2];
    a.copy_from_slice(b);
    Some(u16::from_be_bytes(a))
}

/// Writes a big-endian `u16` at `at`.
pub(crate) fn put_u16(buf: &mut [u8], at: usize, v: u16) -> Result<()> {
    let end = at.checked_add(2).ok_or(Error)?;
    buf.get_mut(at..end).ok_or(Error)?.copy_from_slice(&v.to_be_bytes());
    Ok(())
}

/// Reads a big-endian `u32` at `at`, if the buffer holds it.
pub(crate) fn get_u32(buf: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let b = buf.get(at..end)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(b);
    Some(u32::from_be_bytes(a))
}

/// Writes a big-endian `u32` at `at`.
pub(crate) fn put_u32(buf: &mut [u8], at: usize, v: u32) -> Result<()> {
    let end = at.checked_add(4).ok_or(Error)?;
    buf.get_mut(at..end).ok_or(Error)?.copy_from_slice(&v.to_be_bytes());
    Ok(())
}
