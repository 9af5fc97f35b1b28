//! Smooth weighted round robin: every pick adds each server's weight to its credit, takes the server with the
//! most credit and charges it the total. Weights 3:1 give A A B A …, exactly 3:1 over every 4 picks, and weight
//! changes take effect at the next pick (HAProxy's roundrobin is dynamic too).

use super::Candidate;

/// Credits per server index; grows to the number of servers seen.
#[derive(Debug, Default)]
pub(super) struct SmoothRr {
    credit: Vec<i64>,
}

impl SmoothRr {
    /// Pick among `open` (indexes into `servers`).
    pub(super) fn pick(&mut self, servers: &[Candidate], open: &[usize]) -> Option<usize> {
        if self.credit.len() < servers.len() {
            self.credit.resize(servers.len(), 0);
        }
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for &i in open {
            let w = servers[i].weight as i64;
            total += w;
            self.credit[i] += w;
            if best.is_none_or(|b| self.credit[i] > self.credit[b]) {
                best = Some(i);
            }
        }
        let b = best?;
        self.credit[b] -= total;
        Some(b)
    }
}
