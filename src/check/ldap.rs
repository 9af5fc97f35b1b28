//! `option ldap-check`: an anonymous LDAPv3 simple bind; result code 0 passes, another code is L7STS, a reply that
//! is not an LDAPv3 BindResponse is L7RSP.

use super::{Machine, Outcome};

/// One LDAP check in progress.
#[derive(Debug, Default)]
pub struct Ldap;

/// BindRequest, message id 1, version 3, empty name, empty simple password.
pub const BIND_REQUEST: &[u8] = &[0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00];

/// A BER tag and length at `p`: `Ok(None)` if incomplete, else (tag, content start, content length).
fn tlv(rx: &[u8], p: usize) -> Result<Option<(u8, usize, usize)>, ()> {
    let (Some(&tag), Some(&l0)) = (rx.get(p), rx.get(p + 1)) else { return Ok(None) };
    if l0 < 0x80 {
        return Ok(Some((tag, p + 2, usize::from(l0))));
    }
    let n = usize::from(l0 & 0x7f);
    if n == 0 || n > 4 {
        return Err(());
    }
    let Some(bytes) = rx.get(p + 2..p + 2 + n) else { return Ok(None) };
    let len = bytes.iter().fold(0usize, |a, &b| a << 8 | usize::from(b));
    Ok(Some((tag, p + 2 + n, len)))
}

/// `Ok(None)`: incomplete; `Err(())`: not a BindResponse; else the result code.
fn bind_result(rx: &[u8]) -> Result<Option<u8>, ()> {
    if rx.first().is_some_and(|&t| t != 0x30) {
        return Err(());
    }
    let start = match tlv(rx, 0)? {
        None => return Ok(None),
        Some((_, start, _)) => start,
    };
    let (id_at, id_len) = match tlv(rx, start)? {
        None => return Ok(None),
        Some((0x02, at, len)) => (at, len),
        Some(_) => return Err(()),
    };
    let op = id_at + id_len;
    match tlv(rx, op)? {
        None => Ok(None),
        Some((0x61, res_at, _)) => match tlv(rx, res_at)? {
            None => Ok(None),
            Some((0x0a, v, 1)) => Ok(rx.get(v).copied()),
            Some(_) => Err(()),
        },
        Some(_) => Err(()),
    }
}

impl Machine for Ldap {
    fn start(&mut self, tx: &mut Vec<u8>) -> Option<Outcome> {
        tx.extend_from_slice(BIND_REQUEST);
        None
    }

    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, _tx: &mut Vec<u8>) -> Option<Outcome> {
        match bind_result(rx) {
            Ok(Some(0)) => Some(Outcome::of("L7OK").info("Success")),
            Ok(Some(code)) => Some(
                Outcome::of("L7STS")
                    .code(u16::from(code))
                    .info("See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"),
            ),
            Err(()) => Some(Outcome::of("L7RSP").info("Not LDAPv3 protocol")),
            Ok(None) => last.then(|| Outcome::of("L7RSP").info("Not LDAPv3 protocol")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(reply: &[u8]) -> Option<Outcome> {
        let mut m = Ldap;
        let (mut rx, mut tx) = (Vec::new(), Vec::new());
        m.start(&mut tx);
        assert_eq!(tx, BIND_REQUEST);
        let mut out = None;
        for &b in reply {
            rx.push(b);
            out = out.or_else(|| m.advance(&mut rx, false, &mut tx));
        }
        out
    }

    #[test]
    fn bind_responses() {
        let ok = [0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00];
        assert_eq!(judge(&ok).expect("decided").status, "L7OK");
        let long = [0x30, 0x84, 0, 0, 0, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x31, 0x04, 0x00];
        let o = judge(&long).expect("decided");
        assert_eq!((o.status, o.code), ("L7STS", Some(0x31)));
        assert_eq!(judge(b"HTTP/1.0").expect("garbage").status, "L7RSP");
        assert_eq!(judge(&ok[..8]), None);
    }
}
