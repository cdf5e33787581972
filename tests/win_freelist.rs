//! Host tests of `src/windows/freelist.rs` (issue 8 item 8): fallible allocation, and the bounded
//! free lists of incoming-call blocks and RX NBLs — a double return is refused and counted, the
//! list never holds an index twice and never reallocates.

#[path = "../src/windows/freelist.rs"]
#[allow(dead_code, clippy::undocumented_unsafe_blocks)]
mod freelist;

extern crate alloc;

use freelist::{FreeList, try_box, try_boxed_slice};

#[test]
fn a_full_list_hands_out_every_index_once_lowest_first() {
    let mut f = FreeList::try_new_full(5).unwrap();
    assert_eq!((f.len(), f.capacity()), (5, 5));
    let got: Vec<u32> = std::iter::from_fn(|| f.pop()).collect();
    assert_eq!(got, [0, 1, 2, 3, 4]);
    assert_eq!(f.pop(), None);
}

#[test]
fn a_double_return_is_refused_counted_and_not_listed_twice() {
    let mut f = FreeList::try_new_full(3).unwrap();
    let a = f.pop().unwrap();
    assert!(!f.is_free(a));
    assert!(f.push(a));
    assert!(!f.push(a), "second return of the same index");
    assert_eq!(f.refused(), 1);
    assert_eq!(f.len(), 3);
    // Drained, every index comes out exactly once.
    let mut got: Vec<u32> = std::iter::from_fn(|| f.pop()).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2]);
}

#[test]
fn pushes_never_grow_the_list_past_its_capacity() {
    let mut f = FreeList::try_new_full(4).unwrap();
    let stack_before = f.capacity();
    for i in 0..100 {
        assert!(!f.push(i % 8), "every index is already free or out of range");
    }
    assert_eq!(f.refused(), 100);
    assert_eq!((f.len(), f.capacity()), (4, stack_before));
}

#[test]
fn out_of_range_indices_are_refused() {
    let mut f = FreeList::try_new_full(2).unwrap();
    f.pop();
    assert!(!f.push(2));
    assert!(!f.push(u32::MAX));
    assert_eq!(f.refused(), 2);
}

#[test]
fn an_empty_list_is_fine() {
    let mut f = FreeList::try_new_full(0).unwrap();
    assert!(f.is_empty());
    assert_eq!(f.pop(), None);
    assert!(!f.push(0));
}

#[test]
fn allocation_failure_is_an_error_not_an_abort() {
    // More than the address space: try_reserve fails instead of aborting.
    assert!(try_boxed_slice(usize::MAX / 2, |_| 0u64).is_err());
    let b = try_box([7u8; 4096]).unwrap();
    assert_eq!(b[4095], 7);
    assert_eq!(*try_box(()).unwrap(), ());
}
