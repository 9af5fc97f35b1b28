//! The seed's `listen www` in HTTP mode (roundrobin, forwardfor, httpchk, httpclose), HAProxy's 502/503/504 pages
//! and the `option httplog` line (SPEC §4, §5, §7; HAPROXY-FACTS §3.2, §5.1–5.3; issue 3).

mod support;

use std::time::{Duration, Instant};
use support::http::*;
use support::*;

const INTER_MS: u64 = 200;
const FALL: u64 = 2;
const RISE: u64 = 2;

/// `etc/seed-http.cfg` on free ports, with fast checks and a syslog collector at local0 info (the seed logs at
/// `warning`, which would hide the UP lines).
fn www_cfg(log_port: u16, port: u16, www01: u16, www02: u16) -> String {
    format!(
        r#"global
    log 127.0.0.1:{log_port} local0 info
    maxconn 1024

defaults
    log global
    mode http
    retries 3
    option redispatch
    option abortonclose
    option dontlognull
    option httpclose
    timeout connect 5s
    timeout client 50s
    timeout server 50s

listen www
    bind 127.0.0.1:{port}
    mode http
    no option splice-response
    stats enable
    stats uri /admin?stats
    stats auth proxy:oldboy
    balance roundrobin
    option httpclose
    option forwardfor
    option httpchk HEAD /check.html HTTP/1.0
    server www01 127.0.0.1:{www01} check inter {INTER_MS} fall {FALL} rise {RISE}
    server www02 127.0.0.1:{www02} check inter {INTER_MS} fall {FALL} rise {RISE}
"#
    )
}

