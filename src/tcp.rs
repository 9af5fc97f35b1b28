//! `mode tcp` streams: bytes forwarded both ways through fixed buffers, half-close respected.
//!
//! This is the I/O core of a session, free of balancing and logging: the worker owns the session's life
//! (queue, connect, retries, log line) and calls [`Stream::pump`] whenever a socket of the session is ready.
//! Readiness is tracked per socket (mio is edge-triggered): a flag is set by an event and cleared only when a
//! syscall says `WouldBlock`, so every ready socket is drained and no event is ever lost.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::Instant;

use mio::net::TcpStream;

use crate::worker::buffers::{Buf, Pool};

/// Start a non-blocking connection to `addr`, from the local address `source` when one is configured (`source`
/// keyword: multi-homed hosts, firewall rules on the servers' side). Port 0 lets the kernel choose the port.
pub fn connect_from(addr: std::net::SocketAddr, source: Option<std::net::SocketAddr>) -> io::Result<TcpStream> {
    let Some(src) = source.filter(|s| !(s.ip().is_unspecified() && s.port() == 0)) else {
        return TcpStream::connect(addr);
    };
    use socket2::{Domain, Protocol, Socket, Type};
    // socket2 opens sockets close-on-exec.
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    if src.port() != 0 {
        sock.set_reuse_address(true)?;
    }
    sock.bind(&src.into())?;
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(sock.into()))
}

/// One socket of a session and what we know of its readiness.
#[derive(Debug)]
pub struct Side {
    pub sock: TcpStream,
    pub readable: bool,
    pub writable: bool,
    /// The peer finished sending (read returned 0).
    pub rd_eof: bool,
    /// We shut our sending side down.
    pub wr_shut: bool,
    /// Last successful read or write (inactivity timeouts count from here).
    pub last_io: Instant,
    /// The peer signalled the end of its stream (EPOLLRDHUP): keep reading until read returns 0.
    pub hup: bool,
}

impl Side {
    /// A freshly accepted or connected socket, assumed ready until a syscall says otherwise.
    pub fn new(sock: TcpStream, now: Instant) -> Side {
        Side { sock, readable: true, writable: true, rd_eof: false, wr_shut: false, last_io: now, hup: false }
    }

    /// After a read of `n` bytes into a `want`-byte space: a short read means the socket is drained (a new
    /// arrival raises a new edge), which saves the `EAGAIN` read — unless the peer's FIN came along.
    pub fn after_read(&mut self, n: usize, want: usize) {
        if n < want && !self.hup {
            self.readable = false;
        }
    }

    /// Record a readiness event.
    pub fn ready(&mut self, ev: &mio::event::Event) {
        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
            self.readable = true;
        }
        if ev.is_read_closed() || ev.is_error() {
            self.hup = true;
        }
        if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
            self.writable = true;
        }
    }
}

/// Which end failed, for the termination state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Client,
    Server,
}

/// The outcome of a pump.
#[derive(Debug)]
pub enum Pumped {
    /// Still forwarding.
    Open,
    /// Both directions finished cleanly.
    Done,
    /// A socket error (reset, broken pipe) on one end.
    Failed(End, io::Error),
}

/// Moves bytes from `src` through `buf` to `dst` until nothing more can move. Returns bytes delivered to `dst`.
fn forward(
    src: &mut Side,
    buf: &mut Buf,
    dst: Option<&mut Side>,
    pool: &mut Pool,
    now: Instant,
) -> Result<u64, (End, io::Error)> {
    forward_dir(src, buf, dst, pool, now, End::Client, End::Server)
}

fn forward_dir(
    src: &mut Side,
    buf: &mut Buf,
    mut dst: Option<&mut Side>,
    pool: &mut Pool,
    now: Instant,
    src_end: End,
    dst_end: End,
) -> Result<u64, (End, io::Error)> {
    let mut delivered = 0u64;
    loop {
        let mut progress = false;
        if src.readable && !src.rd_eof && !buf.is_full() {
            let space = buf.space(pool);
            let want = space.len();
            match src.sock.read(space) {
                Ok(0) => {
                    src.rd_eof = true;
                    progress = true;
                }
                Ok(n) => {
                    buf.filled(n);
                    src.last_io = now;
                    src.after_read(n, want);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => src.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                Err(e) => return Err((src_end, e)),
            }
        }
        if let Some(d) = dst.as_deref_mut() {
            if d.writable && !buf.is_empty() && !d.wr_shut {
                match d.sock.write(buf.pending()) {
                    Ok(0) => return Err((dst_end, io::Error::from(io::ErrorKind::WriteZero))),
                    Ok(n) => {
                        buf.consumed(n);
                        delivered += n as u64;
                        d.last_io = now;
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => d.writable = false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(e) => return Err((dst_end, e)),
                }
            }
            if src.rd_eof && buf.is_empty() && !d.wr_shut {
                // Half-close: pass the FIN on once everything before it was delivered.
                let _ = d.sock.shutdown(Shutdown::Write);
                d.wr_shut = true;
            }
        }
        buf.release_if_empty(pool);
        if !progress {
            return Ok(delivered);
        }
    }
}

/// The two sockets and two buffers of a TCP session.
#[derive(Debug)]
pub struct Stream {
    pub client: Side,
    /// `None` until the server connection is established.
    pub server: Option<Side>,
    /// Client → server bytes.
    pub c2s: Buf,
    /// Server → client bytes.
    pub s2c: Buf,
    /// Bytes delivered to the server.
    pub bytes_in: u64,
    /// Bytes delivered to the client.
    pub bytes_out: u64,
}

impl Stream {
    /// A stream for an accepted client; the server side comes later.
    pub fn new(client: Side) -> Stream {
        Stream { client, server: None, c2s: Buf::default(), s2c: Buf::default(), bytes_in: 0, bytes_out: 0 }
    }

    /// Move every byte that can move now, in both directions.
    pub fn pump(&mut self, pool: &mut Pool, now: Instant) -> Pumped {
        let up = forward(&mut self.client, &mut self.c2s, self.server.as_mut(), pool, now);
        match up {
            Ok(n) => self.bytes_in += n,
            Err((end, e)) => return Pumped::Failed(end, e),
        }
        if let Some(server) = self.server.as_mut() {
            match forward_dir(server, &mut self.s2c, Some(&mut self.client), pool, now, End::Server, End::Client) {
                Ok(n) => self.bytes_out += n,
                Err((end, e)) => return Pumped::Failed(end, e),
            }
            if self.client.rd_eof && server.rd_eof && self.c2s.is_empty() && self.s2c.is_empty() {
                return Pumped::Done;
            }
        }
        Pumped::Open
    }

    /// Give both buffers back (the session is ending).
    pub fn release(&mut self, pool: &mut Pool) {
        self.c2s.release(pool);
        self.s2c.release(pool);
    }
}
