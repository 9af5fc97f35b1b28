//! `mode http` sessions: the HTTP/1.x transaction loop on top of a session's two sockets and raw buffers.
//!
//! Each transaction: read and parse the request head (`timeout http-request`), choose backend and server,
//! write the (edited) head to the server, stream the request body, parse the response head, write it to the
//! client, stream the response body, log one httplog line; then either wait for the next request on the same
//! client connection (keep-alive, pipelining) or close. Heads are parsed in place and re-serialized once into a
//! small per-direction output vector; bodies are forwarded straight from the receive buffer, never whole.

use std::time::{Duration, Instant, SystemTime};

use super::session::{Phase, Session, L4};
use super::stats::Culprit;
use super::Worker;
use crate::acl::{HttpView, ResView};
use crate::balance::keys;
use crate::config::model::{HttpConnMode, LogFormat};
use crate::http::body::BodyTracker;
use crate::http::cookie;
use crate::http::errors;
use crate::http::head::{self, Framing, HeadEdits, RequestHead, ResponseHead, Version};
use crate::http::rules::{self, Verdict};
use crate::http::write::{set_connection, write_request, write_response, ConnHeader};
use crate::log::{httplog, HttpLogFields};
use crate::stats::errors::Direction;
use crate::stick::{Event, TrackLevel};
use crate::stream::term::Term;

/// Where the current transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Waiting for (more of) a request head.
    ReqHead,
    /// Request head accepted: getting a server, sending head and body, waiting for the response head.
    Forward,
    /// Response head sent: streaming the response body.
    RespBody,
    /// `Connection: Upgrade` answered with 101: bytes flow blindly both ways.
    Tunnel,
    /// A locally generated response is being flushed; then the connection closes.
    Closing,
    /// A locally generated response is being flushed; then the next request is awaited.
    Local,
    /// `tarpit`: the answer waits for the tarpit delay; nothing is read meanwhile.
    Held,
}

/// Per-session HTTP state, reused across the transactions of a keep-alive connection.
#[derive(Debug)]
pub(super) struct HttpTxn {
    pub stage: Stage,
    pub req: RequestHead,
    pub resp: ResponseHead,
    pub req_body: BodyTracker,
    pub resp_body: BodyTracker,
    /// Validated body bytes at the front of c2s / s2c, ready to forward.
    pub c2s_ready: usize,
    pub s2c_ready: usize,
    /// Serialized head (or local response) still to write to the server / client.
    pub to_server: Vec<u8>,
    pub to_server_pos: usize,
    pub to_client: Vec<u8>,
    pub to_client_pos: usize,
    /// Close the client connection once this transaction is done.
    pub close_client: bool,
    /// Do not reuse the server connection after this transaction.
    pub close_server: bool,
    pub is_head: bool,
    /// When the transaction began (first byte awaited) and when its head was complete.
    pub started: Instant,
    pub started_wall: SystemTime,
    pub tq: i64,
    pub tr: i64,
    pub status: i32,
    /// Bytes sent to the client in this transaction.
    pub bytes_out: u64,
    pub req_line: Vec<u8>,
    /// The server socket was kept from the previous transaction (connection reuse).
    pub reused: bool,
    /// Transactions completed on this connection.
    pub count: u32,
    /// A locally generated response was sent for this transaction.
    pub answered: bool,
    /// How far the current head was searched for its blank line.
    pub scanned: usize,
    /// The server connection came from the idle pool (or was kept from this client's previous request).
    pub from_pool: bool,
    /// The request can be sent again if a reused connection fails first (idempotent method, no body).
    pub replayable: bool,
    /// Do not take a pooled connection for this request (a replay).
    pub no_pool: bool,
    /// `unique-id-format` rendered for the current request (`%ID`), empty when none is configured.
    pub unique_id: String,
    /// `option logasap`: the response head is in, log the transaction now (timers and bytes so far, `+`-prefixed).
    pub log_now: bool,
    /// The worker's request counter when this request arrived (`%rt`).
    pub req_id: u64,
    /// `capture request header` values of the current request, `capture response header` of its response.
    pub req_captures: Vec<String>,
    pub res_captures: Vec<String>,
    /// `capture cookie` in the request / response.
    pub req_cookie: Option<String>,
    pub res_cookie: Option<String>,
    /// Persistence found in the request (cookie), for the response side.
    pub persist: Option<cookie::Persistence>,
    /// Cookie log characters (`NI`, `VN`, …), `--` when persistence is not used.
    pub cookie_chars: [u8; 2],
    /// A copy of the current request head, for response rules and cookies (the original is consumed).
    pub req_copy: Vec<u8>,
    /// The first byte of the current request arrived (timers count from there).
    pub receiving: bool,
    /// Header edits of the message being forwarded (kept to reuse its allocations).
    pub edits: HeadEdits,
}

impl HttpTxn {
    pub(super) fn new(now: Instant, wall: SystemTime) -> HttpTxn {
        HttpTxn {
            stage: Stage::ReqHead,
            req: RequestHead::default(),
            resp: ResponseHead::default(),
            req_body: BodyTracker::new(Framing::None),
            resp_body: BodyTracker::new(Framing::None),
            c2s_ready: 0,
            s2c_ready: 0,
            to_server: Vec::new(),
            to_server_pos: 0,
            to_client: Vec::new(),
            to_client_pos: 0,
            close_client: false,
            close_server: false,
            is_head: false,
            started: now,
            started_wall: wall,
            tq: -1,
            tr: -1,
            status: -1,
            bytes_out: 0,
            req_line: Vec::new(),
            reused: false,
            count: 0,
            answered: false,
            edits: HeadEdits::default(),
            receiving: false,
            scanned: 0,
            req_copy: Vec::new(),
            persist: None,
            cookie_chars: *b"--",
            req_captures: Vec::new(),
            res_captures: Vec::new(),
            req_cookie: None,
            res_cookie: None,
            from_pool: false,
            replayable: false,
            no_pool: false,
            unique_id: String::new(),
            log_now: false,
            req_id: 0,
        }
    }

