//! Log-format strings in rule arguments (`set-header X-Client %[src]`, `add-header X-Addr %ci:%cp`), parsed once
//! at start-up into literal pieces and sample expressions, rendered per request.
//!
//! Supported: literal text, `%%`, `%[fetch(args),conv…]` (every fetch of [`mod@crate::acl::fetch`]), `%ci` `%cp`
//! (client), `%fi` `%fp` (frontend address). Other `%` variables render as nothing.

use crate::acl::fetch::{self, Expr, Val};
use crate::acl::Context;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Lit(Vec<u8>),
    Expr(Expr),
    ClientIp,
    ClientPort,
    FrontIp,
    FrontPort,
    /// A variable we do not produce: renders as nothing.
    Empty,
}

/// A parsed log-format string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fmt {
    pieces: Vec<Piece>,
}

impl Fmt {
    /// Parse `text`; an unclosed `%[` or an unknown fetch/converter in it is an error.
    pub fn parse(text: &str) -> Result<Fmt, String> {
        let b = text.as_bytes();
        let mut pieces = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            i += 1;
            if b.get(i) == Some(&b'%') {
                lit.push(b'%');
                i += 1;
                continue;
            }
            if b.get(i) == Some(&b'{') {
                // Flags such as `%{+Q}`: skipped.
                i += b[i..].iter().position(|&c| c == b'}').map_or(b.len() - i, |p| p + 1);
            }
            let piece = if b.get(i) == Some(&b'[') {
                let end =
                    i + b[i..].iter().position(|&c| c == b']').ok_or_else(|| format!("missing ']' in '{text}'"))?;
                let expr = fetch::compile_expr(&text[i + 1..end]).map_err(|e| format!("in '{text}': {e}"))?;
                i = end + 1;
                Piece::Expr(expr)
            } else {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
                    i += 1;
                }
                match &text[start..i] {
                    "" => {
                        lit.push(b'%');
                        continue;
                    }
                    "ci" => Piece::ClientIp,
                    "cp" => Piece::ClientPort,
                    "fi" => Piece::FrontIp,
                    "fp" => Piece::FrontPort,
                    _ => Piece::Empty,
                }
            };
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            pieces.push(piece);
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Fmt { pieces })
    }

    /// A literal string (no `%`).
    pub fn literal(text: &str) -> Fmt {
        Fmt { pieces: vec![Piece::Lit(text.as_bytes().to_vec())] }
    }

    /// Render into `out` (appends).
    pub fn render(&self, ctx: &dyn Context, out: &mut Vec<u8>) {
        for p in &self.pieces {
            match p {
                Piece::Lit(l) => out.extend_from_slice(l),
                Piece::Expr(e) => {
                    fetch::render(e, ctx, out);
                }
                Piece::ClientIp => Val::Ip(ctx.src().ip()).render(out),
                Piece::ClientPort => Val::Int(ctx.src().port() as i64).render(out),
                Piece::FrontIp => Val::Ip(ctx.dst().ip()).render(out),
                Piece::FrontPort => Val::Int(ctx.dst().port() as i64).render(out),
                Piece::Empty => {}
            }
        }
    }

    /// Render into a new vector.
    pub fn to_vec(&self, ctx: &dyn Context) -> Vec<u8> {
        let mut v = Vec::new();
        self.render(ctx, &mut v);
        v
    }
}
