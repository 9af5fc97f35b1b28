//! Large bodies are streamed, never buffered whole: a 100 MiB upload and a 100 MiB download go through with their
//! SHA-256 intact while the worker's RSS stays under 64 MiB (SPEC §4 "Memory"; issue 3).
//!
//! The expected digest of the 100 MiB pattern is a constant ([`PATTERN_SHA256_100MIB`], checked on 1 MiB here):
//! hashing runs at ~20 MB/s in an unoptimized test build, so each test hashes only once (backend side for the
//! upload, client side for the download). The two transfers run one at a time to keep their time bound honest.

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::http::*;
use support::*;

const SIZE: u64 = 100 << 20;
const RSS_LIMIT_KIB: u64 = 64 * 1024;
const TIME_LIMIT: Duration = Duration::from_secs(20);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn cfg(port: u16, server: u16) -> String {
    format!(
        r#"global
    maxconn 1024

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server web01 127.0.0.1:{server}
"#
    )
}

fn setup(behavior: Behavior) -> (HttpBackend, u16, Proxy, Vec<i32>) {
    let web = HttpBackend::start("web01", behavior);
    let port = free_port();
    let p = Proxy::start_and_wait(&cfg(port, web.port), port);
    let mut workers = Vec::new();
    assert!(
        wait_until(Duration::from_secs(3), || {
            workers = p.workers();
            !workers.is_empty()
        }),
        "no worker process"
    );
    (web, port, p, workers)
}

fn check_rss(sampler: RssSampler, workers: &[i32]) {
    let (max_kib, samples) = sampler.finish();
    eprintln!("worker RSS peak {max_kib} KiB over {samples} samples of {workers:?}");
    assert!(samples >= 3, "too few RSS samples ({samples}) of {workers:?}");
    assert!(max_kib < RSS_LIMIT_KIB, "a worker's RSS reached {max_kib} KiB (limit {RSS_LIMIT_KIB} KiB)");
}

#[test]
fn sha256_and_the_pattern_match_known_vectors() {
    assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    let two_blocks = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_eq!(sha256_hex(two_blocks), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // 1 MiB of pattern fed in odd-sized pieces.
    let mut s = Sha256::new();
    let (mut off, mut step) = (0u64, 1usize);
    while off < 1 << 20 {
        let n = (step % 9000 + 1).min(((1 << 20) - off) as usize);
        s.update(pattern_at(off, n));
        off += n as u64;
        step = (step * 7 + 3) % 100_003;
    }
    assert_eq!(s.hex(), PATTERN_SHA256_1MIB);
    assert!(is_pattern(12345, pattern_at(12345, PATTERN_MAX_SLICE)));
    assert!(!is_pattern(12346, pattern_at(12345, 1000)));
}

#[test]
fn upload_of_100_mib_is_streamed_with_its_digest_intact_and_small_rss() {
    let _one = lock(&ONE_AT_A_TIME);
    let (web, port, _p, workers) = setup(Behavior::Digest);
    let sampler = RssSampler::start(workers.clone());
    let t0 = Instant::now();
    let mut c = HttpConn::open(port).expect("connect");
    c.set_timeouts(TIME_LIMIT);
    c.send(format!("POST /upload HTTP/1.1\r\nHost: test.local\r\nContent-Length: {SIZE}\r\n\r\n").as_bytes()).unwrap();
    let mut off = 0u64;
    while off < SIZE {
        let n = (SIZE - off).min(PATTERN_MAX_SLICE as u64) as usize;
        c.send(pattern_at(off, n)).unwrap_or_else(|e| panic!("upload cut at {off} bytes: {e}"));
        off += n as u64;
    }
    let r = c.read_response().expect("response to the upload");
    let took = t0.elapsed();
    check_rss(sampler, &workers);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), format!("{SIZE} {PATTERN_SHA256_100MIB}"), "the backend's length and SHA-256");
    let seen = web.requests_for("/upload");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].complete, "{:?}", seen[0]);
    assert!(took < TIME_LIMIT, "100 MiB upload took {took:?}");
}

#[test]
fn download_of_100_mib_is_streamed_with_its_digest_intact_and_small_rss() {
    let _one = lock(&ONE_AT_A_TIME);
    let (_web, port, _p, workers) = setup(Behavior::Large(SIZE));
    let sampler = RssSampler::start(workers.clone());
    let t0 = Instant::now();
    let mut c = HttpConn::open(port).expect("connect");
    c.set_timeouts(TIME_LIMIT);
    c.send(get_request("/download", &[]).as_bytes()).unwrap();
    let head = c.read_head().expect("response head");
    assert_eq!(head.status, 200, "{head:?}");
    let mut sha = Sha256::new();
    let got = c
        .read_body_with(&head, &mut |b| {
            sha.update(b);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("download cut after {} bytes: {e}", sha.len()));
    let took = t0.elapsed();
    check_rss(sampler, &workers);
    assert_eq!(got, SIZE);
    assert_eq!(sha.hex(), PATTERN_SHA256_100MIB, "SHA-256 of the downloaded body");
    assert!(took < TIME_LIMIT, "100 MiB download took {took:?}");
}
