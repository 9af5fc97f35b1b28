//! Unit tests of the stick tables: rates, expiry and eviction, tracking, fetches. (Compiled only under
//! `#[cfg(test)]`.)

use std::time::Duration;

use super::*;
use crate::config::model::{StickData, StickStore};
use crate::sample::{Sample, Val};

fn store(items: &[(StickData, u64)]) -> Vec<StickStore> {
    items.iter().map(|&(data, p)| StickStore { data, period: (p > 0).then(|| Duration::from_millis(p)) }).collect()
}

#[test]
fn freq_ctr_weights_the_previous_period() {
    let mut f = FreqCtr::default();
    for _ in 0..10 {
        f.add(1000, 1000, 1);
    }
    assert_eq!(f.read(1000, 1000), 10, "all in the current period");
    assert_eq!(f.read(1999, 1000), 10);
    // Half of the next period elapsed: the previous 10 weigh one half.
    assert_eq!(f.read(2500, 1000), 5);
    f.add(2500, 1000, 1);
    assert_eq!(f.read(2500, 1000), 6);
    assert_eq!(f.read(2900, 1000), 2, "1 + 10 * 0.1");
    // Two periods later, nothing is left.
    assert_eq!(f.read(4000, 1000), 0);
    assert_eq!(f.read(10_000, 1000), 0);
    f.add(10_000, 1000, 3);
    assert_eq!(f.read(10_000, 1000), 3, "old events do not come back");
}

#[test]
fn freq_ctr_rate_stays_near_a_steady_flow() {
    // 10 events per second for 5 s: the rate over 1 s reads about 10 all along.
    let mut f = FreqCtr::default();
    for ms in (0..5000).step_by(100) {
        f.add(ms, 1000, 1);
        let r = f.read(ms, 1000);
        assert!((1..=11).contains(&r), "rate {r} at {ms} ms");
        if ms >= 1000 {
            assert!(r >= 9, "rate {r} at {ms} ms");
        }
    }
}

#[test]
fn table_expires_idle_entries() {
    let mut t = Table::new("t", KeyType::Ip, 10, Some(Duration::from_millis(100)), &store(&[]));
    let k = KeyType::Ip.key(&Val::Ip("10.0.0.1".parse().expect("ip"))).expect("key");
    let i = t.get_or_create(&k, 0).expect("created");
    assert_eq!(t.lookup(&k, 50), Some(i));
    assert_eq!(t.len(), 1);
    assert_eq!(t.lookup(&k, 150), None, "idle past expire");
    assert!(t.is_empty());
    // A tracked entry does not expire.
    let i = t.get_or_create(&k, 200).expect("created");
    t.slots[i as usize].refs = 1;
    assert_eq!(t.lookup(&k, 1000), Some(i));
}

#[test]
fn table_size_evicts_the_oldest() {
    let mut t = Table::new("t", KeyType::Integer, 3, None, &store(&[]));
    let key = |n: i64| Key::Int(n);
    for n in 1..=3 {
        t.get_or_create(&key(n), n as u64).expect("room");
    }
    // Touch 1: 2 is now the oldest.
    t.get_or_create(&key(1), 10).expect("exists");
    t.get_or_create(&key(4), 11).expect("evicts");
    assert_eq!(t.len(), 3);
    assert!(t.lookup(&key(2), 12).is_none(), "oldest evicted");
    assert!(t.lookup(&key(1), 12).is_some() && t.lookup(&key(3), 12).is_some());
    // Every entry tracked: nothing can be evicted, no new entry.
    for n in [1, 3, 4] {
        let i = t.lookup(&key(n), 13).expect("there");
        t.slots[i as usize].refs = 1;
    }
    assert!(t.get_or_create(&key(5), 14).is_none());
}

#[test]
fn tracking_counts_connections_and_requests() {
    let t = Table::new(
        "fe",
        KeyType::Ip,
        100,
        Some(Duration::from_secs(30)),
        &store(&[
            (StickData::ConnCur, 0),
            (StickData::ConnCnt, 0),
            (StickData::HttpReqRate, 10_000),
            (StickData::HttpErrCnt, 0),
        ]),
    );
    let tables = Tables::new(1, vec![(0, t)]);
    let src = Val::Ip("192.0.2.1".parse().expect("ip"));
    let a = tables.track(0, &src).expect("tracked");
    let b = tables.track(0, &src).expect("tracked");
    tables.count(a, Event::HttpReq);
    tables.count(b, Event::HttpReq);
    tables.count(b, Event::HttpErr);
    let get = |d| tables.fetch_key(0, &src, What::Get(d));
    assert_eq!(get(StickData::ConnCur), Some(Sample::Int(2)));
    assert_eq!(get(StickData::ConnCnt), Some(Sample::Int(2)));
    assert_eq!(get(StickData::HttpReqRate), Some(Sample::Int(2)));
    assert_eq!(get(StickData::HttpErrCnt), Some(Sample::Int(1)));
    assert_eq!(get(StickData::Gpc0), None, "not stored: no sample");
    tables.release(a);
    tables.release(b);
    assert_eq!(get(StickData::ConnCur), Some(Sample::Int(0)));
    let other = Val::Ip("192.0.2.2".parse().expect("ip"));
    assert_eq!(tables.fetch_key(0, &other, What::Get(StickData::ConnCnt)), Some(Sample::Int(0)), "absent: 0");
    assert_eq!(tables.fill(0), Some((1, 99)));
}

#[test]
fn keys_follow_the_table_type() {
    let v4 = Val::Ip("10.1.2.3".parse().expect("ip"));
    let mapped = Val::Ip("::ffff:10.1.2.3".parse().expect("ip"));
    let v6 = Val::Ip("2001:db8::1".parse().expect("ip"));
    assert_eq!(KeyType::Ip.key(&v4), KeyType::Ip.key(&mapped));
    assert_eq!(KeyType::Ip.key(&v6), None);
    assert_eq!(KeyType::Ipv6.key(&v4), KeyType::Ipv6.key(&mapped));
    assert_eq!(KeyType::Integer.key(&Val::Bytes(b"42".as_slice().into())), Some(Key::Int(42)));
    let long = Val::Bytes(b"abcdef".as_slice().into());
    assert_eq!(KeyType::String(4).key(&long), Some(Key::Str(b"abcd".to_vec().into_boxed_slice())));
}

#[test]
fn fetch_names() {
    let mut names = crate::sample::Names::default();
    names.tables.insert("be".into(), 7);
    let f = |n: &str, a: &[&str]| parse_fetch(n, &a.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &names);
    assert_eq!(
        f("sc_http_req_rate", &["0"]),
        Some(Ok(TableFetch {
            scope: Scope::Sc(0),
            what: What::Get(StickData::HttpReqRate),
            table: None,
            table_proxy: None
        }))
    );
    assert_eq!(
        f("sc1_conn_cur", &["be"]),
        Some(Ok(TableFetch {
            scope: Scope::Sc(1),
            what: What::Get(StickData::ConnCur),
            table: Some("be".into()),
            table_proxy: Some(7),
        }))
    );
    assert_eq!(f("src_inc_gpc0", &[]).and_then(Result::ok).map(|t| t.what), Some(What::IncGpc0));
    assert_eq!(f("table_avl", &[]).and_then(Result::ok).map(|t| t.what), Some(What::Avl));
    assert!(f("sc_http_req_rate", &[]).is_some_and(|r| r.is_err()));
    assert!(f("src_nonsense", &[]).is_some_and(|r| r.is_err()));
    assert_eq!(f("src_port", &[]), None);
    assert_eq!(f("path", &[]), None);
}
