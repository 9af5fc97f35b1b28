//! HTTP connection management: keep-alive on both sides by default, `option http-server-close`, `option
//! httpclose`, pipelining, HTTP/1.0 clients, chunked bodies, `Expect: 100-continue` and `Connection: Upgrade`
//! tunnels (SPEC §4; HAPROXY-FACTS §5.5; issue 3).
//!
//! Chunked bodies: HAProxy 2.x re-frames chunks on the way (its HTX layer may merge or split them), so the tests
//! compare the decoded content and check that the message stays `Transfer-Encoding: chunked` (no Content-Length
//! added), not the exact chunk boundaries.

mod support;

use std::time::{Duration, Instant};
use support::http::*;
use support::*;

/// `frontend fe` → `backend be` with one server `web01`; `extra` goes into defaults.
fn cfg(port: u16, server: u16, extra: &str) -> String {
    format!(
        r#"global
    maxconn 1024

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
{extra}

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server web01 127.0.0.1:{server}
"#
    )
}

fn setup(behavior: Behavior, extra: &str) -> (HttpBackend, u16, Proxy) {
    let web = HttpBackend::start("web01", behavior);
    let port = free_port();
    let p = Proxy::start_and_wait(&cfg(port, web.port, extra), port);
    (web, port, p)
}

fn open(port: u16) -> HttpConn {
    HttpConn::open(port).unwrap_or_else(|e| panic!("connect to :{port}: {e}"))
}

#[test]
fn keep_alive_on_both_sides_by_default() {
    let (web, port, _p) = setup(Behavior::KeepAlive, "");
    let mut c = open(port);
    for i in 0..5 {
        let r = c.get(&format!("/ka{i}"), &[]).unwrap_or_else(|e| panic!("request #{i} on the same connection: {e}"));
        assert_eq!((r.status, r.text().as_str()), (200, "web01"), "#{i}: {r:?}");
        assert!(!r.has_token("connection", "close"), "keep-alive is the default, yet #{i} says close: {r:?}");
    }
    let seen = web.traffic();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(web.accepted(), 1, "the proxy should reuse its server connection for the 5 requests");
    assert!(seen.iter().all(|r| r.conn == seen[0].conn && !r.has_token("connection", "close")), "{seen:?}");
}

#[test]
fn http_server_close_keeps_the_client_and_closes_each_server_connection() {
    let (web, port, _p) = setup(Behavior::KeepAlive, "    option http-server-close");
    let mut c = open(port);
    for i in 0..5 {
        let r = c.get(&format!("/sc{i}"), &[]).unwrap_or_else(|e| panic!("request #{i} on the same connection: {e}"));
        assert_eq!((r.status, r.text().as_str()), (200, "web01"), "#{i}: {r:?}");
        assert!(!r.has_token("connection", "close"), "the client side stays keep-alive, yet #{i} says close");
    }
    let seen = web.traffic();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(web.accepted(), 5, "one server connection per request");
    for r in &seen {
        assert!(r.has_token("connection", "close"), "each server request carries Connection: close: {r:?}");
    }
    let mut conns: Vec<usize> = seen.iter().map(|r| r.conn).collect();
    conns.dedup();
    assert_eq!(conns.len(), 5, "each request on its own server connection: {seen:?}");
}

#[test]
fn httpclose_closes_the_client_connection_after_the_response() {
    let (web, port, _p) = setup(Behavior::KeepAlive, "    option httpclose");
    let mut c = open(port);
    let r = c.get("/close", &[]).expect("response");
    assert_eq!((r.status, r.text().as_str()), (200, "web01"));
    assert!(r.has_token("connection", "close"), "httpclose announces the close: {:?}", r.headers);
    assert!(c.closed_within(Duration::from_secs(1)), "the proxy should close the client connection");
    let seen = web.requests_for("/close");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].has_token("connection", "close"), "httpclose sends Connection: close to the server too");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (web, port, _p) = setup(Behavior::KeepAlive, "");
    let mut c = open(port);
    let both = format!("{}{}{}", get_request("/p1", &[]), get_request("/p2", &[]), get_request("/p3", &[]));
    c.send(both.as_bytes()).unwrap(); // one write
    for want in ["/p1", "/p2", "/p3"] {
        let r = c.read_response().unwrap_or_else(|e| panic!("response for {want}: {e}"));
        assert_eq!((r.status, r.header("x-path")), (200, Some(want)), "{r:?}");
    }
    let paths: Vec<String> = web.traffic().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/p1", "/p2", "/p3"]);
}

