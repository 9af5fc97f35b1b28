//! Master and workers: nbproc, respawn, signals (USR2 reload, USR1 soft stop, TERM/INT, TTOU/TTIN) and the classic
//! `-sf` hand-over (SPEC §1, §2; HAPROXY-FACTS §2.3–2.5; issue 2).

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::*;

fn cfg(nbproc: usize, port: u16, server: &BannerServer) -> String {
    format!(
        r#"global
    nbproc {nbproc}

defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen fe
    bind 127.0.0.1:{port}
    balance roundrobin
    server {name} 127.0.0.1:{sport}
"#,
        name = server.name,
        sport = server.port,
    )
}

#[test]
fn nbproc_4_gives_a_master_and_4_workers() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let p = Proxy::start_and_wait(&cfg(4, port, &web01), port);
    assert_eq!(p.pidfile_pid(), Some(p.pid()), "the pidfile must hold the master's pid");
    let workers = p.wait_workers(4, Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(p.workers(), workers, "the worker set should be stable");
    assert!(!workers.contains(&p.pid()));
    let counts = banner_counts(port, 8);
    assert_eq!(count(&counts, "web01"), 8);
}

#[test]
fn killed_worker_is_replaced_while_clients_are_served() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let p = Proxy::start_and_wait(&cfg(4, port, &web01), port);
    let before = p.wait_workers(4, Duration::from_secs(3));
    let victim = before[1];

    let clients = ClientLoop::spawn(port, 50, 50, Duration::from_millis(25));
    assert!(wait_until(Duration::from_secs(5), || clients.done() >= 5), "client loop does not progress");
    let t0 = {
        // Between two connections, so that no session of the test is in flight in the victim.
        let gate = clients.gate();
        let _g = lock(&gate);
        assert!(send_signal(victim, libc::SIGKILL));
        Instant::now()
    };
    let mut now = Vec::new();
    let replaced = wait_until(Duration::from_millis(1500), || {
        now = p.workers();
        now.len() == 4 && !now.contains(&victim)
    });
    let took = t0.elapsed();
    assert!(replaced, "worker {victim} not replaced within 1.5 s: workers now {now:?}");
    eprintln!("worker replaced after {took:?}");
    let new: Vec<_> = now.iter().filter(|w| !before.contains(w)).collect();
    assert_eq!(new.len(), 1, "exactly one new worker expected: before {before:?}, after {now:?}");

    let r = clients.join();
    assert_eq!(r.refused, 0, "{r:?}");
    assert!(r.failures.is_empty(), "{r:?}");
    assert_eq!(r.ok, 50, "{r:?}");
}

#[test]
fn usr2_reload_switches_backend_without_refusing_anyone() {
    let old = BannerServer::start("old01");
    let new = BannerServer::start("new01");
    let port = free_port();
    let p = Proxy::start_and_wait(&cfg(2, port, &old), port);
    let old_workers = p.wait_workers(2, Duration::from_secs(3));
    assert_eq!(banner_of(port).unwrap(), "old01");

    // 4 clients × ≥100 sequential connections around the reload.
    let loops: Vec<ClientLoop> = (0..4).map(|_| ClientLoop::spawn(port, 100, 400, Duration::from_millis(3))).collect();
    assert!(wait_until(Duration::from_secs(5), || loops.iter().all(|l| l.done() >= 10)), "load does not progress");
    p.rewrite_config(&cfg(2, port, &new));
    p.signal(libc::SIGUSR2);
    let t0 = Instant::now();
    let mut seen = String::new();
    let switched = wait_until(Duration::from_secs(5), || {
        seen = banner_of(port).unwrap_or_else(|e| panic!("probe during reload failed: {e}"));
        seen == "new01"
    });
    assert!(switched, "still served by {seen} 5 s after USR2; stderr:\n{}", p.stderr_text());
    eprintln!("new backend answering {:?} after USR2", t0.elapsed());
    std::thread::sleep(Duration::from_millis(200));

    let mut r = LoadReport::default();
    for l in loops {
        r.merge(l.join());
    }
    eprintln!("load: {} ok, names {:?}", r.ok, r.names);
    assert_eq!(r.refused, 0, "connections refused during reload: {r:?}");
    assert!(r.failures.is_empty(), "connections failed during reload: {:?}", r.failures);
    assert!(r.ok >= 400, "{r:?}");

    let after = banner_counts(port, 5);
    assert_eq!(count(&after, "new01"), 5, "after the reload: {after:?}");

    // The old workers finish (their sessions were short) and nbproc new ones remain.
    let mut now = Vec::new();
    let settled = wait_until(Duration::from_secs(5), || {
        now = p.workers();
        now.len() == 2 && now.iter().all(|w| !old_workers.contains(w))
    });
    assert!(settled, "old workers {old_workers:?} still there or wrong count: {now:?}");
}

