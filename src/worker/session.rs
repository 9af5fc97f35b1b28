//! A session's life in the worker: accept, choose a backend and server, queue, connect with retries and
//! redispatch, forward, time out, and end with exactly one log line and released counters.
//!
//! Every failure path ends in an answer (the client is closed), a log line and released slots — never a loop:
//! retries are bounded by `retries`, queueing by `timeout queue`.
//!
//! Stick counters: `tcp-request connection` rules may track entries before the session exists (they are handed
//! to [`Worker::start_session`]); a session keeps its [`crate::stick::Tracks`] and releases them when it ends
//! (request-level ones when each HTTP request ends), which brings `conn_cur` back down.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::Interest;

use super::http::{HttpConn, Stage as HttpStage, Txn};
use super::pool::{conn_token, Owner};
use super::runtime::{Runtime, Waiter};
use super::{TimerKey, Worker};
use crate::acl::{self, Sample};
use crate::balance::Pick;
use crate::config::model::{Balance, Level, LogFormat, Mode};
use crate::http::cookie::ReqCookie;
use crate::log::{connect_line, tcplog, TcpLogFields};
use crate::stick::{Event, TableAction, TrackLevel, TrackRef, Tracks};
use crate::stream::term::Term;
use crate::tcp::{End, Pumped, Stream};
use crate::transport::Conn;

/// No sticky counter tracked.
pub(super) const NO_TRACKS: [Option<TrackRef>; 3] = [None; 3];

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Waiting for a server slot, in a server's own queue or the backend's (see `SessionData::queued_on`).
    Queued,
    /// A server connection is being established.
    Connecting,
    /// Waiting before the next connection attempt.
    TurnAround(Instant),
    /// Bytes flow both ways.
    Established,
    /// HTTP: waiting for a request head (no server needed yet).
    Request,
    /// HTTP `tarpit`: hold the client until then, then answer the error.
    Tarpit(Instant),
}

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

/// `timeout client-fin` / `server-fin`, each when it is set and its side's connection is closed in one direction
/// (HAProxy: a half-closed connection waits on them instead of `timeout client`/`server`/`tunnel`).
fn half_closed_timeouts(
    s: &SessionData,
    client_fin: Option<Duration>,
    server_fin: Option<Duration>,
) -> (Option<Duration>, Option<Duration>) {
    let client_half = s.stream.client.rd_eof || s.stream.client.wr_shut;
    let server_half = s.stream.server.as_ref().is_some_and(|x| x.rd_eof || x.wr_shut);
    (client_fin.filter(|_| client_half), server_fin.filter(|_| server_half))
}

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

impl Worker {
    /// `tcp-request connection` rules on a just-accepted connection (before any PROXY header: they see the
    /// real peer, as HAProxy's do). A refused connection is closed at once, counted, never logged.
    /// Returns the sticky counters its `track-scN` rules set (`None`: refused).
    pub(super) fn connection_allowed(
        &mut self,
        fe: usize,
        sock: &TcpStream,
        peer: SocketAddr,
    ) -> Option<[Option<TrackRef>; 3]> {
        if self.rt.frontends[fe].tcp_connection.is_empty() {
            return Some(NO_TRACKS);
        }
        let local = sock.local_addr().unwrap_or(peer);
        let tracks = Tracks::default();
        let rules = &self.rt.frontends[fe].tcp_connection;
        if self.tcp_rejects(rules, fe, peer, local, None, &tracks, TrackLevel::Conn).is_none() {
            return Some(tracks.conn.get());
        }
        self.release_tracks(&tracks);
        if let Some(c) = self.st_fe(fe) {
            c.inc(&c.denied_conn);
        }
        None
    }

    /// Stop tracking every entry of `tracks` (`conn_cur` goes down) and clear them.
    pub(super) fn release_tracks(&self, tracks: &Tracks) {
        for r in tracks.conn.take().into_iter().chain(tracks.req.take()).flatten() {
            self.rt.tables.release(r);
        }
    }

