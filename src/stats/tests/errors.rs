//! `show errors` over the segment: captures written by two workers, merged and printed by the CLI.

use std::net::SocketAddr;

use super::output::cli_ctx;
use super::*;
use crate::stats::errors::{CaptureInput, Direction};

fn src() -> SocketAddr {
    "10.0.0.9:51234".parse().expect("addr")
}

fn input<'a>(buf: &'a [u8], err_pos: usize, when_ms: u64) -> CaptureInput<'a> {
    CaptureInput {
        other: None,
        server: None,
        src: Some(src()),
        buf,
        err_pos,
        buf_size: 16384,
        reason: "invalid request line",
        when_ms,
    }
}

/// fe1 (#1) gets a bad request in each worker, the one of worker 1 later; be1 (#2) gets a bad response from s2.
fn captured() -> (Config, Segment) {
    let (cfg, seg) = setup();
    seg.writer(0).capture_error(Direction::Request, 0, &input(b"GET /old HTTP/1.1\r\n\r\n", 0, NOW));
    seg.writer(1).capture_error(Direction::Request, 0, &input(b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 7, NOW + 1));
    let resp = CaptureInput {
        other: Some(0),
        server: seg.layout().server_index(1, 1),
        reason: "invalid status line",
        ..input(b"HTTP/1.1 2x0 OK\r\n\r\n", 10, NOW + 2)
    };
    seg.writer(0).capture_error(Direction::Response, 1, &resp);
    (cfg, seg)
}

const REQUEST: &str = " \n[15/Jan/2027:08:00:00.001] frontend fe1 (#1): invalid request
  backend <NONE> (#-1), server <NONE> (#-1), event #1, src 10.0.0.9:51234
  buffer starts at 0 (including 0 out), 16354 free,
  len 30, wraps at 16384, error at position 7
  reason: invalid request line
  \n  00000  GET /a b HTTP/1.1\\r\\n
  00019  Host: x\\r\\n
  00028  \\r\\n
";

const RESPONSE: &str = " \n[15/Jan/2027:08:00:00.002] backend be1 (#2): invalid response
  frontend fe1 (#1), server s2 (#2), event #2, src 10.0.0.9:51234
  buffer starts at 0 (including 0 out), 16365 free,
  len 19, wraps at 16384, error at position 10
  reason: invalid status line
  \n  00000  HTTP/1.1 2x0 OK\\r\\n
  00017  \\r\\n
";

fn body(out: &str) -> &str {
    let (first, rest) = out.split_once('\n').expect("a first line");
    assert!(first.starts_with("Total events captured on [") && first.ends_with("] : 3"), "{out}");
    assert!(rest.ends_with('\n'), "an empty line ends the answer");
    &rest[..rest.len() - 1]
}

#[test]
fn show_errors_prints_the_newest_capture_per_proxy_and_direction() {
    let (cfg, seg) = captured();
    let mut ctx = cli_ctx(&cfg, &seg);
    let out = cli::execute("show errors", &mut ctx);
    assert_eq!(body(&out), format!("{REQUEST}{RESPONSE}"), "{out}");
}

#[test]
fn show_errors_filters_by_proxy_and_direction() {
    let (cfg, seg) = captured();
    let mut ctx = cli_ctx(&cfg, &seg);
    let mut e = |c: &str| cli::execute(c, &mut ctx);
    // A frontend also sees the responses it was the other end of.
    assert_eq!(body(&e("show errors fe1")), format!("{REQUEST}{RESPONSE}"));
    assert_eq!(body(&e("show errors be1")), RESPONSE);
    assert_eq!(body(&e("show errors 2")), RESPONSE);
    assert_eq!(body(&e("show errors fe1 request")), REQUEST);
}

#[test]
fn show_errors_argument_errors_are_haproxy_s() {
    let (cfg, seg) = captured();
    let mut ctx = cli_ctx(&cfg, &seg);
    assert_eq!(cli::execute("show errors nope", &mut ctx), "No such proxy.\n\n");
    assert_eq!(cli::execute("show errors request", &mut ctx), "No such proxy.\n\n");
    assert_eq!(body(&cli::execute("show errors -1 response", &mut ctx)), RESPONSE);
    assert_eq!(body(&cli::execute("show errors st", &mut ctx)), "");
}

#[test]
fn captures_follow_slot_lifetimes() {
    let (cfg, seg) = captured();
    // Worker 1's generation is gone: its capture goes with it, worker 0's older one shows again.
    seg.retire_slot(1);
    let errs = seg.errors(&seg.live_slots());
    assert_eq!(errs.total, 3);
    assert_eq!(errs.captures.len(), 2);
    assert_eq!(errs.captures[0].bytes, b"GET /old HTTP/1.1\r\n\r\n".to_vec());
    assert_eq!(errs.captures[1].server, Some((1, 1)));
    // A respawn in slot 0 keeps its captures.
    seg.claim_slot(0, 200, 2);
    assert_eq!(seg.errors(&seg.live_slots()).captures.len(), 2);
    // A listen's request capture names the listen as the backend.
    seg.writer(0).capture_error(Direction::Request, 2, &CaptureInput { other: Some(2), ..input(b"\x00", 0, NOW + 3) });
    let mut ctx = cli_ctx(&cfg, &seg);
    let out = cli::execute("show errors st", &mut ctx);
    assert!(
        out.contains("] frontend st (#3): invalid request\n  backend st (#3), server <NONE> (#-1), event #3"),
        "{out}"
    );
    assert!(out.contains("\n  00000  \\x00\n"), "{out}");
}
