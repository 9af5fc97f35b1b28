//! Stick tables with counters: `stick-table … store …`, `tcp-request connection|content track-scN`,
//! `http-request track-scN`, and the `sc_*`, `scN_*`, `src_*` fetches in rate-limiting rules, as HAProxy's
//! `doc/configuration.txt` ("stick-table", "tcp-request connection", "http-request track-sc0") describes them.
//! `nbproc 1`: each worker has its own tables.

mod support;

use std::time::Duration;
use support::http::*;
use support::*;

const HEAD: &str = r#"global
    nbproc 1

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"#;

#[test]
fn http_request_rate_limit_answers_429_after_the_limit() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "{HEAD}
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 100k expire 30s store http_req_rate(10s)
    http-request track-sc0 src
    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 5 }}
    default_backend be

backend be
    server web01 127.0.0.1:{}
",
        web.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    for i in 1..=5 {
        let r = get(port, "/", &[]);
        assert_eq!(r.status, 200, "request {i} is within the limit: {r:?}");
    }
    for i in 6..=8 {
        let r = get(port, "/", &[]);
        assert_eq!(r.status, 429, "request {i} is over the limit: {r:?}");
        assert!(r.text().contains("429 Too Many Requests"), "HAProxy's 429 page: {r:?}");
    }
    // Keep-alive: every request of one connection counts too.
    let mut c = HttpConn::open(port).expect("connect");
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
    assert_eq!(c.read_response().expect("response").status, 429);
}

#[test]
fn http_request_rate_limit_counts_every_keep_alive_request() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "{HEAD}
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 30s store http_req_cnt,http_req_rate(10s),conn_cnt
    http-request track-sc0 src
    http-request deny deny_status 429 if {{ sc0_http_req_cnt gt 3 }}
    http-response set-header X-Req-Cnt %[sc_http_req_cnt(0)]
    default_backend be

backend be
    server web01 127.0.0.1:{}
",
        web.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    let mut c = HttpConn::open(port).expect("connect");
    for i in 1..=3 {
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
        let r = c.read_response().expect("response");
        assert_eq!(r.status, 200, "request {i}: {r:?}");
        assert_eq!(r.header("x-req-cnt"), Some(i.to_string().as_str()), "request {i} counted once: {r:?}");
    }
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
    assert_eq!(c.read_response().expect("response").status, 429, "4th request of the connection");
}

