//! Unit tests for the stats module: segment layout and slot math, aggregation, CSV, HTML, admin POSTs, the CLI
//! and the Prometheus exposition. (Compiled only under `#[cfg(test)]`.)

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::cli::{self, CliContext, CliSession, SegmentCli};
use super::csv::{self, StatFilter};
use super::html::{self, AdminResult, PageAction, PageOptions};
use super::shm::{self, slot_count, slot_for, AdminState, CheckStatus, OpState, Segment};
use super::snapshot::{merge, Merged, Snapshot};
use super::{prometheus, ProcessInfo};
use crate::config::model::{Config, StatsLevel};

/// HAProxy 2.6.12's `show stat` / `;csv` header, as the binary printed it.
const HAPROXY_26_HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,\
wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,\
rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,\
hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,\
last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,\
check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,\
intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,\
ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,\
agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,\
h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,\
h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,\
h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,\
h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

const CFG: &str = "
global
    nbproc 2
    node mynode
    description my desc
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe1
    bind 127.0.0.1:18481
    maxconn 1000
    default_backend be1
backend be1
    server s1 127.0.0.1:18499 check
    server s2 127.0.0.1:18498 weight 5
    server s3 127.0.0.1:18497 backup
    server s4 127.0.0.1:18496 disabled
listen st
    bind 127.0.0.1:18482
    mode tcp
    maxconn 500
    server t1 127.0.0.1:18400 check rise 2 fall 3
";

static N: AtomicUsize = AtomicUsize::new(0);

