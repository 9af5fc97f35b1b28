//! Serializing a parsed head with its edits applied: the unedited case is one copy, anything else is rebuilt
//! line by line from the original buffer (kept lines are copied, never re-formatted).

use super::head::{find_header, HeadEdits, MessageHead, RequestHead, ResponseHead, Version};

/// What `Connection` header a forwarded message should carry (`option httpclose`, `http-server-close`,
/// keep-alive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnHeader {
    /// The connection closes after this exchange.
    Close,
    /// The connection stays open after this exchange.
    KeepAlive,
    /// Strip the connection headers, add nothing.
    Remove,
    /// Leave the message's headers as they are.
    Keep,
}

/// Writes a request head with `edits` (and the head's own `drop_cl`/`cl_rewrite`) applied, appending to `out`.
pub fn write_request(buf: &[u8], head: &RequestHead, edits: &HeadEdits, out: &mut Vec<u8>) {
    write_head(buf, head, edits, out);
}

/// Writes a response head with `edits` (and the head's own `drop_cl`/`cl_rewrite`) applied, appending to `out`.
pub fn write_response(buf: &[u8], head: &ResponseHead, edits: &HeadEdits, out: &mut Vec<u8>) {
    write_head(buf, head, edits, out);
}

/// Common body of [`write_request`] and [`write_response`]: start line (or `edits.start_line`), the kept headers
/// in order (`replaced` values substituted), `added` headers, the empty line. Without edits and with nothing to
/// drop or normalize, a single copy of the head's bytes.
pub fn write_head<H: MessageHead>(buf: &[u8], head: &H, edits: &HeadEdits, out: &mut Vec<u8>) {
    let start_line = head.start_line();
    if edits.is_empty() && head.verbatim() {
        out.extend_from_slice(&buf[start_line.start..head.head_len()]);
        return;
    }
    match &edits.start_line {
        Some(line) => out.extend_from_slice(line),
        None => out.extend_from_slice(&buf[start_line]),
    }
    out.extend_from_slice(b"\r\n");
    let rewrite = head.cl_rewrite();
    for (i, h) in head.headers().iter().enumerate() {
        if edits.deleted.contains(&i) || head.drop_cl().contains(&i) {
            continue;
        }
        if let Some((_, value)) = edits.replaced.iter().rev().find(|(j, _)| *j == i) {
            push_header(out, &buf[h.name.clone()], value);
        } else if let Some((_, n)) = rewrite.filter(|(j, _)| *j == i) {
            let mut digits = [0u8; 20];
            push_header(out, &buf[h.name.clone()], format_u64(n, &mut digits));
        } else {
            // The original line without its ending (CRLF or bare LF), then CRLF.
            let mut end = h.line.end;
            while end > h.value.end && matches!(buf[end - 1], b'\r' | b'\n') {
                end -= 1;
            }
            out.extend_from_slice(&buf[h.line.start..end]);
            out.extend_from_slice(b"\r\n");
        }
    }
    for (name, value) in &edits.added {
        push_header(out, name, value);
    }
    if let Some(value) = edits.connection {
        push_header(out, b"connection", value);
    }
    out.extend_from_slice(b"\r\n");
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Decimal digits of `n` in `scratch` (no allocation).
fn format_u64(mut n: u64, scratch: &mut [u8; 20]) -> &[u8] {
    let mut i = scratch.len();
    loop {
        i -= 1;
        scratch[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &scratch[i..];
        }
    }
}

/// Records in `edits` the removal of the message's `Connection`, `Proxy-Connection` and `Keep-Alive` headers and
/// the `connection` header `mode` calls for (`edits.connection`, written after every other header), with
/// HTTP/1.x defaults in mind (as HAProxy 2.6 does):
/// - `Close`: `connection: close` on an HTTP/1.1 message; nothing on HTTP/1.0 (close is its default).
/// - `KeepAlive`: `connection: keep-alive` on an HTTP/1.0 message; nothing on HTTP/1.1.
/// - `Remove`: nothing added. `Keep`: no change at all.
///
/// An upgrade (`Connection: upgrade` with an `Upgrade` header) keeps `connection: upgrade` under `Close` and
/// `KeepAlive`: the worker ends the exchange itself if the upgrade is refused.
pub fn set_connection<H: MessageHead>(edits: &mut HeadEdits, head: &H, buf: &[u8], mode: ConnHeader) {
    if mode == ConnHeader::Keep {
        return;
    }
    let headers = head.headers();
    let mut upgrade = false;
    let mut conn = super::head::ConnTokens::default();
    for name in [&b"connection"[..], b"proxy-connection", b"keep-alive"] {
        for i in find_header(buf, headers, name) {
            if name == b"connection" {
                super::head::parse_connection(&buf[headers[i].value.clone()], &mut conn);
            }
            edits.delete(i);
        }
    }
    if conn.upgrade && find_header(buf, headers, b"upgrade").next().is_some() {
        upgrade = true;
    }
    edits.connection = match (mode, head.version()) {
        (ConnHeader::Close | ConnHeader::KeepAlive, _) if upgrade => Some(b"upgrade"),
        (ConnHeader::Close, Version::Http11) => Some(b"close"),
        (ConnHeader::KeepAlive, Version::Http10) => Some(b"keep-alive"),
        _ => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::{parse_request, parse_response, Framing};

    fn parsed(buf: &[u8]) -> RequestHead {
        let mut h = RequestHead::default();
        assert!(parse_request(buf, 15360, &mut h).unwrap().is_some());
        h
    }

    fn written(buf: &[u8], edits: &HeadEdits) -> Vec<u8> {
        let mut out = Vec::new();
        write_request(buf, &parsed(buf), edits, &mut out);
        out
    }

    fn s(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn no_edits_is_identity() {
        for buf in [
            &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Sp:  v \r\n\r\nhello",
            b"GET http://x/ HTTP/1.0\r\n\r\n",
        ] {
            let h = parsed(buf);
            let out = written(buf, &HeadEdits::default());
            assert_eq!(s(&out), s(&buf[..h.len]));
        }
        // Leading empty lines are not forwarded.
        assert_eq!(s(&written(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", &HeadEdits::default())), "GET / HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn delete_replace_add() {
        let buf: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\nX-Del: 1\r\nX-Rep: old\r\nX-Keep:  k \r\n\r\n";
        let edits = HeadEdits {
            start_line: None,
            deleted: vec![1],
            replaced: vec![(2, b"first".to_vec()), (2, b"new".to_vec())],
            added: vec![(b"X-Forwarded-For".to_vec(), b"10.0.0.1".to_vec()), (b"x-b".to_vec(), b"2".to_vec())],
            connection: None,
        };
        assert_eq!(
            s(&written(buf, &edits)),
            "GET /a HTTP/1.1\r\nHost: h\r\nX-Rep: new\r\nX-Keep:  k \r\nX-Forwarded-For: 10.0.0.1\r\nx-b: 2\r\n\r\n"
        );
        let edits = HeadEdits { start_line: Some(b"GET /b?q HTTP/1.1".to_vec()), ..Default::default() };
        assert_eq!(
            s(&written(buf, &edits)),
            "GET /b?q HTTP/1.1\r\nHost: h\r\nX-Del: 1\r\nX-Rep: old\r\nX-Keep:  k \r\n\r\n"
        );
        let mut edits = edits;
        assert!(!edits.is_empty());
        edits.clear();
        assert!(edits.is_empty());
    }

    #[test]
    fn content_length_dropped_or_normalized() {
        let buf: &[u8] = b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(s(&written(buf, &HeadEdits::default())), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        let buf: &[u8] = b"POST / HTTP/1.1\r\nContent-Length: 4\r\nA: b\r\nContent-Length: 4\r\n\r\n";
        assert_eq!(s(&written(buf, &HeadEdits::default())), "POST / HTTP/1.1\r\nContent-Length: 4\r\nA: b\r\n\r\n");
        let buf: &[u8] = b"POST / HTTP/1.1\r\ncontent-length: 4, 4\r\n\r\n";
        assert_eq!(s(&written(buf, &HeadEdits::default())), "POST / HTTP/1.1\r\ncontent-length: 4\r\n\r\n");
        // Same for responses.
        let buf: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n";
        let mut h = ResponseHead::default();
        parse_response(buf, 15360, false, &mut h).unwrap();
        let mut out = Vec::new();
        write_response(buf, &h, &HeadEdits::default(), &mut out);
        assert_eq!(s(&out), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    }

    #[test]
    fn bare_lf_normalized() {
        let buf: &[u8] = b"GET / HTTP/1.1\nHost: a\r\nX: y\n\n";
        assert_eq!(s(&written(buf, &HeadEdits::default())), "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n");
    }

    #[test]
    fn written_head_reparses_the_same() {
        let buf: &[u8] = b"PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc";
        let h = parsed(buf);
        let mut edits = HeadEdits::default();
        set_connection(&mut edits, &h, buf, ConnHeader::Close);
        edits.added.push((b"x-forwarded-for".to_vec(), b"127.0.0.1".to_vec()));
        let mut out = Vec::new();
        write_request(buf, &h, &edits, &mut out);
        let again = parsed(&out);
        assert_eq!(again.framing, Some(Framing::ContentLength(3)));
        assert!(again.conn.close);
        assert_eq!(again.len, out.len());
        assert_eq!(
            s(&out),
            "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nx-forwarded-for: 127.0.0.1\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn connection_header_modes() {
        let buf: &[u8] =
            b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nProxy-Connection: x\r\nA: b\r\n\r\n";
        let h = parsed(buf);
        let run = |mode| {
            let mut e = HeadEdits::default();
            set_connection(&mut e, &h, buf, mode);
            let mut out = Vec::new();
            write_request(buf, &h, &e, &mut out);
            s(&out)
        };
        assert_eq!(run(ConnHeader::Close), "GET / HTTP/1.1\r\nA: b\r\nconnection: close\r\n\r\n");
        assert_eq!(run(ConnHeader::KeepAlive), "GET / HTTP/1.1\r\nA: b\r\n\r\n");
        assert_eq!(run(ConnHeader::Remove), "GET / HTTP/1.1\r\nA: b\r\n\r\n");
        assert_eq!(run(ConnHeader::Keep), s(buf));

        let buf: &[u8] = b"GET / HTTP/1.0\r\nConnection: close\r\n\r\n";
        let h = parsed(buf);
        let mut e = HeadEdits::default();
        set_connection(&mut e, &h, buf, ConnHeader::KeepAlive);
        let mut out = Vec::new();
        write_request(buf, &h, &e, &mut out);
        assert_eq!(s(&out), "GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n");
        let mut e = HeadEdits::default();
        set_connection(&mut e, &h, buf, ConnHeader::Close);
        assert_eq!(e.connection, None, "close is HTTP/1.0's default");

        let buf: &[u8] = b"GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n";
        let h = parsed(buf);
        let mut e = HeadEdits::default();
        set_connection(&mut e, &h, buf, ConnHeader::Close);
        set_connection(&mut e, &h, buf, ConnHeader::Keep);
        assert!(e.added.is_empty());
        let mut out = Vec::new();
        write_request(buf, &h, &e, &mut out);
        assert_eq!(s(&out), "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nconnection: upgrade\r\n\r\n");
    }

    #[test]
    fn format_u64_digits() {
        let mut d = [0u8; 20];
        assert_eq!(format_u64(0, &mut d), b"0");
        assert_eq!(format_u64(u64::MAX, &mut d), b"18446744073709551615");
    }
}
