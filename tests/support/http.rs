//! HTTP/1.1 pieces of the harness: a configurable threaded test backend ([`HttpBackend`]), a keep-alive capable
//! client ([`HttpConn`]), a one-shot raw client ([`raw_exchange`]), a response parser ([`parse_response`]), an
//! `option httplog` line parser ([`parse_httplog`]), SHA-256 ([`Sha256`]) and a deterministic byte pattern for
//! large transfers ([`pattern_at`]).
//!
//! Only std. Every read has a timeout, every backend thread ends when its [`HttpBackend`] is dropped.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::{accept_loop, bind_retry, lock, loopback, reserve_port, Running, IO_TIMEOUT};

/// Most simultaneous connections one [`HttpBackend`] serves; more are closed at once.
const MAX_SESSIONS: usize = 256;

/// Largest request or response head the harness reads.
const MAX_HEAD: usize = 65536;

// ---------------------------------------------------------------------------------------------------------------
// SHA-256 (FIPS 180-4), for "the bytes arrived intact" checks

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// Incremental SHA-256: `update` any number of times, then `hex`.
#[derive(Clone)]
pub struct Sha256 {
    h: [u32; 8],
    block: [u8; 64],
    used: usize,
    total: u64,
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256 {
            h: [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19],
            block: [0; 64],
            used: 0,
            total: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.used > 0 {
            let n = (64 - self.used).min(data.len());
            self.block[self.used..self.used + n].copy_from_slice(&data[..n]);
            self.used += n;
            data = &data[n..];
            if self.used < 64 {
                return;
            }
            let block = self.block;
            compress(&mut self.h, &block);
            self.used = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for b in &mut blocks {
            compress(&mut self.h, b);
        }
        let rest = blocks.remainder();
        self.block[..rest.len()].copy_from_slice(rest);
        self.used = rest.len();
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn digest(mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        self.update(&[0x80]);
        while self.used != 56 {
            self.update(&[0]);
        }
        self.update(&bits.to_be_bytes());
        let mut out = [0u8; 32];
        for (o, h) in out.chunks_exact_mut(4).zip(self.h) {
            o.copy_from_slice(&h.to_be_bytes());
        }
        out
    }

    /// The digest in lowercase hex, as `sha256sum` prints it.
    pub fn hex(self) -> String {
        self.digest().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// One 64-byte block. Written for speed in unoptimized test builds (about twice std's `wrapping_*`/`rotate_*`):
/// 32-bit words kept in u64 and masked, rotations spelled out, no iterator adapters.
fn compress(h: &mut [u32; 8], block: &[u8]) {
    const M: u64 = 0xffff_ffff;
    let mut w = [0u64; 64];
    let mut i = 0;
    while i < 16 {
        let j = 4 * i;
        w[i] = ((block[j] as u64) << 24)
            | ((block[j + 1] as u64) << 16)
            | ((block[j + 2] as u64) << 8)
            | block[j + 3] as u64;
        i += 1;
    }
    while i < 64 {
        let x = w[i - 15];
        let y = w[i - 2];
        let s0 = (((x >> 7) | (x << 25)) ^ ((x >> 18) | (x << 14)) ^ (x >> 3)) & M;
        let s1 = (((y >> 17) | (y << 15)) ^ ((y >> 19) | (y << 13)) ^ (y >> 10)) & M;
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M;
        i += 1;
    }
    let (mut a, mut b, mut c, mut d) = (h[0] as u64, h[1] as u64, h[2] as u64, h[3] as u64);
    let (mut e, mut f, mut g, mut hh) = (h[4] as u64, h[5] as u64, h[6] as u64, h[7] as u64);
    i = 0;
    while i < 64 {
        let s1 = ((e >> 6) | (e << 26)) ^ ((e >> 11) | (e << 21)) ^ ((e >> 25) | (e << 7));
        let ch = (e & f) ^ (!e & g);
        let t1 = (hh + (s1 & M) + (ch & M) + K[i] as u64 + w[i]) & M;
        let s0 = ((a >> 2) | (a << 30)) ^ ((a >> 13) | (a << 19)) ^ ((a >> 22) | (a << 10));
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = (s0 & M) + maj;
        hh = g;
        g = f;
        f = e;
        e = (d + t1) & M;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) & M;
        i += 1;
    }
    for (x, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
        *x = ((*x as u64 + v) & M) as u32;
    }
}

/// SHA-256 of `data` in hex.
pub fn sha256_hex(data: &[u8]) -> String {
    let mut s = Sha256::new();
    s.update(data);
    s.hex()
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic pattern for large bodies

/// The pattern repeats every `PATTERN_PERIOD` bytes: a prime, so it never lines up with buffer sizes and a lost,
/// repeated or reordered buffer changes the digest.
pub const PATTERN_PERIOD: usize = 65521;

/// Longest slice [`pattern_at`] returns.
pub const PATTERN_MAX_SLICE: usize = 65536;

fn pattern_table() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut t: Vec<u8> = (0..PATTERN_PERIOD)
            .map(|_| {
                // xorshift64
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let head: Vec<u8> = t.iter().cycle().take(PATTERN_MAX_SLICE).copied().collect();
        t.extend_from_slice(&head);
        t
    })
}

/// The `len` (≤ [`PATTERN_MAX_SLICE`]) pattern bytes starting at stream offset `offset`.
pub fn pattern_at(offset: u64, len: usize) -> &'static [u8] {
    assert!(len <= PATTERN_MAX_SLICE, "pattern_at: {len} > {PATTERN_MAX_SLICE}");
    let start = (offset % PATTERN_PERIOD as u64) as usize;
    &pattern_table()[start..start + len]
}

/// Whether `data` equals the pattern at stream offset `offset`.
pub fn is_pattern(offset: u64, data: &[u8]) -> bool {
    let mut off = offset;
    data.chunks(PATTERN_MAX_SLICE).all(|c| {
        let ok = c == pattern_at(off, c.len());
        off += c.len() as u64;
        ok
    })
}

/// SHA-256 of the first MiB of the pattern (computed with Python's hashlib; `http_large` checks it).
pub const PATTERN_SHA256_1MIB: &str = "956748f6dc9635f8ca7e136475a3a291fb64ce5be672e147b90ad4129aafcf9c";

/// SHA-256 of the first 100 MiB of the pattern (computed with Python's hashlib: hashing 100 MiB in an unoptimized
/// test build takes seconds, so the tests use this constant).
pub const PATTERN_SHA256_100MIB: &str = "d7707533bb115b46d58029628e3f5f17f8fd7e231581700958881aaaad3af78b";

/// SHA-256 (hex) of the first `len` pattern bytes; computed once per length per test binary (1 MiB and 100 MiB
/// are known constants).
pub fn pattern_sha256(len: u64) -> String {
    match len {
        0x10_0000 => return PATTERN_SHA256_1MIB.to_string(),
        0x640_0000 => return PATTERN_SHA256_100MIB.to_string(),
        _ => {}
    }
    static CACHE: OnceLock<Mutex<HashMap<u64, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut c = lock(cache); // held while computing: a second caller waits instead of hashing again
    c.entry(len)
        .or_insert_with(|| {
            let mut s = Sha256::new();
            let mut off = 0u64;
            while off < len {
                let n = (len - off).min(PATTERN_MAX_SLICE as u64) as usize;
                s.update(pattern_at(off, n));
                off += n as u64;
            }
            s.hex()
        })
        .clone()
}

// ---------------------------------------------------------------------------------------------------------------
// Buffered wire reader shared by the backend and the clients

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    Length(u64),
    Chunked,
    /// Until the peer closes (responses only).
    UntilClose,
}

/// A reader that keeps what it read past the current message (pipelining) and can record what it consumed.
pub struct Wire<R: Read> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    record: Option<Vec<u8>>,
    eof: bool,
}

