//! Custom log formats (`log-format`, HAProxy 2.6 configuration §8.2.4) and header/cookie captures.
//!
//! A format string is compiled once by [`LogFormatSpec::parse`] into literal text, separators, variables
//! (`%ci`, `%{+Q}r`, …) and sample expressions (`%[req.hdr(host),lower]`), then rendered per session by
//! [`LogFormatSpec::render`] from a [`LogValues`]. Sans-io: nothing here reads sockets or clocks.
//!
//! Parsing follows HAProxy:
//! - `%%` is a literal `%`; an unknown variable is an error (`no such format variable 'x'`); `%` followed by a
//!   digit, a blank or the end of the string is an error; `%` followed by other punctuation is dropped.
//! - A space is a separator: runs of separators print one space, and none at the start of the line or right
//!   after another separator, so `%sq/%bq %hr %hs %{+Q}r` prints a single space when no header is captured.
//! - `%{flags}` before a variable or `%[expr]` adds (`+`) or removes (`-`) flags, comma-separated: `Q` quote
//!   strings, `X` hexadecimal (IPs, ports, `%Ts`, `%ms`, `%rt`, `%lc`, `%pid`), `E` escape `"`, `\` and `]` with
//!   a backslash (RFC5424 structured data), `M` print `-` for an empty string (on by default). Unknown flag
//!   names are ignored. `%{…}o` sets the default flags of every following variable.
//!
//! Rendering follows HAProxy's `sess_build_logline`: numbers are never quoted; strings print `-` when empty
//! (or `""` when quoted); the request line and its parts (`%r %HM %HU %HP %HPO %HQ %HV`) and captures write
//! bytes below 32 or above 126, `"` and `#` as `#XX` (captures also `{`, `|`, `}`).

//!
//! Files: this one (the variables, compiling a format, rendering it), `values.rs` (what a line can print),
//! `render.rs` (how each variable prints), `captures.rs` (header and cookie captures).

mod captures;
mod render;
#[cfg(test)]
mod tests;
mod values;

pub use captures::Captures;
use render::{push_text, render_var};
pub use values::LogValues;

/// `option tcplog` as a format string (HAProxy 2.6 `default_tcp_log_format`).
pub const TCPLOG_FMT: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

/// `option httplog` as a format string (HAProxy 2.6 `default_http_log_format`).
pub const HTTPLOG_FMT: &str =
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";

/// `option httplog clf` as a format string (HAProxy 2.6 `clf_http_log_format`).
pub const CLF_FMT: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc \
                           %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";

/// Per-node flags (`%{+Q,-M}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Opts(u8);

impl Opts {
    /// `M`: an empty string prints `-`.
    const MANDATORY: u8 = 1;
    /// `Q`: strings are quoted.
    const QUOTE: u8 = 2;
    /// `X`: hexadecimal addresses, ports and a few counters.
    const HEX: u8 = 4;
    /// `E`: backslash before `"`, `\` and `]`.
    const ESC: u8 = 8;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// Applies a `{+Q,-X}` argument list.
    fn apply(&mut self, args: &str) {
        for arg in args.split(',') {
            let (add, name) = match arg.as_bytes().first() {
                Some(b'+') => (true, &arg[1..]),
                Some(b'-') => (false, &arg[1..]),
                _ => continue,
            };
            let bit = match name {
                "M" => Opts::MANDATORY,
                "Q" => Opts::QUOTE,
                "X" => Opts::HEX,
                "E" => Opts::ESC,
                _ => continue,
            };
            if add {
                self.0 |= bit;
            } else {
                self.0 &= !bit;
            }
        }
    }
}

/// The `%` variables (HAProxy 2.6 `logformat_keywords`, minus `%o` which is handled at parse time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    ClientIp,
    ClientPort,
    FrontIp,
    FrontPort,
    BackSrcIp,
    BackSrcPort,
    ServerIp,
    ServerPort,
    /// `%t`: accept date, local, with milliseconds.
    AcceptDate,
    /// `%T`: accept date, GMT.
    AcceptDateGmt,
    /// `%Tl`: accept date, local, with offset.
    AcceptDateLocal,
    /// `%tr`: request date, local, with milliseconds.
    RequestDate,
    /// `%trg`.
    RequestDateGmt,
    /// `%trl`.
    RequestDateLocal,
    /// `%Ts`: accept date, epoch seconds.
    Timestamp,
    /// `%ms`: accept date milliseconds.
    Millis,
    Frontend,
    FrontendXprt,
    Backend,
    Server,
    Th,
    Ti,
    TR,
    Tq,
    Tw,
    Tc,
    Tr,
    Td,
    Ta,
    Tt,
    Tu,
    Status,
    BytesOut,
    BytesIn,
    ReqCookie,
    ResCookie,
    Term,
    TermCookie,
    ActConn,
    FeConn,
    BeConn,
    SrvConn,
    Retries,
    ReqCounter,
    SrvQueue,
    BackQueue,
    ReqHeaders,
    ReqHeadersList,
    ResHeaders,
    ResHeadersList,
    Request,
    Method,
    Uri,
    Path,
    PathOnly,
    Query,
    Version,
    Hostname,
    UniqueId,
    Pid,
    LogCounter,
    SslCipher,
    SslVersion,
}

