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

/// A backend that sends every connection's first bytes (until `hello`, EOF or 1 s of silence) to the channel, then
/// answers `ok` and closes. It serves for at most 10 s.
fn recording_backend() -> (u16, std::sync::mpsc::Receiver<Vec<u8>>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind recording backend");
    let port = l.local_addr().expect("local addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let end = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < end {
            let Ok((mut s, _)) = l.accept() else {
                thread::sleep(Duration::from_millis(10));
                continue;
            };
            let _ = s.set_nonblocking(false);
            let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
            let mut got = Vec::new();
            let mut b = [0u8; 512];
            while !got.ends_with(b"hello") && got.len() < 4096 {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&b[..n]),
                }
            }
            let _ = s.write_all(b"ok\n");
            if tx.send(got).is_err() {
                return;
            }
        }
    });
    (port, rx)
}

/// Send `hello` through the proxy and return what the backend received first, and the client's port.
fn through_proxy(port: u16, rx: &std::sync::mpsc::Receiver<Vec<u8>>) -> (Vec<u8>, u16) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the proxy");
    c.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    let cport = c.local_addr().expect("client addr").port();
    c.write_all(b"hello").expect("write");
    let mut answer = [0u8; 3];
    c.read_exact(&mut answer).expect("the backend's answer");
    assert_eq!(&answer, b"ok\n");
    (rx.recv_timeout(Duration::from_secs(3)).expect("the backend saw the connection"), cport)
}

/// `send-proxy`: the server reads a PROXY v1 line with the client's address before the client's bytes.
#[test]
fn send_proxy_v1_line_comes_before_the_clients_bytes() {
    let (backend, rx) = recording_backend();
    let port = free_port();
    let _p = Proxy::start_and_wait(&listen_cfg(port, "roundrobin", &[("s1", backend, "send-proxy")]), port);
    let (got, cport) = through_proxy(port, &rx);
    let want = format!("PROXY TCP4 127.0.0.1 127.0.0.1 {cport} {port}\r\nhello");
    assert_eq!(String::from_utf8_lossy(&got), want);
}

/// `send-proxy-v2`: the binary header (signature, PROXY command, TCP over IPv4, addresses, ports), then the data;
/// health checks of such a server send the header's LOCAL form first.
#[test]
fn send_proxy_v2_header_and_checks_send_the_local_form() {
    let (backend, rx) = recording_backend();
    let port = free_port();
    let _p = Proxy::start_and_wait(&listen_cfg(port, "roundrobin", &[("s1", backend, "send-proxy-v2")]), port);
    let (got, cport) = through_proxy(port, &rx);
    let mut want = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    want.extend_from_slice(&[0x21, 0x11, 0, 12, 127, 0, 0, 1, 127, 0, 0, 1]);
    want.extend_from_slice(&cport.to_be_bytes());
    want.extend_from_slice(&port.to_be_bytes());
    want.extend_from_slice(b"hello");
    assert_eq!(got, want);

    let (backend, rx) = recording_backend();
    let port = free_port();
    let _p = Proxy::start_and_wait(
        &listen_cfg(port, "roundrobin", &[("s1", backend, "send-proxy-v2 check inter 200")]),
        port,
    );
    let check = rx.recv_timeout(Duration::from_secs(3)).expect("a health check connection");
    let mut want = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    want.extend_from_slice(&[0x20, 0, 0, 0]);
    assert_eq!(check, want, "a check sends the LOCAL header and nothing else");
}

/// Whether the proxy closed the connection without the server's banner (EOF or reset within 2 s).
fn closed_without_banner(port: u16) -> bool {
    let mut c = Conn::open(port).expect("the proxy accepts at the TCP level");
    c.set_read_timeout(Duration::from_secs(2));
    match c.read_line() {
        Ok(line) => line.is_empty(),
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock && e.kind() != std::io::ErrorKind::TimedOut,
    }
}

