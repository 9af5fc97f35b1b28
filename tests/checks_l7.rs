//! Protocol health checks (SPEC §5; HAPROXY-FACTS §1.7, §3.1; issue 3 item 5): `option httpchk` in the 1.4 and
//! 2.x forms, `http-check expect`, `redis-check`, `smtpchk`, `mysql-check`, against small fake backends. The
//! frontends are `mode tcp`: checks work in TCP backends too.

mod support;

use std::time::{Duration, Instant};
use support::l7::{self, StatusServer};
use support::*;

const INTER_MS: u64 = 200;
const FALL: u64 = 2;
const RISE: u64 = 2;

/// `frontend fe` → `backend be` (with `backend_lines`), checked servers, logs to the collector at local0 info.
fn cfg(log_port: u16, port: u16, backend_lines: &str, servers: &[(&str, u16)]) -> String {
    let mut cfg = format!(
        r#"global
    log 127.0.0.1:{log_port} local0 info

defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    balance roundrobin
{backend_lines}
"#
    );
    for (name, p) in servers {
        cfg.push_str(&format!("    server {name} 127.0.0.1:{p} check inter {INTER_MS} fall {FALL} rise {RISE}\n"));
    }
    cfg
}

fn margin() -> Duration {
    Duration::from_secs(1)
}

fn wait_log(logs: &UdpCollector, what: &str, limit: Duration) -> String {
    logs.wait_for(|l| l.contains(what), limit)
        .unwrap_or_else(|| panic!("no log line with {what:?} within {limit:?}; got:\n{}", logs.lines().join("\n")))
}

