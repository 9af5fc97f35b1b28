//! Statistics for the whole daemon (SPEC §6; HAPROXY-FACTS §4; issue 4): the stats page (auth, realm, one table
//! per proxy, `;csv`, admin POST), totals summed over `nbproc 4` workers whatever worker answers, HAProxy 2.6's CSV
//! header, the master's stats socket (every command, HAProxy's error texts, admin actions applied by every worker)
//! and the Prometheus exporter.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;
use support::http::*;
use support::*;

/// HAProxy 2.6's first 51 CSV columns, as HAPROXY-FACTS §4.2 gives them (verified against a 2.6 header).
const HAPROXY_FIRST_51: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,\
wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,\
rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,\
hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,";

/// HAProxy 2.6's columns 51–102 and the `-` separator (2.6 `stat_fields[]`), without module columns.
const HAPROXY_26_REST: &str = "comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,\
ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,\
agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,\
reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,\
safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,";

const AUTH_USER: &str = "proxy";
const AUTH_PASS: &str = "oldboy";

/// Generous bound for one request through the proxy.
const REQ_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/// Standard base64 (RFC 4648) with padding.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn auth_header() -> String {
    format!("Authorization: Basic {}", base64(format!("{AUTH_USER}:{AUTH_PASS}").as_bytes()))
}

/// Ports and backends of one running daemon (see [`cfg_text`]).
struct Setup {
    www: u16,
    stats: u16,
    stats_default: u16,
    prom: u16,
    sock: PathBuf,
    s1: HttpBackend,
    s2: HttpBackend,
    proxy: Proxy,
    _sockdir: TempDir,
}

/// `listen www` (traffic, roundrobin over s1/s2), `frontend stats` (page with auth and a realm), `frontend stats2`
/// (page with auth, default realm, `stats admin if TRUE`), `frontend prom` (Prometheus exporter), the admin socket.
/// `ports` = www, stats, stats2, prom.
fn cfg_text(nbproc: usize, sock: &Path, ports: &[u16], s1: u16, s2: u16) -> String {
    let (www, stats, stats_default, prom) = (ports[0], ports[1], ports[2], ports[3]);
    format!(
        r#"global
    nbproc {nbproc}
    maxconn 1024
    stats socket {sock} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen www
    bind 127.0.0.1:{www}
    balance roundrobin
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}

frontend stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /stats
    stats realm Nbproxy\ Stats
    stats auth {AUTH_USER}:{AUTH_PASS}

frontend stats2
    bind 127.0.0.1:{stats_default}
    stats enable
    stats uri /admin?stats
    stats auth {AUTH_USER}:{AUTH_PASS}
    stats admin if TRUE

frontend prom
    bind 127.0.0.1:{prom}
    http-request use-service prometheus-exporter if {{ path /metrics }}
"#,
        sock = sock.display(),
    )
}

