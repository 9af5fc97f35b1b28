//! The typed, immutable configuration model.
//!
//! `config::load` turns config text into one [`Config`]; everything after that (master, workers, balancers,
//! checks, loggers) reads only these types. No stringly-typed lookups after parsing: every keyword the user wrote
//! has been validated and mapped here, legacy 1.4 spellings included (`contimeout` is `timeouts.connect`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use regex::bytes::{Regex, RegexBuilder};

/// Where a keyword was written: used in every error and warning (`file:line`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pos {
    /// The config file's path as given on the command line.
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: usize,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The whole configuration: one `global`, the proxies in declaration order, the userlists.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub global: Global,
    /// Frontends, backends and listens, in the order they were declared.
    pub proxies: Vec<Proxy>,
    pub userlists: Vec<Userlist>,
}

impl Config {
    /// The proxy with this name that can act as a backend (a `backend` or a `listen`).
    pub fn backend(&self, name: &str) -> Option<&Proxy> {
        self.proxies.iter().find(|p| p.kind.has_backend() && p.name == name)
    }
    /// Does anything listen? (an enabled frontend or listen with at least one bind, or a `stats socket`, which
    /// HAProxy 2.6 counts as a listener too). HAProxy 2.6's `-c` exits 2 with [`crate::config::NO_LISTENER_MSG`]
    /// when not.
    pub fn has_listeners(&self) -> bool {
        !self.global.stats_sockets.is_empty()
            || self.proxies.iter().any(|p| p.kind.has_frontend() && !p.disabled && !p.binds.is_empty())
    }
    /// Pipes each worker may use for splice(2), for a process whose connection limit is `maxconn` (normally
    /// [`Global::maxconn_or_default`]): `maxpipes`, else a quarter of `maxconn` as HAProxy; 0 under `nosplice` or
    /// when no proxy has an `option splice-*`.
    pub fn maxpipes(&self, maxconn: u32) -> u32 {
        let splicing = self.proxies.iter().any(|p| {
            let o = &p.options;
            o.splice_auto || o.splice_request || o.splice_response
        });
        if self.global.nosplice || !splicing {
            return 0;
        }
        self.global.maxpipes.unwrap_or(maxconn / 4)
    }
    /// Index into `proxies` of the backend named `name`.
    pub fn backend_index(&self, name: &str) -> Option<usize> {
        self.proxies.iter().position(|p| p.kind.has_backend() && p.name == name)
    }
}

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

/// `frontend`, `backend` or `listen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    /// Accepts connections (has `bind` lines).
    pub fn has_frontend(self) -> bool {
        matches!(self, ProxyKind::Frontend | ProxyKind::Listen)
    }
    /// Has servers and a balancer.
    pub fn has_backend(self) -> bool {
        matches!(self, ProxyKind::Backend | ProxyKind::Listen)
    }
    /// The word used in config files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }
}

/// `mode tcp|http|health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tcp,
    Http,
    Health,
}

impl Mode {
    /// As HAProxy prints it in the default log format (`TCP`, `HTTP`, `HEALTH`).
    pub fn as_upper(self) -> &'static str {
        match self {
            Mode::Tcp => "TCP",
            Mode::Http => "HTTP",
            Mode::Health => "HEALTH",
        }
    }
}

/// One address to listen on, after `bind` lists and port ranges are expanded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListenAddr {
    Inet(SocketAddr),
    /// `fd@N`: an inherited, already-listening descriptor.
    Fd(i32),
    /// `unix@PATH` or a plain `/path`.
    Unix(PathBuf),
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Inet(a) => write!(f, "{a}"),
            ListenAddr::Fd(n) => write!(f, "fd@{n}"),
            ListenAddr::Unix(p) => write!(f, "unix@{}", p.display()),
        }
    }
}

