//! `option …` lines, `balance`, `cookie`, `stats`, error pages, captures, stick tables and health-check rules.

use super::proxy::{parse_num, PxBuilder, B, D, F};
use super::{unsupported, Ctx};
use crate::config::grammar::Line;
use crate::config::model::*;
use crate::config::units::parse_time;

/// Boolean options, by name.
fn bool_opt<'a>(o: &'a mut ProxyOptions, name: &str) -> Option<&'a mut bool> {
    Some(match name {
        "redispatch" => &mut o.redispatch,
        "allbackups" => &mut o.allbackups,
        "persist" => &mut o.persist,
        "abortonclose" => &mut o.abortonclose,
        "dontlognull" => &mut o.dontlognull,
        "dontlog-normal" => &mut o.dontlog_normal,
        "log-separate-errors" => &mut o.log_separate_errors,
        "logasap" => &mut o.logasap,
        "log-health-checks" => &mut o.log_health_checks,
        "tcpka" => &mut o.tcpka,
        "clitcpka" => &mut o.clitcpka,
        "srvtcpka" => &mut o.srvtcpka,
        "nolinger" => &mut o.nolinger,
        "prefer-last-server" => &mut o.prefer_last_server,
        "splice-auto" => &mut o.splice_auto,
        "splice-request" => &mut o.splice_request,
        "splice-response" => &mut o.splice_response,
        "http-pretend-keepalive" => &mut o.http_pretend_keepalive,
        "checkcache" => &mut o.checkcache,
        "accept-invalid-http-request" => &mut o.accept_invalid_http_request,
        "accept-invalid-http-response" => &mut o.accept_invalid_http_response,
        "http-use-proxy-header" => &mut o.http_use_proxy_header,
        "http-no-delay" => &mut o.http_no_delay,
        "independent-streams" | "independant-streams" => &mut o.independent_streams,
        "transparent" => &mut o.transparent,
        "contstats" => &mut o.contstats,
        "socket-stats" => &mut o.socket_stats,
        "tcp-smart-accept" => &mut o.tcp_smart_accept,
        "tcp-smart-connect" => &mut o.tcp_smart_connect,
        _ => return None,
    })
}

/// Options accepted with no effect on nbproxy's behaviour (performance hints or already the default).
#[rustfmt::skip]
const NOOP_OPTIONS: &[&str] = &[
    "http-buffer-request",
    "disable-h2-upgrade",
    "http-ignore-probes",
    "dontlog-normal-x",
    "idle-close-on-response",
];

/// Every option name, for suggestions.
#[rustfmt::skip]
const OPTION_NAMES: &[&str] = &[
    "redispatch", "allbackups", "persist", "abortonclose", "dontlognull", "dontlog-normal", "log-separate-errors",
    "logasap", "log-health-checks", "tcpka", "clitcpka", "srvtcpka", "nolinger", "splice-auto", "splice-request",
    "splice-response", "http-pretend-keepalive", "checkcache", "accept-invalid-http-request",
    "accept-invalid-http-response", "http-use-proxy-header", "http-no-delay", "independent-streams", "transparent",
    "contstats", "socket-stats", "tcp-smart-accept", "tcp-smart-connect", "httplog", "tcplog", "httpchk",
    "ssl-hello-chk", "smtpchk", "mysql-check", "redis-check", "ldap-check", "pgsql-check", "tcp-check", "forwardfor",
    "originalto", "http-keep-alive", "http-server-close", "httpclose", "forceclose", "http-tunnel",
    "http-buffer-request",
];

