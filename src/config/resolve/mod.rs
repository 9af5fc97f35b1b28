//! Parse tree (tokenized, preprocessed lines) → [`Config`]: sections, `defaults` inheritance, legacy mappings,
//! cross-references and validation. Every error carries `file:line`; all errors are collected.

mod checks;
mod global;
mod options;
mod persist;
mod proxy;
mod rules;
mod server;

use std::collections::{HashMap, HashSet};

use super::grammar::Line;
use super::model::*;
use super::{DiagLevel, Diagnostic};

pub(crate) use proxy::PxBuilder;
pub use server::parse_bind_addrs;

/// Collects diagnostics while resolving.
#[derive(Default)]
pub(crate) struct Ctx {
    pub diags: Vec<Diagnostic>,
}

impl Ctx {
    pub fn alert(&mut self, pos: &Pos, msg: impl Into<String>) {
        self.diags.push(Diagnostic { level: DiagLevel::Alert, pos: Some(pos.clone()), message: msg.into() });
    }
    pub fn warn(&mut self, pos: &Pos, msg: impl Into<String>) {
        self.diags.push(Diagnostic { level: DiagLevel::Warning, pos: Some(pos.clone()), message: msg.into() });
    }
}

/// The `not supported yet` message used for every keyword whose behaviour nbproxy does not have.
pub(crate) fn unsupported(kw: &str) -> String {
    format!("'{kw}' is not supported yet")
}

/// Section kinds nbproxy refuses as a whole.
#[rustfmt::skip]
const REFUSED_SECTIONS: &[&str] = &[
    "resolvers", "peers", "program", "mailers", "cache", "ring", "http-errors", "crt-store", "log-forward",
];

enum Section {
    None,
    Global,
    Defaults(Box<PxBuilder>),
    Proxy(Box<PxBuilder>),
    Userlist(Userlist),
    Skip,
}

/// Turn preprocessed lines into a config; alerts and warnings go to `diags`.
pub fn resolve(lines: Vec<Line>, diags: &mut Vec<Diagnostic>) -> Config {
    let mut ctx = Ctx::default();
    let mut cfg = Config::default();
    let mut global_seen = false;
    let mut defaults = PxBuilder::defaults(Pos::default(), None);
    let mut named_defaults: HashMap<String, PxBuilder> = HashMap::new();
    let mut builders: Vec<PxBuilder> = Vec::new();
    let mut section = Section::None;

    for line in lines {
        let kw = line.words[0].as_str();
        let is_section = matches!(kw, "global" | "defaults" | "frontend" | "backend" | "listen" | "userlist")
            || REFUSED_SECTIONS.contains(&kw);
        if is_section {
            finish_section(
                std::mem::replace(&mut section, Section::None),
                &mut defaults,
                &mut named_defaults,
                &mut builders,
                &mut cfg,
            );
            section = open_section(&line, &mut ctx, &mut cfg, &mut global_seen, &defaults, &named_defaults, &builders);
            continue;
        }
        match &mut section {
            Section::None => ctx.alert(&line.pos, format!("unknown keyword '{kw}' out of section.")),
            Section::Global => global::keyword(&mut cfg.global, &line, &mut ctx),
            Section::Defaults(d) => d.keyword(&line, &mut ctx),
            Section::Proxy(b) => b.keyword(&line, &mut ctx),
            Section::Userlist(u) => userlist_keyword(u, &line, &mut ctx),
            Section::Skip => {}
        }
    }
    finish_section(section, &mut defaults, &mut named_defaults, &mut builders, &mut cfg);

    let global_logs = cfg.global.logs.clone();
    cfg.proxies = builders.into_iter().map(|b| b.finish(&global_logs, &mut ctx)).collect();
    assign_ids(&mut cfg, &mut ctx);
    validate(&cfg, &mut ctx);
    diags.append(&mut ctx.diags);
    cfg
}

