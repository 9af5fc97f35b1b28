//! Unit tests, compiled only under `#[cfg(test)]`.

use super::*;
use crate::config::model::CondTerm;
use crate::http::head::HeadEdits;
use crate::http::testhead;

struct C;
impl Context for C {
    fn src(&self) -> SocketAddr {
        "10.1.2.3:5555".parse().expect("addr")
    }
    fn dst(&self) -> SocketAddr {
        "127.0.0.1:8443".parse().expect("addr")
    }
}

fn term(fetch: &str, method: MatchMethod, pats: &[&str]) -> AclTerm {
    AclTerm {
        fetch: fetch.into(),
        args: vec![],
        converters: vec![],
        method,
        ignore_case: false,
        patterns: pats.iter().map(|s| s.to_string()).collect(),
        files: vec![],
    }
}

#[test]
fn ip_and_port_matching() {
    assert!(eval_term(&term("src", MatchMethod::Ip, &["10.0.0.0/8"]), &C));
    assert!(!eval_term(&term("src", MatchMethod::Ip, &["192.168.0.0/16", "10.1.2.4"]), &C));
    assert!(eval_term(&term("src", MatchMethod::Ip, &["10.1.0.0/255.255.0.0"]), &C));
    assert!(eval_term(&term("dst_port", MatchMethod::Int, &["8443"]), &C));
    assert!(eval_term(&term("dst_port", MatchMethod::Int, &["8000:9000"]), &C));
    assert!(eval_term(&term("dst_port", MatchMethod::Int, &["gt", "8000"]), &C));
    assert!(!eval_term(&term("dst_port", MatchMethod::Int, &["lt", "8000"]), &C));
}

#[test]
fn conditions_combine() {
    let acls = vec![Acl {
        pos: Default::default(),
        name: "local".into(),
        term: term("src", MatchMethod::Ip, &["10.0.0.0/8"]),
    }];
    let named = |neg| CondTerm { negate: neg, kind: CondTermKind::Named("local".into()) };
    let unknown =
        CondTerm { negate: false, kind: CondTermKind::Anonymous(term("req.ssl_hello_type", MatchMethod::Int, &["1"])) };
    assert!(eval_cond(&Cond { negate: false, alternatives: vec![vec![named(false)]] }, &acls, &C));
    assert!(!eval_cond(&Cond { negate: true, alternatives: vec![vec![named(false)]] }, &acls, &C));
    assert!(!eval_cond(&Cond { negate: false, alternatives: vec![vec![named(false), unknown.clone()]] }, &acls, &C));
    assert!(eval_cond(&Cond { negate: false, alternatives: vec![vec![unknown], vec![named(false)]] }, &acls, &C));
    assert!(eval_cond(&Cond { negate: false, alternatives: vec![vec![named(true)], vec![named(false)]] }, &acls, &C));
}

struct H<'a> {
    view: HttpView<'a>,
}
impl Context for H<'_> {
    fn src(&self) -> SocketAddr {
        "192.168.1.10:40000".parse().expect("addr")
    }
    fn dst(&self) -> SocketAddr {
        "10.0.0.1:80".parse().expect("addr")
    }
    fn counter(&self, c: &crate::acl::fetch::Counter) -> Option<Sample> {
        matches!(c, crate::acl::fetch::Counter::NbSrv(_)).then_some(Sample::Int(2))
    }
    fn http(&self) -> Option<HttpView<'_>> {
        Some(self.view)
    }
}

const REQ: &str = "GET /static/img/Logo.PNG?size=10&user=bob HTTP/1.1\nHost: www.Example.com:8080\n\
    Accept: text/html, image/png\nX-Num: 42\nX-Forwarded-For: 1.2.3.4\nX-Forwarded-For: 5.6.7.8, 9.9.9.9\n\
    Cookie: a=1; SRV=s2; lang=fr\nContent-Length: 12\n\n";

/// Evaluate `acl a <spec>` (config syntax) against `req` (and `res`).
fn acl_on(spec: &str, req: &str, res: Option<&str>, first: bool) -> bool {
    let px = testhead::proxy(&format!("listen l\n  mode http\n  acl a {spec}\n"));
    let mut acls = CompiledAcls::new(&px.acls, Default::default()).expect("compile");
    let cond = acls
        .cond(&Cond {
            negate: false,
            alternatives: vec![vec![CondTerm { negate: false, kind: CondTermKind::Named("a".into()) }]],
        })
        .expect("cond");
    let (buf, head) = testhead::req(req);
    let r = res.map(testhead::res);
    let mut view = HttpView::new(&buf, &head);
    view.first_req = first;
    view.res = r.as_ref().map(|(b, h)| ResView::new(b, h));
    acls.eval(&cond, &H { view })
}

