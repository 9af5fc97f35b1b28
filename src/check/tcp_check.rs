//! `option tcp-check` with `tcp-check connect|send|send-binary|expect` rules, run in order over one connection.
//!
//! - `connect [port N]` is honoured as the first rule only (it sets the port checks connect to); later `connect`
//!   rules are ignored — the check uses a single connection.
//! - `send`/`send-binary` queue bytes and forget what was received so far, so the next `expect` looks at the
//!   answer to that send; consecutive `expect`s look at the same data.
//! - `expect [!] string|rstring|binary|rbinary P` searches the data received since the last send (`rbinary` on its
//!   upper-case hex). A mismatch waits for more data until the server closes or the buffer is full. A negated
//!   expect decides as soon as some data arrived (HAProxy would wait for the close or a timeout).
//! - All rules done: L7OK `(tcp-check)`; a failed expect: L7RSP with `TCPCHK did not match content '…' at step N`.
//! - Rules with no `send`/`expect` at all make a plain connect check (L4OK), as HAProxy does.

use std::sync::Arc;

use super::expect::Expect;
use super::{Machine, Outcome};
use crate::config::model::{ExpectKind, TcpCheckRule};

#[derive(Debug, Clone)]
enum Step {
    Send(Vec<u8>),
    Expect(Expect),
}

/// A backend's tcp-check rules, prepared once.
#[derive(Debug, Clone)]
pub struct TcpSpec {
    port: Option<u16>,
    /// (1-based rule number as configured, step); shared by every probe, so a regex's matching caches are
    /// reused from one check to the next.
    steps: Arc<[(usize, Step)]>,
}

impl TcpSpec {
    /// Prepare the rules.
    pub fn new(rules: &[TcpCheckRule]) -> TcpSpec {
        let mut port = None;
        let mut steps = Vec::new();
        let mut first = true;
        for (i, r) in rules.iter().enumerate() {
            match r {
                TcpCheckRule::Comment(_) => continue,
                TcpCheckRule::Connect { port: p, .. } => {
                    if first {
                        port = *p;
                    }
                }
                TcpCheckRule::Send(d) | TcpCheckRule::SendBinary(d) => steps.push((i + 1, Step::Send(d.clone()))),
                TcpCheckRule::Expect { negate, kind, pattern } => {
                    steps.push((i + 1, Step::Expect(Expect::new(*negate, *kind, pattern))))
                }
            }
            first = false;
        }
        TcpSpec { port, steps: steps.into() }
    }

    /// Nothing to send or expect: a plain connect check.
    pub fn is_connect_only(&self) -> bool {
        self.steps.is_empty()
    }

    /// The port of a leading `tcp-check connect port N`.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The machine for one check.
    pub fn machine(&self) -> TcpProbe {
        TcpProbe { steps: Arc::clone(&self.steps), at: 0, hex: Vec::new() }
    }
}

/// One tcp-check run in progress.
#[derive(Debug)]
pub struct TcpProbe {
    steps: Arc<[(usize, Step)]>,
    at: usize,
    /// Scratch for `rbinary` expects.
    hex: Vec<u8>,
}

fn passed() -> Outcome {
    Outcome::of("L7OK").info("(tcp-check)")
}

fn failed(e: &Expect, rule: usize) -> Outcome {
    let what = match e.kind {
        ExpectKind::Binary | ExpectKind::Rbinary => "binary",
        _ => "content",
    };
    let how = if e.negate { "matched unwanted" } else { "did not match" };
    Outcome::of("L7RSP").info(format!("TCPCHK {how} {what} '{}' at step {rule}", e.text()))
}

impl TcpProbe {
    fn run(&mut self, rx: &mut Vec<u8>, last: bool, tx: &mut Vec<u8>) -> Option<Outcome> {
        while let Some((rule, step)) = self.steps.get(self.at) {
            match step {
                Step::Send(d) => {
                    rx.clear();
                    tx.extend_from_slice(d);
                }
                Step::Expect(e) => {
                    let m = e.matches(rx, &mut self.hex);
                    match (m, e.negate) {
                        (true, false) => {}
                        (true, true) => return Some(failed(e, *rule)),
                        (false, true) if !rx.is_empty() || last => {}
                        (false, _) if last => return Some(failed(e, *rule)),
                        (false, _) => return None,
                    }
                }
            }
            self.at += 1;
        }
        Some(passed())
    }
}

