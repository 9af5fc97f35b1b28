//! Every way a session can end gives back what it held: whatever the path (a refused or timed-out request, a
//! dead server, a client gone while queued or between two requests, a tarpit, a bad PROXY header), once the
//! clients are gone every frontend, backend and server counts no session, no stick-table entry counts them, and no session was dropped without its end (the worker reports those at error level).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::http::{Behavior, HttpBackend, HttpConn};
use support::*;

fn send_and_close(port: u16, bytes: &[u8], wait: Duration) {
    if let Ok(mut s) = TcpStream::connect(loopback(port)) {
        let _ = s.set_read_timeout(Some(wait));
        let _ = s.write_all(bytes);
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

/// The `scur` column of every `show stat` row, by `proxy/service`.
fn scur(csv: &str) -> Vec<(String, u64)> {
    csv.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (format!("{}/{}", f[0], f[1]), f[4].parse().unwrap_or(u64::MAX))
        })
        .collect()
}

#[test]
fn every_end_gives_back_what_the_session_held() {
    let dir = TempDir::new("session-end");
    let sock = dir.join("stats.sock");
    let web = HttpBackend::start("web", Behavior::KeepAlive);
    let slow = HttpBackend::start("slow", Behavior::Delay(Duration::from_millis(600)));
    let [tcp, http, pp, dead] = free_ports(4)[..] else { panic!("ports") };
    let text = format!(
        "global\n    stats socket {sock} mode 600 level admin\n\n\
         defaults\n    timeout connect 300ms\n    timeout client 2s\n    timeout server 2s\n    \
         timeout http-request 300ms\n    timeout queue 300ms\n    timeout tarpit 100ms\n    retries 0\n\n\
         frontend tcpfe\n    mode tcp\n    bind 127.0.0.1:{tcp}\n    tcp-request connection track-sc0 src table track\n    \
         default_backend gone\n\n\
         backend gone\n    mode tcp\n    server dead 127.0.0.1:{dead}\n\n\
         frontend httpfe\n    mode http\n    bind 127.0.0.1:{http}\n    \
         tcp-request connection track-sc0 src table track\n    http-request track-sc1 src table track\n    \
         http-request deny if {{ path /deny }}\n    http-request tarpit if {{ path /tarpit }}\n    \
         http-request redirect location /elsewhere if {{ path /redir }}\n    \
         use_backend queued if {{ path_beg /slow }}\n    use_backend down if {{ path /down }}\n    \
         http-response set-header X-Cur %[sc0_conn_cur]\n    default_backend web\n\n\
         backend web\n    mode http\n    server w 127.0.0.1:{}\n\n\
         backend queued\n    mode http\n    server s 127.0.0.1:{} maxconn 1\n\n\
         backend down\n    mode http\n    server d 127.0.0.1:{dead}\n\n\
         frontend ppfe\n    mode tcp\n    bind 127.0.0.1:{pp} accept-proxy\n    \
         tcp-request connection track-sc0 src table track\n    default_backend gone\n\n\
         backend track\n    stick-table type ip size 1k store conn_cur,conn_cnt,http_req_cnt\n",
        web.port,
        slow.port,
        sock = sock.display(),
    );
    let p = Proxy::start_and_wait(&text, http);

    // TCP: the server is dead (SC); a client that leaves at once.
    send_and_close(tcp, b"", Duration::from_millis(500));
    drop(TcpStream::connect(loopback(tcp)));
    // HTTP: keep-alive then gone between requests; deny, tarpit, redirect, dead server; a bad request; a
    // head cut by a close; a head that never ends (timeout http-request).
    let mut c = HttpConn::open(http).expect("connect");
    assert_eq!(c.get("/", &[]).expect("first").status, 200);
    assert_eq!(c.get("/deny", &[]).expect("deny").status, 403);
    assert_eq!(c.get("/redir", &[]).expect("redirect").status, 302);
    drop(c);
    let mut c = HttpConn::open(http).expect("connect");
    assert_eq!(c.get("/down", &[]).expect("down").status, 503);
    drop(c);
    let mut c = HttpConn::open(http).expect("connect");
    assert_eq!(c.get("/tarpit", &[]).expect("tarpit").status, 500);
    drop(c);
    send_and_close(http, b"GARBAGE\r\n\r\n", Duration::from_millis(500));
    send_and_close(http, b"GET / HTTP/1.1\r\nHost: a\r\n", Duration::from_millis(50));
    send_and_close(http, b"GET / HTTP/1.1\r\n", Duration::from_millis(800));
    // A request waiting for the one slot of `queued` while another is served; its client leaves while queued.
    let served = std::thread::spawn(move || {
        let mut c = HttpConn::open(http).expect("connect");
        c.get("/slow/1", &[]).map(|r| r.status).unwrap_or(0)
    });
    std::thread::sleep(Duration::from_millis(100));
    send_and_close(http, b"GET /slow/2 HTTP/1.1\r\nHost: a\r\n\r\n", Duration::from_millis(100));
    assert_eq!(served.join().expect("served"), 200);
    // A bad PROXY protocol header.
    send_and_close(pp, b"NOT A PROXY HEADER\r\n", Duration::from_millis(300));

    let clean =
        wait_until(Duration::from_secs(5), || scur(&stats_cli(&sock, "show stat")).iter().all(|(_, n)| *n == 0));
    let rows = scur(&stats_cli(&sock, "show stat"));
    assert!(clean, "sessions still counted once every client left: {rows:?}");
    assert!(rows.iter().any(|(n, _)| n == "queued/s") && rows.iter().any(|(n, _)| n == "httpfe/FRONTEND"), "{rows:?}");
    let info = stats_cli(&sock, "show info");
    assert!(info.lines().any(|l| l == "CurrConns: 0"), "show info:\n{info}");
    // Every connection above came from 127.0.0.1 and was tracked in the same entry: a new request is alone in
    // it, counted twice (sc0 at the connection, sc1 by `http-request`, each tracking counts, as in HAProxy).
    let mut c = HttpConn::open(http).expect("connect");
    let r = c.get("/", &[]).expect("count");
    assert_eq!(r.header_values("x-cur"), vec!["2"], "stick-table entry still counting ended sessions: {r:?}");
    drop(c);
    let stderr = p.stderr_text();
    assert!(!stderr.contains("dropped without its end"), "a session ended without giving back:\n{stderr}");
}
