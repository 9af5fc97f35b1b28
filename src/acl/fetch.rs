//! Sample fetches, resolved from their names once at start-up into [`Fetch`] and evaluated per request against
//! a [`Context`] (layer 4) and its [`HttpView`] (layer 7).
//!
//! A fetch may yield several values: in an ACL, `hdr(x)` tries every comma-separated value of every `x` header
//! until one matches; used as a sample (`%[req.hdr(host)]`) it yields the last occurrence, as HAProxy does.

use std::borrow::Cow;
use std::net::IpAddr;

use super::view::{self, HttpView, ResView};
use super::{Context, Sample};
pub use crate::sample::Names;
pub use crate::sample::{ip_text, parse_int, Val};

/// A converter applied after a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    Lower,
    Upper,
}

/// A resolved sample fetch.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetch {
    Src,
    SrcPort,
    Dst,
    DstPort,
    Const(bool),
    Method,
    Path,
    Url,
    UrlIp,
    UrlPort,
    Query,
    ReqVer,
    ResVer,
    Status,
    /// `url_param(name[,delim])` / `urlp`.
    UrlParam {
        name: Vec<u8>,
        delim: u8,
    },
    /// `hdr(name[,occ])`, `req.fhdr`, `res.hdr`: lower-cased name (`None` = every header).
    Hdr {
        res: bool,
        name: Option<Vec<u8>>,
        occ: Option<i64>,
        full: bool,
    },
    /// `hdr_cnt(name)`, `req.fhdr_cnt`, `res.hdr_cnt`.
    HdrCnt {
        res: bool,
        name: Option<Vec<u8>>,
        full: bool,
    },
    /// `req.cook(name)` / `cook`, `res.cook` / `scook` (from `Set-Cookie`).
    Cook {
        res: bool,
        name: Vec<u8>,
    },
    /// `req.cook_cnt(name)`.
    CookCnt {
        name: Vec<u8>,
    },
    /// Host header followed by the path.
    Base,
    FirstReq,
    /// `req_proto_http`: true when the request is HTTP.
    ProtoHttp,
    /// A stick-table counter (`sc_http_req_rate(0)`, `src_conn_cur`, `table_cnt`, …): asked to
    /// [`Context::table_fetch`].
    Table(crate::stick::TableFetch),
    /// A counter of the proxies' live state (`nbsrv`, `be_conn`, `connslots`, `http_auth`), names resolved:
    /// asked to [`Context::counter`].
    Counter(Counter),
    /// A fetch nbproxy does not compute (yet): it never gives a sample (its name is kept for diagnostics).
    Unknown(String),
}

/// A counter of the live state a fetch reads, its names resolved to indexes when compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// `nbsrv([backend])`: usable servers (a config proxy index; `None`: the proxy whose rules run).
    NbSrv(Option<usize>),
    /// `be_conn([backend])`: the backend's current sessions.
    BeConn(Option<usize>),
    /// `connslots([backend])`: free connection slots of its usable servers (no sample if one is unlimited).
    ConnSlots(Option<usize>),
    /// `http_auth(userlist)` (`groups: false`) or `http_auth_group(userlist)`: Basic credentials checked
    /// against the userlist (its position among the `userlist` sections).
    HttpAuth { userlist: usize, groups: bool },
}

/// A fetch and its converters.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub fetch: Fetch,
    pub convs: Vec<Conv>,
}

fn lower(s: &str) -> Vec<u8> {
    s.trim().to_ascii_lowercase().into_bytes()
}

fn hdr_args(args: &[String]) -> Result<(Option<Vec<u8>>, Option<i64>), String> {
    let name = args.first().filter(|s| !s.is_empty()).map(|s| lower(s));
    let occ = match args.get(1) {
        Some(o) => Some(o.trim().parse::<i64>().map_err(|_| format!("invalid occurrence '{o}'"))?),
        None => None,
    };
    Ok((name, occ))
}

/// The fetch name without a matching-method suffix (`path_beg` → `path`), for names HAProxy derives that way.
fn base_name(name: &str) -> &str {
    for suffix in ["_beg", "_end", "_sub", "_dir", "_dom", "_reg", "_len", "_val", "_ip", "_found"] {
        if let Some(b) = name.strip_suffix(suffix) {
            if matches!(b, "path" | "url" | "hdr" | "req.hdr" | "shdr" | "res.hdr" | "base" | "cook" | "req.cook") {
                return b;
            }
            if matches!(b, "urlp" | "url_param" | "scook" | "res.cook" | "req.fhdr" | "res.fhdr" | "method") {
                return b;
            }
        }
    }
    name
}