#[test]
fn httpchk_1_4_form_marks_500_down_and_200_up() {
    let logs = UdpCollector::start();
    let web = StatusServer::start(200);
    let port = free_port();
    let text = cfg(logs.port, port, "    option httpchk HEAD /check.html HTTP/1.0", &[("web1", web.port)]);
    let _p = Proxy::start_and_wait(&text, port);

    assert!(wait_until(Duration::from_secs(2), || !web.requests().is_empty()), "no check request reached the server");
    assert_eq!(web.requests()[0], "HEAD /check.html HTTP/1.0\r\n\r\n");

    web.set_status(500);
    let t0 = Instant::now();
    let down = wait_log(&logs, "Server be/web1 is DOWN", Duration::from_millis(INTER_MS * FALL) + margin());
    eprintln!("DOWN after {:?}: {down}", t0.elapsed());
    assert!(down.starts_with("<129>"), "DOWN at alert: {down}");
    assert!(
        down.contains(r#"reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: "#),
        "HAProxy's reason text: {down}"
    );
    assert!(down.contains("0 active and 0 backup servers left"), "{down}");

    web.set_status(200);
    let t1 = Instant::now();
    let up = wait_log(&logs, "Server be/web1 is UP", Duration::from_millis(INTER_MS * RISE) + margin());
    eprintln!("UP after {:?}: {up}", t1.elapsed());
    assert!(up.starts_with("<133>"), "UP at notice: {up}");
    assert!(up.contains(r#"reason: Layer7 check passed, code: 200, info: "OK""#), "{up}");
}

#[test]
fn http_check_send_and_expect_status() {
    let logs = UdpCollector::start();
    let web = StatusServer::start(204);
    let port = free_port();
    let lines = "    option httpchk\n    http-check send meth GET uri /health ver HTTP/1.1 hdr Host www.example\n    http-check expect status 204\n    option log-health-checks";
    let _p = Proxy::start_and_wait(&cfg(logs.port, port, lines, &[("web1", web.port)]), port);

    let ok = wait_log(&logs, "Health check for server be/web1 succeeded", Duration::from_secs(2));
    assert!(ok.contains("code: 204"), "{ok}");
    assert_eq!(web.requests()[0], "GET /health HTTP/1.1\r\nHost: www.example\r\n\r\n");

    web.set_status(200);
    let down = wait_log(&logs, "Server be/web1 is DOWN", Duration::from_millis(INTER_MS * FALL) + margin());
    assert!(
        down.contains(r#"Layer7 wrong status, code: 200, info: "HTTP status check returned code <200>""#),
        "expect status 204 rejects 200: {down}"
    );
    // Stable UP has health rise+fall-1, so the first failure only takes it to "1/2 UP", the second to DOWN.
    let first = wait_log(&logs, "Health check for server be/web1 failed", Duration::from_millis(500));
    assert!(first.ends_with("status: 1/2 UP."), "log-health-checks line: {first}");
    wait_log(&logs, "status: 0/2 DOWN.", Duration::from_millis(500));

    web.set_status(204);
    wait_log(&logs, "Server be/web1 is UP", Duration::from_millis(INTER_MS * RISE) + margin());
}

#[test]
fn disable_on_404_stops_load_balancing() {
    let logs = UdpCollector::start();
    let web = StatusServer::start(200);
    let port = free_port();
    let lines = "    option httpchk GET /\n    http-check disable-on-404";
    let _p = Proxy::start_and_wait(&cfg(logs.port, port, lines, &[("web1", web.port)]), port);
    assert!(wait_until(Duration::from_secs(2), || !web.requests().is_empty()));
    web.set_status(404);
    let stopping = wait_log(&logs, "Server be/web1 is stopping", Duration::from_millis(INTER_MS * 2) + margin());
    assert!(stopping.contains("Layer7 check conditionally passed, code: 404"), "{stopping}");
    assert!(!logs.lines().iter().any(|l| l.contains("is DOWN")), "NOLB is not DOWN");
    web.set_status(200);
    wait_log(&logs, "Server be/web1 is UP", Duration::from_millis(INTER_MS * 2) + margin());
}

#[test]
fn redis_check_pong_passes_error_fails() {
    let logs = UdpCollector::start();
    let good = l7::redis("+PONG\r\n");
    let bad = l7::redis("-NOAUTH Authentication required.\r\n");
    let port = free_port();
    let lines = "    option redis-check\n    option log-health-checks";
    let _p = Proxy::start_and_wait(&cfg(logs.port, port, lines, &[("r1", good.port), ("r2", bad.port)]), port);

    let ok = wait_log(&logs, "Health check for server be/r1 succeeded", Duration::from_secs(2));
    assert!(ok.contains(r#"reason: Layer7 check passed, info: "Redis server is ok""#), "{ok}");
    let down = wait_log(&logs, "Server be/r2 is DOWN", Duration::from_secs(2));
    assert!(down.contains(r#"Layer7 wrong status, info: "-NOAUTH Authentication required.""#), "{down}");
    thread_sleep(INTER_MS * 3);
    assert!(!logs.lines().iter().any(|l| l.contains("Server be/r1 is DOWN")), "r1 answers +PONG");
}

#[test]
fn smtpchk_greeting_and_helo() {
    let logs = UdpCollector::start();
    let good = l7::smtp("220 fake.example ESMTP ready\r\n");
    let bad = l7::smtp("554 5.3.2 No service\r\n");
    let port = free_port();
    let lines = "    option smtpchk HELO lb.example\n    option log-health-checks";
    let _p = Proxy::start_and_wait(&cfg(logs.port, port, lines, &[("m1", good.port), ("m2", bad.port)]), port);

    let ok = wait_log(&logs, "Health check for server be/m1 succeeded", Duration::from_secs(2));
    assert!(ok.contains(r#"Layer7 check passed, code: 250, info: "fake.example Hello""#), "{ok}");
    let down = wait_log(&logs, "Server be/m2 is DOWN", Duration::from_secs(2));
    assert!(down.contains(r#"Layer7 wrong status, code: 554, info: "5.3.2 No service""#), "{down}");
}

#[test]
fn mysql_check_reads_the_handshake() {
    let logs = UdpCollector::start();
    let db = l7::mysql("5.7.42-fake");
    let dbu = l7::mysql("8.0.36-fake");
    let port = free_port();
    let lines = "    option mysql-check\n    option log-health-checks";
    let _p = Proxy::start_and_wait(&cfg(logs.port, port, lines, &[("db1", db.port)]), port);
    let ok = wait_log(&logs, "Health check for server be/db1 succeeded", Duration::from_secs(2));
    assert!(ok.contains(r#"Layer7 check passed, info: "5.7.42-fake""#), "{ok}");

    let logs2 = UdpCollector::start();
    let port2 = free_port();
    let lines = "    option mysql-check user haproxy\n    option log-health-checks";
    let _p2 = Proxy::start_and_wait(&cfg(logs2.port, port2, lines, &[("db2", dbu.port)]), port2);
    let ok = wait_log(&logs2, "Health check for server be/db2 succeeded", Duration::from_secs(2));
    assert!(ok.contains(r#"info: "8.0.36-fake""#), "{ok}");
}

#[test]
fn l7_timeout_after_connect() {
    // Accepts and never answers: the check connects (L4 fine) and then times out at layer 7.
    let logs = UdpCollector::start();
    let mute = l7::ScriptServer::start(|s| {
        let mut buf = [0u8; 64];
        while matches!(std::io::Read::read(&mut &s, &mut buf), Ok(n) if n > 0) {}
    });
    let port = free_port();
    let lines = "    option httpchk\n    timeout check 300ms";
    let _p = Proxy::start_and_wait(&cfg(logs.port, port, lines, &[("slow", mute.port)]), port);
    let down = wait_log(&logs, "Server be/slow is DOWN", Duration::from_secs(3));
    assert!(down.contains("reason: Layer7 timeout, check duration: "), "{down}");
}

fn thread_sleep(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
fn nolb_server_gets_no_new_traffic() {
    let logs = UdpCollector::start();
    let (web1, web2) = (BannerServer::start("web1"), BannerServer::start("web2"));
    let (hc1, hc2) = (StatusServer::start(200), StatusServer::start(200));
    let port = free_port();
    let mut text = cfg(logs.port, port, "    option httpchk GET /\n    http-check disable-on-404", &[]);
    for (name, srv, hc) in [("web1", &web1, &hc1), ("web2", &web2, &hc2)] {
        text.push_str(&format!(
            "    server {name} 127.0.0.1:{} check port {} inter {INTER_MS} fall {FALL} rise {RISE}\n",
            srv.port, hc.port
        ));
    }
    let _p = Proxy::start_and_wait(&text, port);
    assert!(wait_until(Duration::from_secs(2), || !hc2.requests().is_empty()));
    assert_eq!(count(&banner_counts(port, 4), "web2"), 2, "both serve at first");

    hc2.set_status(404);
    wait_log(&logs, "Server be/web2 is stopping", Duration::from_millis(INTER_MS * 2) + margin());
    let after = banner_counts(port, 6);
    assert_eq!(count(&after, "web1"), 6, "a NOLB server got new traffic: {after:?}");
}

#[test]
fn tcp_check_rules_over_one_connection() {
    let logs = UdpCollector::start();
    let good = l7::redis("+PONG\r\n");
    let bad = l7::redis("-ERR\r\n");
    let mute = l7::ScriptServer::start(|s| {
        let mut buf = [0u8; 64];
        while matches!(std::io::Read::read(&mut &s, &mut buf), Ok(n) if n > 0) {}
    });
    let port = free_port();
    let lines = "    timeout check 300ms\n    option tcp-check\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG\n    option log-health-checks";
    let _p = Proxy::start_and_wait(
        &cfg(logs.port, port, lines, &[("t1", good.port), ("t2", bad.port), ("t3", mute.port)]),
        port,
    );
    let ok = wait_log(&logs, "Health check for server be/t1 succeeded", Duration::from_secs(2));
    assert!(ok.contains(r#"Layer7 check passed, info: "(tcp-check)""#), "{ok}");
    // A mismatch waits for more data (as HAProxy): the server keeps the connection open, so the check times out
    // at layer 7 and says which rule it was waiting on.
    let down = wait_log(&logs, "Server be/t2 is DOWN", Duration::from_secs(3));
    assert!(down.contains(r#"Layer7 timeout, info: "at step 2 of tcp-check (expect string '+PONG')""#), "{down}");
    wait_log(&logs, "Server be/t3 is DOWN", Duration::from_secs(3));
}

#[test]
fn ssl_hello_chk_wants_a_tls_answer() {
    let logs = UdpCollector::start();
    // Answers a ClientHello record with the head of a ServerHello record; anything else with plain text.
    let tls = l7::ScriptServer::start(|mut s| {
        let mut head = [0u8; 6];
        if std::io::Read::read_exact(&mut s, &mut head).is_ok() && head[0] == 0x16 && head[5] == 0x01 {
            let _ = std::io::Write::write_all(&mut s, &[0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d, 0x03]);
        }
        let mut buf = [0u8; 512];
        while matches!(std::io::Read::read(&mut s, &mut buf), Ok(n) if n > 0) {}
    });
    let plain = l7::smtp("220 not tls\r\n");
    let port = free_port();
    let lines = "    option ssl-hello-chk\n    option log-health-checks";
    let _p = Proxy::start_and_wait(&cfg(logs.port, port, lines, &[("tls", tls.port), ("plain", plain.port)]), port);
    let ok = wait_log(&logs, "Health check for server be/tls succeeded", Duration::from_secs(2));
    assert!(ok.contains("reason: Layer6 check passed, check duration: "), "{ok}");
    let down = wait_log(&logs, "Server be/plain is DOWN", Duration::from_secs(2));
    assert!(down.contains("reason: Layer6 invalid response, check duration: "), "{down}");
}