impl<R: Read> Wire<R> {
    pub fn new(inner: R) -> Wire<R> {
        Wire { inner, buf: Vec::new(), pos: 0, record: None, eof: false }
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Bytes read from the peer and not consumed yet.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Reads more; Ok(0) at EOF.
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 65536 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut tmp = [0u8; 65536];
        loop {
            match self.inner.read(&mut tmp) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn consume(&mut self, n: usize) {
        if let Some(r) = &mut self.record {
            r.extend_from_slice(&self.buf[self.pos..self.pos + n]);
        }
        self.pos += n;
    }

    /// Starts recording every consumed byte (replacing an earlier record).
    pub fn start_recording(&mut self) {
        self.record = Some(Vec::new());
    }

    /// Stops recording and returns what was consumed since [`Wire::start_recording`].
    pub fn take_recording(&mut self) -> Vec<u8> {
        self.record.take().unwrap_or_default()
    }

    /// Everything up to and including `delim`. Ok(None) on EOF before any byte; an error if the message is cut or
    /// longer than `max`.
    pub fn read_until(&mut self, delim: &[u8], max: usize) -> io::Result<Option<Vec<u8>>> {
        let mut searched: usize = 0;
        loop {
            let avail = self.pending();
            let from = searched.saturating_sub(delim.len());
            if let Some(i) = avail[from..].windows(delim.len()).position(|w| w == delim) {
                let end = from + i + delim.len();
                let out = avail[..end].to_vec();
                self.consume(end);
                return Ok(Some(out));
            }
            searched = avail.len();
            if searched > max {
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("no {delim:?} in {max} bytes")));
            }
            if self.fill()? == 0 {
                return if self.pending().is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-message"))
                };
            }
        }
    }

    /// A message head (through the empty line); Ok(None) on a clean EOF.
    pub fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.read_until(b"\r\n\r\n", MAX_HEAD)
    }

    /// One CRLF-terminated line without its CRLF; EOF is an error.
    pub fn read_line(&mut self) -> io::Result<Vec<u8>> {
        match self.read_until(b"\r\n", MAX_HEAD)? {
            Some(mut l) => {
                l.truncate(l.len() - 2);
                Ok(l)
            }
            None => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed")),
        }
    }

    /// Hands `f` between 1 and `max` available bytes (reading if none); Ok(0) only at EOF.
    fn with_some(&mut self, max: usize, f: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<usize> {
        if self.pending().is_empty() && self.fill()? == 0 {
            return Ok(0);
        }
        let n = self.pending().len().min(max);
        f(&self.buf[self.pos..self.pos + n])?;
        self.consume(n);
        Ok(n)
    }

    /// Streams a body framed as `framing` to `f` (decoded: chunk framing and trailers removed); returns its length.
    pub fn read_body(&mut self, framing: Framing, f: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<u64> {
        let cut = || io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-body");
        let mut total = 0u64;
        match framing {
            Framing::None => {}
            Framing::Length(n) => {
                while total < n {
                    let got = self.with_some((n - total).min(1 << 20) as usize, f)?;
                    if got == 0 {
                        return Err(cut());
                    }
                    total += got as u64;
                }
            }
            Framing::Chunked => loop {
                let line = self.read_line()?;
                let size_text = String::from_utf8_lossy(&line);
                let size_text = size_text.split(';').next().unwrap_or("").trim();
                let size = u64::from_str_radix(size_text, 16).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size line {size_text:?}"))
                })?;
                if size == 0 {
                    while !self.read_line()?.is_empty() {} // trailers
                    break;
                }
                let mut left = size;
                while left > 0 {
                    let got = self.with_some(left.min(1 << 20) as usize, f)?;
                    if got == 0 {
                        return Err(cut());
                    }
                    left -= got as u64;
                }
                total += size;
                if !self.read_line()?.is_empty() {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "chunk data not followed by CRLF"));
                }
            },
            Framing::UntilClose => loop {
                let got = self.with_some(1 << 20, f)?;
                if got == 0 {
                    break;
                }
                total += got as u64;
            },
        }
        Ok(total)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Heads

