//! Stick tables with counters: what `stick-table … store …`, `track-sc0|1|2` and the `sc_*`, `sc0_*`…`sc2_*`,
//! `src_*` and `table_*` fetches work on.
//!
//! Each worker owns its tables (as HAProxy with `nbproc` and no `peers`): a [`Tables`] set built once from the
//! config, one [`Table`] per proxy that declares a `stick-table`. A table maps a [`Key`] (an IPv4 or IPv6
//! address, an integer or a string, from the table's `type`) to an entry holding the counters its `store` line
//! names. Entries expire after `expire` without activity and the table holds at most `size` of them: a new key
//! evicts the entry idle longest (entries that sessions still track are kept, as HAProxy keeps referenced ones).
//! The idle order is a doubly linked list over a slab, so lookups, touches, expiry and eviction cost O(1).
//!
//! Rates (`conn_rate(P)`, `http_req_rate(P)`, …) are [`FreqCtr`]s: events of the current period plus those of
//! the previous period weighted by the part of the current period not yet elapsed, as HAProxy's freq counters.
//!
//! A session tracks up to three entries ([`Tracks`]): `tcp-request connection|session track-scN` for the whole
//! connection, `tcp-request content` / `http-request track-scN` for the current request (HTTP) or stream (TCP).
//! Starting to track counts a connection on the entry (`conn_cnt`, `conn_cur` until tracking stops,
//! `conn_rate`); each HTTP request counts on every tracked entry, a 4xx answer counts an HTTP error.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::acl::fetch::Val;
use crate::acl::Sample;
use crate::config::model::{StickData, StickStore};
use crate::freq;

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
                Val::Bytes(b) => crate::acl::fetch::parse_int(b)?,
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

const NIL: u32 = u32::MAX;

#[derive(Debug)]
struct Slot {
    key: Option<Key>,
    c: Counters,
    /// Last activity (table clock, ms).
    touched: u64,
    /// Sessions tracking the entry.
    refs: u32,
    /// Bumped when the slot is freed: a stale [`TrackRef`] no longer matches.
    gen: u32,
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
    slots: Vec<Slot>,
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
    fn touch(&mut self, i: u32, now: u64) {
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

    fn live(&self, i: u32, gen: u32) -> bool {
        self.slots.get(i as usize).is_some_and(|s| s.gen == gen && s.key.is_some())
    }

    /// The key of a live entry.
    fn key_of(&self, i: u32) -> Option<&Key> {
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

/// What happened on a tracked entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A connection started to be tracked (`conn_cnt`, `conn_rate`, and `conn_cur` until it stops).
    Conn,
    /// A session was accepted (`sess_cnt`, `sess_rate`).
    Sess,
    /// An HTTP request (`http_req_cnt`, `http_req_rate`).
    HttpReq,
    /// An HTTP request error, e.g. a 4xx answer (`http_err_cnt`, `http_err_rate`).
    HttpErr,
    /// `gpc0` incremented (`gpc0`, `gpc0_rate`).
    Gpc0,
}

/// A session's reference to a tracked entry (stale once the entry is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackRef {
    pub table: u16,
    slot: u32,
    gen: u32,
}

/// The sticky counters of a session: per counter, the connection-level entry (`tcp-request connection|session`)
/// or the request-level one (`tcp-request content`, `http-request`). A counter is tracked once: a later
/// `track-scN` of a counter already tracked (at either level) does nothing, as in HAProxy.
#[derive(Debug, Default)]
pub struct Tracks {
    pub conn: Cell<[Option<TrackRef>; 3]>,
    pub req: Cell<[Option<TrackRef>; 3]>,
}

impl Tracks {
    /// The entry counter `sc` designates now.
    pub fn get(&self, sc: usize) -> Option<TrackRef> {
        let (r, c) = (self.req.get(), self.conn.get());
        r.get(sc).copied().flatten().or(c.get(sc).copied().flatten())
    }

    /// Every entry tracked now (request-level ones where both are set).
    pub fn each(&self) -> impl Iterator<Item = TrackRef> {
        let (r, c) = (self.req.get(), self.conn.get());
        (0..3).filter_map(move |i| r[i].or(c[i]))
    }

