//! `nbproxy -c`: configuration checking (SPEC §1 `-c`, §3; issue 2 "Tests that must exist").

mod support;

use std::path::Path;
use std::time::Duration;
use support::*;

const SEED_TCP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/etc/seed-tcp.cfg");
const SEED_HTTP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/etc/seed-http.cfg");

fn check_file(path: &str) -> Run {
    assert!(Path::new(path).exists(), "{path} is missing (issue 2 asks for it in etc/)");
    run_bounded(&["-c", "-f", path], Duration::from_secs(10))
}

fn assert_valid(what: &str, code: Option<i32>, output: &str) {
    assert_eq!(code, Some(0), "{what} should pass -c; output:\n{output}");
    assert!(output.contains("Configuration file is valid"), "{what}: no 'Configuration file is valid' in:\n{output}");
}

/// The seed's HTTP listen, with loopback addresses and without the global section's host-specific lines.
fn http_listen(port: u16, stats_uri_line: &str) -> String {
    format!(
        r#"global
    maxconn 20480
    log 127.0.0.1:514 local0 warning

defaults
    log  global
    mode http
    retries  3
    option redispatch
    contimeout   5000
    clitimeout   50000
    srvtimeout   50000
    option abortonclose
    option dontlognull
    option httpclose

listen www
    bind  127.0.0.1:{port}
    mode http
    no   option splice-response
    stats enable
    {stats_uri_line}
    stats auth proxy:oldboy
    balance roundrobin
    option  httpclose
    option  forwardfor
    option  httpchk HEAD /check.html  HTTP/1.0
    server  www01 127.0.0.1:{s1}  check
    server  www02 127.0.0.1:{s2}  check
"#,
        s1 = port + 1,
        s2 = port + 2,
    )
}

#[test]
fn seed_tcp_config_is_valid() {
    let r = check_file(SEED_TCP);
    assert_valid(SEED_TCP, r.code, &r.combined());
}

#[test]
fn seed_http_config_is_valid() {
    let r = check_file(SEED_HTTP);
    assert_valid(SEED_HTTP, r.code, &r.combined());
}

#[test]
fn stats_uri_without_space_fails_with_file_line() {
    let port = free_port();
    // Control: the same listen with the space is valid, so the failure below is about the typo alone.
    let good = check(&http_listen(port, "stats uri /admin?stats"));
    assert_valid("http listen with 'stats uri /admin?stats'", good.code, &good.combined());

    let text = http_listen(port, "stats uri/admin?stats");
    let bad = check(&text);
    let line = line_of(&text, "stats uri/admin?stats");
    assert!(bad.code.is_some_and(|c| c != 0), "typo accepted (exit {:?}):\n{}", bad.code, bad.combined());
    assert!(bad.stderr.contains("[ALERT]"), "no [ALERT] on stderr:\n{}", bad.stderr);
    assert!(bad.stderr.contains(&bad.at(line)), "stderr does not name {}:\n{}", bad.at(line), bad.stderr);
    assert!(!bad.combined().contains("Configuration file is valid"), "says valid:\n{}", bad.combined());
}

#[test]
fn unknown_keyword_fails_with_file_line() {
    let port = free_port();
    let text = format!(
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
         listen fe\n    bind 127.0.0.1:{port}\n    frobnicate 12\n    server web01 127.0.0.1:{}\n",
        port + 1
    );
    let r = check(&text);
    let line = line_of(&text, "frobnicate");
    assert!(r.code.is_some_and(|c| c != 0), "unknown keyword accepted (exit {:?}):\n{}", r.code, r.combined());
    assert!(r.stderr.contains(&r.at(line)), "stderr does not name {}:\n{}", r.at(line), r.stderr);
    assert!(r.stderr.contains("frobnicate"), "stderr does not name the keyword:\n{}", r.stderr);

    // Same in the global section.
    let text = "global\n    maxconn 100\n    frobnicate\n";
    let r = check(text);
    assert!(r.code.is_some_and(|c| c != 0), "unknown global keyword accepted:\n{}", r.combined());
    assert!(r.stderr.contains(&r.at(3)), "stderr does not name {}:\n{}", r.at(3), r.stderr);
}

#[test]
fn empty_file_fails_with_a_message() {
    let r = check("");
    assert!(r.code.is_some_and(|c| c != 0), "empty config accepted (exit {:?}):\n{}", r.code, r.combined());
    assert!(!r.combined().trim().is_empty(), "empty config rejected without any message");
    assert!(!r.combined().contains("Configuration file is valid"), "says valid:\n{}", r.combined());
}

