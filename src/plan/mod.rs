//! The compiled plan: what every proxy's configuration becomes before any traffic — rules, conditions and
//! `tcp-request` actions compiled, log formats parsed, stick-table references checked. The same compilation
//! serves `-c`, a reload (the master refuses a config that does not compile) and each worker, which builds its
//! live state ([`crate::stream::runtime::Runtime`]) from it.

use std::rc::Rc;

use crate::acl::fetch::{compile_expr, Expr};
use crate::acl::{CompiledCond, Names};
use crate::config::model::{AclTerm, Config, HttpAction, LogFormat, Pos, StickData, Track};
use crate::log::LogFormatSpec;
use crate::rules::CompiledRules;

/// A log-format string compiled: its layout, and its `%[…]` samples compiled with the same sample-fetch
/// registry ACLs and rules use (in the order [`LogFormatSpec::sample_exprs`] gives them).
#[derive(Debug, Clone)]
pub struct Format {
    pub spec: LogFormatSpec,
    pub samples: Vec<Expr>,
}

impl Format {
    /// Compile `text` (`log-format`, `unique-id-format`), its samples' names resolved through `names`.
    pub fn compile(text: &str, names: &Names) -> Result<Format, String> {
        let spec = LogFormatSpec::parse(text)?;
        let samples = spec.sample_exprs().map(|e| compile_expr(e, names)).collect::<Result<_, _>>()?;
        Ok(Format { spec, samples })
    }

    /// Append the line for `v` to `out`, its samples fetched from `ctx` (the last value of a fetch that
    /// gives several, as HAProxy; none: `-`).
    pub fn render(&self, v: &crate::log::LogValues<'_>, ctx: &dyn crate::acl::Context, out: &mut String) {
        let sample = |rank: usize| {
            let mut bytes = Vec::new();
            let expr = self.samples.get(rank)?;
            crate::acl::fetch::render(expr, ctx, &mut bytes).then(|| String::from_utf8_lossy(&bytes).into_owned())
        };
        self.spec.render(v, &sample, out);
    }

    /// [`Format::render`] into a new string.
    pub fn render_to_string(&self, v: &crate::log::LogValues<'_>, ctx: &dyn crate::acl::Context) -> String {
        let mut s = String::with_capacity(256);
        self.render(v, ctx, &mut s);
        s
    }
}

/// `unique-id-format FMT` and `unique-id-header NAME` of a frontend.
#[derive(Debug, Clone)]
pub struct UniqueId {
    pub format: Format,
    /// The request header that carries the id to the server, if any.
    pub header: Option<Vec<u8>>,
}

/// What a `tcp-request` rule does when its condition holds.
#[derive(Debug, Clone, PartialEq)]
pub enum TcpAction {
    /// `accept`: stop evaluating this rule set, go on.
    Accept,
    /// `reject`: close the connection (no response, no log for connection rules).
    Reject,
    /// `track-scN KEY [table T]`: track the key's entry (see [`crate::stick`]), evaluation goes on.
    Track { sc: u8, key: crate::acl::fetch::Expr, table: Option<usize> },
    /// `sc-inc-gpc0(N)`.
    IncGpc0(u8),
    /// Any other action (`set-var`, `capture`, …): no effect yet, evaluation goes on.
    Pass,
}

/// One compiled `tcp-request` rule.
#[derive(Debug, Clone)]
pub struct TcpRule {
    pub action: TcpAction,
    pub cond: Option<CompiledCond>,
}

/// One proxy's compiled rules and the conditions compiled against the same ACL set.
#[derive(Debug)]
pub struct CompiledProxy {
    pub rules: Rc<CompiledRules>,
    /// (`use_backend` target as a config proxy index, condition); a target computed per request (`%[…]`)
    /// is not supported and left out.
    pub use_backends: Vec<(usize, Option<CompiledCond>)>,
    pub monitor_fail: Vec<CompiledCond>,
    /// `stats admin if COND`.
    pub stats_admin: Option<CompiledCond>,
    /// `tcp-request connection` rules.
    pub tcp_connection: Vec<TcpRule>,
    /// `tcp-request session` rules.
    pub tcp_session: Vec<TcpRule>,
    /// `tcp-request content` rules.
    pub tcp_content: Vec<TcpRule>,
    /// `use-server` rules: (the server's position among the proxy's `server` lines, condition).
    pub use_servers: Vec<(usize, Option<CompiledCond>)>,
    /// The traffic log line's format, compiled (`log-format`, or HAProxy's tcplog/httplog/clf formats);
    /// `None` for the default `Connect from` line.
    pub log_format: Option<Format>,
    /// `unique-id-format` (and `unique-id-header`), compiled.
    pub unique_id: Option<UniqueId>,
}

