//! Read-only views of a request (and its response) for sample fetches, rules and balancing keys.
//!
//! A view is the head as parsed (ranges into the connection buffer) plus the [`HeadEdits`] recorded so far, so a
//! rule sees the changes earlier rules made (a `set-header` then an ACL on that header), as HAProxy's rules do,
//! without rewriting the buffer. Nothing here allocates.

use crate::http::head::{HeadEdits, HeaderIdx, RequestHead, ResponseHead, Version};

/// Where a header of the current (edited) head lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Index into the parsed head's `headers`.
    Orig(usize),
    /// Index into `HeadEdits::added`.
    Added(usize),
}

/// One header of the current head: where it is, its name and its (whole) value.
#[derive(Debug, Clone, Copy)]
pub struct Hdr<'a> {
    pub slot: Slot,
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// Iterate the headers of a head as edited: deleted ones skipped, replaced values used, added ones last.
pub fn headers<'a>(
    buf: &'a [u8],
    parsed: &'a [HeaderIdx],
    edits: Option<&'a HeadEdits>,
) -> impl Iterator<Item = Hdr<'a>> + 'a {
    let orig = parsed.iter().enumerate().filter_map(move |(i, h)| {
        let e = match edits {
            None => return Some(Hdr { slot: Slot::Orig(i), name: slice(buf, &h.name), value: slice(buf, &h.value) }),
            Some(e) => e,
        };
        if e.deleted.contains(&i) {
            return None;
        }
        let value = match e.replaced.iter().rev().find(|(j, _)| *j == i) {
            Some((_, v)) => v.as_slice(),
            None => slice(buf, &h.value),
        };
        Some(Hdr { slot: Slot::Orig(i), name: slice(buf, &h.name), value })
    });
    let added = edits.into_iter().flat_map(|e| e.added.iter().enumerate()).map(|(i, (n, v))| Hdr {
        slot: Slot::Added(i),
        name: n.as_slice(),
        value: v.as_slice(),
    });
    orig.chain(added)
}

/// `buf[r]`, or empty when the range is out of bounds (never panics on a bad head).
pub fn slice<'a>(buf: &'a [u8], r: &std::ops::Range<usize>) -> &'a [u8] {
    buf.get(r.clone()).unwrap_or(&[])
}

/// The first line of `buf` from `start`, without its CR LF.
pub fn line_from(buf: &[u8], start: usize) -> &[u8] {
    let rest = buf.get(start..).unwrap_or(&[]);
    let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
    let line = &rest[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The response side of an exchange.
#[derive(Debug, Clone, Copy)]
pub struct ResView<'a> {
    pub buf: &'a [u8],
    pub head: &'a ResponseHead,
    pub edits: Option<&'a HeadEdits>,
}

impl<'a> ResView<'a> {
    /// A view of an unedited response.
    pub fn new(buf: &'a [u8], head: &'a ResponseHead) -> ResView<'a> {
        ResView { buf, head, edits: None }
    }
    /// The response's headers as edited so far.
    pub fn headers(&self) -> impl Iterator<Item = Hdr<'a>> + 'a {
        headers(self.buf, &self.head.headers, self.edits)
    }
    /// The status line as it will be sent (edited or original), without CR LF.
    pub fn status_line(&self) -> &'a [u8] {
        match self.edits.and_then(|e| e.start_line.as_deref()) {
            Some(l) => l,
            None => line_from(self.buf, 0),
        }
    }
    /// The status code (after a `set-status`).
    pub fn status(&self) -> u16 {
        match self.edits.and_then(|e| e.start_line.as_deref()) {
            Some(l) => l
                .split(|&c| c == b' ')
                .nth(1)
                .and_then(|s| std::str::from_utf8(s).ok())
                .and_then(|s| s.parse().ok())
                .unwrap_or(self.head.status),
            None => self.head.status,
        }
    }
}

/// What HTTP sample fetches see: the request buffer and its parsed head, the edits made so far, whether this is
/// the first request of the connection, and the response when rules run on it.
#[derive(Debug, Clone, Copy)]
pub struct HttpView<'a> {
    pub buf: &'a [u8],
    pub head: &'a RequestHead,
    pub edits: Option<&'a HeadEdits>,
    /// `http_first_req`.
    pub first_req: bool,
    pub res: Option<ResView<'a>>,
}

