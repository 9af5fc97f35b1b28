//! The stats page in a real browser (issue 4): Debian's headless chromium loads the page with credentials in the
//! URL, its DOM has every proxy's table and every server, and a screenshot is kept as a test artifact under
//! `target/test-artifacts/` (not in git). Skipped (with `SKIP:`) when `/usr/bin/chromium` is missing.

mod support;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::http::*;
use support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const BROWSER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs chromium headless with `args` then `url`, killed after [`BROWSER_TIMEOUT`]; returns (exit code, stdout,
/// stderr).
fn chromium(profile: &Path, args: &[&str], url: &str, out_dir: &Path, tag: &str) -> (Option<i32>, String, String) {
    let (out, err) = (out_dir.join(format!("{tag}.stdout")), out_dir.join(format!("{tag}.stderr")));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("create stdout file"))
        .stderr(File::create(&err).expect("create stderr file"))
        .process_group(0)
        .spawn()
        .expect("spawn chromium");
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break Some(st);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Chromium forks helpers (zygote, GPU, network): end the whole group we made for it.
    let pgid = child.id() as i32;
    send_signal(-pgid, libc::SIGKILL);
    let _ = child.wait();
    let stdout = fs::read_to_string(&out).unwrap_or_default();
    let stderr = fs::read_to_string(&err).unwrap_or_default();
    match status {
        Some(st) => (st.code(), stdout, stderr),
        None => panic!("chromium {args:?} {url} still running after {BROWSER_TIMEOUT:?}; stderr:\n{stderr}"),
    }
}

use std::os::unix::process::CommandExt;

fn artifacts_dir() -> PathBuf {
    // CARGO_MANIFEST_DIR is the worktree; the artifacts go next to the build, outside git.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("test-artifacts");
    fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

#[test]
fn chromium_renders_the_stats_page_with_every_proxy_table() {
    if !Path::new(CHROMIUM).exists() {
        println!("SKIP: {CHROMIUM} not installed");
        return;
    }
    let ports = free_ports(2);
    let (port, www) = (ports[0], ports[1]);
    let s1 = HttpBackend::start("s1", Behavior::KeepAlive);
    let s2 = HttpBackend::start("s2", Behavior::KeepAlive);
    let cfg = format!(
        r#"global
    nbproc 2

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen www
    bind 127.0.0.1:{www}
    balance roundrobin
    server web01 127.0.0.1:{s1}
    server web02 127.0.0.1:{s2}

backend spare
    server spare01 127.0.0.1:9

listen stats
    bind 127.0.0.1:{port}
    stats enable
    stats uri /admin?stats
    stats realm Nbproxy\ Statistics
    stats auth proxy:oldboy
"#,
        s1 = s1.port,
        s2 = s2.port,
    );
    let mut proxy = Proxy::start(&cfg);
    proxy.wait_listening(port);
    proxy.wait_listening(www);
    for i in 0..10 {
        let ex = raw_session(www, get_request(&format!("/{i}"), &["Connection: close"]).as_bytes(), IO_TIMEOUT);
        assert_eq!(ex.response().map(|r| r.status), Some(200), "traffic #{i}: {}", ex.text());
    }

    let tmp = TempDir::new("chromium");
    let artifacts = artifacts_dir();
    let url = format!("http://proxy:oldboy@127.0.0.1:{port}/admin?stats");

    let (code, dom, err) = chromium(&tmp.join("profile-dom"), &["--dump-dom"], &url, tmp.path(), "dom");
    fs::write(artifacts.join("stats.dom.html"), &dom).expect("write DOM artifact");
    assert_eq!(code, Some(0), "chromium --dump-dom failed; stderr:\n{err}");
    assert!(!dom.contains("401 Unauthorized"), "credentials in the URL were not used; DOM:\n{dom}");
    assert!(dom.contains("Statistics Report"), "not the stats page; DOM:\n{dom}");
    for px in ["www", "spare", "stats"] {
        assert!(
            dom.contains(&format!("href=\"#{px}\">{px}</a>")),
            "no table header for proxy {px} in the rendered DOM (see target/test-artifacts/stats.dom.html)"
        );
    }
    for row in ["www/Frontend", "www/web01", "www/web02", "www/Backend", "spare/spare01", "stats/Frontend"] {
        assert!(dom.contains(&format!("name=\"{row}\"")), "no row {row} in the rendered DOM");
    }

    let png = artifacts.join("stats.png");
    let _ = fs::remove_file(&png);
    let shot = format!("--screenshot={}", png.display());
    let (code, _, err) = chromium(
        &tmp.join("profile-shot"),
        &[&shot, "--window-size=1280,900", "--hide-scrollbars"],
        &url,
        tmp.path(),
        "png",
    );
    assert_eq!(code, Some(0), "chromium --screenshot failed; stderr:\n{err}");
    let bytes = fs::read(&png).unwrap_or_else(|e| panic!("no screenshot at {}: {e}; stderr:\n{err}", png.display()));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank 1280x900 page compresses to a few KiB; a page full of tables is much larger.
    assert!(bytes.len() > 20_000, "screenshot only {} bytes", bytes.len());
    println!("screenshot: {} ({} bytes)", png.display(), bytes.len());
}