/// Evaluate a predefined ACL by name.
fn pre(name: &str, req: &str) -> bool {
    let mut acls = CompiledAcls::new(&[], Default::default()).expect("compile");
    let cond = acls
        .cond(&Cond {
            negate: false,
            alternatives: vec![vec![CondTerm { negate: false, kind: CondTermKind::Named(name.into()) }]],
        })
        .expect("cond");
    let (buf, h) = testhead::req(req);
    acls.eval(&cond, &H { view: HttpView::new(&buf, &h) })
}

fn acl(spec: &str) -> bool {
    acl_on(spec, REQ, None, true)
}

#[test]
fn method_and_version() {
    assert!(acl("method GET"));
    assert!(!acl("method get"));
    assert!(acl("method -i get"));
    assert!(acl("req_ver 1.1"));
    assert!(!acl("req_ver 1.0"));
    assert!(acl("req.ver 1.1"));
}

#[test]
fn path_fetches() {
    assert!(acl("path /static/img/Logo.PNG"));
    assert!(acl("path_beg /static /api"));
    assert!(!acl("path_beg /api"));
    assert!(acl("path_end .PNG"));
    assert!(!acl("path_end .png"));
    assert!(acl("path_end -i .png .jpg"));
    assert!(acl("path_sub img/"));
    assert!(acl("path_dir img"));
    assert!(acl("path_dir static/img"));
    assert!(!acl("path_dir im"));
    assert!(acl("path_dom Logo"));
    assert!(acl("path_reg ^/static/.*\\.PNG$"));
    assert!(acl("path_reg -i \\.png$"));
    assert!(!acl("path_reg \\.png$"));
    assert!(acl("path_len 20"));
    assert!(acl("path_len gt 10"));
    assert!(acl("path -m beg /static/"));
    assert!(acl("path -m end -i .png"));
    assert!(acl("path -m sub img"));
    assert!(acl("path -m reg ^/s"));
    assert!(acl("path -m len 15:25"));
    assert!(acl("path -m found"));
    assert!(acl("path,lower -m end .png"));
    assert!(acl("path,upper -m beg /STATIC"));
}

#[test]
fn url_fetches() {
    assert!(acl("url /static/img/Logo.PNG?size=10&user=bob"));
    assert!(acl("url_beg /static"));
    assert!(acl("url_end user=bob"));
    assert!(acl("url_sub size=10"));
    assert!(acl("url_reg size=[0-9]+"));
    assert!(acl("url_param(user) bob"));
    assert!(acl("urlp(size) -m int 10"));
    assert!(!acl("urlp(nope) -m found"));
    assert!(acl("query size=10&user=bob"));
    let abs = "GET http://192.168.0.5:8080/a?b HTTP/1.1\nHost: x\n\n";
    assert!(acl_on("url_ip 192.168.0.0/16", abs, None, true));
    assert!(acl_on("url_port 8080", abs, None, true));
    assert!(acl_on("path /a", abs, None, true));
    assert!(pre("HTTP_URL_ABS", abs));
    assert!(!pre("HTTP_URL_ABS", REQ));
    assert!(pre("HTTP_URL_SLASH", REQ));
    assert!(pre("HTTP_URL_STAR", "OPTIONS * HTTP/1.1\n\n"));
    assert!(acl_on("url_port 80", "GET http://h/ HTTP/1.1\n\n", None, true));
}

