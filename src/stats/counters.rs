//! The counter records workers write: [`Counters`] (one per frontend, backend and server in each slot), the
//! per-second [`FreqCtr`], and the state enums stored in them as numbers ([`OpState`], [`AdminState`],
//! [`CheckStatus`]). Every field is an `AtomicU64` updated with `Relaxed` ordering: one writer per slot, readers
//! tolerate a value that is one event behind.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::freq;

/// A per-second event counter (HAProxy's "freq counter") in the shared segment: the current second, its count and
/// the previous second's count, as three atomics (the layout of the segment). Periods are whole seconds of the
/// clock; rotation and rate are [`crate::freq`]'s. One writer (the slot's worker); readers may see a half-updated
/// triple, which only skews a rate for one read.
#[repr(C)]
#[derive(Debug, Default)]
pub struct FreqCtr {
    sec: AtomicU64,
    cur: AtomicU64,
    prev: AtomicU64,
}

impl FreqCtr {
    const PERIOD_MS: u64 = 1000;

    /// The stored triple as a [`freq::Window`].
    fn window(&self) -> freq::Window {
        freq::Window {
            start: self.sec.load(Relaxed).saturating_mul(Self::PERIOD_MS),
            prev: self.prev.load(Relaxed),
            cur: self.cur.load(Relaxed),
        }
    }

    /// Count one event at `now_ms`; returns the rate just after it.
    pub fn inc(&self, now_ms: u64) -> u64 {
        let w = self.window();
        let r = freq::rotate(w, now_ms, Self::PERIOD_MS);
        if r.start != w.start {
            self.prev.store(r.prev, Relaxed);
            self.cur.store(r.cur, Relaxed);
            self.sec.store(r.start / Self::PERIOD_MS, Relaxed);
        }
        self.cur.fetch_add(1, Relaxed);
        self.read(now_ms)
    }

    /// Events over the last second: this second's count plus the previous second's count weighted by the part
    /// of the previous second still inside the one-second window.
    pub fn read(&self, now_ms: u64) -> u64 {
        freq::rate(self.window(), now_ms, Self::PERIOD_MS)
    }

    fn clear(&self) {
        self.sec.store(0, Relaxed);
        self.cur.store(0, Relaxed);
        self.prev.store(0, Relaxed);
    }
}

/// Operational state of a server as one worker sees it (written by that worker's health checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum OpState {
    /// The worker has not reported yet (slot unused, or the server is unknown to it).
    Unknown = 0,
    /// Running, checks passing.
    Up = 1,
    /// Stopped by checks.
    Down = 2,
    /// Running but refusing new load-balanced traffic (HTTP check 404 with `disable-on-404`).
    Nolb = 3,
    /// Running, not checked.
    NoCheck = 4,
}

impl OpState {
    /// Decode a stored value (unknown numbers read as `Unknown`).
    pub fn from_u64(v: u64) -> OpState {
        match v {
            1 => OpState::Up,
            2 => OpState::Down,
            3 => OpState::Nolb,
            4 => OpState::NoCheck,
            _ => OpState::Unknown,
        }
    }
    /// Does this state carry traffic (`UP`, `NOLB` or `no check`)?
    pub fn running(self) -> bool {
        matches!(self, OpState::Up | OpState::Nolb | OpState::NoCheck)
    }
}

/// Administrative state of a server, written by the master (socket or stats page), applied by every worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum AdminState {
    /// Normal operation (`set server … state ready`, `enable server`).
    Ready = 0,
    /// No new load-balanced traffic, existing sessions and persistence continue (`state drain`).
    Drain = 1,
    /// Out of service, checks stopped (`state maint`, `disable server`, config `disabled`).
    Maint = 2,
}

impl AdminState {
    /// Decode a stored value.
    pub fn from_u64(v: u64) -> AdminState {
        match v {
            1 => AdminState::Drain,
            2 => AdminState::Maint,
            _ => AdminState::Ready,
        }
    }
}

/// Result of the last health check, as HAProxy names them (`check_status` CSV column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum CheckStatus {
    /// No check has run.
    Unknown = 0,
    Init = 1,
    SockErr = 2,
    L4Ok = 3,
    L4Tout = 4,
    L4Con = 5,
    L6Ok = 6,
    L6Tout = 7,
    L6Rsp = 8,
    L7Tout = 9,
    L7Rsp = 10,
    L7Ok = 11,
    L7Okc = 12,
    L7Sts = 13,
}

