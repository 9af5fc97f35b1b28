//! HAProxy 1.4 header manipulation: `block`, `req*`/`rsp*` regex filters on whole lines and `reqadd`/`rspadd`.
//!
//! Semantics (1.4 `apply_filters_to_request`): filters run in declaration order, each over every line — the
//! request (status) line first, then each header line `Name: value`. `reqdeny` → 403, `reqtarpit` → tarpit
//! (500), `rspdeny` → 502, all final; `reqallow` makes later allow/deny/tarpit filters no-ops (rewrites still
//! run); `reqpass` stops the remaining filters. `reqrep` replaces the whole matching line by the expansion of
//! its replacement (`\1`…): on the request line it sets `HeadEdits::start_line`; on a header it becomes a new
//! value (same name, compared case-insensitively: the original spelling is kept) or a delete plus an add at
//! the end (renamed header, which therefore moves last); a line
//! rewritten without a colon is dropped. `reqadd` lines are appended after all filters ran.

use regex::bytes::Regex;

use crate::acl::view::{self, Slot};
use crate::acl::{compile_regex, CompiledAcls, CompiledCond, Context};
use crate::config::model::LegacyRule;
use crate::http::head::HeadEdits;

use super::edit::{self, Op};
use super::{for_headers, Exchange, Verdict};

#[derive(Debug)]
enum Kind {
    Allow,
    Deny,
    Tarpit,
    Pass,
    Rep(Vec<u8>),
    Del,
}

#[derive(Debug)]
struct Filter {
    kind: Kind,
    re: Regex,
    cond: Option<CompiledCond>,
}

/// A header line to add (`reqadd`/`rspadd`), already split.
#[derive(Debug)]
struct AddLine {
    name: Vec<u8>,
    value: Vec<u8>,
    cond: Option<CompiledCond>,
}

/// A proxy's compiled 1.4 rules.
#[derive(Debug, Default)]
pub struct Legacy {
    block: Vec<CompiledCond>,
    req: Vec<Filter>,
    req_add: Vec<AddLine>,
    rsp: Vec<Filter>,
    rsp_add: Vec<AddLine>,
}

impl Legacy {
    /// Compile the proxy's legacy rules (a bad regex or an unsupported keyword is an error naming its line).
    pub fn new(rules: &[LegacyRule], acls: &mut CompiledAcls) -> Result<Legacy, String> {
        let mut l = Legacy::default();
        for r in rules {
            let err = |e: String| format!("parsing [{}] : '{}' : {e}", r.pos, r.keyword);
            let cond = acls.opt_cond(r.cond.as_ref()).map_err(err)?;
            let kw = r.keyword.as_str();
            if kw == "block" {
                l.block.extend(cond);
                continue;
            }
            let (side, verb) = kw.split_at(3.min(kw.len()));
            let (icase, verb) = match verb.strip_prefix('i') {
                Some(v) => (true, v),
                None => (false, verb),
            };
            if verb == "add" {
                let (name, value) =
                    edit::split_line(r.arg.as_bytes()).ok_or_else(|| err("expects 'Name: value'".into()))?;
                let line = AddLine { name, value, cond };
                match side {
                    "req" => l.req_add.push(line),
                    _ => l.rsp_add.push(line),
                }
                continue;
            }
            let kind = match verb {
                "allow" if side == "req" => Kind::Allow,
                "deny" => Kind::Deny,
                "tarpit" if side == "req" => Kind::Tarpit,
                "pass" if side == "req" => Kind::Pass,
                "del" => Kind::Del,
                "rep" => Kind::Rep(r.arg2.clone().unwrap_or_default().into_bytes()),
                _ => return Err(err("is not supported (use 'use_backend' for 'reqsetbe')".into())),
            };
            let f = Filter { kind, re: compile_regex(&r.arg, icase).map_err(err)?, cond };
            match side {
                "req" => l.req.push(f),
                "rsp" => l.rsp.push(f),
                _ => return Err(err("unknown keyword".into())),
            }
        }
        Ok(l)
    }

    /// Does a `block` condition hold?
    pub fn blocked(&self, acls: &CompiledAcls, ctx: &dyn Context) -> bool {
        self.block.iter().any(|c| acls.eval(c, ctx))
    }
}

/// One line a filter looks at.
struct Line {
    /// `None` = the start line.
    slot: Option<Slot>,
    name_len: usize,
    text: Vec<u8>,
}

