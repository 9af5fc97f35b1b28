//! HAProxy 2.6's CSV (`;csv`, `show stat`) and its `typed` form.
//!
//! The header is 2.6's exactly (first 51 columns as 1.4, then 2.x's, then `-` and the h1/h2/ssl module columns);
//! every line ends with `,`; rows per proxy in config order: `FRONTEND`, the servers, `BACKEND`. Which columns are
//! filled for each row type follows what 2.6 prints (columns nbproxy has no data for print as 2.6 prints a zero or
//! an empty field). The `pid` column is 1: the rows are the whole daemon's, summed over workers, so they speak for
//! "process 1" (tools that merge per-process rows then see one process with the right totals).

use std::fmt::Write as _;

use super::shm::CheckStatus;
use super::snapshot::{ProxySnap, ServerSnap, Snapshot, Values};
use crate::config::model::Mode;

/// The header line HAProxy 2.6 prints, newline included.
pub const HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

/// Columns before the `-` separator.
pub const MAIN_COLUMNS: usize = 103;

/// Every column except `-`: name, typed-output tags (origin, nature, scope) and type, as 2.6 prints them.
pub const COLUMNS: [(&str, &str, &str); 127] = [
    ("pxname", "KNS", "str"),
    ("svname", "KNS", "str"),
    ("qcur", "MGP", "u32"),
    ("qmax", "MMP", "u32"),
    ("scur", "MGP", "u32"),
    ("smax", "MMP", "u32"),
    ("slim", "CLP", "u32"),
    ("stot", "MCP", "u64"),
    ("bin", "MCP", "u64"),
    ("bout", "MCP", "u64"),
    ("dreq", "MCP", "u64"),
    ("dresp", "MCP", "u64"),
    ("ereq", "MCP", "u64"),
    ("econ", "MCP", "u64"),
    ("eresp", "MCP", "u64"),
    ("wretr", "MCP", "u64"),
    ("wredis", "MCP", "u64"),
    ("status", "SGP", "str"),
    ("weight", "MaP", "u32"),
    ("act", "SGP", "u32"),
    ("bck", "SGP", "u32"),
    ("chkfail", "MCP", "u64"),
    ("chkdown", "MCP", "u64"),
    ("lastchg", "MAP", "u32"),
    ("downtime", "MCP", "u32"),
    ("qlimit", "CLP", "u32"),
    ("pid", "KGP", "u32"),
    ("iid", "KGS", "u32"),
    ("sid", "KGS", "u32"),
    ("throttle", "MAP", "u32"),
    ("lbtot", "MCP", "u64"),
    ("tracked", "CGS", "str"),
    ("type", "CGS", "u32"),
    ("rate", "MRP", "u32"),
    ("rate_lim", "CLP", "u32"),
    ("rate_max", "MMP", "u32"),
    ("check_status", "MOP", "str"),
    ("check_code", "MOP", "u32"),
    ("check_duration", "MDP", "u64"),
    ("hrsp_1xx", "MCP", "u64"),
    ("hrsp_2xx", "MCP", "u64"),
    ("hrsp_3xx", "MCP", "u64"),
    ("hrsp_4xx", "MCP", "u64"),
    ("hrsp_5xx", "MCP", "u64"),
    ("hrsp_other", "MCP", "u64"),
    ("hanafail", "MCP", "u64"),
    ("req_rate", "MRP", "u32"),
    ("req_rate_max", "MMP", "u32"),
    ("req_tot", "MCP", "u64"),
    ("cli_abrt", "MCP", "u64"),
    ("srv_abrt", "MCP", "u64"),
    ("comp_in", "MCP", "u64"),
    ("comp_out", "MCP", "u64"),
    ("comp_byp", "MCP", "u64"),
    ("comp_rsp", "MCP", "u64"),
    ("lastsess", "MAP", "s32"),
    ("last_chk", "MOP", "str"),
    ("last_agt", "MOP", "str"),
    ("qtime", "MaP", "u32"),
    ("ctime", "MaP", "u32"),
    ("rtime", "MaP", "u32"),
    ("ttime", "MaP", "u32"),
    ("agent_status", "MOP", "str"),
    ("agent_code", "MOP", "u32"),
    ("agent_duration", "MDP", "u64"),
    ("check_desc", "MOP", "str"),
    ("agent_desc", "MOP", "str"),
    ("check_rise", "CGS", "u32"),
    ("check_fall", "CGS", "u32"),
    ("check_health", "CGS", "u32"),
    ("agent_rise", "CGS", "u32"),
    ("agent_fall", "CGS", "u32"),
    ("agent_health", "CGS", "u32"),
    ("addr", "CGS", "str"),
    ("cookie", "CGS", "str"),
    ("mode", "CGS", "str"),
    ("algo", "CGS", "str"),
    ("conn_rate", "MRP", "u32"),
    ("conn_rate_max", "MMP", "u32"),
    ("conn_tot", "MCP", "u64"),
    ("intercepted", "MCP", "u64"),
    ("dcon", "MCP", "u64"),
    ("dses", "MCP", "u64"),
    ("wrew", "MCP", "u64"),
    ("connect", "MCP", "u64"),
    ("reuse", "MCP", "u64"),
    ("cache_lookups", "MCP", "u64"),
    ("cache_hits", "MCP", "u64"),
    ("srv_icur", "MGP", "u32"),
    ("src_ilim", "MGP", "u32"),
    ("qtime_max", "MMP", "u32"),
    ("ctime_max", "MMP", "u32"),
    ("rtime_max", "MMP", "u32"),
    ("ttime_max", "MMP", "u32"),
    ("eint", "MCP", "u64"),
    ("idle_conn_cur", "MGP", "u32"),
    ("safe_conn_cur", "MGP", "u32"),
    ("used_conn_cur", "MGP", "u32"),
    ("need_conn_est", "MGP", "u32"),
    ("uweight", "MaP", "u32"),
    ("agg_server_status", "MGP", "u32"),
    ("agg_server_check_status", "MGP", "u32"),
    ("agg_check_status", "MGP", "u32"),
    ("ssl_sess", "MCP", "u64"),
    ("ssl_reused_sess", "MCP", "u64"),
    ("ssl_failed_handshake", "MCP", "u64"),
    ("h2_headers_rcvd", "MCP", "u64"),
    ("h2_data_rcvd", "MCP", "u64"),
    ("h2_settings_rcvd", "MCP", "u64"),
    ("h2_rst_stream_rcvd", "MCP", "u64"),
    ("h2_goaway_rcvd", "MCP", "u64"),
    ("h2_detected_conn_protocol_errors", "MCP", "u64"),
    ("h2_detected_strm_protocol_errors", "MCP", "u64"),
    ("h2_rst_stream_resp", "MCP", "u64"),
    ("h2_goaway_resp", "MCP", "u64"),
    ("h2_open_connections", "MGP", "u64"),
    ("h2_backend_open_streams", "MGP", "u64"),
    ("h2_total_connections", "MCP", "u64"),
    ("h2_backend_total_streams", "MCP", "u64"),
    ("h1_open_connections", "MGP", "u64"),
    ("h1_open_streams", "MGP", "u64"),
    ("h1_total_connections", "MCP", "u64"),
    ("h1_total_streams", "MCP", "u64"),
    ("h1_bytes_in", "MCP", "u64"),
    ("h1_bytes_out", "MCP", "u64"),
    ("h1_spliced_bytes_in", "MCP", "u64"),
    ("h1_spliced_bytes_out", "MCP", "u64"),
];

