//! A FIFO of variable-length messages packed into one buffer allocated once: a 2-octet length,
//! then the message, wrapping around the end. Small messages cost what they weigh, not a
//! worst-case slot each.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

/// See the module docs.
#[derive(Debug)]
pub struct MsgQueue {
    buf: Vec<u8>,
    head: usize,
    used: usize,
    count: usize,
}

/// The queue has no room for the message.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Full;

impl MsgQueue {
    /// A queue of `bytes` octets (messages take their length + 2).
    pub fn new(bytes: usize) -> Result<Self, TryReserveError> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(bytes)?;
        buf.resize(bytes, 0);
        Ok(MsgQueue { buf, head: 0, used: 0, count: 0 })
    }

    /// Copies `src` in at `at`, wrapping around the end (two slice copies at most).
    fn put(&mut self, at: usize, src: &[u8]) {
        let first = self.buf.len().saturating_sub(at).min(src.len());
        let (a, b) = src.split_at(first);
        if let Some(d) = self.buf.get_mut(at..at + first) {
            d.copy_from_slice(a);
        }
        if let Some(d) = self.buf.get_mut(..b.len()) {
            d.copy_from_slice(b);
        }
    }

    /// Copies out `dst.len()` octets from `at`, wrapping around the end.
    fn get(&self, at: usize, dst: &mut [u8]) {
        let first = self.buf.len().saturating_sub(at).min(dst.len());
        let (a, b) = dst.split_at_mut(first);
        if let Some(s) = self.buf.get(at..at + first) {
            a.copy_from_slice(s);
        }
        if let Some(s) = self.buf.get(..b.len()) {
            b.copy_from_slice(s);
        }
    }

    /// Appends a copy of `msg` (at most 65535 octets).
    pub fn push(&mut self, msg: &[u8]) -> Result<(), Full> {
        let cap = self.buf.len();
        let Ok(len) = u16::try_from(msg.len()) else { return Err(Full) };
        let need = msg.len() + 2;
        if cap == 0 || self.used + need > cap {
            return Err(Full);
        }
        let tail = (self.head + self.used) % cap;
        self.put(tail, &len.to_be_bytes());
        self.put((tail + 2) % cap, msg);
        self.used += need;
        self.count += 1;
        Ok(())
    }

    /// Copies the oldest message into `out`, returning its length (0 when empty). `out` must
    /// hold 65535 octets to be sure to fit; a message that does not fit is dropped.
    pub fn peek(&self, out: &mut [u8]) -> Option<usize> {
        if self.count == 0 {
            return None;
        }
        let mut l = [0u8; 2];
        self.get(self.head, &mut l);
        let len = usize::from(u16::from_be_bytes(l));
        let dst = out.get_mut(..len)?;
        self.get((self.head + 2) % self.buf.len().max(1), dst);
        Some(len)
    }

    /// Removes the oldest message.
    pub fn pop(&mut self) {
        if self.count == 0 {
            return;
        }
        let mut l = [0u8; 2];
        self.get(self.head, &mut l);
        let need = usize::from(u16::from_be_bytes(l)) + 2;
        self.head = (self.head + need) % self.buf.len().max(1);
        self.used = self.used.saturating_sub(need);
        self.count -= 1;
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_out_whole_and_in_order_across_the_wrap() {
        let mut q = MsgQueue::new(20).unwrap();
        let mut out = [0u8; 64];
        for round in 0..10u8 {
            q.push(&[round; 5]).unwrap();
            q.push(&[round + 100; 7]).unwrap();
            assert_eq!(q.push(&[0; 9]), Err(Full), "5+2 + 7+2 + 9+2 > 20");
            assert_eq!(q.peek(&mut out), Some(5));
            assert_eq!(&out[..5], &[round; 5]);
            q.pop();
            assert_eq!(q.peek(&mut out), Some(7));
            assert_eq!(&out[..7], &[round + 100; 7]);
            q.pop();
            assert!(q.is_empty());
        }
    }

    #[test]
    fn a_message_larger_than_the_reader_buffer_is_not_returned() {
        let mut q = MsgQueue::new(100).unwrap();
        q.push(&[1; 50]).unwrap();
        assert_eq!(q.peek(&mut [0u8; 10]), None);
    }
}
