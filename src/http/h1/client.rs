//! The connection with a client, as a sans-io state machine: requests come in, responses go out.
//!
//! [`ClientSide::poll`] looks at the request bytes received and not yet reported and says what they are: a
//! complete head (parsed into the caller's [`RequestHead`]), body bytes ready to forward (chunk framing
//! included, validated), the end of the request, a protocol error, or the end of the connection. The caller
//! owns the buffer: it consumes what an event reports and calls again with what follows. After a request's end
//! nothing more is parsed until its response is done ([`ClientSide::response_done`]): pipelined bytes wait in
//! the caller's buffer, unread by this machine.
//!
//! The machine alone decides what follows each exchange: keep-alive or close (the request's `Connection`
//! header, HTTP/1.0 defaults, `option httpclose`, an until-close response, a body not read to its end), a
//! tunnel after `101 Switching Protocols`, and the `Connection` header the response carries
//! ([`ClientSide::response_head`]).

use super::{body_step, Bad, Next, UNSCANNED};
use crate::config::model::HttpConnMode;
use crate::http::body::BodyTracker;
use crate::http::head::{self, Framing, HeadEdits, RequestHead, ResponseHead};
use crate::http::write::{set_connection, write_response, ConnHeader};

/// What the request bytes given to [`ClientSide::poll`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReqEvent {
    /// Nothing to report until more bytes arrive (or, after a request's end, until its response is done).
    NeedMore,
    /// A complete request head of this many bytes starts the input; it was parsed into the caller's head.
    Head(usize),
    /// This many bytes at the start of the input are request body (validated; chunk framing included).
    Body(usize),
    /// The request is complete (its body included).
    End,
    /// The client finished sending between two requests, with nothing pending: a normal end if a request was
    /// answered before (see [`ClientSide::completed`]), an empty connection otherwise.
    Closed,
    /// The client finished sending in the middle of a request (head or body).
    Aborted,
    /// The request is malformed (400 for a head, 400 with state `PD` for a body); the connection ends.
    Error(Bad),
}

/// Where the request side stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    /// Waiting for (the rest of) a request head; the first `scanned` bytes hold no blank line.
    Head { scanned: usize },
    /// The head was reported; this tracks its body.
    Body(BodyTracker),
    /// The whole request is in; `End` is yet to be reported.
    EndPending,
    /// The request was reported whole: its response is awaited.
    Waiting,
    /// After a `101`: the connection is a tunnel, not HTTP any more.
    Tunnel,
    /// The connection is over.
    Closed,
}

/// The HTTP/1 state of one client connection.
#[derive(Debug, Clone)]
pub struct ClientSide {
    req: Req,
    /// Longest head accepted (`tune.bufsize - tune.maxrewrite`).
    max_head: usize,
    mode: HttpConnMode,
    /// Exchanges completed on this connection.
    completed: u32,
    /// Close the connection once the current response is out.
    close: bool,
    /// The current response is a `101`: a tunnel follows it.
    upgrade: bool,
}

impl ClientSide {
    /// A new client connection; heads over `max_head` bytes are refused, `mode` is the frontend's connection
    /// mode (`option httpclose` closes after every response).
    pub fn new(max_head: usize, mode: HttpConnMode) -> ClientSide {
        ClientSide { req: Req::Head { scanned: UNSCANNED }, max_head, mode, completed: 0, close: false, upgrade: false }
    }

    /// Exchanges completed on this connection (more than 0: a keep-alive connection).
    pub fn completed(&self) -> u32 {
        self.completed
    }

    /// Waiting for a request head (none begun, or one still incomplete).
    pub fn in_head(&self) -> bool {
        matches!(self.req, Req::Head { .. })
    }

    /// The connection turned into a tunnel.
    pub fn is_tunnel(&self) -> bool {
        self.req == Req::Tunnel
    }

    /// The current request's body has not been received to its end.
    pub fn body_pending(&self) -> bool {
        matches!(self.req, Req::Body(t) if !t.is_done())
    }

    /// The connection is to close after the current response.
    pub fn closing(&self) -> bool {
        self.close
    }

    /// Close after the current response whatever the request said (soft stop, a refused request).
    pub fn force_close(&mut self) {
        self.close = true;
    }

