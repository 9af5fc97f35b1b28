//! Request and response heads parsed in place: offsets into the connection buffer, not Strings, so that
//! forwarding an unmodified head is a copy and parsing allocates nothing once the session's vectors are warm.
//!
//! Contract (the worker codes against it):
//! - [`parse_request`] / [`parse_response`] look at the start of `buf`; `Ok(None)` = need more bytes (and the
//!   head is not yet over `max_len`), `Ok(Some(len))` = a complete head of `len` bytes (= `out.len`, the head
//!   itself filled into the caller's reusable `out`), `Err` = reject with
//!   the error's status (400 for requests, 502 for responses).
//! - Validation follows HAProxy 2.6 (HAPROXY-FACTS §5.4–5.6): header block larger than `max_len`
//!   (`tune.bufsize - tune.maxrewrite`) → error; more than `MAX_HEADERS` headers → error; obsolete line folding,
//!   invalid header-name characters, bad request line → error; two Content-Length with different values →
//!   error; Content-Length + Transfer-Encoding: CL is dropped (listed in the head's `drop_cl`, which the writers
//!   always honour) and the server connection must close after this exchange (`conn.cl_and_te`).
//! - [`HeadEdits`] records changes; [`write_request`]/[`write_response`] serialize `buf[..len]` with the edits
//!   applied into an output buffer.

use std::ops::Range;

/// The writer lives in its own file; its API belongs to the head's.
pub use super::write::{set_connection, write_head, write_request, write_response, ConnHeader};

/// Locating a rejected head's error lives in its own file; it belongs to the head's API.
pub use super::errpos::error_position;

/// Default maximum number of headers (`tune.http.maxhdr`).
pub const MAX_HEADERS: usize = 101;

/// HTTP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// `HTTP/1.0`.
    Http10,
    /// `HTTP/1.1`.
    #[default]
    Http11,
}

/// One header line: byte ranges of its name and value (value trimmed of surrounding spaces) in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderIdx {
    /// The header name (as sent, case preserved).
    pub name: Range<usize>,
    /// The value without leading/trailing spaces and tabs (possibly empty).
    pub value: Range<usize>,
    /// Range of the whole line including its CRLF (or bare LF) (for deletion).
    pub line: Range<usize>,
}

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (GET without CL/TE, 204, 304, HEAD response, 1xx).
    None,
    /// Exactly this many bytes follow the head.
    ContentLength(u64),
    /// `Transfer-Encoding: …, chunked`: chunks up to the last-chunk and trailers.
    Chunked,
    /// Response body ends when the server closes.
    UntilClose,
}

/// Connection-related facts extracted from the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnInfo {
    /// `Connection: close` (or HTTP/1.0 without keep-alive).
    pub close: bool,
    /// `Connection: keep-alive` explicitly present.
    pub keep_alive: bool,
    /// `Connection: upgrade` with an `Upgrade` header, on HTTP/1.1 (RFC 7230 §6.7: ignored in HTTP/1.0).
    pub upgrade: bool,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
    /// Both Content-Length and Transfer-Encoding were present (CL dropped; close the server side after).
    pub cl_and_te: bool,
}

/// A parsed request head.
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    /// The method token.
    pub method: Range<usize>,
    /// The request-target, as sent (origin, absolute, authority or asterisk form).
    pub uri: Range<usize>,
    /// The request's HTTP version.
    pub version: Version,
    /// The header lines in order (the vector is reused from one parse to the next).
    pub headers: Vec<HeaderIdx>,
    /// Total head length including the final empty line.
    pub len: usize,
    /// How the body is delimited; `Some` once a head was parsed.
    pub framing: Option<Framing>,
    /// Connection facts from the headers and version.
    pub conn: ConnInfo,
    /// The request line without its line ending (leading empty lines before it are skipped, RFC 7230 §3.5).
    pub start_line: Range<usize>,
    /// Indexes into `headers` of Content-Length headers the writer always drops: every CL when
    /// Transfer-Encoding is present, and the repeated copies of an identical CL.
    pub drop_cl: Vec<usize>,
    /// A kept Content-Length whose value is a list of identical values (`5, 5`): the writer emits it as the
    /// plain number (header index, value).
    pub cl_rewrite: Option<(usize, u64)>,
    /// Some line ended in a bare LF: the writer normalizes line endings to CRLF instead of copying the head.
    pub bare_lf: bool,
}

