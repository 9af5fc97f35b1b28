//! HTTP rules: ACL-based `use_backend` (path, Host), `http-request deny|return|add-header|set-header|del-header`,
//! `http-response add-header|del-header`, the 1.4 `req*`/`rsp*`/`block` forms, `redirect location|prefix|scheme`,
//! `monitor-uri` and `monitor fail` (SPEC §4; HAPROXY-FACTS §1.9, §1.10, §1.12, §5.1; issue 3).

mod support;

use std::time::Duration;
use support::http::*;
use support::*;

const DEFAULTS: &str = r#"defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"#;

/// Which backend served `r` (its `X-Server` header, which must match the body).
fn served_by(r: &Response) -> String {
    assert_eq!(r.status, 200, "expected a backend's 200: {r:?}");
    let name = r.header("x-server").unwrap_or_else(|| panic!("no X-Server header: {r:?}")).to_string();
    assert_eq!(r.text(), name, "body and X-Server disagree: {r:?}");
    name
}

/// A 403 with HAProxy's page (HAPROXY-FACTS §5.1).
fn assert_haproxy_403(r: &Response, what: &str) {
    assert_eq!(r.status, 403, "{what}: {r:?}");
    let body = r.text();
    assert!(body.contains("<h1>403 Forbidden</h1>"), "{what}: HAProxy's 403 page: {body:?}");
    assert!(body.contains("Request forbidden by administrative rules."), "{what}: HAProxy's 403 page: {body:?}");
    assert!(r.header("x-server").is_none(), "{what}: a backend answered: {r:?}");
}

/// `frontend fe` on `port` with `rules`, default backend `be` with one server on `server`, plus `more` sections.
fn fe_cfg(port: u16, rules: &str, server: u16, more: &str) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
{rules}
    default_backend be

backend be
    server web01 127.0.0.1:{server}
{more}"
    )
}

#[test]
fn acl_routes_by_path_and_by_host() {
    let st = HttpBackend::start("static01", Behavior::KeepAlive);
    let api = HttpBackend::start("api01", Behavior::KeepAlive);
    let api2 = HttpBackend::start("api201", Behavior::KeepAlive);
    let app = HttpBackend::start("app01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    acl is_static path_beg /static
    acl is_img path_end .png .jpg
    acl is_img path_end .gif
    acl is_api hdr(host) -i api.example.com
    acl is_api2 req.hdr(host) -m str api2.example.com
    use_backend static if is_static
    use_backend static if is_img !is_api
    use_backend api if is_api
    use_backend api2 if is_api2
    default_backend app

backend static
    server static01 127.0.0.1:{}

backend api
    server api01 127.0.0.1:{}

backend api2
    server api201 127.0.0.1:{}

backend app
    server app01 127.0.0.1:{}
",
        st.port, api.port, api2.port, app.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);

    let cases: &[(&str, &str, &str)] = &[
        ("/static/logo.png", "test.local", "static01"),
        ("/static", "test.local", "static01"),
        ("/statics", "test.local", "static01"), // path_beg is a plain prefix
        ("/index.html", "test.local", "app01"),
        ("/x/static/y", "test.local", "app01"),
        ("/v1/users", "api.example.com", "api01"),
        ("/v1/users", "API.Example.COM", "api01"), // -i
        ("/v1/users", "api2.example.com", "api201"),
        ("/v1/users", "API2.example.com", "app01"), // -m str is case-sensitive
        ("/v1/users", "api.example.com.evil", "app01"),
        ("/static/a.css", "api.example.com", "static01"), // first matching use_backend wins
        ("/img/a.jpg", "test.local", "static01"),         // several values on one acl line: OR
        ("/img/a.gif", "test.local", "static01"),         // the same acl name on two lines: OR
        ("/img/a.svg", "test.local", "app01"),
        ("/img/a.gif", "api.example.com", "api01"), // implicit AND with a negated acl
    ];
    for (path, host, want) in cases {
        let r = get_host(port, path, host, &[]);
        assert_eq!(served_by(&r), *want, "GET {path} with Host: {host}");
    }
    let count = |b: &HttpBackend| b.traffic().len();
    let want = |name: &str| cases.iter().filter(|c| c.2 == name).count();
    for b in [&st, &api, &api2, &app] {
        assert_eq!(count(b), want(&b.name), "{} saw: {:?}", b.name, b.traffic());
    }
}

