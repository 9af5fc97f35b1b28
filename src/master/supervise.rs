//! Supervision: fork workers, respawn the ones that die, reload on USR2, stop softly on USR1 and at once on
//! TERM/INT, reopen logs on HUP, pause/resume on TTOU/TTIN.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{kill, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use signal_hook::consts::signal::*;
use signal_hook_mio::v1_0::Signals;

use super::daemon::{self, StartupReport};
use super::listeners::ListenerSet;
use super::privileges::{self, Identity};
use crate::cli::Cli;
use crate::config::model::{Config, Level, LogDest};
use crate::config::{self, Loaded};
use crate::log::{FileSink, FileWriter, Logger};
use crate::stats::{slot_for, Segment};

use super::cli_socket::{self, CliSockets};
use crate::ipc::{control, Setup};
use crate::worker::Worker;

const SIGNALS: Token = Token(0);
const LOGFWD: Token = Token(1);
const CLI_BASE: usize = 16;

/// One forked worker.
#[derive(Debug)]
struct WorkerProc {
    pid: Pid,
    slot: usize,
    generation: u32,
    control: UnixStream,
    started: Instant,
    /// Its slot in the statistics segment.
    stat_slot: usize,
}

/// `show sess`: ask every worker (draining ones too) for its sessions over its control channel and gather the
/// lines each sends back, ended by a NUL byte. Bounded by one second in all, so a stuck worker cannot hold the
/// master: its sessions are then missing from the answer.
fn ask_sessions(workers: &[WorkerProc]) -> Vec<String> {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut asked = Vec::new();
    for w in workers {
        // A reply left over from an earlier request that timed out would be read as this one's: drop it.
        let mut junk = [0u8; 4096];
        while matches!((&w.control).read(&mut junk), Ok(n) if n > 0) {}
        if (&w.control).write_all(&[control::SHOW_SESS]).is_ok() {
            asked.push(w);
        }
    }
    let mut lines = Vec::new();
    for w in asked {
        let mut reply = Vec::new();
        let mut buf = [0u8; 16384];
        while !reply.ends_with(&[0]) {
            match (&w.control).read(&mut buf) {
                Ok(0) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    let fd = std::os::fd::AsFd::as_fd(&w.control);
                    let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
                    let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
                    let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms));
                }
                Err(_) => break,
            }
        }
        if reply.last() == Some(&0) {
            reply.pop();
            lines.extend(String::from_utf8_lossy(&reply).lines().map(str::to_string));
        }
    }
    lines
}

/// A slot whose worker died, to be refilled at `at`.
#[derive(Debug)]
struct Respawn {
    slot: usize,
    at: Instant,
    crashes: u32,
}

struct Master {
    cli: Cli,
    cfg: Arc<Config>,
    identity: Identity,
    listeners: ListenerSet,
    workers: Vec<WorkerProc>,
    respawns: Vec<Respawn>,
    /// Recent crash count per slot, for back-off.
    crashes: Vec<(u32, Instant)>,
    generation: u32,
    logger: Logger,
    files: FileWriter,
    logfwd_master: mio::net::UnixDatagram,
    logfwd_worker: OwnedFd,
    stopping: bool,
    paused: bool,
    /// The shared statistics segment (every worker's counters), made before the first fork.
    seg: Option<Segment>,
    /// `stats socket` listeners, served by the master.
    sockets: CliSockets,
    /// Start time, unix seconds.
    started_unix: u64,
}

fn nbproc_of(cfg: &Config) -> usize {
    cfg.global.nbproc.max(1)
}

fn master_logger(cfg: &Config) -> Logger {
    let tag = cfg.global.log_tag.as_deref().unwrap_or("nbproxy");
    Logger::new(&cfg.global.logs, tag, cfg.global.log_send_hostname.as_deref(), FileSink::Master)
}

fn file_paths(cfg: &Config) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for t in cfg.global.logs.iter().chain(cfg.proxies.iter().flat_map(|p| p.logs.iter())) {
        if let LogDest::File(p) = &t.dest {
            v.push(p.clone());
        }
    }
    v
}

