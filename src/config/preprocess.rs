//! Conditional blocks: `.if COND` / `.elif COND` / `.else` / `.endif`, and `.notice` / `.warning` / `.alert` /
//! `.diag` messages. Runs on tokenized lines, before sections are looked at.

use super::grammar::Line;
use super::model::Pos;
use super::{DiagLevel, Diagnostic};

/// The HAProxy version nbproxy claims for `version_atleast` / `version_before`.
pub const COMPAT_VERSION: &str = "2.6";

struct Block {
    pos: Pos,
    /// Is the current branch being kept?
    active: bool,
    /// Has a branch of this block already been taken?
    taken: bool,
    /// Is the enclosing block active?
    parent_active: bool,
    seen_else: bool,
}

/// Apply conditional blocks; return the lines that remain. `.alert` and structural errors are alerts.
pub fn preprocess(lines: Vec<Line>, diags: &mut Vec<Diagnostic>, env: &dyn Fn(&str) -> Option<String>) -> Vec<Line> {
    let mut out = Vec::new();
    let mut stack: Vec<Block> = Vec::new();
    let mut last_file: Option<std::sync::Arc<str>> = None;
    let alert = |diags: &mut Vec<Diagnostic>, pos: &Pos, m: String| {
        diags.push(Diagnostic { level: DiagLevel::Alert, pos: Some(pos.clone()), message: m })
    };
    for line in lines {
        // Blocks cannot span files.
        if last_file.as_ref() != Some(&line.pos.file) {
            for b in stack.drain(..) {
                alert(diags, &b.pos, "missing '.endif' for this '.if'".into());
            }
            last_file = Some(line.pos.file.clone());
        }
        let active = stack.last().map(|b| b.active).unwrap_or(true);
        let kw = line.words[0].as_str();
        match kw {
            ".if" => {
                let v = if active { eval(&line.words[1..], env) } else { Ok(false) };
                let v = v.unwrap_or_else(|e| {
                    alert(diags, &line.pos, e);
                    false
                });
                stack.push(Block {
                    pos: line.pos.clone(),
                    active: active && v,
                    taken: v,
                    parent_active: active,
                    seen_else: false,
                });
            }
            ".elif" | ".else" => {
                let Some(b) = stack.last_mut() else {
                    alert(diags, &line.pos, format!("'{kw}' without a matching '.if'"));
                    continue;
                };
                if b.seen_else {
                    alert(diags, &line.pos, format!("'{kw}' after '.else'"));
                    continue;
                }
                let v = if kw == ".else" {
                    b.seen_else = true;
                    Ok(true)
                } else if b.parent_active && !b.taken {
                    eval(&line.words[1..], env)
                } else {
                    Ok(false)
                };
                let v = v.unwrap_or_else(|e| {
                    alert(diags, &line.pos, e);
                    false
                });
                b.active = b.parent_active && !b.taken && v;
                b.taken |= v;
            }
            ".endif" => {
                if stack.pop().is_none() {
                    alert(diags, &line.pos, "'.endif' without a matching '.if'".into());
                }
            }
            ".notice" | ".warning" | ".alert" | ".diag" => {
                if active {
                    let level = match kw {
                        ".alert" => DiagLevel::Alert,
                        ".warning" => DiagLevel::Warning,
                        _ => DiagLevel::Notice,
                    };
                    if kw != ".diag" {
                        diags.push(Diagnostic {
                            level,
                            pos: Some(line.pos.clone()),
                            message: line.words[1..].join(" "),
                        });
                    }
                }
            }
            _ if kw.starts_with('.') && active => {
                alert(diags, &line.pos, format!("unknown directive '{kw}'"));
            }
            _ => {
                if active {
                    out.push(line);
                }
            }
        }
    }
    for b in stack {
        alert(diags, &b.pos, "missing '.endif' for this '.if'".into());
    }
    out
}

/// Evaluate a condition given as words (joined with spaces, so `streq(a, b)` may span words).
pub fn eval(words: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<bool, String> {
    let text = words.join(" ");
    let mut p = CondParser { s: text.as_bytes(), i: 0, env };
    let v = p.or()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unparsable conditional expression '{text}'"));
    }
    Ok(v)
}

