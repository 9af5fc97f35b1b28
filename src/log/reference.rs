//! The hand-written `option tcplog` and `option httplog` renderers, kept for tests only: workers render every
//! traffic log line through the one log-format engine ([`super::TCPLOG_FMT`], [`super::HTTPLOG_FMT`]), and
//! these check it line for line on HAProxy's examples.

use std::fmt::Write as _;

use super::format::{write_addr, HttpLogFields, TcpLogFields};
use super::time::local_time;

/// `-1`/`N`, with a `+` prefix when `plus`.
fn write_timer(out: &mut String, v: i64, plus: bool) {
    if plus {
        out.push('+');
    }
    let _ = write!(out, "{v}");
}

/// `act/fe/be/srv/[+]retries sq/bq`.
fn write_counters(out: &mut String, c: [u32; 5], redispatched: bool, q: [u32; 2]) {
    let [act, fe, be, srv, retries] = c;
    let [sq, bq] = q;
    let plus = if redispatched { "+" } else { "" };
    let _ = write!(out, "{act}/{fe}/{be}/{srv}/{plus}{retries} {sq}/{bq}");
}

fn push_code(out: &mut String, code: &[u8]) {
    for &b in code {
        out.push(if b.is_ascii_graphic() { b as char } else { '-' });
    }
}

/// Appends `bytes`, writing as `#XX` (upper-case hex) every byte below 32 or above 126, `"`, `#`, and, when
/// `header` is set, also `{`, `|` and `}` (which delimit captures).
fn push_escaped(out: &mut String, bytes: &[u8], header: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        let esc = !(32..127).contains(&b) || b == b'"' || b == b'#' || (header && matches!(b, b'{' | b'|' | b'}'));
        if esc {
            out.push('#');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push(b as char);
        }
    }
}

fn push_capture_block(out: &mut String, values: &[String]) {
    if values.is_empty() {
        return;
    }
    out.push_str(" {");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        push_escaped(out, v.as_bytes(), true);
    }
    out.push('}');
}

/// `option tcplog` line body (without syslog header), written by hand: the reference the compiled
/// [`super::TCPLOG_FMT`] that workers use is checked against.
///
/// `127.0.0.1:60812 [25/Nov/2026:15:26:00.636] tfe tbe/t1 1/0/2003 53 -- 1/1/0/0/0 0/0`
pub fn tcplog(f: &TcpLogFields<'_>) -> String {
    let mut s = String::with_capacity(128);
    write_addr(&mut s, f.client);
    s.push_str(" [");
    local_time(f.accept_time).write_accept_date(&mut s);
    let _ = write!(s, "] {} {}/{} {}/{}/{} {} ", f.frontend, f.backend, f.server, f.tw, f.tc, f.tt, f.bytes_read);
    push_code(&mut s, &f.term);
    s.push(' ');
    write_counters(
        &mut s,
        [f.actconn, f.feconn, f.beconn, f.srv_conn, f.retries],
        f.redispatched,
        [f.srv_queue, f.backend_queue],
    );
    s
}

/// `option httplog` line body (without syslog header), written by hand: the reference the compiled
/// [`super::HTTPLOG_FMT`] that workers use is checked against.
///
/// `127.0.0.1:40042 [25/Nov/2026:15:26:13.347] fe be/web1 0/0/0/301/301 200 60 - - ---- 1/1/0/0/0 0/0 {h1|h2} {} "GET /x HTTP/1.1"`
/// (each `{…}` block only when the corresponding capture list is non-empty).
pub fn httplog(f: &HttpLogFields<'_>) -> String {
    let mut s = String::with_capacity(192 + f.request_line.len());
    write_addr(&mut s, f.client);
    s.push_str(" [");
    local_time(f.accept_time).write_accept_date(&mut s);
    let _ = write!(s, "] {} {}/{} {}/{}/{}/{}/", f.frontend, f.backend, f.server, f.tq, f.tw, f.tc, f.tr);
    write_timer(&mut s, f.tt, f.logasap);
    let _ = write!(s, " {} ", f.status);
    if f.logasap {
        s.push('+');
    }
    let _ = write!(s, "{} ", f.bytes_read);
    for cookie in [f.request_cookie, f.response_cookie] {
        match cookie {
            Some(c) if !c.is_empty() => push_escaped(&mut s, c.as_bytes(), false),
            _ => s.push('-'),
        }
        s.push(' ');
    }
    push_code(&mut s, &f.term);
    s.push(' ');
    write_counters(
        &mut s,
        [f.actconn, f.feconn, f.beconn, f.srv_conn, f.retries],
        f.redispatched,
        [f.srv_queue, f.backend_queue],
    );
    push_capture_block(&mut s, &f.request_headers);
    push_capture_block(&mut s, &f.response_headers);
    s.push_str(" \"");
    push_escaped(&mut s, f.request_line, false);
    s.push('"');
    s
}
