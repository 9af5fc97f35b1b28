//! Sample values: what a sample fetch yields and what its readers take — ACL matching, stick-table keys and
//! actions, log-format `%[…]` and header values. The first piece of one sample-fetch registry (HAProxy's
//! `sample.c`): subsystems that produce or consume samples (`acl`, `stick`) share these types from here, so
//! neither has to import the other for them.

use std::borrow::Cow;
use std::net::IpAddr;

/// A value produced by a fetch, borrowed from the request where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Bytes(Cow<'a, [u8]>),
}

impl Val<'_> {
    /// Append the value as text (what a log-format `%[…]` or a header value gets).
    pub fn render(&self, out: &mut Vec<u8>) {
        match self {
            Val::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
            Val::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Val::Ip(ip) => out.extend_from_slice(ip_text(*ip).as_bytes()),
            Val::Bytes(b) => out.extend_from_slice(b),
        }
    }
}

/// An owned value a fetch's context answers (counters such as `nbsrv`, stick-table data): what an ACL context
/// gives for fetches the ACL engine does not compute itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str(String),
}

/// An address as HAProxy prints it: IPv4 dotted (IPv4-mapped IPv6 included), IPv6 as text.
pub fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        v4 => v4.to_string(),
    }
}

/// A decimal integer (optional sign, surrounding spaces allowed), the whole slice.
pub fn parse_int(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

/// The names a sample fetch or a rule may refer to — backends, userlists, stick tables — resolved once, when
/// they are compiled, to indexes (config proxy indexes for backends and tables, positions among the
/// `userlist` sections): nothing is looked up by name while traffic flows.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Proxies with servers (`backend`, `listen`), by name.
    pub backends: std::collections::HashMap<String, usize>,
    /// `userlist` sections, by name.
    pub userlists: std::collections::HashMap<String, usize>,
    /// Proxies declaring a `stick-table`, by name.
    pub tables: std::collections::HashMap<String, usize>,
}

impl Names {
    /// The proxy a `table NAME` argument names (`None` without one, or for a table nobody declares, which
    /// `-c` refuses before anything is compiled).
    pub fn table(&self, name: Option<&str>) -> Option<usize> {
        name.and_then(|n| self.tables.get(n).copied())
    }
}
