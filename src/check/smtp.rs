//! `option smtpchk [HELO|EHLO domain]`: read the greeting (2xx expected), send `HELO domain`, expect 2xx, then say
//! `QUIT`. Multi-line replies (`250-…` … `250 …`) are read to their last line. A reply that does not start with
//! three digits is L7RSP; a non-2xx code is L7STS with the code and the text after it.

use super::{Machine, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Greeting,
    Helo,
}

/// One SMTP check in progress.
#[derive(Debug)]
pub struct Smtp {
    cmd: Vec<u8>,
    step: Step,
}

impl Smtp {
    /// A check that will send `VERB domain`.
    pub fn new(verb: &str, domain: &str) -> Smtp {
        Smtp { cmd: format!("{verb} {domain}\r\n").into_bytes(), step: Step::Greeting }
    }
}

/// A complete reply: (code, text of its first line, bytes used).
type Reply = (u16, String, usize);

/// `Ok(None)`: incomplete; `Err(())`: not an SMTP reply.
pub(crate) fn reply(rx: &[u8]) -> Result<Option<Reply>, ()> {
    let mut pos = 0;
    let mut first: Option<(u16, String)> = None;
    loop {
        let rest = &rx[pos..];
        let head = &rest[..rest.len().min(4)];
        let digits = head.len().min(3);
        if !head[..digits].iter().all(u8::is_ascii_digit)
            || (head.len() == 4 && !matches!(head[3], b' ' | b'-' | b'\r' | b'\n'))
        {
            return Err(());
        }
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line = rest[..nl].strip_suffix(b"\r").unwrap_or(&rest[..nl]);
        if line.len() < 3 {
            return Err(());
        }
        let code = line[..3].iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
        if first.is_none() {
            let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default()).trim().to_string();
            first = Some((code, text));
        }
        pos += nl + 1;
        if line.get(3) != Some(&b'-') {
            let (code, text) = first.unwrap_or_default();
            return Ok(Some((code, text, pos)));
        }
    }
}

impl Machine for Smtp {
    fn start(&mut self, _tx: &mut Vec<u8>) -> Option<Outcome> {
        None
    }

    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, tx: &mut Vec<u8>) -> Option<Outcome> {
        loop {
            let (code, text, used) = match reply(rx) {
                Err(()) => return Some(Outcome::of("L7RSP")),
                Ok(None) => return last.then(|| Outcome::of("L7RSP")),
                Ok(Some(r)) => r,
            };
            rx.drain(..used);
            if !(200..300).contains(&code) {
                return Some(Outcome::of("L7STS").code(code).info(text));
            }
            match self.step {
                Step::Greeting => {
                    tx.extend_from_slice(&self.cmd);
                    self.step = Step::Helo;
                    if rx.is_empty() {
                        return last.then(|| Outcome::of("L7RSP"));
                    }
                }
                Step::Helo => {
                    tx.extend_from_slice(b"QUIT\r\n");
                    return Some(Outcome::of("L7OK").code(code).info(text));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(m: &mut Smtp, chunks: &[&[u8]], last: bool) -> (Option<Outcome>, Vec<u8>) {
        let (mut rx, mut tx) = (Vec::new(), Vec::new());
        assert_eq!(m.start(&mut tx), None);
        for c in chunks {
            rx.extend_from_slice(c);
            if let Some(o) = m.advance(&mut rx, false, &mut tx) {
                return (Some(o), tx);
            }
        }
        (if last { m.advance(&mut rx, true, &mut tx) } else { None }, tx)
    }

    #[test]
    fn greeting_helo_ok() {
        let mut m = Smtp::new("HELO", "localhost");
        let (o, tx) = run(&mut m, &[b"220 mail.example ESMTP\r\n", b"250 mail.example Hello\r\n"], false);
        let o = o.expect("decided");
        assert_eq!((o.ok, o.status, o.code, o.info.as_deref()), (true, "L7OK", Some(250), Some("mail.example Hello")));
        assert_eq!(tx, b"HELO localhost\r\nQUIT\r\n");
    }

    #[test]
    fn multiline_and_split_replies() {
        let mut m = Smtp::new("EHLO", "lb.example");
        let (o, tx) = run(
            &mut m,
            &[b"220-first\r\n22", b"0 second\r\n", b"250-mail\r\n250-PIPELINING\r\n", b"250 8BITMIME\r\n"],
            false,
        );
        assert_eq!(o.expect("decided").code, Some(250));
        assert!(tx.starts_with(b"EHLO lb.example\r\n"));
    }

    #[test]
    fn bad_greeting_or_helo() {
        let (o, tx) = run(&mut Smtp::new("HELO", "x"), &[b"554 No service\r\n"], false);
        let o = o.expect("decided");
        assert_eq!((o.status, o.code, o.info.as_deref()), ("L7STS", Some(554), Some("No service")));
        assert!(tx.is_empty());
        let (o, _) = run(&mut Smtp::new("HELO", "x"), &[b"220 hi\r\n501 bad domain\r\n"], false);
        assert_eq!(o.expect("decided").code, Some(501));
        let (o, _) = run(&mut Smtp::new("HELO", "x"), &[b"SSH-2.0-x\r\n"], false);
        assert_eq!(o.expect("decided").status, "L7RSP");
        let (o, _) = run(&mut Smtp::new("HELO", "x"), &[b"220 hi\r\n"], true);
        assert_eq!(o.expect("closed after greeting").status, "L7RSP");
        let (o, _) = run(&mut Smtp::new("HELO", "x"), &[b"220 hi\r\n"], false);
        assert_eq!(o, None, "waits for the HELO reply");
    }
}
