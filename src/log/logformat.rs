//! Custom log formats (`log-format`, HAProxy 2.6 configuration §8.2.4) and header/cookie captures.
//!
//! A format string is compiled once by [`LogFormatSpec::parse`] into literal text, separators, variables
//! (`%ci`, `%{+Q}r`, …) and sample expressions (`%[req.hdr(host),lower]`), then rendered per session by
//! [`LogFormatSpec::render`] from a [`LogValues`]. Sans-io: nothing here reads sockets or clocks.
//!
//! Parsing follows HAProxy:
//! - `%%` is a literal `%`; an unknown variable is an error (`no such format variable 'x'`); `%` followed by a
//!   digit, a blank or the end of the string is an error; `%` followed by other punctuation is dropped.
//! - A space is a separator: runs of separators print one space, and none at the start of the line or right
//!   after another separator, so `%sq/%bq %hr %hs %{+Q}r` prints a single space when no header is captured.
//! - `%{flags}` before a variable or `%[expr]` adds (`+`) or removes (`-`) flags, comma-separated: `Q` quote
//!   strings, `X` hexadecimal (IPs, ports, `%Ts`, `%ms`, `%rt`, `%lc`, `%pid`), `E` escape `"`, `\` and `]` with
//!   a backslash (RFC5424 structured data), `M` print `-` for an empty string (on by default). Unknown flag
//!   names are ignored. `%{…}o` sets the default flags of every following variable.
//!
//! Rendering follows HAProxy's `sess_build_logline`: numbers are never quoted; strings print `-` when empty
//! (or `""` when quoted); the request line and its parts (`%r %HM %HU %HP %HPO %HQ %HV`) and captures write
//! bytes below 32 or above 126, `"` and `#` as `#XX` (captures also `{`, `|`, `}`).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::format::{HttpLogFields, TcpLogFields};
use super::time::{local_time, split_epoch, utc_time_secs};
use crate::config::model::{Capture, CaptureKind};

/// `option tcplog` as a format string (HAProxy 2.6 `default_tcp_log_format`).
pub const TCPLOG_FMT: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

/// `option httplog` as a format string (HAProxy 2.6 `default_http_log_format`).
pub const HTTPLOG_FMT: &str =
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";

/// `option httplog clf` as a format string (HAProxy 2.6 `clf_http_log_format`).
pub const CLF_FMT: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc \
                           %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";

/// Per-node flags (`%{+Q,-M}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Opts(u8);

impl Opts {
    /// `M`: an empty string prints `-`.
    const MANDATORY: u8 = 1;
    /// `Q`: strings are quoted.
    const QUOTE: u8 = 2;
    /// `X`: hexadecimal addresses, ports and a few counters.
    const HEX: u8 = 4;
    /// `E`: backslash before `"`, `\` and `]`.
    const ESC: u8 = 8;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// Applies a `{+Q,-X}` argument list.
    fn apply(&mut self, args: &str) {
        for arg in args.split(',') {
            let (add, name) = match arg.as_bytes().first() {
                Some(b'+') => (true, &arg[1..]),
                Some(b'-') => (false, &arg[1..]),
                _ => continue,
            };
            let bit = match name {
                "M" => Opts::MANDATORY,
                "Q" => Opts::QUOTE,
                "X" => Opts::HEX,
                "E" => Opts::ESC,
                _ => continue,
            };
            if add {
                self.0 |= bit;
            } else {
                self.0 &= !bit;
            }
        }
    }
}

/// The `%` variables (HAProxy 2.6 `logformat_keywords`, minus `%o` which is handled at parse time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    ClientIp,
    ClientPort,
    FrontIp,
    FrontPort,
    BackSrcIp,
    BackSrcPort,
    ServerIp,
    ServerPort,
    /// `%t`: accept date, local, with milliseconds.
    AcceptDate,
    /// `%T`: accept date, GMT.
    AcceptDateGmt,
    /// `%Tl`: accept date, local, with offset.
    AcceptDateLocal,
    /// `%tr`: request date, local, with milliseconds.
    RequestDate,
    /// `%trg`.
    RequestDateGmt,
    /// `%trl`.
    RequestDateLocal,
    /// `%Ts`: accept date, epoch seconds.
    Timestamp,
    /// `%ms`: accept date milliseconds.
    Millis,
    Frontend,
    FrontendXprt,
    Backend,
    Server,
    Th,
    Ti,
    TR,
    Tq,
    Tw,
    Tc,
    Tr,
    Td,
    Ta,
    Tt,
    Tu,
    Status,
    BytesOut,
    BytesIn,
    ReqCookie,
    ResCookie,
    Term,
    TermCookie,
    ActConn,
    FeConn,
    BeConn,
    SrvConn,
    Retries,
    ReqCounter,
    SrvQueue,
    BackQueue,
    ReqHeaders,
    ReqHeadersList,
    ResHeaders,
    ResHeadersList,
    Request,
    Method,
    Uri,
    Path,
    PathOnly,
    Query,
    Version,
    Hostname,
    UniqueId,
    Pid,
    LogCounter,
    SslCipher,
    SslVersion,
}

impl Var {
    fn from_name(name: &str) -> Option<Var> {
        Some(match name {
            "ci" => Var::ClientIp,
            "cp" => Var::ClientPort,
            "fi" => Var::FrontIp,
            "fp" => Var::FrontPort,
            "bi" => Var::BackSrcIp,
            "bp" => Var::BackSrcPort,
            "si" => Var::ServerIp,
            "sp" => Var::ServerPort,
            "t" => Var::AcceptDate,
            "T" => Var::AcceptDateGmt,
            "Tl" => Var::AcceptDateLocal,
            "tr" => Var::RequestDate,
            "trg" => Var::RequestDateGmt,
            "trl" => Var::RequestDateLocal,
            "Ts" => Var::Timestamp,
            "ms" => Var::Millis,
            "f" => Var::Frontend,
            "ft" => Var::FrontendXprt,
            "b" => Var::Backend,
            "s" => Var::Server,
            "Th" => Var::Th,
            "Ti" => Var::Ti,
            "TR" => Var::TR,
            "Tq" => Var::Tq,
            "Tw" => Var::Tw,
            "Tc" => Var::Tc,
            "Tr" => Var::Tr,
            "Td" => Var::Td,
            "Ta" => Var::Ta,
            "Tt" => Var::Tt,
            "Tu" => Var::Tu,
            "ST" => Var::Status,
            "B" => Var::BytesOut,
            "U" => Var::BytesIn,
            "CC" => Var::ReqCookie,
            "CS" => Var::ResCookie,
            "ts" => Var::Term,
            "tsc" => Var::TermCookie,
            "ac" => Var::ActConn,
            "fc" => Var::FeConn,
            "bc" => Var::BeConn,
            "sc" => Var::SrvConn,
            "rc" => Var::Retries,
            "rt" => Var::ReqCounter,
            "sq" => Var::SrvQueue,
            "bq" => Var::BackQueue,
            "hr" => Var::ReqHeaders,
            "hrl" => Var::ReqHeadersList,
            "hs" => Var::ResHeaders,
            "hsl" => Var::ResHeadersList,
            "r" => Var::Request,
            "HM" => Var::Method,
            "HU" => Var::Uri,
            "HP" => Var::Path,
            "HPO" => Var::PathOnly,
            "HQ" => Var::Query,
            "HV" => Var::Version,
            "H" => Var::Hostname,
            "ID" => Var::UniqueId,
            "pid" => Var::Pid,
            "lc" => Var::LogCounter,
            "sslc" => Var::SslCipher,
            "sslv" => Var::SslVersion,
            _ => return None,
        })
    }
}

