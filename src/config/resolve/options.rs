//! `option …` lines, `balance`, `cookie`, `stats`, error pages, captures, stick tables and health-check rules.

use super::proxy::{parse_num, PxBuilder, B, D, F};
use super::{unsupported, Ctx};
use crate::config::grammar::Line;
use crate::config::model::*;
use crate::config::units::{parse_size, parse_time};

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
const NOOP_OPTIONS: &[&str] =
    &["http-buffer-request", "disable-h2-upgrade", "http-ignore-probes", "dontlog-normal-x", "idle-close-on-response"];

/// Every option name, for suggestions.
const OPTION_NAMES: &[&str] = &[
    "redispatch",
    "allbackups",
    "persist",
    "abortonclose",
    "dontlognull",
    "dontlog-normal",
    "log-separate-errors",
    "logasap",
    "log-health-checks",
    "tcpka",
    "clitcpka",
    "srvtcpka",
    "nolinger",
    "splice-auto",
    "splice-request",
    "splice-response",
    "http-pretend-keepalive",
    "checkcache",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "http-use-proxy-header",
    "http-no-delay",
    "independent-streams",
    "transparent",
    "contstats",
    "socket-stats",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "httplog",
    "tcplog",
    "httpchk",
    "ssl-hello-chk",
    "smtpchk",
    "mysql-check",
    "redis-check",
    "ldap-check",
    "pgsql-check",
    "tcp-check",
    "forwardfor",
    "originalto",
    "http-keep-alive",
    "http-server-close",
    "httpclose",
    "forceclose",
    "http-tunnel",
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
            | "prefer-last-server"
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
        let algo = w.first().ok_or("'balance' expects an algorithm.")?.as_str();
        let args = &w[1..];
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

    /// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] …`.
    pub(crate) fn cookie(&mut self, w: &[String]) -> Result<(), String> {
        let name = w.get(1).ok_or("'cookie' expects <cookie_name> as argument.")?.clone();
        let mut c = CookieConf {
            name,
            mode: CookieMode::Passive,
            indirect: false,
            nocache: false,
            postonly: false,
            preserve: false,
            httponly: false,
            secure: false,
            domains: Vec::new(),
            maxidle: None,
            maxlife: None,
            dynamic: false,
            attrs: Vec::new(),
        };
        let mut i = 2;
        while i < w.len() {
            let val = |i: usize| w.get(i + 1).ok_or_else(|| format!("'cookie {}' expects a value.", w[i]));
            match w[i].as_str() {
                "rewrite" => c.mode = CookieMode::Rewrite,
                "insert" => c.mode = CookieMode::Insert,
                "prefix" => c.mode = CookieMode::Prefix,
                "indirect" => c.indirect = true,
                "nocache" => c.nocache = true,
                "postonly" => c.postonly = true,
                "preserve" => c.preserve = true,
                "httponly" => c.httponly = true,
                "secure" => c.secure = true,
                "dynamic" => c.dynamic = true,
                "domain" => {
                    c.domains.push(val(i)?.clone());
                    i += 1;
                }
                "attr" => {
                    c.attrs.push(val(i)?.clone());
                    i += 1;
                }
                "maxidle" | "maxlife" => {
                    let d = parse_time(val(i)?).map_err(|e| format!("'cookie {}': {e}", w[i]))?;
                    if w[i] == "maxidle" {
                        c.maxidle = Some(d);
                    } else {
                        c.maxlife = Some(d);
                    }
                    i += 1;
                }
                o => return Err(format!("'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'maxlife', 'dynamic' and 'attr' options (got '{o}').")),
            }
            i += 1;
        }
        self.px.cookie = Some(c);
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

    /// `stick-table …` and `stick on|match|store-request|store-response …`.
    pub(crate) fn stick(&mut self, line: &Line) -> Result<(), String> {
        let w = &line.words;
        if w[0] == "stick-table" {
            let mut st = StickConf {
                pos: line.pos.clone(),
                table_type: String::new(),
                len: None,
                size: 0,
                expire: None,
                nopurge: false,
                rules: self.px.stick.take().map(|s| s.rules).unwrap_or_default(),
            };
            let mut i = 1;
            while i < w.len() {
                let v = w.get(i + 1).ok_or_else(|| format!("'stick-table': '{}' expects an argument.", w[i]));
                match w[i].as_str() {
                    "type" => {
                        st.table_type = v?.clone();
                        if !matches!(st.table_type.as_str(), "ip" | "ipv6" | "integer" | "string" | "binary") {
                            return Err(format!("'stick-table': unknown type '{}'", st.table_type));
                        }
                        if w.get(i + 2).map(String::as_str) == Some("len") {
                            st.len = Some(parse_num(w, i + 3)?);
                            i += 2;
                        }
                    }
                    "size" => st.size = parse_size(v?).map_err(|e| format!("'stick-table size': {e}"))?,
                    "expire" => st.expire = Some(parse_time(v?).map_err(|e| format!("'stick-table expire': {e}"))?),
                    "len" => st.len = Some(parse_num(w, i + 1)?),
                    "store" => {
                        v?;
                    }
                    "nopurge" => {
                        st.nopurge = true;
                        i -= 1;
                    }
                    "peers" => return Err(unsupported("peers")),
                    o => return Err(format!("'stick-table': unknown argument '{o}'")),
                }
                i += 2;
            }
            if st.table_type.is_empty() || st.size == 0 {
                return Err("'stick-table': missing 'type' or 'size'.".into());
            }
            self.px.stick = Some(st);
            return Ok(());
        }
        let kind = w.get(1).ok_or("'stick' expects 'on', 'match', 'store-request' or 'store-response'.")?.clone();
        if !matches!(kind.as_str(), "on" | "match" | "store-request" | "store-response") {
            return Err(format!(
                "'stick' only supports 'on', 'match', 'store-request' and 'store-response' (got '{kind}')."
            ));
        }
        let expr = w.get(2).ok_or("'stick' expects a sample expression.")?.clone();
        let mut table = None;
        let mut rest = &w[3..];
        if rest.first().map(String::as_str) == Some("table") {
            table = Some(rest.get(1).ok_or("'stick ... table' expects a table name.")?.clone());
            rest = &rest[2..];
        }
        let cond = self.opt_cond(rest, &line.pos)?;
        let rule = StickRule { pos: line.pos.clone(), kind, expr, table, cond };
        let pos = line.pos.clone();
        self.px
            .stick
            .get_or_insert_with(|| StickConf {
                pos,
                table_type: String::new(),
                len: None,
                size: 0,
                expire: None,
                nopurge: false,
                rules: Vec::new(),
            })
            .rules
            .push(rule);
        Ok(())
    }

    /// `http-check expect|send|disable-on-404|send-state|comment`.
    pub(crate) fn http_check_line(&mut self, w: &[String]) -> Result<(), String> {
        let h = &mut self.http_check;
        match w.get(1).map(String::as_str) {
            Some("disable-on-404") => h.disable_on_404 = true,
            Some("send-state") => h.send_state = true,
            Some("comment") => {}
            Some("expect") => h.expect = Some(expect(&w[2..], "http-check")?),
            Some("send") => {
                let mut i = 2;
                while i < w.len() {
                    let v = w
                        .get(i + 1)
                        .ok_or_else(|| format!("'http-check send': '{}' expects an argument.", w[i]))?
                        .clone();
                    match w[i].as_str() {
                        "meth" => h.method = v,
                        "uri" | "uri-lf" => h.uri = v,
                        "ver" => h.version = v,
                        "body" | "body-lf" => h.body = Some(v),
                        "hdr" => {
                            let val = w.get(i + 2).ok_or("'http-check send hdr' expects a name and a value.")?.clone();
                            h.headers.push((v, val));
                            i += 1;
                        }
                        o => return Err(format!("'http-check send': unknown keyword '{o}'")),
                    }
                    i += 2;
                }
            }
            Some("connect") | Some("set-var") | Some("unset-var") => {
                return Err(unsupported(&format!("http-check {}", w[1])))
            }
            _ => {
                return Err("'http-check' expects 'disable-on-404', 'send-state', 'expect', 'send' or 'comment'.".into())
            }
        }
        Ok(())
    }

    /// `tcp-check connect|send|send-binary|expect|comment`.
    pub(crate) fn tcp_check_line(&mut self, w: &[String]) -> Result<(), String> {
        let rule = match w.get(1).map(String::as_str) {
            Some("connect") => {
                let mut port = None;
                let mut i = 2;
                while i < w.len() {
                    match w[i].as_str() {
                        "port" => {
                            port = Some(parse_num(w, i + 1)?);
                            i += 1;
                        }
                        "ssl" | "sni" | "alpn" | "check-sni" => return Err(unsupported("ssl")),
                        "send-proxy" | "linger" => {}
                        "comment" => i += 1,
                        o => return Err(format!("'tcp-check connect': unknown keyword '{o}'")),
                    }
                    i += 1;
                }
                TcpCheckRule::Connect { port, ssl: false }
            }
            Some("send") | Some("send-lf") => {
                TcpCheckRule::Send(w.get(2).ok_or("'tcp-check send' expects a string.")?.clone().into_bytes())
            }
            Some("send-binary") | Some("send-binary-lf") => {
                let hex = w.get(2).ok_or("'tcp-check send-binary' expects a hexadecimal string.")?;
                TcpCheckRule::SendBinary(
                    unhex(hex).ok_or_else(|| format!("'tcp-check send-binary': invalid hexadecimal string '{hex}'"))?,
                )
            }
            Some("expect") => {
                let e = expect(&w[2..], "tcp-check")?;
                TcpCheckRule::Expect { negate: e.negate, kind: e.kind, pattern: e.pattern }
            }
            Some("comment") => TcpCheckRule::Comment(w[2..].join(" ")),
            Some(o) if matches!(o, "set-var" | "unset-var" | "action") => {
                return Err(unsupported(&format!("tcp-check {o}")))
            }
            _ => return Err("'tcp-check' expects 'comment', 'connect', 'send', 'send-binary' or 'expect'.".into()),
        };
        self.tcp_checks.push(rule);
        Ok(())
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// `[!] status|rstatus|string|rstring|binary|rbinary PATTERN` with 2.2+ option words skipped.
fn expect(w: &[String], kw: &str) -> Result<HttpCheckExpect, String> {
    let mut i = 0;
    // 2.2+ options before the match: min-recv N, ok-status S, error-status S, tout-status S, on-success F,
    // on-error F, status-code E, comment C.
    let mut negate = false;
    while let Some(word) = w.get(i) {
        match word.as_str() {
            "min-recv" | "ok-status" | "error-status" | "tout-status" | "on-success" | "on-error" | "status-code"
            | "comment" => i += 2,
            "!" => {
                negate = true;
                i += 1;
            }
            _ => break,
        }
    }
    let kind = match w.get(i).map(String::as_str) {
        Some("status") => ExpectKind::Status,
        Some("rstatus") => ExpectKind::Rstatus,
        Some("string") => ExpectKind::String,
        Some("rstring") => ExpectKind::Rstring,
        Some("binary") => ExpectKind::Binary,
        Some("rbinary") => ExpectKind::Rbinary,
        Some(o) => return Err(format!("'{kw} expect': unsupported match '{o}' (expects 'status', 'rstatus', 'string', 'rstring', 'binary' or 'rbinary')")),
        None => return Err(format!("'{kw} expect' expects a match type and a pattern.")),
    };
    let pattern = w.get(i + 1).ok_or_else(|| format!("'{kw} expect' expects a pattern."))?.clone();
    Ok(HttpCheckExpect { negate, kind, pattern })
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
                f.except = Some(super::rules::parse_net(n).ok_or_else(|| format!("'except' : invalid network '{n}'"))?);
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