/// One `bind` line (or a 1.4 `listen NAME ADDR` section-line address).
#[derive(Debug, Clone)]
pub struct Bind {
    pub pos: Pos,
    /// Every address the line names (comma lists and port ranges expanded).
    pub addrs: Vec<ListenAddr>,
    pub name: Option<String>,
    /// `backlog N`; default is the frontend's maxconn.
    pub backlog: Option<u32>,
    pub maxconn: Option<u32>,
    pub defer_accept: bool,
    pub transparent: bool,
    pub v4v6: bool,
    pub v6only: bool,
    pub interface: Option<String>,
    pub mss: Option<u32>,
    pub id: Option<u32>,
    /// `accept-proxy`.
    pub accept_proxy: bool,
}

/// Load-balancing algorithm (`balance`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    Random,
    Uri {
        whole: bool,
        len: Option<usize>,
        depth: Option<usize>,
    },
    UrlParam {
        name: String,
        check_post: Option<usize>,
    },
    Hdr {
        name: String,
        use_domain_only: bool,
    },
    RdpCookie(Option<String>),
}

/// `hash-type map-based|consistent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashType {
    #[default]
    MapBased,
    Consistent,
}

/// All proxy timeouts; `None` = not set (infinite, or the documented fallback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    /// Defaults to `connect` when unset (see [`Timeouts::queue_or_connect`]).
    pub queue: Option<Duration>,
    pub tunnel: Option<Duration>,
    pub http_request: Option<Duration>,
    pub http_keep_alive: Option<Duration>,
    pub check: Option<Duration>,
    pub tarpit: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
}

impl Timeouts {
    /// `timeout queue`, falling back to `timeout connect` as HAProxy does.
    pub fn queue_or_connect(&self) -> Option<Duration> {
        self.queue.or(self.connect)
    }
}

/// HTTP connection handling mode selected by options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpConnMode {
    /// 2.x default: keep-alive on both sides.
    #[default]
    KeepAlive,
    /// `option http-server-close`.
    ServerClose,
    /// `option httpclose` / `forceclose`.
    Close,
    /// `option http-tunnel` (1.x).
    Tunnel,
}

/// `option forwardfor [except NET] [header NAME] [if-none]` and `option originalto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    pub except: Option<IpNet>,
    pub header: String,
    pub if_none: bool,
}

/// An IPv4/IPv6 network (`10.0.0.0/8`, or an address alone = /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// `ADDR[/MASK]` as HAProxy writes networks (`acl … src`, `monitor-net`, `option forwardfor except`): an IPv4
    /// or IPv6 address alone (one host: /32 or /128), with a prefix length (`10.0.0.0/8`, `fd00::/8`), or, for
    /// IPv4, with a dotted mask (`10.0.0.0/255.0.0.0`) whose ones are contiguous. `None` for anything else.
    pub fn parse(s: &str) -> Option<IpNet> {
        let (a, mask) = match s.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match mask {
            None => max,
            Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
                m.parse::<u8>().ok().filter(|&n| n <= max)?
            }
            Some(m) if addr.is_ipv4() => {
                let bits = u32::from(m.parse::<std::net::Ipv4Addr>().ok()?);
                if bits.leading_ones() + bits.trailing_zeros() != 32 {
                    return None;
                }
                bits.leading_ones() as u8
            }
            Some(_) => return None,
        };
        Some(IpNet { addr, prefix })
    }

    /// Does this network contain `ip`? (IPv4-mapped IPv6 addresses match IPv4 networks.)
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let bits = self.prefix.min(32) as u32;
                let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                (u32::from(n) & mask) == (u32::from(a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let bits = self.prefix.min(128) as u32;
                let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
                (u128::from(n) & mask) == (u128::from(a) & mask)
            }
            _ => false,
        }
    }
}

