//! End-to-end tests of `config::load`: seeds, inheritance, legacy mappings, binds, messages.
//! (Compiled only under `#[cfg(test)]`.)

use super::*;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

fn env(n: &str) -> Option<String> {
    match n {
        "PORT" => Some("8080".into()),
        _ => None,
    }
}

/// Write `text` to a temp file and load it.
fn load_text(name: &str, text: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let p = PathBuf::from(tmp(name));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::File::create(&p).unwrap().write_all(text.as_bytes()).unwrap();
    load_with_env(&[p], &env)
}

fn ok(text: &str) -> Config {
    match load_text("ok.cfg", text) {
        Ok(l) => l.config,
        Err(d) => panic!("unexpected errors: {:#?}", d.iter().map(|d| d.to_string()).collect::<Vec<_>>()),
    }
}

fn errs(text: &str) -> Vec<String> {
    match load_text("bad.cfg", text) {
        Ok(_) => panic!("config was accepted"),
        Err(d) => d.iter().filter(|d| d.level == DiagLevel::Alert).map(|d| d.to_string()).collect(),
    }
}

fn seed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("etc").join(name)
}

#[test]
fn seed_tcp() {
    let l = load_with_env(&[seed("seed-tcp.cfg")], &env).unwrap();
    let c = &l.config;
    assert!(c.has_listeners());
    assert_eq!(c.global.nbproc, 8);
    assert!(c.global.daemon);
    assert_eq!(c.global.maxconn, Some(20000));
    assert_eq!(c.global.spread_checks, 3);
    assert_eq!(c.global.user, Some(UserSpec::Name("haproxy".into())));
    assert_eq!(c.global.logs[0].dest, LogDest::Udp("127.0.0.1:514".parse().unwrap()));
    assert_eq!(c.global.logs[0].facility, 16);
    assert_eq!(c.global.logs[0].max_level, Level::Warning);
    let p = &c.proxies[0];
    assert_eq!((p.name.as_str(), p.kind, p.mode, p.id), ("oldboytest", ProxyKind::Listen, Mode::Tcp, 1));
    assert_eq!(p.binds[0].addrs, vec![ListenAddr::Inet("0.0.0.0:8022".parse().unwrap())]);
    assert_eq!(p.timeouts.connect, Some(Duration::from_secs(15)));
    assert_eq!(p.timeouts.client, Some(Duration::from_millis(50000)));
    assert_eq!(p.timeouts.server, Some(Duration::from_secs(15)));
    assert!(p.options.redispatch);
    assert_eq!(p.retries, 3);
    assert_eq!(p.logs.len(), 1, "log global copies the global target");
    let s = &p.servers[0];
    assert_eq!((s.check, s.check_port, s.inter, s.fall, s.rise), (true, Some(2201), Duration::from_millis(5000), 5, 2));
    assert_eq!(s.addr, "127.0.0.1:2201".parse::<SocketAddr>().unwrap());
}

