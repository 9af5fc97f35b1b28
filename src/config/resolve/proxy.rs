//! Proxy sections (`defaults`, `frontend`, `backend`, `listen`): the builder, keyword dispatch and capability
//! checks. Option, server/bind and rule keywords live in sibling modules.

use std::time::Duration;

use super::global::parse_log;
use super::{unsupported, Ctx};
use crate::config::grammar::Line;
use crate::config::model::*;
use crate::config::units::parse_time;

/// A `log` line of a proxy before `log global` is expanded.
#[derive(Debug, Clone)]
pub(crate) enum LogSpec {
    Global,
    Target(LogTarget),
}

/// Capability bits: where a keyword may appear.
pub(crate) const D: u8 = 1;
pub(crate) const F: u8 = 2;
pub(crate) const B: u8 = 4;

/// A proxy (or a `defaults` section) being built from its lines.
#[derive(Debug, Clone)]
pub(crate) struct PxBuilder {
    pub px: Proxy,
    pub is_defaults: bool,
    pub def_name: Option<String>,
    /// `default-server` settings, applied to every later `server` line.
    pub defsrv: Server,
    pub logs: Vec<LogSpec>,
    /// `option httpchk` / `http-check …` accumulated.
    pub http_check: HttpCheck,
    pub tcp_checks: Vec<TcpCheckRule>,
    /// The defaults' options, for `default option X`.
    pub def_opts: ProxyOptions,
    /// A `bind` line was refused (so "no bind" is not worth a warning too).
    pub bind_failed: bool,
    /// ACL names whose definition was refused: using them is not reported again.
    pub bad_acls: Vec<String>,
}

/// Every proxy keyword, for "did you mean" suggestions.
#[rustfmt::skip]
pub(crate) const PROXY_KEYWORDS: &[&str] = &[
    "acl", "appsession", "backlog", "balance", "bind", "bind-process", "block", "capture", "clitimeout",
    "compression", "contimeout", "cookie", "default-server", "default_backend", "description", "disabled", "dispatch",
    "email-alert", "enabled", "errorfile", "errorfiles", "errorloc", "errorloc302", "errorloc303", "filter",
    "force-persist", "fullconn", "grace", "hash-type", "http-check", "http-error", "http-request", "http-response",
    "http-reuse", "http-send-name-header", "id", "ignore-persist", "log", "log-format", "log-tag", "maxconn", "mode",
    "monitor", "monitor-net", "monitor-uri", "no", "option", "persist", "rate-limit", "redirect", "redispatch",
    "reqadd", "reqallow", "reqdel", "reqdeny", "reqiallow", "reqidel", "reqideny", "reqipass", "reqirep", "reqisetbe",
    "reqitarpit", "reqpass", "reqrep", "reqsetbe", "reqtarpit", "retries", "rspadd", "rspdel", "rspdeny", "rspidel",
    "rspideny", "rspirep", "rsprep", "server", "server-template", "source", "srvtimeout", "stats", "stick",
    "stick-table", "tcp-check", "tcp-request", "tcp-response", "timeout", "transparent", "unique-id-format",
    "unique-id-header", "use-server", "use_backend", "default", "log-format-sd", "error-log-format", "retry-on",
    "http-after-response", "max-keep-alive-queue", "load-server-state-from-file", "server-state-file-name",
];

fn empty_proxy(kind: ProxyKind, name: String, pos: Pos) -> Proxy {
    Proxy {
        pos,
        name,
        kind,
        id: 0,
        mode: Mode::Tcp,
        disabled: false,
        description: None,
        binds: Vec::new(),
        maxconn: None,
        backlog: None,
        fullconn: None,
        rate_limit_sessions: None,
        servers: Vec::new(),
        dispatch: None,
        balance: Balance::RoundRobin,
        hash_type: HashType::MapBased,
        timeouts: Timeouts::default(),
        retries: 3,
        options: ProxyOptions::default(),
        logs: Vec::new(),
        log_format: LogFormat::Default,
        log_tag: None,
        check: CheckKind::Tcp,
        default_backend: None,
        use_backends: Vec::new(),
        acls: Vec::new(),
        http_request: Vec::new(),
        http_response: Vec::new(),
        tcp_request: Vec::new(),
        tcp_inspect_delay: None,
        legacy_rules: Vec::new(),
        redirects: Vec::new(),
        cookie: None,
        stick: None,
        stats: None,
        errorfiles: Vec::new(),
        monitor_uri: None,
        source: None,
        monitor_net: Vec::new(),
        monitor_fail: Vec::new(),
        captures: Vec::new(),
        unique_id_format: None,
        unique_id_header: None,
        use_servers: Vec::new(),
        http_reuse: HttpReuse::Safe,
    }
}

