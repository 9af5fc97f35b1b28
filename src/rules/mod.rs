//! What the proxy does with HTTP requests and responses, on top of [`crate::http`] (the protocol) and
//! [`crate::acl`] (conditions): rules and their header edits ([`edit`], [`fmt`] for `%[fetch]` values), the
//! 1.4 `req*`/`rsp*` forms ([`legacy`]), redirects and `return` responses ([`reply`]), cookie persistence
//! ([`cookie`]).
//!
//! A proxy's HTTP rules, compiled at worker start ([`CompiledRules::new`]) and applied to each request
//! ([`apply_request`]) and response ([`apply_response`]) without touching the buffer: changes go to
//! [`HeadEdits`], answers the proxy gives itself come back as a [`Verdict`].
//!
//! Request order (HAProxy 1.4 `http_process_req_common`, with 2.x `http-request` in its 1.4 place): `block`
//! (403) → `http-request` rules (the first `allow` ends them; `deny`, `tarpit`, `auth`, `redirect`, `return` are
//! final) → 1.4 `req*` filters (see [`legacy`]) then `reqadd` → `redirect` lines. Forwarding headers
//! (`option forwardfor`/`originalto`) are added by [`apply_forwarding`] once per request, after both the
//! frontend's and the backend's rules.
//!
//! Later rules and ACLs see the edits of earlier ones (a `set-header` then an ACL on that header).

use std::net::{IpAddr, SocketAddr};

use regex::bytes::Regex;

use crate::acl::fetch::ip_text;
use crate::acl::view::{self, Hdr, HttpView, ResView};
use crate::acl::{compile_regex, CompiledAcls, CompiledCond, Context, Names, Sample};
use crate::config::model::{Cond, ForwardFor, HttpAction, HttpRule, Proxy};
use crate::http::head::{HeadEdits, RequestHead, ResponseHead};
use crate::stick::TableAction;

pub mod cookie;
pub mod edit;
pub mod fmt;
pub mod legacy;
pub mod reply;

use edit::Op;
use fmt::Fmt;
use legacy::Legacy;
use reply::{CompiledRedirect, CompiledReturn};

/// What to do with a request (or response) after the rules ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Forward it (with the recorded edits).
    Continue,
    /// Answer with this status's error page (403 by default; 502 for responses).
    Deny(u16),
    /// Hold the connection for `timeout tarpit`, then answer with this status (500 by default).
    Tarpit(u16),
    /// Answer 401 with `WWW-Authenticate: Basic realm="<realm>"`.
    Auth(String),
    /// Send these bytes (a complete redirect response).
    Redirect(Vec<u8>),
    /// Send these bytes (a complete `http-request return` response).
    Return(Vec<u8>),
    /// `use-service NAME`: a built-in service answers.
    Service(Service),
}

/// A built-in service `use-service` hands a request to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `prometheus-exporter`: the statistics in Prometheus' text format.
    PrometheusExporter,
}

impl Service {
    /// The service of that name; an unknown one is a configuration error, as in HAProxy.
    pub fn named(name: &str) -> Result<Service, String> {
        match name {
            "prometheus-exporter" => Ok(Service::PrometheusExporter),
            o => Err(format!("'use-service' : unknown service '{o}'")),
        }
    }
}

/// A rule action with everything parsed and compiled.
#[derive(Debug)]
enum Act {
    Allow,
    Deny(u16),
    Tarpit(u16),
    Auth(String),
    Redirect(CompiledRedirect),
    Return(CompiledReturn),
    AddHeader(Vec<u8>, Fmt),
    SetHeader(Vec<u8>, Fmt),
    DelHeader(Vec<u8>),
    ReplaceHeader {
        name: Vec<u8>,
        re: Regex,
        repl: Fmt,
        each_value: bool,
    },
    SetPath(Fmt),
    SetUri(Fmt),
    SetQuery(Fmt),
    SetMethod(Fmt),
    ReplacePath(Regex, Fmt),
    ReplaceUri(Regex, Fmt),
    SetStatus(u16),
    /// `use-service NAME`: the request is answered by a built-in service.
    Service(Service),
    /// `track-scN KEY [table T]`: the key expression, compiled.
    Track {
        sc: u8,
        key: crate::acl::fetch::Expr,
        /// `table NAME`, resolved to the proxy declaring it.
        table: Option<usize>,
    },
    /// `sc-inc-gpc0(N)`.
    IncGpc0(u8),
    /// `sc-set-gpt0(N) VALUE`.
    SetGpt0(u8, i64),
    /// Parsed but without effect here (`set-var`, …).
    Nothing,
}

