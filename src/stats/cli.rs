//! The stats socket's command language (HAProxy 1.4 + the 2.6 commands nbproxy supports), with HAProxy's
//! output formats and error texts, independent of any socket: the master feeds lines to [`CliSession::line`] (or
//! [`execute`] for one-shot connections) with a [`CliContext`] that reads the shared segment and applies admin
//! actions ([`SegmentCli`] does both). Every answer ends with an empty line, as HAProxy's do.

use std::fmt::Write as _;

use super::csv::{self, ProxySel, StatFilter};
use super::errors::{self, ErrorFilter, Errors};
use super::shm::{AdminState, CheckStatus, Segment};
use super::snapshot::{Merged, Snapshot};
use super::{fmt_uptime, ProcessInfo};
use crate::config::model::{Config, StatsLevel};

/// What the CLI needs from the daemon.
pub trait CliContext {
    /// A fresh view of every worker's counters.
    fn snapshot(&self) -> Snapshot;
    /// Process facts for `show info`.
    fn info(&self) -> ProcessInfo;
    /// Set server `srv` of proxy `proxy` (config indexes) to `state` in every worker.
    fn set_admin_state(&mut self, proxy: usize, srv: usize, state: AdminState) -> bool;
    /// Set its user weight in every worker.
    fn set_weight(&mut self, proxy: usize, srv: usize, weight: u32) -> bool;
    /// `clear counters [all]`.
    fn clear_counters(&mut self, all: bool);
    /// `show sess`: one line per session (default: none are tracked centrally).
    fn sessions(&self) -> Vec<String> {
        Vec::new()
    }
    /// `show errors`: the newest captured protocol error per proxy and direction (default: none).
    fn errors(&self) -> Errors {
        Errors::default()
    }
}

/// A [`CliContext`] over the shared segment: what the master uses.
pub struct SegmentCli<'a> {
    /// The segment.
    pub seg: &'a Segment,
    /// The config it was made from.
    pub cfg: &'a Config,
    /// Process facts.
    pub info: ProcessInfo,
    /// Asks every worker for its sessions (`show sess`); `None` answers none.
    pub sessions: Option<&'a dyn Fn() -> Vec<String>>,
}

impl std::fmt::Debug for SegmentCli<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentCli").field("info", &self.info).finish_non_exhaustive()
    }
}

impl CliContext for SegmentCli<'_> {
    fn snapshot(&self) -> Snapshot {
        let ms = super::shm::unix_ms();
        let maxconn = u32::try_from(self.info.maxconn).unwrap_or(u32::MAX);
        Snapshot::read_with(self.seg, self.cfg, &self.seg.live_slots(), ms, maxconn)
    }
    fn info(&self) -> ProcessInfo {
        self.info.clone()
    }
    fn set_admin_state(&mut self, proxy: usize, srv: usize, state: AdminState) -> bool {
        self.seg.layout().server_index(proxy, srv).is_some_and(|i| self.seg.set_admin_state(i, state))
    }
    fn set_weight(&mut self, proxy: usize, srv: usize, weight: u32) -> bool {
        self.seg.layout().server_index(proxy, srv).is_some_and(|i| self.seg.set_weight(i, weight))
    }
    fn clear_counters(&mut self, all: bool) {
        self.seg.clear_counters(all);
    }
    fn sessions(&self) -> Vec<String> {
        self.sessions.map(|f| f()).unwrap_or_default()
    }
    fn errors(&self) -> Errors {
        self.seg.errors(&self.seg.live_slots())
    }
}