/// The current lines of the request (or response): start line, then headers as `Name: value`.
fn lines(ex: &Exchange<'_>, res: bool, edits: &HeadEdits) -> Vec<Line> {
    let ctx = if res { ex.ctx(None, Some(edits)) } else { ex.ctx(Some(edits), None) };
    let v = ctx.view;
    let start = match v.res.filter(|_| res) {
        Some(r) => r.status_line(),
        None => v.request_line(),
    };
    let mut out = vec![Line { slot: None, name_len: 0, text: start.to_vec() }];
    let parsed = match (res, v.res) {
        (true, Some(r)) => (r.buf, &r.head.headers),
        _ => (v.buf, &v.head.headers),
    };
    for_headers(&v, res, &mut |h| {
        let mut text = Vec::with_capacity(h.name.len() + h.value.len() + 2);
        match h.slot {
            // An untouched original header: its bytes as received (spacing included).
            Slot::Orig(i) if edits.replaced.iter().all(|(j, _)| *j != i) => {
                let hi = &parsed.1[i];
                text.extend_from_slice(view::slice(parsed.0, &(hi.name.start..hi.value.end.max(hi.name.end))));
            }
            _ => {
                text.extend_from_slice(h.name);
                text.extend_from_slice(b": ");
                text.extend_from_slice(h.value);
            }
        }
        out.push(Line { slot: Some(h.slot), name_len: h.name.len(), text });
    });
    out
}

/// Run the request (or response) filters and adds; `Some` when a final verdict was reached.
pub(super) fn run(
    l: &Legacy,
    acls: &CompiledAcls,
    ex: &Exchange<'_>,
    res: bool,
    edits: &mut HeadEdits,
) -> Option<Verdict> {
    let (filters, adds) = if res { (&l.rsp, &l.rsp_add) } else { (&l.req, &l.req_add) };
    let cond_ok = |c: &Option<CompiledCond>, edits: &HeadEdits| {
        let ctx = if res { ex.ctx(None, Some(edits)) } else { ex.ctx(Some(edits), None) };
        acls.eval_opt(c.as_ref(), &ctx)
    };
    let mut allowed = false;
    // The lines as text, rebuilt only after a filter changed them.
    let mut cache: Option<Vec<Line>> = None;
    for f in filters {
        let decides = matches!(f.kind, Kind::Allow | Kind::Deny | Kind::Tarpit);
        if (allowed && decides) || !cond_ok(&f.cond, edits) {
            continue;
        }
        let current = cache.get_or_insert_with(|| lines(ex, res, edits));
        let hit = || current.iter().any(|line| f.re.is_match(&line.text));
        match &f.kind {
            Kind::Allow => allowed = hit(),
            Kind::Deny if hit() => return Some(Verdict::Deny(if res { 502 } else { 403 })),
            Kind::Tarpit if hit() => return Some(Verdict::Tarpit(500)),
            Kind::Pass if hit() => break,
            Kind::Deny | Kind::Tarpit | Kind::Pass => {}
            Kind::Del => {
                let ops = current
                    .iter()
                    .filter_map(|line| line.slot.filter(|_| f.re.is_match(&line.text)).map(Op::Delete))
                    .collect::<Vec<_>>();
                if !ops.is_empty() {
                    cache = None;
                    edit::apply(ops, edits);
                }
            }
            Kind::Rep(repl) => {
                let mut ops = Vec::new();
                for line in current.iter() {
                    let Some(new) = edit::replace_whole(&f.re, &line.text, repl) else { continue };
                    match line.slot {
                        None => ops.push(Op::StartLine(new)),
                        Some(slot) => match edit::split_line(&new) {
                            Some((n, v))
                                if line.text.get(..line.name_len).is_some_and(|o| n.eq_ignore_ascii_case(o)) =>
                            {
                                ops.push(Op::Replace(slot, v))
                            }
                            Some((n, v)) => {
                                ops.push(Op::Delete(slot));
                                ops.push(Op::Add(n, v));
                            }
                            None => ops.push(Op::Delete(slot)),
                        },
                    }
                }
                if !ops.is_empty() {
                    cache = None;
                    edit::apply(ops, edits);
                }
            }
        }
    }
    let add: Vec<Op> =
        adds.iter().filter(|a| cond_ok(&a.cond, edits)).map(|a| Op::Add(a.name.clone(), a.value.clone())).collect();
    edit::apply(add, edits);
    None
}
