//! A consistent-enough, plain-value view of the whole daemon, read from the shared segment.
//!
//! Aggregation rules across the live worker slots (plus the retired accumulator, which holds what past
//! generations counted):
//! - totals (`stot`, bytes, errors, `hrsp_*`, …): summed;
//! - current values (`scur`, `qcur`) and rates: summed over live slots;
//! - max values (`smax`, `qmax`, `rate_max`): the *sum* of the live slots' maxima (an upper bound of the true
//!   daemon-wide peak, which keeps `smax >= scur` always true; HAProxy with threads keeps one shared counter, which
//!   this approaches when workers peak together, as they do with SO_REUSEPORT), or the retired maximum if higher;
//! - server health: every worker checks on its own; when they disagree on whether a server runs, the status reads
//!   `UP n/N` (n of the N reporting workers see it UP), otherwise HAProxy's own texts (`UP 1/3` going down,
//!   `DOWN 1/2` going up, …). Downtime and `chkdown` take the worst worker; `chkfail` sums every check made.

use std::sync::atomic::Ordering::Relaxed;

use super::shm::{unix_ms, AdminState, CheckStatus, Counters, OpState, Segment};
use crate::config::model::{Balance, Config, Mode, Proxy, ProxyKind};

/// Plain counter values of one frontend, backend or server, aggregated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Values {
    pub cur_sess: u64,
    pub max_sess: u64,
    pub cum_sess: u64,
    pub cum_conn: u64,
    pub cum_lbconn: u64,
    pub sess_rate: u64,
    pub sess_rate_max: u64,
    pub conn_rate: u64,
    pub conn_rate_max: u64,
    pub req_rate: u64,
    pub req_rate_max: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub denied_req: u64,
    pub denied_resp: u64,
    pub denied_conn: u64,
    pub denied_sess: u64,
    pub failed_req: u64,
    pub failed_conns: u64,
    pub failed_resp: u64,
    pub retries: u64,
    pub redispatches: u64,
    pub cli_aborts: u64,
    pub srv_aborts: u64,
    pub queue_cur: u64,
    pub queue_max: u64,
    pub cum_req: u64,
    /// 1xx, 2xx, 3xx, 4xx, 5xx, other.
    pub hrsp: [u64; 6],
    pub intercepted: u64,
    /// Unix time (s) of the last session, 0 = never.
    pub last_sess: u64,
    pub chk_fail: u64,
    pub chk_down: u64,
    /// Seconds DOWN.
    pub downtime: u64,
}

impl Values {
    fn add_live(&mut self, c: &Counters, now_ms: u64) {
        let l = |a: &std::sync::atomic::AtomicU64| a.load(Relaxed);
        self.cur_sess += l(&c.cur_sess);
        self.max_sess += l(&c.max_sess);
        self.sess_rate += c.sess_rate.read(now_ms);
        self.sess_rate_max += l(&c.sess_rate_max);
        self.conn_rate += c.conn_rate.read(now_ms);
        self.conn_rate_max += l(&c.conn_rate_max);
        self.req_rate += c.req_rate.read(now_ms);
        self.req_rate_max += l(&c.req_rate_max);
        self.queue_cur += l(&c.queue_cur);
        self.queue_max += l(&c.queue_max);
        self.add_totals(c);
        self.chk_down = self.chk_down.max(l(&c.chk_down));
        let since = l(&c.down_since);
        let running = if since > 0 { (now_ms / 1000).saturating_sub(since) } else { 0 };
        self.downtime = self.downtime.max(l(&c.downtime) + running);
    }

    fn add_totals(&mut self, c: &Counters) {
        let l = |a: &std::sync::atomic::AtomicU64| a.load(Relaxed);
        self.cum_sess += l(&c.cum_sess);
        self.cum_conn += l(&c.cum_conn);
        self.cum_lbconn += l(&c.cum_lbconn);
        self.bytes_in += l(&c.bytes_in);
        self.bytes_out += l(&c.bytes_out);
        self.denied_req += l(&c.denied_req);
        self.denied_resp += l(&c.denied_resp);
        self.denied_conn += l(&c.denied_conn);
        self.denied_sess += l(&c.denied_sess);
        self.failed_req += l(&c.failed_req);
        self.failed_conns += l(&c.failed_conns);
        self.failed_resp += l(&c.failed_resp);
        self.retries += l(&c.retries);
        self.redispatches += l(&c.redispatches);
        self.cli_aborts += l(&c.cli_aborts);
        self.srv_aborts += l(&c.srv_aborts);
        self.cum_req += l(&c.cum_req);
        for (h, a) in self.hrsp.iter_mut().zip(c.hrsp.iter()) {
            *h += l(a);
        }
        self.intercepted += l(&c.intercepted);
        self.last_sess = self.last_sess.max(l(&c.last_sess));
        self.chk_fail += l(&c.chk_fail);
    }

