//! The request and response vectors the HTTP/1 machines are tested on (see `tests.rs` for the notation of
//! `expect`): keep-alive, pipelining, chunked bodies with extensions and trailers, `100-continue`, upgrades,
//! `HEAD`, `204`/`304`, until-close bodies, connection modes, and malformed input.

use crate::config::model::HttpConnMode;

/// How the driver answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// `200` with `content-length: 0`, after the whole request.
    Ok,
    /// `200` without a length: its body ends when the server closes.
    UntilClose,
    /// `101 Switching Protocols`.
    Switch,
    /// Answered by the proxy itself as soon as the head is in (deny, redirect…).
    Local,
    /// A server answering `200` as soon as the head is in, before the body.
    Early,
}

/// Request bytes a client sends on one connection, and what the client side must make of them.
#[derive(Debug)]
pub struct ReqVector {
    pub name: &'static str,
    pub input: &'static [u8],
    pub mode: HttpConnMode,
    /// How each request is answered, in order (`Plan::Ok` past the end).
    pub plans: &'static [Plan],
    pub expect: &'static str,
}

impl ReqVector {
    pub fn plan(&self, i: usize) -> Plan {
        self.plans.get(i).copied().unwrap_or(Plan::Ok)
    }
}

/// A request sent on a server connection, the response bytes the server sends back, and what the server side
/// must make of them.
#[derive(Debug)]
pub struct RespVector {
    pub name: &'static str,
    pub request: &'static [u8],
    pub input: &'static [u8],
    pub mode: HttpConnMode,
    pub expect: &'static str,
}

const KA: HttpConnMode = HttpConnMode::KeepAlive;

const fn req(name: &'static str, input: &'static [u8], expect: &'static str) -> ReqVector {
    ReqVector { name, input, mode: KA, plans: &[], expect }
}

