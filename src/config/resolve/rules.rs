//! ACLs and conditions, `http-request`/`http-response`, `tcp-request`, `redirect` and the 1.4 `req*`/`rsp*`/`block`
//! rules.

use std::path::PathBuf;

use super::proxy::PxBuilder;
use super::unsupported;
use crate::config::grammar::Line;
use crate::config::model::*;
use crate::config::units::parse_time;

/// ACLs every proxy has (HAProxy's predefined ones).
#[rustfmt::skip]
pub(crate) const PREDEFINED_ACLS: &[&str] = &[
    "TRUE", "FALSE", "HTTP", "HTTP_1.0", "HTTP_1.1", "HTTP_2.0", "HTTP_CONTENT", "HTTP_URL_ABS", "HTTP_URL_SLASH",
    "HTTP_URL_STAR", "LOCALHOST", "METH_CONNECT", "METH_DELETE", "METH_GET", "METH_HEAD", "METH_OPTIONS", "METH_POST",
    "METH_PUT", "METH_TRACE", "RDP_COOKIE", "REQ_CONTENT", "WAIT_END",
];

/// The matching method implied by a fetch name (`path_beg` → Beg, `src` → Ip, …).
fn implied_method(fetch: &str) -> Option<MatchMethod> {
    let base = fetch.rsplit('.').next().unwrap_or(fetch);
    for (suffix, m) in [
        ("_beg", MatchMethod::Beg),
        ("_end", MatchMethod::End),
        ("_sub", MatchMethod::Sub),
        ("_reg", MatchMethod::Reg),
        ("_dir", MatchMethod::Dir),
        ("_dom", MatchMethod::Dom),
        ("_len", MatchMethod::Len),
        ("_cnt", MatchMethod::Int),
        ("_ip", MatchMethod::Ip),
        ("_val", MatchMethod::Int),
        ("_port", MatchMethod::Int),
        ("_found", MatchMethod::Found),
    ] {
        if base.ends_with(suffix) && base != "url_ip" {
            return Some(m);
        }
    }
    Some(match base {
        "src" | "dst" | "url_ip" | "hdr_ip" | "req_ip" => MatchMethod::Ip,
        "nbsrv" | "connslots" | "queue" | "avg_queue" | "be_conn" | "fe_conn" | "dst_conn" | "fe_sess_rate"
        | "be_sess_rate" | "status" | "req_len" | "srv_conn" | "sc0_conn_cur" | "sc1_conn_cur" | "sc2_conn_cur"
        | "sc0_http_req_rate" | "sc1_http_req_rate" | "sc2_http_req_rate" | "sc0_conn_rate" | "sc1_conn_rate"
        | "sc2_conn_rate" | "sc_http_req_rate" | "sc0_http_err_rate" | "sc1_http_err_rate" | "sc0_gpc0"
        | "sc1_gpc0" | "src_conn_rate" | "src_http_req_rate" | "src_conn_cur" | "src_http_err_rate" | "table_cnt" => {
            MatchMethod::Int
        }
        "sc_tracked" | "sc0_tracked" | "sc1_tracked" | "sc2_tracked" => MatchMethod::Bool,
        "always_true" | "always_false" | "http_first_req" | "ssl_fc" | "ssl_c_used" | "req_proto_http"
        | "srv_is_up" | "ssl_fc_has_sni" | "ssl_fc_has_crt" | "wait_end" | "http_auth" | "stopping" => {
            MatchMethod::Bool
        }
        "req_ssl_hello_type" | "ssl_c_verify" | "len" | "req_ssl_ver" | "rdp_cookie_cnt" => MatchMethod::Int,
        // Stick-table counters and rates: sc0_*, sc_*, src_*, table_*, *_rate, *_cur.
        b if b.starts_with("sc0_")
            || b.starts_with("sc1_")
            || b.starts_with("sc2_")
            || b.starts_with("sc_")
            || b.starts_with("src_")
            || b.starts_with("table_")
            || b.ends_with("_rate")
            || b.ends_with("_cur") =>
        {
            MatchMethod::Int
        }
        _ => return None,
    })
}

