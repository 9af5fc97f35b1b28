//! Getting a session to a server: persistence, balancing, queueing (per server and per backend, oldest first),
//! connecting (a pooled or kept connection when allowed, else a new one), and retries with redispatch.
//!
//! The decisions are stream steps over the live state ([`crate::stream::persist`], [`crate::stream::queue`],
//! [`crate::stream::connect`]); this glue applies them to the worker's sessions, sockets and statistics.

use std::io;
use std::time::Instant;

use mio::net::TcpStream;
use mio::Interest;

use super::pool::{conn_token, Owner};
use super::session::{Phase, Session};
use super::{ms, Worker};
use crate::balance::Pick;
use crate::rules::cookie::ReqCookie;
use crate::stream::connect::{self, AfterFailure};
use crate::stream::runtime::Waiter;
use crate::stream::term::Term;

impl Worker {
    /// Find a server for the session, queue it, or fail it.
    pub(super) fn assign(&mut self, idx: usize, mut sess: Session, now: Instant) {
        let Some(be) = sess.be else {
            return self.finish(idx, sess, Term::SERVER_CONNECT, now);
        };
        // Persistence first: a cookie (HTTP) or the stick table names a server; a DOWN one is used only with
        // `option persist`, else the request is load balanced (and re-stuck) as HAProxy does. A full one is
        // waited for in its own queue.
        let named = sess.forced_srv.take();
        let client = sess.client_addr.ip();
        match self.rt.persistent_server(be, named, sess.retries == 0, client, sess.kept_srv) {
            Some(si) => self.assign_to(idx, sess, si, true, now),
            None => self.balance(idx, sess, be, now),
        }
    }

    /// Load balance the session over backend `be`'s servers (persistence left aside).
    pub(super) fn balance(&mut self, idx: usize, sess: Session, be: usize, now: Instant) {
        let cands = self.rt.candidates(be);
        let key = self.rt.balance_key(be, sess.client_addr.ip(), sess.hash_key);
        match self.rt.backends[be].balancer.pick(&cands, key) {
            Pick::Server(i) | Pick::Queue(i) => {
                let si = self.rt.backends[be].servers[i];
                self.rt.stick_to(be, sess.client_addr.ip(), si);
                self.assign_to(idx, sess, si, false, now)
            }
            Pick::Full => self.enqueue(idx, sess, None, now),
            Pick::NoServer => self.finish(idx, sess, Term::SERVER_CONNECT, now),
        }
    }

    /// The session's server is `si` (named by persistence when `direct`, else chosen by the balancer): connect
    /// if it has a free slot, else wait in its own queue. When that queue already holds `maxqueue` sessions, a
    /// persistent session is balanced again under `option redispatch` (persistence broken) and anything else
    /// gets a 503 (`SQ`), as HAProxy's `srv_redispatch_connect` does.
    pub(super) fn assign_to(&mut self, idx: usize, mut sess: Session, si: usize, direct: bool, now: Instant) {
        let s = &self.rt.servers[si];
        if !s.busy() {
            if sess.tw < 0 {
                sess.tw = sess.queued_since.map_or(0, |t| ms(now - t));
            }
            return self.connect(idx, sess, si, now);
        }
        if !s.queue_full() {
            return self.enqueue(idx, sess, Some(si), now);
        }
        let be = s.backend;
        if direct && self.rt.backends[be].redispatch {
            self.break_persistence(&mut sess, si);
            return self.balance(idx, sess, be, now);
        }
        for c in [self.st_srv(si), self.st_be(be)].into_iter().flatten() {
            c.inc(&c.failed_conns);
        }
        self.finish(idx, sess, Term::SERVER_QUEUE, now)
    }

    /// Persistence gives way (its server's queue is full, or the server went DOWN under `option redispatch`):
    /// HAProxy counts and logs this as a redispatch, with cookie flag `D`.
    fn break_persistence(&mut self, sess: &mut Session, from: usize) {
        sess.redispatched = true;
        if let Some(p) = sess.txn_mut().and_then(|t| t.persist.as_mut()) {
            if p.state == ReqCookie::Valid {
                p.state = ReqCookie::Down;
            }
        }
        let be = self.rt.servers[from].backend;
        for c in [self.st_srv(from), self.st_be(be)].into_iter().flatten() {
            c.inc(&c.redispatches);
        }
    }