/// One compiled piece of a format string.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    /// One or more spaces.
    Sep,
    Var(Var, Opts),
    /// `%[expr]`: the expression text, rendered through the caller's callback.
    Sample(String, Opts),
}

/// A compiled `log-format` string.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFormatSpec {
    nodes: Vec<Node>,
}

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
    /// The values [`super::tcplog`] prints, so that `TCPLOG_FMT` renders the same line.
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

    /// The values [`super::httplog`] prints (with `Th = Ti = 0`, so `TR = f.tq`, `Ta = Tt = f.tt` and the request
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
    fn tq(&self) -> i64 {
        if self.t_request < 0 {
            -1
        } else {
            self.t_handshake.max(0) + self.t_idle.max(0) + self.t_request
        }
    }

    /// `%Ta` = `Tt - Th - Ti` (only when `Ti` is known, as HAProxy does).
    fn ta(&self) -> i64 {
        self.t_total - if self.t_idle >= 0 { self.t_idle + self.t_handshake } else { 0 }
    }

    /// `%Tu` = `Tt - Ti`.
    fn tu(&self) -> i64 {
        self.t_total - self.t_idle.max(0)
    }

    /// `%Td` = `Tt - (Tq + Tw + Tc + Tr)`: data transfer time after the response headers (HTTP) or after the
    /// connection (TCP); -1 if that point was not reached.
    fn td(&self) -> i64 {
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
    fn request_time(&self) -> SystemTime {
        let off = if self.t_idle >= 0 { self.t_idle + self.t_handshake.max(0) } else { 0 };
        self.accept_time + Duration::from_millis(off.max(0) as u64)
    }
}

impl LogFormatSpec {
    /// Compiles a format string (see the module documentation for the syntax). Errors name the offending
    /// variable or construct, e.g. `no such format variable 'foo'`.
    pub fn parse(fmt: &str) -> Result<LogFormatSpec, String> {
        let b = fmt.as_bytes();
        let mut nodes = Vec::new();
        let mut lit = String::new();
        let mut defaults = Opts(Opts::MANDATORY);
        let mut i = 0;
        let flush = |lit: &mut String, nodes: &mut Vec<Node>| {
            if !lit.is_empty() {
                nodes.push(Node::Text(std::mem::take(lit)));
            }
        };
        while i < b.len() {
            match b[i] {
                b' ' => {
                    flush(&mut lit, &mut nodes);
                    if nodes.last() != Some(&Node::Sep) {
                        nodes.push(Node::Sep);
                    }
                    i += 1;
                    continue;
                }
                b'%' => {}
                _ => {
                    let end = b[i..].iter().position(|&c| c == b' ' || c == b'%').map_or(b.len(), |p| i + p);
                    lit.push_str(&fmt[i..end]);
                    i = end;
                    continue;
                }
            }
            i += 1;
            match b.get(i) {
                None => return Err(format!("truncated line after '%' in '{fmt}'")),
                Some(b'%') => {
                    lit.push('%');
                    i += 1;
                    continue;
                }
                Some(&c) if c.is_ascii_digit() || c == b' ' || c == b'\t' => {
                    return Err(format!(
                        "unexpected variable name near '{}' at position {i} in '{fmt}'. Maybe you want to write a \
                         single '%', use the syntax '%%'",
                        c as char
                    ))
                }
                _ => {}
            }
            let mut opts = defaults;
            let mut args = None;
            if b[i] == b'{' {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'}')
                    .map(|p| i + p)
                    .ok_or_else(|| format!("truncated line after '%{}' in '{fmt}'", &fmt[i + 1..]))?;
                opts.apply(&fmt[i + 1..end]);
                args = Some(&fmt[i + 1..end]);
                i = end + 1;
            }
            if b.get(i) == Some(&b'[') {
                let end = expr_end(b, i + 1).ok_or_else(|| format!("missing ']' after '{}'", &fmt[i + 1..]))?;
                let expr = fmt[i + 1..end].trim();
                if expr.is_empty() {
                    return Err(format!("empty sample expression '%[]' in '{fmt}'"));
                }
                flush(&mut lit, &mut nodes);
                nodes.push(Node::Sample(expr.to_string(), opts));
                i = end + 1;
                continue;
            }
            let start = i;
            let starts_name =
                b.get(i).is_some_and(|c| c.is_ascii_alphabetic() || (args.is_some() && c.is_ascii_alphanumeric()));
            if !starts_name {
                if let Some(a) = args {
                    return Err(format!("parse argument modifier without variable name near '%{{{a}}}' in '{fmt}'"));
                }
                // HAProxy drops a lone '%' followed by punctuation.
                continue;
            }
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let name = &fmt[start..i];
            if name == "o" {
                defaults = opts;
                continue;
            }
            let var = Var::from_name(name).ok_or_else(|| {
                format!(
                    "no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need \
                     to use '%%'"
                )
            })?;
            flush(&mut lit, &mut nodes);
            nodes.push(Node::Var(var, opts));
        }
        flush(&mut lit, &mut nodes);
        Ok(LogFormatSpec { nodes })
    }

    /// The text of every `%[expr]` in order (for validating them against the sample-fetch registry at load).
    pub fn sample_exprs(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().filter_map(|n| match n {
            Node::Sample(e, _) => Some(e.as_str()),
            _ => None,
        })
    }

    /// True if the format has nothing in it (renders an empty line, which HAProxy does not send).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Appends the line for `v` to `out`. `sample` evaluates a `%[expr]` (its text as written, trimmed);
    /// `None` or an empty string prints `-` (`""` when quoted).
    pub fn render(&self, v: &LogValues<'_>, sample: &dyn Fn(&str) -> Option<String>, out: &mut String) {
        let mut last_space = true;
        for n in &self.nodes {
            match n {
                Node::Sep => {
                    if !last_space {
                        out.push(' ');
                        last_space = true;
                    }
                }
                Node::Text(t) => {
                    out.push_str(t);
                    last_space = false;
                }
                Node::Sample(e, o) => {
                    push_text(out, sample(e).as_deref(), *o);
                    last_space = false;
                }
                Node::Var(var, o) => {
                    if render_var(*var, *o, v, out) {
                        last_space = false;
                    }
                }
            }
        }
    }

    /// [`LogFormatSpec::render`] into a new string.
    pub fn render_to_string(&self, v: &LogValues<'_>, sample: &dyn Fn(&str) -> Option<String>) -> String {
        let mut s = String::with_capacity(256);
        self.render(v, sample, &mut s);
        s
    }
}