/// Starts the backends and an `nbproc`-worker daemon with [`cfg_text`]; waits for every port, worker and the socket.
fn start(nbproc: usize) -> Setup {
    let ports = free_ports(4);
    let sockdir = TempDir::new("sock");
    let sock = sockdir.join("stats.sock");
    let s1 = HttpBackend::start("s1", Behavior::KeepAlive);
    let s2 = HttpBackend::start("s2", Behavior::KeepAlive);
    let mut proxy = Proxy::start(&cfg_text(nbproc, &sock, &ports, s1.port, s2.port));
    for p in &ports {
        proxy.wait_listening(*p);
    }
    proxy.wait_workers(nbproc, START_TIMEOUT);
    assert!(wait_until(START_TIMEOUT, || sock.exists()), "no stats socket at {}", sock.display());
    Setup {
        www: ports[0],
        stats: ports[1],
        stats_default: ports[2],
        prom: ports[3],
        sock,
        s1,
        s2,
        proxy,
        _sockdir: sockdir,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Clients

/// One request on a new connection (`Connection: close`); the parsed response or a panic naming `what`.
fn fetch(port: u16, path: &str, extra: &[&str], what: &str) -> Response {
    let mut headers: Vec<&str> = extra.to_vec();
    headers.push("Connection: close");
    let ex = raw_session(port, get_request(path, &headers).as_bytes(), REQ_TIMEOUT);
    ex.response().unwrap_or_else(|| panic!("{what}: GET {path} on :{port}: no complete response, got {:?}", ex.text()))
}

/// The CSV (`/stats;csv`) on a new connection, with credentials.
fn read_csv(s: &Setup) -> String {
    let r = fetch(s.stats, "/stats;csv", &[&auth_header()], "csv");
    assert_eq!(r.status, 200, "GET /stats;csv: {}", r.text());
    String::from_utf8(r.body).expect("CSV is UTF-8")
}

/// The CSV as rows of fields (header excluded, trailing empty field of the final `,` dropped), with the header's
/// column names.
struct Csv {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn parse(text: &str) -> Csv {
        let mut lines = text.lines();
        let header = lines.next().expect("CSV has a header line");
        let columns = fields(header.strip_prefix("# ").expect("header starts with '# '"));
        let rows = lines.filter(|l| !l.is_empty()).map(fields).collect();
        Csv { columns, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    fn row(&self, px: &str, sv: &str) -> &Vec<String> {
        self.rows
            .iter()
            .find(|r| r.first().map(String::as_str) == Some(px) && r.get(1).map(String::as_str) == Some(sv))
            .unwrap_or_else(|| panic!("no CSV row {px},{sv}"))
    }

    fn get(&self, px: &str, sv: &str, col: &str) -> String {
        self.row(px, sv)[self.col(col)].clone()
    }

    fn num(&self, px: &str, sv: &str, col: &str) -> u64 {
        let v = self.get(px, sv, col);
        v.parse().unwrap_or_else(|_| panic!("{px}/{sv} {col} = {v:?} is not a number"))
    }
}

/// A CSV line split on `,`, without the empty field after the trailing `,`.
fn fields(line: &str) -> Vec<String> {
    let line = line.strip_suffix(',').unwrap_or(line);
    line.split(',').map(str::to_string).collect()
}

/// What [`traffic_bytes`] did: X-Server → count, bytes sent, bytes received.
struct Traffic {
    servers: HashMap<String, usize>,
    sent: u64,
    received: u64,
}

/// `n` requests to `port`, each on a new connection, from `threads` threads; panics on any failure.
fn traffic_bytes(port: u16, n: usize, threads: usize) -> Traffic {
    let per = n / threads;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let count = if t == threads - 1 { n - per * (threads - 1) } else { per };
            thread::spawn(move || {
                let mut tr = Traffic { servers: HashMap::new(), sent: 0, received: 0 };
                for i in 0..count {
                    let req = get_request(&format!("/t{t}/{i}"), &["Connection: close"]);
                    let ex = raw_session(port, req.as_bytes(), REQ_TIMEOUT);
                    let r = ex.response().unwrap_or_else(|| panic!("request {t}/{i}: no response: {:?}", ex.text()));
                    assert_eq!(r.status, 200, "request {t}/{i}: {}", r.text());
                    let srv = r.header("x-server").unwrap_or("?").to_string();
                    *tr.servers.entry(srv).or_default() += 1;
                    tr.sent += req.len() as u64;
                    tr.received += ex.bytes.len() as u64;
                }
                tr
            })
        })
        .collect();
    let mut all = Traffic { servers: HashMap::new(), sent: 0, received: 0 };
    for h in handles {
        let tr = h.join().expect("traffic thread panicked");
        for (k, v) in tr.servers {
            *all.servers.entry(k).or_default() += v;
        }
        all.sent += tr.sent;
        all.received += tr.received;
    }
    all
}

/// [`traffic_bytes`]' X-Server → count.
fn traffic(port: u16, n: usize, threads: usize) -> HashMap<String, usize> {
    traffic_bytes(port, n, threads).servers
}

fn cli(sock: &Path, cmd: &str) -> String {
    stats_cli(sock, cmd)
}

/// The `(name, tds)` cells of the stats page's `<tr>` whose anchor is `anchor` (e.g. `www/Frontend`), tags removed.
fn html_row_cells(html: &str, anchor: &str) -> Vec<String> {
    let at = html.find(&format!("name=\"{anchor}\"")).unwrap_or_else(|| panic!("no row {anchor} in the page"));
    let start = html[..at].rfind("<tr").expect("row start");
    let end = at + html[at..].find("</tr>").expect("row end");
    let row = &html[start..end];
    row.split("<td")
        .skip(1)
        .map(|c| {
            let c = &c[c.find('>').map_or(0, |i| i + 1)..];
            let c = c.split("</td>").next().unwrap_or("");
            let mut text = String::new();
            let mut in_tag = false;
            for ch in c.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    _ if !in_tag => text.push(ch),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

/// Names in the page's `<th class="pxname">` table headers, in order.
fn page_tables(html: &str) -> Vec<String> {
    html.split("<th class=\"pxname\"")
        .skip(1)
        .filter_map(|h| {
            let h = h.split("</th>").next()?;
            let a = h.find("<a class=px href=\"#")?;
            let rest = &h[a..];
            let name = &rest[rest.find('>')? + 1..];
            Some(name[..name.find("</a>")?].to_string())
        })
        .collect()
}

/// The status line and headers of `r` (the stats page is too long for a failure message).
fn head_of(r: &Response) -> String {
    let t = String::from_utf8_lossy(&r.raw).into_owned();
    t.split("\r\n\r\n").next().unwrap_or("").to_string()
}

const PROXIES: [&str; 4] = ["www", "stats", "stats2", "prom"];

// ---------------------------------------------------------------------------------------------------------------
// The page

#[test]
fn page_401_with_realm_then_200_with_one_table_per_proxy() {
    let s = start(2);

    // No credentials: 401 with the configured realm.
    let r = fetch(s.stats, "/stats", &[], "no auth");
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"Nbproxy Stats\""), "{}", r.text());
    assert!(r.text().contains("401 Unauthorized"), "{}", r.text());

    // Default realm (no `stats realm`).
    let r = fetch(s.stats_default, "/admin?stats", &[], "default realm");
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"HAProxy Statistics\""), "{}", r.text());

    // Wrong password: still 401.
    let bad = format!("Authorization: Basic {}", base64(b"proxy:wrong"));
    let r = fetch(s.stats, "/stats", &[&bad], "bad auth");
    assert_eq!(r.status, 401, "{}", r.text());

    // Credentials: 200, HTML, one table per proxy.
    for (port, uri) in [(s.stats, "/stats"), (s.stats, "/stats;norefresh"), (s.stats_default, "/admin?stats")] {
        let r = fetch(port, uri, &[&auth_header()], "auth");
        assert_eq!(r.status, 200, "GET {uri}: {}", r.text());
        let ct = r.header("content-type").unwrap_or("");
        assert!(ct.starts_with("text/html"), "GET {uri}: content-type {ct:?}");
        let html = r.text();
        let tables = page_tables(&html);
        for px in PROXIES {
            assert!(tables.iter().any(|t| t == px), "GET {uri}: no table for {px}; tables: {tables:?}");
        }
        for srv in ["www/s1", "www/s2", "www/Frontend", "www/Backend", "stats/Frontend", "prom/Frontend"] {
            assert!(html.contains(&format!("name=\"{srv}\"")), "GET {uri}: no row {srv}");
        }
    }
}

#[test]
fn nbproc4_frontend_stot_is_400_on_ten_reads_in_a_row() {
    let s = start(4);
    let counts = traffic(s.www, 400, 4);
    assert_eq!(counts.values().sum::<usize>(), 400, "{counts:?}");

    let mut seen = Vec::new();
    for i in 0..10 {
        let csv = Csv::parse(&read_csv(&s));
        let stot = csv.num("www", "FRONTEND", "stot");
        let req_tot = csv.num("www", "FRONTEND", "req_tot");
        let be_stot = csv.num("www", "BACKEND", "stot");
        let srv_sum = csv.num("www", "s1", "stot") + csv.num("www", "s2", "stot");
        seen.push((stot, req_tot, be_stot, srv_sum));
        assert_eq!(
            (stot, req_tot, be_stot, srv_sum),
            (400, 400, 400, 400),
            "read #{i}: www FRONTEND stot, req_tot, BACKEND stot, s1+s2 stot; reads so far {seen:?}"
        );
    }

    // The HTML page shows the same total in the frontend row (Sessions / Total is the 10th cell, as HAProxy's).
    for i in 0..4 {
        let r = fetch(s.stats, "/stats;norefresh", &[&auth_header()], "page");
        assert_eq!(r.status, 200);
        let cells = html_row_cells(&r.text(), "www/Frontend");
        assert_eq!(cells.get(9).map(String::as_str), Some("400"), "page read #{i}: www Frontend cells {cells:?}");
    }
}

#[test]
fn nbproc4_frontend_bytes_are_what_the_clients_sent_and_received() {
    let s = start(4);
    let tr = traffic_bytes(s.www, 40, 4);
    // Bytes: the frontend's `bin`/`bout` are what the clients sent and received (HAProxy counts every byte of the
    // connection, request and response heads included).
    let csv = Csv::parse(&read_csv(&s));
    assert_eq!(csv.num("www", "FRONTEND", "bout"), tr.received, "www FRONTEND bout = bytes the clients received");
    assert_eq!(csv.num("www", "FRONTEND", "bin"), tr.sent, "www FRONTEND bin = bytes the clients sent");
}

#[test]
fn csv_header_is_haproxy_26_and_rows_have_every_column() {
    let s = start(2);
    let _ = traffic(s.www, 10, 2);
    let csv = read_csv(&s);
    let header = csv.lines().next().expect("header");
    assert_eq!(format!("{header}\n"), nbproxy::stats::csv::HEADER, "header differs from src/stats/csv.rs HEADER");
    assert!(header.starts_with(HAPROXY_FIRST_51), "first 51 columns differ from HAProxy's:\n{header}");
    assert!(
        header.starts_with(&format!("{HAPROXY_FIRST_51}{HAPROXY_26_REST}")),
        "columns 51..103 differ from HAProxy 2.6's:\n{header}"
    );
    let n = fields(header).len();
    assert!(csv.ends_with('\n'), "CSV ends with a newline");
    for (i, line) in csv.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        assert!(line.ends_with(','), "line {i} lacks the trailing ',': {line}");
        assert_eq!(fields(line).len(), n, "line {i} has {} fields, header {n}: {line}", fields(line).len());
    }
    let parsed = Csv::parse(&csv);
    let got: Vec<(String, String)> = parsed.rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let want: Vec<(String, String)> = [
        ("www", "FRONTEND"),
        ("www", "s1"),
        ("www", "s2"),
        ("www", "BACKEND"),
        ("stats", "FRONTEND"),
        ("stats2", "FRONTEND"),
        ("prom", "FRONTEND"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want, "rows in config order: FRONTEND, servers, BACKEND");
    // type: 0 frontend, 1 backend, 2 server; pid 1-based.
    assert_eq!(parsed.get("www", "FRONTEND", "type"), "0");
    assert_eq!(parsed.get("www", "BACKEND", "type"), "1");
    assert_eq!(parsed.get("www", "s1", "type"), "2");
    assert_eq!(parsed.get("www", "FRONTEND", "pid"), "1");
    assert_eq!(parsed.get("www", "FRONTEND", "status"), "OPEN");
    assert_eq!(parsed.get("www", "s1", "status"), "no check");
    assert_eq!(parsed.num("www", "FRONTEND", "stot"), 10);
    assert_eq!(parsed.num("www", "FRONTEND", "hrsp_2xx"), 10);
}

// ---------------------------------------------------------------------------------------------------------------
// The socket

#[test]
fn socket_answers_every_command() {
    let s = start(4);
    let _ = traffic(s.www, 20, 2);

    let help = cli(&s.sock, "help");
    assert!(help.starts_with("The following commands are valid at this level:\n"), "help:\n{help}");
    for c in ["clear counters", "disable server", "enable server", "get weight", "set server", "set weight"] {
        assert!(help.contains(c), "help lacks {c}:\n{help}");
    }
    for c in ["show errors", "show info", "show servers state", "show sess", "show stat"] {
        assert!(help.contains(c), "help lacks {c}:\n{help}");
    }
    assert!(help.ends_with("\n\n"), "every answer ends with an empty line: {help:?}");

    let unknown = cli(&s.sock, "frobnicate");
    assert!(
        unknown.starts_with("Unknown command, but maybe one of the following ones is a better match:"),
        "unknown command:\n{unknown}"
    );

    let info = cli(&s.sock, "show info");
    let kv: HashMap<&str, &str> = info.lines().filter_map(|l| l.split_once(": ")).collect();
    assert!(kv.get("Name").is_some_and(|v| !v.is_empty()), "show info Name:\n{info}");
    assert_eq!(kv.get("Nbproc").copied(), Some("4"), "show info Nbproc:\n{info}");
    let pid: i32 = kv.get("Pid").and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("show info Pid:\n{info}"));
    assert!(pid > 0, "Pid {pid}");
    assert!(kv.contains_key("Version") && kv.contains_key("Uptime_sec"), "show info:\n{info}");
    assert!(info.ends_with("\n\n"), "{info:?}");

    let stat = cli(&s.sock, "show stat");
    assert_eq!(stat.lines().next().map(|l| format!("{l}\n")).as_deref(), Some(nbproxy::stats::csv::HEADER));
    let csv = Csv::parse(&stat);
    assert_eq!(csv.num("www", "FRONTEND", "stot"), 20, "show stat:\n{stat}");
    assert!(stat.ends_with("\n\n"), "{stat:?}");

    let state = cli(&s.sock, "show servers state");
    let mut lines = state.lines();
    assert_eq!(lines.next(), Some("1"), "show servers state:\n{state}");
    let head = lines.next().unwrap_or("");
    assert!(head.starts_with("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state"), "{state}");
    let ncols = head.split_whitespace().count() - 1;
    let rows: Vec<Vec<&str>> = lines.filter(|l| !l.is_empty()).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 2, "one line per server:\n{state}");
    for r in &rows {
        assert_eq!(r.len(), ncols, "{r:?} vs header {head}");
        assert_eq!(r[1], "www");
        assert_eq!(r[4], "127.0.0.1");
        assert_eq!(r[5], "2", "srv_op_state 2 = running: {r:?}");
        assert_eq!(r[6], "0", "srv_admin_state 0: {r:?}");
    }
    assert_eq!((rows[0][3], rows[1][3]), ("s1", "s2"));
    assert_eq!(rows[0][18], s.s1.port.to_string(), "srv_port: {:?}", rows[0]);
    let one = cli(&s.sock, "show servers state www");
    assert_eq!(one, state, "show servers state www = all (one backend)");
    assert_eq!(cli(&s.sock, "show servers state nope"), "Can't find backend.\n\n");

    let errors = cli(&s.sock, "show errors");
    assert!(errors.starts_with("Total events captured on ["), "show errors:\n{errors}");
    assert!(errors.lines().next().unwrap_or("").ends_with("] : 0"), "show errors:\n{errors}");
    assert!(errors.ends_with("\n\n"), "{errors:?}");

    let sess = cli(&s.sock, "show sess");
    assert!(sess.ends_with('\n') && !sess.contains("Unknown command"), "show sess: {sess:?}");

    assert_eq!(cli(&s.sock, "get weight www/s1"), "1 (initial 1)\n\n");
    assert_eq!(cli(&s.sock, "set weight www/s1 0"), "\n");
    assert_eq!(cli(&s.sock, "get weight www/s1"), "0 (initial 1)\n\n");
    assert_eq!(cli(&s.sock, "set weight www/s1 1"), "\n");
    assert_eq!(cli(&s.sock, "get weight www/s1"), "1 (initial 1)\n\n");

    assert_eq!(cli(&s.sock, "set server www/s1 state drain"), "\n");
    let csv = Csv::parse(&cli(&s.sock, "show stat"));
    assert_eq!(csv.get("www", "s1", "status"), "DRAIN");
    let st = cli(&s.sock, "show servers state");
    assert!(st.lines().any(|l| l.starts_with("1 www 1 s1 127.0.0.1 2 8 ")), "drain = admin state 8:\n{st}");
    assert_eq!(cli(&s.sock, "set server www/s1 state maint"), "\n");
    assert_eq!(Csv::parse(&cli(&s.sock, "show stat")).get("www", "s1", "status"), "MAINT");
    assert_eq!(cli(&s.sock, "set server www/s1 state ready"), "\n");
    assert_eq!(Csv::parse(&cli(&s.sock, "show stat")).get("www", "s1", "status"), "no check");
    assert_eq!(cli(&s.sock, "disable server www/s2"), "\n");
    assert_eq!(Csv::parse(&cli(&s.sock, "show stat")).get("www", "s2", "status"), "MAINT");
    assert_eq!(cli(&s.sock, "enable server www/s2"), "\n");
    assert_eq!(Csv::parse(&cli(&s.sock, "show stat")).get("www", "s2", "status"), "no check");

    // HAProxy 2.6's error texts (cli_find_server / get_backend_server).
    for cmd in ["disable server www/nope", "enable server www/nope", "get weight www/nope", "set weight www/nope 1"] {
        assert_eq!(cli(&s.sock, cmd), "No such server.\n\n", "{cmd}");
    }
    assert_eq!(cli(&s.sock, "set server www/nope state ready"), "No such server.\n\n");
    for cmd in ["disable server nope/x", "enable server nope/x", "get weight nope/x", "set server nope/x state ready"] {
        assert_eq!(cli(&s.sock, cmd), "No such backend.\n\n", "{cmd}");
    }
    assert_eq!(cli(&s.sock, "disable server www"), "Require 'backend/server'.\n\n");

    // clear counters: max values only; clear counters all: everything.
    assert_eq!(cli(&s.sock, "clear counters"), "\n");
    let csv = Csv::parse(&cli(&s.sock, "show stat"));
    assert_eq!(csv.num("www", "FRONTEND", "stot"), 20, "`clear counters` keeps totals");
    assert_eq!(csv.num("www", "FRONTEND", "smax"), 0, "`clear counters` resets max values");
    assert_eq!(cli(&s.sock, "clear counters all"), "\n");
    let csv = Csv::parse(&cli(&s.sock, "show stat"));
    assert_eq!(csv.num("www", "FRONTEND", "stot"), 0, "`clear counters all` resets totals");
    assert_eq!(csv.num("www", "s1", "stot"), 0);
    let _ = traffic(s.www, 6, 2);
    assert_eq!(Csv::parse(&cli(&s.sock, "show stat")).num("www", "FRONTEND", "stot"), 6, "counting resumes");
    // `;` separates commands on one line.
    let two = cli(&s.sock, "get weight www/s1; get weight www/s2");
    assert_eq!(two, "1 (initial 1)\n\n1 (initial 1)\n\n");
}

