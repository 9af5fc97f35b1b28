//! Queues: a session that finds no free slot waits in its server's own queue (persistence named the server)
//! or in its backend's, and a freed slot goes to the oldest waiter — the head of the server's own queue
//! against the head of the backend's, which the server serves only if it takes load-balanced traffic
//! (HAProxy's `process_srv_queue`).

use crate::stream::runtime::{Runtime, Waiter};

impl Runtime {
    /// Put `w` at the end of server `on`'s queue, or of backend `be`'s (`None`); returns how many waited
    /// before it (the position HAProxy logs).
    pub fn enqueue(&mut self, be: usize, on: Option<usize>, w: Waiter) -> u32 {
        let q = match on {
            Some(si) => &mut self.servers[si].queue,
            None => &mut self.backends[be].queue,
        };
        let pos = q.len() as u32;
        q.push_back(w);
        pos
    }

    /// Take the session in slab slot `idx` with `uid` out of server `on`'s queue, or backend `be`'s; true if it
    /// was there.
    pub fn unqueue(&mut self, be: Option<usize>, on: Option<usize>, idx: usize, uid: u64) -> bool {
        let q = match (on, be) {
            (Some(si), _) => &mut self.servers[si].queue,
            (None, Some(be)) => &mut self.backends[be].queue,
            (None, None) => return false,
        };
        let n = q.len();
        q.retain(|w| !(w.idx == idx && w.uid == uid));
        q.len() < n
    }

    /// Server `si` takes load-balanced traffic now (so it may serve its backend's queue).
    pub fn serves_backend_queue(&self, si: usize) -> bool {
        let be = self.servers[si].backend;
        let b = &self.backends[be];
        b.servers
            .iter()
            .position(|&x| x == si)
            .is_some_and(|i| b.balancer.serves_backend_queue(&self.candidates(be), i))
    }

    /// The waiter a free slot of server `si` goes to, taken out of its queue, and whether it came from the
    /// backend's queue; `None` when the server has no free slot or nobody waits for it. `lb` caches whether
    /// the server serves the backend's queue (asked only when it matters).
    pub fn next_waiter(&mut self, si: usize, lb: &mut Option<bool>) -> Option<(Waiter, bool)> {
        if !self.servers[si].has_slot() {
            return None;
        }
        let be = self.servers[si].backend;
        let own = self.servers[si].queue.front().map(|w| w.seq);
        let shared = self.backends[be].queue.front().map(|w| w.seq);
        let shared_first = match (own, shared) {
            (_, None) => false,
            (Some(o), Some(b)) if o < b => false,
            _ => *lb.get_or_insert_with(|| self.serves_backend_queue(si)),
        };
        let w = if shared_first { self.backends[be].queue.pop_front() } else { self.servers[si].queue.pop_front() };
        w.map(|w| (w, shared_first))
    }
}
