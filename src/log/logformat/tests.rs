//! Unit tests of log formats: parsing, every variable, separators, flags, captures, and `tcplog`/`httplog`
//! rendered through their format strings. (Compiled only under `#[cfg(test)]`.)

use std::cell::RefCell;

use super::super::format::tests::{http_sample, tcp_sample};
use super::super::format::TcpLogFields;
use super::super::reference::{httplog, tcplog};
use super::super::time::tests::{force_utc, sample_time};
use super::*;
use crate::config::model::{Capture, CaptureKind};

fn no_sample(_: usize) -> Option<String> {
    None
}

fn render(fmt: &str, v: &LogValues<'_>) -> String {
    LogFormatSpec::parse(fmt).unwrap_or_else(|e| panic!("{fmt}: {e}")).render_to_string(v, &no_sample)
}

const REQ_HDRS: [&str; 2] = ["1wt.eu", ""];

fn full<'a>(req: &'a [String], res: &'a [String]) -> LogValues<'a> {
    LogValues {
        client: Some("10.0.1.2:33317".parse().unwrap()),
        frontend_addr: Some("10.0.3.31:8012".parse().unwrap()),
        backend_src: Some("192.168.0.1:40000".parse().unwrap()),
        server_addr: Some("[2001:db8::1]:8080".parse().unwrap()),
        frontend: "http-in",
        frontend_ssl: true,
        backend: "static",
        server: "srv1",
        accept_time: sample_time(),
        t_handshake: 1,
        t_idle: 5,
        t_request: 10,
        t_queue: 2,
        t_connect: 30,
        t_response: 69,
        t_total: 120,
        http: true,
        logasap: false,
        status: 200,
        bytes_out: 2750,
        bytes_in: 321,
        term: *b"--NI",
        actconn: 1,
        feconn: 2,
        beconn: 3,
        srv_conn: 4,
        retries: 1,
        redispatched: true,
        srv_queue: 5,
        backend_queue: 6,
        request_headers: req,
        response_headers: res,
        request_cookie: Some("SID=ab#c"),
        response_cookie: None,
        request_line: Some(b"GET /a/b?x=1 HTTP/1.1"),
        unique_id: Some("ID-1"),
        hostname: "lb1",
        pid: 1234,
        request_counter: 77,
        log_counter: 9,
        ssl_cipher: Some("AES-SHA"),
        ssl_version: Some("TLSv1.3"),
    }
}