#[derive(Debug)]
struct Rule {
    act: Act,
    cond: Option<CompiledCond>,
}

/// Everything about a proxy's HTTP rules that can be prepared before the first request.
#[derive(Debug)]
pub struct CompiledRules {
    name: String,
    acls: CompiledAcls,
    http_request: Vec<Rule>,
    http_response: Vec<Rule>,
    legacy: Legacy,
    redirects: Vec<(CompiledRedirect, Option<CompiledCond>)>,
    forwardfor: Option<ForwardFor>,
    originalto: Option<ForwardFor>,
}

fn compile_rule(r: &HttpRule, realm: &str, acls: &mut CompiledAcls, response: bool) -> Result<Rule, String> {
    let names = acls.names();
    let fmt = |s: &str| Fmt::parse(s, &names);
    let name = |s: &str| s.as_bytes().to_vec();
    let act = match &r.action {
        HttpAction::Allow => Act::Allow,
        // The parser defaults `deny` to 403; on a response HAProxy's default is 502.
        HttpAction::Deny { status } => Act::Deny(if response && *status == 403 { 502 } else { *status }),
        HttpAction::Tarpit { status } => Act::Tarpit(*status),
        HttpAction::Auth { realm: r } => Act::Auth(r.clone().unwrap_or_else(|| realm.to_string())),
        HttpAction::Redirect(rd) => Act::Redirect(CompiledRedirect::new(rd, &names)?),
        HttpAction::Return { status, content_type, body, headers } => {
            Act::Return(CompiledReturn::new(*status, content_type.as_deref(), body.as_deref(), headers, &names)?)
        }
        HttpAction::AddHeader { name: n, value } => Act::AddHeader(name(n), fmt(value)?),
        HttpAction::SetHeader { name: n, value } => Act::SetHeader(name(n), fmt(value)?),
        HttpAction::DelHeader { name: n } => Act::DelHeader(name(n)),
        HttpAction::ReplaceHeader { name: n, regex, replacement } => Act::ReplaceHeader {
            name: name(n),
            re: compile_regex(regex, false)?,
            repl: fmt(replacement)?,
            each_value: false,
        },
        HttpAction::ReplaceValue { name: n, regex, replacement } => Act::ReplaceHeader {
            name: name(n),
            re: compile_regex(regex, false)?,
            repl: fmt(replacement)?,
            each_value: true,
        },
        HttpAction::SetPath(v) => Act::SetPath(fmt(v)?),
        HttpAction::SetUri(v) => Act::SetUri(fmt(v)?),
        HttpAction::SetQuery(v) => Act::SetQuery(fmt(v)?),
        HttpAction::SetMethod(v) => Act::SetMethod(fmt(v)?),
        HttpAction::ReplacePath { regex, replacement } => {
            Act::ReplacePath(compile_regex(regex, false)?, fmt(replacement)?)
        }
        HttpAction::ReplaceUri { regex, replacement } => {
            Act::ReplaceUri(compile_regex(regex, false)?, fmt(replacement)?)
        }
        HttpAction::SetStatus(s) => Act::SetStatus(*s),
        HttpAction::UseService(name) => Act::Service(Service::named(name)?),
        HttpAction::Track(t) => Act::Track {
            sc: t.sc,
            key: crate::acl::fetch::compile_expr(&t.key, &names).map_err(|e| format!("'track-sc{}': {e}", t.sc))?,
            table: names.table(t.table.as_deref()),
        },
        HttpAction::ScIncGpc0(sc) => Act::IncGpc0(*sc),
        HttpAction::ScSetGpt0(sc, v) => Act::SetGpt0(*sc, *v),
        HttpAction::SetVar { .. } | HttpAction::Other(_) => Act::Nothing,
    };
    Ok(Rule { act, cond: acls.opt_cond(r.cond.as_ref())? })
}

