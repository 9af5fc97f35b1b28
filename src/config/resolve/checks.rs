//! Health-check rules: `http-check …` and `tcp-check …`.

use super::proxy::{parse_num, PxBuilder};
use super::unsupported;
use crate::config::model::*;

impl PxBuilder {
    /// `http-check expect|send|disable-on-404|send-state|comment`.
    pub(crate) fn http_check_line(&mut self, w: &[String]) -> Result<(), String> {
        let h = &mut self.http_check;
        match w.get(1).map(String::as_str) {
            Some("disable-on-404") => h.disable_on_404 = true,
            Some("send-state") => h.send_state = true,
            Some("comment") => {}
            Some("expect") => h.expect = Some(expect(&w[2..], "http-check")?),
            Some("send") => {
                let mut i = 2;
                while i < w.len() {
                    let v = w
                        .get(i + 1)
                        .ok_or_else(|| format!("'http-check send': '{}' expects an argument.", w[i]))?
                        .clone();
                    match w[i].as_str() {
                        "meth" => h.method = v,
                        "uri" | "uri-lf" => h.uri = v,
                        "ver" => h.version = v,
                        "body" | "body-lf" => h.body = Some(v),
                        "hdr" => {
                            let val = w.get(i + 2).ok_or("'http-check send hdr' expects a name and a value.")?.clone();
                            h.headers.push((v, val));
                            i += 1;
                        }
                        o => return Err(format!("'http-check send': unknown keyword '{o}'")),
                    }
                    i += 2;
                }
            }
            Some("connect") | Some("set-var") | Some("unset-var") => {
                return Err(unsupported(&format!("http-check {}", w[1])))
            }
            _ => {
                return Err("'http-check' expects 'disable-on-404', 'send-state', 'expect', 'send' or 'comment'.".into())
            }
        }
        Ok(())
    }

    /// `tcp-check connect|send|send-binary|expect|comment`.
    pub(crate) fn tcp_check_line(&mut self, w: &[String]) -> Result<(), String> {
        let rule = match w.get(1).map(String::as_str) {
            Some("connect") => {
                let mut port = None;
                let mut i = 2;
                while i < w.len() {
                    match w[i].as_str() {
                        "port" => {
                            port = Some(parse_num(w, i + 1)?);
                            i += 1;
                        }
                        "ssl" | "sni" | "alpn" | "check-sni" => return Err(unsupported("ssl")),
                        "send-proxy" | "linger" => {}
                        "comment" => i += 1,
                        o => return Err(format!("'tcp-check connect': unknown keyword '{o}'")),
                    }
                    i += 1;
                }
                TcpCheckRule::Connect { port, ssl: false }
            }
            Some("send") | Some("send-lf") => {
                TcpCheckRule::Send(w.get(2).ok_or("'tcp-check send' expects a string.")?.clone().into_bytes())
            }
            Some("send-binary") | Some("send-binary-lf") => {
                let hex = w.get(2).ok_or("'tcp-check send-binary' expects a hexadecimal string.")?;
                TcpCheckRule::SendBinary(
                    unhex(hex).ok_or_else(|| format!("'tcp-check send-binary': invalid hexadecimal string '{hex}'"))?,
                )
            }
            Some("expect") => {
                let e = expect(&w[2..], "tcp-check")?;
                TcpCheckRule::Expect { negate: e.negate, kind: e.kind, pattern: e.pattern }
            }
            Some("comment") => TcpCheckRule::Comment(w[2..].join(" ")),
            Some(o) if matches!(o, "set-var" | "unset-var" | "action") => {
                return Err(unsupported(&format!("tcp-check {o}")))
            }
            _ => return Err("'tcp-check' expects 'comment', 'connect', 'send', 'send-binary' or 'expect'.".into()),
        };
        self.tcp_checks.push(rule);
        Ok(())
    }
}

/// `[!] status|rstatus|string|rstring|binary|rbinary PATTERN` with 2.2+ option words skipped; the pattern is
/// compiled here, so a regex that does not compile (or a `binary` string that is not hex) is refused with the line.
fn expect(w: &[String], kw: &str) -> Result<HttpCheckExpect, String> {
    let mut i = 0;
    // 2.2+ options before the match: min-recv N, ok-status S, error-status S, tout-status S, on-success F,
    // on-error F, status-code E, comment C.
    let mut negate = false;
    while let Some(word) = w.get(i) {
        match word.as_str() {
            "min-recv" | "ok-status" | "error-status" | "tout-status" | "on-success" | "on-error" | "status-code"
            | "comment" => i += 2,
            "!" => {
                negate = true;
                i += 1;
            }
            _ => break,
        }
    }
    let kind = match w.get(i).map(String::as_str) {
        Some("status") => ExpectKind::Status,
        Some("rstatus") => ExpectKind::Rstatus,
        Some("string") => ExpectKind::String,
        Some("rstring") => ExpectKind::Rstring,
        Some("binary") => ExpectKind::Binary,
        Some("rbinary") => ExpectKind::Rbinary,
        Some(o) => return Err(format!("'{kw} expect': unsupported match '{o}' (expects 'status', 'rstatus', 'string', 'rstring', 'binary' or 'rbinary')")),
        None => return Err(format!("'{kw} expect' expects a match type and a pattern.")),
    };
    let text = w.get(i + 1).ok_or_else(|| format!("'{kw} expect' expects a pattern."))?;
    let pattern = CheckPattern::new(kind, text).map_err(|e| format!("'{kw} expect {}': {e}", w[i]))?;
    Ok(HttpCheckExpect { negate, kind, pattern })
}