/// A server with HAProxy's default settings (the `default-server` starting point).
pub(crate) fn default_server() -> Server {
    Server {
        pos: Pos::default(),
        name: String::new(),
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        addr_text: String::new(),
        weight: 1,
        backup: false,
        disabled: false,
        check: false,
        check_port: None,
        check_addr: None,
        inter: Duration::from_secs(2),
        fastinter: None,
        downinter: None,
        rise: 2,
        fall: 3,
        maxconn: 0,
        maxqueue: 0,
        minconn: 0,
        slowstart: None,
        cookie: None,
        send_proxy: None,
        check_send_proxy: false,
        source: None,
        shutdown_on_down: false,
        shutdown_backup_on_up: false,
        id: None,
        track: None,
        redir: None,
        observe: None,
        error_limit: 10,
        on_error: None,
        agent_port: None,
        pool_max_conn: -1,
        pool_purge_delay: std::time::Duration::from_secs(5),
    }
}
use std::net::SocketAddr;

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `; did you mean 'X' maybe ?` when a candidate is close enough.
pub(crate) fn suggest(word: &str, candidates: &[&str]) -> String {
    let best = candidates.iter().map(|c| (distance(word, c), *c)).min();
    match best {
        Some((d, c)) if d <= 2.max(word.len() / 4) && d < word.len() => {
            format!("; did you mean '{c}' maybe ?")
        }
        _ => String::new(),
    }
}

