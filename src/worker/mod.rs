//! A worker process: one single-threaded mio event loop that accepts on its own listeners, runs sessions and
//! health checks, and obeys the master over its control channel.
//!
//! The loop routes readiness, timers and control messages; what it routes them to is layered below it: the
//! sockets are [`crate::transport`] connections, HTTP's connection rules are [`crate::http::h1`]'s machines,
//! and the proxy logic is [`crate::stream`]'s steps over the proxies' live state. The modules here are the glue:
//! `session` (a session's life and its one end), `assign` (persistence, balancing, queueing, connecting,
//! retries), `http` (the HTTP I/O loop), `pool` (idle server connections), `health`, `handshake`
//! (`accept-proxy`) and `stats` (this worker's counters, the stats page).
//!
//! The worker is built in two steps so that the master can drop privileges in between: [`Worker::prepare`]
//! opens everything that needs the outside world (log sockets) while still root and outside the chroot; then
//! the master chroots and setuids; then [`Worker::run`] accepts.

mod assign;
mod handshake;
mod health;
mod http;
mod pool;
mod session;
mod stats;
pub mod timers;

use std::io::{self, Read};
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::{TcpListener, UnixStream};
use mio::{Events, Interest, Poll, Token};

use crate::config::model::{Config, Level};
use crate::ipc::{control, Setup};
use crate::log::FileSink;
use crate::stream::runtime::Runtime;
use crate::stream::term::Term;
use crate::transport::Pool;
use session::Session;
use timers::{TimerKey, Timers};

const CONTROL: Token = Token(0);
const LISTENER_BASE: usize = 16;
const CHECK_BASE: usize = 1 << 20;
/// Connections waiting for their PROXY protocol header (`accept-proxy`).
const HANDSHAKE_BASE: usize = 1 << 22;
const SESS_BASE: usize = 1 << 24;

struct ListenerRt {
    sock: TcpListener,
    /// Frontend index.
    fe: usize,
    registered: bool,
    /// Accepting was held back by maxconn: retry when a session ends.
    held: bool,
    /// `accept-proxy`: read a PROXY protocol header before the session starts.
    accept_proxy: bool,
    /// Held back by `rate-limit sessions` until its timer fires.
    throttled: bool,
}

/// A duration in whole milliseconds, as logs and timers print them (saturating).
fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

