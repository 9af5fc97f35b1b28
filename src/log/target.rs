//! One opened log target: its level filter, its framing and the socket / fd / file it writes to.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::MsgFlags;

use super::file::{encode_forward, AppendFile};
use crate::config::model::{Level, LogDest, LogTarget, LogWire};

/// Unix datagram socket connected to a syslog path once, before chroot; reconnected lazily at most once a second.
#[derive(Debug)]
pub(crate) struct UnixSink {
    path: PathBuf,
    sock: Option<UnixDatagram>,
    connected: bool,
    last_try: Option<Instant>,
}

impl UnixSink {
    fn new(path: PathBuf) -> UnixSink {
        let mut s = UnixSink { path, sock: None, connected: false, last_try: None };
        // Errors here are retried lazily by `send`.
        let _ = s.connect();
        s
    }

    fn connect(&mut self) -> io::Result<()> {
        self.last_try = Some(Instant::now());
        let sock = match self.sock.take() {
            Some(s) => s,
            None => {
                let s = UnixDatagram::unbound()?;
                s.set_nonblocking(true)?;
                s
            }
        };
        let r = sock.connect(&self.path);
        self.connected = r.is_ok();
        self.sock = Some(sock);
        r
    }

    fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        if !self.connected {
            let due = self.last_try.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if !due {
                return Err(io::Error::from(io::ErrorKind::NotConnected));
            }
            // The peer may have been restarted, leaving a stale connection: start over with a fresh socket.
            self.sock = None;
            self.connect()?;
        }
        let Some(sock) = self.sock.as_ref() else {
            return Err(io::Error::from(io::ErrorKind::NotConnected));
        };
        match sock.send(buf) {
            Ok(_) => Ok(()),
            Err(e) => {
                if matches!(e.raw_os_error(), Some(libc::ECONNREFUSED) | Some(libc::ENOTCONN) | Some(libc::ENOENT)) {
                    self.connected = false;
                }
                Err(e)
            }
        }
    }
}

/// Where a target's bytes go.
#[derive(Debug)]
pub(crate) enum Sink {
    /// UDP syslog: `sock` is `None` if it could not be created.
    Udp {
        sock: Option<UdpSocket>,
        addr: SocketAddr,
    },
    Unix(RefCell<UnixSink>),
    /// fd 1 or 2. `is_socket` caches whether the fd accepted `send(MSG_DONTWAIT)`.
    Stdio {
        stderr: bool,
        is_socket: Cell<Option<bool>>,
    },
    /// `file@` in the master: appended directly.
    File(RefCell<AppendFile>),
    /// `file@` in a worker: forwarded to the master over the logger's forward socket.
    Forward(PathBuf),
    Discard,
}

/// An opened [`LogTarget`].
#[derive(Debug)]
pub(crate) struct Target {
    pub facility: u8,
    pub max_level: Level,
    pub min_level: Level,
    pub wire: LogWire,
    pub len: usize,
    pub sink: Sink,
    /// A send error was already reported for this target.
    pub warned: Cell<bool>,
}

/// How `file@` destinations are opened (mirror of the public `FileSink`, without the socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileMode {
    Master,
    Forward,
    Discard,
}

impl Target {
    /// Opens the socket (or file) of `t`. Never fails: a target that cannot be opened reports errors on send.
    pub(crate) fn open(t: &LogTarget, files: FileMode) -> Target {
        let sink = match &t.dest {
            LogDest::Udp(addr) => {
                let bind: SocketAddr =
                    if addr.is_ipv4() { SocketAddr::from(([0u8; 4], 0)) } else { SocketAddr::from(([0u16; 8], 0)) };
                let sock = UdpSocket::bind(bind).and_then(|s| {
                    s.set_nonblocking(true)?;
                    Ok(s)
                });
                let sock = match sock {
                    Ok(s) => Some(s),
                    Err(e) => {
                        ::log::warn!("cannot create UDP socket for log server {addr}: {e}");
                        None
                    }
                };
                Sink::Udp { sock, addr: *addr }
            }
            LogDest::Unix(path) => Sink::Unix(RefCell::new(UnixSink::new(path.clone()))),
            LogDest::Stdout => Sink::Stdio { stderr: false, is_socket: Cell::new(None) },
            LogDest::Stderr => Sink::Stdio { stderr: true, is_socket: Cell::new(None) },
            LogDest::File(path) => match files {
                FileMode::Master => {
                    let mut f = AppendFile::new(path.clone());
                    f.ensure_open();
                    Sink::File(RefCell::new(f))
                }
                FileMode::Forward => Sink::Forward(path.clone()),
                FileMode::Discard => Sink::Discard,
            },
        };
        Target {
            facility: t.facility,
            max_level: t.max_level,
            min_level: t.min_level,
            wire: t.format,
            len: t.len,
            sink,
            warned: Cell::new(false),
        }
    }

    /// True if a message of `level` passes this target's filter and the target writes somewhere.
    pub(crate) fn accepts(&self, level: Level) -> bool {
        level <= self.max_level && !matches!(self.sink, Sink::Discard)
    }

    /// The `<PRI>` value for a message of `level`: `facility * 8 + max(level, min_level)` (a message more
    /// severe than `min_level` is sent with `min_level`).
    pub(crate) fn pri(&self, level: Level) -> u32 {
        u32::from(self.facility) * 8 + level.max(self.min_level) as u32
    }