/// Row type bits of `show stat IID TYPE SID`.
pub const TYPE_FE: u32 = 1;
/// Backend rows.
pub const TYPE_BE: u32 = 2;
/// Server rows.
pub const TYPE_SRV: u32 = 4;

/// Which proxy `show stat` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySel {
    /// By `iid`.
    Id(u32),
    /// By name (2.x accepts a name in place of the id).
    Name(String),
}

/// What to print: `show stat [iid|name type sid] [typed|up|no-maint]`, `;csv;typed`, `;up`, `;no-maint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatFilter {
    /// One proxy, or all.
    pub proxy: Option<ProxySel>,
    /// Bitmask of [`TYPE_FE`], [`TYPE_BE`], [`TYPE_SRV`].
    pub types: u32,
    /// One server id, or all.
    pub sid: Option<u32>,
    /// `typed` output.
    pub typed: bool,
    /// Hide server addresses (2.6 does for `level user` sockets).
    pub hide_addr: bool,
    /// `up`: skip servers that are not UP.
    pub up_only: bool,
    /// `no-maint`: skip servers in MAINT.
    pub no_maint: bool,
}

impl Default for StatFilter {
    fn default() -> Self {
        StatFilter {
            proxy: None,
            types: TYPE_FE | TYPE_BE | TYPE_SRV,
            sid: None,
            typed: false,
            hide_addr: false,
            up_only: false,
            no_maint: false,
        }
    }
}