#[test]
fn every_variable() {
    force_utc();
    let req: Vec<String> = REQ_HDRS.iter().map(|s| s.to_string()).collect();
    let res = vec!["text/html".to_string()];
    let v = full(&req, &res);
    let table: &[(&str, &str)] = &[
        ("ci", "10.0.1.2"),
        ("cp", "33317"),
        ("fi", "10.0.3.31"),
        ("fp", "8012"),
        ("bi", "192.168.0.1"),
        ("bp", "40000"),
        ("si", "2001:db8::1"),
        ("sp", "8080"),
        ("t", "25/Nov/2026:15:26:00.636"),
        ("T", "25/Nov/2026:15:26:00 +0000"),
        ("Tl", "25/Nov/2026:15:26:00 +0000"),
        ("tr", "25/Nov/2026:15:26:00.642"),
        ("trg", "25/Nov/2026:15:26:00 +0000"),
        ("trl", "25/Nov/2026:15:26:00 +0000"),
        ("Ts", "1795620360"),
        ("ms", "636"),
        ("f", "http-in"),
        ("ft", "http-in~"),
        ("b", "static"),
        ("s", "srv1"),
        ("Th", "1"),
        ("Ti", "5"),
        ("TR", "10"),
        ("Tq", "16"),
        ("Tw", "2"),
        ("Tc", "30"),
        ("Tr", "69"),
        ("Td", "3"),
        ("Ta", "114"),
        ("Tt", "120"),
        ("Tu", "115"),
        ("ST", "200"),
        ("B", "2750"),
        ("U", "321"),
        ("CC", "SID=ab#23c"),
        ("CS", "-"),
        ("ts", "--"),
        ("tsc", "--NI"),
        ("ac", "1"),
        ("fc", "2"),
        ("bc", "3"),
        ("sc", "4"),
        ("rc", "+1"),
        ("rt", "77"),
        ("sq", "5"),
        ("bq", "6"),
        ("hr", "{1wt.eu|}"),
        ("hrl", "1wt.eu -"),
        ("hs", "{text/html}"),
        ("hsl", "text/html"),
        ("r", "GET /a/b?x=1 HTTP/1.1"),
        ("HM", "GET"),
        ("HU", "/a/b?x=1"),
        ("HP", "/a/b"),
        ("HPO", "/a/b"),
        ("HQ", "?x=1"),
        ("HV", "HTTP/1.1"),
        ("H", "lb1"),
        ("ID", "ID-1"),
        ("pid", "1234"),
        ("lc", "9"),
        ("sslc", "AES-SHA"),
        ("sslv", "TLSv1.3"),
    ];
    for (name, want) in table {
        assert!(Var::from_name(name).is_some(), "{name}");
        assert_eq!(render(&format!("%{name}"), &v), *want, "%{name}");
        // Braced form and a literal suffix terminate the name the same way.
        assert_eq!(render(&format!("<%{{}}{name}>"), &v), format!("<{want}>"), "%{{}}{name}");
    }
    assert_eq!(table.len(), 63);
}

#[test]
fn tcplog_equivalence() {
    force_utc();
    let spec = LogFormatSpec::parse(TCPLOG_FMT).unwrap();
    let base = TcpLogFields {
        client: "127.0.0.1:60812".parse().unwrap(),
        accept_time: sample_time(),
        frontend: "tfe",
        backend: "tbe",
        server: "t1",
        tw: 1,
        tc: 0,
        tt: 2003,
        bytes_read: 53,
        term: *b"--",
        actconn: 1,
        feconn: 1,
        beconn: 0,
        srv_conn: 0,
        retries: 0,
        redispatched: false,
        srv_queue: 0,
        backend_queue: 0,
    };
    let mut failed = base.clone();
    failed.client = "[::1]:4000".parse().unwrap();
    failed.server = "<NOSRV>";
    (failed.tw, failed.tc, failed.term) = (-1, -1, *b"SC");
    (failed.retries, failed.redispatched, failed.srv_queue, failed.backend_queue) = (3, true, 2, 7);
    let mut odd = base.clone();
    (odd.term, odd.bytes_read, odd.tt) = ([b'c', 0], 1 << 40, 0);
    for f in [base, failed, odd] {
        let got = spec.render_to_string(&LogValues::from_tcp(&f), &no_sample);
        assert_eq!(got, tcplog(&f));
    }
    assert_eq!(
        render(TCPLOG_FMT, &LogValues::from_tcp(&tcp_sample())),
        "127.0.0.1:60812 [25/Nov/2026:15:26:00.636] tfe tbe/t1 1/0/2003 53 -- 1/1/0/0/0 0/0"
    );
}

