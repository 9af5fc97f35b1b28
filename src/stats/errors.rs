//! `show errors`: the last invalid request each frontend saw and the last invalid response each backend saw.
//!
//! Workers refuse malformed input on their own; the master answers the stats socket. Captures therefore live in
//! the shared segment: each slot has one fixed-size [`CaptureArea`] per frontend block (invalid requests) and per
//! backend block (invalid responses), numbered like the counter blocks ([`super::Layout`]). A worker overwrites
//! its area when it refuses a message ([`super::SlotWriter::capture_error`]); the master reads every live slot and
//! keeps the most recent capture per proxy and direction ([`super::Segment::errors`]), then [`render`] prints them
//! as HAProxy 2.6 does.
//!
//! An area is a seqlock: `seq` is odd while the worker writes, even when it is stable, 0 when nothing was ever
//! captured. The reader copies every field and keeps the copy only if `seq` was even and unchanged across the
//! copy, so it never prints a torn capture; the writer never waits. Every field, the bytes included, is an
//! `AtomicU64` (the bytes packed eight to a word), so racing reads are well defined.
//!
//! Captures are rare, so the write copies up to [`CAPTURE_BYTES`] of the buffer: the whole message when it fits,
//! else a window around the error position. The areas are part of the anonymous shared mapping, whose pages the
//! kernel only backs once written: areas nothing was ever captured in cost address space, not memory.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{fence, AtomicU64, Ordering};

use super::snapshot::Snapshot;
use crate::log::time::utc_accept_date;

/// Bytes of a message a capture keeps (the whole message when it is shorter).
pub const CAPTURE_BYTES: usize = 2048;
const DATA_WORDS: usize = CAPTURE_BYTES / 8;
/// Bytes of the short description kept (longer ones are cut).
const REASON_BYTES: usize = 64;
const REASON_WORDS: usize = REASON_BYTES / 8;
/// How many times a reader retries a capture that is being rewritten before giving up on it for this answer.
const READ_TRIES: usize = 64;

/// Which message was invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// A client's request, seen by a frontend.
    Request,
    /// A server's response, seen by a backend.
    Response,
}

/// One capture area in the segment. `repr(C)`, all `AtomicU64`: valid when zeroed, only accessed atomically.
#[repr(C)]
#[derive(Debug)]
pub struct CaptureArea {
    /// Seqlock word: 0 never written, odd while being written, even and non-zero when stable.
    seq: AtomicU64,
    when_ms: AtomicU64,
    event: AtomicU64,
    /// Config index + 1 of the proxy at the other end (0: none).
    other: AtomicU64,
    /// Global server index + 1 (0: none).
    server: AtomicU64,
    /// Client address family (0 none, 4, 6) << 16 | port.
    src_meta: AtomicU64,
    src_ip: [AtomicU64; 2],
    buf_size: AtomicU64,
    len: AtomicU64,
    err_pos: AtomicU64,
    start: AtomicU64,
    captured: AtomicU64,
    reason_len: AtomicU64,
    reason: [AtomicU64; REASON_WORDS],
    data: [AtomicU64; DATA_WORDS],
}

/// What a worker knows about a message it refuses, for [`CaptureArea::write`].
#[derive(Debug, Clone, Copy)]
pub struct CaptureInput<'a> {
    /// Config index of the proxy at the other end: the backend for a request (when known), the frontend for a
    /// response.
    pub other: Option<usize>,
    /// Global server index (as [`super::Layout::server_index`] numbers them), when one was chosen.
    pub server: Option<usize>,
    /// The client's address.
    pub src: Option<SocketAddr>,
    /// The buffer holding the message, from its first byte.
    pub buf: &'a [u8],
    /// Where in `buf` the parser found the error.
    pub err_pos: usize,
    /// Size of the worker's buffers (`tune.bufsize`), for the `free` and `wraps at` figures.
    pub buf_size: usize,
    /// Short description of the error.
    pub reason: &'a str,
    /// Unix time in ms.
    pub when_ms: u64,
}