/// Boolean `option` flags of a proxy (after `defaults` inheritance and `no option`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyOptions {
    pub redispatch: bool,
    /// `option prefer-last-server`: a keep-alive client's next request goes to the server it already has a
    /// connection to, when that server can take it.
    pub prefer_last_server: bool,
    pub allbackups: bool,
    pub persist: bool,
    pub abortonclose: bool,
    pub dontlognull: bool,
    pub dontlog_normal: bool,
    pub log_separate_errors: bool,
    pub logasap: bool,
    pub log_health_checks: bool,
    pub tcpka: bool,
    pub clitcpka: bool,
    pub srvtcpka: bool,
    pub nolinger: bool,
    pub splice_auto: bool,
    pub splice_request: bool,
    pub splice_response: bool,
    pub http_conn_mode: HttpConnMode,
    pub http_pretend_keepalive: bool,
    pub forwardfor: Option<ForwardFor>,
    pub originalto: Option<ForwardFor>,
    pub checkcache: bool,
    pub accept_invalid_http_request: bool,
    pub accept_invalid_http_response: bool,
    pub http_use_proxy_header: bool,
    pub http_no_delay: bool,
    pub independent_streams: bool,
    pub transparent: bool,
    pub contstats: bool,
    pub socket_stats: bool,
    pub tcp_smart_accept: bool,
    pub tcp_smart_connect: bool,
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

/// The health-check protocol of a backend (the last check-type option wins).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CheckKind {
    /// Plain TCP connect.
    #[default]
    Tcp,
    /// `option httpchk [METH] [URI] [VER]` and/or `http-check send`.
    Http(HttpCheck),
    SslHello,
    /// `option smtpchk [HELO|EHLO domain]`.
    Smtp {
        verb: String,
        domain: String,
    },
    /// `option mysql-check [user U [post-41]]`.
    Mysql {
        user: Option<String>,
    },
    Redis,
    Ldap,
    Pgsql {
        user: Option<String>,
    },
    /// `option tcp-check` with its `tcp-check` rules.
    TcpCheck(Vec<TcpCheckRule>),
}

/// The request an HTTP check sends and what it expects back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    pub method: String,
    pub uri: String,
    /// As written, may carry the 1.4 `\r\nHost: x` trick (already unescaped).
    pub version: String,
    /// Headers from `http-check send hdr NAME VALUE`.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub expect: Option<HttpCheckExpect>,
    pub send_state: bool,
    pub disable_on_404: bool,
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: Vec::new(),
            body: None,
            expect: None,
            send_state: false,
            disable_on_404: false,
        }
    }
}

/// `http-check expect [!] status|rstatus|string|rstring PATTERN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheckExpect {
    pub negate: bool,
    pub kind: ExpectKind,
    pub pattern: CheckPattern,
}

/// What an expect rule compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectKind {
    Status,
    Rstatus,
    String,
    Rstring,
    Binary,
    Rbinary,
}

/// One `tcp-check` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpCheckRule {
    Connect { port: Option<u16>, ssl: bool },
    Send(Vec<u8>),
    SendBinary(Vec<u8>),
    Expect { negate: bool, kind: ExpectKind, pattern: CheckPattern },
    Comment(String),
}

/// The pattern of an `expect` rule, validated when the config is read, so a check never meets one it cannot run:
/// `status` and `string` keep their text, `binary` its decoded bytes (an odd or non-hex string is a config
/// error), and `rstatus`, `rstring` and `rbinary` their compiled regex (one that does not compile is a config
/// error). Two patterns are equal when they were written the same.
#[derive(Debug, Clone)]
pub struct CheckPattern {
    text: String,
    form: PatternForm,
}

/// What a [`CheckPattern`] compiled to.
#[derive(Debug, Clone)]
pub enum PatternForm {
    /// Compared or searched as they are (`status`, `string`, decoded `binary`).
    Bytes(Vec<u8>),
    /// Searched for, unanchored unless the regex anchors itself (`rstatus`, `rstring`, `rbinary`).
    Regex(Regex),
}