#[test]
fn httplog_equivalence() {
    force_utc();
    let spec = LogFormatSpec::parse(HTTPLOG_FMT).unwrap();
    let plain = http_sample();
    let mut busy = http_sample();
    busy.request_headers = vec!["1wt.eu".into(), "a|b{c}".into()];
    busy.response_headers = vec![String::new()];
    busy.request_cookie = Some("SID=1");
    busy.response_cookie = Some("");
    busy.request_line = b"GET /a\"b#c\x01\xff HTTP/1.1";
    (busy.logasap, busy.redispatched, busy.retries, busy.term, busy.status) = (true, true, 1, *b"SCVI", -1);
    let mut resp_only = http_sample();
    resp_only.response_headers = vec!["text/html".into()];
    let mut bad = http_sample();
    bad.client = "[::1]:5".parse().unwrap();
    bad.server = "<NOSRV>";
    (bad.tq, bad.tw, bad.tc, bad.tr, bad.tt, bad.status) = (-1, -1, -1, -1, 8490, 400);
    bad.request_line = b"<BADREQ>";
    bad.term = *b"CR--";
    let mut req_only = http_sample();
    req_only.request_headers = vec![String::new(), String::new()];
    req_only.response_cookie = Some("S=2; x");
    for f in [&plain, &busy, &resp_only, &bad, &req_only] {
        let got = spec.render_to_string(&LogValues::from_http(f), &no_sample);
        assert_eq!(got, httplog(f));
    }
    assert_eq!(
        spec.render_to_string(&LogValues::from_http(&plain), &no_sample),
        "127.0.0.1:40042 [25/Nov/2026:15:26:00.636] fe be/web1 0/0/0/301/301 200 60 - - ---- 1/1/0/0/0 0/0 \
         \"GET /x HTTP/1.1\""
    );
    // `request_line: None` prints <BADREQ> like httplog given the literal.
    let mut v = LogValues::from_http(&bad);
    v.request_line = None;
    assert_eq!(spec.render_to_string(&v, &no_sample), httplog(&bad));
}

#[test]
fn httplog_equivalence_with_captures() {
    force_utc();
    let caps = Captures::new(&[
        Capture { kind: CaptureKind::RequestHeader, name: "Host".into(), len: 8 },
        Capture { kind: CaptureKind::ResponseHeader, name: "Content-Type".into(), len: 40 },
        Capture { kind: CaptureKind::RequestHeader, name: "X-Nope".into(), len: 8 },
        Capture { kind: CaptureKind::Cookie, name: "SID".into(), len: 10 },
    ]);
    let req: [(&[u8], &[u8]); 2] = [(b"Host", b"www.example.com"), (b"Cookie", b"SID=123; x=1")];
    let res: [(&[u8], &[u8]); 1] = [(b"content-type", b"text/html|x")];
    let mut f = http_sample();
    caps.capture_request(req.iter().copied(), &mut f.request_headers);
    caps.capture_response(res.iter().copied(), &mut f.response_headers);
    let cc = caps.capture_cookie_req(req.iter().copied());
    let cs = caps.capture_cookie_res(res.iter().copied());
    f.request_cookie = cc.as_deref();
    f.response_cookie = cs.as_deref();
    let line = httplog(&f);
    assert!(line.contains(" SID=123 - ---- 1/1/0/0/0 0/0 {www.exam|} {text/html#7Cx} \"GET"), "{line}");
    let got = LogFormatSpec::parse(HTTPLOG_FMT).unwrap().render_to_string(&LogValues::from_http(&f), &no_sample);
    assert_eq!(got, line);
}

#[test]
fn clf_parses_and_quotes_strings_only() {
    // No response capture: `%hsl` prints nothing, the separator before it remains (HAProxy does the same).
    force_utc();
    let req = vec!["h".to_string(), String::new()];
    let v = full(&req, &[]);
    assert_eq!(
        render(CLF_FMT, &v),
        "10.0.1.2 - - [25/Nov/2026:15:26:00 +0000] \"GET /a/b?x=1 HTTP/1.1\" 200 2750 \"\" \"\" 33317 636 \
         \"http-in~\" \"static\" \"srv1\" 10 2 30 69 114 --NI 1 2 3 4 +1 5 6 \"SID=ab#23c\" \"\" \"h\" \"\" "
    );
}

