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

use std::io::{self, Read};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Token};

use super::Worker;
use crate::config::model::HttpReuse;

/// Token range of parked connections.
pub(super) const IDLE_BASE: usize = 1 << 22;

/// A parked server connection.
#[derive(Debug)]
pub(super) struct Idle {
    pub srv: usize,
    pub sock: TcpStream,
    pub since: Instant,
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
    /// Park a clean server connection of server `si` (or close it if the pool may not take it).
    pub(super) fn park(&mut self, si: usize, mut sock: TcpStream, now: Instant) {
        let srv = &self.rt.servers[si];
        let be = &self.rt.backends[srv.backend];
        let limit = srv.pool_max_conn;
        if be.http_reuse == HttpReuse::Never || limit == 0 || self.stopping {
            return;
        }
        if limit > 0 && self.idle.count(si) as i64 >= limit {
            return;
        }
        let idx = match self.idle.free.pop() {
            Some(i) => i,
            None => {
                if self.idle.slots.len() >= (1 << 21) {
                    return;
                }
                self.idle.slots.push(None);
                self.idle.slots.len() - 1
            }
        };
        if self.poll.registry().reregister(&mut sock, Token(IDLE_BASE + idx), Interest::READABLE).is_err() {
            self.idle.free.push(idx);
            return;
        }
        self.idle.slots[idx] = Some(Idle { srv: si, sock, since: now });
        if self.idle.per_server.len() <= si {
            self.idle.per_server.resize_with(si + 1, Vec::new);
        }
        self.idle.per_server[si].push(idx);
    }

    /// Take the warmest parked connection to server `si`, if any.
    pub(super) fn unpark(&mut self, si: usize) -> Option<TcpStream> {
        let idx = self.idle.per_server.get_mut(si)?.pop()?;
        let idle = self.idle.slots.get_mut(idx)?.take()?;
        self.idle.free.push(idx);
        Some(idle.sock)
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
        let mut b = [0u8; 64];
        let gone = match idle.sock.read(&mut b) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            _ => true, // EOF, error, or unexpected bytes: not reusable
        };
        if gone {
            self.drop_idle(idx);
        }
    }

    fn drop_idle(&mut self, idx: usize) {
        if let Some(mut idle) = self.idle.slots.get_mut(idx).and_then(Option::take) {
            let _ = self.poll.registry().deregister(&mut idle.sock);
            if let Some(list) = self.idle.per_server.get_mut(idle.srv) {
                list.retain(|&i| i != idx);
            }
            self.idle.free.push(idx);
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
