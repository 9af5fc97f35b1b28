//! A worker's live view of its proxies: frontends, backends and servers with their counters, queues and state,
//! and its stick tables ([`crate::stick::Tables`]), built once after the fork from the config model and its
//! compiled plan ([`crate::plan`]). The stream steps read and update it; nothing here does I/O but logging.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::acl::CompiledCond;
use crate::balance::{Balancer, Candidate};
use crate::check::probe::Probe;
use crate::check::{CheckState, Spec};
use crate::config::model::{Balance, Config, CookieConf, HttpConnMode, HttpReuse, LogFormat, Mode, Proxy, Timeouts};
use crate::http::errors::ErrorPages;
use crate::log::{FileSink, Logger};
use crate::plan::{TcpRule, UniqueId};
use crate::rules::CompiledRules;
use crate::stream::term::Term;

/// A proxy that accepts connections.
#[derive(Debug)]
pub struct Frontend {
    /// Index of the proxy in the config (stats blocks are keyed by it).
    pub proxy: usize,
    /// `stats enable/uri/auth/…` of this proxy.
    pub stats: Option<crate::config::model::StatsConf>,
    pub name: String,
    pub mode: Mode,
    pub maxconn: u32,
    pub cur: u32,
    pub total: u64,
    /// Backend used when no rule picks another (index into `Runtime::backends`).
    pub default_backend: Option<usize>,
    /// `use_backend` rules in order: (condition compiled against `rules`' ACLs, backend index).
    pub use_backends: Vec<(Option<CompiledCond>, usize)>,
    /// ACLs and HTTP rules of this proxy, compiled once.
    pub rules: Rc<CompiledRules>,
    /// Backend index when this frontend is a `listen` (its own rules already ran as a frontend).
    pub own_backend: Option<usize>,
    pub monitor_uri: Option<String>,
    /// `monitor-net`: clients from these networks get `HTTP/1.0 200 OK` (http) or a bare close (tcp), unlogged.
    pub monitor_net: Vec<crate::config::model::IpNet>,
    pub monitor_fail: Vec<CompiledCond>,
    /// `stats admin if COND`, compiled.
    pub stats_admin: Option<CompiledCond>,
    /// `tcp-request connection` rules, run when a connection is accepted (before a PROXY header).
    pub tcp_connection: Vec<TcpRule>,
    /// `tcp-request session` rules, run when the session starts (after a PROXY header).
    pub tcp_session: Vec<TcpRule>,
    /// `tcp-request content` rules: run at once in TCP mode, on each request head in HTTP mode.
    pub tcp_content: Vec<TcpRule>,
    pub logger: Rc<Logger>,
    pub log_format: LogFormat,
    /// The traffic log line's format, compiled (see [`crate::plan::CompiledProxy::log_format`]).
    pub format: Option<crate::plan::Format>,
    /// `unique-id-format` (and `unique-id-header`), compiled.
    pub unique_id: Option<UniqueId>,
    /// `capture request|response header`, `capture cookie`.
    pub captures: crate::log::Captures,
    pub dontlognull: bool,
    /// `option dontlog-normal`: log only sessions that had an error, a retry or a 5xx.
    pub dontlog_normal: bool,
    /// `option log-separate-errors`: such sessions are logged at level `err` instead of `info`.
    pub log_separate_errors: bool,
    /// `option logasap`: HTTP transactions are logged when the response head is forwarded.
    pub logasap: bool,
    /// `rate-limit sessions N`, this worker's share: new sessions accepted per second at most.
    pub rate_limit: Option<u32>,
    /// The second (of the worker's clock) the accept count below is for, and that count.
    pub rate_second: u64,
    pub rate_count: u32,
    pub timeouts: Timeouts,
    pub tcpka: bool,
    /// `option splice-*` of this proxy (empty under `nosplice`).
    pub splice: crate::tcp::SpliceOpts,
    /// Connection handling of HTTP transactions (frontend option, else the default backend's).
    pub http_mode: HttpConnMode,
    pub errors: ErrorPages,
}

