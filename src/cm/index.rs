//! The control state's indexes, so no event walks every VC or party: the timer heap (earliest
//! deadline in O(1), changes in O(log n)) and the call-reference index (O(1) expected lookup of
//! an incoming message's call). Both are sized at initialize and never allocate afterwards.

use core::time::Duration;

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use crate::uni::state::CallRef;

/// Not in the heap / empty index cell.
const NOWHERE: u32 = u32::MAX;

/// An indexed binary min-heap of deadlines keyed by a small timer id (`0..ids`): each id is in
/// the heap at most once, so its capacity is exact. `set` and `cancel` are O(log n), `earliest`
/// is O(1).
#[derive(Debug)]
pub struct TimerHeap {
    /// (deadline, id), a binary min-heap on the deadline.
    heap: Vec<(Duration, u32)>,
    /// Per id: its position in `heap`, or [`NOWHERE`].
    pos: Vec<u32>,
}

impl TimerHeap {
    /// A heap for timer ids `0..ids`.
    pub fn with_capacity(ids: usize) -> Result<Self, TryReserveError> {
        let mut heap = Vec::new();
        heap.try_reserve_exact(ids)?;
        let mut pos = Vec::new();
        pos.try_reserve_exact(ids)?;
        pos.resize(ids, NOWHERE);
        Ok(TimerHeap { heap, pos })
    }

    /// The earliest deadline and its id.
    pub fn earliest(&self) -> Option<(Duration, usize)> {
        self.heap.first().map(|&(d, id)| (d, id as usize))
    }

    /// The deadline of `id`, if armed.
    pub fn due(&self, id: usize) -> Option<Duration> {
        let p = *self.pos.get(id)?;
        self.heap.get(p as usize).map(|e| e.0)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Arms (or re-arms) `id` for `due`. An id out of range is ignored (`false`).
    pub fn set(&mut self, id: usize, due: Duration) -> bool {
        let Some(&p) = self.pos.get(id) else { return false };
        if p == NOWHERE {
            if self.heap.len() >= self.heap.capacity() {
                return false;
            }
            let at = self.heap.len();
            self.heap.push((due, id as u32));
            self.place(at);
            self.sift_up(at);
        } else {
            let at = p as usize;
            let Some(e) = self.heap.get_mut(at) else { return false };
            let old = e.0;
            e.0 = due;
            if due < old {
                self.sift_up(at);
            } else {
                self.sift_down(at);
            }
        }
        true
    }

    /// Disarms `id` (nothing if it was not armed).
    pub fn cancel(&mut self, id: usize) {
        let Some(&p) = self.pos.get(id) else { return };
        if p == NOWHERE {
            return;
        }
        let at = p as usize;
        let last = self.heap.len().saturating_sub(1);
        self.heap.swap(at, last);
        self.heap.pop();
        if let Some(slot) = self.pos.get_mut(id) {
            *slot = NOWHERE;
        }
        if at < self.heap.len() {
            self.place(at);
            self.sift_up(at);
            self.sift_down(at);
        }
    }

    /// Removes and returns the earliest id if its deadline is at or before `now`.
    pub fn pop_due(&mut self, now: Duration) -> Option<usize> {
        let (due, id) = self.earliest()?;
        if due > now {
            return None;
        }
        self.cancel(id);
        Some(id)
    }

    fn place(&mut self, at: usize) {
        if let Some(&(_, id)) = self.heap.get(at)
            && let Some(p) = self.pos.get_mut(id as usize)
        {
            *p = at as u32;
        }
    }

    fn key(&self, at: usize) -> Option<Duration> {
        self.heap.get(at).map(|e| e.0)
    }

    fn sift_up(&mut self, mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            match (self.key(at), self.key(parent)) {
                (Some(k), Some(pk)) if k < pk => {
                    self.heap.swap(at, parent);
                    self.place(at);
                    self.place(parent);
                    at = parent;
                }
                _ => return,
            }
        }
    }

