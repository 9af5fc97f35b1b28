//! Privilege drop in the workers (`chroot`, `user`, `group`) and daemon mode `-D -p` (SPEC §1, §2; issue 2).

mod support;

use std::ffi::CString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use support::*;

fn uid_of(user: &str) -> Option<u32> {
    let name = CString::new(user).ok()?;
    // SAFETY: getpwnam returns NULL or a pointer to a static passwd record, read at once (tests are the only
    // callers and do not keep the pointer).
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    // SAFETY: non-null pointers from getpwnam point to a valid passwd struct.
    (!pw.is_null()).then(|| unsafe { (*pw).pw_uid })
}

fn gid_of(group: &str) -> Option<u32> {
    let name = CString::new(group).ok()?;
    // SAFETY: as for getpwnam above.
    let gr = unsafe { libc::getgrnam(name.as_ptr()) };
    // SAFETY: non-null pointers from getgrnam point to a valid group struct.
    (!gr.is_null()).then(|| unsafe { (*gr).gr_gid })
}

#[test]
fn workers_run_chrooted_as_nobody_and_still_proxy() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP: workers_run_chrooted_as_nobody_and_still_proxy needs root (chroot, setuid)");
        return;
    }
    let (Some(uid), Some(gid)) = (uid_of("nobody"), gid_of("nogroup")) else {
        eprintln!("SKIP: workers_run_chrooted_as_nobody_and_still_proxy needs user 'nobody' and group 'nogroup'");
        return;
    };
    let jail = TempDir::new("chroot");
    fs::set_permissions(jail.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let cfg = format!(
        r#"global
    chroot {jail}
    user nobody
    group nogroup
    nbproc 2

defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen fe
    bind 127.0.0.1:{port}
    server web01 127.0.0.1:{sport}
"#,
        jail = jail.path().display(),
        sport = web01.port,
    );
    let p = Proxy::start_and_wait(&cfg, port);
    let workers = p.wait_workers(2, Duration::from_secs(3));
    // Serving proves the workers got past their privilege drop (done before accepting anything).
    let counts = banner_counts(port, 4);
    assert_eq!(count(&counts, "web01"), 4, "{counts:?}");
    let mut c = Conn::open(port).unwrap();
    assert_eq!(c.banner().unwrap(), "web01");
    assert_eq!(c.say("hi").unwrap(), "web01: hi");

    for w in &workers {
        let uids = proc_status_ids(*w, "Uid").expect("Uid line");
        let gids = proc_status_ids(*w, "Gid").expect("Gid line");
        assert!(uids.iter().all(|u| *u == uid), "worker {w}: Uid {uids:?}, want all {uid} (saved uid too)");
        assert!(gids.iter().all(|g| *g == gid), "worker {w}: Gid {gids:?}, want all {gid}");
        let groups = proc_status_ids(*w, "Groups").unwrap_or_default();
        assert!(groups.iter().all(|g| *g == gid), "worker {w}: supplementary groups {groups:?} not dropped");
        let root = fs::read_link(format!("/proc/{w}/root")).expect("read /proc/PID/root");
        assert_eq!(root, jail.path(), "worker {w} is not chrooted");
    }
}

/// Kills a daemon's process tree if the test fails half-way.
struct KillOnDrop(Option<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            if pid_alive(pid) {
                kill_tree(pid);
            }
        }
    }
}

#[test]
fn daemon_mode_detaches_writes_pidfile_and_serves() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let dir = TempDir::new("daemon");
    let cfg = dir.join("nbproxy.cfg");
    let pidfile = dir.join("nbproxy.pid");
    fs::write(
        &cfg,
        format!(
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n\
             listen fe\n    bind 127.0.0.1:{port}\n    server web01 127.0.0.1:{}\n",
            web01.port
        ),
    )
    .unwrap();

    let r = run_bounded(&["-D", "-f", cfg.to_str().unwrap(), "-p", pidfile.to_str().unwrap()], Duration::from_secs(5));
    let pid: Option<i32> = fs::read_to_string(&pidfile).ok().and_then(|t| t.lines().next()?.trim().parse().ok());
    let mut guard = KillOnDrop(pid);
    assert_eq!(r.code, Some(0), "launcher failed:\n{}", r.combined());
    let pid = pid.unwrap_or_else(|| panic!("no pid in {} after -D returned", pidfile.display()));
    assert!(pid_alive(pid), "pid {pid} from the pidfile is not running");
    let workers = children_of(pid);
    assert!(!workers.is_empty(), "daemon master {pid} has no worker");

    assert!(
        wait_until(Duration::from_secs(2), || banner_of(port).is_ok_and(|n| n == "web01")),
        "daemon does not serve on {port}"
    );
    let mut c = Conn::open(port).unwrap();
    assert_eq!(c.banner().unwrap(), "web01");
    assert_eq!(c.say("daemon").unwrap(), "web01: daemon");
    drop(c);

    assert!(send_signal(pid, libc::SIGTERM));
    assert!(wait_until(Duration::from_secs(2), || !pid_alive(pid)), "daemon {pid} alive 2 s after TERM");
    assert!(wait_until(Duration::from_secs(1), || workers.iter().all(|w| !pid_alive(*w))), "workers outlived TERM");
    guard.0 = None;
}
