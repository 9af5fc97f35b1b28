//! HAProxy's default error pages (2.6 bytes, HAPROXY-FACTS §5.1) and `errorfile` replacements, redirects and
//! `http-request return` responses.
//!
//! On the wire HAProxy 2.6 sends the pages its H1 mux emits by itself before any stream exists (400 for a bad
//! request, 408 for `timeout http-request`, 501) byte for byte as its built-in templates — mixed-case header names
//! and `Connection: close` — while every other page goes through the mux's HTX formatting, which lowercases the
//! header names; both forms are reproduced here. Header order in both: content-length, cache-control,
//! [connection], content-type. Body: `<html><body><h1>NNN Reason</h1>\nText\n</body></html>\n`.

use crate::config::model::ErrorFile;

/// A page emitted raw by the H1 mux: original header case, `Connection: close`.
macro_rules! raw_page {
    ($status:literal, $len:literal, $text:literal) => {
        concat!(
            "HTTP/1.1 ",
            $status,
            "\r\nContent-length: ",
            $len,
            "\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>",
            $status,
            "</h1>\n",
            $text,
            "\n</body></html>\n"
        )
        .as_bytes()
    };
}

/// A page formatted by the H1 mux: lowercase header names, no Connection header.
macro_rules! page {
    ($status:literal, $len:literal, $text:literal) => {
        concat!(
            "HTTP/1.1 ",
            $status,
            "\r\ncontent-length: ",
            $len,
            "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>",
            $status,
            "</h1>\n",
            $text,
            "\n</body></html>\n"
        )
        .as_bytes()
    };
}

const E200: &[u8] = page!("200 OK", 58, "Service ready.");
const E400: &[u8] = raw_page!("400 Bad request", 90, "Your browser sent an invalid request.");
const E401: &[u8] = page!("401 Unauthorized", 112, "You need a valid user and password to access this content.");
const E403: &[u8] = page!("403 Forbidden", 93, "Request forbidden by administrative rules.");
const E404: &[u8] = page!("404 Not Found", 83, "The resource could not be found.");
const E405: &[u8] = page!(
    "405 Method Not Allowed",
    146,
    "A request was made of a resource using a request method not supported by that resource"
);
const E407: &[u8] = page!("407 Unauthorized", 112, "You need a valid user and password to access this content.");
const E408: &[u8] = raw_page!("408 Request Time-out", 110, "Your browser didn't send a complete request in time.");
const E410: &[u8] = page!("410 Gone", 114, "The resource is no longer available and will not be available again.");
const E413: &[u8] = page!("413 Payload Too Large", 106, "The request entity exceeds the maximum allowed.");
const E421: &[u8] = page!("421 Misdirected Request", 104, "Request sent to a non-authoritative server.");
const E425: &[u8] = page!("425 Too Early", 80, "Your browser sent early data.");
const E429: &[u8] = page!("429 Too Many Requests", 117, "You have sent too many requests in a given amount of time.");
const E500: &[u8] = page!("500 Internal Server Error", 97, "An internal server error occurred.");
// Not among 2.6's built-in pages (added later, sent by the mux for unsupported codings); same raw form as 400.
const E501: &[u8] = raw_page!(
    "501 Not Implemented",
    135,
    "The server does not support the functionality required to fulfill the request."
);
const E502: &[u8] = page!("502 Bad Gateway", 107, "The server returned an invalid or incomplete response.");
const E503: &[u8] = page!("503 Service Unavailable", 107, "No server is available to handle this request.");
const E504: &[u8] = page!("504 Gateway Time-out", 92, "The server didn't respond in time.");

/// Status codes that have a default page (and that `errorfile` may replace).
pub const ERROR_CODES: [u16; 18] =
    [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 425, 429, 500, 501, 502, 503, 504];

/// HAProxy 2.6's default response for `code`, complete (head and body). An unknown code gets the 500 page, as
/// HAProxy does.
pub fn default_page(code: u16) -> &'static [u8] {
    match code {
        200 => E200,
        400 => E400,
        401 => E401,
        403 => E403,
        404 => E404,
        405 => E405,
        407 => E407,
        408 => E408,
        410 => E410,
        413 => E413,
        421 => E421,
        425 => E425,
        429 => E429,
        501 => E501,
        502 => E502,
        503 => E503,
        504 => E504,
        _ => E500,
    }
}

/// The 401 (or, for `proxy`, 407) answer of `http-request auth`: the default page followed by
/// `www-authenticate: Basic realm="REALM"` (`proxy-authenticate` for 407). `"` in the realm is dropped.
pub fn auth_page(realm: &str, proxy: bool) -> Vec<u8> {
    let (page, name) = if proxy { (E407, "proxy-authenticate") } else { (E401, "www-authenticate") };
    let split = page.windows(4).position(|w| w == b"\r\n\r\n").map_or(page.len(), |p| p + 2);
    let mut out = Vec::with_capacity(page.len() + realm.len() + 48);
    out.extend_from_slice(&page[..split]);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": Basic realm=\"");
    out.extend(realm.bytes().filter(|&b| b != b'"' && b != b'\r' && b != b'\n'));
    out.extend_from_slice(b"\"\r\n");
    out.extend_from_slice(&page[split..]);
    out
}

