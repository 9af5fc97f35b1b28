//! Scriptable layer-7 backends for health-check tests: an HTTP server whose status can be changed while it runs,
//! and a generic server running a dialogue closure (fake Redis, SMTP, MySQL, …) per connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::{accept_loop, bind_retry, lock, reserve_port, Running};

/// A backend running `dialogue` on every accepted connection (in its own thread), until dropped.
pub struct ScriptServer {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    running: Option<Running>,
}

impl ScriptServer {
    pub fn start(dialogue: impl Fn(TcpStream) + Send + Sync + 'static) -> ScriptServer {
        let listener = bind_retry(0);
        let port = listener.local_addr().unwrap().port();
        reserve_port(port);
        let accepted: Arc<AtomicUsize> = Arc::default();
        let running = Some(accept_loop(listener, accepted.clone(), Arc::new(dialogue)));
        ScriptServer { port, accepted, running }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shut();
        }
    }
}

/// An HTTP backend answering every request with the current status (`set_status`), an empty body, and close.
pub struct StatusServer {
    pub port: u16,
    status: Arc<AtomicU16>,
    requests: Arc<Mutex<Vec<String>>>,
    _server: ScriptServer,
}

/// HTTP reason phrases used by [`StatusServer`].
pub fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        204 => "No Content",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Other",
    }
}

impl StatusServer {
    pub fn start(status: u16) -> StatusServer {
        let st = Arc::new(AtomicU16::new(status));
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (st2, reqs) = (st.clone(), requests.clone());
        let server = ScriptServer::start(move |mut s| {
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            lock(&reqs).push(String::from_utf8_lossy(&head).into_owned());
            let code = st2.load(Ordering::SeqCst);
            let resp = format!("HTTP/1.1 {code} {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", reason(code));
            let _ = s.write_all(resp.as_bytes());
            let _ = s.shutdown(Shutdown::Write);
        });
        StatusServer { port: server.port, status: st, requests, _server: server }
    }

    /// Status of the next answers.
    pub fn set_status(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }

    /// Request heads received so far.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.requests).clone()
    }
}

/// A fake Redis: answers each line with `reply` (e.g. `+PONG\r\n`).
pub fn redis(reply: &'static str) -> ScriptServer {
    ScriptServer::start(move |s| {
        let Ok(mut w) = s.try_clone() else { return };
        let mut r = BufReader::new(s);
        let mut line = String::new();
        while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
            if w.write_all(reply.as_bytes()).is_err() {
                return;
            }
            line.clear();
        }
    })
}

/// A fake SMTP server: greets with `greeting`, answers `HELO`/`EHLO` with 250, `QUIT` with 221.
pub fn smtp(greeting: &'static str) -> ScriptServer {
    ScriptServer::start(move |s| {
        let Ok(mut w) = s.try_clone() else { return };
        if w.write_all(greeting.as_bytes()).is_err() || !greeting.starts_with('2') {
            return;
        }
        let mut r = BufReader::new(s);
        let mut line = String::new();
        while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
            let reply = match line.get(..4).map(|v| v.to_ascii_uppercase()) {
                Some(v) if v == "HELO" || v == "EHLO" => "250 fake.example Hello\r\n",
                Some(v) if v == "QUIT" => "221 Bye\r\n",
                _ => "500 Unknown command\r\n",
            };
            if w.write_all(reply.as_bytes()).is_err() || reply.starts_with("221") {
                return;
            }
            line.clear();
        }
    })
}

/// A MySQL protocol-10 initial handshake packet announcing `version`.
pub fn mysql_handshake(version: &str) -> Vec<u8> {
    let mut p = vec![10];
    p.extend_from_slice(version.as_bytes());
    p.push(0);
    p.extend_from_slice(&42u32.to_le_bytes());
    p.extend_from_slice(b"12345678\0");
    p.extend_from_slice(&[0xff, 0xf7, 0x21, 0x02, 0x00, 0xff, 0x81, 0x15]);
    p.extend_from_slice(&[0; 10]);
    p.extend_from_slice(b"9abcdefghijk\0mysql_native_password\0");
    let mut out = (p.len() as u32).to_le_bytes()[..3].to_vec();
    out.push(0);
    out.extend_from_slice(&p);
    out
}

/// A fake MySQL server: sends the handshake, then answers a login with OK (sequence 2) and waits for the close.
pub fn mysql(version: &'static str) -> ScriptServer {
    ScriptServer::start(move |mut s| {
        if s.write_all(&mysql_handshake(version)).is_err() {
            return;
        }
        let mut buf = [0u8; 1024];
        if let Ok(n) = s.read(&mut buf) {
            if n > 4 && buf[3] == 1 {
                let _ = s.write_all(&[7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0]);
            }
        }
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    })
}
