//! `bind` lines (address lists, port ranges, options) and `server` / `default-server` / `server-template`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::global::{resolve_host, split_host_port};
use super::proxy::PxBuilder;
use super::{unsupported, Ctx};
use crate::config::grammar::Line;
use crate::config::model::*;
use crate::config::units::parse_time;

/// Bind/server keywords that belong to TLS.
#[rustfmt::skip]
const SSL_WORDS: &[&str] = &[
    "ssl", "crt", "crt-list", "ca-file", "crl-file", "verify", "sni", "alpn", "npn", "ciphers", "ciphersuites",
    "curves", "ecdhe", "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "force-sslv3", "force-tlsv10",
    "force-tlsv11", "force-tlsv12", "force-tlsv13", "ssl-min-ver", "ssl-max-ver", "check-ssl", "check-sni",
    "check-alpn", "verifyhost", "strict-sni", "ssl-reuse", "no-ssl-reuse", "allow-0rtt", "ca-sign-file",
    "generate-certificates", "tls-ticket-keys", "no-tls-tickets", "prefer-client-ciphers", "ca-verify-file",
    "ca-ignore-err", "crt-ignore-err", "sigalgs", "client-sigalgs", "quic-cc-algo", "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
];

/// Expand one comma-separated `bind` address list.
pub fn parse_bind_addrs(text: &str) -> Result<Vec<ListenAddr>, String> {
    let mut out = Vec::new();
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("empty address in '{text}'"));
        }
        if let Some(n) = item.strip_prefix("fd@") {
            out.push(ListenAddr::Fd(n.parse().map_err(|_| format!("invalid file descriptor '{n}' in '{item}'"))?));
            continue;
        }
        if let Some(p) = item.strip_prefix("unix@") {
            out.push(ListenAddr::Unix(PathBuf::from(p)));
            continue;
        }
        if item.starts_with('/') {
            out.push(ListenAddr::Unix(PathBuf::from(item)));
            continue;
        }
        if item.starts_with("abns@")
            || item.starts_with("sockpair@")
            || item.starts_with("quic")
            || item.starts_with("udp")
            || item.starts_with("uxst@")
            || item.starts_with("uxdg@")
        {
            let scheme = item.split('@').next().unwrap_or(item);
            return Err(format!("'{scheme}@' addresses are not supported yet"));
        }
        let (fam, rest) = if let Some(r) = item.strip_prefix("ipv4@").or_else(|| item.strip_prefix("tcp4@")) {
            (Some(4), r)
        } else if let Some(r) = item.strip_prefix("ipv6@").or_else(|| item.strip_prefix("tcp6@")) {
            (Some(6), r)
        } else if let Some(r) = item.strip_prefix("tcp@") {
            (None, r)
        } else {
            (None, item)
        };
        // A bind always has a port: the last colon separates it even from an unbracketed IPv6 address.
        let (host, port) = match rest.starts_with('[') {
            true => split_host_port(rest)?,
            false => match rest.rfind(':') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            },
        };
        let port = port.filter(|p| !p.is_empty()).ok_or_else(|| format!("missing port number: '{item}'"))?;
        let (lo, hi) = match port.split_once('-') {
            Some((a, b)) => (a, b),
            None => (port, port),
        };
        let lo: u16 = lo.parse().map_err(|_| format!("invalid port '{port}' in '{item}'"))?;
        let hi: u16 = hi.parse().map_err(|_| format!("invalid port '{port}' in '{item}'"))?;
        if lo == 0 || hi < lo {
            return Err(format!("invalid port range '{port}' in '{item}'"));
        }
        let base = resolve_host(host, 0, fam).map_err(|e| format!("{e} in '{item}'"))?;
        for p in lo..=hi {
            out.push(ListenAddr::Inet(SocketAddr::new(base.ip(), p)));
        }
    }
    Ok(out)
}

impl PxBuilder {
    /// `bind ADDRS [options]` (also the 1.4 section-line addresses). Errors are reported, not returned.
    pub(crate) fn bind_words(&mut self, w: &[String], pos: &Pos, ctx: &mut Ctx) {
        match self.bind_inner(w, pos) {
            Ok(b) => self.px.binds.push(b),
            Err(e) => {
                self.bind_failed = true;
                ctx.alert(pos, e)
            }
        }
    }