    /// Nothing tracked.
    pub fn is_empty(&self) -> bool {
        self.req.get().iter().chain(self.conn.get().iter()).all(Option::is_none)
    }
}

/// A stick-table action a rule asks its [`crate::acl::Context`] for.
#[derive(Debug, Clone)]
pub enum TableAction<'a> {
    /// `track-scN KEY [table T]` with the key's sample.
    Track { sc: u8, table: Option<&'a str>, key: Val<'a> },
    /// `sc-inc-gpc0(N)`.
    IncGpc0(u8),
    /// `sc-set-gpt0(N) VALUE`.
    SetGpt0(u8, i64),
}

/// Which sticky counter level a `track-scN` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackLevel {
    /// `tcp-request connection|session`: for the whole connection.
    Conn,
    /// `tcp-request content`: for the current request (HTTP) or the stream (TCP).
    Content,
    /// `http-request`: for the current request, which it counts at once (`http_req_*`).
    Http,
}

/// A worker's stick tables and the clock their counters run on.
#[derive(Debug)]
pub struct Tables {
    tables: RefCell<Vec<Table>>,
    /// Config proxy index → its table.
    of_proxy: Vec<Option<u16>>,
    base: Instant,
    now: Cell<u64>,
}

impl Tables {
    /// Tables for the given proxies: `(proxy index, table)` pairs; `nproxies` proxies in all.
    pub fn new(nproxies: usize, tables: Vec<(usize, Table)>) -> Tables {
        let mut of_proxy = vec![None; nproxies];
        let mut list = Vec::new();
        for (pi, t) in tables {
            if let Some(slot) = of_proxy.get_mut(pi) {
                *slot = Some(list.len() as u16);
            }
            list.push(t);
        }
        Tables { tables: RefCell::new(list), of_proxy, base: Instant::now(), now: Cell::new(0) }
    }

    /// No table at all (then no tracking ever happens).
    pub fn is_empty(&self) -> bool {
        self.tables.borrow().is_empty()
    }

    /// Advance the clock (once per event-loop turn).
    pub fn set_now(&self, now: Instant) {
        self.now.set(now.saturating_duration_since(self.base).as_millis() as u64);
    }

    /// The table clock in ms.
    pub fn now(&self) -> u64 {
        self.now.get()
    }

    /// The table of a proxy (by config index).
    pub fn of_proxy(&self, pi: usize) -> Option<u16> {
        self.of_proxy.get(pi).copied().flatten()
    }

    /// The table named `name` (a proxy's name).
    pub fn by_name(&self, name: &str) -> Option<u16> {
        self.tables.borrow().iter().position(|t| t.name == name).map(|i| i as u16)
    }

    /// `table NAME` if given, else the proxy's own table.
    pub fn resolve(&self, name: Option<&str>, pi: usize) -> Option<u16> {
        match name {
            Some(n) => self.by_name(n),
            None => self.of_proxy(pi),
        }
    }

    /// Start tracking `v`'s entry in table `t` for a session: the entry is created if needed and counts a
    /// connection. `None` when the sample is not a key of this table or the table is full of tracked entries.
    pub fn track(&self, t: u16, v: &Val<'_>) -> Option<TrackRef> {
        let now = self.now();
        let mut tables = self.tables.borrow_mut();
        let tb = tables.get_mut(t as usize)?;
        let key = tb.key_type.key(v)?;
        let i = tb.get_or_create(&key, now)?;
        tb.slots[i as usize].refs += 1;
        tb.count(i, Event::Conn, now);
        Some(TrackRef { table: t, slot: i, gen: tb.slots[i as usize].gen })
    }

    /// Stop tracking: `conn_cur` goes down; the entry's expiry starts from now.
    pub fn release(&self, r: TrackRef) {
        let now = self.now();
        let mut tables = self.tables.borrow_mut();
        let Some(tb) = tables.get_mut(r.table as usize) else { return };
        if !tb.live(r.slot, r.gen) {
            return;
        }
        let s = &mut tb.slots[r.slot as usize];
        s.refs = s.refs.saturating_sub(1);
        s.c.conn_cur = s.c.conn_cur.saturating_sub(1);
        tb.touch(r.slot, now);
    }

    /// Count an event on a tracked entry.
    pub fn count(&self, r: TrackRef, ev: Event) {
        let now = self.now();
        let mut tables = self.tables.borrow_mut();
        if let Some(tb) = tables.get_mut(r.table as usize).filter(|tb| tb.live(r.slot, r.gen)) {
            tb.count(r.slot, ev, now);
        }
    }

