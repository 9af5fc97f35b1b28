//! How each log-format variable prints (HAProxy's `sess_build_logline` and its `lf_*` helpers): quoting,
//! `#XX` encoding, `-` for empty values, hexadecimal, dates, captures and the request-line parts.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use super::super::time::{local_time, split_epoch, utc_time_secs};

use super::{LogValues, Opts, Var};

/// HAProxy's `lf_text_len`: optional quotes, optional `E` escaping, `-` for an empty value when mandatory.
pub(super) fn push_text(out: &mut String, s: Option<&str>, o: Opts) {
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
pub(super) fn render_var(var: Var, o: Opts, v: &LogValues<'_>, out: &mut String) -> bool {
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