/// The names rules and fetches may refer to, with the indexes they resolve to.
pub fn names(cfg: &Config) -> Names {
    let mut n = Names::default();
    for (pi, p) in cfg.proxies.iter().enumerate() {
        if p.kind.has_backend() {
            n.backends.entry(p.name.clone()).or_insert(pi);
        }
        if p.stick.as_ref().is_some_and(|st| !st.table_type.is_empty()) {
            n.tables.entry(p.name.clone()).or_insert(pi);
        }
    }
    for (i, u) in cfg.userlists.iter().enumerate() {
        n.userlists.entry(u.name.clone()).or_insert(i);
    }
    n
}

/// Compile every proxy's ACLs and rules once (also what `-c` and the master run to refuse a bad config early).
pub fn compile_all(cfg: &Config) -> Result<Vec<CompiledProxy>, String> {
    let names = Rc::new(names(cfg));
    check_tables(cfg, &names)?;
    cfg.proxies
        .iter()
        .map(|p| {
            // The traffic log line, whatever its option: one log-format engine renders them all (`option
            // tcplog`/`httplog [clf]` are HAProxy's own formats); TCP proxies log tcplog for `option httplog`.
            let http = p.mode == crate::config::model::Mode::Http;
            let log_format = match &p.log_format {
                LogFormat::Default => None,
                LogFormat::Custom(f) => {
                    Some(Format::compile(f, &names).map_err(|e| format!("{}: log-format: {e}", p.pos))?)
                }
                LogFormat::Http { clf: true } if http => Some(Format::compile(crate::log::CLF_FMT, &names)?),
                LogFormat::Http { .. } if http => Some(Format::compile(crate::log::HTTPLOG_FMT, &names)?),
                LogFormat::Http { .. } | LogFormat::Tcp => Some(Format::compile(crate::log::TCPLOG_FMT, &names)?),
            };
            let unique_id = match &p.unique_id_format {
                Some(f) => Some(UniqueId {
                    format: Format::compile(f, &names).map_err(|e| format!("{}: unique-id-format: {e}", p.pos))?,
                    header: p.unique_id_header.as_ref().map(|h| h.as_bytes().to_vec()),
                }),
                None => None,
            };
            let mut rules = CompiledRules::new(p, names.clone())?;
            let mut use_backends = Vec::new();
            for u in &p.use_backends {
                let cond = match &u.cond {
                    Some(c) => Some(rules.cond(c).map_err(|e| format!("parsing [{}] : {e}", u.pos))?),
                    None => None,
                };
                if let Some(be) = names.backends.get(&u.backend) {
                    use_backends.push((*be, cond));
                }
            }
            let monitor_fail = p.monitor_fail.iter().map(|c| rules.cond(c)).collect::<Result<_, _>>()?;
            let stats_admin = match p.stats.as_ref().and_then(|s| s.admin.as_ref()) {
                Some(c) => Some(rules.cond(c)?),
                None => None,
            };
            let (mut tcp_connection, mut tcp_session, mut tcp_content) = (Vec::new(), Vec::new(), Vec::new());
            for r in &p.tcp_request {
                let cond = match &r.cond {
                    Some(c) => Some(rules.cond(c).map_err(|e| format!("parsing [{}] : {e}", r.pos))?),
                    None => None,
                };
                let words: Vec<String> = r.action.split_whitespace().map(str::to_string).collect();
                let action = match words.first().map(String::as_str) {
                    Some("accept") => TcpAction::Accept,
                    Some("reject") => TcpAction::Reject,
                    Some(a) if a.starts_with("track-sc") => {
                        let t = Track::parse(&words).map_err(|e| format!("parsing [{}] : {e}", r.pos))?;
                        let key = crate::acl::fetch::compile_expr(&t.key, &names)
                            .map_err(|e| format!("parsing [{}] : '{a}': {e}", r.pos))?;
                        TcpAction::Track { sc: t.sc, key, table: names.table(t.table.as_deref()) }
                    }
                    Some(a) if a.starts_with("sc-inc-gpc0") => TcpAction::IncGpc0(match a {
                        "sc-inc-gpc0(1)" => 1,
                        "sc-inc-gpc0(2)" => 2,
                        _ => 0,
                    }),
                    _ => TcpAction::Pass,
                };
                let rule = TcpRule { action, cond };
                match r.layer.as_str() {
                    "content" => tcp_content.push(rule),
                    "session" => tcp_session.push(rule),
                    _ => tcp_connection.push(rule),
                }
            }
            let mut use_servers = Vec::new();
            for u in &p.use_servers {
                let cond = match &u.cond {
                    Some(c) => Some(rules.cond(c).map_err(|e| format!("parsing [{}] : {e}", u.pos))?),
                    None => None,
                };
                if let Some(pos) = p.servers.iter().position(|s| s.name == u.server) {
                    use_servers.push((pos, cond));
                }
            }
            Ok(CompiledProxy {
                log_format,
                unique_id,
                use_servers,
                rules: Rc::new(rules),
                use_backends,
                monitor_fail,
                stats_admin,
                tcp_connection,
                tcp_session,
                tcp_content,
            })
        })
        .collect()
}

/// The proxies that declare a stick table, by name, with the data types they store.
fn table_of<'a>(cfg: &'a Config, name: &str) -> Option<&'a crate::config::model::StickConf> {
    cfg.proxies.iter().find(|p| p.name == name).and_then(|p| p.stick.as_ref()).filter(|st| !st.table_type.is_empty())
}