#[test]
fn flags_quote_escape_hex_mandatory() {
    force_utc();
    let mut v = full(&[], &[]);
    assert_eq!(
        render("%{+Q}b %{+Q}ci %{+Q}cp %{+Q}ST %{+Q}r", &v),
        "\"static\" \"10.0.1.2\" 33317 200 \"GET /a/b?x=1 HTTP/1.1\""
    );
    assert_eq!(
        render("%{+X}ci:%{+X}cp %{+X}si %{+X}Ts %{+X}ms %{+X}pid %{+X}rt %{+X}lc %{+X}Tw", &v),
        "0A000102:8225 20010DB8000000000000000000000001 6B06FE08 27C 04D2 004D 0009 2"
    );
    v.unique_id = None;
    assert_eq!(render("[%ID] [%{+Q}ID] [%{-M}ID] [%{+Q,-M}ID]", &v), "[-] [\"\"] [] [\"\"]");
    v.backend = "a\"b\\c]d";
    assert_eq!(render("%b|%{+E}b|%{+Q,+E}b", &v), "a\"b\\c]d|a\\\"b\\\\c\\]d|\"a\\\"b\\\\c\\]d\"");
    v.request_line = Some(b"GET /x]\"\\ HTTP/1.1");
    assert_eq!(render("%r|%{+E}r", &v), "GET /x]#22\\ HTTP/1.1|GET /x\\]#22\\\\ HTTP/1.1");
    // %o sets defaults for the following variables; unknown or sign-less flags are ignored.
    v.backend = "static";
    assert_eq!(render("%f %{+Q}o %b %{-Q}s %f %{+Z,Q}ts", &v), "http-in \"static\" srv1 \"http-in\" --");
    // A separator before a variable that prints nothing stays, as in HAProxy (here: a trailing space).
    assert_eq!(render("%{+Q}ft %{+Q}hr", &v), "\"http-in~\" ");
    let req = vec!["a b".to_string(), String::new()];
    v.request_headers = &req;
    assert_eq!(render("%{+Q}hr %{+Q}hrl %hrl", &v), "\"{a b|}\" \"a b\" \"\" a b -");
    // Numbers are never quoted or escaped.
    assert_eq!(render("%{+Q,+E}Ta %{+Q}B %{+Q}rc", &v), "114 2750 +1");
}

#[test]
fn separators_literals_and_percent() {
    force_utc();
    let v = full(&[], &[]);
    assert_eq!(render("  %b   %s  ", &v), "static srv1 ");
    assert_eq!(render("%hr %hs %hrl %hsl %b", &v), "static");
    assert_eq!(render("%sq/%bq %hr %hs %{+Q}r", &v), "5/6 \"GET /a/b?x=1 HTTP/1.1\"");
    assert_eq!(render("a%%b 100%% %%ci", &v), "a%b 100% %ci");
    assert_eq!(render("%b\t%s", &v), "static\tsrv1");
    assert_eq!(render("%Tw/%Tc:%s.%b-%f", &v), "2/30:srv1.static-http-in");
    assert_eq!(render("x%/y", &v), "x/y");
    assert_eq!(render("é%b€", &v), "éstatic€");
    assert!(LogFormatSpec::parse("").unwrap().is_empty());
    assert_eq!(render("", &v), "");
}

#[test]
fn samples_go_through_the_callback() {
    let v = LogValues::default();
    let seen = RefCell::new(Vec::new());
    let spec =
        LogFormatSpec::parse("%[req.hdr(host),lower] %{+Q}[src] %[none] %{+Q}[none] %{+E}[f(a]b)] %[ empty ]").unwrap();
    // The callback gets a sample's rank among `sample_exprs()` (what the caller compiled, in that order).
    let exprs: Vec<String> = spec.sample_exprs().map(str::to_string).collect();
    let cb = |rank: usize| -> Option<String> {
        let e = exprs[rank].as_str();
        seen.borrow_mut().push(e.to_string());
        match e {
            "req.hdr(host),lower" => Some("ex.com".into()),
            "src" => Some("1.2.3.4".into()),
            "f(a]b)" => Some("x\"]".into()),
            "empty" => Some(String::new()),
            _ => None,
        }
    };
    assert_eq!(
        spec.sample_exprs().collect::<Vec<_>>(),
        ["req.hdr(host),lower", "src", "none", "none", "f(a]b)", "empty"]
    );
    assert_eq!(spec.render_to_string(&v, &cb), "ex.com \"1.2.3.4\" - \"\" x\\\"\\] -");
    assert_eq!(seen.borrow().len(), 6);
}

