//! splice(2) in `mode tcp` (SPEC §4): `option splice-auto|request|response` move bytes socket → pipe → socket,
//! byte-exact both ways, with half-close and slow readers as when copying; `maxpipes` bounds the pipes (copying
//! beyond it); `nosplice` and `-dS` turn it all off.
//!
//! That splice is really used is seen from outside: pipe descriptors in the worker's `/proc/PID/fd`, and
//! `show info`'s `PipesUsed`, which counts pipes holding bytes — while a reader stalls, a direction that
//! splices keeps its bytes in a pipe, one that copies keeps them in a buffer.

mod support;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::*;

const MIB: usize = 1 << 20;

/// How long a transfer may take (generous: the machine is shared).
const XFER_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------------------------
// Data: a reproducible byte stream, checked position by position at the receiver.

/// Pseudo-random bytes from a seed (xorshift64*), the same on both ends.
struct Gen {
    state: u64,
    word: [u8; 8],
    used: usize,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen { state: seed | 1, word: [0; 8], used: 8 }
    }

    fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            if self.used == 8 {
                self.state ^= self.state >> 12;
                self.state ^= self.state << 25;
                self.state ^= self.state >> 27;
                self.word = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
                self.used = 0;
            }
            *b = self.word[self.used];
            self.used += 1;
        }
    }
}

/// FNV-1a over a byte stream, to compare what was sent with what a server saw.
#[derive(Clone, Copy)]
struct Digest(u64);

impl Digest {
    fn new() -> Digest {
        Digest(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Writes `len` bytes of `Gen::new(seed)` to `w` in 64 KiB writes; returns their digest.
fn send_stream(w: &mut impl Write, seed: u64, len: usize) -> io::Result<Digest> {
    let mut g = Gen::new(seed);
    let mut d = Digest::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        g.fill(&mut chunk[..n]);
        d.update(&chunk[..n]);
        w.write_all(&chunk[..n])?;
        left -= n;
    }
    Ok(d)
}

/// Reads `r` to EOF, checking every byte against `Gen::new(seed)`; `pace` is called with the count so far before
/// each read (to read slowly). Returns the bytes read; panics at the first wrong byte.
fn check_stream(r: &mut impl Read, seed: u64, mut pace: impl FnMut(usize)) -> usize {
    let mut g = Gen::new(seed);
    let mut buf = vec![0u8; 64 * 1024];
    let mut want = vec![0u8; 64 * 1024];
    let mut total = 0usize;
    loop {
        pace(total);
        let n = match r.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("read after {total} bytes: {e}"),
        };
        g.fill(&mut want[..n]);
        if let Some(i) = (0..n).find(|&i| buf[i] != want[i]) {
            panic!("byte {} differs: got {:#04x}, want {:#04x}", total + i, buf[i], want[i]);
        }
        total += n;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Backends: each runs `handle` on every accepted connection, in a thread of its own, for the test binary's life.

fn backend(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let port = free_port();
    let listener = TcpListener::bind(loopback(port)).expect("bind backend");
    let handle = Arc::new(handle);
    thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(s) = s else { return };
            let _ = s.set_read_timeout(Some(XFER_TIMEOUT));
            let _ = s.set_write_timeout(Some(XFER_TIMEOUT));
            let h = handle.clone();
            thread::spawn(move || h(s));
        }
    });
    port
}

/// Sends back every byte it receives; passes the client's FIN on once all is echoed.
fn echo_backend() -> u16 {
    backend(|s| {
        let Ok(mut w) = s.try_clone() else { return };
        let mut r = s;
        if io::copy(&mut r, &mut w).is_ok() {
            let _ = w.shutdown(Shutdown::Write);
        }
    })
}

/// Waits `delay`, reads until EOF, then answers `LEN DIGEST\n` and closes (the reply needs the half-close to get
/// through).
fn digest_backend(delay: Duration) -> u16 {
    backend(move |mut s| {
        thread::sleep(delay);
        let mut d = Digest::new();
        let mut n = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => {
                    d.update(&buf[..k]);
                    n += k;
                }
                Err(_) => return,
            }
        }
        let _ = s.write_all(format!("{n} {:016x}\n", d.0).as_bytes());
    })
}