#[test]
fn missing_file_fails_naming_it() {
    let dir = TempDir::new("missing");
    let path = dir.join("no-such-file.cfg");
    let r = run_bounded(&["-c", "-f", path.to_str().unwrap()], Duration::from_secs(10));
    assert!(r.code.is_some_and(|c| c != 0), "missing file accepted (exit {:?}):\n{}", r.code, r.combined());
    assert!(r.stderr.contains("no-such-file.cfg"), "stderr does not name the file:\n{}", r.stderr);
    assert!(r.stderr.contains("[ALERT]"), "no [ALERT] on stderr:\n{}", r.stderr);
}

#[test]
fn version_flag_prints_a_version() {
    let r = run_bounded(&["-v"], Duration::from_secs(10));
    assert_eq!(r.code, Some(0), "-v failed:\n{}", r.combined());
    let out = r.combined();
    assert!(out.to_lowercase().contains("version"), "no 'version' in:\n{out}");
    let has_dotted_number =
        out.as_bytes().windows(3).any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit());
    assert!(has_dotted_number, "no version number in:\n{out}");
}

#[test]
fn legacy_1_4_config_is_valid() {
    let [port, s1, s2]: [u16; 3] = free_ports(3).try_into().unwrap();
    let text = format!(
        r#"# HAProxy 1.4 dialect: keywords 2.x rejects but nbproxy must accept (HAPROXY-FACTS §1.14-1.15)
global
    maxconn 4096
    nbproc 2
    spread-checks 3

defaults
    mode tcp
    retries 3
    redispatch
    contimeout 5000
    clitimeout 50000
    srvtimeout 50000

listen legacy 0.0.0.0:{port}
    balance roundrobin
    server web01 127.0.0.1:{s1} check inter 2000 fall 3
    server web02 127.0.0.1:{s2} check port {s2} inter 2000 rise 2 fall 3
"#
    );
    let r = check(&text);
    assert_valid("1.4 config", r.code, &r.combined());
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let port = free_port();
    let text = format!(
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
         listen fe\n    bind 127.0.0.1:{port}\n    frobnicate 1\n    balance roundrobin\n    wibble 2\n    \
         server web01 127.0.0.1:{}\n",
        port + 1
    );
    let r = check(&text);
    assert!(r.code.is_some_and(|c| c != 0), "accepted:\n{}", r.combined());
    for kw in ["frobnicate", "wibble"] {
        let at = r.at(line_of(&text, kw));
        assert!(r.stderr.contains(&at), "{kw}: stderr does not name {at}:\n{}", r.stderr);
    }
}

#[test]
fn several_files_are_read_in_order_and_errors_name_their_file() {
    let [port, s1]: [u16; 2] = free_ports(2).try_into().unwrap();
    let common =
        "global\n    maxconn 100\n\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    \
                  timeout server 5s\n";
    let listen = format!("listen fe\n    bind 127.0.0.1:{port}\n    server web01 127.0.0.1:{s1}\n");
    let r = check_files(&[("00-common.cfg", common), ("10-listen.cfg", &listen)]);
    assert_valid("two files", r.code, &r.combined());

    let broken = format!("{listen}    frobnicate\n");
    let r = check_files(&[("00-common.cfg", common), ("10-listen.cfg", &broken)]);
    let second = r.file.with_file_name("10-listen.cfg");
    let at = format!("{}:4", second.display());
    assert!(r.code.is_some_and(|c| c != 0), "accepted:\n{}", r.combined());
    assert!(r.stderr.contains(&at), "stderr does not name {at}:\n{}", r.stderr);
}

#[test]
fn ssl_is_refused_not_ignored() {
    let port = free_port();
    let text = format!(
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
         listen fe\n    bind 127.0.0.1:{port} ssl crt /nonexistent/site.pem\n    server web01 127.0.0.1:{}\n",
        port + 1
    );
    let r = check(&text);
    assert!(r.code.is_some_and(|c| c != 0), "ssl silently accepted:\n{}", r.combined());
    assert!(r.stderr.contains(&r.at(8)), "stderr does not name {}:\n{}", r.at(8), r.stderr);
    assert!(r.stderr.contains("not supported"), "SPEC §4: 'ssl' is not supported yet; got:\n{}", r.stderr);
}

#[test]
fn conditional_blocks_skip_what_is_not_selected() {
    let port = free_port();
    let text = format!(
        r#"defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen fe
    bind 127.0.0.1:{port}
.if defined(NBPROXY_TEST_SURELY_UNDEFINED_VARIABLE)
    frobnicate this would be an error
.else
    balance roundrobin
.endif
.if streq(same,same)
    server web01 127.0.0.1:{s}
.endif
"#,
        s = port + 1
    );
    let r = check(&text);
    assert_valid(".if/.else/.endif", r.code, &r.combined());
}