impl CheckPattern {
    /// Validate and compile `text` for an expect rule of `kind`.
    pub fn new(kind: ExpectKind, text: &str) -> Result<CheckPattern, String> {
        let form = match kind {
            ExpectKind::Status | ExpectKind::String => PatternForm::Bytes(text.as_bytes().to_vec()),
            ExpectKind::Binary => {
                PatternForm::Bytes(unhex(text).ok_or_else(|| format!("invalid hexadecimal string '{text}'"))?)
            }
            ExpectKind::Rstatus | ExpectKind::Rstring | ExpectKind::Rbinary => {
                PatternForm::Regex(compile_regex(text, false)?)
            }
        };
        Ok(CheckPattern { text: text.to_string(), form })
    }

    /// The pattern as written (for log texts).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What it compiled to.
    pub fn form(&self) -> &PatternForm {
        &self.form
    }
}

impl PartialEq for CheckPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CheckPattern {}

/// `"0a1B"` → `[0x0a, 0x1b]`; `None` for an odd length or a non-hex digit (`tcp-check send-binary`, `expect
/// binary`).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Compile a regex of the config, as HAProxy would (`-i` = case-insensitive): every regex the config carries
/// (ACL patterns, header rules, check patterns) goes through here, so they share one dialect (the `regex`
/// crate's) and one error text. A `\ ` left by old configs is a space.
pub fn compile_regex(pattern: &str, icase: bool) -> Result<Regex, String> {
    let p = pattern.replace("\\ ", " ");
    RegexBuilder::new(&p).case_insensitive(icase).build().map_err(|e| {
        // The crate's syntax errors span several lines (the pattern, a caret, the reason): keep the reason.
        let full = e.to_string();
        let reason = full.lines().last().map(|l| l.trim_start_matches("error: ")).unwrap_or(&full).to_string();
        format!("invalid regex '{pattern}': {reason}")
    })
}

/// A proxy section: `frontend`, `backend` or `listen`.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub pos: Pos,
    pub name: String,
    pub kind: ProxyKind,
    /// `id N` or the automatic one (1-based, in declaration order, as HAProxy numbers them).
    pub id: u32,
    pub mode: Mode,
    pub disabled: bool,
    pub description: Option<String>,
    pub binds: Vec<Bind>,
    /// Frontend `maxconn`; `None` = global maxconn.
    pub maxconn: Option<u32>,
    pub backlog: Option<u32>,
    pub fullconn: Option<u32>,
    pub rate_limit_sessions: Option<u32>,
    pub servers: Vec<Server>,
    /// `dispatch ADDR:PORT` (a single fixed server).
    pub dispatch: Option<SocketAddr>,
    pub balance: Balance,
    pub hash_type: HashType,
    pub timeouts: Timeouts,
    /// `retries`, default 3.
    pub retries: u32,
    pub options: ProxyOptions,
    /// Resolved log targets (`log global` expanded, `no log` = empty).
    pub logs: Vec<LogTarget>,
    pub log_format: LogFormat,
    pub log_tag: Option<String>,
    pub check: CheckKind,
    pub default_backend: Option<String>,
    pub use_backends: Vec<UseBackend>,
    pub acls: Vec<Acl>,
    pub http_request: Vec<HttpRule>,
    pub http_response: Vec<HttpRule>,
    pub tcp_request: Vec<TcpRequestRule>,
    pub tcp_inspect_delay: Option<Duration>,
    /// 1.4 header manipulation lines (`reqadd`, `rsprep`, `block`, …) in order.
    pub legacy_rules: Vec<LegacyRule>,
    pub redirects: Vec<Redirect>,
    pub cookie: Option<CookieConf>,
    pub stick: Option<StickConf>,
    pub stats: Option<StatsConf>,
    pub errorfiles: Vec<ErrorFile>,
    pub monitor_uri: Option<String>,
    /// `source ADDR[:PORT]` of a backend: the local address of its server connections.
    pub source: Option<std::net::SocketAddr>,
    /// `monitor-net NET` (1.4): connections from these networks are answered as a monitor, not proxied.
    pub monitor_net: Vec<IpNet>,
    pub monitor_fail: Vec<Cond>,
    pub captures: Vec<Capture>,
    pub unique_id_format: Option<String>,
    pub unique_id_header: Option<String>,
    pub use_servers: Vec<UseServer>,
    /// `http-reuse never|safe|aggressive|always` (default safe).
    pub http_reuse: HttpReuse,
}