    fn add_retired(&mut self, r: &Counters) {
        let l = |a: &std::sync::atomic::AtomicU64| a.load(Relaxed);
        self.add_totals(r);
        self.max_sess = self.max_sess.max(l(&r.max_sess));
        self.sess_rate_max = self.sess_rate_max.max(l(&r.sess_rate_max));
        self.conn_rate_max = self.conn_rate_max.max(l(&r.conn_rate_max));
        self.req_rate_max = self.req_rate_max.max(l(&r.req_rate_max));
        self.queue_max = self.queue_max.max(l(&r.queue_max));
        self.chk_down += l(&r.chk_down);
        self.downtime += l(&r.downtime);
    }

    /// Aggregate `block` over `live` slots and the retired accumulator.
    pub fn read(seg: &Segment, block: usize, live: &[usize], now_ms: u64) -> Values {
        let mut v = Values::default();
        for &s in live {
            if let Some(c) = seg.block(s, block) {
                v.add_live(c, now_ms);
            }
        }
        if let Some(r) = seg.retired(block) {
            v.add_retired(r);
        }
        v
    }
}

/// Operational state of a server merged over the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// Every reporting worker agrees: this state, with the worst health among them.
    Agreed(OpState, u32),
    /// Workers disagree: `up` of `of` reporting workers see it running.
    Split {
        /// Workers that see it running.
        up: u32,
        /// Workers that reported.
        of: u32,
    },
}

/// One server, aggregated.
#[derive(Debug, Clone)]
pub struct ServerSnap {
    /// Server name.
    pub name: String,
    /// `sid`: the configured `id` or its 1-based position in the backend.
    pub id: u32,
    /// `ip:port` as configured.
    pub addr: String,
    /// `backup` server.
    pub backup: bool,
    /// `check` enabled.
    pub check: bool,
    /// `rise` / `fall`.
    pub rise: u32,
    /// See `rise`.
    pub fall: u32,
    /// Current user weight and the configured one.
    pub weight: u32,
    /// The configured weight.
    pub initial_weight: u32,
    /// `maxconn` (0 = none) and `maxqueue` (0 = none).
    pub maxconn: u32,
    /// See `maxconn`.
    pub maxqueue: u32,
    /// `track` target as written.
    pub tracked: Option<String>,
    /// Admin state set by the master.
    pub admin: AdminState,
    /// Operational state over the workers.
    pub state: Merged,
    /// Last check of the first reporting worker that checked.
    pub check_status: CheckStatus,
    /// Its L7 code.
    pub check_code: u32,
    /// Its duration (ms).
    pub check_duration: u64,
    /// Unix time (s) of the most recent state change seen by any worker (0 = never).
    pub last_change: u64,
    /// Counters.
    pub values: Values,
}

impl ServerSnap {
    /// Carries new load-balanced traffic: running in the workers' merged view, READY, weight > 0.
    pub fn usable(&self) -> bool {
        let running = match self.state {
            Merged::Agreed(op, _) => matches!(op, OpState::Up | OpState::NoCheck),
            Merged::Split { up, .. } => up > 0,
        };
        running && self.admin == AdminState::Ready && self.weight > 0
    }

    /// The `status` column: `UP`, `DOWN`, `no check`, `MAINT`, `DRAIN`, `NOLB`, `UP 1/3`, `DOWN 1/2`, or
    /// `UP n/N` when workers disagree.
    pub fn status_text(&self) -> String {
        if self.admin == AdminState::Maint {
            return "MAINT".into();
        }
        match self.state {
            Merged::Split { up, of } => format!("UP {up}/{of}"),
            Merged::Agreed(op, health) => {
                let full = self.rise + self.fall - 1;
                match op {
                    OpState::Down | OpState::Unknown if health == 0 || op == OpState::Unknown => "DOWN".into(),
                    OpState::Down | OpState::Unknown => format!("DOWN {}/{}", health, self.rise),
                    _ if self.admin == AdminState::Drain => "DRAIN".into(),
                    OpState::NoCheck => "no check".into(),
                    OpState::Up | OpState::Nolb => {
                        let word = if op == OpState::Up { "UP" } else { "NOLB" };
                        if health >= full {
                            word.into()
                        } else {
                            format!("{word} {}/{}", (health + 1).saturating_sub(self.rise), self.fall)
                        }
                    }
                }
            }
        }
    }