fn config(text: &str) -> Config {
    let dir = std::env::temp_dir().join(format!("nbproxy-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p: PathBuf = dir.join(format!("c{}.cfg", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::File::create(&p).and_then(|mut f| f.write_all(text.as_bytes())).expect("write cfg");
    match crate::config::load(&[p]) {
        Ok(l) => l.config,
        Err(d) => panic!("config errors: {:?}", d.iter().map(|d| d.to_string()).collect::<Vec<_>>()),
    }
}

const NOW: u64 = 1_800_000_000_000;

/// A segment for CFG with workers in slots 0 and 1 claimed.
fn setup() -> (Config, Segment) {
    let cfg = config(CFG);
    let seg = Segment::create(&cfg).expect("mmap");
    seg.claim_slot(0, 100, 2);
    seg.claim_slot(1, 101, 2);
    (cfg, seg)
}

fn snap(cfg: &Config, seg: &Segment) -> Snapshot {
    Snapshot::read_at(seg, cfg, &seg.live_slots(), NOW)
}

fn info(cfg: &Config) -> ProcessInfo {
    ProcessInfo::from_config(cfg, 4242, NOW / 1000 - 65)
}

// ---------------------------------------------------------------- shm

#[test]
fn slot_math_alternates_generations() {
    assert_eq!(slot_count(4), 8);
    assert_eq!(slot_count(0), 2);
    let g1: Vec<_> = (0..4).map(|i| slot_for(1, i, 4)).collect();
    let g2: Vec<_> = (0..4).map(|i| slot_for(2, i, 4)).collect();
    let g3: Vec<_> = (0..4).map(|i| slot_for(3, i, 4)).collect();
    assert_eq!(g1, vec![4, 5, 6, 7]);
    assert_eq!(g2, vec![0, 1, 2, 3]);
    assert_eq!(g1, g3);
    assert!(g1.iter().all(|s| !g2.contains(s)));
    assert!(g1.iter().chain(&g2).all(|&s| s < slot_count(4)));
}

#[test]
fn layout_numbers_blocks_in_config_order() {
    let cfg = config(CFG);
    let l = shm::Layout::from_config(&cfg);
    assert_eq!(l.proxies.len(), 3);
    assert_eq!((l.proxies[0].fe, l.proxies[0].be), (Some(0), None));
    assert_eq!((l.proxies[1].fe, l.proxies[1].be), (None, Some(1)));
    assert_eq!((l.proxies[2].fe, l.proxies[2].be), (Some(2), Some(3)));
    assert_eq!(l.proxy_blocks, 4);
    assert_eq!(l.servers, 5);
    assert_eq!(l.blocks(), 9);
    assert_eq!(l.server_index(1, 3), Some(3));
    assert_eq!(l.server_index(2, 0), Some(4));
    assert_eq!(l.server_block(2, 0), Some(8));
    assert_eq!(l.server_index(1, 4), None);
    assert_eq!(l.server_index(0, 0), None);
    assert_eq!(l.find_server("be1", "s2"), Some((1, 1)));
    assert_eq!(l.find_server("fe1", "s2"), None);
    assert!(Segment::size_for(&l, 4) > 5 * 9 * std::mem::size_of::<shm::Counters>());
}

#[test]
fn segment_initialises_admin_area_from_config() {
    let (_cfg, seg) = setup();
    let w = seg.writer(0);
    assert_eq!(w.server_admin(1, 1), Some((AdminState::Ready, 5)));
    assert_eq!(w.server_admin(1, 3), Some((AdminState::Maint, 1)));
    assert_eq!(w.server_admin(0, 0), None);
    let g = w.admin_generation();
    assert!(seg.set_admin_state(1, AdminState::Drain));
    assert!(seg.set_weight(1, 7));
    assert!(!seg.set_weight(99, 7));
    assert_eq!(w.server_admin(1, 1), Some((AdminState::Drain, 7)));
    assert_eq!(w.admin_generation(), g + 2);
}

#[test]
fn counters_are_summed_across_two_slots() {
    let (cfg, seg) = setup();
    let (a, b) = (seg.writer(0), seg.writer(1));
    for _ in 0..3 {
        a.frontend(0).expect("fe").conn_accepted(NOW);
        a.frontend(0).expect("fe").sess_open(NOW);
    }
    for _ in 0..2 {
        b.frontend(0).expect("fe").sess_open(NOW);
    }
    b.frontend(0).expect("fe").sess_close();
    a.frontend(0).expect("fe").add_bytes_in(100);
    b.frontend(0).expect("fe").add_bytes_in(23);
    a.server(1, 0).expect("srv").sess_open(NOW);
    b.server(1, 0).expect("srv").http_response(204);
    b.server(1, 0).expect("srv").http_response(999);
    let s = snap(&cfg, &seg);
    let fe = s.proxies[0].frontend.as_ref().expect("fe values");
    assert_eq!(fe.cur_sess, 4);
    assert_eq!(fe.cum_sess, 5);
    assert_eq!(fe.max_sess, 5, "maxima are summed over workers");
    assert_eq!(fe.cum_conn, 3);
    assert_eq!(fe.bytes_in, 123);
    assert_eq!(fe.sess_rate, 5);
    let s1 = &s.proxies[1].servers[0].values;
    assert_eq!((s1.cum_sess, s1.hrsp[1], s1.hrsp[5]), (1, 1, 1));
    // A slot not in the live list is not read.
    let only0 = Snapshot::read_at(&seg, &cfg, &[0], NOW);
    assert_eq!(only0.proxies[0].frontend.as_ref().map(|v| v.cum_sess), Some(3));
}

#[test]
fn freq_counter_weights_the_previous_second() {
    let c = shm::FreqCtr::default();
    for _ in 0..4 {
        c.inc(10_000);
    }
    assert_eq!(c.read(10_999), 4);
    assert_eq!(c.read(11_500), 2);
    assert_eq!(c.read(11_000), 4);
    assert_eq!(c.read(12_000), 0);
    c.inc(11_250);
    assert_eq!(c.read(11_250), 1 + 3);
}

#[test]
fn retire_and_respawn_keep_totals() {
    let (cfg, seg) = setup();
    let w = seg.writer(0);
    let fe = w.frontend(0).expect("fe");
    fe.sess_open(NOW);
    fe.sess_open(NOW);
    fe.add_bytes_out(50);
    // Respawn in the same generation: totals stay, gauges reset.
    seg.claim_slot(0, 200, 2);
    let s = snap(&cfg, &seg);
    let v = s.proxies[0].frontend.as_ref().expect("fe");
    assert_eq!((v.cur_sess, v.cum_sess, v.bytes_out), (0, 2, 50));
    // Reload: generation 3 takes the other half; generation 2's slot retires into the accumulator.
    seg.retire_slot(0);
    seg.retire_slot(1);
    assert!(seg.live_slots().is_empty());
    seg.claim_slot(slot_for(3, 0, 2), 300, 3);
    seg.writer(slot_for(3, 0, 2)).frontend(0).expect("fe").sess_open(NOW);
    let s = snap(&cfg, &seg);
    let v = s.proxies[0].frontend.as_ref().expect("fe");
    assert_eq!((v.cur_sess, v.cum_sess, v.bytes_out, v.max_sess), (1, 3, 50, 2));
    assert_eq!(seg.block(0, 0).map(|c| c.cum_sess.load(Ordering::Relaxed)), Some(0), "retired slot zeroed");
}

#[test]
fn clear_counters_resets_max_then_all() {
    let (cfg, seg) = setup();
    let fe = seg.writer(0);
    let c = fe.frontend(0).expect("fe");
    c.sess_open(NOW);
    c.sess_open(NOW);
    c.sess_close();
    c.queue_push();
    seg.clear_counters(false);
    let v = snap(&cfg, &seg).proxies[0].frontend.clone().expect("fe");
    assert_eq!((v.max_sess, v.cum_sess, v.cur_sess, v.queue_max), (0, 2, 1, 0));
    seg.clear_counters(true);
    let v = snap(&cfg, &seg).proxies[0].frontend.clone().expect("fe");
    assert_eq!((v.cum_sess, v.cur_sess), (0, 1));
}

#[test]
fn server_state_changes_track_chkdown_and_downtime() {
    let (cfg, seg) = setup();
    let c = seg.writer(0);
    let s = c.server(1, 0).expect("srv");
    s.set_state(OpState::Up, 4, NOW);
    s.set_state(OpState::Down, 0, NOW + 1000);
    s.check_done(CheckStatus::L4Con, 0, 3, true);
    s.set_state(OpState::Down, 0, NOW + 5000);
    let snap1 = Snapshot::read_at(&seg, &cfg, &[0], NOW + 11_000);
    let v = &snap1.proxies[1].servers[0];
    assert_eq!((v.values.chk_down, v.values.chk_fail, v.values.downtime), (1, 1, 10));
    assert_eq!(v.status_text(), "DOWN");
    assert_eq!(snap1.age(v.last_change), 10);
    s.set_state(OpState::Up, 4, NOW + 21_000);
    let snap2 = Snapshot::read_at(&seg, &cfg, &[0], NOW + 30_000);
    assert_eq!(snap2.proxies[1].servers[0].values.downtime, 20);
}

#[test]
fn shared_memory_survives_fork() {
    let (cfg, seg) = setup();
    // SAFETY: the child only touches atomics in the shared mapping (no locks, no allocation it depends on), then
    // leaves with _exit; the parent waits for it.
    match unsafe { nix::unistd::fork() }.expect("fork") {
        nix::unistd::ForkResult::Child => {
            if let Some(c) = seg.writer(1).frontend(0) {
                for _ in 0..7 {
                    c.sess_open(NOW);
                }
            }
            // SAFETY: leave the forked test process at once, without running the parent's destructors.
            unsafe { libc::_exit(0) };
        }
        nix::unistd::ForkResult::Parent { child } => {
            nix::sys::wait::waitpid(child, None).expect("wait");
        }
    }
    assert_eq!(snap(&cfg, &seg).proxies[0].frontend.as_ref().map(|v| v.cum_sess), Some(7));
}

// ---------------------------------------------------------------- snapshot

#[test]
fn divergent_server_views_read_up_n_of_m() {
    let (cfg, seg) = setup();
    seg.writer(0).server(1, 0).expect("srv").set_state(OpState::Up, 4, NOW);
    seg.writer(1).server(1, 0).expect("srv").set_state(OpState::Down, 0, NOW);
    let s = snap(&cfg, &seg);
    let srv = &s.proxies[1].servers[0];
    assert_eq!(srv.state, Merged::Split { up: 1, of: 2 });
    assert_eq!(srv.status_text(), "UP 1/2");
    assert_eq!(srv.css_class(), "active_going_down");
    assert!(srv.usable());
}

#[test]
fn merge_and_status_texts_follow_haproxy() {
    assert_eq!(merge(&[], true, 4), Merged::Agreed(OpState::Up, 4));
    assert_eq!(merge(&[], false, 4), Merged::Agreed(OpState::NoCheck, 0));
    assert_eq!(merge(&[(OpState::Up, 4), (OpState::Up, 2)], true, 4), Merged::Agreed(OpState::Up, 2));
    assert_eq!(merge(&[(OpState::Down, 0), (OpState::Down, 1)], true, 4), Merged::Agreed(OpState::Down, 1));
    assert_eq!(merge(&[(OpState::Up, 4), (OpState::Nolb, 4)], true, 4), Merged::Agreed(OpState::Nolb, 4));
    assert_eq!(
        merge(&[(OpState::Up, 4), (OpState::Down, 0), (OpState::Up, 4), (OpState::Up, 4)], true, 4),
        Merged::Split { up: 3, of: 4 }
    );
    let (cfg, seg) = setup();
    let set = |srv: usize, op, h| {
        seg.writer(0).server(1, srv).expect("srv").set_state(op, h, NOW);
        seg.writer(1).server(1, srv).expect("srv").set_state(op, h, NOW);
    };
    set(0, OpState::Up, 2); // rise 2, fall 3: health 2 of 4 = going down, one failure seen
    set(1, OpState::NoCheck, 0);
    set(2, OpState::NoCheck, 0);
    let s = snap(&cfg, &seg);
    let be = &s.proxies[1];
    assert_eq!(be.servers[0].status_text(), "UP 1/3");
    assert_eq!(be.servers[1].status_text(), "no check");
    assert_eq!(be.servers[1].css_class(), "active_no_check");
    assert_eq!(be.servers[2].css_class(), "backup_no_check");
    assert_eq!(be.servers[3].status_text(), "MAINT");
    assert_eq!(be.servers[3].css_class(), "maintain");
    set(0, OpState::Down, 1);
    seg.set_admin_state(1, AdminState::Drain);
    let s = snap(&cfg, &seg);
    assert_eq!(s.proxies[1].servers[0].status_text(), "DOWN 1/2");
    assert_eq!(s.proxies[1].servers[0].css_class(), "active_going_up");
    assert_eq!(s.proxies[1].servers[1].status_text(), "DRAIN");
    assert_eq!(s.proxies[1].servers[1].css_class(), "active_draining");
    // Only the backup (s3) can take traffic now.
    assert_eq!(s.proxies[1].be_act_bck_weight(), (0, 1, 1));
    assert_eq!(s.proxies[1].be_status(), "UP");
    assert_eq!(s.proxies[1].be_limit, 100, "fullconn defaults to a tenth of the frontends' maxconn");
    assert_eq!(s.proxies[2].be_limit, 50);
}

#[test]
fn limits_without_maxconn_are_the_ones_workers_enforce() {
    // No global maxconn, a frontend without its own: `show info`, the page and the CSV report the limit every
    // worker enforces (Global::maxconn_or_default, read by the worker runtime), for the process and, as in
    // HAProxy 2.x, for the frontend.
    let cfg = config(
        "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
         listen www\n bind 127.0.0.1:18483\n server s1 127.0.0.1:18401\n",
    );
    let enforced = cfg.global.maxconn_or_default();
    assert_eq!(enforced, crate::config::model::Global::DEFAULT_MAXCONN);
    let i = info(&cfg);
    assert_eq!(i.maxconn, u64::from(enforced), "show info Maxconn");
    let seg = Segment::create(&cfg).expect("mmap");
    let s = snap(&cfg, &seg);
    assert_eq!(s.proxies[0].fe_limit, enforced, "frontend slim");
    assert_eq!(s.proxies[0].be_limit, enforced.div_ceil(10), "fullconn: a tenth of the frontend's maxconn");
    let csv = csv::render(&s, &StatFilter::default());
    let row = csv.lines().find(|l| l.starts_with("www,FRONTEND,")).expect("frontend row");
    assert_eq!(row.split(',').nth(6), Some(enforced.to_string().as_str()), "slim column: {row}");
    // A global maxconn is the limit of both.
    let cfg = config(
        "global\n maxconn 300\ndefaults\n mode http\n timeout connect 1s\n timeout client 5s\n \
         timeout server 5s\nlisten www\n bind 127.0.0.1:18483\n server s1 127.0.0.1:18401\n",
    );
    let seg = Segment::create(&cfg).expect("mmap");
    assert_eq!((info(&cfg).maxconn, snap(&cfg, &seg).proxies[0].fe_limit), (300, 300));
}

mod errors;
mod output;