/// How idle server connections are shared between client sessions (`http-reuse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpReuse {
    Never,
    #[default]
    Safe,
    Aggressive,
    Always,
}

/// `use_backend NAME [if|unless COND]`.
#[derive(Debug, Clone)]
pub struct UseBackend {
    pub pos: Pos,
    /// A backend name, or a `%[...]` log-format expression kept as written.
    pub backend: String,
    pub cond: Option<Cond>,
}

/// `use-server NAME [if|unless COND]`.
#[derive(Debug, Clone)]
pub struct UseServer {
    pub pos: Pos,
    pub server: String,
    pub cond: Option<Cond>,
}

/// `acl NAME CRITERION [FLAGS] [OPERATOR] VALUE…`.
#[derive(Debug, Clone)]
pub struct Acl {
    pub pos: Pos,
    pub name: String,
    pub term: AclTerm,
}

/// The body of an ACL: a fetch, its matching method and the patterns.
#[derive(Debug, Clone, PartialEq)]
pub struct AclTerm {
    /// The sample fetch as written without arguments: `hdr`, `path_beg`, `req.hdr`, `src`, …
    pub fetch: String,
    /// Arguments inside parentheses, split on commas: `hdr(host)` → `["host"]`.
    pub args: Vec<String>,
    /// Converters applied after the fetch (`,lower`), as written.
    pub converters: Vec<String>,
    /// `-m METHOD` or the method implied by the fetch name's suffix.
    pub method: MatchMethod,
    pub ignore_case: bool,
    /// Values given inline, then those loaded from `-f FILE`s.
    pub patterns: Vec<String>,
    /// `-f FILE` paths (their lines are already in `patterns`).
    pub files: Vec<PathBuf>,
}

/// ACL matching methods (`-m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMethod {
    /// Boolean fetch (`always_true`, a fetch with no pattern).
    Found,
    Bool,
    Int,
    Ip,
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dir,
    Dom,
    Len,
}

/// A condition `if|unless` followed by an OR of AND-ed terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// `unless` flips the result.
    pub negate: bool,
    /// OR of ANDs.
    pub alternatives: Vec<Vec<CondTerm>>,
}

/// One operand of a condition.
#[derive(Debug, Clone, PartialEq)]
pub struct CondTerm {
    /// `!` before the operand.
    pub negate: bool,
    pub kind: CondTermKind,
}

/// A named ACL or an anonymous `{ … }` one.
#[derive(Debug, Clone, PartialEq)]
pub enum CondTermKind {
    Named(String),
    Anonymous(AclTerm),
}

/// An `http-request` or `http-response` rule.
#[derive(Debug, Clone)]
pub struct HttpRule {
    pub pos: Pos,
    pub action: HttpAction,
    pub cond: Option<Cond>,
}

