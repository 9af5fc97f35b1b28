//! The master process: binds every listener, writes the pidfile, forks `nbproc` workers, supervises them
//! (respawn with back-off) and turns signals into actions (SPEC §2). It never proxies traffic.
//!
//! The master stays single-threaded: signals reach its mio loop through signal-hook's self-pipe, and every
//! fork happens with signals blocked so that a child never runs the master's handlers.

pub mod cli_socket;
pub mod daemon;
pub mod listeners;
pub mod privileges;
mod supervise;

use std::os::fd::RawFd;

pub use supervise::run;

/// Close every descriptor of this (freshly forked) process except stdio and `keep`.
pub(crate) fn close_fds_except(keep: &[RawFd]) {
    let fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in fds {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: closing descriptors in a child right after fork; none of them is used by Rust objects that
            // will be dropped later (the child only builds new objects from `keep`).
            unsafe { libc::close(fd) };
        }
    }
}