/// A parsed response head.
#[derive(Debug, Clone, Default)]
pub struct ResponseHead {
    /// The response's HTTP version.
    pub version: Version,
    /// The status code (100–999).
    pub status: u16,
    /// The reason phrase (possibly empty).
    pub reason: Range<usize>,
    /// The header lines in order (the vector is reused from one parse to the next).
    pub headers: Vec<HeaderIdx>,
    /// Total head length including the final empty line.
    pub len: usize,
    /// How the body is delimited (given the request method); `Some` once a head was parsed.
    pub framing: Option<Framing>,
    /// Connection facts from the headers and version; `close` is also set for an until-close body.
    pub conn: ConnInfo,
    /// The status line without its line ending.
    pub start_line: Range<usize>,
    /// As [`RequestHead::drop_cl`].
    pub drop_cl: Vec<usize>,
    /// As [`RequestHead::cl_rewrite`].
    pub cl_rewrite: Option<(usize, u64)>,
    /// As [`RequestHead::bare_lf`].
    pub bare_lf: bool,
}

/// Why a head was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// Over `max_len` without a complete head.
    TooLarge,
    /// More than [`MAX_HEADERS`] header lines.
    TooManyHeaders,
    /// Malformed start line, header name, folding, …
    Malformed(&'static str),
    /// Conflicting or invalid Content-Length.
    BadContentLength,
    /// Transfer-Encoding other than a final `chunked` on a request (or on HTTP/1.0), or `chunked` listed twice.
    BadTransferEncoding,
}

/// Changes to apply when a head is written out.
#[derive(Debug, Clone, Default)]
pub struct HeadEdits {
    /// Replacement start line (without CRLF): `set-path`, `reqrep` on the request line, …
    pub start_line: Option<Vec<u8>>,
    /// Indexes into `headers` to drop.
    pub deleted: Vec<usize>,
    /// New value for an existing header (index, value).
    pub replaced: Vec<(usize, Vec<u8>)>,
    /// Headers appended after the existing ones, in order.
    pub added: Vec<(Vec<u8>, Vec<u8>)>,
    /// Value of a `connection` header written last, after `added` (where HAProxy 2.6's H1 mux puts it); set by
    /// [`set_connection`]. Static, so that the per-message connection handling allocates nothing.
    pub connection: Option<&'static [u8]>,
}

impl HeadEdits {
    /// True when writing with these edits gives the original bytes (modulo the head's own `drop_cl`).
    pub fn is_empty(&self) -> bool {
        self.start_line.is_none()
            && self.deleted.is_empty()
            && self.replaced.is_empty()
            && self.added.is_empty()
            && self.connection.is_none()
    }

    /// Forgets every edit, keeping the vectors' allocations for the next message.
    pub fn clear(&mut self) {
        self.start_line = None;
        self.deleted.clear();
        self.replaced.clear();
        self.added.clear();
        self.connection = None;
    }

    /// Marks header `idx` for deletion (once).
    pub fn delete(&mut self, idx: usize) {
        if !self.deleted.contains(&idx) {
            self.deleted.push(idx);
        }
    }
}

/// What is common to request and response heads, for code that handles both (writer, connection header).
pub trait MessageHead {
    /// The message's HTTP version.
    fn version(&self) -> Version;
    /// The header lines, in order.
    fn headers(&self) -> &[HeaderIdx];
    /// The start line without its line ending.
    fn start_line(&self) -> Range<usize>;
    /// Total head length including the final empty line.
    fn head_len(&self) -> usize;
    /// Content-Length headers the writer drops (see [`RequestHead::drop_cl`]).
    fn drop_cl(&self) -> &[usize];
    /// Content-Length written as a plain number (see [`RequestHead::cl_rewrite`]).
    fn cl_rewrite(&self) -> Option<(usize, u64)>;
    /// True when the head, unedited, may be forwarded as a plain copy of its bytes.
    fn verbatim(&self) -> bool;
}

macro_rules! impl_message_head {
    ($t:ty) => {
        impl MessageHead for $t {
            fn version(&self) -> Version {
                self.version
            }
            fn headers(&self) -> &[HeaderIdx] {
                &self.headers
            }
            fn start_line(&self) -> Range<usize> {
                self.start_line.clone()
            }
            fn head_len(&self) -> usize {
                self.len
            }
            fn drop_cl(&self) -> &[usize] {
                &self.drop_cl
            }
            fn cl_rewrite(&self) -> Option<(usize, u64)> {
                self.cl_rewrite
            }
            fn verbatim(&self) -> bool {
                self.drop_cl.is_empty() && self.cl_rewrite.is_none() && !self.bare_lf
            }
        }
    };
}
impl_message_head!(RequestHead);
impl_message_head!(ResponseHead);

