//! Server `maxconn` and queueing in HTTP mode: requests over the limit wait in a queue (the server never sees
//! more than `maxconn` at once) and get a 503 when `timeout queue` expires (SPEC §4; HAPROXY-FACTS §5.2; issue 3).
//! A session whose server is already determined (cookie, stick entry, hashed balance) waits in that server's own
//! queue, bounded by `maxqueue`; a freed slot goes to the oldest waiter of the server's and the backend's queues;
//! a server going DOWN hands its waiters back to the balancer only with `option redispatch`.

mod support;

use std::thread;
use std::time::{Duration, Instant};
use support::http::*;
use support::*;

fn cfg(port: u16, server: u16, queue_ms: u64) -> String {
    format!(
        r#"global
    maxconn 1024

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout queue {queue_ms}

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server web01 127.0.0.1:{server} maxconn 1
"#
    )
}

/// `GET path` on a new connection with a 10 s timeout: the status and how long it took.
fn timed_get(port: u16, path: &str) -> (u16, Duration, String) {
    let t0 = Instant::now();
    let mut c = HttpConn::open(port).unwrap_or_else(|e| panic!("connect for {path}: {e}"));
    c.set_timeouts(Duration::from_secs(10));
    let r = c.get(path, &[]).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    (r.status, t0.elapsed(), r.text())
}

#[test]
fn server_maxconn_1_serializes_eight_concurrent_slow_requests() {
    let web = HttpBackend::start("web01", Behavior::Delay(Duration::from_millis(200)));
    let port = free_port();
    let _p = Proxy::start_and_wait(&cfg(port, web.port, 10_000), port);

    let t0 = Instant::now();
    let clients: Vec<_> = (0..8).map(|i| thread::spawn(move || timed_get(port, &format!("/q{i}")))).collect();
    let results: Vec<(u16, Duration, String)> = clients.into_iter().map(|t| t.join().expect("client")).collect();
    let took = t0.elapsed();

    for (i, (status, _, body)) in results.iter().enumerate() {
        assert_eq!((*status, body.as_str()), (200, "web01"), "request /q{i}");
    }
    assert_eq!(web.max_in_flight(), 1, "server maxconn 1: the backend saw {} requests at once", web.max_in_flight());
    assert_eq!(web.traffic().len(), 8);
    assert!(took >= Duration::from_millis(1400), "8 × 200 ms one at a time cannot take only {took:?}");
}

#[test]
fn timeout_queue_gives_503() {
    let web = HttpBackend::start("web01", Behavior::Delay(Duration::from_secs(2)));
    let port = free_port();
    let _p = Proxy::start_and_wait(&cfg(port, web.port, 300), port);

    let first = thread::spawn(move || timed_get(port, "/first"));
    assert!(wait_until(Duration::from_secs(2), || web.in_flight() == 1), "/first never reached the backend");

    let (status, took, body) = timed_get(port, "/queued");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("No server is available to handle this request."), "HAProxy's 503 page: {body:?}");
    assert!(took >= Duration::from_millis(250) && took < Duration::from_millis(1000), "503 after {took:?}");
    assert!(web.requests_for("/queued").is_empty(), "the queued request must not reach the server");

    let (status, _, body) = first.join().expect("first client");
    assert_eq!((status, body.as_str()), (200, "web01"), "the request holding the slot still completes");
}

// ---------------------------------------------------------------------------------------------------------------
// Per-server queues and `maxqueue` (HAProxy's `assign_server_and_queue`, `process_srv_queue`,
// `pendconn_redistribute`).

/// `listen app` (`stats uri /stats`, httplog to `log_port`) over `s1` and `s2`, each with `cookie s1|s2` and
/// `maxconn 1` followed by `opts1`/`opts2`, and `lines` in the section.
fn pair_cfg(log_port: u16, port: u16, s1: u16, s2: u16, lines: &str, opts1: &str, opts2: &str) -> String {
    format!(
        r#"global
    log 127.0.0.1:{log_port} local0 info

defaults
    log global
    mode http
    option httplog
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen app
    bind 127.0.0.1:{port}
    stats enable
    stats uri /stats
{lines}
    server s1 127.0.0.1:{s1} cookie s1 maxconn 1 {opts1}
    server s2 127.0.0.1:{s2} cookie s2 maxconn 1 {opts2}
"#
    )
}

