//! A session's life in the worker: accept, choose a backend and server, queue, connect with retries and
//! redispatch, forward, time out, and end with exactly one log line and released counters.
//!
//! Every failure path ends in an answer (the client is closed), a log line and released slots — never a loop:
//! retries are bounded by `retries`, queueing by `timeout queue`.
//!
//! [`Worker::finish`] is the one place a session gives back what it holds (frontend and server slots, queue
//! place, buffers, pipes, pooled connection, exchange storage); a session dropped without it is reported.
//!
//! Stick counters: `tcp-request connection` rules may track entries before the session exists (they are handed
//! to [`Worker::start_session`]); a session keeps its [`crate::stick::Tracks`] and releases them when it ends
//! (request-level ones when each HTTP request ends), which brings `conn_cur` back down.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::TcpStream;
use mio::Interest;

use super::http::{HttpConn, Stage as HttpStage, Txn};
use super::{ms, TimerKey, Worker};
use crate::config::model::{Level, LogFormat, Mode};
use crate::log::{connect_line, TcpLogFields};
use crate::stick::{Event, TrackLevel, Tracks};
use crate::stream::ctx::L4;
use crate::stream::deadline::{Clock, HttpClock};
use crate::stream::term::Term;
use crate::tcp::{End, Pumped, Stream};
use crate::transport::Conn;

pub(super) use crate::stream::phase::Phase;

/// One client connection and everything about it.
#[derive(Debug)]
pub(super) struct SessionData {
    pub uid: u64,
    pub fe: usize,
    pub be: Option<usize>,
    /// Worker-global server index once assigned.
    pub srv: Option<usize>,
    /// The server of the last failed attempt (retries go back to it unless redispatching).
    pub last_srv: Option<usize>,
    pub stream: Stream,
    /// The server socket while connecting.
    pub connecting: Option<TcpStream>,
    pub phase: Phase,
    pub phase_since: Instant,
    pub client_addr: SocketAddr,
    /// The address the client connected to, read from the socket when first needed (saves a getsockname per
    /// connection when nothing asks).
    pub local: Option<SocketAddr>,
    /// Wall-clock time of the accept, unix milliseconds (8 bytes where a `SystemTime` takes 16).
    pub accept_wall: u64,
    pub accept_at: Instant,
    /// Queue wait and connect time in ms (-1: not reached).
    pub tw: i64,
    pub tc: i64,
    pub retries: u32,
    pub redispatched: bool,
    /// The earliest deadline currently in the timer heap for this session.
    pub armed: Option<Instant>,
    /// Queue positions when queued (server, backend).
    pub sq: u32,
    pub bq: u32,
    /// While `Phase::Queued`: the server whose own queue holds the session (`None`: the backend's queue).
    pub queued_on: Option<usize>,
    /// When the session started waiting for a server slot: set when first queued, cleared when it connects or
    /// leaves its queue (kept when it moves from a DOWN server's queue to another, so `timeout queue` and `Tw`
    /// count the whole wait).
    pub queued_since: Option<Instant>,
    /// HTTP state (`mode http` frontends only): the client connection's, and the current exchange's.
    pub http: Option<HttpConn>,
    /// The current transaction's log line was written.
    pub logged: bool,
    /// Connection id of the server socket (its epoll token), while there is one.
    pub server_cid: Option<usize>,
    /// What the log shows instead of a server name (`<STATS>`).
    pub server_label: Option<Label>,
    /// A server named by persistence (cookie) for the next assignment (worker-global index).
    pub forced_srv: Option<usize>,
    /// HTTP keep-alive: the server of the connection kept from the client's previous request. Its slot was
    /// given back when that request ended (as HAProxy counts a server's sessions per request); the next request
    /// is balanced again and reuses the connection only if it lands on the same server.
    pub kept_srv: Option<usize>,
    /// Hash of the request's balancing key (uri, url_param, hdr) for HTTP backends.
    pub hash_key: Option<u32>,
    /// Termination state decided by the HTTP rules (`PR` deny, `LR` redirect…), logged when the reply is out.
    pub term_hint: Option<Term>,
    /// The session is in the worker's redrive list (pushed once, however often it yields in a turn).
    pub redrive_queued: bool,
    /// Stick-table entries tracked by `track-scN` (sticky counters 0 to 2).
    pub tracks: Tracks,
    /// [`Worker::finish`] ran: everything the session held was given back. A session dropped without it is
    /// a bug (its slots would stay counted): reported at error level when it happens.
    pub ended: bool,
}

