//! Integration-test harness shared by every file in `tests/` (each one says `mod support;`).
//!
//! The tests drive the real `nbproxy` binary over loopback, as HAProxy's reg-tests drive haproxy:
//! - [`Proxy`] owns one foreground master (`-db -f FILE -p PIDFILE`) living in its own temp dir, and kills the
//!   master and its workers when dropped; [`check`] runs `-c`.
//! - [`BannerServer`] is a banner-first TCP backend (it speaks first, like the seed's SSH servers) that echoes lines;
//!   [`HttpServer`] answers any request with 200 and its name; [`UdpCollector`] is a syslog sink.
//! - [`Conn`] is a line-oriented client; [`ClientLoop`] a background thread of sequential connections.
//!
//! Only std and libc. Every wait is bounded; every thread ends when its owner is dropped.
#![allow(dead_code)]

pub mod l7;

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub mod http;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_nbproxy");

/// Connect/read/write timeout of test clients.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// How long start-up (pidfile, listening port) may take.
pub const START_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------------------------
// Small utilities

/// Polls `cond` every 10 ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Locks a mutex even if a panicking thread poisoned it (the data are plain collections).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(Default::default)
}

/// Remembers a port so that [`free_ports`] never hands it out in this test binary.
fn reserve_port(port: u16) {
    lock(handed_out()).insert(port);
}

/// The ports [`free_ports`] hands out: below Linux's ephemeral range (32768–60999), so that no client connection
/// of a parallel test is given one as its local port between the moment a test picks it and the moment nbproxy
/// binds it (that race made a listener fail with "Address already in use").
const PORTS_FROM: usize = 20000;
const PORTS_TO: usize = 32768;

/// `n` distinct loopback TCP ports that were free a moment ago and were never handed out before in this test binary
/// (tests of one binary run in parallel threads).
pub fn free_ports(n: usize) -> Vec<u16> {
    let mut seen = lock(handed_out());
    let mut held = Vec::new(); // kept bound until all n are chosen, so they are distinct
    let mut ports = Vec::new();
    let span = PORTS_TO - PORTS_FROM;
    // Each test binary starts at its own place in the range (they run one after another, but a port may still be
    // in TIME_WAIT from the previous one).
    let start = (std::process::id() as usize).wrapping_mul(7919) % span;
    for k in 0..span {
        if ports.len() == n {
            break;
        }
        let port = (PORTS_FROM + (start + k) % span) as u16;
        if seen.contains(&port) {
            continue;
        }
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            held.push(l);
            seen.insert(port);
            ports.push(port);
        }
    }
    assert_eq!(ports.len(), n, "could not find {n} free ports");
    ports
}

/// One free loopback TCP port (see [`free_ports`]).
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// A directory under `std::env::temp_dir()` unique to this process and call; removed on drop unless the test is
/// failing, in which case it is kept and its path printed (it holds the config and nbproxy's stdout/stderr).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("nbproxy-test-{}-{n}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        let path = path.canonicalize().expect("canonicalize temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("test failed: kept {} for inspection", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Writes `text` to `path` atomically (temp file + rename), as an editor or config manager would.
pub fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text).expect("write temp config");
    fs::rename(&tmp, path).expect("rename config into place");
}

// ---------------------------------------------------------------------------------------------------------------
// /proc and signals

/// `(state, ppid)` from `/proc/PID/stat`, or None if there is no such process.
pub fn proc_stat(pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut it = rest.split_whitespace();
    let state = it.next()?.chars().next()?;
    let ppid = it.next()?.parse().ok()?;
    Some((state, ppid))
}

/// True if `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    matches!(proc_stat(pid), Some((s, _)) if s != 'Z' && s != 'X')
}

/// Live (non-zombie) direct children of `pid`, sorted.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut kids = Vec::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(child) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if let Some((state, ppid)) = proc_stat(child) {
                if ppid == pid && state != 'Z' && state != 'X' {
                    kids.push(child);
                }
            }
        }
    }
    kids.sort_unstable();
    kids
}

