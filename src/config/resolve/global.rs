//! The `global` section, and `log` target parsing shared with proxies.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use super::{unsupported, Ctx};
use crate::config::grammar::Line;
use crate::config::model::*;
use crate::config::units::{parse_size, parse_time};

/// Global keywords that only tune TLS, which cannot be used without `ssl` on a bind or server line (refused
/// there); accepted silently.
fn is_ssl_tuning(kw: &str) -> bool {
    kw.starts_with("ssl-")
        || kw.starts_with("tune.ssl.")
        || matches!(
            kw,
            "ca-base" | "crt-base" | "maxsslconn" | "maxsslrate" | "httpclient.ssl.verify" | "httpclient.ssl.ca-file"
        )
}

/// Harmless `tune.*` and performance keywords: accepted, no effect on behaviour.
#[rustfmt::skip]
const HARMLESS: &[&str] = &[
    "tune.maxpollevents", "tune.rcvbuf.client", "tune.rcvbuf.server", "tune.sndbuf.client", "tune.sndbuf.server",
    "tune.chksize", "tune.http.maxhdr", "tune.http.cookielen", "tune.http.logurilen",
    "tune.idletimer", "tune.recv_enough", "tune.buffers.limit", "tune.buffers.reserve", "tune.pattern.cache-size",
    "tune.runqueue-depth", "tune.sched.low-latency", "tune.fd.edge-triggered", "tune.idle-pool.shared",
    "tune.pool-high-fd-ratio", "tune.pool-low-fd-ratio", "tune.max-checks-per-thread", "tune.comp.maxlevel",
    "tune.zlib.memlevel", "tune.zlib.windowsize", "tune.listener.multi-queue", "noepoll", "nopoll", "nokqueue",
    "noevports", "nogetaddrinfo", "busy-polling", "set-dumpable", "insecure-fork-wanted", "insecure-setuid-wanted",
    "max-spread-checks", "maxconnrate", "maxsessrate", "maxcomprate", "maxzlibmem", "mworker-max-reloads",
    "numa-cpu-mapping", "strict-limits", "pp2-never-send-local", "profiling.tasks", "profiling.memory",
    "expose-experimental-directives", "zero-warning", "grace", "cpu-map", "thread-groups", "anonkey",
];

/// Global keywords with an effect, for "did you mean" suggestions.
#[rustfmt::skip]
const GLOBAL_KEYWORDS: &[&str] = &[
    "daemon", "nbproc", "pidfile", "chroot", "user", "group", "uid", "gid", "maxconn", "ulimit-n", "spread-checks",
    "log", "log-tag", "log-send-hostname", "quiet", "debug", "node", "description", "hard-stop-after",
    "tune.bufsize", "tune.maxrewrite", "tune.maxaccept", "tune.pipesize", "maxpipes", "nosplice", "master-worker", "nbthread", "stats",
];

/// Handle one line of the `global` section.
pub(crate) fn keyword(g: &mut Global, line: &Line, ctx: &mut Ctx) {
    if let Err(e) = keyword_inner(g, line, ctx) {
        ctx.alert(&line.pos, e);
    }
}

fn arg<'a>(w: &'a [String], i: usize, what: &str) -> Result<&'a str, String> {
    w.get(i).map(String::as_str).ok_or_else(|| format!("'{}' expects {what} as an argument.", w[0]))
}

fn num<T: std::str::FromStr>(w: &[String], i: usize) -> Result<T, String> {
    let s = arg(w, i, "an integer")?;
    s.parse().map_err(|_| format!("'{}' expects an integer argument, got '{s}'.", w[0]))
}

