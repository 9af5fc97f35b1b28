//! What a session holds on stick tables: the entries its sticky counters track ([`Tracks`] of [`TrackRef`]s),
//! the events counted on them ([`Event`]) and the actions rules ask for ([`TableAction`], [`TrackLevel`]).

use std::cell::Cell;
use std::rc::Rc;

use super::Tables;

use crate::sample::Val;

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
    pub(super) slot: u32,
    pub(super) gen: u32,
}

/// The sticky counters of a session: per counter, the connection-level entry (`tcp-request connection|session`)
/// or the request-level one (`tcp-request content`, `http-request`). A counter is tracked once: a later
/// `track-scN` of a counter already tracked (at either level) does nothing, as in HAProxy.
///
/// The entries are released (`conn_cur` goes down) when the `Tracks` is dropped, whichever way its session
/// ends: no path can leave an entry counted. Request-level ones are also released when each request ends
/// ([`Tracks::release_request`]).
#[derive(Debug, Default)]
pub struct Tracks {
    pub conn: Cell<[Option<TrackRef>; 3]>,
    pub req: Cell<[Option<TrackRef>; 3]>,
    /// The tables the entries are in (`None` when the worker has none: nothing is ever tracked).
    tables: Option<Rc<Tables>>,
}

impl Drop for Tracks {
    fn drop(&mut self) {
        self.release_all();
    }
}

impl Tracks {
    /// No entry tracked yet, in `tables`.
    pub fn new(tables: &Rc<Tables>) -> Tracks {
        let tables = (!tables.is_empty()).then(|| tables.clone());
        Tracks { conn: Cell::default(), req: Cell::default(), tables }
    }

    /// Stop tracking every entry (`conn_cur` goes down).
    pub fn release_all(&self) {
        self.release_request();
        if let Some(t) = &self.tables {
            for r in self.conn.take().into_iter().flatten() {
                t.release(r);
            }
        }
    }

    /// The current request is over: its request-level entries (`tcp-request content`, `http-request`) stop
    /// being tracked; connection-level ones stay.
    pub fn release_request(&self) {
        if let Some(t) = &self.tables {
            for r in self.req.take().into_iter().flatten() {
                t.release(r);
            }
        }
    }

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

/// A stick-table action a rule asks for (through the ACL context of the session running it).
#[derive(Debug, Clone)]
pub enum TableAction<'a> {
    /// `track-scN KEY [table T]` with the key's sample.
    Track { sc: u8, table: Option<usize>, key: Val<'a> },
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
