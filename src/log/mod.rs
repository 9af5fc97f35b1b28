//! Logging: targets (UDP syslog, unix datagram, stdout/stderr, and ★ `file@PATH` written by the master),
//! RFC3164 / RFC5424 / short / raw framing, and the session formats (HAProxy's default line, `option tcplog`,
//! `option httplog`).
//!
//! Interface contract (the runtime codes against it):
//! - [`Logger::new`] opens the sockets of a list of targets once (before chroot); [`Logger::log`] frames and
//!   sends one message to every target whose level filter accepts it. Sending never blocks and never panics;
//!   a failed send is counted ([`Logger::send_errors`]), reported once per target, not retried.
//! - In a worker, `file@` targets are forwarded to the master over a datagram socket ([`FileSink::Forward`]);
//!   the master's [`FileWriter`] appends them to the file and reopens it on SIGHUP. In the master
//!   ([`FileSink::Master`]) the logger appends its own lines to the file directly; call [`Logger::reopen`] and
//!   [`FileWriter::reopen`] on SIGHUP.
//!
//! Framing (per target, `format`): `rfc3164` = `<PRI>Mmm dd hh:mm:ss [host ]tag[pid]: msg`, `rfc5424` =
//! `<PRI>1 ISO-TIME host tag pid - - msg`, `short` = `<PRI>msg`, `raw` = `msg`; every line ends with `\n` and
//! is truncated to the target's `len` with its last byte forced to `\n`. `PRI = facility*8 + max(level,
//! minlevel)`. `file@` targets are written as rsyslog writes files: no `<PRI>`, host name always present
//! (`Mmm dd hh:mm:ss host tag[pid]: msg`); `short`/`raw` file targets get `msg` alone.

mod file;
mod format;
mod logformat;
mod target;
pub(crate) mod time;

use std::cell::{Cell, RefCell};
use std::os::unix::net::UnixDatagram;
use std::time::SystemTime;

use crate::config::model::{Level, LogTarget, LogWire};

pub use file::FileWriter;
#[cfg(test)]
mod reference;
pub use format::{connect_line, embryonic_line, HttpLogFields, TcpLogFields};
pub use logformat::{Captures, LogFormatSpec, LogValues, CLF_FMT, HTTPLOG_FMT, TCPLOG_FMT};
#[cfg(test)]
pub use reference::{httplog, tcplog};
pub use time::init_timezone;

use target::{FileMode, Target};
use time::LocalTime;

/// How `file@` targets are written by this process.
#[derive(Debug)]
pub enum FileSink {
    /// The master: the logger appends its own `file@` lines to the files directly (append mode; reopen with
    /// [`Logger::reopen`]); forwarded worker lines go through the caller's [`FileWriter`].
    Master,
    /// A worker: lines are sent to the master over this datagram socket, which must be connected (e.g. one
    /// end of [`UnixDatagram::pair`]). One datagram per line: `PATH\0LINE\n`.
    Forward(UnixDatagram),
    /// Drop `file@` lines (used by `-c` and tests).
    Discard,
}

/// Syslog facility names, by number (local0 = 16).
const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp", "audit",
    "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

/// The configuration name of facility number `f` (`16` → `"local0"`); `"unknown"` past `local7`.
pub fn facility_name(f: u8) -> &'static str {
    FACILITIES.get(usize::from(f)).copied().unwrap_or("unknown")
}

/// The system host name (`gethostname(2)`, full, not cut at the first dot); `"localhost"` if unavailable.
pub fn hostname() -> String {
    match nix::unistd::gethostname() {
        Ok(h) => {
            let h = h.to_string_lossy().into_owned();
            if h.is_empty() {
                "localhost".to_string()
            } else {
                h
            }
        }
        Err(_) => "localhost".to_string(),
    }
}

/// Local time of the current second, with its RFC3164 rendering (rebuilt once per second).
#[derive(Debug)]
struct ClockCache {
    secs: i64,
    local: LocalTime,
    rfc3164: String,
}

/// A set of log targets with their framing, ready to send.
#[derive(Debug)]
pub struct Logger {
    targets: Vec<Target>,
    tag: String,
    /// Host name for syslog headers (`log-send-hostname`).
    send_hostname: Option<String>,
    /// Host name for `file@` lines (always present).
    file_hostname: String,
    pid: u32,
    forward: Option<UnixDatagram>,
    clock: RefCell<Option<ClockCache>>,
    line: RefCell<Vec<u8>>,
    scratch: RefCell<Vec<u8>>,
    errors: Cell<u64>,
    /// Set while `log_at` runs: a nested call (e.g. a `log` crate backend that forwards to this logger while
    /// we report a send error) is dropped instead of re-borrowing the buffers.
    busy: Cell<bool>,
}