/// Resolve a fetch name and its arguments (`hdr`, `["host"]`); the names it refers to through `names`.
pub fn compile_fetch(name: &str, args: &[String], names: &Names) -> Result<Fetch, String> {
    let arg0 = |what: &str| {
        args.first().filter(|s| !s.is_empty()).map(|s| s.as_bytes().to_vec()).ok_or(format!("'{name}' expects {what}"))
    };
    if let Some(tf) = crate::stick::parse_fetch(name, args, names) {
        return tf.map(Fetch::Table);
    }
    Ok(match name {
        "src" => Fetch::Src,
        "src_port" => Fetch::SrcPort,
        "dst" => Fetch::Dst,
        "dst_port" => Fetch::DstPort,
        "always_true" | "TRUE" => Fetch::Const(true),
        "always_false" | "FALSE" => Fetch::Const(false),
        "url_ip" => Fetch::UrlIp,
        "url_port" => Fetch::UrlPort,
        "query" => Fetch::Query,
        "req_ver" | "req.ver" => Fetch::ReqVer,
        "resp_ver" | "res.ver" => Fetch::ResVer,
        "status" => Fetch::Status,
        "http_first_req" => Fetch::FirstReq,
        "req_proto_http" | "req.proto_http" => Fetch::ProtoHttp,
        "hdr_cnt" | "req.hdr_cnt" | "req.fhdr_cnt" | "shdr_cnt" | "res.hdr_cnt" | "res.fhdr_cnt" => {
            let (n, _) = hdr_args(args)?;
            Fetch::HdrCnt {
                res: name.starts_with('s') || name.starts_with("res."),
                name: n,
                full: name.contains("fhdr"),
            }
        }
        "cook_cnt" | "req.cook_cnt" => Fetch::CookCnt { name: arg0("a cookie name")? },
        "nbsrv" | "be_conn" | "connslots" => {
            let be = match args.first().map(|a| a.trim()).filter(|a| !a.is_empty()) {
                Some(b) => Some(
                    *names
                        .backends
                        .get(b)
                        .ok_or_else(|| format!("unable to find backend '{b}' referenced in arg 1 of '{name}'"))?,
                ),
                None => None,
            };
            Fetch::Counter(match name {
                "nbsrv" => Counter::NbSrv(be),
                "be_conn" => Counter::BeConn(be),
                _ => Counter::ConnSlots(be),
            })
        }
        "http_auth" | "http_auth_group" => {
            let list = args.first().map(|a| a.trim()).unwrap_or_default();
            let userlist =
                *names.userlists.get(list).ok_or_else(|| format!("'{name}': unable to find userlist '{list}'"))?;
            Fetch::Counter(Counter::HttpAuth { userlist, groups: name == "http_auth_group" })
        }
        _ => match base_name(name) {
            "method" => Fetch::Method,
            "path" => Fetch::Path,
            "url" => Fetch::Url,
            "base" => Fetch::Base,
            "url_param" | "urlp" => {
                let delim = args.get(1).and_then(|d| d.bytes().next()).unwrap_or(b'&');
                Fetch::UrlParam { name: arg0("a parameter name")?, delim }
            }
            "hdr" | "req.hdr" | "req.fhdr" | "shdr" | "res.hdr" | "res.fhdr" => {
                let (n, occ) = hdr_args(args)?;
                let b = base_name(name);
                Fetch::Hdr { res: b.starts_with('s') || b.starts_with("res."), name: n, occ, full: b.contains("fhdr") }
            }
            "cook" | "req.cook" => Fetch::Cook { res: false, name: arg0("a cookie name")? },
            "scook" | "res.cook" => Fetch::Cook { res: true, name: arg0("a cookie name")? },
            _ => Fetch::Unknown(name.to_string()),
        },
    })
}

/// Resolve a converter list (`lower`, `upper`).
pub fn compile_convs(convs: &[String]) -> Result<Vec<Conv>, String> {
    convs
        .iter()
        .map(|c| match c.trim() {
            "lower" => Ok(Conv::Lower),
            "upper" => Ok(Conv::Upper),
            o => Err(format!("unsupported converter '{o}'")),
        })
        .collect()
}

/// Parse a sample expression as written in a log-format `%[…]` (`req.hdr(host),lower`).
pub fn compile_expr(text: &str, names: &Names) -> Result<Expr, String> {
    let mut depth = 0i32;
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    let head = parts[0].trim();
    let (name, args) = match head.find('(') {
        Some(p) if head.ends_with(')') => {
            let inner = &head[p + 1..head.len() - 1];
            (&head[..p], if inner.is_empty() { Vec::new() } else { inner.split(',').map(str::to_string).collect() })
        }
        Some(_) => return Err(format!("invalid sample expression '{text}'")),
        None => (head, Vec::new()),
    };
    let convs: Vec<String> = parts[1..].iter().map(|s| s.to_string()).collect();
    Ok(Expr { fetch: compile_fetch(name, &args, names)?, convs: compile_convs(&convs)? })
}

