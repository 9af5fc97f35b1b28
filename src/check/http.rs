//! `option httpchk`: send one request, judge the status line (and the body for `expect string|rstring`).
//!
//! The request is `METHOD URI VERSION\r\n`, then `X-Haproxy-Server-State` (`http-check send-state`), the
//! `http-check send hdr` headers, `Content-Length` when a body is sent without one, an empty line and the body.
//! A 1.4-style version with `\r\nHost: x` inside is sent as written (the config already unescaped it); like HAProxy,
//! no `Host` is added on its own. Without `http-check expect`, 2xx and 3xx pass with the reason phrase as `info`.
//! `http-check disable-on-404` takes precedence over `expect`: a 404 is L7OKC and the server goes NOLB.

use std::sync::Arc;

use memchr::memmem::find;

use super::expect::Expect;
use super::{Machine, Outcome};
use crate::config::model::{ExpectKind, HttpCheck};

/// A backend's HTTP check, prepared once.
#[derive(Debug, Clone)]
pub struct HttpSpec {
    /// `METHOD URI VERSION\r\n` (with any 1.4-style headers carried by VERSION).
    line: Vec<u8>,
    /// `http-check send hdr` headers and the automatic `Content-Length`, each ending in CRLF.
    hdrs: Vec<u8>,
    body: Vec<u8>,
    /// Shared by every probe, so a regex's matching caches are reused from one check to the next.
    expect: Option<Arc<Expect>>,
    send_state: bool,
    disable_on_404: bool,
}

