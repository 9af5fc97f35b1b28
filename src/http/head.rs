//! Request and response heads parsed in place: offsets into the connection buffer, not Strings, so that
//! forwarding an unmodified head is a copy and parsing allocates nothing once the session's vectors are warm.
//!
//! Contract (the worker codes against it):
//! - [`parse_request`] / [`parse_response`] look at the start of `buf`; `Ok(None)` = need more bytes (and the
//!   head is not yet over `max_len`), `Ok(Some(head))` = a complete head of `head.len` bytes, `Err` = reject with
//!   the error's status (400 for requests, 502 for responses).
//! - Validation follows HAProxy 2.6 (HAPROXY-FACTS §5.4–5.6): header block larger than `max_len`
//!   (`tune.bufsize - tune.maxrewrite`) → error; more than `MAX_HEADERS` headers → error; obsolete line folding,
//!   invalid header-name characters, bad request line → error; two Content-Length with different values →
//!   error; Content-Length + Transfer-Encoding: CL is dropped (marked for removal in `HeadEdits`) and the
//!   server connection must close after this exchange.
//! - [`HeadEdits`] records changes; [`write_request`]/[`write_response`] serialize `buf[..len]` with the edits
//!   applied into an output buffer.

use std::ops::Range;

/// Default maximum number of headers (`tune.http.maxhdr`).
pub const MAX_HEADERS: usize = 101;

/// HTTP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    Http10,
    #[default]
    Http11,
}

/// One header line: byte ranges of its name and value (value trimmed of surrounding spaces) in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderIdx {
    pub name: Range<usize>,
    pub value: Range<usize>,
    /// Range of the whole line including its CRLF (for deletion).
    pub line: Range<usize>,
}

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (GET without CL/TE, 204, 304, HEAD response, 1xx).
    None,
    ContentLength(u64),
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
    /// `Connection: upgrade` with an `Upgrade` header.
    pub upgrade: bool,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
    /// Both Content-Length and Transfer-Encoding were present (CL dropped; close the server side after).
    pub cl_and_te: bool,
}

/// A parsed request head.
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    pub method: Range<usize>,
    pub uri: Range<usize>,
    pub version: Version,
    pub headers: Vec<HeaderIdx>,
    /// Total head length including the final empty line.
    pub len: usize,
    pub framing: Option<Framing>,
    pub conn: ConnInfo,
}

/// A parsed response head.
#[derive(Debug, Clone, Default)]
pub struct ResponseHead {
    pub version: Version,
    pub status: u16,
    pub reason: Range<usize>,
    pub headers: Vec<HeaderIdx>,
    pub len: usize,
    pub framing: Option<Framing>,
    pub conn: ConnInfo,
}

/// Why a head was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// Over `max_len` without a complete head.
    TooLarge,
    TooManyHeaders,
    /// Malformed start line, header name, folding, …
    Malformed(&'static str),
    /// Conflicting or invalid Content-Length.
    BadContentLength,
    /// Transfer-Encoding other than a final `chunked` on a request.
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
}