/// Index of the `]` closing a sample expression that starts at `from` (brackets inside parentheses, i.e.
/// inside fetch or converter arguments, do not count).
fn expr_end(b: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().skip(from) {
        match c {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b']' if depth == 0 => return Some(k),
            _ => {}
        }
    }
    None
}

/// HAProxy's `lf_text_len`: optional quotes, optional `E` escaping, `-` for an empty value when mandatory.
fn push_text(out: &mut String, s: Option<&str>, o: Opts) {
    let quote = o.has(Opts::QUOTE);
    if quote {
        out.push('"');
    }
    match s {
        Some(s) if !s.is_empty() => {
            if o.has(Opts::ESC) {
                for ch in s.chars() {
                    if matches!(ch, '"' | '\\' | ']') {
                        out.push('\\');
                    }
                    out.push(ch);
                }
            } else {
                out.push_str(s);
            }
        }
        _ => {
            if o.has(Opts::MANDATORY) && !quote {
                out.push('-');
            }
        }
    }
    if quote {
        out.push('"');
    }
}

/// HAProxy's `lf_encode_string`: bytes below 32 or above 126, `"`, `#` (and, for captured headers, `{|}`)
/// are written `#XX`; with `E`, `\` and `]` get a backslash.
fn push_encoded(out: &mut String, bytes: &[u8], header: bool, o: Opts) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let esc = o.has(Opts::ESC);
    for &c in bytes {
        if !(32..127).contains(&c) || c == b'"' || c == b'#' || (header && matches!(c, b'{' | b'|' | b'}')) {
            out.push('#');
            out.push(HEX[usize::from(c >> 4)] as char);
            out.push(HEX[usize::from(c & 15)] as char);
        } else {
            if esc && matches!(c, b'\\' | b']') {
                out.push('\\');
            }
            out.push(c as char);
        }
    }
}

/// `push_encoded` between optional quotes (request line parts: no `-` for an empty value).
fn push_quoted_encoded(out: &mut String, bytes: &[u8], o: Opts) {
    let quote = o.has(Opts::QUOTE);
    if quote {
        out.push('"');
    }
    push_encoded(out, bytes, false, o);
    if quote {
        out.push('"');
    }
}

fn push_ip(out: &mut String, a: Option<SocketAddr>, o: Opts) {
    let Some(a) = a else {
        return push_text(out, None, o);
    };
    if o.has(Opts::HEX) {
        match a.ip() {
            IpAddr::V4(ip) => ip.octets().iter().for_each(|b| {
                let _ = write!(out, "{b:02X}");
            }),
            IpAddr::V6(ip) => ip.octets().iter().for_each(|b| {
                let _ = write!(out, "{b:02X}");
            }),
        }
        return;
    }
    let quote = o.has(Opts::QUOTE);
    if quote {
        out.push('"');
    }
    let _ = write!(out, "{}", a.ip());
    if quote {
        out.push('"');
    }
}

fn push_port(out: &mut String, a: Option<SocketAddr>, o: Opts) {
    match a {
        None => push_text(out, None, o),
        Some(a) if o.has(Opts::HEX) => {
            let _ = write!(out, "{:04X}", a.port());
        }
        Some(a) => {
            let _ = write!(out, "{}", a.port());
        }
    }
}

/// `-1`/`N` with an optional `+` prefix.
fn push_num(out: &mut String, v: i64, plus: bool) {
    if plus {
        out.push('+');
    }
    let _ = write!(out, "{v}");
}

/// Unsigned value, `%04X` with `X`.
fn push_hexable(out: &mut String, v: u64, o: Opts) {
    if o.has(Opts::HEX) {
        let _ = write!(out, "{v:04X}");
    } else {
        let _ = write!(out, "{v}");
    }
}

fn push_term(out: &mut String, code: &[u8]) {
    for &c in code {
        out.push(if c.is_ascii_graphic() { c as char } else { '-' });
    }
}

/// The date layouts: `dd/Mon/yyyy:HH:MM:SS.mmm` (local) or `dd/Mon/yyyy:HH:MM:SS +hhmm` (GMT or local).
#[derive(Clone, Copy)]
enum DateKind {
    Millis,
    Gmt,
    LocalOffset,
}

fn push_date(out: &mut String, t: SystemTime, kind: DateKind) {
    match kind {
        DateKind::Millis => local_time(t).write_accept_date(out),
        DateKind::Gmt => utc_time_secs(split_epoch(t).0, 0).write_offset_date(out),
        DateKind::LocalOffset => local_time(t).write_offset_date(out),
    }
}

/// `%hr`/`%hs`: `{a|b}` (quoted with `Q`), nothing at all when no capture is configured.
fn push_capture_block(out: &mut String, values: &[String], o: Opts) -> bool {
    if values.is_empty() {
        return false;
    }
    let quote = o.has(Opts::QUOTE);
    if quote {
        out.push('"');
    }
    out.push('{');
    for (k, v) in values.iter().enumerate() {
        if k > 0 {
            out.push('|');
        }
        push_encoded(out, v.as_bytes(), true, o);
    }
    out.push('}');
    if quote {
        out.push('"');
    }
    true
}

/// `%hrl`/`%hsl`: space-separated values, each quoted with `Q`, an empty one printed `-` (`""` when quoted).
fn push_capture_list(out: &mut String, values: &[String], o: Opts) -> bool {
    if values.is_empty() {
        return false;
    }
    let quote = o.has(Opts::QUOTE);
    for (k, v) in values.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        if quote {
            out.push('"');
        }
        if !v.is_empty() {
            push_encoded(out, v.as_bytes(), true, o);
        } else if !quote {
            out.push('-');
        }
        if quote {
            out.push('"');
        }
    }
    true
}

/// `%CC`/`%CS`: like a string, with the request-line escaping (as `option httplog` prints them).
fn push_cookie(out: &mut String, c: Option<&str>, o: Opts) {
    match c {
        Some(c) if !c.is_empty() => push_quoted_encoded(out, c.as_bytes(), o),
        _ => push_text(out, None, o),
    }
}

const BADREQ: &[u8] = b"<BADREQ>";