impl CheckStatus {
    /// Decode a stored value.
    pub fn from_u64(v: u64) -> CheckStatus {
        use CheckStatus::*;
        [Unknown, Init, SockErr, L4Ok, L4Tout, L4Con, L6Ok, L6Tout, L6Rsp, L7Tout, L7Rsp, L7Ok, L7Okc, L7Sts]
            .get(v as usize)
            .copied()
            .unwrap_or(Unknown)
    }
    /// The short code printed in CSV and on the page (`L4CON`, `L7OK`, …).
    pub fn code(self) -> &'static str {
        use CheckStatus::*;
        match self {
            Unknown => "UNK",
            Init => "INI",
            SockErr => "SOCKERR",
            L4Ok => "L4OK",
            L4Tout => "L4TOUT",
            L4Con => "L4CON",
            L6Ok => "L6OK",
            L6Tout => "L6TOUT",
            L6Rsp => "L6RSP",
            L7Tout => "L7TOUT",
            L7Rsp => "L7RSP",
            L7Ok => "L7OK",
            L7Okc => "L7OKC",
            L7Sts => "L7STS",
        }
    }
    /// HAProxy's description (`check_desc` column, page tooltip).
    pub fn desc(self) -> &'static str {
        use CheckStatus::*;
        match self {
            Unknown => "Unknown",
            Init => "Initializing",
            SockErr => "Socket error",
            L4Ok => "Layer4 check passed",
            L4Tout => "Layer4 timeout",
            L4Con => "Layer4 connection problem",
            L6Ok => "Layer6 check passed",
            L6Tout => "Layer6 timeout",
            L6Rsp => "Layer6 invalid response",
            L7Tout => "Layer7 timeout",
            L7Rsp => "Layer7 invalid response",
            L7Ok => "Layer7 check passed",
            L7Okc => "Layer7 check conditionally passed",
            L7Sts => "Layer7 wrong status",
        }
    }
    /// Does this status carry an HTTP/protocol code (`check_code` column)?
    pub fn has_code(self) -> bool {
        matches!(self, CheckStatus::L7Ok | CheckStatus::L7Okc | CheckStatus::L7Sts | CheckStatus::L7Rsp)
    }
}

/// One block of counters: a frontend, a backend or a server in one worker slot. Fields that do not apply to the
/// block's kind stay zero. Workers may use the fields directly (all `Relaxed`), or the methods below.
#[repr(C)]
#[derive(Debug, Default)]
pub struct Counters {
    /// Current sessions (`scur`).
    pub cur_sess: AtomicU64,
    /// Highest `cur_sess` seen (`smax`).
    pub max_sess: AtomicU64,
    /// Sessions since start (`stot`).
    pub cum_sess: AtomicU64,
    /// Connections accepted (frontend `conn_tot`) or attempted (server/backend `connect`).
    pub cum_conn: AtomicU64,
    /// Times a server was picked by the balancer (`lbtot`).
    pub cum_lbconn: AtomicU64,
    /// Session rate (`rate`).
    pub sess_rate: FreqCtr,
    /// Highest session rate (`rate_max`).
    pub sess_rate_max: AtomicU64,
    /// Connection rate (frontend `conn_rate`).
    pub conn_rate: FreqCtr,
    /// Highest connection rate.
    pub conn_rate_max: AtomicU64,
    /// HTTP request rate (`req_rate`).
    pub req_rate: FreqCtr,
    /// Highest HTTP request rate.
    pub req_rate_max: AtomicU64,
    /// Bytes from clients (`bin`).
    pub bytes_in: AtomicU64,
    /// Bytes to clients (`bout`).
    pub bytes_out: AtomicU64,
    /// Requests denied by rules (`dreq`).
    pub denied_req: AtomicU64,
    /// Responses denied (`dresp`).
    pub denied_resp: AtomicU64,
    /// Connections refused by `tcp-request connection` rules (`dcon`).
    pub denied_conn: AtomicU64,
    /// Sessions refused by `tcp-request session` rules (`dses`).
    pub denied_sess: AtomicU64,
    /// Request errors (`ereq`).
    pub failed_req: AtomicU64,
    /// Connection errors to servers (`econ`).
    pub failed_conns: AtomicU64,
    /// Response errors (`eresp`).
    pub failed_resp: AtomicU64,
    /// Connection retries (`wretr`).
    pub retries: AtomicU64,
    /// Redispatches (`wredis`).
    pub redispatches: AtomicU64,
    /// Client aborts during data transfer (`cli_abrt`).
    pub cli_aborts: AtomicU64,
    /// Server aborts during data transfer (`srv_abrt`).
    pub srv_aborts: AtomicU64,
    /// Requests queued now (`qcur`).
    pub queue_cur: AtomicU64,
    /// Highest `queue_cur` (`qmax`).
    pub queue_max: AtomicU64,
    /// HTTP requests (`req_tot`).
    pub cum_req: AtomicU64,
    /// HTTP responses by class: 1xx, 2xx, 3xx, 4xx, 5xx, other (`hrsp_*`).
    pub hrsp: [AtomicU64; 6],
    /// Requests answered by nbproxy itself (stats page, monitor-uri, redirects: `intercepted`).
    pub intercepted: AtomicU64,
    /// Unix time (s) of the last session sent to this server/backend, 0 = never (`lastsess`).
    pub last_sess: AtomicU64,
    /// Server: [`OpState`] as this worker sees it.
    pub op_state: AtomicU64,
    /// Server: check health counter, `0..=rise+fall-1` (HAProxy's meaning: UP when `>= rise`).
    pub health: AtomicU64,
    /// Server: last [`CheckStatus`].
    pub check_status: AtomicU64,
    /// Server: last check's L7 code (HTTP status).
    pub check_code: AtomicU64,
    /// Server: last check's duration in ms.
    pub check_duration: AtomicU64,
    /// Server: unix time (s) of the last state change (`lastchg`).
    pub last_change: AtomicU64,
    /// Server: seconds spent DOWN before the current down period (`downtime` adds the running one).
    pub downtime: AtomicU64,
    /// Server: unix time (s) it went DOWN, 0 while not down.
    pub down_since: AtomicU64,
    /// Server: failed checks (`chkfail`).
    pub chk_fail: AtomicU64,
    /// Server: UP→DOWN transitions (`chkdown`).
    pub chk_down: AtomicU64,
}

