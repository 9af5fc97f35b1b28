//! Hash keys of the HTTP balancing algorithms (`uri`, `url_param`, `hdr`), all [`sdbm`] as HAProxy's
//! (HAPROXY-FACTS §1.5). `None` means "no key": the balancer falls back to round robin.
//!
//! The `(buf, head)` functions read the request as parsed; [`request_key`] reads it through an [`HttpView`], so
//! it sees rewrites the rules made (HAProxy balances on the rewritten request).

use super::sdbm;
use crate::acl::view::{self, HttpView};
use crate::config::model::Balance;
use crate::http::head::RequestHead;

/// `balance uri [whole] [len N] [depth N]` on a URI: the part before `?` (all of it with `whole`), at most `len`
/// characters, stopping before the `depth+1`-th `/`.
pub fn uri_key_of(uri: &[u8], whole: bool, len: Option<usize>, depth: Option<usize>) -> Option<u32> {
    if uri.is_empty() {
        return None;
    }
    let end = if whole { uri.len() } else { uri.iter().position(|&c| c == b'?').unwrap_or(uri.len()) };
    let mut part = &uri[..end];
    if let Some(d) = depth {
        let mut slashes = 0;
        if let Some(p) = part.iter().position(|&c| {
            slashes += (c == b'/') as usize;
            slashes > d
        }) {
            part = &part[..p];
        }
    }
    if let Some(l) = len.filter(|&l| l > 0) {
        part = &part[..l.min(part.len())];
    }
    Some(sdbm(part))
}

/// [`uri_key_of`] on the parsed request's URI.
pub fn uri_key(buf: &[u8], head: &RequestHead, whole: bool, len: Option<usize>, depth: Option<usize>) -> Option<u32> {
    uri_key_of(view::slice(buf, &head.uri), whole, len, depth)
}

/// The hash of parameter `name`'s value in a query string or a form body (`a=1&b=2`, `;` also separates).
pub fn url_param_key_in(params: &[u8], name: &str) -> Option<u32> {
    params
        .split(|&c| c == b'&' || c == b';')
        .find_map(|kv| kv.strip_prefix(name.as_bytes()).and_then(|r| r.strip_prefix(b"=")))
        .map(sdbm)
}

/// `balance url_param NAME` on the parsed request's query string.
pub fn url_param_key(buf: &[u8], head: &RequestHead, name: &str) -> Option<u32> {
    view::query_of(view::slice(buf, &head.uri)).and_then(|q| url_param_key_in(q, name))
}

/// The hash of a header value; with `use_domain_only`, only the main domain label (`www.1wt.eu` → `1wt`, port
/// ignored). Empty values give no key.
pub fn hdr_key_of(value: &[u8], use_domain_only: bool) -> Option<u32> {
    let value = view::trim(value);
    if value.is_empty() {
        return None;
    }
    if !use_domain_only {
        return Some(sdbm(value));
    }
    let host = &value[..value.iter().position(|&c| c == b':').unwrap_or(value.len())];
    let mut labels = host.rsplit(|&c| c == b'.').filter(|l| !l.is_empty());
    let last = labels.next()?;
    Some(sdbm(labels.next().unwrap_or(last)))
}

/// `balance hdr(NAME) [use_domain_only]` on the parsed request: the first `NAME` header.
pub fn hdr_key(buf: &[u8], head: &RequestHead, name: &str, use_domain_only: bool) -> Option<u32> {
    let h = head.headers.iter().find(|h| view::slice(buf, &h.name).eq_ignore_ascii_case(name.as_bytes()))?;
    hdr_key_of(view::slice(buf, &h.value), use_domain_only)
}