struct CondParser<'a> {
    s: &'a [u8],
    i: usize,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl CondParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, t: &str) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Result<bool, String> {
        let mut v = self.and()?;
        while self.eat("||") {
            v |= self.and()?;
        }
        Ok(v)
    }
    fn and(&mut self) -> Result<bool, String> {
        let mut v = self.unary()?;
        while self.eat("&&") {
            v &= self.unary()?;
        }
        Ok(v)
    }
    fn unary(&mut self) -> Result<bool, String> {
        if self.eat("!") {
            return Ok(!self.unary()?);
        }
        if self.eat("(") {
            let v = self.or()?;
            if !self.eat(")") {
                return Err("missing ')' in conditional expression".into());
            }
            return Ok(v);
        }
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && !b" \t()!&|".contains(&self.s[self.i]) {
            self.i += 1;
        }
        let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        if self.i < self.s.len() && self.s[self.i] == b'(' {
            self.i += 1;
            let astart = self.i;
            while self.i < self.s.len() && self.s[self.i] != b')' {
                self.i += 1;
            }
            if self.i >= self.s.len() {
                return Err(format!("missing ')' after '{name}('"));
            }
            let raw = String::from_utf8_lossy(&self.s[astart..self.i]).into_owned();
            self.i += 1;
            let args: Vec<String> =
                if raw.trim().is_empty() { Vec::new() } else { raw.split(',').map(|a| a.trim().to_string()).collect() };
            return self.predicate(&name, &args);
        }
        if name.is_empty() {
            return Ok(false);
        }
        name.parse::<i64>().map(|n| n != 0).map_err(|_| format!("unparsable conditional expression '{name}'"))
    }
    fn predicate(&self, name: &str, args: &[String]) -> Result<bool, String> {
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("'{name}' expects {n} argument(s)"))
            }
        };
        match name {
            "defined" => {
                want(1)?;
                Ok((self.env)(&args[0]).is_some())
            }
            "feature" => {
                want(1)?;
                Ok(args[0] == "LINUX")
            }
            "streq" => {
                want(2)?;
                Ok(args[0] == args[1])
            }
            "strneq" => {
                want(2)?;
                Ok(args[0] != args[1])
            }
            "version_atleast" => {
                want(1)?;
                Ok(cmp_version(COMPAT_VERSION, &args[0]) != std::cmp::Ordering::Less)
            }
            "version_before" => {
                want(1)?;
                Ok(cmp_version(COMPAT_VERSION, &args[0]) == std::cmp::Ordering::Less)
            }
            _ => Err(format!("unknown conditional predicate '{name}'")),
        }
    }
}

/// Compare dotted versions numerically (`2.6` vs `2.10`); non-numeric parts compare as 0.
fn cmp_version(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| -> Vec<u64> {
        s.split(['.', '-'])
            .map(|p| p.chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap_or(0))
            .collect()
    };
    let (mut x, mut y) = (parse(a), parse(b));
    let n = x.len().max(y.len());
    x.resize(n, 0);
    y.resize(n, 0);
    x.cmp(&y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::grammar::tokenize;
    use std::sync::Arc;

    fn env(n: &str) -> Option<String> {
        (n == "SET").then(|| "yes".to_string())
    }

    fn run(text: &str) -> (Vec<String>, Vec<Diagnostic>) {
        let f: Arc<str> = Arc::from("p.cfg");
        let lines = tokenize(&f, text, &env).unwrap();
        let mut d = Vec::new();
        let out = preprocess(lines, &mut d, &env);
        (out.into_iter().map(|l| l.words.join(" ")).collect(), d)
    }

    #[test]
    fn if_elif_else() {
        let (l, d) = run(".if defined(SET)\na\n.elif 1\nb\n.else\nc\n.endif\n.if defined(NOPE)\nd\n.elif streq(x,x)\ne\n.else\nf\n.endif");
        assert_eq!(l, vec!["a", "e"]);
        assert!(d.is_empty());
        let (l, _) = run(
            ".if 0\na\n.if 1\nb\n.endif\n.else\nc\n.endif\n.if version_atleast(2.4) && !version_before(1.8)\nd\n.endif",
        );
        assert_eq!(l, vec!["c", "d"]);
        let (l, _) = run(".if feature(LINUX)\na\n.endif\n.if feature(OPENSSL)\nb\n.endif\n.if strneq(a,b)\nc\n.endif\n.if\nd\n.endif");
        assert_eq!(l, vec!["a", "c"]);
        assert!(cmp_version("2.6", "2.10").is_lt());
    }

    #[test]
    fn messages_and_errors() {
        let (_, d) = run(".notice hello world\n.warning w\n.alert bad\n.diag x");
        assert_eq!(d.len(), 3);
        assert_eq!(d[2].to_string(), "[ALERT] p.cfg:3: bad");
        let (_, d) = run("a\n.endif");
        assert_eq!(d[0].to_string(), "[ALERT] p.cfg:2: '.endif' without a matching '.if'");
        let (_, d) = run(".if 1\na");
        assert_eq!(d[0].to_string(), "[ALERT] p.cfg:1: missing '.endif' for this '.if'");
        let (_, d) = run(".if bogus(1)\n.endif");
        assert_eq!(d.len(), 1);
    }
}
