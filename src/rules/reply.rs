//! Responses the rules produce themselves: `redirect` (HAProxy 2.6 layout) and `http-request return`.
//!
//! Default error pages (403, 503, …) are not here: see `errors.rs`.

use crate::acl::view::{self, HttpView};
use crate::acl::Context;
use crate::config::model::{Redirect, RedirectKind};

use super::fmt::Fmt;
use crate::acl::Names;

/// The standard reason phrase of a status code (empty for unknown codes).
pub fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Payload Too Large",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// A `redirect` compiled at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledRedirect {
    kind: RedirectKind,
    target: Fmt,
    code: u16,
    drop_query: bool,
    append_slash: bool,
    set_cookie: Option<Vec<u8>>,
    clear_cookie: Option<Vec<u8>>,
}

impl CompiledRedirect {
    /// Compile (the target is a log-format string, as in 2.x; plain text stays plain).
    pub fn new(r: &Redirect, names: &Names) -> Result<CompiledRedirect, String> {
        Ok(CompiledRedirect {
            kind: r.kind,
            target: Fmt::parse(&r.target, names)?,
            code: r.code,
            drop_query: r.drop_query,
            append_slash: r.append_slash,
            set_cookie: r.set_cookie.as_ref().map(|s| s.as_bytes().to_vec()),
            clear_cookie: r.clear_cookie.as_ref().map(|s| s.as_bytes().to_vec()),
        })
    }

    /// The full response for this request.
    pub fn response(&self, req: &HttpView<'_>, ctx: &dyn Context) -> Vec<u8> {
        let mut loc = Vec::with_capacity(128);
        self.target.render(ctx, &mut loc);
        if self.kind != RedirectKind::Location {
            let uri = req.start_line().uri;
            let path = view::path_of(uri).unwrap_or(b"/");
            let query = view::query_of(uri);
            if self.kind == RedirectKind::Scheme {
                loc.extend_from_slice(b"://");
                loc.extend_from_slice(req.first_header(b"host").unwrap_or(&[]));
            } else if loc == b"/" {
                // A prefix of "/" means "the same URI", not a doubled slash.
                loc.clear();
            }
            loc.extend_from_slice(path);
            if self.append_slash && !path.ends_with(b"/") {
                loc.push(b'/');
            }
            if let Some(q) = query.filter(|_| !self.drop_query) {
                loc.push(b'?');
                loc.extend_from_slice(q);
            }
        }
        let mut out = Vec::with_capacity(loc.len() + 160);
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", self.code, reason(self.code)).as_bytes());
        out.extend_from_slice(b"content-length: 0\r\nlocation: ");
        out.extend_from_slice(&loc);
        out.extend_from_slice(b"\r\n");
        if !matches!(self.code, 301 | 308) {
            out.extend_from_slice(b"cache-control: no-cache\r\n");
        }
        if let Some(c) = &self.set_cookie {
            out.extend_from_slice(b"set-cookie: ");
            out.extend_from_slice(c);
            out.extend_from_slice(b"; path=/\r\n");
        }
        if let Some(c) = &self.clear_cookie {
            out.extend_from_slice(b"set-cookie: ");
            out.extend_from_slice(c.strip_suffix(b"=").unwrap_or(c));
            out.extend_from_slice(b"=; path=/; Max-Age=0\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// An `http-request return` compiled at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledReturn {
    status: u16,
    content_type: Option<Vec<u8>>,
    body: Option<Fmt>,
    headers: Vec<(Vec<u8>, Fmt)>,
}

impl CompiledReturn {
    /// Compile; the body and header values are log-format strings (`lf-string`; a plain `string` has no `%`).
    pub fn new(
        status: u16,
        content_type: Option<&str>,
        body: Option<&str>,
        headers: &[(String, String)],
        names: &Names,
    ) -> Result<CompiledReturn, String> {
        Ok(CompiledReturn {
            status,
            content_type: content_type.map(|c| c.as_bytes().to_vec()),
            body: body.map(|b| Fmt::parse(b, names)).transpose()?,
            headers: headers
                .iter()
                .map(|(n, v)| Ok((n.as_bytes().to_vec(), Fmt::parse(v, names)?)))
                .collect::<Result<_, String>>()?,
        })
    }

    /// The full response.
    pub fn response(&self, ctx: &dyn Context) -> Vec<u8> {
        let body = self.body.as_ref().map(|b| b.to_vec(ctx)).unwrap_or_default();
        let mut out = Vec::with_capacity(body.len() + 128);
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).as_bytes());
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        if let Some(ct) = self.content_type.as_ref().filter(|_| !body.is_empty()) {
            out.extend_from_slice(b"content-type: ");
            out.extend_from_slice(ct);
            out.extend_from_slice(b"\r\n");
        }
        for (n, v) in &self.headers {
            out.extend_from_slice(n);
            out.extend_from_slice(b": ");
            v.render(ctx, &mut out);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        out
    }
}