    /// The HTML row class HAProxy uses for this state (`active_up`, `backup_down`, `maintain`, …).
    pub fn css_class(&self) -> &'static str {
        if self.admin == AdminState::Maint {
            return "maintain";
        }
        let suffix = match self.state {
            Merged::Split { .. } => "going_down",
            Merged::Agreed(op, health) => match op {
                OpState::Down | OpState::Unknown if health > 0 && op == OpState::Down => "going_up",
                OpState::Down | OpState::Unknown => "down",
                _ if self.admin == AdminState::Drain => "draining",
                OpState::NoCheck => "no_check",
                OpState::Nolb => "nolb",
                OpState::Up if health < self.rise + self.fall - 1 => "going_down",
                OpState::Up => "up",
            },
        };
        match (self.backup, suffix) {
            (false, "going_down") => "active_going_down",
            (false, "going_up") => "active_going_up",
            (false, "down") => "active_down",
            (false, "draining") => "active_draining",
            (false, "no_check") => "active_no_check",
            (false, "nolb") => "active_nolb",
            (false, _) => "active_up",
            (true, "going_down") => "backup_going_down",
            (true, "going_up") => "backup_going_up",
            (true, "down") => "backup_down",
            (true, "draining") => "backup_draining",
            (true, "no_check") => "backup_no_check",
            (true, "nolb") => "backup_nolb",
            (true, _) => "backup_up",
        }
    }

    /// `srv_op_state` of `show servers state`: 0 stopped, 1 starting, 2 running, 3 stopping.
    pub fn op_state_code(&self) -> u32 {
        match self.state {
            Merged::Split { .. } => 3,
            Merged::Agreed(OpState::Down | OpState::Unknown, _) => 0,
            Merged::Agreed(_, _) => 2,
        }
    }
}

/// One proxy, aggregated.
#[derive(Debug, Clone)]
pub struct ProxySnap {
    /// Proxy name.
    pub name: String,
    /// `iid`.
    pub id: u32,
    /// frontend, backend or listen.
    pub kind: ProxyKind,
    /// Proxy mode.
    pub mode: Mode,
    /// `disabled`.
    pub disabled: bool,
    /// Balance algorithm as HAProxy names it in `algo` (`roundrobin`, `leastconn`, …).
    pub algo: &'static str,
    /// Frontend session limit (`slim` of the FRONTEND row).
    pub fe_limit: u32,
    /// Backend session limit (`fullconn`, `slim` of the BACKEND row).
    pub be_limit: u32,
    /// Frontend counters (frontends and listens).
    pub frontend: Option<Values>,
    /// Backend counters (backends and listens).
    pub backend: Option<Values>,
    /// Servers in config order.
    pub servers: Vec<ServerSnap>,
}

impl ProxySnap {
    /// `FRONTEND` status: `OPEN`, `FULL` (at its limit) or `STOP` (disabled).
    pub fn fe_status(&self) -> &'static str {
        if self.disabled {
            "STOP"
        } else if self.frontend.as_ref().is_some_and(|v| self.fe_limit > 0 && v.cur_sess >= self.fe_limit as u64) {
            "FULL"
        } else {
            "OPEN"
        }
    }
    /// Usable active servers, usable backup servers, and the weight that carries traffic.
    pub fn be_act_bck_weight(&self) -> (u32, u32, u64) {
        let (mut act, mut bck, mut wact, mut wbck) = (0, 0, 0u64, 0u64);
        for s in self.servers.iter().filter(|s| s.usable()) {
            if s.backup {
                bck += 1;
                wbck += s.weight as u64;
            } else {
                act += 1;
                wact += s.weight as u64;
            }
        }
        (act, bck, if act > 0 { wact } else { wbck })
    }
    /// `BACKEND` status: `UP` when a server can take traffic, else `DOWN`.
    pub fn be_status(&self) -> &'static str {
        let (a, b, _) = self.be_act_bck_weight();
        if a + b > 0 {
            "UP"
        } else {
            "DOWN"
        }
    }
    /// Most recent server state change (unix s), or 0.
    pub fn be_last_change(&self) -> u64 {
        self.servers.iter().map(|s| s.last_change).max().unwrap_or(0)
    }
}

