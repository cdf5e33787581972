//! The contexts the driver hands to NDIS (CallMgrAfContext, CallMgrSapContext, CallMgrVcContext /
//! MiniportVcContext, CallMgrPartyContext).
//!
//! Each is a [`Token`]: a slot index and that slot's generation packed into one non-zero word, never
//! a pointer. A stale or forged context fails the generation check in the table that issued it and
//! is answered with an `NdisStatus`; nothing is ever dereferenced through it.

use core::fmt;
use core::num::NonZeroUsize;

/// Slot index (low bits) + generation (high bits), never zero because generations start at 1.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Token(NonZeroUsize);

impl Token {
    /// Bits of the word that hold the slot index.
    pub const INDEX_BITS: u32 = 16;
    pub const MAX_SLOTS: usize = 1 << Self::INDEX_BITS;
    const INDEX_MASK: usize = Self::MAX_SLOTS - 1;

    /// Packs `(index, generation)`; `None` if the index does not fit or the generation is zero.
    pub fn new(index: usize, generation: u32) -> Option<Token> {
        if index >= Self::MAX_SLOTS || generation == 0 {
            return None;
        }
        let word = ((generation as usize) << Self::INDEX_BITS) | index;
        NonZeroUsize::new(word).map(Token)
    }

    pub const fn index(self) -> usize {
        self.0.get() & Self::INDEX_MASK
    }

    pub const fn generation(self) -> u32 {
        (self.0.get() >> Self::INDEX_BITS) as u32
    }

    /// The raw word as handed to NDIS.
    pub const fn as_usize(self) -> usize {
        self.0.get()
    }

    /// A word coming back from NDIS; zero (NULL) is `None`.
    pub const fn from_usize(word: usize) -> Option<Token> {
        match NonZeroUsize::new(word) {
            Some(nz) => Some(Token(nz)),
            None => None,
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.index(), self.generation())
    }
}

macro_rules! context {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Copy, Clone, PartialEq, Eq, Hash)]
        #[repr(transparent)]
        pub struct $name(pub Token);

        impl $name {
            pub const fn as_usize(self) -> usize { self.0.as_usize() }
            pub const fn from_usize(word: usize) -> Option<Self> {
                match Token::from_usize(word) { Some(t) => Some($name(t)), None => None }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }
    };
}

context!(
    /// CallMgrAfContext.
    AfContext
);
context!(
    /// CallMgrSapContext.
    SapContext
);
context!(
    /// CallMgrVcContext (= MiniportVcContext: an MCM has one VC context for both roles).
    VcContext
);
context!(
    /// CallMgrPartyContext.
    PartyContext
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_index_and_generation_and_is_never_null() {
        let t = Token::new(513, 7).unwrap();
        assert_eq!((t.index(), t.generation()), (513, 7));
        assert_eq!(Token::from_usize(t.as_usize()), Some(t));
        assert!(Token::new(0, 0).is_none());
        assert!(Token::new(Token::MAX_SLOTS, 1).is_none());
        assert!(Token::from_usize(0).is_none());
    }
}
