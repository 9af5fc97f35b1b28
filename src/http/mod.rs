//! HTTP/1.x: sans-io head parsing and body framing on httparse, header edits, rules, error pages.
//!
//! Nothing here touches a socket: the worker's HTTP stages feed bytes in and take bytes out, so every piece
//! can be tested in memory with every possible split of a message across reads.
//!
//! [`head`] parses heads into byte ranges and decides framing and connection handling; [`write`] serializes a
//! head with its edits (re-exported from `head`, as is `error_position`, which finds the offending byte of a
//! rejected head for `show errors`); [`body`] finds where a body ends; [`errors`] holds the responses
//! the proxy makes up itself.
//!
//! Rules side: [`rules`] compiles a proxy's `http-request`/`http-response`/`redirect` rules and applies them
//! (1.4 `req*`/`rsp*`/`block` in [`legacy`]), recording changes as [`head::HeadEdits`] through [`edit`];
//! [`fmt`] renders log-format values (`%[src]`), [`reply`] builds redirect and `return` responses, [`cookie`]
//! does cookie persistence. ACL fetches read requests through [`crate::acl::HttpView`].

pub mod body;
pub mod cookie;
pub mod edit;
pub mod errors;
mod errpos;
pub mod fmt;
pub mod h1;
pub mod head;
pub mod legacy;
pub mod reply;
pub mod rules;
#[cfg(test)]
pub(crate) mod testhead;
pub mod write;