/// On connect, sends `len` bytes of `Gen::new(seed)` and closes.
fn source_backend(seed: u64, len: usize) -> u16 {
    backend(move |mut s| {
        let _ = send_stream(&mut s, seed, len);
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The proxy and what we see of it.

struct Setup {
    proxy: Proxy,
    port: u16,
    sock: PathBuf,
    _sockdir: TempDir,
}

impl Setup {
    /// nbproxy with one `mode tcp` frontend on a fresh port whose traffic goes to `server_port`: `global_extra`
    /// goes in `global`, `fe_extra` in the frontend, `be_extra` in the backend. `args` are extra command-line flags.
    fn start(global_extra: &str, fe_extra: &str, be_extra: &str, server_port: u16, args: &[&str]) -> Setup {
        let port = free_port();
        let sockdir = TempDir::new("sock");
        let sock = sockdir.join("stats.sock");
        let cfg = format!(
            "global\n    stats socket {sock} level admin\n{global_extra}\n\
             defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\n\
             frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n{fe_extra}\n\n\
             backend be\n    server s1 127.0.0.1:{server_port}\n{be_extra}\n",
            sock = sock.display(),
        );
        let mut proxy = Proxy::start_with(&cfg, args);
        proxy.wait_listening(port);
        proxy.wait_workers(1, START_TIMEOUT);
        assert!(wait_until(START_TIMEOUT, || sock.exists()), "no stats socket at {}", sock.display());
        Setup { proxy, port, sock, _sockdir: sockdir }
    }

    fn connect(&self) -> TcpStream {
        let c = TcpStream::connect(loopback(self.port)).expect("connect to nbproxy");
        c.set_read_timeout(Some(XFER_TIMEOUT)).unwrap();
        c.set_write_timeout(Some(XFER_TIMEOUT)).unwrap();
        c
    }

    fn worker(&self) -> i32 {
        self.proxy.wait_workers(1, START_TIMEOUT)[0]
    }

    /// Pipe descriptors the worker holds (two per pipe).
    fn pipe_fds(&self) -> usize {
        pipe_fds(self.worker())
    }

    /// A `show info` field as a number.
    fn info(&self, field: &str) -> u64 {
        let out = cli(&self.sock, "show info");
        let prefix = format!("{field}: ");
        out.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no numeric {field} in show info:\n{out}"))
    }
}

fn pipe_fds(pid: i32) -> usize {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return 0 };
    dir.flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("pipe:")))
        .count()
}

fn cli(sock: &Path, cmd: &str) -> String {
    stats_cli(sock, cmd)
}

/// Sends `len` bytes through `s.port` to an echo backend while reading the echo back, concurrently; checks
/// every byte and the close after the last.
fn echo_both_ways(s: &Setup, seed: u64, len: usize) {
    let c = s.connect();
    let mut w = c.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let d = send_stream(&mut w, seed, len);
        let _ = w.shutdown(Shutdown::Write);
        d
    });
    let started = Instant::now();
    let got = check_stream(&mut &c, seed, |_| assert!(started.elapsed() < XFER_TIMEOUT, "transfer too slow"));
    sender.join().unwrap().expect("sending");
    assert_eq!(got, len, "echoed bytes");
}

/// Uploads `len` bytes, half-closes, and returns the digest backend's answer and the expected one.
fn upload(s: &Setup, seed: u64, len: usize) -> (String, String) {
    let mut c = s.connect();
    let d = send_stream(&mut c, seed, len).expect("upload");
    c.shutdown(Shutdown::Write).unwrap();
    let mut line = String::new();
    BufReader::new(&c).read_line(&mut line).expect("digest line");
    (line.trim_end().to_string(), format!("{len} {:016x}", d.0))
}

// ---------------------------------------------------------------------------------------------------------------