#[test]
fn check_patterns_that_do_not_compile_fail_with_file_line() {
    let [port, s1, s2]: [u16; 3] = free_ports(3).try_into().unwrap();
    let cfg = |rstatus: &str, rstring: &str, rbinary: &str| {
        format!(
            "defaults\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
             frontend fe\n    mode http\n    bind 127.0.0.1:{port}\n    default_backend web\n\n\
             backend web\n    mode http\n    option httpchk GET /health\n    http-check expect rstatus {rstatus}\n    \
             server web01 127.0.0.1:{s1} check\n\n\
             backend redis\n    mode tcp\n    option tcp-check\n    tcp-check send PING\\r\\n\n    \
             tcp-check expect rstring {rstring}\n    tcp-check expect ! rbinary {rbinary}\n    \
             server r1 127.0.0.1:{s2} check\n"
        )
    };
    // Control: the same config with regexes that compile is valid.
    let good = check(&cfg("^(2|3)[0-9][0-9]$", "^\\+PONG", "^2D"));
    assert_valid("check regexes that compile", good.code, &good.combined());

    let text = cfg("^(2|3[0-9][0-9]$", "(\\d)\\1", "[Z-A]");
    let bad = check(&text);
    assert!(bad.code.is_some_and(|c| c != 0), "bad regexes accepted (exit {:?}):\n{}", bad.code, bad.combined());
    assert!(!bad.combined().contains("Configuration file is valid"), "says valid:\n{}", bad.combined());
    for (needle, pattern) in
        [("http-check expect", "^(2|3[0-9][0-9]$"), ("tcp-check expect rstring", "(\\d)\\1"), ("rbinary", "[Z-A]")]
    {
        let line = line_of(&text, needle);
        let alert = bad.stderr.lines().find(|l| l.contains(&bad.at(line))).unwrap_or_else(|| {
            panic!("stderr does not name {} ({needle}):\n{}", bad.at(line), bad.stderr);
        });
        assert!(alert.starts_with("[ALERT]"), "not an alert: {alert}");
        assert!(alert.contains(&format!("invalid regex '{pattern}'")), "{needle}: {alert}");
    }

    // `binary` takes a hex string: one that is not hex is refused the same way.
    let text = cfg("^2", "PONG", "^2D").replace("tcp-check expect rstring PONG", "tcp-check expect binary 2d4");
    let bad = check(&text);
    let line = line_of(&text, "expect binary");
    assert!(bad.code.is_some_and(|c| c != 0), "odd hex accepted:\n{}", bad.combined());
    assert!(bad.stderr.contains(&bad.at(line)) && bad.stderr.contains("'2d4'"), "{}", bad.stderr);
}

/// Names a fetch or a rule refers to are resolved when the config is compiled, as HAProxy does: a backend
/// nobody declares in `nbsrv()`, an unknown `use-service`, fail `-c` with the file and line.
#[test]
fn unresolvable_names_fail_with_file_line() {
    let port = free_port();
    let base = format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n"
    );
    let text = format!(
        "{base}    acl gone nbsrv(nope) lt 1\n    http-request deny if gone\nbackend be\n    server s 127.0.0.1:1\n"
    );
    let r = check(&text);
    let line = line_of(&text, "nbsrv(nope)");
    assert!(r.code.is_some_and(|c| c != 0), "unknown backend accepted:\n{}", r.combined());
    assert!(r.stderr.contains(&r.at(line)), "stderr does not name {}:\n{}", r.at(line), r.stderr);
    assert!(
        r.stderr.contains("unable to find backend 'nope' referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'fe'"),
        "not HAProxy's words:\n{}",
        r.stderr
    );

    let text = format!(
        "{base}    acl up nbsrv(be) ge 1\n    http-request deny unless up\nbackend be\n    server s 127.0.0.1:1\n"
    );
    let r = check(&text);
    assert_eq!(r.code, Some(0), "a known backend is fine:\n{}", r.combined());

    let text = format!("{base}    http-request use-service lua.hello\nbackend be\n    server s 127.0.0.1:1\n");
    let r = check(&text);
    assert!(r.code.is_some_and(|c| c != 0), "unknown service accepted:\n{}", r.combined());
    assert!(r.stderr.contains("unknown service 'lua.hello'"), "{}", r.stderr);
}
