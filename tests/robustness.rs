//! Hostile input never crashes a worker or the master (SPEC quality bar: "bad input never crashes a worker or
//! loses data"). One daemon (`nbproc 1`) with many features on at once — HTTP keep-alive, cookies, ACLs, header
//! rules, `option forwardfor`, a stats page with admin, `accept-proxy`, a `mode tcp` listen with splice-auto, a
//! stats socket and stick-table tracking — gets random bytes, mutated requests, broken PROXY headers, garbage
//! backend responses, junk stats socket lines and junk stats page queries, on many connections (some at once).
//! After each batch: the same worker pid, the master alive, every frontend still serving, no `panicked at` in the
//! daemon's stderr.
//!
//! Deterministic: a seeded xorshift generator. `NBPROXY_ROBUST_ITERS` (default 40) sets the cases per batch and
//! `NBPROXY_ROBUST_SEED` the seed, for longer local hunts.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::http::*;
use support::*;

/// xorshift64*: small, seeded, good enough to pick mutations.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn junk(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        self.bytes(n)
    }
    fn junk1(&mut self, max: usize) -> Vec<u8> {
        let n = 1 + self.below(max);
        self.bytes(n)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn iters() -> usize {
    std::env::var("NBPROXY_ROBUST_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
}

fn seed() -> u64 {
    std::env::var("NBPROXY_ROBUST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_cafe)
}

/// A backend answering each connection with one of `RESPONSES` (after reading what comes within a short while),
/// chosen by a counter, then closing (or half-closing, or resetting).
struct GarbageBackend {
    port: u16,
}

fn garbage_responses() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"garbage\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nabc".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=\"x\r\nabc\r\n0;a=b\r\nX-T: y\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabc".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nabc".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".to_vec(),
        b"HTTP/1.1 99999 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 1 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
        b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw".to_vec(),
        b"HTTP/1.1 200 OK\r\nSet-Cookie: SRV=\xff\xfe; path=/\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        b"HTTP/1.1 200 OK\r\nSet-Cookie: =\r\nSet-Cookie: ;;;\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        b"HTTP/1.1 200 OK\r\n Folded: x\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok".to_vec(),
        b"HTTP/1.1 200 OK\r\nX: \0\0\0\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        b"HTTP/1.1 200\r\n\r\n".to_vec(),
        b"HTTP/1.1\r\n\r\n".to_vec(),
        b"HTTP/9.9 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\n:\r\n: x\r\nNoColon\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nuntil close body".to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked, chunked\r\n\r\n0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer-without-end".to_vec(),
    ];
    // Oversized head: more than tune.bufsize of headers.
    let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..2000 {
        big.extend_from_slice(format!("X-H{i}: {}\r\n", "v".repeat(20)).as_bytes());
    }
    big.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    v.push(big);
    // One very long header line.
    let mut long = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 100_000));
    long.extend_from_slice(b"\r\n\r\n");
    v.push(long);
    // Many tiny chunks, a huge chunked body.
    let mut chunks = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..20_000 {
        chunks.extend_from_slice(b"1\r\nx\r\n");
    }
    chunks.extend_from_slice(b"0\r\n\r\n");
    v.push(chunks);
    let mut huge = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..8 {
        huge.extend_from_slice(format!("{:x}\r\n", 256 * 1024).as_bytes());
        huge.extend(std::iter::repeat_n(b'z', 256 * 1024));
        huge.extend_from_slice(b"\r\n");
    }
    huge.extend_from_slice(b"0\r\n\r\n");
    v.push(huge);
    v
}

impl GarbageBackend {
    fn start(seed: u64) -> GarbageBackend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind garbage backend");
        let port = listener.local_addr().expect("addr").port();
        let responses = Arc::new(garbage_responses());
        let counter = Arc::new(AtomicU64::new(0));
        thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { continue };
                let responses = responses.clone();
                let n = counter.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || {
                    let mut rng = Rng::new(seed ^ n.wrapping_mul(7919));
                    let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
                    let mut buf = [0u8; 16384];
                    let _ = s.read(&mut buf);
                    // Health-check style probes (none configured) and the health GET get a clean answer.
                    if buf.starts_with(b"GET /garbage/ok ") {
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                        return;
                    }
                    let r = &responses[rng.below(responses.len())];
                    let cut = if rng.chance(20) { rng.below(r.len() + 1) } else { r.len() };
                    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
                    let _ = s.write_all(&r[..cut]);
                    match rng.below(3) {
                        0 => {
                            let _ = s.shutdown(Shutdown::Write);
                            let _ = s.read(&mut buf);
                        }
                        1 => thread::sleep(Duration::from_millis(rng.below(200) as u64)),
                        _ => {}
                    }
                });
            }
        });
        GarbageBackend { port }
    }
}

