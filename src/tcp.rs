//! `mode tcp` streams: bytes forwarded both ways through fixed buffers or kernel pipes, half-close respected.
//!
//! This is the forwarding core of a session, free of balancing and logging: the worker owns the session's life
//! (queue, connect, retries, log line) and calls [`Stream::pump`] whenever a socket of the session is ready.
//! The sockets are [`crate::transport::Conn`]s, which keep the readiness bookkeeping edge-triggered polling
//! needs; this module decides what moves where.
//!
//! With `option splice-request|response|auto` a direction may move its bytes with splice(2) instead: socket →
//! pipe → socket, never through user space. Pipes come from the worker's [`PipePool`] (at most `maxpipes`);
//! without a free one the direction copies as usual. A direction never holds bytes in its buffer and in its pipe
//! at the same time (a splice read waits for an empty buffer, a copy read for an empty pipe), so order is kept.

use std::io;
use std::time::Instant;

use nix::errno::Errno;
use nix::fcntl::{splice, SpliceFFlags};

use crate::config::model::ProxyOptions;
use crate::transport::{Buf, Conn, Got, Pipe, PipePool, Pool};

/// Which end failed, for the termination state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Client,
    Server,
}

/// The outcome of a pump.
#[derive(Debug)]
pub enum Pumped {
    /// Still forwarding; nothing more can move until a socket is ready again.
    Open,
    /// Still forwarding, and bytes could still move, but the stream had its share of this turn of the loop
    /// (see [`PUMP_BUDGET`]): pump it again on the next turn, without waiting for an event.
    Busy,
    /// Both directions finished cleanly.
    Done,
    /// A socket error (reset, broken pipe) on one end.
    Failed(End, io::Error),
}

/// The `option splice-*` flags that apply to a session: its frontend's and its backend's together, as HAProxy
/// ORs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpliceOpts {
    /// `option splice-auto`: splice a direction once it looks like a bulk transfer.
    pub auto: bool,
    /// `option splice-request`: splice client → server.
    pub request: bool,
    /// `option splice-response`: splice server → client.
    pub response: bool,
}

impl SpliceOpts {
    /// The flags of one proxy (none under global `nosplice` or `-dS`).
    pub fn of(o: &ProxyOptions, nosplice: bool) -> SpliceOpts {
        if nosplice {
            return SpliceOpts::default();
        }
        SpliceOpts { auto: o.splice_auto, request: o.splice_request, response: o.splice_response }
    }

    /// Both proxies' flags (a frontend's and its backend's).
    pub fn or(self, other: SpliceOpts) -> SpliceOpts {
        SpliceOpts {
            auto: self.auto || other.auto,
            request: self.request || other.request,
            response: self.response || other.response,
        }
    }

    /// True when any direction may splice.
    pub fn any(self) -> bool {
        self.auto || self.request || self.response
    }

    fn mode(self, explicit: bool) -> SpliceMode {
        match (explicit, self.auto) {
            (true, _) => SpliceMode::On,
            (false, true) => SpliceMode::Auto,
            _ => SpliceMode::Off,
        }
    }
}

/// When a direction splices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum SpliceMode {
    /// Never: bytes are copied through the buffer.
    #[default]
    Off,
    /// Whenever a pipe is free (`splice-request`/`-response`).
    On,
    /// Once reads keep filling whole buffers (`splice-auto`).
    Auto,
}

/// Consecutive reads that filled the whole buffer before `splice-auto` calls a direction a bulk transfer
/// (HAProxy's "fast streamer" needs three as well).
const AUTO_FULL_READS: u8 = 3;

/// Every splice(2) call: move pages rather than copy them, never block the worker.
const SPLICE_FLAGS: SpliceFFlags = SpliceFFlags::SPLICE_F_MOVE.union(SpliceFFlags::SPLICE_F_NONBLOCK);

/// Bytes one direction delivers per pump at most: a bulk transfer then yields to the other sessions of the
/// worker instead of holding the loop for as long as its peer keeps sending.
pub const PUMP_BUDGET: u64 = 256 * 1024;

/// The splice state of one direction.
#[derive(Debug, Default)]
pub struct SpliceDir {
    mode: SpliceMode,
    /// The direction splices now (`On`, or `Auto` once it saw a bulk transfer).
    active: bool,
    /// `Auto`: consecutive copy reads that filled the buffer.
    full_reads: u8,
    pipe: Option<Pipe>,
}

impl SpliceDir {
    fn set(&mut self, mode: SpliceMode) {
        self.mode = mode;
        self.active = mode == SpliceMode::On;
        self.full_reads = 0;
    }

    /// Bytes waiting in the pipe.
    pub fn pending(&self) -> usize {
        self.pipe.as_ref().map_or(0, |p| p.data)
    }