#[test]
fn parse_errors() {
    for (fmt, needle) in [
        ("%foo", "'foo'"),
        ("x %rm y", "'rm'"),
        ("%Tx", "'Tx'"),
        ("%{+Q}", "without variable name"),
        ("%{+Q} x", "without variable name"),
        ("%{+Q", "truncated"),
        ("%[src", "missing ']'"),
        ("%[f(a]", "missing ']'"),
        ("%[]", "empty sample"),
        ("%", "truncated"),
        ("abc %", "truncated"),
        ("%1", "unexpected variable name"),
        ("% x", "unexpected variable name"),
    ] {
        let err = LogFormatSpec::parse(fmt).expect_err(fmt);
        assert!(err.contains(needle), "{fmt}: {err}");
    }
    assert!(LogFormatSpec::parse(HTTPLOG_FMT).is_ok());
}

#[test]
fn request_line_parts() {
    let parts = |line: Option<&[u8]>| -> String {
        let v = LogValues { request_line: line, ..LogValues::default() };
        render("%HM|%HU|%HP|%HPO|%{+Q}HQ|%HV", &v)
    };
    assert_eq!(parts(Some(b"GET / HTTP/1.0")), "GET|/|/|/|\"\"|HTTP/1.0");
    assert_eq!(
        parts(Some(b"GET http://ex.com:8080/p/q?z=1&y HTTP/1.1")),
        "GET|http://ex.com:8080/p/q?z=1&y|http://ex.com:8080/p/q|/p/q|\"?z=1&y\"|HTTP/1.1"
    );
    assert_eq!(parts(Some(b"GET http://ex.com HTTP/1.1")), "GET|http://ex.com|http://ex.com||\"\"|HTTP/1.1");
    assert_eq!(parts(Some(b"CONNECT ex.com:443 HTTP/1.1")), "CONNECT|ex.com:443|ex.com:443||\"\"|HTTP/1.1");
    assert_eq!(parts(Some(b"GET /x")), "GET|/x|/x|/x|\"\"|HTTP/0.9");
    assert_eq!(parts(Some(b"GET  /two\t  HTTP/1.1")), "GET|/two|/two|/two|\"\"|HTTP/1.1");
    assert_eq!(parts(Some(b"GET /a\"b?#c HTTP/1.1")), "GET|/a#22b?#23c|/a#22b|/a#22b|\"?#23c\"|HTTP/1.1");
    assert_eq!(parts(Some(b"GET")), "<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|\"\"|<BADREQ>");
    assert_eq!(parts(None), "<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|\"<BADREQ>\"|<BADREQ>");
}

#[test]
fn derived_timers_and_logasap() {
    force_utc();
    let mut v = LogValues { t_queue: 1, t_connect: 5, t_total: 100, ..LogValues::default() };
    assert_eq!(render("%Tq %Ta %Tu %Td %TR", &v), "-1 100 100 94 -1");
    v.http = true;
    assert_eq!(render("%Td", &v), "-1");
    (v.t_request, v.t_response, v.t_idle, v.t_handshake) = (3, 10, 7, 2);
    assert_eq!(render("%Tq %Ta %Tu %Td", &v), "12 91 93 72");
    v.t_idle = -1;
    assert_eq!(render("%Ta %Tu %tr", &v), "100 100 01/Jan/1970:00:00:00.000");
    v.t_idle = 1500;
    assert_eq!(render("%tr %Tl", &v), "01/Jan/1970:00:00:01.502 01/Jan/1970:00:00:00 +0000");
    v.logasap = true;
    v.bytes_out = 7;
    assert_eq!(render("%Ta %Tt %Tu %B %Tw", &v), "+-1402 +100 +-1400 +7 1");
}