struct Daemon {
    proxy: Proxy,
    workers: Vec<i32>,
    http: u16,
    pp: u16,
    stats: u16,
    tcp: u16,
    sock: PathBuf,
    _sock_dir: TempDir,
    _web: HttpBackend,
    _web2: HttpBackend,
    _banner: BannerServer,
    _garbage: GarbageBackend,
}

fn start_daemon(seed: u64) -> Daemon {
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let web2 = HttpBackend::start("web02", Behavior::KeepAlive);
    let banner = BannerServer::start("tcp01");
    let garbage = GarbageBackend::start(seed);
    let ports = free_ports(5);
    let (http, pp, stats, tcp, logp) = (ports[0], ports[1], ports[2], ports[3], ports[4]);
    let dir = TempDir::new("robust-sock");
    let sock = dir.join("stats.sock");
    let cfg = format!(
        r#"global
    nbproc 1
    maxconn 4096
    stats socket {sock} mode 600 level admin

defaults
    mode http
    log 127.0.0.1:{logp} local0
    timeout connect 1s
    timeout client 3s
    timeout server 2s
    timeout http-request 1s
    timeout http-keep-alive 1s
    timeout tunnel 2s

frontend fe
    bind 127.0.0.1:{http}
    bind 127.0.0.1:{pp} accept-proxy
    option forwardfor
    option http-keep-alive
    option httplog
    unique-id-format %{{+X}}o\ %ci:%cp_%fi:%fp_%Ts_%rt
    unique-id-header X-Unique-ID
    capture request header Host len 8
    capture response header Server len 5
    stick-table type ip size 10k expire 30s store conn_cnt,conn_cur,http_req_cnt,http_req_rate(10s),http_err_cnt,gpc0,bytes_in_cnt
    tcp-request connection track-sc0 src
    http-request track-sc1 src
    capture request header User-Agent len 32
    capture cookie SRV len 16
    acl is_garbage path_beg /garbage
    acl too_many sc_http_req_rate(0) gt 1000000
    acl evil hdr_cnt(x-evil) gt 2
    acl has_q url_param(q) -m found
    http-request deny if evil
    http-request deny deny_status 429 if too_many
    http-request sc-inc-gpc0(0) if has_q
    http-request add-header X-Src %[src]
    http-request set-header X-Path %[path]
    http-request set-header X-Ua-Copy %[req.hdr(user-agent)]
    http-request del-header X-Remove
    http-request replace-header User-Agent (.*) ua-\1
    http-request redirect location /moved if {{ path /redirect }}
    http-response set-header X-Resp %[status]
    http-response add-header X-Req-Cnt %[sc_http_req_cnt(0)]
    http-response del-header X-Secret
    use_backend garbage if is_garbage
    use_backend prefix if {{ path_beg /prefix }}
    default_backend be

backend be
    balance roundrobin
    cookie SRV insert indirect nocache
    server web01 127.0.0.1:{web} cookie w1
    server web02 127.0.0.1:{web2} cookie w2 weight 100

backend garbage
    retries 0
    cookie SRV rewrite
    server g1 127.0.0.1:{garbage} cookie g1

backend prefix
    cookie JSESSIONID prefix
    http-response add-header Set-Cookie JSESSIONID=abc~def|12;\ path=/
    http-response add-header Set-Cookie JSESSIONID
    http-response add-header Set-Cookie JSESSIONID=\ \ x
    server p1 127.0.0.1:{web} cookie p1

listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /st
    stats refresh 10s
    stats admin if TRUE

listen tcpfwd
    mode tcp
    bind 127.0.0.1:{tcp}
    option tcplog
    option splice-auto
    stick-table type ip size 1k store conn_cnt,conn_cur,conn_rate(10s)
    tcp-request connection track-sc0 src
    tcp-request connection reject if {{ sc0_conn_cur gt 1000 }}
    server tcp01 127.0.0.1:{banner}
"#,
        sock = sock.display(),
        web = web.port,
        web2 = web2.port,
        banner = banner.port,
        garbage = garbage.port,
    );
    let mut proxy = Proxy::start_and_wait(&cfg, http);
    for p in [pp, stats, tcp] {
        proxy.wait_listening(p);
    }
    assert!(wait_until(Duration::from_secs(5), || sock.exists()), "no stats socket");
    let workers = proxy.wait_workers(1, Duration::from_secs(5));
    Daemon {
        proxy,
        workers,
        http,
        pp,
        stats,
        tcp,
        sock,
        _sock_dir: dir,
        _web: web,
        _web2: web2,
        _banner: banner,
        _garbage: garbage,
    }
}

/// Open file descriptors of `pid`.
fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// CPU time (user + system, clock ticks) `pid` has used.
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}