    fn release_if_empty(&mut self, pipes: &mut PipePool) {
        if self.pending() == 0 {
            if let Some(p) = self.pipe.take() {
                pipes.give(p);
            }
        }
    }

    fn release(&mut self, pipes: &mut PipePool) {
        if let Some(p) = self.pipe.take() {
            pipes.give(p);
        }
    }

    /// After a copy read, which left the buffer `full` or not: `Auto` switches to splicing after a few full ones
    /// in a row (the peer sends faster than one buffer per read).
    fn after_copy_read(&mut self, full: bool) {
        if self.mode != SpliceMode::Auto || self.active {
            return;
        }
        if full {
            self.full_reads += 1;
            if self.full_reads >= AUTO_FULL_READS {
                self.active = true;
            }
        } else {
            self.full_reads = 0;
        }
    }
}

/// An errno as an `io::Error`.
fn errno_io(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// One direction of a stream: its source socket, buffer and splice state.
struct Dir<'a> {
    src: &'a mut Conn,
    buf: &'a mut Buf,
    sp: &'a mut SpliceDir,
    src_end: End,
    dst_end: End,
}

/// Moves bytes from `src` through its buffer or pipe to `dst` until nothing more can move or [`PUMP_BUDGET`]
/// bytes were delivered. Returns bytes delivered to `dst`, and whether it stopped for the budget.
fn forward_dir(
    dir: Dir<'_>,
    mut dst: Option<&mut Conn>,
    pool: &mut Pool,
    pipes: &mut PipePool,
    now: Instant,
) -> Result<(u64, bool), (End, io::Error)> {
    let Dir { src, buf, sp, src_end, dst_end } = dir;
    let mut delivered = 0u64;
    // The last splice read said EAGAIN while the pipe held bytes: the pipe may be full (its slots are pages,
    // not bytes), so read again only once some of it went out.
    let mut pipe_full = false;
    let result = loop {
        let mut progress = false;
        // Splice only towards a connected server, and never past bytes still in the buffer.
        let may_splice = sp.active && buf.is_empty() && dst.as_deref().is_some_and(|d| !d.wr_shut);
        if src.readable && !src.rd_eof && may_splice && !pipe_full && sp.pending() < pipes.cap {
            if sp.pipe.is_none() {
                sp.pipe = pipes.take();
            }
            if let Some(pipe) = sp.pipe.as_mut() {
                let want = pipes.cap - pipe.data;
                let Some(fd) = src.splice_fd() else {
                    // This transport cannot hand its bytes to the kernel unchanged: copy from now on.
                    sp.set(SpliceMode::Off);
                    continue;
                };
                match splice(fd, None, &pipe.wr, None, want, SPLICE_FLAGS) {
                    Ok(0) => {
                        src.rd_eof = true;
                        progress = true;
                    }
                    Ok(n) => {
                        pipe.data += n;
                        src.last_io = now;
                        progress = true;
                    }
                    Err(Errno::EAGAIN) if pipe.data > 0 => pipe_full = true,
                    Err(Errno::EAGAIN) => src.readable = false,
                    Err(Errno::EINTR) => progress = true,
                    Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {
                        // The kernel cannot splice these sockets: copy from now on.
                        sp.set(SpliceMode::Off);
                        progress = true;
                    }
                    Err(e) => break Err((src_end, errno_io(e))),
                }
            }
        }
        // Copy reads wait for the pipe to drain (order), and for the splice read above when there was one.
        if src.readable && !src.rd_eof && sp.pending() == 0 && !buf.is_full() && !(may_splice && sp.pipe.is_some()) {
            match src.read_once(buf, pool, now) {
                Ok(Got::Eof) => progress = true,
                Ok(Got::Data) => {
                    sp.after_copy_read(buf.is_full());
                    progress = true;
                }
                Ok(Got::Nothing) => {}
                Err(e) => break Err((src_end, e)),
            }
        }
        if let Some(d) = dst.as_deref_mut() {
            if d.writable && !d.wr_shut {
                if !buf.is_empty() {
                    // The source still has bytes for this same pass: let the kernel fill whole segments.
                    let more = src.readable && !src.rd_eof;
                    match d.send(buf.pending(), more, now) {
                        Ok(n) => {
                            buf.consumed(n);
                            delivered += n as u64;
                            progress |= n > 0;
                        }
                        Err(e) => break Err((dst_end, e)),
                    }
                } else if let Some((pipe, fd)) = sp.pipe.as_mut().filter(|p| p.data > 0).zip(d.splice_fd()) {
                    match splice(&pipe.rd, None, fd, None, pipe.data, SPLICE_FLAGS) {
                        // Nothing left to read in a pipe we hold bytes in: our count is wrong, stop here.
                        Ok(0) => break Err((dst_end, io::Error::from(io::ErrorKind::WriteZero))),
                        Ok(n) => {
                            pipe.data = pipe.data.saturating_sub(n);
                            delivered += n as u64;
                            d.last_io = now;
                            pipe_full = false;
                            progress = true;
                        }
                        Err(Errno::EAGAIN) => d.writable = false,
                        Err(Errno::EINTR) => progress = true,
                        Err(e) => break Err((dst_end, errno_io(e))),
                    }
                }
            }
            if src.rd_eof && buf.is_empty() && sp.pending() == 0 && !d.wr_shut {
                // Half-close: pass the FIN on once everything before it was delivered.
                d.shutdown_write();
            }
        }
        buf.release_if_empty(pool);
        if !progress {
            break Ok((delivered, false));
        }
        if delivered >= PUMP_BUDGET {
            break Ok((delivered, true));
        }
    };
    sp.release_if_empty(pipes);
    result
}

