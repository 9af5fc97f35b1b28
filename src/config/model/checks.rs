//! Health checks as configured: the check protocol of a backend, the HTTP check request, and `expect` rules
//! whose patterns are validated (regexes compiled) when the config is read.

use super::*;

/// The health-check protocol of a backend (the last check-type option wins).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CheckKind {
    /// Plain TCP connect.
    #[default]
    Tcp,
    /// `option httpchk [METH] [URI] [VER]` and/or `http-check send`.
    Http(HttpCheck),
    SslHello,
    /// `option smtpchk [HELO|EHLO domain]`.
    Smtp {
        verb: String,
        domain: String,
    },
    /// `option mysql-check [user U [post-41]]`.
    Mysql {
        user: Option<String>,
    },
    Redis,
    Ldap,
    Pgsql {
        user: Option<String>,
    },
    /// `option tcp-check` with its `tcp-check` rules.
    TcpCheck(Vec<TcpCheckRule>),
}

/// The request an HTTP check sends and what it expects back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    pub method: String,
    pub uri: String,
    /// As written, may carry the 1.4 `\r\nHost: x` trick (already unescaped).
    pub version: String,
    /// Headers from `http-check send hdr NAME VALUE`.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub expect: Option<HttpCheckExpect>,
    pub send_state: bool,
    pub disable_on_404: bool,
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: Vec::new(),
            body: None,
            expect: None,
            send_state: false,
            disable_on_404: false,
        }
    }
}

/// `http-check expect [!] status|rstatus|string|rstring PATTERN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheckExpect {
    pub negate: bool,
    pub kind: ExpectKind,
    pub pattern: CheckPattern,
}

/// What an expect rule compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectKind {
    Status,
    Rstatus,
    String,
    Rstring,
    Binary,
    Rbinary,
}

/// One `tcp-check` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpCheckRule {
    Connect { port: Option<u16>, ssl: bool },
    Send(Vec<u8>),
    SendBinary(Vec<u8>),
    Expect { negate: bool, kind: ExpectKind, pattern: CheckPattern },
    Comment(String),
}

/// The pattern of an `expect` rule, validated when the config is read, so a check never meets one it cannot run:
/// `status` and `string` keep their text, `binary` its decoded bytes (an odd or non-hex string is a config
/// error), and `rstatus`, `rstring` and `rbinary` their compiled regex (one that does not compile is a config
/// error). Two patterns are equal when they were written the same.
#[derive(Debug, Clone)]
pub struct CheckPattern {
    text: String,
    form: PatternForm,
}

/// What a [`CheckPattern`] compiled to.
#[derive(Debug, Clone)]
pub enum PatternForm {
    /// Compared or searched as they are (`status`, `string`, decoded `binary`).
    Bytes(Vec<u8>),
    /// Searched for, unanchored unless the regex anchors itself (`rstatus`, `rstring`, `rbinary`).
    Regex(Regex),
}

impl CheckPattern {
    /// Validate and compile `text` for an expect rule of `kind`.
    pub fn new(kind: ExpectKind, text: &str) -> Result<CheckPattern, String> {
        let form = match kind {
            ExpectKind::Status | ExpectKind::String => PatternForm::Bytes(text.as_bytes().to_vec()),
            ExpectKind::Binary => {
                PatternForm::Bytes(unhex(text).ok_or_else(|| format!("invalid hexadecimal string '{text}'"))?)
            }
            ExpectKind::Rstatus | ExpectKind::Rstring | ExpectKind::Rbinary => {
                PatternForm::Regex(compile_regex(text, false)?)
            }
        };
        Ok(CheckPattern { text: text.to_string(), form })
    }

    /// The pattern as written (for log texts).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What it compiled to.
    pub fn form(&self) -> &PatternForm {
        &self.form
    }
}

impl PartialEq for CheckPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CheckPattern {}

/// `"0a1B"` → `[0x0a, 0x1b]`; `None` for an odd length or a non-hex digit (`tcp-check send-binary`, `expect
/// binary`).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}
