//! Unit tests, compiled only under `#[cfg(test)]`.

use super::*;
use crate::acl::view::headers;
use crate::http::testhead;

struct Conn {
    src: SocketAddr,
    dst: SocketAddr,
}

impl Context for Conn {
    fn src(&self) -> SocketAddr {
        self.src
    }
    fn dst(&self) -> SocketAddr {
        self.dst
    }
}

fn conn() -> Conn {
    Conn { src: "192.168.1.10:40000".parse().expect("src"), dst: "10.0.0.1:8080".parse().expect("dst") }
}

const REQ: &str = "GET /static/a.png?x=1 HTTP/1.1\nHost: www.example.com\nUser-Agent: curl/7.47.0\n\
                   X-Forwarded-For: 192.168.10.1, 192.168.13.24, 10.0.0.37\nCookie: a=1\n\n";

/// A test-only writer: the head as it would go out.
fn render(start: &[u8], buf: &[u8], hdrs: &[crate::http::head::HeaderIdx], edits: &HeadEdits) -> String {
    let mut out = edits.start_line.clone().unwrap_or_else(|| start.to_vec());
    out.extend_from_slice(b"\n");
    for h in headers(buf, hdrs, Some(edits)) {
        out.extend_from_slice(h.name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value);
        out.push(b'\n');
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn rules(body: &str) -> CompiledRules {
    CompiledRules::new(&testhead::proxy(&format!("listen l\n  mode http\n{body}")), Default::default())
        .expect("compile")
}

/// Run `body`'s rules on `req`: the verdict and the request as it would be forwarded.
fn run_on(body: &str, req: &str) -> (Verdict, String) {
    let r = rules(body);
    let (buf, head) = testhead::req(req);
    let mut edits = HeadEdits::default();
    let v = apply_request(&r, &buf, &head, true, &conn(), &mut edits);
    apply_forwarding(&r, None, &buf, &head, &conn(), &mut edits);
    (v, render(view::line_from(&buf, 0), &buf, &head.headers, &edits))
}

fn run(body: &str) -> (Verdict, String) {
    run_on(body, REQ)
}

fn text(v: &Verdict) -> String {
    match v {
        Verdict::Redirect(b) | Verdict::Return(b) => String::from_utf8_lossy(b).into_owned(),
        o => format!("{o:?}"),
    }
}

#[test]
fn deny_allow_tarpit_auth() {
    assert_eq!(run("  http-request deny\n").0, Verdict::Deny(403));
    assert_eq!(run("  http-request deny deny_status 429 if { path_beg /static }\n").0, Verdict::Deny(429));
    assert_eq!(run("  http-request deny if { path_beg /api }\n").0, Verdict::Continue);
    assert_eq!(run("  http-request allow if { src 192.168.0.0/16 }\n  http-request deny\n").0, Verdict::Continue);
    assert_eq!(run("  http-request allow if { src 10.0.0.0/8 }\n  http-request deny\n").0, Verdict::Deny(403));
    assert_eq!(run("  http-request tarpit\n").0, Verdict::Tarpit(500));
    assert_eq!(run("  http-request auth\n").0, Verdict::Auth("l".into()));
    assert_eq!(run("  http-request auth realm Admins if { path_beg /static }\n").0, Verdict::Auth("Admins".into()));
    let (v, _) = run("  acl api path_beg /api\n  http-request deny unless api\n");
    assert_eq!(v, Verdict::Deny(403));
}

#[test]
fn return_builds_a_response() {
    let (v, _) = run("  http-request return status 200 content-type text/plain string ok-%[src] hdr X-A b\n");
    assert_eq!(
        text(&v),
        "HTTP/1.1 200 OK\r\ncontent-length: 15\r\ncontent-type: text/plain\r\nX-A: b\r\n\r\nok-192.168.1.10"
    );
    let (v, _) = run("  http-request return status 404\n");
    assert_eq!(text(&v), "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
}

#[test]
fn header_actions() {
    let (v, out) = run(concat!(
        "  http-request add-header X-Client %[src]\n",
        "  http-request add-header X-Conn %ci:%cp/%fi:%fp%Ts\n",
        "  http-request set-header Host %[req.hdr(host),upper]\n",
        "  http-request del-header cookie\n",
        "  http-request replace-header User-Agent curl foo\n",
        "  http-request replace-value X-Forwarded-For ^192\\.168\\.(.*)$ 172.16.\\1\n",
        "  http-request add-header X-Path %[path]\n",
    ));
    assert_eq!(v, Verdict::Continue);
    assert_eq!(
        out,
        "GET /static/a.png?x=1 HTTP/1.1\nUser-Agent: foo\nX-Forwarded-For: 172.16.10.1, 172.16.13.24, 10.0.0.37\n\
         X-Client: 192.168.1.10\nX-Conn: 192.168.1.10:40000/10.0.0.1:8080\nHost: WWW.EXAMPLE.COM\nX-Path: /static/a.png\n"
    );
}

#[test]
fn replace_header_whole_value_with_groups() {
    let (_, out) = run_on(
        "  http-request replace-header Cookie foo=([^;]*);(.*) foo=\\1;ip=%[src];\\2\n",
        "GET / HTTP/1.1\nCookie: foo=foobar; expires=Tue\n\n",
    );
    assert_eq!(out, "GET / HTTP/1.1\nCookie: foo=foobar;ip=192.168.1.10; expires=Tue\n");
}

#[test]
fn later_rules_see_earlier_edits() {
    let body = "  http-request set-header X-Tag blocked if { path_beg /static }\n  http-request deny if { req.hdr(x-tag) blocked }\n";
    assert_eq!(run(body).0, Verdict::Deny(403));
    let body = "  http-request set-path /api%[path]\n  http-request deny if { path_beg /api/static }\n";
    assert_eq!(run(body).0, Verdict::Deny(403));
    let (_, out) = run("  http-request add-header X-A 1\n  http-request del-header x-a\n");
    assert!(!out.contains("X-A"), "{out}");
}

#[test]
fn start_line_actions() {
    let line = |body: &str| run(body).1.lines().next().expect("line").to_string();
    assert_eq!(line("  http-request set-path /new\n"), "GET /new?x=1 HTTP/1.1");
    assert_eq!(line("  http-request set-uri /u?q\n"), "GET /u?q HTTP/1.1");
    assert_eq!(line("  http-request set-query y=2\n"), "GET /static/a.png?y=2 HTTP/1.1");
    assert_eq!(line("  http-request set-query %[path,upper]\n"), "GET /static/a.png?/STATIC/A.PNG HTTP/1.1");
    assert_eq!(line("  http-request set-method POST\n"), "POST /static/a.png?x=1 HTTP/1.1");
    assert_eq!(line("  http-request replace-path /static/(.*) /\\1\n"), "GET /a.png?x=1 HTTP/1.1");
    assert_eq!(line("  http-request replace-path ^/nomatch(.*) /\\1\n"), "GET /static/a.png?x=1 HTTP/1.1");
    assert_eq!(line("  http-request replace-uri ^/static/(.*) /v2/\\1\n"), "GET /v2/a.png?x=1 HTTP/1.1");
    let (_, out) = run_on("  http-request set-path /p\n", "GET http://h:81/a?b HTTP/1.0\n\n");
    assert_eq!(out, "GET http://h:81/p?b HTTP/1.0\n");
}

#[test]
fn legacy_request_line_and_headers() {
    let (v, out) = run(concat!(
        "  reqrep ^([^\\ ]*)\\ /static/(.*) \\1\\ /\\2\n",
        "  reqirep ^host:\\ www\\.(.*) Host:\\ \\1\n",
        "  reqdel ^Cookie:\n",
        "  reqadd X-Legacy:\\ yes\n",
        "  reqrep ^User-Agent:\\ (.*) X-UA:\\ \\1\n",
    ));
    assert_eq!(v, Verdict::Continue);
    assert_eq!(
        out,
        "GET /a.png?x=1 HTTP/1.1\nHost: example.com\n\
         X-Forwarded-For: 192.168.10.1, 192.168.13.24, 10.0.0.37\nX-UA: curl/7.47.0\nX-Legacy: yes\n"
    );
}

#[test]
fn legacy_allow_deny_tarpit_pass_block() {
    assert_eq!(run("  reqdeny ^User-Agent:\\ curl\n").0, Verdict::Deny(403));
    assert_eq!(run("  reqideny ^user-agent:\\ CURL\n").0, Verdict::Deny(403));
    assert_eq!(run("  reqdeny ^User-Agent:\\ CURL\n").0, Verdict::Continue);
    assert_eq!(run("  reqallow ^GET\n  reqdeny ^User-Agent\n").0, Verdict::Continue);
    assert_eq!(run("  reqallow ^POST\n  reqdeny ^User-Agent\n").0, Verdict::Deny(403));
    assert_eq!(run("  reqtarpit ^GET\\ /static\n").0, Verdict::Tarpit(500));
    assert_eq!(run("  reqpass ^Host\n  reqdeny ^GET\n").0, Verdict::Continue);
    assert_eq!(run("  reqdeny ^GET if { src 10.0.0.0/8 }\n").0, Verdict::Continue);
    let (v, _) = run("  acl local src 192.168.0.0/16\n  block if local\n  http-request allow\n");
    assert_eq!(v, Verdict::Deny(403), "block runs before http-request");
    let (v, out) = run("  reqallow ^GET\n  reqrep ^Cookie:\\ a=(.*) Cookie:\\ b=\\1\n  reqdeny .\n");
    assert_eq!(v, Verdict::Continue);
    assert!(out.contains("Cookie: b=1\n"), "rewrites still run after allow: {out}");
}

#[test]
fn redirects() {
    let red = |body: &str, req: &str| text(&run_on(body, req).0);
    let get = "GET /a/b?x=1 HTTP/1.1\nHost: www.example.com\n\n";
    assert_eq!(
        red("  redirect location /maint\n", get),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /maint\r\ncache-control: no-cache\r\n\r\n"
    );
    assert_eq!(
        red("  redirect prefix http://other.com code 301\n", get),
        "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: http://other.com/a/b?x=1\r\n\r\n"
    );
    assert!(red("  redirect prefix https://o drop-query append-slash\n", get).contains("location: https://o/a/b/\r\n"));
    assert!(red("  redirect prefix / drop-query\n", get).contains("location: /a/b\r\n"));
    assert!(red("  redirect scheme https if !{ dst_port 443 }\n", get)
        .contains("location: https://www.example.com/a/b?x=1\r\n"));
    let r = red("  redirect location / code 303 set-cookie SEEN=1 clear-cookie OLD=\n", get);
    assert!(r.starts_with("HTTP/1.1 303 See Other\r\n"), "{r}");
    assert!(r.contains("set-cookie: SEEN=1; path=/\r\nset-cookie: OLD=; path=/; Max-Age=0\r\n"), "{r}");
    assert!(red("  http-request redirect location /x code 308 if { path_beg /a }\n", get)
        .starts_with("HTTP/1.1 308 Permanent Redirect\r\n"));
    assert_eq!(red("  redirect location /x if { path_beg /z }\n", get), "Continue");
    assert!(red("  redirect location https://%[req.hdr(host)]/new\n", get)
        .contains("location: https://www.example.com/new\r\n"));
}

#[test]
fn forwardfor_and_originalto() {
    let xff = |body: &str, req: &str| {
        let (_, out) = run_on(body, req);
        out.lines()
            .filter(|l| l.starts_with("X-Forwarded-For") || l.starts_with("X-Original-To") || l.starts_with("X-Client"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let plain = "GET / HTTP/1.1\nHost: h\n\n";
    assert_eq!(xff("  option forwardfor\n", plain), vec!["X-Forwarded-For: 192.168.1.10"]);
    assert!(xff("  option forwardfor except 192.168.0.0/16\n", plain).is_empty());
    assert_eq!(xff("  option forwardfor except 127.0.0.0/8\n", plain), vec!["X-Forwarded-For: 192.168.1.10"]);
    assert_eq!(xff("  option forwardfor header X-Client\n", plain), vec!["X-Client: 192.168.1.10"]);
    let with = "GET / HTTP/1.1\nX-Forwarded-For: 1.1.1.1\n\n";
    assert_eq!(xff("  option forwardfor if-none\n", with), vec!["X-Forwarded-For: 1.1.1.1"]);
    assert_eq!(xff("  option forwardfor\n", with), vec!["X-Forwarded-For: 1.1.1.1", "X-Forwarded-For: 192.168.1.10"]);
    assert_eq!(xff("  option originalto\n", plain), vec!["X-Original-To: 10.0.0.1"]);

    // IPv6 client; the backend's header name wins over the frontend's.
    let fe = rules("  option forwardfor\n");
    let be = rules("  option forwardfor header X-Real\n");
    let (buf, head) = testhead::req(plain);
    let mut edits = HeadEdits::default();
    let c6 = Conn { src: "[2001:db8::1]:5000".parse().expect("v6"), dst: "[::1]:80".parse().expect("v6") };
    apply_forwarding(&fe, Some(&be), &buf, &head, &c6, &mut edits);
    assert_eq!(edits.added, vec![(b"X-Real".to_vec(), b"2001:db8::1".to_vec())]);
}

fn run_res(body: &str, res: &str) -> (Verdict, String) {
    let r = rules(body);
    let (qbuf, qhead) = testhead::req(REQ);
    let (buf, head) = testhead::res(res);
    let mut edits = HeadEdits::default();
    let v = apply_response(&r, &HttpView::new(&qbuf, &qhead), &buf, &head, &conn(), &mut edits);
    (v, render(view::line_from(&buf, 0), &buf, &head.headers, &edits))
}

const RES: &str = "HTTP/1.1 200 OK\nServer: Apache/2.4\nSet-Cookie: JSID=1; path=/\nX-Debug: on\n\n";

#[test]
fn response_rules() {
    let (v, out) = run_res(
        concat!(
            "  http-response set-header Server nbproxy\n",
            "  http-response del-header x-debug\n",
            "  http-response add-header X-Path %[path] if { status 200 }\n",
            "  http-response replace-header Set-Cookie (.*) \\1;\\ Secure\n",
        ),
        RES,
    );
    assert_eq!(v, Verdict::Continue);
    assert_eq!(out, "HTTP/1.1 200 OK\nSet-Cookie: JSID=1; path=/; Secure\nServer: nbproxy\nX-Path: /static/a.png\n");
    assert_eq!(run_res("  http-response deny if { res.hdr(server) -m beg Apache }\n", RES).0, Verdict::Deny(502));
    assert_eq!(run_res("  http-response deny deny_status 500\n", RES).0, Verdict::Deny(500));
    let (_, out) = run_res("  http-response set-status 404 if { status 200 }\n", RES);
    assert!(out.starts_with("HTTP/1.1 404 Not Found\n"), "{out}");
}

#[test]
fn legacy_response_rules() {
    let (v, out) =
        run_res("  rspadd X-Via:\\ nbproxy\n  rspidel ^x-debug:\n  rsprep ^Server:\\ (.*) Server:\\ hidden\n", RES);
    assert_eq!(v, Verdict::Continue);
    assert_eq!(out, "HTTP/1.1 200 OK\nServer: hidden\nSet-Cookie: JSID=1; path=/\nX-Via: nbproxy\n");
    assert_eq!(run_res("  rspdeny ^Server:\\ Apache\n", RES).0, Verdict::Deny(502));
    let (_, out) = run_res("  rsprep ^HTTP/1.1\\ 200\\ OK HTTP/1.1\\ 200\\ Fine\n", RES);
    assert!(out.starts_with("HTTP/1.1 200 Fine\n"), "{out}");
}

#[test]
fn compile_errors_are_reported() {
    let mut px = testhead::proxy("listen l\n  mode http\n  reqrep ^a b\n");
    px.legacy_rules[0].arg = "(".into();
    let e = CompiledRules::new(&px, Default::default()).expect_err("bad regex");
    assert!(e.contains("reqrep"), "{e}");
    let px = testhead::proxy("listen l\n  mode http\n  http-request set-header X %[nope(\n");
    assert!(CompiledRules::new(&px, Default::default()).is_err());
}

#[test]
fn extra_conditions_use_the_proxy_acls() {
    let mut px = testhead::proxy(
        "frontend f\n  mode http\n  acl api path_beg /api\n  use_backend b if api METH_GET\n  default_backend b\n\
         backend b\n  mode http\n",
    );
    px.http_request.clear();
    let mut r = CompiledRules::new(&px, Default::default()).expect("compile");
    let cond = r.cond(px.use_backends[0].cond.as_ref().expect("cond")).expect("compile cond");
    let (buf, head) = testhead::req("GET /api/x HTTP/1.1\n\n");
    assert!(r.eval(&cond, &HttpView::new(&buf, &head), &conn()));
    let (buf, head) = testhead::req("POST /api/x HTTP/1.1\n\n");
    assert!(!r.eval(&cond, &HttpView::new(&buf, &head), &conn()));
    assert_eq!(r.name(), "f");
    assert!(r.acls().eval_opt(None, &conn()));
}

#[test]
#[allow(clippy::reversed_empty_ranges)] // deliberately inconsistent offsets: must not panic
fn bogus_ranges_never_panic() {
    let r = rules(concat!(
        "  reqrep ^(.*) \\1\n  reqdeny ^X\n  http-request set-path /x\n  http-request add-header A %[req.hdr(h)]\n",
        "  redirect prefix /p if { hdr_beg(host) q }\n  option forwardfor\n",
    ));
    let buf = b"GET / HTTP/1.1\r\n\r\n".to_vec();
    let head = RequestHead {
        method: 50..60,
        uri: 3..1000,
        headers: vec![crate::http::head::HeaderIdx { name: 100..90, value: 2000..3000, line: 5..4 }],
        ..Default::default()
    };
    let mut edits = HeadEdits::default();
    let _ = apply_request(&r, &buf, &head, true, &conn(), &mut edits);
    apply_forwarding(&r, None, &buf, &head, &conn(), &mut edits);
}