/// A capture as read back by the master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCapture {
    /// Request (frontend side) or response (backend side).
    pub direction: Direction,
    /// Config index of the proxy that refused the message.
    pub proxy: usize,
    /// Config index of the proxy at the other end, if any.
    pub other: Option<usize>,
    /// (proxy, server) config indexes of the server involved, if any.
    pub server: Option<(usize, usize)>,
    /// Unix time in ms.
    pub when_ms: u64,
    /// Event number (daemon-wide, from 0).
    pub event: u64,
    /// The client's address.
    pub src: Option<SocketAddr>,
    /// `tune.bufsize` of the worker.
    pub buf_size: usize,
    /// Bytes that were in the buffer.
    pub len: usize,
    /// Error position in the buffer.
    pub err_pos: usize,
    /// Offset in the buffer of `bytes[0]`.
    pub start: usize,
    /// The captured bytes (all of the buffer, or a window of [`CAPTURE_BYTES`] around the error).
    pub bytes: Vec<u8>,
    /// Short description of the error.
    pub reason: String,
}

/// Everything `show errors` needs: the daemon-wide event count and the newest capture per proxy and direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors {
    /// Events captured since the segment was made (captures overwritten since included).
    pub total: u64,
    /// Captures in config order, requests before responses for the same proxy.
    pub captures: Vec<ErrorCapture>,
}

/// Packs `bytes` into `words`, eight bytes to a word, little-endian, zero-padded.
fn store_bytes(words: &[AtomicU64], bytes: &[u8]) {
    for (w, chunk) in words.iter().zip(bytes.chunks(8)) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        w.store(u64::from_le_bytes(b), Ordering::Relaxed);
    }
}