impl PxBuilder {
    /// A fresh `defaults` section.
    pub fn defaults(pos: Pos, name: Option<String>) -> Self {
        PxBuilder {
            px: empty_proxy(ProxyKind::Listen, name.clone().unwrap_or_default(), pos),
            is_defaults: true,
            def_name: name,
            defsrv: default_server(),
            logs: Vec::new(),
            http_check: HttpCheck::default(),
            tcp_checks: Vec::new(),
            def_opts: ProxyOptions::default(),
            bind_failed: false,
            bad_acls: Vec::new(),
        }
    }
    /// `defaults NEW from OLD`: a copy of this defaults section under a new name.
    pub fn renamed_defaults(&self, pos: Pos, name: Option<String>) -> Self {
        let mut b = self.clone();
        b.px.pos = pos;
        b.px.name = name.clone().unwrap_or_default();
        b.def_name = name;
        b
    }
    /// A proxy inheriting this defaults section.
    pub fn new_proxy(&self, kind: ProxyKind, name: String, pos: Pos) -> Self {
        let mut b = self.clone();
        b.is_defaults = false;
        b.def_name = None;
        b.px.kind = kind;
        b.px.name = name;
        b.px.pos = pos;
        b.def_opts = self.px.options.clone();
        b
    }
    /// The section's name (`None` for an anonymous `defaults`).
    pub fn name(&self) -> Option<&str> {
        if self.is_defaults {
            self.def_name.as_deref()
        } else {
            Some(&self.px.name)
        }
    }
    /// Proxy kind.
    pub fn kind(&self) -> ProxyKind {
        self.px.kind
    }
    /// Where the section starts.
    pub fn pos(&self) -> &Pos {
        &self.px.pos
    }
    /// The section name used in messages: `defaults`, `frontend`, …
    pub fn section(&self) -> &'static str {
        if self.is_defaults {
            "defaults"
        } else {
            self.px.kind.as_str()
        }
    }

    /// Is `kw` allowed here? (`caps` = D|F|B bits)
    pub fn check_cap(&self, kw: &str, caps: u8) -> Result<(), String> {
        if self.is_defaults {
            if caps & D == 0 {
                return Err(format!("'{kw}' not allowed in 'defaults' section."));
            }
            return Ok(());
        }
        let have_f = self.px.kind.has_frontend() && caps & F != 0;
        let have_b = self.px.kind.has_backend() && caps & B != 0;
        if have_f || have_b {
            return Ok(());
        }
        let need = if caps & F != 0 { "frontend" } else { "backend" };
        Err(format!(
            "'{kw}' not allowed in {} '{}' which has no {need} capability.",
            self.px.kind.as_str(),
            self.px.name
        ))
    }

    /// Handle one line of this section.
    pub fn keyword(&mut self, line: &Line, ctx: &mut Ctx) {
        if let Err(e) = self.keyword_inner(line, ctx) {
            ctx.alert(&line.pos, e);
        }
    }

    fn keyword_inner(&mut self, line: &Line, ctx: &mut Ctx) -> Result<(), String> {
        let w = &line.words;
        let kw = w[0].as_str();
        let pos = &line.pos;
        let a1 = w.get(1).map(String::as_str);
        if let Some(caps) = caps_of(kw) {
            if let Err(e) = self.check_cap(kw, caps) {
                if self.is_defaults || HARD_CAPS.contains(&kw) {
                    return Err(e);
                }
                // As HAProxy: a keyword for the other side of a proxy is ignored with a warning.
                let need = if caps & F != 0 { "frontend" } else { "backend" };
                ctx.warn(
                    pos,
                    format!(
                        "'{kw}' ignored because {} '{}' has no {need} capability.",
                        self.px.kind.as_str(),
                        self.px.name
                    ),
                );
                return Ok(());
            }
        }
        match kw {
            "mode" => {
                self.check_cap(kw, D | F | B)?;
                self.px.mode = match a1 {
                    Some("tcp") => Mode::Tcp,
                    Some("http") => Mode::Http,
                    Some("health") => Mode::Health,
                    Some(m) => return Err(format!("unknown proxy mode '{m}'.")),
                    None => return Err("'mode' expects one of 'tcp', 'http' or 'health'.".into()),
                }
            }
            "bind" => {
                self.check_cap(kw, F)?;
                if w.len() < 2 {
                    return Err(
                        "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.".into()
                    );
                }
                self.bind_words(&w[1..], pos, ctx);
            }
            "server" | "default-server" | "server-template" => {
                self.check_cap(kw, if kw == "default-server" { D | B } else { B })?;
                self.server_line(line, ctx)?;
            }
            "balance" => {
                self.check_cap(kw, D | B)?;
                self.balance(&w[1..])?;
            }
            "hash-type" => {
                self.check_cap(kw, D | B)?;
                self.px.hash_type = match a1 {
                    Some("map-based") => HashType::MapBased,
                    Some("consistent") => HashType::Consistent,
                    _ => return Err("'hash-type' expects 'map-based' or 'consistent'.".into()),
                };
                if let Some(extra) = w.get(2) {
                    if extra != "sdbm" {
                        return Err(format!("'hash-type' function '{extra}' is not supported yet"));
                    }
                }
            }
            "timeout" => self.timeout(w, ctx, pos)?,
            "contimeout" | "clitimeout" | "srvtimeout" => {
                let d = parse_time(a1.ok_or_else(|| format!("'{kw}' expects an integer value (in milliseconds)"))?)
                    .map_err(|e| format!("'{kw}': {e}"))?;
                self.set_timeout(kw, d, ctx, pos)?;
            }
            "retries" => {
                self.check_cap(kw, D | B)?;
                self.px.retries = parse_num(w, 1)?;
            }
            "option" | "no" | "default" => self.option_line(line, ctx)?,
            "redispatch" => {
                self.check_cap(kw, D | B)?;
                self.px.options.redispatch = true;
            }
            "transparent" => {
                self.check_cap(kw, D | B)?;
                self.px.options.transparent = true;
            }
            "log" => {
                match a1 {
                    Some("global") => self.logs.push(LogSpec::Global),
                    Some(_) => self.logs.push(LogSpec::Target(parse_log(&w[1..], pos)?)),
                    None => {
                        return Err(
                            "'log' expects either <address[:port]> and <facility> or 'global' as arguments.".into()
                        )
                    }
                }
                if self.logs.len() > 1
                    && matches!(self.logs.last(), Some(LogSpec::Global))
                    && self.logs[..self.logs.len() - 1].iter().any(|l| matches!(l, LogSpec::Global))
                {
                    self.logs.pop();
                }
            }
            "log-format" => {
                self.check_cap(kw, D | F)?;
                self.px.log_format = LogFormat::Custom(w[1..].join(" "));
            }
            "log-tag" => self.px.log_tag = Some(a1.ok_or("'log-tag' expects a tag")?.to_string()),
            "maxconn" => {
                self.check_cap(kw, D | F)?;
                self.px.maxconn = Some(parse_num(w, 1)?);
            }
            "backlog" => {
                self.check_cap(kw, D | F)?;
                self.px.backlog = Some(parse_num(w, 1)?);
            }
            "fullconn" => {
                self.check_cap(kw, D | B)?;
                self.px.fullconn = Some(parse_num(w, 1)?);
            }
            "rate-limit" => {
                self.check_cap(kw, D | F)?;
                if a1 != Some("sessions") {
                    return Err("'rate-limit' expects 'sessions' followed by a value.".into());
                }
                self.px.rate_limit_sessions = Some(parse_num(w, 2)?);
            }
            "dispatch" => {
                self.check_cap(kw, B)?;
                let a = a1.ok_or("'dispatch' expects <addr:port> as an argument.")?;
                self.px.dispatch = Some(super::global::resolve_host(a, 0, None)?);
            }
            "cookie" => {
                self.check_cap(kw, D | B)?;
                self.cookie(w)?;
            }
            "default_backend" => {
                self.check_cap(kw, D | F)?;
                self.px.default_backend = Some(a1.ok_or("'default_backend' expects a backend name.")?.to_string());
            }
            "use_backend" => {
                self.check_cap(kw, F)?;
                let name = a1.ok_or("'use_backend' expects a backend name.")?.to_string();
                let cond = self.opt_cond(&w[2..], pos)?;
                self.px.use_backends.push(UseBackend { pos: pos.clone(), backend: name, cond });
            }
            "use-server" => {
                self.check_cap(kw, B)?;
                let name = a1.ok_or("'use-server' expects a server name.")?.to_string();
                let cond = self.opt_cond(&w[2..], pos)?;
                self.px.use_servers.push(UseServer { pos: pos.clone(), server: name, cond });
            }
            "acl" => {
                self.check_cap(kw, F | B)?;
                self.acl(line)?;
            }
            "http-request" | "http-response" | "http-after-response" => {
                self.check_cap(kw, F | B)?;
                self.http_rule(line)?;
            }
            "tcp-request" | "tcp-response" => {
                self.check_cap(kw, F | B)?;
                self.tcp_rule(line)?;
            }
            "block" | "redirect" => {
                self.check_cap(kw, F | B)?;
                if kw == "block" {
                    self.legacy(line)?;
                } else {
                    let r = self.redirect(&w[1..], pos)?;
                    self.px.redirects.push(r);
                }
            }
            _ if is_legacy_rule(kw) => {
                self.check_cap(kw, F | B)?;
                self.legacy(line)?;
            }
            "stick-table" | "stick" => {
                self.check_cap(kw, if kw == "stick" { B } else { F | B })?;
                self.stick(line)?;
            }
            "stats" => self.stats(line)?,
            "errorfile" | "errorloc" | "errorloc302" | "errorloc303" | "http-error" | "errorfiles" => {
                self.errors(line)?
            }
            "monitor-uri" => {
                self.check_cap(kw, D | F)?;
                self.px.monitor_uri = Some(a1.ok_or("'monitor-uri' expects an URI.")?.to_string());
            }
            "monitor" => {
                self.check_cap(kw, F)?;
                if a1 != Some("fail") {
                    return Err("'monitor' expects 'fail' followed by a condition.".into());
                }
                let c = self.opt_cond(&w[2..], pos)?.ok_or("'monitor fail' expects a condition ('if' or 'unless').")?;
                self.px.monitor_fail.push(c);
            }
            "monitor-net" => {
                self.check_cap(kw, D | F)?;
                let net = a1.ok_or("'monitor-net' expects a network.")?;
                let net = IpNet::parse(net).ok_or_else(|| format!("'monitor-net' : invalid network '{net}'."))?;
                self.px.monitor_net.push(net);
            }
            "capture" => {
                self.check_cap(kw, F)?;
                self.capture(w)?;
            }
            "unique-id-format" => {
                self.check_cap(kw, D | F)?;
                self.px.unique_id_format = Some(w[1..].join(" "));
            }
            "unique-id-header" => {
                self.check_cap(kw, D | F)?;
                self.px.unique_id_header = Some(a1.ok_or("'unique-id-header' expects a header name.")?.to_string());
            }
            "http-check" => {
                self.check_cap(kw, D | B)?;
                self.http_check_line(w)?;
            }
            "tcp-check" => {
                self.check_cap(kw, D | B)?;
                self.tcp_check_line(w)?;
            }
            "appsession" => {
                self.check_cap(kw, B)?;
                ctx.warn(pos, "'appsession' is accepted but has no effect (removed in HAProxy 1.6); use 'stick-table' + 'stick on req.cook(...)'.");
            }
            "bind-process" => {
                ctx.warn(pos, "'bind-process' has no effect: every nbproxy worker serves every proxy.");
            }
            "id" => {
                if self.is_defaults {
                    return Err("'id' not allowed in 'defaults' section.".into());
                }
                let id: u32 = parse_num(w, 1)?;
                if id == 0 {
                    return Err("'id' : a custom id must be strictly positive.".into());
                }
                self.px.id = id;
            }
            "description" => self.px.description = Some(w[1..].join(" ")),
            "disabled" => self.px.disabled = true,
            "enabled" => self.px.disabled = false,
            "grace" => {
                parse_time(a1.ok_or("'grace' expects a time.")?).map_err(|e| format!("'grace': {e}"))?;
            }
            "http-reuse" => {
                self.check_cap(kw, D | B)?;
                self.px.http_reuse = match a1 {
                    Some("never") => HttpReuse::Never,
                    Some("safe") => HttpReuse::Safe,
                    Some("aggressive") => HttpReuse::Aggressive,
                    Some("always") => HttpReuse::Always,
                    _ => return Err("'http-reuse' expects 'never', 'safe', 'aggressive' or 'always'.".into()),
                };
            }
            "source" => {
                self.check_cap(kw, D | B)?;
                let a = a1.ok_or("'source' expects <addr>[:<port>] as an argument.")?;
                if let Some(extra) = w.get(2) {
                    return Err(format!("'source' : '{extra}' is not supported yet (only <addr>[:<port>])."));
                }
                self.px.source = Some(super::server::parse_source(a)?);
            }
            "http-send-name-header"
            | "force-persist"
            | "ignore-persist"
            | "persist"
            | "compression"
            | "email-alert"
            | "filter"
            | "retry-on"
            | "load-server-state-from-file"
            | "server-state-file-name"
            | "log-format-sd"
            | "error-log-format"
            | "max-keep-alive-queue"
            | "declare"
            | "external-check" => return Err(unsupported(kw)),
            _ => {
                let section = self.section();
                return Err(format!("unknown keyword '{kw}' in '{section}' section{}", suggest(kw, PROXY_KEYWORDS)));
            }
        }
        Ok(())
    }

    fn timeout(&mut self, w: &[String], ctx: &mut Ctx, pos: &Pos) -> Result<(), String> {
        let name = w.get(1).ok_or("'timeout' expects 'client', 'http-keep-alive', 'http-request', 'server', 'connect', 'check', 'queue', 'tarpit', 'tunnel', 'client-fin' or 'server-fin'.")?;
        let v = w.get(2).ok_or_else(|| format!("'timeout {name}' expects an integer value (in milliseconds)"))?;
        let d = parse_time(v).map_err(|e| format!("'timeout {name}': {e}"))?;
        if let Some(extra) = w.get(3) {
            return Err(format!("'timeout {name}': unexpected extra argument '{extra}'"));
        }
        self.set_timeout(name, d, ctx, pos)
    }

    fn set_timeout(&mut self, name: &str, d: Duration, ctx: &mut Ctx, pos: &Pos) -> Result<(), String> {
        let t = &mut self.px.timeouts;
        let (slot, caps) = match name {
            "connect" | "contimeout" => (&mut t.connect, D | B),
            "client" | "clitimeout" => (&mut t.client, D | F),
            "server" | "srvtimeout" => (&mut t.server, D | B),
            "queue" => (&mut t.queue, D | B),
            "tunnel" => (&mut t.tunnel, D | B),
            "http-request" => (&mut t.http_request, D | F | B),
            "http-keep-alive" => (&mut t.http_keep_alive, D | F | B),
            "check" => (&mut t.check, D | B),
            "tarpit" => (&mut t.tarpit, D | F | B),
            "client-fin" => (&mut t.client_fin, D | F),
            "server-fin" => (&mut t.server_fin, D | B),
            "appsession" => return Err(unsupported("timeout appsession")),
            n => return Err(format!("'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tarpit', 'tunnel', 'client-fin' and 'server-fin' (got '{n}')")),
        };
        *slot = Some(d);
        if !self.is_defaults && self.check_cap(name, caps).is_err() {
            let need = if caps & F != 0 { "frontend" } else { "backend" };
            ctx.warn(
                pos,
                format!(
                    "'timeout {name}' ignored because {} '{}' has no {need} capability.",
                    self.px.kind.as_str(),
                    self.px.name
                ),
            );
        }
        Ok(())
    }

    /// Finish the proxy: expand `log global`, settle the health-check kind.
    pub fn finish(mut self, global_logs: &[LogTarget], ctx: &mut Ctx) -> Proxy {
        let p = &self.px;
        if p.kind.has_frontend() && p.binds.is_empty() && !p.disabled && !self.bind_failed {
            ctx.warn(
                &p.pos,
                format!(
                    "{} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
                    p.kind.as_str(),
                    p.name
                ),
            );
        }
        if p.kind.has_frontend() && p.mode != Mode::Http && matches!(p.log_format, LogFormat::Http { .. }) {
            ctx.warn(
                &p.pos,
                format!(
                    "'option httplog' not usable with {} '{}' (needs 'mode http'). Falling back to 'option tcplog'.",
                    p.kind.as_str(),
                    p.name
                ),
            );
            self.px.log_format = LogFormat::Tcp;
        }
        for l in std::mem::take(&mut self.logs) {
            match l {
                LogSpec::Global => self.px.logs.extend(global_logs.iter().cloned()),
                LogSpec::Target(t) => self.px.logs.push(t),
            }
        }
        match &mut self.px.check {
            CheckKind::Http(h) => *h = self.http_check.clone(),
            CheckKind::TcpCheck(r) => *r = self.tcp_checks.clone(),
            _ => {}
        }
        self.px
    }
}