fn open_section(
    line: &Line,
    ctx: &mut Ctx,
    cfg: &mut Config,
    global_seen: &mut bool,
    defaults: &PxBuilder,
    named: &HashMap<String, PxBuilder>,
    builders: &[PxBuilder],
) -> Section {
    let kw = line.words[0].as_str();
    let pos = &line.pos;
    match kw {
        "global" => {
            if !*global_seen {
                cfg.global.pos = pos.clone();
                *global_seen = true;
            }
            Section::Global
        }
        "defaults" => {
            let mut name = line.words.get(1).cloned();
            let mut from = None;
            if name.as_deref() == Some("from") {
                from = line.words.get(2).cloned();
                name = None;
            } else if line.words.get(2).map(String::as_str) == Some("from") {
                from = line.words.get(3).cloned();
            }
            let mut b = PxBuilder::defaults(pos.clone(), name);
            if let Some(f) = from {
                match named.get(&f) {
                    Some(d) => b = d.renamed_defaults(pos.clone(), b.name().map(str::to_string)),
                    None => ctx.alert(pos, format!("defaults section '{f}' not found")),
                }
            }
            Section::Defaults(Box::new(b))
        }
        "frontend" | "backend" | "listen" => {
            let kind = match kw {
                "frontend" => ProxyKind::Frontend,
                "backend" => ProxyKind::Backend,
                _ => ProxyKind::Listen,
            };
            let Some(name) = line.words.get(1) else {
                ctx.alert(pos, format!("'{kw}' expects <name> as an argument"));
                return Section::Skip;
            };
            if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
                ctx.alert(pos, format!("character '{bad}' is not permitted in '{kw}' name '{name}'"));
            }
            let mut rest = &line.words[2..];
            let mut base = defaults;
            if let Some(i) = rest.iter().position(|w| w == "from") {
                match rest.get(i + 1).and_then(|f| named.get(f)) {
                    Some(d) => base = d,
                    None => ctx.alert(
                        pos,
                        format!("defaults section '{}' not found", rest.get(i + 1).map(String::as_str).unwrap_or("")),
                    ),
                }
                rest = &rest[..i];
            }
            if let Some(other) = builders.iter().find(|b| b.name() == Some(name.as_str()) && conflicts(b.kind(), kind))
            {
                ctx.alert(
                    pos,
                    format!(
                        "{kw} '{name}' has the same name as {} '{name}' declared at {}",
                        other.kind().as_str(),
                        other.pos()
                    ),
                );
            }
            let mut b = base.new_proxy(kind, name.clone(), pos.clone());
            if !rest.is_empty() {
                // 1.4: `listen NAME ADDR:PORT[,…]` on the section line is a bind.
                if kind.has_frontend() {
                    b.bind_words(rest, pos, ctx);
                } else {
                    ctx.alert(pos, format!("'{kw}' section line does not take an address"));
                }
            }
            Section::Proxy(Box::new(b))
        }
        "userlist" => match line.words.get(1) {
            Some(n) => Section::Userlist(Userlist { pos: pos.clone(), name: n.clone(), ..Default::default() }),
            None => {
                ctx.alert(pos, "'userlist' expects <name> as an argument");
                Section::Skip
            }
        },
        _ => {
            ctx.alert(pos, unsupported(kw));
            Section::Skip
        }
    }
}

fn finish_section(
    s: Section,
    defaults: &mut PxBuilder,
    named: &mut HashMap<String, PxBuilder>,
    builders: &mut Vec<PxBuilder>,
    cfg: &mut Config,
) {
    match s {
        Section::Defaults(d) => {
            if let Some(n) = d.name() {
                named.insert(n.to_string(), (*d).clone());
            }
            *defaults = *d;
        }
        Section::Proxy(b) => builders.push(*b),
        Section::Userlist(u) => cfg.userlists.push(u),
        _ => {}
    }
}

fn conflicts(a: ProxyKind, b: ProxyKind) -> bool {
    a == b || a == ProxyKind::Listen || b == ProxyKind::Listen
}