#[test]
fn splice_auto_carries_64_mib_both_ways_byte_exact() {
    let s = Setup::start("", "    option splice-auto", "", echo_backend(), &[]);
    let before = s.pipe_fds();
    assert_eq!(s.info("Maxpipes"), 4096 / 4, "default maxpipes is maxconn/4");
    echo_both_ways(&s, 1, 64 * MIB);
    // A direction that went bulk took a pipe (both do as a rule; on a loaded machine reads may come short and
    // one direction may stay copying); empty pipes stay in the worker's pool.
    assert!(wait_until(Duration::from_secs(5), || s.info("PipesUsed") == 0), "pipes still in use after the end");
    let pooled = s.info("PipesFree");
    assert!((1..=2).contains(&pooled), "at most one pipe per direction, kept once empty: {pooled}");
    assert_eq!(s.pipe_fds(), before + 2 * pooled as usize, "the worker holds the pooled pipes");
    // A second session reuses them (and never needs more than one per direction).
    echo_both_ways(&s, 2, 8 * MIB);
    assert!(wait_until(Duration::from_secs(5), || s.info("PipesUsed") == 0));
    let after = s.info("PipesFree");
    assert!((pooled..=2).contains(&after), "pooled pipes are reused, not recreated: {pooled} then {after}");
    assert_eq!(s.pipe_fds(), before + 2 * after as usize, "no pipe descriptor leaked");
}

#[test]
fn splice_request_uploads_byte_exact_and_the_reply_follows_the_half_close() {
    // The server starts reading only after a second: meanwhile the kernel buffers fill and the rest of the
    // upload waits in the request direction's pipe.
    let s = Arc::new(Setup::start("", "    option splice-request", "", digest_backend(Duration::from_secs(1)), &[]));
    let s2 = s.clone();
    let up = thread::spawn(move || upload(&s2, 3, 48 * MIB + 12345));
    assert!(
        wait_until(Duration::from_secs(10), || s.info("PipesUsed") == 1),
        "no pipe holds bytes while the server does not read: splice is not used"
    );
    let (got, want) = up.join().expect("upload");
    assert_eq!(got, want, "what the server saw");
    // Only the request direction splices: one pipe, back in the pool.
    assert!(wait_until(Duration::from_secs(5), || s.info("PipesUsed") == 0));
    assert_eq!(s.info("PipesFree"), 1);
    // Small requests splice too (splice-request does not wait for a bulk transfer).
    let (got, want) = upload(&s, 4, 10);
    assert_eq!(got, want);
}

#[test]
fn splice_response_downloads_byte_exact_and_a_stalled_reader_holds_bytes_in_a_pipe() {
    let len = 24 * MIB + 7;
    let s = Setup::start("", "", "    option splice-response", source_backend(5, len), &[]);
    let mut c = s.connect();
    // The client does not read: the kernel buffers fill, the rest waits in the response direction's pipe.
    assert!(
        wait_until(Duration::from_secs(10), || s.info("PipesUsed") == 1),
        "no pipe holds bytes while the reader stalls: splice is not used"
    );
    // Then a slow reader (64 KiB every 2 ms for the first 4 MiB), then full speed: nothing lost or reordered.
    let got = check_stream(&mut c, 5, |n| {
        if n < 4 * MIB {
            thread::sleep(Duration::from_millis(2));
        }
    });
    assert_eq!(got, len);
    assert!(wait_until(Duration::from_secs(5), || s.info("PipesUsed") == 0));
    assert_eq!(s.info("PipesFree"), 1);
}

#[test]
fn splice_auto_switches_to_splicing_for_a_bulk_download_and_survives_a_slow_reader() {
    let len = 32 * MIB;
    let s = Setup::start("", "    option splice-auto", "", source_backend(6, len), &[]);
    let mut c = s.connect();
    // Read the first MiB at full speed (a bulk transfer: splice-auto switches), then stall.
    let mut first = vec![0u8; MIB];
    c.read_exact(&mut first).expect("first MiB");
    let mut want = vec![0u8; MIB];
    let mut g = Gen::new(6);
    g.fill(&mut want);
    assert!(first == want, "first MiB differs");
    assert!(
        wait_until(Duration::from_secs(10), || s.info("PipesUsed") == 1),
        "no pipe holds bytes while the reader stalls: splice-auto did not switch"
    );
    // The rest, slowly at first, checked against the same stream from where it stands.
    let mut total = MIB;
    let mut buf = vec![0u8; 64 * 1024];
    let mut exp = vec![0u8; 64 * 1024];
    loop {
        if total < 4 * MIB {
            thread::sleep(Duration::from_millis(2));
        }
        let n = c.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        g.fill(&mut exp[..n]);
        assert!(buf[..n] == exp[..n], "bytes differ after offset {total}");
        total += n;
    }
    assert_eq!(total, len);
}

