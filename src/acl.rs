//! ACL evaluation: sample fetches, matching methods and `if`/`unless` conditions.
//!
//! Everything is resolved at worker start: [`CompiledAcls::new`] turns a proxy's `acl` lines into compiled terms
//! (fetch resolved to a [`fetch::Fetch`], patterns parsed, regexes compiled, `-i` patterns lower-cased) and
//! [`CompiledAcls::cond`] turns an `if`/`unless` condition into indexes, so evaluating a request only fetches and
//! compares. Layer-4 fetches (`src`, `dst`, …) come from the [`Context`]; HTTP fetches from its [`HttpView`];
//! stick-table fetches (`sc_*`, `scN_*`, `src_*`, `table_*`, compiled into [`crate::stick::TableFetch`]) from
//! [`Context::table_fetch`]; counters of the live state (`nbsrv`, `http_auth`…) from [`Context::counter`]. Names
//! a fetch refers to (backends, userlists, tables) are resolved to indexes when it is compiled ([`Names`]). A
//! fetch without a sample does not match, as in HAProxy.

pub mod fetch;
pub mod view;

use std::net::SocketAddr;

use regex::bytes::Regex;

pub use crate::config::model::compile_regex;
use crate::config::model::{Acl, AclTerm, Cond, CondTermKind, IpNet, MatchMethod};
pub use crate::sample::{Names, Sample, Val};
pub use view::{HttpView, ResView};

/// What fetches can see: the connection, the HTTP exchange if any, and counters the caller can answer.
pub trait Context {
    /// Client address.
    fn src(&self) -> SocketAddr;
    /// Local address the client connected to.
    fn dst(&self) -> SocketAddr;
    /// A counter of the proxies' live state (`nbsrv`, `be_conn`, `connslots`, `http_auth`): `None` = no sample.
    fn counter(&self, _c: &fetch::Counter) -> Option<Sample> {
        None
    }
    /// The HTTP request (and response) being processed; `None` in TCP mode.
    fn http(&self) -> Option<HttpView<'_>> {
        None
    }
    /// A stick-table fetch (`sc_*`, `src_*`, `table_*`): `None` = no sample (no table, untracked counter, data
    /// type not stored).
    fn table_fetch(&self, _f: &crate::stick::TableFetch) -> Option<Sample> {
        None
    }
    /// A stick-table action of a rule (`track-scN`, `sc-inc-gpc0`, `sc-set-gpt0`); ignored without tables.
    fn table_action(&self, _a: crate::stick::TableAction<'_>) {}
}

/// Parsed patterns of one ACL term.
#[derive(Debug, Clone)]
enum Pats {
    /// No pattern: true if the fetch yields a true/non-zero/any value.
    Bool,
    /// `-m found`.
    Found,
    /// Integer ranges (`eq|ge|gt|le|lt N`, `a:b`, `N`), also for `-m len`.
    Int(Vec<IntRange>),
    Ip(Vec<IpNet>),
    /// Lower-cased when `-i`.
    Bytes(Vec<Vec<u8>>),
    Reg(Vec<Regex>),
}

/// One compiled ACL term.
#[derive(Debug, Clone)]
pub struct CompiledTerm {
    expr: fetch::Expr,
    method: MatchMethod,
    icase: bool,
    pats: Pats,
}

/// An inclusive integer range, open ends as `None`.
type IntRange = (Option<i64>, Option<i64>);

fn parse_int_pattern(p: &str) -> Option<IntRange> {
    if let Some((a, b)) = p.split_once(':') {
        let lo = if a.is_empty() { None } else { Some(a.parse().ok()?) };
        let hi = if b.is_empty() { None } else { Some(b.parse().ok()?) };
        return Some((lo, hi));
    }
    let v: i64 = p.parse().ok()?;
    Some((Some(v), Some(v)))
}