/// `frontend fe` → `backend be` with one server `web01`, logging httplog lines; `extra` goes into defaults.
fn fe_be_cfg(log_port: u16, port: u16, server: u16, extra: &str) -> String {
    format!(
        r#"global
    log 127.0.0.1:{log_port} local0 info

defaults
    log global
    mode http
    option httplog
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

/// The seed's two servers behind the seed's `listen www`, both seen checked once.
struct Www {
    logs: UdpCollector,
    www01: HttpBackend,
    www02: HttpBackend,
    port: u16,
    _proxy: Proxy,
}

fn www() -> Www {
    let logs = UdpCollector::start();
    let www01 = HttpBackend::start("www01", Behavior::KeepAlive);
    let www02 = HttpBackend::start("www02", Behavior::KeepAlive);
    let port = free_port();
    let proxy = Proxy::start_and_wait(&www_cfg(logs.port, port, www01.port, www02.port), port);
    for b in [&www01, &www02] {
        assert!(
            wait_until(Duration::from_secs(3), || !b.requests_for("/check.html").is_empty()),
            "{} got no health check within 3 s",
            b.name
        );
    }
    Www { logs, www01, www02, port, _proxy: proxy }
}

/// One request on a new connection; the response.
fn get(port: u16, path: &str, extra: &[&str]) -> Response {
    let mut c = HttpConn::open(port).unwrap_or_else(|e| panic!("connect to :{port}: {e}"));
    c.get(path, extra).unwrap_or_else(|e| panic!("GET {path} via :{port}: {e}"))
}

fn names_of(port: u16, n: usize, tag: &str) -> (usize, usize) {
    let (mut a, mut b) = (0, 0);
    for i in 0..n {
        let r = get(port, &format!("/{tag}{i}"), &[]);
        assert_eq!(r.status, 200, "request #{i}: {r:?}");
        match r.text().as_str() {
            "www01" => a += 1,
            "www02" => b += 1,
            other => panic!("request #{i}: unexpected body {other:?}"),
        }
    }
    (a, b)
}

#[test]
fn roundrobin_splits_ten_requests_five_five() {
    let w = www();
    assert_eq!(names_of(w.port, 10, "rr"), (5, 5), "roundrobin over two equal servers");
    let (t1, t2) = (w.www01.traffic(), w.www02.traffic());
    assert_eq!((t1.len(), t2.len()), (5, 5), "requests seen by the backends: {t1:?} {t2:?}");
    for r in t1.iter().chain(&t2) {
        assert_eq!((r.method.as_str(), r.path.starts_with("/rr")), ("GET", true), "{r:?}");
    }
}

#[test]
fn forwardfor_appends_the_client_address_as_the_last_x_forwarded_for() {
    let w = www();
    let r = get(w.port, "/xff-none", &[]);
    assert_eq!(r.status, 200);
    let r = get(w.port, "/xff-some", &["X-Forwarded-For: 10.1.2.3"]);
    assert_eq!(r.status, 200);

    let all: Vec<Request> = w.www01.traffic().into_iter().chain(w.www02.traffic()).collect();
    let none = all.iter().find(|r| r.path == "/xff-none").expect("/xff-none reached no backend");
    assert_eq!(none.header_values("x-forwarded-for"), ["127.0.0.1"], "headers seen: {:?}", none.headers);
    let some = all.iter().find(|r| r.path == "/xff-some").expect("/xff-some reached no backend");
    assert_eq!(
        some.header_values("x-forwarded-for"),
        ["10.1.2.3", "127.0.0.1"],
        "the client's X-Forwarded-For must be kept and ours appended after it: {:?}",
        some.headers
    );
}

#[test]
fn httpchk_marks_a_server_answering_500_down_and_back_up_after_rise() {
    let w = www();
    let check = w.www02.requests_for("/check.html").remove(0);
    assert_eq!((check.method.as_str(), check.version.as_str()), ("HEAD", "HTTP/1.0"), "check request: {check:?}");

    let mark = w.logs.mark();
    w.www02.set_behavior(Behavior::Status(500));
    let limit = Duration::from_millis(INTER_MS * (FALL + 1)) + Duration::from_secs(1);
    let t0 = Instant::now();
    let down = w
        .logs
        .wait_for_since(mark, |l| l.contains("Server www/www02 is DOWN"), limit)
        .unwrap_or_else(|| panic!("no 'Server www/www02 is DOWN' within {limit:?} of answering 500"));
    eprintln!("DOWN after {:?}: {down}", t0.elapsed());
    assert!(down.contains("Layer7 wrong status"), "reason should be 'Layer7 wrong status': {down}");
    assert_eq!(names_of(w.port, 6, "down"), (6, 0), "a DOWN server got traffic");

    let mark = w.logs.mark();
    w.www02.set_behavior(Behavior::KeepAlive);
    let limit = Duration::from_millis(INTER_MS * (RISE + 1)) + Duration::from_secs(1);
    w.logs
        .wait_for_since(mark, |l| l.contains("Server www/www02 is UP"), limit)
        .unwrap_or_else(|| panic!("no 'Server www/www02 is UP' within {limit:?} of answering 200 again"));
    let (_, back) = names_of(w.port, 6, "up");
    assert!(back >= 2, "www02 is UP again but got {back} of 6 requests");
}

#[test]
fn all_servers_down_gives_haproxys_503_page() {
    let mut w = www();
    let mark = w.logs.mark();
    w.www01.stop();
    w.www02.stop();
    let limit = Duration::from_millis(INTER_MS * (FALL + 1)) + Duration::from_secs(1);
    w.logs
        .wait_for_since(mark, |l| l.contains("www has no server available"), limit)
        .unwrap_or_else(|| panic!("no 'www has no server available!' within {limit:?}"));

    let t0 = Instant::now();
    let r = get(w.port, "/nobody", &[]);
    let took = t0.elapsed();
    assert_eq!(r.status, 503, "{r:?}");
    let body = r.text();
    assert!(body.contains("<h1>503 Service Unavailable</h1>"), "HAProxy's 503 page: {body:?}");
    assert!(body.contains("No server is available to handle this request."), "HAProxy's 503 page: {body:?}");
    assert!(r.has_token("cache-control", "no-cache"), "error pages are not cacheable: {:?}", r.headers);
    assert!(took < Duration::from_secs(1), "the 503 took {took:?} with every server known DOWN");
}

#[test]
fn timeout_server_gives_504() {
    let logs = UdpCollector::start();
    let slow = HttpBackend::start("web01", Behavior::Delay(Duration::from_secs(3)));
    let port = free_port();
    let _p = Proxy::start_and_wait(&fe_be_cfg(logs.port, port, slow.port, "    timeout server 500"), port);

    let t0 = Instant::now();
    let r = get(port, "/slow", &[]);
    let took = t0.elapsed();
    assert_eq!(r.status, 504, "{r:?}");
    assert!(r.text().contains("The server didn't respond in time."), "HAProxy's 504 page: {:?}", r.text());
    assert!(took >= Duration::from_millis(400) && took < Duration::from_millis(1500), "504 after {took:?}");
    let line = logs
        .wait_for(|l| l.contains("\"GET /slow HTTP/1.1\""), Duration::from_secs(2))
        .expect("no httplog line for GET /slow");
    let h = parse_httplog(&line).unwrap_or_else(|| panic!("not an httplog line: {line}"));
    assert_eq!((h.status, h.state.as_str()), (504, "sH--"), "{line}");
}

#[test]
fn server_closing_without_an_answer_gives_502() {
    let logs = UdpCollector::start();
    let mute = HttpBackend::start("web01", Behavior::NoAnswer);
    let port = free_port();
    let _p = Proxy::start_and_wait(&fe_be_cfg(logs.port, port, mute.port, ""), port);

    let r = get(port, "/mute", &[]);
    assert_eq!(r.status, 502, "{r:?}");
    assert!(
        r.text().contains("The server returned an invalid or incomplete response."),
        "HAProxy's 502 page: {:?}",
        r.text()
    );
    assert_eq!(mute.requests_for("/mute").len(), 1, "the request must reach the server once (no retry)");
    let line = logs
        .wait_for(|l| l.contains("\"GET /mute HTTP/1.1\""), Duration::from_secs(2))
        .expect("no httplog line for GET /mute");
    let h = parse_httplog(&line).unwrap_or_else(|| panic!("not an httplog line: {line}"));
    assert_eq!((h.status, h.state.as_str()), (502, "SH--"), "{line}");
}

#[test]
fn httplog_line_has_names_status_bytes_state_and_request_line() {
    let logs = UdpCollector::start();
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let _p = Proxy::start_and_wait(&fe_be_cfg(logs.port, port, web.port, "    option httpclose"), port);

    let ex = raw_session(port, get_request("/x", &[]).as_bytes(), Duration::from_secs(3));
    assert!(ex.closed, "httpclose: the proxy should close after the response; got {:?}", ex.text());
    let r = ex.response().unwrap_or_else(|| panic!("no complete response: {:?}", ex.text()));
    assert_eq!((r.status, r.text().as_str()), (200, "web01"));

    let line = logs
        .wait_for(|l| l.contains("\"GET /x HTTP/1.1\""), Duration::from_secs(2))
        .unwrap_or_else(|| panic!("no httplog line with \"GET /x HTTP/1.1\""));
    eprintln!("{line}");
    assert!(line.starts_with("<134>"), "traffic at info on local0 (<134>): {line}");
    let h = parse_httplog(&line).unwrap_or_else(|| panic!("not an httplog line: {line}"));
    assert_eq!(h.client.ip().to_string(), "127.0.0.1", "{line}");
    assert_eq!((h.frontend.as_str(), h.backend.as_str(), h.server.as_str()), ("fe", "be", "web01"), "{line}");
    assert_eq!(h.status, 200, "{line}");
    // The contract (issue 3): bytes = what the client received, head included. HAProxy 2.6 itself logs the size
    // of its internal HTX form here (110 for these 138 bytes on the wire); nbproxy counts wire bytes, like 1.4.
    assert_eq!(h.bytes, ex.bytes.len() as u64, "bytes = what the client received, head included: {line}");
    assert_eq!((h.req_cookie.as_str(), h.resp_cookie.as_str()), ("-", "-"), "{line}");
    assert_eq!(h.state, "----", "{line}");
    assert_eq!(h.timers.len(), 5, "TR/Tw/Tc/Tr/Ta: {line}");
    for t in &h.timers {
        assert!(t.parse::<u64>().is_ok(), "every timer reached (>= 0) on a normal request: {line}");
    }
    assert_eq!(h.request, "GET /x HTTP/1.1", "{line}");
    assert!(line.ends_with("\"GET /x HTTP/1.1\""), "the request line comes last: {line}");
}
