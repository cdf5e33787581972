//! The adapter's `NetworkAddress` keyword (NDIS's standard per-adapter address override: 12 hex
//! digits) as the ATM End System Identifier. Kernel-independent (`tests/ffi_host.rs`).

/// Parses 12 hex digits (either case; `-` or `:` between octets allowed) into an ESI. A multicast
/// address (bit 0 of the first octet) is refused: an ESI names one end system.
pub fn parse_esi(units: impl IntoIterator<Item = u16>) -> Option<[u8; 6]> {
    let mut esi = [0u8; 6];
    let mut n = 0usize;
    for u in units {
        let c = char::from_u32(u32::from(u))?;
        if c == '-' || c == ':' {
            continue;
        }
        let d = c.to_digit(16)? as u8;
        let octet = esi.get_mut(n / 2)?;
        *octet = *octet << 4 | d;
        n += 1;
    }
    (n == 12 && esi[0] & 1 == 0).then_some(esi)
}