/// Keywords whose capability mismatch is an error rather than HAProxy's "ignored" warning: they would change
/// what the proxy is.
const HARD_CAPS: &[&str] = &["bind", "server", "server-template", "use_backend", "dispatch"];

/// Where a keyword may appear (D = defaults, F = frontend side, B = backend side); `None` = anywhere.
fn caps_of(kw: &str) -> Option<u8> {
    Some(match kw {
        "bind" | "use_backend" | "monitor" | "capture" => F,
        "server" | "server-template" | "dispatch" | "use-server" | "appsession" | "stick" => B,
        "default-server" | "balance" | "hash-type" | "retries" | "redispatch" | "transparent" | "fullconn"
        | "cookie" | "http-check" | "tcp-check" | "http-reuse" | "contimeout" | "srvtimeout" => D | B,
        "log-format" | "maxconn" | "backlog" | "rate-limit" | "default_backend" | "monitor-uri" | "monitor-net"
        | "unique-id-format" | "unique-id-header" | "clitimeout" => D | F,
        "acl"
        | "http-request"
        | "http-response"
        | "http-after-response"
        | "tcp-request"
        | "tcp-response"
        | "block"
        | "redirect"
        | "stick-table"
        | "id" => F | B,
        _ if is_legacy_rule(kw) => F | B,
        _ => return None,
    })
}

/// `reqadd`, `rspirep`, … (not `block`).
pub(crate) fn is_legacy_rule(kw: &str) -> bool {
    matches!(
        kw,
        "reqadd"
            | "reqdel"
            | "reqidel"
            | "reqrep"
            | "reqirep"
            | "reqallow"
            | "reqiallow"
            | "reqdeny"
            | "reqideny"
            | "reqpass"
            | "reqipass"
            | "reqtarpit"
            | "reqitarpit"
            | "reqsetbe"
            | "reqisetbe"
            | "rspadd"
            | "rspdel"
            | "rspidel"
            | "rsprep"
            | "rspirep"
            | "rspdeny"
            | "rspideny"
    )
}

/// Parse word `i` as an integer, with HAProxy's message.
pub(crate) fn parse_num<T: std::str::FromStr>(w: &[String], i: usize) -> Result<T, String> {
    let s = w.get(i).ok_or_else(|| format!("'{}' expects an integer argument.", w[0]))?;
    s.parse().map_err(|_| format!("'{}' expects an integer argument, got '{s}'.", w[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("balence", PROXY_KEYWORDS), "; did you mean 'balance' maybe ?");
        assert_eq!(suggest("zzzzzzzzzz", PROXY_KEYWORDS), "");
    }
}