struct Pair {
    logs: UdpCollector,
    s1: HttpBackend,
    s2: HttpBackend,
    port: u16,
    _proxy: Proxy,
}

impl Pair {
    fn start(lines: &str, opts: [&str; 2], behaviors: [Behavior; 2]) -> Pair {
        let [b1, b2] = behaviors;
        let logs = UdpCollector::start();
        let s1 = HttpBackend::start("s1", b1);
        let s2 = HttpBackend::start("s2", b2);
        let port = free_port();
        let proxy = Proxy::start_and_wait(&pair_cfg(logs.port, port, s1.port, s2.port, lines, opts[0], opts[1]), port);
        Pair { logs, s1, s2, port, _proxy: proxy }
    }

    fn server(&self, name: &str) -> &HttpBackend {
        match name {
            "s1" => &self.s1,
            "s2" => &self.s2,
            _ => panic!("no server {name}"),
        }
    }

    /// `qcur` of `app`'s row `sv` (`BACKEND` or a server name) in the stats CSV.
    fn qcur(&self, sv: &str) -> u64 {
        let mut c = HttpConn::open(self.port).expect("connect for the stats");
        c.set_timeouts(Duration::from_secs(5));
        let r = c.get("/stats;csv", &[]).expect("GET /stats;csv");
        assert_eq!(r.status, 200, "stats CSV: {}", r.text());
        let text = r.text();
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let col = header.trim_start_matches("# ").split(',').position(|c| c == "qcur").expect("qcur column");
        let row = lines.find(|l| l.starts_with(&format!("app,{sv},"))).unwrap_or_else(|| panic!("no row app,{sv}"));
        row.split(',').nth(col).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("qcur of {sv} in {row}"))
    }

    /// Waits (bounded) until `sv`'s queue holds `n` sessions by the stats.
    fn wait_queued(&self, sv: &str, n: u64) {
        let mut last = 0;
        let ok = wait_until(Duration::from_secs(5), || {
            last = self.qcur(sv);
            last == n
        });
        assert!(ok, "the stats never showed {n} queued on {sv} (last qcur {last})");
    }

    /// The httplog line of the request for `path` (waits up to 5 s).
    fn log_of(&self, path: &str) -> HttpLog {
        let needle = format!(" {path} HTTP/1.1\"");
        let line = self
            .logs
            .wait_for(|l| l.contains(&needle), Duration::from_secs(5))
            .unwrap_or_else(|| panic!("no log line for {path}: {:?}", self.logs.lines()));
        parse_httplog(&line).unwrap_or_else(|| panic!("not an httplog line: {line}"))
    }
}

/// `GET path` with extra header lines on a new connection: (response, how long it took).
fn timed(port: u16, path: &str, extra: &[&str]) -> (Response, Duration) {
    let t0 = Instant::now();
    let mut c = HttpConn::open(port).unwrap_or_else(|e| panic!("connect for {path}: {e}"));
    c.set_timeouts(Duration::from_secs(10));
    let r = c.get(path, extra).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    (r, t0.elapsed())
}

/// [`timed`] in a thread.
fn spawn_get(
    port: u16,
    path: &'static str,
    extra: &'static [&'static str],
) -> thread::JoinHandle<(Response, Duration)> {
    thread::spawn(move || timed(port, path, extra))
}

/// The server that answered (`X-Server`) of a 200.
fn served_by(r: &Response) -> String {
    assert_eq!(r.status, 200, "expected a server's 200: {} {}", r.status, r.text());
    r.header("x-server").unwrap_or_else(|| panic!("no X-Server: {:?}", r.headers)).to_string()
}

const TO_S1: &[&str] = &["Cookie: SERVERID=s1"];
const COOKIE: &str = "    balance roundrobin\n    cookie SERVERID insert indirect nocache\n    timeout queue 10s";

