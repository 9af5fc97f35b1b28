//! What an HTTP session holds: a small per-connection part that lives as long as the client connection
//! ([`HttpConn`]), and the storage of one request–response exchange ([`Txn`]), taken from the worker's pool when
//! the first byte of a request arrives and given back when the exchange ends. An idle keep-alive connection so
//! holds no transaction storage (and, since buffers are pooled too, no buffer).

use std::time::Instant;

use crate::http::errors;
use crate::http::h1::{ClientSide, Next, ServerSide};
use crate::http::head::{HeadEdits, RequestHead, ResponseHead};
use crate::rules::cookie;

/// Where the current exchange stands, beyond what the HTTP/1 machines know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::worker) enum Stage {
    /// Waiting for (the rest of) a request head.
    Request,
    /// The request head was accepted: server chosen, head and body forwarded, response awaited and streamed.
    Forward,
    /// The connection became a tunnel after a `101`: bytes flow blindly both ways.
    Tunnel,
    /// A response the proxy made up itself is being written; then the connection does `then`.
    Answer { then: Next },
    /// `tarpit`: the answer waits for the tarpit delay; nothing is read meanwhile.
    Held,
}

/// The per-connection HTTP state of a session (inline in the session: small).
#[derive(Debug)]
pub(in crate::worker) struct HttpConn {
    /// The HTTP/1 rules of the client connection.
    pub client: ClientSide,
    /// The current exchange, while there is one.
    pub txn: Option<Box<Txn>>,
    /// When the current request began: its first byte, or the end of the previous exchange while none came
    /// (`timeout http-keep-alive`, then `timeout http-request`, count from there).
    pub started: Instant,
    /// The same as unix milliseconds.
    pub started_wall: u64,
    /// The server connection held by the session was kept, clean, from the previous exchange.
    pub reused: bool,
}

impl HttpConn {
    pub fn new(client: ClientSide, now: Instant, wall: u64) -> HttpConn {
        HttpConn { client, txn: None, started: now, started_wall: wall, reused: false }
    }

    /// The stage of the current exchange (`Request` while none began).
    pub fn stage(&self) -> Stage {
        self.txn.as_ref().map_or(Stage::Request, |t| t.stage)
    }

    /// The request went out whole and the response head has not come back yet (`timeout server` applies).
    pub fn awaiting_response(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.awaiting_response())
    }
}

/// One request–response exchange.
#[derive(Debug)]
pub(in crate::worker) struct Txn {
    pub stage: Stage,
    pub req: RequestHead,
    pub resp: ResponseHead,
    /// The HTTP/1 rules of the server connection for this exchange.
    pub server: ServerSide,
    /// The whole request was received (its `End`); `c2s_ready` bytes of it may still wait to go out.
    pub req_in: bool,
    /// The final response head was forwarded (its body follows); `resp_in`: the whole response was received.
    pub resp_started: bool,
    pub resp_in: bool,
    /// Validated body bytes at the front of c2s / s2c, ready to forward.
    pub c2s_ready: usize,
    pub s2c_ready: usize,
    /// Serialized head (or local response) still to write to the server / client.
    pub to_server: Vec<u8>,
    pub to_server_pos: usize,
    pub to_client: Vec<u8>,
    pub to_client_pos: usize,
    /// When the request's head was complete (`Tq`), the response's (`Tr`), and the status.
    pub tq: i64,
    pub tr: i64,
    pub status: i32,
    /// Bytes sent to the client in this exchange.
    pub bytes_out: u64,
    pub req_line: Vec<u8>,
    /// A locally generated response was sent for this exchange.
    pub answered: bool,
    /// The server connection came from the idle pool (or was kept from this client's previous request).
    pub from_pool: bool,
    /// The request can be sent again if a reused connection fails first (idempotent method, no body).
    pub replayable: bool,
    /// Do not take a pooled connection for this request (a replay).
    pub no_pool: bool,
    /// `unique-id-format` rendered for the current request (`%ID`), empty when none is configured.
    pub unique_id: String,
    /// `option logasap`: the response head is in, log the exchange now (timers and bytes so far, `+`-prefixed).
    pub log_now: bool,
    /// The worker's request counter when this request arrived (`%rt`).
    pub req_id: u64,
    /// `capture request header` values of the current request, `capture response header` of its response.
    pub req_captures: Vec<String>,
    pub res_captures: Vec<String>,
    /// `capture cookie` in the request / response.
    pub req_cookie: Option<String>,
    pub res_cookie: Option<String>,
    /// Persistence found in the request (cookie), for the response side.
    pub persist: Option<cookie::Persistence>,
    /// Cookie log characters (`NI`, `VN`, …), `--` when persistence is not used.
    pub cookie_chars: [u8; 2],
    /// A copy of the current request head, for response rules and cookies (the original is consumed).
    pub req_copy: Vec<u8>,
    /// Header edits of the message being forwarded (kept to reuse its allocations).
    pub edits: HeadEdits,
}

