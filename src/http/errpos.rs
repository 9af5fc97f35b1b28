//! Where a rejected head goes wrong, for `show errors`' "error at position": the parser ([`super::head`]) only
//! says what is wrong; on the rare rejected message this re-scans the head to find the byte.

use super::head::{parse_content_length, HeadError, MAX_HEADERS};

/// Where in `buf` a head rejected with `err` goes wrong, for `show errors`' "error at position": the first byte
/// the grammar does not allow (start line, header names and values, obsolete folding, the header past
/// [`MAX_HEADERS`]), the value of the offending Content-Length or Transfer-Encoding header, or `max_len` for an
/// oversized head. `request` says which start line to expect. Only called on errors, so it may re-scan.
pub fn error_position(buf: &[u8], max_len: usize, err: &HeadError, request: bool) -> usize {
    let window = &buf[..buf.len().min(max_len)];
    match err {
        HeadError::TooLarge => return window.len(),
        HeadError::BadContentLength | HeadError::BadTransferEncoding => {
            if let Some(p) = framing_error_position(window, err) {
                return p;
            }
        }
        _ => {}
    }
    syntax_error_position(window, request)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The first position from `i` whose byte `keep` refuses (`w.len()` if none).
fn skip(w: &[u8], i: usize, keep: impl Fn(u8) -> bool) -> usize {
    i + w.get(i..).map_or(0, |rest| rest.iter().take_while(|&&b| keep(b)).count())
}

/// Header value and reason-phrase text: tabs and visible characters (DEL excluded).
fn is_text(b: u8) -> bool {
    (b == b'\t' || b >= b' ') && b != 0x7f
}

/// Offset just after the line ending at `i` (CRLF or LF), if there is one.
fn eol_at(w: &[u8], i: usize) -> Option<usize> {
    match w.get(i)? {
        b'\n' => Some(i + 1),
        b'\r' if w.get(i + 1) == Some(&b'\n') => Some(i + 2),
        _ => None,
    }
}

/// `HTTP/1.0` or `HTTP/1.1` at `i`: the offset after it, or that of the first wrong byte.
fn version_at(w: &[u8], i: usize) -> Result<usize, usize> {
    for (k, want) in b"HTTP/1.".iter().enumerate() {
        if w.get(i + k) != Some(want) {
            return Err(i + k);
        }
    }
    match w.get(i + 7) {
        Some(b'0' | b'1') => Ok(i + 8),
        _ => Err(i + 7),
    }
}

/// First byte of `w` that breaks the HTTP/1.x head grammar (`w.len()` when it stops early).
fn syntax_error_position(w: &[u8], request: bool) -> usize {
    let mut i = 0;
    if request {
        i = skip(w, i, |b| b == b'\r' || b == b'\n');
        let m = i;
        i = skip(w, i, is_tchar);
        if i == m || w.get(i) != Some(&b' ') {
            return i;
        }
        i += 1;
        let u = i;
        i = skip(w, i, |b| b > b' ' && b != 0x7f);
        if i == u || w.get(i) != Some(&b' ') {
            return i;
        }
        i += 1;
        i = match version_at(w, i) {
            Ok(n) => n,
            Err(p) => return p,
        };
    } else {
        i = match version_at(w, i) {
            Ok(n) => n,
            Err(p) => return p,
        };
        if w.get(i) != Some(&b' ') {
            return i;
        }
        i += 1;
        let code = i;
        while i < w.len() && i < code + 3 && w[i].is_ascii_digit() {
            i += 1;
        }
        if i < code + 3 {
            return i;
        }
        if w[code] == b'0' {
            return code;
        }
        if w.get(i) == Some(&b' ') {
            i += 1;
            i = skip(w, i, is_text);
        }
    }
    i = match eol_at(w, i) {
        Some(n) => n,
        None => return i,
    };
    let mut count = 0;
    loop {
        if i >= w.len() || eol_at(w, i).is_some() {
            return i;
        }
        if w[i] == b' ' || w[i] == b'\t' {
            return i; // obsolete line folding
        }
        count += 1;
        if count > MAX_HEADERS {
            return i;
        }
        let n = i;
        i = skip(w, i, is_tchar);
        if i == n || w.get(i) != Some(&b':') {
            return i;
        }
        i += 1;
        i = skip(w, i, is_text);
        i = match eol_at(w, i) {
            Some(n) => n,
            None => return i,
        };
    }
}

/// Value offset of the Content-Length that is invalid or differs from the first one, or of the last
/// Transfer-Encoding header.
fn framing_error_position(w: &[u8], err: &HeadError) -> Option<usize> {
    let mut i = w.iter().position(|&b| b == b'\n')? + 1;
    let mut first_cl: Option<u64> = None;
    let mut last_te = None;
    while let Some(nl) = w[i..].iter().position(|&b| b == b'\n').map(|p| i + p) {
        let line = &w[i..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = &line[..colon];
            let lead = line[colon + 1..].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
            let value_at = i + colon + 1 + lead;
            if *err == HeadError::BadContentLength && name.eq_ignore_ascii_case(b"content-length") {
                match parse_content_length(&line[colon + 1..]) {
                    Err(_) => return Some(value_at),
                    Ok((n, _)) if first_cl.is_some_and(|f| f != n) => return Some(value_at),
                    Ok((n, _)) => first_cl = first_cl.or(Some(n)),
                }
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                last_te = Some(value_at);
            }
        }
        i = nl + 1;
    }
    last_te.filter(|_| *err == HeadError::BadTransferEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::{parse_request, parse_response, RequestHead, ResponseHead};

    const MAX: usize = 16384 - 1024;

    fn req_err(buf: &[u8]) -> HeadError {
        match parse_request(buf, MAX, &mut RequestHead::default()) {
            Err(e) => e,
            other => panic!("{:?} should fail: {other:?}", String::from_utf8_lossy(buf)),
        }
    }

    #[test]
    fn error_positions_point_at_the_offending_byte() {
        let pos = |buf: &[u8]| error_position(buf, MAX, &req_err(buf), true);
        assert_eq!(pos(b"GET /a b HTTP/1.1\r\n\r\n"), 7, "space in the URI: the version is wrong there");
        assert_eq!(pos(b"G(T / HTTP/1.1\r\n\r\n"), 1);
        assert_eq!(pos(b"GET / HTTP/2.0\r\n\r\n"), 11);
        assert_eq!(pos(b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"), 28);
        assert_eq!(pos(b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 25);
        assert_eq!(pos(b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n"), 20);
        assert_eq!(pos(b"GET / HTTP/1.1\r\nHost: localhost\r\n:empty header\r\n\r\n"), 33);
        let cl = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc";
        assert_eq!(pos(cl), 52);
        let te = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(pos(te), 36);
        let big = vec![b'a'; 100];
        assert_eq!(error_position(&big, 50, &HeadError::TooLarge, true), 50);
        let mut out = ResponseHead::default();
        let bad = b"HTTP/1.1 2x0 OK\r\n\r\n";
        let e = parse_response(bad, MAX, false, &mut out).expect_err("bad status");
        assert_eq!(error_position(bad, MAX, &e, false), 10);
        let bad = b"HTTP/1.1 200 OK\r\nX\x00: y\r\n\r\n";
        let e = parse_response(bad, MAX, false, &mut out).expect_err("bad header");
        assert_eq!(error_position(bad, MAX, &e, false), 18);
    }
}