#[test]
fn persisted_client_waits_for_its_busy_server() {
    let p = Pair::start(COOKIE, ["", ""], [Behavior::Delay(Duration::from_millis(1200)), Behavior::KeepAlive]);

    let hold = spawn_get(p.port, "/hold", TO_S1);
    assert!(wait_until(Duration::from_secs(3), || p.s1.in_flight() == 1), "/hold never reached s1");
    let waiter = spawn_get(p.port, "/persisted", TO_S1);
    p.wait_queued("s1", 1);
    assert_eq!(p.qcur("BACKEND"), 0, "a persisted client waits in its server's queue, not the backend's");

    // Meanwhile a new client is balanced to the free server at once.
    let (fresh, took) = timed(p.port, "/fresh", &[]);
    assert_eq!(served_by(&fresh), "s2", "a new client goes to the free server");
    assert!(took < Duration::from_millis(800), "/fresh did not wait: {took:?}");

    let (r, took) = waiter.join().expect("waiter");
    assert_eq!(served_by(&r), "s1", "the persisted client is served by its own server, after waiting");
    assert!(took >= Duration::from_millis(500), "/persisted must have waited for /hold: {took:?}");
    assert_eq!(served_by(&hold.join().expect("hold").0), "s1");
    assert!(p.s2.requests_for("/persisted").is_empty(), "the persisted client never went to s2");
    assert_eq!(p.s1.max_in_flight(), 1, "s1 never had more than maxconn 1");

    let log = p.log_of("/persisted");
    assert_eq!(log.server, "s1", "{log:?}");
    let tw: i64 = log.timers[1].parse().expect("Tw");
    assert!(tw >= 300, "Tw counts the wait in s1's queue: {log:?}");
    assert_eq!(&log.state[2..], "VN", "valid cookie, none set (indirect): {log:?}");
    assert_eq!(p.qcur("s1"), 0, "the queue is empty again");
}

#[test]
fn maxqueue_full_redispatches_a_persisted_client() {
    let lines = format!("{COOKIE}\n    option redispatch");
    let p =
        Pair::start(&lines, ["maxqueue 1", ""], [Behavior::Delay(Duration::from_millis(1200)), Behavior::KeepAlive]);

    let hold = spawn_get(p.port, "/hold", TO_S1);
    assert!(wait_until(Duration::from_secs(3), || p.s1.in_flight() == 1), "/hold never reached s1");
    let waiter = spawn_get(p.port, "/wait1", TO_S1);
    p.wait_queued("s1", 1);

    // s1's queue holds maxqueue sessions: persistence is broken, the client goes to s2 with its new cookie.
    let (r, took) = timed(p.port, "/over", TO_S1);
    assert_eq!(served_by(&r), "s2", "maxqueue reached + option redispatch: another server");
    assert!(took < Duration::from_millis(800), "/over did not wait: {took:?}");
    let set: Vec<&str> = r.header_values("set-cookie");
    assert_eq!(set, ["SERVERID=s2; path=/"], "the redispatched client gets s2's cookie: {:?}", r.headers);

    assert_eq!(served_by(&waiter.join().expect("wait1").0), "s1", "the first waiter kept its place");
    assert_eq!(served_by(&hold.join().expect("hold").0), "s1");

    let log = p.log_of("/over");
    assert_eq!(log.server, "s2", "{log:?}");
    assert_eq!(&log.state[..3], "--D", "cookie flag D: its server could not take it: {log:?}");
    assert!(log.conns.ends_with("/+0"), "redispatch flag in the retries field: {log:?}");
}

#[test]
fn maxqueue_full_without_redispatch_is_503_sq() {
    let p =
        Pair::start(COOKIE, ["maxqueue 1", ""], [Behavior::Delay(Duration::from_millis(1200)), Behavior::KeepAlive]);

    let hold = spawn_get(p.port, "/hold", TO_S1);
    assert!(wait_until(Duration::from_secs(3), || p.s1.in_flight() == 1), "/hold never reached s1");
    let waiter = spawn_get(p.port, "/wait1", TO_S1);
    p.wait_queued("s1", 1);

    let (r, took) = timed(p.port, "/over", TO_S1);
    assert_eq!(r.status, 503, "maxqueue reached without option redispatch: {}", r.text());
    assert!(took < Duration::from_millis(800), "the 503 is immediate: {took:?}");
    assert!(p.s2.requests_for("/over").is_empty(), "persistence is kept: no other server");
    let log = p.log_of("/over");
    assert_eq!(&log.state[..2], "SQ", "HAProxy's state for a full server queue: {log:?}");

    assert_eq!(served_by(&waiter.join().expect("wait1").0), "s1");
    assert_eq!(served_by(&hold.join().expect("hold").0), "s1");
}

