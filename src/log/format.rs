//! Session log line values: the fields of `option tcplog` and `option httplog` lines (1.4 §8.2), HAProxy's
//! default `Connect from` line and the embryonic line of a failed handshake.
//!
//! These return the message only; the syslog header is added by `Logger::log`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::SystemTime;

/// Fields of one `option tcplog` line (HAProxy 1.4 §8.2.2).
#[derive(Debug, Clone)]
pub struct TcpLogFields<'a> {
    /// Client address (`%ci:%cp`).
    pub client: SocketAddr,
    /// When the connection was accepted (printed in local time with milliseconds).
    pub accept_time: SystemTime,
    /// Frontend name.
    pub frontend: &'a str,
    /// Backend name.
    pub backend: &'a str,
    /// Server name, or `<NOSRV>`.
    pub server: &'a str,
    /// Queue wait, connect time, total time in ms; -1 when the phase was not reached.
    pub tw: i64,
    /// Connect time in ms, -1 if the connection was never established.
    pub tc: i64,
    /// Total session time in ms.
    pub tt: i64,
    /// Bytes sent from server to client.
    pub bytes_read: u64,
    /// Termination state, two chars such as `--`, `SC`, `cD`.
    pub term: [u8; 2],
    /// Process-wide active connections when the session ended.
    pub actconn: u32,
    /// Frontend concurrent connections.
    pub feconn: u32,
    /// Backend concurrent connections.
    pub beconn: u32,
    /// Server concurrent connections.
    pub srv_conn: u32,
    /// Connection retries.
    pub retries: u32,
    /// `+` before the retries count when the session was redispatched.
    pub redispatched: bool,
    /// Requests queued in the server's queue before this one.
    pub srv_queue: u32,
    /// Requests queued in the backend's queue before this one.
    pub backend_queue: u32,
}

/// Fields of one `option httplog` line (HAProxy 1.4 §8.2.3).
#[derive(Debug, Clone)]
pub struct HttpLogFields<'a> {
    /// Client address (`%ci:%cp`).
    pub client: SocketAddr,
    /// When the connection (or request, for 2.x `%tr`) was accepted; local time with milliseconds.
    pub accept_time: SystemTime,
    /// Frontend name.
    pub frontend: &'a str,
    /// Backend name.
    pub backend: &'a str,
    /// Server name, `<NOSRV>` or `<STATS>`.
    pub server: &'a str,
    /// Time to receive the full request headers (Tq, or 2.x TR), ms; -1 if never complete.
    pub tq: i64,
    /// Time waiting in queues, ms; -1 if never queued to the end.
    pub tw: i64,
    /// Connect time, ms; -1 if never connected.
    pub tc: i64,
    /// Server response headers time, ms; -1 if no response.
    pub tr: i64,
    /// Total time (Tt, or 2.x Ta), ms.
    pub tt: i64,
    /// HTTP status sent to the client, -1 if none.
    pub status: i32,
    /// Bytes sent to the client, headers included.
    pub bytes_read: u64,
    /// Captured request cookie (`capture cookie`), `None` prints `-`.
    pub request_cookie: Option<&'a str>,
    /// Captured response cookie, `None` prints `-`.
    pub response_cookie: Option<&'a str>,
    /// Termination state, four chars such as `----`, `SC--`, `CDNI`.
    pub term: [u8; 4],
    /// Process-wide active connections.
    pub actconn: u32,
    /// Frontend concurrent connections.
    pub feconn: u32,
    /// Backend concurrent connections.
    pub beconn: u32,
    /// Server concurrent connections.
    pub srv_conn: u32,
    /// Connection retries.
    pub retries: u32,
    /// `+` before the retries count when the session was redispatched.
    pub redispatched: bool,
    /// Requests queued in the server's queue before this one.
    pub srv_queue: u32,
    /// Requests queued in the backend's queue before this one.
    pub backend_queue: u32,
    /// `option logasap`: `+` before Tt and the byte count (logged before the end).
    pub logasap: bool,
    /// Captured request headers, one entry per `capture request header` (values may be empty).
    /// Empty vector = no capture configured: the `{…}` block is omitted entirely.
    pub request_headers: Vec<String>,
    /// Captured response headers, same rules as `request_headers`.
    pub response_headers: Vec<String>,
    /// Raw request line (possibly truncated), or `<BADREQ>`; non-printables and `"`/`#` are written `#XX`.
    pub request_line: &'a [u8],
}

/// Appends `ip:port` the way HAProxy prints `%ci:%cp`: IPv6 addresses bare, without brackets (`::1:8080`).
pub(super) fn write_addr(out: &mut String, a: SocketAddr) {
    let _ = write!(out, "{}:{}", a.ip(), a.port());
}

/// HAProxy's default format, logged at accept: `Connect from IP:PORT to IP:PORT (FRONTEND/MODE)`.
/// IPv6 addresses are printed bare (`::1:8080`), as HAProxy does.
pub fn connect_line(client: SocketAddr, local: SocketAddr, frontend: &str, mode: &str) -> String {
    let mut s = String::with_capacity(64);
    s.push_str("Connect from ");
    write_addr(&mut s, client);
    s.push_str(" to ");
    write_addr(&mut s, local);
    let _ = write!(s, " ({frontend}/{mode})");
    s
}

