//! A `server` line after `default-server` is applied, and the persistence cookie that names servers.

use super::*;

/// One server line (or `server-template` expansion), after `default-server` is applied.
#[derive(Debug, Clone)]
pub struct Server {
    pub pos: Pos,
    pub name: String,
    /// Resolved address; port 0 means "the port the client connected to".
    pub addr: SocketAddr,
    /// The address as written (host name kept for messages).
    pub addr_text: String,
    /// `weight` 0..=256, default 1.
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    pub check: bool,
    pub check_port: Option<u16>,
    pub check_addr: Option<IpAddr>,
    /// `inter`, default 2s.
    pub inter: Duration,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
    /// `rise`, default 2.
    pub rise: u32,
    /// `fall`, default 3.
    pub fall: u32,
    /// 0 = unlimited.
    pub maxconn: u32,
    /// 0 = unlimited.
    pub maxqueue: u32,
    pub minconn: u32,
    pub slowstart: Option<Duration>,
    pub cookie: Option<String>,
    /// `send-proxy` / `send-proxy-v2`: the PROXY protocol header the server receives first.
    pub send_proxy: Option<crate::proxy_proto::Version>,
    /// `check-send-proxy`: health checks send the PROXY header too (also implied by `send-proxy` without
    /// `port`/`addr`, as HAProxy does).
    pub check_send_proxy: bool,
    pub id: Option<u32>,
    /// `track [BACKEND/]SERVER`.
    pub track: Option<String>,
    /// `redir PREFIX`.
    pub redir: Option<String>,
    /// `source ADDR[:PORT]`: the local address connections to this server (and its checks) are made from.
    pub source: Option<std::net::SocketAddr>,
    /// `on-marked-down shutdown-sessions`: the server's sessions are killed when it goes DOWN.
    pub shutdown_on_down: bool,
    /// `on-marked-up shutdown-backup-sessions`: a non-backup server coming UP kills the backup servers' sessions.
    pub shutdown_backup_on_up: bool,
    /// `observe layer4|layer7`.
    pub observe: Option<String>,
    pub error_limit: u32,
    pub on_error: Option<String>,
    /// `agent-check` and friends are parsed but not used.
    pub agent_port: Option<u16>,
    /// `pool-max-conn N`: idle connections kept per worker (-1 = unlimited, 0 = none).
    pub pool_max_conn: i64,
    /// `pool-purge-delay T`: idle connections older than this are closed (default 5s).
    pub pool_purge_delay: Duration,
}

/// `cookie NAME insert|rewrite|prefix …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieConf {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    pub domains: Vec<String>,
    pub maxidle: Option<Duration>,
    pub maxlife: Option<Duration>,
    pub dynamic: bool,
    pub attrs: Vec<String>,
}

/// How the persistence cookie is managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieMode {
    Insert,
    Rewrite,
    Prefix,
    /// Neither keyword given: the server's value is only read from the request.
    Passive,
}
