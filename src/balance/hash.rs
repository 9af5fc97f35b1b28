//! Hash functions of the hashing algorithms (HAProxy `doc/configuration.txt`, `balance`, `hash-type`).

use std::net::IpAddr;

/// The sdbm hash HAProxy uses for `uri`, `url_param` and `hdr`: `h = c + (h << 6) + (h << 16) - h`.
pub fn sdbm(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |h, &c| (c as u32).wrapping_add(h << 6).wrapping_add(h << 16).wrapping_sub(h))
}

/// `balance source`: the IPv4 address itself, or the XOR of an IPv6 address's four 32-bit words.
pub fn source_hash(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u32::from(v4),
            None => {
                let b = v6.octets();
                (0..4).fold(0u32, |h, w| h ^ u32::from_be_bytes([b[w * 4], b[w * 4 + 1], b[w * 4 + 2], b[w * 4 + 3]]))
            }
        },
    }
}

/// A 32-bit avalanche mix so that consecutive keys spread over a consistent-hash ring.
pub(super) fn mix(mut x: u32) -> u32 {
    x = (x ^ 61) ^ (x >> 16);
    x = x.wrapping_add(x << 3);
    x ^= x >> 4;
    x = x.wrapping_mul(0x27d4_eb2d);
    x ^ (x >> 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdbm_known_values() {
        assert_eq!(sdbm(b""), 0);
        assert_eq!(sdbm(b"a"), 97);
        // h = 'b' + (97 << 6) + (97 << 16) - 97
        assert_eq!(sdbm(b"ab"), 98 + (97 << 6) + (97 << 16) - 97);
    }

    #[test]
    fn source_hash_of_ipv4_is_the_address() {
        assert_eq!(source_hash("10.0.0.1".parse().expect("ip")), 0x0a00_0001);
        assert_eq!(source_hash("::ffff:10.0.0.1".parse().expect("ip")), 0x0a00_0001);
    }
}