/// Descriptors needed for the worst case of this config: two per connection and per splice pipe, plus
/// listeners, checks and logs.
fn fd_budget(cfg: &Config, nbproc: usize) -> u64 {
    let maxconn = cfg.global.maxconn_or_default() as u64;
    let pipes = cfg.maxpipes(cfg.global.maxconn_or_default()) as u64;
    let binds: u64 = cfg.proxies.iter().flat_map(|p| p.binds.iter()).map(|b| b.addrs.len() as u64).sum();
    let servers: u64 = cfg.proxies.iter().map(|p| p.servers.len() as u64).sum();
    cfg.global.ulimit_n.unwrap_or(2 * maxconn + 2 * pipes + binds * nbproc as u64 + servers + 64)
}

/// Command-line flags that override the config: `-n` (global maxconn), `-N` (default proxy maxconn), `-dS`.
fn apply_cli(mut cfg: Config, cli: &Cli) -> Config {
    if let Some(n) = cli.global_maxconn {
        cfg.global.maxconn = Some(n);
    }
    if cli.no_splice {
        cfg.global.nosplice = true;
    }
    if let Some(n) = cli.default_maxconn {
        for p in cfg.proxies.iter_mut().filter(|p| p.kind.has_frontend() && p.maxconn.is_none()) {
            p.maxconn = Some(n);
        }
    }
    cfg
}

/// `-m MB`: cap the address space of the whole daemon.
fn apply_memory_cap(cli: &Cli) {
    if let Some(mb) = cli.mem_mb {
        let bytes = mb.saturating_mul(1 << 20);
        if let Err(e) = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, bytes, bytes) {
            log::warn!("[WARNING] Cannot limit memory to {mb} MB: {e}");
        }
    }
}

/// Start the daemon: bind, detach if asked, fork workers, then supervise until stopped. Returns the exit code.
pub fn run(cli: Cli, loaded: Loaded) -> i32 {
    let cfg = Arc::new(apply_cli(loaded.config, &cli));
    apply_memory_cap(&cli);
    let nbproc = nbproc_of(&cfg);
    privileges::raise_nofile(fd_budget(&cfg, nbproc));
    let identity = match privileges::resolve(&cfg.global) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("[ALERT] {e}");
            return 1;
        }
    };
    if let Some(dir) = &identity.chroot {
        if !dir.is_dir() {
            eprintln!("[ALERT] [{}] : Cannot chroot({}): no such directory.", cfg.global.pos, dir.display());
            return 1;
        }
    }
    let mut listeners = ListenerSet::default();
    let backlog = cfg.global.maxconn_or_default();
    if let Err(e) = listeners.rebind(&cfg, nbproc, backlog) {
        eprintln!("[ALERT] Starting proxies: {e}");
        return 1;
    }
    let daemonize = (cli.daemon || cfg.global.daemon) && !cli.foreground && !cli.debug;
    let mut report = if daemonize {
        match daemon::detach() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("[ALERT] cannot go daemon: {e}");
                return 1;
            }
        }
    } else {
        StartupReport::none()
    };
    let pidfile = cli.pidfile.clone().or_else(|| cfg.global.pidfile.clone());
    if let Some(p) = &pidfile {
        if let Err(e) = daemon::write_pidfile(p, std::process::id()) {
            eprintln!("{e}");
            report.send(1);
            return 1;
        }
    }
    let (lf_master, lf_worker) = match UnixDatagram::pair() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("[ALERT] socketpair: {e}");
            report.send(1);
            return 1;
        }
    };
    let _ = lf_master.set_nonblocking(true);
    let logger = master_logger(&cfg);
    let files = FileWriter::with_allowed(file_paths(&cfg));
    let seg = match Segment::create(&cfg) {
        Ok(s) => Some(s),
        Err(e) => {
            log::warn!("cannot create the statistics segment ({e}): statistics are disabled");
            None
        }
    };
    let sockets = match CliSockets::bind(&cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("[ALERT] {e}");
            report.send(1);
            return 1;
        }
    };
    let mut m = Master {
        seg,
        sockets,
        started_unix: crate::stats::shm::unix_ms() / 1000,
        identity,
        listeners,
        workers: Vec::new(),
        respawns: Vec::new(),
        crashes: vec![(0, Instant::now()); nbproc],
        generation: 1,
        logger,
        files,
        logfwd_master: mio::net::UnixDatagram::from_std(lf_master),
        logfwd_worker: OwnedFd::from(lf_worker),
        stopping: false,
        paused: false,
        cfg,
        cli,
    };
    let code = m.serve(report, pidfile.as_deref());
    m.sockets.unlink();
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    code
}

