//! The transport layer: one connected socket behind one small interface, so that the layers above (the HTTP/1
//! state machines, TCP forwarding, the session steps) never call a socket themselves.
//!
//! A [`Conn`] reads into and writes from pooled [`Buf`]s (`writev` for a head and a body together), shuts each
//! direction down, hands its descriptor to splice(2) where the transport allows it, and keeps the readiness
//! bookkeeping that mio's edge-triggered events require: a flag is set by an event and cleared only when a
//! syscall says `WouldBlock` (or a short read says the socket is drained), so every ready socket is drained and
//! no event is ever lost. Plain TCP is the only transport today; TLS becomes a second [`Io`] variant without
//! touching any layer above.
//!
//! - [`buffer`]: the per-worker pool of `tune.bufsize` buffers, taken only while bytes are in flight.
//! - [`pipe`]: the per-worker pool of kernel pipes for splice(2) (`maxpipes`).
//! - [`connect_from`]: non-blocking connects, from a `source` address when configured.

pub mod buffer;
pub mod pipe;

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Instant;

use mio::net::TcpStream;

pub use buffer::{Buf, Pool};
pub use pipe::{Pipe, PipePool};

/// Start a non-blocking connection to `addr`, from the local address `source` when one is configured (`source`
/// keyword: multi-homed hosts, firewall rules on the servers' side). Port 0 lets the kernel choose the port.
pub fn connect_from(addr: SocketAddr, source: Option<SocketAddr>) -> io::Result<TcpStream> {
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

/// What carries a connection's bytes.
#[derive(Debug)]
enum Io {
    /// Plain TCP.
    Plain(TcpStream),
}

/// What one read gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Got {
    /// Bytes were read into the buffer.
    Data,
    /// The peer finished sending.
    Eof,
    /// Nothing to read now (the readable flag is cleared).
    Nothing,
}

/// One connected socket of a session and what we know of its readiness.
#[derive(Debug)]
pub struct Conn {
    io: Io,
    /// A read may find bytes (set by events, cleared by `WouldBlock` or a short read).
    pub readable: bool,
    /// A write may make progress.
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

impl Conn {
    /// A freshly accepted or connected plain TCP socket, assumed ready until a syscall says otherwise.
    pub fn plain(sock: TcpStream, now: Instant) -> Conn {
        Conn {
            io: Io::Plain(sock),
            readable: true,
            writable: true,
            rd_eof: false,
            wr_shut: false,
            last_io: now,
            hup: false,
        }
    }

    /// The socket underneath (registration with the poller, addresses, socket options).
    pub fn socket(&self) -> &TcpStream {
        match &self.io {
            Io::Plain(s) => s,
        }
    }

    /// The socket underneath, mutably (mio registers a `&mut` source).
    pub fn socket_mut(&mut self) -> &mut TcpStream {
        match &mut self.io {
            Io::Plain(s) => s,
        }
    }

    /// Give the socket up (a parked connection's owner changes; TLS state would go with it).
    pub fn into_socket(self) -> TcpStream {
        match self.io {
            Io::Plain(s) => s,
        }
    }

    /// The descriptor splice(2) may read from and write to, when the transport carries bytes unchanged.
    pub fn splice_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.io {
            Io::Plain(s) => Some(s.as_fd()),
        }
    }

    /// The address this connection's local end is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket().local_addr()
    }

    /// After a read of `n` bytes into a `want`-byte space: a short read means the socket is drained (a new
    /// arrival raises a new edge), which saves the `EAGAIN` read — unless the peer's FIN came along.
    fn after_read(&mut self, n: usize, want: usize) {
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

    /// One read into `buf`'s free space (taken from `pool` if the buffer holds none). Nothing is read once the
    /// peer finished, when the socket is known drained, or when the buffer is full.
    pub fn read_once(&mut self, buf: &mut Buf, pool: &mut Pool, now: Instant) -> io::Result<Got> {
        loop {
            if !self.readable || self.rd_eof || buf.is_full() {
                return Ok(Got::Nothing);
            }
            let space = buf.space(pool);
            let want = space.len();
            let r = match &mut self.io {
                Io::Plain(s) => s.read(space),
            };
            return match r {
                Ok(0) => {
                    self.rd_eof = true;
                    Ok(Got::Eof)
                }
                Ok(n) => {
                    buf.filled(n);
                    self.last_io = now;
                    self.after_read(n, want);
                    Ok(Got::Data)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    Ok(Got::Nothing)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
        }
    }

    /// Read as much as fits into `buf`; true when anything happened (bytes or the end of the stream).
    pub fn fill(&mut self, buf: &mut Buf, pool: &mut Pool, now: Instant) -> io::Result<bool> {
        let mut progress = false;
        loop {
            match self.read_once(buf, pool, now)? {
                Got::Nothing => return Ok(progress),
                Got::Eof => return Ok(true),
                Got::Data => progress = true,
            }
        }
    }

    /// Write `data` as far as the socket takes it (see [`Conn::send2`] for `more`); returns the bytes written.
    pub fn send(&mut self, data: &[u8], more: bool, now: Instant) -> io::Result<usize> {
        Ok(self.send2(data, &[], more, now)?.0)
    }

    /// Write `head` then `body` in as few syscalls as possible (one `writev` for both while both have bytes);
    /// returns (head bytes, body bytes) written. `more`: more bytes of the same stream follow at once
    /// (`MSG_MORE`), so the kernel fills whole segments instead of pushing each write out, as HAProxy does while
    /// forwarding a body.
    pub fn send2(&mut self, head: &[u8], body: &[u8], more: bool, now: Instant) -> io::Result<(usize, usize)> {
        let flags = if more { libc::MSG_MORE } else { 0 };
        let (mut h, mut b) = (0, 0);
        while self.writable && (h < head.len() || b < body.len()) {
            let r = match &mut self.io {
                Io::Plain(s) if h < head.len() && b < body.len() => socket2::SockRef::from(&*s)
                    .send_vectored_with_flags(&[io::IoSlice::new(&head[h..]), io::IoSlice::new(&body[b..])], flags),
                Io::Plain(s) if h < head.len() => socket2::SockRef::from(&*s).send_with_flags(&head[h..], flags),
                Io::Plain(s) => socket2::SockRef::from(&*s).send_with_flags(&body[b..], flags),
            };
            match r {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(mut n) => {
                    self.last_io = now;
                    let dh = n.min(head.len() - h);
                    h += dh;
                    n -= dh;
                    b += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok((h, b))
    }

    /// Shut our sending side down (the peer reads the end of the stream), once.
    pub fn shutdown_write(&mut self) {
        if !self.wr_shut {
            let _ = self.socket().shutdown(Shutdown::Write);
            self.wr_shut = true;
        }
    }

    /// The socket was handed over in a known state (a parked connection taken again): assume it is ready.
    pub fn revive(&mut self, now: Instant) {
        self.readable = true;
        self.writable = true;
        self.last_io = now;
    }
}
