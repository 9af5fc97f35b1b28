//! The connection with a server, as a sans-io state machine: requests go out, responses come in.
//!
//! [`ServerSide::send_request`] serializes a request head with the `Connection` header the connection mode
//! calls for and records what the response's framing depends on (a `HEAD` request's response has no body).
//! [`ServerSide::poll`] then says what the response bytes received are: interim `1xx` heads (forwarded as they
//! are, `100 Continue` included), the final head, body bytes ready to forward, the end, a protocol error, or the
//! server closing. After the end, [`ServerSide::reusable`] says whether the connection may carry another request:
//! not after an ambiguous request (both Content-Length and Transfer-Encoding), an upgrade, a response that
//! closes or ends with the connection, or under `option http-server-close`/`httpclose`.

use super::{body_step, Bad, Next, UNSCANNED};
use crate::config::model::HttpConnMode;
use crate::http::body::BodyTracker;
use crate::http::head::{self, Framing, HeadEdits, RequestHead, ResponseHead};
use crate::http::write::{set_connection, write_request, ConnHeader};

/// What the response bytes given to [`ServerSide::poll`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespEvent {
    /// Nothing to report until more bytes arrive.
    NeedMore,
    /// An interim (`1xx` other than `101`) head of this many bytes starts the input; the final one follows.
    Interim(usize),
    /// The final response head (or a `101`) of this many bytes starts the input.
    Head(usize),
    /// This many bytes at the start of the input are response body (validated; chunk framing included).
    Body(usize),
    /// The response is complete.
    End,
    /// The server closed before sending any byte of the response (a reused connection may have been closed
    /// just as the request went out: the request may be sent again elsewhere).
    Closed,
    /// The server closed in the middle of a response head or body.
    Aborted,
    /// The response is malformed: a head (502, state `PH`) or a body (state `SD`).
    Error(Bad),
}

/// Where the response side stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resp {
    /// No request is out.
    Idle,
    /// Waiting for (the rest of) a response head; `scanned` as in the client side; `got`: some byte of this
    /// exchange's response (an interim head) came already.
    Head { scanned: usize, got: bool },
    /// The final head was reported; this tracks its body.
    Body(BodyTracker),
    /// The response is in whole; `End` is yet to be reported.
    EndPending,
    /// The exchange is over.
    Done,
    /// After a `101`: a tunnel.
    Tunnel,
    /// The connection failed.
    Closed,
}

/// The HTTP/1 state of one server connection.
#[derive(Debug, Clone)]
pub struct ServerSide {
    resp: Resp,
    max_head: usize,
    mode: HttpConnMode,
    /// The request was `HEAD`: its response has no body whatever its headers say.
    head_request: bool,
    /// The connection may carry another request once this exchange ends.
    reusable: bool,
}

impl ServerSide {
    /// A server connection of a backend in connection mode `mode`; response heads over `max_head` bytes are
    /// refused.
    pub fn new(max_head: usize, mode: HttpConnMode) -> ServerSide {
        ServerSide { resp: Resp::Idle, max_head, mode, head_request: false, reusable: false }
    }

    /// A request goes out on this connection: its head `req` (bytes in `buf`) with `edits` is serialized into
    /// `out` with the `Connection` header the mode calls for, and the response is awaited.
    pub fn send_request(&mut self, req: &RequestHead, buf: &[u8], edits: &mut HeadEdits, out: &mut Vec<u8>) {
        self.head_request = req.is_head(buf);
        self.reusable = self.mode == HttpConnMode::KeepAlive && !req.conn.cl_and_te && !req.conn.upgrade;
        let conn = if self.reusable { ConnHeader::KeepAlive } else { ConnHeader::Close };
        set_connection(edits, req, buf, conn);
        write_request(buf, req, edits, out);
        self.resp = Resp::Head { scanned: UNSCANNED, got: false };
    }

    /// The request goes out again, whole, on another connection (a reused one failed before any response byte):
    /// its response is awaited afresh.
    pub fn resend(&mut self) {
        self.resp = Resp::Head { scanned: UNSCANNED, got: false };
    }

    /// The connection must not carry another request (its response was refused, the client went away).
    pub fn spoil(&mut self) {
        self.reusable = false;
    }

    /// A response is awaited and none of it came yet (the request can still be replayed elsewhere).
    pub fn nothing_received(&self) -> bool {
        matches!(self.resp, Resp::Head { got: false, .. })
    }

