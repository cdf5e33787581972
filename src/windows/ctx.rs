//! Contexts handed to NDIS as `NDIS_HANDLE` words.
//!
//! The core's contexts are generational [`Token`](crate::ndis::Token)s (16-bit slot index +
//! 32-bit generation, so bits 48..63 are always zero on a 64-bit target). NDIS hands a
//! CallMgrVcContext / CallMgrPartyContext / CallMgrSapContext back to ProtocolCm* handlers
//! without any adapter argument, so the Windows layer stores the adapter's slot (1-based) in the
//! top byte: `word = (slot + 1) << 56 | token`. A word whose slot byte is zero or out of range, or
//! whose token is stale, is refused before anything is dereferenced.

#[cfg(not(target_pointer_width = "64"))]
compile_error!("the context encoding needs 64-bit NDIS_HANDLEs");

/// Adapters (NICs) one driver instance serves at once.
pub const MAX_ADAPTERS: usize = 8;
const SLOT_SHIFT: u32 = 56;
const TOKEN_MASK: usize = (1usize << SLOT_SHIFT) - 1;

/// The word for `token` of adapter `slot`; `None` if either does not fit.
pub fn encode(slot: usize, token: usize) -> Option<usize> {
    if slot >= MAX_ADAPTERS || token == 0 || token & !TOKEN_MASK != 0 {
        return None;
    }
    Some(((slot + 1) << SLOT_SHIFT) | token)
}

/// `(slot, token word)` from a word NDIS handed back.
pub fn decode(word: usize) -> Option<(usize, usize)> {
    let slot = (word >> SLOT_SHIFT).checked_sub(1)?;
    let token = word & TOKEN_MASK;
    if slot >= MAX_ADAPTERS || token == 0 {
        return None;
    }
    Some((slot, token))
}
