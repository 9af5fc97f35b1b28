//! The `expect` rule of `http-check` and `tcp-check`, ready to run against what a server answered.
//!
//! Its pattern was validated and compiled when the config was read ([`CheckPattern`]), so running a check never
//! compiles or fails to. As in HAProxy (`tcpcheck.c`, `tcpcheck_eval_expect`): `status` compares the whole
//! status code; `string` and `binary` search the data for the text or the decoded bytes; `rstatus` and `rstring`
//! search the status code or the data with the regex (unanchored unless the regex has `^`/`$`); `rbinary` runs
//! the regex over the data dumped as upper-case hex (`dump_binary()`), so `rbinary ^1603` matches data starting
//! with the bytes 0x16 0x03. Matching allocates nothing once the caller's hex buffer has grown to the data's size.

use crate::config::model::{CheckPattern, ExpectKind, PatternForm};

/// A compiled `expect [!] status|rstatus|string|rstring|binary|rbinary PATTERN` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// `!`: the check passes when the pattern does not match.
    pub negate: bool,
    /// What is compared.
    pub kind: ExpectKind,
    pattern: CheckPattern,
}

impl Expect {
    /// The rule as the config compiled it.
    pub fn new(negate: bool, kind: ExpectKind, pattern: &CheckPattern) -> Expect {
        Expect { negate, kind, pattern: pattern.clone() }
    }

    /// The pattern as written (for log texts).
    pub fn text(&self) -> &str {
        self.pattern.as_str()
    }

    /// Whether the pattern matches `data` (before applying `!`); `hex` is scratch space for `rbinary`.
    pub fn matches(&self, data: &[u8], hex: &mut Vec<u8>) -> bool {
        match (self.pattern.form(), self.kind) {
            (PatternForm::Bytes(p), ExpectKind::Status) => data == p.as_slice(),
            (PatternForm::Bytes(p), _) => memchr::memmem::find(data, p).is_some(),
            (PatternForm::Regex(re), ExpectKind::Rbinary) => {
                hex_dump(data, hex);
                re.is_match(hex)
            }
            (PatternForm::Regex(re), _) => re.is_match(data),
        }
    }
}

/// `data` as upper-case hex into `out` (HAProxy's `dump_binary()` of the check buffer).
fn hex_dump(data: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.clear();
    out.reserve(data.len() * 2);
    for &b in data {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(negate: bool, kind: ExpectKind, p: &str) -> Expect {
        Expect::new(negate, kind, &CheckPattern::new(kind, p).expect("valid pattern"))
    }

    fn m(p: &str, h: &str) -> bool {
        rule(false, ExpectKind::Rstring, p).matches(h.as_bytes(), &mut Vec::new())
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
        assert!(m("^[[:digit:]]+$", "123"), "POSIX classes, as HAProxy's regex libraries have them");
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
    fn patterns_that_do_not_compile_are_refused() {
        for p in [r"(\d)\1", "a(?=b)", "*a", "(unclosed", "[z-a]"] {
            let e = CheckPattern::new(ExpectKind::Rstring, p).expect_err(p);
            assert!(e.starts_with(&format!("invalid regex '{p}': ")), "{e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
        assert!(CheckPattern::new(ExpectKind::String, "(unclosed").is_ok(), "string is no regex");
        assert!(CheckPattern::new(ExpectKind::Binary, "0d0").is_err(), "odd length");
        assert!(CheckPattern::new(ExpectKind::Binary, "zz").is_err(), "not hex");
    }

    #[test]
    fn expect_rules() {
        let mut hex = Vec::new();
        assert!(rule(false, ExpectKind::Status, "204").matches(b"204", &mut hex));
        assert!(!rule(false, ExpectKind::Status, "20").matches(b"204", &mut hex));
        assert!(rule(false, ExpectKind::Rstatus, "^20").matches(b"204", &mut hex));
        assert!(rule(false, ExpectKind::Binary, "0d0a").matches(b"a\r\nb", &mut hex));
        assert!(rule(false, ExpectKind::Rbinary, "^1[56]03").matches(&[0x16, 0x03, 0x01], &mut hex));
        assert!(!rule(false, ExpectKind::Rbinary, "^1[56]03").matches(&[0x17, 0x03], &mut hex));
        assert!(rule(false, ExpectKind::Rstring, "^\\+PONG").matches(b"+PONG\r\n", &mut hex));
        assert!(!rule(false, ExpectKind::Rstring, "PONG").matches(b"pong", &mut hex), "case-sensitive");
    }

    #[test]
    fn rbinary_runs_over_the_upper_case_hex_dump() {
        let mut hex = Vec::new();
        let r = rule(false, ExpectKind::Rbinary, "^00FF7F");
        assert!(r.matches(&[0x00, 0xff, 0x7f, 0x01], &mut hex));
        assert_eq!(hex, b"00FF7F01");
        assert!(!rule(false, ExpectKind::Rbinary, "00ff").matches(&[0x00, 0xff], &mut hex), "dump is upper-case");
        assert!(rule(false, ExpectKind::Rbinary, "^$").matches(&[], &mut hex), "empty data, empty dump");
    }

    #[test]
    fn pathological_patterns_end() {
        let hay = "a".repeat(16384);
        assert!(!m("(a*)*(a*)*(a*)*c", &hay));
        assert!(m("(a|aa)*$", &hay));
        assert!(m("a{1000}", &hay));
    }
}
