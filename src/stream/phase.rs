//! Where a session stands in its journey: queued, connecting, waiting before a retry, established, waiting
//! for an HTTP request head, or held by `tarpit`. The worker routes events and timers by it; the deadline
//! function reads it.

use std::time::Instant;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for a server slot, in a server's own queue or the backend's (see `SessionData::queued_on`).
    Queued,
    /// A server connection is being established.
    Connecting,
    /// Waiting before the next connection attempt.
    TurnAround(Instant),
    /// Bytes flow both ways.
    Established,
    /// HTTP: waiting for a request head (no server needed yet).
    Request,
    /// HTTP `tarpit`: hold the client until then, then answer the error.
    Tarpit(Instant),
}