    /// Wait in server `on`'s own queue, or in the backend's (`None`), until a slot frees or `timeout queue`.
    pub(super) fn enqueue(&mut self, idx: usize, mut sess: Session, on: Option<usize>, now: Instant) {
        let Some(be) = sess.be else { return self.finish(idx, sess, Term::SERVER_CONNECT, now) };
        let w = Waiter { idx, uid: sess.uid, seq: self.queue_seq };
        self.queue_seq += 1;
        let pos = self.rt.enqueue(be, on, w);
        match on {
            Some(si) => {
                sess.sq = pos;
                if let Some(c) = self.st_srv(si) {
                    c.queue_push();
                }
            }
            None => {
                sess.bq = pos;
                if let Some(c) = self.st_be(be) {
                    c.queue_push();
                }
            }
        }
        sess.queued_on = on;
        let since = *sess.queued_since.get_or_insert(now);
        sess.phase = Phase::Queued;
        sess.phase_since = since;
        self.store(idx, sess, now);
        // `minconn`: a longer queue is more load, which may raise the servers' limits.
        if self.rt.refresh_dynamic(be) {
            self.serve_dynamic(be);
        }
    }

    /// Limits of `minconn` servers grew: let their waiters (and the backend's) take the new slots.
    fn serve_dynamic(&mut self, be: usize) {
        let servers = self.rt.backends[be].servers.clone();
        for si in servers {
            if self.rt.servers[si].minconn > 0 {
                self.serve_queues(si);
            }
        }
    }

    /// Start a connection attempt to server `si`.
    pub(super) fn connect(&mut self, idx: usize, mut sess: Session, si: usize, now: Instant) {
        sess.queued_since = None; // the wait is over
        if let Some(prefix) = self.rt.servers[si].redir.clone() {
            // `server … redir PREFIX`: GET and HEAD are redirected, never connected (1.4 §5).
            if let Some(page) = sess.txn().and_then(|t| t.redir_page(&prefix)) {
                return self.http_answer_now(idx, sess, page, now);
            }
        }
        let addr = connect::target(&self.rt.servers[si], sess.local_addr().port());
        self.rt.servers[si].cur += 1;
        if let Some(c) = self.st_srv(si) {
            let now_ms = self.now_ms;
            c.sess_open(now_ms);
            c.lb_pick();
            c.connect_attempt();
        }
        if let Some(c) = self.st_be(self.rt.servers[si].backend) {
            let now_ms = self.now_ms;
            c.sess_open(now_ms);
            c.lb_pick();
        }
        let srv = &mut self.rt.servers[si];
        srv.total += 1;
        let be = srv.backend;
        self.rt.backends[be].cur += 1;
        if self.rt.refresh_dynamic(be) {
            self.serve_dynamic(be);
        }
        sess.srv = Some(si);
        // HTTP keep-alive: the connection kept from this client's previous request, if it goes to the same server.
        if let Some(kept) = sess.kept_srv.take() {
            if kept == si && sess.stream.server.is_some() {
                if let Some(h) = sess.http.as_mut() {
                    h.reused = true;
                }
                return self.drive_reused(idx, sess, now);
            }
            // Balanced to another server: the kept connection may serve someone else.
            self.park_conn(&mut sess, kept, now);
        }
        // HTTP: an idle connection to this server from the pool saves the connect.
        let reuse = sess.txn().is_some_and(|t| !t.no_pool)
            && self.may_reuse(
                be,
                sess.http.as_ref().is_some_and(|h| h.client.completed() == 0),
                sess.txn().is_some_and(|t| t.replayable),
            );
        if reuse {
            if let Some((conn, cid)) = self.unpark(si, now) {
                // The socket stays registered under its connection token: only its owner changes.
                self.conn_own(cid, Owner::Session(idx, sess.uid));
                sess.server_cid = Some(cid);
                sess.stream.server = Some(conn);
                return self.drive_reused(idx, sess, now);
            }
        }
        sess.phase = Phase::Connecting;
        sess.phase_since = now;
        match crate::transport::connect_from(addr, self.rt.servers[si].source) {
            Ok(mut sock) => {
                let _ = sock.set_nodelay(true);
                if self.rt.backends[be].tcpka {
                    let _ = socket2::SockRef::from(&sock).set_keepalive(true);
                }
                let cid = self.conn_alloc(Owner::Session(idx, sess.uid));
                match self.poll.registry().register(&mut sock, conn_token(cid), Interest::READABLE | Interest::WRITABLE)
                {
                    Ok(()) => {
                        sess.server_cid = Some(cid);
                        sess.connecting = Some(sock);
                        self.store(idx, sess, now);
                    }
                    Err(_) => {
                        self.conn_release(cid);
                        self.connect_failed(idx, sess, now, false)
                    }
                }
            }
            Err(_) => self.connect_failed(idx, sess, now, false),
        }
    }

