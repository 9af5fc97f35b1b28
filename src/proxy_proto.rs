//! The PROXY protocol header a server with `send-proxy` (version 1, text) or `send-proxy-v2` (version 2, binary)
//! receives first on every connection, telling it the client's address and the address the client connected to.
//! Health checks with `check-send-proxy` send the "local" form (no client behind the connection).
//!
//! `bind … accept-proxy` reads the same header from the connections a listener accepts ([`parse`]).
//!
//! Formats as in HAProxy's `doc/proxy-protocol.txt`.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Which PROXY protocol version a server receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `send-proxy`: one text line.
    V1,
    /// `send-proxy-v2`: a binary header.
    V2,
}

/// The version 2 signature (12 bytes).
const V2_SIG: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// An IPv4-mapped IPv6 address is the IPv4 address it carries (a dual-stack listener sees IPv4 clients so).
fn canonical(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => a,
        },
        v4 => v4,
    }
}

/// Both addresses in one family: IPv4 when both are, else IPv6 (IPv4 mapped), as HAProxy does.
fn same_family(src: SocketAddr, dst: SocketAddr) -> (SocketAddr, SocketAddr) {
    let (s, d) = (canonical(src), canonical(dst));
    if s.is_ipv4() == d.is_ipv4() {
        return (s, d);
    }
    let six = |a: SocketAddr| match a.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), a.port()),
        IpAddr::V6(_) => a,
    };
    (six(s), six(d))
}

/// The header for a connection from client `src` that arrived at `dst`.
pub fn header(version: Version, src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let (s, d) = same_family(src, dst);
    match version {
        Version::V1 => {
            let fam = if s.is_ipv4() { "TCP4" } else { "TCP6" };
            format!("PROXY {fam} {} {} {} {}\r\n", s.ip(), d.ip(), s.port(), d.port()).into_bytes()
        }
        Version::V2 => {
            let mut out = Vec::with_capacity(16 + 36);
            out.extend_from_slice(V2_SIG);
            out.push(0x21); // version 2, PROXY command
            match (s.ip(), d.ip()) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    out.push(0x11); // TCP over IPv4
                    out.extend_from_slice(&12u16.to_be_bytes());
                    out.extend_from_slice(&a.octets());
                    out.extend_from_slice(&b.octets());
                }
                (a, b) => {
                    let v6 = |ip: IpAddr| match ip {
                        IpAddr::V6(x) => x,
                        IpAddr::V4(x) => x.to_ipv6_mapped(),
                    };
                    let (a, b): (Ipv6Addr, Ipv6Addr) = (v6(a), v6(b));
                    out.push(0x21); // TCP over IPv6
                    out.extend_from_slice(&36u16.to_be_bytes());
                    out.extend_from_slice(&a.octets());
                    out.extend_from_slice(&b.octets());
                }
            }
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
            out
        }
    }
}

/// The header of a connection made by the proxy itself (health checks): `PROXY UNKNOWN` / the `LOCAL` command.
pub fn local_header(version: Version) -> Vec<u8> {
    match version {
        Version::V1 => b"PROXY UNKNOWN\r\n".to_vec(),
        Version::V2 => {
            let mut out = V2_SIG.to_vec();
            out.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]); // version 2 LOCAL, UNSPEC, no address
            out
        }
    }
}

/// The most a header may take: a v1 line is at most 107 bytes; v2 TLVs beyond this are refused.
pub const MAX_HEADER: usize = 4096;

/// What the first bytes of an `accept-proxy` connection say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A valid header so far, not complete yet: read more.
    Incomplete,
    /// Not a PROXY protocol header (the connection is closed).
    Invalid(&'static str),
    /// A header of `len` bytes; the addresses it carries (`None` for `UNKNOWN`/`LOCAL`/other families: the
    /// connection's own addresses stand).
    Header { len: usize, src: Option<SocketAddr>, dst: Option<SocketAddr> },
}

/// Parse the header at the start of `buf` (v1 or v2).
pub fn parse(buf: &[u8]) -> Parsed {
    const V1: &[u8] = b"PROXY ";
    let n = buf.len().min(V2_SIG.len());
    if buf.len() < V1.len() && V1.starts_with(buf) {
        return Parsed::Incomplete;
    }
    if buf.starts_with(V1) {
        return parse_v1(buf);
    }
    if !V2_SIG.starts_with(&buf[..n]) {
        return Parsed::Invalid("Received something which does not look like a PROXY protocol header");
    }
    parse_v2(buf)
}