/// Unpacks `len` bytes from `words`.
fn load_bytes(words: &[AtomicU64], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    for w in words.iter().take(len.div_ceil(8)) {
        out.extend_from_slice(&w.load(Ordering::Relaxed).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The window of at most [`CAPTURE_BYTES`] of a `len`-byte buffer to keep for an error at `err_pos`: the whole
/// buffer if it fits, its start if the error lies there, else a window holding the error a quarter from its end.
pub fn capture_window(len: usize, err_pos: usize) -> std::ops::Range<usize> {
    if len <= CAPTURE_BYTES || err_pos < CAPTURE_BYTES * 3 / 4 {
        return 0..len.min(CAPTURE_BYTES);
    }
    let start = (err_pos - CAPTURE_BYTES * 3 / 4).min(len - CAPTURE_BYTES);
    start..start + CAPTURE_BYTES
}

impl CaptureArea {
    /// Worker (the slot's only writer): replace the capture with `c`, numbered `event`. Lock-free: readers that
    /// overlap the write see an odd or changed `seq` and retry.
    pub fn write(&self, event: u64, c: &CaptureInput<'_>) {
        let seq = self.seq.load(Ordering::Relaxed);
        // Odd: being written. (A worker that died mid-write left it odd; the master evens it out when the slot is
        // claimed again, see `reset_if_torn`.)
        self.seq.store(seq | 1, Ordering::Relaxed);
        // Orders the odd `seq` before every data store below for a reader whose acquire fence follows a load
        // that saw one of them.
        fence(Ordering::Release);
        self.when_ms.store(c.when_ms, Ordering::Relaxed);
        self.event.store(event, Ordering::Relaxed);
        self.other.store(c.other.map_or(0, |p| p as u64 + 1), Ordering::Relaxed);
        self.server.store(c.server.map_or(0, |s| s as u64 + 1), Ordering::Relaxed);
        let (meta, ip) = match c.src {
            Some(SocketAddr::V4(a)) => ((4 << 16) | u64::from(a.port()), u128::from(u32::from(*a.ip()))),
            Some(SocketAddr::V6(a)) => ((6 << 16) | u64::from(a.port()), u128::from(*a.ip())),
            None => (0, 0),
        };
        self.src_meta.store(meta, Ordering::Relaxed);
        self.src_ip[0].store(ip as u64, Ordering::Relaxed);
        self.src_ip[1].store((ip >> 64) as u64, Ordering::Relaxed);
        self.buf_size.store(c.buf_size as u64, Ordering::Relaxed);
        self.len.store(c.buf.len() as u64, Ordering::Relaxed);
        self.err_pos.store(c.err_pos as u64, Ordering::Relaxed);
        let win = capture_window(c.buf.len(), c.err_pos);
        self.start.store(win.start as u64, Ordering::Relaxed);
        self.captured.store(win.len() as u64, Ordering::Relaxed);
        store_bytes(&self.data, &c.buf[win]);
        let mut reason = c.reason.as_bytes();
        if reason.len() > REASON_BYTES {
            reason = &reason[..REASON_BYTES];
        }
        self.reason_len.store(reason.len() as u64, Ordering::Relaxed);
        store_bytes(&self.reason, reason);
        // Even again, and one step further than before: publishes the data stores above.
        self.seq.store((seq | 1) + 1, Ordering::Release);
    }

    /// Reader: a consistent copy of the capture, or `None` if there is none (or it kept changing under us).
    /// `direction`/`proxy` say what the area is; `server` maps a global server index to (proxy, server).
    pub fn read(
        &self,
        direction: Direction,
        proxy: usize,
        server: impl Fn(usize) -> Option<(usize, usize)>,
    ) -> Option<ErrorCapture> {
        for _ in 0..READ_TRIES {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 == 0 {
                return None;
            }
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let when_ms = self.when_ms.load(Ordering::Relaxed);
            let event = self.event.load(Ordering::Relaxed);
            let other = self.other.load(Ordering::Relaxed);
            let srv = self.server.load(Ordering::Relaxed);
            let meta = self.src_meta.load(Ordering::Relaxed);
            let ip = u128::from(self.src_ip[0].load(Ordering::Relaxed))
                | (u128::from(self.src_ip[1].load(Ordering::Relaxed)) << 64);
            let buf_size = self.buf_size.load(Ordering::Relaxed);
            let len = self.len.load(Ordering::Relaxed);
            let err_pos = self.err_pos.load(Ordering::Relaxed);
            let start = self.start.load(Ordering::Relaxed);
            let captured = (self.captured.load(Ordering::Relaxed) as usize).min(CAPTURE_BYTES);
            let bytes = load_bytes(&self.data, captured);
            let reason_len = (self.reason_len.load(Ordering::Relaxed) as usize).min(REASON_BYTES);
            let reason = load_bytes(&self.reason, reason_len);
            // Pairs with the writer's release fence: if any load above saw a store of a later write, the load
            // of `seq` below sees that write's odd value (or later).
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != s1 {
                continue;
            }
            let port = (meta & 0xffff) as u16;
            let src = match meta >> 16 {
                4 => Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip as u32)), port)),
                6 => Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port)),
                _ => None,
            };
            return Some(ErrorCapture {
                direction,
                proxy,
                other: other.checked_sub(1).map(|p| p as usize),
                server: srv.checked_sub(1).and_then(|s| server(s as usize)),
                when_ms,
                event,
                src,
                buf_size: buf_size as usize,
                len: len as usize,
                err_pos: err_pos as usize,
                start: start as usize,
                bytes,
                reason: String::from_utf8_lossy(&reason).into_owned(),
            });
        }
        None
    }

    /// Master, with no writer left for the slot: forget the capture.
    pub fn clear(&self) {
        self.seq.store(0, Ordering::Release);
    }

    /// Master, before a new worker takes the slot: a capture its previous worker left half-written (it died in
    /// the middle) is dropped; a complete one is kept.
    pub fn reset_if_torn(&self) {
        if self.seq.load(Ordering::Acquire) & 1 == 1 {
            self.clear();
        }
    }
}

/// Which captures `show errors [<px>] [request|response]` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorFilter {
    /// Only captures of the proxy with this id, or whose other end has it (`None`: all).
    pub iid: Option<u32>,
    /// Print invalid requests.
    pub requests: bool,
    /// Print invalid responses.
    pub responses: bool,
}

impl Default for ErrorFilter {
    fn default() -> Self {
        ErrorFilter { iid: None, requests: true, responses: true }
    }
}