impl Txn {
    /// Fresh storage for an exchange on a connection whose server side uses `server`'s rules.
    pub fn new(server: ServerSide) -> Txn {
        Txn {
            stage: Stage::Request,
            req: RequestHead::default(),
            resp: ResponseHead::default(),
            server,
            req_in: false,
            resp_started: false,
            resp_in: false,
            c2s_ready: 0,
            s2c_ready: 0,
            to_server: Vec::new(),
            to_server_pos: 0,
            to_client: Vec::new(),
            to_client_pos: 0,
            tq: -1,
            tr: -1,
            status: -1,
            bytes_out: 0,
            req_line: Vec::new(),
            answered: false,
            from_pool: false,
            replayable: false,
            no_pool: false,
            unique_id: String::new(),
            log_now: false,
            req_id: 0,
            req_captures: Vec::new(),
            res_captures: Vec::new(),
            req_cookie: None,
            res_cookie: None,
            persist: None,
            cookie_chars: *b"--",
            req_copy: Vec::new(),
            edits: HeadEdits::default(),
        }
    }

    /// Make a finished exchange's storage fresh for another one (from any connection), keeping allocations.
    pub fn recycle(&mut self, server: ServerSide) {
        self.stage = Stage::Request;
        self.server = server;
        self.req_in = false;
        self.resp_started = false;
        self.resp_in = false;
        self.c2s_ready = 0;
        self.s2c_ready = 0;
        self.to_server.clear();
        self.to_server_pos = 0;
        self.to_client.clear();
        self.to_client_pos = 0;
        self.tq = -1;
        self.tr = -1;
        self.status = -1;
        self.bytes_out = 0;
        self.req_line.clear();
        self.answered = false;
        self.from_pool = false;
        self.replayable = false;
        self.no_pool = false;
        self.unique_id.clear();
        self.log_now = false;
        self.req_id = 0;
        self.req_captures.clear();
        self.res_captures.clear();
        self.req_cookie = None;
        self.res_cookie = None;
        self.persist = None;
        self.cookie_chars = *b"--";
        self.req_copy.clear();
        self.edits.clear();
    }

    /// The request went out completely and no response head has come back yet.
    pub fn awaiting_response(&self) -> bool {
        self.stage == Stage::Forward
            && self.to_server_pos >= self.to_server.len()
            && self.req_in
            && self.server.awaiting_head()
    }

    /// The whole request was received and forwarded.
    pub fn request_whole(&self) -> bool {
        self.req_in && self.c2s_ready == 0 && self.to_server_pos >= self.to_server.len()
    }

    /// The 302 a `redir PREFIX` server gives a GET or HEAD (`None` for other methods).
    pub fn redir_page(&self, prefix: &str) -> Option<Vec<u8>> {
        let method = self.req.method(&self.req_copy);
        if method != b"GET" && method != b"HEAD" {
            return None;
        }
        let uri = String::from_utf8_lossy(self.req.uri(&self.req_copy));
        Some(errors::redirect(302, &format!("{prefix}{uri}"), &[]))
    }
}
