//! Head parsing: what is accepted, what is refused and why, and the framing each head gets.
use super::*;
use crate::http::body::BodyTracker;

const MAX: usize = 16384 - 1024;

fn req(buf: &[u8]) -> Result<Option<RequestHead>, HeadError> {
    let mut out = RequestHead::default();
    Ok(parse_request(buf, MAX, &mut out)?.map(|len| {
        assert_eq!(len, out.len);
        out
    }))
}

fn res(buf: &[u8], head: bool) -> Result<Option<ResponseHead>, HeadError> {
    let mut out = ResponseHead::default();
    Ok(parse_response(buf, MAX, head, &mut out)?.map(|_| out))
}

fn req_ok(buf: &[u8]) -> RequestHead {
    match req(buf) {
        Ok(Some(h)) => h,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn req_err(buf: &[u8]) -> HeadError {
    match req(buf) {
        Err(e) => e,
        other => panic!("{:?} should fail: {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn value<'a>(buf: &'a [u8], head: &RequestHead, name: &str) -> Option<&'a [u8]> {
    find_header(buf, &head.headers, name.as_bytes()).next().map(|i| header(buf, &head.headers[i]).1)
}

/// Valid requests: (message, head length).
const CORPUS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /x?y=1&z HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
    b"\r\nGET / HTTP/1.1\r\nX-Empty:\r\nX-Sp:   v  w \t\r\n\r\n",
    b"GET / HTTP/1.1\nHost: a\nAccept: */*\n\n",
    b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    b"PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"OPTIONS * HTTP/1.1\r\n\r\n",
    b"GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
];

#[test]
fn corpus_every_split() {
    for msg in CORPUS {
        let full = req_ok(msg);
        for k in 0..full.len {
            assert!(matches!(req(&msg[..k]), Ok(None)), "{:?} cut at {k}", String::from_utf8_lossy(msg));
        }
        // Complete at exactly its length, and the same result whatever follows.
        let at = req_ok(&msg[..full.len]);
        let mut longer = msg.to_vec();
        longer.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
        let after = req_ok(&longer);
        for h in [&at, &after] {
            assert_eq!(h.len, full.len);
            assert_eq!(h.headers, full.headers);
            assert_eq!(h.framing, full.framing);
            assert_eq!(h.conn, full.conn);
            assert_eq!((&h.method, &h.uri, h.version), (&full.method, &full.uri, full.version));
        }
    }
}

#[test]
fn corpus_fields() {
    let b = CORPUS[0];
    let h = req_ok(b);
    assert_eq!((h.method(b), h.uri(b), h.version), (&b"GET"[..], &b"/"[..], Version::Http11));
    assert_eq!(h.framing, Some(Framing::None));
    assert_eq!(h.conn, ConnInfo::default());
    assert_eq!(&b[h.start_line.clone()], b"GET / HTTP/1.1");
    assert_eq!(header(b, &h.headers[0]), (&b"Host"[..], &b"a"[..]));
    assert_eq!(&b[h.headers[0].line.clone()], b"Host: a\r\n");

    let b = CORPUS[1];
    let h = req_ok(b);
    assert_eq!(h.version, Version::Http10);
    assert!(!h.conn.close && h.conn.keep_alive);

    let b = CORPUS[2];
    let h = req_ok(b);
    assert_eq!(h.framing, Some(Framing::ContentLength(5)));
    assert_eq!(&b[h.len..], b"hello");

    assert_eq!(req_ok(CORPUS[3]).framing, Some(Framing::Chunked));

    let b = CORPUS[4];
    let h = req_ok(b);
    assert_eq!(h.method, 2..5);
    assert_eq!(&b[h.start_line.clone()], b"GET / HTTP/1.1");
    assert_eq!(value(b, &h, "x-empty"), Some(&b""[..]));
    assert_eq!(value(b, &h, "X-SP"), Some(&b"v  w"[..]));
    assert!(!h.bare_lf);

    let b = CORPUS[5];
    let h = req_ok(b);
    assert!(h.bare_lf);
    assert_eq!(value(b, &h, "accept"), Some(&b"*/*"[..]));
    assert_eq!(&b[h.headers[0].line.clone()], b"Host: a\n");

    let h = req_ok(CORPUS[6]);
    assert!(h.conn.upgrade && h.conn.keep_alive && !h.conn.close);

    let h = req_ok(CORPUS[7]);
    assert!(h.conn.expect_continue);
    assert_eq!(h.framing, Some(Framing::ContentLength(3)));

    let b = CORPUS[9];
    let h = req_ok(b);
    assert_eq!(h.uri(b), b"http://a.example/x");
    assert_eq!(value(b, &h, "x-obs"), Some("café".as_bytes()));
}

#[test]
fn connection_modes() {
    let h = req_ok(b"GET / HTTP/1.0\r\n\r\n");
    assert!(h.conn.close, "HTTP/1.0 defaults to close");
    let h = req_ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    assert!(!h.conn.close && h.conn.keep_alive);
    let h = req_ok(b"GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n");
    assert!(h.conn.close);
    let h = req_ok(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n");
    assert!(h.conn.close && h.conn.keep_alive, "close wins over keep-alive");
    let h = req_ok(b"GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n");
    assert!(!h.conn.upgrade, "no Upgrade header");
    let h = req_ok(b"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
    assert!(!h.conn.expect_continue, "1.0 clients cannot expect 100-continue");
    let mut acc = ConnTokens::default();
    parse_connection(b" keep-alive ,,Upgrade,\tTE", &mut acc);
    assert_eq!(acc, ConnTokens { close: false, keep_alive: true, upgrade: true });
    assert_eq!(tokens(b" a, b ,,c").collect::<Vec<_>>(), vec![&b"a"[..], b"b", b"c"]);
}

#[test]
fn find_header_is_case_insensitive() {
    let b: &[u8] = b"GET / HTTP/1.1\r\nX-A: 1\r\nx-b: 2\r\nX-a: 3\r\n\r\n";
    let h = req_ok(b);
    assert_eq!(find_header(b, &h.headers, b"x-A").collect::<Vec<_>>(), vec![0, 2]);
    assert_eq!(find_header(b, &h.headers, b"nope").count(), 0);
}

#[test]
fn cl_and_te_drops_cl() {
    let b: &[u8] = b"POST / HTTP/1.1\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n";
    let h = req_ok(b);
    assert_eq!(h.framing, Some(Framing::Chunked));
    assert!(h.conn.cl_and_te);
    assert_eq!(h.drop_cl, vec![0]);
    // Order does not matter; two identical CLs are both dropped.
    let b: &[u8] = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n";
    let h = req_ok(b);
    assert_eq!(h.drop_cl, vec![1, 2]);
    assert_eq!(h.cl_rewrite, None);
}

#[test]
fn content_length_rules() {
    let h = req_ok(b"POST / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n");
    assert_eq!(h.framing, Some(Framing::ContentLength(7)));
    assert_eq!(h.drop_cl, vec![1], "identical duplicate kept once");
    let h = req_ok(b"POST / HTTP/1.1\r\nContent-Length: 7 , 7\r\n\r\n");
    assert_eq!((h.framing, h.cl_rewrite), (Some(Framing::ContentLength(7)), Some((0, 7))));
    let h = req_ok(b"POST / HTTP/1.1\r\nContent-Length: 0007\r\n\r\n");
    assert_eq!(h.framing, Some(Framing::ContentLength(7)));
    for bad in [
        &b"POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nContent-Length: 7, 8\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 7,\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    ] {
        assert_eq!(req_err(bad), HeadError::BadContentLength, "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn transfer_encoding_rules() {
    let h = req_ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n");
    assert_eq!(h.framing, Some(Framing::Chunked));
    let h = req_ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(h.framing, Some(Framing::Chunked));
    for bad in [
        &b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
    ] {
        assert_eq!(req_err(bad), HeadError::BadTransferEncoding, "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn malformed_requests() {
    for bad in [
        // obsolete line folding
        &b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n",
        b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        // invalid header names
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nX(y): z\r\n\r\n",
        b"GET / HTTP/1.1\r\nX\x01: z\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\n: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        // request line
        b"GET /\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.2\r\n\r\n",
        b"GET /a b HTTP/1.1\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b"GET / http/1.1\r\n\r\n",
        // control characters in values
        b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n",
    ] {
        assert!(matches!(req_err(bad), HeadError::Malformed(_)), "{:?}: {:?}", String::from_utf8_lossy(bad), req(bad));
    }
}

#[test]
fn header_block_over_max_len() {
    let mut big = b"GET / HTTP/1.1\r\n".to_vec();
    while big.len() < 20000 {
        big.extend_from_slice(b"X-Filler: ");
        big.extend_from_slice(&[b'v'; 500]);
        big.extend_from_slice(b"\r\n");
    }
    let mut out = RequestHead::default();
    // Incomplete and already max_len bytes long: no chance to ever fit.
    assert_eq!(parse_request(&big, MAX, &mut out), Err(HeadError::TooLarge));
    assert_eq!(parse_request(&big[..MAX], MAX, &mut out), Err(HeadError::TooLarge));
    assert_eq!(parse_request(&big[..MAX - 1], MAX, &mut out), Ok(None));
    // A complete head longer than max_len is refused too.
    big.truncate(MAX + 100);
    big.extend_from_slice(b"\r\n\r\n");
    assert_eq!(parse_request(&big, MAX, &mut out), Err(HeadError::TooLarge));
    // A head of exactly max_len bytes fits.
    let exact = b"GET / HTTP/1.1\r\nX: yyyy\r\n\r\n";
    assert_eq!(parse_request(exact, exact.len(), &mut out), Ok(Some(exact.len())));
    assert_eq!(parse_request(&exact[..exact.len() - 1], exact.len() - 1, &mut out), Err(HeadError::TooLarge));
}

#[test]
fn too_many_headers() {
    let mut b = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..MAX_HEADERS {
        b.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    let mut ok = b.clone();
    ok.extend_from_slice(b"\r\n");
    assert_eq!(req_ok(&ok).headers.len(), MAX_HEADERS);
    b.extend_from_slice(b"X-last: v\r\n\r\n");
    assert_eq!(req_err(&b), HeadError::TooManyHeaders);
}

#[test]
fn reuses_header_vector() {
    let mut out = RequestHead::default();
    let big: &[u8] = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n";
    parse_request(big, MAX, &mut out).expect("parses");
    let (ptr, cap) = (out.headers.as_ptr(), out.headers.capacity());
    parse_request(b"GET / HTTP/1.1\r\nA: 1\r\n\r\n", MAX, &mut out).expect("parses");
    assert_eq!((out.headers.as_ptr(), out.headers.capacity(), out.headers.len()), (ptr, cap, 1));
}

#[test]
fn pipelined_requests() {
    let buf: &[u8] = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n\r\n\
        POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\nGET /d HTTP/1.1\r\n\r\n";
    let mut at = 0;
    let mut uris = Vec::new();
    let mut out = RequestHead::default();
    while at < buf.len() {
        let len = parse_request(&buf[at..], MAX, &mut out).expect("parses").expect("complete");
        uris.push(String::from_utf8_lossy(out.uri(&buf[at..])).into_owned());
        at += len;
        let mut body = BodyTracker::new(out.framing.expect("framing"));
        at += body.advance(&buf[at..]).expect("parses");
        assert!(body.is_done());
    }
    assert_eq!(uris, ["/a", "/b", "/c", "/d"]);
    assert_eq!(at, buf.len());
}

fn res_ok(buf: &[u8], head: bool) -> ResponseHead {
    match res(buf, head) {
        Ok(Some(h)) => h,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
    }
}

#[test]
fn response_framing() {
    let f = |b: &[u8], head: bool| res_ok(b, head).framing.expect("parses");
    assert_eq!(f(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", false), Framing::ContentLength(12));
    assert_eq!(f(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", true), Framing::None);
    assert_eq!(f(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true), Framing::None);
    assert_eq!(f(b"HTTP/1.1 204 No Content\r\nContent-Length: 12\r\n\r\n", false), Framing::None);
    assert_eq!(f(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n", false), Framing::None);
    assert_eq!(f(b"HTTP/1.1 100 Continue\r\n\r\n", false), Framing::None);
    assert_eq!(f(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n", false), Framing::None);
    assert_eq!(f(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false), Framing::Chunked);
    assert_eq!(f(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false), Framing::UntilClose);
    assert_eq!(f(b"HTTP/1.0 200 OK\r\n\r\n", false), Framing::UntilClose);
    let h = res_ok(b"HTTP/1.1 200 OK\r\n\r\n", false);
    assert_eq!(h.framing, Some(Framing::UntilClose));
    assert!(h.conn.close, "an until-close body ends the connection");
    let b: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
    let h = res_ok(b, false);
    assert_eq!((h.framing, h.conn.cl_and_te, h.drop_cl.as_slice()), (Some(Framing::Chunked), true, &[0][..]));
    assert_eq!(
        res(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false).unwrap_err(),
        HeadError::BadContentLength
    );
}

#[test]
fn response_status_line() {
    let b: &[u8] = b"HTTP/1.1 404 Not Found Here\r\nServer: x\r\n\r\n";
    let h = res_ok(b, false);
    assert_eq!((h.status, h.reason(b), h.version), (404, &b"Not Found Here"[..], Version::Http11));
    assert_eq!(&b[h.start_line.clone()], b"HTTP/1.1 404 Not Found Here");
    let b: &[u8] = b"HTTP/1.0 200\r\n\r\n";
    let h = res_ok(b, false);
    assert_eq!((h.status, h.reason(b), h.version, h.conn.close), (200, &b""[..], Version::Http10, true));
    let b: &[u8] = b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
    for k in 0..b.len() {
        assert!(matches!(res(&b[..k], false), Ok(None)), "cut at {k}");
    }
    assert_eq!(res_ok(b, false).len, b.len());
    for bad in [
        &b"HTTP/1.1 099 Low\r\n\r\n"[..],
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
    ] {
        assert!(matches!(res(bad, false), Err(HeadError::Malformed(_))), "{:?}", String::from_utf8_lossy(bad));
    }
    let mut out = ResponseHead::default();
    assert_eq!(parse_response(b"HTTP/1.1 200 OK\r\nX: y", 20, false, &mut out), Err(HeadError::TooLarge));
}

#[test]
fn blank_line_hint_has_no_false_negative() {
    for msg in CORPUS {
        let len = req_ok(msg).len;
        // Scanning incrementally, never more than two bytes back, finds the end exactly when parsing does.
        let mut from = 0;
        for k in 0..=msg.len() {
            let hint = find_blank_line(&msg[..k], from);
            let parsed = req(&msg[..k]).expect("parses");
            if parsed.is_some() {
                assert!(hint.is_some(), "{:?} at {k}", String::from_utf8_lossy(msg));
                break;
            }
            if hint.is_none() {
                from = k.saturating_sub(2);
            }
        }
        assert!(len > 0);
    }
    assert_eq!(find_blank_line(b"GET / HTTP/1.1\r\nA: b\r\n\r\nxx", 0), Some(24));
    assert_eq!(find_blank_line(b"GET / HTTP/1.1\nA: b\n\nxx", 5), Some(21));
    assert_eq!(find_blank_line(b"GET / HTTP/1.1\r\nA: b\r\n\r", 0), None);
}

#[test]
fn trim_edges() {
    assert_eq!(trim(b"  a b\t"), b"a b");
    assert_eq!(trim(b" \t "), b"");
    assert_eq!(trim(b""), b"");
}
