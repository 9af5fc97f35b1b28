//! Statistics for the whole daemon (SPEC §6).
//!
//! The master makes one shared segment ([`shm::Segment`]) before forking; each worker writes its own slot of
//! counters with relaxed atomics ([`shm::SlotWriter`]); the master (stats socket) or any worker (stats page,
//! `/metrics`) reads every live slot into a [`snapshot::Snapshot`] and renders it as HAProxy does:
//! [`csv`] (`;csv`, `show stat`), [`html`] (the stats page and its admin form), [`cli`] (the stats socket's
//! command language) and [`prometheus`] (HAProxy's exporter names). Admin actions (`disable server`, the page's
//! form) are written by the master into the segment's admin area, which every worker polls.
//!
//! Wiring:
//! - master, before forking: `Segment::create(&cfg)`; after forking worker `i` of generation `g`:
//!   `seg.claim_slot(slot_for(g, i, nbproc), pid, g)` (a respawn keeps the slot's totals); when a worker of an
//!   old generation has exited: `seg.retire_slot(its slot)` (its totals move to the retired accumulator, so totals
//!   survive reloads). A reload whose layout changed (`Layout::from_config(&new) != *seg.layout()`) makes a new
//!   segment and calls `new.carry_over_from(&old)`.
//! - worker: `let w = seg.writer(slot)`; per event `w.frontend(p)`, `w.backend(p)`, `w.server(p, s)` give the
//!   [`Counters`] to bump (`conn_accepted`, `sess_open`/`sess_close`, `add_bytes_in`/`out`, `http_request`,
//!   `http_response`, `queue_push`/`pop`, `lb_pick`, `inc(&c.retries)` …); after each check `set_state` and
//!   `check_done`. Each loop turn compare `w.admin_generation()` with the last value seen and, when it moved,
//!   re-read `w.server_admin(p, s)` for every server (MAINT/DRAIN/READY and the weight).
//! - worker, when it refuses a malformed request (400) or response (502):
//!   `w.capture_error(Direction::Request|Response, proxy, &CaptureInput { … })` ([`errors`]); the master's
//!   `show errors` reads them back with `seg.errors(&seg.live_slots())`.
//! - readers: `Snapshot::read(&seg, &cfg, &seg.live_slots())`, then [`csv::render`], [`html::render_page`],
//!   [`prometheus::render`], or [`cli::CliSession::line`] with a [`cli::SegmentCli`].

pub mod cli;
pub mod counters;
pub mod csv;
pub mod errors;
pub mod html;
pub mod prometheus;
pub mod shm;
pub mod snapshot;

#[cfg(test)]
mod tests;

pub use shm::{slot_for, AdminState, CheckStatus, Counters, Layout, OpState, Segment, SlotWriter};
pub use snapshot::Snapshot;

use crate::config::model::Config;

/// Facts about the running daemon shown by `show info`, the page's process block and `haproxy_process_*`.
#[derive(Debug, Clone)]
pub struct ProcessInfo {
    /// `Name:` (nbproxy).
    pub name: String,
    /// `Version:`.
    pub version: String,
    /// `Release_date:`.
    pub release_date: String,
    /// Pid of the process answering (the master for the socket).
    pub pid: u32,
    /// Worker processes.
    pub nbproc: usize,
    /// `Process_num:` (1: the summed view speaks for the whole daemon).
    pub process_num: usize,
    /// Unix time (s) the daemon started.
    pub start_time: u64,
    /// `Ulimit-n`.
    pub ulimit_n: u64,
    /// `Maxsock`.
    pub maxsock: u64,
    /// `Maxconn` (global).
    pub maxconn: u64,
    /// `Maxpipes`.
    pub maxpipes: u64,
    /// `node` (global `node`, else the host name).
    pub node: String,
    /// `description`.
    pub description: String,
    /// Soft-stopping.
    pub stopping: bool,
}

impl ProcessInfo {
    /// Defaults from the config; the caller fills in what only it knows (pid, limits, start time, host name).
    pub fn from_config(cfg: &Config, pid: u32, start_time: u64) -> ProcessInfo {
        let limit = cfg.global.maxconn_or_default();
        let maxconn = u64::from(limit);
        ProcessInfo {
            name: "nbproxy".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            release_date: String::new(),
            pid,
            nbproc: cfg.global.nbproc.max(1),
            process_num: 1,
            start_time,
            ulimit_n: cfg.global.ulimit_n.unwrap_or(maxconn * 2 + 32),
            maxsock: maxconn * 2 + 32,
            maxconn,
            maxpipes: u64::from(cfg.maxpipes(limit)),
            node: cfg.global.node.clone().unwrap_or_default(),
            description: cfg.global.description.clone().unwrap_or_default(),
            stopping: false,
        }
    }

    /// Seconds since start at `now_ms`.
    pub fn uptime(&self, now_ms: u64) -> u64 {
        (now_ms / 1000).saturating_sub(self.start_time)
    }
}

/// HAProxy's uptime text: `0d 0h00m06s`.
pub fn fmt_uptime(secs: u64) -> String {
    format!("{}d {}h{:02}m{:02}s", secs / 86400, (secs / 3600) % 24, (secs / 60) % 60, secs % 60)
}

/// HAProxy's short durations (`lastchg` on the page): `24s`, `5m3s`, `2h1m`, `3d4h`.
pub fn fmt_short_duration(secs: u64) -> String {
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else if secs < 86400 {
        format!("{}h{}m", secs / 3600, (secs / 60) % 60)
    } else {
        format!("{}d{}h", secs / 86400, (secs / 3600) % 24)
    }
}