#[test]
fn http_request_deny_gives_403_and_deny_status_429() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let rules =
        "    http-request deny if { path_beg /admin }\n    http-request deny deny_status 429 if { path_beg /limited }";
    let _p = Proxy::start_and_wait(&fe_cfg(port, rules, web.port, ""), port);

    assert_haproxy_403(&get(port, "/admin", &[]), "GET /admin");
    assert_haproxy_403(&get(port, "/admin/users?x=1", &[]), "GET /admin/users?x=1");
    let r = get(port, "/limited/x", &[]);
    assert_eq!(r.status, 429, "deny_status 429: {r:?}");
    assert!(r.header("x-server").is_none(), "a backend answered: {r:?}");
    assert_eq!(served_by(&get(port, "/public", &[])), "web01");
    assert_eq!(served_by(&get(port, "/x/admin", &[])), "web01");

    let seen: Vec<String> = web.traffic().into_iter().map(|r| r.path).collect();
    assert_eq!(seen, ["/public", "/x/admin"], "denied requests must never reach the server");
}

#[test]
fn http_request_and_response_header_rules() {
    let web = HttpBackend::start("web01", Behavior::Headers(vec!["Server: testsrv/1.0".into()]));
    let port = free_port();
    let rules = "    http-request add-header X-Added yes
    http-request set-header X-Set v
    http-request del-header X-Remove
    http-response add-header X-Resp r
    http-response del-header Server";
    let _p = Proxy::start_and_wait(&fe_cfg(port, rules, web.port, ""), port);

    let r = get(port, "/hdr", &["X-Set: old1", "X-Set: old2", "X-Remove: gone", "x-remove: gone too", "X-Keep: k"]);
    assert_eq!(served_by(&r), "web01");
    assert_eq!(r.header_values("x-resp"), ["r"], "http-response add-header: {:?}", r.headers);
    assert!(r.header_values("server").is_empty(), "http-response del-header Server: {:?}", r.headers);
    assert_eq!(r.header("x-path"), Some("/hdr"), "other response headers are kept: {:?}", r.headers);

    let req = web.requests_for("/hdr");
    assert_eq!(req.len(), 1, "{req:?}");
    let h = &req[0];
    assert_eq!(h.header_values("x-added"), ["yes"], "http-request add-header: {:?}", h.headers);
    assert_eq!(h.header_values("x-set"), ["v"], "set-header replaces every occurrence: {:?}", h.headers);
    assert!(h.header_values("x-remove").is_empty(), "del-header removes every occurrence: {:?}", h.headers);
    assert_eq!(h.header_values("x-keep"), ["k"], "other request headers are kept: {:?}", h.headers);
    assert_eq!(h.header("host"), Some("test.local"), "{:?}", h.headers);

    // add-header adds even when the client already sent one.
    let r = get(port, "/hdr2", &["X-Added: client"]);
    assert_eq!(served_by(&r), "web01");
    let req = web.requests_for("/hdr2");
    assert_eq!(req[0].header_values("x-added"), ["client", "yes"], "{:?}", req[0].headers);
}

