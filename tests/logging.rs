//! Logging: syslog over UDP with `<PRI>` and `option tcplog` fields, level filtering, `option dontlognull`, and
//! `file@` targets reopened on SIGHUP (SPEC §7; HAPROXY-FACTS §3; issue 2).

mod support;

use std::fs;
use std::path::Path;
use std::thread;
use std::time::Duration;
use support::*;

/// `frontend fe` → `backend be` with the given global `log` lines and defaults extras.
fn cfg(global_logs: &[String], defaults_extra: &str, port: u16, servers: &[(&str, u16, &str)]) -> String {
    let mut c = String::from("global\n");
    for l in global_logs {
        c.push_str(&format!("    {l}\n"));
    }
    c.push_str(&format!(
        "\ndefaults\n    mode tcp\n    log global\n    option tcplog\n{defaults_extra}    timeout connect 1s\n    \
         timeout client 10s\n    timeout server 10s\n\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\n\
         backend be\n    balance roundrobin\n"
    ));
    for (name, p, extra) in servers {
        c.push_str(&format!("    server {name} 127.0.0.1:{p} {extra}\n"));
    }
    c
}

/// A complete session: banner, one echoed line, clean close. Returns (client port, bytes received).
fn session(port: u16) -> (u16, usize) {
    let mut c = Conn::open(port).expect("connect");
    let name = c.banner().expect("banner");
    assert_eq!(c.say("hello").expect("echo"), format!("{name}: hello"));
    c.shutdown_write().unwrap();
    let rest = c.read_rest().expect("read to EOF");
    assert_eq!(rest, "", "unexpected data after the echo");
    (c.local_port(), c.received())
}

