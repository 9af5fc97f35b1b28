//! `option pgsql-check user U`: send a protocol 3.0 StartupMessage for user U (database U); an
//! AuthenticationOk reply passes ("PostgreSQL server is ok"), an ErrorResponse is L7RSP with its message, any other
//! authentication request (a password is wanted) is L7STS "PostgreSQL unknown error", as HAProxy 2.x reports them.

use super::{Machine, Outcome};

/// One PostgreSQL check in progress.
#[derive(Debug)]
pub struct Pgsql {
    startup: Vec<u8>,
}

impl Pgsql {
    /// A check logging in as `user`.
    pub fn new(user: &str) -> Pgsql {
        let mut body = 0x0003_0000u32.to_be_bytes().to_vec();
        for kv in ["user", user, "database", user] {
            body.extend_from_slice(kv.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut startup = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        startup.extend_from_slice(&body);
        Pgsql { startup }
    }
}

impl Machine for Pgsql {
    fn start(&mut self, tx: &mut Vec<u8>) -> Option<Outcome> {
        tx.extend_from_slice(&self.startup);
        None
    }

    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, _tx: &mut Vec<u8>) -> Option<Outcome> {
        match rx.first() {
            None => last.then(|| Outcome::of("L7RSP")),
            Some(b'R') if rx.len() >= 9 => {
                if rx[1..9] == [0, 0, 0, 8, 0, 0, 0, 0] {
                    Some(Outcome::of("L7OK").info("PostgreSQL server is ok"))
                } else {
                    Some(Outcome::of("L7STS").info("PostgreSQL unknown error"))
                }
            }
            Some(b'E') => {
                let len = rx.get(1..5).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
                if !last && len.is_none_or(|l| rx.len() < l + 1) {
                    return None;
                }
                // Fields: a type byte then a C string; 'M' is the human-readable message.
                let fields = rx.get(5..).unwrap_or_default();
                let msg = fields
                    .split(|&b| b == 0)
                    .find(|f| f.first() == Some(&b'M'))
                    .map(|f| String::from_utf8_lossy(&f[1..]).into_owned())
                    .unwrap_or_default();
                Some(Outcome::of("L7RSP").info(msg))
            }
            Some(b'R') => last.then(|| Outcome::of("L7RSP")),
            Some(_) => Some(Outcome::of("L7RSP")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_and_replies() {
        let mut m = Pgsql::new("hc");
        let mut tx = Vec::new();
        m.start(&mut tx);
        assert_eq!(tx, b"\0\0\0\x1d\0\x03\0\0user\0hc\0database\0hc\0\0");
        let mut rx = b"R\0\0\0\x08\0\0\0".to_vec();
        assert_eq!(m.advance(&mut rx, false, &mut tx), None);
        rx.push(0);
        assert_eq!(m.advance(&mut rx, false, &mut tx).expect("ok").status, "L7OK");
        let mut rx = b"R\0\0\0\x0c\0\0\0\x05salt".to_vec();
        assert_eq!(m.advance(&mut rx, false, &mut tx).expect("md5").status, "L7STS");
        let mut rx = b"E\0\0\0\x29SFATAL\0C28000\0Mno pg_hba.conf entry\0\0".to_vec();
        let o = m.advance(&mut rx, false, &mut tx).expect("error");
        assert_eq!((o.status, o.info.as_deref()), ("L7RSP", Some("no pg_hba.conf entry")));
    }
}