#[test]
fn usr2_with_a_broken_config_keeps_the_old_workers() {
    let web01 = BannerServer::start("web01");
    let new = BannerServer::start("new01");
    let port = free_port();
    let mut p = Proxy::start_and_wait(&cfg(2, port, &web01), port);
    let workers = p.wait_workers(2, Duration::from_secs(3));

    p.rewrite_config(&format!("{}    frobnicate\n", cfg(2, port, &new)));
    p.signal(libc::SIGUSR2);
    std::thread::sleep(Duration::from_millis(700));
    assert!(!p.exited(), "master exited on a broken reload; stderr:\n{}", p.stderr_text());
    assert_eq!(p.workers(), workers, "workers changed on a broken reload");
    assert_eq!(count(&banner_counts(port, 4), "web01"), 4);

    // A config that parses but that workers could not run (a bad regex) is refused the same way.
    p.rewrite_config(&format!("{}    acl bad path_reg (unclosed\n", cfg(2, port, &new)));
    p.signal(libc::SIGUSR2);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(p.workers(), workers, "workers changed on a reload with a bad regex");
    assert_eq!(count(&banner_counts(port, 4), "web01"), 4);

    // The next USR2 with a good config is taken.
    p.rewrite_config(&cfg(2, port, &new));
    p.signal(libc::SIGUSR2);
    assert!(
        wait_until(Duration::from_secs(5), || banner_of(port).is_ok_and(|n| n == "new01")),
        "good config not taken by the next USR2; stderr:\n{}",
        p.stderr_text()
    );
}

#[test]
fn usr1_soft_stop_lets_the_session_finish() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let mut p = Proxy::start_and_wait(&cfg(1, port, &web01), port);
    let workers = p.wait_workers(1, Duration::from_secs(3));
    let mut c = Conn::open(port).unwrap();
    assert_eq!(c.banner().unwrap(), "web01");

    p.signal(libc::SIGUSR1);
    assert!(wait_until(Duration::from_secs(1), || is_refused(port)), "listener still accepting 1 s after USR1");
    assert_eq!(c.say("still there").unwrap(), "web01: still there", "in-flight session cut by USR1");
    assert!(!p.exited(), "master exited while a session was in flight");
    assert!(pid_alive(workers[0]), "worker exited while its session was in flight");

    c.shutdown_write().unwrap();
    let _ = c.read_rest();
    drop(c);
    let st = p.wait_exit(Duration::from_secs(3)).expect("master did not exit after the last session ended");
    assert!(st.success(), "soft stop should exit 0: {st}");
    assert!(wait_until(Duration::from_secs(1), || !pid_alive(workers[0])), "worker outlived the master");
    assert!(!p.pidfile().exists(), "the master removes its pidfile on soft stop");
}

fn hard_stop(sig: i32) {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let mut p = Proxy::start_and_wait(&cfg(2, port, &web01), port);
    let workers = p.wait_workers(2, Duration::from_secs(3));
    let mut c = Conn::open(port).unwrap();
    assert_eq!(c.banner().unwrap(), "web01");

    p.signal(sig);
    let t0 = Instant::now();
    assert!(p.wait_exit(Duration::from_secs(1)).is_some(), "master alive 1 s after signal {sig}");
    let gone =
        wait_until(Duration::from_secs(1).saturating_sub(t0.elapsed()), || workers.iter().all(|w| !pid_alive(*w)));
    assert!(gone, "workers {workers:?} alive 1 s after signal {sig}");
    c.set_read_timeout(Duration::from_secs(1));
    match c.read_line() {
        Ok(l) => panic!("session still delivering data after hard stop: {l:?}"),
        Err(e) => assert!(
            e.kind() != std::io::ErrorKind::WouldBlock && e.kind() != std::io::ErrorKind::TimedOut,
            "session not closed by hard stop"
        ),
    }
    assert!(wait_until(Duration::from_millis(500), || is_refused(port)), "port still open after hard stop");
}