impl Daemon {
    /// Same worker, master alive, every frontend serving, nothing panicked.
    fn assert_healthy(&mut self, after: &str) {
        if std::env::var("NBPROXY_ROBUST_DEBUG").is_ok() {
            let w = self.workers[0];
            let t0 = cpu_ticks(w);
            thread::sleep(Duration::from_millis(500));
            eprintln!(
                "after {after}: worker fds {}, idle cpu ticks/0.5s {}, master fds {}",
                fd_count(w),
                cpu_ticks(w) - t0,
                fd_count(self.proxy.pid())
            );
        }
        let stderr = self.proxy.stderr_text();
        assert!(!stderr.contains("panicked at"), "after {after}: a panic in nbproxy's stderr:\n{stderr}");
        assert!(!self.proxy.exited(), "after {after}: the master exited; stderr:\n{stderr}");
        assert_eq!(self.proxy.workers(), self.workers, "after {after}: the worker changed; stderr:\n{stderr}");
        let r = get_host(self.http, "/ok", "test.local", &[]);
        assert_eq!(r.status, 200, "after {after}: GET via the HTTP bind: {r:?}");
        let mut c = HttpConn::open(self.pp).expect("connect accept-proxy bind");
        c.send(b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
        let r = c.read_response().unwrap_or_else(|e| panic!("after {after}: GET via accept-proxy: {e}"));
        assert_eq!(r.status, 200, "after {after}: GET via the accept-proxy bind: {r:?}");
        let r = get_host(self.stats, "/st;csv", "test.local", &[]);
        assert_eq!(r.status, 200, "after {after}: the stats page: {r:?}");
        let mut c = Conn::open(self.tcp).unwrap_or_else(|e| panic!("after {after}: connect tcp listen: {e}"));
        c.set_read_timeout(Duration::from_secs(3));
        let banner = c.banner().unwrap_or_else(|e| panic!("after {after}: tcp banner: {e}"));
        assert!(banner.contains("tcp01"), "after {after}: tcp banner {banner:?}");
        let out = cli(&self.sock, "show info");
        assert!(out.contains("Pid:") || out.contains("Name:"), "after {after}: show info: {out:?}");
        // The garbage backend answers /ok cleanly: the HTTP path through a second backend works too.
        let r = get_host(self.http, "/prefix", "test.local", &["Cookie: JSESSIONID=p1~app"]);
        assert_eq!(r.status, 200, "after {after}: GET via the cookie-prefix backend: {r:?}");
        let r = get_host(self.http, "/garbage/ok", "test.local", &[]);
        assert_eq!(r.status, 200, "after {after}: GET via the garbage backend: {r:?}");
    }
}

/// One command on a new connection to the stats socket; everything until EOF (bounded).
fn cli(sock: &Path, cmd: &str) -> String {
    let mut out = Vec::new();
    cli_raw(sock, format!("{cmd}\n").as_bytes(), &mut out, Duration::from_secs(3));
    String::from_utf8_lossy(&out).into_owned()
}

fn cli_raw(sock: &Path, bytes: &[u8], out: &mut Vec<u8>, timeout: Duration) {
    let Ok(mut s) = UnixStream::connect(sock) else { return };
    let _ = s.set_write_timeout(Some(timeout));
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.write_all(bytes);
    let _ = s.shutdown(Shutdown::Write);
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// How a client plays one case.
#[derive(Clone, Copy, Debug)]
enum Play {
    /// Write everything, read until close or the timeout.
    Full,
    /// Write a prefix, then close at once.
    Abort(usize),
    /// Write everything, half-close, read.
    HalfClose,
    /// Write in small pieces with pauses.
    Trickle,
}

fn play(port: u16, bytes: &[u8], how: Play, read_for: Duration) {
    let Ok(mut s) = TcpStream::connect_timeout(&loopback(port), Duration::from_secs(2)) else { return };
    let _ = s.set_nodelay(true);
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    match how {
        Play::Full => {
            let _ = s.write_all(bytes);
        }
        Play::Abort(n) => {
            let _ = s.write_all(&bytes[..n.min(bytes.len())]);
            return;
        }
        Play::HalfClose => {
            let _ = s.write_all(bytes);
            let _ = s.shutdown(Shutdown::Write);
        }
        Play::Trickle => {
            for piece in bytes.chunks(bytes.len().div_ceil(4).max(1)) {
                if s.write_all(piece).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(5));
            }
        }
    }
    let deadline = Instant::now() + read_for;
    let mut buf = [0u8; 65536];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn random_play(rng: &mut Rng, len: usize) -> Play {
    match rng.below(10) {
        0..=4 => Play::Full,
        5 | 6 => Play::Abort(rng.below(len + 1)),
        7 | 8 => Play::HalfClose,
        _ => Play::Trickle,
    }
}

/// Runs `cases` on `threads` client threads at once.
fn run_cases(port: u16, cases: Vec<(Vec<u8>, Play)>, threads: usize, read_for: Duration) {
    let cases = Arc::new(cases);
    let next = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let cases = cases.clone();
            let next = next.clone();
            thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                let Some((bytes, how)) = cases.get(i) else { return };
                play(port, bytes, *how, read_for);
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
}

const SEEDS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: test.local\r\nUser-Agent: x\r\nCookie: SRV=w1\r\n\r\n",
    b"GET /?q=1&a=%zz HTTP/1.1\r\nHost: test.local\r\nX-Remove: 1\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
    b"GET /garbage/x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /prefix HTTP/1.1\r\nHost: a\r\nCookie: JSESSIONID=p1~abc|123; x=y\r\n\r\n",
    "GET /prefix/\u{e9} HTTP/1.1\r\nHost: \u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\r\nUser-Agent: 0123456789012345678901234567890\u{e9}\u{1F600}\r\nCookie: JSESSIONID=~|\r\n\r\n".as_bytes(),
    b"GET /redirect HTTP/1.0\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    b"GET http://example.com:80/abs?x=y HTTP/1.1\r\nHost: example.com\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"GET / HTTP/1.1\r\nHost: a\r\nX-Evil: 1\r\nX-Evil: 2\r\nX-Evil: 3\r\n\r\n",
];

/// Handcrafted nasties: each one a known-dangerous shape.
fn nasty_requests() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        b"\0\0\0\0\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\nHost: a\n\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\nabc".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8000000000000000\r\nabc".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-0\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;;;;=;\"\r\nhello\r\n0\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n:\r\n\0\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\n Folded\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\n: empty name\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nNoColon\r\n\r\n".to_vec(),
        b"GET  /  HTTP/1.1\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1 extra\r\n\r\n".to_vec(),
        b"GET / HTTP/\r\n\r\n".to_vec(),
        b"GET / HTTP/1.\r\n\r\n".to_vec(),
        b"GET / HTTP/99999999999999999999.1\r\n\r\n".to_vec(),
        b"GET / HTTP/0.9\r\n\r\n".to_vec(),
        b"GET /\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b" \r\n\r\n".to_vec(),
        b"\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
        b"\xff\xfe / HTTP/1.1\r\n\r\n".to_vec(),
        "GET /\u{e9}\u{1F600} HTTP/1.1\r\nHost: \u{e9}\r\n\r\n".as_bytes().to_vec(),
        b"GET /%\xff%00%%%?%=&&=&q HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
        b"GET /?q HTTP/1.1\r\nHost: a\r\nCookie: =;;;SRV;SRV=;SRV=\xff;=x\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nCookie: SRV=w9\r\nCookie: SRV=w1\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: \xc3\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: \xff\r\nConnection: \xff, close, ,,,\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: \r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n".to_vec(),
        b"GET http://[::1 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
        b"GET http:// HTTP/1.1\r\n\r\n".to_vec(),
        b"GET http://a:99999999999/ HTTP/1.1\r\n\r\n".to_vec(),
        b"GET ? HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Remove: 1\r\nX-Remove: 2\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
    ];
    // Huge header count, very long line, very long URI, long method.
    let mut many = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..5000 {
        many.extend_from_slice(format!("X{i}: y\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    v.push(many);
    let mut many_small = b"GET / HTTP/1.1\r\n".to_vec();
    for _ in 0..300 {
        many_small.extend_from_slice(b"a:\r\n");
    }
    many_small.extend_from_slice(b"\r\n");
    v.push(many_small);
    let mut long = b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 200_000));
    long.extend_from_slice(b"\r\n\r\n");
    v.push(long);
    let mut uri = b"GET /".to_vec();
    uri.extend(std::iter::repeat_n(b'u', 15_000));
    uri.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
    v.push(uri);
    let mut method = std::iter::repeat_n(b'M', 10_000).collect::<Vec<u8>>();
    method.extend_from_slice(b" / HTTP/1.1\r\n\r\n");
    v.push(method);
    // A head just below, at and above the usual 16 kB buffer.
    for size in [15_000, 16_300, 16_384, 16_400] {
        let mut r = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".to_vec();
        let pad = size - r.len() - 4;
        r.extend(std::iter::repeat_n(b'p', pad));
        r.extend_from_slice(b"\r\n\r\n");
        v.push(r);
    }
    // Pipelined mixes: good, bad, good.
    let mut pipe = Vec::new();
    for s in SEEDS {
        pipe.extend_from_slice(s);
    }
    v.push(pipe);
    v
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(12) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            2 => {
                let n = rng.below(v.len() + 1);
                v.truncate(n);
            }
            3 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.pick(&[0u8, b'\n', b'\r', b' ', b':', b';', b'%', b'"', 0xff]));
            }
            4 => {
                // Bare LF everywhere.
                v = String::from_utf8_lossy(&v).replace("\r\n", "\n").into_bytes();
            }
            5 => {
                let i = rng.below(v.len() + 1);
                let n = rng.below(3000);
                let fill = rng.pick(&[b'a', b' ', b'\t', 0u8, b',']);
                v.splice(i..i, std::iter::repeat_n(fill, n));
            }
            6 => {
                let i = rng.below(v.len() + 1);
                let h = rng.pick(&[
                    &b"Content-Length: 7\r\n"[..],
                    b"Content-Length: 0\r\n",
                    b"Content-Length: abc\r\n",
                    b"Transfer-Encoding: chunked\r\n",
                    b"Transfer-Encoding: xchunked\r\n",
                    b"Connection: close\r\n",
                    b"Connection: Upgrade\r\nUpgrade: h2c\r\n",
                    b"Expect: 100-continue\r\n",
                    b"Cookie: SRV=w2\r\n",
                    b"Host: \r\n",
                    b"X-Evil: a\r\nX-Evil: b\r\nX-Evil: c\r\n",
                ]);
                v.splice(i..i, h.iter().copied());
            }
            7 => {
                let extra = rng.pick(SEEDS);
                v.extend_from_slice(extra);
            }
            8 => {
                let i = rng.below(v.len() + 1);
                let junk = rng.junk(64);
                v.splice(i..i, junk);
            }
            9 if v.len() > 2 => {
                let a = rng.below(v.len());
                let b = rng.below(v.len());
                let (a, b) = (a.min(b), a.max(b));
                v.drain(a..b);
            }
            10 => {
                let chunk = rng.pick(&[
                    &b"fffffffffffffffff\r\n"[..],
                    b"0;x=\"y\r\n\r\n",
                    b"1\r\nxy\r\n",
                    b"\r\n0\r\nT: x\r\nT2 y\r\n\r\n",
                    b"00000000000000000000000000000005\r\nhello\r\n",
                ]);
                v.extend_from_slice(chunk);
            }
            _ => {}
        }
    }
    v
}

