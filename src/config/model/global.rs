//! The `global` section: process-wide settings, the stats sockets, and the one default connection limit.

use super::*;

/// The `global` section.
#[derive(Debug, Clone)]
pub struct Global {
    pub daemon: bool,
    /// Number of worker processes (`nbproc`, default 1).
    pub nbproc: usize,
    pub pidfile: Option<PathBuf>,
    pub chroot: Option<PathBuf>,
    /// `user NAME` (resolved to a uid by the master) or `uid N`.
    pub user: Option<UserSpec>,
    /// `group NAME` or `gid N`.
    pub group: Option<UserSpec>,
    /// Global `maxconn`; `None` means derived from the fd limit as 2.x does.
    pub maxconn: Option<u32>,
    pub ulimit_n: Option<u64>,
    /// `spread-checks` percent (0..=50).
    pub spread_checks: u32,
    pub logs: Vec<LogTarget>,
    /// `log-tag` (default: "nbproxy"... HAProxy uses argv[0]'s basename; we use the binary name).
    pub log_tag: Option<String>,
    /// `log-send-hostname [NAME]`: `Some("")` means the system host name.
    pub log_send_hostname: Option<String>,
    pub quiet: bool,
    pub debug: bool,
    pub node: Option<String>,
    pub description: Option<String>,
    pub hard_stop_after: Option<Duration>,
    /// `tune.bufsize` (16384).
    pub bufsize: usize,
    /// `tune.maxrewrite` (1024).
    pub maxrewrite: usize,
    /// `tune.maxaccept` (-1 = unlimited); default 64.
    pub maxaccept: i32,
    pub stats_sockets: Vec<StatsSocket>,
    /// `stats timeout` (10s).
    pub stats_timeout: Duration,
    /// `stats maxconn` (10).
    pub stats_maxconn: u32,
    /// `maxpipes` (splice pipes); `None` = maxconn/4.
    pub maxpipes: Option<u32>,
    /// `nosplice` (or `-dS`): never splice.
    pub nosplice: bool,
    /// `tune.pipesize`: size of the splice pipes (`None`: the kernel's default, 64 KiB).
    pub pipesize: Option<usize>,
    /// Where `global` was declared (first line), for messages.
    pub pos: Pos,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            daemon: false,
            nbproc: 1,
            pidfile: None,
            chroot: None,
            user: None,
            group: None,
            maxconn: None,
            ulimit_n: None,
            spread_checks: 0,
            logs: Vec::new(),
            log_tag: None,
            log_send_hostname: None,
            quiet: false,
            debug: false,
            node: None,
            description: None,
            hard_stop_after: None,
            bufsize: 16384,
            maxrewrite: 1024,
            maxaccept: 64,
            stats_sockets: Vec::new(),
            stats_timeout: Duration::from_secs(10),
            stats_maxconn: 10,
            maxpipes: None,
            nosplice: false,
            pipesize: None,
            pos: Pos::default(),
        }
    }
}

impl Global {
    /// The per-process connection limit when `global` sets no `maxconn` (nor `-n`). HAProxy 2.x derives one from
    /// the descriptor limit; nbproxy uses this fixed value and raises the limit to fit it.
    pub const DEFAULT_MAXCONN: u32 = 4096;

    /// The per-process connection limit: `maxconn`, else [`Global::DEFAULT_MAXCONN`]. What each worker enforces,
    /// the listen backlog, `show info`'s `Maxconn` and, as in HAProxy 2.x, the limit of a frontend without its
    /// own `maxconn` (the stats `slim`).
    pub fn maxconn_or_default(&self) -> u32 {
        self.maxconn.unwrap_or(Self::DEFAULT_MAXCONN)
    }
}

/// A user or group given by name or by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSpec {
    Name(String),
    Id(u32),
}

/// `stats socket PATH [mode M] [level L] [user U] [group G]`.
#[derive(Debug, Clone)]
pub struct StatsSocket {
    pub pos: Pos,
    pub path: PathBuf,
    /// File mode, e.g. 0o600.
    pub mode: Option<u32>,
    pub level: StatsLevel,
    pub user: Option<UserSpec>,
    pub group: Option<UserSpec>,
}

/// Privilege level of a stats socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatsLevel {
    User,
    Operator,
    Admin,
}