fn int_patterns(pats: &[String]) -> Result<Vec<IntRange>, String> {
    let mut op: Option<&str> = None;
    let mut out = Vec::new();
    for p in pats {
        if matches!(p.as_str(), "eq" | "ge" | "gt" | "le" | "lt") {
            op = Some(p);
            continue;
        }
        let range = match op {
            None => parse_int_pattern(p),
            Some(o) => p.parse::<i64>().ok().map(|n| match o {
                "eq" => (Some(n), Some(n)),
                "ge" => (Some(n), None),
                "gt" => (n.checked_add(1), None),
                "le" => (None, Some(n)),
                _ => (None, n.checked_sub(1)),
            }),
        };
        out.push(range.ok_or_else(|| format!("'{p}' is not a valid integer pattern"))?);
    }
    Ok(out)
}

impl CompiledTerm {
    /// Compile one ACL term; bad patterns, regexes or unknown converters are errors.
    pub fn new(term: &AclTerm, names: &Names) -> Result<CompiledTerm, String> {
        let expr = fetch::Expr {
            fetch: fetch::compile_fetch(&term.fetch, &term.args, names)?,
            convs: fetch::compile_convs(&term.converters)?,
        };
        let icase = term.ignore_case;
        let pats = match term.method {
            MatchMethod::Found => Pats::Found,
            _ if term.patterns.is_empty() => Pats::Bool,
            MatchMethod::Bool => Pats::Bool,
            MatchMethod::Int | MatchMethod::Len => Pats::Int(int_patterns(&term.patterns)?),
            MatchMethod::Ip => Pats::Ip(
                term.patterns
                    .iter()
                    .map(|p| IpNet::parse(p).ok_or_else(|| format!("'{p}' is not a valid IPv4 or IPv6 address")))
                    .collect::<Result<_, _>>()?,
            ),
            MatchMethod::Reg => {
                Pats::Reg(term.patterns.iter().map(|p| compile_regex(p, icase)).collect::<Result<_, _>>()?)
            }
            MatchMethod::Dir | MatchMethod::Dom => {
                let delims: &[u8] = if term.method == MatchMethod::Dir { b"/?" } else { b"/?.:" };
                Pats::Bytes(
                    term.patterns
                        .iter()
                        .map(|p| {
                            let b = p.as_bytes();
                            let s = b.iter().position(|c| !delims.contains(c)).unwrap_or(b.len());
                            let e = b.iter().rposition(|c| !delims.contains(c)).map_or(s, |x| x + 1);
                            fold(&b[s..e], icase)
                        })
                        .collect(),
                )
            }
            _ => Pats::Bytes(term.patterns.iter().map(|p| fold(p.as_bytes(), icase)).collect()),
        };
        Ok(CompiledTerm { expr, method: term.method, icase, pats })
    }

    /// Does any value of the fetch match any pattern?
    pub fn eval(&self, ctx: &dyn Context) -> bool {
        fetch::each(&self.expr, ctx, true, &mut |v| self.matches(&v))
    }

    /// Does this one value match any pattern?
    pub fn matches(&self, v: &Val<'_>) -> bool {
        match &self.pats {
            Pats::Found => true,
            Pats::Bool => match v {
                Val::Bool(b) => *b,
                Val::Int(i) => *i != 0,
                _ => true,
            },
            Pats::Int(ranges) => {
                let n = match (self.method, v) {
                    (MatchMethod::Len, Val::Bytes(b)) => b.len() as i64,
                    (_, Val::Int(i)) => *i,
                    (_, Val::Bool(b)) => *b as i64,
                    (_, Val::Bytes(b)) => match leading_int(b) {
                        Some(n) => n,
                        None => return false,
                    },
                    _ => return false,
                };
                ranges.iter().any(|(lo, hi)| lo.is_none_or(|l| n >= l) && hi.is_none_or(|h| n <= h))
            }
            Pats::Ip(nets) => {
                let ip = match v {
                    Val::Ip(ip) => *ip,
                    Val::Bytes(b) => match std::str::from_utf8(b).ok().and_then(|s| s.trim().parse().ok()) {
                        Some(ip) => ip,
                        None => return false,
                    },
                    _ => return false,
                };
                nets.iter().any(|n| n.contains(ip))
            }
            Pats::Reg(res) => with_text(v, |t| res.iter().any(|r| r.is_match(t))),
            Pats::Bytes(pats) => with_text(v, |t| pats.iter().any(|p| self.match_bytes(t, p))),
        }
    }

