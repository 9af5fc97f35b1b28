//! Unit tests, compiled only under `#[cfg(test)]`.

use super::*;
use crate::http::testhead;

fn conf(text: &str) -> CookieConf {
    testhead::proxy(&format!("backend b\n  mode http\n  cookie {text}\n  server s1 127.0.0.1:1 cookie s1\n"))
        .cookie
        .expect("cookie")
}

/// s1 is up, s2 is down, anything else is unknown.
fn servers(v: &[u8]) -> Option<(usize, bool)> {
    match v {
        b"s1" => Some((0, true)),
        b"s2" => Some((1, false)),
        _ => None,
    }
}

fn req_side(c: &CookieConf, req: &str) -> (Persistence, HeadEdits) {
    let (buf, head) = testhead::req(req);
    let mut edits = HeadEdits::default();
    let p = request_cookie(c, &HttpView::new(&buf, &head), &servers, &mut edits);
    (p, edits)
}

#[test]
fn request_states() {
    let c = conf("SRV insert");
    let (p, e) = req_side(&c, "GET / HTTP/1.1\nCookie: a=1; SRV=s1; b=2\n\n");
    assert_eq!(p, Persistence { state: ReqCookie::Valid, server: Some(0) });
    assert!(e.replaced.is_empty() && e.deleted.is_empty(), "insert without indirect leaves the request alone");
    assert_eq!(
        req_side(&c, "GET / HTTP/1.1\nCookie: SRV=s2\n\n").0,
        Persistence { state: ReqCookie::Down, server: Some(1) }
    );
    assert_eq!(req_side(&c, "GET / HTTP/1.1\nCookie: SRV=zz\n\n").0.state, ReqCookie::Invalid);
    assert_eq!(req_side(&c, "GET / HTTP/1.1\nCookie: SRVX=s1\n\n").0.state, ReqCookie::None);
    assert_eq!(req_side(&c, "GET / HTTP/1.1\n\n").0.state, ReqCookie::None);
    assert_eq!(req_side(&c, "GET / HTTP/1.1\nCookie: a=1\nCookie: SRV=s1|12345\n\n").0.state, ReqCookie::Valid);
}

#[test]
fn insert_indirect_strips_the_cookie() {
    let c = conf("SRV insert indirect");
    let (_, e) = req_side(&c, "GET / HTTP/1.1\nCookie: a=1; SRV=s1; b=2\n\n");
    assert_eq!(e.replaced, vec![(0, b"a=1; b=2".to_vec())]);
    let (_, e) = req_side(&c, "GET / HTTP/1.1\nHost: h\nCookie: SRV=s1\n\n");
    assert_eq!(e.deleted, vec![1]);
}

#[test]
fn prefix_restores_the_application_value() {
    let c = conf("JSESSIONID prefix");
    let (p, e) = req_side(&c, "GET / HTTP/1.1\nCookie: a=1; JSESSIONID=s1~ABC123; b=2\n\n");
    assert_eq!(p.state, ReqCookie::Valid);
    assert_eq!(e.replaced, vec![(0, b"a=1; JSESSIONID=ABC123; b=2".to_vec())]);
    let (p, e) = req_side(&c, "GET / HTTP/1.1\nCookie: JSESSIONID=ABC123\n\n");
    assert_eq!(p.state, ReqCookie::Invalid);
    assert!(e.replaced.is_empty());
}

fn res_side(c: &CookieConf, p: &Persistence, res: &str, post: bool) -> (ResCookie, HeadEdits) {
    let (buf, head) = testhead::res(res);
    let mut edits = HeadEdits::default();
    let st =
        response_cookie(c, &ResView::new(&buf, &head), p, Served { index: 0, cookie: Some("s1") }, post, &mut edits);
    (st, edits)
}

const NONE: Persistence = Persistence { state: ReqCookie::None, server: None };
const VALID: Persistence = Persistence { state: ReqCookie::Valid, server: Some(0) };
const PLAIN: &str = "HTTP/1.1 200 OK\nContent-Length: 0\n\n";
const OWN: &str = "HTTP/1.1 200 OK\nSet-Cookie: SRV=app; path=/app\nSet-Cookie: other=1\n\n";

#[test]
fn insert_response() {
    let c = conf("SRV insert indirect nocache httponly secure domain .example.com");
    let (st, e) = res_side(&c, &NONE, PLAIN, false);
    assert_eq!(st, ResCookie::Inserted);
    assert_eq!(
        e.added,
        vec![
            (b"Set-Cookie".to_vec(), b"SRV=s1; path=/; domain=.example.com; HttpOnly; Secure".to_vec()),
            (b"Cache-control".to_vec(), b"private".to_vec()),
        ]
    );
    let (st, e) = res_side(&c, &VALID, PLAIN, false);
    assert_eq!((st, e.added.len()), (ResCookie::None, 0), "client already has a valid cookie");
    let (st, e) = res_side(&c, &NONE, OWN, false);
    assert_eq!(st, ResCookie::Inserted);
    assert_eq!(e.deleted, vec![0], "the server's own cookie is replaced");
    let (st, e) = res_side(&c, &VALID, OWN, false);
    assert_eq!((st, e.deleted.clone()), (ResCookie::Deleted, vec![0]));
    assert_eq!(set_cookie_value(&conf("SRV insert"), "s1"), b"SRV=s1; path=/");
}

#[test]
fn insert_preserve_and_postonly() {
    let c = conf("SRV insert preserve");
    assert_eq!(res_side(&c, &NONE, OWN, false).0, ResCookie::Provided);
    assert_eq!(res_side(&c, &NONE, PLAIN, false).0, ResCookie::Inserted);
    let c = conf("SRV insert postonly");
    assert_eq!(res_side(&c, &NONE, PLAIN, false).0, ResCookie::None);
    assert_eq!(res_side(&c, &NONE, PLAIN, true).0, ResCookie::Inserted);
}

#[test]
fn rewrite_and_prefix_response() {
    let (st, e) = res_side(&conf("SRV rewrite"), &NONE, OWN, false);
    assert_eq!(st, ResCookie::Rewritten);
    assert_eq!(e.replaced, vec![(0, b"SRV=s1; path=/app".to_vec())]);
    let (st, e) = res_side(&conf("SRV prefix"), &NONE, OWN, false);
    assert_eq!(st, ResCookie::Rewritten);
    assert_eq!(e.replaced, vec![(0, b"SRV=s1~app; path=/app".to_vec())]);
    assert_eq!(res_side(&conf("SRV rewrite"), &NONE, PLAIN, false).0, ResCookie::None);
}

#[test]
fn log_characters() {
    assert_eq!(log_chars(ReqCookie::None, ResCookie::Inserted), ['N', 'I']);
    assert_eq!(log_chars(ReqCookie::Valid, ResCookie::None), ['V', 'N']);
    assert_eq!(log_chars(ReqCookie::NotChecked, ResCookie::NotChecked), ['-', '-']);
    let all: String = [ReqCookie::Invalid, ReqCookie::Down, ReqCookie::Expired, ReqCookie::Old]
        .map(ReqCookie::as_char)
        .iter()
        .collect();
    assert_eq!(all, "IDEO");
    let all: String = [ResCookie::Updated, ResCookie::Provided, ResCookie::Rewritten, ResCookie::Deleted]
        .map(ResCookie::as_char)
        .iter()
        .collect();
    assert_eq!(all, "UPRD");
}