impl Logger {
    /// Opens the targets. `tag` is the syslog tag (`log-tag`, default "nbproxy"); `hostname` is `Some` when
    /// `log-send-hostname` is set (`Some("")` = the system host name). The pid written in headers is this
    /// process's pid at creation time. Also reads the time zone ([`init_timezone`]): call before chroot.
    pub fn new(targets: &[LogTarget], tag: &str, hostname: Option<&str>, files: FileSink) -> Logger {
        init_timezone();
        let (mode, forward) = match files {
            FileSink::Master => (FileMode::Master, None),
            FileSink::Forward(s) => {
                if let Err(e) = s.set_nonblocking(true) {
                    ::log::warn!("log forward socket: cannot set non-blocking: {e}");
                }
                (FileMode::Forward, Some(s))
            }
            FileSink::Discard => (FileMode::Discard, None),
        };
        let send_hostname = hostname.map(|h| if h.is_empty() { self::hostname() } else { h.to_string() });
        let needs_file_host = targets.iter().any(|t| matches!(t.dest, crate::config::model::LogDest::File(_)));
        let file_hostname = match (&send_hostname, needs_file_host) {
            (Some(h), _) => h.clone(),
            (None, true) => self::hostname(),
            (None, false) => String::new(),
        };
        Logger {
            targets: targets.iter().map(|t| Target::open(t, mode)).collect(),
            tag: tag.to_string(),
            send_hostname,
            file_hostname,
            pid: std::process::id(),
            forward,
            clock: RefCell::new(None),
            line: RefCell::new(Vec::with_capacity(1024)),
            scratch: RefCell::new(Vec::new()),
            errors: Cell::new(0),
            busy: Cell::new(false),
        }
    }

    /// True if at least one target would send a message of this level.
    pub fn enabled(&self, level: Level) -> bool {
        self.targets.iter().any(|t| t.accepts(level))
    }

    /// Send `msg` (no trailing newline) at `level` to every target that accepts it.
    pub fn log(&self, level: Level, msg: &str) {
        self.log_at(SystemTime::now(), level, msg);
    }

    /// Like [`Logger::log`] with an explicit timestamp for the header.
    pub fn log_at(&self, now: SystemTime, level: Level, msg: &str) {
        if !self.enabled(level) || self.busy.replace(true) {
            return;
        }
        self.send_all(now, level, msg);
        self.busy.set(false);
    }

    fn send_all(&self, now: SystemTime, level: Level, msg: &str) {
        let (secs, millis) = time::split_epoch(now);
        let mut clock = self.clock.borrow_mut();
        if clock.as_ref().is_none_or(|c| c.secs != secs) {
            let local = time::local_time_secs(secs, 0);
            *clock = Some(ClockCache { secs, local, rfc3164: local.rfc3164() });
        }
        let Some(clock) = clock.as_ref() else {
            return;
        };
        let mut line = self.line.borrow_mut();
        let mut scratch = self.scratch.borrow_mut();
        for t in self.targets.iter().filter(|t| t.accepts(level)) {
            self.frame(&mut line, t, level, clock, millis, msg);
            if let Err(e) = t.send(&line, self.forward.as_ref(), &mut scratch) {
                self.errors.set(self.errors.get() + 1);
                if !t.warned.replace(true) {
                    ::log::warn!("cannot send log line to {}: {e}", t.describe());
                }
            }
        }
    }

    /// Builds the framed line for target `t` into `out`.
    fn frame(&self, out: &mut Vec<u8>, t: &Target, level: Level, clock: &ClockCache, millis: u16, msg: &str) {
        use std::io::Write as _;
        out.clear();
        let pri = t.pri(level);
        if t.is_file() {
            if matches!(t.wire, LogWire::Rfc3164 | LogWire::Rfc5424) {
                let _ = write!(out, "{} {} {}[{}]: ", clock.rfc3164, self.file_hostname, self.tag, self.pid);
            }
        } else {
            match t.wire {
                LogWire::Rfc3164 => {
                    let _ = write!(out, "<{pri}>{} ", clock.rfc3164);
                    if let Some(h) = &self.send_hostname {
                        let _ = write!(out, "{h} ");
                    }
                    let _ = write!(out, "{}[{}]: ", self.tag, self.pid);
                }
                LogWire::Rfc5424 => {
                    let mut local = clock.local;
                    local.millis = millis;
                    let host = self.send_hostname.as_deref().unwrap_or("-");
                    let _ = write!(out, "<{pri}>1 {} {host} {} {} - - ", local.rfc5424(), self.tag, self.pid);
                }
                LogWire::Short => {
                    let _ = write!(out, "<{pri}>");
                }
                LogWire::Raw => {}
            }
        }
        out.extend_from_slice(msg.as_bytes());
        out.push(b'\n');
        let len = t.len.max(1);
        if out.len() > len {
            out.truncate(len);
            if let Some(last) = out.last_mut() {
                *last = b'\n';
            }
        }
    }

    /// Reopens the `file@` targets this logger writes itself ([`FileSink::Master`]); call on SIGHUP.
    pub fn reopen(&self) {
        for t in &self.targets {
            t.reopen();
        }
    }

    /// Re-reads this process's pid for the headers: call in a forked worker that inherited the master's logger.
    pub fn refresh_pid(&mut self) {
        self.pid = std::process::id();
    }

    /// Number of lines that could not be sent since creation (all targets).
    pub fn send_errors(&self) -> u64 {
        self.errors.get()
    }
}

#[cfg(test)]
mod tests;