impl RequestHead {
    /// The method's bytes.
    pub fn method<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.method.clone()]
    }

    /// The request-target's bytes.
    pub fn uri<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.uri.clone()]
    }

    /// True for a `HEAD` request (its response has no body whatever its headers say).
    pub fn is_head(&self, buf: &[u8]) -> bool {
        self.method(buf) == b"HEAD"
    }
}

impl ResponseHead {
    /// The reason phrase's bytes (possibly empty).
    pub fn reason<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.reason.clone()]
    }
}

impl HeadError {
    /// Short description for logs and `show errors`.
    pub fn as_str(&self) -> &'static str {
        match self {
            HeadError::TooLarge => "header block too large",
            HeadError::TooManyHeaders => "too many headers",
            HeadError::Malformed(what) => what,
            HeadError::BadContentLength => "invalid or conflicting Content-Length",
            HeadError::BadTransferEncoding => "invalid Transfer-Encoding",
        }
    }
}

impl std::fmt::Display for HeadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for HeadError {}

/// Where the first blank line ending a head lies in `buf`, searching from `from`: the offset just after it.
///
/// A head cannot be complete before such a line, so a session can remember how far it looked (`buf.len()` minus 2
/// after a miss) and call [`parse_request`]/[`parse_response`] only once this finds something or the buffer is
/// full: a head trickling in byte by byte then costs linear time, not quadratic. Leading empty lines before a
/// request line may give a false positive (the parser then answers `Ok(None)`); there are no false negatives.
pub fn find_blank_line(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from.min(buf.len());
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            _ => i = nl + 1,
        }
    }
    None
}

/// Name and value bytes of a header line (`buf` is the buffer the head was parsed from, else this panics).
pub fn header<'a>(buf: &'a [u8], h: &HeaderIdx) -> (&'a [u8], &'a [u8]) {
    (&buf[h.name.clone()], &buf[h.value.clone()])
}

/// Indexes of the headers named `name` (ASCII case-insensitive), in order.
pub fn find_header<'a>(buf: &'a [u8], headers: &'a [HeaderIdx], name: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    headers.iter().enumerate().filter(move |(_, h)| buf[h.name.clone()].eq_ignore_ascii_case(name)).map(|(i, _)| i)
}

/// The elements of a comma-separated header value (`Connection: keep-alive, Upgrade`), trimmed of spaces and
/// tabs, empty elements skipped. Quoted strings are not special-cased (no list header we interpret uses them).
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim).filter(|t| !t.is_empty())
}

/// `value` without leading and trailing spaces and tabs.
pub fn trim(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(value.len());
    let end = value.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |p| p + 1);
    &value[start..end.max(start)]
}

/// Connection-related tokens of a `Connection` header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnTokens {
    /// `close` is listed.
    pub close: bool,
    /// `keep-alive` is listed.
    pub keep_alive: bool,
    /// `upgrade` is listed.
    pub upgrade: bool,
}

/// Parses one `Connection` header value, merging into `acc` (several Connection headers add up).
pub fn parse_connection(value: &[u8], acc: &mut ConnTokens) {
    for t in tokens(value) {
        if t.eq_ignore_ascii_case(b"close") {
            acc.close = true;
        } else if t.eq_ignore_ascii_case(b"keep-alive") {
            acc.keep_alive = true;
        } else if t.eq_ignore_ascii_case(b"upgrade") {
            acc.upgrade = true;
        }
    }
}

fn map_httparse(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::HeaderName => HeadError::Malformed("invalid header name or obsolete line folding"),
        httparse::Error::HeaderValue => HeadError::Malformed("invalid character in header value"),
        httparse::Error::NewLine => HeadError::Malformed("invalid line ending"),
        httparse::Error::Status => HeadError::Malformed("invalid status line"),
        httparse::Error::Token => HeadError::Malformed("invalid method or request line"),
        httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
        httparse::Error::Version => HeadError::Malformed("invalid request line or HTTP version"),
    }
}

/// Offset of `part` (a sub-slice of `buf` returned by httparse) in `buf`.
fn offset_in(buf: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize).min(buf.len())
}

/// End (exclusive, before CR LF / LF) of the line starting at or containing `from`, and the offset after its LF.
fn line_end(buf: &[u8], from: usize) -> (usize, usize) {
    let nl = buf[from..].iter().position(|&b| b == b'\n').map_or(buf.len(), |p| from + p);
    let end = if nl > from && buf[nl - 1] == b'\r' { nl - 1 } else { nl };
    (end, (nl + 1).min(buf.len()))
}

/// True when the line ending at `end` (exclusive of its line ending) ends in a bare LF.
fn is_bare_lf(buf: &[u8], end: usize) -> bool {
    buf.get(end) == Some(&b'\n')
}