#[test]
fn balance_uri_waits_for_the_hashed_server() {
    let p = Pair::start("    balance uri\n    timeout queue 10s", ["", ""], [Behavior::KeepAlive, Behavior::KeepAlive]);
    let (first, _) = timed(p.port, "/a", &[]);
    let chosen = served_by(&first);
    let other = if chosen == "s1" { "s2" } else { "s1" };
    p.s1.set_behavior(Behavior::Delay(Duration::from_millis(1000)));
    p.s2.set_behavior(Behavior::Delay(Duration::from_millis(1000)));

    let hold = spawn_get(p.port, "/a", &[]);
    assert!(wait_until(Duration::from_secs(3), || p.server(&chosen).in_flight() == 1), "/a never reached {chosen}");
    let waiter = spawn_get(p.port, "/a", &[]);
    p.wait_queued(&chosen, 1);
    assert_eq!(p.qcur("BACKEND"), 0, "a hashed choice waits in its server's queue");

    let (r, took) = waiter.join().expect("waiter");
    assert_eq!(served_by(&r), chosen, "the URI's server, not the free one");
    assert!(took >= Duration::from_millis(1200), "queued behind the first /a, then served in 1 s: {took:?}");
    assert_eq!(served_by(&hold.join().expect("hold").0), chosen);
    assert!(p.server(other).requests_for("/a").is_empty(), "{other} never saw /a");
}

#[test]
fn server_and_backend_queues_are_served_oldest_first() {
    // s2 in maintenance: s1 serves everything, one at a time.
    let p = Pair::start(COOKIE, ["", "disabled"], [Behavior::Delay(Duration::from_millis(300)), Behavior::KeepAlive]);

    let hold = spawn_get(p.port, "/hold", &[]);
    assert!(wait_until(Duration::from_secs(3), || p.s1.in_flight() == 1), "/hold never reached s1");
    let sq1 = spawn_get(p.port, "/sq1", TO_S1);
    p.wait_queued("s1", 1);
    let bq = spawn_get(p.port, "/bq", &[]);
    p.wait_queued("BACKEND", 1);
    let sq2 = spawn_get(p.port, "/sq2", TO_S1);
    p.wait_queued("s1", 2);

    for (name, h) in [("/hold", hold), ("/sq1", sq1), ("/bq", bq), ("/sq2", sq2)] {
        assert_eq!(served_by(&h.join().expect(name).0), "s1", "{name}");
    }
    let order: Vec<String> = p.s1.traffic().into_iter().map(|r| r.path).collect();
    assert_eq!(order, ["/hold", "/sq1", "/bq", "/sq2"], "a freed slot goes to the oldest waiter of either queue");
    assert_eq!(p.log_of("/sq2").queues, "1/0", "second in s1's queue");
    assert_eq!(p.log_of("/bq").queues, "0/0", "first in the backend's queue");
}

/// Two servers where s1's health is checked on a port of its own (`chk`), so that s1 can go DOWN while it still
/// holds a request.
fn start_down_pair(lines: &str, chk: u16) -> Pair {
    Pair::start(
        lines,
        [&format!("check port {chk} inter 200 fall 1 rise 1"), ""],
        [Behavior::Delay(Duration::from_millis(3000)), Behavior::KeepAlive],
    )
}

#[test]
fn waiters_of_a_down_server_are_redispatched_with_option_redispatch() {
    let chk = std::net::TcpListener::bind("127.0.0.1:0").expect("bind check port");
    let chk_port = chk.local_addr().expect("addr").port();
    let p = start_down_pair(&format!("{COOKIE}\n    option redispatch"), chk_port);

    let hold = spawn_get(p.port, "/hold", TO_S1);
    assert!(wait_until(Duration::from_secs(3), || p.s1.in_flight() == 1), "/hold never reached s1");
    let t0 = Instant::now();
    let waiter = spawn_get(p.port, "/w", TO_S1);
    p.wait_queued("s1", 1);

    drop(chk); // s1's checks now fail: DOWN
    let down = p
        .logs
        .wait_for(|l| l.contains("Server app/s1 is DOWN"), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("s1 never went DOWN: {:?}", p.logs.lines()));
    assert!(
        down.contains("1 active and 0 backup servers left. 1 sessions active, 1 requeued, 0 remaining in queue."),
        "HAProxy's counts: {down}"
    );
    let (r, _) = waiter.join().expect("waiter");
    assert_eq!(served_by(&r), "s2", "the waiter was balanced again when s1 went DOWN");
    assert!(t0.elapsed() < Duration::from_millis(2500), "before /hold ended: {:?}", t0.elapsed());
    let _ = hold.join();
}