fn userlist_keyword(u: &mut Userlist, line: &Line, ctx: &mut Ctx) {
    let w = &line.words;
    match w[0].as_str() {
        "group" => {
            let Some(name) = w.get(1) else {
                return ctx.alert(&line.pos, "'group' expects <name> as an argument");
            };
            let mut users = Vec::new();
            if w.get(2).map(String::as_str) == Some("users") {
                users = w.get(3).map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default();
            }
            u.groups.push((name.clone(), users));
        }
        "user" => {
            let (Some(name), Some(kind), Some(pass)) = (w.get(1), w.get(2), w.get(3)) else {
                return ctx.alert(&line.pos, "'user' expects <name> password|insecure-password <password>");
            };
            let insecure = match kind.as_str() {
                "password" => false,
                "insecure-password" => true,
                k => return ctx.alert(&line.pos, format!("unknown keyword '{k}' for user '{name}'")),
            };
            let mut groups = Vec::new();
            if w.get(4).map(String::as_str) == Some("groups") {
                groups = w.get(5).map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default();
            }
            if !insecure && !crate::auth::hash_supported(pass) {
                ctx.warn(
                    &line.pos,
                    format!(
                        "user '{name}' in userlist '{}': this system's crypt(3) does not support the password hash \
                         method; this user will never be authenticated.",
                        u.name
                    ),
                );
            }
            u.users.push(UserEntry { name: name.clone(), password: pass.clone(), insecure, groups });
        }
        k => ctx.alert(&line.pos, format!("unknown keyword '{k}' in 'userlist' section")),
    }
}

fn assign_ids(cfg: &mut Config, ctx: &mut Ctx) {
    let mut used: HashMap<u32, String> = HashMap::new();
    for p in &cfg.proxies {
        if p.id != 0 {
            if let Some(other) = used.insert(p.id, p.name.clone()) {
                ctx.alert(&p.pos, format!("{} '{}' has the same id {} as '{other}'", p.kind.as_str(), p.name, p.id));
            }
        }
    }
    let mut next = 1;
    for p in &mut cfg.proxies {
        if p.id == 0 {
            while used.contains_key(&next) {
                next += 1;
            }
            p.id = next;
            used.insert(next, p.name.clone());
        }
    }
}

/// Every ACL term of a proxy: named ACLs and anonymous ones in conditions.
fn acl_terms(p: &Proxy) -> Vec<(&Pos, &AclTerm)> {
    let mut v: Vec<(&Pos, &AclTerm)> = p.acls.iter().map(|a| (&a.pos, &a.term)).collect();
    let mut conds: Vec<(&Pos, &Cond)> = Vec::new();
    conds.extend(p.use_backends.iter().filter_map(|u| u.cond.as_ref().map(|c| (&u.pos, c))));
    conds.extend(p.http_request.iter().chain(&p.http_response).filter_map(|r| r.cond.as_ref().map(|c| (&r.pos, c))));
    conds.extend(p.tcp_request.iter().filter_map(|r| r.cond.as_ref().map(|c| (&r.pos, c))));
    conds.extend(p.legacy_rules.iter().filter_map(|r| r.cond.as_ref().map(|c| (&r.pos, c))));
    for (pos, c) in conds {
        for t in c.alternatives.iter().flatten() {
            if let CondTermKind::Anonymous(a) = &t.kind {
                v.push((pos, a));
            }
        }
    }
    v
}