/// `show info` fields as 2.6 numbers and tags them (for `show info typed`).
const INFO_FIELDS: [(u32, &str, &str, &str); 70] = [
    (0, "Name", "POS", "str"),
    (1, "Version", "POS", "str"),
    (2, "Release_date", "POS", "str"),
    (3, "Nbthread", "CGS", "u32"),
    (4, "Nbproc", "CGS", "u32"),
    (5, "Process_num", "KGP", "u32"),
    (6, "Pid", "SGP", "u32"),
    (7, "Uptime", "MDP", "str"),
    (8, "Uptime_sec", "MDP", "u32"),
    (9, "Memmax_MB", "CLP", "u32"),
    (10, "PoolAlloc_MB", "MGP", "u32"),
    (11, "PoolUsed_MB", "MGP", "u32"),
    (12, "PoolFailed", "MCP", "u32"),
    (13, "Ulimit-n", "CLP", "u32"),
    (14, "Maxsock", "CLP", "u32"),
    (15, "Maxconn", "CLP", "u32"),
    (16, "Hard_maxconn", "CLP", "u32"),
    (17, "CurrConns", "MGP", "u32"),
    (18, "CumConns", "MCP", "u32"),
    (19, "CumReq", "MCP", "u32"),
    (20, "MaxSslConns", "MMP", "u32"),
    (21, "CurrSslConns", "MGP", "u32"),
    (22, "CumSslConns", "MCP", "u32"),
    (23, "Maxpipes", "CLP", "u32"),
    (24, "PipesUsed", "MGP", "u32"),
    (25, "PipesFree", "MGP", "u32"),
    (26, "ConnRate", "MRP", "u32"),
    (27, "ConnRateLimit", "CLP", "u32"),
    (28, "MaxConnRate", "MMP", "u32"),
    (29, "SessRate", "MRP", "u32"),
    (30, "SessRateLimit", "CLP", "u32"),
    (31, "MaxSessRate", "MRP", "u32"),
    (32, "SslRate", "MRP", "u32"),
    (33, "SslRateLimit", "CLP", "u32"),
    (34, "MaxSslRate", "MMP", "u32"),
    (35, "SslFrontendKeyRate", "MGP", "u32"),
    (36, "SslFrontendMaxKeyRate", "MMP", "u32"),
    (37, "SslFrontendSessionReuse_pct", "MGP", "u32"),
    (38, "SslBackendKeyRate", "MRP", "u32"),
    (39, "SslBackendMaxKeyRate", "MMP", "u32"),
    (40, "SslCacheLookups", "MCP", "u32"),
    (41, "SslCacheMisses", "MCP", "u32"),
    (42, "CompressBpsIn", "MRP", "u32"),
    (43, "CompressBpsOut", "MRP", "u32"),
    (44, "CompressBpsRateLim", "CLP", "u32"),
    (47, "Tasks", "MGP", "u32"),
    (48, "Run_queue", "MGP", "u32"),
    (49, "Idle_pct", "MaP", "u32"),
    (50, "node", "COS", "str"),
    (51, "description", "COS", "str"),
    (52, "Stopping", "MGP", "u32"),
    (53, "Jobs", "MGP", "u32"),
    (54, "Unstoppable Jobs", "MGP", "u32"),
    (55, "Listeners", "MGP", "u32"),
    (56, "ActivePeers", "MGP", "u32"),
    (57, "ConnectedPeers", "MGP", "u32"),
    (58, "DroppedLogs", "MGP", "u32"),
    (59, "BusyPolling", "MGP", "u32"),
    (60, "FailedResolutions", "MGP", "u32"),
    (61, "TotalBytesOut", "MGP", "u64"),
    (62, "TotalSplicdedBytesOut", "MGP", "u64"),
    (63, "BytesOutRate", "MRP", "u64"),
    (64, "DebugCommandsIssued", "MGP", "u32"),
    (65, "CumRecvLogs", "MCP", "u32"),
    (66, "Build info", "POS", "str"),
    (67, "Memmax_bytes", "CLP", "u32"),
    (68, "PoolAlloc_bytes", "MGP", "u64"),
    (69, "PoolUsed_bytes", "MGP", "u64"),
    (70, "Start_time_sec", "MDP", "u32"),
    (71, "Tainted", "SGP", "str"),
];

/// The commands nbproxy implements, as `help` lists them (2.6's wording).
const HELP: [(&str, &str); 15] = [
    ("clear counters [all]", "clear max statistics counters (or all counters)"),
    ("disable server (DEPRECATED)", "disable a server for maintenance (use 'set server' instead)"),
    ("enable server  (DEPRECATED)", "enable a disabled server (use 'set server' instead)"),
    ("get weight <bk>/<srv>", "report a server's current weight"),
    ("operator", "lower the level of the current CLI session to operator"),
    ("set server <bk>/<srv> [opts]", "change a server's state or weight"),
    ("set weight <bk>/<srv>  (DEPRECATED)", "change a server's weight (use 'set server' instead)"),
    ("show errors [<px>] [request|response]", "report last request and/or response errors for each proxy"),
    ("show info [typed]*", "report information about the running process"),
    ("show servers state [<backend>]", "dump volatile server information (all or for a single backend)"),
    ("show sess [id]", "report the list of current sessions or dump this exact session"),
    ("show stat [no-maint|typed|up]*", "report counters for each proxy and server"),
    ("user", "lower the level of the current CLI session to user"),
    ("help [<command>]", "list matching or all commands"),
    ("prompt", "toggle interactive mode with prompt"),
];

