//! A small regular-expression matcher for `http-check expect rstatus|rstring` and `tcp-check expect rstring|rbinary`,
//! until the project's `regex` dependency is available to checks.
//!
//! Supported (a subset of POSIX ERE / PCRE, which is what HAProxy uses): literals, `.`, bracket classes with ranges
//! and negation (`[0-9]`, `[^a-z]`), the escapes `\d \D \w \W \s \S` and `\` before any other character (a literal),
//! groups `( … )` (also `(?: … )`), alternation `|`, the quantifiers `*`, `+`, `?` and `{n}`, `{n,}`, `{n,m}`,
//! and the anchors `^` and `$`. Matching is a search (unanchored unless `^`/`$` say otherwise) by simulating the
//! pattern's NFA over the input (no backtracking, no recursion): time is O(input × pattern) whatever the pattern.
//!
//! A pattern outside that subset (backreferences, lookaround, POSIX `[:classes:]`, …) is matched as a literal
//! substring, which is documented behaviour, never an error at run time.

use crate::config::model::ExpectKind;

/// Largest compiled program (counted repetitions are expanded); bigger patterns fall back to a literal.
const MAX_PROG: usize = 20_000;

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    repr: Repr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    Regex(Vec<Inst>),
    Literal(Vec<u8>),
}

/// One NFA instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Inst {
    Byte(u8),
    Any,
    Class(Box<[bool; 256]>),
    Split(usize, usize),
    Jmp(usize),
    Start,
    End,
    Match,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// Alternatives, each a sequence.
    Alt(Vec<Vec<Piece>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    atom: Atom,
    min: u32,
    /// `u32::MAX` = unbounded.
    max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Atom {
    Byte(u8),
    Any,
    Class(Box<[bool; 256]>),
    Group(Node),
    Start,
    End,
}

impl Pattern {
    /// Compile `src`; unsupported syntax falls back to a literal substring search.
    pub fn new(src: &str) -> Pattern {
        let mut p = Parser { s: src.as_bytes(), i: 0 };
        let literal = Pattern { repr: Repr::Literal(src.as_bytes().to_vec()) };
        let Some(n) = p.alt().filter(|_| p.i == p.s.len()) else { return literal };
        let mut prog = Vec::new();
        if !compile_node(&n, &mut prog) {
            return literal;
        }
        prog.push(Inst::Match);
        Pattern { repr: Repr::Regex(prog) }
    }

    /// Whether the pattern was understood as a regular expression (not the literal fallback).
    pub fn is_regex(&self) -> bool {
        matches!(self.repr, Repr::Regex(_))
    }

    /// Whether the pattern matches somewhere in `hay`.
    pub fn is_match(&self, hay: &[u8]) -> bool {
        match &self.repr {
            Repr::Literal(l) => find(hay, l).is_some(),
            Repr::Regex(prog) => run(prog, hay),
        }
    }
}

/// Position of `needle` in `hay` (an empty needle is found at 0).
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn alt(&mut self) -> Option<Node> {
        let mut alts = vec![self.seq()?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            alts.push(self.seq()?);
        }
        Some(Node::Alt(alts))
    }

    fn seq(&mut self) -> Option<Vec<Piece>> {
        let mut seq = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let atom = self.atom()?;
            let (min, max) = self.quant()?;
            if (min, max) != (1, 1) && matches!(atom, Atom::Start | Atom::End) {
                return None;
            }
            seq.push(Piece { atom, min, max });
        }
        Some(seq)
    }

    fn atom(&mut self) -> Option<Atom> {
        let c = self.peek()?;
        self.i += 1;
        Some(match c {
            b'.' => Atom::Any,
            b'^' => Atom::Start,
            b'$' => Atom::End,
            b'(' => {
                if self.s[self.i..].starts_with(b"?:") {
                    self.i += 2;
                } else if self.peek() == Some(b'?') {
                    return None;
                }
                let n = self.alt()?;
                if self.peek() != Some(b')') {
                    return None;
                }
                self.i += 1;
                Atom::Group(n)
            }
            b'[' => self.class()?,
            b'\\' => {
                let e = self.peek()?;
                self.i += 1;
                match (escape_class(e), e) {
                    (Some(a), _) => a,
                    (None, b'n') => Atom::Byte(b'\n'),
                    (None, b'r') => Atom::Byte(b'\r'),
                    (None, b't') => Atom::Byte(b'\t'),
                    // Backreferences, word boundaries and the like are outside the subset.
                    (None, e) if e.is_ascii_alphanumeric() => return None,
                    (None, e) => Atom::Byte(e),
                }
            }
            b'*' | b'+' | b'?' | b'{' | b')' => return None,
            _ => Atom::Byte(c),
        })
    }

    fn class(&mut self) -> Option<Atom> {
        let mut set = [false; 256];
        let negate = self.peek() == Some(b'^');
        if negate {
            self.i += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek()?;
            self.i += 1;
            if c == b']' && !first {
                break;
            }
            first = false;
            if c == b'[' && self.peek() == Some(b':') {
                return None;
            }
            let lo = if c == b'\\' {
                let e = self.peek()?;
                self.i += 1;
                if let Some(Atom::Class(cls)) = escape_class(e) {
                    for (b, on) in cls.iter().enumerate() {
                        set[b] |= *on;
                    }
                    continue;
                }
                e
            } else {
                c
            };
            if self.peek() == Some(b'-') && self.s.get(self.i + 1).is_some_and(|&n| n != b']') {
                let hi = self.s[self.i + 1];
                self.i += 2;
                if hi < lo {
                    return None;
                }
                for b in lo..=hi {
                    set[b as usize] = true;
                }
            } else {
                set[lo as usize] = true;
            }
        }
        if negate {
            for b in set.iter_mut() {
                *b = !*b;
            }
        }
        Some(Atom::Class(Box::new(set)))
    }

    fn quant(&mut self) -> Option<(u32, u32)> {
        let q = match self.peek() {
            Some(b'*') => (0, u32::MAX),
            Some(b'+') => (1, u32::MAX),
            Some(b'?') => (0, 1),
            Some(b'{') => {
                let close = self.s[self.i..].iter().position(|&c| c == b'}')? + self.i;
                let body = std::str::from_utf8(&self.s[self.i + 1..close]).ok()?;
                let (min, max) = match body.split_once(',') {
                    None => {
                        let n = body.parse().ok()?;
                        (n, n)
                    }
                    Some((a, "")) => (a.parse().ok()?, u32::MAX),
                    Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                };
                if min > max || min > 1000 {
                    return None;
                }
                self.i = close;
                (min, max)
            }
            _ => return Some((1, 1)),
        };
        self.i += 1;
        if matches!(self.peek(), Some(b'*' | b'+' | b'?' | b'{')) {
            return None; // lazy/possessive quantifiers are not supported
        }
        Some(q)
    }
}

