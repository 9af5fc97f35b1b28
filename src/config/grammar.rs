//! The pest tokenizer: config text → lines of unquoted, unescaped, env-expanded words.

use pest::iterators::Pair;
use pest::Parser;
use pest_derive::Parser;

use super::model::Pos;
use std::sync::Arc;

/// The pest parser generated from `grammar/haproxy.pest`.
#[derive(Parser)]
#[grammar = "../grammar/haproxy.pest"]
pub struct HaproxyParser;

/// One non-empty config line: its position and its words after quoting, escapes and `${ENV}` are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// File and 1-based line number.
    pub pos: Pos,
    /// The words, never empty (blank and comment-only lines are dropped).
    pub words: Vec<String>,
}

/// Where an environment variable's value comes from (a closure so that tests need not touch the process env).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Tokenize a whole file. On a syntax error (an unterminated quote) returns the line and a message.
pub fn tokenize(file: &Arc<str>, text: &str, env: EnvLookup<'_>) -> Result<Vec<Line>, (Pos, String)> {
    let parsed = HaproxyParser::parse(Rule::file, text).map_err(|e| {
        let (line, col) = match e.line_col {
            pest::error::LineColLocation::Pos(p) => p,
            pest::error::LineColLocation::Span(p, _) => p,
        };
        let lines: Vec<&str> = text.split('\n').collect();
        let src = lines.get(line.saturating_sub(1)).copied().unwrap_or("");
        let msg = if src.contains('"') || src.contains('\'') {
            "unmatched quote".to_string()
        } else {
            format!("syntax error at column {col}")
        };
        (Pos { file: file.clone(), line }, msg)
    })?;
    let mut out = Vec::new();
    for file_pair in parsed {
        for line in file_pair.into_inner() {
            if line.as_rule() != Rule::line {
                continue;
            }
            let lno = line.as_span().start_pos().line_col().0;
            let words: Vec<String> =
                line.into_inner().filter(|p| p.as_rule() == Rule::word).map(|w| word_text(w, env)).collect();
            if !words.is_empty() {
                out.push(Line { pos: Pos { file: file.clone(), line: lno }, words });
            }
        }
    }
    Ok(out)
}

fn word_text(word: Pair<'_, Rule>, env: EnvLookup<'_>) -> String {
    let mut s = String::new();
    for part in word.into_inner() {
        push_part(&mut s, part, env);
    }
    s
}

fn push_part(s: &mut String, part: Pair<'_, Rule>, env: EnvLookup<'_>) {
    match part.as_rule() {
        Rule::dquoted => {
            for p in part.into_inner() {
                push_part(s, p, env);
            }
        }
        Rule::squoted => {
            for p in part.into_inner() {
                s.push_str(p.as_str());
            }
        }
        Rule::lit | Rule::dq_lit | Rule::dollar => s.push_str(part.as_str()),
        Rule::escape => {
            let raw = part.as_str();
            match part.into_inner().next() {
                None => s.push('\\'),
                Some(p) if p.as_rule() == Rule::hex_esc => {
                    let v = u8::from_str_radix(&p.as_str()[1..], 16).unwrap_or(b'?');
                    s.push(char::from(v));
                }
                Some(p) => match p.as_str() {
                    "t" => s.push('\t'),
                    "r" => s.push('\r'),
                    "n" => s.push('\n'),
                    " " | "#" | "\\" | "\"" | "'" | "$" => s.push_str(p.as_str()),
                    _ => s.push_str(raw),
                },
            }
        }
        Rule::env | Rule::uenv => {
            let quoted = part.as_rule() == Rule::env;
            let raw = part.as_str();
            let mut name = "";
            let mut default = None;
            for p in part.into_inner() {
                match p.as_rule() {
                    Rule::env_name => name = p.as_str(),
                    Rule::env_default => {
                        default = Some(p.into_inner().next().map(|d| d.as_str()).unwrap_or(""));
                    }
                    _ => {}
                }
            }
            match (env(name), default) {
                (Some(v), _) => s.push_str(&v),
                (None, Some(d)) => s.push_str(d),
                (None, None) if quoted => {}
                // Unquoted and unset: 2.x keeps the text (a crypt hash's `$salt`, a regex's `$`).
                (None, None) => s.push_str(raw),
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("8080".into()),
            "HOST" => Some("127.0.0.1".into()),
            _ => None,
        }
    }

    fn words(text: &str) -> Vec<Vec<String>> {
        let f: Arc<str> = Arc::from("t.cfg");
        tokenize(&f, text, &env).unwrap().into_iter().map(|l| l.words).collect()
    }

    #[test]
    fn words_and_comments() {
        assert_eq!(
            words("  bind *:80   # comment\n\n# full\n\tmode\thttp"),
            vec![vec!["bind".to_string(), "*:80".into()], vec!["mode".into(), "http".into()]]
        );
        // HAProxy 2.6 ends the line at an unquoted `#` even inside a word.
        assert_eq!(words("acl a path a#b c")[0], vec!["acl", "a", "path", "a"]);
        assert_eq!(words(r#"acl a path "a#b" a\#b"#)[0][3..], ["a#b", "a#b"]);
    }

    #[test]
    fn quotes_and_escapes() {
        let w = words(r##"x "a b" 'c $PORT \n' \ d\#e \\ \x41 \. "q\"q" "" "#""##);
        assert_eq!(w[0], vec!["x", "a b", "c $PORT \\n", " d#e", "\\", "A", "\\.", "q\"q", "", "#"]);
        assert_eq!(words("rspadd X-A:\\ b\\tc")[0][1], "X-A: b\tc");
    }

    #[test]
    fn env_expansion() {
        let w = words(r#"bind "${HOST}:$PORT" :${PORT} "${NOPE}" ${NOPE-9} x$ '${PORT}'"#);
        assert_eq!(w[0], vec!["bind", "127.0.0.1:8080", ":8080", "", "9", "x$", "${PORT}"]);
        // Unquoted and unset: kept as written, as HAProxy 2.x does (userlist crypt hashes).
        let w = words(r#"user a password $6$salt$NOPE/x.y ${NOPE} $NOPE:$PORT "$6$x""#);
        assert_eq!(w[0], vec!["user", "a", "password", "$6$salt$NOPE/x.y", "${NOPE}", "$NOPE:8080", "$6"]);
    }

    #[test]
    fn line_numbers_and_errors() {
        let f: Arc<str> = Arc::from("t.cfg");
        let l = tokenize(&f, "a\n\nb c\r\n", &env).unwrap();
        assert_eq!(l[1].pos.line, 3);
        assert_eq!(l[1].words, vec!["b", "c"]);
        let e = tokenize(&f, "a\nb \"open\nc", &env).unwrap_err();
        assert_eq!(e.0.line, 2);
        assert_eq!(e.1, "unmatched quote");
    }
}
