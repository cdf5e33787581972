//! A port's calls and the index of their timers: every call with an armed timer has one entry
//! (its earliest deadline, its key) in a sorted set, so the earliest deadline of a port and the
//! calls due at an instant are found without walking every call. The calls not active (not N10)
//! are indexed too: a link loss clears them at once without reading every active call.
//!
//! The calls are only reachable through [`Calls`]: a call handed out for writing
//! ([`Calls::get_mut`], [`Calls::insert`]) is marked stale, and the stale call is re-indexed by
//! the next operation on the table (once its `&mut` borrow has ended, so its timers are final).
//! Reads ([`Calls::next_deadline`]) take the one stale call's current timers instead of its index
//! entry. No timer arm site has to remember the index.
//!
//! The call records live in a slab (the map holds slot numbers): a call costs no allocation of
//! its own, and a call removed is dropped in place, only `Gone` (what clearing its other legs
//! and freeing its VC need) moving out.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::call::{Call, CallState, Gone, Key};

/// The calls of one port, with their timer index.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    /// Key → slot in `slots`.
    map: BTreeMap<Key, u32>,
    /// The call records; `None` is a free slot (listed in `free`).
    slots: Vec<Option<Call>>,
    free: Vec<u32>,
    /// (earliest armed deadline, key) of every call with a timer, as of its last re-index.
    wakeups: BTreeSet<(Duration, Key)>,
    /// The deadline each call with a timer is filed under in `wakeups`. Kept out of the call
    /// record: a call without a timer is never read for it.
    filed: FxHashMap<Key, Duration>,
    /// The calls not in N10, as of their last re-index.
    not_active: BTreeSet<Key>,
    /// The call last handed out for writing: its timers and state may differ from its index
    /// entries.
    stale: Option<Key>,
}

impl Calls {
    /// Files the stale call (if any) under its current earliest deadline.
    fn refresh(&mut self) {
        let Some(key) = self.stale.take() else {
            return;
        };
        let Some((active, now)) = self.get(&key).map(|c| (c.state == CallState::N10, c.earliest_deadline())) else {
            return;
        };
        if active {
            self.not_active.remove(&key);
        } else {
            self.not_active.insert(key);
        }
        let was = self.filed.get(&key).copied();
        if now == was {
            return;
        }
        if let Some(old) = was {
            self.wakeups.remove(&(old, key));
            self.filed.remove(&key);
        }
        if let Some(new) = now {
            self.wakeups.insert((new, key));
            self.filed.insert(key, new);
        }
    }

    pub fn get(&self, key: &Key) -> Option<&Call> {
        self.slots.get(*self.map.get(key)? as usize)?.as_ref()
    }

    /// The call for writing (re-indexed at the next operation on the table).
    pub fn get_mut(&mut self, key: &Key) -> Option<&mut Call> {
        self.refresh();
        let i = *self.map.get(key)?;
        let call = self.slots.get_mut(i as usize)?.as_mut()?;
        self.stale = Some(*key);
        Some(call)
    }

    /// Adds (or replaces) a call; it is indexed at the next operation on the table.
    pub fn insert(&mut self, key: Key, call: Call) {
        self.refresh();
        if let Some(&i) = self.map.get(&key) {
            self.unfile(key);
            if let Some(slot) = self.slots.get_mut(i as usize) {
                *slot = Some(call);
            }
        } else if let Some(i) = self.free.pop() {
            if let Some(slot) = self.slots.get_mut(i as usize) {
                *slot = Some(call);
            }
            self.map.insert(key, i);
        } else {
            let i = u32::try_from(self.slots.len()).expect("fewer than 2^32 calls at a port");
            self.slots.push(Some(call));
            self.map.insert(key, i);
        }
        self.stale = Some(key);
    }

    /// Removes a call and its index entries.
    pub fn remove(&mut self, key: &Key) -> Option<Gone> {
        self.refresh();
        let i = self.map.remove(key)?;
        self.unfile(*key);
        self.vacate(i)
    }

    /// Removes the first call (in key order) and its index entries.
    pub fn pop_first(&mut self) -> Option<(Key, Gone)> {
        self.refresh();
        let (key, i) = self.map.pop_first()?;
        self.unfile(key);
        Some((key, self.vacate(i)?))
    }

    /// Frees slot `i`: the call is dropped in place, what is left of it moves out.
    fn vacate(&mut self, i: u32) -> Option<Gone> {
        let slot = self.slots.get_mut(i as usize)?;
        let gone = slot.as_mut().map(Gone::from);
        *slot = None;
        self.free.push(i);
        gone
    }

