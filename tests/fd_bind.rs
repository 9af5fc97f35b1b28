//! `bind fd@N`: nbproxy serves on a listening socket it inherited, as HAProxy's own test tool and systemd hand
//! them over (SPEC §2 "Listeners", issue 2 item 9).

mod support;

use std::net::TcpListener;
use std::os::fd::AsRawFd;
use support::*;

#[test]
fn inherited_listening_descriptor_is_served() {
    let web01 = BannerServer::start("web01");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a listener to hand over");
    let port = listener.local_addr().expect("local addr").port();
    let fd = listener.as_raw_fd();
    // SAFETY: fcntl on a descriptor this test owns; clearing FD_CLOEXEC lets the spawned nbproxy inherit it.
    assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) }, 0, "clear FD_CLOEXEC");
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\
         listen fe\n    bind fd@{fd}\n    server web01 127.0.0.1:{}\n",
        web01.port
    );
    let p = Proxy::start(&cfg);
    // SAFETY: as above; other tests spawned from now on need not inherit it.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(client_banner(port).unwrap_or_else(|e| panic!("through fd@{fd}: {e}; stderr:\n{}", p.stderr_text())));
    }
    assert!(got.iter().all(|b| b.contains("web01")), "every connection on the inherited socket is proxied: {got:?}");
    drop(listener);
}