fn parse_v1(buf: &[u8]) -> Parsed {
    let Some(end) = buf.windows(2).take(107).position(|w| w == b"\r\n") else {
        return if buf.len() >= 107 { Parsed::Invalid("PROXY v1 line too long") } else { Parsed::Incomplete };
    };
    let bad = Parsed::Invalid("malformed PROXY v1 header");
    let Ok(line) = std::str::from_utf8(&buf[6..end]) else { return bad };
    let words: Vec<&str> = line.split(' ').collect();
    let len = end + 2;
    match words.first() {
        Some(&"UNKNOWN") => Parsed::Header { len, src: None, dst: None },
        Some(&fam @ ("TCP4" | "TCP6")) if words.len() == 5 => {
            let ip = |s: &str| -> Option<IpAddr> {
                let ip: IpAddr = s.parse().ok()?;
                (ip.is_ipv4() == (fam == "TCP4")).then_some(ip)
            };
            // Ports are decimal without sign or leading zeros, as the format requires.
            let port = |s: &str| -> Option<u16> {
                (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0')))
                    .then(|| s.parse().ok())
                    .flatten()
            };
            match (ip(words[1]), ip(words[2]), port(words[3]), port(words[4])) {
                (Some(s), Some(d), Some(sp), Some(dp)) => {
                    Parsed::Header { len, src: Some(SocketAddr::new(s, sp)), dst: Some(SocketAddr::new(d, dp)) }
                }
                _ => bad,
            }
        }
        _ => bad,
    }
}

fn parse_v2(buf: &[u8]) -> Parsed {
    if buf.len() < 16 {
        return Parsed::Incomplete;
    }
    let (ver_cmd, fam) = (buf[12], buf[13]);
    let body = u16::from_be_bytes([buf[14], buf[15]]) as usize;
    let len = 16 + body;
    if ver_cmd >> 4 != 2 || ver_cmd & 0x0f > 1 {
        return Parsed::Invalid("unsupported PROXY v2 version or command");
    }
    if len > MAX_HEADER {
        return Parsed::Invalid("PROXY v2 header too long");
    }
    if buf.len() < len {
        return Parsed::Incomplete;
    }
    if ver_cmd & 0x0f == 0 {
        return Parsed::Header { len, src: None, dst: None }; // LOCAL: the proxy's own connection
    }
    let b = &buf[16..len];
    let port = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    match fam >> 4 {
        1 if body >= 12 => {
            let ip = |i: usize| IpAddr::from([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            Parsed::Header {
                len,
                src: Some(SocketAddr::new(ip(0), port(8))),
                dst: Some(SocketAddr::new(ip(4), port(10))),
            }
        }
        2 if body >= 36 => {
            let ip = |i: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&b[i..i + 16]);
                IpAddr::from(o)
            };
            Parsed::Header {
                len,
                src: Some(SocketAddr::new(ip(0), port(32))),
                dst: Some(SocketAddr::new(ip(16), port(34))),
            }
        }
        1 | 2 => Parsed::Invalid("truncated PROXY v2 address block"),
        // UNSPEC or unix sockets: nothing we can use as an IP address.
        _ => Parsed::Header { len, src: None, dst: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn v1_lines() {
        let h = header(Version::V1, a("192.168.0.1:56324"), a("192.168.0.11:443"));
        assert_eq!(h, b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
        let h = header(Version::V1, a("[2001:db8::1]:1000"), a("[2001:db8::2]:80"));
        assert_eq!(h, b"PROXY TCP6 2001:db8::1 2001:db8::2 1000 80\r\n");
        // A v4 client on a dual-stack listener is reported as IPv4.
        let h = header(Version::V1, a("[::ffff:10.0.0.1]:5"), a("[::ffff:10.0.0.2]:80"));
        assert_eq!(h, b"PROXY TCP4 10.0.0.1 10.0.0.2 5 80\r\n");
        // Mixed families: both as IPv6.
        let h = header(Version::V1, a("10.0.0.1:5"), a("[2001:db8::2]:80"));
        assert_eq!(h, b"PROXY TCP6 ::ffff:10.0.0.1 2001:db8::2 5 80\r\n");
        assert_eq!(local_header(Version::V1), b"PROXY UNKNOWN\r\n");
    }

    #[test]
    fn v2_headers() {
        let h = header(Version::V2, a("127.0.0.1:4000"), a("127.0.0.2:80"));
        let mut want = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
        want.extend_from_slice(&[0x21, 0x11, 0, 12, 127, 0, 0, 1, 127, 0, 0, 2, 0x0f, 0xa0, 0, 80]);
        assert_eq!(h, want);
        let h = header(Version::V2, a("[::1]:1"), a("[::2]:2"));
        assert_eq!(h.len(), 16 + 36);
        assert_eq!(&h[12..16], &[0x21, 0x21, 0, 36]);
        assert_eq!(h[16 + 15], 1);
        assert_eq!(h[32 + 15], 2);
        assert_eq!(&h[48..], &[0, 1, 0, 2]);
        let l = local_header(Version::V2);
        assert_eq!(l.len(), 16);
        assert_eq!(&l[12..], &[0x20, 0, 0, 0]);
    }

    #[test]
    fn parse_what_we_write() {
        for v in [Version::V1, Version::V2] {
            for (s, d) in [("10.1.2.3:4000", "10.0.0.1:80"), ("[2001:db8::5]:1", "[2001:db8::6]:443")] {
                let mut h = header(v, a(s), a(d));
                let len = h.len();
                h.extend_from_slice(b"GET / HTTP/1.1\r\n");
                assert_eq!(parse(&h), Parsed::Header { len, src: Some(a(s)), dst: Some(a(d)) }, "{v:?} {s}");
                for cut in 0..len {
                    assert_eq!(parse(&h[..cut]), Parsed::Incomplete, "{v:?} {s} cut at {cut}");
                }
            }
            let l = local_header(v);
            assert_eq!(parse(&l), Parsed::Header { len: l.len(), src: None, dst: None });
        }
    }

    #[test]
    fn parse_refuses_garbage() {
        for bad in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n",
            b"PROXY TCP4 1.2.3.4 ::1 80 81\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 080 81\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 70000 81\r\n",
            b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
            b"\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x0c",
            b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x04abcd",
        ] {
            assert!(matches!(parse(bad), Parsed::Invalid(_)), "{:?}", String::from_utf8_lossy(bad));
        }
        let long = [b"PROXY TCP4 ".as_slice(), &[b'1'; 120]].concat();
        assert!(matches!(parse(&long), Parsed::Invalid(_)));
    }
}