    /// The final response head is not in yet.
    pub fn awaiting_head(&self) -> bool {
        matches!(self.resp, Resp::Head { .. })
    }

    /// Once the exchange ended: the connection may carry another request. `request_whole`: the client's request
    /// was sent to its end (a server that answered early leaves the rest unread).
    pub fn reusable(&self, request_whole: bool) -> bool {
        self.reusable && request_whole && self.resp == Resp::Done
    }

    /// What follows the response whose head was reported last.
    pub fn next(&self) -> Next {
        match self.resp {
            Resp::Tunnel => Next::Tunnel,
            _ if self.reusable => Next::KeepAlive,
            _ => Next::Close,
        }
    }

    /// Say what the response bytes `input` (received, not yet reported) are; `eof`: the server closed its side.
    /// A head is parsed into `head`.
    pub fn poll(&mut self, input: &[u8], eof: bool, head: &mut ResponseHead) -> RespEvent {
        match self.resp {
            Resp::Head { scanned, got } => self.poll_head(input, eof, scanned, got, head),
            Resp::Body(mut t) => {
                if input.is_empty() {
                    if !eof {
                        return RespEvent::NeedMore;
                    }
                    // An until-close body ends here; any other was cut short.
                    return match t.finish_eof() {
                        Ok(()) => {
                            self.reusable = false;
                            self.resp = Resp::Done;
                            RespEvent::End
                        }
                        Err(_) => {
                            self.resp = Resp::Closed;
                            RespEvent::Aborted
                        }
                    };
                }
                match body_step(&mut t, input) {
                    Ok(k) => {
                        self.resp = if t.is_done() { Resp::EndPending } else { Resp::Body(t) };
                        if k == 0 {
                            return self.poll(input, eof, head);
                        }
                        RespEvent::Body(k)
                    }
                    Err(what) => {
                        self.resp = Resp::Closed;
                        self.reusable = false;
                        RespEvent::Error(Bad { what, at: 0, body: true })
                    }
                }
            }
            Resp::EndPending => {
                self.resp = Resp::Done;
                RespEvent::End
            }
            Resp::Idle | Resp::Done | Resp::Tunnel | Resp::Closed => RespEvent::NeedMore,
        }
    }

    fn poll_head(&mut self, input: &[u8], eof: bool, scanned: usize, got: bool, head: &mut ResponseHead) -> RespEvent {
        if input.is_empty() {
            if !eof {
                return RespEvent::NeedMore;
            }
            self.resp = Resp::Closed;
            self.reusable = false;
            return if got { RespEvent::Aborted } else { RespEvent::Closed };
        }
        if scanned != UNSCANNED && input.len() < self.max_head && head::find_blank_line(input, scanned).is_none() {
            self.resp = Resp::Head { scanned: input.len().saturating_sub(3), got: true };
            if eof {
                self.resp = Resp::Closed;
                self.reusable = false;
                return RespEvent::Aborted;
            }
            return RespEvent::NeedMore;
        }
        match head::parse_response(input, self.max_head, self.head_request, head) {
            Ok(None) => {
                self.resp = Resp::Head { scanned: input.len().saturating_sub(3), got: true };
                if eof {
                    self.resp = Resp::Closed;
                    self.reusable = false;
                    return RespEvent::Aborted;
                }
                RespEvent::NeedMore
            }
            Err(e) => {
                self.resp = Resp::Closed;
                self.reusable = false;
                let at = head::error_position(input, self.max_head, &e, false);
                RespEvent::Error(Bad { what: e.as_str(), at, body: false })
            }
            Ok(Some(len)) => {
                match head.status {
                    101 => {
                        self.resp = Resp::Tunnel;
                        self.reusable = false;
                    }
                    s if s < 200 => {
                        self.resp = Resp::Head { scanned: UNSCANNED, got: true };
                        return RespEvent::Interim(len);
                    }
                    _ => {
                        let framing = head.framing.unwrap_or(Framing::None);
                        if head.conn.close || framing == Framing::UntilClose {
                            self.reusable = false;
                        }
                        let t = BodyTracker::new(framing);
                        self.resp = if t.is_done() { Resp::EndPending } else { Resp::Body(t) };
                    }
                }
                RespEvent::Head(len)
            }
        }
    }
}