/// One printed row: its type bit, `iid`, `sid` and the 127 field values (`-` excluded).
#[derive(Debug, Clone)]
pub struct Row {
    /// 0 frontend, 1 backend, 2 server.
    pub ty: u32,
    /// Proxy id.
    pub iid: u32,
    /// Server id (0 for frontend/backend rows).
    pub sid: u32,
    /// Values by column.
    pub fields: Vec<String>,
}

impl Row {
    fn new(ty: u32, iid: u32, sid: u32) -> Row {
        Row { ty, iid, sid, fields: vec![String::new(); COLUMNS.len()] }
    }
    fn set(&mut self, name: &str, v: impl std::fmt::Display) {
        if let Some(i) = COLUMNS.iter().position(|c| c.0 == name) {
            self.fields[i] = v.to_string();
        }
    }
    fn zeros(&mut self, names: &[&str]) {
        for n in names {
            self.set(n, 0);
        }
    }
    /// The value of column `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        COLUMNS.iter().position(|c| c.0 == name).map(|i| self.fields[i].as_str())
    }
    /// The CSV line (with `-` between the main and module columns, trailing `,`, newline).
    pub fn csv_line(&self) -> String {
        let mut s = String::with_capacity(512);
        for (i, f) in self.fields.iter().enumerate() {
            if i == MAIN_COLUMNS {
                s.push_str("-,");
            }
            s.push_str(&csv_escape(f));
            s.push(',');
        }
        s.push('\n');
        s
    }
    /// The `typed` lines: `T.iid.sid.index.name.pid:TAGS:type:value` for each non-empty field.
    pub fn typed_lines(&self, out: &mut String) {
        let t = match self.ty {
            0 => 'F',
            1 => 'B',
            _ => 'S',
        };
        for (i, f) in self.fields.iter().enumerate() {
            if f.is_empty() {
                continue;
            }
            let (name, tags, ty) = COLUMNS[i];
            let _ = writeln!(out, "{t}.{}.{}.{i}.{name}.1:{tags}:{ty}:{f}", self.iid, self.sid);
        }
    }
}

/// Quote a field when it holds a comma or a quote, as CSV requires (names never do in practice).
fn csv_escape(f: &str) -> std::borrow::Cow<'_, str> {
    if f.contains([',', '"', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\"")).into()
    } else {
        f.into()
    }
}

const FE_MODULE_ZEROS: usize = 24;

fn common(r: &mut Row, p: &ProxySnap, svname: &str, v: &Values, snap: &Snapshot) {
    r.set("pxname", &p.name);
    r.set("svname", svname);
    r.set("scur", v.cur_sess);
    r.set("smax", v.max_sess);
    r.set("stot", v.cum_sess);
    r.set("bin", v.bytes_in);
    r.set("bout", v.bytes_out);
    r.set("dresp", v.denied_resp);
    r.set("pid", 1);
    r.set("iid", p.id);
    r.set("rate", v.sess_rate);
    r.set("rate_max", v.sess_rate_max);
    if p.mode == Mode::Http {
        for (i, n) in ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"].iter().enumerate() {
            r.set(n, v.hrsp[i]);
        }
        r.set("req_tot", v.cum_req);
    }
    r.set("mode", mode_name(p.mode));
    r.set("wrew", 0);
    r.set("eint", 0);
    let _ = snap;
}