/// The numbers of a `/proc/PID/status` line such as `Uid:` or `Gid:` (real, effective, saved, fs) or `Groups:`.
pub fn proc_status_ids(pid: i32, field: &str) -> Option<Vec<u32>> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let prefix = format!("{field}:");
    let line = status.lines().find(|l| l.starts_with(&prefix))?;
    line[prefix.len()..].split_whitespace().map(|n| n.parse().ok()).collect()
}

/// Sends `sig` to `pid`; false if the kernel refused (e.g. no such process).
pub fn send_signal(pid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Whether something listens on TCP `port` (any address), read from `/proc/net/tcp{,6}`: a readiness probe that,
/// unlike a connect, creates no session (no log line, no balancing step).
pub fn is_listening(port: u16) -> bool {
    let want = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        fs::read_to_string(f).is_ok_and(|t| {
            t.lines().skip(1).any(|l| {
                let mut cols = l.split_whitespace();
                let local = cols.nth(1).unwrap_or("");
                let state = cols.nth(1).unwrap_or("");
                local.ends_with(&want) && state == "0A"
            })
        })
    })
}

/// True if a connect to 127.0.0.1:`port` is refused (RST). A successful connect is closed at once.
pub fn is_refused(port: u16) -> bool {
    match TcpStream::connect_timeout(&loopback(port), Duration::from_millis(500)) {
        Ok(_) => false,
        Err(e) => e.kind() == io::ErrorKind::ConnectionRefused,
    }
}

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn same_binary(pid: i32) -> bool {
    let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    let ours = Path::new(BIN).canonicalize().unwrap_or_else(|_| PathBuf::from(BIN));
    // A rebuilt binary shows as "… (deleted)".
    exe == ours || exe.to_string_lossy().starts_with(&*ours.to_string_lossy())
}

/// SIGKILLs `pid` and every live descendant of it (frozen first with SIGSTOP so that nothing forks meanwhile).
pub fn kill_tree(pid: i32) {
    send_signal(pid, libc::SIGSTOP);
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() && all.len() < 1000 {
        for k in children_of(all[i]) {
            send_signal(k, libc::SIGSTOP);
            all.push(k);
        }
        i += 1;
    }
    for p in all.iter().rev() {
        send_signal(*p, libc::SIGKILL);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Running nbproxy

/// Output of a bounded run of the binary (`-c`, `-v`, `-D` …).
#[derive(Debug)]
pub struct Run {
    /// Exit code, None if killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the binary with `args`, stdout/stderr captured in files (so that a detaching daemon that keeps them open
/// cannot hang us), killed after `timeout`.
pub fn run_bounded(args: &[&str], timeout: Duration) -> Run {
    let dir = TempDir::new("run");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("create stdout file"))
        .stderr(File::create(&err).expect("create stderr file"))
        .spawn()
        .expect("spawn nbproxy");
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`nbproxy {}` still running after {timeout:?}; stderr:\n{}",
                args.join(" "),
                fs::read_to_string(&err).unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: fs::read_to_string(&out).unwrap_or_default(),
        stderr: fs::read_to_string(&err).unwrap_or_default(),
    }
}

/// `nbproxy -c -f FILE` on `cfg_text` written to a temp file.
pub struct Check {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The config file as passed on the command line (absolute).
    pub file: PathBuf,
    _dir: TempDir,
}

impl Check {
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// `FILE:LINE`, as the error messages must name it.
    pub fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.file.display())
    }
}

pub fn check(cfg_text: &str) -> Check {
    check_files(&[("nbproxy.cfg", cfg_text)])
}