impl Drop for SessionData {
    fn drop(&mut self) {
        if !self.ended {
            log::error!("session {} dropped without its end: its frontend and server slots stay counted", self.uid);
        }
    }
}

impl SessionData {
    /// The current HTTP exchange, if any.
    pub(super) fn txn(&self) -> Option<&Txn> {
        self.http.as_ref().and_then(|h| h.txn.as_deref())
    }

    /// The current HTTP exchange, if any, mutably.
    pub(super) fn txn_mut(&mut self) -> Option<&mut Txn> {
        self.http.as_mut().and_then(|h| h.txn.as_deref_mut())
    }

    /// The ACL view of the session the samples of its log line are fetched from (`http`: the request as it
    /// came).
    pub(super) fn log_ctx<'a>(
        &'a self,
        rt: &'a crate::stream::runtime::Runtime,
        px: usize,
        http: Option<crate::acl::HttpView<'a>>,
    ) -> L4<'a> {
        let dst = self.local.unwrap_or(self.client_addr);
        let tracks = Some(&self.tracks);
        L4 { src: self.client_addr, dst, rt, http, px, tracks, level: TrackLevel::Content }
    }

    /// The address the client connected to (`dst`).
    pub(super) fn local_addr(&mut self) -> SocketAddr {
        *self.local.get_or_insert_with(|| self.stream.client.local_addr().unwrap_or(self.client_addr))
    }
}

/// What a log line shows instead of a server name when the proxy answered itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    /// The statistics page.
    Stats,
    /// A built-in service (`use-service prometheus-exporter`).
    Promex,
}

impl Label {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Label::Stats => "<STATS>",
            Label::Promex => "<PROMEX>",
        }
    }
}

/// Sessions live boxed in the slab: taking one out and putting it back moves a pointer, not the whole state.
pub(super) type Session = Box<SessionData>;

/// What the session's deadline depends on, read off it.
fn clock(s: &SessionData) -> Clock {
    let client = &s.stream.client;
    let server = s.stream.server.as_ref();
    Clock {
        phase: s.phase,
        phase_since: s.phase_since,
        client_io: client.last_io,
        server_io: server.map(|x| x.last_io),
        client_half: client.rd_eof || client.wr_shut,
        server_half: server.is_some_and(|x| x.rd_eof || x.wr_shut),
        http: s.http.as_ref().map(|h| HttpClock {
            idle: h.client.completed() > 0 && s.stream.c2s.is_empty(),
            started: h.started,
            awaiting_response: h.awaiting_response(),
            tunnel: h.stage() == HttpStage::Tunnel,
        }),
    }
}

impl Worker {
    /// `tcp-request connection` rules on a just-accepted connection (before any PROXY header: they see the
    /// real peer, as HAProxy's do). A refused connection is closed at once, counted, never logged.
    /// Returns the sticky counters its `track-scN` rules set (`None`: refused).
    pub(super) fn connection_allowed(&mut self, fe: usize, sock: &TcpStream, peer: SocketAddr) -> Option<Tracks> {
        let tracks = Tracks::new(&self.rt.tables);
        if self.rt.frontends[fe].tcp_connection.is_empty() {
            return Some(tracks);
        }
        let local = sock.local_addr().unwrap_or(peer);
        let rules = &self.rt.frontends[fe].tcp_connection;
        if self.rt.tcp_rejects(rules, fe, peer, local, None, &tracks, TrackLevel::Conn).is_none() {
            return Some(tracks);
        }
        // Refused: its trackers are released as it goes (dropping them).
        if let Some(c) = self.st_fe(fe) {
            c.inc(&c.denied_conn);
        }
        None
    }

    /// Count an event on every entry the session tracks.
    pub(super) fn count_tracked(&self, tracks: &Tracks, ev: Event) {
        for r in tracks.each() {
            self.rt.tables.count(r, ev);
        }
    }