fn keyword_inner(g: &mut Global, line: &Line, ctx: &mut Ctx) -> Result<(), String> {
    let w = &line.words;
    let kw = w[0].as_str();
    match kw {
        "daemon" => g.daemon = true,
        "nbproc" => {
            let n: usize = num(w, 1)?;
            if n < 1 {
                return Err("'nbproc' expects a strictly positive integer.".into());
            }
            g.nbproc = n;
        }
        "pidfile" => g.pidfile = Some(PathBuf::from(arg(w, 1, "a file name")?)),
        "chroot" => g.chroot = Some(PathBuf::from(arg(w, 1, "a directory")?)),
        "user" => g.user = Some(UserSpec::Name(arg(w, 1, "a user name")?.to_string())),
        "group" => g.group = Some(UserSpec::Name(arg(w, 1, "a group name")?.to_string())),
        "uid" => g.user = Some(UserSpec::Id(num(w, 1)?)),
        "gid" => g.group = Some(UserSpec::Id(num(w, 1)?)),
        "maxconn" => g.maxconn = Some(num(w, 1)?),
        "ulimit-n" => g.ulimit_n = Some(num(w, 1)?),
        "spread-checks" => {
            let n: u32 = num(w, 1)?;
            if n > 50 {
                return Err("'spread-checks' expects a positive integer argument between 0 and 50.".into());
            }
            g.spread_checks = n;
        }
        "log" => match w.get(1).map(String::as_str) {
            Some("global") => return Err("'log global' is only allowed in proxies.".into()),
            _ => g.logs.push(parse_log(&w[1..], &line.pos)?),
        },
        "log-tag" => g.log_tag = Some(arg(w, 1, "a tag")?.to_string()),
        "log-send-hostname" => g.log_send_hostname = Some(w.get(1).cloned().unwrap_or_default()),
        "quiet" => g.quiet = true,
        "debug" => g.debug = true,
        "node" => g.node = Some(arg(w, 1, "a name")?.to_string()),
        "description" => g.description = Some(w[1..].join(" ")),
        "hard-stop-after" => {
            g.hard_stop_after = Some(parse_time(arg(w, 1, "a time")?).map_err(|e| format!("'{kw}': {e}"))?)
        }
        "tune.bufsize" => {
            let v = parse_size(arg(w, 1, "a size")?).map_err(|e| format!("'{kw}': {e}"))?;
            if !(1024..=(1 << 30)).contains(&v) {
                return Err(format!("'{kw}' expects a value between 1024 and 1073741824."));
            }
            g.bufsize = v as usize;
        }
        "tune.maxrewrite" => {
            g.maxrewrite = parse_size(arg(w, 1, "a size")?).map_err(|e| format!("'{kw}': {e}"))? as usize
        }
        "tune.maxaccept" => g.maxaccept = num(w, 1)?,
        "maxpipes" => g.maxpipes = Some(num(w, 1)?),
        "tune.pipesize" => {
            let v = parse_size(arg(w, 1, "a size")?).map_err(|e| format!("'{kw}': {e}"))?;
            if v == 0 || v > i32::MAX as u64 {
                return Err(format!("'{kw}' expects a positive size below 2147483648."));
            }
            g.pipesize = Some(v as usize);
        }
        "nosplice" => g.nosplice = true,
        "master-worker" => {}
        "nbthread" => {
            let _: u32 = num(w, 1)?;
            ctx.warn(
                &line.pos,
                "'nbthread' is accepted but ignored: nbproxy runs single-threaded worker processes (see 'nbproc').",
            );
        }
        "stats" => stats(g, line)?,
        "noreuseport" => return Err(unsupported(kw)),
        _ if kw.starts_with("lua-") || kw.starts_with("tune.lua.") => return Err(unsupported(kw)),
        _ if is_ssl_tuning(kw) => {}
        _ if HARMLESS.contains(&kw) || kw.starts_with("tune.h2.") || kw.starts_with("tune.quic.") => {}
        "setenv"
        | "presetenv"
        | "resetenv"
        | "unsetenv"
        | "external-check"
        | "unix-bind"
        | "server-state-file"
        | "server-state-base"
        | "localpeer"
        | "h1-case-adjust"
        | "h1-case-adjust-file"
        | "uid-map"
        | "ssl-engine"
        | "wurfl-data-file"
        | "51degrees-data-file"
        | "deviceatlas-json-file"
        | "httpclient.resolvers.id"
        | "httpclient.resolvers.prefer"
        | "stats-file"
        | "default-path" => return Err(unsupported(kw)),
        _ => {
            let mut known: Vec<&str> = GLOBAL_KEYWORDS.to_vec();
            known.extend_from_slice(HARMLESS);
            return Err(format!("unknown keyword '{kw}' in 'global' section{}", super::proxy::suggest(kw, &known)));
        }
    }
    Ok(())
}