/// A connection that failed before it became a session (HAProxy's "embryonic" log line):
/// `10.0.1.2:33312 [06/Feb/2009:12:14:14.655] www/10.0.3.31:8012: Received something which does not look like …`.
pub fn embryonic_line(client: SocketAddr, local: SocketAddr, frontend: &str, at: SystemTime, msg: &str) -> String {
    let mut s = String::with_capacity(96);
    write_addr(&mut s, client);
    s.push_str(" [");
    super::time::local_time(at).write_accept_date(&mut s);
    let _ = write!(s, "] {frontend}/");
    write_addr(&mut s, local);
    let _ = write!(s, ": {msg}");
    s
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::time::tests::{force_utc, sample_time};
    use super::*;
    use crate::log::reference::{httplog, tcplog};

    /// The tcplog example of HAPROXY-FACTS §3.1 (shared with the log-format tests).
    pub(in crate::log) fn tcp_sample() -> TcpLogFields<'static> {
        TcpLogFields {
            client: "127.0.0.1:60812".parse().unwrap(),
            accept_time: sample_time(),
            frontend: "tfe",
            backend: "tbe",
            server: "t1",
            tw: 1,
            tc: 0,
            tt: 2003,
            bytes_read: 53,
            term: *b"--",
            actconn: 1,
            feconn: 1,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
        }
    }

    #[test]
    fn tcplog_matches_haproxy_example() {
        force_utc();
        assert_eq!(
            tcplog(&tcp_sample()),
            "127.0.0.1:60812 [25/Nov/2026:15:26:00.636] tfe tbe/t1 1/0/2003 53 -- 1/1/0/0/0 0/0"
        );
    }

    #[test]
    fn tcplog_ipv6_redispatch_and_failures() {
        force_utc();
        let mut f = tcp_sample();
        f.client = "[::1]:4000".parse().unwrap();
        f.server = "<NOSRV>";
        f.tw = -1;
        f.tc = -1;
        f.term = *b"SC";
        f.retries = 3;
        f.redispatched = true;
        f.srv_queue = 2;
        f.backend_queue = 7;
        assert_eq!(tcplog(&f), "::1:4000 [25/Nov/2026:15:26:00.636] tfe tbe/<NOSRV> -1/-1/2003 53 SC 1/1/0/0/+3 2/7");
    }

    /// The httplog example of HAPROXY-FACTS §3.1 (shared with the log-format tests).
    pub(in crate::log) fn http_sample() -> HttpLogFields<'static> {
        HttpLogFields {
            client: "127.0.0.1:40042".parse().unwrap(),
            accept_time: sample_time(),
            frontend: "fe",
            backend: "be",
            server: "web1",
            tq: 0,
            tw: 0,
            tc: 0,
            tr: 301,
            tt: 301,
            status: 200,
            bytes_read: 60,
            request_cookie: None,
            response_cookie: None,
            term: *b"----",
            actconn: 1,
            feconn: 1,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            logasap: false,
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            request_line: b"GET /x HTTP/1.1",
        }
    }

    #[test]
    fn httplog_matches_haproxy_example() {
        force_utc();
        assert_eq!(
            httplog(&http_sample()),
            "127.0.0.1:40042 [25/Nov/2026:15:26:00.636] fe be/web1 0/0/0/301/301 200 60 - - ---- 1/1/0/0/0 0/0 \"GET /x HTTP/1.1\""
        );
    }

    #[test]
    fn httplog_captures_escapes_and_logasap() {
        force_utc();
        let mut f = http_sample();
        f.request_headers = vec!["1wt.eu".into(), "a|b{c}".into()];
        f.response_headers = vec![String::new()];
        f.request_cookie = Some("SID=1");
        f.request_line = b"GET /a\"b#c\x01\xff HTTP/1.1";
        f.logasap = true;
        f.redispatched = true;
        f.retries = 1;
        f.term = *b"SCVI";
        f.status = -1;
        assert_eq!(
            httplog(&f),
            "127.0.0.1:40042 [25/Nov/2026:15:26:00.636] fe be/web1 0/0/0/301/+301 -1 +60 SID=1 - SCVI \
             1/1/0/0/+1 0/0 {1wt.eu|a#7Cb#7Bc#7D} {} \"GET /a#22b#23c#01#FF HTTP/1.1\""
        );
        // Only response captures configured: one block.
        let mut g = http_sample();
        g.response_headers = vec!["text/html".into()];
        assert!(httplog(&g).ends_with("0/0 {text/html} \"GET /x HTTP/1.1\""));
    }

    #[test]
    fn connect_line_formats() {
        assert_eq!(
            connect_line("10.0.1.2:33312".parse().unwrap(), "10.0.3.31:8012".parse().unwrap(), "www", "HTTP"),
            "Connect from 10.0.1.2:33312 to 10.0.3.31:8012 (www/HTTP)"
        );
        assert_eq!(
            connect_line("[::1]:5".parse().unwrap(), "[::ffff:127.0.0.1]:80".parse().unwrap(), "f", "TCP"),
            "Connect from ::1:5 to ::ffff:127.0.0.1:80 (f/TCP)"
        );
    }
}
