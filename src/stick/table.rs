//! One stick table: keys ([`KeyType`], [`Key`]) mapped to the [`Counters`] its `store` line names, bounded by
//! `size` and expiring after `expire`; the idle order is a doubly linked list over a slab, so lookups, touches,
//! expiry and eviction cost O(1). Rates are [`FreqCtr`]s.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use super::Event;
use crate::config::model::{StickData, StickStore};
use crate::freq;
use crate::sample::Val;

/// An event counter over a sliding period (HAProxy's `freq_ctr`): `read` gives the events of the current
/// period plus those of the previous one weighted by the part of the current period not yet elapsed. Rotation and
/// rate are [`crate::freq`]'s; periods are aligned on the first event's time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FreqCtr {
    /// Start of the current period (ms on the table clock).
    curr_tick: u64,
    curr: u32,
    prev: u32,
}

impl FreqCtr {
    fn window(&self) -> freq::Window {
        freq::Window { start: self.curr_tick, prev: u64::from(self.prev), cur: u64::from(self.curr) }
    }

    /// Count `inc` events at `now` (ms) for a counter over `period` ms.
    pub fn add(&mut self, now: u64, period: u64, inc: u32) {
        if self.curr == 0 && self.prev == 0 {
            self.curr_tick = now;
        }
        let w = freq::rotate(self.window(), now, period);
        // The counts only ever move from `curr` to `prev` or to 0, so they still fit.
        self.curr_tick = w.start;
        self.prev = u32::try_from(w.prev).unwrap_or(u32::MAX);
        self.curr = u32::try_from(w.cur).unwrap_or(u32::MAX).saturating_add(inc);
    }

    /// The rate at `now` (ms): current events plus the previous period's weighted by the time left.
    pub fn read(&self, now: u64, period: u64) -> u32 {
        u32::try_from(freq::rate(self.window(), now, period)).unwrap_or(u32::MAX)
    }
}

/// The key type of a table (`type ip|ipv6|integer|string [len N]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Ip,
    Ipv6,
    Integer,
    /// Strings cut at this many bytes (`len`, default 32).
    String(usize),
}

impl KeyType {
    /// The key type a `stick-table type T [len N]` names (`binary` keys are handled as strings).
    pub fn new(ty: &str, len: Option<usize>) -> Option<KeyType> {
        Some(match ty {
            "ip" => KeyType::Ip,
            "ipv6" => KeyType::Ipv6,
            "integer" => KeyType::Integer,
            "string" | "binary" => KeyType::String(len.unwrap_or(32).clamp(1, 65536)),
            _ => return None,
        })
    }

    /// The key a sample gives in a table of this type (`None`: the sample does not convert, e.g. an IPv6
    /// address in a `type ip` table).
    pub fn key(self, v: &Val<'_>) -> Option<Key> {
        let ip = |v: &Val<'_>| match v {
            Val::Ip(ip) => Some(*ip),
            Val::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            _ => None,
        };
        Some(match self {
            KeyType::Ip => match ip(v)? {
                IpAddr::V4(a) => Key::V4(a.octets()),
                IpAddr::V6(a) => Key::V4(a.to_ipv4_mapped()?.octets()),
            },
            KeyType::Ipv6 => match ip(v)? {
                IpAddr::V4(a) => Key::V6(a.to_ipv6_mapped().octets()),
                IpAddr::V6(a) => Key::V6(a.octets()),
            },
            KeyType::Integer => Key::Int(match v {
                Val::Int(i) => *i,
                Val::Bool(b) => *b as i64,
                Val::Bytes(b) => crate::sample::parse_int(b)?,
                Val::Ip(IpAddr::V4(a)) => u32::from(*a) as i64,
                Val::Ip(_) => return None,
            }),
            KeyType::String(len) => {
                let mut out = Vec::new();
                v.render(&mut out);
                out.truncate(len);
                Key::Str(out.into_boxed_slice())
            }
        })
    }
}

/// A table key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    V4([u8; 4]),
    V6([u8; 16]),
    Int(i64),
    Str(Box<[u8]>),
}

/// The counters of one entry (only those the table stores are read).
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub server_id: i64,
    pub gpt0: i64,
    pub gpc0: u64,
    pub gpc0_rate: FreqCtr,
    pub conn_cnt: u64,
    pub conn_cur: u64,
    pub conn_rate: FreqCtr,
    pub sess_cnt: u64,
    pub sess_rate: FreqCtr,
    pub http_req_cnt: u64,
    pub http_req_rate: FreqCtr,
    pub http_err_cnt: u64,
    pub http_err_rate: FreqCtr,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

