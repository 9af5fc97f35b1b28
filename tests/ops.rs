//! Operations (issue 4, SPEC §8 and §2): `scripts/install.sh --layout seed` in a temporary prefix, the LSB init
//! script `etc/init.d/nbproxy` driving the installed binary (start, status, reload with a changed and with a
//! broken config, stop), logrotate-style rename + HUP of the `file@` log, the systemd unit and logrotate snippet,
//! and the man pages rendering without warnings.
//!
//! The binary under test is installed with `install.sh --bin` (no build). Parts that need root (the workers'
//! chroot and `user nbproxy`, the system user made by install.sh) print `SKIP:` and are left out otherwise.

mod support;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};
use support::*;

const SRC: &str = env!("CARGO_MANIFEST_DIR");

fn src(rel: &str) -> PathBuf {
    Path::new(SRC).join(rel)
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Output of a bounded run of a script or tool.
#[derive(Debug)]
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn text(&self) -> String {
        format!("exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `cmd` with stdin from /dev/null and stdout/stderr in files (a daemon that keeps them open cannot hang us),
/// killed after `timeout`.
fn run_cmd(mut cmd: Command, timeout: Duration) -> Out {
    let dir = TempDir::new("cmd");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("create stdout file"))
        .stderr(File::create(&err).expect("create stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {timeout:?}; stderr:\n{}", fs::read_to_string(&err).unwrap_or_default());
        }
        thread::sleep(Duration::from_millis(10));
    };
    Out {
        code: status.code(),
        stdout: fs::read_to_string(&out).unwrap_or_default(),
        stderr: fs::read_to_string(&err).unwrap_or_default(),
    }
}

/// Pids of the processes whose command line or executable mentions `prefix`.
fn procs_of(prefix: &Path) -> Vec<i32> {
    let needle = prefix.to_string_lossy().into_owned();
    let me = std::process::id() as i32;
    let mut pids = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        if pid == me || !pid_alive(pid) {
            continue;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if cmdline.contains(&needle) || exe.to_string_lossy().starts_with(&needle) {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    pids
}

/// One `install.sh --layout seed` prefix in a temp dir. Dropping it kills whatever still runs from the prefix.
struct Installed {
    prefix: PathBuf,
    install: Out,
    dir: TempDir,
}

/// install.sh may create the `nbproxy` user: one install at a time in this test binary.
static INSTALLING: Mutex<()> = Mutex::new(());

impl Installed {
    fn new(tag: &str) -> Installed {
        let dir = TempDir::new(tag);
        let prefix = dir.join("opt/nbproxy");
        let install = {
            let _one = lock(&INSTALLING);
            Installed::run_install(&prefix)
        };
        assert_eq!(install.code, Some(0), "install.sh failed:\n{}", install.text());
        Installed { prefix, install, dir }
    }

    fn run_install(prefix: &Path) -> Out {
        let mut cmd = Command::new("sh");
        cmd.arg(src("scripts/install.sh"))
            .arg("--no-build")
            .arg("--bin")
            .arg(BIN)
            .arg("--prefix")
            .arg(prefix)
            .args(["--layout", "seed"]);
        run_cmd(cmd, Duration::from_secs(60))
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.prefix.join(rel)
    }

    fn cfg(&self) -> PathBuf {
        self.path("conf/nbproxy.cfg")
    }

    fn pidfile(&self) -> PathBuf {
        self.path("var/run/nbproxy.pid")
    }

    fn log(&self) -> PathBuf {
        self.path("logs/nbproxy.log")
    }

    /// `etc/init.d/nbproxy ACTION` with NBPROXY_BIN/CFG/PID pointing into the prefix.
    fn init(&self, action: &str) -> Out {
        let mut cmd = Command::new("sh");
        cmd.arg(src("etc/init.d/nbproxy"))
            .arg(action)
            .env("NBPROXY_BIN", self.path("sbin/nbproxy"))
            .env("NBPROXY_CFG", self.cfg())
            .env("NBPROXY_PID", self.pidfile())
            .env("NBPROXY_OPTS", "")
            // A system-wide /etc/default/nbproxy must not redirect the script elsewhere.
            .env("NBPROXY_DEFAULTS", self.dir.join("no-defaults"));
        run_cmd(cmd, Duration::from_secs(30))
    }

    fn pid(&self) -> Option<i32> {
        fs::read_to_string(self.pidfile()).ok()?.lines().next()?.trim().parse().ok()
    }

    /// Writes a config built from the installed one: its `global` section (chroot, user/group, pidfile and the
    /// `file@` log in the prefix; only as root for chroot and user/group), `nbproc 2`, no syslog target, and a
    /// `mode tcp` listener on 127.0.0.1:`port` in front of the given servers, with `option tcplog`.
    fn write_cfg(&self, port: u16, servers: &[(&str, u16)]) {
        write_atomic(&self.cfg(), &self.cfg_text(port, servers));
    }

    fn cfg_text(&self, port: u16, servers: &[(&str, u16)]) -> String {
        let installed = fs::read_to_string(self.cfg()).expect("read installed config");
        let mut global = String::from("global\n");
        let mut in_global = false;
        for line in installed.lines() {
            let t = line.trim();
            if !line.starts_with([' ', '\t']) && !t.is_empty() && !t.starts_with('#') {
                in_global = t == "global";
                continue;
            }
            if !in_global || t.is_empty() || t.starts_with('#') {
                continue;
            }
            let kw = t.split_whitespace().next().unwrap_or("");
            let keep = match kw {
                "log" => t.contains("file@"),
                "nbproc" | "maxconn" => false,
                "chroot" | "user" | "group" => is_root(),
                _ => true,
            };
            if keep {
                let words: Vec<&str> = t.split_whitespace().collect();
                global.push_str(&format!("    {}\n", words.join(" ")));
            }
        }
        global.push_str("    nbproc 2\n    maxconn 256\n");
        let mut c = format!(
            "{global}\ndefaults\n    mode tcp\n    log global\n    option tcplog\n    retries 3\n    option redispatch\n    \
             timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n\nlisten www\n    \
             bind 127.0.0.1:{port}\n    balance roundrobin\n"
        );
        for (name, p) in servers {
            c.push_str(&format!("    server {name} 127.0.0.1:{p}\n"));
        }
        c
    }

    fn wait_listening(&self, port: u16) {
        assert!(
            wait_until(START_TIMEOUT, || is_listening(port)),
            "port {port} not listening after start; log:\n{}",
            fs::read_to_string(self.log()).unwrap_or_default()
        );
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            if procs_of(&self.prefix).contains(&pid) {
                kill_tree(pid);
            }
        }
        for pid in procs_of(&self.prefix) {
            kill_tree(pid);
        }
        wait_until(Duration::from_secs(2), || procs_of(&self.prefix).is_empty());
        if thread::panicking() {
            eprintln!("--- {} ---\n{}", self.log().display(), fs::read_to_string(self.log()).unwrap_or_default());
        }
    }
}

fn skip_unless_root(what: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!("SKIP: not root: {what}");
    true
}

/// A complete session: banner, one echoed line, clean close. Returns (server name, client port).
fn session(port: u16) -> (String, u16) {
    let mut c = Conn::open(port).expect("connect");
    let name = c.banner().expect("banner");
    assert_eq!(c.say("hello").expect("echo"), format!("{name}: hello"));
    c.shutdown_write().unwrap();
    assert_eq!(c.read_rest().expect("read to EOF"), "", "unexpected data after the echo");
    (name, c.local_port())
}

fn lines_of(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------------------------------

#[test]
fn install_seed_layout_makes_the_tree_and_is_idempotent() {
    let inst = Installed::new("install");
    let p = &inst.prefix;
    for d in ["sbin", "conf", "logs", "var/run", "var/chroot", "share/man/man1", "share/man/man5"] {
        assert!(p.join(d).is_dir(), "{d} missing under {}:\n{}", p.display(), inst.install.text());
    }
    for f in ["sbin/nbproxy", "share/man/man1/nbproxy.1", "share/man/man5/nbproxy.cfg.5", "conf/nbproxy.cfg"] {
        assert!(p.join(f).is_file(), "{f} missing under {}", p.display());
    }
    assert_eq!(fs::read(p.join("sbin/nbproxy")).unwrap(), fs::read(BIN).unwrap(), "sbin/nbproxy is not --bin");
    assert!(
        inst.install.stdout.contains("installed") && inst.install.stdout.contains("created"),
        "{}",
        inst.install.text()
    );

    // The sample config points into the prefix, keeps the seed's keywords, and passes -c as installed.
    let cfg = fs::read_to_string(inst.cfg()).unwrap();
    assert!(!cfg.contains("/application/nbproxy"), "seed paths left in the installed config:\n{cfg}");
    let pre = p.display();
    for want in [
        format!("chroot   {pre}/var/chroot"),
        format!("pidfile  {pre}/var/run/nbproxy.pid"),
        format!("log      file@{pre}/logs/nbproxy.log local0 info"),
        "user     nbproxy".to_string(),
        "stats uri /admin?stats".to_string(),
        "option  httpchk HEAD /check.html  HTTP/1.0".to_string(),
        "nbproc   8".to_string(),
    ] {
        assert!(cfg.contains(&want), "installed config lacks {want:?}:\n{cfg}");
    }
    let check = run_bounded(&["-c", "-f", &inst.cfg().to_string_lossy()], Duration::from_secs(10));
    assert_eq!(check.code, Some(0), "installed sample config does not pass -c:\n{}", check.combined());
    assert!(check.stdout.contains("Configuration file is valid"), "{check:?}");

    // A second run replaces the binary and man pages but keeps the operator's config.
    fs::write(inst.cfg(), format!("{cfg}# local edit\n")).unwrap();
    let again = {
        let _one = lock(&INSTALLING);
        Installed::run_install(p)
    };
    assert_eq!(again.code, Some(0), "second install.sh failed:\n{}", again.text());
    assert!(again.stdout.contains("kept existing"), "{}", again.text());
    assert!(fs::read_to_string(inst.cfg()).unwrap().ends_with("# local edit\n"), "config overwritten");

    if skip_unless_root("install.sh creates the nbproxy system user only as root") {
        return;
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap();
    let entry = passwd.lines().find(|l| l.starts_with("nbproxy:")).expect("no nbproxy user after install.sh as root");
    let f: Vec<&str> = entry.split(':').collect();
    assert!(f[6].ends_with("nologin"), "nbproxy has a login shell: {entry}");
    assert!(f[2].parse::<u32>().unwrap() < 1000, "nbproxy is not a system user: {entry}");
    assert!(!Path::new(f[5]).exists() || f[5] == "/" || f[5] == "/nonexistent", "nbproxy got a home: {entry}");
}

#[test]
fn init_script_start_status_reload_stop() {
    let inst = Installed::new("initd");
    if !is_root() {
        eprintln!("SKIP: not root: running without the installed config's chroot and user/group");
    }
    let web01 = BannerServer::start("web01");
    let web02 = BannerServer::start("web02");
    let port = free_port();
    inst.write_cfg(port, &[("web01", web01.port)]);

    let start = inst.init("start");
    assert_eq!(start.code, Some(0), "start:\n{}", start.text());
    inst.wait_listening(port);
    let master = inst.pid().expect("no pid in the pidfile after start");
    assert!(pid_alive(master), "pidfile's {master} is not running");
    assert_eq!(banner_of(port).expect("session after start"), "web01");
    if is_root() {
        let workers = children_of(master);
        assert_eq!(workers.len(), 2, "nbproc 2: workers {workers:?}");
        for w in workers {
            let uid = proc_status_ids(w, "Uid").unwrap();
            assert!(uid.iter().all(|u| *u != 0), "worker {w} still root: {uid:?}");
            let root = fs::read_link(format!("/proc/{w}/root")).unwrap();
            assert_eq!(root, inst.path("var/chroot"), "worker {w} not chrooted");
        }
    }
    // A second start is a no-op.
    let again = inst.init("start");
    assert_eq!(again.code, Some(0), "start while running:\n{}", again.text());
    assert_eq!(inst.pid(), Some(master));

    let status = inst.init("status");
    assert_eq!(status.code, Some(0), "status while running:\n{}", status.text());
    assert!(status.stdout.contains(&master.to_string()), "{}", status.text());

    // Reload onto another backend.
    inst.write_cfg(port, &[("web02", web02.port)]);
    let reload = inst.init("reload");
    assert_eq!(reload.code, Some(0), "reload:\n{}", reload.text());
    assert!(
        wait_until(Duration::from_secs(5), || banner_of(port).is_ok_and(|n| n == "web02")),
        "the reloaded config (web02) is not used"
    );
    thread::sleep(Duration::from_millis(300)); // old workers finish
    let counts = banner_counts(port, 10);
    assert_eq!(count(&counts, "web02"), 10, "after reload: {counts:?}");
    assert_eq!(inst.pid(), Some(master), "reload changed the master");

    // A broken config is refused: non-zero exit, a message, the old one keeps serving.
    let good = fs::read_to_string(inst.cfg()).unwrap();
    write_atomic(
        &inst.cfg(),
        &format!("{}\n    no-such-keyword here\n", inst.cfg_text(port, &[("web01", web01.port)])),
    );
    let bad = inst.init("reload");
    assert_ne!(bad.code, Some(0), "reload of a broken config succeeded:\n{}", bad.text());
    assert!(bad.stderr.contains("invalid") && bad.stderr.contains("not reloading"), "{}", bad.text());
    assert!(
        bad.stderr.contains("[ALERT]") && bad.stderr.contains("no-such-keyword"),
        "errors not shown:\n{}",
        bad.text()
    );
    thread::sleep(Duration::from_millis(300));
    let counts = banner_counts(port, 10);
    assert_eq!(count(&counts, "web02"), 10, "after a refused reload: {counts:?}");
    assert_eq!(inst.pid(), Some(master), "a refused reload changed the master");
    assert!(pid_alive(master));
    let force = inst.init("force-reload");
    assert_ne!(force.code, Some(0), "force-reload of a broken config succeeded:\n{}", force.text());
    write_atomic(&inst.cfg(), &good);

    let check = inst.init("check");
    assert_eq!(check.code, Some(0), "check:\n{}", check.text());
    assert!(check.stdout.contains("Configuration file is valid"), "{}", check.text());

    let stop = inst.init("stop");
    assert_eq!(stop.code, Some(0), "stop:\n{}", stop.text());
    assert!(!inst.pidfile().exists(), "pidfile left after stop");
    assert!(!pid_alive(master), "master {master} alive after stop");
    assert!(
        wait_until(Duration::from_secs(3), || procs_of(&inst.prefix).is_empty()),
        "processes left from {}: {:?}",
        inst.prefix.display(),
        procs_of(&inst.prefix)
    );
    assert!(is_refused(port), "port {port} still accepts after stop");

    let status = inst.init("status");
    assert_eq!(status.code, Some(3), "status after stop:\n{}", status.text());
    let stop = inst.init("stop");
    assert_eq!(stop.code, Some(0), "stop when not running is a success (LSB):\n{}", stop.text());
    let reload = inst.init("reload");
    assert_eq!(reload.code, Some(7), "reload when not running (LSB 7):\n{}", reload.text());
}

#[test]
fn init_script_refuses_a_broken_config_and_handles_a_stale_pidfile() {
    let inst = Installed::new("initbad");
    let web01 = BannerServer::start("web01");
    let port = free_port();
    write_atomic(&inst.cfg(), &format!("{}    bogus-keyword\n", inst.cfg_text(port, &[("web01", web01.port)])));
    let start = inst.init("start");
    assert_eq!(start.code, Some(6), "start with a broken config (LSB 6):\n{}", start.text());
    assert!(start.stderr.contains("bogus-keyword") && start.stderr.contains("not starting"), "{}", start.text());
    assert!(procs_of(&inst.prefix).is_empty(), "something started: {:?}", procs_of(&inst.prefix));
    let check = inst.init("check");
    assert_ne!(check.code, Some(0), "check of a broken config:\n{}", check.text());

    // A pidfile naming a dead process: status 1, stop removes it, then status 3.
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    fs::write(inst.pidfile(), format!("{dead_pid}\n")).unwrap();
    let status = inst.init("status");
    assert_eq!(status.code, Some(1), "status with a stale pidfile:\n{}", status.text());
    let stop = inst.init("stop");
    assert_eq!(stop.code, Some(0), "stop with a stale pidfile:\n{}", stop.text());
    assert!(!inst.pidfile().exists(), "stale pidfile not removed");
    assert_eq!(inst.init("status").code, Some(3));

    // restart with a good config starts it; restart onto a broken one leaves it running.
    inst.write_cfg(port, &[("web01", web01.port)]);
    let restart = inst.init("restart");
    assert_eq!(restart.code, Some(0), "restart:\n{}", restart.text());
    inst.wait_listening(port);
    let master = inst.pid().expect("pid after restart");
    let good = fs::read_to_string(inst.cfg()).unwrap();
    write_atomic(&inst.cfg(), &format!("{good}    bogus-keyword\n"));
    let restart = inst.init("restart");
    assert_eq!(restart.code, Some(6), "restart onto a broken config:\n{}", restart.text());
    assert_eq!(inst.pid(), Some(master), "restart with a broken config stopped the running master");
    assert_eq!(banner_of(port).expect("still serving"), "web01");
    let usage = inst.init("frobnicate");
    assert_ne!(usage.code, Some(0));
    assert!(usage.stderr.contains("Usage:"), "{}", usage.text());
    let stop = inst.init("graceful-stop");
    assert_eq!(stop.code, Some(0), "graceful-stop:\n{}", stop.text());
    assert!(!pid_alive(master) && !inst.pidfile().exists());
}

#[test]
fn log_rename_and_hup_lose_no_line() {
    rotation_loses_no_line("logrotate", |inst, master| {
        // What logrotate does (without copytruncate): rename, then the postrotate HUP.
        fs::rename(inst.log(), inst.path("logs/nbproxy.log.1")).unwrap();
        assert!(send_signal(master, libc::SIGHUP), "HUP to {master}");
    });
}

/// The installed logrotate snippet run by logrotate itself (`-f`, a private state file).
#[test]
fn logrotate_snippet_rotates_and_hups() {
    if skip_unless_root("the logrotate snippet creates the new file as root") {
        return;
    }
    let probe = Command::new("logrotate").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !matches!(probe, Ok(s) if s.success()) {
        eprintln!("SKIP: logrotate is not installed (apt-get install logrotate)");
        return;
    }
    rotation_loses_no_line("logrotate-real", |inst, _master| {
        let mut cmd = Command::new("logrotate");
        cmd.arg("-f")
            .arg("-s")
            .arg(inst.dir.join("logrotate.state"))
            .arg(inst.path("share/nbproxy/logrotate.d/nbproxy"));
        let out = run_cmd(cmd, Duration::from_secs(30));
        assert_eq!(out.code, Some(0), "logrotate:\n{}", out.text());
    });
}

/// Starts the installed nbproxy with its `file@` log, makes N sessions, calls `rotate` (which must leave the old
/// lines in `logs/nbproxy.log.1` and make the master reopen `logs/nbproxy.log`), makes M more: every session is
/// logged exactly once, the first N in the rotated file and the next M in the new one.
fn rotation_loses_no_line(tag: &str, rotate: impl FnOnce(&Installed, i32)) {
    const N: usize = 20;
    const M: usize = 15;
    let inst = Installed::new(tag);
    let web01 = BannerServer::start("web01");
    let port = free_port();
    inst.write_cfg(port, &[("web01", web01.port)]);
    let cfg = fs::read_to_string(inst.cfg()).unwrap();
    let want = format!("log file@{} local0 info", inst.log().display());
    assert!(cfg.contains(&want), "the installed global section has no {want:?}:\n{cfg}");
    let start = inst.init("start");
    assert_eq!(start.code, Some(0), "start:\n{}", start.text());
    inst.wait_listening(port);
    let master = inst.pid().expect("pid");

    let log = inst.log();
    let rotated = inst.path("logs/nbproxy.log.1");
    let ports_in = |path: &Path, ports: &[u16]| {
        let lines = lines_of(path);
        ports.iter().filter(|cp| lines.iter().any(|l| is_session_of(l, **cp))).count()
    };
    let first: Vec<u16> = (0..N).map(|_| session(port).1).collect();
    assert!(
        wait_until(Duration::from_secs(5), || ports_in(&log, &first) == N),
        "only {} of {N} sessions logged in {}",
        ports_in(&log, &first),
        log.display()
    );

    rotate(&inst, master);
    assert!(rotated.exists(), "no {} after the rotation", rotated.display());
    wait_until(Duration::from_secs(1), || log.exists());
    thread::sleep(Duration::from_millis(200));

    let second: Vec<u16> = (0..M).map(|_| session(port).1).collect();
    let total =
        || ports_in(&rotated, &first) + ports_in(&rotated, &second) + ports_in(&log, &first) + ports_in(&log, &second);
    assert!(
        wait_until(Duration::from_secs(5), || total() == N + M),
        "{} of {} sessions logged; new file {:#?}",
        total(),
        N + M,
        lines_of(&log)
    );
    assert_eq!(ports_in(&rotated, &first), N, "sessions before the rename are not all in the rotated file");
    assert_eq!(ports_in(&log, &second), M, "sessions after the HUP are not all in the new file");
    assert_eq!(ports_in(&log, &first), 0, "old sessions in the new file");
    assert_eq!(ports_in(&rotated, &second), 0, "new sessions in the rotated file");
    let all: Vec<String> = lines_of(&rotated).into_iter().chain(lines_of(&log)).collect();
    for cp in first.iter().chain(&second) {
        assert_eq!(all.iter().filter(|l| is_session_of(l, *cp)).count(), 1, "session {cp} not logged exactly once");
    }
    for l in all.iter().filter(|l| first.iter().chain(&second).any(|cp| is_session_of(l, *cp))) {
        assert!(parse_tcplog(l).is_some(), "not a tcplog line: {l}");
    }

    let stop = inst.init("stop");
    assert_eq!(stop.code, Some(0), "stop:\n{}", stop.text());
}

#[test]
fn systemd_unit_and_logrotate_snippet() {
    let unit = fs::read_to_string(src("etc/systemd/nbproxy.service")).unwrap();
    for want in [
        "Type=forking",
        "PIDFile=/application/nbproxy/var/run/nbproxy.pid",
        "ExecStartPre=",
        "-D -f",
        "ExecReload=/bin/kill -USR2 $MAINPID",
        "KillMode=mixed",
        "Restart=on-failure",
    ] {
        assert!(unit.contains(want), "unit lacks {want:?}");
    }
    let pre = unit.lines().find(|l| l.starts_with("ExecStartPre=")).unwrap();
    assert!(pre.contains(" -c "), "ExecStartPre does not check the config: {pre}");
    let reloads: Vec<&str> = unit.lines().filter(|l| l.starts_with("ExecReload=")).collect();
    assert_eq!(reloads.len(), 2, "ExecReload: check, then USR2: {reloads:?}");
    assert!(reloads[0].contains(" -c "), "the first ExecReload does not check the config: {}", reloads[0]);

    let rot = fs::read_to_string(src("etc/logrotate.d/nbproxy")).unwrap();
    assert!(rot.contains("/application/nbproxy/logs/nbproxy.log {"), "{rot}");
    for want in ["missingok", "notifempty", "compress", "delaycompress", "postrotate", "kill -HUP", "nbproxy.pid"] {
        assert!(rot.contains(want), "logrotate snippet lacks {want:?}");
    }

    // install.sh ships both, and the init script, rewritten to the prefix.
    let inst = Installed::new("etcfiles");
    let pre = inst.prefix.display().to_string();
    let unit = fs::read_to_string(inst.path("share/nbproxy/systemd/nbproxy.service")).unwrap();
    assert!(unit.contains(&format!("PIDFile={pre}/var/run/nbproxy.pid")), "{unit}");
    let rot = fs::read_to_string(inst.path("share/nbproxy/logrotate.d/nbproxy")).unwrap();
    assert!(rot.contains(&format!("{pre}/logs/nbproxy.log {{")), "{rot}");
    let init = fs::read_to_string(inst.path("share/nbproxy/init.d/nbproxy")).unwrap();
    assert!(init.contains(&format!("{pre}/sbin/nbproxy")) && init.contains("### BEGIN INIT INFO"), "{init}");
}

#[test]
fn shell_scripts_are_shellcheck_clean() {
    let probe = Command::new("shellcheck").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !matches!(probe, Ok(s) if s.success()) {
        eprintln!("SKIP: shellcheck is not installed (apt-get install shellcheck)");
        return;
    }
    let mut cmd = Command::new("shellcheck");
    cmd.args(["--shell=sh", "--severity=style"]).arg(src("etc/init.d/nbproxy")).arg(src("scripts/install.sh"));
    let out = run_cmd(cmd, Duration::from_secs(60));
    assert_eq!(out.code, Some(0), "shellcheck:\n{}", out.text());
    for f in ["etc/init.d/nbproxy", "scripts/install.sh"] {
        let text = fs::read_to_string(src(f)).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"), "{f} is not a POSIX sh script");
    }
}

/// `MANWIDTH=80 man --warnings -l PAGE`: stderr must be empty. Skipped when `man` is missing.
fn man_warnings(page: &Path) -> io::Result<Out> {
    Command::new("man").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status()?;
    let mut cmd = Command::new("man");
    cmd.args(["--warnings", "-l"]).arg(page).env("MANWIDTH", "80").env("MANPAGER", "cat").env("PAGER", "cat");
    Ok(run_cmd(cmd, Duration::from_secs(30)))
}

#[test]
fn man_pages_render_without_warnings() {
    for page in ["man/nbproxy.1", "man/nbproxy.cfg.5"] {
        let out = match man_warnings(&src(page)) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("SKIP: man is not installed ({e}); apt-get install man-db groff-base");
                return;
            }
        };
        assert_eq!(out.code, Some(0), "man -l {page}:\n{}", out.text());
        assert_eq!(out.stderr, "", "man -l {page} warned:\n{}", out.stderr);
        assert!(out.stdout.contains("NAME") && out.stdout.contains("nbproxy"), "{page} rendered nothing useful");
    }
}
