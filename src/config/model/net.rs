//! Networks as written in the config (`ADDR[/MASK]`): one parser and one membership test for ACL `src`
//! patterns, `monitor-net` and `option forwardfor except`.

use super::*;

/// An IPv4/IPv6 network (`10.0.0.0/8`, or an address alone = /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// `ADDR[/MASK]` as HAProxy writes networks (`acl … src`, `monitor-net`, `option forwardfor except`): an IPv4
    /// or IPv6 address alone (one host: /32 or /128), with a prefix length (`10.0.0.0/8`, `fd00::/8`), or, for
    /// IPv4, with a dotted mask (`10.0.0.0/255.0.0.0`) whose ones are contiguous. `None` for anything else.
    pub fn parse(s: &str) -> Option<IpNet> {
        let (a, mask) = match s.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match mask {
            None => max,
            Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
                m.parse::<u8>().ok().filter(|&n| n <= max)?
            }
            Some(m) if addr.is_ipv4() => {
                let bits = u32::from(m.parse::<std::net::Ipv4Addr>().ok()?);
                if bits.leading_ones() + bits.trailing_zeros() != 32 {
                    return None;
                }
                bits.leading_ones() as u8
            }
            Some(_) => return None,
        };
        Some(IpNet { addr, prefix })
    }

    /// Does this network contain `ip`? (IPv4-mapped IPv6 addresses match IPv4 networks.)
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let bits = self.prefix.min(32) as u32;
                let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                (u32::from(n) & mask) == (u32::from(a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let bits = self.prefix.min(128) as u32;
                let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
                (u128::from(n) & mask) == (u128::from(a) & mask)
            }
            _ => false,
        }
    }
}