    fn bind_inner(&mut self, w: &[String], pos: &Pos) -> Result<Bind, String> {
        let addrs = parse_bind_addrs(&w[0]).map_err(|e| format!("'bind {}' : {e}", w[0]))?;
        let mut b = Bind {
            pos: pos.clone(),
            addrs,
            name: None,
            backlog: None,
            maxconn: None,
            defer_accept: false,
            transparent: false,
            v4v6: false,
            v6only: false,
            interface: None,
            mss: None,
            id: None,
            accept_proxy: false,
        };
        let mut i = 1;
        while i < w.len() {
            let kw = w[i].as_str();
            let val = || w.get(i + 1).ok_or_else(|| format!("'bind {}' : '{kw}' expects an argument", w[0]));
            let num = || -> Result<u32, String> {
                let v = val()?;
                v.parse().map_err(|_| format!("'bind {}' : '{kw}' expects an integer, got '{v}'", w[0]))
            };
            let mut consumed = 1;
            match kw {
                "backlog" => b.backlog = Some(num()?),
                "maxconn" => b.maxconn = Some(num()?),
                "mss" => {
                    b.mss = Some(
                        val()?
                            .trim_start_matches('-')
                            .parse()
                            .map_err(|_| format!("'bind' : invalid mss '{}'", w[i + 1]))?,
                    )
                }
                "id" => b.id = Some(num()?),
                "name" => b.name = Some(val()?.clone()),
                "interface" => b.interface = Some(val()?.clone()),
                "defer-accept" | "transparent" | "v4v6" | "v6only" | "accept-proxy" | "tfo" => {
                    consumed = 0;
                    match kw {
                        "defer-accept" => b.defer_accept = true,
                        "transparent" => b.transparent = true,
                        "v4v6" => b.v4v6 = true,
                        "v6only" => b.v6only = true,
                        "accept-proxy" => b.accept_proxy = true,
                        _ => {}
                    }
                }
                "process" | "thread" | "mode" | "user" | "group" | "uid" | "gid" | "level" | "severity-output"
                | "nice" => {
                    val()?;
                }
                "namespace" | "accept-netscaler-cip" | "proto" | "expose-fd" | "gid-x" => {
                    return Err(unsupported(&format!("bind {kw}")))
                }
                _ if SSL_WORDS.contains(&kw) => return Err(unsupported("ssl")),
                _ => return Err(format!("'bind {}' unknown keyword '{kw}'.", w[0])),
            }
            i += 1 + consumed;
        }
        Ok(b)
    }

    /// `server`, `default-server`, `server-template`.
    pub(crate) fn server_line(&mut self, line: &Line, ctx: &mut Ctx) -> Result<(), String> {
        let w = &line.words;
        let kw = w[0].as_str();
        if kw == "default-server" {
            let mut s = self.defsrv.clone();
            apply_server_opts(&mut s, &w[1..], true, ctx, &line.pos)?;
            self.defsrv = s;
            return Ok(());
        }
        let (names, addr_i) = if kw == "server-template" {
            let prefix =
                w.get(1).ok_or("'server-template' expects <prefix> <nb | range> <fqdn>[:<port>] as arguments.")?;
            let range =
                w.get(2).ok_or("'server-template' expects <prefix> <nb | range> <fqdn>[:<port>] as arguments.")?;
            let (lo, hi) = match range.split_once('-') {
                Some((a, b)) => (a.parse::<u32>(), b.parse::<u32>()),
                None => (Ok(1), range.parse::<u32>()),
            };
            let (Ok(lo), Ok(hi)) = (lo, hi) else {
                return Err(format!("'server-template': invalid range '{range}'"));
            };
            if lo == 0 || hi < lo {
                return Err(format!("'server-template': invalid range '{range}'"));
            }
            ((lo..=hi).map(|n| format!("{prefix}{n}")).collect::<Vec<_>>(), 3)
        } else {
            let name = w.get(1).ok_or("'server' expects <name> and <addr>[:<port>] as arguments.")?;
            (vec![name.clone()], 2)
        };
        if w.iter().any(|x| x == "resolvers") {
            return Err(unsupported("resolvers"));
        }
        if let Some(x) = w.iter().skip(addr_i + 1).find(|x| SSL_WORDS.contains(&x.as_str())) {
            let _ = x;
            return Err(unsupported("ssl"));
        }
        let addr_text =
            w.get(addr_i).ok_or_else(|| format!("'{kw}' expects <name> and <addr>[:<port>] as arguments."))?;
        let addr = server_addr(addr_text)?;
        for name in names {
            let mut s = self.defsrv.clone();
            s.pos = line.pos.clone();
            s.name = name;
            s.addr = addr;
            s.addr_text = addr_text.clone();
            apply_server_opts(&mut s, &w[addr_i + 1..], false, ctx, &line.pos)?;
            self.px.servers.push(s);
        }
        Ok(())
    }
}

