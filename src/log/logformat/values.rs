//! [`LogValues`]: everything a log line can print for one session or HTTP transaction, filled by the session
//! (or from the `tcplog`/`httplog` fields), with the timers HAProxy derives from the per-phase ones.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::super::format::{HttpLogFields, TcpLogFields};

/// Everything a log line can print, for one session (or one HTTP transaction).
///
/// Timers are in milliseconds, -1 when the phase was not reached, and are the per-phase values HAProxy
/// documents (§8.4): `Th` handshake, `Ti` idle, `TR` request headers, `Tw` queues, `Tc` connect, `Tr`
/// response headers, `Tt` total. `%Tq`, `%Ta`, `%Tu`, `%Td` and the request date `%tr` are derived from them.
#[derive(Debug, Clone)]
pub struct LogValues<'a> {
    /// Client address (`%ci:%cp`); `None` prints `-`.
    pub client: Option<SocketAddr>,
    /// Address the client connected to (`%fi:%fp`).
    pub frontend_addr: Option<SocketAddr>,
    /// Local address of the server connection (`%bi:%bp`); `None` if no connection was made.
    pub backend_src: Option<SocketAddr>,
    /// Server address (`%si:%sp`); `None` if no server was selected.
    pub server_addr: Option<SocketAddr>,
    /// Frontend name (`%f`, `%ft`).
    pub frontend: &'a str,
    /// The frontend's listener uses TLS: `%ft` appends `~`.
    pub frontend_ssl: bool,
    /// Backend name (`%b`).
    pub backend: &'a str,
    /// Server name (`%s`): `<NOSRV>` or `<STATS>` when no server was used.
    pub server: &'a str,
    /// When the connection was accepted (`%t`, `%T`, `%Tl`, `%Ts`, `%ms`).
    pub accept_time: SystemTime,
    /// `Th`: handshake time (TLS, PROXY protocol).
    pub t_handshake: i64,
    /// `Ti`: idle time before the request's first byte (keep-alive).
    pub t_idle: i64,
    /// `TR`: time to receive the full request headers.
    pub t_request: i64,
    /// `Tw`: time spent in queues.
    pub t_queue: i64,
    /// `Tc`: time to connect to the server.
    pub t_connect: i64,
    /// `Tr`: server response time (headers).
    pub t_response: i64,
    /// `Tt`: total session time, from accept to close.
    pub t_total: i64,
    /// HTTP mode (changes `%Td`'s reference point).
    pub http: bool,
    /// `option logasap`: `%Ta`, `%Tt`, `%Tu` and `%B` get a `+` prefix.
    pub logasap: bool,
    /// Status sent to the client (`%ST`), -1 if none.
    pub status: i32,
    /// Bytes sent to the client (`%B`).
    pub bytes_out: u64,
    /// Bytes received from the client (`%U`).
    pub bytes_in: u64,
    /// Termination state: `%ts` prints the first two bytes, `%tsc` all four (non-printables as `-`).
    pub term: [u8; 4],
    /// `%ac`, `%fc`, `%bc`, `%sc`.
    pub actconn: u32,
    /// Frontend concurrent connections.
    pub feconn: u32,
    /// Backend concurrent connections.
    pub beconn: u32,
    /// Server concurrent connections.
    pub srv_conn: u32,
    /// `%rc`: connection retries.
    pub retries: u32,
    /// `%rc` is prefixed with `+` when the session was redispatched.
    pub redispatched: bool,
    /// `%sq`, `%bq`: queue positions.
    pub srv_queue: u32,
    /// Backend queue position.
    pub backend_queue: u32,
    /// Captured request headers, one slot per `capture request header` (see [`Captures`]); empty slice = no
    /// capture configured, and `%hr`/`%hrl` print nothing at all.
    pub request_headers: &'a [String],
    /// Captured response headers, same rules.
    pub response_headers: &'a [String],
    /// `%CC`: captured request cookie (`NAME=value`); `None` or empty prints `-`.
    pub request_cookie: Option<&'a str>,
    /// `%CS`: captured response cookie.
    pub response_cookie: Option<&'a str>,
    /// The request line as received (possibly truncated); `None` = no valid request, printed `<BADREQ>`.
    /// `%HM %HU %HP %HPO %HQ %HV` are cut from it the way HAProxy does.
    pub request_line: Option<&'a [u8]>,
    /// `%ID`: the unique id (`unique-id-format`); `None` prints `-`.
    pub unique_id: Option<&'a str>,
    /// `%H`: host name.
    pub hostname: &'a str,
    /// `%pid`.
    pub pid: u32,
    /// `%rt`: request counter (HTTP request or TCP session id).
    pub request_counter: u64,
    /// `%lc`: the frontend's log counter.
    pub log_counter: u64,
    /// `%sslc`: client-side TLS cipher; `None` prints `-`.
    pub ssl_cipher: Option<&'a str>,
    /// `%sslv`: client-side TLS version.
    pub ssl_version: Option<&'a str>,
}