/// `show sess [ID]`: one line per session of every worker (`0xID: proto=… src=… fe=… be=… srv=… …`), or the one
/// whose id is given (HAProxy's "Session not found." otherwise). Every answer ends with an empty line.
fn show_sess(ctx: &dyn CliContext, id: Option<&str>) -> String {
    let lines = ctx.sessions();
    let mut o = String::new();
    match id {
        None | Some("all") => {
            for l in lines {
                o.push_str(&l);
                o.push('\n');
            }
        }
        Some(id) => {
            let want = id.trim_start_matches("0x").to_ascii_lowercase();
            match lines.iter().find(|l| l.strip_prefix("0x").and_then(|r| r.split(':').next()) == Some(&want)) {
                Some(l) => {
                    o.push_str(l);
                    o.push('\n');
                }
                None => o.push_str("Session not found.\n"),
            }
        }
    }
    o.push('\n');
    o
}

fn help_line(o: &mut String, u: &str, d: &str) {
    let _ = writeln!(o, "  {u:<40}: {d}");
}

/// `help [WORDS]`: every command, or those starting with WORDS.
fn help(words: &[&str]) -> String {
    let mut o = String::from("The following commands are valid at this level:\n");
    let prefix = words.join(" ");
    let body: Vec<_> = HELP[..HELP.len() - 2].iter().filter(|(u, _)| u.starts_with(&prefix)).collect();
    let body = if body.is_empty() { HELP[..HELP.len() - 2].iter().collect() } else { body };
    for (u, d) in body {
        help_line(&mut o, u, d);
    }
    for (u, d) in &HELP[HELP.len() - 2..] {
        help_line(&mut o, u, d);
    }
    help_line(&mut o, "quit", "disconnect");
    o.push('\n');
    o
}

/// An unknown command: 2.6's "better match" list (commands sharing the first word, else all).
fn unknown(words: &[&str]) -> String {
    let mut o = String::from("Unknown command, but maybe one of the following ones is a better match:\n");
    let first = words.first().copied().unwrap_or("");
    let same: Vec<_> = HELP[..HELP.len() - 2].iter().filter(|(u, _)| u.split(' ').next() == Some(first)).collect();
    let list = if same.is_empty() { HELP[..HELP.len() - 2].iter().collect() } else { same };
    for (u, d) in list {
        help_line(&mut o, u, d);
    }
    for (u, d) in &HELP[HELP.len() - 2..] {
        help_line(&mut o, u, d);
    }
    help_line(&mut o, "quit", "disconnect");
    o.push('\n');
    o
}

const DENIED: &str = "Permission denied\n\n";
const REQUIRE_BS: &str = "Require 'backend/server'.\n\n";
const NO_BACKEND: &str = "No such backend.\n\n";
const NO_SERVER: &str = "No such server.\n\n";

/// An interactive connection: its level, `prompt` mode, and whether it asked to `quit`.
#[derive(Debug, Clone)]
pub struct CliSession {
    /// Current level (`operator`/`user` lower it).
    pub level: StatsLevel,
    /// `prompt` toggled on: print `> ` after each answer and keep the connection.
    pub prompt: bool,
    /// `quit` was seen: close after sending the output.
    pub quit: bool,
}

impl CliSession {
    /// A new connection at the socket's level.
    pub fn new(level: StatsLevel) -> CliSession {
        CliSession { level, prompt: false, quit: false }
    }

    /// Handle one input line (`;`-separated commands). Returns the bytes to send; afterwards, close the
    /// connection if `quit` is set or (HAProxy's one-shot mode) if `prompt` is off.
    pub fn line(&mut self, line: &str, ctx: &mut dyn CliContext) -> String {
        let mut out = String::new();
        for cmd in line.split(';') {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                ["prompt"] => self.prompt = !self.prompt,
                ["quit"] => {
                    self.quit = true;
                    break;
                }
                ["operator"] => self.level = self.level.min(StatsLevel::Operator),
                ["user"] => self.level = StatsLevel::User,
                _ => out.push_str(&command(&words, self.level, ctx)),
            }
        }
        if self.prompt && !self.quit {
            out.push_str("> ");
        }
        out
    }
}