/// `tcp`, `http` or `health`, as the `mode` column prints it.
pub fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Tcp => "tcp",
        Mode::Http => "http",
        Mode::Health => "health",
    }
}

/// The FRONTEND row of `p`.
pub fn frontend_row(p: &ProxySnap, v: &Values, snap: &Snapshot) -> Row {
    let mut r = Row::new(0, p.id, 0);
    common(&mut r, p, "FRONTEND", v, snap);
    r.set("slim", p.fe_limit);
    r.set("dreq", v.denied_req);
    r.set("ereq", v.failed_req);
    r.set("status", p.fe_status());
    r.set("sid", 0);
    r.set("type", 0);
    r.set("rate_lim", 0);
    if p.mode == Mode::Http {
        r.set("req_rate", v.req_rate);
        r.set("req_rate_max", v.req_rate_max);
        r.zeros(&["comp_in", "comp_out", "comp_byp", "comp_rsp", "cache_lookups", "cache_hits"]);
    }
    r.set("conn_rate", v.conn_rate);
    r.set("conn_rate_max", v.conn_rate_max);
    r.set("conn_tot", v.cum_conn);
    r.set("intercepted", v.intercepted);
    r.set("dcon", v.denied_conn);
    r.set("dses", v.denied_sess);
    for i in 0..FE_MODULE_ZEROS {
        r.fields[MAIN_COLUMNS + i] = "0".into();
    }
    r
}

fn backend_like(r: &mut Row, v: &Values, snap: &Snapshot) {
    r.set("qcur", v.queue_cur);
    r.set("qmax", v.queue_max);
    r.set("econ", v.failed_conns);
    r.set("eresp", v.failed_resp);
    r.set("wretr", v.retries);
    r.set("wredis", v.redispatches);
    r.set("lbtot", v.cum_lbconn);
    r.set("cli_abrt", v.cli_aborts);
    r.set("srv_abrt", v.srv_aborts);
    r.set("lastsess", if v.last_sess == 0 { -1 } else { snap.age(v.last_sess) as i64 });
    r.zeros(&["qtime", "ctime", "rtime", "ttime", "qtime_max", "ctime_max", "rtime_max", "ttime_max", "reuse"]);
    r.set("connect", v.cum_conn);
}

/// The BACKEND row of `p`.
pub fn backend_row(p: &ProxySnap, v: &Values, snap: &Snapshot) -> Row {
    let mut r = Row::new(1, p.id, 0);
    common(&mut r, p, "BACKEND", v, snap);
    backend_like(&mut r, v, snap);
    let (act, bck, weight) = p.be_act_bck_weight();
    r.set("slim", p.be_limit);
    r.set("dreq", v.denied_req);
    r.set("status", if weight > 0 || p.servers.is_empty() { "UP" } else { "DOWN" });
    r.set("weight", weight);
    r.set("act", act);
    r.set("bck", bck);
    r.set("chkdown", p.servers.iter().map(|s| s.values.chk_down).sum::<u64>());
    r.set("lastchg", snap.age(p.be_last_change()));
    if !p.servers.is_empty() {
        let down: u64 = if p.be_status() == "DOWN" { snap.age(p.be_last_change()) } else { 0 };
        r.set("downtime", down);
    }
    r.set("sid", 0);
    r.set("type", 1);
    r.set("algo", p.algo);
    if p.mode == Mode::Http {
        r.zeros(&["comp_in", "comp_out", "comp_byp", "comp_rsp", "cache_lookups", "cache_hits"]);
    }
    r.set("uweight", weight);
    r.zeros(&["agg_server_status", "agg_server_check_status", "agg_check_status"]);
    for i in 0..FE_MODULE_ZEROS {
        r.fields[MAIN_COLUMNS + i] = "0".into();
    }
    r
}