    fn sift_down(&mut self, mut at: usize) {
        loop {
            let (l, r) = (2 * at + 1, 2 * at + 2);
            let mut least = at;
            for c in [l, r] {
                if let (Some(ck), Some(lk)) = (self.key(c), self.key(least))
                    && ck < lk
                {
                    least = c;
                }
            }
            if least == at {
                return;
            }
            self.heap.swap(at, least);
            self.place(at);
            self.place(least);
            at = least;
        }
    }
}

/// Call reference → VC slot: open addressing with linear probing and backward-shift deletion,
/// at most half full. Each call reference maps to at most one slot (the newest); the caller
/// checks the VC it finds.
#[derive(Debug)]
pub struct CrefIndex {
    /// (key, slot); key [`NOWHERE`] = empty.
    /// A power of two in length (`len - 1` is the probe mask).
    cells: Vec<(u32, u16)>,
    /// 32 − log2(cells / [`RUN`]): Fibonacci hashing keeps the top bits of the product.
    shift: u32,
}

fn cref_key(c: CallRef) -> u32 {
    (c.value & 0x7f_ffff) << 1 | u32::from(c.ours)
}

/// Keys per run: consecutive keys `RUN · g .. RUN · g + RUN` (eight consecutive call
/// references, both flags) share one run of cells, so a switch's or our own sequential
/// references fill a few cache lines instead of one line each (a link-loss teardown of 65 534
/// calls removes them in that order); the runs themselves are scattered by the hash.
const RUN: u32 = 16;

impl CrefIndex {
    /// `cells.len() - 1`: computed, not stored, so the control state stays small (it is built
    /// on MiniportInitializeEx's stack).
    fn mask(&self) -> usize {
        self.cells.len().wrapping_sub(1)
    }

    /// An index for up to `entries` call references.
    pub fn with_capacity(entries: usize) -> Result<Self, TryReserveError> {
        let n = (entries.max(1) * 2).next_power_of_two();
        let mut cells = Vec::new();
        cells.try_reserve_exact(n)?;
        cells.resize(n, (NOWHERE, 0));
        let runs = n.trailing_zeros().saturating_sub(RUN.trailing_zeros());
        Ok(CrefIndex { cells, shift: 32 - runs })
    }

    fn home(&self, key: u32) -> usize {
        // Fibonacci hashing of the key's run: the top log2(cells / RUN) bits of
        // (key / RUN) × 2^32/φ pick the run (consecutive runs land far apart); the key's
        // place in its run is kept. With 16 cells or fewer, the shift is 32: one run.
        let run = (key / RUN).wrapping_mul(0x9E37_79B9).checked_shr(self.shift).unwrap_or(0) as usize;
        (run * RUN as usize + (key % RUN) as usize) & self.mask()
    }

    /// The longest probe run (cells visited by the worst lookup): a measure of clustering.
    #[cfg(test)]
    fn max_probe(&self) -> usize {
        let mut worst = 0;
        for (i, &(k, _)) in self.cells.iter().enumerate() {
            if k != NOWHERE {
                worst = worst.max(((i + self.cells.len() - self.home(k)) & self.mask()) + 1);
            }
        }
        worst
    }

    /// The slot `cref` maps to.
    pub fn get(&self, cref: CallRef) -> Option<usize> {
        let key = cref_key(cref);
        let mut i = self.home(key);
        for _ in 0..self.cells.len() {
            match self.cells.get(i) {
                Some(&(k, slot)) if k == key => return Some(usize::from(slot)),
                Some(&(NOWHERE, _)) | None => return None,
                Some(_) => i = (i + 1) & self.mask(),
            }
        }
        None
    }