/// What an `http-request` / `http-response` rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAction {
    Allow,
    Deny {
        status: u16,
    },
    Tarpit {
        status: u16,
    },
    Auth {
        realm: Option<String>,
    },
    Redirect(Redirect),
    AddHeader {
        name: String,
        value: String,
    },
    SetHeader {
        name: String,
        value: String,
    },
    DelHeader {
        name: String,
    },
    ReplaceHeader {
        name: String,
        regex: String,
        replacement: String,
    },
    ReplaceValue {
        name: String,
        regex: String,
        replacement: String,
    },
    SetPath(String),
    SetUri(String),
    SetQuery(String),
    SetMethod(String),
    ReplacePath {
        regex: String,
        replacement: String,
    },
    ReplaceUri {
        regex: String,
        replacement: String,
    },
    SetVar {
        name: String,
        expr: String,
    },
    Return {
        status: u16,
        content_type: Option<String>,
        body: Option<String>,
        headers: Vec<(String, String)>,
    },
    SetStatus(u16),
    /// `use-service prometheus-exporter`.
    UseService(String),
    /// `track-sc0|1|2 KEY [table T]`: track the key's entry in a stick table (see [`Track`]).
    Track(Track),
    /// `sc-inc-gpc0(N)`: increment the tracked entry's `gpc0` (and `gpc0_rate`).
    ScIncGpc0(u8),
    /// `sc-set-gpt0(N) VALUE`: set the tracked entry's `gpt0`.
    ScSetGpt0(u8, i64),
    /// Any other 2.x action we parse but treat as a no-op, kept for `-c` acceptance and warnings.
    Other(String),
}

/// `tcp-request connection|content accept|reject [if COND]`.
#[derive(Debug, Clone)]
pub struct TcpRequestRule {
    pub pos: Pos,
    /// `connection` or `content` (or `session`).
    pub layer: String,
    /// `accept`, `reject`, or another action kept as written.
    pub action: String,
    pub cond: Option<Cond>,
}

/// A 1.4 header-manipulation line: `reqadd`, `reqrep`, `rspdel`, `block`, …
#[derive(Debug, Clone)]
pub struct LegacyRule {
    pub pos: Pos,
    /// The keyword: `reqadd`, `reqirep`, `block`, …
    pub keyword: String,
    /// Regex or header line (unescaped).
    pub arg: String,
    /// Replacement (for `*rep`) or backend (for `reqsetbe`).
    pub arg2: Option<String>,
    pub cond: Option<Cond>,
}

/// `redirect location|prefix|scheme TARGET [code N] [drop-query] [append-slash] [set-cookie X] [clear-cookie X]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub target: String,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
    pub set_cookie: Option<String>,
    pub clear_cookie: Option<String>,
    pub cond: Option<Cond>,
}

/// What a redirect replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

/// `track-scN KEY [table T]` (an `http-request` or `tcp-request` action).
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The sticky counter: 0, 1 or 2.
    pub sc: u8,
    /// The key's sample expression as written (`src`, `req.hdr(x-api-key)`).
    pub key: String,
    /// `table T`; `None` = the rule's own proxy's table.
    pub table: Option<String>,
}

impl Track {
    /// Parse `track-scN KEY [table T]` (`w[0]` is the action).
    pub fn parse(w: &[String]) -> Result<Track, String> {
        let act = w.first().map(String::as_str).unwrap_or("");
        let sc = match act {
            "track-sc0" => 0,
            "track-sc1" => 1,
            "track-sc2" => 2,
            _ => return Err(format!("unknown action '{act}'")),
        };
        let key = w.get(1).ok_or_else(|| format!("'{act}' expects a sample expression (key)."))?.clone();
        let table = match w.get(2).map(String::as_str) {
            None => None,
            Some("table") => {
                Some(w.get(3).ok_or_else(|| format!("'{act}' : missing table name after 'table'."))?.clone())
            }
            Some(o) => return Err(format!("'{act}' : unexpected argument '{o}' (expects 'table' or a condition).")),
        };
        if w.len() > 4 {
            return Err(format!("'{act}' : unexpected argument '{}'.", w[4]));
        }
        Ok(Track { sc, key, table })
    }
}

/// A data type a stick table stores (`store …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StickData {
    ServerId,
    Gpt0,
    Gpc0,
    Gpc0Rate,
    ConnCnt,
    ConnCur,
    ConnRate,
    SessCnt,
    SessRate,
    HttpReqCnt,
    HttpReqRate,
    HttpErrCnt,
    HttpErrRate,
    BytesInCnt,
    BytesOutCnt,
}