#[test]
fn http10_client_without_keep_alive_gets_its_response_then_a_close() {
    let (web, port, _p) = setup(Behavior::KeepAlive, "");
    let ex = raw_session(port, b"GET /old HTTP/1.0\r\n\r\n", Duration::from_secs(3));
    let r = ex.response().unwrap_or_else(|| panic!("no complete response: {:?}", ex.text()));
    assert_eq!((r.status, r.text().as_str()), (200, "web01"), "{r:?}");
    assert!(ex.closed && ex.elapsed < Duration::from_millis(1500), "not closed promptly: {ex:?}");
    assert_eq!(web.requests_for("/old").len(), 1);
}

#[test]
fn chunked_response_is_relayed_intact_and_stays_chunked() {
    let big = pattern_at(0, 20000).to_vec();
    let chunks = vec![b"hello ".to_vec(), b"chunked ".to_vec(), b"world".to_vec(), big];
    let expected: Vec<u8> = chunks.concat();
    let (_web, port, _p) = setup(Behavior::Chunked(chunks), "");
    let mut c = open(port);
    let r = c.get("/chunked", &[]).expect("chunked response");
    assert_eq!(r.status, 200);
    assert!(r.has_token("transfer-encoding", "chunked"), "chunked must be kept: {:?}", r.headers);
    assert!(r.header("content-length").is_none(), "no Content-Length with chunked: {:?}", r.headers);
    assert_eq!(r.body.len(), expected.len());
    assert!(r.body == expected, "decoded body differs from what the server sent");
    assert!(r.raw.ends_with(b"0\r\n\r\n"), "last-chunk missing");
    // Framing respected: the connection is still usable.
    let r = c.get("/after", &[]).expect("request after the chunked response");
    assert_eq!(r.status, 200);
}

#[test]
fn chunked_request_body_reaches_the_backend_intact() {
    let (web, port, _p) = setup(Behavior::Digest, "");
    let parts: [&[u8]; 3] = [b"abc", pattern_at(0, 5000), b"xyz"];
    let mut req = b"POST /up HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for p in parts {
        req.extend_from_slice(format!("{:x}\r\n", p.len()).as_bytes());
        req.extend_from_slice(p);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let body = parts.concat();
    let want = format!("{} {}", body.len(), sha256_hex(&body));
    let mut c = open(port);
    c.send(&req).unwrap();
    let r = c.read_response().expect("response");
    assert_eq!((r.status, r.text()), (200, want));
    let seen = web.requests_for("/up");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].complete && seen[0].body_len == body.len() as u64, "{:?}", seen[0]);
}

#[test]
fn expect_100_continue_gets_an_interim_response_then_the_final_one() {
    let (web, port, _p) = setup(Behavior::Digest, "");
    let mut c = open(port);
    c.send(b"POST /expect HTTP/1.1\r\nHost: test.local\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n").unwrap();
    let interim = c.read_response().expect("100 Continue before the body is sent");
    assert_eq!(interim.status, 100, "{interim:?}");
    c.send(b"hello world").unwrap();
    let r = c.read_final_response().expect("final response");
    assert_eq!((r.status, r.text()), (200, format!("11 {}", sha256_hex(b"hello world"))));
    let seen = web.requests_for("/expect");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].complete, "{:?}", seen[0]);
}

#[test]
fn websocket_style_upgrade_becomes_a_tunnel_both_ways() {
    let (web, port, _p) = setup(Behavior::Upgrade, "");
    let mut c = open(port);
    let key = format!("Sec-WebSocket-Key: {WS_KEY}");
    let upgrade = ["Connection: Upgrade", "Upgrade: websocket", &key, "Sec-WebSocket-Version: 13"];
    c.send(get_request("/ws", &upgrade).as_bytes()).unwrap();
    let head = c.read_head().expect("101 head");
    assert_eq!(head.status, 101, "{head:?}");
    assert!(head.has_token("upgrade", "websocket"), "{:?}", head.headers);

    // Server → client without the client sending anything first.
    let hello = c.read_exact_bytes(b"hello from web01\n".len()).unwrap();
    assert_eq!(String::from_utf8_lossy(&hello), "hello from web01\n");
    // Client → server → client.
    c.send(b"ping\n").unwrap();
    assert_eq!(c.read_exact_bytes(5).unwrap(), b"ping\n");
    let t0 = Instant::now();
    let blob = pattern_at(7, 60000);
    c.send(blob).unwrap();
    let back = c.read_exact_bytes(blob.len()).unwrap();
    assert!(back == blob, "tunnelled bytes differ ({} of {} back)", back.len(), blob.len());
    assert!(t0.elapsed() < Duration::from_secs(2));

    let seen = web.requests_for("/ws");
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].has_token("connection", "upgrade"), "the upgrade request reaches the server: {:?}", seen[0]);
}