fn proxy_header(rng: &mut Rng) -> Vec<u8> {
    let sig = b"\r\n\r\n\0\r\nQUIT\n";
    let mut v: Vec<u8> = match rng.below(12) {
        0 => b"PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\n".to_vec(),
        1 => b"PROXY TCP6 2001:db8::7 2001:db8::1 6000 80\r\n".to_vec(),
        2 => b"PROXY UNKNOWN\r\n".to_vec(),
        3 => b"PROXY UNKNOWN ffff::1 ::1 1 2\r\n".to_vec(),
        4 => {
            let bad = [
                &b"PROXY TCP4 999.0.0.1 1.1.1.1 1 2\r\n"[..],
                b"PROXY TCP4 1.1.1.1 1.1.1.1 99999 2\r\n",
                b"PROXY TCP4 1.1.1.1\r\n",
                b"PROXY TCP4 2001:db8::1 ::1 1 2\r\n",
                b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
                b"PROXY  TCP4  1.1.1.1  1.1.1.1 1 2\r\n",
                b"PROXY TCP4 1.1.1.1 1.1.1.1 -1 +2\r\n",
                b"PROXY \r\n",
                b"PROXY\r\n",
                b"PROXY TCP4 1.1.1.1 1.1.1.1 1 2\n",
                b"PROXY TCP4 1.1.1.1 1.1.1.1 1 2 3 4 5\r\n",
                b"PROXY TCP4 \xff\xfe 1 2\r\n",
                b"PROXY TCP9 a b c d\r\n",
                b"PROXY TCP4 1.1.1.1 1.1.1.1 1 2",
            ];
            rng.pick(&bad[..]).to_vec()
        }
        5 => {
            let mut l = b"PROXY TCP4 ".to_vec();
            l.extend(std::iter::repeat_n(b'1', 200 + rng.below(2000)));
            l.extend_from_slice(b"\r\n");
            l
        }
        6..=10 => {
            // v2 with random version/command, family, length and body.
            let mut h = sig.to_vec();
            let ver_cmd = rng.pick(&[0x20u8, 0x21, 0x22, 0x11, 0x2f, 0x31, 0xff]);
            let fam = rng.pick(&[0x00u8, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32, 0xff, 0x10]);
            let body_len = rng.pick(&[0usize, 4, 11, 12, 13, 35, 36, 216, 300]);
            let declared = if rng.chance(70) { body_len } else { rng.below(65536) };
            h.push(ver_cmd);
            h.push(fam);
            h.extend_from_slice(&(declared as u16).to_be_bytes());
            let mut body = rng.bytes(body_len);
            if rng.chance(50) && body_len > 12 {
                // TLVs with random lengths after the addresses.
                let at = if fam >> 4 == 2 { 36.min(body_len) } else { 12 };
                let mut i = at;
                while i + 3 <= body.len() {
                    body[i] = rng.pick(&[0x01u8, 0x02, 0x03, 0x04, 0x05, 0x20, 0x30, 0xee]);
                    let l = rng.below(40) as u16;
                    body[i + 1..i + 3].copy_from_slice(&l.to_be_bytes());
                    i += 3 + l as usize;
                }
            }
            h.extend_from_slice(&body);
            h
        }
        _ => {
            let mut h = sig[..rng.below(sig.len() + 1)].to_vec();
            h.extend(rng.junk(40));
            h
        }
    };
    if rng.chance(20) && !v.is_empty() {
        let i = rng.below(v.len());
        v[i] ^= 1 << rng.below(8);
    }
    v.extend_from_slice(rng.pick(SEEDS));
    v
}