    /// Add transferred bytes to a tracked entry (`bytes_in_cnt`: from the client, `bytes_out_cnt`: to it).
    pub fn add_bytes(&self, r: TrackRef, bytes_in: u64, bytes_out: u64) {
        let mut tables = self.tables.borrow_mut();
        if let Some(tb) = tables.get_mut(r.table as usize).filter(|tb| tb.live(r.slot, r.gen)) {
            let c = &mut tb.slots[r.slot as usize].c;
            c.bytes_in = c.bytes_in.saturating_add(bytes_in);
            c.bytes_out = c.bytes_out.saturating_add(bytes_out);
        }
    }

    /// `sc-set-gpt0`: set `gpt0` of a tracked entry (if stored).
    pub fn set_gpt0(&self, r: TrackRef, v: i64) {
        let mut tables = self.tables.borrow_mut();
        if let Some(tb) = tables.get_mut(r.table as usize).filter(|tb| tb.live(r.slot, r.gen)) {
            if tb.stores(StickData::Gpt0) {
                tb.slots[r.slot as usize].c.gpt0 = v;
            }
        }
    }

    /// Run a fetch on the entry a session tracks with counter `sc` (`sc_*`, `scN_*`); no sample when untracked.
    /// With `table`, the same key is looked up in that table instead.
    pub fn fetch_tracked(&self, r: TrackRef, table: Option<u16>, what: What) -> Option<Sample> {
        if what == What::Tracked {
            return Some(Sample::Bool(true));
        }
        let now = self.now();
        let mut tables = self.tables.borrow_mut();
        let tb = tables.get(r.table as usize)?;
        if !tb.live(r.slot, r.gen) {
            return None;
        }
        match table.filter(|&t| t != r.table) {
            None => apply(tables.get_mut(r.table as usize)?, Some(r.slot), what, now),
            Some(t) => {
                let key = tb.key_of(r.slot)?.clone();
                let other = tables.get_mut(t as usize)?;
                let i = if what.creates() { other.get_or_create(&key, now) } else { other.lookup(&key, now) };
                apply(other, i, what, now)
            }
        }
    }

    /// Run a fetch on the entry of `v` in table `t` without tracking it (`src_*`): an absent entry reads as 0
    /// (the `*_inc_*`/`updt` fetches create it).
    pub fn fetch_key(&self, t: u16, v: &Val<'_>, what: What) -> Option<Sample> {
        let now = self.now();
        let mut tables = self.tables.borrow_mut();
        let tb = tables.get_mut(t as usize)?;
        let key = tb.key_type.key(v)?;
        let i = if what.creates() { tb.get_or_create(&key, now) } else { tb.lookup(&key, now) };
        apply(tb, i, what, now)
    }

    /// `table_cnt` / `table_avl`.
    pub fn fill(&self, t: u16) -> Option<(usize, usize)> {
        let now = self.now();
        let mut tables = self.tables.borrow_mut();
        let tb = tables.get_mut(t as usize)?;
        tb.purge(now);
        Some((tb.len(), tb.size().saturating_sub(tb.len())))
    }

    /// The server a key sticks to (`stick on`: `server_id`), if any.
    pub fn server_of(&self, t: u16, v: &Val<'_>) -> Option<i64> {
        let now = self.now();
        let mut tables = self.tables.borrow_mut();
        let tb = tables.get_mut(t as usize)?;
        let key = tb.key_type.key(v)?;
        let i = tb.lookup(&key, now)?;
        let s = tb.counters(i)?.server_id;
        (s > 0).then_some(s)
    }

    /// Remember the server a key sticks to (`stick on`), refreshing the entry.
    pub fn set_server(&self, t: u16, v: &Val<'_>, server_id: i64) {
        let now = self.now();
        let mut tables = self.tables.borrow_mut();
        let Some(tb) = tables.get_mut(t as usize) else { return };
        let Some(key) = tb.key_type.key(v) else { return };
        if let Some(i) = tb.get_or_create(&key, now) {
            tb.slots[i as usize].c.server_id = server_id;
        }
    }
}

