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
/// the addition of the one `mode` calls for, with HTTP/1.x defaults in mind (as HAProxy 2.6 does):
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
    let value: &[u8] = match (mode, head.version()) {
        (ConnHeader::Close | ConnHeader::KeepAlive, _) if upgrade => b"upgrade",
        (ConnHeader::Close, Version::Http11) => b"close",
        (ConnHeader::KeepAlive, Version::Http10) => b"keep-alive",
        _ => return,
    };
    edits.added.push((b"connection".to_vec(), value.to_vec()));
}