/// The key `balance` needs from this request (with the rules' edits), or `None` for algorithms without an
/// HTTP key or when the key is missing. `url_param … check_post` needs the body: use [`url_param_key_in`].
pub fn request_key(balance: &Balance, req: &HttpView<'_>) -> Option<u32> {
    match balance {
        Balance::Uri { whole, len, depth } => uri_key_of(req.start_line().uri, *whole, *len, *depth),
        Balance::UrlParam { name, .. } => view::query_of(req.start_line().uri).and_then(|q| url_param_key_in(q, name)),
        Balance::Hdr { name, use_domain_only } => {
            req.first_header(name.as_bytes()).and_then(|v| hdr_key_of(v, *use_domain_only))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::HeadEdits;
    use crate::http::testhead;

    #[test]
    fn uri_key_variants() {
        let (buf, head) = testhead::req("GET /a/b/c.html?x=1 HTTP/1.1\nHost: h\n\n");
        assert_eq!(uri_key(&buf, &head, false, None, None), Some(sdbm(b"/a/b/c.html")));
        assert_eq!(uri_key(&buf, &head, true, None, None), Some(sdbm(b"/a/b/c.html?x=1")));
        assert_eq!(uri_key(&buf, &head, false, Some(4), None), Some(sdbm(b"/a/b")));
        assert_eq!(uri_key(&buf, &head, false, None, Some(1)), Some(sdbm(b"/a")));
        assert_eq!(uri_key(&buf, &head, false, None, Some(2)), Some(sdbm(b"/a/b")));
        assert_eq!(uri_key(&buf, &head, false, None, Some(9)), Some(sdbm(b"/a/b/c.html")));
        assert_eq!(uri_key(&buf, &head, false, Some(3), Some(2)), Some(sdbm(b"/a/")));
        let (buf2, head2) = testhead::req("GET /a/b/c.html?y=2 HTTP/1.1\n\n");
        assert_eq!(uri_key(&buf, &head, false, None, None), uri_key(&buf2, &head2, false, None, None));
    }

    #[test]
    fn url_param_key_finds_the_value() {
        let (buf, head) = testhead::req("GET /p?user=bob&id=42 HTTP/1.1\n\n");
        assert_eq!(url_param_key(&buf, &head, "id"), Some(sdbm(b"42")));
        assert_eq!(url_param_key(&buf, &head, "user"), Some(sdbm(b"bob")));
        assert_eq!(url_param_key(&buf, &head, "us"), None);
        assert_eq!(url_param_key(&buf, &head, "nope"), None);
        let (buf, head) = testhead::req("GET /p HTTP/1.1\n\n");
        assert_eq!(url_param_key(&buf, &head, "id"), None);
        assert_eq!(url_param_key_in(b"a=1;id=7", "id"), Some(sdbm(b"7")));
    }

    #[test]
    fn hdr_key_and_domain_only() {
        let (buf, head) = testhead::req("GET / HTTP/1.1\nHost: www.1wt.eu:8080\nX-Empty: \nhost: second\n\n");
        assert_eq!(hdr_key(&buf, &head, "host", false), Some(sdbm(b"www.1wt.eu:8080")));
        assert_eq!(hdr_key(&buf, &head, "Host", true), Some(sdbm(b"1wt")));
        assert_eq!(hdr_key(&buf, &head, "x-empty", false), None);
        assert_eq!(hdr_key(&buf, &head, "nope", false), None);
        assert_eq!(hdr_key_of(b"localhost", true), Some(sdbm(b"localhost")));
    }

    #[test]
    fn request_key_sees_edits() {
        let (buf, head) = testhead::req("GET /a?id=1 HTTP/1.1\nHost: x\n\n");
        let edits = HeadEdits {
            start_line: Some(b"GET /b?id=2 HTTP/1.1".to_vec()),
            deleted: vec![0],
            added: vec![(b"Host".to_vec(), b"y".to_vec())],
            ..Default::default()
        };
        let mut v = HttpView::new(&buf, &head);
        v.edits = Some(&edits);
        let uri = Balance::Uri { whole: false, len: None, depth: None };
        assert_eq!(request_key(&uri, &v), Some(sdbm(b"/b")));
        assert_eq!(request_key(&Balance::UrlParam { name: "id".into(), check_post: None }, &v), Some(sdbm(b"2")));
        assert_eq!(request_key(&Balance::Hdr { name: "host".into(), use_domain_only: false }, &v), Some(sdbm(b"y")));
        assert_eq!(request_key(&Balance::RoundRobin, &v), None);
    }
}