/// Fills `out` with the header lines httparse found; byte ranges are recomputed from the buffer so that empty
/// values and trailing spaces are handled the same everywhere. Returns whether some line ended in a bare LF.
fn collect_headers(buf: &[u8], parsed: &[httparse::Header<'_>], out: &mut Vec<HeaderIdx>) -> Result<bool, HeadError> {
    out.clear();
    let mut bare = false;
    for h in parsed {
        let name_start = offset_in(buf, h.name.as_bytes());
        let colon = name_start + h.name.len();
        if buf.get(colon) != Some(&b':') {
            return Err(HeadError::Malformed("invalid header name"));
        }
        let (end, next) = line_end(buf, colon);
        bare |= is_bare_lf(buf, end);
        let value = &buf[colon + 1..end];
        let lead = value.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(value.len());
        let tail = value.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(lead, |p| p + 1);
        out.push(HeaderIdx {
            name: name_start..colon,
            value: colon + 1 + lead..colon + 1 + tail.max(lead),
            line: name_start..next,
        });
    }
    Ok(bare)
}

/// True when the head `buf[..len]` has a bare LF on its start line or its final empty line.
fn edges_bare_lf(buf: &[u8], sl_end: usize, len: usize) -> bool {
    is_bare_lf(buf, sl_end) || len < 2 || buf[len - 2] != b'\r'
}

/// Parses a Content-Length value: digits only, or a list of identical digit strings (RFC 7230 §3.3.2).
/// Returns the value and whether it was a list.
pub(super) fn parse_content_length(value: &[u8]) -> Result<(u64, bool), HeadError> {
    let mut found: Option<u64> = None;
    let mut elements = 0usize;
    for part in value.split(|&b| b == b',') {
        let part = trim(part);
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(HeadError::BadContentLength);
        }
        let mut n: u64 = 0;
        for &d in part {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or(HeadError::BadContentLength)?;
        }
        match found {
            Some(prev) if prev != n => return Err(HeadError::BadContentLength),
            _ => found = Some(n),
        }
        elements += 1;
    }
    found.map(|n| (n, elements > 1)).ok_or(HeadError::BadContentLength)
}

/// What the framing and connection headers of one message say.
#[derive(Default)]
struct Facts {
    content_length: Option<u64>,
    te_present: bool,
    /// `chunked` is the final transfer coding.
    chunked_last: bool,
    /// `chunked` is listed more than once, or before another coding.
    te_invalid: bool,
    conn: ConnTokens,
    upgrade_header: bool,
    expect_continue: bool,
}