fn apply_convs<'a>(v: Val<'a>, convs: &[Conv]) -> Val<'a> {
    convs.iter().fold(v, |v, c| match v {
        Val::Bytes(b) => Val::Bytes(Cow::Owned(match c {
            Conv::Lower => b.to_ascii_lowercase(),
            Conv::Upper => b.to_ascii_uppercase(),
        })),
        other => other,
    })
}

/// Call `f` on each value of the named header(s) in the request or the response (split on commas unless
/// `full`), in order, until it returns true.
fn header_values<'a>(
    http: &HttpView<'a>,
    res: bool,
    name: Option<&[u8]>,
    full: bool,
    f: &mut dyn FnMut(&'a [u8]) -> bool,
) -> bool {
    let mut visit = |h: view::Hdr<'a>| {
        if name.is_some_and(|n| !h.name.eq_ignore_ascii_case(n)) {
            return false;
        }
        if full {
            f(h.value)
        } else {
            view::split_values(h.value).any(&mut *f)
        }
    };
    if res {
        http.res.is_some_and(|r: ResView<'a>| r.headers().any(&mut visit))
    } else {
        http.headers().any(visit)
    }
}

/// Call `f` on each cookie value named `name` in `Cookie` (request) or `Set-Cookie` (response) headers.
fn cookie_values<'a>(http: &HttpView<'a>, res: bool, name: &[u8], f: &mut dyn FnMut(&'a [u8]) -> bool) -> bool {
    if res {
        let Some(r) = http.res else { return false };
        return r.headers().filter(|h| h.name.eq_ignore_ascii_case(b"set-cookie")).any(|h| {
            let first = h.value.split(|&c| c == b';').next().unwrap_or(&[]);
            cookie_pair(first, name).is_some_and(&mut *f)
        });
    }
    http.headers()
        .filter(|h| h.name.eq_ignore_ascii_case(b"cookie"))
        .any(|h| h.value.split(|&c| c == b';').filter_map(|p| cookie_pair(p, name)).any(&mut *f))
}

/// The value if `pair` is `name=value` (spaces around ignored).
pub fn cookie_pair<'a>(pair: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let p = view::trim(pair);
    let eq = p.iter().position(|&c| c == b'=')?;
    (view::trim(&p[..eq]) == name).then(|| view::trim(&p[eq + 1..]))
}

fn bytes(b: &[u8]) -> Val<'_> {
    Val::Bytes(Cow::Borrowed(b))
}

fn from_sample(s: Sample) -> Val<'static> {
    match s {
        Sample::Bool(b) => Val::Bool(b),
        Sample::Int(i) => Val::Int(i),
        Sample::Ip(ip) => Val::Ip(ip),
        Sample::Str(s) => Val::Bytes(Cow::Owned(s.into_bytes())),
    }
}