/// Run one line (`;`-separated commands) at admin level, as a one-shot connection would.
pub fn execute(cmd: &str, ctx: &mut dyn CliContext) -> String {
    execute_at(cmd, StatsLevel::Admin, ctx)
}

/// Run one line at `level`.
pub fn execute_at(cmd: &str, level: StatsLevel, ctx: &mut dyn CliContext) -> String {
    CliSession::new(level).line(cmd, ctx)
}

fn need(level: StatsLevel, min: StatsLevel) -> Option<String> {
    (level < min).then(|| DENIED.to_string())
}

/// Resolve `B/S` against the snapshot: (proxy index, server index), or HAProxy's error text.
fn resolve(snap: &Snapshot, arg: Option<&&str>) -> Result<(usize, usize), String> {
    let Some((b, s)) = arg.and_then(|a| a.split_once('/')) else { return Err(REQUIRE_BS.into()) };
    if s.is_empty() {
        return Err(REQUIRE_BS.into());
    }
    let Some(pi) = find_backend(snap, b) else { return Err(NO_BACKEND.into()) };
    let servers = &snap.proxies[pi].servers;
    let si = match s.strip_prefix('#') {
        Some(id) => servers.iter().position(|x| id.parse() == Ok(x.id)),
        None => servers.iter().position(|x| x.name == s),
    };
    si.map(|si| (pi, si)).ok_or_else(|| NO_SERVER.into())
}

fn find_backend(snap: &Snapshot, b: &str) -> Option<usize> {
    match b.strip_prefix('#') {
        Some(id) => snap.proxies.iter().position(|p| p.backend.is_some() && id.parse() == Ok(p.id)),
        None => snap.proxies.iter().position(|p| p.backend.is_some() && p.name == b),
    }
}

fn command(w: &[&str], level: StatsLevel, ctx: &mut dyn CliContext) -> String {
    use StatsLevel::*;
    match w {
        ["help", rest @ ..] => help(rest),
        ["show", "info", rest @ ..] => show_info(ctx, rest.contains(&"typed")),
        ["show", "stat", rest @ ..] => show_stat(ctx, level, rest),
        ["show", "servers", "state", rest @ ..] => show_servers_state(ctx, rest.first().copied()),
        ["show", "errors", rest @ ..] => need(level, Operator).unwrap_or_else(|| show_errors(ctx, rest)),
        ["show", "sess", rest @ ..] => need(level, Operator).unwrap_or_else(|| show_sess(ctx, rest.first().copied())),
        ["clear", "counters", "all", ..] => need(level, Admin).unwrap_or_else(|| {
            ctx.clear_counters(true);
            "\n".into()
        }),
        ["clear", "counters", ..] => need(level, Operator).unwrap_or_else(|| {
            ctx.clear_counters(false);
            "\n".into()
        }),
        ["get", "weight", rest @ ..] => {
            let snap = ctx.snapshot();
            match resolve(&snap, rest.first()) {
                Ok((pi, si)) => {
                    let s = &snap.proxies[pi].servers[si];
                    format!("{} (initial {})\n\n", s.weight, s.initial_weight)
                }
                Err(e) => e,
            }
        }
        ["disable", "server", rest @ ..] => admin_state(ctx, level, rest.first(), AdminState::Maint),
        ["enable", "server", rest @ ..] => admin_state(ctx, level, rest.first(), AdminState::Ready),
        ["set", "weight", rest @ ..] => set_weight(ctx, level, rest.first(), rest.get(1)),
        ["set", "server", rest @ ..] => set_server(ctx, level, rest),
        _ => unknown(w),
    }
}

fn admin_state(ctx: &mut dyn CliContext, level: StatsLevel, bs: Option<&&str>, st: AdminState) -> String {
    if let Some(d) = need(level, StatsLevel::Admin) {
        return d;
    }
    let snap = ctx.snapshot();
    match resolve(&snap, bs) {
        Ok((pi, si)) => {
            ctx.set_admin_state(pi, si, st);
            "\n".into()
        }
        Err(e) => e,
    }
}