fn validate(cfg: &Config, ctx: &mut Ctx) {
    for p in &cfg.proxies {
        for (pos, t) in acl_terms(p) {
            if matches!(t.fetch.as_str(), "nbsrv" | "be_conn" | "connslots") {
                // HAProxy's check of a backend argument (`smp_resolve_args`).
                if let Some(b) = t.args.first().map(|a| a.trim()).filter(|a| !a.is_empty()) {
                    if cfg.backend(b).is_none() {
                        let what = format!("arg 1 of ACL keyword '{}' in proxy '{}'", t.fetch, p.name);
                        ctx.alert(pos, format!("unable to find backend '{b}' referenced in {what}."));
                    }
                }
            }
            if t.fetch == "http_auth" || t.fetch == "http_auth_group" {
                match t.args.first() {
                    Some(ul) if cfg.userlists.iter().any(|u| &u.name == ul) => {}
                    Some(ul) => ctx.alert(pos, format!("'{}': unable to find userlist '{ul}'.", t.fetch)),
                    None => ctx.alert(pos, format!("'{}' expects a userlist name in parentheses.", t.fetch)),
                }
            }
        }
        let check_be = |ctx: &mut Ctx, name: &str, pos: &Pos| {
            if name.contains("%[") {
                return;
            }
            match cfg.backend(name) {
                None => ctx.alert(
                    pos,
                    format!("{} '{}': unable to find required use_backend: '{name}'.", p.kind.as_str(), p.name),
                ),
                Some(be) if p.mode == Mode::Http && be.mode == Mode::Tcp => ctx.alert(
                    pos,
                    format!("{} '{}' (mode http) cannot use backend '{name}' (mode tcp).", p.kind.as_str(), p.name),
                ),
                _ => {}
            }
        };
        if let Some(db) = &p.default_backend {
            if p.kind.has_frontend() {
                check_be(ctx, db, &p.pos);
            }
        }
        for ub in &p.use_backends {
            check_be(ctx, &ub.backend, &ub.pos);
        }
        for lr in &p.legacy_rules {
            if lr.keyword.ends_with("setbe") {
                if let Some(b) = &lr.arg2 {
                    check_be(ctx, b, &lr.pos);
                }
            }
        }
        let names: HashSet<&str> = p.servers.iter().map(|s| s.name.as_str()).collect();
        for us in &p.use_servers {
            if !us.server.contains("%[") && !names.contains(us.server.as_str()) {
                ctx.alert(
                    &us.pos,
                    format!(
                        "{} '{}': unable to find server '{}' used in 'use-server'.",
                        p.kind.as_str(),
                        p.name,
                        us.server
                    ),
                );
            }
        }
        let mut seen = HashSet::new();
        for s in &p.servers {
            if !seen.insert(s.name.as_str()) {
                ctx.warn(
                    &s.pos,
                    format!("{} '{}': server name '{}' is used more than once.", p.kind.as_str(), p.name, s.name),
                );
            }
            if let Some(t) = &s.track {
                let (bname, sname) = t.split_once('/').unwrap_or((p.name.as_str(), t.as_str()));
                match cfg.backend(bname).and_then(|b| b.servers.iter().find(|x| x.name == sname)) {
                    None => ctx.alert(
                        &s.pos,
                        format!("unable to find required server '{t}' tracked by '{}/{}'.", p.name, s.name),
                    ),
                    Some(ts) if !ts.check && ts.track.is_none() => ctx.alert(
                        &s.pos,
                        format!("unable to use {bname}/{sname} for tracking as it does not have checks enabled."),
                    ),
                    Some(_) if s.check => ctx.alert(
                        &s.pos,
                        format!(
                            "server '{}/{}': unable to enable checks and tracking at the same time!",
                            p.name, s.name
                        ),
                    ),
                    _ => {}
                }
            }
        }
        let t = &p.timeouts;
        let missing = match p.kind {
            ProxyKind::Frontend => t.client.is_none(),
            ProxyKind::Backend => t.connect.is_none() || t.server.is_none(),
            ProxyKind::Listen => t.client.is_none() || t.connect.is_none() || t.server.is_none(),
        };
        if missing && p.mode != Mode::Health && !p.disabled {
            let kind = if p.kind == ProxyKind::Listen { "proxy" } else { p.kind.as_str() };
            ctx.warn(&p.pos, format!("missing timeouts for {kind} '{}'.", p.name));
        }
    }
}
