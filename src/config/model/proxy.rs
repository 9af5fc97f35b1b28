//! A proxy section (`frontend`, `backend`, `listen`) and what it is made of: binds, balancing, timeouts,
//! options, routing (`use_backend`, `use-server`), statistics and error files.

use super::*;

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
