//! `bind … accept-proxy`: an accepted connection first sends a PROXY protocol header (from a load balancer in
//! front of us). It waits here, not yet a session, until the header is complete; then it becomes a session whose
//! client and local addresses are the ones the header carries (`tcp-request session` rules, logs, `src` ACLs,
//! `X-Forwarded-For` and `send-proxy` towards the servers all see them).
//!
//! The header is read with `MSG_PEEK` until it is whole, then exactly its bytes are consumed, so not one byte of
//! the client's own data is taken. A connection that sends something else, or nothing in time, is closed and
//! logged as HAProxy logs failed handshakes.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Interest, Token};

use super::{TimerKey, Worker, HANDSHAKE_BASE};
use crate::config::model::Level;
use crate::proxy_proto::{parse, Parsed, MAX_HEADER};

/// A connection waiting for its PROXY header.
#[derive(Debug)]
pub(super) struct Pending {
    sock: TcpStream,
    fe: usize,
    peer: SocketAddr,
    uid: u64,
    /// Sticky counters the `tcp-request connection` rules set.
    tracks: crate::stick::Tracks,
}

/// The connections waiting for their headers.
#[derive(Debug, Default)]
pub(super) struct Handshakes {
    slots: Vec<Option<Pending>>,
    free: Vec<usize>,
}

impl Worker {
    /// An `accept-proxy` listener accepted `sock`: wait for its header (bounded by `timeout client`, else 5 s).
    pub(super) fn start_handshake(
        &mut self,
        fe: usize,
        mut sock: TcpStream,
        peer: SocketAddr,
        tracks: crate::stick::Tracks,
    ) {
        let idx = match self.handshakes.free.pop() {
            Some(i) => i,
            None => {
                self.handshakes.slots.push(None);
                self.handshakes.slots.len() - 1
            }
        };
        if self.poll.registry().register(&mut sock, Token(HANDSHAKE_BASE + idx), Interest::READABLE).is_err() {
            self.handshakes.free.push(idx);
            return;
        }
        let uid = self.next_uid;
        self.next_uid += 1;
        // Counted as a connection so that maxconn and a soft stop see it.
        self.actconn += 1;
        let f = &self.rt.frontends[fe];
        let wait = f.timeouts.client.unwrap_or(Duration::from_secs(5));
        self.timers.arm(self.now + wait, TimerKey::Handshake(idx, uid));
        self.handshakes.slots[idx] = Some(Pending { sock, fe, peer, uid, tracks });
        // The header usually came with the connection: no need to wait for an event.
        self.on_handshake_event(idx);
    }

    /// The connection is readable: look at what it sent so far.
    pub(super) fn on_handshake_event(&mut self, idx: usize) {
        let Some(p) = self.handshakes.slots.get_mut(idx).and_then(Option::take) else { return };
        let mut buf = [0u8; MAX_HEADER];
        let n = match p.sock.peek(&mut buf) {
            Ok(0) => return self.handshake_failed(idx, p, None), // gone before saying anything
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => {
                self.handshakes.slots[idx] = Some(p);
                return;
            }
            Err(_) => return self.handshake_failed(idx, p, None),
        };
        match parse(&buf[..n]) {
            // New bytes raise a new edge: wait for them.
            Parsed::Incomplete => self.handshakes.slots[idx] = Some(p),
            Parsed::Invalid(why) => self.handshake_failed(idx, p, Some(why)),
            Parsed::Header { len, src, dst } => {
                let mut p = p;
                // Consume exactly the header (it is all there: we just saw it).
                let mut got = 0;
                while got < len {
                    match p.sock.read(&mut buf[got..len]) {
                        Ok(0) => return self.handshake_failed(idx, p, None),
                        Ok(k) => got += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return self.handshake_failed(idx, p, None),
                    }
                }
                let _ = self.poll.registry().deregister(&mut p.sock);
                self.handshake_done(idx);
                self.start_session(p.fe, p.sock, src.unwrap_or(p.peer), dst, p.tracks);
            }
        }
    }

    /// The header did not come in time.
    pub(super) fn on_handshake_timer(&mut self, idx: usize, uid: u64) {
        let Some(p) = self.handshakes.slots.get_mut(idx).and_then(|s| s.take_if(|p| p.uid == uid)) else { return };
        self.handshake_failed(idx, p, Some("Timeout while waiting for PROXY protocol header"));
    }

    /// Close a connection whose handshake failed; log why (nothing when the client just left).
    fn handshake_failed(&mut self, idx: usize, p: Pending, why: Option<&str>) {
        if let Some(why) = why {
            let f = &self.rt.frontends[p.fe];
            if f.logger.enabled(Level::Info) {
                let local = p.sock.local_addr().unwrap_or(p.peer);
                let line = crate::log::embryonic_line(p.peer, local, &f.name, self.now_wall(), why);
                f.logger.log(Level::Info, &line);
            }
            if let Some(c) = self.st_fe(p.fe) {
                c.inc(&c.failed_req);
            }
        }
        drop(p); // its trackers are released with it
        self.handshake_done(idx);
    }

    fn handshake_done(&mut self, idx: usize) {
        self.handshakes.free.push(idx);
        self.actconn = self.actconn.saturating_sub(1);
    }
}
