//! Output tests: CSV, HTML page and admin POSTs, the CLI, the Prometheus exposition.
//! (Compiled only under `#[cfg(test)]`.)

use super::*;

// ---------------------------------------------------------------- csv

#[test]
fn csv_header_is_haproxy_26_exactly() {
    assert_eq!(csv::HEADER, HAPROXY_26_HEADER);
    assert_eq!(csv::COLUMNS.len() + 1, HAPROXY_26_HEADER.trim_end().trim_end_matches(',').split(',').count());
    assert_eq!(csv::COLUMNS[csv::MAIN_COLUMNS].0, "ssl_sess");
}

#[test]
fn csv_rows_are_complete_and_ordered() {
    let (cfg, seg) = setup();
    let c = seg.writer(0);
    c.frontend(0).expect("fe").sess_open(NOW);
    c.server(1, 0).expect("s").set_state(OpState::Up, 4, NOW);
    c.server(1, 0).expect("s").check_done(CheckStatus::L7Ok, 200, 2, false);
    let out = csv::render(&snap(&cfg, &seg), &StatFilter::default());
    let lines: Vec<&str> = out.lines().collect();
    let ncols = HAPROXY_26_HEADER.trim_end().split(',').count();
    assert_eq!(lines.len(), 1 + 1 + 5 + 1 + 1 + 1);
    for l in &lines {
        assert!(l.ends_with(','), "{l}");
        assert_eq!(l.split(',').count(), ncols, "{l}");
    }
    let names: Vec<String> = lines[1..].iter().map(|l| l.split(',').take(2).collect::<Vec<_>>().join("/")).collect();
    assert_eq!(
        names,
        ["fe1/FRONTEND", "be1/s1", "be1/s2", "be1/s3", "be1/s4", "be1/BACKEND", "st/FRONTEND", "st/t1", "st/BACKEND"]
    );
    let rows = csv::rows(&snap(&cfg, &seg), &StatFilter::default());
    let g = |i: usize, n: &str| rows[i].get(n).unwrap_or("?").to_string();
    assert_eq!((g(0, "type"), g(1, "type"), g(5, "type")), ("0".into(), "2".into(), "1".into()));
    assert_eq!((g(0, "pid"), g(0, "iid"), g(0, "sid")), ("1".into(), "1".into(), "0".into()));
    assert_eq!(
        (g(0, "status"), g(0, "scur"), g(0, "stot"), g(0, "slim")),
        ("OPEN".into(), "1".into(), "1".into(), "1000".into())
    );
    assert_eq!((g(1, "status"), g(1, "check_status"), g(1, "check_code")), ("UP".into(), "L7OK".into(), "200".into()));
    assert_eq!((g(1, "check_desc"), g(1, "addr")), ("Layer7 check passed".into(), "127.0.0.1:18499".into()));
    assert_eq!(
        (g(2, "status"), g(2, "weight"), g(2, "act"), g(2, "bck")),
        ("no check".into(), "5".into(), "1".into(), "0".into())
    );
    assert_eq!((g(3, "act"), g(3, "bck")), ("0".into(), "1".into()));
    assert_eq!(g(4, "status"), "MAINT");
    assert_eq!(
        (g(5, "status"), g(5, "weight"), g(5, "act"), g(5, "bck")),
        ("UP".into(), "6".into(), "2".into(), "1".into())
    );
    assert_eq!((g(5, "algo"), g(5, "mode")), ("roundrobin".into(), "http".into()));
    assert_eq!((g(7, "mode"), g(7, "hrsp_2xx")), ("tcp".into(), String::new()));
    assert_eq!(g(1, "lastsess"), "-1");
}

