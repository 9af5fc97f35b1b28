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
//!
//! Files: `table.rs` (one table and its counters), `tracks.rs` (what a session tracks, events, actions),
//! `tables.rs` (a worker's set and the clock), `fetch.rs` (the stick-table sample fetches).

mod fetch;
mod table;
mod tables;
mod tracks;

pub use fetch::{parse_fetch, Scope, TableFetch, What};
pub use table::{Counters, FreqCtr, Key, KeyType, Table};
pub use tables::Tables;
pub use tracks::{Event, TableAction, TrackLevel, TrackRef, Tracks};

#[cfg(test)]
mod tests;
