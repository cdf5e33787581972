//! Non-mandatory IEs whose contents were invalid, recorded while decoding a message
//! (Q.2931 5.6.8.2, from Q.931 5.8.7.2 "non-mandatory information element content error": the
//! receiver acts on the message and on the IEs it recognised with valid contents; the bad ones
//! are dropped and may be reported with STATUS #100 naming them).
//!
//! A fixed-size list, so decoding never allocates: the first [`MAX_BAD_IES`] bad IEs are kept
//! (their identifiers become the diagnostic of cause #100, Q.2931 4.5.15); later ones are
//! dropped all the same, only counted in [`BadIes::overflow`].

use super::ie::IeInstruction;

/// Bad non-mandatory IEs kept per message (ngatm keeps a similar bounded error array,
/// `UNI_MAX_ERRIE`, and stops stuffing diagnostics when its cause is full).
pub const MAX_BAD_IES: usize = 4;

/// One non-mandatory IE with invalid contents: its identifier and instruction field (whose
/// action indicator, when flagged, says what to do about it: Q.2931 5.7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BadIe {
    /// Identifier.
    pub id: u8,
    /// Instruction field (octet 2).
    pub instruction: IeInstruction,
    /// An access IE (user-user information) longer than its maximum: reported with cause #43
    /// "access information discarded" instead of #100 (Q.2931 5.6.8.2, as Q.931 5.8.7.2).
    pub access_discarded: bool,
}

impl BadIe {
    /// A bad IE whose contents are invalid (cause #100).
    pub const fn invalid(id: u8, instruction: IeInstruction) -> BadIe {
        BadIe { id, instruction, access_discarded: false }
    }
}

/// The bad non-mandatory IEs of one message, in order of appearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BadIes {
    list: [BadIe; MAX_BAD_IES],
    len: u8,
    /// True when more than [`MAX_BAD_IES`] were found (the extra ones are dropped unnamed).
    pub overflow: bool,
}

impl BadIes {
    /// No bad IE.
    pub const EMPTY: BadIes =
        BadIes { list: [BadIe::invalid(0, IeInstruction::ITU_T); MAX_BAD_IES], len: 0, overflow: false };

    /// Records one bad IE (beyond [`MAX_BAD_IES`] only [`BadIes::overflow`] is set).
    pub fn push(&mut self, ie: BadIe) {
        match self.list.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = ie;
                self.len = self.len.saturating_add(1);
            }
            None => self.overflow = true,
        }
    }

    /// The recorded IEs.
    pub fn as_slice(&self) -> &[BadIe] {
        self.list.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// True when no IE was bad.
    pub const fn is_empty(&self) -> bool {
        self.len == 0 && !self.overflow
    }

    /// True when an IE `id` was recorded as bad.
    pub fn contains(&self, id: u8) -> bool {
        self.as_slice().iter().any(|b| b.id == id)
    }
}

impl Default for BadIes {
    fn default() -> Self {
        BadIes::EMPTY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_keeps_the_first_four_and_flags_the_rest() {
        let mut b = BadIes::EMPTY;
        assert!(b.is_empty());
        for id in 1..=6u8 {
            b.push(BadIe::invalid(id, IeInstruction::ITU_T));
        }
        let ids: [u8; 4] = core::array::from_fn(|k| b.as_slice()[k].id);
        assert_eq!((ids, b.as_slice().len(), b.overflow), ([1, 2, 3, 4], 4, true));
        assert!(b.contains(4) && !b.contains(5));
    }
}