#[test]
fn csv_filters_and_typed_form() {
    let (cfg, seg) = setup();
    let s = snap(&cfg, &seg);
    let f = StatFilter { proxy: Some(csv::ProxySel::Id(2)), types: csv::TYPE_SRV, sid: Some(2), ..Default::default() };
    let out = csv::render(&s, &f);
    assert_eq!(out.lines().count(), 2);
    assert!(out.lines().nth(1).is_some_and(|l| l.starts_with("be1,s2,")));
    let f = StatFilter { proxy: Some(csv::ProxySel::Name("st".into())), types: csv::TYPE_FE, ..Default::default() };
    assert!(csv::render(&s, &f).lines().nth(1).is_some_and(|l| l.starts_with("st,FRONTEND,")));
    let f = StatFilter { no_maint: true, ..Default::default() };
    assert!(!csv::render(&s, &f).contains("be1,s4,"));
    let f = StatFilter { typed: true, ..Default::default() };
    let typed = csv::render(&s, &f);
    assert!(typed.starts_with("F.1.0.0.pxname.1:KNS:str:fe1\nF.1.0.1.svname.1:KNS:str:FRONTEND\n"), "{typed}");
    assert!(typed.contains("S.2.2.17.status.1:SGP:str:no check\n"));
    assert!(typed.contains("B.2.0.76.algo.1:CGS:str:roundrobin\n"));
    assert!(typed.contains("S.2.1.103.ssl_sess.1:MCP:u64:0\n"));
    let f = StatFilter { hide_addr: true, ..Default::default() };
    assert!(!csv::render(&s, &f).contains("127.0.0.1:18499"));
}

// ---------------------------------------------------------------- html

fn page(cfg: &Config, seg: &Segment, admin: bool, flags: &str) -> String {
    let conf = crate::config::model::StatsConf {
        enabled: true,
        uri: "/stats".into(),
        refresh: Some(std::time::Duration::from_secs(5)),
        show_legends: true,
        show_node: Some(String::new()),
        show_desc: Some("desc here".into()),
        ..Default::default()
    };
    let opts = PageOptions::from_conf(&conf, html::parse_uri_flags(flags), admin, "mynode", "my desc");
    html::render_page(&snap(cfg, seg), &info(cfg), &opts)
}

