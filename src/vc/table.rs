//! A generational slot table: fixed capacity, allocated once, hands out [`Token`]s.
//!
//! `get` checks the token's generation against the slot's, so a stale or forged token finds
//! nothing. Removing an entry bumps the slot's generation; a token is never valid twice.
//!
//! Live entries are also linked in insertion order (two `u16` per slot), so walking them costs
//! the number of live entries, never the capacity.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use crate::ndis::Token;

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    /// Neighbours in the live list ([`NIL`] at the ends); meaningless while free.
    prev: u16,
    next: u16,
    value: Option<T>,
}

/// No slot (end of the live list).
const NIL: u16 = u16::MAX;

/// See the module docs.
#[derive(Debug)]
pub struct Table<T> {
    slots: Vec<Slot<T>>,
    /// Free slot indices (a stack).
    free: Vec<u16>,
    /// Live entries (at most [`Token::MAX_SLOTS`]; `u32` keeps the table small).
    live: u32,
    /// Oldest and newest live entries ([`NIL`] when empty).
    head: u16,
    tail: u16,
}

/// The table is full.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Full;

impl<T> Table<T> {
    /// A table of `capacity` slots (at most [`Token::MAX_SLOTS`]); the only allocation it ever makes.
    pub fn with_capacity(capacity: usize) -> Result<Self, TryReserveError> {
        let capacity = capacity.min(Token::MAX_SLOTS);
        let mut slots = Vec::new();
        slots.try_reserve_exact(capacity)?;
        let mut free = Vec::new();
        free.try_reserve_exact(capacity)?;
        for i in 0..capacity {
            slots.push(Slot { generation: 1, prev: NIL, next: NIL, value: None });
            // Lowest index on top of the stack, so slots are used in order (readable traces).
            free.push((capacity - 1 - i) as u16);
        }
        Ok(Table { slots, free, live: 0, head: NIL, tail: NIL })
    }

    /// Stores `value`, returning its token; [`Full`] when every slot is taken.
    pub fn insert(&mut self, value: T) -> Result<Token, Full> {
        let index = self.free.pop().ok_or(Full)?;
        let Some(slot) = self.slots.get_mut(usize::from(index)) else {
            return Err(Full);
        };
        slot.value = Some(value);
        slot.prev = self.tail;
        slot.next = NIL;
        let generation = slot.generation;
        match self.slots.get_mut(usize::from(self.tail)) {
            Some(t) => t.next = index,
            None => self.head = index,
        }
        self.tail = index;
        self.live += 1;
        Token::new(usize::from(index), generation).ok_or(Full)
    }

    pub fn get(&self, token: Token) -> Option<&T> {
        let slot = self.slots.get(token.index())?;
        if slot.generation != token.generation() {
            return None;
        }
        slot.value.as_ref()
    }

    pub fn get_mut(&mut self, token: Token) -> Option<&mut T> {
        let slot = self.slots.get_mut(token.index())?;
        if slot.generation != token.generation() {
            return None;
        }
        slot.value.as_mut()
    }

    /// Removes the entry; the token (and every copy of it) is dead from now on.
    pub fn remove(&mut self, token: Token) -> Option<T> {
        let slot = self.slots.get_mut(token.index())?;
        if slot.generation != token.generation() {
            return None;
        }
        let value = slot.value.take()?;
        // Skip 0 on wrap: a token is never zero (NULL).
        slot.generation = slot.generation.wrapping_add(1).max(1);
        let (prev, next) = (slot.prev, slot.next);
        match self.slots.get_mut(usize::from(prev)) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(usize::from(next)) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        self.free.push(token.index() as u16);
        self.live -= 1;
        Some(value)
    }

