//! TCP stream throughput tool used by `scripts/bench.sh`. Standard library only.
//!
//! - `stream_bench sink PORT`: listen on 127.0.0.1:PORT, accept connections, read and discard everything.
//! - `stream_bench send HOST:PORT SECONDS [CONNS]`: open CONNS connections (default 1), write a 64 KiB buffer in a
//!   loop on each for SECONDS, then print the aggregate rate as `MB/s: N` (MB = 10^6 bytes) on stdout.
//!
//! - `stream_bench idle HOST:PORT CONNS HOLD_SECS [PATH]`: open CONNS connections one after the other; on each,
//!   send one keep-alive `GET PATH` (with no PATH: send nothing, a bare TCP connection) and read its whole
//!   response; then print `ready: CONNS` on stdout and hold every connection open, idle, for HOLD_SECS.
//!   `scripts/bench.sh` reads the proxy's memory meanwhile (memory per idle connection).
//!
//! The sender counts bytes accepted by its socket, so the figure includes what is still in flight in kernel buffers
//! when the clock stops; over a few seconds that error is far below a percent on loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::process::exit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Size of each write.
const CHUNK: usize = 64 * 1024;
/// Most connections the sink serves at once; further ones wait in the backlog.
const MAX_SINK_CONNS: usize = 256;
/// Most connections the sender opens.
const MAX_SEND_CONNS: usize = 256;
/// Most idle connections the `idle` mode holds.
const MAX_IDLE_CONNS: usize = 20_000;

fn usage() -> ! {
    eprintln!("usage: stream_bench sink PORT");
    eprintln!("       stream_bench send HOST:PORT SECONDS [CONNS]");
    eprintln!("       stream_bench idle HOST:PORT CONNS HOLD_SECS [PATH]");
    exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sink") if args.len() == 2 => {
            let port: u16 = args[1].parse().unwrap_or_else(|_| usage());
            sink(port);
        }
        Some("send") if args.len() == 3 || args.len() == 4 => {
            let secs: f64 = args[2].parse().unwrap_or_else(|_| usage());
            let conns: usize = match args.get(3) {
                Some(c) => c.parse().unwrap_or_else(|_| usage()),
                None => 1,
            };
            if !secs.is_finite() || secs <= 0.0 || conns == 0 || conns > MAX_SEND_CONNS {
                usage();
            }
            send(&args[1], Duration::from_secs_f64(secs), conns);
        }
        Some("idle") if args.len() == 4 || args.len() == 5 => {
            let conns: usize = args[2].parse().unwrap_or_else(|_| usage());
            let hold: f64 = args[3].parse().unwrap_or_else(|_| usage());
            if !hold.is_finite() || hold < 0.0 || conns == 0 || conns > MAX_IDLE_CONNS {
                usage();
            }
            idle(&args[1], conns, Duration::from_secs_f64(hold), args.get(4).map(String::as_str));
        }
        _ => usage(),
    }
}

/// Reads one HTTP/1.1 response (head, then a Content-Length body) from `s`; returns false on error or close.
fn read_response(s: &mut TcpStream) -> bool {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return true;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn idle(target: &str, conns: usize, hold: Duration, path: Option<&str>) {
    let addr = match target.to_socket_addrs().ok().and_then(|mut a| a.next()) {
        Some(a) => a,
        None => {
            eprintln!("stream_bench: cannot resolve {target:?}");
            exit(2);
        }
    };
    let mut streams = Vec::with_capacity(conns);
    for i in 0..conns {
        let mut s = match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("stream_bench: connect {addr} (connection {i}): {e}");
                exit(1);
            }
        };
        if let Some(path) = path {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
            if s.write_all(req.as_bytes()).is_err() || !read_response(&mut s) {
                eprintln!("stream_bench: no response on connection {i}");
                exit(1);
            }
        }
        streams.push(s);
    }
    println!("ready: {conns}");
    let _ = std::io::stdout().flush();
    thread::sleep(hold);
    drop(streams);
}

fn sink(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
        eprintln!("stream_bench: cannot bind 127.0.0.1:{port}: {e}");
        exit(1);
    });
    eprintln!("stream_bench: sink listening on 127.0.0.1:{port}");
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        while active.load(Ordering::Acquire) >= MAX_SINK_CONNS {
            thread::sleep(Duration::from_millis(10));
        }
        let mut stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) => {
                eprintln!("stream_bench: accept: {e}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        active.fetch_add(1, Ordering::AcqRel);
        let active = Arc::clone(&active);
        thread::spawn(move || {
            let mut buf = vec![0u8; CHUNK];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            active.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

fn send(target: &str, duration: Duration, conns: usize) {
    let addr = match target.to_socket_addrs().ok().and_then(|mut a| a.next()) {
        Some(a) => a,
        None => {
            eprintln!("stream_bench: cannot resolve {target:?}");
            exit(2);
        }
    };
    // Connect everything first, so the clock measures streaming, not connection set-up.
    let mut streams = Vec::with_capacity(conns);
    for _ in 0..conns {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => streams.push(s),
            Err(e) => {
                eprintln!("stream_bench: connect {addr}: {e}");
                exit(1);
            }
        }
    }
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            thread::spawn(move || -> Result<u64, String> {
                // Short write timeouts so a stalled peer cannot hold us past the deadline for long.
                s.set_write_timeout(Some(Duration::from_millis(200))).map_err(|e| e.to_string())?;
                let buf = vec![0x5au8; CHUNK];
                let mut sent: u64 = 0;
                while Instant::now() < deadline {
                    match s.write(&buf) {
                        Ok(0) => return Err("peer closed the connection".into()),
                        Ok(n) => sent += n as u64,
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::TimedOut
                                || e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
                let _ = s.shutdown(std::net::Shutdown::Both);
                Ok(sent)
            })
        })
        .collect();
    let mut total: u64 = 0;
    let mut failed = false;
    for w in workers {
        match w.join() {
            Ok(Ok(n)) => total += n,
            Ok(Err(e)) => {
                eprintln!("stream_bench: send: {e}");
                failed = true;
            }
            Err(_) => failed = true,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if failed {
        exit(1);
    }
    println!("MB/s: {:.1}", total as f64 / elapsed / 1e6);
}
