//! Server `maxconn` and queueing in HTTP mode: requests over the limit wait in the queue (the server never sees
//! more than `maxconn` at once) and get a 503 when `timeout queue` expires (SPEC §4; HAPROXY-FACTS §5.2; issue 3).

mod support;

use std::thread;
use std::time::{Duration, Instant};
use support::http::*;
use support::*;

fn cfg(port: u16, server: u16, queue_ms: u64) -> String {
    format!(
        r#"global
    maxconn 1024

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout queue {queue_ms}

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server web01 127.0.0.1:{server} maxconn 1
"#
    )
}

/// `GET path` on a new connection with a 10 s timeout: the status and how long it took.
fn timed_get(port: u16, path: &str) -> (u16, Duration, String) {
    let t0 = Instant::now();
    let mut c = HttpConn::open(port).unwrap_or_else(|e| panic!("connect for {path}: {e}"));
    c.set_timeouts(Duration::from_secs(10));
    let r = c.get(path, &[]).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    (r.status, t0.elapsed(), r.text())
}

#[test]
fn server_maxconn_1_serializes_eight_concurrent_slow_requests() {
    let web = HttpBackend::start("web01", Behavior::Delay(Duration::from_millis(200)));
    let port = free_port();
    let _p = Proxy::start_and_wait(&cfg(port, web.port, 10_000), port);

    let t0 = Instant::now();
    let clients: Vec<_> = (0..8).map(|i| thread::spawn(move || timed_get(port, &format!("/q{i}")))).collect();
    let results: Vec<(u16, Duration, String)> = clients.into_iter().map(|t| t.join().expect("client")).collect();
    let took = t0.elapsed();

    for (i, (status, _, body)) in results.iter().enumerate() {
        assert_eq!((*status, body.as_str()), (200, "web01"), "request /q{i}");
    }
    assert_eq!(web.max_in_flight(), 1, "server maxconn 1: the backend saw {} requests at once", web.max_in_flight());
    assert_eq!(web.traffic().len(), 8);
    assert!(took >= Duration::from_millis(1400), "8 × 200 ms one at a time cannot take only {took:?}");
}

#[test]
fn timeout_queue_gives_503() {
    let web = HttpBackend::start("web01", Behavior::Delay(Duration::from_secs(2)));
    let port = free_port();
    let _p = Proxy::start_and_wait(&cfg(port, web.port, 300), port);

    let first = thread::spawn(move || timed_get(port, "/first"));
    assert!(wait_until(Duration::from_secs(2), || web.in_flight() == 1), "/first never reached the backend");

    let (status, took, body) = timed_get(port, "/queued");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("No server is available to handle this request."), "HAProxy's 503 page: {body:?}");
    assert!(took >= Duration::from_millis(250) && took < Duration::from_millis(1000), "503 after {took:?}");
    assert!(web.requests_for("/queued").is_empty(), "the queued request must not reach the server");

    let (status, _, body) = first.join().expect("first client");
    assert_eq!((status, body.as_str()), (200, "web01"), "the request holding the slot still completes");
}