impl CompiledRules {
    /// Compile a proxy's ACLs, `http-request`/`http-response` rules, 1.4 rules, redirects and forwarding options,
    /// the names they refer to resolved through `names`. Errors (a bad regex, an unknown fetch in a `%[…]`)
    /// name the rule's position.
    pub fn new(px: &Proxy, names: std::rc::Rc<Names>) -> Result<CompiledRules, String> {
        let mut acls = CompiledAcls::new(&px.acls, names.clone())?;
        let rules = |list: &[HttpRule], response: bool, acls: &mut CompiledAcls| {
            list.iter()
                .map(|r| compile_rule(r, &px.name, acls, response).map_err(|e| format!("parsing [{}] : {e}", r.pos)))
                .collect::<Result<Vec<_>, String>>()
        };
        let http_request = rules(&px.http_request, false, &mut acls)?;
        let http_response = rules(&px.http_response, true, &mut acls)?;
        let legacy = Legacy::new(&px.legacy_rules, &mut acls)?;
        let redirects = px
            .redirects
            .iter()
            .map(|r| Ok((CompiledRedirect::new(r, &names)?, acls.opt_cond(r.cond.as_ref())?)))
            .collect::<Result<_, String>>()?;
        Ok(CompiledRules {
            name: px.name.clone(),
            acls,
            http_request,
            http_response,
            legacy,
            redirects,
            forwardfor: px.options.forwardfor.clone(),
            originalto: px.options.originalto.clone(),
        })
    }

    /// The proxy's compiled ACLs (for `use_backend`, `monitor fail`, … conditions compiled with them).
    pub fn acls(&self) -> &CompiledAcls {
        &self.acls
    }

    /// Compile another condition against this proxy's ACLs (`use_backend`, `monitor fail`, `stick … if`).
    pub fn cond(&mut self, cond: &Cond) -> Result<CompiledCond, String> {
        self.acls.cond(cond)
    }

    /// Evaluate a condition compiled with [`CompiledRules::cond`] on a request (`first_req` = `http_first_req`).
    pub fn eval(&self, cond: &CompiledCond, req: &HttpView<'_>, conn: &dyn Context) -> bool {
        let ex = Exchange { conn, req_buf: req.buf, req: req.head, first_req: req.first_req, res: None };
        self.acls.eval(cond, &ex.ctx(req.edits, None))
    }

    /// The proxy's name (the default `auth` realm).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The parts of an exchange that do not change while rules run; [`Exchange::ctx`] adds the current edits.
#[derive(Clone, Copy)]
pub(super) struct Exchange<'a> {
    pub conn: &'a dyn Context,
    pub req_buf: &'a [u8],
    pub req: &'a RequestHead,
    pub first_req: bool,
    pub res: Option<(&'a [u8], &'a ResponseHead)>,
}

impl<'a> Exchange<'a> {
    /// A context for fetches that sees the given edits.
    pub fn ctx(&self, req_edits: Option<&'a HeadEdits>, res_edits: Option<&'a HeadEdits>) -> RuleCtx<'a> {
        let res = self.res.map(|(buf, head)| ResView { buf, head, edits: res_edits });
        RuleCtx {
            conn: self.conn,
            view: HttpView { buf: self.req_buf, head: self.req, edits: req_edits, first_req: self.first_req, res },
        }
    }
}

/// A [`Context`] made of the caller's connection context and the HTTP view.
pub(super) struct RuleCtx<'a> {
    conn: &'a dyn Context,
    pub view: HttpView<'a>,
}

