//! Stick-table sample fetches: recognizing `sc_*(N[,table])`, `scN_*`, `src_*` and `table_*` names into a
//! [`TableFetch`] (whose entry, what it reads), and applying one to an entry.

use super::{Event, Table};
use crate::config::model::StickData;
use crate::sample::{Names, Sample};

/// Apply a fetch to entry `i` (absent: 0 for values, as HAProxy); `None` when the table lacks the data type.
pub(super) fn apply(tb: &mut Table, i: Option<u32>, what: What, now: u64) -> Option<Sample> {
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
    pub(super) fn creates(self) -> bool {
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
    /// `table` argument as written; `None` = the tracked entry's table (`sc*`) or the proxy's own (`src_*`,
    /// `table_*`).
    pub table: Option<String>,
    /// That table resolved: the config index of the proxy declaring it (`None` without a `table` argument,
    /// or when no proxy declares it, which `-c` refuses).
    pub table_proxy: Option<usize>,
}

/// Recognize a stick-table fetch (`sc_http_req_rate`, `sc0_conn_cur`, `src_get_gpc0`, `table_cnt`, …):
/// `None` if the name is not one, else its compiled form or an argument error.
pub fn parse_fetch(name: &str, args: &[String], names: &Names) -> Option<Result<TableFetch, String>> {
    let resolve = |t: &Option<String>| t.as_ref().and_then(|t| names.tables.get(t).copied());
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
        let table = arg(0);
        return Some(Ok(TableFetch { scope: Scope::Table, what, table_proxy: resolve(&table), table }));
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
    Some(Ok(TableFetch { scope, what, table_proxy: resolve(&table), table }))
}
