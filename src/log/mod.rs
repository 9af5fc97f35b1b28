//! Logging: targets (UDP syslog, unix datagram, stdout/stderr, and ★ `file@PATH` written by the master),
//! RFC3164 framing, and the session formats (HAProxy's default line, `option tcplog`).
//!
//! Interface contract (the runtime codes against it):
//! - [`Logger::new`] opens the sockets of a list of targets once (before chroot); [`Logger::log`] frames and
//!   sends one message to every target whose level filter accepts it. Sending never blocks and never panics;
//!   a failed send is counted, not retried.
//! - In a worker, `file@` targets are forwarded to the master over a datagram socket ([`FileSink::Forward`]);
//!   the master's [`FileWriter`] appends them to the file and reopens it on SIGHUP.

use std::net::SocketAddr;
use std::os::unix::net::UnixDatagram;
use std::time::SystemTime;

use crate::config::model::{Level, LogTarget};

/// How `file@` targets are written by this process.
#[derive(Debug)]
pub enum FileSink {
    /// The master: lines are appended by a [`FileWriter`] owned by the caller; the logger hands them over.
    Master,
    /// A worker: lines are sent to the master over this datagram socket.
    Forward(UnixDatagram),
    /// Drop `file@` lines (used by `-c` and tests).
    Discard,
}

/// A set of log targets with their framing, ready to send.
#[derive(Debug)]
pub struct Logger {}

impl Logger {
    /// Opens the targets. `tag` is the syslog tag (`log-tag`, default "nbproxy"); `hostname` is `Some` when
    /// `log-send-hostname` is set. The pid written in headers is this process's pid at creation time.
    pub fn new(
        targets: &[LogTarget],
        tag: &str,
        hostname: Option<&str>,
        files: FileSink,
    ) -> Logger {
        let _ = (targets, tag, hostname, files);
        Logger {}
    }

    /// True if at least one target would send a message of this level.
    pub fn enabled(&self, level: Level) -> bool {
        let _ = level;
        false
    }

    /// Send `msg` (no trailing newline) at `level` to every target that accepts it.
    pub fn log(&self, level: Level, msg: &str) {
        let _ = (level, msg);
    }
}

/// The master's writer for `file@` targets: receives the lines workers forward and its own, appends, reopens.
#[derive(Debug, Default)]
pub struct FileWriter {}

impl FileWriter {
    /// A forwarded datagram from a worker (the format [`FileSink::Forward`] sends).
    pub fn handle_datagram(&mut self, data: &[u8]) {
        let _ = data;
    }
    /// Reopen every file (SIGHUP, after logrotate renamed them).
    pub fn reopen(&mut self) {}
}

/// Fields of one `option tcplog` line (HAProxy 1.4 §8.2.2).
#[derive(Debug, Clone)]
pub struct TcpLogFields<'a> {
    pub client: SocketAddr,
    pub accept_time: SystemTime,
    pub frontend: &'a str,
    pub backend: &'a str,
    /// Server name, or `<NOSRV>`.
    pub server: &'a str,
    /// Queue wait, connect time, total time in ms; -1 when the phase was not reached.
    pub tw: i64,
    pub tc: i64,
    pub tt: i64,
    /// Bytes sent from server to client.
    pub bytes_read: u64,
    /// Termination state, two chars such as `--`, `SC`, `cD`.
    pub term: [u8; 2],
    pub actconn: u32,
    pub feconn: u32,
    pub beconn: u32,
    pub srv_conn: u32,
    pub retries: u32,
    /// `+` before the retries count when the session was redispatched.
    pub redispatched: bool,
    pub srv_queue: u32,
    pub backend_queue: u32,
}

/// `option tcplog` line body (without syslog header).
pub fn tcplog(f: &TcpLogFields<'_>) -> String {
    let _ = f;
    String::new()
}

/// HAProxy's default format, logged at accept: `Connect from IP:PORT to IP:PORT (FRONTEND/MODE)`.
pub fn connect_line(client: SocketAddr, local: SocketAddr, frontend: &str, mode: &str) -> String {
    format!("Connect from {client} to {local} ({frontend}/{mode})")
}
