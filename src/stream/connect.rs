//! Connection attempts: where a server connection goes, and what follows a failed attempt — another try on
//! the same server after HAProxy 2.x's turn-around (min(`timeout connect`, 1 s)), a redispatch to another
//! server on the last retry under `option redispatch`, or the end of the session (`SC`, or `sC` on
//! `timeout connect`) once `retries` are used up.

use std::net::SocketAddr;
use std::time::Duration;

use crate::stream::runtime::{Backend, ServerRt};
use crate::stream::term::Term;

/// What follows a failed connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Every retry was used: end the session so.
    GiveUp(Term),
    /// Try again after this pause.
    Retry(Duration),
}

/// An attempt of a session that already retried `retries` times failed (`timeout`: `timeout connect` expired).
pub fn after_failure(b: &Backend, retries: u32, timeout: bool) -> AfterFailure {
    if retries >= b.retries {
        return AfterFailure::GiveUp(if timeout { Term::SERVER_TIMEOUT_CONNECT } else { Term::SERVER_CONNECT });
    }
    AfterFailure::Retry(b.timeouts.connect.unwrap_or(Duration::from_secs(1)).min(Duration::from_secs(1)))
}

/// The retry after the turn-around goes to another server (balanced again): the last one, under `option
/// redispatch`.
pub fn redispatches(b: &Backend, retries: u32) -> bool {
    b.redispatch && retries >= b.retries
}

/// Where a connection to server `s` goes: its address, with the port the client connected to when the
/// server's is 0 (a server without a port, as HAProxy allows).
pub fn target(s: &ServerRt, local_port: u16) -> SocketAddr {
    let mut addr = s.addr;
    if addr.port() == 0 {
        addr.set_port(local_port);
    }
    addr
}
