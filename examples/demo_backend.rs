//! A tiny HTTP/1.x server for the demo: `demo_backend PORT NAME`.
//!
//! Listens on 127.0.0.1:PORT and answers every request with `200 OK`, `Content-Type: text/plain` and the body
//! `hello from NAME\n`. Keep-alive is honoured minimally (HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with
//! `Connection: keep-alive`); request bodies announced by `Content-Length` are read and discarded. A fixed pool of
//! threads shares the listener, so the thread count is bounded whatever the load. Stops on SIGTERM / Ctrl-C (the
//! default signal behaviour). Standard library only.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::exit;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Threads accepting and serving connections (one connection per thread at a time).
const THREADS: usize = 16;
/// An idle keep-alive connection is closed after this long, so it cannot pin a thread forever.
const IDLE: Duration = Duration::from_secs(5);
/// Longest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: {} PORT NAME", args.first().map(String::as_str).unwrap_or("demo_backend"));
        exit(2);
    }
    let port: u16 = match args[1].parse() {
        Ok(p) => p,
        Err(_) => {
            eprintln!("demo_backend: bad port {:?}", args[1]);
            exit(2);
        }
    };
    let body: Arc<str> = format!("hello from {}\n", args[2]).into();
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo_backend: cannot bind 127.0.0.1:{port}: {e}");
            exit(1);
        }
    };
    eprintln!("demo_backend {}: listening on 127.0.0.1:{port}", args[2]);

    let mut handles = Vec::with_capacity(THREADS);
    for _ in 0..THREADS {
        let listener = listener.try_clone().expect("clone listener");
        let body = Arc::clone(&body);
        handles.push(thread::spawn(move || loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    // A client that misbehaves only ends its own connection.
                    let _ = serve(stream, &body);
                }
                Err(e) => {
                    eprintln!("demo_backend: accept: {e}");
                    thread::sleep(Duration::from_millis(100));
                }
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
}

/// Serve requests on one connection until the client closes, asks to close, or idles out.
fn serve(stream: TcpStream, body: &str) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let Some(head) = read_head(&mut reader)? else {
            return Ok(());
        };
        // Discard a request body announced by Content-Length (chunked bodies are not expected here).
        if head.content_length > 0 {
            io::copy(&mut (&mut reader).take(head.content_length), &mut io::sink())?;
        }
        let connection = if head.keep_alive { "keep-alive" } else { "close" };
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{}",
            body.len(),
            if head.is_head { "" } else { body },
        );
        writer.write_all(response.as_bytes())?;
        if !head.keep_alive {
            return Ok(());
        }
    }
}

/// What the server needs to know about one request.
struct Head {
    keep_alive: bool,
    content_length: u64,
    is_head: bool,
}

/// Read one request head; `None` on a clean close before any byte of it.
fn read_head(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Head>> {
    let mut line = String::new();
    let mut total = 0;
    // Request line (skipping stray empty lines between requests, as RFC 9112 allows).
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return Ok(None);
        }
        total += n;
        if total > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too long"));
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let version = parts.nth(1).unwrap_or("HTTP/1.0").to_string();
    let mut keep_alive = version == "HTTP/1.1";
    let mut content_length = 0;
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside a request head"));
        }
        total += n;
        if total > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too long"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("connection") {
                if value.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if value.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            } else if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().unwrap_or(0);
            }
        }
    }
    Ok(Some(Head { keep_alive, content_length, is_head: method == "HEAD" }))
}
