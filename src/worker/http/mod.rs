//! `mode http` sessions: the I/O loop between a session's two connections and the HTTP/1 state machines.
//!
//! This module moves bytes — client socket into the request buffer, validated body bytes and serialized heads
//! out to the server, the response back — and hands what the machines report to the proxy logic: a request
//! head to the rules, backend choice and persistence ([`request`]), a response head to the response rules and
//! cookies ([`response`]), a finished exchange to the log ([`log`]). The connection rules themselves (framing,
//! keep-alive, pipelining, upgrade, reuse) are decided by [`crate::http::h1`]; heads are parsed in place and
//! serialized once into a small per-direction vector; bodies go out straight from the receive buffer.
//!
//! Each exchange's storage ([`txn::Txn`]) comes from the worker's pool when a request's first byte arrives and
//! goes back when the exchange ends, so an idle keep-alive connection holds only [`txn::HttpConn`].

mod log;
mod request;
mod response;
pub(super) mod txn;

use std::time::Instant;

use super::session::{Phase, Session};
use super::stats::Culprit;
use super::{ms, Worker};
use crate::http::h1::{ClientSide, Next, ReqEvent, RespEvent, ServerSide};
use crate::stats::errors::Direction;
use crate::stream::term::Term;
pub(super) use txn::{HttpConn, Stage, Txn};

/// Result of one pass over a session's connections.
enum Step {
    /// Nothing more can move now.
    Idle,
    /// Bytes could still move, but the session had its share of this turn.
    Yield,
    /// A reused idle server connection failed before any response byte: resend on a fresh connection.
    Replay,
    /// The server's connection is no longer wanted (its response was replaced): drop it and go on.
    DropServer,
    /// The request head is complete: pick a server (the session leaves the loop to connect).
    NeedServer,
    /// End the session with this termination state (and HTTP status if nothing was answered yet).
    End(Term, Option<u16>),
}

impl Worker {
    /// Longest head accepted: `tune.bufsize - tune.maxrewrite` (at least 1 KiB).
    fn max_head(&self) -> usize {
        self.cfg.global.bufsize.saturating_sub(self.cfg.global.maxrewrite).max(1024)
    }

    /// The HTTP state of a new client connection of frontend `fe`.
    pub(super) fn http_conn(&self, fe: usize, now: Instant) -> HttpConn {
        let client = ClientSide::new(self.max_head(), self.rt.frontends[fe].http_mode);
        HttpConn::new(client, now, self.now_ms)
    }

    /// Storage for a new exchange of frontend `fe` (from the pool: no allocation once warm).
    fn take_txn(&mut self, fe: usize) -> Box<Txn> {
        let server = ServerSide::new(self.max_head(), self.rt.frontends[fe].http_mode);
        match self.txn_pool.pop() {
            Some(mut t) => {
                t.recycle(server);
                t
            }
            None => Box::new(Txn::new(server)),
        }
    }

    /// An exchange is over: its storage goes back to the pool.
    pub(super) fn give_txn(&mut self, txn: Box<Txn>) {
        if self.txn_pool.len() < 256 {
            self.txn_pool.push(txn);
        }
    }

    /// Drive an HTTP session after any readiness change.
    pub(super) fn drive_http(&mut self, idx: usize, mut sess: Session, now: Instant) {
        let step = self.http_pass(&mut sess, now);
        match step {
            Step::Idle => self.store(idx, sess, now),
            Step::Yield => {
                self.redrive_soon(idx, &mut sess);
                self.store(idx, sess, now)
            }
            Step::NeedServer => self.http_assign(idx, sess, now),
            Step::DropServer => {
                self.drop_server(&mut sess);
                sess.stream.s2c.release(&mut self.pool);
                self.release_server(&mut sess);
                if let Some(h) = sess.http.as_mut() {
                    h.reused = false;
                    if let Some(t) = h.txn.as_mut() {
                        t.s2c_ready = 0;
                    }
                }
                sess.phase = Phase::Request;
                self.drive_http(idx, sess, now)
            }
            Step::Replay => {
                self.drop_server(&mut sess);
                self.release_server(&mut sess);
                if let Some(h) = sess.http.as_mut() {
                    h.reused = false;
                    if let Some(t) = h.txn.as_mut() {
                        t.to_server_pos = 0;
                        t.from_pool = false;
                        t.no_pool = true;
                        t.server.resend();
                    }
                }
                sess.tc = -1;
                self.assign(idx, sess, now)
            }
            Step::End(term, status) => {
                if let Some(code) = status {
                    self.http_local_reply(&mut sess, code);
                }
                self.finish(idx, sess, term, now)
            }
        }
    }