impl PxBuilder {
    /// `[no|default] option NAME [args]`.
    pub(crate) fn option_line(&mut self, line: &Line, ctx: &mut Ctx) -> Result<(), String> {
        let w = &line.words;
        let (prefix, rest) = match w[0].as_str() {
            "no" | "default" => (Some(w[0].as_str()), &w[1..]),
            _ => (None, &w[..]),
        };
        match rest.first().map(String::as_str) {
            Some("option") => {}
            Some("log") if prefix == Some("no") => {
                self.logs.clear();
                return Ok(());
            }
            Some(k) => return Err(format!("'{}' only supports 'option' (got '{k}')", w[0])),
            None => return Err(format!("'{}' expects 'option' and an option name", w[0])),
        }
        let name = rest.get(1).ok_or("'option' expects an option name.")?.as_str();
        let args = &rest[2..];
        if prefix == Some("default") {
            if self.is_defaults {
                return Err("'default option' not allowed in 'defaults' section.".into());
            }
            let def = self.def_opts.clone();
            if let (Some(dst), Some(src)) = (bool_opt(&mut self.px.options, name), bool_opt(&mut def.clone(), name)) {
                *dst = *src;
                return Ok(());
            }
            return Err(format!("'default option {name}' is only supported for boolean options"));
        }
        let on = prefix.is_none();
        if let Some(b) = bool_opt(&mut self.px.options, name) {
            *b = on;
            if let Some(extra) = args.first() {
                return Err(format!("'option {name}' does not take any argument (got '{extra}')."));
            }
            return Ok(());
        }
        let o = &mut self.px.options;
        match name {
            "httpclose" | "forceclose" => {
                o.http_conn_mode = if on { HttpConnMode::Close } else { HttpConnMode::KeepAlive }
            }
            "http-server-close" => {
                o.http_conn_mode = if on { HttpConnMode::ServerClose } else { HttpConnMode::KeepAlive }
            }
            "http-keep-alive" => o.http_conn_mode = HttpConnMode::KeepAlive,
            "http-tunnel" => o.http_conn_mode = if on { HttpConnMode::Tunnel } else { HttpConnMode::KeepAlive },
            "forwardfor" | "originalto" => {
                let v = if on { Some(forward_opts(name, args)?) } else { None };
                if name == "forwardfor" {
                    o.forwardfor = v;
                } else {
                    o.originalto = v;
                }
            }
            "httplog" => {
                self.px.log_format = match (on, args.first().map(String::as_str)) {
                    (false, _) => LogFormat::Default,
                    (true, None) => LogFormat::Http { clf: false },
                    (true, Some("clf")) => LogFormat::Http { clf: true },
                    (true, Some(a)) => return Err(format!("'option httplog' only supports 'clf' (got '{a}').")),
                }
            }
            "tcplog" => self.px.log_format = if on { LogFormat::Tcp } else { LogFormat::Default },
            "httpchk" | "ssl-hello-chk" | "smtpchk" | "mysql-check" | "redis-check" | "ldap-check" | "pgsql-check"
            | "tcp-check" => {
                self.check_cap(name, D | B)?;
                if !on {
                    self.px.check = CheckKind::Tcp;
                    return Ok(());
                }
                self.px.check = match name {
                    "httpchk" => {
                        let h = &mut self.http_check;
                        match args.len() {
                            0 => {}
                            1 => h.uri = args[0].clone(),
                            _ => {
                                h.method = args[0].clone();
                                h.uri = args[1].clone();
                                if args.len() > 2 {
                                    h.version = args[2..].join(" ");
                                }
                            }
                        }
                        CheckKind::Http(HttpCheck::default())
                    }
                    "ssl-hello-chk" => CheckKind::SslHello,
                    "smtpchk" => match args {
                        [] => CheckKind::Smtp { verb: "HELO".into(), domain: "localhost".into() },
                        [v, d, ..] if v == "HELO" || v == "EHLO" => {
                            CheckKind::Smtp { verb: v.clone(), domain: d.clone() }
                        }
                        _ => CheckKind::Smtp { verb: "HELO".into(), domain: "localhost".into() },
                    },
                    "mysql-check" => match args {
                        [] => CheckKind::Mysql { user: None },
                        [u, name, ..] if u == "user" => CheckKind::Mysql { user: Some(name.clone()) },
                        _ => return Err("'option mysql-check' only supports 'user <name> [post-41]'.".into()),
                    },
                    "pgsql-check" => match args {
                        [u, name, ..] if u == "user" => CheckKind::Pgsql { user: Some(name.clone()) },
                        _ => return Err("'option pgsql-check' expects 'user <name>'.".into()),
                    },
                    "redis-check" => CheckKind::Redis,
                    "ldap-check" => CheckKind::Ldap,
                    _ => CheckKind::TcpCheck(Vec::new()),
                };
            }
            n if NOOP_OPTIONS.contains(&n) => {}
            "http_proxy"
            | "external-check"
            | "spop-check"
            | "h1-case-adjust-bogus-client"
            | "h1-case-adjust-bogus-server"
            | "http-restrict-req-hdr-names"
            | "forwarded"
            | "httpslog"
            | "smtpchk-x"
            | "log-separate-errors-x" => return Err(unsupported(&format!("option {n}", n = name))),
            _ => {
                let _ = ctx;
                return Err(format!("unknown option '{name}'{}", super::proxy::suggest(name, OPTION_NAMES)));
            }
        }
        Ok(())
    }

