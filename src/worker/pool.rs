//! Idle server connections shared between client sessions (`http-reuse`, `pool-max-conn`, `pool-purge-delay`).
//!
//! When an HTTP transaction ends cleanly and the server connection may stay open, it is parked here instead of
//! being closed; the next request for the same server (from any client of this worker) takes it instead of
//! connecting. Parked sockets stay registered so that a server closing one is noticed at once.
//!
//! `http-reuse safe` (the default) lets a client's first request use a parked connection only when the request
//! can be replayed (idempotent method, no body): if the server had closed the connection in the meantime, the
//! request is sent again on a fresh connection, so the race HAProxy's `safe` mode avoids cannot hurt the
//! client. `aggressive` and `always` reuse for every request; `never` does not park at all.

use std::time::{Duration, Instant};

use mio::Token;

use super::Worker;
use crate::config::model::HttpReuse;
use crate::transport::{Buf, Conn, Got};

/// Token range of server connections: a server socket is registered once, under its connection id, for its
/// whole life; handing it from a session to the pool and back only changes its [`Owner`] (no epoll_ctl).
pub(super) const CONN_BASE: usize = 1 << 40;

/// The epoll token of server connection `cid`.
pub(super) fn conn_token(cid: usize) -> Token {
    Token(CONN_BASE + cid)
}

/// Who receives the events of a server connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    /// Not in use (a late event for a closed socket lands here and is ignored).
    Free,
    /// The session in slab slot `idx` with this uid.
    Session(usize, u64),
    /// Parked in the idle pool, slot `idx`.
    Idle(usize),
}

/// A parked server connection.
#[derive(Debug)]
pub(super) struct Idle {
    pub srv: usize,
    pub conn: Conn,
    pub since: Instant,
    pub cid: usize,
}

/// The worker's parked connections: a slab plus, per server, a stack of slab indexes (warmest on top).
#[derive(Debug, Default)]
pub(super) struct IdlePool {
    slots: Vec<Option<Idle>>,
    free: Vec<usize>,
    per_server: Vec<Vec<usize>>,
    last_purge: Option<Instant>,
}

impl IdlePool {
    fn count(&self, srv: usize) -> usize {
        self.per_server.get(srv).map_or(0, Vec::len)
    }
}

impl Worker {
    /// A new connection id owned by `owner`.
    pub(super) fn conn_alloc(&mut self, owner: Owner) -> usize {
        match self.conn_free.pop() {
            Some(cid) => {
                self.conn_owner[cid] = owner;
                cid
            }
            None => {
                self.conn_owner.push(owner);
                self.conn_owner.len() - 1
            }
        }
    }

    /// Give connection `cid` to a new owner.
    pub(super) fn conn_own(&mut self, cid: usize, owner: Owner) {
        if let Some(o) = self.conn_owner.get_mut(cid) {
            *o = owner;
        }
    }

    /// The socket of `cid` is closed: its id may serve again.
    pub(super) fn conn_release(&mut self, cid: usize) {
        if let Some(o) = self.conn_owner.get_mut(cid) {
            if *o != Owner::Free {
                *o = Owner::Free;
                self.conn_free.push(cid);
            }
        }
    }

    /// Route an event on a server connection to its owner.
    pub(super) fn on_conn_event(&mut self, cid: usize, ev: &mio::event::Event) {
        match self.conn_owner.get(cid).copied() {
            Some(Owner::Session(idx, uid))
                if self.sessions.get(idx).and_then(Option::as_ref).is_some_and(|s| s.uid == uid) =>
            {
                self.on_session_event(idx, true, ev)
            }
            Some(Owner::Idle(i)) => self.on_idle_event(i),
            _ => {}
        }
    }

    /// Close a session's server connection (established or connecting) and free its id.
    pub(super) fn drop_server(&mut self, sess: &mut super::session::Session) {
        sess.stream.server = None;
        sess.connecting = None;
        if let Some(cid) = sess.server_cid.take() {
            self.conn_release(cid);
        }
    }

    /// Park a session's clean server connection in the pool (or close it if the pool may not take it).
    pub(super) fn park_server(&mut self, sess: &mut super::session::Session, now: Instant) {
        match sess.srv.or(sess.kept_srv.take()) {
            Some(si) => self.park_conn(sess, si, now),
            None => self.drop_server(sess),
        }
    }