#[test]
fn tcp_connection_conn_cur_limits_concurrent_connections() {
    let srv = BannerServer::start("ssh01");
    let port = free_port();
    // sc0_conn_cur includes the connection being checked (tracking counts it at once, as HAProxy): `gt 3`
    // lets 3 concurrent connections in and refuses a 4th.
    let cfg = format!(
        "{HEAD}
frontend fe
    mode tcp
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 30s store conn_cur,conn_cnt
    tcp-request connection track-sc0 src
    tcp-request connection reject if {{ sc0_conn_cur gt 3 }}
    default_backend be

backend be
    mode tcp
    server ssh01 127.0.0.1:{}
",
        srv.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    let mut open: Vec<Conn> = Vec::new();
    for i in 1..=3 {
        let mut c = Conn::open(port).expect("connect");
        assert_eq!(c.banner().unwrap_or_else(|e| panic!("connection {i} accepted: {e}")), "ssh01");
        open.push(c);
    }
    let mut fourth = Conn::open(port).expect("the kernel accepts the TCP connection");
    let n = fourth.read_line();
    assert!(n.is_err(), "a 4th concurrent connection is closed without a banner: {n:?}");
    drop(fourth);
    // Still refused while the 3 stay open.
    let mut again = Conn::open(port).expect("connect");
    assert!(again.read_line().is_err(), "refused while 3 are open");
    drop(again);
    for c in &open {
        c.shutdown_write().expect("shutdown");
    }
    for mut c in open {
        let _ = c.stream().set_read_timeout(Some(Duration::from_secs(2)));
        let _ = c.read_rest();
    }
    // Once they are closed, new connections get in again.
    let ok = wait_until(Duration::from_secs(5), || {
        Conn::open(port).ok().and_then(|mut c| c.banner().ok()).as_deref() == Some("ssh01")
    });
    assert!(ok, "accepted again once the 3 connections closed");
}

#[test]
fn src_http_err_rate_blocks_a_client_after_its_404s() {
    let web = HttpBackend::start("web01", Behavior::Status(404));
    let port = free_port();
    let cfg = format!(
        "{HEAD}
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 100k expire 30s store http_req_rate(10s),http_err_rate(10s),http_err_cnt
    http-request track-sc0 src
    acl abuse src_http_err_rate ge 3
    http-request deny if abuse
    default_backend be

backend be
    server web01 127.0.0.1:{}
",
        web.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    for i in 1..=3 {
        let r = get(port, &format!("/missing{i}"), &[]);
        assert_eq!(r.status, 404, "request {i} reaches the server: {r:?}");
    }
    let r = get(port, "/anything", &[]);
    assert_eq!(r.status, 403, "blocked after 3 errors: {r:?}");
    assert!(r.text().contains("403 Forbidden"), "{r:?}");
}

#[test]
fn string_table_counts_per_header_value() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "{HEAD}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    stick-table type string len 32 size 1k expire 30s store http_req_cnt
    http-request track-sc1 req.hdr(x-api-key)
    http-request deny deny_status 429 if {{ sc1_http_req_cnt gt 2 }}
    http-response set-header X-Count %[sc_http_req_cnt(1)]
    server web01 127.0.0.1:{}
",
        web.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    for i in 1..=2 {
        let r = get(port, "/", &["X-Api-Key: alpha"]);
        assert_eq!(r.status, 200, "alpha {i}: {r:?}");
        assert_eq!(r.header("x-count"), Some(i.to_string().as_str()), "alpha {i}: {r:?}");
    }
    assert_eq!(get(port, "/", &["X-Api-Key: alpha"]).status, 429, "alpha's 3rd request");
    // Another key has its own counter.
    let r = get(port, "/", &["X-Api-Key: beta"]);
    assert_eq!((r.status, r.header("x-count")), (200, Some("1")), "beta: {r:?}");
    // No key: nothing tracked, the condition has no sample and does not match.
    for _ in 0..4 {
        let r = get(port, "/", &[]);
        assert_eq!(r.status, 200, "untracked: {r:?}");
        // `%[…]` of a fetch without sample is empty, as in HAProxy.
        assert_eq!(r.header("x-count").unwrap_or(""), "", "sc_http_req_cnt(1) of an untracked counter: no sample");
    }
}

#[test]
fn track_in_another_table_and_src_fetches() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "{HEAD}
frontend fe
    bind 127.0.0.1:{port}
    tcp-request connection track-sc1 src table per_ip
    http-request track-sc0 path table per_path
    http-request sc-inc-gpc0(1) if {{ path_beg /bad }}
    http-request deny if {{ src_get_gpc0(per_ip) ge 2 }}
    http-response set-header X-Path-Cnt %[sc0_http_req_cnt]
    http-response set-header X-Conn-Cnt %[sc1_conn_cnt]
    http-response set-header X-Tracked %[sc_tracked(2)]
    default_backend be

backend per_ip
    stick-table type ip size 1k expire 30s store conn_cnt,gpc0

backend per_path
    stick-table type string size 1k expire 30s store http_req_cnt

backend be
    server web01 127.0.0.1:{}
",
        web.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    let r = get(port, "/a", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-path-cnt"), Some("1"), "{r:?}");
    assert_eq!(r.header("x-conn-cnt"), Some("1"), "{r:?}");
    assert_eq!(r.header("x-tracked"), Some("0"), "{r:?}");
    let r = get(port, "/a", &[]);
    assert_eq!((r.header("x-path-cnt"), r.header("x-conn-cnt")), (Some("2"), Some("2")), "{r:?}");
    assert_eq!(get(port, "/b", &[]).header("x-path-cnt"), Some("1"));
    assert_eq!(get(port, "/bad", &[]).status, 200, "gpc0 = 1");
    assert_eq!(get(port, "/bad", &[]).status, 403, "gpc0 = 2: denied");
    assert_eq!(get(port, "/a", &[]).status, 403, "still denied: gpc0 is per source");
}

#[test]
fn check_refuses_unknown_tables_and_unstored_types() {
    let cfg = "frontend fe
    mode http
    bind 127.0.0.1:1
    stick-table type ip size 1k store http_req_rate(10s)
    http-request track-sc0 src table nowhere
    http-request deny if { sc_conn_rate(0) gt 5 }
    http-request deny if { src_conn_cur gt 5 }
    http-request deny if { src_http_req_rate(other) gt 5 }
    http-request track-sc1 src
    default_backend be

backend be
    mode http
    server s 127.0.0.1:2
";
    let c = check(cfg);
    assert_ne!(c.code, Some(0), "{}", c.combined());
    let out = c.combined();
    let at = |needle: &str| c.at(line_of(cfg, needle));
    assert!(
        out.contains(&format!(
            "[ALERT] parsing [{}] : unable to find table 'nowhere' referenced by track-sc0.",
            at("table nowhere")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "parsing [{}] : 'src_conn_cur' : stick-table 'fe' does not store 'conn_cur'.",
            at("src_conn_cur")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "parsing [{}] : unable to find table 'other' referenced in arg 1 of sample fetch keyword \
             'src_http_req_rate'.",
            at("other)")
        )),
        "{out}"
    );
    // sc_conn_rate(0): counter 0 is tracked only in 'nowhere' (already refused), so this one is not reported.
    assert!(!out.contains("'sc_conn_rate'"), "{out}");

    // A proxy without stick-table: its own name is the table looked for, as in HAProxy.
    let no_table = "frontend fe\n mode http\n bind 127.0.0.1:1\n http-request track-sc0 src\n \
        http-request deny if { src_conn_rate gt 1 }\n default_backend be\n\
        backend be\n mode http\n stick on src\n server s 127.0.0.1:2\n";
    let c = check(no_table);
    assert_ne!(c.code, Some(0));
    let out = c.combined();
    assert!(
        out.contains(&format!("parsing [{}] : unable to find table 'fe' referenced by track-sc0.", c.at(4))),
        "{out}"
    );
    assert!(
        out.contains("unable to find table 'fe' referenced in arg 1 of sample fetch keyword 'src_conn_rate'"),
        "{out}"
    );
    assert!(out.contains(&format!("parsing [{}] : Proxy 'be': unable to find stick-table 'be'.", c.at(9))), "{out}");

    let bad_store = "frontend fe\n mode http\n bind 127.0.0.1:1\n stick-table type ip size 1k store http_req_rate\n";
    let c = check(bad_store);
    assert_ne!(c.code, Some(0));
    assert!(c.combined().contains("expects a period"), "{}", c.combined());
    let bad_store = "frontend fe\n mode http\n bind 127.0.0.1:1\n stick-table type ip size 1k store foo_cnt\n";
    let c = check(bad_store);
    assert!(c.combined().contains("unknown data type 'foo_cnt'"), "{}", c.combined());

    let good = "frontend fe
    mode http
    bind 127.0.0.1:1
    stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur,conn_rate(3s),http_err_rate(10s),gpc0
    tcp-request connection track-sc0 src
    tcp-request connection reject if { sc0_conn_rate gt 20 }
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100 }
    acl abuse src_http_err_rate ge 10
    http-request deny if abuse
    http-request deny if { src_inc_gpc0 gt 100 } || { table_avl lt 10 }
    default_backend be

backend be
    mode http
    server s 127.0.0.1:2
";
    let c = check(good);
    assert_eq!(c.code, Some(0), "{}", c.combined());
}