#[test]
fn seed_http() {
    let l = load_with_env(&[seed("seed-http.cfg")], &env).unwrap();
    let p = &l.config.proxies[0];
    assert_eq!(p.mode, Mode::Http);
    assert!(p.options.abortonclose && p.options.dontlognull && !p.options.splice_response);
    assert_eq!(p.options.http_conn_mode, HttpConnMode::Close);
    assert_eq!(p.options.forwardfor.as_ref().map(|f| f.header.as_str()), Some("X-Forwarded-For"));
    let st = p.stats.as_ref().unwrap();
    assert!(st.enabled);
    assert_eq!(st.uri, "/admin?stats");
    assert_eq!(st.auth, vec![("proxy".to_string(), "oldboy".to_string())]);
    match &p.check {
        CheckKind::Http(h) => {
            assert_eq!((h.method.as_str(), h.uri.as_str(), h.version.as_str()), ("HEAD", "/check.html", "HTTP/1.0"))
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(p.servers.len(), 2);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn stats_uri_typo_fails_with_file_line() {
    let e = errs("listen www\n  bind :8080\n  mode http\n  stats uri/admin?stats\n  timeout client 1s\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].contains("bad.cfg:4: unknown stats parameter 'uri/admin?stats'"), "{}", e[0]);
}

#[test]
fn defaults_inheritance_and_reset() {
    let c = ok("defaults\n mode http\n option httplog\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
        frontend a\n bind :81\n default_backend b\n no option httplog\n\
        backend b\n server s 127.0.0.1:80\n\
        defaults\n timeout client 1s\n\
        frontend c\n bind :82\n timeout client 2s\n");
    assert_eq!(c.proxies[0].mode, Mode::Http);
    assert_eq!(c.proxies[0].log_format, LogFormat::Default);
    assert_eq!(c.proxies[1].log_format, LogFormat::Http { clf: false });
    assert_eq!(c.proxies[2].mode, Mode::Tcp, "a new defaults resets everything");
    assert_eq!(c.proxies[2].timeouts.connect, None);
    assert_eq!(c.proxies[2].timeouts.client, Some(Duration::from_secs(2)));
    assert_eq!(c.proxies.iter().map(|p| p.id).collect::<Vec<_>>(), vec![1, 2, 3]);
}

#[test]
fn named_defaults_and_default_option() {
    let c = ok("defaults base\n option dontlognull\n timeout client 1s\nfrontend f from base\n bind :80\n no option dontlognull\n default option dontlognull\n id 7\n");
    assert!(c.proxies[0].options.dontlognull);
    assert_eq!(c.proxies[0].id, 7);
}

#[test]
fn legacy_keywords() {
    let c = ok("defaults\n contimeout 5000\n clitimeout 1m\n srvtimeout 50s\n redispatch\n option forceclose\n\
        listen l 127.0.0.1:8000,127.0.0.1:8002-8003\n mode http\n reqadd X-A:\\ b\n reqirep ^Host:\\ a Host:\\ b\n\
        acl bad path_beg /x\n block if bad\n reqisetbe ^Host:\\ x be\n rspdel ^Server:.*\n appsession JSESSIONID len 52 timeout 3h\n\
        server s 127.0.0.1:81 check\nbackend be\n mode http\n server s localhost\n");
    let p = &c.proxies[0];
    assert_eq!(p.timeouts.connect, Some(Duration::from_millis(5000)));
    assert_eq!(p.timeouts.client, Some(Duration::from_secs(60)));
    assert!(p.options.redispatch);
    assert_eq!(p.options.http_conn_mode, HttpConnMode::Close);
    assert_eq!(p.binds[0].addrs.len(), 3);
    let kws: Vec<&str> = p.legacy_rules.iter().map(|r| r.keyword.as_str()).collect();
    assert_eq!(kws, vec!["reqadd", "reqirep", "block", "reqisetbe", "rspdel"]);
    assert_eq!(p.legacy_rules[0].arg, "X-A: b");
    assert_eq!(p.legacy_rules[1].arg2.as_deref(), Some("Host: b"));
    assert!(p.legacy_rules[2].cond.is_some());
    assert_eq!(c.proxies[1].servers[0].addr.port(), 0);
    assert!(c.proxies[1].servers[0].addr.ip().is_loopback());
}

#[test]
fn bind_forms() {
    use server_bind_addrs as b;
    assert_eq!(b("*:80"), vec!["0.0.0.0:80"]);
    assert_eq!(b(":80"), vec!["0.0.0.0:80"]);
    assert_eq!(b("[::]:80"), vec!["[::]:80"]);
    assert_eq!(b(":::80"), vec!["[::]:80"]);
    assert_eq!(b("::1:80"), vec!["[::1]:80"]);
    assert_eq!(b("ipv6@:80"), vec!["[::]:80"]);
    assert_eq!(b("ipv4@127.0.0.1:80"), vec!["127.0.0.1:80"]);
    assert_eq!(b("127.0.0.1:2000-2002,:90"), vec!["127.0.0.1:2000", "127.0.0.1:2001", "127.0.0.1:2002", "0.0.0.0:90"]);
    assert_eq!(b("fd@3"), vec!["fd@3"]);
    assert_eq!(b("unix@/tmp/s"), vec!["unix@/tmp/s"]);
    assert_eq!(b("/tmp/s"), vec!["unix@/tmp/s"]);
    let c = ok("frontend f\n bind :80 backlog 10 name web maxconn 5 defer-accept transparent v4v6 interface lo mss 1400 id 4 accept-proxy\n timeout client 1s\n");
    let bd = &c.proxies[0].binds[0];
    assert_eq!((bd.backlog, bd.maxconn, bd.mss, bd.id), (Some(10), Some(5), Some(1400), Some(4)));
    assert!(bd.defer_accept && bd.transparent && bd.v4v6 && bd.accept_proxy);
    assert!(errs("frontend f\n bind 127.0.0.1\n")[0].contains("missing port"));
    assert_eq!(
        errs("frontend f\n bind :443 ssl crt /x.pem\n")[0],
        format!("[ALERT] {}:2: 'ssl' is not supported yet", tmp("bad.cfg"))
    );
}

/// A per-test path (tests run in parallel threads named after the test).
fn tmp(name: &str) -> String {
    let t = std::thread::current().name().unwrap_or("main").replace("::", "_");
    std::env::temp_dir()
        .join(format!("nbproxy-cfg-test-{}", std::process::id()))
        .join(t)
        .join(name)
        .display()
        .to_string()
}

fn server_bind_addrs(s: &str) -> Vec<String> {
    resolve::parse_bind_addrs(s).unwrap().iter().map(|a| a.to_string()).collect()
}

#[test]
fn acls_and_conditions() {
    let c = ok("frontend f\n bind :80\n mode http\n timeout client 1s\n acl api path_beg -i /api /v1\n acl h hdr(host) -m dom example.com\n\
        acl local src 127.0.0.1 10.0.0.0/8\n use_backend b if api !local or { hdr_sub(user-agent) bot } || h\n default_backend b\n\
        http-request deny if { path -m reg ^/admin } !local\n http-request set-header X-Y %[src] if TRUE\n http-request redirect scheme https code 301 unless local\n\
        backend b\n mode http\n server s 127.0.0.1:1\n");
    let p = &c.proxies[0];
    assert_eq!(p.acls[0].term.method, MatchMethod::Beg);
    assert!(p.acls[0].term.ignore_case);
    assert_eq!(p.acls[0].term.patterns, vec!["/api", "/v1"]);
    assert_eq!(p.acls[1].term.fetch, "hdr");
    assert_eq!(p.acls[1].term.args, vec!["host"]);
    assert_eq!(p.acls[1].term.method, MatchMethod::Dom);
    assert_eq!(p.acls[2].term.method, MatchMethod::Ip);
    let cond = p.use_backends[0].cond.as_ref().unwrap();
    assert_eq!(cond.alternatives.len(), 3);
    assert!(cond.alternatives[0][1].negate);
    assert!(matches!(&cond.alternatives[1][0].kind, CondTermKind::Anonymous(t) if t.method == MatchMethod::Sub));
    assert_eq!(p.http_request[0].action, HttpAction::Deny { status: 403 });
    assert!(
        matches!(&p.http_request[2].action, HttpAction::Redirect(r) if r.code == 301 && r.kind == RedirectKind::Scheme)
    );
    assert!(p.http_request[2].cond.as_ref().unwrap().negate);
    let e = errs("frontend f\n bind :80\n use_backend b if nope\n");
    assert!(e[0].ends_with(":3: no such ACL : 'nope'"), "{e:?}");
}

#[test]
fn errors_are_all_collected_with_file_line() {
    let e = errs(
        "global\n nbproc x\n bogus 1\nfrontend f\n bind :80\n mode http\n balence roundrobin\n default_backend nope\n\
        backend b\n mode tcp\n bind :81\n server s 127.0.0.1:1 weight 300\n server t 127.0.0.1:1 track nope\n\
        frontend g\n bind :82\n mode http\n use_backend b\n",
    );
    let f = tmp("bad.cfg");
    let want = [
        format!("[ALERT] {f}:2: 'nbproc' expects an integer argument, got 'x'."),
        format!("[ALERT] {f}:3: unknown keyword 'bogus' in 'global' section"),
        format!("[ALERT] {f}:7: unknown keyword 'balence' in 'frontend' section; did you mean 'balance' maybe ?"),
        format!("[ALERT] {f}:11: 'bind' not allowed in backend 'b' which has no frontend capability."),
        format!("[ALERT] {f}:12: weight of server 's' must be between 0 and 256 (got 300)."),
    ];
    for w in &want {
        assert!(e.contains(w), "missing {w}\nin {e:#?}");
    }
    assert!(e.iter().any(|x| x.contains("unable to find required use_backend: 'nope'")));
    assert!(e.iter().any(|x| x.contains(":17: frontend 'g' (mode http) cannot use backend 'b' (mode tcp)")));
    assert!(e.iter().any(|x| x.contains("tracked by 'b/t'")));
}

#[test]
fn unsupported_sections_and_keywords() {
    let f = tmp("bad.cfg");
    let e = errs(
        "resolvers dns\n nameserver a 127.0.0.1:53\nglobal\n lua-load /x.lua\nbackend b\n compression algo gzip\n",
    );
    assert_eq!(
        e,
        vec![
            format!("[ALERT] {f}:1: 'resolvers' is not supported yet"),
            format!("[ALERT] {f}:4: 'lua-load' is not supported yet"),
            format!("[ALERT] {f}:6: 'compression' is not supported yet"),
        ]
    );
}

#[test]
fn missing_files_and_empty_config() {
    let e = load_with_env(&[PathBuf::from("/nonexistent/x.cfg")], &env).unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "[ALERT] Cannot open configuration file/directory /nonexistent/x.cfg : No such file or directory"
    );
    let c = ok("global\n daemon\n");
    assert!(!c.has_listeners());
    assert!(load_with_env(&[], &env).is_err());
    let e = errs("frontend f\n bind :80\n errorfile 503 /nonexistent/503.http\n acl x path -f /nonexistent/list\n");
    assert_eq!(e.len(), 2, "{e:?}");
}

#[test]
fn warnings() {
    let l = load_text("w.cfg", "global\n nbthread 4\nfrontend f\n bind :80\nlisten l\n bind :81\n timeout client 1s\n")
        .unwrap();
    let w: Vec<String> = l.warnings.iter().map(|d| d.to_string()).collect();
    assert!(w.iter().any(|x| x.contains("missing timeouts for frontend 'f'.")), "{w:?}");
    assert!(w.iter().any(|x| x.contains("missing timeouts for proxy 'l'.")), "{w:?}");
    assert!(w.iter().any(|x| x.starts_with("[WARNING]") && x.contains(":2: 'nbthread'")), "{w:?}");
}

#[test]
fn servers_and_templates() {
    let c = ok("backend b\n default-server inter 3s fall 2 weight 10\n server a 127.0.0.1:80 check backup\n\
        server-template w 1-3 127.0.0.1:81 check\n server-template x 2 localhost:82\n server t 127.0.0.1 track a\n\
        option httpchk\n http-check expect status 200\n cookie SRV insert indirect nocache\n balance uri depth 2\n\
        timeout connect 1s\n timeout server 1s\n");
    let p = &c.proxies[0];
    let names: Vec<&str> = p.servers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["a", "w1", "w2", "w3", "x1", "x2", "t"]);
    assert_eq!((p.servers[0].inter, p.servers[0].fall, p.servers[0].weight), (Duration::from_secs(3), 2, 10));
    assert!(p.servers[0].backup);
    assert_eq!(p.balance, Balance::Uri { whole: false, len: None, depth: Some(2) });
    match &p.check {
        CheckKind::Http(h) => {
            assert_eq!(h.expect.as_ref().map(|e| e.pattern.as_str()), Some("200"))
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(p.cookie.as_ref().map(|c| c.mode), Some(CookieMode::Insert));
    assert!(errs("backend b\n server a no.such.host.invalid:80\n")[0].contains(":2: could not resolve address"));
}

#[test]
fn logs() {
    let c = ok("global\n log /dev/log local0\n log stdout format raw daemon info\nfrontend f\n bind :80\n log global\n log 127.0.0.1 len 2048 local1 notice err\n log file@/tmp/x.log local2\n timeout client 1s\n\
        frontend g\n bind :81\n log global\n no log\n timeout client 1s\nfrontend h\n bind :82\n timeout client 1s\n");
    let p = &c.proxies[0];
    assert_eq!(p.logs.len(), 4);
    assert_eq!(p.logs[0].dest, LogDest::Unix("/dev/log".into()));
    assert_eq!(p.logs[1].dest, LogDest::Stdout);
    assert_eq!(p.logs[1].format, LogWire::Raw);
    assert_eq!((p.logs[2].len, p.logs[2].max_level, p.logs[2].min_level), (2048, Level::Notice, Level::Err));
    assert_eq!(p.logs[2].dest, LogDest::Udp("127.0.0.1:514".parse().unwrap()));
    assert_eq!(p.logs[3].dest, LogDest::File("/tmp/x.log".into()));
    assert!(c.proxies[1].logs.is_empty());
    assert!(c.proxies[2].logs.is_empty());
}

#[test]
fn env_and_conditional_blocks_in_files() {
    let c = ok(".if defined(PORT)\nfrontend f\n bind \":${PORT}\"\n.else\nfrontend g\n.endif\n timeout client 1s\n");
    assert_eq!(c.proxies[0].binds[0].addrs, vec![ListenAddr::Inet("0.0.0.0:8080".parse().unwrap())]);
    let e = errs("frontend f\n bind :80\n.if 1\n");
    assert!(e[0].ends_with(":3: missing '.endif' for this '.if'"));
}

#[test]
fn userlists_and_http_auth() {
    let c = ok("userlist admins\n group adm users bob\n user bob insecure-password secret groups adm\n user al password $6$x$y\n\
        frontend f\n bind :80\n mode http\n timeout client 1s\n acl auth_ok http_auth(admins)\n http-request auth realm Admin if !auth_ok\n");
    assert_eq!(c.userlists[0].users.len(), 2);
    assert!(c.userlists[0].users[0].insecure);
    assert_eq!(c.userlists[0].users[0].groups, vec!["adm"]);
    assert_eq!(c.proxies[0].acls[0].term.method, MatchMethod::Bool);
    let e = errs("frontend f\n bind :80\n http-request deny if { http_auth(nobody) }\n");
    assert!(e[0].ends_with(":3: 'http_auth': unable to find userlist 'nobody'."), "{e:?}");
}

#[test]
fn global_keywords() {
    let c =
        ok("global\n uid 99\n gid 98\n ulimit-n 65536\n tune.bufsize 32k\n tune.maxrewrite 2048\n tune.maxaccept -1\n\
        stats socket /tmp/s.sock mode 600 level admin expose-fd listeners\n stats timeout 30s\n hard-stop-after 5m\n\
        log-tag nb\n log-send-hostname\n node n1\n description my lb\n maxpipes 10\n nosplice\n tune.pipesize 256k\n\
        ssl-default-bind-ciphers X\n\
        tune.ssl.default-dh-param 2048\n cpu-map 1 0\n master-worker\n");
    let g = &c.global;
    assert_eq!((g.user.clone(), g.group.clone()), (Some(UserSpec::Id(99)), Some(UserSpec::Id(98))));
    assert_eq!((g.ulimit_n, g.bufsize, g.maxrewrite, g.maxaccept), (Some(65536), 32768, 2048, -1));
    assert_eq!(g.stats_sockets[0].level, StatsLevel::Admin);
    assert_eq!(g.stats_sockets[0].mode, Some(0o600));
    assert_eq!(g.stats_timeout, Duration::from_secs(30));
    assert_eq!(g.hard_stop_after, Some(Duration::from_secs(300)));
    assert_eq!(g.log_send_hostname.as_deref(), Some(""));
    assert_eq!(g.description.as_deref(), Some("my lb"));
    assert!(g.nosplice);
    assert_eq!((g.maxpipes, g.pipesize), (Some(10), Some(262144)));
    assert_eq!(c.maxpipes(c.global.maxconn_or_default()), 0, "nosplice: no pipes");
    let c = ok("global\n maxconn 100\nlisten l\n bind :80\n option splice-auto\n server s 127.0.0.1:81\n");
    assert_eq!(c.maxpipes(c.global.maxconn_or_default()), 25, "maxconn/4 when splicing");
    let c = ok("global\n maxconn 100\nlisten l\n bind :80\n server s 127.0.0.1:81\n");
    assert_eq!(c.maxpipes(c.global.maxconn_or_default()), 0, "no proxy splices");
    assert!(errs("global\n tune.pipesize 0\n")[0].contains("tune.pipesize"));
    let e = errs("global\n spread-checks 51\n deamon\n stats socket rel.sock\n");
    assert!(e[0].contains("between 0 and 50"));
    assert!(e[1].ends_with(":3: unknown keyword 'deamon' in 'global' section; did you mean 'daemon' maybe ?"), "{e:?}");
    assert!(e[2].contains(":4: 'stats socket'"));
}

#[test]
fn http_rules_and_checks() {
    let c = ok("backend b\n mode http\n timeout connect 1s\n timeout server 1s\n option httpchk\n\
        http-check send meth GET uri /health ver HTTP/1.1 hdr Host example.com\n http-check expect ! rstring ^down\n http-check send-state\n\
        http-response set-header X-A b\n http-request return status 503 content-type text/plain string \"sorry\" if TRUE\n\
        http-request set-var(txn.x) str(a)\n http-request track-sc0 src\n errorloc 503 http://x/\n\
        server s 127.0.0.1:80 check\n");
    let p = &c.proxies[0];
    match &p.check {
        CheckKind::Http(h) => {
            assert_eq!((h.method.as_str(), h.uri.as_str(), h.version.as_str()), ("GET", "/health", "HTTP/1.1"));
            assert_eq!(h.headers, vec![("Host".to_string(), "example.com".to_string())]);
            let ex = h.expect.as_ref().unwrap();
            assert!(ex.negate && ex.kind == ExpectKind::Rstring);
            assert!(h.send_state);
        }
        k => panic!("{k:?}"),
    }
    assert!(matches!(&p.http_request[0].action, HttpAction::Return { status: 503, body: Some(b), .. } if b == "sorry"));
    assert!(matches!(&p.http_request[1].action, HttpAction::SetVar { name, .. } if name == "txn.x"));
    assert!(
        matches!(&p.http_request[2].action, HttpAction::Track(t) if t.sc == 0 && t.key == "src" && t.table.is_none())
    );
    assert!(String::from_utf8_lossy(&p.errorfiles[0].content).contains("Location: http://x/"));
    let c = ok("backend r\n option tcp-check\n tcp-check connect port 6379\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG\n\
        tcp-check send-binary 0102ff\n timeout connect 1s\n timeout server 1s\n");
    match &c.proxies[0].check {
        CheckKind::TcpCheck(r) => {
            assert_eq!(r[0], TcpCheckRule::Connect { port: Some(6379), ssl: false });
            assert_eq!(r[1], TcpCheckRule::Send(b"PING\r\n".to_vec()));
            assert_eq!(r[3], TcpCheckRule::SendBinary(vec![1, 2, 255]));
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn stick_table_store_and_tracking_actions() {
    let c = ok("frontend fe\n mode http\n bind :80\n \
        stick-table type string len 16 size 10k expire 30s store http_req_rate(10s),conn_cur store gpc0,conn_cur\n \
        tcp-request connection track-sc1 src table be\n http-request sc-inc-gpc0(1)\n \
        http-request sc-set-gpt0(2) 7 if TRUE\n http-request track-sc2 req.hdr(x-key) table be if TRUE\n");
    let p = &c.proxies[0];
    let st = p.stick.as_ref().expect("table");
    assert_eq!((st.table_type.as_str(), st.len, st.size), ("string", Some(16), 10 * 1024));
    let names: Vec<_> = st.store.iter().map(|s| (s.data.name(), s.period.map(|d| d.as_millis()))).collect();
    assert_eq!(names, vec![("http_req_rate", Some(10_000)), ("conn_cur", None), ("gpc0", None)]);
    assert_eq!(p.http_request[0].action, HttpAction::ScIncGpc0(1));
    assert_eq!(p.http_request[1].action, HttpAction::ScSetGpt0(2, 7));
    assert_eq!(
        p.http_request[2].action,
        HttpAction::Track(Track { sc: 2, key: "req.hdr(x-key)".into(), table: Some("be".into()) })
    );
    assert_eq!(p.tcp_request[0].action, "track-sc1 src table be");
    for (bad, what) in [
        ("stick-table type ip size 1k store conn_rate", "expects a period"),
        ("stick-table type ip size 1k store conn_cnt(10s)", "takes no period"),
        ("stick-table type ip size 1k store nope", "unknown data type 'nope'"),
        ("stick-table type ip size 1k store gpc1", "not supported yet"),
        ("http-request track-sc0", "expects a sample expression"),
        ("http-request track-sc0 src tables x", "unexpected argument 'tables'"),
        ("tcp-request connection track-sc3 src", "unknown action"),
        ("http-request sc-inc-gpc0(5)", "invalid stick counter"),
        ("http-request sc-set-gpt0(0) abc", "only an integer"),
    ] {
        let e = errs(&format!("frontend fe\n mode http\n bind :80\n {bad}\n")).join("\n");
        assert!(e.contains(what), "{bad}: {e}");
    }
}