    /// Request head parsed: choose backend and server, reusing the current server connection if it fits.
    fn http_assign(&mut self, idx: usize, mut sess: Session, now: Instant) {
        let Some(t) = sess.txn_mut() else { return self.finish(idx, sess, Term::PROXY_REQUEST, now) };
        t.from_pool = false;
        if sess.kept_srv.is_none() && sess.srv.is_some() {
            // A connection still counted for a server (not a kept keep-alive one): another session may use it.
            self.park_server(&mut sess, now);
            self.release_server(&mut sess);
        }
        sess.tw = -1;
        sess.tc = -1;
        // Queue positions are per request (HAProxy logs them per stream).
        sess.sq = 0;
        sess.bq = 0;
        self.assign(idx, sess, now);
    }

    /// One pass: move every byte that can move and advance the exchange.
    fn http_pass(&mut self, sess: &mut Session, now: Instant) -> Step {
        for _ in 0..64 {
            let mut progress = false;
            let Some(h) = sess.http.as_mut() else { return Step::End(Term::PROXY_REQUEST, None) };
            let stage = h.stage();
            // Client → c2s: read while a request head or body is expected (pipelined data waits in the buffer).
            if matches!(stage, Stage::Request | Stage::Forward | Stage::Tunnel) {
                match sess.stream.client.fill(&mut sess.stream.c2s, &mut self.pool, now) {
                    Ok(p) => progress |= p,
                    Err(_) => {
                        let term = if stage == Stage::Request { Term::CLIENT_REQUEST } else { Term::CLIENT_DATA };
                        return Step::End(term, None);
                    }
                }
            }
            match stage {
                Stage::Request => match self.http_request_head(sess, now) {
                    Ok(p) => progress |= p,
                    Err(step) => return step,
                },
                Stage::Forward | Stage::Tunnel => {
                    let moved = self.http_move(sess, now);
                    if sess.txn().is_some_and(|t| t.log_now) {
                        // `option logasap`: logged once the response head is out, not at the end of the body.
                        self.http_log(sess, Term::NORMAL, now);
                    }
                    match moved {
                        Ok(p) => progress |= p,
                        Err(step) => return step,
                    }
                }
                Stage::Held => return Step::Idle,
                Stage::Answer { then } => match self.http_answer(sess, then, now) {
                    Ok(p) => progress |= p,
                    Err(step) => return step,
                },
            }
            if !progress {
                sess.stream.c2s.release_if_empty(&mut self.pool);
                sess.stream.s2c.release_if_empty(&mut self.pool);
                return Step::Idle;
            }
        }
        // Still moving after a full round: let other sessions run, and come back on the next turn (no event
        // would wake us: the sockets have not said WouldBlock yet).
        Step::Yield
    }