/// `show errors` over `nbproc 2`: a malformed request refused by `frontend web` and a malformed response refused
/// by `backend app`, whichever worker saw them, are reported by the master's socket as HAProxy 2.6 prints them.
#[test]
fn show_errors_reports_invalid_requests_and_responses_from_any_worker() {
    let ports = free_ports(1);
    let sockdir = TempDir::new("sock");
    let sock = sockdir.join("stats.sock");
    let bad = HttpBackend::start("bad", Behavior::Malformed);
    let cfg = format!(
        "global
    nbproc 2
    stats socket {sock} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend web
    bind 127.0.0.1:{web}
    default_backend app

backend app
    server bad 127.0.0.1:{bad}
",
        sock = sock.display(),
        web = ports[0],
        bad = bad.port,
    );
    let mut proxy = Proxy::start(&cfg);
    proxy.wait_listening(ports[0]);
    proxy.wait_workers(2, START_TIMEOUT);
    assert!(wait_until(START_TIMEOUT, || sock.exists()), "no stats socket at {}", sock.display());

    let none = cli(&sock, "show errors");
    assert!(none.starts_with("Total events captured on [") && none.ends_with("] : 0\n\n"), "{none:?}");

    // Bad request lines on six connections (the workers share the listener, so each may take any of them, and
    // both take some as a rule); the last one is the frontend's last error, whichever worker refused it.
    let mut src_port = 0;
    for i in 0..6 {
        let mut c = HttpConn::open(ports[0]).expect("connect");
        c.send(format!("GET /r{i} x HTTP/1.1\r\nHost: a\tb\r\n\r\n").as_bytes()).expect("send");
        let r = c.read_response().expect("a response");
        assert_eq!(r.status, 400, "request {i}: {r:?}");
        src_port = c.local_port();
        thread::sleep(Duration::from_millis(20));
    }
    let out = cli(&sock, "show errors");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("Total events captured on [") && lines[0].ends_with("] : 6"), "{out}");
    assert_eq!(lines[1], " ", "{out}");
    assert!(lines[2].starts_with('[') && lines[2].ends_with("] frontend web (#1): invalid request"), "{out}");
    assert_eq!(lines[3], format!("  backend <NONE> (#-1), server <NONE> (#-1), event #5, src 127.0.0.1:{src_port}"));
    assert_eq!(lines[4], "  buffer starts at 0 (including 0 out), 16351 free,", "{out}");
    assert_eq!(lines[5], "  len 33, wraps at 16384, error at position 8", "{out}");
    assert!(lines[6].starts_with("  reason: "), "{out}");
    assert_eq!(lines[7], "  ", "{out}");
    assert_eq!(lines[8], "  00000  GET /r5 x HTTP/1.1\\r\\n", "the offending bytes: {out}");
    assert_eq!(lines[9], "  00020  Host: a\\tb\\r\\n", "{out}");
    assert_eq!(lines[10], "  00031  \\r\\n", "{out}");
    assert_eq!(lines[11..], [""], "{out}");
    assert!(out.ends_with("\n\n"), "every answer ends with an empty line: {out:?}");

    // A response the backend's server botched: 502 to the client, captured on the backend's side.
    let mut c = HttpConn::open(ports[0]).expect("connect");
    let r = c.get("/bad-response", &[]).expect("a response");
    assert_eq!(r.status, 502, "{r:?}");
    let client_port = c.local_port();
    let out = cli(&sock, "show errors");
    assert!(out.lines().next().is_some_and(|l| l.ends_with("] : 7")), "{out}");
    let at = out.find("] backend app (#2): invalid response\n").unwrap_or_else(|| panic!("no response capture: {out}"));
    let resp = &out[at..];
    assert!(
        resp.contains(&format!("\n  frontend web (#1), server bad (#1), event #6, src 127.0.0.1:{client_port}\n")),
        "{out}"
    );
    assert!(resp.contains("\n  len 35, wraps at 16384, error at position 9\n"), "{out}");
    assert!(resp.contains("\n  00000  HTTP/1.1 abc\\r\\n\n  00014  Content-Length: 0\\r\\n\n"), "{out}");
    assert!(out.find("frontend web (#1): invalid request").is_some_and(|r| r < at), "requests first: {out}");

    // Filters: by proxy (a frontend also sees the responses it was the other end of) and by direction.
    let only_req = cli(&sock, "show errors web request");
    assert!(only_req.contains("invalid request") && !only_req.contains("invalid response"), "{only_req}");
    let only_resp = cli(&sock, "show errors app");
    assert!(only_resp.contains("invalid response") && !only_resp.contains("invalid request"), "{only_resp}");
    let by_id = cli(&sock, "show errors 1 response");
    assert!(by_id.contains("invalid response") && !by_id.contains("invalid request"), "{by_id}");
    assert_eq!(cli(&sock, "show errors nope"), "No such proxy.\n\n");
    // The refused messages are counted as errors too: `ereq` of the frontend, `eresp` of the backend and server.
    let csv = Csv::parse(&cli(&sock, "show stat"));
    assert_eq!(csv.num("web", "FRONTEND", "ereq"), 6);
    assert_eq!(csv.num("app", "BACKEND", "eresp"), 1);
    assert_eq!(csv.num("app", "bad", "eresp"), 1);
    drop(proxy);
}