    /// Maps `cref` to `slot` (replacing an older mapping). `false` if the index is full, which
    /// its size (twice the VC table) makes impossible.
    pub fn insert(&mut self, cref: CallRef, slot: usize) -> bool {
        let key = cref_key(cref);
        let mut i = self.home(key);
        for _ in 0..self.cells.len() {
            match self.cells.get_mut(i) {
                Some(c) if c.0 == key || c.0 == NOWHERE => {
                    *c = (key, slot as u16);
                    return true;
                }
                Some(_) => i = (i + 1) & self.mask(),
                None => return false,
            }
        }
        false
    }

    /// Forgets `cref` if it maps to `slot`.
    pub fn remove(&mut self, cref: CallRef, slot: usize) {
        let key = cref_key(cref);
        let mut i = self.home(key);
        for _ in 0..self.cells.len() {
            match self.cells.get(i) {
                Some(&(k, s)) if k == key => {
                    if usize::from(s) == slot {
                        self.delete_at(i);
                    }
                    return;
                }
                Some(&(NOWHERE, _)) | None => return,
                Some(_) => i = (i + 1) & self.mask(),
            }
        }
    }

    /// Backward-shift deletion: later members of the probe run move up so no tombstone is left.
    fn delete_at(&mut self, mut hole: usize) {
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask();
            let Some(&(k, s)) = self.cells.get(j) else { return };
            if k == NOWHERE {
                break;
            }
            let home = self.home(k);
            // Moves into the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                if let Some(c) = self.cells.get_mut(hole) {
                    *c = (k, s);
                }
                hole = j;
            }
        }
        if let Some(c) = self.cells.get_mut(hole) {
            *c = (NOWHERE, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn heap_pops_in_deadline_order_and_follows_rearm_and_cancel() {
        let mut h = TimerHeap::with_capacity(8).unwrap();
        for (id, d) in [(0, 50), (1, 10), (2, 40), (3, 30), (4, 20)] {
            assert!(h.set(id, ms(d)));
        }
        assert_eq!(h.earliest(), Some((ms(10), 1)));
        h.set(1, ms(60)); // later
        h.set(2, ms(5)); // earlier
        h.cancel(3);
        h.cancel(3);
        assert_eq!(h.due(3), None);
        assert_eq!(h.due(0), Some(ms(50)));
        let mut order = Vec::new();
        while let Some(id) = h.pop_due(ms(1000)) {
            order.push(id);
        }
        assert_eq!(order, [2, 4, 0, 1]);
        assert!(h.is_empty());
        assert!(!h.set(8, ms(1)), "an id out of range is refused");
    }

    #[test]
    fn heap_pop_due_stops_at_now() {
        let mut h = TimerHeap::with_capacity(4).unwrap();
        h.set(0, ms(10));
        h.set(1, ms(20));
        assert_eq!(h.pop_due(ms(15)), Some(0));
        assert_eq!(h.pop_due(ms(15)), None);
        assert_eq!(h.len(), 1);
    }

    /// Random operations against a plain list: the heap agrees on the earliest at every step.
    #[test]
    fn heap_matches_a_naive_model_under_random_operations() {
        let mut h = TimerHeap::with_capacity(64).unwrap();
        let mut model: Vec<Option<Duration>> = vec![None; 64];
        let mut x: u64 = 0x1234_5678;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = (x % 64) as usize;
            match (x >> 8) % 3 {
                0 | 1 => {
                    let d = ms((x >> 16) % 1000);
                    h.set(id, d);
                    model[id] = Some(d);
                }
                _ => {
                    h.cancel(id);
                    model[id] = None;
                }
            }
            let want = model.iter().flatten().min().copied();
            assert_eq!(h.earliest().map(|e| e.0), want);
            assert_eq!(h.len(), model.iter().flatten().count());
        }
    }

    fn cr(value: u32, ours: bool) -> CallRef {
        CallRef { value, ours }
    }

    #[test]
    fn cref_index_maps_distinguishes_the_flag_and_replaces() {
        let mut ix = CrefIndex::with_capacity(4).unwrap();
        assert!(ix.insert(cr(7, true), 1));
        assert!(ix.insert(cr(7, false), 2));
        assert_eq!(ix.get(cr(7, true)), Some(1));
        assert_eq!(ix.get(cr(7, false)), Some(2));
        assert!(ix.insert(cr(7, false), 3));
        assert_eq!(ix.get(cr(7, false)), Some(3), "the newest mapping wins");
        ix.remove(cr(7, false), 2);
        assert_eq!(ix.get(cr(7, false)), Some(3), "removing an older slot leaves the newer mapping");
        ix.remove(cr(7, false), 3);
        assert_eq!(ix.get(cr(7, false)), None);
        assert_eq!(ix.get(cr(8, true)), None);
    }

    /// Call references come in runs (ours are sequential, a switch's often are too): a full
    /// table of them must not collapse into one long probe run.
    #[test]
    fn cref_index_spreads_sequential_call_references() {
        let mut ix = CrefIndex::with_capacity(65_534).unwrap();
        for v in 1..=65_534u32 {
            assert!(ix.insert(cr(v, v % 3 == 0), v as usize));
        }
        assert!(ix.max_probe() <= 64, "longest probe run {}", ix.max_probe());
        let mut small = CrefIndex::with_capacity(1).unwrap();
        assert!(small.insert(cr(5, true), 0));
        assert_eq!(small.get(cr(5, true)), Some(0));
    }

    /// Eight consecutive call references (one flag) sit in one run of 16 cells (128 bytes):
    /// removing 65 534 sequential ones walks a few lines, not one line per call.
    #[test]
    fn cref_index_keeps_consecutive_call_references_in_one_run_of_cells() {
        let ix = CrefIndex::with_capacity(65_534).unwrap();
        for first in [8u32, 0x40_0000, 0x12_3450] {
            let homes: Vec<usize> = (first..first + 8).map(|v| ix.home(cref_key(cr(v, false)))).collect();
            let lo = *homes.iter().min().unwrap();
            assert!(homes.iter().all(|&h| h - lo < RUN as usize), "homes {homes:?}");
            assert_eq!(lo % RUN as usize, 0, "a run starts on a multiple of RUN");
        }
        // Different runs are spread over the table.
        let runs: std::collections::HashSet<usize> =
            (0..4096u32).map(|g| ix.home(cref_key(cr(g * 8, false))) / RUN as usize).collect();
        assert!(runs.len() > 2500, "4 096 consecutive runs use only {} distinct runs of cells", runs.len());
    }

    /// A switch that picks call references at random: a full table keeps short probe runs too.
    #[test]
    fn cref_index_spreads_random_call_references() {
        let mut ix = CrefIndex::with_capacity(65_534).unwrap();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut n = 0;
        while n < 65_534 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let c = cr((x & 0x7f_ffff) as u32, x & 1 << 40 != 0);
            if ix.get(c).is_none() {
                assert!(ix.insert(c, n));
                n += 1;
            }
        }
        assert!(ix.max_probe() <= 64, "longest probe run {}", ix.max_probe());
    }

    /// Random inserts and removes against a map, with many keys sharing probe runs.
    #[test]
    fn cref_index_matches_a_map_under_random_operations() {
        let mut ix = CrefIndex::with_capacity(200).unwrap();
        let mut model = std::collections::HashMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let c = cr((x % 300) as u32, x & 1 << 40 != 0);
            if (x >> 20).is_multiple_of(2) && model.len() < 200 {
                let slot = ((x >> 24) % 1000) as usize;
                assert!(ix.insert(c, slot));
                model.insert(c, slot);
            } else if let Some(&slot) = model.get(&c) {
                ix.remove(c, slot);
                model.remove(&c);
            }
            for (k, v) in &model {
                assert_eq!(ix.get(*k), Some(*v));
            }
            assert_eq!(ix.get(cr(100_000, false)), None);
        }
    }
}
