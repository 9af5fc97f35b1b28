//! `option redis-check`: send `PING`, expect a reply starting with `+PONG` (L7OK), anything else is L7STS with the
//! reply's first line as `info`.

use super::{Machine, Outcome};

/// One Redis check in progress.
#[derive(Debug, Default)]
pub struct Redis;

impl Machine for Redis {
    fn start(&mut self, tx: &mut Vec<u8>) -> Option<Outcome> {
        tx.extend_from_slice(b"PING\r\n");
        None
    }

    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, _tx: &mut Vec<u8>) -> Option<Outcome> {
        const PONG: &[u8] = b"+PONG";
        let n = rx.len().min(PONG.len());
        if rx[..n] == PONG[..n] && n == PONG.len() {
            return Some(Outcome::of("L7OK").info("Redis server is ok"));
        }
        let line_end = rx.iter().position(|&b| b == b'\n');
        if rx[..n] == PONG[..n] && !last {
            return None;
        }
        if line_end.is_none() && !last && rx.len() < 512 {
            return None;
        }
        if rx.is_empty() {
            return Some(Outcome::of("L7RSP"));
        }
        let line = &rx[..line_end.unwrap_or(rx.len())];
        let text = String::from_utf8_lossy(line).trim_end().to_string();
        Some(Outcome::of("L7STS").info(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(parts: &[&[u8]], last: bool) -> Option<Outcome> {
        let mut m = Redis;
        let (mut rx, mut tx) = (Vec::new(), Vec::new());
        assert_eq!(m.start(&mut tx), None);
        assert_eq!(tx, b"PING\r\n");
        for p in parts {
            rx.extend_from_slice(p);
            if let Some(o) = m.advance(&mut rx, false, &mut tx) {
                return Some(o);
            }
        }
        if last {
            m.advance(&mut rx, true, &mut tx)
        } else {
            None
        }
    }

    #[test]
    fn pong_passes_even_split() {
        let o = feed(&[b"+PO", b"NG\r\n"], false).expect("decided");
        assert_eq!((o.ok, o.status), (true, "L7OK"));
    }

    #[test]
    fn errors_fail() {
        let o = feed(&[b"-NOAUTH Authentication required.\r\n"], false).expect("decided");
        assert_eq!((o.status, o.info.as_deref()), ("L7STS", Some("-NOAUTH Authentication required.")));
        assert_eq!(feed(&[b"-LOADING"], false), None);
        assert_eq!(feed(&[b"+PO"], true).expect("eof").status, "L7STS");
        assert_eq!(feed(&[], true).expect("eof").status, "L7RSP");
    }
}