#[test]
fn html_has_one_table_per_proxy_and_state_classes() {
    let (cfg, seg) = setup();
    seg.writer(0).server(1, 0).expect("s").set_state(OpState::Down, 0, NOW);
    seg.writer(1).server(1, 0).expect("s").set_state(OpState::Down, 0, NOW);
    let p = page(&cfg, &seg, false, "");
    assert_eq!(p.matches("<th class=\"pxname\"").count(), 3);
    for id in ["name=\"fe1\"", "name=\"be1\"", "name=\"st\""] {
        assert!(p.contains(id), "{id}");
    }
    assert!(p.contains("<title>Statistics Report for nbproxy on mynode</title>"));
    assert!(p.contains("<h2>Statistics Report for pid 4242 on mynode: desc here</h2>"));
    assert!(p.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
    assert!(p.contains("nbproc = 2"));
    assert!(p.contains("<b>uptime = </b> 0d 0h01m05s"));
    assert!(p.contains("system limits:") && p.contains("current conns = 0"));
    assert!(p.contains("<tr class=\"active_down\">"));
    assert!(p.contains("<tr class=\"active_no_check\">"));
    assert!(p.contains("<tr class=\"backup_no_check\">"));
    assert!(p.contains("<tr class=\"maintain\">"));
    assert!(p.contains("<tr class=\"frontend\">") && p.contains("<tr class=\"backend\">"));
    for group in ["Queue", "Session rate", "Sessions", "Bytes", "Denied", "Errors", "Warnings", "Server"] {
        assert_eq!(p.matches(&format!(">{group}</th>")).count(), 3, "{group}");
    }
    assert!(p.contains(".active_up { background: #c0ffc0;}"));
    assert!(p.contains("<th>Dwntme</th>") && p.contains("<th>Thrtle</th>"));
    assert!(!p.contains("type=\"checkbox\""), "no admin form without stats admin");
    assert!(p.contains("cap: frontend, mode: http, id: 1"));
    let nr = page(&cfg, &seg, false, ";norefresh");
    assert!(!nr.contains("http-equiv=\"refresh\""));
    assert!(nr.contains("Enable refresh"));
    let scoped = page(&cfg, &seg, false, "?scope=be");
    assert_eq!(scoped.matches("<th class=\"pxname\"").count(), 1);
    let up = page(&cfg, &seg, false, ";up");
    assert!(!up.contains("<tr class=\"active_down\">"));
}

#[test]
fn html_admin_mode_has_checkboxes_form_and_banner() {
    let (cfg, seg) = setup();
    let p = page(&cfg, &seg, true, ";st=DONE");
    assert_eq!(p.matches("<form method=\"post\">").count(), 2, "be1 and st have servers");
    assert!(p.contains("<input class='be1-checkbox' type=\"checkbox\" name=\"s\" value=\"s1\">"));
    assert!(p.contains("<select name=action>"));
    for a in ["ready", "drain", "maint"] {
        assert!(p.contains(&format!("<option value=\"{a}\">")), "{a}");
    }
    assert!(p.contains("<input type=\"hidden\" name=\"b\" value=\"#2\">"));
    assert!(p.contains("Action processed successfully."));
    assert!(p.contains("<div class=active_up><a class=lfsb href=\"/stats\" title=\"Remove this message\">[X]</a>"));
}

#[test]
fn html_hide_version_and_number_marks() {
    let (cfg, seg) = setup();
    let conf = crate::config::model::StatsConf { uri: "/s".into(), hide_version: true, ..Default::default() };
    let opts = PageOptions::from_conf(&conf, Default::default(), false, "n", "d");
    let p = html::render_page(&snap(&cfg, &seg), &info(&cfg), &opts);
    assert!(p.contains("<h1>nbproxy</h1>"));
    assert!(!p.contains("version"));
    assert!(!p.contains(" on n<"));
    assert_eq!(html::u2h(985), "985");
    assert_eq!(html::u2h(9985), "<span class=\"rls\">9</span>985");
    assert_eq!(html::u2h(45787), "4<span class=\"rls\">5</span>787");
    assert_eq!(html::u2h(1234567), "<span class=\"rls\">1</span>23<span class=\"rls\">4</span>567");
    assert_eq!(html::esc("<a&\"b'>"), "&lt;a&amp;&quot;b&#39;&gt;");
}

#[test]
fn admin_post_parsing() {
    let a = html::parse_admin_post(b"s=s2&s=s3&action=drain&b=%232", 1000).expect("ok");
    assert_eq!(a.backend, "#2");
    assert_eq!(a.servers, vec!["s2", "s3"]);
    assert_eq!(a.action, PageAction::Drain);
    let a = html::parse_admin_post(b"action=disable&b=be1&s=my+srv", 1000).expect("ok");
    assert_eq!((a.action, a.servers[0].as_str()), (PageAction::Maint, "my srv"));
    assert_eq!(html::parse_admin_post(b"b=be1&s=s1&action=enable", 1000).map(|a| a.action), Ok(PageAction::Ready));
    assert_eq!(html::parse_admin_post(b"s=s2&action=bogus&b=be1", 1000), Err(AdminResult::Errp));
    assert_eq!(html::parse_admin_post(b"s=s2&action=drain", 1000), Err(AdminResult::Errp));
    assert_eq!(html::parse_admin_post(b"action=drain&b=be1", 1000), Err(AdminResult::Errp));
    assert_eq!(html::parse_admin_post(b"s=s2&action=drain&b=be1", 10), Err(AdminResult::Excd));
    assert_eq!(html::parse_admin_post(&[0xff, b'=', 0xfe], 1000), Err(AdminResult::Errp));
    assert_eq!(html::url_decode("a%2Fb%zz%4"), "a/b%zz%4");
}

#[test]
fn admin_post_applies_to_every_worker() {
    let (cfg, seg) = setup();
    let s = snap(&cfg, &seg);
    let w = seg.writer(1);
    let gen = w.admin_generation();
    let a = html::parse_admin_post(b"s=s2&s=s3&action=maint&b=%232", 1000).expect("ok");
    assert_eq!(a.apply(&seg, &s), AdminResult::Done);
    assert_eq!(w.server_admin(1, 1).map(|x| x.0), Some(AdminState::Maint));
    assert_eq!(w.server_admin(1, 2).map(|x| x.0), Some(AdminState::Maint));
    assert!(w.admin_generation() > gen);
    let a = html::parse_admin_post(b"s=s2&s=zz&action=ready&b=be1", 1000).expect("ok");
    assert_eq!(a.apply(&seg, &s), AdminResult::Part);
    let a = html::parse_admin_post(b"s=zz&action=ready&b=be1", 1000).expect("ok");
    assert_eq!(a.apply(&seg, &s), AdminResult::Errp);
    let a = html::parse_admin_post(b"s=s2&action=ready&b=%239", 1000).expect("ok");
    assert_eq!(a.apply(&seg, &s), AdminResult::Errp);
    let a = html::parse_admin_post(b"s=s1&action=ready&b=fe1", 1000).expect("ok");
    assert_eq!(a.apply(&seg, &s), AdminResult::Errp, "a frontend is not a backend");
}

#[test]
fn uri_flags_and_banners() {
    let f = html::parse_uri_flags(";csv;typed;norefresh;up;no-maint;st=PART");
    assert!(f.csv && f.typed && f.norefresh && f.up && f.no_maint);
    assert_eq!(f.st, Some(AdminResult::Part));
    assert_eq!(html::parse_uri_flags("").st, None);
    assert_eq!(html::parse_uri_flags(";st=BOGUS").st, None);
    assert_eq!(html::parse_uri_flags("?scope=web%31").scope.as_deref(), Some("web1"));
    for (code, text) in [
        ("DONE", "Action processed successfully."),
        ("NONE", "Nothing has changed."),
        ("PART", "Action partially processed."),
        ("ERRP", "Action not processed because of invalid parameters."),
        ("EXCD", "Action not processed : the buffer couldn't store all the data."),
        ("DENY", "<b>Action denied.</b>"),
    ] {
        let r = AdminResult::from_code(code).expect("code");
        assert_eq!(r.code(), code);
        assert!(r.banner("/s").contains(text), "{code}");
    }
}

// ---------------------------------------------------------------- cli

pub(super) fn cli_ctx<'a>(cfg: &'a Config, seg: &'a Segment) -> SegmentCli<'a> {
    SegmentCli { seg, cfg, info: info(cfg), sessions: None }
}

#[test]
fn cli_help_and_unknown_commands() {
    let (cfg, seg) = setup();
    let mut ctx = cli_ctx(&cfg, &seg);
    let h = cli::execute("help", &mut ctx);
    assert!(h.starts_with("The following commands are valid at this level:\n"));
    assert!(h.contains("  clear counters [all]                    : clear max statistics counters (or all counters)\n"));
    assert!(h.contains("  get weight <bk>/<srv>                   : report a server's current weight\n"));
    assert!(h.ends_with("  quit                                    : disconnect\n\n"));
    let u = cli::execute("foo", &mut ctx);
    assert!(u.starts_with("Unknown command, but maybe one of the following ones is a better match:\n"));
    assert!(u.ends_with("disconnect\n\n"));
    let u = cli::execute("show foo", &mut ctx);
    assert!(u.contains("  show info") && !u.contains("  get weight"));
    assert!(cli::execute("help show", &mut ctx).contains("show servers state"));
}

#[test]
fn cli_show_info_and_stat() {
    let (cfg, seg) = setup();
    seg.writer(0).frontend(0).expect("fe").sess_open(NOW);
    let mut ctx = cli_ctx(&cfg, &seg);
    let i = cli::execute("show info", &mut ctx);
    let first: Vec<&str> = i.lines().take(9).collect();
    assert_eq!(
        first.iter().map(|l| l.split(':').next().unwrap_or("")).collect::<Vec<_>>(),
        ["Name", "Version", "Release_date", "Nbthread", "Nbproc", "Process_num", "Pid", "Uptime", "Uptime_sec"]
    );
    assert!(i.contains("Name: nbproxy\n") && i.contains("Nbproc: 2\n") && i.contains("Pid: 4242\n"));
    assert!(i.contains("CurrConns: 1\n") && i.contains("node: mynode\n") && i.contains("description: my desc\n"));
    assert!(i.ends_with("\n\n"));
    let t = cli::execute("show info typed", &mut ctx);
    assert!(t.starts_with("0.Name.1:POS:str:nbproxy\n1.Version.1:POS:str:"));
    assert!(t.contains("4.Nbproc.1:CGS:u32:2\n"));
    let s = cli::execute("show stat", &mut ctx);
    assert!(s.starts_with(HAPROXY_26_HEADER));
    assert!(s.ends_with(",\n\n"));
    assert!(s.contains("\nfe1,FRONTEND,,,1,1,1000,1,"));
    let s = cli::execute("show stat 2 4 -1", &mut ctx);
    assert_eq!(s.lines().filter(|l| l.starts_with("be1,s")).count(), 4);
    assert_eq!(s.lines().count(), 1 + 4 + 1);
    let s = cli::execute("show stat 99 -1 -1", &mut ctx);
    assert_eq!(s, format!("{HAPROXY_26_HEADER}\n"));
    assert!(cli::execute("show stat typed", &mut ctx).starts_with("F.1.0.0.pxname.1:KNS:str:fe1\n"));
    // user level hides addresses
    assert!(!cli::execute_at("show stat", StatsLevel::User, &mut ctx).contains("127.0.0.1:18499"));
}

#[test]
fn cli_servers_state_errors_and_sess() {
    let (cfg, seg) = setup();
    seg.writer(0).server(1, 0).expect("s").set_state(OpState::Down, 0, NOW);
    seg.writer(0).server(1, 0).expect("s").check_done(CheckStatus::L4Con, 0, 1, true);
    let mut ctx = cli_ctx(&cfg, &seg);
    let s = cli::execute("show servers state", &mut ctx);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines[0], "1");
    assert!(lines[1].starts_with("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight"));
    assert!(lines[1].ends_with("srv_check_addr srv_agent_addr srv_agent_port"));
    assert!(lines[2].starts_with("2 be1 1 s1 127.0.0.1 0 0 1 1 "), "{}", lines[2]);
    assert!(lines[2].ends_with(" 8 2 0 6 0 0 0 - 18499 - 0 0 - - 0"), "{}", lines[2]);
    assert!(lines[3].starts_with("2 be1 2 s2 127.0.0.1 2 0 5 5 "));
    assert!(lines[5].starts_with("2 be1 4 s4 127.0.0.1 2 1 1 1 "), "MAINT is admin state 1");
    assert_eq!(lines.len(), 2 + 5 + 1);
    assert_eq!(lines[7], "");
    let one = cli::execute("show servers state st", &mut ctx);
    assert_eq!(one.lines().count(), 2 + 1 + 1);
    assert_eq!(cli::execute("show servers state zz", &mut ctx), "Can't find backend.\n\n");
    let e = cli::execute("show errors", &mut ctx);
    assert!(e.starts_with("Total events captured on [") && e.ends_with("] : 0\n\n"), "{e}");
    assert_eq!(cli::execute("show sess", &mut ctx), "\n");
}