/// A reload closes idle keep-alive connections of the old workers at once (as HAProxy's soft stop does), so the
/// old generation exits instead of lingering for `timeout http-keep-alive`.
#[test]
fn reload_closes_idle_keep_alive_connections_and_old_workers_exit() {
    let (_web, port, p) = setup(Behavior::KeepAlive, "    timeout http-keep-alive 30s");
    let mut c = HttpConn::open(port).expect("connect");
    c.send(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n").expect("send");
    assert_eq!(c.read_response().expect("response").status, 200);
    let old = p.workers();
    p.signal(libc::SIGUSR2);
    assert!(c.closed_within(Duration::from_secs(2)), "the idle keep-alive connection is closed by the reload");
    let deadline = Instant::now() + Duration::from_secs(3);
    while p.workers().iter().any(|w| old.contains(w)) {
        assert!(Instant::now() < deadline, "old workers {old:?} still there: {:?}", p.workers());
        std::thread::sleep(Duration::from_millis(20));
    }
    // The new generation serves.
    let mut c = HttpConn::open(port).expect("connect after reload");
    c.send(b"GET /b HTTP/1.1\r\nHost: t\r\n\r\n").expect("send");
    assert_eq!(c.read_response().expect("response after reload").status, 200);
}

/// Two servers behind `balance roundrobin`; `extra` goes into the backend.
fn two_server_cfg(port: u16, a: u16, b: u16, extra: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n    timeout queue 1s\n\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\n\
         backend be\n    balance roundrobin\n{extra}    server web01 127.0.0.1:{a}\n    server web02 127.0.0.1:{b}\n"
    )
}

/// As HAProxy 2.x: every request of a keep-alive client is balanced (roundrobin alternates even on one client
/// connection), the kept server connection being reused when the request lands on its server; `option
/// prefer-last-server` keeps the client on the server it already has a connection to.
#[test]
fn each_keep_alive_request_is_balanced_unless_prefer_last_server() {
    let (w1, w2) = (HttpBackend::start("web01", Behavior::KeepAlive), HttpBackend::start("web02", Behavior::KeepAlive));
    let port = free_port();
    let p = Proxy::start_and_wait(&two_server_cfg(port, w1.port, w2.port, ""), port);
    let mut c = open(port);
    let names: Vec<String> = (0..10).map(|i| c.get(&format!("/rr{i}"), &[]).expect("request").text()).collect();
    assert_eq!(names.iter().filter(|n| *n == "web01").count(), 5, "{names:?}");
    assert_eq!(names.iter().filter(|n| *n == "web02").count(), 5, "{names:?}");
    // The connections to each server are pooled and reused, not one per request.
    assert!(w1.accepted() <= 2 && w2.accepted() <= 2, "accepted {} and {}", w1.accepted(), w2.accepted());
    drop(c);
    drop(p);

    let port = free_port();
    let _p = Proxy::start_and_wait(&two_server_cfg(port, w1.port, w2.port, "    option prefer-last-server\n"), port);
    let mut c = open(port);
    let names: Vec<String> = (0..6).map(|i| c.get(&format!("/pl{i}"), &[]).expect("request").text()).collect();
    assert!(names.iter().all(|n| *n == names[0]), "prefer-last-server sticks to one server: {names:?}");
}

/// A server's `maxconn` counts requests, not idle keep-alive clients: a client idle between two requests does
/// not hold its server's only slot, so another client is served at once (HAProxy 2.x gives the slot back at the
/// end of each request).
#[test]
fn an_idle_keep_alive_client_does_not_hold_the_servers_slot() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = cfg(port, web.port, "    timeout queue 1s").replace(
        &format!("server web01 127.0.0.1:{}", web.port),
        &format!("server web01 127.0.0.1:{} maxconn 1", web.port),
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    let mut idle = open(port);
    assert_eq!(idle.get("/first", &[]).expect("first client").status, 200);
    // `idle` keeps its connection open and says nothing more.
    let started = Instant::now();
    let mut other = open(port);
    let r = other.get("/second", &[]).expect("second client");
    assert_eq!(r.status, 200, "the second client must not wait for the idle one's slot: {r:?}");
    assert!(started.elapsed() < Duration::from_millis(800), "served at once, not after a queue wait");
    // And the idle client can go on.
    assert_eq!(idle.get("/again", &[]).expect("idle client again").status, 200);
}