impl StickData {
    /// Every data type, in the order of [`StickData::name`].
    pub const ALL: [StickData; 15] = [
        StickData::ServerId,
        StickData::Gpt0,
        StickData::Gpc0,
        StickData::Gpc0Rate,
        StickData::ConnCnt,
        StickData::ConnCur,
        StickData::ConnRate,
        StickData::SessCnt,
        StickData::SessRate,
        StickData::HttpReqCnt,
        StickData::HttpReqRate,
        StickData::HttpErrCnt,
        StickData::HttpErrRate,
        StickData::BytesInCnt,
        StickData::BytesOutCnt,
    ];

    /// The name HAProxy's `store` uses.
    pub fn name(self) -> &'static str {
        match self {
            StickData::ServerId => "server_id",
            StickData::Gpt0 => "gpt0",
            StickData::Gpc0 => "gpc0",
            StickData::Gpc0Rate => "gpc0_rate",
            StickData::ConnCnt => "conn_cnt",
            StickData::ConnCur => "conn_cur",
            StickData::ConnRate => "conn_rate",
            StickData::SessCnt => "sess_cnt",
            StickData::SessRate => "sess_rate",
            StickData::HttpReqCnt => "http_req_cnt",
            StickData::HttpReqRate => "http_req_rate",
            StickData::HttpErrCnt => "http_err_cnt",
            StickData::HttpErrRate => "http_err_rate",
            StickData::BytesInCnt => "bytes_in_cnt",
            StickData::BytesOutCnt => "bytes_out_cnt",
        }
    }

    /// The data type named `name` (`http_req_rate`).
    pub fn from_name(name: &str) -> Option<StickData> {
        StickData::ALL.into_iter().find(|d| d.name() == name)
    }

    /// A frequency counter over a period (`…_rate(P)`).
    pub fn is_rate(self) -> bool {
        self.name().ends_with("_rate")
    }
}

/// One `store` item: a data type and, for rates, its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StickStore {
    pub data: StickData,
    pub period: Option<Duration>,
}

/// `stick-table` + `stick on|match|store-request`.
#[derive(Debug, Clone)]
pub struct StickConf {
    pub pos: Pos,
    /// `type ip|ipv6|integer|string|binary`.
    pub table_type: String,
    pub len: Option<usize>,
    pub size: u64,
    pub expire: Option<Duration>,
    pub nopurge: bool,
    /// `store TYPE[(PERIOD)],…` data types (several `store` words add up).
    pub store: Vec<StickStore>,
    /// `stick on|match|store-request EXPR [table T] [if COND]` lines.
    pub rules: Vec<StickRule>,
}

/// One `stick …` line.
#[derive(Debug, Clone)]
pub struct StickRule {
    pub pos: Pos,
    /// `on`, `match`, `store-request`, `store-response`.
    pub kind: String,
    /// The sample expression as written (`src`, `req.cook(JSESSIONID)`).
    pub expr: String,
    pub table: Option<String>,
    pub cond: Option<Cond>,
}

/// `stats …` keywords of a proxy.
#[derive(Debug, Clone, Default)]
pub struct StatsConf {
    pub enabled: bool,
    /// Default `/haproxy?stats`.
    pub uri: String,
    /// Default `HAProxy Statistics`.
    pub realm: String,
    /// `user:password` pairs.
    pub auth: Vec<(String, String)>,
    pub refresh: Option<Duration>,
    pub hide_version: bool,
    pub show_legends: bool,
    pub show_node: Option<String>,
    pub show_desc: Option<String>,
    pub scope: Vec<String>,
    /// `stats admin if COND`.
    pub admin: Option<Cond>,
    pub http_request: Vec<HttpRule>,
}

