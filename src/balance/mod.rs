//! Load balancing: which server gets the next connection.
//!
//! Pure and deterministic (but for `random`): a [`Balancer`] sees only a slice of [`Candidate`]s — each
//! server's usability, weight and load — never sessions or sockets. Shared by TCP and HTTP proxies.
//!
//! Selection follows HAProxy (`doc/configuration.txt`, `balance`): active servers first; when no active server
//! is usable, the first usable backup (or all of them with `option allbackups`).

mod hash;
pub mod keys;
mod map;
mod smooth;

pub use hash::{sdbm, source_hash};

use crate::config::model::{Balance, HashType};

/// What the balancer needs to know about one server right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Candidate {
    /// UP (or not checked), not in maintenance, not draining.
    pub usable: bool,
    pub backup: bool,
    /// Effective weight (0 = takes no new load-balanced traffic).
    pub weight: u32,
    /// Connections currently established or being established.
    pub cur: u32,
    /// 0 = unlimited.
    pub maxconn: u32,
    /// Sessions waiting in the server's own queue.
    pub queued: u32,
}

impl Candidate {
    /// No slot for a new session: at `maxconn`, or others already wait for this server (HAProxy's balancers
    /// skip a server with a queue too).
    fn full(&self) -> bool {
        self.maxconn != 0 && (self.cur >= self.maxconn || self.queued > 0)
    }
}

/// The balancer's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Use this server (index into the candidates).
    Server(usize),
    /// A hashing algorithm chose this server but it is full: the session waits in that server's own queue
    /// (affinity is kept, as HAProxy does).
    Queue(usize),
    /// Usable servers exist but all are full: the session waits in the backend's queue.
    Full,
    /// No usable server at all: 503 / close.
    NoServer,
}

/// Per-backend balancing state.
#[derive(Debug)]
pub struct Balancer {
    algo: Balance,
    hash_type: HashType,
    allbackups: bool,
    smooth: smooth::SmoothRr,
    map: map::WeightMap,
    cursor: usize,
    rng: u64,
}

impl Balancer {
    /// A balancer for `algo` over a backend with `allbackups` as configured.
    pub fn new(algo: &Balance, hash_type: HashType, allbackups: bool, seed: u64) -> Balancer {
        Balancer {
            algo: algo.clone(),
            hash_type,
            allbackups,
            smooth: smooth::SmoothRr::default(),
            map: map::WeightMap::default(),
            cursor: 0,
            rng: seed | 1,
        }
    }

    /// The configured algorithm.
    pub fn algo(&self) -> &Balance {
        &self.algo
    }

    /// True if the algorithm needs a hash key from the request ([`Balancer::pick`]'s `key`).
    pub fn wants_key(&self) -> bool {
        !matches!(
            self.algo,
            Balance::RoundRobin | Balance::StaticRr | Balance::LeastConn | Balance::First | Balance::Random
        )
    }

    /// Choose a server. `key` is the hash of the source address, URI, parameter or header for hashing
    /// algorithms; `None` falls back to round robin as HAProxy does when the key is missing.
    pub fn pick(&mut self, servers: &[Candidate], key: Option<u32>) -> Pick {
        let pool = self.eligible(servers);
        if pool.is_empty() {
            return Pick::NoServer;
        }
        if let (true, Some(k)) = (self.wants_key(), key) {
            // The key decides the server whatever its load: a full one is waited for, not replaced.
            let chosen = match self.hash_type {
                HashType::MapBased => self.map.by_hash(servers, &pool, k),
                HashType::Consistent => map::consistent(servers, &pool, k),
            };
            return match chosen {
                Some(i) if servers[i].full() => Pick::Queue(i),
                Some(i) => Pick::Server(i),
                None => Pick::NoServer,
            };
        }
        let open: Vec<usize> = pool.iter().copied().filter(|&i| !servers[i].full()).collect();
        if open.is_empty() {
            return Pick::Full;
        }
        let chosen = match (&self.algo, key) {
            (Balance::RoundRobin, _) => self.smooth.pick(servers, &open),
            (Balance::StaticRr, _) => self.map.next(servers, &open),
            (Balance::LeastConn, _) => self.least_conn(servers, &open),
            (Balance::First, _) => open.first().copied(),
            (Balance::Random, _) => self.random(servers, &open),
            // A hashing algorithm without its key (no such parameter, header…): round robin, as HAProxy.
            _ => self.smooth.pick(servers, &open),
        };
        match chosen {
            Some(i) => Pick::Server(i),
            None => Pick::NoServer,
        }
    }

