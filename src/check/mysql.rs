//! `option mysql-check [user U]`.
//!
//! Without a user the check reads the server's initial handshake packet and passes if it is a protocol-10
//! handshake (the server version becomes `info`); an error packet (`0xff`, e.g. "Host is blocked") is L7STS with
//! the MySQL error code and message. With a user, it answers the handshake with a 4.1 client authentication packet
//! for that user with an empty password, then sends `COM_QUIT`; an OK packet passes, an error packet is L7STS.

use super::{Machine, Outcome, CHECK_BUFSIZE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Handshake,
    Auth,
}

/// One MySQL check in progress.
#[derive(Debug)]
pub struct Mysql {
    user: Option<Vec<u8>>,
    step: Step,
    version: String,
}

impl Mysql {
    /// A check, logging in as `user` when given.
    pub fn new(user: Option<&str>) -> Mysql {
        Mysql { user: user.map(|u| u.as_bytes().to_vec()), step: Step::Handshake, version: String::new() }
    }
}

/// The client packets sent after the handshake: authentication (sequence 1) then `COM_QUIT` (sequence 0).
pub fn login_packets(user: &[u8]) -> Vec<u8> {
    // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION
    let flags: u32 = 0x0000_0001 | 0x0000_0200 | 0x0000_8000;
    let mut payload = Vec::with_capacity(40 + user.len());
    payload.extend_from_slice(&flags.to_le_bytes());
    payload.extend_from_slice(&0x0100_0000u32.to_le_bytes()); // max packet size
    payload.push(0x21); // utf8_general_ci
    payload.extend_from_slice(&[0u8; 23]);
    payload.extend_from_slice(user);
    payload.push(0);
    payload.push(0); // empty auth response
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(payload.len() + 9);
    out.extend_from_slice(&len.to_le_bytes()[..3]);
    out.push(1);
    out.extend_from_slice(&payload);
    out.extend_from_slice(&[1, 0, 0, 0, 1]); // COM_QUIT
    out
}

/// `Ok(None)`: incomplete; `Err(())`: a packet that cannot be a server's answer; else (payload, bytes used).
fn packet(rx: &[u8]) -> Result<Option<(&[u8], usize)>, ()> {
    if rx.len() < 4 {
        return Ok(None);
    }
    let len = usize::from(rx[0]) | usize::from(rx[1]) << 8 | usize::from(rx[2]) << 16;
    if len == 0 || len > CHECK_BUFSIZE - 4 {
        return Err(());
    }
    if rx.len() < 4 + len {
        return Ok(None);
    }
    Ok(Some((&rx[4..4 + len], 4 + len)))
}

/// An error packet: L7STS with `code` and the message (after the `#SQLSTATE` marker if present).
fn error(p: &[u8]) -> Outcome {
    if p.len() < 3 {
        return Outcome::of("L7RSP");
    }
    let code = u16::from_le_bytes([p[1], p[2]]);
    let msg = match p.get(3) {
        Some(b'#') => p.get(9..).unwrap_or_default(),
        _ => &p[3..],
    };
    Outcome::of("L7STS").code(code).info(String::from_utf8_lossy(msg))
}

