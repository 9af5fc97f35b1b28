//! `option ssl-hello-chk`: send a ClientHello and check that the server answers in TLS.
//!
//! HAProxy sends an SSLv3 hello and accepts a reply starting with a handshake (0x16) or alert (0x15) record, i.e.
//! "the server speaks SSL/TLS" (an SSLv3 hello gets an alert from a modern server). We send a TLS 1.2 hello in a
//! TLS 1.0 record (what current servers expect), pass on a handshake record carrying a ServerHello (type 2) or on
//! an alert record, and report L6RSP for anything else. This check works at layer 6: L6OK, L6RSP, L6TOUT.

use super::{Layer, Machine, Outcome};

/// One SSL hello check in progress.
#[derive(Debug)]
pub struct SslHello {
    hello: Vec<u8>,
}

/// Cipher suites offered: common ECDHE/RSA AES-GCM and CBC suites, then the renegotiation SCSV.
const CIPHERS: [u16; 10] = [0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009e, 0x009f, 0x0035, 0x002f, 0x000a, 0x00ff];

impl SslHello {
    /// A check whose hello carries `now_secs` as `gmt_unix_time`.
    pub fn new(now_secs: u64) -> SslHello {
        SslHello { hello: client_hello(now_secs) }
    }
}

/// A ClientHello record (TLS 1.2 client version, no session, no extensions).
pub fn client_hello(now_secs: u64) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&(now_secs as u32).to_be_bytes());
    // The rest of the random only has to differ between hellos; it protects nothing here.
    let mut x = now_secs.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for _ in 0..28 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        body.push(x as u8);
    }
    body.push(0); // session id
    body.extend_from_slice(&((CIPHERS.len() * 2) as u16).to_be_bytes());
    for c in CIPHERS {
        body.extend_from_slice(&c.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

impl Machine for SslHello {
    fn start(&mut self, tx: &mut Vec<u8>) -> Option<Outcome> {
        tx.extend_from_slice(&self.hello);
        None
    }

    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, _tx: &mut Vec<u8>) -> Option<Outcome> {
        let verdict = match rx.first() {
            None => None,
            Some(0x15) if rx.len() >= 5 => Some(true),
            Some(0x16) if rx.len() >= 6 => Some(rx[1] == 0x03 && rx[5] == 0x02),
            Some(0x15 | 0x16) => None,
            Some(_) => Some(false),
        };
        match verdict {
            Some(true) => Some(Outcome::of("L6OK")),
            Some(false) => Some(Outcome::of("L6RSP")),
            None => last.then(|| Outcome::of("L6RSP")),
        }
    }

    fn layer(&self) -> Layer {
        Layer::L6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(reply: &[u8], last: bool) -> Option<Outcome> {
        let mut m = SslHello::new(1_700_000_000);
        let (mut rx, mut tx) = (Vec::new(), Vec::new());
        assert_eq!(m.start(&mut tx), None);
        let mut out = None;
        for &b in reply {
            rx.push(b);
            out = out.or_else(|| m.advance(&mut rx, false, &mut tx));
        }
        if last {
            out = out.or_else(|| m.advance(&mut rx, true, &mut tx));
        }
        out
    }

    #[test]
    fn hello_is_well_formed() {
        let h = client_hello(1_700_000_000);
        assert_eq!(&h[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
        assert_eq!(h[5], 0x01, "ClientHello");
        assert_eq!(u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize, h.len() - 9);
        assert_eq!(&h[11..15], &1_700_000_000u32.to_be_bytes());
    }

    #[test]
    fn server_hello_or_alert_pass() {
        let o = judge(&[0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d], false).expect("decided");
        assert_eq!((o.ok, o.status, o.reason), (true, "L6OK", "Layer6 check passed"));
        assert!(judge(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46], false).expect("alert").ok);
    }

    #[test]
    fn others_fail() {
        let o = judge(b"HTTP/1.1 400 Bad Request\r\n", false).expect("decided");
        assert_eq!((o.status, o.reason), ("L6RSP", "Layer6 invalid response"));
        assert!(!judge(&[0x16, 0x03, 0x03, 0x00, 0x31, 0x0b], false).expect("not a ServerHello").ok);
        assert_eq!(judge(&[0x16, 0x03], false), None);
        assert_eq!(judge(&[0x16, 0x03], true).expect("eof").status, "L6RSP");
        assert_eq!(SslHello::new(0).layer().timeout().status, "L6TOUT");
    }
}