/// The row of server `s` of `p`.
pub fn server_row(p: &ProxySnap, s: &ServerSnap, snap: &Snapshot, hide_addr: bool) -> Row {
    let v = &s.values;
    let mut r = Row::new(2, p.id, s.id);
    common(&mut r, p, &s.name, v, snap);
    backend_like(&mut r, v, snap);
    if s.maxconn > 0 {
        r.set("slim", s.maxconn);
    }
    r.set("status", s.status_text());
    r.set("weight", s.weight);
    r.set("act", u8::from(!s.backup));
    r.set("bck", u8::from(s.backup));
    if s.check {
        r.set("chkfail", v.chk_fail);
        r.set("chkdown", v.chk_down);
        r.set("downtime", v.downtime);
        r.set("check_rise", s.rise);
        r.set("check_fall", s.fall);
        r.set("check_health", health_of(s));
        if s.check_status != CheckStatus::Unknown {
            r.set("check_status", s.check_status.code());
            if s.check_status.has_code() {
                r.set("check_code", s.check_code);
            }
            r.set("check_duration", s.check_duration);
            r.set("check_desc", s.check_status.desc());
        }
    }
    r.set("lastchg", snap.age(s.last_change));
    if s.maxqueue > 0 {
        r.set("qlimit", s.maxqueue);
    }
    r.set("sid", s.id);
    if let Some(t) = &s.tracked {
        r.set("tracked", t);
    }
    r.set("type", 2);
    if !hide_addr {
        r.set("addr", &s.addr);
    }
    r.zeros(&["srv_icur", "idle_conn_cur", "safe_conn_cur", "used_conn_cur"]);
    r.set("need_conn_est", v.cur_sess);
    r.set("uweight", s.weight);
    for i in 0..3 {
        r.fields[MAIN_COLUMNS + i] = "0".into();
    }
    r
}

fn health_of(s: &ServerSnap) -> u32 {
    match s.state {
        super::snapshot::Merged::Agreed(_, h) => h,
        super::snapshot::Merged::Split { .. } => 0,
    }
}

fn proxy_matches(p: &ProxySnap, sel: &Option<ProxySel>) -> bool {
    match sel {
        None => true,
        Some(ProxySel::Id(id)) => p.id == *id,
        Some(ProxySel::Name(n)) => &p.name == n,
    }
}

/// Every row `filter` selects, in HAProxy's order.
pub fn rows(snap: &Snapshot, filter: &StatFilter) -> Vec<Row> {
    let mut out = Vec::new();
    for p in snap.proxies.iter().filter(|p| proxy_matches(p, &filter.proxy)) {
        if filter.types & TYPE_FE != 0 {
            if let Some(v) = &p.frontend {
                out.push(frontend_row(p, v, snap));
            }
        }
        if filter.types & TYPE_SRV != 0 && p.backend.is_some() {
            for s in &p.servers {
                if filter.sid.is_some_and(|id| id != s.id) {
                    continue;
                }
                if filter.no_maint && s.admin == super::shm::AdminState::Maint {
                    continue;
                }
                if filter.up_only && !s.status_text().starts_with("UP") && s.status_text() != "no check" {
                    continue;
                }
                out.push(server_row(p, s, snap, filter.hide_addr));
            }
        }
        if filter.types & TYPE_BE != 0 {
            if let Some(v) = &p.backend {
                out.push(backend_row(p, v, snap));
            }
        }
    }
    out
}

/// The CSV (header + rows), or the typed form when `filter.typed`. Ends with an empty line only in the CLI
/// (the caller adds it).
pub fn render(snap: &Snapshot, filter: &StatFilter) -> String {
    let rows = rows(snap, filter);
    let mut out = String::with_capacity(HEADER.len() + rows.len() * 400);
    if filter.typed {
        for r in &rows {
            r.typed_lines(&mut out);
        }
    } else {
        out.push_str(HEADER);
        for r in &rows {
            out.push_str(&r.csv_line());
        }
    }
    out
}