pub(super) const NIL: u32 = u32::MAX;

#[derive(Debug)]
pub(super) struct Slot {
    key: Option<Key>,
    pub(super) c: Counters,
    /// Last activity (table clock, ms).
    touched: u64,
    /// Sessions tracking the entry.
    pub(super) refs: u32,
    /// Bumped when the slot is freed: a stale [`TrackRef`] no longer matches.
    pub(super) gen: u32,
    prev: u32,
    next: u32,
}

/// One stick table: key → counters, bounded by `size`, entries expiring after `expire` of inactivity.
#[derive(Debug)]
pub struct Table {
    /// The proxy that declares it (what `table NAME` refers to).
    pub name: String,
    pub key_type: KeyType,
    size: usize,
    expire: Option<u64>,
    /// Stored data types, with the period in ms for rates (0 otherwise).
    store: HashMap<StickData, u64>,
    map: HashMap<Key, u32>,
    pub(super) slots: Vec<Slot>,
    free: Vec<u32>,
    /// Idle order: oldest first.
    head: u32,
    tail: u32,
}

impl Table {
    /// A table of at most `size` entries expiring after `expire` without activity (`None`: never).
    pub fn new(name: &str, key_type: KeyType, size: u64, expire: Option<Duration>, store: &[StickStore]) -> Table {
        Table {
            name: name.to_string(),
            key_type,
            size: size.clamp(1, u32::MAX as u64 - 1) as usize,
            expire: expire.map(|e| (e.as_millis() as u64).max(1)),
            store: store.iter().map(|s| (s.data, s.period.map_or(0, |p| (p.as_millis() as u64).max(1)))).collect(),
            map: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// Does the table store this data type?
    pub fn stores(&self, d: StickData) -> bool {
        self.store.contains_key(&d)
    }

    /// Entries in use.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No entry.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Most entries (`size`).
    pub fn size(&self) -> usize {
        self.size
    }

    fn unlink(&mut self, i: u32) {
        let (p, n) = (self.slots[i as usize].prev, self.slots[i as usize].next);
        if p == NIL {
            self.head = n;
        } else {
            self.slots[p as usize].next = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.slots[n as usize].prev = p;
        }
        self.slots[i as usize].prev = NIL;
        self.slots[i as usize].next = NIL;
    }

    fn push_tail(&mut self, i: u32) {
        self.slots[i as usize].prev = self.tail;
        self.slots[i as usize].next = NIL;
        if self.tail == NIL {
            self.head = i;
        } else {
            self.slots[self.tail as usize].next = i;
        }
        self.tail = i;
    }

    /// Mark activity on an entry: its expiry starts again and it becomes the newest.
    pub(super) fn touch(&mut self, i: u32, now: u64) {
        self.slots[i as usize].touched = now;
        if self.tail != i {
            self.unlink(i);
            self.push_tail(i);
        }
    }

    fn remove(&mut self, i: u32) {
        self.unlink(i);
        let s = &mut self.slots[i as usize];
        if let Some(k) = s.key.take() {
            self.map.remove(&k);
        }
        s.gen = s.gen.wrapping_add(1);
        s.refs = 0;
        s.c = Counters::default();
        self.free.push(i);
    }

    /// Drop the entries idle longer than `expire` (tracked ones are kept: they count as active).
    pub fn purge(&mut self, now: u64) {
        let Some(exp) = self.expire else { return };
        let mut budget = self.map.len();
        while self.head != NIL && budget > 0 {
            budget -= 1;
            let h = self.head;
            let s = &self.slots[h as usize];
            if now.saturating_sub(s.touched) < exp {
                break;
            }
            if s.refs > 0 {
                self.touch(h, now);
            } else {
                self.remove(h);
            }
        }
    }

    /// The entry of `key`, if there is a live one (does not refresh it).
    pub fn lookup(&mut self, key: &Key, now: u64) -> Option<u32> {
        self.purge(now);
        self.map.get(key).copied()
    }

    /// The entry of `key`, created if needed (a full table first evicts its oldest untracked entry; `None` when
    /// every entry is tracked). The entry is refreshed.
    pub fn get_or_create(&mut self, key: &Key, now: u64) -> Option<u32> {
        if let Some(i) = self.lookup(key, now) {
            self.touch(i, now);
            return Some(i);
        }
        if self.map.len() >= self.size {
            let mut i = self.head;
            while i != NIL && self.slots[i as usize].refs > 0 {
                i = self.slots[i as usize].next;
            }
            if i == NIL {
                return None;
            }
            self.remove(i);
        }
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    key: None,
                    c: Counters::default(),
                    touched: now,
                    refs: 0,
                    gen: 0,
                    prev: NIL,
                    next: NIL,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[i as usize];
        s.key = Some(key.clone());
        s.touched = now;
        self.map.insert(key.clone(), i);
        self.push_tail(i);
        Some(i)
    }

    pub(super) fn live(&self, i: u32, gen: u32) -> bool {
        self.slots.get(i as usize).is_some_and(|s| s.gen == gen && s.key.is_some())
    }

    /// The key of a live entry.
    pub(super) fn key_of(&self, i: u32) -> Option<&Key> {
        self.slots.get(i as usize)?.key.as_ref()
    }

    /// The counters of entry `i`.
    pub fn counters(&self, i: u32) -> Option<&Counters> {
        self.slots.get(i as usize).filter(|s| s.key.is_some()).map(|s| &s.c)
    }

    fn period(&self, d: StickData) -> u64 {
        self.store.get(&d).copied().unwrap_or(0)
    }

    /// The value of data type `d` on entry `i` at `now`; `None` when the table does not store it.
    pub fn value(&self, i: u32, d: StickData, now: u64) -> Option<i64> {
        let p = *self.store.get(&d)?;
        let c = &self.counters(i)?;
        let u = |v: u64| v.min(i64::MAX as u64) as i64;
        Some(match d {
            StickData::ServerId => c.server_id,
            StickData::Gpt0 => c.gpt0,
            StickData::Gpc0 => u(c.gpc0),
            StickData::Gpc0Rate => c.gpc0_rate.read(now, p) as i64,
            StickData::ConnCnt => u(c.conn_cnt),
            StickData::ConnCur => u(c.conn_cur),
            StickData::ConnRate => c.conn_rate.read(now, p) as i64,
            StickData::SessCnt => u(c.sess_cnt),
            StickData::SessRate => c.sess_rate.read(now, p) as i64,
            StickData::HttpReqCnt => u(c.http_req_cnt),
            StickData::HttpReqRate => c.http_req_rate.read(now, p) as i64,
            StickData::HttpErrCnt => u(c.http_err_cnt),
            StickData::HttpErrRate => c.http_err_rate.read(now, p) as i64,
            StickData::BytesInCnt => u(c.bytes_in),
            StickData::BytesOutCnt => u(c.bytes_out),
        })
    }

    /// Count an event on entry `i`: the counter and the rate of the event's kind, where stored.
    pub fn count(&mut self, i: u32, ev: Event, now: u64) {
        let (cnt, rate) = match ev {
            Event::Conn => (StickData::ConnCnt, StickData::ConnRate),
            Event::Sess => (StickData::SessCnt, StickData::SessRate),
            Event::HttpReq => (StickData::HttpReqCnt, StickData::HttpReqRate),
            Event::HttpErr => (StickData::HttpErrCnt, StickData::HttpErrRate),
            Event::Gpc0 => (StickData::Gpc0, StickData::Gpc0Rate),
        };
        let (has_cnt, p) = (self.stores(cnt), self.period(rate));
        let has_cur = ev == Event::Conn && self.stores(StickData::ConnCur);
        let Some(s) = self.slots.get_mut(i as usize).filter(|s| s.key.is_some()) else { return };
        let c = &mut s.c;
        let (n, r) = match ev {
            Event::Conn => (&mut c.conn_cnt, &mut c.conn_rate),
            Event::Sess => (&mut c.sess_cnt, &mut c.sess_rate),
            Event::HttpReq => (&mut c.http_req_cnt, &mut c.http_req_rate),
            Event::HttpErr => (&mut c.http_err_cnt, &mut c.http_err_rate),
            Event::Gpc0 => (&mut c.gpc0, &mut c.gpc0_rate),
        };
        if has_cnt {
            *n += 1;
        }
        if p > 0 {
            r.add(now, p, 1);
        }
        if has_cur {
            c.conn_cur += 1;
        }
        self.touch(i, now);
    }
}