/// Parse `N` or `N%` (of the initial weight) as 2.6 does.
fn parse_weight(arg: Option<&&str>, initial: u32) -> Result<u32, String> {
    let Some(a) = arg else { return Err("Require <weight> or <weight%>.\n\n".into()) };
    let (num, pct) = match a.strip_suffix('%') {
        Some(n) => (n, true),
        None => (*a, false),
    };
    let digits = num.trim_start_matches('-');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Empty weight string empty or preceded by garbage\n".into());
    }
    let v: i64 = num.parse().map_err(|_| "Empty weight string empty or preceded by garbage\n".to_string())?;
    if pct {
        if v < 0 {
            return Err("Relative weight must be positive.\n\n".into());
        }
        // Saturating: `9223372036854775807%` of any initial weight is the cap, not a wrapped negative product.
        Ok(((i64::from(initial).saturating_mul(v) / 100).min(256)) as u32)
    } else if !(0..=256).contains(&v) {
        Err("Absolute weight can only be between 0 and 256 inclusive.\n\n".into())
    } else {
        Ok(v as u32)
    }
}

fn set_weight(ctx: &mut dyn CliContext, level: StatsLevel, bs: Option<&&str>, w: Option<&&str>) -> String {
    if let Some(d) = need(level, StatsLevel::Admin) {
        return d;
    }
    let snap = ctx.snapshot();
    let (pi, si) = match resolve(&snap, bs) {
        Ok(x) => x,
        Err(e) => return e,
    };
    match parse_weight(w, snap.proxies[pi].servers[si].initial_weight) {
        Ok(v) => {
            ctx.set_weight(pi, si, v);
            "\n".into()
        }
        Err(e) => e,
    }
}

const SET_SERVER_USAGE: &str = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | \
agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n";

fn set_server(ctx: &mut dyn CliContext, level: StatsLevel, rest: &[&str]) -> String {
    if let Some(d) = need(level, StatsLevel::Admin) {
        return d;
    }
    let snap = ctx.snapshot();
    let (pi, si) = match resolve(&snap, rest.first()) {
        Ok(x) => x,
        Err(e) => return e,
    };
    match rest.get(1..).unwrap_or(&[]) {
        ["state", v, ..] => {
            let st = match *v {
                "ready" => AdminState::Ready,
                "drain" => AdminState::Drain,
                "maint" => AdminState::Maint,
                _ => return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n".into(),
            };
            ctx.set_admin_state(pi, si, st);
            "\n".into()
        }
        ["state"] => "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n".into(),
        ["weight", rest @ ..] => match parse_weight(rest.first(), snap.proxies[pi].servers[si].initial_weight) {
            Ok(v) => {
                ctx.set_weight(pi, si, v);
                "\n".into()
            }
            Err(e) => e,
        },
        _ => SET_SERVER_USAGE.into(),
    }
}

fn show_stat(ctx: &mut dyn CliContext, level: StatsLevel, rest: &[&str]) -> String {
    let mut f = StatFilter { hide_addr: level < StatsLevel::Operator, ..StatFilter::default() };
    let mut pos = Vec::new();
    for w in rest {
        match *w {
            "typed" => f.typed = true,
            "up" => f.up_only = true,
            "no-maint" => f.no_maint = true,
            w => pos.push(w),
        }
    }
    if pos.len() >= 3 {
        f.proxy = match pos[0].parse::<i64>() {
            Ok(-1) => None,
            Ok(id) => Some(ProxySel::Id(u32::try_from(id).unwrap_or(u32::MAX))),
            Err(_) => Some(ProxySel::Name(pos[0].to_string())),
        };
        f.types = match pos[1].parse::<i64>() {
            Ok(-1) | Err(_) => csv::TYPE_FE | csv::TYPE_BE | csv::TYPE_SRV,
            Ok(t) => (t & 7) as u32,
        };
        f.sid = match pos[2].parse::<i64>() {
            Ok(id) if id >= 0 => Some(id as u32),
            _ => None,
        };
    }
    let mut o = csv::render(&ctx.snapshot(), &f);
    o.push('\n');
    o
}