#[test]
fn header_fetches() {
    assert!(acl("hdr(host) www.Example.com:8080"));
    assert!(acl("hdr(Host) -i www.example.com:8080"));
    assert!(acl("hdr_beg(host) www."));
    assert!(acl("hdr_end(host) :8080"));
    assert!(acl("hdr_sub(host) Example"));
    assert!(acl("hdr_dom(host) -i example"));
    assert!(!acl("hdr_dom(host) exam"));
    assert!(acl("hdr_dir(accept) html"));
    assert!(acl("hdr_reg(host) ^www\\."));
    assert!(acl("hdr_len(x-num) 2"));
    assert!(acl("hdr_val(x-num) ge 40"));
    assert!(acl("hdr_ip(x-forwarded-for) 9.9.9.0/24"));
    assert!(acl("hdr_ip(x-forwarded-for,1) 1.2.3.4"));
    assert!(!acl("hdr_ip(x-forwarded-for,1) 5.6.7.8"));
    assert!(acl("hdr_ip(x-forwarded-for,-1) 9.9.9.9"));
    assert!(acl("hdr_ip(x-forwarded-for,-2) 5.6.7.8"));
    assert!(acl("hdr_cnt(x-forwarded-for) 3"));
    assert!(acl("req.hdr_cnt(x-forwarded-for) eq 3"));
    assert!(acl("req.fhdr_cnt(x-forwarded-for) 2"));
    assert!(acl("req.fhdr(x-forwarded-for) -m beg 5.6.7.8,"));
    assert!(acl("hdr(accept) image/png"), "comma-separated values each tried");
    assert!(acl("req.hdr(host) -m beg www"));
    assert!(acl("req.hdr(host),lower -m str www.example.com:8080"));
    assert!(acl("hdr_cnt(nope) 0"));
    assert!(!acl("hdr(nope) -m found"));
    assert!(pre("HTTP_CONTENT", REQ));
}

#[test]
fn cookie_base_first_req_and_status() {
    assert!(acl("req.cook(SRV) s2"));
    assert!(acl("cook(lang) fr"));
    assert!(!acl("cook(SR) -m found"));
    assert!(acl("req.cook_cnt(a) 1"));
    assert!(acl("base www.Example.com:8080/static/img/Logo.PNG"));
    assert!(acl("base_beg www.Example.com:8080/static"));
    assert!(acl("http_first_req"));
    assert!(!acl_on("http_first_req", REQ, None, false));
    let res = "HTTP/1.1 404 Not Found\nContent-Type: text/html\nSet-Cookie: JSID=abc; path=/\n\n";
    assert!(acl_on("status 404", REQ, Some(res), true));
    assert!(acl_on("status 400:499", REQ, Some(res), true));
    assert!(!acl_on("status 200", REQ, Some(res), true));
    assert!(acl_on("res.hdr(content-type) -m beg text/", REQ, Some(res), true));
    assert!(acl_on("shdr(content-type) text/html", REQ, Some(res), true));
    assert!(acl_on("res.cook(JSID) abc", REQ, Some(res), true));
    assert!(acl_on("res.ver 1.1", REQ, Some(res), true));
    assert!(!acl("status 200"), "no response: no sample");
}

#[test]
fn predefined_acls() {
    let get = "GET / HTTP/1.0\n\n";
    let head = "HEAD / HTTP/1.1\n\n";
    let post = "POST / HTTP/1.1\n\n";
    for (name, req, want) in [
        ("TRUE", get, true),
        ("FALSE", get, false),
        ("HTTP", get, true),
        ("HTTP_1.0", get, true),
        ("HTTP_1.1", get, false),
        ("HTTP_1.1", head, true),
        ("METH_GET", get, true),
        ("METH_GET", head, true),
        ("METH_HEAD", get, false),
        ("METH_POST", post, true),
        ("METH_OPTIONS", "OPTIONS * HTTP/1.1\n\n", true),
        ("METH_CONNECT", "CONNECT a:443 HTTP/1.1\n\n", true),
        ("METH_TRACE", "TRACE / HTTP/1.1\n\n", true),
        ("HTTP_CONTENT", get, false),
        ("LOCALHOST", get, false),
    ] {
        assert_eq!(pre(name, req), want, "{name} on {req:?}");
    }
    assert!(!eval_cond(
        &Cond {
            negate: false,
            alternatives: vec![vec![CondTerm { negate: false, kind: CondTermKind::Named("LOCALHOST".into()) }]]
        },
        &[],
        &C
    ));
}

#[test]
fn counters_and_l4_through_context() {
    assert!(acl("nbsrv ge 2"));
    assert!(acl("src 192.168.0.0/16"));
    assert!(acl("dst_port 80"));
    assert!(!acl("connslots gt 0"), "unanswered fetch: no sample");
}

