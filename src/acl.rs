//! ACL evaluation: sample fetches, matching methods and `if`/`unless` conditions.
//!
//! This milestone evaluates the layer-4 fetches a TCP proxy can answer (`src`, `src_port`, `dst`, `dst_port`,
//! `always_true`, `always_false`, `nbsrv`, `fe_conn`, `be_conn`, `connslots`); a fetch that needs HTTP data
//! yields no sample, and an ACL with no sample does not match, as HAProxy's does for missing samples.

use std::net::{IpAddr, SocketAddr};

use crate::config::model::{Acl, AclTerm, Cond, CondTermKind, IpNet, MatchMethod};

/// A fetched value.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str(String),
}

/// What fetches can see: the connection, and counters the caller can answer.
pub trait Context {
    /// Client address.
    fn src(&self) -> SocketAddr;
    /// Local address the client connected to.
    fn dst(&self) -> SocketAddr;
    /// A fetch this module does not know (HTTP fetches, counters): `None` = no sample.
    fn fetch(&self, name: &str, args: &[String]) -> Option<Sample>;
}

/// Evaluate a fetch.
pub fn fetch(term: &AclTerm, ctx: &dyn Context) -> Option<Sample> {
    match term.fetch.as_str() {
        "src" => Some(Sample::Ip(ctx.src().ip())),
        "src_port" => Some(Sample::Int(ctx.src().port() as i64)),
        "dst" => Some(Sample::Ip(ctx.dst().ip())),
        "dst_port" => Some(Sample::Int(ctx.dst().port() as i64)),
        "always_true" | "TRUE" => Some(Sample::Bool(true)),
        "always_false" | "FALSE" => Some(Sample::Bool(false)),
        other => ctx.fetch(other, &term.args),
    }
}

fn parse_int_pattern(p: &str) -> Option<(Option<i64>, Option<i64>)> {
    if let Some((a, b)) = p.split_once(':') {
        let lo = if a.is_empty() { None } else { Some(a.parse().ok()?) };
        let hi = if b.is_empty() { None } else { Some(b.parse().ok()?) };
        return Some((lo, hi));
    }
    let v: i64 = p.parse().ok()?;
    Some((Some(v), Some(v)))
}

fn parse_net(p: &str) -> Option<IpNet> {
    let (a, prefix) = match p.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (p, None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(m) => match m.parse::<u8>() {
            Ok(n) if n <= max => n,
            _ => {
                // A dotted netmask (255.255.0.0).
                let mask: std::net::Ipv4Addr = m.parse().ok()?;
                u32::from(mask).count_ones() as u8
            }
        },
    };
    Some(IpNet { addr, prefix })
}

/// Does the sample match any of the term's patterns?
pub fn matches(term: &AclTerm, sample: &Sample) -> bool {
    if term.patterns.is_empty() {
        return match sample {
            Sample::Bool(b) => *b,
            Sample::Int(i) => *i != 0,
            _ => true,
        };
    }
    // Integer comparisons may start with an operator: `eq|ge|gt|le|lt N`.
    if let Sample::Int(v) = sample {
        let mut pats = term.patterns.iter();
        if let Some(op) = term.patterns.first().filter(|p| matches!(p.as_str(), "eq" | "ge" | "gt" | "le" | "lt")) {
            pats.next();
            return pats.filter_map(|p| p.parse::<i64>().ok()).any(|n| match op.as_str() {
                "eq" => *v == n,
                "ge" => *v >= n,
                "gt" => *v > n,
                "le" => *v <= n,
                _ => *v < n,
            });
        }
        return term
            .patterns
            .iter()
            .filter_map(|p| parse_int_pattern(p))
            .any(|(lo, hi)| lo.is_none_or(|l| *v >= l) && hi.is_none_or(|h| *v <= h));
    }
    if let Sample::Ip(ip) = sample {
        return term.patterns.iter().filter_map(|p| parse_net(p)).any(|net| net.contains(*ip));
    }
    let text = match sample {
        Sample::Str(s) => s.clone(),
        Sample::Bool(b) => (*b as u8).to_string(),
        _ => return false,
    };
    let norm = |s: &str| if term.ignore_case { s.to_ascii_lowercase() } else { s.to_string() };
    let t = norm(&text);
    term.patterns.iter().map(|p| norm(p)).any(|p| match term.method {
        MatchMethod::Beg => t.starts_with(&p),
        MatchMethod::End => t.ends_with(&p),
        MatchMethod::Sub => t.contains(&p),
        MatchMethod::Len => p.parse::<usize>().is_ok_and(|n| t.len() == n),
        MatchMethod::Dir => t.split('/').any(|seg| seg == p),
        MatchMethod::Dom => t.split(['.', '/', '?', '@', '#', ':']).any(|seg| seg == p),
        _ => t == p,
    })
}

