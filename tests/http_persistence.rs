//! Persistence and hash balancing in HTTP mode: `cookie NAME insert indirect nocache` (with `option redispatch`),
//! `cookie NAME prefix`, `stick-table type ip` + `stick on src`, `balance uri|url_param|hdr()` (SPEC §4;
//! HAPROXY-FACTS §1.5, §1.8; issue 3).

mod support;

use std::collections::HashSet;
use std::time::Duration;
use support::http::*;
use support::*;

/// `listen app` on `port` over servers `s1`, `s2` (each with `cookie s1|s2`, `check inter 200 fall 1 rise 1`),
/// with `lines` in the section; logs go to `log_port`.
fn app_cfg(log_port: u16, port: u16, s1: u16, s2: u16, lines: &str) -> String {
    format!(
        r#"global
    log 127.0.0.1:{log_port} local0 info

defaults
    log global
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen app
    bind 127.0.0.1:{port}
{lines}
    server s1 127.0.0.1:{s1} cookie s1 check inter 200 fall 1 rise 1
    server s2 127.0.0.1:{s2} cookie s2 check inter 200 fall 1 rise 1
"#
    )
}

struct App {
    logs: UdpCollector,
    s1: HttpBackend,
    s2: HttpBackend,
    port: u16,
    _proxy: Proxy,
}

impl App {
    fn start(lines: &str, behavior: Behavior) -> App {
        let logs = UdpCollector::start();
        let s1 = HttpBackend::start("s1", behavior.clone());
        let s2 = HttpBackend::start("s2", behavior);
        let port = free_port();
        let proxy = Proxy::start_and_wait(&app_cfg(logs.port, port, s1.port, s2.port, lines), port);
        App { logs, s1, s2, port, _proxy: proxy }
    }

    fn backend(&mut self, name: &str) -> &mut HttpBackend {
        match name {
            "s1" => &mut self.s1,
            "s2" => &mut self.s2,
            _ => panic!("no server {name}"),
        }
    }

    fn backend_ref(&self, name: &str) -> &HttpBackend {
        match name {
            "s1" => &self.s1,
            "s2" => &self.s2,
            _ => panic!("no server {name}"),
        }
    }

    fn all_requests(&self) -> Vec<Request> {
        self.s1.traffic().into_iter().chain(self.s2.traffic()).collect()
    }
}

/// One request on a new connection.
fn get(port: u16, path: &str, extra: &[&str]) -> Response {
    let mut c = HttpConn::open(port).unwrap_or_else(|e| panic!("connect to :{port}: {e}"));
    c.get(path, extra).unwrap_or_else(|e| panic!("GET {path} via :{port}: {e}"))
}

/// Which server answered (`X-Server`, which must match the body).
fn served_by(r: &Response) -> String {
    assert_eq!(r.status, 200, "expected a server's 200: {r:?}");
    let name = r.header("x-server").unwrap_or_else(|| panic!("no X-Server header: {r:?}")).to_string();
    assert_eq!(r.text(), name, "body and X-Server disagree: {r:?}");
    name
}

fn other(name: &str) -> &'static str {
    if name == "s1" {
        "s2"
    } else {
        "s1"
    }
}

/// The `Set-Cookie` values of `r` for cookie `name`.
fn set_cookies<'a>(r: &'a Response, name: &str) -> Vec<&'a str> {
    r.header_values("set-cookie").into_iter().filter(|v| v.trim_start().starts_with(&format!("{name}="))).collect()
}

/// Whether a request's `Cookie` headers carry cookie `name`.
fn has_cookie(req: &Request, name: &str) -> bool {
    req.header_values("cookie").iter().flat_map(|v| v.split(';')).any(|c| c.trim().starts_with(&format!("{name}=")))
}

const INSERT: &str = "    balance roundrobin
    cookie SERVERID insert indirect nocache
    option redispatch";

#[test]
fn cookie_insert_sets_the_cookie_and_later_requests_stick() {
    let app = App::start(INSERT, Behavior::KeepAlive);

    let first = get(app.port, "/first", &[]);
    let chosen = served_by(&first);
    assert_eq!(
        set_cookies(&first, "SERVERID"),
        [format!("SERVERID={chosen}; path=/")],
        "insert: the first response sets the chosen server's cookie: {:?}",
        first.headers
    );
    assert!(first.has_token("cache-control", "private"), "nocache adds Cache-Control: private: {:?}", first.headers);

    let cookie = format!("Cookie: SERVERID={chosen}");
    for i in 0..10 {
        let r = get(app.port, &format!("/stick{i}"), &[&cookie]);
        assert_eq!(served_by(&r), chosen, "request #{i} with {cookie} (roundrobin would alternate)");
        assert!(
            set_cookies(&r, "SERVERID").is_empty(),
            "indirect: a client already holding a valid cookie gets no new one: {:?}",
            r.headers
        );
    }
    // Pinning to the other server works the same way.
    let cookie = format!("Cookie: SERVERID={}", other(&chosen));
    for i in 0..4 {
        assert_eq!(served_by(&get(app.port, &format!("/other{i}"), &[&cookie])), other(&chosen), "{cookie}");
    }
}