impl Context for RuleCtx<'_> {
    fn src(&self) -> SocketAddr {
        self.conn.src()
    }
    fn dst(&self) -> SocketAddr {
        self.conn.dst()
    }
    fn counter(&self, c: &crate::acl::fetch::Counter) -> Option<Sample> {
        self.conn.counter(c)
    }
    fn http(&self) -> Option<HttpView<'_>> {
        Some(self.view)
    }
    fn table_fetch(&self, f: &crate::stick::TableFetch) -> Option<Sample> {
        self.conn.table_fetch(f)
    }
    fn table_action(&self, a: crate::stick::TableAction<'_>) {
        self.conn.table_action(a)
    }
}

/// Call `f` on each current header of the request (or the response).
pub(super) fn for_headers<'a>(view: &HttpView<'a>, res: bool, f: &mut dyn FnMut(Hdr<'a>)) {
    if res {
        if let Some(r) = view.res {
            r.headers().for_each(f);
        }
    } else {
        view.headers().for_each(f);
    }
}

/// What one rule asks for.
enum Step {
    Ops(Vec<Op>),
    /// `allow`: stop evaluating this rule list.
    Stop,
    Final(Verdict),
}

/// The request line with some parts replaced.
fn request_line(view: &HttpView<'_>, method: Option<&[u8]>, uri: Option<&[u8]>) -> Vec<u8> {
    let sl = view.start_line();
    let (m, u) = (method.unwrap_or(sl.method), uri.unwrap_or(sl.uri));
    let mut l = Vec::with_capacity(m.len() + u.len() + sl.version.len() + 2);
    for (i, part) in [m, u, sl.version].into_iter().enumerate() {
        if i > 0 {
            l.push(b' ');
        }
        l.extend_from_slice(part);
    }
    l
}

/// `uri` with its path replaced by `path` (scheme/authority and query kept).
fn with_path(uri: &[u8], path: &[u8]) -> Vec<u8> {
    let start = view::path_start(uri).unwrap_or(0);
    let mut u = uri[..start].to_vec();
    u.extend_from_slice(path);
    if let Some(q) = view::query_of(uri) {
        u.push(b'?');
        u.extend_from_slice(q);
    }
    u
}

/// Replace each comma-separated value of `v` the regex matches; `None` if nothing changed.
fn replace_values(re: &Regex, v: &[u8], repl: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len() + repl.len());
    let mut changed = false;
    for (i, part) in v.split(|&c| c == b',').enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let core = view::trim(part);
        let lead = part.len() - part.trim_ascii_start().len();
        out.extend_from_slice(&part[..lead]);
        match edit::replace_whole(re, core, repl) {
            Some(n) => {
                changed = true;
                out.extend_from_slice(&n);
            }
            None => out.extend_from_slice(core),
        }
        out.extend_from_slice(&part[lead + core.len()..]);
    }
    changed.then_some(out)
}