fn stats(g: &mut Global, line: &Line) -> Result<(), String> {
    let w = &line.words;
    match w.get(1).map(String::as_str) {
        Some("socket") => {
            let addr = arg(w, 2, "an address")?;
            let path = if let Some(p) = addr.strip_prefix("unix@") {
                p
            } else if addr.starts_with('/') {
                addr
            } else if addr.contains(':') || addr.contains('@') {
                return Err(format!("'stats socket {addr}': a stats socket on an inet address is not supported yet"));
            } else {
                return Err(format!(
                    "'stats socket' : missing port number in '{addr}' (a unix socket path must be absolute)"
                ));
            };
            let mut s = StatsSocket {
                pos: line.pos.clone(),
                path: PathBuf::from(path),
                mode: None,
                level: StatsLevel::Operator,
                user: None,
                group: None,
            };
            let mut i = 3;
            while i < w.len() {
                let v = w.get(i + 1).map(String::as_str);
                let need = || v.ok_or_else(|| format!("'stats socket' : '{}' expects an argument", w[i]));
                match w[i].as_str() {
                    "mode" => {
                        s.mode = Some(
                            u32::from_str_radix(need()?, 8)
                                .map_err(|_| format!("'stats socket' : invalid mode '{}'", v.unwrap_or("")))?,
                        )
                    }
                    "level" => {
                        s.level = match need()? {
                            "user" => StatsLevel::User,
                            "operator" => StatsLevel::Operator,
                            "admin" => StatsLevel::Admin,
                            l => {
                                return Err(format!(
                                    "'stats socket' : 'level' only supports 'user', 'operator', and 'admin', got '{l}'"
                                ))
                            }
                        }
                    }
                    "user" => s.user = Some(UserSpec::Name(need()?.to_string())),
                    "group" => s.group = Some(UserSpec::Name(need()?.to_string())),
                    "uid" => {
                        s.user = Some(UserSpec::Id(
                            need()?.parse().map_err(|_| "'stats socket' : 'uid' expects an integer".to_string())?,
                        ))
                    }
                    "gid" => {
                        s.group = Some(UserSpec::Id(
                            need()?.parse().map_err(|_| "'stats socket' : 'gid' expects an integer".to_string())?,
                        ))
                    }
                    "process" | "maxconn" | "name" | "thread" | "backlog" => {
                        need()?;
                    }
                    "expose-fd" => {
                        need()?;
                    }
                    "ssl" | "crt" => return Err(unsupported("ssl")),
                    o => return Err(format!("'stats socket' : unknown keyword '{o}'")),
                }
                i += 2;
            }
            g.stats_sockets.push(s);
        }
        Some("timeout") => {
            g.stats_timeout = parse_time(arg(w, 2, "a time")?).map_err(|e| format!("'stats timeout': {e}"))?
        }
        Some("maxconn") => g.stats_maxconn = num(w, 2)?,
        Some("bind-process") => {}
        Some(o) => {
            return Err(format!("'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{o}')"))
        }
        None => return Err("'stats' expects 'socket', 'maxconn' or 'timeout'".into()),
    }
    Ok(())
}

#[rustfmt::skip]
const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

fn level(s: &str) -> Option<Level> {
    Some(match s {
        "emerg" => Level::Emerg,
        "alert" => Level::Alert,
        "crit" => Level::Crit,
        "err" => Level::Err,
        "warning" => Level::Warning,
        "notice" => Level::Notice,
        "info" => Level::Info,
        "debug" => Level::Debug,
        _ => return None,
    })
}

/// Resolve `HOST[:PORT]` (or `[v6]:port`, `v6` alone) to one socket address; `default_port` when none given.
pub(crate) fn resolve_host(text: &str, default_port: u16, family: Option<u8>) -> Result<SocketAddr, String> {
    let (host, port) = split_host_port(text)?;
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| format!("invalid port '{p}' in '{text}'"))?,
        None => default_port,
    };
    let host = if host.is_empty() || host == "*" {
        if family == Some(6) {
            "::"
        } else {
            "0.0.0.0"
        }
    } else {
        host
    };
    let addrs = (host, port).to_socket_addrs().map_err(|_| format!("could not resolve address '{host}'"))?;
    let mut found = None;
    for a in addrs {
        let ok = match family {
            Some(4) => a.is_ipv4(),
            Some(6) => a.is_ipv6(),
            _ => true,
        };
        if ok
            && (found.is_none() || (family.is_none() && a.is_ipv4() && !found.is_some_and(|f: SocketAddr| f.is_ipv4())))
        {
            found = Some(a);
        }
    }
    found.ok_or_else(|| format!("could not resolve address '{host}'"))
}