    /// `balance ALGO [args]`.
    pub(crate) fn balance(&mut self, w: &[String]) -> Result<(), String> {
        // 1.4: a bare `balance` means roundrobin.
        let algo = w.first().map(String::as_str).unwrap_or("roundrobin");
        let args = w.get(1..).unwrap_or(&[]);
        self.px.balance = match algo {
            "roundrobin" => Balance::RoundRobin,
            "static-rr" => Balance::StaticRr,
            "leastconn" => Balance::LeastConn,
            "first" => Balance::First,
            "source" => Balance::Source,
            "random" => {
                if let Some(a) = args.first() {
                    if a.parse::<u32>().is_err() {
                        return Err(format!("'balance random' expects an integer draw count (got '{a}')."));
                    }
                }
                Balance::Random
            }
            "uri" => {
                let (mut whole, mut len, mut depth) = (false, None, None);
                let mut i = 0;
                while i < args.len() {
                    match args[i].as_str() {
                        "whole" => whole = true,
                        "len" | "depth" => {
                            let v: usize = args.get(i + 1).and_then(|v| v.parse().ok()).ok_or_else(|| format!("'balance uri {}' expects a positive integer.", args[i]))?;
                            if args[i] == "len" {
                                len = Some(v);
                            } else {
                                depth = Some(v);
                            }
                            i += 1;
                        }
                        "path-only" => {}
                        a => return Err(format!("'balance uri' only accepts parameters 'whole', 'len' and 'depth' (got '{a}').")),
                    }
                    i += 1;
                }
                Balance::Uri { whole, len, depth }
            }
            "url_param" => {
                let name = args.first().ok_or("'balance url_param' requires an URL parameter name.")?.clone();
                let mut check_post = None;
                if args.get(1).map(String::as_str) == Some("check_post") {
                    check_post = Some(48);
                    if let Some(v) = args.get(2) {
                        check_post = Some(v.trim_start_matches("max_wait=").parse().map_err(|_| format!("'balance url_param check_post' expects a number (got '{v}')."))?);
                    }
                }
                Balance::UrlParam { name, check_post }
            }
            "rdp-cookie" => Balance::RdpCookie(None),
            _ if algo.starts_with("hdr(") && algo.ends_with(')') => {
                let name = algo[4..algo.len() - 1].to_string();
                if name.is_empty() {
                    return Err("'balance hdr()' requires a header name.".into());
                }
                Balance::Hdr { name, use_domain_only: args.first().map(String::as_str) == Some("use_domain_only") }
            }
            _ if algo.starts_with("rdp-cookie(") && algo.ends_with(')') => Balance::RdpCookie(Some(algo[11..algo.len() - 1].to_string())),
            "hash" | "sticky" | "leastconn-x" => return Err(unsupported(&format!("balance {algo}"))),
            _ => return Err(format!("'balance' only supports 'roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', 'url_param', 'hdr(name)', 'random' and 'rdp-cookie(name)' options (got '{algo}').")),
        };
        Ok(())
    }