    /// Say what the request bytes `input` (received, not yet reported) are; `eof`: the client sent everything.
    /// A head is parsed into `head`.
    pub fn poll(&mut self, input: &[u8], eof: bool, head: &mut RequestHead) -> ReqEvent {
        match self.req {
            Req::Head { scanned } => self.poll_head(input, eof, scanned, head),
            Req::Body(mut t) => {
                if input.is_empty() {
                    return if eof { ReqEvent::Aborted } else { ReqEvent::NeedMore };
                }
                match body_step(&mut t, input) {
                    Ok(k) => {
                        self.req = if t.is_done() { Req::EndPending } else { Req::Body(t) };
                        if k == 0 {
                            return self.poll(input, eof, head);
                        }
                        ReqEvent::Body(k)
                    }
                    Err(what) => {
                        self.req = Req::Closed;
                        ReqEvent::Error(Bad { what, at: 0, body: true })
                    }
                }
            }
            Req::EndPending => {
                self.req = Req::Waiting;
                ReqEvent::End
            }
            Req::Waiting | Req::Tunnel | Req::Closed => ReqEvent::NeedMore,
        }
    }

    fn poll_head(&mut self, input: &[u8], eof: bool, scanned: usize, head: &mut RequestHead) -> ReqEvent {
        if input.is_empty() {
            return if eof { ReqEvent::Closed } else { ReqEvent::NeedMore };
        }
        // After a first look, parse only once a blank line can end the head (linear cost for a head trickling in).
        if scanned != UNSCANNED && input.len() < self.max_head && head::find_blank_line(input, scanned).is_none() {
            self.req = Req::Head { scanned: input.len().saturating_sub(3) };
            return if eof { ReqEvent::Aborted } else { ReqEvent::NeedMore };
        }
        match head::parse_request(input, self.max_head, head) {
            Ok(None) if eof => ReqEvent::Aborted,
            Ok(None) => {
                self.req = Req::Head { scanned: input.len().saturating_sub(3) };
                ReqEvent::NeedMore
            }
            Err(e) => {
                self.req = Req::Closed;
                let at = head::error_position(input, self.max_head, &e, true);
                ReqEvent::Error(Bad { what: e.as_str(), at, body: false })
            }
            Ok(Some(len)) => {
                self.close = head.conn.close || self.mode == HttpConnMode::Close;
                self.upgrade = false;
                let t = BodyTracker::new(head.framing.unwrap_or(Framing::None));
                self.req = if t.is_done() { Req::EndPending } else { Req::Body(t) };
                ReqEvent::Head(len)
            }
        }
    }

    /// The request is answered by the proxy itself (deny, redirect, stats page…): what follows the answer. A
    /// body not read yet closes the connection (its bytes would be taken for the next request).
    pub fn local_answer(&mut self) -> Next {
        if self.body_pending() {
            self.close = true;
        }
        if self.close {
            Next::Close
        } else {
            Next::KeepAlive
        }
    }

    /// A response head is about to be forwarded: record what follows it and set the `Connection` header it
    /// carries in `edits` (none for an interim `1xx`, which is forwarded as it came). Returns what follows a
    /// final response, `None` for an interim one.
    pub fn response_head(&mut self, resp: &ResponseHead, buf: &[u8], edits: &mut HeadEdits) -> Option<Next> {
        match resp.status {
            101 => {
                self.upgrade = true;
                Some(Next::Tunnel)
            }
            s if s < 200 => None,
            _ => {
                if resp.framing == Some(Framing::UntilClose) {
                    // The body ends when the server closes: the client learns it only from our close.
                    self.close = true;
                }
                let conn = if self.close { ConnHeader::Close } else { ConnHeader::KeepAlive };
                set_connection(edits, resp, buf, conn);
                Some(if self.close { Next::Close } else { Next::KeepAlive })
            }
        }
    }

    /// Serialize the response head `resp` (bytes in `buf`) with `edits` — its `Connection` header set by
    /// [`ClientSide::response_head`], the rules' changes — into `out`, the bytes that go to the client. An interim
    /// head goes with no edits, as it came.
    pub fn write_head(&self, resp: &ResponseHead, buf: &[u8], edits: &HeadEdits, out: &mut Vec<u8>) {
        out.clear();
        write_response(buf, resp, edits, out);
    }

    /// The current response was delivered whole (or its head, for a `101`): what the connection does next. A
    /// request whose body did not arrive whole closes the connection.
    pub fn response_done(&mut self) -> Next {
        if self.upgrade {
            self.req = Req::Tunnel;
            return Next::Tunnel;
        }
        if !matches!(self.req, Req::Waiting | Req::EndPending) {
            self.close = true;
        }
        if self.close {
            self.req = Req::Closed;
            return Next::Close;
        }
        self.completed += 1;
        self.req = Req::Head { scanned: UNSCANNED };
        Next::KeepAlive
    }
}