    /// The current request is over: its request-level entries (`tcp-request content`, `http-request`) stop
    /// being tracked; connection-level ones stay.
    pub(super) fn release_request_tracks(&self, tracks: &Tracks) {
        for r in tracks.req.take().into_iter().flatten() {
            self.rt.tables.release(r);
        }
    }

    /// Count an event on every entry the session tracks.
    pub(super) fn count_tracked(&self, tracks: &Tracks, ev: Event) {
        for r in tracks.each() {
            self.rt.tables.count(r, ev);
        }
    }

    /// A connection was accepted on a listener of frontend `fe` (with `accept-proxy`, once its header gave the
    /// client's address `peer` and the address it connected to, `local`).
    /// `conn_tracks` are the sticky counters the `tcp-request connection` rules set.
    pub(super) fn start_session(
        &mut self,
        fe: usize,
        sock: TcpStream,
        peer: SocketAddr,
        local: Option<SocketAddr>,
        conn_tracks: [Option<TrackRef>; 3],
    ) {
        let now = self.now;
        let tracks = Tracks { conn: std::cell::Cell::new(conn_tracks), req: Default::default() };
        let f = &mut self.rt.frontends[fe];
        if f.mode == Mode::Health {
            // `mode health`: answer OK and close, never logged.
            let _ = io::Write::write(&mut &sock, b"OK");
            self.release_tracks(&tracks);
            return;
        }
        if f.monitor_net.iter().any(|n| n.contains(peer.ip())) {
            // `monitor-net` (1.4): a monitoring system's probe is answered at once and never logged.
            if f.mode == Mode::Http {
                let _ = io::Write::write(&mut &sock, b"HTTP/1.0 200 OK\r\n\r\n");
            }
            self.release_tracks(&tracks);
            return;
        }
        let mut known_local = local;
        if !f.tcp_session.is_empty() {
            let local = *known_local.get_or_insert_with(|| sock.local_addr().unwrap_or(peer));
            let rules = &self.rt.frontends[fe].tcp_session;
            if self.tcp_rejects(rules, fe, peer, local, None, &tracks, TrackLevel::Conn).is_some() {
                // Refused before it became a session: closed at once, counted, never logged (as HAProxy).
                self.release_tracks(&tracks);
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
            self.release_tracks(&sess.tracks);
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
        sess.be = self.choose_backend(fe, peer, local, None, &sess.tracks);
        if let Some(be) = sess.be {
            if !self.rt.backends[be].use_servers.is_empty() {
                let px = self.rt.backends[be].proxy;
                let level = TrackLevel::Content;
                let ctx = L4 { src: peer, dst: local, rt: &self.rt, http: None, px, tracks: Some(&sess.tracks), level };
                sess.forced_srv = self.use_server(be, &ctx);
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

    /// Run `tcp-request` rules in order: `Some(())` when a `reject` applies, `None` when an `accept` applies first
    /// or no rule does. `track-scN` rules set `tracks` at `level`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn tcp_rejects(
        &self,
        rules: &[crate::worker::runtime::TcpRule],
        fe: usize,
        src: SocketAddr,
        dst: SocketAddr,
        http: Option<acl::HttpView<'_>>,
        tracks: &Tracks,
        level: TrackLevel,
    ) -> Option<()> {
        use crate::worker::runtime::TcpAction;
        let f = &self.rt.frontends[fe];
        let acls = f.rules.acls();
        let ctx = L4 { src, dst, rt: &self.rt, http, px: f.proxy, tracks: Some(tracks), level };
        for r in rules {
            if !r.cond.as_ref().is_none_or(|c| acls.eval(c, &ctx)) {
                continue;
            }
            match &r.action {
                TcpAction::Accept => return None,
                TcpAction::Reject => return Some(()),
                TcpAction::Track { sc, key, table } => {
                    acl::fetch::each(key, &ctx, false, &mut |v| {
                        acl::Context::table_action(
                            &ctx,
                            TableAction::Track { sc: *sc, table: table.as_deref(), key: v },
                        );
                        true
                    });
                }
                TcpAction::IncGpc0(sc) => acl::Context::table_action(&ctx, TableAction::IncGpc0(*sc)),
                TcpAction::Pass => {}
            }
        }
        None
    }

    /// The first `use_backend` whose condition holds, else `default_backend` (or the listen's own servers).
    pub(super) fn choose_backend(
        &self,
        fe: usize,
        src: SocketAddr,
        dst: SocketAddr,
        http: Option<acl::HttpView<'_>>,
        tracks: &Tracks,
    ) -> Option<usize> {
        let f = &self.rt.frontends[fe];
        let ctx = L4 { src, dst, rt: &self.rt, http, px: f.proxy, tracks: Some(tracks), level: TrackLevel::Http };
        for (cond, be) in &f.use_backends {
            if cond.as_ref().is_none_or(|c| f.rules.acls().eval(c, &ctx)) {
                return Some(*be);
            }
        }
        f.default_backend
    }

    /// `use-server`: the first rule of backend `be` whose condition holds names the server, if it can take
    /// traffic (a DOWN one only with `option persist`); it wins over persistence, as in HAProxy.
    pub(super) fn use_server(&self, be: usize, ctx: &L4<'_>) -> Option<usize> {
        let b = &self.rt.backends[be];
        let (si, _) = b.use_servers.iter().find(|(_, c)| c.as_ref().is_none_or(|c| b.rules.acls().eval(c, ctx)))?;
        let s = &self.rt.servers[*si];
        (s.usable() || b.persist).then_some(*si)
    }

    /// Find a server for the session, queue it, or fail it.
    pub(super) fn assign(&mut self, idx: usize, mut sess: Session, now: Instant) {
        let Some(be) = sess.be else {
            return self.finish(idx, sess, Term::SERVER_CONNECT, now);
        };
        // Persistence first: a cookie (HTTP) or the stick table names a server; a DOWN one is used only with
        // `option persist`, else the request is load balanced (and re-stuck) as HAProxy does. A full one is
        // waited for in its own queue.
        let mut forced = sess.forced_srv.take();
        if forced.is_none() && sess.retries == 0 {
            if let Some(t) = self.rt.backends[be].stick {
                // `server_id` holds the worker-global server index + 1.
                let id = self.rt.tables.server_of(t, &acl::Val::Ip(sess.client_addr.ip()));
                forced = id.and_then(|v| usize::try_from(v - 1).ok()).filter(|&si| si < self.rt.servers.len());
            }
        }
        if forced.is_none() && self.rt.backends[be].prefer_last_server {
            forced = sess.kept_srv;
        }
        if let Some(si) = forced {
            let s = &self.rt.servers[si];
            if s.backend == be && (s.usable() || self.rt.backends[be].persist) {
                return self.assign_to(idx, sess, si, true, now);
            }
        }
        self.balance(idx, sess, be, now)
    }

    /// Load balance the session over backend `be`'s servers (persistence left aside).
    fn balance(&mut self, idx: usize, sess: Session, be: usize, now: Instant) {
        let cands = self.rt.candidates(be);
        // Hashing keys: the source for `balance source`, the request's uri/url_param/hdr for HTTP backends
        // (missing key: round robin, as HAProxy).
        let key = match self.rt.backends[be].balancer.algo() {
            Balance::Source => Some(crate::balance::source_hash(sess.client_addr.ip())),
            _ => sess.hash_key,
        };
        match self.rt.backends[be].balancer.pick(&cands, key) {
            Pick::Server(i) | Pick::Queue(i) => {
                let si = self.rt.backends[be].servers[i];
                if let Some(t) = self.rt.backends[be].stick {
                    self.rt.tables.set_server(t, &acl::Val::Ip(sess.client_addr.ip()), si as i64 + 1);
                }
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
    fn assign_to(&mut self, idx: usize, mut sess: Session, si: usize, direct: bool, now: Instant) {
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
    fn enqueue(&mut self, idx: usize, mut sess: Session, on: Option<usize>, now: Instant) {
        let Some(be) = sess.be else { return self.finish(idx, sess, Term::SERVER_CONNECT, now) };
        let w = Waiter { idx, uid: sess.uid, seq: self.queue_seq };
        self.queue_seq += 1;
        match on {
            Some(si) => {
                let q = &mut self.rt.servers[si].queue;
                sess.sq = q.len() as u32;
                q.push_back(w);
                if let Some(c) = self.st_srv(si) {
                    c.queue_push();
                }
            }
            None => {
                let q = &mut self.rt.backends[be].queue;
                sess.bq = q.len() as u32;
                q.push_back(w);
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
    fn connect(&mut self, idx: usize, mut sess: Session, si: usize, now: Instant) {
        sess.queued_since = None; // the wait is over
        if let Some(prefix) = self.rt.servers[si].redir.clone() {
            // `server … redir PREFIX`: GET and HEAD are redirected, never connected (1.4 §5).
            if let Some(page) = sess.txn().and_then(|t| t.redir_page(&prefix)) {
                return self.http_answer_now(idx, sess, page, now);
            }
        }
        let srv = &mut self.rt.servers[si];
        let mut addr = srv.addr;
        if addr.port() == 0 {
            addr.set_port(sess.local_addr().port());
        }
        srv.cur += 1;
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
                    if let Some(t) = h.txn.as_mut() {
                        t.from_pool = true;
                    }
                }
                sess.tc = 0;
                sess.phase = Phase::Established;
                sess.phase_since = now;
                return self.drive(idx, sess, now);
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
                if let Some(t) = sess.txn_mut() {
                    t.from_pool = true;
                }
                sess.tc = 0;
                sess.phase = Phase::Established;
                sess.phase_since = now;
                return self.drive(idx, sess, now);
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

    /// `send-proxy[-v2]`: write the PROXY header on a just-established server connection, before any byte of the
    /// client's. The socket's send buffer is empty, so the short header goes out whole; anything else is treated
    /// as a failed connection (retried like one).
    fn send_proxy_header(&mut self, sess: &mut Session, sock: &TcpStream) -> bool {
        let Some(version) = sess.srv.and_then(|si| self.rt.servers[si].send_proxy) else { return true };
        let header = crate::proxy_proto::header(version, sess.client_addr, sess.local_addr());
        matches!(io::Write::write(&mut &*sock, &header), Ok(n) if n == header.len())
    }

    /// A connection attempt failed (refused, unreachable, timed out): retry, redispatch, or give up.
    fn connect_failed(&mut self, idx: usize, mut sess: Session, now: Instant, timeout: bool) {
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
        let b = &self.rt.backends[be];
        if sess.retries >= b.retries {
            let term = if timeout { Term::SERVER_TIMEOUT_CONNECT } else { Term::SERVER_CONNECT };
            return self.finish(idx, sess, term, now);
        }
        sess.retries += 1;
        if let Some(c) = self.st_be(be) {
            c.inc(&c.retries);
        }
        // HAProxy 2.x: a turn-around of min(timeout connect, 1s) before the next attempt.
        let pause = b.timeouts.connect.unwrap_or(Duration::from_secs(1)).min(Duration::from_secs(1));
        sess.phase = Phase::TurnAround(now + pause);
        sess.phase_since = now;
        self.store(idx, sess, now);
    }

    /// The turn-around delay is over: connect again, to another server on the last retry with redispatch.
    fn retry(&mut self, idx: usize, mut sess: Session, now: Instant, last_srv: Option<usize>) {
        let Some(be) = sess.be else { return self.finish(idx, sess, Term::SERVER_CONNECT, now) };
        let b = &self.rt.backends[be];
        let redispatch = b.redispatch && sess.retries >= b.retries;
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
        let fe_to = &self.rt.frontends[s.fe].timeouts;
        let be_to = s.be.map(|b| &self.rt.backends[b].timeouts);
        match s.phase {
            Phase::Queued => be_to.and_then(|t| t.queue_or_connect()).map(|d| s.phase_since + d),
            Phase::Connecting => be_to.and_then(|t| t.connect).map(|d| s.phase_since + d),
            Phase::TurnAround(at) => Some(at),
            Phase::Request => {
                let h = s.http.as_ref()?;
                let idle = h.client.completed() > 0 && s.stream.c2s.is_empty();
                let t = if idle { fe_to.http_keep_alive.or(fe_to.http_request) } else { fe_to.http_request };
                t.or(fe_to.client).map(|d| h.started + d)
            }
            Phase::Established if s.http.as_ref().is_some_and(|h| h.awaiting_response()) => {
                // The request is out: only the server's answer is awaited (`timeout server`).
                let since = s.stream.server.as_ref().map(|x| x.last_io).unwrap_or(s.phase_since);
                be_to.and_then(|t| t.server).map(|d| since + d)
            }
            Phase::Tarpit(at) => Some(at),
            Phase::Established => {
                // `timeout tunnel` applies to TCP sessions and to HTTP sessions once upgraded, not to transactions.
                let http_txn = s.http.as_ref().is_some_and(|h| h.stage() != HttpStage::Tunnel);
                let tunnel = if http_txn { None } else { be_to.and_then(|t| t.tunnel).or(fe_to.tunnel) };
                let server_side = s.stream.server.as_ref().map(|x| x.last_io).unwrap_or(s.phase_since);
                let (client_fin, server_fin) =
                    half_closed_timeouts(s, fe_to.client_fin, be_to.and_then(|t| t.server_fin));
                let at = |side: Instant, d: Option<Duration>| d.map(|d| side + d);
                let earliest = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                // `timeout client-fin`/`server-fin` replace the client/server (and tunnel) timeouts on a side once
                // the connection is closed in one direction.
                let fins = earliest(at(s.stream.client.last_io, client_fin), at(server_side, server_fin));
                match tunnel {
                    Some(t) => earliest(Some(s.stream.client.last_io.max(server_side) + t), fins),
                    None => {
                        let c = at(s.stream.client.last_io, client_fin.or(fe_to.client));
                        let sv = at(server_side, server_fin.or(be_to.and_then(|t| t.server)));
                        earliest(c, sv)
                    }
                }
            }
        }
    }

    pub(super) fn on_session_timer(&mut self, idx: usize, uid: u64, now: Instant) {
        let Some(mut sess) = self.sessions.get_mut(idx).and_then(|s| s.take_if(|s| s.uid == uid)) else { return };
        sess.armed = None;
        match self.deadline(&sess) {
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
                let silent = sess.http.as_ref().is_some_and(|h| h.client.completed() > 0 && sess.stream.c2s.is_empty());
                if silent {
                    // Idle keep-alive connection: close quietly, nothing to log.
                    sess.logged = true;
                    return self.finish(idx, sess, Term::NORMAL, now);
                }
                self.finish(idx, sess, Term::CLIENT_TIMEOUT_REQUEST, now)
            }
            Phase::Established => {
                let fe_to = &self.rt.frontends[sess.fe].timeouts;
                let (client_fin, _) = half_closed_timeouts(&sess, fe_to.client_fin, None);
                let client_to = client_fin.or(fe_to.client);
                let client_expired = client_to.is_some_and(|d| sess.stream.client.last_io + d <= now);
                let waiting_response = sess.http.as_ref().is_some_and(|h| h.awaiting_response());
                let term = if waiting_response {
                    Term::SERVER_TIMEOUT_HEADERS
                } else if client_expired {
                    Term::CLIENT_TIMEOUT_DATA
                } else {
                    Term::SERVER_TIMEOUT_DATA
                };
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
    fn drive(&mut self, idx: usize, mut sess: Session, now: Instant) {
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

    /// Take a queued session out of its queue (the client left, or `timeout queue` expired).
    fn unqueue(&mut self, sess: &mut Session, idx: usize) {
        if sess.queued_since.take().is_none() {
            return; // in no queue
        }
        let uid = sess.uid;
        let (q, on) = match (sess.queued_on.take(), sess.be) {
            (Some(si), _) => (&mut self.rt.servers[si].queue, Some(si)),
            (None, Some(be)) => (&mut self.rt.backends[be].queue, None),
            (None, None) => return,
        };
        let n = q.len();
        q.retain(|w| !(w.idx == idx && w.uid == uid));
        if q.len() < n {
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
        while self.rt.servers[si].has_slot() {
            let own = self.rt.servers[si].queue.front().map(|w| w.seq);
            let shared = self.rt.backends[be].queue.front().map(|w| w.seq);
            let shared_first = match (own, shared) {
                (_, None) => false,
                (Some(o), Some(b)) if o < b => false,
                _ => *lb.get_or_insert_with(|| self.serves_backend_queue(si)),
            };
            let w = if shared_first {
                let w = self.rt.backends[be].queue.pop_front();
                if let (Some(_), Some(c)) = (w, self.st_be(be)) {
                    c.queue_pop();
                }
                w
            } else {
                let w = self.rt.servers[si].queue.pop_front();
                if let (Some(_), Some(c)) = (w, self.st_srv(si)) {
                    c.queue_pop();
                }
                w
            };
            let Some(w) = w else { break };
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

    /// Server `si` takes load-balanced traffic now (so it may serve the backend's queue).
    fn serves_backend_queue(&self, si: usize) -> bool {
        let be = self.rt.servers[si].backend;
        let b = &self.rt.backends[be];
        b.servers
            .iter()
            .position(|&x| x == si)
            .is_some_and(|i| b.balancer.serves_backend_queue(&self.rt.candidates(be), i))
    }

    /// Place the sessions of the backend's queue on servers with free slots, through the balancer.
    fn dequeue_backend(&mut self, be: usize) {
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
        if !sess.tracks.is_empty() {
            for r in sess.tracks.each() {
                self.rt.tables.add_bytes(r, bin, bout);
            }
            self.release_tracks(&sess.tracks);
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
        let error = crate::worker::runtime::session_error(term, sess.retries, sess.redispatched, None);
        let level = if sess.http.is_none() && !(f.dontlognull && null) && f.log_format != LogFormat::Default {
            f.traffic_level(error)
        } else {
            None
        };
        if let Some(level) = level {
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
            let line = match &f.custom_format {
                Some(spec) => spec.render_to_string(&crate::log::LogValues::from_tcp(&fields), &|_| None),
                None => tcplog(&fields),
            };
            f.logger.log(level, &line);
        }
        if let Some(txn) = sess.http.take().and_then(|h| h.txn) {
            self.give_txn(txn);
        }
        self.drop_server(&mut sess);
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

/// Layer-4 view of a session for ACLs.
pub(super) struct L4<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub rt: &'a Runtime,
    /// The request, for HTTP fetches (`None` in TCP mode).
    pub http: Option<acl::HttpView<'a>>,
    /// Config index of the proxy whose rules run (its stick table is the default one).
    pub px: usize,
    /// The session's sticky counters (`None`: no tracking here).
    pub tracks: Option<&'a Tracks>,
    /// What a `track-scN` run through this context sets.
    pub level: TrackLevel,
}

impl acl::Context for L4<'_> {
    fn src(&self) -> SocketAddr {
        self.src
    }
    fn http(&self) -> Option<acl::HttpView<'_>> {
        self.http
    }
    fn dst(&self) -> SocketAddr {
        self.dst
    }
    fn table_fetch(&self, f: &crate::stick::TableFetch) -> Option<Sample> {
        use crate::stick::{Scope, What};
        let tables = &self.rt.tables;
        let explicit = match f.table.as_deref() {
            Some(n) => Some(tables.by_name(n)?),
            None => None,
        };
        match f.scope {
            Scope::Sc(n) => match self.tracks.and_then(|t| t.get(n as usize)) {
                Some(r) => tables.fetch_tracked(r, explicit, f.what),
                None if f.what == What::Tracked => Some(Sample::Bool(false)),
                None => None,
            },
            Scope::Src => {
                let t = explicit.or_else(|| tables.of_proxy(self.px))?;
                tables.fetch_key(t, &acl::Val::Ip(self.src.ip()), f.what)
            }
            Scope::Table => {
                let (cnt, avl) = tables.fill(explicit.or_else(|| tables.of_proxy(self.px))?)?;
                Some(Sample::Int(if f.what == What::Cnt { cnt } else { avl } as i64))
            }
        }
    }
    fn table_action(&self, a: TableAction<'_>) {
        let Some(tracks) = self.tracks else { return };
        let tables = &self.rt.tables;
        match a {
            TableAction::Track { sc, table, key } => {
                let cell = if self.level == TrackLevel::Conn { &tracks.conn } else { &tracks.req };
                let mut set = cell.get();
                let Some(slot) = set.get_mut(sc as usize) else { return };
                if tracks.get(sc as usize).is_some() {
                    return; // the first tracking of a counter wins (a connection-level one for every request)
                }
                let Some(t) = tables.resolve(table, self.px) else { return };
                if let Some(r) = tables.track(t, &key) {
                    *slot = Some(r);
                    cell.set(set);
                    if self.level == TrackLevel::Http {
                        // Tracked from `http-request`: this request counts at once (as HAProxy).
                        tables.count(r, Event::HttpReq);
                    }
                }
            }
            TableAction::IncGpc0(sc) => {
                if let Some(r) = tracks.get(sc as usize) {
                    tables.count(r, Event::Gpc0);
                }
            }
            TableAction::SetGpt0(sc, v) => {
                if let Some(r) = tracks.get(sc as usize) {
                    tables.set_gpt0(r, v);
                }
            }
        }
    }
    fn fetch(&self, name: &str, args: &[String]) -> Option<Sample> {
        let backend = |rt: &Runtime| args.first().and_then(|n| rt.backends.iter().position(|b| &b.name == n));
        match name {
            // `http_auth(userlist)` / `http_auth_group(userlist) GROUPS`: Basic credentials checked against a
            // userlist's users (`insecure-password` as text, `password` as a crypt(3) hash).
            "http_auth" | "http_auth_group" => {
                let view = self.http?;
                let list = self.rt.userlists.iter().find(|u| Some(&u.name) == args.first())?;
                let creds = super::stats::basic_credentials(&view)?;
                let (user, pass) = creds.split_once(':')?;
                let entry = list
                    .users
                    .iter()
                    .find(|u| u.name == user && crate::auth::password_matches(pass, &u.password, u.insecure));
                Some(match (name, entry) {
                    ("http_auth", e) => Sample::Bool(e.is_some()),
                    (_, Some(e)) => {
                        // The user's groups: its own `groups` plus the groups listing it.
                        let mut groups = e.groups.clone();
                        groups.extend(
                            list.groups.iter().filter(|(_, m)| m.iter().any(|x| x == user)).map(|(g, _)| g.clone()),
                        );
                        Sample::Str(groups.join(","))
                    }
                    _ => return None,
                })
            }
            "nbsrv" => {
                let (a, b) = self.rt.usable_counts(backend(self.rt)?);
                Some(Sample::Int((a + b) as i64))
            }
            "be_conn" => Some(Sample::Int(self.rt.backends[backend(self.rt)?].cur as i64)),
            "connslots" => {
                let be = backend(self.rt)?;
                let mut n = 0i64;
                for &si in &self.rt.backends[be].servers {
                    let s = &self.rt.servers[si];
                    if !s.usable() {
                        continue;
                    }
                    if s.maxconn == 0 {
                        return None; // unlimited: HAProxy answers no sample
                    }
                    n += s.maxconn.saturating_sub(s.cur) as i64;
                }
                Some(Sample::Int(n))
            }
            _ => None,
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