#[test]
fn fetches_see_earlier_edits() {
    let (buf, head) = testhead::req(REQ);
    let mut edits = HeadEdits::default();
    edits.deleted.push(0);
    edits.added.push((b"Host".to_vec(), b"api.example.com".to_vec()));
    edits.start_line = Some(b"POST /api/v2 HTTP/1.1".to_vec());
    let mut view = HttpView::new(&buf, &head);
    view.edits = Some(&edits);
    let ctx = H { view };
    let t = |spec: &str| {
        let px = testhead::proxy(&format!("listen l\n  mode http\n  acl a {spec}\n"));
        CompiledTerm::new(&px.acls[0].term, &Names::default()).expect("term").eval(&ctx)
    };
    assert!(t("hdr(host) api.example.com"));
    assert!(t("hdr_cnt(host) 1"));
    assert!(t("method POST"));
    assert!(t("path /api/v2"));
}

#[test]
fn bad_regex_is_rejected_at_compile() {
    let mut t = term("path", MatchMethod::Reg, &["(unclosed"]);
    assert!(CompiledTerm::new(&t, &Names::default()).is_err());
    t.converters = vec!["nope".into()];
    t.patterns = vec!["x".into()];
    assert!(CompiledTerm::new(&t, &Names::default()).is_err());
}

#[test]
fn dom_dir_and_combinations() {
    assert!(acl("url_dom static"));
    assert!(acl("url_dir -i STATIC/IMG"));
    assert!(!acl("url_dir stat"));
    assert!(acl("path -m dir /img/"), "delimiters around the pattern are ignored");
    assert!(acl("hdr(host) -m dom www"));
    assert!(acl("dst_port -m str 80"), "integers compare as text with string methods");
    assert!(acl("src -m beg 192.168."));
    assert!(acl("hdr(x-forwarded-for,2) -m str 5.6.7.8"));
    let px = testhead::proxy(
        "listen l\n  mode http\n  acl st path_beg /api\n  acl st path_beg /static\n  acl host hdr_beg(host) api.\n",
    );
    let mut acls = CompiledAcls::new(&px.acls, Default::default()).expect("compile");
    let (buf, head) = testhead::req(REQ);
    let ctx = H { view: HttpView::new(&buf, &head) };
    let named = |n: &str, neg| CondTerm { negate: neg, kind: CondTermKind::Named(n.into()) };
    let mut check = |alts: Vec<Vec<CondTerm>>, negate| {
        let c = acls.cond(&Cond { negate, alternatives: alts }).expect("cond");
        acls.eval(&c, &ctx)
    };
    assert!(check(vec![vec![named("st", false)]], false), "same-name lines are ORed");
    assert!(!check(vec![vec![named("st", false), named("host", false)]], false));
    assert!(check(vec![vec![named("st", false), named("host", true)]], false));
    assert!(check(vec![vec![named("host", false)], vec![named("METH_GET", false)]], false));
    assert!(!check(vec![vec![named("st", false)]], true), "unless");
    assert!(acls.cond(&Cond { negate: false, alternatives: vec![vec![named("nope", false)]] }).is_err());
}

#[test]
fn fetch_names_resolve_to_indexes_when_compiled() {
    use crate::acl::fetch::{compile_fetch, Counter, Fetch};
    let mut names = Names::default();
    names.backends.insert("app".into(), 4);
    names.userlists.insert("admins".into(), 1);
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(compile_fetch("nbsrv", &args(&["app"]), &names), Ok(Fetch::Counter(Counter::NbSrv(Some(4)))));
    assert_eq!(compile_fetch("be_conn", &args(&[]), &names), Ok(Fetch::Counter(Counter::BeConn(None))), "own backend");
    assert_eq!(compile_fetch("connslots", &args(&["app"]), &names), Ok(Fetch::Counter(Counter::ConnSlots(Some(4)))));
    assert!(compile_fetch("nbsrv", &args(&["nope"]), &names).is_err(), "an unknown backend is an error");
    assert_eq!(
        compile_fetch("http_auth_group", &args(&["admins"]), &names),
        Ok(Fetch::Counter(Counter::HttpAuth { userlist: 1, groups: true }))
    );
    assert!(compile_fetch("http_auth", &args(&["nobody"]), &names).is_err());
    assert_eq!(compile_fetch("ssl_fc", &args(&[]), &names), Ok(Fetch::Unknown("ssl_fc".into())), "no sample, ever");
}