    /// True for `file@` targets (which are written without `<PRI>`, with the host name).
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.sink, Sink::File(_) | Sink::Forward(_))
    }

    /// Writes one framed line. `scratch` is a reusable buffer for forwarded datagrams.
    pub(crate) fn send(&self, line: &[u8], forward: Option<&UnixDatagram>, scratch: &mut Vec<u8>) -> io::Result<()> {
        match &self.sink {
            Sink::Udp { sock, addr } => match sock {
                Some(s) => s.send_to(line, addr).map(|_| ()),
                None => Err(io::Error::from(io::ErrorKind::NotConnected)),
            },
            Sink::Unix(u) => u.borrow_mut().send(line),
            Sink::Stdio { stderr, is_socket } => write_stdio(*stderr, is_socket, line),
            Sink::File(f) => {
                // AppendFile reports its own errors.
                f.borrow_mut().write_line(line);
                Ok(())
            }
            Sink::Forward(path) => {
                let Some(sock) = forward else {
                    return Err(io::Error::from(io::ErrorKind::NotConnected));
                };
                if !encode_forward(scratch, path, line) {
                    return Err(io::Error::from(io::ErrorKind::InvalidInput));
                }
                sock.send(scratch).map(|_| ())
            }
            Sink::Discard => Ok(()),
        }
    }

    /// Short human description for error reports (`udp 127.0.0.1:514`, `unix /dev/log`, `file /x.log`, …).
    pub(crate) fn describe(&self) -> String {
        match &self.sink {
            Sink::Udp { addr, .. } => format!("udp {addr}"),
            Sink::Unix(u) => match u.try_borrow() {
                Ok(u) => format!("unix {}", u.path.display()),
                Err(_) => "unix".to_string(),
            },
            Sink::Stdio { stderr: false, .. } => "stdout".to_string(),
            Sink::Stdio { stderr: true, .. } => "stderr".to_string(),
            Sink::File(_) => "file".to_string(),
            Sink::Forward(p) => format!("file {} (via master)", p.display()),
            Sink::Discard => "discard".to_string(),
        }
    }

    /// Reopens a master-side `file@` target (SIGHUP).
    pub(crate) fn reopen(&self) {
        if let Sink::File(f) = &self.sink {
            if let Ok(mut f) = f.try_borrow_mut() {
                f.reopen();
            }
        }
    }
}

/// One best-effort write of `line` on fd 1 or 2: `send(MSG_DONTWAIT)` when the fd is a socket (journald),
/// else a zero-timeout `poll` then a single `write(2)` (partial writes are not retried). The fd's own
/// blocking flag is left alone (it is shared with the parent shell).
fn write_stdio(stderr: bool, is_socket: &Cell<Option<bool>>, line: &[u8]) -> io::Result<()> {
    let out = io::stdout();
    let err = io::stderr();
    let fd = if stderr { err.as_fd() } else { out.as_fd() };
    write_fd(fd, is_socket, line)
}

/// The body of [`write_stdio`] for any descriptor.
fn write_fd(fd: BorrowedFd<'_>, is_socket: &Cell<Option<bool>>, line: &[u8]) -> io::Result<()> {
    if is_socket.get() != Some(false) {
        match nix::sys::socket::send(fd.as_raw_fd(), line, MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL) {
            Ok(_) => {
                is_socket.set(Some(true));
                return Ok(());
            }
            Err(Errno::ENOTSOCK) => is_socket.set(Some(false)),
            Err(e) => return Err(io::Error::from(e)),
        }
    }
    // Pipes and terminals: write only if poll says there is room now, so a stalled reader drops lines
    // instead of blocking the event loop (a pipe that polls writable takes a line of up to a page whole).
    let mut pfd = [PollFd::new(fd, PollFlags::POLLOUT)];
    nix::poll::poll(&mut pfd, PollTimeout::ZERO).map_err(io::Error::from)?;
    let ready = pfd[0].revents().unwrap_or(PollFlags::empty());
    if ready.intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL) {
        // No reader left (or a bad fd): writing would only raise EPIPE/SIGPIPE.
        return Err(io::Error::from(io::ErrorKind::BrokenPipe));
    }
    if !ready.contains(PollFlags::POLLOUT) {
        return Err(io::Error::from(io::ErrorKind::WouldBlock));
    }
    nix::unistd::write(fd, line).map(|_| ()).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::OwnedFd;

    #[test]
    fn write_fd_on_socket_and_full_pipe_never_blocks() {
        // Datagram socket: send(MSG_DONTWAIT) path.
        let (a, b) = UnixDatagram::pair().unwrap();
        let is_socket = Cell::new(None);
        write_fd(a.as_fd(), &is_socket, b"x\n").unwrap();
        assert_eq!(is_socket.get(), Some(true));
        let mut buf = [0u8; 8];
        assert_eq!(b.recv(&mut buf).unwrap(), 2);
        // Pipe: poll + write; once full, lines are dropped instead of blocking.
        let (r, w): (OwnedFd, OwnedFd) = nix::unistd::pipe().unwrap();
        let is_socket = Cell::new(None);
        write_fd(w.as_fd(), &is_socket, b"hello\n").unwrap();
        assert_eq!(is_socket.get(), Some(false));
        let line = [b'z'; 4096];
        let mut dropped = 0;
        for _ in 0..64 {
            if let Err(e) = write_fd(w.as_fd(), &is_socket, &line) {
                assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                dropped += 1;
            }
        }
        assert!(dropped > 0, "a 64 KiB pipe must fill up");
        let mut f = std::fs::File::from(r);
        let mut first = [0u8; 6];
        f.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"hello\n");
    }
}