impl Default for LogValues<'_> {
    /// Everything empty, zero or "not reached" (-1 timers, status -1, accept time = the epoch, term `----`).
    fn default() -> Self {
        LogValues {
            client: None,
            frontend_addr: None,
            backend_src: None,
            server_addr: None,
            frontend: "",
            frontend_ssl: false,
            backend: "",
            server: "<NOSRV>",
            accept_time: UNIX_EPOCH,
            t_handshake: 0,
            t_idle: 0,
            t_request: -1,
            t_queue: -1,
            t_connect: -1,
            t_response: -1,
            t_total: 0,
            http: false,
            logasap: false,
            status: -1,
            bytes_out: 0,
            bytes_in: 0,
            term: *b"----",
            actconn: 0,
            feconn: 0,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            request_headers: &[],
            response_headers: &[],
            request_cookie: None,
            response_cookie: None,
            request_line: None,
            unique_id: None,
            hostname: "",
            pid: 0,
            request_counter: 0,
            log_counter: 0,
            ssl_cipher: None,
            ssl_version: None,
        }
    }
}

impl<'a> LogValues<'a> {
    /// The values [`super::super::tcplog`] prints, so that `TCPLOG_FMT` renders the same line.
    pub fn from_tcp(f: &TcpLogFields<'a>) -> LogValues<'a> {
        LogValues {
            client: Some(f.client),
            frontend: f.frontend,
            backend: f.backend,
            server: f.server,
            accept_time: f.accept_time,
            t_queue: f.tw,
            t_connect: f.tc,
            t_total: f.tt,
            bytes_out: f.bytes_read,
            term: [f.term[0], f.term[1], b'-', b'-'],
            actconn: f.actconn,
            feconn: f.feconn,
            beconn: f.beconn,
            srv_conn: f.srv_conn,
            retries: f.retries,
            redispatched: f.redispatched,
            srv_queue: f.srv_queue,
            backend_queue: f.backend_queue,
            ..LogValues::default()
        }
    }

    /// The values [`super::super::httplog`] prints (with `Th = Ti = 0`, so `TR = f.tq`, `Ta = Tt = f.tt` and the request
    /// date is the accept date), so that `HTTPLOG_FMT` renders the same line.
    pub fn from_http(f: &'a HttpLogFields<'a>) -> LogValues<'a> {
        LogValues {
            client: Some(f.client),
            frontend: f.frontend,
            backend: f.backend,
            server: f.server,
            accept_time: f.accept_time,
            t_request: f.tq,
            t_queue: f.tw,
            t_connect: f.tc,
            t_response: f.tr,
            t_total: f.tt,
            http: true,
            logasap: f.logasap,
            status: f.status,
            bytes_out: f.bytes_read,
            term: f.term,
            actconn: f.actconn,
            feconn: f.feconn,
            beconn: f.beconn,
            srv_conn: f.srv_conn,
            retries: f.retries,
            redispatched: f.redispatched,
            srv_queue: f.srv_queue,
            backend_queue: f.backend_queue,
            request_headers: &f.request_headers,
            response_headers: &f.response_headers,
            request_cookie: f.request_cookie,
            response_cookie: f.response_cookie,
            request_line: Some(f.request_line),
            ..LogValues::default()
        }
    }

    /// `%Tq` = `Th + Ti + TR`, -1 if the request never completed.
    pub(super) fn tq(&self) -> i64 {
        if self.t_request < 0 {
            -1
        } else {
            self.t_handshake.max(0) + self.t_idle.max(0) + self.t_request
        }
    }

    /// `%Ta` = `Tt - Th - Ti` (only when `Ti` is known, as HAProxy does).
    pub(super) fn ta(&self) -> i64 {
        self.t_total - if self.t_idle >= 0 { self.t_idle + self.t_handshake } else { 0 }
    }

    /// `%Tu` = `Tt - Ti`.
    pub(super) fn tu(&self) -> i64 {
        self.t_total - self.t_idle.max(0)
    }

    /// `%Td` = `Tt - (Tq + Tw + Tc + Tr)`: data transfer time after the response headers (HTTP) or after the
    /// connection (TCP); -1 if that point was not reached.
    pub(super) fn td(&self) -> i64 {
        let base = self.tq().max(0) + self.t_queue.max(0);
        if self.http {
            if self.t_response < 0 || self.t_connect < 0 {
                return -1;
            }
            self.t_total - (base + self.t_connect + self.t_response)
        } else if self.t_connect < 0 {
            -1
        } else {
            self.t_total - (base + self.t_connect)
        }
    }

    /// `%tr`: accept date plus `Th + Ti` (when `Ti` is known).
    pub(super) fn request_time(&self) -> SystemTime {
        let off = if self.t_idle >= 0 { self.t_idle + self.t_handshake.max(0) } else { 0 };
        self.accept_time + Duration::from_millis(off.max(0) as u64)
    }
}