/// Call `f` on each value of the expression until it returns true; `iterate` = ACL semantics (all occurrences)
/// rather than sample semantics (one value). Returns whether `f` returned true.
pub fn each(expr: &Expr, ctx: &dyn Context, iterate: bool, f: &mut dyn FnMut(Val<'_>) -> bool) -> bool {
    let mut emit = |v: Val<'_>| f(apply_convs(v, &expr.convs));
    let http = ctx.http();
    let uri = || http.as_ref().map(|h| h.start_line().uri);
    match &expr.fetch {
        Fetch::Src => emit(Val::Ip(ctx.src().ip())),
        Fetch::SrcPort => emit(Val::Int(ctx.src().port() as i64)),
        Fetch::Dst => emit(Val::Ip(ctx.dst().ip())),
        Fetch::DstPort => emit(Val::Int(ctx.dst().port() as i64)),
        Fetch::Const(b) => emit(Val::Bool(*b)),
        Fetch::ProtoHttp => emit(Val::Bool(http.is_some())),
        Fetch::FirstReq => http.is_some_and(|h| emit(Val::Bool(h.first_req))),
        Fetch::Method => http.is_some_and(|h| emit(bytes(h.start_line().method))),
        Fetch::Url => uri().is_some_and(|u| emit(bytes(u))),
        Fetch::Path => uri().and_then(view::path_of).is_some_and(|p| emit(bytes(p))),
        Fetch::Query => uri().and_then(view::query_of).is_some_and(|q| emit(bytes(q))),
        Fetch::UrlIp | Fetch::UrlPort => {
            let Some(auth) = uri().and_then(view::authority_of) else { return false };
            let (host, port) = split_host_port(auth);
            if expr.fetch == Fetch::UrlIp {
                std::str::from_utf8(host)
                    .ok()
                    .and_then(|h| h.parse::<IpAddr>().ok())
                    .is_some_and(|ip| emit(Val::Ip(ip)))
            } else {
                emit(Val::Int(port.unwrap_or(80)))
            }
        }
        Fetch::UrlParam { name, delim } => {
            uri().and_then(view::query_of).and_then(|q| view::param_of(q, name, *delim)).is_some_and(|v| emit(bytes(v)))
        }
        Fetch::ReqVer => http.is_some_and(|h| emit(bytes(strip_http(h.start_line().version)))),
        Fetch::ResVer => http.and_then(|h| h.res).is_some_and(|r| {
            let line = r.status_line();
            emit(bytes(strip_http(line.split(|&c| c == b' ').next().unwrap_or(&[]))))
        }),
        Fetch::Status => http.and_then(|h| h.res).is_some_and(|r| emit(Val::Int(r.status() as i64))),
        Fetch::Hdr { res, name, occ, full } => {
            let Some(h) = http else { return false };
            let (res, full, name) = (*res, *full, name.as_deref());
            let occ = match occ.or(if iterate { None } else { Some(-1) }) {
                None => return header_values(&h, res, name, full, &mut |v| emit(bytes(v))),
                Some(o) if o < 0 => {
                    let mut n = 0i64;
                    header_values(&h, res, name, full, &mut |_| {
                        n += 1;
                        false
                    });
                    n + o + 1
                }
                Some(o) => o.max(1),
            };
            let mut i = 0i64;
            let mut found = None;
            header_values(&h, res, name, full, &mut |v| {
                i += 1;
                if i == occ {
                    found = Some(v);
                }
                i >= occ
            });
            found.is_some_and(|v| emit(bytes(v)))
        }
        Fetch::HdrCnt { res, name, full } => {
            let Some(h) = http else { return false };
            let mut n = 0i64;
            header_values(&h, *res, name.as_deref(), *full, &mut |_| {
                n += 1;
                false
            });
            emit(Val::Int(n))
        }
        Fetch::Cook { res, name } => {
            let Some(h) = http else { return false };
            let mut first = None;
            let hit = cookie_values(&h, *res, name, &mut |v| {
                if iterate {
                    emit(bytes(v))
                } else {
                    first = Some(v);
                    true
                }
            });
            if iterate {
                hit
            } else {
                first.is_some_and(|v| emit(bytes(v)))
            }
        }
        Fetch::CookCnt { name } => {
            let Some(h) = http else { return false };
            let mut n = 0i64;
            cookie_values(&h, false, name, &mut |_| {
                n += 1;
                false
            });
            emit(Val::Int(n))
        }
        Fetch::Base => {
            let Some(h) = http else { return false };
            let Some(path) = view::path_of(h.start_line().uri) else { return false };
            let mut b = h.first_header(b"host").unwrap_or(&[]).to_vec();
            b.extend_from_slice(path);
            emit(Val::Bytes(Cow::Owned(b)))
        }
        Fetch::Table(tf) => ctx.table_fetch(tf).is_some_and(|s| emit(from_sample(s))),
        Fetch::Counter(c) => ctx.counter(c).is_some_and(|s| emit(from_sample(s))),
        Fetch::Unknown(_) => false,
    }
}

/// The first value of an expression (sample semantics), rendered as text into `out`; false if no sample.
pub fn render(expr: &Expr, ctx: &dyn Context, out: &mut Vec<u8>) -> bool {
    each(expr, ctx, false, &mut |v| {
        v.render(out);
        true
    })
}

fn strip_http(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"HTTP/").unwrap_or(v)
}

/// `host[:port]` → (host, port); IPv6 literals in brackets are unwrapped.
pub fn split_host_port(auth: &[u8]) -> (&[u8], Option<i64>) {
    if let Some(rest) = auth.strip_prefix(b"[") {
        let end = rest.iter().position(|&c| c == b']').unwrap_or(rest.len());
        let port = rest.get(end + 1..).and_then(|p| p.strip_prefix(b":")).and_then(parse_int);
        return (&rest[..end], port);
    }
    match auth.iter().rposition(|&c| c == b':') {
        Some(p) => (&auth[..p], parse_int(&auth[p + 1..])),
        None => (auth, None),
    }
}