    /// Waiting for a request head: take the exchange's storage at its first byte, and go on once it is whole.
    fn http_request_head(&mut self, sess: &mut Session, now: Instant) -> Result<bool, Step> {
        let fe = sess.fe;
        let eof = sess.stream.client.rd_eof;
        let Some(h) = sess.http.as_mut() else { return Err(Step::End(Term::PROXY_REQUEST, None)) };
        if h.txn.is_none() {
            if sess.stream.c2s.is_empty() {
                // Nothing of a request: a closed keep-alive connection ends normally, an empty one as `CR`.
                return if eof {
                    let term = if h.client.completed() > 0 { Term::NORMAL } else { Term::CLIENT_REQUEST };
                    Err(Step::End(term, None))
                } else {
                    Ok(false)
                };
            }
            // The first byte of a request: keep-alive idle time is not part of the request time (2.x `TR`
            // excludes `Ti`).
            h.started = now;
            h.started_wall = self.now_ms;
            h.txn = Some(self.take_txn(fe));
        }
        let (Some(h), data) = (sess.http.as_mut(), sess.stream.c2s.pending()) else {
            return Err(Step::End(Term::PROXY_REQUEST, None));
        };
        let Some(t) = h.txn.as_mut() else { return Err(Step::End(Term::PROXY_REQUEST, None)) };
        match h.client.poll(data, eof, &mut t.req) {
            ReqEvent::NeedMore => Ok(false),
            ReqEvent::Closed => {
                let term = if h.client.completed() > 0 { Term::NORMAL } else { Term::CLIENT_REQUEST };
                Err(Step::End(term, None))
            }
            ReqEvent::Aborted => Err(Step::End(Term::CLIENT_REQUEST, Some(400))),
            ReqEvent::Error(bad) => {
                ::log::debug!("bad request from {}: {}", sess.client_addr, bad.what);
                t.req_line = b"<BADREQ>".to_vec();
                let who = Culprit { fe, be: None, srv: None, src: sess.client_addr };
                self.st_capture(Direction::Request, who, data, bad.at, bad.what);
                Err(Step::End(Term::PROXY_REQUEST, Some(400)))
            }
            ReqEvent::Head(len) => {
                t.tq = ms(now - h.started);
                if let Some(step) = self.http_request_ready(sess, len, now) {
                    return Err(step);
                }
                // Every request is assigned a server (a kept keep-alive connection is reused there if the
                // request lands on its server).
                if sess.txn().is_some_and(|t| t.stage == Stage::Forward) && sess.srv.is_none() {
                    return Err(Step::NeedServer);
                }
                Ok(true)
            }
            // Bodies are read once the head was handled (stage `Forward`).
            ReqEvent::Body(_) | ReqEvent::End => Ok(false),
        }
    }

    /// Write out a response the proxy made up; then go on with the next request, or close.
    fn http_answer(&mut self, sess: &mut Session, then: Next, now: Instant) -> Result<bool, Step> {
        let n = sess_send_to_client(sess, now).map_err(|_| Step::End(Term::CLIENT_DATA, None))?;
        if sess.txn().is_none_or(|t| t.to_client_pos < t.to_client.len()) {
            return Ok(n > 0);
        }
        if then != Next::KeepAlive {
            sess.stream.client.shutdown_write();
            return Err(Step::End(Term::NORMAL, None));
        }
        let term = sess.term_hint.take().unwrap_or(Term::NORMAL);
        self.http_log(sess, term, now);
        self.http_next_request(sess, now);
        Ok(true)
    }

    /// The exchange is over and the client connection goes on: its storage goes back to the pool, its
    /// request-level trackers are released, and the next request is awaited.
    fn http_next_request(&mut self, sess: &mut Session, now: Instant) {
        let wall = self.now_ms;
        if let Some(h) = sess.http.as_mut() {
            let _ = h.client.response_done();
            h.started = now;
            h.started_wall = wall;
            if let Some(t) = h.txn.take() {
                self.give_txn(t);
            }
        }
        sess.tracks.release_request();
        sess.logged = false;
        sess.phase = Phase::Request;
        sess.phase_since = now;
    }

    /// A finished exchange: log it, then keep the connections for the next one or close.
    fn http_txn_done(&mut self, sess: &mut Session, now: Instant) -> Step {
        self.http_log(sess, Term::NORMAL, now);
        let Some(h) = sess.http.as_mut() else { return Step::End(Term::NORMAL, None) };
        let Some(t) = h.txn.as_ref() else { return Step::End(Term::NORMAL, None) };
        let server_reusable = t.server.reusable(t.request_whole()) && sess.stream.server.is_some();
        if !t.request_whole() {
            // The server answered before the whole request body arrived: the client connection can't go on.
            h.client.force_close();
        }
        if h.client.closing() {
            if server_reusable {
                self.park_server(sess, now);
            }
            return Step::End(Term::NORMAL, None);
        }
        h.reused = server_reusable;
        self.http_next_request(sess, now);
        if server_reusable {
            // The server's slot is given back now (its waiters may go); the connection stays with this client
            // for its next request, if that request is balanced to the same server.
            let si = sess.srv;
            self.release_server(sess);
            sess.kept_srv = si;
        } else {
            self.drop_server(sess);
            self.release_server(sess);
        }
        Step::Idle
    }