/// Run one action against the current view.
fn step(act: &Act, ctx: &RuleCtx<'_>, res: bool) -> Step {
    let view = &ctx.view;
    let named = |name: &[u8]| {
        let mut slots = Vec::new();
        for_headers(view, res, &mut |h| {
            if h.name.eq_ignore_ascii_case(name) {
                slots.push(h);
            }
        });
        slots
    };
    let uri = || view.start_line().uri;
    let ops = match act {
        Act::Allow => return Step::Stop,
        Act::Deny(s) => return Step::Final(Verdict::Deny(*s)),
        Act::Service(s) => return Step::Final(Verdict::Service(*s)),
        Act::Tarpit(s) => return Step::Final(Verdict::Tarpit(*s)),
        Act::Auth(realm) => return Step::Final(Verdict::Auth(realm.clone())),
        Act::Redirect(r) => return Step::Final(Verdict::Redirect(r.response(view, ctx))),
        Act::Return(r) => return Step::Final(Verdict::Return(r.response(ctx))),
        Act::Nothing => return Step::Ops(Vec::new()),
        Act::Track { sc, key, table } => {
            crate::acl::fetch::each(key, ctx, false, &mut |v| {
                ctx.table_action(TableAction::Track { sc: *sc, table: *table, key: v });
                true
            });
            return Step::Ops(Vec::new());
        }
        Act::IncGpc0(sc) => {
            ctx.table_action(TableAction::IncGpc0(*sc));
            return Step::Ops(Vec::new());
        }
        Act::SetGpt0(sc, v) => {
            ctx.table_action(TableAction::SetGpt0(*sc, *v));
            return Step::Ops(Vec::new());
        }
        Act::AddHeader(n, v) => vec![Op::Add(n.clone(), v.to_vec(ctx))],
        Act::SetHeader(n, v) => {
            let value = v.to_vec(ctx);
            let mut ops: Vec<Op> = named(n).into_iter().map(|h| Op::Delete(h.slot)).collect();
            ops.push(Op::Add(n.clone(), value));
            ops
        }
        Act::DelHeader(n) => named(n).into_iter().map(|h| Op::Delete(h.slot)).collect(),
        Act::ReplaceHeader { name, re, repl, each_value } => {
            let hdrs = named(name);
            if hdrs.is_empty() {
                return Step::Ops(Vec::new());
            }
            let repl = repl.to_vec(ctx);
            hdrs.into_iter()
                .filter_map(|h| {
                    let new = if *each_value {
                        replace_values(re, h.value, &repl)
                    } else {
                        edit::replace_whole(re, h.value, &repl)
                    };
                    new.map(|v| Op::Replace(h.slot, v))
                })
                .collect()
        }
        Act::SetPath(f) => vec![Op::StartLine(request_line(view, None, Some(&with_path(uri(), &f.to_vec(ctx)))))],
        Act::SetUri(f) => vec![Op::StartLine(request_line(view, None, Some(&f.to_vec(ctx))))],
        Act::SetMethod(f) => vec![Op::StartLine(request_line(view, Some(&f.to_vec(ctx)), None))],
        Act::SetQuery(f) => {
            let u = uri();
            let mut new = u[..u.iter().position(|&c| c == b'?').unwrap_or(u.len())].to_vec();
            let q = f.to_vec(ctx);
            if !q.is_empty() {
                new.push(b'?');
                new.extend_from_slice(&q);
            }
            vec![Op::StartLine(request_line(view, None, Some(&new)))]
        }
        Act::ReplacePath(re, repl) => {
            let u = uri();
            let Some(path) = view::path_of(u) else { return Step::Ops(Vec::new()) };
            match edit::replace_whole(re, path, &repl.to_vec(ctx)) {
                Some(p) => vec![Op::StartLine(request_line(view, None, Some(&with_path(u, &p))))],
                None => Vec::new(),
            }
        }
        Act::ReplaceUri(re, repl) => match edit::replace_whole(re, uri(), &repl.to_vec(ctx)) {
            Some(u) => vec![Op::StartLine(request_line(view, None, Some(&u)))],
            None => Vec::new(),
        },
        Act::SetStatus(code) => {
            let Some(r) = view.res else { return Step::Ops(Vec::new()) };
            let version = r.status_line().split(|&c| c == b' ').next().unwrap_or(b"HTTP/1.1");
            let mut l = version.to_vec();
            l.extend_from_slice(format!(" {code} {}", reply::reason(*code)).as_bytes());
            vec![Op::StartLine(l)]
        }
    };
    Step::Ops(ops)
}

/// Run a rule list; `Some(verdict)` when a final action fired.
fn run_rules(
    rules: &[Rule],
    acls: &CompiledAcls,
    ex: &Exchange<'_>,
    res: bool,
    edits: &mut HeadEdits,
) -> Option<Verdict> {
    for rule in rules {
        let result = {
            let ctx = if res { ex.ctx(None, Some(edits)) } else { ex.ctx(Some(edits), None) };
            if !acls.eval_opt(rule.cond.as_ref(), &ctx) {
                continue;
            }
            step(&rule.act, &ctx, res)
        };
        match result {
            Step::Ops(ops) => edit::apply(ops, edits),
            Step::Stop => break,
            Step::Final(v) => return Some(v),
        }
    }
    None
}