#[test]
fn cli_admin_commands_change_the_segment() {
    let (cfg, seg) = setup();
    let w = seg.writer(1);
    let mut ctx = cli_ctx(&cfg, &seg);
    assert_eq!(cli::execute("disable server be1/s1", &mut ctx), "\n");
    assert_eq!(w.server_admin(1, 0), Some((AdminState::Maint, 1)));
    assert_eq!(cli::execute("enable server be1/s1", &mut ctx), "\n");
    assert_eq!(w.server_admin(1, 0), Some((AdminState::Ready, 1)));
    assert_eq!(cli::execute("set server be1/s2 state drain", &mut ctx), "\n");
    assert_eq!(w.server_admin(1, 1), Some((AdminState::Drain, 5)));
    assert_eq!(cli::execute("set server be1/#2 state maint", &mut ctx), "\n");
    assert_eq!(w.server_admin(1, 1), Some((AdminState::Maint, 5)));
    assert_eq!(cli::execute("set server be1/s2 state ready", &mut ctx), "\n");
    assert_eq!(cli::execute("set weight be1/s2 3", &mut ctx), "\n");
    assert_eq!(cli::execute("get weight be1/s2", &mut ctx), "3 (initial 5)\n\n");
    assert_eq!(cli::execute("set weight be1/s2 50%", &mut ctx), "\n");
    assert_eq!(cli::execute("get weight be1/s2", &mut ctx), "2 (initial 5)\n\n");
    assert_eq!(cli::execute("set server be1/s2 weight 4", &mut ctx), "\n");
    assert_eq!(cli::execute("get weight be1/s2", &mut ctx), "4 (initial 5)\n\n");
    assert_eq!(w.server_admin(1, 1), Some((AdminState::Ready, 4)));
    // A relative weight whose product with the initial weight overflows i64 is capped, not wrapped (it once
    // became 4294967295, a panic with overflow checks).
    assert_eq!(cli::execute("set weight be1/s2 9223372036854775807%", &mut ctx), "\n");
    assert_eq!(cli::execute("get weight be1/s2", &mut ctx), "256 (initial 5)\n\n");
    assert_eq!(cli::execute("set server be1/s2 weight 4", &mut ctx), "\n");
    assert_eq!(cli::execute("get weight #2/s1", &mut ctx), "1 (initial 1)\n\n");
}