    /// Removes a call's index entries. An empty index is not searched (a teardown of active
    /// calls without timers looks nothing up).
    fn unfile(&mut self, key: Key) {
        if !self.filed.is_empty()
            && let Some(d) = self.filed.remove(&key)
        {
            self.wakeups.remove(&(d, key));
        }
        if !self.not_active.is_empty() {
            self.not_active.remove(&key);
        }
    }

    /// Replaces `out` with the keys of the calls not in N10, in key order; true if any call is
    /// in N10. O(log n + not active).
    pub fn not_active(&mut self, out: &mut Vec<Key>) -> bool {
        self.refresh();
        out.clear();
        out.extend(self.not_active.iter().copied());
        self.map.len() > self.not_active.len()
    }

    pub fn contains_key(&self, key: &Key) -> bool {
        self.map.contains_key(key)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Call)> {
        self.map.iter().filter_map(|(k, &i)| Some((k, self.slots.get(i as usize)?.as_ref()?)))
    }

    /// The earliest armed timer of any call: the index's first entry, the stale call's own
    /// timers in place of its entry. O(log n).
    pub fn next_deadline(&self) -> Option<Duration> {
        let stale = self.stale;
        let filed = self.wakeups.iter().find(|(_, k)| Some(*k) != stale).map(|(d, _)| *d);
        let fresh = stale.and_then(|k| self.get(&k)).and_then(|c| c.earliest_deadline());
        filed.into_iter().chain(fresh).min()
    }

    /// Replaces `out` with the keys, in key order, of the calls with a timer due at `now` and a
    /// key after `after`. O(log n + due).
    pub fn due(&mut self, now: Duration, after: Option<Key>, out: &mut Vec<Key>) {
        self.refresh();
        out.clear();
        out.extend(
            self.wakeups
                .iter()
                .take_while(|(d, _)| *d <= now)
                .map(|(_, k)| *k)
                .filter(|k| after.is_none_or(|a| *k > a)),
        );
        out.sort_unstable();
    }

    /// The earliest armed timer found by walking every call (what the index must agree with).
    #[cfg(any(test, debug_assertions))]
    pub fn walk_next_deadline(&self) -> Option<Duration> {
        self.iter().filter_map(|(_, c)| c.earliest_deadline()).min()
    }