#[test]
fn syslog_line_has_facility_priority_and_tcplog_fields() {
    let logs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let text = cfg(&[format!("log 127.0.0.1:{} local3 info", logs.port)], "", port, &[("web01", web01.port, "")]);
    let _p = Proxy::start_and_wait(&text, port);

    let (client_port, received) = session(port);
    assert_eq!(received, "SSH-2.0-web01\r\n".len() + "web01: hello\n".len());
    let line = logs
        .wait_for(|l| is_session_of(l, client_port), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no traffic line for client port {client_port}"));

    // local3 = 19, info = 6: 19*8 + 6 = 158.
    assert!(line.starts_with("<158>"), "PRI of local3.info is <158>: {line}");
    let s = parse_syslog(&line).unwrap_or_else(|| panic!("not an RFC3164 line: {line}"));
    assert!(s.pid.is_some(), "no tag[pid] in: {line}");
    let t = parse_tcplog(&s.msg).unwrap_or_else(|| panic!("not a tcplog message: {}", s.msg));
    assert_eq!(t.client.port(), client_port);
    assert_eq!(t.frontend, "fe", "{line}");
    assert_eq!(format!("{}/{}", t.backend, t.server), "be/web01", "{line}");
    assert_eq!(t.state, "--", "normal termination: {line}");
    assert_eq!(t.bytes, received as u64, "bytes server→client: {line}");
    assert_eq!(t.timers.split('/').count(), 3, "Tw/Tc/Tt: {line}");
    assert_eq!(t.conns.split('/').count(), 5, "ac/fc/bc/sc/rc: {line}");
    assert_eq!(t.queues, "0/0", "sq/bq: {line}");
}

#[test]
fn warning_level_target_gets_state_changes_but_no_traffic() {
    let info = UdpCollector::start();
    let warn = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let mut web02 = BannerServer::start("web02");
    let port = free_port();
    let check = "check inter 200 fall 2 rise 2";
    let text = cfg(
        &[format!("log 127.0.0.1:{} local0 info", info.port), format!("log 127.0.0.1:{} local0 warning", warn.port)],
        "",
        port,
        &[("web01", web01.port, check), ("web02", web02.port, check)],
    );
    let _p = Proxy::start_and_wait(&text, port);

    let (client_port, _) = session(port);
    info.wait_for(|l| is_session_of(l, client_port), Duration::from_secs(3))
        .expect("the info target got no traffic line");

    web02.stop();
    let down = warn
        .wait_for(|l| l.contains("Server be/web02 is DOWN"), Duration::from_secs(2))
        .expect("the warning target did not get the DOWN line");
    assert!(down.starts_with("<129>"), "{down}");
    let mark = info.mark();
    web02.restart();
    info.wait_for_since(mark, |l| l.contains("Server be/web02 is UP"), Duration::from_secs(2))
        .expect("the info target did not get the UP line");
    thread::sleep(Duration::from_millis(200));

    let w = warn.lines();
    assert!(!w.iter().any(|l| is_session_of(l, client_port)), "traffic (info) reached the warning target: {w:#?}");
    assert!(!w.iter().any(|l| l.contains("is UP")), "UP (notice) reached the warning target: {w:#?}");
    assert!(w.iter().all(|l| parse_syslog(l).and_then(|s| s.pri).is_some_and(|p| p % 8 <= 4)), "{w:#?}");
}

#[test]
fn dontlognull_skips_sessions_without_client_data() {
    let logs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let text = cfg(
        &[format!("log 127.0.0.1:{} local0 info", logs.port)],
        "    option dontlognull\n",
        port,
        &[("web01", web01.port, "")],
    );
    let _p = Proxy::start_and_wait(&text, port);

    // Connect, read the banner, close without sending anything.
    let mut silent = Conn::open(port).unwrap();
    assert_eq!(silent.banner().unwrap(), "web01");
    let silent_port = silent.local_port();
    silent.shutdown_write().unwrap();
    let _ = silent.read_rest();
    drop(silent);
    thread::sleep(Duration::from_millis(100));

    let (talk_port, _) = session(port);
    logs.wait_for(|l| is_session_of(l, talk_port), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no line for the session that sent data (port {talk_port})"));
    thread::sleep(Duration::from_millis(300));
    let lines = logs.lines();
    assert!(!lines.iter().any(|l| is_session_of(l, silent_port)), "null session logged: {lines:#?}");
}

/// True if `n` appears in `line` as a whole number (not as part of a longer one).
fn names_number(line: &str, n: i32) -> bool {
    line.split(|c: char| !c.is_ascii_digit()).any(|t| t == n.to_string())
}

fn lines_of(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

#[test]
fn file_log_is_reopened_after_rename_and_hup() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let dir = TempDir::new("filelog");
    let log = dir.join("nbproxy.log");
    let rotated = dir.join("nbproxy.log.1");
    let text = cfg(&[format!("log file@{} local0 info", log.display())], "", port, &[("web01", web01.port, "")]);
    let p = Proxy::start_and_wait(&text, port);

    let first: Vec<u16> = (0..5).map(|_| session(port).0).collect();
    let in_file = |path: &Path, ports: &[u16]| {
        let lines = lines_of(path);
        ports.iter().all(|cp| lines.iter().any(|l| is_session_of(l, *cp)))
    };
    assert!(
        wait_until(Duration::from_secs(3), || in_file(&log, &first)),
        "first sessions not all in {}: {:#?}",
        log.display(),
        lines_of(&log)
    );
    for l in lines_of(&log).iter().filter(|l| !l.is_empty()) {
        let s = parse_syslog(l).unwrap_or_else(|| panic!("file line is not `Mmm dd hh:mm:ss host tag[pid]: msg`: {l}"));
        assert_eq!(s.pri, None, "file lines carry no <PRI>: {l}");
    }

    fs::rename(&log, &rotated).unwrap();
    p.signal(libc::SIGHUP);
    // Give the master a moment to reopen (it may create the file now or at the next line).
    wait_until(Duration::from_millis(500), || log.exists());
    thread::sleep(Duration::from_millis(100));

    let second: Vec<u16> = (0..5).map(|_| session(port).0).collect();
    assert!(
        wait_until(Duration::from_secs(3), || in_file(&log, &second)),
        "sessions after HUP not all in the new {}: new file {:#?}, rotated {:#?}",
        log.display(),
        lines_of(&log),
        lines_of(&rotated)
    );
    assert!(in_file(&rotated, &first), "sessions before the rename missing from the rotated file");
    let new_lines = lines_of(&log);
    assert!(!first.iter().any(|cp| new_lines.iter().any(|l| is_session_of(l, *cp))), "old lines in the new file");
    let all: Vec<String> = lines_of(&rotated).into_iter().chain(new_lines).collect();
    for cp in first.iter().chain(&second) {
        assert_eq!(all.iter().filter(|l| is_session_of(l, *cp)).count(), 1, "session {cp} not logged exactly once");
    }
}

#[test]
fn default_format_logs_connect_from() {
    let logs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let port = free_port();
    // No `option tcplog`: HAProxy's default format, one line at accept (HAPROXY-FACTS §3.2).
    let text = format!(
        "global\n    log 127.0.0.1:{} local0 info\n\ndefaults\n    mode tcp\n    log global\n    timeout connect 1s\n    \
         timeout client 10s\n    timeout server 10s\n\nlisten fe\n    bind 127.0.0.1:{port}\n    server web01 127.0.0.1:{}\n",
        logs.port, web01.port
    );
    let _p = Proxy::start_and_wait(&text, port);
    let (client_port, _) = session(port);
    let want = format!("Connect from 127.0.0.1:{client_port} to 127.0.0.1:{port} (fe/TCP)");
    let line = logs
        .wait_for(|l| l.contains(&want), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no {want:?} line; got {:#?}", logs.lines()));
    assert!(line.starts_with("<134>"), "{line}");
}

#[test]
fn log_tag_replaces_the_program_name() {
    let logs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let text = cfg(
        &[format!("log 127.0.0.1:{} local0 info", logs.port), "log-tag edge-lb".to_string()],
        "",
        port,
        &[("web01", web01.port, "")],
    );
    let _p = Proxy::start_and_wait(&text, port);
    let (client_port, _) = session(port);
    let line = logs.wait_for(|l| is_session_of(l, client_port), Duration::from_secs(3)).expect("no traffic line");
    let s = parse_syslog(&line).unwrap_or_else(|| panic!("not RFC3164: {line}"));
    assert_eq!(s.tag, "edge-lb", "{line}");
}

#[test]
fn client_timeout_is_logged_as_cd() {
    let logs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let text = cfg(&[format!("log 127.0.0.1:{} local0 info", logs.port)], "", port, &[("web01", web01.port, "")])
        .replace("timeout client 10s", "timeout client 500ms");
    let _p = Proxy::start_and_wait(&text, port);

    let mut c = Conn::open(port).unwrap();
    let client_port = c.local_port();
    assert_eq!(c.banner().unwrap(), "web01");
    c.set_read_timeout(Duration::from_secs(3));
    let t0 = std::time::Instant::now();
    match c.read_line() {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof || e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("idle client should be closed by `timeout client 500ms`, got {other:?}"),
    }
    let idle = t0.elapsed();
    assert!(idle >= Duration::from_millis(400) && idle < Duration::from_millis(2000), "closed after {idle:?}");
    let line = logs.wait_for(|l| is_session_of(l, client_port), Duration::from_secs(2)).expect("no traffic line");
    let t = parse_tcplog(&line).unwrap_or_else(|| panic!("not tcplog: {line}"));
    assert_eq!(t.state, "cD", "client-side timeout during data: {line}");
}

#[test]
fn worker_death_is_logged_by_the_master() {
    let logs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let text = cfg(&[format!("log 127.0.0.1:{} local0 info", logs.port)], "", port, &[("web01", web01.port, "")])
        .replacen("global\n", "global\n    nbproc 2\n", 1);
    let p = Proxy::start_and_wait(&text, port);
    let workers = p.wait_workers(2, Duration::from_secs(3));
    let victim = workers[0];
    thread::sleep(Duration::from_millis(200)); // start-up lines (which name the workers too) are in
    let mark = logs.mark();
    assert!(send_signal(victim, libc::SIGKILL));
    let line = logs
        .wait_for_since(
            mark,
            |l| names_number(l, victim) && parse_syslog(l).is_some_and(|s| s.pid == Some(p.pid() as u32)),
            Duration::from_secs(2),
        )
        .unwrap_or_else(|| panic!("master {} logged nothing naming worker {victim}", p.pid()));
    eprintln!("{line}");
}

/// `option dontlog-normal` keeps only sessions with an error (here a connection refused by a dead server, `SC`);
/// `option log-separate-errors` sends those at level `err`, so a target limited to `err` gets them and nothing
/// else.
#[test]
fn dontlog_normal_and_log_separate_errors() {
    let all = UdpCollector::start();
    let errs = UdpCollector::start();
    let web01 = BannerServer::start("web01");
    let dead = free_port(); // nothing listens there
    let port = free_port();
    let port2 = free_port();
    let mut text = cfg(
        &[format!("log 127.0.0.1:{} local0 info", all.port), format!("log 127.0.0.1:{} local0 err", errs.port)],
        "    option dontlog-normal\n    option log-separate-errors\n    retries 0\n",
        port,
        &[("web01", web01.port, "")],
    );
    text.push_str(&format!(
        "\nfrontend fe2\n    bind 127.0.0.1:{port2}\n    default_backend be2\n\nbackend be2\n    server dead 127.0.0.1:{dead}\n"
    ));
    let mut p = Proxy::start_and_wait(&text, port);
    p.wait_listening(port2);
    let (normal_port, _) = session(port);
    let mut c = Conn::open(port2).expect("connect");
    let failed_port = c.local_port();
    let _ = c.read_rest();
    // local0 = 16, err = 3: <131>.
    let line = errs
        .wait_for(|l| is_session_of(l, failed_port), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no error line for {failed_port}: {:?}", errs.lines()));
    assert!(line.starts_with("<131>") && line.contains(" SC "), "an err-level SC line: {line}");
    assert!(all.wait_for(|l| is_session_of(l, failed_port), Duration::from_secs(1)).is_some());
    thread::sleep(Duration::from_millis(200));
    assert!(
        !all.lines().iter().chain(errs.lines().iter()).any(|l| is_session_of(l, normal_port)),
        "a normal session is not logged with dontlog-normal: {:?}",
        all.lines()
    );
}

/// `unique-id-format` + `unique-id-header`: every request gets an id (HAProxy's classic format), sent to the
/// server in the header and logged with `%ID` by a `log-format`; `%pid`, `%fi:%fp` and `%rt` are filled in.
#[test]
fn unique_id_is_sent_to_the_server_and_logged() {
    use support::http::{Behavior, HttpBackend, HttpConn};
    let logs = UdpCollector::start();
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let text = format!(
        "global\n    log 127.0.0.1:{} local0 info\n\ndefaults\n    mode http\n    log global\n    timeout connect 1s\n    \
         timeout client 5s\n    timeout server 5s\n\nfrontend fe\n    bind 127.0.0.1:{port}\n    \
         unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid\n    unique-id-header X-Unique-ID\n    \
         log-format \"id=%ID pid=%pid fe=%fi:%fp st=%ST\"\n    default_backend be\n\nbackend be\n    server web01 127.0.0.1:{}\n",
        logs.port, web.port
    );
    let p = Proxy::start_and_wait(&text, port);
    let mut c = HttpConn::open(port).expect("connect");
    assert_eq!(c.get("/a", &[]).expect("first").status, 200);
    assert_eq!(c.get("/b", &[]).expect("second").status, 200);
    let seen = web.requests();
    let ids: Vec<String> = seen.iter().map(|r| r.header("x-unique-id").unwrap_or_default().to_string()).collect();
    let cport = c.local_port();
    let prefix = format!("7F000001:{cport:04X}_7F000001:{port:04X}_");
    for id in &ids {
        assert!(id.starts_with(&prefix), "id {id:?} should start with {prefix:?}");
    }
    assert_ne!(ids[0], ids[1], "each request has its own id");
    let worker = p.workers()[0];
    let want = format!("pid={worker} fe=127.0.0.1:{port} st=200");
    let line = logs
        .wait_for(|l| l.contains(&format!("id={}", ids[1])), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no log line with id {}: {:?}", ids[1], logs.lines()));
    assert!(line.contains(&want), "{line} should contain {want}");
}

/// `option logasap`: an HTTP transaction is logged once the response head is out, while its body is still on its
/// way (the client here stops reading), with `+` before the total time and the byte count.
#[test]
fn logasap_logs_before_the_body_is_done() {
    use std::io::{Read, Write};
    use support::http::{Behavior, HttpBackend};
    let logs = UdpCollector::start();
    let web = HttpBackend::start("web01", Behavior::Large(64 << 20));
    let port = free_port();
    let text = format!(
        "global\n    log 127.0.0.1:{} local0 info\n\ndefaults\n    mode http\n    log global\n    option httplog\n    \
         option logasap\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nfrontend fe\n    \
         bind 127.0.0.1:{port}\n    default_backend be\n\nbackend be\n    server web01 127.0.0.1:{}\n",
        logs.port, web.port
    );
    let _p = Proxy::start_and_wait(&text, port);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    c.write_all(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n").expect("write");
    let mut head = [0u8; 4096];
    let n = c.read(&mut head).expect("the response starts");
    assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&head[..n]));
    // The client reads no more: the 64 MiB body cannot be done, yet the line is there.
    let line = logs
        .wait_for(|l| l.contains("GET /big"), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no logasap line while the body is in flight: {:?}", logs.lines()));
    assert!(line.contains(" 200 +"), "bytes prefixed with '+': {line}");
    let timers = line.split_whitespace().find(|w| w.matches('/').count() == 4).unwrap_or_default();
    assert!(timers.split('/').nth(4).is_some_and(|tt| tt.starts_with('+')), "Tt prefixed with '+': {line}");
    drop(c);
}

/// `%[…]` samples in `log-format` and `unique-id-format` go through the same fetches as ACLs: the request's
/// headers and path, the client address, a backend's usable servers; a fetch without a value logs `-`.
#[test]
fn log_format_samples_are_fetched() {
    use support::http::{Behavior, HttpBackend, HttpConn};
    let logs = UdpCollector::start();
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let text = format!(
        "global\n    log 127.0.0.1:{} local0 info\n\ndefaults\n    mode http\n    log global\n    timeout connect 1s\n    \
         timeout client 5s\n    timeout server 5s\n\nfrontend fe\n    bind 127.0.0.1:{port}\n    \
         unique-id-format %[req.hdr(x-tenant),upper]-%rt\n    unique-id-header X-Unique-ID\n    \
         log-format \"host=%[req.hdr(host),lower] path=%[path] src=%[src] up=%[nbsrv(be)] none=%[req.hdr(x-nope)] id=%ID\"\n    \
         default_backend be\n\nbackend be\n    server web01 127.0.0.1:{}\n",
        logs.port, web.port
    );
    let _p = Proxy::start_and_wait(&text, port);
    let mut c = HttpConn::open(port).expect("connect");
    c.send(b"GET /some/where?q=1 HTTP/1.1\r\nHost: Example.COM\r\nX-Tenant: acme\r\n\r\n").expect("send");
    let r = c.read_response().expect("response");
    assert_eq!(r.status, 200);
    let seen = web.requests();
    let id = seen[0].header("x-unique-id").unwrap_or_default().to_string();
    assert!(id.starts_with("ACME-"), "unique id from a sample: {id:?}");
    let line = logs
        .wait_for(|l| l.contains("host="), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no log line: {:?}", logs.lines()));
    let want = format!("host=example.com path=/some/where src=127.0.0.1 up=1 none=- id={id}");
    assert!(line.contains(&want), "{line} should contain {want}");
}

/// `option httplog clf`: HAProxy's Common Log Format line (it logged the plain httplog line before).
#[test]
fn httplog_clf_logs_the_common_log_format() {
    use support::http::{Behavior, HttpBackend, HttpConn};
    let logs = UdpCollector::start();
    let web = HttpBackend::start("web01", Behavior::KeepAlive);
    let port = free_port();
    let text = format!(
        "global\n    log 127.0.0.1:{} local0 info\n\ndefaults\n    mode http\n    log global\n    option httplog clf\n    \
         timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nfrontend fe\n    bind 127.0.0.1:{port}\n    \
         default_backend be\n\nbackend be\n    server web01 127.0.0.1:{}\n",
        logs.port, web.port
    );
    let _p = Proxy::start_and_wait(&text, port);
    let mut c = HttpConn::open(port).expect("connect");
    assert_eq!(c.get("/clf", &[]).expect("request").status, 200);
    let line = logs
        .wait_for(|l| l.contains("/clf"), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no log line: {:?}", logs.lines()));
    let msg = &line[line.find("]: ").map(|i| i + 3).unwrap_or(0)..];
    assert!(msg.starts_with("127.0.0.1 - - ["), "not CLF: {msg}");
    assert!(msg.contains("] \"GET /clf HTTP/1.1\" 200 "), "not CLF: {msg}");
    assert!(msg.contains(" \"fe\" \"be\" \"web01\" "), "not CLF: {msg}");
}