impl Var {
    fn from_name(name: &str) -> Option<Var> {
        Some(match name {
            "ci" => Var::ClientIp,
            "cp" => Var::ClientPort,
            "fi" => Var::FrontIp,
            "fp" => Var::FrontPort,
            "bi" => Var::BackSrcIp,
            "bp" => Var::BackSrcPort,
            "si" => Var::ServerIp,
            "sp" => Var::ServerPort,
            "t" => Var::AcceptDate,
            "T" => Var::AcceptDateGmt,
            "Tl" => Var::AcceptDateLocal,
            "tr" => Var::RequestDate,
            "trg" => Var::RequestDateGmt,
            "trl" => Var::RequestDateLocal,
            "Ts" => Var::Timestamp,
            "ms" => Var::Millis,
            "f" => Var::Frontend,
            "ft" => Var::FrontendXprt,
            "b" => Var::Backend,
            "s" => Var::Server,
            "Th" => Var::Th,
            "Ti" => Var::Ti,
            "TR" => Var::TR,
            "Tq" => Var::Tq,
            "Tw" => Var::Tw,
            "Tc" => Var::Tc,
            "Tr" => Var::Tr,
            "Td" => Var::Td,
            "Ta" => Var::Ta,
            "Tt" => Var::Tt,
            "Tu" => Var::Tu,
            "ST" => Var::Status,
            "B" => Var::BytesOut,
            "U" => Var::BytesIn,
            "CC" => Var::ReqCookie,
            "CS" => Var::ResCookie,
            "ts" => Var::Term,
            "tsc" => Var::TermCookie,
            "ac" => Var::ActConn,
            "fc" => Var::FeConn,
            "bc" => Var::BeConn,
            "sc" => Var::SrvConn,
            "rc" => Var::Retries,
            "rt" => Var::ReqCounter,
            "sq" => Var::SrvQueue,
            "bq" => Var::BackQueue,
            "hr" => Var::ReqHeaders,
            "hrl" => Var::ReqHeadersList,
            "hs" => Var::ResHeaders,
            "hsl" => Var::ResHeadersList,
            "r" => Var::Request,
            "HM" => Var::Method,
            "HU" => Var::Uri,
            "HP" => Var::Path,
            "HPO" => Var::PathOnly,
            "HQ" => Var::Query,
            "HV" => Var::Version,
            "H" => Var::Hostname,
            "ID" => Var::UniqueId,
            "pid" => Var::Pid,
            "lc" => Var::LogCounter,
            "sslc" => Var::SslCipher,
            "sslv" => Var::SslVersion,
            _ => return None,
        })
    }
}

/// One compiled piece of a format string.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    /// One or more spaces.
    Sep,
    Var(Var, Opts),
    /// `%[expr]`: the expression text and its rank among the format's samples, rendered through the caller's
    /// callback (which evaluates the expressions it compiled from [`LogFormatSpec::sample_exprs`]).
    Sample(String, usize, Opts),
}

/// A compiled `log-format` string.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFormatSpec {
    nodes: Vec<Node>,
}