/// A server address: `[ipv4@|ipv6@]HOST[:PORT]`, port 0 when absent; resolved now.
fn server_addr(text: &str) -> Result<SocketAddr, String> {
    let (fam, rest) = if let Some(r) = text.strip_prefix("ipv4@") {
        (Some(4), r)
    } else if let Some(r) = text.strip_prefix("ipv6@") {
        (Some(6), r)
    } else if let Some(r) = text.strip_prefix("tcp@") {
        (None, r)
    } else if text.starts_with("unix@")
        || text.starts_with('/')
        || text.starts_with("abns@")
        || text.starts_with("sockpair@")
    {
        return Err(format!("server address '{text}': unix socket servers are not supported yet"));
    } else {
        (None, text)
    };
    let (host, port) = split_host_port(rest)?;
    if let Some(p) = port {
        if p.starts_with('+') || p.starts_with('-') {
            return Err(format!("server address '{text}': relative ports are not supported yet"));
        }
    }
    if host.is_empty() {
        return Err(format!("server address '{text}': missing address"));
    }
    resolve_host(rest, 0, fam).map_err(|e| format!("could not resolve address '{text}' : {e}"))
}

fn apply_server_opts(s: &mut Server, w: &[String], is_default: bool, ctx: &mut Ctx, pos: &Pos) -> Result<(), String> {
    let mut i = 0;
    while i < w.len() {
        let kw = w[i].as_str();
        let val = || w.get(i + 1).map(String::as_str).ok_or_else(|| format!("'{kw}' expects an argument."));
        let num = || -> Result<u32, String> {
            let v = val()?;
            v.parse().map_err(|_| format!("'{kw}' expects an integer argument, got '{v}'."))
        };
        let time = || -> Result<std::time::Duration, String> { parse_time(val()?).map_err(|e| format!("'{kw}': {e}")) };
        let mut takes = true;
        match kw {
            "check" | "backup" | "disabled" | "enabled" | "send-proxy" | "no-check" | "no-backup" | "no-send-proxy"
            | "non-stick" | "stick" | "send-proxy-v2" | "no-send-proxy-v2" | "check-send-proxy" => {
                takes = false;
                match kw {
                    "check" => s.check = true,
                    "no-check" => s.check = false,
                    "backup" => s.backup = true,
                    "no-backup" => s.backup = false,
                    "disabled" => s.disabled = true,
                    "enabled" => s.disabled = false,
                    "send-proxy" => s.send_proxy = Some(crate::proxy_proto::Version::V1),
                    "send-proxy-v2" => s.send_proxy = Some(crate::proxy_proto::Version::V2),
                    "no-send-proxy" | "no-send-proxy-v2" => s.send_proxy = None,
                    "check-send-proxy" => s.check_send_proxy = true,
                    _ => {}
                }
            }
            "port" => {
                s.check_port = Some(u16::try_from(num()?).map_err(|_| "'port' expects a port number.".to_string())?)
            }
            "addr" => {
                s.check_addr = Some(
                    val()?
                        .parse::<IpAddr>()
                        .map_err(|_| format!("'addr' expects an IP address, got '{}'.", w[i + 1]))?,
                )
            }
            "inter" => s.inter = time()?,
            "fastinter" => s.fastinter = Some(time()?),
            "downinter" => s.downinter = Some(time()?),
            "rise" | "fall" => {
                let n = num()?;
                if n == 0 {
                    return Err(format!("'{kw}' has to be > 0."));
                }
                if kw == "rise" {
                    s.rise = n;
                } else {
                    s.fall = n;
                }
            }
            "weight" => {
                let n = num()?;
                if n > 256 {
                    return Err(format!("weight of server '{}' must be between 0 and 256 (got {n}).", s.name));
                }
                s.weight = n;
            }
            "maxconn" => s.maxconn = num()?,
            "maxqueue" => s.maxqueue = num()?,
            "minconn" => s.minconn = num()?,
            "slowstart" => s.slowstart = Some(time()?),
            "cookie" => s.cookie = Some(val()?.to_string()),
            "id" => {
                if is_default {
                    return Err("'id' is not allowed in 'default-server'.".into());
                }
                s.id = Some(num()?)
            }
            "track" => s.track = Some(val()?.to_string()),
            "redir" => s.redir = Some(val()?.to_string()),
            "observe" => {
                let v = val()?;
                if v != "layer4" && v != "layer7" {
                    return Err(format!("'observe' expects 'layer4' or 'layer7', got '{v}'."));
                }
                s.observe = Some(v.to_string());
            }
            "error-limit" => s.error_limit = num()?,
            "on-marked-down" => match val()? {
                "shutdown-sessions" => s.shutdown_on_down = true,
                v => return Err(format!("'on-marked-down' expects 'shutdown-sessions', got '{v}'.")),
            },
            "on-marked-up" => match val()? {
                "shutdown-backup-sessions" => s.shutdown_backup_on_up = true,
                v => return Err(format!("'on-marked-up' expects 'shutdown-backup-sessions', got '{v}'.")),
            },
            "on-error" => {
                let v = val()?;
                if !matches!(v, "fastinter" | "fail-check" | "sudden-death" | "mark-down") {
                    return Err(format!(
                        "'on-error' expects 'fastinter', 'fail-check', 'sudden-death' or 'mark-down', got '{v}'."
                    ));
                }
                s.on_error = Some(v.to_string());
            }
            "agent-port" => {
                s.agent_port =
                    Some(u16::try_from(num()?).map_err(|_| "'agent-port' expects a port number.".to_string())?)
            }
            "agent-check" | "agent-send" | "agent-inter" | "agent-addr" => {
                if kw == "agent-check" {
                    takes = false;
                } else {
                    val()?;
                }
                ctx.warn(pos, format!("'{kw}' is accepted but agent checks are not performed by nbproxy."));
            }
            "resolve-prefer" | "resolve-net" | "resolve-opts" | "init-addr" | "pool-max-conn" | "pool-purge-delay"
            | "max-reuse" | "tcp-ut" | "proto" | "namespace" => {
                if kw == "pool-max-conn" {
                    let v = val()?;
                    s.pool_max_conn = v
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n >= -1)
                        .ok_or_else(|| format!("'pool-max-conn' expects -1 or a positive integer, got '{v}'."))?;
                } else if kw == "pool-purge-delay" {
                    s.pool_purge_delay = time()?;
                } else if matches!(kw, "resolve-prefer" | "init-addr" | "max-reuse") {
                    val()?;
                } else {
                    return Err(unsupported(kw));
                }
            }
            "resolvers" => return Err(unsupported("resolvers")),
            "source" => s.source = Some(parse_source(val()?)?),
            "usesrc" | "socks4" | "set-proxy-v2-tlv-fmt" | "ws" | "proxy-v2-options" | "log-proto" => {
                return Err(unsupported(kw))
            }
            _ if SSL_WORDS.contains(&kw) => return Err(unsupported("ssl")),
            _ => {
                return Err(format!(
                    "unknown keyword '{kw}' on '{}' line.",
                    if is_default { "default-server" } else { "server" }
                ))
            }
        }
        i += if takes { 2 } else { 1 };
    }
    Ok(())
}

/// `source ADDR[:PORT]`: `10.0.0.1`, `10.0.0.1:0`, `[2001:db8::1]:0`, `2001:db8::1`, `*` (port 0: any).
pub(crate) fn parse_source(text: &str) -> Result<SocketAddr, String> {
    resolve_host(text, 0, None).map_err(|e| format!("'source' : {e}."))
}