    fn reset(&mut self, now: Instant, wall: SystemTime) {
        self.stage = Stage::ReqHead;
        self.c2s_ready = 0;
        self.s2c_ready = 0;
        self.to_server.clear();
        self.to_server_pos = 0;
        self.to_client.clear();
        self.to_client_pos = 0;
        self.close_server = false;
        self.is_head = false;
        self.started = now;
        self.started_wall = wall;
        self.tq = -1;
        self.tr = -1;
        self.status = -1;
        self.bytes_out = 0;
        self.req_line.clear();
        self.count += 1;
        self.answered = false;
        self.receiving = false;
        self.scanned = 0;
        self.persist = None;
        self.cookie_chars = *b"--";
        self.req_captures.clear();
        self.res_captures.clear();
        self.req_cookie = None;
        self.res_cookie = None;
        self.no_pool = false;
        self.unique_id.clear();
        self.log_now = false;
    }

    /// The 302 a `redir PREFIX` server gives a GET or HEAD (`None` for other methods).
    pub(super) fn redir_page(&self, prefix: &str) -> Option<Vec<u8>> {
        let method = self.req.method(&self.req_copy);
        if method != b"GET" && method != b"HEAD" {
            return None;
        }
        let uri = String::from_utf8_lossy(self.req.uri(&self.req_copy));
        Some(errors::redirect(302, &format!("{prefix}{uri}"), &[]))
    }

    /// Make a finished transaction (from another connection) fresh for a new connection, keeping allocations.
    pub(super) fn recycle(&mut self, now: Instant, wall: SystemTime) {
        self.reset(now, wall);
        self.count = 0;
        self.close_client = false;
        self.reused = false;
        self.from_pool = false;
        self.replayable = false;
        self.req_body = BodyTracker::new(Framing::None);
        self.resp_body = BodyTracker::new(Framing::None);
    }

    /// The request went out completely and no response head has come back yet.
    pub(super) fn awaiting_response(&self) -> bool {
        self.stage == Stage::Forward && self.to_server_pos >= self.to_server.len() && self.req_body.is_done()
    }
}

/// Result of one pass over a session's sockets.
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

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

