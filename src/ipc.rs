//! What the master and its workers share: the few types that cross the fork and the control channel, so that a
//! worker never reaches into the master's modules (nor the master into a worker's internals) for them.
//!
//! - [`Setup`]: everything a worker gets at fork time (config, its listening sockets, channels).
//! - [`SlotListener`]: one listening socket of a worker's slot.
//! - [`control`]: the one-byte messages of the control channel.

use std::os::fd::RawFd;
use std::sync::Arc;

use crate::config::model::Config;

/// One listening socket handed to a worker.
#[derive(Debug, Clone, Copy)]
pub struct SlotListener {
    /// The proxy (config index) it accepts for.
    pub proxy: usize,
    pub fd: RawFd,
    /// `bind … accept-proxy`: connections start with a PROXY protocol header.
    pub accept_proxy: bool,
}

/// Messages the master sends a worker over its control channel (one byte each).
pub mod control {
    /// Soft stop: stop accepting, finish sessions, exit.
    pub const SOFT_STOP: u8 = b'S';
    /// Pause: stop accepting (the master made the kernel refuse).
    pub const PAUSE: u8 = b'P';
    /// Resume accepting.
    pub const RESUME: u8 = b'R';
    /// SIGHUP: log every server's state.
    pub const DUMP: u8 = b'H';
    /// `show sess`: write one line per session back on the channel, then a NUL byte.
    pub const SHOW_SESS: u8 = b'L';
}

/// What the master hands a worker at fork time.
#[derive(Debug)]
pub struct Setup {
    pub config: Arc<Config>,
    /// 0-based slot (HAProxy's relative process number minus one).
    pub slot: usize,
    /// Listening sockets of this slot.
    pub listeners: Vec<SlotListener>,
    /// Stream socket to the master.
    pub control: RawFd,
    /// Datagram socket for `file@` log lines, if any target needs it.
    pub logfwd: Option<RawFd>,
    /// This worker's slot of the shared statistics segment.
    pub stats: Option<crate::stats::SlotWriter>,
}
