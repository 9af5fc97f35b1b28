//! The static weight map of `static-rr` and `hash-type map-based`, and the consistent-hash ring.
//!
//! The map has one slot per unit of weight, filled by repeatedly taking the server with the highest accumulated
//! score (ties to the first declared), as HAProxy's map is laid out; it is rebuilt when the usable set or a
//! weight changes.

use super::hash::mix;
use super::Candidate;

/// Static map with a rotating position.
#[derive(Debug, Default)]
pub(super) struct WeightMap {
    key: Vec<(usize, u32)>,
    slots: Vec<usize>,
    pos: usize,
}

impl WeightMap {
    fn rebuild(&mut self, servers: &[Candidate], pool: &[usize]) {
        let key: Vec<(usize, u32)> = pool.iter().map(|&i| (i, servers[i].weight)).collect();
        if key == self.key && !self.slots.is_empty() {
            return;
        }
        let total: u32 = key.iter().map(|&(_, w)| w).sum();
        let mut score = vec![0i64; key.len()];
        self.slots.clear();
        for _ in 0..total {
            for (s, &(_, w)) in score.iter_mut().zip(&key) {
                *s += w as i64;
            }
            let mut best = 0;
            for j in 1..key.len() {
                if score[j] > score[best] {
                    best = j;
                }
            }
            score[best] -= total as i64;
            self.slots.push(key[best].0);
        }
        self.key = key;
        self.pos = 0;
    }

    /// `static-rr`: next slot whose server is open (not full).
    pub(super) fn next(&mut self, servers: &[Candidate], open: &[usize]) -> Option<usize> {
        self.rebuild(servers, open);
        let n = self.slots.len();
        let s = *self.slots.get(self.pos % n.max(1))?;
        self.pos = (self.pos + 1) % n;
        Some(s)
    }

    /// `map-based` hashing: `map[key % total_weight]` over the usable pool.
    pub(super) fn by_hash(&mut self, servers: &[Candidate], pool: &[usize], key: u32) -> Option<usize> {
        self.rebuild(servers, pool);
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        self.slots.get(key as usize % n).copied()
    }
}

/// `hash-type consistent`: each server owns `weight * 16` points on a ring keyed by its index; a key goes to the
/// next point clockwise. Removing a server only moves the keys it owned.
pub(super) fn consistent(servers: &[Candidate], pool: &[usize], key: u32) -> Option<usize> {
    let k = mix(key);
    let mut best: Option<(u32, usize)> = None;
    let mut lowest: Option<(u32, usize)> = None;
    for &i in pool {
        for p in 0..servers[i].weight.max(1) * 16 {
            let point = mix((i as u32).wrapping_mul(0x9e37_79b9) ^ p.wrapping_mul(0x85eb_ca6b));
            if point >= k && best.is_none_or(|(b, _)| point < b) {
                best = Some((point, i));
            }
            if lowest.is_none_or(|(l, _)| point < l) {
                lowest = Some((point, i));
            }
        }
    }
    best.or(lowest).map(|(_, i)| i)
}
