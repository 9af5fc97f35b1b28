//! One check on a non-blocking mio socket: connect (L4OK when established, L4CON when refused, L4TOUT when the
//! deadline passes first), then, for protocol checks, write the request and feed the response to the protocol's
//! [`Machine`] until it decides (a timeout after the connect is the protocol's L6TOUT/L7TOUT).
//!
//! The socket is registered READABLE | WRITABLE once; mio is edge-triggered, so every event drains writes and reads
//! until `WouldBlock`. What the server sends is kept in a buffer of at most [`CHECK_BUFSIZE`] bytes: when it is
//! full the protocol must decide with what it has.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use super::{Machine, Outcome, CHECK_BUFSIZE};

/// One in-flight check.
#[derive(Debug)]
pub struct Probe {
    /// The check connection.
    pub sock: TcpStream,
    /// When the connect started (for `check duration`).
    pub started: Instant,
    /// When the check times out.
    pub deadline: Instant,
    machine: Option<Box<dyn Machine>>,
    connected: bool,
    tx: Vec<u8>,
    tx_off: usize,
    rx: Vec<u8>,
}

impl Probe {
    /// Start connecting to `addr`; the caller registers `sock` for READABLE | WRITABLE. Without a `machine` the
    /// check ends when the connection is established. `prefix` (a PROXY protocol header, `check-send-proxy`) is
    /// sent first once connected; `source` is the local address to connect from (`source` keyword).
    pub fn start(
        addr: SocketAddr,
        timeout: Duration,
        machine: Option<Box<dyn Machine>>,
        prefix: Vec<u8>,
        source: Option<SocketAddr>,
    ) -> io::Result<Probe> {
        let sock = crate::transport::connect_from(addr, source)?;
        let started = Instant::now();
        Ok(Probe {
            sock,
            started,
            deadline: started + timeout,
            machine,
            connected: false,
            tx: prefix,
            tx_off: 0,
            rx: Vec::new(),
        })
    }

    /// Called on any event of the socket: `Some(outcome)` once the check has finished.
    pub fn poll(&mut self) -> Option<Outcome> {
        let out = self.step()?;
        Some(Outcome { duration: self.started.elapsed(), ..out })
    }

    fn step(&mut self) -> Option<Outcome> {
        if !self.connected {
            match self.sock.take_error() {
                Ok(Some(e)) | Err(e) => return Some(failed(&e, self.started)),
                Ok(None) => match self.sock.peer_addr() {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => return None,
                    Err(e) => return Some(failed(&e, self.started)),
                },
            }
            self.connected = true;
            let Some(m) = self.machine.as_mut() else {
                self.flush();
                return Some(Outcome::of("L4OK"));
            };
            if let Some(o) = m.start(&mut self.tx) {
                self.flush();
                return Some(o);
            }
        }
        let m = self.machine.as_mut()?;
        loop {
            if let Err(e) = flush_into(&mut self.sock, &self.tx, &mut self.tx_off) {
                return Some(m.layer().invalid().info(describe(&e)));
            }
            if self.tx_off == self.tx.len() {
                self.tx.clear();
                self.tx_off = 0;
            }
            let mut last = false;
            let mut chunk = [0u8; 4096];
            loop {
                let room = CHECK_BUFSIZE - self.rx.len();
                if room == 0 {
                    last = true;
                    break;
                }
                match self.sock.read(&mut chunk[..room.min(4096)]) {
                    Ok(0) => {
                        last = true;
                        break;
                    }
                    Ok(n) => self.rx.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        // A reset after some data: let the protocol judge what arrived, else report the error.
                        if let Some(o) = m.advance(&mut self.rx, true, &mut self.tx) {
                            if !self.rx.is_empty() {
                                return Some(o);
                            }
                        }
                        return Some(m.layer().invalid().info(describe(&e)));
                    }
                }
            }
            let pending = self.tx.len() - self.tx_off;
            if let Some(o) = m.advance(&mut self.rx, last, &mut self.tx) {
                self.flush();
                return Some(o);
            }
            if last {
                // A machine must decide on `last`; be defensive anyway.
                return Some(m.layer().invalid());
            }
            if self.tx.len() - self.tx_off == pending {
                return None;
            }
        }
    }

    /// Best effort: write what is still queued (a `QUIT`, a last `send`) before the check ends.
    fn flush(&mut self) {
        let _ = flush_into(&mut self.sock, &self.tx, &mut self.tx_off);
    }

    /// The outcome when the deadline passed first: L4TOUT before the connect, the protocol's timeout after.
    pub fn timed_out(&self) -> Outcome {
        let o = match (&self.machine, self.connected) {
            (Some(m), true) => match m.timeout_info() {
                Some(info) => m.layer().timeout().info(info),
                None => m.layer().timeout(),
            },
            _ => Outcome::of("L4TOUT"),
        };
        Outcome { duration: self.started.elapsed(), ..o }
    }
}

/// Write `buf[*off..]` until done or `WouldBlock`.
fn flush_into(sock: &mut TcpStream, buf: &[u8], off: &mut usize) -> io::Result<()> {
    while *off < buf.len() {
        match sock.write(&buf[*off..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *off += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The outcome of a check that could not connect at all.
pub fn failed(e: &io::Error, started: Instant) -> Outcome {
    Outcome { duration: started.elapsed(), ..Outcome::of("L4CON").info(describe(e)) }
}

/// `Connection refused` rather than Rust's `Connection refused (os error 111)`.
fn describe(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