fn is_spht(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The parts of a request line HAProxy's `%HM %HU %HP %HPO %HQ %HV` print.
fn request_part(line: Option<&[u8]>, var: Var) -> &[u8] {
    let Some(line) = line else {
        return BADREQ;
    };
    let end = line.len();
    let method_end = line.iter().position(|&c| is_spht(c)).unwrap_or(end);
    if var == Var::Method {
        return if method_end == end { BADREQ } else { &line[..method_end] };
    }
    if var == Var::Query {
        let q = line.iter().position(|&c| c == b'?').unwrap_or(end);
        let qe = line[q..].iter().position(|&c| is_spht(c)).map_or(end, |p| q + p);
        return &line[q..qe];
    }
    let uri_start = line[method_end..].iter().position(|&c| !is_spht(c)).map_or(end, |p| method_end + p);
    if uri_start == method_end {
        return BADREQ;
    }
    let uri_end = line[uri_start..].iter().position(|&c| is_spht(c)).map_or(end, |p| uri_start + p);
    let uri = &line[uri_start..uri_end];
    match var {
        Var::Uri => uri,
        Var::Path | Var::PathOnly => {
            let path = &uri[..uri.iter().position(|&c| c == b'?').unwrap_or(uri.len())];
            if var == Var::Path || path.first() == Some(&b'/') {
                return path;
            }
            // Absolute form: skip `scheme://authority`; other forms (`*`, authority) have no path.
            match path.windows(3).position(|w| w == b"://") {
                Some(p) => {
                    let rest = &path[p + 3..];
                    rest.iter().position(|&c| c == b'/').map_or(&rest[rest.len()..], |s| &rest[s..])
                }
                None => &path[path.len()..],
            }
        }
        _ => {
            let v = line[uri_end..].iter().position(|&c| !is_spht(c)).map_or(end, |p| uri_end + p);
            if v == end {
                b"HTTP/0.9"
            } else {
                &line[v..]
            }
        }
    }
}

/// Renders one variable; false if it printed nothing and must not count as data for separator merging
/// (`%hr`, `%hs`, `%hrl`, `%hsl` without captures).
fn render_var(var: Var, o: Opts, v: &LogValues<'_>, out: &mut String) -> bool {
    match var {
        Var::ClientIp => push_ip(out, v.client, o),
        Var::ClientPort => push_port(out, v.client, o),
        Var::FrontIp => push_ip(out, v.frontend_addr, o),
        Var::FrontPort => push_port(out, v.frontend_addr, o),
        Var::BackSrcIp => push_ip(out, v.backend_src, o),
        Var::BackSrcPort => push_port(out, v.backend_src, o),
        Var::ServerIp => push_ip(out, v.server_addr, o),
        Var::ServerPort => push_port(out, v.server_addr, o),
        Var::AcceptDate => push_date(out, v.accept_time, DateKind::Millis),
        Var::AcceptDateGmt => push_date(out, v.accept_time, DateKind::Gmt),
        Var::AcceptDateLocal => push_date(out, v.accept_time, DateKind::LocalOffset),
        Var::RequestDate => push_date(out, v.request_time(), DateKind::Millis),
        Var::RequestDateGmt => push_date(out, v.request_time(), DateKind::Gmt),
        Var::RequestDateLocal => push_date(out, v.request_time(), DateKind::LocalOffset),
        Var::Timestamp => {
            let secs = split_epoch(v.accept_time).0;
            if o.has(Opts::HEX) {
                let _ = write!(out, "{:04X}", secs as u32);
            } else {
                let _ = write!(out, "{secs}");
            }
        }
        Var::Millis => {
            let ms = split_epoch(v.accept_time).1;
            if o.has(Opts::HEX) {
                let _ = write!(out, "{ms:02X}");
            } else {
                let _ = write!(out, "{ms:03}");
            }
        }
        Var::Frontend => push_text(out, Some(v.frontend), o),
        Var::FrontendXprt => {
            let quote = o.has(Opts::QUOTE);
            if quote {
                out.push('"');
            }
            push_text(out, Some(v.frontend), Opts(o.0 & !(Opts::QUOTE | Opts::MANDATORY)));
            if v.frontend_ssl {
                out.push('~');
            }
            if quote {
                out.push('"');
            }
        }
        Var::Backend => push_text(out, Some(v.backend), o),
        Var::Server => push_text(out, Some(v.server), o),
        Var::Th => push_num(out, v.t_handshake, false),
        Var::Ti => push_num(out, v.t_idle, false),
        Var::TR => push_num(out, v.t_request, false),
        Var::Tq => push_num(out, v.tq(), false),
        Var::Tw => push_num(out, v.t_queue, false),
        Var::Tc => push_num(out, v.t_connect, false),
        Var::Tr => push_num(out, v.t_response, false),
        Var::Td => push_num(out, v.td(), false),
        Var::Ta => push_num(out, v.ta(), v.logasap),
        Var::Tt => push_num(out, v.t_total, v.logasap),
        Var::Tu => push_num(out, v.tu(), v.logasap),
        Var::Status => push_num(out, i64::from(v.status), false),
        Var::BytesOut => {
            if v.logasap {
                out.push('+');
            }
            let _ = write!(out, "{}", v.bytes_out);
        }
        Var::BytesIn => {
            let _ = write!(out, "{}", v.bytes_in);
        }
        Var::ReqCookie => push_cookie(out, v.request_cookie, o),
        Var::ResCookie => push_cookie(out, v.response_cookie, o),
        Var::Term => push_term(out, &v.term[..2]),
        Var::TermCookie => push_term(out, &v.term),
        Var::ActConn => push_num(out, i64::from(v.actconn), false),
        Var::FeConn => push_num(out, i64::from(v.feconn), false),
        Var::BeConn => push_num(out, i64::from(v.beconn), false),
        Var::SrvConn => push_num(out, i64::from(v.srv_conn), false),
        Var::Retries => push_num(out, i64::from(v.retries), v.redispatched),
        Var::ReqCounter => push_hexable(out, v.request_counter, o),
        Var::SrvQueue => push_num(out, i64::from(v.srv_queue), false),
        Var::BackQueue => push_num(out, i64::from(v.backend_queue), false),
        Var::ReqHeaders => return push_capture_block(out, v.request_headers, o),
        Var::ResHeaders => return push_capture_block(out, v.response_headers, o),
        Var::ReqHeadersList => return push_capture_list(out, v.request_headers, o),
        Var::ResHeadersList => return push_capture_list(out, v.response_headers, o),
        Var::Request => push_quoted_encoded(out, v.request_line.unwrap_or(BADREQ), o),
        Var::Method | Var::Uri | Var::Path | Var::PathOnly | Var::Query | Var::Version => {
            push_quoted_encoded(out, request_part(v.request_line, var), o)
        }
        Var::Hostname => push_text(out, Some(v.hostname), o),
        Var::UniqueId => push_text(out, v.unique_id, o),
        Var::Pid => push_hexable(out, u64::from(v.pid), o),
        Var::LogCounter => push_hexable(out, v.log_counter, o),
        Var::SslCipher => push_text(out, v.ssl_cipher, o),
        Var::SslVersion => push_text(out, v.ssl_version, o),
    }
    true
}

/// One declared header capture.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeaderCapture {
    name: String,
    len: usize,
}