/// A proxy with servers.
#[derive(Debug)]
pub struct Backend {
    /// Index of the proxy in the config.
    pub proxy: usize,
    /// `use-server NAME [if COND]`: (worker-global server index, condition against this backend's ACLs).
    pub use_servers: Vec<(usize, Option<CompiledCond>)>,
    pub name: String,
    pub servers: Vec<usize>,
    pub balancer: Balancer,
    /// Sessions waiting for a slot on any server (no server determined yet), oldest first.
    pub queue: VecDeque<Waiter>,
    pub cur: u32,
    /// `fullconn` (or HAProxy's default, a tenth of the maxconn of the frontends that lead here): the load at
    /// which servers with `minconn` reach their `maxconn`. `None` when no server has `minconn`.
    pub fullconn: Option<u32>,
    pub total: u64,
    pub logger: Rc<Logger>,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub redispatch: bool,
    pub tcpka: bool,
    /// `option splice-*` of this proxy (empty under `nosplice`).
    pub splice: crate::tcp::SpliceOpts,
    pub log_health_checks: bool,
    pub rules: Rc<CompiledRules>,
    pub balance: Balance,
    /// `cookie NAME …` persistence.
    pub cookie: Option<CookieConf>,
    /// `option persist`: a cookie naming a DOWN server still sends the request there.
    pub persist: bool,
    /// `option prefer-last-server`.
    pub prefer_last_server: bool,
    /// `stick on src [table T]`: the table (in `Runtime::tables`) whose `server_id` maps a client address to
    /// its server.
    pub stick: Option<u16>,
    pub http_reuse: HttpReuse,
}

/// A session waiting in a queue for a server slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiter {
    /// Slab index of the session.
    pub idx: usize,
    /// Its uid (a slot reused by another session is not this waiter).
    pub uid: u64,
    /// Worker-wide arrival order: a freed slot goes to the older of its server's and its backend's queue heads.
    pub seq: u64,
}

/// One server of a backend.
#[derive(Debug)]
pub struct ServerRt {
    pub backend: usize,
    /// Position of the server in its proxy's `server` lines (stats), `usize::MAX` for `dispatch`.
    pub index: usize,
    /// `set server … state drain` (from the stats page or socket): no new load-balanced traffic.
    pub drain: bool,
    pub name: String,
    pub addr: SocketAddr,
    pub weight: u32,
    pub backup: bool,
    /// Administrative maintenance (`disabled`).
    pub maint: bool,
    /// The limit in force now (with `minconn`, it follows the backend's load; see [`Runtime::refresh_dynamic`]).
    pub maxconn: u32,
    /// `maxconn` as configured, and `minconn` (0 = no dynamic limit).
    pub max_conf: u32,
    pub minconn: u32,
    /// `maxqueue`: most sessions waiting in this server's own queue (0 = unlimited).
    pub maxqueue: u32,
    /// Sessions whose server is already this one (persistence, hashing) waiting for a slot, oldest first.
    pub queue: VecDeque<Waiter>,
    pub cur: u32,
    pub total: u64,
    pub check: Option<CheckRt>,
    /// `cookie VALUE` of the server (persistence).
    pub cookie: Option<String>,
    pub pool_max_conn: i64,
    pub pool_purge_delay: Duration,
    /// `redir PREFIX`: HTTP GET/HEAD requests for this server get a 302 to PREFIX + URI instead.
    pub redir: Option<String>,
    /// `send-proxy[-v2]`: the PROXY header written first on every connection (such connections carry one
    /// client's address, so they are never pooled for others).
    pub send_proxy: Option<crate::proxy_proto::Version>,
    /// `on-marked-down shutdown-sessions`.
    pub shutdown_on_down: bool,
    /// `on-marked-up shutdown-backup-sessions`.
    pub shutdown_backup_on_up: bool,
    /// `track`: the server whose health this one follows (worker-global index).
    pub tracks: Option<usize>,
    /// The servers tracking this one.
    pub trackers: Vec<usize>,
    /// Down because the tracked server (at the end of the chain) is DOWN.
    pub track_down: bool,
    /// `source`: the local address of connections to this server and of its checks.
    pub source: Option<SocketAddr>,
    /// `slowstart TIME`: after coming back UP, the weight grows from ~0 to full over this time.
    pub slowstart: Option<Duration>,
    /// When the server last came back UP (while within `slowstart`).
    pub warming_since: Option<Instant>,
}

