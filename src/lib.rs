//! nbproxy: a drop-in replacement for HAProxy on bare-metal Linux.
//!
//! Configuration flows one way: text → [`config`] (pest grammar, `defaults` resolved, `file:line` errors) →
//! [`plan`] (rules, conditions and formats compiled; the same for `-c`, a reload and each worker) →
//! [`master`] (listeners, privileges, pidfile, signals, supervision of the workers, over [`ipc`]) →
//! [`worker`] (one mio event loop per process: it routes readiness, timers and control messages).
//!
//! Inside a worker, the layers from the socket up:
//! - [`transport`]: one connected socket (plain TCP; TLS next) reading into and writing from pooled buffers,
//!   splice descriptors, readiness bookkeeping; [`tcp`] forwards `mode tcp` streams (half-close, splice) over it.
//! - [`http`]: HTTP/1 as a protocol — heads parsed in place, body framing, and the connection rules of each
//!   side as sans-io state machines ([`http::h1`]), testable on every split of their input.
//! - [`stream`]: the proxy logic of a session's journey, one step per module — routing, persistence, queues,
//!   connect and retry decisions, deadlines, the typed termination state — over the proxies' live state.
//! - [`rules`]: HTTP rules, 1.4 `req*`/`rsp*`, redirects, `return`, cookie persistence, header edits.
//! - [`acl`] evaluates conditions over [`sample`] values; [`stick`] holds stick tables and their counters
//!   (rates by [`freq`]); [`balance`] picks servers, pure over a slice of candidates; [`check`] runs health
//!   checks as sans-io probes; [`proxy_proto`] reads and writes PROXY protocol headers; [`auth`] checks
//!   userlist passwords.
//!
//! Around them: [`stats`] (shared-memory counters summed over workers, CSV, HTML page, stats socket,
//! Prometheus), [`log`] (syslog/stdout/file targets, one log-format engine), [`cli`] (HAProxy's command line).

pub mod acl;
pub mod auth;
pub mod balance;
pub mod check;
pub mod cli;
pub mod config;
pub mod freq;
pub mod http;
pub mod ipc;
pub mod log;
pub mod master;
pub mod plan;
pub mod proxy_proto;
pub mod rules;
pub mod sample;
pub mod stats;
pub mod stick;
pub mod stream;
pub mod tcp;
pub mod transport;
pub mod worker;