    /// True if server `i` takes load-balanced traffic now (usable, weighted, and an active server or a backup
    /// in use): only such a server takes sessions from the backend's queue when one of its slots frees.
    pub fn serves_backend_queue(&self, servers: &[Candidate], i: usize) -> bool {
        self.eligible(servers).contains(&i)
    }

    /// Usable active servers with weight; else the first usable backup (or all with `allbackups`).
    fn eligible(&self, servers: &[Candidate]) -> Vec<usize> {
        let active: Vec<usize> =
            (0..servers.len()).filter(|&i| servers[i].usable && !servers[i].backup && servers[i].weight > 0).collect();
        if !active.is_empty() {
            return active;
        }
        let mut backups =
            (0..servers.len()).filter(|&i| servers[i].usable && servers[i].backup && servers[i].weight > 0);
        if self.allbackups {
            backups.collect()
        } else {
            backups.next().into_iter().collect()
        }
    }

    /// Lowest `cur / weight`, round robin among equals.
    fn least_conn(&mut self, servers: &[Candidate], open: &[usize]) -> Option<usize> {
        let load = |i: usize| (servers[i].cur as u64 * 4096) / servers[i].weight.max(1) as u64;
        let best = open.iter().map(|&i| load(i)).min()?;
        let ties: Vec<usize> = open.iter().copied().filter(|&i| load(i) == best).collect();
        self.cursor = self.cursor.wrapping_add(1);
        ties.get(self.cursor % ties.len()).copied()
    }