impl Master {
    fn serve(&mut self, mut report: StartupReport, _pidfile: Option<&std::path::Path>) -> i32 {
        let mut poll = match Poll::new() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("[ALERT] epoll: {e}");
                report.send(1);
                return 1;
            }
        };
        let mut signals = match Signals::new([SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGHUP, SIGTTOU, SIGTTIN, SIGCHLD]) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("[ALERT] signals: {e}");
                report.send(1);
                return 1;
            }
        };
        if poll.registry().register(&mut signals, SIGNALS, Interest::READABLE).is_err()
            || poll.registry().register(&mut self.logfwd_master, LOGFWD, Interest::READABLE).is_err()
            || self
                .sockets
                .socks
                .iter_mut()
                .enumerate()
                .any(|(i, (l, _, _))| poll.registry().register(l, Token(CLI_BASE + i), Interest::READABLE).is_err())
        {
            report.send(1);
            return 1;
        }
        for p in self.cfg.proxies.iter().filter(|p| !p.disabled) {
            self.logger.log(Level::Notice, &format!("Proxy {} started.", p.name));
        }
        for slot in 0..nbproc_of(&self.cfg) {
            if let Err(e) = self.spawn(slot) {
                eprintln!("[ALERT] cannot fork worker: {e}");
                report.send(1);
                return 1;
            }
        }
        self.signal_old_processes();
        report.send(0);
        let mut events = Events::with_capacity(64);
        loop {
            let timeout = self.respawns.iter().map(|r| r.at.saturating_duration_since(Instant::now())).min();
            if let Err(e) = poll.poll(&mut events, timeout.or(Some(Duration::from_secs(1)))) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::error!("master poll: {e}");
                    return 1;
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => {
                        let pending: Vec<i32> = signals.pending().collect();
                        for sig in pending {
                            if let Some(code) = self.on_signal(sig) {
                                return code;
                            }
                        }
                    }
                    LOGFWD => self.drain_logfwd(),
                    Token(t) if t >= CLI_BASE => self.accept_cli(t - CLI_BASE),
                    _ => {}
                }
            }
            self.run_respawns();
            if self.stopping && self.workers.is_empty() {
                self.logger.log(Level::Warning, "All workers exited. Exiting master.");
                return 0;
            }
        }
    }

    /// `-sf` / `-st`: the classic reload hands over from older processes once we are up.
    fn signal_old_processes(&self) {
        for &pid in &self.cli.soft_finish {
            let _ = kill(Pid::from_raw(pid), Signal::SIGUSR1);
        }
        for &pid in &self.cli.terminate {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }

    fn on_signal(&mut self, sig: i32) -> Option<i32> {
        match sig {
            SIGCHLD => self.reap(),
            SIGUSR2 => self.reload(),
            SIGUSR1 => {
                log::warn!("Soft stop requested (SIGUSR1): stopping listeners, finishing sessions.");
                self.logger.log(Level::Warning, "Soft stop: listeners closed, waiting for sessions to finish.");
                self.stopping = true;
                self.respawns.clear();
                self.listeners.close_all();
                self.broadcast(control::SOFT_STOP);
            }
            SIGTERM | SIGINT => {
                log::warn!("Hard stop requested: exiting now.");
                self.logger.log(Level::Warning, "Hard stop: exiting now.");
                self.stopping = true;
                for w in &self.workers {
                    let _ = kill(w.pid, Signal::SIGTERM);
                }
                let deadline = Instant::now() + Duration::from_millis(500);
                while !self.workers.is_empty() && Instant::now() < deadline {
                    self.reap();
                    std::thread::sleep(Duration::from_millis(5));
                }
                for w in &self.workers {
                    let _ = kill(w.pid, Signal::SIGKILL);
                }
                return Some(0);
            }
            SIGHUP => {
                self.logger.reopen();
                self.files.reopen();
                self.broadcast(control::DUMP);
            }
            SIGTTOU => {
                self.logger.log(Level::Warning, "Pausing listeners (SIGTTOU).");
                self.paused = true;
                self.listeners.pause();
                self.broadcast(control::PAUSE);
            }
            SIGTTIN => {
                self.logger.log(Level::Warning, "Resuming listeners (SIGTTIN).");
                self.paused = false;
                self.listeners.resume();
                self.broadcast(control::RESUME);
            }
            _ => {}
        }
        None
    }

    /// Answer every pending connection on stats socket `i`.
    fn accept_cli(&mut self, i: usize) {
        loop {
            let Some((l, level, _)) = self.sockets.socks.get(i) else { return };
            match l.accept() {
                Ok((stream, _)) => {
                    let Some(seg) = self.seg.as_ref() else { continue };
                    // SAFETY-free conversion: mio's stream wraps a std stream; take the fd back.
                    let std_stream: std::os::unix::net::UnixStream =
                        std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(stream));
                    let workers = &self.workers;
                    let sessions = || ask_sessions(workers);
                    cli_socket::serve(
                        std_stream,
                        *level,
                        seg,
                        &self.cfg,
                        self.started_unix,
                        self.cfg.global.stats_timeout,
                        &sessions,
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn broadcast(&mut self, msg: u8) {
        for w in &mut self.workers {
            let _ = w.control.write_all(&[msg]);
        }
    }

    fn drain_logfwd(&mut self) {
        let mut buf = vec![0u8; 8192];
        loop {
            match self.logfwd_master.recv(&mut buf) {
                Ok(n) => self.files.handle_datagram(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// USR2: re-read the config; on success bind what is new, fork a new generation on the same sockets, then
    /// ask the old generation to finish. On failure keep everything as it is.
    fn reload(&mut self) {
        log::info!("Reloading nbproxy");
        self.logger.log(Level::Notice, "Reloading nbproxy");
        let loaded: Loaded = match config::load(&self.cli.files) {
            Ok(l) => l,
            Err(diags) => {
                for d in diags {
                    eprintln!("{d}");
                    self.logger.log(Level::Alert, &d.to_string());
                }
                log::error!("Loading failure!");
                self.logger.log(Level::Alert, "Loading failure!");
                return;
            }
        };
        // What workers compile at start (regexes, conditions, log formats) is checked here, as `-c` does: a
        // config they could not run must not replace the running one.
        if let Err(e) = crate::plan::compile_all(&loaded.config) {
            eprintln!("[ALERT] {e}");
            self.logger.log(Level::Alert, &e);
            log::error!("Loading failure!");
            self.logger.log(Level::Alert, "Loading failure!");
            return;
        }
        let cfg = Arc::new(apply_cli(loaded.config, &self.cli));
        let identity = match privileges::resolve(&cfg.global) {
            Ok(i) => i,
            Err(e) => {
                log::error!("{e}\nLoading failure!");
                self.logger.log(Level::Alert, "Loading failure!");
                return;
            }
        };
        let nbproc = nbproc_of(&cfg);
        let backlog = cfg.global.maxconn_or_default();
        let removed = match self.listeners.rebind(&cfg, nbproc, backlog) {
            Ok(r) => r,
            Err(e) => {
                log::error!("{e}\nLoading failure!");
                self.logger.log(Level::Alert, &format!("{e}. Loading failure!"));
                return;
            }
        };
        privileges::raise_nofile(fd_budget(&cfg, nbproc));
        let old: Vec<usize> = (0..self.workers.len()).collect();
        let same_layout = self
            .seg
            .as_ref()
            .is_some_and(|s| *s.layout() == crate::stats::Layout::from_config(&cfg) && s.nbproc() == nbproc_of(&cfg));
        if !same_layout {
            // New proxies or servers: a new segment, carrying over what the old one counted.
            match Segment::create(&cfg) {
                Ok(new) => {
                    if let Some(old_seg) = &self.seg {
                        new.carry_over_from(old_seg);
                    }
                    self.seg = Some(new);
                }
                Err(e) => log::warn!("cannot create a new statistics segment ({e}): keeping the old one"),
            }
        }
        self.cfg = cfg;
        self.identity = identity;
        self.logger = master_logger(&self.cfg);
        self.files = FileWriter::with_allowed(file_paths(&self.cfg));
        self.generation += 1;
        self.respawns.clear();
        self.crashes = vec![(0, Instant::now()); nbproc];
        for slot in 0..nbproc {
            if let Err(e) = self.spawn(slot) {
                log::error!("cannot fork worker: {e}");
            }
        }
        // The new generation shares the sockets: old workers can drop theirs without any refused connection.
        for i in old {
            if let Some(w) = self.workers.get_mut(i) {
                let _ = w.control.write_all(&[control::SOFT_STOP]);
            }
        }
        drop(removed);
        if self.paused {
            self.paused = false;
            self.listeners.resume();
        }
        log::info!("Loading success.");
        self.logger.log(Level::Notice, "Loading success.");
    }

    /// Reap exited children; schedule a replacement for a current-generation worker that died.
    fn reap(&mut self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(status) => {
                    let Some(pid) = status.pid() else { return };
                    let Some(i) = self.workers.iter().position(|w| w.pid == pid) else { continue };
                    let w = self.workers.remove(i);
                    let how = match status {
                        WaitStatus::Exited(_, code) => format!("exited with code {code}"),
                        WaitStatus::Signaled(_, sig, _) => format!("exited on signal {} ({sig})", sig as i32),
                        _ => "exited".into(),
                    };
                    if w.generation == self.generation && !self.stopping {
                        let msg = format!("Current worker #{} ({}) {how}: respawning", w.slot + 1, w.pid);
                        log::warn!("{msg}");
                        self.logger.log(Level::Alert, &msg);
                        let (mut n, last) = self.crashes.get(w.slot).copied().unwrap_or((0, Instant::now()));
                        if last.elapsed() > Duration::from_secs(10) || w.started.elapsed() > Duration::from_secs(10) {
                            n = 0;
                        }
                        // First respawn at once; a worker that keeps dying waits 100ms, 200ms, … up to 10s.
                        let delay = if n == 0 {
                            Duration::ZERO
                        } else {
                            Duration::from_millis(100 << n.min(7)).min(Duration::from_secs(10))
                        };
                        if let Some(c) = self.crashes.get_mut(w.slot) {
                            *c = (n + 1, Instant::now());
                        }
                        self.respawns.push(Respawn { slot: w.slot, at: Instant::now() + delay, crashes: n + 1 });
                    } else {
                        // Its counters move to the retired totals (unless a live worker shares the slot).
                        if let Some(seg) = &self.seg {
                            if !self.workers.iter().any(|x| x.stat_slot == w.stat_slot) {
                                seg.retire_slot(w.stat_slot);
                            }
                        }
                        let msg = format!("Former worker #{} ({}) {how}", w.slot + 1, w.pid);
                        log::info!("{msg}");
                        self.logger.log(Level::Notice, &msg);
                    }
                }
            }
        }
    }

    fn run_respawns(&mut self) {
        let now = Instant::now();
        let due: Vec<Respawn> = {
            let (due, later): (Vec<Respawn>, Vec<Respawn>) =
                std::mem::take(&mut self.respawns).into_iter().partition(|r| r.at <= now);
            self.respawns = later;
            due
        };
        for r in due {
            if let Err(e) = self.spawn(r.slot) {
                log::error!("cannot respawn worker #{}: {e} (attempt {})", r.slot + 1, r.crashes);
                self.respawns.push(Respawn { slot: r.slot, at: now + Duration::from_secs(1), crashes: r.crashes + 1 });
            }
        }
    }

    /// Fork the worker of `slot` for the current generation.
    fn spawn(&mut self, slot: usize) -> Result<(), String> {
        let (master_end, worker_end) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
        let listeners = self.listeners.for_slot(slot);
        let logfwd = self.logfwd_worker.as_raw_fd();
        let stat_slot = slot_for(self.generation, slot, nbproc_of(&self.cfg));
        let master_pid = std::process::id();
        // Block every signal across fork so the child never runs the master's handlers (they write to the
        // master's self-pipe).
        let mut old = SigSet::empty();
        sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), Some(&mut old)).map_err(|e| e.to_string())?;
        // SAFETY: the master is single-threaded, so the child starts from a consistent state; it only resets
        // signals, closes descriptors and builds its own objects before running.
        let forked = unsafe { fork() };
        match forked {
            Err(e) => {
                let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
                Err(format!("fork: {e}"))
            }
            Ok(ForkResult::Child) => {
                let code = self.child(slot, stat_slot, worker_end, listeners, logfwd, master_pid, old);
                std::process::exit(code);
            }
            Ok(ForkResult::Parent { child }) => {
                let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
                drop(worker_end);
                let _ = master_end.set_nonblocking(true);
                log::info!("New worker #{} ({child}) forked", slot + 1);
                self.logger.log(Level::Notice, &format!("New worker #{} ({child}) forked", slot + 1));
                if let Some(seg) = &self.seg {
                    seg.claim_slot(stat_slot, child.as_raw() as u32, self.generation);
                }
                self.workers.push(WorkerProc {
                    stat_slot,
                    pid: child,
                    slot,
                    generation: self.generation,
                    control: master_end,
                    started: Instant::now(),
                });
                Ok(())
            }
        }
    }

    /// In the forked child: become worker `slot`. Never returns to the master's code.
    #[allow(clippy::too_many_arguments)]
    fn child(
        &self,
        slot: usize,
        stat_slot: usize,
        control: UnixStream,
        listeners: Vec<super::listeners::SlotListener>,
        logfwd: i32,
        master_pid: u32,
        mask: SigSet,
    ) -> i32 {
        use nix::sys::signal::{signal, SigHandler};
        // SAFETY: setting dispositions to SIG_DFL/SIG_IGN installs no Rust code as a handler.
        unsafe {
            for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGCHLD] {
                let _ = signal(s, SigHandler::SigDfl);
            }
            for s in
                [Signal::SIGUSR1, Signal::SIGUSR2, Signal::SIGHUP, Signal::SIGTTOU, Signal::SIGTTIN, Signal::SIGPIPE]
            {
                let _ = signal(s, SigHandler::SigIgn);
            }
        }
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
        // SAFETY: prctl(PR_SET_PDEATHSIG) takes integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) };
        if nix::unistd::getppid().as_raw() as u32 != master_pid {
            return 0; // the master died before we could notice
        }
        let name = std::ffi::CString::new(format!("nbproxy-w{}", slot + 1)).unwrap_or_default();
        // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes; the kernel truncates longer ones.
        unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
        let control_fd = control.into_raw_fd();
        let mut keep: Vec<i32> = listeners.iter().map(|l| l.fd).collect();
        keep.push(control_fd);
        keep.push(logfwd);
        super::close_fds_except(&keep);
        let setup = Setup {
            config: self.cfg.clone(),
            slot,
            listeners,
            control: control_fd,
            logfwd: Some(logfwd),
            stats: self.seg.as_ref().map(|s| s.writer(stat_slot)),
        };
        let worker = match Worker::prepare(setup) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("[ALERT] worker #{}: {e}", slot + 1);
                return 1;
            }
        };
        if let Err(e) = privileges::drop_privileges(&self.identity) {
            eprintln!("[ALERT] worker #{}: {e}", slot + 1);
            return 1;
        }
        worker.run()
    }
}