/// A proxy's error pages: its `errorfile`s, else the defaults.
#[derive(Debug, Clone, Default)]
pub struct ErrorPages {
    /// (code, raw response) from `errorfile`; the last one given for a code wins.
    files: Vec<(u16, Vec<u8>)>,
}

impl ErrorPages {
    /// Builds from a proxy's `errorfile` list (contents already read at start-up).
    pub fn new(files: &[ErrorFile]) -> ErrorPages {
        let mut out: Vec<(u16, Vec<u8>)> = Vec::with_capacity(files.len());
        for f in files {
            match out.iter_mut().find(|(c, _)| *c == f.code) {
                Some(slot) => slot.1 = f.content.clone(),
                None => out.push((f.code, f.content.clone())),
            }
        }
        ErrorPages { files: out }
    }

    /// The response to send for `code`: the `errorfile` if one was given, else [`default_page`].
    pub fn get(&self, code: u16) -> &[u8] {
        self.files.iter().find(|(c, _)| *c == code).map_or_else(|| default_page(code), |(_, v)| v.as_slice())
    }

    /// True when an `errorfile` replaces the page for `code`.
    pub fn is_custom(&self, code: u16) -> bool {
        self.files.iter().any(|(c, _)| *c == code)
    }
}

/// The reason phrase HAProxy 2.6 puts on responses it builds (`http-request return`, `redirect`): its own table,
/// which has a few non-standard phrases (302 "Moved Temporarily", 502 "Bad Gateway or Proxy Error").
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested range unsatisfiable",
        417 => "Expectation failed",
        421 => "Misdirected Request",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway or Proxy Error",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version not supported",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Other",
        },
    }
}

/// A `redirect` answer as HAProxy 2.6 builds it (lowercased by its H1 mux):
/// `HTTP/1.1 302 Found`, `content-length: 0`, `location: …`, `cache-control: no-cache` for 302/303/307 only, then
/// `extra_headers` (`set-cookie` …). Codes other than 301/303/307/308 give 302.
pub fn redirect(code: u16, location: &str, extra_headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + location.len());
    redirect_into(code, location, false, extra_headers, &mut out);
    out
}

/// As [`redirect`], appending to `out`; `close` puts `connection: close` first, as 2.6 does when the request body
/// has not been fully received.
pub fn redirect_into(code: u16, location: &str, close: bool, extra_headers: &[(&str, &str)], out: &mut Vec<u8>) {
    let status: &[u8] = match code {
        301 => b"301 Moved Permanently",
        303 => b"303 See Other",
        307 => b"307 Temporary Redirect",
        308 => b"308 Permanent Redirect",
        _ => b"302 Found",
    };
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status);
    out.extend_from_slice(b"\r\n");
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"content-length: 0\r\nlocation: ");
    out.extend_from_slice(location.as_bytes());
    out.extend_from_slice(b"\r\n");
    if !matches!(code, 301 | 308) {
        out.extend_from_slice(b"cache-control: no-cache\r\n");
    }
    push_headers(out, extra_headers);
    out.extend_from_slice(b"\r\n");
}