/// Walks the headers once for framing and connection facts; fills `drop_cl`/`cl_rewrite` for repeated CL.
fn analyze(
    buf: &[u8],
    headers: &[HeaderIdx],
    drop_cl: &mut Vec<usize>,
    cl_rewrite: &mut Option<(usize, u64)>,
) -> Result<Facts, HeadError> {
    let mut f = Facts::default();
    let mut first_cl: Option<usize> = None;
    drop_cl.clear();
    *cl_rewrite = None;
    for (i, h) in headers.iter().enumerate() {
        let (name, value) = header(buf, h);
        if name.eq_ignore_ascii_case(b"content-length") {
            let (n, list) = parse_content_length(value)?;
            match f.content_length {
                Some(prev) if prev != n => return Err(HeadError::BadContentLength),
                Some(_) => drop_cl.push(i),
                None => {
                    f.content_length = Some(n);
                    first_cl = Some(i);
                    if list {
                        *cl_rewrite = Some((i, n));
                    }
                }
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            f.te_present = true;
            for coding in tokens(value) {
                // A coding may carry parameters (`gzip;q=1`); only its name matters here.
                let coding = trim(coding.split(|&b| b == b';').next().unwrap_or(coding));
                if f.chunked_last {
                    // Something after `chunked`, including a second `chunked`.
                    f.te_invalid = true;
                }
                f.chunked_last = coding.eq_ignore_ascii_case(b"chunked");
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            parse_connection(value, &mut f.conn);
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            f.upgrade_header = true;
        } else if name.eq_ignore_ascii_case(b"expect") {
            f.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
        }
    }
    if f.te_present && f.content_length.is_some() {
        // Transfer-Encoding wins; every Content-Length goes (RFC 7230 §3.3.3 item 3, HAProxy 2.x).
        if let Some(i) = first_cl {
            drop_cl.push(i);
            drop_cl.sort_unstable();
        }
        *cl_rewrite = None;
    }
    Ok(f)
}

fn conn_info(f: &Facts, version: Version) -> ConnInfo {
    ConnInfo {
        close: f.conn.close || (version == Version::Http10 && !f.conn.keep_alive),
        keep_alive: f.conn.keep_alive,
        upgrade: f.conn.upgrade && f.upgrade_header && version == Version::Http11,
        expect_continue: false,
        cl_and_te: f.te_present && f.content_length.is_some(),
    }
}

fn version_of(v: Option<u8>) -> Result<Version, HeadError> {
    match v {
        Some(0) => Ok(Version::Http10),
        Some(1) => Ok(Version::Http11),
        _ => Err(HeadError::Malformed("unsupported HTTP version")),
    }
}

/// Parses a request head at the start of `buf` into `out` (its vectors are cleared and reused).
///
/// `Ok(None)`: incomplete, read more. `Ok(Some(len))`: complete head of `len` bytes (also `out.len`); the body, if
/// any, starts at `buf[len]`, framed as `out.framing`. `Err`: answer 400 and close.
pub fn parse_request(buf: &[u8], max_len: usize, out: &mut RequestHead) -> Result<Option<usize>, HeadError> {
    let window = &buf[..buf.len().min(max_len)];
    let mut parsed = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut parsed);
    let len = match req.parse(window) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= max_len => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(map_httparse(e)),
    };
    let (Some(method), Some(uri)) = (req.method, req.path) else {
        return Err(HeadError::Malformed("invalid request line"));
    };
    let version = version_of(req.version)?;
    let m_start = offset_in(window, method.as_bytes());
    let u_start = offset_in(window, uri.as_bytes());
    let (sl_end, _) = line_end(window, m_start);
    let bare = collect_headers(window, req.headers, &mut out.headers)?;
    out.bare_lf = bare || edges_bare_lf(window, sl_end, len);
    let f = analyze(window, &out.headers, &mut out.drop_cl, &mut out.cl_rewrite)?;
    let framing = if f.te_present {
        if version != Version::Http11 || !f.chunked_last || f.te_invalid {
            return Err(HeadError::BadTransferEncoding);
        }
        Framing::Chunked
    } else if let Some(n) = f.content_length {
        Framing::ContentLength(n)
    } else {
        Framing::None
    };
    let mut conn = conn_info(&f, version);
    conn.expect_continue = f.expect_continue && version == Version::Http11;
    out.method = m_start..m_start + method.len();
    out.uri = u_start..u_start + uri.len();
    out.version = version;
    out.len = len;
    out.framing = Some(framing);
    out.conn = conn;
    out.start_line = m_start..sl_end;
    Ok(Some(len))
}

/// Parses a response head at the start of `buf` into `out` (its vectors are cleared and reused).
///
/// `req_method_is_head`: the request was `HEAD`, so the response has no body. Same results as
/// [`parse_request`]; `Err` means answer 502 to the client and close the server connection.
pub fn parse_response(
    buf: &[u8],
    max_len: usize,
    req_method_is_head: bool,
    out: &mut ResponseHead,
) -> Result<Option<usize>, HeadError> {
    let window = &buf[..buf.len().min(max_len)];
    let mut parsed = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut parsed);
    let len = match res.parse(window) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= max_len => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(map_httparse(e)),
    };
    let version = version_of(res.version)?;
    let status = res.code.ok_or(HeadError::Malformed("invalid status line"))?;
    if status < 100 {
        return Err(HeadError::Malformed("invalid status code"));
    }
    let start = window.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(0);
    let (sl_end, _) = line_end(window, start);
    // "HTTP/1.x NNN" is 12 bytes; the reason follows one space.
    let reason_start = (start + 13).min(sl_end);
    let bare = collect_headers(window, res.headers, &mut out.headers)?;
    out.bare_lf = bare || edges_bare_lf(window, sl_end, len);
    let f = analyze(window, &out.headers, &mut out.drop_cl, &mut out.cl_rewrite)?;
    let framing = if req_method_is_head || (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::None
    } else if f.te_present {
        if f.te_invalid {
            return Err(HeadError::BadTransferEncoding);
        }
        // A final coding other than chunked: the body runs until the server closes (RFC 7230 §3.3.3 item 3).
        if f.chunked_last {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else if let Some(n) = f.content_length {
        Framing::ContentLength(n)
    } else {
        Framing::UntilClose
    };
    let mut conn = conn_info(&f, version);
    if framing == Framing::UntilClose {
        conn.close = true;
    }
    out.version = version;
    out.status = status;
    out.reason = reason_start..sl_end;
    out.len = len;
    out.framing = Some(framing);
    out.conn = conn;
    out.start_line = start..sl_end;
    Ok(Some(len))
}

#[cfg(test)]
mod tests;