#[test]
fn cli_error_texts_match_haproxy() {
    let (cfg, seg) = setup();
    let mut ctx = cli_ctx(&cfg, &seg);
    let e = |c: &str, ctx: &mut SegmentCli| cli::execute(c, ctx);
    assert_eq!(e("disable server be1/nope", &mut ctx), "No such server.\n\n");
    assert_eq!(e("disable server nobe/s1", &mut ctx), "No such backend.\n\n");
    assert_eq!(e("disable server fe1/s1", &mut ctx), "No such backend.\n\n");
    assert_eq!(e("disable server be1", &mut ctx), "Require 'backend/server'.\n\n");
    assert_eq!(e("enable server", &mut ctx), "Require 'backend/server'.\n\n");
    assert_eq!(e("get weight be1/", &mut ctx), "Require 'backend/server'.\n\n");
    assert_eq!(e("get weight /s1", &mut ctx), "No such backend.\n\n");
    assert_eq!(e("get weight be1/zz", &mut ctx), "No such server.\n\n");
    assert_eq!(e("set weight be1/s2", &mut ctx), "Require <weight> or <weight%>.\n\n");
    assert_eq!(e("set weight be1/s2 300", &mut ctx), "Absolute weight can only be between 0 and 256 inclusive.\n\n");
    assert_eq!(e("set weight be1/s2 -1", &mut ctx), "Absolute weight can only be between 0 and 256 inclusive.\n\n");
    assert_eq!(e("set weight be1/s2 abc", &mut ctx), "Empty weight string empty or preceded by garbage\n");
    assert_eq!(
        e("set server be1/s2 state foo", &mut ctx),
        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"
    );
    assert!(e("set server be1/s2", &mut ctx).starts_with("usage: set server <backend>/<server> addr | agent |"));
    assert_eq!(e("set server zz/s2 state ready", &mut ctx), "No such backend.\n\n");
}