    /// Move bytes while a server is attached: head and body to the server, response head and body back.
    fn http_move(&mut self, sess: &mut Session, now: Instant) -> Result<bool, Step> {
        if sess.http.as_ref().is_some_and(|h| h.stage() == Stage::Tunnel) {
            return match sess.stream.pump(&mut self.pool, &mut self.pipes, now) {
                crate::tcp::Pumped::Open => Ok(false),
                crate::tcp::Pumped::Busy => Err(Step::Yield),
                crate::tcp::Pumped::Done => Err(Step::End(Term::NORMAL, None)),
                crate::tcp::Pumped::Failed(crate::tcp::End::Client, _) => Err(Step::End(Term::CLIENT_DATA, None)),
                crate::tcp::Pumped::Failed(crate::tcp::End::Server, _) => Err(Step::End(Term::SERVER_DATA, None)),
            };
        }
        if sess.stream.server.is_none() {
            return Ok(false);
        }
        let mut progress = self.http_request_out(sess, now)?;
        progress |= self.http_response_in(sess, now)?;
        // Response head and body to the client (one writev for both when they fit).
        let n = sess_send_to_client(sess, now).map_err(|_| Step::End(Term::CLIENT_DATA, None))?;
        progress |= n > 0;
        let Some(t) = sess.txn() else { return Err(Step::End(Term::PROXY_REQUEST, None)) };
        let head_out = t.to_client_pos >= t.to_client.len();
        if head_out && t.server.next() == Next::Tunnel && t.resp_started {
            // Head of the 101 delivered: from here on, blind forwarding.
            if let Some(h) = sess.http.as_mut() {
                let _ = h.client.response_done();
                if let Some(t) = h.txn.as_mut() {
                    t.stage = Stage::Tunnel;
                }
            }
            return Ok(true);
        }
        if head_out && t.resp_in && t.s2c_ready == 0 {
            // The next (maybe pipelined, already buffered) request is handled in the same pass.
            return match self.http_txn_done(sess, now) {
                Step::Idle => Ok(true),
                step => Err(step),
            };
        }
        Ok(progress)
    }

    /// The request's head, then its validated body bytes, to the server (one writev for both when they fit).
    fn http_request_out(&mut self, sess: &mut Session, now: Instant) -> Result<bool, Step> {
        let eof = sess.stream.client.rd_eof;
        let (Some(h), Some(server)) = (sess.http.as_mut(), sess.stream.server.as_mut()) else { return Ok(false) };
        let Some(t) = h.txn.as_mut() else { return Ok(false) };
        let pending = sess.stream.c2s.pending();
        while !t.req_in {
            match h.client.poll(&pending[t.c2s_ready..], eof, &mut t.req) {
                ReqEvent::Body(k) => t.c2s_ready += k,
                ReqEvent::End => t.req_in = true,
                ReqEvent::Error(bad) => {
                    let pos = t.c2s_ready + bad.at;
                    let who = Culprit { fe: sess.fe, be: sess.be, srv: sess.srv, src: sess.client_addr };
                    self.st_capture(Direction::Request, who, pending, pos, bad.what);
                    return Err(Step::End(Term::PROXY_DATA, Some(400)));
                }
                // The client left before its whole body, which is lost once what came was forwarded.
                ReqEvent::Aborted | ReqEvent::Closed if t.c2s_ready == 0 => {
                    return Err(Step::End(Term::CLIENT_DATA, None))
                }
                _ => break,
            }
        }
        let mut progress = false;
        if t.to_server_pos < t.to_server.len() || t.c2s_ready > 0 {
            let replay = t.from_pool && t.replayable && t.to_server_pos == 0;
            let body = &pending[..t.c2s_ready];
            // More of the body waits in the client's socket for this same pass (see `sess_send_to_client`).
            let client = &sess.stream.client;
            let more = !t.req_in && client.readable && !client.rd_eof;
            let (nh, nb) = server.send2(&t.to_server[t.to_server_pos..], body, more, now).map_err(|_| {
                if replay {
                    Step::Replay
                } else if t.to_server_pos < t.to_server.len() {
                    Step::End(Term::SERVER_HEADERS, Some(502))
                } else {
                    Step::End(Term::SERVER_DATA, Some(502))
                }
            })?;
            t.to_server_pos += nh;
            sess.stream.c2s.consumed(nb);
            t.c2s_ready -= nb;
            sess.stream.bytes_in += nb as u64;
            progress = nh + nb > 0;
        }
        Ok(progress)
    }