fn max_into(a: &AtomicU64, v: u64) {
    a.fetch_max(v, Relaxed);
}

impl Counters {
    /// A frontend accepted a connection.
    pub fn conn_accepted(&self, now_ms: u64) {
        self.cum_conn.fetch_add(1, Relaxed);
        max_into(&self.conn_rate_max, self.conn_rate.inc(now_ms));
    }
    /// A session starts on this frontend, backend or server.
    pub fn sess_open(&self, now_ms: u64) {
        let cur = self.cur_sess.fetch_add(1, Relaxed) + 1;
        max_into(&self.max_sess, cur);
        self.cum_sess.fetch_add(1, Relaxed);
        max_into(&self.sess_rate_max, self.sess_rate.inc(now_ms));
        self.last_sess.store(now_ms / 1000, Relaxed);
    }
    /// A session ends (never goes below zero).
    pub fn sess_close(&self) {
        let _ = self.cur_sess.fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
    }
    /// The balancer picked this server (or a server of this backend).
    pub fn lb_pick(&self) {
        self.cum_lbconn.fetch_add(1, Relaxed);
    }
    /// A connection attempt to a server (or through a backend).
    pub fn connect_attempt(&self) {
        self.cum_conn.fetch_add(1, Relaxed);
    }
    /// Bytes received from the client side.
    pub fn add_bytes_in(&self, n: u64) {
        self.bytes_in.fetch_add(n, Relaxed);
    }
    /// Bytes sent to the client side.
    pub fn add_bytes_out(&self, n: u64) {
        self.bytes_out.fetch_add(n, Relaxed);
    }
    /// An HTTP request was parsed.
    pub fn http_request(&self, now_ms: u64) {
        self.cum_req.fetch_add(1, Relaxed);
        max_into(&self.req_rate_max, self.req_rate.inc(now_ms));
    }
    /// An HTTP response with `status` was sent.
    pub fn http_response(&self, status: u16) {
        let i = match status {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            500..=599 => 4,
            _ => 5,
        };
        self.hrsp[i].fetch_add(1, Relaxed);
    }
    /// A request was queued; returns the new queue length.
    pub fn queue_push(&self) -> u64 {
        let q = self.queue_cur.fetch_add(1, Relaxed) + 1;
        max_into(&self.queue_max, q);
        q
    }
    /// A request left the queue.
    pub fn queue_pop(&self) {
        let _ = self.queue_cur.fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
    }
    /// Increment one of the plain counters, e.g. `c.inc(&c.retries)`.
    pub fn inc(&self, field: &AtomicU64) {
        field.fetch_add(1, Relaxed);
    }
    /// Server: record this worker's view of the server after a check or an admin change. Keeps `lastchg`,
    /// `chkdown` and `downtime` as HAProxy does.
    pub fn set_state(&self, op: OpState, health: u32, now_ms: u64) {
        let now = now_ms / 1000;
        let old = OpState::from_u64(self.op_state.swap(op as u64, Relaxed));
        self.health.store(health as u64, Relaxed);
        if old == op {
            return;
        }
        if old != OpState::Unknown || self.last_change.load(Relaxed) == 0 {
            self.last_change.store(now, Relaxed);
        }
        if op == OpState::Down {
            // A server starts UP in HAProxy, so a first report of DOWN is a transition too.
            if old.running() || old == OpState::Unknown {
                self.chk_down.fetch_add(1, Relaxed);
            }
            self.down_since.store(now, Relaxed);
        } else {
            let since = self.down_since.swap(0, Relaxed);
            if since != 0 {
                self.downtime.fetch_add(now.saturating_sub(since), Relaxed);
            }
        }
    }
    /// Server: a health check finished.
    pub fn check_done(&self, status: CheckStatus, code: u16, duration_ms: u64, failed: bool) {
        self.check_status.store(status as u64, Relaxed);
        self.check_code.store(code as u64, Relaxed);
        self.check_duration.store(duration_ms, Relaxed);
        if failed {
            self.chk_fail.fetch_add(1, Relaxed);
        }
    }