#[test]
fn cli_levels_and_clear_counters() {
    let (cfg, seg) = setup();
    seg.writer(0).frontend(0).expect("fe").sess_open(NOW);
    let mut ctx = cli_ctx(&cfg, &seg);
    let at = |c: &str, l, ctx: &mut SegmentCli| cli::execute_at(c, l, ctx);
    for cmd in ["clear counters", "show sess", "show errors"] {
        assert_eq!(at(cmd, StatsLevel::User, &mut ctx), "Permission denied\n\n", "{cmd}");
    }
    for cmd in [
        "clear counters all",
        "disable server be1/s1",
        "enable server be1/s1",
        "set weight be1/s1 2",
        "set server be1/s1 state maint",
    ] {
        assert_eq!(at(cmd, StatsLevel::Operator, &mut ctx), "Permission denied\n\n", "{cmd}");
    }
    assert_eq!(at("get weight be1/s1", StatsLevel::User, &mut ctx), "1 (initial 1)\n\n");
    assert_eq!(at("clear counters", StatsLevel::Operator, &mut ctx), "\n");
    let v = ctx.snapshot().proxies[0].frontend.clone().expect("fe");
    assert_eq!((v.max_sess, v.cum_sess), (0, 1));
    assert_eq!(cli::execute("clear counters all", &mut ctx), "\n");
    assert_eq!(ctx.snapshot().proxies[0].frontend.as_ref().map(|v| v.cum_sess), Some(0));
}