impl Machine for TcpProbe {
    fn start(&mut self, tx: &mut Vec<u8>) -> Option<Outcome> {
        self.run(&mut Vec::new(), false, tx)
    }

    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, tx: &mut Vec<u8>) -> Option<Outcome> {
        self.run(rx, last, tx)
    }

    fn timeout_info(&self) -> Option<String> {
        let (rule, step) = self.steps.get(self.at)?;
        let Step::Expect(e) = step else { return None };
        let kind = match e.kind {
            ExpectKind::Binary => "binary",
            ExpectKind::Rbinary => "rbinary",
            ExpectKind::Rstring | ExpectKind::Rstatus => "rstring",
            ExpectKind::String | ExpectKind::Status => "string",
        };
        Some(format!("at step {rule} of tcp-check (expect {kind} '{}')", e.text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::CheckPattern;

    fn expect(negate: bool, kind: ExpectKind, p: &str) -> TcpCheckRule {
        TcpCheckRule::Expect { negate, kind, pattern: CheckPattern::new(kind, p).expect("valid pattern") }
    }

    #[test]
    fn connect_port_and_connect_only() {
        let s = TcpSpec::new(&[TcpCheckRule::Connect { port: Some(6379), ssl: false }]);
        assert!(s.is_connect_only());
        assert_eq!(s.port(), Some(6379));
        let s = TcpSpec::new(&[TcpCheckRule::Send(b"x".to_vec()), TcpCheckRule::Connect { port: Some(1), ssl: false }]);
        assert_eq!(s.port(), None, "only a leading connect sets the port");
    }

    #[test]
    fn redis_like_dialogue() {
        let s = TcpSpec::new(&[
            TcpCheckRule::Comment("ping".into()),
            TcpCheckRule::Send(b"PING\r\n".to_vec()),
            expect(false, ExpectKind::String, "+PONG"),
            TcpCheckRule::Send(b"INFO replication\r\n".to_vec()),
            expect(false, ExpectKind::Rstring, "role:(master|slave)"),
            TcpCheckRule::SendBinary(b"QUIT\r\n".to_vec()),
        ]);
        let mut m = s.machine();
        let (mut rx, mut tx) = (Vec::new(), Vec::new());
        assert_eq!(m.start(&mut tx), None);
        assert_eq!(tx, b"PING\r\n");
        rx.extend_from_slice(b"+PO");
        assert_eq!(m.advance(&mut rx, false, &mut tx), None);
        rx.extend_from_slice(b"NG\r\n");
        assert_eq!(m.advance(&mut rx, false, &mut tx), None);
        assert_eq!(tx, b"PING\r\nINFO replication\r\n");
        assert!(rx.is_empty(), "a send forgets what came before");
        rx.extend_from_slice(b"$30\r\n# Replication\r\nrole:master\r\n");
        let o = m.advance(&mut rx, false, &mut tx).expect("done");
        assert_eq!((o.ok, o.status, o.info.as_deref()), (true, "L7OK", Some("(tcp-check)")));
        assert!(tx.ends_with(b"QUIT\r\n"));
    }

    #[test]
    fn failures_name_the_step() {
        let s = TcpSpec::new(&[
            TcpCheckRule::Connect { port: None, ssl: false },
            TcpCheckRule::Send(b"PING\r\n".to_vec()),
            expect(false, ExpectKind::String, "+PONG"),
        ]);
        let mut m = s.machine();
        let (mut rx, mut tx) = (b"-ERR".to_vec(), Vec::new());
        m.start(&mut tx);
        assert_eq!(m.advance(&mut rx, false, &mut tx), None);
        assert_eq!(m.timeout_info().as_deref(), Some("at step 3 of tcp-check (expect string '+PONG')"));
        let o = m.advance(&mut rx, true, &mut tx).expect("closed");
        assert_eq!((o.status, o.info.as_deref()), ("L7RSP", Some("TCPCHK did not match content '+PONG' at step 3")));

        let s = TcpSpec::new(&[expect(true, ExpectKind::Binary, "2d455252")]);
        let mut m = s.machine();
        m.start(&mut tx);
        let o = m.advance(&mut b"-ERR x".to_vec(), false, &mut tx).expect("negated match");
        assert_eq!(o.info.as_deref(), Some("TCPCHK matched unwanted binary '2d455252' at step 1"));
        let mut m = s.machine();
        assert!(m.advance(&mut b"+OK".to_vec(), false, &mut tx).expect("negated, no match").ok);
    }

    #[test]
    fn banner_expect_without_send() {
        let s = TcpSpec::new(&[expect(false, ExpectKind::Rstring, "^SSH-2\\.0-")]);
        let mut m = s.machine();
        let mut tx = Vec::new();
        assert_eq!(m.start(&mut tx), None);
        assert!(tx.is_empty());
        assert!(m.advance(&mut b"SSH-2.0-OpenSSH_9.2\r\n".to_vec(), false, &mut tx).expect("d").ok);
    }
}
