//! Log-format strings in rule arguments (`set-header X-Client %[src]`, `add-header X-Addr %ci:%cp`), parsed once
//! at start-up into literal pieces and sample expressions, rendered per request.
//!
//! Supported: literal text, `%%`, `%[fetch(args),conv…]` (every fetch of [`mod@crate::acl::fetch`]), `%ci` `%cp`
//! (client), `%fi` `%fp` (frontend address). Other `%` variables render as nothing.

use crate::acl::fetch::{self, Expr, Val};
use crate::acl::{Context, Names};

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
    pub fn parse(text: &str, names: &Names) -> Result<Fmt, String> {
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
                let expr = fetch::compile_expr(&text[i + 1..end], names).map_err(|e| format!("in '{text}': {e}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{HttpView, Sample};
    use crate::http::testhead;
    use std::net::SocketAddr;

    struct Ctx<'a>(HttpView<'a>);
    impl Context for Ctx<'_> {
        fn src(&self) -> SocketAddr {
            "[2001:db8::7]:1234".parse().expect("src")
        }
        fn dst(&self) -> SocketAddr {
            "10.0.0.1:443".parse().expect("dst")
        }
        fn counter(&self, c: &crate::acl::fetch::Counter) -> Option<Sample> {
            matches!(c, crate::acl::fetch::Counter::NbSrv(_)).then_some(Sample::Int(3))
        }
        fn http(&self) -> Option<HttpView<'_>> {
            Some(self.0)
        }
    }

    fn render(f: &str) -> String {
        let (buf, head) = testhead::req("GET /a/b?q=1 HTTP/1.1\nHost: Ex.com\nX-F: 1.1.1.1, 2.2.2.2\nX-F: 3.3.3.3\n\n");
        let ctx = Ctx(HttpView::new(&buf, &head));
        String::from_utf8(Fmt::parse(f, &Names::default()).expect("parse").to_vec(&ctx)).expect("utf8")
    }

    #[test]
    fn variables_and_samples() {
        assert_eq!(render("plain"), "plain");
        assert_eq!(render("100%% %ci:%cp -> %fi:%fp"), "100% 2001:db8::7:1234 -> 10.0.0.1:443");
        assert_eq!(render("%[src] %[dst] %[dst_port]"), "2001:db8::7 10.0.0.1 443");
        assert_eq!(render("%[req.hdr(host),lower]%[path]?%[query]"), "ex.com/a/b?q=1");
        assert_eq!(render("%[req.hdr(x-f)]|%[req.hdr(x-f,1)]|%[req.fhdr(x-f,1)]"), "3.3.3.3|1.1.1.1|1.1.1.1, 2.2.2.2");
        assert_eq!(render("[%[req.hdr(none)]][%Ts][%{+Q}ci]"), "[][][2001:db8::7]");
        assert_eq!(render("%[method] %[url] n=%[nbsrv] %[base]"), "GET /a/b?q=1 n=3 Ex.com/a/b");
        assert_eq!(render("trailing %"), "trailing %");
        assert!(Fmt::parse("%[src", &Names::default()).is_err());
        assert!(Fmt::parse("%[src,nope]", &Names::default()).is_err());
        assert_eq!(Fmt::literal("%x"), Fmt { pieces: vec![Piece::Lit(b"%x".to_vec())] });
    }
}
