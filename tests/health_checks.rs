//! TCP health checks: DOWN after `fall` failures, UP after `rise` successes, no traffic to DOWN servers, and what
//! a client sees when no server is left (SPEC §5, §4 "no server"; HAPROXY-FACTS §1.7, §3.1, §5.2; issue 2).

mod support;

use std::time::{Duration, Instant};
use support::*;

const INTER_MS: u64 = 200;
const FALL: u64 = 2;
const RISE: u64 = 2;

/// `frontend fe` → `backend be` with checked servers, logging to the collector at local0 info.
fn checked_cfg(log_port: u16, port: u16, servers: &[(&str, u16)]) -> String {
    let servers: Vec<(&str, u16, &str)> = servers.iter().map(|(n, p)| (*n, *p, "")).collect();
    checked_cfg_with(log_port, port, &servers)
}

/// As [`checked_cfg`], with extra words per server (e.g. `backup`).
fn checked_cfg_with(log_port: u16, port: u16, servers: &[(&str, u16, &str)]) -> String {
    let mut cfg = format!(
        r#"global
    log 127.0.0.1:{log_port} local0 info

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    balance roundrobin
"#
    );
    for (name, p, extra) in servers {
        cfg.push_str(&format!(
            "    server {name} 127.0.0.1:{p} check inter {INTER_MS} fall {FALL} rise {RISE} {extra}\n"
        ));
    }
    cfg
}

fn margin() -> Duration {
    Duration::from_secs(1)
}

#[test]
fn stopped_server_goes_down_gets_no_traffic_and_comes_back() {
    let logs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let mut web02 = BannerServer::start("web02");
    let port = free_port();
    let _p =
        Proxy::start_and_wait(&checked_cfg(logs.port, port, &[("web01", web01.port), ("web02", web02.port)]), port);

    let before = banner_counts(port, 4);
    assert_eq!(count(&before, "web02"), 2, "both servers should serve at first: {before:?}");

    let mark = logs.mark();
    web02.stop();
    let t0 = Instant::now();
    let limit = Duration::from_millis(INTER_MS * FALL) + margin();
    let down = logs
        .wait_for_since(mark, |l| l.contains("Server be/web02 is DOWN"), limit)
        .unwrap_or_else(|| panic!("no 'Server be/web02 is DOWN' within {limit:?}"));
    eprintln!("DOWN logged after {:?}: {down}", t0.elapsed());
    assert!(down.starts_with("<129>"), "DOWN is logged at alert on local0 (<129>): {down}");
    assert!(down.contains("1 active and 0 backup servers left"), "server count in: {down}");

    let after = banner_counts(port, 10);
    assert_eq!(count(&after, "web01"), 10, "a DOWN server got traffic: {after:?}");

    let mark = logs.mark();
    web02.restart();
    let t1 = Instant::now();
    let limit = Duration::from_millis(INTER_MS * RISE) + margin();
    let up = logs
        .wait_for_since(mark, |l| l.contains("Server be/web02 is UP"), limit)
        .unwrap_or_else(|| panic!("no 'Server be/web02 is UP' within {limit:?} of the restart"));
    eprintln!("UP logged after {:?}: {up}", t1.elapsed());
    assert!(up.starts_with("<133>"), "UP is logged at notice on local0 (<133>): {up}");

    let back = banner_counts(port, 10);
    assert!(count(&back, "web02") >= 4, "web02 is UP again but gets (almost) no traffic: {back:?}");
}

#[test]
fn all_servers_down_closes_clients_promptly_and_logs_why() {
    let logs = UdpCollector::start();
    let mut web01 = BannerServer::start("web01");
    let port = free_port();
    let _p = Proxy::start_and_wait(&checked_cfg(logs.port, port, &[("web01", web01.port)]), port);
    assert_eq!(banner_of(port).unwrap(), "web01");

    let mark = logs.mark();
    web01.stop();
    let limit = Duration::from_millis(INTER_MS * FALL) + margin();
    logs.wait_for_since(mark, |l| l.contains("Server be/web01 is DOWN"), limit)
        .unwrap_or_else(|| panic!("no 'Server be/web01 is DOWN' within {limit:?}"));
    let none = logs
        .wait_for_since(mark, |l| l.contains("backend be has no server available"), Duration::from_millis(500))
        .expect("no 'backend be has no server available!' line");
    assert!(none.starts_with("<128>"), "'no server available' is logged at emerg on local0 (<128>): {none}");

    let mut c = Conn::open(port).expect("the frontend still accepts");
    let client_port = c.local_port();
    c.set_read_timeout(Duration::from_secs(3));
    let t0 = Instant::now();
    let r = c.read_line();
    let took = t0.elapsed();
    match &r {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
            panic!("client not closed within 3 s")
        }
        Err(_) => {} // EOF or reset
        Ok(line) => panic!("got data with no server available: {line:?}"),
    }
    // Contract: within 1 s; 250 ms of slack for a loaded test machine.
    assert!(took <= Duration::from_millis(1250), "client closed only after {took:?}");

    let line = logs
        .wait_for(|l| is_session_of(l, client_port), Duration::from_secs(2))
        .unwrap_or_else(|| panic!("no traffic log line for client port {client_port}"));
    let t = parse_tcplog(&line).unwrap_or_else(|| panic!("not a tcplog line: {line}"));
    assert!(line.starts_with("<134>"), "traffic at info on local0 (<134>): {line}");
    assert_eq!((t.frontend.as_str(), t.backend.as_str(), t.server.as_str()), ("fe", "be", "<NOSRV>"), "{line}");
    assert!(t.state.starts_with('S'), "termination state should start with S (SC): {line}");
}