/// The counter number of `sc-inc-gpc0(N)` (0, 1 or 2; no parentheses means 0).
fn sc_id(act: &str, name: &str) -> Result<u8, String> {
    let rest = &act[name.len()..];
    if rest.is_empty() {
        return Ok(0);
    }
    match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')).map(str::trim) {
        Some("0") => Ok(0),
        Some("1") => Ok(1),
        Some("2") => Ok(2),
        _ => Err(format!("'{act}': invalid stick counter, expects {name}(0), (1) or (2).")),
    }
}

/// Parse an ACL body: `FETCH[(args)][,conv…] [-i] [-f FILE] [-m METH] [--] PATTERN…`.
pub(crate) fn parse_acl_term(w: &[String]) -> Result<AclTerm, String> {
    let spec = w.first().ok_or("missing fetch method in ACL expression")?;
    let (fetch, args, converters) = split_fetch(spec)?;
    if fetch.is_empty() || !fetch.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(format!("unknown fetch method '{spec}' in ACL expression"));
    }
    if fetch == "acl" {
        return Err(format!("unknown fetch method '{fetch}' in ACL expression '{spec}'"));
    }
    let mut t = AclTerm {
        fetch: fetch.clone(),
        args,
        converters,
        method: implied_method(&fetch).unwrap_or(MatchMethod::Str),
        ignore_case: false,
        patterns: Vec::new(),
        files: Vec::new(),
    };
    let mut explicit = false;
    let mut i = 1;
    while i < w.len() {
        match w[i].as_str() {
            "-i" => t.ignore_case = true,
            "-n" | "-u" => {}
            "-f" => {
                let f = w.get(i + 1).ok_or("'-f' expects a file name")?;
                let text =
                    std::fs::read_to_string(f).map_err(|e| format!("failed to open pattern file <{f}> : {e}"))?;
                t.patterns.extend(
                    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string),
                );
                t.files.push(PathBuf::from(f));
                i += 1;
            }
            "-m" => {
                let m = w.get(i + 1).ok_or("'-m' expects a match method")?;
                t.method = match m.as_str() {
                    "found" => MatchMethod::Found,
                    "bool" => MatchMethod::Bool,
                    "int" => MatchMethod::Int,
                    "ip" => MatchMethod::Ip,
                    "str" => MatchMethod::Str,
                    "beg" => MatchMethod::Beg,
                    "end" => MatchMethod::End,
                    "sub" => MatchMethod::Sub,
                    "reg" => MatchMethod::Reg,
                    "dir" => MatchMethod::Dir,
                    "dom" => MatchMethod::Dom,
                    "len" => MatchMethod::Len,
                    "bin" => return Err(unsupported("-m bin")),
                    o => return Err(format!("unknown match method '{o}'")),
                };
                explicit = true;
                i += 1;
            }
            "-M" => return Err(unsupported("-M")),
            "--" => {
                t.patterns.extend(w[i + 1..].iter().cloned());
                break;
            }
            _ => {
                t.patterns.extend(w[i..].iter().cloned());
                break;
            }
        }
        i += 1;
    }
    if !explicit && t.patterns.is_empty() && t.files.is_empty() && t.method != MatchMethod::Bool {
        t.method = MatchMethod::Found;
    }
    if t.method == MatchMethod::Reg {
        // Regexes are compiled by the traffic code; here only reject the empty pattern list where it matters.
    }
    Ok(t)
}