    /// Weighted random (xorshift; statistical only, not for security).
    fn random(&mut self, servers: &[Candidate], open: &[usize]) -> Option<usize> {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let total: u64 = open.iter().map(|&i| servers[i].weight as u64).sum();
        if total == 0 {
            return None;
        }
        let mut r = self.rng % total;
        for &i in open {
            let w = servers[i].weight as u64;
            if r < w {
                return Some(i);
            }
            r -= w;
        }
        open.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(weight: u32) -> Candidate {
        Candidate { usable: true, backup: false, weight, cur: 0, maxconn: 0, queued: 0 }
    }

    fn counts(b: &mut Balancer, s: &[Candidate], n: usize) -> Vec<usize> {
        let mut c = vec![0; s.len()];
        for _ in 0..n {
            if let Pick::Server(i) = b.pick(s, None) {
                c[i] += 1;
            }
        }
        c
    }

    #[test]
    fn roundrobin_weights_3_to_1() {
        let mut b = Balancer::new(&Balance::RoundRobin, HashType::MapBased, false, 1);
        assert_eq!(counts(&mut b, &[up(3), up(1)], 12), vec![9, 3]);
    }

    #[test]
    fn static_rr_alternates() {
        let mut b = Balancer::new(&Balance::StaticRr, HashType::MapBased, false, 1);
        let s = [up(1), up(1)];
        let picks: Vec<Pick> = (0..4).map(|_| b.pick(&s, None)).collect();
        assert_eq!(picks, vec![Pick::Server(0), Pick::Server(1), Pick::Server(0), Pick::Server(1)]);
    }

    #[test]
    fn down_servers_and_backups() {
        let mut b = Balancer::new(&Balance::RoundRobin, HashType::MapBased, false, 1);
        let mut s = [up(1), up(1), Candidate { backup: true, ..up(1) }, Candidate { backup: true, ..up(1) }];
        s[0].usable = false;
        assert_eq!(counts(&mut b, &s, 4), vec![0, 4, 0, 0]);
        s[1].usable = false;
        assert_eq!(counts(&mut b, &s, 4), vec![0, 0, 4, 0], "first backup only");
        let mut b = Balancer::new(&Balance::RoundRobin, HashType::MapBased, true, 1);
        assert_eq!(counts(&mut b, &s, 4), vec![0, 0, 2, 2], "allbackups");
        s[2].usable = false;
        s[3].usable = false;
        assert_eq!(b.pick(&s, None), Pick::NoServer);
    }

    #[test]
    fn leastconn_prefers_idle_server() {
        let mut b = Balancer::new(&Balance::LeastConn, HashType::MapBased, false, 1);
        let s = [Candidate { cur: 1, ..up(1) }, up(1)];
        assert_eq!(counts(&mut b, &s, 4), vec![0, 4]);
    }

    #[test]
    fn full_servers_queue() {
        let mut b = Balancer::new(&Balance::RoundRobin, HashType::MapBased, false, 1);
        let s = [Candidate { cur: 1, maxconn: 1, ..up(1) }];
        assert_eq!(b.pick(&s, None), Pick::Full);
    }

    #[test]
    fn source_is_sticky_and_spreads() {
        for ht in [HashType::MapBased, HashType::Consistent] {
            let mut b = Balancer::new(&Balance::Source, ht, false, 1);
            let s = [up(1), up(1), up(1)];
            let k = source_hash("127.0.0.1".parse().expect("ip"));
            let first = b.pick(&s, Some(k));
            for _ in 0..10 {
                assert_eq!(b.pick(&s, Some(k)), first);
            }
            let mut seen = std::collections::HashSet::new();
            for n in 0..64u32 {
                if let Pick::Server(i) = b.pick(&s, Some(source_hash(std::net::Ipv4Addr::from(0x0a00_0000 + n).into())))
                {
                    seen.insert(i);
                }
            }
            assert_eq!(seen.len(), 3, "{ht:?} spreads keys over all servers");
        }
    }

    #[test]
    fn hashed_choice_on_a_full_server_waits_for_it() {
        for ht in [HashType::MapBased, HashType::Consistent] {
            let mut b = Balancer::new(&Balance::Source, ht, false, 1);
            let free = [Candidate { maxconn: 1, ..up(1) }, Candidate { maxconn: 1, ..up(1) }];
            let k = source_hash("10.0.0.7".parse().expect("ip"));
            let Pick::Server(i) = b.pick(&free, Some(k)) else { panic!("{ht:?}: a free server is used") };
            let mut busy = free;
            busy[i].cur = 1;
            assert_eq!(b.pick(&busy, Some(k)), Pick::Queue(i), "{ht:?}: full: wait for it, not the other one");
            busy[i] = Candidate { queued: 2, ..free[i] };
            assert_eq!(b.pick(&busy, Some(k)), Pick::Queue(i), "{ht:?}: others already wait: behind them");
            busy[1 - i].cur = 1;
            busy[i].cur = 1;
            assert_eq!(b.pick(&busy, Some(k)), Pick::Queue(i), "{ht:?}: all full: still its own queue");
            // Without the key (no such header…), round robin among servers with room.
            assert_eq!(b.pick(&busy, None), Pick::Full);
        }
    }

    #[test]
    fn a_server_with_waiters_takes_no_balanced_session() {
        let mut b = Balancer::new(&Balance::RoundRobin, HashType::MapBased, false, 1);
        // Free slot but sessions waiting for it (persistence): they go first, new clients go elsewhere.
        let s = [Candidate { maxconn: 2, cur: 1, queued: 1, ..up(1) }, Candidate { maxconn: 2, ..up(1) }];
        assert_eq!(counts(&mut b, &s, 4), vec![0, 4]);
        let s = [s[0], Candidate { cur: 2, ..s[1] }];
        assert_eq!(b.pick(&s, None), Pick::Full);
        // Unlimited servers never queue, whatever `queued` says.
        let s = [Candidate { queued: 1, ..up(1) }];
        assert_eq!(b.pick(&s, None), Pick::Server(0));
    }

    #[test]
    fn who_serves_the_backend_queue() {
        let b = Balancer::new(&Balance::RoundRobin, HashType::MapBased, false, 1);
        let mut s = [up(1), Candidate { backup: true, ..up(1) }, Candidate { backup: true, ..up(1) }];
        assert!(b.serves_backend_queue(&s, 0));
        assert!(!b.serves_backend_queue(&s, 1), "a backup while an active server is up");
        s[0].usable = false;
        assert!(b.serves_backend_queue(&s, 1), "the first backup once no active server is left");
        assert!(!b.serves_backend_queue(&s, 2), "only the first without allbackups");
        s[1].weight = 0;
        assert!(!b.serves_backend_queue(&s, 1), "drained (weight 0)");
    }

    #[test]
    fn first_fills_in_order() {
        let mut b = Balancer::new(&Balance::First, HashType::MapBased, false, 1);
        let s = [Candidate { cur: 2, maxconn: 2, ..up(1) }, Candidate { maxconn: 2, ..up(1) }];
        assert_eq!(b.pick(&s, None), Pick::Server(1));
    }
}
