//! `stats socket PATH [mode M] [level L]`: the master serves HAProxy's command language on a unix socket,
//! reading the whole daemon's counters from the shared segment and writing admin actions into it (every worker
//! applies them), so one socket answers for all workers — unlike HAProxy with `nbproc`.
//!
//! One command line per connection (as `echo "show stat" | socat stdio unix-connect:PATH` sends it), or an
//! interactive session after `prompt`, bounded by `stats timeout` so the master is never held for long.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::net::UnixListener;

use crate::config::model::{Config, StatsLevel, StatsSocket};
use crate::stats::cli::{CliSession, SegmentCli};
use crate::stats::{ProcessInfo, Segment};

/// The bound stats sockets.
#[derive(Debug, Default)]
pub struct CliSockets {
    pub socks: Vec<(UnixListener, StatsLevel, PathBuf)>,
}

impl CliSockets {
    /// Bind every `stats socket` (a stale socket file is replaced), with its mode.
    pub fn bind(cfg: &Config) -> Result<CliSockets, String> {
        let mut socks = Vec::new();
        for s in &cfg.global.stats_sockets {
            socks.push(bind_one(s)?);
        }
        Ok(CliSockets { socks })
    }

    /// Remove the socket files (at exit).
    pub fn unlink(&self) {
        for (_, _, p) in &self.socks {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn bind_one(s: &StatsSocket) -> Result<(UnixListener, StatsLevel, PathBuf), String> {
    if s.path.exists() {
        // Only replace a socket (a previous instance's), never another kind of file.
        let is_socket = std::fs::symlink_metadata(&s.path)
            .map(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            .unwrap_or(false);
        if !is_socket {
            return Err(format!("[{}] : stats socket {} exists and is not a socket", s.pos, s.path.display()));
        }
        let _ = std::fs::remove_file(&s.path);
    }
    let l = UnixListener::bind(&s.path)
        .map_err(|e| format!("[{}] : cannot bind stats socket {} ({e})", s.pos, s.path.display()))?;
    if let Some(mode) = s.mode {
        let _ = std::fs::set_permissions(&s.path, std::fs::Permissions::from_mode(mode));
    }
    Ok((l, s.level, s.path.clone()))
}

/// Serve one accepted connection: read command lines, answer, close (bounded by `timeout`).
pub fn serve(
    stream: UnixStream,
    level: StatsLevel,
    seg: &Segment,
    cfg: &Config,
    started: u64,
    timeout: Duration,
    sessions: &dyn Fn() -> Vec<String>,
) {
    let deadline = Instant::now() + timeout.min(Duration::from_secs(10));
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(1000)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(1000)));
    let Ok(mut out) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut session = CliSession::new(level);
    let info = ProcessInfo::from_config(cfg, std::process::id(), started);
    let mut ctx = SegmentCli { seg, cfg, info, sessions: Some(sessions) };
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let answer = session.line(line.trim_end_matches(['\r', '\n']), &mut ctx);
        if out.write_all(answer.as_bytes()).is_err() {
            return;
        }
        if session.quit || !session.prompt || Instant::now() >= deadline {
            return;
        }
    }
}