fn only_s2(counts: &HashMap<String, usize>, n: usize, after: &str) {
    assert_eq!(count(counts, "s1"), 0, "after `{after}`: some requests still reached s1: {counts:?}");
    assert_eq!(count(counts, "s2"), n, "after `{after}`: {counts:?}");
}

#[test]
fn socket_admin_changes_routing_in_every_worker() {
    let s = start(4);
    let workers: HashSet<i32> = s.proxy.workers().into_iter().collect();
    assert_eq!(workers.len(), 4, "workers {workers:?}");

    let before = traffic(s.www, 40, 4);
    assert!(count(&before, "s1") > 0 && count(&before, "s2") > 0, "both servers used: {before:?}");

    assert_eq!(cli(&s.sock, "set weight www/s1 0"), "\n");
    only_s2(&traffic(s.www, 40, 4), 40, "set weight www/s1 0");
    assert_eq!(cli(&s.sock, "set weight www/s1 1"), "\n");
    let back = traffic(s.www, 40, 4);
    assert!(count(&back, "s1") > 0, "after `set weight www/s1 1`: s1 unused: {back:?}");

    assert_eq!(cli(&s.sock, "disable server www/s1"), "\n");
    only_s2(&traffic(s.www, 40, 4), 40, "disable server www/s1");
    assert_eq!(cli(&s.sock, "enable server www/s1"), "\n");
    let back = traffic(s.www, 40, 4);
    assert!(count(&back, "s1") > 0, "after `enable server www/s1`: s1 unused: {back:?}");

    assert_eq!(cli(&s.sock, "set server www/s1 state drain"), "\n");
    only_s2(&traffic(s.www, 40, 4), 40, "set server www/s1 state drain");
    assert_eq!(cli(&s.sock, "set server www/s1 state ready"), "\n");
    let back = traffic(s.www, 40, 4);
    assert!(count(&back, "s1") > 0, "after `set server www/s1 state ready`: s1 unused: {back:?}");
    // The backends saw exactly the requests the clients got answers from.
    assert_eq!(s.s1.requests().len() + s.s2.requests().len(), 280);
}