/// `tcp-request connection reject` closes matching clients before any server is contacted; an earlier `accept`
/// stops the evaluation; `tcp-request content reject` closes a TCP session before it is balanced.
#[test]
fn tcp_request_connection_and_content_rules_reject_and_accept() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let cfg = listen_cfg(port, "roundrobin", &[("web01", web01.port, "")])
        .replace("    balance", "    tcp-request connection reject if { src 127.0.0.0/8 }\n    balance");
    let p = Proxy::start_and_wait(&cfg, port);
    for _ in 0..3 {
        assert!(closed_without_banner(port), "a rejected client must be closed");
    }
    assert_eq!(web01.accepted(), 0, "no server connection for rejected clients");
    drop(p);

    let port = free_port();
    let rules = "    tcp-request connection accept if { src 127.0.0.1 }\n    tcp-request connection reject\n";
    let cfg = listen_cfg(port, "roundrobin", &[("web01", web01.port, "")])
        .replace("    balance", &format!("{rules}    balance"));
    let p = Proxy::start_and_wait(&cfg, port);
    let mut c = Conn::open(port).expect("connect");
    assert_eq!(c.banner().expect("served after an accept rule"), "web01");
    drop(c);
    drop(p);

    let port = free_port();
    let rule = format!("    tcp-request content reject if {{ dst_port {port} }}\n");
    let cfg = listen_cfg(port, "roundrobin", &[("web01", web01.port, "")])
        .replace("    balance", &format!("{rule}    balance"));
    let _p = Proxy::start_and_wait(&cfg, port);
    let before = web01.accepted();
    assert!(closed_without_banner(port), "a content-rejected session must be closed");
    assert_eq!(web01.accepted(), before, "no server connection for a content-rejected session");
}

/// `bind … accept-proxy`: the PROXY header (v1 or v2, even when it arrives in pieces) is consumed, the session
/// takes the addresses it carries (seen here through `send-proxy` towards the server), the client's own bytes
/// pass untouched, and a connection that sends no header is closed without reaching a server.
#[test]
fn accept_proxy_takes_the_client_address_from_the_header() {
    use std::io::{Read, Write};
    let (backend, rx) = recording_backend();
    let port = free_port();
    let cfg = listen_cfg(port, "roundrobin", &[("s1", backend, "send-proxy")])
        .replace(&format!("bind 127.0.0.1:{port}"), &format!("bind 127.0.0.1:{port} accept-proxy"));
    let _p = Proxy::start_and_wait(&cfg, port);
    let exchange = |pieces: &[&[u8]]| -> Vec<u8> {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
        for p in pieces {
            c.write_all(p).expect("write");
            thread::sleep(Duration::from_millis(30));
        }
        let mut answer = [0u8; 3];
        c.read_exact(&mut answer).expect("the backend's answer");
        rx.recv_timeout(Duration::from_secs(3)).expect("the backend saw the connection")
    };
    let got = exchange(&[b"PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\nhello"]);
    assert_eq!(String::from_utf8_lossy(&got), "PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\nhello");
    let got = exchange(&[b"PROXY TCP6 2001:db8::7 ", b"2001:db8::1 6000 80\r", b"\nhel", b"lo"]);
    assert_eq!(String::from_utf8_lossy(&got), "PROXY TCP6 2001:db8::7 2001:db8::1 6000 80\r\nhello");
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    v2.extend_from_slice(&[0x21, 0x11, 0, 12, 203, 0, 113, 9, 127, 0, 0, 1, 0x1f, 0x90, 0, 80]);
    let (head, tail) = v2.split_at(10);
    let got = exchange(&[head, tail, b"hello"]);
    assert_eq!(String::from_utf8_lossy(&got), "PROXY TCP4 203.0.113.9 127.0.0.1 8080 80\r\nhello");
    // No header: closed, and the backend never hears of it.
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("write");
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    assert!(rest.is_empty(), "closed without an answer");
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "no server connection without a header");
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