const fn req_with(
    name: &'static str,
    input: &'static [u8],
    mode: HttpConnMode,
    plans: &'static [Plan],
    expect: &'static str,
) -> ReqVector {
    ReqVector { name, input, mode, plans, expect }
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

const fn resp(name: &'static str, input: &'static [u8], expect: &'static str) -> RespVector {
    RespVector { name, request: GET, input, mode: KA, expect }
}

const fn resp_with(
    name: &'static str,
    request: &'static [u8],
    input: &'static [u8],
    mode: HttpConnMode,
    expect: &'static str,
) -> RespVector {
    RespVector { name, request, input, mode, expect }
}

pub static REQUESTS: &[ReqVector] = &[
    req("keep-alive get", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "H E K closed"),
    req(
        "pipelined gets",
        b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
        "H E K H E K H E K closed",
    ),
    req("http/1.0 closes", b"GET / HTTP/1.0\r\n\r\n", "H E C"),
    req("http/1.0 keep-alive", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "H E K closed"),
    req("connection close", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "H E C"),
    req("connection close among tokens", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n", "H E C"),
    req("post with content-length", b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", "H B5 E K closed"),
    req(
        "chunked with extensions and trailers",
        b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5;a=\"b\"\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\n",
        "H B50 E K closed",
    ),
    req(
        "chunked then pipelined get",
        b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /n HTTP/1.1\r\nHost: a\r\n\r\n",
        "H B13 E K H E K closed",
    ),
    req(
        "expect 100-continue",
        b"POST /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
        "H B3 E K closed",
    ),
    req_with(
        "websocket upgrade",
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        KA,
        &[Plan::Switch],
        "H E T",
    ),
    req("head request", b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", "H E K closed"),
    req("options asterisk", b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "H E K closed"),
    req("leading empty lines", b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "H E K closed"),
    req("bare lf line endings", b"GET / HTTP/1.1\nHost: a\n\n", "H E K closed"),
    req("content-length zero", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "H E K closed"),
    req(
        "identical content-lengths",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        "H B2 E K closed",
    ),
    req(
        "content-length and transfer-encoding: chunked wins",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
        "H B11 E K closed",
    ),
    req("empty connection", b"", "closed"),
    req("garbage request line", b"GARBAGE\r\n\r\n", "error(head)@7"),
    req("bad version", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", "error(head)@11"),
    req(
        "differing content-lengths",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "error(head)@61",
    ),
    req("obsolete line folding", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", "error(head)@33"),
    req(
        "transfer-encoding on http/1.0",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "error(head)@36",
    ),
    req(
        "bad chunk size",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "H error(body)@56",
    ),
    req(
        "chunk size overflow",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
        "H B15 error(body)@71",
    ),
    req("head cut by close", b"GET / HTTP/1.1\r\nHost: a\r\n", "aborted"),
    req("body cut by close", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello", "H B5 aborted"),
    req_with("httpclose", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", HttpConnMode::Close, &[], "H E C"),
    req_with(
        "http-server-close keeps the client",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        HttpConnMode::ServerClose,
        &[],
        "H E K H E K closed",
    ),
    req_with(
        "server answers before the body",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello",
        KA,
        &[Plan::Early],
        "H C",
    ),
    req_with(
        "local answer keeps alive",
        b"GET /deny HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        KA,
        &[Plan::Local],
        "H K H E K closed",
    ),
    req_with(
        "local answer with an unread body closes",
        b"POST /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        KA,
        &[Plan::Local],
        "H C",
    ),
    req_with(
        "until-close response closes the client",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
        KA,
        &[Plan::UntilClose],
        "H E C",
    ),
    req(
        "pipelined bodies",
        b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nxPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nyzGET /c HTTP/1.1\r\nHost: a\r\n\r\n",
        "H B1 E K H B2 E K H E K closed",
    ),
    req("connect", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "H E K closed"),
    req("error after a good request", b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBAD\r\n\r\n", "H E K error(head)@30"),
];

pub static RESPONSES: &[RespVector] = &[
    resp("content-length", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "H h200 B5 E K!"),
    resp(
        "chunked with trailers",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nEtag: z\r\n\r\n",
        "H h200 B28 E K!",
    ),
    resp("no content", b"HTTP/1.1 204 No Content\r\n\r\n", "H h204 E K!"),
    resp("not modified with a length", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", "H h304 E K!"),
    resp_with(
        "head response has no body",
        b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        KA,
        "H h200 E K!",
    ),
    resp(
        "100 continue first",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "H i100 h200 B2 E K!",
    ),
    resp(
        "103 early hints",
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "H i103 h200 E K!",
    ),
    resp_with(
        "switching protocols",
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        KA,
        "H h101 T",
    ),
    resp("http/1.0 until close", b"HTTP/1.0 200 OK\r\n\r\nall of it", "H h200 B9 E C"),
    resp(
        "response connection close",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
        "H h200 B1 E C",
    ),
    resp("unknown final coding", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", "H h200 B3 E C"),
    resp("bad status line", b"HTTP/1.1 OK\r\n\r\n", "H error(head)@9"),
    resp("status below 100", b"HTTP/1.1 099 Odd\r\n\r\n", "H error(head)@9"),
    resp("bad chunk", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", "H h200 B8 error(body)@55"),
    resp("closed before anything", b"", "H closed"),
    resp("closed in the head", b"HTTP/1.1 200 OK\r\nContent-", "H aborted"),
    resp("closed in the body", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "H h200 B5 aborted"),
    resp(
        "both framing headers",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
        "H h200 B11 E K!",
    ),
    resp_with(
        "ambiguous request spoils the connection",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        KA,
        "H h200 E C",
    ),
    resp_with(
        "http-server-close",
        GET,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        HttpConnMode::ServerClose,
        "H h200 E C",
    ),
    resp_with(
        "refused upgrade",
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        KA,
        "H h400 E C",
    ),
    resp(
        "response with differing content-lengths",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "H error(head)@52",
    ),
    resp("longer than its length", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabcdef", "H h200 B2 E K!"),
    resp("no content carrying a body", b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", "H h204 E K!"),
    resp("bare lf response", b"HTTP/1.1 200 OK\nContent-Length: 1\n\nx", "H h200 B1 E K!"),
];
