//! A request head is in: run what the proxy does with it before any server is involved — `tcp-request content`
//! rules, the stats page and `monitor-uri`, `http-request` and 1.4 rules of the frontend and then of the backend
//! they choose, forwarding headers, cookie persistence, `use-server`, the balancing key — and either answer it
//! locally or serialize it for the server.

use std::time::{Duration, Instant};

use super::{Stage, Step};
use crate::acl::HttpView;
use crate::balance::keys;
use crate::http::errors;
use crate::http::h1::{Next, ReqEvent};
use crate::http::head::Framing;
use crate::rules::cookie;
use crate::rules::{self, Verdict};
use crate::stick::{Event, TrackLevel};
use crate::stream::ctx::L4;
use crate::stream::term::Term;
use crate::worker::session::{Label, Phase, Session};
use crate::worker::Worker;

impl Worker {
    /// The request head of `len` bytes is complete in c2s: decide where it goes and serialize it.
    pub(super) fn http_request_ready(&mut self, sess: &mut Session, len: usize, now: Instant) -> Option<Step> {
        let fe = sess.fe;
        let (src, dst) = (sess.client_addr, sess.local_addr());
        let h = sess.http.as_mut()?;
        let first_req = h.client.completed() == 0;
        let t = h.txn.as_mut()?;
        let data = sess.stream.c2s.pending();
        let line_end = data.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(len).min(len);
        t.req_line.clear();
        t.req_line.extend_from_slice(&data[..line_end]);
        t.req_copy.clear();
        t.req_copy.extend_from_slice(&data[..len]);
        let f = &self.rt.frontends[fe];
        if let Some(c) = self.st_fe(fe) {
            c.http_request(self.now_ms);
        }
        if !f.captures.is_empty() {
            let hdrs = t.req.headers.iter().map(|x| (&data[x.name.clone()], &data[x.value.clone()]));
            f.captures.capture_request(hdrs, &mut t.req_captures);
            let hdrs = t.req.headers.iter().map(|x| (&data[x.name.clone()], &data[x.value.clone()]));
            t.req_cookie = f.captures.capture_cookie_req(hdrs);
        }
        let view = Some(HttpView::new(data, &t.req));
        if !f.tcp_content.is_empty()
            && self.rt.tcp_rejects(&f.tcp_content, fe, src, dst, view, &sess.tracks, TrackLevel::Content).is_some()
        {
            // `tcp-request content reject` on an HTTP frontend: the connection is closed with no response.
            t.answered = true;
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
        if let Some(conf) = f.stats.as_ref().filter(|c| t.req.uri(data).starts_with(c.uri.as_bytes())) {
            let view = HttpView::new(data, &t.req);
            let admin = f.stats_admin.as_ref().is_some_and(|c| f.rules.eval(c, &view, &ctx));
            // An admin POST's small form body must already be here (it is read with the head, as one packet).
            let body = match t.req.framing {
                Some(Framing::ContentLength(n)) if (n as usize) <= data.len() - len => {
                    Some(data[len..len + n as usize].to_vec())
                }
                _ => None,
            };
            let (page, code) = self.stats_page(conf, &view, admin, body.as_deref());
            sess.server_label = Some(Label::Stats);
            // The form body was read here: it is not forwarded, and the connection can go on.
            let skipped = if body.is_some() { self.http_skip_body(sess, len) } else { 0 };
            self.http_reply_term(sess, len, page, code, Term::LOCAL_REQUEST);
            sess.stream.c2s.consumed(skipped);
            return None;
        }
        // monitor-uri: answered here, never forwarded, never logged.
        if f.monitor_uri.as_deref().is_some_and(|u| t.req.uri(data) == u.as_bytes()) {
            let view = HttpView::new(data, &t.req);
            let failing = f.monitor_fail.iter().any(|c| f.rules.eval(c, &view, &ctx));
            sess.logged = true;
            let page = if failing { errors::default_page(503) } else { errors::default_page(200) };
            self.http_reply(sess, len, page.to_vec(), if failing { 503 } else { 200 });
            return None;
        }
        self.req_counter += 1;
        t.req_id = self.req_counter;
        let edits = &mut t.edits;
        edits.clear();
        if let Some(uid) = f.unique_id.as_ref() {
            // `unique-id-format`: rendered once per request, sent as `unique-id-header`, logged as `%ID`.
            let v = crate::log::LogValues {
                client: Some(src),
                frontend_addr: Some(dst),
                frontend: &f.name,
                accept_time: crate::worker::wall_of(h.started_wall),
                http: true,
                pid: self.pid,
                request_counter: t.req_id,
                hostname: &self.hostname,
                ..crate::log::LogValues::default()
            };
            t.unique_id.clear();
            uid.format.render(&v, &ctx, &mut t.unique_id);
            if let Some(name) = &uid.header {
                edits.added.push((name.clone(), t.unique_id.as_bytes().to_vec()));
            }
        }
        let mut verdict = rules::apply_request(&f.rules, data, &t.req, first_req, &ctx, edits);
        let mut be = None;
        if verdict == Verdict::Continue {
            let view = HttpView { buf: data, head: &t.req, edits: Some(edits), first_req, res: None };
            be = self.rt.choose_backend(fe, src, dst, Some(view), &sess.tracks);
            if let Some(b) = be.filter(|&b| Some(b) != f.own_backend) {
                // The backend's rules: its own stick table is their default one.
                let ctx = L4 { px: self.rt.backends[b].proxy, ..ctx };
                verdict = rules::apply_request(&self.rt.backends[b].rules, data, &t.req, first_req, &ctx, edits);
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
                if let Some(t) = sess.txn_mut() {
                    t.stage = Stage::Held;
                }
                sess.phase = Phase::Tarpit(now + hold);
                return Some(Step::Idle);
            }
            Verdict::Auth(realm) => {
                self.http_reply_term(sess, len, errors::auth_page(&realm, false), 401, Term::PROXY_REQUEST);
                return None;
            }
            Verdict::Service(name) => {
                let (bytes, code) = self.service(name);
                sess.server_label = Some(Label::Promex);
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
        rules::apply_forwarding(&f.rules, be_rules, data, &t.req, &ctx, edits);
        t.persist = None;
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
                let view = HttpView { buf: data, head: &t.req, edits: None, first_req, res: None };
                let p = cookie::request_cookie(conf, &view, &lookup, edits);
                sess.forced_srv = p.server.map(|i| bk.servers[i]);
                t.persist = Some(p);
            }
        }
        if let Some(b) = be.filter(|&b| !self.rt.backends[b].use_servers.is_empty()) {
            let view = HttpView { buf: data, head: &t.req, edits: Some(edits), first_req, res: None };
            let px = self.rt.backends[b].proxy;
            let level = TrackLevel::Http;
            let ctx = L4 { src, dst, rt: &self.rt, http: Some(view), px, tracks: Some(&sess.tracks), level };
            if let Some(si) = self.rt.use_server(b, &ctx) {
                sess.forced_srv = Some(si); // `use-server` wins over the persistence cookie
            }
        }
        if sess.forced_srv.is_some() && sess.forced_srv != sess.kept_srv {
            h.reused = false; // persistence names another server than the kept connection's
        }
        sess.hash_key = be.and_then(|b| {
            let view = HttpView { buf: data, head: &t.req, edits: Some(edits), first_req, res: None };
            keys::request_key(&self.rt.backends[b].balance, &view)
        });
        if be != sess.be {
            h.reused = false;
            if let Some(b) = be {
                self.rt.backends[b].total += 1;
            }
        }
        sess.be = be;
        let method = t.req.method(data);
        let idempotent = matches!(method, b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE" | b"PUT" | b"DELETE");
        t.replayable = idempotent && matches!(t.req.framing, None | Some(Framing::None));
        t.to_server.clear();
        t.to_server_pos = 0;
        t.server.send_request(&t.req, data, &mut t.edits, &mut t.to_server);
        sess.stream.c2s.consumed(len);
        sess.stream.bytes_in += len as u64;
        t.c2s_ready = 0;
        t.stage = Stage::Forward;
        None
    }

    /// The request body the proxy read itself (the stats page's admin form, all in the buffer after the head of
    /// `len` bytes) is passed over: it is not forwarded, and the connection can go on with the next request.
    /// Returns its length, for the caller to consume once the head is.
    fn http_skip_body(&mut self, sess: &mut Session, len: usize) -> usize {
        let eof = sess.stream.client.rd_eof;
        let Some(h) = sess.http.as_mut() else { return 0 };
        let Some(t) = h.txn.as_mut() else { return 0 };
        let pending = sess.stream.c2s.pending();
        let mut skipped = 0;
        for _ in 0..64 {
            match h.client.poll(pending.get(len + skipped..).unwrap_or_default(), eof, &mut t.req) {
                ReqEvent::Body(n) => skipped += n,
                ReqEvent::End => t.req_in = true,
                _ => break,
            }
        }
        skipped
    }

    /// Answer the current request locally with `bytes` (status `code`): deny, redirect, return, the stats page.
    /// Logged with termination state `term`.
    fn http_reply_term(&mut self, sess: &mut Session, len: usize, bytes: Vec<u8>, code: u16, term: Term) {
        sess.term_hint = Some(term);
        self.http_reply(sess, len, bytes, code)
    }

    /// Answer the current request with `page` at once (no server involved), keeping the connection when the
    /// request allows it, and go on.
    pub(in crate::worker) fn http_answer_now(&mut self, idx: usize, mut sess: Session, page: Vec<u8>, now: Instant) {
        let code = status_of(&page);
        sess.term_hint = Some(Term::LOCAL_REQUEST);
        if let Some(h) = sess.http.as_mut() {
            let then = h.client.local_answer();
            if let Some(t) = h.txn.as_mut() {
                t.answered = true;
                t.status = code as i32;
                t.to_client = page;
                t.to_client_pos = 0;
                t.stage = Stage::Answer { then };
            }
        }
        if let Some(c) = self.st_fe(sess.fe) {
            c.http_response(code);
        }
        self.count_http_status(&sess.tracks, code);
        sess.phase = Phase::Request;
        self.drive_http(idx, sess, now)
    }

    /// The tarpit delay is over: send the prepared answer and close.
    pub(in crate::worker) fn http_tarpit_done(&mut self, sess: &mut Session) {
        if let Some(t) = sess.txn_mut() {
            t.stage = Stage::Answer { then: Next::Close };
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
        let then = h.client.local_answer();
        let Some(t) = h.txn.as_mut() else { return };
        t.answered = true;
        t.status = code as i32;
        t.to_client = bytes;
        t.to_client_pos = 0;
        sess.stream.c2s.consumed(len);
        sess.stream.bytes_in += len as u64;
        t.stage = Stage::Answer { then };
    }
}

/// The status code of a response we built ourselves (`HTTP/1.1 302 …`).
pub(super) fn status_of(bytes: &[u8]) -> u16 {
    bytes.get(9..12).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse().ok()).unwrap_or(200)
}