/// `source 127.0.0.2` in a backend: connections to its servers, and their health checks, come from that address.
#[test]
fn source_address_of_server_connections_and_checks() {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let sport = l.local_addr().expect("addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let end = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < end {
            match l.accept() {
                Ok((mut s, peer)) => {
                    let _ = s.write_all(b"ok\n");
                    if tx.send(peer.ip()).is_err() {
                        return;
                    }
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    let port = free_port();
    let cfg = listen_cfg(port, "roundrobin", &[("s1", sport, "check inter 100")])
        .replace("    balance", "    source 127.0.0.2\n    balance");
    let _p = Proxy::start_and_wait(&cfg, port);
    let check_from = rx.recv_timeout(Duration::from_secs(3)).expect("a health check");
    assert_eq!(check_from.to_string(), "127.0.0.2", "checks come from the source address");
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    let mut b = [0u8; 3];
    c.read_exact(&mut b).expect("the server's answer");
    assert_eq!(&b, b"ok\n");
    // The server thread reports a connection's address just after answering it: wait for that report (the
    // client may read the answer first), then take whatever else came.
    let mut froms: Vec<_> = rx.recv_timeout(Duration::from_secs(2)).into_iter().collect();
    froms.extend(rx.try_iter());
    assert!(!froms.is_empty() && froms.iter().all(|ip| ip.to_string() == "127.0.0.2"), "{froms:?}");
}

/// `timeout client-fin`: once the client closed its side, the session waits on it instead of `timeout client`
/// (10 s here), so a server that never closes does not hold the half-closed connection for long.
#[test]
fn timeout_client_fin_ends_half_closed_sessions() {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let sport = l.local_addr().expect("addr").port();
    let holder = thread::spawn(move || {
        // Accept one connection and keep it open, silent, for 5 s.
        let (s, _) = l.accept().expect("accept");
        thread::sleep(Duration::from_secs(5));
        drop(s);
    });
    let port = free_port();
    let cfg = listen_cfg(port, "roundrobin", &[("s1", sport, "")])
        .replace("    balance", "    timeout client-fin 300ms\n    balance");
    let _p = Proxy::start_and_wait(&cfg, port);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(4))).expect("timeout");
    c.write_all(b"bye\n").expect("write");
    c.shutdown(std::net::Shutdown::Write).expect("half-close");
    let t0 = std::time::Instant::now();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).expect("closed by the proxy, not by the read timeout");
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(2), "closed after {took:?}");
    drop(holder);
}

/// `rate-limit sessions 5`: 15 clients connecting at once are all served, but over three seconds of the clock
/// (the excess waits in the kernel's backlog), where without the limit they are served at once.
#[test]
fn rate_limit_sessions_spreads_new_sessions_over_time() {
    let web01 = BannerServer::start("web01");
    let port = free_port();
    let cfg = listen_cfg(port, "roundrobin", &[("web01", web01.port, "")])
        .replace("    balance", "    rate-limit sessions 5\n    balance");
    let _p = Proxy::start_and_wait(&cfg, port);
    thread::sleep(Duration::from_millis(1100)); // a fresh second: the readiness probe counted in the last one
    let t0 = std::time::Instant::now();
    let clients: Vec<_> = (0..15)
        .map(|_| {
            thread::spawn(move || {
                let mut c = Conn::open(port).expect("connect");
                c.set_read_timeout(Duration::from_secs(6));
                c.banner().map(|_| t0.elapsed())
            })
        })
        .collect();
    let mut times: Vec<Duration> = clients.into_iter().map(|h| h.join().expect("client").expect("banner")).collect();
    times.sort();
    // Three waves of 5, at three successive seconds of the worker's clock: the last is at least ~1 s after the first.
    assert!(times[14] >= Duration::from_millis(900), "15 sessions at 5 per second took only {:?}", times[14]);
    assert!(times[4] < Duration::from_millis(1000), "the first 5 are served at once: {times:?}");
}