#[test]
fn waiters_of_a_down_server_stay_without_redispatch() {
    let chk = std::net::TcpListener::bind("127.0.0.1:0").expect("bind check port");
    let chk_port = chk.local_addr().expect("addr").port();
    let lines = "    balance roundrobin\n    cookie SERVERID insert indirect nocache\n    timeout queue 1500ms";
    let p = start_down_pair(lines, chk_port);

    let hold = spawn_get(p.port, "/hold", TO_S1);
    assert!(wait_until(Duration::from_secs(3), || p.s1.in_flight() == 1), "/hold never reached s1");
    let waiter = spawn_get(p.port, "/w", TO_S1);
    p.wait_queued("s1", 1);

    drop(chk);
    let down = p
        .logs
        .wait_for(|l| l.contains("Server app/s1 is DOWN"), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("s1 never went DOWN: {:?}", p.logs.lines()));
    assert!(down.contains("1 sessions active, 0 requeued, 1 remaining in queue."), "HAProxy's counts: {down}");
    let (r, took) = waiter.join().expect("waiter");
    assert_eq!(r.status, 503, "no redispatch: the waiter stays until timeout queue: {}", r.text());
    assert!(took >= Duration::from_millis(1300), "503 after timeout queue, not before: {took:?}");
    assert!(p.s2.requests_for("/w").is_empty(), "never balanced elsewhere");
    assert_eq!(&p.log_of("/w").state[..2], "sQ");
    let _ = hold.join();
}

#[test]
fn stick_table_client_waits_for_its_busy_server() {
    let lines =
        "    balance roundrobin\n    stick-table type ip size 1k expire 1m\n    stick on src\n    timeout queue 10s";
    let p = Pair::start(lines, ["", ""], [Behavior::KeepAlive, Behavior::KeepAlive]);
    // Every client is 127.0.0.1: the first request sticks them all to one server.
    let (first, _) = timed(p.port, "/first", &[]);
    let stuck = served_by(&first);
    let other = if stuck == "s1" { "s2" } else { "s1" };
    p.server(&stuck).set_behavior(Behavior::Delay(Duration::from_millis(1000)));

    let hold = spawn_get(p.port, "/hold", &[]);
    assert!(wait_until(Duration::from_secs(3), || p.server(&stuck).in_flight() == 1), "/hold never reached {stuck}");
    let waiter = spawn_get(p.port, "/stuck", &[]);
    p.wait_queued(&stuck, 1);
    let (r, took) = waiter.join().expect("waiter");
    assert_eq!(served_by(&r), stuck, "the stick entry's server, after waiting");
    assert!(took >= Duration::from_millis(500), "waited for /hold: {took:?}");
    assert_eq!(served_by(&hold.join().expect("hold").0), stuck);
    assert!(p.server(other).traffic().is_empty(), "{other} got nothing: the stick entry held");
}

/// `minconn 1 maxconn 4` with `fullconn 8`: the server's limit follows the backend's load (served + queued):
/// with 4 requests in, it is max(1, 4 × 4 / 8) = 2, so the server never sees more than 2 at once, and all are
/// served; with 8 in, the full `maxconn 4` applies.
#[test]
fn minconn_and_fullconn_scale_the_servers_limit_with_the_load() {
    let run = |clients: usize| {
        let web = HttpBackend::start("web01", Behavior::Delay(Duration::from_millis(300)));
        let port = free_port();
        let cfg = cfg(port, web.port, 10_000)
            .replace("server web01 127.0.0.1", "fullconn 8\n    server web01 127.0.0.1")
            .replace("maxconn 1\n", "minconn 1 maxconn 4\n");
        let _p = Proxy::start_and_wait(&cfg, port);
        let threads: Vec<_> = (0..clients).map(|i| thread::spawn(move || timed_get(port, &format!("/m{i}")))).collect();
        for (i, t) in threads.into_iter().enumerate() {
            let (status, _, body) = t.join().expect("client");
            assert_eq!((status, body.as_str()), (200, "web01"), "request /m{i}");
        }
        web.max_in_flight()
    };
    assert_eq!(run(4), 2, "4 sessions of fullconn 8: half of maxconn 4");
    assert_eq!(run(8), 4, "at fullconn: the whole maxconn");
}