/// The whole daemon at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Proxies in config order.
    pub proxies: Vec<ProxySnap>,
    /// When it was read (unix ms).
    pub now_ms: u64,
    /// How many slots were read.
    pub live_workers: usize,
    /// Unix time (s) the oldest live worker started (0 if unknown): the reference for `lastchg` before any change.
    pub start_time: u64,
    /// Splice pipes held by sessions, over all workers.
    pub pipes_used: u64,
    /// Empty splice pipes kept for later, over all workers.
    pub pipes_free: u64,
}

fn algo_name(b: &Balance) -> &'static str {
    match b {
        Balance::RoundRobin => "roundrobin",
        Balance::StaticRr => "static-rr",
        Balance::LeastConn => "leastconn",
        Balance::First => "first",
        Balance::Source => "source",
        Balance::Random => "random",
        Balance::Uri { .. } => "uri",
        Balance::UrlParam { .. } => "url_param",
        Balance::Hdr { .. } => "hdr",
        Balance::RdpCookie(_) => "rdp-cookie",
    }
}

fn fe_limit(p: &Proxy, default_maxconn: u32) -> u32 {
    p.maxconn.unwrap_or(default_maxconn)
}

/// HAProxy's default `fullconn`: a tenth (rounded up) of the maxconn of the frontends that can use the backend.
fn be_limit(cfg: &Config, p: &Proxy, default_maxconn: u32) -> u32 {
    if let Some(f) = p.fullconn {
        return f;
    }
    let sum: u64 = cfg
        .proxies
        .iter()
        .filter(|f| f.kind.has_frontend())
        .filter(|f| {
            (f.kind == ProxyKind::Listen && f.name == p.name)
                || f.default_backend.as_deref() == Some(p.name.as_str())
                || f.use_backends.iter().any(|u| u.backend == p.name)
        })
        .map(|f| fe_limit(f, default_maxconn) as u64)
        .sum();
    sum.div_ceil(10).min(u32::MAX as u64) as u32
}

impl Snapshot {
    /// Read every block of `seg` for `cfg` (the config the segment was made from) over `live_slots`, now.
    pub fn read(seg: &Segment, cfg: &Config, live_slots: &[usize]) -> Snapshot {
        Snapshot::read_at(seg, cfg, live_slots, unix_ms())
    }

    /// As [`Snapshot::read`], at a given time (tests).
    pub fn read_at(seg: &Segment, cfg: &Config, live_slots: &[usize], now_ms: u64) -> Snapshot {
        Snapshot::read_with(seg, cfg, live_slots, now_ms, cfg.global.maxconn_or_default())
    }

    /// As [`Snapshot::read_at`], with the maxconn a proxy without its own `maxconn` gets (the master knows the
    /// value derived from the file-descriptor limit when `global` sets none).
    pub fn read_with(seg: &Segment, cfg: &Config, live_slots: &[usize], now_ms: u64, default_maxconn: u32) -> Snapshot {
        let layout = seg.layout();
        let mut proxies = Vec::with_capacity(cfg.proxies.len());
        for (pi, p) in cfg.proxies.iter().enumerate() {
            let lb = layout.proxies.get(pi);
            let frontend = lb.and_then(|b| b.fe).map(|b| Values::read(seg, b, live_slots, now_ms));
            let backend = lb.and_then(|b| b.be).map(|b| Values::read(seg, b, live_slots, now_ms));
            let mut servers = Vec::new();
            if p.kind.has_backend() {
                for (si, s) in p.servers.iter().enumerate() {
                    let Some(block) = layout.server_block(pi, si) else { continue };
                    let admin = layout.server_index(pi, si).and_then(|i| seg.admin(i));
                    servers.push(read_server(seg, block, admin, s, si, live_slots, now_ms));
                }
            }
            proxies.push(ProxySnap {
                name: p.name.clone(),
                id: p.id,
                kind: p.kind,
                mode: p.mode,
                disabled: p.disabled,
                algo: algo_name(&p.balance),
                fe_limit: fe_limit(p, default_maxconn),
                be_limit: be_limit(cfg, p, default_maxconn),
                frontend,
                backend,
                servers,
            });
        }
        let start_time = live_slots
            .iter()
            .filter_map(|&s| seg.slot_header(s))
            .map(|h| h.started.load(Relaxed))
            .filter(|&t| t > 0)
            .min()
            .unwrap_or(0);
        let (pipes_used, pipes_free) = seg.pipes(live_slots);
        Snapshot { proxies, now_ms, live_workers: live_slots.len(), start_time, pipes_used, pipes_free }
    }