#[test]
fn half_close_with_splice_still_gets_the_reply() {
    let web01 = BannerServer::start("web01");
    let s = Setup::start("", "    option splice-request\n    option splice-response", "", web01.port, &[]);
    let mut c = Conn::open(s.port).unwrap();
    assert_eq!(c.banner().unwrap(), "web01");
    c.send("hello\n").unwrap();
    c.shutdown_write().unwrap();
    // The FIN follows the spliced line; the server answers, sees EOF and closes.
    assert_eq!(c.read_rest().expect("reading after half-close"), "web01: hello\n");
    assert!(s.info("PipesFree") >= 1, "no pipe was used");
}

#[test]
fn a_pipe_still_holding_bytes_is_closed_not_pooled() {
    let s = Setup::start("", "", "    option splice-response", source_backend(7, 32 * MIB), &[]);
    let before = s.pipe_fds();
    let c = s.connect();
    assert!(wait_until(Duration::from_secs(10), || s.info("PipesUsed") == 1), "no pipe holds bytes");
    assert_eq!(s.pipe_fds(), before + 2);
    // The client leaves with bytes unread (a reset): the session ends with its pipe full.
    drop(c);
    assert!(wait_until(Duration::from_secs(5), || s.info("PipesUsed") == 0), "pipe still in use");
    assert_eq!(s.info("PipesFree"), 0, "a pipe with leftover bytes must not go back to the pool");
    assert!(wait_until(Duration::from_secs(2), || s.pipe_fds() == before), "the pipe was not closed");
}

#[test]
fn maxpipes_bounds_the_pipes_and_the_rest_copies() {
    let s = Setup::start("    maxpipes 1", "    option splice-auto", "", echo_backend(), &[]);
    assert_eq!(s.info("Maxpipes"), 1);
    let before = s.pipe_fds();
    let worker = s.worker();
    let s = Arc::new(s);
    let clients: Vec<_> = (0..3)
        .map(|i| {
            let s = s.clone();
            thread::spawn(move || echo_both_ways(&s, 10 + i, 16 * MIB))
        })
        .collect();
    let mut most = 0;
    while !clients.iter().all(|c| c.is_finished()) {
        most = most.max(pipe_fds(worker));
        thread::sleep(Duration::from_millis(1));
    }
    for c in clients {
        c.join().expect("a transfer failed");
    }
    assert!(most <= before + 2, "more than maxpipes pipes: {most} pipe fds (had {before})");
    assert!(wait_until(Duration::from_secs(5), || s.info("PipesUsed") == 0));
    assert_eq!(s.info("PipesFree"), 1, "the one pipe was used and kept");
}

#[test]
fn nosplice_copies_and_still_works() {
    let s = Setup::start("    nosplice", "    option splice-auto\n    option splice-request", "", echo_backend(), &[]);
    let before = s.pipe_fds();
    assert_eq!(s.info("Maxpipes"), 0);
    echo_both_ways(&s, 20, 16 * MIB);
    assert_eq!(s.info("PipesFree"), 0);
    assert_eq!(s.pipe_fds(), before, "nosplice: no pipe may be created");
}

#[test]
fn dash_ds_disables_splice() {
    let s = Setup::start("", "", "    option splice-response\n    option splice-auto", echo_backend(), &["-dS"]);
    let before = s.pipe_fds();
    echo_both_ways(&s, 21, 16 * MIB);
    assert_eq!(s.info("PipesUsed") + s.info("PipesFree"), 0);
    assert_eq!(s.pipe_fds(), before, "-dS: no pipe may be created");
}
