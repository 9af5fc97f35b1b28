//! The PROXY protocol header a server with `send-proxy` (version 1, text) or `send-proxy-v2` (version 2, binary)
//! receives first on every connection, telling it the client's address and the address the client connected to.
//! Health checks with `check-send-proxy` send the "local" form (no client behind the connection).
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
}