/// `errorfile CODE FILE` (the file is read at start-up, before chroot).
#[derive(Debug, Clone)]
pub struct ErrorFile {
    pub pos: Pos,
    pub code: u16,
    /// The raw HTTP response bytes.
    pub content: Vec<u8>,
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

/// A `userlist` section.
#[derive(Debug, Clone, Default)]
pub struct Userlist {
    pub pos: Pos,
    pub name: String,
    pub groups: Vec<(String, Vec<String>)>,
    /// (user, password or crypt hash, insecure?, groups)
    pub users: Vec<UserEntry>,
}

/// One `user NAME password|insecure-password X [groups a,b]`.
#[derive(Debug, Clone, Default)]
pub struct UserEntry {
    pub name: String,
    pub password: String,
    pub insecure: bool,
    pub groups: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Option<(String, u8)> {
        IpNet::parse(s).map(|n| (n.addr.to_string(), n.prefix))
    }

    #[test]
    fn one_default_maxconn() {
        let mut g = Global::default();
        assert_eq!(g.maxconn_or_default(), 4096, "what the workers have always used");
        g.maxconn = Some(100);
        assert_eq!(g.maxconn_or_default(), 100);
    }

    #[test]
    fn ipnet_parses_ipv4() {
        assert_eq!(net("10.0.0.1"), Some(("10.0.0.1".into(), 32)), "an address alone is one host");
        assert_eq!(net("10.0.0.0/8"), Some(("10.0.0.0".into(), 8)));
        assert_eq!(net("0.0.0.0/0"), Some(("0.0.0.0".into(), 0)));
        assert_eq!(net("192.168.1.7/32"), Some(("192.168.1.7".into(), 32)));
        let n = IpNet::parse("192.168.0.0/16").expect("net");
        assert!(n.contains("192.168.44.1".parse().expect("ip")));
        assert!(!n.contains("192.169.0.1".parse().expect("ip")));
        assert!(n.contains("::ffff:192.168.3.4".parse().expect("ip")), "IPv4-mapped IPv6 matches");
    }

    #[test]
    fn ipnet_parses_dotted_masks() {
        assert_eq!(net("172.16.0.0/255.255.0.0"), Some(("172.16.0.0".into(), 16)));
        assert_eq!(net("10.1.2.3/255.255.255.255"), Some(("10.1.2.3".into(), 32)));
        assert_eq!(net("10.0.0.0/255.255.255.128"), Some(("10.0.0.0".into(), 25)));
        assert_eq!(net("0.0.0.0/0.0.0.0"), Some(("0.0.0.0".into(), 0)));
        assert_eq!(net("10.0.0.0/255.0.255.0"), None, "ones must be contiguous");
        assert_eq!(net("10.0.0.0/0.0.0.255"), None);
    }

    #[test]
    fn ipnet_parses_ipv6() {
        assert_eq!(net("::1"), Some(("::1".into(), 128)));
        assert_eq!(net("fd00::/8"), Some(("fd00::".into(), 8)));
        assert_eq!(net("2001:db8::/32"), Some(("2001:db8::".into(), 32)));
        assert_eq!(net("::/0"), Some(("::".into(), 0)));
        let n = IpNet::parse("2001:db8::/32").expect("net");
        assert!(n.contains("2001:db8:1::5".parse().expect("ip")));
        assert!(!n.contains("2001:db9::5".parse().expect("ip")));
        assert!(!n.contains("10.0.0.1".parse().expect("ip")));
        assert_eq!(net("fd00::/255.0.0.0"), None, "no dotted mask for IPv6");
    }

    #[test]
    fn ipnet_refuses_bad_input() {
        for s in [
            "",
            "/8",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.256",
            "10.0.0.0/8/8",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/ 8",
            "host.example",
            "10.0.0.0/255.255.0",
            "1.2.3.4:80",
        ] {
            assert_eq!(net(s), None, "{s:?}");
        }
    }
}