/// `-c` checks on stick tables: every `track-scN` names an existing table (its own proxy's by default) and a
/// key it can compute; every `sc_*`/`src_*`/`table_*` fetch reads a table that exists and stores what it reads
/// (for `sc_*` without `table`, one of the tables the proxy's `track-scN` rules for that counter use).
fn check_tables(cfg: &Config, names: &Names) -> Result<(), String> {
    let mut errors = Vec::new();
    for p in &cfg.proxies {
        // Tracks of this proxy: (counter, table name, position).
        let mut tracks: Vec<(u8, String, Pos)> = Vec::new();
        let mut add_track = |t: &Track, pos: &Pos, errors: &mut Vec<String>| {
            let act = format!("track-sc{}", t.sc);
            // HAProxy's words; without `table`, the proxy's own name is the table looked for.
            let table = t.table.as_deref().unwrap_or(&p.name).to_string();
            if table_of(cfg, &table).is_none() {
                errors.push(format!("parsing [{pos}] : unable to find table '{table}' referenced by {act}."));
                return;
            }
            if let Err(e) = crate::acl::fetch::compile_expr(&t.key, names) {
                errors.push(format!("parsing [{pos}] : '{act}' : {e}."));
            }
            tracks.push((t.sc, table, pos.clone()));
        };
        for r in p.http_request.iter().chain(&p.http_response) {
            if let HttpAction::Track(t) = &r.action {
                add_track(t, &r.pos, &mut errors);
            }
        }
        for r in &p.tcp_request {
            let words: Vec<String> = r.action.split_whitespace().map(str::to_string).collect();
            if words.first().is_some_and(|a| a.starts_with("track-sc")) {
                match Track::parse(&words) {
                    Ok(t) => add_track(&t, &r.pos, &mut errors),
                    Err(e) => errors.push(format!("parsing [{}] : {e}", r.pos)),
                }
            }
        }
        let check_term = |term: &AclTerm, pos: &Pos, errors: &mut Vec<String>| {
            let Ok(crate::acl::fetch::Fetch::Table(tf)) =
                crate::acl::fetch::compile_fetch(&term.fetch, &term.args, names)
            else {
                return;
            };
            use crate::stick::Scope;
            let name = &term.fetch;
            let tables: Vec<String> = match (&tf.table, tf.scope) {
                (Some(t), _) => vec![t.clone()],
                (None, Scope::Sc(n)) => {
                    tracks.iter().filter(|(sc, _, _)| *sc == n).map(|(_, t, _)| t.clone()).collect()
                }
                (None, _) => vec![p.name.clone()],
            };
            let arg = if matches!(tf.scope, Scope::Sc(_)) && name.starts_with("sc_") { 2 } else { 1 };
            let mut stored_somewhere = tables.is_empty();
            for t in &tables {
                match table_of(cfg, t) {
                    None => {
                        errors.push(format!(
                            "parsing [{pos}] : unable to find table '{t}' referenced in arg {arg} of sample fetch \
                             keyword '{name}'."
                        ));
                        return;
                    }
                    Some(st) => {
                        let needs = tf.what.needs();
                        let stores = |d: StickData| st.store.iter().any(|s| s.data == d);
                        let ok = match needs {
                            None => true,
                            Some(StickData::Gpc0) => stores(StickData::Gpc0) || stores(StickData::Gpc0Rate),
                            Some(d) => stores(d),
                        };
                        stored_somewhere |= ok;
                    }
                }
            }
            if !stored_somewhere {
                let needs = tf.what.needs().map_or("", |d| d.name());
                errors.push(format!(
                    "parsing [{pos}] : '{name}' : stick-table '{}' does not store '{needs}'.",
                    tables.join("', '")
                ));
            }
        };
        for a in &p.acls {
            check_term(&a.term, &a.pos, &mut errors);
        }
        for r in p.stick.iter().flat_map(|st| &st.rules) {
            let table = r.table.as_deref().unwrap_or(&p.name);
            if table_of(cfg, table).is_none() {
                errors.push(format!("parsing [{}] : Proxy '{}': unable to find stick-table '{table}'.", r.pos, p.name));
            }
        }
        let cond_terms = |c: Option<&crate::config::model::Cond>, pos: &Pos, errors: &mut Vec<String>| {
            for t in c.into_iter().flat_map(|c| c.alternatives.iter().flatten()) {
                if let crate::config::model::CondTermKind::Anonymous(term) = &t.kind {
                    check_term(term, pos, errors);
                }
            }
        };
        for r in p.http_request.iter().chain(&p.http_response) {
            cond_terms(r.cond.as_ref(), &r.pos, &mut errors);
        }
        for r in &p.tcp_request {
            cond_terms(r.cond.as_ref(), &r.pos, &mut errors);
        }
        for u in &p.use_backends {
            cond_terms(u.cond.as_ref(), &u.pos, &mut errors);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n[ALERT] "))
    }
}