fn stats_socket_line(rng: &mut Rng) -> Vec<u8> {
    let cmds: &[&str] = &[
        "show info",
        "show stat",
        "show stat -1 -1 -1",
        "show stat 99999999999999999999 4 -1",
        "show stat fe -1 -1 typed",
        "show stat 1 a b",
        "show sess",
        "show sess all",
        "show sess 0x",
        "show sess 0xffffffffffffffffffffff",
        "show sess 0x0",
        "show sess zz",
        "show errors",
        "show errors x y z",
        "show errors -1",
        "show errors fe request",
        "show errors 99999999999999999999999 response",
        "show table",
        "show table fe",
        "show table fe data.conn_cnt gt 0",
        "show table fe data.nonexistent gt x",
        "show table fe key 1.2.3.4",
        "show table fe key ::1",
        "show table fe key",
        "show table tcpfwd data.conn_cur lt 999999999999999999999",
        "clear table fe",
        "clear table fe key 127.0.0.2",
        "clear table fe key notanip",
        "clear counters",
        "clear counters all",
        "set weight be/web01 99999",
        "set weight be/web01 -1",
        "set weight be/web01 50%",
        "set weight be/web01 999999%",
        "set weight be/web02 9223372036854775807%",
        "set weight be/web02 92233720368547758%",
        "set server be/web02 weight 9223372036854775807%",
        "set weight be/web01",
        "set weight a/b 99999",
        "set weight /",
        "set weight be/",
        "set weight /web01 1",
        "get weight be/web01",
        "get weight x/",
        "set server x/y state bogus",
        "set server be/web02 state bogus",
        "set server be/web02 weight 0",
        "set server be/web02 weight 1000000",
        "set server be/web02 addr 1.2.3.4",
        "set server be/web02",
        "set server",
        "disable server be/doesnotexist",
        "disable server /",
        "enable server /",
        "disable frontend nope",
        "set maxconn frontend fe 0",
        "set maxconn frontend fe -5",
        "set maxconn frontend fe 99999999999999999999",
        "set maxconn server be/web01 0",
        "set maxconn global 0",
        "set maxconn global x",
        "set rate-limit connections global -1",
        "set rate-limit sessions global 999999999999",
        "set timeout cli 0",
        "set timeout cli 99999999999999d",
        "set timeout cli -1",
        "show servers state",
        "show servers state nope",
        "show backend",
        "show pools",
        "show activity",
        "show env",
        "help",
        "prompt",
        "quit",
        "",
        ";;;;",
        "show info; show stat; show errors; ",
        "\u{0}\u{0}",
        "\u{e9}\u{1F600} unknown",
        "show",
        "set",
        "clear",
        "get",
        "enable",
        "disable",
        "shutdown session 0x1",
        "shutdown sessions server be/web01",
        "shutdown frontend nope",
        "add acl x y",
        "del map x y",
        "set table fe key 1.2.3.4 data.gpc0 99999999999999999999",
        "set table fe key 1.2.3.4 data.gpc0 -1",
        "set table fe key 1.2.3.4 data.conn_cnt 1",
        "set table fe key 1.2.3.4",
        "set table fe key ::ffff:1.2.3.4 data.gpc0 1",
    ];
    let mut line = rng.pick(cmds).as_bytes().to_vec();
    match rng.below(8) {
        0 => {
            let i = rng.below(line.len() + 1);
            let junk = rng.junk(16);
            line.splice(i..i, junk);
        }
        1 => line.extend(std::iter::repeat_n(b'x', 1000 + rng.below(200_000))),
        2 => {
            let n = rng.below(line.len() + 1);
            line.truncate(n);
        }
        3 => line.extend_from_slice(format!(" {}", rng.next()).as_bytes()),
        _ => {}
    }
    if !rng.chance(10) {
        line.push(b'\n');
    }
    if rng.chance(20) {
        // Interactive mode with several commands.
        let mut v = b"prompt\n".to_vec();
        v.extend_from_slice(&line);
        v.extend_from_slice(b"\nshow info\nquit\n");
        return v;
    }
    line
}