    fn match_bytes(&self, t: &[u8], p: &[u8]) -> bool {
        let eq = |a: &[u8], b: &[u8]| if self.icase { a.eq_ignore_ascii_case(b) } else { a == b };
        let n = p.len();
        match self.method {
            MatchMethod::Beg => t.len() >= n && eq(&t[..n], p),
            MatchMethod::End => t.len() >= n && eq(&t[t.len() - n..], p),
            MatchMethod::Sub => n == 0 || t.windows(n).any(|w| eq(w, p)),
            MatchMethod::Dir => word(t, p, b"/?", &eq),
            MatchMethod::Dom => word(t, p, b"/?.:", &eq),
            _ => eq(t, p),
        }
    }
}

/// Lower-case when matching is case-insensitive.
fn fold(b: &[u8], icase: bool) -> Vec<u8> {
    if icase {
        b.to_ascii_lowercase()
    } else {
        b.to_vec()
    }
}

/// `p` occurs in `t` between delimiters (or the ends of `t`).
fn word(t: &[u8], p: &[u8], delims: &[u8], eq: &dyn Fn(&[u8], &[u8]) -> bool) -> bool {
    let n = p.len();
    if n == 0 || t.len() < n {
        return false;
    }
    (0..=t.len() - n).any(|i| {
        (i == 0 || delims.contains(&t[i - 1]))
            && (i + n == t.len() || delims.contains(&t[i + n]))
            && eq(&t[i..i + n], p)
    })
}