#[test]
fn cli_session_prompt_quit_and_semicolons() {
    let (cfg, seg) = setup();
    let mut ctx = cli_ctx(&cfg, &seg);
    let mut s = CliSession::new(StatsLevel::Admin);
    assert_eq!(s.line("prompt", &mut ctx), "> ");
    assert!(s.prompt);
    let out = s.line("get weight be1/s1; get weight be1/s2", &mut ctx);
    assert_eq!(out, "1 (initial 1)\n\n5 (initial 5)\n\n> ");
    assert_eq!(s.line("", &mut ctx), "> ");
    assert_eq!(s.line("operator", &mut ctx), "> ");
    assert_eq!(s.level, StatsLevel::Operator);
    assert_eq!(s.line("disable server be1/s1", &mut ctx), "Permission denied\n\n> ");
    assert_eq!(s.line("user; clear counters", &mut ctx), "Permission denied\n\n> ");
    assert_eq!(s.line("quit; help", &mut ctx), "");
    assert!(s.quit);
    let mut one = CliSession::new(StatsLevel::User);
    assert_eq!(one.line("operator", &mut ctx), "");
    assert_eq!(one.level, StatsLevel::User, "operator never raises the level");
}

// ---------------------------------------------------------------- prometheus

#[test]
fn prometheus_format_is_valid() {
    let (cfg, seg) = setup();
    seg.writer(0).server(1, 0).expect("s").set_state(OpState::Up, 4, NOW);
    let out = prometheus::render(&snap(&cfg, &seg), &info(&cfg));
    let mut typed: Vec<String> = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or("").to_string();
            assert!(!helped.contains(&name), "HELP twice for {name}");
            helped.push(name);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap_or("").to_string();
            assert!(matches!(it.next(), Some("gauge" | "counter")), "{line}");
            assert_eq!(helped.last(), Some(&name), "HELP right before TYPE: {line}");
            assert!(!typed.contains(&name), "TYPE twice for {name}");
            typed.push(name);
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name value");
        assert!(value == "NaN" || value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap_or("");
        assert!(
            name.starts_with("haproxy_")
                && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        );
        assert_eq!(typed.last().map(String::as_str), Some(name), "samples follow their TYPE: {line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for kv in labels[1..labels.len() - 1].split(',') {
                let (k, v) = kv.split_once('=').expect("k=v");
                assert!(k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{line}");
                assert!(v.starts_with('"') && v.ends_with('"'), "{line}");
            }
        }
    }
    for name in [
        "haproxy_process_nbproc",
        "haproxy_frontend_current_sessions",
        "haproxy_frontend_bytes_in_total",
        "haproxy_frontend_http_responses_total",
        "haproxy_backend_up",
        "haproxy_backend_status",
        "haproxy_server_status",
        "haproxy_server_current_sessions",
    ] {
        assert!(typed.iter().any(|t| t == name), "{name}");
    }
    assert!(out.contains("haproxy_server_status{proxy=\"be1\",server=\"s1\",state=\"UP\"} 1\n"));
    assert!(out.contains("haproxy_server_status{proxy=\"be1\",server=\"s4\",state=\"MAINT\"} 1\n"));
    assert!(out.contains("haproxy_frontend_http_responses_total{proxy=\"fe1\",code=\"2xx\"} 0\n"));
    assert!(!out.contains("haproxy_frontend_http_responses_total{proxy=\"st\""), "tcp proxies have no HTTP counters");
}