fn escape_class(e: u8) -> Option<Atom> {
    let pred: fn(u8) -> bool = match e {
        b'd' | b'D' => |b| b.is_ascii_digit(),
        b'w' | b'W' => |b| b.is_ascii_alphanumeric() || b == b'_',
        b's' | b'S' => |b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c),
        _ => return None,
    };
    let neg = e.is_ascii_uppercase();
    let mut set = [false; 256];
    for (b, slot) in set.iter_mut().enumerate() {
        *slot = pred(b as u8) != neg;
    }
    Some(Atom::Class(Box::new(set)))
}

/// Emit `n`; false when the program grows past [`MAX_PROG`].
fn compile_node(n: &Node, prog: &mut Vec<Inst>) -> bool {
    let Node::Alt(alts) = n;
    let mut jumps = Vec::new();
    for (i, seq) in alts.iter().enumerate() {
        if i + 1 < alts.len() {
            let split = prog.len();
            prog.push(Inst::Split(0, 0));
            if !compile_seq(seq, prog) {
                return false;
            }
            jumps.push(prog.len());
            prog.push(Inst::Jmp(0));
            prog[split] = Inst::Split(split + 1, prog.len());
        } else if !compile_seq(seq, prog) {
            return false;
        }
    }
    let end = prog.len();
    for j in jumps {
        prog[j] = Inst::Jmp(end);
    }
    prog.len() <= MAX_PROG
}

