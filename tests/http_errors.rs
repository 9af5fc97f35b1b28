//! Malformed requests and request smuggling get HAProxy's status and page, never reach the backend as an extra
//! request, and do not disturb the worker (same pid, still serving); a malformed response gives 502 (SPEC §4
//! "HTTP errors"; HAPROXY-FACTS §5.1, §5.4, §5.6; issue 3).

mod support;

use std::time::Duration;
use support::http::*;
use support::*;

/// A request hidden in another request's body: the backend must never see it.
const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: test.local\r\n\r\n";

const BAD_REQUEST: &str = "Your browser sent an invalid request.";

fn cfg(port: u16, server: u16) -> String {
    format!(
        r#"global
    maxconn 1024

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout http-request 500

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server web01 127.0.0.1:{server}
"#
    )
}

struct Fixture {
    web: HttpBackend,
    port: u16,
    proxy: Proxy,
    workers: Vec<i32>,
}

fn fixture(behavior: Behavior) -> Fixture {
    let web = HttpBackend::start("web01", behavior);
    let port = free_port();
    let proxy = Proxy::start_and_wait(&cfg(port, web.port), port);
    let mut workers = Vec::new();
    assert!(
        wait_until(Duration::from_secs(3), || {
            workers = proxy.workers();
            !workers.is_empty()
        }),
        "no worker process"
    );
    Fixture { web, port, proxy, workers }
}

impl Fixture {
    /// Sends `bytes` on a new connection and reads until the proxy closes (3 s at most).
    fn send(&self, bytes: &[u8]) -> Exchange {
        raw_session(self.port, bytes, Duration::from_secs(3))
    }

    /// The same workers are alive and a normal request is served.
    fn assert_still_serving(&self) {
        assert_eq!(self.proxy.workers(), self.workers, "the worker must survive a bad peer");
        let mut c = HttpConn::open(self.port).expect("connect after the bad request");
        let r = c.get("/ok", &[]).expect("a normal request after the bad one");
        assert_eq!((r.status, r.header("x-server")), (200, Some("web01")), "{r:?}");
    }

    fn assert_never_smuggled(&self) {
        let smuggled = self.web.requests_for("/smuggled");
        assert!(smuggled.is_empty(), "the backend saw a smuggled request: {smuggled:?}");
    }
}

/// The exchange got a complete `status` response whose body contains `text`, and the proxy closed.
fn assert_refused(ex: &Exchange, status: u16, text: &str) {
    let r = ex.response().unwrap_or_else(|| panic!("no complete response: {:?}", ex.text()));
    assert_eq!(r.status, status, "{:?}", ex.text());
    assert!(r.text().contains(text), "HAProxy's {status} page should say {text:?}: {:?}", r.text());
    assert!(ex.closed, "the proxy should close after a {status}: {:?}", ex.text());
}

#[test]
fn bad_request_line_gets_400() {
    let f = fixture(Behavior::KeepAlive);
    let ex = f.send(format!("GET  HTTP/1.1\r\nHost: test.local\r\n\r\n{SMUGGLED}").as_bytes());
    assert_refused(&ex, 400, BAD_REQUEST);
    f.assert_never_smuggled();
    assert!(f.web.traffic().is_empty(), "the backend saw {:?}", f.web.traffic());
    f.assert_still_serving();
}

#[test]
fn http09_request_gets_400() {
    let f = fixture(Behavior::KeepAlive);
    let ex = f.send(b"GET /nine\r\n\r\n");
    assert_refused(&ex, 400, BAD_REQUEST);
    assert!(f.web.traffic().is_empty(), "the backend saw {:?}", f.web.traffic());
    f.assert_still_serving();
}

/// Content-Length and Transfer-Encoding together: HAProxy 2.6 drops Content-Length and forwards the chunked body.
/// The Content-Length here covers only the chunk-size line, so a proxy trusting it would forward the chunk's data
/// (a whole request) as a second request. A 400 is accepted too; a second request at the backend never is.
#[test]
fn content_length_with_transfer_encoding_is_never_smuggled() {
    let f = fixture(Behavior::Digest);
    let size_line = format!("{:x}\r\n", SMUGGLED.len());
    let req = format!(
        "POST /cl-te HTTP/1.1\r\nHost: test.local\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n\
         {size_line}{SMUGGLED}\r\n0\r\n\r\n",
        size_line.len()
    );
    let mut c = HttpConn::open(f.port).expect("connect");
    c.set_timeouts(Duration::from_secs(3));
    c.send(req.as_bytes()).unwrap();
    let r = c.read_response().expect("a response to the CL+TE request");
    match r.status {
        400 => assert!(f.web.traffic().is_empty(), "refused, yet the backend saw {:?}", f.web.traffic()),
        200 => {
            assert_eq!(r.text(), format!("{} {}", SMUGGLED.len(), sha256_hex(SMUGGLED.as_bytes())));
            let seen = f.web.traffic();
            assert_eq!(seen.len(), 1, "exactly one request at the backend: {seen:?}");
            assert_eq!(seen[0].header("content-length"), None, "Content-Length must be removed: {:?}", seen[0]);
            assert!(seen[0].has_token("transfer-encoding", "chunked"), "{:?}", seen[0]);
        }
        other => panic!("CL+TE: expected 200 (CL dropped) or 400, got {other}: {r:?}"),
    }
    f.assert_never_smuggled();
    f.assert_still_serving();
}