/// Apply a fetch to entry `i` (absent: 0 for values, as HAProxy); `None` when the table lacks the data type.
fn apply(tb: &mut Table, i: Option<u32>, what: What, now: u64) -> Option<Sample> {
    let int = |v: i64| Some(Sample::Int(v));
    match what {
        What::Tracked => Some(Sample::Bool(i.is_some())),
        What::Trackers => int(i.and_then(|i| tb.slots.get(i as usize)).map_or(0, |s| s.refs as i64)),
        What::Get(d) => {
            if !tb.stores(d) {
                return None;
            }
            int(i.and_then(|i| tb.value(i, d, now)).unwrap_or(0))
        }
        What::KBytes(d) => {
            if !tb.stores(d) {
                return None;
            }
            int(i.and_then(|i| tb.value(i, d, now)).unwrap_or(0) >> 10)
        }
        What::IncGpc0 => {
            if !tb.stores(StickData::Gpc0) && !tb.stores(StickData::Gpc0Rate) {
                return None;
            }
            let Some(i) = i else { return int(0) };
            tb.count(i, Event::Gpc0, now);
            int(tb.value(i, StickData::Gpc0, now).unwrap_or(0))
        }
        What::ClrGpc0 => {
            if !tb.stores(StickData::Gpc0) {
                return None;
            }
            let Some(i) = i else { return int(0) };
            let old = tb.value(i, StickData::Gpc0, now).unwrap_or(0);
            if let Some(s) = tb.slots.get_mut(i as usize) {
                s.c.gpc0 = 0;
            }
            tb.touch(i, now);
            int(old)
        }
        What::UpdtConnCnt => {
            if !tb.stores(StickData::ConnCnt) {
                return None;
            }
            let Some(i) = i else { return int(0) };
            if let Some(s) = tb.slots.get_mut(i as usize) {
                s.c.conn_cnt += 1;
            }
            tb.touch(i, now);
            int(tb.value(i, StickData::ConnCnt, now).unwrap_or(0))
        }
        What::Cnt | What::Avl => None,
    }
}

/// What a stick-table fetch reads (or does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// A stored data type (`sc_http_req_rate`, `src_conn_cur`, `sc_get_gpc0`, …).
    Get(StickData),
    /// `*_kbytes_in` / `*_kbytes_out`: a byte counter in KiB.
    KBytes(StickData),
    /// `*_inc_gpc0`: increment, then the new value.
    IncGpc0,
    /// `*_clr_gpc0`: clear, giving the old value.
    ClrGpc0,
    /// `src_updt_conn_cnt`: count a connection without tracking, then the new value.
    UpdtConnCnt,
    /// `sc_tracked`: is the counter tracked.
    Tracked,
    /// `*_trackers`: how many sessions track the entry.
    Trackers,
    /// `table_cnt`: entries in use.
    Cnt,
    /// `table_avl`: free entries.
    Avl,
}

impl What {
    /// Fetches that create an absent entry (HAProxy's `src_inc_gpc0`, `src_updt_conn_cnt`).
    fn creates(self) -> bool {
        matches!(self, What::IncGpc0 | What::UpdtConnCnt)
    }

    /// The data type the fetch needs the table to store, if one.
    pub fn needs(self) -> Option<StickData> {
        match self {
            What::Get(d) | What::KBytes(d) => Some(d),
            What::IncGpc0 | What::ClrGpc0 => Some(StickData::Gpc0),
            What::UpdtConnCnt => Some(StickData::ConnCnt),
            _ => None,
        }
    }
}

/// Whose entry a stick-table fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `sc_*(N)`, `scN_*`: the entry sticky counter N tracks.
    Sc(u8),
    /// `src_*`: the client address looked up (not tracked).
    Src,
    /// `table_*`: the table itself.
    Table,
}

/// A compiled stick-table fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct TableFetch {
    pub scope: Scope,
    pub what: What,
    /// `table` argument; `None` = the tracked entry's table (`sc*`) or the proxy's own (`src_*`, `table_*`).
    pub table: Option<String>,
}