/// A wall-clock time kept as unix milliseconds.
fn wall_of(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// A worker ready to run.
pub struct Worker {
    cfg: Arc<Config>,
    poll: Poll,
    rt: Runtime,
    listeners: Vec<ListenerRt>,
    control: UnixStream,
    sessions: Vec<Option<Session>>,
    free: Vec<usize>,
    /// Slots freed during the current event batch; reused only after it, so late events can't hit a new session.
    freed: Vec<usize>,
    pool: Pool,
    /// Pipes for splice(2) (`maxpipes`).
    pipes: crate::transport::PipePool,
    /// Pipes (used, free) last published in the stats segment.
    pipes_shown: (usize, usize),
    timers: Timers,
    next_uid: u64,
    /// Arrival number of the next queued session (orders a server's queue against its backend's).
    queue_seq: u64,
    /// Connections open in this worker (HAProxy's actconn).
    actconn: u32,
    maxconn: u32,
    maxaccept: usize,
    /// Listeners that may have connections waiting (accept limit or maxconn hit).
    accept_pending: Vec<usize>,
    stopping: bool,
    paused: bool,
    rng: u64,
    /// accept() failed for lack of resources: wait for the back-off timer instead of retrying every turn.
    accept_backoff: bool,
    /// Sessions that yielded with work left: driven again on the next turn.
    redrive: Vec<(usize, u64)>,
    /// Idle server connections (`http-reuse`).
    idle: pool::IdlePool,
    /// Owner of each server connection id (see `pool::Owner`), and the free ids.
    conn_owner: Vec<pool::Owner>,
    conn_free: Vec<usize>,
    stats: Option<crate::stats::SlotWriter>,
    /// Admin generation last applied from the segment.
    admin_seen: u64,
    /// Start time (unix seconds), for the stats page.
    started_unix: u64,
    /// The clock, read once per turn of the loop (clock reads are not free on every machine).
    now: Instant,
    /// Wall clock in unix ms, read once per turn (rates and stats timestamps).
    now_ms: u64,
    /// Finished HTTP transactions kept for reuse by the next connections (boxed as sessions hold them, so a
    /// recycled one moves back without reallocating).
    #[allow(clippy::vec_box)]
    txn_pool: Vec<Box<http::Txn>>,
    /// Connections waiting for their PROXY protocol header.
    handshakes: handshake::Handshakes,
    /// HTTP requests seen by this worker (`%rt`, unique ids).
    req_counter: u64,
    /// This host's name (`%H`), read once.
    hostname: String,
    /// This worker's pid (`%pid`, session ids), read once: getpid is a syscall, not for every request.
    pid: u32,
}

impl Worker {
    /// Build the worker's state (opens log sockets; still privileged, still outside the chroot).
    pub fn prepare(setup: Setup) -> io::Result<Worker> {
        let cfg = setup.config;
        let poll = Poll::new()?;
        let logfwd = setup.logfwd;
        let files = move || match logfwd {
            // SAFETY-free: dup the fd so every logger owns its own descriptor.
            Some(fd) => match nix::unistd::dup(fd) {
                // SAFETY: `dup` returned a fresh descriptor that nothing else owns.
                Ok(nfd) => FileSink::Forward(unsafe { UnixDatagram::from_raw_fd(nfd) }),
                Err(_) => FileSink::Discard,
            },
            None => FileSink::Discard,
        };
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
            ^ (std::process::id() as u64) << 32;
        let rt = Runtime::build(&cfg, &files, seed).map_err(io::Error::other)?;
        let mut listeners = Vec::new();
        for l in setup.listeners {
            let Some(fe) = rt.fe_of_proxy.get(l.proxy).copied().flatten() else { continue };
            // SAFETY: the master created this listening socket for this slot and handed its ownership to us.
            let std_l = unsafe { std::net::TcpListener::from_raw_fd(l.fd) };
            std_l.set_nonblocking(true)?;
            let sock = TcpListener::from_std(std_l);
            let accept_proxy = l.accept_proxy;
            listeners.push(ListenerRt { sock, fe, registered: false, held: false, accept_proxy, throttled: false });
        }
        // SAFETY: the control socket's master end stays with the master; this end is ours alone.
        let control = unsafe { std::os::unix::net::UnixStream::from_raw_fd(setup.control) };
        control.set_nonblocking(true)?;
        let mut control = UnixStream::from_std(control);
        poll.registry().register(&mut control, CONTROL, Interest::READABLE)?;
        let maxconn = cfg.global.maxconn_or_default();
        let maxaccept = match cfg.global.maxaccept {
            n if n <= 0 => usize::MAX,
            n => n as usize,
        };
        let pool = Pool::new(cfg.global.bufsize);
        let pipes = crate::transport::PipePool::new(cfg.maxpipes(maxconn) as usize, cfg.global.pipesize);
        Ok(Worker {
            cfg,
            poll,
            rt,
            listeners,
            control,
            sessions: Vec::new(),
            free: Vec::new(),
            freed: Vec::new(),
            pool,
            pipes,
            pipes_shown: (0, 0),
            timers: Timers::default(),
            next_uid: 1,
            queue_seq: 0,
            actconn: 0,
            maxconn,
            maxaccept,
            accept_pending: Vec::new(),
            stopping: false,
            paused: false,
            rng: seed | 1,
            redrive: Vec::new(),
            accept_backoff: false,
            idle: pool::IdlePool::default(),
            conn_owner: Vec::new(),
            conn_free: Vec::new(),
            stats: setup.stats,
            admin_seen: 0,
            started_unix: crate::stats::shm::unix_ms() / 1000,
            now: Instant::now(),
            now_ms: crate::stats::shm::unix_ms(),
            txn_pool: Vec::new(),
            handshakes: handshake::Handshakes::default(),
            req_counter: 0,
            hostname: crate::log::hostname(),
            pid: std::process::id(),
        })
    }

    /// Run the event loop until a soft stop completes or the master goes away. Returns the exit code.
    pub fn run(mut self) -> i32 {
        let code = self.event_loop();
        // The process ends with whatever sessions are left (the master went away): nothing to give back.
        for s in self.sessions.iter_mut().flatten() {
            s.ended = true;
        }
        code
    }

    fn event_loop(&mut self) -> i32 {
        if let Err(e) = self.start_listening() {
            log::error!("worker {}: cannot listen: {e}", std::process::id());
            return 1;
        }
        self.schedule_first_checks();
        self.st_init();
        let mut events = Events::with_capacity(1024);
        loop {
            let now = Instant::now();
            let timeout = if !self.redrive.is_empty() || (!self.accept_pending.is_empty() && self.can_accept_any()) {
                Some(Duration::ZERO)
            } else {
                self.timers.next().map(|t| t.saturating_duration_since(now)).map(|d| d.min(Duration::from_secs(1)))
            };
            if let Err(e) = self.poll.poll(&mut events, timeout.or(Some(Duration::from_secs(1)))) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::error!("worker poll failed: {e}");
                    return 1;
                }
            }
            self.now = Instant::now();
            self.now_ms = crate::stats::shm::unix_ms();
            self.rt.tables.set_now(self.now);
            // Admin changes (socket, any worker's stats page) apply before this turn routes anything.
            self.poll_admin();
            for ev in events.iter() {
                match ev.token() {
                    CONTROL => {
                        if let Some(code) = self.on_control() {
                            return code;
                        }
                    }
                    Token(t) if t >= pool::CONN_BASE => self.on_conn_event(t - pool::CONN_BASE, ev),
                    Token(t) if t >= SESS_BASE => self.on_session_event(t - SESS_BASE, false, ev),
                    Token(t) if t >= HANDSHAKE_BASE => self.on_handshake_event(t - HANDSHAKE_BASE),
                    Token(t) if t >= CHECK_BASE => self.on_check_event(t - CHECK_BASE),
                    Token(t) if t >= LISTENER_BASE => self.accept_on(t - LISTENER_BASE),
                    _ => {}
                }
            }
            self.run_timers(self.now);
            self.purge_idle(self.now);
            for (idx, uid) in std::mem::take(&mut self.redrive) {
                self.redrive_session(idx, uid);
            }
            if !self.accept_pending.is_empty() && self.can_accept_any() {
                let pending = std::mem::take(&mut self.accept_pending);
                for li in pending {
                    self.accept_on(li);
                }
            }
            self.free.append(&mut self.freed);
            self.st_pipes();
            if self.stopping && self.actconn == 0 {
                return 0;
            }
        }
    }

    fn start_listening(&mut self) -> io::Result<()> {
        for li in 0..self.listeners.len() {
            let l = &mut self.listeners[li];
            self.poll.registry().register(&mut l.sock, Token(LISTENER_BASE + li), Interest::READABLE)?;
            l.registered = true;
            // Connections may already wait in the backlog (a respawn or reload takes over a live socket).
            self.accept_pending.push(li);
        }
        Ok(())
    }

    fn stop_listening(&mut self, close: bool) {
        for l in &mut self.listeners {
            if l.registered {
                let _ = self.poll.registry().deregister(&mut l.sock);
                l.registered = false;
            }
        }
        self.accept_pending.clear();
        if close {
            // Dropping our descriptors: the socket lives on in the master and the next generation.
            self.listeners.clear();
        }
    }

    /// Handle bytes from the master; `Some(code)` means exit now.
    fn on_control(&mut self) -> Option<i32> {
        let mut buf = [0u8; 64];
        loop {
            match self.control.read(&mut buf) {
                Ok(0) => return Some(0), // the master is gone: nothing may outlive it
                Ok(n) => {
                    for &b in &buf[..n] {
                        match b {
                            control::SOFT_STOP => self.soft_stop(),
                            control::PAUSE => {
                                self.paused = true;
                                self.stop_listening(false);
                            }
                            control::RESUME if !self.stopping => {
                                self.paused = false;
                                if let Err(e) = self.start_listening() {
                                    log::error!("worker cannot resume listening: {e}");
                                }
                            }
                            control::DUMP => self.dump_servers(),
                            control::SHOW_SESS => self.send_sessions(),
                            _ => {}
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Some(0),
            }
        }
    }

    fn soft_stop(&mut self) {
        if self.stopping {
            return;
        }
        self.stopping = true;
        self.stop_listening(true);
        self.stop_checks();
        if let Some(after) = self.cfg.global.hard_stop_after {
            self.timers.arm(Instant::now() + after, TimerKey::HardStop);
        }
        self.close_idle_http();
    }

    /// Soft stop in HTTP: keep-alive connections waiting for a request are closed now, busy ones after their
    /// current response (as HAProxy does), so an old generation does not linger for `timeout http-keep-alive`.
    fn close_idle_http(&mut self) {
        let now = self.now;
        for idx in 0..self.sessions.len() {
            let Some(mut sess) = self.sessions[idx].take() else { continue };
            let idle = sess.http.as_ref().is_some_and(|h| h.stage() == http::Stage::Request)
                && sess.stream.c2s.is_empty()
                && sess.phase == session::Phase::Request;
            if let Some(h) = sess.http.as_mut() {
                h.client.force_close();
            }
            if idle {
                sess.logged = true;
                self.finish(idx, sess, Term::NORMAL, now);
            } else {
                self.sessions[idx] = Some(sess);
            }
        }
        self.purge_idle(now);
    }

    /// SIGHUP: `Server px/srv is UP. Conn: 0 act, 0 pend, 12 tot.` for every server.
    fn dump_servers(&self) {
        for s in &self.rt.servers {
            let be = &self.rt.backends[s.backend];
            let state = match &s.check {
                _ if s.maint => "MAINT".to_string(),
                Some(c) => c.state.status_text(),
                None => "UP".to_string(),
            };
            be.logger.log(
                Level::Notice,
                &format!(
                    "SIGHUP: Server {}/{} is {}. Conn: {} act, {} pend, {} tot.",
                    be.name, s.name, state, s.cur, 0, s.total
                ),
            );
        }
    }

    /// `rate-limit sessions`: whether frontend `fe` already took its share of new sessions this second.
    fn rate_limited(&mut self, fe: usize) -> bool {
        let second = self.now_ms / 1000;
        let f = &mut self.rt.frontends[fe];
        let Some(limit) = f.rate_limit else { return false };
        if f.rate_second != second {
            f.rate_second = second;
            f.rate_count = 0;
        }
        f.rate_count >= limit
    }

    fn can_accept_any(&self) -> bool {
        !self.stopping && !self.paused && !self.accept_backoff && self.actconn < self.maxconn
    }

    fn accept_on(&mut self, li: usize) {
        // New connections are routed with every admin change written before they came (one atomic load).
        self.poll_admin();
        let mut n = 0;
        loop {
            let Some(l) = self.listeners.get(li) else { return };
            if !l.registered {
                return;
            }
            let fe = l.fe;
            if self.actconn >= self.maxconn || self.rt.frontends[fe].cur >= self.rt.frontends[fe].maxconn {
                // Leave the rest in the kernel backlog; retried when a session ends.
                self.listeners[li].held = true;
                return;
            }
            if self.rate_limited(fe) {
                // `rate-limit sessions`: the rest waits in the kernel's backlog until the next second (one timer
                // per listener, however many connections arrive meanwhile).
                if !self.listeners[li].throttled {
                    self.listeners[li].throttled = true;
                    let next = self.now_ms / 1000 * 1000 + 1000;
                    let wait = Duration::from_millis(next.saturating_sub(self.now_ms).max(1));
                    self.timers.arm(self.now + wait, TimerKey::RateLimit(li));
                }
                return;
            }
            if n >= self.maxaccept {
                // Fairness between listeners: finish this batch on the next turn of the loop.
                if !self.accept_pending.contains(&li) {
                    self.accept_pending.push(li);
                }
                return;
            }
            match self.listeners[li].sock.accept() {
                Ok((sock, peer)) => {
                    n += 1;
                    if let Some(f) = self.rt.frontends.get_mut(fe).filter(|f| f.rate_limit.is_some()) {
                        f.rate_count += 1;
                    }
                    let Some(tracks) = self.connection_allowed(fe, &sock, peer) else { continue };
                    if self.listeners[li].accept_proxy {
                        self.start_handshake(fe, sock, peer, tracks);
                    } else {
                        self.start_session(fe, sock, peer, None, tracks);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted || e.kind() == io::ErrorKind::ConnectionAborted => {}
                // The master paused the socket (shutdown before our PAUSE message arrived): wait for RESUME.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return,
                Err(e) => {
                    // EMFILE/ENFILE/ENOBUFS: back off for a moment rather than spin.
                    log::warn!("accept failed on frontend {}: {e}", self.rt.frontends[fe].name);
                    self.accept_backoff = true;
                    self.timers.arm(self.now + Duration::from_millis(100), TimerKey::AcceptBackoff);
                    if !self.accept_pending.contains(&li) {
                        self.accept_pending.push(li);
                    }
                    return;
                }
            }
        }
    }

    fn run_timers(&mut self, now: Instant) {
        while let Some(key) = self.timers.pop_due(now) {
            match key {
                TimerKey::Session(idx, uid) => self.on_session_timer(idx, uid, now),
                TimerKey::Check(si) => self.on_check_timer(si, now),
                TimerKey::Handshake(idx, uid) => self.on_handshake_timer(idx, uid),
                TimerKey::RateLimit(li) => {
                    if let Some(l) = self.listeners.get_mut(li) {
                        l.throttled = false;
                    }
                    if !self.accept_pending.contains(&li) {
                        self.accept_pending.push(li);
                    }
                }
                TimerKey::AcceptBackoff => self.accept_backoff = false,
                TimerKey::HardStop => {
                    log::warn!("hard-stop-after reached: closing {} sessions", self.actconn);
                    std::process::exit(0);
                }
            }
        }
    }

    /// Wall-clock time of this turn of the loop (from the cached unix ms: no extra clock read).
    fn now_wall(&self) -> SystemTime {
        wall_of(self.now_ms)
    }

    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// The epoll token of session `idx`'s client socket (server sockets have connection tokens, see `pool`).
    fn client_token(idx: usize) -> Token {
        Token(SESS_BASE + idx)
    }
}