#[test]
fn prometheus_totals_equal_csv() {
    let (cfg, seg) = setup();
    for (slot, n) in [(0usize, 3u64), (1, 4)] {
        let w = seg.writer(slot);
        for _ in 0..n {
            let fe = w.frontend(0).expect("fe");
            fe.conn_accepted(NOW);
            fe.sess_open(NOW);
            fe.add_bytes_in(10);
            fe.http_response(200);
            let be = w.backend(1).expect("be");
            be.sess_open(NOW);
            be.lb_pick();
            w.server(1, 1).expect("s").sess_open(NOW);
            w.server(1, 1).expect("s").add_bytes_out(7);
        }
    }
    let s = snap(&cfg, &seg);
    let prom = prometheus::render(&s, &info(&cfg));
    let rows = csv::rows(&s, &StatFilter::default());
    let csv_val = |px: &str, sv: &str, col: &str| {
        rows.iter()
            .find(|r| r.get("pxname") == Some(px) && r.get("svname") == Some(sv))
            .and_then(|r| r.get(col))
            .unwrap_or("?")
            .to_string()
    };
    let prom_val = |series: &str| {
        prom.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' '))).unwrap_or("?").to_string()
    };
    let pairs = [
        ("haproxy_frontend_sessions_total{proxy=\"fe1\"}", ("fe1", "FRONTEND", "stot")),
        ("haproxy_frontend_connections_total{proxy=\"fe1\"}", ("fe1", "FRONTEND", "conn_tot")),
        ("haproxy_frontend_bytes_in_total{proxy=\"fe1\"}", ("fe1", "FRONTEND", "bin")),
        ("haproxy_frontend_http_responses_total{proxy=\"fe1\",code=\"2xx\"}", ("fe1", "FRONTEND", "hrsp_2xx")),
        ("haproxy_backend_sessions_total{proxy=\"be1\"}", ("be1", "BACKEND", "stot")),
        ("haproxy_backend_loadbalanced_total{proxy=\"be1\"}", ("be1", "BACKEND", "lbtot")),
        ("haproxy_backend_weight{proxy=\"be1\"}", ("be1", "BACKEND", "weight")),
        ("haproxy_server_sessions_total{proxy=\"be1\",server=\"s2\"}", ("be1", "s2", "stot")),
        ("haproxy_server_bytes_out_total{proxy=\"be1\",server=\"s2\"}", ("be1", "s2", "bout")),
        ("haproxy_server_max_sessions{proxy=\"be1\",server=\"s2\"}", ("be1", "s2", "smax")),
    ];
    for (series, (px, sv, col)) in pairs {
        assert_eq!(prom_val(series), csv_val(px, sv, col), "{series} vs {col}");
    }
    assert_eq!(prom_val("haproxy_frontend_sessions_total{proxy=\"fe1\"}"), "7");
    assert_eq!(prom_val("haproxy_process_connections_total"), "7");
}

#[test]
fn uptime_and_duration_texts() {
    assert_eq!(crate::stats::fmt_uptime(6), "0d 0h00m06s");
    assert_eq!(crate::stats::fmt_uptime(90_061), "1d 1h01m01s");
    assert_eq!(crate::stats::fmt_short_duration(24), "24s");
    assert_eq!(crate::stats::fmt_short_duration(303), "5m3s");
    assert_eq!(crate::stats::fmt_short_duration(7260), "2h1m");
    assert_eq!(crate::stats::fmt_short_duration(100_000), "1d3h");
}