    /// The session goes on over a server connection already established (kept from the client's previous
    /// request, or taken from the idle pool): no connect time, and the request may be replayed if it fails.
    fn drive_reused(&mut self, idx: usize, mut sess: Session, now: Instant) {
        if let Some(t) = sess.txn_mut() {
            t.from_pool = true;
        }
        sess.tc = 0;
        sess.phase = Phase::Established;
        sess.phase_since = now;
        self.drive(idx, sess, now)
    }

    /// `send-proxy[-v2]`: write the PROXY header on a just-established server connection, before any byte of the
    /// client's. The socket's send buffer is empty, so the short header goes out whole; anything else is treated
    /// as a failed connection (retried like one).
    pub(super) fn send_proxy_header(&mut self, sess: &mut Session, sock: &TcpStream) -> bool {
        let Some(version) = sess.srv.and_then(|si| self.rt.servers[si].send_proxy) else { return true };
        let header = crate::proxy_proto::header(version, sess.client_addr, sess.local_addr());
        matches!(io::Write::write(&mut &*sock, &header), Ok(n) if n == header.len())
    }

    /// A connection attempt failed (refused, unreachable, timed out): retry, redispatch, or give up.
    pub(super) fn connect_failed(&mut self, idx: usize, mut sess: Session, now: Instant, timeout: bool) {
        self.drop_server(&mut sess);
        sess.last_srv = sess.srv;
        if let Some(si) = sess.srv {
            if let Some(c) = self.st_srv(si) {
                c.inc(&c.failed_conns);
            }
            if let Some(c) = self.st_be(self.rt.servers[si].backend) {
                c.inc(&c.failed_conns);
            }
        }
        self.release_server(&mut sess);
        let Some(be) = sess.be else { return self.finish(idx, sess, Term::SERVER_CONNECT, now) };
        let pause = match connect::after_failure(&self.rt.backends[be], sess.retries, timeout) {
            AfterFailure::GiveUp(term) => return self.finish(idx, sess, term, now),
            AfterFailure::Retry(pause) => pause,
        };
        sess.retries += 1;
        if let Some(c) = self.st_be(be) {
            c.inc(&c.retries);
        }
        sess.phase = Phase::TurnAround(now + pause);
        sess.phase_since = now;
        self.store(idx, sess, now);
    }

    /// The turn-around delay is over: connect again, to another server on the last retry with redispatch.
    pub(super) fn retry(&mut self, idx: usize, mut sess: Session, now: Instant, last_srv: Option<usize>) {
        let Some(be) = sess.be else { return self.finish(idx, sess, Term::SERVER_CONNECT, now) };
        let redispatch = connect::redispatches(&self.rt.backends[be], sess.retries);
        match last_srv {
            // The same server again, queueing if others took its slot meanwhile.
            Some(si) if !redispatch && self.rt.servers[si].usable() => self.assign_to(idx, sess, si, false, now),
            _ => {
                if redispatch {
                    sess.redispatched = true;
                    if let Some(c) = self.st_be(be) {
                        c.inc(&c.redispatches);
                    }
                }
                self.assign(idx, sess, now)
            }
        }
    }

    /// Take a queued session out of its queue (the client left, or `timeout queue` expired).
    pub(super) fn unqueue(&mut self, sess: &mut Session, idx: usize) {
        if sess.queued_since.take().is_none() {
            return; // in no queue
        }
        let on = sess.queued_on.take();
        if self.rt.unqueue(sess.be, on, idx, sess.uid) {
            let c = match on {
                Some(si) => self.st_srv(si),
                None => sess.be.and_then(|be| self.st_be(be)),
            };
            if let Some(c) = c {
                c.queue_pop();
            }
        }
    }