/// Recognize a stick-table fetch (`sc_http_req_rate`, `sc0_conn_cur`, `src_get_gpc0`, `table_cnt`, …):
/// `None` if the name is not one, else its compiled form or an argument error.
pub fn parse_fetch(name: &str, args: &[String]) -> Option<Result<TableFetch, String>> {
    let arg = |i: usize| args.get(i).map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
    let (scope, rest, table) = if let Some(r) = name.strip_prefix("sc_") {
        let n = match arg(0).as_deref() {
            Some("0") => 0,
            Some("1") => 1,
            Some("2") => 2,
            Some(o) => return Some(Err(format!("'{name}': invalid stick counter '{o}' (expects 0, 1 or 2)"))),
            None => return Some(Err(format!("'{name}' expects a stick counter number (0, 1 or 2)"))),
        };
        (Scope::Sc(n), r, arg(1))
    } else if let Some(r) = name.strip_prefix("sc0_") {
        (Scope::Sc(0), r, arg(0))
    } else if let Some(r) = name.strip_prefix("sc1_") {
        (Scope::Sc(1), r, arg(0))
    } else if let Some(r) = name.strip_prefix("sc2_") {
        (Scope::Sc(2), r, arg(0))
    } else if let Some(r) = name.strip_prefix("src_") {
        if r == "port" || r == "is_local" {
            return None;
        }
        (Scope::Src, r, arg(0))
    } else if name == "table_cnt" || name == "table_avl" {
        let what = if name == "table_cnt" { What::Cnt } else { What::Avl };
        return Some(Ok(TableFetch { scope: Scope::Table, what, table: arg(0) }));
    } else {
        return None;
    };
    let what = match rest {
        "get_gpc0" | "gpc0" => What::Get(StickData::Gpc0),
        "gpc0_rate" => What::Get(StickData::Gpc0Rate),
        "get_gpt0" => What::Get(StickData::Gpt0),
        "inc_gpc0" => What::IncGpc0,
        "clr_gpc0" => What::ClrGpc0,
        "kbytes_in" => What::KBytes(StickData::BytesInCnt),
        "kbytes_out" => What::KBytes(StickData::BytesOutCnt),
        "tracked" if matches!(scope, Scope::Sc(_)) => What::Tracked,
        "trackers" => What::Trackers,
        "updt_conn_cnt" if scope == Scope::Src => What::UpdtConnCnt,
        r => match StickData::from_name(r) {
            Some(d) if d != StickData::ServerId => What::Get(d),
            _ => return Some(Err(format!("unknown stick-table fetch '{name}'"))),
        },
    };
    Some(Ok(TableFetch { scope, what, table }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(items: &[(StickData, u64)]) -> Vec<StickStore> {
        items.iter().map(|&(data, p)| StickStore { data, period: (p > 0).then(|| Duration::from_millis(p)) }).collect()
    }

    #[test]
    fn freq_ctr_weights_the_previous_period() {
        let mut f = FreqCtr::default();
        for _ in 0..10 {
            f.add(1000, 1000, 1);
        }
        assert_eq!(f.read(1000, 1000), 10, "all in the current period");
        assert_eq!(f.read(1999, 1000), 10);
        // Half of the next period elapsed: the previous 10 weigh one half.
        assert_eq!(f.read(2500, 1000), 5);
        f.add(2500, 1000, 1);
        assert_eq!(f.read(2500, 1000), 6);
        assert_eq!(f.read(2900, 1000), 2, "1 + 10 * 0.1");
        // Two periods later, nothing is left.
        assert_eq!(f.read(4000, 1000), 0);
        assert_eq!(f.read(10_000, 1000), 0);
        f.add(10_000, 1000, 3);
        assert_eq!(f.read(10_000, 1000), 3, "old events do not come back");
    }

    #[test]
    fn freq_ctr_rate_stays_near_a_steady_flow() {
        // 10 events per second for 5 s: the rate over 1 s reads about 10 all along.
        let mut f = FreqCtr::default();
        for ms in (0..5000).step_by(100) {
            f.add(ms, 1000, 1);
            let r = f.read(ms, 1000);
            assert!((1..=11).contains(&r), "rate {r} at {ms} ms");
            if ms >= 1000 {
                assert!(r >= 9, "rate {r} at {ms} ms");
            }
        }
    }

    #[test]
    fn table_expires_idle_entries() {
        let mut t = Table::new("t", KeyType::Ip, 10, Some(Duration::from_millis(100)), &store(&[]));
        let k = KeyType::Ip.key(&Val::Ip("10.0.0.1".parse().expect("ip"))).expect("key");
        let i = t.get_or_create(&k, 0).expect("created");
        assert_eq!(t.lookup(&k, 50), Some(i));
        assert_eq!(t.len(), 1);
        assert_eq!(t.lookup(&k, 150), None, "idle past expire");
        assert!(t.is_empty());
        // A tracked entry does not expire.
        let i = t.get_or_create(&k, 200).expect("created");
        t.slots[i as usize].refs = 1;
        assert_eq!(t.lookup(&k, 1000), Some(i));
    }

    #[test]
    fn table_size_evicts_the_oldest() {
        let mut t = Table::new("t", KeyType::Integer, 3, None, &store(&[]));
        let key = |n: i64| Key::Int(n);
        for n in 1..=3 {
            t.get_or_create(&key(n), n as u64).expect("room");
        }
        // Touch 1: 2 is now the oldest.
        t.get_or_create(&key(1), 10).expect("exists");
        t.get_or_create(&key(4), 11).expect("evicts");
        assert_eq!(t.len(), 3);
        assert!(t.lookup(&key(2), 12).is_none(), "oldest evicted");
        assert!(t.lookup(&key(1), 12).is_some() && t.lookup(&key(3), 12).is_some());
        // Every entry tracked: nothing can be evicted, no new entry.
        for n in [1, 3, 4] {
            let i = t.lookup(&key(n), 13).expect("there");
            t.slots[i as usize].refs = 1;
        }
        assert!(t.get_or_create(&key(5), 14).is_none());
    }

    #[test]
    fn tracking_counts_connections_and_requests() {
        let t = Table::new(
            "fe",
            KeyType::Ip,
            100,
            Some(Duration::from_secs(30)),
            &store(&[
                (StickData::ConnCur, 0),
                (StickData::ConnCnt, 0),
                (StickData::HttpReqRate, 10_000),
                (StickData::HttpErrCnt, 0),
            ]),
        );
        let tables = Tables::new(1, vec![(0, t)]);
        let src = Val::Ip("192.0.2.1".parse().expect("ip"));
        let a = tables.track(0, &src).expect("tracked");
        let b = tables.track(0, &src).expect("tracked");
        tables.count(a, Event::HttpReq);
        tables.count(b, Event::HttpReq);
        tables.count(b, Event::HttpErr);
        let get = |d| tables.fetch_key(0, &src, What::Get(d));
        assert_eq!(get(StickData::ConnCur), Some(Sample::Int(2)));
        assert_eq!(get(StickData::ConnCnt), Some(Sample::Int(2)));
        assert_eq!(get(StickData::HttpReqRate), Some(Sample::Int(2)));
        assert_eq!(get(StickData::HttpErrCnt), Some(Sample::Int(1)));
        assert_eq!(get(StickData::Gpc0), None, "not stored: no sample");
        tables.release(a);
        tables.release(b);
        assert_eq!(get(StickData::ConnCur), Some(Sample::Int(0)));
        let other = Val::Ip("192.0.2.2".parse().expect("ip"));
        assert_eq!(tables.fetch_key(0, &other, What::Get(StickData::ConnCnt)), Some(Sample::Int(0)), "absent: 0");
        assert_eq!(tables.fill(0), Some((1, 99)));
    }

    #[test]
    fn keys_follow_the_table_type() {
        let v4 = Val::Ip("10.1.2.3".parse().expect("ip"));
        let mapped = Val::Ip("::ffff:10.1.2.3".parse().expect("ip"));
        let v6 = Val::Ip("2001:db8::1".parse().expect("ip"));
        assert_eq!(KeyType::Ip.key(&v4), KeyType::Ip.key(&mapped));
        assert_eq!(KeyType::Ip.key(&v6), None);
        assert_eq!(KeyType::Ipv6.key(&v4), KeyType::Ipv6.key(&mapped));
        assert_eq!(KeyType::Integer.key(&Val::Bytes(b"42".as_slice().into())), Some(Key::Int(42)));
        let long = Val::Bytes(b"abcdef".as_slice().into());
        assert_eq!(KeyType::String(4).key(&long), Some(Key::Str(b"abcd".to_vec().into_boxed_slice())));
    }

    #[test]
    fn fetch_names() {
        let f = |n: &str, a: &[&str]| parse_fetch(n, &a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            f("sc_http_req_rate", &["0"]),
            Some(Ok(TableFetch { scope: Scope::Sc(0), what: What::Get(StickData::HttpReqRate), table: None }))
        );
        assert_eq!(
            f("sc1_conn_cur", &["be"]),
            Some(Ok(TableFetch { scope: Scope::Sc(1), what: What::Get(StickData::ConnCur), table: Some("be".into()) }))
        );
        assert_eq!(f("src_inc_gpc0", &[]).and_then(Result::ok).map(|t| t.what), Some(What::IncGpc0));
        assert_eq!(f("table_avl", &[]).and_then(Result::ok).map(|t| t.what), Some(What::Avl));
        assert!(f("sc_http_req_rate", &[]).is_some_and(|r| r.is_err()));
        assert!(f("src_nonsense", &[]).is_some_and(|r| r.is_err()));
        assert_eq!(f("src_port", &[]), None);
        assert_eq!(f("path", &[]), None);
    }
}