    /// The token currently valid for slot `index`, if occupied.
    pub fn token_at(&self, index: usize) -> Option<Token> {
        let slot = self.slots.get(index)?;
        slot.value.as_ref()?;
        Token::new(index, slot.generation)
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.live as usize
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Every live entry with its token, oldest first; costs the number of live entries.
    pub fn iter(&self) -> impl Iterator<Item = (Token, &T)> {
        let mut at = self.head;
        core::iter::from_fn(move || {
            let i = usize::from(at);
            let s = self.slots.get(i)?;
            at = s.next;
            Some((Token::new(i, s.generation)?, s.value.as_ref()?))
        })
    }

    /// The oldest live entry: where a walk by [`Table::next_of`] starts.
    pub fn first(&self) -> Option<Token> {
        self.token_at(usize::from(self.head))
    }

    /// The live entry after `token` (insertion order); `None` at the end or if `token` is stale.
    /// A walk that keeps the next token across changes visits each entry once, in order, as long
    /// as that entry stays alive (a new entry goes to the end, so it is visited too).
    pub fn next_of(&self, token: Token) -> Option<Token> {
        let slot = self.slots.get(token.index())?;
        if slot.generation != token.generation() || slot.value.is_none() {
            return None;
        }
        self.token_at(usize::from(slot.next))
    }

    /// Every live entry's token (a snapshot, for visiting while mutating).
    pub fn tokens(&self) -> impl Iterator<Item = Token> + '_ {
        self.iter().map(|(t, _)| t)
    }

    /// The first live entry matching `f`.
    pub fn find(&self, mut f: impl FnMut(&T) -> bool) -> Option<Token> {
        self.iter().find(|(_, v)| f(v)).map(|(t, _)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_token_finds_nothing_after_remove_and_reuse() {
        let mut t = Table::with_capacity(2).unwrap();
        let a = t.insert("a").unwrap();
        assert_eq!(t.remove(a), Some("a"));
        let b = t.insert("b").unwrap();
        assert_eq!(a.index(), b.index(), "slot reused");
        assert_ne!(a, b, "with a new generation");
        assert_eq!(t.get(a), None);
        assert_eq!(t.remove(a), None, "double free is refused");
        assert_eq!(t.get(b), Some(&"b"));
    }

    #[test]
    fn iteration_visits_live_entries_in_insertion_order_after_removals() {
        let mut t = Table::with_capacity(8).unwrap();
        let toks: Vec<Token> = (0..6).map(|i| t.insert(i).unwrap()).collect();
        t.remove(toks[0]);
        t.remove(toks[3]);
        t.remove(toks[5]);
        let seen: Vec<i32> = t.iter().map(|(_, v)| *v).collect();
        assert_eq!(seen, [1, 2, 4]);
        let again = t.insert(9).unwrap();
        assert_eq!(again.index(), toks[5].index(), "the freed slot is reused");
        let seen: Vec<i32> = t.iter().map(|(_, v)| *v).collect();
        assert_eq!(seen, [1, 2, 4, 9]);
        for tok in t.tokens().collect::<Vec<_>>() {
            t.remove(tok);
        }
        assert_eq!(t.iter().count(), 0);
        assert!(t.is_empty());
    }

    #[test]
    fn next_of_walks_in_insertion_order_across_removals_and_refuses_stale_tokens() {
        let mut t = Table::with_capacity(8).unwrap();
        let toks: Vec<Token> = (0..4).map(|i| t.insert(i).unwrap()).collect();
        assert_eq!(t.first(), Some(toks[0]));
        // Removing the entry after the cursor while the walk holds the cursor: it is skipped.
        t.remove(toks[2]);
        assert_eq!(t.next_of(toks[1]), Some(toks[3]));
        // A stale cursor leads nowhere (the caller starts over from `first`).
        t.remove(toks[1]);
        assert_eq!(t.next_of(toks[1]), None);
        let late = t.insert(9).unwrap();
        assert_eq!(t.next_of(toks[3]), Some(late), "a new entry is visited last");
        assert_eq!(t.next_of(late), None);
        t.remove(toks[0]);
        assert_eq!(t.first(), Some(toks[3]));
    }

    #[test]
    fn full_table_refuses_and_forged_index_is_ignored() {
        let mut t = Table::with_capacity(1).unwrap();
        t.insert(1).unwrap();
        assert_eq!(t.insert(2), Err(Full));
        assert_eq!(t.get(Token::new(5, 1).unwrap()), None);
        assert_eq!(t.len(), 1);
    }
}