    /// Give back the session's server slot (counters, queue) once its server connection is closed or parked.
    pub(super) fn release_server(&mut self, sess: &mut Session) {
        if let Some(si) = sess.srv.take() {
            if let Some(c) = self.st_srv(si) {
                c.sess_close();
            }
            if let Some(c) = self.st_be(self.rt.servers[si].backend) {
                c.sess_close();
            }
            let s = &mut self.rt.servers[si];
            s.cur = s.cur.saturating_sub(1);
            let be = s.backend;
            let b = &mut self.rt.backends[be];
            b.cur = b.cur.saturating_sub(1);
            // A lower load only lowers `minconn` limits: nothing to serve from that.
            let _ = self.rt.refresh_dynamic(be);
            // The freed slot goes to the oldest session waiting for this server or for any server.
            self.serve_queues(si);
            self.dequeue_backend(be);
        }
    }

    /// Let waiting sessions have the free slots of backend `be`'s servers after a change (a server came UP, an
    /// admin change, a server went DOWN): each server with waiters of its own serves them, then the balancer
    /// places what is left in the backend's queue.
    pub(super) fn dequeue_soon(&mut self, be: usize) {
        for k in 0..self.rt.backends[be].servers.len() {
            let si = self.rt.backends[be].servers[k];
            if !self.rt.servers[si].queue.is_empty() {
                self.serve_queues(si);
            }
        }
        self.dequeue_backend(be);
    }

    /// Give server `si`'s free slots to waiting sessions, oldest first: the head of its own queue against the
    /// head of the backend's queue (which it serves only if it takes load-balanced traffic), as HAProxy's
    /// `process_srv_queue`. Returns how many came from the backend's queue.
    pub(super) fn serve_queues(&mut self, si: usize) -> usize {
        let now = self.now;
        let be = self.rt.servers[si].backend;
        let mut from_backend = 0;
        // Whether this server serves the backend's queue, asked only when it matters.
        let mut lb: Option<bool> = None;
        while let Some((w, shared_first)) = self.rt.next_waiter(si, &mut lb) {
            let c = if shared_first { self.st_be(be) } else { self.st_srv(si) };
            if let Some(c) = c {
                c.queue_pop();
            }
            let Some(mut sess) = self.sessions.get_mut(w.idx).and_then(|s| s.take_if(|s| s.uid == w.uid)) else {
                continue;
            };
            if shared_first {
                from_backend += 1;
            }
            sess.queued_on = None;
            sess.tw = ms(now - sess.phase_since);
            self.connect(w.idx, sess, si, now);
        }
        from_backend
    }

    /// Place the sessions of the backend's queue on servers with free slots, through the balancer.
    pub(super) fn dequeue_backend(&mut self, be: usize) {
        let now = self.now;
        while let Some(&w) = self.rt.backends[be].queue.front() {
            let cands = self.rt.candidates(be);
            match self.rt.backends[be].balancer.pick(&cands, None) {
                Pick::Full | Pick::Queue(_) => return,
                pick => {
                    self.rt.backends[be].queue.pop_front();
                    if let Some(c) = self.st_be(be) {
                        c.queue_pop();
                    }
                    let Some(mut sess) = self.sessions.get_mut(w.idx).and_then(|s| s.take_if(|s| s.uid == w.uid))
                    else {
                        continue;
                    };
                    sess.tw = ms(now - sess.phase_since);
                    match pick {
                        Pick::Server(i) => {
                            let si = self.rt.backends[be].servers[i];
                            self.connect(w.idx, sess, si, now)
                        }
                        // No usable server is left: nobody will serve it.
                        _ => self.finish(w.idx, sess, Term::SERVER_CONNECT, now),
                    }
                }
            }
        }
    }

    /// Server `si` went DOWN, into maintenance or stopped taking load-balanced traffic: with `option redispatch`
    /// and without `option persist`, the sessions waiting in its own queue are balanced again (HAProxy's
    /// `pendconn_redistribute`); otherwise they keep waiting for it, or for `timeout queue`. Returns how many
    /// were moved.
    pub(super) fn redistribute(&mut self, si: usize) -> usize {
        let be = self.rt.servers[si].backend;
        let b = &self.rt.backends[be];
        if !b.redispatch || b.persist {
            return 0;
        }
        let now = self.now;
        let waiters = std::mem::take(&mut self.rt.servers[si].queue);
        let mut moved = 0;
        for w in waiters {
            if let Some(c) = self.st_srv(si) {
                c.queue_pop();
            }
            let Some(mut sess) = self.sessions.get_mut(w.idx).and_then(|s| s.take_if(|s| s.uid == w.uid)) else {
                continue;
            };
            sess.queued_on = None;
            moved += 1;
            self.break_persistence(&mut sess, si);
            self.balance(w.idx, sess, be, now);
        }
        moved
    }
}