fn stats_page_request(rng: &mut Rng) -> Vec<u8> {
    let queries: &[&str] = &[
        "/st",
        "/st;csv",
        "/st;csv;norefresh",
        "/st;json",
        "/st;st=",
        "/st;st=DONE",
        "/st;st=%zz",
        "/st;up",
        "/st;norefresh;up;csv;;;;",
        "/st?stats",
        "/st;csv?x=%",
        "/st;typed",
        "/st/metrics",
        "/st;st=\u{e9}",
        "/st;scope=",
        "/st?scope=be",
        "/st?;csv",
    ];
    let posts: &[&str] = &[
        "s=web01&action=disable&b=%23",
        "s=web01&s=web02&action=drain&b=be",
        "s=&action=&b=",
        "action=maint&b=be",
        "s=web01&action=setweight&b=be",
        "s=nope&action=ready&b=nope",
        "s=web02&action=bogus&b=be",
        "=&=&&&%&%%&b",
        "s=%ff%fe&b=%00",
        "s=web01&action=enable&b=be&b=fe&b=",
        "s=web01&action=ready&b=be",
        "s=web02&action=ready&b=be",
    ];
    let path = rng.pick(queries).to_string();
    let mut req = if rng.chance(40) {
        let body = rng.pick(posts).to_string();
        let mut body = body.into_bytes();
        if rng.chance(30) {
            body.extend(rng.junk(100));
        }
        if rng.chance(10) {
            body.extend(std::iter::repeat_n(b'&', 20_000));
        }
        if rng.chance(15) {
            // Chunked admin POST.
            let mut r = format!(
                "POST {path} HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n"
                , body.len()
            )
            .into_bytes();
            r.extend_from_slice(&body);
            r.extend_from_slice(b"\r\n0\r\n\r\n");
            return r;
        }
        let cl = if rng.chance(80) { body.len() } else { rng.below(100_000) };
        let mut r = format!(
            "POST {path} HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {cl}\r\n\r\n"
        )
        .into_bytes();
        r.extend_from_slice(&body);
        r
    } else {
        format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").into_bytes()
    };
    if rng.chance(30) {
        req = mutate(rng, &req);
    }
    req
}