/// A proxy's `capture request header`, `capture response header` and `capture cookie` declarations, ready to
/// extract values from parsed headers. The strings produced are what `option httplog` prints inside `{a|b}`
/// and for `%CC`/`%CS` (raw values; escaping happens when the line is rendered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    request: Vec<HeaderCapture>,
    response: Vec<HeaderCapture>,
    /// `capture cookie NAME len N`: NAME is a prefix of the cookie name (`NAME=` for an exact match).
    cookie: Option<HeaderCapture>,
}

impl Captures {
    /// Builds the capture set from a proxy's list, keeping declaration order. Only one cookie capture is
    /// allowed by HAProxy; the first is kept.
    pub fn new(list: &[Capture]) -> Captures {
        let mut c = Captures::default();
        for cap in list {
            let h = HeaderCapture { name: cap.name.clone(), len: cap.len };
            match cap.kind {
                CaptureKind::RequestHeader => c.request.push(h),
                CaptureKind::ResponseHeader => c.response.push(h),
                CaptureKind::Cookie => {
                    if c.cookie.is_none() {
                        c.cookie = Some(h);
                    }
                }
            }
        }
        c
    }

    /// True if nothing is captured at all.
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty() && self.cookie.is_none()
    }

    /// Number of `capture request header` slots.
    pub fn request_slots(&self) -> usize {
        self.request.len()
    }

    /// Number of `capture response header` slots.
    pub fn response_slots(&self) -> usize {
        self.response.len()
    }

    /// True if a `capture cookie` is declared.
    pub fn has_cookie(&self) -> bool {
        self.cookie.is_some()
    }

    /// Fills `out` with one slot per `capture request header`, in declaration order: the value of the last
    /// occurrence of the header (names compared case-insensitively, value trimmed), truncated to `len`
    /// bytes; an empty string when absent. The strings in `out` are reused.
    pub fn capture_request<'h>(&self, headers: impl Iterator<Item = (&'h [u8], &'h [u8])>, out: &mut Vec<String>) {
        capture_headers(&self.request, headers, out);
    }

    /// Same as [`Captures::capture_request`] for `capture response header`.
    pub fn capture_response<'h>(&self, headers: impl Iterator<Item = (&'h [u8], &'h [u8])>, out: &mut Vec<String>) {
        capture_headers(&self.response, headers, out);
    }

    /// `%CC`: the first cookie of the `Cookie:` headers whose name starts with the captured name, as
    /// `NAME=value` truncated to `len` bytes; `None` if absent or no cookie capture is declared.
    pub fn capture_cookie_req<'h>(&self, headers: impl Iterator<Item = (&'h [u8], &'h [u8])>) -> Option<String> {
        let cap = self.cookie.as_ref()?;
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case(b"cookie") {
                continue;
            }
            for pair in value.split(|&c| c == b';') {
                let pair = pair.trim_ascii();
                if !pair.is_empty() && pair.starts_with(cap.name.as_bytes()) {
                    return Some(truncated(pair, cap.len));
                }
            }
        }
        None
    }

    /// `%CS`: the first `Set-Cookie:` header whose cookie (its first `name=value` pair) starts with the
    /// captured name, as `NAME=value` truncated to `len` bytes.
    pub fn capture_cookie_res<'h>(&self, headers: impl Iterator<Item = (&'h [u8], &'h [u8])>) -> Option<String> {
        let cap = self.cookie.as_ref()?;
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case(b"set-cookie") {
                continue;
            }
            let pair = value.split(|&c| c == b';').next().unwrap_or_default().trim_ascii();
            if !pair.is_empty() && pair.starts_with(cap.name.as_bytes()) {
                return Some(truncated(pair, cap.len));
            }
        }
        None
    }
}

/// The first `len` bytes of `v` as a string (invalid UTF-8 replaced).
fn truncated(v: &[u8], len: usize) -> String {
    String::from_utf8_lossy(&v[..v.len().min(len)]).into_owned()
}

