//! The end of an HTTP exchange: its one log line (httplog, a custom `log-format`, or tcplog over the HTTP
//! values), the HTTP-error count of stick-table trackers, and the error page a client that got nothing yet is
//! answered with.

use std::time::Instant;

use super::{ms, Stage};
use crate::acl::HttpView;
use crate::config::model::LogFormat;
use crate::log::HttpLogFields;
use crate::stream::term::Term;
use crate::worker::session::{Label, Session};
use crate::worker::Worker;

impl Worker {
    /// Log the current exchange once (httplog or tcplog-style depending on the frontend).
    pub(in crate::worker) fn http_log(&mut self, sess: &mut Session, term: Term, now: Instant) {
        if sess.logged {
            return;
        }
        sess.logged = true;
        let Some(h) = sess.http.as_mut() else { return };
        if h.txn.is_none() {
            if h.client.completed() > 0 {
                return; // a keep-alive connection closed between requests
            }
            // A connection that ended before its first request: logged with empty values (unless dontlognull).
            h.txn = Some(self.take_txn(sess.fe));
        }
        let Some(h) = sess.http.as_ref() else { return };
        let Some(t) = h.txn.as_deref() else { return };
        let f = &self.rt.frontends[sess.fe];
        if f.log_format == LogFormat::Default || (f.dontlognull && t.req_line.is_empty()) {
            return;
        }
        let error = crate::stream::runtime::session_error(term, sess.retries, sess.redispatched, Some(t.status));
        let Some(level) = f.traffic_level(error) else { return };
        let (srv_name, srv_conn) = match sess.srv {
            Some(si) => (self.rt.servers[si].name.as_str(), self.rt.servers[si].cur),
            None => (sess.server_label.map_or("<NOSRV>", Label::as_str), 0),
        };
        let be_name = sess.be.map(|b| self.rt.backends[b].name.as_str()).unwrap_or(f.name.as_str());
        let beconn = sess.be.map(|b| self.rt.backends[b].cur).unwrap_or(0);
        let fields = HttpLogFields {
            client: sess.client_addr,
            accept_time: crate::worker::wall_of(h.started_wall),
            frontend: &f.name,
            backend: be_name,
            server: srv_name,
            tq: t.tq,
            tw: sess.tw,
            tc: if h.reused { 0 } else { sess.tc },
            tr: t.tr,
            tt: ms(now - h.started),
            status: t.status,
            bytes_read: t.bytes_out,
            request_cookie: t.req_cookie.as_deref(),
            response_cookie: t.res_cookie.as_deref(),
            term: {
                let [a, b] = term.letters();
                [a, b, t.cookie_chars[0], t.cookie_chars[1]]
            },
            actconn: self.actconn,
            feconn: f.cur,
            beconn,
            srv_conn,
            retries: sess.retries,
            redispatched: sess.redispatched,
            srv_queue: sess.sq,
            backend_queue: sess.bq,
            logasap: t.log_now,
            request_headers: t.req_captures.clone(),
            response_headers: t.res_captures.clone(),
            request_line: &t.req_line,
        };
        let Some(format) = &f.format else { return };
        let mut v = crate::log::LogValues::from_http(&fields);
        // What the httplog fields do not carry (custom formats may ask for them).
        v.pid = self.pid;
        v.frontend_addr = sess.local;
        v.server_addr = sess.srv.map(|si| self.rt.servers[si].addr);
        v.unique_id = (!t.unique_id.is_empty()).then_some(t.unique_id.as_str());
        v.request_counter = t.req_id;
        v.hostname = &self.hostname;
        // Samples see the request as it came (and the session's addresses and counters).
        let parsed = t.req.len > 0 && t.req.len <= t.req_copy.len();
        let ctx = sess.log_ctx(&self.rt, f.proxy, parsed.then(|| HttpView::new(&t.req_copy, &t.req)));
        let line = format.render_to_string(&v, &ctx);
        f.logger.log(level, &line);
    }

    /// A status was decided for the current request: a 4xx counts as an HTTP error on every tracked entry
    /// (`http_err_cnt`, `http_err_rate`), as HAProxy's default `http-err-codes 400-499`.
    pub(in crate::worker) fn count_http_status(&self, tracks: &crate::stick::Tracks, code: u16) {
        if (400..500).contains(&code) && !tracks.is_empty() {
            self.count_tracked(tracks, crate::stick::Event::HttpErr);
        }
    }

    /// Answer the client with a locally generated page (errors, 503 when no server), best effort, then close.
    pub(in crate::worker) fn http_local_reply(&mut self, sess: &mut Session, code: u16) {
        let fe = sess.fe;
        let Some(h) = sess.http.as_mut() else { return };
        if h.txn.is_none() {
            // Nothing of a request came (a timeout or a close before its first byte): an exchange still
            // answers, and is logged.
            h.txn = Some(self.take_txn(fe));
        }
        let Some(t) = sess.http.as_mut().and_then(|h| h.txn.as_mut()) else { return };
        if t.answered || t.to_client_pos > 0 || t.resp_started || t.stage == Stage::Tunnel {
            return; // the client already got (part of) a response
        }
        t.answered = true;
        let page = self.rt.frontends[fe].errors.get(code);
        t.status = code as i32;
        let n = sess.stream.client.send(page, false, self.now).unwrap_or(0);
        t.bytes_out += n as u64;
        sess.stream.bytes_out += n as u64;
        self.count_http_status(&sess.tracks, code);
    }
}