    /// The proxy with a backend side named `name`.
    pub fn backend(&self, name: &str) -> Option<&ProxySnap> {
        self.proxies.iter().find(|p| p.backend.is_some() && p.name == name)
    }

    /// Current connections over all frontends.
    pub fn current_conns(&self) -> u64 {
        self.proxies.iter().filter_map(|p| p.frontend.as_ref()).map(|v| v.cur_sess).sum()
    }
    /// Connections accepted over all frontends.
    pub fn cum_conns(&self) -> u64 {
        self.proxies.iter().filter_map(|p| p.frontend.as_ref()).map(|v| v.cum_conn).sum()
    }
    /// HTTP requests over all frontends.
    pub fn cum_reqs(&self) -> u64 {
        self.proxies.iter().filter_map(|p| p.frontend.as_ref()).map(|v| v.cum_req).sum()
    }
    /// Seconds since `t` (unix s), or since the start when `t` is 0.
    pub fn age(&self, t: u64) -> u64 {
        let t = if t == 0 { self.start_time } else { t };
        if t == 0 {
            return 0;
        }
        (self.now_ms / 1000).saturating_sub(t)
    }
    /// Session rate over all frontends.
    pub fn sess_rate(&self) -> u64 {
        self.proxies.iter().filter_map(|p| p.frontend.as_ref()).map(|v| v.sess_rate).sum()
    }
}

fn read_server(
    seg: &Segment,
    block: usize,
    admin: Option<&super::shm::ServerAdmin>,
    s: &crate::config::model::Server,
    si: usize,
    live: &[usize],
    now_ms: u64,
) -> ServerSnap {
    let values = Values::read(seg, block, live, now_ms);
    let mut views: Vec<(OpState, u32)> = Vec::new();
    let mut check = (CheckStatus::Unknown, 0u32, 0u64);
    let mut last_change = 0;
    for &slot in live {
        let Some(c) = seg.block(slot, block) else { continue };
        let op = OpState::from_u64(c.op_state.load(Relaxed));
        if op == OpState::Unknown {
            continue;
        }
        views.push((op, c.health.load(Relaxed) as u32));
        let st = CheckStatus::from_u64(c.check_status.load(Relaxed));
        if check.0 == CheckStatus::Unknown && st != CheckStatus::Unknown {
            check = (st, c.check_code.load(Relaxed) as u32, c.check_duration.load(Relaxed));
        }
        last_change = last_change.max(c.last_change.load(Relaxed));
    }
    let state = merge(&views, s.check, s.rise + s.fall - 1);
    let (adm, weight, initial) = match admin {
        Some(a) => (
            AdminState::from_u64(a.state.load(Relaxed)),
            a.weight.load(Relaxed) as u32,
            a.initial_weight.load(Relaxed) as u32,
        ),
        None => (AdminState::Ready, s.weight, s.weight),
    };
    ServerSnap {
        name: s.name.clone(),
        id: s.id.unwrap_or(si as u32 + 1),
        addr: s.addr.to_string(),
        backup: s.backup,
        check: s.check,
        rise: s.rise.max(1),
        fall: s.fall.max(1),
        weight,
        initial_weight: initial,
        maxconn: s.maxconn,
        maxqueue: s.maxqueue,
        tracked: s.track.clone(),
        admin: adm,
        state,
        check_status: check.0,
        check_code: check.1,
        check_duration: check.2,
        last_change,
        values,
    }
}

/// Merge the workers' views of one server.
pub fn merge(views: &[(OpState, u32)], checked: bool, full_health: u32) -> Merged {
    let Some(&(first, _)) = views.first() else {
        // No worker reported yet: as configured.
        return if checked { Merged::Agreed(OpState::Up, full_health) } else { Merged::Agreed(OpState::NoCheck, 0) };
    };
    let up = views.iter().filter(|(o, _)| o.running()).count() as u32;
    let of = views.len() as u32;
    if up != 0 && up != of {
        return Merged::Split { up, of };
    }
    if views.iter().all(|(o, _)| *o == first) {
        let h = if first == OpState::Down {
            views.iter().map(|v| v.1).max().unwrap_or(0)
        } else {
            views.iter().map(|v| v.1).min().unwrap_or(0)
        };
        return Merged::Agreed(first, h);
    }
    // All running but in different ways (UP / NOLB / no check): the most restrictive wins.
    let op = if views.iter().any(|v| v.0 == OpState::Nolb) { OpState::Nolb } else { OpState::Up };
    Merged::Agreed(op, views.iter().map(|v| v.1).min().unwrap_or(0))
}