#[test]
fn legacy_req_and_rsp_rules() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let secret = HttpBackend::start("secret01", Behavior::Headers(vec!["X-Secret: 42".into()]));
    let port = free_port();
    let rules = r#"    block if { path /blocked }
    reqadd X-Legacy:\ on
    reqrep ^([^\ :]*)\ /old/(.*) \1\ /new/\2
    reqidel ^X-Drop:
    rspadd X-Legacy-Resp:\ on
    rspdeny ^X-Secret:
    use_backend secret if { path /secret }"#;
    let more = format!("\nbackend secret\n    server secret01 127.0.0.1:{}\n", secret.port);
    let cfg = fe_cfg(port, rules, web.port, &more);
    let c = check(&cfg);
    assert_eq!(c.code, Some(0), "-c must accept the 1.4 rules (with warnings at most): {}", c.combined());
    let _p = Proxy::start_and_wait(&cfg, port);

    // reqadd + rspadd
    let r = get(port, "/plain", &[]);
    assert_eq!(served_by(&r), "web01");
    assert_eq!(r.header_values("x-legacy-resp"), ["on"], "rspadd: {:?}", r.headers);
    let req = web.requests_for("/plain");
    assert_eq!(req.len(), 1, "{:?}", web.traffic());
    assert_eq!(req[0].header_values("x-legacy"), ["on"], "reqadd: {:?}", req[0].headers);

    // reqrep on the request line
    let r = get(port, "/old/page.html?a=b", &[]);
    assert_eq!(served_by(&r), "web01");
    assert_eq!(r.header("x-path"), Some("/new/page.html?a=b"), "reqrep rewrites the path: {r:?}");
    assert!(web.requests_for("/old/page.html?a=b").is_empty(), "the old path reached the server");
    let req = web.requests_for("/new/page.html?a=b");
    assert_eq!(req.len(), 1, "{:?}", web.traffic());
    assert_eq!((req[0].method.as_str(), req[0].version.as_str()), ("GET", "HTTP/1.1"), "{:?}", req[0]);

    // reqidel: case-insensitive, whole header name only
    let r = get(port, "/drop", &["X-Drop: 1", "x-drop: 2", "X-Dropped: keep"]);
    assert_eq!(served_by(&r), "web01");
    let req = web.requests_for("/drop");
    assert!(req[0].header_values("x-drop").is_empty(), "reqidel ^X-Drop: {:?}", req[0].headers);
    assert_eq!(req[0].header_values("x-dropped"), ["keep"], "reqidel ^X-Drop: over-deletes: {:?}", req[0].headers);

    // block → 403 before anything reaches a server
    assert_haproxy_403(&get(port, "/blocked", &[]), "block if { path /blocked }");
    assert!(web.requests_for("/blocked").is_empty(), "a blocked request reached the server");

    // rspdeny → 502, the server's response never reaches the client
    let r = get(port, "/secret", &[]);
    assert_eq!(r.status, 502, "rspdeny ^X-Secret: {r:?}");
    assert!(r.header_values("x-secret").is_empty(), "the denied response leaked: {r:?}");
    assert!(r.text().contains("<h1>502 Bad Gateway</h1>"), "HAProxy's 502 page: {:?}", r.text());
    assert_eq!(secret.requests_for("/secret").len(), 1, "the request must reach the server once");
}

#[test]
fn redirect_location_and_prefix() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let rules = "    redirect location /moved code 301 if { path /old }
    redirect prefix https://example.com if { path_beg /p/ }";
    let _p = Proxy::start_and_wait(&fe_cfg(port, rules, web.port, ""), port);

    let r = get(port, "/old", &[]);
    assert_eq!(r.status, 301, "{r:?}");
    assert_eq!(r.header_values("location"), ["/moved"], "{:?}", r.headers);
    assert!(r.body.is_empty(), "redirects have an empty body: {r:?}");

    let r = get(port, "/p/x/y.html?q=1", &[]);
    assert_eq!(r.status, 302, "redirect prefix defaults to 302: {r:?}");
    assert_eq!(r.header_values("location"), ["https://example.com/p/x/y.html?q=1"], "prefix keeps the URI");
    assert!(r.has_token("cache-control", "no-cache"), "a 302 redirect is not cacheable: {:?}", r.headers);

    assert_eq!(served_by(&get(port, "/old/x", &[])), "web01", "`path /old` is an exact match");
    let seen: Vec<String> = web.traffic().into_iter().map(|r| r.path).collect();
    assert_eq!(seen, ["/old/x"], "redirected requests must not reach the server");
}

#[test]
fn redirect_scheme_https_unless_ssl_fc() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = fe_cfg(port, "    redirect scheme https if !{ ssl_fc } { path_beg /s/ }", web.port, "");
    let c = check(&cfg);
    if c.code != Some(0) {
        eprintln!("SKIP: -c refuses `redirect scheme https if !{{ ssl_fc }}`: {}", c.combined());
        return;
    }
    let _p = Proxy::start_and_wait(&cfg, port);
    let r = get_host(port, "/s/page?x=1", "www.example.org", &[]);
    assert_eq!(r.status, 302, "{r:?}");
    assert_eq!(r.header_values("location"), ["https://www.example.org/s/page?x=1"], "{:?}", r.headers);
    assert_eq!(served_by(&get(port, "/t", &[])), "web01");
    assert!(web.requests_for("/s/page?x=1").is_empty(), "a redirected request reached the server");
}