    /// `stats …` in a proxy.
    pub(crate) fn stats(&mut self, line: &Line) -> Result<(), String> {
        let w = &line.words;
        let sub = w.get(1).map(String::as_str).unwrap_or("");
        if sub == "admin" || sub == "http-request" {
            self.check_cap("stats", F | B)?;
        }
        let a2 = w.get(2).map(String::as_str);
        let need = || a2.ok_or_else(|| format!("'stats {sub}' expects an argument."));
        if sub == "bind-process" {
            return Ok(());
        }
        if sub == "socket" || sub == "timeout" || sub == "maxconn" {
            return Err(format!("'stats {sub}' is only allowed in 'global' section"));
        }
        let cond = if matches!(sub, "admin" | "http-request") { self.opt_cond(&w[2..], &line.pos)? } else { None };
        let st = self.px.stats.get_or_insert_with(|| StatsConf {
            uri: "/haproxy?stats".into(),
            realm: "HAProxy Statistics".into(),
            ..Default::default()
        });
        match sub {
            "enable" => {}
            "disable" => {}
            "uri" => st.uri = need()?.to_string(),
            "realm" => st.realm = w[2..].join(" "),
            "auth" => {
                let (u, p) = need()?.split_once(':').ok_or("'stats auth' expects <user>:<password>.")?;
                st.auth.push((u.to_string(), p.to_string()));
            }
            "refresh" => st.refresh = Some(parse_time(need()?).map_err(|e| format!("'stats refresh': {e}"))?),
            "hide-version" => st.hide_version = true,
            "show-legends" => st.show_legends = true,
            "show-node" => st.show_node = Some(a2.unwrap_or("").to_string()),
            "show-desc" => st.show_desc = Some(w[2..].join(" ")),
            "scope" => st.scope.push(need()?.to_string()),
            "admin" => {
                st.admin = Some(cond.ok_or("'stats admin' requires either 'if' or 'unless' followed by a condition.")?);
            }
            "http-request" => {
                let rule = self.http_rule_words(&w[1..], &line.pos)?;
                if let Some(st) = &mut self.px.stats {
                    st.http_request.push(rule);
                }
            }
            "" => return Err("'stats' expects 'admin', 'auth', 'enable', 'hide-version', 'http-request', 'realm', 'refresh', 'scope', 'show-desc', 'show-legends', 'show-node' or 'uri'.".into()),
            o => {
                const SUBS: &[&str] = &["admin", "auth", "enable", "hide-version", "http-request", "realm", "refresh", "scope", "show-desc", "show-legends", "show-node", "uri"];
                // `stats uri/admin?stats`: a missing space after a sub-keyword.
                if let Some(k) = SUBS.iter().find(|k| o.len() > k.len() && o.starts_with(*k) && !o[k.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')) {
                    return Err(format!(
                        "unknown stats parameter '{o}'; did you mean 'stats {k} {}' maybe ?",
                        &o[k.len()..]
                    ));
                }
                return Err(format!(
                    "unknown stats parameter '{o}', expects 'admin', 'auth', 'enable', 'hide-version', 'http-request', 'realm', 'refresh', 'scope', 'show-desc', 'show-legends', 'show-node' or 'uri'{}",
                    super::proxy::suggest(o, &["admin", "auth", "enable", "hide-version", "http-request", "realm", "refresh", "scope", "show-desc", "show-legends", "show-node", "uri"])
                ))
            }
        }
        if let Some(st) = &mut self.px.stats {
            st.enabled = sub != "disable";
        }
        Ok(())
    }

    /// `errorfile`, `errorloc*`, `http-error`, `errorfiles`.
    pub(crate) fn errors(&mut self, line: &Line) -> Result<(), String> {
        let w = &line.words;
        let kw = w[0].as_str();
        let code = |s: Option<&String>| -> Result<u16, String> {
            let s = s.ok_or_else(|| format!("'{kw}' expects <status_code> and <url|file> as arguments."))?;
            s.parse().map_err(|_| format!("'{kw}': invalid status code '{s}'"))
        };
        match kw {
            "errorfile" => {
                let c = code(w.get(1))?;
                let f = w.get(2).ok_or("'errorfile' expects <status_code> and <file> as arguments.")?;
                let content = std::fs::read(f).map_err(|e| format!("error opening file <{f}> : {e}"))?;
                self.add_errorfile(line, c, content);
            }
            "errorloc" | "errorloc302" | "errorloc303" => {
                let c = code(w.get(1))?;
                let url = w.get(2).ok_or_else(|| format!("'{kw}' expects <status_code> and <url> as arguments."))?;
                let (st, reason) = if kw == "errorloc303" { (303, "See Other") } else { (302, "Found") };
                let content = format!("HTTP/1.1 {st} {reason}\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: {url}\r\nConnection: close\r\n\r\n");
                self.add_errorfile(line, c, content.into_bytes());
            }
            "http-error" => {
                if w.get(1).map(String::as_str) != Some("status") {
                    return Err("'http-error' expects 'status <code>'.".into());
                }
                let c = code(w.get(2))?;
                let mut ctype = None;
                let mut body: Option<Vec<u8>> = None;
                let mut raw = None;
                let mut hdrs = Vec::new();
                let mut i = 3;
                while i < w.len() {
                    let v = w.get(i + 1).ok_or_else(|| format!("'http-error': '{}' expects an argument.", w[i]))?;
                    match w[i].as_str() {
                        "content-type" => ctype = Some(v.clone()),
                        "errorfile" => {
                            raw = Some(std::fs::read(v).map_err(|e| format!("error opening file <{v}> : {e}"))?)
                        }
                        "file" | "lf-file" => {
                            body = Some(std::fs::read(v).map_err(|e| format!("error opening file <{v}> : {e}"))?)
                        }
                        "string" | "lf-string" => body = Some(v.clone().into_bytes()),
                        "hdr" => {
                            let val = w.get(i + 2).ok_or("'http-error hdr' expects a name and a value.")?;
                            hdrs.push(format!("{v}: {val}\r\n"));
                            i += 1;
                        }
                        "errorfiles" => return Err(unsupported("http-errors")),
                        o => return Err(format!("'http-error': unknown keyword '{o}'")),
                    }
                    i += 2;
                }
                let content = match raw {
                    Some(r) => r,
                    None => {
                        let body = body.unwrap_or_default();
                        let mut r = format!("HTTP/1.1 {c} {}\r\n", reason(c));
                        if let Some(t) = ctype {
                            r.push_str(&format!("content-type: {t}\r\n"));
                        }
                        for h in hdrs {
                            r.push_str(&h);
                        }
                        r.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                        let mut r = r.into_bytes();
                        r.extend_from_slice(&body);
                        r
                    }
                };
                self.add_errorfile(line, c, content);
            }
            _ => return Err(unsupported("errorfiles")),
        }
        Ok(())
    }

    fn add_errorfile(&mut self, line: &Line, code: u16, content: Vec<u8>) {
        self.px.errorfiles.retain(|e| e.code != code);
        self.px.errorfiles.push(ErrorFile { pos: line.pos.clone(), code, content });
    }

    /// `capture request|response header NAME len N`, `capture cookie NAME len N`.
    pub(crate) fn capture(&mut self, w: &[String]) -> Result<(), String> {
        let (kind, name_i) = match (w.get(1).map(String::as_str), w.get(2).map(String::as_str)) {
            (Some("cookie"), _) => (CaptureKind::Cookie, 2),
            (Some("request"), Some("header")) => (CaptureKind::RequestHeader, 3),
            (Some("response"), Some("header")) => (CaptureKind::ResponseHeader, 3),
            _ => return Err("'capture' expects 'cookie', 'request header' or 'response header'.".into()),
        };
        let name = w.get(name_i).ok_or("'capture' expects a name.")?.clone();
        if w.get(name_i + 1).map(String::as_str) != Some("len") {
            return Err("'capture' expects 'len' <length>.".into());
        }
        let len = parse_num(w, name_i + 2)?;
        self.px.captures.push(Capture { kind, name, len });
        Ok(())
    }
}

fn forward_opts(name: &str, args: &[String]) -> Result<ForwardFor, String> {
    let mut f = ForwardFor {
        except: None,
        header: if name == "forwardfor" { "X-Forwarded-For".into() } else { "X-Original-To".into() },
        if_none: false,
    };
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "except" => {
                let n = args.get(i + 1).ok_or("'except' expects <address>[/mask] as argument.")?;
                f.except = Some(IpNet::parse(n).ok_or_else(|| format!("'except' : invalid network '{n}'"))?);
                i += 1;
            }
            "header" => {
                f.header = args.get(i + 1).ok_or("'header' expects <header_name> as argument.")?.clone();
                i += 1;
            }
            "if-none" => f.if_none = true,
            o => return Err(format!("'option {name}' : unknown argument '{o}'")),
        }
        i += 1;
    }
    Ok(f)
}

/// HTTP reason phrases for the codes HAProxy generates.
pub(crate) fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        410 => "Gone",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        _ => "Other",
    }
}
