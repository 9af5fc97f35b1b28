//! Unit tests of the model's own logic: networks, the default maxconn. (Compiled only under `#[cfg(test)]`.)

use super::*;

fn net(s: &str) -> Option<(String, u8)> {
    IpNet::parse(s).map(|n| (n.addr.to_string(), n.prefix))
}

#[test]
fn one_default_maxconn() {
    let mut g = Global::default();
    assert_eq!(g.maxconn_or_default(), 4096, "what the workers have always used");
    g.maxconn = Some(100);
    assert_eq!(g.maxconn_or_default(), 100);
}

#[test]
fn ipnet_parses_ipv4() {
    assert_eq!(net("10.0.0.1"), Some(("10.0.0.1".into(), 32)), "an address alone is one host");
    assert_eq!(net("10.0.0.0/8"), Some(("10.0.0.0".into(), 8)));
    assert_eq!(net("0.0.0.0/0"), Some(("0.0.0.0".into(), 0)));
    assert_eq!(net("192.168.1.7/32"), Some(("192.168.1.7".into(), 32)));
    let n = IpNet::parse("192.168.0.0/16").expect("net");
    assert!(n.contains("192.168.44.1".parse().expect("ip")));
    assert!(!n.contains("192.169.0.1".parse().expect("ip")));
    assert!(n.contains("::ffff:192.168.3.4".parse().expect("ip")), "IPv4-mapped IPv6 matches");
}

#[test]
fn ipnet_parses_dotted_masks() {
    assert_eq!(net("172.16.0.0/255.255.0.0"), Some(("172.16.0.0".into(), 16)));
    assert_eq!(net("10.1.2.3/255.255.255.255"), Some(("10.1.2.3".into(), 32)));
    assert_eq!(net("10.0.0.0/255.255.255.128"), Some(("10.0.0.0".into(), 25)));
    assert_eq!(net("0.0.0.0/0.0.0.0"), Some(("0.0.0.0".into(), 0)));
    assert_eq!(net("10.0.0.0/255.0.255.0"), None, "ones must be contiguous");
    assert_eq!(net("10.0.0.0/0.0.0.255"), None);
}

#[test]
fn ipnet_parses_ipv6() {
    assert_eq!(net("::1"), Some(("::1".into(), 128)));
    assert_eq!(net("fd00::/8"), Some(("fd00::".into(), 8)));
    assert_eq!(net("2001:db8::/32"), Some(("2001:db8::".into(), 32)));
    assert_eq!(net("::/0"), Some(("::".into(), 0)));
    let n = IpNet::parse("2001:db8::/32").expect("net");
    assert!(n.contains("2001:db8:1::5".parse().expect("ip")));
    assert!(!n.contains("2001:db9::5".parse().expect("ip")));
    assert!(!n.contains("10.0.0.1".parse().expect("ip")));
    assert_eq!(net("fd00::/255.0.0.0"), None, "no dotted mask for IPv6");
}

#[test]
fn ipnet_refuses_bad_input() {
    for s in [
        "",
        "/8",
        "10.0.0.0/",
        "10.0.0.0/33",
        "::/129",
        "10.0.0/8",
        "10.0.0.256",
        "10.0.0.0/8/8",
        "10.0.0.0/+8",
        "10.0.0.0/-1",
        "10.0.0.0/ 8",
        "host.example",
        "10.0.0.0/255.255.0",
        "1.2.3.4:80",
    ] {
        assert_eq!(net(s), None, "{s:?}");
    }
}