/// The integer at the start of `b` (as `atoi`): optional sign then digits.
fn leading_int(b: &[u8]) -> Option<i64> {
    let b = view::trim(b);
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let end = digits.iter().position(|c| !c.is_ascii_digit()).unwrap_or(digits.len());
    let n: i64 = std::str::from_utf8(&digits[..end]).ok()?.parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Run `f` on the value as bytes (integers and addresses are formatted).
fn with_text(v: &Val<'_>, f: impl Fn(&[u8]) -> bool) -> bool {
    match v {
        Val::Bytes(b) => f(b),
        Val::Int(i) => f(i.to_string().as_bytes()),
        Val::Ip(ip) => f(fetch::ip_text(*ip).as_bytes()),
        Val::Bool(b) => f(if *b { b"1" } else { b"0" }),
    }
}

/// The predefined ACLs HAProxy declares in every proxy.
fn predefined(name: &str) -> Option<AclTerm> {
    let t = |fetch: &str, args: &[&str], method, pats: &[&str]| AclTerm {
        fetch: fetch.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        converters: vec![],
        method,
        ignore_case: false,
        patterns: pats.iter().map(|s| s.to_string()).collect(),
        files: vec![],
    };
    use MatchMethod as M;
    Some(match name {
        "TRUE" => t("always_true", &[], M::Bool, &[]),
        "FALSE" => t("always_false", &[], M::Bool, &[]),
        "HTTP" => t("req_proto_http", &[], M::Bool, &[]),
        "HTTP_1.0" => t("req_ver", &[], M::Str, &["1.0"]),
        "HTTP_1.1" => t("req_ver", &[], M::Str, &["1.1"]),
        "HTTP_2.0" => t("req_ver", &[], M::Str, &["2.0"]),
        "HTTP_CONTENT" => t("hdr_val", &["content-length"], M::Int, &["gt", "0"]),
        "HTTP_URL_ABS" => t("url_reg", &[], M::Reg, &["^[^/:]*://"]),
        "HTTP_URL_SLASH" => t("url_beg", &[], M::Beg, &["/"]),
        "HTTP_URL_STAR" => t("url", &[], M::Str, &["*"]),
        "LOCALHOST" => t("src", &[], M::Ip, &["127.0.0.1/8", "::1"]),
        "METH_CONNECT" => t("method", &[], M::Str, &["CONNECT"]),
        "METH_DELETE" => t("method", &[], M::Str, &["DELETE"]),
        "METH_GET" => t("method", &[], M::Str, &["GET", "HEAD"]),
        "METH_HEAD" => t("method", &[], M::Str, &["HEAD"]),
        "METH_OPTIONS" => t("method", &[], M::Str, &["OPTIONS"]),
        "METH_POST" => t("method", &[], M::Str, &["POST"]),
        "METH_PUT" => t("method", &[], M::Str, &["PUT"]),
        "METH_TRACE" => t("method", &[], M::Str, &["TRACE"]),
        "RDP_COOKIE" => t("req_rdp_cookie_cnt", &[], M::Int, &["gt", "0"]),
        "REQ_CONTENT" => t("req_len", &[], M::Int, &["gt", "0"]),
        "WAIT_END" => t("wait_end", &[], M::Bool, &[]),
        _ => return None,
    })
}

/// A condition with ACL names resolved to indexes.
#[derive(Debug, Clone)]
pub struct CompiledCond {
    negate: bool,
    /// OR of ANDs of (negated?, operand).
    alternatives: Vec<Vec<(bool, Operand)>>,
}

#[derive(Debug, Clone)]
enum Operand {
    /// Index into `CompiledAcls::named`.
    Named(usize),
    Anonymous(CompiledTerm),
}

/// A proxy's ACLs, compiled once; named ACLs with several lines OR their lines.
#[derive(Debug, Clone, Default)]
pub struct CompiledAcls {
    /// (name, its lines), user ACLs then the predefined ones used.
    named: Vec<(String, Vec<CompiledTerm>)>,
    /// What the conditions compiled later may name.
    names: std::rc::Rc<Names>,
}

impl CompiledAcls {
    /// Compile a proxy's `acl` lines (errors name the ACL and its position).
    pub fn new(acls: &[Acl], names: std::rc::Rc<Names>) -> Result<CompiledAcls, String> {
        let mut named: Vec<(String, Vec<CompiledTerm>)> = Vec::new();
        for a in acls {
            let t = CompiledTerm::new(&a.term, &names)
                .map_err(|e| format!("parsing [{}] : acl '{}' : {e}", a.pos, a.name))?;
            match named.iter_mut().find(|(n, _)| *n == a.name) {
                Some((_, terms)) => terms.push(t),
                None => named.push((a.name.clone(), vec![t])),
            }
        }
        Ok(CompiledAcls { named, names })
    }

    /// The names conditions compiled here may refer to (for the rules compiled beside them).
    pub fn names(&self) -> std::rc::Rc<Names> {
        self.names.clone()
    }

    /// Resolve a condition's names (user ACLs first, then predefined ones) and compile its anonymous ACLs.
    pub fn cond(&mut self, cond: &Cond) -> Result<CompiledCond, String> {
        let mut alternatives = Vec::with_capacity(cond.alternatives.len());
        for and in &cond.alternatives {
            let mut terms = Vec::with_capacity(and.len());
            for t in and {
                let op = match &t.kind {
                    CondTermKind::Named(name) => Operand::Named(self.resolve(name)?),
                    CondTermKind::Anonymous(term) => Operand::Anonymous(CompiledTerm::new(term, &self.names)?),
                };
                terms.push((t.negate, op));
            }
            alternatives.push(terms);
        }
        Ok(CompiledCond { negate: cond.negate, alternatives })
    }

    /// Compile an optional condition.
    pub fn opt_cond(&mut self, cond: Option<&Cond>) -> Result<Option<CompiledCond>, String> {
        cond.map(|c| self.cond(c)).transpose()
    }

    fn resolve(&mut self, name: &str) -> Result<usize, String> {
        if let Some(i) = self.named.iter().position(|(n, _)| n == name) {
            return Ok(i);
        }
        let term = predefined(name).ok_or_else(|| format!("no such ACL : '{name}'"))?;
        self.named.push((name.to_string(), vec![CompiledTerm::new(&term, &self.names)?]));
        Ok(self.named.len() - 1)
    }

    /// Evaluate a compiled condition.
    pub fn eval(&self, cond: &CompiledCond, ctx: &dyn Context) -> bool {
        let any = cond.alternatives.iter().any(|and| {
            and.iter().all(|(neg, op)| {
                let v = match op {
                    Operand::Named(i) => self.named.get(*i).is_some_and(|(_, terms)| terms.iter().any(|t| t.eval(ctx))),
                    Operand::Anonymous(t) => t.eval(ctx),
                };
                v != *neg
            })
        });
        any != cond.negate
    }

    /// Evaluate an optional condition (none = true).
    pub fn eval_opt(&self, cond: Option<&CompiledCond>, ctx: &dyn Context) -> bool {
        cond.is_none_or(|c| self.eval(c, ctx))
    }
}

/// Evaluate a fetch's first value as an owned [`Sample`] (slow path: compiles the fetch; for tools and tests).
pub fn fetch(term: &AclTerm, ctx: &dyn Context) -> Option<Sample> {
    let expr = fetch::Expr {
        fetch: fetch::compile_fetch(&term.fetch, &term.args, &Names::default()).ok()?,
        convs: fetch::compile_convs(&term.converters).ok()?,
    };
    let mut out = None;
    fetch::each(&expr, ctx, false, &mut |v| {
        out = Some(match v {
            Val::Bool(b) => Sample::Bool(b),
            Val::Int(i) => Sample::Int(i),
            Val::Ip(ip) => Sample::Ip(ip),
            Val::Bytes(b) => Sample::Str(String::from_utf8_lossy(&b).into_owned()),
        });
        true
    });
    out
}

/// Does the sample match any of the term's patterns? (slow path: compiles the term.)
pub fn matches(term: &AclTerm, sample: &Sample) -> bool {
    let Ok(t) = CompiledTerm::new(term, &Names::default()) else { return false };
    let v = match sample {
        Sample::Bool(b) => Val::Bool(*b),
        Sample::Int(i) => Val::Int(*i),
        Sample::Ip(ip) => Val::Ip(*ip),
        Sample::Str(s) => Val::Bytes(s.as_bytes().into()),
    };
    t.matches(&v)
}

/// Evaluate one ACL term against the context (slow path: compiles the term; an invalid term is false).
pub fn eval_term(term: &AclTerm, ctx: &dyn Context) -> bool {
    CompiledTerm::new(term, &Names::default()).is_ok_and(|t| t.eval(ctx))
}

/// Evaluate a condition (slow path: compiles, per call, only the terms it needs, in evaluation order; a worker
/// should hold [`CompiledAcls`] and [`CompiledCond`]s instead). Named ACLs with several lines OR their lines.
pub fn eval_cond(cond: &Cond, acls: &[Acl], ctx: &dyn Context) -> bool {
    let any = cond.alternatives.iter().any(|and| {
        and.iter().all(|t| {
            let v = match &t.kind {
                CondTermKind::Named(name) if acls.iter().any(|a| &a.name == name) => {
                    acls.iter().filter(|a| &a.name == name).any(|a| eval_term(&a.term, ctx))
                }
                CondTermKind::Named(name) => predefined(name).is_some_and(|term| eval_term(&term, ctx)),
                CondTermKind::Anonymous(term) => eval_term(term, ctx),
            };
            v != t.negate
        })
    });
    any != cond.negate
}

#[cfg(test)]
mod tests;