/// `(name, value)` pairs of a head after its first line; obs-fold continuation lines are kept as their own
/// `("", line)` entry so that a test can see them.
fn parse_header_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        match line.split_once(':') {
            Some((n, v)) if !n.starts_with([' ', '\t']) => headers.push((n.to_string(), v.trim().to_string())),
            _ => headers.push((String::new(), line.to_string())),
        }
    }
    headers
}

/// Values of the headers named `name` (case-insensitive), in order.
pub fn header_values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
}

/// Whether a comma-separated header `name` lists `token` (case-insensitive), e.g. `Connection: close`.
pub fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    header_values(headers, name).iter().flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn content_length(headers: &[(String, String)]) -> Option<u64> {
    header_values(headers, "content-length").first().and_then(|v| v.trim().parse().ok())
}

/// A request as the backend received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The backend connection it came on (0, 1, … in accept order).
    pub conn: usize,
    pub method: String,
    pub path: String,
    /// `HTTP/1.1`, `HTTP/1.0`, or empty.
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// Decoded body length and SHA-256 (hex).
    pub body_len: u64,
    pub body_sha256: String,
    /// False if the body was cut or its framing invalid (or not read, for [`Behavior::NoAnswer`]).
    pub complete: bool,
}

impl Request {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_values(&self.headers, name).first().copied()
    }

    pub fn header_values(&self, name: &str) -> Vec<&str> {
        header_values(&self.headers, name)
    }

    pub fn has_token(&self, name: &str, token: &str) -> bool {
        has_token(&self.headers, name, token)
    }
}

/// A response as a client received it.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// Decoded body (chunk framing removed).
    pub body: Vec<u8>,
    /// The bytes of the whole response as received (head and framed body).
    pub raw: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_values(&self.headers, name).first().copied()
    }

    pub fn header_values(&self, name: &str) -> Vec<&str> {
        header_values(&self.headers, name)
    }

    pub fn has_token(&self, name: &str, token: &str) -> bool {
        has_token(&self.headers, name, token)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// How the body that follows this head is framed (`head_request`: the request was HEAD).
    pub fn framing(&self, head_request: bool) -> Framing {
        if head_request || (100..200).contains(&self.status) || self.status == 204 || self.status == 304 {
            Framing::None
        } else if has_token(&self.headers, "transfer-encoding", "chunked") {
            Framing::Chunked
        } else if let Some(n) = content_length(&self.headers) {
            Framing::Length(n)
        } else {
            Framing::UntilClose
        }
    }
}

