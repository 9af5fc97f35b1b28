//! Cookie persistence (`cookie NAME insert|rewrite|prefix [indirect] [nocache] [postonly] [preserve] [httponly]
//! [secure] [domain D]`): reading the client's cookie to find its server, the request and response edits each
//! mode implies, and the two cookie characters of the httplog termination state.
//!
//! - request ([`request_cookie`]): find `NAME` in the `Cookie` headers; its value (or, in `prefix` mode, the part
//!   before `~`) names a server. `insert indirect` strips the cookie before the server sees it; `prefix` restores
//!   the application's own value.
//! - response ([`response_cookie`]): `insert` adds `Set-Cookie: NAME=<server cookie>; path=/…` when the client
//!   had no valid cookie for this server (only on POST with `postonly`), removing the server's own `NAME` unless
//!   `preserve`; `nocache` adds `Cache-control: private`; `rewrite` replaces the value the server set; `prefix`
//!   prefixes it with `<server cookie>~`.
//!
//! Not handled: `maxidle`/`maxlife` dates (`|date` suffixes are ignored when reading, never written).

use crate::acl::view::{self, HttpView, ResView, Slot};
use crate::config::model::{CookieConf, CookieMode};
use crate::http::head::HeadEdits;

use super::edit::{self, Op};

/// What the request's cookie said (first cookie character of httplog's termination state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReqCookie {
    /// `-`: persistence not used.
    NotChecked,
    /// `N`: no cookie.
    None,
    /// `I`: a cookie naming no known server.
    Invalid,
    /// `D`: the cookie's server is down.
    Down,
    /// `V`: valid, the request goes to that server.
    Valid,
    /// `E`: expired (`maxidle`).
    Expired,
    /// `O`: too old (`maxlife`).
    Old,
}

impl ReqCookie {
    /// The log character.
    pub fn as_char(self) -> char {
        match self {
            ReqCookie::NotChecked => '-',
            ReqCookie::None => 'N',
            ReqCookie::Invalid => 'I',
            ReqCookie::Down => 'D',
            ReqCookie::Valid => 'V',
            ReqCookie::Expired => 'E',
            ReqCookie::Old => 'O',
        }
    }
}

/// What happened to the cookie in the response (second cookie character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResCookie {
    /// `-`: persistence not used.
    NotChecked,
    /// `N`: no cookie set.
    None,
    /// `I`: inserted by the proxy.
    Inserted,
    /// `U`: updated (date refreshed).
    Updated,
    /// `P`: the server's own cookie passed untouched.
    Provided,
    /// `R`: the server's cookie was rewritten (`rewrite`, `prefix`).
    Rewritten,
    /// `D`: the server's cookie was deleted.
    Deleted,
}

impl ResCookie {
    /// The log character.
    pub fn as_char(self) -> char {
        match self {
            ResCookie::NotChecked => '-',
            ResCookie::None => 'N',
            ResCookie::Inserted => 'I',
            ResCookie::Updated => 'U',
            ResCookie::Provided => 'P',
            ResCookie::Rewritten => 'R',
            ResCookie::Deleted => 'D',
        }
    }
}

/// Both characters, as printed in httplog (`--`, `NI`, `VN`, …).
pub fn log_chars(req: ReqCookie, res: ResCookie) -> [char; 2] {
    [req.as_char(), res.as_char()]
}

/// Where the client's persistence cookie was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persistence {
    pub state: ReqCookie,
    /// The server it names (even if down: the caller decides between redispatch and `option persist`).
    pub server: Option<usize>,
}

/// A cookie pair inside a header value.
#[derive(Debug, Clone, Copy)]
struct Found<'a> {
    slot: Slot,
    /// The whole header value.
    header: &'a [u8],
    /// Offsets of the pair (`NAME=value`, trimmed) in `header`.
    pair: (usize, usize),
    /// The value.
    value: &'a [u8],
}

/// The first `name=value` pair in the request's `Cookie` headers.
fn find<'a>(req: &HttpView<'a>, name: &[u8]) -> Option<Found<'a>> {
    req.headers().filter(|h| h.name.eq_ignore_ascii_case(b"cookie")).find_map(|h| {
        let mut off = 0;
        for part in h.value.split(|&c| c == b';') {
            let start = off + (part.len() - part.trim_ascii_start().len());
            let trimmed = view::trim(part);
            off += part.len() + 1;
            if let Some(v) = crate::acl::fetch::cookie_pair(trimmed, name) {
                return Some(Found { slot: h.slot, header: h.value, pair: (start, start + trimmed.len()), value: v });
            }
        }
        None
    })
}

/// The header value with the pair at `pair` removed (`None` if nothing is left).
fn without_pair(header: &[u8], pair: (usize, usize)) -> Option<Vec<u8>> {
    let mut rest: Vec<&[u8]> = Vec::new();
    let mut off = 0;
    for part in header.split(|&c| c == b';') {
        let t = view::trim(part);
        let start = off + (part.len() - part.trim_ascii_start().len());
        off += part.len() + 1;
        if start != pair.0 && !t.is_empty() {
            rest.push(t);
        }
    }
    (!rest.is_empty()).then(|| rest.join(&b"; "[..]))
}

/// Maps a cookie value to (server index, usable?); `None` for a value naming no server.
pub type ServerLookup<'a> = dyn Fn(&[u8]) -> Option<(usize, bool)> + 'a;

