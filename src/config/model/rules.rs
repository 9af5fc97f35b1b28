//! ACLs, conditions and the rules that use them: `http-request`/`http-response` actions, `tcp-request`, the 1.4
//! `req*`/`rsp*` lines, `redirect` and `track-scN`.

use super::*;

/// `acl NAME CRITERION [FLAGS] [OPERATOR] VALUE…`.
#[derive(Debug, Clone)]
pub struct Acl {
    pub pos: Pos,
    pub name: String,
    pub term: AclTerm,
}

/// The body of an ACL: a fetch, its matching method and the patterns.
#[derive(Debug, Clone, PartialEq)]
pub struct AclTerm {
    /// The sample fetch as written without arguments: `hdr`, `path_beg`, `req.hdr`, `src`, …
    pub fetch: String,
    /// Arguments inside parentheses, split on commas: `hdr(host)` → `["host"]`.
    pub args: Vec<String>,
    /// Converters applied after the fetch (`,lower`), as written.
    pub converters: Vec<String>,
    /// `-m METHOD` or the method implied by the fetch name's suffix.
    pub method: MatchMethod,
    pub ignore_case: bool,
    /// Values given inline, then those loaded from `-f FILE`s.
    pub patterns: Vec<String>,
    /// `-f FILE` paths (their lines are already in `patterns`).
    pub files: Vec<PathBuf>,
}

/// ACL matching methods (`-m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMethod {
    /// Boolean fetch (`always_true`, a fetch with no pattern).
    Found,
    Bool,
    Int,
    Ip,
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dir,
    Dom,
    Len,
}

/// A condition `if|unless` followed by an OR of AND-ed terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// `unless` flips the result.
    pub negate: bool,
    /// OR of ANDs.
    pub alternatives: Vec<Vec<CondTerm>>,
}

/// One operand of a condition.
#[derive(Debug, Clone, PartialEq)]
pub struct CondTerm {
    /// `!` before the operand.
    pub negate: bool,
    pub kind: CondTermKind,
}

/// A named ACL or an anonymous `{ … }` one.
#[derive(Debug, Clone, PartialEq)]
pub enum CondTermKind {
    Named(String),
    Anonymous(AclTerm),
}

/// An `http-request` or `http-response` rule.
#[derive(Debug, Clone)]
pub struct HttpRule {
    pub pos: Pos,
    pub action: HttpAction,
    pub cond: Option<Cond>,
}

/// What an `http-request` / `http-response` rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAction {
    Allow,
    Deny {
        status: u16,
    },
    Tarpit {
        status: u16,
    },
    Auth {
        realm: Option<String>,
    },
    Redirect(Redirect),
    AddHeader {
        name: String,
        value: String,
    },
    SetHeader {
        name: String,
        value: String,
    },
    DelHeader {
        name: String,
    },
    ReplaceHeader {
        name: String,
        regex: String,
        replacement: String,
    },
    ReplaceValue {
        name: String,
        regex: String,
        replacement: String,
    },
    SetPath(String),
    SetUri(String),
    SetQuery(String),
    SetMethod(String),
    ReplacePath {
        regex: String,
        replacement: String,
    },
    ReplaceUri {
        regex: String,
        replacement: String,
    },
    SetVar {
        name: String,
        expr: String,
    },
    Return {
        status: u16,
        content_type: Option<String>,
        body: Option<String>,
        headers: Vec<(String, String)>,
    },
    SetStatus(u16),
    /// `use-service prometheus-exporter`.
    UseService(String),
    /// `track-sc0|1|2 KEY [table T]`: track the key's entry in a stick table (see [`Track`]).
    Track(Track),
    /// `sc-inc-gpc0(N)`: increment the tracked entry's `gpc0` (and `gpc0_rate`).
    ScIncGpc0(u8),
    /// `sc-set-gpt0(N) VALUE`: set the tracked entry's `gpt0`.
    ScSetGpt0(u8, i64),
    /// Any other 2.x action we parse but treat as a no-op, kept for `-c` acceptance and warnings.
    Other(String),
}

/// `tcp-request connection|content accept|reject [if COND]`.
#[derive(Debug, Clone)]
pub struct TcpRequestRule {
    pub pos: Pos,
    /// `connection` or `content` (or `session`).
    pub layer: String,
    /// `accept`, `reject`, or another action kept as written.
    pub action: String,
    pub cond: Option<Cond>,
}

/// A 1.4 header-manipulation line: `reqadd`, `reqrep`, `rspdel`, `block`, …
#[derive(Debug, Clone)]
pub struct LegacyRule {
    pub pos: Pos,
    /// The keyword: `reqadd`, `reqirep`, `block`, …
    pub keyword: String,
    /// Regex or header line (unescaped).
    pub arg: String,
    /// Replacement (for `*rep`) or backend (for `reqsetbe`).
    pub arg2: Option<String>,
    pub cond: Option<Cond>,
}

/// `redirect location|prefix|scheme TARGET [code N] [drop-query] [append-slash] [set-cookie X] [clear-cookie X]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub target: String,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
    pub set_cookie: Option<String>,
    pub clear_cookie: Option<String>,
    pub cond: Option<Cond>,
}

/// What a redirect replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

/// `track-scN KEY [table T]` (an `http-request` or `tcp-request` action).
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The sticky counter: 0, 1 or 2.
    pub sc: u8,
    /// The key's sample expression as written (`src`, `req.hdr(x-api-key)`).
    pub key: String,
    /// `table T`; `None` = the rule's own proxy's table.
    pub table: Option<String>,
}

impl Track {
    /// Parse `track-scN KEY [table T]` (`w[0]` is the action).
    pub fn parse(w: &[String]) -> Result<Track, String> {
        let act = w.first().map(String::as_str).unwrap_or("");
        let sc = match act {
            "track-sc0" => 0,
            "track-sc1" => 1,
            "track-sc2" => 2,
            _ => return Err(format!("unknown action '{act}'")),
        };
        let key = w.get(1).ok_or_else(|| format!("'{act}' expects a sample expression (key)."))?.clone();
        let table = match w.get(2).map(String::as_str) {
            None => None,
            Some("table") => {
                Some(w.get(3).ok_or_else(|| format!("'{act}' : missing table name after 'table'."))?.clone())
            }
            Some(o) => return Err(format!("'{act}' : unexpected argument '{o}' (expects 'table' or a condition).")),
        };
        if w.len() > 4 {
            return Err(format!("'{act}' : unexpected argument '{}'.", w[4]));
        }
        Ok(Track { sc, key, table })
    }
}