/// Apply a proxy's request rules to a request (see the module docs for the order). `conn` answers layer-4 and
/// counter fetches; `first_req` is `http_first_req`. Call for the frontend, then for the backend if different.
pub fn apply_request(
    rules: &CompiledRules,
    buf: &[u8],
    head: &RequestHead,
    first_req: bool,
    conn: &dyn Context,
    edits: &mut HeadEdits,
) -> Verdict {
    let ex = Exchange { conn, req_buf: buf, req: head, first_req, res: None };
    if rules.legacy.blocked(&rules.acls, &ex.ctx(Some(edits), None)) {
        return Verdict::Deny(403);
    }
    if let Some(v) = run_rules(&rules.http_request, &rules.acls, &ex, false, edits) {
        return v;
    }
    if let Some(v) = legacy::run(&rules.legacy, &rules.acls, &ex, false, edits) {
        return v;
    }
    let ctx = ex.ctx(Some(edits), None);
    for (r, cond) in &rules.redirects {
        if rules.acls.eval_opt(cond.as_ref(), &ctx) {
            return Verdict::Redirect(r.response(&ctx.view, &ctx));
        }
    }
    Verdict::Continue
}

/// Apply a proxy's response rules: `http-response` rules, then 1.4 `rsp*` filters and `rspadd`. `req_buf` and
/// `req` are the request if still available (else `&[]` and a default head: request fetches then find
/// nothing). A deny is `Verdict::Deny(502)` unless another `deny_status` was configured.
pub fn apply_response(
    rules: &CompiledRules,
    req: &HttpView<'_>,
    res_buf: &[u8],
    res: &ResponseHead,
    conn: &dyn Context,
    edits: &mut HeadEdits,
) -> Verdict {
    let ex = Exchange { conn, req_buf: req.buf, req: req.head, first_req: req.first_req, res: Some((res_buf, res)) };
    if let Some(v) = run_rules(&rules.http_response, &rules.acls, &ex, true, edits) {
        return v;
    }
    legacy::run(&rules.legacy, &rules.acls, &ex, true, edits).unwrap_or(Verdict::Continue)
}

/// The header `option forwardfor` would add for client `src`, or `None` when `except` matches or `if-none` and
/// the header is already there.
pub fn forward_for(ff: &ForwardFor, view: &HttpView<'_>, src: IpAddr) -> Option<(Vec<u8>, Vec<u8>)> {
    if ff.except.is_some_and(|n| n.contains(src)) {
        return None;
    }
    if ff.if_none && view.first_header(ff.header.as_bytes()).is_some() {
        return None;
    }
    Some((ff.header.as_bytes().to_vec(), ip_text(src).into_bytes()))
}

/// Add `X-Forwarded-For` / `X-Original-To` once per request after all rules ran: the backend's option is used
/// when it has one (its header name wins), else the frontend's.
pub fn apply_forwarding(
    fe: &CompiledRules,
    be: Option<&CompiledRules>,
    buf: &[u8],
    head: &RequestHead,
    conn: &dyn Context,
    edits: &mut HeadEdits,
) {
    let pick = |f: fn(&CompiledRules) -> Option<&ForwardFor>| be.and_then(f).or_else(|| f(fe)).cloned();
    let ff = pick(|r| r.forwardfor.as_ref());
    let ot = pick(|r| r.originalto.as_ref());
    let mut add = Vec::new();
    {
        let view = HttpView { buf, head, edits: Some(edits), first_req: true, res: None };
        if let Some(h) = ff.as_ref().and_then(|ff| forward_for(ff, &view, conn.src().ip())) {
            add.push(Op::Add(h.0, h.1));
        }
        if let Some(h) = ot.as_ref().and_then(|ot| forward_for(ot, &view, conn.dst().ip())) {
            add.push(Op::Add(h.0, h.1));
        }
    }
    edit::apply(add, edits);
}

#[cfg(test)]
mod tests;