// ---------------------------------------------------------------------------------------------------------------
// The page's admin form

#[test]
fn page_admin_post_changes_routing_in_every_worker() {
    let s = start(4);
    let page = fetch(s.stats_default, "/admin?stats", &[&auth_header()], "admin page");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("<form method=\"post\">"), "stats admin: the page has a form");
    assert!(html.contains("name=\"s\" value=\"s1\""), "checkbox for s1");

    let post = |body: &str| -> Response {
        let req = format!(
            "POST /admin?stats HTTP/1.1\r\nHost: test.local\r\n{}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            auth_header(),
            body.len()
        );
        let ex = raw_session(s.stats_default, req.as_bytes(), REQ_TIMEOUT);
        ex.response().unwrap_or_else(|| panic!("POST {body}: no response: {:?}", ex.text()))
    };

    let r = post("s=s1&action=maint&b=www");
    let status = Csv::parse(&cli(&s.sock, "show stat")).get("www", "s1", "status");
    assert_eq!(status, "MAINT", "after POST s=s1&action=maint&b=www (answered {} {})", r.status, r.reason);
    assert_eq!(r.status, 303, "2.x answers the admin POST with 303: {}", head_of(&r));
    assert_eq!(r.header("location"), Some("/admin?stats;st=DONE"), "{}", head_of(&r));
    only_s2(&traffic(s.www, 40, 4), 40, "POST action=maint s1");

    let r = post("s=s1&action=ready&b=www");
    assert_eq!(r.status, 303, "{}", head_of(&r));
    let back = traffic(s.www, 40, 4);
    assert!(count(&back, "s1") > 0, "after POST action=ready: s1 unused: {back:?}");

    let r = post("s=nope&action=maint&b=www");
    assert_eq!(r.header("location"), Some("/admin?stats;st=ERRP"), "{}", head_of(&r));
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus

/// Label pairs of a sample, as written.
type Labels = Vec<(String, String)>;

/// A sample line `name{labels} value [timestamp]`: (name, labels, value).
fn parse_sample(line: &str) -> Option<(String, Labels, f64)> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    if name.is_empty()
        || !name
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
    {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        let mut r = r;
        loop {
            r = r.trim_start_matches(',');
            if let Some(after) = r.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = r.find('=')?;
            let key = &r[..eq];
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            let v = r[eq + 1..].strip_prefix('"')?;
            let mut value = String::new();
            let mut chars = v.char_indices();
            let end = loop {
                let (i, c) = chars.next()?;
                match c {
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        _ => return None,
                    },
                    '"' => break i,
                    c => value.push(c),
                }
            };
            labels.push((key.to_string(), value));
            r = &v[end + 1..];
            if !(r.starts_with(',') || r.starts_with('}')) {
                return None;
            }
        }
    }
    let mut parts = rest.strip_prefix(' ')?.split(' ');
    let v = parts.next()?;
    let value = match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    if let Some(ts) = parts.next() {
        ts.parse::<i64>().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some((name.to_string(), labels, value))
}

#[test]
fn prometheus_parses_and_totals_equal_csv() {
    let s = start(4);
    let _ = traffic(s.www, 37, 3);
    let r = fetch(s.prom, "/metrics", &[], "metrics");
    assert_eq!(r.status, 200, "{}", r.text());
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("text/plain"), "content-type {ct:?}");
    let text = r.text();
    let csv = Csv::parse(&read_csv(&s));

    let mut typed: HashMap<String, String> = HashMap::new();
    let mut helped: HashSet<String> = HashSet::new();
    let mut samples: HashMap<(String, Labels), f64> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or("");
            assert!(helped.insert(name.to_string()), "line {i}: second HELP for {name}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, ty) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&ty),
                "line {i}: bad TYPE {line:?}"
            );
            assert!(typed.insert(name.to_string(), ty.to_string()).is_none(), "line {i}: second TYPE for {name}");
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, mut labels, value) =
            parse_sample(line).unwrap_or_else(|| panic!("line {i} is not a sample: {line:?}"));
        assert!(typed.contains_key(&name), "line {i}: sample of {name} before its TYPE line");
        assert!(helped.contains(&name), "line {i}: sample of {name} before its HELP line");
        labels.sort();
        assert!(samples.insert((name.clone(), labels), value).is_none(), "line {i}: duplicate sample {line:?}");
    }
    assert!(samples.len() > 20, "only {} samples", samples.len());

    let get = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let mut l: Labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        l.sort();
        *samples.get(&(name.to_string(), l)).unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
    };
    let fe = [("proxy", "www")];
    assert_eq!(get("haproxy_frontend_http_requests_total", &fe), csv.num("www", "FRONTEND", "req_tot") as f64);
    assert_eq!(get("haproxy_frontend_sessions_total", &fe), csv.num("www", "FRONTEND", "stot") as f64);
    assert_eq!(get("haproxy_frontend_bytes_in_total", &fe), csv.num("www", "FRONTEND", "bin") as f64);
    assert_eq!(get("haproxy_frontend_bytes_out_total", &fe), csv.num("www", "FRONTEND", "bout") as f64);
    assert_eq!(get("haproxy_backend_sessions_total", &fe), csv.num("www", "BACKEND", "stot") as f64);
    for sv in ["s1", "s2"] {
        let l = [("proxy", "www"), ("server", sv)];
        assert_eq!(get("haproxy_server_sessions_total", &l), csv.num("www", sv, "stot") as f64, "{sv}");
    }
    assert_eq!(csv.num("www", "FRONTEND", "stot"), 37);
    assert_eq!(get("haproxy_frontend_sessions_total", &fe), 37.0);
}