/// Read the persistence cookie of a request and record the request edits its mode implies. `server_for` maps a
/// cookie value to (server index, usable?) — `None` for an unknown value.
pub fn request_cookie(
    conf: &CookieConf,
    req: &HttpView<'_>,
    server_for: &ServerLookup<'_>,
    edits: &mut HeadEdits,
) -> Persistence {
    let name = conf.name.as_bytes();
    let Some(f) = find(req, name) else { return Persistence { state: ReqCookie::None, server: None } };
    // Values may carry `|date` (maxidle/maxlife): only the part before is the server's.
    let raw = &f.value[..f.value.iter().position(|&c| c == b'|').unwrap_or(f.value.len())];
    let (srv, app) = match conf.mode {
        CookieMode::Prefix => match raw.iter().position(|&c| c == b'~') {
            Some(p) => (&raw[..p], Some(&f.value[p + 1..])),
            None => (&raw[..0], None),
        },
        _ => (raw, None),
    };
    let mut ops = Vec::new();
    match conf.mode {
        CookieMode::Insert if conf.indirect => ops.push(match without_pair(f.header, f.pair) {
            Some(v) => Op::Replace(f.slot, v),
            None => Op::Delete(f.slot),
        }),
        CookieMode::Prefix => {
            if let Some(app) = app {
                let mut v = f.header[..f.pair.0].to_vec();
                v.extend_from_slice(name);
                v.push(b'=');
                v.extend_from_slice(app);
                v.extend_from_slice(&f.header[f.pair.1..]);
                ops.push(Op::Replace(f.slot, v));
            }
        }
        _ => {}
    }
    let found = if srv.is_empty() { None } else { server_for(srv) };
    edit::apply(ops, edits);
    match found {
        Some((i, true)) => Persistence { state: ReqCookie::Valid, server: Some(i) },
        Some((i, false)) => Persistence { state: ReqCookie::Down, server: Some(i) },
        None => Persistence { state: ReqCookie::Invalid, server: None },
    }
}

/// The `Set-Cookie` value `insert` adds: `NAME=VALUE; path=/[; domain=D…][; HttpOnly][; Secure][; attr…]`.
pub fn set_cookie_value(conf: &CookieConf, value: &str) -> Vec<u8> {
    let mut v = format!("{}={}; path=/", conf.name, value);
    for d in &conf.domains {
        v.push_str("; domain=");
        v.push_str(d);
    }
    if conf.httponly {
        v.push_str("; HttpOnly");
    }
    if conf.secure {
        v.push_str("; Secure");
    }
    for a in &conf.attrs {
        v.push_str("; ");
        v.push_str(a);
    }
    v.into_bytes()
}

/// The server that answered: its index and its `cookie` value.
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    pub index: usize,
    pub cookie: Option<&'a str>,
}

/// Apply the response side of cookie persistence; returns the second log character.
pub fn response_cookie(
    conf: &CookieConf,
    res: &ResView<'_>,
    persist: &Persistence,
    served: Served<'_>,
    is_post: bool,
    edits: &mut HeadEdits,
) -> ResCookie {
    let name = conf.name.as_bytes();
    // The server's own Set-Cookie headers for NAME: (slot, value, value of the cookie).
    let mut own = Vec::new();
    for h in res.headers().filter(|h| h.name.eq_ignore_ascii_case(b"set-cookie")) {
        let first = h.value.split(|&c| c == b';').next().unwrap_or(&[]);
        if let Some(v) = crate::acl::fetch::cookie_pair(first, name) {
            own.push((h.slot, h.value, v));
        }
    }
    let Some(srv) = served.cookie else {
        return if own.is_empty() { ResCookie::None } else { ResCookie::Provided };
    };
    let mut ops = Vec::new();
    let state = match conf.mode {
        CookieMode::Passive => {
            return if own.is_empty() { ResCookie::None } else { ResCookie::Provided };
        }
        CookieMode::Insert => {
            if conf.preserve && !own.is_empty() {
                return ResCookie::Provided;
            }
            ops.extend(own.iter().map(|(slot, _, _)| Op::Delete(*slot)));
            let has_valid = persist.state == ReqCookie::Valid && persist.server == Some(served.index);
            if has_valid || (conf.postonly && !is_post) {
                if own.is_empty() {
                    ResCookie::None
                } else {
                    ResCookie::Deleted
                }
            } else {
                ops.push(Op::Add(b"Set-Cookie".to_vec(), set_cookie_value(conf, srv)));
                if conf.nocache {
                    ops.push(Op::Add(b"Cache-control".to_vec(), b"private".to_vec()));
                }
                ResCookie::Inserted
            }
        }
        CookieMode::Rewrite | CookieMode::Prefix => {
            for (slot, header, v) in &own {
                // Rebuild `NAME=<new>` followed by the attributes.
                let eq = header.iter().position(|&c| c == b'=').map_or(header.len(), |p| p + 1);
                let vstart = eq + (header[eq..].len() - header[eq..].trim_ascii_start().len());
                let mut new = header.get(..vstart).unwrap_or(header).to_vec();
                new.extend_from_slice(srv.as_bytes());
                if conf.mode == CookieMode::Prefix {
                    new.push(b'~');
                    new.extend_from_slice(v);
                }
                new.extend_from_slice(header.get(vstart + v.len()..).unwrap_or(&[]));
                ops.push(Op::Replace(*slot, new));
            }
            if own.is_empty() {
                ResCookie::None
            } else {
                ResCookie::Rewritten
            }
        }
    };
    edit::apply(ops, edits);
    state
}

#[cfg(test)]
mod tests;
