//! Deadlines for sessions and health checks: a min-heap with lazy invalidation.
//!
//! I/O activity only moves a session's deadline later, so the hot path never touches the heap: when an entry
//! pops, its owner recomputes its real deadline and re-arms if that is still in the future.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// What a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKey {
    /// A session: slab index and its unique id (stale entries are ignored).
    Session(usize, u64),
    /// A health check of server `n` (worker-global server index).
    Check(usize),
    /// A listener held back by `rate-limit sessions` may accept again (listener index).
    RateLimit(usize),
    /// A connection waiting for its PROXY header: slab index and unique id.
    Handshake(usize, u64),
    /// End of the accept back-off after a failed accept() (EMFILE, ENOBUFS, …).
    AcceptBackoff,
    /// `hard-stop-after` expired during a soft stop.
    HardStop,
}

/// The heap of pending deadlines.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, TimerKey)>>,
}

impl Timers {
    /// Arm a deadline.
    pub fn arm(&mut self, at: Instant, key: TimerKey) {
        self.heap.push(Reverse((at, key)));
    }

    /// The earliest deadline, if any.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Pop one entry due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<TimerKey> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, k))| k),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_order_only_when_due() {
        let now = Instant::now();
        let mut t = Timers::default();
        t.arm(now + Duration::from_millis(20), TimerKey::Check(2));
        t.arm(now + Duration::from_millis(10), TimerKey::Check(1));
        assert_eq!(t.pop_due(now), None);
        assert_eq!(t.pop_due(now + Duration::from_millis(30)), Some(TimerKey::Check(1)));
        assert_eq!(t.pop_due(now + Duration::from_millis(30)), Some(TimerKey::Check(2)));
        assert_eq!(t.next(), None);
    }
}