    /// Every call but the stale one is filed under exactly its earliest deadline, and nothing
    /// else is filed. O(n log n): for debug-build cross-checks.
    #[cfg(any(test, debug_assertions))]
    pub fn check_index(&self) -> Result<(), String> {
        for (k, c) in self.iter() {
            let filed = self.filed.get(k).copied();
            if filed.is_some_and(|d| !self.wakeups.contains(&(d, *k))) {
                return Err(format!("call {k:?} is filed at {filed:?} but the index has no such entry"));
            }
            if Some(*k) != self.stale && filed != c.earliest_deadline() {
                return Err(format!(
                    "call {k:?} is filed at {filed:?} but its earliest timer is {:?}",
                    c.earliest_deadline()
                ));
            }
        }
        if self.filed.len() != self.wakeups.len() || self.filed.keys().any(|k| !self.map.contains_key(k)) {
            return Err(format!("{} index entries for {} filed calls", self.wakeups.len(), self.filed.len()));
        }
        let mut not_active = self.iter().filter(|(k, c)| c.state != CallState::N10 && Some(**k) != self.stale);
        let mut filed = self.not_active.iter().filter(|k| Some(**k) != self.stale);
        loop {
            match (not_active.next().map(|(k, _)| k), filed.next()) {
                (None, None) => break,
                (a, b) if a == b => {}
                (a, b) => return Err(format!("a call not in N10 is {a:?} but the next indexed as such is {b:?}")),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::call::{CallState, Party, PartyState, Timer};
    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    fn call_with_t303(at: Option<Duration>) -> Call {
        let mut c = Call::new(CallState::N6, 0, 32);
        c.timer = at.map(|d| (Timer::T303, d, 0));
        c
    }

    #[test]
    fn calls_index_files_each_call_under_its_earliest_timer_after_every_write() {
        let mut calls = Calls::default();
        calls.insert((true, 1), call_with_t303(Some(s(9))));
        calls.insert((true, 2), call_with_t303(None));
        assert_eq!(calls.next_deadline(), Some(s(9)));
        // Arms on a call without a timer, through its T322 and a party's T398.
        let c = calls.get_mut(&(true, 2)).unwrap();
        c.t322 = Some((s(7), 0));
        c.parties.insert(0, Party { state: PartyState::Active, leg: None, t398: Some(s(5)), answer_at: None });
        assert_eq!(calls.next_deadline(), Some(s(5)), "the stale call's own timers count before re-indexing");
        assert_eq!(calls.check_index(), Ok(()));
        // Cancel the party's timer: T322 is the call's earliest.
        calls.get_mut(&(true, 2)).unwrap().parties.clear();
        assert_eq!(calls.next_deadline(), Some(s(7)));
        // Re-arm call 1 earlier; a clone inserted under a new key is filed on its own.
        calls.get_mut(&(true, 1)).unwrap().timer = Some((Timer::T308, s(3), 0));
        let clone = calls.get(&(true, 1)).unwrap().clone();
        calls.insert((false, 3), clone);
        calls.get_mut(&(true, 1)).unwrap().timer = None;
        assert_eq!(calls.next_deadline(), Some(s(3)));
        assert_eq!(calls.check_index(), Ok(()));
        assert!(calls.remove(&(false, 3)).is_some());
        assert_eq!(calls.next_deadline(), Some(s(7)));
        assert!(calls.remove(&(true, 2)).is_some());
        assert!(calls.remove(&(true, 2)).is_none(), "gone");
        assert_eq!(calls.next_deadline(), None);
        assert_eq!(calls.check_index(), Ok(()));
        assert!(calls.wakeups.is_empty(), "nothing left filed");
    }

    #[test]
    fn due_calls_come_in_key_order_after_the_cursor() {
        let mut calls = Calls::default();
        for (k, d) in [(5, 1), (1, 3), (3, 2), (4, 9), (2, 4)] {
            calls.insert((true, k), call_with_t303(Some(s(d))));
        }
        let mut out = Vec::new();
        calls.due(s(3), None, &mut out);
        assert_eq!(out, vec![(true, 1), (true, 3), (true, 5)], "due at 3 s, by key not by deadline");
        calls.due(s(4), Some((true, 2)), &mut out);
        assert_eq!(out, vec![(true, 3), (true, 5)], "only keys after the cursor");
        calls.due(s(0), None, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn calls_not_active_are_indexed_through_every_state_change_and_pop() {
        let mut calls = Calls::default();
        let mut out = Vec::new();
        assert!(!calls.not_active(&mut out), "no call, none active");
        for k in 1..=4 {
            calls.insert((true, k), call_with_t303(None));
        }
        assert!(!calls.not_active(&mut out));
        assert_eq!(out, vec![(true, 1), (true, 2), (true, 3), (true, 4)]);
        calls.get_mut(&(true, 2)).unwrap().state = CallState::N10;
        calls.get_mut(&(true, 4)).unwrap().state = CallState::N10;
        assert!(calls.not_active(&mut out), "two active");
        assert_eq!(out, vec![(true, 1), (true, 3)]);
        calls.get_mut(&(true, 4)).unwrap().state = CallState::N12;
        assert_eq!(calls.check_index(), Ok(()));
        assert_eq!(calls.pop_first().map(|(k, _)| k), Some((true, 1)));
        assert!(calls.not_active(&mut out));
        assert_eq!(out, vec![(true, 3), (true, 4)], "popped and re-indexed");
        assert!(calls.remove(&(true, 2)).is_some());
        assert!(!calls.not_active(&mut out), "the only active call is gone");
        assert_eq!(calls.check_index(), Ok(()));
    }

    #[test]
    fn check_index_reports_a_timer_or_state_changed_behind_the_tables_back() {
        let mut calls = Calls::default();
        calls.insert((true, 1), call_with_t303(Some(s(9))));
        calls.insert((true, 2), call_with_t303(None));
        assert_eq!(calls.check_index(), Ok(()));
        // A write that skips `get_mut` (what an arm site outside the table would be).
        let slot = calls.map[&(true, 1)] as usize;
        calls.slots[slot].as_mut().unwrap().timer = Some((Timer::T310, s(4), 0));
        assert!(calls.check_index().is_err(), "a missed arm is caught");
        assert_ne!(calls.next_deadline(), calls.walk_next_deadline(), "and the index answers wrong");
        // A state change behind the table's back.
        let mut calls = Calls::default();
        calls.insert((true, 1), call_with_t303(None));
        calls.insert((true, 2), call_with_t303(None));
        assert_eq!(calls.check_index(), Ok(()));
        let slot = calls.map[&(true, 1)] as usize;
        calls.slots[slot].as_mut().unwrap().state = CallState::N10;
        assert!(calls.check_index().is_err(), "a missed state change is caught");
    }
}