    /// Park the session's server connection, known to lead to server `si`.
    pub(super) fn park_conn(&mut self, sess: &mut super::session::Session, si: usize, now: Instant) {
        match (sess.stream.server.take(), sess.server_cid.take()) {
            (Some(server), Some(cid)) => self.park(si, server, cid, now),
            (_, cid) => {
                sess.connecting = None;
                if let Some(cid) = cid {
                    self.conn_release(cid);
                }
            }
        }
    }

    /// Park a clean server connection `cid` of server `si` (or close it if the pool may not take it).
    fn park(&mut self, si: usize, conn: Conn, cid: usize, now: Instant) {
        let srv = &self.rt.servers[si];
        let be = &self.rt.backends[srv.backend];
        let limit = srv.pool_max_conn;
        let full = limit > 0 && self.idle.count(si) as i64 >= limit;
        // A PROXY header told the server one client's address: that connection is that client's only.
        let private = srv.send_proxy.is_some();
        if be.http_reuse == HttpReuse::Never || limit == 0 || self.stopping || full || private {
            drop(conn);
            return self.conn_release(cid);
        }
        let idx = match self.idle.free.pop() {
            Some(i) => i,
            None => {
                self.idle.slots.push(None);
                self.idle.slots.len() - 1
            }
        };
        self.conn_own(cid, Owner::Idle(idx));
        self.idle.slots[idx] = Some(Idle { srv: si, conn, since: now, cid });
        if self.idle.per_server.len() <= si {
            self.idle.per_server.resize_with(si + 1, Vec::new);
        }
        self.idle.per_server[si].push(idx);
    }

    /// Take the warmest parked connection to server `si`, if any (the caller becomes its owner).
    pub(super) fn unpark(&mut self, si: usize, now: Instant) -> Option<(Conn, usize)> {
        let idx = self.idle.per_server.get_mut(si)?.pop()?;
        let mut idle = self.idle.slots.get_mut(idx)?.take()?;
        self.idle.free.push(idx);
        idle.conn.revive(now);
        Some((idle.conn, idle.cid))
    }

    /// Is reusing a parked connection allowed for this request?
    pub(super) fn may_reuse(&self, be: usize, first_request: bool, replayable: bool) -> bool {
        match self.rt.backends[be].http_reuse {
            HttpReuse::Never => false,
            HttpReuse::Safe => !first_request || replayable,
            HttpReuse::Aggressive | HttpReuse::Always => true,
        }
    }

    /// A parked connection became readable: the server closed it (or sent garbage). Drop it.
    pub(super) fn on_idle_event(&mut self, idx: usize) {
        let Some(Some(idle)) = self.idle.slots.get_mut(idx) else { return };
        // Anything but "nothing to read" (the end of the stream, an error, unexpected bytes) makes it unusable.
        idle.conn.readable = true;
        let mut probe = Buf::default();
        let gone = !matches!(idle.conn.read_once(&mut probe, &mut self.pool, self.now), Ok(Got::Nothing));
        probe.release(&mut self.pool);
        if gone {
            self.drop_idle(idx);
        }
    }

    fn drop_idle(&mut self, idx: usize) {
        if let Some(idle) = self.idle.slots.get_mut(idx).and_then(Option::take) {
            if let Some(list) = self.idle.per_server.get_mut(idle.srv) {
                list.retain(|&i| i != idx);
            }
            self.idle.free.push(idx);
            let cid = idle.cid;
            drop(idle); // closing the socket removes it from epoll
            self.conn_release(cid);
        }
    }

    /// Close parked connections older than their server's `pool-purge-delay` (checked about once a second).
    pub(super) fn purge_idle(&mut self, now: Instant) {
        if self.idle.last_purge.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            return;
        }
        self.idle.last_purge = Some(now);
        let stale: Vec<usize> = (0..self.idle.slots.len())
            .filter(|&i| {
                self.idle.slots[i].as_ref().is_some_and(|c| {
                    now.duration_since(c.since) > self.rt.servers[c.srv].pool_purge_delay || self.stopping
                })
            })
            .collect();
        for i in stale {
            self.drop_idle(i);
        }
    }
}
