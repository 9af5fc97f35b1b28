//! Logging as configured: `log` targets and their wire formats, severities, which log line a proxy writes, and
//! `capture` declarations.

use super::*;

/// Syslog severities, numbered as RFC3164.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// One `log` line: where to send, as which facility, which levels.
#[derive(Debug, Clone)]
pub struct LogTarget {
    pub pos: Pos,
    pub dest: LogDest,
    /// Facility number (local0 = 16).
    pub facility: u8,
    /// Only messages at this level or more severe are sent.
    pub max_level: Level,
    /// Messages less severe than this are raised to it.
    pub min_level: Level,
    /// `format rfc3164|raw|short|…`.
    pub format: LogWire,
    /// `len N`: truncate datagrams to N bytes (default 1024).
    pub len: usize,
}

/// Where a log target writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDest {
    /// `HOST[:PORT]` or `udp@HOST:PORT` (default port 514).
    Udp(SocketAddr),
    /// `/dev/log`, `unix@PATH` (a unix datagram socket).
    Unix(PathBuf),
    Stdout,
    Stderr,
    /// ★ `file@PATH`: a plain file written by the master, reopened on SIGHUP.
    File(PathBuf),
}

/// Wire format of a log target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogWire {
    /// `<PRI>Mmm dd hh:mm:ss [host ]tag[pid]: msg`.
    Rfc3164,
    /// `<PRI>1 ISO-TIME host tag pid - - msg`.
    Rfc5424,
    /// `<PRI>msg`.
    Short,
    /// `msg` only.
    Raw,
}

/// Which log line a proxy writes per session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// No option: `Connect from IP:PORT to IP:PORT (FE/MODE)` at accept.
    #[default]
    Default,
    Tcp,
    Http {
        clf: bool,
    },
    /// `log-format STRING` (the raw format string).
    Custom(String),
}

/// `capture request|response header NAME len N` / `capture cookie NAME len N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// `request`, `response` or `cookie`.
    pub kind: CaptureKind,
    pub name: String,
    pub len: usize,
}

/// What a capture records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    RequestHeader,
    ResponseHeader,
    Cookie,
}