    /// The gauges (current sessions, current queue): zeroed when a slot's worker died with sessions open.
    pub(crate) fn zero_gauges(&self) {
        self.cur_sess.store(0, Relaxed);
        self.queue_cur.store(0, Relaxed);
    }

    /// `clear counters`: the max values. With `all`, every counter (HAProxy's `clear counters all`).
    pub(crate) fn clear(&self, all: bool) {
        for m in [&self.max_sess, &self.sess_rate_max, &self.conn_rate_max, &self.req_rate_max, &self.queue_max] {
            m.store(0, Relaxed);
        }
        if all {
            for t in self.totals() {
                t.store(0, Relaxed);
            }
            self.sess_rate.clear();
            self.conn_rate.clear();
            self.req_rate.clear();
            self.chk_fail.store(0, Relaxed);
            self.chk_down.store(0, Relaxed);
        }
    }

    /// Fields that only grow (summed across slots, folded into the retired block).
    pub(crate) fn totals(&self) -> [&AtomicU64; 24] {
        [
            &self.cum_sess,
            &self.cum_conn,
            &self.cum_lbconn,
            &self.bytes_in,
            &self.bytes_out,
            &self.denied_req,
            &self.denied_resp,
            &self.denied_conn,
            &self.denied_sess,
            &self.failed_req,
            &self.failed_conns,
            &self.failed_resp,
            &self.retries,
            &self.redispatches,
            &self.cli_aborts,
            &self.srv_aborts,
            &self.cum_req,
            &self.hrsp[0],
            &self.hrsp[1],
            &self.hrsp[2],
            &self.hrsp[3],
            &self.hrsp[4],
            &self.hrsp[5],
            &self.intercepted,
        ]
    }

    /// Max fields.
    pub(crate) fn maxes(&self) -> [&AtomicU64; 5] {
        [&self.max_sess, &self.sess_rate_max, &self.conn_rate_max, &self.req_rate_max, &self.queue_max]
    }

    /// Fold `other` into `self` (retiring a slot): totals add, maxes max, check history adds.
    pub(crate) fn absorb(&self, other: &Counters) {
        for (a, b) in self.totals().iter().zip(other.totals().iter()) {
            a.fetch_add(b.load(Relaxed), Relaxed);
        }
        for (a, b) in self.maxes().iter().zip(other.maxes().iter()) {
            a.fetch_max(b.load(Relaxed), Relaxed);
        }
        self.chk_fail.fetch_add(other.chk_fail.load(Relaxed), Relaxed);
        self.chk_down.fetch_add(other.chk_down.load(Relaxed), Relaxed);
        self.downtime.fetch_add(other.downtime.load(Relaxed), Relaxed);
        self.last_sess.fetch_max(other.last_sess.load(Relaxed), Relaxed);
    }

    /// Zero every field.
    pub(crate) fn reset(&self) {
        self.clear(true);
        self.zero_gauges();
        for f in [
            &self.last_sess,
            &self.op_state,
            &self.health,
            &self.check_status,
            &self.check_code,
            &self.check_duration,
            &self.last_change,
            &self.downtime,
            &self.down_since,
        ] {
            f.store(0, Relaxed);
        }
    }
}