#[test]
fn term_stops_everything_at_once() {
    hard_stop(libc::SIGTERM);
}

#[test]
fn int_stops_everything_at_once() {
    hard_stop(libc::SIGINT);
}

#[test]
fn ttou_pauses_and_ttin_resumes() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let mut p = Proxy::start_and_wait(&cfg(2, port, &web01), port);
    let workers = p.wait_workers(2, Duration::from_secs(3));
    assert_eq!(banner_of(port).unwrap(), "web01");

    p.signal(libc::SIGTTOU);
    assert!(wait_until(Duration::from_secs(1), || is_refused(port)), "still accepting 1 s after TTOU");
    std::thread::sleep(Duration::from_millis(200));
    assert!(is_refused(port), "accepting again while paused");
    assert!(!p.exited(), "master exited on TTOU");
    assert_eq!(p.workers(), workers, "workers changed on pause");

    p.signal(libc::SIGTTIN);
    assert!(
        wait_until(Duration::from_secs(1), || banner_of(port).is_ok_and(|n| n == "web01")),
        "not serving 1 s after TTIN"
    );
    assert_eq!(count(&banner_counts(port, 4), "web01"), 4);
}

#[test]
fn sf_hands_over_to_a_new_process_without_refusals() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let text = cfg(1, port, &web01);
    let mut first = Proxy::start_and_wait(&text, port);
    let first_workers: HashSet<i32> = first.wait_workers(1, Duration::from_secs(3)).into_iter().collect();
    let clients = ClientLoop::spawn(port, 20, 1000, Duration::from_millis(10));
    assert!(wait_until(Duration::from_secs(5), || clients.done() >= 10), "client loop does not progress");

    let old = first.pid().to_string();
    let second = Proxy::start_with(&text, &["-sf", &old]);
    let st = first.wait_exit(Duration::from_secs(3));
    assert!(st.is_some(), "first master still running 3 s after `-sf {old}`");
    assert!(wait_until(Duration::from_secs(1), || first_workers.iter().all(|w| !pid_alive(*w))), "old workers remain");
    let mark = clients.done();
    assert!(wait_until(Duration::from_secs(5), || clients.done() >= mark + 20), "client loop stalled after hand-over");
    let r = clients.join();
    assert_eq!(r.refused, 0, "connections refused during the hand-over: {r:?}");
    // A connection still in the old listener's accept queue when it closes is reset by the kernel: the known
    // limit of `-sf` reloads (HAPROXY-FACTS §2.4), hence one such failure is tolerated here (USR2 allows none).
    assert!(r.failures.len() <= 1, "failures during the hand-over: {:?}", r.failures);
    assert_eq!(banner_of(port).unwrap(), "web01");
    assert!(!second.workers().is_empty(), "the second instance has no worker");
}

#[test]
fn several_f_files_make_one_configuration() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let common = "global\n    nbproc 2\n\ndefaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10s\n    \
                  timeout server 10s\n";
    let listen = format!("listen fe\n    bind 127.0.0.1:{port}\n    server web01 127.0.0.1:{}\n", web01.port);
    let mut p = Proxy::start_files(&[("00-common.cfg", common), ("10-listen.cfg", &listen)], &[]);
    p.wait_listening(port);
    p.wait_workers(2, Duration::from_secs(3));
    let mut c = Conn::open(port).unwrap();
    assert_eq!(c.banner().unwrap(), "web01");
    assert_eq!(c.say("two files").unwrap(), "web01: two files");
}

#[test]
fn st_hands_over_and_stops_the_old_process_at_once() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let text = cfg(1, port, &web01);
    let mut first = Proxy::start_and_wait(&text, port);
    first.wait_workers(1, Duration::from_secs(3));
    let mut held = Conn::open(port).unwrap();
    assert_eq!(held.banner().unwrap(), "web01");

    let old = first.pid().to_string();
    let second = Proxy::start_with(&text, &["-st", &old]);
    // Unlike -sf, the open session does not keep the old process alive.
    assert!(first.wait_exit(Duration::from_secs(2)).is_some(), "old master alive 2 s after `-st {old}`");
    held.set_read_timeout(Duration::from_secs(1));
    assert!(held.say("anyone?").is_err(), "the old process's session survived -st");
    assert!(
        wait_until(Duration::from_secs(2), || banner_of(port).is_ok_and(|n| n == "web01")),
        "second instance not serving"
    );
    assert!(!second.workers().is_empty());
}
