//! A response head is in: count it, let the client connection's HTTP/1 rules set its `Connection` header, run
//! captures, `http-response` rules (the backend's, then the frontend's) and cookie persistence, then serialize
//! it for the client. Interim `1xx` heads are forwarded as they came.

use std::time::Instant;

use super::request::status_of;
use super::{ms, Step};
use crate::acl::{HttpView, ResView};
use crate::http::h1::Next;
use crate::rules::cookie;
use crate::rules::{self, Verdict};
use crate::stick::TrackLevel;
use crate::stream::ctx::L4;
use crate::stream::term::Term;
use crate::worker::http::Stage;
use crate::worker::session::Session;
use crate::worker::Worker;

impl Worker {
    /// An interim (`1xx`) head of `len` bytes at the start of s2c goes to the client as it is.
    pub(super) fn http_interim_response(&mut self, sess: &mut Session, len: usize) {
        let Some(h) = sess.http.as_mut() else { return };
        let Some(t) = h.txn.as_mut() else { return };
        let data = sess.stream.s2c.pending();
        t.edits.clear();
        t.to_client_pos = 0;
        h.client.write_head(&t.resp, data, &t.edits, &mut t.to_client);
        sess.stream.s2c.consumed(len);
    }

    /// The final response head (or a `101`) of `len` bytes is at the start of s2c.
    pub(super) fn http_response_ready(&mut self, sess: &mut Session, len: usize, now: Instant) -> Result<(), Step> {
        let Some(h) = sess.http.as_mut() else { return Err(Step::End(Term::PROXY_REQUEST, None)) };
        let first_req = h.client.completed() == 0;
        let Some(t) = h.txn.as_mut() else { return Err(Step::End(Term::PROXY_REQUEST, None)) };
        let data = sess.stream.s2c.pending();
        let status = t.resp.status;
        t.tr = ms(now - h.started) - t.tq.max(0);
        t.status = status as i32;
        let mut ctrs = [self.st_fe(sess.fe), sess.be.and_then(|b| self.st_be(b)), None];
        ctrs[2] = sess.srv.and_then(|si| self.st_srv(si));
        for c in ctrs.into_iter().flatten() {
            c.http_response(status);
        }
        self.count_http_status(&sess.tracks, status);
        let edits = &mut t.edits;
        edits.clear();
        // What follows this response, and its `Connection` header.
        let next = h.client.response_head(&t.resp, data, edits);
        let caps = &self.rt.frontends[sess.fe].captures;
        if !caps.is_empty() {
            let hdrs = t.resp.headers.iter().map(|x| (&data[x.name.clone()], &data[x.value.clone()]));
            caps.capture_response(hdrs, &mut t.res_captures);
            let hdrs = t.resp.headers.iter().map(|x| (&data[x.name.clone()], &data[x.value.clone()]));
            t.res_cookie = caps.capture_cookie_res(hdrs);
        }
        if next != Some(Next::Tunnel) {
            // http-response rules: the backend's, then the frontend's (once for a listen).
            let req_view = HttpView { buf: &t.req_copy, head: &t.req, edits: None, first_req, res: None };
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
                let be_ctx = L4 { px: self.rt.backends[b].proxy, ..ctx };
                verdict = rules::apply_response(&self.rt.backends[b].rules, &req_view, data, &t.resp, &be_ctx, edits);
            }
            if verdict == Verdict::Continue && sess.be != f.own_backend {
                verdict = rules::apply_response(&f.rules, &req_view, data, &t.resp, &ctx, edits);
            }
            match verdict {
                Verdict::Deny(code) => {
                    t.server.spoil();
                    return Err(Step::End(Term::PROXY_HEADERS, Some(code)));
                }
                Verdict::Redirect(bytes) | Verdict::Return(bytes) => {
                    // `http-response redirect|return`: our answer replaces the server's, whose connection is
                    // dropped (its body is not read).
                    t.server.spoil();
                    t.answered = true;
                    t.status = status_of(&bytes) as i32;
                    t.to_client = bytes;
                    t.to_client_pos = 0;
                    t.stage = Stage::Answer { then: h.client.local_answer() };
                    return Err(Step::DropServer);
                }
                _ => {}
            }
            if let (Some(b), Some(si)) = (sess.be, sess.srv) {
                let bk = &self.rt.backends[b];
                if let (Some(conf), Some(p)) = (&bk.cookie, t.persist.as_ref()) {
                    let served = cookie::Served {
                        index: bk.servers.iter().position(|&x| x == si).unwrap_or(0),
                        cookie: self.rt.servers[si].cookie.as_deref(),
                    };
                    let res = ResView { buf: data, head: &t.resp, edits: None };
                    let is_post = t.req.method(&t.req_copy) == b"POST";
                    let rc = cookie::response_cookie(conf, &res, p, served, is_post, edits);
                    t.cookie_chars = [p.state.as_char() as u8, rc.as_char() as u8];
                }
            }
        }
        t.to_client_pos = 0;
        h.client.write_head(&t.resp, data, &t.edits, &mut t.to_client);
        sess.stream.s2c.consumed(len);
        t.s2c_ready = 0;
        t.resp_started = true;
        t.log_now = self.rt.frontends[sess.fe].logasap;
        Ok(())
    }
}