/// `nbproxy -c -f NAME1 -f NAME2 …` on files written to one temp dir; [`Check::file`] is the first one.
pub fn check_files(files: &[(&str, &str)]) -> Check {
    let dir = TempDir::new("check");
    let mut args = vec!["-c".to_string()];
    for (name, text) in files {
        fs::write(dir.join(name), text).expect("write config");
        args.push("-f".into());
        args.push(dir.join(name).to_string_lossy().into_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_bounded(&args, Duration::from_secs(10));
    Check { code: run.code, stdout: run.stdout, stderr: run.stderr, file: dir.join(files[0].0), _dir: dir }
}

/// 1-based number of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line contains {needle:?}")) + 1
}

/// One foreground nbproxy master (`-db -f CFG -p PIDFILE [extra…]`) in its own temp dir. Dropping it kills the
/// master and all its descendants.
pub struct Proxy {
    dir: TempDir,
    cfg: PathBuf,
    pidfile: PathBuf,
    child: Child,
    status: Option<ExitStatus>,
    seen_workers: Mutex<HashSet<i32>>,
}

impl Proxy {
    /// Starts the master and waits (bounded) for its pidfile.
    pub fn start(cfg_text: &str) -> Proxy {
        Proxy::start_with(cfg_text, &[])
    }

    /// Starts the master and waits (bounded) for its pidfile and for `port` to be listening.
    pub fn start_and_wait(cfg_text: &str, port: u16) -> Proxy {
        let mut p = Proxy::start(cfg_text);
        p.wait_listening(port);
        p
    }

    /// Like [`Proxy::start`] with `extra` arguments appended (e.g. `["-sf", "1234"]`, which must come last).
    pub fn start_with(cfg_text: &str, extra: &[&str]) -> Proxy {
        Proxy::start_files(&[("nbproxy.cfg", cfg_text)], extra)
    }

    /// Writes each `(name, text)` into the temp dir and starts `-db -f NAME1 -f NAME2 … -p PIDFILE [extra…]`;
    /// [`Proxy::cfg_path`] is the first file.
    pub fn start_files(files: &[(&str, &str)], extra: &[&str]) -> Proxy {
        let dir = TempDir::new("proxy");
        let mut cmd = Command::new(BIN);
        cmd.arg("-db");
        for (name, text) in files {
            fs::write(dir.join(name), text).expect("write config");
            cmd.arg("-f").arg(dir.join(name));
        }
        let cfg = dir.join(files[0].0);
        let pidfile = dir.join("nbproxy.pid");
        let child = cmd
            .arg("-p")
            .arg(&pidfile)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("stdout")).expect("create stdout file"))
            .stderr(File::create(dir.join("stderr")).expect("create stderr file"))
            .spawn()
            .expect("spawn nbproxy");
        let mut p = Proxy { dir, cfg, pidfile, child, status: None, seen_workers: Mutex::default() };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(st) = p.try_status() {
                panic!("nbproxy exited during start-up ({st}); stderr:\n{}", p.stderr_text());
            }
            if p.pidfile_pid().is_some() {
                break;
            }
            if Instant::now() >= deadline {
                panic!("no pidfile after {START_TIMEOUT:?}; stderr:\n{}", p.stderr_text());
            }
            thread::sleep(Duration::from_millis(10));
        }
        p
    }

    /// Waits (bounded) until `port` is listening; panics with nbproxy's stderr otherwise.
    pub fn wait_listening(&mut self, port: u16) {
        let deadline = Instant::now() + START_TIMEOUT;
        while !is_listening(port) {
            if let Some(st) = self.try_status() {
                panic!("nbproxy exited before listening on {port} ({st}); stderr:\n{}", self.stderr_text());
            }
            if Instant::now() >= deadline {
                panic!("port {port} not listening after {START_TIMEOUT:?}; stderr:\n{}", self.stderr_text());
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The master's pid: the process we spawned (`-db` keeps it in the foreground).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The pid written in the pidfile, if any.
    pub fn pidfile_pid(&self) -> Option<i32> {
        fs::read_to_string(&self.pidfile).ok()?.lines().next()?.trim().parse().ok()
    }

    pub fn pidfile(&self) -> &Path {
        &self.pidfile
    }

    pub fn cfg_path(&self) -> &Path {
        &self.cfg
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Replaces the config file (atomically) so that a reload (USR2) reads the new text.
    pub fn rewrite_config(&self, cfg_text: &str) {
        write_atomic(&self.cfg, cfg_text);
    }

    /// The live worker processes: the master's direct children.
    pub fn workers(&self) -> Vec<i32> {
        let w = children_of(self.pid());
        lock(&self.seen_workers).extend(w.iter().copied());
        w
    }

    /// Waits (bounded) until there are exactly `n` workers and returns them; panics otherwise.
    pub fn wait_workers(&self, n: usize, timeout: Duration) -> Vec<i32> {
        let mut w = Vec::new();
        if !wait_until(timeout, || {
            w = self.workers();
            w.len() == n
        }) {
            panic!("expected {n} workers within {timeout:?}, have {w:?}; stderr:\n{}", self.stderr_text());
        }
        w
    }

    /// Sends `sig` to the master.
    pub fn signal(&self, sig: i32) {
        assert!(send_signal(self.pid(), sig), "kill({}, {sig}) failed", self.pid());
    }

    pub fn stderr_text(&self) -> String {
        fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    pub fn stdout_text(&self) -> String {
        fs::read_to_string(self.dir.join("stdout")).unwrap_or_default()
    }

    fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Has the master exited (it is reaped if so)?
    pub fn exited(&mut self) -> bool {
        self.try_status().is_some()
    }

    /// Waits up to `timeout` for the master to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_status() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            self.workers(); // remember the current ones too
            kill_tree(self.pid());
            let _ = self.child.wait();
        }
        // Workers orphaned earlier (master gone): kill those still running our binary.
        let seen: Vec<i32> = lock(&self.seen_workers).iter().copied().collect();
        for w in &seen {
            if pid_alive(*w) && same_binary(*w) {
                kill_tree(*w);
            }
        }
        wait_until(Duration::from_secs(1), || seen.iter().all(|w| !pid_alive(*w) || !same_binary(*w)));
        if thread::panicking() {
            eprintln!("--- nbproxy stderr ---\n{}--- end ---", self.stderr_text());
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Backends

type ConnTable = Arc<Mutex<HashMap<u64, TcpStream>>>;

struct Running {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
    conns: ConnTable,
}

impl Running {
    fn shut(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join(); // the listener is closed when this returns
        for (_, s) in lock(&self.conns).drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Runs `handle` on every accepted connection (one thread each) until the stop flag is set; then drops the listener.
fn accept_loop(
    listener: TcpListener,
    accepted: Arc<AtomicUsize>,
    handle: Arc<dyn Fn(TcpStream) + Send + Sync>,
) -> Running {
    static IDS: AtomicU64 = AtomicU64::new(0);
    let stop = Arc::new(AtomicBool::new(false));
    let conns: ConnTable = Arc::default();
    listener.set_nonblocking(true).expect("set_nonblocking");
    let (stop2, conns2) = (stop.clone(), conns.clone());
    let thread = thread::spawn(move || {
        while !stop2.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((s, _)) => {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
                    let _ = s.set_write_timeout(Some(IO_TIMEOUT));
                    let id = IDS.fetch_add(1, Ordering::SeqCst);
                    if let Ok(c) = s.try_clone() {
                        lock(&conns2).insert(id, c);
                    }
                    let (handle, conns3) = (handle.clone(), conns2.clone());
                    thread::spawn(move || {
                        handle(s);
                        lock(&conns3).remove(&id);
                    });
                }
                Err(_) => thread::sleep(Duration::from_millis(2)),
            }
        }
        drop(listener);
    });
    Running { stop, thread, conns }
}

/// Binds 127.0.0.1:`port` (0 = any), retrying for 2 s if the port is still busy.
fn bind_retry(port: u16) -> TcpListener {
    let mut last = None;
    for _ in 0..100 {
        match TcpListener::bind(loopback(port)) {
            Ok(l) => return l,
            Err(e) => last = Some(e),
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("cannot bind 127.0.0.1:{port}: {last:?}");
}

/// A banner-first TCP backend: on accept it writes `SSH-2.0-{name}\r\n`, then answers every line `L` with
/// `{name}: L\n`, and closes when the client does.
pub struct BannerServer {
    pub name: String,
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    running: Option<Running>,
}

impl BannerServer {
    pub fn start(name: &str) -> BannerServer {
        let listener = bind_retry(0);
        let port = listener.local_addr().unwrap().port();
        reserve_port(port);
        let mut s = BannerServer { name: name.to_string(), port, accepted: Arc::default(), running: None };
        s.run(listener);
        s
    }

    fn run(&mut self, listener: TcpListener) {
        let name = self.name.clone();
        let handle = Arc::new(move |s: TcpStream| banner_session(s, &name));
        self.running = Some(accept_loop(listener, self.accepted.clone(), handle));
    }

    /// Connections accepted so far (health checks included).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Stops listening (the port then refuses connections) and resets the open connections, as a dying server.
    pub fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shut();
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "restart of a running BannerServer");
        let listener = bind_retry(self.port);
        self.run(listener);
    }
}

impl Drop for BannerServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn banner_session(stream: TcpStream, name: &str) {
    let Ok(mut w) = stream.try_clone() else { return };
    if w.write_all(format!("SSH-2.0-{name}\r\n").as_bytes()).is_err() {
        return;
    }
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = line.trim_end_matches(['\r', '\n']);
                if w.write_all(format!("{name}: {text}\n").as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}

/// A minimal HTTP backend: reads a request head, answers `200 OK` with body = its name, closes. Keeps the heads.
pub struct HttpServer {
    pub name: String,
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    running: Option<Running>,
}

impl HttpServer {
    pub fn start(name: &str) -> HttpServer {
        let listener = bind_retry(0);
        let port = listener.local_addr().unwrap().port();
        reserve_port(port);
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let accepted: Arc<AtomicUsize> = Arc::default();
        let (body, reqs) = (name.to_string(), requests.clone());
        let handle = Arc::new(move |mut s: TcpStream| {
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            lock(&reqs).push(String::from_utf8_lossy(&head).into_owned());
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
            let _ = s.shutdown(Shutdown::Write);
        });
        let running = Some(accept_loop(listener, accepted.clone(), handle));
        HttpServer { name: name.to_string(), port, accepted, requests, running }
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The request heads received so far.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.requests).clone()
    }

    pub fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shut();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Syslog sink

/// Collects UDP datagrams (one syslog line each, trailing newline removed) sent to 127.0.0.1:`port`.
pub struct UdpCollector {
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpCollector {
    pub fn start() -> UdpCollector {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = sock.local_addr().unwrap().port();
        sock.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (lines2, stop2) = (lines.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop2.load(Ordering::SeqCst) {
                if let Ok((n, _)) = sock.recv_from(&mut buf) {
                    let line = String::from_utf8_lossy(&buf[..n]);
                    lock(&lines2).push(line.trim_end_matches(['\n', '\r', '\0']).to_string());
                }
            }
        });
        UdpCollector { port, lines, stop, thread: Some(thread) }
    }

    /// Every line received so far.
    pub fn lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }

    /// The first line (received so far or within `timeout`) matching `pred`.
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        self.wait_for_since(0, pred, timeout)
    }

    /// How many lines have been received: a mark for [`UdpCollector::wait_for_since`].
    pub fn mark(&self) -> usize {
        lock(&self.lines).len()
    }

    /// Like [`UdpCollector::wait_for`], ignoring the first `mark` lines.
    pub fn wait_for_since(&self, mark: usize, pred: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        let mut found = None;
        wait_until(timeout, || {
            found = lock(&self.lines).iter().skip(mark).find(|l| pred(l)).cloned();
            found.is_some()
        });
        found
    }
}

impl Drop for UdpCollector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if thread::panicking() {
            eprintln!("--- syslog lines at :{} ---", self.port);
            for l in lock(&self.lines).iter() {
                eprintln!("{l}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Log line parsing

/// An RFC3164 line `[<PRI>]Mmm dd hh:mm:ss [host ]tag[pid]: msg` (files written by `log file@` have no `<PRI>`).
#[derive(Debug, Clone)]
pub struct Syslog {
    pub pri: Option<u32>,
    pub timestamp: String,
    pub tag: String,
    pub pid: Option<u32>,
    pub msg: String,
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

pub fn parse_syslog(line: &str) -> Option<Syslog> {
    let (pri, rest) = match line.strip_prefix('<') {
        Some(r) => {
            let end = r.find('>')?;
            (Some(r[..end].parse().ok()?), &r[end + 1..])
        }
        None => (None, line),
    };
    // "Nov 25 15:26:02 " / "Nov  5 15:26:02 "
    let ts = rest.get(..15)?;
    let b = ts.as_bytes();
    let day_ok = (b[4] == b' ' || b[4].is_ascii_digit()) && b[5].is_ascii_digit();
    let time_ok = [7, 8, 10, 11, 13, 14].iter().all(|&i| b[i].is_ascii_digit()) && b[9] == b':' && b[12] == b':';
    if !MONTHS.contains(&&ts[..3]) || b[3] != b' ' || !day_ok || b[6] != b' ' || !time_ok {
        return None;
    }
    let after = rest.get(15..)?.strip_prefix(' ')?;
    let colon = after.find(": ")?;
    let head = after[..colon].rsplit(' ').next()?; // "tag[pid]" (a hostname may precede it)
    let (tag, pid) = match head.find('[') {
        Some(i) => (&head[..i], head[i + 1..].strip_suffix(']').and_then(|p| p.parse().ok())),
        None => (head, None),
    };
    Some(Syslog { pri, timestamp: ts.to_string(), tag: tag.to_string(), pid, msg: after[colon + 2..].to_string() })
}

/// The fields of an `option tcplog` line:
/// `client [accept_date] frontend backend/server Tw/Tc/Tt bytes state ac/fc/bc/sc/rc sq/bq`.
#[derive(Debug, Clone)]
pub struct TcpLog {
    pub client: SocketAddr,
    pub accept_date: String,
    pub frontend: String,
    pub backend: String,
    pub server: String,
    pub timers: String,
    pub bytes: u64,
    pub state: String,
    pub conns: String,
    pub queues: String,
}

/// Finds the tcplog fields anywhere in `line` (with or without the syslog header).
pub fn parse_tcplog(line: &str) -> Option<TcpLog> {
    let t: Vec<&str> = line.split_whitespace().collect();
    let i = (0..t.len().saturating_sub(1))
        .find(|&i| t[i].parse::<SocketAddr>().is_ok() && t[i + 1].starts_with('[') && t[i + 1].ends_with(']'))?;
    let f = t.get(i..i + 9)?;
    let (backend, server) = f[3].split_once('/')?;
    Some(TcpLog {
        client: f[0].parse().ok()?,
        accept_date: f[1].trim_matches(['[', ']']).to_string(),
        frontend: f[2].to_string(),
        backend: backend.to_string(),
        server: server.to_string(),
        timers: f[4].to_string(),
        bytes: f[5].parse().ok()?,
        state: f[6].to_string(),
        conns: f[7].to_string(),
        queues: f[8].to_string(),
    })
}

/// True if `line` is the traffic log line of the session whose client port is `port`.
pub fn is_session_of(line: &str, port: u16) -> bool {
    line.contains(&format!("127.0.0.1:{port} ["))
}

// ---------------------------------------------------------------------------------------------------------------
// Clients

/// A line-oriented TCP client with [`IO_TIMEOUT`] on connect, read and write; counts the bytes it received.
pub struct Conn {
    reader: BufReader<TcpStream>,
    received: usize,
}

impl Conn {
    pub fn open(port: u16) -> io::Result<Conn> {
        let s = TcpStream::connect_timeout(&loopback(port), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        let _ = s.set_nodelay(true);
        Ok(Conn { reader: BufReader::new(s), received: 0 })
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    pub fn local_port(&self) -> u16 {
        self.stream().local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn set_read_timeout(&self, t: Duration) {
        let _ = self.stream().set_read_timeout(Some(t));
    }

    /// One line without its `\r\n`; EOF before any byte is an `UnexpectedEof` error.
    pub fn read_line(&mut self) -> io::Result<String> {
        let mut s = String::new();
        let n = self.reader.read_line(&mut s)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        self.received += n;
        Ok(s.trim_end_matches(['\r', '\n']).to_string())
    }

    /// Reads the banner line and returns the server's name (`SSH-2.0-web01` → `web01`).
    pub fn banner(&mut self) -> io::Result<String> {
        let line = self.read_line()?;
        match line.strip_prefix("SSH-2.0-") {
            Some(name) => Ok(name.to_string()),
            None => Err(io::Error::new(io::ErrorKind::InvalidData, format!("not a banner: {line:?}"))),
        }
    }

    pub fn send(&mut self, text: &str) -> io::Result<()> {
        self.reader.get_mut().write_all(text.as_bytes())
    }

    /// Sends `text\n` and returns the reply line (`web01: text`).
    pub fn say(&mut self, text: &str) -> io::Result<String> {
        self.send(&format!("{text}\n"))?;
        self.read_line()
    }

    pub fn shutdown_write(&self) -> io::Result<()> {
        self.stream().shutdown(Shutdown::Write)
    }

    /// Everything until EOF.
    pub fn read_rest(&mut self) -> io::Result<String> {
        let mut s = String::new();
        let n = self.reader.read_to_string(&mut s)?;
        self.received += n;
        Ok(s)
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.received
    }
}

/// Connects to 127.0.0.1:`port` and reads one line (2 s timeout).
pub fn client_banner(port: u16) -> io::Result<String> {
    Conn::open(port)?.read_line()
}

/// Connects, reads the banner and returns the server's name.
pub fn banner_of(port: u16) -> io::Result<String> {
    Conn::open(port)?.banner()
}

/// What a [`ClientLoop`] saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub ok: usize,
    pub refused: usize,
    /// Every failure other than a refused connect (reset, EOF, timeout, garbage), described.
    pub failures: Vec<String>,
    /// Banner name → count.
    pub names: HashMap<String, usize>,
}

impl LoadReport {
    pub fn merge(&mut self, other: LoadReport) {
        self.ok += other.ok;
        self.refused += other.refused;
        self.failures.extend(other.failures);
        for (k, v) in other.names {
            *self.names.entry(k).or_default() += v;
        }
    }
}

/// A background thread making sequential connections (connect + read banner + close), `pace` apart, at least
/// `min` and at most `max` of them, stopping after `min` once [`ClientLoop::stop`] was called.
/// Each connection holds [`ClientLoop::gate`], so a test can act between two connections.
pub struct ClientLoop {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    gate: Arc<Mutex<()>>,
    thread: Option<JoinHandle<LoadReport>>,
}

impl ClientLoop {
    pub fn spawn(port: u16, min: usize, max: usize, pace: Duration) -> ClientLoop {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Mutex::new(()));
        let (stop2, done2, gate2) = (stop.clone(), done.clone(), gate.clone());
        let thread = thread::spawn(move || {
            let mut r = LoadReport::default();
            for i in 0..max {
                if i >= min && stop2.load(Ordering::SeqCst) {
                    break;
                }
                {
                    let _g = lock(&gate2);
                    match Conn::open(port) {
                        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => r.refused += 1,
                        Err(e) => r.failures.push(format!("#{i} connect: {e}")),
                        Ok(mut c) => match c.banner() {
                            Ok(name) => {
                                r.ok += 1;
                                *r.names.entry(name).or_default() += 1;
                            }
                            Err(e) => r.failures.push(format!("#{i} banner: {e}")),
                        },
                    }
                }
                done2.fetch_add(1, Ordering::SeqCst);
                thread::sleep(pace);
            }
            r
        });
        ClientLoop { stop, done, gate, thread: Some(thread) }
    }

    /// Connections attempted so far.
    pub fn done(&self) -> usize {
        self.done.load(Ordering::SeqCst)
    }

    pub fn gate(&self) -> Arc<Mutex<()>> {
        self.gate.clone()
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn join(mut self) -> LoadReport {
        self.stop();
        self.thread.take().unwrap().join().expect("client loop panicked")
    }
}

impl Drop for ClientLoop {
    fn drop(&mut self) {
        self.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Counts the banner names of `n` sequential connections (each: banner, then close).
pub fn banner_counts(port: u16, n: usize) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for i in 0..n {
        let name = banner_of(port).unwrap_or_else(|e| panic!("connection #{i} to :{port}: {e}"));
        *m.entry(name).or_default() += 1;
    }
    m
}

/// `counts[name]`, 0 if absent.
pub fn count(counts: &HashMap<String, usize>, name: &str) -> usize {
    counts.get(name).copied().unwrap_or(0)
}

/// One command on a new connection to a stats socket (HAProxy's one-shot mode); everything until EOF.
pub fn stats_cli(sock: &Path, cmd: &str) -> String {
    let mut s =
        std::os::unix::net::UnixStream::connect(sock).unwrap_or_else(|e| panic!("connect {}: {e}", sock.display()));
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("read timeout");
    s.set_write_timeout(Some(Duration::from_secs(5))).expect("write timeout");
    s.write_all(format!("{cmd}\n").as_bytes()).expect("write command");
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap_or_else(|e| panic!("`{cmd}`: read: {e} (got {out:?})"));
    out
}