impl ServerRt {
    /// A server of backend `backend` (position `index` in its `server` lines, `usize::MAX` for `dispatch`) with
    /// every option at its default: weight 1, no limits, no checks, UP.
    pub fn new(backend: usize, index: usize, name: &str, addr: SocketAddr) -> ServerRt {
        ServerRt {
            backend,
            index,
            drain: false,
            name: name.to_string(),
            addr,
            weight: 1,
            backup: false,
            maint: false,
            maxconn: 0,
            max_conf: 0,
            minconn: 0,
            maxqueue: 0,
            queue: VecDeque::new(),
            cur: 0,
            total: 0,
            check: None,
            cookie: None,
            pool_max_conn: -1,
            pool_purge_delay: Duration::from_secs(5),
            redir: None,
            send_proxy: None,
            shutdown_on_down: false,
            shutdown_backup_on_up: false,
            tracks: None,
            trackers: Vec::new(),
            track_down: false,
            slowstart: None,
            warming_since: None,
            source: None,
        }
    }

    /// The weight the balancer uses: within `slowstart` of coming back UP it grows linearly to the full weight
    /// (at least 1, so the server gets some traffic from the start), as HAProxy's warm-up does.
    pub fn effective_weight(&self) -> u32 {
        match (self.slowstart, self.warming_since) {
            (Some(d), Some(since)) if !d.is_zero() => {
                let elapsed = since.elapsed();
                if elapsed >= d {
                    return self.weight;
                }
                let w = u128::from(self.weight) * elapsed.as_millis() / d.as_millis().max(1);
                u32::try_from(w).unwrap_or(self.weight).clamp(self.weight.min(1), self.weight)
            }
            _ => self.weight,
        }
    }

    /// UP by checks (or not checked) and not in maintenance.
    pub fn usable(&self) -> bool {
        !self.maint && !self.track_down && self.check.as_ref().is_none_or(|c| c.state.up && !c.state.nolb)
    }

    /// A new session for this server must wait: no free slot, or others already wait for one (first come, first
    /// served, as HAProxy).
    pub fn busy(&self) -> bool {
        self.maxconn != 0 && (self.cur >= self.maxconn || !self.queue.is_empty())
    }

    /// A slot is free for the next waiter.
    pub fn has_slot(&self) -> bool {
        self.maxconn == 0 || self.cur < self.maxconn
    }

    /// Its own queue holds `maxqueue` sessions already.
    pub fn queue_full(&self) -> bool {
        self.maxqueue != 0 && self.queue.len() >= self.maxqueue as usize
    }
}

/// Health-check state of a server in this worker.
#[derive(Debug)]
pub struct CheckRt {
    pub state: CheckState,
    /// Where checks connect (`addr`/`port` override the server's).
    pub addr: SocketAddr,
    pub timeout: Duration,
    /// The backend's check protocol (shared by its servers).
    pub spec: Rc<Spec>,
    pub probe: Option<Probe>,
    /// The PROXY header version the checks send (`check-send-proxy`), if any.
    pub send_proxy: Option<crate::proxy_proto::Version>,
    /// When the next check is due (stale timer entries before it are ignored).
    pub next_at: std::time::Instant,
    /// Soft stop: no more checks.
    pub stopped: bool,
}

/// Everything a worker proxies for, indexed by position.
#[derive(Debug)]
pub struct Runtime {
    pub frontends: Vec<Frontend>,
    pub backends: Vec<Backend>,
    pub servers: Vec<ServerRt>,
    /// Config proxy index → frontend index.
    pub fe_of_proxy: Vec<Option<usize>>,
    /// Config proxy index → backend index.
    pub be_of_proxy: Vec<Option<usize>>,
    /// `userlist` sections, for `http_auth`.
    pub userlists: Vec<crate::config::model::Userlist>,
    /// The stick tables with counters (`stick-table … store …`, tracked by `track-scN`).
    pub tables: std::rc::Rc<crate::stick::Tables>,
}