#[test]
fn cookie_insert_indirect_hides_the_cookie_from_the_server() {
    let app = App::start(INSERT, Behavior::KeepAlive);
    let chosen = served_by(&get(app.port, "/first", &[]));

    let alone = served_by(&get(app.port, "/alone", &[&format!("Cookie: SERVERID={chosen}")]));
    let mixed = served_by(&get(app.port, "/mixed", &[&format!("Cookie: a=1; SERVERID={chosen}; b=2")]));

    let all = app.all_requests();
    assert!(!all.is_empty());
    for req in &all {
        assert!(!has_cookie(req, "SERVERID"), "indirect: the server saw the persistence cookie: {req:?}");
    }
    let seen = all.iter().find(|r| r.path == "/mixed").expect("/mixed reached no server");
    let others: Vec<String> = seen
        .header_values("cookie")
        .iter()
        .flat_map(|v| v.split(';'))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(others, ["a=1", "b=2"], "the application's own cookies are kept: {:?}", seen.headers);
    assert_eq!((alone, mixed), (chosen.clone(), chosen), "requests carrying the cookie go to its server");
}

#[test]
fn cookie_insert_redispatches_when_the_server_goes_down() {
    let mut app = App::start(INSERT, Behavior::KeepAlive);
    let first = get(app.port, "/first", &[]);
    let chosen = served_by(&first);
    let cookie = format!("Cookie: SERVERID={chosen}");
    assert_eq!(served_by(&get(app.port, "/before", &[&cookie])), chosen, "{cookie} before the server goes DOWN");

    let mark = app.logs.mark();
    app.backend(&chosen).stop();
    let down = format!("Server app/{chosen} is DOWN");
    app.logs
        .wait_for_since(mark, |l| l.contains(&down), Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no '{down}' within 3 s of stopping it: {:?}", app.logs.lines()));

    let r = get(app.port, "/after", &[&cookie]);
    let now = served_by(&r);
    assert_eq!(now, other(&chosen), "option redispatch: a cookie for a DOWN server goes elsewhere");
    assert_eq!(
        set_cookies(&r, "SERVERID"),
        [format!("SERVERID={now}; path=/")],
        "the redispatched client gets the new server's cookie: {:?}",
        r.headers
    );
}

#[test]
fn cookie_prefix_prefixes_the_application_cookie_and_strips_it_back() {
    let app = App::start(
        "    balance roundrobin\n    cookie JSESSIONID prefix",
        Behavior::Headers(vec!["Set-Cookie: JSESSIONID=abc".into()]),
    );

    let first = get(app.port, "/first", &[]);
    let chosen = served_by(&first);
    assert_eq!(
        set_cookies(&first, "JSESSIONID"),
        [format!("JSESSIONID={chosen}~abc")],
        "prefix: the server's cookie goes out as SRV~value: {:?}",
        first.headers
    );

    for srv in ["s1", "s2"] {
        let cookie = format!("Cookie: JSESSIONID={srv}~abc");
        for i in 0..4 {
            let path = format!("/{srv}/{i}");
            let r = get(app.port, &path, &[&cookie]);
            assert_eq!(served_by(&r), srv, "GET {path} with {cookie}");
            assert_eq!(set_cookies(&r, "JSESSIONID"), [format!("JSESSIONID={srv}~abc")], "{:?}", r.headers);
        }
        let seen: Vec<Request> =
            app.backend_ref(srv).traffic().into_iter().filter(|r| r.path.starts_with(&format!("/{srv}/"))).collect();
        assert_eq!(seen.len(), 4, "{srv} saw: {seen:?}");
        for req in &seen {
            assert_eq!(req.header_values("cookie"), ["JSESSIONID=abc"], "the server sees its own value: {req:?}");
        }
    }
}

#[test]
fn stick_on_src_keeps_a_client_on_one_server() {
    let app = App::start(
        "    balance roundrobin\n    stick-table type ip size 1m expire 30m\n    stick on src",
        Behavior::KeepAlive,
    );
    let names: Vec<String> = (0..10).map(|i| served_by(&get(app.port, &format!("/src{i}"), &[]))).collect();
    assert!(names.iter().all(|n| *n == names[0]), "stick on src: 127.0.0.1 must always land on one server: {names:?}");
    assert_eq!(app.backend_ref(&names[0]).traffic().len(), 10);
    assert!(app.backend_ref(other(&names[0])).traffic().is_empty());
}

/// Sends `req(key, round)` for 20 keys, in two rounds on new connections (the second in reverse order, so that
/// a roundrobin fallback moves every key): each key must land on one server both times, and both servers must be
/// used.
fn assert_hashes(balance: &str, req: impl Fn(usize, usize) -> (String, Vec<String>)) {
    let app = App::start(&format!("    balance {balance}"), Behavior::KeepAlive);
    let mut used = HashSet::new();
    for round in 0..2 {
        for j in 0..20 {
            let i = if round == 0 { j } else { 19 - j };
            let (path, extra) = req(i, round);
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let r = get(app.port, &path, &extra);
            let who = served_by(&r);
            if round == 0 {
                used.insert((i, who));
            } else {
                assert!(
                    used.contains(&(i, who.clone())),
                    "balance {balance}: key #{i} moved to {who} ({path} {extra:?})"
                );
            }
        }
    }
    let servers: HashSet<&String> = used.iter().map(|(_, w)| w).collect();
    assert_eq!(servers.len(), 2, "balance {balance}: 20 keys should spread over both servers: {used:?}");
}

#[test]
fn balance_uri_is_sticky_per_path_and_spreads_paths() {
    assert_hashes("uri", |i, _| (format!("/item/{i}/page.html"), vec![]));
}

#[test]
fn balance_url_param_is_sticky_per_value_and_spreads_values() {
    // The rest of the URI changes between rounds: only the parameter may decide.
    assert_hashes("url_param userid", |i, round| (format!("/p{round}?x={round}&userid=u{i}"), vec![]));
}

#[test]
fn balance_hdr_is_sticky_per_value_and_spreads_values() {
    assert_hashes("hdr(X-User)", |i, round| (format!("/h{round}/{i}"), vec![format!("X-User: user{i}")]));
}