/// Split `host:port`, `[v6]:port`, `v6` and `:::port` (the last colon separates the port when the whole string is
/// not an IPv6 address).
pub(crate) fn split_host_port(text: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = text.strip_prefix('[') {
        let end = rest.find(']').ok_or_else(|| format!("missing ']' in '{text}'"))?;
        let host = &rest[..end];
        let tail = &rest[end + 1..];
        return match tail.strip_prefix(':') {
            Some(p) => Ok((host, Some(p))),
            None if tail.is_empty() => Ok((host, None)),
            None => Err(format!("invalid address '{text}'")),
        };
    }
    if text.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok((text, None));
    }
    match text.rfind(':') {
        Some(i) => Ok((&text[..i], Some(&text[i + 1..]))),
        None => Ok((text, None)),
    }
}

/// Parse the words after `log` (not `global`): `ADDR [len N] [format F] [sample R:S] FACILITY [MAX [MIN]]`.
pub(crate) fn parse_log(w: &[String], pos: &Pos) -> Result<LogTarget, String> {
    let addr = w.first().ok_or("'log' expects either <address[:port]> and <facility> or 'global' as arguments.")?;
    let dest = if addr == "stdout" || addr == "fd@1" {
        LogDest::Stdout
    } else if addr == "stderr" || addr == "fd@2" {
        LogDest::Stderr
    } else if let Some(p) = addr.strip_prefix("file@") {
        LogDest::File(PathBuf::from(p))
    } else if let Some(p) = addr.strip_prefix("unix@") {
        LogDest::Unix(PathBuf::from(p))
    } else if addr.starts_with('/') {
        LogDest::Unix(PathBuf::from(addr))
    } else if addr.starts_with("ring@")
        || addr.starts_with("tcp@")
        || addr.starts_with("tcp4@")
        || addr.starts_with("tcp6@")
    {
        return Err(format!("log target '{addr}' is not supported yet"));
    } else {
        let (fam, rest) = if let Some(r) = addr.strip_prefix("udp4@").or_else(|| addr.strip_prefix("ipv4@")) {
            (Some(4), r)
        } else if let Some(r) = addr.strip_prefix("udp6@").or_else(|| addr.strip_prefix("ipv6@")) {
            (Some(6), r)
        } else if let Some(r) = addr.strip_prefix("udp@") {
            (None, r)
        } else {
            (None, addr.as_str())
        };
        LogDest::Udp(resolve_host(rest, 514, fam)?)
    };
    let mut i = 1;
    let mut len = 1024;
    let mut format = LogWire::Rfc3164;
    loop {
        match w.get(i).map(String::as_str) {
            Some("len") => {
                len = w.get(i + 1).and_then(|v| v.parse().ok()).ok_or("'log len' expects an integer")?;
                i += 2;
            }
            Some("format") => {
                format = match w.get(i + 1).map(String::as_str) {
                    Some("rfc3164") => LogWire::Rfc3164,
                    Some("rfc5424") => LogWire::Rfc5424,
                    Some("short") => LogWire::Short,
                    Some("raw") => LogWire::Raw,
                    Some(f) => return Err(format!("log format '{f}' is not supported yet")),
                    None => return Err("'log format' expects a format name".into()),
                };
                i += 2;
            }
            Some("sample") => return Err(unsupported("log sample")),
            _ => break,
        }
    }
    let fac = w.get(i).ok_or("'log' expects <facility> after the address")?;
    let facility =
        FACILITIES.iter().position(|f| f == fac).ok_or_else(|| format!("unknown log facility '{fac}'"))? as u8;
    let max_level = match w.get(i + 1) {
        Some(l) => level(l).ok_or_else(|| format!("unknown optional log level '{l}'"))?,
        None => Level::Debug,
    };
    let min_level = match w.get(i + 2) {
        Some(l) => level(l).ok_or_else(|| format!("unknown optional minimum log level '{l}'"))?,
        None => Level::Emerg,
    };
    if let Some(extra) = w.get(i + 3) {
        return Err(format!("unexpected argument '{extra}' after the log levels"));
    }
    Ok(LogTarget { pos: pos.clone(), dest, facility, max_level, min_level, format, len })
}
