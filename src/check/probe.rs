//! A TCP connect probe on a non-blocking mio socket: success when the connection is established, L4CON when
//! refused, L4TOUT when the deadline passes first.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use super::Outcome;

/// One in-flight connect check.
#[derive(Debug)]
pub struct Probe {
    pub sock: TcpStream,
    pub started: Instant,
    pub deadline: Instant,
}

impl Probe {
    /// Start connecting to `addr`; the caller registers `sock` for WRITABLE.
    pub fn start(addr: SocketAddr, timeout: Duration) -> io::Result<Probe> {
        let sock = TcpStream::connect(addr)?;
        let started = Instant::now();
        Ok(Probe { sock, started, deadline: started + timeout })
    }

    /// Called on a writable/error event: `Some(outcome)` once the connect attempt has finished.
    pub fn poll(&self) -> Option<Outcome> {
        match self.sock.take_error() {
            Ok(Some(e)) | Err(e) => Some(failed(&e, self.started)),
            Ok(None) => match self.sock.peer_addr() {
                Ok(_) => Some(Outcome {
                    ok: true,
                    status: "L4OK",
                    reason: "Layer4 check passed",
                    info: None,
                    code: None,
                    duration: self.started.elapsed(),
                }),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
                Err(e) => Some(failed(&e, self.started)),
            },
        }
    }

    /// The outcome when the deadline passed first.
    pub fn timed_out(&self) -> Outcome {
        Outcome {
            ok: false,
            status: "L4TOUT",
            reason: "Layer4 timeout",
            info: None,
            code: None,
            duration: self.started.elapsed(),
        }
    }
}

/// The outcome of a check that could not connect at all.
pub fn failed(e: &io::Error, started: Instant) -> Outcome {
    Outcome {
        ok: false,
        status: "L4CON",
        reason: "Layer4 connection problem",
        info: Some(describe(e)),
        code: None,
        duration: started.elapsed(),
    }
}

/// `Connection refused` rather than Rust's `Connection refused (os error 111)`.
fn describe(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
