//! `mode tcp` proxying and balancing across banner-first backends (SPEC §4 tcp, balancing; issue 2).

mod support;

use std::thread;
use std::time::Duration;
use support::*;

/// A tcp `listen fe` on `port` with `balance {algo}` and one `server` line per `(name, port, extra)`.
fn listen_cfg(port: u16, algo: &str, servers: &[(&str, u16, &str)]) -> String {
    let mut cfg = format!(
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n\
         listen fe\n    bind 127.0.0.1:{port}\n    balance {algo}\n"
    );
    for (name, p, extra) in servers {
        cfg.push_str(&format!("    server {name} 127.0.0.1:{p} {extra}\n"));
    }
    cfg
}

#[test]
fn roundrobin_spreads_evenly_and_clients_talk_back() {
    let (web01, web02) = (BannerServer::start("web01"), BannerServer::start("web02"));
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &listen_cfg(port, "roundrobin", &[("web01", web01.port, ""), ("web02", web02.port, "")]),
        port,
    );
    let mut counts = std::collections::HashMap::new();
    for i in 0..10 {
        let mut c = Conn::open(port).unwrap_or_else(|e| panic!("client #{i}: connect: {e}"));
        let name = c.banner().unwrap_or_else(|e| panic!("client #{i}: banner: {e}"));
        assert_eq!(c.say("hello").unwrap(), format!("{name}: hello"), "client #{i}: echo");
        assert_eq!(c.say("again").unwrap(), format!("{name}: again"), "client #{i}: second echo");
        *counts.entry(name).or_insert(0usize) += 1;
    }
    assert_eq!(count(&counts, "web01"), 5, "{counts:?}");
    assert_eq!(count(&counts, "web02"), 5, "{counts:?}");
}

#[test]
fn roundrobin_weights_3_to_1() {
    let (web01, web02) = (BannerServer::start("web01"), BannerServer::start("web02"));
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &listen_cfg(port, "roundrobin", &[("web01", web01.port, "weight 3"), ("web02", web02.port, "weight 1")]),
        port,
    );
    let counts = banner_counts(port, 12);
    assert_eq!(count(&counts, "web01"), 9, "{counts:?}");
    assert_eq!(count(&counts, "web02"), 3, "{counts:?}");
}

#[test]
fn static_rr_alternates() {
    let (web01, web02) = (BannerServer::start("web01"), BannerServer::start("web02"));
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &listen_cfg(port, "static-rr", &[("web01", web01.port, ""), ("web02", web02.port, "")]),
        port,
    );
    let names: Vec<String> = (0..6).map(|i| banner_of(port).unwrap_or_else(|e| panic!("#{i}: {e}"))).collect();
    for w in names.windows(2) {
        assert_ne!(w[0], w[1], "static-rr did not alternate: {names:?}");
    }
    assert_eq!(names.iter().filter(|n| *n == "web01").count(), 3, "{names:?}");
}

#[test]
fn leastconn_avoids_the_busy_server() {
    let (web01, web02) = (BannerServer::start("web01"), BannerServer::start("web02"));
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &listen_cfg(port, "leastconn", &[("web01", web01.port, ""), ("web02", web02.port, "")]),
        port,
    );
    // One long-held session; whichever server got it is now busier.
    let mut held = Conn::open(port).unwrap();
    let busy = held.banner().unwrap();
    let idle = if busy == "web01" { "web02" } else { "web01" };
    for i in 0..4 {
        let mut c = Conn::open(port).unwrap();
        assert_eq!(c.banner().unwrap(), idle, "short connection #{i} went to the busy server {busy}");
        // Close cleanly and wait for the proxy's EOF, so the session is over before the next one starts.
        c.shutdown_write().unwrap();
        let _ = c.read_rest();
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(held.say("still here").unwrap(), format!("{busy}: still here"));
}

#[test]
fn source_hash_sticks_to_one_server() {
    let (web01, web02) = (BannerServer::start("web01"), BannerServer::start("web02"));
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &listen_cfg(port, "source", &[("web01", web01.port, ""), ("web02", web02.port, "")]),
        port,
    );
    let counts = banner_counts(port, 10);
    assert_eq!(counts.len(), 1, "connections from one source address went to several servers: {counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 10);
}

#[test]
fn half_close_still_gets_the_reply() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let _p = Proxy::start_and_wait(&listen_cfg(port, "roundrobin", &[("web01", web01.port, "")]), port);
    let mut c = Conn::open(port).unwrap();
    assert_eq!(c.banner().unwrap(), "web01");
    c.send("hello\n").unwrap();
    c.shutdown_write().unwrap();
    // The server answers, sees EOF and closes; the proxy must carry both the reply and the close.
    let rest = c.read_rest().expect("reading after half-close");
    assert_eq!(rest, "web01: hello\n");
}