fn compile_seq(seq: &[Piece], prog: &mut Vec<Inst>) -> bool {
    for p in seq {
        for _ in 0..p.min {
            if !compile_atom(&p.atom, prog) {
                return false;
            }
        }
        if p.max == u32::MAX {
            let split = prog.len();
            prog.push(Inst::Split(0, 0));
            if !compile_atom(&p.atom, prog) {
                return false;
            }
            prog.push(Inst::Jmp(split));
            prog[split] = Inst::Split(split + 1, prog.len());
        } else {
            for _ in p.min..p.max {
                let split = prog.len();
                prog.push(Inst::Split(0, 0));
                if !compile_atom(&p.atom, prog) {
                    return false;
                }
                prog[split] = Inst::Split(split + 1, prog.len());
            }
        }
    }
    prog.len() <= MAX_PROG
}

fn compile_atom(a: &Atom, prog: &mut Vec<Inst>) -> bool {
    match a {
        Atom::Byte(b) => prog.push(Inst::Byte(*b)),
        Atom::Any => prog.push(Inst::Any),
        Atom::Class(c) => prog.push(Inst::Class(c.clone())),
        Atom::Start => prog.push(Inst::Start),
        Atom::End => prog.push(Inst::End),
        Atom::Group(n) => return compile_node(n, prog),
    }
    prog.len() <= MAX_PROG
}