/// `show sess` on the socket asks every worker: with `nbproc 4`, three idle keep-alive clients are listed with
/// their source ports and frontend, and one session can be shown by its id.
#[test]
fn show_sess_lists_the_sessions_of_every_worker() {
    let s = start(4);
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut c = HttpConn::open(s.www).expect("connect");
        assert_eq!(c.get("/", &[]).expect("response").status, 200);
        clients.push(c); // kept open, idle between requests
    }
    let out = cli(&s.sock, "show sess");
    assert!(out.ends_with("\n\n"), "{out:?}");
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    for c in &clients {
        let src = format!(" src=127.0.0.1:{} fe=www be=www ", c.local_port());
        let line = lines.iter().find(|l| l.contains(&src)).unwrap_or_else(|| panic!("no session with {src}: {out}"));
        assert!(line.starts_with("0x") && line.contains(": proto=tcpv4 ") && line.contains(" age="), "{line}");
    }
    let first = lines[0];
    let id = first.split(':').next().unwrap_or_default();
    let one = cli(&s.sock, &format!("show sess {id}"));
    assert_eq!(one, format!("{first}\n\n"));
    assert_eq!(cli(&s.sock, "show sess 0xdead"), "Session not found.\n\n");
    drop(clients);
}

// ---------------------------------------------------------------------------------------------------------------
// Limits

