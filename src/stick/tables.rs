//! A worker's stick tables ([`Tables`]): the set built once from the config, the clock their counters run on,
//! and the operations sessions use — tracking, counting, the `sc_*`/`src_*`/`table_*` fetches and `stick on`.

use std::cell::{Cell, RefCell};
use std::time::Instant;

use super::fetch::apply;
use super::{Event, Table, TrackRef, What};
use crate::config::model::StickData;
use crate::sample::{Sample, Val};

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

    /// The table of proxy `table` (a `table NAME` argument resolved to its proxy) if given, else proxy `pi`'s
    /// own.
    pub fn of_proxy_or(&self, table: Option<usize>, pi: usize) -> Option<u16> {
        self.of_proxy(table.unwrap_or(pi))
    }

    /// `table NAME` if given, else the proxy's own table (at start-up: names are resolved once).
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