/// Evaluate one ACL term against the context.
pub fn eval_term(term: &AclTerm, ctx: &dyn Context) -> bool {
    fetch(term, ctx).is_some_and(|s| matches(term, &s))
}

/// Evaluate a condition; named ACLs with several lines OR their lines.
pub fn eval_cond(cond: &Cond, acls: &[Acl], ctx: &dyn Context) -> bool {
    let any = cond.alternatives.iter().any(|and| {
        and.iter().all(|t| {
            let v = match &t.kind {
                CondTermKind::Named(name) => match name.as_str() {
                    "TRUE" => true,
                    "FALSE" => false,
                    _ => acls.iter().filter(|a| &a.name == name).any(|a| eval_term(&a.term, ctx)),
                },
                CondTermKind::Anonymous(term) => eval_term(term, ctx),
            };
            v != t.negate
        })
    });
    any != cond.negate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::CondTerm;

    struct C;
    impl Context for C {
        fn src(&self) -> SocketAddr {
            "10.1.2.3:5555".parse().expect("addr")
        }
        fn dst(&self) -> SocketAddr {
            "127.0.0.1:8443".parse().expect("addr")
        }
        fn fetch(&self, _: &str, _: &[String]) -> Option<Sample> {
            None
        }
    }

    fn term(fetch: &str, method: MatchMethod, pats: &[&str]) -> AclTerm {
        AclTerm {
            fetch: fetch.into(),
            args: vec![],
            converters: vec![],
            method,
            ignore_case: false,
            patterns: pats.iter().map(|s| s.to_string()).collect(),
            files: vec![],
        }
    }

    #[test]
    fn ip_and_port_matching() {
        assert!(eval_term(&term("src", MatchMethod::Ip, &["10.0.0.0/8"]), &C));
        assert!(!eval_term(&term("src", MatchMethod::Ip, &["192.168.0.0/16", "10.1.2.4"]), &C));
        assert!(eval_term(&term("src", MatchMethod::Ip, &["10.1.0.0/255.255.0.0"]), &C));
        assert!(eval_term(&term("dst_port", MatchMethod::Int, &["8443"]), &C));
        assert!(eval_term(&term("dst_port", MatchMethod::Int, &["8000:9000"]), &C));
        assert!(eval_term(&term("dst_port", MatchMethod::Int, &["gt", "8000"]), &C));
        assert!(!eval_term(&term("dst_port", MatchMethod::Int, &["lt", "8000"]), &C));
    }

    #[test]
    fn conditions_combine() {
        let acls = vec![Acl {
            pos: Default::default(),
            name: "local".into(),
            term: term("src", MatchMethod::Ip, &["10.0.0.0/8"]),
        }];
        let named = |neg| CondTerm { negate: neg, kind: CondTermKind::Named("local".into()) };
        let unknown = CondTerm {
            negate: false,
            kind: CondTermKind::Anonymous(term("req.ssl_hello_type", MatchMethod::Int, &["1"])),
        };
        assert!(eval_cond(&Cond { negate: false, alternatives: vec![vec![named(false)]] }, &acls, &C));
        assert!(!eval_cond(&Cond { negate: true, alternatives: vec![vec![named(false)]] }, &acls, &C));
        assert!(!eval_cond(
            &Cond { negate: false, alternatives: vec![vec![named(false), unknown.clone()]] },
            &acls,
            &C
        ));
        assert!(eval_cond(&Cond { negate: false, alternatives: vec![vec![unknown], vec![named(false)]] }, &acls, &C));
        assert!(eval_cond(
            &Cond { negate: false, alternatives: vec![vec![named(true)], vec![named(false)]] },
            &acls,
            &C
        ));
    }
}