#[test]
fn backup_server_serves_only_when_the_active_ones_are_down() {
    let logs = UdpCollector::start();
    let mut web01 = BannerServer::start("web01");
    let spare = BannerServer::start("spare");
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &checked_cfg_with(logs.port, port, &[("web01", web01.port, ""), ("spare", spare.port, "backup")]),
        port,
    );
    let counts = banner_counts(port, 6);
    assert_eq!(count(&counts, "web01"), 6, "a backup server got traffic while the active one is UP: {counts:?}");

    let mark = logs.mark();
    web01.stop();
    let limit = Duration::from_millis(INTER_MS * FALL) + margin();
    let down = logs
        .wait_for_since(mark, |l| l.contains("Server be/web01 is DOWN"), limit)
        .unwrap_or_else(|| panic!("no 'Server be/web01 is DOWN' within {limit:?}"));
    assert!(down.contains("0 active and 1 backup servers left"), "{down}");
    let counts = banner_counts(port, 4);
    assert_eq!(count(&counts, "spare"), 4, "the backup should take over: {counts:?}");
}

/// `on-marked-down shutdown-sessions`: when checks mark the server DOWN, its established sessions are closed at
/// once, even though the server itself still holds them open; without it they would live on.
#[test]
fn on_marked_down_shutdown_sessions_closes_established_sessions() {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    // A server whose open connections stay open after it stops listening (checks then fail, sessions don't).
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.set_nonblocking(true).expect("nonblocking");
    let sport = l.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let server = std::thread::spawn(move || {
        let mut held = Vec::new();
        let end = Instant::now() + Duration::from_secs(15);
        while !stop2.load(Ordering::SeqCst) && Instant::now() < end {
            match l.accept() {
                Ok((mut s, _)) => {
                    let _ = s.write_all(b"SSH-2.0-web01\r\n");
                    held.push(s);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        drop(l); // the port refuses from now on: checks fail
        std::thread::sleep(Duration::from_secs(4));
        held
    });
    let logs = UdpCollector::start();
    let port = free_port();
    let cfg = checked_cfg_with(logs.port, port, &[("web01", sport, "on-marked-down shutdown-sessions")]);
    let _p = Proxy::start_and_wait(&cfg, port);
    let c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut r = BufReader::new(c);
    let mut banner = String::new();
    r.read_line(&mut banner).expect("banner");
    assert_eq!(banner, "SSH-2.0-web01\r\n");
    stop.store(true, Ordering::SeqCst);
    let stopped = Instant::now();
    let mut rest = String::new();
    let n = r.read_line(&mut rest).expect("closed by the proxy (EOF), not left open until the read timeout");
    assert_eq!(n, 0, "the session must be closed, got {rest:?}");
    let limit = Duration::from_millis(INTER_MS * FALL) + margin();
    assert!(stopped.elapsed() < limit + Duration::from_millis(INTER_MS), "closed after {:?}", stopped.elapsed());
    assert!(logs.wait_for(|l| l.contains("is DOWN"), Duration::from_secs(2)).is_some(), "{:?}", logs.lines());
    drop(server);
}

/// `track be/web02`: a server of another proxy follows web02's health, DOWN and UP with it ("… via be/web02"),
/// and gets no traffic while it is DOWN.
#[test]
fn tracking_server_follows_the_tracked_ones_state() {
    let logs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let mut web02 = BannerServer::start("web02");
    let port = free_port();
    let port2 = free_port();
    let mut cfg = checked_cfg(logs.port, port, &[("web01", web01.port), ("web02", web02.port)]);
    cfg.push_str(&format!(
        "\nlisten l2\n    bind 127.0.0.1:{port2}\n    balance roundrobin\n    server t2 127.0.0.1:{} track be/web02\n    \
         server t1 127.0.0.1:{}\n",
        web02.port, web01.port
    ));
    let mut p = Proxy::start_and_wait(&cfg, port);
    p.wait_listening(port2);
    assert_eq!(count(&banner_counts(port2, 4), "web02"), 2, "the tracking server serves while web02 is UP");

    let mark = logs.mark();
    web02.stop();
    let limit = Duration::from_millis(INTER_MS * FALL) + margin();
    let down = logs
        .wait_for_since(mark, |l| l.contains("Server l2/t2 is DOWN via be/web02"), limit)
        .unwrap_or_else(|| panic!("no 'Server l2/t2 is DOWN via be/web02': {:?}", logs.lines()));
    assert!(down.contains("1 active and 0 backup servers left"), "{down}");
    assert_eq!(count(&banner_counts(port2, 6), "web01"), 6, "no traffic to a tracking server that is DOWN");

    let mark = logs.mark();
    web02.restart();
    let limit = Duration::from_millis(INTER_MS * RISE) + margin();
    logs.wait_for_since(mark, |l| l.contains("Server l2/t2 is UP via be/web02"), limit)
        .unwrap_or_else(|| panic!("no 'Server l2/t2 is UP via be/web02': {:?}", logs.lines()));
    assert!(count(&banner_counts(port2, 6), "web02") >= 2, "the tracking server serves again");
}
