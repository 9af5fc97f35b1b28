//! HTTP/1.x: sans-io head parsing and body framing on httparse, header edits, rules, error pages.
//!
//! Nothing here touches a socket: the worker's HTTP stages feed bytes in and take bytes out, so every piece
//! can be tested in memory with every possible split of a message across reads.
//!
//! [`head`] parses heads into byte ranges and decides framing and connection handling; [`write`] serializes a
//! head with its edits (re-exported from `head`); [`body`] finds where a body ends; [`errors`] holds the responses
//! the proxy makes up itself.

pub mod body;
pub mod errors;
pub mod head;
pub mod write;