    /// A connection was accepted on a listener of frontend `fe` (with `accept-proxy`, once its header gave the
    /// client's address `peer` and the address it connected to, `local`).
    /// `tracks` are the sticky counters the `tcp-request connection` rules set (released if the connection
    /// never becomes a session, as they are dropped).
    pub(super) fn start_session(
        &mut self,
        fe: usize,
        sock: TcpStream,
        peer: SocketAddr,
        local: Option<SocketAddr>,
        tracks: Tracks,
    ) {
        let now = self.now;
        let f = &mut self.rt.frontends[fe];
        if f.mode == Mode::Health {
            // `mode health`: answer OK and close, never logged.
            let _ = io::Write::write(&mut &sock, b"OK");
            return;
        }
        if f.monitor_net.iter().any(|n| n.contains(peer.ip())) {
            // `monitor-net` (1.4): a monitoring system's probe is answered at once and never logged.
            if f.mode == Mode::Http {
                let _ = io::Write::write(&mut &sock, b"HTTP/1.0 200 OK\r\n\r\n");
            }
            return;
        }
        let mut known_local = local;
        if !f.tcp_session.is_empty() {
            let local = *known_local.get_or_insert_with(|| sock.local_addr().unwrap_or(peer));
            let rules = &self.rt.frontends[fe].tcp_session;
            if self.rt.tcp_rejects(rules, fe, peer, local, None, &tracks, TrackLevel::Conn).is_some() {
                // Refused before it became a session: closed at once, counted, never logged (as HAProxy).
                if let Some(c) = self.st_fe(fe) {
                    c.inc(&c.denied_sess);
                }
                return;
            }
        }
        if !tracks.is_empty() {
            self.count_tracked(&tracks, Event::Sess);
        }
        let f = &mut self.rt.frontends[fe];
        // No Nagle delays: we write whole messages and never trickle (HAProxy disables Nagle too).
        let _ = sock.set_nodelay(true);
        if f.tcpka {
            let _ = socket2::SockRef::from(&sock).set_keepalive(true);
        }
        f.cur += 1;
        f.total += 1;
        self.actconn += 1;
        if let Some(c) = self.st_fe(fe) {
            let now_ms = self.now_ms;
            c.conn_accepted(now_ms);
            c.sess_open(now_ms);
        }
        let f = &mut self.rt.frontends[fe];
        let log_connect = f.log_format == LogFormat::Default && f.logger.enabled(Level::Info);
        let needs_local = log_connect || (f.mode != Mode::Http && !f.use_backends.is_empty());
        let local = known_local.or_else(|| needs_local.then(|| sock.local_addr().unwrap_or(peer)));
        if let (true, Some(local)) = (log_connect, local) {
            f.logger.log(Level::Info, &connect_line(peer, local, &f.name, f.mode.as_upper()));
        }
        let uid = self.next_uid;
        self.next_uid += 1;
        let mut sess: Session = Box::new(SessionData {
            uid,
            fe,
            be: None,
            srv: None,
            last_srv: None,
            stream: Stream::new(Conn::plain(sock, now)),
            connecting: None,
            phase: Phase::Queued,
            phase_since: now,
            client_addr: peer,
            local,
            accept_wall: self.now_ms,
            accept_at: now,
            tw: -1,
            tc: -1,
            retries: 0,
            redispatched: false,
            armed: None,
            sq: 0,
            bq: 0,
            queued_on: None,
            queued_since: None,
            http: None,
            logged: false,
            hash_key: None,
            term_hint: None,
            forced_srv: None,
            kept_srv: None,
            server_label: None,
            server_cid: None,
            redrive_queued: false,
            tracks,
            ended: false,
        });
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.sessions.push(None);
                self.sessions.len() - 1
            }
        };
        if let Err(e) = self.poll.registry().register(
            sess.stream.client.socket_mut(),
            Self::client_token(idx),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::warn!("cannot register client socket: {e}");
            sess.ended = true; // never a session: nothing but its frontend slot (below) and trackers to release
            drop(sess);
            self.free.push(idx);
            self.release_frontend(fe);
            return;
        }
        if self.rt.frontends[fe].mode == Mode::Http {
            // HTTP: the backend is chosen per request, once its head is parsed; an exchange's storage is taken
            // when its first byte arrives.
            sess.http = Some(self.http_conn(fe, now));
            sess.phase = Phase::Request;
            return self.drive_http(idx, sess, now);
        }
        let local = sess.local_addr();
        if !self.rt.frontends[fe].tcp_content.is_empty()
            && self
                .rt
                .tcp_rejects(
                    &self.rt.frontends[fe].tcp_content,
                    fe,
                    peer,
                    local,
                    None,
                    &sess.tracks,
                    TrackLevel::Content,
                )
                .is_some()
        {
            if let Some(c) = self.st_fe(fe) {
                c.inc(&c.denied_req);
            }
            return self.finish(idx, sess, Term::PROXY_REQUEST, now);
        }
        sess.be = self.rt.choose_backend(fe, peer, local, None, &sess.tracks);
        if let Some(be) = sess.be {
            if !self.rt.backends[be].use_servers.is_empty() {
                let px = self.rt.backends[be].proxy;
                let level = TrackLevel::Content;
                let ctx = L4 { src: peer, dst: local, rt: &self.rt, http: None, px, tracks: Some(&sess.tracks), level };
                sess.forced_srv = self.rt.use_server(be, &ctx);
            }
            self.rt.backends[be].total += 1;
            // `mode tcp` only (HTTP tunnels copy): the frontend's and the backend's splice options together.
            let opts = self.rt.frontends[fe].splice.or(self.rt.backends[be].splice);
            if opts.any() {
                sess.stream.set_splice(opts);
            }
        }
        self.assign(idx, sess, now);
    }

    /// Put the session back in the slab and make sure its next deadline is armed.
    pub(super) fn store(&mut self, idx: usize, mut sess: Session, now: Instant) {
        if let Some(at) = self.deadline(&sess) {
            if sess.armed.is_none_or(|a| at < a || a <= now) {
                self.timers.arm(at, TimerKey::Session(idx, sess.uid));
                sess.armed = Some(at);
            }
        }
        self.sessions[idx] = Some(sess);
    }

    /// The session's next deadline given its phase and timeouts (`None` = no timeout applies).
    fn deadline(&self, s: &Session) -> Option<Instant> {
        self.deadline_of(s, &clock(s))
    }

    fn deadline_of(&self, s: &Session, c: &Clock) -> Option<Instant> {
        let fe = &self.rt.frontends[s.fe].timeouts;
        let be = s.be.map(|b| &self.rt.backends[b].timeouts);
        crate::stream::deadline::deadline(c, fe, be)
    }

    pub(super) fn on_session_timer(&mut self, idx: usize, uid: u64, now: Instant) {
        let Some(mut sess) = self.sessions.get_mut(idx).and_then(|s| s.take_if(|s| s.uid == uid)) else { return };
        sess.armed = None;
        let c = clock(&sess);
        match self.deadline_of(&sess, &c) {
            Some(at) if at <= now => {}
            _ => return self.store(idx, sess, now),
        }
        match sess.phase {
            Phase::Queued => {
                self.unqueue(&mut sess, idx);
                sess.tw = ms(now - sess.phase_since);
                self.finish(idx, sess, Term::SERVER_TIMEOUT_QUEUE, now)
            }
            Phase::Connecting => self.connect_failed(idx, sess, now, true),
            Phase::TurnAround(_) => {
                let last = sess.last_srv;
                self.retry(idx, sess, now, last)
            }
            Phase::Tarpit(_) => {
                sess.phase = Phase::Request;
                self.http_tarpit_done(&mut sess);
                self.drive(idx, sess, now)
            }
            Phase::Request => {
                if c.http.is_some_and(|h| h.idle) {
                    // Idle keep-alive connection: close quietly, nothing to log.
                    sess.logged = true;
                    return self.finish(idx, sess, Term::NORMAL, now);
                }
                self.finish(idx, sess, Term::CLIENT_TIMEOUT_REQUEST, now)
            }
            Phase::Established => {
                let term = crate::stream::deadline::expired(&c, &self.rt.frontends[sess.fe].timeouts, now);
                self.finish(idx, sess, term, now)
            }
        }
    }

    /// Drive a session that yielded with work left (see `Step::Yield`).
    pub(super) fn redrive_session(&mut self, idx: usize, uid: u64) {
        let Some(mut sess) = self.sessions.get_mut(idx).and_then(|s| s.take_if(|s| s.uid == uid)) else { return };
        sess.redrive_queued = false;
        self.drive(idx, sess, self.now);
    }

    /// Drive the session again on the next turn of the loop, once (it yielded with bytes still to move).
    pub(super) fn redrive_soon(&mut self, idx: usize, sess: &mut Session) {
        if !sess.redrive_queued {
            sess.redrive_queued = true;
            self.redrive.push((idx, sess.uid));
        }
    }

    pub(super) fn on_session_event(&mut self, idx: usize, server: bool, ev: &mio::event::Event) {
        // An admin change written since this turn began applies before the event routes anything (a request
        // of a keep-alive client sees a server put in maintenance a moment ago).
        self.poll_admin();
        let Some(mut sess) = self.sessions.get_mut(idx).and_then(Option::take) else { return };
        let now = self.now;
        if server {
            if sess.phase == Phase::Connecting {
                let Some(sock) = sess.connecting.as_ref() else { return self.store(idx, sess, now) };
                match sock.take_error() {
                    Ok(Some(_)) | Err(_) => return self.connect_failed(idx, sess, now, false),
                    Ok(None) => {}
                }
                match sock.peer_addr() {
                    Ok(_) => {
                        if let Some(sock) = sess.connecting.take() {
                            if !self.send_proxy_header(&mut sess, &sock) {
                                return self.connect_failed(idx, sess, now, false);
                            }
                            sess.stream.server = Some(Conn::plain(sock, now));
                        }
                        sess.tc = ms(now - sess.phase_since);
                        sess.phase = Phase::Established;
                        sess.phase_since = now;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        if ev.is_error() || ev.is_write_closed() {
                            return self.connect_failed(idx, sess, now, false);
                        }
                        return self.store(idx, sess, now);
                    }
                    Err(_) => return self.connect_failed(idx, sess, now, false),
                }
            } else if let Some(side) = sess.stream.server.as_mut() {
                side.ready(ev);
            }
        } else {
            sess.stream.client.ready(ev);
        }
        self.drive(idx, sess, now);
    }

    /// Pump bytes and end the session when both directions are done or a socket failed.
    pub(super) fn drive(&mut self, idx: usize, mut sess: Session, now: Instant) {
        if sess.http.is_some() {
            return self.drive_http(idx, sess, now);
        }
        match sess.stream.pump(&mut self.pool, &mut self.pipes, now) {
            Pumped::Busy => {
                // Bytes are still flowing: let the other sessions have this turn, pump again on the next one.
                self.redrive_soon(idx, &mut sess);
                self.store(idx, sess, now)
            }
            Pumped::Open => {
                if sess.phase != Phase::Established
                    && sess.stream.client.rd_eof
                    && sess.stream.c2s_pending() == 0
                    && sess.stream.bytes_in == 0
                {
                    // The client left before we reached a server and sent nothing: nobody is waiting.
                    let term = match sess.phase {
                        Phase::Queued => Term::CLIENT_QUEUE,
                        _ => Term::CLIENT_CONNECT,
                    };
                    if sess.phase == Phase::Queued {
                        self.unqueue(&mut sess, idx);
                    }
                    return self.finish(idx, sess, term, now);
                }
                self.store(idx, sess, now)
            }
            Pumped::Done => self.finish(idx, sess, Term::NORMAL, now),
            Pumped::Failed(End::Client, _) => {
                let term = match sess.phase {
                    Phase::Established => Term::CLIENT_DATA,
                    Phase::Queued => {
                        self.unqueue(&mut sess, idx);
                        Term::CLIENT_QUEUE
                    }
                    _ => Term::CLIENT_CONNECT,
                };
                self.finish(idx, sess, term, now)
            }
            Pumped::Failed(End::Server, _) => self.finish(idx, sess, Term::SERVER_DATA, now),
        }
    }

    fn release_frontend(&mut self, fe: usize) {
        if let Some(c) = self.st_fe(fe) {
            c.sess_close();
        }
        let f = &mut self.rt.frontends[fe];
        f.cur = f.cur.saturating_sub(1);
        self.actconn = self.actconn.saturating_sub(1);
    }

    /// End a session: close sockets, release every counter, write its log line.
    pub(super) fn finish(&mut self, idx: usize, mut sess: Session, term: Term, now: Instant) {
        let mut term = if term == Term::NORMAL { sess.term_hint.take().unwrap_or(term) } else { term };
        if sess.phase == Phase::Queued {
            // Ended while waiting (HTTP client gone, no server left): its place must not hold up others.
            self.unqueue(&mut sess, idx);
            if term.by_client() {
                term = Term::CLIENT_QUEUE; // the client left while queued, whatever the HTTP layer saw
            }
        }
        if sess.http.is_some() {
            if let Some(c) = term.http_status() {
                self.http_local_reply(&mut sess, c);
            }
            self.http_log(&mut sess, term, now);
        }
        if let Some(h) = sess.http.as_ref() {
            // Client gone between two requests: its kept server connection is clean and may serve others.
            if h.stage() == HttpStage::Request && h.reused {
                self.park_server(&mut sess, now);
            }
        }
        // No explicit deregistration: the sockets are closed when the session is dropped below, and closing the
        // only descriptor of a socket removes it from epoll (one epoll_ctl less per socket).
        // Server of the log line, read before its slot is released (the name is looked up only if we log).
        let (last_srv, srv_conn) = match sess.srv {
            Some(si) => (Some(si), self.rt.servers[si].cur),
            None => (None, 0),
        };
        // Counters as HAProxy logs them: including this session.
        let beconn = sess.be.map(|b| self.rt.backends[b].cur + u32::from(sess.srv.is_none())).unwrap_or(0);
        // Bytes: the frontend sees the whole connection; backend and server the part they carried.
        let (bin, bout) = (sess.stream.bytes_in, sess.stream.bytes_out);
        // Trackers count the bytes, then are released with the session (dropping it, below).
        for r in sess.tracks.each() {
            self.rt.tables.add_bytes(r, bin, bout);
        }
        if let Some(c) = self.st_fe(sess.fe) {
            c.add_bytes_in(bin);
            c.add_bytes_out(bout);
        }
        if let Some(si) = sess.srv {
            for c in [self.st_srv(si), self.st_be(self.rt.servers[si].backend)].into_iter().flatten() {
                c.add_bytes_in(bin);
                c.add_bytes_out(bout);
            }
        }
        if term == Term::CLIENT_TIMEOUT_REQUEST {
            // `timeout http-request` (408): a request error, as HAProxy counts it.
            if let Some(c) = self.st_fe(sess.fe) {
                c.inc(&c.failed_req);
            }
        }
        if term.by_client() {
            if let Some(c) = self.st_fe(sess.fe) {
                c.inc(&c.cli_aborts);
            }
        } else if term.by_server() && sess.srv.is_some() {
            if let Some(c) = sess.srv.and_then(|si| self.st_srv(si)) {
                c.inc(&c.srv_aborts);
            }
        }
        self.release_server(&mut sess);
        sess.stream.release(&mut self.pool, &mut self.pipes);
        let fe = sess.fe;
        let f = &self.rt.frontends[fe];
        let from_client = sess.stream.bytes_in + sess.stream.c2s_pending() as u64;
        let null = from_client == 0;
        let be_name = sess.be.map_or(f.name.as_str(), |b| self.rt.backends[b].name.as_str());
        let error = crate::stream::runtime::session_error(term, sess.retries, sess.redispatched, None);
        let format = f.format.as_ref().filter(|_| sess.http.is_none() && !(f.dontlognull && null));
        if let Some((format, level)) = format.and_then(|fmt| Some((fmt, f.traffic_level(error)?))) {
            let fields = TcpLogFields {
                client: sess.client_addr,
                accept_time: super::wall_of(sess.accept_wall),
                frontend: &f.name,
                backend: be_name,
                server: last_srv.map_or("<NOSRV>", |si| self.rt.servers[si].name.as_str()),
                tw: sess.tw,
                tc: sess.tc,
                tt: ms(now - sess.accept_at),
                bytes_read: sess.stream.bytes_out,
                term: term.letters(),
                actconn: self.actconn,
                feconn: f.cur,
                beconn,
                srv_conn,
                retries: sess.retries,
                redispatched: sess.redispatched,
                srv_queue: sess.sq,
                backend_queue: sess.bq,
            };
            let ctx = sess.log_ctx(&self.rt, f.proxy, None);
            let line = format.render_to_string(&crate::log::LogValues::from_tcp(&fields), &ctx);
            f.logger.log(level, &line);
        }
        if let Some(txn) = sess.http.take().and_then(|h| h.txn) {
            self.give_txn(txn);
        }
        self.drop_server(&mut sess);
        sess.ended = true;
        drop(sess);
        self.release_frontend(fe);
        self.freed.push(idx);
        // A slot is free again: listeners held back by maxconn may accept.
        for li in 0..self.listeners.len() {
            if self.listeners[li].held && !self.accept_pending.contains(&li) {
                self.listeners[li].held = false;
                self.accept_pending.push(li);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// What an idle connection costs is mostly its session: keep it small (the idle bench's 0.8 KiB per
    /// connection, malloc and slab overhead included, leaves room for no more than this).
    #[test]
    fn a_session_stays_small() {
        let size = std::mem::size_of::<super::SessionData>();
        assert!(size <= 680, "SessionData grew to {size} bytes");
        assert!(std::mem::size_of::<super::HttpConn>() <= 96, "HttpConn grew");
    }
}