#[test]
fn monitor_uri_answers_itself_and_monitor_fail_gives_503() {
    let logs = UdpCollector::start();
    let mut web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "global
    log 127.0.0.1:{} local0 info

{DEFAULTS}    log global

frontend fe
    bind 127.0.0.1:{port}
    monitor-uri /health
    monitor fail if {{ nbsrv(be) lt 1 }}
    default_backend be

backend be
    server web01 127.0.0.1:{} check inter 200 fall 1 rise 1
",
        logs.port, web.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);

    let r = get(port, "/health", &[]);
    assert_eq!(r.status, 200, "monitor-uri with the backend UP: {r:?}");
    assert!(r.text().to_lowercase().contains("service ready."), "HAProxy's monitor page: {:?}", r.text());
    assert!(r.header("x-server").is_none(), "monitor-uri must not reach a server: {r:?}");
    assert_eq!(served_by(&get(port, "/health/x", &[])), "web01", "monitor-uri is an exact match");
    assert!(web.requests_for("/health").is_empty(), "monitor-uri reached the server");

    let mark = logs.mark();
    web.stop();
    logs.wait_for_since(mark, |l| l.contains("Server be/web01 is DOWN"), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no 'Server be/web01 is DOWN' within 3 s of stopping it: {:?}", logs.lines()));
    let r = get(port, "/health", &[]);
    assert_eq!(r.status, 503, "monitor fail if {{ nbsrv(be) lt 1 }} with no server UP: {r:?}");
}

#[test]
fn http_request_return_answers_without_a_server() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let rules = "    http-request return status 200 content-type text/plain string ok if { path /ret }";
    let _p = Proxy::start_and_wait(&fe_cfg(port, rules, web.port, ""), port);

    let r = get(port, "/ret", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "ok"), "{r:?}");
    assert_eq!(r.header("content-type"), Some("text/plain"), "{:?}", r.headers);
    assert!(r.header("x-server").is_none(), "http-request return must not reach a server: {r:?}");
    assert_eq!(served_by(&get(port, "/ret2", &[])), "web01");
    assert!(web.requests_for("/ret").is_empty(), "the returned request reached the server");
}

/// HAProxy 2.2+ keeps the client connection alive after the responses it generates itself (only its 400 and 408
/// say `Connection: close`): a second request on the same connection — here already pipelined behind the first —
/// must be answered. Closing instead is allowed only after saying `Connection: close`.
#[test]
fn internal_responses_keep_the_connection_or_say_close() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let rules = "    http-request return status 200 content-type text/plain string ok if { path /ret }
    http-request deny if { path_beg /admin }
    redirect location /moved code 301 if { path /old }
    monitor-uri /health";
    let _p = Proxy::start_and_wait(&fe_cfg(port, rules, web.port, ""), port);

    let mut failures = Vec::new();
    for (path, status) in [("/ret", 200), ("/admin", 403), ("/old", 301), ("/health", 200)] {
        let next = format!("/after{}", path.replace('/', "-"));
        let both = format!("{}{}", get_request(path, &[]), get_request(&next, &[]));
        let ex = raw_session(port, both.as_bytes(), Duration::from_millis(1000));
        let rs = parse_responses(&ex.bytes);
        let Some(first) = rs.first() else { panic!("GET {path}: no response: {:?}", ex.text()) };
        assert_eq!(first.status, status, "GET {path}: {first:?}");
        if first.has_token("connection", "close") {
            assert!(ex.closed, "GET {path} said Connection: close but the connection stayed open");
            continue;
        }
        match rs.get(1) {
            Some(second) if second.header("x-server") == Some("web01") => {}
            _ => failures.push(format!(
                "GET {path} -> {} without `Connection: close`, then the pipelined GET {next} got {} (closed: {})",
                first.status,
                rs.get(1).map(|r| format!("{} {:?}", r.status, r.text())).unwrap_or_else(|| "no response".into()),
                ex.closed
            )),
        }
    }
    assert!(failures.is_empty(), "keep-alive after internal responses:\n{}", failures.join("\n"));
}

/// `userlist` + `http-request auth unless { http_auth(L) }`: 401 with the realm without or with wrong
/// credentials, forwarded with the right ones.
#[test]
fn http_request_auth_checks_a_userlist() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "userlist L\n    user admin insecure-password s3cret\n    user ops password {OPS_HASH}\n{}",
        fe_cfg(port, "    http-request auth realm Private unless { http_auth(L) }", web.port, "")
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    let r = get(port, "/", &[]);
    assert_eq!(r.status, 401, "no credentials: {r:?}");
    let realm = r.header("www-authenticate").unwrap_or_default().to_string();
    assert!(realm.contains("Basic realm=\"Private\""), "realm: {realm:?}");
    // admin:bad and admin:s3cret in base64.
    assert_eq!(get(port, "/", &["Authorization: Basic YWRtaW46YmFk"]).status, 401, "wrong password");
    let ok = get(port, "/", &["Authorization: Basic YWRtaW46czNjcmV0"]);
    assert_eq!(served_by(&ok), "web01", "right credentials are forwarded");
    assert_eq!(web.requests().len(), 1, "only the authenticated request reached the server");
    // ops:Secret and ops:secret: a crypt(3) SHA-512 hash is verified.
    assert_eq!(get(port, "/", &["Authorization: Basic b3BzOlNlY3JldA=="]).status, 401, "wrong hashed password");
    let ok = get(port, "/", &["Authorization: Basic b3BzOnNlY3JldA=="]);
    assert_eq!(served_by(&ok), "web01", "a password matching the crypt(3) hash is accepted");
}