fn caps() -> Captures {
    Captures::new(&[
        Capture { kind: CaptureKind::RequestHeader, name: "Host".into(), len: 4 },
        Capture { kind: CaptureKind::ResponseHeader, name: "Content-Type".into(), len: 9 },
        Capture { kind: CaptureKind::RequestHeader, name: "User-Agent".into(), len: 20 },
        Capture { kind: CaptureKind::Cookie, name: "SID".into(), len: 6 },
        Capture { kind: CaptureKind::RequestHeader, name: "X-Missing".into(), len: 5 },
        Capture { kind: CaptureKind::Cookie, name: "OTHER".into(), len: 3 },
    ])
}

#[test]
fn header_captures_order_truncation_absence() {
    let c = caps();
    assert_eq!((c.request_slots(), c.response_slots(), c.has_cookie(), c.is_empty()), (3, 1, true, false));
    let hdrs: [(&[u8], &[u8]); 4] =
        [(b"host", b"www.example.com"), (b"User-Agent", b"  curl/8  "), (b"Accept", b"*/*"), (b"HOST", b"second")];
    let mut out = vec!["junk".to_string(); 5];
    c.capture_request(hdrs.iter().copied(), &mut out);
    // Last occurrence wins (HAProxy overwrites the slot on each match), truncated to len, trimmed.
    assert_eq!(out, ["seco", "curl/8", ""]);
    c.capture_request(std::iter::empty(), &mut out);
    assert_eq!(out, ["", "", ""]);
    let res: [(&[u8], &[u8]); 2] = [(b"Server", b"x"), (b"content-type", b"text/html; charset=utf-8")];
    let mut rout = Vec::new();
    c.capture_response(res.iter().copied(), &mut rout);
    assert_eq!(rout, ["text/html"]);
    let none = Captures::new(&[]);
    assert!(none.is_empty());
    let mut empty = vec!["x".to_string()];
    none.capture_request(hdrs.iter().copied(), &mut empty);
    assert!(empty.is_empty());
    assert_eq!(none.capture_cookie_req(hdrs.iter().copied()), None);
    // Non-UTF-8 bytes are replaced.
    let raw: [(&[u8], &[u8]); 1] = [(b"User-Agent", b"a\xffb")];
    c.capture_request(raw.iter().copied(), &mut out);
    assert_eq!(out[1], "a\u{fffd}b");
}

#[test]
fn cookie_captures() {
    let c = caps();
    let req: [(&[u8], &[u8]); 3] =
        [(b"Accept", b"SID=no"), (b"Cookie", b"a=1;  SIDX=abcdefgh ; SID=zz"), (b"cookie", b"SID=late")];
    assert_eq!(c.capture_cookie_req(req.iter().copied()).as_deref(), Some("SIDX=a"));
    let exact = Captures::new(&[Capture { kind: CaptureKind::Cookie, name: "SID=".into(), len: 64 }]);
    assert_eq!(exact.capture_cookie_req(req.iter().copied()).as_deref(), Some("SID=zz"));
    let res: [(&[u8], &[u8]); 3] =
        [(b"Cookie", b"SID=req"), (b"Set-Cookie", b"other=1; SID=no"), (b"set-cookie", b"SID=new; Path=/")];
    assert_eq!(c.capture_cookie_res(res.iter().copied()).as_deref(), Some("SID=ne"));
    assert_eq!(exact.capture_cookie_res(res.iter().copied()).as_deref(), Some("SID=new"));
    let absent: [(&[u8], &[u8]); 1] = [(b"Cookie", b"sid=lower")];
    assert_eq!(c.capture_cookie_req(absent.iter().copied()), None);
    assert_eq!(c.capture_cookie_res(absent.iter().copied()), None);
}