fn capture_headers<'h>(
    caps: &[HeaderCapture],
    headers: impl Iterator<Item = (&'h [u8], &'h [u8])>,
    out: &mut Vec<String>,
) {
    out.truncate(caps.len());
    out.iter_mut().for_each(String::clear);
    out.resize_with(caps.len(), String::new);
    if caps.is_empty() {
        return;
    }
    for (name, value) in headers {
        for (slot, cap) in out.iter_mut().zip(caps) {
            if name.eq_ignore_ascii_case(cap.name.as_bytes()) {
                let value = value.trim_ascii();
                slot.clear();
                slot.push_str(&String::from_utf8_lossy(&value[..value.len().min(cap.len)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::format::tests::{http_sample, tcp_sample};
    use super::super::format::{httplog, tcplog};
    use super::super::time::tests::{force_utc, sample_time};
    use super::*;
    use std::cell::RefCell;

    fn no_sample(_: &str) -> Option<String> {
        None
    }

    fn render(fmt: &str, v: &LogValues<'_>) -> String {
        LogFormatSpec::parse(fmt).unwrap_or_else(|e| panic!("{fmt}: {e}")).render_to_string(v, &no_sample)
    }

    const REQ_HDRS: [&str; 2] = ["1wt.eu", ""];

    fn full<'a>(req: &'a [String], res: &'a [String]) -> LogValues<'a> {
        LogValues {
            client: Some("10.0.1.2:33317".parse().unwrap()),
            frontend_addr: Some("10.0.3.31:8012".parse().unwrap()),
            backend_src: Some("192.168.0.1:40000".parse().unwrap()),
            server_addr: Some("[2001:db8::1]:8080".parse().unwrap()),
            frontend: "http-in",
            frontend_ssl: true,
            backend: "static",
            server: "srv1",
            accept_time: sample_time(),
            t_handshake: 1,
            t_idle: 5,
            t_request: 10,
            t_queue: 2,
            t_connect: 30,
            t_response: 69,
            t_total: 120,
            http: true,
            logasap: false,
            status: 200,
            bytes_out: 2750,
            bytes_in: 321,
            term: *b"--NI",
            actconn: 1,
            feconn: 2,
            beconn: 3,
            srv_conn: 4,
            retries: 1,
            redispatched: true,
            srv_queue: 5,
            backend_queue: 6,
            request_headers: req,
            response_headers: res,
            request_cookie: Some("SID=ab#c"),
            response_cookie: None,
            request_line: Some(b"GET /a/b?x=1 HTTP/1.1"),
            unique_id: Some("ID-1"),
            hostname: "lb1",
            pid: 1234,
            request_counter: 77,
            log_counter: 9,
            ssl_cipher: Some("AES-SHA"),
            ssl_version: Some("TLSv1.3"),
        }
    }

    #[test]
    fn every_variable() {
        force_utc();
        let req: Vec<String> = REQ_HDRS.iter().map(|s| s.to_string()).collect();
        let res = vec!["text/html".to_string()];
        let v = full(&req, &res);
        let table: &[(&str, &str)] = &[
            ("ci", "10.0.1.2"),
            ("cp", "33317"),
            ("fi", "10.0.3.31"),
            ("fp", "8012"),
            ("bi", "192.168.0.1"),
            ("bp", "40000"),
            ("si", "2001:db8::1"),
            ("sp", "8080"),
            ("t", "25/Nov/2026:15:26:00.636"),
            ("T", "25/Nov/2026:15:26:00 +0000"),
            ("Tl", "25/Nov/2026:15:26:00 +0000"),
            ("tr", "25/Nov/2026:15:26:00.642"),
            ("trg", "25/Nov/2026:15:26:00 +0000"),
            ("trl", "25/Nov/2026:15:26:00 +0000"),
            ("Ts", "1795620360"),
            ("ms", "636"),
            ("f", "http-in"),
            ("ft", "http-in~"),
            ("b", "static"),
            ("s", "srv1"),
            ("Th", "1"),
            ("Ti", "5"),
            ("TR", "10"),
            ("Tq", "16"),
            ("Tw", "2"),
            ("Tc", "30"),
            ("Tr", "69"),
            ("Td", "3"),
            ("Ta", "114"),
            ("Tt", "120"),
            ("Tu", "115"),
            ("ST", "200"),
            ("B", "2750"),
            ("U", "321"),
            ("CC", "SID=ab#23c"),
            ("CS", "-"),
            ("ts", "--"),
            ("tsc", "--NI"),
            ("ac", "1"),
            ("fc", "2"),
            ("bc", "3"),
            ("sc", "4"),
            ("rc", "+1"),
            ("rt", "77"),
            ("sq", "5"),
            ("bq", "6"),
            ("hr", "{1wt.eu|}"),
            ("hrl", "1wt.eu -"),
            ("hs", "{text/html}"),
            ("hsl", "text/html"),
            ("r", "GET /a/b?x=1 HTTP/1.1"),
            ("HM", "GET"),
            ("HU", "/a/b?x=1"),
            ("HP", "/a/b"),
            ("HPO", "/a/b"),
            ("HQ", "?x=1"),
            ("HV", "HTTP/1.1"),
            ("H", "lb1"),
            ("ID", "ID-1"),
            ("pid", "1234"),
            ("lc", "9"),
            ("sslc", "AES-SHA"),
            ("sslv", "TLSv1.3"),
        ];
        for (name, want) in table {
            assert!(Var::from_name(name).is_some(), "{name}");
            assert_eq!(render(&format!("%{name}"), &v), *want, "%{name}");
            // Braced form and a literal suffix terminate the name the same way.
            assert_eq!(render(&format!("<%{{}}{name}>"), &v), format!("<{want}>"), "%{{}}{name}");
        }
        assert_eq!(table.len(), 63);
    }

    #[test]
    fn tcplog_equivalence() {
        force_utc();
        let spec = LogFormatSpec::parse(TCPLOG_FMT).unwrap();
        let base = TcpLogFields {
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
        };
        let mut failed = base.clone();
        failed.client = "[::1]:4000".parse().unwrap();
        failed.server = "<NOSRV>";
        (failed.tw, failed.tc, failed.term) = (-1, -1, *b"SC");
        (failed.retries, failed.redispatched, failed.srv_queue, failed.backend_queue) = (3, true, 2, 7);
        let mut odd = base.clone();
        (odd.term, odd.bytes_read, odd.tt) = ([b'c', 0], 1 << 40, 0);
        for f in [base, failed, odd] {
            let got = spec.render_to_string(&LogValues::from_tcp(&f), &no_sample);
            assert_eq!(got, tcplog(&f));
        }
        assert_eq!(
            render(TCPLOG_FMT, &LogValues::from_tcp(&tcp_sample())),
            "127.0.0.1:60812 [25/Nov/2026:15:26:00.636] tfe tbe/t1 1/0/2003 53 -- 1/1/0/0/0 0/0"
        );
    }

    #[test]
    fn httplog_equivalence() {
        force_utc();
        let spec = LogFormatSpec::parse(HTTPLOG_FMT).unwrap();
        let plain = http_sample();
        let mut busy = http_sample();
        busy.request_headers = vec!["1wt.eu".into(), "a|b{c}".into()];
        busy.response_headers = vec![String::new()];
        busy.request_cookie = Some("SID=1");
        busy.response_cookie = Some("");
        busy.request_line = b"GET /a\"b#c\x01\xff HTTP/1.1";
        (busy.logasap, busy.redispatched, busy.retries, busy.term, busy.status) = (true, true, 1, *b"SCVI", -1);
        let mut resp_only = http_sample();
        resp_only.response_headers = vec!["text/html".into()];
        let mut bad = http_sample();
        bad.client = "[::1]:5".parse().unwrap();
        bad.server = "<NOSRV>";
        (bad.tq, bad.tw, bad.tc, bad.tr, bad.tt, bad.status) = (-1, -1, -1, -1, 8490, 400);
        bad.request_line = b"<BADREQ>";
        bad.term = *b"CR--";
        let mut req_only = http_sample();
        req_only.request_headers = vec![String::new(), String::new()];
        req_only.response_cookie = Some("S=2; x");
        for f in [&plain, &busy, &resp_only, &bad, &req_only] {
            let got = spec.render_to_string(&LogValues::from_http(f), &no_sample);
            assert_eq!(got, httplog(f));
        }
        assert_eq!(
            spec.render_to_string(&LogValues::from_http(&plain), &no_sample),
            "127.0.0.1:40042 [25/Nov/2026:15:26:00.636] fe be/web1 0/0/0/301/301 200 60 - - ---- 1/1/0/0/0 0/0 \
             \"GET /x HTTP/1.1\""
        );
        // `request_line: None` prints <BADREQ> like httplog given the literal.
        let mut v = LogValues::from_http(&bad);
        v.request_line = None;
        assert_eq!(spec.render_to_string(&v, &no_sample), httplog(&bad));
    }

    #[test]
    fn httplog_equivalence_with_captures() {
        force_utc();
        let caps = Captures::new(&[
            Capture { kind: CaptureKind::RequestHeader, name: "Host".into(), len: 8 },
            Capture { kind: CaptureKind::ResponseHeader, name: "Content-Type".into(), len: 40 },
            Capture { kind: CaptureKind::RequestHeader, name: "X-Nope".into(), len: 8 },
            Capture { kind: CaptureKind::Cookie, name: "SID".into(), len: 10 },
        ]);
        let req: [(&[u8], &[u8]); 2] = [(b"Host", b"www.example.com"), (b"Cookie", b"SID=123; x=1")];
        let res: [(&[u8], &[u8]); 1] = [(b"content-type", b"text/html|x")];
        let mut f = http_sample();
        caps.capture_request(req.iter().copied(), &mut f.request_headers);
        caps.capture_response(res.iter().copied(), &mut f.response_headers);
        let cc = caps.capture_cookie_req(req.iter().copied());
        let cs = caps.capture_cookie_res(res.iter().copied());
        f.request_cookie = cc.as_deref();
        f.response_cookie = cs.as_deref();
        let line = httplog(&f);
        assert!(line.contains(" SID=123 - ---- 1/1/0/0/0 0/0 {www.exam|} {text/html#7Cx} \"GET"), "{line}");
        let got = LogFormatSpec::parse(HTTPLOG_FMT).unwrap().render_to_string(&LogValues::from_http(&f), &no_sample);
        assert_eq!(got, line);
    }

    #[test]
    fn clf_parses_and_quotes_strings_only() {
        // No response capture: `%hsl` prints nothing, the separator before it remains (HAProxy does the same).
        force_utc();
        let req = vec!["h".to_string(), String::new()];
        let v = full(&req, &[]);
        assert_eq!(
            render(CLF_FMT, &v),
            "10.0.1.2 - - [25/Nov/2026:15:26:00 +0000] \"GET /a/b?x=1 HTTP/1.1\" 200 2750 \"\" \"\" 33317 636 \
             \"http-in~\" \"static\" \"srv1\" 10 2 30 69 114 --NI 1 2 3 4 +1 5 6 \"SID=ab#23c\" \"\" \"h\" \"\" "
        );
    }

    #[test]
    fn flags_quote_escape_hex_mandatory() {
        force_utc();
        let mut v = full(&[], &[]);
        assert_eq!(
            render("%{+Q}b %{+Q}ci %{+Q}cp %{+Q}ST %{+Q}r", &v),
            "\"static\" \"10.0.1.2\" 33317 200 \"GET /a/b?x=1 HTTP/1.1\""
        );
        assert_eq!(
            render("%{+X}ci:%{+X}cp %{+X}si %{+X}Ts %{+X}ms %{+X}pid %{+X}rt %{+X}lc %{+X}Tw", &v),
            "0A000102:8225 20010DB8000000000000000000000001 6B06FE08 27C 04D2 004D 0009 2"
        );
        v.unique_id = None;
        assert_eq!(render("[%ID] [%{+Q}ID] [%{-M}ID] [%{+Q,-M}ID]", &v), "[-] [\"\"] [] [\"\"]");
        v.backend = "a\"b\\c]d";
        assert_eq!(render("%b|%{+E}b|%{+Q,+E}b", &v), "a\"b\\c]d|a\\\"b\\\\c\\]d|\"a\\\"b\\\\c\\]d\"");
        v.request_line = Some(b"GET /x]\"\\ HTTP/1.1");
        assert_eq!(render("%r|%{+E}r", &v), "GET /x]#22\\ HTTP/1.1|GET /x\\]#22\\\\ HTTP/1.1");
        // %o sets defaults for the following variables; unknown or sign-less flags are ignored.
        v.backend = "static";
        assert_eq!(render("%f %{+Q}o %b %{-Q}s %f %{+Z,Q}ts", &v), "http-in \"static\" srv1 \"http-in\" --");
        // A separator before a variable that prints nothing stays, as in HAProxy (here: a trailing space).
        assert_eq!(render("%{+Q}ft %{+Q}hr", &v), "\"http-in~\" ");
        let req = vec!["a b".to_string(), String::new()];
        v.request_headers = &req;
        assert_eq!(render("%{+Q}hr %{+Q}hrl %hrl", &v), "\"{a b|}\" \"a b\" \"\" a b -");
        // Numbers are never quoted or escaped.
        assert_eq!(render("%{+Q,+E}Ta %{+Q}B %{+Q}rc", &v), "114 2750 +1");
    }

    #[test]
    fn separators_literals_and_percent() {
        force_utc();
        let v = full(&[], &[]);
        assert_eq!(render("  %b   %s  ", &v), "static srv1 ");
        assert_eq!(render("%hr %hs %hrl %hsl %b", &v), "static");
        assert_eq!(render("%sq/%bq %hr %hs %{+Q}r", &v), "5/6 \"GET /a/b?x=1 HTTP/1.1\"");
        assert_eq!(render("a%%b 100%% %%ci", &v), "a%b 100% %ci");
        assert_eq!(render("%b\t%s", &v), "static\tsrv1");
        assert_eq!(render("%Tw/%Tc:%s.%b-%f", &v), "2/30:srv1.static-http-in");
        assert_eq!(render("x%/y", &v), "x/y");
        assert_eq!(render("é%b€", &v), "éstatic€");
        assert!(LogFormatSpec::parse("").unwrap().is_empty());
        assert_eq!(render("", &v), "");
    }

    #[test]
    fn samples_go_through_the_callback() {
        let v = LogValues::default();
        let seen = RefCell::new(Vec::new());
        let cb = |e: &str| -> Option<String> {
            seen.borrow_mut().push(e.to_string());
            match e {
                "req.hdr(host),lower" => Some("ex.com".into()),
                "src" => Some("1.2.3.4".into()),
                "f(a]b)" => Some("x\"]".into()),
                "empty" => Some(String::new()),
                _ => None,
            }
        };
        let spec =
            LogFormatSpec::parse("%[req.hdr(host),lower] %{+Q}[src] %[none] %{+Q}[none] %{+E}[f(a]b)] %[ empty ]")
                .unwrap();
        assert_eq!(
            spec.sample_exprs().collect::<Vec<_>>(),
            ["req.hdr(host),lower", "src", "none", "none", "f(a]b)", "empty"]
        );
        assert_eq!(spec.render_to_string(&v, &cb), "ex.com \"1.2.3.4\" - \"\" x\\\"\\] -");
        assert_eq!(seen.borrow().len(), 6);
    }

    #[test]
    fn parse_errors() {
        for (fmt, needle) in [
            ("%foo", "'foo'"),
            ("x %rm y", "'rm'"),
            ("%Tx", "'Tx'"),
            ("%{+Q}", "without variable name"),
            ("%{+Q} x", "without variable name"),
            ("%{+Q", "truncated"),
            ("%[src", "missing ']'"),
            ("%[f(a]", "missing ']'"),
            ("%[]", "empty sample"),
            ("%", "truncated"),
            ("abc %", "truncated"),
            ("%1", "unexpected variable name"),
            ("% x", "unexpected variable name"),
        ] {
            let err = LogFormatSpec::parse(fmt).expect_err(fmt);
            assert!(err.contains(needle), "{fmt}: {err}");
        }
        assert!(LogFormatSpec::parse(HTTPLOG_FMT).is_ok());
    }

    #[test]
    fn request_line_parts() {
        let parts = |line: Option<&[u8]>| -> String {
            let v = LogValues { request_line: line, ..LogValues::default() };
            render("%HM|%HU|%HP|%HPO|%{+Q}HQ|%HV", &v)
        };
        assert_eq!(parts(Some(b"GET / HTTP/1.0")), "GET|/|/|/|\"\"|HTTP/1.0");
        assert_eq!(
            parts(Some(b"GET http://ex.com:8080/p/q?z=1&y HTTP/1.1")),
            "GET|http://ex.com:8080/p/q?z=1&y|http://ex.com:8080/p/q|/p/q|\"?z=1&y\"|HTTP/1.1"
        );
        assert_eq!(parts(Some(b"GET http://ex.com HTTP/1.1")), "GET|http://ex.com|http://ex.com||\"\"|HTTP/1.1");
        assert_eq!(parts(Some(b"CONNECT ex.com:443 HTTP/1.1")), "CONNECT|ex.com:443|ex.com:443||\"\"|HTTP/1.1");
        assert_eq!(parts(Some(b"GET /x")), "GET|/x|/x|/x|\"\"|HTTP/0.9");
        assert_eq!(parts(Some(b"GET  /two\t  HTTP/1.1")), "GET|/two|/two|/two|\"\"|HTTP/1.1");
        assert_eq!(parts(Some(b"GET /a\"b?#c HTTP/1.1")), "GET|/a#22b?#23c|/a#22b|/a#22b|\"?#23c\"|HTTP/1.1");
        assert_eq!(parts(Some(b"GET")), "<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|\"\"|<BADREQ>");
        assert_eq!(parts(None), "<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|\"<BADREQ>\"|<BADREQ>");
    }

    #[test]
    fn derived_timers_and_logasap() {
        force_utc();
        let mut v = LogValues { t_queue: 1, t_connect: 5, t_total: 100, ..LogValues::default() };
        assert_eq!(render("%Tq %Ta %Tu %Td %TR", &v), "-1 100 100 94 -1");
        v.http = true;
        assert_eq!(render("%Td", &v), "-1");
        (v.t_request, v.t_response, v.t_idle, v.t_handshake) = (3, 10, 7, 2);
        assert_eq!(render("%Tq %Ta %Tu %Td", &v), "12 91 93 72");
        v.t_idle = -1;
        assert_eq!(render("%Ta %Tu %tr", &v), "100 100 01/Jan/1970:00:00:00.000");
        v.t_idle = 1500;
        assert_eq!(render("%tr %Tl", &v), "01/Jan/1970:00:00:01.502 01/Jan/1970:00:00:00 +0000");
        v.logasap = true;
        v.bytes_out = 7;
        assert_eq!(render("%Ta %Tt %Tu %B %Tw", &v), "+-1402 +100 +-1400 +7 1");
    }

    fn caps() -> Captures {
        Captures::new(&[
            Capture { kind: CaptureKind::RequestHeader, name: "Host".into(), len: 4 },
            Capture { kind: CaptureKind::ResponseHeader, name: "Content-Type".into(), len: 9 },
            Capture { kind: CaptureKind::RequestHeader, name: "User-Agent".into(), len: 20 },
            Capture { kind: CaptureKind::Cookie, name: "SID".into(), len: 6 },
            Capture { kind: CaptureKind::RequestHeader, name: "X-Missing".into(), len: 5 },
            Capture { kind: CaptureKind::Cookie, name: "OTHER".into(), len: 3 },
        ])
    }

    #[test]
    fn header_captures_order_truncation_absence() {
        let c = caps();
        assert_eq!((c.request_slots(), c.response_slots(), c.has_cookie(), c.is_empty()), (3, 1, true, false));
        let hdrs: [(&[u8], &[u8]); 4] =
            [(b"host", b"www.example.com"), (b"User-Agent", b"  curl/8  "), (b"Accept", b"*/*"), (b"HOST", b"second")];
        let mut out = vec!["junk".to_string(); 5];
        c.capture_request(hdrs.iter().copied(), &mut out);
        // Last occurrence wins (HAProxy overwrites the slot on each match), truncated to len, trimmed.
        assert_eq!(out, ["seco", "curl/8", ""]);
        c.capture_request(std::iter::empty(), &mut out);
        assert_eq!(out, ["", "", ""]);
        let res: [(&[u8], &[u8]); 2] = [(b"Server", b"x"), (b"content-type", b"text/html; charset=utf-8")];
        let mut rout = Vec::new();
        c.capture_response(res.iter().copied(), &mut rout);
        assert_eq!(rout, ["text/html"]);
        let none = Captures::new(&[]);
        assert!(none.is_empty());
        let mut empty = vec!["x".to_string()];
        none.capture_request(hdrs.iter().copied(), &mut empty);
        assert!(empty.is_empty());
        assert_eq!(none.capture_cookie_req(hdrs.iter().copied()), None);
        // Non-UTF-8 bytes are replaced.
        let raw: [(&[u8], &[u8]); 1] = [(b"User-Agent", b"a\xffb")];
        c.capture_request(raw.iter().copied(), &mut out);
        assert_eq!(out[1], "a\u{fffd}b");
    }

    #[test]
    fn cookie_captures() {
        let c = caps();
        let req: [(&[u8], &[u8]); 3] =
            [(b"Accept", b"SID=no"), (b"Cookie", b"a=1;  SIDX=abcdefgh ; SID=zz"), (b"cookie", b"SID=late")];
        assert_eq!(c.capture_cookie_req(req.iter().copied()).as_deref(), Some("SIDX=a"));
        let exact = Captures::new(&[Capture { kind: CaptureKind::Cookie, name: "SID=".into(), len: 64 }]);
        assert_eq!(exact.capture_cookie_req(req.iter().copied()).as_deref(), Some("SID=zz"));
        let res: [(&[u8], &[u8]); 3] =
            [(b"Cookie", b"SID=req"), (b"Set-Cookie", b"other=1; SID=no"), (b"set-cookie", b"SID=new; Path=/")];
        assert_eq!(c.capture_cookie_res(res.iter().copied()).as_deref(), Some("SID=ne"));
        assert_eq!(exact.capture_cookie_res(res.iter().copied()).as_deref(), Some("SID=new"));
        let absent: [(&[u8], &[u8]); 1] = [(b"Cookie", b"sid=lower")];
        assert_eq!(c.capture_cookie_req(absent.iter().copied()), None);
        assert_eq!(c.capture_cookie_res(absent.iter().copied()), None);
    }
}