#[test]
fn large_transfer_is_carried_intact() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let _p = Proxy::start_and_wait(&listen_cfg(port, "roundrobin", &[("web01", web01.port, "")]), port);
    let mut c = Conn::open(port).unwrap();
    assert_eq!(c.banner().unwrap(), "web01");
    // 2000 distinct lines (~100 KB, several proxy buffers) written while the replies flow back.
    let mut writer = c.stream().try_clone().unwrap();
    let sender = thread::spawn(move || {
        use std::io::Write;
        for i in 0..2000 {
            writer.write_all(format!("line {i:05} {}\n", "x".repeat(40)).as_bytes()).unwrap();
        }
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    for i in 0..2000 {
        let got = c.read_line().unwrap_or_else(|e| panic!("reply #{i}: {e}"));
        assert_eq!(got, format!("web01: line {i:05} {}", "x".repeat(40)));
    }
    sender.join().unwrap();
    assert_eq!(c.read_rest().unwrap(), "", "data after the last reply");
}

#[test]
fn first_fills_servers_in_order() {
    let (web01, web02) = (BannerServer::start("web01"), BannerServer::start("web02"));
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &listen_cfg(port, "first", &[("web01", web01.port, "maxconn 2"), ("web02", web02.port, "maxconn 2")]),
        port,
    );
    let mut held = Vec::new();
    let mut names = Vec::new();
    for _ in 0..3 {
        let mut c = Conn::open(port).unwrap();
        names.push(c.banner().unwrap());
        held.push(c);
    }
    assert_eq!(names, ["web01", "web01", "web02"], "first: web01 until its maxconn, then web02");
}

#[test]
fn disabled_server_gets_no_traffic() {
    let (web01, web02) = (BannerServer::start("web01"), BannerServer::start("web02"));
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &listen_cfg(port, "roundrobin", &[("web01", web01.port, ""), ("web02", web02.port, "disabled")]),
        port,
    );
    let counts = banner_counts(port, 6);
    assert_eq!(count(&counts, "web01"), 6, "{counts:?}");
    assert_eq!(web02.accepted(), 0, "the disabled server was contacted");
}

#[test]
fn server_maxconn_queues_the_excess() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let mut cfg = listen_cfg(port, "roundrobin", &[("web01", web01.port, "maxconn 1")]);
    cfg.push_str("    timeout queue 5s\n");
    let _p = Proxy::start_and_wait(&cfg, port);

    let mut first = Conn::open(port).unwrap();
    assert_eq!(first.banner().unwrap(), "web01");
    let mut second = Conn::open(port).expect("the frontend accepts while the server is full");
    second.set_read_timeout(Duration::from_millis(400));
    match second.read_line() {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
        other => panic!("second connection should wait in the queue, got {other:?}"),
    }
    assert_eq!(web01.accepted(), 1, "maxconn 1 exceeded");

    first.shutdown_write().unwrap();
    let _ = first.read_rest();
    second.set_read_timeout(Duration::from_secs(2));
    assert_eq!(second.banner().expect("queued connection not served after the slot freed"), "web01");
    assert_eq!(second.say("queued").unwrap(), "web01: queued");
}

#[test]
fn mode_health_answers_ok() {
    let port = free_port();
    let cfg = format!(
        "defaults\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n\
         listen health\n    bind 127.0.0.1:{port}\n    mode health\n"
    );
    let _p = Proxy::start_and_wait(&cfg, port);
    let mut c = Conn::open(port).unwrap();
    let all = c.read_rest().expect("mode health closes after answering");
    assert!(all.starts_with("OK"), "mode health answered {all:?}");
}

#[test]
fn redispatch_moves_a_refused_connection_to_another_server() {
    let mut dead = BannerServer::start("dead");
    dead.stop(); // its port now refuses connections; no health check to notice
    let web02 = BannerServer::start("web02");
    let port = free_port();
    let mut cfg = listen_cfg(port, "roundrobin", &[("dead", dead.port, ""), ("web02", web02.port, "")]);
    cfg.push_str("    retries 1\n    option redispatch\n");
    let _p = Proxy::start_and_wait(&cfg, port);
    for i in 0..4 {
        let mut c = Conn::open(port).unwrap();
        c.set_read_timeout(Duration::from_secs(4)); // a retry after a refusal may wait 1 s (HAPROXY-FACTS §5.2)
        assert_eq!(c.banner().unwrap_or_else(|e| panic!("client #{i}: {e}")), "web02", "client #{i}");
    }
}

#[test]
fn source_hash_waits_for_its_full_server() {
    let (web01, web02) = (BannerServer::start("web01"), BannerServer::start("web02"));
    let port = free_port();
    let mut cfg = listen_cfg(port, "source", &[("web01", web01.port, "maxconn 1"), ("web02", web02.port, "maxconn 1")]);
    cfg.push_str("    timeout queue 5s\n");
    let _p = Proxy::start_and_wait(&cfg, port);
    // Every client is 127.0.0.1: one server for all of them.
    let mut held = Conn::open(port).unwrap();
    let chosen = held.banner().unwrap();
    let (mine, other) = if chosen == "web01" { (&web01, &web02) } else { (&web02, &web01) };

    let mut waiting = Conn::open(port).unwrap();
    waiting.set_read_timeout(Duration::from_millis(400));
    assert!(waiting.banner().is_err(), "the second client must wait while {chosen} is at maxconn 1");
    assert_eq!(other.accepted(), 0, "the hashed server is waited for, not replaced by the free one");

    drop(held); // the slot frees: the waiter gets it
    waiting.set_read_timeout(Duration::from_secs(5));
    assert_eq!(waiting.banner().unwrap(), chosen, "served by its own server once the slot freed");
    assert_eq!(mine.accepted(), 2);
    assert_eq!(other.accepted(), 0);
}