    /// The response from the server: read it, hand its head to the response logic, validate its body.
    fn http_response_in(&mut self, sess: &mut Session, now: Instant) -> Result<bool, Step> {
        let mut progress = false;
        {
            let (Some(t), Some(server)) =
                (sess.http.as_mut().and_then(|h| h.txn.as_mut()), sess.stream.server.as_mut())
            else {
                return Ok(false);
            };
            match server.fill(&mut sess.stream.s2c, &mut self.pool, now) {
                Ok(p) => progress |= p,
                Err(_) => {
                    let nothing = sess.stream.s2c.is_empty() && t.server.nothing_received();
                    return Err(server_lost(t, nothing));
                }
            }
        }
        loop {
            let eof = sess.stream.server.as_ref().is_some_and(|s| s.rd_eof);
            let Some(t) = sess.http.as_mut().and_then(|h| h.txn.as_mut()) else { return Ok(progress) };
            if t.resp_in || (!t.resp_started && t.to_client_pos < t.to_client.len()) {
                // Done, or an interim head is still going out before the next head is looked at.
                return Ok(progress);
            }
            let data = sess.stream.s2c.pending();
            let input = if t.resp_started { &data[t.s2c_ready..] } else { data };
            match t.server.poll(input, eof, &mut t.resp) {
                RespEvent::NeedMore => return Ok(progress),
                RespEvent::Closed => return Err(server_lost(t, true)),
                RespEvent::Aborted => return Err(server_lost(t, false)),
                RespEvent::Error(bad) => {
                    let pos = bad.at + if t.resp_started { t.s2c_ready } else { 0 };
                    let who = Culprit { fe: sess.fe, be: sess.be, srv: sess.srv, src: sess.client_addr };
                    self.st_capture(Direction::Response, who, data, pos, bad.what);
                    return Err(if bad.body {
                        Step::End(Term::SERVER_DATA, None)
                    } else {
                        Step::End(Term::PROXY_HEADERS, Some(502))
                    });
                }
                RespEvent::Interim(len) => {
                    progress = true;
                    self.http_interim_response(sess, len);
                }
                RespEvent::Head(len) => {
                    progress = true;
                    self.http_response_ready(sess, len, now)?;
                }
                RespEvent::Body(k) => {
                    progress = true;
                    t.s2c_ready += k;
                }
                RespEvent::End => {
                    progress = true;
                    t.resp_in = true;
                }
            }
        }
    }
}

/// The server connection failed or closed before the response was whole. A reused connection the server
/// closed just as the request went out, before any byte of the response (`nothing_received`), gets the request
/// again on a fresh one when it may be replayed; otherwise `SH` and a 502 before the head, `SD` after it.
fn server_lost(t: &Txn, nothing_received: bool) -> Step {
    if t.resp_started {
        Step::End(Term::SERVER_DATA, None)
    } else if nothing_received && t.from_pool && t.replayable {
        Step::Replay
    } else {
        Step::End(Term::SERVER_HEADERS, Some(502))
    }
}

/// Write the pending response head, then the validated response body bytes, to the client.
fn sess_send_to_client(sess: &mut Session, now: Instant) -> std::io::Result<usize> {
    let (Some(t), client) = (sess.http.as_mut().and_then(|h| h.txn.as_mut()), &mut sess.stream.client) else {
        return Ok(0);
    };
    let body_ready = if t.resp_started { t.s2c_ready } else { 0 };
    if t.to_client_pos >= t.to_client.len() && body_ready == 0 {
        return Ok(0);
    }
    let body = &sess.stream.s2c.pending()[..body_ready];
    // More of the body waits in the server's socket and goes out in this same pass: let the kernel fill whole
    // segments rather than push each write (never when the server is drained: that would hold bytes back).
    let more = t.resp_started && !t.resp_in && sess.stream.server.as_ref().is_some_and(|s| s.readable && !s.rd_eof);
    let (nh, nb) = client.send2(&t.to_client[t.to_client_pos..], body, more, now)?;
    t.to_client_pos += nh;
    sess.stream.s2c.consumed(nb);
    t.s2c_ready -= nb;
    t.bytes_out += (nh + nb) as u64;
    sess.stream.bytes_out += (nh + nb) as u64;
    Ok(nh + nb)
}