/// An `http-request return` answer as HAProxy 2.6 builds it: `HTTP/1.1 STATUS REASON`, the rule's `headers`
/// (those with an empty value skipped), `content-length`, `content-type` (only with a non-empty body), the body.
pub fn simple_response(
    status: u16,
    reason: &str,
    content_type: Option<&str>,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    push_headers(&mut out, headers);
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    if let (Some(ct), false) = (content_type, body.is_empty()) {
        out.extend_from_slice(b"content-type: ");
        out.extend_from_slice(ct.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn push_headers(out: &mut Vec<u8>, headers: &[(&str, &str)]) {
    for (name, value) in headers.iter().filter(|(_, v)| !v.is_empty()) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::{find_header, header, parse_response, Framing, ResponseHead};

    /// Parses a complete response; returns the head, its header names in order and the body.
    fn split(page: &[u8]) -> (ResponseHead, Vec<String>, &[u8]) {
        let mut h = ResponseHead::default();
        let len = parse_response(page, 16384, false, &mut h).unwrap().unwrap();
        let names = h.headers.iter().map(|x| String::from_utf8_lossy(header(page, x).0).into_owned()).collect();
        (h, names, &page[len..])
    }

    #[test]
    fn every_content_length_matches_its_body() {
        for code in ERROR_CODES {
            let page = default_page(code);
            let (h, names, body) = split(page);
            assert_eq!(h.status, code);
            assert_eq!(h.framing, Some(Framing::ContentLength(body.len() as u64)), "{code}");
            let reason = String::from_utf8_lossy(h.reason(page)).into_owned();
            let expected = format!("<html><body><h1>{code} {reason}</h1>\n");
            assert!(body.starts_with(expected.as_bytes()), "{code}");
            assert!(body.ends_with(b"\n</body></html>\n"), "{code}");
            let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
            if matches!(code, 400 | 408 | 501) {
                assert_eq!(names, ["Content-length", "Cache-Control", "Connection", "Content-Type"], "{code}");
                assert!(h.conn.close);
            } else {
                assert_eq!(lower, names, "{code} is lowercased");
                assert_eq!(names, ["content-length", "cache-control", "content-type"], "{code}");
            }
        }
    }

    #[test]
    fn exact_bytes() {
        assert_eq!(
            default_page(400),
            &b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\n\
               Content-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\n\
               Your browser sent an invalid request.\n</body></html>\n"[..]
        );
        assert_eq!(
            default_page(503),
            &b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\n\
               content-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\n\
               No server is available to handle this request.\n</body></html>\n"[..]
        );
        assert!(default_page(200).ends_with(b"<h1>200 OK</h1>\nService ready.\n</body></html>\n"));
        assert_eq!(default_page(418), default_page(500));
    }

    #[test]
    fn auth_page_adds_the_challenge() {
        let page = auth_page("my \"realm\"", false);
        let (h, names, body) = split(&page);
        assert_eq!(h.status, 401);
        assert_eq!(names.last().map(String::as_str), Some("www-authenticate"));
        let i = find_header(&page, &h.headers, b"WWW-Authenticate").next().unwrap();
        assert_eq!(header(&page, &h.headers[i]).1, b"Basic realm=\"my realm\"");
        assert_eq!(body.len(), 112);
        let (h, names, _) = split(&auth_page("r", true));
        assert_eq!((h.status, names.last().map(String::as_str)), (407, Some("proxy-authenticate")));
    }

    #[test]
    fn errorfile_overrides() {
        use crate::config::model::ErrorFile;
        let ef = |code, content: &[u8]| ErrorFile { pos: Default::default(), code, content: content.to_vec() };
        let pages = ErrorPages::new(&[
            ef(503, b"HTTP/1.0 503 first\r\n\r\n"),
            ef(503, b"HTTP/1.0 503 second\r\n\r\n"),
            ef(403, b"HTTP/1.0 403 mine\r\n\r\n"),
        ]);
        assert_eq!(pages.get(503), b"HTTP/1.0 503 second\r\n\r\n");
        assert_eq!(pages.get(403), b"HTTP/1.0 403 mine\r\n\r\n");
        assert_eq!(pages.get(504), default_page(504));
        assert!(pages.is_custom(403) && !pages.is_custom(504));
        assert_eq!(ErrorPages::default().get(400), default_page(400));
    }

    #[test]
    fn redirects() {
        assert_eq!(
            String::from_utf8(redirect(302, "/login", &[])).unwrap(),
            "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /login\r\ncache-control: no-cache\r\n\r\n"
        );
        assert_eq!(
            String::from_utf8(redirect(301, "https://a/", &[("set-cookie", "S=1; path=/")])).unwrap(),
            "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: https://a/\r\nset-cookie: S=1; path=/\r\n\r\n"
        );
        assert!(redirect(308, "/", &[]).starts_with(b"HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\n"));
        assert!(!redirect(308, "/", &[]).windows(13).any(|w| w == b"cache-control"));
        assert!(redirect(303, "/", &[]).starts_with(b"HTTP/1.1 303 See Other\r\n"));
        assert!(redirect(307, "/", &[]).ends_with(b"cache-control: no-cache\r\n\r\n"));
        assert!(redirect(999, "/", &[]).starts_with(b"HTTP/1.1 302 Found\r\n"));
        let mut out = Vec::new();
        redirect_into(302, "/x", true, &[], &mut out);
        assert!(out.starts_with(b"HTTP/1.1 302 Found\r\nconnection: close\r\ncontent-length: 0\r\n"));
    }

    #[test]
    fn return_responses() {
        assert_eq!(
            String::from_utf8(simple_response(
                200,
                reason(200),
                Some("text/plain"),
                b"hi",
                &[("x-a", "1"), ("x-e", "")]
            ))
            .unwrap(),
            "HTTP/1.1 200 OK\r\nx-a: 1\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nhi"
        );
        assert_eq!(
            String::from_utf8(simple_response(204, reason(204), Some("text/plain"), b"", &[])).unwrap(),
            "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"
        );
        assert_eq!(
            (reason(302), reason(502), reason(299), reason(42)),
            ("Moved Temporarily", "Bad Gateway or Proxy Error", "Success", "Other")
        );
    }
}