impl Machine for Mysql {
    fn start(&mut self, _tx: &mut Vec<u8>) -> Option<Outcome> {
        None
    }

    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, tx: &mut Vec<u8>) -> Option<Outcome> {
        loop {
            let (p, used) = match packet(rx) {
                Err(()) => return Some(Outcome::of("L7RSP")),
                Ok(None) => return last.then(|| Outcome::of("L7RSP")),
                Ok(Some(x)) => x,
            };
            match (self.step, p[0]) {
                (_, 0xff) => return Some(error(p)),
                (Step::Handshake, 10) => {
                    let v = &p[1..];
                    let Some(end) = v.iter().position(|&b| b == 0) else {
                        return Some(Outcome::of("L7RSP"));
                    };
                    self.version = String::from_utf8_lossy(&v[..end]).into_owned();
                    let Some(user) = &self.user else {
                        return Some(Outcome::of("L7OK").info(&self.version));
                    };
                    tx.extend_from_slice(&login_packets(user));
                    self.step = Step::Auth;
                    rx.drain(..used);
                }
                (Step::Auth, 0x00) => return Some(Outcome::of("L7OK").info(&self.version)),
                _ => return Some(Outcome::of("L7RSP")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A protocol-10 handshake as a MySQL 5.7 server sends it.
    fn handshake(version: &str) -> Vec<u8> {
        let mut p = vec![10];
        p.extend_from_slice(version.as_bytes());
        p.push(0);
        p.extend_from_slice(&7u32.to_le_bytes()); // connection id
        p.extend_from_slice(b"abcdefgh\0"); // auth data part 1
        p.extend_from_slice(&[0xff, 0xf7, 0x21, 0x02, 0x00, 0xff, 0x81, 0x15]);
        p.extend_from_slice(&[0; 10]);
        p.extend_from_slice(b"ijklmnopqrst\0mysql_native_password\0");
        let mut out = (p.len() as u32).to_le_bytes()[..3].to_vec();
        out.push(0);
        out.extend_from_slice(&p);
        out
    }

    fn feed_split(m: &mut Mysql, data: &[u8], cut: usize) -> (Option<Outcome>, Vec<u8>) {
        let (mut rx, mut tx) = (Vec::new(), Vec::new());
        assert_eq!(m.start(&mut tx), None);
        rx.extend_from_slice(&data[..cut]);
        if let Some(o) = m.advance(&mut rx, false, &mut tx) {
            return (Some(o), tx);
        }
        rx.extend_from_slice(&data[cut..]);
        (m.advance(&mut rx, false, &mut tx), tx)
    }

    #[test]
    fn handshake_without_user() {
        let hs = handshake("5.7.42-log");
        for cut in 0..hs.len() {
            let (o, tx) = feed_split(&mut Mysql::new(None), &hs, cut);
            let o = o.expect("decided");
            assert_eq!((o.ok, o.status, o.info.as_deref()), (true, "L7OK", Some("5.7.42-log")));
            assert!(tx.is_empty());
        }
    }

    #[test]
    fn error_packet_and_garbage() {
        let mut e = vec![0xff, 0x69, 0x04];
        e.extend_from_slice(b"Host '10.0.0.1' is blocked");
        let mut pkt = (e.len() as u32).to_le_bytes()[..3].to_vec();
        pkt.push(0);
        pkt.extend_from_slice(&e);
        let (o, _) = feed_split(&mut Mysql::new(None), &pkt, 0);
        let o = o.expect("decided");
        assert_eq!((o.status, o.code), ("L7STS", Some(1129)));
        assert_eq!(o.info.as_deref(), Some("Host '10.0.0.1' is blocked"));
        let (o, _) = feed_split(&mut Mysql::new(None), b"HTTP/1.0 400 Bad\r\n", 0);
        assert_eq!(o.expect("decided").status, "L7RSP");
        let mut m = Mysql::new(None);
        let (mut rx, mut tx) = (hs_prefix(), Vec::new());
        assert_eq!(m.advance(&mut rx, true, &mut tx).expect("eof").status, "L7RSP");
    }

    fn hs_prefix() -> Vec<u8> {
        handshake("8.0")[..10].to_vec()
    }

    #[test]
    fn login_with_user() {
        let hs = handshake("8.0.36");
        let mut m = Mysql::new(Some("haproxy"));
        let (o, tx) = feed_split(&mut m, &hs, hs.len());
        assert_eq!(o, None);
        let login = login_packets(b"haproxy");
        assert_eq!(tx, login);
        assert_eq!(&login[3..5], &[1, 0x01], "sequence 1, then the flags");
        assert!(login.ends_with(b"haproxy\0\0\x01\0\0\0\x01"));
        let mut rx = vec![7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0];
        let mut tx = Vec::new();
        let o = m.advance(&mut rx, false, &mut tx).expect("OK packet");
        assert_eq!((o.ok, o.info.as_deref()), (true, Some("8.0.36")));

        let mut m = Mysql::new(Some("nobody"));
        let mut rx = hs.clone();
        let mut e = vec![0xff, 0x15, 0x04, b'#'];
        e.extend_from_slice(b"28000Access denied for user 'nobody'");
        rx.extend_from_slice(&(e.len() as u32).to_le_bytes()[..3]);
        rx.push(2);
        rx.extend_from_slice(&e);
        let o = m.advance(&mut rx, false, &mut Vec::new()).expect("error packet");
        assert_eq!((o.status, o.code), ("L7STS", Some(1045)));
        assert_eq!(o.info.as_deref(), Some("Access denied for user 'nobody'"));
    }
}
