//! Logger tests: PRI, filters, framing, truncation, and real UDP / unix / file round trips.
//! (Compiled only under `#[cfg(test)]`.)

use super::time::tests::{force_utc, sample_time};
use super::*;
use crate::config::model::{LogDest, Pos};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;

fn target(dest: LogDest, max: Level, min: Level, format: LogWire, len: usize) -> LogTarget {
    LogTarget { pos: Pos::default(), dest, facility: 16, max_level: max, min_level: min, format, len }
}

fn receiver() -> UdpSocket {
    let r = UdpSocket::bind("127.0.0.1:0").unwrap();
    r.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    r
}

fn udp_to(r: &UdpSocket, max: Level, min: Level, format: LogWire, len: usize) -> LogTarget {
    target(LogDest::Udp(r.local_addr().unwrap()), max, min, format, len)
}

fn recv(r: &UdpSocket) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    match r.recv(&mut buf) {
        Ok(n) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nbproxy-logger-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn pri_is_facility_times_8_plus_level() {
    let t = target::Target::open(
        &target(LogDest::Stdout, Level::Debug, Level::Emerg, LogWire::Rfc3164, 1024),
        target::FileMode::Discard,
    );
    assert_eq!(t.pri(Level::Warning), 132);
    assert_eq!(t.pri(Level::Info), 134);
    assert_eq!(t.pri(Level::Alert), 129);
    assert_eq!(t.pri(Level::Emerg), 128);
}

#[test]
fn min_level_caps_severity() {
    let t = target::Target::open(
        &target(LogDest::Stdout, Level::Debug, Level::Notice, LogWire::Rfc3164, 1024),
        target::FileMode::Discard,
    );
    assert_eq!(t.pri(Level::Emerg), 16 * 8 + 5);
    assert_eq!(t.pri(Level::Notice), 16 * 8 + 5);
    assert_eq!(t.pri(Level::Info), 134);
}

#[test]
fn udp_roundtrip_rfc3164() {
    force_utc();
    let r = receiver();
    let l = Logger::new(
        &[udp_to(&r, Level::Info, Level::Emerg, LogWire::Rfc3164, 1024)],
        "haproxy",
        None,
        FileSink::Discard,
    );
    l.log(Level::Info, "hello world");
    let got = recv(&r).expect("datagram");
    assert!(got.starts_with(b"<134>"), "{:?}", String::from_utf8_lossy(&got));
    let tail = format!(" haproxy[{}]: hello world\n", std::process::id());
    assert!(got.ends_with(tail.as_bytes()), "{:?}", String::from_utf8_lossy(&got));
    // Exact header for a fixed time, with log-send-hostname.
    let l = Logger::new(
        &[udp_to(&r, Level::Info, Level::Emerg, LogWire::Rfc3164, 1024)],
        "haproxy",
        Some("lb1"),
        FileSink::Discard,
    );
    l.log_at(sample_time(), Level::Notice, "x");
    let want = format!("<133>Nov 25 15:26:00 lb1 haproxy[{}]: x\n", std::process::id());
    assert_eq!(recv(&r).unwrap(), want.as_bytes());
    assert_eq!(l.send_errors(), 0);
}

#[test]
fn max_level_filters_and_min_level_on_wire() {
    let r = receiver();
    // `log 127.0.0.1:514 local0 warning`: info is not sent.
    let l =
        Logger::new(&[udp_to(&r, Level::Warning, Level::Emerg, LogWire::Short, 1024)], "t", None, FileSink::Discard);
    assert!(!l.enabled(Level::Info));
    assert!(l.enabled(Level::Warning));
    assert!(l.enabled(Level::Emerg));
    l.log(Level::Info, "dropped");
    l.log(Level::Warning, "kept");
    assert_eq!(recv(&r).unwrap(), b"<132>kept\n");
    assert!(recv(&r).is_none());
    // `local0 info notice`: emerg goes out as notice.
    let l = Logger::new(&[udp_to(&r, Level::Info, Level::Notice, LogWire::Short, 1024)], "t", None, FileSink::Discard);
    l.log(Level::Emerg, "no server");
    assert_eq!(recv(&r).unwrap(), b"<133>no server\n");
    l.log(Level::Debug, "too verbose");
    assert!(recv(&r).is_none());
}

#[test]
fn truncation_forces_final_newline() {
    let r = receiver();
    let l = Logger::new(&[udp_to(&r, Level::Debug, Level::Emerg, LogWire::Raw, 10)], "t", None, FileSink::Discard);
    l.log(Level::Info, "0123456789abcdef");
    assert_eq!(recv(&r).unwrap(), b"012345678\n");
    l.log(Level::Info, "012345678");
    assert_eq!(recv(&r).unwrap(), b"012345678\n");
    l.log(Level::Info, "short");
    assert_eq!(recv(&r).unwrap(), b"short\n");
}

#[test]
fn rfc5424_framing() {
    force_utc();
    let r = receiver();
    let pid = std::process::id();
    let l = Logger::new(
        &[udp_to(&r, Level::Info, Level::Emerg, LogWire::Rfc5424, 1024)],
        "haproxy",
        Some("host1"),
        FileSink::Discard,
    );
    l.log_at(sample_time(), Level::Info, "m");
    let want = format!("<134>1 2026-11-25T15:26:00.636+00:00 host1 haproxy {pid} - - m\n");
    assert_eq!(recv(&r).unwrap(), want.as_bytes());
    let l = Logger::new(
        &[udp_to(&r, Level::Info, Level::Emerg, LogWire::Rfc5424, 1024)],
        "haproxy",
        None,
        FileSink::Discard,
    );
    l.log_at(sample_time(), Level::Info, "m");
    let want = format!("<134>1 2026-11-25T15:26:00.636+00:00 - haproxy {pid} - - m\n");
    assert_eq!(recv(&r).unwrap(), want.as_bytes());
}

#[test]
fn unix_datagram_roundtrip_and_lazy_connect() {
    use std::os::unix::net::UnixDatagram;
    let d = tmpdir("unix");
    let path = d.join("log.sock");
    // Receiver absent at creation: the logger must not panic and must connect later.
    let l = Logger::new(
        &[target(LogDest::Unix(path.clone()), Level::Info, Level::Emerg, LogWire::Short, 1024)],
        "t",
        None,
        FileSink::Discard,
    );
    l.log(Level::Info, "lost");
    assert_eq!(l.send_errors(), 1);
    let rx = UnixDatagram::bind(&path).unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    l.log(Level::Info, "late");
    let mut buf = [0u8; 256];
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"<134>late\n");
    // Connected at creation time.
    let l = Logger::new(
        &[target(LogDest::Unix(path.clone()), Level::Info, Level::Emerg, LogWire::Short, 1024)],
        "t",
        None,
        FileSink::Discard,
    );
    l.log(Level::Err, "now");
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"<131>now\n");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn worker_forwards_file_lines_to_master_writer() {
    use std::os::unix::net::UnixDatagram;
    force_utc();
    let d = tmpdir("forward");
    let path = d.join("haproxy.log");
    let (worker_end, master_end) = UnixDatagram::pair().unwrap();
    let l = Logger::new(
        &[target(LogDest::File(path.clone()), Level::Info, Level::Emerg, LogWire::Rfc3164, 1024)],
        "haproxy",
        Some("lb1"),
        FileSink::Forward(worker_end),
    );
    l.log_at(sample_time(), Level::Info, "a session");
    let mut buf = [0u8; 2048];
    let n = master_end.recv(&mut buf).unwrap();
    let mut w = FileWriter::default();
    w.handle_datagram(&buf[..n]);
    let want = format!("Nov 25 15:26:00 lb1 haproxy[{}]: a session\n", std::process::id());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), want);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn master_file_target_appends_and_reopens() {
    force_utc();
    let d = tmpdir("master");
    let path = d.join("haproxy.log");
    let l = Logger::new(
        &[target(LogDest::File(path.clone()), Level::Info, Level::Emerg, LogWire::Raw, 1024)],
        "haproxy",
        None,
        FileSink::Master,
    );
    l.log(Level::Info, "one");
    std::fs::rename(&path, d.join("haproxy.log.1")).unwrap();
    l.log(Level::Info, "two");
    l.reopen();
    l.log(Level::Info, "three");
    assert_eq!(std::fs::read_to_string(d.join("haproxy.log.1")).unwrap(), "one\ntwo\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
    // Default framing includes the system host name even without log-send-hostname.
    let p2 = d.join("h.log");
    let l = Logger::new(
        &[target(LogDest::File(p2.clone()), Level::Info, Level::Emerg, LogWire::Rfc3164, 1024)],
        "haproxy",
        None,
        FileSink::Master,
    );
    l.log_at(sample_time(), Level::Info, "x");
    let want = format!("Nov 25 15:26:00 {} haproxy[{}]: x\n", hostname(), std::process::id());
    assert_eq!(std::fs::read_to_string(&p2).unwrap(), want);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn discarded_file_targets_are_not_enabled() {
    let l = Logger::new(
        &[target(LogDest::File("/nonexistent/x".into()), Level::Debug, Level::Emerg, LogWire::Raw, 1024)],
        "t",
        None,
        FileSink::Discard,
    );
    assert!(!l.enabled(Level::Emerg));
    l.log(Level::Emerg, "nothing");
    assert_eq!(l.send_errors(), 0);
}

#[test]
fn facility_names_and_hostname() {
    assert_eq!(facility_name(0), "kern");
    assert_eq!(facility_name(16), "local0");
    assert_eq!(facility_name(23), "local7");
    assert_eq!(facility_name(24), "unknown");
    assert!(!hostname().is_empty());
}