/// Inputs that once crashed or corrupted the daemon, each checked for the right answer.
fn known_crashes(d: &mut Daemon) {
    // A relative weight whose product with the initial weight (100) overflows i64: it wrapped to -1, i.e. a weight
    // of 4294967295 (a panic with overflow checks). HAProxy caps a relative weight at 256.
    for cmd in ["set weight be/web02 9223372036854775807%", "set server be/web02 weight 92233720368547758%"] {
        let out = cli(&d.sock, cmd);
        assert_eq!(out, "\n", "`{cmd}`: {out:?}");
        let w = cli(&d.sock, "get weight be/web02");
        assert!(w.starts_with("256 (initial 100)"), "`{cmd}` caps the weight at 256: {w:?}");
        d.assert_healthy(cmd);
    }
    cli(&d.sock, "set weight be/web02 100");
}

#[test]
fn hostile_input_never_crashes_the_daemon() {
    let seed = seed();
    let n = iters();
    let budget = Instant::now();
    let mut d = start_daemon(seed);
    d.assert_healthy("start-up");
    let read_for = Duration::from_millis(250);

    // 0. Found crashes, kept as deterministic cases.
    known_crashes(&mut d);

    // 1. Handcrafted nasty requests, each on its own connection, all played every way.
    let mut cases = Vec::new();
    for r in nasty_requests() {
        for how in [Play::Full, Play::HalfClose, Play::Abort(r.len() / 2)] {
            cases.push((r.clone(), how));
        }
    }
    run_cases(d.http, cases, 8, read_for);
    d.assert_healthy("handcrafted requests");

    // 2. Random bytes.
    let mut rng = Rng::new(seed);
    let cases: Vec<_> = (0..n)
        .map(|_| {
            let max = if rng.chance(10) { 40_000 } else { 300 };
            let len = 1 + rng.below(max);
            let b = rng.bytes(len);
            let how = random_play(&mut rng, b.len());
            (b, how)
        })
        .collect();
    run_cases(d.http, cases, 8, read_for);
    d.assert_healthy("random bytes");

    // 3. Mutated valid requests (pipelined mixes, truncations, injected headers and chunks).
    let cases: Vec<_> = (0..n * 3)
        .map(|_| {
            let base = rng.pick(SEEDS);
            let mut b = mutate(&mut rng, base);
            if rng.chance(30) {
                let base = rng.pick(SEEDS);
                let more = mutate(&mut rng, base);
                b.extend_from_slice(&more);
            }
            let how = random_play(&mut rng, b.len());
            (b, how)
        })
        .collect();
    run_cases(d.http, cases, 8, read_for);
    d.assert_healthy("mutated requests");

    // 4. PROXY headers, valid and broken, on the accept-proxy bind.
    let cases: Vec<_> = (0..n * 2)
        .map(|_| {
            let b = proxy_header(&mut rng);
            let how = random_play(&mut rng, b.len());
            (b, how)
        })
        .collect();
    run_cases(d.pp, cases, 8, read_for);
    d.assert_healthy("PROXY headers");

    // 5. Garbage responses from a backend (several per response shape).
    let cases: Vec<_> = (0..n * 2)
        .map(|i| {
            let b =
                format!("GET /garbage/{i} HTTP/1.1\r\nHost: a\r\n\r\nGET /garbage/again HTTP/1.1\r\nHost: a\r\n\r\n")
                    .into_bytes();
            let how = if rng.chance(80) { Play::Full } else { random_play(&mut rng, b.len()) };
            (b, how)
        })
        .collect();
    run_cases(d.http, cases, 8, Duration::from_millis(600));
    d.assert_healthy("garbage responses");

    // 6. The stats socket, while mutated requests keep sessions open (`show sess` lists them, `show errors` their
    // captures).
    let sock = d.sock.clone();
    let background: Vec<_> = (0..n)
        .map(|_| {
            let base = rng.pick(SEEDS);
            let b = mutate(&mut rng, base);
            (b, Play::Trickle)
        })
        .collect();
    let http_port = d.http;
    let traffic = thread::spawn(move || run_cases(http_port, background, 4, Duration::from_millis(300)));
    let lines: Vec<Vec<u8>> = (0..n * 2).map(|_| stats_socket_line(&mut rng)).collect();
    let lines = Arc::new(lines);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let lines = lines.clone();
            let sock = sock.clone();
            thread::spawn(move || {
                for l in lines.iter().skip(t).step_by(4) {
                    let mut out = Vec::new();
                    cli_raw(&sock, l, &mut out, Duration::from_secs(2));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("cli thread");
    }
    traffic.join().expect("background traffic");
    // Undo what the admin commands may have changed, so that the health GETs keep working.
    for cmd in [
        "enable server be/web01",
        "enable server be/web02",
        "set server be/web01 state ready",
        "set server be/web02 state ready",
        "set weight be/web01 1",
        "set weight be/web02 100",
        "set maxconn frontend fe 2000",
        "set maxconn global 4096",
        "set rate-limit sessions global 0",
        "set rate-limit connections global 0",
        "enable frontend fe",
        "enable frontend stats",
        "enable frontend tcpfwd",
    ] {
        cli(&sock, cmd);
    }
    d.assert_healthy("stats socket lines");

    // 7. The stats page: queries and admin POSTs.
    let cases: Vec<_> = (0..n * 2)
        .map(|_| {
            let b = stats_page_request(&mut rng);
            let how = random_play(&mut rng, b.len());
            (b, how)
        })
        .collect();
    run_cases(d.stats, cases, 6, read_for);
    for s in ["web01", "web02"] {
        let body = format!("s={s}&action=ready&b=be");
        let req = format!(
            "POST /st HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        raw_exchange(d.stats, req.as_bytes(), Duration::from_millis(500));
        cli(&sock, &format!("set server be/{s} state ready"));
    }
    d.assert_healthy("stats page queries");

    // 8. The TCP listen: random bytes, half-closes and a bulk stream (splice-auto) through the banner server.
    let mut cases: Vec<_> = (0..n)
        .map(|_| {
            let mut b = rng.junk1(2000);
            b.push(b'\n');
            let how = random_play(&mut rng, b.len());
            (b, how)
        })
        .collect();
    let mut bulk = Vec::new();
    for i in 0..40_000 {
        bulk.extend_from_slice(format!("line {i} {}\n", "x".repeat(40)).as_bytes());
    }
    cases.push((bulk.clone(), Play::Abort(bulk.len() / 3)));
    cases.push((bulk, Play::HalfClose));
    run_cases(d.tcp, cases, 8, read_for);
    d.assert_healthy("tcp listen");

    eprintln!("robustness: seed {seed:#x}, {n} cases per batch, {:?}", budget.elapsed());
}