fn logger_for(p: &Proxy, cfg: &Config, files: &dyn Fn() -> FileSink) -> Rc<Logger> {
    let tag = p.log_tag.as_deref().or(cfg.global.log_tag.as_deref()).unwrap_or("nbproxy");
    Rc::new(Logger::new(&p.logs, tag, cfg.global.log_send_hostname.as_deref(), files()))
}

impl Runtime {
    /// Build the runtime from the config. `files` makes the `file@` sink for each logger.
    pub fn build(cfg: &Config, files: &dyn Fn() -> FileSink, seed: u64) -> Result<Runtime, String> {
        let compiled = crate::plan::compile_all(cfg)?;
        let mut rt = Runtime {
            frontends: Vec::new(),
            backends: Vec::new(),
            servers: Vec::new(),
            fe_of_proxy: Vec::new(),
            be_of_proxy: Vec::new(),
            userlists: cfg.userlists.clone(),
            tables: std::rc::Rc::new(crate::stick::Tables::new(
                cfg.proxies.len(),
                cfg.proxies
                    .iter()
                    .enumerate()
                    .filter_map(|(pi, p)| {
                        let st = p.stick.as_ref()?;
                        let kt = crate::stick::KeyType::new(&st.table_type, st.len)?;
                        Some((pi, crate::stick::Table::new(&p.name, kt, st.size, st.expire, &st.store)))
                    })
                    .collect(),
            )),
        };
        let global_maxconn = cfg.global.maxconn_or_default();
        let mut be_of_proxy = vec![None; cfg.proxies.len()];
        for (pi, p) in cfg.proxies.iter().enumerate() {
            if !p.kind.has_backend() {
                continue;
            }
            let logger = logger_for(p, cfg, files);
            let bi = rt.backends.len();
            be_of_proxy[pi] = Some(bi);
            let mut servers = Vec::new();
            let spec = Rc::new(Spec::new(&p.check));
            if p.servers.is_empty() {
                if let Some(addr) = p.dispatch {
                    // `dispatch ADDR` behaves as one unchecked server.
                    servers.push(rt.servers.len());
                    rt.servers.push(ServerRt { source: p.source, ..ServerRt::new(bi, usize::MAX, "dispatch", addr) });
                }
            }
            for (sidx, s) in p.servers.iter().enumerate() {
                let addr = s.addr;
                let check = s.check.then(|| {
                    let mut caddr = addr;
                    if let Some(ip) = s.check_addr {
                        caddr.set_ip(ip);
                    }
                    if let Some(port) = spec.port().or(s.check_port) {
                        caddr.set_port(port);
                    }
                    let timeout = match p.timeouts.check {
                        Some(tc) => s.inter.min(p.timeouts.connect.unwrap_or(s.inter)) + tc,
                        None => s.inter,
                    };
                    CheckRt {
                        state: CheckState::new(s.rise, s.fall, s.inter, s.fastinter, s.downinter),
                        addr: caddr,
                        timeout,
                        spec: spec.clone(),
                        probe: None,
                        // `check-send-proxy`, or `send-proxy` when checks go where the traffic goes (HAProxy's rule).
                        send_proxy: if s.check_send_proxy {
                            Some(s.send_proxy.unwrap_or(crate::proxy_proto::Version::V1))
                        } else {
                            s.send_proxy.filter(|_| s.check_addr.is_none() && s.check_port.is_none())
                        },
                        next_at: std::time::Instant::now(),
                        stopped: false,
                    }
                });
                servers.push(rt.servers.len());
                rt.servers.push(ServerRt {
                    weight: s.weight,
                    backup: s.backup,
                    maint: s.disabled,
                    maxconn: s.maxconn,
                    max_conf: s.maxconn,
                    minconn: if s.maxconn > 0 { s.minconn.min(s.maxconn) } else { 0 },
                    maxqueue: s.maxqueue,
                    check,
                    cookie: s.cookie.clone(),
                    pool_max_conn: s.pool_max_conn,
                    pool_purge_delay: s.pool_purge_delay,
                    redir: s.redir.clone(),
                    send_proxy: s.send_proxy,
                    shutdown_on_down: s.shutdown_on_down,
                    shutdown_backup_on_up: s.shutdown_backup_on_up,
                    slowstart: s.slowstart,
                    source: s.source.or(p.source),
                    ..ServerRt::new(bi, sidx, &s.name, addr)
                });
            }
            rt.backends.push(Backend {
                proxy: pi,
                cookie: p.cookie.clone(),
                http_reuse: p.http_reuse,
                persist: p.options.persist,
                prefer_last_server: p.options.prefer_last_server,
                stick: p
                    .stick
                    .as_ref()
                    .and_then(|st| st.rules.iter().find(|r| r.expr == "src"))
                    .and_then(|r| rt.tables.resolve(r.table.as_deref(), pi)),
                use_servers: compiled[pi]
                    .use_servers
                    .iter()
                    .filter_map(|(pos, cond)| Some((*servers.get(*pos)?, cond.clone())))
                    .collect(),
                rules: compiled[pi].rules.clone(),
                balance: p.balance.clone(),
                name: p.name.clone(),
                servers,
                balancer: Balancer::new(&p.balance, p.hash_type, p.options.allbackups, seed ^ (bi as u64 + 1)),
                queue: VecDeque::new(),
                cur: 0,
                fullconn: p.fullconn,
                total: 0,
                logger,
                timeouts: p.timeouts.clone(),
                retries: p.retries,
                redispatch: p.options.redispatch,
                tcpka: p.options.tcpka || p.options.srvtcpka,
                splice: crate::tcp::SpliceOpts::of(&p.options, cfg.global.nosplice),
                log_health_checks: p.options.log_health_checks,
            });
        }
        for (pi, p) in cfg.proxies.iter().enumerate() {
            if !p.kind.has_frontend() {
                rt.fe_of_proxy.push(None);
                continue;
            }
            let default_backend = match &p.default_backend {
                Some(name) => cfg.backend_index(name).and_then(|i| be_of_proxy[i]),
                None => be_of_proxy[pi],
            };
            rt.fe_of_proxy.push(Some(rt.frontends.len()));
            rt.frontends.push(Frontend {
                proxy: pi,
                stats: p.stats.clone().filter(|s| s.enabled),
                name: p.name.clone(),
                mode: p.mode,
                maxconn: p.maxconn.unwrap_or(global_maxconn),
                cur: 0,
                total: 0,
                default_backend,
                use_backends: compiled[pi]
                    .use_backends
                    .iter()
                    .filter_map(|(pi, cond)| Some((cond.clone(), be_of_proxy[*pi]?)))
                    .collect(),
                own_backend: be_of_proxy[pi],
                monitor_uri: p.monitor_uri.clone(),
                monitor_net: p.monitor_net.clone(),
                monitor_fail: compiled[pi].monitor_fail.clone(),
                stats_admin: compiled[pi].stats_admin.clone(),
                tcp_connection: compiled[pi].tcp_connection.clone(),
                tcp_session: compiled[pi].tcp_session.clone(),
                tcp_content: compiled[pi].tcp_content.clone(),
                rules: compiled[pi].rules.clone(),
                logger: logger_for(p, cfg, files),
                log_format: p.log_format.clone(),
                format: compiled[pi].log_format.clone(),
                unique_id: compiled[pi].unique_id.clone(),
                captures: crate::log::Captures::new(&p.captures),
                dontlognull: p.options.dontlognull,
                dontlog_normal: p.options.dontlog_normal,
                log_separate_errors: p.options.log_separate_errors,
                logasap: p.options.logasap,
                // The daemon-wide limit shared by the workers (each accepts on its own sockets).
                rate_limit: p.rate_limit_sessions.map(|n| n.div_ceil(cfg.global.nbproc.max(1) as u32).max(1)),
                rate_second: 0,
                rate_count: 0,
                timeouts: p.timeouts.clone(),
                tcpka: p.options.tcpka || p.options.clitcpka,
                splice: crate::tcp::SpliceOpts::of(&p.options, cfg.global.nosplice),
                http_mode: {
                    let be_mode =
                        p.default_backend.as_ref().and_then(|n| cfg.backend(n)).map(|b| b.options.http_conn_mode);
                    // The stricter of frontend and backend wins (close > server-close > keep-alive).
                    match (p.options.http_conn_mode, be_mode) {
                        (HttpConnMode::Close, _) | (_, Some(HttpConnMode::Close)) => HttpConnMode::Close,
                        (HttpConnMode::ServerClose, _) | (_, Some(HttpConnMode::ServerClose)) => {
                            HttpConnMode::ServerClose
                        }
                        (m, _) => m,
                    }
                },
                errors: ErrorPages::new(&p.errorfiles),
            });
        }
        rt.be_of_proxy = be_of_proxy;
        rt.link_trackers(cfg);
        rt.init_dynamic();
        Ok(rt)
    }