#[test]
fn limits_without_maxconn_are_what_the_workers_enforce() {
    // No global and no frontend maxconn: the socket (master) and the page (a worker) report the one default limit
    // every worker enforces, for the process (`Maxconn`) and, as HAProxy 2.x, for the frontend (`slim`).
    let [www, stats]: [u16; 2] = free_ports(2).try_into().unwrap();
    let sockdir = TempDir::new("sock");
    let sock = sockdir.join("stats.sock");
    let s1 = HttpBackend::start("s1", Behavior::KeepAlive);
    let mut proxy = Proxy::start(&format!(
        "global\n    nbproc 2\n    stats socket {}\n\ndefaults\n    mode http\n    timeout connect 2s\n    \
         timeout client 10s\n    timeout server 10s\n\nlisten www\n    bind 127.0.0.1:{www}\n    server s1 127.0.0.1:{}\n\n\
         frontend stats\n    bind 127.0.0.1:{stats}\n    maxconn 77\n    stats enable\n    stats uri /stats\n",
        sock.display(),
        s1.port
    ));
    proxy.wait_listening(www);
    proxy.wait_listening(stats);
    proxy.wait_workers(2, START_TIMEOUT);
    assert!(wait_until(START_TIMEOUT, || sock.exists()), "no stats socket at {}", sock.display());
    let enforced = nbproxy::config::model::Global::DEFAULT_MAXCONN;
    let want = enforced.to_string();

    let info = cli(&sock, "show info");
    let kv: HashMap<&str, &str> = info.lines().filter_map(|l| l.split_once(": ")).collect();
    assert_eq!(kv.get("Maxconn").copied(), Some(want.as_str()), "show info:\n{info}");
    assert_eq!(kv.get("Hard_maxconn").copied(), Some(want.as_str()), "show info:\n{info}");
    let from_socket = Csv::parse(&cli(&sock, "show stat"));
    let r = fetch(stats, "/stats;csv", &[], "csv");
    assert_eq!(r.status, 200, "GET /stats;csv: {}", r.text());
    let from_page = Csv::parse(&String::from_utf8(r.body).expect("CSV is UTF-8"));
    for (what, csv) in [("socket", &from_socket), ("page", &from_page)] {
        assert_eq!(csv.get("www", "FRONTEND", "slim"), want, "{what}: a frontend without maxconn");
        assert_eq!(csv.num("www", "BACKEND", "slim"), u64::from(enforced.div_ceil(10)), "{what}: default fullconn");
        assert_eq!(csv.num("stats", "FRONTEND", "slim"), 77, "{what}: its own maxconn");
    }
    let page = fetch(stats, "/stats", &[], "page");
    assert!(page.text().contains(&format!("<b>maxconn = </b> {want};")), "page:\n{}", page.text());
    drop(proxy);
}