/// Split `hdr(host),lower` into (`hdr`, [`host`], [`lower`]); parentheses may nest in converter args.
fn split_fetch(spec: &str) -> Result<(String, Vec<String>, Vec<String>), String> {
    let mut depth = 0i32;
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in spec.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&spec[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("missing closing ')' in '{spec}'"));
    }
    parts.push(&spec[start..]);
    let head = parts[0];
    let (fetch, args) = match head.find('(') {
        Some(p) if head.ends_with(')') => {
            let inner = &head[p + 1..head.len() - 1];
            let args = if inner.is_empty() { Vec::new() } else { inner.split(',').map(str::to_string).collect() };
            (head[..p].to_string(), args)
        }
        Some(_) => return Err(format!("invalid fetch expression '{spec}'")),
        None => (head.to_string(), Vec::new()),
    };
    Ok((fetch, args, parts[1..].iter().map(|s| s.to_string()).collect()))
}

impl PxBuilder {
    /// `acl NAME CRITERION …`.
    pub(crate) fn acl(&mut self, line: &Line) -> Result<(), String> {
        let w = &line.words;
        let name = w.get(1).ok_or("'acl' expects an ACL name.")?;
        if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
            return Err(format!("character '{c}' is not permitted in acl name '{name}'"));
        }
        let term = parse_acl_term(&w[2..])
            .inspect_err(|_| self.bad_acls.push(name.clone()))
            .map_err(|e| format!("error detected while parsing ACL '{name}' : {e}."))?;
        self.px.acls.push(Acl { pos: line.pos.clone(), name: name.clone(), term });
        Ok(())
    }

    /// An optional `if|unless COND` at the start of `w` (nothing else allowed).
    pub(crate) fn opt_cond(&self, w: &[String], _pos: &Pos) -> Result<Option<Cond>, String> {
        match w.first().map(String::as_str) {
            None => Ok(None),
            Some("if") | Some("unless") => self.cond(w).map(Some),
            Some(o) => Err(format!("expects 'if', 'unless' or nothing, but found '{o}'")),
        }
    }

    /// Parse `if|unless TERM…` with `!`, `or`/`||` and anonymous `{ … }` ACLs; named ACLs must be declared.
    pub(crate) fn cond(&self, w: &[String]) -> Result<Cond, String> {
        let negate = w[0] == "unless";
        let mut alternatives = vec![Vec::new()];
        let mut i = 1;
        while i < w.len() {
            let word = w[i].as_str();
            if word == "or" || word == "||" {
                if alternatives.last().is_some_and(Vec::is_empty) {
                    return Err("missing ACL before 'or' in condition".into());
                }
                alternatives.push(Vec::new());
                i += 1;
                continue;
            }
            let (neg, rest) = match word.strip_prefix('!') {
                Some(r) => (true, r),
                None => (false, word),
            };
            let (neg, rest) = if rest.is_empty() {
                i += 1;
                match w.get(i) {
                    Some(n) => (!neg, n.as_str()),
                    None => return Err("missing ACL after '!' in condition".into()),
                }
            } else {
                (neg, rest)
            };
            let kind = if rest == "{" {
                let end = w[i + 1..].iter().position(|x| x == "}").ok_or("missing closing '}' in condition")?;
                let body = &w[i + 1..i + 1 + end];
                i += end + 1;
                CondTermKind::Anonymous(parse_acl_term(body).map_err(|e| format!("error in anonymous ACL: {e}"))?)
            } else {
                if !PREDEFINED_ACLS.contains(&rest)
                    && !self.px.acls.iter().any(|a| a.name == rest)
                    && !self.bad_acls.iter().any(|a| a == rest)
                {
                    return Err(format!("no such ACL : '{rest}'"));
                }
                CondTermKind::Named(rest.to_string())
            };
            if let Some(alt) = alternatives.last_mut() {
                alt.push(CondTerm { negate: neg, kind });
            }
            i += 1;
        }
        if alternatives.iter().any(Vec::is_empty) {
            return Err(format!("missing condition after '{}'", w[0]));
        }
        Ok(Cond { negate, alternatives })
    }

    /// Split `w` at the first `if`/`unless`: (action words, condition).
    fn split_cond<'a>(&self, w: &'a [String]) -> Result<(&'a [String], Option<Cond>), String> {
        match w.iter().position(|x| x == "if" || x == "unless") {
            Some(p) => Ok((&w[..p], Some(self.cond(&w[p..])?))),
            None => Ok((w, None)),
        }
    }

    /// `http-request …` / `http-response …`.
    pub(crate) fn http_rule(&mut self, line: &Line) -> Result<(), String> {
        let rule = self.http_rule_words(&line.words, &line.pos)?;
        match line.words[0].as_str() {
            "http-request" => self.px.http_request.push(rule),
            "http-response" => self.px.http_response.push(rule),
            _ => return Err(unsupported("http-after-response")),
        }
        Ok(())
    }

    /// Parse `http-request ACTION args [if|unless COND]` (w[0] is the keyword).
    pub(crate) fn http_rule_words(&self, w: &[String], pos: &Pos) -> Result<HttpRule, String> {
        let kw = w[0].as_str();
        let (a, cond) = self.split_cond(&w[1..])?;
        let act = a.first().ok_or_else(|| format!("'{kw}' expects an action."))?.as_str();
        let arg = |i: usize| a.get(i).cloned().ok_or_else(|| format!("'{kw} {act}' expects more arguments."));
        let status_opt = |name: &str, default: u16| -> Result<u16, String> {
            match a.iter().position(|x| x == name) {
                Some(p) => a
                    .get(p + 1)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("'{kw} {act}': '{name}' expects a status code.")),
                None => Ok(default),
            }
        };
        let action = match act {
            "allow" => HttpAction::Allow,
            "deny" => HttpAction::Deny {
                status: status_opt("deny_status", 403).and_then(|s| {
                    if a.iter().any(|x| x == "status") {
                        status_opt("status", s)
                    } else {
                        Ok(s)
                    }
                })?,
            },
            "tarpit" => HttpAction::Tarpit { status: status_opt("deny_status", 500)? },
            "auth" => {
                HttpAction::Auth { realm: a.iter().position(|x| x == "realm").and_then(|p| a.get(p + 1).cloned()) }
            }
            "redirect" => HttpAction::Redirect(self.redirect(&a[1..], pos)?),
            "add-header" | "set-header" => {
                let name = arg(1)?;
                let value = a[2..].join(" ");
                if act == "add-header" {
                    HttpAction::AddHeader { name, value }
                } else {
                    HttpAction::SetHeader { name, value }
                }
            }
            "del-header" => HttpAction::DelHeader { name: arg(1)? },
            "replace-header" => HttpAction::ReplaceHeader { name: arg(1)?, regex: arg(2)?, replacement: arg(3)? },
            "replace-value" => HttpAction::ReplaceValue { name: arg(1)?, regex: arg(2)?, replacement: arg(3)? },
            "set-path" => HttpAction::SetPath(arg(1)?),
            "set-uri" => HttpAction::SetUri(arg(1)?),
            "set-query" => HttpAction::SetQuery(arg(1)?),
            "set-method" => HttpAction::SetMethod(arg(1)?),
            "replace-path" => HttpAction::ReplacePath { regex: arg(1)?, replacement: arg(2)? },
            "replace-uri" => HttpAction::ReplaceUri { regex: arg(1)?, replacement: arg(2)? },
            "set-status" => {
                HttpAction::SetStatus(arg(1)?.parse().map_err(|_| format!("'{kw} set-status' expects a status code."))?)
            }
            "use-service" => HttpAction::UseService(arg(1)?),
            "return" => {
                let mut status = 200;
                let mut content_type = None;
                let mut body = None;
                let mut headers = Vec::new();
                let mut i = 1;
                while i < a.len() {
                    let v = a
                        .get(i + 1)
                        .cloned()
                        .ok_or_else(|| format!("'{kw} return': '{}' expects an argument.", a[i]))?;
                    match a[i].as_str() {
                        "status" => status = v.parse().map_err(|_| format!("'{kw} return': invalid status '{v}'."))?,
                        "content-type" => content_type = Some(v),
                        "string" | "lf-string" => body = Some(v),
                        "file" | "lf-file" | "errorfile" => {
                            body = Some(
                                String::from_utf8_lossy(
                                    &std::fs::read(&v).map_err(|e| format!("error opening file <{v}> : {e}"))?,
                                )
                                .into_owned(),
                            )
                        }
                        "hdr" => {
                            headers.push((
                                v,
                                a.get(i + 2)
                                    .cloned()
                                    .ok_or_else(|| format!("'{kw} return hdr' expects a name and a value."))?,
                            ));
                            i += 1;
                        }
                        "default-errorfiles" => i -= 1,
                        o => return Err(format!("'{kw} return': unknown keyword '{o}'.")),
                    }
                    i += 2;
                }
                HttpAction::Return { status, content_type, body, headers }
            }
            _ if act.starts_with("set-var(") && act.ends_with(')') && act.len() > 9 => {
                HttpAction::SetVar { name: act[8..act.len() - 1].to_string(), expr: a[1..].join(" ") }
            }
            _ if act.starts_with("lua.") => return Err(unsupported("lua")),
            "track-sc0" | "track-sc1" | "track-sc2" => {
                HttpAction::Track(Track::parse(a).map_err(|e| format!("'{kw} {act}': {e}"))?)
            }
            _ if act.starts_with("sc-inc-gpc0") => HttpAction::ScIncGpc0(sc_id(act, "sc-inc-gpc0")?),
            _ if act.starts_with("sc-set-gpt0") => {
                let v = arg(1)?;
                let v =
                    v.parse().map_err(|_| format!("'{kw} {act}': only an integer value is supported (got '{v}')."))?;
                HttpAction::ScSetGpt0(sc_id(act, "sc-set-gpt0")?, v)
            }
            "set-log-level" | "silent-drop" | "capture" | "set-src" | "del-acl" | "add-acl" | "del-map" | "set-map"
            | "set-nice" | "set-tos" | "set-mark" | "early-hint" | "reject" | "normalize-uri" | "set-timeout"
            | "sc-inc-gpc1" | "unset-var" | "disable-l7-retry" | "set-dst" | "set-dst-port" | "set-src-port"
            | "cache-use" | "cache-store" | "wait-for-body" | "wait-for-handshake" | "strict-mode" | "set-pathq"
            | "replace-pathq" => HttpAction::Other(a.join(" ")),
            o => return Err(format!("'{kw}' : unknown action '{o}'.")),
        };
        Ok(HttpRule { pos: pos.clone(), action, cond })
    }

    /// `tcp-request inspect-delay T` / `tcp-request connection|content|session ACTION … [if COND]`.
    pub(crate) fn tcp_rule(&mut self, line: &Line) -> Result<(), String> {
        let w = &line.words;
        let kw = w[0].as_str();
        let layer =
            w.get(1).ok_or_else(|| format!("'{kw}' expects 'inspect-delay', 'connection', 'content' or 'session'."))?;
        if layer == "inspect-delay" {
            let t = w.get(2).ok_or_else(|| format!("'{kw} inspect-delay' expects a time."))?;
            self.px.tcp_inspect_delay = Some(parse_time(t).map_err(|e| format!("'{kw} inspect-delay': {e}"))?);
            return Ok(());
        }
        if !matches!(layer.as_str(), "connection" | "content" | "session") {
            return Err(format!(
                "'{kw}' expects 'inspect-delay', 'connection', 'content' or 'session' (got '{layer}')."
            ));
        }
        let (a, cond) = self.split_cond(&w[2..])?;
        let act = a.first().ok_or_else(|| format!("'{kw} {layer}' expects an action."))?;
        if act.starts_with("lua.") {
            return Err(unsupported("lua"));
        }
        if kw == "tcp-response" {
            return Err(unsupported("tcp-response"));
        }
        if act.starts_with("track-sc") {
            if layer == "session" || layer == "connection" || layer == "content" {
                Track::parse(a).map_err(|e| format!("'{kw} {layer} {act}': {e}"))?;
            }
        } else if act.starts_with("sc-inc-gpc0") {
            sc_id(act, "sc-inc-gpc0")?;
        }
        self.px.tcp_request.push(TcpRequestRule {
            pos: line.pos.clone(),
            layer: layer.clone(),
            action: a.join(" "),
            cond,
        });
        Ok(())
    }

    /// `redirect location|prefix|scheme TARGET [options] [if|unless COND]` (words after `redirect`).
    pub(crate) fn redirect(&self, w: &[String], _pos: &Pos) -> Result<Redirect, String> {
        let (a, cond) = self.split_cond(w)?;
        let mut r = Redirect {
            kind: RedirectKind::Location,
            target: String::new(),
            code: 302,
            drop_query: false,
            append_slash: false,
            set_cookie: None,
            clear_cookie: None,
            cond,
        };
        let mut have_kind = false;
        let mut i = 0;
        while i < a.len() {
            let v = || a.get(i + 1).cloned().ok_or_else(|| format!("'redirect': '{}' expects an argument.", a[i]));
            match a[i].as_str() {
                k @ ("location" | "prefix" | "scheme") => {
                    r.kind = match k {
                        "location" => RedirectKind::Location,
                        "prefix" => RedirectKind::Prefix,
                        _ => RedirectKind::Scheme,
                    };
                    r.target = v()?;
                    have_kind = true;
                    i += 1;
                }
                "code" => {
                    r.code = v()?.parse().map_err(|_| "'redirect': 'code' expects a number.".to_string())?;
                    if !matches!(r.code, 301 | 302 | 303 | 307 | 308) {
                        return Err(format!(
                            "'redirect': unsupported HTTP code '{}' (expects 301, 302, 303, 307 or 308).",
                            r.code
                        ));
                    }
                    i += 1;
                }
                "drop-query" => r.drop_query = true,
                "append-slash" => r.append_slash = true,
                "ignore-empty" => {}
                "set-cookie" => {
                    r.set_cookie = Some(v()?);
                    i += 1;
                }
                "clear-cookie" => {
                    r.clear_cookie = Some(v()?);
                    i += 1;
                }
                o => return Err(format!("'redirect': unknown option '{o}'.")),
            }
            i += 1;
        }
        if !have_kind {
            return Err("'redirect' expects 'location', 'prefix' or 'scheme' followed by a target.".into());
        }
        Ok(r)
    }

    /// 1.4 `reqadd`, `reqrep`, …, `rspdeny`, `block`.
    pub(crate) fn legacy(&mut self, line: &Line) -> Result<(), String> {
        let w = &line.words;
        let kw = w[0].as_str();
        let (arg, rest) = if kw == "block" {
            (String::new(), &w[1..])
        } else {
            (w.get(1).ok_or_else(|| format!("'{kw}' expects <regex> or <header> as an argument."))?.clone(), &w[2..])
        };
        let needs2 = kw.ends_with("rep") || kw.ends_with("setbe");
        let (arg2, rest) = if needs2 {
            (
                Some(
                    rest.first().ok_or_else(|| format!("'{kw}' expects <search> and <replace> as arguments."))?.clone(),
                ),
                &rest[1..],
            )
        } else {
            (None, rest)
        };
        let cond = self.opt_cond(rest, &line.pos)?;
        if kw == "block" && cond.is_none() {
            return Err("'block' expects 'if' or 'unless' followed by a condition.".into());
        }
        self.px.legacy_rules.push(LegacyRule { pos: line.pos.clone(), keyword: kw.to_string(), arg, arg2, cond });
        Ok(())
    }
}
