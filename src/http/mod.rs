//! HTTP/1.x as a protocol: sans-io head parsing and body framing on httparse, the HTTP/1 connection state
//! machines, head serialization, error pages. What the proxy does with requests (rules, cookies, redirects)
//! lives in [`crate::rules`], which builds on this.
//!
//! Nothing here touches a socket: the worker's HTTP stages feed bytes in and take bytes out, so every piece
//! can be tested in memory with every possible split of a message across reads.
//!
//! [`head`] parses heads into byte ranges and decides framing and connection handling; [`write`] serializes a
//! head with its edits (re-exported from `head`, as is `error_position`, which finds the offending byte of a
//! rejected head for `show errors`); [`body`] finds where a body ends; [`errors`] holds the responses
//! the proxy makes up itself; [`h1`] holds the connection rules of both sides as sans-io state machines.

pub mod body;
pub mod errors;
mod errpos;
pub mod h1;
pub mod head;
#[cfg(test)]
pub(crate) mod testhead;
pub mod write;
