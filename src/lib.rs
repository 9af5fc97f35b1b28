//! nbproxy: a drop-in replacement for HAProxy on bare-metal Linux.
//!
//! Data flows one way: config text → [`config`] (typed model) → [`master`] (listeners, privileges, signals,
//! supervision) → [`worker`] (one mio loop per process) → sessions ([`tcp`]) → servers picked by [`balance`] and
//! kept honest by [`check`]. [`log`] formats and ships log lines for everyone.

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
pub mod sample;
pub mod stats;
pub mod stick;
pub mod stream;
pub mod tcp;
pub mod transport;
pub mod worker;