impl ErrorFilter {
    /// Parse the arguments after `show errors` as HAProxy 2.6 does: a proxy name, else a number (`-1`: all
    /// proxies; anything reading as 0: `No such proxy.`), then `request` or `response`.
    pub fn parse(args: &[&str], snap: &Snapshot) -> Result<ErrorFilter, String> {
        let mut f = ErrorFilter::default();
        if let Some(px) = args.first() {
            let iid = match snap.proxies.iter().find(|p| p.name == *px) {
                Some(p) => i64::from(p.id),
                None => atoi(px),
            };
            if iid == 0 {
                return Err("No such proxy.\n\n".into());
            }
            f.iid = u32::try_from(iid).ok();
        }
        match args.get(1).copied() {
            Some("request") => f.responses = false,
            Some("response") => f.requests = false,
            _ => {}
        }
        Ok(f)
    }
}

/// C's `atoi`: optional spaces and sign, then digits; 0 when there are none.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Appends one line of HAProxy's `dump_text_line` for `buf[ptr..]` to `out` and returns where the next line
/// starts: `  OFFSET  text` (a `+` instead of the second space when the line continues a cut one), at most about
/// 70 characters of text; `\t \n \r \e \\` escaped C-style, other non-printable bytes as `\xHH`; a line ends
/// after each `\n` of the data. `line` is the offset where the current data line began; `base` is added to
/// the offsets printed.
fn dump_text_line(out: &mut String, buf: &[u8], base: usize, line: &mut usize, mut ptr: usize) -> usize {
    let start = out.len();
    let end = start + 80;
    let _ = write!(out, "  {:05}{} ", base + ptr, if ptr == *line { ' ' } else { '+' });
    while ptr < buf.len() {
        let c = buf[ptr];
        if (0x20..0x7f).contains(&c) && c != b'\\' {
            if out.len() > end - 2 {
                break;
            }
            out.push(c as char);
        } else if matches!(c, b'\t' | b'\n' | b'\r' | 0x1b | b'\\') {
            if out.len() > end - 3 {
                break;
            }
            out.push('\\');
            out.push(match c {
                b'\t' => 't',
                b'\n' => 'n',
                b'\r' => 'r',
                0x1b => 'e',
                _ => '\\',
            });
        } else {
            if out.len() > end - 5 {
                break;
            }
            let _ = write!(out, "\\x{c:02X}");
        }
        ptr += 1;
        if c == b'\n' {
            out.push('\n');
            *line = ptr;
            return ptr;
        }
    }
    out.push('\n');
    ptr
}

/// The captured bytes as HAProxy dumps them, offsets counted from the start of the buffer.
pub fn dump_text(out: &mut String, bytes: &[u8], base: usize) {
    let mut line = 0;
    let mut ptr = 0;
    while ptr < bytes.len() {
        ptr = dump_text_line(out, bytes, base, &mut line, ptr);
    }
}

/// `name (#id)` of proxy `pi` in `snap`, or `<NONE> (#-1)`.
fn proxy_label(snap: &Snapshot, pi: Option<usize>) -> String {
    match pi.and_then(|i| snap.proxies.get(i)) {
        Some(p) => format!("{} (#{})", p.name, p.id),
        None => "<NONE> (#-1)".into(),
    }
}

/// HAProxy's `addr_to_str` + port: IPv6 addresses without brackets.
fn src_label(src: Option<SocketAddr>) -> String {
    match src {
        Some(a) => format!("{}:{}", a.ip(), a.port()),
        None => "<NONE>:0".into(),
    }
}