impl Worker {
    /// Drive an HTTP session after any readiness change.
    pub(super) fn drive_http(&mut self, idx: usize, mut sess: Session, now: Instant) {
        let step = self.http_pass(&mut sess, now);
        match step {
            Step::Idle => {
                if sess.http.as_ref().is_some_and(|h| h.stage == Stage::Closing && h.to_client_pos >= h.to_client.len())
                {
                    return self.finish(idx, sess, Term::NORMAL, now);
                }
                self.store(idx, sess, now)
            }
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
                    h.s2c_ready = 0;
                }
                sess.phase = Phase::Request;
                self.drive_http(idx, sess, now)
            }
            Step::Replay => {
                self.drop_server(&mut sess);
                self.release_server(&mut sess);
                if let Some(h) = sess.http.as_mut() {
                    h.to_server_pos = 0;
                    h.from_pool = false;
                    h.reused = false;
                    h.no_pool = true;
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
        let Some(h) = sess.http.as_mut() else { return self.finish(idx, sess, Term::PROXY_REQUEST, now) };
        h.from_pool = false;
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

    /// One pass: move every byte that can move and advance the transaction.
    fn http_pass(&mut self, sess: &mut Session, now: Instant) -> Step {
        let fe = sess.fe;
        let max_head = self.cfg.global.bufsize.saturating_sub(self.cfg.global.maxrewrite).max(1024);
        for _ in 0..64 {
            let mut progress = false;
            let Some(h) = sess.http.as_mut() else { return Step::End(Term::PROXY_REQUEST, None) };
            // Client → c2s: read while a request head or body is expected (pipelined data waits in the buffer).
            if matches!(h.stage, Stage::ReqHead | Stage::Forward | Stage::Tunnel) {
                match sess.stream.client.fill(&mut sess.stream.c2s, &mut self.pool, now) {
                    Ok(p) => progress |= p,
                    Err(_) => {
                        return Step::End(
                            if h.stage == Stage::ReqHead { Term::CLIENT_REQUEST } else { Term::CLIENT_DATA },
                            None,
                        )
                    }
                }
            }
            match h.stage {
                Stage::ReqHead => {
                    let data = sess.stream.c2s.pending();
                    if !data.is_empty() && !h.receiving {
                        // Keep-alive idle time is not part of the request time (2.x `TR` excludes `Ti`).
                        h.receiving = true;
                        h.started = now;
                        h.started_wall = self.now_wall();
                    }
                    if data.is_empty() {
                        if sess.stream.client.rd_eof {
                            // Keep-alive connection closed between requests: normal end, logged only if it began.
                            return Step::End(if h.count > 0 { Term::NORMAL } else { Term::CLIENT_REQUEST }, None);
                        }
                        return Step::Idle;
                    }
                    // Parse only once a blank line can end the head (linear cost for a head trickling in).
                    let full = data.len() >= max_head || sess.stream.c2s.is_full();
                    if !full && head::find_blank_line(data, h.scanned).is_none() {
                        h.scanned = data.len().saturating_sub(3);
                        if sess.stream.client.rd_eof {
                            return Step::End(Term::CLIENT_REQUEST, Some(400));
                        }
                        return Step::Idle;
                    }
                    match head::parse_request(data, max_head, &mut h.req) {
                        Ok(None) => {
                            if sess.stream.client.rd_eof {
                                return Step::End(Term::CLIENT_REQUEST, Some(400));
                            }
                            return Step::Idle;
                        }
                        Err(e) => {
                            log::debug!("bad request from {}: {e:?}", sess.client_addr);
                            let pos = head::error_position(data, max_head, &e, true);
                            let who = Culprit { fe, be: None, srv: None, src: sess.client_addr };
                            self.st_capture(Direction::Request, who, data, pos, e.as_str());
                            h.req_line = b"<BADREQ>".to_vec();
                            return Step::End(Term::PROXY_REQUEST, Some(400));
                        }
                        Ok(Some(len)) => {
                            h.tq = ms(now - h.started);
                            if let Some(step) = self.http_request_ready(sess, len, now) {
                                return step;
                            }
                            progress = true;
                            let forward = sess.http.as_ref().is_some_and(|h| h.stage == Stage::Forward);
                            // Every request is assigned a server (a kept keep-alive connection is reused there if
                            // the request lands on its server).
                            if forward && sess.srv.is_none() {
                                return Step::NeedServer;
                            }
                        }
                    }
                }
                Stage::Forward | Stage::RespBody | Stage::Tunnel => {
                    let moved = self.http_move(sess, now);
                    if sess.http.as_ref().is_some_and(|h| h.log_now) {
                        // `option logasap`: logged once the response head is out, not at the end of the body.
                        self.http_log(sess, Term::NORMAL, now);
                    }
                    match moved {
                        Ok(p) => progress |= p,
                        Err(step) => return step,
                    }
                }
                Stage::Held => return Step::Idle,
                Stage::Local => {
                    let h = sess.http.as_mut().expect("checked above");
                    match sess.stream.client.send(&h.to_client[h.to_client_pos..], now) {
                        Ok(n) => {
                            h.to_client_pos += n;
                            h.bytes_out += n as u64;
                            progress |= n > 0;
                        }
                        Err(_) => return Step::End(Term::CLIENT_DATA, None),
                    }
                    if h.to_client_pos >= h.to_client.len() {
                        let term = sess.term_hint.take().unwrap_or(Term::NORMAL);
                        self.http_log(sess, term, now);
                        if let Some(h) = sess.http.as_mut() {
                            h.reset(now, self.now_wall());
                        }
                        self.release_request_tracks(&sess.tracks);
                        sess.logged = false;
                        sess.phase = Phase::Request;
                        progress = true;
                    }
                }
                Stage::Closing => {
                    let h = sess.http.as_mut().expect("checked above");
                    match sess.stream.client.send(&h.to_client[h.to_client_pos..], now) {
                        Ok(n) => {
                            h.to_client_pos += n;
                            progress |= n > 0;
                        }
                        Err(_) => return Step::End(Term::CLIENT_DATA, None),
                    }
                    if h.to_client_pos >= h.to_client.len() {
                        sess.stream.client.shutdown_write();
                        return Step::End(Term::NORMAL, None);
                    }
                }
            }
            let _ = fe;
            if !progress {
                return Step::Idle;
            }
        }
        // Still moving after a full round: let other sessions run, and come back on the next turn (no event
        // would wake us: the sockets have not said WouldBlock yet).
        Step::Yield
    }

    /// The request head of `len` bytes is complete in c2s: decide where it goes and serialize it.
    fn http_request_ready(&mut self, sess: &mut Session, len: usize, _now: Instant) -> Option<Step> {
        let fe = sess.fe;
        let (src, dst) = (sess.client_addr, sess.local_addr());
        let h = sess.http.as_mut()?;
        let data = sess.stream.c2s.pending();
        let line_end = data.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(len).min(len);
        h.req_line.clear();
        h.req_line.extend_from_slice(&data[..line_end]);
        h.req_copy.clear();
        h.req_copy.extend_from_slice(&data[..len]);
        h.is_head = h.req.is_head(data);
        let first_req = h.count == 0;
        let f = &self.rt.frontends[fe];
        if let Some(c) = self.st_fe(fe) {
            c.http_request(self.now_ms);
        }
        if !f.captures.is_empty() {
            let hdrs = h.req.headers.iter().map(|x| (&data[x.name.clone()], &data[x.value.clone()]));
            f.captures.capture_request(hdrs, &mut h.req_captures);
            let hdrs = h.req.headers.iter().map(|x| (&data[x.name.clone()], &data[x.value.clone()]));
            h.req_cookie = f.captures.capture_cookie_req(hdrs);
        }
        let view = Some(HttpView::new(data, &h.req));
        if !f.tcp_content.is_empty()
            && self.tcp_rejects(&f.tcp_content, fe, src, dst, view, &sess.tracks, TrackLevel::Content).is_some()
        {
            // `tcp-request content reject` on an HTTP frontend: the connection is closed with no response.
            h.answered = true;
            if let Some(c) = self.st_fe(fe) {
                c.inc(&c.denied_req);
            }
            return Some(Step::End(Term::PROXY_REQUEST, None));
        }
        if !sess.tracks.is_empty() {
            // A new request on every entry tracked so far (connection level, `tcp-request content`).
            self.count_tracked(&sess.tracks, Event::HttpReq);
        }
        let tracks = (!self.rt.tables.is_empty()).then_some(&sess.tracks);
        let ctx = L4 { src, dst, rt: &self.rt, http: view, px: f.proxy, tracks, level: TrackLevel::Http };
        // The stats page (`stats enable` + `stats uri` prefix), for GET/HEAD.
        if let Some(conf) = f.stats.as_ref().filter(|c| h.req.uri(data).starts_with(c.uri.as_bytes())) {
            let view = HttpView::new(data, &h.req);
            let admin = f.stats_admin.as_ref().is_some_and(|c| f.rules.eval(c, &view, &ctx));
            // An admin POST's small form body must already be here (it is read with the head, as one packet).
            let body = match h.req.framing {
                Some(Framing::ContentLength(n)) if (n as usize) <= data.len() - len => {
                    Some(data[len..len + n as usize].to_vec())
                }
                _ => None,
            };
            let (page, code) = self.stats_page(conf, &view, admin, body.as_deref());
            let body_len = body.map_or(0, |b| b.len());
            let h = sess.http.as_mut()?;
            if body_len > 0 {
                // The form body was consumed here: the connection can go on with the next request.
                h.req.framing = Some(Framing::None);
            }
            sess.server_label = Some("<STATS>");
            self.http_reply_term(sess, len, page, code, Term::LOCAL_REQUEST);
            sess.stream.c2s.consumed(body_len);
            return None;
        }
        // monitor-uri: answered here, never forwarded, never logged.
        if f.monitor_uri.as_deref().is_some_and(|u| h.req.uri(data) == u.as_bytes()) {
            let view = HttpView::new(data, &h.req);
            let failing = f.monitor_fail.iter().any(|c| f.rules.eval(c, &view, &ctx));
            sess.logged = true;
            let page = if failing { errors::default_page(503) } else { errors::default_page(200) };
            self.http_reply(sess, len, page.to_vec(), if failing { 503 } else { 200 });
            return None;
        }
        self.req_counter += 1;
        h.req_id = self.req_counter;
        let edits = &mut h.edits;
        edits.clear();
        if let Some(uid) = f.unique_id.as_ref() {
            // `unique-id-format`: rendered once per request, sent as `unique-id-header`, logged as `%ID`.
            let v = crate::log::LogValues {
                client: Some(src),
                frontend_addr: Some(dst),
                frontend: &f.name,
                accept_time: h.started_wall,
                http: true,
                pid: self.pid,
                request_counter: h.req_id,
                hostname: &self.hostname,
                ..crate::log::LogValues::default()
            };
            h.unique_id.clear();
            uid.format.render(&v, &|_| None, &mut h.unique_id);
            if let Some(name) = &uid.header {
                edits.added.push((name.clone(), h.unique_id.as_bytes().to_vec()));
            }
        }
        let mut verdict = rules::apply_request(&f.rules, data, &h.req, first_req, &ctx, edits);
        let mut be = None;
        if verdict == Verdict::Continue {
            let view = HttpView { buf: data, head: &h.req, edits: Some(edits), first_req, res: None };
            be = self.choose_backend(fe, src, dst, Some(view), &sess.tracks);
            if let Some(b) = be.filter(|&b| Some(b) != f.own_backend) {
                // The backend's rules: its own stick table is their default one.
                let ctx = L4 { px: self.rt.backends[b].proxy, ..ctx };
                verdict = rules::apply_request(&self.rt.backends[b].rules, data, &h.req, first_req, &ctx, edits);
            }
        }
        match verdict {
            Verdict::Continue => {}
            Verdict::Deny(code) => {
                if let Some(c) = self.st_fe(fe) {
                    c.inc(&c.denied_req);
                }
                let page = f.errors.get(code).to_vec();
                self.http_reply_term(sess, len, page, code, Term::PROXY_REQUEST);
                return None;
            }
            Verdict::Tarpit(code) => {
                // Hold the client for `timeout tarpit` (default: `timeout connect`), then answer the error.
                let hold = f.timeouts.tarpit.or(f.timeouts.connect).unwrap_or(Duration::from_secs(5));
                let page = f.errors.get(code).to_vec();
                if !(400..500).contains(&code) {
                    // A tarpitted request is an HTTP error whatever its status (a 4xx is counted as such).
                    self.count_http_status(&sess.tracks, 400);
                }
                self.http_reply_term(sess, len, page, code, Term::PROXY_TARPIT);
                if let Some(h) = sess.http.as_mut() {
                    h.stage = Stage::Held;
                }
                sess.phase = Phase::Tarpit(_now + hold);
                return Some(Step::Idle);
            }
            Verdict::Auth(realm) => {
                self.http_reply_term(sess, len, errors::auth_page(&realm, false), 401, Term::PROXY_REQUEST);
                return None;
            }
            Verdict::Service(name) => {
                let (bytes, code) = self.service(&name);
                sess.server_label = Some("<PROMEX>");
                self.http_reply_term(sess, len, bytes, code, Term::LOCAL_REQUEST);
                return None;
            }
            Verdict::Redirect(bytes) | Verdict::Return(bytes) => {
                let code = status_of(&bytes);
                self.http_reply_term(sess, len, bytes, code, Term::LOCAL_REQUEST);
                return None;
            }
        }
        let be_rules = be.map(|b| &*self.rt.backends[b].rules);
        rules::apply_forwarding(&f.rules, be_rules, data, &h.req, &ctx, edits);
        h.persist = None;
        if let Some(b) = be {
            let bk = &self.rt.backends[b];
            if let Some(conf) = &bk.cookie {
                let servers = &self.rt.servers;
                let lookup = |v: &[u8]| {
                    bk.servers.iter().enumerate().find_map(|(i, &si)| {
                        let s = &servers[si];
                        (s.cookie.as_deref().map(str::as_bytes) == Some(v)).then(|| (i, s.usable()))
                    })
                };
                let view = HttpView { buf: data, head: &h.req, edits: None, first_req, res: None };
                let p = cookie::request_cookie(conf, &view, &lookup, edits);
                sess.forced_srv = p.server.map(|i| bk.servers[i]);
                h.persist = Some(p);
            }
        }
        if let Some(b) = be.filter(|&b| !self.rt.backends[b].use_servers.is_empty()) {
            let view = HttpView { buf: data, head: &h.req, edits: Some(edits), first_req, res: None };
            let px = self.rt.backends[b].proxy;
            let level = TrackLevel::Http;
            let ctx = L4 { src, dst, rt: &self.rt, http: Some(view), px, tracks: Some(&sess.tracks), level };
            if let Some(si) = self.use_server(b, &ctx) {
                sess.forced_srv = Some(si); // `use-server` wins over the persistence cookie
            }
        }
        if sess.forced_srv.is_some() && sess.forced_srv != sess.kept_srv {
            h.reused = false; // persistence names another server than the kept connection's
        }
        sess.hash_key = be.and_then(|b| {
            let view = HttpView { buf: data, head: &h.req, edits: Some(edits), first_req, res: None };
            keys::request_key(&self.rt.backends[b].balance, &view)
        });
        if be != sess.be {
            h.reused = false;
            if let Some(b) = be {
                self.rt.backends[b].total += 1;
            }
        }
        sess.be = be;
        let mode = f.http_mode;
        h.req_body = BodyTracker::new(h.req.framing.unwrap_or(Framing::None));
        let method = h.req.method(data);
        let idempotent = matches!(method, b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE" | b"PUT" | b"DELETE");
        h.replayable = idempotent && matches!(h.req.framing, None | Some(Framing::None));
        let client_wants_close = h.req.conn.close || (h.req.version == Version::Http10 && !h.req.conn.keep_alive);
        h.close_client = client_wants_close || mode == HttpConnMode::Close;
        h.close_server = mode != HttpConnMode::KeepAlive || h.req.conn.cl_and_te || h.req.conn.upgrade;
        let conn = if h.close_server { ConnHeader::Close } else { ConnHeader::KeepAlive };
        set_connection(edits, &h.req, data, conn);
        h.to_server.clear();
        h.to_server_pos = 0;
        write_request(data, &h.req, edits, &mut h.to_server);
        sess.stream.c2s.consumed(len);
        sess.stream.bytes_in += len as u64;
        h.c2s_ready = 0;
        h.stage = Stage::Forward;
        None
    }

    /// Answer the current request locally with `bytes` (status `code`), then close: deny, redirect, return,
    /// monitor-uri. Logged with termination state `term`.
    fn http_reply_term(&mut self, sess: &mut Session, len: usize, bytes: Vec<u8>, code: u16, term: Term) {
        sess.term_hint = Some(term);
        self.http_reply(sess, len, bytes, code)
    }

    /// Answer the current request with `page` at once (no server involved), keeping the connection when the
    /// request allows it, and go on.
    pub(super) fn http_answer_now(&mut self, idx: usize, mut sess: Session, page: Vec<u8>, now: Instant) {
        let code = status_of(&page);
        sess.term_hint = Some(Term::LOCAL_REQUEST);
        if let Some(h) = sess.http.as_mut() {
            h.answered = true;
            h.status = code as i32;
            h.to_client = page;
            h.to_client_pos = 0;
            let has_body = !matches!(h.req.framing, None | Some(Framing::None));
            h.stage = if has_body || h.close_client { Stage::Closing } else { Stage::Local };
        }
        if let Some(c) = self.st_fe(sess.fe) {
            c.http_response(code);
        }
        self.count_http_status(&sess.tracks, code);
        sess.phase = Phase::Request;
        self.drive_http(idx, sess, now)
    }

    /// The tarpit delay is over: send the prepared answer and close.
    pub(super) fn http_tarpit_done(&mut self, sess: &mut Session) {
        if let Some(h) = sess.http.as_mut() {
            h.stage = Stage::Closing;
        }
    }

    /// Queue a locally generated response for the request whose head is `len` bytes. As HAProxy 2.2+, the
    /// client connection stays open afterwards unless the request has a body we did not read or asked to close.
    fn http_reply(&mut self, sess: &mut Session, len: usize, bytes: Vec<u8>, code: u16) {
        if let Some(c) = self.st_fe(sess.fe) {
            c.http_response(code);
        }
        self.count_http_status(&sess.tracks, code);
        let Some(h) = sess.http.as_mut() else { return };
        h.answered = true;
        h.status = code as i32;
        h.to_client = bytes;
        h.to_client_pos = 0;
        let has_body = !matches!(h.req.framing, None | Some(Framing::None));
        let wants_close = h.req.conn.close || (h.req.version == Version::Http10 && !h.req.conn.keep_alive);
        sess.stream.c2s.consumed(len);
        sess.stream.bytes_in += len as u64;
        h.stage = if has_body || wants_close { Stage::Closing } else { Stage::Local };
    }

    /// Move bytes while a server is attached: head and body to the server, response head and body back.
    fn http_move(&mut self, sess: &mut Session, now: Instant) -> Result<bool, Step> {
        let max_head = self.cfg.global.bufsize.saturating_sub(self.cfg.global.maxrewrite).max(1024);
        let h = sess.http.as_mut().ok_or(Step::End(Term::PROXY_REQUEST, None))?;
        let Some(server) = sess.stream.server.as_mut() else { return Ok(false) };
        let mut progress = false;
        if h.stage == Stage::Tunnel {
            return match sess.stream.pump(&mut self.pool, &mut self.pipes, now) {
                crate::tcp::Pumped::Open => Ok(false),
                crate::tcp::Pumped::Busy => Err(Step::Yield),
                crate::tcp::Pumped::Done => Err(Step::End(Term::NORMAL, None)),
                crate::tcp::Pumped::Failed(crate::tcp::End::Client, _) => Err(Step::End(Term::CLIENT_DATA, None)),
                crate::tcp::Pumped::Failed(crate::tcp::End::Server, _) => Err(Step::End(Term::SERVER_DATA, None)),
            };
        }
        // 1. Request head, then validated body bytes, to the server (one writev for both when they fit).
        if !h.req_body.is_done() {
            let pending = sess.stream.c2s.pending();
            let before = h.req_body;
            match h.req_body.advance(&pending[h.c2s_ready..]) {
                Ok(k) => h.c2s_ready += k,
                Err(e) => {
                    let pos = h.c2s_ready + before.error_offset(&pending[h.c2s_ready..]);
                    let who = Culprit { fe: sess.fe, be: sess.be, srv: sess.srv, src: sess.client_addr };
                    self.st_capture(Direction::Request, who, pending, pos, e.as_str());
                    return Err(Step::End(Term::PROXY_DATA, Some(400)));
                }
            }
        }
        if h.to_server_pos < h.to_server.len() || h.c2s_ready > 0 {
            let replay = h.from_pool && h.replayable && h.to_server_pos == 0;
            let body = &sess.stream.c2s.pending()[..h.c2s_ready];
            let (nh, nb) = server.send2(&h.to_server[h.to_server_pos..], body, now).map_err(|_| {
                if replay {
                    Step::Replay
                } else if h.to_server_pos < h.to_server.len() {
                    Step::End(Term::SERVER_HEADERS, Some(502))
                } else {
                    Step::End(Term::SERVER_DATA, Some(502))
                }
            })?;
            h.to_server_pos += nh;
            sess.stream.c2s.consumed(nb);
            h.c2s_ready -= nb;
            sess.stream.bytes_in += nb as u64;
            progress |= nh + nb > 0;
        }
        if !h.req_body.is_done() && sess.stream.client.rd_eof && h.c2s_ready == 0 {
            return Err(Step::End(Term::CLIENT_DATA, None));
        }
        // 2. Response from the server.
        match server.fill(&mut sess.stream.s2c, &mut self.pool, now) {
            Ok(p) => progress |= p,
            Err(_) => {
                return Err(if h.stage == Stage::Forward && h.from_pool && h.replayable && sess.stream.s2c.is_empty() {
                    Step::Replay
                } else if h.stage == Stage::Forward {
                    Step::End(Term::SERVER_HEADERS, Some(502))
                } else {
                    Step::End(Term::SERVER_DATA, None)
                })
            }
        }
        if h.stage == Stage::Forward && h.to_client_pos >= h.to_client.len() {
            let data = sess.stream.s2c.pending();
            if !data.is_empty() {
                match head::parse_response(data, max_head, h.is_head, &mut h.resp) {
                    Ok(None) => {
                        if server.rd_eof {
                            return Err(Step::End(Term::SERVER_HEADERS, Some(502)));
                        }
                    }
                    Err(e) => {
                        let pos = head::error_position(data, max_head, &e, false);
                        let who = Culprit { fe: sess.fe, be: sess.be, srv: sess.srv, src: sess.client_addr };
                        self.st_capture(Direction::Response, who, data, pos, e.as_str());
                        return Err(Step::End(Term::PROXY_HEADERS, Some(502)));
                    }
                    Ok(Some(len)) => {
                        progress = true;
                        let status = h.resp.status;
                        let edits = &mut h.edits;
                        edits.clear();
                        let final_resp = status >= 200 || status == 101;
                        if final_resp {
                            h.tr = ms(now - h.started) - h.tq.max(0);
                            h.status = status as i32;
                            let mut ctrs = [self.st_fe(sess.fe), sess.be.and_then(|b| self.st_be(b)), None];
                            ctrs[2] = sess.srv.and_then(|si| self.st_srv(si));
                            for c in ctrs.into_iter().flatten() {
                                c.http_response(status);
                            }
                            self.count_http_status(&sess.tracks, status);
                            if status == 101 {
                                h.close_server = true;
                            } else {
                                let server_closes = h.resp.conn.close
                                    || (h.resp.version == Version::Http10 && !h.resp.conn.keep_alive)
                                    || h.resp.framing == Some(Framing::UntilClose);
                                if server_closes {
                                    h.close_server = true;
                                }
                                if h.resp.framing == Some(Framing::UntilClose) {
                                    h.close_client = true;
                                }
                                let conn = if h.close_client { ConnHeader::Close } else { ConnHeader::KeepAlive };
                                set_connection(edits, &h.resp, data, conn);
                            }
                        }
                        let caps = &self.rt.frontends[sess.fe].captures;
                        if final_resp && !caps.is_empty() {
                            let hdrs = h.resp.headers.iter().map(|x| (&data[x.name.clone()], &data[x.value.clone()]));
                            caps.capture_response(hdrs, &mut h.res_captures);
                            let hdrs = h.resp.headers.iter().map(|x| (&data[x.name.clone()], &data[x.value.clone()]));
                            h.res_cookie = caps.capture_cookie_res(hdrs);
                        }
                        if final_resp && status != 101 {
                            // http-response rules: the backend's, then the frontend's (once for a listen).
                            let req_view = HttpView {
                                buf: &h.req_copy,
                                head: &h.req,
                                edits: None,
                                first_req: h.count == 0,
                                res: None,
                            };
                            let ctx = L4 {
                                src: sess.client_addr,
                                dst: sess.local.unwrap_or(sess.client_addr),
                                rt: &self.rt,
                                http: None,
                                px: self.rt.frontends[sess.fe].proxy,
                                tracks: Some(&sess.tracks),
                                // `http-response track-sc*`: the request was counted already.
                                level: TrackLevel::Content,
                            };
                            let f = &self.rt.frontends[sess.fe];
                            let mut verdict = Verdict::Continue;
                            if let Some(b) = sess.be {
                                verdict = rules::apply_response(
                                    &self.rt.backends[b].rules,
                                    &req_view,
                                    data,
                                    &h.resp,
                                    &L4 { px: self.rt.backends[b].proxy, ..ctx },
                                    edits,
                                );
                            }
                            if verdict == Verdict::Continue && sess.be != f.own_backend {
                                verdict = rules::apply_response(&f.rules, &req_view, data, &h.resp, &ctx, edits);
                            }
                            match verdict {
                                Verdict::Deny(code) => {
                                    h.close_server = true;
                                    return Err(Step::End(Term::PROXY_HEADERS, Some(code)));
                                }
                                Verdict::Redirect(bytes) | Verdict::Return(bytes) => {
                                    // `http-response redirect|return`: our answer replaces the server's, whose
                                    // connection is dropped (its body is not read).
                                    h.close_server = true;
                                    h.answered = true;
                                    h.status = status_of(&bytes) as i32;
                                    h.to_client = bytes;
                                    h.to_client_pos = 0;
                                    let body_left = !h.req_body.is_done();
                                    h.stage = if h.close_client || body_left { Stage::Closing } else { Stage::Local };
                                    return Err(Step::DropServer);
                                }
                                _ => {}
                            }
                            if let (Some(b), Some(si)) = (sess.be, sess.srv) {
                                let bk = &self.rt.backends[b];
                                if let (Some(conf), Some(p)) = (&bk.cookie, h.persist.as_ref()) {
                                    let served = cookie::Served {
                                        index: bk.servers.iter().position(|&x| x == si).unwrap_or(0),
                                        cookie: self.rt.servers[si].cookie.as_deref(),
                                    };
                                    let res = ResView { buf: data, head: &h.resp, edits: None };
                                    let is_post = h.req.method(&h.req_copy) == b"POST";
                                    let rc = cookie::response_cookie(conf, &res, p, served, is_post, edits);
                                    h.cookie_chars = [p.state.as_char() as u8, rc.as_char() as u8];
                                }
                            }
                        }
                        h.to_client.clear();
                        h.to_client_pos = 0;
                        write_response(data, &h.resp, edits, &mut h.to_client);
                        sess.stream.s2c.consumed(len);
                        if final_resp {
                            h.resp_body = BodyTracker::new(h.resp.framing.unwrap_or(Framing::None));
                            h.s2c_ready = 0;
                            h.stage = if status == 101 { Stage::Tunnel } else { Stage::RespBody };
                            h.log_now = self.rt.frontends[sess.fe].logasap;
                        }
                    }
                }
            } else if server.rd_eof {
                // A parked connection the server closed just as we reused it: send the request again.
                return Err(if h.from_pool && h.replayable {
                    Step::Replay
                } else {
                    Step::End(Term::SERVER_HEADERS, Some(502))
                });
            }
        }
        // 3. Response head and body to the client (one writev for both when they fit).
        let client = &mut sess.stream.client;
        if h.stage == Stage::RespBody && !h.resp_body.is_done() {
            let pending = sess.stream.s2c.pending();
            let before = h.resp_body;
            match h.resp_body.advance(&pending[h.s2c_ready..]) {
                Ok(k) => h.s2c_ready += k,
                Err(e) => {
                    let pos = h.s2c_ready + before.error_offset(&pending[h.s2c_ready..]);
                    let who = Culprit { fe: sess.fe, be: sess.be, srv: sess.srv, src: sess.client_addr };
                    self.st_capture(Direction::Response, who, pending, pos, e.as_str());
                    return Err(Step::End(Term::SERVER_DATA, None));
                }
            }
            if server.rd_eof
                && !h.resp_body.is_done()
                && h.s2c_ready == sess.stream.s2c.pending().len()
                && h.resp_body.finish_eof().is_err()
            {
                return Err(Step::End(Term::SERVER_DATA, None));
            }
        }
        let body_ready = if h.stage == Stage::RespBody { h.s2c_ready } else { 0 };
        if h.to_client_pos < h.to_client.len() || body_ready > 0 {
            let body = &sess.stream.s2c.pending()[..body_ready];
            let (nh, nb) = client
                .send2(&h.to_client[h.to_client_pos..], body, now)
                .map_err(|_| Step::End(Term::CLIENT_DATA, None))?;
            h.to_client_pos += nh;
            sess.stream.s2c.consumed(nb);
            h.s2c_ready -= nb;
            h.bytes_out += (nh + nb) as u64;
            sess.stream.bytes_out += (nh + nb) as u64;
            progress |= nh + nb > 0;
        }
        if h.stage == Stage::Tunnel && h.to_client_pos >= h.to_client.len() {
            // Head of the 101 delivered: from here on, blind forwarding.
            return Ok(true);
        }
        if h.stage == Stage::RespBody && h.to_client_pos >= h.to_client.len() {
            if h.resp_body.is_done() && h.s2c_ready == 0 {
                if !h.req_body.is_done() {
                    // The server answered before the whole request body arrived: this connection can't be reused.
                    h.close_server = true;
                    h.close_client = true;
                }
                // The next (maybe pipelined, already buffered) request is handled in the same pass.
                return match self.http_txn_done(sess, now) {
                    Step::Idle => Ok(true),
                    step => Err(step),
                };
            }
            if server.rd_eof && !h.resp_body.is_done() && h.s2c_ready == 0 && sess.stream.s2c.is_empty() {
                return Err(Step::End(Term::SERVER_DATA, None));
            }
        }
        sess.stream.c2s.release_if_empty(&mut self.pool);
        sess.stream.s2c.release_if_empty(&mut self.pool);
        Ok(progress)
    }

    /// A transaction finished: log it, then keep the connections for the next one or close.
    fn http_txn_done(&mut self, sess: &mut Session, now: Instant) -> Step {
        self.http_log(sess, Term::NORMAL, now);
        let Some(h) = sess.http.as_mut() else { return Step::End(Term::NORMAL, None) };
        if h.close_client {
            if !h.close_server {
                self.park_server(sess, now);
            }
            return Step::End(Term::NORMAL, None);
        }
        let reuse = !h.close_server && sess.stream.server.is_some();
        h.reused = reuse;
        h.reset(now, self.now_wall());
        self.release_request_tracks(&sess.tracks);
        if reuse {
            // The server's slot is given back now (its waiters may go); the connection stays with this client
            // for its next request, if that request is balanced to the same server.
            let si = sess.srv;
            self.release_server(sess);
            sess.kept_srv = si;
        } else {
            self.drop_server(sess);
            self.release_server(sess);
        }
        sess.logged = false;
        sess.phase = Phase::Request;
        sess.phase_since = now;
        Step::Idle
    }

    /// Log the current transaction once (httplog or tcplog-style depending on the frontend).
    pub(super) fn http_log(&mut self, sess: &mut Session, term: Term, now: Instant) {
        if sess.logged {
            return;
        }
        sess.logged = true;
        let Some(h) = sess.http.as_ref() else { return };
        if h.count > 0 && h.req_line.is_empty() {
            return; // a keep-alive connection closed between requests
        }
        let f = &self.rt.frontends[sess.fe];
        if f.log_format == LogFormat::Default || (f.dontlognull && h.req_line.is_empty()) {
            return;
        }
        let error = crate::worker::runtime::session_error(term, sess.retries, sess.redispatched, Some(h.status));
        let Some(level) = f.traffic_level(error) else { return };
        let (srv_name, srv_conn) = match sess.srv {
            Some(si) => (self.rt.servers[si].name.as_str(), self.rt.servers[si].cur),
            None => (sess.server_label.unwrap_or("<NOSRV>"), 0),
        };
        let be_name = sess.be.map(|b| self.rt.backends[b].name.as_str()).unwrap_or(f.name.as_str());
        let beconn = sess.be.map(|b| self.rt.backends[b].cur).unwrap_or(0);
        let fields = HttpLogFields {
            client: sess.client_addr,
            accept_time: h.started_wall,
            frontend: &f.name,
            backend: be_name,
            server: srv_name,
            tq: h.tq,
            tw: sess.tw,
            tc: if h.reused { 0 } else { sess.tc },
            tr: h.tr,
            tt: ms(now - h.started),
            status: h.status,
            bytes_read: h.bytes_out,
            request_cookie: h.req_cookie.as_deref(),
            response_cookie: h.res_cookie.as_deref(),
            term: {
                let [a, b] = term.letters();
                [a, b, h.cookie_chars[0], h.cookie_chars[1]]
            },
            actconn: self.actconn,
            feconn: f.cur,
            beconn,
            srv_conn,
            retries: sess.retries,
            redispatched: sess.redispatched,
            srv_queue: sess.sq,
            backend_queue: sess.bq,
            logasap: h.log_now,
            request_headers: h.req_captures.clone(),
            response_headers: h.res_captures.clone(),
            request_line: &h.req_line,
        };
        let line = match f.log_format {
            LogFormat::Custom(_) => match &f.custom_format {
                Some(spec) => {
                    let mut v = crate::log::LogValues::from_http(&fields);
                    // What the httplog fields do not carry.
                    v.pid = self.pid;
                    v.frontend_addr = sess.local;
                    v.server_addr = sess.srv.map(|si| self.rt.servers[si].addr);
                    v.unique_id = (!h.unique_id.is_empty()).then_some(h.unique_id.as_str());
                    v.request_counter = h.req_id;
                    v.hostname = &self.hostname;
                    spec.render_to_string(&v, &|_| None)
                }
                None => httplog(&fields),
            },
            LogFormat::Http { .. } => httplog(&fields),
            // `option tcplog` on an HTTP frontend: the TCP format over the same values.
            _ => match crate::log::LogFormatSpec::parse(crate::log::TCPLOG_FMT) {
                Ok(spec) => spec.render_to_string(&crate::log::LogValues::from_http(&fields), &|_| None),
                Err(_) => httplog(&fields),
            },
        };
        f.logger.log(level, &line);
    }

    /// A status was decided for the current request: a 4xx counts as an HTTP error on every tracked entry
    /// (`http_err_cnt`, `http_err_rate`), as HAProxy's default `http-err-codes 400-499`.
    pub(super) fn count_http_status(&self, tracks: &crate::stick::Tracks, code: u16) {
        if (400..500).contains(&code) && !tracks.is_empty() {
            self.count_tracked(tracks, crate::stick::Event::HttpErr);
        }
    }

    /// Answer the client with a locally generated page (errors, 503 when no server), best effort, then close.
    pub(super) fn http_local_reply(&mut self, sess: &mut Session, code: u16) {
        let Some(h) = sess.http.as_mut() else { return };
        if h.answered || h.to_client_pos > 0 || h.stage == Stage::RespBody || h.stage == Stage::Tunnel {
            return; // the client already got (part of) a response
        }
        h.answered = true;
        let page = self.rt.frontends[sess.fe].errors.get(code);
        h.status = code as i32;
        self.count_http_status(&sess.tracks, code);
        let n = sess.stream.client.send(page, self.now).unwrap_or(0);
        h.bytes_out += n as u64;
        sess.stream.bytes_out += n as u64;
        let _ = errors::default_page;
    }
}

/// The status code of a response we built ourselves (`HTTP/1.1 302 …`).
fn status_of(bytes: &[u8]) -> u16 {
    bytes.get(9..12).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse().ok()).unwrap_or(200)
}