impl LogFormatSpec {
    /// Compiles a format string (see the module documentation for the syntax). Errors name the offending
    /// variable or construct, e.g. `no such format variable 'foo'`.
    pub fn parse(fmt: &str) -> Result<LogFormatSpec, String> {
        let b = fmt.as_bytes();
        let mut nodes = Vec::new();
        let mut lit = String::new();
        let mut defaults = Opts(Opts::MANDATORY);
        let mut i = 0;
        let flush = |lit: &mut String, nodes: &mut Vec<Node>| {
            if !lit.is_empty() {
                nodes.push(Node::Text(std::mem::take(lit)));
            }
        };
        while i < b.len() {
            match b[i] {
                b' ' => {
                    flush(&mut lit, &mut nodes);
                    if nodes.last() != Some(&Node::Sep) {
                        nodes.push(Node::Sep);
                    }
                    i += 1;
                    continue;
                }
                b'%' => {}
                _ => {
                    let end = b[i..].iter().position(|&c| c == b' ' || c == b'%').map_or(b.len(), |p| i + p);
                    lit.push_str(&fmt[i..end]);
                    i = end;
                    continue;
                }
            }
            i += 1;
            match b.get(i) {
                None => return Err(format!("truncated line after '%' in '{fmt}'")),
                Some(b'%') => {
                    lit.push('%');
                    i += 1;
                    continue;
                }
                Some(&c) if c.is_ascii_digit() || c == b' ' || c == b'\t' => {
                    return Err(format!(
                        "unexpected variable name near '{}' at position {i} in '{fmt}'. Maybe you want to write a \
                         single '%', use the syntax '%%'",
                        c as char
                    ))
                }
                _ => {}
            }
            let mut opts = defaults;
            let mut args = None;
            if b[i] == b'{' {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'}')
                    .map(|p| i + p)
                    .ok_or_else(|| format!("truncated line after '%{}' in '{fmt}'", &fmt[i + 1..]))?;
                opts.apply(&fmt[i + 1..end]);
                args = Some(&fmt[i + 1..end]);
                i = end + 1;
            }
            if b.get(i) == Some(&b'[') {
                let end = expr_end(b, i + 1).ok_or_else(|| format!("missing ']' after '{}'", &fmt[i + 1..]))?;
                let expr = fmt[i + 1..end].trim();
                if expr.is_empty() {
                    return Err(format!("empty sample expression '%[]' in '{fmt}'"));
                }
                flush(&mut lit, &mut nodes);
                let rank = nodes.iter().filter(|n| matches!(n, Node::Sample(..))).count();
                nodes.push(Node::Sample(expr.to_string(), rank, opts));
                i = end + 1;
                continue;
            }
            let start = i;
            let starts_name =
                b.get(i).is_some_and(|c| c.is_ascii_alphabetic() || (args.is_some() && c.is_ascii_alphanumeric()));
            if !starts_name {
                if let Some(a) = args {
                    return Err(format!("parse argument modifier without variable name near '%{{{a}}}' in '{fmt}'"));
                }
                // HAProxy drops a lone '%' followed by punctuation.
                continue;
            }
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let name = &fmt[start..i];
            if name == "o" {
                defaults = opts;
                continue;
            }
            let var = Var::from_name(name).ok_or_else(|| {
                format!(
                    "no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need \
                     to use '%%'"
                )
            })?;
            flush(&mut lit, &mut nodes);
            nodes.push(Node::Var(var, opts));
        }
        flush(&mut lit, &mut nodes);
        Ok(LogFormatSpec { nodes })
    }

    /// The text of every `%[expr]` in order: the caller compiles them once (with the sample-fetch registry
    /// rules and ACLs use), and the `sample` callback of [`LogFormatSpec::render`] gets their rank in this order.
    pub fn sample_exprs(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().filter_map(|n| match n {
            Node::Sample(e, _, _) => Some(e.as_str()),
            _ => None,
        })
    }

    /// True if the format has nothing in it (renders an empty line, which HAProxy does not send).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Appends the line for `v` to `out`. `sample` evaluates the `%[expr]` of that rank (see
    /// [`LogFormatSpec::sample_exprs`]); `None` or an empty string prints `-` (`""` when quoted).
    pub fn render(&self, v: &LogValues<'_>, sample: &dyn Fn(usize) -> Option<String>, out: &mut String) {
        let mut last_space = true;
        for n in &self.nodes {
            match n {
                Node::Sep => {
                    if !last_space {
                        out.push(' ');
                        last_space = true;
                    }
                }
                Node::Text(t) => {
                    out.push_str(t);
                    last_space = false;
                }
                Node::Sample(_, rank, o) => {
                    push_text(out, sample(*rank).as_deref(), *o);
                    last_space = false;
                }
                Node::Var(var, o) => {
                    if render_var(*var, *o, v, out) {
                        last_space = false;
                    }
                }
            }
        }
    }

    /// [`LogFormatSpec::render`] into a new string.
    pub fn render_to_string(&self, v: &LogValues<'_>, sample: &dyn Fn(usize) -> Option<String>) -> String {
        let mut s = String::with_capacity(256);
        self.render(v, sample, &mut s);
        s
    }
}

/// Index of the `]` closing a sample expression that starts at `from` (brackets inside parentheses, i.e.
/// inside fetch or converter arguments, do not count).
fn expr_end(b: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().skip(from) {
        match c {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b']' if depth == 0 => return Some(k),
            _ => {}
        }
    }
    None
}
