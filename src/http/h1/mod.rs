//! HTTP/1 connections as sans-io state machines, one per side of a session, in the style of quinn-proto: bytes
//! in, events out, no syscalls, so that every rule can be tested in memory on every split of the input.
//!
//! - [`ClientSide`]: the connection with a client. Request bytes in ([`ClientSide::poll`]: head parsed, body
//!   bytes validated, end, error, close); it decides keep-alive versus close, holds pipelined requests back until
//!   the current response is done, and turns the connection into a tunnel after a `101`.
//! - [`ServerSide`]: the connection with a server. It serializes the request head with the `Connection` header
//!   the mode calls for, reads the responses (interim `1xx` heads, `100 Continue` included, then the final head
//!   and body) and says whether the connection may carry another request (never after an ambiguous framing).
//!
//! Both build on [`crate::http::head`] (heads parsed in place into byte ranges) and [`crate::http::body`]
//! (where a body ends). Neither keeps a buffer: the caller's receive buffer holds the bytes, events say how
//! many of them a head or a body run takes, and the caller consumes those and calls again with what follows.
//! Deadlines belong to the session (`stream::deadline`), which asks these machines where they stand.

mod client;
mod server;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

pub use client::{ClientSide, ReqEvent};
pub use server::{RespEvent, ServerSide};

/// The blank-line search of a head that was not looked at yet: its first look parses at once (a head usually
/// arrives whole); only a head that came in parts is searched for its end before each further parse, which keeps
/// the cost of a head trickling in linear.
const UNSCANNED: usize = usize::MAX;

/// Advance body tracker `t` over `input`: how many bytes at its start are body, or the error at its first
/// byte. The valid bytes before an offending one are reported as body first (the error comes at the next
/// call), so that where the reads split the input changes nothing.
fn body_step(t: &mut crate::http::body::BodyTracker, input: &[u8]) -> Result<usize, &'static str> {
    let before = *t;
    match t.advance(input) {
        Ok(k) => Ok(k),
        Err(e) => {
            let at = before.error_offset(input);
            let mut valid = before;
            if at > 0 && valid.advance(&input[..at]).is_ok() {
                *t = valid;
                Ok(at)
            } else {
                Err(e.as_str())
            }
        }
    }
}

/// What follows an exchange on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The connection carries the next request.
    KeepAlive,
    /// The connection closes.
    Close,
    /// The connection became a tunnel: bytes flow both ways unparsed.
    Tunnel,
}

/// A protocol error: what was wrong and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bad {
    /// A short description (logs, `show errors`).
    pub what: &'static str,
    /// Offset of the offending byte in the input given to `poll`.
    pub at: usize,
    /// In a body (a chunk size, CRLF, trailer), not in a head.
    pub body: bool,
}
