//! The steps of a session's journey that are proxy logic rather than I/O: each in a module named for it, none
//! doing a syscall (the worker's event loop and [`crate::transport`] do those).
//!
//! - [`connect`]: where a server connection goes, and what follows a failed attempt (retry, redispatch).
//! - [`ctx`]: the view of a session the ACL engine evaluates conditions against.
//! - [`deadline`]: when a session expires, and with which termination state (a pure function).
//! - [`persist`]: the server persistence names (cookie, `stick on src`, prefer-last-server), hashing keys.
//! - [`phase`]: where a session stands.
//! - [`queue`]: server and backend queues, and who gets a freed slot.
//! - [`route`]: `tcp-request` rules, backend choice, `use-server`.
//! - [`runtime`]: the live state of the proxies (frontends, backends, servers, queues, stick tables).
//! - [`term`]: how a session ended, typed (cause and stage), shown as HAProxy's two letters.

pub mod connect;
pub mod ctx;
pub mod deadline;
pub mod persist;
pub mod phase;
pub mod queue;
pub mod route;
pub mod runtime;
pub mod term;
#[cfg(test)]
mod tests;