/// `openssl passwd -6 -salt saltsalt secret`.
const OPS_HASH: &str =
    "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";

/// `server … redir PREFIX`: GET gets a 302 to PREFIX + URI and the server is never contacted.
#[test]
fn server_redir_answers_302_without_connecting() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
listen www
    bind 127.0.0.1:{port}
    server web01 127.0.0.1:{} redir http://img.example.com
",
        web.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    let r = get(port, "/a/b.png?x=1", &[]);
    assert_eq!(r.status, 302, "{r:?}");
    assert_eq!(r.header("location"), Some("http://img.example.com/a/b.png?x=1"), "{r:?}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(web.requests().is_empty(), "the redir server must not be contacted");
}

/// `http-response return` replaces the server's answer; the client connection goes on.
#[test]
fn http_response_return_replaces_the_servers_answer() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let rules = "    http-response return status 503 content-type text/plain string maintenance if { path /maint }";
    let _p = Proxy::start_and_wait(&fe_cfg(port, rules, web.port, ""), port);
    let mut c = HttpConn::open(port).expect("connect");
    c.send(b"GET /maint HTTP/1.1\r\nHost: t\r\n\r\n").expect("send");
    let r = c.read_response().expect("first answer");
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.text(), "maintenance", "{r:?}");
    c.send(b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n").expect("send again");
    let r = c.read_response().expect("second answer on the same connection");
    assert_eq!(served_by(&r), "web01");
}

/// `tcp-request content reject` on an HTTP frontend closes the connection without any response, per request;
/// other requests are served.
#[test]
fn tcp_request_content_reject_closes_without_a_response() {
    use std::io::{Read, Write};
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let cfg = fe_cfg(port, "    tcp-request content reject if { path_beg /blocked }", web.port, "");
    let _p = Proxy::start_and_wait(&cfg, port);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    c.write_all(b"GET /blocked/x HTTP/1.1\r\nHost: a\r\n\r\n").expect("write");
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert!(got.is_empty(), "no response bytes: {:?}", String::from_utf8_lossy(&got));
    assert_eq!(served_by(&get(port, "/open", &[])), "web01");
    assert_eq!(web.requests().len(), 1, "the rejected request never reached the server");
}

/// `monitor-net` (1.4): a client from the monitored network gets `HTTP/1.0 200 OK` and a close, unproxied.
#[test]
fn monitor_net_answers_the_monitoring_network() {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let _p = Proxy::start_and_wait(&fe_cfg(port, "    monitor-net 127.0.0.0/8", web.port, ""), port);
    let got = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Duration::from_secs(3));
    assert_eq!(String::from_utf8_lossy(&got), "HTTP/1.0 200 OK\r\n\r\n");
    assert!(web.requests().is_empty(), "a monitor probe never reaches a server");
}

/// `use-server NAME if COND` sends matching requests to that server whatever the balancing says; others are
/// balanced as usual.
#[test]
fn use_server_pins_matching_requests() {
    let w1 = HttpBackend::start("web01", Behavior::KeepAlive);
    let w2 = HttpBackend::start("web02", Behavior::KeepAlive);
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    balance roundrobin
    use-server web02 if {{ path_beg /two }}
    use-server web01 if {{ req.hdr(x-pin) one }}
    server web01 127.0.0.1:{}
    server web02 127.0.0.1:{}
",
        w1.port, w2.port
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    for i in 0..6 {
        assert_eq!(served_by(&get(port, &format!("/two/{i}"), &[])), "web02", "request {i}");
        assert_eq!(served_by(&get(port, "/x", &["X-Pin: one"])), "web01", "request {i}");
    }
    let others: Vec<String> = (0..4).map(|_| served_by(&get(port, "/other", &[]))).collect();
    assert_eq!(others.iter().filter(|n| *n == "web01").count(), 2, "{others:?}");
}