/// Simulate the NFA over `hay`, starting a thread at every position (a search).
fn run(prog: &[Inst], hay: &[u8]) -> bool {
    let mut seen = vec![0usize; prog.len()];
    let mut cur = Vec::new();
    let mut next = Vec::new();
    let mut stack = Vec::new();
    for pos in 0..=hay.len() {
        if add(prog, hay, &mut cur, &mut seen, &mut stack, 0, pos) {
            return true;
        }
        let Some(&c) = hay.get(pos) else { break };
        next.clear();
        for &pc in &cur {
            let step = match &prog[pc] {
                Inst::Byte(b) => *b == c,
                Inst::Any => true,
                Inst::Class(set) => set[c as usize],
                _ => false,
            };
            if step && add(prog, hay, &mut next, &mut seen, &mut stack, pc + 1, pos + 1) {
                return true;
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    false
}

/// Add `pc` and its epsilon closure at `pos` to `list`; true if `Match` is reached.
fn add(
    prog: &[Inst],
    hay: &[u8],
    list: &mut Vec<usize>,
    seen: &mut [usize],
    stack: &mut Vec<usize>,
    pc: usize,
    pos: usize,
) -> bool {
    let stamp = pos + 1;
    stack.clear();
    stack.push(pc);
    while let Some(pc) = stack.pop() {
        if seen[pc] == stamp {
            continue;
        }
        seen[pc] = stamp;
        match &prog[pc] {
            Inst::Match => return true,
            Inst::Jmp(a) => stack.push(*a),
            Inst::Split(a, b) => {
                stack.push(*b);
                stack.push(*a);
            }
            Inst::Start => {
                if pos == 0 {
                    stack.push(pc + 1)
                }
            }
            Inst::End => {
                if pos == hay.len() {
                    stack.push(pc + 1)
                }
            }
            _ => list.push(pc),
        }
    }
    false
}

/// A compiled `expect [!] status|rstatus|string|rstring|binary|rbinary PATTERN` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// `!`: the check passes when the pattern does not match.
    pub negate: bool,
    /// What is compared.
    pub kind: ExpectKind,
    /// The pattern as written (for log texts).
    pub text: String,
    how: How,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum How {
    Exact(Vec<u8>),
    Contains(Vec<u8>),
    Regex(Pattern),
    HexRegex(Pattern),
}

impl Expect {
    /// Compile a rule. `status` compares the whole status code, `string`/`binary` search the data (binary patterns
    /// are hex, already validated by the config), `rstatus`/`rstring` are [`Pattern`]s, `rbinary` is a pattern over
    /// the data written as upper-case hex (as HAProxy does).
    pub fn new(negate: bool, kind: ExpectKind, pattern: &str) -> Expect {
        let how = match kind {
            ExpectKind::Status => How::Exact(pattern.as_bytes().to_vec()),
            ExpectKind::String => How::Contains(pattern.as_bytes().to_vec()),
            ExpectKind::Binary => How::Contains(unhex(pattern).unwrap_or_else(|| pattern.as_bytes().to_vec())),
            ExpectKind::Rstatus | ExpectKind::Rstring => How::Regex(Pattern::new(pattern)),
            ExpectKind::Rbinary => How::HexRegex(Pattern::new(pattern)),
        };
        Expect { negate, kind, text: pattern.to_string(), how }
    }

    /// Whether the pattern matches `data` (before applying `!`).
    pub fn matches(&self, data: &[u8]) -> bool {
        match &self.how {
            How::Exact(p) => data == p.as_slice(),
            How::Contains(p) => find(data, p).is_some(),
            How::Regex(p) => p.is_match(data),
            How::HexRegex(p) => {
                let hex: Vec<u8> = data.iter().flat_map(|b| format!("{b:02X}").into_bytes()).collect();
                p.is_match(&hex)
            }
        }
    }
}

/// `"0a1B"` → `[0x0a, 0x1b]`.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, h: &str) -> bool {
        Pattern::new(p).is_match(h.as_bytes())
    }

    #[test]
    fn literals_and_anchors() {
        assert!(m("OK", "all OK here"));
        assert!(m("^2", "200"));
        assert!(!m("^2", "500"));
        assert!(m("^200$", "200"));
        assert!(!m("^20$", "200"));
        assert!(m("", "anything"));
    }

    #[test]
    fn classes_and_quantifiers() {
        assert!(m("^[23][0-9][0-9]$", "302"));
        assert!(!m("^[23][0-9][0-9]$", "404"));
        assert!(m(r"^2\d\d", "204"));
        assert!(m("^2[0-9]{2}$", "299"));
        assert!(!m("^2[0-9]{3}$", "299"));
        assert!(m("a.*z", "a---z"));
        assert!(m("ab+c", "abbbc"));
        assert!(!m("ab+c", "ac"));
        assert!(m("colou?r", "color"));
        assert!(m("[^0-9]", "12a"));
        assert!(!m("^[^0-9]+$", "12a"));
        assert!(m(r"\.", "a.b"));
        assert!(!m(r"\.", "ab"));
    }

    #[test]
    fn alternation_and_groups() {
        assert!(m("^(200|204)$", "204"));
        assert!(!m("^(200|204)$", "201"));
        assert!(m("foo|bar", "xbarx"));
        assert!(m("^(?:ab)+$", "ababab"));
        assert!(!m("^(ab)+$", "ababa"));
        assert!(m("(a*)*b", "aaab"));
    }

    #[test]
    fn unsupported_falls_back_to_literal() {
        let p = Pattern::new(r"(\d)\1");
        assert!(!p.is_regex());
        assert!(p.is_match(br"x(\d)\1y"));
        assert!(!Pattern::new("a(?=b)").is_regex());
        assert!(!Pattern::new("[[:digit:]]").is_regex());
        assert!(!Pattern::new("*a").is_regex());
    }

    #[test]
    fn expect_rules() {
        assert!(Expect::new(false, ExpectKind::Status, "204").matches(b"204"));
        assert!(!Expect::new(false, ExpectKind::Status, "20").matches(b"204"));
        assert!(Expect::new(false, ExpectKind::Binary, "0d0a").matches(b"a\r\nb"));
        assert!(Expect::new(false, ExpectKind::Rbinary, "^1[56]03").matches(&[0x16, 0x03, 0x01]));
        assert!(!Expect::new(false, ExpectKind::Rbinary, "^1[56]03").matches(&[0x17, 0x03]));
        assert!(Expect::new(false, ExpectKind::Rstring, "^\\+PONG").matches(b"+PONG\r\n"));
    }

    #[test]
    fn pathological_patterns_end() {
        let hay = "a".repeat(16384);
        let p = Pattern::new("(a*)*(a*)*(a*)*c");
        assert!(!p.is_match(hay.as_bytes()));
        assert!(Pattern::new("(a|aa)*$").is_match(hay.as_bytes()));
        assert!(!Pattern::new("a{1000}").is_regex() || Pattern::new("a{1000}").is_match(hay.as_bytes()));
    }
}