    /// `minconn`: backends with such servers get their `fullconn` (HAProxy's default when unset: a tenth of the
    /// sum of the maxconn of the frontends that can send traffic there), and their limits start at `minconn`.
    fn init_dynamic(&mut self) {
        for be in 0..self.backends.len() {
            let dynamic = self.backends[be].servers.iter().any(|&si| self.servers[si].minconn > 0);
            if !dynamic {
                self.backends[be].fullconn = None;
                continue;
            }
            if self.backends[be].fullconn.is_none() {
                let feeds = |f: &Frontend| {
                    f.default_backend == Some(be)
                        || f.own_backend == Some(be)
                        || f.use_backends.iter().any(|u| u.1 == be)
                };
                let sum: u64 = self.frontends.iter().filter(|f| feeds(f)).map(|f| u64::from(f.maxconn)).sum();
                self.backends[be].fullconn = Some(u32::try_from(sum / 10).unwrap_or(u32::MAX).max(1));
            }
            self.refresh_dynamic(be);
        }
    }

    /// Recompute the limits of backend `be`'s `minconn` servers from its load, the sessions it serves or queues
    /// (HAProxy's dynamic maxconn): `max(minconn, maxconn × load / fullconn)`, `maxconn` once the load reaches
    /// `fullconn`. Returns whether some limit grew (queued sessions may then go).
    pub fn refresh_dynamic(&mut self, be: usize) -> bool {
        let Some(full) = self.backends[be].fullconn else { return false };
        let b = &self.backends[be];
        let queued: usize = b.queue.len() + b.servers.iter().map(|&si| self.servers[si].queue.len()).sum::<usize>();
        let load = u64::from(b.cur) + queued as u64;
        let mut grew = false;
        for &si in &self.backends[be].servers {
            let s = &mut self.servers[si];
            if s.minconn == 0 {
                continue;
            }
            let before = s.maxconn;
            s.maxconn = if load >= u64::from(full) {
                s.max_conf
            } else {
                let scaled = u64::from(s.max_conf) * load / u64::from(full.max(1));
                u32::try_from(scaled).unwrap_or(s.max_conf).clamp(s.minconn, s.max_conf)
            };
            grew |= s.maxconn > before;
        }
        grew
    }