fn show_info(ctx: &mut dyn CliContext, typed: bool) -> String {
    let snap = ctx.snapshot();
    let info = ctx.info();
    let up = info.uptime(snap.now_ms);
    let v = |name: &str| -> String {
        match name {
            "Name" => info.name.clone(),
            "Version" | "Build info" => info.version.clone(),
            "Release_date" => info.release_date.clone(),
            "Nbthread" => "1".into(),
            "Nbproc" => info.nbproc.to_string(),
            "Process_num" => info.process_num.to_string(),
            "Pid" => info.pid.to_string(),
            "Uptime" => fmt_uptime(up),
            "Uptime_sec" => up.to_string(),
            "Ulimit-n" => info.ulimit_n.to_string(),
            "Maxsock" => info.maxsock.to_string(),
            "Maxconn" | "Hard_maxconn" => info.maxconn.to_string(),
            "CurrConns" | "Jobs" => snap.current_conns().to_string(),
            "CumConns" => snap.cum_conns().to_string(),
            "CumReq" => snap.cum_reqs().to_string(),
            "Maxpipes" => info.maxpipes.to_string(),
            "PipesUsed" => snap.pipes_used.to_string(),
            "PipesFree" => snap.pipes_free.to_string(),
            "ConnRate" | "SessRate" => snap.sess_rate().to_string(),
            "Idle_pct" => "100".into(),
            "node" => info.node.clone(),
            "description" => info.description.clone(),
            "Stopping" => u8::from(info.stopping).to_string(),
            "Listeners" => snap.proxies.iter().filter(|p| p.frontend.is_some()).count().to_string(),
            "TotalBytesOut" => {
                snap.proxies.iter().filter_map(|p| p.frontend.as_ref()).map(|v| v.bytes_out).sum::<u64>().to_string()
            }
            "Start_time_sec" => info.start_time.to_string(),
            _ => "0".into(),
        }
    };
    let mut o = String::new();
    for (i, name, tags, ty) in INFO_FIELDS {
        if typed {
            let _ = writeln!(o, "{i}.{name}.1:{tags}:{ty}:{}", v(name));
        } else {
            let _ = writeln!(o, "{name}: {}", v(name));
        }
    }
    o.push('\n');
    o
}

const SERVERS_STATE_HEADER: &str = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state \
srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health \
srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl \
srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

/// 2.6's numbering of check statuses in `show servers state`.
fn check_status_num(s: CheckStatus) -> u32 {
    match s {
        CheckStatus::Unknown | CheckStatus::Init => 1,
        CheckStatus::SockErr => 5,
        CheckStatus::L4Ok => 6,
        CheckStatus::L4Tout => 7,
        CheckStatus::L4Con => 8,
        CheckStatus::L6Ok => 9,
        CheckStatus::L6Tout => 10,
        CheckStatus::L6Rsp => 11,
        CheckStatus::L7Tout => 12,
        CheckStatus::L7Rsp => 13,
        CheckStatus::L7Ok => 14,
        CheckStatus::L7Okc => 15,
        CheckStatus::L7Sts => 16,
    }
}

fn show_servers_state(ctx: &mut dyn CliContext, backend: Option<&str>) -> String {
    let snap = ctx.snapshot();
    let only = match backend {
        Some(b) => match find_backend(&snap, b) {
            Some(i) => Some(i),
            None => return "Can't find backend.\n\n".into(),
        },
        None => None,
    };
    let mut o = String::from(SERVERS_STATE_HEADER);
    for (pi, p) in snap.proxies.iter().enumerate() {
        if p.backend.is_none() || only.is_some_and(|i| i != pi) {
            continue;
        }
        for s in &p.servers {
            let admin = match s.admin {
                AdminState::Ready => 0,
                AdminState::Maint => 1,
                AdminState::Drain => 8,
            };
            let (status, result, state) = if s.check {
                let failed = matches!(s.state, Merged::Agreed(crate::stats::OpState::Down, _));
                let res = match s.check_status {
                    CheckStatus::Unknown | CheckStatus::Init => 0,
                    _ if failed => 2,
                    _ => 3,
                };
                (check_status_num(s.check_status), res, 6)
            } else {
                (1, 0, 0)
            };
            let health = match s.state {
                Merged::Agreed(_, h) if s.check => h,
                _ => s.rise,
            };
            let (ip, port) = match s.addr.rsplit_once(':') {
                Some((ip, port)) => (ip.trim_start_matches('[').trim_end_matches(']'), port),
                None => (s.addr.as_str(), "0"),
            };
            let _ = writeln!(
                o,
                "{} {} {} {} {ip} {} {admin} {} {} {} {status} {result} {health} {state} 0 0 0 - {port} - 0 0 - - 0",
                p.id,
                p.name,
                s.id,
                s.name,
                s.op_state_code(),
                s.weight,
                s.initial_weight,
                snap.age(s.last_change),
            );
        }
    }
    o.push('\n');
    o
}

/// `show errors [<px>] [request|response]`.
fn show_errors(ctx: &mut dyn CliContext, args: &[&str]) -> String {
    let snap = ctx.snapshot();
    let filter = match ErrorFilter::parse(args, &snap) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let mut o = errors::render(&ctx.errors(), &snap, &filter);
    o.push('\n');
    o
}