/// The two sockets, buffers and splice states of a TCP session.
#[derive(Debug)]
pub struct Stream {
    pub client: Conn,
    /// `None` until the server connection is established.
    pub server: Option<Conn>,
    /// Client → server bytes.
    pub c2s: Buf,
    /// Server → client bytes.
    pub s2c: Buf,
    /// Splicing, client → server then server → client; only sessions whose options allow it have it (an idle
    /// connection stays small).
    pub splice: Option<Box<[SpliceDir; 2]>>,
    /// Bytes delivered to the server.
    pub bytes_in: u64,
    /// Bytes delivered to the client.
    pub bytes_out: u64,
}

impl Stream {
    /// A stream for an accepted client; the server side comes later. Nothing is spliced until
    /// [`Stream::set_splice`] says so.
    pub fn new(client: Conn) -> Stream {
        Stream {
            client,
            server: None,
            c2s: Buf::default(),
            s2c: Buf::default(),
            splice: None,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// Let the directions splice as `opts` say (`mode tcp` sessions, once their backend is known).
    pub fn set_splice(&mut self, opts: SpliceOpts) {
        let dirs = self.splice.get_or_insert_with(Default::default);
        dirs[0].set(opts.mode(opts.request));
        dirs[1].set(opts.mode(opts.response));
    }

    /// Bytes read from the client and not yet delivered (buffer and pipe).
    pub fn c2s_pending(&self) -> usize {
        self.c2s.pending().len() + self.splice.as_ref().map_or(0, |d| d[0].pending())
    }

    /// Move every byte that can move now, in both directions.
    pub fn pump(&mut self, pool: &mut Pool, pipes: &mut PipePool, now: Instant) -> Pumped {
        // Without splice options, both directions copy (a default `SpliceDir` never splices).
        let mut copy = [SpliceDir::default(), SpliceDir::default()];
        let [c2s_sp, s2c_sp] = match self.splice.as_deref_mut() {
            Some(dirs) => dirs,
            None => &mut copy,
        };
        let up =
            Dir { src: &mut self.client, buf: &mut self.c2s, sp: c2s_sp, src_end: End::Client, dst_end: End::Server };
        let mut busy = false;
        match forward_dir(up, self.server.as_mut(), pool, pipes, now) {
            Ok((n, more)) => {
                self.bytes_in += n;
                busy |= more;
            }
            Err((end, e)) => return Pumped::Failed(end, e),
        }
        if let Some(server) = self.server.as_mut() {
            let down = Dir { src: server, buf: &mut self.s2c, sp: s2c_sp, src_end: End::Server, dst_end: End::Client };
            match forward_dir(down, Some(&mut self.client), pool, pipes, now) {
                Ok((n, more)) => {
                    self.bytes_out += n;
                    busy |= more;
                }
                Err((end, e)) => return Pumped::Failed(end, e),
            }
            let server_eof = self.server.as_ref().is_some_and(|s| s.rd_eof);
            let s2c_pending = self.s2c.pending().len() + self.splice.as_ref().map_or(0, |d| d[1].pending());
            if self.client.rd_eof && server_eof && self.c2s_pending() == 0 && s2c_pending == 0 {
                return Pumped::Done;
            }
        }
        if busy {
            Pumped::Busy
        } else {
            Pumped::Open
        }
    }

    /// Give both buffers and pipes back (the session is ending; a pipe still holding bytes is closed).
    pub fn release(&mut self, pool: &mut Pool, pipes: &mut PipePool) {
        self.c2s.release(pool);
        self.s2c.release(pool);
        if let Some(dirs) = self.splice.as_mut() {
            dirs[0].release(pipes);
            dirs[1].release(pipes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_modes_from_options() {
        let o = SpliceOpts { auto: true, request: false, response: true };
        assert_eq!(o.mode(o.request), SpliceMode::Auto);
        assert_eq!(o.mode(o.response), SpliceMode::On);
        let none = SpliceOpts::default();
        assert_eq!(none.mode(none.request), SpliceMode::Off);
        assert!(!none.any() && SpliceOpts { request: true, ..none }.or(none).request);
    }
}