    /// `track [BACKEND/]SERVER`: link each tracking server to the one it follows (validated by the config check).
    fn link_trackers(&mut self, cfg: &Config) {
        let find = |rt: &Runtime, be: &str, srv: &str| {
            let b = rt.backends.iter().find(|b| b.name == be)?;
            b.servers.iter().copied().find(|&si| rt.servers[si].name == srv)
        };
        for p in &cfg.proxies {
            for s in p.servers.iter().filter(|s| s.track.is_some()) {
                let Some(t) = s.track.as_deref() else { continue };
                let (tb, ts) = t.split_once('/').unwrap_or((p.name.as_str(), t));
                let (Some(me), Some(target)) = (find(self, &p.name, &s.name), find(self, tb, ts)) else { continue };
                if me != target {
                    self.servers[me].tracks = Some(target);
                    self.servers[target].trackers.push(me);
                }
            }
        }
    }

    /// The balancer's view of a backend's servers.
    pub fn candidates(&self, be: usize) -> Vec<Candidate> {
        self.backends[be]
            .servers
            .iter()
            .map(|&si| {
                let s = &self.servers[si];
                let weight = if s.drain { 0 } else { s.effective_weight() };
                Candidate {
                    usable: s.usable(),
                    backup: s.backup,
                    weight,
                    cur: s.cur,
                    maxconn: s.maxconn,
                    queued: s.queue.len() as u32,
                }
            })
            .collect()
    }