/// The `show errors` answer (without the final empty line): the `Total events captured on` line, then each
/// capture `filter` keeps, as HAProxy 2.6 prints it. Names and ids come from `snap`; the date line uses
/// `snap.now_ms`.
pub fn render(errors: &Errors, snap: &Snapshot, filter: &ErrorFilter) -> String {
    let mut o = format!("Total events captured on [{}] : {}\n", utc_accept_date(snap.now_ms), errors.total);
    for c in &errors.captures {
        let wanted = match c.direction {
            Direction::Request => filter.requests,
            Direction::Response => filter.responses,
        };
        let id_of = |pi: Option<usize>| pi.and_then(|i| snap.proxies.get(i)).map(|p| p.id);
        if !wanted || filter.iid.is_some_and(|iid| id_of(Some(c.proxy)) != Some(iid) && id_of(c.other) != Some(iid)) {
            continue;
        }
        let _ = write!(o, " \n[{}]", utc_accept_date(c.when_ms));
        match c.direction {
            Direction::Request => {
                // HAProxy names the other end only when it is a backend (a listen's own backend side counts).
                let be = c.other.filter(|&i| snap.proxies.get(i).is_some_and(|p| p.backend.is_some()));
                let _ = write!(
                    o,
                    " frontend {}: invalid request\n  backend {}",
                    proxy_label(snap, Some(c.proxy)),
                    proxy_label(snap, be)
                );
            }
            Direction::Response => {
                let _ = write!(
                    o,
                    " backend {}: invalid response\n  frontend {}",
                    proxy_label(snap, Some(c.proxy)),
                    proxy_label(snap, c.other)
                );
            }
        }
        let server = c.server.and_then(|(pi, si)| snap.proxies.get(pi)?.servers.get(si));
        let _ = write!(
            o,
            ", server {} (#{}), event #{}, src {}\n  buffer starts at 0 (including 0 out), {} free,\n  \
             len {}, wraps at {}, error at position {}\n",
            server.map_or("<NONE>", |s| s.name.as_str()),
            server.map_or(-1, |s| i64::from(s.id)),
            c.event,
            src_label(c.src),
            c.buf_size.saturating_sub(c.len),
            c.len,
            c.buf_size,
            c.err_pos,
        );
        // Where HAProxy prints its H1 parser's state: what nbproxy's parser said, and what part was kept.
        let _ = writeln!(o, "  reason: {}", c.reason);
        if c.start > 0 || c.start + c.bytes.len() < c.len {
            let _ = writeln!(o, "  captured bytes {} to {} of {}", c.start, c.start + c.bytes.len(), c.len);
        }
        o.push_str("  \n");
        dump_text(&mut o, &c.bytes, c.start);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area() -> Box<CaptureArea> {
        // SAFETY: `CaptureArea` is `repr(C)` and made only of `AtomicU64`s, for which all-zero bytes are valid
        // (as in the kernel-zeroed segment).
        unsafe { Box::new(std::mem::zeroed()) }
    }

    fn input<'a>(buf: &'a [u8], err_pos: usize) -> CaptureInput<'a> {
        CaptureInput {
            other: Some(2),
            server: Some(5),
            src: Some("192.0.2.7:40000".parse().expect("addr")),
            buf,
            err_pos,
            buf_size: 16384,
            reason: "invalid request line",
            when_ms: 1_700_000_000_123,
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let a = area();
        assert_eq!(a.read(Direction::Request, 0, |_| None), None, "never written");
        let msg = b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n";
        a.write(7, &input(msg, 5));
        let c = a.read(Direction::Request, 3, |s| Some((1, s))).expect("capture");
        assert_eq!(c.direction, Direction::Request);
        assert_eq!((c.proxy, c.other, c.server), (3, Some(2), Some((1, 5))));
        assert_eq!((c.event, c.when_ms, c.err_pos, c.len, c.start), (7, 1_700_000_000_123, 5, msg.len(), 0));
        assert_eq!(c.bytes, msg.to_vec());
        assert_eq!(c.reason, "invalid request line");
        assert_eq!(c.src, Some("192.0.2.7:40000".parse().expect("addr")));
        // Overwritten by the next capture; IPv6 source; no other end.
        let mut i = input(b"HTTP/1.1 2x0 OK\r\n\r\n", 9);
        i.src = Some("[2001:db8::1]:8080".parse().expect("addr"));
        i.other = None;
        i.server = None;
        a.write(8, &i);
        let c = a.read(Direction::Response, 1, |_| None).expect("capture");
        assert_eq!((c.event, c.other, c.server, c.err_pos), (8, None, None, 9));
        assert_eq!(c.src, Some("[2001:db8::1]:8080".parse().expect("addr")));
        assert_eq!(c.bytes, b"HTTP/1.1 2x0 OK\r\n\r\n".to_vec());
        a.clear();
        assert_eq!(a.read(Direction::Response, 1, |_| None), None);
    }

    #[test]
    fn torn_captures_are_never_returned() {
        let a = area();
        a.write(1, &input(b"GET / HTTP/1.1\r\n\r\n", 0));
        // A writer caught in the middle (as a worker that died there): odd seq.
        let s = a.seq.load(Ordering::Relaxed);
        a.seq.store(s | 1, Ordering::Relaxed);
        assert_eq!(a.read(Direction::Request, 0, |_| None), None);
        a.reset_if_torn();
        assert_eq!(a.read(Direction::Request, 0, |_| None), None, "a torn capture is dropped");
        a.write(2, &input(b"X", 0));
        assert_eq!(a.read(Direction::Request, 0, |_| None).map(|c| c.event), Some(2));
        a.reset_if_torn();
        assert_eq!(a.read(Direction::Request, 0, |_| None).map(|c| c.event), Some(2), "a whole one is kept");
    }

    #[test]
    fn concurrent_reader_sees_only_whole_captures() {
        let a: std::sync::Arc<CaptureArea> = std::sync::Arc::from(area());
        let w = std::sync::Arc::clone(&a);
        let writer = std::thread::spawn(move || {
            for n in 0..20_000u64 {
                // Every byte of capture n is the letter n % 26, its length and position derived from n.
                let b = [b'a' + (n % 26) as u8; 300];
                let len = 100 + (n % 200) as usize;
                w.write(n, &input(&b[..len], len / 2));
            }
        });
        let mut seen = 0;
        while !writer.is_finished() || seen == 0 {
            if let Some(c) = a.read(Direction::Request, 0, |_| None) {
                let letter = b'a' + (c.event % 26) as u8;
                assert!(c.bytes.iter().all(|&b| b == letter), "torn capture {c:?}");
                assert_eq!(c.len, 100 + (c.event % 200) as usize);
                assert_eq!((c.bytes.len(), c.err_pos), (c.len, c.len / 2));
                seen += 1;
            }
        }
        writer.join().expect("writer");
        assert!(seen > 0);
    }

    #[test]
    fn long_messages_keep_a_window_around_the_error() {
        assert_eq!(capture_window(100, 50), 0..100);
        assert_eq!(capture_window(10_000, 100), 0..CAPTURE_BYTES);
        let w = capture_window(10_000, 9_000);
        assert_eq!(w.len(), CAPTURE_BYTES);
        assert!(w.contains(&9_000) && w.start == 9_000 - CAPTURE_BYTES * 3 / 4);
        assert_eq!(capture_window(10_000, 9_999), 10_000 - CAPTURE_BYTES..10_000);
        let a = area();
        let mut big = vec![b'x'; 10_000];
        big[9_000] = 0;
        a.write(0, &input(&big, 9_000));
        let c = a.read(Direction::Request, 0, |_| None).expect("capture");
        assert_eq!((c.start, c.bytes.len(), c.len), (w.start, CAPTURE_BYTES, 10_000));
        assert_eq!(c.bytes[9_000 - c.start], 0);
    }

    #[test]
    fn dump_matches_haproxy() {
        let mut o = String::new();
        dump_text(&mut o, b"GET / HTTP/1.1\r\nHost: localhost\r\n:empty header\r\n\r\n", 0);
        assert_eq!(
            o,
            "  00000  GET / HTTP/1.1\\r\\n\n  00016  Host: localhost\\r\\n\n  00033  :empty header\\r\\n\n  00048  \\r\\n\n"
        );
        // A long line is cut at 70 characters and continued with '+'; escapes.
        let ua =
            b"User-Agent: Mozilla/5.0 (compatible; GrapeshotCrawler/2.0; +http://www.grapeshot.co.uk/crawler.php)\r\n";
        let mut o = String::new();
        dump_text(&mut o, ua, 334);
        assert_eq!(
            o,
            "  00334  User-Agent: Mozilla/5.0 (compatible; GrapeshotCrawler/2.0; +http://www\n  \
             00404+ .grapeshot.co.uk/crawler.php)\\r\\n\n"
        );
        let mut o = String::new();
        dump_text(&mut o, b"a\tb\x1b\\\x00\xff", 0);
        assert_eq!(o, "  00000  a\\tb\\e\\\\\\x00\\xFF\n");
    }

    #[test]
    fn atoi_is_c_like() {
        assert_eq!((atoi("12"), atoi("-1"), atoi("x"), atoi("3x"), atoi("")), (12, -1, 0, 3, 0));
    }
}