#[test]
fn two_different_content_lengths_get_400() {
    let f = fixture(Behavior::KeepAlive);
    let req = format!(
        "POST /two-cl HTTP/1.1\r\nHost: test.local\r\nContent-Length: 4\r\nContent-Length: {}\r\n\r\nabcd{SMUGGLED}",
        4 + SMUGGLED.len()
    );
    let ex = f.send(req.as_bytes());
    assert_refused(&ex, 400, BAD_REQUEST);
    f.assert_never_smuggled();
    assert!(f.web.traffic().is_empty(), "the backend saw {:?}", f.web.traffic());
    f.assert_still_serving();
}

#[test]
fn bad_chunk_size_gets_400() {
    let f = fixture(Behavior::Digest);
    let req =
        format!("POST /badchunk HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{SMUGGLED}");
    let ex = f.send(req.as_bytes());
    assert_refused(&ex, 400, BAD_REQUEST);
    f.assert_never_smuggled();
    // The head may have been forwarded before the body was parsed; a complete body never.
    for r in f.web.requests_for("/badchunk") {
        assert!(!r.complete, "the backend got a complete body for a bad chunk: {r:?}");
    }
    f.assert_still_serving();
}

/// SPEC §4 lists obs-fold among the refused inputs. (HAProxy 2.6 itself unfolds it into spaces and forwards the
/// request; nbproxy is deliberately stricter, as RFC 9112 §5.2 allows.)
#[test]
fn obsolete_line_folding_gets_400() {
    let f = fixture(Behavior::KeepAlive);
    let ex = f.send(b"GET /fold HTTP/1.1\r\nHost: test.local\r\nX-Folded: a\r\n b\r\n\r\n");
    assert_refused(&ex, 400, BAD_REQUEST);
    assert!(f.web.traffic().is_empty(), "the backend saw {:?}", f.web.traffic());
    f.assert_still_serving();
}

#[test]
fn header_block_over_bufsize_gets_400() {
    let f = fixture(Behavior::KeepAlive);
    let mut req = String::from("GET /huge HTTP/1.1\r\nHost: test.local\r\n");
    for i in 0..20 {
        req.push_str(&format!("X-Filler-{i:02}: {}\r\n", "a".repeat(1000)));
    }
    req.push_str("\r\n");
    assert!(req.len() > 16384);
    let ex = f.send(req.as_bytes());
    assert_refused(&ex, 400, BAD_REQUEST);
    assert!(f.web.traffic().is_empty(), "the backend saw {:?}", f.web.traffic());
    f.assert_still_serving();
}

#[test]
fn slowloris_gets_408_after_timeout_http_request() {
    let f = fixture(Behavior::KeepAlive);
    let ex = f.send(b"GET /slow HTTP/1.1\r\nHost: test.local\r\nX-Partial: abc");
    assert_refused(&ex, 408, "Your browser didn't send a complete request in time.");
    assert!(
        ex.elapsed >= Duration::from_millis(400) && ex.elapsed <= Duration::from_millis(1500),
        "timeout http-request 500 answered after {:?}",
        ex.elapsed
    );
    assert!(f.web.traffic().is_empty(), "the backend saw {:?}", f.web.traffic());
    f.assert_still_serving();
}

#[test]
fn malformed_response_gets_502() {
    let f = fixture(Behavior::Malformed);
    let mut c = HttpConn::open(f.port).expect("connect");
    let r = c.get("/bad-response", &[]).expect("a response");
    assert_eq!(r.status, 502, "{r:?}");
    assert!(
        r.text().contains("The server returned an invalid or incomplete response."),
        "HAProxy's 502 page: {:?}",
        r.text()
    );
    assert_eq!(f.web.requests_for("/bad-response").len(), 1, "sent once, not retried");
    f.web.set_behavior(Behavior::KeepAlive);
    f.assert_still_serving();
}