/// The request line's three parts.
#[derive(Debug, Clone, Copy)]
pub struct StartLine<'a> {
    pub method: &'a [u8],
    pub uri: &'a [u8],
    /// `HTTP/1.1` etc.
    pub version: &'a [u8],
}

impl<'a> HttpView<'a> {
    /// The `user:password` of an `Authorization: Basic …` header (`http_auth`, `stats auth`).
    pub fn basic_credentials(&self) -> Option<String> {
        let v = crate::http::head::trim(self.first_header(b"authorization")?);
        let b64 = v.strip_prefix(b"Basic ").or_else(|| v.strip_prefix(b"basic "))?;
        String::from_utf8(crate::auth::base64_decode(crate::http::head::trim(b64))?).ok()
    }

    /// A view of an unedited request, first of its connection, without response.
    pub fn new(buf: &'a [u8], head: &'a RequestHead) -> HttpView<'a> {
        HttpView { buf, head, edits: None, first_req: true, res: None }
    }

    /// The request's headers as edited so far.
    pub fn headers(&self) -> impl Iterator<Item = Hdr<'a>> + 'a {
        headers(self.buf, &self.head.headers, self.edits)
    }

    /// The request line as it will be sent, without CR LF.
    pub fn request_line(&self) -> &'a [u8] {
        match self.edits.and_then(|e| e.start_line.as_deref()) {
            Some(l) => l,
            None => line_from(self.buf, self.head.method.start),
        }
    }

    /// Method, URI and version of the (edited) request line.
    pub fn start_line(&self) -> StartLine<'a> {
        match self.edits.and_then(|e| e.start_line.as_deref()) {
            Some(l) => {
                let mut it = l.splitn(3, |&c| c == b' ');
                let method = it.next().unwrap_or(&[]);
                let uri = it.next().unwrap_or(&[]);
                let version = it.next().unwrap_or(&[]);
                StartLine { method, uri, version }
            }
            None => StartLine {
                method: slice(self.buf, &self.head.method),
                uri: slice(self.buf, &self.head.uri),
                version: version_text(self.head.version),
            },
        }
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn first_header(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
    }
}

/// `HTTP/1.0` or `HTTP/1.1`.
pub fn version_text(v: Version) -> &'static [u8] {
    match v {
        Version::Http10 => b"HTTP/1.0",
        Version::Http11 => b"HTTP/1.1",
    }
}

/// Offset in `uri` where the path starts: 0 for origin form, after the authority for `scheme://host/…`;
/// `None` for `*` and authority form (no path).
pub fn path_start(uri: &[u8]) -> Option<usize> {
    if uri.first() == Some(&b'/') {
        return Some(0);
    }
    let scheme_end = memchr::memmem::find(uri, b"://")?;
    if !uri[..scheme_end].iter().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c)) {
        return None;
    }
    let auth = scheme_end + 3;
    Some(uri[auth..].iter().position(|&c| c == b'/' || c == b'?').map_or(uri.len(), |p| auth + p))
}

/// The path of a URI, query excluded (`None` when the URI has no path).
pub fn path_of(uri: &[u8]) -> Option<&[u8]> {
    let s = path_start(uri)?;
    let rest = &uri[s..];
    Some(&rest[..rest.iter().position(|&c| c == b'?').unwrap_or(rest.len())])
}

/// The query string of a URI, after `?` (`None` without `?`).
pub fn query_of(uri: &[u8]) -> Option<&[u8]> {
    uri.iter().position(|&c| c == b'?').map(|p| &uri[p + 1..])
}

/// The authority of an absolute URI (`host[:port]`), if any.
pub fn authority_of(uri: &[u8]) -> Option<&[u8]> {
    let scheme_end = memchr::memmem::find(uri, b"://")?;
    let rest = &uri[scheme_end + 3..];
    Some(&rest[..rest.iter().position(|&c| c == b'/' || c == b'?').unwrap_or(rest.len())])
}

/// The value of query parameter `name` in `query` (parameters separated by `delim`).
pub fn param_of<'q>(query: &'q [u8], name: &[u8], delim: u8) -> Option<&'q [u8]> {
    query.split(|&c| c == delim).find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix(b"=")))
}

/// Comma-separated values of a header value, trimmed (HAProxy's `hdr()` view of a header).
pub fn split_values(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&c| c == b',').map(trim)
}

/// `v` without leading and trailing spaces and tabs.
pub fn trim(v: &[u8]) -> &[u8] {
    let s = v.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(v.len());
    let e = v.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |p| p + 1);
    &v[s..e]
}