    /// Active and backup servers currently usable in a backend.
    pub fn usable_counts(&self, be: usize) -> (usize, usize) {
        let mut act = 0;
        let mut bck = 0;
        for &si in &self.backends[be].servers {
            let s = &self.servers[si];
            if s.usable() {
                if s.backup {
                    bck += 1
                } else {
                    act += 1
                }
            }
        }
        (act, bck)
    }
}

impl Frontend {
    /// The level a finished session's log line goes out at, `None` when it is not logged at all. `error` is
    /// HAProxy's notion: a termination state other than `--`/`L?`, a retry or redispatch, an HTTP status ≥ 500.
    pub fn traffic_level(&self, error: bool) -> Option<crate::config::model::Level> {
        use crate::config::model::Level;
        if self.dontlog_normal && !error {
            return None;
        }
        let level = if error && self.log_separate_errors { Level::Err } else { Level::Info };
        self.logger.enabled(level).then_some(level)
    }
}

/// HAProxy's "error" session for `dontlog-normal` and `log-separate-errors`.
pub fn session_error(term: Term, retries: u32, redispatched: bool, status: Option<i32>) -> bool {
    redispatched
        || term.is_error()
        || (term.cause == crate::stream::term::Cause::Normal && retries > 0)
        || status.is_some_and(|s| s >= 500)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(maxconn: u32, maxqueue: u32) -> ServerRt {
        let addr = "127.0.0.1:80".parse().expect("addr");
        ServerRt { maxconn, maxqueue, ..ServerRt::new(0, 0, "s1", addr) }
    }

    #[test]
    fn slowstart_ramps_the_weight_up() {
        let mut s = server(0, 0);
        s.weight = 100;
        assert_eq!(s.effective_weight(), 100, "no slowstart: full weight");
        s.slowstart = Some(Duration::from_secs(10));
        assert_eq!(s.effective_weight(), 100, "not warming (never came back UP): full weight");
        s.warming_since = Instant::now().checked_sub(Duration::from_secs(5));
        let w = s.effective_weight();
        assert!((45..=55).contains(&w), "half way through: about half the weight, got {w}");
        s.warming_since = Some(Instant::now());
        assert_eq!(s.effective_weight(), 1, "just UP: the least weight that still gets traffic");
        s.warming_since = Instant::now().checked_sub(Duration::from_secs(11));
        assert_eq!(s.effective_weight(), 100, "warm");
        s.weight = 0;
        assert_eq!(s.effective_weight(), 0, "a zero weight stays zero");
    }

    fn waiter(seq: u64) -> Waiter {
        Waiter { idx: seq as usize, uid: seq, seq }
    }

    #[test]
    fn busy_when_full_or_when_others_wait() {
        let mut s = server(2, 0);
        assert!(!s.busy() && s.has_slot());
        s.cur = 2;
        assert!(s.busy() && !s.has_slot(), "at maxconn");
        s.cur = 1;
        s.queue.push_back(waiter(1));
        assert!(s.busy(), "a free slot, but a waiter comes first");
        assert!(s.has_slot(), "…and that waiter may take it");
        let mut unlimited = server(0, 0);
        unlimited.cur = 10_000;
        unlimited.queue.push_back(waiter(1));
        assert!(!unlimited.busy() && unlimited.has_slot(), "maxconn 0: never waits");
    }

    #[test]
    fn maxqueue_bounds_the_server_queue() {
        let mut s = server(1, 2);
        s.cur = 1;
        assert!(!s.queue_full());
        s.queue.extend([waiter(1), waiter(2)]);
        assert!(s.queue_full(), "maxqueue 2 reached");
        let mut s = server(1, 0);
        s.queue.extend((0..1000).map(waiter));
        assert!(!s.queue_full(), "maxqueue 0: unlimited");
    }
}