fn parse_response_head(head: &[u8]) -> io::Result<Response> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("").to_string();
    let status = parts.next().and_then(|s| s.parse().ok());
    let reason = parts.next().unwrap_or("").to_string();
    match status {
        Some(status) if version.starts_with("HTTP/") => {
            Ok(Response { version, status, reason, headers: parse_header_lines(lines), ..Response::default() })
        }
        _ => Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad status line {status_line:?}"))),
    }
}

fn read_response_from<R: Read>(wire: &mut Wire<R>, head_request: bool) -> io::Result<Option<Response>> {
    wire.start_recording();
    let Some(head) = wire.read_head()? else {
        wire.take_recording();
        return Ok(None);
    };
    let mut resp = parse_response_head(&head)?;
    let mut body = Vec::new();
    wire.read_body(resp.framing(head_request), &mut |b| {
        body.extend_from_slice(b);
        Ok(())
    })?;
    resp.body = body;
    resp.raw = wire.take_recording();
    Ok(Some(resp))
}

/// The first response in `bytes` (e.g. from [`raw_exchange`]), or None if there is no complete one.
pub fn parse_response(bytes: &[u8]) -> Option<Response> {
    read_response_from(&mut Wire::new(bytes), false).ok().flatten()
}

/// Every complete response in `bytes`, in order.
pub fn parse_responses(bytes: &[u8]) -> Vec<Response> {
    let mut wire = Wire::new(bytes);
    let mut out = Vec::new();
    while let Ok(Some(r)) = read_response_from(&mut wire, false) {
        out.push(r);
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Clients

/// What one raw connection got: the bytes, whether the peer closed (EOF or reset) and when.
#[derive(Debug)]
pub struct Exchange {
    pub bytes: Vec<u8>,
    /// The peer closed (EOF or reset) before the timeout.
    pub closed: bool,
    /// From the end of the write to the close (or the timeout).
    pub elapsed: Duration,
}

impl Exchange {
    pub fn response(&self) -> Option<Response> {
        parse_response(&self.bytes)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Connects to 127.0.0.1:`port`, writes `bytes` (a write error, e.g. the proxy already closed, is ignored), then
/// reads until EOF, reset or `timeout`.
pub fn raw_session(port: u16, bytes: &[u8], timeout: Duration) -> Exchange {
    let mut s = TcpStream::connect_timeout(&loopback(port), IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
    let _ = s.set_nodelay(true);
    let _ = s.set_write_timeout(Some(timeout.max(Duration::from_millis(10))));
    let _ = s.write_all(bytes);
    let t0 = Instant::now();
    let deadline = t0 + timeout;
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let mut closed = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => break,
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    Exchange { bytes: out, closed, elapsed: t0.elapsed() }
}

/// Writes `bytes` to 127.0.0.1:`port` and returns everything read until EOF/reset or `timeout`.
pub fn raw_exchange(port: u16, bytes: &[u8], timeout: Duration) -> Vec<u8> {
    raw_session(port, bytes, timeout).bytes
}

/// `GET path HTTP/1.1` with a Host header and any `extra` header lines (each `Name: value`).
pub fn get_request(path: &str, extra: &[&str]) -> String {
    let mut r = format!("GET {path} HTTP/1.1\r\nHost: test.local\r\n");
    for h in extra {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

/// A client connection that can carry several requests (keep-alive, pipelining).
pub struct HttpConn {
    wire: Wire<TcpStream>,
}

impl HttpConn {
    pub fn open(port: u16) -> io::Result<HttpConn> {
        let s = TcpStream::connect_timeout(&loopback(port), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        let _ = s.set_nodelay(true);
        Ok(HttpConn { wire: Wire::new(s) })
    }

    pub fn stream(&self) -> &TcpStream {
        self.wire.get_ref()
    }

    pub fn local_port(&self) -> u16 {
        self.stream().local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn set_timeouts(&self, t: Duration) {
        let _ = self.stream().set_read_timeout(Some(t));
        let _ = self.stream().set_write_timeout(Some(t));
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.wire.get_mut().write_all(bytes)
    }

    /// The next response (its body read according to its framing); EOF before it is an error.
    pub fn read_response(&mut self) -> io::Result<Response> {
        self.read_response_to(false)
    }

    /// Like [`HttpConn::read_response`]; `head_request` says the request was HEAD (no body follows).
    pub fn read_response_to(&mut self, head_request: bool) -> io::Result<Response> {
        read_response_from(&mut self.wire, head_request)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed before a response"))
    }

    /// The next final response, skipping interim (1xx) ones.
    pub fn read_final_response(&mut self) -> io::Result<Response> {
        loop {
            let r = self.read_response()?;
            if !(100..200).contains(&r.status) || r.status == 101 {
                return Ok(r);
            }
        }
    }

    /// Only the next head; the body is left for [`HttpConn::read_body_with`].
    pub fn read_head(&mut self) -> io::Result<Response> {
        let head = self
            .wire
            .read_head()?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed before a response"))?;
        parse_response_head(&head)
    }

    /// Streams the body that follows `head` to `f`; returns its decoded length.
    pub fn read_body_with(&mut self, head: &Response, f: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<u64> {
        self.wire.read_body(head.framing(false), f)
    }

    /// Sends `GET path` (Host header and `extra` header lines) and reads the response.
    pub fn get(&mut self, path: &str, extra: &[&str]) -> io::Result<Response> {
        self.send(get_request(path, extra).as_bytes())?;
        self.read_response()
    }

    /// Up to `n` bytes that arrive within the read timeout (raw, e.g. inside a tunnel); fewer only at EOF.
    pub fn read_exact_bytes(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let want = n - out.len();
            let got = self.wire.with_some(want, &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            });
            if got? == 0 {
                break;
            }
        }
        Ok(out)
    }

    /// True if the peer closes (EOF or reset) within `timeout` without sending anything more; false if it sends
    /// bytes or stays open.
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        if !self.wire.pending().is_empty() {
            return false;
        }
        let _ = self.stream().set_read_timeout(Some(timeout.max(Duration::from_millis(1))));
        let r = self.wire.fill();
        let _ = self.stream().set_read_timeout(Some(IO_TIMEOUT));
        match r {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
        }
    }

    pub fn shutdown_write(&self) -> io::Result<()> {
        self.stream().shutdown(Shutdown::Write)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The backend

/// What an [`HttpBackend`] does with each request. Unless said otherwise the response is `200 OK` with body = the
/// backend's name, `Content-Length` framing, keep-alive unless the request asks to close (`Connection: close`, or
/// HTTP/1.0 without `Connection: keep-alive`). Every response carries `X-Server: NAME`, `X-Path: PATH`,
/// `X-Conn: N` (backend connection number) and `X-Seq: N` (request number on that connection).
/// A request with `Expect: 100-continue` and a body first gets `HTTP/1.1 100 Continue`.
#[derive(Debug, Clone)]
pub enum Behavior {
    KeepAlive,
    /// Like KeepAlive but always `Connection: close`, and closes after the response.
    Close,
    /// `Transfer-Encoding: chunked` with these chunks (empty ones are skipped: an empty chunk ends the body).
    Chunked(Vec<Vec<u8>>),
    /// This status, body = name (e.g. 500 for failing health checks).
    Status(u16),
    /// Echoes the request body, streamed, with the request's framing (CL → same CL, chunked → chunked).
    Echo,
    /// Reads the whole body (streamed, not stored) and answers `LEN SHA256HEX`.
    Digest,
    /// `Content-Length: N` body of N pattern bytes ([`pattern_at`]), streamed.
    Large(u64),
    /// Sleeps this long after reading the request, then answers like KeepAlive.
    Delay(Duration),
    /// A request with `Upgrade:` gets `101 Switching Protocols` (with `Sec-WebSocket-Accept:` [`WS_ACCEPT`], the
    /// answer to [`WS_KEY`]), then the line `hello from NAME\n`, then every byte received is echoed back until the
    /// peer closes. Other requests as KeepAlive.
    Upgrade,
    /// Reads the request head, then closes without answering.
    NoAnswer,
    /// Reads the request, answers `HTTP/1.1 abc\r\nContent-Length: 0\r\n\r\n` (no valid status), waits for the
    /// proxy to close.
    Malformed,
    /// Like KeepAlive, with these extra response header lines (each `Name: value`), e.g. `Set-Cookie: a=b`.
    Headers(Vec<String>),
}

/// RFC 6455's sample `Sec-WebSocket-Key` and the `Sec-WebSocket-Accept` that answers it (HAProxy 2.6 refuses a
/// WebSocket upgrade without them).
pub const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct Shared {
    name: String,
    behavior: Mutex<Behavior>,
    requests: Mutex<Vec<Request>>,
    conns: AtomicUsize,
    sessions: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    stop: AtomicBool,
}

impl Shared {
    fn enter(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        let _ = self.in_flight.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1));
    }

    /// Sleeps `d`, or less if the backend is being stopped.
    fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.stop.load(Ordering::SeqCst) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            thread::sleep(left.min(Duration::from_millis(10)));
        }
    }
}

/// A threaded HTTP/1.1 backend on 127.0.0.1 (one thread per connection, at most 256) whose behaviour can be
/// changed while it runs. Counts accepted connections and in-flight requests and logs every request it got.
pub struct HttpBackend {
    pub name: String,
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    shared: Arc<Shared>,
    running: Option<Running>,
}

impl HttpBackend {
    pub fn start(name: &str, behavior: Behavior) -> HttpBackend {
        let listener = bind_retry(0);
        let port = listener.local_addr().expect("local_addr").port();
        reserve_port(port);
        let shared = Arc::new(Shared {
            name: name.to_string(),
            behavior: Mutex::new(behavior),
            requests: Mutex::default(),
            conns: AtomicUsize::new(0),
            sessions: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let mut b = HttpBackend { name: name.to_string(), port, accepted: Arc::default(), shared, running: None };
        b.run(listener);
        b
    }

    fn run(&mut self, listener: TcpListener) {
        self.shared.stop.store(false, Ordering::SeqCst);
        let shared = self.shared.clone();
        let handle = Arc::new(move |s: TcpStream| {
            let id = shared.conns.fetch_add(1, Ordering::SeqCst);
            if shared.sessions.fetch_add(1, Ordering::SeqCst) < MAX_SESSIONS {
                session(s, &shared, id);
            }
            shared.sessions.fetch_sub(1, Ordering::SeqCst);
        });
        self.running = Some(accept_loop(listener, self.accepted.clone(), handle));
    }

    /// Changes what later requests get.
    pub fn set_behavior(&self, b: Behavior) {
        *lock(&self.shared.behavior) = b;
    }

    /// Connections accepted so far (health checks included).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Requests being served now (from the end of the request head to the start of the response).
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Highest [`HttpBackend::in_flight`] seen.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every request received so far (health checks included), in the order they were finished reading.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// The received requests other than health checks (`/check.html`).
    pub fn traffic(&self) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.path != "/check.html").collect()
    }

    /// The received requests for `path`.
    pub fn requests_for(&self, path: &str) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }

    /// Stops listening (the port then refuses connections) and resets the open connections.
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(r) = self.running.take() {
            r.shut();
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "restart of a running HttpBackend");
        let listener = bind_retry(self.port);
        self.run(listener);
    }
}

impl Drop for HttpBackend {
    fn drop(&mut self) {
        self.stop();
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// `(name, value)` pairs in received order.
pub type Headers = Vec<(String, String)>;

/// `(method, path, version, headers)` of a request head.
fn parse_request_head(head: &[u8]) -> Option<(String, String, String, Headers)> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let line = lines.next()?;
    let mut parts = line.split(' ');
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let version = parts.next().unwrap_or("").to_string();
    if method.is_empty() {
        return None;
    }
    Some((method, path, version, parse_header_lines(lines)))
}

fn request_framing(headers: &[(String, String)]) -> Framing {
    if !header_values(headers, "transfer-encoding").is_empty() {
        Framing::Chunked
    } else {
        match content_length(headers) {
            Some(0) | None => Framing::None,
            Some(n) => Framing::Length(n),
        }
    }
}

/// One backend connection: requests in a loop until the peer closes, a response closes, or the backend stops.
fn session(stream: TcpStream, shared: &Shared, conn: usize) {
    let Ok(mut out) = stream.try_clone() else { return };
    let _ = stream.set_nodelay(true);
    let mut wire = Wire::new(stream);
    let mut seq = 0usize;
    while !shared.stop.load(Ordering::SeqCst) {
        let head = match wire.read_head() {
            Ok(Some(h)) => h,
            _ => return,
        };
        let Some((method, path, version, headers)) = parse_request_head(&head) else {
            let _ = out.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        };
        let behavior = lock(&shared.behavior).clone();
        let is_head = method == "HEAD";
        let close_asked = has_token(&headers, "connection", "close")
            || (version != "HTTP/1.1" && !has_token(&headers, "connection", "keep-alive"));
        let framing = request_framing(&headers);
        let mut req =
            Request { conn, method, path, version, headers, body_len: 0, body_sha256: String::new(), complete: false };
        shared.enter();
        if framing != Framing::None && has_token(&req.headers, "expect", "100-continue") {
            let _ = out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let record = |req: Request| lock(&shared.requests).push(req);
        let mut close = close_asked;
        let path = req.path.clone();
        let common = |close: bool| {
            format!(
                "X-Server: {}\r\nX-Path: {path}\r\nX-Conn: {conn}\r\nX-Seq: {seq}\r\n{}",
                shared.name,
                if close { "Connection: close\r\n" } else { "" }
            )
        };
        let mut sha = Sha256::new();

        // Behaviours that stream while reading the body, or do not read it at all.
        match &behavior {
            Behavior::NoAnswer => {
                shared.leave();
                record(req);
                return;
            }
            Behavior::Echo => {
                let (hdr, body_framing) = match framing {
                    Framing::Chunked => ("Transfer-Encoding: chunked\r\n".to_string(), true),
                    Framing::Length(n) => (format!("Content-Length: {n}\r\n"), false),
                    _ => ("Content-Length: 0\r\n".to_string(), false),
                };
                let head = format!("HTTP/1.1 200 OK\r\n{hdr}{}\r\n", common(close));
                shared.leave();
                let mut ok = out.write_all(head.as_bytes()).is_ok();
                let r = wire.read_body(framing, &mut |b| {
                    sha.update(b);
                    if body_framing {
                        out.write_all(format!("{:x}\r\n", b.len()).as_bytes())?;
                        out.write_all(b)?;
                        out.write_all(b"\r\n")
                    } else {
                        out.write_all(b)
                    }
                });
                req.complete = r.is_ok();
                if body_framing && r.is_ok() {
                    ok &= out.write_all(b"0\r\n\r\n").is_ok();
                }
                req.body_len = sha.len();
                req.body_sha256 = sha.hex();
                record(req);
                if !ok || r.is_err() || close {
                    let _ = out.shutdown(Shutdown::Write);
                    return;
                }
                seq += 1;
                continue;
            }
            _ => {}
        }

        let r = wire.read_body(framing, &mut |b| {
            sha.update(b);
            Ok(())
        });
        req.complete = r.is_ok();
        req.body_len = sha.len();
        let body_sha = sha.hex();
        req.body_sha256 = body_sha.clone();
        let wants_upgrade = !req.header_values("upgrade").is_empty();
        record(req);
        if r.is_err() {
            shared.leave();
            let _ = out.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = out.shutdown(Shutdown::Write);
            return;
        }
        let name = shared.name.as_bytes();
        let ok = match &behavior {
            Behavior::NoAnswer | Behavior::Echo => unreachable!(),
            Behavior::KeepAlive | Behavior::Close | Behavior::Status(_) | Behavior::Delay(_) | Behavior::Headers(_) => {
                let extra: String = match &behavior {
                    Behavior::Headers(h) => h.iter().map(|l| format!("{l}\r\n")).collect(),
                    _ => String::new(),
                };
                let status = match &behavior {
                    Behavior::Status(s) => *s,
                    Behavior::Delay(d) => {
                        shared.sleep(*d);
                        200
                    }
                    Behavior::Close => {
                        close = true;
                        200
                    }
                    _ => 200,
                };
                shared.leave();
                let head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{extra}{}\r\n",
                    reason(status),
                    name.len(),
                    common(close)
                );
                out.write_all(head.as_bytes()).is_ok() && (is_head || out.write_all(name).is_ok())
            }
            Behavior::Digest => {
                let body = format!("{} {body_sha}", r.unwrap_or(0));
                shared.leave();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n",
                    body.len(),
                    common(close)
                );
                out.write_all(head.as_bytes()).is_ok() && (is_head || out.write_all(body.as_bytes()).is_ok())
            }
            Behavior::Chunked(chunks) => {
                shared.leave();
                let mut resp =
                    format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{}\r\n", common(close)).into_bytes();
                if !is_head {
                    for c in chunks.iter().filter(|c| !c.is_empty()) {
                        resp.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                        resp.extend_from_slice(c);
                        resp.extend_from_slice(b"\r\n");
                    }
                    resp.extend_from_slice(b"0\r\n\r\n");
                }
                out.write_all(&resp).is_ok()
            }
            Behavior::Large(n) => {
                let n = *n;
                shared.leave();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\n{}\r\n",
                    common(close)
                );
                let mut ok = out.write_all(head.as_bytes()).is_ok();
                let mut off = 0u64;
                while ok && !is_head && off < n {
                    let len = (n - off).min(PATTERN_MAX_SLICE as u64) as usize;
                    ok = out.write_all(pattern_at(off, len)).is_ok();
                    off += len as u64;
                }
                ok
            }
            Behavior::Upgrade if wants_upgrade => {
                shared.leave();
                let head = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                     Sec-WebSocket-Accept: {WS_ACCEPT}\r\n{}\r\n",
                    common(false)
                );
                if out.write_all(head.as_bytes()).is_err()
                    || out.write_all(format!("hello from {}\n", shared.name).as_bytes()).is_err()
                {
                    return;
                }
                // Tunnel: echo until EOF (what the proxy already read past the head included).
                let _ = wire.read_body(Framing::UntilClose, &mut |b| out.write_all(b));
                let _ = out.shutdown(Shutdown::Write);
                return;
            }
            Behavior::Upgrade => {
                shared.leave();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n",
                    name.len(),
                    common(close)
                );
                out.write_all(head.as_bytes()).is_ok() && (is_head || out.write_all(name).is_ok())
            }
            Behavior::Malformed => {
                shared.leave();
                let _ = out.write_all(b"HTTP/1.1 abc\r\nContent-Length: 0\r\n\r\n");
                let _ = wire.get_ref().set_read_timeout(Some(Duration::from_secs(5)));
                let _ = wire.read_body(Framing::UntilClose, &mut |_| Ok(()));
                return;
            }
        };
        if !ok || close {
            let _ = out.shutdown(Shutdown::Write);
            return;
        }
        seq += 1;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// httplog lines

/// The fields of an `option httplog` line (no captures configured):
/// `client [accept_date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes req_cookie resp_cookie state
/// ac/fc/bc/sc/rc sq/bq "request line"`.
#[derive(Debug, Clone)]
pub struct HttpLog {
    pub client: SocketAddr,
    pub accept_date: String,
    pub frontend: String,
    pub backend: String,
    pub server: String,
    /// The five timers, as written (`-1` = not reached; `+` prefix kept).
    pub timers: Vec<String>,
    pub status: i32,
    pub bytes: u64,
    pub req_cookie: String,
    pub resp_cookie: String,
    pub state: String,
    pub conns: String,
    pub queues: String,
    /// The request line without its quotes.
    pub request: String,
}

/// Finds the httplog fields anywhere in `line` (with or without the syslog header).
pub fn parse_httplog(line: &str) -> Option<HttpLog> {
    let t: Vec<&str> = line.split_whitespace().collect();
    let i = (0..t.len().saturating_sub(1))
        .find(|&i| t[i].parse::<SocketAddr>().is_ok() && t[i + 1].starts_with('[') && t[i + 1].ends_with(']'))?;
    let f = t.get(i..i + 12)?;
    let (backend, server) = f[3].split_once('/')?;
    let q1 = line.find('"')?;
    let q2 = line.rfind('"')?;
    if q2 <= q1 {
        return None;
    }
    Some(HttpLog {
        client: f[0].parse().ok()?,
        accept_date: f[1].trim_matches(['[', ']']).to_string(),
        frontend: f[2].to_string(),
        backend: backend.to_string(),
        server: server.to_string(),
        timers: f[4].split('/').map(str::to_string).collect(),
        status: f[5].parse().ok()?,
        bytes: f[6].trim_start_matches('+').parse().ok()?,
        req_cookie: f[7].to_string(),
        resp_cookie: f[8].to_string(),
        state: f[9].to_string(),
        conns: f[10].to_string(),
        queues: f[11].to_string(),
        request: line[q1 + 1..q2].to_string(),
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Memory of the proxy's workers

/// `VmRSS` of `pid` in KiB (None if gone).
pub fn rss_kib(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples the largest `VmRSS` of a set of pids every 50 ms in a background thread until dropped or
/// [`RssSampler::finish`]ed.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max_kib: Arc<AtomicUsize>,
    samples: Arc<AtomicUsize>,
    thread: Option<thread::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start(pids: Vec<i32>) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max_kib = Arc::new(AtomicUsize::new(0));
        let samples = Arc::new(AtomicUsize::new(0));
        let (stop2, max2, samples2) = (stop.clone(), max_kib.clone(), samples.clone());
        let thread = thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                for p in &pids {
                    if let Some(k) = rss_kib(*p) {
                        max2.fetch_max(k as usize, Ordering::SeqCst);
                        samples2.fetch_add(1, Ordering::SeqCst);
                    }
                }
                thread::sleep(Duration::from_millis(50));
            }
        });
        RssSampler { stop, max_kib, samples, thread: Some(thread) }
    }

    /// Stops sampling; returns (largest RSS in KiB, number of samples).
    pub fn finish(mut self) -> (u64, usize) {
        self.halt();
        (self.max_kib.load(Ordering::SeqCst) as u64, self.samples.load(Ordering::SeqCst))
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.halt();
    }
}

/// One request on a new connection: `GET path` with `Host: host` and `extra` header lines.
pub fn get_host(port: u16, path: &str, host: &str, extra: &[&str]) -> Response {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n");
    for h in extra {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    let mut c = HttpConn::open(port).unwrap_or_else(|e| panic!("connect to :{port}: {e}"));
    c.send(req.as_bytes()).unwrap_or_else(|e| panic!("send GET {path}: {e}"));
    c.read_response().unwrap_or_else(|e| panic!("GET {path} (Host: {host}) via :{port}: {e}"))
}

/// One request on a new connection with `Host: test.local` and `extra` header lines.
pub fn get(port: u16, path: &str, extra: &[&str]) -> Response {
    get_host(port, path, "test.local", extra)
}
