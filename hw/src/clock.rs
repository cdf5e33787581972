//! Virtual monotonic time. The lab advances it explicitly, so T308 = 30 s runs in microseconds and
//! every run is deterministic. Shared by `Arc<Clock>`; all methods take `&self`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One process-wide order for everything the lab logs (NDIS calls and wire messages), so a
/// scenario can assert their relative order: each log entry takes the next stamp.
static STAMP: AtomicU64 = AtomicU64::new(0);

/// The next stamp (strictly increasing across every log of every lab in the process).
pub fn next_stamp() -> u64 {
    STAMP.fetch_add(1, Ordering::Relaxed)
}

/// Virtual monotonic time in nanoseconds since the lab started. Never goes backwards.
#[derive(Debug, Default)]
pub struct Clock {
    nanos: AtomicU64,
}

fn to_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Clock {
    /// A clock at time zero.
    pub fn new() -> Clock {
        Clock { nanos: AtomicU64::new(0) }
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }

    /// Moves time forward by `d` (saturating); returns the new time.
    pub fn advance(&self, d: Duration) -> Duration {
        let step = to_nanos(d);
        let prev = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_add(step)))
            .unwrap_or_else(|n| n);
        Duration::from_nanos(prev.saturating_add(step))
    }

    /// Moves time forward to `t`; a `t` in the past leaves the clock where it is (monotonic).
    /// Returns the new time.
    pub fn advance_to(&self, t: Duration) -> Duration {
        let target = to_nanos(t);
        let prev = self.nanos.fetch_max(target, Ordering::AcqRel);
        Duration::from_nanos(prev.max(target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn clock_advances_and_never_goes_backwards() {
        let c = Clock::new();
        assert_eq!(c.now(), Duration::ZERO);
        assert_eq!(c.advance(Duration::from_secs(30)), Duration::from_secs(30));
        assert_eq!(c.advance_to(Duration::from_secs(10)), Duration::from_secs(30));
        assert_eq!(c.now(), Duration::from_secs(30));
        assert_eq!(c.advance_to(Duration::from_secs(31)), Duration::from_secs(31));
    }

    #[test]
    fn clock_is_shared_across_threads() {
        let c = Arc::new(Clock::new());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        c.advance(Duration::from_millis(1));
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.now(), Duration::from_millis(400));
    }
}