impl HttpSpec {
    /// Prepare the request and the expectation.
    pub fn new(h: &HttpCheck) -> HttpSpec {
        let line = format!("{} {} {}\r\n", h.method, h.uri, h.version).into_bytes();
        let mut hdrs = Vec::new();
        for (n, v) in &h.headers {
            hdrs.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        let body = h.body.clone().unwrap_or_default().into_bytes();
        if !body.is_empty() && !h.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
            hdrs.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        HttpSpec {
            line,
            hdrs,
            body,
            expect: h.expect.as_ref().map(|e| Arc::new(Expect::new(e.negate, e.kind, &e.pattern))),
            send_state: h.send_state,
            disable_on_404: h.disable_on_404,
        }
    }

    /// `http-check send-state` is on.
    pub fn send_state(&self) -> bool {
        self.send_state
    }

    /// The machine for one check; `state` is the `X-Haproxy-Server-State` value when send-state is on.
    pub fn machine(&self, state: Option<&str>) -> HttpProbe {
        let mut req = Vec::with_capacity(self.line.len() + self.hdrs.len() + self.body.len() + 96);
        req.extend_from_slice(&self.line);
        if let (true, Some(st)) = (self.send_state, state) {
            req.extend_from_slice(format!("X-Haproxy-Server-State: {st}\r\n").as_bytes());
        }
        req.extend_from_slice(&self.hdrs);
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(&self.body);
        HttpProbe { req, expect: self.expect.clone(), disable_on_404: self.disable_on_404, hex: Vec::new() }
    }
}

/// One HTTP check in progress.
#[derive(Debug)]
pub struct HttpProbe {
    req: Vec<u8>,
    expect: Option<Arc<Expect>>,
    disable_on_404: bool,
    /// Scratch for an `rbinary` expect.
    hex: Vec<u8>,
}

impl HttpProbe {
    /// The request bytes (for tests).
    pub fn request(&self) -> &[u8] {
        &self.req
    }
}

/// A parsed status line.
struct Status {
    code: u16,
    reason: String,
    /// Offset just after the status line.
    end: usize,
}

/// `Ok(None)`: need more bytes; `Err(())`: not an HTTP/1 status line.
fn status_line(rx: &[u8]) -> Result<Option<Status>, ()> {
    const PREFIX: &[u8] = b"HTTP/1.";
    let n = rx.len().min(PREFIX.len());
    if rx[..n] != PREFIX[..n] {
        return Err(());
    }
    let Some(nl) = rx.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let line = rx[..nl].strip_suffix(b"\r").unwrap_or(&rx[..nl]);
    if line.len() < 12 || line[8] != b' ' || !line[9..12].iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    if line.len() > 12 && line[12] != b' ' {
        return Err(());
    }
    let code = line[9..12].iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    let reason = String::from_utf8_lossy(line.get(13..).unwrap_or_default()).trim().to_string();
    Ok(Some(Status { code, reason, end: nl + 1 }))
}

/// The body of a response whose status line ended at `from`: `None` while the header block is incomplete.
fn body_of(rx: &[u8], from: usize) -> Option<(&[u8], Option<usize>)> {
    let rest = &rx[from..];
    let (hdr_end, body_start) = if rest.starts_with(b"\r\n") {
        (0, 2)
    } else if rest.starts_with(b"\n") {
        (0, 1)
    } else if let Some(i) = find(rest, b"\r\n\r\n") {
        (i, i + 4)
    } else {
        let i = find(rest, b"\n\n")?;
        (i, i + 2)
    };
    let cl = rest[..hdr_end].split(|&b| b == b'\n').find_map(|l| {
        let (name, value) = l.split_at(l.iter().position(|&b| b == b':')?);
        if !name.trim_ascii().eq_ignore_ascii_case(b"content-length") {
            return None;
        }
        std::str::from_utf8(&value[1..]).ok()?.trim().parse::<usize>().ok()
    });
    Some((&rest[body_start..], cl))
}

impl Machine for HttpProbe {
    fn start(&mut self, tx: &mut Vec<u8>) -> Option<Outcome> {
        tx.extend_from_slice(&self.req);
        None
    }

    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, _tx: &mut Vec<u8>) -> Option<Outcome> {
        if rx.is_empty() {
            return last.then(|| Outcome::of("L7RSP").info("empty response"));
        }
        let st = match status_line(rx) {
            Err(()) => return Some(Outcome::of("L7RSP")),
            Ok(None) if last => return Some(Outcome::of("L7RSP")),
            Ok(None) => return None,
            Ok(Some(st)) => st,
        };
        let code = st.code;
        if self.disable_on_404 && code == 404 {
            let mut o = Outcome::of("L7OKC").code(code).info(&st.reason);
            o.nolb = true;
            return Some(o);
        }
        let Some(ex) = &self.expect else {
            let o = if (200..400).contains(&code) { Outcome::of("L7OK") } else { Outcome::of("L7STS") };
            return Some(o.code(code).info(&st.reason));
        };
        match ex.kind {
            ExpectKind::Status | ExpectKind::Rstatus => {
                let digits = [b'0' + (code / 100 % 10) as u8, b'0' + (code / 10 % 10) as u8, b'0' + (code % 10) as u8];
                let o = if ex.matches(&digits, &mut self.hex) != ex.negate { "L7OK" } else { "L7STS" };
                Some(Outcome::of(o).code(code).info(format!("HTTP status check returned code <{code:03}>")))
            }
            _ => {
                let Some((body, cl)) = body_of(rx, st.end) else {
                    return last.then(|| {
                        Outcome::of("L7RSP").code(code).info("HTTP content check could not find a response body")
                    });
                };
                let found = ex.matches(body, &mut self.hex);
                let complete = last || cl.is_some_and(|n| body.len() >= n);
                if !found && !complete {
                    return None;
                }
                let (status, info) = match (found, ex.negate) {
                    (true, false) => ("L7OK", "HTTP content check matched"),
                    (false, false) => ("L7RSP", "HTTP content check did not match"),
                    (true, true) => ("L7RSP", "HTTP check matched unwanted content"),
                    (false, true) => ("L7OK", "HTTP check did not match unwanted content"),
                };
                Some(Outcome::of(status).code(code).info(info))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{CheckPattern, HttpCheckExpect};

    fn pat(kind: ExpectKind, p: &str) -> CheckPattern {
        CheckPattern::new(kind, p).expect("valid pattern")
    }

    fn spec(f: impl FnOnce(&mut HttpCheck)) -> HttpSpec {
        let mut h = HttpCheck::default();
        f(&mut h);
        HttpSpec::new(&h)
    }

    /// Feed `resp` in two parts split at every position (and byte by byte); all runs must agree.
    fn run(s: &HttpSpec, resp: &[u8], eof: bool) -> Option<Outcome> {
        let mut results = Vec::new();
        for cut in 0..=resp.len() {
            let mut m = s.machine(None);
            let (mut rx, mut tx) = (Vec::new(), Vec::new());
            assert_eq!(m.start(&mut tx), None);
            rx.extend_from_slice(&resp[..cut]);
            let mut r = m.advance(&mut rx, false, &mut tx);
            if r.is_none() {
                rx.extend_from_slice(&resp[cut..]);
                r = m.advance(&mut rx, false, &mut tx);
            }
            if r.is_none() && eof {
                r = m.advance(&mut rx, true, &mut tx);
                assert!(r.is_some(), "last must decide");
            }
            results.push(r);
        }
        let mut m = s.machine(None);
        let (mut rx, mut tx) = (Vec::new(), Vec::new());
        let mut r = None;
        for &b in resp {
            rx.push(b);
            if r.is_none() {
                r = m.advance(&mut rx, false, &mut tx);
            }
        }
        if r.is_none() && eof {
            r = m.advance(&mut rx, true, &mut tx);
        }
        results.push(r);
        let first = results[0].clone();
        assert!(results.iter().all(|r| *r == first), "split-dependent result: {results:?}");
        first
    }

    #[test]
    fn request_1_4_form() {
        let s = spec(|h| {
            h.method = "HEAD".into();
            h.uri = "/check.html".into();
            h.version = "HTTP/1.0".into();
        });
        assert_eq!(s.machine(None).request(), b"HEAD /check.html HTTP/1.0\r\n\r\n");
        let s = spec(|h| h.version = "HTTP/1.1\r\nHost: www".into());
        assert_eq!(s.machine(None).request(), b"OPTIONS / HTTP/1.1\r\nHost: www\r\n\r\n");
        let s = spec(|h| h.version = "HTTP/1.1".into());
        assert_eq!(s.machine(None).request(), b"OPTIONS / HTTP/1.1\r\n\r\n", "no Host is added");
    }

    #[test]
    fn request_2x_form_with_state_and_body() {
        let s = spec(|h| {
            h.method = "POST".into();
            h.uri = "/hc".into();
            h.version = "HTTP/1.1".into();
            h.headers = vec![("Host".into(), "www".into())];
            h.body = Some("ping".into());
            h.send_state = true;
        });
        let m = s.machine(Some("UP; name=be/s1"));
        assert_eq!(
            String::from_utf8_lossy(m.request()),
            "POST /hc HTTP/1.1\r\nX-Haproxy-Server-State: UP; name=be/s1\r\nHost: www\r\nContent-Length: 4\r\n\r\nping"
        );
    }

    #[test]
    fn default_status_rules() {
        let s = spec(|_| {});
        let o = run(&s, b"HTTP/1.0 200 OK\r\n\r\n", false).expect("decided");
        assert_eq!((o.ok, o.status, o.code, o.info.as_deref()), (true, "L7OK", Some(200), Some("OK")));
        let o = run(&s, b"HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\n\r\n", false).expect("decided");
        assert!(o.ok);
        let o = run(&s, b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", false).expect("decided");
        assert_eq!((o.ok, o.status, o.reason), (false, "L7STS", "Layer7 wrong status"));
        assert_eq!((o.code, o.info.as_deref()), (Some(500), Some("Internal Server Error")));
        let o = run(&s, b"HTTP/1.1 404\r\n\r\n", false).expect("decided");
        assert_eq!((o.status, o.info.as_deref()), ("L7STS", None), "no reason phrase, no info");
    }

    #[test]
    fn invalid_and_truncated_responses() {
        let s = spec(|_| {});
        let o = run(&s, b"SSH-2.0-OpenSSH\r\n", false).expect("decided early");
        assert_eq!((o.status, o.reason), ("L7RSP", "Layer7 invalid response"));
        let o = run(&s, b"HTTP/1.1 2x0 OK\r\n", false).expect("decided");
        assert_eq!(o.status, "L7RSP");
        let o = run(&s, b"HTTP/1.1 20", true).expect("decided at eof");
        assert_eq!(o.status, "L7RSP");
        let o = run(&s, b"", true).expect("decided at eof");
        assert_eq!(o.status, "L7RSP");
    }

    #[test]
    fn expect_status_and_negation() {
        let exp = |negate, kind, p: &str| {
            spec(move |h| h.expect = Some(HttpCheckExpect { negate, kind, pattern: pat(kind, p) }))
        };
        let s = exp(false, ExpectKind::Status, "204");
        assert!(run(&s, b"HTTP/1.1 204 No Content\r\n\r\n", false).expect("d").ok);
        let o = run(&s, b"HTTP/1.1 200 OK\r\n\r\n", false).expect("d");
        assert_eq!((o.status, o.info.as_deref()), ("L7STS", Some("HTTP status check returned code <200>")));
        let s = exp(true, ExpectKind::Status, "500");
        assert!(run(&s, b"HTTP/1.1 503 Busy\r\n\r\n", false).expect("d").ok);
        assert!(!run(&s, b"HTTP/1.1 500 Err\r\n\r\n", false).expect("d").ok);
        let s = exp(false, ExpectKind::Rstatus, "^(2|3)[0-9][0-9]$");
        assert!(run(&s, b"HTTP/1.1 302 Found\r\n\r\n", false).expect("d").ok);
        assert!(!run(&s, b"HTTP/1.1 404 Nope\r\n\r\n", false).expect("d").ok);
    }

    #[test]
    fn expect_string_reads_the_body() {
        let exp = |negate, kind, p: &str| {
            spec(move |h| h.expect = Some(HttpCheckExpect { negate, kind, pattern: pat(kind, p) }))
        };
        let s = exp(false, ExpectKind::String, "ALIVE");
        let o = run(&s, b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nI'm ALIVE", false).expect("d");
        assert!(o.ok, "{o:?}");
        // A 500 with the string still passes: string rules do not look at the status (as HAProxy).
        assert!(run(&s, b"HTTP/1.1 500 X\r\n\r\nALIVE", false).expect("d").ok);
        let o = run(&s, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndead", false).expect("complete body");
        assert_eq!(o.status, "L7RSP");
        assert_eq!(run(&s, b"HTTP/1.1 200 OK\r\n\r\ndead", false), None, "waits for the rest until close");
        assert_eq!(run(&s, b"HTTP/1.1 200 OK\r\n\r\ndead", true).expect("d").status, "L7RSP");
        let o = run(&s, b"HTTP/1.1 200 OK\r\nServer: x", true).expect("d");
        assert_eq!(o.info.as_deref(), Some("HTTP content check could not find a response body"));
        let s = exp(true, ExpectKind::Rstring, "maint(enance)?");
        assert!(run(&s, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false).expect("d").ok);
        assert!(!run(&s, b"HTTP/1.1 200 OK\r\n\r\nin maintenance", false).expect("d").ok);
    }

    #[test]
    fn disable_on_404_wins_over_expect() {
        let s = spec(|h| {
            h.disable_on_404 = true;
            h.expect = Some(HttpCheckExpect {
                negate: false,
                kind: ExpectKind::Status,
                pattern: pat(ExpectKind::Status, "200"),
            });
        });
        let o = run(&s, b"HTTP/1.1 404 Not Found\r\n\r\n", false).expect("d");
        assert_eq!((o.ok, o.status, o.nolb), (true, "L7OKC", true));
        assert_eq!(o.reason, "Layer7 check conditionally passed");
        assert!(!run(&s, b"HTTP/1.1 200 OK\r\n\r\n", false).expect("d").nolb);
    }
}
